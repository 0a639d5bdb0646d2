from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from experiments._realdata_frames import kossakowski_frame
from experiments.harness.config import ConfigError
from experiments.realdata import (
    ARMS,
    RealDataConfig,
    compare_edges,
    expected_share,
    main,
)
from features.datasets import load_bringmann2013_tidy, load_kossakowski2017_tidy

ITEMS = ["cheerful", "worry", "fearful", "sad", "relaxed", "pleasant_event"]
TABLES = {"bringmann_edges", "bringmann_changes", "bringmann_sensitivity", "bringmann_groups",
          "kossakowski_phases", "kossakowski_edges", "kossakowski_changes", "samples",
          "exclusions", "exclusion_summary"}
FIGURES = {"realdata_bringmann_pre", "realdata_bringmann_post", "realdata_kossakowski_pre",
           "realdata_kossakowski_post", "realdata_bringmann_bootstrap",
           "realdata_bringmann_individual"}


def _excluded(tables, analysis, *, screened_only=False):
    ex = tables["exclusions"]
    keep = (ex["analysis"] == analysis) & (ex["level"] == "patient")
    if screened_only:  # refused by the analysis itself, not persons without any usable row
        keep &= ~ex["reason"].str.startswith("every row excluded")
    return set(ex.loc[keep, "patient"])


def _bringmann_pairs(persons, period, *, across_nights=False):
    """Lag-1 samples counted on the raw beep grid, without the package's lag code.

    Every person-period-day has one row per beep 1..10 in the published file, so
    consecutive rows of a day are consecutive beeps; a pair needs all items
    observed at both beeps. ``across_nights`` also pairs beep 10 with the next
    day's beep 1 (what a lag crossing the night would add).
    """
    df = load_bringmann2013_tidy().dropna(subset=["beep"])
    df = df[(df["period"] == period) & df["person"].isin(persons)]
    df = df.sort_values(["person", "day", "beep"])
    ok = df[ITEMS].notna().all(axis=1)
    prev_ok = ok.groupby(df["person"]).shift(1, fill_value=False)
    same_day = df["day"].eq(df.groupby("person")["day"].shift(1))
    next_day = df["day"].eq(df.groupby("person")["day"].shift(1) + 1) & df["beep"].eq(1)
    within = int((ok & prev_ok & same_day).sum())
    night = int((ok & prev_ok & next_day).sum())
    return within + night if across_nights else within


# ------------------------------------------------------------ quick run
def test_quick_run_writes_tables_figures_and_metadata(quick):
    out, cfg, tables = quick
    names = {p.name for p in out.iterdir()}
    assert {f"{t}.csv" for t in TABLES} | {f"{f}.png" for f in FIGURES} | {"run.json"} == names
    for fig in FIGURES:
        assert (out / f"{fig}.png").stat().st_size > 20_000
    meta = json.loads((out / "run.json").read_text())
    assert meta["quick"] is True and meta["config"]["n_boot"] == cfg["n_boot"]
    edges = tables["bringmann_edges"]
    # every lag-1 link of the six items, once per period
    assert len(edges) == 2 * len(ITEMS) ** 2
    assert set(edges["period"]) == {"pre", "post"}
    assert not edges.duplicated(["period", "source", "target", "lag"]).any()
    assert (edges["lag"] == 1).all()
    assert edges["p_value"].between(0, 1).all()
    assert (edges["significant"] == (edges["p_value"] <= cfg.get("alpha", 0.05))).all()
    sens = tables["bringmann_sensitivity"]
    assert set(sens["arm"]) == set(cfg["sensitivity"])
    groups = tables["bringmann_groups"]
    assert set(groups["informat04"]) == {0, 1}
    k = tables["kossakowski_edges"]
    n_k = len(RealDataConfig().kossakowski_variables)
    assert len(k) == 2 * n_k**2 and set(k["phase_group"]) == {"pre", "post"}
    assert len(tables["kossakowski_changes"]) == n_k**2


def test_bootstrap_columns_are_consistent(quick):
    _, cfg, tables = quick
    e = tables["bringmann_edges"]
    assert (e["n_boot"] == cfg["n_boot"]).all()
    assert e["boot_frequency"].between(0, 1).all()
    # a significant replicate has one sign: the sign shares add up to the frequency
    np.testing.assert_allclose(e["boot_share_positive"] + e["boot_share_negative"],
                               e["boot_frequency"], atol=1e-12)
    assert (e["boot_low"] <= e["boot_mean"]).all() and (e["boot_mean"] <= e["boot_high"]).all()


def test_no_lag_crosses_a_day_or_period(quick):
    _, cfg, tables = quick
    samples = tables["samples"].set_index("analysis")
    persons = np.sort(load_bringmann2013_tidy()["person"].unique())[:cfg["max_persons"]]
    for period, label in ((0, "pre"), (1, "post")):
        for analysis in (f"bringmann {label}", f"bringmann {label} center_day"):
            kept = [p for p in persons if p not in _excluded(tables, analysis)]
            row = samples.loc[analysis]
            # cut_off "tau_max": every within-day pair of fully observed consecutive beeps
            assert row["n_samples"] == _bringmann_pairs(kept, period) == row["within_day_pairs"]
            # a lag across the night would add samples: the equality above can fail
            crossing = _bringmann_pairs(kept, period, across_nights=True)
            assert crossing - row["n_samples"] == row["night_pairs"] > 0
    # Kossakowski: the single person's within-day pairs of the pre phases (beepno gaps count)
    k = load_kossakowski2017_tidy()
    k = k[k["phase"].isin(RealDataConfig().kossakowski_pre)]
    k = k.assign(mood_relaxed=kossakowski_frame(["mood_relaxed"])["mood_relaxed"])
    ok = k[list(RealDataConfig().kossakowski_variables)].notna().all(axis=1)
    prev = pd.DataFrame({"day": k["day"], "beepno": k["beepno"] + 1, "prev_ok": ok})
    merged = k[["day", "beepno"]].assign(ok=ok).merge(prev, on=["day", "beepno"], how="left")
    pairs = int((merged["ok"] & merged["prev_ok"].fillna(False).astype(bool)).sum())
    assert samples.loc["kossakowski pre", "n_samples"] == pairs


