"""Method comparison: five analyses of the same seeded cohorts.

Every cohort of every scenario (:mod:`features.simulate`: ``paper`` - the
three reported effects; ``null`` - no cross-lagged effect; ``reversed`` -
each effect with cause and effect swapped) is analysed by each method of
:data:`METHODS`:

* ``default`` - :class:`~causal.discovery.estimator.PanelPCMCI` with the package
  defaults (per-patient detrending, df-corrected pooled ParCorr, PCMCI);
* ``raw`` - plain tigramite PCMCI with ParCorr on the raw pooled scores
  (``prep="none"``, no df correction). It runs on the package's pooled engine,
  which computes tigramite's ParCorr exactly (``ci_test="parcorr-tigramite"``
  gives the same numbers, slower);
* ``center`` - person-mean centering only (``prep="center"``, df-corrected);
* ``mixedlm`` - a multilevel cross-lagged regression
  (:func:`mixedlm_cross_lagged`): one :class:`statsmodels.regression.mixed_linear_model.MixedLM`
  per outcome with the raw outcome, a fixed linear effect of time, every
  variable's within-person detrended lag-1 score as predictor and a random
  intercept per patient; an edge is a cross-lagged coefficient with Wald
  ``p < alpha``, signed by the coefficient. It is the closest practical
  analogue of the latent curve model with structured residuals (LCM-SR) of
  Melsom et al. (2023);
* ``pcmciplus`` - the default settings with PCMCI+ (``method="pcmciplus"``);
  only its lagged links are scored.

Measures per scenario and method, over cohorts and cross-lagged edges, with
Wilson 95% intervals: ``tpr`` (a true edge is found with the correct sign),
``fpr`` (an absent edge is found, any sign), ``wrong_sign``, ``familywise``
(a cohort has at least one false edge) and ``ordering`` (a cohort reproduces
the ``melsom2023`` ordering: every claim of
:func:`causal.hypotheses.spec.load_hypotheses` that expects an effect is found with
its sign, and no claim of absence is found; in the ``null`` and ``reversed``
scenarios this ordering is false, so its rate is an error rate), plus the mean
run time per cohort.

Outputs (``--out``, default ``results/methods``): ``methods.csv``
(:data:`METHODS_COLUMNS`), ``methods_cohorts.csv`` (every cross-lagged
edge of every cohort and method, :data:`COHORT_COLUMNS`) and ``methods.png``.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causal import PanelPCMCI, load_hypotheses
from causal.rates import summarize_rate
from experiments.harness.cohorts import CohortTask, cohort_table, cohort_tasks
from experiments.harness.config import Settings, choices, integer, probability
from experiments.harness.outputs import format_rows, save_figure, scenario_rate_panels
from experiments.harness.study import RunOptions, Study, StudyResult, cohort_result, summary_figure
from features.lags import lag_name, lag_table
from features.panel import Panel
from features.scenarios import SCENARIO_NAMES, get_scenario
from features.simulate import simulate_cohort
from features.transforms import prepare

__all__ = [
    "COHORT_COLUMNS",
    "CONFIG_KEYS",
    "MEASURES",
    "METHODS",
    "METHODS_COLUMNS",
    "STUDY",
    "MethodsConfig",
    "analyse_cohort",
    "main",
    "mixedlm_cross_lagged",
    "ordering_reproduced",
    "plot_methods",
    "run_methods",
    "summarize_methods",
]

logger = logging.getLogger(__name__)

NAME = "methods"

#: Methods: label -> PanelPCMCI settings that differ from the defaults (None: MixedLM).
METHODS: dict[str, dict[str, Any] | None] = {
    "default": {},
    "raw": {"prep": "none", "within_df": False},
    "center": {"prep": "center"},
    "mixedlm": None,
    "pcmciplus": {"method": "pcmciplus"},
}

#: Measures of ``methods.csv``.
MEASURES = ("tpr", "fpr", "wrong_sign", "familywise", "ordering")

#: Columns of ``methods.csv``.
METHODS_COLUMNS = ("scenario", "method", "measure", "k", "n", "rate", "ci_low", "ci_high",
                   "seconds_per_cohort", "failed_fits")

#: Columns of ``methods_cohorts.csv``.
COHORT_COLUMNS = ("scenario", "cohort", "seed", "method", "source", "target", "lag", "true_value",
                  "value", "p_value", "significant", "seconds", "failed")


# ------------------------------------------------------------------- config
@dataclass(frozen=True)
class MethodsConfig(Settings):
    """The keys of ``configs/methods.toml`` but ``seed``, with their full-run defaults."""

    n_cohorts: int = integer(200, minimum=1)
    n_patients: int = integer(226, minimum=5)
    n_weeks: int = integer(13, minimum=5)
    alpha: float = probability(0.05)
    scenarios: tuple[str, ...] = choices(("paper", "null", "reversed"), SCENARIO_NAMES)
    methods: tuple[str, ...] = choices(tuple(METHODS), tuple(METHODS))


#: Keys of ``configs/methods.toml``.
CONFIG_KEYS = MethodsConfig.keys()


# ---------------------------------------------------------------- MixedLM
def mixedlm_cross_lagged(panel: Panel, *, alpha: float = 0.05) -> pd.DataFrame:
    """Multilevel cross-lagged regression with detrended lagged predictors.

    For each outcome ``k``: ``y_k(t) = b0 + b_t * time + sum_j b_j * d_j(t-1)
    + u_i + e``, where ``y_k`` is the raw score, ``time`` is centered at the
    panel mean, ``d_j`` is variable ``j`` detrended within patient
    (:func:`features.transforms.detrend`, hence also centered) and lagged with
    :func:`features.lags.lag_table` (gaps respected), and ``u_i`` is a random
    intercept per patient; fitted by REML with
    :class:`statsmodels.regression.mixed_linear_model.MixedLM`.

    Parameters
    ----------
    panel : Panel
        Raw (unprepared) panel.
    alpha : float
        Level of the two-sided Wald test of each coefficient.

    Returns
    -------
    pandas.DataFrame
        One row per lag-1 link (autoregressive included): ``source``,
        ``target``, ``lag``, ``value`` (coefficient, raw units), ``p_value``,
        ``significant`` and ``failed`` (the fit raised or did not converge;
        then ``significant`` is False).
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    variables = list(panel.variables)
    lagged = lag_table(prepare(panel, "detrend"), 1)
    predictors = [lag_name(v, 1) for v in variables]
    data = lagged[[panel.id_col, panel.time_col, *predictors]].copy()
    time_values = data[panel.time_col].astype(float)
    data["_time"] = time_values - time_values.mean()
    rows = []
    for target in variables:
        frame = data.assign(_y=panel.data.loc[data.index, target]).dropna()
        exog = sm.add_constant(frame[["_time", *predictors]], has_constant="add")
        failed = False
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fit = sm.MixedLM(frame["_y"], exog, groups=frame[panel.id_col]).fit(reml=True)
                params, pvalues = fit.params, fit.pvalues
                failed = not bool(fit.converged)
            except (np.linalg.LinAlgError, ValueError) as exc:
                logger.warning("MixedLM for %r failed: %s", target, exc)
                params = pvalues = pd.Series(np.nan, index=predictors)
                failed = True
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            failed = True
        for source, name in zip(variables, predictors, strict=True):
            p = float(pvalues[name])
            rows.append({"source": source, "target": target, "lag": 1,
                         "value": float(params[name]), "p_value": p,
                         "significant": bool(not failed and p < alpha), "failed": failed})
    return pd.DataFrame(rows)


