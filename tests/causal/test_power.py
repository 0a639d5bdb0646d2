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
