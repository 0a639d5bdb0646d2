"""Network drawings that stay readable from 3 to 25 variables, and the three-network figure.

:func:`draw_network` draws one graph on a square axes: nodes on a circle
(first variable at the top, clockwise), node circles sized so that neighbours
never touch (radius at most ``0.45 * sin(pi / n)`` of the layout radius),
names outside the circle (horizontal up to 10 nodes, radial beyond) with the
axes limits widened until every name fits, edges clipped at the node circles,
and edge labels placed along their edge where they cover no node circle, no
name and no other label. :func:`plot_networks` draws the temporal,
contemporaneous and between-person networks side by side on one layout, with
one legend for colour (sign) and line style (lagged, contemporaneous, between).
:func:`causal.plotting.graphs.plot_graph` uses the same drawing.

Edge styles: ``kind`` ``"lagged"`` (solid), ``"contemporaneous"`` (dashed) or
``"between"`` (dotted), by default ``"contemporaneous"`` when ``lag == 0`` and
``"lagged"`` otherwise. Colour shows the sign (red positive, blue negative),
width ``1 + 5 |s|`` points, where ``s`` is the edge's ``effect`` (the standardized
within-person change, comparable across variables) when the links carry it and
its partial correlation ``value`` otherwise; the edge labels show ``value``.

Examples
--------
>>> import tempfile
>>> g = nx.DiGraph()
>>> g.add_edge("worry", "nervous", lag=1, value=0.2)
>>> with tempfile.TemporaryDirectory() as tmp:
...     [p.name for p in plot_networks([("temporal", g), ("between", nx.DiGraph())],
...                                    Path(tmp) / "networks", formats=("png",))]
['networks.png']
>>> _edge_kind({"lag": 0}), _edge_kind({"lag": 2}), _edge_kind({"lag": 0, "kind": "between"})
('contemporaneous', 'lagged', 'between')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.text import Text

from causal.plotting._base import _DEFAULT_FORMATS, _save, _saves_figure

__all__ = [
    "EDGE_STYLES",
    "NetworkArtists",
    "circle_layout",
    "default_edge_label",
    "draw_network",
    "figure_of_panels",
    "name_fontsize",
    "network_legend",
    "node_radius",
    "plot_networks",
]

_POSITIVE, _NEGATIVE, _NEUTRAL = "#c0392b", "#2166ac", "#7f7f7f"
_BOX = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9}

#: Line style of each kind of edge.
EDGE_STYLES: dict[str, str] = {"lagged": "solid", "contemporaneous": "dashed",
                               "between": "dotted"}
_KIND_LABELS = {"lagged": "lagged (t-k → t)", "contemporaneous": "contemporaneous (lag 0)",
                "between": "between persons (means)"}

#: Names are written horizontally up to this many nodes, radially beyond.
_HORIZONTAL_MAX = 10
#: Edge labels are drawn by default up to this many nodes.
EDGE_LABEL_MAX = 8
_PANEL_INCHES = 6.0
_GAP = 0.05  # between a node circle and its name, in layout units (circle radius 1)


def _sign_colour(value: float) -> str:
    if not np.isfinite(value) or value == 0:
        return _NEUTRAL
    return _POSITIVE if value > 0 else _NEGATIVE


def _edge_kind(attrs: dict[str, Any]) -> str:
    kind = attrs.get("kind")
    if kind is None:
        return "contemporaneous" if int(attrs.get("lag", 1)) == 0 else "lagged"
    if kind not in EDGE_STYLES:
        raise ValueError(f"edge kind must be one of {list(EDGE_STYLES)}, got {kind!r}")
    return str(kind)


def _edge_width(value: float) -> float:
    return 1.0 + 5.0 * min(abs(value), 1.0) if np.isfinite(value) else 1.0


def default_edge_label(attrs: dict[str, Any]) -> str:
    """Format an edge as ``"lag 1: +0.12"``, listing all lags when there are several.

    >>> default_edge_label({"lag": 1, "value": -0.123, "lags": "1,2"})
    'lag 1: -0.12 (lags 1,2)'
    >>> default_edge_label({"kind": "between", "value": 0.3})
    '+0.30'
    """
    if _edge_kind(attrs) == "between":
        return f"{float(attrs['value']):+.2f}"
    label = f"lag {int(attrs['lag'])}: {float(attrs['value']):+.2f}"
    lags = str(attrs.get("lags", "") or "")
    if "," in lags:
        label += f" (lags {lags.replace(' ', '')})"
    return label


# ----------------------------------------------------------------- geometry
def circle_layout(nodes: Sequence[Hashable]) -> dict[Hashable, np.ndarray]:
    """Nodes on the unit circle, the first at the top, clockwise.

    >>> {k: (v.round(3) + 0.0).tolist() for k, v in circle_layout(["a", "b", "c", "d"]).items()}
    {'a': [0.0, 1.0], 'b': [1.0, 0.0], 'c': [0.0, -1.0], 'd': [-1.0, 0.0]}
    """
    n = len(nodes)
    if n == 1:
        return {nodes[0]: np.zeros(2)}
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / max(n, 1)
    return {node: np.array([math.cos(a), math.sin(a)]) for node, a in zip(nodes, angles,
                                                                          strict=True)}


def node_radius(n: int) -> float:
    """Node circle radius (layout radius 1): neighbours on the circle never touch.

    Adjacent nodes are ``2 sin(pi / n)`` apart; the radius is at most
    ``0.45 sin(pi / n)``, so circles keep 55% of that distance free.

    >>> round(node_radius(3), 3), round(node_radius(18), 3), round(node_radius(25), 3)
    (0.14, 0.078, 0.056)
    """
    if n <= 1:
        return 0.14
    return min(0.14, 0.45 * math.sin(math.pi / n))


def name_fontsize(n: int) -> float:
    """Font size of node names: smaller as the number of nodes grows.

    >>> name_fontsize(3), name_fontsize(18), name_fontsize(25)
    (11.0, 9.0, 8.0)
    """
    return 11.0 if n <= 8 else 10.0 if n <= 12 else 9.0 if n <= 18 else 8.0


def _bezier(a: np.ndarray, b: np.ndarray, rad: float, t: float) -> np.ndarray:
    """Point ``t`` of matplotlib's ``arc3`` curve from ``a`` to ``b`` (equal-aspect axes)."""
    mid, d = (a + b) / 2, b - a
    ctrl = mid + rad * np.array([d[1], -d[0]])
    return (1 - t) ** 2 * a + 2 * (1 - t) * t * ctrl + t**2 * b


