from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex, to_rgb
from matplotlib.image import AxesImage
from matplotlib.patches import Circle, FancyArrowPatch

from causal import plot_edge_frequency, plot_forest, plot_graph, plot_patients
from causal.plotting import graphs as plotting
from causal.plotting import networks

VARS = ["depression", "self_compassion", "fear_others"]


def edge(lag, value, *, directed=True, autoregressive=False, lags=None):
    return {"lag": lag, "value": value, "p_value": 0.001, "lags": lags or str(lag),
            "directed": directed, "autoregressive": autoregressive}


@pytest.fixture
def graph():
    g = nx.DiGraph()
    g.add_nodes_from(VARS)
    g.add_edge("fear_others", "depression", **edge(1, 0.12, lags="1,2"))
    g.add_edge("depression", "fear_others", **edge(2, -0.08))
    g.add_edge("self_compassion", "depression", **edge(0, -0.31, directed=False))
    g.add_edge("depression", "self_compassion", **edge(0, -0.31, directed=False))
    g.add_edge("depression", "depression", **edge(1, 0.35, autoregressive=True))
    return g


@pytest.fixture
def panel():
    rng = np.random.default_rng(0)
    rows = [(p, w, *rng.normal(size=3)) for p in range(8) for w in range(12)]
    df = pd.DataFrame(rows, columns=["patient", "week", *VARS])
    # patient 0 misses weeks 4 and 5; patient 1 misses week 7
    return df[~(((df["patient"] == 0) & df["week"].isin([4, 5]))
                | ((df["patient"] == 1) & (df["week"] == 7)))].reset_index(drop=True)


# ------------------------------------------------------------------ plot_graph
def test_graph_writes_files_with_labels(tmp_path, graph, check_files):
    svg = check_files(plot_graph(graph, tmp_path / "g", title="Summary"), tmp_path / "g")
    assert "lag 1: +0.12 (lags 1,2)" in svg
    assert "lag 2: -0.08" in svg
    assert "AR +0.35" in svg
    assert "Summary" in svg
    assert svg.count("lag 0: -0.31") == 1  # the undirected pair is one link


def test_graph_edge_geometry(tmp_path, graph, figures):
    plot_graph(graph, tmp_path / "g", formats=("png",))
    arrows = [p for p in figures[0].axes[0].patches if isinstance(p, FancyArrowPatch)]
    # two directed edges + one undirected pair; the AR self-link is not drawn as a loop
    assert len(arrows) == 3
    styles = sorted(type(a.get_arrowstyle()).__name__ for a in arrows)
    assert styles.count("Curve") == 1  # "-": no arrowhead for the undirected link
    widths = {a.get_linewidth() for a in arrows}
    assert len(widths) == 3  # width grows with |value| (0.08, 0.12, 0.31 all differ)


def _hex(rgba) -> str:
    return to_hex(rgba, keep_alpha=False)


