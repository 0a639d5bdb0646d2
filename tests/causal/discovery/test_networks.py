"""The three networks: checked against independent computations (OLS residuals, t tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causal import PanelPCMCI
from causal.discovery.networks import (
    BETWEEN_COLUMNS,
    between_network,
    contemporaneous_links,
    networks_section,
    three_networks,
)
from features.errors import InputError

VARS = ["depression", "self_compassion", "fear_others"]


# the `cohort` and its `fitted` PanelPCMCI(tau_max=1): fixtures of tests/causal/conftest.py
COHORT = {"scenario": "paper", "n_patients": 80, "n_weeks": 13, "random_state": 7}


def residual_partial_correlations(model: PanelPCMCI) -> tuple[np.ndarray, int]:
    """mlVAR's recipe by hand: OLS residuals of each x(t) on all x(t-1), then partial
    correlations among the residuals; samples as tigramite's 2 x tau_max cut-off."""
    data = model.panel_.data
    now, past = [], []
    for _, rows in data.groupby("patient"):
        rows = rows.sort_values("week")
        x = rows[VARS].to_numpy(float)
        weeks = rows["week"].to_numpy()
        for t in range(2, len(rows)):  # the first 2 * tau_max weeks only serve as lags
            if weeks[t] - weeks[t - 1] == 1:
                now.append(x[t])
                past.append(x[t - 1])
    now, past = np.array(now), np.array(past)
    design = np.column_stack([np.ones(len(past)), past])
    resid = now - design @ np.linalg.lstsq(design, now, rcond=None)[0]
    precision = np.linalg.inv(np.corrcoef(resid, rowvar=False))
    d = np.sqrt(np.diag(precision))
    return -precision / np.outer(d, d), len(now)


def test_contemporaneous_equals_partial_correlations_of_lag_model_residuals(fitted):
    pcor, n = residual_partial_correlations(fitted)
    rows = contemporaneous_links(fitted)
    assert len(rows) == 6 and (rows["lag"] == 0).all() and not rows["directed"].any()
    n_vars, loss = 3, fitted.df_loss_
    for r in rows.itertuples():
        i, j = VARS.index(r.source), VARS.index(r.target)
        assert r.value == pytest.approx(pcor[i, j], abs=1e-10)
        assert r.n_samples == n
        # Student t with n - 2 - |Z| - df_loss degrees of freedom, |Z| = (N - 2) + N * tau_max
        df = n - 2 - (n_vars - 2 + n_vars * 1) - loss
        t = r.value * np.sqrt(df / (1 - r.value**2))
        assert r.p_value == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-8)
        assert r.significant == (r.p_value <= fitted.alpha)
        # the interval inverts the same t test at level 1 - 2 alpha
        assert (r.ci_low > 0 or r.ci_high < 0) == (r.p_value < 2 * fitted.alpha)


def test_contemporaneous_fdr_adjusts_over_the_pairs(cohort, fitted):
    plain = contemporaneous_links(fitted)
    fdr = contemporaneous_links(PanelPCMCI(tau_max=1, fdr="fdr_bh").fit(cohort))
    pairs = plain.drop_duplicates("value")["p_value"].to_numpy()
    expected = stats.false_discovery_control(pairs, method="bh")
    np.testing.assert_allclose(fdr.drop_duplicates("value")["p_value"], expected)
    np.testing.assert_allclose(fdr["value"], plain["value"])


