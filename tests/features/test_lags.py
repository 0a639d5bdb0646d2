from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.io import read_table
from features.lags import lag_name, lag_table
from features.panel import Panel

BRINGMANN = Path(__file__).resolve().parents[2] / "features" / "data" / "bringmann2013_mbct_esm.txt"
PROPERTY = settings(derandomize=True, max_examples=60, deadline=None)


def _panel(segments: bool = False) -> Panel:
    df = pd.DataFrame({
        "patient": [1, 1, 1, 1, 1, 2, 2, 2, 2],
        "phase": [0, 0, 0, 1, 1, 0, 0, 0, 0],
        "week": [1, 2, 4, 5, 6, 3, 4, 5, 6],
        "x": [1.0, 2, 4, 5, 6, 13, 14, np.nan, 16],
        "y": [-1.0, -2, -4, -5, -6, -13, -14, -15, -16],
    })
    df.index = df.index + 2
    return Panel.from_frame(df, segments=["phase"] if segments else [], variables=["x", "y"],
                            tau_max=None)


# --------------------------------------------------------------------------- lag_table


def test_lag_name():
    assert lag_name("x", 0) == "x"
    assert lag_name("x", 1) == "x_lag1"
    assert lag_name("fear_others", 12) == "fear_others_lag12"


def test_lag_table_gaps_are_missing_never_previous_row():
    table = lag_table(_panel(), 2)
    assert table.columns.tolist() == ["patient", "week", "x", "y", "x_lag1", "y_lag1",
                                      "x_lag2", "y_lag2"]
    pd.testing.assert_index_equal(table.index, _panel().data.index)
    t = table.set_index(["patient", "week"])
    # week 4 of patient 1: week 3 is missing, so lag 1 is missing (not week 2's value) ...
    assert np.isnan(t.loc[(1, 4), "x_lag1"]) and np.isnan(t.loc[(1, 4), "y_lag1"])
    # ... while lag 2 is week 2
    assert t.loc[(1, 4), "x_lag2"] == 2 and t.loc[(1, 4), "y_lag2"] == -2
    assert t.loc[(1, 6), "x_lag1"] == 5 and t.loc[(1, 6), "x_lag2"] == 4
    # first week of patient 2 does not reach back into patient 1 (which has weeks 1, 2)
    assert t.loc[(2, 3), ["x_lag1", "x_lag2"]].isna().all()
    # a missing value is lagged as missing, the other variable is unaffected
    assert np.isnan(t.loc[(2, 6), "x_lag1"]) and t.loc[(2, 6), "y_lag1"] == -15
    assert t.loc[(2, 6), "x_lag2"] == 14


def test_lag_table_never_crosses_segments():
    table = lag_table(_panel(segments=True), 1).set_index(["patient", "phase", "week"])
    # week 5 is the first week of phase 1: week 4 (phase 0) is not its lag
    assert np.isnan(table.loc[(1, 1, 5), "x_lag1"])
    assert table.loc[(1, 1, 6), "x_lag1"] == 5
    assert table.loc[(1, 0, 2), "x_lag1"] == 1
    # without segments, week 4 is the lag of week 5
    assert lag_table(_panel(), 1).set_index(["patient", "week"]).loc[(1, 5), "x_lag1"] == 4


def test_lag_table_tau_zero_is_the_data():
    panel = _panel(segments=True)
    pd.testing.assert_frame_equal(lag_table(panel, 0), panel.data)


def test_lag_table_dropna():
    full = lag_table(_panel(), 1)
    complete = lag_table(_panel(), 1, dropna=True)
    assert complete.index.tolist() == [3, 5, 6, 8]  # (1,2), (1,5), (1,6), (2,4)
    assert not complete.isna().any().any()
    pd.testing.assert_frame_equal(complete, full.loc[complete.index])
    assert len(complete) == _panel().usable_lagged_rows(1).sum()


@pytest.mark.parametrize("tau", [-1, 1.5])
def test_lag_table_rejects_bad_tau(tau):
    with pytest.raises(ValueError, match=f"tau_max must be a non-negative integer, got {tau!r}"):
        lag_table(_panel(), tau)


