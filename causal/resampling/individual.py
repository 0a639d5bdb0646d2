"""Per-patient causal graphs and their GIMME-style aggregation.

A pooled :class:`~causal.discovery.estimator.PanelPCMCI` run answers "which lagged
links hold on average within patients". :class:`IndividualPCMCI` asks the
idiographic question instead: it runs discovery on **each patient's own
series** and then counts, for every tested link, in how many patients it is
significant. Following GIMME (Gates & Molenaar 2012, *NeuroImage* 63:310-319),
a link significant in at least ``group_threshold`` (default 75%) of the
patients is a **group** edge; one present in some patients only is an
**individual** edge. Unlike GIMME, which adds group paths one at a time to
every patient's model (structural equation modification indices), the
aggregation here is a single pass over independent per-patient PCMCI graphs;
with ``alpha = 0.05`` an absent link is still found in about 5% of patients.

Per-patient discovery needs long series: see :func:`min_series_length`.
Patients too short are excluded and reported; if none is long enough the fit
refuses with a :class:`~features.errors.DataError`. A variable that is
(nearly) constant within a patient, differing from its most common value at
fewer than :data:`MIN_VARYING_POINTS` time points (e.g. "fearful" always
rated 1), cannot carry that patient's dynamics and makes partial
correlations degenerate: such patients are excluded and reported too, as are
patients whose tests still turn out numerically degenerate.

Examples
--------
>>> from features.scenarios import generic_scenario
>>> from features.simulate import simulate_cohort
>>> s = generic_scenario(2, 0).with_cross([("x1", "x2", 0.5)])
>>> df = simulate_cohort(s, n_patients=6, n_weeks=80, random_state=3)
>>> from causal.discovery.estimator import PanelPCMCI
>>> model = IndividualPCMCI(PanelPCMCI(tau_max=1)).fit(df, variables=["x1", "x2"])
>>> row = model.summary_.set_index("edge").loc["x1(t-1) -> x2(t)"]
>>> row["class"], bool(row["share"] >= 0.75)
('group', True)
>>> model.group_graph_.has_edge("x1", "x2"), model.group_graph_.has_edge("x2", "x1")
(True, False)
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from causal.discovery.citests import within_df_loss
from causal.discovery.estimator import PanelPCMCI, block_samples, template_of
from causal.discovery.links import Links, format_link
from causal.resampling.group import group_graph, summarize_edges
from causal.resampling.parallel import check_execution, parallel_map
from features.checks import check_int, check_real, check_seed
from features.errors import DataError
from features.exclusions import ExclusionReport
from features.panel import Panel
from features.transforms import resolve_prep

__all__ = [
    "MIN_VARYING_POINTS",
    "PATIENT_LINK_COLUMNS",
    "IndividualPCMCI",
    "min_series_length",
    "one_row_per_link",
]

logger = logging.getLogger(__name__)

#: A patient's variable must differ from its most common value at this many time points.
MIN_VARYING_POINTS = 5
#: Columns of ``patient_links.csv`` after ``patient`` (:func:`one_row_per_link`).
PATIENT_LINK_COLUMNS = ("source", "target", "lag", "direction", "value", "p_value",
                        "significant", "ci_low", "ci_high")


def min_series_length(tau_max: int, n_vars: int, *, prep: str = "detrend", min_df: int = 20,
                      contemporaneous: bool = False, beeps_per_day: int | None = None) -> int:
    """Time points one patient needs for per-patient PCMCI at ``tau_max``.

    Parameters
    ----------
    tau_max : int
        Largest lag.
    n_vars : int
        Number of variables.
    prep : {"detrend", "center", "none"}
        Within-person preprocessing (its degrees of freedom are subtracted).
    min_df : int
        Residual degrees of freedom required in the largest test.
    contemporaneous : bool
        PCMCI+ with lag-0 links (more candidate conditions).
    beeps_per_day : int, optional
        Beeps per day of a day/beep design (the diurnal model's parameters).

    Returns
    -------
    int
        ``T_min = 2*tau_max + dim_max + loss + min_df`` for one uninterrupted,
        fully observed series, where

        * ``2*tau_max``: tigramite's cut-off; the first ``2*tau_max`` time
          points only serve as lags, so every test uses the same samples;
        * ``dim_max = 2*n_cand + 1``: the largest partial-correlation test of
          PCMCI's MCI stage. Each variable has ``n_cand = n_vars*tau_max``
          lagged candidate parents (plus ``n_vars - 1`` contemporaneous ones
          with PCMCI+); the MCI test of ``X^i(t-tau) -> X^j(t)`` conditions on
          the parents of ``X^j(t)`` other than ``X^i(t-tau)`` (up to
          ``n_cand - 1``) and on those of ``X^i(t-tau)`` (up to ``n_cand``),
          so it involves up to ``2 + 2*n_cand - 1`` variables. The t-test of a
          partial correlation has ``n - dim`` degrees of freedom;
        * ``loss``: the within-person transform's parameters (2 for
          detrending, 1 for centering, see
          :func:`causal.discovery.citests.within_df_loss`);
        * ``min_df`` (default 20): with 20 residual df the two-sided 5%
          critical partial correlation is 0.42 and its standard error about
          ``1/sqrt(20) = 0.22``; with fewer, only implausibly large effects
          could be detected and the PC stage's parent sets become unstable.

        With gaps or segments (days) what counts is the number of test
        samples: ``T_min - 2*tau_max`` complete samples after the cut-off of
        every block (see :class:`IndividualPCMCI`).

    Examples
    --------
    >>> min_series_length(1, 2), min_series_length(1, 5), min_series_length(2, 5)
    (29, 35, 47)
    """
    for name, val, low in (("tau_max", tau_max, 1), ("n_vars", n_vars, 2), ("min_df", min_df, 1)):
        check_int(name, val, minimum=low)
    n_cand = n_vars * tau_max + (n_vars - 1 if contemporaneous else 0)
    dim_max = 2 * n_cand + 1
    loss = within_df_loss(prep, 1, beeps_per_day=beeps_per_day)
    return int(2 * tau_max + dim_max + loss + min_df)


class IndividualPCMCI(BaseEstimator):
    """Discovery on each patient separately, aggregated GIMME-style.

    A scikit-learn estimator like
    :class:`~causal.resampling.bootstrap.ClusterBootstrap`: ``clone``,
    ``get_params(deep=True)`` and ``set_params`` work, and the parameters are
    checked in :meth:`fit`.

    Parameters
    ----------
    estimator : PanelPCMCI, optional
        Template of every patient's discovery (``tau_max``, ``alpha``,
        ``method``, ``ci_test``, ``prep``, ``forbid``, ...; cloned, never
        fitted itself). Default ``PanelPCMCI()``.
    group_threshold : float, default 0.75
        Share of patients in which a link must be significant to be a group
        edge (GIMME's 75%), in (0, 1].
    n_jobs : int or None, default 1
        Patients run in parallel through :func:`causal.resampling.parallel.parallel_map`
        (``-1``: all cores; ``None``: from a surrounding
        ``joblib.parallel_config``). Results do not depend on ``n_jobs``.
    min_df : int, default 20
        Residual degrees of freedom required (see :func:`min_series_length`).
    scheduler : str, optional
        Address of a Dask scheduler to run the patients on.
    progress : bool or None
        Progress bar on standard error (None: only on a terminal).
    random_state : int, optional
        Seed of the per-patient seeds (for stochastic tests: one seed per
        patient, drawn in patient order). None: the template's
        ``random_state`` is used that way (None there too: unseeded).

    Attributes
    ----------
    panel_ : Panel
        The validated panel (before per-patient preprocessing).
    patients_ : pandas.DataFrame
        One row per analysed patient: ``n_samples`` (complete test samples),
        ``n_significant`` (significant links) and ``seconds`` (run time).
    links_by_patient_ : dict
        Patient -> :class:`~causal.discovery.links.Links` of that patient
        (``links_`` is a :class:`Links` wherever it appears, so the
        per-patient results have their own names).
    patient_links_ : pandas.DataFrame
        Long table (``patient_links.csv``): ``patient``, ``source``,
        ``target``, ``lag``, ``direction``, ``value`` (the MCI partial
        correlation), ``p_value``, ``significant``, ``ci_low``, ``ci_high``,
        one row per patient and tested link. A contemporaneous (lag-0) link
        is one row (see :func:`one_row_per_link`): direction ``"->"`` when
        PCMCI+ oriented it (``source -> target``), ``"--"`` otherwise;
        lagged links have ``"->"``.
    summary_ : pandas.DataFrame
        One row per link: ``edge``, ``source``, ``target``, ``lag``,
        ``direction`` (``"->"`` lagged; ``"--"`` for a contemporaneous pair,
        listed once in variable order and counted in a patient whichever
        way that patient oriented it), ``autoregressive``, ``n_patients``,
        ``n_significant``, ``share`` (share of patients where it is
        significant) with a 95% Wilson interval ``share_low``/``share_high``,
        ``share_positive``,
        ``share_negative`` (significant with that sign), ``median_value``
        (over all patients) and ``class`` (``"group"`` if share >=
        ``group_threshold``, ``"individual"`` if > 0, else ``"absent"``).
    group_graph_ : networkx.DiGraph
        Variables as nodes, one edge per variable pair with a group link
        (the link with the largest share if several lags qualify).
    edge_matrix_ : pandas.DataFrame
        Patients x links (columns named by :func:`~causal.discovery.links.format_link`) of
        the raw MCI
        partial correlations, significant or not: every tested link has a
        value, so the matrix has no NaN (a NaN from the test would be set to
        0.0 with a warning in the log). Raw values keep the effect sizes for
        clustering (:func:`causal.resampling.subgroups.find_subgroups`);
        ``presence_`` holds the significance decisions.
    presence_ : pandas.DataFrame
        Patients x links, True where the link is significant.
    exclusions_ : ExclusionReport
        Rows and patients set aside, including patients too short for
        per-patient discovery.
    """

    def __init__(self, estimator: PanelPCMCI | None = None, *, group_threshold: float = 0.75,
                 n_jobs: int | None = 1, min_df: int = 20, scheduler: str | None = None,
                 progress: bool | None = None, random_state: int | None = None) -> None:
        self.estimator = estimator
        self.group_threshold = group_threshold
        self.n_jobs = n_jobs
        self.min_df = min_df
        self.scheduler = scheduler
        self.progress = progress
        self.random_state = random_state

    def _check_params(self) -> PanelPCMCI:
        """Check the parameters (the template's too); return an unfitted clone of the template."""
        template = template_of(self.estimator)
        check_real("group_threshold", self.group_threshold, low=0, high=1, high_ok=True)
        check_execution(self.n_jobs, self.scheduler, self.progress, allow_none=True)
        check_int("min_df", self.min_df, minimum=1)
        check_seed("random_state", self.random_state)
        template._check_params()
        return template

    # ------------------------------------------------------------------- fit
    def fit(self, data: Panel | pd.DataFrame, *, id_col: str = "patient",
            time_col: str | None = None, variables: Sequence[str] | None = None,
            segments: Sequence[str] = (), day_col: str | None = None,
            beep_col: str | None = None, duplicates: str = "error") -> IndividualPCMCI:
        """Run discovery on each patient and aggregate the graphs.

        ``data`` and the frame options are those of :meth:`PanelPCMCI.fit
        <causal.discovery.estimator.PanelPCMCI.fit>`; each patient's segments
        (and days) are separate blocks that no lag crosses.

        Returns
        -------
        self : IndividualPCMCI
            Fitted, with the attributes listed in the class docstring.

        Raises
        ------
        InputError
            If a parameter here or of ``estimator`` is invalid (the message
            names it).
        DataError
            If no patient has a series long enough for per-patient discovery
            (the message gives the needed and the available lengths).
        """
        template = self._check_params()
        panel = template._input_panel(data, id_col=id_col, time_col=time_col,
                                      variables=variables, segments=segments, day_col=day_col,
                                      beep_col=beep_col, duplicates=duplicates)
        self.panel_ = panel
        panel, samples = self._screen(panel, template)
        seeds = self._seeds(len(samples), template)
        tasks = [(_alone(panel, p), clone(template).set_params(random_state=seed))
                 for p, seed in zip(samples.index, seeds, strict=True)]
        results = parallel_map(_fit_patient, tasks, n_jobs=self.n_jobs, scheduler=self.scheduler,
                               progress=self.progress, desc="per-patient PCMCI")
        self._collect(samples, results, panel.exclusions, template)
        return self

    # ------------------------------------------------------------- internals
    def _needed(self, panel: Panel, template: PanelPCMCI) -> tuple[int, int]:
        contemporaneous = template.method == "pcmciplus" and bool(template.contemporaneous)
        needed = min_series_length(int(template.tau_max), len(panel.variables),
                                   prep=resolve_prep(template.prep, panel), min_df=self.min_df,
                                   beeps_per_day=panel.beeps_per_day,
                                   contemporaneous=contemporaneous)
        return needed, needed - 2 * int(template.tau_max)

    def _screen(self, panel: Panel, template: PanelPCMCI) -> tuple[Panel, pd.Series]:
        """Exclude patients too short or with a (nearly) constant variable; return sample counts."""
        tau = int(template.tau_max)
        needed, needed_samples = self._needed(panel, template)
        samples = _test_samples(panel, tau, template.cut_off)
        required = pd.Series(needed_samples, index=samples.index)
        prep, beeps = resolve_prep(template.prep, panel), panel.beeps_per_day
        if template.prep_by == "segment":
            blocks = panel.data.groupby(panel.segment_cols, sort=False).size().reset_index()
            n_blocks = blocks.groupby(panel.id_col).size().reindex(samples.index)
            required += [within_df_loss(prep, int(n), beeps_per_day=beeps)
                         - within_df_loss(prep, 1, beeps_per_day=beeps) for n in n_blocks]
        ok = samples >= required
        if not ok.any():
            complete = panel.data[list(panel.variables)].notna().all(axis=1)
            points = complete.groupby(panel.data[panel.id_col].to_numpy()).sum()
            raise DataError(
                f"per-patient discovery at tau_max={tau} with {len(panel.variables)} variables "
                f"needs at least {needed} time points per patient in one uninterrupted series, "
                f"i.e. {needed_samples} usable samples (time points with every variable observed "
                f"at lags 0..{tau}, after the first {2 * tau} time points of each block; see "
                f"min_series_length), but the "
                f"{len(samples)} patients have a median of {samples.median():g} and at most "
                f"{int(samples.max())} usable samples (median {points.median():g}, max "
                f"{int(points.max())} fully observed time points). Use a smaller tau_max or "
                "fewer variables, or pool patients with causal.discovery.estimator.PanelPCMCI")
        report = panel.exclusions
        short = samples[~ok]
        report = report.add(
            "patient", f"fewer than {needed_samples} usable samples for per-patient discovery "
            f"at tau_max={tau} (a series of {needed} time points; value: the patient's usable "
            "samples)", short.index,
            values=short.to_numpy())
        samples = samples[ok]
        data = panel.data[panel.data[panel.id_col].isin(samples.index)]
        data = data[data[list(panel.variables)].notna().all(axis=1)]
        varying = pd.DataFrame({v: data.groupby(panel.id_col)[v].agg(
            lambda x: len(x) - int(x.value_counts().iloc[0])) for v in panel.variables})
        varying = varying.reindex(samples.index, fill_value=0)
        flat = varying < MIN_VARYING_POINTS
        if flat.to_numpy().any():
            bad = flat.any(axis=1)
            first_flat = flat[bad].idxmax(axis=1)  # one record per patient: its first flat one
            for variable in panel.variables:
                who = first_flat.index[first_flat == variable]
                report = report.add(
                    "patient", f"a variable differs from its most common value at fewer than "
                    f"{MIN_VARYING_POINTS} fully observed time points (nearly constant; value: "
                    "the number of such time points)", who, column=variable,
                    values=[int(varying.loc[p, variable]) for p in who])
            samples = samples[~bad]
        if samples.empty:
            raise DataError("every patient long enough for per-patient discovery has a variable "
                            "that is (nearly) constant within the patient; drop it with variables=")
        kept = panel.subset(samples.index)
        return kept.with_data(kept.data, report), samples

    def _seeds(self, n: int, template: PanelPCMCI) -> list[int | None]:
        seed = self.random_state if self.random_state is not None else template.random_state
        if seed is None:
            return [None] * n
        rng = np.random.default_rng(seed)
        return [int(s) for s in rng.integers(0, 2**31 - 1, size=n)]

    def _collect(self, samples: pd.Series, results: list[dict[str, Any]],
                 report: ExclusionReport, template: PanelPCMCI) -> None:
        frames, patient_links, rows, failed = [], {}, [], {}
        variables = tuple(self.panel_.variables)
        for patient, res in zip(samples.index, results, strict=True):
            if "error" in res:
                failed[patient] = res["error"]
                continue
            report = report.merge(res["exclusions"])
            links: Links = res["links"]
            patient_links[patient] = links
            table = one_row_per_link(links.table, variables)
            frames.append(table.assign(patient=patient))
            rows.append({"patient": patient, "n_samples": res["n_samples"],
                         "n_significant": int(table["significant"].sum()),
                         "seconds": res["seconds"]})
        for reason, patients in _by_reason(failed).items():
            report = report.add("patient", f"per-patient discovery failed: {reason}", patients)
        if not frames:
            raise DataError(f"per-patient discovery failed for every patient: "
                            f"{next(iter(failed.values()))}")
        self.exclusions_ = report
        self.links_by_patient_ = patient_links
        self.patients_ = pd.DataFrame(rows).set_index("patient")
        links = pd.concat(frames, ignore_index=True)
        self.patient_links_ = links[["patient", *PATIENT_LINK_COLUMNS]]
        # One column per link: a contemporaneous pair under its variable-order key, whichever
        # way a patient oriented it.
        keys = ["key_source", "key_target", "lag"]
        value = links.pivot(index="patient", columns=keys, values="value")  # noqa: PD010
        sig = links.pivot(index="patient", columns=keys, values="significant")  # noqa: PD010
        order = pd.Index(list(patient_links), name="patient")
        value, sig = value.reindex(order), sig.reindex(order).fillna(False).astype(bool)
        if value.isna().to_numpy().any():
            logger.warning("%d NaN link values set to 0.0", int(value.isna().to_numpy().sum()))
            value = value.fillna(0.0)
        labels = [format_link(s, t, k, directed=k > 0) for s, t, k in value.columns]
        self.edge_matrix_ = pd.DataFrame(value.to_numpy(float), index=order, columns=labels)
        self.presence_ = pd.DataFrame(sig.to_numpy(bool), index=order, columns=labels)
        self.summary_ = summarize_edges(value.columns, self.edge_matrix_, self.presence_,
                                        self.group_threshold)
        self.group_graph_ = group_graph(self.summary_, self.panel_.variables,
                                        tau_max=int(template.tau_max),
                                        alpha=float(template.alpha),
                                        n_patients=len(order),
                                        group_threshold=float(self.group_threshold))
        logger.info("individual PCMCI: %d patients, %d group edges, median %.2f s per patient",
                    len(order), int((self.summary_["class"] == "group").sum()),
                    self.patients_["seconds"].median())

    def __str__(self) -> str:
        template = self.estimator if self.estimator is not None else PanelPCMCI()
        if not hasattr(self, "summary_"):
            return (f"IndividualPCMCI(tau_max={template.tau_max}, alpha={template.alpha}) "
                    "(not fitted)")
        s = self.summary_.sort_values("share", ascending=False, kind="stable")
        lines = [f"IndividualPCMCI: {len(self.patients_)} patient(s) analysed, "
                 f"{self.exclusions_.n_patients} excluded (tau_max={template.tau_max}, "
                 f"alpha={template.alpha}); median {self.patients_['n_samples'].median():g} "
                 "samples per patient"]
        for cls, head, limit in (("group", f">= {self.group_threshold:.0%} of", None),
                                 ("individual", "some", 10)):
            rows = s[s["class"] == cls]
            lines.append(f"  {cls} edges (significant in {head} patients):"
                         + ("" if len(rows) else " (none)"))
            lines += [f"    {r.edge}: {r.share:.0%} of patients (+{r.share_positive:.0%} / "
                      f"-{r.share_negative:.0%}), median value {r.median_value:+.3f}"
                      for r in rows.head(limit).itertuples(index=False)]
            if limit and len(rows) > limit:
                lines.append(f"    ... and {len(rows) - limit} more")
        lines.append(f"  absent edges: {int((s['class'] == 'absent').sum())}")
        return "\n".join(lines)


# ---------------------------------------------------------------- helpers
def one_row_per_link(table: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """Return a :class:`~causal.discovery.links.Links` table with each link on one row.

    A lagged link ``source(t-lag) -> target`` keeps its row, with direction
    ``"->"``. A contemporaneous (lag-0) link, which a
    :class:`~causal.discovery.links.Links` table lists twice (``(a, b, 0)``
    and ``(b, a, 0)``, one test), becomes one row:

    * oriented by PCMCI+ (a significant ``directed`` row): that row, with
      direction ``"->"`` (``source -> target`` at the same time point);
    * otherwise (absent, unoriented ``o-o`` or conflicting ``x-x``): the row
      whose source comes first in ``variables``, with direction ``"--"`` and
      ``significant`` True when the pair is an (unoriented) edge.

    Parameters
    ----------
    table : pandas.DataFrame
        A Links table (``source``, ``target``, ``lag``, ``value``,
        ``p_value``, ``significant``, ``ci_low``, ``ci_high``; ``directed``
        if present).
    variables : sequence of str
        Variable order; it decides the key of a contemporaneous pair.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PATIENT_LINK_COLUMNS` plus ``key_source``,
        ``key_target`` (the pair in variable order; equal to ``source``,
        ``target`` for lagged links).

    Examples
    --------
    >>> t = pd.DataFrame({"source": ["a", "b", "a"], "target": ["b", "a", "b"],
    ...                   "lag": [0, 0, 1], "value": [0.3, 0.3, 0.2],
    ...                   "p_value": [0.01, 0.01, 0.04], "significant": [False, True, True],
    ...                   "directed": [False, True, True]})
    >>> one_row_per_link(t, ["a", "b"])[["source", "target", "lag", "direction"]]
      source target  lag direction
    0      b      a    0        ->
    1      a      b    1        ->
    """
    t = table.copy()
    for col in ("ci_low", "ci_high"):
        if col not in t.columns:
            t[col] = np.nan
    directed = (t["directed"].astype(bool) if "directed" in t.columns
                else pd.Series(t["lag"] > 0, index=t.index))
    rank = {v: i for i, v in enumerate(variables)}
    src_rank, tgt_rank = t["source"].map(rank), t["target"].map(rank)
    first = (t["lag"] > 0) | (src_rank <= tgt_rank)
    t["key_source"] = t["source"].where(first, t["target"])
    t["key_target"] = t["target"].where(first, t["source"])
    t["direction"] = "->"
    zero = t["lag"] == 0
    if zero.any():
        pair = [t["key_source"], t["key_target"], t["lag"]]
        oriented = zero & directed & t["significant"].astype(bool)
        oriented &= oriented.groupby(pair).transform("sum") == 1  # two arrows: conflicting
        any_sig = t["significant"].astype(bool).groupby(pair).transform("any")
        has_oriented = oriented.groupby(pair).transform("any")
        keep = ~zero | oriented | (~has_oriented & first)
        t.loc[zero & ~oriented, "direction"] = "--"
        t.loc[zero & ~oriented, "significant"] = any_sig[zero & ~oriented]
        # a pair without a row in variable order (a reversed single row) keeps that row
        lone = zero & ~keep & (t.groupby(pair)["lag"].transform("size") == 1)
        t = t[keep | lone]
    return t[[*PATIENT_LINK_COLUMNS, "key_source", "key_target"]].reset_index(drop=True)


def _by_reason(failed: dict[Any, str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for patient, reason in failed.items():
        out.setdefault(reason, []).append(patient)
    return out


def _test_samples(panel: Panel, tau: int, cut_off: str) -> pd.Series:
    """Per patient: complete samples (all variables at lags 0..tau) after each block's cut-off."""
    blocks = block_samples(panel, tau, cut_off=cut_off)
    per = blocks["n_samples"].groupby(blocks[panel.id_col].to_numpy(), sort=False)
    return per.sum().reindex(panel.patients).rename("n_samples")


def _alone(panel: Panel, patient: Any) -> Panel:
    """One patient's panel with an empty exclusion report (the parent keeps the records)."""
    sub = panel.subset([patient])
    return sub.with_data(sub.data, ExclusionReport.empty())


def _fit_patient(task: tuple[Panel, PanelPCMCI]) -> dict:
    """Fit one patient ``(panel, unfitted estimator)`` in a worker; data errors are returned."""
    panel, model = task
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # Degenerate data (perfect or undefined correlations) must not give inf/NaN tests.
            warnings.simplefilter("error", RuntimeWarning)
            # One patient without segments is one dataset: intended here.
            warnings.filterwarnings("ignore", message="In analysis mode 'multiple'. There is just",
                                    category=UserWarning)
            model.fit(panel)
    except DataError as exc:
        return {"error": str(exc)}
    except RuntimeWarning as exc:
        return {"error": f"numerically degenerate data ({exc})"}
    return {"links": model.links_, "n_samples": model.n_samples_,
            "exclusions": model.exclusions_, "seconds": time.perf_counter() - start}
