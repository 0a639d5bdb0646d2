"""Comparative claims and who leads: error rates, power and coverage on simulated cohorts.

Checks the targets of the comparative-claims work (``docs/hypotheses.md``,
"Measured error rates and power") on the Melsom et al. (2023) design. Each
*case* (:data:`CASES`) is the ``paper`` scenario with the two compared effects
``fear_others -> depression`` and ``depression -> fear_others`` set as shown
(``null``: no lagged cross effect at all). Every cohort is analysed as
``therapy-pcmci discover`` does by default: :class:`~causal.discovery.estimator.PanelPCMCI`,
then :func:`causal.hypotheses.comparisons.model_effects` (on ``Links.effect``
when the links carry it, else the labelled stand-in) with ``n_boot`` patient
bootstrap replicates, :func:`~causal.hypotheses.comparisons.compare` on the
``melsom2023`` comparison ``fear_leads_depression`` and
:func:`~causal.graph.summary.leading_order`.

Outputs (``--out``, default ``results/comparisons``):

* ``comparisons.csv`` - per case and measure (:data:`SUMMARY_COLUMNS`):
  ``supported``, ``contradicted``, ``covered`` (the interval contains the true
  difference) and ``order_stated`` (who leads states at least one ``>``), rates
  with Wilson 95% intervals; ``mean_value``/``sd_value`` of the estimated
  difference over cohorts.
* ``comparisons_cohorts.csv`` - one row per cohort (:data:`COHORT_COLUMNS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from causal import PanelPCMCI
from causal.graph.summary import leading_order
from causal.hypotheses.comparisons import compare, model_effects
from causal.hypotheses.spec import load_comparisons
from experiments.harness.cohorts import CohortTask
from experiments.harness.config import Settings, choices, integer, probability
from experiments.harness.outputs import format_rows, rate_row
from experiments.harness.study import RunOptions, Study, StudyResult, cohort_result
from features.checks import spawn_seeds
from features.panel import Panel
from features.scenarios import Scenario, get_scenario
from features.simulate import simulate_cohort

__all__ = ["CASES", "COHORT_COLUMNS", "STUDY", "SUMMARY_COLUMNS", "ComparisonsConfig",
           "analyse_cohort", "case_scenario", "main", "run_comparisons",
           "summarize_comparisons"]

NAME = "comparisons"

#: Case -> (fear_others -> depression, depression -> fear_others); None: the null scenario.
CASES: dict[str, tuple[float, float] | None] = {
    "clear": (0.20, 0.04), "swapped": (0.08, 0.12), "paper": (0.12, 0.08),
    "equal": (0.10, 0.10), "null": None,
}
#: Columns of ``comparisons_cohorts.csv``.
COHORT_COLUMNS = ("case", "cohort", "seed", "true_difference", "difference", "ci_low",
                  "ci_high", "verdict", "order", "order_stated", "effects")
#: Columns of ``comparisons.csv``.
SUMMARY_COLUMNS = ("case", "true_difference", "measure", "k", "n", "rate", "ci_low", "ci_high",
                   "mean_value", "sd_value")


@dataclass(frozen=True)
class ComparisonsConfig(Settings):
    """The keys of ``configs/comparisons.toml`` but ``seed``, with their full-run defaults."""

    n_cohorts: int = integer(200, minimum=1)
    n_patients: int = integer(226, minimum=10)
    n_weeks: int = integer(13, minimum=6)
    missing: float = probability(0.05, zero_ok=True)
    n_boot: int = integer(500, minimum=20)
    cases: tuple[str, ...] = choices(tuple(CASES), tuple(CASES))


def case_scenario(case: str) -> Scenario:
    """Return the simulated truth of ``case`` (see :data:`CASES`).

    >>> case_scenario("clear").truth().query("coefficient != 0")["coefficient"].tolist()
    [-0.13, 0.04, 0.2]
    """
    effects = CASES[case]
    if effects is None:
        return get_scenario("null")
    return get_scenario("paper").with_cross(
        [("fear_others", "depression", effects[0]), ("depression", "fear_others", effects[1]),
         ("depression", "self_compassion", -0.13)], name=case)


def _true_difference(scenario: Scenario) -> float:
    a, index = scenario.transition_matrix(), {v: i for i, v in enumerate(scenario.variables)}
    return (abs(a[index["depression"], index["fear_others"]])
            - abs(a[index["fear_others"], index["depression"]]))


def analyse_cohort(task: CohortTask) -> pd.DataFrame:
    """Simulate one cohort of ``task.scenario`` and judge it as ``discover`` does (one row)."""
    cfg: ComparisonsConfig = task.config
    scenario = case_scenario(task.scenario)
    df = simulate_cohort(scenario, cfg.n_patients, cfg.n_weeks, missing=cfg.missing,
                         random_state=task.seed)
    panel = Panel.from_frame(df, variables=list(scenario.variables), tau_max=None)
    model = PanelPCMCI(random_state=task.cohort).fit(panel)
    draws = model_effects(model, panel, n_boot=cfg.n_boot, random_state=task.cohort)
    result = compare(load_comparisons("melsom2023"), draws, alpha=model.alpha).results[0]
    lead = leading_order(draws.table(), draws.replicates(), list(panel.variables),
                         alpha=model.alpha)
    truth = _true_difference(scenario)
    row: dict[str, Any] = {
        "case": task.scenario, "cohort": task.cohort, "seed": task.seed,
        "true_difference": truth, "difference": result.difference, "ci_low": result.ci_low,
        "ci_high": result.ci_high, "verdict": result.verdict, "order": " ".join(lead.order),
        "order_stated": lead.distinguishable,
        "effects": "effect" if "Links.effect" in draws.label else "stand-in"}
    return pd.DataFrame([row], columns=list(COHORT_COLUMNS))


def summarize_comparisons(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Rates with Wilson intervals per case (columns :data:`SUMMARY_COLUMNS`)."""
    rows = []
    for case, part in cohorts.groupby("case", sort=False):
        truth = float(part["true_difference"].iloc[0])
        covered = (part["ci_low"] <= truth) & (truth <= part["ci_high"])
        for measure, hits in (("supported", part["verdict"] == "supported"),
                              ("contradicted", part["verdict"] == "contradicted"),
                              ("covered", covered), ("order_stated", part["order_stated"])):
            rows.append({"case": case, "true_difference": truth, "measure": measure,
                         **rate_row(int(hits.sum()), len(part), part["difference"])})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def _describe(config: ComparisonsConfig, seed: int, summary: pd.DataFrame) -> tuple[str, ...]:
    return (f"Comparisons study: {config.n_cohorts} cohorts of {config.n_patients} x "
            f"{config.n_weeks} per case, {config.missing:.0%} missing, {config.n_boot} "
            f"bootstrap replicates, seed {seed}",
            *format_rows(summary, "  {case:<8} {measure:<13} {rate:.3f} [{ci_low:.3f}, "
                                  "{ci_high:.3f}] ({k}/{n})"))


def _compute(config: ComparisonsConfig, seed: int, options: RunOptions) -> StudyResult:
    """Cohort ``i`` of case ``c`` uses ``spawn_seeds(seed, n, stream=(90 + index of c,))[i]``."""
    tasks = [CohortTask(config, i, s, case) for case in config.cases
             for i, s in enumerate(spawn_seeds(seed, config.n_cohorts,
                                               stream=(90 + list(CASES).index(case),)))]
    tables = options.map(analyse_cohort, tasks)
    return cohort_result(NAME, config, seed, pd.concat(tables, ignore_index=True),
                         summarize_comparisons, _describe)


#: The study: ``STUDY.run(config, seed, n_jobs=...)`` and ``STUDY.main(argv)``.
STUDY = Study(NAME, __doc__, ComparisonsConfig, _compute, complete=True)
run_comparisons, main = STUDY.run, STUDY.main


if __name__ == "__main__":  # pragma: no cover
    STUDY.run_script()