def _rect_circle_gap(centre: np.ndarray, half: np.ndarray, c: np.ndarray, r: float) -> float:
    """Distance from a circle to an axis-aligned rectangle (negative: they overlap)."""
    nearest = np.clip(c, centre - half, centre + half)
    return float(np.hypot(*(c - nearest)) - r)


def _rects_overlap(c1: np.ndarray, h1: np.ndarray, c2: np.ndarray, h2: np.ndarray) -> bool:
    return bool(np.all(np.abs(c1 - c2) < h1 + h2))


@dataclass
class NetworkArtists:
    """What :func:`draw_network` drew, for checks and tests.

    Attributes
    ----------
    nodes : dict
        Node -> its :class:`~matplotlib.patches.Circle`.
    names : dict
        Node -> its name :class:`~matplotlib.text.Text`.
    edges : list of (u, v, FancyArrowPatch)
        Drawn edges (an undirected pair once).
    labels : list of Text
        Edge labels.
    limit : float
        Half-width of the square data limits.
    rings : bool
        Whether autoregressive links were drawn as node rings.
    """

    nodes: dict[Hashable, Circle] = field(default_factory=dict)
    names: dict[Hashable, Text] = field(default_factory=dict)
    edges: list[tuple[Hashable, Hashable, FancyArrowPatch]] = field(default_factory=list)
    labels: list[Text] = field(default_factory=list)
    limit: float = 1.0
    rings: bool = False


def _points_per_unit(ax: Axes, limit: float) -> float:
    """Points per data unit of a square axes with limits ``±limit``."""
    fig = ax.get_figure()
    box = ax.get_position()
    side = min(box.width * fig.get_figwidth(), box.height * fig.get_figheight()) * 72
    return side / (2 * limit)


def _extent(text: Text) -> np.ndarray:
    """Width and height of a text in points (its axis-aligned box, rotation included)."""
    fig = text.get_figure()
    bbox = text.get_window_extent()
    return np.array([bbox.width, bbox.height]) * 72 / fig.dpi


