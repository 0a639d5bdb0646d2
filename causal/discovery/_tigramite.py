"""Conversion of tigramite's PCMCI / PCMCI+ results into a :class:`Links` table.

This is the private half of the tigramite boundary (:mod:`causal.discovery.estimator`
runs tigramite, this module reads its output). It

* maps tigramite's string graph marks to the ``significant`` / ``directed``
  contract documented in :mod:`causal.discovery.links`;
* replaces tigramite's placeholders for links fixed by background knowledge
  (``value=1, p_value=0`` for ``'-->'`` assumptions) with a real test of the
  link, conditioned as tigramite's MCI test conditions it;
* counts the samples behind each link's test.

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
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["link_samples", "link_state", "links_table", "mci_conditions", "reestimate_required"]

logger = logging.getLogger(__name__)

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
