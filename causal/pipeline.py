"""The discover pipeline as one function: data in, output folder out.

:func:`discover` is what ``therapy-pcmci discover`` runs, and what experiment
scripts call when they want the same files. It reads the data, renames
columns, fits :class:`~causal.discovery.PanelPCMCI`, judges hypotheses and
writes every output file into one folder:

``links.csv``, ``graph.graphml``, ``graph.json``, ``graph.png`` (+ ``.svg``),
``patients.png`` (+ ``.svg``), ``hypotheses.csv``, ``exclusions.csv``,
``report.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from causal.discovery import PanelPCMCI
from causal.graph import write_graphml, write_json
from causal.hypotheses import HYPOTHESIS_COLUMNS, VerdictTable, evaluate, load_hypotheses
from causal.plotting import plot_graph, plot_patients
from causal.report import write_report
from features.errors import DataError
from features.io import read_table

__all__ = ["OUTPUT_FILES", "DiscoverResult", "discover", "rename_columns"]

logger = logging.getLogger(__name__)

#: Files every discover run writes.
OUTPUT_FILES = ("links.csv", "graph.graphml", "graph.json", "graph.png", "hypotheses.csv",
                "exclusions.csv", "report.md")


@dataclass(frozen=True)
class DiscoverResult:
    """What a discover run produced."""

    model: PanelPCMCI
    verdicts: VerdictTable | None
    out_dir: Path
    files: tuple[Path, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        lines = [str(self.model.links_)]
        if self.verdicts is not None:
            lines.append(str(self.verdicts))
        lines.append(f"outputs in {self.out_dir}")
        return "\n".join(lines)


def rename_columns(df: pd.DataFrame, mapping: Mapping[str, str]) -> pd.DataFrame:
    """Rename columns ``old -> new``; unknown old names or clashes raise :class:`DataError`.

    >>> rename_columns(pd.DataFrame({"phq": [1]}), {"phq": "depression"}).columns.tolist()
    ['depression']
    """
    missing = [old for old in mapping if old not in df.columns]
    if missing:
        raise DataError(f"--rename: column(s) {missing} not in the data; columns are "
                        f"{list(df.columns)}")
    clash = [new for old, new in mapping.items() if new in df.columns and new not in mapping]
    if clash:
        raise DataError(f"--rename: new name(s) {clash} already exist in the data")
    return df.rename(columns=dict(mapping))


def discover(data: pd.DataFrame | str | Path, out_dir: str | Path, *, id_col: str = "patient",
             time_col: str = "week", variables: Sequence[str] | None = None,
             segments: Sequence[str] = (), rename: Mapping[str, str] | None = None,
             hypotheses: str | Path | None = None, sesoi: float | None = None,
             time_step: str | None = None, command: str | None = None,
             source: str | None = None, n_plot_patients: int = 4,
             **params: Any) -> DiscoverResult:
    """Run discovery on a long-format table and write every output file.

    Parameters
    ----------
    data : DataFrame or path
        Long-format data or a CSV/Parquet file.
    out_dir : path
        Output folder (created).
    id_col, time_col, variables, segments
        See :meth:`features.panel.Panel.from_frame`; names after ``rename``.
    rename : mapping, optional
        Column renames applied first (e.g. ``{"phq9": "depression"}``).
    hypotheses : str or path, optional
        Preset name (``"melsom2023"``) or TOML file.
    sesoi : float, optional
        Overrides the hypotheses' smallest effect size of interest.
    time_step : str, optional
        Step for date times (e.g. ``"7D"``).
    command, source : str, optional
        Recorded in the report.
    **params
        Passed to :class:`~causal.discovery.PanelPCMCI`.
    """
    out = Path(out_dir)
    if isinstance(data, (str, Path)):
        source = source or str(data)
        df = read_table(data)
    else:
        source = source or "DataFrame"
        df = data
    if rename:
        df = rename_columns(df, rename)
        if variables is not None:
            variables = [rename.get(v, v) for v in variables]
        id_col, time_col = rename.get(id_col, id_col), rename.get(time_col, time_col)
        segments = [rename.get(s, s) for s in segments]
    claims = load_hypotheses(hypotheses) if hypotheses is not None else None
    from features.panel import Panel

    panel = Panel.from_frame(df, id_col=id_col, time_col=time_col, variables=variables,
                             segments=segments, tau_max=None, time_step=time_step)
    model = PanelPCMCI(**params).fit(panel)
    verdicts = evaluate(claims, model.links_, sesoi=sesoi) if claims else None

    out.mkdir(parents=True, exist_ok=True)
    files = [model.links_.to_csv(out / "links.csv"),
             write_graphml(model.graph_, out / "graph.graphml"),
             write_json(model.graph_, out / "graph.json"),
             model.exclusions_.to_csv(out / "exclusions.csv")]
    if verdicts is not None:
        files.append(verdicts.to_csv(out / "hypotheses.csv"))
    else:
        path = out / "hypotheses.csv"
        pd.DataFrame(columns=list(HYPOTHESIS_COLUMNS)).to_csv(path, index=False)
        files.append(path)
    title = f"{model.method.upper()} ({model.ci_test}, tau_max={model.tau_max}, alpha={model.alpha})"
    files += plot_graph(model.graph_, out / "graph", title=title)
    raw = panel.data.reset_index(drop=True)
    files += plot_patients(raw, id_col=panel.id_col, time_col=panel.time_col,
                           variables=list(panel.variables),
                           n_patients=min(n_plot_patients, panel.n_patients),
                           random_state=params.get("random_state"), path_stem=out / "patients")
    files.append(write_report(out / "report.md", links=model.links_, panel=model.panel_,
                              n_samples=model.n_samples_, source=source, verdicts=verdicts,
                              figures=["graph.png", "patients.png"], command=command))
    logger.info("wrote %d files to %s", len(files), out)
    return DiscoverResult(model=model, verdicts=verdicts, out_dir=out, files=tuple(files))