def _fit_limits(pos: dict[Hashable, np.ndarray], r: float, spans: list, *, side: float
                ) -> tuple[float, np.ndarray]:
    """Half-width and centre of square limits holding every node circle and name.

    A name of ``w`` points spans ``w * 2 L / side`` data units when the limits
    are ``±L`` on an axes ``side`` points wide, so ``L`` is found by iteration
    (a contraction while names take less than half the side; capped at 6).
    """
    points = np.array(list(pos.values())) if pos else np.zeros((1, 2))
    lo, hi = points.min(axis=0) - r, points.max(axis=0) + r
    limit, centre = 1.2, np.zeros(2)
    for _ in range(60):
        unit = 2 * limit / side
        low, high = lo.copy(), hi.copy()
        for anchor, size, fx, fy in spans:
            for k, f in ((0, fx), (1, fy)):
                low[k] = min(low[k], anchor[k] + f[0] * size[k] * unit)
                high[k] = max(high[k], anchor[k] + f[1] * size[k] * unit)
        new = min(float(np.max(high - low)) / 2 + 0.05, 6.0)
        centre = (low + high) / 2
        if abs(new - limit) < 1e-6:
            break
        limit = new
    return limit, centre


def draw_network(ax: Axes, graph: nx.DiGraph, *, nodes: Sequence[Hashable] | None = None,
                 edge_labels: bool | None = None,
                 edge_label: Callable[[dict[str, Any]], str] = default_edge_label
                 ) -> NetworkArtists:
    """Draw ``graph`` on a square axes (positioned already; limits are set here).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Target axes; its position in the figure must be final (the limits are
        computed so that the names fit at that size).
    graph : networkx.DiGraph
        Edges carry ``value`` and ``lag`` (or ``kind``), optionally ``directed``
        (default True), ``autoregressive`` (default: a self-loop) and ``lags``.
        A self-loop is written under its node's name (``AR +0.35 (lag 1)``)
        up to 10 nodes and drawn as the node's ring (colour by sign, width by
        ``|value|``) beyond; an undirected pair is drawn once, straight and without
        arrowhead; directed edges are curved so ``a -> b`` and ``b -> a`` stay apart.
    nodes : sequence, optional
        Node order on the circle (default: the graph's); pass the same order
        to several panels to keep every variable in the same place.
    edge_labels : bool, optional
        Write edge labels; default only up to :data:`EDGE_LABEL_MAX` nodes.
    edge_label : callable
        Edge attributes -> label text.

    Returns
    -------
    NetworkArtists
    """
    order = list(graph.nodes) if nodes is None else list(nodes)
    n = len(order)
    pos = circle_layout(order) if n else {}
    r = node_radius(n)
    fontsize = name_fontsize(n)
    horizontal = n <= _HORIZONTAL_MAX
    show_labels = (n <= EDGE_LABEL_MAX) if edge_labels is None else bool(edge_labels)
    out = NetworkArtists()
    ax.set_axis_off()
    ax.set_aspect("equal")

    ar_text: dict[Hashable, str] = {}
    ar_value: dict[Hashable, float] = {}
    for u, v, attrs in graph.edges(data=True):
        if u == v or attrs.get("autoregressive", False):
            ar_value[u] = float(attrs["value"])
            ar_text[u] = f"AR {ar_value[u]:+.2f} (lag {int(attrs['lag'])})"

    # nodes and names; names start at the circle's edge, pointing away from the centre
    spans = []  # per name: anchor, size in points, extent factors along x and y
    for node in order:
        p = pos[node]
        ring = ar_value.get(node) if not horizontal else None
        out.rings |= ring is not None
        out.nodes[node] = ax.add_patch(Circle(
            tuple(p), r, facecolor="#f2f2f2", zorder=3,
            edgecolor="#404040" if ring is None else _sign_colour(ring),
            linewidth=1.2 if ring is None else _edge_width(ring)))
        theta = math.atan2(p[1], p[0]) if n > 1 else math.pi / 2
        c, s = math.cos(theta), math.sin(theta)
        anchor = p + (r + _GAP) * np.array([c, s]) if n > 1 else p + np.array([0, r + _GAP])
        extra = ar_text.get(node)
        if horizontal:
            ha = "left" if c > 0.3 else "right" if c < -0.3 else "center"
            va = "bottom" if s > 0.3 else "top" if s < -0.3 else "center"
            text = str(node) + (f"\n{extra}" if extra else "")
            t = ax.text(*anchor, text, ha=ha, va=va, fontsize=fontsize, zorder=4,
                        multialignment="center", bbox=_BOX)
            fx = {"left": (0.0, 1.0), "right": (-1.0, 0.0)}.get(ha, (-0.5, 0.5))
            fy = {"bottom": (0.0, 1.0), "top": (-1.0, 0.0)}.get(va, (-0.5, 0.5))
        else:
            deg = math.degrees(theta)
            rotation, ha = (deg, "left") if c >= -1e-9 else (deg + 180, "right")
            text = str(node)  # the autoregression is the node's ring (colour, width)
            t = ax.text(*anchor, text, ha=ha, va="center", rotation=rotation,
                        rotation_mode="anchor", fontsize=fontsize, zorder=4, bbox=_BOX)
            fx, fy = ((0.0, 1.0) if x > 0.05 else (-1.0, 0.0) if x < -0.05 else (-0.5, 0.5)
                      for x in (c, s))
        out.names[node] = t
        spans.append((anchor, _extent(t), fx, fy))
    limit, centre = _fit_limits(pos, r, spans, side=2 * _points_per_unit(ax, 1.0))
    ax.set_xlim(centre[0] - limit, centre[0] + limit)
    ax.set_ylim(centre[1] - limit, centre[1] + limit)
    out.limit = limit
    if n == 0:
        return out
    unit = 1.0 / _points_per_unit(ax, limit)  # data units per point

    # edges
    drawn: list[tuple[Hashable, Hashable, dict[str, Any], float]] = []
    seen: set[frozenset] = set()
    for u, v, attrs in graph.edges(data=True):
        if u == v or attrs.get("autoregressive", False):
            continue
        directed = bool(attrs.get("directed", True))
        if not directed:
            if frozenset((u, v)) in seen:
                continue
            seen.add(frozenset((u, v)))
        value = float(attrs["value"])
        # width and colour by the standardized within-person effect where it was estimated
        # (comparable across variables), else by the partial correlation
        effect = float(attrs.get("effect", math.nan))
        strength = effect if math.isfinite(effect) else value
        rad = 0.18 if directed else 0.0
        arrow = FancyArrowPatch(
            posA=tuple(pos[u]), posB=tuple(pos[v]), patchA=out.nodes[u], patchB=out.nodes[v],
            shrinkA=0, shrinkB=0, arrowstyle="-|>" if directed else "-",
            mutation_scale=10 + 8 * min(abs(strength), 1.0) if np.isfinite(strength) else 10,
            connectionstyle=f"arc3,rad={rad}", color=_sign_colour(strength),
            linewidth=_edge_width(strength), linestyle=EDGE_STYLES[_edge_kind(attrs)],
            zorder=2)
        ax.add_patch(arrow)
        out.edges.append((u, v, arrow))
        drawn.append((u, v, attrs, rad))

    if not show_labels:
        return out
    # edge labels: along the edge, clear of node circles, names and earlier labels
    taken = []
    for t in out.names.values():
        bb = t.get_window_extent().transformed(ax.transData.inverted())
        taken.append((np.array([(bb.x0 + bb.x1) / 2, (bb.y0 + bb.y1) / 2]),
                      np.array([bb.width / 2, bb.height / 2])))
    pad = 0.02
    for u, v, attrs, rad in drawn:
        label = ax.text(0, 0, edge_label(attrs), ha="center", va="center",
                        fontsize=fontsize - 2, zorder=5, bbox=_BOX,
                        color=_sign_colour(float(attrs["value"])))
        half = _extent(label) * unit / 2 + pad
        best, best_score = None, -np.inf
        for step in (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8):
            centre = _bezier(pos[u], pos[v], rad, step)
            gap = min(_rect_circle_gap(centre, half, pos[k], r) for k in order)
            clash = any(_rects_overlap(centre, half, c2, h2) for c2, h2 in taken)
            score = min(gap, 0.0) - (1.0 if clash else 0.0) - 0.01 * abs(step - 0.5)
            if score > best_score:
                best, best_score = centre, score
            if gap > 0 and not clash:
                break
        label.set_position(tuple(best))
        taken.append((best, half))
        out.labels.append(label)
    return out


