"""Compare a discovered lagged graph with a known truth: precision, recall, F1, SHD.

The comparison is over a fixed set of *candidate* lagged edges
``source(t - lag) -> target(t)``: every ordered pair of variables at lags
``1..tau_max`` (self-loops, the autoregressive edges, only when asked). Each
candidate has a *state* in each graph: ``0`` (absent), ``+1`` or ``-1``
(present with that sign) or, with ``signed=False``, ``1`` (present).

* A true positive is a candidate present in both graphs (with the same sign
  when ``signed``); a discovered edge with the wrong sign counts as a false
  positive *and* a false negative (``wrong_sign`` counts these).
* Precision, recall and F1 are :func:`sklearn.metrics.precision_recall_fscore_support`
  with ``average="micro"`` over the present-edge labels; undefined values
  (nothing discovered, nothing true) are NaN.
* The false-positive rate is over the candidates absent from the truth.
* The structural Hamming distance (SHD) is the number of candidates whose
  state differs. Lagged edges always point forward in time, so no edge can
  be *reversed*: each difference is one insertion, one deletion or (signed)
  one sign change.

Lag-0 (contemporaneous) links are outside this comparison.

Graphs can be given as a :class:`~causal.discovery.links.Links` result (its
significant rows), a truth table (``cause, effect, lag, coefficient`` as in
:meth:`features.simulate.Scenario.truth`, or ``source, target, lag, value``
with an optional ``significant`` column), a summary :class:`networkx.DiGraph`
(edge attributes ``lag`` or ``lags`` and ``value``, as built by
:func:`causal.graph.build.summary_graph`) or an iterable of ``(source, target, lag)``
/ ``(source, target, lag, value)`` tuples.

Examples
--------
>>> truth = pd.DataFrame({"cause": ["x", "y"], "effect": ["y", "x"], "lag": [1, 1],
...                       "coefficient": [0.2, 0.0]})
>>> found = [("x", "y", 1, 0.15), ("z", "x", 1, -0.1)]
>>> c = compare_graphs(found, truth, variables=("x", "y", "z"))
>>> c.tp, c.fp, c.fn, c.shd
(1, 1, 0, 1)
>>> round(c.precision, 2), c.recall, round(c.f1, 3)
(0.5, 1.0, 0.667)
>>> print(c)  # doctest: +NORMALIZE_WHITESPACE
signed comparison over 6 candidate edges: TP 1, FP 1 (0 wrong sign), FN 0, TN 4;
precision 0.500, recall 1.000, F1 0.667, FPR 0.200, SHD 1
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support

from causal.discovery.links import Links, format_link
from features.errors import is_integer

__all__ = [
    "GraphComparison",
    "candidate_edges",
    "compare_graphs",
    "edge_signs",
    "edge_states",
    "structural_hamming_distance",
]

logger = logging.getLogger(__name__)

EdgeKey = tuple[str, str, int]
GraphLike = Links | pd.DataFrame | nx.DiGraph | Mapping[EdgeKey, float] | Iterable[Sequence[Any]]


# ------------------------------------------------------------------- edges
def candidate_edges(variables: Sequence[str], tau_max: int = 1, *,
                    include_autoregressive: bool = False) -> list[EdgeKey]:
    """Return every lagged edge that a comparison scores.

    Parameters
    ----------
    variables : sequence of str
        Variable names (distinct).
    tau_max : int
        Largest lag (>= 1).
    include_autoregressive : bool
        Also score ``v(t - lag) -> v(t)``.

    Returns
    -------
    list of (source, target, lag)
        Sorted by lag, source, target.

    Examples
    --------
    >>> candidate_edges(("a", "b"))
    [('a', 'b', 1), ('b', 'a', 1)]
    >>> len(candidate_edges(("a", "b", "c"), tau_max=2, include_autoregressive=True))
    18
    """
    names = [str(v) for v in variables]
    if len(set(names)) != len(names) or not names:
        raise ValueError(f"variables must be distinct and non-empty, got {list(variables)!r}")
    if not is_integer(tau_max) or tau_max < 1:
        raise ValueError(f"tau_max must be an integer >= 1, got {tau_max!r}")
    return [(s, t, lag) for lag in range(1, int(tau_max) + 1) for s in names for t in names
            if include_autoregressive or s != t]


def _sign(value: Any, where: str) -> int:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: edge value must be a number, got {value!r}") from None
    if math.isnan(x):
        raise ValueError(f"{where}: edge value is NaN; a present edge needs a sign")
    return int(np.sign(x))


def _from_frame(frame: pd.DataFrame) -> dict[EdgeKey, int]:
    if {"cause", "effect"} <= set(frame.columns):
        frame = frame.rename(columns={"cause": "source", "effect": "target",
                                      "coefficient": "value"})
    missing = [c for c in ("source", "target", "lag") if c not in frame.columns]
    if missing:
        raise ValueError(f"edge table lacks column(s) {missing}; need source, target, lag "
                         "(or cause, effect, lag) and optionally value/coefficient, significant")
    if "significant" in frame.columns:
        frame = frame[frame["significant"].astype(bool)]
    elif "value" in frame.columns:
        frame = frame[frame["value"].astype(float) != 0.0]
    out: dict[EdgeKey, int] = {}
    for i, row in enumerate(frame.to_dict("records")):
        key = (str(row["source"]), str(row["target"]), int(row["lag"]))
        sign = _sign(row["value"], f"edge table row {i} {key}") if "value" in row else 1
        if out.get(key, sign) != sign:
            raise ValueError(f"edge table lists {key} twice with different signs")
        out[key] = sign
    return out


def _from_digraph(graph: nx.DiGraph) -> dict[EdgeKey, int]:
    out: dict[EdgeKey, int] = {}
    for u, v, data in graph.edges(data=True):
        if isinstance(u, tuple) or isinstance(v, tuple):
            raise ValueError(f"edge {u!r} -> {v!r}: pass a summary graph (variable nodes), not a "
                             "time-series graph")
        lags = data.get("lags")
        lag_list = ([int(k) for k in str(lags).split(",") if k.strip()] if lags is not None
                    else [int(data.get("lag", 1))])
        sign = _sign(data.get("value", 1.0), f"graph edge {u!r} -> {v!r}")
        for lag in lag_list:
            out[(str(u), str(v), lag)] = sign
    return out


def edge_signs(graph: GraphLike) -> dict[EdgeKey, int]:
    """Return the edges present in ``graph`` as ``{(source, target, lag): sign}``.

    Parameters
    ----------
    graph : Links, pandas.DataFrame, networkx.DiGraph, mapping or iterable
        See the module docstring. For a :class:`~causal.discovery.links.Links` only
        significant rows count; for a summary graph every lag listed in an
        edge's ``lags`` attribute gets the sign of its ``value``; a tuple or
        table without values gives sign ``+1``.

    Returns
    -------
    dict
        Sign ``+1``, ``-1`` or ``0`` (a present edge with value exactly 0).

    Examples
    --------
    >>> edge_signs([("a", "b", 1, -0.3), ("b", "a", 2)])
    {('a', 'b', 1): -1, ('b', 'a', 2): 1}
    """
    if isinstance(graph, Links):
        return _from_frame(graph.table)
    if isinstance(graph, pd.DataFrame):
        return _from_frame(graph)
    if isinstance(graph, nx.DiGraph):
        return _from_digraph(graph)
    if isinstance(graph, Mapping):
        return {(str(s), str(t), int(k)): _sign(v, f"edge {(s, t, k)}")
                for (s, t, k), v in graph.items()}
    if isinstance(graph, str) or not isinstance(graph, Iterable):
        raise ValueError(f"cannot read edges from {type(graph).__name__}: {graph!r}")
    out: dict[EdgeKey, int] = {}
    for item in graph:
        if isinstance(item, str) or not isinstance(item, Sequence) or len(item) not in (3, 4):
            raise ValueError(f"an edge must be (source, target, lag[, value]), got {item!r}")
        key = (str(item[0]), str(item[1]), int(item[2]))
        out[key] = _sign(item[3], f"edge {key}") if len(item) == 4 else 1
    return out


def edge_states(graph: GraphLike, candidates: Sequence[EdgeKey], *,
                signed: bool = True) -> np.ndarray:
    """Return the state of each candidate edge in ``graph``.

    Parameters
    ----------
    graph : graph-like
        See :func:`edge_signs`.
    candidates : sequence of (source, target, lag)
        Edges to score, e.g. from :func:`candidate_edges`.
    signed : bool
        States ``-1/0/+1`` (True) or ``0/1`` (False).

    Returns
    -------
    numpy.ndarray of int
        One state per candidate. Present lag-0 edges are ignored; any other
        present edge that is not a candidate raises, unless it is a self-loop
        (autoregressive edges are left out of the candidates by default).

    Examples
    --------
    >>> edge_states([("a", "b", 1, -0.2)], [("a", "b", 1), ("b", "a", 1)])
    array([-1,  0])
    >>> edge_states([("a", "b", 1, -0.2)], [("a", "b", 1), ("b", "a", 1)], signed=False)
    array([1, 0])
    """
    signs = edge_signs(graph)
    index = {tuple(c): i for i, c in enumerate(candidates)}
    states = np.zeros(len(index), dtype=int)
    n_contemporaneous = 0
    for key, sign in signs.items():
        if key in index:
            states[index[key]] = sign if signed else 1
        elif key[2] == 0:
            n_contemporaneous += 1
        elif key[0] != key[1]:
            raise ValueError(f"edge {format_link(key[0], key[1], key[2])} is not among the "
                             "candidate edges (unknown variable or lag above tau_max?)")
    if n_contemporaneous:
        logger.debug("ignored %d contemporaneous (lag 0) edges", n_contemporaneous)
    return states


# -------------------------------------------------------------- comparison
@dataclass(frozen=True)
class GraphComparison:
    """Confusion counts and scores of a discovered graph against the truth.

    Attributes
    ----------
    tp, fp, fn, tn : int
        Counts over the candidate edges (see the module docstring).
    wrong_sign : int
        Discovered edges whose true counterpart has the opposite sign
        (included in both ``fp`` and ``fn``); always 0 when not ``signed``.
    shd : int
        Structural Hamming distance.
    precision, recall, f1 : float
        NaN where undefined.
    fpr : float
        Share of truly absent candidates that were discovered (NaN if none is absent).
    n_candidates : int
        Number of scored edges.
    signed : bool
        Whether signs had to match.
    """

    tp: int
    fp: int
    fn: int
    tn: int
    wrong_sign: int
    shd: int
    precision: float
    recall: float
    f1: float
    fpr: float
    n_candidates: int
    signed: bool = True

    @property
    def tpr(self) -> float:
        """True-positive rate (the recall)."""
        return self.recall

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as a flat dict (one row of a results table)."""
        return asdict(self)

    def __str__(self) -> str:
        return (f"{'signed' if self.signed else 'unsigned'} comparison over {self.n_candidates} "
                f"candidate edges: TP {self.tp}, FP {self.fp} ({self.wrong_sign} wrong sign), "
                f"FN {self.fn}, TN {self.tn}; precision {self.precision:.3f}, recall "
                f"{self.recall:.3f}, F1 {self.f1:.3f}, FPR {self.fpr:.3f}, SHD {self.shd}")


