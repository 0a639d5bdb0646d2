"""The lagged sample design that tigramite's ``DataFrame.construct_array`` builds.

For a conditional-independence test ``X _|_ Y | Z`` tigramite stacks, over every
dataset (patient) and every *reference point* ``t``, the values of the involved
nodes ``(var, -lag)`` at time ``t - lag`` and drops samples in which any involved
value is missing. This module builds that design once for *all* nodes up to a
maximum lag ``L`` (the cut-off): one row per ``(dataset, t)`` with ``t >= L`` and
``K = N * (L + 1)`` columns, column ``lag * N + var`` holding ``x_var(t - lag)``.

Rows are grouped by their *missingness pattern* (which of the ``K`` columns are
observed). A test's samples are then exactly the rows whose pattern observes
every involved column, so sufficient statistics per pattern reproduce
tigramite's sample selection without touching the rows again.

Examples
--------
>>> data = [np.arange(8.0).reshape(4, 2), np.arange(2.0).reshape(1, 2)]
>>> rows = LaggedRows.build(data, max_lag=1)
>>> rows.n_rows, rows.n_columns  # t = 1, 2, 3 of the first; the second is too short
(3, 4)
>>> rows.gather(rows.row_index[:1])  # x0(1), x1(1), x0(0), x1(0)
array([[2., 3., 0., 1.]])
>>> column_index(var=1, lag=1, n_vars=2)
3
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["LaggedRows", "NoValidSamplesError", "column_index", "missingness_patterns"]


class NoValidSamplesError(ValueError):
    """A test has no sample in which all of its nodes are observed."""


def column_index(var: int, lag: int, n_vars: int) -> int:
    """Column of node ``(var, -lag)`` in the lagged design.

    Parameters
    ----------
    var : int
        Variable index, ``0 <= var < n_vars``.
    lag : int
        Non-negative lag (number of steps back in time).
    n_vars : int
        Number of variables ``N``.

    Returns
    -------
    int
        ``lag * n_vars + var``.
    """
    return lag * n_vars + var


def _ragged_arange(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + n)`` for every ``(s, n)`` without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class LaggedRows:
    """Index of every sample row of the lagged design, without copying data.

    Parameters
    ----------
    values : numpy.ndarray
        All datasets concatenated along time, shape ``(sum_k T_k, N)``; NaN marks
        a missing value.
    row_index : numpy.ndarray
        For each sample row, the position of its reference time step ``t`` in
        ``values``, shape ``(n_rows,)``.
    row_dataset : numpy.ndarray
        For each sample row, the position of its dataset, shape ``(n_rows,)``.
    lengths : numpy.ndarray
        Number of time steps ``T_k`` of every dataset.
    n_vars : int
        Number of variables ``N``.
    max_lag : int
        Cut-off ``L``: rows need ``t >= L`` and columns cover lags ``0..L``.
    """

    values: np.ndarray
    row_index: np.ndarray
    row_dataset: np.ndarray
    lengths: np.ndarray
    n_vars: int
    max_lag: int

    @property
    def n_rows(self) -> int:
        """Number of sample rows."""
        return int(self.row_index.shape[0])

    @property
    def n_columns(self) -> int:
        """Number of lagged columns ``K = N * (L + 1)``."""
        return self.n_vars * (self.max_lag + 1)

    @classmethod
    def build(
        cls,
        data: Sequence[np.ndarray],
        max_lag: int,
        reference_points: np.ndarray | None = None,
        time_offsets: Sequence[int] | None = None,
    ) -> LaggedRows:
        """Enumerate the reference points of every dataset as tigramite does.

        Dataset ``k`` contributes, for every reference point ``r`` (on the shared
        time axis), the time step ``t = r - time_offsets[k]`` if
        ``max_lag <= t < T_k``; duplicated reference points give duplicated rows,
        exactly as in ``construct_array``.

        Parameters
        ----------
        data : sequence of numpy.ndarray
            One float array of shape ``(T_k, N)`` per dataset, NaN = missing.
        max_lag : int
            Cut-off ``L >= 0``.
        reference_points : numpy.ndarray, optional
            Integer reference points; default ``arange(max_k T_k + offset_k)``.
        time_offsets : sequence of int, optional
            Non-negative offset per dataset; default all zero.

        Returns
        -------
        LaggedRows
        """
        if max_lag < 0:
            raise ValueError(f"max_lag must be >= 0, got {max_lag}")
        if len(data) == 0:
            raise ValueError("no datasets given")
        n_vars = int(data[0].shape[1])
        lengths = np.array([d.shape[0] for d in data], dtype=np.int64)
        offsets = (
            np.zeros(len(data), dtype=np.int64)
            if time_offsets is None
            else np.asarray(time_offsets, dtype=np.int64)
        )
        starts = np.cumsum(lengths) - lengths
        values = np.concatenate([np.asarray(d, dtype=np.float64) for d in data], axis=0)
        if reference_points is None:
            # Default: every time step of the shared axis; dataset k keeps t in [L, T_k).
            first = np.full(len(data), max_lag, dtype=np.int64)
            counts = np.maximum(lengths - max_lag, 0)
            row_time = _ragged_arange(first, counts)
        else:
            refs = np.sort(np.asarray(reference_points, dtype=np.int64))
            # Valid shared-axis points for dataset k: L + o_k <= r < T_k + o_k.
            lo = np.searchsorted(refs, max_lag + offsets, side="left")
            hi = np.searchsorted(refs, lengths + offsets, side="left")
            counts = np.maximum(hi - lo, 0)
            row_time = refs[_ragged_arange(lo, counts)] - np.repeat(offsets, counts)
        row_dataset = np.repeat(np.arange(len(data), dtype=np.int64), counts)
        row_index = np.repeat(starts, counts) + row_time
        return cls(
            values=values,
            row_index=row_index,
            row_dataset=row_dataset,
            lengths=lengths,
            n_vars=n_vars,
            max_lag=int(max_lag),
        )

    def gather(self, row_index: np.ndarray) -> np.ndarray:
        """Lagged values of the given rows, shape ``(len(row_index), K)``, NaN = missing."""
        lags = np.arange(self.max_lag + 1, dtype=np.int64)
        block = self.values[row_index[:, None] - lags[None, :]]
        return block.reshape(row_index.shape[0], self.n_columns)

    def observed(self, chunk_rows: int = 65536) -> np.ndarray:
        """Boolean matrix ``(n_rows, K)``: which lagged values of each row are observed."""
        finite = ~np.isnan(self.values)
        lags = np.arange(self.max_lag + 1, dtype=np.int64)
        out = np.empty((self.n_rows, self.n_columns), dtype=bool)
        for start in range(0, self.n_rows, chunk_rows):
            idx = self.row_index[start : start + chunk_rows]
            out[start : start + idx.shape[0]] = finite[idx[:, None] - lags[None, :]].reshape(
                idx.shape[0], self.n_columns
            )
        return out


def missingness_patterns(observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a boolean observation matrix.

    Parameters
    ----------
    observed : numpy.ndarray
        Boolean matrix ``(n_rows, K)``.

    Returns
    -------
    patterns : numpy.ndarray
        Boolean matrix ``(P, K)`` of the distinct patterns.
    inverse : numpy.ndarray
        Pattern index of every row, shape ``(n_rows,)``.

    Examples
    --------
    >>> obs = np.array([[True, False], [True, True], [True, False]])
    >>> patterns, inverse = missingness_patterns(obs)
    >>> patterns.tolist(), inverse.tolist()
    ([[True, False], [True, True]], [0, 1, 0])
    """
    n_rows, n_cols = observed.shape
    if n_rows == 0:
        return np.zeros((0, n_cols), dtype=bool), np.zeros(0, dtype=np.int64)
    packed = np.packbits(observed, axis=1)
    if packed.shape[1] <= 8:
        # Up to 64 columns: one integer per row sorts much faster than byte rows.
        wide = np.zeros((n_rows, 8), dtype=np.uint8)
        wide[:, 8 - packed.shape[1] :] = packed
        codes = wide.view(">u8").reshape(-1)
        unique_codes, inverse = np.unique(codes, return_inverse=True)
        unique = unique_codes.astype(">u8").view(np.uint8).reshape(-1, 8)[:, 8 - packed.shape[1] :]
    else:
        unique, inverse = np.unique(packed, axis=0, return_inverse=True)
    patterns = np.unpackbits(unique, axis=1, count=n_cols).astype(bool)
    return patterns, inverse.reshape(-1).astype(np.int64)
