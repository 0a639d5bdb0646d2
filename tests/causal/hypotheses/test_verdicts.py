from __future__ import annotations

import itertools
import logging
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causal import (
    Hypothesis,
    HypothesisError,
    Links,
    Verdict,
    VerdictTable,
    evaluate,
    load_hypotheses,
)
from causal.hypotheses import EXPECTATIONS, HYPOTHESIS_COLUMNS, VERDICTS
from causal.hypotheses.verdicts import BOOTSTRAP_COLUMNS, MIN_EDGE_FREQUENCY, decide

VARS = ("depression", "self_compassion", "fear_others")


def make_links(stats: dict[tuple[str, str, int], tuple[float, bool, float, float]], *,
               tau_max: int = 2, alpha: float = 0.05, settings_: dict | None = None,
               skip=()) -> Links:
    """All cross/auto lagged links tested; `stats` gives (value, significant, ci_low, ci_high)."""
    rows = []
    for s, t, k in itertools.product(VARS, VARS, range(1, tau_max + 1)):
        if (s, t, k) in skip:
            continue
        value, sig, lo, hi = stats.get((s, t, k), (0.0, False, -0.2, 0.2))
        rows.append({"source": s, "target": t, "lag": k, "value": value,
                     "p_value": 0.001 if sig else 0.5, "significant": sig,
                     "ci_low": lo, "ci_high": hi})
    return Links(table=pd.DataFrame(rows), variables=VARS, tau_max=tau_max, alpha=alpha,
                 settings=settings_ or {})


# ------------------------------------------------------------------- decide
S = 0.05


@pytest.mark.parametrize(("expected", "value", "sig", "lo", "hi", "verdict", "reason"), [
    # directional claims
    ("positive", 0.20, True, 0.10, 0.30, "supported", "significant positive"),
    ("negative", -0.20, True, -0.30, -0.10, "supported", "significant negative"),
    ("present", -0.20, True, -0.30, -0.10, "supported", "significant negative"),
    ("present", 0.20, True, 0.10, 0.30, "supported", "significant positive"),
    ("positive", -0.20, True, -0.30, -0.10, "contradicted", "opposite"),
    ("negative", 0.20, True, 0.10, 0.30, "contradicted", "opposite"),
    ("positive", 0.01, False, -0.03, 0.04, "contradicted", "negligible"),
    ("present", 0.01, False, -0.03, 0.04, "contradicted", "negligible"),
    ("positive", 0.03, True, 0.01, 0.045, "contradicted", "negligible"),  # sig but trivial
    ("positive", 0.03, False, -0.05, 0.11, "inconclusive", "not significant"),
    ("negative", -0.03, False, -0.11, 0.05, "inconclusive", "not significant"),
    ("positive", 0.03, False, np.nan, np.nan, "inconclusive", "not significant"),
    ("positive", 0.20, True, np.nan, np.nan, "supported", "significant positive"),
    ("positive", 0.0, True, -0.1, 0.1, "inconclusive", "significant"),
    ("positive", np.nan, False, np.nan, np.nan, "inconclusive", "NaN"),
    # absent claims
    ("absent", 0.01, False, -0.03, 0.04, "supported", "equivalence shown"),
    ("absent", 0.03, True, 0.01, 0.045, "supported", "equivalence shown"),
    ("absent", 0.01, False, -0.05, 0.04, "inconclusive", "non-significance alone"),
    ("absent", 0.01, False, -0.08, 0.09, "inconclusive", "non-significance alone"),
    ("absent", 0.04, True, 0.01, 0.07, "inconclusive", "not inside"),
    ("absent", 0.20, True, 0.10, 0.30, "contradicted", "minimal-effect test"),
    ("absent", -0.20, True, -0.30, -0.06, "contradicted", "beyond ±0.05"),
    # significant and |value| >= SESOI, but the interval reaches inside ±SESOI: not shown
    # practically present (the rule before issue 8 called these contradicted)
    ("absent", -0.05, True, -0.09, -0.01, "inconclusive", "not shown to be practically"),
    ("absent", 0.09, True, 0.04, 0.14, "inconclusive", "reaches inside ±0.05"),
    ("absent", 0.09, True, 0.05, 0.13, "inconclusive", "reaches inside ±0.05"),
    # the minimal-effect test also needs the link in the graph
    ("absent", 0.20, False, 0.10, 0.30, "inconclusive", "not inside"),
    ("absent", 0.01, False, np.nan, np.nan, "inconclusive", "no confidence interval"),
    ("absent", 0.20, True, np.nan, np.nan, "inconclusive", "no confidence interval"),
    ("absent", np.nan, False, np.nan, np.nan, "inconclusive", "no confidence interval"),
])
def test_decide_branches(expected, value, sig, lo, hi, verdict, reason):
    got, why = decide(expected, value, sig, lo, hi, S)
    assert got == verdict
    assert reason in why
    assert why.endswith(".")


