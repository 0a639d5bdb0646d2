"""Gap-aware lags: column names and a lagged table for inspection.

A lag of ``k`` for a row at time ``t`` is the value of the **same patient and
segment** at time ``t - k``. If that week is missing, the lag is missing: the
previous *available* row is never used, and no lag crosses a patient or a
segment boundary.

Discovery uses the same rule: each block (patient x segment) becomes one
tigramite dataset laid on its full integer time grid, so a missing week is an
explicit row of missing values (the private adapter
``causal.discovery._tigramite``).

Examples
--------
>>> df = pd.DataFrame({"patient": [1, 1, 1, 2, 2], "week": [1, 2, 4, 1, 2],
...                    "x": [1.0, 2.0, 4.0, 10.0, 20.0]})
>>> panel = Panel.from_frame(df, tau_max=None)
>>> lag_table(panel, 1)[["patient", "week", "x", "x_lag1"]]
   patient  week     x  x_lag1
0        1     1   1.0     NaN
1        1     2   2.0     1.0
2        1     4   4.0     NaN
3        2     1  10.0     NaN
4        2     2  20.0    10.0
"""

from __future__ import annotations

import pandas as pd

from features.panel import Panel

__all__ = ["lag_name", "lag_table"]


def lag_name(variable: str, lag: int) -> str:
    """Return the column name of ``variable`` at ``lag`` (``x``, ``x_lag1``, ...).

    >>> lag_name("depression", 0), lag_name("depression", 2)
    ('depression', 'depression_lag2')
    """
    return variable if lag == 0 else f"{variable}_lag{lag}"


def lag_table(panel: Panel, tau_max: int, *, dropna: bool = False) -> pd.DataFrame:
    """Return the panel with lagged copies ``var_lag1 .. var_lag{tau_max}`` of every variable.

    Parameters
    ----------
    panel : Panel
        Validated (and usually transformed) panel.
    tau_max : int
        Largest lag.
    dropna : bool
        Keep only rows where every variable is observed at every lag.
    """
    if int(tau_max) != tau_max or tau_max < 0:
        raise ValueError(f"tau_max must be a non-negative integer, got {tau_max!r}")
    keys = panel.block_cols
    base = panel.data[[*keys, panel.time_col, *panel.variables]]
    out = base.reset_index(drop=True)
    for k in range(1, int(tau_max) + 1):
        shifted = base.copy()
        shifted[panel.time_col] = shifted[panel.time_col] + k
        shifted = shifted.rename(columns={v: lag_name(v, k) for v in panel.variables})
        out = out.merge(shifted, on=[*keys, panel.time_col], how="left", validate="one_to_one")
    out.index = panel.data.index
    if dropna:
        out = out.dropna()
    return out
