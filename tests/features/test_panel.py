from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.errors import DataError
from features.exclusions import EXCLUSION_COLUMNS, ExclusionReport
from features.panel import Panel
from features.samples import usable_lagged_rows


def _frame(**overrides) -> pd.DataFrame:
    """Two patients x 4 weeks, two variables with within-patient variance."""
    base = {
        "patient": [1, 1, 1, 1, 2, 2, 2, 2],
        "week": [1, 2, 3, 4, 1, 2, 3, 4],
        "depression": [20.0, 18, 17, 15, 11, 12, 10, 9],
        "fear_others": [30.0, 29, 31, 25, 20, 22, 21, 19],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def _build(df: pd.DataFrame, **kw) -> Panel:
    kw.setdefault("tau_max", None)
    return Panel.from_frame(df, **kw)


# --------------------------------------------------------------------------- happy path


def test_basic_panel_structure():
    df = _frame().sample(frac=1.0, random_state=0)  # shuffled rows, original labels kept
    panel = _build(df, tau_max=1)
    assert panel.variables == ("depression", "fear_others")
    assert panel.id_col == "patient" and panel.time_col == "week" and panel.segments == ()
    assert panel.data.columns.tolist() == ["patient", "week", "depression", "fear_others"]
    # sorted by patient and time, indexed by the input labels
    assert panel.data[["patient", "week"]].to_numpy().tolist() == \
        _frame()[["patient", "week"]].to_numpy().tolist()
    assert panel.data.index.tolist() == list(range(8))
    for label, row in panel.data.iterrows():
        assert row.to_dict() == pytest.approx(_frame().loc[label].to_dict())
    assert panel.data["week"].dtype == np.int64
    assert panel.n_patients == 2 and panel.n_rows == 8
    assert panel.patients.tolist() == [1, 2]
    assert panel.time_unit is None
    assert panel.exclusions.n_rows == 0 and panel.exclusions.n_patients == 0


def test_input_frame_is_not_modified():
    df = _frame(depression=["20", "18", "NA", "15", "11", "12", "10", "9"])
    before = df.copy()
    _build(df, variables=["depression", "fear_others"])
    pd.testing.assert_frame_equal(df, before)


def test_float_integer_times_become_int():
    panel = _build(_frame(week=[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]))
    assert panel.data["week"].dtype == np.int64
    assert panel.data["week"].tolist() == [1, 2, 3, 4, 1, 2, 3, 4]


def test_default_variables_are_numeric_non_bool_columns(caplog):
    df = _frame(therapist=list("abababab"), flag=[True, False] * 4, day=[1, 1, 2, 2] * 2,
                count=pd.array([1, 2, None, 4, 5, 6, 7, 8], dtype="Int64"))
    with caplog.at_level("WARNING", logger="features.panel"):
        panel = _build(df, segments=["day"])
    assert panel.variables == ("depression", "fear_others", "count")
    assert "therapist" not in panel.data and "flag" not in panel.data
    assert panel.data["count"].dtype == np.float64
    # the non-numeric columns are not dropped silently: logged and in the report
    assert panel.exclusions.ignored_columns == ["therapist", "flag"]
    assert "'therapist' is not a numeric variable (text, e.g. 'a')" in caplog.text
    assert "'flag' is not a numeric variable (true/false values" in caplog.text
    rec = panel.exclusions.records.set_index("column")
    assert (rec["level"] == "column").all() and rec["patient"].isna().all()
    assert rec.loc["therapist", "reason"] == "ignored: not a numeric variable (text)"
    assert rec.loc["therapist", "value"] == "a"
    assert panel.exclusions.n_rows == 0 and panel.exclusions.n_patients == 0
    assert str(panel.exclusions).splitlines()[0] == (
        "ExclusionReport: 0 row(s) and 0 patient(s) excluded, 2 column(s) ignored")


@pytest.mark.parametrize("n_typos", [1, 3])
def test_default_variables_reject_a_mostly_numeric_column_with_typos(n_typos):
    # one (or a few) typos in a measure must not silently remove the measure
    values = ["20", "18", "17", "15", "11", "12", "10", "9"]
    for i in range(n_typos):
        values[5 + i - 1] = f"1{i}a"
    with pytest.raises(DataError) as info:
        _build(_frame(depression=values, group=list("xxxxyyyy")))
    msg = str(info.value)
    assert msg.startswith("column 'depression': row 4 has non-numeric value '10a' "
                          f"({n_typos} non-numeric value(s) in this column)")
    assert "most values are numbers" in msg


def test_default_variables_text_and_numeric_text_columns():
    df = _frame(
        group=["ctrl", "ctrl", "ctrl", "ctrl", "mbct", "4", "mbct", "mbct"],  # mostly text
        half=["1", "2", "a", "b", "3", "c", "4", "d"],  # exactly half numbers: text
        empty=pd.Series([None, "NA", ".", None, None, " ", None, None], dtype=object),
        anxiety=[" 3", "4", "NA", "5", "6", "7", "2", "1"],  # all numbers (or NA): a variable
        when=pd.date_range("2024-01-01", periods=8),
    )
    panel = _build(df)
    assert panel.variables == ("depression", "fear_others", "anxiety")
    assert panel.data["anxiety"].tolist()[:2] == [3.0, 4.0] and np.isnan(panel.data["anxiety"][2])
    reasons = panel.exclusions.records.set_index("column")["reason"].to_dict()
    assert reasons == {"group": "ignored: not a numeric variable (text)",
                       "half": "ignored: not a numeric variable (text)",
                       "empty": "ignored: not a numeric variable (no values)",
                       "when": "ignored: not a numeric variable (dates or durations)"}


def test_explicit_variables_report_no_ignored_columns():
    panel = _build(_frame(group=list("abababab")), variables=["depression"])
    assert panel.exclusions.ignored_columns == []
    assert panel.exclusions.records.empty


def test_explicit_variables_order_and_subset():
    panel = _build(_frame(), variables=["fear_others"])
    assert panel.variables == ("fear_others",)
    assert panel.data.columns.tolist() == ["patient", "week", "fear_others"]


def test_no_numeric_variables():
    df = pd.DataFrame({"patient": [1, 2], "week": [1, 1], "note": ["a", "b"]})
    with pytest.raises(DataError, match=r"no numeric variable columns besides 'patient' and "
                                        r"'week'; columns are \['patient', 'week', 'note'\]"):
        _build(df)


def test_custom_id_and_time_columns():
    df = _frame().rename(columns={"patient": "subjno", "week": "beep"})
    panel = _build(df, id_col="subjno", time_col="beep")
    assert panel.block_cols == ["subjno"]
    assert panel.data.columns[:2].tolist() == ["subjno", "beep"]


# --------------------------------------------------------------------------- column problems


@pytest.mark.parametrize(
    ("kw", "missing"),
    [
        ({"id_col": "pid"}, "pid"),
        ({"time_col": "t"}, "t"),
        ({"variables": ["depression", "anxiety"]}, "anxiety"),
        ({"segments": ["phase"]}, "phase"),
    ],
)
def test_missing_columns_are_named(kw, missing):
    with pytest.raises(DataError, match=re.escape(f"missing column(s) ['{missing}']")) as info:
        _build(_frame(), **kw)
    assert "available columns: ['patient', 'week', 'depression', 'fear_others']" in str(info.value)


def test_not_a_dataframe():
    with pytest.raises(DataError, match="expected a pandas DataFrame, got dict"):
        Panel.from_frame(_frame().to_dict())


def test_empty_frame():
    with pytest.raises(DataError, match="the data have no rows"):
        Panel.from_frame(_frame().iloc[:0])


def test_variable_listed_twice():
    with pytest.raises(DataError, match=re.escape("variables listed twice: ['depression']")):
        _build(_frame(), variables=["depression", "fear_others", "depression"])


@pytest.mark.parametrize("col", ["patient", "week"])
def test_variable_cannot_be_id_or_time(col):
    with pytest.raises(DataError, match=re.escape(f"column(s) ['{col}'] cannot be both")):
        _build(_frame(), variables=["depression", col])


def test_variable_cannot_be_segment():
    with pytest.raises(DataError, match=re.escape("column(s) ['day'] cannot be both")):
        _build(_frame(day=[1] * 8), variables=["depression", "day"], segments=["day"])


# --------------------------------------------------------------------------- values


def test_non_numeric_value_names_column_row_and_value():
    df = _frame(depression=["20", "18", "17", "high", "11", "12", "?", "9"])
    df.index = [f"r{i}" for i in range(8)]
    with pytest.raises(DataError) as info:
        _build(df, variables=["depression", "fear_others"])
    msg = str(info.value)
    assert msg.startswith("column 'depression': row r3 has non-numeric value 'high'")
    assert "(2 non-numeric value(s) in this column)" in msg


def test_non_numeric_message_with_duplicate_row_labels():
    df = pd.concat([_frame().iloc[:4], _frame().iloc[4:].reset_index(drop=True)])
    df["depression"] = df["depression"].astype(str)
    df.iloc[5, df.columns.get_loc("depression")] = "abc"
    with pytest.raises(DataError) as info:
        _build(df, variables=["depression"])
    assert str(info.value).startswith("column 'depression': row 1 has non-numeric value 'abc' (")


def _concat_frame() -> pd.DataFrame:
    """Per-patient frames stacked with pd.concat: labels 0..3 appear twice."""
    return pd.concat([_frame().iloc[:4], _frame().iloc[4:].reset_index(drop=True)])


def test_duplicate_row_labels_build_a_panel():
    df = _concat_frame()
    panel = _build(df, tau_max=1)
    assert panel.n_rows == 8 and panel.data.index.tolist() == [0, 1, 2, 3] * 2
    assert panel.data["depression"].tolist() == df["depression"].tolist()


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("fear_others", np.inf, "column 'fear_others': row 2 has non-finite value inf"),
        ("week", 2.5, "column 'week': row 2 has non-integer time 2.5"),
        ("week", np.inf, "column 'week': row 2 has non-finite time inf"),
    ],
)
def test_value_messages_with_duplicate_row_labels(column, value, expected):
    df = _concat_frame().astype({column: float})
    df.iloc[6, df.columns.get_loc(column)] = value  # second patient, label 2
    with pytest.raises(DataError) as info:
        _build(df)
    assert str(info.value).startswith(expected)