# ------------------------------------------------------------- one cohort
def _fit(method: str, panel: Panel, alpha: float) -> pd.DataFrame:
    """Lagged links of ``panel`` under ``method`` (columns of :func:`mixedlm_cross_lagged`)."""
    settings = METHODS[method]
    if settings is None:
        return mixedlm_cross_lagged(panel, alpha=alpha)
    return PanelPCMCI(alpha=alpha, **settings).fit(panel).links_.table.assign(failed=False)


def analyse_cohort(task: CohortTask) -> pd.DataFrame:
    """Simulate one cohort and return its cross-lagged edges under every method.

    One row per method and cross-lagged link, with the columns
    :data:`COHORT_COLUMNS` (``seconds``: the method's run time on this cohort).
    """
    cfg: MethodsConfig = task.config
    scenario = get_scenario(task.scenario)
    df = simulate_cohort(scenario, cfg.n_patients, cfg.n_weeks, random_state=task.seed)
    panel = Panel.from_frame(df, variables=list(scenario.variables), tau_max=None)
    frames = []
    for method in cfg.methods:
        start = time.perf_counter()
        table = _fit(method, panel, cfg.alpha)
        seconds = time.perf_counter() - start
        cross = table[(table["source"] != table["target"]) & (table["lag"] > 0)]
        frames.append(cross[["source", "target", "lag", "value", "p_value", "significant",
                             "failed"]].assign(method=method, seconds=seconds))
    out = cohort_table(frames, task, scenario, COHORT_COLUMNS)
    return out.astype({"significant": bool, "failed": bool})


