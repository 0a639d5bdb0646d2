"""Seeded multi-dataset panels for the engine tests (tigramite's ``analysis_mode="multiple"``)."""

from __future__ import annotations

import numpy as np
from tigramite.data_processing import DataFrame

MISSING = -999.0


def seeded_panel(seed, *, n, t_range, n_vars, miss, burn, ar, scale, level, level_sd,
                 links=(), cell_miss=None, integer=False):
    """Datasets of unequal length from a lagged linear SCM, missing weeks as flagged rows.

    Each dataset runs ``burn`` steps of ``x[t] = ar * x[t-1] + noise`` plus
    ``coef * x[t - lag, source]`` added to ``target`` for every
    ``(source, target, lag, coef)`` in ``links`` (in that order, so a lag-0
    link reads the already updated source), then is scaled by ``scale`` and
    shifted by ``level`` plus a per-dataset normal offset of SD ``level_sd``.
    ``cell_miss`` (None: no draw) flags single cells as missing.
    """
    rng = np.random.default_rng(seed)
    data = {}
    for k in range(n):
        length = int(rng.integers(*t_range))
        x = np.zeros((length + burn, n_vars))
        for t in range(1, length + burn):
            x[t] = ar * x[t - 1] + rng.normal(size=n_vars)
            for source, target, lag, coef in links:
                x[t, target] += coef * x[t - lag, source]
        x = x[burn:] * scale + rng.normal(size=n_vars) * level_sd + level
        if integer:
            x = np.round(x)
        x[rng.random(length) < miss] = MISSING
        if cell_miss is not None:
            x[rng.random(x.shape) < cell_miss] = MISSING
        data[k] = x
    return data


def dataframe(data, **kwargs):
    """A tigramite DataFrame of ``data`` (copies: DataFrame writes NaN into its arrays)."""
    return DataFrame({k: v.copy() for k, v in data.items()}, analysis_mode="multiple",
                     missing_flag=MISSING, **kwargs)
