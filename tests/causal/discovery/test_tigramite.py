from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from causal import Links, summary_graph
from causal.discovery._tigramite import (
    MISSING_FLAG,
    TigramiteInput,
    complete_samples,
    link_assumptions,
    link_samples,
    link_state,
    links_table,
    mci_conditions,
    reestimate_required,
    to_tigramite,
)
from causal.discovery.citests import make_ci_test
from features.errors import InputError
from features.lags import lag_name, lag_table
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
    test = make_ci_test("parcorr", ci_level=0.9)
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


# ------------------------------------------------------------------ input
def _panel(segments: bool = False) -> Panel:
    """Two patients with gaps (patient 1 skips week 3, patient 2 misses x in week 5)."""
    rows = [(1, 0, 1, 1.0), (1, 0, 2, 2.0), (1, 0, 4, 4.0), (1, 1, 5, 5.0), (1, 1, 6, 6.0),
            (2, 0, 3, 13.0), (2, 0, 4, 14.0), (2, 0, 5, 15.0), (2, 0, 6, 16.0)]
    df = pd.DataFrame(rows, columns=["patient", "phase", "week", "y"],
                      index=range(2, 2 + len(rows)))
    df["y"] = -df["y"]
    df.insert(3, "x", df["y"].abs().mask(df["y"] == -15))
    return Panel.from_frame(df, segments=["phase"] if segments else [], variables=["x", "y"],
                            tau_max=None)


def test_to_tigramite_grid_and_blocks():
    panel = _panel(segments=True)
    ti = to_tigramite(panel)
    assert isinstance(ti, TigramiteInput)
    assert ti.var_names == ("x", "y") and ti.pad == 0
    assert ti.blocks.columns.tolist() == ["patient", "phase", "start", "length"]
    assert ti.blocks.to_numpy().tolist() == [[1, 0, 1, 4], [1, 1, 5, 2], [2, 0, 3, 4]]
    assert sorted(ti.data) == [0, 1, 2]
    assert [a.shape for a in ti.data.values()] == [(4, 2), (2, 2), (4, 2)]
    f = MISSING_FLAG
    np.testing.assert_array_equal(ti.data[0], [[1, -1], [2, -2], [f, f], [4, -4]])  # week 3
    np.testing.assert_array_equal(ti.data[1], [[5, -5], [6, -6]])
    np.testing.assert_array_equal(ti.data[2], [[13, -13], [14, -14], [f, -15], [16, -16]])
    nan = ti.nan_arrays()
    assert np.isnan(nan[0][2]).all() and np.isnan(nan[2][2, 0]) and nan[2][2, 1] == -15
    assert not any((a == MISSING_FLAG).any() for a in nan.values())
    assert (ti.data[0][2] == MISSING_FLAG).all()  # nan_arrays copies


@pytest.mark.parametrize("pad", [1, 3])
def test_to_tigramite_pad(pad):
    plain = to_tigramite(_panel())
    padded = to_tigramite(_panel(), pad=pad)
    assert padded.pad == pad
    assert padded.blocks["start"].tolist() == plain.blocks["start"].tolist()
    assert (padded.blocks["length"] == plain.blocks["length"] + pad).all()
    for k, arr in padded.data.items():
        assert (arr[:pad] == MISSING_FLAG).all()
        np.testing.assert_array_equal(arr[pad:], plain.data[k])


@pytest.mark.parametrize("pad", [-1, 0.5])
def test_to_tigramite_rejects_bad_pad(pad):
    with pytest.raises(InputError, match=f"pad must be a non-negative integer, got {pad!r}"):
        to_tigramite(_panel(), pad=pad)


def test_to_tigramite_rejects_the_sentinel_in_data():
    panel = _panel()
    data = panel.data.copy()
    data.loc[data.index[0], "x"] = MISSING_FLAG
    with pytest.raises(InputError, match="reserved missing-value sentinel"):
        to_tigramite(panel.with_data(data))


def test_dataframe_builds_tigramite_multiple_mode():
    pytest.importorskip("tigramite")
    ti = to_tigramite(_panel(segments=True), pad=1)
    before = {k: v.copy() for k, v in ti.data.items()}
    frame = ti.dataframe()
    assert frame.analysis_mode == "multiple"
    assert frame.var_names == ["x", "y"]
    assert frame.N == 2
    assert frame.T == {k: len(v) for k, v in ti.data.items()}
    assert frame.missing_flag == MISSING_FLAG
    for k, arr in ti.nan_arrays().items():
        # tigramite's own .values dict: the flag became NaN inside tigramite
        np.testing.assert_array_equal(frame.values[k], arr)  # noqa: PD011
        np.testing.assert_array_equal(ti.data[k], before[k])  # ours untouched


