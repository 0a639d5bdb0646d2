"""causal.cli.simulate: ``therapy-pcmci simulate``."""

from __future__ import annotations

import pandas as pd
import pytest

from features.simulate import simulate_cohort

VARS = ("depression", "self_compassion", "fear_others")

# ---------------------------------------------------------------- simulate
def test_simulate_writes_the_requested_cohort(cli, tmp_path):
    out = tmp_path / "sub" / "cohort.csv"
    code, _, _ = cli("simulate", "--patients", 7, "--weeks", 5, "--seed", 3, "--out", out)
    assert code == 0
    df = pd.read_csv(out)
    assert df.columns.tolist() == ["patient", "week", *VARS]
    assert df["patient"].nunique() == 7
    assert (df.groupby("patient")["week"].apply(sorted) == pd.Series([[1, 2, 3, 4, 5]] * 7,
                                                                     index=range(1, 8))).all()
    expected = simulate_cohort("paper", 7, 5, random_state=3)
    pd.testing.assert_frame_equal(df, expected, check_dtype=False)


def test_simulate_options(cli, tmp_path):
    out = tmp_path / "null.csv"
    code, _, _ = cli("simulate", "--scenario", "null", "--patients", 30, "--weeks", 10,
                     "--missing", 0.2, "--dropout", 0.5, "--seed", 1, "--out", out)
    assert code == 0
    df = pd.read_csv(out)
    # 20 % missing weeks and drop-outs remove rows: fewer than 30 x 10
    assert len(df) < 300
    expected = simulate_cohort("null", 30, 10, missing=0.2, dropout=0.5, random_state=1)
    pd.testing.assert_frame_equal(df, expected, check_dtype=False)


@pytest.mark.parametrize("trajectory", ["early", "sudden", "relapse", "mixed"])
def test_simulate_trajectory(cli, tmp_path, trajectory):
    out = tmp_path / f"{trajectory}.csv"
    code, _, _ = cli("simulate", "--patients", 12, "--weeks", 9, "--trajectory", trajectory,
                     "--ar-sd", 0.15, "--seed", 4, "--out", out)
    assert code == 0
    expected = simulate_cohort("paper", 12, 9, trajectory=trajectory, ar_sd=0.15,
                               random_state=4)
    pd.testing.assert_frame_equal(pd.read_csv(out), expected, check_dtype=False)
    linear = simulate_cohort("paper", 12, 9, random_state=4)
    assert not expected.equals(linear)


@pytest.mark.parametrize(("args", "needle"), [
    (["--patients", 0], "n_patients"),
    (["--trajectory", "wavy"], "wavy"),
    (["--ar-sd", -0.1], "ar_sd"),
    (["--weeks", 1], "n_weeks"),
    (["--scenario", "nope"], "nope"),
    (["--missing", 1.5], "missing"),
])
def test_simulate_bad_input(cli, tmp_path, args, needle, one_error_line):
    code, _, err = cli("simulate", *args, "--out", tmp_path / "x.csv")
    one_error_line(code, err, needle)




def test_simulate_unwritable_out_is_an_input_error(cli, tmp_path, one_error_line):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    code, _, err = cli("simulate", "--patients", 3, "--weeks", 5, "--out", blocker / "x.csv")
    one_error_line(code, err, "--out", str(blocker / "x.csv"))
