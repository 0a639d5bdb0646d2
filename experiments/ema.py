"""EMA designs: null rate of lagged cross-edges and power under a shared time-of-day rhythm.

Every cohort is simulated by :func:`features.simulate.simulate_ema`: persons
answer ``n_beeps`` beeps a day for ``n_days`` days, miss each beep with
probability ``missing``, and their measures share a time-of-day rhythm
(``amplitudes``, in within-person SD units) and a slow trend over days
(``day_trend``). Two truths:

* ``null`` - no cross-lagged effect (AR 0.3, innovation correlation 0.3);
* ``effects`` - ``worry -> sad`` ``+effect`` and ``cheerful -> worry``
  ``-effect`` (within-person SD units), the other four cross-lagged pairs 0.

Each cohort is analysed by :class:`~causal.discovery.estimator.PanelPCMCI`
(``tau_max=1``, alpha ``alpha``, no FDR) in each of ``analyses``:

* ``default`` - ``day_col``/``beep_col`` given, every other setting default:
  prep ``auto`` = ``diurnal`` (per-person beep-of-day means and a trend over
  study time, their degrees of freedom subtracted);
* ``detrend`` - ``day_col``/``beep_col`` with ``prep="detrend"`` (a line over
  study time only; the rhythm stays);
* ``running-index`` - the best usage before day/beep support: time is the
  running beep index ``(day - 1) * n_beeps + beep``, each day a segment,
  ``prep="detrend"``.

Cohort ``i`` of amplitude ``a`` and truth ``s`` uses
``spawn_seeds(seed, n_cohorts, stream=(a_index, s_index))[i]``; all analyses
see the same cohorts.

Measures, per amplitude x truth x analysis, with Wilson 95% intervals:
``null_rate`` (significant / tested lagged cross-edges without an effect) and,
for ``effects``, ``power`` (significant true edges with the right sign).
``exceeds_target`` flags null rates whose Wilson interval lies entirely above
``target`` (0.06, issue 10).

Outputs (``--out``, default ``results/ema``): ``ema.csv`` (:data:`EMA_COLUMNS`),
``ema_cohorts.csv`` (every lagged cross-edge test: estimate, p-value, truth)
and ``ema.png`` (null rate and power per analysis).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from causal import PanelPCMCI
from experiments.harness.config import Settings, choices, integer, numbers, probability, real
from experiments.harness.outputs import format_rows, rate_bars, rate_row, save_figure
from experiments.harness.study import RunOptions, Study, StudyResult, cohort_result
from features.checks import spawn_seeds
from features.scenarios import Scenario
from features.simulate import simulate_ema

__all__ = [
    "ANALYSES",
    "COHORT_COLUMNS",
    "EMA_COLUMNS",
    "STUDY",
    "TRUTHS",
    "EmaConfig",
    "EmaTask",
    "analyse_cohort",
    "ema_scenario",
    "main",
    "run_ema",
    "summarize_ema",
]

NAME = "ema"

#: Analyses of every cohort (see the module docstring).
ANALYSES = ("default", "detrend", "running-index")
#: Simulated truths.
TRUTHS = ("null", "effects")
#: Items of the simulated cohorts.
ITEMS = ("cheerful", "worry", "sad")

#: Columns of ``ema.csv``.
EMA_COLUMNS = ("amplitude", "truth", "analysis", "measure", "k", "n", "rate", "ci_low",
               "ci_high", "exceeds_target", "mean_value", "sd_value")
#: Columns of ``ema_cohorts.csv``.
COHORT_COLUMNS = ("amplitude", "truth", "cohort", "seed", "analysis", "source", "target",
                  "value", "p_value", "significant", "true_value", "df_loss", "n_samples")


# ------------------------------------------------------------------- config
@dataclass(frozen=True)
class EmaConfig(Settings):
    """The keys of ``configs/ema.toml`` but ``seed``, with their full-run defaults."""

    n_cohorts: int = integer(200, minimum=1)
    n_persons: int = integer(80, minimum=2)
    n_days: int = integer(14, minimum=1)
    n_beeps: int = integer(5, minimum=3)
    missing: float = probability(0.2, zero_ok=True)
    day_trend: float = real(0.05, low=0)
    amplitudes: tuple[float, ...] = numbers((0.3, 0.6), low=0)
    effect: float = real(0.15, low=0, high=0.5)
    truths: tuple[str, ...] = choices(TRUTHS, TRUTHS)
    analyses: tuple[str, ...] = choices(ANALYSES, ANALYSES)
    alpha: float = probability(0.05)
    target: float = probability(0.06)


# ------------------------------------------------------------- one cohort
@dataclass(frozen=True)
class EmaTask:
    """One seeded cohort: settings, amplitude, truth, index and seed."""

    config: EmaConfig
    amplitude: float
    truth: str
    cohort: int
    seed: int


def ema_scenario(truth: str, effect: float = 0.15) -> Scenario:
    """Return the simulated truth: AR 0.3 items, and for ``"effects"`` two cross effects.

    >>> sorted(ema_scenario("effects").true_edges())
    [('cheerful', 'worry', 1), ('worry', 'sad', 1)]
    >>> ema_scenario("null").true_edges()
    set()
    """
    cross = (() if truth == "null"
             else (("worry", "sad", float(effect)), ("cheerful", "worry", -float(effect))))
    return Scenario(f"ema-{truth}", ITEMS, (0.3, 0.3, 0.3), cross, residual_corr=0.3)


def _tasks(config: EmaConfig, seed: int) -> list[EmaTask]:
    return [EmaTask(config, amp, truth, i, s)
            for a, amp in enumerate(config.amplitudes)
            for truth in config.truths
            for i, s in enumerate(spawn_seeds(seed, config.n_cohorts,
                                              stream=(a, TRUTHS.index(truth))))]


def _fit(df: pd.DataFrame, analysis: str, alpha: float, n_beeps: int) -> PanelPCMCI:
    model = PanelPCMCI(tau_max=1, alpha=alpha, prep="auto" if analysis == "default"
                       else "detrend")
    if analysis == "running-index":
        frame = df.assign(t=(df["day"] - 1) * n_beeps + df["beep"])
        return model.fit(frame, id_col="person", time_col="t", segments=["day"],
                         variables=list(ITEMS))
    return model.fit(df, id_col="person", day_col="day", beep_col="beep",
                     variables=list(ITEMS))


def analyse_cohort(task: EmaTask) -> pd.DataFrame:
    """Simulate one EMA cohort; return its lagged cross-edge tests under every analysis.

    The columns are :data:`COHORT_COLUMNS`.
    """
    cfg = task.config
    scenario = ema_scenario(task.truth, cfg.effect)
    df = simulate_ema(scenario, cfg.n_persons, cfg.n_days, cfg.n_beeps, missing=cfg.missing,
                      diurnal_amplitude=task.amplitude, day_trend=cfg.day_trend,
                      random_state=task.seed)
    truth = {(c, e): coef for c, e, _, coef in scenario.truth().itertuples(index=False)}
    frames = []
    for analysis in cfg.analyses:
        model = _fit(df, analysis, cfg.alpha, cfg.n_beeps)
        t = model.links_.table
        cross = t[(t["lag"] == 1) & (t["source"] != t["target"])]
        cross = cross[["source", "target", "value", "p_value", "significant", "n_samples"]].copy()
        cross.insert(0, "analysis", analysis)
        cross["true_value"] = [truth[(s, e)] for s, e in zip(cross["source"], cross["target"],
                                                              strict=True)]
        cross["df_loss"] = int(model.df_loss_)
        frames.append(cross)
    out = pd.concat(frames, ignore_index=True)
    # uint64 seeds (spawn_seeds) stay exact integers in the CSV (mixed with int64 they'd be floats)
    out = out.assign(amplitude=task.amplitude, truth=task.truth, cohort=task.cohort,
                     seed=np.uint64(task.seed))
    return out[list(COHORT_COLUMNS)]


# ---------------------------------------------------------------- summary
def summarize_ema(cohorts: pd.DataFrame, target: float = 0.06) -> pd.DataFrame:
    """Turn the cohort table into null rates and power with Wilson intervals.

    Parameters
    ----------
    cohorts : pandas.DataFrame
        Columns :data:`COHORT_COLUMNS` (the output of :func:`analyse_cohort`).
    target : float
        Null rates whose Wilson interval lies above it are flagged.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EMA_COLUMNS`: per amplitude, truth and analysis, the
        ``null_rate`` over edges without an effect and (if any) the ``power``
        over true edges (significant with the sign of the effect).

    Examples
    --------
    >>> c = pd.DataFrame({"amplitude": 0.6, "truth": "effects", "analysis": "default",
    ...                   "value": [0.1, -0.01, 0.02], "significant": [True, False, True],
    ...                   "true_value": [0.15, 0.0, 0.0]})
    >>> summarize_ema(c)[["measure", "k", "n"]].to_numpy().tolist()
    [['null_rate', 1, 2], ['power', 1, 1]]
    """
    rows: list[dict[str, Any]] = []
    for (amp, truth, analysis), part in cohorts.groupby(["amplitude", "truth", "analysis"],
                                                        sort=False):
        null = part[part["true_value"] == 0]
        real = part[part["true_value"] != 0]
        measures = [("null_rate", null, null["significant"].astype(bool))]
        if len(real):
            right = real["significant"].astype(bool) & (np.sign(real["value"])
                                                        == np.sign(real["true_value"]))
            measures.append(("power", real, right))
        for measure, rows_of, hit in measures:
            rate = rate_row(int(hit.sum()), len(rows_of), rows_of["value"])
            rows.append({"amplitude": amp, "truth": truth, "analysis": analysis,
                         "measure": measure, **rate,
                         "exceeds_target": bool(measure == "null_rate"
                                                and rate["ci_low"] > target)})
    return pd.DataFrame(rows, columns=list(EMA_COLUMNS))


def _describe(config: EmaConfig, seed: int, summary: pd.DataFrame) -> tuple[str, ...]:
    s = summary.assign(flag=np.where(summary["exceeds_target"], "  ABOVE TARGET", ""))
    return (f"EMA designs: {config.n_cohorts} cohorts per amplitude and truth of "
            f"{config.n_persons} persons x {config.n_days} days x {config.n_beeps} beeps "
            f"({config.missing:.0%} missed), seed {seed}",
            *format_rows(s, "  amp {amplitude:<4g} {truth:<8} {analysis:<14} {measure:<10} "
                            "{rate:.3f} [{ci_low:.3f}, {ci_high:.3f}]{flag}"))


def _compute(config: EmaConfig, seed: int, options: RunOptions) -> StudyResult:
    tables = options.map(analyse_cohort, _tasks(config, seed))
    return cohort_result(NAME, config, seed, pd.concat(tables, ignore_index=True),
                         lambda c: summarize_ema(c, config.target), _describe)


# ------------------------------------------------------------------ figure
def _figures(result: StudyResult, out: Path) -> list[Path]:
    c: EmaConfig = result.config
    s = result.summary
    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = fig.subplots(1, 2)
    colours = {"default": "#1a9850", "detrend": "#fdae61", "running-index": "#d73027"}
    for ax, measure, title in ((axes[0], "null_rate", "null cohorts: lagged cross-edges"),
                               (axes[1], "power", f"true edges (|effect| {c.effect:g})")):
        truth = "null" if measure == "null_rate" else "effects"
        part = s[(s["measure"] == measure) & (s["truth"] == truth)]
        amps = sorted(part["amplitude"].unique())
        x = np.arange(len(amps), dtype=float)
        for slot, analysis in enumerate(c.analyses):
            rows = part[part["analysis"] == analysis].set_index("amplitude").reindex(amps)
            style = {"label": analysis, "color": colours.get(analysis), "error_kw": {"capsize": 3}}
            if measure == "null_rate":  # with the dashed nominal-alpha line
                rate_bars(ax, x, rows, slot=slot, n_slots=len(c.analyses), alpha=c.alpha,
                          **style)
                continue
            rate = rows["rate"].to_numpy(dtype=float)
            err = np.vstack([rate - rows["ci_low"].to_numpy(dtype=float),
                             rows["ci_high"].to_numpy(dtype=float) - rate])
            width = 0.8 / len(c.analyses)
            ax.bar(x - 0.4 + width * (slot + 0.5), rate, width, yerr=err, **style)
        ax.set_xticks(x, [f"rhythm {a:g} SD" for a in amps])
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("share significant (Wilson 95%)")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(f"EMA cohorts: {c.n_persons} persons x {c.n_days} days x {c.n_beeps} beeps, "
                 f"{c.missing:.0%} missed, {c.n_cohorts} per bar", fontsize=10)
    return [save_figure(fig, out / "ema.png")]


#: The study: ``STUDY.run(config, seed, n_jobs=...)`` and ``STUDY.main(argv)``.
STUDY = Study(NAME, __doc__, EmaConfig, _compute, _figures)
run_ema, main = STUDY.run, STUDY.main


if __name__ == "__main__":  # pragma: no cover
    STUDY.run_script()
