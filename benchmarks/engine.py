"""Benchmark: tigramite's multiple-dataset ``ParCorr`` versus the pooled engine.

For every case the same simulated cohort goes, in one process, through

* the whole :class:`causal.discovery.estimator.PanelPCMCI` fit (validation, detrending,
  tigramite input, PCMCI or PCMCI+, links) with ``ci_test="parcorr"`` (the
  engine, :class:`causal.discovery.engine.PooledParCorr`) and with
  ``ci_test="parcorr-tigramite"`` (tigramite's ``ParCorr``, same df correction);
* the PCMCI run alone: ``PCMCI(dataframe, test).run_pcmci(...)`` (or
  ``run_pcmciplus``) on the fit's tigramite input, with
  ``make_ci_test(name, df_loss=model.df_loss_)``.

Engine times are the best of ``--repeats`` runs, each with a fresh test (the
lagged moments are rebuilt every time); tigramite runs once. Times are wall
clock; the PCMCI runs are also timed in CPU seconds of this process
(``time.process_time``), which a busy shared machine distorts much less. The results of
both runs are compared: the largest absolute differences of the MCI values,
p-values and confidence bounds, and whether the graphs are identical.

tigramite's time is also *estimated* for every case: an engine run records
every test call PCMCI makes; a sample of those calls (``--probes`` per kind) is
replayed on tigramite's ``ParCorr`` on the same data and timed, and

    estimate = engine PCMCI time + sum over call kinds of (count x mean tigramite time)

If the estimate exceeds ``--limit`` seconds (default 600) tigramite is not run
and the table reports the estimate (``tigramite = "estimated"``) with the
differences over the replayed calls. Above ``--fit-limit`` (60 s) only
tigramite's PCMCI run is timed and its whole-fit time is derived (PCMCI time +
the engine fit's non-PCMCI time, the same code for both).

Run ``python -m benchmarks.engine`` (about 5 minutes on 2 cores) or ``--quick``
(a few seconds). The table is printed and written to
``results/benchmarks/engine.csv`` (``engine_quick.csv``).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import (
    RESULTS_DIR,
    Call,
    best_time,
    machine_description,
    make_cohort,
    markdown_table,
    peak_rss_mib,
    record_calls,
    replay,
)
from causal import PanelPCMCI
from causal.discovery.citests import make_ci_test

__all__ = ["FULL_CASES", "QUICK_CASES", "TABLE_COLUMNS", "Case", "main", "run_benchmark",
           "run_case"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Case:
    """One benchmark row: cohort size and discovery settings."""

    n_patients: int
    n_weeks: int
    n_vars: int
    tau_max: int
    method: str = "pcmci"
    cut_off: str = "2xtau_max"

    @property
    def cohort(self) -> str:
        """``patients x weeks x vars``."""
        return f"{self.n_patients}x{self.n_weeks}x{self.n_vars}"

    @property
    def size(self) -> int:
        """Number of patient-week-variable cells."""
        return self.n_patients * self.n_weeks * self.n_vars

    def __str__(self) -> str:
        return f"{self.cohort} tau_max={self.tau_max} {self.method} cut_off={self.cut_off}"


FULL_CASES: tuple[Case, ...] = (
    *(Case(226, 13, n, tau, method) for n in (3, 5) for tau in (1, 2)
      for method in ("pcmci", "pcmciplus")),
    Case(226, 13, 5, 2, "pcmci", cut_off="tau_max"),
    Case(1000, 13, 5, 2, "pcmci"),
    Case(1000, 13, 5, 2, "pcmciplus"),
    Case(10000, 52, 10, 1, "pcmci"),
    Case(10000, 52, 10, 2, "pcmci"),
    Case(10000, 52, 10, 2, "pcmciplus"),
)

QUICK_CASES: tuple[Case, ...] = (
    Case(60, 13, 3, 1, "pcmci"),
    Case(60, 13, 3, 2, "pcmciplus"),
    Case(100, 13, 5, 2, "pcmci", cut_off="tau_max"),
)

#: Columns of the result table, in order.
TABLE_COLUMNS = (
    "cohort", "tau_max", "method", "cut_off", "n_tests", "tigramite",
    "tig_fit_s", "eng_fit_s", "fit_ratio", "tig_pcmci_s", "eng_pcmci_s", "pcmci_ratio",
    "tig_pcmci_cpu_s", "eng_pcmci_cpu_s", "cpu_ratio", "tig_est_s",
    "max_dvalue", "max_dp", "max_dconf", "graphs_equal", "eng_peak_mib",
)


# ---------------------------------------------------------------------------- running
def _model(case: Case, ci_test: str) -> PanelPCMCI:
    return PanelPCMCI(tau_max=case.tau_max, method=case.method, cut_off=case.cut_off,
                      ci_test=ci_test)


def _pcmci_runner(model: PanelPCMCI, ci_test: str,
                  log: list[Call] | None = None) -> Callable[[], dict[str, Any]]:
    """A closure running tigramite's algorithm alone, as ``model`` ran it."""
    from tigramite.pcmci import PCMCI

    ti = model._input
    dataframe = ti.dataframe()
    ci_level = 1 - 2 * model.alpha

    def run() -> dict[str, Any]:
        test = make_ci_test(ci_test, ci_level=ci_level, df_loss=model.df_loss_)
        if log is not None:
            record_calls(test, log)
        pcmci = PCMCI(dataframe=dataframe, cond_ind_test=test, verbosity=0)
        if model.method == "pcmci":
            return pcmci.run_pcmci(tau_min=1, tau_max=model.tau_max, pc_alpha=model.pc_alpha,
                                   alpha_level=model.alpha, fdr_method="none")
        return pcmci.run_pcmciplus(tau_min=0, tau_max=model.tau_max, pc_alpha=model.alpha,
                                   fdr_method="none")

    return run


