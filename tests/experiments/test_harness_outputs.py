from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from causal.rates import summarize_rate
from experiments.harness.outputs import (
    rate_row,
    read_output,
    save_figure,
    write_outputs,
)


def test_write_and_read_outputs(tmp_path):
    table = pd.DataFrame({"scenario": ["null", "paper"], "arm": ["none", "detrend"],
                          "rate": [0.25, np.nan]})
    paths = write_outputs(tmp_path / "out", {"rates": table, "more.csv": table.head(1)})
    assert [p.name for p in paths] == ["rates.csv", "more.csv"]
    back = read_output(paths[0])
    assert back["scenario"].tolist() == ["null", "paper"]  # not read as NaN
    assert back["arm"].tolist() == ["none", "detrend"]
    assert back["rate"].iloc[0] == 0.25 and np.isnan(back["rate"].iloc[1])


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".."])
def test_write_outputs_rejects_paths_as_names(tmp_path, name):
    with pytest.raises(ValueError, match="plain file name"):
        write_outputs(tmp_path, {name: pd.DataFrame({"a": [1]})})


def test_write_outputs_rejects_non_frames(tmp_path):
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        write_outputs(tmp_path, {"t": [1, 2]})


# ------------------------------------------------------------------ rate_row
def test_rate_row_adds_mean_and_sd_of_the_values():
    values = pd.Series([0.1, 0.2, 0.6])
    row = rate_row(np.int64(2), np.int64(5), values)
    assert {k: row[k] for k in ("k", "n", "rate", "ci_low", "ci_high")} == \
        summarize_rate(2, 5).as_dict()
    assert isinstance(row["k"], int) and isinstance(row["n"], int)
    assert row["mean_value"] == pytest.approx(0.3)
    assert row["sd_value"] == pytest.approx(np.std([0.1, 0.2, 0.6], ddof=1))
    one = rate_row(1, 1, pd.Series([0.4]))
    assert one["mean_value"] == pytest.approx(0.4) and math.isnan(one["sd_value"])
    none = rate_row(0, 3)
    assert math.isnan(none["mean_value"]) and math.isnan(none["sd_value"])
    with pytest.raises(ValueError, match="0 <= k <= n"):
        rate_row(4, 3)


# --------------------------------------------------------------- save_figure
def test_save_figure_creates_folders_and_uses_the_suffix(tmp_path):
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1])
    png = save_figure(fig, tmp_path / "a" / "b" / "fig.png")
    assert png == tmp_path / "a" / "b" / "fig.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    svg = save_figure(fig, str(tmp_path / "fig.svg"))
    assert svg.read_text().lstrip().startswith("<?xml")
    small = save_figure(fig, tmp_path / "small.png", dpi=50)
    assert small.stat().st_size < png.stat().st_size  # dpi is passed on