def test_decide_errors():
    with pytest.raises(HypothesisError, match="expected"):
        decide("maybe", 0.1, True, 0.0, 0.2, S)
    with pytest.raises(ValueError, match="ci_low"):
        decide("absent", 0.1, True, 0.2, 0.0, S)
    with pytest.raises(HypothesisError, match="sesoi"):
        decide("absent", 0.1, True, 0.0, 0.2, 0.0)


_unit = st.floats(-0.6, 0.6, allow_nan=False)


@st.composite
def link_stats(draw):
    a, b = draw(_unit), draw(_unit)
    lo, hi = min(a, b), max(a, b)
    value = draw(st.floats(lo, hi)) if lo < hi else lo
    return value, draw(st.booleans()), lo, hi, draw(st.floats(0.01, 0.3))


@settings(max_examples=300, deadline=None)
@given(link_stats())
def test_decide_properties(stats):
    value, sig, lo, hi, sesoi = stats
    v = {e: decide(e, value, sig, lo, hi, sesoi)[0] for e in EXPECTATIONS}
    assert set(v.values()) <= set(VERDICTS)
    inside = -sesoi < lo and hi < sesoi
    # absent is supported exactly when the interval is inside the equivalence band
    assert (v["absent"] == "supported") == inside
    # non-significance never decides an absent claim by itself
    if not sig and not inside:
        assert v["absent"] == "inconclusive"
    # contradicting absence needs a significant link whose whole interval lies beyond ±SESOI
    assert (v["absent"] == "contradicted") == (sig and (lo > sesoi or hi < -sesoi))
    # a claim and its opposite are never supported together
    if v["absent"] == "supported":
        assert "supported" not in (v["positive"], v["negative"], v["present"])
    assert not (v["positive"] == "supported" and v["negative"] == "supported")
    # directional support needs significance with the matching sign
    if v["positive"] == "supported":
        assert sig and value > 0
    if v["negative"] == "supported":
        assert sig and value < 0
    # "present" is supported iff positive or negative is
    assert (v["present"] == "supported") == ("supported" in (v["positive"], v["negative"]))


@settings(max_examples=100, deadline=None)
@given(st.floats(0.01, 0.3), st.floats(0.0, 0.5), st.floats(0.0, 0.5))
def test_absent_never_supported_when_ci_crosses_a_bound(sesoi, below, above):
    # CI reaches -sesoi or beyond on the left (or +sesoi on the right)
    for lo, hi in ((-sesoi - below, sesoi / 2), (-sesoi / 2, sesoi + above)):
        for sig in (True, False):
            assert decide("absent", (lo + hi) / 2, sig, lo, hi, sesoi)[0] != "supported"


# ----------------------------------------------------------------- evaluate
@pytest.fixture
def links() -> Links:
    return make_links({
        ("fear_others", "depression", 1): (0.12, True, 0.08, 0.16),
        ("depression", "fear_others", 1): (0.04, False, -0.06, 0.14),
        ("depression", "self_compassion", 1): (0.13, True, 0.09, 0.17),
        ("self_compassion", "depression", 1): (0.01, False, -0.03, 0.04),
        ("self_compassion", "fear_others", 1): (0.02, False, -0.04, 0.08),
        ("fear_others", "self_compassion", 1): (0.2, True, 0.15, 0.25),
    })


def test_evaluate_melsom_preset(links):
    table = evaluate(load_hypotheses("melsom2023"), links)
    got = {v.hypothesis.name: v.verdict for v in table}
    assert got == {
        "fear_to_depression": "supported",
        "depression_to_fear": "inconclusive",
        "depression_to_self_compassion": "contradicted",
        "self_compassion_to_depression": "supported",
        "self_compassion_to_fear": "inconclusive",
        "fear_to_self_compassion": "contradicted",
    }
    assert table.counts() == {"supported": 2, "contradicted": 2, "inconclusive": 2}
    assert len(table) == 6
    assert table.ci_level == pytest.approx(0.9)
    assert evaluate("melsom2023", links).to_frame().equals(table.to_frame())


