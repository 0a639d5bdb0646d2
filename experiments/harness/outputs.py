"""Result tables and figures of the experiments: rates with Wilson intervals, CSV and PNG output.

Used by every study of :mod:`experiments` through :class:`experiments.harness.study.Study`:

* :func:`rate_row` - a proportion with its Wilson 95% interval
  (:func:`causal.rates.summarize_rate`) - the same as the columns of a summary-table row,
  with the mean and SD of the estimates behind it;
* :func:`write_outputs` / :func:`read_output` - CSV tables;
* :func:`format_rows` - the rows of a table as text lines (a result's ``str``);
* :func:`rate_bars` - bars of rates with their Wilson intervals as error bars;
* :func:`scenario_rate_panels` - such bars per arm or method, one panel per scenario;
* :func:`save_figure` - write a :class:`matplotlib.figure.Figure` to a file.

Examples
--------
>>> row = rate_row(1, 4, pd.Series([0.1, 0.3]))
>>> row["k"], row["n"], row["rate"], round(row["mean_value"], 3)
(1, 4, 0.25, 0.2)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from causal.rates import summarize_rate
from features.errors import InputError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "format_rows",
    "rate_bars",
    "rate_row",
    "read_output",
    "save_figure",
    "scenario_rate_panels",
    "write_outputs",
]

logger = logging.getLogger(__name__)


def rate_row(k: int, n: int, values: pd.Series | None = None) -> dict[str, Any]:
    """Return a summary-table row: ``k, n, rate, ci_low, ci_high, mean_value, sd_value``.

    Parameters
    ----------
    k, n : int
        Events and trials (see :func:`summarize_rate`; Wilson 95% interval).
    values : pandas.Series, optional
        Estimates behind the rate (e.g. one per cohort); ``mean_value`` is
        their mean and ``sd_value`` their sample SD (``ddof=1``; NaN for
        fewer than two values). None gives NaN for both.

    Examples
    --------
    >>> row = rate_row(0, 5)
    >>> row["rate"], row["ci_low"], row["mean_value"], row["sd_value"]
    (0.0, 0.0, nan, nan)
    """
    return {**summarize_rate(int(k), int(n)).as_dict(),
            "mean_value": np.nan if values is None else float(values.mean()),
            "sd_value": np.nan if values is None or len(values) < 2 else float(values.std())}


def format_rows(table: pd.DataFrame, template: str) -> tuple[str, ...]:
    """Return one line per row of ``table``: ``template.format(**row)``.

    Examples
    --------
    >>> format_rows(pd.DataFrame({"arm": ["none", "detrend"], "rate": [0.5, 0.04]}),
    ...             "  {arm:<8} {rate:.3f}")
    ('  none     0.500', '  detrend  0.040')
    """
    return tuple(template.format(**row) for row in table.to_dict("records"))


def write_outputs(out_dir: str | Path, tables: Mapping[str, pd.DataFrame]) -> list[Path]:
    """Write each table as ``out_dir/NAME.csv`` (no index) and return the paths.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created if needed).
    tables : mapping of str to pandas.DataFrame
        File stem (``".csv"`` is appended unless present) to table.
    """
    out = Path(out_dir)
    paths = []
    for name, table in tables.items():
        stem = str(name)
        if not stem or Path(stem).name != stem or stem in (".", ".."):
            raise InputError(f"table name must be a plain file name, got {name!r}")
        if not isinstance(table, pd.DataFrame):
            raise InputError(f"table {name!r} must be a pandas DataFrame, got "
                             f"{type(table).__name__}")
        out.mkdir(parents=True, exist_ok=True)
        path = out / (stem if stem.endswith(".csv") else f"{stem}.csv")
        table.to_csv(path, index=False)
        paths.append(path)
        logger.info("wrote %s (%d rows)", path, len(table))
    return paths


def read_output(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`write_outputs`.

    Only empty fields are missing values: pandas' default would also read
    the scenario name ``"null"`` (and ``"NA"``, ``"none"``...) as NaN.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_outputs(tempfile.mkdtemp(), {"t": pd.DataFrame(
    ...     {"scenario": ["null", "paper"], "rate": [0.05, None]})})
    >>> read_output(paths[0]).to_dict("list")
    {'scenario': ['null', 'paper'], 'rate': [0.05, nan]}
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def rate_bars(ax: Axes, x: np.ndarray, rates: pd.DataFrame, *, slot: int, n_slots: int,
              alpha: float, **bar: Any) -> None:
    """Draw one series of rates as bars with Wilson error bars, and the dashed ``alpha`` line.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    x : numpy.ndarray
        Group positions (one per row of ``rates``).
    rates : pandas.DataFrame
        Columns ``rate``, ``ci_low`` and ``ci_high`` (rows of a summary table).
    slot, n_slots : int
        This series' place among the ``n_slots`` bars of a group (width ``0.8 / n_slots``).
    alpha : float
        Nominal level, drawn as a dashed line (once per axes).
    **bar
        Passed to :meth:`matplotlib.axes.Axes.bar` (``label``, ``color``, ``error_kw``).
    """
    rate = rates["rate"].to_numpy(dtype=float)
    err = np.vstack([rate - rates["ci_low"].to_numpy(dtype=float),
                     rates["ci_high"].to_numpy(dtype=float) - rate])
    width = 0.8 / max(n_slots, 1)
    ax.bar(x - 0.4 + width * (slot + 0.5), rate, width, yerr=err, **bar)
    if slot == n_slots - 1:
        ax.axhline(alpha, color="black", linestyle="--", linewidth=0.9, label=f"alpha = {alpha:g}")


def scenario_rate_panels(summary: pd.DataFrame, group: str,
                         series: Callable[[pd.DataFrame], Mapping[str, pd.DataFrame]], *,
                         alpha: float, width: tuple[float, float, float], height: float,
                         rotation: float, top: float = 1.0, **bar: Any
                         ) -> tuple[Figure, list[Axes]]:
    """Draw rates as grouped bars with Wilson error bars, one panel per scenario (shared y).

    Parameters
    ----------
    summary : pandas.DataFrame
        Summary rows with a ``scenario`` column, a ``group`` column and the
        columns of :func:`rate_bars`; panels and groups keep their order of
        appearance.
    group : str
        Column whose values are the groups along the x axis (an arm, a method).
    series : callable
        ``series(rows of one scenario) -> {label: rows}``: the bars of each
        group, one series per label (rows with one ``group`` value each).
    alpha : float
        Nominal level, the dashed line of :func:`rate_bars`.
    width : (float, float, float)
        Figure width: ``margin + n_scenarios * (per_panel + per_group * n_groups)``.
    height : float
        Figure height.
    rotation : float
        Of the group labels.
    top : float
        Upper limit of the y axis.
    **bar
        Passed to :func:`rate_bars` for every series.

    Returns
    -------
    fig, axes
        The figure and its panels (y label on the first), for legends and labels.
    """
    from matplotlib.figure import Figure

    scenarios = list(pd.unique(summary["scenario"]))
    groups = list(pd.unique(summary[group]))
    margin, per_panel, per_group = width
    fig = Figure(figsize=(margin + len(scenarios) * (per_panel + per_group * len(groups)),
                          height), layout="constrained")
    axes = list(fig.subplots(1, len(scenarios), squeeze=False, sharey=True)[0])
    x = np.arange(len(groups))
    for ax, scenario in zip(axes, scenarios, strict=True):
        bars = series(summary[summary["scenario"] == scenario])
        for j, (label, rows) in enumerate(bars.items()):
            rate_bars(ax, x, rows.set_index(group).reindex(groups), slot=j, n_slots=len(bars),
                      alpha=alpha, label=label, **bar)
        ax.set_xticks(x, groups, rotation=rotation)
        ax.set_ylim(0, top)
        ax.set_title(f"scenario {scenario}")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("rate over cohorts (Wilson 95% CI)")
    return fig, axes


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix; folders created) and return the path.

    Examples
    --------
    >>> import tempfile
    >>> from matplotlib.figure import Figure
    >>> path = save_figure(Figure(), Path(tempfile.mkdtemp()) / "sub" / "empty.png")
    >>> path.name, path.stat().st_size > 0
    ('empty.png', True)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