def test_duplicate_patient_time_with_duplicate_row_labels():
    df = _concat_frame()
    df.iloc[7, df.columns.get_loc("week")] = 3  # patient 2 has week 3 twice (labels 2 and 3)
    with pytest.raises(DataError, match=re.escape(
            "duplicate rows for patient 2 at week=3 (rows [2, 3])")):
        _build(df)


def test_decimal_comma_is_non_numeric():
    df = _frame(depression=["20", "18,5", "17", "15", "11", "12", "10", "9"])
    with pytest.raises(DataError, match=r"column 'depression': row 1 has non-numeric value '18,5'"):
        _build(df, variables=["depression"])


@pytest.mark.parametrize(
    "token", ["", " ", "NA", "na", " NA ", "N/A", "n/a", "NaN", "nan", "NULL", "null", ".", "-",
              "None", "none", None, np.nan, pd.NA],
)
def test_na_like_strings_are_missing(token):
    values = ["20", token, "17", " 15 ", 11, 12.5, "10", "9"]
    panel = _build(_frame(depression=pd.Series(values, dtype=object)),
                   variables=["depression", "fear_others"])
    col = panel.data["depression"]
    assert col.dtype == np.float64
    assert np.isnan(col.loc[1])
    assert col.drop(1).tolist() == [20, 17, 15, 11, 12.5, 10, 9]


def test_string_numbers_with_whitespace_are_numeric():
    panel = _build(_frame(depression=[" 1", "2 ", "3", "4.5", "1e1", "-2", "+3", "0"]),
                   variables=["depression"])
    assert panel.data["depression"].tolist() == [1, 2, 3, 4.5, 10, -2, 3, 0]


