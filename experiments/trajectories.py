"""Trajectory study: calibration and power of each trend model under each trajectory shape.

Cohorts are simulated on the Melsom et al. (2023) design (226 patients x 13
weeks, 5% missing values by default) from two scenarios of
:mod:`features.scenarios`: ``"null"`` (no cross-lagged effect) and ``"paper"``
(+0.12, +0.08, -0.13), for every trajectory shape of
:mod:`features.trajectories` (``linear``, ``early``, ``sudden``, ``relapse``,
``mixed``) and every between-patient SD of the autoregression in ``ar_sds``.
Cohort ``i`` uses ``cohort_seeds(seed, n_cohorts)[i]`` in every cell, so shapes,
AR spreads, scenarios and trend models are compared on the same innovations
(the trajectory draws come from a child generator of the same seed).

Each cohort is fitted once per trend model (``prep`` in ``preps``) by
:class:`~causal.PanelPCMCI` with its other defaults (pooled ParCorr, alpha
``alpha``). Measures, per ``scenario x trajectory x ar_sd x prep``, with
Wilson 95% intervals:

* ``null_rate`` (``"null"`` scenario) - significant cross-lagged edges / tested
  cross-lagged edges (6 per cohort), pooled (``edge = "all"``) and per edge;
* ``power`` (``"paper"`` scenario) - share of cohorts finding each true edge
  significant with the right sign; ``mean_value`` is the mean partial
  correlation and ``truth`` the simulated coefficient (so ``mean_value -
  truth`` shows the shrinkage; the ``effect`` column of issue 8 reports the
  bias-corrected scale when the fit provides it, as ``mean_effect``);
* ``ordering`` (``"paper"``) - cohorts whose ``melsom2023`` verdicts reproduce
  the full ordering (every directional claim supported, no absent claim
  contradicted);
* ``misfit_warning`` - for the first ``diagnostics`` null cohorts of each
  cell and the first trend model in ``preps``: share of cohorts in which
  :func:`features.diagnostics.diagnose_trends` warns that the trend model
  misfits (``mean_value``: the mean share of flagged patients).

Outputs (``--out``, default ``results/trajectories``): ``trajectories.csv``
(:data:`SUMMARY_COLUMNS`) and ``trajectories_cohorts.csv`` (every cross-lagged
test: :data:`COHORT_COLUMNS`), ``trajectories.png`` (worst null rate per
shape and trend model).

Run ``python -m experiments.trajectories`` (full; minutes per trend model) or
``--quick`` (CI, seconds).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from causal import Hypothesis, PanelPCMCI, evaluate, load_hypotheses
from experiments.common import (
    ConfigError,
    RunContext,
    check_int,
    check_names,
    check_prob,
    cohort_seeds,
    map_cohorts,
    rate_row,
    run_experiment,
    run_study,
    save_figure,
    settings_from_mapping,
    true_values,
)
from experiments.recovery import ordering_reproduced
from features.choices import PREPS, TRAJECTORIES
from features.diagnostics import diagnose_trends
from features.panel import Panel
from features.scenarios import get_scenario
from features.simulate import simulate_cohort

__all__ = [
    "COHORT_COLUMNS",
    "CONFIG_KEYS",
    "SUMMARY_COLUMNS",
    "CohortTask",
    "TrajectoriesConfig",
    "TrajectoriesResult",
    "analyse_cohort",
    "main",
    "run",
    "run_trajectories",
    "summarize_trajectories",
]

logger = logging.getLogger(__name__)

NAME = "trajectories"

#: Keys of ``configs/trajectories.toml``.
CONFIG_KEYS = ("seed", "n_cohorts", "n_patients", "n_weeks", "missing", "dropout",
               "trajectories", "ar_sds", "preps", "scenarios", "alpha", "hypotheses",
               "diagnostics")

#: Columns of ``trajectories_cohorts.csv`` (one row per cross-lagged test).
COHORT_COLUMNS = ("scenario", "trajectory", "ar_sd", "prep", "cohort", "seed", "source",
                  "target", "truth", "value", "effect", "p_value", "significant", "ordering",
                  "df_loss", "flagged_share", "misfit")

#: Columns of ``trajectories.csv``.
SUMMARY_COLUMNS = ("scenario", "trajectory", "ar_sd", "prep", "measure", "edge", "truth", "k",
                   "n", "rate", "ci_low", "ci_high", "mean_value", "sd_value", "mean_effect")

_SCENARIOS = ("null", "paper")


@dataclass(frozen=True)
class TrajectoriesConfig:
    """Settings of the study: the keys of ``configs/trajectories.toml`` but ``seed``.

    Raises
    ------
    ConfigError
        Naming the setting and value that are wrong.
    """

    n_cohorts: int = 200
    n_patients: int = 226
    n_weeks: int = 13
    missing: float = 0.05
    dropout: float = 0.0
    trajectories: tuple[str, ...] = TRAJECTORIES
    ar_sds: tuple[float, ...] = (0.0, 0.15)
    preps: tuple[str, ...] = ("detrend", "spline", "changepoint", "piecewise", "difference")
    scenarios: tuple[str, ...] = _SCENARIOS
    alpha: float = 0.05
    hypotheses: str = "melsom2023"
    diagnostics: int = 0

    def __post_init__(self) -> None:
        setter = object.__setattr__
        for key, minimum in (("n_cohorts", 1), ("n_patients", 2), ("n_weeks", 8),
                             ("diagnostics", 0)):
            check_int(key, getattr(self, key), minimum)
        setter(self, "missing", check_prob("missing", self.missing, zero_ok=True, one_ok=False))
        setter(self, "dropout", check_prob("dropout", self.dropout, zero_ok=True, one_ok=True))
        setter(self, "alpha", check_prob("alpha", self.alpha, zero_ok=False, one_ok=False))
        setter(self, "trajectories", check_names("trajectories", self.trajectories,
                                                 TRAJECTORIES))
        setter(self, "preps", check_names("preps", self.preps, PREPS))
        setter(self, "scenarios", check_names("scenarios", self.scenarios, _SCENARIOS))
        sds = self.ar_sds
        if isinstance(sds, str) or not isinstance(sds, list | tuple) or not sds:
            raise ConfigError(f"ar_sds must be a non-empty list of numbers in [0, 1), got {sds!r}")
        setter(self, "ar_sds", tuple(check_prob("ar_sds", s, zero_ok=True, one_ok=False)
                                     for s in sds))

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> TrajectoriesConfig:
        """Build from a loaded config; missing keys take the defaults, ``seed`` is ignored."""
        return settings_from_mapping(cls, config, CONFIG_KEYS, NAME)


@dataclass(frozen=True)
class CohortTask:
    """One simulated cohort of one cell, analysed with every trend model."""

    scenario: str
    trajectory: str
    ar_sd: float
    cohort: int
    seed: int
    config: TrajectoriesConfig


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Silence one logger's warnings (the per-cohort misfit warnings are counted instead)."""
    log = logging.getLogger(name)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


