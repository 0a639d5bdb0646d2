"""The typed result of a discovery run: every tested lagged link with its statistics.

:class:`Links` wraps one tidy :class:`pandas.DataFrame` (one row per tested
``(source, target, lag)`` triple) together with the settings that produced it.
It is the only object that crosses from the tigramite adapter to the graph,
hypothesis, report and plotting layers, so none of tigramite's coded arrays or
string graphs leak past :mod:`causal.discovery`.

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

__all__ = ["LINK_COLUMNS", "Links"]

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
)

_DEFAULTS: dict[str, Any] = {
    "ci_low": np.nan,
    "ci_high": np.nan,
    "directed": True,
    "n_samples": -1,
}


@dataclass(frozen=True)
class Links:
    """Discovered lagged links with their test statistics.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per tested link with columns :data:`LINK_COLUMNS`:

        - ``source``, ``target`` (str): variable names; the link is
          ``source(t - lag) -> target(t)``.
        - ``lag`` (int, >= 0): 0 is a contemporaneous link (PCMCI+ only).
        - ``value`` (float): the test statistic (partial correlation for
          ParCorr-type tests).
        - ``p_value`` (float): p-value of the final (MCI) test.
        - ``significant`` (bool): whether the link is in the discovered graph.
        - ``ci_low``, ``ci_high`` (float): confidence bounds of ``value``; NaN
          where the test gives none.
        - ``directed`` (bool): always True for ``lag >= 1``. For ``lag == 0``
          True only when the contemporaneous link is oriented
          ``source -> target``; an unoriented or conflicting contemporaneous
          link appears as two significant rows with ``directed=False``.
        - ``n_samples`` (int): number of samples in the final test, -1 if
          unknown.

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
                              "ci_high": float, "directed": bool, "n_samples": int})
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
        path = Path(path)
        self.table.to_csv(path, index=False)
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
            arrow = "->" if r.directed else "--"
            lines.append(f"  {r.source}(t-{r.lag}) {arrow} {r.target}(t): "
                         f"value={r.value:+.3f}, p={r.p_value:.3g}")
        return "\n".join(lines)
