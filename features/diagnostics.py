r"""Trajectory diagnostics: how well each patient's trend model fits.

A within-person trend model that misses part of a patient's change leaves
that part in the residuals, where it persists from week to week and is shared
by the patient's measures: exactly what a cross-lagged test mistakes for an
effect (see :mod:`features.trends`). :func:`diagnose_trends` checks the
residuals of the chosen trend model (``prep``) for each patient and measure
with two F-tests of added regressors in the least-squares fit of the residual
on ``[1, t, extra]`` (the idea of Ramsey's 1969 RESET; for ``prep="detrend"``
it is the exact nested test against the straight line) and one statistic:

* **curvature** - ``extra`` is the bend of a natural cubic spline with a knot
  half-way (the curvature term of ``prep="spline"``);
* **change point** - ``extra`` is a step :math:`[t \ge w]`, at every week
  :math:`w` with at least two observed weeks on each side; the smallest
  p-value is multiplied by the number of weeks tried (Bonferroni), since the
  week is searched (a sudden gain, Tang & DeRubeis 1999);
* **autocorrelation** - leftover persistence: the lag-1 autocorrelation of
  the residuals (a patient: the mean over its measures) above
  ``max_autocorr``.

A patient combines its measures by Fisher's method (for the change point,
per week, then Bonferroni over weeks), since a sudden gain or a shared curve
moves all of a patient's measures together, and is flagged when a combined
p-value is below ``level`` or its autocorrelation is above ``max_autocorr``.

With 13 weeks one patient says little: a step of 2 within-person SDs moves
the F statistic by a non-centrality of only 3 to 4, and the within-person
autocorrelation makes ordinary F-tests liberal. The cohort is what counts.
The share of flagged patients is compared with the share flagged in
**reference copies** of the same design (same patients, weeks and missing
values) in which every measure is a trend-free AR(1) process with the
cohort's own persistence and correlation, analysed by the same trend model:
the share a fitting model gets by chance. A one-sided Fisher exact test of
the excess gives ``p_excess``; below ``warn_level`` a warning is logged that
names the shares. Measured (226 x 13, 20 cohorts per shape, validation.md):
the warning fired on no straight-line cohort, on every relapse cohort, and on
15-25% of early-response, 25-55% of sudden-gain and 25-30% of mixed cohorts.
No warning is therefore no proof that the trend model fits.

Examples
--------
>>> weeks = np.arange(1, 14)
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"patient": np.repeat([1, 2], 13), "week": np.tile(weeks, 2),
...                    "x": np.r_[0.5 * weeks, 8.0 * (weeks >= 7)] + rng.normal(0, 1, 26),
...                    "y": np.r_[-0.2 * weeks, -6.0 * (weeks >= 7)] + rng.normal(0, 1, 26)})
>>> diag = diagnose_trends(Panel.from_frame(df, tau_max=None))
>>> diag.patients[["patient", "change_point"]].to_numpy().tolist()
[[1, False], [2, True]]
>>> float(diag.patients["change_week"].iloc[1])  # the first week after the joint step
7.0
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from features.checks import check_choice, check_probability, check_real
from features.choices import PREPS
from features.errors import InputError
from features.panel import Panel
from features.transforms import prepare, resolve_prep
from features.trends import fit_by_group, group_codes

__all__ = ["DIAGNOSTIC_COLUMNS", "PATIENT_COLUMNS", "TrendDiagnostics", "diagnose_trends"]

logger = logging.getLogger(__name__)

#: Columns of :attr:`TrendDiagnostics.table` (one row per patient and measure).
DIAGNOSTIC_COLUMNS = ("patient", "measure", "n_obs", "p_curvature", "p_change_point",
                      "change_week", "autocorr", "curvature", "change_point", "autocorrelation",
                      "flagged")

#: Columns of :attr:`TrendDiagnostics.patients` (one row per patient, measures combined).
PATIENT_COLUMNS = ("patient", "p_curvature", "p_change_point", "change_week", "autocorr",
                   "curvature", "change_point", "autocorrelation", "flagged")


@dataclass(frozen=True)
class TrendDiagnostics:
    """Fit of the within-person trend model, per patient and measure and for the cohort.

    Attributes
    ----------
    prep : str
        The trend model checked.
    table : pandas.DataFrame
        One row per patient and measure (:data:`DIAGNOSTIC_COLUMNS`).
    patients : pandas.DataFrame
        One row per patient (:data:`PATIENT_COLUMNS`): the measures' p-values
        combined by Fisher's method (change point: per week, then the
        Bonferroni-adjusted minimum over weeks), the mean autocorrelation.
    share_patients, share_series : float
        Share of patients flagged and of patient-measures flagged.
    share_curvature, share_change_point, share_autocorrelation : float
        Share of patients flagged by each check.
    expected_share : float
        Share of patients flagged in reference copies of the design where the
        trend model fits (same patients, weeks and missing values; measures
        replaced by trend-free AR(1) processes with the cohort's persistence
        and correlation).
    p_excess : float
        One-sided Fisher exact p-value: more patients flagged than in the
        reference.
    warn_level : float
        :func:`diagnose_trends` warns when ``p_excess < warn_level``.
    """

    prep: str
    table: pd.DataFrame
    patients: pd.DataFrame
    share_patients: float
    share_series: float
    share_curvature: float
    share_change_point: float
    share_autocorrelation: float
    expected_share: float
    p_excess: float
    warn_level: float

    @property
    def misfit(self) -> bool:
        """Whether significantly more patients are flagged than a fitting model would be."""
        return self.p_excess < self.warn_level

    def __str__(self) -> str:
        t, p = self.table, self.patients
        return (f"Trend diagnostics (prep={self.prep!r}): {int(p['flagged'].sum())} of {len(p)} "
                f"patients ({self.share_patients:.0%}) flagged (curvature "
                f"{self.share_curvature:.0%}, change point {self.share_change_point:.0%}, "
                f"autocorrelation {self.share_autocorrelation:.0%}; a fitting model flags "
                f"{self.expected_share:.0%} by chance, excess p = {self.p_excess:.2g}); "
                f"{int(t['flagged'].sum())} of {len(t)} patient-measures "
                f"({self.share_series:.0%})")


def _observed_span(t: np.ndarray, values: np.ndarray, codes: np.ndarray, n_groups: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    obs_t = np.where(np.isnan(values).all(axis=0), np.nan, t)
    frame = pd.DataFrame({"g": codes, "t": obs_t})
    return (frame.groupby("g")["t"].transform("min").to_numpy(),
            frame.groupby("g")["t"].transform("max").to_numpy())


def _f_pvalues(rss0: np.ndarray, rss1: np.ndarray, n_obs: np.ndarray, n_params: int
               ) -> np.ndarray:
    """p-values of the F-test of one added regressor (NaN without residual df)."""
    df = n_obs - n_params
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (rss0 - rss1) / (rss1 / df)
        f = np.where(rss1 <= 1e-12 * np.maximum(rss0, 1e-300), np.inf, f)
        f = np.where(rss0 <= 1e-12, 0.0, np.maximum(f, 0.0))
        f = np.where(np.isnan(rss0) | np.isnan(rss1), np.nan, f)
    return np.where((df >= 1) & ~np.isnan(f), stats.f.sf(np.nan_to_num(f), 1,
                                                         np.maximum(df, 1)), np.nan)


def _fisher(p: np.ndarray) -> np.ndarray:
    """Fisher's combination over the first axis (measures), ignoring NaN."""
    ok = ~np.isnan(p)
    stat = -2 * np.where(ok, np.log(np.clip(np.where(ok, p, 1.0), 1e-300, 1.0)), 0.0).sum(axis=0)
    k = ok.sum(axis=0)
    return np.where(k > 0, stats.chi2.sf(stat, 2 * np.maximum(k, 1)), np.nan)


