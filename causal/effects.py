r"""Within-person lagged effect sizes and their small-T bias correction.

PCMCI's MCI statistic is a partial correlation: it decides whether a link is
in the graph, but it is not on the scale of the lagged coefficients that
generate the data. This module estimates those coefficients for the links of a
discovery result (or any requested links), and corrects them for the small-T
(Nickell-type) bias of within-person estimators.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from causal.discovery.links import Links, format_link
from features.choices import PREPS
from features.errors import DataError, is_integer
from features.lags import lag_name, lag_table
from features.panel import Panel
from features.transforms import prepare

__all__ = [
    "EFFECT_COLUMNS",
    "JACKKNIFE_COLUMNS",
    "SCALES",
    "JackknifeEffects",
    "jackknife_effects",
    "lagged_effects",
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
                   variables: Sequence[str] | None = None) -> pd.DataFrame:
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
        prepared = prepare(_to_panel(data, tau, id_col, time_col, variables), prep, by=by)
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
        lines = [head]
        for r in self.table.itertuples(index=False):
            lines.append(f"  {format_link(r.source, r.target, r.lag)}: raw {r.estimate:+.3f}, "
                         f"corrected {r.corrected:+.3f} (halves {r.first_half:+.3f}, "
                         f"{r.second_half:+.3f})")
        return "\n".join(lines)


def jackknife_effects(data: Panel | pd.DataFrame, links: Any = None, *,
                      tau_max: int | None = None, prep: str | None = None,
                      scale: str = "standardized", by: str | None = None,
                      id_col: str = "patient", time_col: str = "week",
                      variables: Sequence[str] | None = None) -> JackknifeEffects:
    """Estimate lagged effects and correct them with the half-panel jackknife.

    Parameters
    ----------
    data : Panel or pandas.DataFrame
        **Raw** scores: each half panel must be re-centered or re-detrended on
        its own, so an already prepared panel (``PanelPCMCI.panel_``) cannot
        be used; pass the data the model was fitted on.
    links, tau_max, prep, scale, by, id_col, time_col, variables
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
    full = _estimates(prepare(panel, prep, by=by), triples, tau, scale)
    times = panel.data[panel.time_col]
    span = times.groupby(panel.data[panel.id_col]).agg(lambda t: t.max() - t.min() + 1)
    splits = (False, True) if bool((span % 2 == 1).any()) else (False,)
    halves: list[list[np.ndarray]] = [[], []]
    for ceil_first in splits:
        for h, part in enumerate(_half_panels(panel, ceil_first)):
            try:
                prepared = prepare(part, prep, by=by)
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
