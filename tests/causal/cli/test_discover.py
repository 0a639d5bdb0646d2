"""causal.cli.discover: ``therapy-pcmci discover`` and ``therapy-pcmci demo``."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causal import load_hypotheses
from causal.cli.app import main
from causal.cli.pipeline import OUTPUT_FILES
from causal.hypotheses import COMPARISON_COLUMNS, HYPOTHESIS_COLUMNS
from causal.report import EFFECT_SIZE_COLUMNS

VARS = ("depression", "self_compassion", "fear_others")
N_PATIENTS, N_WEEKS = 12, 8


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# -------------------------------------------------------------------- demo
def test_demo_acceptance(cli, tmp_path):
    # The acceptance check: on the paper-calibrated cohort the three reported effects
    # are supported and none of the three absent claims is contradicted.
    code, _, _ = cli("demo", "--out", tmp_path)
    assert code == 0
    for name in (*OUTPUT_FILES, "cohort.csv", "graph.svg", "patients.png"):
        assert (tmp_path / name).is_file(), name
    hyp = pd.read_csv(tmp_path / "hypotheses.csv").set_index("name")
    assert hyp.index.tolist() == [h.name for h in load_hypotheses("melsom2023")]
    present = hyp[hyp["expected"] != "absent"]
    absent = hyp[hyp["expected"] == "absent"]
    assert len(present) == 3 and len(absent) == 3
    assert (present["verdict"] == "supported").all(), present[["verdict", "value"]]
    assert (absent["verdict"] != "contradicted").all(), absent[["verdict", "value"]]
    cohort = pd.read_csv(tmp_path / "cohort.csv")
    assert cohort["patient"].nunique() == 226 and cohort["week"].max() == 13
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "therapy-pcmci demo" in report


# ---------------------------------------------------------------- discover
def test_discover_writes_every_file(cli, tmp_path, good_csv):
    out = tmp_path / "out"
    code, _, err = cli("discover", good_csv, "--out", out)
    assert code == 0, err
    for name in (*OUTPUT_FILES, "graph.svg", "patients.png"):
        assert (out / name).is_file(), name
    links = pd.read_csv(out / "links.csv")
    # every lagged link, and two lag-0 rows per pair (the contemporaneous network)
    assert (links["lag"] == 1).sum() == len(VARS) ** 2
    assert (links["lag"] == 0).sum() == len(VARS) * (len(VARS) - 1)
    assert set(links.loc[links["lag"] == 0, "direction"]) == {"--"}
    between = pd.read_csv(out / "between.csv")
    assert len(between) == len(VARS) * (len(VARS) - 1) // 2
    assert "## The three networks" in (out / "report.md").read_text(encoding="utf-8")
    hyp = pd.read_csv(out / "hypotheses.csv")
    assert hyp.empty and hyp.columns.tolist() == [*HYPOTHESIS_COLUMNS, *EFFECT_SIZE_COLUMNS]
    comparisons = pd.read_csv(out / "comparisons.csv")
    assert comparisons.empty and tuple(comparisons.columns) == COMPARISON_COLUMNS
    assert "error" not in err


def test_discover_quiet_prints_nothing(cli, tmp_path, good_csv):
    code, out, err = cli("-q", "discover", good_csv, "--out", tmp_path / "o")
    assert code == 0 and out == "" and err == ""


def test_discover_vars(cli, tmp_path, good_csv):
    out = tmp_path / "out"
    code, _, _ = cli("discover", good_csv, "--vars", "depression, fear_others",
                     "--out", out)
    assert code == 0
    links = pd.read_csv(out / "links.csv")
    assert set(links["source"]) | set(links["target"]) == {"depression", "fear_others"}
    assert len(links) == 4 + 2  # + the lag-0 pair, both rows


def test_discover_segment(cli, tmp_path, cohort):
    data = tmp_path / "seg.csv"
    cohort.assign(phase=np.where(cohort["week"] <= 4, "early", "late")).to_csv(data, index=False)
    code, _, _ = cli("discover", data, "--segment", "phase", "--out", tmp_path / "out")
    assert code == 0
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    counts = dict(re.findall(r"^\| (complete samples at lags [^|]*) \| (\d+) \|$", report,
                             flags=re.M))
    # two 4-week blocks per patient, 2 weeks of each cut off at tau_max = 1
    complete = counts["complete samples at lags 0..tau_max (upper bound per test)"]
    assert int(complete) == N_PATIENTS * 2 * 2
    links = pd.read_csv(tmp_path / "out" / "links.csv")
    assert "phase" not in set(links["source"])


def test_discover_rename_and_preset(cli, tmp_path, cohort):
    data = tmp_path / "raw.csv"
    cohort.rename(columns={"patient": "pid", "week": "session", "depression": "phq9",
                           "self_compassion": "scs", "fear_others": "fcs"}).to_csv(data,
                                                                                   index=False)
    code, _, err = cli("discover", data, "--id", "pid", "--time", "session",
                       "--rename", "phq9=depression,scs=self_compassion,fcs=fear_others",
                       "--hypotheses", "melsom2023", "--out", tmp_path / "out")
    assert code == 0, err
    hyp = pd.read_csv(tmp_path / "out" / "hypotheses.csv")
    assert hyp["name"].tolist() == [h.name for h in load_hypotheses("melsom2023")]
    links = pd.read_csv(tmp_path / "out" / "links.csv")
    assert set(links["source"]) == set(VARS)


def test_discover_hypotheses_file(cli, tmp_path, good_csv):
    toml = tmp_path / "mine.toml"
    toml.write_text('[defaults]\nsesoi = 0.1\n\n[[hypothesis]]\nname = "dep_leads"\n'
                    'cause = "depression"\neffect = "fear_others"\nexpected = "present"\n',
                    encoding="utf-8")
    code, _, _ = cli("discover", good_csv, "--hypotheses", toml, "--out", tmp_path / "o")
    assert code == 0
    hyp = pd.read_csv(tmp_path / "o" / "hypotheses.csv")
    assert hyp["name"].tolist() == ["dep_leads"]
    assert hyp["sesoi"].tolist() == [0.1]


def test_discover_pcmciplus(cli, tmp_path, good_csv):
    code, _, _ = cli("discover", good_csv, "--method", "pcmciplus", "--out", tmp_path)
    assert code == 0
    links = pd.read_csv(tmp_path / "links.csv")
    assert set(links["lag"]) == {0, 1}
    assert len(links[links["lag"] == 0]) == len(VARS) * (len(VARS) - 1)
    # PCMCI+ rows have intervals (from the reported test), so absent claims can be judged
    assert links[["ci_low", "ci_high"]].notna().all().all()
    assert set(links["direction"]) <= {"->", "<-", "--"}


def test_discover_fdr(cli, tmp_path, good_csv):
    assert cli("discover", good_csv, "--out", tmp_path / "raw")[0] == 0
    assert cli("discover", good_csv, "--fdr", "fdr_bh", "--out", tmp_path / "bh")[0] == 0
    raw = pd.read_csv(tmp_path / "raw" / "links.csv")
    bh = pd.read_csv(tmp_path / "bh" / "links.csv")
    assert (bh["p_value"] >= raw["p_value"] - 1e-12).all()
    assert "fdr_bh" in (tmp_path / "bh" / "report.md").read_text(encoding="utf-8")


def test_discover_forbid_and_require(cli, tmp_path, good_csv):
    code, _, _ = cli("discover", good_csv, "--forbid", "fear_others:depression:1",
                     "--require", "self_compassion : depression : 1", "--out", tmp_path)
    assert code == 0
    links = pd.read_csv(tmp_path / "links.csv")
    key = list(zip(links["source"], links["target"], links["lag"], strict=True))
    assert ("fear_others", "depression", 1) not in key
    req = links[(links["source"] == "self_compassion") & (links["target"] == "depression")
                & (links["lag"] == 1)]
    assert req["required"].tolist() == [True] and req["significant"].tolist() == [True]
    assert links["required"].sum() == 1


def test_discover_options_reach_the_report(cli, tmp_path, good_csv):
    code, _, _ = cli("discover", good_csv, "--tau-max", 2, "--alpha", 0.01,
                     "--cut-off", "tau_max", "--prep", "center", "--out", tmp_path)
    assert code == 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    for row in ("| tau_max | 2 |", "| alpha | 0.01 |", "| cut_off | tau_max |",
                "| prep | center |", "| time effects | True |",
                "| short-panel bias of the tests | off (debias=False) |"):
        assert row in report
    assert set(pd.read_csv(tmp_path / "links.csv")["lag"]) == {0, 1, 2}


def test_discover_time_effects_and_debias_flags(cli, tmp_path, good_csv):
    code, _, _ = cli("discover", good_csv, "--no-time-effects", "--debias", "--out", tmp_path)
    assert code == 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| time effects | False |" in report
    assert "| short-panel bias of the tests | tests centred on their short-panel bias" in report


def test_one_short_patient_among_many_is_excluded(cli, tmp_path, cohort):
    short = pd.DataFrame({"patient": 99, "week": [1, 3, 5, 7], "depression": [1.0, 5, 2, 6],
                          "self_compassion": [2.0, 3, 2.5, 3.5], "fear_others": [3.0, 1, 4, 2]})
    data = tmp_path / "many.csv"
    pd.concat([cohort, short]).to_csv(data, index=False)
    code, _, _ = cli("discover", data, "--out", tmp_path / "out")
    assert code == 0
    exc = pd.read_csv(tmp_path / "out" / "exclusions.csv")
    assert exc["patient"].tolist() == [99] and exc["level"].tolist() == ["patient"]
    assert "usable lagged rows" in exc["reason"].iloc[0]


# --------------------------------------------------------------- bad input
def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "data.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_missing_file(cli, tmp_path, one_error_line):
    code, _, err = cli("discover", tmp_path / "nowhere.csv", "--out", tmp_path / "o")
    one_error_line(code, err, "nowhere.csv", "not found")
    assert not (tmp_path / "o").exists()


def test_unknown_file_type(cli, tmp_path, one_error_line):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK\x03\x04")
    code, _, err = cli("discover", path, "--out", tmp_path / "o")
    one_error_line(code, err, "data.xlsx", ".xlsx")


@pytest.mark.parametrize(("option", "value"), [("--id", "pid"), ("--time", "session"),
                                               ("--vars", "depression,anxiety"),
                                               ("--segment", "phase")])
def test_missing_column(cli, tmp_path, good_csv, option, value, one_error_line):
    code, _, err = cli("discover", good_csv, option, value, "--out", tmp_path / "o")
    missing = value.split(",")[-1]
    one_error_line(code, err, f"'{missing}'", "missing column")


@pytest.mark.parametrize("with_vars", [
    True,
    False,
])
def test_non_numeric_value(cli, tmp_path, cohort, with_vars, one_error_line):
    # Without --vars the variables are detected; a typo in a measure column must still be
    # reported, not silently turn the column into a non-variable.
    bad = cohort.astype({"depression": object})
    bad.loc[20, "depression"] = "12a"
    path = _write(tmp_path, bad)
    extra = ["--vars", ",".join(VARS)] if with_vars else []
    code, _, err = cli("discover", path, *extra, "--out", tmp_path / "o")
    one_error_line(code, err, "'depression'", "row 22", "12a")


def test_non_finite_value(cli, tmp_path, cohort, one_error_line):
    bad = cohort.copy()
    bad.loc[30, "fear_others"] = np.inf
    code, _, err = cli("discover", _write(tmp_path, bad), "--out", tmp_path / "o")
    one_error_line(code, err, "'fear_others'", "row 32", "inf")


def _duplicate_file(tmp_path: Path, cohort: pd.DataFrame) -> Path:
    # patient 3, week 4 is row 19 (line 21); the copy is appended as the last line (98)
    return _write(tmp_path, pd.concat([cohort, cohort.iloc[[19]]], ignore_index=True))


def test_duplicate_patient_week(cli, tmp_path, cohort, one_error_line):
    path = _duplicate_file(tmp_path, cohort)
    code, _, err = cli("discover", path, "--out", tmp_path / "o")
    one_error_line(code, err, "duplicate", "patient", "week", "21", "98")


def test_non_integer_time(cli, tmp_path, cohort, one_error_line):
    bad = cohort.astype({"week": float})
    bad.loc[3, "week"] = 3.5
    code, _, err = cli("discover", _write(tmp_path, bad), "--out", tmp_path / "o")
    one_error_line(code, err, "'week'", "row 5", "3.5")


@pytest.mark.parametrize("case", ["inf", "duplicate", "non-integer time"])
def test_error_messages_show_plain_numbers(cli, tmp_path, cohort, case, one_error_line):
    if case == "inf":
        path = _write(tmp_path, cohort.assign(fear_others=np.inf))
    elif case == "duplicate":
        path = _duplicate_file(tmp_path, cohort)
    else:
        path = _write(tmp_path, cohort.assign(week=cohort["week"] + 0.5))
    code, _, err = cli("discover", path, "--out", tmp_path / "o")
    line = one_error_line(code, err)
    assert "np." not in line, line  # numpy reprs are noise for a clinical researcher
    if case == "duplicate":
        assert re.search(r"patient\W{0,3}3(?![\d.])", line), line
        assert re.search(r"week\W{0,3}4(?![\d.])", line), line


def test_only_patient_with_too_few_lagged_rows(cli, tmp_path, one_error_line):
    # observed every other week: no two consecutive weeks, so no lagged row at all
    one = pd.DataFrame({"patient": 1, "week": [1, 3, 5, 7, 9], "depression": [1.0, 5, 2, 6, 3],
                        "fear_others": [3.0, 1, 4, 1, 5]})
    code, _, err = cli("discover", _write(tmp_path, one), "--out", tmp_path / "o")
    one_error_line(code, err, "usable lagged rows", "tau_max=1")


def test_zero_within_patient_variance(cli, tmp_path, cohort, one_error_line):
    bad = cohort.assign(site_score=cohort["patient"] * 2.0)  # differs between, not within
    code, _, err = cli("discover", _write(tmp_path, bad), "--out", tmp_path / "o")
    one_error_line(code, err, "'site_score'", "variance")


def test_unknown_preset(cli, tmp_path, good_csv, one_error_line):
    code, _, err = cli("discover", good_csv, "--hypotheses", "melsom2024",
                       "--out", tmp_path / "o")
    one_error_line(code, err, "'melsom2024'", "melsom2023")


def test_bad_toml(cli, tmp_path, good_csv, one_error_line):
    toml = tmp_path / "broken.toml"
    toml.write_text("[[hypothesis]\nname = 'x'\n", encoding="utf-8")
    code, _, err = cli("discover", good_csv, "--hypotheses", toml, "--out", tmp_path / "o")
    one_error_line(code, err, "broken.toml", "TOML")


def test_hypothesis_variable_not_in_data(cli, tmp_path, good_csv, one_error_line):
    toml = tmp_path / "claims.toml"
    toml.write_text('[[hypothesis]]\nname = "anx"\ncause = "anxiety"\neffect = "depression"\n'
                    'expected = "positive"\n', encoding="utf-8")
    code, _, err = cli("discover", good_csv, "--hypotheses", toml, "--out", tmp_path / "o")
    one_error_line(code, err, "'anxiety'", "'anx'")


@pytest.mark.parametrize(("args", "needles"), [
    (["--rename", "phq9"], ["--rename", "'phq9'"]),
    (["--rename", "phq9=,a=b"], ["--rename", "phq9="]),
    (["--rename", "nosuch=depression"], ["'nosuch'"]),
    (["--rename", "self_compassion=depression"], ["'depression'"]),
    (["--alpha", "1.5"], ["--alpha", "1.5"]),
    (["--alpha", "0"], ["--alpha"]),
    (["--alpha", "five"], ["--alpha", "five"]),
    (["--pc-alpha", "-0.1"], ["--pc-alpha"]),
    (["--method", "pc"], ["--method", "'pc'"]),
    (["--ci-test", "pearson"], ["--ci-test", "'pearson'"]),
    (["--forbid", "depression:fear_others"], ["--forbid", "depression:fear_others"]),
    (["--forbid", "depression:fear_others:one"], ["--forbid", "one"]),
    (["--forbid", "anxiety:fear_others:1"], ["'anxiety'"]),
    (["--require", "depression:fear_others:3"], ["lag"]),
    (["--tau-max", "0"], ["tau_max", "0"]),
    (["--tau-max", "x"], ["--tau-max", "'x'"]),
    (["--sesoi", "2", "--hypotheses", "melsom2023"], ["sesoi", "2"]),
    (["--bootstrap", "-1"], ["--bootstrap", "-1"]),
    (["--bootstrap", "many"], ["--bootstrap", "'many'"]),
    (["--bootstrap", "5", "--n-jobs", "0"], ["--n-jobs", "0"]),
])
def test_bad_options(cli, tmp_path, good_csv, args, needles, one_error_line):
    code, _, err = cli("discover", good_csv, *args, "--out", tmp_path / "o")
    one_error_line(code, err, *needles)


def test_unavailable_ci_test_is_a_clean_error(cli, tmp_path, good_csv, monkeypatch, one_error_line):
    # tigramite's CMIknn needs numba, which this package does not install
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "tigramite.independence_tests.cmiknn", raising=False)
    code, _, err = cli("discover", good_csv, "--ci-test", "cmiknn", "--out", tmp_path)
    one_error_line(code, err, "numba")


def test_discover_bootstrap_writes_its_files(cli, tmp_path, good_csv):
    code, out, err = cli("--quiet", "discover", good_csv, "--hypotheses", "melsom2023",
                         "--bootstrap", "20", "--n-jobs", "1", "--out", tmp_path)
    assert (code, out, err) == (0, "", "")
    for name in (*OUTPUT_FILES, "bootstrap.csv", "edge_frequency.png", "forest.png"):
        assert (tmp_path / name).is_file(), name
    boot = pd.read_csv(tmp_path / "bootstrap.csv")
    assert (boot["n_boot"] == 20).all() and len(boot) == 9
    hyp = pd.read_csv(tmp_path / "hypotheses.csv")
    assert hyp.columns.tolist() == [*HYPOTHESIS_COLUMNS, "edge_frequency", "boot_low",
                                    "boot_high", *EFFECT_SIZE_COLUMNS]
    assert hyp["edge_frequency"].between(0, 1).all()


def test_unreachable_scheduler_is_one_error_line(cli, tmp_path, good_csv, monkeypatch,
                                                 one_error_line):
    from causal.resampling import parallel

    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 1.0)
    code, _, err = cli("discover", good_csv, "--bootstrap", "5", "--scheduler",
                       "tcp://127.0.0.1:9", "--out", tmp_path)
    one_error_line(code, err, "cannot reach the Dask scheduler", "tcp://127.0.0.1:9")


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_bars_on_a_terminal_unless_quiet(tmp_path, good_csv, monkeypatch, quiet):
    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    code = main([*(["--quiet"] if quiet else []), "discover", str(good_csv), "--bootstrap",
                 "10", "--out", str(tmp_path)])
    assert code == 0
    assert ("bootstrap (10 replicates)" in fake.getvalue()) is not quiet




def test_out_that_is_a_file_is_an_input_error_naming_it(cli, tmp_path, good_csv, one_error_line):
    blocker = tmp_path / "results"
    blocker.write_text("not a folder", encoding="utf-8")
    code, _, err = cli("discover", good_csv, "--out", blocker)
    one_error_line(code, err, "--out", "existing file", str(blocker))
    code, _, err = cli("discover", good_csv, "--out", blocker / "inside")
    one_error_line(code, err, "cannot write the output folder", str(blocker / "inside"))


def test_same_seed_gives_byte_identical_outputs_for_any_n_jobs(cli, tmp_path, good_csv):
    """Determinism: one --seed reproduces every file, whatever the number of workers."""
    outs = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        code, _, err = cli("discover", good_csv, "--out", out, "--bootstrap", "12", "--seed",
                           "5", "--n-jobs", jobs, "--hypotheses", "melsom2023")
        assert code == 0, err
        outs[jobs] = out
    names = sorted(p.name for p in outs[1].iterdir())
    assert names == sorted(p.name for p in outs[2].iterdir())
    for name in names:
        one, two = ((outs[jobs] / name).read_bytes() for jobs in (1, 2))
        if name == "report.md":  # the recorded command line differs (--out, --n-jobs)
            one, two = (b"\n".join(line for line in data.splitlines()
                                   if b"therapy-pcmci" not in line) for data in (one, two))
        assert one == two, name
