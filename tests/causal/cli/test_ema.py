"""The EMA / ESM layout on the command line: --day, --beep, --duplicates (issue 10)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from causal.cli.pipeline import OUTPUT_FILES
from features.simulate import simulate_ema

ITEMS = "opgewkt_,pieker,angstig_,somber__,ontspann"
BRINGMANN = Path(__file__).parents[3] / "features" / "data" / "bringmann2013_mbct_esm.txt"


def _samples(report: str) -> dict[str, str]:
    return dict(re.findall(r"^\| ([^|]+?) \| ([\d.]+) \|$", report, flags=re.M))


def test_bringmann_day_beep_layout_runs_and_counts_samples(cli, tmp_path):
    out = tmp_path / "out"
    code, _, err = cli("discover", BRINGMANN, "--id", "subjno", "--day",
                       "dayno", "--beep", "beepno", "--segment", "st_period", "--vars", ITEMS,
                       "--out", out)
    assert code == 0, err
    for name in (*OUTPUT_FILES, "patients.png"):
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| prep | diurnal |" in report
    links = pd.read_csv(out / "links.csv")
    # PCMCI's discovery tests are the lagged rows; the lag-0 rows are the contemporaneous
    # network's own tests, with their own counts
    lagged = links.loc[links["lag"] > 0, "n_samples"]
    counts = _samples(report)
    assert float(counts["pooled samples the tests used: median"]) == lagged.median()
    assert int(counts["pooled samples the tests used: min"]) == lagged.min()
    assert "no lag crosses a night" in report
    # rows without a beep number are reported, not silently dropped
    exclusions = pd.read_csv(out / "exclusions.csv")
    assert (exclusions["reason"] == "missing beep").sum() == 2600


@pytest.fixture
def ema_csv(tmp_path):
    df = simulate_ema("null", 12, 20, 5, missing=0.1, random_state=3)
    path = tmp_path / "ema.csv"
    df.to_csv(path, index=False)
    return path, df


def test_duplicates_error_names_rows_and_flag(cli, tmp_path, ema_csv, one_error_line):
    path, df = ema_csv
    pd.concat([df, df.iloc[[4]]]).to_csv(path, index=False)
    code, _, err = cli("discover", path, "--id", "person", "--day", "day", "--beep", "beep",
                       "--out", tmp_path / "o")
    line = one_error_line(code, err, "duplicate rows for patient 1", f"rows [6, {len(df) + 2}]",
                          "--duplicates keep-first")
    assert "duplicates=" not in line


def test_keep_first_lists_the_rest_in_exclusions(cli, tmp_path, ema_csv):
    path, df = ema_csv
    pd.concat([df, df.iloc[[4]]]).to_csv(path, index=False)
    out = tmp_path / "o"
    code, _, err = cli("discover", path, "--id", "person", "--day", "day", "--beep", "beep",
                       "--duplicates", "keep-first", "--out", out)
    assert code == 0, err
    ex = pd.read_csv(out / "exclusions.csv")
    dup = ex[ex["reason"].str.startswith("duplicate")]
    assert dup["row"].tolist() == [len(df) + 2]
    assert dup["column"].tolist() == ["day,beep"]
    assert dup["value"].tolist() == [f"day={df['day'][4]}, beep={df['beep'][4]} (row 6 kept)"]


def test_day_without_beep_names_the_flags(cli, tmp_path, ema_csv, one_error_line):
    path, _ = ema_csv
    code, _, err = cli("discover", path, "--id", "person", "--day", "day", "--out", tmp_path / "o")
    one_error_line(code, err, "--day needs --beep")


def test_individual_takes_day_and_beep(cli, tmp_path, ema_csv):
    path, _ = ema_csv
    out = tmp_path / "ind"
    code, _, err = cli("individual", path, "--id", "person", "--day", "day", "--beep", "beep",
                       "--vars", "depression,fear_others", "--out", out)
    assert code == 0, err
    assert (out / "edge_shares.csv").is_file()


def test_irregular_date_times_with_max_gap(cli, tmp_path, ema_csv, one_error_line):
    _, df = ema_csv
    start = pd.Timestamp("2024-05-01 08:00")
    when = (start + pd.to_timedelta(df["day"] - 1, unit="D")
            + pd.to_timedelta((df["beep"] - 1) * 3, unit="h")
            + pd.to_timedelta((df.index % 7) * 5, unit="min"))  # jittered schedule
    data = tmp_path / "irregular.csv"
    df.drop(columns=["day", "beep"]).assign(when=when.astype(str)).to_csv(data, index=False)
    out = tmp_path / "o"
    code, _, err = cli("discover", data, "--id", "person", "--time", "when", "--max-gap", "4h",
                       "--out", out)
    assert code == 0, err
    assert "| prep | diurnal |" in (out / "report.md").read_text(encoding="utf-8")
    code, _, err = cli("discover", data, "--id", "person", "--time", "when", "--max-gap",
                       "soon", "--out", tmp_path / "o2")
    one_error_line(code, err, "--max-gap must be a duration")
