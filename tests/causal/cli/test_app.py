from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causal import load_hypotheses
from causal.cli.app import build_parser, main
from causal.cli.pipeline import OUTPUT_FILES
from causal.hypotheses import HYPOTHESIS_COLUMNS
from features.scenarios import generic_scenario
from features.simulate import simulate_cohort, simulate_subgroups

VARS = ("depression", "self_compassion", "fear_others")
N_PATIENTS, N_WEEKS = 12, 8


@pytest.fixture(autouse=True)
def _restore_logging():
    """main() configures the package loggers (handlers, levels, propagate); undo it."""
    names = ("therapy_pcmci", "causal", "features", "experiments")
    saved = {n: (lg.handlers[:], lg.level, lg.propagate)
             for n in names for lg in [logging.getLogger(n)]}
    yield
    for n, (handlers, level, propagate) in saved.items():
        lg = logging.getLogger(n)
        lg.handlers, lg.level, lg.propagate = handlers, level, propagate


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    # row i (0-based) is patient i // 8 + 1, week i % 8 + 1, and file line i + 2
    return simulate_cohort("paper", N_PATIENTS, N_WEEKS, random_state=0)


@pytest.fixture
def good_csv(tmp_path, cohort) -> Path:
    path = tmp_path / "good.csv"
    cohort.to_csv(path, index=False)
    return path


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(code: int, err: str, *needles: str) -> str:
    """Exit code 2, exactly one stderr line starting with 'error:', naming every needle."""
    assert code == 2
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("error:")
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


# ------------------------------------------------------------------ parser
def test_parser_has_the_three_commands():
    parser = build_parser()
    for argv in (["simulate", "--out", "x.csv"], ["discover", "d.csv", "--out", "o"],
                 ["demo", "--out", "o"]):
        assert parser.parse_args(argv).command == argv[0]


def test_discover_defaults():
    args = build_parser().parse_args(["discover", "d.csv", "--out", "o"])
    assert (args.id, args.time, args.tau_max, args.alpha, args.pc_alpha) == (
        "patient", "week", 1, 0.05, 0.2)
    assert (args.method, args.ci_test, args.fdr, args.prep, args.cut_off) == (
        "pcmci", "parcorr", "none", "detrend", "2xtau_max")
    assert args.forbid == [] and args.require == [] and args.segment == []


def test_no_command_is_a_usage_error(capsys):
    code, _, err = run(capsys)
    assert_one_error_line(code, err, "command")


# ---------------------------------------------------------------- simulate
def test_simulate_writes_the_requested_cohort(capsys, tmp_path):
    out = tmp_path / "sub" / "cohort.csv"
    code, _, _ = run(capsys, "simulate", "--patients", 7, "--weeks", 5, "--seed", 3, "--out", out)
    assert code == 0
    df = pd.read_csv(out)
    assert df.columns.tolist() == ["patient", "week", *VARS]
    assert df["patient"].nunique() == 7
    assert (df.groupby("patient")["week"].apply(sorted) == pd.Series([[1, 2, 3, 4, 5]] * 7,
                                                                     index=range(1, 8))).all()
    expected = simulate_cohort("paper", 7, 5, random_state=3)
    pd.testing.assert_frame_equal(df, expected, check_dtype=False)


def test_simulate_options(capsys, tmp_path):
    out = tmp_path / "null.csv"
    code, _, _ = run(capsys, "simulate", "--scenario", "null", "--patients", 30, "--weeks", 10,
                     "--missing", 0.2, "--dropout", 0.5, "--seed", 1, "--out", out)
    assert code == 0
    df = pd.read_csv(out)
    # 20 % missing weeks and drop-outs remove rows: fewer than 30 x 10
    assert len(df) < 300
    expected = simulate_cohort("null", 30, 10, missing=0.2, dropout=0.5, random_state=1)
    pd.testing.assert_frame_equal(df, expected, check_dtype=False)


@pytest.mark.parametrize(("args", "needle"), [
    (["--patients", 0], "n_patients"),
    (["--weeks", 1], "n_weeks"),
    (["--scenario", "nope"], "nope"),
    (["--missing", 1.5], "missing"),
])
def test_simulate_bad_input(capsys, tmp_path, args, needle):
    code, _, err = run(capsys, "simulate", *args, "--out", tmp_path / "x.csv")
    assert_one_error_line(code, err, needle)


