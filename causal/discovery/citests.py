"""Conditional-independence tests by name, built for tigramite's PCMCI.

Examples
--------
>>> make_ci_test("parcorr").measure, type(make_ci_test("parcorr")).__name__
('par_corr', 'PooledParCorr')
>>> make_ci_test("parcorr-tigramite", df_loss=4).df_loss
4
>>> make_ci_test("nope")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
features.errors.InputError: unknown ci_test 'nope'; choose one of parcorr, ..., cmiknn
"""

from __future__ import annotations

import logging
from typing import Any

from tigramite.independence_tests.parcorr import ParCorr
from tigramite.independence_tests.robust_parcorr import RobustParCorr

from causal.discovery.choices import CI_TESTS
from features.errors import InputError
from features.trends import TREND_PARAMS

__all__ = ["WITHIN_DF_TESTS", "make_ci_test", "within_df_loss"]

logger = logging.getLogger(__name__)



#: Tests whose analytic p-values and intervals take the within-transform df correction.
WITHIN_DF_TESTS = ("parcorr", "parcorr-tigramite", "robust_parcorr")

#: Parameters each within-person transform estimates per patient (or segment): the trend
#: models of :mod:`features.trends`; the diurnal model adds one mean per beep of the day
#: (``beeps_per_day``) to its slope.
_PARAMS_PER_GROUP = {**TREND_PARAMS, "diurnal": 1}


def within_df_loss(prep: str, n_groups: int, *, beeps_per_day: int | None = None) -> int:
    """Degrees of freedom used up by a within-person transform.

    Centering estimates one mean and detrending an intercept and a slope per
    patient (or per segment); the diurnal model of day/beep designs one mean
    per beep of the day and a slope over study time (``beeps_per_day + 1``).
    The residuals then satisfy that many linear constraints per group, so the
    pooled test has ``n - dim - loss`` residual degrees of freedom, as for the
    within (fixed-effects) estimator (Wooldridge 2010, *Econometric Analysis
    of Cross Section and Panel Data*, sec. 10.5). Without it, short series
    give too small p-values: on 226 x 13 null cohorts the spurious-edge rate
    is 0.082 at alpha 0.05 (1,800 tests, SE 0.005) and 0.053 with it
    (``docs/method.md``). ``"auto"`` counts as ``"diurnal"`` when
    ``beeps_per_day`` is given, else as ``"detrend"``. The other trend models
    charge :data:`features.trends.TREND_PARAMS`: their parameters, plus one
    for a searched change point (a data-dependent choice; its calibration is
    measured in ``experiments/trajectories.py``). First differences charge 1
    (the mean difference); the differenced first week is not a sample, so it
    costs nothing here.

    >>> within_df_loss("detrend", 226), within_df_loss("none", 226)
    (452, 0)
    >>> within_df_loss("diurnal", 80, beeps_per_day=5)
    480
    >>> within_df_loss("changepoint", 10)
    40
    """
    if prep == "auto":
        prep = "detrend" if beeps_per_day is None else "diurnal"
    if prep not in _PARAMS_PER_GROUP:
        raise InputError(f"unknown prep {prep!r}")
    per_group = _PARAMS_PER_GROUP[prep]
    if prep == "diurnal":
        if beeps_per_day is None:
            raise InputError("prep 'diurnal' needs beeps_per_day to count its degrees of freedom")
        per_group += int(beeps_per_day)
    return per_group * int(n_groups)


class _WithinDF:
    """Mixin: subtract ``df_loss`` from the analytic degrees of freedom."""

    df_loss: int = 0

    def get_analytic_significance(self, value, T, dim, xyz):
        return super().get_analytic_significance(value, T - self.df_loss, dim, xyz)

    def get_analytic_confidence(self, value, df, conf_lev):
        return super().get_analytic_confidence(value, df - self.df_loss, conf_lev)


class WithinParCorr(_WithinDF, ParCorr):
    """tigramite's ParCorr with ``df_loss`` subtracted from its degrees of freedom."""


class WithinRobustParCorr(_WithinDF, RobustParCorr):
    """tigramite's RobustParCorr with ``df_loss`` subtracted from its degrees of freedom."""


_WITHIN_CLASSES = {"WithinParCorr": WithinParCorr, "WithinRobustParCorr": WithinRobustParCorr}


def _within(name: str, df_loss: float, **kwargs: Any) -> Any:
    test = _WITHIN_CLASSES[name](**kwargs)
    test.df_loss = df_loss
    return test


def make_ci_test(name: str, *, ci_level: float = 0.9, random_state: int | None = None,
                 df_loss: float | Any = 0, bias: Any = None) -> Any:
    """Return a fresh tigramite conditional-independence test.

    Parameters
    ----------
    name : str
        ``"parcorr"`` (linear partial correlation computed by the pooled
        sufficient-statistics engine :class:`causal.discovery.engine.PooledParCorr`;
        the package default), ``"parcorr-tigramite"`` (the same test computed
        by tigramite's own ``ParCorr``, for cross-checks; equal to rounding),
        ``"robust_parcorr"`` (partial correlation after a normal-score
        transform), ``"gpdc"`` (Gaussian-process regression and distance
        correlation; needs the ``dcor`` package) or ``"cmiknn"``
        (nearest-neighbour conditional mutual information with a permutation
        test; slow).
    ci_level : float
        Level of the analytic confidence intervals (ParCorr-type tests).
    random_state : int, optional
        Seed of the permutation / null-distribution draws (GPDC, CMIknn).
    df_loss : float or array-like
        Degrees of freedom used by the within-person transform (see
        :func:`within_df_loss`); applied to the tests in
        :data:`WITHIN_DF_TESTS`. ``"parcorr"`` also accepts one value per
        dataset (weighted by bootstrap weights); the others need a number.
    bias : causal.discovery.engine.MomentBias, optional
        Short-panel bias that centres ``"parcorr"`` tests; other tests refuse it.
    """
    if name not in CI_TESTS:
        raise InputError(f"unknown ci_test {name!r}; choose one of {', '.join(CI_TESTS)}")
    if name == "parcorr":
        from causal.discovery.engine import PooledParCorr

        return PooledParCorr(df_loss=df_loss, confidence="analytic", conf_lev=ci_level,
                             bias=bias)
    if bias is not None:
        raise InputError(f"only ci_test='parcorr' can be centred on a short-panel bias, not "
                         f"{name!r}")
    df_loss = float(sum(df_loss)) if hasattr(df_loss, "__len__") else df_loss
    if name in ("parcorr-tigramite", "robust_parcorr"):
        within = "WithinParCorr" if name == "parcorr-tigramite" else "WithinRobustParCorr"
        return _within(within, df_loss, significance="analytic", confidence="analytic",
                       conf_lev=ci_level)
    if name == "gpdc":
        try:
            from tigramite.independence_tests.gpdc import GPDC
        except ImportError as exc:
            raise InputError("ci_test 'gpdc' needs the dcor package: pip install dcor") from exc
        return GPDC(significance="analytic", seed=random_state)
    try:
        from tigramite.independence_tests.cmiknn import CMIknn
    except ImportError as exc:
        raise InputError("ci_test 'cmiknn' needs the numba package: pip install numba") from exc
    # sig_blocklength=1: permute single samples. tigramite's automatic block
    # length calls np.corrcoef(..., ddof=0), which NumPy 2.4 removed; the
    # samples of a pooled panel are not one long series anyway.
    return CMIknn(significance="shuffle_test", seed=random_state, workers=1, sig_blocklength=1)
