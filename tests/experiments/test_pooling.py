from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.harness.cohorts import CohortTask
from experiments.harness.config import ConfigError, load_config
from experiments.pooling import (
    ARMS,
    COHORT_COLUMNS,
    CONFIG_KEYS,
    POOLING_COLUMNS,
    PoolingConfig,
    analyse_cohort,
    run_pooling,
    summarize_pooling,
)
from features.scenarios import get_scenario

CROSS = [("depression", "self_compassion"), ("depression", "fear_others"),
         ("self_compassion", "depression"), ("self_compassion", "fear_others"),
         ("fear_others", "depression"), ("fear_others", "self_compassion")]


def test_quick_run_counts_every_cell(quick):
    cfg, table, n = quick.cfg, quick.result.summary, quick.cfg["n_cohorts"]
    assert set(table["scenario"]) == set(cfg["scenarios"])
    assert set(table["arm"]) == set(cfg["arms"])
    assert table["rate"].between(0, 1).all()
    assert (table["ci_low"] <= table["rate"]).all() and (table["rate"] <= table["ci_high"]).all()
    assert (table["k"] <= table["n"]).all()
    assert np.allclose(table["rate"], table["k"] / table["n"])
    # every cell counts what it should: 6 absent edges per null cohort, 3 + 3 in paper
    key = table.set_index(["scenario", "arm", "measure", "edge"])["n"]
    for arm in cfg["arms"]:
        assert key["null", arm, "false_positive", "all"] == 6 * n
        assert key["null", arm, "familywise", "any"] == n
        assert key["paper", arm, "false_positive", "all"] == 3 * n
        assert key["paper", arm, "detected", "all"] == 3 * n
        assert key["paper", arm, "detected", "fear_others -> depression"] == n
    cohorts = quick.result.cohorts
    assert len(cohorts) == len(cfg["scenarios"]) * n * len(cfg["arms"]) * 6


def test_results_do_not_depend_on_n_jobs():
    cfg = {"n_cohorts": 2, "n_patients": 30, "n_weeks": 8, "scenarios": ["null"],
           "arms": ["none", "detrend"]}
    serial = run_pooling(cfg, seed=5, n_jobs=1)
    parallel = run_pooling(cfg, seed=5, n_jobs=2)
    pd.testing.assert_frame_equal(serial.cohorts, parallel.cohorts)
    pd.testing.assert_frame_equal(serial.summary, parallel.summary)
    other = run_pooling(cfg, seed=6, n_jobs=1)
    assert not np.allclose(other.cohorts["value"], serial.cohorts["value"])
    assert "Pooling study: 2 cohorts of 30 x 8" in str(serial)


def test_analyse_cohort_arms_share_the_cohort():
    cfg = PoolingConfig(n_patients=40, n_weeks=10, missing=0.0, dropout=0.0, alpha=0.05,
                        arms=("detrend", "detrend_no_df", "none"))
    task = CohortTask(cfg, 0, 1234, "paper")
    rows = analyse_cohort(task)
    assert len(rows) == 3 * 6
    assert set(zip(rows["source"], rows["target"], strict=True)) == set(CROSS)
    truth = {(c, e): coef for c, e, coef in get_scenario("paper").cross}
    for r in rows.itertuples(index=False):
        assert r.true_value == truth.get((r.source, r.target), 0.0)
    by_arm = {arm: part.set_index(["source", "target"]).sort_index()
              for arm, part in rows.groupby("arm")}
    # the df correction only changes p-values (same data, same estimate) ...
    assert np.allclose(by_arm["detrend"]["value"], by_arm["detrend_no_df"]["value"])
    assert (by_arm["detrend"]["p_value"] >= by_arm["detrend_no_df"]["p_value"]).all()
    assert (by_arm["detrend"]["df_loss"] == 2 * 40).all()
    assert (by_arm["detrend_no_df"]["df_loss"] == 0).all()
    # ... while pooling raw scores changes the estimates
    assert not np.allclose(by_arm["none"]["value"], by_arm["detrend"]["value"])


