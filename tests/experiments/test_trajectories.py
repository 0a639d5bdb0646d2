from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.harness.config import ConfigError
from experiments.trajectories import (
    TrajectoriesConfig,
    TrajectoryTask,
    analyse_cohort,
    summarize_trajectories,
)
from features.checks import spawn_seeds


def test_quick_run_counts_every_cell(quick):
    cfg, summary, cohorts = quick.cfg, quick.result.summary, quick.result.cohorts
    cells = len(cfg["scenarios"]) * len(cfg["trajectories"]) * len(cfg["ar_sds"])
    # 6 cross-lagged tests per cohort and trend model
    assert len(cohorts) == cells * cfg["n_cohorts"] * len(cfg["preps"]) * 6
    assert set(summary["measure"]) == {"null_rate", "power", "ordering", "misfit_warning"}
    # diagnostics ran on the first `diagnostics` null cohorts, default prep only
    diagnosed = cohorts.dropna(subset=["misfit"])
    assert set(diagnosed["prep"]) == {cfg["preps"][0]} and set(diagnosed["scenario"]) == {"null"}
    assert diagnosed["cohort"].max() == cfg["diagnostics"] - 1
    # the df charged: the trend model's parameters per patient, plus one per time mean
    # (every week is observed in at least 5 patients) unless "+notime"
    charge = cohorts.groupby("prep")["df_loss"].max().to_dict()
    assert charge["detrend"] == 2 * cfg["n_patients"] + cfg["n_weeks"]
    assert charge["detrend+notime+debias"] == 2 * cfg["n_patients"]
    assert charge["changepoint"] == 4 * cfg["n_patients"] + cfg["n_weeks"]


def test_summary_counts():
    rows = []
    for cohort in range(4):
        for (s, t, truth) in (("a", "b", 0.0), ("b", "a", 0.1)):
            rows.append({"scenario": "paper", "trajectory": "linear", "ar_sd": 0.0,
                         "prep": "detrend", "cohort": cohort, "seed": cohort, "source": s,
                         "target": t, "truth": truth, "value": 0.05 if cohort else -0.05,
                         "effect": np.nan, "p_value": 0.01, "significant": cohort < 3,
                         "ordering": cohort == 0, "df_loss": 4.0,
                         "flagged_share": 0.1 * cohort if cohort < 2 else np.nan,
                         "misfit": float(cohort == 1) if cohort < 2 else np.nan})
    summary = summarize_trajectories(pd.DataFrame(rows))
    get = summary.set_index(["measure", "edge"])
    assert get.loc[("null_rate", "all"), "k"] == 3 and get.loc[("null_rate", "all"), "n"] == 4
    # power counts the right sign only: cohort 0 is significant but negative
    assert get.loc[("power", "b -> a"), "k"] == 2
    assert get.loc[("ordering", "all"), "k"] == 1 and get.loc[("ordering", "all"), "n"] == 4
    assert get.loc[("misfit_warning", "all"), "k"] == 1
    assert get.loc[("misfit_warning", "all"), "n"] == 2
    assert get.loc[("misfit_warning", "all"), "mean_value"] == pytest.approx(0.05)


def test_config_rejects_bad_settings():
    with pytest.raises(ConfigError, match="trajectories"):
        TrajectoriesConfig(trajectories=("wavy",))
    with pytest.raises(ConfigError, match="ar_sds"):
        TrajectoriesConfig(ar_sds=())


def _null_rate(trajectory: str, n_cohorts: int, seed: int) -> tuple[int, int]:
    config = TrajectoriesConfig(n_cohorts=n_cohorts, preps=("detrend",), scenarios=("null",))
    frames = [analyse_cohort(TrajectoryTask(config, i, s, "null", trajectory, 0.15))
              for i, s in enumerate(spawn_seeds(seed, n_cohorts))]
    tests = pd.concat(frames)
    return int(tests["significant"].sum()), len(tests)


def test_default_is_calibrated_on_straight_lines_with_ar_spread():
    # 40 null cohorts x 6 cross-lagged tests: SE of the rate sqrt(.05 * .95 / 240) = 0.014;
    # the default (linear detrending, df charge 2 per patient) must stay within 3 SE of 0.05.
    k, n = _null_rate("linear", 40, 801)
    assert abs(k / n - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / n)


def test_default_is_calibrated_on_early_response():
    # The issue-8 target, same tolerance as above (3 SE = 0.042 with 240 tests). Per-patient
    # detrending alone gives about 0.2 here; the default's time effects remove the part of
    # the early response that patients share.
    k, n = _null_rate("early", 40, 802)
    assert abs(k / n - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / n)


@pytest.mark.xfail(strict=True, reason="issue 8: a step at a patient-specific week, shared by "
                   "a patient's measures, is neither a trend nor a time effect; no trend model "
                   "tried is calibrated on it (null rate about 0.5 at 226 x 13, "
                   "docs/validation.md)")
def test_default_is_calibrated_on_sudden_gains():
    # 20 cohorts (120 tests): 3 SE = 0.06, far below the ~0.4 excess this xfail documents
    k, n = _null_rate("sudden", 20, 803)
    assert abs(k / n - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / n)
