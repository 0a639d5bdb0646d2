"""Shared harness for the simulation and real-data experiments.

Every experiment is one module ``experiments/NAME.py`` with a TOML config
``experiments/configs/NAME.toml`` and runs as ``python -m experiments.NAME``.
This module gives them the same command line, config handling, seeding,
parallel map and output writing:

* :func:`experiment_parser` - ``--config``, ``--quick``, ``--seed``, ``--out``,
  ``--n-jobs``;
* :func:`load_config` - the TOML's top-level keys are the full run; its
  ``[quick]`` table overrides some of them for ``--quick`` (seconds, for CI);
* :func:`check_int`, :func:`check_ints`, :func:`check_prob`,
  :func:`check_names` - validate one setting, raising :class:`ConfigError`
  that names it; :func:`settings_from_mapping` - build a settings dataclass
  from a loaded config;
* :func:`cohort_seeds` - independent child seeds from
  :class:`numpy.random.SeedSequence`, so a cohort's result depends only on the
  master seed and its index, never on ``--n-jobs`` or execution order;
* :func:`map_cohorts` - parallel map in task order (:func:`causal.resampling.parallel.parallel_map`);
  :func:`true_values` - the simulated coefficient of each link; all three from
  :mod:`experiments._cohorts`;
* :func:`write_outputs` / :func:`read_output` (CSV tables),
  :func:`summarize_rate` (rate with a Wilson 95% interval), :func:`rate_row`
  and :func:`save_figure`, from :mod:`experiments._outputs`;
* :func:`run_experiment` - the ``main`` of an experiment module;
  :func:`run_study` - the usual body of its ``run``.

Examples
--------
>>> seeds = cohort_seeds(7, 3)
>>> seeds == cohort_seeds(7, 5)[:3], len(set(seeds))
(True, 3)
>>> print(summarize_rate(3, 60))
0.050 (3/60), 95% CI [0.017, 0.137]
>>> map_cohorts(abs, [-2, 3, -1], n_jobs=1)
[2, 3, 1]
>>> check_int("n_weeks", 13, 4), check_prob("alpha", 0.05, zero_ok=False, one_ok=False)
(13, 0.05)
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shlex
import sys
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from causal.rates import Rate, summarize_rate
from experiments._cohorts import cohort_seeds, map_cohorts, true_values
from experiments._outputs import (
    rate_row,
    read_output,
    save_figure,
    write_outputs,
)
from features.errors import InputError

__all__ = [
    "CONFIG_DIR",
    "ConfigError",
    "Rate",
    "RunContext",
    "check_int",
    "check_ints",
    "check_names",
    "check_prob",
    "cohort_seeds",
    "config_path",
    "experiment_parser",
    "load_config",
    "map_cohorts",
    "rate_row",
    "read_output",
    "run_experiment",
    "run_study",
    "save_figure",
    "settings_from_mapping",
    "summarize_rate",
    "true_values",
    "write_outputs",
]

logger = logging.getLogger(__name__)

#: Folder of the experiment configs (shipped as package data).
CONFIG_DIR: Path = Path(__file__).resolve().parent / "configs"

S = TypeVar("S")


class ConfigError(InputError):
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



# --------------------------------------------------------------- settings
def _bounds(minimum: int, maximum: int | None) -> str:
    return f">= {minimum}" + ("" if maximum is None else f" and <= {maximum}")


def check_int(key: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """Return the setting ``key`` if it is an integer in ``[minimum, maximum]``.

    Parameters
    ----------
    key : str
        Setting name, for the error message.
    value : object
        Its value; a bool or float is not an integer.
    minimum, maximum : int, int or None
        Bounds (``maximum=None``: no upper bound).

    Raises
    ------
    ConfigError
        Naming ``key`` and ``value``.

    Examples
    --------
    >>> check_int("n_cohorts", 200, 1)
    200
    >>> check_int("n_weeks", 2.5, 4)
    Traceback (most recent call last):
    ...
    experiments.common.ConfigError: n_weeks must be an integer >= 4, got 2.5
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        raise ConfigError(f"{key} must be an integer {_bounds(minimum, maximum)}, got {value!r}")
    return int(value)