@pytest.mark.parametrize("tau", [1, 2])
def test_tigramite_samples_equal_complete_lag_rows(tau):
    """With pad=tau_max, tigramite keeps exactly the rows lag_table(dropna=True) keeps."""
    pytest.importorskip("tigramite")
    rng = np.random.default_rng(tau)
    rows = [(p, w) for p in range(5) for w in np.sort(rng.choice(30, size=20, replace=False))]
    df = pd.DataFrame(rows, columns=["patient", "week"])
    df["x"] = rng.normal(size=len(df))
    df["y"] = rng.normal(size=len(df))
    df[["x", "y"]] = df[["x", "y"]].mask(rng.random((len(df), 2)) < 0.15)
    panel = Panel.from_frame(df, tau_max=None)
    frame = to_tigramite(panel, pad=tau).dataframe()
    # X = x at lag 1, Y = x at lag 0, Z = every other (variable, lag) up to tau
    x_node, y_node = (0, -1), (0, 0)
    z_nodes = [(j, -k) for k in range(tau + 1) for j in range(2) if (j, -k) not in (x_node, y_node)]
    array = frame.construct_array(X=[x_node], Y=[y_node], Z=z_nodes, tau_max=tau)[0]
    expected = lag_table(panel, tau, dropna=True)
    cols = [lag_name(("x", "y")[j], -lag) for j, lag in [x_node, y_node, *z_nodes]]
    assert 0 < array.shape[1] == len(expected) < len(panel.data)
    np.testing.assert_array_equal(array, expected[cols].to_numpy().T)


@st.composite
def _gappy_panels(draw):
    """Patients x 0-2 segment columns with gappy integer times, missing values, shuffled rows."""
    seg_cols = ["day", "phase"][:draw(st.integers(0, 2))]
    row = st.tuples(st.integers(0, 3), *[st.integers(0, 1)] * len(seg_cols), st.integers(-3, 14))
    # two observed weeks (20, 21) of patient 0 give within-patient variance
    fixed = [(0, *[0] * len(seg_cols), week) for week in (20, 21)]
    df = pd.DataFrame(fixed + draw(st.lists(row, max_size=30, unique=True)),
                      columns=["patient", *seg_cols, "week"])
    n = len(df)
    missing = draw(hnp.arrays(bool, (n, 2)))
    missing[:2] = False
    # unique values so that a value taken from a wrong row cannot go unnoticed
    df["x"] = np.where(missing[:, 0], np.nan, 1.0 + np.arange(n))
    df["y"] = np.where(missing[:, 1], np.nan, -1.0 - np.arange(n))
    df = df.iloc[list(draw(st.permutations(range(n))))]
    df.index = df.index * 10 + 3  # labels unrelated to position
    return df, seg_cols


@settings(derandomize=True, max_examples=60, deadline=None)
@given(case=_gappy_panels(), pad=st.integers(0, 2))
def test_property_tigramite_grid_positions(case, pad):
    df, seg_cols = case
    panel = Panel.from_frame(df, segments=seg_cols, tau_max=None)
    keys = ["patient", *seg_cols]
    ti = to_tigramite(panel, pad=pad)
    groups = dict(iter(panel.data.groupby(keys)))
    assert len(ti.data) == len(ti.blocks) == len(groups)
    assert not ti.blocks.duplicated(keys).any()
    n_cells = 0
    for b, arr in ti.data.items():
        info = ti.blocks.iloc[b]
        rows = groups[tuple(info[keys])]
        t = rows["week"].to_numpy()
        assert info["start"] == t.min()
        assert info["length"] == t.max() - t.min() + 1 + pad == len(arr)
        # build the expected grid of this block only: its own rows at time - start + pad
        expected = np.full((len(arr), 2), MISSING_FLAG)
        expected[t - t.min() + pad] = np.nan_to_num(rows[["x", "y"]].to_numpy(),
                                                    nan=MISSING_FLAG)
        np.testing.assert_array_equal(arr, expected)
        n_cells += np.sum(arr != MISSING_FLAG)
    # every observed value appears exactly once, in its own block
    assert n_cells == panel.data[["x", "y"]].notna().to_numpy().sum()


# ------------------------------------------------------- complete_samples


