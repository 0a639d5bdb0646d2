"""The bad-input corpus of issue 12, run through the command line in process.

Every case in ``tests/data/tricky/cases.toml`` either exits 0 with every data
row analysed or listed in ``exclusions.csv``, or exits 2 with exactly one
``error:`` line holding the expected words; never a traceback.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from causal.cli.app import main

TRICKY = Path(__file__).resolve().parent / "data" / "tricky"
CASES = tomllib.loads((TRICKY / "cases.toml").read_text(encoding="utf-8"))["case"]


def _report_count(report: str, quantity: str) -> int:
    match = re.search(rf"^\| {quantity} \| (\d+) \|$", report, flags=re.MULTILINE)
    assert match, f"no '{quantity}' in report.md"
    return int(match.group(1))


def _data_records(path: Path) -> int:
    """Non-blank lines after the header (corpus text files have no multi-line fields)."""
    if path.suffix == ".parquet":
        return len(pd.read_parquet(path))
    lines = path.read_bytes().splitlines()
    return sum(1 for line in lines if line.strip(b" \t\r\n\xef\xbb\xbf")) - 1


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_tricky_case(case, tmp_path, capsys):
    path = TRICKY / case["file"]
    assert path.exists(), f"corpus file {path} missing"
    out = tmp_path / "out"
    command = case.get("command", "discover")
    args = [a.replace("{tricky}", str(TRICKY)) for a in case.get("args", [])]
    code = main([command, str(path), "--out", str(out), *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == case["exit"], err
    for word in case.get("absent", []):
        assert word not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if case["exit"] == 2:
        assert len(errors) == 1, err
        for word in case["words"]:
            assert word in errors[0], errors[0]
        assert not out.exists() or not any(out.iterdir())
        return
    assert not errors, err
    for word in case.get("words", []):
        assert word in err, err
    excluded = pd.read_csv(out / "exclusions.csv")
    assert int((excluded["level"] == "patient").sum()) == 0, excluded
    assert int((excluded["level"] == "warning").sum()) == case.get("flagged", 0), excluded
    if command != "discover":
        return
    report = (out / "report.md").read_text(encoding="utf-8")
    if "patients" in case:
        assert _report_count(report, "patients analysed") == case["patients"]
    analysed = _report_count(report, "rows analysed")
    row_records = int((excluded["level"] == "row").sum())
    assert analysed + row_records == _data_records(path)