def test_three_networks_keep_discoverys_rows(cohort, fitted):
    nets = three_networks(fitted, raw=cohort)
    t = nets.links.table
    assert nets.contemporaneous_method == "residual partial correlation"
    lagged = t[t["lag"] > 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(lagged, fitted.links_.table.reset_index(drop=True))
    assert (nets.contemporaneous["direction"] == "--").all()
    assert nets.links.settings["contemporaneous"] == "residual partial correlation"
    panels = nets.graphs()
    assert [title.split(" (")[0] for title, _ in panels] == ["temporal", "contemporaneous",
                                                               "between persons"]
    n_sig = int(nets.contemporaneous["significant"].sum())
    assert panels[1][1].number_of_edges() == n_sig  # two rows, two directions per pair


def test_three_networks_with_pcmciplus_use_its_lag0_links(cohort):
    plus = PanelPCMCI(tau_max=1, method="pcmciplus").fit(cohort)
    nets = three_networks(plus, raw=cohort)
    assert nets.contemporaneous_method == "pcmciplus"
    pd.testing.assert_frame_equal(nets.links.table, plus.links_.table)
    assert nets.contemporaneous[["ci_low", "ci_high"]].notna().all().all()


def test_between_equals_residual_correlations_of_means(cohort):
    table = between_network(cohort, id_col="patient", variables=VARS, alpha=0.05)
    assert list(table.columns) == list(BETWEEN_COLUMNS)
    means = cohort.groupby("patient")[VARS].mean()
    n, k = len(means), 3
    for r in table.itertuples():
        others = [v for v in VARS if v not in (r.source, r.target)]
        design = np.column_stack([np.ones(n), means[others].to_numpy()])

        def resid(col, design=design):
            y = means[col].to_numpy()
            return y - design @ np.linalg.lstsq(design, y, rcond=None)[0]

        expected = np.corrcoef(resid(r.source), resid(r.target))[0, 1]
        assert r.value == pytest.approx(expected, abs=1e-12)
        t = r.value * np.sqrt((n - k) / (1 - r.value**2))
        assert r.p_value == pytest.approx(2 * stats.t.sf(abs(t), n - k), rel=1e-8)
        assert r.ci_low < r.value < r.ci_high
        assert r.n_persons == n and r.direction == "--"


def test_between_is_undefined_with_too_few_persons_and_drops_empty_persons(cohort, caplog):
    few = cohort[cohort["patient"] <= 3]
    table = between_network(few, id_col="patient", variables=VARS)
    assert table["value"].isna().all() and not table["significant"].any()
    assert (table["n_persons"] == 3).all()
    assert "undefined" in caplog.text
    holes = cohort.copy()
    holes.loc[holes["patient"] == 1, "depression"] = np.nan
    table = between_network(holes, id_col="patient", variables=VARS)
    assert (table["n_persons"] == 79).all()
    with pytest.raises(InputError, match="nope"):
        between_network(cohort, id_col="patient", variables=["nope"])


def test_between_finds_a_person_level_association_and_no_spurious_one():
    """80 persons: means share a factor for a, b (partial r about 0.5), c is independent.

    With 80 persons the SE of a partial correlation is about 1/sqrt(77) = 0.11, so 0.5
    is 4.5 SE from 0 (power ~1) and |r(a, c)| stays below 3 SE = 0.34 (p ~ 0.997).
    """
    rng = np.random.default_rng(11)
    level = np.repeat(rng.normal(size=80), 6)
    df = pd.DataFrame({"id": np.repeat(np.arange(80), 6),
                       "a": level + rng.normal(size=480), "b": level + rng.normal(size=480),
                       "c": rng.normal(size=480)})
    t = between_network(df, id_col="id", variables=["a", "b", "c"]).set_index(
        ["source", "target"])
    assert t.loc[("a", "b"), "significant"] and t.loc[("a", "b"), "value"] > 0.3
    assert abs(t.loc[("a", "c"), "value"]) < 0.34


def test_networks_section_names_persons_and_the_caveat(cohort, fitted):
    text = networks_section(three_networks(fitted, raw=cohort))
    assert "80 persons" in text and "weak" not in text  # 80 >= 10 per variable
    few = cohort[cohort["patient"] <= 12]
    small = PanelPCMCI(tau_max=1).fit(few)
    text = networks_section(three_networks(small, raw=few))
    assert "12 persons" in text and "weak" in text and "networks.png" in text


def test_contemporaneous_needs_a_fitted_model():
    with pytest.raises(InputError, match="fitted PanelPCMCI"):
        contemporaneous_links(PanelPCMCI())


def test_contemporaneous_null_rate_is_nominal():
    """No lag-0 association (AR(1) series with person means and trends): rejections at 0.05.

    12 cohorts x 28 pairs = 336 tests (pairs of one cohort are nearly independent under
    the null); SE of the rate sqrt(0.05 * 0.95 / 336) = 0.012, so 3 SE = 0.036.
    """
    rejections = []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        rows = []
        for person in range(60):
            x, e = np.zeros((30, 8)), rng.normal(size=(30, 8))
            for t in range(30):
                x[t] = 0.3 * (x[t - 1] if t else 0) + e[t]
            x += rng.normal(size=8) + np.arange(30)[:, None] * rng.normal(size=8) * 0.05
            rows += [[person, t, *x[t]] for t in range(30)]
        df = pd.DataFrame(rows, columns=["id", "t", *[f"v{i}" for i in range(8)]])
        model = PanelPCMCI(tau_max=1).fit(df, id_col="id", time_col="t")
        pairs = contemporaneous_links(model).drop_duplicates("value")
        rejections += list(pairs["p_value"] <= 0.05)
    assert len(rejections) == 336
    assert abs(np.mean(rejections) - 0.05) < 0.036
