"""Figures for discovery results, saved to files and never shown.

Every function builds a :class:`matplotlib.figure.Figure` directly (no pyplot
state, no backend switching), writes it in each requested format next to
``path_stem`` and returns the written paths. SVG output is byte-reproducible:
saving uses a fixed ``svg.hashsalt`` and drops the creation date.

Study-level figures (power curves, rejection rates) live in
:mod:`causal.plotting.studies`.

Examples
--------
>>> import tempfile
>>> import networkx as nx
>>> g = nx.DiGraph()
>>> g.add_edge("fear_others", "depression", lag=1, value=0.12, p_value=0.001,
...            lags="1", directed=True, autoregressive=False)
>>> with tempfile.TemporaryDirectory() as tmp:
...     paths = plot_graph(g, Path(tmp) / "graph", formats=("png", "svg"))
...     [(p.name, p.stat().st_size > 0) for p in paths]
[('graph.png', True), ('graph.svg', True)]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from causal.plotting._base import (
    _DEFAULT_FORMATS,
    _numeric,
    _require,
    _save,
    _saves_figure,
)
from causal.plotting.networks import (
    _NEUTRAL,
    _panel_inches,
    draw_network,
    figure_of_panels,
    network_legend,
)

__all__ = [
    "plot_edge_frequency",
    "plot_forest",
    "plot_graph",
    "plot_patients",
]

_VERDICT_COLOURS = {"supported": "#1a9850", "contradicted": "#d73027",
                    "inconclusive": "#7f7f7f"}  # any other verdict is drawn black


# ------------------------------------------------------------------- graphs
@_saves_figure
def plot_graph(graph: nx.DiGraph, path_stem: str | Path, *, title: str | None = None,
               edge_labels: bool | None = None,
               formats: Iterable[str] = _DEFAULT_FORMATS) -> list[Path]:
    """Draw a summary graph of discovered links.

    Parameters
    ----------
    graph : networkx.DiGraph
        Nodes are variables. Each edge ``source -> target`` carries ``lag``
        (int) and ``value`` (float, e.g. a partial correlation) and optionally
        ``p_value``, ``lags`` (comma-separated lags), ``directed`` (bool,
        default True) and ``autoregressive`` (bool, default: self-loop).
    %(path_stem)s
    title : str, optional
        Figure title.
    edge_labels : bool, optional
        Write ``lag k: value`` on each edge; by default only up to
        :data:`causal.plotting.networks.EDGE_LABEL_MAX` variables (every value
        is in ``links.csv``).

    %(returns)s

    Notes
    -----
    Drawn by :func:`causal.plotting.networks.draw_network`: nodes on a circle
    sized not to overlap, names outside it (never covered), colour by sign (red
    positive, blue negative), width ``1 + 5 |value|``, solid lagged and dashed
    contemporaneous (lag 0) edges, curved arrows keep ``A -> B`` and ``B -> A``
    apart, undirected links drawn once without arrowheads, autoregressive
    links written under the node name. A legend explains colour and line style.
    """
    if not isinstance(graph, nx.DiGraph):
        raise TypeError(f"graph must be a networkx.DiGraph, got {type(graph).__name__}")
    for u, v, attrs in graph.edges(data=True):
        missing = [k for k in ("lag", "value") if k not in attrs]
        if missing:
            raise ValueError(f"edge {u!r} -> {v!r} lacks attribute(s) {missing}")

    fig, (ax,) = figure_of_panels(1, _panel_inches([graph]), title=title)
    drawn = draw_network(ax, graph, edge_labels=edge_labels)
    kinds = {"lagged"} | {"contemporaneous" for _, _, a in graph.edges(data=True)
                          if int(a["lag"]) == 0}
    network_legend(fig, kinds, ring=drawn.rings)
    if graph.number_of_edges() == 0:
        ax.text(0.5, 0.5 if graph.number_of_nodes() == 0 else 0.02, "no significant links",
                transform=ax.transAxes, ha="center", va="center", fontsize=14, color=_NEUTRAL)
    return _save(fig, path_stem, formats)


# ------------------------------------------------------------------ patients
def _time_grid(times: pd.Series) -> pd.Index:
    """Full grid between the first and last time: integer steps when times are whole."""
    values = np.sort(times.to_numpy(dtype=float))
    if np.all(np.mod(values, 1) == 0):
        return pd.Index(np.arange(values[0], values[-1] + 1), dtype=float)
    return pd.Index(np.unique(values))


def _patient_series(rows: pd.DataFrame, patient: Any, time_col: str, variables: list[str],
                    segments: list[str]) -> pd.DataFrame:
    """One patient's values on a gap-aware x grid, blocks end to end, NaN between blocks."""
    parts, end = [], -np.inf
    groups = rows.groupby(segments, sort=False, dropna=False) if segments else [(None, rows)]
    for _, block in groups:
        dup = block[time_col].duplicated()
        if dup.any():
            where = f" within one block of {segments}" if segments else ""
            raise ValueError(f"patient {patient!r} has duplicated {time_col!r}{where} "
                             f"{block.loc[dup, time_col].tolist()}")
        series = block.set_index(block[time_col].astype(float))[variables]
        series = series.reindex(_time_grid(block[time_col]))
        shift = 0.0 if series.index[0] > end else end + 2 - series.index[0]
        series.index = series.index + shift
        if parts:  # break the line between blocks
            parts.append(pd.DataFrame(np.nan, index=[series.index[0] - 0.5], columns=variables))
        parts.append(series)
        end = float(series.index[-1])
    return pd.concat(parts) if len(parts) > 1 else parts[0]


