from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causal import leading_variables, precedes, strengths

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
