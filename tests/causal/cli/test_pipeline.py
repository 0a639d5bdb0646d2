from __future__ import annotations

import itertools
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from causal import HypothesisError, PanelPCMCI, load_hypotheses
from causal.cli.pipeline import (
    BOOTSTRAP_FILES,
    INDIVIDUAL_FILES,
    OUTPUT_FILES,
    DataOptions,
    DiscoverOptions,
    DiscoverResult,
    IndividualOptions,
    IndividualResult,
    compute_discover,
    discover,
    individual,
    read_data,
    rename_columns,
    write_discover,
    writing_to,
)
from causal.graph import read_graphml, read_json
from causal.hypotheses import COMPARISON_COLUMNS, HYPOTHESIS_COLUMNS, load_comparisons
from causal.report import EFFECT_SIZE_COLUMNS
from features.errors import DataError, InputError
from features.scenarios import generic_scenario
from features.simulate import simulate_cohort, simulate_subgroups

VARS = ("depression", "self_compassion", "fear_others")
FIRST_HYPOTHESIS_COLUMNS = ["name", "cause", "effect", "lag", "expected", "verdict", "value",
                            "p_value", "ci_low", "ci_high"]
SHORT_PATIENT = 999


def _cohort_with_exclusions() -> pd.DataFrame:
    """40 simulated patients, one row with every variable missing, one too-short patient."""
    df = simulate_cohort("paper", n_patients=40, n_weeks=13, random_state=3)
    df.loc[17, list(VARS)] = np.nan  # patient 2, week 5: a row with nothing observed
    short = pd.DataFrame({"patient": SHORT_PATIENT, "week": [1, 3, 5, 7],
                          "depression": [10.0, 12, 11, 9], "self_compassion": [2.0, 2.2, 2.5, 2.1],
                          "fear_others": [20.0, 25, 22, 21]})
    return pd.concat([df, short], ignore_index=True)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return _cohort_with_exclusions()


class Run(NamedTuple):
    """A computed result, the folder it was written to and the files written."""

    result: DiscoverResult
    out_dir: Path
    files: tuple[Path, ...]


def _run(data, out: Path, options: DiscoverOptions) -> Run:
    result, files = discover(data, out, options)
    return Run(result, out, files)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory) -> Run:
    out = tmp_path_factory.mktemp("discover") / "results"  # created by discover
    return _run(data, out, DiscoverOptions(hypotheses="melsom2023", random_state=0,
                                           command="pytest run"))


def test_returns_a_result_with_the_fitted_model(run):
    assert isinstance(run.result, DiscoverResult)
    assert isinstance(run.result.model, PanelPCMCI)
    assert run.result.links is run.result.model.links_
    verdicts = run.result.verdicts
    assert verdicts is not None and len(verdicts) == len(load_hypotheses("melsom2023"))
    text = str(run.result)
    assert "Links:" in text and "Hypothesis verdicts" in text


def test_compute_writes_nothing_and_write_reproduces_the_files(data, run, tmp_path):
    result = compute_discover(data, DiscoverOptions(hypotheses="melsom2023", random_state=0,
                                                    command="pytest run"))
    assert list(tmp_path.iterdir()) == []
    files = write_discover(result, tmp_path / "again")
    assert {p.name for p in files} == {p.name for p in run.files}
    for name in ("links.csv", "hypotheses.csv", "exclusions.csv", "graph.json", "report.md"):
        assert (tmp_path / "again" / name).read_bytes() == (run.out_dir / name).read_bytes()


def test_options_are_checked_before_any_work():
    with pytest.raises(InputError, match="bootstrap must be an integer >= 0, got -1"):
        DiscoverOptions(bootstrap=-1)
    with pytest.raises(InputError, match="random_state"):
        DiscoverOptions(pcmci={"random_state": 1})
    with pytest.raises(InputError, match="either subgroups"):
        IndividualOptions(subgroups=2, group_col="arm")


def test_unwritable_output_folder_is_an_input_error(run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="is an existing file"):
        write_discover(run.result, blocker)
    with pytest.raises(InputError, match="cannot write the output folder"):
        write_discover(run.result, blocker / "inside")


def test_unreadable_data_is_a_data_error_naming_the_file(tmp_path):
    with pytest.raises(DataError, match=r"nowhere\.csv: file not found"):
        read_data(tmp_path / "nowhere.csv")


