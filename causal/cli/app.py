"""The ``therapy-pcmci`` command.

Sub-commands (names, options and output files are a stable contract):

* ``simulate`` - write a synthetic cohort CSV;
* ``discover DATA`` - run the pipeline on a long-format file (``--bootstrap B``
  adds a patient cluster bootstrap);
* ``individual DATA`` - per-patient discovery, group/individual edges, subgroups;
* ``demo`` - simulate the paper-calibrated cohort and discover with ``melsom2023``;
* ``power`` - simulation-based power planning (:mod:`causal.power`).

Long runs show progress bars on standard error when it is a terminal;
``--quiet`` turns them off.

Bad input exits with code 2 and one line on stderr starting with ``error:``;
it never prints a traceback.
"""

from __future__ import annotations

import argparse
import logging
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from causal.discovery.citests import CI_TESTS
from causal.discovery.estimator import METHODS
from causal.hypotheses.spec import HypothesisError
from features.errors import DataError
from features.scenarios import SCENARIO_NAMES
from features.simulate import simulate_cohort
from features.transforms import PREPS

__all__ = ["build_parser", "main"]

logger = logging.getLogger("therapy_pcmci")

#: Bundled default: the paper-calibrated cohort (Melsom et al. 2023 design).
DEMO_PATIENTS, DEMO_WEEKS, DEMO_SEED = 226, 13, 2023


