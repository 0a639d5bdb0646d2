"""Argument types and option groups shared by the ``therapy-pcmci`` commands.

Everything here is light: building the parser imports neither pandas,
tigramite, matplotlib nor dask, so ``--help`` and usage errors are fast.
The ``choices=`` come from :mod:`causal.discovery.choices` and
:mod:`features.choices`, the same tuples the library validates against.

Data-reading options are added by one function, :func:`add_data_options`,
shared by ``discover`` and ``individual``, and read back by one,
:func:`data_options` (a :class:`causal.cli.pipeline.DataOptions`); a new
reading option goes in those two and in ``DataOptions``.

Examples
--------
>>> csv_list("depression, fear_others")
['depression', 'fear_others']
>>> link("fear_others:depression:1")
('fear_others', 'depression', 1)
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from causal.discovery.choices import CI_TESTS, METHODS
from features.choices import DUPLICATES, PREPS, VALUE_LABELS

if TYPE_CHECKING:  # pragma: no cover
    from causal.cli.pipeline import DataOptions

__all__ = [
    "add_data_options",
    "add_out_and_seed",
    "add_parallel_options",
    "add_prep_option",
    "add_test_options",
    "check_seed_option",
    "count",
    "csv_list",
    "data_options",
    "link",
    "n_groups",
    "n_jobs",
    "out_file",
    "out_folder",
    "probability",
    "progress",
    "rename_pairs",
    "share",
    "time_step",
]


def csv_list(text: str) -> list[str]:
    """Return the non-empty items of a comma-separated list."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def rename_pairs(text: str) -> dict[str, str]:
    """Parse ``old=new,...`` into a mapping."""
    out = {}
    for item in csv_list(text):
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise argparse.ArgumentTypeError(f"--rename expects old=new pairs, got {item!r}")
        out[old.strip()] = new.strip()
    return out


def link(text: str) -> tuple[str, str, int]:
    """Parse ``SOURCE:TARGET:LAG``."""
    parts = [p.strip() for p in text.split(":")]
    try:
        src, tgt, lag = parts
        return src, tgt, int(lag)
    except ValueError:
        raise argparse.ArgumentTypeError(f"links are SOURCE:TARGET:LAG, got {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def probability(text: str) -> float:
    """Parse a number in the open interval (0, 1)."""
    x = _number(text)
    if not 0 < x < 1:
        raise argparse.ArgumentTypeError(f"expected a value in (0, 1), got {text}")
    return x


def share(text: str) -> float:
    """Parse a number in (0, 1]."""
    x = _number(text)
    if not 0 < x <= 1:
        raise argparse.ArgumentTypeError(f"expected a value in (0, 1], got {text}")
    return x


def _integer(text: str, what: str, ok: Callable[[int], bool]) -> int:
    """Parse an integer for which ``ok`` holds, else explain ``what`` was expected."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
    return value


def count(text: str) -> int:
    """Parse an integer >= 0."""
    return _integer(text, "an integer >= 0", lambda x: x >= 0)


def check_seed_option(text: str) -> int:
    """``--seed``: an integer >= 0 (checked before any work)."""
    return _integer(text, "an integer >= 0", lambda x: x >= 0)


def n_jobs(text: str) -> int:
    """``--n-jobs``: a positive integer or -1 (all cores)."""
    return _integer(text, "a positive integer or -1", lambda x: x >= 1 or x == -1)


def out_folder(text: str) -> str:
    """``--out`` of a command writing a folder: not empty, not an existing file."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got an empty name")
    from pathlib import Path

    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is an existing file, not a folder")
    return text


