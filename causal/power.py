"""Power planning: how many patients the pipeline needs to detect a lag-1 effect.

:func:`power_curve` simulates seeded cohorts that resemble the Melsom et al.
(2023) design - the ``"paper"`` scenario of :mod:`features.simulate`, with
the tested edge (default ``fear_others -> depression``) set to ``effect`` and
the other two paper effects unchanged - and analyses each with
:class:`~causal.discovery.estimator.PanelPCMCI` under its own decision rule: the effect
counts as detected when the link is **significant with the sign of**
``effect``. Power is the share of detecting cohorts, with a Wilson 95%
interval, for each number of patients.

``effect`` is the lag-1 coefficient of the standardized within-person VAR(1)
(within-person SD units, like the paper's standardized cross-lagged paths),
not the partial correlation PCMCI reports.

Seeding: cohort ``i`` at ``P`` patients and ``T`` weeks uses the ``i``-th
child of ``SeedSequence(entropy, spawn_key=(P, T))``, so a result does not
depend on ``n_jobs``, on the other grid points or on the effect size (every
effect is tested on the same random draws), and more cohorts extend the
list without changing its head.

The command ``therapy-pcmci power`` (:mod:`causal.cli.power`, with its TOML
grid) runs :func:`power_curve` over a grid of effects and weeks.

Examples
--------
>>> result = power_curve(0.3, 8, [20, 60], n_cohorts=4, random_state=0)
>>> result.table[["n_patients", "n_cohorts"]].to_dict("list")
{'n_patients': [20, 60], 'n_cohorts': [4, 4]}
>>> bool(result.table["power"].between(0, 1).all())
True
"""

from __future__ import annotations

import inspect
import logging
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from causal.discovery.estimator import PanelPCMCI
from causal.rates import summarize_rate
from causal.resampling.parallel import parallel_map
from features.checks import check_int, check_ints, check_probability, check_real
from features.errors import InputError
from features.scenarios import Scenario, get_scenario
from features.simulate import simulate_cohort

__all__ = [
    "DEFAULT_EDGE",
    "DEFAULT_PATIENTS",
    "POWER_COLUMNS",
    "POWER_CURVE_ARGS",
    "PowerResult",
    "power_curve",
    "power_scenario",
]

logger = logging.getLogger(__name__)

#: The tested edge by default: fear of compassion from others -> depression.
DEFAULT_EDGE: tuple[str, str] = ("fear_others", "depression")
#: Default numbers of patients.
DEFAULT_PATIENTS: tuple[int, ...] = (50, 100, 200, 400)
#: Columns of :attr:`PowerResult.table` and ``power.csv``.
POWER_COLUMNS = ("effect", "n_weeks", "n_patients", "k", "n_cohorts", "power", "ci_low",
                 "ci_high", "alpha", "missing", "source", "target")
_PCMCI_PARAMS = tuple(p for p in inspect.signature(PanelPCMCI).parameters if p != "alpha")
#: Arguments of :func:`power_curve` that are not PanelPCMCI settings.
POWER_CURVE_ARGS = ("effect", "n_weeks", "patients", "n_cohorts", "alpha", "edge", "missing",
                    "random_state", "n_jobs", "scheduler", "progress")


def power_scenario(effect: float, edge: Sequence[str] = DEFAULT_EDGE) -> Scenario:
    """Return the paper scenario with the lag-1 effect ``edge[0] -> edge[1]`` set to ``effect``.

    Parameters
    ----------
    effect : float
        Nonzero lag-1 coefficient (within-person SD units).
    edge : (cause, effect) pair
        Variables of the paper scenario: ``depression``, ``self_compassion``,
        ``fear_others``. The other paper effects keep their values.

    Returns
    -------
    Scenario

    Examples
    --------
    >>> [c for c in power_scenario(0.1).cross if c[0] == "fear_others"]
    [('fear_others', 'depression', 0.1)]
    >>> len(power_scenario(0.1, ("self_compassion", "depression")).cross)
    4
    """
    effect = check_real("effect", effect, low=-1.0, high=1.0)
    if effect == 0.0:
        raise InputError("effect must be nonzero: power is the chance of detecting it with "
                         "its sign")
    base = get_scenario("paper")
    if isinstance(edge, str) or len(edge) != 2 or edge[0] == edge[1] or any(
            v not in base.variables for v in edge):
        raise InputError(f"edge must be two different variables of {list(base.variables)}, "
                         f"got {edge!r}")
    cause, target = str(edge[0]), str(edge[1])
    cross = [c for c in base.cross if (c[0], c[1]) != (cause, target)]
    return base.with_cross([*cross, (cause, target, effect)],
                           name=f"paper_{cause}_{target}_{effect:g}")


