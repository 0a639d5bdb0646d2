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

Run ``python -m experiments.bias --n-jobs 2`` (full) or ``--quick``.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from causal import PanelPCMCI
from causal.effects import jackknife_effects
from experiments.common import (
    ConfigError,
    RunContext,
    check_int,
    check_ints,
    check_names,
    check_prob,
    cohort_seeds,
    map_cohorts,
    run_experiment,
    run_study,
    save_figure,
    settings_from_mapping,
    true_values,
)
from features.panel import Panel
from features.scenarios import SCENARIO_NAMES, Instrument, Scenario, get_scenario
from features.simulate import simulate_cohort
from features.transforms import PREPS

__all__ = [
    "BIAS_COLUMNS",
    "COHORT_COLUMNS",
    "CONFIG_KEYS",
    "INSTRUMENTS",
    "BiasConfig",
    "BiasResult",
    "CohortTask",
    "analyse_cohort",
    "latent_scenario",
    "main",
    "plot_bias",
    "run",
    "run_bias",
    "summarize_bias",
]

logger = logging.getLogger(__name__)

NAME = "bias"

#: Measurement settings: ``latent`` (continuous instruments) or ``observed`` (the preset's).
INSTRUMENTS = ("latent", "observed")

#: Keys of ``configs/bias.toml``.
CONFIG_KEYS = ("seed", "n_cohorts", "n_patients", "weeks", "scenario", "effect_scale",
               "instruments", "preps", "alpha")

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
class BiasConfig:
    """Settings of the bias study: the keys of ``configs/bias.toml`` except ``seed``.

    Raises
    ------
    ConfigError
        Naming the setting and value that are wrong.
    """

    n_cohorts: int = 200
    n_patients: int = 226
    weeks: tuple[int, ...] = (8, 13, 26)
    scenario: str = "paper"
    effect_scale: float = 1.0
    instruments: tuple[str, ...] = INSTRUMENTS
    preps: tuple[str, ...] = ("detrend",)
    alpha: float = 0.05

    def __post_init__(self) -> None:
        setter = object.__setattr__
        check_int("n_cohorts", self.n_cohorts, 2)
        check_int("n_patients", self.n_patients, 2)
        setter(self, "weeks", check_ints("weeks", self.weeks, 4))
        if self.scenario not in SCENARIO_NAMES:
            raise ConfigError(f"scenario must be one of {list(SCENARIO_NAMES)}, got "
                              f"{self.scenario!r}")
        scale = self.effect_scale
        if isinstance(scale, bool) or not isinstance(scale, int | float) or \
                not np.isfinite(scale):
            raise ConfigError(f"effect_scale must be a finite number, got {scale!r}")
        setter(self, "effect_scale", float(scale))
        setter(self, "instruments", check_names("instruments", self.instruments, INSTRUMENTS))
        setter(self, "preps", check_names("preps", self.preps, PREPS))
        setter(self, "alpha", check_prob("alpha", self.alpha, zero_ok=False, one_ok=False))

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> BiasConfig:
        """Build from a loaded config; missing keys take the defaults, ``seed`` is ignored."""
        return settings_from_mapping(cls, config, CONFIG_KEYS, NAME)


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
@dataclass(frozen=True)
class CohortTask:
    """One seeded cohort, simulated at every number of weeks and instruments setting."""

    cohort: int
    seed: int
    config: BiasConfig


