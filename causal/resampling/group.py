"""GIMME-style aggregation of per-patient graphs: edge shares, classes, group graph.

Used by :class:`causal.resampling.individual.IndividualPCMCI` and
:mod:`causal.resampling.subgroups`: a link significant in at least ``group_threshold`` of
the patients is a **group** edge, one significant in some patients only an
**individual** edge (Gates & Molenaar 2012, *NeuroImage* 63:310-319).

Examples
--------
>>> values = pd.DataFrame({"a(t-1) -> b": [0.3, 0.4, -0.1]})
>>> presence = pd.DataFrame({"a(t-1) -> b": [True, True, False]})
>>> keys = pd.MultiIndex.from_tuples([("a", "b", 1)])
>>> s = summarize_edges(keys, values, presence, group_threshold=0.6)
>>> s.loc[0, "class"], round(float(s.loc[0, "share"]), 3)
('group', 0.667)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from causal.rates import summarize_rate

__all__ = ["EDGE_CLASSES", "group_graph", "summarize_edges"]

#: Classes of :attr:`IndividualPCMCI.summary_ <causal.resampling.individual.IndividualPCMCI>`.
EDGE_CLASSES = ("group", "individual", "absent")


def summarize_edges(keys: pd.Index, values: pd.DataFrame, presence: pd.DataFrame,
                    group_threshold: float) -> pd.DataFrame:
    """Return the per-link summary of patients x links value and presence matrices.

    Parameters
    ----------
    keys : pandas.MultiIndex
        ``(source, target, lag)`` of each column.
    values, presence : pandas.DataFrame
        Patients x links values and significance decisions (same columns).
    group_threshold : float
        Share needed for the class ``"group"``.

    Returns
    -------
    pandas.DataFrame
        See :attr:`IndividualPCMCI.summary_ <causal.resampling.individual.IndividualPCMCI>`.
    """
    n = len(values)
    n_sig = presence.sum(axis=0).to_numpy()
    pos = (presence & (values > 0)).sum(axis=0).to_numpy()
    neg = (presence & (values < 0)).sum(axis=0).to_numpy()
    cis = [summarize_rate(int(k), n) for k in n_sig]
    out = pd.DataFrame({
        "edge": list(values.columns),
        "source": [k[0] for k in keys], "target": [k[1] for k in keys],
        "lag": [int(k[2]) for k in keys],
        "direction": ["->" if int(k[2]) > 0 else "--" for k in keys],
        "autoregressive": [k[0] == k[1] for k in keys],
        "n_patients": n, "n_significant": n_sig.astype(int),
        "share": n_sig / n, "share_low": [c.ci_low for c in cis],
        "share_high": [c.ci_high for c in cis],
        "share_positive": pos / n, "share_negative": neg / n,
        "median_value": values.median(axis=0).to_numpy(),
    })
    out["class"] = np.select([out["share"] >= group_threshold - 1e-12, out["share"] > 0],
                             ["group", "individual"], "absent")
    return out


def group_graph(summary: pd.DataFrame, variables: Sequence[str], **attrs: Any) -> nx.DiGraph:
    """Return the graph of the ``"group"`` links of a summary (see ``summary_``)."""
    graph = nx.DiGraph(kind="group", **attrs)
    graph.add_nodes_from(variables)
    group = summary[summary["class"] == "group"]
    for (source, target), rows in group.groupby(["source", "target"], sort=True):
        best = rows.sort_values(["share", "lag"], ascending=[False, True], kind="stable").iloc[0]
        graph.add_edge(source, target, lag=int(best["lag"]), direction=str(best["direction"]),
                       share=float(best["share"]),
                       median_value=float(best["median_value"]),
                       share_positive=float(best["share_positive"]),
                       share_negative=float(best["share_negative"]),
                       lags=",".join(str(int(k)) for k in sorted(rows["lag"])),
                       autoregressive=bool(source == target))
    return graph
