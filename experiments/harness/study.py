"""The study spec, its one result type and its one ``main``.

A study module ``experiments/NAME.py`` declares what is its own - its
settings (a :class:`~experiments.harness.config.Settings` dataclass), how it
computes its tables, how it describes them and which figures it draws - in
one :class:`Study`; the harness gives every study the same command line,
config handling, seeding, parallel map, outputs and ``run.json``::

    STUDY = Study(NAME, __doc__, PoolingConfig, compute=_compute,
                  figures=summary_figure(plot_pooling))
    run_pooling = STUDY.run          # run(config, seed, *, n_jobs, scheduler, progress)
    main = STUDY.main                # main(argv=None) -> exit code

    if __name__ == "__main__":       # python -m experiments.pooling
        STUDY.run_script()

Command line (:func:`study_parser`): ``--config PATH`` (default
``experiments/configs/NAME.toml``), ``--quick`` (apply its ``[quick]``
table), ``--seed INT`` (default: the config's ``seed``), ``--out DIR``
(default ``results/NAME``), ``--n-jobs INT``, ``--scheduler ADDRESS`` (a
Dask scheduler; same results) and ``--quiet`` (no progress bar).

Examples
--------
>>> import pandas as pd
>>> result = StudyResult("demo", None, 7, {"demo": pd.DataFrame({"x": [1]})},
...                      lines=("Demo study, seed 7",))
>>> print(result)
Demo study, seed 7
>>> result.summary.shape
(1, 1)
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import json
import logging
import platform
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pandas as pd

from experiments.harness.cohorts import map_cohorts
from experiments.harness.config import ConfigError, Settings, config_path, load_config
from experiments.harness.outputs import write_outputs
from features.checks import check_int
from features.errors import InputError

__all__ = ["RunOptions", "Study", "StudyResult", "cohort_result", "study_parser",
           "summary_figure"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class RunOptions:
    """How a study runs its cohorts: worker processes, Dask scheduler, progress bar.

    Results never depend on these (cohort seeds come from
    :func:`features.checks.spawn_seeds`).
    """

    n_jobs: int = 1
    scheduler: str | None = None
    progress: bool | None = None

    def map(self, func: Callable[[T], R], tasks: Iterable[T]) -> list[R]:
        """Return ``[func(t) for t in tasks]``, computed in parallel, in task order.

        Examples
        --------
        >>> RunOptions().map(abs, [-2, 3])
        [2, 3]
        """
        tasks = list(tasks)
        start = time.perf_counter()
        out = map_cohorts(func, tasks, self.n_jobs, scheduler=self.scheduler,
                          progress=self.progress)
        logger.info("analysed %d cohorts in %.1f s", len(tasks), time.perf_counter() - start)
        return out


@dataclass(frozen=True, eq=False)
class StudyResult:
    """What a study computed: its settings, seed, tables and (once written) files.

    Attributes
    ----------
    study : str
        Study name.
    config : Settings
        The validated settings.
    seed : int
        Master seed.
    tables : mapping of str to pandas.DataFrame
        File stem to table; each is written as ``STEM.csv``. A simulation
        study's are ``NAME`` (its summary) and ``NAME_cohorts`` (one row per
        cohort test).
    lines : tuple of str
        The study's readable summary (its ``str``).
    notes : tuple of str
        Remarks worth reading (say, an analysis the data could not support).
    models : mapping
        Fitted models the figures need (may be empty).
    paths : tuple of Path
        Files written by :meth:`Study.write` (empty before).
    """

    study: str
    config: Any
    seed: int
    tables: Mapping[str, pd.DataFrame]
    lines: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    models: Mapping[str, Any] = field(default_factory=dict)
    paths: tuple[Path, ...] = ()

    @property
    def summary(self) -> pd.DataFrame:
        """The summary table ``NAME`` of a simulation study."""
        return self.tables[self.study]

    @property
    def cohorts(self) -> pd.DataFrame:
        """The cohort table ``NAME_cohorts`` of a simulation study."""
        return self.tables[f"{self.study}_cohorts"]

    def __str__(self) -> str:
        lines = [*self.lines, *(f"  note: {n}" for n in self.notes)]
        if self.paths:
            lines.append(f"  wrote {len(self.paths)} files to {self.paths[0].parent}")
        return "\n".join(lines)


def cohort_result(name: str, config: Any, seed: int, cohorts: pd.DataFrame,
                  summarize: Callable[[pd.DataFrame], pd.DataFrame],
                  describe: Callable[[Any, int, pd.DataFrame], tuple[str, ...]]) -> StudyResult:
    """Return the result of a simulation study from its cohort table.

    Parameters
    ----------
    name : str
        Study name: the tables are ``NAME`` (the summary) and ``NAME_cohorts``.
    config, seed
        The study's settings and master seed.
    cohorts : pandas.DataFrame
        One row per cohort test (or per cohort).
    summarize : callable
        ``summarize(cohorts) -> summary table``.
    describe : callable
        ``describe(config, seed, summary) -> lines`` (the result's ``str``).
    """
    summary = summarize(cohorts)
    return StudyResult(name, config, seed, {name: summary, f"{name}_cohorts": cohorts},
                       lines=describe(config, seed, summary))


def summary_figure(plot: Callable[..., Path]) -> Callable[[StudyResult, Path], list[Path]]:
    """Return the ``figures`` of a study whose one figure ``NAME.png`` plots its summary table.

    The figure is ``plot(result.summary, out / "NAME.png", **settings)``,
    where ``settings`` are the study's settings named by the keyword-only
    parameters of ``plot`` (say, ``alpha`` for the dashed nominal level).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> def plot(summary, path, *, alpha=0.05):
    ...     return path.with_name(f"{path.stem}-{alpha}.png")
    >>> result = StudyResult("demo", SimpleNamespace(alpha=0.1), 1, {"demo": pd.DataFrame()})
    >>> [path.as_posix() for path in summary_figure(plot)(result, Path("out"))]
    ['out/demo-0.1.png']
    """
    keys = [name for name, parameter in inspect.signature(plot).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY]

    def figures(result: StudyResult, out: Path) -> list[Path]:
        settings = {key: getattr(result.config, key) for key in keys}
        return [plot(result.summary, out / f"{result.study}.png", **settings)]

    return figures


def study_parser(name: str, description: str | None = None) -> argparse.ArgumentParser:
    """Return the command-line parser every study uses (see the module docstring)."""
    parser = argparse.ArgumentParser(prog=f"python -m experiments.{name}",
                                     description=description)
    parser.add_argument("--config", type=Path, default=config_path(name),
                        help=f"TOML config (default: {config_path(name)})")
    parser.add_argument("--quick", action="store_true",
                        help="small run for CI: apply the config's [quick] table")
    parser.add_argument("--seed", type=int, default=None,
                        help="master seed (default: the config's seed)")
    parser.add_argument("--out", type=Path, default=Path("results") / name,
                        help=f"output folder (default: results/{name})")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="parallel worker processes (default 1; -1 = all cores)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run the cohorts on this Dask scheduler (same results)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("therapy-pcmci", "numpy", "pandas", "scipy", "tigramite"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    lg = logging.getLogger("experiments")
    lg.handlers = [handler]
    lg.setLevel(logging.INFO)
    lg.propagate = False


@dataclass(frozen=True)
class Study:
    """One study: what is its own, and the shared ``run``, ``write`` and ``main``.

    Parameters
    ----------
    name : str
        ``experiments/NAME.py``, ``configs/NAME.toml``, ``results/NAME``.
    doc : str
        The module docstring; its first line is the ``--help`` text.
    settings : type
        A :class:`~experiments.harness.config.Settings` subclass.
    compute : callable
        ``compute(settings, seed, options) -> StudyResult`` (nothing written).
    figures : callable, optional
        ``figures(result, out_dir) -> list of Path`` written after the tables.
    complete : bool
        The config file must set every key (not only ``seed``).
    """

    name: str
    doc: str
    settings: type[Settings]
    compute: Callable[[Any, int, RunOptions], StudyResult]
    figures: Callable[[StudyResult, Path], list[Path]] | None = None
    complete: bool = False

    @property
    def description(self) -> str:
        """The first line of the study's docstring."""
        return self.doc.strip().splitlines()[0]

    def run(self, config: Settings | Mapping[str, Any], seed: int, *, n_jobs: int = 1,
            scheduler: str | None = None, progress: bool | None = None) -> StudyResult:
        """Run the study and return its result (nothing is written).

        Parameters
        ----------
        config : Settings or mapping
            The study's settings, or a loaded config (validated by
            :meth:`~experiments.harness.config.Settings.from_mapping`).
        seed : int
            Master seed.
        n_jobs, scheduler, progress
            :class:`RunOptions`; results do not depend on them.
        """
        if not isinstance(config, self.settings):
            config = self.settings.from_mapping(config, self.name)
        result = self.compute(config, seed, RunOptions(n_jobs, scheduler, progress))
        logger.info("%s", result)
        return result

    def write(self, result: StudyResult, out_dir: str | Path) -> StudyResult:
        """Write the tables (``STEM.csv``) and figures; return the result with its paths."""
        out = Path(out_dir)
        paths = write_outputs(out, result.tables)
        if self.figures is not None:
            paths += self.figures(result, out)
        return dataclasses.replace(result, paths=tuple(paths))

    def run_script(self) -> NoReturn:
        """Run ``python -m experiments.NAME``: exit with the code of its :meth:`main`.

        A study's ``if __name__ == "__main__"`` block. It calls the ``main``
        of the importable module ``experiments.NAME`` (not of ``__main__``),
        so that logger names and the functions sent to worker processes are
        ``experiments.NAME``.
        """
        module = importlib.import_module(f"experiments.{self.name}")
        raise SystemExit(module.main())

    def main(self, argv: Sequence[str] | None = None) -> int:
        """Command line: ``python -m experiments.NAME [--quick] [--n-jobs N] ...``.

        Writes the tables, the figures and ``run.json`` (command, seed, config
        and package versions). Bad input prints one ``error:`` line on stderr
        and returns 2. ``python -m experiments.NAME`` runs it through
        :meth:`run_script`.

        Returns
        -------
        int
            Exit code: 0 on success, 2 on a config or input error.
        """
        args = study_parser(self.name, self.description).parse_args(argv)
        _configure_logging()
        keys = self.settings.keys()
        try:
            config = load_config(self.name, args.config, quick=args.quick, allowed=keys,
                                 required=keys if self.complete else ())
            seed = args.seed if args.seed is not None else config.get("seed")
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise ConfigError(f"{args.config}: need a non-negative integer 'seed' in the "
                                  f"config or --seed, got {seed!r}")
            if args.n_jobs != -1:
                check_int("--n-jobs", args.n_jobs, minimum=1)
            logger.info("study %s (%s, seed %d, n_jobs %d) -> %s", self.name,
                        "quick" if args.quick else "full", seed, args.n_jobs, args.out)
            result = self.run(config, seed, n_jobs=args.n_jobs, scheduler=args.scheduler,
                              progress=False if args.quiet else None)
            result = self.write(result, args.out)
        except InputError as exc:
            sys.stderr.write("error: " + " ".join(str(exc).split()) + "\n")
            return 2
        argv_list = list(sys.argv[1:] if argv is None else argv)
        meta = {"experiment": self.name, "command": f"python -m experiments.{self.name} "
                + " ".join(shlex.quote(a) for a in argv_list), "quick": args.quick,
                "seed": seed, "n_jobs": args.n_jobs, "config_file": str(args.config),
                "config": config, "versions": _versions()}
        args.out.mkdir(parents=True, exist_ok=True)
        meta_path = args.out / "run.json"
        meta_path.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
        logger.info("done: %d files in %s (%s)", len(result.paths) + 1, args.out,
                    ", ".join(p.name for p in [*result.paths, meta_path]))
        return 0
