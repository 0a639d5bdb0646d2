from __future__ import annotations

import math
import re

import networkx as nx
import pandas as pd
import pytest

from causal import IndividualPCMCI, Links, PanelPCMCI
from causal.discovery.links import format_link
from causal.resampling.group import EDGE_CLASSES
from causal.resampling.individual import MIN_VARYING_POINTS, min_series_length, one_row_per_link
from features.datasets import KOSSAKOWSKI_ITEMS, load_bringmann2013_tidy, load_kossakowski2017_tidy
from features.errors import DataError, InputError
from features.panel import Panel
from features.scenarios import generic_scenario
from features.simulate import simulate_cohort

ALPHA = 0.05
ITEMS = ["cheerful", "worry", "fearful", "sad", "relaxed"]
BRINGMANN = {"id_col": "person", "time_col": "beep", "segments": ("period", "day"),
             "variables": ITEMS}


def _cohort(n_patients: int, n_weeks: int, seed: int, first_id: int = 1) -> pd.DataFrame:
    scenario = generic_scenario(3, 0).with_cross([("x1", "x2", 0.5)])
    df = simulate_cohort(scenario, n_patients=n_patients, n_weeks=n_weeks, random_state=seed)
    return df.assign(patient=df["patient"] + first_id - 1)


@pytest.fixture(scope="module")
def homogeneous() -> IndividualPCMCI:
    # 40 patients x 100 weeks, one true edge x1 -> x2 (+0.5 on the within-person SD scale).
    return IndividualPCMCI(PanelPCMCI(tau_max=1, alpha=ALPHA)).fit(_cohort(40, 100, seed=7))


# --------------------------------------------------------- min_series_length
def test_min_series_length_formula():
    # T_min = 2*tau + (2*n_vars*tau + 1) + 2 (detrending) + 20 (residual df)
    for tau in (1, 2, 3):
        for n in (2, 3, 5, 8):
            assert min_series_length(tau, n) == 2 * tau + 2 * n * tau + 1 + 2 + 20
    assert min_series_length(1, 3, prep="center") == min_series_length(1, 3) - 1
    assert min_series_length(1, 3, prep="none", min_df=10) == min_series_length(1, 3) - 12
    # PCMCI+ adds n_vars - 1 contemporaneous candidates per parent set.
    assert min_series_length(1, 3, contemporaneous=True) == min_series_length(1, 3) + 4
    for bad in ({"tau_max": 0, "n_vars": 3}, {"tau_max": 1, "n_vars": 1},
                {"tau_max": 1.5, "n_vars": 3}):
        with pytest.raises(ValueError, match="must be an integer"):
            min_series_length(**bad)


# ------------------------------------------------------------ GIMME aggregation
def test_true_edge_in_every_patient_is_a_group_edge(homogeneous):
    s = homogeneous.summary_.set_index("edge")
    assert homogeneous.edge_matrix_.shape == (40, 9)
    row = s.loc[format_link("x1", "x2", 1)]
    # Power of a df~90 partial-correlation test for an effect of this size is ~1, so the
    # share is far above the 75% threshold.
    assert row["class"] == "group" and row["share"] >= 0.9
    assert row["share_positive"] == row["share"] and row["median_value"] > 0.3
    assert homogeneous.group_graph_.has_edge("x1", "x2")
    assert homogeneous.group_graph_.edges["x1", "x2"]["share"] == row["share"]


def test_absent_edges_are_found_at_about_alpha(homogeneous):
    s = homogeneous.summary_
    null = s[(s["source"] != s["target"]) & (s["edge"] != format_link("x1", "x2", 1))]
    assert len(null) == 5
    assert set(null["class"]) <= {"individual", "absent"}
    # Each null share is Binomial(40, 0.05)/40: P(share >= 0.2) = P(X >= 8) ~ 0.002.
    assert (null["share"] < 0.2).all()
    # Pooled over 5 edges x 40 patients (200 tests, SE 0.015 if independent): within 3 SE.
    pooled = null["n_significant"].sum() / (5 * 40)
    assert pooled <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / 200)
    assert not any(homogeneous.group_graph_.has_edge(r.source, r.target)
                   for r in null.itertuples())
    # Wilson intervals bracket the shares.
    assert ((s["share_low"] <= s["share"]) & (s["share"] <= s["share_high"])).all()


