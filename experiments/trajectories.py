"""Trajectory study: calibration and power of each trend model under each trajectory shape.

Cohorts are simulated on the Melsom et al. (2023) design (226 patients x 13
weeks, 5% missing values by default) from two scenarios of
:mod:`features.scenarios`: ``"null"`` (no cross-lagged effect) and ``"paper"``
(+0.12, +0.08, -0.13), for every trajectory shape of
:mod:`features.trajectories` (``linear``, ``early``, ``sudden``, ``relapse``,
``mixed``) and every between-patient SD of the autoregression in ``ar_sds``.
Cohort ``i`` uses ``spawn_seeds(seed, n_cohorts, stream=(0,))[i]`` in every
cell, so shapes, AR spreads, scenarios and trend models are compared on the
same innovations (the trajectory draws come from a child generator of the
same seed).

Each cohort is fitted once per entry of ``preps`` by
:class:`~causal.PanelPCMCI` with its other defaults (pooled ParCorr, alpha
``alpha``, time effects on). An entry is a trend model, optionally with
flags (:data:`VARIANTS`, :func:`fit_options`): ``"detrend+notime"`` without
time effects (the per-patient transform alone, the default before issue 8),
``"detrend+debias"`` with tests centred on their short-panel bias; the
``prep`` column holds the entry. Measures, per ``scenario x trajectory x ar_sd x prep``, with
Wilson 95% intervals:

* ``null_rate`` - significant absent cross-lagged edges / tested absent
  cross-lagged edges, pooled (``edge = "all"``) and per edge: 6 per cohort in
  the ``"null"`` scenario (the calibration target), 3 per cohort in
  ``"paper"`` (false positives next to true effects);
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
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from causal import Hypothesis, PanelPCMCI, evaluate, load_hypotheses
from experiments.harness.cohorts import true_values
from experiments.harness.config import CohortSettings, choices, integer, numbers, probability
from experiments.harness.outputs import format_rows, rate_row, save_figure
from experiments.harness.study import RunOptions, Study, StudyResult, cohort_result
from experiments.recovery import ordering_reproduced
from features.checks import spawn_seeds
from features.choices import PREPS, TRAJECTORIES
from features.diagnostics import diagnose_trends
from features.panel import Panel
from features.scenarios import get_scenario
from features.simulate import simulate_cohort

__all__ = [
    "COHORT_COLUMNS",
    "CONFIG_KEYS",
    "STUDY",
    "SUMMARY_COLUMNS",
    "VARIANTS",
    "TrajectoriesConfig",
    "TrajectoryTask",
    "analyse_cohort",
    "fit_options",
    "main",
    "run_trajectories",
    "summarize_trajectories",
]

logger = logging.getLogger(__name__)

NAME = "trajectories"

#: Columns of ``trajectories_cohorts.csv`` (one row per cross-lagged test).
COHORT_COLUMNS = ("scenario", "trajectory", "ar_sd", "prep", "cohort", "seed", "source",
                  "target", "truth", "value", "effect", "p_value", "significant", "ordering",
                  "df_loss", "flagged_share", "misfit")

#: Columns of ``trajectories.csv``.
SUMMARY_COLUMNS = ("scenario", "trajectory", "ar_sd", "prep", "measure", "edge", "truth", "k",
                   "n", "rate", "ci_low", "ci_high", "mean_value", "sd_value", "mean_effect")

_SCENARIOS = ("null", "paper")
#: Options a ``preps`` entry may add to its trend model: ``"detrend+notime"`` fits
#: without time effects (``PanelPCMCI(time_effects=False)``, the per-patient transform
#: alone), ``"detrend+debias"`` with tests centred on their short-panel bias.
VARIANT_FLAGS = {"notime": ("time_effects", False), "debias": ("debias", True)}
#: Every ``preps`` entry the study accepts: a trend model, optionally with flags in order.
VARIANTS = tuple(f"{p}{suffix}" for p in PREPS
                 for suffix in ("", "+notime", "+debias", "+notime+debias"))


def fit_options(variant: str) -> dict[str, Any]:
    """PanelPCMCI settings of a ``preps`` entry.

    >>> fit_options("spline+notime+debias")
    {'prep': 'spline', 'time_effects': False, 'debias': True}
    """
    prep, *flags = variant.split("+")
    return {"prep": prep, **dict(VARIANT_FLAGS[f] for f in flags)}


@dataclass(frozen=True)
class TrajectoriesConfig(CohortSettings):
    """The keys of ``configs/trajectories.toml`` but ``seed``, with their full-run defaults."""

    n_cohorts: int = integer(100, minimum=1)
    n_weeks: int = integer(13, minimum=8)
    missing: float = probability(0.05, zero_ok=True)
    trajectories: tuple[str, ...] = choices(TRAJECTORIES, TRAJECTORIES)
    ar_sds: tuple[float, ...] = numbers((0.0, 0.15), low=0, high=1, low_ok=True)
    preps: tuple[str, ...] = choices(("detrend", "spline", "changepoint", "piecewise",
                                      "difference"), VARIANTS)
    scenarios: tuple[str, ...] = choices(_SCENARIOS, _SCENARIOS)
    alpha: float = probability(0.05)
    hypotheses: str = "melsom2023"
    diagnostics: int = integer(0, minimum=0)


#: Keys of ``configs/trajectories.toml``.
CONFIG_KEYS = TrajectoriesConfig.keys()


@dataclass(frozen=True)
class TrajectoryTask:
    """One simulated cohort of one cell (scenario x trajectory x AR spread)."""

    config: TrajectoriesConfig
    cohort: int
    seed: int
    scenario: str
    trajectory: str
    ar_sd: float


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


def analyse_cohort(task: TrajectoryTask) -> pd.DataFrame:
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
        options = fit_options(prep)
        model = PanelPCMCI(**options, alpha=c.alpha, random_state=task.seed).fit(df)
        flagged, misfit = np.nan, np.nan
        if task.cohort < c.diagnostics and task.scenario == "null" and prep == c.preps[0]:
            with _quiet("features.diagnostics"):
                diag = diagnose_trends(Panel.from_frame(df, tau_max=1), options["prep"])
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


def _describe(config: TrajectoriesConfig, seed: int, summary: pd.DataFrame
              ) -> tuple[str, ...]:
    def first(rows: pd.DataFrame) -> float:
        return rows["rate"].iloc[0] if len(rows) else np.nan

    cells = []
    for (traj, sd, prep), part in summary.groupby(["trajectory", "ar_sd", "prep"], sort=False):
        null = part[(part["measure"] == "null_rate") & (part["edge"] == "all")
                    & (part["scenario"] == "null")]
        power = part[part["measure"] == "power"]
        cells.append({
            "trajectory": traj, "ar_sd": sd, "prep": prep,
            "null": (f"{first(null):.3f} [{null['ci_low'].iloc[0]:.3f}, "
                     f"{null['ci_high'].iloc[0]:.3f}]" if len(null) else "-"),
            "power": power["rate"].min() if len(power) else np.nan,
            "weak": first(power[np.isclose(power["truth"], 0.08)]),
            "ordering": first(part[part["measure"] == "ordering"]),
            "warned": first(part[part["measure"] == "misfit_warning"])})
    c = config
    return (f"Trajectory study: {c.n_cohorts} cohorts per cell of {c.n_patients} x "
            f"{c.n_weeks}, {c.missing:.0%} missing, alpha {c.alpha:g}, seed {seed}",
            f"  {'trajectory':<10} {'ar_sd':>5} {'prep':<22} {'null rate [95% CI]':<22} "
            f"{'min power':>9} {'+0.08':>6} {'ordering':>8} {'warned':>6}",
            *format_rows(pd.DataFrame(cells), "  {trajectory:<10} {ar_sd:>5g} {prep:<22} "
                         "{null:<22} {power:>9.2f} {weak:>6.2f} {ordering:>8.2f} {warned:>6.2f}"))


def _compute(config: TrajectoriesConfig, seed: int, options: RunOptions) -> StudyResult:
    """Simulate and fit every cohort of every cell once per trend model, then summarize."""
    seeds = spawn_seeds(seed, config.n_cohorts, stream=(0,))
    tasks = [TrajectoryTask(config, i, s, scen, traj, sd)
             for scen in config.scenarios for traj in config.trajectories
             for sd in config.ar_sds for i, s in enumerate(seeds)]
    tables = options.map(analyse_cohort, tasks)
    return cohort_result(NAME, config, seed, pd.concat(tables, ignore_index=True),
                         summarize_trajectories, _describe)


def _plot(summary: pd.DataFrame, path: Path, alpha: float) -> list[Path]:
    part = summary[(summary["measure"] == "null_rate") & (summary["edge"] == "all")
                   & (summary["scenario"] == "null")]
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


def _figures(result: StudyResult, out: Path) -> list[Path]:
    return _plot(result.summary, out / NAME, result.config.alpha)


#: The study: ``STUDY.run(config, seed, n_jobs=...)`` and ``STUDY.main(argv)``.
STUDY = Study(NAME, __doc__, TrajectoriesConfig, _compute, _figures)
run_trajectories, main = STUDY.run, STUDY.main


if __name__ == "__main__":  # pragma: no cover
    STUDY.run_script()
