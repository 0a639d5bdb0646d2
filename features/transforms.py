"""Within-person transforms that separate within-patient dynamics from between-patient differences.

Pooling the raw scores of many patients mixes three things: stable
between-patient differences (one patient is always more depressed), treatment
trends (everyone improves, at different speeds), and the week-to-week
within-patient dynamics the question is about. Both of the first two create
lagged associations that are not within-person effects (Hamaker, Kuiper &
Grasman 2015; Curran & Bauer 2011; Wang & Maxwell 2015). Each transform here
works per patient (or per patient and segment), on the observed rows only:

* :func:`center` - person-mean centering (Curran & Bauer 2011; Enders &
  Tofighi 2007): removes stable between-person differences.
* :func:`detrend` - per-patient linear detrending, the default (Wang &
  Maxwell 2015; Curran & Bauer 2011 on disaggregating trends): removes
  differences in level *and* in the speed of change, the within-person
  analogue of the latent curve part of LCM-SR (Curran et al. 2014).
* :func:`diurnal` - for day/beep (EMA) designs, the default: per-person
  beep-of-day means (the time-of-day profile) and a linear trend over study
  time, fitted jointly (Bringmann et al. 2013; Hamaker et al. 2018 on
  detrending in ESM; Epskamp et al. 2018). A rhythm shared by a person's
  measures otherwise becomes lagged "effects".
* :func:`standardize` - within-person standardization (Wang & Maxwell 2015
  discuss its trade-offs): divides by each patient's within SD.
* :func:`remove_time_means` - time (week) fixed effects, the second way of a
  two-way within transform (Wooldridge 2010, *Econometric Analysis of Cross
  Section and Panel Data*, 10.5; for the bias that period effects remove in
  dynamic panels, Hsiao 2014, *Analysis of Panel Data*, ch. 3-4): subtracts, at
  every time point, the mean over patients. ``prepare(..., time_effects=True)``
  alternates it with the per-patient trend model until both hold, which removes
  the part of patients' change that they share in time (e.g. the average early
  response curve) without spending a degree of freedom per patient.

Trends are fitted on :meth:`Panel.study_time <features.panel.Panel.study_time>`:
for day/beep designs ``day + (beep - 1) / beeps_per_day``, never the beep-of-day
alone. Patients whose series are too short to estimate the transform (fewer
than 2 observed values for centering, 3 for detrending, ``beeps_per_day + 2``
for the diurnal model) are excluded and reported.

Examples
--------
>>> df = pd.DataFrame({"patient": [1, 1, 1, 2, 2, 2], "week": [1, 2, 3, 1, 2, 3],
...                    "depression": [20.0, 18, 16, 10, 11, 15]})
>>> panel = Panel.from_frame(df, tau_max=None)
>>> detrend(panel).data["depression"].round(6).tolist()
[0.0, 0.0, 0.0, 0.5, -1.0, 0.5]
>>> center(panel).data["depression"].tolist()
[2.0, 0.0, -2.0, -2.0, -1.0, 3.0]
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd

from features.choices import PREPS
from features.errors import DataError, InputError
from features.panel import Panel
from features.trends import TREND_MODELS, fit_trends, min_observations

__all__ = ["MIN_TIME_PATIENTS", "TIME_ROUNDS", "TIME_TOL", "center", "count_time_means",
           "detrend", "diurnal", "prepare", "remove_time_means", "resolve_prep",
           "resolve_time_effects", "standardize"]

logger = logging.getLogger(__name__)


By = Literal["patient", "segment"]


def _groups(panel: Panel, by: By) -> list[str]:
    if by == "patient":
        return [panel.id_col]
    if by == "segment":
        return panel.segment_cols
    raise ValueError(f"by must be 'patient' or 'segment', got {by!r}")


def _exclude_short(panel: Panel, groups: list[str], min_obs: int, what: str) -> Panel:
    """Exclude patients having a group with fewer than ``min_obs`` observed values of a variable."""
    counts = panel.data.groupby(groups, sort=False)[list(panel.variables)].count()
    short = counts < min_obs
    if not short.to_numpy().any():
        return panel
    bad = short.any(axis=1)
    ids = counts.index[bad]
    patients = ids.get_level_values(0) if isinstance(ids, pd.MultiIndex) else ids
    first_var = short[bad].idxmax(axis=1)
    per_patient = pd.Series(first_var.to_numpy(), index=patients)
    per_patient = per_patient[~per_patient.index.duplicated()]
    report = panel.exclusions.add(
        "patient", f"fewer than {min_obs} observed values of a variable for {what}",
        per_patient.index, column=None, values=per_patient.to_numpy())
    keep = ~panel.data[panel.id_col].isin(per_patient.index)
    if not keep.any():
        raise DataError(f"every patient has fewer than {min_obs} observed values of some variable; "
                        f"{what} is impossible (try prep 'none' or fewer variables)")
    return panel.with_data(panel.data[keep], report)


def center(panel: Panel, *, by: By = "patient") -> Panel:
    """Subtract each patient's mean (over observed rows) from each variable.

    Parameters
    ----------
    panel : Panel
        Validated panel.
    by : {"patient", "segment"}
        Centre per patient, or per patient and segment.

    Returns
    -------
    Panel
        New panel; patients with fewer than 2 observed values of a variable
        are excluded and reported.
    """
    groups = _groups(panel, by)
    panel = _exclude_short(panel, groups, 2, "centering")
    data = panel.data.copy()
    cols = list(panel.variables)
    data[cols] = data[cols] - data.groupby(groups, sort=False)[cols].transform("mean")
    return panel.with_data(data)


def detrend(panel: Panel, *, by: By = "patient") -> Panel:
    """Remove each patient's own least-squares linear trend in time from each variable.

    Time is :meth:`~features.panel.Panel.study_time` (day and beep for a
    day/beep design).

    The intercept and slope are fitted per patient and variable on the
    observed rows (closed-form OLS from group sums), so a missing week
    neither shifts the trend nor is imputed.

    Parameters
    ----------
    panel : Panel
        Validated panel.
    by : {"patient", "segment"}
        Fit one trend per patient, or one per patient and segment.

    Returns
    -------
    Panel
        New panel of residuals; patients with fewer than 3 observed values of
        a variable are excluded and reported.
    """
    groups = _groups(panel, by)
    panel = _exclude_short(panel, groups, 3, "detrending")
    data = panel.data.copy()
    cols = list(panel.variables)
    # Closed-form OLS per group from np.bincount sums, one variable at a time on
    # contiguous 1-d arrays (pandas group transforms took 3x longer at 1,000 x 13 x 5).
    codes = data.groupby(groups, sort=False).ngroup().to_numpy()
    n_groups = int(codes.max()) + 1 if codes.size else 0
    t = panel.study_time()
    values = data[cols].to_numpy(dtype=float, na_value=np.nan).T.copy()
    for j, x in enumerate(values):
        obs = ~np.isnan(x)
        t_obs = np.where(obs, t, 0.0)
        count = np.maximum(np.bincount(codes, weights=obs, minlength=n_groups), 1.0)
        t_mean = (np.bincount(codes, weights=t_obs, minlength=n_groups) / count)[codes]
        x_mean = (np.bincount(codes, weights=np.where(obs, x, 0.0), minlength=n_groups)
                  / count)[codes]
        dt = np.where(obs, t - t_mean, 0.0)
        sxx = np.bincount(codes, weights=dt * dt, minlength=n_groups)
        sxy = np.bincount(codes, weights=dt * np.where(obs, x - x_mean, 0.0),
                          minlength=n_groups)
        slope = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 0)[codes]
        values[j] = x - x_mean - slope * (t - t_mean)
    data[cols] = values.T
    return panel.with_data(data)


def diurnal(panel: Panel, *, by: By = "patient") -> Panel:
    """Remove each patient's time-of-day profile and linear trend over the study.

    Per patient (or segment) and variable, the least-squares fit of
    ``x ~ beep-of-day means + slope * study_time`` on the observed rows is
    subtracted: one mean per beep of the day (the diurnal profile, which also
    absorbs the patient's level) and one slope over
    :meth:`~features.panel.Panel.study_time` (the slow trend across days).
    Computed by Frisch-Waugh-Lovell: both ``x`` and study time are centred
    within (patient, beep), then the slope is fitted on the centred values.
    This uses ``beeps_per_day + 1`` parameters per patient, which
    :func:`causal.discovery.citests.within_df_loss` subtracts from the tests'
    degrees of freedom.

    Parameters
    ----------
    panel : Panel
        Validated panel with a day/beep design (``day_col`` and ``beep_col``).
    by : {"patient", "segment"}
        One model per patient, or per patient and segment (never per day).

    Returns
    -------
    Panel
        New panel of residuals; patients with fewer than ``beeps_per_day + 2``
        observed values of a variable are excluded and reported.

    Raises
    ------
    InputError
        If the panel has no day/beep design.

    Examples
    --------
    >>> df = pd.DataFrame({"p": [1] * 6, "d": [1, 1, 2, 2, 3, 3], "b": [1, 2] * 3,
    ...                    "x": [1.0, 3.0, 2.0, 4.0, 3.0, 5.0]})
    >>> panel = Panel.from_frame(df, id_col="p", day_col="d", beep_col="b", tau_max=None)
    >>> diurnal(panel).data["x"].round(9).abs().tolist()  # rhythm + trend: nothing left
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    if not panel.day_col:
        raise InputError("prep 'diurnal' needs a day/beep design (day_col and beep_col); "
                         "use prep 'detrend' for other designs")
    groups = _groups(panel, by)
    panel = _exclude_short(panel, groups, int(panel.beeps_per_day or 1) + 2,
                           "the diurnal model (beep-of-day means and a trend)")
    data = panel.data.copy()
    cols = list(panel.variables)
    cells = data.groupby([*groups, panel.time_col], sort=False).ngroup().to_numpy()
    codes = data.groupby(groups, sort=False).ngroup().to_numpy()
    n_cells = int(cells.max()) + 1 if cells.size else 0
    n_groups = int(codes.max()) + 1 if codes.size else 0
    t = panel.study_time()
    values = data[cols].to_numpy(dtype=float, na_value=np.nan).T.copy()
    for j, x in enumerate(values):
        obs = ~np.isnan(x)
        count = np.maximum(np.bincount(cells, weights=obs, minlength=n_cells), 1.0)
        t_c = t - (np.bincount(cells, weights=np.where(obs, t, 0.0), minlength=n_cells)
                   / count)[cells]
        x_c = x - (np.bincount(cells, weights=np.where(obs, x, 0.0), minlength=n_cells)
                   / count)[cells]
        t_c = np.where(obs, t_c, 0.0)
        sxx = np.bincount(codes, weights=t_c * t_c, minlength=n_groups)
        sxy = np.bincount(codes, weights=t_c * np.where(obs, x_c, 0.0), minlength=n_groups)
        slope = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 1e-12)[codes]
        values[j] = x_c - slope * t_c
    data[cols] = values.T
    return panel.with_data(data)