def _max_diff(a: Any, b: Any) -> float:
    """Largest absolute difference; inf if NaN positions or shapes differ."""
    if a is None and b is None:
        return 0.0
    if a is None or b is None:
        return np.inf
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or not np.array_equal(np.isnan(x), np.isnan(y)):
        return np.inf
    finite = ~np.isnan(x)
    return float(np.max(np.abs(x[finite] - y[finite]), initial=0.0))


def _compare_runs(eng: dict[str, Any], tig: dict[str, Any]) -> dict[str, Any]:
    return {"max_dvalue": _max_diff(eng["val_matrix"], tig["val_matrix"]),
            "max_dp": _max_diff(eng["p_matrix"], tig["p_matrix"]),
            "max_dconf": _max_diff(eng.get("conf_matrix"), tig.get("conf_matrix")),
            "graphs_equal": bool(np.array_equal(eng["graph"], tig["graph"]))}


def _compare_fits(eng: PanelPCMCI, tig: PanelPCMCI) -> dict[str, Any]:
    a, b = eng.links_.table, tig.links_.table
    keys = ["source", "target", "lag"]
    same_rows = a[keys].equals(b[keys])
    return {"max_dvalue": _max_diff(a["value"], b["value"]) if same_rows else np.inf,
            "max_dp": _max_diff(a["p_value"], b["p_value"]) if same_rows else np.inf,
            "max_dconf": (max(_max_diff(a["ci_low"], b["ci_low"]),
                              _max_diff(a["ci_high"], b["ci_high"])) if same_rows else np.inf),
            "graphs_equal": bool(same_rows and a["significant"].equals(b["significant"])
                                 and a["directed"].equals(b["directed"]))}


def _merge(*parts: dict[str, Any]) -> dict[str, Any]:
    """Worst case over several comparisons."""
    out = {k: max(p[k] for p in parts) for k in ("max_dvalue", "max_dp", "max_dconf")}
    out["graphs_equal"] = all(p["graphs_equal"] for p in parts if p["graphs_equal"] is not None)
    return out


def _results_of(name: str, out: Any) -> dict[str, list[float]]:
    """Values, p-values and confidence bounds in one call's result, for comparison."""
    found: dict[str, list[float]] = {"max_dvalue": [], "max_dp": [], "max_dconf": []}
    if out is None:
        return found
    if name == "run_test":
        found["max_dvalue"], found["max_dp"] = [float(out[0])], [float(out[1])]
    elif name == "get_confidence":
        found["max_dconf"] = [float(out[0]), float(out[1])]
    else:
        found["max_dvalue"] = [float(out)]
    return found


