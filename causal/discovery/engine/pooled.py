"""Pooled per-pattern statistics and the moments of one test's samples.

:class:`PooledMoments` is what :meth:`causal.discovery.engine.stats.LaggedMoments.aggregate`
returns: for each missingness pattern the (weighted) count, column sums, packed
cross-products and column extremes. :meth:`PooledMoments.select` sums the
patterns that observe every requested column, which are exactly the samples
tigramite's ``construct_array`` keeps, and returns their covariance.

Examples
--------
>>> patterns = np.array([[True, True], [True, False]])
>>> pooled = PooledMoments(
...     n_vars=2, max_lag=0, patterns=patterns, count=np.array([2.0, 1.0]),
...     sums=np.array([[0.0, 0.0], [3.0, 0.0]]),
...     cross=np.array([[2.0, 2.0, 2.0], [9.0, 0.0, 0.0]]),
...     col_min=np.array([[-1.0, -1.0], [3.0, 0.0]]),
...     col_max=np.array([[1.0, 1.0], [3.0, 0.0]]))
>>> pooled.select([0]).n, pooled.select([0, 1]).n  # column 1 is missing in pattern 1
(3.0, 2.0)
>>> pooled.select([0, 1]).cov.tolist()
[[1.0, 1.0], [1.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from causal.discovery.engine.design import NoValidSamplesError
from causal.discovery.engine.kernels import tri_index

__all__ = ["PooledMoments", "SampleMoments"]

_SELECTION_CACHE_SIZE = 4096


@dataclass(frozen=True)
class SampleMoments:
    """Second moments of one test's samples.

    Parameters
    ----------
    n : float
        Number of samples (weighted count under dataset weights).
    cov : numpy.ndarray
        Population covariance (``ddof=0``) of the selected columns.
    constant : numpy.ndarray
        Boolean per column: all selected values identical.
    """

    n: float
    cov: np.ndarray
    constant: np.ndarray

    def __str__(self) -> str:
        return (
            f"SampleMoments(n={self.n:g}, dim={self.cov.shape[0]}, "
            f"constant={self.constant.tolist()})"
        )


@dataclass(frozen=True, eq=False)
class PooledMoments:
    """Pooled per-pattern statistics: everything a test needs.

    Parameters
    ----------
    n_vars, max_lag : int
        Design shape: ``K = n_vars * (max_lag + 1)`` columns.
    patterns : numpy.ndarray
        Boolean ``(P, K)``: observed columns of each pattern.
    count : numpy.ndarray
        ``(P,)`` (weighted) number of rows per pattern.
    sums : numpy.ndarray
        ``(P, K)`` column sums of the mean-shifted data.
    cross : numpy.ndarray
        ``(P, K(K+1)/2)`` packed upper triangle of its cross-product matrix.
    col_min, col_max : numpy.ndarray
        ``(P, K)`` column extremes of the raw data.
    """

    n_vars: int
    max_lag: int
    patterns: np.ndarray
    count: np.ndarray
    sums: np.ndarray
    cross: np.ndarray
    col_min: np.ndarray
    col_max: np.ndarray
    _cache: dict[Any, tuple[Any, ...]] = field(default_factory=dict, repr=False)
    _full: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_full", tri_index(self.patterns.shape[1])[2])

    def __deepcopy__(self, memo: dict[int, Any]) -> PooledMoments:
        # Immutable apart from a pure cache: copies (PCMCI deep-copies its test) share it.
        return self

    def __str__(self) -> str:
        return (
            f"PooledMoments: {self.count.sum():g} rows in {self.count.shape[0]} missingness "
            f"patterns, {self.n_vars} variables x lags 0..{self.max_lag}"
        )

    def _summed(self, columns: np.ndarray) -> tuple[Any, ...]:
        """Statistics summed over the patterns observing all ``columns`` (cached)."""
        col_key = frozenset(columns.tolist())
        hit = self._cache.get(col_key)
        if hit is not None:
            return hit
        selected = self.patterns[:, columns].all(axis=1)
        key = selected.tobytes()
        hit = self._cache.get(key)
        if hit is None:
            idx = np.flatnonzero(selected)
            hit = (
                float(self.count[idx].sum()),
                self.sums[idx].sum(axis=0),
                self.cross[idx].sum(axis=0)[self._full],
                self.col_min[idx].min(axis=0, initial=np.inf),
                self.col_max[idx].max(axis=0, initial=-np.inf),
            )
        if len(self._cache) >= _SELECTION_CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = self._cache[col_key] = hit
        return hit

    def select(self, columns: Sequence[int] | np.ndarray) -> SampleMoments:
        """Moments over exactly the rows in which all ``columns`` are observed.

        Parameters
        ----------
        columns : sequence of int
            Lagged-design columns (see :func:`causal.discovery.engine.design.column_index`).

        Returns
        -------
        SampleMoments

        Raises
        ------
        NoValidSamplesError
            If no row observes all columns.
        """
        n, cov, constant = self.moments(np.asarray(columns, dtype=np.int64))
        return SampleMoments(n, cov.copy(), constant.copy())

    def moments(self, cols: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Fast path of :meth:`select`: ``(n, cov, constant)`` for an int array ``cols``.

        Cached per ordered column set (PCMCI asks ``get_confidence`` for the
        columns its ``run_test`` just used); the arrays are read-only.
        """
        key = ("ordered", cols.tobytes())
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        n, sums, cross, cmin, cmax = self._summed(cols)
        if not n > 0:
            raise NoValidSamplesError(f"No valid samples for lagged columns {cols.tolist()}")
        s = sums.take(cols)
        cov = (cross.take(cols, 0).take(cols, 1) - np.multiply.outer(s, s) / n) / n
        constant = cmax.take(cols) == cmin.take(cols)
        cov.setflags(write=False)
        constant.setflags(write=False)
        if len(self._cache) >= _SELECTION_CACHE_SIZE:
            self._cache.clear()
        hit = self._cache[key] = (n, cov, constant)
        return hit
