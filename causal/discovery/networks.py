"""The three networks users of mlVAR expect: temporal, contemporaneous and between-person.

A fitted :class:`~causal.discovery.estimator.PanelPCMCI` gives the **temporal**
network (its lagged links). This module adds the two others, estimated on the
same data and with the same kind of test, so all three read alike:

* **contemporaneous** (lag 0): how a person's deviations at the same time point
  go together once the lagged dynamics are accounted for.

  - ``method="pcmciplus"``: PCMCI+'s own lag-0 links (skeleton and orientation
    phases; its intervals come from the reported test,
    :func:`causal.discovery._tigramite.recorded_confidence`).
  - ``method="pcmci"`` (which tests no lag-0 link): as mlVAR, partial
    correlations of the within-person residuals of the lag model. For a pair
    ``(a, b)`` the test is the partial correlation of ``a(t)`` and ``b(t)``
    given every other variable at ``t`` and every variable at ``t-1 ..
    t-tau_max``: the correlation of the residuals of the within-person lag
    model (all lags of all variables), partialled on the other residuals. It
    runs on the prepared (centred or detrended) data with the pooled
    partial-correlation test of discovery, so its Student-t p-value and
    analytic interval use ``n - 2 - |Z|`` degrees of freedom (``|Z| = (N - 2)
    + N * tau_max``: the lag model's parameters and the other variables) minus
    the within-person transform's (``df_loss``). ``significant`` is ``p_value
    <= alpha`` (with ``fdr="fdr_bh"``: Benjamini-Hochberg over the ``N (N-1)
    / 2`` pairs). The association is undirected (``direction == "--"``).
    Whatever ``ci_test`` discovery used, this network is linear (ParCorr), as
    in mlVAR.

* **between-person**: partial correlations of the person means (each person's
  mean of every variable over their observed rows, raw data, persons analysed
  by discovery), with Student-t p-values and analytic intervals on ``n_persons
  - N`` degrees of freedom. It describes how persons differ, not how one
  person's states follow each other; with few persons (fewer than about ten
  per variable) it is weak: wide intervals, little power, and undefined when
  ``n_persons <= N``.

:class:`Networks` holds all three; :func:`three_networks` builds it, and
``Networks.links`` is the :class:`~causal.discovery.links.Links` written to
``links.csv``: every tested lagged link plus the lag-0 rows (two per pair, as
the :class:`~causal.discovery.links.Links` contract says).

Examples
--------
>>> from features.simulate import simulate_cohort
>>> from causal.discovery.estimator import PanelPCMCI
>>> df = simulate_cohort("paper", n_patients=60, n_weeks=13, random_state=1)
>>> model = PanelPCMCI(tau_max=1).fit(df)
>>> nets = three_networks(model, raw=df)
>>> sorted(set(nets.links.table["lag"]))
[0, 1]
>>> nets.contemporaneous_method
'residual partial correlation'
>>> nets.n_persons, nets.between[["source", "target"]].iloc[0].tolist()
(60, ['depression', 'self_compassion'])
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from itertools import combinations

import networkx as nx
import numpy as np
import pandas as pd
from scipy import stats

from causal.discovery._tigramite import link_samples, to_tigramite
from causal.discovery.citests import make_ci_test
from causal.discovery.engine.partial import analytic_confidence, analytic_pvalue
from causal.discovery.estimator import PanelPCMCI
from causal.discovery.links import Links
from causal.graph.build import summary_graph
from features.checks import check_probability
from features.errors import InputError
from features.panel import Panel

__all__ = ["BETWEEN_COLUMNS", "Networks", "between_network", "contemporaneous_links",
           "networks_section", "three_networks"]

logger = logging.getLogger(__name__)

#: Columns of the between-person table (``between.csv``), one row per pair of variables.
BETWEEN_COLUMNS: tuple[str, ...] = ("source", "target", "value", "p_value", "significant",
                                    "ci_low", "ci_high", "direction", "n_persons")

#: Fewer persons per variable than this and the report calls the between network weak.
_WEAK_PERSONS_PER_VARIABLE = 10


def _check_fitted(model: PanelPCMCI) -> None:
    if not isinstance(model, PanelPCMCI) or not hasattr(model, "links_"):
        raise InputError(f"model must be a fitted PanelPCMCI, got {type(model).__name__}")


# ------------------------------------------------------------ contemporaneous
def contemporaneous_links(model: PanelPCMCI) -> pd.DataFrame:
    """Lag-0 rows of the residual partial correlations of a fitted model (mlVAR's network).

    Parameters
    ----------
    model : PanelPCMCI
        A fitted estimator (any method; its prepared panel, ``tau_max``,
        ``alpha``, ``fdr``, ``cut_off`` and per-block ``df_loss`` are used).

    Returns
    -------
    pandas.DataFrame
        Two rows per pair ``(a, b, 0)`` and ``(b, a, 0)`` with the columns of
        :data:`~causal.discovery.links.LINK_COLUMNS` (``directed=False``) and
        ``required=False``; see the module docstring for the test.
    """
    _check_fitted(model)
    names = list(model.links_.variables)
    n_vars, tau = len(names), int(model.tau_max)
    alpha = float(model.alpha)
    ti = to_tigramite(model.panel_, pad=tau if model.cut_off == "tau_max" else 0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="In analysis mode 'multiple'. There is just",
                                category=UserWarning)
        dataframe = ti.dataframe()
    test = make_ci_test("parcorr", ci_level=1 - 2 * alpha,
                        df_loss=model.blocks_["df_loss"].to_numpy(float))
    test.set_dataframe(dataframe)
    lagged = [(k, -lag) for lag in range(1, tau + 1) for k in range(n_vars)]
    pairs = []
    for i, j in combinations(range(n_vars), 2):
        z = [(k, 0) for k in range(n_vars) if k not in (i, j)] + lagged
        value, p_value = test.run_test([(i, 0)], [(j, 0)], Z=z, tau_max=tau)
        low, high = test.get_confidence([(i, 0)], [(j, 0)], Z=z, tau_max=tau)
        n = link_samples(test, i, j, 0, z, tau, default=int(model.n_samples_))
        pairs.append((i, j, float(value), float(p_value), float(low), float(high), n))
    p = np.array([row[3] for row in pairs], dtype=float)
    if model.fdr == "fdr_bh" and np.isfinite(p).all() and len(p):
        p = stats.false_discovery_control(p, method="bh")
    undefined = int(np.isnan(p).sum())
    if undefined:
        logger.warning("%d of %d contemporaneous tests have no p-value (too few samples for "
                       "%d conditions)", undefined, len(p), n_vars - 2 + n_vars * tau)
    rows = []
    for (i, j, value, _, low, high, n), p_adj in zip(pairs, p, strict=True):
        for a, b in ((i, j), (j, i)):
            rows.append({"source": names[a], "target": names[b], "lag": 0, "value": value,
                         "p_value": p_adj, "significant": bool(p_adj <= alpha),
                         "ci_low": low, "ci_high": high, "directed": False, "n_samples": n,
                         "required": False})
    return pd.DataFrame(rows)


# -------------------------------------------------------------------- between
def between_network(data: pd.DataFrame, *, id_col: str, variables: list[str] | tuple[str, ...],
                    alpha: float = 0.05, ci_level: float | None = None) -> pd.DataFrame:
    """Partial correlations of person means, one row per pair of variables.

    Parameters
    ----------
    data : pandas.DataFrame
        Long-format data (one row per person and time point), raw values.
    id_col : str
        Person column.
    variables : sequence of str
        Variables, in the order of the output pairs.
    alpha : float
        Level of ``significant`` (``p_value <= alpha``).
    ci_level : float, optional
        Level of the interval; default ``1 - 2 * alpha`` (as discovery's).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BETWEEN_COLUMNS`; ``value``, ``p_value`` and the
        interval are NaN when the means cannot be partialled (``n_persons <=
        N`` or a variable whose mean is the same for every person). Persons
        with no observed value of some variable are left out (``n_persons``
        counts the rest).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> level = np.repeat(rng.normal(size=40), 5)  # a person-level factor
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(40), 5), "a": level + rng.normal(size=200),
    ...                    "b": level + rng.normal(size=200), "c": rng.normal(size=200)})
    >>> t = between_network(df, id_col="id", variables=["a", "b", "c"])
    >>> t[["source", "target", "significant", "n_persons"]].values.tolist()[0]
    ['a', 'b', True, 40]
    """
    check_probability("alpha", alpha)
    level = 1 - 2 * alpha if ci_level is None else check_probability("ci_level",
                                                                       ci_level)
    variables = list(variables)
    missing = [c for c in [id_col, *variables] if c not in data.columns]
    if missing:
        raise InputError(f"between_network: column(s) {missing} not in the data")
    means = data.groupby(id_col, sort=True)[variables].mean().dropna()
    n, k = len(means), len(variables)
    pcor = np.full((k, k), np.nan)
    if n > k:
        corr = np.corrcoef(means.to_numpy(float), rowvar=False)
        if np.isfinite(corr).all() and np.linalg.matrix_rank(corr) == k:
            precision = np.linalg.inv(corr)
            d = np.sqrt(np.diag(precision))
            pcor = -precision / np.outer(d, d)
    if n <= k:
        logger.warning("between-person network undefined: %d persons for %d variables", n, k)
    rows = []
    for i, j in combinations(range(k), 2):
        value = float(pcor[i, j])
        if np.isfinite(value):
            p_value = analytic_pvalue(value, n, k)
            low, high = analytic_confidence(value, n - k, level)
        else:
            p_value = low = high = np.nan
        rows.append({"source": variables[i], "target": variables[j], "value": value,
                     "p_value": p_value, "significant": bool(p_value <= alpha),
                     "ci_low": low, "ci_high": high, "direction": "--", "n_persons": n})
    return pd.DataFrame(rows, columns=list(BETWEEN_COLUMNS))


# ------------------------------------------------------------------- networks
@dataclass(frozen=True)
class Networks:
    """The temporal, contemporaneous and between-person networks of one run.

    Attributes
    ----------
    links : Links
        Every tested link: the lagged ones of discovery (the temporal network)
        and the lag-0 rows (the contemporaneous network); ``links.csv``.
    between : pandas.DataFrame
        The between-person network (:func:`between_network`); ``between.csv``.
    contemporaneous_method : str
        ``"pcmciplus"`` or ``"residual partial correlation"``.
    n_persons : int
        Persons behind the between-person network.
    """

    links: Links
    between: pd.DataFrame
    contemporaneous_method: str
    n_persons: int

    @property
    def temporal(self) -> pd.DataFrame:
        """Rows of the lagged links (lag >= 1)."""
        t = self.links.table
        return t[t["lag"] > 0].reset_index(drop=True)

    @property
    def contemporaneous(self) -> pd.DataFrame:
        """Rows of the lag-0 links (two per pair)."""
        t = self.links.table
        return t[t["lag"] == 0].reset_index(drop=True)

    @property
    def weak_between(self) -> bool:
        """Fewer than 10 persons per variable behind the between-person network."""
        return self.n_persons < _WEAK_PERSONS_PER_VARIABLE * len(self.links.variables)

    def graphs(self) -> list[tuple[str, nx.DiGraph]]:
        """Return the three networks as ``(title, graph)`` panels for ``plot_networks``.

        Temporal: significant lagged links collapsed over lags
        (:func:`~causal.graph.build.summary_graph`); contemporaneous: significant
        lag-0 links; between: significant partial correlations of means
        (``kind="between"``).
        """
        links = self.links
        names = links.variables
        temporal = summary_graph(Links(table=self.temporal, variables=names,
                                       tau_max=links.tau_max, alpha=links.alpha))
        contemp = summary_graph(Links(table=self.contemporaneous, variables=names,
                                      tau_max=links.tau_max, alpha=links.alpha))
        between = nx.DiGraph()
        between.add_nodes_from(names)
        for r in self.between[self.between["significant"]].itertuples():
            attrs = {"lag": 0, "value": float(r.value), "directed": False, "kind": "between",
                     "p_value": float(r.p_value)}
            between.add_edge(r.source, r.target, **attrs)
            between.add_edge(r.target, r.source, **attrs)
        method = ("PCMCI+" if self.contemporaneous_method == "pcmciplus"
                  else "residual partial correlations")
        return [("temporal (lagged)", temporal), (f"contemporaneous ({method})", contemp),
                (f"between persons ({self.n_persons} person means)", between)]


def three_networks(model: PanelPCMCI, panel: Panel | None = None, *,
                   raw: pd.DataFrame | None = None) -> Networks:
    """Build the three networks of a fitted model.

    Parameters
    ----------
    model : PanelPCMCI
        Fitted estimator.
    panel : Panel, optional
        The validated panel before preprocessing (its raw values give the person
        means); default the model's prepared panel (its means are those of
        the transformed data, zero after centring or detrending, so pass the
        raw panel when you have it).
    raw : pandas.DataFrame, optional
        Raw long-format rows instead of ``panel`` (columns ``id_col`` and the
        variables).

    Returns
    -------
    Networks
    """
    _check_fitted(model)
    links = model.links_
    prepared = model.panel_
    if raw is None:
        raw = (panel if panel is not None else prepared).data
    analysed = raw[raw[prepared.id_col].isin(set(prepared.patients))]
    if model.method == "pcmciplus" and model.contemporaneous:
        table, method = links.table, "pcmciplus"
    else:
        table = pd.concat([links.table, contemporaneous_links(model)], ignore_index=True)
        method = "residual partial correlation"
    combined = Links(table=table, variables=links.variables, tau_max=links.tau_max,
                     alpha=links.alpha, method=links.method, ci_test=links.ci_test,
                     settings={**links.settings, "contemporaneous": method})
    between = between_network(analysed, id_col=prepared.id_col, variables=links.variables,
                              alpha=links.alpha, ci_level=links.settings.get("ci_level"))
    n_persons = int(between["n_persons"].iloc[0]) if len(between) else 0
    return Networks(links=combined, between=between, contemporaneous_method=method,
                    n_persons=n_persons)


# --------------------------------------------------------------------- report
def _pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per lag-0 link: the oriented row, or the first of an undirected pair."""
    keep, seen = [], set()
    for idx, r in rows.iterrows():
        key = frozenset((r["source"], r["target"]))
        if r["direction"] == "<-" or key in seen:
            continue
        seen.add(key)
        keep.append(idx)
    return rows.loc[keep]


