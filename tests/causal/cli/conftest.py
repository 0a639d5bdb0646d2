"""Shared fixtures of the command-line tests: a small cohort, ``cli`` and ``one_error_line``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from causal.cli.app import main
from features.simulate import simulate_cohort

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


@pytest.fixture
def cli(capsys) -> Callable[..., tuple[int, str, str]]:
    """``cli(*args)``: run ``main`` in this process; return (exit code, stdout, stderr)."""
    def run(*args: object) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def _one_error_line(code: int, err: str, *needles: str) -> str:
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


@pytest.fixture
def one_error_line() -> Callable[..., str]:
    """``one_error_line(code, err, *needles)``: the bad-input contract; returns the line."""
    return _one_error_line
