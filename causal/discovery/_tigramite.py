"""The private tigramite adapter: the only place tigramite's structures live.

Everything :mod:`causal.discovery.estimator` and :mod:`causal.resampling` see is
typed (names, positive lags, pandas tables); this module converts both ways:

* **input**: :func:`to_tigramite` lays every block (patient x segment) of a
  :class:`~features.panel.Panel` on its integer time grid as one dataset of
  tigramite's multiple-dataset mode (:class:`TigramiteInput`, missing values as
  :data:`MISSING_FLAG`); :func:`complete_samples` counts each dataset's test
  samples; :func:`link_assumptions` turns background knowledge into
  tigramite's ``{j: {(i, -tau): '-?>'}}``;
* **run**: :func:`run_pcmci` runs PCMCI or PCMCI+ (:class:`Algorithm`) with a
  given conditional-independence test, re-tests links fixed by background
  knowledge (tigramite reports placeholders ``value=1, p_value=0`` for
  ``'-->'`` assumptions) with tigramite's MCI conditions, and counts the
  samples behind each test;
* **output**: tigramite's string graph marks become the ``significant`` /
  ``directed`` contract of :mod:`causal.discovery.links`, and parents become
  ``{target: [(source, lag), ...]}`` (:class:`LinkRun`);
* **resampling**: :class:`Rerun` re-runs a fitted estimator on its own data
  with per-dataset weights (the one hook of :mod:`causal.resampling`, reached
  through ``PanelPCMCI._rerun``).

Nodes are tigramite's ``(variable index, -lag)`` tuples.

Examples
--------
MCI conditions of ``x1(t-1) -> x0(t)``: the parents of ``x0(t)`` except the
tested one, then the parents of ``x1`` shifted back by the lag.

>>> parents = {0: [(0, -1), (1, -1)], 1: [(1, -1), (0, -2)]}
>>> mci_conditions(parents, i=1, j=0, lag=1)
[(0, -1), (1, -2), (0, -3)]
>>> link_state("-->", assumed="-?>", lag=0), link_state("<--", assumed="o?o", lag=0)
((True, True), (False, False))
>>> link_state("o-o", assumed="o?o", lag=0), link_state("", assumed="-->", lag=1)
((True, False), (True, True))

Each block becomes one dataset on its full time grid (a missing week is a row
of :data:`MISSING_FLAG`):

>>> df = pd.DataFrame({"patient": [1, 1, 1, 2, 2], "week": [1, 2, 4, 1, 2],
...                    "x": [1.0, 2.0, 4.0, 10.0, 20.0]})
>>> ti = to_tigramite(Panel.from_frame(df, tau_max=None))
>>> [a.shape for a in ti.data.values()]
[(4, 1), (2, 1)]
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from causal.discovery.citests import make_ci_test
from features.errors import DataError, InputError, format_value, is_integer
from features.panel import Panel
from features.samples import run_lengths

__all__ = [
    "MISSING_FLAG",
    "Algorithm",
    "LinkRun",
    "NoSamplesError",
    "Rerun",
    "TigramiteInput",
    "complete_samples",
    "link_assumptions",
    "link_samples",
    "link_state",
    "links_table",
    "mci_conditions",
    "recorded_confidence",
    "reestimate_required",
    "run_pcmci",
    "to_tigramite",
]

logger = logging.getLogger(__name__)

#: Sentinel handed to tigramite for missing values (tigramite turns it into NaN).
MISSING_FLAG: float = -9.87654321e300

Node = tuple[int, int]
Assumptions = Mapping[int, Mapping[Node, str]]
Parents = Mapping[int, Sequence[Node]]

#: Graph marks of a link that is in the discovered graph (both ends' rows for unoriented
#: 'o-o' and conflicting 'x-x' links; the arrow's source row for '-->').
_PRESENT = ("-->", "o-o", "x-x")


def mci_conditions(parents: Parents, i: int, j: int, lag: int) -> list[Node]:
    """Conditions of tigramite's MCI test of ``x_i(t - lag) -> x_j(t)``.

    The parents of ``x_j(t)`` other than ``x_i(t - lag)``, followed by the
    parents of ``x_i`` shifted back by ``lag`` (duplicates left out), as
    tigramite's ``PCMCI._iter_indep_conds`` (PCMCI) and ``_run_pcalg_test``
    with an empty contemporaneous set (PCMCI+) build them.

    Parameters
    ----------
    parents : mapping of int to list of (int, int)
        Parents of each variable (``PCMCI.all_parents`` after ``run_pcmci``,
        ``PCMCI.all_lagged_parents`` after ``run_pcmciplus``).
    i, j : int
        Source and target variable indices.
    lag : int
        Lag of the link (>= 0).

    Returns
    -------
    list of (int, int)
    """
    z = [node for node in parents.get(j, []) if node != (i, -lag)]
    z += [node for node in ((k, -lag + k_lag) for k, k_lag in parents.get(i, []))
          if node not in z]
    return z


def link_state(mark: str, *, assumed: str, lag: int) -> tuple[bool, bool]:
    """Return ``(significant, directed)`` of one row from tigramite's graph mark.

    Parameters
    ----------
    mark : str
        ``graph[i, j, lag]`` of tigramite's result (``""`` for no link).
    assumed : str
        The link assumption the row was tested under (``"-->"`` = required).
    lag : int
        Lag of the row.

    Returns
    -------
    (bool, bool)
        Lagged rows are always directed; a lag-0 row is directed only when it
        is the source row of an oriented link (mark ``'-->'``). The reverse
        row ``'<--'`` of an oriented link is not significant, so an oriented
        contemporaneous link is one significant row; ``'o-o'`` and ``'x-x'``
        are two significant undirected rows (see :class:`causal.discovery.links.Links`).
    """
    required = assumed == "-->"
    significant = mark in _PRESENT or required
    directed = lag > 0 or (significant and (mark == "-->" or (required and mark == "")))
    return bool(significant), bool(directed)


def reestimate_required(test: Any, res: Mapping[str, Any], assumptions: Assumptions,
                        parents: Parents, tau_max: int) -> dict[str, Any]:
    """Replace tigramite's placeholders for required links with a real test.

    tigramite does not test a link assumed ``'-->'``; it reports
    ``value=1, p_value=0``. Each such link is tested here with
    ``test.run_test`` under its MCI conditions (:func:`mci_conditions`), and
    the confidence interval is computed with the same conditions where the
    test provides one. A lag-0 result is mirrored into the reverse entry, as
    tigramite symmetrizes contemporaneous entries.

    Parameters
    ----------
    test : tigramite CondIndTest
        The test PCMCI ran (``PCMCI.cond_ind_test``, its dataframe attached).
    res : mapping
        tigramite's result dict (``val_matrix``, ``p_matrix``, optional ``conf_matrix``).
    assumptions : mapping
        The link assumptions PCMCI ran with.
    parents : mapping
        Conditions per variable (see :func:`mci_conditions`).
    tau_max : int
        Largest lag of the run.

    Returns
    -------
    dict
        ``val_matrix``, ``p_matrix`` and ``conf_matrix`` (copies; the latter
        None when neither tigramite nor the re-tests gave intervals). The
        p-value of a required link is never FDR-adjusted.
    """
    val = np.array(res["val_matrix"], dtype=float)
    pval = np.array(res["p_matrix"], dtype=float)
    conf = res.get("conf_matrix")
    conf = None if conf is None else np.array(conf, dtype=float)
    for j, links_j in assumptions.items():
        for (i, neg_lag), assumed in links_j.items():
            if assumed != "-->":
                continue
            lag = -neg_lag
            x, y, z = [(i, -lag)], [(j, 0)], mci_conditions(parents, i, j, lag)
            v, p = test.run_test(x, y, Z=z, tau_max=tau_max)[:2]
            ci = test.get_confidence(x, y, Z=z, tau_max=tau_max)
            if ci is not None and conf is None:
                conf = np.full((*val.shape, 2), np.nan)
            targets = [(i, j)] + ([(j, i)] if lag == 0 else [])
            for a, b in targets:
                val[a, b, lag], pval[a, b, lag] = float(v), float(p)
                if ci is not None:
                    conf[a, b, lag] = ci
            logger.debug("required link %d -> %d at lag %d re-tested: value %.3f, p %.3g",
                         i, j, lag, v, p)
    return {"val_matrix": val, "p_matrix": pval, "conf_matrix": conf}


def recorded_confidence(test: Any, res: Mapping[str, Any], assumptions: Assumptions,
                        tau_max: int) -> np.ndarray | None:
    """Confidence bounds of each reported value, from the test that produced it.

    PCMCI+ reports, per link, the statistic of the test with the largest
    p-value among the condition sets it tried (tigramite's ``_pcalg_skeleton``;
    lag-0 entries are symmetrized to the larger p-value of both directions),
    but no interval. Every test a tigramite test object runs is logged in its
    ``ci_results`` (``(X, Y, Z) -> (val, pval, dependent)``); the test behind
    a reported ``val`` is the logged one with that exact value (at lag 0 in
    either direction), the largest p-value among equal values. Its interval is
    ``test.get_confidence(X, Y, Z)``: the same statistic and degrees of freedom
    (``n - 2 - |Z|``, minus the within-transform loss), as PCMCI reports.

    Parameters
    ----------
    test : tigramite CondIndTest
        The test after the run (``PCMCI.cond_ind_test``), its ``ci_results`` filled.
    res : mapping
        tigramite's result dict (``val_matrix``).
    assumptions : mapping
        The tested links.
    tau_max : int
        Largest lag of the run.

    Returns
    -------
    ndarray of shape (N, N, tau_max + 1, 2) or None
        NaN where no logged test matches (e.g. a required link, re-tested
        later); None if the test gives no intervals (``confidence`` unset).
    """
    if not getattr(test, "confidence", None):
        return None
    val = np.asarray(res["val_matrix"], dtype=float)
    conf = np.full((*val.shape, 2), np.nan)
    logged: dict[tuple[Node, Node], list[tuple[float, float, tuple[Node, ...]]]] = {}
    for (x, y, z), (v, p, _) in getattr(test, "ci_results", {}).items():
        if len(x) == 1 and len(y) == 1:
            logged.setdefault((tuple(x[0]), tuple(y[0])), []).append(
                (float(v), -np.inf if p is None else float(p), tuple(z)))
    for j, links_j in assumptions.items():
        for (i, neg_lag), _assumed in links_j.items():
            lag = -neg_lag
            target = val[i, j, lag]
            pairs = [((i, -lag), (j, 0))] + ([((j, 0), (i, 0))] if lag == 0 else [])
            best = None
            for x, y in pairs:
                for v, p, z in logged.get((x, y), []):
                    if v == target and (best is None or p >= best[0]):
                        best = (p, x, y, z)
            if best is None:
                continue
            _, x, y, z = best
            bounds = test.get_confidence([x], [y], Z=list(z), tau_max=tau_max)
            if bounds is not None:
                conf[i, j, lag] = bounds
    return conf


def link_samples(test: Any, i: int, j: int, lag: int, z: Sequence[Node], tau_max: int,
                 default: int) -> int:
    """Count the samples in the test of ``x_i(t - lag) -> x_j(t)`` given ``z``.

    Counted exactly by :class:`causal.discovery.engine.PooledParCorr` (samples in which
    every node of the test is observed after tigramite's ``2*tau_max``
    cut-off, weighted under bootstrap weights); ``default`` for other tests.
    """
    from causal.discovery.engine import NoValidSamplesError, PooledParCorr, column_index, cut_for

    if not isinstance(test, PooledParCorr) or test.dataframe is None:
        return int(default)
    n_vars = test.dataframe.N
    nodes = dict.fromkeys([(i, -lag), (j, 0), *z])
    cols = [column_index(var, -node_lag, n_vars) for var, node_lag in nodes]
    try:
        n = test.pooled(cut_for("2xtau_max", int(tau_max))).select(cols).n
    except NoValidSamplesError:
        return 0
    return round(float(n))


def links_table(res: Mapping[str, Any], names: Sequence[str], assumptions: Assumptions, *,
                test: Any, parents: Parents, tau_max: int, default_samples: int) -> pd.DataFrame:
    """Return one row per tested link (the table of :class:`causal.discovery.links.Links`).

    Parameters
    ----------
    res : mapping
        tigramite's result dict, required links already re-tested
        (:func:`reestimate_required`).
    names : sequence of str
        Variable names in tigramite's order.
    assumptions : mapping
        The link assumptions the run used: every key is a tested link.
    test, parents, tau_max, default_samples
        For :func:`link_samples` with the link's MCI conditions.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`causal.discovery.links.LINK_COLUMNS` plus ``required``.
    """
    val, pval, graph = res["val_matrix"], res["p_matrix"], res["graph"]
    conf = res.get("conf_matrix")
    rows = []
    for j, links_j in assumptions.items():
        for (i, neg_lag), assumed in links_j.items():
            lag = -neg_lag
            significant, directed = link_state(str(graph[i, j, lag]), assumed=assumed, lag=lag)
            # at lag 0 the node set of the test is the same for both rows of a pair
            z = mci_conditions(parents, i, j, lag)
            rows.append({
                "source": names[i], "target": names[j], "lag": lag,
                "value": float(val[i, j, lag]), "p_value": float(pval[i, j, lag]),
                "significant": significant,
                "ci_low": float(conf[i, j, lag, 0]) if conf is not None else np.nan,
                "ci_high": float(conf[i, j, lag, 1]) if conf is not None else np.nan,
                "directed": directed,
                "n_samples": link_samples(test, i, j, lag, z, tau_max, default_samples),
                "required": assumed == "-->",
            })
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ input
@dataclass(frozen=True)
class TigramiteInput:
    """Arrays for ``tigramite.data_processing.DataFrame(analysis_mode="multiple")``.

    Attributes
    ----------
    data : dict of int to ndarray
        One float array of shape (T_b, N) per block, on the block's full
        integer time grid, with :data:`MISSING_FLAG` where a value is missing.
    var_names : tuple of str
        Variable names (columns).
    blocks : pandas.DataFrame
        One row per dataset key: the block's patient (and segment) values,
        ``start`` time and ``length``.
    pad : int
        Rows of missing values prepended to every block.
    """

    data: dict[int, np.ndarray]
    var_names: tuple[str, ...]
    blocks: pd.DataFrame
    pad: int = 0

    def dataframe(self):  # -> tigramite.data_processing.DataFrame
        """Return a tigramite ``DataFrame`` in multiple-dataset mode."""
        return _dataframe({k: v.copy() for k, v in self.data.items()}, self.var_names)

    def nan_arrays(self) -> dict[int, np.ndarray]:
        """Return the arrays with NaN instead of the missing flag."""
        return {k: np.where(v == MISSING_FLAG, np.nan, v) for k, v in self.data.items()}


def _dataframe(data: dict[int, np.ndarray], names: Sequence[str]):
    from tigramite.data_processing import DataFrame

    return DataFrame(data, analysis_mode="multiple", var_names=list(names),
                     missing_flag=MISSING_FLAG)


def to_tigramite(panel: Panel, *, pad: int = 0) -> TigramiteInput:
    """Lay every block of the panel on its integer time grid for tigramite.

    Parameters
    ----------
    panel : Panel
        Validated (and usually transformed) panel.
    pad : int
        Prepend this many rows of missing values to each block. With
        ``pad=tau_max`` tigramite's fixed ``2*tau_max`` cut-off at the start of
        every series only removes the padding plus samples whose lags are
        missing, which keeps ``tau_max`` more weeks of each short series
        (see ``docs/method.md``, "sample definition").

    Raises
    ------
    InputError
        If ``pad`` is not a non-negative integer, or a value equals
        :data:`MISSING_FLAG`.
    """
    if int(pad) != pad or pad < 0:
        raise InputError(f"pad must be a non-negative integer, got {format_value(pad)}")
    keys = panel.block_cols
    data = panel.data
    values = data[list(panel.variables)].to_numpy(dtype=float)
    if np.any(values == MISSING_FLAG):
        raise InputError("data contain the reserved missing-value sentinel "
                         f"{format_value(MISSING_FLAG)}")
    times = data[panel.time_col].to_numpy(dtype=np.int64)
    codes = data.groupby(keys, sort=False).ngroup().to_numpy()
    n_blocks = int(codes.max()) + 1 if len(codes) else 0
    starts = np.full(n_blocks, np.iinfo(np.int64).max)
    ends = np.full(n_blocks, np.iinfo(np.int64).min)
    np.minimum.at(starts, codes, times)
    np.maximum.at(ends, codes, times)
    lengths = ends - starts + 1 + int(pad)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat = np.full((int(offsets[-1]), values.shape[1]), MISSING_FLAG)
    pos = offsets[codes] + int(pad) + (times - starts[codes])
    flat[pos] = np.where(np.isnan(values), MISSING_FLAG, values)
    arrays = {b: flat[offsets[b]:offsets[b + 1]] for b in range(n_blocks)}
    first = data.groupby(keys, sort=False).head(1)
    blocks = first[keys].reset_index(drop=True)
    blocks["start"] = starts
    blocks["length"] = lengths
    logger.debug("tigramite input: %d blocks, %d grid rows", n_blocks, len(flat))
    return TigramiteInput(data=arrays, var_names=tuple(panel.variables), blocks=blocks,
                          pad=int(pad))


def complete_samples(ti: TigramiteInput, tau_max: int) -> np.ndarray:
    """Per dataset: samples with every variable observed at lags ``0..tau_max`` after the cut-off.

    The cut-off is tigramite's ``2 * tau_max`` grid rows (with
    ``cut_off="tau_max"`` the first ``tau_max`` rows of each dataset are
    padding, so the same count applies).

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


