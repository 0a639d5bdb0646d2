from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causal import leading_variables, precedes, strengths
from causal.graph.summary import LEAD_COLUMNS, leading_order

VARS = ("depression", "self_compassion", "fear_others")  # make_links' variables


# ---------------------------------------------------------------- strengths
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(VARS), st.sampled_from(VARS), st.integers(1, 3),
                          st.floats(-0.9, 0.9).filter(lambda x: abs(x) > 1e-6)),
                max_size=12))
def test_strengths_net_sums_to_zero_and_is_sorted(make_links, entries):
    lk = make_links({(s, t, k): v for s, t, k, v in entries}, tau_max=3)
    s = strengths(lk, cross_only=False)
    assert s["net"].sum() == pytest.approx(0.0, abs=1e-9)
    assert list(s["net"]) == sorted(s["net"], reverse=True)


def test_strengths_by_hand(graph_links):
    s = strengths(graph_links)
    assert list(s.index) == ["fear_others", "self_compassion", "depression"]
    assert s.index.name == "variable"
    # fear_others -> depression: |0.12| + |-0.20|; depression -> fear_others: 0.08
    assert s.loc["fear_others", "out_strength"] == pytest.approx(0.32)
    assert s.loc["fear_others", "in_strength"] == pytest.approx(0.08)
    assert s.loc["depression", "out_strength"] == pytest.approx(0.08)
    assert s.loc["depression", "in_strength"] == pytest.approx(0.32)
    assert s.loc["fear_others", "out_degree"] == 1  # distinct partners, not links
    assert s.loc["depression", "in_degree"] == 1
    assert s.loc["self_compassion"].abs().sum() == 0
    assert s.loc["fear_others", "net"] == pytest.approx(0.24)


def test_strengths_autoregressive_and_contemporaneous(make_links, graph_links):
    with_ar = strengths(graph_links, cross_only=False)
    assert with_ar.loc["depression", "out_strength"] == pytest.approx(0.48)
    assert with_ar.loc["depression", "out_degree"] == 2
    pd.testing.assert_series_equal(with_ar["net"].sort_index(),
                                   strengths(graph_links)["net"].sort_index())
    lk = make_links({("depression", "fear_others", 0): 0.5}, contemporaneous=True)
    assert strengths(lk)["out_strength"].sum() == 0  # lag 0 has no temporal order


def test_leading_variables(make_links, graph_links):
    assert leading_variables(graph_links) == ["fear_others", "self_compassion", "depression"]
    assert leading_variables(make_links({})) == list(VARS)  # ties keep variable order


# ----------------------------------------------------------------- precedes
def test_precedes_cases(make_links, graph_links):
    assert precedes(graph_links, "fear_others", "depression") is True  # 0.20 > 0.08
    assert precedes(graph_links, "depression", "fear_others") is False
    assert precedes(graph_links, "self_compassion", "depression") is None
    one_way = make_links({("self_compassion", "depression", 2): -0.1})
    assert precedes(one_way, "self_compassion", "depression") is True
    assert precedes(one_way, "depression", "self_compassion") is False
    equal = make_links({("self_compassion", "depression", 1): 0.1,
                        ("depression", "self_compassion", 1): -0.1})
    assert precedes(equal, "depression", "self_compassion") is None


def test_precedes_ignores_contemporaneous(make_links):
    lk = make_links({("depression", "fear_others", 0): 0.5}, contemporaneous=True)
    assert precedes(lk, "depression", "fear_others") is None


def test_precedes_errors(graph_links):
    with pytest.raises(ValueError, match="anxiety"):
        precedes(graph_links, "anxiety", "depression")
    with pytest.raises(ValueError, match="two different"):
        precedes(graph_links, "depression", "depression")


# ------------------------------------------------------------ leading_order
def _draws(means: dict[tuple[str, str], float], sd: float, n_boot: int = 500, seed: int = 0):
    """Point estimates and normal replicates of every lag-1 link among VARS."""
    rng = np.random.default_rng(seed)
    keys = pd.DataFrame([(s, t, 1) for s in VARS for t in VARS],
                        columns=["source", "target", "lag"])
    mu = np.array([means.get((s, t), 0.0) for s, t, _ in keys.itertuples(index=False)])
    reps = keys.loc[np.tile(keys.index, n_boot)].reset_index(drop=True)
    reps.insert(0, "replicate", np.repeat(np.arange(n_boot), len(keys)))
    reps["effect"] = np.tile(mu, n_boot) + rng.normal(0, sd, len(reps))
    return keys.assign(effect=mu), reps


