"""The discover and individual pipelines as functions: data in, output folder out.

:func:`discover` is what ``therapy-pcmci discover`` runs, and what experiment
scripts call when they want the same files. It reads the data, renames
columns, fits :class:`~causal.discovery.estimator.PanelPCMCI`, judges hypotheses and
writes every output file into one folder:

``links.csv``, ``graph.graphml``, ``graph.json``, ``graph.png`` (+ ``.svg``),
``patients.png`` (+ ``.svg``), ``hypotheses.csv``, ``exclusions.csv``,
``report.md``.

With ``bootstrap=B`` (``--bootstrap B``) a patient cluster bootstrap
(:class:`~causal.resampling.bootstrap.ClusterBootstrap`) also writes ``bootstrap.csv``
(per-link frequency and percentile interval), ``edge_frequency.png`` (+
``.svg``) and, with hypotheses, ``forest.png`` (+ ``.svg``: analytic and
bootstrap intervals of the hypothesis links); ``hypotheses.csv`` gains the
columns ``edge_frequency, boot_low, boot_high`` and its verdicts use them
(:mod:`causal.hypotheses.verdicts`); ``report.md`` gains a bootstrap section.

:func:`individual` is ``therapy-pcmci individual``: per-patient discovery
(:class:`~causal.resampling.individual.IndividualPCMCI`), GIMME-style group and
individual edges and optional subgroups (:mod:`causal.resampling.subgroups`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from causal.discovery.estimator import PanelPCMCI
from causal.graph.build import write_graphml, write_json
from causal.hypotheses.spec import load_hypotheses
from causal.hypotheses.verdicts import HYPOTHESIS_COLUMNS, VerdictTable, evaluate
from causal.plotting.graphs import plot_edge_frequency, plot_forest, plot_graph, plot_patients
from causal.report import write_report
from causal.resampling.bootstrap import ClusterBootstrap, bootstrap_section
from causal.resampling.group import group_graph
from causal.resampling.individual import IndividualPCMCI
from causal.resampling.subgroups import SubgroupResult, compare_groups, find_subgroups
from features.errors import DataError, is_integer
from features.io import read_table
from features.panel import Panel

__all__ = ["BOOTSTRAP_FILES", "INDIVIDUAL_FILES", "OUTPUT_FILES", "DiscoverResult",
           "IndividualResult", "discover", "individual", "rename_columns"]

logger = logging.getLogger(__name__)

#: Files every discover run writes.
OUTPUT_FILES = ("links.csv", "graph.graphml", "graph.json", "graph.png", "hypotheses.csv",
                "exclusions.csv", "report.md")
#: Files every individual run writes.
INDIVIDUAL_FILES = ("edge_shares.csv", "patient_links.csv", "patients.csv", "exclusions.csv",
                    "group_graph.graphml", "group_graph.json", "group_graph.png",
                    "edge_shares.png", "summary.txt")
#: Files a run with ``bootstrap > 0`` writes in addition (``forest.png`` with hypotheses).
BOOTSTRAP_FILES = ("bootstrap.csv", "edge_frequency.png", "forest.png")


@dataclass(frozen=True)
class DiscoverResult:
    """What a discover run produced."""

    model: PanelPCMCI
    verdicts: VerdictTable | None
    out_dir: Path
    files: tuple[Path, ...] = field(default_factory=tuple)
    bootstrap: ClusterBootstrap | None = None

    def __str__(self) -> str:
        lines = [str(self.model.links_)]
        if self.bootstrap is not None:
            lines.append(str(self.bootstrap.result_))
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
    if twice := sorted({n for n in mapping.values() if list(mapping.values()).count(n) > 1}):
        raise DataError(f"--rename: several columns renamed to {twice}")
    clash = [new for old, new in mapping.items() if new in df.columns and new not in mapping]
    if clash:
        raise DataError(f"--rename: new name(s) {clash} already exist in the data")
    return df.rename(columns=dict(mapping))


def discover(data: pd.DataFrame | str | Path, out_dir: str | Path, *, id_col: str = "patient",
             time_col: str = "week", variables: Sequence[str] | None = None,
             segments: Sequence[str] = (), rename: Mapping[str, str] | None = None,
             hypotheses: str | Path | None = None, sesoi: float | None = None,
             time_step: str | None = None, command: str | None = None,
             source: str | None = None, n_plot_patients: int = 4, bootstrap: int = 0,
             ci_level: float = 0.95, n_jobs: int = 1, scheduler: str | None = None,
             progress: bool | None = None, na_values: Sequence[str] | None = None,
             decimal: str = ".", dayfirst: bool | None = None, drop_text_columns: bool = False,
             max_span: int | None = None, **params: Any) -> DiscoverResult:
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
    bootstrap : int
        Number of cluster-bootstrap replicates (0: no bootstrap).
    ci_level : float
        Level of the bootstrap percentile intervals.
    n_jobs, scheduler, progress
        Where the bootstrap replicates run and whether a progress bar is shown
        (see :func:`causal.resampling.parallel.parallel_map`).
    na_values, decimal, dayfirst, drop_text_columns, max_span
        See :func:`features.io.read_table` and :meth:`features.panel.Panel.from_frame`.
    **params
        Passed to :class:`~causal.discovery.estimator.PanelPCMCI`.
    """
    out = Path(out_dir)
    if isinstance(data, (str, Path)):
        source = source or str(data)
        df = read_table(data, na_values=na_values, decimal=decimal,
                        labels=[o for o, n in (rename or {}).items() if n == id_col] or [id_col])
    else:
        source = source or "DataFrame"
        df = data
    if rename:
        df = rename_columns(df, rename)
        if variables is not None:
            variables = [rename.get(v, v) for v in variables]
        id_col, time_col = rename.get(id_col, id_col), rename.get(time_col, time_col)
        segments = [rename.get(s, s) for s in segments]
    if not is_integer(bootstrap) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a number of replicates >= 0, got {bootstrap!r}")
    claims = load_hypotheses(hypotheses) if hypotheses is not None else None
    panel = Panel.from_frame(df, id_col=id_col, time_col=time_col, variables=variables,
                             segments=segments, tau_max=None, time_step=time_step,
                             dayfirst=dayfirst, drop_text_columns=drop_text_columns,
                             max_span=max_span)
    boot = None
    if bootstrap:
        boot = ClusterBootstrap(PanelPCMCI(**params), n_boot=bootstrap, ci_level=ci_level,
                                random_state=params.get("random_state"), n_jobs=n_jobs,
                                scheduler=scheduler, progress=progress).fit(panel)
        model = boot.estimator_
    else:
        model = PanelPCMCI(**params).fit(panel)
    verdicts = (evaluate(claims, model.links_, sesoi=sesoi,
                         bootstrap=None if boot is None else boot.edges_) if claims else None)

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
    title = (f"{model.method.upper()} ({model.ci_test}, tau_max={model.tau_max}, "
             f"alpha={model.alpha})")
    files += plot_graph(model.graph_, out / "graph", title=title)
    raw = panel.data.reset_index(drop=True)
    files += plot_patients(raw, id_col=panel.id_col, time_col=panel.time_col,
                           variables=list(panel.variables),
                           n_patients=min(n_plot_patients, panel.n_patients),
                           random_state=params.get("random_state"), path_stem=out / "patients")
    figures, sections = ["graph.png", "patients.png"], []
    if boot is not None:
        path = out / "bootstrap.csv"
        boot.edges_.to_csv(path, index=False)
        files.append(path)
        files += plot_edge_frequency(boot.edges_, out / "edge_frequency")
        figures.append("edge_frequency.png")
        if verdicts is not None:
            files += plot_forest(verdicts.to_frame(), out / "forest")
            figures.append("forest.png")
        marked = [(h.cause, h.effect, h.lag) for h in claims or ()]
        sections.append(bootstrap_section(boot.result_, marked))
    files.append(write_report(out / "report.md", links=model.links_, panel=model.panel_,
                              n_samples=model.n_samples_, source=source, verdicts=verdicts,
                              figures=figures, command=command, extra_sections=sections))
    logger.info("wrote %d files to %s", len(files), out)
    return DiscoverResult(model=model, verdicts=verdicts, out_dir=out, files=tuple(files),
                          bootstrap=boot)