def networks_section(networks: Networks, figure: str | None = "networks.png") -> str:
    """Markdown body of the report section on the three networks."""
    from causal.report import markdown_table

    links = networks.links
    level = links.settings.get("ci_level", 1 - 2 * links.alpha)
    temporal = networks.temporal
    contemp = networks.contemporaneous
    sig_c = _pairs(contemp[contemp["significant"]])
    between = networks.between
    sig_b = between[between["significant"]]
    n_vars = len(links.variables)
    if networks.contemporaneous_method == "pcmciplus":
        how = ("PCMCI+'s lag-0 links: `significant` means the link is in the PCMCI+ graph; "
               "`direction` is `->` for an oriented link (its reverse row reads `<-`) and "
               "`--` for an unoriented one. `value`, `p_value` and the interval are those of "
               "the test PCMCI+ reported (its largest p-value over the condition sets tried).")
    else:
        how = ("partial correlations of the within-person residuals of the lag model (as "
               "mlVAR): each pair is tested given every other variable at the same time "
               f"and all variables at lags 1..{links.tau_max}, on the prepared data, with "
               "the degrees of freedom net of the lag model's parameters and of the "
               "within-person transform. `significant` means p <= alpha"
               + (" after Benjamini-Hochberg over the pairs" if links.settings.get("fdr")
                  else "") + "; `direction` is `--` (undirected).")
    cols = ["source", "target", "value", "ci_low", "ci_high", "p_value", "n_samples"]
    out = [f"Temporal: {int(temporal['significant'].sum())} of {len(temporal)} lagged links "
           "significant (`links.csv`, lag >= 1, `direction` `->`; table above).", "",
           f"Contemporaneous (lag 0, `links.csv` rows with lag 0, two rows per pair): {how} "
           f"{len(sig_c)} of {n_vars * (n_vars - 1) // 2} pairs significant; intervals are "
           f"{level:.0%} intervals.", ""]
    if not sig_c.empty:
        out += [markdown_table(sig_c[[*cols[:2], "direction", *cols[2:]]]), ""]
    weak = (f" With {networks.n_persons} persons for {n_vars} variables this network is "
            "weak: intervals are wide and absent edges say little."
            if networks.weak_between else "")
    out += [f"Between persons (`between.csv`): partial correlations of the person means of "
            f"{networks.n_persons} persons ({networks.n_persons - n_vars} degrees of "
            "freedom). It describes how persons differ on average, not how a person's states "
            f"follow each other.{weak} {len(sig_b)} of {len(between)} pairs significant.", ""]
    if not sig_b.empty:
        out += [markdown_table(sig_b[["source", "target", "value", "ci_low", "ci_high",
                                      "p_value"]]), ""]
    if figure:
        out += [f"![{figure}]({figure})", "", "Solid: lagged; dashed: contemporaneous; dotted: "
                "between persons; red positive, blue negative; width grows with |value|."]
    return "\n".join(out)
