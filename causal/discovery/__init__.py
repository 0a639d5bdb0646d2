"""Discovery: the :class:`PanelPCMCI` estimator, its :class:`Links` result and the engine.

tigramite's own structures (dict inputs with a missing-value flag, string
graphs, ``{j: {(i, -tau): '-?>'}}`` link assumptions) live only in the private
adapter :mod:`causal.discovery._tigramite`; everything public is typed.
"""

from __future__ import annotations

from causal.discovery.citests import CI_TESTS, within_df_loss
from causal.discovery.estimator import METHODS, PanelPCMCI
from causal.discovery.links import LINK_COLUMNS, Links

__all__ = ["CI_TESTS", "LINK_COLUMNS", "METHODS", "Links", "PanelPCMCI", "within_df_loss"]