def test_writes_every_output_file(run):
    expected = [*OUTPUT_FILES, "graph.svg", "patients.png", "patients.svg"]
    for name in expected:
        path = run.out_dir / name
        assert path.is_file(), name
        assert path.stat().st_size > 0, name
    assert {p.name for p in run.files} >= set(expected)
    assert all(p.is_file() for p in run.files)
    assert all(p.parent == run.out_dir for p in run.files)


def test_links_csv_has_every_tested_link(run):
    links = pd.read_csv(run.out_dir / "links.csv")
    triples = set(zip(links["source"], links["target"], links["lag"], strict=True))
    pairs = {(a, b, 0) for a, b in itertools.permutations(VARS, 2)}
    assert triples == set(itertools.product(VARS, VARS, [1])) | pairs
    assert len(links) == len(VARS) ** 2 + len(pairs)
    # non-significant links are written too (the cohort's null links are not all found)
    lagged = links[links["lag"] > 0].reset_index(drop=True)
    assert (~lagged["significant"]).any() and lagged["significant"].any()
    # discovery's rows are written unchanged; the lag-0 rows are the contemporaneous network
    table = run.result.model.links_.table
    pd.testing.assert_series_equal(lagged["p_value"], table["p_value"], check_exact=False)
    assert links.columns.tolist() == table.columns.tolist()
    contemp = run.result.networks.contemporaneous
    np.testing.assert_allclose(links.loc[links["lag"] == 0, "value"], contemp["value"])


def test_graph_files_match_the_model(run):
    out = run.out_dir
    for graph in (read_json(out / "graph.json"), read_graphml(out / "graph.graphml")):
        assert set(graph.nodes) == set(run.result.model.graph_.nodes)
        assert set(graph.edges) == set(run.result.model.graph_.edges)


def test_hypotheses_csv_columns_and_rows(run):
    hyp = pd.read_csv(run.out_dir / "hypotheses.csv")
    assert hyp.columns.tolist()[:len(FIRST_HYPOTHESIS_COLUMNS)] == FIRST_HYPOTHESIS_COLUMNS
    assert hyp["name"].tolist() == [h.name for h in load_hypotheses("melsom2023")]
    assert set(hyp["verdict"]) <= {"supported", "contradicted", "inconclusive"}
    for row in hyp.itertuples():
        link = run.result.model.links_.get(row.cause, row.effect, row.lag)
        assert row.value == pytest.approx(link["value"])
        assert row.p_value == pytest.approx(link["p_value"])


def test_header_only_hypotheses_csv_without_hypotheses(data, tmp_path):
    result, _ = discover(data, tmp_path, DiscoverOptions(random_state=0))
    assert result.verdicts is None
    hyp = pd.read_csv(tmp_path / "hypotheses.csv")
    assert hyp.empty
    assert hyp.columns.tolist() == [*HYPOTHESIS_COLUMNS, *EFFECT_SIZE_COLUMNS]
    assert result.comparisons is None and result.leading is not None
    assert "## Hypotheses" not in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_comparisons_csv_and_report_sections(run):
    result = run.result
    frame = pd.read_csv(run.out_dir / "comparisons.csv")
    assert tuple(frame.columns) == COMPARISON_COLUMNS
    assert frame["name"].tolist() == [c.name for c in load_comparisons("melsom2023")]
    row = frame.iloc[0]
    draws = result.effects
    strong = draws.estimate[draws.column("fear_others", "depression", 1)]
    weak = draws.estimate[draws.column("depression", "fear_others", 1)]
    assert row["difference"] == pytest.approx(abs(strong) - abs(weak))
    assert row["ci_low"] < row["ci_high"]
    assert row["verdict"] == result.comparisons.results[0].verdict
    report = (run.out_dir / "report.md").read_text(encoding="utf-8")
    section = report.split("## Comparisons", 1)[1].split("\n## ", 1)[0]
    assert "| fear_leads_depression | fear_others -> depression stronger than " in section
    assert f"| {round(row['ci_low'], 3):.4g} | {round(row['ci_high'], 3):.4g} |" in section
    assert "standardized within-person change per week" in section
    leads = report.split("## Who leads", 1)[1].split("\n## ", 1)[0]
    assert result.leading.render() in leads
    for r in result.leading.pairs.itertuples():  # every step carries its share
        assert f"{r.ahead} ahead in {r.p_ahead:.1%} of draws" in leads
    assert "fear_leads_depression" in str(result)


