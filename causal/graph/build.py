"""Graphs of discovered links (networkx) and their GraphML / JSON exports.

Two views of a :class:`~causal.discovery.links.Links` result:

- :func:`summary_graph` collapses lags: one edge ``source -> target`` per
  pair of variables with at least one significant link.
- :func:`time_series_graph` keeps lags: nodes are ``(variable, k)`` meaning
  the variable at time ``t - k`` (tigramite's window graph).

:func:`write_graphml`, :func:`write_json`, :func:`read_json` and
:func:`read_graphml` export graphs with networkx's own writers. The
who-leads-whom summaries live in :mod:`causal.graph.summary`.

Examples
--------
>>> table = pd.DataFrame({
...     "source": ["fear_others", "depression", "depression"],
...     "target": ["depression", "fear_others", "depression"],
...     "lag": [1, 1, 1], "value": [0.12, 0.02, 0.40], "p_value": [0.001, 0.4, 1e-9],
...     "significant": [True, False, True],
... })
>>> links = Links(table=table, variables=("depression", "self_compassion", "fear_others"),
...               tau_max=2, alpha=0.05)
>>> g = summary_graph(links)
>>> sorted(g.nodes)
['depression', 'fear_others', 'self_compassion']
>>> sorted(g.edges)
[('depression', 'depression'), ('fear_others', 'depression')]
>>> g.edges["depression", "depression"]["autoregressive"]
True
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from causal.discovery.links import Links

__all__ = [
    "edge_table",
    "read_graphml",
    "read_json",
    "summary_graph",
    "time_series_graph",
    "write_graphml",
    "write_json",
]

logger = logging.getLogger(__name__)

#: Edge attributes of :func:`summary_graph`, in the column order of :func:`edge_table`.
SUMMARY_EDGE_ATTRS: tuple[str, ...] = (
    "lag", "value", "p_value", "ci_low", "ci_high", "lags", "directed", "autoregressive",
)


# ------------------------------------------------------------------ helpers
def _graph_attrs(links: Links, kind: str) -> dict[str, Any]:
    """Return graph-level attributes (GraphML-safe scalars) describing the run."""
    return {"kind": kind, "tau_max": int(links.tau_max), "alpha": float(links.alpha),
            "method": str(links.method), "ci_test": str(links.ci_test),
            "variables": ",".join(links.variables)}


_RECORD_FIELDS = ("source", "target", "lag", "value", "p_value", "ci_low", "ci_high",
                  "directed")
#: Effect-size columns carried onto graph edges when the links have them (issue 8's `effect`).
_EFFECT_FIELDS = ("effect", "effect_low", "effect_high")


def _significant_records(links: Links, lagged_only: bool) -> list[dict[str, Any]]:
    """Significant rows as dicts of :data:`_RECORD_FIELDS`, in table order.

    Each undirected contemporaneous row also appears mirrored after them (unless
    that mirrored link is a significant row itself); a repeated
    ``(source, target, lag)`` keeps its first row.
    """
    table = links.table  # the rows of links.significant(), read column by column
    keep = table["significant"].to_numpy(dtype=bool)
    if lagged_only:
        keep = keep & (table["lag"].to_numpy() > 0)
    fields = _RECORD_FIELDS + tuple(c for c in _EFFECT_FIELDS if c in table)
    columns = [table[c].to_numpy()[keep].tolist() for c in fields]
    records = [dict(zip(fields, values, strict=True))
               for values in zip(*columns, strict=True)]
    mirrored = [{**r, "source": r["target"], "target": r["source"]}
                for r in records if not r["directed"]]
    out, seen = [], set()
    for r in records + mirrored:
        key = (r["source"], r["target"], r["lag"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _export_name(node: Hashable) -> str:
    """Return the export id of a node: ``("depression", 1)`` -> ``"depression_lag1"``."""
    if isinstance(node, tuple) and len(node) == 2:
        return f"{node[0]}_lag{node[1]}"
    return str(node)


def _exportable(graph: nx.DiGraph) -> nx.DiGraph:
    """Copy of ``graph`` with string node ids; raises if two nodes would collide."""
    if not isinstance(graph, nx.DiGraph):
        raise TypeError(f"graph must be a networkx.DiGraph, got {type(graph).__name__}")
    mapping = {node: _export_name(node) for node in graph.nodes}
    if len(set(mapping.values())) != len(mapping):
        seen: dict[str, Hashable] = {}
        for node, name in mapping.items():
            if name in seen:
                raise ValueError(f"nodes {seen[name]!r} and {node!r} both export as {name!r}")
            seen[name] = node
    return nx.relabel_nodes(graph, mapping, copy=True)


def _restore(graph: nx.DiGraph) -> nx.DiGraph:
    """Turn exported time-series node ids back into ``(variable, lag)`` tuples."""
    graph.graph.pop("node_default", None)
    graph.graph.pop("edge_default", None)
    if graph.graph.get("kind") != "time_series":
        return graph
    mapping = {n: (str(a["variable"]), int(a["lag"])) for n, a in graph.nodes(data=True)}
    return nx.relabel_nodes(graph, mapping, copy=True)


# ------------------------------------------------------------------ graphs
def summary_graph(links: Links, *, lagged_only: bool = False) -> nx.DiGraph:
    """Collapse significant links over lags into a variable-level graph.

    Parameters
    ----------
    links : Links
        Discovery result; its significant links, collapsed over lags, become the
        edges.
    lagged_only : bool
        Ignore contemporaneous (lag 0) links.

    Returns
    -------
    networkx.DiGraph
        Nodes are all ``links.variables`` (isolated ones too). One edge
        ``source -> target`` per pair with at least one significant link.
        Edge attributes: ``lag``, ``value``, ``p_value``, ``ci_low``,
        ``ci_high`` of the strongest link (largest ``|value|``; the smaller
        lag wins ties), ``lags`` (comma-separated string of all significant
        lags, e.g. ``"1,2"``), ``directed`` and ``autoregressive``
        (``source == target``; self-loops are kept). Graph attributes record
        ``kind="summary"``, ``tau_max``, ``alpha``, ``method``, ``ci_test``.

    Notes
    -----
    An undirected contemporaneous link (``directed=False`` rows) becomes
    edges both ways. ``directed`` is False only when *every* significant link
    behind the edge is undirected; one oriented link (any lagged link is
    oriented) makes the edge directed.

    Examples
    --------
    >>> table = pd.DataFrame({"source": ["a", "a", "b"], "target": ["b", "b", "a"],
    ...                       "lag": [1, 2, 0], "value": [0.2, -0.3, 0.1],
    ...                       "p_value": [0.01, 0.001, 0.0], "significant": True,
    ...                       "directed": [True, True, False]})
    >>> g = summary_graph(Links(table=table, variables=("a", "b"), tau_max=2, alpha=0.05))
    >>> e = g.edges["a", "b"]
    >>> e["lag"], e["value"], e["lags"], e["directed"]
    (2, -0.3, '0,1,2', True)
    >>> g.edges["b", "a"]["directed"]
    False
    """
    graph = nx.DiGraph(**_graph_attrs(links, "summary"))
    graph.add_nodes_from(links.variables)
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in _significant_records(links, lagged_only):
        pairs.setdefault((r["source"], r["target"]), []).append(r)
    for (source, target) in sorted(pairs):
        rows = pairs[(source, target)]
        # strongest link: largest |value| (NaN last), then the smaller lag
        best = min(rows, key=lambda r: (math.isnan(r["value"]), -abs(r["value"]), r["lag"]))
        graph.add_edge(
            source, target,
            lag=int(best["lag"]), value=float(best["value"]), p_value=float(best["p_value"]),
            ci_low=float(best["ci_low"]), ci_high=float(best["ci_high"]),
            lags=",".join(str(int(k)) for k in sorted(r["lag"] for r in rows)),
            directed=any(bool(r["directed"]) for r in rows), autoregressive=source == target,
            **{c: float(best[c]) for c in _EFFECT_FIELDS if c in best},
        )
    logger.debug("summary graph: %d nodes, %d edges", graph.number_of_nodes(),
                 graph.number_of_edges())
    return graph


def time_series_graph(links: Links, *, repeat: bool = False) -> nx.DiGraph:
    """Lag-resolved window graph of the significant links.

    Parameters
    ----------
    links : Links
        Discovery result; its significant links become the edges.
    repeat : bool
        If False (default) each link ``source(t-lag) -> target(t)`` gives one
        edge ``(source, lag) -> (target, 0)``. If True it is repeated at every
        position of the window where both ends fit,
        ``(source, k + lag) -> (target, k)`` for ``k = 0 .. tau_max - lag``.

    Returns
    -------
    networkx.DiGraph
        Nodes ``(variable, k)`` for ``k = 0 .. tau_max`` stand for the
        variable at time ``t - k`` and carry attributes ``variable`` and
        ``lag``. Edges carry ``lag``, ``value``, ``p_value``, ``directed`` and
        ``autoregressive``; undirected contemporaneous links point both ways.

    Examples
    --------
    >>> table = pd.DataFrame({"source": ["a"], "target": ["b"], "lag": [1],
    ...                       "value": [0.3], "p_value": [0.01], "significant": [True]})
    >>> links = Links(table=table, variables=("a", "b"), tau_max=2, alpha=0.05)
    >>> list(time_series_graph(links).edges)
    [(('a', 1), ('b', 0))]
    >>> sorted(time_series_graph(links, repeat=True).edges)
    [(('a', 1), ('b', 0)), (('a', 2), ('b', 1))]
    """
    graph = nx.DiGraph(**_graph_attrs(links, "time_series"))
    for k in range(links.tau_max + 1):
        for var in links.variables:
            graph.add_node((var, k), variable=var, lag=k)
    for row in _significant_records(links, lagged_only=False):
        lag = int(row["lag"])
        shifts = range(links.tau_max - lag + 1) if repeat else range(1)
        for k in shifts:
            graph.add_edge((row["source"], k + lag), (row["target"], k), lag=lag,
                           value=float(row["value"]), p_value=float(row["p_value"]),
                           directed=bool(row["directed"]),
                           autoregressive=bool(row["source"] == row["target"]))
    return graph


def edge_table(links_or_graph: Links | nx.DiGraph) -> pd.DataFrame:
    """Tidy edge list of a summary graph.

    Parameters
    ----------
    links_or_graph : Links or networkx.DiGraph
        A discovery result (its :func:`summary_graph` is used) or any graph.

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``target``, then the summary-graph attributes
        present (``lag``, ``value``, ``p_value``, ``ci_low``, ``ci_high``,
        ``lags``, ``directed``, ``autoregressive``), then any other edge
        attributes; one row per edge sorted by source and target.

    Examples
    --------
    >>> g = nx.DiGraph()
    >>> g.add_edge("b", "a", lag=1, value=0.2)
    >>> g.add_edge("a", "b", lag=2, value=-0.1)
    >>> edge_table(g)[["source", "target", "lag"]].to_dict("records")
    [{'source': 'a', 'target': 'b', 'lag': 2}, {'source': 'b', 'target': 'a', 'lag': 1}]
    """
    if isinstance(links_or_graph, Links):
        graph = summary_graph(links_or_graph)
    elif isinstance(links_or_graph, nx.DiGraph):
        graph = links_or_graph
    else:
        raise TypeError("edge_table expects a Links or a networkx.DiGraph, got "
                        f"{type(links_or_graph).__name__}")
    attrs = sorted({k for _, _, a in graph.edges(data=True) for k in a})
    ordered = [c for c in SUMMARY_EDGE_ATTRS if c in attrs] + [
        c for c in attrs if c not in SUMMARY_EDGE_ATTRS]
    columns = ["source", "target", *ordered]
    if graph.number_of_edges() == 0:
        return pd.DataFrame(columns=columns)
    table = nx.to_pandas_edgelist(graph, source="source", target="target")
    table = table[columns].sort_values(["source", "target"], kind="stable")
    return table.reset_index(drop=True)


# ------------------------------------------------------------------ export
def write_graphml(graph: nx.DiGraph, path: str | Path) -> Path:
    """Write ``graph`` as GraphML (tuple nodes become ``"var_lagK"``) and return the path.

    Examples
    --------
    >>> import tempfile
    >>> g = nx.DiGraph(kind="summary")
    >>> g.add_edge("a", "b", lag=1, value=0.2, lags="1", directed=True)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     back = read_graphml(write_graphml(g, Path(tmp) / "g.graphml"))
    >>> back.edges["a", "b"]["value"], back.graph["kind"]
    (0.2, 'summary')
    """
    path = Path(path)
    nx.write_graphml(_exportable(graph), path)
    logger.info("wrote GraphML graph to %s", path)
    return path


def _existing(path: str | Path, kind: str) -> Path:
    """Return ``path`` as a Path; FileNotFoundError naming ``kind`` if it is no file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{kind} file not found: {path}")
    return path