def test_bool_variable_is_converted_when_named():
    panel = _build(_frame(flag=[True, False] * 4), variables=["flag"])
    assert panel.data["flag"].tolist() == [1.0, 0.0] * 4


@pytest.mark.parametrize("value", [np.inf, -np.inf, "inf", "-Infinity"])
def test_infinite_values_name_column_row_and_value(value):
    vals = pd.Series([20.0, 18, 17, 15, 11, 12, 10, 9], dtype=object)
    vals[5] = value
    if not isinstance(value, str):
        vals = vals.astype(float)
    with pytest.raises(DataError) as info:
        _build(_frame(fear_others=vals), variables=["depression", "fear_others"])
    msg = str(info.value)
    assert msg.startswith("column 'fear_others': row 5 has non-finite value")
    assert "inf" in msg
    assert "(1 non-finite value(s) in this column)" in msg


# --------------------------------------------------------------------------- time


@pytest.mark.parametrize("bad", [2.5, 0.1])
def test_non_integer_time(bad):
    week = [1, 2, 3, 4, 1, bad, 3, 4]
    with pytest.raises(DataError, match=r"column 'week': row 5 has non-integer time") as info:
        _build(_frame(week=week))
    assert str(bad) in str(info.value)
    assert "time must be integer steps or dates" in str(info.value)


def test_unparsable_time():
    week = ["2024-01-01", "2024-01-08", "soon", "2024-01-22"] * 2
    with pytest.raises(DataError, match=r"column 'week': row 2 has time 'soon', which is neither "
                                        r"an integer nor a date"):
        _build(_frame(week=week))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e30])
def test_non_finite_time(bad):
    week = [1.0, 2, 3, 4, 1, 2, bad, 4]
    with pytest.raises(DataError, match=r"column 'week': row 6"):
        _build(_frame(week=week))


def test_messages_show_plain_numbers():
    with pytest.raises(DataError) as info:
        _build(_frame(week=[1, 2, 3, 4, 1, 2.5, 3, 4]))
    assert "np." not in str(info.value)


@pytest.mark.parametrize(
    ("week", "expected"),
    [
        ([1.0, 2, 3, 4, 1, 2, np.inf, 4], "row 6 has non-finite time inf; time must be"),
        ([1.0, 2, 3, 4, 1, 2, -np.inf, 4], "row 6 has non-finite time -inf;"),
        ([1.0, 2, 3, 4, 1, 2, 1e30, 4], "row 6 has time 1e+30, too large for integer time steps"),
        ([1, 2, 3, 4, 1, 2, 2**60, 4], f"row 6 has time {2**60}, too large for integer time"),
        (["1", "2", "3", "4", "1", "2", "inf", "4"], "row 6 has non-finite time 'inf';"),
    ],
)
def test_non_finite_and_huge_times_name_row_and_value(week, expected):
    with pytest.raises(DataError) as info:
        _build(_frame(week=week))
    assert str(info.value).startswith("column 'week': " + expected)


def test_largest_accepted_time_keeps_every_step():
    big = 2**53 - 10
    panel = _build(_frame(week=[big + w for w in (1, 2, 3, 4)] * 2))
    assert panel.data["week"].tolist() == [big + w for w in (1, 2, 3, 4)] * 2


def test_text_times_holding_integers_are_integer_steps():
    panel = _build(_frame(week=["1", " 2", "3 ", "4", "1", "2", "3", "5"]))
    assert panel.time_unit is None
    assert panel.data["week"].tolist() == [1, 2, 3, 4, 1, 2, 3, 5]


@pytest.mark.parametrize(
    ("overrides", "needles"),
    [
        ({"week": [1.0, 2, 3, 4, 1, 2.5, 3, 4]}, ["non-integer time 2.5;"]),
        ({"fear_others": [30.0, 29, 31, 25, 20, np.inf, 21, 19]}, ["non-finite value inf "]),
        ({"patient": [1.0] * 4 + [3.0] * 4, "week": [1.0, 2, 3, 4, 1, 4, 3, 4]},
         ["duplicate rows for patient 3 at week=4 (rows [5, 7])"]),
        ({"week": ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22",
                   "2024-01-01", "2024-01-09", "2024-01-15", "2024-01-22"]},
         ["row 5 date '2024-01-09'", "first date of patient 2 ('2024-01-01 00:00:00')"]),
    ],
)
def test_messages_show_plain_numbers_everywhere(overrides, needles):
    with pytest.raises(DataError) as info:
        _build(_frame(**overrides))
    msg = str(info.value)
    assert "np." not in msg and "float64" not in msg and "int64" not in msg, msg
    for needle in needles:
        assert needle in msg, msg


# --------------------------------------------------------------------------- dates


def _weekly(start: str, weeks: list[int]) -> list[pd.Timestamp]:
    return [pd.Timestamp(start) + pd.Timedelta(weeks=w) for w in weeks]


def test_weekly_dates_become_integer_steps():
    weeks = [0, 1, 2, 4, 0, 1, 3, 5]  # gaps stay gaps
    dates = _weekly("2024-01-01", weeks[:4]) + _weekly("2024-02-05", weeks[4:])
    panel = _build(_frame(week=[d.strftime("%Y-%m-%d") for d in dates]))
    assert panel.time_unit == str(pd.Timedelta(days=7))
    assert panel.data["week"].dtype == np.int64
    diffs = panel.data.groupby("patient")["week"].diff().dropna().tolist()
    assert diffs == [1, 1, 2, 1, 2, 2]
    # steps are whole weeks; the earliest date is step 0
    assert panel.data["week"].tolist()[:4] == [0, 1, 2, 4]


def test_datetime64_column_and_inferred_step_is_most_common_difference():
    # patient 1 weekly with one 2-week gap, patient 2 weekly: the mode is 7 days
    dates = pd.to_datetime(_weekly("2024-01-01", [0, 1, 3, 4])
                           + _weekly("2024-01-01", [0, 1, 2, 3]))
    panel = _build(_frame(week=dates))
    assert panel.time_unit == str(pd.Timedelta(days=7))
    assert panel.data["week"].tolist() == [0, 1, 3, 4, 0, 1, 2, 3]