# ------------------------------------------------------------------ workers
@dataclass(frozen=True)
class _Task:
    effect: float
    edge: tuple[str, str]
    n_patients: int
    n_weeks: int
    missing: float
    alpha: float
    seed: int
    params: tuple[tuple[str, Any], ...]


def _detect(task: _Task) -> bool:
    """Simulate one cohort and return whether the edge is significant with the right sign."""
    scenario = power_scenario(task.effect, task.edge)
    df = simulate_cohort(scenario, task.n_patients, task.n_weeks, missing=task.missing,
                         random_state=task.seed)
    params = {"random_state": task.seed % 2**32, **dict(task.params)}  # for stochastic tests
    links = PanelPCMCI(alpha=task.alpha, **params).fit(df).links_
    row = links.get(task.edge[0], task.edge[1], 1)
    if row is None:
        raise InputError(f"the discovery settings do not test {task.edge[0]} -> "
                         f"{task.edge[1]} at lag 1 (forbidden?)")
    return bool(row["significant"]) and np.sign(row["value"]) == np.sign(task.effect)


def _seeds(entropy: int, n_patients: int, n_weeks: int, n_cohorts: int) -> list[int]:
    parent = np.random.SeedSequence(entropy, spawn_key=(n_patients, n_weeks))
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in parent.spawn(n_cohorts)]


def _entropy(random_state: int | np.random.Generator | None) -> int:
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise InputError(f"random_state must be >= 0, got {random_state}")
        return int(random_state)
    if random_state is None or isinstance(random_state, np.random.Generator):
        return int(np.random.default_rng(random_state).integers(0, 2**63))
    raise InputError(f"random_state must be an int, numpy Generator or None, got "
                     f"{random_state!r}")


# ------------------------------------------------------------------- result
@dataclass(frozen=True)
class PowerResult:
    """A power curve: detection rate against the number of patients.

    Attributes
    ----------
    effect : float
        Simulated lag-1 effect of ``edge``.
    n_weeks : int
        Weekly reports per patient.
    alpha : float
        PCMCI significance level.
    edge : (cause, effect)
        The tested lag-1 edge.
    missing : float
        Share of missing patient-weeks.
    table : pandas.DataFrame
        Columns :data:`POWER_COLUMNS`, one row per number of patients.
    settings : dict
        Further PanelPCMCI settings and the seed ``entropy`` (for reproduction).
    """

    effect: float
    n_weeks: int
    alpha: float
    edge: tuple[str, str]
    missing: float
    table: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def required_patients(self, target: float = 0.8) -> float | None:
        """Return the number of patients at which power first reaches ``target``.

        Linear interpolation between the two grid sizes where the estimated
        power first crosses ``target``; the smallest grid size if it already
        reaches it (the true requirement may then be smaller); None if no
        grid size does.

        Examples
        --------
        >>> table = pd.DataFrame({"n_patients": [50, 100, 200], "power": [0.4, 0.7, 0.9]})
        >>> r = PowerResult(0.1, 13, 0.05, DEFAULT_EDGE, 0.0, table)
        >>> round(r.required_patients(0.8), 6), r.required_patients(0.95)
        (150.0, None)
        """
        target = check_probability("target", target)
        n = self.table["n_patients"].to_numpy(dtype=float)
        power = self.table["power"].to_numpy(dtype=float)
        reached = np.flatnonzero(power >= target)
        if reached.size == 0:
            return None
        i = int(reached[0])
        if i == 0:
            return float(n[0])
        return float(np.interp(target, power[i - 1:i + 1], n[i - 1:i + 1]))

    def __str__(self) -> str:
        n_cohorts = int(self.table["n_cohorts"].max()) if len(self.table) else 0
        lines = [f"Power to detect {self.edge[0]} -> {self.edge[1]} = {self.effect:+g} (lag 1; "
                 f"significant with this sign at alpha {self.alpha:g}), {self.n_weeks} weeks, "
                 f"{n_cohorts} cohorts per size:"]
        for r in self.table.itertuples(index=False):
            lines.append(f"  {r.n_patients:>5} patients: {r.power:.3f} "
                         f"[{r.ci_low:.3f}, {r.ci_high:.3f}]")
        need = self.required_patients(0.8)
        largest = int(self.table["n_patients"].max()) if len(self.table) else 0
        if need is None:
            lines.append(f"80% power is not reached with up to {largest} patients.")
        elif need == self.table["n_patients"].iloc[0]:
            lines.append(f"80% power needs at most {need:.0f} patients (the smallest size "
                         "tried already reaches it).")
        else:
            lines.append(f"80% power needs about {math.ceil(need)} patients.")
        return "\n".join(lines)


