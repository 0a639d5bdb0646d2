from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causal import Links, compare_graphs, summary_graph
from causal.graph import GraphComparison, structural_hamming_distance
from causal.graph.metrics import candidate_edges, edge_signs, edge_states
from features.scenarios import get_scenario

VARS = ("depression", "self_compassion", "fear_others")


def _links(rows: list[tuple[str, str, int, float, bool]]) -> Links:
    table = pd.DataFrame(rows, columns=["source", "target", "lag", "value", "significant"])
    table["p_value"] = np.where(table["significant"], 0.001, 0.5)
    return Links(table=table, variables=VARS, tau_max=1, alpha=0.05)


def test_paper_truth_against_hand_made_discovery():
    truth = get_scenario("paper").truth()  # 3 true edges: f->d +, d->f +, d->s -
    links = _links([
        ("fear_others", "depression", 1, 0.10, True),        # TP
        ("depression", "fear_others", 1, -0.05, True),        # wrong sign: FP + FN
        ("depression", "self_compassion", 1, -0.12, False),   # FN (not significant)
        ("self_compassion", "depression", 1, 0.07, True),     # FP (absent edge)
        ("self_compassion", "fear_others", 1, 0.01, False),   # TN
        ("fear_others", "self_compassion", 1, 0.0, False),    # TN
        ("depression", "depression", 1, 0.30, True),          # autoregressive: not scored
    ])
    c = compare_graphs(links, truth)
    assert (c.tp, c.fp, c.fn, c.tn, c.wrong_sign) == (1, 2, 2, 2, 1)
    assert c.n_candidates == 6
    assert c.precision == pytest.approx(1 / 3)
    assert c.recall == pytest.approx(1 / 3) == c.tpr
    assert c.f1 == pytest.approx(1 / 3)
    assert c.fpr == pytest.approx(1 / 3)  # 1 of the 3 absent edges
    # differing states: d->f (sign), d->s (missing), s->d (extra)
    assert c.shd == 3 == structural_hamming_distance(links, truth)
    unsigned = compare_graphs(links, truth, signed=False)
    assert (unsigned.tp, unsigned.fp, unsigned.fn, unsigned.wrong_sign) == (2, 1, 1, 0)
    assert unsigned.shd == 2
    assert "TP 1, FP 2 (1 wrong sign)" in str(c)
    assert c.as_dict()["shd"] == 3


def test_perfect_and_empty_discoveries():
    truth = get_scenario("paper").truth()
    perfect = [(c, e, 1, coef) for c, e, _, coef in truth.itertuples(index=False) if coef]
    c = compare_graphs(perfect, truth, variables=VARS)
    assert (c.precision, c.recall, c.f1, c.fpr, c.shd) == (1.0, 1.0, 1.0, 0.0, 0)
    empty = compare_graphs([], truth, variables=VARS)
    assert math.isnan(empty.precision)  # nothing discovered: undefined, not 0
    assert (empty.recall, empty.f1, empty.shd, empty.fn) == (0.0, 0.0, 3, 3)
    null = compare_graphs([("depression", "fear_others", 1)], get_scenario("null").truth())
    assert math.isnan(null.recall) and null.precision == 0.0 and null.fpr == pytest.approx(1 / 6)


def test_autoregressive_and_lags():
    truth = [("a", "a", 1, 0.3), ("a", "b", 2, 0.2)]
    found = [("a", "a", 1, 0.3), ("a", "b", 1, 0.2)]
    c = compare_graphs(found, truth, variables=("a", "b"))
    assert c.n_candidates == 4  # a->b, b->a at lags 1 and 2
    assert (c.tp, c.fp, c.fn, c.shd) == (0, 1, 1, 2)
    with_ar = compare_graphs(found, truth, variables=("a", "b"), include_autoregressive=True)
    assert with_ar.n_candidates == 8 and with_ar.tp == 1
    assert candidate_edges(("a", "b"), 2)[:2] == [("a", "b", 1), ("b", "a", 1)]


def test_graph_inputs_agree():
    links = _links([("fear_others", "depression", 1, 0.1, True),
                    ("depression", "self_compassion", 1, -0.2, True),
                    ("depression", "depression", 1, 0.3, True)])
    truth = get_scenario("paper").truth()
    from_links = compare_graphs(links, truth)
    from_graph = compare_graphs(summary_graph(links), truth)
    table = links.table[["source", "target", "lag", "value", "significant"]]
    from_table = compare_graphs(table, truth)
    assert from_links == from_graph == from_table
    assert from_links.tp == 2 and from_links.fn == 1
    assert edge_signs({("x", "y", 1): -0.5}) == {("x", "y", 1): -1}


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="not among the candidate"):
        edge_states([("a", "z", 1)], candidate_edges(("a", "b")))
    with pytest.raises(ValueError, match="NaN"):
        edge_signs([("a", "b", 1, float("nan"))])
    with pytest.raises(ValueError, match="source, target, lag"):
        edge_signs(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="tau_max"):
        candidate_edges(("a", "b"), 0)
    with pytest.raises(ValueError, match="distinct"):
        candidate_edges(("a", "a"))
    with pytest.raises(ValueError, match="time-series graph"):
        edge_signs(nx.DiGraph([(("a", 1), ("b", 0))]))
    with pytest.raises(ValueError, match="edge must be"):
        edge_signs([("a", "b")])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([-1, 0, 1]), min_size=6, max_size=6),
       st.lists(st.sampled_from([-1, 0, 1]), min_size=6, max_size=6))
def test_counts_are_consistent(found_states, true_states):
    cands = candidate_edges(VARS)
    found = [(*e, s) for e, s in zip(cands, found_states, strict=True) if s]
    truth = [(*e, s) for e, s in zip(cands, true_states, strict=True) if s]
    c = compare_graphs(found, truth, variables=VARS)
    assert isinstance(c, GraphComparison)
    assert c.tp + c.fn == sum(s != 0 for s in true_states)
    assert c.tp + c.fp == sum(s != 0 for s in found_states)
    assert c.tn + (c.fp - c.wrong_sign) == sum(s == 0 for s in true_states)
    assert c.shd == sum(f != t for f, t in zip(found_states, true_states, strict=True))
    assert structural_hamming_distance(found, truth, variables=VARS) == c.shd
    # SHD is symmetric and zero only for identical graphs
    assert structural_hamming_distance(truth, found, variables=VARS) == c.shd
    assert (c.shd == 0) == (found_states == true_states)
