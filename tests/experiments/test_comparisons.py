from __future__ import annotations

import pytest

from experiments.comparisons import (
    CASES,
    case_scenario,
    run_comparisons,
)


def test_quick_run_counts_every_case(quick):
    summary, cohorts, n = quick.result.summary, quick.result.cohorts, quick.cfg["n_cohorts"]
    assert len(cohorts) == n * len(quick.cfg["cases"])
    assert (summary["n"] == n).all() and summary["rate"].between(0, 1).all()
    assert set(summary["measure"]) == {"supported", "contradicted", "covered", "order_stated"}
    assert set(cohorts["verdict"]) <= {"supported", "contradicted", "inconclusive"}
    assert (cohorts["ci_low"] <= cohorts["ci_high"]).all()
    clear = cohorts[cohorts["case"] == "clear"]
    assert (clear["true_difference"] - 0.16).abs().max() < 1e-12


def test_cases_are_the_issue_targets():
    truth = case_scenario("paper").truth().set_index(["cause", "effect"])["coefficient"]
    assert truth["fear_others", "depression"] == 0.12
    assert truth["depression", "fear_others"] == 0.08
    assert case_scenario("null").true_edges() == set()
    assert CASES["swapped"] == (0.08, 0.12)


def test_results_are_seeded():
    cfg = {"n_cohorts": 1, "n_patients": 40, "n_weeks": 8, "n_boot": 20, "cases": ["equal"]}
    a = run_comparisons(cfg, 5).cohorts
    b = run_comparisons(cfg, 5).cohorts
    assert a.equals(b)


@pytest.mark.parametrize(("key", "value"), [("n_boot", 5), ("cases", ["bogus"]),
                                            ("missing", 1.0)])
def test_bad_settings_name_the_key(key, value, rejects):
    rejects({key: value}, key)
