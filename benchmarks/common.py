"""Shared helpers of the benchmark scripts: cohorts, call recording, timing, memory, reports.

Examples
--------
>>> df = make_cohort(4, 6, 3, missing=0.0, random_state=0)
>>> list(df.columns), df.shape
(['patient', 'week', 'depression', 'self_compassion', 'fear_others'], (24, 5))
>>> print(markdown_table(pd.DataFrame({"a": [1.5, None], "b": [True, "x"]})))
| a | b |
|---|---|
| 1.5 | True |
|  | x |
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.scenarios import generic_scenario
from features.simulate import simulate_cohort

__all__ = [
    "RESULTS_DIR",
    "Call",
    "best_time",
    "cohort_parser",
    "machine_description",
    "make_cohort",
    "markdown_table",
    "peak_rss_mib",
    "record_calls",
    "replay",
    "write_report",
]

#: Where the benchmark scripts write their tables (git-ignored).
RESULTS_DIR = Path("results") / "benchmarks"

#: The test methods tigramite's PCMCI calls (recorded and replayed).
_RECORDED = ("run_test", "get_confidence", "get_measure", "get_model_selection_criterion")

#: One recorded test call: (method name, args, kwargs, result).
Call = tuple[str, tuple[Any, ...], dict[str, Any], Any]


def make_cohort(n_patients: int, n_weeks: int, n_vars: int, *, missing: float = 0.1,
                random_state: int = 0) -> pd.DataFrame:
    """Simulate a benchmark cohort in long format.

    Three variables use the paper-calibrated scenario (PHQ-9-like sum scores
    with trends and rounding); other sizes use :func:`generic_scenario` (sparse
    random cross-lagged effects of 0.15, continuous scores). ``missing`` is the
    share of patient-weeks removed at random.
    """
    if n_vars == 3:
        scenario: Any = "paper"
    else:
        scenario = generic_scenario(n_vars, random_state=random_state)
    return simulate_cohort(scenario, n_patients, n_weeks, missing=missing,
                           random_state=random_state)


def cohort_parser(module: str, description: str | None, *, patients: int, weeks: int,
                  n_vars: int) -> argparse.ArgumentParser:
    """Return the parser of a benchmark on one :func:`make_cohort` cohort.

    Options ``--patients``, ``--weeks``, ``--vars`` (with these defaults),
    ``--missing`` (0.1) and ``--seed`` (0); the benchmark adds its own.
    """
    p = argparse.ArgumentParser(prog=f"python -m benchmarks.{module}", description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--patients", type=int, default=patients)
    p.add_argument("--weeks", type=int, default=weeks)
    p.add_argument("--vars", type=int, default=n_vars)
    p.add_argument("--missing", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    return p


def record_calls(test: Any, log: list[Call]) -> Any:
    """Make ``test`` append every PCMCI-facing call and its result to ``log``.

    The class of ``test`` is swapped for a recording subclass, so copies that
    PCMCI makes keep recording into the same list. Arguments are deep-copied
    when recorded.
    """
    base = type(test)

    def wrap(name: str) -> Callable[..., Any]:
        method = getattr(base, name)

        def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
            saved = (copy.deepcopy(args), copy.deepcopy(kwargs))
            out = method(self, *args, **kwargs)
            log.append((name, *saved, out))
            return out

        return recorded

    test.__class__ = type(f"Recording{base.__name__}", (base,),
                          {name: wrap(name) for name in _RECORDED})
    return test


def replay(test: Any, calls: list[Call]) -> tuple[list[float], list[Any]]:
    """Call ``test`` as recorded; return the wall time and the result of each call.

    Arguments are copied before the clock starts, so only the calls are timed.
    """
    prepared = [(getattr(test, name), copy.deepcopy(args), copy.deepcopy(kwargs))
                for name, args, kwargs, _ in calls]
    times, results = [], []
    for method, args, kwargs in prepared:
        start = time.perf_counter()
        out = method(*args, **kwargs)
        times.append(time.perf_counter() - start)
        results.append(out)
    return times, results


def best_time(func: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Best wall time and best CPU time (this process) of ``repeats`` calls (at least one).

    Returns
    -------
    wall, cpu, result : float, float, object
        Seconds, and the result of the last call.
    """
    wall, cpu, out = np.inf, np.inf, None
    for _ in range(max(1, repeats)):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = func()
        cpu = min(cpu, time.process_time() - start_cpu)
        wall = min(wall, time.perf_counter() - start)
    return wall, cpu, out


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size in MiB (``ru_maxrss`` is in KiB on Linux)."""
    to_bytes = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB, macOS bytes
    return resource.getrusage(who).ru_maxrss * to_bytes / 2**20


def machine_description() -> str:
    """CPU model, cores, memory and library versions, one line."""
    from importlib.metadata import version

    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        pass
    libs = ", ".join(f"{lib} {version(lib)}" for lib in ("numpy", "scipy", "pandas", "tigramite"))
    return f"{model}, {os.cpu_count()} cores{mem}; Python {platform.python_version()}, {libs}"


def write_report(report: str, path: Path) -> Path:
    """Write a text report to ``path`` (folders created), print it and where it went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report + "\n", encoding="utf-8")
    print(report)
    print(f"\nwritten to {path}")
    return path


def _cell(x: Any) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    if isinstance(x, (float, np.floating)):
        return f"{x:.3g}" if abs(x) < 1e-3 and x != 0 else f"{x:.4g}"
    return str(x)


def markdown_table(df: pd.DataFrame) -> str:
    """Render a frame as a GitHub markdown table (empty cells for NaN / None)."""
    lines = ["| " + " | ".join(map(str, df.columns)) + " |",
             "|" + "|".join("---" for _ in df.columns) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(x) for x in row) + " |")
    return "\n".join(lines)
