"""experiments.ema: the EMA calibration and power study (issue 10)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal import PanelPCMCI
from experiments.ema import (
    EmaConfig,
    EmaTask,
    analyse_cohort,
    ema_scenario,
    run_ema,
    summarize_ema,
)
from features.simulate import simulate_ema


def test_quick_run_counts_every_edge(quick):
    cfg, table, n = quick.cfg, quick.result.summary, quick.cfg["n_cohorts"]
    key = table.set_index(["amplitude", "truth", "analysis", "measure"])
    for amp in cfg["amplitudes"]:
        for analysis in cfg["analyses"]:
            # 6 lagged cross-edges per cohort: all null, or 4 null + 2 true
            assert key.loc[(amp, "null", analysis, "null_rate"), "n"] == 6 * n
            assert key.loc[(amp, "effects", analysis, "null_rate"), "n"] == 4 * n
            assert key.loc[(amp, "effects", analysis, "power"), "n"] == 2 * n
    assert np.allclose(table["rate"], table["k"] / table["n"])
    cohorts = quick.result.cohorts
    assert len(cohorts) == 6 * n * len(cfg["amplitudes"]) * 2 * len(cfg["analyses"])


def test_default_analysis_is_a_plain_day_beep_fit():
    cfg = EmaConfig(n_persons=20, n_days=6, analyses=("default",))
    task = EmaTask(cfg, 0.6, "effects", 0, 11)
    tests = analyse_cohort(task).set_index(["source", "target"]).sort_index()
    df = simulate_ema(ema_scenario("effects"), 20, 6, 5, missing=0.2, diurnal_amplitude=0.6,
                      day_trend=0.05, random_state=11)
    model = PanelPCMCI().fit(df, id_col="person", day_col="day", beep_col="beep",
                             variables=["cheerful", "worry", "sad"])
    assert model.prep_ == "diurnal"
    assert model.df_loss_ == 20 * 6  # 5 beep means + 1 slope per person
    fresh = model.links_.cross_lagged().set_index(["source", "target"]).sort_index()
    np.testing.assert_allclose(tests["p_value"], fresh["p_value"], rtol=1e-12)
    assert tests.loc[("worry", "sad"), "true_value"] == 0.15
    assert tests.loc[("cheerful", "worry"), "true_value"] == -0.15


def test_rhythm_breaks_the_old_usage_not_the_default():
    # 12 null cohorts x 6 edges = 72 tests per analysis. A calibrated test: k ~ Bin(72, 0.05),
    # SE of the rate 0.026, so <= 0.05 + 3 SE = 0.127. The old usage (a line over the running
    # beep index) is at ~0.5 at amplitude 0.6 (docs/validation.md): far above.
    cfg = {"n_cohorts": 12, "n_persons": 40, "n_days": 10, "amplitudes": [0.6],
           "truths": ["null"], "analyses": ["default", "running-index"]}
    result = run_ema(cfg, seed=3)
    s = result.summary.set_index(["analysis", "measure"])["rate"]
    se = np.sqrt(0.05 * 0.95 / 72)
    assert se == pytest.approx(0.0257, abs=1e-4)
    assert s["default", "null_rate"] <= 0.05 + 3 * se
    assert s["running-index", "null_rate"] > 0.25


def test_summary_on_hand_made_tests():
    c = pd.DataFrame({"amplitude": 0.3, "truth": "effects", "analysis": "default",
                      "value": [0.2, -0.1, 0.3, 0.0, 0.01, -0.02],
                      "significant": [True, True, True, False, True, False],
                      "true_value": [0.15, 0.15, 0.0, 0.0, 0.0, 0.0]})
    s = summarize_ema(c, target=0.06).set_index("measure")
    assert s.loc["power", ["k", "n"]].tolist() == [1, 2]  # the wrong sign is no hit
    assert s.loc["null_rate", ["k", "n"]].tolist() == [2, 4]
    assert bool(s.loc["null_rate", "exceeds_target"]) == (s.loc["null_rate", "ci_low"] > 0.06)


@pytest.mark.parametrize(("override", "match"), [
    ({"analyses": ["raw"]}, "analyses"), ({"amplitudes": []}, "amplitudes"),
    ({"n_beeps": 2}, "n_beeps"), ({"truths": ["maybe"]}, "truths"), ({"bogus": 1}, "bogus")])
def test_bad_config_is_a_config_error(override, match, rejects):
    rejects(override, match)


def test_cohort_seeds_are_exact(quick):
    cohorts = quick.result.cohorts
    assert cohorts["seed"].dtype.kind in "iu"  # never floats: a seed must reproduce its cohort
