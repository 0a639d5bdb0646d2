"""PanelPCMCI: a scikit-learn-style estimator over tigramite's PCMCI and PCMCI+.

This module is the boundary with tigramite: it hands tigramite one dataset per
patient block (multiple-dataset mode, see :mod:`features.lags`), runs its
algorithm unchanged, and converts the result dicts and string graphs into a
typed :class:`~causal.links.Links` table before anything else sees them.

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

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from causal.citests import CI_TESTS, make_ci_test, within_df_loss
from causal.graph import summary_graph
from causal.links import Links
from features.errors import DataError
from features.lags import TigramiteInput, to_tigramite
from features.panel import ExclusionReport, Panel
from features.transforms import PREPS, prepare

__all__ = ["METHODS", "PanelPCMCI"]

logger = logging.getLogger(__name__)

#: Discovery algorithms.
METHODS = ("pcmci", "pcmciplus")
_CUT_OFFS = ("2xtau_max", "tau_max")
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
        One of :data:`causal.citests.CI_TESTS`.
    fdr : {None, "fdr_bh"}
        Benjamini-Hochberg correction of the MCI p-values (tigramite's).
    prep : {"detrend", "center", "none"}
        Within-person preprocessing (see :mod:`features.transforms`).
    standardize : bool
        Also standardize within patient.
    prep_by : {"patient", "segment"}
        Grouping of the within-person transform.
    forbid, require : iterable of (source, target, lag)
        Background knowledge: links never tested, or always kept as parents
        and reported as present (``required`` column).
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
        tests' degrees of freedom (see :func:`causal.citests.within_df_loss`).
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
        if not isinstance(self.tau_max, (int, np.integer)) or self.tau_max < 1:
            raise ValueError(f"tau_max must be an integer >= 1, got {self.tau_max!r}")
        for name in ("alpha", "pc_alpha"):
            val = getattr(self, name)
            if name == "pc_alpha" and val is None:
                continue
            if not (isinstance(val, (int, float)) and 0 < val < 1):
                raise ValueError(f"{name} must be in (0, 1), got {val!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.ci_test not in CI_TESTS:
            raise ValueError(f"ci_test must be one of {CI_TESTS}, got {self.ci_test!r}")
        if self.fdr not in (None, "none", "fdr_bh"):
            raise ValueError(f"fdr must be None or 'fdr_bh', got {self.fdr!r}")
        if self.prep not in PREPS:
            raise ValueError(f"prep must be one of {PREPS}, got {self.prep!r}")
        if self.cut_off not in _CUT_OFFS:
            raise ValueError(f"cut_off must be one of {_CUT_OFFS}, got {self.cut_off!r}")

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
            ``exclusions_``, ``links_`` (:class:`~causal.links.Links`),
            ``graph_`` (summary :class:`networkx.DiGraph`) and
            ``n_samples_`` (samples in a test without missing values).
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
        panel = prepare(panel, self.prep, standardize_within=self.standardize, by=self.prep_by)
        panel = panel.drop_short(tau, self.min_lagged_rows)
        self.panel_ = panel
        self.exclusions_: ExclusionReport = panel.exclusions
        pad = tau if self.cut_off == "tau_max" else 0
        self.input_: TigramiteInput = to_tigramite(panel, pad=pad)
        per_block = self._complete_samples(self.input_)
        self.n_samples_ = int(per_block.sum())
        groups = self.input_.blocks.loc[per_block > 0,
                                        panel.block_cols if self.prep_by == "segment"
                                        else [panel.id_col]]
        self.df_loss_ = (within_df_loss(self.prep, len(groups.drop_duplicates()))
                         if self.within_df else 0)
        self.links_ = self._run(self.input_)
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
                raise ValueError(f"{what} link must be (source, target, lag), got {spec!r}") from None
            for v in (src, tgt):
                if v not in idx:
                    raise ValueError(f"{what} link {spec!r}: unknown variable {v!r}; "
                                     f"variables are {list(names)}")
            if not (tau_min <= int(lag) <= int(self.tau_max)) or (int(lag) == 0 and src == tgt):
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

    def _run(self, ti: TigramiteInput) -> Links:
        from tigramite.pcmci import PCMCI

        names = list(ti.var_names)
        conf_level = 1 - 2 * self.alpha
        test = make_ci_test(self.ci_test, conf_level=conf_level, random_state=self.random_state,
                            df_loss=self.df_loss_)
        pcmci = PCMCI(dataframe=ti.dataframe(), cond_ind_test=test, verbosity=0)
        assumptions = self._link_assumptions(names)
        fdr = "none" if self.fdr in (None, "none") else self.fdr
        tau = int(self.tau_max)
        try:
            if self.method == "pcmci":
                res = pcmci.run_pcmci(tau_min=1, tau_max=tau, pc_alpha=self.pc_alpha,
                                      alpha_level=self.alpha, link_assumptions=assumptions,
                                      fdr_method=fdr)
            else:
                res = pcmci.run_pcmciplus(tau_min=0, tau_max=tau, pc_alpha=self.alpha,
                                          link_assumptions=assumptions, fdr_method=fdr)
        except ValueError as exc:  # tigramite reports degenerate data as ValueError
            raise DataError(f"tigramite could not run {self.method} on these data: {exc}") from exc
        return self._to_links(res, names, assumptions, conf_level)

    def _to_links(self, res: dict[str, Any], names: list[str],
                  assumptions: dict[int, dict[tuple[int, int], str]], conf_level: float) -> Links:
        val, pval, graph = res["val_matrix"], res["p_matrix"], res["graph"]
        conf = res.get("conf_matrix")
        rows = []
        for j, links_j in assumptions.items():
            for (i, neg_lag), assumed in links_j.items():
                lag = -neg_lag
                mark = str(graph[i, j, lag])
                directed = lag > 0 or mark == "-->"
                rows.append({
                    "source": names[i], "target": names[j], "lag": lag,
                    "value": float(val[i, j, lag]), "p_value": float(pval[i, j, lag]),
                    "significant": mark != "" or assumed == "-->",
                    "ci_low": float(conf[i, j, lag, 0]) if conf is not None else np.nan,
                    "ci_high": float(conf[i, j, lag, 1]) if conf is not None else np.nan,
                    "directed": bool(directed) and mark != "<--",
                    "required": assumed == "-->",
                })
        table = pd.DataFrame(rows)
        table["n_samples"] = -1
        settings = {"pc_alpha": self.pc_alpha, "fdr": self.fdr, "prep": self.prep,
                    "standardize": self.standardize, "conf_level": conf_level,
                    "cut_off": self.cut_off, "prep_by": self.prep_by, "df_loss": self.df_loss_}
        return Links(table=table, variables=tuple(names), tau_max=int(self.tau_max),
                     alpha=float(self.alpha), method=self.method, ci_test=self.ci_test,
                     settings=settings)

    def _complete_samples(self, ti: TigramiteInput) -> np.ndarray:
        """Per block: samples with every variable observed at lags 0..tau_max after the cut-off."""
        tau = int(self.tau_max)
        cut = 2 * tau  # in grid rows; with cut_off="tau_max" the first tau rows are padding
        out = np.zeros(len(ti.data), dtype=np.int64)
        for b, arr in ti.nan_arrays().items():
            ok = ~np.isnan(arr).any(axis=1)
            if len(ok) <= cut:
                continue
            win = np.ones(len(ok) - tau, dtype=bool)
            for k in range(tau + 1):
                win &= ok[k:len(ok) - tau + k]
            out[b] = int(win[cut - tau:].sum())
        return out

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items()
                   if v != PanelPCMCI().get_params()[k]}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"PanelPCMCI({args})"
