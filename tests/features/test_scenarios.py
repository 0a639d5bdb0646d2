from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.scenarios import (
    SCENARIO_NAMES,
    Instrument,
    Scenario,
    generic_scenario,
    get_scenario,
)

VARS = ("depression", "self_compassion", "fear_others")
PAPER_EFFECTS = {
    ("fear_others", "depression"): 0.12,
    ("depression", "fear_others"): 0.08,
    ("depression", "self_compassion"): -0.13,
}


# --------------------------------------------------------------------------- basics


def test_instrument_measure_rounds_then_clips():
    inst = Instrument(low=1, high=5, resolution=0.1)
    out = inst.measure(np.array([0.2, 1.04, 2.66, 4.96, 9.0]))
    np.testing.assert_allclose(out, [1.0, 1.0, 2.7, 5.0, 5.0])
    assert str(out[2]) == "2.7"  # no float noise such as 2.7000000000000002
    # unbounded and unrounded: values pass through; -0.0 becomes 0.0
    out = Instrument().measure(np.array([-0.0, 1e9, -3.25]))
    assert out.tolist() == [0.0, 1e9, -3.25] and not np.signbit(out[0])
    # one bound only
    assert Instrument(low=0).measure(np.array([-1.0, 99.0])).tolist() == [0.0, 99.0]


def test_scenario_normalizes_to_hashable_tuples():
    s = Scenario("toy", ["x", "y"], [0.3, 0.2], [["x", "y", 0.4]], intercept_corr=[("x", "y", 0)])
    assert s.variables == ("x", "y") and s.ar == (0.3, 0.2)
    assert s.cross == (("x", "y", 0.4),) and isinstance(s.cross[0][2], float)
    assert s.instruments == (Instrument(), Instrument())
    assert hash(s) == hash(Scenario("toy", ("x", "y"), (0.3, 0.2), (("x", "y", 0.4),),
                                    intercept_corr=(("x", "y", 0.0),)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.name = "other"


def test_innovation_cov_is_a_covariance():
    for scenario in [get_scenario(n) for n in SCENARIO_NAMES]:
        sigma = scenario.innovation_cov()
        np.testing.assert_allclose(sigma, sigma.T)
        assert np.all(np.linalg.eigvalsh(sigma) > 0)
        # innovations are smaller than the unit stationary variance they feed
        assert np.all(np.diag(sigma) < 1.0)


def test_get_scenario_names_and_scale():
    assert SCENARIO_NAMES == ("paper", "null", "reversed")
    for name in SCENARIO_NAMES:
        s = get_scenario(name)
        assert s.name == name and s.variables == VARS
    with pytest.raises(ValueError, match=r"unknown scenario 'papers'; valid names: paper, null"):
        get_scenario("papers")
    half = get_scenario("paper", effect_scale=0.5)
    assert {(c, e): coef for c, e, coef in half.cross} == {
        k: v * 0.5 for k, v in PAPER_EFFECTS.items()}
    assert str(get_scenario("null")).endswith("0 cross-lagged edges: none")


def test_generic_scenario_edge_counts_and_generator_seed():
    assert generic_scenario(3, 0).true_edges() == set()
    full = generic_scenario(3, 6, random_state=0)
    assert len(full.true_edges()) == 6  # every ordered pair
    # a Generator is accepted and consumed like a seed of the same stream
    assert generic_scenario(5, 4, random_state=np.random.default_rng(3)) == \
        generic_scenario(5, 4, random_state=3)
    for bad in (2.5, True, -1):
        with pytest.raises(ValueError, match="n_edges"):
            generic_scenario(4, bad)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variables": ("a", "a")}, "unique"),
        ({"variables": "ab"}, "sequence of names"),
        ({"ar": (0.3,)}, "one ar value"),
        ({"cross": (("a", "z", 0.1),)}, "bad cross pair"),
        ({"cross": (("a", "a", 0.1),)}, "bad cross pair"),
        ({"cross": (("a", "b", 0.1), ("a", "b", 0.2))}, "duplicate"),
        ({"residual_corr": 1.0}, "residual_corr"),
        ({"variables": ("a", "b", "c"), "ar": (0, 0, 0), "residual_corr": -0.6}, "positive"),
        ({"intercept_corr": (("a", "b", 1.0),)}, "intercept_corr"),
        ({"ar": (1.0, 0.2)}, "not stationary"),
        ({"ar": (0.85, 0.85), "cross": (("a", "b", 0.3),)}, "cannot be 1"),
        ({"instruments": (Instrument(),)}, "Instrument"),
    ],
)
def test_bad_scenarios_raise(kwargs, match):
    base = {"name": "bad", "variables": ("a", "b"), "ar": (0.3, 0.3)}
    with pytest.raises(ValueError, match=match):
        Scenario(**{**base, **kwargs})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"within_sd": 0.0},
        {"slope_sd": -1.0},
        {"low": 5, "high": 5},
        {"resolution": 0.0},
        {"low": 1, "high": 7, "resolution": 2},
    ],
)
def test_bad_instruments_raise(kwargs):
    with pytest.raises(ValueError, match="Instrument"):
        Instrument(**kwargs)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=30),
    resolution=st.sampled_from([0.1, 0.5, 1.0, 2.0]),
    low_steps=st.integers(-10, 10),
    width_steps=st.integers(1, 40),
)
def test_measure_is_on_grid_and_in_range(values, resolution, low_steps, width_steps):
    low, width = low_steps * resolution, width_steps * resolution
    out = Instrument(low=low, high=low + width, resolution=resolution).measure(np.array(values))
    assert np.all((out >= low) & (out <= low + width))
    steps = out / resolution
    assert np.allclose(steps, np.round(steps), atol=1e-8)


