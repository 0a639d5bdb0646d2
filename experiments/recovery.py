"""Recovery study: how often PCMCI finds the true lagged mechanisms and the full ordering.

The truth is the Melsom et al. (2023) structure of the ``"paper"`` scenario of
:mod:`features.simulate` (AR 0.3, correlated individual intercepts and
slopes, contemporaneous innovation correlation 0.3, realistic instruments)
with each of its three cross-lagged edges set to ``±effect`` with the paper's
sign: ``fear_others -> depression`` +, ``depression -> fear_others`` + and
``depression -> self_compassion`` -; the other three cross-lagged edges are
absent. Every cohort is analysed by :class:`~causal.discovery.estimator.PanelPCMCI`
with its defaults (detrend, ParCorr, ``tau_max=1``, ``pc_alpha=0.2``) at
``alpha``.

Grid: ``patients x weeks x effects``, ``n_cohorts`` seeded cohorts per cell.
Cohort ``i`` of design ``(P, T)`` uses
``spawn_seeds(seed, n_cohorts, stream=(1000 * P + T,))[i]`` for every effect
size, so effect sizes are compared on the same random draws (common random
numbers) and a cell's cohorts do not depend on which other cells are run.

Per cohort, the six cross-lagged edges are scored against the truth with
:func:`causal.graph.metrics.compare_graphs` (signed: a true edge counts as found only
when significant with the correct sign; autoregressive edges are not scored):

* **TPR** - true edges found / true edges (3 per cohort), pooled over the
  cell's cohorts, with a Wilson 95% interval;
* **FPR** - absent edges significant (any sign) / absent edges (3 per cohort),
  pooled, with a Wilson interval;
* **precision, recall, F1, SHD** - per cohort, then averaged over cohorts
  (precision over the cohorts that found at least one edge; their number is
  ``precision_cohorts``);
* **ordering** - the share of cohorts that reproduce the full ``melsom2023``
  ordering: all three directional claims (``positive``/``negative``)
  *supported* and none of the three ``absent`` claims *contradicted*, under the
  decision rule of :mod:`causal.hypotheses.spec` (an absent claim may stay
  inconclusive).

Outputs (``--out``, default ``results/recovery``): ``recovery.csv`` (one row
per cell, :data:`RECOVERY_COLUMNS`), ``recovery_cohorts.csv`` (one row per
cohort, :data:`COHORT_COLUMNS` plus the estimate and significance of each
cross-lagged edge) and ``recovery.png``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from causal import Hypothesis, PanelPCMCI, compare_graphs, evaluate, load_hypotheses
from causal.rates import summarize_rate
from experiments.harness.config import (
    ConfigError,
    Settings,
    integer,
    integers,
    numbers,
    probability,
)
from experiments.harness.outputs import format_rows, save_figure
from experiments.harness.study import RunOptions, Study, StudyResult, cohort_result, summary_figure
from features.checks import spawn_seeds
from features.scenarios import Scenario, get_scenario
from features.simulate import simulate_cohort

__all__ = [
    "COHORT_COLUMNS",
    "CONFIG_KEYS",
    "RECOVERY_COLUMNS",
    "STUDY",
    "CohortTask",
    "RecoveryConfig",
    "analyse_cohort",
    "main",
    "ordering_reproduced",
    "plot_recovery",
    "recovery_scenario",
    "run_recovery",
    "summarize_recovery",
]

NAME = "recovery"

#: Columns of ``recovery.csv``.
RECOVERY_COLUMNS = ("n_patients", "n_weeks", "effect", "n_cohorts", "tpr", "tpr_low",
                    "tpr_high", "fpr", "fpr_low", "fpr_high", "wrong_sign", "precision",
                    "precision_cohorts", "recall", "f1", "shd", "ordering", "ordering_low",
                    "ordering_high")

#: Leading columns of ``recovery_cohorts.csv``; then ``SOURCE->TARGET:value`` and
#: ``SOURCE->TARGET:significant`` for each cross-lagged edge.
COHORT_COLUMNS = ("n_patients", "n_weeks", "effect", "cohort", "seed", "tp", "fp", "fn", "tn",
                  "wrong_sign", "precision", "recall", "f1", "shd", "ordering", "n_supported",
                  "n_contradicted", "n_inconclusive")


# ------------------------------------------------------------------- config
@dataclass(frozen=True)
class RecoveryConfig(Settings):
    """The keys of ``configs/recovery.toml`` but ``seed``, with their full-run defaults."""

    n_cohorts: int = integer(100, minimum=1)
    patients: tuple[int, ...] = integers((50, 100, 226, 500), minimum=2)
    weeks: tuple[int, ...] = integers((8, 13, 26), minimum=4, maximum=999)
    effects: tuple[float, ...] = numbers((0.05, 0.08, 0.12, 0.2), low=0, high=1, distinct=True)
    alpha: float = probability(0.05)
    missing: float = probability(0.0, zero_ok=True)
    dropout: float = probability(0.0, zero_ok=True, one_ok=True)
    hypotheses: str = "melsom2023"

    def check(self) -> None:
        """Validate every key; ``hypotheses`` must name something, each effect give a scenario."""
        super().check()
        if not isinstance(self.hypotheses, str) or not self.hypotheses:
            raise ConfigError(f"hypotheses must be a preset name or TOML path, got "
                              f"{self.hypotheses!r}")
        for effect in self.effects:
            try:
                recovery_scenario(effect)
            except ValueError as exc:
                raise ConfigError(f"effects: {effect} gives an invalid scenario: {exc}") from exc

    @property
    def n_cells(self) -> int:
        """Number of grid cells."""
        return len(self.patients) * len(self.weeks) * len(self.effects)


#: Keys of ``configs/recovery.toml``.
CONFIG_KEYS = RecoveryConfig.keys()


# ------------------------------------------------------------- one cohort
def recovery_scenario(effect: float) -> Scenario:
    """Return the paper scenario with every cross-lagged effect set to ``±effect``.

    Examples
    --------
    >>> recovery_scenario(0.2).cross  # doctest: +NORMALIZE_WHITESPACE
    (('fear_others', 'depression', 0.2), ('depression', 'fear_others', 0.2),
     ('depression', 'self_compassion', -0.2))
    """
    base = get_scenario("paper")
    cross = [(c, e, math.copysign(float(effect), coef)) for c, e, coef in base.cross]
    return base.with_cross(cross, name=f"paper_effect_{effect:g}")


def ordering_reproduced(verdicts: pd.DataFrame) -> bool:
    """Return whether a verdict table reproduces the full ordering.

    True when every directional claim (``expected`` other than ``"absent"``)
    is ``supported`` and no ``"absent"`` claim is ``contradicted``.

    Examples
    --------
    >>> v = pd.DataFrame({"expected": ["positive", "absent"],
    ...                   "verdict": ["supported", "inconclusive"]})
    >>> ordering_reproduced(v)
    True
    >>> ordering_reproduced(v.assign(verdict=["supported", "contradicted"]))
    False
    """
    directional = verdicts["expected"] != "absent"
    return bool((verdicts.loc[directional, "verdict"] == "supported").all()
                and not (verdicts.loc[~directional, "verdict"] == "contradicted").any())


@lru_cache(maxsize=8)
def _hypotheses(name: str) -> tuple[Hypothesis, ...]:
    return load_hypotheses(name)


@dataclass(frozen=True)
class CohortTask:
    """One simulated cohort of one grid cell."""

    n_patients: int
    n_weeks: int
    effect: float
    cohort: int
    seed: int
    alpha: float = 0.05
    missing: float = 0.0
    dropout: float = 0.0
    hypotheses: str = "melsom2023"


def analyse_cohort(task: CohortTask) -> dict[str, Any]:
    """Simulate one cohort, run PanelPCMCI and score it; returns one row of the cohort table."""
    scenario = recovery_scenario(task.effect)
    df = simulate_cohort(scenario, task.n_patients, task.n_weeks, missing=task.missing,
                         dropout=task.dropout, random_state=task.seed)
    links = PanelPCMCI(alpha=task.alpha, random_state=task.seed).fit(df).links_
    comparison = compare_graphs(links, scenario.truth(), variables=scenario.variables,
                                tau_max=1, signed=True)
    verdicts = evaluate(_hypotheses(task.hypotheses), links).to_frame()
    counts = verdicts["verdict"].value_counts()
    row: dict[str, Any] = {
        "n_patients": task.n_patients, "n_weeks": task.n_weeks, "effect": task.effect,
        "cohort": task.cohort, "seed": task.seed,
        **{k: getattr(comparison, k) for k in ("tp", "fp", "fn", "tn", "wrong_sign",
                                               "precision", "recall", "f1", "shd")},
        "ordering": ordering_reproduced(verdicts),
        **{f"n_{v}": int(counts.get(v, 0)) for v in ("supported", "contradicted",
                                                      "inconclusive")},
    }
    for r in links.cross_lagged().itertuples(index=False):
        row[f"{r.source}->{r.target}:value"] = float(r.value)
        row[f"{r.source}->{r.target}:significant"] = bool(r.significant)
    return row


# ---------------------------------------------------------------- summary
def summarize_recovery(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Aggregate the cohort table into one row per cell (:data:`RECOVERY_COLUMNS`)."""
    rows = []
    for (n_patients, n_weeks, effect), part in cohorts.groupby(
            ["n_patients", "n_weeks", "effect"], sort=True):
        absent_fp = part["fp"] - part["wrong_sign"]
        tpr = summarize_rate(int(part["tp"].sum()), int((part["tp"] + part["fn"]).sum()))
        fpr = summarize_rate(int(absent_fp.sum()), int((absent_fp + part["tn"]).sum()))
        ordering = summarize_rate(int(part["ordering"].sum()), len(part))
        precision = part["precision"].astype(float)
        rows.append({
            "n_patients": int(n_patients), "n_weeks": int(n_weeks), "effect": float(effect),
            "n_cohorts": len(part), "tpr": tpr.rate, "tpr_low": tpr.ci_low,
            "tpr_high": tpr.ci_high, "fpr": fpr.rate, "fpr_low": fpr.ci_low,
            "fpr_high": fpr.ci_high, "wrong_sign": int(part["wrong_sign"].sum()),
            "precision": float(precision.mean()) if precision.notna().any() else np.nan,
            "precision_cohorts": int(precision.notna().sum()),
            "recall": float(part["recall"].mean()), "f1": float(part["f1"].mean()),
            "shd": float(part["shd"].mean()), "ordering": ordering.rate,
            "ordering_low": ordering.ci_low, "ordering_high": ordering.ci_high,
        })
    return pd.DataFrame(rows, columns=list(RECOVERY_COLUMNS))


