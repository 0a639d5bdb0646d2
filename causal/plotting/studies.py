"""Study-level figures: power and error rates of simulation studies, saved and never shown.

:func:`plot_power_curve` (power or any rate against sample size, used by
:mod:`causal.power`) and :func:`plot_rate_vs_alpha` (empirical against nominal
rejection rate, used by :mod:`experiments.calibration`). Like the graph figures they build a
:class:`matplotlib.figure.Figure` directly and write it in each requested
format next to ``path_stem``.

Examples
--------
>>> import tempfile
>>> table = pd.DataFrame({"alpha": [0.01, 0.05, 0.1], "rate": [0.02, 0.06, 0.09]})
>>> with tempfile.TemporaryDirectory() as tmp:
...     [p.name for p in plot_rate_vs_alpha(table, Path(tmp) / "calibration", formats="png")]
['calibration.png']
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from causal.plotting._base import (
    _DEFAULT_FORMATS,
    _numeric,
    _require,
    _save,
    _saves_figure,
)

__all__ = ["plot_power_curve", "plot_rate_vs_alpha"]


def _lines(ax: Axes, table: pd.DataFrame, x: str, y: str, group: str | None) -> None:
    """Draw ``y`` against ``x`` per group, with a ci_low/ci_high band when present."""
    band = "ci_low" in table and "ci_high" in table
    for col in (x, y, *(("ci_low", "ci_high") if band else ())):
        _numeric(table, col, "table")
    groups = table.groupby(group, sort=True, dropna=False) if group else [(None, table)]
    for key, part in groups:
        part = part.sort_values(x)
        label = None if group is None else str(key[0] if isinstance(key, tuple) else key)
        (line,) = ax.plot(part[x].astype(float), part[y].astype(float), marker="o", label=label)
        if band:
            ax.fill_between(part[x].astype(float), part["ci_low"].astype(float),
                            part["ci_high"].astype(float), color=line.get_color(), alpha=0.2,
                            linewidth=0)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.grid(alpha=0.3)


@_saves_figure
def plot_power_curve(table: pd.DataFrame, path_stem: str | Path, *, x: str = "n_patients",
                     y: str = "power", group: str | None = None, target: float | None = 0.8,
                     formats: Iterable[str] = _DEFAULT_FORMATS) -> list[Path]:
    """Plot power (or any rate) against sample size, one line per group.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``x`` and ``y``, optionally ``group`` and ``ci_low``/``ci_high``
        (drawn as a shaded band).
    %(path_stem)s
    x, y, group : str
        Columns for the axes and, optionally, one line per ``group`` value.
    target : float or None
        Draw a dashed horizontal line at this power; None for none.

    %(returns)s
    """
    _require(table, (x, y, *((group,) if group else ())), "table")
    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    _lines(ax, table, x, y, group)
    if target is not None:
        ax.axhline(target, color="black", linestyle="--", linewidth=0.9,
                   label=f"target {target:g}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=group, fontsize=8)
    return _save(fig, path_stem, formats)


@_saves_figure
def plot_rate_vs_alpha(table: pd.DataFrame, path_stem: str | Path, *, group: str | None = None,
                       log: bool = False, title: str | None = None,
                       formats: Iterable[str] = _DEFAULT_FORMATS) -> list[Path]:
    """Plot an empirical rejection rate against the nominal alpha.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``alpha`` and ``rate``, optionally ``ci_low``/``ci_high`` and a
        grouping column.
    %(path_stem)s
    group : str, optional
        Column with one line per value; defaults to ``"group"`` when present.
    log : bool
        Logarithmic axes, ticks at the table's alphas and the identity line
        over the alpha range only: readable when some rates are far above
        alpha. Rates or interval bounds of 0 are drawn at the bottom edge.
    title : str, optional
        Axes title.

    %(returns)s
    """
    if group is None and isinstance(table, pd.DataFrame) and "group" in table:
        group = "group"
    _require(table, ("alpha", "rate", *((group,) if group else ())), "table")
    fig = Figure(figsize=(5.5, 5.0), layout="constrained")
    ax = fig.add_subplot()
    _lines(ax, table, "alpha", "rate", group)
    if log:
        alphas = np.unique(table["alpha"].to_numpy(dtype=float))
        low, high = float(alphas.min()) / 1.5, float(alphas.max()) * 1.5
        ax.set_xscale("log")
        ax.set_yscale("log", nonpositive="clip")
        ax.set_xticks(alphas, [f"{a:g}" for a in alphas])
        ax.minorticks_off()
        ax.set_xlim(low, high)
        rates = table["rate"].to_numpy(dtype=float)
        positive = rates[rates > 0]
        floor = min(low, float(positive.min()) / 1.5) if positive.size else low
        ax.set_ylim(floor, 1.05)
        ax.plot([low, high], [low, high], color="black", linestyle="--", linewidth=0.9,
                label="nominal (rate = alpha)")
    else:
        cols = [c for c in ("alpha", "rate", "ci_high") if c in table]
        top = float(np.nanmax(table[cols].to_numpy(dtype=float))) * 1.05
        ax.plot([0, top], [0, top], color="black", linestyle="--", linewidth=0.9,
                label="nominal (rate = alpha)")
    if title:
        ax.set_title(title, fontsize=10)
    ax.set_xlabel("nominal alpha")
    ax.set_ylabel("empirical rate")
    ax.legend(title=group, fontsize=8)
    return _save(fig, path_stem, formats)
