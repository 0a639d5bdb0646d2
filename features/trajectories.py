r"""Trajectories: the shapes of patients' change over a course of therapy.

A :class:`Trajectory` says how each patient's expected score moves over the
weeks of treatment, around which the within-person dynamics of a
:class:`~features.scenarios.Scenario` fluctuate (see
:func:`features.simulate.simulate_cohort`). Every shape spends the same
patient-specific total change :math:`c_{i,k} = b_{i,k}\,(T-1)` (slope times
span, drawn as in the linear model), so the shapes differ only in *when* the
change happens. With :math:`t = 0, \dots, T-1`, :math:`u = t / (T-1)` and
intercept :math:`a_{i,k}`, the trend :math:`m_{i,k}(t)` of patient :math:`i`
and measure :math:`k` is:

``"linear"``
    :math:`m = a + c\,u`: a straight line (the project's original simulator).
``"early"``
    Early rapid response, an exponential approach to a plateau (Stulz et al.
    2007 describe early-change shapes in routine psychotherapy):
    :math:`m = a + c\,(1 - e^{-r_i t}) / (1 - e^{-r_i (T-1)})`, with a
    patient-specific rate :math:`\log r_i \sim N(\log r, \sigma_r^2)`
    (``early_rate``, ``early_rate_sd``), shared by the patient's measures.
``"sudden"``
    Sudden gains and losses (Tang & DeRubeis 1999; Aderka et al. 2012; Lutz
    et al. 2013): the straight line plus, in a share ``sudden_share`` of the
    patients, a step at a patient-specific week :math:`w_i` (uniform on weeks
    ``3..T-1``, i.e. at least two weeks on each side), shared by all of the
    patient's measures: :math:`m = a + c\,u + h_{i,k}\,[t \ge w_i]` with
    :math:`h_{i,k} = g_i\, d_i\, s_k\, \operatorname{sign}(\bar b_k)`: size
    :math:`d_i \sim N(\texttt{step\_size}, \texttt{step\_size\_sd}^2)` in
    within-person SDs :math:`s_k`, in each measure's direction of
    improvement (the sign of its mean slope), and :math:`g_i = -1` (a sudden
    loss) with probability ``loss_share``, else :math:`+1`.
``"relapse"``
    Improvement to a plateau, then relapse: the ``"early"`` curve until a
    patient-specific week :math:`v_i` (uniform on the second half of
    treatment), then a linear return of a share ``relapse_fraction`` of the
    gain by the last week:
    :math:`m = m_{\mathrm{early}} - f\,c\,(t - v_i)_+ / (T - 1 - v_i)`.
``"mixed"``
    Each patient follows one of the four shapes above, drawn with
    probabilities ``mix`` (default equal).

Examples
--------
>>> print(get_trajectory("sudden"))  # doctest: +NORMALIZE_WHITESPACE
Trajectory 'sudden': step of 2 within-SD (SD 0.5) at a patient-specific week in 40% of
patients (20% losses)
>>> get_trajectory("mixed").mix
(0.25, 0.25, 0.25, 0.25)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.checks import check_choice, check_probability, check_real
from features.choices import TRAJECTORIES
from features.errors import InputError, format_value

__all__ = ["SHAPES", "Trajectory", "TrendDraw", "draw_trends", "get_trajectory"]

#: The pure shapes a ``"mixed"`` cohort draws from, in the order of ``Trajectory.mix``.
SHAPES: tuple[str, ...] = ("linear", "early", "sudden", "relapse")


@dataclass(frozen=True)
class Trajectory:
    """Shape of patients' change over treatment (see the module docstring for the equations).

    Parameters
    ----------
    shape : {"linear", "early", "sudden", "relapse", "mixed"}
        The shape.
    early_rate : float
        Median rate (per week) of the exponential approach of ``"early"`` and
        ``"relapse"`` (0.5: half of the change by week 2).
    early_rate_sd : float
        Between-patient SD of the log rate.
    sudden_share : float
        Share of ``"sudden"`` patients with a step (the others follow a line).
    loss_share : float
        Share of steps that are sudden losses (worsening) rather than gains.
    step_size, step_size_sd : float
        Mean and between-patient SD of the step, in within-person SDs.
    relapse_fraction : float
        Share of the gain lost again by the last week in ``"relapse"``.
    mix : tuple of 4 floats
        Probabilities of ``linear, early, sudden, relapse`` in ``"mixed"``.

    Examples
    --------
    >>> Trajectory("sudden", sudden_share=1.0).sudden_share
    1.0
    >>> Trajectory("wavy")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    features.errors.InputError: trajectory must be one of 'linear', ..., got 'wavy'
    """

    shape: str = "linear"
    early_rate: float = 0.5
    early_rate_sd: float = 0.5
    sudden_share: float = 0.4
    loss_share: float = 0.2
    step_size: float = 2.0
    step_size_sd: float = 0.5
    relapse_fraction: float = 0.6
    mix: tuple[float, ...] = (0.25, 0.25, 0.25, 0.25)

    def __post_init__(self) -> None:
        check_choice("trajectory", self.shape, TRAJECTORIES)
        setter = object.__setattr__
        setter(self, "early_rate", check_real("early_rate", self.early_rate, low=0.0))
        for name in ("early_rate_sd", "step_size", "step_size_sd"):
            setter(self, name, check_real(name, getattr(self, name), low=0.0, low_ok=True))
        for name in ("sudden_share", "loss_share", "relapse_fraction"):
            setter(self, name, check_probability(name, getattr(self, name), zero_ok=True,
                                                 one_ok=True))
        mix = tuple(check_probability("mix", m, zero_ok=True, one_ok=True) for m in self.mix)
        if len(mix) != len(SHAPES) or not np.isclose(sum(mix), 1.0):
            raise InputError(f"mix must be {len(SHAPES)} probabilities ({', '.join(SHAPES)}) "
                             f"summing to 1, got {format_value(self.mix)}")
        setter(self, "mix", mix)

    def __str__(self) -> str:
        what = {
            "linear": "straight lines",
            "early": (f"exponential approach to a plateau, median rate {self.early_rate:g}/week "
                      f"(log SD {self.early_rate_sd:g})"),
            "sudden": (f"step of {self.step_size:g} within-SD (SD {self.step_size_sd:g}) at a "
                       f"patient-specific week in {self.sudden_share:.0%} of patients "
                       f"({self.loss_share:.0%} losses)"),
            "relapse": (f"early response, then {self.relapse_fraction:.0%} of the gain lost "
                        "from a week in the second half"),
            "mixed": "each patient one of " + ", ".join(
                f"{s} {m:.0%}" for s, m in zip(SHAPES, self.mix, strict=True)),
        }[self.shape]
        return f"Trajectory {self.shape!r}: {what}"


def get_trajectory(trajectory: str | Trajectory) -> Trajectory:
    """Return ``trajectory`` as a :class:`Trajectory` (a name gets the default parameters).

    >>> get_trajectory("early").early_rate
    0.5
    """
    if isinstance(trajectory, Trajectory):
        return trajectory
    return Trajectory(check_choice("trajectory", trajectory, TRAJECTORIES))


@dataclass(frozen=True)
class TrendDraw:
    """Patient-level draws of a trajectory (the truth behind a simulated cohort).

    Attributes
    ----------
    shape : numpy.ndarray of str
        Per patient: the pure shape followed (one of :data:`SHAPES`).
    step_week : numpy.ndarray of int
        Per patient: 1-based first week after the step (``"sudden"``) or the
        week the relapse starts (``"relapse"``); 0 if none.
    step : numpy.ndarray
        Per patient and measure: the step size in score units (0 if none).
    trend : numpy.ndarray
        Per patient, week and measure: :math:`m_{i,k}(t)`.
    """

    shape: np.ndarray
    step_week: np.ndarray
    step: np.ndarray
    trend: np.ndarray


def draw_trends(trajectory: Trajectory, intercept: np.ndarray, slope: np.ndarray,
                n_weeks: int, within_sd: np.ndarray, direction: np.ndarray,
                rng: np.random.Generator) -> TrendDraw:
    """Draw every patient's trend :math:`m_{i,k}(t)` (see the module docstring).

    Parameters
    ----------
    trajectory : Trajectory
        The shape.
    intercept, slope : numpy.ndarray
        ``(n_patients, k)`` intercepts and slopes (the linear model's draws).
    n_weeks : int
        Number of weeks ``T`` (>= 2).
    within_sd : numpy.ndarray
        ``(k,)`` within-person SDs (the unit of a step).
    direction : numpy.ndarray
        ``(k,)`` +1 or -1: the direction of improvement of each measure.
    rng : numpy.random.Generator
        Source of the patient-level draws (nothing is drawn for ``"linear"``).

    Returns
    -------
    TrendDraw
    """
    n, k = intercept.shape
    t = np.arange(n_weeks, dtype=float)
    span = max(n_weeks - 1, 1)
    change = slope * span  # (n, k): total change over treatment
    linear = intercept[:, None, :] + change[:, None, :] * (t / span)[None, :, None]
    if trajectory.shape == "linear":
        return TrendDraw(np.full(n, "linear"), np.zeros(n, dtype=np.int64), np.zeros((n, k)),
                         linear)
    if trajectory.shape == "mixed":
        shapes = np.asarray(SHAPES)[rng.choice(len(SHAPES), size=n, p=trajectory.mix)]
    else:
        shapes = np.full(n, trajectory.shape)
    # Every patient gets every draw (fixed order), so a patient's draws do not depend on the
    # shapes of the others.
    rate = trajectory.early_rate * np.exp(trajectory.early_rate_sd * rng.standard_normal(n))
    has_step = rng.random(n) < trajectory.sudden_share
    step_week = rng.integers(2, max(n_weeks - 1, 3), size=n)  # 0-based: >= 2 weeks each side
    size = trajectory.step_size + trajectory.step_size_sd * rng.standard_normal(n)
    sign = np.where(rng.random(n) < trajectory.loss_share, -1.0, 1.0)
    relapse_week = rng.integers(n_weeks // 2, max(n_weeks - 1, n_weeks // 2 + 1), size=n)

    rt = rate[:, None] * t[None, :]
    early_u = -np.expm1(-rt) / -np.expm1(-rate[:, None] * span)  # (n, T), 0 -> 1
    early = intercept[:, None, :] + change[:, None, :] * early_u[:, :, None]
    ramp = np.clip((t[None, :] - relapse_week[:, None]) / np.maximum(
        span - relapse_week[:, None], 1), 0.0, None)
    relapse = early - trajectory.relapse_fraction * change[:, None, :] * ramp[:, :, None]
    step = np.where((has_step & (shapes == "sudden"))[:, None],
                    (sign * size)[:, None] * (within_sd * direction)[None, :], 0.0)
    sudden = linear + step[:, None, :] * (t[None, :] >= step_week[:, None])[:, :, None]

    trend = linear.copy()
    for name, curve in (("early", early), ("sudden", sudden), ("relapse", relapse)):
        trend[shapes == name] = curve[shapes == name]
    week = np.where(shapes == "sudden", np.where(has_step, step_week + 1, 0),
                    np.where(shapes == "relapse", relapse_week + 1, 0)).astype(np.int64)
    return TrendDraw(shapes, week, step, trend)