def test_verdict_frame_columns_and_values(links, tmp_path):
    table = evaluate("melsom2023", links)
    frame = table.to_frame()
    assert list(frame.columns) == ["name", "cause", "effect", "lag", "expected", "verdict",
                                   "value", "p_value", "ci_low", "ci_high", "significant",
                                   "sesoi", "reason"]
    row = frame.set_index("name").loc["fear_to_depression"]
    assert row["value"] == pytest.approx(0.12)
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(0.08), pytest.approx(0.16))
    assert bool(row["significant"]) is True
    assert frame["lag"].dtype.kind == "i"
    back = pd.read_csv(table.to_csv(tmp_path / "verdicts.csv"))
    assert list(back.columns) == list(frame.columns)
    assert back["verdict"].tolist() == frame["verdict"].tolist()
    np.testing.assert_allclose(back["value"], frame["value"])


def test_verdict_table_str(links):
    text = str(evaluate("melsom2023", links))
    lines = text.splitlines()
    assert len(lines) == 7
    assert "alpha=0.05" in lines[0]
    assert "90% CI" in lines[0]
    assert "2 supported" in lines[0]
    assert "fear_to_depression" in lines[1]
    assert "SUPPORTED" in lines[1]
    assert any("CONTRADICTED" in line for line in lines[1:])


def test_sesoi_override_changes_verdicts(links):
    h = Hypothesis("sc_fear", "self_compassion", "fear_others", expected="absent")
    assert evaluate([h], links).verdicts[0].verdict == "inconclusive"  # CI reaches 0.08
    wide = evaluate([h], links, sesoi=0.1)
    assert wide.verdicts[0].verdict == "supported"
    assert wide.to_frame()["sesoi"].item() == pytest.approx(0.1)
    with pytest.raises(HypothesisError, match="sesoi override"):
        evaluate([h], links, sesoi=-1)


def test_evaluate_unknown_variable_and_lag(links):
    with pytest.raises(HypothesisError) as info:
        evaluate([Hypothesis("h", "anxiety", "depression")], links)
    message = str(info.value)
    assert "'anxiety'" in message and "cause" in message and "rename" in message
    assert all(v in message for v in VARS)
    with pytest.raises(HypothesisError, match="effect variable 'phq9'"):
        evaluate([Hypothesis("h", "depression", "phq9")], links)
    with pytest.raises(HypothesisError, match=r"lag=3.*tau_max=2"):
        evaluate([Hypothesis("h", "fear_others", "depression", lag=3)], links)
    with pytest.raises(HypothesisError, match="no hypotheses"):
        evaluate([], links)
    with pytest.raises(TypeError, match="Hypothesis"):
        evaluate([("fear_others", "depression")], links)


def test_untested_link_is_inconclusive():
    lk = make_links({}, skip={("fear_others", "depression", 1)})
    v = evaluate([Hypothesis("h", "fear_others", "depression", expected="absent")], lk)
    assert v.verdicts[0].verdict == "inconclusive"
    assert "not tested" in v.verdicts[0].reason
    assert math.isnan(v.verdicts[0].value)


def test_conf_level_mismatch_is_logged(caplog):
    lk = make_links({}, settings_={"ci_level": 0.95})
    with caplog.at_level(logging.WARNING, logger="causal.hypotheses.spec"):
        table = evaluate([Hypothesis("h", "fear_others", "depression")], lk)
    assert table.ci_level == pytest.approx(0.95)
    assert "1 - 2*alpha" in caplog.text


def test_bootstrap_columns(links, caplog):
    boot = pd.DataFrame({"source": ["fear_others", "depression"],
                         "target": ["depression", "fear_others"], "lag": [1, 1],
                         "frequency": [0.9, 0.3], "boot_low": [0.05, -0.1],
                         "boot_high": [0.2, 0.15]})
    claims = load_hypotheses("melsom2023")
    with caplog.at_level(logging.WARNING, logger="causal.hypotheses.spec"):
        table = evaluate(claims, links, bootstrap=boot)
    frame = table.to_frame()
    assert list(frame.columns[-3:]) == ["edge_frequency", "boot_low", "boot_high"]
    row = frame.set_index("name").loc["fear_to_depression"]
    assert (row["edge_frequency"], row["boot_low"], row["boot_high"]) == (0.9, 0.05, 0.2)
    assert frame["edge_frequency"].isna().sum() == 4  # rows not in the bootstrap frame
    assert "self_compassion_to_depression" in caplog.text
    # bootstrap rows that confirm the analytic verdicts (or are missing) leave them unchanged
    assert frame["verdict"].tolist() == evaluate(claims, links).to_frame()["verdict"].tolist()
    with pytest.raises(HypothesisError, match="frequency"):
        evaluate(claims, links, bootstrap=boot.drop(columns="frequency"))
    with pytest.raises(HypothesisError, match="duplicate"):
        evaluate(claims, links, bootstrap=pd.concat([boot, boot]))


