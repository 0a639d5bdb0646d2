"""Hypotheses: claim spec and presets, verdicts, and comparative claims.

:mod:`.spec` holds the claims and presets, :mod:`.verdicts` their verdicts and
:mod:`.comparisons` the claims that one link is stronger than another.

Imports run one way: ``verdicts`` and ``comparisons`` import ``spec``, never the reverse.
"""

from __future__ import annotations

from causal.hypotheses.comparisons import (
    COMPARISON_COLUMNS,
    ComparisonResult,
    ComparisonTable,
    EffectDraws,
    compare,
    effect_bootstrap,
)
from causal.hypotheses.spec import (
    EXPECTATIONS,
    PRESETS,
    Comparison,
    Hypothesis,
    HypothesisError,
    load_comparisons,
    load_hypotheses,
    parse_comparisons,
    parse_hypotheses,
)
from causal.hypotheses.verdicts import HYPOTHESIS_COLUMNS, VERDICTS, Verdict, VerdictTable, evaluate

__all__ = [
    "COMPARISON_COLUMNS",
    "EXPECTATIONS",
    "HYPOTHESIS_COLUMNS",
    "PRESETS",
    "VERDICTS",
    "Comparison",
    "ComparisonResult",
    "ComparisonTable",
    "EffectDraws",
    "Hypothesis",
    "HypothesisError",
    "Verdict",
    "VerdictTable",
    "compare",
    "effect_bootstrap",
    "evaluate",
    "load_comparisons",
    "load_hypotheses",
    "parse_comparisons",
    "parse_hypotheses",
]
