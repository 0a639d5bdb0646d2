"""Sample counting on long-format panels: complete runs of consecutive time points.

A lagged sample at time ``t`` needs the same block (patient and segment) to be
observed at ``t-1, ..., t-tau_max``; these counts decide which patients can
enter discovery (:meth:`features.panel.Panel.drop_short`) and how many samples
each block gives to discovery (:func:`causal.discovery.estimator.block_samples`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["run_lengths", "usable_lagged_rows"]


def usable_lagged_rows(data: pd.DataFrame, keys: Sequence[str], time_col: str,
                       variables: Sequence[str], tau_max: int) -> pd.Series:
    """Count, per first key (patient), rows with every variable observed at lags 0..tau_max.

    A row at time ``t`` is usable when the same block (patient and segment)
    has rows at ``t-1, ..., t-tau_max`` and every variable is observed at all
    ``tau_max + 1`` time points. Gaps in time are never bridged. Rows must be
    unique per block and time (as in a :class:`Panel`); times must not be
    missing. The result is indexed by the sorted patient ids.

    Examples
    --------
    >>> df = pd.DataFrame({"patient": [1, 1, 1, 1, 2, 2], "week": [4, 1, 2, 3, 1, 3],
    ...                    "x": [4.0, 1.0, None, 3.0, 1.0, 2.0]})
    >>> usable_lagged_rows(df, ["patient"], "week", ["x"], 1).to_dict()
    {1: 1, 2: 0}
    """
    keys = list(keys)
    tau = int(tau_max)
    n = len(data)
    complete = data[list(variables)].notna().all(axis=1).to_numpy()
    times = data[time_col].to_numpy()
    block = _block_codes(data, keys, times)
    # Rows in block and time order: a Panel already is, anything else is sorted once.
    step = np.diff(times)
    same = block[1:] == block[:-1]
    if np.all(np.diff(block) >= 0) and np.all(step[same] > 0):
        order = np.arange(n)
    else:
        order = np.lexsort([times, block])
        step, same = np.diff(times[order]), np.diff(block[order]) == 0
    ok = complete[order]
    # A row continues the run of complete rows before it when it is the next time step
    # of the same block and it and its predecessor are complete.
    cont = np.zeros(n, dtype=bool)
    cont[1:] = same & (step == 1) & ok[1:] & ok[:-1]
    usable = np.zeros(n, dtype=bool)
    usable[order] = ok & (run_lengths(cont) >= tau)
    ids, uniques = pd.factorize(data[keys[0]].to_numpy(), sort=True, use_na_sentinel=True)
    counts = np.bincount(ids[ids >= 0], weights=usable[ids >= 0], minlength=len(uniques))
    return pd.Series(counts.astype(np.int64), index=pd.Index(uniques), name="_ok")


def run_lengths(continues: np.ndarray) -> np.ndarray:
    """Per row, how many rows before it its run covers (0 where a run starts).

    ``continues[i]`` says whether row ``i`` continues the run of row ``i - 1``;
    vectorized with a running maximum of the run starts.

    >>> run_lengths(np.array([False, True, True, False, True])).tolist()
    [0, 1, 2, 0, 1]
    """
    pos = np.arange(len(continues))
    return pos - np.maximum.accumulate(np.where(continues, 0, pos))


def _block_codes(data: pd.DataFrame, keys: Sequence[str], times: np.ndarray) -> np.ndarray:
    """Integer code per row of its block (combination of ``keys``), in order of appearance.

    A non-integer time ``t`` only ever meets ``t-1, t-2, ...``, so its fractional
    part counts as one more key.
    """
    codes = [pd.factorize(data[k])[0] + 1 for k in keys]  # missing keys: code 0
    if times.dtype.kind == "f":
        frac = times - np.floor(times)
        if frac.any():
            codes.append(pd.factorize(frac)[0] + 1)
    combined = codes[0].astype(np.int64)
    for c in codes[1:]:
        combined = combined * (int(c.max(initial=0)) + 1) + c
    return pd.factorize(combined)[0]