def test_hypotheses_csv_carries_effect_sizes(run):
    hyp = pd.read_csv(run.out_dir / "hypotheses.csv")
    assert hyp.columns.tolist()[-3:] == list(EFFECT_SIZE_COLUMNS)
    table = run.result.links.table
    for row in hyp.itertuples():
        link = table[(table["source"] == row.cause) & (table["target"] == row.effect)
                     & (table["lag"] == row.lag)].iloc[0]
        expected = link["effect"] if "effect" in table.columns else np.nan
        assert row.effect_size == pytest.approx(expected, nan_ok=True)


def test_series_too_short_for_the_effects_give_inconclusive_comparisons(tmp_path):
    df = simulate_cohort("paper", n_patients=80, n_weeks=5, random_state=1)
    result, _ = discover(df, tmp_path, DiscoverOptions(hypotheses="melsom2023", random_state=0))
    frame = pd.read_csv(tmp_path / "comparisons.csv")
    assert len(frame) == 1
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    if result.effects is None:  # the stand-in's jackknife needs >= 3 weeks per half
        assert frame["verdict"].tolist() == ["inconclusive"]
        assert "could not be estimated" in frame["reason"].iloc[0]
        assert result.leading is None and "No order is stated" in report
    else:  # Links.effect exists: the correlations come from the uncorrected VAR
        assert result.leading.render() in report


def test_a_file_with_only_comparisons(data, tmp_path):
    path = tmp_path / "claims.toml"
    path.write_text('[[comparison]]\nname = "c"\nstronger = "depression -> self_compassion"\n'
                    'weaker = "self_compassion -> depression"\n', encoding="utf-8")
    result, _ = discover(data, tmp_path / "out", DiscoverOptions(hypotheses=path,
                                                                 random_state=0))
    assert result.verdicts is None and len(result.comparisons) == 1
    assert pd.read_csv(tmp_path / "out" / "hypotheses.csv").empty
    assert len(pd.read_csv(tmp_path / "out" / "comparisons.csv")) == 1


def test_comparisons_about_unknown_variables_fail_before_fitting(data, tmp_path, monkeypatch):
    path = tmp_path / "claims.toml"
    path.write_text('[[comparison]]\nname = "c"\nstronger = "anxiety -> depression"\n'
                    'weaker = "depression -> fear_others"\n', encoding="utf-8")
    monkeypatch.setattr(PanelPCMCI, "fit", lambda *a, **k: pytest.fail("fitted"))
    with pytest.raises(HypothesisError, match=r"comparison 'c'.*'anxiety'"):
        discover(data, tmp_path / "out", DiscoverOptions(hypotheses=path))
    assert not (tmp_path / "out").exists()


def test_exclusions_csv_lists_rows_and_patients(run):
    exc = pd.read_csv(run.out_dir / "exclusions.csv")
    assert exc.columns.tolist() == ["level", "patient", "row", "column", "value", "reason"]
    rows = exc[exc["level"] == "row"]
    patients = exc[exc["level"] == "patient"]
    assert rows["row"].tolist() == [17] and rows["patient"].tolist() == [2]
    assert "every variable missing" in rows["reason"].iloc[0]
    assert patients["patient"].tolist() == [SHORT_PATIENT]
    assert "usable lagged rows" in patients["reason"].iloc[0]
    assert SHORT_PATIENT not in set(run.result.model.panel_.patients)


def test_exclusions_csv_is_header_only_when_nothing_is_excluded(tmp_path):
    df = simulate_cohort("paper", n_patients=20, n_weeks=8, random_state=1)
    discover(df, tmp_path, DiscoverOptions(random_state=0))
    exc = pd.read_csv(tmp_path / "exclusions.csv")
    assert exc.empty and "reason" in exc.columns


def test_rows_from_a_file_are_reported_by_line_number(data, tmp_path):
    path = tmp_path / "cohort.csv"
    data.to_csv(path, index=False)
    discover(path, tmp_path / "out", DiscoverOptions(random_state=0))
    exc = pd.read_csv(tmp_path / "out" / "exclusions.csv")
    line = int(exc.loc[exc["level"] == "row", "row"].iloc[0])
    assert line == 17 + 2  # header is line 1, data row 0 is line 2
    with path.open(encoding="utf-8") as fh:
        text = fh.read().splitlines()[line - 1]
    assert text.startswith("2,5,")  # patient 2, week 5
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert str(path) in report


def test_report_records_source_and_command(run):
    report = (run.out_dir / "report.md").read_text(encoding="utf-8")
    assert "pytest run" in report and "DataFrame" in report
    assert "![graph.png](graph.png)" in report and "![patients.png](patients.png)" in report


