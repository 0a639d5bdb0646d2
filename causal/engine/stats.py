"""Sufficient statistics of the lagged panel design, per dataset and pooled.

:class:`LaggedMoments` is built once per cut-off ``L`` (``2 * tau_max`` for
PCMCI's ``cut_off='2xtau_max'``). It keeps, for every missingness pattern of the
lagged rows (see :mod:`causal.engine.design`), the count, column sums and
cross-product matrix of the data (shifted by each variable's global mean for
numerical stability) together with column minima and maxima (to detect constant
columns exactly, as tigramite's ``std == 0`` check does).

Statistics are kept per dataset so that a patient cluster-bootstrap replicate is
a weighted sum: :meth:`LaggedMoments.aggregate` with integer weights (patient
multiplicities) equals the statistics of the physically resampled panel.
Two storages give identical results:

``"dataset"``
    Sufficient statistics per (dataset, pattern) pair: ``n_pairs * (K(K+1)/2 +
    3K + 1)`` floats, ``K = N (L + 1)``. Cheapest to re-aggregate when series
    are long and patterns few.
``"rows"``
    Only the row index of the lagged design is kept (memory ~ the raw data plus
    16 bytes per row); each aggregation recomputes the cross-products with one
    BLAS product per pattern (``n_rows * K^2`` flops).

``"auto"`` picks ``"dataset"`` when it needs at most ``max_bytes`` and at most
a quarter of the rows' cross-product work, else ``"rows"``. Example bound: 10,000
patients x 52 weeks x 10 variables, ``tau_max=2`` (``L=4``, ``K=50``) has
480,000 rows; ``"rows"`` keeps ~50 MB, ``"dataset"`` would need about 11 kB per
(patient, pattern) pair, i.e. 2.6 GB at ~23 patterns per patient, so ``"auto"``
falls back to ``"rows"``. Pooled statistics need ``P * (K(K+1)/2 + 3K + 1)``
floats, ``P`` = number of distinct patterns (at most ``2**(L+1)`` when whole
weeks are missing; scattered single-cell gaps can make ``P`` approach the
number of rows).

Examples
--------
>>> rng = np.random.default_rng(0)
>>> data = {k: rng.normal(size=(12, 3)) for k in range(5)}
>>> moments = LaggedMoments.from_arrays(data, tau_max=1)
>>> moments.n_rows, moments.n_patterns  # 5 x (12 - 2) rows, all complete
(50, 1)
>>> pooled = moments.aggregate()
>>> sample = pooled.select([0, 1])  # x0(t), x1(t) over the 50 rows
>>> sample.n, bool(np.allclose(sample.cov, np.cov(np.vstack(
...     [d[2:, :2] for d in data.values()]).T, ddof=0)))
(50.0, True)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import sparse

from causal.engine.design import LaggedRows, NoValidSamplesError, missingness_patterns

__all__ = ["DEFAULT_MAX_BYTES", "LaggedMoments", "PooledMoments", "SampleMoments", "cut_for"]

logger = logging.getLogger(__name__)

#: Default memory budget of per-dataset statistics (``storage="auto"``).
DEFAULT_MAX_BYTES = 1 << 30

_CHUNK_FLOATS = 1 << 22  # ~32 MB temporaries while building pair statistics
_SELECTION_CACHE_SIZE = 2048

Storage = Literal["auto", "dataset", "rows"]


def cut_for(cut_off: str | int, tau_max: int, max_abs_lag: int = 0) -> int:
    """Number of leading time steps tigramite cuts off (``max_lag`` in construct_array).

    Parameters
    ----------
    cut_off : {'2xtau_max', 'tau_max', 'max_lag', 'max_lag_or_tau_max'} or int
        tigramite's cut-off rule, or an explicit cut.
    tau_max : int
        Maximum lag of the analysis.
    max_abs_lag : int, optional
        Largest ``|lag|`` among the test's nodes (needed by the ``max_lag`` rules).

    Returns
    -------
    int

    Examples
    --------
    >>> cut_for("2xtau_max", 2), cut_for("max_lag_or_tau_max", 2, max_abs_lag=3)
    (4, 3)
    """
    if isinstance(cut_off, (int, np.integer)) and not isinstance(cut_off, bool):
        cut = int(cut_off)
    elif cut_off == "2xtau_max":
        cut = 2 * tau_max
    elif cut_off == "tau_max":
        cut = tau_max
    elif cut_off == "max_lag":
        cut = max_abs_lag
    elif cut_off == "max_lag_or_tau_max":
        cut = max(max_abs_lag, tau_max)
    else:
        raise ValueError(
            f"cut_off={cut_off!r} is not supported; use '2xtau_max', 'tau_max', 'max_lag', "
            "'max_lag_or_tau_max' or an int ('2xtau_max_future' is not implemented)"
        )
    if cut < 0:
        raise ValueError(f"cut-off must be >= 0, got {cut} (cut_off={cut_off!r})")
    return cut


def _tri(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper-triangle indices of a ``k x k`` matrix and the full -> packed index map."""
    iu, ju = np.triu_indices(k)
    full = np.empty((k, k), dtype=np.int64)
    full[iu, ju] = np.arange(iu.shape[0])
    full[ju, iu] = full[iu, ju]
    return iu, ju, full


