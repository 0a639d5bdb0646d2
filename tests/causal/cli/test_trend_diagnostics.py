"""The trajectory-diagnostics section of ``discover`` (issue 8)."""

from __future__ import annotations

import logging

from causal.cli.pipeline import DiscoverOptions, compute_discover, diagnostics_section, discover
from features.simulate import simulate_cohort
from features.trajectories import Trajectory


def test_discover_reports_and_warns_about_a_misfitting_trend_model(tmp_path, caplog):
    sudden = Trajectory("sudden", sudden_share=1.0, step_size=3.0, loss_share=0.0)
    df = simulate_cohort("null", 150, 13, trajectory=sudden, random_state=21)
    with caplog.at_level(logging.WARNING, logger="features.diagnostics"):
        result, _ = discover(df, tmp_path / "out", DiscoverOptions(random_state=1))
    assert result.diagnostics is not None and result.diagnostics.misfit
    assert result.diagnostics.prep == "detrend"
    assert any("trend model misfits" in r.getMessage() for r in caplog.records)
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "## Trajectory diagnostics" in report
    assert "**The trend model misfits**" in report
    assert f"{result.diagnostics.share_patients:.1%}" in report


def test_straight_lines_give_no_misfit_verdict():
    df = simulate_cohort("null", 150, 13, random_state=22)
    result = compute_discover(df, DiscoverOptions(pcmci={"prep": "spline"}))
    assert result.diagnostics.prep == "spline" and not result.diagnostics.misfit
    title, body = diagnostics_section(result.diagnostics)
    assert title == "Trajectory diagnostics"
    assert "No evidence that the trend model misfits" in body
