from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from causal import PanelPCMCI
from experiments.harness.cohorts import CohortTask
from experiments.methods import (
    METHODS,
    MethodsConfig,
    analyse_cohort,
    mixedlm_cross_lagged,
    ordering_reproduced,
    summarize_methods,
)
from features.panel import Panel
from features.scenarios import get_scenario
from features.simulate import simulate_cohort

PAPER_EDGES = pd.DataFrame({
    "source": ["fear_others", "depression", "depression"],
    "target": ["depression", "fear_others", "self_compassion"],
    "lag": [1, 1, 1], "value": [0.1, 0.08, -0.1], "significant": [True, True, True]})


def test_quick_run_rates_every_method(quick):
    cfg, table, n = quick.cfg, quick.result.summary, quick.cfg["n_cohorts"]
    assert set(table["scenario"]) == set(cfg["scenarios"])
    assert set(table["method"]) == set(cfg["methods"])
    assert np.allclose(table["rate"], table["k"] / table["n"])
    assert ((table["ci_low"] <= table["rate"]) & (table["rate"] <= table["ci_high"])).all()
    assert (table["seconds_per_cohort"] > 0).all()
    key = table.set_index(["scenario", "method", "measure"])["n"]
    for method in cfg["methods"]:
        assert key["paper", method, "tpr"] == 3 * n
        assert key["paper", method, "fpr"] == 3 * n
        assert key["paper", method, "ordering"] == n
        assert key["null", method, "fpr"] == 6 * n
        assert ("null", method, "tpr") not in key.index  # no true edge in the null
    cohorts = quick.result.cohorts
    assert len(cohorts) == len(cfg["scenarios"]) * n * len(cfg["methods"]) * 6
    assert not cohorts["failed"].any()
    assert json.loads((quick.out / "run.json").read_text())["config"]["methods"] == list(METHODS)


def test_raw_pooling_has_more_false_positives_than_detrending(quick):
    table = quick.result.summary
    null = table[(table["scenario"] == "null") & (table["measure"] == "fpr")].set_index("method")
    raw, default = null.loc["raw"], null.loc["default"]
    # Raw pooled scores give about 0.48 spurious edges per test on the null and the
    # default 0.05 (pooling study, 1,200 tests each). Here each rate has n = 6 x
    # n_cohorts tests; require the gap to exceed 2 SE of a difference of proportions.
    se = np.sqrt(raw["rate"] * (1 - raw["rate"]) / raw["n"]
                 + max(default["rate"], 1 / default["n"]) * (1 - default["rate"]) / default["n"])
    assert raw["rate"] - default["rate"] > 2 * se
    assert default["rate"] < 0.25


def test_analyse_cohort_methods_share_the_cohort():
    cfg = MethodsConfig(n_patients=50, n_weeks=10, alpha=0.05,
                        methods=("default", "mixedlm", "pcmciplus"))
    task = CohortTask(cfg, 0, 1234, "paper")
    rows = analyse_cohort(task)
    assert len(rows) == 3 * 6
    assert (rows["lag"] == 1).all() and (rows["source"] != rows["target"]).all()
    truth = {(c, e): coef for c, e, coef in get_scenario("paper").cross}
    for r in rows.itertuples(index=False):
        assert r.true_value == truth.get((r.source, r.target), 0.0)
    # one time per method and cohort
    assert rows.groupby("method")["seconds"].nunique().eq(1).all()


def test_raw_method_equals_tigramite_parcorr():
    df = simulate_cohort("null", n_patients=30, n_weeks=8, random_state=3)
    engine = PanelPCMCI(**METHODS["raw"]).fit(df).links_.table
    tig = PanelPCMCI(ci_test="parcorr-tigramite", **METHODS["raw"]).fit(df).links_.table
    assert np.allclose(engine["value"], tig["value"], atol=1e-8)
    assert np.allclose(engine["p_value"], tig["p_value"], atol=1e-8)


def test_mixedlm_recovers_strong_effects():
    scenario = get_scenario("paper", effect_scale=2.0)
    df = simulate_cohort(scenario, n_patients=226, n_weeks=20, random_state=8)
    panel = Panel.from_frame(df, tau_max=None)
    out = mixedlm_cross_lagged(panel).set_index(["source", "target"])
    assert len(out) == 9 and not out["failed"].any()
    inst = dict(zip(scenario.variables, scenario.instruments, strict=True))
    for cause, effect, coef in scenario.cross:
        row = out.loc[(cause, effect)]
        # effects of 0.16-0.26 SD with ~4,300 lagged rows: z > 5 before small-T bias
        assert row["significant"] and np.sign(row["value"]) == np.sign(coef)
        # raw units: the SD-unit effect times within_sd(effect) / within_sd(cause)
        scale = inst[effect].within_sd / inst[cause].within_sd
        assert abs(row["value"] / scale) < 2 * abs(coef)


def test_ordering_reproduced_rules():
    assert ordering_reproduced(PAPER_EDGES)
    assert not ordering_reproduced(PAPER_EDGES.iloc[:2])  # a claimed effect not found
    wrong_sign = PAPER_EDGES.assign(value=[0.1, -0.08, -0.1])
    assert not ordering_reproduced(wrong_sign)
    extra = pd.concat([PAPER_EDGES, pd.DataFrame({
        "source": ["self_compassion"], "target": ["depression"], "lag": [1], "value": [0.05],
        "significant": [True]})], ignore_index=True)
    assert not ordering_reproduced(extra)  # an absent claim detected
    assert ordering_reproduced(extra.assign(significant=[True, True, True, False]))


def test_summary_counts_by_hand():
    rows = []
    for cohort, sig in enumerate([(True, True, True, False), (True, False, True, True)]):
        for (s, t, coef), flag in zip([("fear_others", "depression", 0.12),
                                       ("depression", "fear_others", 0.08),
                                       ("depression", "self_compassion", -0.13),
                                       ("self_compassion", "depression", 0.0)], sig,
                                      strict=True):
            rows.append({"scenario": "paper", "cohort": cohort, "seed": cohort,
                         "method": "default", "source": s, "target": t, "lag": 1,
                         "true_value": coef, "value": coef if coef else 0.03, "p_value": 0.01,
                         "significant": flag, "seconds": 0.5 + cohort, "failed": False})
    summary = summarize_methods(pd.DataFrame(rows)).set_index("measure")
    assert (summary.loc["tpr", "k"], summary.loc["tpr", "n"]) == (5, 6)
    assert (summary.loc["fpr", "k"], summary.loc["fpr", "n"]) == (1, 2)
    assert (summary.loc["ordering", "k"], summary.loc["ordering", "n"]) == (1, 2)
    assert summary.loc["tpr", "seconds_per_cohort"] == pytest.approx(1.0)


@pytest.mark.parametrize(("settings", "match"), [
    ({"methods": ["default", "lasso"]}, "methods must be"),
    ({"scenarios": []}, "scenarios must be"),
    ({"n_weeks": 3}, "n_weeks must be"),
    ({"alpha": 0}, "alpha must be"),
    ({"n_cohorts": 1.5}, "n_cohorts must be"),
    ({"speed": 1}, "unknown methods setting"),
])
def test_config_errors(settings, match, rejects):
    rejects(settings, match)