def test_parameters_reach_the_model(data, tmp_path):
    pcmci = {"tau_max": 2, "alpha": 0.01, "method": "pcmciplus", "fdr": "fdr_bh"}
    result, _ = discover(data, tmp_path, DiscoverOptions(pcmci=pcmci, random_state=0))
    m = result.model
    assert (m.tau_max, m.alpha, m.method, m.fdr) == (2, 0.01, "pcmciplus", "fdr_bh")
    links = pd.read_csv(tmp_path / "links.csv")
    assert set(links["lag"]) == {0, 1, 2}


def test_variables_restrict_the_analysis(data, tmp_path):
    result, _ = discover(data, tmp_path, DiscoverOptions(
        data=DataOptions(variables=["depression", "fear_others"]), random_state=0))
    assert result.model.links_.variables == ("depression", "fear_others")
    assert len(pd.read_csv(tmp_path / "links.csv")) == 4 + 2  # + the lag-0 pair


def test_sesoi_override_reaches_the_verdicts(data, tmp_path):
    result, _ = discover(data, tmp_path, DiscoverOptions(hypotheses="melsom2023", sesoi=0.3,
                                                         random_state=0))
    hyp = pd.read_csv(tmp_path / "hypotheses.csv")
    assert (hyp["sesoi"] == 0.3).all()
    assert all(v.sesoi == 0.3 for v in result.verdicts)


def test_hypotheses_about_unknown_variables_fail(data, tmp_path):
    toml = tmp_path / "claims.toml"
    toml.write_text('[[hypothesis]]\nname = "a"\ncause = "anxiety"\neffect = "depression"\n'
                    'expected = "positive"\n', encoding="utf-8")
    with pytest.raises(HypothesisError, match="anxiety"):
        discover(data, tmp_path / "out", DiscoverOptions(hypotheses=toml))


# ------------------------------------------------------------------- rename
def test_rename_columns_maps_old_to_new():
    df = pd.DataFrame({"phq": [1], "fcs": [2], "other": [3]})
    out = rename_columns(df, {"phq": "depression", "fcs": "fear_others"})
    assert out.columns.tolist() == ["depression", "fear_others", "other"]
    assert df.columns.tolist() == ["phq", "fcs", "other"]  # input untouched


def test_rename_columns_allows_a_swap():
    out = rename_columns(pd.DataFrame({"a": [1], "b": [2]}), {"a": "b", "b": "a"})
    assert out.columns.tolist() == ["b", "a"] and out["b"].tolist() == [1]


def test_rename_unknown_old_name_is_an_error():
    with pytest.raises(DataError, match="phq9"):
        rename_columns(pd.DataFrame({"phq": [1]}), {"phq9": "depression"})


def test_rename_clash_is_an_error():
    with pytest.raises(DataError, match="fear_others"):
        rename_columns(pd.DataFrame({"fcs": [1], "fear_others": [2]}), {"fcs": "fear_others"})


def _raw_names(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns={"patient": "pid", "week": "session", "depression": "phq9",
                              "self_compassion": "scs", "fear_others": "fcs_others"})


RENAME = {"pid": "patient", "session": "week", "phq9": "depression", "scs": "self_compassion",
          "fcs_others": "fear_others"}


@pytest.mark.parametrize(("id_col", "time_col"), [("patient", "week"), ("pid", "session")])
def test_discover_renames_id_time_and_variables(data, tmp_path, id_col, time_col):
    # id/time may be given by their new (default) or old names
    result, _ = discover(_raw_names(data), tmp_path,
                         DiscoverOptions(data=DataOptions(id_col=id_col, time_col=time_col),
                                         rename=RENAME, hypotheses="melsom2023",
                                         random_state=0))
    panel = result.model.panel_
    assert (panel.id_col, panel.time_col) == ("patient", "week")
    assert result.model.links_.variables == VARS
    reference, _ = discover(data, tmp_path / "ref", DiscoverOptions(random_state=0))
    pd.testing.assert_frame_equal(result.model.links_.table, reference.model.links_.table)


def test_discover_rename_with_old_variable_names(data, tmp_path):
    result, _ = discover(_raw_names(data), tmp_path,
                         DiscoverOptions(data=DataOptions(variables=["phq9", "fcs_others"]),
                                         rename=RENAME, random_state=0))
    assert result.model.links_.variables == ("depression", "fear_others")


def test_discover_rename_errors(data, tmp_path):
    with pytest.raises(DataError, match="nosuch"):
        discover(data, tmp_path, DiscoverOptions(rename={"nosuch": "depression"}))
    with pytest.raises(DataError, match="fear_others"):
        discover(data, tmp_path, DiscoverOptions(rename={"depression": "fear_others"}))