def test_inferred_daily_step():
    dates = pd.date_range("2024-03-01", periods=4, freq="D").tolist() * 2
    panel = _build(_frame(week=dates))
    assert panel.time_unit == str(pd.Timedelta(days=1))
    assert panel.data["week"].tolist() == [0, 1, 2, 3] * 2


def test_explicit_time_step():
    dates = _weekly("2024-01-01", [0, 1, 2, 3]) * 2
    panel = _build(_frame(week=dates), time_step="1D")
    assert panel.time_unit == str(pd.Timedelta(days=1))
    assert panel.data["week"].tolist() == [0, 7, 14, 21] * 2
    panel = _build(_frame(week=dates), time_step=pd.Timedelta(days=7))
    assert panel.data["week"].tolist() == [0, 1, 2, 3] * 2


def test_dates_not_a_multiple_of_the_step():
    dates = [d.strftime("%Y-%m-%d") for d in _weekly("2024-01-01", [0, 1, 2, 3]) * 2]
    dates[6] = "2024-01-17"  # 16 days after the first date
    with pytest.raises(DataError, match=re.escape(
            "column 'week': row 6 date '2024-01-17' is not a whole number of time steps "
            f"({pd.Timedelta(days=7)})")):
        _build(_frame(week=dates))


def test_non_positive_time_step():
    dates = _weekly("2024-01-01", [0, 1, 2, 3]) * 2
    with pytest.raises(DataError, match="time_step must be positive, got '-7D'"):
        _build(_frame(week=dates), time_step="-7D")


