r"""Synthetic therapy cohorts with a known within-patient lag-1 graph.

The generator follows the design of Melsom et al. (2023, *J Consult Clin
Psychol*, doi:10.1037/ccp0000822): 226 chronically depressed inpatients with
about 13 weekly reports of depression (PHQ-9, 0-27), self-compassion (item mean,
1-5) and fear of receiving compassion from others (0-52). Their within-patient
lag-1 effects are the ``"paper"`` :class:`Scenario`: ``fear_others ->
depression`` +0.12, ``depression -> fear_others`` +0.08, ``depression ->
self_compassion`` -0.13 and no other cross-lagged effect.
The scenarios and instruments are defined in :mod:`features.scenarios`.

Model
-----
For patient :math:`i`, week :math:`t = 0, \dots, T-1` (reported as ``week`` 1..T)
and variable :math:`k`

.. math::

    y_{i,t,k} = m_{i,k}(t) + s_k\,z_{i,t,k},

with the trend :math:`m_{i,k}(t) = a_{i,k} + b_{i,k}\,t` for ``trajectory="linear"``
(the default; the other shapes, ``"early"``, ``"sudden"``, ``"relapse"`` and
``"mixed"``, spend the same total change :math:`b_{i,k}(T-1)` differently over
the weeks, see :mod:`features.trajectories`), then rounded to the instrument's
resolution and clipped to its range (:class:`Instrument`).

- Intercepts :math:`a_i` and slopes :math:`b_i` are jointly multivariate normal
  across patients with the instruments' means and SDs; intercepts correlate
  with intercepts (``Scenario.intercept_corr``) and slopes with slopes
  (``Scenario.slope_corr``), intercepts and slopes are independent.
- :math:`z` is a within-person stationary VAR(1) on the standardized scale,
  :math:`z_t = A z_{t-1} + e_t`, :math:`e_t \sim N(0, \Sigma_e)`. The diagonal
  of :math:`A` holds the autoregressive effects and ``A[k, j]`` is the effect
  of variable ``j`` at ``t - 1`` on variable ``k`` at ``t``.
- :math:`\Sigma_e = D R D` where :math:`R` has ``residual_corr`` off the
  diagonal (the contemporaneous correlation of the innovations) and the
  diagonal :math:`D` is solved (fixed point over
  :func:`scipy.linalg.solve_discrete_lyapunov`) so that the stationary
  covariance :math:`\Gamma = A \Gamma A^\top + \Sigma_e` has unit diagonal.
  Hence the coefficients of :math:`A` are effects in within-person SD units.
  A non-stationary :math:`A` (spectral radius >= 1) raises :class:`~features.errors.InputError`.
- :math:`z_0 \sim N(0, \Gamma)`, so every week is a draw from the stationary
  distribution and no burn-in is needed.
- Between-patient heterogeneity (``ar_sd``, ``cross_sd``): patient :math:`i`
  has its own :math:`A_i = A + \Delta_i`, with independent
  :math:`N(0, \texttt{ar\_sd}^2)` deviations on the diagonal and
  :math:`N(0, \texttt{cross\_sd}^2)` deviations on the true (nonzero)
  cross-lagged effects (absent effects stay 0 for everyone); a deviation that
  would make :math:`A_i` nearly non-stationary (spectral radius >= 0.95) is
  halved until it is not. The innovations keep :math:`\Sigma_e`, so a
  patient's within-person variance moves with its own dynamics, and the
  process starts after a burn-in of 50 weeks from 0.

``missing`` removes each patient-week independently; ``dropout`` makes a
patient stop at a uniformly random week in ``4..T`` (that week and all later
ones are removed). With ``dropout_improvement`` :math:`\beta`, a patient's
probability of dropping out is
:math:`\operatorname{expit}(\operatorname{logit}(\texttt{dropout}) + \beta g_i)`,
where :math:`g_i` is the cohort z-score of the patient's mean improvement from the
first to the last week's trend, in within-person SDs (informative dropout:
positive :math:`\beta`, improvers leave; negative, non-improvers leave).
Removed rows do not appear in the long-format output.

Seeding: one ``random_state``. The draws of the linear, homogeneous model come
first from its generator; the trajectory and heterogeneity draws come from a
child generator (:meth:`numpy.random.Generator.spawn`), so adding a trajectory
does not change a patient's intercepts, slopes or innovations.

Examples
--------
>>> df = simulate_cohort("paper", n_patients=3, n_weeks=4, random_state=0)
>>> list(df.columns)
['patient', 'week', 'depression', 'self_compassion', 'fear_others']
>>> df.shape
(12, 5)
>>> df = simulate_cohort("paper", n_patients=3, n_weeks=8, trajectory="sudden",
...                      random_state=0)
>>> df.shape
(24, 5)
>>> sorted(get_scenario("paper").true_edges())  # doctest: +NORMALIZE_WHITESPACE
[('depression', 'fear_others', 1), ('depression', 'self_compassion', 1),
 ('fear_others', 'depression', 1)]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.checks import check_int, check_probability, check_real
from features.choices import SCENARIO_NAMES, TRAJECTORIES
from features.errors import InputError, format_value
from features.scenarios import Scenario, get_scenario
from features.trajectories import Trajectory, draw_trends, get_trajectory

__all__ = ["simulate_cohort", "simulate_ema", "simulate_subgroups"]

logger = logging.getLogger(__name__)


def _check_design(n_weeks: object, missing: object, dropout: object) -> tuple[int, float, float]:
    n_weeks = check_int("n_weeks", n_weeks, minimum=2)
    missing = check_probability("missing", missing, zero_ok=True)
    dropout = check_probability("dropout", dropout, zero_ok=True, one_ok=True)
    if dropout > 0 and n_weeks < 4:
        raise InputError(f"dropout needs n_weeks >= 4 (drop-out weeks are 4..T), got {n_weeks}")
    return n_weeks, missing, dropout


@dataclass(frozen=True)
class _Options:
    """Validated options of the trajectory extensions (defaults: the original simulator)."""

    trajectory: Trajectory
    ar_sd: float
    cross_sd: float
    dropout_improvement: float

    @classmethod
    def check(cls, trajectory: object, ar_sd: object, cross_sd: object,
              dropout_improvement: object) -> _Options:
        if not isinstance(trajectory, Trajectory | str):
            raise InputError(f"trajectory must be a Trajectory or one of "
                             f"{', '.join(TRAJECTORIES)}, got {format_value(trajectory)}")
        return cls(get_trajectory(trajectory),
                   check_real("ar_sd", ar_sd, low=0.0, low_ok=True),
                   check_real("cross_sd", cross_sd, low=0.0, low_ok=True),
                   check_real("dropout_improvement", dropout_improvement))


def _resolve(scenario: Scenario | str) -> Scenario:
    if isinstance(scenario, str):
        return get_scenario(scenario)
    if not isinstance(scenario, Scenario):
        raise InputError(
            f"scenario must be a Scenario or one of {SCENARIO_NAMES}, got {scenario!r}"
        )
    return scenario


def _patient_transitions(scenario: Scenario, n_patients: int, ar_sd: float, cross_sd: float,
                         rng: np.random.Generator) -> np.ndarray:
    """Per patient ``A_i``: the scenario's ``A`` plus normal deviations of AR and true effects.

    A patient whose ``A_i`` would have spectral radius >= 0.95 gets its
    deviation halved until it is below (a non-stationary patient is not a
    plausible within-person process).
    """
    a = scenario.transition_matrix()
    k = len(a)
    mask = np.eye(k) * ar_sd + (a != 0) * (1 - np.eye(k)) * cross_sd
    dev = rng.standard_normal((n_patients, k, k)) * mask
    for _ in range(20):
        radius = np.max(np.abs(np.linalg.eigvals(a + dev)), axis=1)
        bad = radius >= 0.95
        if not bad.any():
            break
        dev[bad] *= 0.5
    return a + dev


def _heterogeneous_path(scenario: Scenario, transitions: np.ndarray, z: np.ndarray,
                        rng: np.random.Generator, burn_in: int = 50) -> np.ndarray:
    """VAR(1) with one ``A_i`` per patient after a burn-in; ``z`` holds unit innovations."""
    n_weeks, n_patients, k = z.shape
    chol = np.linalg.cholesky(scenario.innovation_cov())
    state = np.zeros((n_patients, k))
    for e in rng.standard_normal((burn_in, n_patients, k)) @ chol.T:
        state = np.einsum("pkj,pj->pk", transitions, state) + e
    out = z @ chol.T
    for t in range(n_weeks):
        state = np.einsum("pkj,pj->pk", transitions, state) + out[t]
        out[t] = state
    return out


def _improvement(trend: np.ndarray, within: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Per patient: z-score (over the cohort) of the mean improvement in within-person SDs."""
    gain = ((trend[:, -1] - trend[:, 0]) * direction / within).mean(axis=1)
    sd = gain.std()
    return (gain - gain.mean()) / sd if sd > 0 else np.zeros_like(gain)