def _describe(config: RecoveryConfig, seed: int, summary: pd.DataFrame) -> tuple[str, ...]:
    return (f"Recovery study: {config.n_cohorts} cohorts per cell, {config.n_cells} cells, "
            f"alpha {config.alpha}, seed {seed}",
            "  patients weeks effect   TPR    FPR    F1    SHD  ordering",
            *format_rows(summary, "  {n_patients:>8} {n_weeks:>5} {effect:>6.2f} {tpr:6.3f} "
                                  "{fpr:6.3f} {f1:5.2f} {shd:5.2f} {ordering:6.3f}"))


def _compute(config: RecoveryConfig, seed: int, options: RunOptions) -> StudyResult:
    """Simulate and analyse every cohort of every cell, then summarize."""
    _hypotheses(config.hypotheses)  # fail early on a bad preset or path
    tasks = [CohortTask(p, w, e, i, s, config.alpha, config.missing, config.dropout,
                        config.hypotheses)
             for p in config.patients for w in config.weeks
             for i, s in enumerate(spawn_seeds(seed, config.n_cohorts, stream=(1000 * p + w,)))
             for e in config.effects]
    cohorts = pd.DataFrame(options.map(analyse_cohort, tasks)).sort_values(
        ["n_patients", "n_weeks", "effect", "cohort"], kind="stable", ignore_index=True)
    return cohort_result(NAME, config, seed, cohorts, summarize_recovery, _describe)