# -------------------------------------------------------------------- demo
def test_demo_acceptance(capsys, tmp_path):
    # The acceptance check: on the paper-calibrated cohort the three reported effects
    # are supported and none of the three absent claims is contradicted.
    code, _, _ = run(capsys, "demo", "--out", tmp_path)
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
def test_discover_writes_every_file(capsys, tmp_path, good_csv):
    out = tmp_path / "out"
    code, _, err = run(capsys, "discover", good_csv, "--out", out)
    assert code == 0, err
    for name in (*OUTPUT_FILES, "graph.svg", "patients.png"):
        assert (out / name).is_file(), name
    links = pd.read_csv(out / "links.csv")
    assert len(links) == len(VARS) ** 2
    hyp = pd.read_csv(out / "hypotheses.csv")
    assert hyp.empty and hyp.columns.tolist() == list(HYPOTHESIS_COLUMNS)
    assert "error" not in err


def test_discover_quiet_prints_nothing(capsys, tmp_path, good_csv):
    code, out, err = run(capsys, "-q", "discover", good_csv, "--out", tmp_path / "o")
    assert code == 0 and out == "" and err == ""


def test_discover_vars(capsys, tmp_path, good_csv):
    out = tmp_path / "out"
    code, _, _ = run(capsys, "discover", good_csv, "--vars", "depression, fear_others",
                     "--out", out)
    assert code == 0
    links = pd.read_csv(out / "links.csv")
    assert set(links["source"]) | set(links["target"]) == {"depression", "fear_others"}
    assert len(links) == 4


def test_discover_segment(capsys, tmp_path, cohort):
    data = tmp_path / "seg.csv"
    cohort.assign(phase=np.where(cohort["week"] <= 4, "early", "late")).to_csv(data, index=False)
    code, _, _ = run(capsys, "discover", data, "--segment", "phase", "--out", tmp_path / "out")
    assert code == 0
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    counts = dict(re.findall(r"^\| (pooled samples per test \(complete cases\)) \| (\d+) \|$",
                             report, flags=re.M))
    # two 4-week blocks per patient, 2 weeks of each cut off at tau_max = 1
    assert int(counts["pooled samples per test (complete cases)"]) == N_PATIENTS * 2 * 2
    links = pd.read_csv(tmp_path / "out" / "links.csv")
    assert "phase" not in set(links["source"])


def test_discover_rename_and_preset(capsys, tmp_path, cohort):
    data = tmp_path / "raw.csv"
    cohort.rename(columns={"patient": "pid", "week": "session", "depression": "phq9",
                           "self_compassion": "scs", "fear_others": "fcs"}).to_csv(data,
                                                                                   index=False)
    code, _, err = run(capsys, "discover", data, "--id", "pid", "--time", "session",
                       "--rename", "phq9=depression,scs=self_compassion,fcs=fear_others",
                       "--hypotheses", "melsom2023", "--out", tmp_path / "out")
    assert code == 0, err
    hyp = pd.read_csv(tmp_path / "out" / "hypotheses.csv")
    assert hyp["name"].tolist() == [h.name for h in load_hypotheses("melsom2023")]
    links = pd.read_csv(tmp_path / "out" / "links.csv")
    assert set(links["source"]) == set(VARS)


def test_discover_hypotheses_file(capsys, tmp_path, good_csv):
    toml = tmp_path / "mine.toml"
    toml.write_text('[defaults]\nsesoi = 0.1\n\n[[hypothesis]]\nname = "dep_leads"\n'
                    'cause = "depression"\neffect = "fear_others"\nexpected = "present"\n',
                    encoding="utf-8")
    code, _, _ = run(capsys, "discover", good_csv, "--hypotheses", toml, "--out", tmp_path / "o")
    assert code == 0
    hyp = pd.read_csv(tmp_path / "o" / "hypotheses.csv")
    assert hyp["name"].tolist() == ["dep_leads"]
    assert hyp["sesoi"].tolist() == [0.1]