def link_assumptions(names: Sequence[str], *, tau_min: int, tau_max: int,
                     forbid: Iterable[Any] = (), require: Iterable[Any] = ()
                     ) -> dict[int, dict[Node, str]]:
    """Return tigramite's link assumptions: every tested link, and background knowledge.

    Parameters
    ----------
    names : sequence of str
        Variable names in tigramite's order.
    tau_min, tau_max : int
        Lags tested (``tau_min=0`` tests contemporaneous links, PCMCI+).
    forbid, require : iterable of (source, target, lag)
        Links never tested (left out), or always kept (``'-->'``; a lag-0
        requirement ``(a, b, 0)`` orients ``a -> b``).

    Raises
    ------
    InputError
        If a link is not a ``(source, target, lag)`` triple of known
        variables with a lag in ``tau_min..tau_max`` (no lag-0 self link).

    Examples
    --------
    >>> link_assumptions(["a", "b"], tau_min=1, tau_max=1, forbid=[("a", "b", 1)])
    {0: {(0, -1): '-?>', (1, -1): '-?>'}, 1: {(1, -1): '-?>'}}
    """
    idx = {v: i for i, v in enumerate(names)}
    out: dict[int, dict[Node, str]] = {}
    for j in range(len(names)):
        out[j] = {(i, -t): ("-?>" if t > 0 else "o?o")
                  for i in range(len(names)) for t in range(tau_min, int(tau_max) + 1)
                  if t > 0 or i != j}

    def check(spec: Any, what: str) -> tuple[int, int, int]:
        try:
            src, tgt, lag = spec
        except (TypeError, ValueError):
            raise InputError(f"{what} link must be (source, target, lag), "
                             f"got {format_value(spec)}") from None
        for v in (src, tgt):
            if v not in idx:
                raise InputError(f"{what} link {spec!r}: unknown variable {format_value(v)}; "
                                 f"variables are {list(names)}")
        if not is_integer(lag) or not (tau_min <= lag <= int(tau_max)) or (
                lag == 0 and src == tgt):
            raise InputError(f"{what} link {spec!r}: lag must be in {tau_min}..{tau_max}")
        return idx[src], idx[tgt], int(lag)

    for spec in forbid:
        i, j, lag = check(spec, "forbidden")
        out[j].pop((i, -lag), None)
        if lag == 0:
            out[i].pop((j, 0), None)
    for spec in require:
        i, j, lag = check(spec, "required")
        out[j][(i, -lag)] = "-->"
        if lag == 0:
            out[i][(j, 0)] = "<--"
    return out


