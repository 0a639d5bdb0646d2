from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal import PanelPCMCI, evaluate
from experiments.recovery import (
    COHORT_COLUMNS,
    CohortTask,
    analyse_cohort,
    ordering_reproduced,
    recovery_scenario,
    run_recovery,
    summarize_recovery,
)
from features.simulate import simulate_cohort


def test_quick_run_separates_signal_from_noise(quick):
    cfg, table, n = quick.cfg, quick.result.summary, quick.cfg["n_cohorts"]
    n_cells = len(cfg["patients"]) * len(cfg["weeks"]) * len(cfg["effects"])
    assert len(table) == n_cells and (table["n_cohorts"] == n).all()
    for lo, mid, hi in (("tpr_low", "tpr", "tpr_high"), ("fpr_low", "fpr", "fpr_high"),
                        ("ordering_low", "ordering", "ordering_high")):
        assert (table[lo] <= table[mid]).all() and (table[mid] <= table[hi]).all()
    cohorts = quick.result.cohorts
    assert tuple(cohorts.columns[:len(COHORT_COLUMNS)]) == COHORT_COLUMNS
    assert len(cohorts) == n * n_cells
    assert ((cohorts["tp"] + cohorts["fn"]) == 3).all()  # three true edges per cohort
    assert ((cohorts["fp"] - cohorts["wrong_sign"] + cohorts["tn"]) == 3).all()
    # At effect 0.2 (>= 100 x 13) every true edge is found in practice (power > 0.99),
    # while an absent edge is significant with probability ~0.05-0.15; with 18 edges
    # per rate, TPR - FPR > 0.5 fails with negligible probability.
    strong = table[table["effect"] == 0.2]
    assert (strong["tpr"] - strong["fpr"] > 0.5).all()
    assert (strong["tpr"] >= 0.9).all()
    # Same cohorts (common random numbers) for every effect: a larger effect finds more.
    weak = table[table["effect"] == 0.05].set_index(["n_patients", "n_weeks"])["tpr"]
    assert (strong.set_index(["n_patients", "n_weeks"])["tpr"] > weak).all()


def test_analyse_cohort_matches_a_direct_fit():
    task = CohortTask(n_patients=80, n_weeks=13, effect=0.12, cohort=0, seed=99)
    row = analyse_cohort(task)
    scenario = recovery_scenario(0.12)
    df = simulate_cohort(scenario, 80, 13, random_state=99)
    links = PanelPCMCI(random_state=99).fit(df).links_
    cross = links.cross_lagged().set_index(["source", "target"])
    truth = {(c, e): coef for c, e, coef in scenario.cross}
    hits = sum(bool(cross.loc[k, "significant"]) and np.sign(cross.loc[k, "value"]) == np.sign(v)
               for k, v in truth.items())
    assert row["tp"] == hits and row["tp"] + row["fn"] == 3
    extra = sum(bool(cross.loc[k, "significant"]) for k in cross.index if k not in truth)
    assert row["fp"] - row["wrong_sign"] == extra
    assert row["ordering"] == ordering_reproduced(evaluate("melsom2023", links).to_frame())
    for (s, t), r in cross.iterrows():
        assert row[f"{s}->{t}:value"] == pytest.approx(r["value"])


def test_results_do_not_depend_on_n_jobs_and_share_cohorts_across_effects():
    cfg = {"n_cohorts": 2, "patients": [30], "weeks": [8], "effects": [0.05, 0.2]}
    serial = run_recovery(cfg, seed=4, n_jobs=1)
    parallel = run_recovery(cfg, seed=4, n_jobs=2)
    pd.testing.assert_frame_equal(serial.cohorts, parallel.cohorts)
    pd.testing.assert_frame_equal(serial.summary, parallel.summary)
    seeds = serial.cohorts.groupby("effect")["seed"].apply(list)
    assert seeds[0.05] == seeds[0.2]  # common random numbers
    assert "Recovery study: 2 cohorts per cell, 2 cells" in str(serial)


def test_scenario_signs_follow_the_paper():
    s = recovery_scenario(0.08)
    assert dict(((c, e), v) for c, e, v in s.cross) == {
        ("fear_others", "depression"): 0.08, ("depression", "fear_others"): 0.08,
        ("depression", "self_compassion"): -0.08}


def test_ordering_rule():
    v = pd.DataFrame({"expected": ["positive", "negative", "absent", "absent"],
                      "verdict": ["supported", "supported", "inconclusive", "supported"]})
    assert ordering_reproduced(v)
    assert not ordering_reproduced(v.assign(verdict=["supported", "inconclusive",
                                                     "supported", "supported"]))
    assert not ordering_reproduced(v.assign(verdict=["supported", "supported",
                                                     "contradicted", "supported"]))


def test_summary_counts_on_hand_made_cohorts():
    base = {"n_patients": 50, "n_weeks": 8, "effect": 0.1, "seed": 0, "n_supported": 0,
            "n_contradicted": 0, "n_inconclusive": 6}
    cohorts = pd.DataFrame([
        {**base, "cohort": 0, "tp": 3, "fp": 1, "fn": 0, "tn": 2, "wrong_sign": 0,
         "precision": 0.75, "recall": 1.0, "f1": 6 / 7, "shd": 1, "ordering": True},
        {**base, "cohort": 1, "tp": 1, "fp": 1, "fn": 2, "tn": 3, "wrong_sign": 1,
         "precision": 0.5, "recall": 1 / 3, "f1": 0.4, "shd": 2, "ordering": False},
        {**base, "cohort": 2, "tp": 0, "fp": 0, "fn": 3, "tn": 3, "wrong_sign": 0,
         "precision": np.nan, "recall": 0.0, "f1": 0.0, "shd": 3, "ordering": False},
    ])
    s = summarize_recovery(cohorts).iloc[0]
    assert s["tpr"] == pytest.approx(4 / 9)
    assert s["fpr"] == pytest.approx(1 / 9)  # the wrong-sign edge is not an absent edge
    assert s["precision"] == pytest.approx(0.625) and s["precision_cohorts"] == 2
    assert s["shd"] == pytest.approx(2.0) and s["ordering"] == pytest.approx(1 / 3)
    assert s["wrong_sign"] == 1


@pytest.mark.parametrize(("override", "match"), [
    ({"effects": [0.0]}, "effects"),
    ({"patients": [1]}, "patients"),
    ({"weeks": [13, 13]}, "weeks"),
    ({"alpha": 1.0}, "alpha"),
    ({"size": 3}, "unknown recovery setting"),
    ({"effects": [0.9]}, "invalid scenario"),
])
def test_bad_config_is_rejected(override, match, rejects):
    rejects(override, match)


def test_bad_hypotheses_preset_fails_on_the_command_line(exits_on):
    assert "error:" in exits_on('seed = 1\nn_cohorts = 1\npatients = [20]\nweeks = [8]\n'
                                'effects = [0.1]\nhypotheses = "nope"\n')
