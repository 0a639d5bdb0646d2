"""Simulated truths: instruments, VAR(1) scenarios and the presets.

A :class:`Scenario` is the known within-patient truth a synthetic cohort is
drawn from (:func:`features.simulate.simulate_cohort`): the variables, their
lag-1 transition matrix ``A`` (autoregressive effects on the diagonal,
``A[effect, cause]`` the cross-lagged effects, in within-person SD units), the
contemporaneous correlation of the innovations, the between-patient
correlations of intercepts and slopes, and one :class:`Instrument` per
variable turning the latent process into observed scores.

Presets (:func:`get_scenario`) use the variables of Melsom et al. (2023,
*J Consult Clin Psychol*, doi:10.1037/ccp0000822): ``"paper"`` holds the
reported within-patient effects ``fear_others -> depression`` +0.12,
``depression -> fear_others`` +0.08 and ``depression -> self_compassion``
-0.13; ``"null"`` has no cross effect and ``"reversed"`` swaps cause and
effect of each paper effect. :func:`generic_scenario` draws sparse random
graphs on ``x1..xN``.

Examples
--------
>>> paper = get_scenario("paper")
>>> print(paper)  # doctest: +NORMALIZE_WHITESPACE
Scenario 'paper': 3 variables, 3 cross-lagged edges: fear_others -> depression (+0.12),
depression -> fear_others (+0.08), depression -> self_compassion (-0.13)
>>> bool(np.allclose(np.diag(paper.stationary_cov()), 1.0))
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.linalg import solve_discrete_lyapunov

from features.choices import SCENARIO_NAMES
from features.errors import InputError, is_integer

__all__ = [
    "Instrument",
    "Scenario",
    "generic_scenario",
    "get_scenario",
]

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
            raise InputError(f"Instrument SDs must be finite, >= 0 and within_sd > 0, got {sds}")
        if self.resolution is not None and not self.resolution > 0:
            raise InputError(f"Instrument.resolution must be > 0 or None, got {self.resolution}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise InputError(f"Instrument.low ({self.low}) must be < high ({self.high})")
        for bound in (self.low, self.high):
            steps = None if bound is None or self.resolution is None else bound / self.resolution
            if steps is not None and not np.isclose(steps, np.round(steps)):
                raise InputError(
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


#: Realistic instruments of the paper preset (PHQ-9, item mean, FCS others).
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
            raise InputError(f"Scenario {self.name!r}: variables must be a sequence of names")
        setter, k = object.__setattr__, len(self.variables)  # normalize to hashable tuples
        setter(self, "variables", tuple(str(v) for v in self.variables))
        setter(self, "ar", tuple(float(v) for v in self.ar))
        setter(self, "instruments", tuple(self.instruments) or (Instrument(),) * k)
        for what in ("cross", "intercept_corr", "slope_corr"):
            setter(self, what, tuple((str(a), str(b), float(c)) for a, b, c in getattr(self, what)))
        where = f"Scenario {self.name!r}"
        if k < 1 or len(set(self.variables)) != k:
            raise InputError(f"{where}: variables must be unique and non-empty: {self.variables}")
        if len(self.ar) != k or len(self.instruments) != k:
            raise InputError(f"{where}: need one ar value and one Instrument per variable ({k})")
        if not all(isinstance(i, Instrument) for i in self.instruments):
            raise InputError(f"{where}: instruments must be Instrument objects")
        for what in ("cross", "intercept_corr", "slope_corr"):
            pairs = [
                (a, b) if what == "cross" else frozenset((a, b)) for a, b, _ in getattr(self, what)
            ]
            for a, b, _ in getattr(self, what):
                if a not in self.variables or b not in self.variables or a == b:
                    raise InputError(f"{where}: bad {what} pair ({a!r}, {b!r})")
            if len(set(pairs)) != len(pairs):
                raise InputError(f"{where}: duplicate pairs in {what}")
        if not -1.0 < self.residual_corr < 1.0:
            raise InputError(f"{where}: residual_corr must be in (-1, 1), got {self.residual_corr}")
        for what, mat in (
            ("residual_corr", self._residual_corr_matrix()),
            ("intercept_corr", self._corr_matrix(self.intercept_corr)),
            ("slope_corr", self._corr_matrix(self.slope_corr)),
        ):
            if not np.all(np.linalg.eigvalsh(mat) > 1e-10):
                raise InputError(
                    f"{where}: {what} gives a correlation matrix that is not positive definite"
                )
        radius = float(np.max(np.abs(np.linalg.eigvals(self.transition_matrix()))))
        if not radius < 1.0:
            raise InputError(
                f"{where} is not stationary: the spectral radius of the transition matrix "
                f"is {radius:.3f} (must be < 1); shrink ar or cross"
            )
        # Solved once (raises if unit stationary variances are impossible); fields are frozen.
        setter(self, "_innovation_cov", self._solve_innovation_cov())

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
        scale of that variable collapses to 0: construction raises an InputError.
        """
        return self._innovation_cov.copy()

    def _solve_innovation_cov(self) -> np.ndarray:
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
        raise InputError(
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
        raise InputError(f"unknown scenario {name!r}; valid names: {', '.join(SCENARIO_NAMES)}")
    cross = {
        "paper": _PAPER_CROSS,
        "null": (),
        "reversed": tuple((e, c, coef) for c, e, coef in _PAPER_CROSS),
    }[name]
    return Scenario(
        name=name,
        variables=_PAPER_VARIABLES,
        ar=(0.3, 0.3, 0.3),
        cross=tuple((c, e, coef * effect_scale) for c, e, coef in cross),  # as .scaled()
        instruments=_PAPER_INSTRUMENTS,
        intercept_corr=_PAPER_INTERCEPT_CORR,
        slope_corr=_PAPER_SLOPE_CORR,
    )


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
        raise InputError(
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
    if not is_integer(value) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
