from __future__ import annotations

import numpy as np
import pytest

from causal import Hypothesis, HypothesisError, load_hypotheses
from causal.hypotheses import PRESETS, parse_hypotheses

VARS = ("depression", "self_compassion", "fear_others")


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
