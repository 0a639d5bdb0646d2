from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from causal.discovery.estimator import PanelPCMCI
from causal.hypotheses.sensitivity import (
    SENSITIVITY_COLUMNS,
    SPEC_COLUMNS,
    Specification,
    run_sensitivity,
    specifications,
)
from causal.hypotheses.spec import Hypothesis
from causal.hypotheses.verdicts import VERDICTS, evaluate
from features.errors import InputError
from features.panel import Panel
from features.scenarios import get_scenario
from features.simulate import simulate_cohort

BASE = {"prep": "detrend", "tau_max": 1, "pc_alpha": 0.2, "method": "pcmci"}


def test_grid_leaves_out_the_default_and_none():
    specs = specifications(BASE)
    labels = [s.label for s in specs]
    assert "prep=detrend, tau_max=1, pc_alpha=0.2" not in labels
    assert all("prep=none" not in lab for lab in labels)
    assert len(specs) == len(set(specs))
    # every alternative differs from the default in at least one setting
    assert all((s.prep, s.tau_max, s.pc_alpha) != ("detrend", 1, 0.2) for s in specs)
    assert {s.tau_max for s in specs} == {1, 2} and {s.pc_alpha for s in specs} == {0.1, 0.2}


def test_grid_includes_an_unusual_default_and_skips_pc_alpha_for_pcmciplus():
    specs = specifications({**BASE, "tau_max": 3, "pc_alpha": 0.05}, preps=["detrend"])
    assert {s.tau_max for s in specs} == {1, 2, 3}
    assert {s.pc_alpha for s in specs} == {0.05, 0.1, 0.2}
    plus = specifications({**BASE, "method": "pcmciplus"}, preps=["detrend", "center"])
    assert {s.pc_alpha for s in plus} == {0.2}
    assert len(plus) == 3  # 2 preps x 2 tau_max - the default


def test_unknown_prep_is_an_input_error():
    with pytest.raises(InputError, match="'spline9'"):
        specifications(BASE, preps=["spline9"])


def test_specification_params_and_label():
    spec = Specification("center", 2, None)
    assert spec.label == "prep=center, tau_max=2, pc_alpha=-"
    assert spec.params({"alpha": 0.1, "prep": "detrend"}) == {
        "alpha": 0.1, "prep": "center", "tau_max": 2, "pc_alpha": None}


@pytest.fixture(scope="module")
def paper_run():
    df = simulate_cohort("paper", n_patients=120, n_weeks=13, missing=0.05, random_state=4)
    model = PanelPCMCI().fit(df)
    default = evaluate("melsom2023", model.links_)
    return default, run_sensitivity(df, default, model.get_params())


def test_default_alternatives_switch_time_effects_and_debias(paper_run):
    _, result = paper_run
    labels = [s.label for s in result.specifications]
    assert labels[-2:] == ["prep=detrend, tau_max=1, pc_alpha=0.2, time_effects=off",
                           "prep=detrend, tau_max=1, pc_alpha=0.2, debias=on"]
    runs = result.runs
    off = runs[runs["specification"] == labels[-2]]
    assert not off["time_effects"].any() and not off["debias"].any()
    assert runs.loc[runs["specification"] == labels[-1], "debias"].all()
    grid = runs[~runs["specification"].isin(labels[-2:])]
    assert grid["time_effects"].all() and not grid["debias"].any()


def test_sensitivity_table_counts_add_up(paper_run):
    default, result = paper_run
    table = result.table
    assert list(table.columns) == list(SENSITIVITY_COLUMNS)
    assert list(result.runs.columns) == list(SPEC_COLUMNS)
    assert table["name"].tolist() == [v.hypothesis.name for v in default]
    assert table["verdict"].tolist() == [v.verdict for v in default]
    n_specs = len(result.specifications)
    assert (table["n_specifications"] == n_specs).all()  # every lag is 1: judged everywhere
    per_verdict = table[[f"n_{v}" for v in VERDICTS]].sum(axis=1)
    assert (per_verdict == table["n_specifications"]).all()
    for row in table.itertuples():
        mine = result.runs[result.runs["name"] == row.name]
        assert row.n_agree == int((mine["verdict"] == row.verdict).sum())
        assert row.agree_share == pytest.approx(row.n_agree / n_specs)
        assert row.disagreeing.count(": ") == n_specs - row.n_agree
    assert result.failures == {} and (table["n_failed"] == 0).all()
    assert "alternative specifications" in str(result)


