"""The discover and individual pipelines: compute -> result object -> write outputs.

``therapy-pcmci discover`` is :func:`compute_discover` (read the data, rename
columns, fit :class:`~causal.discovery.estimator.PanelPCMCI`, judge the
hypotheses) followed by :func:`write_discover`, which writes every output file
into one folder:

``links.csv`` (every tested lagged link and the lag-0 rows of the
contemporaneous network), ``between.csv`` (the between-person network),
``graph.graphml``, ``graph.json``, ``graph.png`` (+ ``.svg``), ``networks.png``
(+ ``.svg``: the temporal, contemporaneous and between-person networks side by
side, :mod:`causal.discovery.networks`), ``patients.png`` (+ ``.svg``),
``hypotheses.csv``, ``sensitivity.csv``, ``comparisons.csv``, ``exclusions.csv``,
``report.md``. With hypotheses, ``sensitivity.csv`` and a report section say how many
alternative specifications (trend models, ``tau_max`` 1 and 2, ``pc_alpha`` 0.1
and 0.2; :mod:`causal.hypotheses.sensitivity`) agree with each default verdict
(``DiscoverOptions(sensitivity=False)``, ``--no-sensitivity``: off; the file then
has its header only, as ``hypotheses.csv`` without hypotheses).

Every run also estimates the effects of every lagged link with a patient
cluster bootstrap (:func:`causal.hypotheses.comparisons.model_effects`, on
``Links.effect`` when the links carry it): they judge the ``[[comparison]]``
claims of the hypothesis file (``comparisons.csv``, a report section) and say
who leads with its uncertainty (:func:`causal.graph.summary.leading_order`,
the report's "Who leads").

With ``DiscoverOptions(bootstrap=B)`` (``--bootstrap B``) a patient cluster
bootstrap (:class:`~causal.resampling.bootstrap.ClusterBootstrap`) also writes
``bootstrap.csv`` (per-link frequency and percentile interval),
``edge_frequency.png`` (+ ``.svg``) and, with hypotheses, ``forest.png`` (+
``.svg``: analytic and bootstrap intervals of the hypothesis links);
``hypotheses.csv`` gains the columns ``edge_frequency, boot_low, boot_high`` and
its verdicts use them (:mod:`causal.hypotheses.verdicts`); ``report.md`` gains a
bootstrap section.

``therapy-pcmci individual`` is :func:`compute_individual` +
:func:`write_individual`: per-patient discovery
(:class:`~causal.resampling.individual.IndividualPCMCI`), GIMME-style group and
individual edges and optional subgroups (:mod:`causal.resampling.subgroups`).

:func:`discover` and :func:`individual` do both steps, for experiment scripts
that want the same files. Settings are frozen :class:`DiscoverOptions` /
:class:`IndividualOptions`; estimator settings go in their ``pcmci`` mapping.

File problems are turned into :class:`~features.errors.InputError` naming the
path where they happen: an unreadable data or hypothesis file, an output folder
that cannot be written.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from causal.discovery.estimator import PanelPCMCI
from causal.discovery.links import Links
from causal.discovery.networks import Networks, networks_section, three_networks
from causal.graph.build import write_graphml, write_json
from causal.graph.summary import LeadingOrder, leading_order
from causal.hypotheses.comparisons import (
    COMPARISON_COLUMNS,
    ComparisonTable,
    EffectDraws,
    check_comparisons,
    compare,
    comparison_section,
    model_effects,
)
from causal.hypotheses.sensitivity import SENSITIVITY_COLUMNS, Sensitivity, run_sensitivity
from causal.hypotheses.spec import (
    Comparison,
    Hypothesis,
    HypothesisError,
    load_comparisons,
    load_hypotheses,
)
from causal.hypotheses.verdicts import (
    HYPOTHESIS_COLUMNS,
    VerdictTable,
    check_hypotheses,
    evaluate,
)
from causal.plotting.graphs import plot_edge_frequency, plot_forest, plot_graph, plot_patients
from causal.plotting.networks import plot_networks
from causal.report import (
    EFFECT_SIZE_COLUMNS,
    add_effect_sizes,
    markdown_table,
    sensitivity_section,
    write_report,
)
from causal.resampling.bootstrap import ClusterBootstrap, bootstrap_section
from causal.resampling.group import group_graph
from causal.resampling.individual import IndividualPCMCI
from causal.resampling.subgroups import SubgroupResult, compare_groups, find_subgroups
from features.checks import check_bool, check_int, check_real
from features.diagnostics import TrendDiagnostics, diagnose_trends
from features.errors import DataError, InputError, is_integer
from features.exclusions import ExclusionReport
from features.io import read_table
from features.panel import Panel

__all__ = [
    "BOOTSTRAP_FILES",
    "INDIVIDUAL_FILES",
    "OUTPUT_FILES",
    "DataOptions",
    "DiscoverOptions",
    "DiscoverResult",
    "IndividualOptions",
    "IndividualResult",
    "build_panel",
    "check_out_dir",
    "compute_discover",
    "compute_individual",
    "diagnostics_section",
    "discover",
    "individual",
    "published",
    "read_data",
    "rename_columns",
    "write_discover",
    "write_discover_files",
    "write_individual",
    "writing_to",
]

logger = logging.getLogger(__name__)

#: Files every discover run writes.
OUTPUT_FILES = ("links.csv", "graph.graphml", "graph.json", "graph.png", "hypotheses.csv",
                "sensitivity.csv", "comparisons.csv", "exclusions.csv", "report.md",
                "between.csv", "networks.png")
#: Patient cluster-bootstrap replicates of the effects (comparisons, who leads) when
#: ``bootstrap`` is 0; with ``bootstrap=B`` the effects use B replicates.
EFFECT_REPLICATES = 1000
#: Files every individual run writes.
INDIVIDUAL_FILES = ("edge_shares.csv", "patient_links.csv", "patients.csv", "exclusions.csv",
                    "group_graph.graphml", "group_graph.json", "group_graph.png",
                    "edge_shares.png", "summary.txt")
#: Files a run with ``bootstrap > 0`` writes in addition (``forest.png`` with hypotheses).
BOOTSTRAP_FILES = ("bootstrap.csv", "edge_frequency.png", "forest.png")


# ------------------------------------------------------------ file boundary
def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def read_data(path: str | Path, options: DataOptions | None = None,
              rename: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a long-format file; an unreadable file raises :class:`DataError` naming it.

    ``options`` (:class:`DataOptions`) holds the reading settings (missing-value
    codes, decimal mark); the id column (and any column ``rename`` maps onto it)
    is read as labels, never as numbers.

    >>> read_data("/nonexistent/cohort.csv")
    Traceback (most recent call last):
    ...
    features.errors.DataError: /nonexistent/cohort.csv: file not found
    """
    o = options if options is not None else DataOptions()
    labels = [o.id_col, *(old for old, new in (rename or {}).items() if new == o.id_col)]
    try:
        return read_table(path, na_values=o.na_values, decimal=o.decimal, labels=labels,
                          value_labels=o.value_labels, sheet=o.sheet)
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({_reason(exc)})") from exc


