"""Who-leads-whom summaries of discovered links: strengths, leading variables, precedence.

Temporal precedence read from the significant **lagged** links of a
:class:`~causal.discovery.links.Links` result (contemporaneous links carry no temporal
order): :func:`strengths` (in-/out-strength and degree of every variable),
:func:`leading_variables` (variables ordered by net out-strength) and
:func:`precedes` (whether changes in one variable precede changes in another).

Examples
--------
>>> table = pd.DataFrame({
...     "source": ["fear_others", "depression", "depression"],
...     "target": ["depression", "fear_others", "depression"],
...     "lag": [1, 1, 1], "value": [0.12, 0.02, 0.40], "p_value": [0.001, 0.4, 1e-9],
...     "significant": [True, False, True],
... })
>>> links = Links(table=table, variables=("depression", "self_compassion", "fear_others"),
...               tau_max=2, alpha=0.05)
>>> leading_variables(links)
['fear_others', 'self_compassion', 'depression']
>>> precedes(links, "fear_others", "depression")
True
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from causal.discovery.links import Links

__all__ = ["leading_variables", "precedes", "strengths"]


def strengths(links: Links, *, cross_only: bool = True) -> pd.DataFrame:
    """In- and out-strength of every variable from significant lagged links.

    Parameters
    ----------
    links : Links
        Discovery result.
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
    strength; see :func:`strengths` for the definition and tie rule.

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