def test_discover_pcmciplus(capsys, tmp_path, good_csv):
    code, _, _ = run(capsys, "discover", good_csv, "--method", "pcmciplus", "--out", tmp_path)
    assert code == 0
    links = pd.read_csv(tmp_path / "links.csv")
    assert set(links["lag"]) == {0, 1}
    assert len(links[links["lag"] == 0]) == len(VARS) * (len(VARS) - 1)


def test_discover_fdr(capsys, tmp_path, good_csv):
    assert run(capsys, "discover", good_csv, "--out", tmp_path / "raw")[0] == 0
    assert run(capsys, "discover", good_csv, "--fdr", "fdr_bh", "--out", tmp_path / "bh")[0] == 0
    raw = pd.read_csv(tmp_path / "raw" / "links.csv")
    bh = pd.read_csv(tmp_path / "bh" / "links.csv")
    assert (bh["p_value"] >= raw["p_value"] - 1e-12).all()
    assert "fdr_bh" in (tmp_path / "bh" / "report.md").read_text(encoding="utf-8")


def test_discover_forbid_and_require(capsys, tmp_path, good_csv):
    code, _, _ = run(capsys, "discover", good_csv, "--forbid", "fear_others:depression:1",
                     "--require", "self_compassion : depression : 1", "--out", tmp_path)
    assert code == 0
    links = pd.read_csv(tmp_path / "links.csv")
    key = list(zip(links["source"], links["target"], links["lag"], strict=True))
    assert ("fear_others", "depression", 1) not in key
    req = links[(links["source"] == "self_compassion") & (links["target"] == "depression")]
    assert req["required"].tolist() == [True] and req["significant"].tolist() == [True]
    assert links["required"].sum() == 1


def test_discover_options_reach_the_report(capsys, tmp_path, good_csv):
    code, _, _ = run(capsys, "discover", good_csv, "--tau-max", 2, "--alpha", 0.01,
                     "--cut-off", "tau_max", "--prep", "center", "--out", tmp_path)
    assert code == 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    for row in ("| tau_max | 2 |", "| alpha | 0.01 |", "| cut_off | tau_max |",
                "| prep | center |"):
        assert row in report
    assert set(pd.read_csv(tmp_path / "links.csv")["lag"]) == {1, 2}


def test_one_short_patient_among_many_is_excluded(capsys, tmp_path, cohort):
    short = pd.DataFrame({"patient": 99, "week": [1, 3, 5, 7], "depression": [1.0, 5, 2, 6],
                          "self_compassion": [2.0, 3, 2.5, 3.5], "fear_others": [3.0, 1, 4, 2]})
    data = tmp_path / "many.csv"
    pd.concat([cohort, short]).to_csv(data, index=False)
    code, _, _ = run(capsys, "discover", data, "--out", tmp_path / "out")
    assert code == 0
    exc = pd.read_csv(tmp_path / "out" / "exclusions.csv")
    assert exc["patient"].tolist() == [99] and exc["level"].tolist() == ["patient"]
    assert "usable lagged rows" in exc["reason"].iloc[0]


# --------------------------------------------------------------- bad input
def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "data.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "discover", tmp_path / "nowhere.csv", "--out", tmp_path / "o")
    assert_one_error_line(code, err, "nowhere.csv", "not found")
    assert not (tmp_path / "o").exists()


