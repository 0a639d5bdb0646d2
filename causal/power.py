"""Power planning: how many patients the pipeline needs to detect an effect or support claims.

Two questions, one machinery:

:func:`power_curve`
    The power to detect one lag-1 effect: seeded cohorts resembling the
    Melsom et al. (2023) design (the ``"paper"`` scenario of
    :mod:`features.simulate`, with the tested edge, default ``fear_others ->
    depression``, set to ``effect`` and the other paper effects unchanged) are
    analysed with :class:`~causal.discovery.estimator.PanelPCMCI`'s decision
    rule: the effect counts as detected when the link is **significant with
    the sign of** ``effect``.
:func:`claims_power`
    The power for a set of hypotheses (:mod:`causal.hypotheses`) to come out
    as stated: per claim, the share of cohorts whose verdict is
    ``supported`` under a truth in which the claims hold, and for the whole
    set, the share of cohorts in which every claim is supported.

Power is the share of successful cohorts, with a Wilson 95% interval, per
design (patients, weeks, missing share, drop-out). :meth:`PowerResult.required_patients`
answers "how many patients for 80% power"; :func:`smallest_effects` answers
"what is the smallest effect detectable with N patients" from curves at
several effects.

``effect`` is the lag-1 coefficient of the standardized within-person VAR(1)
(within-person SD units, like the paper's standardized cross-lagged paths,
and the scale of the ``effect`` column of the outputs), not the partial
correlation PCMCI reports.

Engines
-------
``engine="fast"`` (the default through ``"auto"`` whenever the PanelPCMCI
settings allow it) simulates all cohorts of a design as arrays and computes
PCMCI's tests from pooled lagged moments (:mod:`causal._fastsim`): a few
milliseconds per cohort, with the same cohorts (same seeds) and the same
decisions as ``engine="full"``, which runs :func:`features.simulate.simulate_cohort`
and ``PanelPCMCI.fit`` on each cohort (needed for other tests, FDR, PCMCI+,
background knowledge or ``standardize``).

Seeding: cohort ``i`` of a design uses the ``i``-th seed of
:func:`features.checks.spawn_seeds` with stream ``(n_patients, n_weeks)``
(EMA designs: ``(n_patients, days, beeps)``), so a result depends neither on
``n_jobs`` nor on the engine, the other grid points or the effect size
(every effect is tested on the same random draws), and more cohorts extend
the list without changing its head.

The command ``therapy-pcmci power`` (:mod:`causal.cli.power`) runs these over
grids of effects and designs.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causal._fastsim import (
    cohort_statistics,
    effect_draws,
    pcmci_decisions,
    simulate_ema,
    simulate_values,
)
from causal.discovery.engine.kernels import _single_threaded_blas
from causal.discovery.estimator import PanelPCMCI
from causal.hypotheses.spec import Hypothesis, load_hypotheses
from causal.hypotheses.verdicts import decide
from causal.rates import summarize_rate
from causal.resampling.parallel import parallel_map
from features.checks import (
    check_choice,
    check_int,
    check_ints,
    check_probability,
    check_real,
    spawn_seeds,
)
from features.choices import TRAJECTORIES
from features.errors import InputError, format_value
from features.scenarios import Scenario, get_scenario
from features.simulate import simulate_cohort

__all__ = [
    "CLAIM_COLUMNS",
    "DEFAULT_EDGE",
    "DEFAULT_PATIENTS",
    "ENGINES",
    "POWER_COLUMNS",
    "POWER_CURVE_ARGS",
    "ClaimsPowerResult",
    "Design",
    "PowerResult",
    "claims_power",
    "claims_scenario",
    "fast_supported",
    "power_curve",
    "power_scenario",
    "smallest_effects",
]

logger = logging.getLogger(__name__)

#: The tested edge by default: fear of compassion from others -> depression.
DEFAULT_EDGE: tuple[str, str] = ("fear_others", "depression")
#: Default numbers of patients.
DEFAULT_PATIENTS: tuple[int, ...] = (50, 100, 200, 400)
#: Columns of :attr:`PowerResult.table` and ``power.csv``.
POWER_COLUMNS = ("effect", "n_weeks", "n_patients", "k", "n_cohorts", "power", "ci_low",
                 "ci_high", "alpha", "missing", "source", "target", "dropout", "days", "beeps",
                 "trajectory")
#: Columns of :attr:`ClaimsPowerResult.table` and ``claims_power.csv``.
CLAIM_COLUMNS = ("claim", "kind", "expected", "cause", "effect_var", "lag", "truth", "n_weeks",
                 "n_patients", "k", "n_cohorts", "power", "ci_low", "ci_high", "contradicted",
                 "alpha", "missing", "dropout", "days", "beeps", "trajectory")
#: Engines of the simulations (see the module docstring).
ENGINES = ("auto", "fast", "full")
_PCMCI_PARAMS = tuple(p for p in inspect.signature(PanelPCMCI).parameters if p != "alpha")
#: Arguments of :func:`power_curve` and :func:`claims_power` that are not PanelPCMCI settings.
POWER_CURVE_ARGS = ("effect", "n_weeks", "patients", "n_cohorts", "alpha", "edge", "missing",
                    "dropout", "days", "beeps", "trajectory", "engine", "random_state", "n_jobs",
                    "scheduler", "progress", "n_boot", "scenario", "hypotheses")
#: Patient-steps simulated per task of the fast engine (bounds its memory to ~100 MB).
_CHUNK_STEPS = 600_000


# ------------------------------------------------------------------ designs
@dataclass(frozen=True)
class Design:
    """A study design to simulate.

    Parameters
    ----------
    n_patients : int
        Patients (>= 2).
    n_weeks : int
        Weekly reports per patient (>= 4); for an EMA design, the number of
        beeps in the whole study (``days * beeps``).
    missing : float
        Share of patient-steps removed at random, in ``[0, 1)``.
    dropout : float
        Share of patients who drop out at a uniformly random step (weekly:
        week 4..T; EMA: day 2..D), in ``[0, 1]``.
    days, beeps : int or None
        An EMA design: ``days`` days of ``beeps`` beeps; lags never cross a
        night (each day is a segment). None for weekly designs.
    trajectory : str
        Shape of the patients' change (``features.choices.TRAJECTORIES``;
        weekly designs; EMA designs use linear trends).

    Examples
    --------
    >>> Design(100, 13).label
    '100 patients x 13 weeks'
    >>> Design.ema(80, days=14, beeps=5).label
    '80 patients x 14 days x 5 beeps'
    """

    n_patients: int
    n_weeks: int
    missing: float = 0.0
    dropout: float = 0.0
    days: int | None = None
    beeps: int | None = None
    trajectory: str = "linear"

    def __post_init__(self) -> None:
        check_int("n_patients", self.n_patients, minimum=2)
        check_choice("trajectory", self.trajectory, TRAJECTORIES)
        if self.days is not None and self.trajectory != "linear":
            raise InputError("EMA designs simulate linear trends; trajectory must be 'linear'")
        check_probability("missing", self.missing, zero_ok=True)
        check_probability("dropout", self.dropout, zero_ok=True, one_ok=True)
        if (self.days is None) != (self.beeps is None):
            raise InputError("an EMA design needs both days and beeps")
        if self.days is None:
            check_int("n_weeks", self.n_weeks, minimum=4)
        else:
            check_int("days", self.days, minimum=2)
            check_int("beeps", self.beeps, minimum=3)
            if self.n_weeks != self.days * self.beeps:
                raise InputError(f"n_weeks of an EMA design must be days * beeps = "
                                 f"{self.days * self.beeps}, got {self.n_weeks}")

    @classmethod
    def ema(cls, n_patients: int, *, days: int, beeps: int, missing: float = 0.0,
            dropout: float = 0.0) -> Design:
        """Return an EMA design of ``days`` days with ``beeps`` beeps a day."""
        days = check_int("days", days, minimum=2)
        beeps = check_int("beeps", beeps, minimum=3)
        return cls(n_patients, days * beeps, missing, dropout, days, beeps)

    @property
    def is_ema(self) -> bool:
        """Whether this is a day/beep design."""
        return self.days is not None

    @property
    def stream(self) -> tuple[int, ...]:
        """Seed stream of the design's cohorts (see the module docstring)."""
        if self.is_ema:
            return (self.n_patients, int(self.days), int(self.beeps))
        return (self.n_patients, self.n_weeks)

    @property
    def label(self) -> str:
        """Short description, e.g. ``'100 patients x 13 weeks'``."""
        if self.is_ema:
            return f"{self.n_patients} patients x {self.days} days x {self.beeps} beeps"
        return f"{self.n_patients} patients x {self.n_weeks} weeks"

    def columns(self) -> dict[str, Any]:
        """Return the design's columns of the output tables."""
        return {"n_weeks": self.n_weeks, "n_patients": self.n_patients,
                "missing": self.missing, "dropout": self.dropout,
                "days": self.days, "beeps": self.beeps, "trajectory": self.trajectory}


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
                         f"got {format_value(edge)}")
    cause, target = str(edge[0]), str(edge[1])
    cross = [c for c in base.cross if (c[0], c[1]) != (cause, target)]
    return base.with_cross([*cross, (cause, target, effect)],
                           name=f"paper_{cause}_{target}_{effect:g}")


