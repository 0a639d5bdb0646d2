"""``PooledParCorr``: tigramite's ``ParCorr`` computed from pooled sufficient statistics.

A drop-in conditional-independence test for tigramite's own ``PCMCI``
(``run_pcmci``, ``run_pcmciplus``, ``pc_alpha`` selection) on a
``DataFrame(analysis_mode="multiple", missing_flag=...)`` panel. Values,
p-values, analytic confidence bounds and model-selection scores equal
``ParCorr(significance="analytic")`` to rounding (~1e-14 observed; p-values and
bounds are bit-identical for the same value), but each test reads
a few entries of precomputed moments (:mod:`causal.discovery.engine.stats`) instead of
rebuilding the lagged sample array with ``DataFrame.construct_array``.

Moments are built lazily at the first test for each cut-off and shared by
``copy.deepcopy`` (PCMCI deep-copies its test). Per-dataset weights give a
patient cluster bootstrap without rebuilding anything::

    test = PooledParCorr()
    PCMCI(dataframe, test).run_pcmci(tau_max=2)            # builds moments once
    replicate = test.with_weights(rng.multinomial(n, [1 / n] * n))
    PCMCI(dataframe, replicate).run_pcmci(tau_max=2)       # re-aggregates only

Unsupported tigramite features raise ``ValueError``: shuffle / fixed-threshold
significance, bootstrap confidence, masks, vector variables,
``remove_missing_upto_maxlag=True``, ``cut_off='2xtau_max_future'``,
``PCMCI.run_bootstrap_of`` (use weights) and nodes lagged beyond the cut-off
(where tigramite silently wraps around the series).

Known deviation: a column whose values over a test's samples are all equal is
always treated as constant (dropped, or ``val=0, pval=1`` for ``X``/``Y``).
tigramite decides via ``array.std() == 0``, which agrees for integer and
dyadic values but can be ~1e-17 for other repeated floats (e.g. 0.1). If ``X``
or ``Y`` is an exact linear function of ``Z`` the engine returns NaN where
tigramite correlates rounding noise.

Examples
--------
>>> from tigramite.data_processing import DataFrame
>>> rng = np.random.default_rng(1)
>>> data = {k: rng.normal(size=(10, 3)) for k in range(20)}
>>> test = PooledParCorr()
>>> test.set_dataframe(DataFrame(data, analysis_mode="multiple"))
>>> val, pval = test.run_test(X=[(0, -1)], Y=[(1, 0)], Z=[(2, -1)], tau_max=1)
>>> bool(-1 <= val <= 1 and 0 <= pval <= 1)
True
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from tigramite.independence_tests.parcorr import ParCorr

from causal.discovery.engine.bias import MomentBias
from causal.discovery.engine.design import column_index
from causal.discovery.engine.partial import (
    analytic_confidence,
    analytic_pvalue,
    partial_correlation,
    residual_variance_fraction,
)
from causal.discovery.engine.pooled import PooledMoments
from causal.discovery.engine.stats import (
    DEFAULT_MAX_BYTES,
    LaggedMoments,
    Storage,
    _check_weights,
    cut_for,
)

__all__ = ["PooledParCorr"]

logger = logging.getLogger(__name__)

#: A centred partial correlation is kept inside (-1, 1) so that its t statistic stays finite.
_MAX_CENTRED = 1 - 1e-9

Node = tuple[int, int]


def _nodes(nodes: Sequence[Any] | None, n_vars: int) -> list[Node]:
    """Deduplicated ``(var, lag)`` nodes, checked as tigramite's ``_check_nodes`` does."""
    out: dict[Node, None] = {}
    for node in nodes or []:
        try:
            var, lag = node
            node_t = (int(var), int(lag))
        except (TypeError, ValueError):
            raise ValueError(f"nodes must be (var, -lag) tuples, got {node!r}") from None
        if node_t[1] > 0:
            raise ValueError(f"node {node!r} has a positive lag; all lags must be <= 0")
        if not 0 <= node_t[0] < n_vars:
            raise ValueError(f"node {node!r}: variable index must be in [0, {n_vars - 1}]")
        out[node_t] = None
    return list(out)


def _drop_constant(cov: np.ndarray, constant: np.ndarray) -> np.ndarray:
    """Remove constant variables (tigramite's ``remove_constant_data``)."""
    if not constant.any():
        return cov
    keep = np.flatnonzero(~constant)
    return cov.take(keep, 0).take(keep, 1)


