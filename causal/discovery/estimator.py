"""PanelPCMCI: a scikit-learn-style estimator over tigramite's PCMCI and PCMCI+.

This module is the boundary with tigramite: it hands tigramite one dataset per
patient block (multiple-dataset mode, see :mod:`features.lags`), runs its
algorithm unchanged, and converts the result dicts and string graphs into a
typed :class:`~causal.discovery.links.Links` table (:mod:`causal.discovery._tigramite`) before
anything else sees them.

Examples
--------
>>> from features.simulate import simulate_cohort
>>> df = simulate_cohort("paper", n_patients=60, n_weeks=13, random_state=1)
>>> model = PanelPCMCI(tau_max=1).fit(df)
>>> model.links_.table.columns[:6].tolist()
['source', 'target', 'lag', 'value', 'p_value', 'significant']
>>> model.panel_.n_patients
60
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from causal.discovery._tigramite import links_table, reestimate_required
from causal.discovery.citests import CI_TESTS, WITHIN_DF_TESTS, make_ci_test, within_df_loss
from causal.discovery.links import Links
from causal.graph.build import summary_graph
from features.errors import DataError, is_integer
from features.exclusions import ExclusionReport
from features.lags import MISSING_FLAG, TigramiteInput, to_tigramite
from features.panel import Panel
from features.samples import run_lengths
from features.transforms import PREPS, prepare

__all__ = ["METHODS", "PanelPCMCI", "complete_samples"]

logger = logging.getLogger(__name__)

#: Discovery algorithms.
METHODS = ("pcmci", "pcmciplus")
_CUT_OFFS = ("2xtau_max", "tau_max")
_PREP_BY = ("patient", "segment")
LinkSpec = tuple[str, str, int]


class PanelPCMCI:
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
    prep : {"detrend", "center", "none"}
        Within-person preprocessing (see :mod:`features.transforms`).
    standardize : bool
        Also standardize within patient.
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
        (1 per patient for centering, 2 for detrending) from the analytic
        tests' degrees of freedom (see :func:`causal.discovery.citests.within_df_loss`).
    random_state : int, optional
        Seed for stochastic tests (CMIknn, GPDC).
    """

    def __init__(self, tau_max: int = 1, *, alpha: float = 0.05, pc_alpha: float | None = 0.2,
                 method: str = "pcmci", ci_test: str = "parcorr", fdr: str | None = None,
                 prep: str = "detrend", standardize: bool = False, prep_by: str = "patient",
                 forbid: Iterable[LinkSpec] = (), require: Iterable[LinkSpec] = (),
                 contemporaneous: bool = True, cut_off: str = "2xtau_max",
                 min_lagged_rows: int = 2, within_df: bool = True,
                 random_state: int | None = None) -> None:
        self.tau_max = tau_max
        self.alpha = alpha
        self.pc_alpha = pc_alpha
        self.method = method
        self.ci_test = ci_test
        self.fdr = fdr
        self.prep = prep
        self.standardize = standardize
        self.prep_by = prep_by
        self.forbid = forbid
        self.require = require
        self.contemporaneous = contemporaneous
        self.cut_off = cut_off
        self.min_lagged_rows = min_lagged_rows
        self.within_df = within_df
        self.random_state = random_state

    # ---------------------------------------------------------------- params
    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters."""
        names = ("tau_max", "alpha", "pc_alpha", "method", "ci_test", "fdr", "prep", "standardize",
                 "prep_by", "forbid", "require", "contemporaneous", "cut_off", "min_lagged_rows",
                 "within_df", "random_state")
        return {n: getattr(self, n) for n in names}

    def _validate_params(self) -> None:
        tau = self.tau_max
        if not is_integer(tau) or tau < 1:
            raise ValueError(f"tau_max must be an integer >= 1, got {tau!r}")
        for name in ("alpha", "pc_alpha"):
            val = getattr(self, name)
            if name == "pc_alpha" and val is None:
                continue
            if isinstance(val, (bool, np.bool_)) or not (
                    isinstance(val, (int, float, np.integer, np.floating)) and 0 < val < 1):
                raise ValueError(f"{name} must be in (0, 1), got {val!r}")
        for name, allowed in (("method", METHODS), ("ci_test", CI_TESTS), ("prep", PREPS),
                              ("prep_by", _PREP_BY), ("cut_off", _CUT_OFFS)):
            val = getattr(self, name)
            if not isinstance(val, str) or val not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {val!r}")
        if self.fdr not in (None, "none", "fdr_bh"):
            raise ValueError(f"fdr must be None or 'fdr_bh', got {self.fdr!r}")
        rows = self.min_lagged_rows
        if not is_integer(rows) or rows < 1:
            raise ValueError(f"min_lagged_rows must be an integer >= 1, got {rows!r}")
        for name in ("standardize", "within_df", "contemporaneous"):
            val = getattr(self, name)
            if not isinstance(val, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {val!r}")
        for name in ("forbid", "require"):
            val = getattr(self, name)
            # a one-shot iterator would be used up by the first fit and silently empty after
            if (isinstance(val, (str, bytes)) or not isinstance(val, Iterable)
                    or isinstance(val, Iterator)):
                raise ValueError(f"{name} must be a list of (source, target, lag) links, "
                                 f"got {val!r}")

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
            what += f" and prep={self.prep!r} used {loss:g} degrees of freedom"
        hints = ["use fewer variables or a smaller tau_max", "add patients or weeks"]
        if loss and self.prep == "detrend":
            hints.append("use prep='center' (1 instead of 2 degrees of freedom per patient)")
        if loss:
            hints.append("set within_df=False")
        raise DataError(
            f"too few samples for {self.method}: {self.n_samples_} complete samples (pooled "
            f"over {self.panel_.n_patients} patient(s)), but the largest test has {what}, so "
            f"at least {needed} samples are needed for one residual degree of freedom. To fix: "
            + "; ".join(hints) + ".")

    def _check_p_values(self, links: Links) -> None:
        """Raise DataError if any test gave an undefined (NaN) p-value.

        The up-front check cannot see every test: an MCI test also conditions
        on the source's parents, and missing values or ``cut_off="tau_max"``
        give some tests fewer samples than ``n_samples_``.
        """
        undefined = links.table[links.table["p_value"].isna()]
        if undefined.empty:
            return
        which = ", ".join(f"{r.source}(t-{r.lag}) -> {r.target}"
                          for r in undefined.head(5).itertuples())
        raise DataError(
            f"{len(undefined)} of {len(links.table)} tests gave no p-value (NaN), e.g. {which}: "
            f"too few samples ({self.n_samples_} complete samples) for the conditions used, or "
            "a variable that is an exact linear function of others. Use fewer variables or a "
            "smaller tau_max, add patients or weeks, or use prep='center' or within_df=False.")

    # ------------------------------------------------------------------- fit
    def fit(self, data: Panel | pd.DataFrame, *, id_col: str = "patient", time_col: str = "week",
            variables: Sequence[str] | None = None, segments: Sequence[str] = ()) -> PanelPCMCI:
        """Validate and prepare the data, run discovery and store the results.

        Parameters
        ----------
        data : Panel or pandas.DataFrame
            A validated :class:`~features.panel.Panel`, or a long-format frame
            (validated here with ``id_col``, ``time_col``, ``variables`` and
            ``segments``).

        Returns
        -------
        self
            With fitted attributes ``panel_`` (the prepared panel),
            ``exclusions_``, ``links_`` (:class:`~causal.discovery.links.Links`),
            ``graph_`` (summary :class:`networkx.DiGraph`),
            ``n_samples_`` (samples in a test without missing values),
            ``df_loss_`` (degrees of freedom of the within transform) and
            ``parents_`` (``{target: [(source, lag), ...]}``: the lagged
            conditions of the final tests, see below).

        Raises
        ------
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
        self._validate_params()
        tau = int(self.tau_max)
        if isinstance(data, Panel):
            panel = data.drop_short(tau, self.min_lagged_rows)
        else:
            panel = Panel.from_frame(data, id_col=id_col, time_col=time_col, variables=variables,
                                     segments=segments, tau_max=tau,
                                     min_lagged_rows=self.min_lagged_rows)
        if len(panel.variables) < 2:
            raise DataError(f"discovery needs at least 2 variables, got {list(panel.variables)}")
        raw = panel
        panel = prepare(panel, self.prep, standardize_within=self.standardize, by=self.prep_by)
        panel = panel.drop_short(tau, self.min_lagged_rows)
        self.panel_ = panel
        self.exclusions_: ExclusionReport = panel.exclusions
        pad = tau if self.cut_off == "tau_max" else 0
        self.input_: TigramiteInput = to_tigramite(panel, pad=pad)
        self.samples_per_dataset_ = complete_samples(self.input_, tau)
        self.n_samples_ = int(self.samples_per_dataset_.sum())
        self.dataset_df_loss_ = self._dataset_df_loss(self.input_, self.samples_per_dataset_)
        self.df_loss_ = int(self.dataset_df_loss_.sum())
        self.link_assumptions_ = self._link_assumptions(self.input_.var_names)
        self._check_degrees_of_freedom(len(panel.variables))
        with warnings.catch_warnings():
            # One patient (an n-of-1 analysis) is one dataset; that is intended here.
            warnings.filterwarnings("ignore", message="In analysis mode 'multiple'. There is just",
                                    category=UserWarning)
            dataframe = self.input_.dataframe()
        test = make_ci_test(self.ci_test, conf_level=1 - 2 * self.alpha,
                            random_state=self.random_state, df_loss=self.df_loss_)
        table, parents = self.run_on(dataframe, test, default_samples=self.n_samples_)
        self.links_, self.parents_ = self._wrap(table, parents)
        self._check_p_values(self.links_)
        self.links_ = self._with_effects(self.links_, raw)
        self.graph_: nx.DiGraph = summary_graph(self.links_)
        logger.info("fitted %s: %d significant of %d tested links", self.method,
                    int(self.links_.table["significant"].sum()), len(self.links_.table))
        return self

    # ------------------------------------------------------------- internals
    def _link_assumptions(self, names: Sequence[str]) -> dict[int, dict[tuple[int, int], str]]:
        idx = {v: i for i, v in enumerate(names)}
        tau_min = 0 if (self.method == "pcmciplus" and self.contemporaneous) else 1
        out: dict[int, dict[tuple[int, int], str]] = {}
        for j in range(len(names)):
            out[j] = {(i, -t): ("-?>" if t > 0 else "o?o")
                      for i in range(len(names)) for t in range(tau_min, int(self.tau_max) + 1)
                      if t > 0 or i != j}

        def check(spec: LinkSpec, what: str) -> tuple[int, int, int]:
            try:
                src, tgt, lag = spec
            except (TypeError, ValueError):
                raise ValueError(f"{what} link must be (source, target, lag), "
                                 f"got {spec!r}") from None
            for v in (src, tgt):
                if v not in idx:
                    raise ValueError(f"{what} link {spec!r}: unknown variable {v!r}; "
                                     f"variables are {list(names)}")
            if not is_integer(lag) or not (tau_min <= lag <= int(self.tau_max)) or (
                    lag == 0 and src == tgt):
                raise ValueError(f"{what} link {spec!r}: lag must be in {tau_min}..{self.tau_max}")
            return idx[src], idx[tgt], int(lag)

        for spec in self.forbid:
            i, j, lag = check(spec, "forbidden")
            out[j].pop((i, -lag), None)
            if lag == 0:
                out[i].pop((j, 0), None)
        for spec in self.require:
            i, j, lag = check(spec, "required")
            out[j][(i, -lag)] = "-->"
            if lag == 0:
                out[i][(j, 0)] = "<--"
        return out

    def run_on(self, dataframe: Any, test: Any, *,
               default_samples: int = -1) -> tuple[pd.DataFrame, dict[int, list[tuple[int, int]]]]:
        """Run this fitted estimator's algorithm and settings on other data or another test.

        The hook for resampling (:mod:`causal.resampling.bootstrap`): the same tigramite
        algorithm, link assumptions, alpha levels and FDR rule as :meth:`fit`,
        on a tigramite ``DataFrame`` laid out like ``input_`` (same variables)
        with a given conditional-independence test (e.g. a re-weighted
        :class:`~causal.discovery.engine.PooledParCorr`).

        Parameters
        ----------
        dataframe : tigramite.data_processing.DataFrame
            The data.
        test : tigramite CondIndTest
            The test object (it is deep-copied by tigramite).
        default_samples : int
            ``n_samples`` reported for tests that cannot count samples.

        Returns
        -------
        table : pandas.DataFrame
            Rows of :data:`causal.discovery.links.LINK_COLUMNS`, in link-assumption order.
        parents : dict
            ``{target index: [(source index, -lag), ...]}``: conditions of the
            final tests (see :meth:`fit`).
        """
        from tigramite.pcmci import PCMCI

        assumptions = self.link_assumptions_
        names = list(self.input_.var_names)
        pcmci = PCMCI(dataframe=dataframe, cond_ind_test=test, verbosity=0)
        fdr = "none" if self.fdr in (None, "none") else self.fdr
        tau = int(self.tau_max)
        try:
            if self.method == "pcmci":
                res = pcmci.run_pcmci(tau_min=1, tau_max=tau, pc_alpha=self.pc_alpha,
                                      alpha_level=self.alpha,
                                      link_assumptions=copy.deepcopy(assumptions),
                                      fdr_method=fdr)
                parents = pcmci.all_parents
            else:
                res = pcmci.run_pcmciplus(tau_min=0, tau_max=tau, pc_alpha=self.alpha,
                                          link_assumptions=copy.deepcopy(assumptions),
                                          fdr_method=fdr)
                parents = pcmci.all_lagged_parents
            res = {**res, **reestimate_required(pcmci.cond_ind_test, res, assumptions, parents,
                                                tau)}
        except ValueError as exc:  # tigramite reports degenerate data as ValueError
            raise DataError(f"tigramite could not run {self.method} on these data: {exc}") from exc
        table = links_table(res, names, assumptions, test=pcmci.cond_ind_test, parents=parents,
                            tau_max=tau, default_samples=default_samples)
        return table, parents

    def _wrap(self, table: pd.DataFrame, parents: dict[int, list[tuple[int, int]]]
              ) -> tuple[Links, dict[str, list[tuple[str, int]]]]:
        names = list(self.input_.var_names)
        settings = {"pc_alpha": self.pc_alpha, "fdr": self.fdr, "prep": self.prep,
                    "standardize": self.standardize, "conf_level": 1 - 2 * self.alpha,
                    "cut_off": self.cut_off, "prep_by": self.prep_by, "df_loss": self.df_loss_}
        links = Links(table=table, variables=tuple(names), tau_max=int(self.tau_max),
                      alpha=float(self.alpha), method=self.method, ci_test=self.ci_test,
                      settings=settings)
        named = {names[j]: [(names[i], -neg_lag) for i, neg_lag in parents.get(j, [])]
                 for j in range(len(names))}
        return links, named

    def _with_effects(self, links: Links, raw: Panel) -> Links:
        """Fill the ``effect`` columns of ``links`` (bias-corrected within-person effects)."""
        # Imported here: causal.effects imports causal.discovery (Links), so a module-level
        # import would be circular.
        from causal.effects import add_effects

        return add_effects(links, self.panel_, prep=self.prep, by=self.prep_by,
                           standardized=bool(self.standardize), raw=raw)

    def _dataset_df_loss(self, ti: TigramiteInput, samples: np.ndarray) -> np.ndarray:
        """Per dataset: degrees of freedom its within transform used.

        Each transformed group (patient, or block with ``prep_by='segment'``)
        that has test samples loses :func:`~causal.discovery.citests.within_df_loss` of
        one group, booked on its first dataset, so a bootstrap weight on a
        dataset scales its patient's loss.
        """
        loss = np.zeros(len(samples))
        if not self.within_df:
            return loss
        panel = self.panel_
        cols = panel.block_cols if self.prep_by == "segment" else [panel.id_col]
        first = ti.blocks.loc[samples > 0, cols].drop_duplicates().index
        loss[np.asarray(first, dtype=np.int64)] = within_df_loss(self.prep, 1)
        return loss

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items()
                   if v != PanelPCMCI().get_params()[k]}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"PanelPCMCI({args})"