def test_unknown_file_type(capsys, tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK\x03\x04")
    code, _, err = run(capsys, "discover", path, "--out", tmp_path / "o")
    assert_one_error_line(code, err, "data.xlsx", ".xlsx")


@pytest.mark.parametrize(("option", "value"), [("--id", "pid"), ("--time", "session"),
                                               ("--vars", "depression,anxiety"),
                                               ("--segment", "phase")])
def test_missing_column(capsys, tmp_path, good_csv, option, value):
    code, _, err = run(capsys, "discover", good_csv, option, value, "--out", tmp_path / "o")
    missing = value.split(",")[-1]
    assert_one_error_line(code, err, f"'{missing}'", "missing column")


@pytest.mark.parametrize("with_vars", [
    True,
    False,
])
def test_non_numeric_value(capsys, tmp_path, cohort, with_vars):
    # Without --vars the variables are detected; a typo in a measure column must still be
    # reported, not silently turn the column into a non-variable.
    bad = cohort.astype({"depression": object})
    bad.loc[20, "depression"] = "12a"
    path = _write(tmp_path, bad)
    extra = ["--vars", ",".join(VARS)] if with_vars else []
    code, _, err = run(capsys, "discover", path, *extra, "--out", tmp_path / "o")
    assert_one_error_line(code, err, "'depression'", "row 22", "12a")


def test_non_finite_value(capsys, tmp_path, cohort):
    bad = cohort.copy()
    bad.loc[30, "fear_others"] = np.inf
    code, _, err = run(capsys, "discover", _write(tmp_path, bad), "--out", tmp_path / "o")
    assert_one_error_line(code, err, "'fear_others'", "row 32", "inf")


def _duplicate_file(tmp_path: Path, cohort: pd.DataFrame) -> Path:
    # patient 3, week 4 is row 19 (line 21); the copy is appended as the last line (98)
    return _write(tmp_path, pd.concat([cohort, cohort.iloc[[19]]], ignore_index=True))


def test_duplicate_patient_week(capsys, tmp_path, cohort):
    path = _duplicate_file(tmp_path, cohort)
    code, _, err = run(capsys, "discover", path, "--out", tmp_path / "o")
    assert_one_error_line(code, err, "duplicate", "patient", "week", "21", "98")


def test_non_integer_time(capsys, tmp_path, cohort):
    bad = cohort.astype({"week": float})
    bad.loc[3, "week"] = 3.5
    code, _, err = run(capsys, "discover", _write(tmp_path, bad), "--out", tmp_path / "o")
    assert_one_error_line(code, err, "'week'", "row 5", "3.5")


@pytest.mark.parametrize("case", ["inf", "duplicate", "non-integer time"])
def test_error_messages_show_plain_numbers(capsys, tmp_path, cohort, case):
    if case == "inf":
        path = _write(tmp_path, cohort.assign(fear_others=np.inf))
    elif case == "duplicate":
        path = _duplicate_file(tmp_path, cohort)
    else:
        path = _write(tmp_path, cohort.assign(week=cohort["week"] + 0.5))
    code, _, err = run(capsys, "discover", path, "--out", tmp_path / "o")
    line = assert_one_error_line(code, err)
    assert "np." not in line, line  # numpy reprs are noise for a clinical researcher
    if case == "duplicate":
        assert re.search(r"patient\W{0,3}3(?![\d.])", line), line
        assert re.search(r"week\W{0,3}4(?![\d.])", line), line


def test_only_patient_with_too_few_lagged_rows(capsys, tmp_path):
    # observed every other week: no two consecutive weeks, so no lagged row at all
    one = pd.DataFrame({"patient": 1, "week": [1, 3, 5, 7, 9], "depression": [1.0, 5, 2, 6, 3],
                        "fear_others": [3.0, 1, 4, 1, 5]})
    code, _, err = run(capsys, "discover", _write(tmp_path, one), "--out", tmp_path / "o")
    assert_one_error_line(code, err, "usable lagged rows", "tau_max=1")


def test_zero_within_patient_variance(capsys, tmp_path, cohort):
    bad = cohort.assign(site_score=cohort["patient"] * 2.0)  # differs between, not within
    code, _, err = run(capsys, "discover", _write(tmp_path, bad), "--out", tmp_path / "o")
    assert_one_error_line(code, err, "'site_score'", "variance")


def test_unknown_preset(capsys, tmp_path, good_csv):
    code, _, err = run(capsys, "discover", good_csv, "--hypotheses", "melsom2024",
                       "--out", tmp_path / "o")
    assert_one_error_line(code, err, "'melsom2024'", "melsom2023")


def test_bad_toml(capsys, tmp_path, good_csv):
    toml = tmp_path / "broken.toml"
    toml.write_text("[[hypothesis]\nname = 'x'\n", encoding="utf-8")
    code, _, err = run(capsys, "discover", good_csv, "--hypotheses", toml, "--out", tmp_path / "o")
    assert_one_error_line(code, err, "broken.toml", "TOML")


def test_hypothesis_variable_not_in_data(capsys, tmp_path, good_csv):
    toml = tmp_path / "claims.toml"
    toml.write_text('[[hypothesis]]\nname = "anx"\ncause = "anxiety"\neffect = "depression"\n'
                    'expected = "positive"\n', encoding="utf-8")
    code, _, err = run(capsys, "discover", good_csv, "--hypotheses", toml, "--out", tmp_path / "o")
    assert_one_error_line(code, err, "'anxiety'", "'anx'")


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
])
def test_bad_options(capsys, tmp_path, good_csv, args, needles):
    code, _, err = run(capsys, "discover", good_csv, *args, "--out", tmp_path / "o")
    assert_one_error_line(code, err, *needles)