class _Shared:
    """Moments built for one dataframe state, shared by copies of a test."""

    def __init__(self, dataframe: Any = None, reference_points: Any = None) -> None:
        self.dataframe = dataframe
        self.reference_points = reference_points
        self.built: dict[int, LaggedMoments] = {}


class PooledParCorr(ParCorr):
    """Exact pooled partial-correlation test from sufficient statistics.

    Parameters
    ----------
    moments : LaggedMoments or sequence of LaggedMoments, optional
        Prebuilt statistics (one per cut-off) of the same data as the dataframe
        the test will be given; others are built lazily from the dataframe.
    weights : array-like or mapping, optional
        Per-dataset weights aligned with the dataframe's dataset order (or
        ``{key: weight}``); integer ``m`` = dataset included ``m`` times.
    storage : {'auto', 'dataset', 'rows'}, optional
        Storage of lazily built moments (see :mod:`causal.discovery.engine.stats`).
    max_bytes : int, optional
        Memory budget for ``storage='auto'``.
    df_loss : float or array-like, optional
        Degrees of freedom used by preprocessing (e.g. 2 per detrended
        patient, see :func:`causal.discovery.citests.within_df_loss`), subtracted from the
        analytic tests' ``T - dim``. A per-dataset array is weighted with the
        dataset weights, so a bootstrap replicate that includes a patient
        twice loses that patient's degrees of freedom twice. Default 0:
        tigramite's ``ParCorr`` exactly.
    significance : {'analytic'}, optional
        Only the analytic Student-t test is available.
    confidence : {None, False, 'analytic'}, optional
        Analytic confidence interval of the partial correlation.
    conf_lev : float, optional
        Two-sided confidence level.
    bias : MomentBias, optional
        Short-panel bias of the lagged moments (see
        :mod:`causal.discovery.engine.bias`): every partial correlation is
        centred by :meth:`MomentBias.shift` before its test. Default None:
        tigramite's ``ParCorr`` exactly.
    seed : int, optional
        Passed to tigramite (unused by analytic tests).
    verbosity : int, optional
        tigramite verbosity.
    """

    def __init__(
        self,
        moments: LaggedMoments | Sequence[LaggedMoments] | None = None,
        weights: Sequence[float] | Mapping[Any, float] | None = None,
        *,
        storage: Storage = "auto",
        max_bytes: int = DEFAULT_MAX_BYTES,
        df_loss: float | Sequence[float] = 0,
        significance: str = "analytic",
        confidence: str | bool | None = None,
        conf_lev: float = 0.9,
        bias: MomentBias | None = None,
        seed: int = 42,
        verbosity: int = 0,
    ) -> None:
        if significance != "analytic":
            raise ValueError(
                f"PooledParCorr supports significance='analytic' only, got {significance!r}"
            )
        if confidence not in (None, False, "analytic"):
            raise ValueError(
                f"PooledParCorr supports confidence None or 'analytic' only, got {confidence!r}"
            )
        if storage not in ("auto", "dataset", "rows"):
            raise ValueError(f"storage must be 'auto', 'dataset' or 'rows', got {storage!r}")
        super().__init__(
            seed=seed, significance=significance, confidence=confidence,
            conf_lev=conf_lev, verbosity=verbosity,
        )
        if isinstance(moments, LaggedMoments):
            moments = [moments]
        self.given_moments: dict[int, LaggedMoments] = {m.max_lag: m for m in moments or []}
        self.weights = weights
        self.storage = storage
        self.max_bytes = max_bytes
        loss = np.asarray(df_loss, dtype=float)
        if loss.ndim > 1 or not np.all(np.isfinite(loss)) or np.any(loss < 0):
            raise ValueError(f"df_loss must be a non-negative number or 1-d array, got {df_loss!r}")
        self.df_loss = df_loss
        if bias is not None and not isinstance(bias, MomentBias):
            raise ValueError(f"bias must be a MomentBias or None, got {type(bias).__name__}")
        self.bias = bias
        self._shared = _Shared()
        self._pooled: dict[int, PooledMoments] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> PooledParCorr:
        """Copy the test but share the dataframe and all moments (immutable).

        PCMCI deep-copies its test; sharing means moments built inside one
        PCMCI run are reused by the original test, its copies and
        :meth:`with_weights` replicates.
        """
        new = copy.copy(self)
        memo[id(self)] = new
        new.random_state = copy.deepcopy(self.random_state, memo)
        new.weights = copy.deepcopy(self.weights, memo)
        new.given_moments = dict(self.given_moments)
        new._pooled = dict(self._pooled)
        new.cached_ci_results = dict(self.cached_ci_results)
        new.ci_results = dict(self.ci_results)
        return new

    # ------------------------------------------------------------------ tigramite hooks
    def set_mask_type(self, mask_type: str | None) -> None:
        """Masks are not supported: only ``None`` is accepted."""
        if mask_type is not None:
            raise ValueError("PooledParCorr does not support masks (mask_type must be None)")
        super().set_mask_type(mask_type)

    def set_dataframe(self, dataframe: Any) -> None:
        """Attach a tigramite ``DataFrame``; moments of another dataframe are not reused."""
        if getattr(dataframe, "has_vector_data", False):
            raise ValueError("PooledParCorr does not support DataFrame vector_vars")
        if dataframe.missing_flag is not None and dataframe.remove_missing_upto_maxlag:
            raise ValueError("PooledParCorr does not support remove_missing_upto_maxlag=True")
        for m in self.given_moments.values():
            if not m.matches(dataframe):
                raise ValueError(
                    "the given moments were built from other data: datasets, lengths, number "
                    "of variables, reference points or time offsets differ from the dataframe"
                )
        super().set_dataframe(dataframe)
        self._bind(dataframe)

    def _bind(self, dataframe: Any) -> None:
        """Share built moments only with tests bound to the same dataframe state."""
        shared = self._shared
        if shared.dataframe is None and not shared.built:
            shared.dataframe, shared.reference_points = dataframe, dataframe.reference_points
        elif shared.dataframe is not dataframe or (
            shared.reference_points is not dataframe.reference_points
        ):
            # Another dataframe, or e.g. run_sliding_window_of changed the reference points.
            self._shared = _Shared(dataframe, dataframe.reference_points)
            self._pooled, self.cached_ci_results = {}, {}

    def with_weights(
        self, weights: Sequence[float] | Mapping[Any, float] | None
    ) -> PooledParCorr:
        """Return a new test on the same data and moments with other per-dataset weights.

        Parameters
        ----------
        weights : array-like or mapping or None
            See the class parameters.

        Returns
        -------
        PooledParCorr
            Shares the dataframe and all moments; only pooling is redone.
        """
        new = copy.deepcopy(self)
        new.weights = weights
        new._pooled, new.cached_ci_results, new.ci_results = {}, {}, {}
        return new

    def effective_df_loss(self) -> float:
        """Degrees of freedom subtracted from every analytic test under the current weights."""
        loss = np.asarray(self.df_loss, dtype=float)
        if loss.ndim == 0:
            return float(loss)
        if self.weights is None:
            return float(loss.sum())
        keys = self._any_moments().dataset_keys
        if loss.shape != (len(keys),):
            raise ValueError(f"df_loss has {loss.size} entries but there are {len(keys)} datasets")
        return float(loss @ _check_weights(self.weights, keys))

    def moments(self, cut: int) -> LaggedMoments:
        """Return the (lazily built, shared) lagged moments for cut-off ``cut``."""
        found = self.given_moments.get(cut)
        if found is not None and self.dataframe is not None and not found.matches(self.dataframe):
            # e.g. run_sliding_window_of moved the reference points: rebuild exactly.
            logger.info("given moments do not match the dataframe's sampling; rebuilding")
            found = None
        if found is None:
            found = self._shared.built.get(cut)
        if found is not None:
            return found
        if self.dataframe is None:
            raise ValueError(
                "Call set_dataframe first when using CI test outside causal discovery classes."
            )
        built = LaggedMoments.from_dataframe(
            self.dataframe, tau_max=0, cut_off=cut, storage=self.storage, max_bytes=self.max_bytes
        )
        logger.info("%s", built)
        self._shared.built[cut] = built
        return built

    def pooled(self, cut: int) -> PooledMoments:
        """Pooled (weighted) moments for cut-off ``cut``, cached."""
        found = self._pooled.get(cut)
        if found is None:
            found = self.moments(cut).aggregate(self.weights)
            self._pooled[cut] = found
        return found

    # ------------------------------------------------------------------ core
    def _check_dataframe_state(self) -> None:
        df = self.dataframe
        if df is None:
            return
        if df.bootstrap is not None:
            raise ValueError("PCMCI.run_bootstrap_of is not supported; use weights instead")
        if df.reference_points is not self._shared.reference_points:
            self._bind(df)

    def _prepare(
        self, X: Any, Y: Any, Z: Any, tau_max: int, cut_off: str | int
    ) -> tuple[list[Node], list[Node], list[Node], int]:
        if len(X) > 1 or len(Y) > 1:
            raise ValueError(f"X and Y for {self.measure} must be univariate.")
        self._check_dataframe_state()
        n_vars = self.dataframe.N if self.dataframe is not None else self._any_moments().n_vars
        xs, ys = _nodes(X, n_vars), _nodes(Y, n_vars)
        zs = [z for z in _nodes(Z, n_vars) if z not in xs and z not in ys]
        if isinstance(tau_max, bool) or not isinstance(tau_max, (int, np.integer)) or tau_max < 0:
            raise ValueError(f"tau_max must be a non-negative int, got {tau_max!r}")
        max_abs_lag = max((-lag for _, lag in xs + ys + zs), default=0)
        cut = cut_for(cut_off, int(tau_max), max_abs_lag)
        if max_abs_lag > cut:
            raise ValueError(
                f"a node has lag -{max_abs_lag}, beyond the cut-off {cut} "
                f"(cut_off={cut_off!r}, tau_max={tau_max}); tigramite would wrap around"
            )
        return xs, ys, zs, cut

    def _any_moments(self) -> LaggedMoments:
        for m in (*self.given_moments.values(), *self._shared.built.values()):
            return m
        raise ValueError(
            "Call set_dataframe first when using CI test outside causal discovery classes."
        )

    def _select(self, nodes: list[Node], cut: int) -> tuple[float, np.ndarray, np.ndarray]:
        """``(n, cov, constant)`` of ``nodes`` (in that order) over the test's samples."""
        pooled = self.pooled(cut)
        n_vars = pooled.n_vars
        cols = np.array([column_index(var, -lag, n_vars) for var, lag in nodes], dtype=np.int64)
        return pooled.moments(cols)

    def _value(
        self, xs: list[Node], ys: list[Node], zs: list[Node], cut: int
    ) -> tuple[float, int | None, float]:
        """``(val, dim, n)`` with constant Z removed; dim None if X or Y is empty/constant."""
        nodes = zs + xs + ys
        n, cov, const = self._select(nodes, cut)
        if not xs or not ys or const[len(zs) :].any():
            return 0.0, None, n
        cov = _drop_constant(cov, const)
        value = partial_correlation(cov)
        if self.bias is not None and np.isfinite(value):
            n_vars = self.pooled(cut).n_vars
            cols = [column_index(var, -lag, n_vars) for (var, lag), c in zip(nodes, const,
                                                                            strict=True) if not c]
            value = float(np.clip(value - self.bias.shift(cols), -_MAX_CENTRED, _MAX_CENTRED))
        return value, cov.shape[0], n

    @staticmethod
    def _cache_key(xs: list[Node], ys: list[Node], zs: list[Node], cut: int) -> tuple[Any, ...]:
        """Order-free key of a test (X and Y swappable, Z a set), as tigramite's hash."""
        return (cut, tuple(sorted((tuple(xs), tuple(ys)))), tuple(sorted(zs)))

    def run_test(
        self,
        X: Any,
        Y: Any,
        Z: Any = None,
        tau_max: int = 0,
        cut_off: str | int = "2xtau_max",
        alpha_or_thres: float | None = None,
    ) -> tuple[Any, ...]:
        """Test ``X _|_ Y | Z`` exactly as ``ParCorr.run_test`` does, from moments.

        Parameters
        ----------
        X, Y, Z : list of tuple
            Nodes ``(var, -lag)``; X and Y univariate.
        tau_max : int, optional
            Maximum lag of the analysis.
        cut_off : str or int, optional
            tigramite cut-off rule (see :func:`causal.discovery.engine.stats.cut_for`).
        alpha_or_thres : float, optional
            Significance level; if given the decision is returned too.

        Returns
        -------
        tuple
            ``(val, pval)`` or ``(val, pval, dependent)``.
        """
        xs, ys, zs, cut = self._prepare(X, Y, Z, tau_max, cut_off)
        key = self._cache_key(xs, ys, zs, cut)
        cached = self.cached_ci_results.get(key)
        if cached is None:
            val, dim, n = self._value(xs, ys, zs, cut)
            trivial = dim is None
            pval = 1.0 if trivial else self.get_analytic_significance(val, n, dim)
            self.cached_ci_results[key] = (val, pval, trivial)
        else:
            val, pval, trivial = cached
        if trivial:
            dependent = False
        else:
            dependent = None if alpha_or_thres is None else pval <= alpha_or_thres
        self.ci_results[(tuple(xs), tuple(ys), tuple(zs))] = (val, pval, dependent)
        if self.verbosity > 1:
            self._print_cond_ind_results(val=val, pval=pval, cached=cached is not None,
                                         dependent=dependent, conf=None)
        if alpha_or_thres is None:
            return val, pval
        return val, pval, dependent

    def get_analytic_significance(
        self, value: float, T: float, dim: int, xyz: Any = None
    ) -> float:
        """Student-t p-value with ``T - dim - df_loss`` degrees of freedom."""
        return analytic_pvalue(value, T - self.effective_df_loss(), dim)

    def get_analytic_confidence(
        self, value: float, df: float, conf_lev: float
    ) -> tuple[float, float]:
        """Analytic interval with ``df - df_loss`` degrees of freedom."""
        return analytic_confidence(value, df - self.effective_df_loss(), conf_lev)

    def get_measure(
        self, X: Any, Y: Any, Z: Any = None, tau_max: int = 0, data_type: Any = None
    ) -> float:
        """Partial correlation (constant variables removed), as ``ParCorr.get_measure``."""
        xs, ys, zs, cut = self._prepare(X, Y, Z, tau_max, "2xtau_max")
        return self._value(xs, ys, zs, cut)[0]

    def get_confidence(
        self, X: Any, Y: Any, Z: Any = None, tau_max: int = 0, data_type: Any = None
    ) -> tuple[float, float] | None:
        """Analytic confidence bounds, as ``ParCorr.get_confidence`` (no constant removal).

        Returns None when ``confidence`` is not set.
        """
        if not self.confidence:
            return None
        if self.conf_lev < 0.5 or self.conf_lev >= 1.0:
            raise ValueError(f"conf_lev = {self.conf_lev:.2f}, but must be between 0.5 and 1")
        xs, ys, zs, cut = self._prepare(X, Y, Z, tau_max, "2xtau_max")
        n, cov, const = self._select(zs + xs + ys, cut)
        dim = cov.shape[0]
        if not xs or not ys or const[len(zs) :].any():
            val = np.nan  # tigramite: pearsonr of a constant residual
        else:
            # PCMCI asks right after run_test on the same nodes: reuse its value.
            cached = self.cached_ci_results.get(self._cache_key(xs, ys, zs, cut))
            val = cached[0] if cached is not None else partial_correlation(
                _drop_constant(cov, const))
        self.conf = self.get_analytic_confidence(val, n - dim, self.conf_lev)
        return self.conf

    def get_model_selection_criterion(
        self, j: int, parents: Sequence[Node], tau_max: int = 0, criterion: str = "aic"
    ) -> float:
        """AIC/BIC of regressing ``(j, 0)`` on ``parents``, as ``ParCorr`` computes it."""
        _, ys, zs, cut = self._prepare([(j, 0)], [(j, 0)], parents, tau_max, "2xtau_max")
        n, cov, const = self._select(zs + ys, cut)
        if const[-1]:
            rss = 0.0
        else:
            rss = n * residual_variance_fraction(_drop_constant(cov, const))
        p = len(zs) + 1  # tigramite: dim - 1 with dim = 2 + |Z|
        with np.errstate(divide="ignore"):
            if criterion == "corrected_aic":
                return float(n * np.log(rss) + 2.0 * p + (2.0 * p**2 + 2.0 * p) / (n - p - 1))
            if criterion == "bic":
                return float(n * np.log(rss / float(n)) + p * np.log(n))
            if criterion == "aic":
                return float(n * np.log(rss) + 2.0 * p)
        raise ValueError(f"Unknown scoring criterion {criterion!r}.")

    def _get_array(self, *args: Any, **kwargs: Any) -> Any:
        """Use tigramite's array path; refused under weights (it would ignore them)."""
        if self.weights is not None:
            raise ValueError("this tigramite code path builds raw arrays and ignores weights")
        return super()._get_array(*args, **kwargs)
