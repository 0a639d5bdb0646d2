"""Partial correlation, its analytic p-value and confidence interval from moments.

tigramite's ``ParCorr`` standardises ``X, Y, Z`` over the test's samples,
regresses ``X`` and ``Y`` on ``Z`` by least squares and takes the Pearson
correlation of the residuals. That equals the partial correlation read off the
samples' covariance matrix: with the correlation matrix ordered ``(Z, X, Y)``
(the order every function here expects) and its Cholesky factor ``L``, the
last 2x2 block ``B`` of ``L`` satisfies ``B B^T = R_{XY.Z}`` (the Schur
complement), so
``rho = B[1, 0] / hypot(B[1, 0], B[1, 1])``. A rank-deficient ``Z`` (where
tigramite's ``lstsq`` returns the minimum-norm fit) falls back to the
pseudo-inverse, which projects onto the same column space.

The p-value and the confidence bounds use tigramite's formulas; they call
``scipy.special.stdtr`` / ``stdtrit`` directly, which is what
``scipy.stats.t.sf`` / ``ppf`` evaluate, without the distribution machinery.

Examples
--------
>>> cov = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
>>> round(partial_correlation(cov), 12)  # (0.5 - 0.25) / (1 - 0.25)
0.333333333333
>>> round(analytic_pvalue(0.0, 100, 3), 12), analytic_pvalue(0.2, 3, 3)
(1.0, nan)
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special
from scipy.linalg import lapack

__all__ = [
    "analytic_confidence",
    "analytic_pvalue",
    "partial_correlation",
    "residual_variance_fraction",
]


def _correlation(cov: np.ndarray) -> np.ndarray:
    std = np.sqrt(cov.diagonal())
    return cov / std[:, None] / std[None, :]


def _schur(corr: np.ndarray, n_targets: int) -> np.ndarray:
    """Schur complement of the leading ``Z`` block (``corr`` ordered ``Z`` first)."""
    nz = corr.shape[0] - n_targets
    rzz, rzt = corr[:nz, :nz], corr[:nz, nz:]
    beta = np.linalg.lstsq(rzz, rzt, rcond=None)[0]
    return corr[nz:, nz:] - rzt.T @ beta


def partial_correlation(cov: np.ndarray) -> float:
    """Partial correlation of the first two variables given the others.

    Parameters
    ----------
    cov : numpy.ndarray
        Covariance matrix ordered ``(Z_1, ..., Z_k, X, Y)``; no variable may be
        constant.

    Returns
    -------
    float
        In ``[-1, 1]``; NaN if ``X`` or ``Y`` is a linear function of ``Z``
        (tigramite's residuals would then be numerically zero).
    """
    corr = _correlation(cov)
    chol, info = lapack.dpotrf(corr, lower=1, clean=0)
    if info != 0:
        schur = _schur(corr, 2)
        if not (schur[0, 0] > 0 and schur[1, 1] > 0):
            return math.nan
        return float(np.clip(schur[0, 1] / math.sqrt(schur[0, 0] * schur[1, 1]), -1.0, 1.0))
    b10, b11 = chol[-1, -2], chol[-1, -1]
    return float(b10 / math.hypot(b10, b11))


def residual_variance_fraction(cov: np.ndarray) -> float:
    """Unexplained share of the last variable's variance after regressing on the others.

    Equals ``sum(resid**2) / T`` of tigramite's standardised least-squares
    residuals, i.e. ``1 - R^2``.

    Parameters
    ----------
    cov : numpy.ndarray
        Covariance matrix ordered ``(Z_1, ..., Z_k, Y)``; no variable constant.

    Returns
    -------
    float
    """
    corr = _correlation(cov)
    chol, info = lapack.dpotrf(corr, lower=1, clean=0)
    if info != 0:
        return float(max(_schur(corr, 1)[0, 0], 0.0))
    return float(chol[-1, -1] ** 2)


def analytic_pvalue(value: float, n_samples: float, dim: int) -> float:
    """Two-sided Student-t p-value of a (partial) correlation, as tigramite's ParCorr.

    Parameters
    ----------
    value : float
        Partial correlation.
    n_samples : float
        Number of samples ``T``.
    dim : int
        Number of non-constant variables ``2 + |Z|``.

    Returns
    -------
    float
        NaN when the degrees of freedom ``T - dim`` are below 1.
    """
    deg_f = n_samples - dim
    if deg_f < 1:
        return math.nan
    if abs(abs(value) - 1.0) <= sys.float_info.min:
        return 0.0
    if -1.0 < value < 1.0:  # scalar math: same IEEE result as np.sqrt, less overhead
        trafo_val = value * math.sqrt(deg_f / (1.0 - value * value))
        return float(special.stdtr(deg_f, -abs(trafo_val)) * 2)
    trafo_val = value * np.sqrt(deg_f / (1.0 - value * value))
    return float(special.stdtr(deg_f, -np.abs(trafo_val)) * 2)


def analytic_confidence(value: float, df: float, conf_lev: float) -> tuple[float, float]:
    """Compute tigramite's analytic confidence interval of a correlation coefficient.

    Parameters
    ----------
    value : float
        Partial correlation.
    df : float
        Degrees of freedom ``T - dim``.
    conf_lev : float
        Two-sided confidence level, e.g. 0.9.

    Returns
    -------
    tuple of float
        ``(lower, upper)``.

    Examples
    --------
    >>> low, high = analytic_confidence(0.3, 97, 0.9)
    >>> bool(low < 0.3 < high)
    True
    """
    c_int = 1.0 - (1.0 - conf_lev) / 2.0
    if df > 0 and -1.0 < value < 1.0:  # no 0/0 or sqrt(<0): plain scalar math, same result
        return _t_interval(value, df, c_int, math.sqrt)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _t_interval(value, df, c_int, np.sqrt)


def _t_interval(value: float, df: float, c_int: float,
                sqrt: Callable[[Any], Any]) -> tuple[float, float]:
    """:func:`analytic_confidence`'s interval with ``sqrt`` (``math.sqrt`` or ``np.sqrt``)."""
    value_tdist = value * sqrt(df) / sqrt(1.0 - value**2)
    q_low = special.stdtrit(df, 1.0 - c_int) + value_tdist
    q_high = special.stdtrit(df, c_int) + value_tdist
    return float(q_low / sqrt(df + q_low**2)), float(q_high / sqrt(df + q_high**2))