# ----------------------------------------------------------------- figure
def plot_recovery(summary: pd.DataFrame, path: str | Path, *, alpha: float = 0.05) -> Path:
    """Draw TPR and FPR against patients, one line per effect, one panel per weeks.

    TPR is solid (with its Wilson 95% band), FPR dotted in the same colour; the
    dashed line is ``alpha``. A second row shows the ordering-reproduction
    rate. Returns the written image (format from the suffix of ``path``).
    """
    weeks = sorted(summary["n_weeks"].unique())
    effects = sorted(summary["effect"].unique())
    fig = Figure(figsize=(3.6 * len(weeks) + 1.2, 6.6), layout="constrained")
    axes = fig.subplots(2, len(weeks), squeeze=False, sharex=True, sharey=True)
    colours = [f"C{i}" for i in range(len(effects))]
    for col, w in enumerate(weeks):
        top, bottom = axes[0, col], axes[1, col]
        for effect, colour in zip(effects, colours, strict=True):
            part = summary[(summary["n_weeks"] == w) & (summary["effect"] == effect)]
            part = part.sort_values("n_patients")
            x = part["n_patients"].to_numpy(dtype=float)
            for ax, (y, lo, hi, style, label) in (
                    (top, ("tpr", "tpr_low", "tpr_high", "-", f"TPR, effect {effect:g}")),
                    (top, ("fpr", "fpr_low", "fpr_high", ":", None)),
                    (bottom, ("ordering", "ordering_low", "ordering_high", "-",
                              f"effect {effect:g}"))):
                ax.plot(x, part[y], style, marker="o", markersize=3.5, color=colour,
                        label=label)
                if style == "-":  # bands for TPR and ordering only, to keep FPR readable
                    ax.fill_between(x, part[lo], part[hi], color=colour, alpha=0.15,
                                    linewidth=0)
        top.axhline(alpha, color="black", linestyle="--", linewidth=0.8)
        top.set_title(f"{w} weeks")
        bottom.set_xlabel("patients")
        for ax in (top, bottom):
            ax.set_xscale("log")
            ticks = sorted(summary["n_patients"].unique())
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.minorticks_off()
            ax.set_ylim(-0.02, 1.02)
            ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("TPR (solid), FPR (dotted)")
    axes[1, 0].set_ylabel("full melsom2023 ordering reproduced")
    axes[0, -1].plot([], [], "k:", label="FPR (dotted, same colour)")
    axes[0, -1].plot([], [], "k--", linewidth=0.8, label=f"alpha = {alpha:g}")
    axes[0, -1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    axes[1, -1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle("Recovery, PanelPCMCI defaults (Wilson 95% bands)", fontsize=10)
    return save_figure(fig, path)


# -------------------------------------------------------------------- main
#: The study: ``STUDY.run(config, seed, n_jobs=...)`` and ``STUDY.main(argv)``.
STUDY = Study(NAME, __doc__, RecoveryConfig, _compute, summary_figure(plot_recovery))
run_recovery, main = STUDY.run, STUDY.main


if __name__ == "__main__":  # pragma: no cover
    STUDY.run_script()