def test_verdict_validates_and_counts_include_zeros():
    h = Hypothesis("h", "a", "b")
    with pytest.raises(ValueError, match="'maybe'"):
        Verdict(h, "maybe", 0.1, 0.01, 0.0, 0.2, True, "x.", 0.05)
    v = Verdict(h, "supported", 0.1, 0.01, 0.0, 0.2, True, "x.", 0.05)
    table = VerdictTable(verdicts=(v,), alpha=0.05, ci_level=0.9)
    assert table.counts() == {"supported": 1, "contradicted": 0, "inconclusive": 0}
    assert "edge_frequency" not in table.to_frame().columns


# ------------------------------------------------------- bootstrap in verdicts
@pytest.mark.parametrize(
    ("expected", "value", "sig", "ci", "boot", "verdict", "reason"), [
        # a significant link counts only when the bootstrap confirms it
        ("positive", 0.20, True, (0.10, 0.30), (0.9, 0.05, 0.35), "supported", "found in 90%"),
        ("positive", 0.20, True, (0.10, 0.30), (0.5, 0.05, 0.35), "supported", "found in 50%"),
        ("positive", 0.20, True, (0.10, 0.30), (0.4, 0.05, 0.35), "inconclusive",
         "only 40% of bootstrap replicates"),
        ("positive", 0.20, True, (0.10, 0.30), (0.9, -0.01, 0.35), "inconclusive",
         "does not exclude zero on the positive side"),
        ("present", -0.20, True, (-0.30, -0.10), (0.9, -0.35, -0.05), "supported", "negative"),
        ("negative", 0.20, True, (0.10, 0.30), (0.9, 0.05, 0.35), "contradicted",
         "opposite sign"),
        ("negative", 0.20, True, (0.10, 0.30), (0.3, 0.05, 0.35), "inconclusive", "only 30%"),
        ("absent", 0.20, True, (0.10, 0.30), (0.9, 0.06, 0.35), "contradicted",
         "minimal-effect test"),
        # the minimal-effect test uses the wider interval too
        ("absent", 0.20, True, (0.10, 0.30), (0.9, 0.04, 0.35), "inconclusive",
         "widened to the bootstrap"),
        ("absent", 0.20, True, (0.10, 0.30), (0.2, -0.02, 0.35), "inconclusive", "only 20%"),
        # equivalence uses the wider of the analytic and the bootstrap interval
        ("absent", 0.01, False, (-0.03, 0.04), (0.1, -0.02, 0.03), "supported",
         "equivalence shown"),
        ("absent", 0.01, False, (-0.03, 0.04), (0.1, -0.06, 0.03), "inconclusive",
         "widened to the bootstrap"),
        ("positive", 0.01, False, (-0.03, 0.04), (0.1, -0.02, 0.07), "inconclusive",
         "does not show equivalence"),
        ("positive", 0.01, False, (-0.03, 0.04), (0.1, -0.02, 0.03), "contradicted",
         "negligible"),
        # without an analytic interval the bootstrap interval makes equivalence testable
        ("absent", 0.01, False, (np.nan, np.nan), (0.1, -0.02, 0.03), "supported",
         "equivalence shown"),
        # a NaN bootstrap row means: analytic rule only
        ("positive", 0.20, True, (0.10, 0.30), (np.nan, np.nan, np.nan), "supported",
         "significant positive"),
    ])
def test_decide_with_bootstrap(expected, value, sig, ci, boot, verdict, reason):
    freq, lo, hi = boot
    got, why = decide(expected, value, sig, *ci, S, edge_frequency=freq, boot_low=lo,
                      boot_high=hi)
    assert (got, reason in why) == (verdict, True), why


def test_decide_bootstrap_errors():
    with pytest.raises(ValueError, match="edge_frequency"):
        decide("positive", 0.2, True, 0.1, 0.3, S, edge_frequency=1.5, boot_low=0, boot_high=1)
    with pytest.raises(ValueError, match="boot_low"):
        decide("positive", 0.2, True, 0.1, 0.3, S, edge_frequency=0.5, boot_low=0.3,
               boot_high=0.1)
    with pytest.raises(ValueError, match="min_frequency"):
        decide("positive", 0.2, True, 0.1, 0.3, S, min_frequency=2)


