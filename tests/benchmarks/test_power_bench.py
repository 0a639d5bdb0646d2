"""Smoke test of ``python -m benchmarks.power --quick``: it runs, reports and the engines agree."""

from __future__ import annotations

from benchmarks import power  # importable via pytest's pythonpath = ["."]


def test_quick_benchmark_reports_agreeing_engines(tmp_path):
    out = tmp_path / "power_quick.md"
    code = power.main(["--quick", "--full-cohorts", "2", "--n-jobs", "1", "--repeats", "1",
                       "--out", str(out)])
    assert code == 0  # 0 only if every compared cohort got the same decisions
    report = out.read_text(encoding="utf-8")
    assert "Decisions identical on every compared cohort: True." in report
    assert report.count("patients x 13 weeks") == 4
    assert "| fast (1 process) | 80 |" in report