# ---------------------------------------------------------------- summary
def ordering_reproduced(edges: pd.DataFrame, preset: str = "melsom2023") -> bool:
    """Whether one cohort's edges reproduce a hypothesis preset's ordering.

    Every claim expecting ``positive`` / ``negative`` / ``present`` must be a
    significant edge with that sign; no claim expecting ``absent`` may be a
    significant edge. A claimed link missing from ``edges`` counts as not found.

    Parameters
    ----------
    edges : pandas.DataFrame
        Columns ``source``, ``target``, ``lag``, ``value``, ``significant``.
    preset : str
        Name or path for :func:`causal.hypotheses.spec.load_hypotheses`.

    Examples
    --------
    >>> edges = pd.DataFrame({
    ...     "source": ["fear_others", "depression", "depression"],
    ...     "target": ["depression", "fear_others", "self_compassion"],
    ...     "lag": [1, 1, 1], "value": [0.1, 0.08, -0.1], "significant": [True] * 3})
    >>> ordering_reproduced(edges)
    True
    >>> ordering_reproduced(edges.assign(value=[0.1, 0.08, 0.1]))
    False
    """
    found = {(r.source, r.target, int(r.lag)): float(r.value)
             for r in edges.itertuples(index=False) if r.significant}
    for claim in load_hypotheses(preset):
        value = found.get((claim.cause, claim.effect, int(claim.lag)))
        if claim.expected == "absent":
            if value is not None:
                return False
        elif value is None or (claim.expected == "positive" and not value > 0) or \
                (claim.expected == "negative" and not value < 0):
            return False
    return True


def summarize_methods(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Turn per-cohort edges into rates with Wilson intervals and mean run times.

    ``cohorts`` is the cohort table (:data:`COHORT_COLUMNS`); the result has the
    columns :data:`METHODS_COLUMNS`, without a measure that has no trials (``tpr``
    in the ``null`` scenario).
    """
    rows = []
    for (scenario, method), part in cohorts.groupby(["scenario", "method"], sort=False):
        present = part[part["true_value"] != 0]
        absent = part[part["true_value"] == 0]
        right = np.sign(present["value"]) == np.sign(present["true_value"])
        per_cohort = part.groupby("cohort", sort=False)
        counts = {
            "tpr": ((present["significant"] & right).sum(), len(present)),
            "fpr": (absent["significant"].sum(), len(absent)),
            "wrong_sign": ((present["significant"] & ~right).sum(), len(present)),
            "familywise": (absent.groupby("cohort")["significant"].any().sum(),
                           absent["cohort"].nunique()),
            "ordering": (sum(ordering_reproduced(c) for _, c in per_cohort), part["cohort"]
                         .nunique()),
        }
        seconds = float(per_cohort["seconds"].first().mean())
        failed = int(per_cohort["failed"].any().sum())
        for measure in MEASURES:
            k, n = counts[measure]
            if n == 0:
                continue
            rows.append({"scenario": scenario, "method": method, "measure": measure,
                         **summarize_rate(int(k), int(n)).as_dict(),
                         "seconds_per_cohort": seconds, "failed_fits": failed})
    return pd.DataFrame(rows, columns=list(METHODS_COLUMNS))


def _describe(config: MethodsConfig, seed: int, summary: pd.DataFrame) -> tuple[str, ...]:
    return (f"Method comparison: {config.n_cohorts} cohorts of {config.n_patients} x "
            f"{config.n_weeks} per scenario, alpha {config.alpha}, seed {seed}",
            *format_rows(summary, "  {scenario:<9} {method:<10} {measure:<11} {rate:.3f} "
                                  "[{ci_low:.3f}, {ci_high:.3f}]  "
                                  "{seconds_per_cohort:.3f} s/cohort"))


def _compute(config: MethodsConfig, seed: int, options: RunOptions) -> StudyResult:
    """Simulate, analyse every cohort with every method, summarize.

    Cohort ``i`` of scenario ``s`` uses
    ``spawn_seeds(seed, n_cohorts, stream=(SCENARIO_NAMES.index(s),))[i]``;
    results (except run times) do not depend on the run options.
    """
    tables = options.map(analyse_cohort, cohort_tasks(config, seed, config.scenarios))
    return cohort_result(NAME, config, seed, pd.concat(tables, ignore_index=True),
                         summarize_methods, _describe)


# ----------------------------------------------------------------- figure
def plot_methods(summary: pd.DataFrame, path: str | Path, *, alpha: float = 0.05) -> Path:
    """Draw TPR, FPR and ordering rate per method, one panel per scenario.

    Error bars are the Wilson 95% intervals; the dashed line is ``alpha``.
    Returns the written image (format from the suffix of ``path``).
    """
    measures = {"tpr": "true edge found (correct sign)", "fpr": "false edge per absent edge",
                "ordering": "melsom2023 ordering reproduced"}
    fig, axes = scenario_rate_panels(
        summary, "method", lambda s: {label: s[s["measure"] == m] for m, label in measures.items()},
        alpha=alpha, width=(1.5, 3.6, 0.0), height=4.6, rotation=25, top=1.02,
        error_kw={"capsize": 2, "elinewidth": 0.8})
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, frameon=False)
    return save_figure(fig, path)


# -------------------------------------------------------------------- main
#: The study: ``STUDY.run(config, seed, n_jobs=...)`` and ``STUDY.main(argv)``.
STUDY = Study(NAME, __doc__, MethodsConfig, _compute, summary_figure(plot_methods), complete=True)
run_methods, main = STUDY.run, STUDY.main


if __name__ == "__main__":  # pragma: no cover
    STUDY.run_script()