def _variables(graphs: Iterable[dict[EdgeKey, int]]) -> tuple[list[str], int]:
    names: set[str] = set()
    tau = 1
    for g in graphs:
        for s, t, lag in g:
            names.update((s, t))
            tau = max(tau, lag)
    return sorted(names), tau


def _candidates(discovered: GraphLike, truth: GraphLike, variables: Sequence[str] | None,
                tau_max: int | None, include_autoregressive: bool) -> list[EdgeKey]:
    if variables is None or tau_max is None:
        found_vars, found_tau = _variables((edge_signs(discovered), edge_signs(truth)))
        for g in (discovered, truth):
            if isinstance(g, Links):
                found_vars = sorted(set(found_vars) | set(g.variables))
                found_tau = max(found_tau, g.tau_max)
            elif isinstance(g, nx.DiGraph):
                found_vars = sorted(set(found_vars) | {str(n) for n in g.nodes})
            elif isinstance(g, pd.DataFrame) and len(g):
                cols = ("cause", "effect") if "cause" in g.columns else ("source", "target")
                found_vars = sorted(set(found_vars) | set(g[cols[0]].astype(str))
                                    | set(g[cols[1]].astype(str)))
                found_tau = max(found_tau, int(g["lag"].max()))
        variables = found_vars if variables is None else variables
        tau_max = found_tau if tau_max is None else tau_max
    return candidate_edges(variables, tau_max, include_autoregressive=include_autoregressive)