def read_graphml(path: str | Path) -> nx.DiGraph:
    """Read a graph written by :func:`write_graphml`, restoring time-series tuple nodes."""
    graph = nx.read_graphml(_existing(path, "GraphML"))
    if not isinstance(graph, nx.DiGraph):
        graph = nx.DiGraph(graph)
    return _restore(graph)


def write_json(graph: nx.DiGraph, path: str | Path) -> Path:
    """Write ``graph`` as node-link JSON and return the path.

    Tuple nodes are exported as ``"var_lagK"`` strings; NaN attribute values
    are written as ``null`` so the file is strict JSON.

    Examples
    --------
    >>> import tempfile
    >>> g = nx.DiGraph()
    >>> g.add_edge("a", "b", lag=1, value=0.2, ci_low=float("nan"))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     back = read_json(write_json(g, Path(tmp) / "g.json"))
    >>> back.edges["a", "b"]["value"], math.isnan(back.edges["a", "b"]["ci_low"])
    (0.2, True)
    """
    path = Path(path)
    data = nx.node_link_data(_exportable(graph), edges="edges")

    def clean(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: clean(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [clean(v) for v in obj]
        if isinstance(obj, float) and math.isnan(obj):
            return None
        if isinstance(obj, np.generic):
            return clean(obj.item())
        return obj

    path.write_text(json.dumps(clean(data), indent=2, allow_nan=False), encoding="utf-8")
    logger.info("wrote JSON graph to %s", path)
    return path


def read_json(path: str | Path) -> nx.DiGraph:
    """Read a graph written by :func:`write_json`.

    ``null`` attribute values come back as NaN and time-series graphs get
    their ``(variable, lag)`` tuple nodes back.
    """
    path = _existing(path, "JSON graph")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    for item in [*data.get("nodes", []), *data.get("edges", [])]:
        for key, val in item.items():
            if val is None:
                item[key] = math.nan
    graph = nx.node_link_graph(data, directed=True, multigraph=False, edges="edges")
    return _restore(graph)
