"""Numerical kernels accumulating sufficient statistics of lagged rows.

All sums run on data shifted by each variable's global mean (``center``), so
that covariances later computed as ``(S - s s^T / n) / n`` lose no precision to
cancellation. Column minima and maxima are taken on the raw values, so that a
column is detected as constant exactly when its values are identical.

Examples
--------
>>> a = np.arange(6.0).reshape(3, 2)
>>> gram(a, a).tolist()
[[20.0, 26.0], [26.0, 35.0]]
>>> iu, ju, full = tri_index(2)
>>> full.tolist()  # packed positions of (0, 0), (0, 1) / (1, 0), (1, 1)
[[0, 1], [1, 2]]
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import numpy as np
from scipy import sparse

from causal.discovery.engine.design import LaggedRows

__all__ = ["aggregate_pairs", "aggregate_rows", "gram", "pair_statistics", "tri_index"]

_CHUNK_FLOATS = 1 << 22  # ~32 MB temporaries while building pair statistics
_ROW_CHUNK_FLOATS = 1 << 20  # ~8 MB gathered rows at a time while aggregating rows
# Multiply-adds below which einsum beats entering the one-thread BLAS limit (~6 us).
# Above it single-threaded BLAS is 5-30x faster than einsum (measured for
# 300-400,000 rows x 15-50 columns on the 2-core benchmark machine).
_EINSUM_MAX = 1 << 14


@functools.cache
def _blas_controller() -> Any:
    """Return the process's threadpoolctl controller, built once (it inspects every library)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS to one thread while accumulating cross-products.

    The products are small, and waking idle BLAS threads cost up to ~0.2 s per
    call on a shared 2-core machine.
    """
    return _blas_controller().limit(limits=1, user_api="blas")


def gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return ``a.T @ b``: numpy loops when small, single-threaded BLAS when large."""
    if a.shape[0] * a.shape[1] * b.shape[1] <= _EINSUM_MAX:
        return np.einsum("ij,ik->jk", a, b)
    with _single_threaded_blas():
        return a.T @ b


