"""The pooling pitfall: raw pooled scores versus within-person preprocessing.

Pooling the raw weekly scores of many patients mixes stable between-patient
differences and individual treatment trends into the lagged associations
(Hamaker, Kuiper & Grasman 2015; Curran & Bauer 2011). This study measures
how much that matters for PCMCI on the Melsom et al. (2023) design.

For each scenario of :mod:`features.simulate` (``null``: no cross-lagged
effects; ``paper``: the three reported ones) it simulates ``n_cohorts``
seeded cohorts and analyses every cohort with each *arm*
(:data:`ARMS`): :class:`~causal.discovery.estimator.PanelPCMCI` with ``prep`` none,
center or detrend, and center / detrend without the degrees-of-freedom
correction (``within_df=False``); every other setting is the default. All
arms see the same cohorts (a paired comparison).

Outputs (``--out``, default ``results/pooling``):

* ``pooling.csv`` - one row per scenario x arm x measure x edge
  (:data:`POOLING_COLUMNS`). Measures: ``false_positive`` (an absent
  cross-lagged edge is significant, any sign), ``familywise`` (a cohort has
  at least one such edge), ``detected`` (a true edge is significant with the
  correct sign), ``wrong_sign`` (a true edge is significant with the opposite
  sign) and ``all_detected`` (a cohort finds every true edge with the correct
  sign); ``edge="all"`` pools the edges, ``"any"``/``"all"`` for the cohort
  measures. Rates carry Wilson 95% intervals; per-edge rows also carry the
  mean and SD of the estimated partial correlation over cohorts.
* ``pooling_cohorts.csv`` - every cross-lagged test of every cohort and arm.
* ``pooling.png`` - grouped bar chart of the rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causal import PanelPCMCI
from experiments.harness.cohorts import CohortTask, cohort_table, cohort_tasks
from experiments.harness.config import CohortSettings, choices, probability
from experiments.harness.outputs import format_rows, rate_row, save_figure, scenario_rate_panels
from experiments.harness.study import RunOptions, Study, StudyResult, cohort_result, summary_figure
from features.panel import Panel
from features.scenarios import SCENARIO_NAMES, get_scenario
from features.simulate import simulate_cohort

__all__ = [
    "ARMS",
    "COHORT_COLUMNS",
    "CONFIG_KEYS",
    "POOLING_COLUMNS",
    "STUDY",
    "PoolingConfig",
    "analyse_cohort",
    "main",
    "plot_pooling",
    "run_pooling",
    "summarize_pooling",
]

NAME = "pooling"

#: Arms: label -> PanelPCMCI settings that differ from the defaults. The study is about the
#: per-patient transforms, so no arm removes time effects (the two-way transform of issue 8
#: is studied in experiments/trajectories.py).
ARMS: dict[str, dict[str, Any]] = {
    "none": {"prep": "none", "time_effects": False},
    "center": {"prep": "center", "time_effects": False},
    "center_no_df": {"prep": "center", "within_df": False, "time_effects": False},
    "detrend": {"prep": "detrend", "time_effects": False},
    "detrend_no_df": {"prep": "detrend", "within_df": False, "time_effects": False},
}

#: Columns of ``pooling.csv``.
POOLING_COLUMNS = ("scenario", "arm", "prep", "within_df", "measure", "edge", "true_value", "k",
                   "n", "rate", "ci_low", "ci_high", "mean_value", "sd_value")

#: Columns of ``pooling_cohorts.csv``.
COHORT_COLUMNS = ("scenario", "cohort", "seed", "arm", "source", "target", "lag", "true_value",
                  "value", "p_value", "significant", "ci_low", "ci_high", "df_loss")


# ------------------------------------------------------------------- config
@dataclass(frozen=True)
class PoolingConfig(CohortSettings):
    """The keys of ``configs/pooling.toml`` but ``seed``, with their full-run defaults."""

    alpha: float = probability(0.05)
    scenarios: tuple[str, ...] = choices(("null", "paper"), SCENARIO_NAMES)
    arms: tuple[str, ...] = choices(tuple(ARMS), tuple(ARMS))


#: Keys of ``configs/pooling.toml``.
CONFIG_KEYS = PoolingConfig.keys()


# ------------------------------------------------------------- one cohort
def analyse_cohort(task: CohortTask) -> pd.DataFrame:
    """Simulate one cohort of ``task.scenario``; one row per arm and cross-lagged test.

    The columns are :data:`COHORT_COLUMNS`; every arm analyses the same cohort.
    """
    cfg: PoolingConfig = task.config
    scenario = get_scenario(task.scenario)
    df = simulate_cohort(scenario, cfg.n_patients, cfg.n_weeks, missing=cfg.missing,
                         dropout=cfg.dropout, random_state=task.seed)
    panel = Panel.from_frame(df, variables=list(scenario.variables), tau_max=None)
    frames = []
    for arm in cfg.arms:
        model = PanelPCMCI(alpha=cfg.alpha, random_state=task.seed, **ARMS[arm]).fit(panel)
        frames.append(model.links_.cross_lagged().assign(arm=arm, df_loss=int(model.df_loss_)))
    return cohort_table(frames, task, scenario, COHORT_COLUMNS)


# ---------------------------------------------------------------- summary
def _row(scenario: str, arm: str, measure: str, edge: str, k: int, n: int,
         true_value: float = np.nan, values: pd.Series | None = None) -> dict[str, Any]:
    settings = PanelPCMCI(**ARMS[arm]).get_params()
    return {"scenario": scenario, "arm": arm, "prep": settings["prep"],
            "within_df": bool(settings["within_df"]) and settings["prep"] != "none",
            "measure": measure, "edge": edge, "true_value": true_value,
            **rate_row(k, n, values)}


def summarize_pooling(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Turn per-cohort tests into rates with Wilson intervals.

    ``cohorts`` holds the tests of :func:`analyse_cohort` (:data:`COHORT_COLUMNS`);
    the rates come in the columns :data:`POOLING_COLUMNS` (see the module docstring).
    """
    rows: list[dict[str, Any]] = []
    for (scenario, arm), part in cohorts.groupby(["scenario", "arm"], sort=False):
        part = part.assign(edge=part["source"] + " -> " + part["target"],
                           sign_ok=np.sign(part["value"]) == np.sign(part["true_value"]))
        absent, present = part[part["true_value"] == 0], part[part["true_value"] != 0]
        n_cohorts = part["cohort"].nunique()
        for edge, e in absent.groupby("edge", sort=False):
            rows.append(_row(scenario, arm, "false_positive", edge, e["significant"].sum(),
                             len(e), 0.0, e["value"]))
        if not absent.empty:
            rows.append(_row(scenario, arm, "false_positive", "all", absent["significant"].sum(),
                             len(absent)))
            any_fp = absent.groupby("cohort")["significant"].any()
            rows.append(_row(scenario, arm, "familywise", "any", any_fp.sum(), n_cohorts))
        hit = present["significant"] & present["sign_ok"]
        wrong = present["significant"] & ~present["sign_ok"]
        for edge, e in present.groupby("edge", sort=False):
            rows.append(_row(scenario, arm, "detected", edge, hit[e.index].sum(), len(e),
                             float(e["true_value"].iloc[0]), e["value"]))
        if not present.empty:
            rows.append(_row(scenario, arm, "detected", "all", hit.sum(), len(present)))
            rows.append(_row(scenario, arm, "wrong_sign", "all", wrong.sum(), len(present)))
            every = hit.groupby(present["cohort"]).all()
            rows.append(_row(scenario, arm, "all_detected", "all", every.sum(), n_cohorts))
    return pd.DataFrame(rows, columns=list(POOLING_COLUMNS))


