"""Where the pooled engine's PCMCI time goes, against the one-pass limit.

For one cohort (default 1000 x 13 x 5, tau_max 2, PCMCI) this measures

* ``pcmci``: tigramite's ``run_pcmci`` with :class:`causal.discovery.engine.PooledParCorr`
  (fresh test, so the moments are rebuilt), best of ``--repeats``;
* ``build`` and ``aggregate``: :meth:`LaggedMoments.from_dataframe` and
  :meth:`LaggedMoments.aggregate` once - the single pass over the data;
* ``calls``: every test call the run makes (recorded), replayed on a test whose
  moments are already pooled: the engine's per-call cost including its Python
  wrapper (node checks, caches, tigramite's result bookkeeping);
* ``core``: per distinct test, only selecting the covariance from the pooled
  moments, the partial correlation (Cholesky) and the Student-t p-value;
* ``bookkeeping``: the same PCMCI run with an oracle test that returns the
  recorded results instantly - tigramite's own PCMCI work (loops over links,
  deep copies, sorting, result arrays).

The one-pass limit is ``build + aggregate + n_calls x core``. A cProfile of
the run lists the top functions and the own time per package.

Run ``python -m benchmarks.engine_profile`` (a few seconds); the report is
printed and written to ``results/benchmarks/engine_profile.txt``.
"""

from __future__ import annotations

import cProfile
import inspect
import io
import logging
import pstats
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks.common import (
    RESULTS_DIR,
    Call,
    best_time,
    cohort_parser,
    machine_description,
    make_cohort,
    record_calls,
    replay,
    write_report,
)
from causal import PanelPCMCI
from causal.discovery.citests import make_ci_test
from causal.discovery.engine import (
    LaggedMoments,
    PooledParCorr,
    analytic_pvalue,
    column_index,
    partial_correlation,
)

__all__ = ["main", "profile_engine"]

logger = logging.getLogger(__name__)

_PACKAGES = (("causal/engine", "causal.discovery.engine"), ("tigramite", "tigramite"),
             ("numpy", "numpy (Python code)"), ("scipy", "scipy"),
             ("copy.py", "copy (deepcopy)"), ("~", "C builtins (numpy ufuncs, LAPACK, ...)"))