# ------------------------------------------------------------------ bootstrap
@pytest.fixture(scope="module")
def boot_run(data, tmp_path_factory) -> Run:
    out = tmp_path_factory.mktemp("boot") / "results"
    return _run(data, out, DiscoverOptions(hypotheses="melsom2023", random_state=0, bootstrap=30,
                                           progress=False))


def test_bootstrap_run_writes_the_extra_files(boot_run, run):
    for name in [*OUTPUT_FILES, *BOOTSTRAP_FILES, "edge_frequency.svg", "forest.svg"]:
        assert (boot_run.out_dir / name).is_file(), name
    boot = pd.read_csv(boot_run.out_dir / "bootstrap.csv")
    pd.testing.assert_frame_equal(boot, boot_run.result.bootstrap.edges_, check_dtype=False)
    assert (boot["n_boot"] == 30).all()
    # the same model as without bootstrap (one full-sample fit, then the replicates)
    pd.testing.assert_frame_equal(boot_run.result.model.links_.table, run.result.model.links_.table)
    assert "Cluster bootstrap: 30 of 30 replicates" in str(boot_run.result)
    report = (boot_run.out_dir / "report.md").read_text(encoding="utf-8")
    assert "## Cluster bootstrap" in report and "(hypothesis)" in report
    assert "edge_frequency.png" in report and "forest.png" in report
    # without --bootstrap none of them is written
    assert not any((run.out_dir / name).exists() for name in BOOTSTRAP_FILES)


def test_bootstrap_columns_in_hypotheses_csv(boot_run):
    hyp = pd.read_csv(boot_run.out_dir / "hypotheses.csv")
    assert hyp.columns.tolist() == [*HYPOTHESIS_COLUMNS, "edge_frequency", "boot_low",
                                    "boot_high", *EFFECT_SIZE_COLUMNS]
    assert hyp.columns.tolist()[:10] == FIRST_HYPOTHESIS_COLUMNS
    edges = boot_run.result.bootstrap.edges_.set_index(["source", "target", "lag"])
    for row in hyp.itertuples():
        e = edges.loc[(row.cause, row.effect, row.lag)]
        assert (row.edge_frequency, row.boot_low, row.boot_high) == pytest.approx(
            (e["frequency"], e["boot_low"], e["boot_high"]))
        if row.verdict == "supported" and row.expected != "absent":
            assert row.edge_frequency >= 0.5


def test_bad_bootstrap_count(data, tmp_path):
    with pytest.raises(InputError, match="bootstrap must be an integer >= 0"):
        discover(data, tmp_path, DiscoverOptions(bootstrap=-1))
    assert not (tmp_path / "links.csv").exists()


# ------------------------------------------------------------------ individual
@pytest.fixture(scope="module")
def two_groups() -> pd.DataFrame:
    base = generic_scenario(2, 0)
    a = base.with_cross([("x1", "x2", 0.5)], name="A")
    b = base.with_cross([("x2", "x1", 0.5)], name="B")
    return simulate_subgroups([a, b], [8, 8], n_weeks=100, random_state=4)


def test_individual_writes_every_file(two_groups, tmp_path):
    out = tmp_path / "ind"
    result, files = individual(two_groups, out,
                               IndividualOptions(data=DataOptions(variables=["x1", "x2"]),
                                                 subgroups=2, random_state=0, progress=False))
    assert isinstance(result, IndividualResult)
    for name in [*INDIVIDUAL_FILES, "subgroups.csv", "subgroup_edges.csv", "subgroup_0.png",
                 "subgroup_1.png"]:
        assert (out / name).is_file(), name
        assert out / name in files
    shares = pd.read_csv(out / "edge_shares.csv")
    assert set(shares["class"]) <= {"group", "individual", "absent"}
    assert shares["share"].between(0, 1).all() and len(shares) == 4
    links = pd.read_csv(out / "patient_links.csv")
    assert links["patient"].nunique() == 16
    groups = pd.read_csv(out / "subgroups.csv")
    truth = two_groups.groupby("patient")["subgroup"].first()
    assert result.subgroups.adjusted_rand(truth) >= 0.8  # as in test_subgroups
    assert groups.columns.tolist() == ["patient", "group"] and len(groups) == 16
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert "SubgroupResult" in summary and summary.endswith(f"outputs in {out}\n")


