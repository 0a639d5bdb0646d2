"""Day/beep (EMA / ESM) designs in Panel, the diurnal transform and the EMA simulator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.errors import DataError, InputError
from features.lags import lag_table
from features.panel import Panel
from features.simulate import simulate_ema
from features.transforms import detrend, diurnal, prepare, resolve_prep


def _ema(n_persons=3, n_days=4, n_beeps=4, seed=0, **kw):
    kw.setdefault("missing", 0.0)
    return simulate_ema("null", n_persons, n_days, n_beeps, random_state=seed, **kw)


def _panel(df, **kw):
    return Panel.from_frame(df, id_col="person", day_col="day", beep_col="beep", tau_max=None,
                            **kw)


# -------------------------------------------------------------------- design
def test_day_beep_panel_records_design_and_blocks():
    panel = _panel(_ema())
    assert (panel.day_col, panel.beep_col, panel.time_col) == ("day", "beep", "beep")
    assert panel.block_cols == ["person", "day"]
    assert panel.segment_cols == ["person"]
    assert panel.time_cols == ["day", "beep"]
    assert panel.beeps_per_day == 4
    assert list(panel.data.columns[:3]) == ["person", "day", "beep"]


def test_lags_never_cross_days_and_missing_beep_is_a_gap():
    df = pd.DataFrame({"person": [1] * 6, "day": [1, 1, 1, 2, 2, 2],
                       "beep": [1, 2, 4, 1, 2, 3], "x": [1.0, 2, 4, 5, 6, 7],
                       "y": [0.0, 1, 0, 1, 0, 1]})
    table = lag_table(_panel(df), 1)
    # beep 1 of day 2 has no lag (night); beep 4 has none (beep 3 missed)
    assert table["x_lag1"].isna().tolist() == [True, False, True, True, False, False]
    assert _panel(df).usable_lagged_rows(1).tolist() == [3]


def test_study_time_counts_days_and_beeps():
    panel = _panel(_ema(n_persons=1, n_days=2, n_beeps=4))
    assert panel.study_time().tolist() == [1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75]


def test_study_time_lays_restarting_segments_end_to_end():
    df = pd.DataFrame({"person": [1] * 8, "period": [0] * 4 + [1] * 4,
                       "day": [1, 1, 2, 2] * 2, "beep": [1, 2] * 4, "x": np.arange(8.0)})
    panel = _panel(df, segments=["period"])
    assert panel.block_cols == ["person", "period", "day"]
    assert panel.study_time().tolist() == [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]


def test_day_and_beep_must_come_together():
    df = _ema()
    with pytest.raises(InputError, match="day_col needs beep_col"):
        Panel.from_frame(df, id_col="person", day_col="day")
    with pytest.raises(InputError, match="either time_col"):
        Panel.from_frame(df, id_col="person", time_col="day", day_col="day", beep_col="beep")
    with pytest.raises(InputError, match="leave time_step out"):
        Panel.from_frame(df, id_col="person", day_col="day", beep_col="beep", time_step="1h")
    with pytest.raises(InputError, match="leave them out of the segments"):
        Panel.from_frame(df, id_col="person", day_col="day", beep_col="beep", segments=["day"])


def test_missing_day_or_beep_rows_are_excluded_and_reported():
    df = _ema().astype({"beep": "float", "day": "float"})
    df.loc[3, "beep"] = np.nan
    df.loc[5, "day"] = np.nan
    panel = _panel(df)
    rec = panel.exclusions.records
    assert set(rec["reason"]) == {"missing beep", "missing day"}
    assert sorted(rec["row"]) == [3, 5]
    assert panel.n_rows == len(df) - 2


def test_days_as_dates():
    df = _ema(n_persons=1, n_days=3)
    df["day"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(df["day"] - 1, unit="D")
    panel = _panel(df)
    assert panel.data["day"].unique().tolist() == [0, 1, 2]


def test_non_integer_beep_is_an_error():
    df = _ema().astype({"beep": float})
    df.loc[2, "beep"] = 2.5
    with pytest.raises(DataError, match=r"column 'beep': row 2 has non-integer time 2\.5"):
        _panel(df)


# ----------------------------------------------------------------- duplicates
def _with_duplicates():
    df = _ema(n_persons=2, n_days=2, n_beeps=3)
    extra = df.iloc[[1, 7]].assign(depression=99.0)
    return pd.concat([df, extra], ignore_index=True)


def test_duplicate_day_beep_rows_are_an_error_naming_rows():
    df = _with_duplicates()
    with pytest.raises(DataError, match=r"duplicate rows for patient 1 at day=1, beep=2 "
                                        r"\(rows \[1, 12\]\).*duplicates='keep-first'"):
        _panel(df)


def test_keep_first_keeps_first_and_reports_the_others():
    df = _with_duplicates()
    panel = _panel(df, duplicates="keep-first")
    assert panel.n_rows == len(df) - 2
    assert (panel.data["depression"] != 99.0).all()  # the later copies went
    rec = panel.exclusions.records
    assert rec["row"].tolist() == [12, 13]
    assert rec["patient"].tolist() == [1, 2]
    assert set(rec["column"]) == {"day,beep"}
    assert rec["value"].tolist() == ["day=1, beep=2 (row 1 kept)", "day=1, beep=2 (row 7 kept)"]
    assert set(rec["level"]) == {"row"}


def test_duplicates_choice_is_checked():
    with pytest.raises(InputError, match="duplicates must be one of 'error', 'keep-first'"):
        _panel(_ema(), duplicates="keep-last")


def test_keep_first_also_for_weekly_panels():
    df = pd.DataFrame({"patient": [1, 1, 1, 1], "week": [1, 2, 2, 3], "x": [1.0, 2, 3, 4]})
    panel = Panel.from_frame(df, tau_max=None, duplicates="keep-first")
    assert panel.data["x"].tolist() == [1.0, 2.0, 4.0]


# ------------------------------------------------------------------ diurnal
def test_diurnal_removes_rhythm_and_trend_exactly():
    df = _ema(n_persons=4, n_days=6, n_beeps=5, seed=3)
    rng = np.random.default_rng(0)
    profile = rng.normal(size=(5, 5))  # person x beep
    slope = rng.normal(size=5)
    base = df["person"].map(dict(enumerate(slope))) * (df["day"] + (df["beep"] - 1) / 5)
    df["x"] = base + profile[df["person"], df["beep"] - 1]
    out = diurnal(_panel(df, variables=["x", "depression"]))
    assert np.abs(out.data["x"]).max() < 1e-9


def test_diurnal_residuals_orthogonal_to_beep_and_time():
    df = _ema(n_persons=3, n_days=5, n_beeps=4, seed=2, missing=0.2)
    panel = _panel(df)
    out = diurnal(panel)
    t = panel.study_time()
    for _, rows in out.data.assign(t=t).groupby("person"):
        for v in panel.variables:
            r = rows[v]
            assert abs(float((r * (rows["t"] - rows["t"].mean())).sum())) < 1e-8
            assert rows.groupby("beep")[v].mean().abs().max() < 1e-9


def test_detrend_on_day_beep_design_uses_study_time_not_beep():
    df = _ema(n_persons=1, n_days=4, n_beeps=3)
    df["x"] = df["day"] + (df["beep"] - 1) / 3  # a pure trend over the study
    out = detrend(_panel(df, variables=["x", "depression"]))
    assert np.abs(out.data["x"]).max() < 1e-9


def test_auto_prep_is_diurnal_for_day_beep_designs():
    panel = _panel(_ema())
    assert resolve_prep("auto", panel) == "diurnal"
    pd.testing.assert_frame_equal(prepare(panel).data, diurnal(panel).data)


def test_diurnal_needs_a_day_beep_design():
    df = pd.DataFrame({"patient": [1] * 4, "week": [1, 2, 3, 4], "x": [1.0, 2, 4, 3]})
    with pytest.raises(InputError, match="needs a day/beep design"):
        diurnal(Panel.from_frame(df, tau_max=None))


def test_diurnal_excludes_persons_too_short():
    df = _ema(n_persons=2, n_days=3, n_beeps=4)
    df = df[(df["person"] == 1) | (df["day"] == 1)]  # person 2: 4 rows < 4 + 2
    out = diurnal(_panel(df))
    assert out.data["person"].unique().tolist() == [1]
    assert out.exclusions.records["patient"].tolist() == [2]


# ---------------------------------------------------------------- simulator
def test_simulate_ema_design_and_seed():
    df = simulate_ema("null", 5, 3, 4, missing=0.25, random_state=7)
    again = simulate_ema("null", 5, 3, 4, missing=0.25, random_state=7)
    pd.testing.assert_frame_equal(df, again)
    assert list(df.columns) == ["person", "day", "beep", "depression", "self_compassion",
                                "fear_others"]
    assert df["beep"].between(1, 4).all() and df["day"].between(1, 3).all()
    # 60 beeps, each missed with p 0.25: 45 expected, SD 3.4
    assert 30 < len(df) < 60


def test_simulate_ema_rhythm_is_shared_and_scaled():
    # no VAR noise matters for the beep means: 400 persons x 30 days average it out
    df = simulate_ema("null", 400, 30, 5, missing=0.0, diurnal_amplitude=0.6, day_trend=0.0,
                      random_state=1)
    centred = df.groupby("person")[["depression", "self_compassion"]].transform(
        lambda x: x - x.mean())
    profile = centred.groupby([df["person"], df["beep"]]).mean()
    # rhythm SD ~ amplitude x loading (mean square of U(0.5, 1.5) = 1.083): about 0.62
    sd = float(profile["depression"].std())
    assert 0.5 < sd < 0.75
    # shared by a person's measures, with opposite signs (alternating loadings)
    assert profile["depression"].corr(profile["self_compassion"]) < -0.8


@pytest.mark.parametrize("kw, match", [({"n_beeps": 1}, "n_beeps"),
                                       ({"diurnal_amplitude": -1}, "diurnal_amplitude"),
                                       ({"day_trend": np.nan}, "day_trend"),
                                       ({"missing": 1.0}, "missing")])
def test_simulate_ema_checks(kw, match):
    with pytest.raises(InputError, match=match):
        simulate_ema("null", **kw)


# ------------------------------------------------------ irregular schedules
def _irregular():
    t = pd.to_datetime(["2024-01-01 09:00", "2024-01-01 11:10", "2024-01-01 19:30",
                        "2024-01-01 21:00", "2024-01-02 08:00", "2024-01-02 10:00",
                        "2024-01-03 10:00"])
    return pd.DataFrame({"patient": [1] * 7, "when": t.astype(str),
                         "x": [1.0, 2, 3, 4, 5, 6, 7], "y": [2.0, 1, 3, 5, 4, 6, 8]})


def test_max_gap_orders_date_times_within_the_day():
    panel = Panel.from_frame(_irregular(), time_col="when", max_gap="3h", tau_max=None)
    assert (panel.day_col, panel.beep_col) == ("when_day", "when_beep")
    assert panel.data["when_day"].tolist() == [0, 0, 0, 0, 1, 1, 2]
    # 11:10 -> 19:30 is more than 3 h: a skipped number, so no lag across it
    assert panel.data["when_beep"].tolist() == [1, 2, 4, 5, 1, 2, 1]
    lagged = lag_table(panel, 1)["x_lag1"]
    assert lagged.isna().tolist() == [True, False, True, False, True, False, True]
    assert "max gap" in panel.time_unit


def test_max_gap_errors_name_the_parameter():
    df = _irregular()
    with pytest.raises(InputError, match="max_gap must be a duration"):
        Panel.from_frame(df, time_col="when", max_gap="soon")
    with pytest.raises(InputError, match="max_gap must be a positive duration"):
        Panel.from_frame(df, time_col="when", max_gap="0h")
    with pytest.raises(InputError, match="not with day_col and beep_col"):
        Panel.from_frame(_ema(), id_col="person", day_col="day", beep_col="beep",
                         max_gap="3h")
    bad = df.assign(when=df["when"].where(df.index != 3, "later"))
    with pytest.raises(DataError, match="column 'when': row 3 has 'later', which is not a "
                                        "date-time"):
        Panel.from_frame(bad, time_col="when", max_gap="3h")


def test_max_gap_same_time_is_a_duplicate():
    df = pd.concat([_irregular(), _irregular().iloc[[1]]], ignore_index=True)
    with pytest.raises(DataError, match=r"duplicate rows for patient 1 .*rows \[1, 7\]"):
        Panel.from_frame(df, time_col="when", max_gap="3h")
