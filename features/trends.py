r"""Within-person trend models: what each patient's own change curve is taken to be.

Pooled lagged tests of within-person dynamics are valid only if each
patient's systematic change over treatment is removed first; whatever part of
the change curve the trend model misses stays in the residuals, persists from
week to week and is shared by a patient's measures, and then looks like a
cross-lagged effect (Falkenström et al. 2017; Wang & Maxwell 2015). Every
model here is fitted per patient (or per patient and segment) by least
squares on the observed rows only, one measure at a time, and
:func:`remove_trend` returns the residuals. ``TREND_PARAMS`` gives the number
of parameters a model estimates per group, which the pooled tests subtract
from their degrees of freedom (:func:`causal.discovery.citests.within_df_loss`).

Models (``prep`` / ``--prep``):

``"center"`` (1 parameter)
    Person mean (Curran & Bauer 2011).
``"detrend"`` (2)
    Straight line :math:`a + b t` (Wang & Maxwell 2015; Curran et al. 2014).
``"spline"`` (3)
    Natural cubic regression spline with three knots, at the first and last
    observed week and half-way (Hastie, Tibshirani & Friedman 2009, sec.
    5.2.1; truncated-power basis of their eq. 5.4-5.5): a line plus one smooth
    bend, linear beyond the boundary knots. Captures early response and
    relapse-like bends; a step is only smoothed. (A fourth knot was tried:
    at 13 weeks it shrank the lag-1 autocorrelation of null cohorts from
    about 0.3 to -0.25, see docs/method.md.)
``"changepoint"`` (3 + 1 for the search)
    Line plus one level shift :math:`a + b t + \delta\,[t \ge w]` at the week
    :math:`w` where the patient's measures jump most *jointly* (the week
    minimizing the sum over measures of the residual sum of squares, each
    relative to its straight-line fit; at least two observed weeks on each
    side). A sudden gain or loss is a shared step (Tang & DeRubeis 1999), so
    the measures vote together. Change-point regression: Bai & Perron (1998);
    its search is a data-dependent choice, charged one extra degree of
    freedom per patient (:data:`TREND_PARAMS`). The search itself biases the
    cross-lagged tests (null rate 0.19 on straight lines at 226 x 13,
    docs/validation.md), which no degrees-of-freedom charge can repair.
``"piecewise"`` (4 + 1 for the search)
    Broken stick with a jump at one searched week:
    :math:`a + b t + \delta\,[t \ge w] + \gamma\,(t - w)_+` (at least three
    observed weeks on each side). Covers a step, a plateau-then-relapse bend
    and, roughly, an early response.
``"difference"`` (1)
    First differences :math:`y_t - y_{t-1}` (consecutive weeks only; the
    first week of a patient and weeks after a gap become missing), then
    centred per patient (the mean difference is the linear slope). Removes
    levels, linear trends and steps (a step becomes one outlier), but turns
    the dynamics into differences (Box & Jenkins 1976; for panels, Anderson &
    Hsiao 1981).

Examples
--------
>>> df = pd.DataFrame({"patient": [1] * 6, "week": [1, 2, 3, 4, 5, 6],
...                    "x": [5.0, 4.9, 4.8, 1.7, 1.6, 1.5], "y": [2.0, 2.2, 2.4, 6.6, 6.8, 7.0]})
>>> panel = Panel.from_frame(df, tau_max=None)
>>> fit = fit_trends(panel, "changepoint")
>>> fit.breaks.tolist()  # the first week after the joint step
[4.0]
>>> bool(np.abs(fit.panel.data[["x", "y"]].to_numpy()).max() < 1e-9)  # line + step fit exactly
True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.checks import check_choice
from features.errors import DataError
from features.panel import Panel

__all__ = ["TREND_MODELS", "TREND_PARAMS", "TrendFit", "fit_by_group", "fit_trends", "group_codes",
           "min_observations"]

logger = logging.getLogger(__name__)

#: Trend models of this module (``"none"`` and ``"center"`` live in :mod:`features.transforms`).
TREND_MODELS: tuple[str, ...] = ("spline", "changepoint", "piecewise", "difference")

#: Degrees of freedom each within-person model uses per patient (or segment): the
#: parameters it estimates, plus one for a searched change point.
TREND_PARAMS: dict[str, int] = {
    "none": 0, "center": 1, "detrend": 2, "spline": 3, "changepoint": 4, "piecewise": 5,
    "difference": 1,
}

#: Fewest observed values of a measure a group needs for each model.
_MIN_OBS = {"spline": 5, "changepoint": 5, "piecewise": 7, "difference": 3}


def min_observations(model: str) -> int:
    """Fewest observed values of each measure a patient needs to fit ``model``.

    >>> min_observations("changepoint")
    5
    """
    return _MIN_OBS[check_choice("model", model, TREND_MODELS)]


@dataclass(frozen=True)
class TrendFit:
    """Residual panel of a trend model and the change points it found.

    Attributes
    ----------
    panel : Panel
        The residuals (the input panel's rows, measures replaced).
    model : str
        The trend model.
    breaks : numpy.ndarray
        Per group (in order of first appearance): the first week after the
        searched change point (NaN for models without one).
    """

    panel: Panel
    model: str
    breaks: np.ndarray


def group_codes(panel: Panel, groups: list[str]) -> tuple[np.ndarray, int]:
    """Integer code per row of each group (in order of first appearance) and the group count."""
    codes = panel.data.groupby(groups, sort=False).ngroup().to_numpy()
    return codes, (int(codes.max()) + 1 if codes.size else 0)


def fit_by_group(design: np.ndarray, x: np.ndarray, codes: np.ndarray, n_groups: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per-group least squares of ``x`` on ``design`` (rows, p) over observed rows.

    Parameters
    ----------
    design : numpy.ndarray
        ``(rows, p)`` regressors.
    x : numpy.ndarray
        ``(rows,)`` response; NaN marks a missing value (not used in the fit).
    codes : numpy.ndarray
        ``(rows,)`` group code of each row, ``0..n_groups-1``.
    n_groups : int
        Number of groups.

    Returns
    -------
    resid, rss : numpy.ndarray
        The residuals (NaN where ``x`` is) and the residual sum of squares per
        group. Rank-deficient groups use the pseudo-inverse (minimum-norm fit).

    Examples
    --------
    >>> t = np.arange(4.0)
    >>> resid, rss = fit_by_group(np.column_stack([np.ones(4), t]), 2 * t + 1,
    ...                           np.array([0, 0, 1, 1]), 2)
    >>> np.abs(resid).max() < 1e-12, rss.round(12).tolist()
    (np.True_, [0.0, 0.0])
    """
    obs = ~np.isnan(x)
    xd = np.where(obs[:, None], design, 0.0)
    xv = np.where(obs, x, 0.0)
    p = design.shape[1]
    xtx = np.empty((n_groups, p, p))
    xty = np.empty((n_groups, p))
    for a in range(p):
        xty[:, a] = np.bincount(codes, weights=xd[:, a] * xv, minlength=n_groups)
        for b in range(a, p):
            xtx[:, a, b] = xtx[:, b, a] = np.bincount(codes, weights=xd[:, a] * xd[:, b],
                                                      minlength=n_groups)
    beta = np.einsum("gab,gb->ga", np.linalg.pinv(xtx, hermitian=True), xty)
    resid = x - np.einsum("ra,ra->r", design, beta[codes])
    rss = np.bincount(codes, weights=np.where(obs, resid, 0.0) ** 2, minlength=n_groups)
    return resid, rss


def _spline_basis(t: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Natural cubic spline basis (intercept, t, 1 curvature term), knots per row's group.

    Knots at 0, 1/2 and 1 of the group's observed span; with ``d_k(u) = ((u -
    xi_k)_+^3 - (u - xi_K)_+^3) / (xi_K - xi_k)`` the curvature term is
    ``d_1 - d_2`` (Hastie et al. 2009, eq. 5.4-5.5).
    """
    span = np.where(hi > lo, hi - lo, 1.0)
    u = (t - lo) / span  # 0..1 within the group's observed span
    knots = np.array([0.0, 0.5, 1.0])

    def d(k: int) -> np.ndarray:
        return (np.clip(u - knots[k], 0, None) ** 3 - np.clip(u - knots[-1], 0, None) ** 3) / (
            knots[-1] - knots[k])

    return np.column_stack([np.ones_like(u), u, d(0) - d(1)])


def _search_break(values: np.ndarray, t: np.ndarray, codes: np.ndarray, n_groups: int,
                  kink: bool, min_side: int) -> np.ndarray:
    """Per group: the break week minimizing the summed relative RSS over measures (NaN: none)."""
    base = np.column_stack([np.ones_like(t), t])
    line_rss = np.stack([fit_by_group(base, x, codes, n_groups)[1] for x in values])
    scale = np.where(line_rss > 0, line_rss, 1.0)
    obs_all = ~np.isnan(values)
    best = np.full(n_groups, np.inf)
    week = np.full(n_groups, np.nan)
    for w in np.unique(t):
        after = (t >= w).astype(float)
        cols = [base, after[:, None]] + ([((t - w) * after)[:, None]] if kink else [])
        design = np.column_stack(cols)
        total = np.zeros(n_groups)
        ok = np.ones(n_groups, dtype=bool)
        for j, x in enumerate(values):
            n_after = np.bincount(codes, weights=obs_all[j] & (t >= w), minlength=n_groups)
            n_before = np.bincount(codes, weights=obs_all[j] & (t < w), minlength=n_groups)
            ok &= (n_after >= min_side) & (n_before >= min_side)
            total += fit_by_group(design, x, codes, n_groups)[1] / scale[j]
        better = ok & (total < best)
        best[better] = total[better]
        week[better] = w
    return week


def fit_trends(panel: Panel, model: str, *, groups: list[str] | None = None) -> TrendFit:
    """Fit a trend model per group and return the residuals (see the module docstring).

    Parameters
    ----------
    panel : Panel
        Validated panel.
    model : {"spline", "changepoint", "piecewise", "difference"}
        The trend model.
    groups : list of str, optional
        Columns defining a group (default: the patient id).

    Returns
    -------
    TrendFit

    Raises
    ------
    features.errors.DataError
        If no group has enough observations (callers exclude short groups
        first, see :func:`min_observations`).
    """
    model = check_choice("model", model, TREND_MODELS)
    groups = [panel.id_col] if groups is None else groups
    data = panel.data.copy()
    cols = list(panel.variables)
    if data.empty:
        raise DataError(f"no rows left to fit the {model!r} trend model")
    codes, n_groups = group_codes(panel, groups)
    t = data[panel.time_col].to_numpy(dtype=float)
    values = data[cols].to_numpy(dtype=float, na_value=np.nan).T.copy()
    breaks = np.full(n_groups, np.nan)
    if model == "difference":
        prev_t = np.r_[np.nan, t[:-1]]
        same = np.r_[False, codes[1:] == codes[:-1]] & (t - prev_t == 1)
        ones = np.ones((len(t), 1))
        for j, x in enumerate(values):
            diff = np.where(same, x - np.r_[np.nan, x[:-1]], np.nan)
            values[j] = fit_by_group(ones, diff, codes, n_groups)[0]
    else:
        if model == "spline":
            obs_t = np.where(np.isnan(values).all(axis=0), np.nan, t)
            frame = pd.DataFrame({"g": codes, "t": obs_t})
            lo = frame.groupby("g")["t"].transform("min").to_numpy()
            hi = frame.groupby("g")["t"].transform("max").to_numpy()
            design = _spline_basis(t, lo, hi)
            designs = [design] * len(values)
        else:
            kink = model == "piecewise"
            breaks = _search_break(values, t, codes, n_groups, kink, min_side=3 if kink else 2)
            w = breaks[codes]
            after = np.where(np.isnan(w), 0.0, (t >= w).astype(float))
            cols_ = [np.ones_like(t), t, after] + ([(t - np.nan_to_num(w)) * after] if kink
                                                   else [])
            designs = [np.column_stack(cols_)] * len(values)
        for j, x in enumerate(values):
            values[j] = fit_by_group(designs[j], x, codes, n_groups)[0]
    data[cols] = values.T
    logger.debug("fitted the %s trend model to %d groups", model, n_groups)
    return TrendFit(panel.with_data(data), model, breaks)
