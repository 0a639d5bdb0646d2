from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal import plot_power_curve
from causal.plotting import plot_rate_vs_alpha


# ------------------------------------------------------------------ power curve
def test_power_curve(tmp_path, figures, check_files):
    table = pd.DataFrame({"n_patients": [80, 20, 40] * 2, "power": [0.9, 0.3, 0.6, 0.8, 0.2, 0.5],
                          "method": ["a"] * 3 + ["b"] * 3,
                          "ci_low": [0.85, 0.2, 0.5, 0.7, 0.1, 0.4],
                          "ci_high": [0.95, 0.4, 0.7, 0.9, 0.3, 0.6]})
    svg = check_files(plot_power_curve(table, tmp_path / "pw", group="method"), tmp_path / "pw")
    assert "target 0.8" in svg and "n_patients" in svg
    lines = {ln.get_label(): ln for ln in figures[0].axes[0].get_lines()}
    np.testing.assert_array_equal(lines["a"].get_xdata(), [20, 40, 80])  # sorted by x
    np.testing.assert_array_equal(lines["b"].get_ydata(), [0.2, 0.5, 0.8])
    assert list(lines["target 0.8"].get_ydata()) == [0.8, 0.8]
    ax = figures[0].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "target 0.8"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("n_patients", "power")
    assert len(ax.collections) == 2  # one shaded confidence band per group
    with pytest.raises(ValueError, match="'arm'"):
        plot_power_curve(table, tmp_path / "pw", group="arm")
    # no group and no target: nothing to put in a legend, and no warning about it
    plain = plot_power_curve(table[table["method"] == "a"], tmp_path / "plain", target=None)
    assert "target" not in check_files(plain, tmp_path / "plain")
    assert figures[-1].axes[0].get_legend() is None


# ---------------------------------------------------------------- rate vs alpha
def test_rate_vs_alpha(tmp_path, figures, check_files):
    table = pd.DataFrame({"alpha": [0.01, 0.05, 0.1] * 2,
                          "rate": [0.01, 0.06, 0.12, 0.02, 0.04, 0.2],
                          "group": ["x"] * 3 + ["y"] * 3})
    svg = check_files(plot_rate_vs_alpha(table, tmp_path / "r"), tmp_path / "r")
    assert "nominal" in svg
    lines = {ln.get_label(): ln for ln in figures[0].axes[0].get_lines()}
    assert {"x", "y"} <= set(lines)
    nominal = lines["nominal (rate = alpha)"]
    np.testing.assert_array_equal(nominal.get_xdata(), nominal.get_ydata())
    assert nominal.get_xdata()[1] >= 0.2  # covers the largest rate
    ax = figures[0].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == \
        ["x", "y", "nominal (rate = alpha)"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("nominal alpha", "empirical rate")
    with pytest.raises(ValueError, match="'rate'"):
        plot_rate_vs_alpha(table.drop(columns="rate"), tmp_path / "r")
    first = plot_rate_vs_alpha(table, tmp_path / "r2")
    assert first[1].read_bytes() == (tmp_path / "r.svg").read_bytes()


def test_rate_vs_alpha_log_axes(tmp_path, figures):
    # a rate of 0 cannot sit on a log axis: it is clipped to the bottom edge, and the
    # identity line spans the alpha range only
    table = pd.DataFrame({"alpha": [0.01, 0.05, 0.1], "rate": [0.0, 0.3, 0.6],
                          "ci_low": [0.0, 0.2, 0.5], "ci_high": [0.02, 0.4, 0.7]})
    plot_rate_vs_alpha(table, tmp_path / "log", log=True, title="null", formats=("png",))
    ax = figures[0].axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_title() == "null"
    nominal = {ln.get_label(): ln for ln in ax.get_lines()}["nominal (rate = alpha)"]
    low, high = nominal.get_xdata()
    assert low == pytest.approx(0.01 / 1.5) and high == pytest.approx(0.1 * 1.5)
    bottom, top = ax.get_ylim()
    assert bottom == pytest.approx(0.01 / 1.5) and top == pytest.approx(1.05)
