"""Sufficient statistics reproduce tigramite's per-test sample arrays exactly."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causal.discovery.engine import (
    LaggedMoments,
    LaggedRows,
    NoValidSamplesError,
    column_index,
    cut_for,
)
from causal.discovery.engine.design import missingness_patterns
from tests.causal.discovery.engine.panels import MISSING, dataframe, seeded_panel


def make_panel(seed, n=30, t_range=(3, 16), n_vars=4, miss=0.15, cell_miss=0.0, integer=False):
    """Seeded AR(1) panel with unequal lengths; missing weeks are flagged rows."""
    return seeded_panel(seed, n=n, t_range=t_range, n_vars=n_vars, miss=miss, burn=3, ar=0.5,
                        scale=3, level=20, level_sd=1, cell_miss=cell_miss, integer=integer)


def random_nodes(rng, n_vars, max_lag, size):
    nodes = {(int(rng.integers(n_vars)), -int(rng.integers(max_lag + 1))) for _ in range(size)}
    return sorted(nodes)


def reference(df, nodes, tau_max, cut_off):
    """tigramite's own sample array for the nodes (X = first, Y = second, Z = rest)."""
    array, _, _ = df.construct_array(X=[nodes[0]], Y=[nodes[1]], Z=nodes[2:], tau_max=tau_max,
                                     cut_off=cut_off, remove_overlaps=True)
    return array


def check_against_tigramite(moments, df, rng, tau_max, cut_off, n_tests=25, weights=None):
    pooled = moments.aggregate(weights)
    n_vars = moments.n_vars
    checked = 0
    for _ in range(n_tests):
        nodes = random_nodes(rng, n_vars, moments.max_lag, int(rng.integers(2, 6)))
        if len(nodes) < 2:
            continue
        if cut_for(cut_off, tau_max, max(-lag for _, lag in nodes)) != moments.max_lag:
            continue
        try:
            array = reference(df, nodes, tau_max, cut_off)
        except ValueError:  # "No valid samples": the engine must agree
            with pytest.raises(NoValidSamplesError):
                pooled.select([column_index(v, -lag, n_vars) for v, lag in nodes])
            continue
        sample = pooled.select([column_index(v, -lag, n_vars) for v, lag in nodes])
        assert sample.n == array.shape[1]
        # Data are O(20) with sd ~5 over <= 600 samples: float64 sums agree to ~1e-12.
        np.testing.assert_allclose(sample.cov, np.cov(array, ddof=0), rtol=1e-10, atol=1e-10)
        np.testing.assert_array_equal(sample.constant, array.std(axis=1) == 0.0)
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("tau_max", [1, 2, 3])
@pytest.mark.parametrize("miss", [0.0, 0.15])
@pytest.mark.parametrize("storage", ["dataset", "rows"])
def test_moments_match_construct_array(tau_max, miss, storage):
    data = make_panel(tau_max + int(miss * 100), miss=miss)
    df = dataframe(data)
    moments = LaggedMoments.from_dataframe(df, tau_max, storage=storage)
    assert ("per-dataset statistics" in str(moments)) == (storage == "dataset")
    assert moments.max_lag == 2 * tau_max
    rng = np.random.default_rng(tau_max)
    check_against_tigramite(moments, df, rng, tau_max, "2xtau_max")


@pytest.mark.parametrize("cut_off", ["tau_max", "max_lag", "max_lag_or_tau_max"])
def test_other_cut_offs(cut_off):
    data = make_panel(7, miss=0.1)
    df = dataframe(data)
    rng = np.random.default_rng(3)
    built = {}
    checked = 0
    for _ in range(60):
        nodes = random_nodes(rng, 4, 2, int(rng.integers(2, 5)))
        if len(nodes) < 2:
            continue
        cut = cut_for(cut_off, 2, max(-lag for _, lag in nodes))
        if cut not in built:
            built[cut] = LaggedMoments.from_dataframe(df, 2, cut_off=cut).aggregate()
        array = reference(df, nodes, 2, cut_off)
        sample = built[cut].select([column_index(v, -lag, 4) for v, lag in nodes])
        assert sample.n == array.shape[1]
        np.testing.assert_allclose(sample.cov, np.cov(array, ddof=0), rtol=1e-10, atol=1e-10)
        checked += 1
    assert checked >= 40


def test_scattered_cell_missingness_and_integer_constants():
    # Single missing cells give many patterns; integer data give exact constants
    # in small sample sets, which tigramite's std() == 0 also detects.
    data = make_panel(11, miss=0.05, cell_miss=0.08, integer=True)
    data[0][:, 3] = 7.0  # constant variable in one dataset
    df = dataframe(data)
    moments = LaggedMoments.from_dataframe(df, 1)
    assert moments.n_patterns > 10
    check_against_tigramite(moments, df, np.random.default_rng(5), 1, "2xtau_max", n_tests=60)