def test_exclusion_report_is_written_and_complete(quick):
    _, cfg, tables = quick
    ex, summary = tables["exclusions"], tables["exclusion_summary"]
    df = load_bringmann2013_tidy()
    df = df[df["person"].isin(np.sort(df["person"].unique())[:cfg["max_persons"]])]
    for period, label in ((0, "pre"), (1, "post")):
        d = df[df["period"] == period]
        rows = ex[(ex["analysis"] == f"bringmann {label}") & (ex["level"] == "row")]
        counts = rows["reason"].value_counts()
        # the file's row without a beep number closes every day: one per person-day
        assert counts["missing time"] == d["beep"].isna().sum() == 10 * cfg["max_persons"]
        unanswered = d["beep"].notna() & d[ITEMS].isna().all(axis=1)
        assert counts["every variable missing"] == unanswered.sum()
        assert set(rows["row"].astype(int)) == set(d.index[d["beep"].isna() | unanswered])
    # the summary counts every record written for the main analyses
    main_rows = ex.groupby(["analysis", "level", "reason"]).size()
    s = summary.set_index(["analysis", "level", "reason"])["count"]
    for key, n in main_rows.items():
        if key[1] == "row":
            assert s[key] == n
    per_person = summary[summary["analysis"] == "bringmann pre per-person"]
    assert per_person["reason"].str.contains("usable samples for per-patient discovery").any()


def test_individual_shares_account_for_every_person(quick):
    _, cfg, tables = quick
    e = tables["bringmann_edges"]
    for label in ("pre", "post"):
        part = e[e["period"] == label]
        analysed = int(part["ind_n_patients"].iloc[0])
        refused = len(_excluded(tables, f"bringmann {label} per-person", screened_only=True))
        assert analysed + refused == int(part["persons"].iloc[0])
        assert part["ind_share"].between(0, 1).all()
        np.testing.assert_allclose(part["ind_share"], part["ind_n_significant"] / analysed)
        assert part["ind_expected_share"].between(cfg.get("alpha", 0.05) - 1e-12, 1).all()


def test_kossakowski_phase_groups_match_the_dose(quick):
    # pre = full dose throughout, post = dose 0 throughout (the phases' meaning in the data)
    _, _, tables = quick
    phases = tables["kossakowski_phases"].set_index("phase")
    cfg = RealDataConfig()
    full = phases["dose_max"].max()
    assert (phases.loc[list(cfg.kossakowski_pre), ["dose_min", "dose_max"]] == full).all().all()
    assert (phases.loc[list(cfg.kossakowski_post), ["dose_min", "dose_max"]] == 0).all().all()
    assert phases["signals"].sum() == 1476


# -------------------------------------------------------------- helpers
def test_expected_share_is_the_fisher_z_power():
    # r = 0.3, n = 100, no conditions: z = atanh(0.3) * sqrt(97)
    z = np.arctanh(0.3) * np.sqrt(97)
    power = norm.sf(1.959964 - z) + norm.cdf(-1.959964 - z)
    assert float(expected_share(0.3, 100, 0, 0.05)) == pytest.approx(power, abs=1e-6)
    assert float(expected_share(0.0, 50, 6, 0.05)) == pytest.approx(0.05)
    shares = expected_share(np.array([0.05, 0.1, 0.2]), 40, 6, 0.05)
    assert np.all(np.diff(shares) > 0)


def test_compare_edges_tests_the_difference():
    keys = {"source": ["a", "b"], "target": ["b", "a"], "lag": [1, 1]}
    a = pd.DataFrame({**keys, "value": [0.30, 0.10], "p_value": [0.001, 0.2],
                      "significant": [True, False]})
    b = pd.DataFrame({**keys, "value": [0.00, 0.12], "p_value": [0.9, 0.01],
                      "significant": [False, True]})
    out = compare_edges(a, b, 203, 403).set_index("source")
    se = np.sqrt(1 / 200 + 1 / 400)
    assert out.loc["a", "z"] == pytest.approx((0 - np.arctanh(0.3)) / se)
    assert out.loc["a", "p_difference"] < 0.001 < out.loc["b", "p_difference"]
    assert out.loc["a", "significant_in"] == "pre only"
    assert out.loc["b", "significant_in"] == "post only"


def test_config_is_validated(tmp_path):
    with pytest.raises(ConfigError, match="arms"):
        RealDataConfig(prep="demean")
    with pytest.raises(ConfigError, match="share a phase"):
        RealDataConfig(kossakowski_pre=[1, 2], kossakowski_post=[2, 4])
    with pytest.raises(ConfigError, match="n_boot"):
        RealDataConfig(n_boot=-1)
    with pytest.raises(ConfigError, match="tau_max must be 1"):
        RealDataConfig(tau_max=2)
    with pytest.raises(ConfigError, match="not columns"):
        kossakowski_frame(["mood_happy"])
    assert set(ARMS) >= {"center", "center_day", "detrend", "none"}
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = 1\nn_bootstrap = 5\n")
    assert main(["--config", str(bad), "--out", str(tmp_path / "out")]) == 2
