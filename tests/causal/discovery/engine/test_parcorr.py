"""PooledParCorr reproduces tigramite's ParCorr inside tigramite's own PCMCI / PCMCI+."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tigramite.independence_tests.parcorr import ParCorr
from tigramite.pcmci import PCMCI

from causal.discovery.engine import (
    LaggedMoments,
    NoValidSamplesError,
    PooledParCorr,
    analytic_confidence,
    analytic_pvalue,
)
from tests.causal.discovery.engine.panels import MISSING, dataframe, seeded_panel

# Both implementations are backward-stable float64 computations on the same
# samples (<= ~600 per test, well-conditioned); observed differences are
# ~1e-14, so 1e-9 (the contract) leaves a wide margin yet catches any
# difference in sample selection, which moves values by >= 1e-3.
ATOL = 1e-9


def make_panel(seed, n=40, t_range=(13, 14), n_vars=4, miss=0.0):
    """Seeded panel from a lagged linear SCM: 0 -> 1 (lag 1), 1 -> 2 (lag 0), AR(1) in all."""
    return seeded_panel(seed, n=n, t_range=t_range, n_vars=n_vars, miss=miss, burn=5, ar=0.4,
                        scale=4, level=15, level_sd=3, links=((0, 1, 1, 0.6), (1, 2, 0, 0.5)))


def assert_same_results(ours, theirs, keys=("val_matrix", "p_matrix", "conf_matrix")):
    np.testing.assert_array_equal(ours["graph"], theirs["graph"])
    for key in keys:
        if theirs.get(key) is None:
            assert ours.get(key) is None
            continue
        np.testing.assert_allclose(ours[key], theirs[key], rtol=0, atol=ATOL, equal_nan=True)


def run_both(data, method, tau_max, confidence=None, **kwargs):
    results = []
    for test in (PooledParCorr(confidence=confidence),
                 ParCorr(significance="analytic", confidence=confidence)):
        pcmci = PCMCI(dataframe(data), test)
        results.append(getattr(pcmci, method)(tau_max=tau_max, **kwargs))
    return results


@pytest.mark.parametrize("tau_max", [1, 2, 3])
@pytest.mark.parametrize("miss", [0.0, 0.15])
def test_run_pcmci_matches_tigramite(tau_max, miss):
    data = make_panel(10 * tau_max + int(100 * miss), miss=miss)
    ours, theirs = run_both(data, "run_pcmci", tau_max, confidence="analytic",
                            pc_alpha=0.2, alpha_level=0.05)
    assert_same_results(ours, theirs)
    assert ours["graph"][0, 1, 1] == "-->"  # the simulated lag-1 link is found


@pytest.mark.parametrize("tau_max", [1, 2, 3])
@pytest.mark.parametrize("miss", [0.0, 0.15])
def test_run_pcmciplus_matches_tigramite(tau_max, miss):
    data = make_panel(7 + tau_max + int(100 * miss), miss=miss)
    ours, theirs = run_both(data, "run_pcmciplus", tau_max, pc_alpha=0.05)
    assert_same_results(ours, theirs)
    assert ours["graph"][1, 2, 0] != ""  # the contemporaneous 1 - 2 adjacency is found


def test_unequal_lengths_and_too_short_datasets():
    data = make_panel(3, n=40, t_range=(2, 20), miss=0.15)  # some T_k <= 2 * tau_max
    assert min(len(x) for x in data.values()) <= 4
    for method, kwargs in [("run_pcmci", {"alpha_level": 0.05}), ("run_pcmciplus", {})]:
        ours, theirs = run_both(data, method, 2, pc_alpha=0.2, **kwargs)
        assert_same_results(ours, theirs)


@pytest.mark.parametrize("pc_alpha", [None, [0.05, 0.2, 0.4]])
def test_pc_alpha_selection_uses_model_criterion(pc_alpha):
    data = make_panel(21, miss=0.1)
    for method, kwargs in [("run_pcmci", {"alpha_level": 0.05}), ("run_pcmciplus", {})]:
        ours, theirs = run_both(data, method, 2, pc_alpha=pc_alpha, **kwargs)
        assert_same_results(ours, theirs)


@pytest.mark.parametrize("criterion", ["aic", "bic", "corrected_aic"])
def test_model_selection_criterion_matches(criterion):
    data = make_panel(5, miss=0.15)
    ours, theirs = PooledParCorr(), ParCorr()
    for test in (ours, theirs):
        test.set_dataframe(dataframe(data))
    for j, parents in [(0, []), (1, [(0, -1)]), (2, [(1, 0), (2, -1), (0, -2), (2, 0)])]:
        a = ours.get_model_selection_criterion(j, parents, tau_max=2, criterion=criterion)
        b = theirs.get_model_selection_criterion(j, parents, tau_max=2, criterion=criterion)
        # Scores are ~T log(rss) ~ 1e3 to 1e4: compare relative to their size.
        assert a == pytest.approx(b, rel=1e-12)
    with pytest.raises(ValueError, match="Unknown scoring criterion"):
        ours.get_model_selection_criterion(0, [], tau_max=1, criterion="hqic")


def random_test(rng, n_vars, max_lag):
    x = (int(rng.integers(n_vars)), -int(rng.integers(1, max_lag + 1)))
    y = (int(rng.integers(n_vars)), 0)
    z = [(int(rng.integers(n_vars)), -int(rng.integers(max_lag + 1)))
         for _ in range(int(rng.integers(0, 5)))]
    return [x], [y], z


@pytest.mark.parametrize("cut_off", ["2xtau_max", "tau_max", "max_lag", "max_lag_or_tau_max"])
def test_direct_run_test_matches(cut_off):
    data = make_panel(8, t_range=(4, 18), miss=0.2)
    ours, theirs = PooledParCorr(confidence="analytic"), ParCorr(confidence="analytic")
    for test in (ours, theirs):
        test.set_dataframe(dataframe(data))
    rng = np.random.default_rng(0)
    tau_max = 2
    max_lag = 2 * tau_max if cut_off == "2xtau_max" else tau_max
    for _ in range(40):
        x, y, z = random_test(rng, 4, max_lag)
        got = ours.run_test(x, y, z, tau_max=tau_max, cut_off=cut_off, alpha_or_thres=0.05)
        want = theirs.run_test(x, y, z, tau_max=tau_max, cut_off=cut_off, alpha_or_thres=0.05)
        np.testing.assert_allclose(got[:2], want[:2], rtol=0, atol=ATOL)
        assert got[2] == want[2]
        if cut_off == "2xtau_max":
            assert ours.get_measure(x, y, z, tau_max=tau_max) == pytest.approx(
                theirs.get_measure(x, y, z, tau_max=tau_max), abs=ATOL)
            np.testing.assert_allclose(ours.get_confidence(x, y, z, tau_max=tau_max),
                                       theirs.get_confidence(x, y, z, tau_max=tau_max),
                                       rtol=0, atol=ATOL)


def test_constant_variables_follow_tigramite():
    data = make_panel(4, miss=0.1)
    for x in data.values():
        x[:, 3] = np.where(x[:, 3] == MISSING, MISSING, 2.0)  # integer constant: std == 0
    ours, theirs = PooledParCorr(), ParCorr()
    for test in (ours, theirs):
        test.set_dataframe(dataframe(data))
    cases = [
        ([(3, -1)], [(0, 0)], [(1, -1)]),  # X constant: val 0, pval 1, independent
        ([(0, -1)], [(3, 0)], []),  # Y constant
        ([(0, -1)], [(1, 0)], [(3, -1), (2, -1)]),  # constant Z is dropped (dim 3)
    ]
    for x, y, z in cases:
        got = ours.run_test(x, y, z, tau_max=1, alpha_or_thres=0.05)
        want = theirs.run_test(x, y, z, tau_max=1, alpha_or_thres=0.05)
        np.testing.assert_allclose(got[:2], want[:2], rtol=0, atol=ATOL)
        assert got[2] == want[2]
    assert ours.run_test([(3, -1)], [(0, 0)], tau_max=1) == (0.0, 1.0)


def test_no_valid_samples_raise_like_tigramite():
    data = make_panel(2, n=5)
    for x in data.values():
        x[::2, 1] = MISSING
    ours, theirs = PooledParCorr(), ParCorr()
    for test in (ours, theirs):
        test.set_dataframe(dataframe(data))
    with pytest.raises(ValueError, match="No valid samples"):
        theirs.run_test([(1, -1)], [(1, 0)], tau_max=1)
    with pytest.raises(NoValidSamplesError):
        ours.run_test([(1, -1)], [(1, 0)], tau_max=1)


@pytest.mark.parametrize("storage", ["dataset", "rows"])
def test_weights_equal_duplicated_patients(storage):
    data = make_panel(12, n=25, t_range=(8, 16), miss=0.15)
    weights = np.random.default_rng(2).multinomial(25, np.full(25, 1 / 25))
    duplicated = {(k, c): x for (k, x), m in zip(data.items(), weights, strict=True)
                  for c in range(m)}
    base = PooledParCorr(storage=storage)
    PCMCI(dataframe(data), base).run_pcmci(tau_max=2, pc_alpha=0.2)  # builds shared moments
    replicate = base.with_weights(weights)
    ours = PCMCI(dataframe(data), replicate).run_pcmci(tau_max=2, pc_alpha=0.2)
    theirs = PCMCI(dataframe(duplicated), ParCorr()).run_pcmci(tau_max=2, pc_alpha=0.2)
    assert_same_results(ours, theirs, keys=("val_matrix", "p_matrix"))
    plus = PCMCI(dataframe(data), PooledParCorr(storage=storage, weights=weights))
    plus_theirs = PCMCI(dataframe(duplicated), ParCorr())
    assert_same_results(plus.run_pcmciplus(tau_max=1), plus_theirs.run_pcmciplus(tau_max=1),
                        keys=("val_matrix", "p_matrix"))


def test_moments_are_built_once_and_shared():
    data = make_panel(1, n=10)
    df = dataframe(data)
    test = PooledParCorr()
    pcmci = PCMCI(df, test)  # deep-copies the test
    pcmci.run_pcmci(tau_max=1)
    built = pcmci.cond_ind_test.moments(2)
    assert test.moments(2) is built
    replicate = test.with_weights(np.ones(10))
    assert replicate.moments(2) is built
    assert copy.deepcopy(replicate).moments(2) is built
    # A different dataframe object gets its own moments.
    other = PCMCI(dataframe(data), test)
    assert other.cond_ind_test.moments(2) is not built


def test_prebuilt_moments_are_used_and_checked():
    data = make_panel(6, n=12, miss=0.1)
    df = dataframe(data)
    moments = LaggedMoments.from_dataframe(df, 1)
    test = PooledParCorr(moments)
    pcmci = PCMCI(df, test)
    assert pcmci.cond_ind_test.moments(2) is moments
    ours = pcmci.run_pcmci(tau_max=1, pc_alpha=0.2)
    theirs = PCMCI(dataframe(data), ParCorr()).run_pcmci(tau_max=1, pc_alpha=0.2)
    assert_same_results(ours, theirs, keys=("val_matrix", "p_matrix"))
    shorter = {k: v[:-1] for k, v in data.items()}
    with pytest.raises(ValueError, match="other data"):
        PCMCI(dataframe(shorter), PooledParCorr(moments))
    # Prebuilt moments also work without any dataframe.
    standalone, reference = PooledParCorr(moments), ParCorr()
    reference.set_dataframe(dataframe(data))
    for x, y, z in [([(0, -1)], [(1, 0)], [(2, -2)]), ([(3, -2)], [(2, 0)], [(1, 0), (0, -1)])]:
        np.testing.assert_allclose(standalone.run_test(x, y, z, tau_max=1),
                                   reference.run_test(x, y, z, tau_max=1), rtol=0, atol=ATOL)


def test_pvalue_and_confidence_formulas_are_tigramites():
    # Same inputs must give bit-identical outputs: scipy.stats.t.sf / ppf evaluate
    # the same scipy.special functions the engine calls directly.
    parcorr = ParCorr()
    values = np.r_[np.random.default_rng(0).uniform(-1, 1, 50), 0.0, 1.0, -1.0, 0.9999999]
    for value in values:
        for n, dim in [(10, 3), (100, 2), (5, 5), (5, 4), (1000, 7), (7.5, 2)]:
            ours = analytic_pvalue(value, n, dim)
            theirs = parcorr.get_analytic_significance(value, n, dim, None)
            assert ours == theirs or (np.isnan(ours) and np.isnan(theirs))
            if n - dim >= 1 and abs(value) < 1:
                for level in (0.5, 0.9, 0.99):
                    assert analytic_confidence(value, n - dim, level) == tuple(
                        parcorr.get_analytic_confidence(value, n - dim, level))


def test_sliding_window_reference_points_are_honoured():
    data = make_panel(9, n=20, t_range=(12, 13), miss=0.1)
    kwargs = {"method": "run_pcmci", "method_args": {"tau_max": 1, "pc_alpha": 0.2},
              "window_step": 4, "window_length": 8}
    theirs = PCMCI(dataframe(data), ParCorr()).run_sliding_window_of(**kwargs)
    prebuilt = LaggedMoments.from_arrays(data, 1, missing_flag=MISSING)  # all time steps
    for test in (PooledParCorr(), PooledParCorr(prebuilt)):
        ours = PCMCI(dataframe(data), test).run_sliding_window_of(**kwargs)
        for a, b in zip(ours["window_results"]["val_matrix"],
                        theirs["window_results"]["val_matrix"], strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)
    with pytest.raises(ValueError, match="reference points"):
        PCMCI(dataframe(data, reference_points=np.arange(3, 9)), PooledParCorr(prebuilt))


def test_unsupported_features_raise():
    data = make_panel(0, n=6)
    with pytest.raises(ValueError, match="analytic"):
        PooledParCorr(significance="shuffle_test")
    with pytest.raises(ValueError, match="confidence"):
        PooledParCorr(confidence="bootstrap")
    with pytest.raises(ValueError, match="storage"):
        PooledParCorr(storage="disk")
    test = PooledParCorr()
    with pytest.raises(ValueError, match="mask"):
        test.set_mask_type("x")
    with pytest.raises(ValueError, match="set_dataframe"):
        test.run_test([(0, -1)], [(1, 0)], tau_max=1)
    with pytest.raises(ValueError, match="remove_missing_upto_maxlag"):
        PCMCI(dataframe(data, remove_missing_upto_maxlag=True), PooledParCorr())
    with pytest.raises(ValueError, match="vector_vars"):
        PCMCI(dataframe(data, vector_vars={0: [(0, 0), (1, 0)], 1: [(2, 0)], 2: [(3, 0)]}),
              PooledParCorr())
    test.set_dataframe(dataframe(data))
    with pytest.raises(ValueError, match="beyond the cut-off"):
        test.run_test([(0, -3)], [(1, 0)], tau_max=1)
    with pytest.raises(ValueError, match="2xtau_max_future"):
        test.run_test([(0, -1)], [(1, 0)], tau_max=1, cut_off="2xtau_max_future")
    with pytest.raises(ValueError, match="univariate"):
        test.run_test([(0, -1), (2, -1)], [(1, 0)], tau_max=1)
    with pytest.raises(ValueError, match="positive lag"):
        test.run_test([(0, 1)], [(1, 0)], tau_max=1)
    with pytest.raises(ValueError, match="variable index"):
        test.run_test([(9, -1)], [(1, 0)], tau_max=1)
    # PCMCI.run_bootstrap_of resamples inside construct_array via dataframe.bootstrap
    # (in joblib workers); the engine refuses instead of ignoring the resampling.
    booted = dataframe(data)
    test.set_dataframe(booted)
    booted.bootstrap = {"boot_blocklength": 1, "random_state": np.random.default_rng(0)}
    with pytest.raises(ValueError, match="run_bootstrap_of"):
        test.run_test([(0, -1)], [(1, 0)], tau_max=1)
    weighted = PooledParCorr(weights=np.ones(6))
    weighted.set_dataframe(dataframe(data))
    with pytest.raises(ValueError, match="ignores weights"):
        weighted._get_array([(0, -1)], [(1, 0)], [], tau_max=1)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), tau_max=st.integers(1, 3),
       miss=st.sampled_from([0.0, 0.1, 0.25]))
def test_property_run_test_matches_parcorr(seed, tau_max, miss):
    data = make_panel(seed, n=12, t_range=(3, 15), miss=miss)
    ours, theirs = PooledParCorr(), ParCorr()
    for test in (ours, theirs):
        test.set_dataframe(dataframe(data))
    rng = np.random.default_rng(seed)
    for _ in range(8):
        x, y, z = random_test(rng, 4, 2 * tau_max)
        try:
            want = theirs.run_test(x, y, z, tau_max=tau_max)
        except ValueError:
            with pytest.raises(NoValidSamplesError):
                ours.run_test(x, y, z, tau_max=tau_max)
            continue
        np.testing.assert_allclose(ours.run_test(x, y, z, tau_max=tau_max), want,
                                   rtol=0, atol=ATOL, equal_nan=True)