def resolve_prep(prep: str, panel: Panel) -> str:
    """Return the transform ``prep="auto"`` stands for: ``"diurnal"`` for day/beep designs.

    Any other value is returned unchanged.

    >>> df = pd.DataFrame({"patient": [1, 1, 1], "week": [1, 2, 3], "x": [1.0, 2.0, 4.0]})
    >>> resolve_prep("auto", Panel.from_frame(df, tau_max=None))
    'detrend'
    """
    if prep != "auto":
        return prep
    return "diurnal" if panel.day_col else "detrend"


def resolve_time_effects(value: bool | str | None, panel: Panel) -> bool:
    """Return whether time means are removed: ``"auto"`` (or None) is on unless day/beep.

    >>> df = pd.DataFrame({"patient": [1, 1, 1], "week": [1, 2, 3], "x": [1.0, 2.0, 4.0]})
    >>> resolve_time_effects("auto", Panel.from_frame(df, tau_max=None))
    True
    """
    if value is None or value == "auto":
        return panel.day_col is None
    return bool(value)


def standardize(panel: Panel, *, by: By = "patient") -> Panel:
    """Divide each variable by its within-patient standard deviation (ddof=1).

    Usually applied after :func:`center` or :func:`detrend`. Patients with a
    constant variable (zero within SD) are excluded and reported, because
    their scores cannot be scaled.
    """
    groups = _groups(panel, by)
    panel = _exclude_short(panel, groups, 2, "standardizing")
    cols = list(panel.variables)
    sd = panel.data.groupby(groups, sort=False)[cols].transform("std")
    flat = (sd <= 1e-12) | sd.isna()
    flat = flat & panel.data[cols].notna()
    if flat.to_numpy().any():
        bad_rows = flat.any(axis=1)
        bad = panel.data.loc[bad_rows, panel.id_col].unique()
        report = panel.exclusions.add("patient", "zero within-patient variance of a variable "
                                      "(cannot standardize)", bad)
        keep = ~panel.data[panel.id_col].isin(bad)
        if not keep.any():
            raise DataError("every patient has a constant variable; cannot standardize")
        panel = panel.with_data(panel.data[keep], report)
        sd = sd[keep]
    data = panel.data.copy()
    data[cols] = data[cols] / sd
    return panel.with_data(data)