def network_legend(fig: Figure, kinds: Iterable[str], *, ring: bool = False,
                   loc: str = "lower center") -> Any:
    """Add a figure legend for colour (sign) and line style (``kinds`` of edges).

    ``ring=True`` adds an entry for autoregressive links drawn as node rings.
    """
    handles = [Line2D([], [], color=_POSITIVE, linewidth=3, label="positive"),
               Line2D([], [], color=_NEGATIVE, linewidth=3, label="negative")]
    handles += [Line2D([], [], color=_NEUTRAL, linewidth=2, linestyle=EDGE_STYLES[k],
                       label=_KIND_LABELS[k]) for k in EDGE_STYLES if k in set(kinds)]
    if ring:
        handles.append(Line2D([], [], color=_NEUTRAL, marker="o", markersize=9,
                              markerfacecolor="#f2f2f2", markeredgewidth=2.5, linestyle="none",
                              label="ring: autoregression"))
    # one row when it fits (about 1.9 inches an entry), else rows of three
    ncol = len(handles) if 1.9 * len(handles) <= fig.get_figwidth() else 3
    return fig.legend(handles=handles, loc=loc, ncol=ncol, fontsize=9,
                      title="edge colour: sign; line: kind; width: |effect| (else |partial corr.|)",
                      title_fontsize=9, frameon=False)


