r"""Within-person lagged effect sizes and their small-T bias correction.

PCMCI's MCI statistic is a partial correlation: it decides whether a link is
in the graph, but it is not on the scale of the lagged coefficients that
generate the data. This module estimates those coefficients for the links of a
discovery result (or any requested links), and corrects them for the small-T
(Nickell-type) bias of within-person estimators.

* :func:`within_effects` - the package's ``effect`` (``effect_low``,
  ``effect_high``) of :class:`~causal.discovery.links.Links`: the raw VAR
  below, corrected by inverting its exact large-N limit for the panel's design
  (an analytic binding function; see the function and ``docs/method.md``
  section 5), with patient-cluster intervals. :func:`add_effects` is the hook
  :meth:`~causal.discovery.estimator.PanelPCMCI.fit` calls.
* :func:`lagged_effects` - the uncorrected within-person VAR.
* :func:`jackknife_effects` - the half-panel jackknife, kept for comparison.

Estimator
---------
For every target variable ``k`` the prepared (within-person centered or
detrended, see :mod:`features.transforms`) panel gives the pooled regression

.. math::

    y_{i,t,k} = c_k + \sum_{\ell=1}^{\tau_{max}} \sum_j \beta_{k j \ell}\, y_{i,t-\ell,j}
                + u_{i,t,k},

a within-person VAR(``tau_max``) fitted by least squares
(:class:`sklearn.linear_model.LinearRegression`) on every row whose target and
lags are observed (lags from :func:`features.lags.lag_table`: a missing week is
a missing lag, never the previous available one; no lag crosses a patient or
segment). **Every** variable enters at every lag 1..``tau_max``, whatever links
PCMCI selected: the VAR is the model the simulator uses, and regressing on
PCMCI's selected parents would add post-selection bias to the small-T bias we
want to measure. A requested link ``source(t - lag) -> target(t)`` reports
``beta[target, source, lag]``.

Scale
-----
``scale="standardized"`` (default) multiplies each coefficient by
``sd(source) / sd(target)``, the SDs of the *prepared* scores pooled over
patients: an effect in within-person SD units, the scale of
:meth:`features.simulate.Scenario.truth` (the simulator's VAR runs on a
within-person process with unit stationary variance). ``scale="raw"`` keeps
the units of the instruments (score points of the target per score point of
the source).

Small-T bias and the half-panel jackknife
-----------------------------------------
Centering or detrending a series of ``T`` weeks with a mean (and slope)
estimated from the same weeks correlates the lagged regressors with the
errors; the within estimator of an autoregressive effect ``rho`` is then biased
by about ``-(1 + rho) / (T - 1)`` for centering (Nickell 1981, *Econometrica*
49:1417) and more for detrending, and the bias spreads to cross-lagged
coefficients. The bias is of order ``1/T``, so the half-panel jackknife of
Dhaene & Jochmans (2015, *Rev Econ Stud* 82:991) removes its leading term:

.. math::

    \hat\beta_{1/2} = 2\hat\beta - \tfrac12(\hat\beta_{(1)} + \hat\beta_{(2)}),

where :math:`\hat\beta_{(1)}, \hat\beta_{(2)}` are the same estimator on the
first and the second half of every patient's weeks, each half **re-centered or
re-detrended on its own** (the incidental parameters are re-estimated, which
is what makes the half-panel bias twice the full-panel bias). Halves split
each patient's observed time range ``T_i`` in time; when ``T_i`` is odd the
two possible splits (first half ``floor(T_i / 2)`` or ``ceil(T_i / 2)`` weeks)
are both computed and their half-panel means averaged. The correction costs
variance (two noisy half-panel estimates enter with weight 1/2 and the full
one with weight 2); ``experiments/bias.py`` measures both.

Only the reported effect sizes are corrected: which links are in the graph is
still decided by PCMCI's tests.

Examples
--------
>>> from features.simulate import simulate_cohort
>>> df = simulate_cohort("paper", n_patients=100, n_weeks=13, random_state=3)
>>> raw = lagged_effects(df, [("fear_others", "depression", 1)])
>>> raw.columns.tolist()
['source', 'target', 'lag', 'estimate', 'n_samples']
>>> result = jackknife_effects(df, [("fear_others", "depression", 1)])
>>> result.table.columns.tolist()
['source', 'target', 'lag', 'estimate', 'first_half', 'second_half', 'corrected', 'n_samples']
>>> bool(result.table["estimate"].iloc[0] == raw["estimate"].iloc[0])
True
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.linear_model import LinearRegression

from causal.discovery.engine.bias import MomentBias
from causal.discovery.links import Links, format_link
from features.checks import check_bool, check_probability
from features.choices import PREPS
from features.errors import DataError, InputError, format_value, is_integer
from features.lags import lag_name, lag_table
from features.panel import Panel
from features.transforms import prepare, resolve_prep, resolve_time_effects

__all__ = [
    "EFFECT_COLUMNS",
    "JACKKNIFE_COLUMNS",
    "LINK_EFFECT_COLUMNS",
    "SCALES",
    "TREND_DEGREE",
    "WITHIN_COLUMNS",
    "JackknifeEffects",
    "WithinEffects",
    "WithinFit",
    "add_effects",
    "jackknife_effects",
    "lagged_effects",
    "moment_bias",
    "solve_within",
    "within_effects",
]

logger = logging.getLogger(__name__)

#: Scales of the reported coefficients.
SCALES = ("standardized", "raw")

#: Columns of :func:`lagged_effects`.
EFFECT_COLUMNS = ("source", "target", "lag", "estimate", "n_samples")

#: Columns of :attr:`JackknifeEffects.table`.
JACKKNIFE_COLUMNS = ("source", "target", "lag", "estimate", "first_half", "second_half",
                     "corrected", "n_samples")

LinkSpec = tuple[str, str, int]


# ------------------------------------------------------------------ inputs
def _is_model(obj: Any) -> bool:
    return hasattr(obj, "links_") and hasattr(obj, "panel_") and hasattr(obj, "get_params")


def _check_choice(name: str, value: Any, valid: Sequence[str]) -> str:
    if value not in valid:
        raise ValueError(f"{name} must be one of {list(valid)}, got {value!r}")
    return str(value)


def _check_tau(tau_max: Any) -> int:
    if not is_integer(tau_max) or tau_max < 1:
        raise ValueError(f"tau_max must be an integer >= 1, got {tau_max!r}")
    return int(tau_max)


def _to_panel(data: Panel | pd.DataFrame, tau_max: int, id_col: str, time_col: str,
              variables: Sequence[str] | None) -> Panel:
    """Validate raw data as :class:`~causal.discovery.PanelPCMCI` does (min 2 lagged rows)."""
    if isinstance(data, Panel):
        panel = data if variables is None else data.select(list(variables))
        return panel.drop_short(tau_max, 2)
    if isinstance(data, pd.DataFrame):
        return Panel.from_frame(data, id_col=id_col, time_col=time_col, variables=variables,
                                tau_max=tau_max, min_lagged_rows=2)
    raise ValueError(f"data must be a Panel or a long-format pandas DataFrame, got "
                     f"{type(data).__name__}")


def _requested(links: Any, variables: Sequence[str], tau_max: int) -> list[LinkSpec]:
    """Return the requested ``(source, target, lag)`` triples (lag >= 1), checked."""
    if links is None:
        return [(s, t, lag) for lag in range(1, tau_max + 1) for t in variables for s in variables]
    if _is_model(links):
        links = links.links_
    if isinstance(links, Links):
        sig = links.significant(lagged_only=True)
        triples = list(zip(sig["source"], sig["target"], sig["lag"].astype(int), strict=True))
    elif isinstance(links, pd.DataFrame):
        missing = [c for c in ("source", "target", "lag") if c not in links.columns]
        if missing:
            raise ValueError(f"links table lacks column(s) {missing}; need source, target, lag")
        triples = list(zip(links["source"], links["target"], links["lag"], strict=True))
    elif isinstance(links, Iterable) and not isinstance(links, str):
        triples = []
        for spec in links:
            if isinstance(spec, str) or not isinstance(spec, Sequence) or len(spec) != 3:
                raise ValueError(f"each link must be (source, target, lag), got {spec!r}")
            triples.append(tuple(spec))
    else:
        raise ValueError("links must be None, a Links result, a fitted PanelPCMCI, a DataFrame "
                         "with source, target, lag, or (source, target, lag) triples; got "
                         f"{links!r}")
    out: list[LinkSpec] = []
    for source, target, lag in triples:
        for v in (source, target):
            if v not in variables:
                raise ValueError(f"link ({source!r}, {target!r}, {lag!r}): unknown variable "
                                 f"{v!r}; variables are {list(variables)}")
        if not is_integer(lag) or \
                not 1 <= int(lag) <= tau_max:
            raise ValueError(f"link ({source!r}, {target!r}, {lag!r}): lag must be an integer in "
                             f"1..tau_max={tau_max} (lag-0 links have no lagged effect)")
        spec = (str(source), str(target), int(lag))
        if spec not in out:
            out.append(spec)
    return out


def _resolve(links: Any, tau_max: int | None, prep: str | None,
             by: str | None) -> tuple[int, str, str]:
    """Defaults: from a fitted model or Links given as ``links``, else 1, detrend, patient."""
    model_tau = model_prep = model_by = None
    if _is_model(links):
        params = links.get_params()
        model_tau, model_prep, model_by = params["tau_max"], params["prep"], params["prep_by"]
        model_prep = getattr(links, "prep_", model_prep)  # fitted: "auto" resolved
    elif isinstance(links, Links):
        model_tau = links.tau_max
        model_prep = links.settings.get("prep")
        model_by = links.settings.get("prep_by")
    tau = _check_tau(tau_max if tau_max is not None else (model_tau or 1))
    prep = _check_choice("prep", prep if prep is not None else (model_prep or "detrend"), PREPS)
    by = _check_choice("by", by if by is not None else (model_by or "patient"),
                       ("patient", "segment"))
    return tau, prep, by


def _time_effects(links: Any, panel: Panel, given: bool | None = None) -> bool:
    """``given``, else the time effects the model or Links ``links`` used, else "auto"."""
    if given is not None:
        return bool(check_bool("time_effects", given))
    value = None
    if _is_model(links):
        value = getattr(links, "time_effects_", None)
    elif isinstance(links, Links):
        value = links.settings.get("time_effects")
    return resolve_time_effects(value, panel)


# -------------------------------------------------------------- estimator
def _fit_var(panel: Panel, tau_max: int, scale: str) -> dict[str, tuple[dict[str, float], int]]:
    """Per target: ({predictor column: coefficient}, rows used) of the pooled VAR(tau_max)."""
    table = lag_table(panel, tau_max)
    variables = list(panel.variables)
    predictors = [lag_name(v, lag) for lag in range(1, tau_max + 1) for v in variables]
    sd = {v: float(np.nanstd(panel.data[v].to_numpy(dtype=float))) for v in variables}
    out: dict[str, tuple[dict[str, float], int]] = {}
    for target in variables:
        rows = table[[target, *predictors]].dropna()
        if len(rows) < len(predictors) + 2:
            logger.warning("target %r: %d complete lagged rows for %d predictors; "
                           "coefficients are NaN", target, len(rows), len(predictors))
            out[target] = ({p: np.nan for p in predictors}, len(rows))
            continue
        model = LinearRegression().fit(rows[predictors].to_numpy(), rows[target].to_numpy())
        coefs = dict(zip(predictors, model.coef_.astype(float), strict=True))
        if scale == "standardized":
            for lag in range(1, tau_max + 1):
                for v in variables:
                    name = lag_name(v, lag)
                    coefs[name] = coefs[name] * sd[v] / sd[target] if sd[target] > 0 else np.nan
        out[target] = (coefs, len(rows))
    return out


def _estimates(prepared: Panel, triples: Sequence[LinkSpec], tau_max: int,
               scale: str) -> pd.DataFrame:
    fits = _fit_var(prepared, tau_max, scale)
    rows = [{"source": s, "target": t, "lag": lag, "estimate": fits[t][0][lag_name(s, lag)],
             "n_samples": fits[t][1]} for s, t, lag in triples]
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS)).astype(
        {"lag": "int64", "estimate": "float64", "n_samples": "int64"})


def lagged_effects(data: Any, links: Any = None, *, tau_max: int | None = None,
                   prep: str | None = None, scale: str = "standardized", by: str | None = None,
                   id_col: str = "patient", time_col: str = "week",
                   variables: Sequence[str] | None = None,
                   time_effects: bool | None = None) -> pd.DataFrame:
    """Estimate within-person lagged effects by a pooled within-person VAR(``tau_max``).

    Parameters
    ----------
    data : Panel, pandas.DataFrame or fitted PanelPCMCI
        Raw scores (a validated panel or a long-format frame), transformed
        here with ``prep``; or a fitted :class:`~causal.discovery.estimator.PanelPCMCI`,
        whose already prepared ``panel_`` is used as is (then ``prep`` and
        ``by`` must be left at None and ``tau_max`` defaults to the model's).
    links : None, Links, fitted PanelPCMCI, DataFrame or iterable of triples
        Which ``(source, target, lag)`` links to report: None gives every
        lagged link (autoregressive ones included) up to ``tau_max``; a
        :class:`~causal.discovery.links.Links` result or fitted model gives its
        significant lagged links; a frame needs ``source``, ``target``, ``lag``.
    tau_max : int, optional
        Largest lag of the VAR; default the model's (``links`` or ``data``),
        else 1.
    prep : {"detrend", "center", "none"}, optional
        Within-person preprocessing; default the model's, else ``"detrend"``.
    scale : {"standardized", "raw"}
        See the module docstring.
    by : {"patient", "segment"}, optional
        Grouping of the within-person transform; default the model's, else
        ``"patient"``.
    id_col, time_col, variables
        Used when ``data`` is a DataFrame (``variables`` also selects from a Panel).
    time_effects : bool, optional
        Also remove time means (:func:`features.transforms.prepare`); default
        the model's, else PanelPCMCI's ``"auto"`` (on unless day/beep).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EFFECT_COLUMNS`, one row per requested link, in the
        requested order; ``n_samples`` is the number of rows of the target's
        regression.

    Raises
    ------
    ValueError
        Unknown variables or lags outside ``1..tau_max`` in ``links``, bad
        options, or data that cannot form a panel (:class:`DataError`).
    """
    scale = _check_choice("scale", scale, SCALES)
    if _is_model(data):
        if prep is not None or by is not None:
            raise ValueError("data is a fitted PanelPCMCI whose panel_ is already prepared; "
                             "leave prep and by unset, or pass the raw data instead")
        model_tau = int(data.get_params()["tau_max"])
        tau = _check_tau(tau_max if tau_max is not None else model_tau)
        prepared = data.panel_
    else:
        tau, prep, by = _resolve(links, tau_max, prep, by)
        raw = _to_panel(data, tau, id_col, time_col, variables)
        prepared = prepare(raw, prep, by=by,
                           time_effects=_time_effects(links, raw, time_effects))
    triples = _requested(links, prepared.variables, tau)
    return _estimates(prepared, triples, tau, scale)


# -------------------------------------------------------------- jackknife
def _half_panels(panel: Panel, ceil_first: bool) -> tuple[Panel, Panel]:
    """Split every patient's observed time range into a first and a second half."""
    data = panel.data
    times = data[panel.time_col]
    ids = data[panel.id_col]
    start = times.groupby(ids, sort=False).transform("min")
    length = times.groupby(ids, sort=False).transform("max") - start + 1
    first_len = (length + 1) // 2 if ceil_first else length // 2
    first = (times - start) < first_len
    return panel.with_data(data[first.to_numpy()]), panel.with_data(data[~first.to_numpy()])


@dataclass(frozen=True)
class JackknifeEffects:
    """Raw and half-panel-jackknife corrected within-person lagged effects.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns :data:`JACKKNIFE_COLUMNS`: ``estimate`` on the full panel,
        ``first_half`` / ``second_half`` on the half panels (averaged over the
        two splits of odd series), ``corrected = 2 * estimate - (first_half +
        second_half) / 2`` and the full-panel ``n_samples``.
    tau_max : int
        Lags of the VAR.
    prep, scale, by : str
        Settings used.
    n_patients : int
        Patients in the full panel.
    n_splits : int
        1 when every patient's time range is even, else 2.
    """

    table: pd.DataFrame
    tau_max: int
    prep: str
    scale: str
    by: str
    n_patients: int
    n_splits: int

    def __str__(self) -> str:
        head = (f"Half-panel jackknife (Dhaene & Jochmans 2015) of within-person "
                f"VAR({self.tau_max}) effects: prep={self.prep}, scale={self.scale}, "
                f"{self.n_patients} patients, {self.n_splits} split(s)")
        if self.table.empty:
            return head + "\n  (no links requested)"
        return _render(head, self.table, lambda r: (
            f"raw {r.estimate:+.3f}, corrected {r.corrected:+.3f} (halves "
            f"{r.first_half:+.3f}, {r.second_half:+.3f})"))


def _render(head: str, table: pd.DataFrame, text: Callable[[Any], str]) -> str:
    """``head``, then one line ``  <link>: text(row)`` per row of ``table``."""
    return "\n".join([head, *(f"  {format_link(r.source, r.target, r.lag)}: {text(r)}"
                              for r in table.itertuples(index=False))])


def jackknife_effects(data: Panel | pd.DataFrame, links: Any = None, *,
                      tau_max: int | None = None, prep: str | None = None,
                      scale: str = "standardized", by: str | None = None,
                      id_col: str = "patient", time_col: str = "week",
                      variables: Sequence[str] | None = None,
                      time_effects: bool | None = None) -> JackknifeEffects:
    """Estimate lagged effects and correct them with the half-panel jackknife.

    Parameters
    ----------
    data : Panel or pandas.DataFrame
        **Raw** scores: each half panel must be re-centered or re-detrended on
        its own, so an already prepared panel (``PanelPCMCI.panel_``) cannot
        be used; pass the data the model was fitted on.
    links, tau_max, prep, scale, by, id_col, time_col, variables, time_effects
        As in :func:`lagged_effects`. Passing a fitted
        :class:`~causal.discovery.estimator.PanelPCMCI` as ``links`` reports its
        discovered lagged links with its ``tau_max``, ``prep`` and ``prep_by``.

    Returns
    -------
    JackknifeEffects
        The raw and corrected estimates (see the module docstring).

    Raises
    ------
    ValueError
        As :func:`lagged_effects`; also when ``data`` is a fitted model, or a
        half panel has too few rows to estimate the VAR.
    """
    scale = _check_choice("scale", scale, SCALES)
    if _is_model(data):
        raise ValueError("jackknife_effects needs the raw data (each half is re-prepared); pass "
                         "the data the model was fitted on, and the model as links=")
    tau, prep, by = _resolve(links, tau_max, prep, by)
    panel = _to_panel(data, tau, id_col, time_col, variables)
    triples = _requested(links, panel.variables, tau)
    two_way = _time_effects(links, panel, time_effects)
    full = _estimates(prepare(panel, prep, by=by, time_effects=two_way), triples, tau, scale)
    times = panel.data[panel.time_col]
    span = times.groupby(panel.data[panel.id_col]).agg(lambda t: t.max() - t.min() + 1)
    splits = (False, True) if bool((span % 2 == 1).any()) else (False,)
    halves: list[list[np.ndarray]] = [[], []]
    for ceil_first in splits:
        for h, part in enumerate(_half_panels(panel, ceil_first)):
            try:
                prepared = prepare(part, prep, by=by, time_effects=two_way)
            except DataError as exc:
                raise DataError(f"half panel {h + 1} (split {'ceil' if ceil_first else 'floor'}) "
                                f"cannot be prepared: {exc}") from exc
            est = _estimates(prepared, triples, tau, scale)["estimate"].to_numpy()
            if np.isnan(est).any():
                raise DataError(f"half panel {h + 1}: too few complete lagged rows to estimate "
                                f"the VAR({tau}); the series are too short for the jackknife")
            halves[h].append(est)
    table = full.copy()
    table.insert(4, "first_half", np.mean(halves[0], axis=0))
    table.insert(5, "second_half", np.mean(halves[1], axis=0))
    table.insert(6, "corrected", 2 * table["estimate"] - (table["first_half"]
                                                          + table["second_half"]) / 2)
    result = JackknifeEffects(table=table[list(JACKKNIFE_COLUMNS)], tau_max=tau, prep=prep,
                              scale=scale, by=by, n_patients=panel.n_patients,
                              n_splits=len(splits))
    logger.info("%s", result)
    return result


# ----------------------------------------------------- bias-corrected effects
#: Columns the corrected effects add to a :class:`~causal.discovery.links.Links` table.
LINK_EFFECT_COLUMNS = ("effect", "effect_low", "effect_high")

#: Columns of :attr:`WithinEffects.table`.
WITHIN_COLUMNS = ("source", "target", "lag", "effect", "effect_low", "effect_high", "se", "raw",
                  "n_samples")

#: Within transforms with a closed-form map: the degree of the per-group polynomial
#: trend they remove (0 = person mean, 1 = linear trend). Other linear trend models
#: (:data:`features.transforms.PREPS`) have their map probed from the raw scores.
TREND_DEGREE = {"center": 0, "detrend": 1}

_MAX_NEWTON = 50
#: Longest time grid for which the map of a trend model is probed (L prepare calls, O(G L^3)).
_MAX_PROBE_LENGTH = 120
#: Trend models with a data-searched change point (features.trends): their map depends on
#: the search, which the exact binding function cannot follow, so they get no effect.
_SEARCHED_PREPS = ("changepoint", "piecewise")
#: Largest share of patients left out because their trend model is not linear in their scores.
_MAX_LEFT_OUT = 0.05
_TOL = 1e-10


@dataclass(frozen=True)
class _Design:
    """A prepared panel on per-group time grids, with what the correction needs.

    ``z`` (G, L, k): prepared values, 0 where unobserved; ``obs`` (G, L, k);
    ``rows`` (k, G, L): the rows of each target's regression; ``pred``
    (G, L, k * p): the lagged predictors (lag-major: lag 1 of every variable,
    then lag 2, ...); ``weights_xx`` (k, kp, kp, 2L - 1), ``weights_xy``
    (k, kp, 2L - 1) and ``weights_0`` (k, k, 2L - 1): the design weights of
    the expected moments (see :func:`_expected_moments`); ``cluster`` (G,):
    patient code of each group.
    """

    z: np.ndarray
    obs: np.ndarray
    rows: np.ndarray
    pred: np.ndarray
    weights_xx: np.ndarray
    weights_xy: np.ndarray
    weights_0: np.ndarray
    cluster: np.ndarray
    tau_max: int
    block: np.ndarray


def _positions(panel: Panel, by: str) -> tuple[np.ndarray, np.ndarray]:
    """Per row: its group code and its position on the group's time grid."""
    data = panel.data
    groups = [panel.id_col] if by == "patient" else panel.block_cols
    gcode = data.groupby(groups, sort=False).ngroup().to_numpy()
    times = data[panel.time_col].to_numpy(dtype=np.int64)
    start = np.full(int(gcode.max()) + 1, np.iinfo(np.int64).max)
    np.minimum.at(start, gcode, times)
    return gcode, times - start[gcode]


def _grids(panel: Panel, by: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lay the panel on per-group time grids: values, observed, block code, patient code."""
    data = panel.data
    gcode, pos = _positions(panel, by)
    bcode = data.groupby(panel.block_cols, sort=False).ngroup().to_numpy()
    pcode = data.groupby(panel.id_col, sort=False).ngroup().to_numpy()
    n_groups = int(gcode.max()) + 1
    length = int(pos.max()) + 1
    k = len(panel.variables)
    values = data[list(panel.variables)].to_numpy(dtype=float, na_value=np.nan)
    z = np.zeros((n_groups, length, k))
    obs = np.zeros((n_groups, length, k), dtype=bool)
    block = np.full((n_groups, length), -1, dtype=np.int64)
    seen = ~np.isnan(values)
    z[gcode, pos] = np.where(seen, values, 0.0)
    obs[gcode, pos] = seen
    block[gcode, pos] = bcode
    cluster = np.zeros(n_groups, dtype=np.int64)
    cluster[gcode] = pcode
    return z, obs, block, cluster


def _trend_factors(obs: np.ndarray, degree: int) -> np.ndarray:
    """(G, k, L, q): orthonormal factors ``U`` of each group's fitted-trend projection.

    The within transform maps a group's raw series ``y`` (on its time grid) to
    ``M y`` with ``M = D - U U'``: ``D`` is the observed-week indicator and
    ``U U' = D B (B' D B)^+ B' D`` projects on the polynomial trend basis ``B``
    (degree 0: the mean, 1: a straight line) over the observed weeks. This is
    exactly what :func:`features.transforms.center` and
    :func:`~features.transforms.detrend` compute; unobserved weeks give zero
    rows and columns.
    """
    length = obs.shape[1]
    t = np.arange(length, dtype=float)
    t = (t - t.mean()) / max(t.std(), 1.0)
    basis = np.stack([t ** d for d in range(degree + 1)], axis=1)  # (L, q)
    bo = obs.transpose(0, 2, 1)[..., None] * basis  # (G, k, L, q)
    gram = np.einsum("gklq,gklr->gkqr", bo, bo)
    w, v = np.linalg.eigh(gram)
    keep = w > 1e-10 * np.maximum(w.max(axis=-1, keepdims=True), 1e-300)
    inv_sqrt = np.where(keep, 1 / np.sqrt(np.where(keep, w, 1.0)), 0.0)
    return bo @ (v * inv_sqrt[..., None, :]) @ v.transpose(0, 1, 3, 2)


def _annihilators(obs: np.ndarray, degree: int) -> np.ndarray:
    """(G, k, L, L): the dense ``M = D - U U'`` of :func:`_trend_factors` (for checks)."""
    u = _trend_factors(obs, degree)
    d = obs.transpose(0, 2, 1).astype(float)
    return d[..., None] * np.eye(obs.shape[1]) - u @ u.transpose(0, 1, 3, 2)


def _shift(x: np.ndarray, lag: int, axis: int) -> np.ndarray:
    """Shift ``x`` along ``axis`` so that entry t holds old entry t - lag (zero-filled).

    A negative ``lag`` shifts the other way (entry t holds old entry t + |lag|).
    """
    out = np.zeros_like(x)
    n = x.shape[axis]
    if abs(lag) < n:
        src = [slice(None)] * x.ndim
        dst = [slice(None)] * x.ndim
        src[axis] = slice(0, n - lag) if lag >= 0 else slice(-lag, None)
        dst[axis] = slice(lag, None) if lag >= 0 else slice(0, n + lag)
        out[tuple(dst)] = x[tuple(src)]
    return out


#: Series longer than this use FFT cross-correlations in :class:`_DiagSums`.
_FFT_LENGTH = 48


def _diag_sums(w: np.ndarray) -> np.ndarray:
    """Sum the last two (L, L) axes along diagonals: out[..., h + L - 1] = sum_{u - w = h}."""
    length = w.shape[-1]
    u, v = np.indices((length, length))
    onehot = np.zeros((length * length, 2 * length - 1))
    onehot[np.arange(length * length), (u - v).ravel() + length - 1] = 1.0
    return w.reshape(*w.shape[:-2], length * length) @ onehot


def _xcorr_sum(f: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Sum over all but the first and last axes of the cross-correlation of ``f`` and ``g``.

    ``f``, ``g`` have shape (P, ..., L); returns (P, 2L - 1) with index
    ``h + L - 1`` holding ``sum_w f[w + h] g[w]``: directly for short series,
    through the FFT for long ones.
    """
    n = f.shape[-1]
    f = f.reshape(f.shape[0], -1, n)
    g = g.reshape(g.shape[0], -1, n)
    if n <= _FFT_LENGTH:
        return _diag_sums(f.transpose(0, 2, 1) @ g)
    nfft = int(2 ** np.ceil(np.log2(2 * n - 1)))
    spec = np.einsum("pmf,pmf->pf", np.fft.rfft(f, n=nfft), np.fft.rfft(g, n=nfft).conj())
    corr = np.fft.irfft(spec, n=nfft)
    return np.concatenate([corr[:, nfft - (n - 1):], corr[:, :n]], axis=1)


class _DiagSums:
    """Sums over groups of the diagonal sums of ``W = sum_t r_t P_a[t]' P_b[t]``.

    ``P_a`` has rows ``M_a[t - l]`` (the predictor ``a`` at lag ``l``, or the
    target at lag 0) and ``c[h] = sum_{u - w = h} W[u, w]`` for
    ``|h| < L``. With ``M = D - U U'`` the four terms of ``W`` are a shifted
    diagonal and three low-rank products whose diagonal sums are
    cross-correlations (:func:`_xcorr_sum`): O(G L^2) per pair, or
    O(G L log L) for long series, instead of O(G L^3). Vectorized over pairs.
    """

    def __init__(self, obs: np.ndarray, u: np.ndarray, max_lag: int) -> None:
        self.length = obs.shape[1]
        self.max_lag = int(max_lag)
        shifts = range(-self.max_lag, self.max_lag + 1)
        self.d = obs.transpose(0, 2, 1).astype(float)  # (G, k, L)
        u = u.transpose(0, 1, 3, 2)  # (G, k, q, L): time last
        self.u = u
        self.d_shift = np.stack([_shift(self.d, s, 2) for s in shifts])  # (2p + 1, G, k, L)
        self.u_shift = np.stack([_shift(u, s, 3) for s in shifts])  # (2p + 1, G, k, q, L)

    def __call__(self, r: np.ndarray, pairs: Sequence[tuple[int, int, int, int]]) -> np.ndarray:
        """Diagonal sums (n_pairs, 2L - 1) for rows weighted by ``r`` (G, L).

        Each pair is ``(a, lag_a, b, lag_b)``; index ``h + L - 1`` holds ``c[h]``.
        """
        n, p = self.length, self.max_lag
        a, la, b, lb = (np.array(x, dtype=np.int64) for x in zip(*pairs, strict=True))
        r_shift = np.stack([_shift(r, s, 1) for s in range(-p, p + 1)])  # (2p + 1, G, L)
        g = np.arange(r.shape[0])[None, :]
        ua = self.u[:, a].transpose(1, 0, 2, 3)  # (P, G, q, L)
        ub = self.u[:, b].transpose(1, 0, 2, 3)
        # Term 2: -D(X, U_b), X[u] = r_{u + la} d_a(u) U_b[u + la - lb].
        xa = r_shift[-la + p] * self.d[:, a].transpose(1, 0, 2)  # (P, G, L)
        x = xa[:, :, None] * self.u_shift[(lb - la + p)[:, None], g, b[:, None]]
        # Term 3: -D(U_a, Y), Y[w] = r_{w + lb} d_b(w) U_a[w + lb - la].
        yb = r_shift[-lb + p] * self.d[:, b].transpose(1, 0, 2)
        y = yb[:, :, None] * self.u_shift[(la - lb + p)[:, None], g, a[:, None]]
        # Term 4: D(U_a, C U_b) with C = sum_t r_t U_a[t - la] U_b[t - lb]'.
        ua_l = self.u_shift[(la + p)[:, None], g, a[:, None]] * r[None, :, None, :]
        c = ua_l @ self.u_shift[(lb + p)[:, None], g, b[:, None]].transpose(0, 1, 3, 2)
        ubc = c @ ub  # (P, G, q, L)
        out = _xcorr_sum(np.concatenate([-x, -ua, ua], axis=2),
                         np.concatenate([ub, y, ubc], axis=2))
        # Term 1: sum_t r_t d_a(t - la) d_b(t - lb), at h = lb - la.
        t1 = (self.d_shift[(la + p)[:, None], g, a[:, None]]
              * self.d_shift[(lb + p)[:, None], g, b[:, None]] * r).sum(axis=(1, 2))
        h = lb - la
        ok = np.abs(h) < n
        out[np.flatnonzero(ok), h[ok] + n - 1] += t1[ok]
        return out


def _probe(raw: Panel, prep: str, by: str, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the prepared grid (G, L, k) and the maps (G, k, L, L) probed with ``eps``."""
    variables = list(raw.variables)
    _, pos = _positions(raw, by)
    values = raw.data[variables].to_numpy(dtype=float, na_value=np.nan)
    base, _, _, _ = _grids(prepare(raw, prep, by=by), by)
    n_groups, length, k = base.shape
    maps = np.zeros((n_groups, k, length, length))
    for t in range(length):
        data = raw.data.copy()
        data[variables] = values + eps * (pos == t)[:, None]
        bumped, _, _, _ = _grids(prepare(raw.with_data(data), prep, by=by), by)
        maps[:, :, :, t] = ((bumped - base) / eps).transpose(0, 2, 1)
    return base, maps


def _probed_maps(raw: Panel, prepared: Panel, prep: str, by: str,
                 time_effects: bool = False) -> tuple[np.ndarray, list] | None:
    """(G, k, L, L): the within transform's linear map per group, by probing ``prepare``.

    For trend models other than :data:`TREND_DEGREE` the map is read off
    :func:`features.transforms.prepare` itself: column ``t`` of every group's
    map is the change of the prepared scores when the raw score at grid
    position ``t`` is nudged (all groups and measures at once; each group is
    transformed on its own). For least-squares trend models this is exact;
    for models with a searched change point it is the map with the change
    points found in the data held fixed. A nudge can tip a near-tied search
    to another week; such a group's map does not reproduce its prepared
    scores (``M y != z``), and it is probed again with the nudge reversed.
    A group whose transform jumps under any nudge (e.g. a change-point search
    swayed by a measure that is constant for the patient) is not linear in
    its scores: its patients are returned as the second element, to be left
    out. Returns None when the transform cannot be reproduced at all.
    With ``time_effects`` the prepared panel also had its time means removed
    (a cohort-level step whose effect on the moments is of order 1/N): the
    per-patient map is probed and checked against the trend model alone.
    """
    raw = raw.subset(prepared.patients)
    if raw.n_rows != prepared.n_rows:
        return None
    if time_effects:
        prepared = prepare(raw, prep, by=by)
        if prepared.n_rows != raw.n_rows:
            return None
    z0, obs0, _, cluster = _grids(prepared, by)
    values = raw.data[list(prepared.variables)].to_numpy(dtype=float, na_value=np.nan)
    scale = np.nanstd(values, axis=0)
    eps = 1e-4 * np.where(scale > 0, scale, 1.0)
    tol = 1e-6 * float(np.max(np.where(scale > 0, scale, 1.0)))
    raw_grid, _, _, _ = _grids(raw, by)
    base, maps = _probe(raw, prep, by, eps)
    if base.shape != z0.shape or np.abs(base - z0).max() > tol:
        return None

    def misfit(m: np.ndarray, z_raw: np.ndarray, z_prep: np.ndarray) -> np.ndarray:
        return np.abs(np.einsum("gkuw,gwk->guk", m, z_raw) - z_prep).max(axis=(1, 2)) > tol

    bad = misfit(maps, raw_grid, z0)
    if bad.any():
        patients = np.asarray(prepared.patients)[np.unique(cluster[bad])]
        again = np.flatnonzero(np.isin(cluster, np.unique(cluster[bad])))  # their groups
        sub = raw.subset(patients)
        _, sub_maps = _probe(sub, prep, by, -eps)
        n_sub = sub_maps.shape[2]
        maps[again] = 0.0
        maps[again, :, :n_sub, :n_sub] = sub_maps
        bad = np.zeros_like(bad)
        bad[again] = misfit(maps[again], raw_grid[again], z0[again])
    maps *= obs0.transpose(0, 2, 1)[..., None]  # rows of unobserved prepared scores are zero
    left_out = (np.asarray(prepared.patients)[np.unique(cluster[bad])].tolist() if bad.any()
                else [])
    return maps, left_out


def _dense_weights(maps: np.ndarray, rows: np.ndarray, obs: np.ndarray,
                   tau_max: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Design weights from dense per-group maps (G, k, L, L): O(G L^3), for short series."""
    n_groups, k, length, _ = maps.shape
    p = int(tau_max)
    kp = k * p
    prow = np.concatenate([_shift(maps, lag, 2) for lag in range(1, p + 1)], axis=1)
    flat_p = prow.transpose(0, 2, 1, 3).reshape(n_groups * length, kp * length)
    flat_m = maps.transpose(0, 2, 1, 3).reshape(n_groups * length, k * length)
    wxx = np.empty((k, kp, kp, length, length))
    wxy = np.empty((k, kp, length, length))
    for j in range(k):
        weighted = flat_p * rows[j].reshape(-1, 1)
        wxx[j] = (weighted.T @ flat_p).reshape(kp, length, kp, length).transpose(0, 2, 1, 3)
        wxy[j] = (weighted.T @ flat_m[:, j * length:(j + 1) * length]).reshape(
            kp, length, length)
    w0 = np.empty((k, k, length, length))
    for a in range(k):
        ma = flat_m[:, a * length:(a + 1) * length]
        for b in range(a, k):
            both = (obs[:, :, a] & obs[:, :, b]).reshape(-1, 1)
            w0[a, b] = (ma * both).T @ flat_m[:, b * length:(b + 1) * length]
            w0[b, a] = w0[a, b].T
    return _diag_sums(wxx), _diag_sums(wxy), _diag_sums(w0)


def _design(panel: Panel, prep: str, by: str, tau_max: int,
            maps: np.ndarray | None = None) -> _Design:
    z, obs, block, cluster = _grids(panel, by)
    n_groups, length, k = z.shape
    p = int(tau_max)
    # Rows with every predictor observed at lags 1..p within the same block.
    pred_ok = block >= 0
    preds = []
    for lag in range(1, p + 1):
        same = _shift(block, lag, 1) == block
        same[:, :lag] = False
        pred_ok &= same & _shift(obs, lag, 1).all(axis=2)
        preds.append(_shift(z, lag, 1))
    pred = np.concatenate(preds, axis=2)  # (G, L, k p), lag-major
    rows = np.stack([obs[:, :, j] & pred_ok for j in range(k)])  # (k, G, L)
    if maps is not None:
        wxx, wxy, w0 = _dense_weights(maps, rows, obs, p)
        return _Design(z=z, obs=obs, rows=rows, pred=pred, weights_xx=wxx, weights_xy=wxy,
                       weights_0=w0, cluster=cluster, tau_max=p, block=block)
    sums = _DiagSums(obs, _trend_factors(obs, TREND_DEGREE[prep]), p)
    columns = [(v, lag) for lag in range(1, p + 1) for v in range(k)]
    kp, width = k * p, 2 * length - 1
    upper = [(i1, i2) for i1 in range(kp) for i2 in range(i1, kp)]
    wxx = np.empty((k, kp, kp, width))
    wxy = np.empty((k, kp, width))
    for j in range(k):
        pairs = [(*columns[i1], *columns[i2]) for i1, i2 in upper]
        pairs += [(*col, j, 0) for col in columns]
        out = sums(rows[j].astype(float), pairs)
        for n_pair, (i1, i2) in enumerate(upper):
            wxx[j, i1, i2] = out[n_pair]
            wxx[j, i2, i1] = out[n_pair][::-1]
        wxy[j] = out[len(upper):]
    # Lag-0 moments: M rows are zero where a variable is unobserved, so every row counts.
    same_time = [(a, 0, b, 0) for a in range(k) for b in range(a, k)]
    out0 = sums(np.ones((n_groups, length)), same_time)
    w0 = np.empty((k, k, width))
    for n_pair, (a, _, b, _) in enumerate(same_time):
        w0[a, b] = out0[n_pair]
        w0[b, a] = out0[n_pair][::-1]
    return _Design(z=z, obs=obs, rows=rows, pred=pred, weights_xx=wxx, weights_xy=wxy,
                   weights_0=w0, cluster=cluster, tau_max=p, block=block)


def _autocov(a: np.ndarray, sigma_basis: np.ndarray, length: int) -> np.ndarray | None:
    """Per innovation-covariance basis element: Gamma(h) = E[y_{t+h} y_t'] for |h| < length.

    Returns (n_basis, 2 * length - 1, k, k), index ``h + length - 1``, or None
    when the VAR with coefficients ``a`` (k, k p) is not stationary.
    """
    k, kp = a.shape
    comp = np.zeros((kp, kp))
    comp[:k] = a
    comp[k:, :-k] = np.eye(kp - k)
    if np.max(np.abs(np.linalg.eigvals(comp))) >= 0.999:
        return None
    nb = sigma_basis.shape[0]
    q = np.zeros((nb, kp, kp))
    q[:, :k, :k] = sigma_basis
    lhs = np.eye(kp * kp) - np.kron(comp, comp)
    g0 = np.linalg.solve(lhs, q.reshape(nb, -1).T).T.reshape(nb, kp, kp)
    out = np.empty((nb, 2 * length - 1, k, k))
    cur = g0
    for h in range(length):
        block = cur[:, :k, :k]
        out[:, length - 1 + h] = block
        out[:, length - 1 - h] = block.transpose(0, 2, 1)
        cur = comp @ cur
    return out


def _sym_basis(k: int) -> np.ndarray:
    pairs = [(a, b) for a in range(k) for b in range(a, k)]
    basis = np.zeros((len(pairs), k, k))
    for n, (a, b) in enumerate(pairs):
        basis[n, a, b] = basis[n, b, a] = 1.0
    return basis


@dataclass(frozen=True)
class _Moments:
    """Sample moments of the prepared panel: per-target X'X, X'y, and the lag-0 Z'Z."""

    xx: np.ndarray  # (k, kp, kp)
    xy: np.ndarray  # (k, kp)
    zz: np.ndarray  # (k, k)


def _sample_moments(d: _Design) -> _Moments:
    rw = d.rows.astype(float)
    xx = np.einsum("kgt,gti,gtj->kij", rw, d.pred, d.pred, optimize=True)
    xy = np.einsum("kgt,gti,gtk->ki", rw, d.pred, d.z, optimize=True)
    zz = np.einsum("gta,gtb->ab", d.z, d.z)
    return _Moments(xx=xx, xy=xy, zz=zz)


class _Binding:
    """The large-N limit of the within-person VAR estimator, given the true coefficients.

    For coefficients ``a`` the innovation covariance is the one whose implied
    lag-0 moments of the prepared scores match the sample's (it enters the
    moments linearly), and the binding function is ``E[X'X]^{-1} E[X'y]`` per
    target, the expectations exact for this panel's design (weeks, missing
    values, trend model).
    """

    def __init__(self, d: _Design, moments: _Moments) -> None:
        self.d = d
        self.k = d.z.shape[2]
        self.length = d.z.shape[1]
        self.basis = _sym_basis(self.k)
        iu = np.triu_indices(self.k)
        self.iu = iu
        self.target_zz = moments.zz[iu]
        kp = self.k * d.tau_max
        self.var_of = np.arange(kp) % self.k

    def gamma(self, a: np.ndarray) -> np.ndarray | None:
        """Gamma(h) (2L - 1, k, k) implied by ``a`` and the matched innovation covariance."""
        g = _autocov(a, self.basis, self.length)
        if g is None:
            return None
        # Expected lag-0 moments for each basis element: sum_h w0[a, b, h] G_b[h, a, b].
        e0 = np.einsum("abh,nhab->nab", self.d.weights_0, g)[:, self.iu[0], self.iu[1]]
        try:
            sigma = np.linalg.solve(e0.T, self.target_zz)
        except np.linalg.LinAlgError:
            return None
        return np.tensordot(sigma, g, axes=1)

    def __call__(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Return (binding coefficients (k, k p), Gamma) or None if not stationary."""
        g = self.gamma(a)
        if g is None:
            return None
        v = self.var_of
        gx = g[:, v[:, None], v[None, :]]  # (H, kp, kp)
        exx = np.einsum("kijh,hij->kij", self.d.weights_xx, gx)
        gy = g[:, v, :]  # (H, kp, k)
        exy = np.einsum("kih,hik->ki", self.d.weights_xy, gy)
        try:
            b = np.linalg.solve(exx, exy[..., None])[..., 0]
        except np.linalg.LinAlgError:
            return None
        return b, g


def _jacobian(f: _Binding, a: np.ndarray, base: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Return the Jacobian d vec(binding) / d vec(a) by forward differences."""
    n = a.size
    jac = np.empty((n, n))
    for i in range(n):
        da = a.copy().ravel()
        da[i] += step
        out = f(da.reshape(a.shape))
        if out is None:
            da[i] -= 2 * step
            out = f(da.reshape(a.shape))
            jac[:, i] = (base.ravel() - out[0].ravel()) / step
        else:
            jac[:, i] = (out[0].ravel() - base.ravel()) / step
    return jac


def _invert(f: _Binding, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Solve binding(a) = target by a damped chord (fixed-Jacobian Newton) iteration.

    Returns (a, Jacobian at a, Gamma) or None when no stationary solution is found.
    """
    a = target.copy()
    out = f(a)
    if out is None:
        return None
    jac = _jacobian(f, a, out[0])
    for it in range(_MAX_NEWTON):
        b, g = out
        resid = b - target
        if np.max(np.abs(resid)) < _TOL:
            return a, _jacobian(f, a, b), g
        if it and it % 10 == 0:
            jac = _jacobian(f, a, b)
        step = np.linalg.solve(jac, resid.ravel()).reshape(a.shape)
        size = 1.0
        while size > 1e-4:
            trial = a - size * step
            new = f(trial)
            if new is not None and np.max(np.abs(new[0] - target)) < np.max(np.abs(resid)):
                a, out = trial, new
                break
            size /= 2
        else:
            return None
    return None


def _cluster_cov(d: _Design, moments: _Moments, coef: np.ndarray) -> np.ndarray:
    """Patient-cluster sandwich covariance of the raw VAR coefficients, vec'd by target."""
    k, kp = coef.shape
    fitted = np.einsum("gti,ki->kgt", d.pred, coef)
    resid = (d.z.transpose(2, 0, 1) - fitted) * d.rows  # (k, G, L)
    scores = np.einsum("kgt,gti->gki", resid, d.pred)  # (G, k, kp)
    n_clusters = int(d.cluster.max()) + 1
    per = np.zeros((n_clusters, k * kp))
    np.add.at(per, d.cluster, scores.reshape(len(scores), -1))
    meat = per.T @ per * n_clusters / max(n_clusters - 1, 1)
    bread = np.zeros((k * kp, k * kp))
    for j in range(k):
        sl = slice(j * kp, (j + 1) * kp)
        bread[sl, sl] = np.linalg.inv(moments.xx[j])
    return bread @ meat @ bread.T


def _nan_table(variables: Sequence[str], tau_max: int) -> pd.DataFrame:
    rows = [{"source": s, "target": t, "lag": lag} for lag in range(1, tau_max + 1)
            for t in variables for s in variables]
    out = pd.DataFrame(rows, columns=["source", "target", "lag"])
    for col in WITHIN_COLUMNS[3:-1]:
        out[col] = np.nan
    out["n_samples"] = 0
    return out.astype({"lag": "int64", "n_samples": "int64"})


@dataclass(frozen=True, eq=False)
class WithinFit:
    """A solved bias-corrected within-person VAR (package-internal; see :func:`solve_within`).

    ``design`` and ``moments``: the prepared panel's design and sample moments;
    ``raw`` / ``coef`` (k, k p): the uncorrected and corrected coefficients;
    ``jac``: the binding function's Jacobian at ``coef``; ``gamma``
    (2L - 1, k, k): the implied autocovariances of the within-person process;
    ``maps`` (G, k, L, L): the probed transform maps, or None with ``degree``
    the polynomial degree of a closed-form trend (:data:`TREND_DEGREE`);
    ``n_rows`` (k,): rows of each target's regression; ``remark``: patients
    left out, if any.
    """

    design: _Design
    moments: _Moments
    raw: np.ndarray
    coef: np.ndarray
    jac: np.ndarray
    gamma: np.ndarray
    maps: np.ndarray | None
    degree: int | None
    n_rows: np.ndarray
    variables: tuple[str, ...]
    remark: str | None


def _solve(prepared: Panel, prep: str, by: str, tau_max: int, standardized: bool = False,
           raw: Panel | None = None, probe: bool = False,
           time_effects: bool = False) -> tuple[WithinFit | None, str | None]:
    """Solve the bias-corrected within-person VAR of a prepared panel; (fit, why None).

    ``raw`` (the panel before the within transform) is needed for trend models
    outside :data:`TREND_DEGREE`, whose linear map is probed
    (:func:`_probed_maps`); ``probe=True`` probes those too (for checks).
    ``time_effects``: the prepared panel also had its time means removed
    (:func:`features.transforms.remove_time_means`); the correction treats
    them as known (their estimation error is of order 1/N, the short-panel
    bias of order 1/T).
    """
    variables = list(prepared.variables)
    k, p = len(variables), int(tau_max)
    remark = None
    if prep == "none":
        return None, ("prep='none' removes no within-person mean or trend, so the scores "
                       "are not within-person deviations; no effect is estimated")
    if standardized:
        return None, ("within-person standardization is not a linear transform; the "
                       "correction needs standardize=False")
    gcode, pos = _positions(prepared, by)
    if pd.Series(gcode * (int(pos.max()) + 1) + pos).duplicated().any():
        return None, ("the time steps restart within a transform group (a day/beep design "
                       "whose days share beep numbers, or segments with overlapping times); "
                       "the correction needs one time line per group (use prep_by='segment' "
                       "for per-segment trends)")
    if prep in _SEARCHED_PREPS:
        return None, (f"prep={prep!r} searches each patient's change point in the data; "
                       "holding the searched week fixed under-corrects the short-panel bias "
                       "(autoregression bias -0.13 instead of -0.44 at 226 x 13), so no "
                       "effect is reported")
    maps = None
    if probe or prep not in TREND_DEGREE:
        if raw is None:
            return None, (f"the correction for prep={prep!r} reads the transform's linear "
                           "map off the raw scores; pass the raw data")
        length = int(_positions(prepared, by)[1].max()) + 1
        if length > _MAX_PROBE_LENGTH:
            return None, (f"the correction for prep={prep!r} is limited to series of at most "
                           f"{_MAX_PROBE_LENGTH} time steps (here {length})")
        probed = _probed_maps(raw, prepared, prep, by, time_effects)
        if probed is None:
            return None, (f"prep={prep!r} applied to the raw scores did not reproduce the "
                           "prepared panel, so its linear map is unknown")
        maps, left_out = probed
        if len(left_out) > _MAX_LEFT_OUT * prepared.n_patients:
            return None, (f"the {prep} transform is not linear in the scores of "
                           f"{len(left_out)} of {prepared.n_patients} patients")
        if left_out:
            _, _, _, cluster = _grids(prepared, by)
            keep_codes = np.flatnonzero(~np.isin(np.asarray(prepared.patients), left_out))
            prepared = prepared.subset([p_ for p_ in prepared.patients if p_ not in left_out])
            length = int(_positions(prepared, by)[1].max()) + 1
            maps = maps[np.isin(cluster, keep_codes)][:, :, :length, :length]
            remark = (f"{len(left_out)} patient(s) left out: the {prep} transform is not "
                      f"linear in their scores (ids {format_value(left_out[:5])})")
            logger.warning("within-person effects: %s", remark)
    d = _design(prepared, prep, by, p, maps)
    moments = _sample_moments(d)
    n_rows = d.rows.sum(axis=(1, 2))
    if (n_rows < k * p + 2).any():
        return None, "too few complete lagged rows for the within-person VAR"
    try:
        raw_coef = np.linalg.solve(moments.xx, moments.xy[..., None])[..., 0]  # (k, kp)
    except np.linalg.LinAlgError:
        return None, "the lagged predictors are collinear"
    binding = _Binding(d, moments)
    solved = _invert(binding, raw_coef)
    if solved is None:
        return None, ("the bias correction did not converge (the corrected VAR would not be "
                       "stationary)")
    coef, jac, gamma = solved
    return WithinFit(design=d, moments=moments, raw=raw_coef, coef=coef, jac=jac, gamma=gamma,
                     maps=maps, degree=TREND_DEGREE.get(prep) if maps is None else None,
                     n_rows=n_rows, variables=tuple(variables), remark=remark), None


def _table(fit: WithinFit, ci_level: float) -> pd.DataFrame:
    """Build the :data:`WITHIN_COLUMNS` table of a solved fit: effects, intervals, raw."""
    d, moments, raw, coef, jac, gamma = (fit.design, fit.moments, fit.raw, fit.coef, fit.jac,
                                         fit.gamma)
    variables, n_rows = list(fit.variables), fit.n_rows
    k, p = len(variables), d.tau_max
    cov_raw = _cluster_cov(d, moments, raw)
    jinv = np.linalg.inv(jac)
    se = np.sqrt(np.clip(np.diag(jinv @ cov_raw @ jinv.T), 0, None)).reshape(coef.shape)
    sd = np.sqrt(np.diag(gamma[d.z.shape[1] - 1]))
    z = float(norm.ppf(0.5 + ci_level / 2))
    src = np.arange(k * p) % k
    scale = sd[src][None, :] / sd[:, None]  # (k targets, kp)
    eff, s_eff, r_eff = coef * scale, se * scale, raw * scale
    out = []
    for lag in range(1, p + 1):
        for ti, t in enumerate(variables):
            for si, s in enumerate(variables):
                j = (lag - 1) * k + si
                out.append({"source": s, "target": t, "lag": lag, "effect": eff[ti, j],
                            "effect_low": eff[ti, j] - z * s_eff[ti, j],
                            "effect_high": eff[ti, j] + z * s_eff[ti, j], "se": s_eff[ti, j],
                            "raw": r_eff[ti, j], "n_samples": int(n_rows[ti])})
    result = pd.DataFrame(out, columns=list(WITHIN_COLUMNS)).astype(
        {"lag": "int64", "n_samples": "int64"})
    result.attrs["remark"] = fit.remark
    return result


def _within(prepared: Panel, prep: str, by: str, tau_max: int, ci_level: float,
            standardized: bool = False, raw: Panel | None = None,
            probe: bool = False) -> tuple[pd.DataFrame, str | None]:
    """Corrected effects of every lagged link of a prepared panel; (table, why NaN or None)."""
    fit, note = _solve(prepared, prep, by, tau_max, standardized, raw, probe)
    if fit is None:
        return _nan_table(prepared.variables, tau_max), note
    return _table(fit, ci_level), None


@dataclass(frozen=True)
class WithinEffects:
    """Bias-corrected standardized within-person lagged effects.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns :data:`WITHIN_COLUMNS`, one row per requested link:
        ``effect`` (corrected, within-person SD units), ``effect_low`` /
        ``effect_high`` (its ``ci_level`` interval), ``se`` (patient-cluster
        standard error), ``raw`` (the uncorrected within-person VAR coefficient
        on the same scale) and ``n_samples`` (rows of the target's regression).
        All NaN when the correction is not available (see ``note``).
    tau_max : int
        Lags of the VAR.
    prep, by : str
        The within transform and its grouping.
    ci_level : float
        Level of the interval.
    n_patients : int
        Patients (clusters) in the panel.
    note : str or None
        Why the effects are NaN, or None.
    """

    table: pd.DataFrame
    tau_max: int
    prep: str
    by: str
    ci_level: float
    n_patients: int
    note: str | None = None

    def __str__(self) -> str:
        head = (f"Within-person effects, corrected for short-panel bias (exact large-N binding "
                f"function, VAR({self.tau_max}), prep={self.prep}, {self.n_patients} patients, "
                f"{100 * self.ci_level:g}% patient-cluster intervals)")
        if self.note:
            return f"{head}\n  not available: {self.note}"
        return _render(head, self.table, lambda r: (
            f"effect {r.effect:+.3f} [{r.effect_low:+.3f}, {r.effect_high:+.3f}] (uncorrected "
            f"{r.raw:+.3f})"))


def solve_within(prepared: Panel, *, prep: str, by: str, tau_max: int,
                 standardized: bool = False, raw: Panel | None = None,
                 time_effects: bool = False) -> tuple[WithinFit | None, str | None]:
    """Solve the bias-corrected within-person VAR of a prepared panel, once per fit.

    The one solve behind the ``effect`` columns (:func:`add_effects`) and the
    centred tests (:func:`moment_bias`). Returns ``(fit, None)``, or ``(None,
    why)`` when the correction is not available (the reasons of
    :func:`within_effects`); numerical failures become such a reason.
    """
    if prepared.n_patients < 2:
        return None, "the correction and its patient-cluster interval need at least 2 patients"
    try:
        with np.errstate(all="ignore"):
            fit, note = _solve(prepared, prep, by, tau_max, standardized, raw,
                               time_effects=time_effects)
    except np.linalg.LinAlgError as exc:
        fit, note = None, f"singular moments ({exc})"
    if fit is not None and not (np.all(np.isfinite(fit.coef)) and np.all(np.isfinite(fit.gamma))):
        fit, note = None, "non-finite estimates"
    if note is not None:
        logger.info("within-person effects not available: %s", note)
    return fit, note


def _corrected(prepared: Panel, prep: str, by: str, tau_max: int, ci_level: float,
               standardized: bool, raw: Panel | None = None,
               solved: tuple[WithinFit | None, str | None] | None = None,
               ) -> tuple[pd.DataFrame, str | None]:
    """Tabulate :func:`solve_within` (or its given result); a NaN table with a note."""
    fit, note = solved if solved is not None else solve_within(
        prepared, prep=prep, by=by, tau_max=tau_max, standardized=standardized, raw=raw)
    if fit is None:
        return _nan_table(prepared.variables, tau_max), note
    with np.errstate(all="ignore"):
        table = _table(fit, ci_level)
    if not np.isfinite(table[["effect", "effect_low", "effect_high"]].to_numpy()).all():
        note = "non-finite estimates"
        logger.info("within-person effects not available: %s", note)
        return _nan_table(prepared.variables, tau_max), note
    return table, None


def moment_bias(fit: WithinFit, *, max_lag: int, first_row: int) -> MomentBias:
    """Compute the expected and stationary moments of the engine's design under a VAR.

    Parameters
    ----------
    fit : WithinFit
        From :func:`solve_within` on the panel the tests run on.
    max_lag : int
        Largest lag of the tests' columns (the engine's cut-off, ``2 * tau_max``).
    first_row : int
        First time step of each block that is a test sample (``max_lag`` less
        the padding of :func:`causal.discovery._tigramite.to_tigramite`).

    Returns
    -------
    causal.discovery.engine.MomentBias
        ``expected[(a, la), (b, lb)]``: the mean over the test samples of
        ``E[z_a(t - la) z_b(t - lb)]`` for the transformed scores ``z = M y``
        (``M`` each group's trend map, so ``E`` is a weighted sum of the
        autocovariances ``Gamma`` of the corrected VAR); ``population``:
        ``Gamma_ab(la - lb)`` itself.
    """
    d, gamma = fit.design, fit.gamma
    _, length, k = d.z.shape
    mid = length - 1
    blocks = _block_rows(d.block, first_row)  # (G, L) sample weights
    columns = [(v, lag) for lag in range(max_lag + 1) for v in range(k)]
    pairs = [(i1, i2) for i1 in range(len(columns)) for i2 in range(i1, len(columns))]
    specs = [(*columns[i1], *columns[i2]) for i1, i2 in pairs]
    if fit.maps is None:
        sums = _DiagSums(d.obs, _trend_factors(d.obs, int(fit.degree)), max_lag)(blocks, specs)
    else:
        shifted = [_shift(fit.maps, lag, 2) for lag in range(max_lag + 1)]
        sums = np.stack([_diag_sums(np.einsum("gt,gtu,gtw->uw", blocks, shifted[la][:, a],
                                              shifted[lb][:, b]))
                         for a, la, b, lb in specs])
    seen = d.obs.transpose(0, 2, 1).astype(float)
    seen_shift = [_shift(seen, lag, 2) for lag in range(max_lag + 1)]
    size = len(columns)
    expected, population = np.zeros((size, size)), np.zeros((size, size))
    for n_pair, ((i1, i2), (a, la, b, lb)) in enumerate(zip(pairs, specs, strict=True)):
        count = float(np.einsum("gt,gt,gt->", blocks, seen_shift[la][:, a], seen_shift[lb][:, b]))
        value = float(sums[n_pair] @ gamma[:, a, b]) / max(count, 1.0)
        expected[i1, i2] = expected[i2, i1] = value
        population[i1, i2] = population[i2, i1] = gamma[mid + lb - la, a, b]
    return MomentBias(expected=expected, population=population, n_vars=k, max_lag=max_lag)


def _block_rows(block: np.ndarray, first_row: int) -> np.ndarray:
    """(G, L) 0/1 weights: grid positions at least ``first_row`` steps into their block."""
    weights = np.zeros(block.shape)
    for g in range(block.shape[0]):
        codes = block[g]
        seen = codes >= 0
        if not seen.any():
            continue
        pos = np.flatnonzero(seen)
        starts = pd.Series(pos).groupby(codes[seen]).transform("min").to_numpy()
        weights[g, pos] = (pos - starts) >= first_row
    return weights


def within_effects(data: Any, links: Any = None, *, tau_max: int | None = None,
                   prep: str | None = None, by: str | None = None, ci_level: float = 0.90,
                   id_col: str = "patient", time_col: str = "week",
                   variables: Sequence[str] | None = None,
                   time_effects: bool | None = None) -> WithinEffects:
    r"""Estimate standardized within-person lagged effects without short-panel bias.

    The within-person VAR(``tau_max``) of :func:`lagged_effects` is biased
    when each patient's mean or trend is estimated from the same few weeks
    (Nickell 1981). Its large-N limit, the *binding function*
    :math:`b(A)`, is computed exactly for this panel's design (each patient's
    observed weeks, missing values, trend model and lag structure) from the
    stationary autocovariances of a VAR with coefficients :math:`A`; the
    innovation covariance is the one that reproduces the sample's lag-0
    moments. The corrected estimate solves :math:`b(\hat A) = \hat A_{raw}`
    (indirect inference with an analytic binding function; Gouriéroux,
    Phillips & Yu 2010). Its standard error is the patient-cluster sandwich
    of the raw coefficients carried through :math:`b^{-1}` (delta method);
    the interval is ``effect ± z se``. Effects are standardized by the
    model-implied stationary within-person SDs: ``effect = A[target, source]
    * sd(source) / sd(target)``, the scale of
    :meth:`features.simulate.Scenario.truth`.

    Parameters
    ----------
    data : Panel, pandas.DataFrame or fitted PanelPCMCI
        Raw scores (prepared here with ``prep``), or a fitted model whose
        prepared ``panel_`` is used (then ``prep`` / ``by`` come from it).
    links : optional
        Which links to report, as in :func:`lagged_effects` (None: every
        lagged link, autoregressive ones included).
    tau_max, prep, by, id_col, time_col, variables, time_effects
        As in :func:`lagged_effects`. The correction knows the trend models
        in :data:`TREND_DEGREE`; other preps give NaN effects and a ``note``.
    ci_level : float
        Level of ``effect_low`` / ``effect_high`` (default 0.90, the level of
        ``ci_low`` / ``ci_high`` at ``alpha = 0.05``).

    Returns
    -------
    WithinEffects

    Examples
    --------
    >>> from features.simulate import simulate_cohort
    >>> df = simulate_cohort("paper", n_patients=100, n_weeks=13, random_state=3)
    >>> res = within_effects(df, [("fear_others", "depression", 1)])
    >>> res.table.columns.tolist()[:6]
    ['source', 'target', 'lag', 'effect', 'effect_low', 'effect_high']
    >>> r = res.table.iloc[0]
    >>> bool(r.effect_low < r.effect < r.effect_high)
    True
    """
    ci_level = check_probability("ci_level", ci_level)
    if _is_model(data):
        if prep is not None or by is not None:
            raise InputError("data is a fitted PanelPCMCI whose panel_ is already prepared; "
                             "leave prep and by unset, or pass the raw data instead")
        params = data.get_params()
        tau = _check_tau(tau_max if tau_max is not None else params["tau_max"])
        prep = getattr(data, "prep_", params["prep"])  # "auto" resolved by the fit
        by, standardized = params["prep_by"], bool(params["standardize"])
        prepared = data.panel_
    else:
        tau, prep, by = _resolve(links, tau_max, prep, by)
        raw = _to_panel(data, tau, id_col, time_col, variables)
        prep = resolve_prep(prep, raw)
        two_way = _time_effects(links, raw, time_effects)
        prepared = prepare(raw, prep, by=by, time_effects=two_way)
        standardized = False
    triples = _requested(links, prepared.variables, tau)
    solved = None
    if not _is_model(data):
        solved = solve_within(prepared, prep=prep, by=by, tau_max=tau,
                              standardized=standardized, raw=raw, time_effects=two_way)
    table, note = _corrected(prepared, prep, by, tau, ci_level, standardized,
                             raw if not _is_model(data) else None, solved)
    keyed = table.set_index(["source", "target", "lag"])
    picked = keyed.loc[triples].reset_index() if triples else table.iloc[:0]
    result = WithinEffects(table=picked[list(WITHIN_COLUMNS)].reset_index(drop=True),
                           tau_max=tau, prep=prep, by=by, ci_level=ci_level,
                           n_patients=prepared.n_patients, note=note)
    logger.info("%s", result)
    return result


def add_effects(links: Links, prepared: Panel, *, prep: str, by: str = "patient",
                standardized: bool = False, raw: Panel | None = None,
                solved: tuple[WithinFit | None, str | None] | None = None) -> Links:
    """Return ``links`` with :data:`LINK_EFFECT_COLUMNS` filled for its lagged rows.

    The hook :meth:`causal.discovery.estimator.PanelPCMCI.fit` calls: effects
    of every lagged row (significant or not) from :func:`within_effects` on the
    model's prepared panel, at the interval level of ``links``
    (``settings["ci_level"]``, else ``1 - 2 * alpha``). Lag-0 rows stay
    NaN. ``settings["effects"]`` records the method, or why effects are NaN.
    ``raw``, the panel before the within transform, is needed for trend models
    other than ``center`` and ``detrend`` (their linear map is probed).
    ``solved``, the result of :func:`solve_within` on the same panel, saves
    solving again.
    """
    ci_level = float(links.settings.get("ci_level", 1 - 2 * links.alpha))
    table, note = _corrected(prepared, prep, by, links.tau_max, ci_level, standardized, raw,
                             solved)
    keys = ["source", "target", "lag"]
    merged = links.table.drop(columns=list(LINK_EFFECT_COLUMNS)).merge(
        table[[*keys, *LINK_EFFECT_COLUMNS]], on=keys, how="left", validate="many_to_one")
    method = ("within-person VAR, short-panel bias corrected (exact binding function), "
              "patient-cluster interval")
    remark = table.attrs.get("remark")
    settings = {**links.settings,
                "effects": note or (f"{method}; {remark}" if remark else method)}
    return replace(links, table=merged, settings=settings)