# -------------------------------------------------------------------- run
@dataclass(frozen=True)
class Algorithm:
    """What tigramite runs: the algorithm, its levels and the tested links."""

    method: str  # "pcmci" or "pcmciplus"
    tau_max: int
    alpha: float
    pc_alpha: float | None
    fdr: str | None
    names: tuple[str, ...]
    assumptions: Mapping[int, Mapping[Node, str]]


@dataclass(frozen=True)
class LinkRun:
    """A typed run result: variable names and positive lags only.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per tested link, columns of
        :data:`causal.discovery.links.LINK_COLUMNS` plus ``required``, in
        link-assumption order.
    parents : dict of str to list of (str, int)
        ``{target: [(source, lag), ...]}``: the lagged conditions of the
        final tests (see :meth:`PanelPCMCI.fit
        <causal.discovery.estimator.PanelPCMCI.fit>`).
    """

    table: pd.DataFrame
    parents: dict[str, list[tuple[str, int]]]


class NoSamplesError(DataError):
    """A test had no valid sample (its nodes are never observed together in one block)."""


def run_pcmci(algorithm: Algorithm, dataframe: Any, test: Any, *,
              default_samples: int = -1) -> LinkRun:
    """Run PCMCI or PCMCI+ on a tigramite ``DataFrame`` with a given test.

    Parameters
    ----------
    algorithm : Algorithm
        Method, levels, FDR rule and link assumptions.
    dataframe : tigramite.data_processing.DataFrame
        The data (multiple-dataset mode, variables ``algorithm.names``).
    test : tigramite CondIndTest
        The test object (tigramite deep-copies it).
    default_samples : int
        ``n_samples`` reported for tests that cannot count samples.

    Raises
    ------
    DataError
        If tigramite rejects the data as degenerate.
    """
    from tigramite.pcmci import PCMCI

    from causal.discovery.engine import NoValidSamplesError

    a = algorithm
    assumptions = a.assumptions
    pcmci = PCMCI(dataframe=dataframe, cond_ind_test=test, verbosity=0)
    fdr = "none" if a.fdr in (None, "none") else a.fdr
    tau = int(a.tau_max)
    try:
        if a.method == "pcmci":
            res = pcmci.run_pcmci(tau_min=1, tau_max=tau, pc_alpha=a.pc_alpha,
                                  alpha_level=a.alpha,
                                  link_assumptions=copy.deepcopy(assumptions),
                                  fdr_method=fdr)
            parents = pcmci.all_parents
        else:
            res = pcmci.run_pcmciplus(tau_min=0, tau_max=tau, pc_alpha=a.alpha,
                                      link_assumptions=copy.deepcopy(assumptions),
                                      fdr_method=fdr)
            parents = pcmci.all_lagged_parents
            # tigramite's PCMCI+ gives no intervals: take them from the reported tests
            res = {**res, "conf_matrix": recorded_confidence(pcmci.cond_ind_test, res,
                                                             assumptions, tau)}
        res = {**res, **reestimate_required(pcmci.cond_ind_test, res, assumptions, parents,
                                            tau)}
    except ValueError as exc:  # tigramite reports degenerate data as ValueError
        if isinstance(exc, NoValidSamplesError) or str(exc).startswith("No valid samples"):
            # the message holds internal column numbers: say what it means instead
            raise NoSamplesError(f"{a.method}: some test has no sample in which all its "
                                 "variables and lags are observed within one block") from exc
        raise DataError(f"tigramite could not run {a.method} on these data: {exc}") from exc
    names = list(a.names)
    table = links_table(res, names, assumptions, test=pcmci.cond_ind_test, parents=parents,
                        tau_max=tau, default_samples=default_samples)
    named = {names[j]: [(names[i], -neg_lag) for i, neg_lag in parents.get(j, [])]
             for j in range(len(names))}
    return LinkRun(table=table, parents=named)


