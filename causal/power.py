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

The command ``therapy-pcmci power`` is :func:`configure_parser` + :func:`run`
(also ``python -m causal.power``). A TOML grid (``--config``) may set::

    effect = [0.05, 0.08, 0.12]   # number or list; required here or via --effect
    weeks = [13, 26]              # number or list (default 13)
    patients = [50, 100, 200, 400]
    cohorts = 200
    alpha = 0.05
    missing = 0.0
    seed = 1
    edge = ["fear_others", "depression"]
    [pcmci]                       # further PanelPCMCI settings, e.g. prep = "center"

Options given on the command line override the file.

Examples
--------
>>> result = power_curve(0.3, 8, [20, 60], n_cohorts=4, random_state=0)
>>> result.table[["n_patients", "n_cohorts"]].to_dict("list")
{'n_patients': [20, 60], 'n_cohorts': [4, 4]}
>>> bool(result.table["power"].between(0, 1).all())
True
"""

from __future__ import annotations

import argparse
import inspect
import logging
import math
import numbers
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causal.discovery.estimator import PanelPCMCI
from causal.plotting.studies import plot_power_curve
from causal.rates import summarize_rate
from causal.resampling.parallel import parallel_map
from features.errors import DataError, is_integer
from features.scenarios import Scenario, get_scenario
from features.simulate import simulate_cohort

__all__ = [
    "DEFAULT_EDGE",
    "DEFAULT_PATIENTS",
    "POWER_COLUMNS",
    "PowerResult",
    "configure_parser",
    "main",
    "power_curve",
    "power_scenario",
    "run",
]

logger = logging.getLogger(__name__)
_cli_logger = logging.getLogger("therapy_pcmci")  # what the command reports to the user

#: The tested edge by default: fear of compassion from others -> depression.
DEFAULT_EDGE: tuple[str, str] = ("fear_others", "depression")
#: Default numbers of patients.
DEFAULT_PATIENTS: tuple[int, ...] = (50, 100, 200, 400)
#: Columns of :attr:`PowerResult.table` and ``power.csv``.
POWER_COLUMNS = ("effect", "n_weeks", "n_patients", "k", "n_cohorts", "power", "ci_low",
                 "ci_high", "alpha", "missing", "source", "target")
_CONFIG_KEYS = ("effect", "weeks", "patients", "cohorts", "alpha", "missing", "seed", "edge",
                "pcmci")
_PCMCI_PARAMS = tuple(p for p in inspect.signature(PanelPCMCI).parameters if p != "alpha")


# --------------------------------------------------------------- validation
def _int(name: str, value: Any, minimum: int) -> int:
    if not is_integer(value) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _real(name: str, value: Any, low: float, high: float, *, low_ok: bool) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value >= low if low_ok else value > low) and value < high
    if not ok:
        raise ValueError(f"{name} must be a number in {'[' if low_ok else '('}{low:g}, "
                         f"{high:g}), got {value!r}")
    return float(value)


def _patients(values: Any) -> tuple[int, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"patients must be a non-empty list of integers >= 2, got {values!r}")
    out = tuple(_int("patients", v, 2) for v in values)
    if len(set(out)) != len(out):
        raise ValueError(f"patients must not repeat a value, got {list(out)}")
    return tuple(sorted(out))


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
    effect = _real("effect", effect, -1.0, 1.0, low_ok=False)
    if effect == 0.0:
        raise ValueError("effect must be nonzero: power is the chance of detecting it with "
                         "its sign")
    base = get_scenario("paper")
    if isinstance(edge, str) or len(edge) != 2 or edge[0] == edge[1] or any(
            v not in base.variables for v in edge):
        raise ValueError(f"edge must be two different variables of {list(base.variables)}, "
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
        raise ValueError(f"the discovery settings do not test {task.edge[0]} -> "
                         f"{task.edge[1]} at lag 1 (forbidden?)")
    return bool(row["significant"]) and np.sign(row["value"]) == np.sign(task.effect)


def _seeds(entropy: int, n_patients: int, n_weeks: int, n_cohorts: int) -> list[int]:
    parent = np.random.SeedSequence(entropy, spawn_key=(n_patients, n_weeks))
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in parent.spawn(n_cohorts)]


def _entropy(random_state: int | np.random.Generator | None) -> int:
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state}")
        return int(random_state)
    if random_state is None or isinstance(random_state, np.random.Generator):
        return int(np.random.default_rng(random_state).integers(0, 2**63))
    raise ValueError(f"random_state must be an int, numpy Generator or None, got "
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
        target = _real("target", target, 0.0, 1.0, low_ok=False)
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
    ValueError
        Naming the argument and the bad value.
    """
    scenario = power_scenario(effect, edge)  # validates effect and edge
    edge = (str(edge[0]), str(edge[1]))
    n_weeks = _int("n_weeks", n_weeks, 4)
    sizes = _patients(patients)
    n_cohorts = _int("n_cohorts", n_cohorts, 1)
    alpha = _real("alpha", alpha, 0.0, 1.0, low_ok=False)
    missing = _real("missing", missing, 0.0, 1.0, low_ok=True)
    unknown = sorted(set(pcmci_params) - set(_PCMCI_PARAMS))
    if unknown:
        raise ValueError(f"unknown PanelPCMCI setting(s) {unknown}; allowed: "
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


# ---------------------------------------------------------------------- CLI
def _csv_ints(text: str) -> list[int]:
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of integers, got "
                                         f"{text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return values


def _edge(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(f"--edge is CAUSE:EFFECT, got {text!r}")
    return parts[0], parts[1]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``therapy-pcmci power`` to ``parser``."""
    parser.add_argument("--effect", type=float, default=None,
                        help="lag-1 effect to detect (within-person SD units); required "
                             "unless --config sets it")
    parser.add_argument("--weeks", type=int, default=None, help="weekly reports (default 13)")
    parser.add_argument("--patients", type=_csv_ints, default=None,
                        help="comma-separated numbers of patients (default 50,100,200,400)")
    parser.add_argument("--cohorts", type=int, default=None,
                        help="simulated cohorts per number of patients (default 200)")
    parser.add_argument("--alpha", type=float, default=None,
                        help="PCMCI significance level (default 0.05)")
    parser.add_argument("--missing", type=float, default=None,
                        help="share of missing patient-weeks (default 0)")
    parser.add_argument("--edge", type=_edge, default=None,
                        help="tested edge CAUSE:EFFECT (default fear_others:depression)")
    parser.add_argument("--config", type=Path, default=None,
                        help="TOML grid (effect and weeks may be lists; see causal.power)")
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder for power.csv, power.png and power.svg")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default 1)")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="parallel workers (default 1; -1 = all cores)")
    parser.add_argument("--scheduler", default=None,
                        help="address of a Dask scheduler to run the cohorts on")


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(f"config file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: invalid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(_CONFIG_KEYS))
    if unknown:
        raise DataError(f"{path}: unknown key(s) {unknown}; allowed: {list(_CONFIG_KEYS)}")
    if not isinstance(data.get("pcmci", {}), dict):
        raise DataError(f"{path}: 'pcmci' must be a table ([pcmci]), got {data['pcmci']!r}")
    return data


def _as_list(name: str, value: Any) -> list[Any]:
    values = list(value) if isinstance(value, list | tuple) else [value]
    if not values:
        raise ValueError(f"{name} must not be an empty list")
    return values


def run(args: argparse.Namespace) -> int:
    """Run ``therapy-pcmci power``: write ``power.csv``, ``power.png`` and ``power.svg``.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    ValueError, DataError
        Bad options or config, with a message naming them.
    """
    config = _read_config(args.config) if args.config is not None else {}
    where = f"{args.config}: " if args.config is not None else ""

    def pick(name: str, key: str, default: Any) -> Any:
        value = getattr(args, name, None)
        return value if value is not None else config.get(key, default)

    effects = pick("effect", "effect", None)
    if effects is None:
        raise ValueError("--effect is required (or set 'effect' in the --config file)")
    effects = _as_list(f"{where}effect", effects)
    weeks = _as_list(f"{where}weeks", pick("weeks", "weeks", 13))
    edge = pick("edge", "edge", DEFAULT_EDGE)
    seed = pick("seed", "seed", 1)
    common = {"patients": pick("patients", "patients", DEFAULT_PATIENTS),
              "n_cohorts": pick("cohorts", "cohorts", 200), "alpha": pick("alpha", "alpha", 0.05),
              "missing": pick("missing", "missing", 0.0), "edge": edge,
              "n_jobs": args.n_jobs, "scheduler": args.scheduler,
              "progress": False if getattr(args, "quiet", False) else None,
              **config.get("pcmci", {})}
    results = []
    for w in weeks:
        for e in effects:
            try:
                results.append(power_curve(e, w, random_state=seed, **common))
            except TypeError as exc:  # e.g. a [pcmci] key that shadows an argument
                raise ValueError(f"{where}{exc}") from exc
    table = pd.concat([r.table for r in results], ignore_index=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "power.csv", index=False)
    curves = table.assign(curve=[f"effect {e:g}, {w} weeks"
                                 for e, w in zip(table["effect"], table["n_weeks"], strict=True)])
    several = len(results) > 1
    paths = plot_power_curve(curves, out / "power", group="curve" if several else None)
    for r in results:
        _cli_logger.info("%s", r)
    _cli_logger.info("wrote %s", ", ".join(str(p) for p in [out / "power.csv", *paths]))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m causal.power``: the ``power`` command on its own (exit 2 on bad input)."""
    parser = argparse.ArgumentParser(prog="python -m causal.power",
                                     description=__doc__.splitlines()[0])
    configure_parser(parser)
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    _cli_logger.handlers = [handler]
    _cli_logger.setLevel(logging.INFO)
    _cli_logger.propagate = False
    try:
        return run(args)
    except ValueError as exc:
        sys.stderr.write("error: " + " ".join(str(exc).split()) + "\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    from causal.power import main as _main

    sys.exit(_main())