def test_graph_draws_the_edges_labels_and_nodes(tmp_path, graph, figures):
    plot_graph(graph, tmp_path / "g", title="Summary", formats=("png",))
    fig = figures[0]
    ax = fig.axes[0]
    assert fig.texts[0].get_text() == "Summary"  # the figure title
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    # width 1 + 5 |value| and colour by sign, one arrow per drawn link
    drawn = sorted((round(a.get_linewidth(), 6), _hex(a.get_edgecolor()), a.get_linestyle())
                   for a in arrows)
    assert drawn == [(1.4, networks._NEGATIVE, "solid"),    # depression -> fear_others, -0.08
                     (1.6, networks._POSITIVE, "solid"),    # fear_others -> depression, +0.12
                     (2.55, networks._NEGATIVE, "dashed")]  # depression -- self_compassion, lag 0
    texts = {t.get_text(): t for t in ax.texts}
    # every node is named, just outside its circle; the autoregression under the name
    pos = networks.circle_layout(VARS)
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert sorted(tuple(np.round(c.center, 9)) for c in circles) == sorted(
        tuple(np.round(p, 9)) for p in pos.values())
    for var in VARS:
        name = texts.get(var) or texts[f"{var}\nAR +0.35 (lag 1)"]
        offset = np.asarray(name.get_position()) - pos[var]
        assert np.dot(offset, pos[var]) > 0  # outwards
    assert "depression\nAR +0.35 (lag 1)" in texts
    # one label per drawn link
    assert {"lag 1: +0.12 (lags 1,2)", "lag 2: -0.08", "lag 0: -0.31"} <= set(texts)
    assert [t for t in texts if t.startswith("lag 0")] == ["lag 0: -0.31"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["positive", "negative", "lagged (t-k → t)", "contemporaneous (lag 0)"]


def test_graph_png_shows_both_sign_colours(tmp_path, graph, png_pixels, figures):
    pixels = png_pixels(plot_graph(graph, tmp_path / "g", formats=("png",))[0])
    assert pixels.std() > 0.01  # not blank

    def share(colour: str) -> float:
        return float(np.mean(np.all(np.abs(pixels - to_rgb(colour)) < 0.08, axis=-1)))

    # red (positive) and blue (negative) arrows are visible
    assert share(networks._POSITIVE) > 1e-3 and share(networks._NEGATIVE) > 1e-3
    positive = nx.DiGraph()
    positive.add_edge("a", "b", **edge(1, 0.4))
    pixels = png_pixels(plot_graph(positive, tmp_path / "p", formats=("png",))[0])
    # only the small legend swatch is blue now
    assert share(networks._POSITIVE) > 5 * share(networks._NEGATIVE)


@pytest.mark.parametrize(("value", "present"), [(0.4, "#c0392b"), (-0.4, "#2166ac")])
def test_graph_colour_by_sign(tmp_path, value, present, figures):
    g = nx.DiGraph()
    g.add_edge("a", "b", **edge(1, value))
    plot_graph(g, tmp_path / "g", formats=("svg",))
    arrows = [p for p in figures[0].axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert [_hex(a.get_edgecolor()) for a in arrows] == [present]


@pytest.mark.parametrize("nodes", [[], VARS])
def test_graph_empty(tmp_path, nodes, check_files):
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    svg = check_files(plot_graph(g, tmp_path / "empty"), tmp_path / "empty")
    assert "no significant links" in svg


def test_graph_bad_input(tmp_path):
    g = nx.DiGraph()
    g.add_edge("a", "b", value=0.2)
    with pytest.raises(ValueError, match=r"'a' -> 'b'.*lag"):
        plot_graph(g, tmp_path / "g")
    with pytest.raises(TypeError, match="DiGraph"):
        plot_graph(nx.Graph(), tmp_path / "g")


def test_graph_deterministic(tmp_path, graph):
    first = plot_graph(graph, tmp_path / "a")
    second = plot_graph(graph.copy(), tmp_path / "b")
    for p, q in zip(first, second, strict=True):
        assert p.read_bytes() == q.read_bytes()


# ------------------------------------------------------------------------ _save
def test_save_formats_and_paths(tmp_path, graph):
    stem = tmp_path / "nested" / "fig.v1"
    paths = plot_graph(graph, stem, formats="svg")
    assert paths == [tmp_path / "nested" / "fig.v1.svg"]
    assert paths[0].exists()
    with pytest.raises(ValueError, match=r"unsupported.*bogus"):
        plot_graph(graph, tmp_path / "g", formats=("png", "bogus"))
    with pytest.raises(ValueError, match="at least one"):
        plot_graph(graph, tmp_path / "g", formats=())


# ---------------------------------------------------------------- plot_patients
def test_patients_gaps_break_lines(tmp_path, panel, figures, check_files):
    paths = plot_patients(panel, patients=[0, 1], path_stem=tmp_path / "p")
    svg = check_files(paths, tmp_path / "p")
    assert all(v in svg for v in VARS)
    axes = figures[0].axes
    assert len(axes) == len(VARS)
    for ax, var in zip(axes, VARS, strict=True):
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == ["0", "1"]
        assert all(ln.get_marker() == "o" for ln in lines)
        x0, y0 = (np.asarray(a, dtype=float) for a in lines[0].get_data())
        np.testing.assert_array_equal(x0, np.arange(12))  # reindexed to the full grid
        assert np.isnan(y0[[4, 5]]).all() and np.isfinite(np.delete(y0, [4, 5])).all()
        expected = panel[panel["patient"] == 0][var].to_numpy()
        np.testing.assert_allclose(np.delete(y0, [4, 5]), expected)
        y1 = np.asarray(lines[1].get_ydata(), dtype=float)
        assert np.isnan(y1).sum() == 1 and np.isnan(y1[7])


def labels_of(figures):
    return [ln.get_label() for ln in figures[-1].axes[0].get_lines()]


def test_patients_random_choice_is_deterministic(tmp_path, panel, figures):
    plot_patients(panel, n_patients=3, random_state=5, path_stem=tmp_path / "a")
    plot_patients(panel, n_patients=3, random_state=5, path_stem=tmp_path / "b")
    first, second = labels_of(figures[:1]), labels_of(figures)
    assert first == second and len(set(first)) == 3
    assert set(first) <= {str(p) for p in range(8)}
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    # different seeds eventually pick different patients (C(8,3) = 56 subsets)
    seen = set()
    for seed in range(10):
        plot_patients(panel, n_patients=3, random_state=seed, variables=["depression"],
                      path_stem=tmp_path / "c", formats=("png",))
        seen.add(tuple(labels_of(figures)))
    assert len(seen) > 1
    plot_patients(panel, n_patients=50, variables=["depression"], path_stem=tmp_path / "d",
                  formats=("png",))
    assert labels_of(figures) == [str(p) for p in range(8)]


def test_patients_bad_input(tmp_path, panel):
    with pytest.raises(ValueError, match=r"unknown patient.*99"):
        plot_patients(panel, patients=[0, 99], path_stem=tmp_path / "p")
    with pytest.raises(ValueError, match="'sleep'"):
        plot_patients(panel, variables=["sleep"], path_stem=tmp_path / "p")
    with pytest.raises(ValueError, match="'visit'"):
        plot_patients(panel, time_col="visit", path_stem=tmp_path / "p")
    with pytest.raises(ValueError, match="n_patients"):
        plot_patients(panel, n_patients=0, path_stem=tmp_path / "p")
    dup = pd.concat([panel, panel.iloc[[0]]])
    with pytest.raises(ValueError, match="patient 0 has duplicated 'week'"):
        plot_patients(dup, patients=[0], path_stem=tmp_path / "p")
    text = panel.assign(depression="high")
    with pytest.raises(ValueError, match="'depression' must be numeric"):
        plot_patients(text, variables=["depression"], path_stem=tmp_path / "p")


# ---------------------------------------------------------- plot_edge_frequency
@pytest.fixture
def freq():
    rows = [(s, t, lag, (i * 7 % 10) / 10) for i, (s, t, lag) in enumerate(
        (s, t, lag) for lag in (1, 2) for s in VARS for t in VARS)]
    return pd.DataFrame(rows, columns=["source", "target", "lag", "frequency"])


def test_edge_frequency(tmp_path, freq, figures, check_files):
    freq = freq.iloc[1:]  # one missing cell stays blank
    svg = check_files(plot_edge_frequency(freq, tmp_path / "f"), tmp_path / "f")
    assert "lag 1" in svg and "lag 2" in svg and "source (cause)" in svg
    for f in freq["frequency"].unique():
        assert f"{f:.0%}" in svg
    heat = [ax for ax in figures[0].axes if any(isinstance(i, AxesImage) for i in ax.images)]
    assert len(heat) == 2  # one per lag
    assert len(figures[0].axes) == 3  # plus the colorbar
    grid = heat[0].images[0].get_array()
    names = sorted(VARS)  # rows = source, columns = target
    row = freq[(freq["lag"] == 1) & (freq["source"] == "fear_others")
               & (freq["target"] == "depression")]
    assert grid[names.index("fear_others"), names.index("depression")] == pytest.approx(
        row["frequency"].item())
    assert np.ma.is_masked(grid[names.index("depression"), names.index("depression")])
    assert figures[0].axes[-1].get_ylabel() == "selection frequency"  # the default label


def test_edge_frequency_label(tmp_path, freq, figures):
    paths = plot_edge_frequency(freq, tmp_path / "s", label="share of patients",
                                formats=("svg",))
    assert figures[0].axes[-1].get_ylabel() == "share of patients"
    text = paths[0].read_text()
    assert "share of patients" in text and "selection frequency" not in text


def test_edge_frequency_bad_input(tmp_path, freq):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plot_edge_frequency(freq.assign(frequency=1.5), tmp_path / "f")
    with pytest.raises(ValueError, match="duplicated"):
        plot_edge_frequency(pd.concat([freq, freq.iloc[[0]]]), tmp_path / "f")
    with pytest.raises(ValueError, match="'frequency'"):
        plot_edge_frequency(freq.drop(columns="frequency"), tmp_path / "f")
    with pytest.raises(ValueError, match="no rows"):
        plot_edge_frequency(freq.iloc[:0], tmp_path / "f")


# ------------------------------------------------------------------ plot_forest
@pytest.fixture
def forest():
    return pd.DataFrame({
        "name": ["fear->dep", "sc->dep", "dep->fear"],
        "value": [0.12, -0.05, 0.01], "ci_low": [0.05, -0.12, -0.04],
        "ci_high": [0.19, 0.02, 0.06], "boot_low": [0.03, -0.15, -0.06],
        "boot_high": [0.2, 0.04, 0.07], "verdict": ["supported", "inconclusive", "contradicted"],
        "expected": ["+", "-", "+"], "sesoi": 0.05,
    })


def test_forest(tmp_path, forest, figures, check_files):
    svg = check_files(plot_forest(forest, tmp_path / "h"), tmp_path / "h")
    assert "fear-&gt;dep (expected +)" in svg or "fear->dep (expected +)" in svg
    for word in ("supported", "inconclusive", "contradicted", "bootstrap interval",
                 "SESOI"):
        assert word in svg
    ax = figures[0].axes[0]
    colours = {c.get_label(): c.get_facecolor()[0][:3] for c in ax.collections
               if c.get_label() in plotting._VERDICT_COLOURS}
    assert len(colours) == 3 and len({tuple(c) for c in colours.values()}) == 3
    assert any(line.get_xdata()[0] == 0 for line in ax.get_lines())  # vertical line at 0


def test_forest_minimal_and_errors(tmp_path, forest, check_files):
    minimal = forest[["name", "value", "ci_low", "ci_high"]]
    svg = check_files(plot_forest(minimal, tmp_path / "m"), tmp_path / "m")
    assert "SESOI" not in svg and "bootstrap" not in svg
    with pytest.raises(ValueError, match=r"ci_low > ci_high.*sc->dep"):
        plot_forest(forest.assign(ci_low=[0.0, 0.5, 0.0]), tmp_path / "m")
    with pytest.raises(ValueError, match="'ci_high'"):
        plot_forest(forest.drop(columns="ci_high"), tmp_path / "m")
    with pytest.raises(TypeError, match="DataFrame"):
        plot_forest(forest.to_dict(), tmp_path / "m")
