from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causal import Links, summary_graph
from causal.discovery._tigramite import (
    link_samples,
    link_state,
    links_table,
    mci_conditions,
    reestimate_required,
)
from causal.discovery.citests import make_ci_test
from features.lags import to_tigramite
from features.panel import Panel
from features.simulate import simulate_cohort

NAMES = ["a", "b", "c"]


# ------------------------------------------------------------ mci_conditions
@st.composite
def parent_sets(draw):
    n, tau = draw(st.integers(2, 4)), draw(st.integers(1, 3))
    nodes = [(k, -lag) for k in range(n) for lag in range(1, tau + 1)]
    parents = {j: draw(st.lists(st.sampled_from(nodes), unique=True)) for j in range(n)}
    return n, tau, parents


@settings(max_examples=60, deadline=None)
@given(parent_sets())
def test_mci_conditions_equal_tigramites_mci_conditions(case):
    # tigramite's own generator of MCI conditions is the reference
    from tigramite.pcmci import PCMCI

    n, tau, parents = case
    assumptions = {j: {(i, -lag): "-?>" for i in range(n) for lag in range(1, tau + 1)}
                   for j in range(n)}
    pcmci = PCMCI.__new__(PCMCI)
    pcmci.N, pcmci.verbosity = n, 0
    expected = {(i, j, -t): z for j, i, t, z in
                pcmci._iter_indep_conds(parents, assumptions, None, None)}
    for (i, j, lag), z in expected.items():
        assert mci_conditions(parents, i, j, lag) == z


def test_mci_conditions_leave_out_the_tested_link_and_duplicates():
    parents = {0: [(1, -1), (0, -1)], 1: [(0, -1), (1, -1)]}
    z = mci_conditions(parents, 1, 0, 1)
    assert (1, -1) not in z
    assert z == [(0, -1), (0, -2), (1, -2)]
    # lag 0: the parents of both ends, shared ones once
    assert mci_conditions(parents, 1, 0, 0) == [(1, -1), (0, -1)]
    assert mci_conditions({}, 0, 1, 2) == []


# ---------------------------------------------------------------- link_state
@pytest.mark.parametrize(("mark", "assumed", "lag", "state"), [
    ("-->", "-?>", 1, (True, True)),
    ("", "-?>", 1, (False, True)),  # a lagged row is directed even when absent
    ("", "-->", 1, (True, True)),  # required
    ("-->", "o?o", 0, (True, True)),
    ("<--", "o?o", 0, (False, False)),  # the reverse row of an oriented link
    ("o-o", "o?o", 0, (True, False)),
    ("x-x", "o?o", 0, (True, False)),
    ("", "o?o", 0, (False, False)),
    ("-->", "-->", 0, (True, True)),
    ("<--", "<--", 0, (False, False)),
])
def test_link_state(mark, assumed, lag, state):
    assert link_state(mark, assumed=assumed, lag=lag) == state


# --------------------------------------------------------------- links_table
def _fake_result(marks: dict[tuple[int, int, int], str], tau_max: int = 1) -> dict:
    n = len(NAMES)
    rng = np.random.default_rng(0)
    val = rng.uniform(-0.5, 0.5, (n, n, tau_max + 1))
    graph = np.full((n, n, tau_max + 1), "", dtype="<U3")
    for (i, j, lag), mark in marks.items():
        graph[i, j, lag] = mark
    for i, j in itertools.combinations(range(n), 2):  # tigramite symmetrizes lag 0
        val[j, i, 0] = val[i, j, 0]
    pval = np.where(graph == "", 0.5, 0.001)
    pval[:, :, 0] = np.minimum(pval[:, :, 0], pval[:, :, 0].T)
    return {"graph": graph, "val_matrix": val, "p_matrix": pval, "conf_matrix": None}


def _plus_assumptions(tau_max: int = 1) -> dict:
    n = len(NAMES)
    return {j: {(i, -t): ("-?>" if t else "o?o") for i in range(n) for t in range(tau_max + 1)
                if t or i != j} for j in range(n)}


