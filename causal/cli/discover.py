"""``therapy-pcmci discover DATA`` and ``therapy-pcmci demo``.

``discover`` runs :func:`causal.cli.pipeline.compute_discover` then
:func:`causal.cli.pipeline.write_discover` on a long-format file (``--bootstrap
B`` adds a patient cluster bootstrap). ``demo`` simulates the paper-calibrated
cohort (226 patients x 13 weeks), writes it as ``cohort.csv`` and discovers
with the ``melsom2023`` hypotheses.
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
    check_seed_option,
    count,
    data_options,
    link,
    out_folder,
    progress,
    rename_pairs,
)
from causal.cli.simulate import DEMO_PATIENTS, DEMO_SEED, DEMO_WEEKS

__all__ = ["add_demo_parser", "add_parser", "pcmci_settings", "run", "run_demo"]

logger = logging.getLogger("therapy_pcmci")


def _add_discovery_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("discovery")
    add_test_options(g)
    g.add_argument("--fdr", choices=("none", "fdr_bh"), default="none",
                   help="false-discovery-rate correction of MCI p-values")
    add_prep_option(g)
    g.add_argument("--prep-by", choices=("patient", "segment"), default="patient")
    g.add_argument("--standardize", action="store_true", help="also standardize within patient")
    g.add_argument("--cut-off", choices=("2xtau_max", "tau_max"), default="2xtau_max",
                   help="sample definition at series starts (see docs/method.md)")
    g.add_argument("--forbid", type=link, action="append", default=[], metavar="SRC:TGT:LAG")
    g.add_argument("--require", type=link, action="append", default=[], metavar="SRC:TGT:LAG")
    g.add_argument("--no-contemporaneous", action="store_true",
                   help="PCMCI+: do not test lag-0 links")
    g.add_argument("--min-lagged-rows", type=int, default=2,
                   help="exclude patients with fewer usable lagged rows (default 2)")
    g.add_argument("--time-effects", action=argparse.BooleanOptionalAction, default=None,
                   help="also remove the mean over patients at each time point (default: on "
                        "for weekly/daily data, off for day/beep designs)")
    g.add_argument("--debias", action=argparse.BooleanOptionalAction, default=None,
                   help="centre the pooled tests on their short-panel bias (default: off; "
                        "see docs/method.md)")
    h = p.add_argument_group("hypotheses")
    h.add_argument("--hypotheses", help="preset name (melsom2023) or TOML file")
    h.add_argument("--sesoi", type=float, help="override the smallest effect size of interest")
    h.add_argument("--no-sensitivity", action="store_true",
                   help="do not re-judge the hypotheses under alternative trend models, "
                        "tau_max and pc_alpha (sensitivity.csv and its report section)")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``discover`` command to the sub-parsers ``sub``."""
    d = sub.add_parser("discover", help="discover a temporal graph from a long-format file")
    add_data_options(d)
    d.add_argument("--rename", type=rename_pairs, help="rename columns first: old=new,...")
    _add_discovery_options(d)
    add_out_and_seed(d)
    b = d.add_argument_group("cluster bootstrap")
    b.add_argument("--bootstrap", type=count, default=0, metavar="B",
                   help="resample patients B times and re-run discovery (default 0: off); "
                        "writes bootstrap.csv, edge_frequency.png, forest.png")
    add_parallel_options(d)
    d.set_defaults(func=run)
    return d


def add_demo_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``demo`` command to the sub-parsers ``sub``."""
    m = sub.add_parser("demo", help="paper-calibrated simulated cohort + melsom2023 hypotheses")
    m.add_argument("--out", type=out_folder, required=True, help="output folder")
    m.add_argument("--seed", type=check_seed_option, default=DEMO_SEED)
    m.set_defaults(func=run_demo)
    return m


def pcmci_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Return the PanelPCMCI settings given by the ``discover`` options."""
    settings = dict(tau_max=args.tau_max, alpha=args.alpha, pc_alpha=args.pc_alpha,
                    method=args.method, ci_test=args.ci_test,
                    fdr=None if args.fdr == "none" else args.fdr, prep=args.prep,
                    prep_by=args.prep_by, standardize=args.standardize, cut_off=args.cut_off,
                    forbid=args.forbid, require=args.require,
                    contemporaneous=not args.no_contemporaneous,
                    min_lagged_rows=args.min_lagged_rows)
    for name in ("time_effects", "debias"):
        if getattr(args, name, None) is not None:
            settings[name] = getattr(args, name)
    return settings


def run(args: argparse.Namespace) -> int:
    """Run ``discover``: compute, then write every output file into ``--out``."""
    from causal.cli.pipeline import DiscoverOptions, compute_discover, write_discover

    options = DiscoverOptions(data=data_options(args), rename=args.rename,
                              hypotheses=args.hypotheses,
                              sesoi=args.sesoi, pcmci=pcmci_settings(args),
                              random_state=args.seed, bootstrap=args.bootstrap,
                              n_jobs=args.n_jobs, scheduler=args.scheduler,
                              progress=progress(args), command=args.command_line,
                              sensitivity=not args.no_sensitivity)
    result = compute_discover(args.data, options)
    write_discover(result, args.out)
    logger.info("%s\noutputs in %s", result, Path(args.out))
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """Run ``demo``: simulate the paper cohort into ``--out`` and discover with melsom2023."""
    from causal.cli.pipeline import (
        DiscoverOptions,
        compute_discover,
        write_discover_files,
        writing_to,
    )
    from features.simulate import simulate_cohort

    out = Path(args.out)
    df = simulate_cohort("paper", DEMO_PATIENTS, DEMO_WEEKS, random_state=args.seed)
    options = DiscoverOptions(hypotheses="melsom2023", random_state=args.seed,
                              command=args.command_line,
                              source=f"simulated paper-calibrated cohort ({DEMO_PATIENTS} "
                                     f"patients x {DEMO_WEEKS} weeks, seed {args.seed}): "
                                     "cohort.csv")
    with writing_to(out) as stage:  # one atomic folder: cohort.csv and the discover outputs
        data = stage / "cohort.csv"
        df.to_csv(data, index=False)
        result = compute_discover(data, options)
        write_discover_files(result, stage)
    logger.info("%s\noutputs in %s", result, out)
    return 0