#: Time points observed in fewer patients keep their values under :func:`remove_time_means`.
MIN_TIME_PATIENTS = 5
#: Alternations of trend model and time means in :func:`prepare`. Both are projections, so
#: the rounds converge to the two-way projection, geometrically: with linear detrending the
#: time means fall about tenfold every round and a half, reaching 1e-12 of the scores'
#: scale in about 15 rounds (40 patients x 10 weeks, 10% missing, 20% dropout), so the
#: result is the projection to rounding. The spline shares more of its space with the time
#: means and converges slowly (about 1e-3 of the scale after 20 rounds, far below the
#: scores' noise); it stops at 20 rounds.
_MAX_ROUNDS = {"spline": 20}
#: Largest number of rounds (other trend models), and the stopping bound relative to the
#: largest absolute prepared score.
TIME_ROUNDS = 60
TIME_TOL = 1e-12
#: Trend models that are least-squares projections (applying one twice changes nothing), so
#: that alternating them with the time means converges to the two-way projection. The others
#: (differencing, the change-point searches) are applied once, after the time means.
_PROJECTIONS = ("center", "detrend", "diurnal", "spline")


def _time_means(panel: Panel, min_patients: int) -> pd.DataFrame:
    """Per variable: the mean over patients at each time point (NaN where too few)."""
    data = panel.data
    cols = list(panel.variables)
    grouped = data.groupby(panel.time_col, sort=False)[cols]
    means = grouped.transform("mean")
    return means.where(grouped.transform("count") >= min_patients)