def test_time_step_cannot_be_inferred():
    df = pd.DataFrame({"patient": [1, 2, 3], "week": ["2024-01-01", "2024-01-08", "2024-01-15"],
                       "x": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match=r"cannot infer the time step .*; pass time_step"):
        _build(df)


def test_weekly_dates_with_patient_specific_start_days():
    dates = _weekly("2024-01-01", [0, 1, 2, 3]) + _weekly("2024-01-03", [0, 1, 2, 3])
    panel = _build(_frame(week=dates), time_step="7D")
    assert panel.data.groupby("patient")["week"].diff().dropna().tolist() == [1] * 6


def test_inferred_step_does_not_depend_on_row_order():
    dates = _weekly("2024-01-01", [0, 2, 1, 3, 4, 6, 5, 7])
    df = pd.DataFrame({"patient": [1] * 8, "week": dates, "x": np.arange(8.0)})
    panel = _build(df)
    assert panel.time_unit == str(pd.Timedelta(days=7))
    assert panel.data["week"].tolist() == list(range(8))


def test_patients_starting_on_different_weekdays_with_inferred_step():
    # patient 1 starts on a Monday, patient 2 on a Wednesday, patient 3 on a Sunday with a gap
    starts = {1: "2024-01-01", 2: "2024-01-03", 3: "2024-01-07"}
    weeks = {1: [0, 1, 2, 3], 2: [0, 1, 2, 3], 3: [0, 2, 3, 4]}
    rows = [(p, d) for p in starts for d in _weekly(starts[p], weeks[p])]
    df = pd.DataFrame(rows, columns=["patient", "week"])
    df["x"] = np.arange(len(df), dtype=float) % 5
    panel = _build(df.sample(frac=1.0, random_state=1))  # row order must not matter
    assert panel.time_unit == str(pd.Timedelta(days=7))
    # each patient's first date is step 0; a 2-week gap stays a gap
    for p in starts:
        assert panel.data.loc[panel.data["patient"] == p, "week"].tolist() == weeks[p]


def test_per_patient_origin_keeps_off_grid_dates_an_error():
    # patient 2 starts on its own day (fine) but one visit is 3 days late (not fine)
    dates = _weekly("2024-01-01", [0, 1, 2, 3]) + _weekly("2024-01-03", [0, 1, 2, 3])
    dates[6] += pd.Timedelta(days=3)
    with pytest.raises(DataError, match=re.escape(
            f"row 6 date '{dates[6]}' is not a whole number of time steps "
            f"({pd.Timedelta(days=7)}) from the first date of patient 2 ('2024-01-03 00:00:00')")):
        _build(_frame(week=dates))


# --------------------------------------------------------------------------- duplicates


def test_duplicates_name_patient_time_and_rows():
    df = _frame(week=[1, 2, 2, 4, 1, 2, 3, 3], patient=["a"] * 4 + ["b"] * 4)
    df.index = [10, 11, 12, 13, 14, 15, 16, 17]
    with pytest.raises(DataError) as info:
        _build(df)
    msg = str(info.value)
    assert msg.startswith("duplicate rows for patient 'a' at week=2 (rows [11, 12])")
    assert "4 rows in duplicate (patient, week) groups" in msg


def test_duplicate_message_with_numeric_ids():
    msg = r"duplicate rows for patient 1 at week=2 \(rows \[1, 2\]\)"
    with pytest.raises(DataError, match=msg):
        _build(_frame(week=[1, 2, 2, 4, 1, 2, 3, 4]))


def test_same_time_in_different_segments_is_not_a_duplicate():
    df = _frame(week=[1, 2, 1, 2, 1, 2, 1, 2], day=[1, 1, 2, 2, 1, 1, 2, 2])
    panel = _build(df, segments=["day"])
    assert panel.segments == ("day",)
    assert panel.block_cols == ["patient", "day"]
    assert panel.data.columns.tolist() == ["patient", "day", "week", "depression", "fear_others"]
    with pytest.raises(DataError, match="duplicate rows"):
        _build(df)  # without the segment they collide


def test_duplicate_of_an_all_missing_row_is_excluded_not_an_error():
    df = _frame(week=[1, 2, 2, 4, 1, 2, 3, 4])
    df.loc[2, ["depression", "fear_others"]] = np.nan
    panel = _build(df)
    assert 2 not in panel.data.index
    assert panel.exclusions.records["row"].tolist() == [2]


# --------------------------------------------------------------------------- variance


def test_constant_variable_in_every_patient():
    with pytest.raises(DataError, match=re.escape(
            "column 'fear_others': zero within-patient variance (constant within every patient)")):
        _build(_frame(fear_others=[3.0] * 4 + [5.0] * 4))


def test_variable_never_observed():
    with pytest.raises(DataError, match=re.escape(
            "column 'fear_others': zero within-patient variance (never observed)")):
        _build(_frame(fear_others=[np.nan] * 8))


def test_variable_observed_once_per_patient_has_no_within_variance():
    fear = [np.nan, 3.0, np.nan, np.nan, 7.0, np.nan, np.nan, np.nan]
    with pytest.raises(DataError, match="'fear_others': zero within-patient variance"):
        _build(_frame(fear_others=fear))


def test_constant_in_one_patient_only_is_fine():
    panel = _build(_frame(fear_others=[3.0] * 4 + [5.0, 6, 7, 8]))
    assert panel.n_patients == 2


# --------------------------------------------------------------------------- exclusions


def test_row_exclusions_are_counted_with_reasons():
    df = pd.concat([_frame(), _frame(patient=[3] * 8, week=list(range(1, 9)))],
                   ignore_index=True).iloc[:12]
    df["day"] = [1, 1, 2, 2] * 3
    df["patient"] = df["patient"].astype(float)
    df.loc[0, "patient"] = np.nan
    df.loc[1, "week"] = np.nan
    df.loc[5, "day"] = np.nan
    df.loc[[3, 6], ["depression", "fear_others"]] = np.nan
    df.loc[7, "depression"] = np.nan  # one variable missing: kept
    df.index = df.index + 2  # file line numbers
    panel = _build(df, segments=["day"])
    rec = panel.exclusions.records
    assert rec.columns.tolist() == list(EXCLUSION_COLUMNS)
    assert (rec["level"] == "row").all()
    by_reason = {r: g for r, g in rec.groupby("reason")}
    assert set(by_reason) == {"missing patient id", "missing time", "missing segment 'day'",
                              "every variable missing"}
    assert by_reason["missing patient id"]["row"].tolist() == [2]
    assert by_reason["missing patient id"]["column"].tolist() == ["patient"]
    assert by_reason["missing time"]["row"].tolist() == [3]
    assert by_reason["missing time"]["patient"].tolist() == [1.0]
    assert by_reason["missing time"]["column"].tolist() == ["week"]
    assert by_reason["missing segment 'day'"]["row"].tolist() == [7]
    assert by_reason["missing segment 'day'"]["patient"].tolist() == [2.0]
    assert by_reason["every variable missing"]["row"].tolist() == [5, 8]
    assert by_reason["every variable missing"]["patient"].tolist() == [1.0, 2.0]
    assert panel.exclusions.n_rows == 5 and panel.exclusions.n_patients == 0
    # nothing dropped silently: kept + excluded == input
    assert sorted([*panel.data.index, *rec["row"]]) == df.index.tolist()
    assert np.isnan(panel.data.loc[9, "depression"])
    assert panel.n_rows == 7 and panel.patients.tolist() == [1.0, 2.0, 3.0]


def test_all_rows_empty():
    df = _frame(depression=[np.nan] * 8, fear_others=[np.nan] * 8)
    with pytest.raises(DataError, match="no rows left after removing rows"):
        _build(df)


def test_short_patients_are_excluded_and_reported():
    # patient 1: weeks 1-4 complete -> 3 usable lag-1 rows; patient 2: gaps -> 1; patient 3: 0
    df = pd.DataFrame({
        "patient": [1, 1, 1, 1, 2, 2, 2, 3, 3],
        "week": [1, 2, 3, 4, 1, 2, 4, 1, 3],
        "x": [1.0, 3, 2, 5, 4, 2, 6, 1, 2],
        "y": [2.0, 1, 4, 3, 5, 8, 6, 1, 2],
    })
    panel = Panel.from_frame(df, tau_max=1, min_lagged_rows=2)
    assert panel.patients.tolist() == [1]
    rec = panel.exclusions.records
    assert rec["level"].tolist() == ["patient", "patient"]
    assert rec["patient"].tolist() == [2, 3]
    assert rec["value"].tolist() == [1, 0]  # their usable-row counts
    assert set(rec["reason"]) == {"fewer than 2 usable lagged rows at tau_max=1"}
    assert panel.exclusions.n_patients == 2 and panel.exclusions.n_rows == 0
    # a higher threshold keeps nobody; a lower one keeps patient 2
    assert Panel.from_frame(df, tau_max=1, min_lagged_rows=1).patients.tolist() == [1, 2]
    with pytest.raises(DataError, match=r"no patient has at least 4 usable lagged rows at "
                                        r"tau_max=1 \(most has 3\)"):
        Panel.from_frame(df, tau_max=1, min_lagged_rows=4)
    # tau_max=0 counts complete rows; None skips the check
    assert Panel.from_frame(df, tau_max=0, min_lagged_rows=2).n_patients == 3
    assert Panel.from_frame(df, tau_max=None, min_lagged_rows=100).n_patients == 3


def test_short_check_respects_missing_values_and_segments():
    df = pd.DataFrame({
        "patient": [1] * 6 + [2] * 4,
        "day": [1, 1, 1, 2, 2, 2, 1, 1, 1, 1],
        "week": [1, 2, 3, 4, 5, 6, 1, 2, 3, 4],
        "x": [1.0, 2, 3, 4, 5, 6, 1, np.nan, 3, 4],
    })
    panel = _build(df, segments=["day"])
    # patient 1: rows at week 2,3 (day 1) and 5,6 (day 2) -> 4; week 4 crosses the day boundary
    # patient 2: week 2 missing -> only week 4 usable
    assert panel.usable_lagged_rows(1).to_dict() == {1: 4, 2: 1}
    assert panel.usable_lagged_rows(2).to_dict() == {1: 2, 2: 0}
    assert panel.usable_lagged_rows(0).to_dict() == {1: 6, 2: 3}


@pytest.mark.parametrize("tau", [-1, 1.5, "1"])
def test_drop_short_rejects_bad_tau(tau):
    panel = _build(_frame())
    with pytest.raises(DataError, match=re.escape(f"tau_max must be a non-negative integer, got "
                                                  f"{tau!r}")):
        panel.drop_short(tau)


# --------------------------------------------------------------------------- panel methods


def test_select_subset_describe_str():
    df = _frame()
    df.loc[1, "depression"] = np.nan
    panel = _build(df)
    sel = panel.select(["fear_others"])
    assert sel.variables == ("fear_others",)
    assert sel.data.columns.tolist() == ["patient", "week", "fear_others"]
    with pytest.raises(DataError, match="missing column"):
        panel.select(["anxiety"])
    sub = panel.subset([2])
    assert sub.patients.tolist() == [2] and sub.n_rows == 4
    d = panel.describe()
    assert d == {"patients": 2, "rows": 8, "rows_per_patient_median": 4.0,
                 "missing_values": {"depression": 1, "fear_others": 0},
                 "rows_excluded": 0, "patients_excluded": 0}
    assert str(panel) == ("Panel: 2 patients, 8 rows, variables depression, fear_others; "
                          "0 rows and 0 patients excluded")
    with pytest.raises(AttributeError):
        panel.variables = ("x",)  # frozen


# --------------------------------------------------------------------------- ExclusionReport


def _report() -> ExclusionReport:
    return (ExclusionReport.empty()
            .add("row", "missing time", [1, 1, 2], rows=[3, 7, 9], column="week")
            .add("row", "every variable missing", [2], rows=[12])
            .add("patient", "too short", [5, 6], values=[0, 1]))


def test_report_add_counts_and_immutability():
    empty = ExclusionReport.empty()
    assert empty.records.columns.tolist() == list(EXCLUSION_COLUMNS)
    assert empty.add("row", "x", []) is empty
    rep = _report()
    assert empty.records.empty  # add returned a new report
    assert rep.n_rows == 4 and rep.n_patients == 2
    assert rep.records["row"].tolist()[:4] == [3, 7, 9, 12]
    assert rep.records["column"].tolist()[:3] == ["week"] * 3
    assert rep.records["value"].tolist()[4:] == [0, 1]
    assert rep.records["row"].iloc[4:].isna().all()


def test_report_summary():
    summary = _report().summary()
    assert summary.columns.tolist() == ["level", "reason", "count"]
    assert summary.to_numpy().tolist() == [["row", "missing time", 3],
                                           ["row", "every variable missing", 1],
                                           ["patient", "too short", 2]]
    assert ExclusionReport.empty().summary().columns.tolist() == ["level", "reason", "count"]
    assert ExclusionReport.empty().summary().empty


def test_report_str():
    assert str(_report()).splitlines() == [
        "ExclusionReport: 4 row(s) and 2 patient(s) excluded",
        "  row: missing time: 3 row(s)",
        "  row: every variable missing: 1 row(s)",
        "  patient: too short: 2 patient(s)",
    ]
    assert str(ExclusionReport.empty()) == "ExclusionReport: 0 row(s) and 0 patient(s) excluded"


def test_report_to_csv(tmp_path):
    rep = _report()
    path = rep.to_csv(tmp_path / "exclusions.csv")
    assert path == tmp_path / "exclusions.csv"
    back = pd.read_csv(path)
    assert back.columns.tolist() == list(EXCLUSION_COLUMNS)
    assert len(back) == 6
    assert back["reason"].tolist() == rep.records["reason"].tolist()
    assert back["row"].tolist()[:4] == [3, 7, 9, 12]
    empty_path = ExclusionReport.empty().to_csv(tmp_path / "none.csv")
    assert empty_path.read_text().strip() == ",".join(EXCLUSION_COLUMNS)


def test_report_merge():
    a = ExclusionReport.empty().add("row", "missing time", [1], rows=[3])
    b = ExclusionReport.empty().add("patient", "too short", [2, 3])
    merged = a.merge(b)
    assert merged.n_rows == 1 and merged.n_patients == 2
    assert merged.records["reason"].tolist() == ["missing time", "too short", "too short"]
    assert a.n_patients == 0 and b.n_rows == 0  # inputs untouched
    empty = ExclusionReport.empty()
    assert empty.merge(a).records.equals(a.records)
    assert a.merge(empty).records.equals(a.records)
    assert empty.merge(empty).records.empty


def test_panel_report_matches_printed_summary():
    df = _frame()
    df.loc[[0, 1], ["depression", "fear_others"]] = np.nan
    panel = Panel.from_frame(df, tau_max=1, min_lagged_rows=3)
    assert str(panel.exclusions).splitlines() == [
        "ExclusionReport: 2 row(s) and 1 patient(s) excluded",
        "  row: every variable missing: 2 row(s)",
        "  patient: fewer than 3 usable lagged rows at tau_max=1: 1 patient(s)",
    ]


# --------------------------------------------------------------------------- usable_lagged_rows


def _brute_usable(df: pd.DataFrame, keys: list[str], variables: list[str], tau: int) -> dict:
    complete = {}
    for _, r in df.iterrows():
        complete[(*(r[k] for k in keys), r["week"])] = bool(r[variables].notna().all())
    counts = dict.fromkeys(df[keys[0]].unique(), 0)
    for _, r in df.iterrows():
        block = tuple(r[k] for k in keys)
        if all(complete.get((*block, r["week"] - k), False) for k in range(tau + 1)):
            counts[r[keys[0]]] += 1
    return counts


@st.composite
def _gappy_frames(draw):
    n_patients = draw(st.integers(1, 4))
    rows = []
    for p in range(n_patients):
        for seg in draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2,
                                 unique=True)):
            times = draw(st.lists(st.integers(-2, 12), min_size=1, max_size=10, unique=True))
            rows += [(p * 7 + 3, seg, t) for t in times]
    df = pd.DataFrame(rows, columns=["patient", "seg", "week"])
    mask = np.array(draw(st.lists(st.lists(st.booleans(), min_size=2, max_size=2),
                                  min_size=len(df), max_size=len(df))))
    df["x"] = np.where(mask[:, 0], np.nan, np.arange(len(df), dtype=float))
    df["y"] = np.where(mask[:, 1], np.nan, -np.arange(len(df), dtype=float))
    order = draw(st.permutations(range(len(df))))
    return df.iloc[list(order)]