def estimate_tigramite(model: PanelPCMCI, calls: list[Call], engine_pcmci_s: float,
                       probes: int) -> tuple[float, dict[str, Any], int]:
    """Estimate tigramite's PCMCI time by replaying a sample of the engine's calls.

    Parameters
    ----------
    model : PanelPCMCI
        Fitted model whose tigramite input and df correction are used.
    calls : list
        Every call of an engine PCMCI run (:func:`benchmarks.common.record_calls`).
    engine_pcmci_s : float
        The engine's PCMCI time (stands in for tigramite's own bookkeeping).
    probes : int
        Calls replayed per kind (``run_test``, ``get_confidence``, ...), evenly
        spread over the run.

    Returns
    -------
    estimate : float
        Seconds: ``engine_pcmci_s + sum_kind count_kind * mean tigramite time``.
    diffs : dict
        Largest differences between the replayed tigramite results and the
        engine's recorded ones (``graphs_equal`` is None: no graph was made).
    n_probed : int
        Number of calls replayed.
    """
    test = make_ci_test("parcorr-tigramite", ci_level=1 - 2 * model.alpha,
                        df_loss=model.df_loss_)
    test.set_dataframe(model._input.dataframe())
    estimate, n_probed = engine_pcmci_s, 0
    diffs: dict[str, Any] = {"max_dvalue": 0.0, "max_dp": 0.0, "max_dconf": 0.0}
    for name in sorted({c[0] for c in calls}):
        kind = [c for c in calls if c[0] == name]
        pick = np.unique(np.linspace(0, len(kind) - 1, min(probes, len(kind))).round())
        sample = [kind[int(i)] for i in pick]
        times, results = replay(test, sample)
        estimate += len(kind) * float(np.mean(times))
        n_probed += len(sample)
        for call, got in zip(sample, results, strict=True):
            eng, tig = _results_of(name, call[3]), _results_of(name, got)
            for key in diffs:
                diffs[key] = max(diffs[key], _max_diff(eng[key], tig[key]))
    diffs["graphs_equal"] = None
    return estimate, diffs, n_probed


def _traced_peak_mib(func: Callable[[], Any]) -> float:
    """Peak memory allocated by Python and NumPy while ``func`` runs (tracemalloc)."""
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run_case(case: Case, *, missing: float = 0.1, seed: int = 0, repeats: int = 3,
             probes: int = 16, limit: float = 600.0, fit_limit: float = 60.0,
             trace_memory: bool = False) -> dict[str, Any]:
    """Benchmark one case; return its table row (see :data:`TABLE_COLUMNS`).

    tigramite is not run when its estimated PCMCI time exceeds ``limit``; its
    whole fit is only run when the estimate is at most ``fit_limit`` (otherwise
    the fit time is derived: tigramite's PCMCI time plus the engine fit's
    non-PCMCI time, which is the same code).
    """
    df = make_cohort(case.n_patients, case.n_weeks, case.n_vars, missing=missing,
                     random_state=seed)
    logger.info("%s: %d rows", case, len(df))
    eng_fit_s, _, eng_model = best_time(lambda: _model(case, "parcorr").fit(df), repeats)
    eng_pcmci_s, eng_cpu_s, eng_res = best_time(_pcmci_runner(eng_model, "parcorr"), repeats)
    calls: list[Call] = []
    _pcmci_runner(eng_model, "parcorr", log=calls)()
    n_tests = sum(c[0] == "run_test" for c in calls)
    est_s, probe_diffs, n_probed = estimate_tigramite(eng_model, calls, eng_pcmci_s, probes)
    logger.info("  engine fit %.3f s, PCMCI %.3f s, %d calls (%d run_test); tigramite "
                "estimated %.1f s from %d calls", eng_fit_s, eng_pcmci_s, len(calls), n_tests,
                est_s, n_probed)
    row: dict[str, Any] = {
        "cohort": case.cohort, "tau_max": case.tau_max, "method": case.method,
        "cut_off": case.cut_off, "n_tests": n_tests, "eng_fit_s": eng_fit_s,
        "eng_pcmci_s": eng_pcmci_s, "eng_pcmci_cpu_s": eng_cpu_s, "tig_est_s": est_s,
        "eng_peak_mib": np.nan,
    }
    if est_s > limit:
        row.update(tigramite=f"estimated (> {limit:g} s: not run)", tig_fit_s=np.nan,
                   fit_ratio=np.nan, tig_pcmci_s=est_s, pcmci_ratio=est_s / eng_pcmci_s,
                   tig_pcmci_cpu_s=np.nan, cpu_ratio=np.nan,
                   **probe_diffs)
    else:
        tig_pcmci_s, tig_cpu_s, tig_res = best_time(
            _pcmci_runner(eng_model, "parcorr-tigramite"), 1)
        diffs = [_compare_runs(eng_res, tig_res), probe_diffs]
        if est_s <= fit_limit:
            start = time.perf_counter()
            tig_model = _model(case, "parcorr-tigramite").fit(df)
            tig_fit_s, how = time.perf_counter() - start, "run"
            diffs.append(_compare_fits(eng_model, tig_model))
        else:  # the rest of the fit is the same code for both tests
            tig_fit_s = tig_pcmci_s + (eng_fit_s - eng_pcmci_s)
            how = "run (PCMCI only; fit derived)"
        logger.info("  tigramite fit %.3f s, PCMCI %.3f s", tig_fit_s, tig_pcmci_s)
        row.update(tigramite=how, tig_fit_s=tig_fit_s, fit_ratio=tig_fit_s / eng_fit_s,
                   tig_pcmci_s=tig_pcmci_s, pcmci_ratio=tig_pcmci_s / eng_pcmci_s,
                   tig_pcmci_cpu_s=tig_cpu_s, cpu_ratio=tig_cpu_s / eng_cpu_s,
                   **_merge(*diffs))
    if trace_memory:
        row["eng_peak_mib"] = _traced_peak_mib(lambda: _model(case, "parcorr").fit(df))
    return {k: row[k] for k in TABLE_COLUMNS}