# ------------------------------------------------------------------ engines
def fast_supported(params: dict[str, Any]) -> str | None:
    """Return why the fast engine cannot reproduce these PanelPCMCI settings (None: it can).

    Examples
    --------
    >>> fast_supported({}) is None, fast_supported({"fdr": "fdr_bh"})
    (True, "fdr='fdr_bh'")
    """
    defaults = {k: v.default for k, v in inspect.signature(PanelPCMCI).parameters.items()}
    merged = {**defaults, **params}
    checks = (
        ("method", merged["method"] == "pcmci"),
        ("ci_test", merged["ci_test"] in ("parcorr", "parcorr-tigramite")),
        ("fdr", merged["fdr"] in (None, "none")),
        ("standardize", merged["standardize"] is False),
        ("prep_by", merged["prep_by"] == "patient"),
        ("prep", merged["prep"] in ("auto", "detrend", "diurnal", "center", "none")),
        ("forbid", not list(merged["forbid"])),
        ("require", not list(merged["require"])),
        ("pc_alpha", isinstance(merged["pc_alpha"], numbers.Real)
         and not isinstance(merged["pc_alpha"], bool)),
        ("cut_off", merged["cut_off"] in ("2xtau_max", "tau_max")),
        ("debias", merged["debias"] is False),
    )
    for name, ok in checks:
        if not ok:
            return f"{name}={merged[name]!r}"
    return None