@st.composite
def link_and_boot(draw):
    value, sig, lo, hi, sesoi = draw(link_stats())
    a, b = draw(_unit), draw(_unit)
    return value, sig, lo, hi, sesoi, draw(st.floats(0, 1)), min(a, b), max(a, b)


@settings(max_examples=300, deadline=None)
@given(link_and_boot())
def test_bootstrap_only_removes_evidence(stats):
    value, sig, lo, hi, sesoi, freq, blo, bhi = stats
    for e in EXPECTATIONS:
        plain = decide(e, value, sig, lo, hi, sesoi)[0]
        boot = decide(e, value, sig, lo, hi, sesoi, edge_frequency=freq, boot_low=blo,
                      boot_high=bhi)[0]
        # equivalence and found links are subsets of the analytic ones: contradictions and
        # absence claims need the analytic evidence too
        if boot == "contradicted" or (boot == "supported" and e == "absent"):
            assert plain == boot
        if boot == "supported" and e != "absent":
            # significant with the claimed sign and confirmed by the bootstrap; the analytic
            # rule supports it too unless its narrower interval alone called it negligible
            assert sig and freq >= MIN_EDGE_FREQUENCY and (blo > 0 or bhi < 0)
            assert plain == "supported" or (plain == "contradicted" and -sesoi < lo
                                            and hi < sesoi)
    # claim and opposite are still never supported together
    v = {e: decide(e, value, sig, lo, hi, sesoi, edge_frequency=freq, boot_low=blo,
                   boot_high=bhi)[0] for e in EXPECTATIONS}
    assert not (v["positive"] == "supported" and v["negative"] == "supported")
    if v["absent"] == "supported":
        assert "supported" not in (v["positive"], v["negative"], v["present"])


def test_evaluate_uses_the_bootstrap_and_keeps_the_csv_contract(links, tmp_path):
    claims = load_hypotheses("melsom2023")
    plain = evaluate(claims, links).to_frame().set_index("name")
    # fear_to_depression is significant but found in only 30% of replicates
    boot = pd.DataFrame({"source": ["fear_others", "depression"],
                         "target": ["depression", "self_compassion"], "lag": [1, 1],
                         "frequency": [0.3, 0.95], "boot_low": [0.01, 0.05],
                         "boot_high": [0.2, 0.2]})
    table = evaluate(claims, links, bootstrap=boot)
    frame = table.to_frame()
    assert list(frame.columns) == [*HYPOTHESIS_COLUMNS, *BOOTSTRAP_COLUMNS]
    assert list(frame.columns[:10]) == ["name", "cause", "effect", "lag", "expected", "verdict",
                                        "value", "p_value", "ci_low", "ci_high"]
    row = frame.set_index("name").loc["fear_to_depression"]
    assert plain.loc["fear_to_depression", "verdict"] == "supported"
    assert row["verdict"] == "inconclusive" and "30%" in row["reason"]
    # an unconfirmed link keeps its analytic numbers; only the verdict changes
    assert row["value"] == plain.loc["fear_to_depression", "value"]
    # a lower threshold lets it count again
    relaxed = evaluate(claims, links, bootstrap=boot, min_frequency=0.25).to_frame()
    assert relaxed.set_index("name").loc["fear_to_depression", "verdict"] == "supported"
    assert "found in 30%" in relaxed.set_index("name").loc["fear_to_depression", "reason"]
    assert "need >= 50% of replicates" in str(table)
    path = table.to_csv(tmp_path / "hypotheses.csv")
    pd.testing.assert_frame_equal(pd.read_csv(path), frame, check_dtype=False)
    # without a bootstrap the CSV has exactly the analytic columns
    assert list(plain.reset_index().columns) == list(HYPOTHESIS_COLUMNS)


def test_verdict_str_shows_the_bootstrap():
    h = Hypothesis("h", "a", "b")
    v = Verdict(h, "supported", 0.1, 0.01, 0.0, 0.2, True, "x.", 0.05, edge_frequency=0.93,
                boot_low=0.02, boot_high=0.18)
    assert "bootstrap 93% [+0.020, +0.180]" in str(v)
    assert math.isnan(Verdict(h, "supported", 0.1, 0.01, 0.0, 0.2, True, "x.", 0.05)
                      .edge_frequency)


def test_significant_but_small_absent_claim_says_so():
    # significant, |value| below the SESOI, interval crossing it: neither shown small nor large
    verdict, reason = decide("absent", 0.03, True, 0.005, 0.06, 0.05)
    assert verdict == "inconclusive"
    assert "significant" in reason and "< SESOI 0.05" in reason
    assert "non-significance" not in reason
