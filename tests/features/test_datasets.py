from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from causal.discovery.estimator import block_samples
from features.datasets import (
    BRINGMANN_ITEMS,
    KOSSAKOWSKI_ITEMS,
    load_bringmann2013,
    load_bringmann2013_tidy,
    load_kossakowski2017,
    load_kossakowski2017_tidy,
)
from features.lags import lag_name, lag_table
from features.panel import Panel

ITEMS = ["cheerful", "worry", "fearful", "sad", "relaxed"]
BLOCK = ["person", "period", "day"]


@pytest.fixture(scope="module")
def bringmann() -> pd.DataFrame:
    return load_bringmann2013_tidy()


def _bundled(name: str) -> bytes:
    return resources.files("features").joinpath("data", name).read_bytes()


# ------------------------------------------------------------------ provenance
@pytest.mark.parametrize("name, sha256", [
    ("bringmann2013_mbct_esm.txt",
     "5202e62c4e0a9db9451e35de74c579a87f18bbf6cea8ad18bd2f252355af3405"),
    ("kossakowski2017_esm_single.csv",
     "8e9e6f46330859d20a13f8a58542de483f5766c75001a99066ac8ce5e114f6cd"),
])
def test_bundled_files_are_the_published_bytes(name, sha256):
    # The hashes are those of the files as published (also listed in the data README).
    assert hashlib.sha256(_bundled(name)).hexdigest() == sha256


def test_data_readme_cites_sources_and_licence():
    readme = _bundled("README.md").decode("utf-8")
    for needle in ("10.1371/journal.pone.0060188", "10.5334/jopd.29", "CC BY 4.0",
                   "https://creativecommons.org/licenses/by/4.0/", "Bringmann", "Kossakowski"):
        assert needle in readme


# --------------------------------------------------------------------- loaders
def test_bringmann_raw_shape_and_columns():
    raw = load_bringmann2013()
    assert raw.shape == (28_600, 12)
    assert raw.columns.tolist() == ["subjno", "dayno", "beepno", "informat04", "st_period",
                                    "opgewkt_", "onplplez", "pieker", "angstig_", "somber__",
                                    "ontspann", "neur"]
    assert raw["subjno"].nunique() == 130
    assert (raw.groupby("subjno").size() == 220).all()
    assert raw.index[0] == 2  # file line numbers


def test_bringmann_tidy_names_and_values(bringmann):
    raw = load_bringmann2013()
    assert bringmann.columns.tolist() == ["person", "period", "day", "beep",
                                          *BRINGMANN_ITEMS.values()]
    assert len(bringmann) == 28_600 and bringmann["person"].nunique() == 130
    assert bringmann.index.equals(raw.index)
    for old, new in BRINGMANN_ITEMS.items():
        pd.testing.assert_series_equal(bringmann[new], raw[old], check_names=False)
    assert sorted(bringmann["period"].unique()) == [0, 1]
    assert bringmann["day"].between(1, 10).all()
    assert int(bringmann["beep"].isna().sum()) == 2_600
    values = bringmann[ITEMS].to_numpy().ravel()
    values = values[~np.isnan(values)]
    assert len(values) > 40_000 and ((values >= 1) & (values <= 7)).all()


def test_kossakowski_raw_and_tidy():
    raw = load_kossakowski2017()
    assert raw.shape == (1_476, 86)
    tidy = load_kossakowski2017_tidy()
    assert tidy.columns.tolist() == ["person", "date", "day", "phase", "dayno", "beepno",
                                     *KOSSAKOWSKI_ITEMS]
    assert len(tidy) == 1_476 and tidy["person"].eq(1).all()
    # dayno is the day of the calendar year and wraps at new year; day counts study days.
    assert tidy["day"].is_monotonic_increasing
    assert tidy["day"].agg(["min", "max"]).tolist() == [1, 239]
    assert not tidy["dayno"].is_monotonic_increasing
    assert (tidy["date"].dt.day_of_year == tidy["dayno"]).all()
    assert not tidy.duplicated(["day", "beepno"]).any()
    pd.testing.assert_frame_equal(tidy[list(KOSSAKOWSKI_ITEMS)], raw[list(KOSSAKOWSKI_ITEMS)])


# ------------------------------------------------------- day-bounded lags (real)
def test_bringmann_panel_reports_rows_without_beep(bringmann):
    panel = Panel.from_frame(bringmann, id_col="person", time_col="beep",
                             segments=("period", "day"), variables=ITEMS, tau_max=None)
    summary = panel.exclusions.summary().set_index("reason")["count"]
    assert summary["missing time"] == 2_600
    assert panel.n_rows + panel.exclusions.n_rows == len(bringmann)


def test_bringmann_lags_never_cross_a_night_or_the_period_gap(bringmann):
    panel = Panel.from_frame(bringmann, id_col="person", time_col="beep",
                             segments=("period", "day"), variables=ITEMS, tau_max=None)
    lagged = lag_table(panel, 2)
    lag_cols = [lag_name(v, k) for v in ITEMS for k in (1, 2)]
    # First beep of every day, and the first observed beep of every block: no lagged value.
    assert lagged.loc[lagged["beep"] == 1, lag_cols].isna().all().all()
    first = lagged.groupby(BLOCK)["beep"].transform("min") == lagged["beep"]
    assert first.sum() > 1_000
    assert lagged.loc[first, lag_cols].isna().all().all()
    # Independent check: the lag-k value is the same person, period and day at beep - k.
    obs = bringmann.dropna(subset=["beep"]).astype({"beep": "int64"})
    for k in (1, 2):
        shifted = obs[[*BLOCK, "beep", *ITEMS]].assign(beep=lambda d, k=k: d["beep"] + k)
        expected = lagged[[*BLOCK, "beep"]].merge(shifted, on=[*BLOCK, "beep"], how="left")
        for v in ITEMS:
            np.testing.assert_array_equal(lagged[lag_name(v, k)].to_numpy(),
                                          expected[v].to_numpy())
    # tigramite gets one dataset per person-period-day.
    blocks = block_samples(panel, 1)
    assert len(blocks) == panel.data.groupby(BLOCK).ngroups
    assert (blocks["length"] <= 10).all()