def _simulate(
    scenario: Scenario,
    n_patients: int,
    n_weeks: int,
    missing: float,
    dropout: float,
    rng: np.random.Generator,
    options: _Options,
) -> pd.DataFrame:
    k = len(scenario.variables)
    inst = scenario.instruments
    # Trajectory and heterogeneity draws come from a child generator, so the draws of the
    # original simulator (linear, homogeneous) stay exactly as they were.
    extra = rng.spawn(1)[0]
    # Random effects: standard normals -> correlated (Cholesky) -> scaled by SDs.
    effects = []
    for means, sds, corr in (
        ([i.intercept_mean for i in inst], [i.intercept_sd for i in inst], scenario.intercept_corr),
        ([i.slope_mean for i in inst], [i.slope_sd for i in inst], scenario.slope_corr),
    ):
        chol = np.linalg.cholesky(scenario._corr_matrix(corr))
        effects.append(np.asarray(means) + rng.standard_normal((n_patients, k)) @ chol.T * sds)
    intercept, slope = effects
    # Within-person VAR(1), vectorized over patients; z has shape (week, patient, variable).
    z = rng.standard_normal((n_weeks, n_patients, k))
    if options.ar_sd > 0 or options.cross_sd > 0:
        transitions = _patient_transitions(scenario, n_patients, options.ar_sd,
                                           options.cross_sd, extra)
        z = _heterogeneous_path(scenario, transitions, z, extra)
    else:
        a_t = scenario.transition_matrix().T
        z[0] = z[0] @ np.linalg.cholesky(scenario.stationary_cov()).T
        z[1:] = z[1:] @ np.linalg.cholesky(scenario.innovation_cov()).T
        for t in range(1, n_weeks):
            z[t] += z[t - 1] @ a_t
    within = np.array([i.within_sd for i in inst])
    direction = np.where(np.array([i.slope_mean for i in inst]) < 0, -1.0, 1.0)
    trends = draw_trends(options.trajectory, intercept, slope, n_weeks, within, direction,
                         extra)
    y = trends.trend + within * z.transpose(1, 0, 2)  # (patient, week, variable)
    values = np.column_stack([inst[j].measure(y[:, :, j].ravel()) for j in range(k)])
    patient = np.repeat(np.arange(1, n_patients + 1, dtype=np.int64), n_weeks)
    week = np.tile(np.arange(1, n_weeks + 1, dtype=np.int64), n_patients)
    keep = np.ones(n_patients * n_weeks, dtype=bool)
    if missing > 0:
        keep &= rng.random(keep.size) >= missing
    if dropout > 0:
        p_drop = np.full(n_patients, dropout)
        if options.dropout_improvement != 0 and 0 < dropout < 1:
            logit = np.log(dropout / (1 - dropout)) + options.dropout_improvement * _improvement(
                trends.trend, within, direction)
            p_drop = 1 / (1 + np.exp(-logit))
        drops = rng.random(n_patients) < p_drop
        stop = np.where(drops, rng.integers(4, n_weeks + 1, size=n_patients), n_weeks + 1)
        keep &= week < np.repeat(stop, n_weeks)
    frame = pd.DataFrame(values[keep], columns=list(scenario.variables))
    frame.insert(0, "week", week[keep])
    frame.insert(0, "patient", patient[keep])
    return frame