# -------------------------------------------------------------- individual
@dataclass(frozen=True)
class IndividualResult:
    """What an ``individual`` run produced."""

    model: IndividualPCMCI
    subgroups: SubgroupResult | None
    out_dir: Path
    files: tuple[Path, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        lines = [str(self.model)]
        if self.subgroups is not None:
            lines.append(str(self.subgroups))
        lines.append(f"outputs in {self.out_dir}")
        return "\n".join(lines)


def _patient_groups(df: pd.DataFrame, id_col: str, group_col: str) -> pd.Series:
    """Patient -> group from a column that must be constant within each patient."""
    if group_col not in df.columns:
        raise DataError(f"--group-col: column {group_col!r} not in the data; columns are "
                        f"{list(df.columns)}")
    if group_col == id_col:
        raise DataError(f"--group-col must differ from the id column {id_col!r}")
    known = df.dropna(subset=[group_col])
    varying = known.groupby(id_col)[group_col].nunique()
    if (varying > 1).any():
        bad = varying.index[varying > 1].tolist()
        raise DataError(f"--group-col {group_col!r} must be constant within each patient; "
                        f"patient(s) {bad[:10]} have several values")
    missing = sorted(set(df[id_col]) - set(known[id_col]))
    if missing:
        raise DataError(f"--group-col {group_col!r} has no value for patient(s) {missing[:10]}")
    return known.groupby(id_col)[group_col].first()


def _plot_group_graph(graph: nx.DiGraph, path_stem: Path, title: str) -> list[Path]:
    """Draw a :func:`~causal.resampling.group.group_graph` (a copy) with median edge values."""
    graph = graph.copy()
    for _, _, attrs in graph.edges(data=True):
        attrs["value"] = attrs["median_value"]  # plot_graph draws ``value``
    return plot_graph(graph, path_stem, title=title)


def individual(data: pd.DataFrame | str | Path, out_dir: str | Path, *, id_col: str = "patient",
               time_col: str = "week", variables: Sequence[str] | None = None,
               segments: Sequence[str] = (), time_step: str | None = None,
               group_threshold: float = 0.75, subgroups: int | str | None = None,
               group_col: str | None = None, n_jobs: int = 1, scheduler: str | None = None,
               progress: bool | None = None, na_values: Sequence[str] | None = None,
               decimal: str = ".", dayfirst: bool | None = None, drop_text_columns: bool = False,
               max_span: int | None = None, **params: Any) -> IndividualResult:
    """Run per-patient discovery, aggregate it and write every output file.

    Files: ``edge_shares.csv`` (per link: share of patients with it, its
    class group / individual / absent; :attr:`IndividualPCMCI.summary_
    <causal.resampling.individual.IndividualPCMCI>`), ``patient_links.csv`` (every
    patient's tested links), ``patients.csv``, ``exclusions.csv``,
    ``group_graph.graphml``/``.json``/``.png`` (group edges, drawn with their
    median value), ``edge_shares.png`` (heatmap of the shares) and, with
    ``subgroups`` or ``group_col``, ``subgroups.csv`` (patient -> group),
    ``subgroup_edges.csv`` (per group and link), ``subgroup_<g>.png`` and, for
    a known grouping, ``subgroup_differences.csv``; ``summary.txt``.

    Parameters
    ----------
    data : DataFrame or path
        Long-format data or a CSV/Parquet file.
    out_dir : path
        Output folder (created).
    id_col, time_col, variables, segments, time_step
        See :meth:`features.panel.Panel.from_frame`.
    group_threshold : float
        Share of patients a group edge needs (GIMME: 0.75).
    subgroups : int or "auto", optional
        Cluster patients into this many groups (:func:`causal.resampling.subgroups.find_subgroups`;
        ``"auto"``: chosen by the silhouette).
    group_col : str, optional
        Column with a known patient-level grouping (e.g. treatment arm) to
        compare instead (:func:`causal.resampling.subgroups.compare_groups`); it is not
        used as a variable.
    n_jobs, scheduler, progress
        Where the patients run (see :func:`causal.resampling.parallel.parallel_map`).
    na_values, decimal, dayfirst, drop_text_columns, max_span
        See :func:`features.io.read_table` and :meth:`features.panel.Panel.from_frame`.
    **params
        Passed to :class:`~causal.resampling.individual.IndividualPCMCI` (``tau_max``,
        ``alpha``, ``random_state``, PanelPCMCI settings).
    """
    if subgroups is not None and group_col is not None:
        raise ValueError("give either subgroups (clustering) or group_col (a known grouping), "
                         "not both")
    if subgroups is not None and subgroups != "auto" and (
            not is_integer(subgroups) or subgroups < 2):
        raise ValueError(f"subgroups must be an integer >= 2 or 'auto', got {subgroups!r}")
    out = Path(out_dir)
    df = (read_table(data, na_values=na_values, decimal=decimal, labels=[id_col])
          if isinstance(data, (str, Path)) else data)
    groups = None
    if group_col is not None:
        groups = _patient_groups(df, id_col, group_col)
        df = df.drop(columns=[group_col])
    panel = Panel.from_frame(df, id_col=id_col, time_col=time_col, variables=variables,
                             segments=segments, tau_max=None, time_step=time_step,
                             dayfirst=dayfirst, drop_text_columns=drop_text_columns,
                             max_span=max_span)
    model = IndividualPCMCI(group_threshold=group_threshold, n_jobs=n_jobs, scheduler=scheduler,
                            progress=progress, **params).fit(panel)
    found = None
    if groups is not None:
        found = compare_groups(model, groups)
    elif subgroups is not None:
        found = find_subgroups(model, None if subgroups == "auto" else int(subgroups),
                               random_state=params.get("random_state"))

    out.mkdir(parents=True, exist_ok=True)
    tables = {"edge_shares.csv": model.summary_, "patient_links.csv": model.links_,
              "patients.csv": model.patients_.reset_index()}
    if found is not None:
        tables["subgroups.csv"] = found.labels.rename_axis(panel.id_col).reset_index()
        tables["subgroup_edges.csv"] = found.summaries
        if found.differences is not None:
            tables["subgroup_differences.csv"] = found.differences
    files = []
    for name, table in tables.items():
        table.to_csv(out / name, index=False)
        files.append(out / name)
    files.append(model.exclusions_.to_csv(out / "exclusions.csv"))
    files += [write_graphml(model.group_graph_, out / "group_graph.graphml"),
              write_json(model.group_graph_, out / "group_graph.json")]
    n = len(model.patients_)
    files += _plot_group_graph(model.group_graph_, out / "group_graph",
                               f"group edges (significant in >= {group_threshold:.0%} of {n} "
                               "patients; median value)")
    files += plot_edge_frequency(model.summary_.rename(columns={"share": "frequency"}),
                                 out / "edge_shares", label="share of patients")
    if found is not None:
        for g in pd.unique(found.labels):
            summary = found.summaries[found.summaries["group"] == g]
            files += _plot_group_graph(group_graph(summary, panel.variables),
                                       out / f"subgroup_{g}",
                                       f"subgroup {g}: group edges "
                                       f"({int((found.labels == g).sum())} patients)")
    result = IndividualResult(model=model, subgroups=found, out_dir=out, files=tuple(files))
    (out / "summary.txt").write_text(str(result) + "\n", encoding="utf-8")
    files.append(out / "summary.txt")
    logger.info("wrote %d files to %s", len(files), out)
    return IndividualResult(model=model, subgroups=found, out_dir=out, files=tuple(files))
