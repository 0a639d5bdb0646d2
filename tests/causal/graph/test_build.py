from __future__ import annotations

import json
import math

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causal import Links, edge_table, summary_graph, time_series_graph, write_graphml, write_json
from causal.graph import read_graphml, read_json

VARS = ("depression", "self_compassion", "fear_others")  # make_links' variables


# ------------------------------------------------------------ summary_graph
def test_summary_graph_nodes_edges_and_attrs(graph_links):
    g = summary_graph(graph_links)
    assert set(g.nodes) == set(VARS)  # isolated self_compassion kept
    assert g.degree("self_compassion") == 0
    assert set(g.edges) == {("fear_others", "depression"), ("depression", "fear_others"),
                            ("depression", "depression")}
    e = g.edges["fear_others", "depression"]
    assert e["lag"] == 2  # strongest |value|
    assert e["value"] == pytest.approx(-0.20)
    assert e["ci_low"] == pytest.approx(-0.25)
    assert e["ci_high"] == pytest.approx(-0.15)
    assert e["p_value"] == pytest.approx(0.001)
    assert e["lags"] == "1,2"
    assert e["directed"] is True
    assert e["autoregressive"] is False
    assert g.edges["depression", "depression"]["autoregressive"] is True
    assert g.graph["kind"] == "summary"
    assert g.graph["tau_max"] == 2
    assert g.graph["alpha"] == pytest.approx(0.05)


def test_summary_graph_tie_prefers_smaller_lag(make_links):
    g = summary_graph(make_links({("depression", "fear_others", 1): 0.3,
                                  ("depression", "fear_others", 2): -0.3}))
    assert g.edges["depression", "fear_others"]["lag"] == 1
    assert g.edges["depression", "fear_others"]["value"] == pytest.approx(0.3)


def test_summary_graph_without_significant_links_has_all_nodes_no_edges(make_links):
    g = summary_graph(make_links({}))
    assert set(g.nodes) == set(VARS)
    assert g.number_of_edges() == 0


def test_summary_graph_undirected_contemporaneous_both_ways(make_links):
    pair = frozenset(("depression", "self_compassion"))
    lk = make_links({("depression", "self_compassion", 0): -0.3,
                     ("self_compassion", "depression", 0): -0.3,
                     ("fear_others", "depression", 0): 0.2,
                     ("fear_others", "self_compassion", 0): 0.25,
                     ("fear_others", "self_compassion", 1): 0.1},
                    contemporaneous=True, undirected={pair})
    g = summary_graph(lk)
    assert g.edges["depression", "self_compassion"]["directed"] is False
    assert g.edges["self_compassion", "depression"]["directed"] is False
    assert g.edges["fear_others", "depression"]["directed"] is True
    assert g.edges["fear_others", "self_compassion"]["lags"] == "0,1"
    lagged = summary_graph(lk, lagged_only=True)
    assert set(lagged.edges) == {("fear_others", "self_compassion")}
    assert lagged.edges["fear_others", "self_compassion"]["lag"] == 1


def test_summary_graph_mirrors_a_single_undirected_row():
    table = pd.DataFrame({"source": ["a"], "target": ["b"], "lag": [0], "value": [0.3],
                          "p_value": [0.01], "significant": [True], "directed": [False]})
    g = summary_graph(Links(table=table, variables=("a", "b"), tau_max=1, alpha=0.05))
    assert set(g.edges) == {("a", "b"), ("b", "a")}
    assert not any(d for _, _, d in g.edges(data="directed"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(VARS), st.sampled_from(VARS), st.integers(1, 3),
                          st.floats(-0.9, 0.9).filter(lambda x: abs(x) > 1e-6)),
                max_size=12))
def test_summary_graph_edges_are_exactly_significant_pairs(make_links, entries):
    sig = {(s, t, k): v for s, t, k, v in entries}
    lk = make_links(sig, tau_max=3)
    g = summary_graph(lk)
    assert set(g.edges) == {(s, t) for s, t, _ in sig}
    for (s, t), attrs in g.edges.items():
        mine = {k: v for (a, b, k), v in sig.items() if (a, b) == (s, t)}
        assert abs(attrs["value"]) == pytest.approx(max(abs(v) for v in mine.values()))
        assert attrs["lags"] == ",".join(str(k) for k in sorted(mine))


# -------------------------------------------------------- time_series_graph
def test_time_series_graph_nodes_and_edges(graph_links):
    g = time_series_graph(graph_links)
    assert g.number_of_nodes() == len(VARS) * (graph_links.tau_max + 1)
    for var, k in g.nodes:
        assert g.nodes[var, k] == {"variable": var, "lag": k}
    assert set(g.edges) == {(("fear_others", 1), ("depression", 0)),
                            (("fear_others", 2), ("depression", 0)),
                            (("depression", 1), ("fear_others", 0)),
                            (("depression", 1), ("depression", 0))}
    e = g.edges[("fear_others", 2), ("depression", 0)]
    assert e["value"] == pytest.approx(-0.20)
    assert e["lag"] == 2
    assert e["p_value"] == pytest.approx(0.001)
    assert g.edges[("depression", 1), ("depression", 0)]["autoregressive"] is True
    assert g.graph["kind"] == "time_series"


def test_time_series_graph_repeat_fills_the_window(graph_links):
    g = time_series_graph(graph_links, repeat=True)
    # a lag-k link fits tau_max - k + 1 times in the window 0..tau_max
    expected = sum(graph_links.tau_max - k + 1 for k in graph_links.significant()["lag"])
    assert g.number_of_edges() == expected
    for (_, t_from), (_, t_to), lag in g.edges(data="lag"):
        assert t_from - t_to == lag
    assert g.has_edge(("depression", 2), ("depression", 1))