def test_links_table_contemporaneous_contract_and_summary_graph():
    # a -> b oriented, b o-o c unoriented, a - c absent; one lagged link c(t-1) -> a
    res = _fake_result({(0, 1, 0): "-->", (1, 0, 0): "<--", (1, 2, 0): "o-o",
                        (2, 1, 0): "o-o", (2, 0, 1): "-->"})
    table = links_table(res, NAMES, _plus_assumptions(), test=None, parents={}, tau_max=1,
                        default_samples=77)
    links = Links(table=table, variables=tuple(NAMES), tau_max=1, alpha=0.05,
                  method="pcmciplus")
    t = links.table.set_index(["source", "target", "lag"])
    state = {k: (bool(r.significant), bool(r.directed)) for k, r in t.iterrows()}
    assert state[("a", "b", 0)] == (True, True)
    assert state[("b", "a", 0)] == (False, False)
    assert state[("b", "c", 0)] == state[("c", "b", 0)] == (True, False)
    assert state[("a", "c", 0)] == state[("c", "a", 0)] == (False, False)
    assert state[("c", "a", 1)] == (True, True)
    assert t.loc[("a", "b", 0), "value"] == t.loc[("b", "a", 0), "value"]
    assert (t["n_samples"] == 77).all()  # not the pooled engine: the complete-case count
    assert not t["required"].any()
    g = summary_graph(links)
    assert set(g.edges) == {("a", "b"), ("b", "c"), ("c", "b"), ("c", "a")}
    assert g.edges["a", "b"]["directed"] and not g.edges["b", "c"]["directed"]


# -------------------------------------------- re-testing and counting samples
@pytest.fixture(scope="module")
def gappy_test():
    df = simulate_cohort("paper", n_patients=12, n_weeks=10, missing=0.2, random_state=3)
    ti = to_tigramite(Panel.from_frame(df, tau_max=2), pad=0)
    test = make_ci_test("parcorr", conf_level=0.9)
    test.set_dataframe(ti.dataframe())
    return ti, test


def test_link_samples_equals_tigramites_sample_array(gappy_test):
    # tigramite drops every sample with a missing node; the engine's count must agree
    ti, test = gappy_test
    tau = 2
    cases = [(0, 1, 1, [(2, -1)]), (1, 0, 2, [(0, -1), (1, -3), (2, -4)]),
             (2, 2, 1, []), (0, 2, 0, [(1, -2)])]
    counts = set()
    for i, j, lag, z in cases:
        array, _, _ = ti.dataframe().construct_array(X=[(i, -lag)], Y=[(j, 0)], Z=z,
                                                     tau_max=tau)
        assert link_samples(test, i, j, lag, z, tau, default=-5) == array.shape[1]
        counts.add(array.shape[1])
    assert len(counts) > 1  # the missing values make the counts differ
    other = make_ci_test("parcorr-tigramite")
    assert link_samples(other, 0, 1, 1, [], tau, default=-5) == -5


def test_reestimate_required_runs_the_mci_test(gappy_test):
    _, test = gappy_test
    n = 3
    res = {"val_matrix": np.ones((n, n, 2)), "p_matrix": np.zeros((n, n, 2)),
           "conf_matrix": None}
    assumptions = {0: {(1, -1): "-->", (2, -1): "-?>"}, 1: {(0, 0): "-->"}, 2: {}}
    assumptions[0][(1, 0)] = "<--"
    parents = {0: [(1, -1), (0, -1)], 1: [(1, -1)], 2: []}
    out = reestimate_required(test, res, assumptions, parents, tau_max=1)
    for i, j, lag in [(1, 0, 1), (0, 1, 0)]:
        z = mci_conditions(parents, i, j, lag)
        val, pval = test.run_test([(i, -lag)], [(j, 0)], Z=z, tau_max=1)
        assert out["val_matrix"][i, j, lag] == pytest.approx(val, abs=1e-12)
        assert out["p_matrix"][i, j, lag] == pytest.approx(pval, abs=1e-12)
        lo, hi = out["conf_matrix"][i, j, lag]
        assert lo <= val <= hi
    # lag 0 mirrored into the reverse entry; untouched entries keep tigramite's values
    assert out["val_matrix"][1, 0, 0] == out["val_matrix"][0, 1, 0]
    assert out["val_matrix"][2, 0, 1] == 1.0 and out["p_matrix"][2, 0, 1] == 0.0
    assert np.isnan(out["conf_matrix"][2, 0, 1]).all()
    assert res["val_matrix"][1, 0, 1] == 1.0  # the input is not modified