@settings(derandomize=True, max_examples=120, deadline=None)
@given(df=_gappy_frames(), tau=st.integers(0, 3), use_segments=st.booleans(),
       half=st.booleans(), in_order=st.booleans())
def test_usable_lagged_rows_matches_brute_force(df, tau, use_segments, half, in_order):
    # Random gappy multi-patient panels with segments, shuffled or in panel order;
    # with `half`, some rows sit half a step off the grid (they only ever meet each other).
    keys = ["patient", "seg"] if use_segments else ["patient"]
    if not use_segments:
        df = df.drop_duplicates(["patient", "week"])
    if half:
        df = df.assign(week=df["week"] + np.where(df["x"].notna() & (df["week"] % 3 == 0),
                                                  0.5, 0.0))
    if in_order:
        df = df.sort_values([*keys, "week"], kind="stable")
    got = usable_lagged_rows(df, keys, "week", ["x", "y"], tau)
    want = _brute_usable(df, keys, ["x", "y"], tau)
    assert got.to_dict() == want
    assert list(got.index) == sorted(want) and got.dtype == np.int64


def test_patient_with_every_row_excluded_gets_a_patient_record():
    # A patient who never answered (all variables missing) loses every row at row level;
    # the patient must also appear as an excluded patient, not vanish.
    df = pd.DataFrame({"patient": [1, 1, 1, 2, 2, 2], "week": [1, 2, 3, 1, 2, 3],
                       "x": [1.0, 2.0, 4.0, np.nan, np.nan, np.nan],
                       "y": [0.5, 0.1, 0.9, np.nan, np.nan, np.nan]})
    panel = Panel.from_frame(df, tau_max=None)
    rec = panel.exclusions.records
    assert panel.exclusions.n_rows == 3
    assert rec.loc[rec["level"] == "patient", "patient"].tolist() == [2]
    assert "every row excluded" in rec.loc[rec["level"] == "patient", "reason"].iloc[0]