@lru_cache(maxsize=4)
def _hypotheses(name: str) -> tuple[Hypothesis, ...]:
    return load_hypotheses(name)


def analyse_cohort(task: CohortTask) -> pd.DataFrame:
    """Simulate one cohort; return its cross-lagged tests under every trend model.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COHORT_COLUMNS`; ``ordering`` repeats the cohort's
        full-ordering result on each of its rows (NaN for the null scenario),
        ``effect`` is NaN when the fit has no ``effect`` column.
    """
    c = task.config
    scenario = get_scenario(task.scenario)
    df = simulate_cohort(scenario, c.n_patients, c.n_weeks, missing=c.missing,
                         dropout=c.dropout, trajectory=task.trajectory, ar_sd=task.ar_sd,
                         random_state=task.seed)
    frames = []
    for prep in c.preps:
        model = PanelPCMCI(prep=prep, alpha=c.alpha, random_state=task.seed).fit(df)
        flagged, misfit = np.nan, np.nan
        if task.cohort < c.diagnostics and task.scenario == "null" and prep == c.preps[0]:
            with _quiet("features.diagnostics"):
                diag = diagnose_trends(Panel.from_frame(df, tau_max=1), prep)
            flagged, misfit = diag.share_patients, float(diag.misfit)
        table = model.links_.table
        cross = table[(table["lag"] > 0) & (table["source"] != table["target"])].copy()
        cross["truth"] = true_values(scenario, cross)
        if "effect" not in cross:
            cross["effect"] = np.nan
        ordering = np.nan
        if task.scenario == "paper":
            ordering = ordering_reproduced(evaluate(_hypotheses(c.hypotheses),
                                                    model.links_).to_frame())
        cross = cross.assign(prep=prep, ordering=ordering, df_loss=float(model.df_loss_),
                             flagged_share=flagged, misfit=misfit)
        frames.append(cross)
    out = pd.concat(frames, ignore_index=True)
    out = out.assign(scenario=task.scenario, trajectory=task.trajectory, ar_sd=task.ar_sd,
                     cohort=task.cohort, seed=task.seed)
    return out[list(COHORT_COLUMNS)]