@dataclass(frozen=True)
class _Links:
    """Lagged link statistics of cohorts, indexed ``[cohort, source, target, lag]``."""

    value: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    significant: np.ndarray
    #: ``(cohort, comparison)`` verdicts: 1 supported, -1 contradicted, 0 inconclusive.
    compared: np.ndarray | None = None

    @classmethod
    def concat(cls, parts: Sequence[_Links]) -> _Links:
        fields = ("value", "p_value", "ci_low", "ci_high", "significant", "compared")
        return cls(*(None if getattr(parts[0], f) is None
                     else np.concatenate([getattr(p, f) for p in parts]) for f in fields))


@dataclass(frozen=True)
class _Task:
    scenario: Scenario
    design: Design
    seeds: tuple[int, ...]
    alpha: float
    params: tuple[tuple[str, Any], ...]
    engine: str
    comparisons: tuple[Any, ...] = ()
    n_boot: int = 1000


def _fast_values(task: _Task) -> np.ndarray:
    d = task.design
    if d.is_ema:
        return simulate_ema(task.scenario, d.n_patients, int(d.days), int(d.beeps),
                            seeds=task.seeds, missing=d.missing, dropout=d.dropout)
    return simulate_values(task.scenario, d.n_patients, d.n_weeks, seeds=task.seeds,
                           missing=d.missing, dropout=d.dropout, trajectory=d.trajectory)


def _run_fast(task: _Task) -> _Links:
    params = dict(task.params)
    with _single_threaded_blas():  # small products: waking BLAS threads costs more
        return _run_fast_inner(task, params)


def _prep(task: _Task, params: dict[str, Any]) -> str:
    """Return the within transform both engines apply (``"auto"``: diurnal for day/beep).

    ``"auto"`` is resolved to the straight line for weekly designs: the model
    ``PanelPCMCI(prep="auto")`` fits unless its trajectory diagnostics warn
    (they never did on 200 straight-line cohorts at 226 x 13); power is planned
    for that model.
    """
    prep = params.get("prep", "auto")
    if prep == "auto":
        return "diurnal" if task.design.is_ema else "detrend"
    return prep


def _time_effects(task: _Task, params: dict[str, Any]) -> bool:
    """Return whether PanelPCMCI removes time means (``"auto"``: not for day/beep)."""
    value = params.get("time_effects", "auto")
    return not task.design.is_ema if value == "auto" else bool(value)


def _run_fast_inner(task: _Task, params: dict[str, Any]) -> _Links:
    values = _fast_values(task)
    stats = cohort_statistics(values, tau_max=params.get("tau_max", 1),
                              prep=_prep(task, params),
                              cut_off=params.get("cut_off", "2xtau_max"),
                              min_lagged_rows=params.get("min_lagged_rows", 2),
                              within_df=params.get("within_df", True),
                              time_effects=_time_effects(task, params))
    dec = pcmci_decisions(stats, alpha=task.alpha, pc_alpha=params.get("pc_alpha", 0.2))
    compared = None
    if task.comparisons:
        draws = effect_draws(values, seeds=task.seeds, n_boot=task.n_boot,
                             prep=_prep(task, params))
        names = list(task.scenario.variables)
        compared = np.zeros((len(task.seeds), len(task.comparisons)), dtype=np.int8)
        for m, comp in enumerate(task.comparisons):
            (sc, se, _), (wc, we, _) = comp.stronger_link, comp.weaker_link
            s_idx = (names.index(se), names.index(sc))  # (target, source)
            w_idx = (names.index(we), names.index(wc))
            for c in range(len(task.seeds)):
                compared[c, m] = _compare_code(
                    draws.estimate[c][s_idx], draws.estimate[c][w_idx],
                    draws.draws[c][:, s_idx[0], s_idx[1]],
                    draws.draws[c][:, w_idx[0], w_idx[1]], task.alpha)
    return _Links(dec.value, dec.p_value, dec.ci_low, dec.ci_high, dec.significant, compared)


def _compare_code(strong: float, weak: float, strong_draws: np.ndarray, weak_draws: np.ndarray,
                  alpha: float) -> int:
    """Return the verdict of ``causal.hypotheses.comparisons.compare`` as 1 / -1 / 0.

    ``|strong| - |weak|`` with the percentile interval of the replicate
    differences at level ``1 - 2 * alpha``: supported (1) above zero,
    contradicted (-1) below zero, inconclusive (0) otherwise or when an
    effect is not estimable.
    """
    diff = abs(strong) - abs(weak)
    reps = np.abs(strong_draws) - np.abs(weak_draws)
    reps = reps[~np.isnan(reps)]
    if math.isnan(diff) or not len(reps):
        return 0
    lo, hi = np.quantile(reps, [alpha, 1 - alpha])
    return 1 if lo > 0 else -1 if hi < 0 else 0


def ema_frame(values: np.ndarray, variables: Sequence[str]) -> pd.DataFrame:
    """Long format of one simulated cohort ``(patient, block, step, variable)``.

    Columns ``patient``, ``day`` (1-based block), ``beep`` (1-based step in
    the block), ``time`` (running step index over the study, 1-based) and
    the variables; unobserved steps are left out. A weekly cohort is one
    block: ``time`` is the week.

    Examples
    --------
    >>> v = np.arange(12.0).reshape(1, 2, 2, 3)
    >>> v[0, 1, 0] = np.nan
    >>> ema_frame(v, ["x", "y", "z"])[["day", "beep", "time", "x"]].values.tolist()
    [[1.0, 1.0, 1.0, 0.0], [1.0, 2.0, 2.0, 3.0], [2.0, 2.0, 4.0, 9.0]]
    """
    p, d, b, k = values.shape
    patient, day, beep = np.meshgrid(np.arange(1, p + 1), np.arange(1, d + 1),
                                     np.arange(1, b + 1), indexing="ij")
    flat = values.reshape(-1, k)
    keep = ~np.isnan(flat).any(axis=1)
    frame = pd.DataFrame(flat[keep], columns=list(variables))
    frame.insert(0, "time", ((day - 1) * b + beep).ravel()[keep])
    frame.insert(0, "beep", beep.ravel()[keep])
    frame.insert(0, "day", day.ravel()[keep])
    frame.insert(0, "patient", patient.ravel()[keep])
    return frame


