from __future__ import annotations

import numpy as np
import pytest

from features.choices import TRAJECTORIES
from features.errors import InputError
from features.scenarios import get_scenario
from features.simulate import _patient_transitions, simulate_cohort
from features.trajectories import SHAPES, Trajectory, draw_trends, get_trajectory

VARS = ["depression", "self_compassion", "fear_others"]
N, T = 4000, 13
WITHIN = np.array([3.0, 0.35, 5.0])
DIRECTION = np.array([-1.0, 1.0, -1.0])


def _draw(trajectory, seed=0, n=N, slope=None):
    rng = np.random.default_rng(seed)
    intercept = np.zeros((n, 3))
    slope = np.tile([-0.4, 0.03, -0.4], (n, 1)) if slope is None else slope
    return draw_trends(get_trajectory(trajectory), intercept, slope, T, WITHIN, DIRECTION, rng)


def test_linear_default_is_the_original_simulator():
    # trajectory draws come from a child generator: the linear frame is unchanged
    a = simulate_cohort("paper", 30, 13, missing=0.1, dropout=0.3, random_state=4)
    b = simulate_cohort("paper", 30, 13, missing=0.1, dropout=0.3, random_state=4,
                        trajectory="linear")
    assert a.equals(b)


@pytest.mark.parametrize("shape", TRAJECTORIES)
def test_seeded_and_shaped_like_the_linear_cohort(shape):
    a = simulate_cohort("paper", 20, 13, missing=0.05, trajectory=shape, ar_sd=0.15,
                        random_state=9)
    b = simulate_cohort("paper", 20, 13, missing=0.05, trajectory=shape, ar_sd=0.15,
                        random_state=9)
    assert a.equals(b)
    assert list(a.columns) == ["patient", "week", *VARS]
    assert a["depression"].between(0, 27).all() and a["fear_others"].between(0, 52).all()


def test_every_shape_spends_the_same_total_change():
    linear = _draw("linear").trend
    for shape in ("early", "sudden"):
        trend = _draw(shape).trend
        step = _draw(shape).step
        # early: same start and end; sudden: the line plus the step by the end
        np.testing.assert_allclose(trend[:, 0], linear[:, 0])
        np.testing.assert_allclose(trend[:, -1], linear[:, -1] + step, atol=1e-12)


def test_sudden_step_at_the_drawn_week_shared_by_measures():
    traj = Trajectory("sudden", sudden_share=0.4, loss_share=0.25)
    draw = _draw(traj, slope=np.zeros((N, 3)))
    has = draw.step_week > 0
    # share of patients with a step: binomial SE sqrt(.4*.6/4000) = 0.008; 4 SE
    assert abs(has.mean() - 0.4) < 0.032
    for i in np.flatnonzero(has)[:50]:
        w = draw.step_week[i] - 1  # 0-based first week after the step
        assert 2 <= w <= T - 2  # at least two weeks on each side
        np.testing.assert_allclose(draw.trend[i, :w], 0.0)
        np.testing.assert_allclose(draw.trend[i, w:], np.broadcast_to(draw.step[i], (T - w, 3)))
    # one standardized size per patient, in each measure's direction of improvement
    z = draw.step[has] / (WITHIN * DIRECTION)
    np.testing.assert_allclose(z, z[:, :1] * np.ones((1, 3)))
    losses = (z[:, 0] < 0).mean()  # SE sqrt(.25*.75/1600) = 0.011; 4 SE
    assert abs(losses - 0.25) < 0.044
    # sizes: mean 2, SD 0.5 within-SD (SE of the mean of |z| about 0.013)
    assert abs(np.abs(z[:, 0]).mean() - 2.0) < 0.06
    np.testing.assert_array_equal(draw.step[~has], 0.0)


def test_early_response_is_front_loaded_and_levels_off():
    trend = _draw("early").trend[:, :, 0]  # depression falls
    change = np.diff(trend, axis=1)
    assert (change <= 1e-12).all()  # monotone towards the plateau
    half = (trend[:, 6] - trend[:, 0]) / (trend[:, -1] - trend[:, 0])
    # median rate 0.5/week: most of the change happens in the first half for most patients
    assert np.median(half) > 0.9 and (half > 0.5).mean() > 0.85


def test_relapse_loses_the_drawn_share_of_the_gain():
    traj = Trajectory("relapse", relapse_fraction=0.6)
    draw = _draw(traj)
    dep = draw.trend[:, :, 0]
    gain = -0.4 * (T - 1)
    np.testing.assert_allclose(dep[:, -1], gain * 0.4, rtol=1e-9)
    v = draw.step_week - 1
    assert ((v >= T // 2) & (v <= T - 2)).all()
    best = np.argmin(dep, axis=1)  # the plateau is reached before the relapse
    assert (best <= v).all()


def test_mixed_shares():
    draw = _draw("mixed")
    shares = np.array([(draw.shape == s).mean() for s in SHAPES])
    # binomial SE sqrt(.25*.75/4000) = 0.007; 4 SE
    np.testing.assert_allclose(shares, 0.25, atol=0.028)


def test_heterogeneity_of_ar_and_true_cross_effects_only():
    scenario = get_scenario("paper")
    a = scenario.transition_matrix()
    trans = _patient_transitions(scenario, 5000, 0.15, 0.05, np.random.default_rng(2))
    diag = np.diagonal(trans, axis1=1, axis2=2)
    # SD of 5000 normal draws: SE 0.15/sqrt(2*5000) = 0.0015; few draws are halved
    assert abs(diag.std() - 0.15) < 0.01 and abs(diag.mean() - 0.3) < 0.01
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_array_equal(trans[:, off][:, a[off] == 0], 0.0)
    assert abs(trans[:, off][:, a[off] != 0].std(axis=0).mean() - 0.05) < 0.005
    assert (np.max(np.abs(np.linalg.eigvals(trans)), axis=1) < 0.95).all()


def test_dropout_depends_on_improvement():
    df = simulate_cohort("null", 3000, 13, dropout=0.3, dropout_improvement=2.0,
                         trajectory="sudden", random_state=5)
    n_weeks = df.groupby("patient")["week"].max()
    first = df[df["week"] == 1].set_index("patient")["depression"]
    last = df.groupby("patient")["depression"].last()
    dropped = n_weeks < 13
    base = simulate_cohort("null", 3000, 13, dropout=0.3, random_state=5)
    # improvement-dependent dropout: the dropped patients improved more (per week observed)
    per_week = (first - last) / (n_weeks - 1)
    assert per_week[dropped].mean() > per_week[~dropped].mean()
    # without the dependence, the share dropping out is 0.3: 3000 patients, SE 0.008; 4 SE
    share = (base.groupby("patient")["week"].max() < 13).mean()
    assert abs(share - 0.3) < 0.034


def test_bad_trajectory_parameters():
    with pytest.raises(InputError, match="trajectory must be one of"):
        simulate_cohort("paper", 5, 13, trajectory="wavy")
    with pytest.raises(InputError, match="ar_sd"):
        simulate_cohort("paper", 5, 13, ar_sd=-0.1)
    with pytest.raises(InputError, match="mix"):
        Trajectory("mixed", mix=(0.5, 0.5, 0.5, 0.5))
    with pytest.raises(InputError, match="sudden_share"):
        Trajectory("sudden", sudden_share=1.5)
