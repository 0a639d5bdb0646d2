"""Small-T bias of within-person lagged effects, and the half-panel jackknife correction.

Within-person estimates from short panels are biased: removing each
patient's mean and trend, estimated from the same 8-13 weeks, correlates the
lagged predictors with the errors (Nickell 1981). This study measures that
bias for the package's effect estimate (:func:`causal.effects.lagged_effects`:
the pooled within-person VAR(1) on the detrended panel, in within-person SD
units, the scale of the simulator's coefficients) and for its half-panel
jackknife correction (:func:`causal.effects.jackknife_effects`; Dhaene &
Jochmans 2015), against the true coefficients of :mod:`features.simulate`.

For every cohort (``n_cohorts`` seeded cohorts of ``n_patients``) and every
number of weeks in ``weeks``, the scenario is simulated once per
``instruments`` setting - ``"latent"``: continuous instruments with the same
trends and within-person SDs (no rounding or clipping, so only the small-T
bias is measured); ``"observed"``: the paper's rounded and clipped instruments
(same seed, hence the same latent process) - and analysed per ``prep``. Every
lag-1 link (autoregressive and cross-lagged) is estimated, whether or not
PCMCI selects it: effect sizes of selected links only would add selection
bias. The PCMCI test of each link (``PanelPCMCI`` with the same ``prep``,
other settings default) is recorded beside it.

Outputs (``--out``, default ``results/bias``):

* ``bias.csv`` - one row per instruments x prep x weeks x link x estimator
  (``raw`` or ``jackknife``), columns :data:`BIAS_COLUMNS`: mean, bias with
  its Monte Carlo SE (``sd / sqrt(n)``), SD over cohorts, RMSE, and, for the
  link, PCMCI's mean MCI partial correlation and significance rate.
* ``bias_cohorts.csv`` - every estimate of every cohort (:data:`COHORT_COLUMNS`).
* ``bias.png`` - mean +- SD of both estimators against the number of weeks,
  one panel per link, for the first instruments and prep setting.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from causal import PanelPCMCI
from causal.effects import jackknife_effects
from experiments.harness.cohorts import CohortTask, cohort_tasks, true_values
from experiments.harness.config import (
    Settings,
    choice,
    choices,
    integer,
    integers,
    probability,
    real,
)
from experiments.harness.outputs import format_rows, save_figure
from experiments.harness.study import RunOptions, Study, StudyResult, cohort_result, summary_figure
from features.panel import Panel
from features.scenarios import SCENARIO_NAMES, Instrument, Scenario, get_scenario
from features.simulate import simulate_cohort
from features.transforms import PREPS

__all__ = [
    "BIAS_COLUMNS",
    "COHORT_COLUMNS",
    "CONFIG_KEYS",
    "INSTRUMENTS",
    "STUDY",
    "BiasConfig",
    "analyse_cohort",
    "latent_scenario",
    "main",
    "plot_bias",
    "run_bias",
    "summarize_bias",
]

NAME = "bias"

#: Measurement settings: ``latent`` (continuous instruments) or ``observed`` (the preset's).
INSTRUMENTS = ("latent", "observed")

#: Columns of ``bias.csv``.
BIAS_COLUMNS = ("instruments", "prep", "n_weeks", "source", "target", "lag", "kind",
                "true_value", "estimator", "n_cohorts", "mean", "bias", "bias_mcse", "sd",
                "rmse", "mean_mci", "significant_rate")

#: Columns of ``bias_cohorts.csv``.
COHORT_COLUMNS = ("instruments", "prep", "n_weeks", "cohort", "seed", "source", "target", "lag",
                  "true_value", "estimate", "first_half", "second_half", "corrected",
                  "mci_value", "significant")

_ESTIMATORS = {"raw": "estimate", "jackknife": "corrected"}


# ------------------------------------------------------------------- config
@dataclass(frozen=True)
class BiasConfig(Settings):
    """The keys of ``configs/bias.toml`` but ``seed``, with their full-run defaults."""

    n_cohorts: int = integer(200, minimum=2)
    n_patients: int = integer(226, minimum=2)
    weeks: tuple[int, ...] = integers((8, 13, 26), minimum=4)
    scenario: str = choice("paper", SCENARIO_NAMES)
    effect_scale: float = real(1.0)
    instruments: tuple[str, ...] = choices(INSTRUMENTS, INSTRUMENTS)
    preps: tuple[str, ...] = choices(("detrend",), PREPS)
    alpha: float = probability(0.05)


#: Keys of ``configs/bias.toml``.
CONFIG_KEYS = BiasConfig.keys()


def latent_scenario(scenario: Scenario) -> Scenario:
    """Return ``scenario`` with continuous instruments (same trends and SDs, no rounding/clipping).

    Simulated with the same seed, it gives the same latent process as
    ``scenario`` before measurement.

    Examples
    --------
    >>> s = latent_scenario(get_scenario("paper"))
    >>> s.instruments[0].resolution is None and s.instruments[0].low is None
    True
    """
    inst = tuple(Instrument(i.intercept_mean, i.intercept_sd, i.slope_mean, i.slope_sd,
                            i.within_sd) for i in scenario.instruments)
    return dataclasses.replace(scenario, instruments=inst)


# ------------------------------------------------------------- one cohort
def analyse_cohort(task: CohortTask) -> pd.DataFrame:
    """Simulate one cohort per cell and return raw and jackknife estimates of every lag-1 link.

    One row per instruments x prep x weeks x link (``k * k`` links for ``k``
    variables), with the columns :data:`COHORT_COLUMNS`.
    """
    cfg: BiasConfig = task.config
    base = get_scenario(cfg.scenario, cfg.effect_scale)
    names = base.variables
    frames = []
    for instruments in cfg.instruments:
        scenario = latent_scenario(base) if instruments == "latent" else base
        for n_weeks in cfg.weeks:
            df = simulate_cohort(scenario, cfg.n_patients, n_weeks, random_state=task.seed)
            panel = Panel.from_frame(df, variables=list(names), tau_max=None)
            for prep in cfg.preps:
                table = jackknife_effects(panel, tau_max=1, prep=prep).table
                model = PanelPCMCI(alpha=cfg.alpha, prep=prep).fit(panel)
                tests = model.links_.table.set_index(["source", "target", "lag"])
                keys = pd.MultiIndex.from_frame(table[["source", "target", "lag"]])
                table = table.assign(
                    instruments=instruments, prep=prep, n_weeks=n_weeks, cohort=task.cohort,
                    seed=task.seed,
                    true_value=true_values(base, table),
                    mci_value=tests["value"].reindex(keys).to_numpy(),
                    significant=tests["significant"].reindex(keys).to_numpy(dtype=bool))
                frames.append(table[list(COHORT_COLUMNS)])
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- summary
def summarize_bias(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Bias, Monte Carlo SE, SD and RMSE of the raw and jackknife estimates per cell and link.

    ``cohorts`` is the cohort table (:data:`COHORT_COLUMNS`, the output of
    :func:`analyse_cohort`); returns columns :data:`BIAS_COLUMNS`.
    """
    rows = []
    keys = ["instruments", "prep", "n_weeks", "source", "target", "lag"]
    for key, part in cohorts.groupby(keys, sort=False):
        cell = dict(zip(keys, key, strict=True))
        truth = float(part["true_value"].iloc[0])
        for estimator, column in _ESTIMATORS.items():
            values = part[column].to_numpy(dtype=float)
            n = len(values)
            sd = float(np.std(values, ddof=1)) if n > 1 else np.nan
            rows.append({
                **cell,
                "kind": "autoregressive" if cell["source"] == cell["target"] else "cross-lagged",
                "true_value": truth, "estimator": estimator, "n_cohorts": n,
                "mean": float(values.mean()), "bias": float(values.mean() - truth),
                "bias_mcse": sd / np.sqrt(n), "sd": sd,
                "rmse": float(np.sqrt(np.mean((values - truth) ** 2))),
                "mean_mci": float(part["mci_value"].mean()),
                "significant_rate": float(part["significant"].mean()),
            })
    return pd.DataFrame(rows, columns=list(BIAS_COLUMNS))