def check_ints(key: str, value: Any, minimum: int,
               maximum: int | None = None) -> tuple[int, ...]:
    """Return the setting ``key``, a non-empty list of distinct integers in bounds, as a tuple.

    Examples
    --------
    >>> check_ints("weeks", [8, 13], 4, 999)
    (8, 13)
    >>> check_ints("weeks", [13, 13], 4)
    Traceback (most recent call last):
    ...
    experiments.common.ConfigError: weeks must be a ... list of distinct integers >= 4, got [13, 13]
    """
    ok = isinstance(value, list | tuple) and len(value) > 0 and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= minimum
        and (maximum is None or v <= maximum) for v in value)
    if not ok or len(set(value)) != len(value):
        raise ConfigError(f"{key} must be a non-empty list of distinct integers "
                          f"{_bounds(minimum, maximum)}, got {value!r}")
    return tuple(int(v) for v in value)


def check_prob(key: str, value: Any, *, zero_ok: bool, one_ok: bool) -> float:
    """Return the setting ``key`` as a float in the unit interval.

    Parameters
    ----------
    key : str
        Setting name, for the error message.
    value : object
        A number (not a bool).
    zero_ok, one_ok : bool
        Whether 0 and 1 are allowed.

    Examples
    --------
    >>> check_prob("dropout", 1, zero_ok=True, one_ok=True)
    1.0
    >>> check_prob("missing", 1.0, zero_ok=True, one_ok=False)
    Traceback (most recent call last):
    ...
    experiments.common.ConfigError: missing must be a number in [0, 1), got 1.0
    """
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok:
        ok = (value >= 0 if zero_ok else value > 0) and (value <= 1 if one_ok else value < 1)
    if not ok:
        raise ConfigError(f"{key} must be a number in {'[' if zero_ok else '('}0, 1"
                          f"{']' if one_ok else ')'}, got {value!r}")
    return float(value)


def check_names(key: str, value: Any, valid: Sequence[str]) -> tuple[str, ...]:
    """Return the setting ``key``, a non-empty list of distinct names from ``valid``, as a tuple.

    Examples
    --------
    >>> check_names("arms", ["center", "detrend"], ("none", "center", "detrend"))
    ('center', 'detrend')
    >>> check_names("arms", "center", ("none", "center"))
    Traceback (most recent call last):
    ...
    experiments.common.ConfigError: arms must be a ... names from ['none', 'center'], got 'center'
    """
    if isinstance(value, str) or not isinstance(value, list | tuple) or not value or any(
            v not in valid for v in value) or len(set(value)) != len(value):
        raise ConfigError(f"{key} must be a non-empty list of distinct names from "
                          f"{list(valid)}, got {value!r}")
    return tuple(value)


def settings_from_mapping(cls: Callable[..., S], config: Mapping[str, Any],
                          keys: Collection[str], study: str) -> S:
    """Build the settings ``cls(**config)`` of ``study``; ``seed`` is dropped, others are checked.

    Parameters
    ----------
    cls : callable
        The settings dataclass; keys missing from ``config`` take its defaults.
    config : mapping
        A loaded config (:func:`load_config`).
    keys : collection of str
        The keys the study understands (``seed`` among them).
    study : str
        Study name, for the error message.

    Raises
    ------
    ConfigError
        On a key outside ``keys``.
    """
    unknown = sorted(set(config) - set(keys))
    if unknown:
        raise ConfigError(f"unknown {study} setting(s) {unknown}; allowed: {list(keys)}")
    return cls(**{k: v for k, v in config.items() if k != "seed"})


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


def run_study(context: RunContext, study: Callable[..., Any]) -> tuple[Any, list[Path]]:
    """Run a simulation study for an experiment's ``run`` and write its two tables.

    Parameters
    ----------
    context : RunContext
        From :func:`run_experiment`.
    study : callable
        ``study(config, seed, *, n_jobs, scheduler, progress)`` returning a
        result with ``summary`` and ``cohorts`` tables (e.g.
        :func:`experiments.pooling.run_pooling`).

    Returns
    -------
    result, list of Path
        The study's result, and ``NAME.csv`` (its summary) and
        ``NAME_cohorts.csv`` (its cohort table) in ``context.out_dir``.
    """
    result = study(context.config, context.seed, n_jobs=context.n_jobs,
                   scheduler=context.scheduler, progress=context.progress)
    paths = write_outputs(context.out_dir, {context.name: result.summary,
                                            f"{context.name}_cohorts": result.cohorts})
    return result, paths
