from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal.power import DEFAULT_EDGE, POWER_COLUMNS, PowerResult, power_curve, power_scenario
from features.errors import InputError


def test_power_increases_with_patients():
    # 40 cohorts per size. Seeds 11-13 give powers of about 0.1, 0.5 and 0.93
    # for a 0.15 effect at 8 weeks; the binomial SD of a rate is <= 0.08, so
    # neighbouring sizes are > 4 SDs of their difference apart and the bounds
    # below sit >= 3 SDs from the expected values: a failure means the
    # sampler or the decision rule changed, not bad luck.
    result = power_curve(0.15, 8, [120, 30, 480], n_cohorts=40, random_state=11)
    table = result.table
    assert tuple(table.columns) == POWER_COLUMNS
    assert table["n_patients"].tolist() == [30, 120, 480]  # sorted
    power = table["power"].to_numpy()
    assert np.all(np.diff(power) > 0)
    assert power[-1] >= 0.8 and power[0] <= 0.3
    assert np.allclose(power, table["k"] / table["n_cohorts"])
    assert ((table["ci_low"] <= power) & (power <= table["ci_high"])).all()
    need = result.required_patients(0.8)
    assert need is not None and 30 < need <= 480
    assert f"80% power needs about {int(np.ceil(need))} patients" in str(result)


def test_same_seed_same_result_and_n_jobs_invariance():
    kwargs = {"n_cohorts": 6, "random_state": 3}
    a = power_curve(0.1, 8, [20, 40], **kwargs)
    b = power_curve(0.1, 8, [20, 40], n_jobs=2, **kwargs)
    pd.testing.assert_frame_equal(a.table, b.table)
    # a grid point's cohorts do not depend on the other grid points
    c = power_curve(0.1, 8, [40], **kwargs)
    assert c.table["k"].iloc[0] == a.table["k"].iloc[1]


def test_negative_effect_is_detected_with_its_sign():
    # -0.3 at 150 x 8 is detected in every seeded cohort (8/8); >= 0.75 leaves
    # room for two misses.
    neg = power_curve(-0.3, 8, [150], n_cohorts=8, random_state=2)
    assert neg.table["power"].iloc[0] >= 0.75
    assert power_scenario(-0.3).transition_matrix()[0, 2] == -0.3


def test_power_scenario_and_errors():
    s = power_scenario(0.05, ("self_compassion", "depression"))
    assert ("self_compassion", "depression", 0.05) in s.cross
    assert ("fear_others", "depression", 0.12) in s.cross  # the paper effects stay
    for kwargs, match in (
        ({"effect": 0.0}, "nonzero"),
        ({"effect": 0.1, "edge": ("depression", "mood")}, "edge"),
        ({"effect": 0.1, "patients": [1, 5]}, "patients"),
        ({"effect": 0.1, "patients": [5, 5]}, "distinct"),
        ({"effect": 0.1, "n_cohorts": 0}, "n_cohorts"),
        ({"effect": 0.1, "alpha": 1.5}, "alpha"),
        ({"effect": 0.1, "missing": 1.0}, "missing"),
        ({"effect": 0.1, "bogus": 1}, "PanelPCMCI setting"),
    ):
        args = {"n_weeks": 8, "patients": [10], "n_cohorts": 1, **kwargs}
        with pytest.raises(InputError, match=match):
            power_curve(args.pop("effect"), args.pop("n_weeks"), args.pop("patients"), **args)


def test_required_patients_interpolates():
    table = pd.DataFrame({"n_patients": [50, 100, 200], "power": [0.85, 0.9, 0.95],
                          "n_cohorts": 10, "ci_low": 0.5, "ci_high": 1.0})
    r = PowerResult(0.1, 13, 0.05, DEFAULT_EDGE, 0.0, table)
    assert r.required_patients(0.8) == 50.0
    assert "at most 50 patients" in str(r)
    assert r.required_patients(0.925) == pytest.approx(150.0)
    assert r.required_patients(0.99) is None
    assert "not reached with up to 200 patients" in str(r.__class__(
        0.1, 13, 0.05, DEFAULT_EDGE, 0.0, table.assign(power=[0.1, 0.2, 0.3])))