def test_leading_order_states_a_clear_order():
    est, reps = _draws({("fear_others", "depression"): 0.4, ("depression", "self_compassion"):
                        -0.3, ("self_compassion", "depression"): 0.02}, sd=0.01)
    lead = leading_order(est, reps)
    # nets: fear_others 0.4, depression |-0.3| - 0.4 - 0.02, self_compassion 0.02 - |-0.3|
    assert lead.order == ["fear_others", "depression", "self_compassion"]
    assert lead.table["net"].tolist() == pytest.approx([0.4, -0.12, -0.28])
    assert lead.table["net"].sum() == pytest.approx(0.0)
    assert tuple(lead.table.columns) == LEAD_COLUMNS
    assert lead.table["p_first"].sum() == pytest.approx(1.0)
    assert lead.pairs["distinguishable"].tolist() == [True, True]
    assert lead.pairs["threshold"].tolist() == pytest.approx([1 - 0.05 / 4] * 2)
    text = lead.render()
    assert text.startswith("Order of leading (500 bootstrap draws): fear_others > "
                           "depression (fear_others ahead in 100.0% of draws) > ")
    assert "not distinguishable" not in text
    low, high = lead.table["net_low"], lead.table["net_high"]
    assert ((low < lead.table["net"]) & (lead.table["net"] < high)).all()


def test_leading_order_says_not_distinguishable():
    est, reps = _draws({("fear_others", "depression"): 0.12, ("depression", "fear_others"): 0.1},
                       sd=0.05)
    lead = leading_order(est, reps, alpha=0.05)
    assert not lead.distinguishable
    text = str(lead)
    assert text.count("not distinguishable") == 2
    assert ">" not in text
    assert "The data cannot tell who leads" in text
    first = lead.pairs.iloc[0]
    assert f"{first.ahead} ahead in {first.p_ahead:.1%} of draws, needs 98.8%" in text


def test_leading_order_partly_distinguishable_and_value_column():
    est, reps = _draws({("depression", "self_compassion"): 0.3,
                        ("fear_others", "depression"): 0.15}, sd=0.03)  # nets 0.15, 0.15, -0.3
    lead = leading_order(est.rename(columns={"effect": "value"}),
                         reps.rename(columns={"effect": "value"}), column="value")
    assert lead.pairs["distinguishable"].tolist() == [False, True]
    assert " ~ " in lead.render() and " > self_compassion" in lead.render()
    assert lead.label == "value"


def test_leading_order_null_rate_is_at_most_alpha():
    """No effects at all: an order is stated in at most alpha of samples (Bonferroni).

    Per sample the chance is <= 0.05 by construction; over 60 seeded samples a
    count of 8 or more has probability 0.005 when the rate is 0.05.
    """
    stated = sum(leading_order(*_draws({}, sd=0.05, n_boot=400, seed=s)).distinguishable
                 for s in range(60))
    assert stated <= 7


def test_leading_order_leaves_out_links_without_an_estimate():
    est, reps = _draws({("fear_others", "depression"): 0.3}, sd=0.01)
    gone = (est["source"] == "fear_others") & (est["target"] == "depression")
    est.loc[gone, "effect"] = np.nan
    rep_gone = (reps["source"] == "fear_others") & (reps["target"] == "depression")
    reps.loc[rep_gone, "effect"] = np.nan
    lead = leading_order(est, reps)
    assert lead.n_boot == 500
    assert lead.table["net"].abs().max() == pytest.approx(0.0)


def test_leading_order_rejects_bad_input():
    est, reps = _draws({}, sd=0.05, n_boot=5)
    with pytest.raises(ValueError, match=r"replicates lacks column\(s\) \['effect'\]"):
        leading_order(est, reps.drop(columns="effect"))
    with pytest.raises(ValueError, match="alpha must be a number in"):
        leading_order(est, reps, alpha=1.5)
    with pytest.raises(ValueError, match="replicates lack link"):
        leading_order(est, reps[reps["source"] != "depression"])
