"""Benchmark: the default ``discover`` computation at paper size, phase by phase.

Times :func:`causal.cli.pipeline.compute_discover` (reading aside: the data are
a DataFrame) on the paper-calibrated cohort (226 patients x 13 weeks, 5% missing
weeks) for three runs: no hypotheses; the ``melsom2023`` hypotheses without the
sensitivity section; and with it (the default when hypotheses are given). The
same runs with tigramite's own ParCorr (``ci_test="parcorr-tigramite"``) in the
same process give the ratio. Targets (issue 8): the default discover under 1 s of
compute after start-up; the sensitivity section under 5 s.

Run ``python -m benchmarks.discover`` from the repository root (``--repeats``:
best of N). The report is printed and written to
``results/benchmarks/discover.txt``.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

import pandas as pd

from benchmarks.common import (
    RESULTS_DIR,
    best_time,
    machine_description,
    markdown_table,
    write_report,
)
from causal.cli.pipeline import DiscoverOptions, compute_discover
from features.simulate import simulate_cohort

__all__ = ["main", "time_runs"]

logger = logging.getLogger(__name__)

RUNS = (("no hypotheses", None, False), ("melsom2023, no sensitivity", "melsom2023", False),
        ("melsom2023 + sensitivity (default)", "melsom2023", True))


def time_runs(df: pd.DataFrame, repeats: int) -> pd.DataFrame:
    """CPU and wall seconds of each run, with the engine and with tigramite's ParCorr."""
    compute_discover(df, DiscoverOptions())  # warm-up: imports and caches
    rows = []
    for label, hypotheses, sensitivity in RUNS:
        row: dict[str, object] = {"run": label}
        for engine in ("parcorr", "parcorr-tigramite"):
            options = DiscoverOptions(hypotheses=hypotheses, sensitivity=sensitivity,
                                      pcmci={"ci_test": engine}, random_state=1)
            wall, cpu, _ = best_time(lambda o=options: compute_discover(df, o), repeats)
            row[f"{engine} CPU s"], row[f"{engine} wall s"] = cpu, wall
        row["ratio (CPU)"] = row["parcorr-tigramite CPU s"] / row["parcorr CPU s"]
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.discover")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    df = simulate_cohort("paper", 226, 13, missing=0.05, random_state=1)
    table = time_runs(df, args.repeats)
    report = "\n".join([
        "# discover at 226 x 13 (5% missing), compute only", "", machine_description(), "",
        markdown_table(table.round(3)), "",
        "Targets: default discover < 1 s of compute; sensitivity section < 5 s "
        "(difference of the last two rows)."])
    print(report)
    write_report(report, RESULTS_DIR / "discover.txt")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
