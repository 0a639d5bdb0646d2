"""``therapy-pcmci individual DATA``: per-patient graphs, group/individual edges, subgroups.

Runs :func:`causal.cli.pipeline.compute_individual` then
:func:`causal.cli.pipeline.write_individual`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from causal.cli.options import (
    add_data_options,
    add_out_and_seed,
    add_parallel_options,
    add_prep_option,
    add_test_options,
    data_options,
    link,
    n_groups,
    progress,
    rename_pairs,
    share,
)

__all__ = ["add_parser", "run"]

logger = logging.getLogger("therapy_pcmci")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``individual`` command to the sub-parsers ``sub``."""
    i = sub.add_parser("individual", help="per-patient graphs, group/individual edges, "
                                          "subgroups")
    add_data_options(i)
    i.add_argument("--rename", type=rename_pairs, help="rename columns first: old=new,...")
    g = i.add_argument_group("per-patient discovery")
    add_test_options(g)
    add_prep_option(g)
    g.add_argument("--standardize", action="store_true",
                   help="also standardize each patient's series")
    g.add_argument("--forbid", type=link, action="append", default=[], metavar="SRC:TGT:LAG",
                   help="never a link in any patient (repeatable; e.g. into an exogenous "
                        "variable)")
    g.add_argument("--require", type=link, action="append", default=[], metavar="SRC:TGT:LAG",
                   help="always a link in every patient (repeatable; gimme's paths)")
    g.add_argument("--group-threshold", type=share, default=0.75,
                   help="share of patients a group edge needs (default 0.75, as GIMME)")
    k = i.add_mutually_exclusive_group()
    k.add_argument("--subgroups", type=n_groups, metavar="K|auto",
                   help="cluster patients by their edge values into K groups (auto: by "
                        "silhouette)")
    k.add_argument("--group-col", metavar="COL",
                   help="compare a known patient-level grouping (e.g. treatment arm)")
    add_out_and_seed(i)
    add_parallel_options(i)
    i.set_defaults(func=run)
    return i


def run(args: argparse.Namespace) -> int:
    """Run ``individual``: compute, then write every output file into ``--out``."""
    from causal.cli.pipeline import IndividualOptions, compute_individual, write_individual

    pcmci = dict(tau_max=args.tau_max, alpha=args.alpha, pc_alpha=args.pc_alpha,
                 method=args.method, ci_test=args.ci_test, prep=args.prep,
                 standardize=args.standardize, forbid=args.forbid, require=args.require)
    options = IndividualOptions(data=data_options(args), rename=args.rename,
                                group_threshold=args.group_threshold,
                                subgroups=args.subgroups,
                                group_col=args.group_col, pcmci=pcmci, random_state=args.seed,
                                n_jobs=args.n_jobs, scheduler=args.scheduler,
                                progress=progress(args))
    result = compute_individual(args.data, options)
    write_individual(result, args.out)
    logger.info("%s\noutputs in %s", result, Path(args.out))
    return 0
