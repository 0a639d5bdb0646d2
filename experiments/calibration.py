"""Calibration under the null: how often PCMCI invents cross-lagged edges.

Every cohort is simulated from the ``"null"`` scenario of
:mod:`features.simulate` (no cross-lagged effect; AR 0.3, correlated individual
intercepts and slopes, contemporaneous innovation correlation 0.3, realistic
instruments) on the Melsom et al. (2023) design by default (226 patients x 13
weeks). Cohort ``i`` uses ``spawn_seeds(seed, n_cohorts, stream=(0,))[i]``; every
preprocessing choice analyses the same cohorts.

Each cohort is fitted **once per preprocessing** (``prep`` in ``preps``) by
:class:`~causal.discovery.estimator.PanelPCMCI` with its other defaults and no FDR
correction. The decision at every ``alpha`` and FDR choice is then derived
from that fit's MCI p-values, which is exact:

* PCMCI's condition-selection (PC) stage uses ``pc_alpha`` (0.2), not
  ``alpha``, so the MCI p-values do not depend on ``alpha``; tigramite marks
  a link significant when ``p <= alpha``.
* ``fdr = "fdr_bh"`` is the Benjamini-Hochberg adjustment, computed with
  :func:`scipy.stats.false_discovery_control` (``method="bh"``) over the same
  family tigramite's ``PCMCI.get_corrected_pvalues`` uses when
  ``PanelPCMCI(fdr="fdr_bh")`` runs: every tested lagged link, the
  autoregressive ones included (9 links for 3 variables at ``tau_max=1``).
  ``tests/experiments/test_calibration.py`` checks both shortcuts against fresh
  fits.

Measures, per ``prep x fdr x alpha``, with Wilson 95% intervals:

* ``per_edge`` - significant cross-lagged edges / tested cross-lagged edges
  (6 per cohort), also per edge;
* ``familywise`` - cohorts with at least one significant cross-lagged edge.

``exceeds_alpha`` flags rows whose interval lies entirely above ``alpha``.

Outputs (``--out``, default ``results/calibration``): ``calibration.csv``
(:data:`CALIBRATION_COLUMNS`), ``calibration_cohorts.csv`` (every
cross-lagged test of every cohort and prep: estimate, raw and BH-adjusted
p-value), ``calibration.png`` (per-edge rate against nominal alpha) and
``calibration_familywise.png``; both figures come from
:func:`causal.plotting.studies.plot_rate_vs_alpha` and carry the identity line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control

from causal import PanelPCMCI
from causal.plotting import plot_rate_vs_alpha
from experiments.harness.cohorts import CohortTask, cohort_tasks
from experiments.harness.config import CohortSettings, choices, integer, numbers
from experiments.harness.outputs import format_rows, rate_row
from experiments.harness.study import RunOptions, Study, StudyResult, cohort_result
from features.checks import check_choice
from features.simulate import simulate_cohort
from features.transforms import PREPS

__all__ = [
    "CALIBRATION_COLUMNS",
    "COHORT_COLUMNS",
    "CONFIG_KEYS",
    "FDR_METHODS",
    "STUDY",
    "CalibrationConfig",
    "analyse_cohort",
    "decide",
    "main",
    "run_calibration",
    "summarize_calibration",
]

NAME = "calibration"

#: FDR choices: no correction, or Benjamini-Hochberg over the tested lagged links.
FDR_METHODS = ("none", "fdr_bh")

#: Columns of ``calibration.csv``.
CALIBRATION_COLUMNS = ("prep", "fdr", "alpha", "measure", "edge", "k", "n", "rate", "ci_low",
                       "ci_high", "exceeds_alpha", "mean_value", "sd_value")

#: Columns of ``calibration_cohorts.csv``.
COHORT_COLUMNS = ("cohort", "seed", "prep", "source", "target", "lag", "value", "p_value",
                  "q_value", "df_loss")


# ------------------------------------------------------------------- config
@dataclass(frozen=True)
class CalibrationConfig(CohortSettings):
    """The keys of ``configs/calibration.toml`` but ``seed``, with their full-run defaults.

    ``alphas`` is stored sorted and deduplicated.
    """

    n_cohorts: int = integer(500, minimum=1)
    preps: tuple[str, ...] = choices(("none", "center", "detrend"), PREPS)
    fdr: tuple[str, ...] = choices(FDR_METHODS, FDR_METHODS)
    alphas: tuple[float, ...] = numbers((0.01, 0.05, 0.1), low=0, high=1, sort=True)


#: Keys of ``configs/calibration.toml``.
CONFIG_KEYS = CalibrationConfig.keys()


# ------------------------------------------------------------- one cohort
def analyse_cohort(task: CohortTask) -> pd.DataFrame:
    """Simulate one null cohort; return its cross-lagged tests under every prep.

    The columns are :data:`COHORT_COLUMNS`; ``q_value`` is the Benjamini-Hochberg
    adjusted p-value over all tested lagged links of that fit.
    """
    cfg: CalibrationConfig = task.config
    df = simulate_cohort("null", cfg.n_patients, cfg.n_weeks, missing=cfg.missing,
                         dropout=cfg.dropout, random_state=task.seed)
    frames = []
    for prep in cfg.preps:
        model = PanelPCMCI(prep=prep, random_state=task.seed).fit(df)
        table = model.links_.table
        lagged = table[table["lag"] > 0].copy()
        lagged["q_value"] = false_discovery_control(lagged["p_value"].to_numpy(), method="bh")
        cross = lagged[lagged["source"] != lagged["target"]]
        cross = cross[["source", "target", "lag", "value", "p_value", "q_value"]].copy()
        cross.insert(0, "prep", prep)
        cross["df_loss"] = int(model.df_loss_)
        frames.append(cross)
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "seed", task.seed)
    out.insert(0, "cohort", task.cohort)
    return out[list(COHORT_COLUMNS)]


def decide(tests: pd.DataFrame, alpha: float, fdr: str) -> pd.Series:
    """Return which tests are significant at ``alpha`` (tigramite's rule ``p <= alpha``).

    Parameters
    ----------
    tests : pandas.DataFrame
        Columns ``p_value`` and ``q_value`` (rows of the cohort table).
    alpha : float
        Nominal level.
    fdr : {"none", "fdr_bh"}
        Use the raw (``p_value``) or BH-adjusted (``q_value``) p-values.

    Examples
    --------
    >>> t = pd.DataFrame({"p_value": [0.01, 0.04], "q_value": [0.03, 0.08]})
    >>> decide(t, 0.05, "none").tolist(), decide(t, 0.05, "fdr_bh").tolist()
    ([True, True], [True, False])
    """
    check_choice("fdr", fdr, FDR_METHODS)
    column = "p_value" if fdr == "none" else "q_value"
    return tests[column] <= alpha


# ---------------------------------------------------------------- summary
def _row(prep: str, fdr: str, alpha: float, measure: str, edge: str, k: int, n: int,
         values: pd.Series | None = None) -> dict[str, Any]:
    rate = rate_row(k, n, values)
    return {"prep": prep, "fdr": fdr, "alpha": alpha, "measure": measure, "edge": edge,
            **rate, "exceeds_alpha": bool(rate["ci_low"] > alpha)}


def summarize_calibration(cohorts: pd.DataFrame, alphas: Sequence[float],
                          fdr: Sequence[str] = FDR_METHODS) -> pd.DataFrame:
    """Turn the cohort table into spurious-edge rates with Wilson intervals.

    Parameters
    ----------
    cohorts : pandas.DataFrame
        Columns :data:`COHORT_COLUMNS` (the output of :func:`analyse_cohort`).
    alphas : sequence of float
        Nominal levels.
    fdr : sequence of str
        FDR choices from :data:`FDR_METHODS`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CALIBRATION_COLUMNS`; ``edge`` is ``"all"`` (pooled),
        ``"SOURCE -> TARGET"`` (per edge) or ``"any"`` (family-wise).
    """
    rows: list[dict[str, Any]] = []
    edges = cohorts["source"] + " -> " + cohorts["target"]
    for prep, part in cohorts.groupby("prep", sort=False):
        n_cohorts = part["cohort"].nunique()
        for method in fdr:
            for alpha in alphas:
                sig = decide(part, alpha, method)
                rows.append(_row(prep, method, alpha, "per_edge", "all", sig.sum(), len(part)))
                for edge, idx in part.groupby(edges[part.index], sort=False).groups.items():
                    rows.append(_row(prep, method, alpha, "per_edge", edge, sig[idx].sum(),
                                     len(idx), part.loc[idx, "value"]))
                any_sig = sig.groupby(part["cohort"]).any()
                rows.append(_row(prep, method, alpha, "familywise", "any", any_sig.sum(),
                                 n_cohorts))
    return pd.DataFrame(rows, columns=list(CALIBRATION_COLUMNS))


def _describe(config: CalibrationConfig, seed: int, summary: pd.DataFrame) -> tuple[str, ...]:
    s = summary[summary["edge"].isin(["all", "any"])]
    s = s.assign(flag=np.where(s["exceeds_alpha"], "  EXCEEDS alpha", ""))
    return (f"Calibration under the null: {config.n_cohorts} cohorts of {config.n_patients} x "
            f"{config.n_weeks}, seed {seed}",
            *format_rows(s, "  {prep:<8} {fdr:<7} alpha {alpha:<5g} {measure:<10} "
                            "{rate:.3f} [{ci_low:.3f}, {ci_high:.3f}]{flag}"))


def _compute(config: CalibrationConfig, seed: int, options: RunOptions) -> StudyResult:
    """Simulate and fit every null cohort once per prep, then summarize."""
    tables = options.map(analyse_cohort, cohort_tasks(config, seed))
    return cohort_result(NAME, config, seed, pd.concat(tables, ignore_index=True),
                         partial(summarize_calibration, alphas=config.alphas, fdr=config.fdr),
                         _describe)


# -------------------------------------------------------------------- main
def _plot_table(summary: pd.DataFrame, measure: str, n_edges: int) -> pd.DataFrame:
    """Rows to plot: one line per prep x fdr (family-wise: plus the independent-tests line)."""
    part = summary[(summary["measure"] == measure) & summary["edge"].isin(["all", "any"])]
    label = part["prep"] + np.where(part["fdr"] == "none", "", ", BH-FDR")
    table = part.assign(group=label)[["group", "alpha", "rate", "ci_low", "ci_high"]]
    if measure == "familywise":
        alphas = np.unique(part["alpha"].to_numpy(dtype=float))
        reference = pd.DataFrame({"group": f"1-(1-alpha)^{n_edges}: {n_edges} independent tests",
                                  "alpha": alphas, "rate": 1 - (1 - alphas) ** n_edges,
                                  "ci_low": np.nan, "ci_high": np.nan})
        table = pd.concat([table, reference], ignore_index=True)
    return table


def _figures(result: StudyResult, out: Path) -> list[Path]:
    c = result.config
    n_edges = int(result.cohorts.groupby(["cohort", "prep"]).size().max())
    design = f"{c.n_cohorts} null cohorts of {c.n_patients} x {c.n_weeks}"
    paths: list[Path] = []
    for measure, stem, what in (
            ("per_edge", "calibration", "spurious cross-lagged edges per test"),
            ("familywise", "calibration_familywise", "cohorts with >= 1 spurious edge")):
        paths += plot_rate_vs_alpha(_plot_table(result.summary, measure, n_edges),
                                    out / stem, group="group", log=True,
                                    title=f"{what}\n({design}; Wilson 95% bands)",
                                    formats=("png",))
    return paths


#: The study: ``STUDY.run(config, seed, n_jobs=...)`` and ``STUDY.main(argv)``.
STUDY = Study(NAME, __doc__, CalibrationConfig, _compute, _figures)
run_calibration, main = STUDY.run, STUDY.main


if __name__ == "__main__":  # pragma: no cover
    STUDY.run_script()