def _describe(config: BiasConfig, seed: int, summary: pd.DataFrame) -> tuple[str, ...]:
    wide = summary.pivot_table(
        index=["instruments", "prep", "n_weeks", "source", "target", "true_value"],
        columns="estimator", values=["bias", "bias_mcse", "rmse"], sort=False)
    wide.columns = [f"{value}_{estimator}" for value, estimator in wide.columns]
    return (f"Bias study: {config.n_cohorts} cohorts of {config.n_patients} patients, "
            f"scenario {config.scenario}, weeks {list(config.weeks)}, seed {seed} "
            "(bias +- Monte Carlo SE; RMSE)",
            *format_rows(wide.reset_index(),
                         "  {instruments:<8} {prep:<7} T={n_weeks:<3} {source}->{target} "
                         "({true_value:+.2f}): raw {bias_raw:+.3f} +- {bias_mcse_raw:.3f} "
                         "(RMSE {rmse_raw:.3f}), jackknife {bias_jackknife:+.3f} +- "
                         "{bias_mcse_jackknife:.3f} (RMSE {rmse_jackknife:.3f})"))


def _compute(config: BiasConfig, seed: int, options: RunOptions) -> StudyResult:
    """Simulate, estimate every link raw and jackknifed, summarize.

    Cohort ``i`` uses ``spawn_seeds(seed, n_cohorts, stream=(0,))[i]`` in
    every cell (the cells are paired).
    """
    tables = options.map(analyse_cohort, cohort_tasks(config, seed))
    return cohort_result(NAME, config, seed, pd.concat(tables, ignore_index=True),
                         summarize_bias, _describe)


