"""Sufficient statistics of the lagged panel design, kept per dataset.

:class:`LaggedMoments` is built once per cut-off ``L`` (``2 * tau_max`` for
PCMCI's ``cut_off='2xtau_max'``). It groups the lagged rows (see
:mod:`causal.discovery.engine.design`) by missingness pattern and pools, per pattern, the
count, column sums and cross-product matrix of the data (shifted by each
variable's global mean for numerical stability) plus column minima and maxima
(to detect constant columns exactly, as tigramite's ``std == 0`` does):
:meth:`LaggedMoments.aggregate` returns these as :class:`PooledMoments`.

Aggregation takes per-dataset weights, so a patient cluster-bootstrap replicate
is a weighted sum: integer weights (patient multiplicities) give the statistics
of the physically resampled panel. Two ways to aggregate, identical results:

from rows
    Always available. Only the row index is kept (memory ~ the raw data plus
    16 bytes per row); every aggregation recomputes one Gram product per
    pattern (``n_rows * K^2`` multiply-adds, ``K = N (L + 1)``).
from per-dataset statistics
    Count, sums, packed cross-products and extremes per (dataset, pattern)
    pair: ``n_pairs * (K(K+1)/2 + 3K + 1)`` floats, built once; each
    aggregation is a sparse weighted sum (``n_pairs * K^2 / 2``).

``storage="rows"`` never builds per-dataset statistics, ``"dataset"`` builds
them eagerly, ``"auto"`` (default) builds them at the first *weighted*
aggregation if they fit in ``max_bytes`` (default 1 GiB) and cost at most half
the rows' work. Measured bound: 10,000 patients x 52 weeks x 10 variables with
15% missing weeks has 480,000 rows; at ``tau_max=2`` (``L=4``, ``K=50``, 32
patterns, ~12 per patient) per-dataset statistics need 1.3 GiB, so ``"auto"``
stays on rows (47 MiB, ~0.2 s per aggregation); at ``tau_max=1`` (``K=30``)
they need 255 MiB (build ~5 s, then ~0.03 s per aggregation). Pooled statistics
need ``P * (K(K+1)/2 + 3K + 1)`` floats for ``P`` patterns (at most
``2**(L+1)`` when whole weeks are missing; scattered single-cell gaps can make
``P`` approach the number of rows).

Examples
--------
>>> rng = np.random.default_rng(0)
>>> data = {k: rng.normal(size=(12, 3)) for k in range(5)}
>>> moments = LaggedMoments.from_arrays(data, tau_max=1)
>>> moments.n_rows, moments.n_patterns  # 5 x (12 - 2) rows, all complete
(50, 1)
>>> sample = moments.aggregate().select([0, 1])  # x0(t), x1(t) over the 50 rows
>>> sample.n, bool(np.allclose(sample.cov, np.cov(np.vstack(
...     [d[2:, :2] for d in data.values()]).T, ddof=0)))
(50.0, True)
>>> doubled = moments.aggregate(weights=[2, 0, 1, 1, 1])  # patient bootstrap draw
>>> doubled.select([0]).n
50.0
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from causal.discovery.engine.design import LaggedRows, missingness_patterns
from causal.discovery.engine.kernels import aggregate_pairs, aggregate_rows, pair_statistics
from causal.discovery.engine.pooled import PooledMoments

__all__ = ["DEFAULT_MAX_BYTES", "LaggedMoments", "Storage", "cut_for"]

logger = logging.getLogger(__name__)

#: Default memory budget of per-dataset statistics (``storage="auto"``).
DEFAULT_MAX_BYTES = 1 << 30

Storage = Literal["auto", "dataset", "rows"]


def cut_for(cut_off: str | int, tau_max: int, max_abs_lag: int = 0) -> int:
    """Return how many leading time steps tigramite cuts off (its ``max_lag``).

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