def test_missing_out_option(capsys, good_csv):
    code, _, err = run(capsys, "discover", good_csv)
    assert_one_error_line(code, err, "--out")


def test_unavailable_ci_test_is_a_clean_error(capsys, tmp_path, good_csv, monkeypatch):
    # tigramite's CMIknn needs numba, which this package does not install
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "tigramite.independence_tests.cmiknn", raising=False)
    code, _, err = run(capsys, "discover", good_csv, "--ci-test", "cmiknn", "--out", tmp_path)
    assert_one_error_line(code, err, "numba")


# ---------------------------------------------------------- real processes
def test_installed_console_script_and_module_entry_point(tmp_path, good_csv):
    script = Path(sys.executable).parent / "therapy-pcmci"
    help_run = subprocess.run([str(script), "--help"], capture_output=True, text=True,
                              timeout=120, check=False)
    assert help_run.returncode == 0, help_run.stderr
    for command in ("simulate", "discover", "demo"):
        assert command in help_run.stdout

    ok = subprocess.run([sys.executable, "-m", "causal.cli", "discover", str(good_csv),
                         "--vars", "depression,fear_others", "--out", str(tmp_path / "o")],
                        capture_output=True, text=True, timeout=300, check=False)
    assert ok.returncode == 0, ok.stderr
    assert len(pd.read_csv(tmp_path / "o" / "links.csv")) == 4

    bad = subprocess.run([sys.executable, "-m", "causal.cli", "discover", str(good_csv),
                          "--tau-max", "0", "--out", str(tmp_path / "b")],
                         capture_output=True, text=True, timeout=300, check=False)
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [bad.stderr.strip()]
    assert bad.stderr.startswith("error:") and "tau_max" in bad.stderr


# ------------------------------------- bootstrap, individual, power, progress bars
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_parser_has_individual_and_power_commands():
    parser = build_parser()
    args = parser.parse_args(["discover", "d.csv", "--out", "o"])
    assert (args.bootstrap, args.n_jobs, args.scheduler) == (0, 1, None)
    args = parser.parse_args(["individual", "d.csv", "--out", "o"])
    assert (args.command, args.group_threshold, args.subgroups, args.group_col) == (
        "individual", 0.75, None, None)
    assert parser.parse_args(["individual", "d.csv", "--subgroups", "auto", "--out", "o"]
                             ).subgroups == "auto"
    from causal import power

    args = parser.parse_args(["power", "--effect", "0.1", "--out", "o"])
    assert args.command == "power" and args.func is power.run


def test_discover_bootstrap_writes_its_files(capsys, tmp_path, good_csv):
    code, out, err = run(capsys, "--quiet", "discover", good_csv, "--hypotheses", "melsom2023",
                         "--bootstrap", "20", "--n-jobs", "1", "--out", tmp_path)
    assert (code, out, err) == (0, "", "")
    for name in (*OUTPUT_FILES, "bootstrap.csv", "edge_frequency.png", "forest.png"):
        assert (tmp_path / name).is_file(), name
    boot = pd.read_csv(tmp_path / "bootstrap.csv")
    assert (boot["n_boot"] == 20).all() and len(boot) == 9
    hyp = pd.read_csv(tmp_path / "hypotheses.csv")
    assert hyp.columns.tolist() == [*HYPOTHESIS_COLUMNS, "edge_frequency", "boot_low",
                                    "boot_high"]
    assert hyp["edge_frequency"].between(0, 1).all()


@pytest.mark.parametrize(("args", "needles"), [
    (["--bootstrap", "-1"], ["--bootstrap", "-1"]),
    (["--bootstrap", "many"], ["--bootstrap", "'many'"]),
    (["--bootstrap", "5", "--n-jobs", "0"], ["n_jobs", "0"]),
])
def test_bad_bootstrap_options(capsys, tmp_path, good_csv, args, needles):
    code, _, err = run(capsys, "discover", good_csv, *args, "--out", tmp_path / "o")
    assert_one_error_line(code, err, *needles)


