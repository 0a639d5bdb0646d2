"""What every simulation study's ``--quick`` run writes: its tables, figures and ``run.json``.

The runs are the ones the study's own tests use (``quick_run``, once per session).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib.image import imread

from experiments import (
    bias,
    calibration,
    comparisons,
    ema,
    methods,
    pooling,
    recovery,
    trajectories,
)

#: Study -> (figures, columns of its summary table NAME, columns of NAME_cohorts).
OUTPUTS = {
    "bias": (("bias.png",), bias.BIAS_COLUMNS, bias.COHORT_COLUMNS),
    "calibration": (("calibration.png", "calibration_familywise.png"),
                    calibration.CALIBRATION_COLUMNS, calibration.COHORT_COLUMNS),
    "comparisons": ((), comparisons.SUMMARY_COLUMNS, comparisons.COHORT_COLUMNS),
    "ema": (("ema.png",), ema.EMA_COLUMNS, ema.COHORT_COLUMNS),
    "methods": (("methods.png",), methods.METHODS_COLUMNS, methods.COHORT_COLUMNS),
    "pooling": (("pooling.png",), pooling.POOLING_COLUMNS, pooling.COHORT_COLUMNS),
    "recovery": (("recovery.png",), recovery.RECOVERY_COLUMNS, recovery.COHORT_COLUMNS),
    "trajectories": (("trajectories.png",), trajectories.SUMMARY_COLUMNS,
                     trajectories.COHORT_COLUMNS),
}

#: Cohort tables whose listed columns are only the leading ones (recovery: then the
#: value and significance of each cross-lagged edge).
LEADING_ONLY = {"recovery"}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_quick_run_writes_its_tables_figures_and_run_json(name, quick_run):
    out, cfg, tables = quick_run(name)
    figures, summary_columns, cohort_columns = OUTPUTS[name]
    assert {p.name for p in out.iterdir()} == {f"{name}.csv", f"{name}_cohorts.csv", *figures,
                                               "run.json"}
    assert tuple(tables[name].columns) == summary_columns
    cohorts = tables[f"{name}_cohorts"]
    if name in LEADING_ONLY:
        assert tuple(cohorts.columns[:len(cohort_columns)]) == cohort_columns
    else:
        assert tuple(cohorts.columns) == cohort_columns
    for figure in figures:
        assert (out / figure).stat().st_size > 10_000, figure
        pixels = imread(out / figure)[..., :3]  # decodes, and is not a blank canvas
        assert pixels.std() > 0.01 and np.mean(pixels.min(axis=-1) < 0.5) > 0.001, figure
    meta = json.loads((out / "run.json").read_text())
    assert meta["experiment"] == name and meta["quick"] is True
    assert meta["config"] == cfg and meta["config"]["n_cohorts"] == cfg["n_cohorts"]
