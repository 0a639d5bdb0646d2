"""Figures of the real-data study :mod:`experiments.realdata` (its ``Study.figures``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from causal import plot_graph
from experiments._realdata_frames import PERIODS
from experiments.harness.outputs import save_figure
from experiments.harness.study import StudyResult

__all__ = ["plot_realdata", "plot_share_heatmaps"]


def plot_realdata(result: StudyResult, out: Path) -> list[Path]:
    """Draw every figure of a run into ``out`` and return the written paths.

    ``realdata_<analysis>.png``: the summary graph of each pooled fit
    (:func:`causal.plotting.graphs.plot_graph`); ``realdata_bringmann_bootstrap.png``
    and ``realdata_bringmann_individual.png``: the bootstrap frequencies and
    per-person shares of the Bringmann links, when the run computed them.
    """
    paths: list[Path] = []
    cfg = result.config
    names = {"bringmann_pre": "Bringmann 2013, before the treatment period",
             "bringmann_post": "Bringmann 2013, after the treatment period",
             "kossakowski_pre": f"Kossakowski 2017, phases {list(cfg.kossakowski_pre)} (pre)",
             "kossakowski_post": f"Kossakowski 2017, phases {list(cfg.kossakowski_post)} (post)"}
    for key, model in result.models.items():
        title = (f"{names[key]}: PCMCI, tau_max={model.tau_max}, "
                 f"alpha={model.alpha}\n{model.panel_.n_patients} person(s), "
                 f"{model.n_samples_} within-day samples, prep={model.prep}")
        paths += plot_graph(model.graph_, out / f"realdata_{key}", title=title, formats=("png",))
    edges = result.tables["bringmann_edges"]
    for column, persons, stem, what in (
            ("boot_frequency", "persons", "bootstrap", "share of cluster-bootstrap replicates "
             "(persons resampled) in which the link is significant"),
            ("ind_share", "ind_n_patients", "individual",
             "share of persons whose own PCMCI finds the link")):
        if column in edges:
            paths.append(plot_share_heatmaps(edges, column, persons, f"Bringmann 2013: {what}",
                                             out / f"realdata_bringmann_{stem}.png"))
    return paths


def plot_share_heatmaps(edges: pd.DataFrame, column: str, persons: str, title: str,
                        path: Path) -> Path:
    """Draw source x target heatmaps of ``column`` (0..1), one panel per period.

    Parameters
    ----------
    edges : pandas.DataFrame
        The ``bringmann_edges`` table: ``period``, ``source``, ``target``,
        ``column`` and ``persons`` (the number of persons, shown in the titles).
    column, persons : str
        Columns of the shares and of the person counts.
    title, path : str, Path
        Figure title and output file.
    """
    names = sorted(set(edges["source"]))
    fig = Figure(figsize=(12.5, 5.6), layout="constrained")
    axes = fig.subplots(1, len(PERIODS), squeeze=False)[0]
    for ax, label in zip(axes, PERIODS.values(), strict=True):
        part = edges[edges["period"] == label]
        grid = part.pivot_table(index="source", columns="target", values=column,
                                aggfunc="first").reindex(index=names, columns=names)
        image = ax.imshow(grid.to_numpy(float), cmap="Blues", vmin=0, vmax=1)
        for (i, j), v in np.ndenumerate(grid.to_numpy(float)):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=9,
                        color="white" if v > 0.6 else "black")
        ax.set_xticks(range(len(names)), names, rotation=40, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.set(title=f"{label} (lag 1), {int(part[persons].iloc[0])} persons",
               xlabel="target (t)", ylabel="source (t-1)")
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="share")
    fig.suptitle(title)
    return save_figure(fig, path, dpi=120)
