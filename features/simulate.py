r"""Synthetic therapy cohorts with a known within-patient lag-1 graph.

The generator follows the design of Melsom et al. (2023, *J Consult Clin
Psychol*, doi:10.1037/ccp0000822): 226 chronically depressed inpatients with
about 13 weekly reports of depression (PHQ-9, 0-27), self-compassion (item mean,
1-5) and fear of receiving compassion from others (0-52). Their within-patient
lag-1 effects are the ``"paper"`` :class:`Scenario`: ``fear_others ->
depression`` +0.12, ``depression -> fear_others`` +0.08, ``depression ->
self_compassion`` -0.13 and no other cross-lagged effect.

Model
-----
For patient :math:`i`, week :math:`t = 0, \dots, T-1` (reported as ``week`` 1..T)
and variable :math:`k`

.. math::

    y_{i,t,k} = a_{i,k} + b_{i,k}\,t + s_k\,z_{i,t,k},

then rounded to the instrument's resolution and clipped to its range
(:class:`Instrument`).

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
  A non-stationary :math:`A` (spectral radius >= 1) raises :class:`ValueError`.
- :math:`z_0 \sim N(0, \Gamma)`, so every week is a draw from the stationary
  distribution and no burn-in is needed.

``missing`` removes each patient-week independently; ``dropout`` makes a
patient stop at a uniformly random week in ``4..T`` (that week and all later
ones are removed). Removed rows do not appear in the long-format output.

Examples
--------
>>> df = simulate_cohort("paper", n_patients=3, n_weeks=4, random_state=0)
>>> list(df.columns)
['patient', 'week', 'depression', 'self_compassion', 'fear_others']
>>> df.shape
(12, 5)
>>> sorted(get_scenario("paper").true_edges())  # doctest: +NORMALIZE_WHITESPACE
[('depression', 'fear_others', 1), ('depression', 'self_compassion', 1),
 ('fear_others', 'depression', 1)]
"""

from __future__ import annotations

import dataclasses
import logging
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.linalg import solve_discrete_lyapunov

__all__ = [
    "SCENARIO_NAMES",
    "Instrument",
    "Scenario",
    "generic_scenario",
    "get_scenario",
    "simulate_cohort",
    "simulate_subgroups",
]

logger = logging.getLogger(__name__)

SCENARIO_NAMES: tuple[str, ...] = ("paper", "null", "reversed")

Cross = tuple[tuple[str, str, float], ...]


