"""The ``therapy-pcmci`` command: parser assembly, logging, and the one error writer.

Sub-commands (names, options and output files are a stable contract), one
module each:

* ``simulate`` (:mod:`causal.cli.simulate`) - write a synthetic cohort CSV;
* ``discover DATA`` (:mod:`causal.cli.discover`) - run the pipeline on a
  long-format file (``--bootstrap B`` adds a patient cluster bootstrap);
* ``individual DATA`` (:mod:`causal.cli.individual`) - per-patient discovery,
  group/individual edges, subgroups;
* ``demo`` (:mod:`causal.cli.discover`) - simulate the paper-calibrated cohort
  and discover with ``melsom2023``;
* ``power`` (:mod:`causal.cli.power`) - simulation-based power planning.

Long runs show progress bars on standard error when it is a terminal;
``--quiet`` turns them off.

Exit codes, each with one line on standard error and never a traceback:

* 2 - bad input (:class:`features.errors.InputError` or a usage error):
  ``error: ...``; the library names parameters (``time_step``), the message
  names the flags (``--time-step``, :func:`flag_names`);
* 1 - an internal error (any other exception): ``internal error: <Type>:
  <message> (traceback in <path>)``, the full traceback written to a log file
  under :func:`tempfile.gettempdir`;
* 130 - interrupted (Ctrl-C): ``interrupted``.

Building the parser imports neither pandas, tigramite, matplotlib nor dask, so
``--help`` and usage errors are fast; each command imports what it needs when
it runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from causal.cli.discover import add_demo_parser
from causal.cli.discover import add_parser as add_discover_parser
from causal.cli.individual import add_parser as add_individual_parser
from causal.cli.power import add_parser as add_power_parser
from causal.cli.simulate import add_parser as add_simulate_parser

__all__ = ["UsageError", "build_parser", "configure_logging", "flag_names", "main"]

#: Exit codes.
EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad command-line usage (reported as ``error: ...``, exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit code 2
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``therapy-pcmci``."""
    parser = _Parser(prog="therapy-pcmci",
                     description="Temporal causal discovery on psychotherapy process data.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="only errors; no progress bars")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add_simulate_parser(sub)
    add_discover_parser(sub)
    add_individual_parser(sub)
    add_demo_parser(sub)
    add_power_parser(sub)
    return parser


def configure_logging(verbose: int, quiet: bool) -> None:
    """Send log records to standard error, message only: the one logging set-up.

    The command's own messages (logger ``therapy_pcmci``) show at INFO unless
    ``quiet``; library loggers show warnings, or everything with ``-v``.
    """
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("therapy_pcmci", "causal", "features", "experiments"):
        lg = logging.getLogger(name)
        lg.handlers = [handler]
        lg.setLevel(level if name == "therapy_pcmci" or verbose else max(level, logging.WARNING))
        lg.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 internal error, 2 bad input, 130).

    Every failure ends here and is reported on one line of standard error (see
    the module docstring); nothing else in the package catches exceptions
    wholesale.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            args = build_parser().parse_args(argv)
        except UsageError as exc:
            return _fail(str(exc))
        args.command_line = "therapy-pcmci " + " ".join(shlex.quote(a) for a in argv)
        configure_logging(args.verbose, args.quiet)
        func: Callable[[argparse.Namespace], int] = args.func
        # SIGTERM raises SystemExit(143) inside the block, and no joblib/loky or Dask
        # worker outlives the command, however it ends.
        from causal.resampling.parallel import workers_stopped_on_exit

        with workers_stopped_on_exit():
            return func(args)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except MemoryError as exc:
        what = f" ({exc})" if str(exc) else ""
        return _fail(f"out of memory{what} while running {' '.join(argv[:1]) or 'the command'}: "
                     "the data or the requested analysis (tau_max, variables, bootstrap "
                     "replicates, patients' time spans) is too large for this machine")
    except Exception as exc:  # the one place that reports every failure
        from features.errors import InputError

        if isinstance(exc, InputError):
            return _fail(flag_names(str(exc)))
        return _internal_error(exc)


#: Library parameter names (as the library writes them in messages) -> command-line flags.
_FLAGS = (
    (re.compile(r"\bduplicates='keep-first'"), "--duplicates keep-first"),
    (re.compile(r"\btime_step\b"), "--time-step"),
    (re.compile(r"\bmax_gap\b"), "--max-gap"),
    (re.compile(r"\bday_col\b"), "--day"),
    (re.compile(r"\bbeep_col\b"), "--beep"),
    (re.compile(r"\btime_col\b"), "--time"),
)


def flag_names(message: str) -> str:
    """Name the command-line flags where a library message names the parameters.

    >>> flag_names("cannot infer the time step; pass time_step")
    'cannot infer the time step; pass --time-step'
    >>> flag_names("or use duplicates='keep-first' to keep the first row")
    'or use --duplicates keep-first to keep the first row'
    """
    for pattern, flag in _FLAGS:
        message = pattern.sub(flag, message)
    return message


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {_one_line(message)}\n")
    return EXIT_INPUT


def _internal_error(exc: BaseException) -> int:
    """Write the traceback to a log file and one ``internal error:`` line; return 1."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(tempfile.gettempdir()) / f"therapy-pcmci-{stamp}-{os.getpid()}.log"
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        path.write_text(text, encoding="utf-8")
        where = f"traceback in {path}"
    except OSError as write_exc:
        where = f"traceback not saved: {write_exc.strerror or type(write_exc).__name__}"
    sys.stderr.write(f"internal error: {type(exc).__name__}: {_one_line(str(exc))} "
                     f"({where})\n")
    return EXIT_INTERNAL
