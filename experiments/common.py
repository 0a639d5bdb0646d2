"""Shared harness for the simulation and real-data experiments.

Every experiment is one module ``experiments/NAME.py`` with a TOML config
``experiments/configs/NAME.toml`` and runs as ``python -m experiments.NAME``.
This module gives them the same command line, config handling, seeding,
parallel map and output writing:

* :func:`experiment_parser` - ``--config``, ``--quick``, ``--seed``, ``--out``,
  ``--n-jobs``;
* :func:`load_config` - the TOML's top-level keys are the full run; its
  ``[quick]`` table overrides some of them for ``--quick`` (seconds, for CI);
* :func:`cohort_seeds` - independent child seeds from
  :class:`numpy.random.SeedSequence`, so a cohort's result depends only on the
  master seed and its index, never on ``--n-jobs`` or execution order;
* :func:`map_cohorts` - parallel map in task order (:func:`causal.parallel.parallel_map`);
* :func:`write_outputs` / :func:`read_output` (CSV tables) and
  :func:`summarize_rate` (rate with a Wilson 95% interval);
* :func:`run_experiment` - the ``main`` of an experiment module.

Examples
--------
>>> seeds = cohort_seeds(7, 3)
>>> seeds == cohort_seeds(7, 5)[:3], len(set(seeds))
(True, 3)
>>> print(summarize_rate(3, 60))
0.050 (3/60), 95% CI [0.017, 0.137]
>>> map_cohorts(abs, [-2, 3, -1], n_jobs=1)
[2, 3, 1]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shlex
import sys
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from causal.parallel import check_n_jobs, parallel_map

__all__ = [
    "CONFIG_DIR",
    "ConfigError",
    "Rate",
    "RunContext",
    "cohort_seeds",
    "config_path",
    "experiment_parser",
    "load_config",
    "map_cohorts",
    "read_output",
    "run_experiment",
    "summarize_rate",
    "write_outputs",
]

logger = logging.getLogger(__name__)

#: Folder of the experiment configs (shipped as package data).
CONFIG_DIR: Path = Path(__file__).resolve().parent / "configs"

T = TypeVar("T")
R = TypeVar("R")


class ConfigError(ValueError):
    """An experiment config file or setting that cannot be used."""


# ------------------------------------------------------------------- config
def config_path(name: str) -> Path:
    """Return the default config path ``experiments/configs/NAME.toml``."""
    return CONFIG_DIR / f"{name}.toml"


def experiment_parser(name: str, description: str | None = None) -> argparse.ArgumentParser:
    """Return the command-line parser shared by all experiments.

    Parameters
    ----------
    name : str
        Experiment name; sets the default config and output folder.
    description : str, optional
        Shown by ``--help``.

    Returns
    -------
    argparse.ArgumentParser
        Options ``--config PATH`` (default ``experiments/configs/NAME.toml``),
        ``--quick``, ``--seed INT`` (default: the config's ``seed``),
        ``--out DIR`` (default ``results/NAME``), ``--n-jobs INT``
        (default 1; -1 uses every core), ``--scheduler ADDRESS`` (a Dask
        scheduler) and ``--quiet`` (no progress bar).
    """
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


def load_config(name: str, path: str | Path | None = None, *, quick: bool = False,
                allowed: Collection[str] | None = None,
                required: Collection[str] = ()) -> dict[str, Any]:
    r"""Read an experiment config.

    Parameters
    ----------
    name : str
        Experiment name (default path ``experiments/configs/NAME.toml``).
    path : str or Path, optional
        Config file to read instead of the default.
    quick : bool
        Apply the ``[quick]`` table's overrides.
    allowed : collection of str, optional
        Keys the experiment understands; any other top-level or ``[quick]``
        key raises. None accepts every key.
    required : collection of str
        Keys that must be present after the overrides.

    Returns
    -------
    dict
        The settings, without the ``quick`` table.

    Raises
    ------
    ConfigError
        Missing file, invalid TOML, unknown or missing keys, ``--quick``
        without a ``[quick]`` table.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "demo.toml"
    >>> _ = path.write_text("n_cohorts = 200\nseed = 1\n[quick]\nn_cohorts = 5\n")
    >>> load_config("demo", path, quick=True)
    {'n_cohorts': 5, 'seed': 1}
    >>> load_config("demo", path, allowed={"seed"})
    Traceback (most recent call last):
    ...
    experiments.common.ConfigError: ...: unknown key(s) ['n_cohorts']; allowed: ['seed']
    """
    path = Path(path) if path is not None else config_path(name)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    overrides = data.pop("quick", {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"{path}: 'quick' must be a table ([quick]), got {overrides!r}")
    if allowed is not None:
        for where, keys in ((str(path), data), (f"{path} [quick]", overrides)):
            unknown = sorted(set(keys) - set(allowed))
            if unknown:
                raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    if quick:
        if not overrides:
            raise ConfigError(f"{path}: --quick needs a [quick] table of overrides")
        data.update(overrides)
    missing = sorted(set(required) - set(data))
    if missing:
        raise ConfigError(f"{path}: missing required key(s) {missing}")
    logger.debug("config %s (quick=%s): %s", path, quick, data)
    return data


# ------------------------------------------------------------------- seeds
def cohort_seeds(seed: int, n: int, *, stream: int = 0) -> list[int]:
    """Return ``n`` independent 64-bit seeds derived from ``seed``.

    The seeds come from :meth:`numpy.random.SeedSequence.spawn` of the
    sequence ``SeedSequence(seed, spawn_key=(stream,))``, so

    * seed ``i`` depends only on ``(seed, stream, i)``: a larger ``n`` extends
      the list without changing its head, and results never depend on the
      number of workers or the order tasks run in;
    * different ``stream`` values (one per scenario, say) give independent
      families of seeds.

    Parameters
    ----------
    seed : int
        Master seed (>= 0).
    n : int
        Number of seeds (>= 0).
    stream : int
        Index of an independent family of seeds (>= 0).

    Returns
    -------
    list of int
        Seeds for :func:`numpy.random.default_rng`.
    """
    for what, value in (("seed", seed), ("n", n), ("stream", stream)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    parent = np.random.SeedSequence(int(seed), spawn_key=(int(stream),))
    return [int(child.generate_state(1, dtype=np.uint64)[0]) for child in parent.spawn(int(n))]


# --------------------------------------------------------------- parallel
def map_cohorts(func: Callable[[T], R], tasks: Iterable[T], n_jobs: int = 1, *,
                scheduler: str | None = None, progress: bool | None = None) -> list[R]:
    """Apply ``func`` to every task, in parallel worker processes, keeping task order.

    Delegates to :func:`causal.parallel.parallel_map`.

    Parameters
    ----------
    func : callable
        Called as ``func(task)``; must be picklable (a module-level function)
        and should draw all its randomness from seeds inside ``task``.
    tasks : iterable
        Arguments, one per call.
    n_jobs : int
        Worker processes (joblib's loky backend); 1 runs in this process, -1
        uses every core.
    scheduler : str, optional
        Address of a Dask scheduler to run the tasks on instead.
    progress : bool or None
        Progress bar on standard error; None: only when it is a terminal.

    Returns
    -------
    list
        ``[func(t) for t in tasks]``, in task order whatever ``n_jobs`` is.
    """
    return parallel_map(func, tasks, n_jobs=check_n_jobs(n_jobs), scheduler=scheduler,
                        progress=progress, desc="cohorts")


# ----------------------------------------------------------------- results
@dataclass(frozen=True)
class Rate:
    """A proportion ``k / n`` with a Wilson score interval.

    Attributes
    ----------
    k, n : int
        Events and trials.
    rate : float
        ``k / n``.
    ci_low, ci_high : float
        Wilson score interval (Wilson 1927) at level ``confidence``.
    confidence : float
        Level of the interval.
    """

    k: int
    n: int
    rate: float
    ci_low: float
    ci_high: float
    confidence: float = 0.95

    def as_dict(self) -> dict[str, float | int]:
        """Return ``k, n, rate, ci_low, ci_high`` (for a results table row)."""
        return {"k": self.k, "n": self.n, "rate": self.rate, "ci_low": self.ci_low,
                "ci_high": self.ci_high}

    def __str__(self) -> str:
        return (f"{self.rate:.3f} ({self.k}/{self.n}), {100 * self.confidence:g}% CI "
                f"[{self.ci_low:.3f}, {self.ci_high:.3f}]")


def summarize_rate(k: int, n: int, confidence: float = 0.95) -> Rate:
    """Return the rate ``k / n`` with its Wilson score interval.

    Parameters
    ----------
    k : int
        Number of events, ``0 <= k <= n``.
    n : int
        Number of trials, >= 1.
    confidence : float
        Interval level in (0, 1).

    Returns
    -------
    Rate
        Computed with :func:`scipy.stats.binomtest` ``.proportion_ci(method="wilson")``.
    """
    for what, value in (("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{what} must be an integer, got {value!r}")
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need n >= 1 and 0 <= k <= n, got k={k}, n={n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return Rate(k=int(k), n=int(n), rate=int(k) / int(n), ci_low=float(ci.low),
                ci_high=float(ci.high), confidence=float(confidence))


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
            raise ValueError(f"table name must be a plain file name, got {name!r}")
        if not isinstance(table, pd.DataFrame):
            raise ValueError(f"table {name!r} must be a pandas DataFrame, got "
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


# -------------------------------------------------------------------- main
@dataclass(frozen=True)
class RunContext:
    """What :func:`run_experiment` hands to an experiment's ``run`` function."""

    name: str
    config: dict[str, Any]
    seed: int
    out_dir: Path
    n_jobs: int = 1
    quick: bool = False
    scheduler: str | None = None
    progress: bool | None = None

    def __str__(self) -> str:
        return (f"experiment {self.name} ({'quick' if self.quick else 'full'}, seed {self.seed}, "
                f"n_jobs {self.n_jobs}) -> {self.out_dir}")


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


def run_experiment(name: str, description: str | None,
                   run: Callable[[RunContext], Sequence[Path]],
                   argv: Sequence[str] | None = None, *, allowed: Collection[str] | None = None,
                   required: Collection[str] = ()) -> int:
    """Parse the command line, load the config and call ``run``; the ``main`` of an experiment.

    Writes ``run.json`` (command, seed, config and package versions) next to
    the outputs. Config or input errors print one ``error:`` line on stderr
    and return 2, like the ``therapy-pcmci`` command.

    Parameters
    ----------
    name, description : str
        Experiment name and ``--help`` text.
    run : callable
        ``run(context) -> paths written``.
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).
    allowed, required : collections of str
        Passed to :func:`load_config`; ``seed`` is always allowed.

    Returns
    -------
    int
        Exit code: 0 on success, 2 on a config or input error.
    """
    args = experiment_parser(name, description).parse_args(argv)
    _configure_logging()
    try:
        config = load_config(name, args.config, quick=args.quick,
                             allowed=None if allowed is None else {*allowed, "seed"},
                             required=required)
        seed = args.seed if args.seed is not None else config.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"{args.config}: need a non-negative integer 'seed' in the config "
                              f"or --seed, got {seed!r}")
        context = RunContext(name=name, config=config, seed=seed, out_dir=args.out,
                             n_jobs=args.n_jobs, quick=args.quick, scheduler=args.scheduler,
                             progress=False if args.quiet else None)
        logger.info("%s", context)
        paths = list(run(context))
    except ValueError as exc:
        sys.stderr.write("error: " + " ".join(str(exc).split()) + "\n")
        return 2
    argv_list = list(sys.argv[1:] if argv is None else argv)
    meta = {"experiment": name, "command": f"python -m experiments.{name} "
            + " ".join(shlex.quote(a) for a in argv_list), "quick": args.quick, "seed": seed,
            "n_jobs": args.n_jobs, "config_file": str(args.config), "config": config,
            "versions": _versions()}
    args.out.mkdir(parents=True, exist_ok=True)
    meta_path = args.out / "run.json"
    meta_path.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    logger.info("done: %d files in %s (%s)", len(paths) + 1, args.out,
                ", ".join(p.name for p in [*paths, meta_path]))
    return 0