# ------------------------------------------------------------------ fast engine
def _links(engine, design, seeds, **params):
    from causal.power import _run, _Task

    items = tuple(sorted(params.items()))
    return _run(_Task(power_scenario(0.15), design, tuple(seeds), 0.05, items, engine))


@pytest.mark.parametrize("params", [
    {},  # the default: PCMCI, pc_alpha 0.2, detrend, within-df correction
    {"prep": "center", "cut_off": "tau_max"},
    {"tau_max": 2, "within_df": False, "pc_alpha": 0.1},
])
def test_fast_engine_reproduces_panelpcmci_cohort_by_cohort(params):
    # Same seeds -> same cohorts; the pooled-moment PCMCI must give tigramite's values
    # (to rounding) and therefore the same decisions for every link of every cohort.
    from causal.power import Design

    design = Design(40, 10, missing=0.1, dropout=0.2)
    seeds = range(500, 508)
    fast = _links("fast", design, seeds, **params)
    full = _links("full", design, seeds, **params)
    lags = slice(1, None)
    for name in ("value", "p_value", "ci_low", "ci_high"):
        np.testing.assert_allclose(getattr(fast, name)[..., lags], getattr(full, name)[..., lags],
                                   rtol=0, atol=1e-10, err_msg=name)
    assert np.array_equal(fast.significant[..., lags], full.significant[..., lags])


def test_fast_engine_reproduces_panelpcmci_on_ema_days():
    # EMA: one segment per day, so no lag crosses a night; detrended on study time.
    from causal.power import Design

    design = Design.ema(25, days=4, beeps=6, missing=0.15, dropout=0.3)
    fast = _links("fast", design, range(40, 46))
    full = _links("full", design, range(40, 46))
    np.testing.assert_allclose(fast.value[..., 1:], full.value[..., 1:], rtol=0, atol=1e-10)
    assert np.array_equal(fast.significant[..., 1:], full.significant[..., 1:])


def test_fast_simulator_draws_the_cohorts_of_simulate_cohort():
    # Guards the seed contract: a change in features.simulate must show up here.
    from causal._fastsim import simulate_values
    from features.simulate import simulate_cohort

    scenario = power_scenario(0.2)
    values = simulate_values(scenario, 12, 9, seeds=[7, 8], missing=0.2, dropout=0.5)
    for c, seed in enumerate([7, 8]):
        frame = simulate_cohort(scenario, 12, 9, missing=0.2, dropout=0.5, random_state=seed)
        cohort = values[c, :, 0]
        observed = ~np.isnan(cohort[..., 0])
        assert np.array_equal(cohort[observed], frame[list(scenario.variables)].to_numpy())
        patients, weeks = np.nonzero(observed)
        assert np.array_equal(patients + 1, frame["patient"].to_numpy())
        assert np.array_equal(weeks + 1, frame["week"].to_numpy())


def test_power_agrees_with_full_panelpcmci_runs():
    # Same seeds: the engines see the same cohorts and decide identically, so the
    # powers are equal, not merely within Monte Carlo error.
    kwargs = {"n_cohorts": 30, "random_state": 9, "missing": 0.1, "progress": False}
    fast = power_curve(0.15, 8, [60, 120], engine="fast", **kwargs)
    full = power_curve(0.15, 8, [60, 120], engine="full", **kwargs)
    assert fast.settings["engine"] == "fast" and full.settings["engine"] == "full"
    pd.testing.assert_frame_equal(fast.table, full.table)
    # Other seeds: the estimates agree within Monte Carlo error. 300 fast cohorts against
    # 30 full ones; the SE of the difference is sqrt(p(1-p)(1/300 + 1/30)) <= 0.096, and
    # 3 SE of the estimated p bounds a chance failure at ~0.3%.
    other = power_curve(0.15, 8, [120], engine="fast", n_cohorts=300, random_state=10,
                        missing=0.1)
    p_fast, p_full = other.table["power"].iloc[0], full.table["power"].iloc[1]
    p = (p_fast * 300 + p_full * 30) / 330
    se = np.sqrt(p * (1 - p) * (1 / 300 + 1 / 30))
    assert abs(p_fast - p_full) <= 3 * max(se, 0.02)