def _describe(config: PoolingConfig, seed: int, summary: pd.DataFrame) -> tuple[str, ...]:
    keep = summary[(summary["edge"].isin(["all", "any"])) | (summary["measure"] == "detected")]
    return (f"Pooling study: {config.n_cohorts} cohorts of {config.n_patients} x "
            f"{config.n_weeks} per scenario, alpha {config.alpha}, seed {seed}",
            *format_rows(keep, "  {scenario:<8} {arm:<14} {measure:<15} {edge:<30} "
                               "{rate:.3f} [{ci_low:.3f}, {ci_high:.3f}]"))


def _compute(config: PoolingConfig, seed: int, options: RunOptions) -> StudyResult:
    """Simulate, analyse every cohort with every arm, summarize.

    Cohort ``i`` of scenario ``s`` uses
    ``spawn_seeds(seed, n_cohorts, stream=(SCENARIO_NAMES.index(s),))[i]``.
    """
    tables = options.map(analyse_cohort, cohort_tasks(config, seed, config.scenarios))
    return cohort_result(NAME, config, seed, pd.concat(tables, ignore_index=True),
                         summarize_pooling, _describe)


# ----------------------------------------------------------------- figure
def plot_pooling(summary: pd.DataFrame, path: str | Path, *, alpha: float = 0.05) -> Path:
    """Draw a grouped bar chart of the rates in ``summary``, one panel per scenario.

    Bars per arm: detection of each true edge (correct sign), the pooled
    false-positive rate of the absent edges and the family-wise rate; error
    bars are the Wilson 95% intervals, the dashed line is ``alpha``. Returns
    the written image (format from the suffix of ``path``).
    """
    def series(s: pd.DataFrame) -> dict[str, pd.DataFrame]:
        pick = ((s["measure"] == "detected") & (s["edge"] != "all")) | (
            (s["measure"] == "false_positive") & (s["edge"] == "all")) | (
            s["measure"] == "familywise")
        s = s[pick].assign(series=lambda d: np.where(
            d["measure"] == "detected", "detected: " + d["edge"],
            np.where(d["measure"] == "familywise", "family-wise false positive",
                     "false positive per absent edge")))
        return {name: s[s["series"] == name] for name in pd.unique(s["series"])}

    fig, axes = scenario_rate_panels(
        summary, "arm", series, alpha=alpha, width=(1.0, 0.0, 0.9), height=5.2, rotation=20,
        error_kw={"capsize": 2, "elinewidth": 0.8, "ecolor": "#404040"})
    for ax in axes:
        ax.set_xlabel("within-person preprocessing (arm)")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2,
                  frameon=False)
    return save_figure(fig, path)


# -------------------------------------------------------------------- main
#: The study: ``STUDY.run(config, seed, n_jobs=...)`` and ``STUDY.main(argv)``.
STUDY = Study(NAME, __doc__, PoolingConfig, _compute, summary_figure(plot_pooling), complete=True)
run_pooling, main = STUDY.run, STUDY.main


if __name__ == "__main__":  # pragma: no cover
    STUDY.run_script()