def count_time_means(panel: Panel, *, min_patients: int = MIN_TIME_PATIENTS) -> int:
    """Return how many time means :func:`remove_time_means` estimates (the most of any variable).

    >>> df = pd.DataFrame({"patient": [1, 1, 2, 2, 3], "week": [1, 2, 1, 2, 1],
    ...                    "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    >>> count_time_means(Panel.from_frame(df, tau_max=None), min_patients=3)
    1
    """
    counts = panel.data.groupby(panel.time_col)[list(panel.variables)].count()
    return int((counts >= min_patients).sum().max()) if len(counts) else 0


def remove_time_means(panel: Panel, *, min_patients: int = MIN_TIME_PATIENTS) -> Panel:
    """Subtract, from every variable, its mean over patients at each time point.

    Time points observed in fewer than ``min_patients`` patients are left
    unchanged (a mean of one or two patients would mostly remove their own
    dynamics); their number is logged.

    >>> df = pd.DataFrame({"patient": [1, 1, 2, 2], "week": [1, 2, 1, 2],
    ...                    "x": [1.0, 4.0, 3.0, 2.0]})
    >>> remove_time_means(Panel.from_frame(df, tau_max=None), min_patients=2).data["x"].tolist()
    [-1.0, 1.0, 1.0, -1.0]
    """
    means = _time_means(panel, min_patients)
    cols = list(panel.variables)
    data = panel.data.copy()
    data[cols] = data[cols] - means.fillna(0.0)
    kept = int(means.isna().any(axis=1).groupby(data[panel.time_col]).all().sum())
    if kept:
        logger.info("time means: %d time point(s) with fewer than %d patients left unchanged",
                    kept, min_patients)
    return panel.with_data(data)


