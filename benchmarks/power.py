"""Benchmark: a power curve with the fast engine against full PanelPCMCI runs.

The curve of issue 9: the effect ``fear_others -> depression = +0.12`` at 13
weeks, 4 designs (50, 100, 200, 400 patients) x 200 cohorts each, seed 1.

* ``engine="fast"``: vectorized simulation into pooled lagged moments and
  PCMCI's tests (:mod:`causal._fastsim`), one process (``--fast-jobs``);
* ``engine="full"``: :func:`features.simulate.simulate_cohort` and
  ``PanelPCMCI.fit`` on every cohort, the previous path, with ``--n-jobs``
  workers (default 2).

Both use the same seeds, hence the same cohorts. ``--full-cohorts N`` runs the
full engine on the first ``N`` cohorts of every design only (the seed list of
a design does not depend on its length, so these are the fast engine's first
``N`` cohorts) and extrapolates its time linearly to 200; the table says so.
Decisions are compared cohort by cohort on the cohorts both ran.

Times are wall clock (best of ``--repeats`` for the fast engine) and CPU
seconds of this process; on a shared machine the CPU time of the fast engine
is the steadier figure. Run ``python -m benchmarks.power`` (about 25 s of
full runs per 100 cohorts on 2 cores) or ``--quick``. The table is printed and
written to ``results/benchmarks/power.md`` (``power_quick.md``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import RESULTS_DIR, best_time, machine_description, markdown_table
from benchmarks.common import write_report as _write
from causal.power import Design, _simulate, power_scenario

__all__ = ["main"]

PATIENTS = (50, 100, 200, 400)


def _hits(links: list, i: int, j: int, effect: float) -> list[np.ndarray]:
    return [lk.significant[:, i, j, 1] & (np.sign(lk.value[:, i, j, 1]) == np.sign(effect))
            for lk in links]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 when the engines agree cohort by cohort."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="20 cohorts per design, full engine on 5")
    parser.add_argument("--cohorts", type=int, default=200)
    parser.add_argument("--full-cohorts", type=int, default=None,
                        help="full-engine cohorts per design (default: all)")
    parser.add_argument("--n-jobs", type=int, default=2, help="workers of the full engine")
    parser.add_argument("--fast-jobs", type=int, default=1, help="workers of the fast engine")
    parser.add_argument("--repeats", type=int, default=3, help="fast-engine repeats")
    parser.add_argument("--weeks", type=int, default=13)
    parser.add_argument("--effect", type=float, default=0.12)
    parser.add_argument("--out", type=Path, default=None,
                        help="report path (default results/benchmarks/power[_quick].md)")
    args = parser.parse_args(argv)
    cohorts = 20 if args.quick else args.cohorts
    full_n = args.full_cohorts if args.full_cohorts is not None else (5 if args.quick
                                                                      else cohorts)
    full_n = min(full_n, cohorts)
    scenario = power_scenario(args.effect)
    designs = [Design(p, args.weeks) for p in PATIENTS]
    names = list(scenario.variables)
    i, j = names.index("fear_others"), names.index("depression")

    def fast() -> list:
        return _simulate(scenario, designs, cohorts, 0.05, {}, 1, "fast", args.fast_jobs,
                         None, False, "fast")

    fast_wall, fast_cpu, fast_links = best_time(fast, args.repeats)
    start, start_cpu = time.perf_counter(), time.process_time()
    full_links = _simulate(scenario, designs, full_n, 0.05, {}, 1, "full", args.n_jobs, None,
                           False, "full")
    full_wall = time.perf_counter() - start
    full_cpu = time.process_time() - start_cpu
    scale = cohorts / full_n
    fast_hits = _hits(fast_links, i, j, args.effect)
    full_hits = _hits(full_links, i, j, args.effect)
    rows = []
    agree = True
    for d, fh, uh, fl, ul in zip(designs, fast_hits, full_hits, fast_links, full_links,
                                 strict=True):
        same = bool(np.array_equal(fh[:full_n], uh)
                    and np.array_equal(fl.significant[:full_n, ..., 1:],
                                       ul.significant[..., 1:]))
        agree &= same
        diff = float(np.nanmax(np.abs(fl.value[:full_n, ..., 1:] - ul.value[..., 1:])))
        rows.append({"design": d.label, "cohorts": cohorts, "power (fast)": fh.mean(),
                     "full cohorts": full_n, "power (full, same cohorts)": uh.mean(),
                     "power (fast, same cohorts)": fh[:full_n].mean(),
                     "same decisions": same, "max |value diff|": diff})
    total_full = full_wall * scale
    lines = [
        f"# Power-curve benchmark ({'quick' if args.quick else 'full'})",
        "",
        f"Effect fear_others -> depression = {args.effect:+g}, {args.weeks} weeks, "
        f"designs {', '.join(map(str, PATIENTS))} patients, {cohorts} cohorts each, seed 1.",
        f"Machine: {machine_description()}; load average {os.getloadavg()[0]:.1f}.",
        "",
        markdown_table(pd.DataFrame(rows)),
        "",
        "| engine | cohorts timed | wall s | CPU s (this process) | wall s for "
        f"{len(designs)} x {cohorts} |",
        "|---|---|---|---|---|",
        f"| fast ({args.fast_jobs} process) | {len(designs) * cohorts} | {fast_wall:.2f} | "
        f"{fast_cpu:.2f} | {fast_wall:.2f} |",
        f"| full ({args.n_jobs} workers) | {len(designs) * full_n} | {full_wall:.2f} | "
        f"{full_cpu:.2f} | {total_full:.1f}{' (extrapolated)' if scale != 1 else ''} |",
        "",
        f"Speed-up (wall): {total_full / fast_wall:.1f}x. Fast engine: "
        f"{1000 * fast_wall / (len(designs) * cohorts):.2f} ms per cohort.",
        f"Decisions identical on every compared cohort: {agree}.",
    ]
    name = "power_quick.md" if args.quick else "power.md"
    _write("\n".join(lines), args.out if args.out is not None else RESULTS_DIR / name)
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
