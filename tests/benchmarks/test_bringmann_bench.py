"""Smoke test of ``python -m benchmarks.bringmann --quick``: it runs and reports every phase.

No timing is asserted (the machine is shared); only that the in-process CLI path runs on
the bundled data and the report holds the table and the target line.
"""

from __future__ import annotations

from benchmarks import bringmann  # importable via pytest's pythonpath = ["."]


def test_quick_report(tmp_path, capsys):
    out = tmp_path / "bringmann.txt"
    report = bringmann.main(["--quick", "--out", str(out)])
    assert out.read_text(encoding="utf-8") == report + "\n"
    row = next(line for line in report.splitlines() if line.startswith("| parcorr (pooled"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    read, compute, cpu, total, write = map(float, cells[1:6])
    assert abs(read + compute - total) <= 0.011 and min(read, compute, cpu, write) >= 0
    n_samples, n_links, n_sig = map(int, cells[6:])
    assert n_links == 6 * 6 and 0 < n_sig <= n_links and n_samples > 1000
    assert "target: read + compute < 3 s" in report
    assert "tigramite" not in row and "compute ratio" not in report  # --quick skips it
    assert "written to" in capsys.readouterr().out