@_saves_figure
def plot_patients(data: pd.DataFrame, *, id_col: str = "patient", time_col: str = "week",
                  variables: Sequence[str] | None = None, patients: Sequence | None = None,
                  n_patients: int = 4, random_state: int | np.random.Generator | None = None,
                  segments: Sequence[str] = (), path_stem: str | Path,
                  formats: Iterable[str] = _DEFAULT_FORMATS) -> list[Path]:
    """Plot the time series of a few patients, one panel per variable.

    Parameters
    ----------
    data : pandas.DataFrame
        Long-format panel: one row per patient and time point.
    id_col, time_col : str
        Patient identifier and (numeric) time columns.
    variables : sequence of str, optional
        Variables to plot; default every numeric column except id and time.
    patients : sequence, optional
        Patients to show; by default ``n_patients`` drawn without replacement
        with ``numpy.random.default_rng(random_state)``.
    n_patients, random_state : int, int or numpy.random.Generator or None
        Size and seed of that draw.
    segments : sequence of str
        Columns whose change breaks a patient's series (segments, the day of
        a day/beep design): each block is drawn on its own time grid, the
        blocks of a patient one after the other (shifted when time restarts,
        e.g. beeps 1-5 of every day), with the line broken between them.
    %(path_stem)s

    %(returns)s

    Notes
    -----
    Each patient is reindexed to the full time grid, so missing weeks break
    the line instead of being bridged; markers keep lone observations visible.
    """
    _require(data, (id_col, time_col), "data")
    if variables is None:
        variables = [c for c in data.columns if c not in (id_col, time_col)
                     and pd.api.types.is_numeric_dtype(data[c])]
    variables = list(variables)
    if not variables:
        raise ValueError("no variables to plot: pass `variables` or give data numeric columns")
    _require(data, variables, "data")
    for col in (time_col, *variables):
        _numeric(data, col, "data")

    ids = list(pd.unique(data[id_col]))
    with contextlib.suppress(TypeError):  # mixed id types keep their order of appearance
        ids = sorted(ids)
    if patients is None:
        if n_patients < 1:
            raise ValueError(f"n_patients must be >= 1, got {n_patients}")
        rng = np.random.default_rng(random_state)
        chosen = np.sort(rng.choice(len(ids), size=min(n_patients, len(ids)), replace=False))
        patients = [ids[i] for i in chosen]
    else:
        patients = list(patients)
        unknown = [p for p in patients if p not in set(ids)]
        if unknown or not patients:
            raise ValueError(f"unknown patient(s) {unknown} in column {id_col!r}" if unknown
                             else "patients must not be empty")

    fig = Figure(figsize=(8, 0.6 + 2.1 * len(variables)), layout="constrained")
    axes = fig.subplots(len(variables), 1, sharex=True, squeeze=False)[:, 0]
    segments = list(segments)
    _require(data, segments, "data")
    for patient in patients:
        rows = data[data[id_col] == patient]
        series = _patient_series(rows, patient, time_col, variables, segments)
        for ax, var in zip(axes, variables, strict=True):
            ax.plot(series.index, series[var].astype(float), marker="o", markersize=3.5,
                    linewidth=1.3, label=str(patient))
    for ax, var in zip(axes, variables, strict=True):
        ax.set_ylabel(var)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel(time_col if not segments else
                        f"{time_col} ({', '.join(segments)} blocks end to end)")
    axes[0].legend(title=id_col, fontsize=8, title_fontsize=8, loc="upper left",
                   bbox_to_anchor=(1.01, 1.0))
    return _save(fig, path_stem, formats)


