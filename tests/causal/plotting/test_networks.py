"""Network figures stay readable from 3 to 25 variables: checked on the drawn geometry.

The figures are kept in the test's ``tmp_path`` (``graph_<n>.png``, ``networks_<n>.png``) so
they can be looked at; the checks below measure what a reader would see: node circles that
do not touch, names and edge labels that cover no node circle and no other name, everything
inside the figure, and a legend for colour and line style.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from matplotlib.patches import Circle, FancyArrowPatch

from causal.plotting import networks
from causal.plotting.graphs import plot_graph
from causal.plotting.networks import plot_networks

NAMES = ["worry", "nervous", "tired", "cheerful", "relaxed", "irritated", "satisfied",
         "lonely", "anxious", "enthusiastic", "down", "guilty", "self_compassion",
         "fear_others", "strong", "content", "agitated", "restless", "hungry", "sleepy",
         "energetic", "focused", "calm", "bored", "sad"]


def lagged(n: int, seed: int = 0) -> nx.DiGraph:
    """About two lagged edges per node, some autoregressive, both signs."""
    rng = np.random.default_rng(seed)
    g = nx.DiGraph()
    g.add_nodes_from(NAMES[:n])
    for i, j in itertools.product(range(n), repeat=2):
        if rng.random() < min(2.0 / n, 0.5):
            value = float(rng.uniform(-0.5, 0.5))
            g.add_edge(NAMES[i], NAMES[j], lag=1, value=value, directed=True,
                       autoregressive=i == j)
    return g


def undirected(n: int, seed: int = 1, kind: str | None = None) -> nx.DiGraph:
    rng = np.random.default_rng(seed)
    g = nx.DiGraph()
    g.add_nodes_from(NAMES[:n])
    for i, j in itertools.combinations(range(n), 2):
        if rng.random() < min(2.0 / n, 0.6):
            attrs = {"lag": 0, "value": float(rng.uniform(-0.5, 0.5)), "directed": False}
            if kind:
                attrs["kind"] = kind
            g.add_edge(NAMES[i], NAMES[j], **attrs)
            g.add_edge(NAMES[j], NAMES[i], **attrs)
    return g


def geometry(fig):
    """Per axes: node circles (display centre, radius), name boxes, edge-label boxes."""
    fig.draw_without_rendering()
    out = []
    for ax in fig.axes:
        circles = [(ax.transData.transform(c.center),
                    abs(ax.transData.transform((c.radius, 0))[0]
                        - ax.transData.transform((0, 0))[0]))
                   for c in ax.patches if isinstance(c, Circle)]
        labels = {t.get_text() for t in ax.texts if t.get_text().startswith(("lag ", "+", "-"))}
        names = [t.get_window_extent() for t in ax.texts
                 if t.get_text() not in labels and t.get_text() != "no edges"]
        edge_labels = [t.get_window_extent() for t in ax.texts if t.get_text() in labels]
        out.append((circles, names, edge_labels))
    return out


def box_hits_circle(box, centre, radius) -> bool:
    nearest = np.clip(centre, [box.x0, box.y0], [box.x1, box.y1])
    return bool(np.hypot(*(centre - nearest)) < radius)


def check_readable(fig, *, edge_labels_expected: bool) -> None:
    figure_box = fig.bbox
    for circles, names, labels in geometry(fig):
        assert circles, "no nodes drawn"
        for (c1, r1), (c2, r2) in itertools.combinations(circles, 2):
            assert np.hypot(*(c1 - c2)) > r1 + r2, "node circles overlap"
        for box in names + labels:
            assert not any(box_hits_circle(box, c, r) for c, r in circles), \
                "a name or edge label covers a node"
            assert (box.x0 >= figure_box.x0 and box.x1 <= figure_box.x1
                    and box.y0 >= figure_box.y0 and box.y1 <= figure_box.y1), \
                "a name is cut off at the figure's edge"
        for a, b in itertools.combinations(names, 2):
            assert not a.overlaps(b), "two names overlap"
        for a, b in itertools.product(labels, names):
            assert not a.overlaps(b), "an edge label covers a name"
        assert bool(labels) == edge_labels_expected
    legend = fig.legends[0]
    box = legend.get_window_extent()
    assert box.x0 >= figure_box.x0 and box.x1 <= figure_box.x1, "legend cut off"


@pytest.mark.parametrize("n", [3, 7, 18, 25])
def test_graph_is_readable(tmp_path, figures, n):
    g = lagged(n)
    g.add_edges_from(undirected(n).edges(data=True))
    paths = plot_graph(g, tmp_path / f"graph_{n}", title=f"{n} variables")
    assert all(p.stat().st_size > 0 for p in paths)
    fig = figures[-1]
    check_readable(fig, edge_labels_expected=n <= networks.EDGE_LABEL_MAX)
    ax = fig.axes[0]
    names = {t.get_text().split("\n")[0] for t in ax.texts}
    assert set(NAMES[:n]) <= names  # every variable named in full
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    n_drawn = (sum(1 for u, v, a in g.edges(data=True) if u != v and a["directed"])
               + sum(1 for u, v, a in g.edges(data=True) if not a["directed"]) // 2)
    assert len(arrows) == n_drawn
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"positive", "negative", "lagged (t-k → t)", "contemporaneous (lag 0)"} <= set(legend)


@pytest.mark.parametrize("n", [3, 7, 18])
def test_three_networks_are_readable(tmp_path, figures, n):
    panels = [("temporal", lagged(n)), ("contemporaneous", undirected(n)),
              ("between persons", undirected(n, seed=2, kind="between"))]
    plot_networks(panels, tmp_path / f"networks_{n}", title=f"{n} variables")
    fig = figures[-1]
    check_readable(fig, edge_labels_expected=n <= networks.EDGE_LABEL_MAX)
    assert [ax.get_title() for ax in fig.axes] == [p[0] for p in panels]
    styles = [{a.get_linestyle() for a in ax.patches if isinstance(a, FancyArrowPatch)}
              for ax in fig.axes]
    assert styles == [{"solid"}, {"dashed"}, {"dotted"}]
    # the same variable sits at the same place in every panel
    centres = [[tuple(np.round(c.center, 12)) for c in ax.patches if isinstance(c, Circle)]
               for ax in fig.axes]
    assert centres[0] == centres[1] == centres[2]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:5] == ["positive", "negative", "lagged (t-k → t)",
                          "contemporaneous (lag 0)", "between persons (means)"]


def test_edge_labels_can_be_forced(tmp_path, figures):
    g = undirected(12)
    plot_networks([("c", g)], tmp_path / "forced", edge_labels=True, formats=("png",))
    ax = figures[-1].axes[0]
    labels = [t for t in ax.texts if t.get_text().startswith("lag 0")]
    assert len(labels) == g.number_of_edges() // 2


def test_autoregression_is_a_ring_beyond_ten_nodes(tmp_path, figures):
    g = nx.DiGraph()
    g.add_nodes_from(NAMES[:12])
    g.add_edge("worry", "worry", lag=1, value=0.4, autoregressive=True)
    plot_graph(g, tmp_path / "ring", formats=("png",))
    fig = figures[-1]
    rings = [c for c in fig.axes[0].patches if isinstance(c, Circle) and c.get_linewidth() > 2]
    assert len(rings) == 1 and rings[0].get_linewidth() == pytest.approx(1 + 5 * 0.4)
    assert "ring: autoregression" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_node_radius_keeps_neighbours_apart():
    for n in range(2, 40):
        chord = 2 * np.sin(np.pi / n)
        assert 2 * networks.node_radius(n) < 0.5 * chord


def test_plot_networks_bad_input(tmp_path):
    with pytest.raises(ValueError, match="at least one"):
        plot_networks([], tmp_path / "x")
    with pytest.raises(TypeError, match=r"'t'.*DiGraph"):
        plot_networks([("t", nx.Graph())], tmp_path / "x")
    g = nx.DiGraph()
    g.add_edge("a", "b", value=0.1)
    with pytest.raises(ValueError, match=r"'a' -> 'b'.*lag"):
        plot_networks([("t", g)], tmp_path / "x")
    g = nx.DiGraph()
    g.add_edge("a", "b", value=0.1, kind="sideways")
    with pytest.raises(ValueError, match=r"kind.*sideways"):
        plot_networks([("t", g)], tmp_path / "x")


def test_panels_share_one_frame(tmp_path, figures):
    """A long autoregression label in one panel does not shift the others."""
    temporal = nx.DiGraph()
    temporal.add_nodes_from(NAMES[:3])
    temporal.add_edge("tired", "tired", lag=1, value=0.3, autoregressive=True)
    plot_networks([("t", temporal), ("c", undirected(3))], tmp_path / "frame",
                  formats=("png",))
    axes = figures[-1].axes
    assert axes[0].get_xlim() == axes[1].get_xlim()
    assert axes[0].get_ylim() == axes[1].get_ylim()
