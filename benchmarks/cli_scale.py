"""Scale run: ``therapy-pcmci discover`` on a 10,000 x 52 x 10 CSV, start to finish.

1. Simulate 10,000 patients x 52 weeks x 10 variables (10% missing weeks) and
   write them as a CSV into a temporary folder.
2. Run ``therapy-pcmci discover FILE --id patient --time week --out DIR`` as a
   child process (the ``therapy-pcmci`` next to this Python); report its wall
   time, CPU time and peak resident memory (``getrusage(RUSAGE_CHILDREN)``).
   Targets: < 60 s and < 4 GB on 2 cores.
3. Profile the in-process equivalent, :func:`causal.cli.pipeline.discover`, with
   cProfile and split its time into phases (reading the CSV, panel validation,
   detrending, tigramite input, moments, PCMCI, outputs, figures).

Run ``python -m benchmarks.cli_scale`` (about a minute); ``--patients`` etc.
change the size. The report is printed and written to
``results/benchmarks/cli_scale.txt``.
"""

from __future__ import annotations

import cProfile
import logging
import math
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import (
    RESULTS_DIR,
    cohort_parser,
    machine_description,
    make_cohort,
    peak_rss_mib,
    write_report,
)

__all__ = ["PHASES", "main", "phase_times", "run_cli"]

logger = logging.getLogger(__name__)

#: Pipeline phases: label -> functions (file suffix, name) whose cumulative times add up.
#: The engine builds its moments lazily inside tigramite's run, so "PCMCI" is
#: tigramite's ``run_pcmci`` / ``run_pcmciplus`` minus the moments phases.
PHASES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("read CSV (features.io.read_table)", (("features/io.py", "read_table"),)),
    ("Panel.from_frame validation", (("features/panel.py", "from_frame"),)),
    ("drop_short (usable lagged rows, x2)", (("features/panel.py", "drop_short"),)),
    ("detrend (features.transforms.prepare)", (("features/transforms.py", "prepare"),)),
    ("to_tigramite (grid arrays)", (("causal/discovery/_tigramite.py", "to_tigramite"),)),
    ("complete-sample count (causal.discovery._tigramite.complete_samples)",
     (("causal/discovery/_tigramite.py", "complete_samples"),)),
    ("tigramite DataFrame (TigramiteInput.dataframe)",
     (("causal/discovery/_tigramite.py", "dataframe"),)),
    ("moments build (LaggedMoments.from_dataframe)",
     (("causal/engine/stats.py", "from_dataframe"),)),
    ("moments aggregate (LaggedMoments.aggregate)", (("causal/engine/stats.py", "aggregate"),)),
    ("PCMCI (tigramite's run_pcmci / run_pcmciplus + engine tests)",
     (("tigramite/pcmci.py", "run_pcmci"), ("tigramite/pcmci.py", "run_pcmciplus"))),
    ("required links + links table (causal.discovery._tigramite)",
     (("causal/discovery/_tigramite.py", "reestimate_required"),
      ("causal/discovery/_tigramite.py", "links_table"))),
    ("summary graph", (("causal/graph.py", "summary_graph"),)),
    ("write links/graph/exclusions/report",
     (("causal/links.py", "to_csv"), ("causal/graph.py", "write_graphml"),
      ("causal/graph.py", "write_json"), ("features/panel.py", "to_csv"),
      ("causal/report.py", "write_report"))),
    ("figure graph.png/.svg (plot_graph)", (("causal/plotting.py", "plot_graph"),)),
    ("figure patients.png/.svg (plot_patients)", (("causal/plotting.py", "plot_patients"),)),
)
_NESTED_IN_PCMCI = ("moments build (LaggedMoments.from_dataframe)",
                    "moments aggregate (LaggedMoments.aggregate)")


def _therapy_pcmci() -> str:
    """The console script of this environment (falls back to the one on PATH)."""
    here = Path(sys.executable).with_name("therapy-pcmci")
    found = str(here) if here.exists() else shutil.which("therapy-pcmci")
    if found is None:
        raise FileNotFoundError("therapy-pcmci is not installed (pip install -e .)")
    return found