@dataclass(frozen=True)
class SampleMoments:
    """Mean-free second moments of one test's samples.

    Parameters
    ----------
    n : float
        Number of samples (weighted count under bootstrap weights).
    cov : numpy.ndarray
        Population covariance (``ddof=0``) of the selected columns.
    constant : numpy.ndarray
        Boolean per column: all selected values identical.
    """

    n: float
    cov: np.ndarray
    constant: np.ndarray

    def __str__(self) -> str:
        return f"SampleMoments(n={self.n:g}, dim={self.cov.shape[0]}, constant={self.constant.tolist()})"


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
        ``(P,)`` (weighted) number of rows per pattern, all > 0.
    sums : numpy.ndarray
        ``(P, K)`` column sums of the shifted data.
    cross : numpy.ndarray
        ``(P, K(K+1)/2)`` packed upper triangle of the cross-product matrix.
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
    _cache: dict[bytes, tuple[Any, ...]] = field(default_factory=dict, repr=False)
    _full: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_full", _tri(self.patterns.shape[1])[2])

    def __deepcopy__(self, memo: dict[int, Any]) -> PooledMoments:
        # Immutable apart from a pure cache: copies (e.g. PCMCI's deepcopy of the test) share it.
        return self

    def __str__(self) -> str:
        return (
            f"PooledMoments: {self.count.sum():g} rows in {self.count.shape[0]} missingness "
            f"patterns, {self.n_vars} variables x lags 0..{self.max_lag}"
        )

    def _summed(self, columns: np.ndarray) -> tuple[Any, ...]:
        """Statistics summed over the patterns observing all ``columns`` (cached)."""
        selected = self.patterns[:, columns].all(axis=1)
        key = selected.tobytes()
        hit = self._cache.get(key)
        if hit is None:
            idx = np.flatnonzero(selected)
            if idx.shape[0] == 1:
                i = idx[0]
                hit = (
                    float(self.count[i]),
                    self.sums[i],
                    self.cross[i][self._full],
                    self.col_min[i],
                    self.col_max[i],
                )
            else:
                hit = (
                    float(self.count[idx].sum()),
                    self.sums[idx].sum(axis=0),
                    self.cross[idx].sum(axis=0)[self._full],
                    self.col_min[idx].min(axis=0, initial=np.inf),
                    self.col_max[idx].max(axis=0, initial=-np.inf),
                )
            if len(self._cache) >= _SELECTION_CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = hit
        return hit

    def select(self, columns: Sequence[int] | np.ndarray) -> SampleMoments:
        """Moments over exactly the rows in which all ``columns`` are observed.

        Parameters
        ----------
        columns : sequence of int
            Lagged-design columns (see :func:`causal.engine.design.column_index`).

        Returns
        -------
        SampleMoments

        Raises
        ------
        NoValidSamplesError
            If no row observes all columns.
        """
        cols = np.asarray(columns, dtype=np.int64)
        n, sums, cross, cmin, cmax = self._summed(cols)
        if not n > 0:
            raise NoValidSamplesError(f"No valid samples for lagged columns {cols.tolist()}")
        s = sums[cols]
        cov = (cross[np.ix_(cols, cols)] - np.outer(s, s) / n) / n
        return SampleMoments(n=n, cov=cov, constant=cmax[cols] == cmin[cols])


