"""causal.cli.app: parser assembly, entry points, error reporting, interrupts, start-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from causal.cli import simulate
from causal.cli.app import build_parser, main


# ------------------------------------------------------------------ parser
def test_parser_has_the_three_commands():
    parser = build_parser()
    for argv in (["simulate", "--out", "x.csv"], ["discover", "d.csv", "--out", "o"],
                 ["demo", "--out", "o"]):
        assert parser.parse_args(argv).command == argv[0]


def test_discover_defaults():
    args = build_parser().parse_args(["discover", "d.csv", "--out", "o"])
    # no --time: "week", unless --day/--beep are given (features.panel.Panel.from_frame)
    assert (args.id, args.time, args.tau_max, args.alpha, args.pc_alpha) == (
        "patient", None, 1, 0.05, 0.2)
    assert (args.day, args.beep, args.duplicates) == (None, None, "error")
    # auto: diurnal with --day/--beep, else detrend (features.transforms.resolve_prep)
    assert (args.method, args.ci_test, args.fdr, args.prep, args.cut_off) == (
        "pcmci", "parcorr", "none", "auto", "2xtau_max")
    assert args.forbid == [] and args.require == [] and args.segment == []


def test_no_command_is_a_usage_error(cli, one_error_line):
    code, _, err = cli()
    one_error_line(code, err, "command")


def test_missing_out_option(cli, good_csv, one_error_line):
    code, _, err = cli("discover", good_csv)
    one_error_line(code, err, "--out")


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
    assert len(pd.read_csv(tmp_path / "o" / "links.csv")) == 4 + 2  # + the lag-0 pair

    bad = subprocess.run([sys.executable, "-m", "causal.cli", "discover", str(good_csv),
                          "--tau-max", "0", "--out", str(tmp_path / "b")],
                         capture_output=True, text=True, timeout=300, check=False)
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [bad.stderr.strip()]
    assert bad.stderr.startswith("error:") and "tau_max" in bad.stderr


def test_parser_has_individual_and_power_commands():
    parser = build_parser()
    args = parser.parse_args(["discover", "d.csv", "--out", "o"])
    assert (args.bootstrap, args.n_jobs, args.scheduler) == (0, 1, None)
    args = parser.parse_args(["individual", "d.csv", "--out", "o"])
    assert (args.command, args.group_threshold, args.subgroups, args.group_col) == (
        "individual", 0.75, None, None)
    assert parser.parse_args(["individual", "d.csv", "--subgroups", "auto", "--out", "o"]
                             ).subgroups == "auto"
    from causal.cli import power

    args = parser.parse_args(["power", "--effect", "0.1", "--out", "o"])
    assert args.command == "power" and args.func is power.run



# ------------------------------------------------------------- error report
def test_internal_error_is_one_line_with_the_traceback_in_a_log(monkeypatch, capsys):
    def broken(args):
        raise KeyError("no such thing")

    monkeypatch.setattr(simulate, "run", broken)
    code = main(["simulate", "--out", "x.csv"])
    err = capsys.readouterr().err
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("internal error: KeyError: 'no such thing' (traceback in ")
    log = Path(lines[0].rsplit("traceback in ", 1)[1].rstrip(")"))
    try:
        text = log.read_text(encoding="utf-8")
        assert "Traceback (most recent call last)" in text and "in broken" in text
    finally:
        log.unlink()


def test_a_plain_value_error_is_internal_not_bad_input(monkeypatch, capsys):
    # only InputError means bad input; a bare ValueError is a bug and says so
    def broken(args):
        raise ValueError("an internal invariant failed")

    monkeypatch.setattr(simulate, "run", broken)
    assert main(["simulate", "--out", "x.csv"]) == 1
    line = capsys.readouterr().err.strip()
    assert line.startswith("internal error: ValueError: an internal invariant failed")
    Path(line.rsplit("traceback in ", 1)[1].rstrip(")")).unlink()


def test_keyboard_interrupt_is_one_line_and_exit_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(simulate, "run", interrupted)
    assert main(["simulate", "--out", "x.csv"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_during_a_run_prints_interrupted_and_exits_130(tmp_path, good_csv):
    # -v logs "fitted pcmci ..." once the full-sample fit is done; the 3000 replicates
    # then take far longer, so the signal arrives in the middle of the bootstrap
    argv = [sys.executable, "-m", "causal.cli", "-v", "discover", str(good_csv), "--bootstrap",
            "3000", "--out", str(tmp_path / "o")]
    lines: list[str] = []
    fitted = threading.Event()
    # a shell that starts the tests in the background ignores SIGINT, and the child would
    # inherit that (Python keeps an ignored SIGINT ignored): give the child the default
    with subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, preexec_fn=_default_sigint) as proc:

        def read() -> None:
            for line in proc.stderr:
                lines.append(line)
                if line.startswith("fitted "):
                    fitted.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            assert fitted.wait(timeout=300), "".join(lines)
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:  # pragma: no cover - only when the test fails
                proc.kill()
        reader.join(timeout=10)
    err = "".join(lines)
    assert proc.returncode == 130, err
    assert lines[-1] == "interrupted\n"
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()  # interrupted before any output was written
    # nor a staging folder of the atomic writer
    assert sorted(p.name for p in tmp_path.iterdir()) == [good_csv.name]


# ------------------------------------------------------------------ start-up
HEAVY = ("matplotlib", "tigramite", "dask", "pandas")


@pytest.mark.parametrize("argv", [["--help"], ["discover", "--help"], ["power", "--help"],
                                  ["discover"], ["simulate", "--scenario", "nope", "--out", "x"]])
def test_help_and_usage_errors_import_nothing_heavy(argv):
    code = ("import sys\n"
            "from causal.cli import main\n"
            "from causal.cli.app import build_parser\n"
            "build_parser()\n"
            f"try:\n    rc = main({argv!r})\nexcept SystemExit as e:\n    rc = e.code\n"
            f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "print(rc, heavy)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False, env={**os.environ})
    assert run.returncode == 0, run.stderr
    rc, heavy = run.stdout.strip().splitlines()[-1].split(" ", 1)
    assert heavy == "[]", heavy
    assert rc in ("0", "2")
