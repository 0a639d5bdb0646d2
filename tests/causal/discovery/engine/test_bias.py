"""MomentBias and the centred PooledParCorr tests (issue 8: short-panel bias of the tests)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import solve_discrete_lyapunov
from tigramite.data_processing import DataFrame

from causal import PanelPCMCI
from causal.discovery.engine import MomentBias, PooledParCorr, partial_correlation
from features.scenarios import get_scenario
from features.simulate import simulate_cohort


def _bias(seed: int = 0, n_vars: int = 3, max_lag: int = 2) -> MomentBias:
    rng = np.random.default_rng(seed)
    size = n_vars * (max_lag + 1)
    a, b = rng.normal(size=(2, size, size + 3))
    return MomentBias(expected=a @ a.T, population=b @ b.T, n_vars=n_vars, max_lag=max_lag)


def test_shift_is_the_difference_of_the_two_partial_correlations():
    bias = _bias()
    cols = [4, 0, 7]
    grid = np.ix_(cols, cols)
    want = (partial_correlation(bias.expected[grid])
            - partial_correlation(bias.population[grid]))
    assert bias.shift(cols) == pytest.approx(want, abs=1e-15)
    assert bias.shift([4]) == 0.0  # no pair: nothing to centre


@pytest.mark.parametrize("bad", [np.eye(8), np.full((9, 9), np.nan)])
def test_moment_bias_refuses_a_wrong_shape_or_non_finite_matrix(bad):
    with pytest.raises(ValueError, match=r"MomentBias.expected must be a finite \(9, 9\)"):
        MomentBias(expected=bad, population=np.eye(9), n_vars=3, max_lag=2)


def test_centred_test_moves_each_value_by_the_shift_of_its_columns():
    rng = np.random.default_rng(3)
    data = {k: rng.normal(size=(13, 3)) for k in range(30)}
    bias = _bias(1)
    plain, centred = PooledParCorr(), PooledParCorr(bias=bias)
    for test in (plain, centred):
        test.set_dataframe(DataFrame(data, analysis_mode="multiple"))
    x, y, z = [(0, -1)], [(1, 0)], [(2, -1), (1, -2)]
    v0, p0 = plain.run_test(X=x, Y=y, Z=z, tau_max=1)
    v1, p1 = centred.run_test(X=x, Y=y, Z=z, tau_max=1)
    # columns (var, lag) -> lag * n_vars + var, ordered Z, X, Y as the engine selects them
    assert v1 == pytest.approx(v0 - bias.shift([5, 7, 3, 1]), abs=1e-12)
    assert p1 != p0
    # with_weights keeps the centring
    assert centred.with_weights(np.ones(30)).bias is bias


def test_only_parcorr_is_centred():
    with pytest.raises(ValueError, match="bias must be a MomentBias"):
        PooledParCorr(bias="yes")
    df = simulate_cohort("paper", 30, 13, random_state=1)
    model = PanelPCMCI(ci_test="parcorr-tigramite", debias=True).fit(df)
    assert model.links_.settings["debias"].startswith("off: only ci_test='parcorr'")
    off = PanelPCMCI(prep="none", debias=True).fit(df)
    assert off.links_.settings["debias"].startswith("off: prep='none'")


def _true_partial_correlation(scenario, source: str, target: str) -> float:
    """pcor(target_t, source_{t-1} | the other lag-1 scores) of the scenario's stationary VAR(1).

    Under a VAR(1) the lag-2 scores add nothing given all lag-1 scores, so this is also the
    value of an MCI test that conditions on every lag-1 and lag-2 score.
    """
    a, sigma = scenario.transition_matrix(), scenario.innovation_cov()
    g0 = solve_discrete_lyapunov(a, sigma)
    joint = np.block([[g0, (a @ g0).T], [a @ g0, g0]])  # (y_{t-1}, y_t)
    names = list(scenario.variables)
    s, t = names.index(source), names.index(target)
    cols = [i for i in range(len(names)) if i != s] + [s, len(names) + t]
    return partial_correlation(joint[np.ix_(cols, cols)])


_LINKS = [("depression", "depression"), ("fear_others", "depression"),
          ("depression", "fear_others")]


@pytest.fixture(scope="module")
def recovered():
    """Per link: (truth, uncentred values, centred values) over 30 paper cohorts of 226 x 13.

    Every lag-1 link is required, so that each fit tests the link with the same conditions
    (all lag-1 and lag-2 scores).
    """
    scenario = get_scenario("paper")
    names = scenario.variables
    everything = [(s, t, 1) for s in names for t in names]
    values = {(link, debias): [] for link in _LINKS for debias in (False, True)}
    for seed in range(30):
        df = simulate_cohort(scenario, 226, 13, missing=0.05, random_state=seed)
        for debias in (False, True):
            table = PanelPCMCI(debias=debias, require=everything).fit(df).links_.table
            lag1 = table[table["lag"] == 1].set_index(["source", "target"])["value"]
            for link in _LINKS:
                values[(link, debias)].append(float(lag1.loc[link]))
    return {link: (_true_partial_correlation(scenario, *link), values[(link, False)],
                   values[(link, True)]) for link in _LINKS}


@pytest.mark.parametrize(("source", "target"), _LINKS)
def test_centred_tests_recover_the_within_person_partial_correlation(recovered, source, target):
    # After per-patient detrending of 13 weeks the pooled partial correlation of the
    # autoregression is about 0.10 for a true 0.28 (short-panel bias). Centring must
    # recover the stationary VAR's value. 30 cohorts of 226 x 13: the SD of a link's value
    # across cohorts is about 0.02-0.03 (SE of one test ~ 1/sqrt(2700)), so the Monte Carlo
    # SE of the mean is <= 0.006; the bound 4 * 0.006 = 0.024 leaves room for the O(1/N)
    # error of the plug-in correction, while the uncentred mean of the autoregression misses
    # by about 0.18.
    truth, plain_values, centred_values = recovered[(source, target)]
    centred, plain = np.mean(centred_values), np.mean(plain_values)
    mcse = np.std(centred_values, ddof=1) / np.sqrt(len(centred_values))
    assert mcse < 0.006
    assert abs(centred - truth) < 0.024
    if source == target:
        assert plain < truth - 0.1  # the uncentred test is far off: the check can fail