def _persistence(x: np.ndarray, codes: np.ndarray, n_groups: int, same: np.ndarray) -> float:
    """Pooled AR(1) coefficient from first differences: ``1 + 2 * acf1(diff)``, in [0, 0.9].

    For an AR(1) process with coefficient ``phi`` the lag-1 autocorrelation of
    its first differences is ``-(1 - phi) / 2``; differences are free of
    levels and linear trends, and a step turns into one outlier.
    """
    d = np.where(same, x - np.r_[np.nan, x[:-1]], np.nan)
    ok = ~np.isnan(d)
    mean = np.bincount(codes, weights=np.where(ok, d, 0.0), minlength=n_groups) / np.maximum(
        np.bincount(codes, weights=ok, minlength=n_groups), 1)
    c = np.where(ok, d - mean[codes], np.nan)
    pair = np.r_[False, same[1:] & ok[1:] & ok[:-1]] & np.r_[False, codes[1:] == codes[:-1]]
    num = np.nansum(np.where(pair, c * np.r_[np.nan, c[:-1]], np.nan))
    den = np.nansum(c**2)
    if not den > 0:
        return 0.0
    return float(np.clip(1 + 2 * num / den, 0.0, 0.9))


def _tests(resid: Panel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per patient-measure and per patient: curvature, change point and autocorrelation.

    Ordinary least-squares F-tests on the residuals (no prewhitening: it
    removed most of the power against smooth bends, which look like
    persistence at 13 weeks); their liberality under autocorrelated
    dynamics is accounted for by the reference share (:func:`_reference`).
    """
    data = resid.data
    codes, n_groups = group_codes(resid, [resid.id_col])
    t = data[resid.time_col].to_numpy(dtype=float)
    raw = data[list(resid.variables)].to_numpy(dtype=float, na_value=np.nan).T
    lo, hi = _observed_span(t, raw, codes, n_groups)
    u = np.where(hi > lo, (t - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0)
    bend = u**3 - 2 * np.clip(u - 0.5, 0, None) ** 3
    k = len(raw)
    same = np.r_[False, (codes[1:] == codes[:-1]) & (np.diff(t) == 1)]
    values = raw
    base = np.column_stack([np.ones_like(t), t])
    n_obs = np.stack([np.bincount(codes, weights=~np.isnan(x), minlength=n_groups)
                      for x in values])
    rss0 = np.stack([fit_by_group(base, x, codes, n_groups)[1] for x in values])
    with_bend = np.column_stack([base, bend])
    rss_c = np.stack([fit_by_group(with_bend, x, codes, n_groups)[1] for x in values])
    p_curv = _f_pvalues(rss0, rss_c, n_obs, 3)
    weeks = np.unique(t)
    p_step = np.full((len(weeks), k, n_groups), np.nan)
    for i, w in enumerate(weeks):
        after = (t >= w).astype(float)
        for j, x in enumerate(values):
            obs = ~np.isnan(raw[j])
            n_after = np.bincount(codes, weights=obs & (t >= w), minlength=n_groups)
            ok = (n_after >= 2) & (np.bincount(codes, weights=obs, minlength=n_groups)
                                   - n_after >= 2)
            rss_w = fit_by_group(np.column_stack([base, after]), x, codes, n_groups)[1]
            p_step[i, j] = np.where(ok, _f_pvalues(rss0[j], rss_w, n_obs[j], 3), np.nan)
    n_cand = (~np.isnan(p_step)).sum(axis=0)  # (k, groups): weeks tried per series
    p_series_step = np.where(n_cand > 0, np.nanmin(np.where(np.isnan(p_step), np.inf, p_step),
                                                   axis=0) * n_cand, np.nan)
    p_series_step = np.minimum(p_series_step, 1.0)
    week_series = weeks[np.argmin(np.where(np.isnan(p_step), np.inf, p_step), axis=0)]
    joint_w = np.stack([_fisher(p_step[i]) for i in range(len(weeks))])  # (weeks, groups)
    n_cand_joint = (~np.isnan(joint_w)).sum(axis=0)
    best = np.argmin(np.where(np.isnan(joint_w), np.inf, joint_w), axis=0)
    p_joint_step = np.minimum(np.where(n_cand_joint > 0, joint_w[best, np.arange(n_groups)]
                                       * n_cand_joint, np.nan), 1.0)
    # residual lag-1 autocorrelation per series (before prewhitening), consecutive weeks only
    ac = np.full((k, n_groups), np.nan)
    for j, x in enumerate(raw):
        obs = ~np.isnan(x)
        mean = np.bincount(codes, weights=np.where(obs, x, 0.0), minlength=n_groups) / \
            np.maximum(np.bincount(codes, weights=obs, minlength=n_groups), 1)
        c = np.where(obs, x - mean[codes], np.nan)
        prod = np.where(same, c * np.r_[np.nan, c[:-1]], np.nan)
        ok = ~np.isnan(prod)
        num = np.bincount(codes, weights=np.where(ok, prod, 0.0), minlength=n_groups)
        den = np.bincount(codes, weights=np.where(obs, c, 0.0) ** 2, minlength=n_groups)
        pairs = np.bincount(codes, weights=ok, minlength=n_groups)
        ac[j] = np.where((den > 0) & (pairs >= 2), num / np.where(den > 0, den, 1.0), np.nan)
    patients = data.groupby(resid.id_col, sort=False)[resid.id_col].first().to_numpy()
    series = pd.DataFrame({
        "patient": np.tile(patients, k), "measure": np.repeat(list(resid.variables), n_groups),
        "n_obs": np.stack([np.bincount(codes, weights=~np.isnan(x), minlength=n_groups)
                           for x in raw]).ravel().astype(np.int64),
        "p_curvature": p_curv.ravel(),
        "p_change_point": p_series_step.ravel(), "change_week": week_series.ravel(),
        "autocorr": ac.ravel()})
    patient = pd.DataFrame({
        "patient": patients, "p_curvature": _fisher(p_curv), "p_change_point": p_joint_step,
        "change_week": np.where(np.isnan(p_joint_step), np.nan, weeks[best]),  # best, any p
        "autocorr": np.where((~np.isnan(ac)).any(axis=0), np.nansum(ac, axis=0) / np.maximum(
            (~np.isnan(ac)).sum(axis=0), 1), np.nan)})
    return series, patient


def _reference(panel: Panel, prep: str, level: float, max_autocorr: float,
               n_copies: int = 2) -> tuple[int, int]:
    """Count flagged and total patients in copies of the design where the trend model fits.

    Each copy keeps the patients, weeks and missing values of ``panel`` and
    replaces every measure by a stationary AR(1) process (no trend at all)
    with the measure's pooled persistence (:func:`_persistence`) and the
    correlation of the measures' first differences, then runs the same
    trend model and checks. Seeded (``default_rng(0)``), so the reference is
    a fixed function of the design. Persistence inflated by a misfit trend
    makes the reference share larger, i.e. the comparison conservative.
    """
    data = panel.data
    codes, n_groups = group_codes(panel, [panel.id_col])
    t = data[panel.time_col].to_numpy(dtype=float)
    raw = data[list(panel.variables)].to_numpy(dtype=float, na_value=np.nan).T
    same = np.r_[False, (codes[1:] == codes[:-1]) & (np.diff(t) == 1)]
    phis = np.array([_persistence(x, codes, n_groups, same) for x in raw])
    diffs = pd.DataFrame(np.where(same, raw - np.c_[np.full(len(raw), np.nan), raw[:, :-1]],
                                  np.nan).T)
    corr = diffs.corr().to_numpy() if len(raw) > 1 else np.ones((1, 1))
    corr = np.where(np.isnan(corr), 0.0, corr)
    np.fill_diagonal(corr, 1.0)
    eig, vec = np.linalg.eigh(corr)
    chol = vec * np.sqrt(np.clip(eig, 1e-9, None))
    start = pd.Series(t).groupby(codes).transform("min").to_numpy()
    rel = (t - start).astype(np.int64)
    span = int(rel.max()) + 1 if rel.size else 1
    rng = np.random.default_rng(0)
    flagged = total = 0
    for _ in range(n_copies):
        e = rng.standard_normal((n_groups, span, len(raw))) @ chol.T
        z = np.empty_like(e)
        z[:, 0] = e[:, 0] / np.sqrt(1 - phis**2)
        for s in range(1, span):
            z[:, s] = phis * z[:, s - 1] + e[:, s]
        sim = data.copy()
        sim[list(panel.variables)] = np.where(np.isnan(raw.T), np.nan, z[codes, rel])
        try:
            _, patients = _tests(prepare(panel.with_data(sim), prep))
        except InputError:  # pragma: no cover - the real panel passed the same checks
            continue
        flags = _flag(patients, level, max_autocorr)["flagged"]
        flagged += int(flags.sum())
        total += len(flags)
    return flagged, total


def _flag(table: pd.DataFrame, level: float, max_autocorr: float) -> pd.DataFrame:
    table = table.copy()
    table["curvature"] = table["p_curvature"] < level
    table["change_point"] = table["p_change_point"] < level
    table["autocorrelation"] = table["autocorr"] > max_autocorr
    table["flagged"] = table[["curvature", "change_point", "autocorrelation"]].any(axis=1)
    return table


def _mean(flags: pd.Series) -> float:
    return float(flags.mean()) if len(flags) else 0.0


def diagnose_trends(panel: Panel, prep: str = "detrend", *, level: float = 0.05,
                    max_autocorr: float = 0.4, warn_level: float = 0.01) -> TrendDiagnostics:
    """Check the fit of the trend model ``prep`` for each patient and measure.

    Parameters
    ----------
    panel : Panel
        Validated panel (before preprocessing).
    prep : str
        Trend model to check (one of :data:`features.choices.PREPS`; ``"auto"``
        is resolved by :func:`features.transforms.resolve_prep`; for
        ``"none"`` the raw scores are checked).
    level : float
        Flag when a test's p-value is below ``level``.
    max_autocorr : float
        Flag when the residual lag-1 autocorrelation (a patient: the mean over
        its measures) exceeds this.
    warn_level : float
        Log a warning when the share of flagged patients exceeds the share a
        fitting model flags by chance with one-sided binomial p below this.

    Returns
    -------
    TrendDiagnostics
    """
    prep = resolve_prep(check_choice("prep", prep, PREPS), panel)
    level = check_probability("level", level)
    max_autocorr = check_real("max_autocorr", max_autocorr, low=-1.0, high=1.0, high_ok=True)
    warn_level = check_probability("warn_level", warn_level, zero_ok=True, one_ok=True)
    series, patients = _tests(prepare(panel, prep))
    series = _flag(series, level, max_autocorr)
    patients = _flag(patients, level, max_autocorr)
    n_flagged = int(patients["flagged"].sum())
    ref_flagged, ref_total = _reference(panel, prep, level, max_autocorr)
    expected = ref_flagged / ref_total if ref_total else 1 - (1 - level) ** 2
    p_excess = 1.0
    if len(patients) and ref_total:
        table2 = [[n_flagged, len(patients) - n_flagged], [ref_flagged, ref_total - ref_flagged]]
        p_excess = float(stats.fisher_exact(table2, alternative="greater").pvalue)
    out = TrendDiagnostics(
        prep=prep, table=series[list(DIAGNOSTIC_COLUMNS)],
        patients=patients[list(PATIENT_COLUMNS)],
        share_patients=_mean(patients["flagged"]), share_series=_mean(series["flagged"]),
        share_curvature=_mean(patients["curvature"]),
        share_change_point=_mean(patients["change_point"]),
        share_autocorrelation=_mean(patients["autocorrelation"]),
        expected_share=expected, p_excess=p_excess, warn_level=warn_level)
    if out.misfit:
        logger.warning("the %r trend model misfits: %.0f%% of patients flagged (%d of %d; a "
                       "fitting model flags %.0f%%, p = %.2g): curvature %.0f%%, change point "
                       "%.0f%%, leftover autocorrelation %.0f%% of patients, %.0f%% of "
                       "patient-measures; cross-lagged tests may then report effects that do "
                       "not exist (docs/method.md, trend models)", prep,
                       100 * out.share_patients, n_flagged, len(patients), 100 * expected,
                       p_excess, 100 * out.share_curvature, 100 * out.share_change_point,
                       100 * out.share_autocorrelation, 100 * out.share_series)
    else:
        logger.info("%s", out)
    return out
