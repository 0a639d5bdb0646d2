from __future__ import annotations

import itertools
import logging
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causal.hypotheses import (
    EXPECTATIONS,
    PRESETS,
    VERDICTS,
    Hypothesis,
    HypothesisError,
    Verdict,
    VerdictTable,
    decide,
    evaluate,
    load_hypotheses,
    parse_hypotheses,
)
from causal.links import Links

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


# --------------------------------------------------------------- Hypothesis
def test_hypothesis_defaults_and_str():
    h = Hypothesis("h", "fear_others", "depression")
    assert (h.lag, h.expected, h.sesoi, h.description) == (1, "present", 0.05, "")
    assert "fear_others(t-1) -> depression(t)" in str(h)
    assert isinstance(Hypothesis("h", "a", "b", lag=np.int64(2)).lag, int)


@pytest.mark.parametrize(("kwargs", "field", "value"), [
    ({"name": ""}, "name", "''"),
    ({"cause": 3}, "cause", "3"),
    ({"effect": "  "}, "effect", "'  '"),
    ({"effect": "a"}, "cause and effect", "'a'"),
    ({"lag": 0}, "lag", "0"),
    ({"lag": 1.0}, "lag", "1.0"),
    ({"lag": True}, "lag", "True"),
    ({"expected": "maybe"}, "expected", "'maybe'"),
    ({"sesoi": 0.0}, "sesoi", "0.0"),
    ({"sesoi": 1.5}, "sesoi", "1.5"),
    ({"sesoi": "0.1"}, "sesoi", "'0.1'"),
    ({"description": None}, "description", "None"),
])
def test_hypothesis_validation_names_field_and_value(kwargs, field, value):
    args = {"name": "h", "cause": "a", "effect": "b", **kwargs}
    with pytest.raises(HypothesisError, match="must") as info:
        Hypothesis(**args)
    assert field in str(info.value)
    assert value in str(info.value)
    assert isinstance(info.value, ValueError)


# ------------------------------------------------------------------ presets
def test_melsom_preset_has_the_six_claims():
    assert PRESETS == ("melsom2023",)
    hs = load_hypotheses("melsom2023")
    claims = {(h.cause, h.effect, h.expected) for h in hs}
    assert len(hs) == 6
    assert claims == {
        ("fear_others", "depression", "positive"),
        ("depression", "fear_others", "positive"),
        ("depression", "self_compassion", "negative"),
        ("self_compassion", "depression", "absent"),
        ("self_compassion", "fear_others", "absent"),
        ("fear_others", "self_compassion", "absent"),
    }
    assert len({h.name for h in hs}) == 6
    assert all(h.lag == 1 and h.sesoi == 0.05 for h in hs)
    effects = {(h.cause, h.effect): h.description for h in hs}
    assert "+0.12" in effects["fear_others", "depression"]
    assert "+0.08" in effects["depression", "fear_others"]
    assert "-0.13" in effects["depression", "self_compassion"]
    assert all(h.description for h in hs)
    assert {h.cause for h in hs} | {h.effect for h in hs} == set(VARS)


def test_unknown_preset_lists_presets():
    with pytest.raises(HypothesisError, match=r"'melsom2024'.*melsom2023"):
        load_hypotheses("melsom2024")


# -------------------------------------------------------------- TOML files
GOOD = """
[defaults]
sesoi = 0.1

[[hypothesis]]
name = "a_to_b"
cause = "a"
effect = "b"
lag = 2
expected = "negative"
description = "text"

[[hypothesis]]
name = "b_to_a"
cause = "b"
effect = "a"
expected = "absent"
sesoi = 0.2
"""


def test_load_toml_file_applies_defaults(tmp_path):
    path = tmp_path / "claims.toml"
    path.write_text(GOOD, encoding="utf-8")
    first, second = load_hypotheses(path)
    assert first == Hypothesis("a_to_b", "a", "b", lag=2, expected="negative", sesoi=0.1,
                               description="text")
    assert second == Hypothesis("b_to_a", "b", "a", lag=1, expected="absent", sesoi=0.2)
    assert load_hypotheses(str(path)) == (first, second)