def test_constant_column_is_flagged():
    data = make_panel(2, miss=0.0)
    for x in data.values():
        x[:, 2] = 4.0
    df = dataframe(data)
    pooled = LaggedMoments.from_dataframe(df, 1).aggregate()
    sample = pooled.select([column_index(0, 0, 4), column_index(2, 1, 4)])
    assert sample.constant.tolist() == [False, True]
    assert sample.cov[1, 1] == 0.0


def test_reference_points_and_time_offsets():
    data = make_panel(4, n=6, miss=0.1)
    offsets = {k: int(k % 3) for k in data}
    refs = np.array([2, 3, 3, 5, 6, 7, 8, 9, 12, 14])  # duplicates count twice in tigramite
    df = dataframe(data, reference_points=refs, time_offsets=offsets)
    moments = LaggedMoments.from_dataframe(df, 1)
    check_against_tigramite(moments, df, np.random.default_rng(0), 1, "2xtau_max", n_tests=60)


def test_too_short_datasets_contribute_nothing():
    data = make_panel(5, n=5, miss=0.0)
    data[99] = np.ones((2, 4))  # shorter than the cut 2 * tau_max = 2 + 1
    with_short = LaggedMoments.from_arrays(data, 1, missing_flag=MISSING)
    without = LaggedMoments.from_arrays({k: v for k, v in data.items() if k != 99}, 1,
                                        missing_flag=MISSING)
    assert with_short.n_rows == without.n_rows
    assert with_short.dataset_lengths[-1] == 2
    a, b = with_short.aggregate().select([0, 5]), without.aggregate().select([0, 5])
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-12)


def test_storages_agree_with_weights():
    data = make_panel(8, miss=0.2)
    w = np.random.default_rng(0).multinomial(len(data), np.full(len(data), 1 / len(data)))
    by_pair = LaggedMoments.from_arrays(data, 2, missing_flag=MISSING, storage="dataset")
    by_rows = LaggedMoments.from_arrays(data, 2, missing_flag=MISSING, storage="rows")
    for weights in (None, w):
        a, b = by_pair.aggregate(weights), by_rows.aggregate(weights)
        np.testing.assert_array_equal(a.patterns, b.patterns)
        np.testing.assert_allclose(a.count, b.count)
        np.testing.assert_allclose(a.cross, b.cross, rtol=1e-10, atol=1e-8)
        np.testing.assert_array_equal(a.col_min, b.col_min)
        np.testing.assert_array_equal(a.col_max, b.col_max)


@pytest.mark.parametrize("storage", ["dataset", "rows"])
def test_integer_weights_equal_duplicated_datasets(storage):
    data = make_panel(9, miss=0.15)
    rng = np.random.default_rng(1)
    weights = rng.multinomial(len(data), np.full(len(data), 1 / len(data)))
    duplicated = {}
    for (key, x), m in zip(data.items(), weights, strict=True):
        for copy_id in range(m):
            duplicated[(key, copy_id)] = x
    weighted = LaggedMoments.from_arrays(data, 1, missing_flag=MISSING, storage=storage)
    physical = LaggedMoments.from_arrays(duplicated, 1, missing_flag=MISSING, storage=storage)
    df = dataframe(duplicated)
    # Check the weighted pool against tigramite on the physically duplicated panel.
    check_against_tigramite(weighted, df, rng, 1, "2xtau_max", n_tests=40, weights=weights)
    a, b = weighted.aggregate(weights), physical.aggregate()
    cols = [column_index(v, lag, 4) for v, lag in [(0, 0), (1, 1), (2, 2)]]
    sa, sb = a.select(cols), b.select(cols)
    assert sa.n == sb.n
    np.testing.assert_allclose(sa.cov, sb.cov, rtol=1e-11)
    # A mapping gives the same pool; absent keys weigh zero.
    as_map = {k: m for k, m in zip(data, weights, strict=True) if m}
    np.testing.assert_allclose(weighted.aggregate(as_map).select(cols).cov, sa.cov, rtol=1e-12)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([1.0, 2.0], "shape"),
        ({"nope": 1.0}, "unknown"),
        ("negative", ">= 0"),
        ("zeros", "all dataset weights are zero"),
        ("nan", "finite"),
    ],
)
def test_bad_weights_are_rejected(weights, message):
    data = make_panel(1, n=4)
    moments = LaggedMoments.from_arrays(data, 1, missing_flag=MISSING)
    special = {"negative": [1, -1, 1, 1], "zeros": [0, 0, 0, 0], "nan": [1, np.nan, 1, 1]}
    with pytest.raises(ValueError, match=message):
        moments.aggregate(special.get(weights, weights) if isinstance(weights, str) else weights)