def simulate_cohort(
    scenario: Scenario | str = "paper",
    n_patients: int = 226,
    n_weeks: int = 13,
    *,
    missing: float = 0.0,
    dropout: float = 0.0,
    random_state: int | np.random.Generator | None = None,
    trajectory: str | Trajectory = "linear",
    ar_sd: float = 0.0,
    cross_sd: float = 0.0,
    dropout_improvement: float = 0.0,
) -> pd.DataFrame:
    """Simulate a long-format cohort from ``scenario`` (see the module docstring).

    Parameters
    ----------
    scenario : Scenario or str
        A :class:`Scenario` or a name in :data:`SCENARIO_NAMES`.
    n_patients : int
        Number of patients (>= 1), with ids ``1..n_patients``.
    n_weeks : int
        Number of weeks (>= 2), reported as ``week`` ``1..n_weeks``.
    missing : float
        Probability in ``[0, 1)`` that any single patient-week is removed.
    dropout : float
        Probability in ``[0, 1]`` that a patient drops out at a uniformly random
        week in ``4..n_weeks`` (that week and later ones are removed; needs
        ``n_weeks >= 4``).
    random_state : int, numpy.random.Generator or None
        Seed; the same seed gives an identical frame.
    trajectory : str or Trajectory
        Shape of the patients' change: a name in
        :data:`~features.choices.TRAJECTORIES` (``"linear"``, ``"early"``,
        ``"sudden"``, ``"relapse"``, ``"mixed"``) or a
        :class:`~features.trajectories.Trajectory` with its parameters.
    ar_sd, cross_sd : float
        Between-patient SD of the autoregressive effects and of the true
        (nonzero) cross-lagged effects; 0 means every patient has the
        scenario's ``A``.
    dropout_improvement : float
        Log-odds ratio of dropping out per cohort SD of a patient's
        improvement (positive: improvers leave more often); 0 means dropout
        does not depend on improvement.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient`` and ``week`` (int64), then one float64 column per
        variable on its instrument's grid; sorted by patient and week. A patient
        whose every week is missing does not appear.

    Examples
    --------
    >>> df = simulate_cohort("null", n_patients=2, n_weeks=3, random_state=5)
    >>> df[["patient", "week"]].to_numpy().tolist()
    [[1, 1], [1, 2], [1, 3], [2, 1], [2, 2], [2, 3]]
    >>> bool(df["depression"].between(0, 27).all())
    True
    """
    scenario = _resolve(scenario)
    n_patients = check_int("n_patients", n_patients, minimum=1)
    n_weeks, missing, dropout = _check_design(n_weeks, missing, dropout)
    options = _Options.check(trajectory, ar_sd, cross_sd, dropout_improvement)
    rng = np.random.default_rng(random_state)
    frame = _simulate(scenario, n_patients, n_weeks, missing, dropout, rng, options)
    logger.debug("simulated %d rows from %s", len(frame), scenario)
    return frame


