"""Vectorized power simulation: simulated cohorts straight into PCMCI's decisions.

The power planner (:mod:`causal.power`) needs the decisions of
:class:`~causal.discovery.estimator.PanelPCMCI` on hundreds of simulated cohorts.
Going through a long-format DataFrame, a :class:`~features.panel.Panel` and
tigramite costs tens of milliseconds per cohort; this module computes the same
decisions from arrays:

1. :func:`simulate_values` draws cohorts as arrays ``(cohort, patient, block,
   step, variable)`` (a weekly design is one block of ``n_weeks`` steps; an EMA
   design has one block per day), consuming each cohort's random generator
   exactly as :func:`features.simulate.simulate_cohort` does, so the same seed
   gives the same cohort;
2. :func:`cohort_statistics` applies the within-person transform
   (detrend / center / none, on each patient's observed steps), the patient
   exclusions of ``PanelPCMCI`` and tigramite's sample definition (per block,
   ``2 * tau_max`` leading steps only serve as lags, lags never cross blocks,
   a test uses the rows where all its nodes are observed), and pools the
   lagged moments per *lag set* (the set of lags a test involves) for all
   cohorts at once with batched matrix products;
3. :func:`pcmci_decisions` runs tigramite's PC1 condition selection (PCMCI with
   ``pc_alpha``, ``max_combinations=1``, parents sorted by their minimum
   absolute statistic) and the MCI tests on these moments, with the
   within-transform degrees-of-freedom correction
   (:func:`causal.discovery.citests.within_df_loss`) and the analytic
   ``1 - 2 * alpha`` intervals.

What is reproduced exactly: ``PanelPCMCI(method="pcmci", ci_test="parcorr",
fdr=None, prep in {"detrend", "center", "none"}, standardize=False,
prep_by="patient", no forbid / require, pc_alpha a number)`` for any
``tau_max``, ``cut_off``, ``min_lagged_rows`` and ``within_df``, on data whose
missing values are whole time steps (as simulated). Values and p-values agree
with tigramite's to rounding (partial correlations from pooled moments, as
:class:`~causal.discovery.engine.PooledParCorr`), so the decisions are the same
cohort by cohort (``tests/causal/test_power.py`` checks this against full
``PanelPCMCI`` runs). Two deviations that do not occur in simulated cohorts:
a column that is constant over a test's samples is not dropped, and a test
without residual degrees of freedom raises instead of giving NaN.

Examples
--------
>>> from features.scenarios import get_scenario
>>> values = simulate_values(get_scenario("paper"), 30, 8, seeds=[1, 2])
>>> values.shape
(2, 30, 1, 8, 3)
>>> stats = cohort_statistics(values, tau_max=1)
>>> result = pcmci_decisions(stats, alpha=0.05, pc_alpha=0.2)
>>> result.value.shape, result.significant.dtype.name
((2, 3, 3, 2), 'bool')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from causal.discovery.citests import within_df_loss
from causal.discovery.engine.kernels import _single_threaded_blas
from causal.discovery.engine.partial import partial_correlation
from features.errors import DataError, InputError
from features.scenarios import Scenario
from features.trajectories import Trajectory, draw_trends, get_trajectory
from features.transforms import MIN_TIME_PATIENTS
from features.transforms import TIME_ROUNDS as _TIME_ROUNDS
from features.transforms import TIME_TOL as _TIME_TOL

__all__ = [
    "CohortStatistics",
    "Decisions",
    "EffectDraws",
    "cohort_statistics",
    "effect_draws",
    "pcmci_decisions",
    "simulate_ema",
    "simulate_values",
]

Node = tuple[int, int]  # (variable, -lag), as tigramite


# ------------------------------------------------------------------ simulation
def _draws(n_patients: int, n_weeks: int, k: int, missing: float, dropout: float,
           seed: int) -> tuple[np.ndarray, ...]:
    """One cohort's random draws, in the order :func:`features.simulate.simulate_cohort` makes them.

    Returns standard normals of intercepts ``(P, k)``, slopes ``(P, k)`` and
    innovations ``(T, P, k)``, the kept weeks ``(P, T)`` and the child generator
    of the trajectory draws.
    """
    rng = np.random.default_rng(seed)
    extra = rng.spawn(1)[0]  # trajectory draws: a child generator, as the simulator's
    intercept = rng.standard_normal((n_patients, k))
    slope = rng.standard_normal((n_patients, k))
    z = rng.standard_normal((n_weeks, n_patients, k))
    keep = np.ones(n_patients * n_weeks, dtype=bool)
    if missing > 0:
        keep &= rng.random(keep.size) >= missing
    if dropout > 0:
        drops = rng.random(n_patients) < dropout
        stop = np.where(drops, rng.integers(4, n_weeks + 1, size=n_patients), n_weeks + 1)
        week = np.tile(np.arange(1, n_weeks + 1), n_patients)
        keep &= week < np.repeat(stop, n_weeks)
    return intercept, slope, z, keep.reshape(n_patients, n_weeks), extra


def simulate_values(scenario: Scenario, n_patients: int, n_weeks: int, *,
                    seeds: Sequence[int], missing: float = 0.0, dropout: float = 0.0,
                    trajectory: str | Trajectory = "linear") -> np.ndarray:
    """Simulate one weekly cohort per seed as an array.

    The random draws are made per cohort from its own seed, in the order of
    :func:`features.simulate.simulate_cohort` (one transition matrix for all
    patients; trends from :func:`features.trajectories.draw_trends`); the VAR
    recursion and the instruments then run on all cohorts at once.

    Parameters
    ----------
    scenario : Scenario
        The simulated truth.
    n_patients, n_weeks : int
        Design.
    seeds : sequence of int
        One seed per cohort; cohort ``i`` equals
        ``simulate_cohort(scenario, n_patients, n_weeks, missing=missing,
        dropout=dropout, trajectory=trajectory, random_state=seeds[i])`` (a
        removed week is NaN here).
    missing, dropout : float
        As in :func:`features.simulate.simulate_cohort`.
    trajectory : str or Trajectory
        Shape of the patients' change (:data:`features.choices.TRAJECTORIES`).

    Returns
    -------
    numpy.ndarray
        Shape ``(cohorts, patients, 1, weeks, variables)``.
    """
    k = len(scenario.variables)
    n_c = len(seeds)
    inst = scenario.instruments
    shape = get_trajectory(trajectory)
    within = np.array([i.within_sd for i in inst])
    direction = np.where(np.array([i.slope_mean for i in inst]) < 0, -1.0, 1.0)
    chols = [np.linalg.cholesky(scenario._corr_matrix(corr))
             for corr in (scenario.intercept_corr, scenario.slope_corr)]
    moments = (([i.intercept_mean for i in inst], [i.intercept_sd for i in inst]),
               ([i.slope_mean for i in inst], [i.slope_sd for i in inst]))
    trend = np.empty((n_c, n_patients, n_weeks, k))
    z = np.empty((n_weeks, n_c, n_patients, k))
    keep = np.empty((n_c, n_patients, n_weeks), dtype=bool)
    for c, seed in enumerate(seeds):
        a, b, z[:, c], keep[c], extra = _draws(n_patients, n_weeks, k, missing, dropout,
                                                int(seed))
        intercept, slope = (np.asarray(means) + normals @ chol.T * sds for normals, chol,
                            (means, sds) in zip((a, b), chols, moments, strict=True))
        trend[c] = draw_trends(shape, intercept, slope, n_weeks, within, direction,
                               extra).trend
    a_t = scenario.transition_matrix().T
    z[0] = z[0] @ np.linalg.cholesky(scenario.stationary_cov()).T
    z[1:] = z[1:] @ np.linalg.cholesky(scenario.innovation_cov()).T
    for t in range(1, n_weeks):
        z[t] += z[t - 1] @ a_t
    y = trend + within * z.transpose(1, 2, 0, 3)
    values = np.empty((n_c, n_patients, 1, n_weeks, k))
    for j in range(k):
        values[:, :, 0, :, j] = inst[j].measure(y[..., j])
    values[:, :, 0][~keep] = np.nan
    return values


def simulate_ema(scenario: Scenario, n_patients: int, days: int, beeps: int, *,
                 seeds: Sequence[int], missing: float = 0.0, dropout: float = 0.0) -> np.ndarray:
    """Simulate one EMA cohort per seed: ``days`` days of ``beeps`` beeps.

    The within-person VAR(1) of ``scenario`` runs beep to beep over the whole
    study (the night is one step, like any other: the analysis never uses a
    lag across it); the trend is the scenario's weekly slope spread over study
    days (``slope / 7`` per day, beeps at equal fractions of the day);
    instruments round and clip as in :func:`features.simulate.simulate_cohort`.
    ``missing`` removes single beeps at random; ``dropout`` makes a patient
    stop at a uniformly random day in ``2..days`` (that day and later ones
    are removed).

    Returns
    -------
    numpy.ndarray
        Shape ``(cohorts, patients, days, beeps, variables)``, NaN where a beep
        is missing.

    Examples
    --------
    >>> from features.scenarios import get_scenario
    >>> simulate_ema(get_scenario("paper"), 5, 3, 4, seeds=[1]).shape
    (1, 5, 3, 4, 3)
    """
    k = len(scenario.variables)
    n_c, n_steps = len(seeds), days * beeps
    inst = scenario.instruments
    normals = np.empty((2, n_c, n_patients, k))
    z = np.empty((n_steps, n_c, n_patients, k))
    keep = np.ones((n_c, n_patients, days, beeps), dtype=bool)
    for c, seed in enumerate(seeds):
        rng = np.random.default_rng(int(seed))
        normals[:, c] = rng.standard_normal((2, n_patients, k))
        z[:, c] = rng.standard_normal((n_steps, n_patients, k))
        if missing > 0:
            keep[c] &= rng.random((n_patients, days, beeps)) >= missing
        if dropout > 0:
            drops = rng.random(n_patients) < dropout
            stop = np.where(drops, rng.integers(2, days + 1, size=n_patients), days + 1)
            keep[c] &= (np.arange(1, days + 1) < stop[:, None])[:, :, None]
    effects = []
    for g, (means, sds, corr) in enumerate((
        ([i.intercept_mean for i in inst], [i.intercept_sd for i in inst], scenario.intercept_corr),
        ([i.slope_mean for i in inst], [i.slope_sd for i in inst], scenario.slope_corr),
    )):
        chol = np.linalg.cholesky(scenario._corr_matrix(corr))
        effects.append(np.asarray(means) + normals[g] @ chol.T * sds)
    intercept, slope = effects
    a_t = scenario.transition_matrix().T
    z[0] = z[0] @ np.linalg.cholesky(scenario.stationary_cov()).T
    z[1:] = z[1:] @ np.linalg.cholesky(scenario.innovation_cov()).T
    for t in range(1, n_steps):
        z[t] += z[t - 1] @ a_t
    study_days = (np.arange(n_steps) // beeps + (np.arange(n_steps) % beeps) / beeps)
    t_index = (study_days / 7.0)[:, None, None, None]
    within = np.array([i.within_sd for i in inst])
    y = (intercept[None] + slope[None] * t_index + within * z).transpose(1, 2, 0, 3)
    values = np.empty((n_c, n_patients, n_steps, k))
    for j in range(k):
        values[..., j] = inst[j].measure(y[..., j])
    values = values.reshape(n_c, n_patients, days, beeps, k)
    values[~keep] = np.nan
    return values


# ------------------------------------------------------------------ statistics
@dataclass(frozen=True, eq=False)
class CohortStatistics:
    """Lagged design of a batch of prepared cohorts, pooled per lag set on demand.

    Attributes
    ----------
    lagged : numpy.ndarray
        ``(cohort, rows, K + 1)`` lagged values (0 where unobserved),
        ``K = n_vars * (L + 1)``, column ``lag * n_vars + var``, then a column of ones.
    observed : numpy.ndarray
        ``(cohort, rows, L + 1)``: whether the row's values at each lag are observed.
    valid : numpy.ndarray
        ``(cohort, rows)``: a sample row of tigramite (past the cut-off, patient kept).
    n_vars, tau_max, max_lag : int
        ``max_lag`` is the cut-off ``L = 2 * tau_max``.
    df_loss : numpy.ndarray
        ``(cohort,)`` degrees of freedom of the within transform.
    n_patients : numpy.ndarray
        ``(cohort,)`` patients kept.
    """

    lagged: np.ndarray
    observed: np.ndarray
    valid: np.ndarray
    n_vars: int
    tau_max: int
    max_lag: int
    df_loss: np.ndarray
    n_patients: np.ndarray
    _cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False)
    _rows: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def n_columns(self) -> int:
        """Number of lagged columns ``K`` (the stored constant column excluded)."""
        return int(self.lagged.shape[2]) - 1

    @property
    def n_cohorts(self) -> int:
        """Number of cohorts."""
        return int(self.lagged.shape[0])

    def pooled(self, lags: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Count ``(C,)``, sums ``(C, K)`` and cross-products ``(C, K, K)`` over a lag set.

        ``lags`` is a bit mask: bit ``l`` set means the test involves lag ``l``;
        the rows used are the valid rows observed at every such lag.
        """
        hit = self._cache.get(lags)
        if hit is None:
            need = [lag for lag in range(self.max_lag + 1) if lags >> lag & 1]
            w = self.valid & self.observed[:, :, need].all(axis=2)
            for other, w_other in self._rows.items():
                if np.array_equal(w, w_other):  # same rows (e.g. nothing missing): reuse
                    hit = self._cache[lags] = self._cache[other]
                    return hit
            n_c, n_rows, k = self.lagged.shape
            k -= 1
            n = w.sum(axis=1)
            full = np.empty((n_c, k + 1, k + 1))
            with _single_threaded_blas():
                for c in range(n_c):
                    x = self.lagged[c] if n[c] == n_rows else self.lagged[c][w[c]]
                    full[c] = x.T @ x  # the last column is 1: counts and sums come along
            hit = self._cache[lags] = (full[:, k, k], full[:, k, :k], full[:, :k, :k])
            self._rows[lags] = w
        return hit