def test_engine_choice():
    kwargs = {"n_cohorts": 2, "random_state": 1, "progress": False}
    auto = power_curve(0.2, 8, [20], fdr="fdr_bh", **kwargs)
    assert auto.settings["engine"] == "full"  # fdr needs tigramite's own run
    with pytest.raises(InputError, match="engine 'fast' does not support fdr='fdr_bh'"):
        power_curve(0.2, 8, [20], fdr="fdr_bh", engine="fast", **kwargs)
    with pytest.raises(InputError, match="engine"):
        power_curve(0.2, 8, [20], engine="turbo", **kwargs)


def test_design_checks_and_ema_curve():
    from causal.power import Design

    with pytest.raises(InputError, match="both days and beeps"):
        power_curve(0.2, None, [20], days=5, n_cohorts=1)
    with pytest.raises(InputError, match="beeps"):
        Design.ema(20, days=5, beeps=2)
    with pytest.raises(InputError, match="dropout"):
        Design(20, 8, dropout=1.5)
    ema = power_curve(0.2, None, [20, 40], days=7, beeps=5, n_cohorts=3, random_state=2)
    assert ema.table["days"].tolist() == [7, 7] and ema.table["n_weeks"].tolist() == [35, 35]
    assert "7 days x 5 beeps" in str(ema)


# ------------------------------------------------------------------ claims and effects
def test_claims_power_table_and_all_claims_row():
    from causal.power import CLAIM_COLUMNS, claims_power

    result = claims_power("melsom2023", 13, [80, 320], n_cohorts=20, random_state=3)
    table = result.table
    assert tuple(table.columns) == CLAIM_COLUMNS
    names = [h.name for h in result.hypotheses] + [c.name for c in result.comparisons]
    assert table["claim"].tolist() == [*names, "all"] * 2
    for _, group in table.groupby("n_patients"):
        # every claim supported in a cohort -> each one is: "all" is at most the smallest
        assert group["power"].iloc[-1] <= group["power"].iloc[:-1].min()
    directional = table[table["expected"].isin(["positive", "negative"])]
    assert (directional["truth"] != 0).all()
    assert (table.loc[table["expected"] == "absent", "truth"] == 0).all()
    # 320 patients x 13 weeks: the +0.12 and -0.13 paper effects are found in (nearly)
    # every cohort (power ~0.99 in a 200-cohort run); >= 0.8 of 20 allows 3 misses.
    big = directional[directional["n_patients"] == 320]
    assert (big.loc[big["claim"] != "depression_to_fear", "power"] >= 0.8).all()
    need = result.required_patients(0.8)
    assert set(need["claim"]) == {*names, "all"}
    assert "Patients for 80% power" in str(result)


def test_claims_power_other_truths_and_errors(tmp_path):
    from causal.hypotheses.spec import Hypothesis
    from causal.power import claims_power, claims_scenario

    claims = [Hypothesis("ab", "a", "b", expected="positive"),
              Hypothesis("ba", "b", "a", expected="absent")]
    truth = claims_scenario(claims, effect=0.3)
    assert truth.variables == ("a", "b") and truth.cross == (("a", "b", 0.3),)
    result = claims_power(claims, 8, [60], effect=0.3, n_cohorts=4, random_state=1)
    assert result.table["claim"].tolist() == ["ab", "ba", "all"]
    with pytest.raises(InputError, match="give the effect size"):
        claims_scenario(claims)
    with pytest.raises(InputError, match="lag-1 claims only"):
        claims_scenario([Hypothesis("x", "a", "b", lag=2, expected="positive")], 0.2)
    with pytest.raises(InputError, match="not a variable of the scenario"):
        claims_power(claims, 8, [60], scenario=power_scenario(0.1), n_cohorts=1)


def test_smallest_effect_detectable():
    from causal.power import smallest_effects

    # Common random numbers: every effect is tested on the same cohorts, so power
    # grows with the effect; 120 x 8 detects 0.4 in every cohort, 0.02 rarely.
    curves = [power_curve(e, 8, [120], n_cohorts=20, random_state=4) for e in (0.02, 0.2, 0.4)]
    table = smallest_effects(curves, 0.8)
    assert len(table) == 1
    assert 0.02 < table["smallest_effect"].iloc[0] <= 0.4
    with pytest.raises(InputError, match="one sign"):
        smallest_effects([*curves, power_curve(-0.2, 8, [120], n_cohorts=2, random_state=4)])


