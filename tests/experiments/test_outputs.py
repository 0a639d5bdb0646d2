from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy.stats import norm

from experiments._outputs import (
    Rate,
    rate_row,
    read_output,
    save_figure,
    summarize_rate,
    write_outputs,
)


# ------------------------------------------------------------------- rates
def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval written out (Wilson 1927), as an independent check."""
    z = norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 60), (53, 1200), (20, 20), (1, 1)])
def test_summarize_rate_matches_wilson_formula(k, n):
    r = summarize_rate(k, n)
    low, high = wilson(k, n)
    assert isinstance(r, Rate) and (r.k, r.n) == (k, n)
    assert r.rate == pytest.approx(k / n)
    assert r.ci_low == pytest.approx(max(low, 0.0), abs=1e-12)
    assert r.ci_high == pytest.approx(min(high, 1.0), abs=1e-12)
    assert 0 <= r.ci_low <= r.rate <= r.ci_high <= 1
    assert r.as_dict() == {"k": k, "n": n, "rate": r.rate, "ci_low": r.ci_low,
                           "ci_high": r.ci_high}


def test_summarize_rate_level_and_str():
    wide, narrow = summarize_rate(10, 100, 0.99), summarize_rate(10, 100, 0.8)
    assert wide.ci_low < narrow.ci_low < 0.1 < narrow.ci_high < wide.ci_high
    assert str(summarize_rate(1, 4)).startswith("0.250 (1/4), 95% CI [")


@pytest.mark.parametrize(("k", "n", "conf"), [(1, 0, 0.95), (5, 4, 0.95), (-1, 4, 0.95),
                                              (1, 4, 1.0), (1.5, 4, 0.95)])
def test_summarize_rate_rejects_bad_input(k, n, conf):
    with pytest.raises(ValueError):
        summarize_rate(k, n, conf)


# ----------------------------------------------------------------- outputs
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