# --------------------------------------------------------------------------- issue 12: misreads


def test_duplicate_column_names_are_refused_by_name():
    df = _frame()
    df.columns = ["patient", "week", "x", "x"]
    with pytest.raises(DataError, match=r"duplicate column name\(s\) \['x'\]"):
        _build(df)


@pytest.mark.parametrize(("kw", "words"), [
    ({"id_col": "week", "time_col": "week"}, "column 'week' is given as both the id and the time"),
    ({"segments": ["week"]}, "column 'week' is given as both the time and the segment"),
    ({"segments": ["patient"]}, "column 'patient' is given as both the id and the segment"),
    ({"segments": ["depression", "depression"]}, "column 'depression' is listed twice as a "
                                                 "segment"),
])
def test_one_column_in_two_roles(kw, words):
    with pytest.raises(DataError, match=re.escape(words)):
        _build(_frame(), **kw)


def test_ids_differing_only_in_blanks_are_refused_naming_both():
    df = _frame(patient=["P7", "P7 ", "P7", "P7", "P8", "P8", "P8", "P8"])
    df.index = range(2, 10)
    with pytest.raises(DataError, match=re.escape("patient ids 'P7' (row 2) and 'P7 ' (row 3) "
                                                  "differ only in surrounding blanks")):
        _build(df)


def test_text_ids_are_distinct_labels():
    panel = _build(_frame(patient=["007"] * 4 + ["7"] * 4))
    assert sorted(panel.patients.tolist()) == ["007", "7"]
    panel = _build(_frame(patient=["P7 "] * 4 + ["P8"] * 4))  # a blank but no clash: kept
    assert panel.n_patients == 2


@pytest.mark.parametrize("typo", [10**12, 10**9, 20240115])
def test_time_span_far_beyond_the_rows_names_patient_row_and_value(typo):
    week = [1, 2, 3, 4, 1, 2, typo, 4]
    with pytest.raises(DataError, match=re.escape(
            f"patient 2: column 'week' spans {typo - 1} time steps over 4 rows, more than 1000 "
            f"(max(1000, 50 x 4 rows)); row 6 has week {typo}")):
        _build(_frame(week=week))


def test_time_span_rule_and_max_span():
    week = [1, 2, 3, 4, 1, 2, 3, 1001]  # span 1000 = the floor: allowed
    assert _build(_frame(week=week)).n_rows == 8
    with pytest.raises(DataError, match=re.escape("more than 10 (max_span=10); row 7 has week "
                                                  "1001")):
        _build(_frame(week=week), max_span=10)
    week = [1, 2, 3, 4, 1, 2, 3, 1002]
    with pytest.raises(DataError, match="spans 1001 time steps"):
        _build(_frame(week=week))
    assert _build(_frame(week=[1, 2, 3, 4, 1, 2, 3, 10**12]), max_span=10**12).n_rows == 8
    with pytest.raises(ValueError, match="max_span must be an integer >= 1"):
        _build(_frame(), max_span=0)


def test_span_uses_the_date_steps():
    typo = str((pd.Timestamp("2024-01-15") + pd.Timedelta(weeks=52 * 200)).date())  # year 2223
    week = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22",
            "2024-01-01", "2024-01-08", typo, "2024-01-22"]
    with pytest.raises(DataError, match=re.escape(f"spans 10402 time steps over 4 rows, more "
                                                  f"than 1000 (max(1000, 50 x 4 rows)); row 6 "
                                                  f"has week '{typo}'")):
        _build(_frame(week=week))