def _brute_complete(arrays: dict[int, np.ndarray], tau: int) -> list[int]:
    """Per dataset, rows i >= 2*tau whose rows i-tau..i have no NaN or missing flag."""
    out = []
    for b in sorted(arrays):
        arr = arrays[b]
        ok = [not any(np.isnan(v) or v == MISSING_FLAG for v in row) for row in arr]
        out.append(sum(all(ok[i - k] for k in range(tau + 1))
                       for i in range(2 * tau, len(arr))))
    return out


@st.composite
def _grid_datasets(draw):
    n_vars = draw(st.integers(1, 3))
    cell = st.sampled_from([0.5, -1.0, 2.0, np.nan, MISSING_FLAG])
    return {b: draw(hnp.arrays(float, (draw(st.integers(0, 12)), n_vars), elements=cell))
            for b in range(draw(st.integers(1, 5)))}


@settings(derandomize=True, max_examples=150, deadline=None)
@given(arrays=_grid_datasets(), tau=st.integers(0, 3))
def test_complete_samples_matches_brute_force(arrays, tau):
    # Gappy grids of several datasets, empty and short ones included, NaN and the
    # missing flag both missing: the one-pass count equals the row-by-row definition.
    ti = TigramiteInput(data=arrays, var_names=tuple("abc"[:arrays[0].shape[1]]),
                        blocks=pd.DataFrame())
    got = complete_samples(ti, tau)
    assert got.dtype == np.int64
    assert got.tolist() == _brute_complete(arrays, tau)


# ------------------------------------------------------- link_assumptions
def test_link_assumptions_with_background_knowledge():
    out = link_assumptions(["a", "b"], tau_min=0, tau_max=1, forbid=[("b", "a", 1)],
                           require=[("a", "b", 0)])
    assert out[0] == {(0, -1): "-?>", (1, 0): "<--"}
    assert out[1] == {(0, -1): "-?>", (1, -1): "-?>", (0, 0): "-->"}


@pytest.mark.parametrize(("spec", "needle"), [
    (("a", "c", 1), "unknown variable 'c'"), (("a", "b", 2), "lag must be in 1..1"),
    (("a", "b"), "source, target, lag"), (("a", "a", 0), "lag must be in 1..1"),
])
def test_link_assumptions_reject_bad_links(spec, needle):
    with pytest.raises(InputError, match=needle):
        link_assumptions(["a", "b"], tau_min=1, tau_max=1, require=[spec])


# -------------------------------------------------------- PCMCI+ intervals
@pytest.mark.parametrize("ci_test", ["parcorr", "parcorr-tigramite"])
def test_pcmciplus_intervals_come_from_the_reported_test(ci_test):
    """Every PCMCI+ row gets the interval of its own test (same value and df).

    The analytic interval at level 1 - 2*alpha inverts the same Student-t test as the
    p-value, so it excludes 0 exactly when p < 2*alpha: a wrong df would break this for
    values near the boundary and would not give identical results for both engines.
    """
    from causal import PanelPCMCI

    df = simulate_cohort("paper", n_patients=60, n_weeks=13, random_state=3)
    model = PanelPCMCI(tau_max=1, method="pcmciplus", ci_test=ci_test).fit(df)
    t = model.links_.table
    assert t[["ci_low", "ci_high"]].notna().all().all()
    assert ((t["ci_low"] <= t["value"]) & (t["value"] <= t["ci_high"])).all()
    excludes_zero = (t["ci_low"] > 0) | (t["ci_high"] < 0)
    assert (excludes_zero == (t["p_value"] < 2 * model.alpha)).all()
    lag0 = t[t["lag"] == 0].set_index(["source", "target"])
    mirror = lag0.rename_axis(["target", "source"]).reorder_levels(["source", "target"])
    pd.testing.assert_frame_equal(lag0[["ci_low", "ci_high"]],
                                  mirror.loc[lag0.index, ["ci_low", "ci_high"]])


def test_pcmciplus_intervals_agree_between_engines():
    """The pooled engine and tigramite's ParCorr log the same tests: equal intervals."""
    from causal import PanelPCMCI

    df = simulate_cohort("paper", n_patients=40, n_weeks=13, random_state=4)
    tables = [PanelPCMCI(tau_max=1, method="pcmciplus", ci_test=name,
                         debias=False).fit(df).links_.table
              for name in ("parcorr", "parcorr-tigramite")]
    for col in ("value", "ci_low", "ci_high"):
        np.testing.assert_allclose(tables[0][col], tables[1][col], rtol=0, atol=1e-10)