def simulate_subgroups(
    scenarios: Sequence[Scenario],
    sizes: Sequence[int],
    n_weeks: int,
    *,
    random_state: int | np.random.Generator | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Simulate cohorts from several scenarios and stack them with a ``subgroup`` column.

    Parameters
    ----------
    scenarios : sequence of Scenario
        One scenario per subgroup; all must share the same variables.
    sizes : sequence of int
        Number of patients per subgroup.
    n_weeks : int
        Number of weeks, as in :func:`simulate_cohort`.
    random_state : int, numpy.random.Generator or None
        Seed of the whole stack; the subgroups are drawn one after the other
        from the one generator.
    **options
        The other keyword arguments of :func:`simulate_cohort` (``missing``,
        ``dropout``, ``trajectory``, ``ar_sd``, ``cross_sd``,
        ``dropout_improvement``), applied to every subgroup.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient``, ``week``, ``subgroup`` (int64, ``0..k-1``), then the
        variables. Patient ids are unique across subgroups (``1..sum(sizes)``).

    Examples
    --------
    >>> df = simulate_subgroups([get_scenario("paper"), get_scenario("reversed")], [2, 3],
    ...                         n_weeks=5, random_state=0)
    >>> df.groupby("subgroup")["patient"].nunique().tolist(), int(df["patient"].max())
    ([2, 3], 5)
    """
    scenarios = [_resolve(s) for s in scenarios]
    if not scenarios or len(scenarios) != len(sizes):
        raise InputError(
            f"need one size per scenario, got {len(scenarios)} scenarios and {len(sizes)} sizes"
        )
    variables = scenarios[0].variables
    for s in scenarios[1:]:
        if s.variables != variables:
            raise InputError(
                f"scenario {s.name!r} has variables {s.variables}, expected {variables}"
            )
    sizes = [check_int(f"sizes[{g}]", n, minimum=1) for g, n in enumerate(sizes)]
    rng = np.random.default_rng(random_state)
    frames, first_id = [], 1
    for group, (scenario, size) in enumerate(zip(scenarios, sizes, strict=True)):
        frame = simulate_cohort(scenario, size, n_weeks, random_state=rng, **options)
        frame["patient"] += first_id - 1  # ids unique across the subgroups
        frame.insert(2, "subgroup", np.int64(group))
        frames.append(frame)
        first_id += size
    return pd.concat(frames, ignore_index=True)


def simulate_ema(
    scenario: Scenario | str = "null",
    n_persons: int = 80,
    n_days: int = 14,
    n_beeps: int = 5,
    *,
    missing: float = 0.2,
    diurnal_amplitude: float = 0.6,
    day_trend: float = 0.05,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    r"""Simulate an experience-sampling (EMA / ESM) cohort: days, beeps, a daily rhythm.

    For person :math:`i`, day :math:`d = 1..D`, beep :math:`b = 1..B` and
    variable :math:`k` (all on the within-person SD scale of :math:`z`)

    .. math::

        y_{i,d,b,k} = a_{i,k} + c_{i,k}\,(d - 1) + r\,\lambda_{i,k}\,
        \sqrt{2}\cos\!\bigl(\pi\,\tfrac{b-1}{B-1} + \varphi_i\bigr) + z_{i,d,b,k},

    * :math:`z`: the scenario's within-person VAR(1) (unit stationary
      variance, so cross effects are in within-person SD units), running beep
      to beep within a day and restarting from its stationary distribution
      each morning (a night is a long gap);
    * a **time-of-day rhythm shared by a person's measures**: one phase
      :math:`\varphi_i \sim U(0, 2\pi)` per person (half a cycle over the day),
      loadings :math:`\lambda_{i,k} = \pm U(0.5, 1.5)` with the sign
      alternating over the variables (moods that rise as others fall) and
      amplitude :math:`r` = ``diurnal_amplitude`` (about the rhythm's SD);
    * a **slow trend over days** :math:`c_{i,k} = ` ``day_trend`` :math:`\cdot
      (\pm g_i + 0.5\,u_{i,k})`, :math:`g_i, u_{i,k} \sim N(0, 1)`: a person's
      measures improve or worsen together;
    * levels :math:`a_{i,k} \sim N(0, 1)`;
    * ``missing``: each beep is missed independently (the row is absent).

    Parameters
    ----------
    scenario : Scenario or str
        Variables and lag-1 dynamics (its instruments are not used; values are
        continuous).
    n_persons, n_days, n_beeps : int
        Design: persons (ids ``1..n_persons``), days and beeps per day (>= 2).
    missing : float
        Probability in ``[0, 1)`` that a beep is missed.
    diurnal_amplitude : float
        Amplitude of the shared time-of-day rhythm (>= 0).
    day_trend : float
        SD of the per-day slopes (>= 0).
    random_state : int, numpy.random.Generator or None
        Seed; the same seed gives an identical frame.

    Returns
    -------
    pandas.DataFrame
        Columns ``person``, ``day``, ``beep`` (int64) and the variables,
        sorted by person, day and beep.

    Examples
    --------
    >>> df = simulate_ema("null", n_persons=2, n_days=3, n_beeps=4, missing=0.0,
    ...                   random_state=1)
    >>> df.columns[:3].tolist(), df.shape, df["beep"].max()
    (['person', 'day', 'beep'], (24, 6), np.int64(4))
    """
    scenario = _resolve(scenario)
    n_persons = check_int("n_persons", n_persons, minimum=1)
    n_days = check_int("n_days", n_days, minimum=1)
    n_beeps = check_int("n_beeps", n_beeps, minimum=2)
    missing = check_probability("missing", missing, zero_ok=True)
    for name, value in (("diurnal_amplitude", diurnal_amplitude), ("day_trend", day_trend)):
        check_real(name, value, low=0.0, low_ok=True)
    rng = np.random.default_rng(random_state)
    k = len(scenario.variables)
    a_t = scenario.transition_matrix().T
    # z: (person, day, beep, variable); each day starts from the stationary distribution.
    z = rng.standard_normal((n_persons, n_days, n_beeps, k))
    z[:, :, 0] = z[:, :, 0] @ np.linalg.cholesky(scenario.stationary_cov()).T
    z[:, :, 1:] = z[:, :, 1:] @ np.linalg.cholesky(scenario.innovation_cov()).T
    for b in range(1, n_beeps):
        z[:, :, b] += z[:, :, b - 1] @ a_t
    sign = np.where(np.arange(k) % 2 == 0, 1.0, -1.0)
    level = rng.standard_normal((n_persons, k))
    slope = float(day_trend) * (rng.standard_normal((n_persons, 1)) * sign
                                + 0.5 * rng.standard_normal((n_persons, k)))
    phase = rng.uniform(0.0, 2 * np.pi, size=n_persons)
    loading = sign * rng.uniform(0.5, 1.5, size=(n_persons, k))
    hours = np.pi * np.arange(n_beeps) / (n_beeps - 1)
    shape = np.sqrt(2.0) * np.cos(hours[None, :] + phase[:, None])  # (person, beep)
    rhythm = float(diurnal_amplitude) * shape[:, None, :, None] * loading[:, None, None, :]
    days = np.arange(n_days, dtype=float)
    trend = slope[:, None, None, :] * days[None, :, None, None]
    y = level[:, None, None, :] + trend + rhythm + z
    person, day, beep = (g.ravel() for g in np.meshgrid(
        np.arange(1, n_persons + 1), np.arange(1, n_days + 1), np.arange(1, n_beeps + 1),
        indexing="ij"))
    keep = rng.random(person.size) >= missing if missing > 0 else np.ones(person.size, bool)
    frame = pd.DataFrame(y.reshape(-1, k)[keep], columns=list(scenario.variables))
    frame.insert(0, "beep", beep[keep].astype(np.int64))
    frame.insert(0, "day", day[keep].astype(np.int64))
    frame.insert(0, "person", person[keep].astype(np.int64))
    logger.debug("simulated EMA cohort: %d rows from %s", len(frame), scenario)
    return frame.reset_index(drop=True)