def compare_graphs(discovered: GraphLike, truth: GraphLike, *,
                   variables: Sequence[str] | None = None, tau_max: int | None = None,
                   signed: bool = True, include_autoregressive: bool = False) -> GraphComparison:
    """Score a discovered lagged graph against the true one.

    Parameters
    ----------
    discovered, truth : graph-like
        See :func:`edge_signs`; typically ``model.links_`` and
        ``scenario.truth()``.
    variables : sequence of str, optional
        Variables of the candidate edges; default: every variable named by
        either graph (and a Links' / DiGraph's full variable list).
    tau_max : int, optional
        Largest lag scored; default the largest lag seen (at least 1).
    signed : bool
        Require the discovered sign to match the true sign.
    include_autoregressive : bool
        Also score self-loops ``v(t - lag) -> v(t)``.

    Returns
    -------
    GraphComparison

    Examples
    --------
    >>> truth = [("a", "b", 1, 0.3), ("b", "c", 1, -0.2)]
    >>> c = compare_graphs([("a", "b", 1, 0.1), ("b", "c", 1, 0.2)], truth)
    >>> c.tp, c.fp, c.fn, c.wrong_sign, c.shd
    (1, 1, 1, 1, 1)
    >>> compare_graphs([("a", "b", 1, 0.1), ("b", "c", 1, 0.2)], truth, signed=False).f1
    1.0
    """
    candidates = _candidates(discovered, truth, variables, tau_max, include_autoregressive)
    found = edge_states(discovered, candidates, signed=signed)
    true = edge_states(truth, candidates, signed=signed)
    labels = [-1, 1] if signed else [1]
    precision, recall, f1, _ = precision_recall_fscore_support(
        true, found, labels=labels, average="micro", zero_division=np.nan)
    present, shown = true != 0, found != 0
    tp = int(np.sum(present & (found == true)))
    wrong = int(np.sum(present & shown & (found != true)))
    false_absent = int(np.sum(~present & shown))
    n_absent = int(np.sum(~present))
    return GraphComparison(
        tp=tp, fp=false_absent + wrong, fn=int(np.sum(present)) - tp,
        tn=n_absent - false_absent, wrong_sign=wrong, shd=int(np.sum(found != true)),
        precision=float(precision), recall=float(recall), f1=float(f1),
        fpr=false_absent / n_absent if n_absent else math.nan,
        n_candidates=len(candidates), signed=signed)


def structural_hamming_distance(discovered: GraphLike, truth: GraphLike, *,
                                variables: Sequence[str] | None = None,
                                tau_max: int | None = None, signed: bool = True,
                                include_autoregressive: bool = False) -> int:
    """Return the number of candidate lagged edges whose state differs between the graphs.

    Parameters are those of :func:`compare_graphs`. Each missing edge, extra
    edge or (``signed``) sign change counts 1.

    Examples
    --------
    >>> structural_hamming_distance([("a", "b", 1), ("b", "a", 1)], [("a", "b", 1)])
    1
    >>> structural_hamming_distance([("a", "b", 1, 0.2)], [("a", "b", 1, -0.2)])
    1
    >>> structural_hamming_distance([("a", "b", 1, 0.2)], [("a", "b", 1, -0.2)], signed=False)
    0
    """
    return compare_graphs(discovered, truth, variables=variables, tau_max=tau_max,
                          signed=signed, include_autoregressive=include_autoregressive).shd