def _read_hypotheses(spec: str | Path) -> tuple[tuple[Hypothesis, ...], tuple[Comparison, ...]]:
    try:
        return load_hypotheses(spec), load_comparisons(spec)
    except OSError as exc:
        raise HypothesisError(f"{spec}: cannot read the hypothesis file ({_reason(exc)})"
                              ) from exc
    except UnicodeDecodeError as exc:
        raise HypothesisError(f"{spec}: the hypothesis file is not UTF-8 text (byte "
                              f"{exc.start})") from exc


@contextmanager
def writing_to(out_dir: str | Path) -> Iterator[Path]:
    """Write a command's outputs atomically: into a staging folder, moved into place at the end.

    The block writes into the yielded staging folder (a hidden sibling of
    ``out_dir``). Only when the block ends without an exception is the staging
    folder moved to ``out_dir``; an existing ``out_dir`` folder is then replaced
    as a whole, so old and new files are never mixed. On any error, interrupt
    (SIGINT) or termination (SIGTERM) the staging folder is removed and
    ``out_dir`` is left as it was. A file problem raises :class:`InputError`
    naming the folder.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "results"
    >>> with writing_to(out) as stage:
    ...     _ = (stage / "links.csv").write_text("x")
    >>> sorted(p.name for p in out.iterdir())
    ['links.csv']
    >>> with writing_to(Path("/proc/no/such/folder")):  # doctest: +ELLIPSIS
    ...     pass
    Traceback (most recent call last):
    ...
    features.errors.InputError: cannot write the output folder /proc/no/such/folder: ...
    """
    out = check_out_dir(out_dir)
    stage: Path | None = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
        yield stage
        _publish(stage, out)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(out) else ""
        raise InputError(f"cannot write the output folder {out}: {_reason(exc)}{where}"
                         ) from exc
    finally:
        if stage is not None and stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def check_out_dir(out_dir: str | Path) -> Path:
    """Return ``out_dir`` as a Path if it can be an output folder, else raise :class:`InputError`.

    It must not be empty (``''`` would mean the current folder) and must not be
    an existing file.

    >>> check_out_dir("")
    Traceback (most recent call last):
    ...
    features.errors.InputError: the output folder must not be empty
    """
    if not str(out_dir).strip():
        raise InputError("the output folder must not be empty")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"the output folder {out} is an existing file")
    return out