class UsageError(Exception):
    """Bad command-line usage (reported as ``error: ...``, exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit code 2
        raise UsageError(f"{self.prog}: {message}")


def _csv_list(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def _rename(text: str) -> dict[str, str]:
    out = {}
    for item in _csv_list(text):
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise argparse.ArgumentTypeError(f"--rename expects old=new pairs, got {item!r}")
        out[old.strip()] = new.strip()
    return out


def _link(text: str) -> tuple[str, str, int]:
    parts = [p.strip() for p in text.split(":")]
    try:
        src, tgt, lag = parts
        return src, tgt, int(lag)
    except ValueError:
        raise argparse.ArgumentTypeError(f"links are SOURCE:TARGET:LAG, got {text!r}") from None


def _prob(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < x < 1:
        raise argparse.ArgumentTypeError(f"expected a value in (0, 1), got {text}")
    return x


def _count(text: str) -> int:
    try:
        x = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if x < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return x


def _share(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < x <= 1:
        raise argparse.ArgumentTypeError(f"expected a value in (0, 1], got {text}")
    return x


def _n_groups(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2 or 'auto', "
                                         f"got {text!r}") from None
    if k < 2:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2 or 'auto', got {text}")
    return k


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="CSV, TXT or Parquet file in long format")
    p.add_argument("--id", default="patient", help="patient id column (default patient)")
    p.add_argument("--time", default="week", help="time column, integer or date (default week)")
    p.add_argument("--time-step", help="step for date times, e.g. 7D (default: inferred)")
    p.add_argument("--vars", type=_csv_list, help="variables to use (default: all numeric)")
    p.add_argument("--segment", action="append", default=[],
                   help="column whose change breaks the series (repeatable)")
    p.add_argument("--na-values", type=_csv_list, metavar="CODES",
                   help="missing-value codes, e.g. -999,999,. (added to NA, empty, ...)")
    p.add_argument("--decimal", choices=(".", ","), default=".", help="decimal mark (default .)")
    p.add_argument("--dayfirst", action="store_true", default=None,
                   help="dates are day/month/year (03/04/2024 = 3 April)")
    p.add_argument("--drop-text-columns", action="store_true",
                   help="leave out columns of numbers written with separators (1,234) "
                        "instead of stopping with an error")
    p.add_argument("--max-span", type=int, metavar="STEPS",
                   help="largest time span of one patient (default max(1000, 50 x its rows))")
    p._negative_number_matcher = re.compile(r"^-\d")  # --na-values -999,99 is a value


def _add_parallel_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("parallel execution")
    g.add_argument("--n-jobs", type=int, default=1,
                   help="local worker processes (default 1; -1 = all cores)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask cluster: address of its scheduler, e.g. "
                        "tcp://10.0.0.5:8786 (needs the dask extra)")


def _add_test_options(g: argparse._ArgumentGroup) -> None:
    """Options shared by pooled (``discover``) and per-patient (``individual``) discovery."""
    g.add_argument("--tau-max", type=int, default=1, help="largest lag (default 1)")
    g.add_argument("--alpha", type=_prob, default=0.05, help="significance level (default 0.05)")
    g.add_argument("--pc-alpha", type=_prob, default=0.2,
                   help="PC condition-selection level of PCMCI (default 0.2)")
    g.add_argument("--method", choices=METHODS, default="pcmci")
    g.add_argument("--ci-test", choices=CI_TESTS, default="parcorr")


def _add_discovery_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("discovery")
    _add_test_options(g)
    g.add_argument("--fdr", choices=("none", "fdr_bh"), default="none",
                   help="false-discovery-rate correction of MCI p-values")
    g.add_argument("--prep", choices=PREPS, default="detrend",
                   help="within-person preprocessing (default detrend)")
    g.add_argument("--prep-by", choices=("patient", "segment"), default="patient")
    g.add_argument("--standardize", action="store_true", help="also standardize within patient")
    g.add_argument("--cut-off", choices=("2xtau_max", "tau_max"), default="2xtau_max",
                   help="sample definition at series starts (see docs/method.md)")
    g.add_argument("--forbid", type=_link, action="append", default=[], metavar="SRC:TGT:LAG")
    g.add_argument("--require", type=_link, action="append", default=[], metavar="SRC:TGT:LAG")
    g.add_argument("--no-contemporaneous", action="store_true",
                   help="PCMCI+: do not test lag-0 links")
    g.add_argument("--min-lagged-rows", type=int, default=2,
                   help="exclude patients with fewer usable lagged rows (default 2)")
    h = p.add_argument_group("hypotheses")
    h.add_argument("--hypotheses", help="preset name (melsom2023) or TOML file")
    h.add_argument("--sesoi", type=float, help="override the smallest effect size of interest")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=0, help="seed for everything random (default 0)")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``therapy-pcmci``."""
    parser = _Parser(prog="therapy-pcmci",
                     description="Temporal causal discovery on psychotherapy process data.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="only errors; no progress bars")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("simulate", help="write a synthetic therapy cohort (CSV)")
    s.add_argument("--scenario", choices=SCENARIO_NAMES, default="paper")
    s.add_argument("--patients", type=int, default=DEMO_PATIENTS)
    s.add_argument("--weeks", type=int, default=DEMO_WEEKS)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--missing", type=float, default=0.0, help="share of missing weeks")
    s.add_argument("--dropout", type=float, default=0.0, help="share of patients dropping out")
    s.add_argument("--effect-scale", type=float, default=1.0, help="multiply the cross effects")
    s.add_argument("--out", required=True, help="output CSV path")
    s.set_defaults(func=_cmd_simulate)

    d = sub.add_parser("discover", help="discover a temporal graph from a long-format file")
    _add_data_options(d)
    d.add_argument("--rename", type=_rename, help="rename columns first: old=new,...")
    _add_discovery_options(d)
    b = d.add_argument_group("cluster bootstrap")
    b.add_argument("--bootstrap", type=_count, default=0, metavar="B",
                   help="resample patients B times and re-run discovery (default 0: off); "
                        "writes bootstrap.csv, edge_frequency.png, forest.png")
    _add_parallel_options(d)
    d.set_defaults(func=_cmd_discover)

    i = sub.add_parser("individual", help="per-patient graphs, group/individual edges, "
                                          "subgroups")
    _add_data_options(i)
    g = i.add_argument_group("per-patient discovery")
    _add_test_options(g)
    g.add_argument("--prep", choices=PREPS, default="detrend",
                   help="within-person preprocessing (default detrend)")
    g.add_argument("--group-threshold", type=_share, default=0.75,
                   help="share of patients a group edge needs (default 0.75, as GIMME)")
    k = i.add_mutually_exclusive_group()
    k.add_argument("--subgroups", type=_n_groups, metavar="K|auto",
                   help="cluster patients by their edge values into K groups (auto: by "
                        "silhouette)")
    k.add_argument("--group-col", metavar="COL",
                   help="compare a known patient-level grouping (e.g. treatment arm)")
    i.add_argument("--out", required=True, help="output folder")
    i.add_argument("--seed", type=int, default=0, help="seed for everything random (default 0)")
    _add_parallel_options(i)
    i.set_defaults(func=_cmd_individual)

    m = sub.add_parser("demo", help="paper-calibrated simulated cohort + melsom2023 hypotheses")
    m.add_argument("--out", required=True, help="output folder")
    m.add_argument("--seed", type=int, default=DEMO_SEED)
    m.set_defaults(func=_cmd_demo)

    from causal import power

    w = sub.add_parser("power", help="simulation-based power planning for a lag-1 effect")
    power.configure_parser(w)
    w.set_defaults(func=power.run)
    return parser


def _cmd_simulate(args: argparse.Namespace) -> int:
    from features.scenarios import get_scenario

    scenario = get_scenario(args.scenario, effect_scale=args.effect_scale)
    df = simulate_cohort(scenario, args.patients, args.weeks, missing=args.missing,
                         dropout=args.dropout, random_state=args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    logger.info("wrote %d rows (%d patients) to %s", len(df), df["patient"].nunique(), out)
    return 0


def _discovery_params(args: argparse.Namespace) -> dict:
    return dict(tau_max=args.tau_max, alpha=args.alpha, pc_alpha=args.pc_alpha,
                method=args.method, ci_test=args.ci_test,
                fdr=None if args.fdr == "none" else args.fdr, prep=args.prep,
                prep_by=args.prep_by, standardize=args.standardize, cut_off=args.cut_off,
                forbid=args.forbid, require=args.require,
                contemporaneous=not args.no_contemporaneous,
                min_lagged_rows=args.min_lagged_rows, random_state=args.seed)


def _cmd_discover(args: argparse.Namespace) -> int:
    from causal.cli.pipeline import discover

    if not Path(args.data).exists():
        raise DataError(f"{args.data}: file not found")
    result = discover(args.data, args.out, id_col=args.id, time_col=args.time,
                      variables=args.vars, segments=args.segment, rename=args.rename,
                      hypotheses=args.hypotheses, sesoi=args.sesoi, time_step=args.time_step,
                      command=args.command_line, bootstrap=args.bootstrap, n_jobs=args.n_jobs,
                      na_values=args.na_values, decimal=args.decimal, dayfirst=args.dayfirst,
                      drop_text_columns=args.drop_text_columns, max_span=args.max_span,
                      scheduler=args.scheduler, progress=_progress(args),
                      **_discovery_params(args))
    logger.info("%s", result)
    return 0


def _progress(args: argparse.Namespace) -> bool | None:
    """Progress bars: off with --quiet, else automatic (only on a terminal)."""
    return False if args.quiet else None


def _cmd_individual(args: argparse.Namespace) -> int:
    from causal.cli.pipeline import individual

    if not Path(args.data).exists():
        raise DataError(f"{args.data}: file not found")
    result = individual(args.data, args.out, id_col=args.id, time_col=args.time,
                        variables=args.vars, segments=args.segment, time_step=args.time_step,
                        group_threshold=args.group_threshold, subgroups=args.subgroups,
                        group_col=args.group_col, n_jobs=args.n_jobs, scheduler=args.scheduler,
                        progress=_progress(args), tau_max=args.tau_max, alpha=args.alpha,
                        pc_alpha=args.pc_alpha, method=args.method, ci_test=args.ci_test,
                        prep=args.prep, random_state=args.seed, na_values=args.na_values,
                        decimal=args.decimal, dayfirst=args.dayfirst,
                        drop_text_columns=args.drop_text_columns, max_span=args.max_span)
    logger.info("%s", result)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from causal.cli.pipeline import discover

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df = simulate_cohort("paper", DEMO_PATIENTS, DEMO_WEEKS, random_state=args.seed)
    data = out / "cohort.csv"
    df.to_csv(data, index=False)
    result = discover(data, out, hypotheses="melsom2023", random_state=args.seed,
                      command=args.command_line,
                      source=f"simulated paper-calibrated cohort ({DEMO_PATIENTS} patients x "
                             f"{DEMO_WEEKS} weeks, seed {args.seed}): cohort.csv")
    logger.info("%s", result)
    return 0


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("therapy_pcmci", "causal", "features", "experiments"):
        lg = logging.getLogger(name)
        lg.handlers = [handler]
        lg.setLevel(level if name == "therapy_pcmci" or verbose else max(level, logging.WARNING))
        lg.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return _fail(str(exc))
    args.command_line = "therapy-pcmci " + " ".join(shlex.quote(a) for a in argv)
    _configure_logging(args.verbose, args.quiet)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (DataError, HypothesisError, ValueError, OSError) as exc:
        return _fail(str(exc))


def _fail(message: str) -> int:
    one_line = " ".join(str(message).split())
    sys.stderr.write(f"error: {one_line}\n")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