@pytest.mark.parametrize(
    "scenario",
    [get_scenario(n) for n in SCENARIO_NAMES]
    + [generic_scenario(8, 12, 0.2, random_state=s) for s in range(3)]
    + [get_scenario("paper").with_cross([], name="ar-only")],
)
def test_stationary_variance_is_one(scenario):
    a, sigma = scenario.transition_matrix(), scenario.innovation_cov()
    # independent of the Lyapunov solver: Gamma = sum_h A^h Sigma A'^h (truncated series)
    gamma, term = np.zeros_like(sigma), sigma.copy()
    for _ in range(400):
        gamma += term
        term = a @ term @ a.T
    np.testing.assert_allclose(np.diag(gamma), 1.0, atol=1e-9)
    np.testing.assert_allclose(scenario.stationary_cov(), gamma, atol=1e-9)
    sd = np.sqrt(np.diag(sigma))
    corr = sigma / np.outer(sd, sd)
    np.testing.assert_allclose(corr[~np.eye(len(sd), dtype=bool)], scenario.residual_corr)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_truth_matches_the_transition_matrix(name):
    scenario = get_scenario(name)
    truth = scenario.truth()
    assert list(truth.columns) == ["cause", "effect", "lag", "coefficient"]
    assert len(truth) == 6 and (truth["cause"] != truth["effect"]).all()
    assert (truth["lag"] == 1).all() and truth["lag"].dtype == np.int64
    assert not truth.duplicated(["cause", "effect"]).any()
    a = scenario.transition_matrix()
    for row in truth.itertuples():
        assert row.coefficient == a[VARS.index(row.effect), VARS.index(row.cause)]
    nonzero = truth[truth["coefficient"] != 0]
    assert set(zip(nonzero["cause"], nonzero["effect"], nonzero["lag"], strict=True)) == (
        scenario.true_edges()
    )
    np.testing.assert_array_equal(np.diag(a), [0.3, 0.3, 0.3])


def test_paper_null_and_reversed_presets():
    paper, null, rev = (get_scenario(n) for n in SCENARIO_NAMES)
    got = {(r.cause, r.effect): r.coefficient for r in paper.truth().itertuples()}
    assert {k: v for k, v in got.items() if v} == PAPER_EFFECTS
    assert got[("self_compassion", "depression")] == 0.0
    assert got[("self_compassion", "fear_others")] == got[("fear_others", "self_compassion")] == 0
    assert null.true_edges() == set() and not null.truth()["coefficient"].any()
    for other in (null, rev):
        assert other.ar == paper.ar and other.instruments == paper.instruments
        assert other.residual_corr == paper.residual_corr
        assert other.slope_corr == paper.slope_corr
    off = ~np.eye(3, dtype=bool)
    a_paper, a_rev = paper.transition_matrix(), rev.transition_matrix()
    np.testing.assert_array_equal(a_rev[off], a_paper.T[off])
    np.testing.assert_array_equal(np.diag(a_rev), np.diag(a_paper))
    assert "fear_others -> depression (+0.12)" in str(paper)


def test_scaled_and_with_cross():
    paper = get_scenario("paper")
    a2 = paper.scaled(2.0).transition_matrix()
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(a2[off], 2 * paper.transition_matrix()[off])
    np.testing.assert_array_equal(np.diag(a2), np.diag(paper.transition_matrix()))
    assert get_scenario("paper", effect_scale=0.5) == paper.scaled(0.5)
    assert paper.scaled(0.0).true_edges() == set()
    swapped = paper.with_cross([("self_compassion", "fear_others", -0.1)], name="x")
    assert swapped.name == "x"
    assert swapped.true_edges() == {("self_compassion", "fear_others", 1)}
    assert swapped.instruments == paper.instruments
    with pytest.raises(ValueError, match="not stationary"):
        paper.with_cross([("depression", "fear_others", 5.0), ("fear_others", "depression", 5.0)])


def test_generic_scenario():
    s = generic_scenario(10, 15, 0.1, random_state=14)
    assert s.variables == tuple(f"x{i}" for i in range(1, 11))
    assert len(s.true_edges()) == 15
    assert {abs(c) for _, _, c in s.cross} == {0.1}
    assert s == generic_scenario(10, 15, 0.1, random_state=14)
    assert s != generic_scenario(10, 15, 0.1, random_state=15)
    assert len(generic_scenario(6, random_state=0).true_edges()) == 6
    with pytest.raises(ValueError, match="n_edges"):
        generic_scenario(3, 7)
    with pytest.raises(ValueError, match="n_vars"):
        generic_scenario(1)
