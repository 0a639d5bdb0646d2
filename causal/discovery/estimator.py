"""PanelPCMCI: a scikit-learn-style estimator over tigramite's PCMCI and PCMCI+.

The estimator hands tigramite one dataset per patient block (multiple-dataset
mode), runs its algorithm unchanged, and gets back a typed
:class:`~causal.discovery.links.Links` table. Every tigramite structure (dict
inputs with a missing-value sentinel, link assumptions, string graphs, parents
as integer indices with negative lags) stays in the private adapter
:mod:`causal.discovery._tigramite`. ``PanelPCMCI`` is a scikit-learn estimator
(:class:`sklearn.base.BaseEstimator`): ``__init__`` only stores the parameters,
:meth:`fit` checks them, and ``clone``, ``get_params`` and ``set_params`` work.

Examples
--------
>>> from features.simulate import simulate_cohort
>>> df = simulate_cohort("paper", n_patients=60, n_weeks=13, random_state=1)
>>> model = PanelPCMCI(tau_max=1).fit(df)
>>> model.links_.table.columns[:6].tolist()
['source', 'target', 'lag', 'value', 'p_value', 'significant']
>>> model.panel_.n_patients
60
>>> from sklearn.base import clone
>>> clone(PanelPCMCI(tau_max=2)).get_params()["tau_max"]
2
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from causal.discovery._tigramite import (
    Algorithm,
    LinkRun,
    NoSamplesError,
    Rerun,
    TigramiteInput,
    complete_samples,
    link_assumptions,
    run_pcmci,
    to_tigramite,
)
from causal.discovery.choices import CI_TESTS, METHODS
from causal.discovery.citests import WITHIN_DF_TESTS, make_ci_test, within_df_loss
from causal.discovery.engine.bias import MomentBias
from causal.discovery.links import Links, format_link
from causal.effects import WithinFit, add_effects, moment_bias, solve_within
from causal.graph.build import summary_graph
from features.checks import check_bool, check_choice, check_int, check_probability, check_seed
from features.choices import PREPS
from features.diagnostics import TrendDiagnostics, diagnose_trends
from features.errors import DataError, InputError, format_value
from features.exclusions import ExclusionReport
from features.panel import Panel
from features.transforms import (
    count_time_means,
    prepare,
    resolve_prep,
    resolve_time_effects,
)
from features.trends import min_observations

__all__ = ["AUTO_MIN_PATIENTS", "PanelPCMCI", "block_samples", "template_of"]

logger = logging.getLogger(__name__)

_CUT_OFFS = ("2xtau_max", "tau_max")
#: ``prep="auto"`` checks the straight line (and may choose ``"spline"``) only in cohorts of
#: at least this many patients: the diagnostics decide for the cohort, and a handful of
#: patients (or one, in per-patient analyses) cannot show a misfit.
AUTO_MIN_PATIENTS = 20
_PREP_BY = ("patient", "segment")
LinkSpec = tuple[str, str, int]


class PanelPCMCI(BaseEstimator):
    """Temporal causal discovery on a multi-patient panel.

    Parameters
    ----------
    tau_max : int, default 1
        Largest lag (in time steps) tested.
    alpha : float, default 0.05
        Significance level of the final (MCI) tests; for PCMCI+ the level of
        every test.
    pc_alpha : float, optional
        Level of the PC condition-selection stage of PCMCI. Default 0.2: a
        liberal level keeps likely parents as conditions, as recommended by
        Runge et al. (2019, Sci Adv 5:eaau4996). Ignored by PCMCI+.
    method : {"pcmci", "pcmciplus"}
        PCMCI tests lagged links only; PCMCI+ also tests contemporaneous ones.
    ci_test : str
        One of :data:`causal.discovery.citests.CI_TESTS`.
    fdr : {None, "fdr_bh"}
        Benjamini-Hochberg correction of the MCI p-values (tigramite's).
    prep : {"auto", "detrend", "diurnal", "center", "none", "spline", ...}
        Within-person preprocessing (see :mod:`features.transforms`; the trend
        models of :mod:`features.trends` too). ``"auto"`` (default):
        ``"diurnal"`` (time-of-day profile and trend over study time, per
        patient) for day/beep designs; otherwise ``"detrend"``, unless the
        trajectory diagnostics (:func:`features.diagnostics.diagnose_trends`,
        run on cohorts of at least :data:`AUTO_MIN_PATIENTS` patients without
        segments, each with enough observed weeks for the spline) warn that
        the straight line misfits, in which case the
        natural-spline trend ``"spline"`` is used (``prep_`` says which;
        docs/validation.md, trajectory study: this choice is calibrated on
        straight, early-response and relapse courses).
    standardize : bool
        Also standardize within patient.
    time_effects : {"auto", True, False}
        Also remove the mean over patients at each time point, alternating
        with the trend model (the two-way within transform,
        :func:`features.transforms.prepare`): it removes the part of
        patients' change they share in time, such as the average early
        response, which a per-patient straight line leaves behind and which
        otherwise shows up as cross-lagged "effects". ``"auto"`` (default):
        on for a single time index (weeks, days), off for day/beep designs
        (the diurnal model handles the time of day). Costs one degree of
        freedom per time mean (:func:`features.transforms.count_time_means`).
    prep_by : {"patient", "segment"}
        Grouping of the within-person transform.
    forbid, require : collection of (source, target, lag)
        Background knowledge: links never tested, or always kept as parents
        and reported as present (``required`` column). tigramite does not test
        a required link; its ``value``, ``p_value`` and interval come from a
        test with the link's MCI conditions (see ``fit``), its p-value
        uncorrected by ``fdr``. A contemporaneous requirement
        ``(a, b, 0)`` orients the link ``a -> b``.
    contemporaneous : bool
        For PCMCI+, whether lag-0 links are tested.
    cut_off : {"2xtau_max", "tau_max"}
        Sample definition. ``"2xtau_max"`` is tigramite's: the first
        ``2*tau_max`` steps of each block serve only as lags, so every test
        uses the same samples. ``"tau_max"`` keeps ``tau_max`` more steps of
        each short series; tests whose conditions reach further back then use
        fewer samples (see ``docs/method.md``).
    min_lagged_rows : int
        Patients with fewer usable lagged rows are excluded and reported.
    within_df : bool, default True
        Subtract the degrees of freedom the within-person transform used
        (1 per patient for centering, 2 for detrending, beeps per day + 1
        for the diurnal model) from the analytic
        tests' degrees of freedom (see :func:`causal.discovery.citests.within_df_loss`).
    debias : bool, default False
        Centre every pooled partial-correlation test on its short-panel
        (Nickell-type) bias: the expected partial correlation of the
        transformed scores minus the one of the within-person process, both
        under the bias-corrected within-person VAR that also gives the
        ``effect`` column (see :mod:`causal.discovery.engine.bias`). Only for
        ``ci_test="parcorr"``; where the correction is not available (e.g.
        ``prep="none"``, change-point trend models, day/beep designs) the
        tests stay uncentred and ``links_.settings["debias"]`` says why.
        It raises the power for small effects when the trend model fits
        (+0.08 at 226 x 13: about 0.65 -> 0.85), but it also removes the
        short-panel bias that partly masks a misfitting trend, so on curved
        or stepped trajectories it finds more spurious links; off by default
        (see docs/validation.md, trajectory study).
    random_state : int, optional
        Seed for stochastic tests (CMIknn, GPDC).
    """

    #: Whether ``fit`` fills the ``effect`` columns (a subclass that needs only the tests
    #: may turn it off and skip the bias-corrected solve unless ``debias`` needs it).
    _effects_wanted = True

    def __init__(self, tau_max: int = 1, *, alpha: float = 0.05, pc_alpha: float | None = 0.2,
                 method: str = "pcmci", ci_test: str = "parcorr", fdr: str | None = None,
                 prep: str = "auto", standardize: bool = False,
                 time_effects: str | bool = "auto", prep_by: str = "patient",
                 forbid: Iterable[LinkSpec] = (), require: Iterable[LinkSpec] = (),
                 contemporaneous: bool = True, cut_off: str = "2xtau_max",
                 min_lagged_rows: int = 2, within_df: bool = True, debias: bool = False,
                 random_state: int | None = None) -> None:
        self.tau_max = tau_max
        self.alpha = alpha
        self.pc_alpha = pc_alpha
        self.method = method
        self.ci_test = ci_test
        self.fdr = fdr
        self.prep = prep
        self.standardize = standardize
        self.time_effects = time_effects
        self.prep_by = prep_by
        self.forbid = forbid
        self.require = require
        self.contemporaneous = contemporaneous
        self.cut_off = cut_off
        self.min_lagged_rows = min_lagged_rows
        self.within_df = within_df
        self.debias = debias
        self.random_state = random_state

    # ---------------------------------------------------------------- params
    def _check_params(self) -> None:
        """Check every parameter; raise InputError naming the first bad one."""
        check_int("tau_max", self.tau_max, minimum=1)
        check_probability("alpha", self.alpha)
        if self.pc_alpha is not None:
            check_probability("pc_alpha", self.pc_alpha)
        check_choice("method", self.method, METHODS)
        check_choice("ci_test", self.ci_test, CI_TESTS)
        check_choice("prep", self.prep, PREPS)
        check_choice("prep_by", self.prep_by, _PREP_BY)
        if self.time_effects != "auto":
            check_bool("time_effects", self.time_effects)
        check_choice("cut_off", self.cut_off, _CUT_OFFS)
        if self.fdr is not None:
            check_choice("fdr", self.fdr, ("none", "fdr_bh"))
        check_int("min_lagged_rows", self.min_lagged_rows, minimum=1)
        for name in ("standardize", "within_df", "contemporaneous", "debias"):
            check_bool(name, getattr(self, name))
        for name in ("forbid", "require"):
            val = getattr(self, name)
            # a one-shot iterator would be used up by the first fit and silently empty after
            if (isinstance(val, (str, bytes)) or not isinstance(val, Iterable)
                    or isinstance(val, Iterator)):
                raise InputError(f"{name} must be a list of (source, target, lag) links, "
                                 f"got {format_value(val)}")
        if not isinstance(self.random_state, np.random.Generator):
            check_seed("random_state", self.random_state)

    def _check_degrees_of_freedom(self, n_vars: int) -> None:
        """Raise DataError if the largest test could have no residual degree of freedom.

        A partial-correlation test of X and Y given Z on n samples has
        ``n - df_loss - (2 + |Z|)`` residual degrees of freedom (tigramite:
        ``T - dim``, minus the within-transform loss); below 1 its p-value is
        undefined (NaN). The worst case used here is ``|Z| = n_vars*tau_max``
        lagged conditions, plus ``n_vars - 1`` contemporaneous ones for PCMCI+.
        """
        tau = int(self.tau_max)
        plus = self.method == "pcmciplus" and bool(self.contemporaneous)
        max_conds = n_vars * tau + (n_vars - 1 if plus else 0)
        loss = self.df_loss_ if self.ci_test in WITHIN_DF_TESTS else 0
        needed = int(np.ceil(loss)) + 2 + max_conds + 1
        if self.n_samples_ >= needed:
            return
        contemp = f" + {n_vars - 1} contemporaneous" if plus else ""
        what = (f"{2 + max_conds} variables (X, Y + {n_vars} x tau_max={tau} lagged{contemp} "
                "conditions)")
        if loss:
            what += f" and prep={self.prep_!r} used {loss:g} degrees of freedom"
        raise DataError(
            f"too few samples for {self.method}: {self.n_samples_} complete samples (pooled "
            f"over {self.panel_.n_patients} patient(s)), but the largest test has {what}, so "
            f"at least {needed} samples are needed for one residual degree of freedom. "
            + self._advice(n_vars, loss))

    def _block_size(self) -> tuple[int, str, str]:
        """Return the usual block length, its unit and the block's name, for advice."""
        panel = self.panel_
        if panel.day_col:
            return int(panel.beeps_per_day or 0), "beeps a day", "person-day"
        lengths = self.blocks_["length"].to_numpy() - self._input.pad
        name = "block (patient x segment)" if panel.segments else "patient"
        return (int(np.median(lengths)) if len(lengths) else 0,
                "time points per " + name + " (median)", name)

    def _advice(self, n_vars: int, loss: float) -> str:
        """Return what fits this design: the samples a block can give, and what would help.

        With short blocks (a few beeps a day) a lag costs samples in every
        block, so "fewer variables" cannot help; it is only suggested when the
        test with two variables would fit.
        """
        tau = int(self.tau_max)
        size, unit, block = self._block_size()
        cut = tau if self.cut_off == "tau_max" else 2 * tau
        per_block, mci = max(size - cut, 0), max(size - 2 * tau, 0)
        design = (f"At {size} {unit}, tau_max={tau} leaves at most {per_block} sample(s) per "
                  f"{block}: no lag crosses a {'night' if self.panel_.day_col else 'block'}, "
                  f"and the first {cut} time point(s) of each {block} only serve as lags")
        if mci < per_block:
            design += (f" ({mci} for tests whose conditions reach {2 * tau} steps back, as "
                       "PCMCI's MCI tests can)")
        hints = []
        best = (size - 1) // 2  # the largest tau_max whose MCI tests keep a sample per block
        cut_best = best if self.cut_off == "tau_max" else 2 * best
        if tau > best or per_block == 0:
            hints.append(f"use a smaller tau_max (tau_max={best} leaves {size - cut_best} per "
                         f"{block})" if best >= 1
                         else "use longer series: even tau_max=1 leaves no sample per " + block)
            return (design + ". Fewer variables or more " +
                    ("persons or days" if self.panel_.day_col else "patients") +
                    " cannot help. To fix: " + "; ".join(hints) + ".")
        plus = self.method == "pcmciplus" and bool(self.contemporaneous)
        smallest = int(np.ceil(loss)) + 2 + 2 * tau + (1 if plus else 0) + 1
        if n_vars > 2 and self.n_samples_ >= smallest:
            hints.append("use fewer variables")
        if tau > 1:
            hints.append("use a smaller tau_max")
        hints.append("add persons or days" if self.panel_.day_col else "add patients or weeks")
        if self.cut_off != "tau_max":
            hints.append(f"use cut_off='tau_max' ({tau} more sample(s) per {block})")
        if loss and self.prep_ in ("detrend", "diurnal"):
            fewer = "2" if self.prep_ == "detrend" else f"{size + 1}"
            hints.append(f"use prep='center' (1 instead of {fewer} degrees of freedom per "
                         "patient)")
        if loss:
            hints.append("set within_df=False")
        return design + ". To fix: " + "; ".join(hints) + "."

    def _check_p_values(self, links: Links) -> None:
        """Raise DataError if any test gave an undefined (NaN) p-value.

        The up-front check cannot see every test: an MCI test also conditions
        on the source's parents, and missing values or ``cut_off="tau_max"``
        give some tests fewer samples than ``n_samples_``.
        """
        undefined = links.table[links.table["p_value"].isna()]
        if undefined.empty:
            return
        which = ", ".join(format_link(r.source, r.target, r.lag)
                          for r in undefined.head(5).itertuples())
        raise DataError(
            f"{len(undefined)} of {len(links.table)} tests gave no p-value (NaN), e.g. {which}: "
            f"too few samples ({self.n_samples_} complete samples) for the conditions used, or "
            "a variable that is an exact linear function of others. "
            + self._advice(len(links.variables), self.df_loss_))

    def _input_panel(self, data: Panel | pd.DataFrame, **frame_kwargs: Any) -> Panel:
        """Return the panel of ``data``, every block long enough for ``tau_max`` lags.

        A :class:`~features.panel.Panel` is taken as it is; a long-format frame is
        validated by :meth:`~features.panel.Panel.from_frame` with ``frame_kwargs``.
        Shared by :meth:`fit` and the per-patient fits of
        :class:`~causal.resampling.individual.IndividualPCMCI`.
        """
        tau, min_rows = int(self.tau_max), self.min_lagged_rows
        if isinstance(data, Panel):
            panel = data.drop_short(tau, min_rows)
        else:
            panel = Panel.from_frame(data, tau_max=tau, min_lagged_rows=min_rows, **frame_kwargs)
        if len(panel.variables) < 2:
            raise DataError(f"discovery needs at least 2 variables, got {list(panel.variables)}")
        return panel

    # ------------------------------------------------------------------- fit
    def fit(self, data: Panel | pd.DataFrame, *, id_col: str = "patient",
            time_col: str | None = None, variables: Sequence[str] | None = None,
            segments: Sequence[str] = (), day_col: str | None = None,
            beep_col: str | None = None, duplicates: str = "error") -> PanelPCMCI:
        """Validate and prepare the data, run discovery and store the results.

        Parameters
        ----------
        data : Panel or pandas.DataFrame
            A validated :class:`~features.panel.Panel`, or a long-format frame
            (validated here with ``id_col``, ``time_col``, ``variables``,
            ``segments``, ``day_col``, ``beep_col`` and ``duplicates``: see
            :meth:`features.panel.Panel.from_frame`).

        Returns
        -------
        self
            With fitted attributes ``panel_`` (the prepared panel),
            ``exclusions_``, ``links_`` (:class:`~causal.discovery.links.Links`:
            one row per tested link, ``required`` marking background
            knowledge), ``graph_`` (summary :class:`networkx.DiGraph`),
            ``blocks_`` (one row per block, the unit tigramite sees as one
            dataset, in dataset order: the block's id and segment values,
            ``start`` time, ``length`` of its time grid, ``n_samples``
            complete test samples and ``df_loss``), ``prep_`` (the transform
            ``prep`` stands for: ``"auto"`` resolved), ``trend_diagnostics_``
            (the :class:`~features.diagnostics.TrendDiagnostics` of the straight
            line that ``prep="auto"`` checked, else None), ``time_effects_``
            (whether time means were removed: ``"auto"`` resolved), ``n_samples_`` (samples in
            a test without missing values), ``df_loss_`` (degrees of freedom
            of the within transform) and ``parents_`` (``{target: [(source,
            lag), ...]}``: the lagged conditions of the final tests, see
            below).

        Raises
        ------
        features.errors.InputError
            If a parameter is invalid (the message names it).
        features.errors.DataError
            If there are too few samples: the largest test (``2 + n_vars *
            tau_max`` variables, ``+ n_vars - 1`` contemporaneous with PCMCI+)
            would have no residual degree of freedom after ``df_loss_``, or
            any test gave an undefined (NaN) p-value.

        Notes
        -----
        The final test of ``source(t-lag) -> target(t)`` conditions on
        ``parents_[target]`` (without the tested link) and on
        ``parents_[source]`` shifted back by ``lag`` (tigramite's MCI test).
        For PCMCI these are the parents of the PC stage; for PCMCI+ the lagged
        parents, to which its skeleton phase adds contemporaneous conditions.
        Required links are tested with exactly these conditions.
        """
        self._check_params()
        tau = int(self.tau_max)
        panel = self._input_panel(data, id_col=id_col, time_col=time_col, variables=variables,
                                  segments=segments, day_col=day_col, beep_col=beep_col,
                                  duplicates=duplicates)
        raw = panel
        self.prep_ = resolve_prep(self.prep, panel)
        self.trend_diagnostics_ = self._auto_trend(panel)
        self.time_effects_ = resolve_time_effects(self.time_effects, panel)
        panel = prepare(panel, self.prep_, standardize_within=self.standardize, by=self.prep_by,
                        time_effects=self.time_effects_)
        panel = panel.drop_short(tau, self.min_lagged_rows)
        self.panel_ = panel
        self.exclusions_: ExclusionReport = panel.exclusions
        pad = tau if self.cut_off == "tau_max" else 0
        self._input: TigramiteInput = to_tigramite(panel, pad=pad)
        samples = complete_samples(self._input, tau)
        self.n_samples_ = int(samples.sum())
        dataset_df_loss = self._dataset_df_loss(self._input, samples)
        self.df_loss_ = int(np.rint(dataset_df_loss.sum()))
        self.blocks_ = self._input.blocks.assign(n_samples=samples, df_loss=dataset_df_loss)
        tau_min = 0 if (self.method == "pcmciplus" and self.contemporaneous) else 1
        self._algorithm = Algorithm(
            method=self.method, tau_max=tau, alpha=float(self.alpha), pc_alpha=self.pc_alpha,
            fdr=self.fdr, names=tuple(self._input.var_names),
            assumptions=link_assumptions(self._input.var_names, tau_min=tau_min, tau_max=tau,
                                         forbid=self.forbid, require=self.require))
        self._check_degrees_of_freedom(len(panel.variables))
        with warnings.catch_warnings():
            # One patient (an n-of-1 analysis) is one dataset; that is intended here.
            warnings.filterwarnings("ignore", message="In analysis mode 'multiple'. There is just",
                                    category=UserWarning)
            dataframe = self._input.dataframe()
        solved: tuple[WithinFit | None, str | None] = (None, "not computed")
        if self.debias or self._effects_wanted:
            solved = solve_within(panel, prep=self.prep_, by=self.prep_by, tau_max=tau,
                                  standardized=bool(self.standardize), raw=raw,
                                  time_effects=self.time_effects_)
        self._bias, debias_note = self._moment_bias(solved, pad)
        test = make_ci_test(self.ci_test, ci_level=1 - 2 * self.alpha,
                            random_state=self.random_state, df_loss=self.df_loss_,
                            bias=self._bias)
        try:
            run = run_pcmci(self._algorithm, dataframe, test, default_samples=self.n_samples_)
        except NoSamplesError as exc:
            raise DataError(f"{exc}. {self._advice(len(panel.variables), self.df_loss_)}"
                            ) from exc
        self.links_ = self._wrap(run, debias_note)
        self.parents_ = run.parents
        self._check_p_values(self.links_)
        self.links_ = self._with_effects(self.links_, raw, solved)
        self.graph_: nx.DiGraph = summary_graph(self.links_)
        logger.info("fitted %s: %d significant of %d tested links", self.method,
                    int(self.links_.table["significant"].sum()), len(self.links_.table))
        return self

    # ------------------------------------------------------------- internals
    def _rerun(self) -> Rerun:
        """Return the resampling hook: this fit's algorithm on its own data, re-weighted.

        The one internal hook of :mod:`causal.resampling`: calling the returned
        object with per-dataset weights (one per row of ``blocks_``) and a
        seed re-runs the same tigramite algorithm, link assumptions, alpha
        levels and FDR rule as :meth:`fit` and returns a typed
        :class:`~causal.discovery._tigramite.LinkRun` (variable names,
        positive lags). Build it once per process: it holds tigramite objects.
        """
        return Rerun(self._algorithm, self._input, ci_test=self.ci_test,
                     df_loss=self.blocks_["df_loss"].to_numpy(float), bias=self._bias)

    def _wrap(self, run: LinkRun, debias: str) -> Links:
        names = list(self._algorithm.names)
        settings = {"pc_alpha": self.pc_alpha, "fdr": self.fdr, "prep": self.prep_,
                    "time_effects": self.time_effects_,
                    "standardize": self.standardize, "ci_level": 1 - 2 * self.alpha,
                    "cut_off": self.cut_off, "prep_by": self.prep_by, "df_loss": self.df_loss_,
                    "debias": debias}
        return Links(table=run.table, variables=tuple(names), tau_max=int(self.tau_max),
                     alpha=float(self.alpha), method=self.method, ci_test=self.ci_test,
                     settings=settings)

    def _auto_trend(self, panel: Panel) -> TrendDiagnostics | None:
        """For ``prep="auto"``: check the straight line; use a spline (``prep_``) if it misfits."""
        if (self.prep != "auto" or self.prep_ != "detrend" or panel.segments or panel.day_col
                or panel.n_patients < AUTO_MIN_PATIENTS):
            return None
        counts = panel.data.groupby(panel.id_col, sort=False)[list(panel.variables)].count()
        if (counts < min_observations("spline")).to_numpy().any():
            return None  # the spline would exclude patients: keep the straight line
        diagnostics = diagnose_trends(panel, "detrend")
        if diagnostics.misfit:
            self.prep_ = "spline"
            logger.warning("prep='auto': the straight line misfits the patients' courses "
                           "(trajectory diagnostics p=%.2g), so each patient's trend is a "
                           "natural spline (prep='spline')", diagnostics.p_excess)
        return diagnostics

    def _with_effects(self, links: Links, raw: Panel,
                      solved: tuple[WithinFit | None, str | None]) -> Links:
        """Fill the ``effect`` columns of ``links`` (bias-corrected within-person effects)."""
        return add_effects(links, self.panel_, prep=self.prep_, by=self.prep_by,
                           standardized=bool(self.standardize), raw=raw, solved=solved)

    def _moment_bias(self, solved: tuple[WithinFit | None, str | None],
                     pad: int) -> tuple[MomentBias | None, str]:
        """Return the tests' short-panel bias (or None) and what ``settings["debias"]`` says."""
        if not self.debias:
            return None, "off (debias=False)"
        if self.ci_test != "parcorr":
            return None, f"off: only ci_test='parcorr' is centred, not {self.ci_test!r}"
        fit, note = solved
        if fit is None:
            logger.info("tests not centred on their short-panel bias: %s", note)
            return None, f"off: {note}"
        cut = 2 * int(self.tau_max)
        bias = moment_bias(fit, max_lag=cut, first_row=cut - pad)
        return bias, ("tests centred on their short-panel bias (exact binding function of "
                      "the within-person VAR)")

    def _dataset_df_loss(self, ti: TigramiteInput, samples: np.ndarray) -> np.ndarray:
        """Per dataset: degrees of freedom its within transform used.

        Each transformed group (patient, or block with ``prep_by='segment'``)
        that has test samples loses :func:`~causal.discovery.citests.within_df_loss` of
        one group, booked on its first dataset, so a bootstrap weight on a
        dataset scales its patient's loss. Time means (``time_effects_``) cost
        one degree of freedom each, spread evenly over the datasets with
        samples.
        """
        loss = np.zeros(len(samples))
        if not self.within_df:
            return loss
        if self.time_effects_ and (samples > 0).any():
            loss[samples > 0] = count_time_means(self.panel_) / float((samples > 0).sum())
        return loss + self._group_df_loss(ti, samples)

    def _group_df_loss(self, ti: TigramiteInput, samples: np.ndarray) -> np.ndarray:
        """Per dataset: degrees of freedom of the per-group trend model (on first datasets)."""
        loss = np.zeros(len(samples))
        panel = self.panel_
        cols = panel.segment_cols if self.prep_by == "segment" else [panel.id_col]
        first = ti.blocks.loc[samples > 0, cols].drop_duplicates()
        if self.prep_ == "diurnal":  # one mean per beep the group has, plus the slope
            beeps = panel.data.groupby(cols, sort=False)[panel.time_col].nunique()
            per = beeps.reindex(pd.MultiIndex.from_frame(first) if len(cols) > 1
                                else pd.Index(first[cols[0]])).to_numpy()
            loss[first.index.to_numpy(dtype=np.int64)] = [
                within_df_loss("diurnal", 1, beeps_per_day=int(b)) for b in per]
            return loss
        loss[first.index.to_numpy(dtype=np.int64)] = within_df_loss(self.prep_, 1)
        return loss


def block_samples(panel: Panel, tau_max: int, *, cut_off: str = "2xtau_max") -> pd.DataFrame:
    """Per block (patient x segment): complete test samples at ``tau_max``.

    A sample is complete when every variable is observed at lags
    ``0..tau_max``; the first ``2 * tau_max`` time points of each block serve
    only as lags (``cut_off="tau_max"``: the first ``tau_max``), as in
    :meth:`PanelPCMCI.fit`.

    Returns
    -------
    pandas.DataFrame
        One row per block: its id (and segment) values, ``start``, ``length``
        and ``n_samples`` (as ``PanelPCMCI.blocks_``).

    Examples
    --------
    >>> df = pd.DataFrame({"patient": [1] * 5 + [2] * 3, "week": [1, 2, 3, 4, 5, 1, 2, 3],
    ...                    "x": [1.0, 2.0, None, 4.0, 5.0, 0.0, 1.0, 3.0]})
    >>> block_samples(Panel.from_frame(df, tau_max=None), 1)["n_samples"].tolist()
    [1, 1]
    """
    tau = check_int("tau_max", tau_max, minimum=0)
    check_choice("cut_off", cut_off, _CUT_OFFS)
    ti = to_tigramite(panel, pad=tau if cut_off == "tau_max" else 0)
    return ti.blocks.assign(n_samples=complete_samples(ti, tau))


def template_of(estimator: Any) -> PanelPCMCI:
    """Return an unfitted clone of a resampling method's template ``estimator``.

    None gives ``PanelPCMCI()``; anything but a :class:`PanelPCMCI` raises
    :class:`~features.errors.InputError`.

    >>> template_of(PanelPCMCI(tau_max=2)).tau_max
    2
    """
    if estimator is not None and not isinstance(estimator, PanelPCMCI):
        raise InputError(f"estimator must be a PanelPCMCI, got {type(estimator).__name__}")
    return clone(estimator if estimator is not None else PanelPCMCI())
