"""The typed result of a discovery run: every tested lagged link with its statistics.

:class:`Links` wraps one tidy :class:`pandas.DataFrame` (one row per tested
``(source, target, lag)`` triple) together with the settings that produced it.
It is the only object that crosses from the tigramite adapter to the graph,
hypothesis, report and plotting layers, so none of tigramite's coded arrays or
string graphs leak past :mod:`causal.discovery.estimator`.

Examples
--------
>>> table = pd.DataFrame({
...     "source": ["fear_others", "depression"], "target": ["depression", "fear_others"],
...     "lag": [1, 1], "value": [0.12, 0.02], "p_value": [0.001, 0.4],
...     "significant": [True, False], "ci_low": [0.08, -0.02], "ci_high": [0.16, 0.06],
... })
>>> links = Links(table=table, variables=("depression", "fear_others"), tau_max=1, alpha=0.05)
>>> links.significant()[["source", "target", "lag"]].to_dict("records")
[{'source': 'fear_others', 'target': 'depression', 'lag': 1}]
>>> float(links.get("fear_others", "depression", 1)["value"])
0.12
>>> links.get("depression", "depression", 1) is None
True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.io import write_csv

__all__ = ["LINK_COLUMNS", "Links", "format_link"]

logger = logging.getLogger(__name__)

#: Columns every :class:`Links` table has, in this order.
LINK_COLUMNS: tuple[str, ...] = (
    "source",
    "target",
    "lag",
    "value",
    "p_value",
    "significant",
    "ci_low",
    "ci_high",
    "directed",
    "n_samples",
    "direction",
    "effect",
    "effect_low",
    "effect_high",
)

_DEFAULTS: dict[str, Any] = {
    "ci_low": np.nan,
    "ci_high": np.nan,
    "directed": True,
    "n_samples": -1,
    "effect": np.nan,
    "effect_low": np.nan,
    "effect_high": np.nan,
}


def _directions(table: pd.DataFrame) -> np.ndarray:
    """Return the ``direction`` column: ``"->"``, ``"<-"`` or ``"--"`` (see :class:`Links`)."""
    lag = table["lag"].to_numpy()
    oriented = (lag == 0) & table["directed"].to_numpy(bool) & table["significant"].to_numpy(bool)
    heads = set(zip(table["source"][oriented], table["target"][oriented], strict=True))
    reverse = np.array([(t, s) in heads for s, t in zip(table["source"], table["target"],
                                                          strict=True)], dtype=bool)
    out = np.full(len(table), "--", dtype=object)
    out[reverse & (lag == 0)] = "<-"
    out[(lag > 0) | oriented] = "->"
    return out


def format_link(source: str, target: str, lag: int, *, directed: bool = True) -> str:
    """Return the one readable name of a link ``source(t - lag) -> target(t)``.

    Used for every link shown to a reader: messages, reports, labels and the
    ``edge`` columns of output tables.

    >>> format_link("fear_others", "depression", 1)
    'fear_others(t-1) -> depression(t)'
    >>> format_link("worry", "sad", 0, directed=False)
    'worry(t) -- sad(t)'
    """
    lag = int(lag)
    when = f"(t-{lag})" if lag > 0 else "(t)"
    return f"{source}{when} {'->' if directed else '--'} {target}(t)"


@dataclass(frozen=True)
class Links:
    """Discovered lagged links with their test statistics.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per tested link with columns :data:`LINK_COLUMNS`:

        - ``source``, ``target`` (str): variable names; the link is
          ``source(t - lag) -> target(t)``.
        - ``lag`` (int, >= 0): 0 is a contemporaneous link (PCMCI+; for PCMCI
          :func:`causal.discovery.networks.three_networks` adds the lag-0 rows
          of the residual partial correlations).
        - ``value`` (float): the test statistic (partial correlation for
          ParCorr-type tests).
        - ``p_value`` (float): p-value of the final (MCI) test (FDR-adjusted
          when ``settings["fdr"]`` is set, except for required links).
        - ``significant`` (bool): whether the link is in the discovered graph.
          A required link (background knowledge) is always significant.
        - ``ci_low``, ``ci_high`` (float): confidence bounds of ``value``; NaN
          where the test gives none.
        - ``directed`` (bool): always True for ``lag >= 1`` (time orients
          lagged links). Contemporaneous (``lag == 0``) links have two rows,
          ``(a, b, 0)`` and ``(b, a, 0)``, with the same ``value`` and
          ``p_value`` (one test):

          * oriented ``a -> b``: row ``(a, b, 0)`` is ``significant=True,
            directed=True``; row ``(b, a, 0)`` is ``significant=False,
            directed=False``. The link is one significant row.
          * unoriented (tigramite ``o-o``) or conflicting (``x-x``): both rows
            ``significant=True, directed=False``.
          * absent: both rows ``significant=False, directed=False``.

          So ``directed=True`` at lag 0 implies ``significant=True``, and
          consumers treat a significant undirected row as an edge both ways
          (:func:`causal.graph.build.summary_graph`).
        - ``direction`` (str): how to read the row, derived from ``lag``,
          ``significant`` and ``directed``: ``"->"`` for every lagged row and
          for the source row of an oriented contemporaneous link (``a -> b``);
          ``"<-"`` for the reverse row ``(b, a, 0)`` of that link (not
          significant itself: the link is the other row); ``"--"`` for any
          other lag-0 row: an undirected contemporaneous association (one
          symmetric test, reported in both rows). See ``docs/method.md``,
          "The three networks".
        - ``n_samples`` (int): samples behind the link's test, -1 if unknown.
          With the default ``ci_test="parcorr"`` (the pooled engine) this is
          the exact number of samples in which the link's ends and its MCI
          conditions (the lagged parents of both ends, see
          :meth:`causal.discovery.estimator.PanelPCMCI.fit`) are all observed after the
          cut-off; it is the count of the reported test for PCMCI, while for
          PCMCI+ the contemporaneous conditions its skeleton phase may add
          are not counted. Other tests report the complete-case count
          ``PanelPCMCI.n_samples_`` (every variable observed at lags
          0..tau_max), which equals every test's count when no values are
          missing and ``cut_off="2xtau_max"``.

        Extra columns are kept after these (``PanelPCMCI`` adds
        ``required``: the link was fixed by background knowledge).
        Missing optional columns are filled with defaults.
    variables : tuple of str
        Variable names in the order used for discovery.
    tau_max : int
        Largest lag tested.
    alpha : float
        Significance level of the final decision.
    method : str
        ``"pcmci"`` or ``"pcmciplus"``.
    ci_test : str
        Name of the conditional-independence test.
    settings : dict
        Any further settings worth reporting (pc_alpha, fdr, preprocessing...).
    """

    table: pd.DataFrame
    variables: tuple[str, ...]
    tau_max: int
    alpha: float
    method: str = "pcmci"
    ci_test: str = "parcorr"
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        table = self.table.copy()
        missing = [c for c in ("source", "target", "lag", "value", "p_value", "significant")
                   if c not in table.columns]
        if missing:
            raise ValueError(f"Links table lacks required columns: {', '.join(missing)}")
        for col, default in _DEFAULTS.items():
            if col not in table.columns:
                table[col] = default
        table = table.astype({"source": str, "target": str, "lag": int, "value": float,
                              "p_value": float, "significant": bool, "ci_low": float,
                              "ci_high": float, "directed": bool, "n_samples": int,
                              "effect": float, "effect_low": float, "effect_high": float})
        table["direction"] = _directions(table)
        extra = [c for c in table.columns if c not in LINK_COLUMNS]
        table = table[list(LINK_COLUMNS) + extra]
        table = table.sort_values(["target", "source", "lag"], kind="stable")
        table = table.reset_index(drop=True)
        unknown = sorted(set(table["source"]).union(table["target"]) - set(self.variables))
        if unknown:
            raise ValueError(f"Links table names variables not in `variables`: {unknown}")
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "variables", tuple(self.variables))

    # ------------------------------------------------------------------ queries
    def significant(self, lagged_only: bool = False) -> pd.DataFrame:
        """Return the rows of links in the discovered graph.

        Parameters
        ----------
        lagged_only : bool
            Drop contemporaneous (lag 0) links.
        """
        rows = self.table[self.table["significant"]]
        if lagged_only:
            rows = rows[rows["lag"] > 0]
        return rows.reset_index(drop=True)

    def cross_lagged(self) -> pd.DataFrame:
        """Return all tested rows with ``source != target`` and ``lag >= 1``."""
        t = self.table
        return t[(t["source"] != t["target"]) & (t["lag"] > 0)].reset_index(drop=True)

    def get(self, source: str, target: str, lag: int) -> pd.Series | None:
        """Return the row for ``source(t-lag) -> target(t)``, or None if it was not tested."""
        t = self.table
        hit = t[(t["source"] == source) & (t["target"] == target) & (t["lag"] == int(lag))]
        if hit.empty:
            return None
        return hit.iloc[0]

    # ------------------------------------------------------------------ export
    def to_csv(self, path: str | Path) -> Path:
        """Write the full table (every tested link) to ``path`` and return it."""
        path = write_csv(self.table, path)
        logger.info("wrote %d links to %s", len(self.table), path)
        return path

    def __str__(self) -> str:
        sig = self.significant()
        head = (f"Links: {len(self.table)} tested, {len(sig)} significant "
                f"({self.method}, {self.ci_test}, tau_max={self.tau_max}, alpha={self.alpha})")
        if sig.empty:
            return head + "\n  (no significant links)"
        lines = [head]
        for r in sig.itertuples(index=False):
            lines.append(f"  {format_link(r.source, r.target, r.lag, directed=r.directed)}: "
                         f"value={r.value:+.3f}, p={r.p_value:.3g}")
        return "\n".join(lines)