def _apply(panel: Panel, prep: str, by: By) -> Panel:
    if prep == "detrend":
        return detrend(panel, by=by)
    if prep == "diurnal":
        return diurnal(panel, by=by)
    if prep == "center":
        return center(panel, by=by)
    if prep in TREND_MODELS:
        groups = _groups(panel, by)
        panel = _exclude_short(panel, groups, min_observations(prep), f"the {prep} trend model")
        return fit_trends(panel, prep, groups=groups).panel
    return panel


def prepare(panel: Panel, prep: str = "auto", *, standardize_within: bool = False,
            by: By = "patient", time_effects: bool = False) -> Panel:
    """Apply the named within-person preprocessing.

    Parameters
    ----------
    panel : Panel
        Validated panel.
    prep : str
        One of :data:`features.choices.PREPS`.
        ``"auto"`` (default) is ``"diurnal"`` for day/beep designs and
        ``"detrend"`` otherwise (:func:`resolve_prep`). ``"none"`` pools raw
        scores (only for comparison: it confounds
        between-patient differences and trends with within-patient dynamics).
        The last four are the trend models of :mod:`features.trends`
        (patients with too few observed values for the model are excluded
        and reported).
    standardize_within : bool
        Also divide by each patient's within SD.
    by : {"patient", "segment"}
        Grouping of the transform.
    time_effects : bool
        Also remove time means (:func:`remove_time_means`): first from the
        raw scores, then, for the least-squares trend models (``center``,
        ``detrend``, ``diurnal``, ``spline``), alternating with the trend
        model (until the time means are below 1e-12 of the scores' scale, at
        most 60 rounds, 20 for the spline; the trend model is applied last, so each patient's
        scores have no trend left): the two-way within transform. The other
        models (``difference``, ``changepoint``, ``piecewise``) are applied
        once to the time-demeaned scores. Applied before
        ``standardize_within``.
    """
    if prep not in PREPS:
        raise ValueError(f"prep must be one of {PREPS}, got {prep!r}")
    prep = resolve_prep(prep, panel)
    if time_effects:
        panel = remove_time_means(panel)
    panel = _apply(panel, prep, by)
    if time_effects and prep in _PROJECTIONS:
        cols = list(panel.variables)
        scale = float(np.nanmax(np.abs(panel.data[cols].to_numpy(dtype=float, na_value=np.nan)),
                                initial=0.0)) or 1.0
        rounds = _MAX_ROUNDS.get(prep, TIME_ROUNDS)
        for _ in range(rounds):
            panel = _apply(remove_time_means(panel), prep, by)
            left = _time_means(panel, MIN_TIME_PATIENTS).abs().max().max()
            if not np.isfinite(left) or left <= TIME_TOL * scale:
                break
        else:
            logger.info("time means: %d rounds left time means up to %.2g (scale %.3g)",
                        rounds, left, scale)
    if standardize_within:
        panel = standardize(panel, by=by)
    logger.info("prepared panel with prep=%s, time_effects=%s, standardize=%s", prep,
                time_effects, standardize_within)
    return panel