def test_individual_known_groups(two_groups, tmp_path):
    result, _ = individual(two_groups, tmp_path,
                           IndividualOptions(group_col="subgroup", progress=False))
    # the group column is a grouping, never a variable
    assert set(result.model.panel_.variables) == {"x1", "x2"}
    diff = pd.read_csv(tmp_path / "subgroup_differences.csv")
    crossed = diff.set_index("edge").loc[["x1(t-1) -> x2(t)", "x2(t-1) -> x1(t)"], "p_adjusted"]
    assert (crossed < 0.05).all()


def test_individual_bad_input(two_groups, tmp_path):
    with pytest.raises(InputError, match="either subgroups"):
        individual(two_groups, tmp_path, IndividualOptions(subgroups=2, group_col="subgroup"))
    with pytest.raises(InputError, match="subgroups must be"):
        individual(two_groups, tmp_path, IndividualOptions(subgroups=1))
    with pytest.raises(DataError, match="'arm' not in the data"):
        individual(two_groups, tmp_path, IndividualOptions(group_col="arm"))
    varying = two_groups.assign(subgroup=two_groups["week"] % 2)
    with pytest.raises(DataError, match="constant within each patient"):
        individual(varying, tmp_path, IndividualOptions(group_col="subgroup"))
    short = simulate_cohort("paper", n_patients=10, n_weeks=13, random_state=1)
    with pytest.raises(DataError, match=r"needs at least 31 time points"):
        individual(short, tmp_path, IndividualOptions())


# ------------------------------------------------------------ atomic output folders
def test_writing_to_replaces_an_old_folder_as_a_whole(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "report.md").write_text("old report")
    with writing_to(out) as stage:
        assert stage != out and stage.parent == out.parent
        (stage / "links.csv").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["links.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # no staging left


@pytest.mark.parametrize("error", [InputError("bad"), KeyboardInterrupt(), SystemExit(143)])
def test_writing_to_leaves_nothing_new_on_error_or_interrupt(tmp_path, error):
    out = tmp_path / "results"
    out.mkdir()
    (out / "report.md").write_text("old report")
    with pytest.raises(type(error)), writing_to(out) as stage:
        (stage / "links.csv").write_text("new")
        raise error
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]
    assert (out / "report.md").read_text() == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_writing_to_a_new_folder_leaves_none_on_error(tmp_path):
    out = tmp_path / "deep" / "results"
    with pytest.raises(InputError), writing_to(out):
        raise InputError("bad")
    assert not out.exists()


@pytest.mark.parametrize("bad", ["", "  "])
def test_writing_to_refuses_an_empty_name(bad):
    with pytest.raises(InputError, match="must not be empty"), writing_to(bad):
        pass


def test_writing_to_refuses_an_existing_file(tmp_path):
    path = tmp_path / "file.csv"
    path.write_text("x")
    with pytest.raises(InputError, match="existing file"), writing_to(path):
        pass


def test_sensitivity_csv_and_report_section(run):
    sens = pd.read_csv(run.out_dir / "sensitivity.csv", keep_default_na=False,
                       na_values=[""])
    from causal.hypotheses.sensitivity import SENSITIVITY_COLUMNS

    assert sens.columns.tolist() == list(SENSITIVITY_COLUMNS)
    assert sens["name"].tolist() == [h.name for h in load_hypotheses("melsom2023")]
    hyp = pd.read_csv(run.out_dir / "hypotheses.csv")
    assert sens["verdict"].tolist() == hyp["verdict"].tolist()
    n_specs = len(run.result.sensitivity.specifications)
    assert (sens["n_specifications"] + sens["n_failed"] == n_specs).all()
    report = (run.out_dir / "report.md").read_text(encoding="utf-8")
    assert "## Sensitivity" in report and f"{n_specs} alternative specifications" in report
    assert "Sensitivity:" in str(run.result)


def test_sensitivity_can_be_switched_off_and_needs_hypotheses(data, tmp_path):
    for options in (DiscoverOptions(random_state=0),
                    DiscoverOptions(hypotheses="melsom2023", random_state=0,
                                    sensitivity=False)):
        out = tmp_path / str(options.sensitivity) / str(options.hypotheses)
        result, _ = discover(data, out, options)
        assert result.sensitivity is None
        sens = pd.read_csv(out / "sensitivity.csv")
        assert sens.empty and "n_agree" in sens.columns
        assert "## Sensitivity" not in (out / "report.md").read_text(encoding="utf-8")
    with pytest.raises(InputError, match="sensitivity"):
        DiscoverOptions(sensitivity="yes")