@pytest.mark.parametrize("trajectory", ["sudden", "mixed"])
def test_fast_engine_follows_trajectories(trajectory):
    # The trajectory draws come from the simulator's child generator: same cohorts, same
    # decisions as PanelPCMCI on simulate_cohort(..., trajectory=...).
    from causal.power import Design

    design = Design(40, 10, missing=0.1, trajectory=trajectory)
    fast = _links("fast", design, range(70, 75))
    full = _links("full", design, range(70, 75))
    np.testing.assert_allclose(fast.value[..., 1:], full.value[..., 1:], rtol=0, atol=1e-10)
    assert np.array_equal(fast.significant[..., 1:], full.significant[..., 1:])
    curve = power_curve(0.2, 10, [40], trajectory=trajectory, n_cohorts=3, random_state=1)
    assert (curve.table["trajectory"] == trajectory).all()
    with pytest.raises(InputError, match="trajectory"):
        power_curve(0.2, None, [40], days=5, beeps=4, trajectory=trajectory, n_cohorts=1)


# ------------------------------------------------------------------ comparisons
def _lead_truth(strong: float, weak: float):
    # fear_others -> depression = strong, depression -> fear_others = weak (issue 9 targets)
    return power_scenario(strong).with_cross([("fear_others", "depression", strong),
                                              ("depression", "fear_others", weak),
                                              ("depression", "self_compassion", -0.13)])


def test_fast_effect_draws_reproduce_effect_bootstrap():
    # The array version of the comparison stand-in: same estimates and replicates as
    # causal.hypotheses.comparisons.effect_bootstrap on the same cohort and seed.
    from causal._fastsim import effect_draws, simulate_values
    from causal.hypotheses.comparisons import effect_bootstrap
    from features.simulate import simulate_cohort

    truth = _lead_truth(0.2, 0.04)
    seeds = [21, 22]
    values = simulate_values(truth, 40, 11, seeds=seeds, missing=0.15, dropout=0.3)
    fast = effect_draws(values, seeds=seeds, n_boot=50)
    names = list(truth.variables)
    for c, seed in enumerate(seeds):
        frame = simulate_cohort(truth, 40, 11, missing=0.15, dropout=0.3, random_state=seed)
        ref = effect_bootstrap(frame, n_boot=50, random_state=seed)
        cols = [(names.index(t), names.index(s)) for s, t, _ in ref.keys.itertuples(index=False)]
        est = np.array([fast.estimate[c][ij] for ij in cols])
        reps = np.stack([fast.draws[c][:, i, j] for i, j in cols], axis=1)
        np.testing.assert_allclose(est, ref.estimate, rtol=0, atol=1e-10)
        np.testing.assert_allclose(reps, ref.draws, rtol=0, atol=1e-10)


def test_fast_comparison_verdicts_match_compare_cohort_by_cohort():
    from causal.hypotheses.spec import load_comparisons
    from causal.power import Design, _run, _Task

    comparisons = load_comparisons("melsom2023")
    design = Design(60, 13, missing=0.1, dropout=0.2)

    def verdicts(engine):
        task = _Task(_lead_truth(0.2, 0.04), design, tuple(range(300, 308)), 0.05, (),
                     engine, comparisons, 100)
        return _run(task).compared

    fast, full = verdicts("fast"), verdicts("full")
    assert np.array_equal(fast, full)
    assert (fast == 1).any()  # +0.20 against +0.04 is supported in some of these cohorts


def test_claims_power_includes_comparisons_in_all_claims():
    from causal.power import claims_power

    result = claims_power("melsom2023", 13, [100], n_cohorts=10, n_boot=100, random_state=5)
    table = result.table
    row = table[table["claim"] == "fear_leads_depression"].iloc[0]
    assert row["kind"] == "comparison" and row["expected"] == "stronger"
    assert row["truth"] == pytest.approx(0.04)  # |0.12| - |0.08|
    every = table[table["claim"] == "all"]["power"].iloc[0]
    assert every <= table[table["kind"] != "all"]["power"].min()