def _check_weights(weights: Any, keys: tuple[Any, ...]) -> np.ndarray:
    """Validate per-dataset weights: array aligned with ``keys`` or ``{key: weight}``."""
    if isinstance(weights, Mapping):
        unknown = [k for k in weights if k not in set(keys)]
        if unknown:
            raise ValueError(f"weights name unknown datasets {unknown[:5]!r}")
        w = np.array([float(weights.get(k, 0.0)) for k in keys])
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(keys),):
            raise ValueError(f"weights must have shape ({len(keys)},) (one per dataset), got {w.shape}")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.shape[0]:
        raise ValueError(f"weight of dataset {keys[bad[0]]!r} is {w[bad[0]]}; must be finite and >= 0")
    if not w.any():
        raise ValueError("all dataset weights are zero")
    return w


@dataclass(frozen=True, eq=False)
class LaggedMoments:
    """Per-dataset sufficient statistics of the lagged design for one cut-off.

    Build with :meth:`from_dataframe` or :meth:`from_arrays`; pool with
    :meth:`aggregate`. Instances are immutable and shared (not copied) by
    ``copy.deepcopy``.

    Parameters
    ----------
    rows : LaggedRows
        The lagged design's row index (and the raw data).
    dataset_keys : tuple
        Dataset keys in storage order (weights align with this order).
    center : numpy.ndarray
        Per-variable global mean subtracted before accumulating, shape ``(N,)``.
    patterns : numpy.ndarray
        Boolean ``(P, K)`` missingness patterns.
    storage : {'dataset', 'rows'}
        Which statistics are kept (see module docstring).
    store : dict
        Storage arrays (private layout).
    """

    rows: LaggedRows
    dataset_keys: tuple[Any, ...]
    center: np.ndarray
    patterns: np.ndarray
    storage: str
    store: dict[str, np.ndarray] = field(repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dataframe(
        cls,
        dataframe: Any,
        tau_max: int,
        cut_off: str | int = "2xtau_max",
        *,
        storage: Storage = "auto",
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> LaggedMoments:
        """Build from a tigramite ``DataFrame`` (missing values already NaN there).

        Parameters
        ----------
        dataframe : tigramite.data_processing.DataFrame
            Without vector variables; ``remove_missing_upto_maxlag`` must be False.
            Reference points and time offsets are honoured; masks are ignored
            (masked tests are not supported by the engine).
        tau_max : int
            Maximum lag of the analysis.
        cut_off : {'2xtau_max', 'tau_max'} or int, optional
            Rule fixing the cut ``L`` (the ``max_lag`` rules depend on the test:
            pass the resulting int).
        storage : {'auto', 'dataset', 'rows'}, optional
        max_bytes : int, optional
            Budget for ``storage='auto'``.

        Returns
        -------
        LaggedMoments
        """
        if getattr(dataframe, "has_vector_data", False):
            raise ValueError("DataFrame with vector_vars is not supported by the pooled engine")
        if dataframe.missing_flag is not None and dataframe.remove_missing_upto_maxlag:
            raise ValueError("DataFrame(remove_missing_upto_maxlag=True) is not supported")
        keys = tuple(dataframe.values.keys())
        offsets = [int(dataframe.time_offsets[k]) for k in keys]
        refs = None
        if not (dataframe.reference_points_is_none and not any(offsets)):
            refs = np.asarray(dataframe.reference_points)
        return cls._build(
            [dataframe.values[k] for k in keys], keys, cut_for(cut_off, tau_max),
            refs, offsets, storage, max_bytes,
        )

    @classmethod
    def from_arrays(
        cls,
        data: Mapping[Any, np.ndarray],
        tau_max: int,
        cut_off: str | int = "2xtau_max",
        *,
        missing_flag: float | None = None,
        storage: Storage = "auto",
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> LaggedMoments:
        """Build from ``{key: array (T_k, N)}`` as ``DataFrame(analysis_mode='multiple')`` would.

        Parameters
        ----------
        data : mapping
            One float array of shape ``(T_k, N)`` per dataset (N constant).
        tau_max : int
            Maximum lag of the analysis.
        cut_off : {'2xtau_max', 'tau_max'} or int, optional
        missing_flag : float, optional
            Values equal to it are missing. NaN is only accepted when a flag is
            given (tigramite rejects NaN data).
        storage : {'auto', 'dataset', 'rows'}, optional
        max_bytes : int, optional

        Returns
        -------
        LaggedMoments
        """
        keys = tuple(data.keys())
        arrays = []
        n_vars = None
        for key in keys:
            arr = np.array(data[key], dtype=np.float64)
            if arr.ndim != 2:
                raise ValueError(f"dataset {key!r} must be 2-D (T, N), got shape {arr.shape}")
            if n_vars is None:
                n_vars = arr.shape[1]
            elif arr.shape[1] != n_vars:
                raise ValueError(f"dataset {key!r} has {arr.shape[1]} variables, expected {n_vars}")
            if missing_flag is None and np.isnan(arr).any():
                raise ValueError(f"dataset {key!r} contains NaN but no missing_flag was given")
            if missing_flag is not None:
                arr[arr == missing_flag] = np.nan
            arrays.append(arr)
        return cls._build(arrays, keys, cut_for(cut_off, tau_max), None, None, storage, max_bytes)

    @classmethod
    def _build(
        cls,
        arrays: list[np.ndarray],
        keys: tuple[Any, ...],
        cut: int,
        refs: np.ndarray | None,
        offsets: Sequence[int] | None,
        storage: Storage,
        max_bytes: int,
    ) -> LaggedMoments:
        if storage not in ("auto", "dataset", "rows"):
            raise ValueError(f"storage must be 'auto', 'dataset' or 'rows', got {storage!r}")
        rows = LaggedRows.build(arrays, cut, refs, offsets)
        finite = ~np.isnan(rows.values)
        center = np.where(finite, rows.values, 0.0).sum(axis=0) / np.maximum(finite.sum(axis=0), 1)
        obs = rows.observed()
        patterns, inverse = missingness_patterns(obs)
        n_ds, k = len(keys), rows.n_columns
        # (pattern, dataset) pairs, sorted by pattern then dataset.
        pair_key, pair_of_row = np.unique(inverse * n_ds + rows.row_dataset, return_inverse=True)
        n_pairs, per_pair = pair_key.shape[0], k * (k + 1) // 2 + 3 * k + 1
        if storage == "auto":
            fits = n_pairs * per_pair * 8 <= max_bytes
            cheap = n_pairs * (k * (k + 1) // 2) * 4 <= rows.n_rows * k * k
            storage = "dataset" if fits and cheap else "rows"
        order = np.argsort(pair_of_row, kind="stable")
        if storage == "dataset":
            store = _pair_statistics(rows, obs, order, pair_of_row[order], n_pairs, center)
            store["pair_pattern"] = pair_key // n_ds
            store["pair_dataset"] = pair_key % n_ds
        else:
            sorted_pattern = inverse[order]
            store = {
                "row_index": rows.row_index[order],
                "row_dataset": rows.row_dataset[order],
                "pattern_start": np.searchsorted(sorted_pattern, np.arange(patterns.shape[0] + 1)),
            }
        for arr in store.values():
            arr.setflags(write=False)
        out = cls(rows=rows, dataset_keys=keys, center=center, patterns=patterns,
                  storage=storage, store=store)
        logger.debug("built %s", out)
        return out

    # ------------------------------------------------------------------ properties
    def __deepcopy__(self, memo: dict[int, Any]) -> LaggedMoments:
        return self

    def __str__(self) -> str:
        return (
            f"LaggedMoments: {self.n_rows} rows from {len(self.dataset_keys)} datasets, "
            f"{self.n_vars} variables x lags 0..{self.max_lag}, {self.n_patterns} missingness "
            f"patterns, storage={self.storage!r} ({self.nbytes / 2**20:.1f} MiB)"
        )

    @property
    def n_vars(self) -> int:
        """Number of variables ``N``."""
        return self.rows.n_vars

    @property
    def max_lag(self) -> int:
        """Cut-off ``L`` (rows have ``t >= L``; columns lags ``0..L``)."""
        return self.rows.max_lag

    @property
    def n_rows(self) -> int:
        """Number of lagged sample rows (before any missing-value removal)."""
        return self.rows.n_rows

    @property
    def n_patterns(self) -> int:
        """Number of distinct missingness patterns ``P``."""
        return int(self.patterns.shape[0])

    @property
    def dataset_lengths(self) -> tuple[int, ...]:
        """Number of time steps ``T_k`` of every dataset."""
        return tuple(int(t) for t in self.rows.lengths)

    @property
    def nbytes(self) -> int:
        """Bytes held by the statistics (raw data included)."""
        return int(self.rows.values.nbytes + sum(a.nbytes for a in self.store.values()))

    # ------------------------------------------------------------------ pooling
    def aggregate(self, weights: Sequence[float] | Mapping[Any, float] | None = None) -> PooledMoments:
        """Pool the statistics over datasets, optionally weighted.

        Parameters
        ----------
        weights : array-like or mapping, optional
            Non-negative weight per dataset, aligned with :attr:`dataset_keys`
            (or ``{key: weight}``, missing keys weigh 0). An integer weight ``m``
            is equivalent to including the dataset ``m`` times (patient cluster
            bootstrap).

        Returns
        -------
        PooledMoments
        """
        w = None if weights is None else _check_weights(weights, self.dataset_keys)
        if self.storage == "dataset":
            parts = self._aggregate_pairs(w)
        else:
            parts = self._aggregate_rows(w)
        count, sums, cross, cmin, cmax = parts
        keep = count > 0
        return PooledMoments(
            n_vars=self.n_vars, max_lag=self.max_lag, patterns=self.patterns[keep],
            count=count[keep], sums=sums[keep], cross=cross[keep],
            col_min=cmin[keep], col_max=cmax[keep],
        )

    def _aggregate_pairs(self, w: np.ndarray | None) -> tuple[np.ndarray, ...]:
        s = self.store
        n_pat, k = self.patterns.shape
        wp = np.ones(s["pair_pattern"].shape[0]) if w is None else w[s["pair_dataset"]]
        kept = np.flatnonzero(wp > 0)
        mat = sparse.csr_array(
            (wp[kept], (s["pair_pattern"][kept], kept)), shape=(n_pat, wp.shape[0])
        )
        count = mat @ s["count"]
        sums, cross = mat @ s["sums"], mat @ s["cross"]
        cmin, cmax = np.full((n_pat, k), np.inf), np.full((n_pat, k), -np.inf)
        if kept.shape[0]:
            pat = s["pair_pattern"][kept]
            first = np.flatnonzero(np.r_[True, pat[1:] != pat[:-1]])
            cmin[pat[first]] = np.minimum.reduceat(s["col_min"][kept], first, axis=0)
            cmax[pat[first]] = np.maximum.reduceat(s["col_max"][kept], first, axis=0)
        return count, sums, cross, cmin, cmax

    def _aggregate_rows(self, w: np.ndarray | None) -> tuple[np.ndarray, ...]:
        s = self.store
        n_pat, k = self.patterns.shape
        iu, ju, _ = _tri(k)
        count, sums = np.zeros(n_pat), np.zeros((n_pat, k))
        cross = np.zeros((n_pat, iu.shape[0]))
        cmin, cmax = np.full((n_pat, k), np.inf), np.full((n_pat, k), -np.inf)
        center = np.tile(self.center, self.max_lag + 1)
        for p in range(n_pat):
            seg = slice(s["pattern_start"][p], s["pattern_start"][p + 1])
            idx = s["row_index"][seg]
            wr = None
            if w is not None:
                wr = w[s["row_dataset"][seg]]
                idx, wr = idx[wr > 0], wr[wr > 0]
            if idx.shape[0] == 0:
                continue
            cols = np.flatnonzero(self.patterns[p])
            raw = self.rows.gather(idx)[:, cols]
            x = raw - center[cols]
            full = np.zeros((k, k))
            if wr is None:
                count[p] = idx.shape[0]
                sums[p, cols] = x.sum(axis=0)
                full[np.ix_(cols, cols)] = x.T @ x
            else:
                count[p] = wr.sum()
                sums[p, cols] = wr @ x
                full[np.ix_(cols, cols)] = (x * wr[:, None]).T @ x
            cross[p] = full[iu, ju]
            cmin[p, cols], cmax[p, cols] = raw.min(axis=0), raw.max(axis=0)
        return count, sums, cross, cmin, cmax


def _pair_statistics(
    rows: LaggedRows,
    obs: np.ndarray,
    order: np.ndarray,
    sorted_pair: np.ndarray,
    n_pairs: int,
    center: np.ndarray,
) -> dict[str, np.ndarray]:
    """Count, sums, packed cross-products and extremes per (pattern, dataset) pair."""
    k = rows.n_columns
    iu, ju, _ = _tri(k)
    center_cols = np.tile(center, rows.max_lag + 1)
    first = np.flatnonzero(np.r_[True, sorted_pair[1:] != sorted_pair[:-1]])
    bounds = np.r_[first, sorted_pair.shape[0]]
    out = {
        "count": np.diff(bounds).astype(np.float64),
        "sums": np.empty((n_pairs, k)),
        "cross": np.empty((n_pairs, iu.shape[0])),
        "col_min": np.empty((n_pairs, k)),
        "col_max": np.empty((n_pairs, k)),
    }
    chunk = max(1, _CHUNK_FLOATS // max(iu.shape[0], 1))
    a = 0
    while a < n_pairs:
        # Whole pairs per chunk so reduceat segments never straddle chunks.
        b = max(a + 1, int(np.searchsorted(bounds, bounds[a] + chunk, side="right")) - 1)
        b = min(b, n_pairs)
        lo, hi = bounds[a], bounds[b]
        raw = rows.gather(rows.row_index[order[lo:hi]])
        seen = obs[order[lo:hi]]
        x = np.where(seen, raw - center_cols, 0.0)
        seg = bounds[a:b] - lo
        out["sums"][a:b] = np.add.reduceat(x, seg, axis=0)
        out["cross"][a:b] = np.add.reduceat(x[:, iu] * x[:, ju], seg, axis=0)
        out["col_min"][a:b] = np.minimum.reduceat(np.where(seen, raw, np.inf), seg, axis=0)
        out["col_max"][a:b] = np.maximum.reduceat(np.where(seen, raw, -np.inf), seg, axis=0)
        a = b
    return out