def _prepare(x: np.ndarray, observed: np.ndarray, prep: str) -> np.ndarray:
    """Within-person transform on each patient's observed steps, in place (0 where unobserved).

    ``x`` is ``(cohort, patient, step, variable)`` with 0 at unobserved steps.
    """
    if prep == "none":
        return x
    w = observed[..., None]
    count = np.maximum(observed.sum(axis=2), 1)[..., None, None]
    x_mean = x.sum(axis=2, keepdims=True) / count
    x -= x_mean
    if prep == "detrend":
        t = np.arange(x.shape[2], dtype=float)
        t_mean = (observed @ t)[..., None, None] / count
        dt = np.where(w, t[:, None] - t_mean, 0.0)
        sxx = (dt * dt).sum(axis=2, keepdims=True)
        sxy = (dt * x).sum(axis=2, keepdims=True)
        slope = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 0)
        x -= slope * dt
    x *= w
    return x


def _time_demean(x: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Subtract the mean over patients at each step (steps with >= 5 observed patients).

    As :func:`features.transforms.remove_time_means`; ``x`` is ``(cohort, patient, step,
    variable)`` with 0 at unobserved steps, which stay 0.
    """
    count = observed.sum(axis=1)  # (cohort, step)
    mean = x.sum(axis=1) / np.maximum(count, 1)[..., None]
    mean = np.where((count >= MIN_TIME_PATIENTS)[..., None], mean, 0.0)
    return (x - mean[:, None]) * observed[..., None]


def _two_way(x: np.ndarray, observed: np.ndarray, prep: str) -> np.ndarray:
    """Apply the two-way within transform of :func:`features.transforms.prepare`.

    Time means first, then the trend model, alternated until no cohort has a time mean
    above 1e-12 of its scale (the same rule and bound as ``prepare``).
    """
    x = _prepare(_time_demean(x, observed), observed, prep)
    if prep not in ("center", "detrend"):
        return x
    count = observed.sum(axis=1)
    scale = np.abs(x).max(axis=(1, 2, 3))
    scale = np.where(scale > 0, scale, 1.0)
    for _ in range(_TIME_ROUNDS):
        x = _prepare(_time_demean(x, observed), observed, prep)
        means = x.sum(axis=1) / np.maximum(count, 1)[..., None]
        left = np.where((count >= MIN_TIME_PATIENTS)[..., None], np.abs(means), 0.0)
        if np.all(left.max(axis=(1, 2)) <= _TIME_TOL * scale):
            break
    return x


def _diurnal(x: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Remove each patient's beep-of-day means and linear trend over study days.

    As :func:`features.transforms.diurnal` (Frisch-Waugh-Lovell: ``x`` and
    study time centred within (patient, beep of the day), then one slope per
    patient); ``x`` is ``(cohort, patient, day, beep, variable)`` with 0 at
    unobserved beeps, which stay 0.
    """
    _, _, d, b, _ = x.shape
    w = observed[..., None]
    count = np.maximum(observed.sum(axis=2), 1)[:, :, None, :, None]  # per (patient, beep)
    t = (np.arange(d)[:, None] + np.arange(b)[None, :] / b)[None, None, :, :, None]
    x_c = x - x.sum(axis=2, keepdims=True) / count
    t_c = np.where(w, t - (t * w).sum(axis=2, keepdims=True) / count, 0.0)
    sxx = (t_c * t_c).sum(axis=(2, 3), keepdims=True)
    sxy = (t_c * x_c * w).sum(axis=(2, 3), keepdims=True)
    slope = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 1e-12)
    return (x_c - slope * t_c) * w