def test_lag_table_on_real_esm_data_respects_days_and_periods():
    if not BRINGMANN.exists():
        pytest.skip(f"{BRINGMANN} not available")
    items = ["opgewkt_", "pieker", "angstig_", "somber__", "ontspann"]
    raw = read_table(BRINGMANN)
    panel = Panel.from_frame(raw, id_col="subjno", time_col="beepno",
                             segments=["st_period", "dayno"], variables=items, tau_max=None)
    # every input row is either in the panel or reported, with its file line
    excluded = panel.exclusions.records
    excluded = excluded[excluded["level"] == "row"]  # patient-level records carry no row
    assert sorted([*panel.data.index, *excluded["row"]]) == raw.index.tolist()
    assert (excluded.loc[excluded["reason"] == "missing time", "row"].tolist()
            == raw.index[raw["beepno"].isna()].tolist())
    table = lag_table(panel, 1)
    lag = table[lag_name("somber__", 1)]
    # the first beep of a day has no lag (nights are not bridged)
    assert lag[table["beepno"] == 1].isna().all()
    # otherwise the lag is the previous beep of the same day if it is in the raw file
    src = raw.dropna(subset=["beepno"]).set_index(["subjno", "st_period", "dayno", "beepno"])
    rng = np.random.default_rng(1)
    for label in rng.choice(table.index[table["beepno"] > 1], size=200, replace=False):
        r = table.loc[label]
        key = (r["subjno"], r["st_period"], r["dayno"], r["beepno"] - 1)
        expected = src.loc[key, "somber__"] if key in src.index else np.nan
        assert np.array_equal(lag.loc[label], expected, equal_nan=True), label


# --------------------------------------------------------------------------- properties


@st.composite
def _random_panels(draw):
    """Random patients, gappy integer times, 0-2 segment columns, missing values, shuffled rows."""
    n_seg = draw(st.integers(0, 2))
    seg_cols = ["day", "phase"][:n_seg]
    ids = draw(st.lists(st.integers(0, 50), min_size=1, max_size=4, unique=True))
    rows = []
    for pid in ids:
        labels = draw(st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 1)),
                               min_size=1, max_size=3, unique=True))
        for label in labels:
            times = draw(st.lists(st.integers(-3, 14), min_size=1, max_size=9, unique=True))
            rows += [(pid, *label[:n_seg], t) for t in times]
    df = pd.DataFrame(rows, columns=["patient", *seg_cols, "week"])
    df = df.drop_duplicates(["patient", *seg_cols, "week"]).reset_index(drop=True)
    n = len(df)
    # unique values so that a value taken from a wrong row cannot go unnoticed
    missing = np.array(draw(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=n,
                                     max_size=n)), dtype=bool).reshape(n, 2)
    missing[:2] = False  # two observed rows give within-patient variance
    if df["patient"].eq(df.loc[0, "patient"]).sum() < 2:
        df = pd.concat([df, df.iloc[[0]].assign(week=df.loc[0, "week"] + 20)], ignore_index=True)
        missing = np.vstack([missing, [False, False]])
        n += 1
    df["x"] = np.where(missing[:, 0], np.nan, 1.0 + np.arange(n))
    df["y"] = np.where(missing[:, 1], np.nan, -1.0 - np.arange(n))
    df = df.iloc[list(draw(st.permutations(range(n))))]
    df.index = df.index * 10 + 3  # labels unrelated to position
    return df, seg_cols


@PROPERTY
@given(case=_random_panels(), tau=st.integers(0, 3))
def test_property_lag_is_value_at_same_block_time_minus_k(case, tau):
    df, seg_cols = case
    panel = Panel.from_frame(df, segments=seg_cols, tau_max=None)
    keys = ["patient", *seg_cols]
    source = {tuple(r[[*keys, "week"]]): (r["x"], r["y"]) for _, r in df.iterrows()}
    table = lag_table(panel, tau)
    pd.testing.assert_index_equal(table.index, panel.data.index)
    pd.testing.assert_frame_equal(table[panel.data.columns], panel.data)
    for _, r in table.iterrows():
        block = tuple(r[keys])
        for k in range(1, tau + 1):
            want = source.get((*block, r["week"] - k), (np.nan, np.nan))
            got = (r[lag_name("x", k)], r[lag_name("y", k)])
            assert np.array_equal(got, want, equal_nan=True), (block, r["week"], k)
    # dropna keeps exactly the rows counted as usable, patient by patient
    complete = table.notna().all(axis=1)
    brute = complete.groupby(table["patient"]).sum()
    assert panel.usable_lagged_rows(tau).to_dict() == brute.to_dict()
    pd.testing.assert_frame_equal(lag_table(panel, tau, dropna=True), table[complete])