def test_integers_mixed_with_dates_name_both_rows():
    week = ["1", "2024-01-08", "2024-01-15", "2024-01-22"] * 2
    with pytest.raises(DataError, match=re.escape(
            "column 'week' mixes integer times and dates: row 0 has '1', row 1 has "
            "'2024-01-08'")):
        _build(_frame(week=week))


@pytest.mark.parametrize("stamp", ["2024-01-08T09:00:00+01:00", "2024-01-08 09:00Z",
                                   "2024-01-08 09:00:00 UTC", "2024-01-08T09:00:00-0500"])
def test_time_zones_are_refused_naming_row(stamp):
    week = ["2024-01-01", stamp, "2024-01-15", "2024-01-22"] * 2
    with pytest.raises(DataError, match=r"column 'week': row 1 has time .* with a time zone"):
        _build(_frame(week=week))


def test_time_zone_aware_dtype_is_refused():
    week = pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"] * 2)
    df = _frame(week=week.tz_localize("Europe/Oslo"))
    with pytest.raises(DataError, match=r"row 0 has time .* with a time zone \(Europe/Oslo\)"):
        _build(df)


_DAYS = ["01/03/2024", "02/03/2024", "03/03/2024", "04/03/2024"] * 2


def test_ambiguous_day_month_dates_need_dayfirst():
    with pytest.raises(DataError, match=re.escape(
            "column 'week': row 0 has date '01/03/2024', which reads as day/month or "
            "month/day")) as info:
        _build(_frame(week=_DAYS))
    assert "--dayfirst" in str(info.value)
    panel = _build(_frame(week=_DAYS), dayfirst=True)
    assert panel.time_unit == "1 days 00:00:00"
    assert panel.data["week"].tolist() == [0, 1, 2, 3] * 2
    with pytest.raises(ValueError, match="dayfirst must be"):
        _build(_frame(week=_DAYS), dayfirst="yes")


def test_day_first_is_inferred_from_a_day_above_12():
    days = ["10/03/2024", "11/03/2024", "12/03/2024", "13/03/2024"] * 2
    panel = _build(_frame(week=days))
    assert panel.data["week"].tolist() == [0, 1, 2, 3] * 2
    months = ["03/10/2024", "03/11/2024", "03/12/2024", "03/13/2024"] * 2
    assert _build(_frame(week=months)).data["week"].tolist() == [0, 1, 2, 3] * 2


def test_day_first_and_month_first_dates_in_one_column():
    week = ["13/03/2024", "03/14/2024", "03/15/2024", "03/16/2024"] * 2
    with pytest.raises(DataError, match=re.escape("row 0 has '13/03/2024' (day first) but row 1 "
                                                  "has '03/14/2024' (month first)")):
        _build(_frame(week=week))


@pytest.mark.parametrize("big", [1e308, -1e300, 1e101])
def test_overflowing_values_are_one_error_naming_the_column(big):
    x = [20.0, 18, big, 15, 11, 12, 10, 9]
    with pytest.raises(DataError, match=re.escape(f"column 'depression': row 2 has value "
                                                  f"{big!r}, too large to analyse")):
        _build(_frame(depression=x))


def test_far_out_values_are_warned_about_and_recorded(caplog):
    x = [20.0, 18, -999, 15, 11, 12, -999, 9]
    with caplog.at_level("WARNING", logger="features.panel"):
        panel = _build(_frame(depression=x))
    assert "column 'depression': 2 value(s) far outside" in caplog.text
    assert "-999 (2x)" in caplog.text and "--na-values" in caplog.text
    rec = panel.exclusions.records
    flagged = rec[rec["level"] == "warning"]
    assert flagged["row"].tolist() == [2, 6] and flagged["value"].tolist() == [-999, -999]
    assert set(flagged["column"]) == {"depression"}
    assert panel.exclusions.n_rows == 0 and panel.n_rows == 8  # analysed as given


def test_ordinary_spread_is_not_flagged(caplog):
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)  # |z| > 20 x MAD (about 13.5 SD) has probability ~0
    df = pd.DataFrame({"patient": np.repeat(np.arange(40), 10), "week": np.tile(np.arange(10), 40),
                       "x": x, "y": rng.integers(0, 28, size=400)})
    with caplog.at_level("WARNING", logger="features.panel"):
        panel = _build(df)
    assert "far outside" not in caplog.text
    assert (panel.exclusions.records["level"] != "warning").all()


@pytest.mark.parametrize("values", [["1,234", "2,345", "1,111", "3,456"],
                                    ["1,5", "2,5", "3,25", "1,75"],
                                    ["1 234", "2 345", "1 111", "3 456"]])
def test_numbers_with_separators_are_an_error_unless_dropped(values):
    df = _frame(anxiety=values * 2)
    with pytest.raises(DataError, match=re.escape(
            f"column 'anxiety': row 0 has '{values[0]}', a number written with a thousands "
            "separator or a decimal comma (8 such value(s))")) as info:
        _build(df)
    assert "--drop-text-columns" in str(info.value) and "--decimal ," in str(info.value)
    panel = _build(df, drop_text_columns=True)
    assert panel.variables == ("depression", "fear_others")
    assert panel.exclusions.ignored_columns == ["anxiety"]


def test_label_columns_are_still_ignored_without_opt_in():
    panel = _build(_frame(group=["CBT", "CBT", "CBT", "CBT", "TAU", "TAU", "TAU", "TAU"]))
    assert panel.exclusions.ignored_columns == ["group"]


def test_integers_mixed_with_non_dates_name_the_non_date():
    week = ["1", "2", "soon", "4"] * 2
    with pytest.raises(DataError, match=re.escape("column 'week': row 2 has time 'soon', which "
                                                  "is neither an integer nor a date")):
        _build(_frame(week=week))


def test_dotted_dates_are_not_numbers_with_separators():
    dates = ["15.01.2024", "22.01.2024", "29.01.2024", "05.02.2024"] * 2
    panel = _build(_frame(visit=dates))
    assert panel.exclusions.ignored_columns == ["visit"]