def test_sensitivity_csv_round_trip(paper_run, tmp_path):
    _, result = paper_run
    path = result.to_csv(tmp_path / "sensitivity.csv")
    back = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert back["name"].tolist() == result.table["name"].tolist()
    assert back["n_agree"].tolist() == result.table["n_agree"].tolist()


def test_disagreement_is_listed_by_specification():
    # A strong effect (2.5 x the paper's -0.13) is supported under every specification.
    df = simulate_cohort(get_scenario("paper", 2.5), n_patients=226, n_weeks=13,
                         random_state=5)
    model = PanelPCMCI().fit(df)
    claim = Hypothesis("d2sc", "depression", "self_compassion", expected="negative")
    default = evaluate([claim], model.links_)
    assert default.verdicts[0].verdict == "supported"
    specs = [Specification("detrend", 2, 0.2), Specification("center", 1, 0.1)]
    row = run_sensitivity(df, default, model.get_params(), specs=specs).table.iloc[0]
    assert (row["n_specifications"], row["n_agree"], row["disagreeing"]) == (2, 2, "")
    # Pretend the default said inconclusive: both alternatives now disagree, and say how.
    wrong = dataclasses.replace(default, verdicts=(dataclasses.replace(
        default.verdicts[0], verdict="inconclusive"),))
    row = run_sensitivity(df, wrong, model.get_params(), specs=specs).table.iloc[0]
    assert (row["n_agree"], row["n_supported"]) == (0, 2)
    assert row["disagreeing"] == ("prep=detrend, tau_max=2, pc_alpha=0.2: supported; "
                                  "prep=center, tau_max=1, pc_alpha=0.1: supported")


def test_failed_specifications_and_long_lags():
    # 6 weeks: tau_max=2 leaves too few samples per patient for 12 patients -> DataError.
    df = simulate_cohort("paper", n_patients=12, n_weeks=6, random_state=6)
    panel = Panel.from_frame(df, tau_max=None)
    model = PanelPCMCI().fit(panel)
    claims = [Hypothesis("h1", "fear_others", "depression", expected="positive")]
    default = evaluate(claims, model.links_)
    result = run_sensitivity(panel, default, model.get_params(),
                             specs=[Specification("detrend", 2, 0.2),
                                    Specification("center", 1, 0.2)])
    # the tau_max=2 run fails (24 samples for 2 + 6 variables and 24 df of detrending)
    assert list(result.failures) == ["prep=detrend, tau_max=2, pc_alpha=0.2"]
    assert "too few samples" in result.failures["prep=detrend, tau_max=2, pc_alpha=0.2"]
    # counted as failed, not as disagreeing
    assert result.table["n_failed"].iloc[0] == 1
    assert result.table["n_specifications"].iloc[0] == 1
    # a lag-2 claim is not judged under tau_max=1 specifications
    big = simulate_cohort("paper", n_patients=60, n_weeks=13, random_state=7)
    m2 = PanelPCMCI(tau_max=2).fit(big)
    lag2 = evaluate([Hypothesis("h2", "fear_others", "depression", lag=2, expected="absent")],
                    m2.links_)
    res = run_sensitivity(big, lag2, m2.get_params(),
                          specs=[Specification("detrend", 1, 0.2),
                                 Specification("center", 2, 0.2)])
    assert res.table["n_specifications"].iloc[0] == 1
    assert np.isfinite(res.runs["value"]).all()


def test_bad_data_is_an_input_error():
    default = evaluate([Hypothesis("h", "fear_others", "depression")],
                       PanelPCMCI().fit(simulate_cohort("paper", 30, 8, random_state=1)).links_)
    with pytest.raises(InputError, match="Panel or a long-format"):
        run_sensitivity([1, 2], default, BASE)