def _panel_inches(graphs: Sequence[nx.DiGraph]) -> float:
    """Return the panel side in inches: 6 up to 10 nodes, 7.5 at 25, wider for long names.

    The longest name takes at most about a fifth of the side.
    """
    names = [str(v) for g in graphs for v in g.nodes]
    n = max((g.number_of_nodes() for g in graphs), default=0)
    longest = max([len(s) for s in names] + [16 if n <= _HORIZONTAL_MAX else 0])
    estimate = 0.6 * name_fontsize(n) * longest / 72  # inches of the longest name
    return max(_PANEL_INCHES + 0.1 * max(n - _HORIZONTAL_MAX, 0), 5.0 * estimate)


def figure_of_panels(n_panels: int, side: float, *, title: str | None = None
                     ) -> tuple[Figure, list[Axes]]:
    """Return a figure with ``n_panels`` square axes in a row, a title and room for a legend."""
    top, bottom, margin = (0.5 if title else 0.1) + 0.35, 0.9, 0.15
    width, height = n_panels * side + (n_panels + 1) * margin, side + top + bottom
    fig = Figure(figsize=(width, height))
    axes = [fig.add_axes(((margin + k * (side + margin)) / width, bottom / height,
                          side / width, side / height)) for k in range(n_panels)]
    if title:
        fig.suptitle(title, y=1 - 0.12 / height, va="top", fontsize=13)
    return fig, axes


@_saves_figure
def plot_networks(panels: Sequence[tuple[str, nx.DiGraph]], path_stem: str | Path, *,
                  title: str | None = None, edge_labels: bool | None = None,
                  formats: Iterable[str] = _DEFAULT_FORMATS) -> list[Path]:
    """Draw several networks side by side on one layout, with one legend.

    Parameters
    ----------
    panels : sequence of (str, networkx.DiGraph)
        Panel title and graph (edges as for :func:`draw_network`), e.g. the
        temporal, contemporaneous and between-person networks. Every variable
        sits at the same place in every panel.
    %(path_stem)s
    title : str, optional
        Figure title.
    edge_labels : bool, optional
        See :func:`draw_network`.

    %(returns)s
    """
    panels = list(panels)
    if not panels:
        raise ValueError("panels must name at least one (title, graph) pair")
    for name, graph in panels:
        if not isinstance(graph, nx.DiGraph):
            raise TypeError(f"panel {name!r}: graph must be a networkx.DiGraph, got "
                            f"{type(graph).__name__}")
        for u, v, attrs in graph.edges(data=True):
            if "value" not in attrs or ("lag" not in attrs and "kind" not in attrs):
                raise ValueError(f"panel {name!r}: edge {u!r} -> {v!r} needs 'value' and "
                                 "'lag' (or 'kind')")
    order: list[Hashable] = []
    for _, graph in panels:
        order += [v for v in graph.nodes if v not in order]
    fig, axes = figure_of_panels(len(panels), _panel_inches([g for _, g in panels]),
                                 title=title)
    kinds, rings = set(), False
    for ax, (name, graph) in zip(axes, panels, strict=True):
        rings |= draw_network(ax, graph, nodes=order, edge_labels=edge_labels).rings
        real = [a for u, v, a in graph.edges(data=True)
                if u != v and not a.get("autoregressive", False)]
        kinds |= {_edge_kind(a) for a in graph.edges.values()}
        ax.set_title(name, fontsize=12)
        if not real:
            ax.text(0.5, 0.5, "no edges", transform=ax.transAxes, ha="center", va="center",
                    fontsize=12, color=_NEUTRAL)
    # one frame for all panels, so every variable sits at the same place on the page
    # (widening only shrinks names and labels relative to the data: no new overlaps)
    lo = np.min([[ax.get_xlim()[0], ax.get_ylim()[0]] for ax in axes], axis=0)
    hi = np.max([[ax.get_xlim()[1], ax.get_ylim()[1]] for ax in axes], axis=0)
    half, mid = float(np.max(hi - lo)) / 2, (lo + hi) / 2
    for ax in axes:
        ax.set_xlim(mid[0] - half, mid[0] + half)
        ax.set_ylim(mid[1] - half, mid[1] + half)
    network_legend(fig, kinds or {"lagged"}, ring=rings)
    return _save(fig, path_stem, formats)