# ----------------------------------------------------------------- figure
def plot_bias(summary: pd.DataFrame, path: str | Path) -> Path:
    """Draw the mean +- SD of both estimators against the weeks, one panel per link.

    Uses the first ``instruments`` and ``prep`` value in ``summary``. Panels
    form a grid: row = source (at t-1), column = target (at t), so the
    diagonal holds the autoregressive effects. The dashed line is the truth.
    Returns the written image (format from the suffix of ``path``).
    """
    instruments = summary["instruments"].iloc[0]
    prep = summary["prep"].iloc[0]
    s = summary[(summary["instruments"] == instruments) & (summary["prep"] == prep)]
    names = list(pd.unique(s["target"]))
    fig = Figure(figsize=(3.2 * len(names), 2.8 * len(names) + 0.6), layout="constrained")
    axes = fig.subplots(len(names), len(names), squeeze=False)
    styles = {"raw": ("o", "#d62728", -0.6), "jackknife": ("s", "#1f77b4", 0.6)}
    for i, source in enumerate(names):
        for j, target in enumerate(names):
            ax = axes[i][j]
            link = s[(s["source"] == source) & (s["target"] == target)]
            for estimator, (marker, color, shift) in styles.items():
                part = link[link["estimator"] == estimator].sort_values("n_weeks")
                ax.errorbar(part["n_weeks"] + shift, part["mean"], yerr=part["sd"],
                            marker=marker, color=color, capsize=3, linewidth=1,
                            label=f"{estimator} (mean +- SD)")
            ax.axhline(float(link["true_value"].iloc[0]), color="black", linestyle="--",
                       linewidth=0.9, label="truth")
            ax.axhline(0, color="grey", linewidth=0.5)
            ax.set_title(f"{source}(t-1) -> {target}(t)", fontsize=9)
            ax.set_xticks(sorted(link["n_weeks"].unique()))
            ax.grid(alpha=0.3)
            if i == len(names) - 1:
                ax.set_xlabel("weeks per patient")
            if j == 0:
                ax.set_ylabel("effect (within-person SD units)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, frameon=False)
    fig.suptitle(f"Small-T bias of within-person lagged effects ({instruments} instruments, "
                 f"prep={prep}, {int(s['n_cohorts'].iloc[0])} cohorts)")
    return save_figure(fig, path)


# -------------------------------------------------------------------- main
#: The study: ``STUDY.run(config, seed, n_jobs=...)`` and ``STUDY.main(argv)``.
STUDY = Study(NAME, __doc__, BiasConfig, _compute, summary_figure(plot_bias), complete=True)
run_bias, main = STUDY.run, STUDY.main


if __name__ == "__main__":  # pragma: no cover
    STUDY.run_script()
