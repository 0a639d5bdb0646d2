"""Calibration under the null: how often PCMCI invents cross-lagged edges.

Every cohort is simulated from the ``"null"`` scenario of
:mod:`features.simulate` (no cross-lagged effect; AR 0.3, correlated individual
intercepts and slopes, contemporaneous innovation correlation 0.3, realistic
instruments) on the Melsom et al. (2023) design by default (226 patients x 13
weeks). Cohort ``i`` uses ``cohort_seeds(seed, n_cohorts)[i]``; every
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

Run ``python -m experiments.calibration --n-jobs 2`` (full) or ``--quick``.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control

from causal import PanelPCMCI
from causal.plotting import plot_rate_vs_alpha
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
    settings_from_mapping,
)
from features.simulate import simulate_cohort
from features.transforms import PREPS

__all__ = [
    "CALIBRATION_COLUMNS",
    "COHORT_COLUMNS",
    "CONFIG_KEYS",
    "FDR_METHODS",
    "CalibrationConfig",
    "CalibrationResult",
    "CohortTask",
    "analyse_cohort",
    "decide",
    "main",
    "run",
    "run_calibration",
    "summarize_calibration",
]

logger = logging.getLogger(__name__)

NAME = "calibration"

#: FDR choices: no correction, or Benjamini-Hochberg over the tested lagged links.
FDR_METHODS = ("none", "fdr_bh")

#: Keys of ``configs/calibration.toml``.
CONFIG_KEYS = ("seed", "n_cohorts", "n_patients", "n_weeks", "missing", "dropout", "preps",
               "fdr", "alphas")

#: Columns of ``calibration.csv``.
CALIBRATION_COLUMNS = ("prep", "fdr", "alpha", "measure", "edge", "k", "n", "rate", "ci_low",
                       "ci_high", "exceeds_alpha", "mean_value", "sd_value")

#: Columns of ``calibration_cohorts.csv``.
COHORT_COLUMNS = ("cohort", "seed", "prep", "source", "target", "lag", "value", "p_value",
                  "q_value", "df_loss")


# ------------------------------------------------------------------- config
@dataclass(frozen=True)
class CalibrationConfig:
    """Settings of the calibration study: the keys of ``configs/calibration.toml`` but ``seed``.

    Raises
    ------
    ConfigError
        Naming the setting and value that are wrong.
    """

    n_cohorts: int = 500
    n_patients: int = 226
    n_weeks: int = 13
    missing: float = 0.0
    dropout: float = 0.0
    preps: tuple[str, ...] = ("none", "center", "detrend")
    fdr: tuple[str, ...] = FDR_METHODS
    alphas: tuple[float, ...] = (0.01, 0.05, 0.1)

    def __post_init__(self) -> None:
        setter = object.__setattr__
        for key, minimum in (("n_cohorts", 1), ("n_patients", 2), ("n_weeks", 4)):
            check_int(key, getattr(self, key), minimum)
        setter(self, "missing", check_prob("missing", self.missing, zero_ok=True, one_ok=False))
        setter(self, "dropout", check_prob("dropout", self.dropout, zero_ok=True, one_ok=True))
        setter(self, "preps", check_names("preps", self.preps, PREPS))
        setter(self, "fdr", check_names("fdr", self.fdr, FDR_METHODS))
        alphas = self.alphas
        if isinstance(alphas, str) or not isinstance(alphas, list | tuple) or not alphas:
            raise ConfigError(f"alphas must be a non-empty list of numbers in (0, 1), got "
                              f"{alphas!r}")
        alphas = tuple(sorted({check_prob("alphas", a, zero_ok=False, one_ok=False)
                               for a in alphas}))
        setter(self, "alphas", alphas)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> CalibrationConfig:
        """Build from a loaded config; missing keys take the defaults, ``seed`` is ignored."""
        return settings_from_mapping(cls, config, CONFIG_KEYS, NAME)


# ------------------------------------------------------------- one cohort
@dataclass(frozen=True)
class CohortTask:
    """One simulated null cohort, analysed with every preprocessing choice."""

    cohort: int
    seed: int
    n_patients: int
    n_weeks: int
    missing: float
    dropout: float
    preps: tuple[str, ...]


def analyse_cohort(task: CohortTask) -> pd.DataFrame:
    """Simulate one null cohort; return its cross-lagged tests under every prep.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COHORT_COLUMNS`; ``q_value`` is the Benjamini-Hochberg
        adjusted p-value over all tested lagged links of that fit.
    """
    df = simulate_cohort("null", task.n_patients, task.n_weeks, missing=task.missing,
                         dropout=task.dropout, random_state=task.seed)
    frames = []
    for prep in task.preps:
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
    if fdr not in FDR_METHODS:
        raise ValueError(f"fdr must be one of {FDR_METHODS}, got {fdr!r}")
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


@dataclass(frozen=True)
class CalibrationResult:
    """Per-cohort tests and their summary."""

    config: CalibrationConfig
    seed: int
    cohorts: pd.DataFrame
    summary: pd.DataFrame

    def __str__(self) -> str:
        c = self.config
        s = self.summary[self.summary["edge"].isin(["all", "any"])]
        lines = [f"Calibration under the null: {c.n_cohorts} cohorts of {c.n_patients} x "
                 f"{c.n_weeks}, seed {self.seed}"]
        for r in s.itertuples(index=False):
            flag = "  EXCEEDS alpha" if r.exceeds_alpha else ""
            lines.append(f"  {r.prep:<8} {r.fdr:<7} alpha {r.alpha:<5g} {r.measure:<10} "
                         f"{r.rate:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]{flag}")
        return "\n".join(lines)


def run_calibration(config: CalibrationConfig | Mapping[str, Any], seed: int, *,
                    n_jobs: int = 1, scheduler: str | None = None,
                    progress: bool | None = None) -> CalibrationResult:
    """Run the study: simulate and fit every null cohort once per prep, then summarize.

    Parameters
    ----------
    config : CalibrationConfig or mapping
        Settings (a mapping is validated by :meth:`CalibrationConfig.from_mapping`).
    seed : int
        Master seed; cohort ``i`` uses ``cohort_seeds(seed, n_cohorts)[i]``.
    n_jobs : int
        Worker processes; results do not depend on it.
    scheduler : str, optional
        Dask scheduler address to run the cohorts on (same results).
    progress : bool or None
        Progress bar on standard error (None: only on a terminal).
    """
    if not isinstance(config, CalibrationConfig):
        config = CalibrationConfig.from_mapping(config)
    tasks = [CohortTask(i, s, config.n_patients, config.n_weeks, config.missing,
                        config.dropout, config.preps)
             for i, s in enumerate(cohort_seeds(seed, config.n_cohorts))]
    start = time.perf_counter()
    cohorts = pd.concat(map_cohorts(analyse_cohort, tasks, n_jobs, scheduler=scheduler,
                                    progress=progress), ignore_index=True)
    logger.info("fitted %d cohorts x %d preps in %.1f s", len(tasks), len(config.preps),
                time.perf_counter() - start)
    result = CalibrationResult(config=config, seed=seed, cohorts=cohorts,
                               summary=summarize_calibration(cohorts, config.alphas,
                                                             config.fdr))
    logger.info("%s", result)
    return result


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


def run(context: RunContext) -> list[Path]:
    """Run the study for :func:`experiments.common.run_experiment` and write the outputs."""
    result, paths = run_study(context, run_calibration)
    c = result.config
    n_edges = int(result.cohorts.groupby(["cohort", "prep"]).size().max())
    design = f"{c.n_cohorts} null cohorts of {c.n_patients} x {c.n_weeks}"
    for measure, stem, what in (
            ("per_edge", "calibration", "spurious cross-lagged edges per test"),
            ("familywise", "calibration_familywise", "cohorts with >= 1 spurious edge")):
        paths += plot_rate_vs_alpha(_plot_table(result.summary, measure, n_edges),
                                    context.out_dir / stem, group="group", log=True,
                                    title=f"{what}\n({design}; Wilson 95% bands)",
                                    formats=("png",))
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m experiments.calibration [--quick] [--n-jobs N] ...``."""
    return run_experiment(NAME, __doc__.splitlines()[0], run, argv, allowed=CONFIG_KEYS,
                          required=("seed",))


if __name__ == "__main__":  # pragma: no cover
    from experiments.calibration import main as _main

    sys.exit(_main())