@pytest.mark.parametrize(("text", "needles"), [
    ('[[hypothesis]]\nname = "x"\ncause = "a"\neffect = ', ["invalid TOML"]),
    ('[[hypothesis]]\nname = "x"\ncause = "a"\nexpected = "positive"\n',
     ["#1", "'x'", "missing", "effect"]),
    ('[[hypothesis]]\nname = "x"\ncause = "a"\neffect = "b"\nexpected = "positive"\n'
     'weight = 2\n', ["#1", "'x'", "unknown", "weight"]),
    ('[[hypothesis]]\nname = "x"\ncause = "a"\neffect = "b"\nexpected = "positive"\n'
     '[[hypothesis]]\nname = "y"\ncause = "a"\neffect = "b"\nexpected = "sideways"\n',
     ["#2", "'y'", "expected", "sideways"]),
    ('[[hypothesis]]\nname = "x"\ncause = "a"\neffect = "b"\nexpected = "absent"\nlag = 0\n',
     ["#1", "lag", "0"]),
    ('[[hypothesis]]\nname = "x"\ncause = "a"\neffect = "b"\nexpected = "absent"\n'
     'lag = 1.5\n', ["lag", "1.5"]),
    ('[[hypothesis]]\nname = "x"\ncause = "a"\neffect = "b"\nexpected = "absent"\n'
     'sesoi = 3\n', ["sesoi", "3"]),
    ('[[hypothesis]]\nname = "x"\ncause = "a"\neffect = "a"\nexpected = "absent"\n',
     ["cause and effect", "'a'"]),
    ('[[hypothesis]]\nname = "x"\ncause = "a"\neffect = "b"\nexpected = "absent"\n'
     '[[hypothesis]]\nname = "x"\ncause = "b"\neffect = "a"\nexpected = "absent"\n',
     ["#2", "duplicate", "'x'"]),
    ('[defaults]\nalpha = 0.1\n[[hypothesis]]\nname = "x"\ncause = "a"\neffect = "b"\n'
     'expected = "absent"\n', ["defaults", "alpha"]),
    ('title = "t"\n[[hypothesis]]\nname = "x"\ncause = "a"\neffect = "b"\n'
     'expected = "absent"\n', ["top-level", "title"]),
    ('[defaults]\nsesoi = 0.1\n', ["at least one"]),
    ('hypothesis = 3\n', ["at least one", "3"]),
    ('hypothesis = [1]\n', ["#1", "table"]),
    ('defaults = 2\n[[hypothesis]]\nname = "x"\ncause = "a"\neffect = "b"\n'
     'expected = "absent"\n', ["defaults", "table"]),
])
def test_bad_toml_files(tmp_path, text, needles):
    path = tmp_path / "bad_claims.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HypothesisError) as info:
        load_hypotheses(path)
    message = str(info.value)
    assert "bad_claims.toml" in message
    for needle in needles:
        assert needle in message


def test_missing_file(tmp_path):
    with pytest.raises(HypothesisError, match=r"not found.*nope\.toml"):
        load_hypotheses(tmp_path / "nope.toml")
    with pytest.raises(HypothesisError, match="not found"):
        load_hypotheses("nope.toml")  # a .toml string is a path, not a preset


def test_parse_hypotheses_from_mapping():
    hs = parse_hypotheses({"defaults": {"expected": "absent", "lag": 2},
                           "hypothesis": [{"name": "h", "cause": "a", "effect": "b"}]})
    assert hs == (Hypothesis("h", "a", "b", lag=2, expected="absent"),)


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
    ("absent", 0.20, True, 0.10, 0.30, "contradicted", ">= SESOI"),
    ("absent", -0.05, True, -0.09, -0.01, "contradicted", ">= SESOI"),
    ("absent", 0.01, False, np.nan, np.nan, "inconclusive", "no confidence interval"),
    ("absent", 0.20, True, np.nan, np.nan, "contradicted", ">= SESOI"),
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
    assert table.conf_level == pytest.approx(0.9)
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
    lk = make_links({}, settings_={"conf_level": 0.95})
    with caplog.at_level(logging.WARNING, logger="causal.hypotheses"):
        table = evaluate([Hypothesis("h", "fear_others", "depression")], lk)
    assert table.conf_level == pytest.approx(0.95)
    assert "1 - 2*alpha" in caplog.text


def test_bootstrap_columns(links, caplog):
    boot = pd.DataFrame({"source": ["fear_others", "depression"],
                         "target": ["depression", "fear_others"], "lag": [1, 1],
                         "frequency": [0.9, 0.3], "boot_low": [0.05, -0.1],
                         "boot_high": [0.2, 0.15]})
    claims = load_hypotheses("melsom2023")
    with caplog.at_level(logging.WARNING, logger="causal.hypotheses"):
        table = evaluate(claims, links, bootstrap=boot)
    frame = table.to_frame()
    assert list(frame.columns[-3:]) == ["edge_frequency", "boot_low", "boot_high"]
    row = frame.set_index("name").loc["fear_to_depression"]
    assert (row["edge_frequency"], row["boot_low"], row["boot_high"]) == (0.9, 0.05, 0.2)
    assert frame["edge_frequency"].isna().sum() == 4  # rows not in the bootstrap frame
    assert "self_compassion_to_depression" in caplog.text
    # verdicts are unchanged by the bootstrap columns
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
    table = VerdictTable(verdicts=(v,), alpha=0.05, conf_level=0.9)
    assert table.counts() == {"supported": 1, "contradicted": 0, "inconclusive": 0}
    assert "edge_frequency" not in table.to_frame().columns