def complete_samples(ti: TigramiteInput, tau_max: int) -> np.ndarray:
    """Per dataset: samples with every variable observed at lags ``0..tau_max`` after the cut-off.

    The cut-off is tigramite's ``2 * tau_max`` grid rows (with
    ``cut_off="tau_max"`` the first ``tau_max`` rows of each dataset are
    padding, so the same count applies).

    >>> import pandas as pd
    >>> from features.panel import Panel
    >>> df = pd.DataFrame({"patient": [1] * 5, "week": [1, 2, 3, 4, 5],
    ...                    "x": [1.0, 2.0, None, 4.0, 5.0], "y": [0.0, 1.0, 0.0, 1.0, 0.0]})
    >>> complete_samples(to_tigramite(Panel.from_frame(df, tau_max=None)), 1).tolist()
    [1]
    """
    tau = int(tau_max)
    keys = list(ti.data)
    out = np.zeros(len(keys), dtype=np.int64)
    if not keys:
        return out
    arrays = [ti.data[b] for b in keys]
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    flat = np.concatenate(arrays)
    ok = ~(np.isnan(flat) | (flat == MISSING_FLAG)).any(axis=1)
    # One pass over the stacked datasets: the run of complete rows ending at each row
    # (runs restart at every dataset start); a sample at grid row i >= 2*tau_max of its
    # dataset is complete when that run covers rows i-tau_max..i.
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    local = np.arange(len(flat)) - np.repeat(first, lengths)
    cont = np.zeros(len(flat), dtype=bool)
    cont[1:] = ok[1:] & ok[:-1]
    cont[local == 0] = False
    usable = ok & (run_lengths(cont) >= tau) & (local >= 2 * tau)
    dataset = np.repeat(np.arange(len(keys)), lengths)
    counts = np.bincount(dataset, weights=usable, minlength=len(keys)).astype(np.int64)
    out[np.asarray(keys, dtype=np.int64)] = counts
    return out
