from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal.discovery.citests import within_df_loss
from features.choices import PREPS
from features.errors import InputError
from features.panel import Panel
from features.transforms import prepare
from features.trends import TREND_MODELS, TREND_PARAMS, fit_trends, min_observations

WEEKS = np.arange(1, 14, dtype=float)


def _panel(curves: dict[str, np.ndarray], n_patients: int = 1) -> Panel:
    rows = []
    for p in range(n_patients):
        rows.append(pd.DataFrame({"patient": p + 1, "week": WEEKS.astype(int),
                                  **{k: v[p] if v.ndim == 2 else v for k, v in curves.items()}}))
    return Panel.from_frame(pd.concat(rows, ignore_index=True), tau_max=None)


def test_every_trend_model_is_a_prep_with_a_df_charge():
    assert set(TREND_MODELS) <= set(PREPS) and set(TREND_PARAMS) <= set(PREPS)
    for prep in TREND_PARAMS:
        assert within_df_loss(prep, 10) == 10 * TREND_PARAMS[prep]
    # parameters estimated per patient (+1 for a searched change point)
    assert [TREND_PARAMS[m] for m in ("none", "center", "detrend", "spline", "changepoint",
                                      "piecewise", "difference")] == [0, 1, 2, 3, 4, 5, 1]


@pytest.mark.parametrize("model", TREND_MODELS)
def test_each_model_removes_a_line_exactly(model):
    panel = _panel({"x": 3 - 0.5 * WEEKS, "y": 1 + 0.2 * WEEKS})
    out = fit_trends(panel, model).panel.data[["x", "y"]].to_numpy()
    np.testing.assert_allclose(np.nan_to_num(out), 0.0, atol=1e-9)


def test_changepoint_finds_the_joint_step_and_removes_it():
    step = (WEEKS >= 7).astype(float)
    rng = np.random.default_rng(0)
    x = 10 - 0.2 * WEEKS - 4 * step + 0.1 * rng.standard_normal(13)
    y = 2 + 0.1 * WEEKS + 3 * step + 0.1 * rng.standard_normal(13)
    fit = fit_trends(_panel({"x": x, "y": y}), "changepoint")
    assert fit.breaks.tolist() == [7.0]
    assert np.abs(fit.panel.data[["x", "y"]].to_numpy()).max() < 0.3  # noise SD 0.1
    line = fit_trends(_panel({"x": x, "y": y}), "spline").panel.data["x"].to_numpy()
    assert np.abs(line).max() > 1.0  # a spline only smooths a step of 4


def test_piecewise_removes_a_step_and_a_bend():
    w = 8.0
    rng = np.random.default_rng(1)
    x = 5 - 0.4 * WEEKS + 2 * (WEEKS >= w) + 0.9 * np.clip(WEEKS - w, 0, None)
    y = 0.3 * WEEKS - 1.5 * (WEEKS >= w) + 0.01 * rng.standard_normal(13)
    fit = fit_trends(_panel({"x": x + 0.01 * rng.standard_normal(13), "y": y}), "piecewise")
    assert fit.breaks.tolist() == [w]
    assert np.abs(fit.panel.data[["x", "y"]].to_numpy()).max() < 0.05  # noise SD 0.01


def test_spline_removes_a_line_plus_its_bend_but_not_a_step():
    u = (WEEKS - 1) / 12
    bend = 2 * (u**3 - 2 * np.clip(u - 0.5, 0, None) ** 3)  # d_0 - d_1 of the basis
    out = fit_trends(_panel({"x": 1 + 2 * u - 3 * bend, "y": 4 * u}), "spline").panel.data
    np.testing.assert_allclose(out[["x", "y"]].to_numpy(), 0.0, atol=1e-9)


def test_difference_uses_consecutive_weeks_only():
    df = pd.DataFrame({"patient": 1, "week": [1, 2, 3, 5, 6, 7],
                       "x": [1.0, 2, 4, 5, 7, 10], "y": [0.0, 1, 0, 1, 0, 1]})
    diff = fit_trends(Panel.from_frame(df, tau_max=None), "difference").panel.data["x"]
    # differences 1, 2, (gap), 2, 3 -> centred on their mean 2
    np.testing.assert_allclose(diff.to_numpy(), [np.nan, -1, 0, np.nan, 0, 1])


def test_missing_weeks_neither_shift_nor_fill_the_fit():
    x = 4 - 0.3 * WEEKS + 2.5 * (WEEKS >= 6)
    panel = _panel({"x": x, "y": 0.1 * WEEKS ** 1.5})
    data = panel.data.copy()
    data.loc[[2, 9], "x"] = np.nan
    fit = fit_trends(panel.with_data(data), "changepoint")
    out = fit.panel.data["x"].to_numpy()
    assert np.isnan(out[[2, 9]]).all()
    np.testing.assert_allclose(out[~np.isnan(out)], 0.0, atol=1e-9)


def test_prepare_excludes_patients_too_short_for_the_model():
    df = pd.DataFrame({"patient": [1] * 13 + [2] * 4, "week": [*range(1, 14), 1, 2, 3, 4],
                       "x": np.r_[np.arange(13.0) % 3, [1.0, 2, 0, 1]],
                       "y": np.r_[np.arange(13.0) % 4, [0.0, 2, 1, 1]]})
    panel = Panel.from_frame(df, tau_max=None)
    out = prepare(panel, "piecewise")
    assert out.data["patient"].unique().tolist() == [1]
    assert "piecewise trend model" in str(out.exclusions)
    assert min_observations("piecewise") == 7
    with pytest.raises(InputError, match="model"):
        fit_trends(panel, "cubic")