def cohort_statistics(values: np.ndarray, *, tau_max: int = 1, prep: str = "detrend",
                      cut_off: str = "2xtau_max", min_lagged_rows: int = 2,
                      within_df: bool = True, time_effects: bool = False) -> CohortStatistics:
    """Prepare cohorts and lay out their lagged design as ``PanelPCMCI`` would.

    Parameters
    ----------
    values : numpy.ndarray
        ``(cohort, patient, block, step, variable)``; NaN marks an unobserved
        step (all variables of a step are observed or none). Blocks are
        segments (e.g. days): lags never cross them. The within transform is
        fitted per patient over the running step index ``block * steps + step``.
    tau_max, prep, cut_off, min_lagged_rows, within_df, time_effects
        As in :class:`~causal.discovery.estimator.PanelPCMCI`; ``prep`` and
        ``time_effects`` are resolved (``"detrend"``, ``"diurnal"`` for
        day/beep designs, ``"center"`` or ``"none"``; time effects not with
        ``"diurnal"``).

    Returns
    -------
    CohortStatistics
    """
    if values.ndim != 5:
        raise InputError(f"values must have 5 dimensions (cohort, patient, block, step, "
                         f"variable), got shape {values.shape}")
    c, p, d, b, k = values.shape
    tau = int(tau_max)
    observed = ~np.isnan(values[..., 0])  # (c, p, d, b)
    # Patients PanelPCMCI keeps: enough usable lagged rows (lags 0..tau observed within a
    # block) and enough observed steps for the within transform.
    usable = observed[..., tau:].copy()
    for lag in range(1, tau + 1):
        usable &= observed[..., tau - lag:b - lag]
    if prep == "diurnal" and d < 2:
        raise InputError("prep 'diurnal' needs a day/beep design; use prep 'detrend' for "
                         "weekly designs")
    min_obs = {"detrend": 3, "center": 2, "none": 0, "diurnal": b + 2}[prep]
    keep = ((usable.sum(axis=(2, 3)) >= min_lagged_rows)
            & (observed.sum(axis=(2, 3)) >= min_obs))  # (c, p)
    observed &= keep[:, :, None, None]
    x = np.where(observed[..., None], values, 0.0)
    if prep == "diurnal":
        if time_effects:
            raise InputError("the fast engine has no time effects for day/beep designs")
        x = _diurnal(x, observed)
    else:
        within = _two_way if time_effects else _prepare
        x = within(x.reshape(c, p, d * b, k), observed.reshape(c, p, d * b),
                   prep).reshape(c, p, d, b, k)
    # tigramite's sample rows: per block (dataset), steps at least `cut` after the
    # block's first observed step; with cut_off="tau_max" the grid is padded by tau.
    big_l = 2 * tau
    pad = tau if cut_off == "tau_max" else 0
    lo = big_l - pad  # no earlier step can be a sample row
    steps = np.arange(b)
    first = np.where(observed, steps, b).min(axis=3)  # (c, p, d)
    valid = (observed & (steps >= first[..., None] + lo))[:, :, :, lo:]
    rows = b - lo
    lagged = np.zeros((c, p, d, rows, (big_l + 1) * k + 1))
    lagged[..., -1] = 1.0  # constant column: counts and sums come out of the Gram product
    obs_l = np.zeros((c, p, d, rows, big_l + 1), dtype=bool)
    for lag in range(big_l + 1):
        start = max(lag - lo, 0)  # rows whose lag-`lag` step exists in the block
        lagged[:, :, :, start:, lag * k:(lag + 1) * k] = x[:, :, :, lo + start - lag:b - lag]
        obs_l[:, :, :, start:, lag] = observed[:, :, :, lo + start - lag:b - lag]
    # Degrees of freedom: one loss per kept patient with complete samples (lags 0..tau);
    # the diurnal model spends one mean per beep of the day the patient has, plus a slope.
    complete = (valid & obs_l[..., :tau + 1].all(axis=-1)).any(axis=(2, 3))
    if not within_df:
        per_patient = np.zeros((c, p))
    elif prep == "diurnal":
        per_patient = observed.any(axis=2).sum(axis=2) + 1.0
    else:
        per_patient = np.full((c, p), float(within_df_loss(prep, 1)))
    loss = (complete * per_patient).sum(axis=1)
    if time_effects and within_df:  # one degree of freedom per time mean
        loss = loss + (observed.reshape(c, p, d * b).sum(axis=1) >= MIN_TIME_PATIENTS).sum(axis=1)
    n_rows = p * d * rows
    return CohortStatistics(
        lagged=lagged.reshape(c, n_rows, (big_l + 1) * k + 1),
        observed=obs_l.reshape(c, n_rows, -1), valid=valid.reshape(c, n_rows), n_vars=k,
        tau_max=tau, max_lag=big_l, df_loss=loss,
        n_patients=keep.sum(axis=1))