def _run_full(task: _Task) -> _Links:
    """Simulate each cohort as a DataFrame and fit PanelPCMCI (the reference engine)."""
    names = list(task.scenario.variables)
    k = len(names)
    params = dict(task.params)
    params["prep"] = _prep(task, params)  # as the fast engine: "auto" is the straight line
    tau = int(params.get("tau_max", 1))
    out = [np.full((len(task.seeds), k, k, tau + 1), np.nan) for _ in range(4)]
    sig = np.zeros((len(task.seeds), k, k, tau + 1), dtype=bool)
    compared = (np.zeros((len(task.seeds), len(task.comparisons)), dtype=np.int8)
                if task.comparisons else None)
    d = task.design
    for c, seed in enumerate(task.seeds):
        fit_kw: dict[str, Any] = {}
        if d.is_ema:
            frame = ema_frame(_fast_values(_Task(task.scenario, d, (seed,), task.alpha,
                                                 task.params, "fast"))[0], names)
            fit_kw = {"day_col": "day", "beep_col": "beep"}
            frame = frame.drop(columns="time")
        else:
            frame = simulate_cohort(task.scenario, d.n_patients, d.n_weeks, missing=d.missing,
                                    dropout=d.dropout, trajectory=d.trajectory,
                                    random_state=seed)
        model = PanelPCMCI(alpha=task.alpha, **{"random_state": seed % 2**32, **params})
        table = model.fit(frame, **fit_kw).links_.table
        table = table[table["lag"] > 0]
        i = table["source"].map(names.index).to_numpy()
        j = table["target"].map(names.index).to_numpy()
        lag = table["lag"].to_numpy()
        for arr, col in zip(out, ("value", "p_value", "ci_low", "ci_high"), strict=True):
            arr[c, i, j, lag] = table[col].to_numpy(dtype=float)
        sig[c, i, j, lag] = table["significant"].to_numpy(dtype=bool)
        if compared is not None:
            from causal.hypotheses.comparisons import compare, effect_bootstrap

            draws = effect_bootstrap(frame, tau_max=tau, prep=_prep(task, params),
                                     n_boot=task.n_boot, random_state=seed)
            verdicts = compare(task.comparisons, draws, alpha=task.alpha)
            code = {"supported": 1, "contradicted": -1, "inconclusive": 0}
            compared[c] = [code[r.verdict] for r in verdicts]
    return _Links(*out, sig, compared)


def _run(task: _Task) -> _Links:
    return _run_fast(task) if task.engine == "fast" else _run_full(task)


