"""Graphs of a discovery result: networkx views, who-leads summaries, exports and metrics."""

from __future__ import annotations

from causal.graph.build import (
    edge_table,
    read_graphml,
    read_json,
    summary_graph,
    time_series_graph,
    write_graphml,
    write_json,
)
from causal.graph.metrics import GraphComparison, compare_graphs, structural_hamming_distance
from causal.graph.summary import LeadingOrder, leading_order, leading_variables, precedes, strengths

__all__ = [
    "GraphComparison",
    "LeadingOrder",
    "compare_graphs",
    "edge_table",
    "leading_order",
    "leading_variables",
    "precedes",
    "read_graphml",
    "read_json",
    "strengths",
    "structural_hamming_distance",
    "summary_graph",
    "time_series_graph",
    "write_graphml",
    "write_json",
]