def _warm_up() -> None:
    """Import and exercise both tests once, so no timing pays for imports."""
    df = make_cohort(30, 8, 3, random_state=0)
    for ci_test in ("parcorr", "parcorr-tigramite"):
        _model(Case(30, 8, 3, 1, "pcmciplus"), ci_test).fit(df)


def run_benchmark(cases: Sequence[Case], *, missing: float = 0.1, seed: int = 0,
                  repeats: int = 3, probes: int = 16, limit: float = 600.0,
                  fit_limit: float = 60.0) -> pd.DataFrame:
    """Run every case (the largest also with a memory trace) and return the table."""
    _warm_up()
    largest = max(c.size for c in cases)
    rows = [run_case(c, missing=missing, seed=seed, repeats=repeats, probes=probes, limit=limit,
                     fit_limit=fit_limit, trace_memory=c.size == largest) for c in cases]
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.engine", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small smoke version (seconds)")
    p.add_argument("--missing", type=float, default=0.1, help="share of missing weeks (0.1)")
    p.add_argument("--seed", type=int, default=0, help="cohort seed (0)")
    p.add_argument("--repeats", type=int, default=3, help="engine runs per timing, best kept (3)")
    p.add_argument("--probes", type=int, default=16,
                   help="tigramite calls timed per call kind for the estimate (16)")
    p.add_argument("--limit", type=float, default=600.0,
                   help="skip tigramite when its estimate exceeds this many seconds (600)")
    p.add_argument("--fit-limit", type=float, default=60.0,
                   help="run tigramite's whole fit only below this estimate (60 s)")
    p.add_argument("--out", type=Path, help="CSV path (default results/benchmarks/engine.csv)")
    p.add_argument("--markdown", action="store_true", help="also print a markdown table")
    return p


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    """Run the benchmark from the command line; return the table."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logger.setLevel(logging.INFO)
    cases = QUICK_CASES if args.quick else FULL_CASES
    load = os.getloadavg()
    start = time.perf_counter()
    table = run_benchmark(cases, missing=args.missing, seed=args.seed, repeats=args.repeats,
                          probes=args.probes, limit=args.limit, fit_limit=args.fit_limit)
    out = args.out or RESULTS_DIR / ("engine_quick.csv" if args.quick else "engine.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    print(machine_description())
    print(f"missing weeks {args.missing:g}, seed {args.seed}, engine best of {args.repeats}; "
          f"load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
          f"{time.perf_counter() - start:.0f} s in all")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if args.markdown:
        print(markdown_table(table))
    print(f"peak RSS of this process: {peak_rss_mib():.0f} MiB; table written to {out}")
    return table


if __name__ == "__main__":
    main()