class Rerun:
    """Re-run a fitted estimator's algorithm on its own data with per-dataset weights.

    Built by ``PanelPCMCI._rerun()``, once per process (it holds tigramite
    objects, which are never pickled). With ``ci_test="parcorr"`` a run
    re-pools the pooled engine's statistics with the weights
    (:meth:`causal.discovery.engine.PooledParCorr.with_weights`); other tests
    run on the data with each dataset physically repeated ``weight`` times.

    Parameters
    ----------
    algorithm : Algorithm
        The fitted estimator's algorithm.
    data : TigramiteInput
        The fitted estimator's input.
    ci_test : str
        Name of the test (:func:`causal.discovery.citests.make_ci_test`).
    df_loss : ndarray
        Per dataset: degrees of freedom of the within transform.
    bias : causal.discovery.engine.MomentBias, optional
        The fit's short-panel bias of the pooled tests (``"parcorr"`` only).
    """

    def __init__(self, algorithm: Algorithm, data: TigramiteInput, *, ci_test: str,
                 df_loss: np.ndarray, bias: Any = None) -> None:
        self.algorithm = algorithm
        self.data = data
        self.ci_test = ci_test
        self.df_loss = np.asarray(df_loss, dtype=float)
        self.ci_level = 1 - 2 * float(algorithm.alpha)
        self.pooled = ci_test == "parcorr"
        if self.pooled:
            self._dataframe = data.dataframe()
            self._base = make_ci_test("parcorr", ci_level=self.ci_level, df_loss=self.df_loss,
                                      bias=bias)

    def __call__(self, weights: np.ndarray, *, seed: int | None = None) -> LinkRun:
        """Return the run with integer-valued per-dataset ``weights`` (a test's ``seed``)."""
        w = np.asarray(weights, dtype=float)
        if self.pooled:
            dataframe, test = self._dataframe, self._base.with_weights(w)
        else:
            dup = {}
            for b, m in enumerate(w.astype(int)):
                for _ in range(m):
                    dup[len(dup)] = self.data.data[b].copy()
            dataframe = _dataframe(dup, self.data.var_names)
            test = make_ci_test(self.ci_test, ci_level=self.ci_level,
                                random_state=None if seed is None else int(seed),
                                df_loss=float(self.df_loss @ w))
        return run_pcmci(self.algorithm, dataframe, test)