def _sampling(dataframe: Any) -> tuple[np.ndarray | None, tuple[int, ...] | None]:
    """Return a dataframe's reference points and time offsets, ``None`` for defaults."""
    offsets: tuple[int, ...] | None = tuple(
        int(dataframe.time_offsets[k]) for k in dataframe.values
    )
    refs: np.ndarray | None = np.asarray(dataframe.reference_points)
    if not any(offsets or ()):
        offsets = None
        if np.array_equal(refs, np.arange(max(dataframe.T.values()))):
            refs = None  # every time step: the fast path
    return refs, offsets


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
            raise ValueError(
                f"weights must have shape ({len(keys)},) (one per dataset), got {w.shape}"
            )
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.shape[0]:
        raise ValueError(
            f"weight of dataset {keys[bad[0]]!r} is {w[bad[0]]}; must be finite and >= 0"
        )
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
    storage : {'auto', 'dataset', 'rows'}
        When per-dataset statistics are built (see module docstring).
    max_bytes : int
        Their memory budget under ``storage='auto'``.
    reference_points : numpy.ndarray or None
        Reference points used (None: every time step).
    time_offsets : tuple of int or None
        Time offset per dataset (None: all zero).
    store : dict
        Row order and pair layout (private, read-only arrays).
    """

    rows: LaggedRows
    dataset_keys: tuple[Any, ...]
    center: np.ndarray
    patterns: np.ndarray
    storage: str
    max_bytes: int
    reference_points: np.ndarray | None
    time_offsets: tuple[int, ...] | None
    store: dict[str, np.ndarray] = field(repr=False)
    _pairs: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

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
        refs, offsets = _sampling(dataframe)
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
        patterns, inverse = missingness_patterns(rows.observed())
        n_ds = len(keys)
        # Rows sorted by (pattern, dataset) pair: grouped by pattern and by pair.
        pair_key, pair_of_row = np.unique(inverse * n_ds + rows.row_dataset, return_inverse=True)
        order = np.argsort(pair_of_row, kind="stable")
        pair_of_row = pair_of_row[order]
        store = {
            "row_index": rows.row_index[order],
            "row_dataset": rows.row_dataset[order],
            "pattern_start": np.searchsorted(inverse[order], np.arange(patterns.shape[0] + 1)),
            "pair_pattern": pair_key // n_ds,
            "pair_dataset": pair_key % n_ds,
            "pair_start": np.searchsorted(pair_of_row, np.arange(pair_key.shape[0] + 1)),
        }
        for arr in store.values():
            arr.setflags(write=False)
        out = cls(rows=rows, dataset_keys=keys, center=center, patterns=patterns,
                  storage=storage, max_bytes=max_bytes, reference_points=refs,
                  time_offsets=None if offsets is None else tuple(offsets), store=store)
        if storage == "dataset":
            out._pair_stats()
        logger.debug("built %s", out)
        return out

    # ------------------------------------------------------------------ properties
    def __deepcopy__(self, memo: dict[int, Any]) -> LaggedMoments:
        return self

    def __str__(self) -> str:
        stats = "per-dataset statistics" if self._pairs else "rows only"
        return (
            f"LaggedMoments: {self.n_rows} rows from {len(self.dataset_keys)} datasets, "
            f"{self.n_vars} variables x lags 0..{self.max_lag}, {self.n_patterns} missingness "
            f"patterns, {self.n_pairs} (dataset, pattern) pairs; storage={self.storage!r}, "
            f"{stats} ({self.nbytes / 2**20:.1f} MiB)"
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
    def n_pairs(self) -> int:
        """Number of (dataset, pattern) pairs with at least one row."""
        return int(self.store["pair_pattern"].shape[0])

    @property
    def dataset_lengths(self) -> tuple[int, ...]:
        """Number of time steps ``T_k`` of every dataset."""
        return tuple(int(t) for t in self.rows.lengths)

    @property
    def pair_statistics_bytes(self) -> int:
        """Memory the per-dataset statistics need (built or not)."""
        k = self.rows.n_columns
        return self.n_pairs * (k * (k + 1) // 2 + 3 * k + 1) * 8

    @property
    def nbytes(self) -> int:
        """Bytes held (raw data, row layout and any per-dataset statistics)."""
        arrays = (self.rows.values, *self.store.values(), *self._pairs.values())
        return int(sum(a.nbytes for a in arrays))

    def matches(self, dataframe: Any) -> bool:
        """Whether the moments describe this dataframe's datasets and sampling.

        Compares dataset keys, lengths, number of variables, reference points
        and time offsets (not the values themselves).
        """
        keys = tuple(dataframe.values.keys())
        if keys != self.dataset_keys or self.n_vars != dataframe.N:
            return False
        if self.dataset_lengths != tuple(int(dataframe.T[k]) for k in keys):
            return False
        refs, offsets = _sampling(dataframe)
        if offsets != self.time_offsets or (refs is None) != (self.reference_points is None):
            return False
        return refs is None or np.array_equal(refs, self.reference_points)

    # ------------------------------------------------------------------ pooling
    def _pair_stats(self) -> dict[str, np.ndarray]:
        if not self._pairs:
            s = self.store
            built = pair_statistics(self.rows, self.patterns, s["row_index"], s["pair_pattern"],
                                    s["pair_start"], self.center)
            for arr in built.values():
                arr.setflags(write=False)
            self._pairs.update(built)
            logger.debug("built per-dataset statistics: %s", self)
        return self._pairs

    def _use_pairs(self, weighted: bool) -> bool:
        if self._pairs or self.storage == "dataset":
            return True
        if self.storage == "rows" or not weighted:
            return False
        k = self.rows.n_columns
        cheap = self.n_pairs * (k * (k + 1) // 2) <= self.n_rows * k * k // 2
        return cheap and self.pair_statistics_bytes <= self.max_bytes

    def aggregate(
        self, weights: Sequence[float] | Mapping[Any, float] | None = None
    ) -> PooledMoments:
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
        s = self.store
        if self._use_pairs(w is not None):
            parts = aggregate_pairs(self._pair_stats(), s["pair_pattern"], s["pair_dataset"],
                                    self.n_patterns, w)
        else:
            parts = aggregate_rows(self.rows, self.patterns, s["row_index"], s["row_dataset"],
                                   s["pattern_start"], self.center, w)
        count, sums, cross, cmin, cmax = parts
        keep = count > 0
        return PooledMoments(
            n_vars=self.n_vars, max_lag=self.max_lag, patterns=self.patterns[keep],
            count=count[keep], sums=sums[keep], cross=cross[keep],
            col_min=cmin[keep], col_max=cmax[keep],
        )
