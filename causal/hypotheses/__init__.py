"""Hypotheses: the claim spec and presets (:mod:`.spec`) and their verdicts (:mod:`.verdicts`).

Imports run one way: ``verdicts`` imports ``spec``, never the reverse.
"""

from __future__ import annotations

from causal.hypotheses.spec import (
    EXPECTATIONS,
    PRESETS,
    Hypothesis,
    HypothesisError,
    load_hypotheses,
    parse_hypotheses,
)
from causal.hypotheses.verdicts import HYPOTHESIS_COLUMNS, VERDICTS, Verdict, VerdictTable, evaluate

__all__ = [
    "EXPECTATIONS",
    "HYPOTHESIS_COLUMNS",
    "PRESETS",
    "VERDICTS",
    "Hypothesis",
    "HypothesisError",
    "Verdict",
    "VerdictTable",
    "evaluate",
    "load_hypotheses",
    "parse_hypotheses",
]