def power_curve(effect: float, n_weeks: int, patients: Sequence[int], *, n_cohorts: int = 200,
                alpha: float = 0.05, edge: Sequence[str] = DEFAULT_EDGE, missing: float = 0.0,
                random_state: int | np.random.Generator | None = None, n_jobs: int = 1,
                scheduler: str | None = None, progress: bool | None = None,
                **pcmci_params: Any) -> PowerResult:
    """Estimate the power to detect one lag-1 effect for several numbers of patients.

    Parameters
    ----------
    effect : float
        Nonzero lag-1 coefficient of ``edge`` in the simulated truth.
    n_weeks : int
        Weekly reports per patient (>= 4).
    patients : sequence of int
        Numbers of patients (>= 2, distinct; sorted in the result).
    n_cohorts : int
        Simulated cohorts per number of patients.
    alpha : float
        PCMCI significance level.
    edge : (cause, effect) pair
        Tested edge (see :func:`power_scenario`).
    missing : float
        Share of patient-weeks removed at random, in ``[0, 1)``.
    random_state : int, numpy.random.Generator or None
        Seed (see the module docstring).
    n_jobs, scheduler, progress
        Passed to :func:`causal.resampling.parallel.parallel_map`; results do not depend
        on them.
    **pcmci_params
        Further :class:`~causal.discovery.estimator.PanelPCMCI` settings (default: its
        defaults, the pipeline's own decision rule).

    Returns
    -------
    PowerResult

    Raises
    ------
    InputError
        Naming the argument and the bad value.
    """
    scenario = power_scenario(effect, edge)  # validates effect and edge
    edge = (str(edge[0]), str(edge[1]))
    n_weeks = check_int("n_weeks", n_weeks, minimum=4)
    sizes = tuple(sorted(check_ints("patients", patients, minimum=2)))
    n_cohorts = check_int("n_cohorts", n_cohorts, minimum=1)
    alpha = check_probability("alpha", alpha)
    missing = check_probability("missing", missing, zero_ok=True)
    unknown = sorted(set(pcmci_params) - set(_PCMCI_PARAMS))
    if unknown:
        raise InputError(f"unknown PanelPCMCI setting(s) {unknown}; allowed: "
                         f"{list(_PCMCI_PARAMS)}")
    entropy = _entropy(random_state)
    params = tuple(sorted(pcmci_params.items()))
    tasks = [_Task(float(effect), edge, p, n_weeks, missing, alpha, s, params)
             for p in sizes for s in _seeds(entropy, p, n_weeks, n_cohorts)]
    logger.info("power: %s; %d cohorts x %d sizes", scenario, n_cohorts, len(sizes))
    hits = parallel_map(_detect, tasks, n_jobs=n_jobs, scheduler=scheduler,
                        progress=progress, desc=f"power (effect {effect:g})")
    rows = []
    for j, p in enumerate(sizes):
        k = int(sum(hits[j * n_cohorts:(j + 1) * n_cohorts]))
        ci = summarize_rate(k, n_cohorts)
        rows.append({"effect": float(effect), "n_weeks": n_weeks, "n_patients": p, "k": k,
                     "n_cohorts": n_cohorts, "power": k / n_cohorts, "ci_low": ci.ci_low,
                     "ci_high": ci.ci_high, "alpha": alpha, "missing": missing,
                     "source": edge[0], "target": edge[1]})
    result = PowerResult(effect=float(effect), n_weeks=n_weeks, alpha=alpha, edge=edge,
                         missing=missing, table=pd.DataFrame(rows, columns=list(POWER_COLUMNS)),
                         settings={**dict(params), "entropy": entropy})
    logger.info("%s", result)
    return result