def test_from_arrays_input_errors():
    with pytest.raises(ValueError, match="contains NaN"):
        LaggedMoments.from_arrays({0: np.full((5, 2), np.nan)}, 1)
    with pytest.raises(ValueError, match="variables"):
        LaggedMoments.from_arrays({0: np.zeros((5, 2)), 1: np.zeros((5, 3))}, 1)
    with pytest.raises(ValueError, match="2-D"):
        LaggedMoments.from_arrays({0: np.zeros(5)}, 1)
    with pytest.raises(ValueError, match="storage"):
        LaggedMoments.from_arrays({0: np.zeros((5, 2))}, 1, storage="disk")
    with pytest.raises(ValueError, match="cut_off"):
        cut_for("2xtau_max_future", 1)


def test_no_valid_samples():
    data = make_panel(3, n=5, miss=0.0)
    for x in data.values():
        x[::2, 1] = MISSING  # variable 1 is never observed at two consecutive steps
    pooled = LaggedMoments.from_arrays(data, 1, missing_flag=MISSING).aggregate()
    with pytest.raises(NoValidSamplesError, match="No valid samples"):
        pooled.select([column_index(1, 0, 4), column_index(1, 1, 4)])


def test_auto_storage_builds_per_dataset_statistics_only_when_weighted_and_cheap():
    data = make_panel(6, n=40, t_range=(30, 40), miss=0.0)  # long complete series: few pairs
    weights = np.ones(len(data))
    auto = LaggedMoments.from_arrays(data, 1, missing_flag=MISSING)
    auto.aggregate()
    assert "rows only" in str(auto)
    weighted = auto.aggregate(weights)
    assert "per-dataset statistics" in str(auto)
    assert auto.nbytes >= auto.pair_statistics_bytes
    np.testing.assert_allclose(weighted.cross, auto.aggregate().cross, rtol=1e-12)
    tight = LaggedMoments.from_arrays(data, 1, missing_flag=MISSING, max_bytes=1)
    tight.aggregate(weights)
    assert "rows only" in str(tight)
    never = LaggedMoments.from_arrays(data, 1, missing_flag=MISSING, storage="rows")
    never.aggregate(weights)
    assert "rows only" in str(never)


def test_moments_are_shared_by_deepcopy_and_read_only():
    moments = LaggedMoments.from_arrays(make_panel(1, n=5), 1, missing_flag=MISSING)
    assert copy.deepcopy(moments) is moments
    pooled = moments.aggregate()
    assert copy.deepcopy(pooled) is pooled
    with pytest.raises(ValueError, match="read-only"):
        next(iter(moments.store.values()))[0] = 1


def test_pattern_codes_beyond_64_columns():
    rng = np.random.default_rng(0)
    obs = rng.random((300, 70)) < 0.97
    obs[::3] = True
    patterns, inverse = missingness_patterns(obs)
    np.testing.assert_array_equal(patterns[inverse], obs)
    small = obs[:, :40]
    patterns, inverse = missingness_patterns(small)
    np.testing.assert_array_equal(patterns[inverse], small)
    assert len({p.tobytes() for p in patterns}) == patterns.shape[0]


def test_lagged_rows_default_and_explicit_reference_points_agree():
    data = [np.arange(12.0).reshape(6, 2), np.arange(8.0).reshape(4, 2)]
    default = LaggedRows.build(data, max_lag=2)
    explicit = LaggedRows.build(data, max_lag=2, reference_points=np.arange(6))
    np.testing.assert_array_equal(default.row_index, explicit.row_index)
    np.testing.assert_array_equal(default.gather(default.row_index)[:, :2],
                                  default.values[default.row_index])


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 10_000),
    tau_max=st.integers(0, 2),
    miss=st.sampled_from([0.0, 0.1, 0.3]),
    n_vars=st.integers(2, 4),
)
def test_property_pooled_moments_equal_tigramite(seed, tau_max, miss, n_vars):
    data = make_panel(seed, n=8, t_range=(2, 12), n_vars=n_vars, miss=miss)
    df = dataframe(data)
    moments = LaggedMoments.from_dataframe(df, tau_max)
    rng = np.random.default_rng(seed)
    pooled = moments.aggregate()
    for _ in range(10):
        nodes = random_nodes(rng, n_vars, 2 * tau_max, 4)
        if len(nodes) < 2:
            continue
        cols = [column_index(v, -lag, n_vars) for v, lag in nodes]
        try:
            array = reference(df, nodes, tau_max, "2xtau_max")
        except ValueError:
            with pytest.raises(NoValidSamplesError):
                pooled.select(cols)
            continue
        sample = pooled.select(cols)
        assert sample.n == array.shape[1]
        np.testing.assert_allclose(sample.cov, np.cov(array, ddof=0), rtol=1e-9, atol=1e-9)
