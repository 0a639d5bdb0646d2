"""causal.cli.individual: ``therapy-pcmci individual``."""

from __future__ import annotations

import pandas as pd
import pytest

from features.scenarios import generic_scenario
from features.simulate import simulate_subgroups


def test_individual_command(cli, tmp_path):
    base = generic_scenario(2, 0)
    a = base.with_cross([("x1", "x2", 0.5)], name="A")
    b = base.with_cross([("x2", "x1", 0.5)], name="B")
    data = tmp_path / "long.csv"
    simulate_subgroups([a, b], [6, 6], n_weeks=60, random_state=4).to_csv(data, index=False)
    code, out, err = cli("-q", "individual", data, "--group-col", "subgroup",
                         "--group-threshold", "0.5", "--out", tmp_path / "o")
    assert (code, out, err) == (0, "", "")
    for name in ("edge_shares.csv", "patient_links.csv", "group_graph.png", "edge_shares.png",
                 "subgroups.csv", "subgroup_differences.csv", "summary.txt"):
        assert (tmp_path / "o" / name).is_file(), name
    shares = pd.read_csv(tmp_path / "o" / "edge_shares.csv").set_index("edge")
    assert shares.loc["x1(t-1) -> x2(t)", "n_patients"] == 12
    code, _, _ = cli("-q", "individual", data, "--vars", "x1,x2", "--subgroups", "2",
                     "--out", tmp_path / "k")
    assert code == 0 and len(pd.read_csv(tmp_path / "k" / "subgroups.csv")) == 12


@pytest.mark.parametrize(("args", "needles"), [
    (["--subgroups", "1"], ["--subgroups", "1"]),
    (["--subgroups", "2", "--group-col", "arm"], ["--group-col", "not allowed"]),
    (["--group-threshold", "0"], ["--group-threshold"]),
    (["--group-col", "arm"], ["'arm' not in the data"]),
])
def test_individual_bad_options(cli, tmp_path, good_csv, args, needles, one_error_line):
    code, _, err = cli("individual", good_csv, *args, "--out", tmp_path / "o")
    one_error_line(code, err, *needles)


def test_individual_refuses_short_series_with_the_needed_length(cli, tmp_path, good_csv,
                                                                one_error_line):
    # 8 weeks per patient; per-patient PCMCI with 3 variables at tau_max=1 needs 31
    code, _, err = cli("individual", good_csv, "--out", tmp_path / "o")
    one_error_line(code, err, "needs at least 31 time points per patient")




def test_individual_rename_direction_exclusions_and_weak_subgroups(cli, tmp_path):
    # One scenario for every patient: no real subgroups, so --subgroups 2 must be flagged weak.
    a = generic_scenario(3, 0).with_cross([("x1", "x2", 0.5)], name="A")
    df = simulate_subgroups([a, a], [8, 8], n_weeks=60, random_state=4).drop(
        columns="subgroup")
    df.loc[(df["patient"] == 3) & (df["week"] > 3), "x3"] = 0.0  # nearly constant x3
    data = tmp_path / "long.csv"
    df.rename(columns={"x1": "pieker", "patient": "subjno"}).to_csv(data, index=False)
    code, _, err = cli("-q", "individual", data, "--rename", "pieker=worry,subjno=person",
                       "--id", "person", "--vars", "worry,x2,x3", "--method", "pcmciplus",
                       "--subgroups", "2", "--out", tmp_path / "o")
    assert code == 0, err
    out = tmp_path / "o"
    links = pd.read_csv(out / "patient_links.csv")
    assert list(links.columns[:5]) == ["patient", "source", "target", "lag", "direction"]
    assert "worry" in set(links["source"]) and "pieker" not in set(links["source"])
    zero = links[links["lag"] == 0]
    # each contemporaneous pair once per patient (3 pairs of 3 variables), with a direction
    assert (zero.groupby("patient").size() == 3).all()
    assert set(zero["direction"]) <= {"->", "--"} and set(links.loc[links["lag"] > 0,
                                                                     "direction"]) == {"->"}
    shares = pd.read_csv(out / "edge_shares.csv")
    assert (shares["lag"] == 0).sum() == 3 and "direction" in shares.columns
    exclusions = pd.read_csv(out / "exclusions.csv")
    flat = exclusions[exclusions["reason"].str.contains("nearly constant")]
    assert flat["patient"].tolist() == [3] and flat["column"].tolist() == ["x3"]
    assert flat["value"].tolist() == [3]  # weeks 1-3 differ from the constant
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert "WARNING: weak subgroup solution: silhouette" in summary and "stability" in summary


def test_individual_background_knowledge_reaches_every_patient(cli, tmp_path):
    a = generic_scenario(2, 0).with_cross([("x1", "x2", 0.5)], name="A")
    data = tmp_path / "long.csv"
    simulate_subgroups([a], [6], n_weeks=60, random_state=4).drop(
        columns="subgroup").to_csv(data, index=False)
    code, _, err = cli("-q", "individual", data, "--forbid", "x1:x2:1", "--require",
                       "x2:x1:1", "--standardize", "--out", tmp_path / "o")
    assert code == 0, err
    links = pd.read_csv(tmp_path / "o" / "patient_links.csv")
    # the planted x1 -> x2 is forbidden (never tested); the absent x2 -> x1 is required,
    # so it is kept in every patient although its test is not significant
    tested = set(zip(links["source"], links["target"], links["lag"], strict=True))
    assert tested == {("x1", "x1", 1), ("x2", "x1", 1), ("x2", "x2", 1)}
    required = links[(links["source"] == "x2") & (links["target"] == "x1")]
    assert required["significant"].all() and (required["p_value"] > 0.05).any()
    shares = pd.read_csv(tmp_path / "o" / "edge_shares.csv").set_index("edge")
    assert shares.loc["x2(t-1) -> x1(t)", "share"] == 1.0


def test_individual_on_the_bundled_ema_layout(cli, tmp_path):
    # issue 10: individual takes --day/--beep, --rename and --duplicates on real EMA data
    from features.datasets import load_bringmann2013

    raw = load_bringmann2013()
    keep = raw[raw["subjno"].isin(raw["subjno"].unique()[:25])]
    doubled = keep[keep["beepno"].notna() & keep["opgewkt_"].notna()].iloc[[0]]
    data = tmp_path / "mbct.csv"
    pd.concat([keep, doubled]).to_csv(data, index=False)  # the doubled row is the last line
    args = ("individual", data, "--id", "subjno", "--day", "dayno", "--beep", "beepno",
            "--segment", "st_period", "--vars", "opgewkt_,pieker,somber__,ontspann",
            "--rename", "opgewkt_=cheerful,pieker=worry,somber__=sad,ontspann=relaxed")
    code, _, err = cli("-q", *args, "--out", tmp_path / "o")
    assert code == 2 and "duplicate" in err.lower() and not (tmp_path / "o").exists()
    code, _, err = cli("-q", *args, "--duplicates", "keep-first", "--out", tmp_path / "o")
    assert code == 0, err
    out = tmp_path / "o"
    exclusions = pd.read_csv(out / "exclusions.csv")
    assert (exclusions["row"] == len(keep) + 2).sum() == 1  # the doubled row, by file line
    links = pd.read_csv(out / "patient_links.csv")
    assert set(links["source"]) == {"cheerful", "worry", "sad", "relaxed"}
    assert set(links["direction"]) == {"->"}
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert "patient(s) analysed" in summary