def analyse_cohort(task: CohortTask) -> pd.DataFrame:
    """Simulate one cohort per cell and return raw and jackknife estimates of every lag-1 link.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COHORT_COLUMNS`; one row per instruments x prep x
        weeks x link (``k * k`` links for ``k`` variables).
    """
    cfg = task.config
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

    Parameters
    ----------
    cohorts : pandas.DataFrame
        Columns :data:`COHORT_COLUMNS` (the output of :func:`analyse_cohort`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BIAS_COLUMNS`.
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


@dataclass(frozen=True)
class BiasResult:
    """Per-cohort estimates and their summary."""

    config: BiasConfig
    seed: int
    cohorts: pd.DataFrame
    summary: pd.DataFrame

    def __str__(self) -> str:
        c = self.config
        lines = [f"Bias study: {c.n_cohorts} cohorts of {c.n_patients} patients, scenario "
                 f"{c.scenario}, weeks {list(c.weeks)}, seed {self.seed} "
                 "(bias +- Monte Carlo SE; RMSE)"]
        wide = self.summary.pivot_table(
            index=["instruments", "prep", "n_weeks", "source", "target", "true_value"],
            columns="estimator", values=["bias", "bias_mcse", "rmse"], sort=False)
        for idx, r in wide.iterrows():
            instruments, prep, weeks, source, target, truth = idx
            lines.append(
                f"  {instruments:<8} {prep:<7} T={weeks:<3} {source}->{target} ({truth:+.2f}): "
                f"raw {r['bias', 'raw']:+.3f} +- {r['bias_mcse', 'raw']:.3f} "
                f"(RMSE {r['rmse', 'raw']:.3f}), jackknife {r['bias', 'jackknife']:+.3f} +- "
                f"{r['bias_mcse', 'jackknife']:.3f} (RMSE {r['rmse', 'jackknife']:.3f})")
        return "\n".join(lines)


def run_bias(config: BiasConfig | Mapping[str, Any], seed: int, *,
             n_jobs: int = 1,
             scheduler: str | None = None, progress: bool | None = None) -> BiasResult:
    """Run the study: simulate, estimate every link raw and jackknifed, summarize.

    Parameters
    ----------
    config : BiasConfig or mapping
        Settings (a mapping is validated by :meth:`BiasConfig.from_mapping`).
    seed : int
        Master seed; cohort ``i`` uses ``cohort_seeds(seed, n_cohorts)[i]`` in
        every cell (the cells are paired).
    n_jobs : int
        Worker processes; results do not depend on it.
    scheduler : str, optional
        Dask scheduler address to run the cohorts on (same results).
    progress : bool or None
        Progress bar on standard error (None: only on a terminal).
    """
    if not isinstance(config, BiasConfig):
        config = BiasConfig.from_mapping(config)
    tasks = [CohortTask(i, s, config) for i, s in enumerate(cohort_seeds(seed, config.n_cohorts))]
    cohorts = pd.concat(map_cohorts(analyse_cohort, tasks, n_jobs, scheduler=scheduler,
                                    progress=progress), ignore_index=True)
    result = BiasResult(config=config, seed=seed, cohorts=cohorts,
                        summary=summarize_bias(cohorts))
    logger.info("%s", result)
    return result


# ----------------------------------------------------------------- figure
def plot_bias(summary: pd.DataFrame, path: str | Path) -> Path:
    """Draw the mean +- SD of both estimators against the weeks, one panel per link.

    Uses the first ``instruments`` and ``prep`` value in ``summary``. Panels
    form a grid: row = source (at t-1), column = target (at t), so the
    diagonal holds the autoregressive effects. The dashed line is the truth.

    Returns
    -------
    Path
        The written image (format from the suffix of ``path``).
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
def run(context: RunContext) -> list[Path]:
    """Run the study for :func:`experiments.common.run_experiment` and write the outputs."""
    result, paths = run_study(context, run_bias)
    return [*paths, plot_bias(result.summary, context.out_dir / "bias.png")]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m experiments.bias [--quick] [--n-jobs N] ...``."""
    return run_experiment(NAME, __doc__.splitlines()[0], run, argv, allowed=CONFIG_KEYS,
                          required=CONFIG_KEYS)


if __name__ == "__main__":  # pragma: no cover
    # Run the importable module (not __main__) so that logging names and the
    # functions sent to worker processes are ``experiments.bias``.
    from experiments.bias import main as _main

    sys.exit(_main())
