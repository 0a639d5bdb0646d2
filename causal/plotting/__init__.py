"""Figures, saved to files and never shown.

Graphs and patient panels are in :mod:`.graphs`, network drawing and the
three-network figure in :mod:`.networks`, study figures in :mod:`.studies`.
"""

from __future__ import annotations

from causal.plotting.graphs import plot_edge_frequency, plot_forest, plot_graph, plot_patients
from causal.plotting.networks import plot_networks
from causal.plotting.studies import plot_power_curve, plot_rate_vs_alpha

__all__ = [
    "plot_edge_frequency",
    "plot_forest",
    "plot_graph",
    "plot_networks",
    "plot_patients",
    "plot_power_curve",
    "plot_rate_vs_alpha",
]