def _by_package(stats: pstats.Stats) -> dict[str, float]:
    """Own time (tottime) summed per package."""
    out: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        name = next((label for key, label in _PACKAGES if key in filename), "other")
        out[name] = out.get(name, 0.0) + tottime
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def profile_engine(n_patients: int = 1000, n_weeks: int = 13, n_vars: int = 5, tau_max: int = 2,
                   method: str = "pcmci", *, missing: float = 0.1, seed: int = 0,
                   repeats: int = 5) -> str:
    """Measure the engine against the one-pass limit; return the report text."""
    from tigramite.pcmci import PCMCI

    df = make_cohort(n_patients, n_weeks, n_vars, missing=missing, random_state=seed)
    model = PanelPCMCI(tau_max=tau_max, method=method).fit(df)
    dataframe = model._input.dataframe()
    conf = 1 - 2 * model.alpha
    cut = 2 * tau_max

    def new_test(log: list[Call] | None = None) -> Any:
        test = make_ci_test("parcorr", ci_level=conf, df_loss=model.df_loss_)
        return test if log is None else record_calls(test, log)

    def run(test: Any) -> Any:
        pcmci = PCMCI(dataframe=dataframe, cond_ind_test=test, verbosity=0)
        if method == "pcmci":
            return pcmci.run_pcmci(tau_min=1, tau_max=tau_max, pc_alpha=model.pc_alpha,
                                   alpha_level=model.alpha, fdr_method="none")
        return pcmci.run_pcmciplus(tau_min=0, tau_max=tau_max, pc_alpha=model.alpha)

    run(new_test())  # warm-up
    t_pcmci = best_time(lambda: run(new_test()), repeats)[0]
    t_build = best_time(lambda: LaggedMoments.from_dataframe(dataframe, tau_max=0, cut_off=cut),
                        repeats)[0]
    moments = LaggedMoments.from_dataframe(dataframe, tau_max=0, cut_off=cut)
    t_aggregate = best_time(moments.aggregate, repeats)[0]

    calls: list[Call] = []
    run(new_test(calls))
    kinds = {name: sum(c[0] == name for c in calls) for name in sorted({c[0] for c in calls})}

    def replay_all() -> None:
        test = PooledParCorr(moments, df_loss=model.df_loss_, confidence="analytic",
                             conf_lev=conf)
        test.set_dataframe(dataframe)
        test.pooled(cut)  # pooled outside the timing: only per-call work remains
        start = time.perf_counter()
        replay(test, calls)
        timings.append(time.perf_counter() - start)

    timings: list[float] = []
    for _ in range(repeats):
        replay_all()
    t_calls = min(timings)

    class Oracle(PooledParCorr):
        """Answers every call with the recorded result, in the recorded order."""

        def _next(self, name: str) -> Any:
            got, _, _, out = next(self.queue)
            if got != name:
                raise RuntimeError(f"replay out of order: {name} called, {got} recorded")
            return out

        def run_test(self, *args: Any, **kwargs: Any) -> Any:
            return self._next("run_test")

        def get_confidence(self, *args: Any, **kwargs: Any) -> Any:
            return self._next("get_confidence")

    def oracle_run() -> None:
        test = Oracle(confidence="analytic", conf_lev=conf)
        test.queue = iter(calls)
        run(test)

    t_book = best_time(oracle_run, repeats)[0]

    # Numerical core of every distinct run_test: covariance, partial correlation, p-value.
    pooled = moments.aggregate()
    loss = float(model.df_loss_)
    probe = new_test()
    probe.set_dataframe(dataframe)
    signature = inspect.signature(probe.run_test)
    distinct = {}
    for name, args, kwargs, _ in calls:
        if name == "run_test":
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            a = bound.arguments
            xs, ys, zs, _ = probe._prepare(a["X"], a["Y"], a["Z"], a["tau_max"], a["cut_off"])
            cols = np.array([column_index(v, -lag, n_vars) for v, lag in zs + xs + ys])
            distinct[tuple(cols.tolist())] = cols
    col_sets = list(distinct.values())

    def core() -> None:
        pooled._cache.clear()
        for cols in col_sets:
            n, cov, _ = pooled.moments(cols)
            analytic_pvalue(partial_correlation(cov), n - loss, cov.shape[0])

    t_core = best_time(core, repeats)[0] / max(len(col_sets), 1)
    limit = t_build + t_aggregate + len(calls) * t_core

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeats):
        run(new_test())
    prof.disable()
    stream = io.StringIO()
    stats = pstats.Stats(prof, stream=stream)
    stats.sort_stats("tottime").print_stats(15)
    packages = {k: v / repeats for k, v in _by_package(stats).items()}
    total_prof = sum(packages.values())

    in_run = t_pcmci - t_build - t_aggregate - t_book
    lines = [
        f"# Engine profile: {n_patients}x{n_weeks}x{n_vars}, tau_max={tau_max}, {method}, "
        f"missing {missing:g}, seed {seed}",
        machine_description(),
        f"{moments}",
        f"test calls per run: {len(calls)} ({', '.join(f'{k} {v}' for k, v in kinds.items())}); "
        f"{len(col_sets)} distinct run_test column sets",
        "",
        f"PCMCI run with the engine (best of {repeats}):  {t_pcmci * 1e3:8.2f} ms",
        f"  build lagged moments (one pass):            {t_build * 1e3:8.2f} ms",
        f"  aggregate over datasets:                    {t_aggregate * 1e3:8.2f} ms",
        f"  tigramite PCMCI bookkeeping (oracle test):  {t_book * 1e3:8.2f} ms",
        f"  test calls (the rest):                      {in_run * 1e3:8.2f} ms "
        f"({in_run / len(calls) * 1e6:.1f} us per call)",
        f"the {len(calls)} calls replayed alone, moments pooled: {t_calls * 1e3:.2f} ms "
        f"({t_calls / len(calls) * 1e6:.1f} us per call)",
        f"numerical core per test (select + Cholesky + t): {t_core * 1e6:.1f} us",
        f"one-pass limit = build + aggregate + calls x core = {limit * 1e3:.2f} ms; "
        f"the run takes {t_pcmci / limit:.1f}x that",
        "",
        f"own time per package, mean of {repeats} profiled runs ({total_prof * 1e3:.1f} ms "
        "per run under cProfile):",
        *(f"  {name:<18} {sec * 1e3:8.2f} ms  {sec / total_prof:6.1%}"
          for name, sec in packages.items()),
        "",
        f"top functions by own time ({repeats} runs):",
        *[line for line in stream.getvalue().splitlines() if line.strip()][-17:],
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    """Run the profile from the command line; return the report."""
    p = cohort_parser("engine_profile", __doc__, patients=1000, weeks=13, n_vars=5)
    p.add_argument("--tau-max", type=int, default=2)
    p.add_argument("--method", choices=("pcmci", "pcmciplus"), default="pcmci")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    report = profile_engine(args.patients, args.weeks, args.vars, args.tau_max, args.method,
                            missing=args.missing, seed=args.seed, repeats=args.repeats)
    out = RESULTS_DIR / (f"engine_profile_{args.patients}x{args.weeks}x{args.vars}"
                         f"_tau{args.tau_max}_{args.method}.txt")
    write_report(report, out)
    return report


if __name__ == "__main__":
    main()
