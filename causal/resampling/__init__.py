"""Resampling: patient cluster bootstrap, per-patient graphs with group edges, subgroups.

Parallel execution (joblib, optionally Dask) and progress bars are shared by all
of them (:mod:`.parallel`, :mod:`.progress`). Replicates reach tigramite only
through :meth:`causal.discovery.PanelPCMCI` 's internal hook (:mod:`._replicates`).
"""

from __future__ import annotations

from causal.resampling.bootstrap import BootstrapResult, ClusterBootstrap
from causal.resampling.individual import IndividualPCMCI
from causal.resampling.subgroups import SubgroupResult, compare_groups, find_subgroups

__all__ = [
    "BootstrapResult",
    "ClusterBootstrap",
    "IndividualPCMCI",
    "SubgroupResult",
    "compare_groups",
    "find_subgroups",
]
