"""Discovery: the :class:`PanelPCMCI` estimator, its :class:`Links` result and the engine.

tigramite's own structures (dict inputs with a missing-value flag, string
graphs, ``{j: {(i, -tau): '-?>'}}`` link assumptions) live only in the private
adapter :mod:`causal.discovery._tigramite`; everything public is typed.

Names are loaded on first use (PEP 562), so importing
:mod:`causal.discovery.choices` (the command line's ``choices=``) does not
import tigramite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from features._lazy import lazy_api

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from causal.discovery.choices import CI_TESTS, METHODS
    from causal.discovery.citests import within_df_loss
    from causal.discovery.estimator import PanelPCMCI
    from causal.discovery.links import LINK_COLUMNS, Links
    from causal.discovery.networks import Networks, three_networks

#: Public name -> the module that defines it.
_API: dict[str, str] = {
    **dict.fromkeys(("CI_TESTS", "METHODS"), "causal.discovery.choices"),
    "within_df_loss": "causal.discovery.citests",
    "PanelPCMCI": "causal.discovery.estimator",
    **dict.fromkeys(("LINK_COLUMNS", "Links"), "causal.discovery.links"),
    **dict.fromkeys(("Networks", "three_networks"), "causal.discovery.networks"),
}

__all__ = ["CI_TESTS", "LINK_COLUMNS", "METHODS", "Links", "Networks", "PanelPCMCI",
           "three_networks", "within_df_loss"]


__getattr__, __dir__ = lazy_api(__name__, _API, globals())