def _fake_cohorts() -> pd.DataFrame:
    """Two paper cohorts, one arm, with hand-set significance and signs."""
    truth = {(c, e): coef for c, e, coef in get_scenario("paper").cross}
    rows = []
    for cohort in (0, 1):
        for source, target in CROSS:
            true = truth.get((source, target), 0.0)
            value = 0.1 if true >= 0 else -0.1
            significant = True
            if cohort == 1 and (source, target) == ("depression", "self_compassion"):
                value = 0.1  # significant with the wrong sign
            if cohort == 1 and true == 0:
                significant = False
            rows.append({"scenario": "paper", "cohort": cohort, "seed": cohort, "arm": "center",
                         "source": source, "target": target, "lag": 1, "true_value": true,
                         "value": value, "p_value": 0.01, "significant": significant,
                         "ci_low": value - 0.05, "ci_high": value + 0.05, "df_loss": 0})
    return pd.DataFrame(rows, columns=list(COHORT_COLUMNS))


def test_summarize_pooling_counts():
    summary = summarize_pooling(_fake_cohorts())
    assert tuple(summary.columns) == POOLING_COLUMNS
    s = summary.set_index(["measure", "edge"])
    assert (s["scenario"] == "paper").all() and (s["prep"] == "center").all()
    assert s["within_df"].all()
    # cohort 0: all 3 absent edges significant; cohort 1: none
    assert s.loc[("false_positive", "all"), ["k", "n"]].tolist() == [3, 6]
    assert s.loc[("familywise", "any"), ["k", "n"]].tolist() == [1, 2]
    # depression -> self_compassion is found with the right sign once, the wrong sign once
    assert s.loc[("detected", "depression -> self_compassion"), ["k", "n"]].tolist() == [1, 2]
    assert s.loc[("detected", "depression -> self_compassion"), "true_value"] == -0.13
    assert s.loc[("detected", "depression -> self_compassion"), "mean_value"] == \
        pytest.approx(0.0)
    assert s.loc[("detected", "all"), ["k", "n"]].tolist() == [5, 6]
    assert s.loc[("wrong_sign", "all"), ["k", "n"]].tolist() == [1, 6]
    assert s.loc[("all_detected", "all"), ["k", "n"]].tolist() == [1, 2]
    assert s.loc[("false_positive", "self_compassion -> depression"), "rate"] == 0.5


def test_config_validation(rejects):
    assert PoolingConfig.from_mapping({"seed": 1}) == PoolingConfig()
    cfg = PoolingConfig.from_mapping({"arms": ["detrend"], "dropout": 1, "scenarios": ["null"]})
    assert cfg.arms == ("detrend",) and cfg.dropout == 1.0 and isinstance(cfg.dropout, float)
    with pytest.raises(ConfigError, match=r"missing must be a number in \[0, 1\)"):
        PoolingConfig(missing=1.0)
    assert set(load_config("pooling")) == set(CONFIG_KEYS)
    assert set(ARMS) >= set(load_config("pooling")["arms"])
    for bad, match in [({"arms": ["none", "raw"]}, "arms"), ({"arms": []}, "arms"),
                       ({"scenarios": "null"}, "scenarios"), ({"n_cohorts": 0}, "n_cohorts"),
                       ({"alpha": 1.5}, "alpha"), ({"missing": -0.1}, "missing"),
                       ({"n_weeks": 2.5}, "n_weeks"), ({"colour": 1}, "colour"),
                       ({"dropout": "high"}, "dropout"), ({"alpha": True}, "alpha")]:
        rejects(bad, match)


def test_bad_config_exits_2(exits_on):
    err = exits_on('seed = 1\nn_cohorts = 2\nn_patients = 30\nn_weeks = 8\nmissing = 0.0\n'
                   'dropout = 0.0\nalpha = 0.05\nscenarios = ["null"]\narms = ["raw"]\n')
    assert "error: arms must be a non-empty list of distinct names from ['none'," in err


def test_centering_keeps_trend_confounding_and_detrending_removes_it():
    # Null scenario at the paper's size. In the full study (200 cohorts, docs/method.md) the
    # self_compassion -> depression partial correlation averaged -0.104 (SD 0.020 over
    # cohorts) after centering and +0.004 (SD 0.020) after detrending. The mean of 2 cohorts
    # has SD 0.014, so the bounds below sit >= 3.3 SD from the expected means.
    cfg = {"n_cohorts": 2, "n_patients": 226, "n_weeks": 13, "scenarios": ["null"],
           "arms": ["center", "detrend"]}
    cohorts = run_pooling(cfg, seed=20230822).cohorts
    edge = cohorts[(cohorts["source"] == "self_compassion") & (cohorts["target"] == "depression")]
    mean = edge.groupby("arm")["value"].mean()
    assert mean["center"] < -0.05
    assert abs(mean["detrend"]) < 0.05
