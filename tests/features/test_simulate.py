from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from features.scenarios import Instrument, Scenario, generic_scenario, get_scenario
from features.simulate import simulate_cohort, simulate_subgroups

VARS = ("depression", "self_compassion", "fear_others")
PAPER_EFFECTS = {
    ("fear_others", "depression"): 0.12,
    ("depression", "fear_others"): 0.08,
    ("depression", "self_compassion"): -0.13,
}


def _cube(df: pd.DataFrame, variables: tuple[str, ...]) -> np.ndarray:
    """Complete long frame -> array (patient, week, variable)."""
    n_patients = df["patient"].nunique()
    return df[list(variables)].to_numpy().reshape(n_patients, -1, len(variables))


def _latent(scenario: Scenario) -> Scenario:
    """Same dynamics, but y = z: no trends, no between-patient variance, no rounding."""
    return dataclasses.replace(scenario, instruments=(), intercept_corr=(), slope_corr=())


def _lag1_ols(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Pooled lag-1 regression of z_t on z_{t-1} (no intercept: E z = 0 by design)."""
    k = z.shape[-1]
    x = z[:, :-1].reshape(-1, k)
    y = z[:, 1:].reshape(-1, k)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return coef.T, y - x @ coef, len(x)  # A_hat[effect, cause], residuals, n


# --------------------------------------------------------------------------- shape & format


def test_columns_dtypes_and_order():
    df = simulate_cohort("paper", n_patients=50, n_weeks=13, random_state=1)
    assert list(df.columns) == ["patient", "week", *VARS]
    assert df.shape == (50 * 13, 5)
    assert df["patient"].dtype == np.int64 and df["week"].dtype == np.int64
    assert all(df[v].dtype == np.float64 for v in VARS)
    assert df["patient"].unique().tolist() == list(range(1, 51))
    assert (df.groupby("patient")["week"].apply(list) == [list(range(1, 14))] * 50).all()
    assert df.equals(df.sort_values(["patient", "week"]).reset_index(drop=True))


def test_instrument_ranges_and_rounding():
    df = simulate_cohort("paper", n_patients=2000, n_weeks=13, random_state=2)
    dep, sc, fear = (df[v].to_numpy() for v in VARS)
    assert np.array_equal(dep, np.round(dep)) and dep.min() >= 0 and dep.max() <= 27
    assert np.array_equal(fear, np.round(fear)) and fear.min() >= 0 and fear.max() <= 52
    assert np.array_equal(sc, np.round(sc, 1)) and sc.min() >= 1 and sc.max() <= 5
    # with 26,000 draws every instrument uses much of its grid, and clipping is reached
    assert len(np.unique(dep)) > 20 and len(np.unique(sc)) > 30 and len(np.unique(fear)) > 45
    assert dep.min() == 0 and dep.max() == 27 and fear.min() == 0 and fear.max() == 52
    assert not np.signbit(df[list(VARS)].to_numpy()).any()  # no -0.0


def test_realistic_trajectories():
    df = simulate_cohort("paper", n_patients=3000, n_weeks=13, random_state=3)
    means = df.groupby("week")[list(VARS)].mean()
    slopes = {v: np.polyfit(means.index, means[v], 1)[0] for v in VARS}
    # Week-1 mean SE = sqrt(intercept_sd^2 + within_sd^2) / sqrt(3000): 0.10 (PHQ-9),
    # 0.012 (self-compassion), 0.2 (fear); tolerances ~5 SE plus a little clipping bias.
    assert abs(means.loc[1, "depression"] - 16) < 0.6
    assert abs(means.loc[1, "self_compassion"] - 2.6) < 0.06
    assert abs(means.loc[1, "fear_others"] - 26) < 1.0
    # Mean-slope SE ~ sqrt(slope_sd^2 + noise)/sqrt(3000) <= 0.01 (PHQ-9, fear), 0.001 (SC).
    assert abs(slopes["depression"] + 0.4) < 0.06
    assert abs(slopes["fear_others"] + 0.4) < 0.06
    assert abs(slopes["self_compassion"] - 0.03) < 0.008


def test_random_effects_follow_their_distribution():
    paper = get_scenario("paper")
    quiet = tuple(
        dataclasses.replace(i, within_sd=1e-9, low=None, high=None, resolution=None)
        for i in paper.instruments
    )
    n = 4000
    cube = _cube(
        simulate_cohort(dataclasses.replace(paper, instruments=quiet), n, 2, random_state=4), VARS
    )
    intercept, slope = cube[:, 0], cube[:, 1] - cube[:, 0]
    for values, mean_attr, sd_attr, pairs in (
        (intercept, "intercept_mean", "intercept_sd", paper.intercept_corr),
        (slope, "slope_mean", "slope_sd", paper.slope_corr),
    ):
        means = np.array([getattr(i, mean_attr) for i in paper.instruments])
        sds = np.array([getattr(i, sd_attr) for i in paper.instruments])
        # mean SE = sd/sqrt(n); SD relative SE = 1/sqrt(2n) = 0.011; corr SE <= 1/sqrt(n) = 0.016
        assert np.all(np.abs(values.mean(axis=0) - means) < 5 * sds / np.sqrt(n))
        assert np.all(np.abs(values.std(axis=0) / sds - 1) < 0.06)
        corr = np.corrcoef(values.T)
        for a, b, rho in pairs:
            assert abs(corr[VARS.index(a), VARS.index(b)] - rho) < 0.08


# --------------------------------------------------------------------------- missing & dropout


def test_missing_removes_about_the_right_share():
    n, t, p = 400, 20, 0.2
    df = simulate_cohort("paper", n, t, missing=p, random_state=5)
    full = simulate_cohort("paper", n, t, random_state=5)
    share = 1 - len(df) / (n * t)
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / (n * t))  # binomial SE = 0.0045
    # surviving rows are a subset of the full grid, still sorted, with gaps
    assert df.equals(df.sort_values(["patient", "week"]).reset_index(drop=True))
    assert set(map(tuple, df[["patient", "week"]].to_numpy())) < set(
        map(tuple, full[["patient", "week"]].to_numpy())
    )


def test_dropout_removes_tails_after_week_3():
    n, t, d = 3000, 12, 0.3
    df = simulate_cohort("paper", n, t, dropout=d, random_state=6)
    last = df.groupby("patient")["week"].agg(["max", "count"])
    assert (last["max"] == last["count"]).all()  # rows are contiguous from week 1
    assert last["max"].min() >= 3
    assert len(last) == n
    dropped = last["max"] < t
    assert abs(dropped.mean() - d) < 4 * np.sqrt(d * (1 - d) / n)  # binomial SE = 0.0084
    # removed rows per patient R = B * U, B ~ Bernoulli(d), U uniform on 1..t-3
    u = np.arange(1, t - 2)
    var_r = d * np.mean(u**2) - (d * u.mean()) ** 2
    share = 1 - len(df) / (n * t)
    assert abs(share - d * u.mean() / t) < 4 * np.sqrt(var_r / n) / t
    # the last observed week of drop-outs is uniform on 3..t-1
    counts = last.loc[dropped, "max"].value_counts().reindex(range(3, t), fill_value=0)
    assert stats.chisquare(counts.to_numpy()).pvalue > 1e-3


# --------------------------------------------------------------------------- determinism & args


def test_same_seed_same_frame_and_different_seed_differs():
    kwargs = {"n_patients": 20, "n_weeks": 10, "missing": 0.1, "dropout": 0.2}
    a = simulate_cohort("paper", random_state=7, **kwargs)
    pd.testing.assert_frame_equal(a, simulate_cohort("paper", random_state=7, **kwargs))
    gen = simulate_cohort("paper", random_state=np.random.default_rng(7), **kwargs)
    pd.testing.assert_frame_equal(a, gen)
    b = simulate_cohort("paper", random_state=8, **kwargs)
    assert not a.equals(b)
    groups = ([get_scenario("paper"), get_scenario("null")], [5, 6])
    pd.testing.assert_frame_equal(
        simulate_subgroups(*groups, n_weeks=8, random_state=9),
        simulate_subgroups(*groups, n_weeks=8, random_state=9),
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_patients": 0}, "n_patients"),
        ({"n_patients": 2.5}, "n_patients"),
        ({"n_patients": True}, "n_patients"),
        ({"n_weeks": 1}, "n_weeks"),
        ({"missing": -0.1}, "missing"),
        ({"missing": 1.0}, "missing"),
        ({"missing": "0.1"}, "missing"),
        ({"dropout": 1.5}, "dropout"),
        ({"dropout": 0.1, "n_weeks": 3}, "dropout"),
        ({"scenario": "nope"}, "paper, null, reversed"),
        ({"scenario": 3}, "scenario"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_cohort(**{"n_patients": 5, "n_weeks": 6, **kwargs})


# --------------------------------------------------------------------------- the VAR(1) process


def test_simulated_latent_process_is_stationary():
    scenario = generic_scenario(5, 6, 0.2, random_state=10)
    n = 20_000
    z = _cube(simulate_cohort(scenario, n, 3, random_state=11), scenario.variables)
    gamma = scenario.stationary_cov()
    # variance SE = sqrt(2/n) = 0.010, covariance SE <= sqrt(1/n)*~1.1 = 0.008: tolerance 0.05
    for week in range(3):
        np.testing.assert_allclose(np.cov(z[:, week].T), gamma, atol=0.05)
    lag1 = (z[:, 1].T @ z[:, 0]) / n  # E z_t z_{t-1}' = A Gamma
    np.testing.assert_allclose(lag1, scenario.transition_matrix() @ gamma, atol=0.05)


def test_lag1_effects_are_recovered():
    scenario = _latent(get_scenario("paper"))  # continuous, no trends: y == z
    z = _cube(simulate_cohort(scenario, 200, 200, random_state=12), VARS)
    a_hat, resid, n = _lag1_ols(z)
    a = scenario.transition_matrix()
    # OLS SE of A[k, j] = sqrt(Sigma_e[k, k] * (Gamma^-1)[j, j] / n) ~ 0.005 for n = 39,800;
    # 5 SE per coefficient keeps the false-failure rate of 9 coefficients below 1e-5.
    se = np.sqrt(
        np.outer(
            np.diag(scenario.innovation_cov()), np.diag(np.linalg.inv(scenario.stationary_cov()))
        )
        / n
    )
    assert np.all(np.abs(a_hat - a) < 5 * se), (a_hat, a)
    # contemporaneous residual correlation: SE = (1 - 0.3^2)/sqrt(n) = 0.0046
    corr = np.corrcoef(resid.T)[~np.eye(3, dtype=bool)]
    assert np.all(np.abs(corr - 0.3) < 0.03)


def test_planted_subgroups_are_recovered_separately():
    groups = [_latent(get_scenario("paper")), _latent(get_scenario("reversed"))]
    df = simulate_subgroups(groups, [300, 300], n_weeks=60, random_state=13)
    for g, scenario in enumerate(groups):
        part = df[df["subgroup"] == g]
        a_hat, _, _ = _lag1_ols(_cube(part, VARS))
        # n = 17,700 pairs: SE ~ 0.008, so 0.045 is > 5 SE
        np.testing.assert_allclose(a_hat, scenario.transition_matrix(), atol=0.045)


# --------------------------------------------------------------------------- scenarios


def test_generic_likert_instrument():
    likert = Instrument(
        intercept_mean=4, intercept_sd=0.7, within_sd=1.0, low=1, high=7, resolution=1
    )
    s = generic_scenario(4, 3, random_state=16, instrument=likert)
    values = simulate_cohort(s, 300, 10, random_state=17)[list(s.variables)].to_numpy()
    assert set(np.unique(values)) == set(range(1, 8))


def test_simulate_subgroups_layout():
    paper, rev = get_scenario("paper"), get_scenario("reversed")
    df = simulate_subgroups([paper, rev, paper], [3, 4, 2], n_weeks=6, random_state=18)
    assert list(df.columns) == ["patient", "week", "subgroup", *VARS]
    assert df["subgroup"].dtype == np.int64
    per_group = df.groupby("subgroup")["patient"].unique()
    assert [list(p) for p in per_group] == [[1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(df) == 9 * 6
    other = generic_scenario(3, random_state=0)
    with pytest.raises(ValueError, match="variables"):
        simulate_subgroups([paper, other], [2, 2], n_weeks=5)
    with pytest.raises(ValueError, match="one size per scenario"):
        simulate_subgroups([paper], [2, 2], n_weeks=5)
    with pytest.raises(ValueError, match="sizes"):
        simulate_subgroups([paper], [0], n_weeks=5)