def summarize_trajectories(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Turn the cohort table into null rates, power and ordering rates with Wilson intervals.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`: ``measure`` is ``null_rate``
        (``edge`` ``"all"`` or ``"SOURCE -> TARGET"``), ``power`` (per true
        edge: significant with the sign of ``truth``) or ``ordering``.
    """
    rows: list[dict[str, Any]] = []
    keys = ["scenario", "trajectory", "ar_sd", "prep"]
    for (scen, traj, sd, prep), part in cohorts.groupby(keys, sort=False):
        base = {"scenario": scen, "trajectory": traj, "ar_sd": sd, "prep": prep}
        edges = part["source"] + " -> " + part["target"]
        null = part[part["truth"] == 0]
        if len(null):
            rows.append({**base, "measure": "null_rate", "edge": "all", "truth": 0.0,
                         **rate_row(null["significant"].sum(), len(null), null["value"]),
                         "mean_effect": float(null["effect"].mean())})
        for edge, idx in part.groupby(edges, sort=False).groups.items():
            e = part.loc[idx]
            truth = float(e["truth"].iloc[0])
            hit = e["significant"] & (np.sign(e["value"]) == np.sign(truth)) if truth else \
                e["significant"]
            rows.append({**base, "measure": "power" if truth else "null_rate", "edge": edge,
                         "truth": truth, **rate_row(hit.sum(), len(e), e["value"]),
                         "mean_effect": float(e["effect"].mean())})
        diag = part.groupby("cohort")["misfit"].first().dropna()
        if len(diag):
            shares = part.groupby("cohort")["flagged_share"].first().dropna()
            rows.append({**base, "measure": "misfit_warning", "edge": "all", "truth": np.nan,
                         **rate_row(int(diag.sum()), len(diag), shares), "mean_effect": np.nan})
        if scen == "paper":
            per_cohort = part.groupby("cohort")["ordering"].first().astype(bool)
            rows.append({**base, "measure": "ordering", "edge": "all", "truth": np.nan,
                         **rate_row(per_cohort.sum(), len(per_cohort)), "mean_effect": np.nan})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


@dataclass(frozen=True)
class TrajectoriesResult:
    """Per-cohort tests and their summary."""

    config: TrajectoriesConfig
    seed: int
    cohorts: pd.DataFrame
    summary: pd.DataFrame

    def __str__(self) -> str:
        c = self.config
        s = self.summary
        lines = [f"Trajectory study: {c.n_cohorts} cohorts per cell of {c.n_patients} x "
                 f"{c.n_weeks}, {c.missing:.0%} missing, alpha {c.alpha:g}, seed {self.seed}",
                 f"  {'trajectory':<10} {'ar_sd':>5} {'prep':<12} {'null rate [95% CI]':<22} "
                 f"{'min power':>9} {'+0.08':>6} {'ordering':>8} {'warned':>6}"]
        for (traj, sd, prep), part in s.groupby(["trajectory", "ar_sd", "prep"], sort=False):
            null = part[(part["measure"] == "null_rate") & (part["edge"] == "all")]
            power = part[part["measure"] == "power"]
            weak = power[np.isclose(power["truth"], 0.08)]
            order = part[part["measure"] == "ordering"]
            warned = s[(s["trajectory"] == traj) & (s["ar_sd"] == sd) & (s["prep"] == prep)
                       & (s["measure"] == "misfit_warning")]
            nr = (f"{null['rate'].iloc[0]:.3f} [{null['ci_low'].iloc[0]:.3f}, "
                  f"{null['ci_high'].iloc[0]:.3f}]" if len(null) else "-")
            lines.append(
                f"  {traj:<10} {sd:>5g} {prep:<12} {nr:<22} "
                f"{power['rate'].min() if len(power) else np.nan:>9.2f} "
                f"{weak['rate'].iloc[0] if len(weak) else np.nan:>6.2f} "
                f"{order['rate'].iloc[0] if len(order) else np.nan:>8.2f} "
                f"{warned['rate'].iloc[0] if len(warned) else np.nan:>6.2f}")
        return "\n".join(lines)


def run_trajectories(config: TrajectoriesConfig | Mapping[str, Any], seed: int, *,
                     n_jobs: int = 1, scheduler: str | None = None,
                     progress: bool | None = None) -> TrajectoriesResult:
    """Run the study: every scenario x trajectory x AR spread x cohort, every trend model.

    Parameters
    ----------
    config : TrajectoriesConfig or mapping
        Settings (a mapping is validated by :meth:`TrajectoriesConfig.from_mapping`).
    seed : int
        Master seed; cohort ``i`` of every cell uses ``cohort_seeds(seed, n_cohorts)[i]``.
    n_jobs : int
        Worker processes; results do not depend on it.
    scheduler : str, optional
        Dask scheduler address (same results).
    progress : bool or None
        Progress bar on standard error (None: only on a terminal).
    """
    if not isinstance(config, TrajectoriesConfig):
        config = TrajectoriesConfig.from_mapping(config)
    seeds = cohort_seeds(seed, config.n_cohorts)
    tasks = [CohortTask(scen, traj, sd, i, s, config)
             for scen in config.scenarios for traj in config.trajectories
             for sd in config.ar_sds for i, s in enumerate(seeds)]
    start = time.perf_counter()
    cohorts = pd.concat(map_cohorts(analyse_cohort, tasks, n_jobs, scheduler=scheduler,
                                    progress=progress), ignore_index=True)
    logger.info("fitted %d cohorts x %d trend models in %.1f s", len(tasks), len(config.preps),
                time.perf_counter() - start)
    result = TrajectoriesResult(config, seed, cohorts, summarize_trajectories(cohorts))
    logger.info("%s", result)
    return result


def _plot(summary: pd.DataFrame, path: Path, alpha: float) -> list[Path]:
    part = summary[(summary["measure"] == "null_rate") & (summary["edge"] == "all")]
    if part.empty:
        return []
    worst = part.pivot_table(index="trajectory", columns="prep", values="ci_high", aggfunc="max",
                             sort=False)
    rate = part.pivot_table(index="trajectory", columns="prep", values="rate", aggfunc="max",
                            sort=False)
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(rate.index))
    width = 0.8 / max(len(rate.columns), 1)
    for j, prep in enumerate(rate.columns):
        ax.bar(x + j * width, rate[prep], width, label=prep,
               yerr=[np.zeros(len(x)), (worst[prep] - rate[prep]).to_numpy()])
    ax.axhline(alpha, color="k", lw=0.8, ls="--")
    ax.set_xticks(x + 0.4 - width / 2, rate.index)
    ax.set_ylabel("null rate (worst AR spread)")
    ax.set_yscale("log")
    ax.legend(fontsize=7, ncol=3)
    ax.set_title("Spurious cross-lagged edges by trajectory and trend model", fontsize=9)
    return [save_figure(fig, path.with_suffix(".png"))]


def run(context: RunContext) -> list[Path]:
    """Run the study for :func:`experiments.common.run_experiment` and write the outputs."""
    result, paths = run_study(context, run_trajectories)
    return paths + _plot(result.summary, context.out_dir / NAME, result.config.alpha)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m experiments.trajectories [--quick] [--n-jobs N] ...``."""
    return run_experiment(NAME, __doc__.splitlines()[0], run, argv, allowed=CONFIG_KEYS,
                          required=("seed",))


if __name__ == "__main__":  # pragma: no cover
    from experiments.trajectories import main as _main

    sys.exit(_main())