# ----------------------------------------------------------------- bootstrap
@_saves_figure
def plot_edge_frequency(freq: pd.DataFrame, path_stem: str | Path, *,
                        label: str = "selection frequency",
                        formats: Iterable[str] = _DEFAULT_FORMATS) -> list[Path]:
    """Heatmaps of bootstrap edge frequencies, one per lag.

    Parameters
    ----------
    freq : pandas.DataFrame
        Columns ``source``, ``target``, ``lag`` and ``frequency`` (0..1), one
        row per link. Links absent from ``freq`` are left blank, not zero.
    label : str
        Colour-bar label: what the frequency counts (e.g. ``"share of patients"``).
    %(path_stem)s

    %(returns)s
    """
    _require(freq, ("source", "target", "lag", "frequency"), "freq")
    values = _numeric(freq, "frequency", "freq")
    bad = ~((values >= 0) & (values <= 1))
    if bad.any():
        raise ValueError(f"freq column 'frequency' must lie in [0, 1]; row(s) "
                         f"{freq.index[bad].tolist()} do not")
    dup = freq.duplicated(["source", "target", "lag"])
    if dup.any():
        raise ValueError(f"freq has duplicated (source, target, lag) rows: "
                         f"{freq.loc[dup, ['source', 'target', 'lag']].to_dict('records')}")
    table = freq.assign(lag=_numeric(freq, "lag", "freq").astype(int), frequency=values,
                        source=freq["source"].astype(str), target=freq["target"].astype(str))
    names = sorted(set(table["source"]) | set(table["target"]))
    lags = sorted(table["lag"].unique())

    fig = Figure(figsize=(1.5 + 0.9 * len(names) * len(lags) + 1.2 * len(lags),
                          1.8 + 0.8 * len(names)), layout="constrained")
    axes = fig.subplots(1, len(lags), squeeze=False)[0]
    for ax, lag in zip(axes, lags, strict=True):
        grid = (table[table["lag"] == lag]
                .pivot_table(index="source", columns="target", values="frequency",
                             aggfunc="first")
                .reindex(index=names, columns=names))
        matrix = grid.to_numpy(dtype=float)
        image = ax.imshow(np.ma.masked_invalid(matrix), cmap="Blues", vmin=0.0, vmax=1.0)
        for (i, j), f in np.ndenumerate(matrix):
            if np.isfinite(f):
                ax.text(j, i, f"{f:.0%}", ha="center", va="center", fontsize=9,
                        color="white" if f > 0.6 else "black")
        ax.set_xticks(range(len(names)), names, rotation=40, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.set_title(f"lag {lag}")
        ax.set_xlabel("target (effect)")
        ax.set_ylabel("source (cause)")
    fig.colorbar(image, ax=list(axes), label=label, shrink=0.8)
    return _save(fig, path_stem, formats)


# -------------------------------------------------------------- hypotheses
@_saves_figure
def plot_forest(table: pd.DataFrame, path_stem: str | Path, *,
                formats: Iterable[str] = _DEFAULT_FORMATS) -> list[Path]:
    """Forest plot of hypothesis edges with their intervals and verdicts.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per hypothesis with columns ``name``, ``value``, ``ci_low``,
        ``ci_high`` and optionally ``boot_low``/``boot_high`` (bootstrap
        interval, drawn thinner below the point), ``verdict`` (colours the
        point: supported, contradicted, inconclusive), ``expected`` (shown in
        the row label) and ``sesoi`` (shaded equivalence band ``±sesoi``).
    %(path_stem)s

    %(returns)s
    """
    _require(table, ("name", "value", "ci_low", "ci_high"), "table")
    cols = {c: _numeric(table, c, "table") for c in
            ("value", "ci_low", "ci_high", "boot_low", "boot_high", "sesoi") if c in table}
    for lo, hi in (("ci_low", "ci_high"), ("boot_low", "boot_high")):
        bad = cols[lo] > cols[hi] if lo in cols and hi in cols else np.zeros(len(table), bool)
        if bad.any():
            raise ValueError(f"table has {lo} > {hi} for hypothesis(es) "
                             f"{table['name'][bad].tolist()}")
    verdicts = (table["verdict"].fillna("").astype(str).str.lower() if "verdict" in table
                else pd.Series("", index=table.index))

    n = len(table)
    fig = Figure(figsize=(7.5, 1.4 + 0.55 * n), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(n)[::-1].astype(float)
    if "sesoi" in cols:
        for yi, s in zip(y, np.abs(cols["sesoi"]), strict=True):
            if np.isfinite(s):
                ax.fill_betweenx([yi - 0.4, yi + 0.4], -s, s, color="#fee08b", alpha=0.6,
                                 linewidth=0, label="equivalence band (±SESOI)")
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.hlines(y, cols["ci_low"], cols["ci_high"], color="#404040", linewidth=2,
              label="confidence interval")
    if "boot_low" in cols and "boot_high" in cols:
        ax.hlines(y - 0.2, cols["boot_low"], cols["boot_high"], color="#969696",
                  linewidth=1.2, linestyle="--", label="bootstrap interval")
    for verdict in pd.unique(verdicts):
        mask = (verdicts == verdict).to_numpy()
        ax.scatter(cols["value"][mask], y[mask], s=60, zorder=3, edgecolors="black",
                   color=_VERDICT_COLOURS.get(verdict, "black"),
                   label=verdict or "estimate")
    for yi, v in zip(y, cols["value"], strict=True):
        if not np.isfinite(v):
            ax.text(0.0, yi, " not estimable", va="center", fontsize=8, color=_NEUTRAL)
    labels = table["name"].astype(str)
    if "expected" in table:
        labels = labels + " (expected " + table["expected"].astype(str) + ")"
    ax.set_yticks(y, labels.tolist())
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_xlabel("effect (value with interval)")
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles, strict=True))  # one legend entry per label
    ax.legend(unique.values(), unique.keys(), fontsize=8, loc="upper left",
              bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path_stem, formats)
