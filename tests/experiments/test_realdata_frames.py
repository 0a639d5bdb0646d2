from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal import PanelPCMCI
from experiments import _realdata_frames
from experiments._realdata_frames import (
    BEEPS_PER_DAY,
    bringmann_frame,
    count_lag_pairs,
    kossakowski_frame,
)
from features.datasets import load_bringmann2013_tidy, load_kossakowski2017
from features.errors import DataError

ITEMS = ["cheerful", "worry", "fearful", "sad", "relaxed", "pleasant_event"]


def test_bringmann_frame_study_beep_and_group():
    df = bringmann_frame(max_persons=3)
    persons = np.sort(load_bringmann2013_tidy()["person"].unique())[:3]
    assert set(df["person"]) == set(persons)
    beeped = df["beep"].notna()
    np.testing.assert_array_equal(df.loc[beeped, "t"],
                                  (df.loc[beeped, "day"] - 1) * BEEPS_PER_DAY
                                  + df.loc[beeped, "beep"])
    assert df.loc[~beeped, "t"].isna().all()
    # informat04 is a person-level value: one per person
    assert df.drop_duplicates(["person", "informat04"])["person"].is_unique
    assert len(bringmann_frame()["person"].unique()) == 130


def test_bringmann_frame_rejects_a_beep_outside_the_day(monkeypatch):
    tidy = load_bringmann2013_tidy()
    bad = tidy.copy()
    bad.loc[bad.index[0], "beep"] = BEEPS_PER_DAY + 1
    monkeypatch.setattr(_realdata_frames, "load_bringmann2013_tidy", lambda: bad)
    with pytest.raises(DataError, match=rf"Bringmann 2013: beep .*11\)? on row {bad.index[0]} "
                                        r"is outside 1\.\.10"):
        bringmann_frame()


def test_kossakowski_frame_takes_missing_items_from_the_published_file():
    df = kossakowski_frame(["mood_relaxed", "mood_down"])
    raw = load_kossakowski2017()
    pd.testing.assert_series_equal(df["mood_relaxed"], raw["mood_relaxed"])
    assert {"t", "concentrat", "dep"} <= set(df.columns)
    assert df["t"].equals((df["day"] - 1) * BEEPS_PER_DAY + df["beepno"])


def test_count_lag_pairs_on_a_hand_made_day():
    # person 1: day 1 beeps 8, 9, 10 (9 fully observed only in x), day 2 beeps 1, 2, 4
    df = pd.DataFrame({"person": 1, "day": [1, 1, 1, 2, 2, 2], "beep": [8, 9, 10, 1, 2, 4],
                       "x": [1.0, 2, 3, 4, 5, 6], "y": [1.0, np.nan, 3, 4, 5, 6]})
    df["t"] = (df["day"] - 1) * 10 + df["beep"]
    kw = {"id_col": "person", "time_col": "t", "segments": ["day"], "variables": ["x", "y"]}
    got = count_lag_pairs(df, **kw)
    # within days only (1 -> 2) is a pair; 8 -> 9 and 9 -> 10 miss y at 9; 2 -> 4 is a gap
    assert got == {"within_day_pairs": 1, "within_day_triples": 0, "pairs_ignoring_night": 2,
                   "night_pairs": 1}  # 10 -> next day's 1 crosses the night
    # tigramite's cut-off drops the pair whose target is the second step of its block
    assert count_lag_pairs(df, cut_off="2xtau_max", **kw)["within_day_pairs"] == 0


@pytest.mark.parametrize("cut_off", ["tau_max", "2xtau_max"])
def test_count_lag_pairs_matches_panel_pcmci(cut_off):
    df = bringmann_frame(max_persons=15)
    data = df[df["period"] == 0]
    fit = {"id_col": "person", "time_col": "t", "variables": ITEMS, "segments": ("period", "day")}
    model = PanelPCMCI(1, prep="center", cut_off=cut_off).fit(data, **fit)
    counts = count_lag_pairs(data, cut_off=cut_off, patients=model.panel_.patients, **fit)
    assert model.n_samples_ == counts["within_day_pairs"]
    assert counts["within_day_triples"] <= counts["within_day_pairs"]