def _simulate(scenario: Scenario, designs: Sequence[Design], n_cohorts: int, alpha: float,
              params: dict[str, Any], entropy: int, engine: str, n_jobs: int,
              scheduler: str | None, progress: bool | None, desc: str,
              comparisons: tuple[Any, ...] = (), n_boot: int = 1000) -> list[_Links]:
    """Link statistics of ``n_cohorts`` cohorts per design (same seeds for every engine)."""
    items = tuple(sorted(params.items()))
    tasks, owner = [], []
    for g, d in enumerate(designs):
        seeds = spawn_seeds(entropy, n_cohorts, stream=d.stream)
        size = 1 if engine == "full" else max(1, _CHUNK_STEPS // (d.n_patients * d.n_weeks))
        for start in range(0, n_cohorts, size):
            tasks.append(_Task(scenario, d, tuple(seeds[start:start + size]), alpha, items,
                               engine, comparisons if not d.is_ema else (), n_boot))
            owner.append(g)
    parts = parallel_map(_run, tasks, n_jobs=n_jobs, scheduler=scheduler, progress=progress,
                         desc=desc)
    return [_Links.concat([p for p, o in zip(parts, owner, strict=True) if o == g])
            for g in range(len(designs))]


def _entropy(random_state: int | np.random.Generator | None) -> int:
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise InputError(f"random_state must be >= 0, got {random_state}")
        return int(random_state)
    if random_state is None or isinstance(random_state, np.random.Generator):
        return int(np.random.default_rng(random_state).integers(0, 2**63))
    raise InputError(f"random_state must be an int, numpy Generator or None, got "
                     f"{format_value(random_state)}")


def _settings(pcmci_params: dict[str, Any], engine: str) -> str:
    """Validate PanelPCMCI settings and resolve ``engine`` to ``'fast'`` or ``'full'``."""
    unknown = sorted(set(pcmci_params) - set(_PCMCI_PARAMS))
    if unknown:
        raise InputError(f"unknown PanelPCMCI setting(s) {unknown}; allowed: "
                         f"{list(_PCMCI_PARAMS)}")
    engine = check_choice("engine", engine, ENGINES)
    why = fast_supported(pcmci_params)
    if engine == "fast" and why is not None:
        raise InputError(f"engine 'fast' does not support {why}; use engine 'full' or 'auto'")
    if engine == "auto":
        engine = "fast" if why is None else "full"
        if why is not None:
            logger.info("power: %s needs the full PanelPCMCI engine", why)
    return engine


def _designs(n_weeks: int | None, patients: Sequence[int], missing: float, dropout: float,
             days: int | None, beeps: int | None, trajectory: str = "linear") -> list[Design]:
    sizes = tuple(sorted(check_ints("patients", patients, minimum=2)))
    if days is not None or beeps is not None:
        if days is None or beeps is None:
            raise InputError("an EMA design needs both days and beeps")
        if trajectory != "linear":
            raise InputError(f"EMA designs simulate linear trends; trajectory must be 'linear', "
                             f"got {format_value(trajectory)}")
        return [Design.ema(p, days=days, beeps=beeps, missing=missing, dropout=dropout)
                for p in sizes]
    n_weeks = check_int("n_weeks", n_weeks, minimum=4)
    return [Design(p, n_weeks, missing, dropout, trajectory=trajectory) for p in sizes]


# ------------------------------------------------------------------- result
def _required(n: np.ndarray, power: np.ndarray, target: float) -> float | None:
    reached = np.flatnonzero(power >= target)
    if reached.size == 0:
        return None
    i = int(reached[0])
    if i == 0:
        return float(n[0])
    return float(np.interp(target, power[i - 1:i + 1], n[i - 1:i + 1]))


@dataclass(frozen=True)
class PowerResult:
    """A power curve: detection rate against the number of patients.

    Attributes
    ----------
    effect : float
        Simulated lag-1 effect of ``edge``.
    n_weeks : int
        Weekly reports per patient (EMA: beeps over the study).
    alpha : float
        PCMCI significance level.
    edge : (cause, effect)
        The tested lag-1 edge.
    missing : float
        Share of missing patient-weeks.
    table : pandas.DataFrame
        Columns :data:`POWER_COLUMNS`, one row per number of patients.
    settings : dict
        Further PanelPCMCI settings, the seed ``entropy`` and the ``engine``.
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
        return _required(self.table["n_patients"].to_numpy(dtype=float),
                         self.table["power"].to_numpy(dtype=float), target)

    def __str__(self) -> str:
        n_cohorts = int(self.table["n_cohorts"].max()) if len(self.table) else 0
        days = self.table["days"].iloc[0] if "days" in self.table and len(self.table) else None
        if days is not None and not pd.isna(days):
            design = f"{int(days)} days x {int(self.table['beeps'].iloc[0])} beeps"
        else:
            design = f"{self.n_weeks} weeks"
        lines = [f"Power to detect {self.edge[0]} -> {self.edge[1]} = {self.effect:+g} (lag 1; "
                 f"significant with this sign at alpha {self.alpha:g}), {design}, "
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


def power_curve(effect: float, n_weeks: int | None, patients: Sequence[int], *,
                n_cohorts: int = 200, alpha: float = 0.05, edge: Sequence[str] = DEFAULT_EDGE,
                missing: float = 0.0, dropout: float = 0.0, days: int | None = None,
                beeps: int | None = None, trajectory: str = "linear", engine: str = "auto",
                random_state: int | np.random.Generator | None = None, n_jobs: int = 1,
                scheduler: str | None = None, progress: bool | None = None,
                **pcmci_params: Any) -> PowerResult:
    """Estimate the power to detect one lag-1 effect for several numbers of patients.

    Parameters
    ----------
    effect : float
        Nonzero lag-1 coefficient of ``edge`` in the simulated truth
        (standardized within-person units).
    n_weeks : int or None
        Weekly reports per patient (>= 4); ignored (may be None) for an EMA
        design (``days`` and ``beeps``).
    patients : sequence of int
        Numbers of patients (>= 2, distinct; sorted in the result).
    n_cohorts : int
        Simulated cohorts per number of patients.
    alpha : float
        PCMCI significance level.
    edge : (cause, effect) pair
        Tested edge (see :func:`power_scenario`).
    missing : float
        Share of patient-steps removed at random, in ``[0, 1)``.
    dropout : float
        Share of patients who drop out (see :class:`Design`).
    days, beeps : int, optional
        An EMA design of ``days`` days with ``beeps`` beeps a day; lags never
        cross a night.
    trajectory : str
        Shape of the patients' change over the weeks (see :class:`Design`).
    engine : {"auto", "fast", "full"}
        See the module docstring; the result does not depend on it.
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
    designs = _designs(n_weeks, patients, missing, dropout, days, beeps, trajectory)
    n_cohorts = check_int("n_cohorts", n_cohorts, minimum=1)
    alpha = check_probability("alpha", alpha)
    engine = _settings(pcmci_params, engine)
    entropy = _entropy(random_state)
    logger.info("power: %s; %d cohorts x %d sizes (%s engine)", scenario, n_cohorts,
                len(designs), engine)
    links = _simulate(scenario, designs, n_cohorts, alpha, pcmci_params, entropy, engine,
                      n_jobs, scheduler, progress, f"power (effect {effect:g})")
    names = list(scenario.variables)
    i, j = names.index(edge[0]), names.index(edge[1])
    rows = []
    for d, lk in zip(designs, links, strict=True):
        hits = lk.significant[:, i, j, 1] & (np.sign(lk.value[:, i, j, 1]) == np.sign(effect))
        k = int(hits.sum())
        ci = summarize_rate(k, n_cohorts)
        rows.append({"effect": float(effect), **d.columns(), "k": k, "n_cohorts": n_cohorts,
                     "power": k / n_cohorts, "ci_low": ci.ci_low, "ci_high": ci.ci_high,
                     "alpha": alpha, "source": edge[0], "target": edge[1]})
    table = pd.DataFrame(rows, columns=list(POWER_COLUMNS))
    result = PowerResult(effect=float(effect), n_weeks=designs[0].n_weeks, alpha=alpha,
                         edge=edge, missing=float(missing), table=table,
                         settings={**pcmci_params, "entropy": entropy, "engine": engine})
    logger.info("%s", result)
    return result


def smallest_effects(results: Iterable[PowerResult], target: float = 0.8) -> pd.DataFrame:
    """Return the smallest effect detectable with each number of patients.

    From power curves of one edge at several effects.

    For each design (weeks, patients, ...) the power at the given effects
    (of one sign) is interpolated linearly in ``|effect|`` where it first
    reaches ``target``; NaN when no effect tried reaches it, the smallest
    effect tried when it already does (the answer may then be smaller).

    Parameters
    ----------
    results : iterable of PowerResult
        Curves of one edge at several effects.
    target : float
        Power to reach.

    Returns
    -------
    pandas.DataFrame
        Columns ``n_weeks, n_patients, missing, dropout, days, beeps,
        smallest_effect, target, at_smallest_tried``.

    Examples
    --------
    >>> t = lambda e, p: pd.DataFrame({"effect": e, "n_weeks": 13, "n_patients": [50],
    ...     "missing": 0.0, "dropout": 0.0, "days": None, "beeps": None, "power": [p]})
    >>> rs = [PowerResult(e, 13, 0.05, DEFAULT_EDGE, 0.0, t(e, p))
    ...       for e, p in [(0.1, 0.5), (0.2, 0.9)]]
    >>> round(float(smallest_effects(rs)["smallest_effect"].iloc[0]), 6)
    0.175
    """
    target = check_probability("target", target)
    frames = [r.table for r in results]
    if not frames:
        raise InputError("smallest_effects needs at least one power curve")
    table = pd.concat(frames, ignore_index=True)
    if len(set(np.sign(table["effect"]).tolist())) > 1:
        raise InputError("smallest_effects needs effects of one sign, got "
                         f"{sorted(table['effect'].unique().tolist())}")
    keys = [k for k in ("n_weeks", "n_patients", "missing", "dropout", "days", "beeps",
                        "trajectory") if k in table.columns]
    rows = []
    for key, group in table.groupby(keys, dropna=False, sort=True):
        g = group.assign(size=group["effect"].abs()).sort_values("size")
        found = _required(g["size"].to_numpy(dtype=float), g["power"].to_numpy(dtype=float),
                          target)
        rows.append({**dict(zip(keys, key, strict=True)),
                     "smallest_effect": math.nan if found is None else found,
                     "target": target,
                     "at_smallest_tried": found is not None and found == g["size"].iloc[0]})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------- claims
def claims_scenario(hypotheses: Sequence[Any], effect: float | None = None) -> Scenario:
    """Return a simulated truth in which the claims hold.

    With ``effect=None`` and claims on the paper's variables, the ``"paper"``
    scenario (the effects Melsom et al. reported; links not in it are 0).
    Otherwise every ``positive`` / ``present`` claim gets ``+effect``, every
    ``negative`` one ``-effect`` and ``absent`` ones 0 - on the paper scenario
    when the variables are the paper's, else on continuous variables with
    autoregression 0.3 and innovation correlation 0.3.

    Examples
    --------
    >>> claims = load_hypotheses("melsom2023")
    >>> claims_scenario(claims).name, len(claims_scenario(claims, 0.1).true_edges())
    ('paper', 3)
    """
    claims, comparisons = _split_claims(hypotheses)
    for h in (*claims, *comparisons):
        if h.lag != 1:
            raise InputError(f"hypothesis {h.name!r} has lag {h.lag}: the simulated truths are "
                             "lag-1 VARs, so power is planned for lag-1 claims only")
    paper = get_scenario("paper")
    used = {v for h in claims for v in (h.cause, h.effect)}
    used |= {v for c in comparisons for link in (c.stronger_link, c.weaker_link)
             for v in link[:2]}
    on_paper = used <= set(paper.variables)
    if effect is None:
        if not on_paper:
            raise InputError(f"the claims use variables {sorted(used)} that are not the paper's "
                             f"{list(paper.variables)}: give the effect size to simulate")
        return paper
    effect = check_real("effect", effect, low=0.0, high=1.0, low_ok=False)
    sign = {"positive": 1.0, "present": 1.0, "negative": -1.0, "absent": 0.0}
    cross = [(h.cause, h.effect, sign[h.expected] * effect) for h in claims
             if sign[h.expected] != 0.0]
    if on_paper:
        return paper.with_cross(cross, name=f"claims_{effect:g}")
    variables = tuple(dict.fromkeys([*(v for h in claims for v in (h.cause, h.effect)),
                                     *sorted(used)]))
    return Scenario(f"claims_{effect:g}", variables, (0.3,) * len(variables), tuple(cross))


def _split_claims(claims: Iterable[Any] | str | Path
                  ) -> tuple[tuple[Hypothesis, ...], tuple[Any, ...]]:
    """Hypotheses and comparisons of a preset / file or of a mixed iterable."""
    if isinstance(claims, str | Path):
        return load_hypotheses(claims), _load_comparisons(claims)
    items = tuple(claims)
    hyps = tuple(h for h in items if isinstance(h, Hypothesis))
    comps = tuple(c for c in items if hasattr(c, "stronger_link"))
    if len(hyps) + len(comps) != len(items):
        bad = next(c for c in items if not isinstance(c, Hypothesis)
                   and not hasattr(c, "stronger_link"))
        raise InputError(f"claims must be Hypothesis or Comparison objects, got "
                         f"{format_value(bad)}")
    if not items:
        raise InputError("no hypotheses given")
    return hyps, comps


def _load_comparisons(source: str | Path) -> tuple[Any, ...]:
    from causal.hypotheses.spec import load_comparisons

    return load_comparisons(source)


@dataclass(frozen=True)
class ClaimsPowerResult:
    """Per-claim and all-claims power against the number of patients.

    Attributes
    ----------
    hypotheses : tuple of Hypothesis
        The claims.
    scenario : Scenario
        The simulated truth.
    alpha : float
        PCMCI significance level (intervals at ``1 - 2 * alpha``).
    table : pandas.DataFrame
        Columns :data:`CLAIM_COLUMNS`: one row per claim and design, plus a
        row ``claim="all"`` (every claim supported in the same cohort).
        ``power`` is the share of cohorts with verdict ``supported``,
        ``contradicted`` the share with verdict ``contradicted``.
    settings : dict
        Further PanelPCMCI settings, the seed ``entropy`` and the ``engine``.
    """

    hypotheses: tuple[Hypothesis, ...]
    scenario: Scenario
    alpha: float
    table: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    comparisons: tuple[Any, ...] = ()

    def required_patients(self, target: float = 0.8) -> pd.DataFrame:
        """Patients needed for ``target`` power, per claim and design (interpolated).

        Returns
        -------
        pandas.DataFrame
            Columns ``claim, n_weeks, days, beeps, missing, dropout, target,
            patients`` (NaN: not reached in the grid), ``at_smallest_tried``.
        """
        target = check_probability("target", target)
        keys = ["claim", "n_weeks", "days", "beeps", "missing", "dropout", "trajectory"]
        rows = []
        for key, g in self.table.groupby(keys, dropna=False, sort=False):
            g = g.sort_values("n_patients")
            need = _required(g["n_patients"].to_numpy(dtype=float),
                             g["power"].to_numpy(dtype=float), target)
            rows.append({**dict(zip(keys, key, strict=True)), "target": target,
                         "patients": math.nan if need is None else need,
                         "at_smallest_tried": need is not None
                         and need == g["n_patients"].iloc[0]})
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        n_cohorts = int(self.table["n_cohorts"].max()) if len(self.table) else 0
        lines = [f"Power for the claims to come out as stated (verdict 'supported'), truth: "
                 f"{self.scenario}; alpha {self.alpha:g}, {n_cohorts} cohorts per design:"]
        designs = self.table.drop_duplicates(["n_weeks", "days", "beeps", "missing",
                                              "dropout", "n_patients"])
        claims = list(dict.fromkeys(self.table["claim"]))
        width = max(len(c) for c in claims)
        for d in designs.itertuples(index=False):
            design = (f"{d.days:g} days x {d.beeps:g} beeps" if not pd.isna(d.days)
                      else f"{d.n_weeks} weeks")
            lines.append(f"  {d.n_patients} patients x {design}:")
            sub = self.table[(self.table["n_patients"] == d.n_patients)
                             & (self.table["n_weeks"] == d.n_weeks)
                             & (self.table["missing"] == d.missing)
                             & (self.table["dropout"] == d.dropout)]
            for r in sub.itertuples(index=False):
                lines.append(f"    {r.claim:<{width}}  {r.power:.3f} [{r.ci_low:.3f}, "
                             f"{r.ci_high:.3f}]  contradicted {r.contradicted:.3f}")
        for target in (0.8, 0.9):
            need = self.required_patients(target)
            parts = []
            for r in need.itertuples(index=False):
                if pd.isna(r.patients):
                    parts.append(f"{r.claim}: > {int(self.table['n_patients'].max())}")
                elif r.at_smallest_tried:
                    parts.append(f"{r.claim}: <= {r.patients:.0f}")
                else:
                    parts.append(f"{r.claim}: ~{math.ceil(r.patients)}")
            lines.append(f"Patients for {target:.0%} power: " + "; ".join(parts))
        return "\n".join(lines)


def claims_power(hypotheses: Iterable[Any] | str | Path, n_weeks: int | None,
                 patients: Sequence[int], *, effect: float | None = None,
                 scenario: Scenario | None = None, n_cohorts: int = 200, n_boot: int = 1000,
                 alpha: float = 0.05,
                 missing: float = 0.0, dropout: float = 0.0, days: int | None = None,
                 beeps: int | None = None, trajectory: str = "linear", engine: str = "auto",
                 random_state: int | np.random.Generator | None = None, n_jobs: int = 1,
                 scheduler: str | None = None, progress: bool | None = None,
                 **pcmci_params: Any) -> ClaimsPowerResult:
    """Estimate the power for every claim, and for all together, to be supported.

    Each cohort is analysed by PanelPCMCI and every hypothesis judged by
    :func:`causal.hypotheses.verdicts.decide` (the rule ``discover`` applies,
    without bootstrap). A ``[[comparison]]`` claim is judged by the rule of
    ``causal.hypotheses.comparisons.compare`` on the stand-in effects
    (pooled within-person VAR(1), half-panel jackknife, ``n_boot`` patient
    cluster-bootstrap replicates; weekly designs and ``tau_max=1`` only, else
    left out with a warning) - not on ``Links.effect``, which ``discover``
    uses when its links carry it. A claim's power is the share of cohorts
    whose verdict is ``supported``; the ``"all"`` row is the share in which
    every claim is.

    Parameters
    ----------
    hypotheses : iterable of Hypothesis / Comparison, or str / Path
        Claims, or a preset name (``"melsom2023"``) / TOML path (its
        hypotheses and comparisons).
    n_weeks, patients, n_cohorts, alpha, missing, dropout, days, beeps, trajectory, engine
        As in :func:`power_curve`.
    n_boot : int
        Bootstrap replicates of the comparisons (default 1000, as ``discover``).
    effect : float, optional
        Effect size of every directional claim in the simulated truth (see
        :func:`claims_scenario`); default: the paper's own effects.
    scenario : Scenario, optional
        The simulated truth itself (overrides ``effect``).
    random_state, n_jobs, scheduler, progress, **pcmci_params
        As in :func:`power_curve`.

    Returns
    -------
    ClaimsPowerResult
    """
    claims, comparisons = _split_claims(hypotheses)
    truth = claims_scenario((*claims, *comparisons), effect) if scenario is None else scenario
    if not isinstance(truth, Scenario):
        raise InputError(f"scenario must be a Scenario, got {format_value(truth)}")
    names = list(truth.variables)
    links = [(h.name, h.cause, h.effect) for h in claims]
    links += [(c.name, *c.stronger_link[:2]) for c in comparisons]
    links += [(c.name, *c.weaker_link[:2]) for c in comparisons]
    for name, cause, effect_var in links:
        for v in (cause, effect_var):
            if v not in names:
                raise InputError(f"claim {name!r} names {v!r}, which is not a variable "
                                 f"of the scenario {names}")
    designs = _designs(n_weeks, patients, missing, dropout, days, beeps, trajectory)
    n_cohorts = check_int("n_cohorts", n_cohorts, minimum=1)
    n_boot = check_int("n_boot", n_boot, minimum=1)
    alpha = check_probability("alpha", alpha)
    engine = _settings(pcmci_params, engine)
    tau = int(pcmci_params.get("tau_max", 1))
    for h in (*claims, *comparisons):
        if h.lag > tau:
            raise InputError(f"claim {h.name!r} has lag {h.lag} > tau_max {tau}")
    if comparisons and (tau != 1 or any(d.is_ema for d in designs)):
        logger.warning("comparison power needs weekly designs and tau_max 1; the comparisons "
                       "%s are left out", [c.name for c in comparisons])
        comparisons = ()
    entropy = _entropy(random_state)
    logger.info("claims power: %d claims and %d comparisons, truth %s; %d cohorts x %d "
                "designs (%s engine)", len(claims), len(comparisons), truth, n_cohorts,
                len(designs), engine)
    results = _simulate(truth, designs, n_cohorts, alpha, pcmci_params, entropy, engine,
                        n_jobs, scheduler, progress, "claims power", comparisons, n_boot)
    a = truth.transition_matrix()
    rows = []
    for d, lk in zip(designs, results, strict=True):
        every = np.ones(n_cohorts, dtype=bool)
        for h in claims:
            i, j = names.index(h.cause), names.index(h.effect)
            verdicts = [decide(h.expected, lk.value[c, i, j, h.lag],
                               bool(lk.significant[c, i, j, h.lag]),
                               lk.ci_low[c, i, j, h.lag], lk.ci_high[c, i, j, h.lag],
                               h.sesoi)[0] for c in range(n_cohorts)]
            ok = np.array([v == "supported" for v in verdicts])
            bad = sum(v == "contradicted" for v in verdicts)
            every &= ok
            rows.append(_claim_row(h.name, "hypothesis", h.expected, h.cause, h.effect, h.lag,
                                   float(a[j, i]), d, int(ok.sum()), bad, n_cohorts, alpha))
        for m, comp in enumerate(comparisons):
            (sc, se, _), (wc, we, _) = comp.stronger_link, comp.weaker_link
            true_diff = (abs(a[names.index(se), names.index(sc)])
                         - abs(a[names.index(we), names.index(wc)]))
            codes = lk.compared[:, m]
            every &= codes == 1
            rows.append(_claim_row(comp.name, "comparison", "stronger", comp.stronger,
                                   comp.weaker, comp.lag, float(true_diff), d,
                                   int((codes == 1).sum()), int((codes == -1).sum()),
                                   n_cohorts, alpha))
        rows.append(_claim_row("all", "all", "", "", "", 0, math.nan, d, int(every.sum()),
                               math.nan, n_cohorts, alpha))
    table = pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
    result = ClaimsPowerResult(hypotheses=claims, scenario=truth, alpha=alpha, table=table,
                               settings={**pcmci_params, "entropy": entropy, "engine": engine,
                                         "n_boot": n_boot},
                               comparisons=tuple(comparisons))
    logger.info("%s", result)
    return result


def _claim_row(name: str, kind: str, expected: str, cause: str, effect: str, lag: int,
               truth: float, design: Design, k: int, contradicted: float, n: int,
               alpha: float) -> dict[str, Any]:
    ci = summarize_rate(k, n)
    return {"claim": name, "kind": kind, "expected": expected, "cause": cause,
            "effect_var": effect, "lag": lag, "truth": truth, **design.columns(), "k": k,
            "n_cohorts": n, "power": k / n, "ci_low": ci.ci_low, "ci_high": ci.ci_high,
            "contradicted": contradicted / n, "alpha": alpha}
