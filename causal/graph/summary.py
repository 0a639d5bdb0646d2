"""Who-leads-whom summaries of discovered links: strengths, leading variables, precedence.

Temporal precedence read from the significant **lagged** links of a
:class:`~causal.discovery.links.Links` result (contemporaneous links carry no temporal
order): :func:`strengths` (in-/out-strength and degree of every variable),
:func:`leading_variables` (variables ordered by net out-strength) and
:func:`precedes` (whether changes in one variable precede changes in another).
These read one sample; :func:`leading_order` says how sure the order is.

Who leads, with its uncertainty
-------------------------------
:func:`leading_order` takes point estimates and bootstrap replicates of every
lagged link (e.g. :meth:`causal.hypotheses.comparisons.EffectDraws.replicates`,
patient cluster bootstrap on the effect scale, or
:attr:`causal.resampling.bootstrap.ClusterBootstrap.replicates_` with
``column="value"``). A variable's **net outflow** is the sum of ``|effect|``
over its cross-lagged links out minus over its links in (all links, no
significance filter, so the net varies smoothly between replicates). For
each variable it reports the net with a percentile interval, the share of
replicates in which the net is positive (``p_positive``) and in which the
variable leads outright (``p_first``). Variables are ordered by their net;
each adjacent pair is **distinguishable** only when the earlier one's net is
the larger in all but at most ``alpha / (2 (k - 1))`` of the replicates (a
two-sided bootstrap test, Bonferroni over the ``k - 1`` adjacent pairs), so
that under no lagged effects at all an order is claimed in at most ``alpha``
of samples. The rendered order puts the share beside every ``>`` and says
"not distinguishable" for the rest.

Examples
--------
One significant link, ``fear_others`` at week ``t - 1`` -> ``depression`` at ``t``
(the example of :mod:`causal.graph.build` without its non-significant and
autoregressive rows, which leave the order as it is):

>>> one = pd.DataFrame({"source": ["fear_others"], "target": ["depression"], "lag": [1],
...                     "value": [0.12], "p_value": [0.001], "significant": [True]})
>>> links = Links(one, variables=("depression", "self_compassion", "fear_others"),
...               tau_max=1, alpha=0.05)
>>> leading_variables(links)
['fear_others', 'self_compassion', 'depression']
>>> precedes(links, "fear_others", "depression"), precedes(links, "depression", "fear_others")
(True, False)
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from causal.discovery.links import Links
from features.checks import check_probability
from features.errors import InputError

__all__ = ["LEAD_COLUMNS", "LeadingOrder", "leading_order", "leading_variables", "precedes",
           "strengths"]

logger = logging.getLogger(__name__)

#: Columns of :attr:`LeadingOrder.table`.
LEAD_COLUMNS = ("variable", "net", "net_low", "net_high", "p_positive", "p_first")
#: Columns of :attr:`LeadingOrder.pairs`.
PAIR_COLUMNS = ("ahead", "behind", "p_ahead", "threshold", "distinguishable")


def strengths(links: Links, *, cross_only: bool = True) -> pd.DataFrame:
    """In- and out-strength of every variable from significant lagged links.

    Parameters
    ----------
    links : Links
        Discovery result; its significant lagged links are summed.
    cross_only : bool
        Drop autoregressive links (``source == target``). They add equally
        to a variable's in- and out-strength, so ``net`` is unaffected.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``variable`` (all of ``links.variables``) with columns
        ``out_strength`` / ``in_strength`` (sum of ``|value|`` over every
        significant link with ``lag >= 1`` leaving / entering the variable,
        all lags counted), ``out_degree`` / ``in_degree`` (number of distinct
        partner variables) and ``net = out_strength - in_strength``. Sorted
        by ``net`` descending; ties keep the order of ``links.variables``.

    Notes
    -----
    Contemporaneous links carry no temporal order and are never counted.

    Examples
    --------
    >>> table = pd.DataFrame({"source": ["a", "b"], "target": ["b", "a"], "lag": [1, 2],
    ...                       "value": [0.3, -0.1], "p_value": [0.01, 0.02],
    ...                       "significant": [True, True]})
    >>> s = strengths(Links(table=table, variables=("a", "b"), tau_max=2, alpha=0.05))
    >>> s["net"].round(2).to_dict()
    {'a': 0.2, 'b': -0.2}
    """
    sig = links.significant(lagged_only=True)
    if cross_only:
        sig = sig[sig["source"] != sig["target"]]
    sig = sig.assign(strength=sig["value"].abs())
    order = pd.Index(links.variables, name="variable")
    out = sig.groupby("source")["strength"].sum().reindex(order, fill_value=0.0)
    inn = sig.groupby("target")["strength"].sum().reindex(order, fill_value=0.0)
    out_deg = sig.groupby("source")["target"].nunique().reindex(order, fill_value=0)
    in_deg = sig.groupby("target")["source"].nunique().reindex(order, fill_value=0)
    table = pd.DataFrame({
        "out_strength": out.astype(float), "in_strength": inn.astype(float),
        "out_degree": out_deg.astype(int), "in_degree": in_deg.astype(int),
    }, index=order)
    table["net"] = table["out_strength"] - table["in_strength"]
    return table.sort_values("net", ascending=False, kind="stable")


def leading_variables(links: Links) -> list[str]:
    """Variables ordered by net out-strength: who changes first comes first.

    A variable whose significant cross-lagged links mostly leave it (its
    changes are followed by changes elsewhere) has a large positive net
    strength; see :func:`strengths` for the definition and tie rule. This is
    the order in one sample, with no uncertainty: report it only through
    :func:`leading_order`.

    Examples
    --------
    >>> table = pd.DataFrame({"source": ["b"], "target": ["a"], "lag": [1],
    ...                       "value": [0.3], "p_value": [0.01], "significant": [True]})
    >>> leading_variables(Links(table=table, variables=("a", "b"), tau_max=1, alpha=0.05))
    ['b', 'a']
    """
    return [str(v) for v in strengths(links, cross_only=True).index]


def precedes(links: Links, a: str, b: str) -> bool | None:
    """Tell whether changes in ``a`` precede changes in ``b``.

    Only significant links with ``lag >= 1`` are used; the strength of a
    direction is its strongest ``|value|`` over lags (the summary-graph edge
    value).

    Parameters
    ----------
    links : Links
        Discovery result.
    a, b : str
        Two different variables of ``links``.

    Returns
    -------
    bool or None
        True if ``a -> b`` is significant and ``b -> a`` is not, or both are
        and ``a -> b`` is strictly stronger; False in the mirrored cases;
        None when neither direction is significant or both are equally
        strong (no evidence of an order).

    Examples
    --------
    >>> table = pd.DataFrame({"source": ["a", "b"], "target": ["b", "a"], "lag": [1, 1],
    ...                       "value": [0.3, -0.1], "p_value": [0.01, 0.02],
    ...                       "significant": [True, True]})
    >>> links = Links(table=table, variables=("a", "b", "c"), tau_max=1, alpha=0.05)
    >>> precedes(links, "a", "b"), precedes(links, "b", "a"), precedes(links, "a", "c")
    (True, False, None)
    """
    for name, var in (("a", a), ("b", b)):
        if var not in links.variables:
            raise ValueError(f"{name}={var!r} is not a variable of the links; "
                             f"available: {list(links.variables)}")
    if a == b:
        raise ValueError(f"precedes needs two different variables, got a=b={a!r}")
    sig = links.significant(lagged_only=True)

    def strongest(src: str, dst: str) -> float:
        hit = sig.loc[(sig["source"] == src) & (sig["target"] == dst), "value"].abs()
        return float(hit.max()) if not hit.empty else math.nan

    ab, ba = strongest(a, b), strongest(b, a)
    if np.isnan(ab) and np.isnan(ba):
        return None
    if np.isnan(ba):
        return True
    if np.isnan(ab):
        return False
    if ab == ba:
        return None
    return ab > ba


# ------------------------------------------------------ who leads, uncertain
@dataclass(frozen=True, eq=False)
class LeadingOrder:
    """Who leads, with bootstrap uncertainty (see the module docstring).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per variable, sorted by ``net`` (descending), columns
        :data:`LEAD_COLUMNS`.
    pairs : pandas.DataFrame
        One row per adjacent pair of ``table``: ``ahead``, ``behind``,
        ``p_ahead`` (share of replicates with ``net(ahead) > net(behind)``),
        ``threshold`` (the share ``p_ahead`` must reach) and
        ``distinguishable``.
    alpha : float
        Family-wise error rate of the stated order.
    n_boot : int
        Replicates used.
    label : str
        What the link strengths are.
    """

    table: pd.DataFrame
    pairs: pd.DataFrame
    alpha: float
    n_boot: int
    label: str = "effect"

    @property
    def order(self) -> list[str]:
        """Variables by net outflow (point estimate), leader first."""
        return [str(v) for v in self.table["variable"]]

    @property
    def distinguishable(self) -> bool:
        """Whether any adjacent pair is distinguishable (an order is stated)."""
        return bool(self.pairs["distinguishable"].any())

    def render(self) -> str:
        """One sentence: the order with the bootstrap share beside every step."""
        head = f"Order of leading ({self.n_boot} bootstrap draws): "
        if self.pairs.empty:
            return head + f"{self.order[0] if self.order else 'no variables'}."
        parts = [self.order[0]]
        for r in self.pairs.itertuples(index=False):
            share = f"{r.ahead} ahead in {r.p_ahead:.1%} of draws"
            if r.distinguishable:
                parts.append(f" > {r.behind} ({share})")
            else:
                parts.append(f" ~ {r.behind} (not distinguishable: {share}, needs "
                             f"{r.threshold:.1%})")
        text = head + "".join(parts) + "."
        top = self.table.sort_values("p_first", ascending=False, kind="stable").iloc[0]
        text += f" Most often first: {top.variable} ({top.p_first:.1%} of draws)."
        if not self.distinguishable:
            text += " The data cannot tell who leads: no step of the order is distinguishable."
        return text

    def __str__(self) -> str:
        return self.render()


def _net(values: np.ndarray, sources: np.ndarray, targets: np.ndarray,
         variables: Sequence[str]) -> np.ndarray:
    """Net outflow per variable: shape (..., k) from link values (..., links)."""
    mag = np.abs(values)
    out = np.zeros((*values.shape[:-1], len(variables)))
    for i, v in enumerate(variables):
        out[..., i] = mag[..., sources == v].sum(axis=-1) - mag[..., targets == v].sum(axis=-1)
    return out


def leading_order(estimate: pd.DataFrame, replicates: pd.DataFrame,
                  variables: Sequence[str] | None = None, *, column: str = "effect",
                  alpha: float = 0.05, ci_level: float = 0.95) -> LeadingOrder:
    """Order variables by net outflow and say how sure each step is.

    Parameters
    ----------
    estimate : pandas.DataFrame
        Point estimates: ``source, target, lag`` and ``column``.
    replicates : pandas.DataFrame
        Bootstrap replicates: ``replicate, source, target, lag`` and ``column``.
    variables : sequence of str, optional
        Variables to order (default: every source or target in ``estimate``).
    column : str
        The link strength (``"effect"``, or ``"value"`` for partial correlations).
        Links whose estimate is NaN (e.g. not tested) are left out, with a log note.
    alpha : float
        Family-wise error rate of the stated order (module docstring).
    ci_level : float
        Level of the percentile interval ``net_low``/``net_high``.

    Returns
    -------
    LeadingOrder

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> keys = pd.DataFrame({"source": ["a", "b"], "target": ["b", "a"], "lag": [1, 1]})
    >>> est = keys.assign(effect=[0.3, 0.05])
    >>> reps = pd.concat([keys.assign(replicate=b, effect=[0.3, 0.05] + rng.normal(0, .05, 2))
    ...                   for b in range(400)])
    >>> lead = leading_order(est, reps)
    >>> lead.order, lead.distinguishable
    (['a', 'b'], True)
    >>> print(lead)  # doctest: +NORMALIZE_WHITESPACE
    Order of leading (400 bootstrap draws): a > b (a ahead in 100.0% of draws).
    Most often first: a (100.0% of draws).
    """
    alpha = check_probability("alpha", alpha)
    ci_level = check_probability("ci_level", ci_level)
    for name, frame, need in (("estimate", estimate, ("source", "target", "lag", column)),
                              ("replicates", replicates,
                               ("replicate", "source", "target", "lag", column))):
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise InputError(f"{name} lacks column(s) {missing}; needs {list(need)}")
    lagged = estimate[(estimate["lag"] >= 1) & (estimate["source"] != estimate["target"])]
    keys = lagged[["source", "target", "lag"]].reset_index(drop=True)
    if variables is None:
        variables = list(pd.unique(pd.concat([estimate["source"], estimate["target"]])))
    variables = [str(v) for v in variables]
    key_cols = ["source", "target", "lag"]
    pos = pd.MultiIndex.from_frame(keys).get_indexer(
        pd.MultiIndex.from_frame(replicates[key_cols]))
    rep, _ = pd.factorize(replicates["replicate"])
    draws = np.full((int(rep.max(initial=-1)) + 1, len(keys)), np.nan)
    hit = pos >= 0
    draws[rep[hit], pos[hit]] = replicates[column].to_numpy(float)[hit]
    absent = np.setdiff1d(np.arange(len(keys)), pos[hit])
    if len(absent):
        raise InputError(f"replicates lack link(s) of the estimate: "
                         f"{keys.iloc[absent].to_dict('records')}")
    point_values = lagged[column].to_numpy(float)
    usable = ~np.isnan(point_values) & ~np.isnan(draws).all(axis=0)
    if not usable.all():
        logger.info("who leads: %d link(s) without an estimate are left out: %s",
                    int((~usable).sum()), keys[~usable].to_dict("records"))
    keys, draws, point_values = keys[usable], draws[:, usable], point_values[usable]
    draws = draws[~np.isnan(draws).any(axis=1)]
    if not len(draws):
        raise InputError("no bootstrap replicate estimates every lagged link")
    src, dst = keys["source"].to_numpy(), keys["target"].to_numpy()
    point = _net(point_values, src, dst, variables)
    nets = _net(draws, src, dst, variables)
    tail = (1 - ci_level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.quantile(nets, [tail, 1 - tail], axis=0)
    first = np.bincount(np.argmax(nets, axis=1), minlength=len(variables)) / len(nets)
    table = pd.DataFrame({"variable": variables, "net": point, "net_low": low,
                          "net_high": high, "p_positive": (nets > 0).mean(axis=0),
                          "p_first": first})
    table = table.sort_values("net", ascending=False, kind="stable").reset_index(drop=True)
    index = {v: i for i, v in enumerate(variables)}
    k = len(variables)
    threshold = 1 - alpha / (2 * (k - 1)) if k > 1 else 1.0
    rows = []
    for ahead, behind in zip(table["variable"][:-1], table["variable"][1:], strict=True):
        p = float((nets[:, index[ahead]] > nets[:, index[behind]]).mean())
        rows.append((ahead, behind, p, threshold, p >= threshold))
    pairs = pd.DataFrame(rows, columns=list(PAIR_COLUMNS)).astype({"distinguishable": bool})
    return LeadingOrder(table=table, pairs=pairs, alpha=alpha, n_boot=len(nets), label=column)