def tri_index(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper-triangle indices of a ``k x k`` matrix and the full -> packed index map."""
    iu, ju = np.triu_indices(k)
    full = np.empty((k, k), dtype=np.int64)
    full[iu, ju] = np.arange(iu.shape[0])
    full[ju, iu] = full[iu, ju]
    return iu, ju, full


def aggregate_rows(
    rows: LaggedRows,
    patterns: np.ndarray,
    row_index: np.ndarray,
    row_dataset: np.ndarray,
    pattern_start: np.ndarray,
    center: np.ndarray,
    weights: np.ndarray | None,
) -> tuple[np.ndarray, ...]:
    """Per-pattern ``(count, sums, packed cross, min, max)`` straight from the rows.

    Rows must be sorted by pattern, pattern ``p`` owning
    ``row_index[pattern_start[p]:pattern_start[p + 1]]``. One Gram product per
    pattern (``n_rows * K^2`` multiply-adds), accumulated over chunks of rows
    so that the gathered temporaries stay small (~8 MB) and are reused.
    """
    n_pat, k = patterns.shape
    iu, ju, _ = tri_index(k)
    count, sums = np.zeros(n_pat), np.zeros((n_pat, k))
    cross = np.zeros((n_pat, iu.shape[0]))
    cmin, cmax = np.full((n_pat, k), np.inf), np.full((n_pat, k), -np.inf)
    center_cols = np.tile(center, rows.max_lag + 1)
    chunk = max(1, _ROW_CHUNK_FLOATS // k)
    for p in range(n_pat):
        seg = slice(pattern_start[p], pattern_start[p + 1])
        idx, w = row_index[seg], None
        if weights is not None:
            w = weights[row_dataset[seg]]
            idx, w = idx[w > 0], w[w > 0]
        if idx.shape[0] == 0:
            continue
        cols = np.flatnonzero(patterns[p])
        m = cols.shape[0]
        lo, hi = np.full(m, np.inf), np.full(m, -np.inf)
        total, prod = np.zeros(m), np.zeros((m, m))
        for start in range(0, idx.shape[0], chunk):
            raw = rows.gather(idx[start : start + chunk])
            if m < k:
                raw = raw[:, cols]
            np.minimum(lo, raw.min(axis=0), out=lo)
            np.maximum(hi, raw.max(axis=0), out=hi)
            x = np.subtract(raw, center_cols[cols], out=raw)
            if w is None:
                total += x.sum(axis=0)
                prod += gram(x, x)
            else:
                wc = w[start : start + chunk]
                total += wc @ x
                prod += gram(x * wc[:, None], x)
        count[p] = idx.shape[0] if w is None else w.sum()
        cmin[p, cols], cmax[p, cols], sums[p, cols] = lo, hi, total
        full = np.zeros((k, k))
        full[np.ix_(cols, cols)] = prod
        cross[p] = full[iu, ju]
    return count, sums, cross, cmin, cmax


def pair_statistics(
    rows: LaggedRows,
    patterns: np.ndarray,
    row_index: np.ndarray,
    pair_pattern: np.ndarray,
    pair_start: np.ndarray,
    center: np.ndarray,
) -> dict[str, np.ndarray]:
    """Count, sums, packed cross-products and extremes per (pattern, dataset) pair.

    Rows must be sorted by pair, pair ``i`` owning
    ``row_index[pair_start[i]:pair_start[i + 1]]`` (at least one row each).
    """
    k = rows.n_columns
    n_pairs = pair_pattern.shape[0]
    center_cols = np.tile(center, rows.max_lag + 1)
    out = {
        "count": np.diff(pair_start).astype(np.float64),
        "sums": np.empty((n_pairs, k)),
        "cross": np.empty((n_pairs, k * (k + 1) // 2)),
        "col_min": np.empty((n_pairs, k)),
        "col_max": np.empty((n_pairs, k)),
    }
    chunk = max(1, _CHUNK_FLOATS // k)
    # Packed row i of the upper triangle (np.triu_indices order) is (i, i..k-1).
    offsets = np.r_[0, np.cumsum(np.arange(k, 0, -1))]
    a = 0
    while a < n_pairs:
        # Whole pairs per chunk so reduceat segments never straddle chunks.
        b = max(a + 1, int(np.searchsorted(pair_start, pair_start[a] + chunk, side="right")) - 1)
        b = min(b, n_pairs)
        lo, hi = pair_start[a], pair_start[b]
        raw = rows.gather(row_index[lo:hi])
        seen = patterns[np.repeat(pair_pattern[a:b], np.diff(pair_start[a : b + 1]))]
        x = np.where(seen, raw - center_cols, 0.0)
        seg = pair_start[a:b] - lo
        out["sums"][a:b] = np.add.reduceat(x, seg, axis=0)
        for i in range(k):
            out["cross"][a:b, offsets[i] : offsets[i + 1]] = np.add.reduceat(
                x[:, i : i + 1] * x[:, i:], seg, axis=0
            )
        out["col_min"][a:b] = np.minimum.reduceat(np.where(seen, raw, np.inf), seg, axis=0)
        out["col_max"][a:b] = np.maximum.reduceat(np.where(seen, raw, -np.inf), seg, axis=0)
        a = b
    return out


def aggregate_pairs(
    pairs: dict[str, np.ndarray],
    pair_pattern: np.ndarray,
    pair_dataset: np.ndarray,
    n_patterns: int,
    weights: np.ndarray | None,
) -> tuple[np.ndarray, ...]:
    """Weighted per-pattern sums of pair statistics (pairs sorted by pattern)."""
    k = pairs["sums"].shape[1]
    wp = np.ones(pair_pattern.shape[0]) if weights is None else weights[pair_dataset]
    kept = np.flatnonzero(wp > 0)
    mat = sparse.csr_array((wp[kept], (pair_pattern[kept], kept)), shape=(n_patterns, wp.shape[0]))
    count = mat @ pairs["count"]
    sums, cross = mat @ pairs["sums"], mat @ pairs["cross"]
    cmin, cmax = np.full((n_patterns, k), np.inf), np.full((n_patterns, k), -np.inf)
    if kept.shape[0]:
        pat = pair_pattern[kept]
        first = np.flatnonzero(np.r_[True, pat[1:] != pat[:-1]])
        cmin[pat[first]] = np.minimum.reduceat(pairs["col_min"][kept], first, axis=0)
        cmax[pat[first]] = np.maximum.reduceat(pairs["col_max"][kept], first, axis=0)
    return count, sums, cross, cmin, cmax
