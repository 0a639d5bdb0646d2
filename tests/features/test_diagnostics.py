from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from features.diagnostics import DIAGNOSTIC_COLUMNS, PATIENT_COLUMNS, diagnose_trends
from features.errors import InputError
from features.panel import Panel
from features.simulate import simulate_cohort
from features.trajectories import Trajectory


def _cohort(trajectory, seed, n=226):
    df = simulate_cohort("null", n, 13, missing=0.05, trajectory=trajectory, random_state=seed)
    return Panel.from_frame(df, tau_max=1), df


def test_straight_lines_are_flagged_at_the_reference_rate(caplog):
    panel, _ = _cohort("linear", 11)
    with caplog.at_level(logging.WARNING, logger="features.diagnostics"):
        diag = diagnose_trends(panel)
    assert tuple(diag.table.columns) == DIAGNOSTIC_COLUMNS
    assert tuple(diag.patients.columns) == PATIENT_COLUMNS
    assert len(diag.patients) == 226 and len(diag.table) == 3 * 226
    # The flagged share of 226 patients has binomial SE <= 0.033 (share <= 0.5); the
    # reference share (2 x 226 copies) SE <= 0.024: SE of the difference <= 0.041, 3 SE 0.12.
    assert abs(diag.share_patients - diag.expected_share) < 0.12
    assert not diag.misfit and diag.p_excess > diag.warn_level
    assert not caplog.records  # no warning for a fitting model


def test_planted_sudden_gains_are_flagged_and_warned(caplog):
    trajectory = Trajectory("sudden", sudden_share=1.0, step_size=3.0, loss_share=0.0)
    panel, _ = _cohort(trajectory, 12)
    with caplog.at_level(logging.WARNING, logger="features.diagnostics"):
        diag = diagnose_trends(panel)
    assert diag.misfit and diag.p_excess < 1e-6
    # a step of 3 within-SD in every patient: the joint change-point test flags most of them
    assert diag.share_change_point > 0.5
    assert diag.share_patients > diag.expected_share + 0.25
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert "'detrend' trend model misfits" in warning
    assert f"{100 * diag.share_patients:.0f}% of patients flagged" in warning


def test_change_week_is_the_planted_week():
    weeks = np.arange(1, 14)
    rng = np.random.default_rng(3)
    rows = []
    for p, w in enumerate([4, 7, 10]):
        step = (weeks >= w).astype(float)
        rows.append(pd.DataFrame({"patient": p + 1, "week": weeks,
                                  "x": 0.3 * weeks - 5 * step + rng.normal(0, 0.5, 13),
                                  "y": -0.1 * weeks + 4 * step + rng.normal(0, 0.5, 13)}))
    diag = diagnose_trends(Panel.from_frame(pd.concat(rows), tau_max=None))
    assert diag.patients["change_point"].all()
    assert diag.patients["change_week"].tolist() == [4.0, 7.0, 10.0]
    assert (diag.table["change_week"] == np.repeat([4.0, 7.0, 10.0], 1).tolist() * 2).all()


def test_other_trend_models_are_checked_on_their_own_residuals():
    trajectory = Trajectory("sudden", sudden_share=1.0, step_size=3.0, loss_share=0.0)
    panel, _ = _cohort(trajectory, 13, n=120)
    line = diagnose_trends(panel, "detrend")
    step = diagnose_trends(panel, "changepoint")
    # the change-point model removes the planted steps: far fewer change points are left
    assert step.share_change_point < line.share_change_point / 2
    assert "prep='changepoint'" in str(step)


def test_str_and_bad_parameters():
    panel, _ = _cohort("linear", 14, n=30)
    text = str(diagnose_trends(panel))
    assert text.startswith("Trend diagnostics (prep='detrend'): ")
    assert "of 30 patients" in text and "a fitting model flags" in text
    with pytest.raises(InputError, match="prep"):
        diagnose_trends(panel, "cubic")
    with pytest.raises(InputError, match="level"):
        diagnose_trends(panel, level=1.5)
