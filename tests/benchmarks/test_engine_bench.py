"""Smoke test of ``python -m benchmarks.engine --quick``: table structure and exactness.

No timing is asserted (the machine is shared); only that the benchmark runs,
writes its table, and finds the engine and tigramite's ParCorr identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks import engine  # importable via pytest's pythonpath = ["."]


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    out = tmp_path_factory.mktemp("bench") / "engine_quick.csv"
    table = engine.main(["--quick", "--repeats", "1", "--probes", "3", "--out", str(out)])
    return table, out


def test_quick_table_has_one_row_per_case_and_all_columns(quick):
    table, _ = quick
    assert list(table.columns) == list(engine.TABLE_COLUMNS)
    assert len(table) == len(engine.QUICK_CASES)
    expected = [(c.cohort, c.tau_max, c.method, c.cut_off) for c in engine.QUICK_CASES]
    got = list(table[["cohort", "tau_max", "method", "cut_off"]].itertuples(index=False,
                                                                          name=None))
    assert got == expected
    # both PCMCI and PCMCI+ and both sample definitions are exercised
    assert set(table["method"]) == {"pcmci", "pcmciplus"}
    assert set(table["cut_off"]) == {"2xtau_max", "tau_max"}


def test_quick_csv_round_trips(quick):
    table, out = quick
    assert out.exists()
    back = pd.read_csv(out)
    assert list(back.columns) == list(engine.TABLE_COLUMNS)
    assert back["cohort"].tolist() == table["cohort"].tolist()


def test_quick_engine_equals_tigramite(quick):
    table, _ = quick
    # every quick case is small enough that tigramite really runs
    assert (table["tigramite"] == "run").all()
    assert table["graphs_equal"].map(lambda v: v is True or v is np.True_).all()
    for col in ("max_dvalue", "max_dp", "max_dconf"):
        assert (table[col] < 1e-9).all(), table[col]
    assert (table["n_tests"] > 0).all()


def test_quick_times_and_memory_are_filled(quick):
    table, _ = quick
    for col in ("tig_fit_s", "eng_fit_s", "tig_pcmci_s", "eng_pcmci_s", "tig_pcmci_cpu_s",
                "eng_pcmci_cpu_s", "tig_est_s", "fit_ratio", "pcmci_ratio", "cpu_ratio"):
        assert (table[col] > 0).all() and np.isfinite(table[col]).all(), col
    # the memory trace is taken for the largest case only
    largest = max(c.size for c in engine.QUICK_CASES)
    traced = [c.size == largest for c in engine.QUICK_CASES]
    assert (table["eng_peak_mib"].notna() == pd.Series(traced)).all()
    assert (table.loc[traced, "eng_peak_mib"] > 0).all()


def test_max_diff_flags_nan_mismatch_and_shape():
    assert engine._max_diff([1.0, np.nan], [1.0 + 1e-12, np.nan]) == pytest.approx(1e-12)
    assert engine._max_diff([1.0, np.nan], [1.0, 2.0]) == np.inf
    assert engine._max_diff([1.0], [1.0, 2.0]) == np.inf
    assert engine._max_diff(None, None) == 0.0


def test_estimate_skips_tigramite_above_the_limit():
    # a limit of 0 s forces the estimated path: tigramite is not run, graphs unknown
    row = engine.run_case(engine.Case(40, 8, 3, 1, "pcmci"), repeats=1, probes=2, limit=0.0)
    assert row["tigramite"].startswith("estimated")
    assert np.isnan(row["tig_fit_s"]) and row["tig_pcmci_s"] == row["tig_est_s"]
    assert row["graphs_equal"] is None
    # the replayed calls still agree with the engine
    assert row["max_dvalue"] < 1e-9 and row["max_dp"] < 1e-9


def test_fit_time_is_derived_above_the_fit_limit():
    # fit_limit 0 s: only tigramite's PCMCI run is timed and still compared
    row = engine.run_case(engine.Case(40, 8, 3, 1, "pcmciplus"), repeats=1, probes=2,
                          fit_limit=0.0)
    assert row["tigramite"] == "run (PCMCI only; fit derived)"
    assert row["tig_fit_s"] == pytest.approx(
        row["tig_pcmci_s"] + row["eng_fit_s"] - row["eng_pcmci_s"])
    assert row["graphs_equal"] is True
    assert max(row["max_dvalue"], row["max_dp"], row["max_dconf"]) < 1e-9