@dataclass(frozen=True)
class Instrument:
    """How one latent variable becomes observed scores.

    Parameters
    ----------
    intercept_mean, intercept_sd : float
        Mean and between-patient SD of the score at the first week.
    slope_mean, slope_sd : float
        Mean and between-patient SD of the change per week.
    within_sd : float
        Within-person SD ``s_k`` multiplying the standardized VAR process.
    low, high : float or None
        Range the scores are clipped to; None means unbounded on that side.
        With a resolution, both must be multiples of it.
    resolution : float or None
        Scores are rounded to multiples of this (1 for sum scores, 0.1 for an
        item mean reported to one decimal); None means no rounding.

    Examples
    --------
    >>> Instrument(low=0, high=10, resolution=1).measure(np.array([-2.0, 3.4, 12.0]))
    array([ 0.,  3., 10.])
    """

    intercept_mean: float = 0.0
    intercept_sd: float = 0.0
    slope_mean: float = 0.0
    slope_sd: float = 0.0
    within_sd: float = 1.0
    low: float | None = None
    high: float | None = None
    resolution: float | None = None

    def __post_init__(self) -> None:
        sds = (self.intercept_sd, self.slope_sd, self.within_sd)
        if not (np.all(np.isfinite(sds)) and min(sds) >= 0 and self.within_sd > 0):
            raise ValueError(f"Instrument SDs must be finite, >= 0 and within_sd > 0, got {sds}")
        if self.resolution is not None and not self.resolution > 0:
            raise ValueError(f"Instrument.resolution must be > 0 or None, got {self.resolution}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"Instrument.low ({self.low}) must be < high ({self.high})")
        for bound in (self.low, self.high):
            steps = None if bound is None or self.resolution is None else bound / self.resolution
            if steps is not None and not np.isclose(steps, np.round(steps)):
                raise ValueError(
                    f"Instrument bound {bound} is not a multiple of resolution {self.resolution}"
                )

    def measure(self, values: np.ndarray) -> np.ndarray:
        """Round ``values`` to the resolution, then clip them to ``[low, high]``."""
        out = np.asarray(values, dtype=float)
        if self.resolution is not None:
            # The outer round removes float noise such as 2.6000000000000001.
            out = np.round(np.round(out / self.resolution) * self.resolution, 10)
        if self.low is not None or self.high is not None:
            out = np.clip(out, self.low, self.high)
        return out + 0.0  # turns -0.0 into 0.0


#: Realistic instruments of the paper preset (see the module docstring).
_PAPER_INSTRUMENTS = (
    Instrument(16.0, 4.5, -0.4, 0.35, 3.0, low=0, high=27, resolution=1),  # PHQ-9
    Instrument(2.6, 0.55, 0.03, 0.035, 0.35, low=1, high=5, resolution=0.1),  # item mean
    Instrument(26.0, 10.0, -0.4, 0.5, 5.0, low=0, high=52, resolution=1),  # FCS others
)
_PAPER_VARIABLES = ("depression", "self_compassion", "fear_others")
_PAPER_CROSS: Cross = (
    ("fear_others", "depression", 0.12),
    ("depression", "fear_others", 0.08),
    ("depression", "self_compassion", -0.13),
)
_PAPER_INTERCEPT_CORR: Cross = (
    ("depression", "fear_others", 0.4),
    ("depression", "self_compassion", -0.5),
    ("self_compassion", "fear_others", -0.35),
)
_PAPER_SLOPE_CORR: Cross = (
    ("depression", "fear_others", 0.5),
    ("depression", "self_compassion", -0.4),
    ("self_compassion", "fear_others", -0.3),
)


@dataclass(frozen=True)
class Scenario:
    """A simulated truth: variables, their VAR(1) dynamics and instruments.

    Parameters
    ----------
    name : str
        Label of the scenario.
    variables : tuple of str
        Variable (column) names, in the order of the transition matrix.
    ar : tuple of float
        Autoregressive lag-1 effect of each variable (diagonal of ``A``).
    cross : tuple of (cause, effect, coefficient)
        Lag-1 cross effects ``cause(t-1) -> effect(t)``; absent pairs are 0.
    residual_corr : float
        Correlation of the innovations between every pair of variables.
    instruments : tuple of Instrument
        One per variable; empty means a continuous :class:`Instrument` each.
    intercept_corr, slope_corr : tuple of (variable, variable, correlation)
        Between-patient correlations of intercepts and of slopes; absent pairs
        are uncorrelated.

    Examples
    --------
    >>> s = Scenario("toy", ("x", "y"), (0.3, 0.3), (("x", "y", 0.2),))
    >>> s.transition_matrix()
    array([[0.3, 0. ],
           [0.2, 0.3]])
    >>> s.truth().to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'cause': 'x', 'effect': 'y', 'lag': 1, 'coefficient': 0.2},
     {'cause': 'y', 'effect': 'x', 'lag': 1, 'coefficient': 0.0}]
    """

    name: str
    variables: tuple[str, ...]
    ar: tuple[float, ...]
    cross: Cross = ()
    residual_corr: float = 0.3
    instruments: tuple[Instrument, ...] = field(default=())
    intercept_corr: Cross = ()
    slope_corr: Cross = ()

    def __post_init__(self) -> None:
        if isinstance(self.variables, str):
            raise ValueError(f"Scenario {self.name!r}: variables must be a sequence of names")
        setter, k = object.__setattr__, len(self.variables)  # normalize to hashable tuples
        setter(self, "variables", tuple(str(v) for v in self.variables))
        setter(self, "ar", tuple(float(v) for v in self.ar))
        setter(self, "instruments", tuple(self.instruments) or (Instrument(),) * k)
        for what in ("cross", "intercept_corr", "slope_corr"):
            setter(self, what, tuple((str(a), str(b), float(c)) for a, b, c in getattr(self, what)))
        where = f"Scenario {self.name!r}"
        if k < 1 or len(set(self.variables)) != k:
            raise ValueError(f"{where}: variables must be unique and non-empty: {self.variables}")
        if len(self.ar) != k or len(self.instruments) != k:
            raise ValueError(f"{where}: need one ar value and one Instrument per variable ({k})")
        if not all(isinstance(i, Instrument) for i in self.instruments):
            raise ValueError(f"{where}: instruments must be Instrument objects")
        for what in ("cross", "intercept_corr", "slope_corr"):
            pairs = [
                (a, b) if what == "cross" else frozenset((a, b)) for a, b, _ in getattr(self, what)
            ]
            for a, b, _ in getattr(self, what):
                if a not in self.variables or b not in self.variables or a == b:
                    raise ValueError(f"{where}: bad {what} pair ({a!r}, {b!r})")
            if len(set(pairs)) != len(pairs):
                raise ValueError(f"{where}: duplicate pairs in {what}")
        if not -1.0 < self.residual_corr < 1.0:
            raise ValueError(f"{where}: residual_corr must be in (-1, 1), got {self.residual_corr}")
        for what, mat in (
            ("residual_corr", self._residual_corr_matrix()),
            ("intercept_corr", self._corr_matrix(self.intercept_corr)),
            ("slope_corr", self._corr_matrix(self.slope_corr)),
        ):
            if not np.all(np.linalg.eigvalsh(mat) > 1e-10):
                raise ValueError(
                    f"{where}: {what} gives a correlation matrix that is not positive definite"
                )
        radius = float(np.max(np.abs(np.linalg.eigvals(self.transition_matrix()))))
        if not radius < 1.0:
            raise ValueError(
                f"{where} is not stationary: the spectral radius of the transition matrix "
                f"is {radius:.3f} (must be < 1); shrink ar or cross"
            )
        self.innovation_cov()  # raises if unit stationary variances are impossible

    def _residual_corr_matrix(self) -> np.ndarray:
        k = len(self.variables)
        return np.full((k, k), self.residual_corr) + (1 - self.residual_corr) * np.eye(k)

    def _corr_matrix(self, pairs: Cross) -> np.ndarray:
        index = {v: i for i, v in enumerate(self.variables)}
        mat = np.eye(len(self.variables))
        for a, b, c in pairs:
            mat[index[a], index[b]] = mat[index[b], index[a]] = c
        return mat

    def transition_matrix(self) -> np.ndarray:
        """Return ``A`` with ``A[effect, cause]`` the lag-1 effect (AR on the diagonal)."""
        index = {v: i for i, v in enumerate(self.variables)}
        a = np.diag(np.asarray(self.ar, dtype=float))
        for cause, effect, coef in self.cross:
            a[index[effect], index[cause]] = coef
        return a

    def innovation_cov(self) -> np.ndarray:
        """Return ``Sigma_e``, scaled so that the stationary variance of each ``z_k`` is 1.

        Fixed point ``D <- D / sqrt(diag(Gamma(D R D)))``. If the lagged effects
        alone give some variable a variance above 1, no scaling exists and the
        scale of that variable collapses to 0: a ValueError says so.
        """
        a, corr = self.transition_matrix(), self._residual_corr_matrix()
        scale = np.ones(len(self.variables))
        for _ in range(5_000):
            sigma = corr * np.outer(scale, scale)
            diag = np.diag(solve_discrete_lyapunov(a, sigma))
            if np.max(np.abs(diag - 1.0)) < 1e-12:
                return sigma
            scale = scale / np.sqrt(diag)
            if scale.min() < 1e-6:
                break
        worst = self.variables[int(np.argmin(scale))]
        raise ValueError(
            f"Scenario {self.name!r}: the lagged effects leave no room for innovations "
            f"(stationary variance of {worst!r} cannot be 1); shrink ar or cross"
        )

    def stationary_cov(self) -> np.ndarray:
        """Return the stationary covariance ``Gamma`` of ``z`` (unit diagonal)."""
        return solve_discrete_lyapunov(self.transition_matrix(), self.innovation_cov())

    def truth(self) -> pd.DataFrame:
        """Every ordered pair ``cause != effect`` at lag 1 with its coefficient (0.0 if absent)."""
        a = self.transition_matrix()
        rows = [
            (cause, effect, 1, float(a[k, j]))
            for j, cause in enumerate(self.variables)
            for k, effect in enumerate(self.variables)
            if j != k
        ]
        frame = pd.DataFrame(rows, columns=["cause", "effect", "lag", "coefficient"])
        return frame.astype({"lag": "int64", "coefficient": "float64"})

    def true_edges(self) -> set[tuple[str, str, int]]:
        """Return the nonzero cross-lagged effects as ``(cause, effect, 1)``."""
        return {(c, e, 1) for c, e, coef in self.cross if coef != 0.0}

    def scaled(self, factor: float) -> Scenario:
        """Return a copy with every cross effect multiplied by ``factor`` (same name)."""
        return self.with_cross([(c, e, coef * factor) for c, e, coef in self.cross])

    def with_cross(
        self, cross: Iterable[tuple[str, str, float]], *, name: str | None = None
    ) -> Scenario:
        """Return a copy whose cross effects are replaced by ``cross``."""
        return dataclasses.replace(
            self, cross=tuple(cross), name=self.name if name is None else name
        )

    def __str__(self) -> str:
        edges = ", ".join(f"{c} -> {e} ({coef:+.3g})" for c, e, coef in self.cross if coef)
        return (
            f"Scenario {self.name!r}: {len(self.variables)} variables, "
            f"{len(self.true_edges())} cross-lagged edges: {edges or 'none'}"
        )


def get_scenario(name: str, effect_scale: float = 1.0) -> Scenario:
    """Return a preset scenario on the Melsom et al. (2023) variables.

    Parameters
    ----------
    name : {"paper", "null", "reversed"}
        ``"paper"``: the reported within-patient effects; ``"null"``: no cross
        effects; ``"reversed"``: each paper effect with cause and effect swapped.
        All share AR 0.3, trends, instruments and contemporaneous correlation.
    effect_scale : float
        Multiplier of every cross effect.

    Returns
    -------
    Scenario

    Examples
    --------
    >>> get_scenario("reversed").truth().query("coefficient != 0")["coefficient"].tolist()
    [0.12, -0.13, 0.08]
    """
    if name not in SCENARIO_NAMES:
        raise ValueError(f"unknown scenario {name!r}; valid names: {', '.join(SCENARIO_NAMES)}")
    cross = {
        "paper": _PAPER_CROSS,
        "null": (),
        "reversed": tuple((e, c, coef) for c, e, coef in _PAPER_CROSS),
    }[name]
    base = Scenario(
        name=name,
        variables=_PAPER_VARIABLES,
        ar=(0.3, 0.3, 0.3),
        cross=cross,
        instruments=_PAPER_INSTRUMENTS,
        intercept_corr=_PAPER_INTERCEPT_CORR,
        slope_corr=_PAPER_SLOPE_CORR,
    )
    return base.scaled(effect_scale)


def generic_scenario(
    n_vars: int,
    n_edges: int | None = None,
    effect: float = 0.15,
    random_state: int | np.random.Generator | None = None,
    *,
    ar: float = 0.3,
    instrument: Instrument | None = None,
) -> Scenario:
    """Return a scenario on ``x1..xN`` with random sparse cross-lagged edges.

    Parameters
    ----------
    n_vars : int
        Number of variables (>= 2).
    n_edges : int, optional
        Number of distinct ordered pairs given an effect (default ``n_vars``).
    effect : float
        Magnitude of each effect; its sign is drawn at random.
    random_state : int, numpy.random.Generator or None
        Seed for the choice of edges and signs.
    ar : float
        Autoregressive effect of every variable.
    instrument : Instrument, optional
        Used for every variable; default continuous (no trend, no rounding).

    Returns
    -------
    Scenario

    Examples
    --------
    >>> s = generic_scenario(4, n_edges=3, random_state=1)
    >>> s.variables, len(s.true_edges())
    (('x1', 'x2', 'x3', 'x4'), 3)
    """
    n_vars = _check_int("n_vars", n_vars, 2)
    n_pairs = n_vars * (n_vars - 1)
    n_edges = n_vars if n_edges is None else _check_int("n_edges", n_edges, 0)
    if n_edges > n_pairs:
        raise ValueError(
            f"n_edges={n_edges} exceeds the {n_pairs} ordered pairs of {n_vars} variables"
        )
    rng = np.random.default_rng(random_state)
    names = tuple(f"x{i + 1}" for i in range(n_vars))
    pairs = [(c, e) for c in names for e in names if c != e]
    chosen = sorted(rng.choice(n_pairs, size=n_edges, replace=False))
    signs = rng.choice([-1.0, 1.0], size=n_edges)
    cross = tuple((*pairs[i], float(s * effect)) for i, s in zip(chosen, signs, strict=True))
    return Scenario(
        name=f"generic{n_vars}",
        variables=names,
        ar=(ar,) * n_vars,
        cross=cross,
        instruments=(Instrument() if instrument is None else instrument,) * n_vars,
    )


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_prob(name: str, value: object, upper_inclusive: bool) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        ok = 0.0 <= float(value) <= 1.0 and (upper_inclusive or float(value) < 1.0)
    if not ok:
        bound = "<= 1" if upper_inclusive else "< 1"
        raise ValueError(f"{name} must be a number with 0 <= {name} {bound}, got {value!r}")
    return float(value)


def _check_design(n_weeks: object, missing: object, dropout: object) -> tuple[int, float, float]:
    n_weeks = _check_int("n_weeks", n_weeks, 2)
    missing = _check_prob("missing", missing, upper_inclusive=False)
    dropout = _check_prob("dropout", dropout, upper_inclusive=True)
    if dropout > 0 and n_weeks < 4:
        raise ValueError(f"dropout needs n_weeks >= 4 (drop-out weeks are 4..T), got {n_weeks}")
    return n_weeks, missing, dropout


def _resolve(scenario: Scenario | str) -> Scenario:
    if isinstance(scenario, str):
        return get_scenario(scenario)
    if not isinstance(scenario, Scenario):
        raise ValueError(
            f"scenario must be a Scenario or one of {SCENARIO_NAMES}, got {scenario!r}"
        )
    return scenario


def _simulate(
    scenario: Scenario,
    n_patients: int,
    n_weeks: int,
    missing: float,
    dropout: float,
    rng: np.random.Generator,
    first_id: int,
) -> pd.DataFrame:
    k = len(scenario.variables)
    inst = scenario.instruments
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
    a_t = scenario.transition_matrix().T
    z = rng.standard_normal((n_weeks, n_patients, k))
    z[0] = z[0] @ np.linalg.cholesky(scenario.stationary_cov()).T
    z[1:] = z[1:] @ np.linalg.cholesky(scenario.innovation_cov()).T
    for t in range(1, n_weeks):
        z[t] += z[t - 1] @ a_t
    t_index = np.arange(n_weeks, dtype=float)[:, None, None]
    within = np.array([i.within_sd for i in inst])
    y = (intercept[None] + slope[None] * t_index + within * z).transpose(1, 0, 2)
    values = np.column_stack([inst[j].measure(y[:, :, j].ravel()) for j in range(k)])
    patient = np.repeat(np.arange(first_id, first_id + n_patients, dtype=np.int64), n_weeks)
    week = np.tile(np.arange(1, n_weeks + 1, dtype=np.int64), n_patients)
    keep = np.ones(n_patients * n_weeks, dtype=bool)
    if missing > 0:
        keep &= rng.random(keep.size) >= missing
    if dropout > 0:
        drops = rng.random(n_patients) < dropout
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
    n_patients = _check_int("n_patients", n_patients, 1)
    n_weeks, missing, dropout = _check_design(n_weeks, missing, dropout)
    rng = np.random.default_rng(random_state)
    frame = _simulate(scenario, n_patients, n_weeks, missing, dropout, rng, first_id=1)
    logger.debug("simulated %d rows from %s", len(frame), scenario)
    return frame


def simulate_subgroups(
    scenarios: Sequence[Scenario],
    sizes: Sequence[int],
    n_weeks: int,
    *,
    missing: float = 0.0,
    dropout: float = 0.0,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate cohorts from several scenarios and stack them with a ``subgroup`` column.

    Parameters
    ----------
    scenarios : sequence of Scenario
        One scenario per subgroup; all must share the same variables.
    sizes : sequence of int
        Number of patients per subgroup.
    n_weeks, missing, dropout, random_state
        As in :func:`simulate_cohort`.

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
        raise ValueError(
            f"need one size per scenario, got {len(scenarios)} scenarios and {len(sizes)} sizes"
        )
    variables = scenarios[0].variables
    for s in scenarios[1:]:
        if s.variables != variables:
            raise ValueError(
                f"scenario {s.name!r} has variables {s.variables}, expected {variables}"
            )
    sizes = [_check_int(f"sizes[{g}]", n, 1) for g, n in enumerate(sizes)]
    n_weeks, missing, dropout = _check_design(n_weeks, missing, dropout)
    rng = np.random.default_rng(random_state)
    frames, first_id = [], 1
    for group, (scenario, size) in enumerate(zip(scenarios, sizes, strict=True)):
        frame = _simulate(scenario, size, n_weeks, missing, dropout, rng, first_id)
        frame.insert(2, "subgroup", np.int64(group))
        frames.append(frame)
        first_id += size
    return pd.concat(frames, ignore_index=True)