def test_time_series_graph_undirected_contemporaneous(make_links):
    lk = make_links({("depression", "fear_others", 0): 0.3,
                     ("fear_others", "depression", 0): 0.3}, contemporaneous=True,
                    undirected={frozenset(("depression", "fear_others"))}, tau_max=1)
    g = time_series_graph(lk, repeat=True)
    assert g.has_edge(("depression", 0), ("fear_others", 0))
    assert g.has_edge(("fear_others", 1), ("depression", 1))
    assert not any(d for _, _, d in g.edges(data="directed"))


# --------------------------------------------------------------- edge_table
def test_edge_table_matches_summary_graph(graph_links):
    table = edge_table(graph_links)
    assert list(table.columns[:2]) == ["source", "target"]
    assert {"lag", "value", "p_value", "ci_low", "ci_high", "lags", "directed",
            "autoregressive"} <= set(table.columns)
    assert len(table) == summary_graph(graph_links).number_of_edges()
    pd.testing.assert_frame_equal(table, edge_table(summary_graph(graph_links)))
    assert list(zip(table["source"], table["target"], strict=True)) == sorted(
        zip(table["source"], table["target"], strict=True))
    row = table[(table["source"] == "fear_others") & (table["target"] == "depression")]
    assert row["lag"].item() == 2


def test_edge_table_empty_and_bad_input(make_links):
    empty = edge_table(make_links({}))
    assert empty.empty
    assert list(empty.columns) == ["source", "target"]
    with pytest.raises(TypeError, match=r"Links or a networkx\.DiGraph"):
        edge_table(pd.DataFrame())


# ------------------------------------------------------------------- export
def _assert_same_graph(a: nx.DiGraph, b: nx.DiGraph) -> None:
    assert set(a.nodes) == set(b.nodes)
    assert set(a.edges) == set(b.edges)
    for u, v, attrs in a.edges(data=True):
        other = b.edges[u, v]
        assert set(attrs) == set(other)
        for key, val in attrs.items():
            if isinstance(val, float):
                assert (math.isnan(val) and math.isnan(other[key])) or other[key] == val
            else:
                assert other[key] == val
                assert type(other[key]) is type(val)
    for node, attrs in a.nodes(data=True):
        assert b.nodes[node] == attrs
    for key, val in a.graph.items():
        assert b.graph[key] == val


@pytest.mark.parametrize("ci", [True, False])
def test_summary_graph_round_trips(make_links, tmp_path, graph_links, ci):
    g = summary_graph(make_links({("fear_others", "depression", 1): 0.12,
                                  ("depression", "depression", 1): 0.4}, ci=ci))
    _assert_same_graph(g, read_graphml(write_graphml(g, tmp_path / "g.graphml")))
    _assert_same_graph(g, read_json(write_json(g, tmp_path / "g.json")))
    plain = nx.read_graphml(tmp_path / "g.graphml")
    assert set(plain.nodes) == set(VARS)


def test_json_is_strict(make_links, tmp_path):
    g = summary_graph(make_links({("fear_others", "depression", 1): 0.12}, ci=False))
    text = write_json(g, tmp_path / "g.json").read_text(encoding="utf-8")

    def reject(token):
        raise AssertionError(f"non-standard JSON constant {token}")

    data = json.loads(text, parse_constant=reject)
    assert data["edges"][0]["ci_low"] is None


def test_time_series_graph_round_trips(tmp_path, graph_links):
    g = time_series_graph(graph_links, repeat=True)
    path = write_graphml(g, tmp_path / "ts.graphml")
    plain = nx.read_graphml(path)
    assert "depression_lag1" in plain.nodes
    assert plain.has_edge("fear_others_lag2", "depression_lag0")
    _assert_same_graph(g, read_graphml(path))
    jpath = write_json(g, tmp_path / "ts.json")
    assert "depression_lag1" in jpath.read_text(encoding="utf-8")
    _assert_same_graph(g, read_json(jpath))


def test_export_errors(tmp_path):
    g = nx.DiGraph()
    g.add_nodes_from([("a", 1), "a_lag1"])
    with pytest.raises(ValueError, match="a_lag1"):
        write_json(g, tmp_path / "x.json")
    with pytest.raises(TypeError, match="DiGraph"):
        write_graphml(nx.Graph(), tmp_path / "x.graphml")
    with pytest.raises(FileNotFoundError, match=r"missing\.json"):
        read_json(tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError, match=r"missing\.graphml"):
        read_graphml(tmp_path / "missing.graphml")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.json"):
        read_json(bad)


def test_summary_graph_carries_the_effect_size_when_the_links_have_it(make_links):
    links = make_links({("fear_others", "depression", 1): 0.12,
                        ("depression", "self_compassion", 1): -0.13}, tau_max=1)
    plain = next(iter(summary_graph(links).edges(data=True)))[2]
    assert math.isnan(plain.get("effect", math.nan))  # no effect estimated: none on the edge
    table = links.table.assign(effect=links.table["value"] * 2, effect_low=-1.0, effect_high=1.0)
    with_effect = Links(table=table, variables=links.variables, tau_max=1, alpha=0.05)
    edge = summary_graph(with_effect).edges["fear_others", "depression"]
    assert edge["effect"] == pytest.approx(0.24)
    assert (edge["effect_low"], edge["effect_high"]) == (-1.0, 1.0)