def test_fitted_tables_are_consistent(homogeneous):
    m = homogeneous
    assert list(m.patient_links_.columns[:8]) == ["patient", "source", "target", "lag",
                                                  "direction", "value", "p_value", "significant"]
    assert len(m.patient_links_) == 40 * 9 and m.patient_links_["patient"].nunique() == 40
    assert not m.edge_matrix_.isna().to_numpy().any()
    counts = m.patient_links_.groupby(["source", "target", "lag"])["significant"].sum()
    s = m.summary_.set_index(["source", "target", "lag"])
    assert (s.loc[counts.index, "n_significant"].to_numpy() == counts.to_numpy()).all()
    assert set(m.summary_["class"]) <= set(EDGE_CLASSES)
    assert (m.presence_.sum(axis=0).to_numpy() == m.summary_["n_significant"].to_numpy()).all()
    one = m.links_by_patient_[5].table
    row = one[(one["source"] == "x1") & (one["target"] == "x2")].iloc[0]
    assert m.edge_matrix_.loc[5, format_link("x1", "x2", 1)] == row["value"]
    assert isinstance(m.group_graph_, nx.DiGraph)
    text = str(m)
    assert "40 patient(s) analysed" in text and "x1(t-1) -> x2(t)" in text


# ------------------------------------------------------ contemporaneous links
def _links_table(rows: list[tuple]) -> pd.DataFrame:
    cols = ["source", "target", "lag", "value", "p_value", "significant", "directed"]
    return pd.DataFrame(rows, columns=cols)


def test_one_row_per_link_lists_each_contemporaneous_pair_once():
    table = _links_table([
        ("a", "b", 0, 0.3, 0.01, False, False), ("b", "a", 0, 0.3, 0.01, True, True),  # b -> a
        ("a", "c", 0, 0.2, 0.02, True, False), ("c", "a", 0, 0.2, 0.02, True, False),  # o-o
        ("b", "c", 0, 0.0, 0.90, False, False), ("c", "b", 0, 0.0, 0.90, False, False),  # absent
        ("c", "d", 0, 0.4, 0.00, True, True), ("d", "c", 0, 0.4, 0.00, True, True),  # x-x
        ("a", "b", 1, 0.1, 0.30, False, True), ("b", "a", 1, 0.5, 0.00, True, True),
    ])
    out = one_row_per_link(table, ["a", "b", "c", "d"])
    got = {(r.source, r.target, r.lag): (r.direction, r.significant)
           for r in out.itertuples(index=False)}
    assert got == {("b", "a", 0): ("->", True), ("a", "c", 0): ("--", True),
                   ("b", "c", 0): ("--", False), ("c", "d", 0): ("--", True),
                   ("a", "b", 1): ("->", False), ("b", "a", 1): ("->", True)}
    # the key of a contemporaneous pair is in variable order, whatever its orientation
    keyed = out.set_index(["source", "target", "lag"])
    assert tuple(keyed.loc[("b", "a", 0), ["key_source", "key_target"]]) == ("a", "b")
    assert tuple(keyed.loc[("b", "a", 1), ["key_source", "key_target"]]) == ("b", "a")
    assert list(out.columns[:4]) == ["source", "target", "lag", "direction"]


def test_pcmciplus_patient_links_have_one_row_per_pair_and_a_direction():
    variables = ["x1", "x2", "x3"]
    m = IndividualPCMCI(PanelPCMCI(tau_max=1, method="pcmciplus")).fit(
        _cohort(6, 100, seed=3), variables=variables)
    links = m.patient_links_
    zero = links[links["lag"] == 0]
    # 3 unordered pairs per patient (not 6 ordered rows); lagged rows are all '->'
    assert len(zero) == 6 * 3 and len(links) == 6 * (9 + 3)
    assert set(links.loc[links["lag"] > 0, "direction"]) == {"->"}
    assert set(zero["direction"]) <= {"->", "--"}
    for patient, own in m.links_by_patient_.items():
        t = own.table[own.table["lag"] == 0]
        mine = zero[zero["patient"] == patient]
        for r in mine.itertuples(index=False):
            both = t[((t["source"] == r.source) & (t["target"] == r.target))
                     | ((t["source"] == r.target) & (t["target"] == r.source))]
            arrow = both[both["directed"] & both["significant"]]
            if r.direction == "->":
                assert len(arrow) == 1 and (arrow.iloc[0]["source"], arrow.iloc[0]["target"]) == (
                    r.source, r.target)
            else:
                assert arrow.empty and r.significant == bool(both["significant"].any())
    s = m.summary_[m.summary_["lag"] == 0]
    assert len(s) == 3 and set(s["direction"]) == {"--"} and m.edge_matrix_.shape[1] == 12
    counts = zero.assign(pair=[tuple(sorted((a, b))) for a, b in
                               zip(zero["source"], zero["target"], strict=True)]
                         ).groupby("pair")["significant"].sum()
    for r in s.itertuples(index=False):
        assert r.n_significant == counts[tuple(sorted((r.source, r.target)))]
        assert r.edge == f"{r.source}(t) -- {r.target}(t)"