def test_unreachable_scheduler_is_one_error_line(capsys, tmp_path, good_csv, monkeypatch):
    from causal.resampling import parallel

    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 1.0)
    code, _, err = run(capsys, "discover", good_csv, "--bootstrap", "5", "--scheduler",
                       "tcp://127.0.0.1:9", "--out", tmp_path)
    assert_one_error_line(code, err, "cannot reach the Dask scheduler", "tcp://127.0.0.1:9")


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_bars_on_a_terminal_unless_quiet(tmp_path, good_csv, monkeypatch, quiet):
    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    code = main([*(["--quiet"] if quiet else []), "discover", str(good_csv), "--bootstrap",
                 "10", "--out", str(tmp_path)])
    assert code == 0
    assert ("bootstrap (10 replicates)" in fake.getvalue()) is not quiet


def test_individual_command(capsys, tmp_path):
    base = generic_scenario(2, 0)
    a = base.with_cross([("x1", "x2", 0.5)], name="A")
    b = base.with_cross([("x2", "x1", 0.5)], name="B")
    data = tmp_path / "long.csv"
    simulate_subgroups([a, b], [6, 6], n_weeks=60, random_state=4).to_csv(data, index=False)
    code, out, err = run(capsys, "-q", "individual", data, "--group-col", "subgroup",
                         "--group-threshold", "0.5", "--out", tmp_path / "o")
    assert (code, out, err) == (0, "", "")
    for name in ("edge_shares.csv", "patient_links.csv", "group_graph.png", "edge_shares.png",
                 "subgroups.csv", "subgroup_differences.csv", "summary.txt"):
        assert (tmp_path / "o" / name).is_file(), name
    shares = pd.read_csv(tmp_path / "o" / "edge_shares.csv").set_index("edge")
    assert shares.loc["x1(t-1) -> x2", "n_patients"] == 12
    code, _, _ = run(capsys, "-q", "individual", data, "--vars", "x1,x2", "--subgroups", "2",
                     "--out", tmp_path / "k")
    assert code == 0 and len(pd.read_csv(tmp_path / "k" / "subgroups.csv")) == 12


@pytest.mark.parametrize(("args", "needles"), [
    (["--subgroups", "1"], ["--subgroups", "1"]),
    (["--subgroups", "2", "--group-col", "arm"], ["--group-col", "not allowed"]),
    (["--group-threshold", "0"], ["--group-threshold"]),
    (["--group-col", "arm"], ["'arm' not in the data"]),
])
def test_individual_bad_options(capsys, tmp_path, good_csv, args, needles):
    code, _, err = run(capsys, "individual", good_csv, *args, "--out", tmp_path / "o")
    assert_one_error_line(code, err, *needles)


def test_individual_refuses_short_series_with_the_needed_length(capsys, tmp_path, good_csv):
    # 8 weeks per patient; per-patient PCMCI with 3 variables at tau_max=1 needs 31
    code, _, err = run(capsys, "individual", good_csv, "--out", tmp_path / "o")
    assert_one_error_line(code, err, "needs at least 31 time points per patient")


def test_power_command_end_to_end(tmp_path, capsys):
    out = tmp_path / "power"
    code = main(["--quiet", "power", "--effect", "0.2", "--weeks", "13", "--patients", "40,80",
                 "--cohorts", "6", "--seed", "3", "--out", str(out)])
    assert code == 0
    table = pd.read_csv(out / "power.csv")
    assert table["n_patients"].tolist() == [40, 80]
    assert table["power"].between(0, 1).all()
    assert (out / "power.png").stat().st_size > 0


@pytest.mark.parametrize(("argv", "needle"), [
    (["--effect", "0.1", "--patients", "40,abc"], "abc"),
    (["--effect", "0.1", "--weeks", "1"], "weeks"),
])
def test_power_command_bad_input_is_one_error_line(tmp_path, capsys, argv, needle):
    code = main(["power", *argv, "--cohorts", "2", "--out", str(tmp_path / "p")])
    assert_one_error_line(code, capsys.readouterr().err, needle)
