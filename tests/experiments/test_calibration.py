from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal import PanelPCMCI
from experiments.calibration import (
    CalibrationConfig,
    analyse_cohort,
    decide,
    run_calibration,
    summarize_calibration,
)
from experiments.harness.cohorts import CohortTask
from features.simulate import simulate_cohort


def test_quick_run_counts_every_test(quick):
    cfg, table, n = quick.cfg, quick.result.summary, quick.cfg["n_cohorts"]
    assert set(table["prep"]) == set(cfg["preps"])
    assert set(table["fdr"]) == set(cfg["fdr"]) and set(table["alpha"]) == set(cfg["alphas"])
    key = table.set_index(["prep", "fdr", "alpha", "measure", "edge"]).sort_index()
    for prep in cfg["preps"]:
        assert key.loc[(prep, "none", 0.05, "per_edge", "all"), "n"] == 6 * n
        assert key.loc[(prep, "fdr_bh", 0.1, "familywise", "any"), "n"] == n
        per_edge = key.loc[(prep, "none", 0.05, "per_edge")].drop(index="all")
        assert len(per_edge) == 6 and (per_edge["n"] == n).all()
    assert np.allclose(table["rate"], table["k"] / table["n"])
    assert (table["exceeds_alpha"] == (table["ci_low"] > table["alpha"])).all()
    cohorts = quick.result.cohorts
    assert len(cohorts) == n * len(cfg["preps"]) * 6
    assert (cohorts["q_value"] >= cohorts["p_value"] - 1e-12).all()  # BH never lowers p


def test_rates_are_ordered_by_alpha_and_fdr(quick):
    table = quick.result.summary
    pooled = table[table["edge"].isin(["all", "any"])]
    for _, part in pooled.groupby(["prep", "fdr", "measure"]):
        assert part.sort_values("alpha")["k"].is_monotonic_increasing  # same p-values
    wide = pooled.pivot_table(index=["prep", "alpha", "measure"], columns="fdr", values="k")
    assert (wide["fdr_bh"] <= wide["none"]).all()


def test_null_rates_detrend_calibrated_raw_scores_not(quick):
    cfg, table = quick.cfg, quick.result.summary
    key = table.set_index(["prep", "fdr", "alpha", "measure", "edge"])["rate"]
    detrend = table.set_index(["prep", "fdr", "alpha", "measure", "edge"]).loc[
        ("detrend", "none", 0.05, "per_edge", "all")]
    n_tests = int(detrend["n"])
    assert n_tests == 6 * cfg["n_cohorts"] == 360  # 6 cross-lagged edges x 60 cohorts
    # A calibrated test at alpha 0.05 gives k ~ Binomial(360, 0.05): SE of the rate =
    # sqrt(.05 * .95 / 360) = 0.0115; accept alpha +- 3 SE = [0.0155, 0.0845]. (The six
    # tests of a cohort share data; the binomial SE ignores that, so the band is if
    # anything narrow.) At 360 tests the uncorrected-df rate 0.082 (docs/method.md) is
    # only 2.8 SE above alpha, so this run cannot reject it: that is the job of the
    # 1,800-test bound in tests/causal/discovery/test_statistical.py.
    se = np.sqrt(0.05 * 0.95 / n_tests)
    assert se == pytest.approx(0.0115, abs=1e-4)
    rate = detrend["k"] / n_tests
    assert abs(rate - 0.05) <= 3 * se, f"detrend rate {rate:.4f} outside 0.05 +- {3 * se:.4f}"
    # Raw pooled scores: the pooling pitfall (~0.4 per edge at this size) is far outside.
    assert key["none", "none", 0.05, "per_edge", "all"] > 0.15


@pytest.mark.parametrize("prep", ["none", "detrend"])
def test_one_fit_gives_every_alpha_and_fdr_decision(prep):
    # The shortcut of the module docstring must equal fresh fits at each setting.
    cfg = CalibrationConfig(n_patients=60, n_weeks=10, missing=0.0, dropout=0.0,
                            preps=(prep,))
    task = CohortTask(cfg, cohort=0, seed=2024)
    tests = analyse_cohort(task).set_index(["source", "target"]).sort_index()
    df = simulate_cohort("null", 60, 10, random_state=2024)
    for alpha in (0.01, 0.1, 0.2):
        for fdr in ("none", "fdr_bh"):
            fresh = PanelPCMCI(prep=prep, alpha=alpha, fdr=None if fdr == "none" else fdr,
                               random_state=2024).fit(df).links_.cross_lagged()
            fresh = fresh.set_index(["source", "target"]).sort_index()
            assert decide(tests, alpha, fdr).tolist() == fresh["significant"].tolist()
            if fdr == "fdr_bh":  # tigramite reports the BH-adjusted p-values
                np.testing.assert_allclose(tests["q_value"], fresh["p_value"], rtol=1e-10)


def test_results_do_not_depend_on_n_jobs():
    cfg = {"n_cohorts": 3, "n_patients": 30, "n_weeks": 8, "preps": ["detrend"],
           "alphas": [0.05]}
    serial = run_calibration(cfg, seed=7, n_jobs=1)
    parallel = run_calibration(cfg, seed=7, n_jobs=2)
    pd.testing.assert_frame_equal(serial.cohorts, parallel.cohorts)
    assert "Calibration under the null: 3 cohorts of 30 x 8" in str(serial)


def test_summary_counts_on_hand_made_tests():
    rows = []
    edges = [("a", "b"), ("b", "a"), ("a", "c"), ("c", "a"), ("b", "c"), ("c", "b")]
    for cohort, ps in enumerate(([0.001, 0.2, 0.5, 0.7, 0.9, 0.04], [0.3] * 6)):
        for (s, t), p in zip(edges, ps, strict=True):
            rows.append({"cohort": cohort, "seed": cohort, "prep": "detrend", "source": s,
                         "target": t, "lag": 1, "value": 0.0, "p_value": p,
                         "q_value": min(1.0, p * 6), "df_loss": 0})
    s = summarize_calibration(pd.DataFrame(rows), [0.01, 0.05]).set_index(
        ["fdr", "alpha", "measure", "edge"])
    assert s.loc[("none", 0.05, "per_edge", "all"), ["k", "n"]].tolist() == [2, 12]
    assert s.loc[("none", 0.01, "per_edge", "all"), "k"] == 1
    assert s.loc[("none", 0.05, "familywise", "any"), ["k", "n"]].tolist() == [1, 2]
    assert s.loc[("fdr_bh", 0.01, "familywise", "any"), "k"] == 1  # q = 0.006
    assert s.loc[("fdr_bh", 0.05, "per_edge", "all"), "k"] == 1   # 0.04 * 6 > 0.05
    assert s.loc[("none", 0.05, "per_edge", "a -> b"), ["k", "n"]].tolist() == [1, 2]


@pytest.mark.parametrize(("override", "match"), [
    ({"preps": ["raw"]}, "preps"),
    ({"fdr": ["bonferroni"]}, "fdr"),
    ({"alphas": []}, "alphas"),
    ({"alphas": [0.0]}, "alphas"),
    ({"n_cohorts": 0}, "n_cohorts"),
    ({"scenario": "paper"}, "unknown calibration setting"),
])
def test_bad_config_is_rejected(override, match, rejects):
    rejects(override, match)