def out_file(text: str) -> str:
    """``--out`` of a command writing one file: not empty, not an existing folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file name, got an empty name")
    from pathlib import Path

    if Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is an existing folder, not a file")
    return text


def time_step(text: str) -> str:
    """``--time-step``: a pandas offset such as ``7D``, ``1D`` or ``2h``."""
    import pandas as pd

    try:
        pd.tseries.frequencies.to_offset(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a time step such as 7D, 1D or 2h, got {text!r}") from None
    return text


def n_groups(text: str) -> int | str:
    """Parse an integer >= 2, or ``auto``."""
    if text == "auto":
        return text
    return _integer(text, "an integer >= 2 or 'auto'", lambda x: x >= 2)


def add_data_options(p: argparse.ArgumentParser) -> None:
    """Add the data file and how to read it (shared by ``discover`` and ``individual``)."""
    p.add_argument("data", help="long-format file: CSV/TXT, Parquet, SPSS .sav, Stata .dta or "
                                "Excel .xlsx")
    p.add_argument("--id", default="patient", help="patient id column (default patient)")
    p.add_argument("--time", help="time column, integer or date (default week; not with "
                   "--day/--beep)")
    p.add_argument("--time-step", type=time_step,
                   help="step for date times, e.g. 7D (default: inferred)")
    p.add_argument("--day", metavar="COL", help="day column of an EMA/ESM design (with --beep): "
                   "no lag crosses a night")
    p.add_argument("--beep", metavar="COL", help="beep-of-day column (1, 2, ... within the "
                   "day; with --day): a missing beep is a gap")
    p.add_argument("--max-gap", metavar="DURATION",
                   help="irregular schedules: --time holds date-times; lag by order within the "
                        "day, consecutive observations at most DURATION apart (e.g. 3h)")
    p.add_argument("--duplicates", choices=DUPLICATES, default="error",
                   help="rows with the same id and time (day and beep): error (default), or "
                        "keep-first (the others are listed in exclusions.csv)")
    p.add_argument("--vars", type=csv_list, help="variables to use (default: all numeric)")
    p.add_argument("--segment", action="append", default=[],
                   help="column whose change breaks the series (repeatable)")
    p.add_argument("--value-labels", choices=VALUE_LABELS, default="codes",
                   help="SPSS/Stata value labels: keep the numeric codes (default) or map "
                        "labelled codes to their labels")
    p.add_argument("--sheet", help="Excel sheet name or 0-based position (default: the first)")
    p.add_argument("--na-values", type=csv_list, metavar="CODES",
                   help="missing-value codes, e.g. -999,999,. (added to NA, empty, ...)")
    p.add_argument("--decimal", choices=(".", ","), default=".", help="decimal mark (default .)")
    p.add_argument("--dayfirst", action="store_true", default=None,
                   help="dates are day/month/year (03/04/2024 = 3 April)")
    p.add_argument("--drop-text-columns", action="store_true",
                   help="leave out columns of numbers written with separators (1,234) "
                        "instead of stopping with an error")
    p.add_argument("--max-span", type=int, metavar="STEPS",
                   help="largest time span of one patient (default max(1000, 50 x its rows))")
    # argparse would read "--na-values -999,99" as an unknown option "-999,99"
    p._negative_number_matcher = re.compile(r"^-\d")


def data_options(args: argparse.Namespace) -> DataOptions:
    """Return the :class:`~causal.cli.pipeline.DataOptions` given by :func:`add_data_options`."""
    from causal.cli.pipeline import DataOptions

    return DataOptions(id_col=args.id, time_col=args.time, variables=args.vars,
                       segments=args.segment, time_step=args.time_step, day_col=args.day,
                       beep_col=args.beep, duplicates=args.duplicates, max_gap=args.max_gap,
                       na_values=args.na_values, decimal=args.decimal, dayfirst=args.dayfirst,
                       drop_text_columns=args.drop_text_columns, max_span=args.max_span,
                       value_labels=args.value_labels, sheet=args.sheet)


def add_parallel_options(p: argparse.ArgumentParser) -> None:
    """Add ``--n-jobs`` and ``--scheduler``."""
    g = p.add_argument_group("parallel execution")
    g.add_argument("--n-jobs", type=n_jobs, default=1,
                   help="local worker processes (default 1; -1 = all cores)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask cluster: address of its scheduler, e.g. "
                        "tcp://10.0.0.5:8786 (needs the dask extra)")


def add_test_options(g: argparse._ArgumentGroup) -> None:
    """Options shared by pooled (``discover``) and per-patient (``individual``) discovery."""
    g.add_argument("--tau-max", type=int, default=1, help="largest lag (default 1)")
    g.add_argument("--alpha", type=probability, default=0.05,
                   help="significance level (default 0.05)")
    g.add_argument("--pc-alpha", type=probability, default=0.2,
                   help="PC condition-selection level of PCMCI (default 0.2)")
    g.add_argument("--method", choices=METHODS, default="pcmci")
    g.add_argument("--ci-test", choices=CI_TESTS, default="parcorr")


def add_prep_option(g: argparse._ArgumentGroup) -> None:
    """Add ``--prep``."""
    g.add_argument("--prep", choices=PREPS, default="auto",
                   help="within-person preprocessing (default auto: diurnal, i.e. time-of-day "
                        "profile and trend over study time, with --day/--beep; else detrend)")


def add_out_and_seed(p: argparse.ArgumentParser, *, seed: int = 0,
                     seed_help: str = "seed for everything random (default 0)") -> None:
    """Add the required ``--out`` folder and ``--seed``."""
    p.add_argument("--out", type=out_folder, required=True, help="output folder")
    p.add_argument("--seed", type=check_seed_option, default=seed, help=seed_help)


def progress(args: argparse.Namespace) -> bool | None:
    """Progress bars: off with ``--quiet``, else automatic (only on a terminal)."""
    return False if getattr(args, "quiet", False) else None