# -------------------------------------------------------------- too short
def test_too_short_series_refused_with_the_needed_length():
    df = _cohort(12, 20, seed=1)
    needed = min_series_length(1, 3)  # 30 time points: 28 samples after the cut-off
    with pytest.raises(DataError) as info:
        IndividualPCMCI(PanelPCMCI(tau_max=1)).fit(df)
    msg = str(info.value)
    assert f"at least {needed} time points" in msg
    # 20 weeks -> 18 samples after the 2*tau_max cut-off in every patient.
    assert re.search(r"median of 18 and at most 18 usable samples", msg)


def test_short_patients_are_excluded_and_reported():
    df = pd.concat([_cohort(4, 60, seed=2), _cohort(3, 15, seed=3, first_id=11)])
    m = IndividualPCMCI(PanelPCMCI(tau_max=1)).fit(df)
    assert sorted(m.edge_matrix_.index) == [1, 2, 3, 4]
    rec = m.exclusions_.records
    short = rec[rec["reason"].str.contains("usable samples for per-patient")]
    assert sorted(short["patient"]) == [11, 12, 13]
    assert (short["value"] == 13).all()  # 15 weeks - 2*tau_max
    assert str(min_series_length(1, 3)) in short["reason"].iloc[0]


def test_nearly_constant_variable_excludes_the_patient():
    df = _cohort(4, 60, seed=4)
    # Patient 2 reports x3 at one value except at MIN_VARYING_POINTS - 1 weeks.
    mask = (df["patient"] == 2) & (df["week"] > MIN_VARYING_POINTS - 1)
    df.loc[mask, "x3"] = 0.0
    m = IndividualPCMCI(PanelPCMCI(tau_max=1)).fit(df)
    assert sorted(m.edge_matrix_.index) == [1, 3, 4]
    rec = m.exclusions_.records
    flat = rec[rec["reason"].str.contains("nearly constant")]
    assert flat["patient"].tolist() == [2]
    # the variable goes in `column`, its number of differing time points in `value`
    assert flat["column"].tolist() == ["x3"]
    assert flat["value"].tolist() == [MIN_VARYING_POINTS - 1]


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"group_threshold": 1.5}, "group_threshold must be a number in (0, 1], got 1.5"),
    ({"group_threshold": 0}, "group_threshold must be a number in (0, 1], got 0"),
    ({"group_threshold": True}, "group_threshold must be a number in (0, 1], got True"),
    ({"min_df": 0}, "min_df must be an integer >= 1, got 0"),
    ({"random_state": -1}, "random_state must be an integer >= 0, got -1"),
    ({"progress": "yes"}, "progress must be True or False, got 'yes'"),
    ({"estimator": "pcmci"}, "estimator must be a PanelPCMCI, got str"),
    ({"estimator": PanelPCMCI(method="nope")}, "method must be one of"),
    ({"estimator": PanelPCMCI(tau_max=0)}, "tau_max must be an integer >= 1, got 0"),
])
def test_bad_parameters_are_input_errors_naming_them(kwargs, needle):
    model = IndividualPCMCI(**kwargs)  # __init__ only stores them
    with pytest.raises(InputError, match=re.escape(needle)):
        model.fit(_cohort(4, 40, seed=5))


def test_loose_panelpcmci_settings_are_not_accepted():
    with pytest.raises(TypeError):
        IndividualPCMCI(tau_max=1)  # settings belong to the estimator=PanelPCMCI(...) template


def test_template_is_cloned_and_seeds_come_from_random_state():
    template = PanelPCMCI(tau_max=1, random_state=3)
    df = _cohort(4, 40, seed=5)
    model = IndividualPCMCI(template).fit(df)
    assert not hasattr(template, "links_")  # never fitted itself
    assert isinstance(model.links_by_patient_[1], Links)
    # one seed per patient, from random_state or else from the template's random_state
    seeds = IndividualPCMCI(template)._seeds(4, template)
    assert seeds == IndividualPCMCI(random_state=3)._seeds(4, PanelPCMCI())
    assert len(set(seeds)) == 4 and None not in seeds
    assert IndividualPCMCI()._seeds(2, PanelPCMCI()) == [None, None]


# ------------------------------------------------------------- determinism
def test_results_do_not_depend_on_n_jobs():
    df = _cohort(8, 60, seed=6)
    one = IndividualPCMCI(PanelPCMCI(tau_max=1), n_jobs=1).fit(df)
    two = IndividualPCMCI(PanelPCMCI(tau_max=1), n_jobs=2).fit(df)
    pd.testing.assert_frame_equal(one.patient_links_, two.patient_links_)
    pd.testing.assert_frame_equal(one.summary_, two.summary_)
    pd.testing.assert_frame_equal(one.edge_matrix_, two.edge_matrix_)
    assert one.patients_["n_samples"].equals(two.patients_["n_samples"])


