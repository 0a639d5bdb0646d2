r"""Comparative claims: whether one lagged link is stronger than another.

A :class:`~causal.hypotheses.spec.Comparison` claims that
``|effect(stronger)| > |effect(weaker)|`` on the standardized within-person
effect scale (within-person SD units of the effect per within-person SD of the
cause, the scale the paper reports). :func:`compare` judges it from
:class:`EffectDraws`, the point estimates and patient cluster-bootstrap
replicates of every lagged effect made by :func:`effect_bootstrap`.

Effects: ``Links.effect``, or a labelled stand-in
-------------------------------------------------
The comparison is on the scale of the discovery result's ``effect`` column
(bias-corrected standardized within-person effects with intervals,
:func:`causal.effects.within_effects`). :func:`use_effects` is **the one
switch point**: given that column it centres the draws on ``effect``; without
it (a result from before ``effect`` existed, or a table without the column)
the comparison runs on the stand-in, :data:`EFFECT_LABEL`: the coefficients
of the pooled within-person VAR(``tau_max``) of
:func:`causal.effects.jackknife_effects`, scaled by ``sd(cause) /
sd(effect)`` and corrected for short-panel bias by the half-panel jackknife.
At unit weights :func:`effect_bootstrap` reproduces
``jackknife_effects(...).table["corrected"]`` (to ~1e-12; tested). The
jackknife leaves a bias when effects differ much (+0.04 on a true difference
of 0.16 at 13 weeks, ``docs/hypotheses.md``), so ``effect`` is preferred.

The interval of a difference
----------------------------
The two links of a comparison are estimated from the same patients (in a
VAR(1) on three variables they even share the regressors), so their
estimates are correlated and the variance of the difference is not the sum
of the variances. The dependence comes from the **patient cluster
bootstrap** (Field & Welsh 2007; Cameron, Gelbach & Miller 2008) of
:func:`effect_bootstrap`: each of ``n_boot`` replicates draws ``n`` patients
with replacement (multinomial counts from one seeded
:class:`numpy.random.Generator`) and re-estimates **every** effect on that
replicate. A replicate costs a few small linear solves: every patient's
cross-products (and those of its re-prepared half panels) are computed once
and re-weighted with the patient's count, which is exactly the analysis of
the data set with each patient duplicated that many times (tested).

* Stand-in: the replicates are used as they are (the covariance of the two
  estimates, the uncertainty of the standardizing SDs and of the jackknife
  all enter).
* ``effect`` (:func:`use_effects`): re-running the bias correction on every
  replicate would take minutes, so the draws are normal around ``effect``
  with each link's standard error from its own interval and the
  correlations of the bootstrap replicates: the delta method with the
  covariance of the two estimates, evaluated by simulation because
  ``|a| - |b|`` has no derivative at zero.

The interval is the percentile interval of the replicate differences at level
``1 - 2 * alpha`` (90% for ``alpha = 0.05``), so that each of the one-sided
verdicts below errs with probability ``alpha`` when the two links are equally
strong: the level of the hypothesis verdicts' intervals (``docs/hypotheses.md``).

Verdicts
--------
``difference = |effect(stronger)| - |effect(weaker)|``; with ``[ci_low, ci_high]``
its interval:

* **supported** when ``ci_low > 0``;
* **contradicted** when ``ci_high < 0``;
* **inconclusive** otherwise (and when either effect cannot be estimated).

A comparison's ``sesoi`` (effect scale) never changes the verdict; it only
qualifies the reason: a supported difference whose interval lies above
``+sesoi`` is "practically relevant", one whose interval lies inside
``±sesoi`` is "smaller than the SESOI", and an inconclusive interval inside
``±sesoi`` shows the two links equally strong within the SESOI.

Examples
--------
>>> from features.simulate import simulate_cohort
>>> from causal.hypotheses.spec import load_comparisons
>>> df = simulate_cohort("paper", n_patients=120, n_weeks=13, random_state=3)
>>> draws = effect_bootstrap(df, n_boot=200, random_state=1)
>>> table = compare(load_comparisons("melsom2023"), draws)  # stand-in effects
>>> table.to_frame().columns.tolist()
['name', 'stronger', 'weaker', 'lag', 'difference', 'ci_low', 'ci_high', 'verdict', 'reason']
>>> table.results[0].verdict in ("supported", "inconclusive", "contradicted")
True
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from causal.discovery.links import Links
from causal.hypotheses.spec import Comparison, HypothesisError, load_comparisons
from causal.hypotheses.verdicts import VERDICTS, _counts_text, _Judged
from features.checks import (
    check_bool,
    check_choice,
    check_int,
    check_probability,
    check_seed,
    spawn_seeds,
)
from features.errors import DataError, InputError
from features.lags import lag_name, lag_table
from features.panel import Panel
from features.transforms import PREPS, prepare

__all__ = [
    "COMPARISON_COLUMNS",
    "EFFECT_LABEL",
    "LINKS_EFFECT_LABEL",
    "SEED_STREAM",
    "ComparisonResult",
    "ComparisonTable",
    "EffectDraws",
    "check_comparisons",
    "compare",
    "comparison_section",
    "effect_bootstrap",
    "model_effects",
    "use_effects",
]

logger = logging.getLogger(__name__)

#: Columns of ``comparisons.csv`` (:meth:`ComparisonTable.to_frame`).
COMPARISON_COLUMNS = ("name", "stronger", "weaker", "lag", "difference", "ci_low", "ci_high",
                      "verdict", "reason")
#: What the effects are, in plain words (report and ``str``).
EFFECT_LABEL = ("standardized within-person change per week (pooled within-person VAR "
                "coefficient, half-panel jackknife bias correction; stand-in for Links.effect)")
#: ``spawn_seeds`` stream of the effect bootstrap's patient draws.
SEED_STREAM = (9, 1)

Link = tuple[str, str, int]


# -------------------------------------------------------- cluster moments
@dataclass(frozen=True, eq=False)
class _Moments:
    """Per-patient sufficient statistics of one prepared panel.

    ``xx[k]`` has shape (patients, m, m): the cross-products of ``[1,
    predictors, target k]`` over target ``k``'s complete rows; ``n``, ``s1``,
    ``s2`` (patients, variables) are counts, sums and sums of squares of the
    observed prepared values (for the pooled SDs).
    """

    xx: np.ndarray  # (targets, patients, m, m)
    n: np.ndarray
    s1: np.ndarray
    s2: np.ndarray


def _moments(prepared: Panel, tau_max: int, index: dict[Any, int]) -> _Moments:
    variables = list(prepared.variables)
    k, n_pat = len(variables), len(index)
    predictors = [lag_name(v, lag) for lag in range(1, tau_max + 1) for v in variables]
    m = len(predictors) + 2
    table = lag_table(prepared, tau_max)
    codes = table[prepared.id_col].map(index).to_numpy()
    if pd.isna(codes).any():
        raise RuntimeError("internal: a prepared patient is not in the resampled set")
    codes = codes.astype(np.int64)
    xx = np.zeros((k, n_pat, m, m))
    for j, target in enumerate(variables):
        z = table[[*predictors, target]].to_numpy(dtype=float)
        ok = ~np.isnan(z).any(axis=1)
        z = np.column_stack([np.ones(int(ok.sum())), z[ok]])
        outer = (z[:, :, None] * z[:, None, :]).reshape(len(z), m * m)
        flat = np.zeros((n_pat, m * m))
        np.add.at(flat, codes[ok], outer)
        xx[j] = flat.reshape(n_pat, m, m)
    values = prepared.data[variables].to_numpy(dtype=float)
    obs = ~np.isnan(values)
    pcodes = prepared.data[prepared.id_col].map(index).to_numpy().astype(np.int64)
    stats = []
    for part in (obs.astype(float), np.where(obs, values, 0.0), np.where(obs, values ** 2, 0.0)):
        acc = np.zeros((n_pat, k))
        np.add.at(acc, pcodes, part)
        stats.append(acc)
    return _Moments(xx=xx, n=stats[0], s1=stats[1], s2=stats[2])


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched ``solve(a, b)``; NaN rows where a system is singular."""
    try:
        return np.linalg.solve(a, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(b.shape, np.nan)
        for i in range(len(a)):
            try:
                out[i] = np.linalg.solve(a[i], b[i])
            except np.linalg.LinAlgError:
                pass
        return out


def _standardized(mom: _Moments, weights: np.ndarray) -> np.ndarray:
    """Standardized VAR coefficients per weighting: shape (B, targets, predictors)."""
    k, _, m, _ = mom.xx.shape
    p = m - 2
    coef = np.full((len(weights), k, p), np.nan)
    for j in range(k):
        a = (weights @ mom.xx[j].reshape(len(weights[0]), m * m)).reshape(-1, m, m)
        enough = a[:, 0, 0] >= p + 2  # as causal.effects: at least predictors + 2 rows
        sol = _solve(a[:, :p + 1, :p + 1], a[:, :p + 1, p + 1])
        coef[:, j] = np.where(enough[:, None], sol[:, 1:], np.nan)
    count = weights @ mom.n
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (weights @ mom.s1) / count
        sd = np.sqrt(np.maximum((weights @ mom.s2) / count - mean ** 2, 0.0))
        src_sd = np.tile(sd, p // k)  # predictor order: lag-major, variables inside
        scale = src_sd[:, None, :] / sd[:, :, None]
    return np.where(sd[:, :, None] > 0, coef * scale, np.nan)


def _halves(panel: Panel, ceil_first: bool) -> tuple[Panel, Panel]:
    """Split every patient's observed time range (as :mod:`causal.effects` does)."""
    data = panel.data
    times, ids = data[panel.time_col], data[panel.id_col]
    start = times.groupby(ids, sort=False).transform("min")
    length = times.groupby(ids, sort=False).transform("max") - start + 1
    first = ((times - start) < ((length + 1) // 2 if ceil_first else length // 2)).to_numpy()
    return panel.with_data(data[first]), panel.with_data(data[~first])


def _effect_estimator(panel: Panel, tau_max: int, prep: str, by: str,
                      jackknife: bool) -> tuple[list[Any], Any]:
    """Return ``(patients, estimate)`` of the stand-in effect estimator.

    ``estimate`` maps patient weights (B, patients) to effects (B, targets,
    predictors); see the module docstring.
    """
    full = prepare(panel, prep, by=by)
    patients = list(pd.unique(full.data[full.id_col]))
    index = {p: i for i, p in enumerate(patients)}
    full_m = _moments(full, tau_max, index)
    halves: list[list[_Moments]] = [[], []]
    if jackknife:
        times = panel.data[panel.time_col]
        span = times.groupby(panel.data[panel.id_col]).agg(lambda t: t.max() - t.min() + 1)
        span = span[span.index.isin(patients)]
        for ceil_first in (False, True) if bool((span % 2 == 1).any()) else (False,):
            for h, part in enumerate(_halves(panel.subset(patients), ceil_first)):
                try:
                    prepared = prepare(part, prep, by=by)
                except DataError as exc:
                    raise DataError(f"half panel {h + 1} cannot be prepared for the jackknife: "
                                    f"{exc}") from exc
                halves[h].append(_moments(prepared, tau_max, index))

    def estimate(weights: np.ndarray) -> np.ndarray:
        out = _standardized(full_m, weights)
        if jackknife:
            first = np.mean([_standardized(mm, weights) for mm in halves[0]], axis=0)
            second = np.mean([_standardized(mm, weights) for mm in halves[1]], axis=0)
            out = 2 * out - (first + second) / 2
        return out

    return patients, estimate


# ------------------------------------------------------------------ draws
@dataclass(frozen=True, eq=False)
class EffectDraws:
    """Point estimates and patient cluster-bootstrap replicates of lagged effects.

    Attributes
    ----------
    keys : pandas.DataFrame
        ``source, target, lag`` of every lagged link (autoregressive ones
        included), in column order of ``estimate`` and ``draws``.
    estimate : numpy.ndarray
        Full-sample effects, shape (links,).
    draws : numpy.ndarray
        Replicate effects, shape (n_boot, links); NaN where a replicate
        could not estimate a link.
    weights : numpy.ndarray
        Patient counts of each replicate, shape (n_boot, patients).
    patients : tuple
        The resampled patients.
    tau_max : int
    prep, by : str
    jackknife : bool
        Whether the half-panel jackknife correction is applied.
    label : str
        What the effects are (:data:`EFFECT_LABEL`).
    """

    keys: pd.DataFrame
    estimate: np.ndarray
    draws: np.ndarray
    weights: np.ndarray
    patients: tuple[Any, ...]
    tau_max: int
    prep: str
    by: str
    jackknife: bool
    label: str = EFFECT_LABEL

    @property
    def n_boot(self) -> int:
        """Number of replicates."""
        return int(self.draws.shape[0])

    @property
    def variables(self) -> tuple[str, ...]:
        """Variables, in the estimator's order."""
        return tuple(pd.unique(self.keys["target"]))

    def column(self, source: str, target: str, lag: int) -> int:
        """Position of link ``source(t - lag) -> target(t)`` (KeyError if absent)."""
        hit = np.flatnonzero((self.keys["source"] == source) & (self.keys["target"] == target)
                             & (self.keys["lag"] == lag))
        if not len(hit):
            raise KeyError((source, target, lag))
        return int(hit[0])

    def table(self, ci_level: float = 0.95) -> pd.DataFrame:
        """``source, target, lag, effect, effect_low, effect_high`` (percentile interval)."""
        ci_level = check_probability("ci_level", ci_level)
        tail = (1 - ci_level) / 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN links give NaN
            low, high = np.nanquantile(self.draws, [tail, 1 - tail], axis=0)
        return self.keys.assign(effect=self.estimate, effect_low=low, effect_high=high)

    def replicates(self) -> pd.DataFrame:
        """Long table ``replicate, source, target, lag, effect`` of every replicate."""
        n_links = len(self.keys)
        rep = self.keys.loc[np.tile(np.arange(n_links), self.n_boot)].reset_index(drop=True)
        rep.insert(0, "replicate", np.repeat(np.arange(self.n_boot), n_links))
        return rep.assign(effect=self.draws.ravel())

    def __str__(self) -> str:
        return (f"Effect bootstrap: {self.n_boot} replicates of {len(self.patients)} patients "
                f"resampled with replacement; {len(self.keys)} lagged links on the scale: "
                f"{self.label}")


def effect_bootstrap(data: Panel | pd.DataFrame, *, tau_max: int = 1, prep: str = "detrend",
                     by: str = "patient", n_boot: int = 1000, jackknife: bool = True,
                     random_state: int | None = None, id_col: str = "patient",
                     time_col: str = "week",
                     variables: Sequence[str] | None = None) -> EffectDraws:
    """Estimate every lagged effect and its patient cluster-bootstrap replicates.

    Parameters
    ----------
    data : Panel or pandas.DataFrame
        **Raw** scores (each half panel of the jackknife is re-prepared; the
        transform is per patient, without time effects).
    tau_max : int
        Lags of the VAR (use the discovery's ``tau_max``).
    prep : {"detrend", "center", "none"}
        Within-person preprocessing (use the discovery's ``prep``).
    by : {"patient", "segment"}
        Grouping of the within-person transform.
    n_boot : int
        Replicates (>= 1).
    jackknife : bool
        Apply the half-panel jackknife bias correction (default True).
    random_state : int or None
        Seed of the patient draws (one :func:`features.checks.spawn_seeds`
        child of stream :data:`SEED_STREAM`).
    id_col, time_col, variables
        Used when ``data`` is a DataFrame (``variables`` also selects from a Panel).

    Returns
    -------
    EffectDraws

    Raises
    ------
    InputError
        Bad parameters, or data that cannot form a panel.
    """
    tau_max = check_int("tau_max", tau_max, minimum=1)
    prep = check_choice("prep", prep, PREPS)
    by = check_choice("by", by, ("patient", "segment"))
    n_boot = check_int("n_boot", n_boot, minimum=1)
    jackknife = check_bool("jackknife", jackknife)
    seed = check_seed("random_state", random_state)
    if isinstance(data, Panel):
        panel = data if variables is None else data.select(list(variables))
        panel = panel.drop_short(tau_max, 2)
    elif isinstance(data, pd.DataFrame):
        panel = Panel.from_frame(data, id_col=id_col, time_col=time_col, variables=variables,
                                 tau_max=tau_max, min_lagged_rows=2)
    else:
        raise DataError(f"data must be a Panel or a long-format pandas DataFrame, got "
                        f"{type(data).__name__}")
    from threadpoolctl import threadpool_limits

    patients, estimate = _effect_estimator(panel, tau_max, prep, by, jackknife)
    n = len(patients)
    rng = np.random.default_rng(spawn_seeds(seed, 1, stream=SEED_STREAM)[0])
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
    with threadpool_limits(limits=1):  # tiny products: threads only add overhead
        point = estimate(np.ones((1, n)))[0]
        reps = np.concatenate([estimate(counts[s:s + 250]) for s in range(0, n_boot, 250)])
    names = list(panel.variables)
    keys = pd.DataFrame([(s, t, lag) for t in names for lag in range(1, tau_max + 1)
                         for s in names], columns=["source", "target", "lag"])
    # estimate(...) has shape (B, targets, predictors) with predictors lag-major.
    flat = [(names.index(t), (lag - 1) * len(names) + names.index(s))
            for s, t, lag in keys.itertuples(index=False)]
    rows, cols = np.array(flat).T
    if np.isnan(point[rows, cols]).any():
        raise DataError("too few complete lagged rows to estimate the within-person VAR("
                        f"{tau_max}) on the full sample or a jackknife half panel")
    draws = EffectDraws(keys=keys.astype({"lag": "int64"}), estimate=point[rows, cols],
                        draws=reps[:, rows, cols], weights=counts.astype(np.int64),
                        patients=tuple(patients), tau_max=tau_max, prep=prep, by=by,
                        jackknife=jackknife)
    logger.info("%s", draws)
    return draws


#: What the effects are when they come from ``Links.effect`` (:func:`use_effects`).
LINKS_EFFECT_LABEL = ("standardized within-person change per week (Links.effect: bias-corrected "
                      "within-person effect with its intervals; correlations between links "
                      "from the patient cluster bootstrap)")


def use_effects(draws: EffectDraws, effects: Links | pd.DataFrame, *,
                ci_level: float | None = None,
                random_state: int | None = None) -> EffectDraws:
    """Put the discovery result's own ``effect`` column behind the draws.

    The switch from the stand-in to ``Links.effect``: the point estimates
    become ``effect`` and the replicates become draws from a normal
    distribution centred on them, each link with the standard error implied
    by its ``[effect_low, effect_high]`` interval, the links correlated as
    their stand-in estimates are across the patient cluster-bootstrap
    replicates of ``draws`` (the dependence that comes from sharing patients).
    :func:`compare` and :func:`causal.graph.summary.leading_order` then work
    on ``effect`` unchanged; ``|a| - |b|`` needs no derivative because it is
    evaluated on every draw.

    Parameters
    ----------
    draws : EffectDraws
        From :func:`effect_bootstrap` on the same data.
    effects : Links or pandas.DataFrame
        ``source, target, lag, effect, effect_low, effect_high`` (e.g.
        ``Links.table``). Links without an effect keep NaN.
    ci_level : float, optional
        Level of ``effect_low``/``effect_high``; default the Links'
        ``settings["ci_level"]`` (else ``1 - 2 * alpha``); required for a frame.
    random_state : int or None
        Seed of the normal draws (stream :data:`SEED_STREAM` + ``(1,)``).

    Returns
    -------
    EffectDraws
        Same keys, patients and number of replicates, label
        :data:`LINKS_EFFECT_LABEL`.
    """
    from scipy.stats import norm

    if isinstance(effects, Links):
        settings = effects.settings
        level = settings.get("ci_level", settings.get("conf_level", 1 - 2 * effects.alpha))
        ci_level = level if ci_level is None else ci_level
        effects = effects.table
    if not isinstance(effects, pd.DataFrame):
        raise InputError(f"effects must be a Links result or a DataFrame, got "
                         f"{type(effects).__name__}")
    if ci_level is None:
        raise InputError("ci_level is required when effects is a DataFrame")
    ci_level = check_probability("ci_level", ci_level)
    seed = check_seed("random_state", random_state)
    need = ["source", "target", "lag", "effect", "effect_low", "effect_high"]
    missing = [c for c in need if c not in effects.columns]
    if missing:
        raise InputError(f"effects lack column(s) {missing}; need {need}")
    merged = draws.keys.merge(effects[need].astype({"lag": "int64"}),
                              on=["source", "target", "lag"], how="left", validate="one_to_one")
    point = merged["effect"].to_numpy(float)
    se = ((merged["effect_high"] - merged["effect_low"]).to_numpy(float)
          / (2 * norm.ppf(0.5 + ci_level / 2)))
    ok = np.isfinite(point) & np.isfinite(se) & (se > 0)
    ok &= ~np.isnan(draws.draws).all(axis=0)
    out = np.full(draws.draws.shape, np.nan)
    if ok.any():
        reps = draws.draws[:, ok]
        reps = reps[~np.isnan(reps).any(axis=1)]
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.atleast_2d(np.corrcoef(reps, rowvar=False))
        corr = np.where(np.isfinite(corr), corr, 0.0)
        np.fill_diagonal(corr, 1.0)
        cov = corr * np.outer(se[ok], se[ok])
        vals, vecs = np.linalg.eigh(cov)
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))
        rng = np.random.default_rng(spawn_seeds(seed, 1, stream=(*SEED_STREAM, 1))[0])
        out[:, ok] = point[ok] + rng.standard_normal((draws.n_boot, int(ok.sum()))) @ root.T
    return EffectDraws(keys=draws.keys, estimate=point, draws=out, weights=draws.weights,
                       patients=draws.patients, tau_max=draws.tau_max, prep=draws.prep,
                       by=draws.by, jackknife=False, label=LINKS_EFFECT_LABEL)


def model_effects(model: Any, data: Panel | pd.DataFrame, *, n_boot: int = 1000,
                  random_state: int | None = None) -> EffectDraws:
    """Effects of a fitted discovery run with their patient-bootstrap draws.

    What ``discover`` uses for comparisons and who leads: :func:`effect_bootstrap`
    with the model's ``tau_max``, ``prep`` and ``prep_by`` on the patients it
    analysed, then :func:`use_effects` when the model's links carry an
    ``effect`` for every lagged cross link (else the stand-in, logged). When
    the series are too short for the jackknife's half panels and ``effect``
    exists, the correlations come from the uncorrected VAR's replicates.

    Parameters
    ----------
    model : PanelPCMCI
        Fitted.
    data : Panel or pandas.DataFrame
        The raw data the model was fitted on (its ``panel_`` is already prepared).
    n_boot : int
        Replicates.
    random_state : int or None
        Seed (the one seed of the run).

    Returns
    -------
    EffectDraws
    """
    params = model.get_params()
    prepared = model.panel_
    analysed = pd.unique(prepared.data[prepared.id_col])
    if isinstance(data, pd.DataFrame):
        data = Panel.from_frame(data, id_col=prepared.id_col, time_col=prepared.time_col,
                                variables=list(prepared.variables), tau_max=None)
    table = model.links_.table
    lagged = table[(table["lag"] >= 1) & (table["source"] != table["target"])]
    has_effect = "effect" in lagged.columns and bool(lagged["effect"].notna().all())
    panel = data.select(list(prepared.variables)).subset(analysed)
    settings = {"tau_max": params["tau_max"], "prep": params["prep"], "by": params["prep_by"],
                "n_boot": n_boot, "random_state": random_state}
    try:
        draws = effect_bootstrap(panel, **settings)
    except DataError as exc:
        if not has_effect:
            raise
        # Only the correlations are needed: the uncorrected VAR needs no half panels.
        logger.info("jackknife half panels unusable (%s); correlations of the effects from the "
                    "uncorrected within-person VAR", exc)
        draws = effect_bootstrap(panel, jackknife=False, **settings)
    if has_effect:
        return use_effects(draws, model.links_, random_state=random_state)
    logger.info("the links have no effect for every lagged link; comparisons and who leads "
                "use the stand-in effects (%s)", draws.label)
    return draws


# ---------------------------------------------------------------- verdicts
def _fmt(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:+.3f}"


@dataclass(frozen=True)
class ComparisonResult:
    """The verdict on one :class:`~causal.hypotheses.spec.Comparison`.

    Attributes
    ----------
    comparison : Comparison
    verdict : {"supported", "contradicted", "inconclusive"}
    difference : float
        ``|effect(stronger)| - |effect(weaker)|`` on the full sample.
    ci_low, ci_high : float
        Percentile cluster-bootstrap interval of the difference at ``ci_level``.
    stronger_effect, weaker_effect : float
        The two effects (signed).
    ci_level : float
        ``1 - 2 * alpha``.
    reason : str
        One sentence.
    """

    comparison: Comparison
    verdict: str
    difference: float
    ci_low: float
    ci_high: float
    stronger_effect: float
    weaker_effect: float
    ci_level: float
    reason: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {list(VERDICTS)}, got {self.verdict!r}")

    def __str__(self) -> str:
        c = self.comparison
        return (f"{c}: {self.verdict.upper()} (difference {_fmt(self.difference)}, "
                f"{100 * self.ci_level:g}% interval [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}])"
                f" - {self.reason}")


def _decide(c: Comparison, diff: float, lo: float, hi: float, strong: float,
            weak: float, level: str) -> tuple[str, str]:
    """Apply the rule of the module docstring; return ``(verdict, reason)``."""
    sc, se, _ = c.stronger_link
    wc, we, _ = c.weaker_link
    pair = (f"|{sc} -> {se}| = {abs(strong):.3f} against |{wc} -> {we}| = {abs(weak):.3f}")
    if any(math.isnan(x) for x in (diff, lo, hi)):
        return "inconclusive", f"an effect could not be estimated ({pair})."
    interval = f"the {level} interval of the difference [{_fmt(lo)}, {_fmt(hi)}]"
    s = c.sesoi
    if lo > 0:
        verdict, reason = "supported", f"{pair}; {interval} lies above zero"
        if s is not None:
            reason += (f" and above the SESOI {s:g}: practically relevant" if lo >= s else
                       f", but inside ±{s:g}: smaller than the SESOI" if hi <= s else
                       f"; whether it exceeds the SESOI {s:g} is unclear")
    elif hi < 0:
        verdict, reason = "contradicted", (f"{pair}; {interval} lies below zero: the link "
                                           "claimed weaker is the stronger one")
        if s is not None:
            reason += (f", by more than the SESOI {s:g}" if hi <= -s else
                       f", by less than the SESOI {s:g}" if lo >= -s else "")
    else:
        verdict, reason = "inconclusive", f"{pair}; {interval} includes zero"
        if s is not None and -s < lo and hi < s:
            reason += f" and lies inside ±{s:g}: the links are equally strong within the SESOI"
    return verdict, reason + "."


@dataclass(frozen=True)
class ComparisonTable(_Judged):
    """Verdicts on a set of comparisons with the settings used.

    ``to_csv`` writes ``comparisons.csv``; ``counts`` gives the number per verdict.
    """

    results: tuple[ComparisonResult, ...]
    alpha: float
    n_boot: int
    label: str = EFFECT_LABEL
    _noun: ClassVar[str] = "comparisons"

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[ComparisonResult]:
        return iter(self.results)

    @classmethod
    def not_estimable(cls, comparisons: Iterable[Comparison], why: str, *,
                      alpha: float = 0.05) -> ComparisonTable:
        """Every comparison inconclusive because the effects could not be estimated.

        Examples
        --------
        >>> t = ComparisonTable.not_estimable(load_comparisons("melsom2023"), "too few weeks")
        >>> t.to_frame()[["verdict", "reason"]].values.tolist()
        [['inconclusive', 'the effects could not be estimated: too few weeks.']]
        """
        nan = math.nan
        results = tuple(ComparisonResult(
            comparison=c, verdict="inconclusive", difference=nan, ci_low=nan, ci_high=nan,
            stronger_effect=nan, weaker_effect=nan, ci_level=1 - 2 * alpha,
            reason=f"the effects could not be estimated: {why.rstrip('.')}.")
            for c in comparisons)
        return cls(results=results, alpha=alpha, n_boot=0)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per comparison, columns :data:`COMPARISON_COLUMNS`."""
        rows = [{"name": r.comparison.name, "stronger": r.comparison.stronger,
                 "weaker": r.comparison.weaker, "lag": r.comparison.lag,
                 "difference": r.difference, "ci_low": r.ci_low, "ci_high": r.ci_high,
                 "verdict": r.verdict, "reason": r.reason} for r in self.results]
        return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS)).astype(
            {"lag": "int64", "difference": float, "ci_low": float, "ci_high": float})

    def __str__(self) -> str:
        counts = _counts_text(self.counts())
        head = (f"Comparison verdicts ({100 * (1 - 2 * self.alpha):g}% intervals from "
                f"{self.n_boot} patient-bootstrap draws): {counts}")
        return "\n".join([head, *(f"  {r}" for r in self.results)])


def check_comparisons(comparisons: Iterable[Comparison], variables: Sequence[str],
                      tau_max: int) -> None:
    """Raise :class:`HypothesisError` if a comparison does not fit the data.

    A link variable that is not among ``variables``, or a lag above
    ``tau_max``, is an error naming the comparison (run it before any heavy
    work).

    Examples
    --------
    >>> check_comparisons(load_comparisons("melsom2023"), ["depression", "mood"], 1)
    Traceback (most recent call last):
    ...
    causal.hypotheses.spec.HypothesisError: comparison 'fear_leads_depression': stronger link \
variable 'fear_others' is not among the discovery variables ['depression', 'mood']; rename the \
data column or the comparison so the names match
    """
    for c in comparisons:
        if not isinstance(c, Comparison):
            raise TypeError(f"expected Comparison objects, got {type(c).__name__}: {c!r}")
        for role, (cause, effect, lag) in (("stronger", c.stronger_link),
                                           ("weaker", c.weaker_link)):
            for var in (cause, effect):
                if var not in variables:
                    raise HypothesisError(
                        f"comparison {c.name!r}: {role} link variable {var!r} is not among the "
                        f"discovery variables {list(variables)}; rename the data column or the "
                        "comparison so the names match")
            if lag > tau_max:
                raise HypothesisError(f"comparison {c.name!r}: lag={lag} exceeds the discovery "
                                      f"tau_max={tau_max}; rerun with tau_max >= {lag}")


def compare(comparisons: Iterable[Comparison] | str | Path, draws: EffectDraws, *,
            alpha: float = 0.05) -> ComparisonTable:
    """Judge each comparison from the effect bootstrap.

    Parameters
    ----------
    comparisons : iterable of Comparison, or str / Path
        The claims, or what :func:`~causal.hypotheses.spec.load_comparisons`
        reads (a preset name or a TOML path).
    draws : EffectDraws
        From :func:`model_effects` (what ``discover`` uses), :func:`use_effects`
        or :func:`effect_bootstrap` on the analysed data.
    alpha : float
        Each one-sided verdict's error rate; the interval has level ``1 - 2 * alpha``.

    Returns
    -------
    ComparisonTable

    Raises
    ------
    HypothesisError
        A comparison names a variable the data lack, or a lag above ``tau_max``.
    """
    if isinstance(comparisons, str | Path):
        comparisons = load_comparisons(comparisons)
    alpha = check_probability("alpha", alpha)
    if alpha >= 0.5:
        raise HypothesisError(f"alpha must be below 0.5 (the interval has level 1 - 2 * alpha), "
                              f"got {alpha:g}")
    level = 1 - 2 * alpha
    results = []
    for c in comparisons:
        check_comparisons([c], draws.variables, draws.tau_max)
        cols = [draws.column(*c.stronger_link), draws.column(*c.weaker_link)]
        strong, weak = (float(draws.estimate[j]) for j in cols)
        diff = abs(strong) - abs(weak)
        reps = np.abs(draws.draws[:, cols[0]]) - np.abs(draws.draws[:, cols[1]])
        reps = reps[~np.isnan(reps)]
        lo, hi = (np.quantile(reps, [alpha, 1 - alpha]) if len(reps) else (math.nan,) * 2)
        verdict, reason = _decide(c, diff, float(lo), float(hi), strong, weak, f"{level:.0%}")
        results.append(ComparisonResult(comparison=c, verdict=verdict, difference=diff,
                                        ci_low=float(lo), ci_high=float(hi),
                                        stronger_effect=strong, weaker_effect=weak,
                                        ci_level=level, reason=reason))
        logger.debug("comparison %s: %s", c.name, verdict)
    return ComparisonTable(results=tuple(results), alpha=alpha, n_boot=draws.n_boot,
                           label=draws.label)


def comparison_section(table: ComparisonTable) -> tuple[str, str]:
    """Return ``(title, markdown)`` of the report section on comparisons."""
    from causal.report import markdown_table

    frame = table.to_frame()
    shown = pd.DataFrame({
        "name": frame["name"],
        "claim": [f"{s} stronger than {w} (lag {k})"
                  for s, w, k in zip(frame["stronger"], frame["weaker"], frame["lag"],
                                     strict=True)],
        "difference": frame["difference"].round(3),
        "ci_low": frame["ci_low"].round(3), "ci_high": frame["ci_high"].round(3),
        "verdict": frame["verdict"]})
    level = f"{100 * (1 - 2 * table.alpha):g}%"
    how = ("normal draws around each `effect` with its own standard error and the correlations "
           "the two links have across patient cluster-bootstrap replicates (their shared data)"
           if table.label == LINKS_EFFECT_LABEL else
           "patient cluster-bootstrap replicates (both effects re-estimated on each, so their "
           "shared data enter)")
    body = (f"Each comparison claims one lagged link is stronger than another. `difference` is "
            f"|effect of the stronger| - |effect of the weaker| on the effect scale: "
            f"{table.label}. Its interval is the {level} percentile interval over "
            f"{table.n_boot} {how}. Supported when the interval lies above zero, contradicted "
            "below, otherwise inconclusive (`docs/hypotheses.md`). All in "
            "`comparisons.csv`.\n\n" + markdown_table(shown) + "\n\nReasons:\n\n"
            + "\n".join(f"- **{r.comparison.name}** - {r.verdict}: {r.reason}" for r in table))
    return "Comparisons", body
