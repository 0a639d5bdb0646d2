"""Gap-aware lags: a lagged table for inspection and the arrays tigramite needs.

A lag of ``k`` for a row at time ``t`` is the value of the **same patient and
segment** at time ``t - k``. If that week is missing, the lag is missing: the
previous *available* row is never used, and no lag crosses a patient or a
segment boundary.

For tigramite, each block (patient x segment) becomes one dataset in
*multiple-dataset* mode. Blocks are laid on their full integer time grid, so
a missing week is an explicit row of missing values, and tigramite drops
exactly the samples whose involved (variable, lag) values are missing.

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
>>> ti = to_tigramite(panel)
>>> [a.shape for a in ti.data.values()]
[(4, 1), (2, 1)]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.panel import Panel

__all__ = ["MISSING_FLAG", "TigramiteInput", "lag_name", "lag_table", "to_tigramite"]

logger = logging.getLogger(__name__)

#: Sentinel handed to tigramite for missing values (tigramite turns it into NaN).
MISSING_FLAG: float = -9.87654321e300


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


@dataclass(frozen=True)
class TigramiteInput:
    """Arrays for ``tigramite.data_processing.DataFrame(analysis_mode="multiple")``.

    Attributes
    ----------
    data : dict of int to ndarray
        One float array of shape (T_b, N) per block, on the block's full
        integer time grid, with :data:`MISSING_FLAG` where a value is missing.
    var_names : tuple of str
        Variable names (columns).
    blocks : pandas.DataFrame
        One row per dataset key: the block's patient (and segment) values,
        ``start`` time and ``length``.
    pad : int
        Rows of missing values prepended to every block.
    """

    data: dict[int, np.ndarray]
    var_names: tuple[str, ...]
    blocks: pd.DataFrame
    pad: int = 0

    def dataframe(self):  # -> tigramite.data_processing.DataFrame
        """Return a tigramite ``DataFrame`` in multiple-dataset mode."""
        from tigramite.data_processing import DataFrame

        return DataFrame({k: v.copy() for k, v in self.data.items()}, analysis_mode="multiple",
                         var_names=list(self.var_names), missing_flag=MISSING_FLAG)

    def nan_arrays(self) -> dict[int, np.ndarray]:
        """Return the arrays with NaN instead of the missing flag."""
        return {k: np.where(v == MISSING_FLAG, np.nan, v) for k, v in self.data.items()}


def to_tigramite(panel: Panel, *, pad: int = 0) -> TigramiteInput:
    """Lay every block of the panel on its integer time grid for tigramite.

    Parameters
    ----------
    panel : Panel
        Validated (and usually transformed) panel.
    pad : int
        Prepend this many rows of missing values to each block. With
        ``pad=tau_max`` tigramite's fixed ``2*tau_max`` cut-off at the start of
        every series only removes the padding plus samples whose lags are
        missing, which keeps ``tau_max`` more weeks of each short series
        (see ``docs/method.md``, "sample definition").
    """
    if int(pad) != pad or pad < 0:
        raise ValueError(f"pad must be a non-negative integer, got {pad!r}")
    keys = panel.block_cols
    data = panel.data
    values = data[list(panel.variables)].to_numpy(dtype=float)
    if np.any(values == MISSING_FLAG):
        raise ValueError("data contain the reserved missing-value sentinel")
    times = data[panel.time_col].to_numpy(dtype=np.int64)
    codes = data.groupby(keys, sort=False).ngroup().to_numpy()
    n_blocks = int(codes.max()) + 1 if len(codes) else 0
    starts = np.full(n_blocks, np.iinfo(np.int64).max)
    ends = np.full(n_blocks, np.iinfo(np.int64).min)
    np.minimum.at(starts, codes, times)
    np.maximum.at(ends, codes, times)
    lengths = ends - starts + 1 + int(pad)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat = np.full((int(offsets[-1]), values.shape[1]), MISSING_FLAG)
    pos = offsets[codes] + int(pad) + (times - starts[codes])
    flat[pos] = np.where(np.isnan(values), MISSING_FLAG, values)
    arrays = {b: flat[offsets[b]:offsets[b + 1]] for b in range(n_blocks)}
    first = data.groupby(keys, sort=False).head(1)
    blocks = first[keys].reset_index(drop=True)
    blocks["start"] = starts
    blocks["length"] = lengths
    logger.debug("tigramite input: %d blocks, %d grid rows", n_blocks, len(flat))
    return TigramiteInput(data=arrays, var_names=tuple(panel.variables), blocks=blocks,
                          pad=int(pad))