def run_cli(csv: Path, out: Path, extra: Sequence[str] = ()) -> dict[str, float]:
    """Run ``therapy-pcmci discover`` as a child; return wall s, CPU s and peak RSS MiB.

    ``ru_maxrss`` of ``RUSAGE_CHILDREN`` is the largest peak of any waited-for
    child, so this must be the first (and only) child of the process.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [_therapy_pcmci(), "discover", str(csv), "--id", "patient", "--time", "week",
           "--out", str(out), *extra]
    logger.info("running %s", " ".join(cmd))
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"therapy-pcmci failed ({proc.returncode}): {proc.stderr.strip()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": peak_rss_mib(resource.RUSAGE_CHILDREN),
            "log": proc.stderr.strip()}


def phase_times(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative seconds per :data:`PHASES` entry (NaN when no function matched).

    The moments phases run inside tigramite's PCMCI and are subtracted from it.
    """
    table = stats.stats  # type: ignore[attr-defined]

    def cum(file_suffix: str, name: str) -> float | None:
        hits = [v[3] for (f, _, n), v in table.items()
                if n == name and f.replace("\\", "/").endswith(file_suffix)]
        return sum(hits) if hits else None

    out: dict[str, float] = {}
    for label, funcs in PHASES:
        found = [t for t in (cum(*fn) for fn in funcs) if t is not None]
        out[label] = sum(found) if found else float("nan")
    pcmci = next(label for label, _ in PHASES if label.startswith("PCMCI"))
    out[pcmci] -= sum(out[k] for k in _NESTED_IN_PCMCI if not math.isnan(out[k]))
    return out


def profile_discover(csv: Path, out: Path) -> tuple[float, dict[str, float], str]:
    """Profile :func:`causal.cli.pipeline.discover` in this process (imports done first)."""
    import io

    start = time.perf_counter()
    import tigramite.pcmci  # noqa: F401  (imported lazily by discover)

    import causal.cli.app
    import causal.cli.pipeline

    imports = time.perf_counter() - start
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    causal.cli.pipeline.discover(csv, out)
    prof.disable()
    total = time.perf_counter() - start
    stream = io.StringIO()
    stats = pstats.Stats(prof, stream=stream)
    phases = phase_times(stats)
    phases["other (hypotheses, pandas glue, ...)"] = total - sum(
        v for v in phases.values() if not math.isnan(v))
    stats.sort_stats("cumulative").print_stats(r"work/main/(causal|features)", 25)
    return imports, {"total": total, **phases}, stream.getvalue()


def main(argv: Sequence[str] | None = None) -> str:
    """Run the scale benchmark from the command line; return the report."""
    p = cohort_parser("cli_scale", __doc__, patients=10000, weeks=52, n_vars=10)
    p.add_argument("--no-profile", action="store_true", help="only the CLI run")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logger.setLevel(logging.INFO)
    lines = [f"# therapy-pcmci discover at {args.patients}x{args.weeks}x{args.vars} "
             f"(missing {args.missing:g}, seed {args.seed})", machine_description()]
    with tempfile.TemporaryDirectory(prefix="therapy-pcmci-scale-") as tmp:
        csv = Path(tmp) / "cohort.csv"
        start = time.perf_counter()
        df = make_cohort(args.patients, args.weeks, args.vars, missing=args.missing,
                         random_state=args.seed)
        df.to_csv(csv, index=False)
        lines.append(f"CSV: {len(df):,} rows x {df.shape[1]} columns, "
                     f"{csv.stat().st_size / 2**20:.1f} MiB (written in "
                     f"{time.perf_counter() - start:.1f} s)")
        del df
        cli = run_cli(csv, Path(tmp) / "out-cli")
        lines += [
            "",
            "## CLI run (child process)",
            f"wall time {cli['wall_s']:.2f} s (target < 60 s), CPU time {cli['cpu_s']:.2f} s, "
            f"peak RSS {cli['peak_rss_mib']:.0f} MiB (target < 4096 MiB)",
            "log: " + " | ".join(str(cli["log"]).splitlines()),
        ]
        if not args.no_profile:
            imports, phases, top = profile_discover(csv, Path(tmp) / "out-profile")
            total = phases.pop("total")
            lines += ["", "## In-process causal.cli.pipeline.discover, cProfile",
                      f"imports (causal.cli.app, causal.cli.pipeline, tigramite.pcmci): "
                      f"{imports:.2f} s "
                      "(not in the total below)",
                      f"discover total {total:.2f} s under cProfile:"]
            lines += [f"  {sec:7.3f} s  {sec / total:6.1%}  {label}" if not math.isnan(sec)
                      else f"      n/a           {label} (function not found)"
                      for label, sec in sorted(phases.items(),
                                               key=lambda kv: 0 if math.isnan(kv[1]) else -kv[1])]
            lines += ["", "top package functions by cumulative time:", top.strip()]
    report = "\n".join(lines)
    write_report(report, RESULTS_DIR / "cli_scale.txt")
    return report


if __name__ == "__main__":
    main()