# ------------------------------------------------------------------ effects
@dataclass(frozen=True)
class EffectDraws:
    """Standardized within-person VAR(1) effects of cohorts and their bootstrap replicates.

    Attributes
    ----------
    estimate : numpy.ndarray
        ``(cohort, target, source)`` full-sample effects.
    draws : numpy.ndarray
        ``(cohort, replicate, target, source)``; NaN where a replicate could
        not estimate a target's regression.
    n_patients : numpy.ndarray
        ``(cohort,)`` patients resampled (those the within transform keeps).
    """

    estimate: np.ndarray
    draws: np.ndarray
    n_patients: np.ndarray


def _patient_moments(values: np.ndarray, observed: np.ndarray, prep: str
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per patient: cross-products of ``[1, x(t-1), x(t)]`` and ``[n, sum, sum of squares]``.

    ``observed`` says which steps belong to the (part of the) panel; the
    within transform is fitted on them, rows need ``t`` and ``t - 1`` in it.
    Returns ``(C, P, m, m)`` with ``m = 1 + 2k`` and ``(C, P, 3, k)``.
    """
    c, p, t, k = values.shape
    x = _prepare(np.where(observed[..., None], values, 0.0), observed, prep)
    rows = observed[:, :, 1:] & observed[:, :, :-1]
    z = np.empty((c, p, t - 1, 1 + 2 * k))
    z[..., 0] = 1.0
    z[..., 1:1 + k] = x[:, :, :-1]
    z[..., 1 + k:] = x[:, :, 1:]
    z *= rows[..., None]
    flat = z.reshape(c * p, t - 1, 1 + 2 * k)
    cross = np.matmul(flat.transpose(0, 2, 1), flat).reshape(c, p, 1 + 2 * k, 1 + 2 * k)
    w = observed[..., None]
    sums = np.stack([w.sum(axis=2).repeat(k, axis=-1).astype(float),
                     (x * w).sum(axis=2), (x * x * w).sum(axis=2)], axis=2)
    return cross, sums


def _standardized(a: np.ndarray, stats: np.ndarray) -> np.ndarray:
    """Standardized VAR(1) effects ``(B, target, source)`` from weighted patient sums.

    ``a`` is ``(B, m, m)``: the weighted cross-products of ``[1, x(t-1), x(t)]``;
    ``stats`` is ``(B, 3k)``: weighted counts, sums and sums of squares. As
    ``causal.hypotheses.comparisons``: OLS of ``x_j(t)`` on ``[1, x(t-1)]``
    (NaN with fewer than ``k + 2`` rows), scaled by ``sd(source) / sd(target)``.
    """
    m = a.shape[1]
    k = (m - 1) // 2
    lhs = a[:, :k + 1, :k + 1]
    try:
        sol = np.linalg.solve(lhs, a[:, :k + 1, 1 + k:])  # every target at once
    except np.linalg.LinAlgError:
        sol = np.full((len(a), k + 1, k), np.nan)
        for b in range(len(a)):
            try:
                sol[b] = np.linalg.solve(lhs[b], a[b, :k + 1, 1 + k:])
            except np.linalg.LinAlgError:
                pass
    enough = a[:, 0, 0] >= k + 2
    coef = np.where(enough[:, None, None], sol[:, 1:].transpose(0, 2, 1), np.nan)
    count, s1, s2 = stats[:, :k], stats[:, k:2 * k], stats[:, 2 * k:]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / count
        sd = np.sqrt(np.maximum(s2 / count - mean ** 2, 0.0))
        scale = sd[:, None, :] / sd[:, :, None]
    return np.where(sd[:, :, None] > 0, coef * scale, np.nan)


def effect_draws(values: np.ndarray, *, seeds: Sequence[int], n_boot: int = 1000,
                 prep: str = "detrend", jackknife: bool = True,
                 stream: Sequence[int] = (9, 1)) -> EffectDraws:
    """Pooled within-person VAR(1) effects with a patient cluster bootstrap, for every cohort.

    The array version of the comparison stand-in effects of
    ``causal.hypotheses.comparisons.effect_bootstrap`` (weekly designs,
    ``tau_max=1``): standardized pooled within-person VAR coefficients,
    corrected by the half-panel jackknife (each patient's observed range split
    in two, both halves re-prepared; with an odd range in any patient, both
    ways of splitting are averaged), and ``n_boot`` replicates drawing the
    patients with replacement (multinomial counts from a generator seeded by
    ``spawn_seeds(seed, 1, stream=stream)``).

    Parameters
    ----------
    values : numpy.ndarray
        ``(cohort, patient, 1, step, variable)`` as from :func:`simulate_values`.
    seeds : sequence of int
        Seed of each cohort's bootstrap.
    n_boot : int
        Replicates.
    prep : {"detrend", "center", "none"}
        Within-person transform.
    jackknife : bool
        Apply the half-panel jackknife correction.
    stream : sequence of int
        Seed stream of the patient draws.

    Returns
    -------
    EffectDraws
    """
    from features.checks import spawn_seeds

    if values.ndim != 5 or values.shape[2] != 1:
        raise InputError("effect_draws takes weekly cohorts (one block per patient)")
    vals = values[:, :, 0]
    c, _, t, k = vals.shape
    observed = ~np.isnan(vals[..., 0])
    usable = (observed[:, :, 1:] & observed[:, :, :-1]).sum(axis=2)
    min_obs = {"detrend": 3, "center": 2, "none": 0}[prep]
    keep = (usable >= 2) & (observed.sum(axis=2) >= min_obs)
    observed &= keep[:, :, None]
    parts = [(observed, 1.0)]
    if jackknife:
        steps = np.arange(t)
        big = np.iinfo(np.int64).max
        start = np.where(observed, steps, big).min(axis=2)
        end = np.where(observed, steps, -1).max(axis=2)
        length = end - start + 1
        odd = bool(((length % 2 == 1) & keep).any())
        variants = (False, True) if odd else (False,)
        for ceil_first in variants:
            cut = start + np.where(ceil_first, (length + 1) // 2, length // 2)
            first = steps < cut[..., None]
            for half in (observed & first, observed & ~first):
                # the half panel's within transform excludes patients with too few steps
                short = half.sum(axis=2) < min_obs
                parts.append((half & ~short[..., None], -0.5 / len(variants)))
    m = 1 + 2 * k
    width = m * m + 3 * k
    # every part's per-patient sums side by side: one product per cohort pools them all
    stacked = np.empty((c, vals.shape[1], len(parts) * width))
    for q, (obs, _) in enumerate(parts):
        cross, sums = _patient_moments(vals, obs, prep)
        stacked[:, :, q * width:q * width + m * m] = cross.reshape(c, -1, m * m)
        stacked[:, :, q * width + m * m:(q + 1) * width] = sums.reshape(c, -1, 3 * k)
    estimate = np.full((c, k, k), np.nan)
    draws = np.full((c, n_boot, k, k), np.nan)
    with _single_threaded_blas():
        for i in range(c):
            kept = np.flatnonzero(keep[i])
            n = kept.size
            rng = np.random.default_rng(spawn_seeds(int(seeds[i]), 1, stream=stream)[0])
            counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
            weights = np.vstack([np.ones((1, n)), counts])
            pooled = weights @ stacked[i, kept]
            out = np.zeros((n_boot + 1, k, k))
            for q, (_, w) in enumerate(parts):
                block = pooled[:, q * width:(q + 1) * width]
                eff = _standardized(block[:, :m * m].reshape(-1, m, m), block[:, m * m:])
                # full panel: 2 x; each half panel: minus 1/2 of the mean over split variants
                out += eff * (2.0 if w == 1.0 else w) if jackknife else eff
            estimate[i], draws[i] = out[0], out[1:]
    return EffectDraws(estimate=estimate, draws=draws, n_patients=keep.sum(axis=1))


# ------------------------------------------------------------------ PCMCI
@dataclass(frozen=True)
class Decisions:
    """PCMCI results of a batch of cohorts, indexed ``[cohort, source, target, lag]``.

    Lag 0 entries are unused (NaN / False). ``parents[c][j]`` lists the
    ``(source, -lag)`` conditions selected for target ``j`` in cohort ``c``.
    """

    value: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    significant: np.ndarray
    parents: tuple[dict[int, list[Node]], ...]


def _batch_test(stats: CohortStatistics, cohorts: np.ndarray, nodes: np.ndarray,
                n_nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Partial correlations of many cohorts' tests at once.

    Parameters
    ----------
    stats : CohortStatistics
    cohorts : numpy.ndarray
        ``(C,)`` the cohorts (indices into ``stats``) of the tests.
    nodes : numpy.ndarray
        ``(C, D, 2)`` int: per test the ``(var, lag)`` nodes ordered
        ``Z..., X, Y`` with ``X, Y`` the last two; unused ``Z`` slots (before
        ``X``) have ``var = -1``.
    n_nodes : numpy.ndarray
        ``(C,)`` number of used nodes (the test's ``dim``).

    Returns
    -------
    value, n, dim : numpy.ndarray
        ``(C,)`` each. An unused slot enters as an uncorrelated unit variable,
        which leaves the Cholesky factor's last rows, hence the value, unchanged.
    """
    n_c, width, _ = nodes.shape
    used = nodes[:, :, 0] >= 0
    cols = np.where(used, nodes[:, :, 1] * stats.n_vars + nodes[:, :, 0], 0)
    masks = np.bitwise_or.reduce(np.where(used, 1 << nodes[:, :, 1], 0), axis=1)
    value = np.empty(n_c)
    n = np.empty(n_c)
    eye = np.eye(width, dtype=bool)
    for mask in np.unique(masks):
        idx = np.flatnonzero(masks == mask)
        count, sums, cross = stats.pooled(int(mask))
        coh = cohorts[idx]
        cnt = count[coh]
        if not np.all(cnt > 0):
            raise DataError("a test has no sample with all its nodes observed")
        cl = cols[idx]
        s = np.take_along_axis(sums[coh], cl, axis=1)
        sub = cross[coh[:, None, None], cl[:, :, None], cl[:, None, :]]
        cov = (sub - s[:, :, None] * s[:, None, :] / cnt[:, None, None]) / cnt[:, None, None]
        u = used[idx]
        pair = u[:, :, None] & u[:, None, :]
        cov = np.where(pair, cov, eye)
        std = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        corr = cov / std[:, :, None] / std[:, None, :]
        try:
            chol = np.linalg.cholesky(corr)
            b10, b11 = chol[:, -1, -2], chol[:, -1, -1]
            value[idx] = b10 / np.hypot(b10, b11)
        except np.linalg.LinAlgError:  # a singular case: the engine's fallback, one by one
            value[idx] = [partial_correlation(m[np.ix_(q, q)])
                          for m, q in zip(cov, u, strict=True)]
        n[idx] = cnt
    return value, n, n_nodes.astype(float)


def _p_values(value: np.ndarray, deg_f: np.ndarray) -> np.ndarray:
    """Two-sided Student-t p-values of partial correlations (tigramite's analytic test)."""
    if np.any(deg_f < 1):
        raise DataError(f"too few samples: a test has {float(deg_f.min()):g} residual degrees "
                        "of freedom after the within transform's (needs >= 1); add patients "
                        "or weeks, or use a smaller tau_max")
    with np.errstate(divide="ignore", invalid="ignore"):
        trafo = value * np.sqrt(deg_f / (1.0 - value * value))
    p = special.stdtr(deg_f, -np.abs(trafo)) * 2
    return np.where(np.abs(np.abs(value) - 1.0) <= np.finfo(float).tiny, 0.0, p)


def _confidence(value: np.ndarray, deg_f: np.ndarray, conf_lev: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Tigramite's analytic interval of a partial correlation (as ``analytic_confidence``)."""
    c_int = 1.0 - (1.0 - conf_lev) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        value_t = value * np.sqrt(deg_f) / np.sqrt(1.0 - value**2)
        q_low = special.stdtrit(deg_f, 1.0 - c_int) + value_t
        q_high = special.stdtrit(deg_f, c_int) + value_t
        return q_low / np.sqrt(deg_f + q_low**2), q_high / np.sqrt(deg_f + q_high**2)


def _pc1(stats: CohortStatistics, j: int, candidates: list[Node],
         pc_alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Tigramite's ``_run_pc_stable_single`` (PC1, ``max_combinations=1``), all cohorts at once.

    Returns the parents as candidate indices ``(C, m)`` sorted by decreasing
    minimum absolute statistic, and their number ``(C,)``.
    """
    n_c, m = stats.n_cohorts, len(candidates)
    cand = np.asarray(candidates, dtype=np.int64)
    cand[:, 1] *= -1  # (var, lag >= 0)
    order = np.tile(np.arange(m), (n_c, 1))  # current parents list (candidate indices)
    length = np.full(n_c, m)
    val_min = np.full((n_c, m), np.inf)
    alive = np.ones((n_c, m), dtype=bool)
    for conds_dim in range(m + 1):
        active = length - 1 >= conds_dim
        if not active.any():
            break
        nonsig = np.zeros((n_c, m), dtype=bool)
        for pos in range(m):
            sel = np.flatnonzero(active & (pos < length))
            if sel.size == 0:
                continue
            # tigramite's first combination: the first conds_dim other parents in list order.
            zpos = [q for q in range(conds_dim + 1) if q != pos][:conds_dim]
            nodes = np.empty((sel.size, conds_dim + 2, 2), dtype=np.int64)
            nodes[:, :conds_dim] = cand[order[sel][:, zpos]]
            parent = order[sel, pos]
            nodes[:, conds_dim] = cand[parent]
            nodes[:, conds_dim + 1] = (j, 0)
            value, n, dim = _batch_test(stats, sel, nodes, np.full(sel.size, conds_dim + 2))
            p = _p_values(value, n - stats.df_loss[sel] - dim)
            val_min[sel, parent] = np.minimum(np.abs(value), val_min[sel, parent])
            nonsig[sel, parent] = ~(p <= pc_alpha)
        act = np.flatnonzero(active)
        alive[act] &= ~nonsig[act]
        key = np.where(alive, -val_min, np.inf)  # dead last; ties keep candidate order
        new_order = np.lexsort((np.tile(np.arange(m), (n_c, 1)), key), axis=1)
        order[act] = new_order[act]
        length[act] = alive[act].sum(axis=1)
    return order, length


def pcmci_decisions(stats: CohortStatistics, *, alpha: float = 0.05,
                    pc_alpha: float = 0.2) -> Decisions:
    """Run PCMCI (PC1 selection, then MCI) on every cohort of ``stats``.

    Parameters
    ----------
    stats : CohortStatistics
        From :func:`cohort_statistics`.
    alpha : float
        Level of the MCI tests; intervals have level ``1 - 2 * alpha``.
    pc_alpha : float
        Level of the condition selection.

    Returns
    -------
    Decisions
    """
    n_vars, tau = stats.n_vars, stats.tau_max
    shape = (stats.n_cohorts, n_vars, n_vars, tau + 1)
    value = np.full(shape, np.nan)
    p_value = np.full(shape, np.nan)
    ci_low = np.full(shape, np.nan)
    ci_high = np.full(shape, np.nan)
    conf = 1.0 - 2.0 * alpha
    # Link order of PanelPCMCI's link assumptions: source outer, lag inner.
    candidates = [(i, -lag) for i in range(n_vars) for lag in range(1, tau + 1)]
    m = len(candidates)
    selected = [_pc1(stats, j, candidates, pc_alpha) for j in range(n_vars)]
    parents: list[list[list[tuple[int, int]]]] = [  # [cohort][target] -> [(var, lag)]
        [[(candidates[q][0], -candidates[q][1]) for q in order[c, :length[c]]]
         for order, length in selected] for c in range(stats.n_cohorts)]
    width = 2 * m + 2
    for j in range(n_vars):
        for i, neg in candidates:
            nodes = np.full((stats.n_cohorts, width, 2), -1, dtype=np.int64)
            n_nodes = np.empty(stats.n_cohorts, dtype=np.int64)
            for c, par in enumerate(parents):
                z = [q for q in par[j] if q != (i, -neg)]
                z += [s for s in ((v, lag - neg) for v, lag in par[i]) if s not in z]
                nodes[c, width - 2 - len(z):width - 2] = z if z else np.empty((0, 2))
                n_nodes[c] = len(z) + 2
            nodes[:, -2] = (i, -neg)
            nodes[:, -1] = (j, 0)
            val, n, dim = _batch_test(stats, np.arange(stats.n_cohorts), nodes, n_nodes)
            deg_f = n - stats.df_loss - dim
            value[:, i, j, -neg] = val
            p_value[:, i, j, -neg] = _p_values(val, deg_f)
            ci_low[:, i, j, -neg], ci_high[:, i, j, -neg] = _confidence(val, deg_f, conf)
    all_parents = [{j: [(v, -lag) for v, lag in par[j]] for j in range(n_vars)}
                   for par in parents]
    significant = p_value <= alpha
    return Decisions(value=value, p_value=p_value, ci_low=ci_low, ci_high=ci_high,
                     significant=significant, parents=tuple(all_parents))