def _publish(stage: Path, out: Path) -> None:
    """Move the finished staging folder to ``out``, replacing an old ``out`` folder whole."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.{stage.name.rsplit('.', 2)[-2]}.old")
        out.rename(old)
    stage.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def published(paths: Sequence[Path], stage: Path, out: Path) -> tuple[Path, ...]:
    """Return the final locations (under ``out``) of files written under ``stage``."""
    return tuple(out / Path(p).relative_to(stage) for p in paths)


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


@dataclass(frozen=True)
class DataOptions:
    """How the long-format data are read and which columns play which role.

    Shared by :class:`DiscoverOptions` and :class:`IndividualOptions` (the
    command line's data options, :func:`causal.cli.options.add_data_options`);
    :func:`read_data` and :func:`build_panel` are the only places that use them.

    Parameters
    ----------
    id_col, time_col, variables, segments, time_step, day_col, beep_col, duplicates, max_gap
        See :meth:`features.panel.Panel.from_frame`; ``time_col`` None means
        ``"week"`` unless ``day_col`` and ``beep_col`` are given.
    na_values, decimal
        Missing-value codes and decimal mark (:func:`features.io.read_table`).
    dayfirst, drop_text_columns, max_span
        See :meth:`features.panel.Panel.from_frame`.
    value_labels : {"codes", "labels"}
        SPSS/Stata files: keep numeric codes or map them to their labels
        (:mod:`features.formats`).
    sheet : str, optional
        Excel files: sheet name or 0-based position.

    Examples
    --------
    >>> DataOptions(variables=["phq9"]).renamed({"phq9": "depression"}).variables
    ('depression',)
    """

    id_col: str = "patient"
    time_col: str | None = None
    variables: Sequence[str] | None = None
    segments: Sequence[str] = ()
    time_step: str | None = None
    day_col: str | None = None
    beep_col: str | None = None
    duplicates: str = "error"
    max_gap: str | None = None
    na_values: Sequence[str] | None = None
    decimal: str = "."
    dayfirst: bool | None = None
    drop_text_columns: bool = False
    max_span: int | None = None
    value_labels: str = "codes"
    sheet: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.segments))
        if self.na_values is not None:
            object.__setattr__(self, "na_values", tuple(self.na_values))
        if self.variables is not None:
            object.__setattr__(self, "variables", tuple(self.variables))

    def renamed(self, mapping: Mapping[str, str]) -> DataOptions:
        """Return these options with column names mapped through ``mapping`` (old -> new)."""
        return dataclasses.replace(
            self, id_col=mapping.get(self.id_col, self.id_col),
            time_col=mapping.get(self.time_col, self.time_col),
            day_col=mapping.get(self.day_col, self.day_col),
            beep_col=mapping.get(self.beep_col, self.beep_col),
            variables=None if self.variables is None else [mapping.get(v, v)
                                                           for v in self.variables],
            segments=[mapping.get(s, s) for s in self.segments])


def build_panel(df: pd.DataFrame, options: DataOptions,
                source: str | Path | None = None) -> Panel:
    """Validate ``df`` into a :class:`~features.panel.Panel` as ``options`` say.

    With ``source`` (the file the data came from), a :class:`DataError`
    names the file before the column and row: its rows are the file's lines
    (text), case numbers (SPSS, Stata) or sheet rows (Excel), see
    :func:`features.io.read_table`.

    >>> df = pd.DataFrame({"patient": [1, 1], "week": [1, 2], "x": [1.0, "5x"]})
    >>> build_panel(df, DataOptions(variables=["x"]), source="ema.xlsx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    features.errors.DataError: ema.xlsx: column 'x': row 1 has non-numeric value '5x' ...
    """
    try:
        return Panel.from_frame(df, id_col=options.id_col, time_col=options.time_col,
                                variables=None if options.variables is None else list(
                                    options.variables),
                                segments=list(options.segments), tau_max=None,
                                time_step=options.time_step, day_col=options.day_col,
                                beep_col=options.beep_col, duplicates=options.duplicates,
                                max_gap=options.max_gap, dayfirst=options.dayfirst,
                                drop_text_columns=options.drop_text_columns,
                                max_span=options.max_span)
    except DataError as exc:
        if source is None or str(exc).startswith(f"{source}:"):
            raise
        raise DataError(f"{source}: {exc}") from exc


def _load(data: pd.DataFrame | str | Path, options: DataOptions,
          rename: Mapping[str, str] | None) -> tuple[pd.DataFrame, DataOptions]:
    """Read ``data`` (a file) or take it (a frame), then apply ``rename`` to it and the options."""
    df = read_data(data, options, rename) if isinstance(data, (str, Path)) else data
    if rename:
        df = rename_columns(df, rename)
        options = options.renamed(rename)
    return df, options


def _check_pcmci(pcmci: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(pcmci, Mapping):
        raise InputError(f"pcmci must be a mapping of PanelPCMCI settings, got {pcmci!r}")
    if "random_state" in pcmci:
        raise InputError("give random_state as the option random_state, not inside pcmci")
    return dict(pcmci)


# ---------------------------------------------------------------- discover
@dataclass(frozen=True)
class DiscoverOptions:
    """Settings of a discover run (``therapy-pcmci discover``).

    Parameters
    ----------
    data : DataOptions
        How the data are read; column names after ``rename``.
    rename : mapping, optional
        Column renames applied first (e.g. ``{"phq9": "depression"}``).
    hypotheses : str or path, optional
        Preset name (``"melsom2023"``) or TOML file.
    sesoi : float, optional
        Overrides the hypotheses' smallest effect size of interest.
    pcmci : mapping
        Settings of :class:`~causal.discovery.estimator.PanelPCMCI` (``tau_max``,
        ``alpha``, ``method`` ...), except ``random_state``.
    random_state : int, optional
        The one seed: discovery, bootstrap and the patients drawn in ``patients.png``.
    bootstrap : int
        Number of cluster-bootstrap replicates (0: no bootstrap).
    ci_level : float
        Level of the bootstrap percentile intervals.
    n_jobs, scheduler, progress
        Where the bootstrap replicates run and whether a progress bar is shown
        (see :func:`causal.resampling.parallel.parallel_map`).
    n_plot_patients : int
        Patients drawn in ``patients.png``.
    source, command : str, optional
        Recorded in the report (``source`` defaults to the file name).
    sensitivity : bool
        With hypotheses: re-judge them under the alternative specifications of
        :func:`causal.hypotheses.sensitivity.specifications` (``sensitivity.csv``
        and a report section). Default True.

    Examples
    --------
    >>> DiscoverOptions(bootstrap=-1)
    Traceback (most recent call last):
    ...
    features.errors.InputError: bootstrap must be an integer >= 0, got -1
    """

    data: DataOptions = field(default_factory=DataOptions)
    rename: Mapping[str, str] | None = None
    hypotheses: str | Path | None = None
    sesoi: float | None = None
    pcmci: Mapping[str, Any] = field(default_factory=dict)
    random_state: int | None = None
    bootstrap: int = 0
    ci_level: float = 0.95
    n_jobs: int = 1
    scheduler: str | None = None
    progress: bool | None = None
    n_plot_patients: int = 4
    source: str | None = None
    command: str | None = None
    sensitivity: bool = True

    def __post_init__(self) -> None:
        check_int("bootstrap", self.bootstrap, minimum=0)
        check_bool("sensitivity", self.sensitivity)
        check_real("ci_level", self.ci_level, low=0, high=1)
        check_int("n_plot_patients", self.n_plot_patients, minimum=1)
        object.__setattr__(self, "pcmci", _check_pcmci(self.pcmci))


@dataclass(frozen=True)
class DiscoverResult:
    """What :func:`compute_discover` found; :func:`write_discover` writes it out.

    Attributes
    ----------
    options : DiscoverOptions, optional
        Default: ``DiscoverOptions()``.
    source : str
        Where the data came from (recorded in the report).
    panel : Panel
        The validated input panel (before preprocessing).
    model : PanelPCMCI
        The fitted estimator (the bootstrap's full-sample fit with ``bootstrap``).
    hypotheses : tuple of Hypothesis, optional
    verdicts : VerdictTable, optional
    bootstrap : ClusterBootstrap, optional
    sensitivity : Sensitivity, optional
        The verdicts under alternative specifications (with hypotheses and
        ``options.sensitivity``).
    effects : EffectDraws, optional
        Effects of every lagged link with their patient-bootstrap draws
        (None if they could not be estimated).
    comparisons : ComparisonTable, optional
        Verdicts on the ``[[comparison]]`` claims.
    leading : LeadingOrder, optional
        Who leads, with its uncertainty.
    networks : Networks, optional
        The temporal, contemporaneous and between-person networks
        (:func:`causal.discovery.networks.three_networks`); ``links.csv`` and
        ``between.csv``.
    diagnostics : TrendDiagnostics, optional
        How well the trend model (``prep``) fits each patient
        (:func:`features.diagnostics.diagnose_trends`; None for segmented data
        and day/beep designs).
    """

    options: DiscoverOptions
    source: str
    panel: Panel
    model: PanelPCMCI
    hypotheses: tuple[Hypothesis, ...] | None = None
    verdicts: VerdictTable | None = None
    bootstrap: ClusterBootstrap | None = None
    sensitivity: Sensitivity | None = None
    effects: EffectDraws | None = None
    comparisons: ComparisonTable | None = None
    leading: LeadingOrder | None = None
    networks: Networks | None = None
    diagnostics: TrendDiagnostics | None = None

    @property
    def links(self) -> Links:
        """Every tested link (:attr:`PanelPCMCI.links_`)."""
        return self.model.links_

    @property
    def exclusions(self) -> ExclusionReport:
        """Rows and patients left out, with reasons."""
        return self.model.exclusions_

    def __str__(self) -> str:
        lines = [str(self.model.links_)]
        if self.bootstrap is not None:
            lines.append(str(self.bootstrap.result_))
        if self.verdicts is not None:
            lines.append(str(self.verdicts))
        if self.sensitivity is not None:
            lines.append(str(self.sensitivity))
        if self.comparisons is not None:
            lines.append(str(self.comparisons))
        if self.leading is not None:
            lines.append(self.leading.render())
        return "\n".join(lines)


def _effects(panel: Panel, model: PanelPCMCI, comparisons: tuple[Comparison, ...],
             o: DiscoverOptions) -> tuple[EffectDraws | None, ComparisonTable | None,
                                          LeadingOrder | None]:
    """Effects with patient-bootstrap draws, the comparison verdicts and who leads."""
    try:
        draws = model_effects(model, panel, n_boot=o.bootstrap or EFFECT_REPLICATES,
                              random_state=o.random_state)
    except InputError as exc:
        logger.warning("the effects could not be bootstrapped, so comparisons are "
                       "inconclusive and who leads is not assessed: %s", exc)
        table = (ComparisonTable.not_estimable(comparisons, str(exc), alpha=model.alpha)
                 if comparisons else None)
        return None, table, None
    compared = compare(comparisons, draws, alpha=model.alpha) if comparisons else None
    leading = leading_order(draws.table(), draws.replicates(), list(model.panel_.variables),
                            alpha=model.alpha)
    return draws, compared, leading


def compute_discover(data: pd.DataFrame | str | Path,
                     options: DiscoverOptions | None = None) -> DiscoverResult:
    """Read the data, fit :class:`PanelPCMCI` (and the bootstrap) and judge the hypotheses.

    Parameters
    ----------
    data : DataFrame or path
        Long-format data or a CSV/Parquet file.
    options : DiscoverOptions, optional
        Default: ``DiscoverOptions()``.

    Returns
    -------
    DiscoverResult
    """
    o = options if options is not None else DiscoverOptions()
    source = o.source or (str(data) if isinstance(data, (str, Path)) else "DataFrame")
    df, names = _load(data, o.data, o.rename)
    claims, comparisons = (_read_hypotheses(o.hypotheses) if o.hypotheses is not None
                           else (None, ()))
    panel = build_panel(df, names, data if isinstance(data, (str, Path)) else None)
    estimator = PanelPCMCI(random_state=o.random_state, **o.pcmci)
    if claims:  # before any discovery work (a bootstrap can take minutes)
        check_hypotheses(claims, panel.variables, estimator.tau_max)
    check_comparisons(comparisons, panel.variables, estimator.tau_max)
    boot = None
    if o.bootstrap:
        boot = ClusterBootstrap(estimator, n_boot=o.bootstrap, ci_level=o.ci_level,
                                random_state=o.random_state, n_jobs=o.n_jobs,
                                scheduler=o.scheduler, progress=o.progress).fit(panel)
        model = boot.estimator_
    else:
        model = estimator.fit(panel)
    verdicts = (evaluate(claims, model.links_, sesoi=o.sesoi,
                         bootstrap=None if boot is None else boot.edges_) if claims else None)
    # per patient over time only: with segments or a day/beep design the same time can
    # occur in several blocks of a patient, and the diurnal model is not a trend in weeks
    diagnostics = model.trend_diagnostics_  # the straight line that prep="auto" checked
    if diagnostics is None and not panel.segments and not panel.day_col:
        diagnostics = diagnose_trends(panel, model.prep_)
    sensitivity = (run_sensitivity(panel, verdicts, {**model.get_params(), "prep": model.prep_})
                   if verdicts is not None and o.sensitivity else None)
    effects, compared, leading = _effects(panel, model, comparisons, o)
    return DiscoverResult(options=o, source=source, panel=panel, model=model,
                          hypotheses=claims or None, verdicts=verdicts, bootstrap=boot,
                          sensitivity=sensitivity, networks=three_networks(model, panel),
                          diagnostics=diagnostics, effects=effects, comparisons=compared,
                          leading=leading)


def diagnostics_section(diagnostics: TrendDiagnostics,
                        used: str | None = None) -> tuple[str, str]:
    """Return the report section on how well the trend model fits the patients.

    ``used``: the trend model the analysis used, when ``prep="auto"`` chose another one
    than the checked model because it misfits.
    """
    d = diagnostics
    verdict = ("**The trend model misfits**: significantly more patients are flagged than a "
               "fitting model flags by chance, so cross-lagged links may partly reflect "
               "unmodelled change shared by a patient's measures (docs/method.md, trend "
               "models; compare other `--prep` choices)." if d.misfit else
               "No evidence that the trend model misfits more patients than chance.")
    if used is not None and used != d.prep:
        verdict += (f" `--prep auto` therefore used `{used}` (a natural spline per patient "
                    "and measure) instead; see the sensitivity section for the verdicts under "
                    "the straight line.")
    table = pd.DataFrame({
        "check": ["any (patient flagged)", "curvature", "change point",
                  "leftover autocorrelation"],
        "share of patients": [f"{x:.1%}" for x in (d.share_patients, d.share_curvature,
                                                   d.share_change_point,
                                                   d.share_autocorrelation)]})
    body = "\n".join([str(d), "", markdown_table(table), "",
                      f"A trend model that fits flags {d.expected_share:.1%} of these patients "
                      f"by chance (reference copies of the design); excess p = "
                      f"{d.p_excess:.2g}. {verdict}"])
    return "Trajectory diagnostics", body


def write_discover(result: DiscoverResult, out_dir: str | Path) -> tuple[Path, ...]:
    """Write every output file of a discover run into ``out_dir`` (created).

    Returns
    -------
    tuple of Path
        The files written.

    Raises
    ------
    InputError
        If the folder or a file in it cannot be written.
    """
    return _write_staged(lambda stage, _: write_discover_files(result, stage), out_dir)


def _write_staged(write: Callable[[Path, Path], Sequence[Path]],
                  out_dir: str | Path) -> tuple[Path, ...]:
    """Call ``write(stage, out)`` in :func:`writing_to`; return where its files end up."""
    out = Path(out_dir)
    with writing_to(out) as stage:
        files = published(write(stage, out), stage, out)
    logger.info("wrote %d files to %s", len(files), out)
    return files


def write_discover_files(result: DiscoverResult, out: Path) -> tuple[Path, ...]:
    """Write the files of :func:`write_discover` into the existing folder ``out``."""
    model, verdicts, boot, panel = result.model, result.verdicts, result.bootstrap, result.panel
    # links.csv: discovery's links plus the contemporaneous network's lag-0 rows
    written = result.networks.links if result.networks is not None else model.links_
    files = [written.to_csv(out / "links.csv"),
             write_graphml(model.graph_, out / "graph.graphml"),
             write_json(model.graph_, out / "graph.json"),
             model.exclusions_.to_csv(out / "exclusions.csv")]
    path = out / "hypotheses.csv"
    if verdicts is not None:
        add_effect_sizes(verdicts.to_frame(), model.links_).to_csv(path, index=False)
    else:
        pd.DataFrame(columns=[*HYPOTHESIS_COLUMNS, *EFFECT_SIZE_COLUMNS]).to_csv(path,
                                                                               index=False)
    files.append(path)
    path = out / "comparisons.csv"
    if result.comparisons is not None:
        result.comparisons.to_csv(path)
    else:
        pd.DataFrame(columns=list(COMPARISON_COLUMNS)).to_csv(path, index=False)
    files.append(path)
    title = (f"{model.method.upper()} ({model.ci_test}, tau_max={model.tau_max}, "
             f"alpha={model.alpha})")
    files += plot_graph(model.graph_, out / "graph", title=title)
    raw = panel.data.reset_index(drop=True)
    files += plot_patients(raw, id_col=panel.id_col, time_col=panel.time_col,
                           variables=list(panel.variables),
                           n_patients=min(result.options.n_plot_patients, panel.n_patients),
                           random_state=result.options.random_state,
                           segments=panel.block_cols[1:], path_stem=out / "patients")
    figures, sections = ["graph.png", "patients.png"], []
    if result.networks is not None:
        path = out / "between.csv"
        result.networks.between.to_csv(path, index=False)
        files.append(path)
        files += plot_networks(result.networks.graphs(), out / "networks",
                               title=f"the three networks ({model.method.upper()}, "
                                     f"alpha={model.alpha})")
        sections.append(("The three networks", networks_section(result.networks)))
    if boot is not None:
        path = out / "bootstrap.csv"
        boot.edges_.to_csv(path, index=False)
        files.append(path)
        files += plot_edge_frequency(boot.edges_, out / "edge_frequency")
        figures.append("edge_frequency.png")
        if verdicts is not None:
            files += plot_forest(verdicts.to_frame(), out / "forest")
            figures.append("forest.png")
        marked = [(h.cause, h.effect, h.lag) for h in result.hypotheses or ()]
        sections.append(bootstrap_section(boot.result_, marked))
    if result.diagnostics is not None:
        sections.append(diagnostics_section(result.diagnostics, result.model.prep_))
    if result.sensitivity is not None:
        files.append(result.sensitivity.to_csv(out / "sensitivity.csv"))
        sections.append(("Sensitivity", sensitivity_section(result.sensitivity)))
    else:
        path = out / "sensitivity.csv"
        pd.DataFrame(columns=list(SENSITIVITY_COLUMNS)).to_csv(path, index=False)
        files.append(path)
    if result.comparisons is not None:
        sections.insert(0, comparison_section(result.comparisons))
    files.append(write_report(out / "report.md", links=model.links_, panel=model.panel_,
                              n_samples=model.n_samples_, source=result.source,
                              verdicts=verdicts, leading=result.leading, figures=figures,
                              command=result.options.command, extra_sections=sections))
    return tuple(files)


def discover(data: pd.DataFrame | str | Path, out_dir: str | Path,
             options: DiscoverOptions | None = None
             ) -> tuple[DiscoverResult, tuple[Path, ...]]:
    """:func:`compute_discover` then :func:`write_discover`; return the result and the files."""
    return _compute_and_write(compute_discover, write_discover, data, out_dir, options)


def _compute_and_write(compute: Callable[[Any, Any], Any], write: Callable[[Any, Any], Any],
                       data: pd.DataFrame | str | Path, out_dir: str | Path,
                       options: Any) -> tuple[Any, tuple[Path, ...]]:
    result = compute(data, options)
    return result, write(result, out_dir)


# -------------------------------------------------------------- individual
@dataclass(frozen=True)
class IndividualOptions:
    """Settings of an individual run (``therapy-pcmci individual``).

    Parameters
    ----------
    data : DataOptions
        How the data are read (column names before or after ``rename``).
    rename : mapping, optional
        Column renames applied first (e.g. ``{"pieker": "worry"}``), as for
        :class:`DiscoverOptions`.
    group_threshold : float
        Share of patients a group edge needs (GIMME: 0.75).
    subgroups : int or "auto", optional
        Cluster patients into this many groups
        (:func:`causal.resampling.subgroups.find_subgroups`; ``"auto"``: chosen by
        the silhouette).
    group_col : str, optional
        Column with a known patient-level grouping (e.g. treatment arm) to
        compare instead (:func:`causal.resampling.subgroups.compare_groups`); it
        is not used as a variable.
    pcmci : mapping
        Per-patient discovery settings (``tau_max``, ``alpha``, PanelPCMCI
        settings), except ``random_state``.
    random_state : int, optional
        The one seed.
    n_jobs, scheduler, progress
        Where the patients run (see :func:`causal.resampling.parallel.parallel_map`).

    Examples
    --------
    >>> IndividualOptions(subgroups=1)
    Traceback (most recent call last):
    ...
    features.errors.InputError: subgroups must be an integer >= 2 or 'auto', got 1
    """

    data: DataOptions = field(default_factory=DataOptions)
    rename: Mapping[str, str] | None = None
    group_threshold: float = 0.75
    subgroups: int | str | None = None
    group_col: str | None = None
    pcmci: Mapping[str, Any] = field(default_factory=dict)
    random_state: int | None = None
    n_jobs: int = 1
    scheduler: str | None = None
    progress: bool | None = None

    def __post_init__(self) -> None:
        if self.subgroups is not None and self.group_col is not None:
            raise InputError("give either subgroups (clustering) or group_col (a known "
                             "grouping), not both")
        if self.subgroups is not None and self.subgroups != "auto" and (
                not is_integer(self.subgroups) or self.subgroups < 2):
            raise InputError(f"subgroups must be an integer >= 2 or 'auto', got "
                             f"{self.subgroups!r}")
        object.__setattr__(self, "pcmci", _check_pcmci(self.pcmci))


@dataclass(frozen=True)
class IndividualResult:
    """What :func:`compute_individual` found; :func:`write_individual` writes it out."""

    options: IndividualOptions
    panel: Panel
    model: IndividualPCMCI
    subgroups: SubgroupResult | None = None

    def __str__(self) -> str:
        lines = [str(self.model)]
        if self.subgroups is not None:
            lines.append(str(self.subgroups))
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


def compute_individual(data: pd.DataFrame | str | Path,
                       options: IndividualOptions | None = None
                       ) -> IndividualResult:
    """Run per-patient discovery and, if asked, find or compare subgroups.

    ``data`` is taken as by :func:`compute_discover`; ``options`` defaults to
    ``IndividualOptions()``. Returns an :class:`IndividualResult`.
    """
    o = options if options is not None else IndividualOptions()
    df, names = _load(data, o.data, o.rename)
    group_col = o.group_col
    if o.rename and group_col is not None:
        group_col = o.rename.get(group_col, group_col)
    groups = None
    if group_col is not None:
        groups = _patient_groups(df, names.id_col, group_col)
        df = df.drop(columns=[group_col])
    panel = build_panel(df, names, data if isinstance(data, (str, Path)) else None)
    model = IndividualPCMCI(PanelPCMCI(**o.pcmci), group_threshold=o.group_threshold,
                            n_jobs=o.n_jobs, scheduler=o.scheduler, progress=o.progress,
                            random_state=o.random_state).fit(panel)
    found = None
    if groups is not None:
        found = compare_groups(model, groups)
    elif o.subgroups is not None:
        found = find_subgroups(model, None if o.subgroups == "auto" else int(o.subgroups),
                               random_state=o.random_state)
    return IndividualResult(options=o, panel=panel, model=model, subgroups=found)


def _plot_group_graph(graph: nx.DiGraph, path_stem: Path, title: str) -> list[Path]:
    """Draw a :func:`~causal.resampling.group.group_graph` (a copy) with median edge values."""
    graph = graph.copy()
    for _, _, attrs in graph.edges(data=True):
        attrs["value"] = attrs["median_value"]  # plot_graph draws ``value``
    return plot_graph(graph, path_stem, title=title)


def write_individual(result: IndividualResult, out_dir: str | Path) -> tuple[Path, ...]:
    """Write every output file of an individual run into ``out_dir`` (created).

    Files: ``edge_shares.csv`` (per link: share of patients with it, its
    class group / individual / absent; :attr:`IndividualPCMCI.summary_
    <causal.resampling.individual.IndividualPCMCI>`), ``patient_links.csv`` (every
    patient's tested links), ``patients.csv``, ``exclusions.csv``,
    ``group_graph.graphml``/``.json``/``.png`` (group edges, drawn with their
    median value), ``edge_shares.png`` (heatmap of the shares) and, with
    ``subgroups`` or ``group_col``, ``subgroups.csv`` (patient -> group),
    ``subgroup_edges.csv`` (per group and link), ``subgroup_<g>.png`` and, for
    a known grouping, ``subgroup_differences.csv``; ``summary.txt``. Returns
    and raises as :func:`write_discover`.
    """
    return _write_staged(lambda stage, out: _write_individual(result, stage, final=out),
                         out_dir)


def _write_individual(result: IndividualResult, out: Path, *,
                      final: Path | None = None) -> tuple[Path, ...]:
    """Write the files of :func:`write_individual` into ``out`` (``final``: where they end up)."""
    model, found, panel = result.model, result.subgroups, result.panel
    tables = {"edge_shares.csv": model.summary_, "patient_links.csv": model.patient_links_,
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
                               f"group edges (significant in >= "
                               f"{result.options.group_threshold:.0%} of {n} "
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
    summary_path = out / "summary.txt"
    summary_path.write_text(f"{result}\noutputs in {final or out}\n", encoding="utf-8")
    files.append(summary_path)
    return tuple(files)


def individual(data: pd.DataFrame | str | Path, out_dir: str | Path,
               options: IndividualOptions | None = None
               ) -> tuple[IndividualResult, tuple[Path, ...]]:
    """:func:`compute_individual` then :func:`write_individual`; return the result and files."""
    return _compute_and_write(compute_individual, write_individual, data, out_dir, options)
