"""causal.cli.power: ``therapy-pcmci power``, its options and its TOML grid."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest

from causal.cli.app import main
from causal.cli.power import configure_parser, run
from causal.power import POWER_COLUMNS
from features.errors import InputError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    configure_parser(parser)
    return parser


def _power(out, *args: str):
    """Run ``therapy-pcmci --quiet power ARGS --out OUT`` in this process; it must succeed."""
    assert main(["--quiet", "power", *args, "--out", str(out)]) == 0
    return out


def test_power_command_end_to_end(tmp_path):
    out = _power(tmp_path / "power", "--effect", "0.2", "--weeks", "13", "--patients", "40,80",
                 "--cohorts", "6", "--seed", "3")
    table = pd.read_csv(out / "power.csv")
    assert table["n_patients"].tolist() == [40, 80]
    assert table["power"].between(0, 1).all()
    assert (out / "power.png").stat().st_size > 0


@pytest.mark.parametrize(("argv", "needle"), [
    (["--effect", "0.1", "--patients", "40,abc"], "abc"),
    (["--effect", "0.1", "--weeks", "1"], "weeks"),
])
def test_power_command_bad_input_is_one_error_line(tmp_path, capsys, argv, needle, one_error_line):
    code = main(["power", *argv, "--cohorts", "2", "--out", str(tmp_path / "p")])
    one_error_line(code, capsys.readouterr().err, needle)
def test_cli_run_writes_table_and_figure(tmp_path):
    out = tmp_path / "power"
    args = _parser().parse_args(["--effect", "0.2", "--weeks", "8", "--patients", "20,60",
                                 "--cohorts", "4", "--seed", "5", "--out", str(out)])
    assert run(args) == 0
    assert {p.name for p in out.iterdir()} == {"power.csv", "power.png", "power.svg"}
    table = pd.read_csv(out / "power.csv")
    assert tuple(table.columns) == POWER_COLUMNS
    assert table["n_patients"].tolist() == [20, 60] and (table["n_cohorts"] == 4).all()
    assert (table["effect"] == 0.2).all() and (table["n_weeks"] == 8).all()


def test_cli_toml_grid_and_overrides(tmp_path):
    config = tmp_path / "grid.toml"
    config.write_text('effect = [0.1, 0.3]\nweeks = 8\npatients = [20]\ncohorts = 3\n'
                      'seed = 2\n[pcmci]\nprep = "center"\n')
    out = tmp_path / "grid"
    args = _parser().parse_args(["--config", str(config), "--cohorts", "2", "--out", str(out)])
    assert run(args) == 0
    table = pd.read_csv(out / "power.csv")
    assert table["effect"].tolist() == [0.1, 0.3]
    assert (table["n_cohorts"] == 2).all()  # the command line wins over the file


def test_cli_bad_input(tmp_path):
    parser = _parser()
    with pytest.raises(InputError, match="--effect is required"):
        run(parser.parse_args(["--out", str(tmp_path)]))
    with pytest.raises(InputError, match="not found"):
        run(parser.parse_args(["--config", str(tmp_path / "none.toml"), "--out",
                               str(tmp_path)]))
    bad = tmp_path / "bad.toml"
    bad.write_text("effect = 0.1\nsize = 3\n")
    with pytest.raises(InputError, match=r"unknown key\(s\) \['size'\]"):
        run(parser.parse_args(["--config", str(bad), "--out", str(tmp_path)]))
    with pytest.raises(InputError, match="patients"):
        run(parser.parse_args(["--effect", "0.1", "--patients", "1", "--out", str(tmp_path)]))
    with pytest.raises(SystemExit):  # argparse rejects a malformed list
        parser.parse_args(["--effect", "0.1", "--patients", "a,b", "--out", str(tmp_path)])
    shadow = tmp_path / "shadow.toml"
    shadow.write_text("effect = 0.1\n[pcmci]\nalpha = 0.1\n")
    with pytest.raises(InputError, match=r"\[pcmci\] must not set \['alpha'\]"):
        run(parser.parse_args(["--config", str(shadow), "--out", str(tmp_path)]))
    latin = tmp_path / "latin.toml"
    latin.write_bytes("effect = 0.1 # d\xe9j\xe0\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin\.toml: the config file is not UTF-8"):
        run(parser.parse_args(["--config", str(latin), "--out", str(tmp_path)]))


def test_cli_hypotheses_writes_per_claim_and_all_claims_power(tmp_path):
    out = _power(tmp_path / "claims", "--hypotheses", "melsom2023", "--patients", "60,240",
                 "--weeks", "13", "--cohorts", "5", "--seed", "2")
    assert {p.name for p in out.iterdir()} == {"claims_power.csv", "claims_required.csv",
                                              "claims_power.png", "claims_power.svg"}
    table = pd.read_csv(out / "claims_power.csv")
    # six hypotheses, the comparison fear_leads_depression and "all", for 2 designs
    assert table["claim"].iloc[-1] == "all" and len(table) == 2 * 8
    assert "fear_leads_depression" in set(table["claim"])
    assert table["power"].between(0, 1).all() and (table["n_cohorts"] == 5).all()
    need = pd.read_csv(out / "claims_required.csv")
    assert sorted(need["target"].unique()) == [0.8, 0.9]


def test_cli_effects_list_gives_smallest_detectable_effect(tmp_path, caplog):
    out = tmp_path / "small"
    args = _parser().parse_args(["--effect", "0.05,0.3", "--edge", "depression:fear_others",
                                 "--weeks", "8", "--patients", "60", "--cohorts", "4",
                                 "--dropout", "0.2", "--missing", "0.1", "--out", str(out)])
    with caplog.at_level("INFO", logger="therapy_pcmci"):
        assert run(args) == 0
    table = pd.read_csv(out / "power.csv")
    assert table["effect"].tolist() == [0.05, 0.3]
    assert (table["source"] == "depression").all() and (table["dropout"] == 0.2).all()
    small = pd.read_csv(out / "smallest_effect.csv")
    assert small["target"].tolist() == [0.8, 0.9]
    assert "smallest effect with 80% power at 60 patients" in caplog.text


def test_cli_ema_design(tmp_path):
    out = _power(tmp_path / "ema", "--days", "7", "--beeps", "5", "--patients", "20,40",
                 "--effect", "0.2", "--cohorts", "3")
    table = pd.read_csv(out / "power.csv")
    assert table["days"].tolist() == [7, 7] and table["beeps"].tolist() == [5, 5]
    assert table["n_weeks"].tolist() == [35, 35]


def test_cli_trajectory(tmp_path):
    out = _power(tmp_path / "traj", "--trajectory", "relapse", "--weeks", "10", "--patients",
                 "30", "--effect", "0.2", "--cohorts", "2")
    assert pd.read_csv(out / "power.csv")["trajectory"].tolist() == ["relapse"]
