"""``therapy-pcmci simulate``: write a synthetic therapy cohort (CSV).

Options: ``--scenario`` (a preset of :mod:`features.scenarios`), ``--patients``,
``--weeks``, ``--seed``, ``--missing``, ``--dropout``, ``--effect-scale``,
``--trajectory`` (the shape of patients' change, :mod:`features.trajectories`),
``--ar-sd`` (between-patient SD of the autoregression) and the output CSV path
``--out``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from causal.cli.options import check_seed_option, out_file
from features.choices import SCENARIO_NAMES, TRAJECTORIES

__all__ = ["DEMO_PATIENTS", "DEMO_SEED", "DEMO_WEEKS", "add_parser", "run"]

logger = logging.getLogger("therapy_pcmci")

#: Bundled default: the paper-calibrated cohort (Melsom et al. 2023 design).
DEMO_PATIENTS, DEMO_WEEKS, DEMO_SEED = 226, 13, 2023


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``simulate`` command to the sub-parsers ``sub``."""
    s = sub.add_parser("simulate", help="write a synthetic therapy cohort (CSV)")
    s.add_argument("--scenario", choices=SCENARIO_NAMES, default="paper")
    s.add_argument("--patients", type=int, default=DEMO_PATIENTS)
    s.add_argument("--weeks", type=int, default=DEMO_WEEKS)
    s.add_argument("--seed", type=check_seed_option, default=0)
    s.add_argument("--missing", type=float, default=0.0, help="share of missing weeks")
    s.add_argument("--dropout", type=float, default=0.0, help="share of patients dropping out")
    s.add_argument("--effect-scale", type=float, default=1.0, help="multiply the cross effects")
    s.add_argument("--trajectory", choices=TRAJECTORIES, default="linear",
                   help="shape of the patients' change: straight lines (default), early "
                   "response, sudden gains and losses, relapse after a plateau, or a mixture")
    s.add_argument("--ar-sd", type=float, default=0.0,
                   help="between-patient SD of the autoregressive effects (default 0)")
    s.add_argument("--out", type=out_file, required=True, help="output CSV path")
    s.set_defaults(func=run)
    return s


def run(args: argparse.Namespace) -> int:
    """Simulate the cohort and write it to ``--out``; return 0."""
    from features.errors import InputError
    from features.scenarios import get_scenario
    from features.simulate import simulate_cohort

    scenario = get_scenario(args.scenario, effect_scale=args.effect_scale)
    df = simulate_cohort(scenario, args.patients, args.weeks, missing=args.missing,
                         dropout=args.dropout, random_state=args.seed,
                         trajectory=args.trajectory, ar_sd=args.ar_sd)
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(out, index=False)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write the file "
                         f"({exc.strerror or type(exc).__name__})") from exc
    logger.info("wrote %d rows (%d patients) to %s", len(df), df["patient"].nunique(), out)
    return 0
