"""Fast exact panel engine: tigramite's ParCorr from pooled sufficient statistics.

:class:`PooledParCorr` plugs into tigramite's own ``PCMCI`` (``run_pcmci``,
``run_pcmciplus``) on a multiple-dataset ``DataFrame`` and reproduces
``ParCorr(significance="analytic")`` to rounding, computing every test from
:class:`LaggedMoments` built once per cut-off instead of rebuilding the lagged
sample array per test. Per-dataset weights give a patient cluster bootstrap
that only re-pools the statistics.
"""

from __future__ import annotations

from causal.discovery.engine.bias import MomentBias
from causal.discovery.engine.design import LaggedRows, NoValidSamplesError, column_index
from causal.discovery.engine.parcorr import PooledParCorr
from causal.discovery.engine.partial import (
    analytic_confidence,
    analytic_pvalue,
    partial_correlation,
    residual_variance_fraction,
)
from causal.discovery.engine.pooled import PooledMoments, SampleMoments
from causal.discovery.engine.stats import DEFAULT_MAX_BYTES, LaggedMoments, cut_for

__all__ = [
    "DEFAULT_MAX_BYTES",
    "LaggedMoments",
    "LaggedRows",
    "MomentBias",
    "NoValidSamplesError",
    "PooledMoments",
    "PooledParCorr",
    "SampleMoments",
    "analytic_confidence",
    "analytic_pvalue",
    "column_index",
    "cut_for",
    "partial_correlation",
    "residual_variance_fraction",
]
