from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from features.errors import DataError
from features.panel import Panel
from features.transforms import (
    PREPS,
    center,
    count_time_means,
    detrend,
    prepare,
    remove_time_means,
    standardize,
)

VARS = ["depression", "self_compassion", "fear_others"]


def _random_panel(seed: int, *, n_patients: int = 12, n_weeks: int = 15, p_missing: float = 0.25,
                  segments: bool = False) -> Panel:
    """Random patients with own levels and trends, gappy weeks and missing values."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        weeks = np.sort(rng.choice(np.arange(1, n_weeks + 6), size=n_weeks, replace=False))
        level = rng.normal(0, 10, size=len(VARS))
        slope = rng.normal(0, 1, size=len(VARS))
        for w in weeks:
            values = level + slope * w + rng.normal(0, 1, size=len(VARS))
            rows.append([100 + p, int(w > (n_weeks + 5) / 2), int(w), *values])
    df = pd.DataFrame(rows, columns=["patient", "phase", "week", *VARS])
    mask = rng.random((len(df), len(VARS))) < p_missing
    df[VARS] = df[VARS].mask(mask)
    df.index = rng.permutation(len(df)) + 2  # arbitrary row labels
    return Panel.from_frame(df, segments=["phase"] if segments else [], variables=VARS,
                            tau_max=None)


def _reference(panel: Panel, groups: list[str], how: str) -> pd.DataFrame:
    """Straightforward per-group loop over observed values with numpy."""
    out = panel.data.copy()
    for _, g in panel.data.groupby(groups):
        for v in panel.variables:
            obs = g[v].notna()
            t = g.loc[obs, panel.time_col].to_numpy(float)
            x = g.loc[obs, v].to_numpy()
            if how == "center":
                out.loc[g.index[obs], v] = x - x.mean()
            elif how == "detrend":
                slope, intercept = np.polyfit(t, x, 1)
                out.loc[g.index[obs], v] = x - (intercept + slope * t)
            elif how == "standardize":
                out.loc[g.index[obs], v] = x / x.std(ddof=1)
    return out


def _assert_same(result: Panel, expected: pd.DataFrame) -> None:
    pd.testing.assert_index_equal(result.data.index, expected.index)
    for col in [*result.block_cols, result.time_col]:
        assert result.data[col].equals(expected[col])
    for v in result.variables:
        got, want = result.data[v].to_numpy(), expected[v].to_numpy()
        assert np.array_equal(np.isnan(got), np.isnan(want)), v  # missing stays missing
        np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-9,
                                   atol=1e-9)


# --------------------------------------------------------------------------- correctness


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("func", "how"), [(center, "center"), (detrend, "detrend"),
                                           (standardize, "standardize")])
def test_per_patient_transform_matches_reference(seed, func, how):
    panel = _random_panel(seed)
    assert panel.data[VARS].isna().any().all()  # the test really has missing values
    result = func(panel)
    assert result.exclusions.n_patients == 0
    _assert_same(result, _reference(panel, ["patient"], how))


@pytest.mark.parametrize(("func", "how"), [(center, "center"), (detrend, "detrend"),
                                           (standardize, "standardize")])
def test_per_segment_transform_matches_reference(func, how):
    panel = _random_panel(3, n_weeks=20, segments=True)
    result = func(panel, by="segment")
    assert result.exclusions.n_patients == 0
    _assert_same(result, _reference(panel, ["patient", "phase"], how))
    # and differs from the per-patient version (two phases have different means/trends)
    per_patient = func(panel, by="patient")
    assert not np.allclose(result.data[VARS].fillna(0), per_patient.data[VARS].fillna(0))


def test_by_patient_ignores_segments():
    panel = _random_panel(4, segments=True)
    _assert_same(detrend(panel), _reference(panel, ["patient"], "detrend"))


def test_detrend_matches_sklearn_on_one_patient():
    panel = _random_panel(5, n_patients=1, n_weeks=25)
    result = detrend(panel)
    for v in VARS:
        obs = panel.data[v].notna()
        t = panel.data.loc[obs, ["week"]].to_numpy(float)
        x = panel.data.loc[obs, v].to_numpy()
        resid = x - LinearRegression().fit(t, x).predict(t)
        np.testing.assert_allclose(result.data.loc[obs, v], resid, atol=1e-9)


def test_detrend_residuals_have_zero_mean_and_no_trend():
    result = detrend(_random_panel(6))
    for _, g in result.data.groupby("patient"):
        for v in VARS:
            obs = g[v].notna()
            r, t = g.loc[obs, v].to_numpy(), g.loc[obs, "week"].to_numpy(float)
            assert abs(r.mean()) < 1e-9
            assert abs(np.dot(r, t - t.mean())) < 1e-8


def test_standardize_after_center_gives_unit_within_sd():
    result = standardize(center(_random_panel(7)))
    sd = result.data.groupby("patient")[VARS].std(ddof=1)
    mean = result.data.groupby("patient")[VARS].mean()
    np.testing.assert_allclose(sd.to_numpy(), 1.0, rtol=1e-9)
    np.testing.assert_allclose(mean.to_numpy(), 0.0, atol=1e-9)


def test_detrend_removes_exact_linear_trend_despite_gaps():
    df = pd.DataFrame({"patient": [1] * 5 + [2] * 4, "week": [1, 2, 5, 9, 10, 3, 4, 6, 12],
                       "x": [3.0, 5, 11, 19, 21, 10, 9, 7, 1]})  # x = 2w+1 and x = 13-w
    result = detrend(Panel.from_frame(df, tau_max=None))
    np.testing.assert_allclose(result.data["x"], 0.0, atol=1e-12)


def test_transforms_do_not_modify_input():
    panel = _random_panel(8)
    before = panel.data.copy()
    for func in (center, detrend, standardize):
        func(panel)
    pd.testing.assert_frame_equal(panel.data, before)


# --------------------------------------------------------------------------- exclusions


def _short_panel() -> Panel:
    """Patient 1 complete; patient 2 has 2 observed 'y'; patient 3 has 1 observed 'y'."""
    df = pd.DataFrame({
        "patient": [1] * 5 + [2] * 5 + [3] * 5,
        "week": list(range(1, 6)) * 3,
        "x": [1.0, 3, 2, 5, 4, 2, 4, 3, 5, 7, 9, 8, 6, 7, 5],
        "y": [2.0, 1, 4, 3, 5, 1, np.nan, 3, np.nan, np.nan, np.nan, 2, np.nan, np.nan, np.nan],
    })
    df.index = df.index + 2
    return Panel.from_frame(df, tau_max=None)


def test_center_excludes_patients_with_fewer_than_two_values():
    result = center(_short_panel())
    assert result.patients.tolist() == [1, 2]
    rec = result.exclusions.records
    assert rec[["level", "patient", "value"]].to_numpy().tolist() == [["patient", 3, "y"]]
    assert rec["reason"].tolist() == ["fewer than 2 observed values of a variable for centering"]


def test_detrend_excludes_patients_with_fewer_than_three_values():
    result = detrend(_short_panel())
    assert result.patients.tolist() == [1]
    rec = result.exclusions.records
    assert rec["patient"].tolist() == [2, 3]
    assert rec["value"].tolist() == ["y", "y"]  # the variable that was too short
    assert set(rec["reason"]) == {"fewer than 3 observed values of a variable for detrending"}
    # the remaining patient is detrended exactly as on its own
    alone = detrend(_short_panel().subset([1]))
    pd.testing.assert_frame_equal(result.data, alone.data)


def test_standardize_excludes_constant_patients():
    df = pd.DataFrame({"patient": [1] * 4 + [2] * 4, "week": [1, 2, 3, 4] * 2,
                       "x": [1.0, 2, 4, 3, 5, 5, 5, 5]})
    result = standardize(Panel.from_frame(df, tau_max=None))
    assert result.patients.tolist() == [1]
    rec = result.exclusions.records
    assert rec["patient"].tolist() == [2]
    assert rec["reason"].tolist() == ["zero within-patient variance of a variable "
                                      "(cannot standardize)"]
    np.testing.assert_allclose(result.data["x"], np.array([1.0, 2, 4, 3]) / np.std([1, 2, 4, 3],
                                                                                   ddof=1))


def test_exclusions_accumulate_on_the_panel_report():
    df = _short_panel().data.copy()
    df.loc[100] = [4, 1, np.nan, np.nan]  # patient 4's only row is all-missing: from_frame
    panel = Panel.from_frame(df, tau_max=None)  # excludes the row, and so patient 4
    result = detrend(panel)
    assert result.exclusions.n_rows == 1 and result.exclusions.n_patients == 1 + 2
    assert panel.exclusions.n_patients == 1  # the input report is not mutated by detrend


def test_segment_too_short_excludes_the_patient():
    df = pd.DataFrame({"patient": [1] * 6 + [2] * 6, "phase": [0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1],
                       "week": list(range(1, 7)) * 2, "x": [1.0, 3, 2, 5, 4, 6, 2, 1, 4, 3, 5, 7]})
    panel = Panel.from_frame(df, segments=["phase"], tau_max=None)
    # patient 2 has only two values in phase 0: fine per patient, too short per segment
    assert detrend(panel).n_patients == 2
    result = detrend(panel, by="segment")
    assert result.patients.tolist() == [1]
    assert result.exclusions.records["patient"].tolist() == [2]


@pytest.mark.parametrize(("func", "k"), [(center, 2), (detrend, 3), (standardize, 2)])
def test_every_patient_too_short(func, k):
    # x varies only in patient 1, y only in patient 2; each patient has one value of the other
    df = pd.DataFrame({"patient": [1, 1, 2, 2], "week": [0, 1, 0, 1],
                       "x": [1.0, 2.0, 5.0, np.nan], "y": [3.0, np.nan, 4.0, 6.0]})
    panel = Panel.from_frame(df, tau_max=None)
    with pytest.raises(DataError, match=f"every patient has fewer than {k} observed values"):
        func(panel)


def test_every_patient_constant_cannot_standardize():
    df = pd.DataFrame({"patient": [1, 1, 1, 2, 2, 2], "week": [1, 2, 3] * 2,
                       "x": [1.0, 2, 3, 4, 5, 6], "y": [1.0, 1, 1, 2, 2, 2]})
    # y is constant within every patient, so from_frame refuses it; build the panel directly
    panel = Panel.from_frame(df, tau_max=None, variables=["x"])
    panel = Panel(data=df, id_col="patient", time_col="week", variables=("x", "y"),
                  exclusions=panel.exclusions)
    with pytest.raises(DataError, match="every patient has a constant variable"):
        standardize(panel)


# --------------------------------------------------------------------------- prepare


def test_prepare_names():
    panel = _random_panel(9, segments=True)
    assert PREPS == ("detrend", "center", "none", "diurnal", "auto", "spline", "changepoint",
                     "piecewise", "difference")
    pd.testing.assert_frame_equal(prepare(panel).data, detrend(panel).data)
    pd.testing.assert_frame_equal(prepare(panel, "detrend").data, detrend(panel).data)
    pd.testing.assert_frame_equal(prepare(panel, "center").data, center(panel).data)
    assert prepare(panel, "none") is panel
    pd.testing.assert_frame_equal(prepare(panel, "none", standardize_within=True).data,
                                  standardize(panel).data)
    pd.testing.assert_frame_equal(prepare(panel, "detrend", standardize_within=True).data,
                                  standardize(detrend(panel)).data)
    pd.testing.assert_frame_equal(prepare(panel, "center", by="segment").data,
                                  center(panel, by="segment").data)


@pytest.mark.parametrize("prep", ["Detrend", "demean", "", None])
def test_invalid_prep(prep):
    with pytest.raises(ValueError, match=f"prep must be one of .*, got {prep!r}"):
        prepare(_short_panel(), prep)


@pytest.mark.parametrize("func", [center, detrend, standardize])
def test_invalid_by(func):
    with pytest.raises(ValueError, match="by must be 'patient' or 'segment', got 'week'"):
        func(_short_panel(), by="week")


# ------------------------------------------------------------------ time effects (issue 8)
def _missing_panel(seed: int = 5, n: int = 40, weeks: int = 13) -> Panel:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"patient": np.repeat(np.arange(n), weeks),
                       "week": np.tile(np.arange(1, weeks + 1), n)})
    shared = np.sin(df["week"].to_numpy() / 2.0)  # a change every patient shares in time
    df["x"] = rng.normal(size=len(df)) + 3 * shared + rng.normal(size=n).repeat(weeks)
    df["y"] = rng.normal(size=len(df)) - 2 * shared
    df.loc[rng.random(len(df)) < 0.1, "x"] = np.nan
    return Panel.from_frame(df, tau_max=None)


def test_remove_time_means_leaves_thin_time_points_unchanged():
    df = pd.DataFrame({"patient": [1, 1, 2, 2, 3], "week": [1, 2, 1, 2, 3],
                       "x": [1.0, 4.0, 3.0, 2.0, 7.0]})
    out = remove_time_means(Panel.from_frame(df, tau_max=None), min_patients=2).data["x"]
    assert out.tolist() == [-1.0, 1.0, 1.0, -1.0, 7.0]  # week 3 has one patient: kept
    assert count_time_means(Panel.from_frame(df, tau_max=None), min_patients=2) == 2


def test_two_way_transform_has_no_trend_and_no_time_mean():
    panel = _missing_panel()
    out = prepare(panel, "detrend", time_effects=True).data
    for var in ("x", "y"):
        # no time mean left (the rounds stop at 1e-12 of the scale)
        scale = np.nanmax(np.abs(panel.data[var]))
        assert out.groupby("week")[var].mean().abs().max() <= 1e-12 * scale
        # the trend model is applied last: each patient's residuals have no mean, no slope
        for _, part in out.dropna(subset=[var]).groupby("patient"):
            t = part["week"] - part["week"].mean()
            assert abs(part[var].mean()) < 1e-9
            assert abs((t * part[var]).sum()) < 1e-8


def test_two_way_transform_is_idempotent_and_removes_the_shared_change():
    panel = _missing_panel()
    once = prepare(panel, "detrend", time_effects=True)
    twice = prepare(once, "detrend", time_effects=True)
    np.testing.assert_allclose(twice.data[["x", "y"]], once.data[["x", "y"]], atol=1e-10)
    # detrending alone leaves the shared curve in every patient's residuals
    alone = prepare(panel, "detrend").data
    assert alone.groupby("week")["y"].mean().abs().max() > 0.5