# -------------------------------------------------------- Bringmann 2013 (real)
@pytest.fixture(scope="module")
def bringmann() -> pd.DataFrame:
    return load_bringmann2013_tidy()


def test_bringmann_pooled_discovery_within_days(bringmann):
    model = PanelPCMCI(tau_max=1).fit(bringmann, **BRINGMANN)
    panel = model.panel_
    # Every block is one person-period-day: no lag crosses a night or the period gap.
    assert len(model.blocks_) == panel.data.groupby(["person", "period", "day"]).ngroups
    assert (model.blocks_["length"] <= 10).all()
    # Mood items are inert within a day: every autoregressive link is positive and significant
    # (thousands of samples; Bringmann et al. 2013 report positive autoregressive effects).
    ar = model.links_.table.query("source == target")
    assert len(ar) == 5 and ar["significant"].all() and (ar["value"] > 0).all()


def test_bringmann_per_patient_on_the_longest_series(bringmann):
    panel = Panel.from_frame(bringmann, id_col="person", time_col="beep",
                             segments=("period", "day"), variables=ITEMS, tau_max=1)
    rows = panel.usable_lagged_rows(1).sort_values(ascending=False, kind="stable")
    longest = rows.index[:6]
    model = IndividualPCMCI(PanelPCMCI(tau_max=1)).fit(panel.subset(longest))
    analysed = set(model.edge_matrix_.index)
    excluded = set(model.exclusions_.records.query("level == 'patient'")["patient"])
    # every longest person is analysed or excluded with a reason (the report also keeps
    # persons the full panel had already excluded)
    assert analysed <= set(longest) and set(longest) - analysed <= excluded
    assert len(analysed) >= 3
    assert (model.patients_["n_samples"] >= min_series_length(1, 5) - 2).all()
    assert model.edge_matrix_.shape[1] == 25
    assert set(model.patient_links_["patient"]) == analysed


def test_bringmann_short_persons_are_refused(bringmann):
    panel = Panel.from_frame(bringmann, id_col="person", time_col="beep",
                             segments=("period", "day"), variables=ITEMS, tau_max=1)
    rows = panel.usable_lagged_rows(1).sort_values(kind="stable")
    with pytest.raises(DataError, match=f"at least {min_series_length(1, 5)} time points"):
        IndividualPCMCI(PanelPCMCI(tau_max=1)).fit(panel.subset(rows.index[:5]))


def test_single_person_kossakowski_matches_pooled_discovery():
    # With one person, per-patient discovery is exactly PanelPCMCI on that person.
    df = load_kossakowski2017_tidy()
    spec = {"id_col": "person", "time_col": "beepno", "segments": ("day",),
            "variables": list(KOSSAKOWSKI_ITEMS)}
    pooled = PanelPCMCI(tau_max=1).fit(df, **spec).links_.table
    single = IndividualPCMCI(PanelPCMCI(tau_max=1)).fit(df, **spec)
    assert list(single.edge_matrix_.index) == [1]
    mine = single.patient_links_.drop(columns="patient").merge(
        pooled, on=["source", "target", "lag"], suffixes=("", "_pooled"))
    assert len(mine) == len(pooled) == 49
    assert (mine["value"] == mine["value_pooled"]).all()
    assert (mine["significant"] == mine["significant_pooled"]).all()
    # 700 samples: the group threshold is all-or-nothing for one person.
    assert set(single.summary_["share"]) <= {0.0, 1.0}
    assert single.summary_["class"].eq("group").sum() == int(pooled["significant"].sum())


# ------------------------------------------------------ parallel, progress, Dask
def test_parallel_settings_are_parameters_and_validated():
    model = IndividualPCMCI(n_jobs=2, scheduler="tcp://127.0.0.1:8786", progress=False)
    params = model.get_params()
    assert (params["n_jobs"], params["scheduler"], params["progress"]) == (
        2, "tcp://127.0.0.1:8786", False)
    with pytest.raises(ValueError, match="n_jobs must be a positive integer or -1"):
        IndividualPCMCI(n_jobs=0).fit(_cohort(4, 40, seed=5))


def test_progress_bar_counts_patients(capsys):
    df = _cohort(3, 40, seed=5)
    IndividualPCMCI(progress=True).fit(df)
    err = capsys.readouterr().err
    assert "per-patient PCMCI" in err and "/3" in err
    IndividualPCMCI().fit(df)  # auto: stderr is not a terminal here
    assert capsys.readouterr().err == ""


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    from causal.resampling import parallel

    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 1.0)
    with pytest.raises(parallel.SchedulerError, match="cannot reach the Dask scheduler"):
        IndividualPCMCI(scheduler="tcp://127.0.0.1:9").fit(_cohort(3, 40, seed=5))
