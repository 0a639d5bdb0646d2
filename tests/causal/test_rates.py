from __future__ import annotations

import math

import pytest
from scipy.stats import norm

from causal.rates import Rate, summarize_rate


# ------------------------------------------------------------------- rates
def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval written out (Wilson 1927), as an independent check."""
    z = norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 60), (53, 1200), (20, 20), (1, 1)])
def test_summarize_rate_matches_wilson_formula(k, n):
    r = summarize_rate(k, n)
    low, high = wilson(k, n)
    assert isinstance(r, Rate) and (r.k, r.n) == (k, n)
    assert r.rate == pytest.approx(k / n)
    assert r.ci_low == pytest.approx(max(low, 0.0), abs=1e-12)
    assert r.ci_high == pytest.approx(min(high, 1.0), abs=1e-12)
    assert 0 <= r.ci_low <= r.rate <= r.ci_high <= 1
    assert r.as_dict() == {"k": k, "n": n, "rate": r.rate, "ci_low": r.ci_low,
                           "ci_high": r.ci_high}


def test_summarize_rate_level_and_str():
    wide, narrow = summarize_rate(10, 100, 0.99), summarize_rate(10, 100, 0.8)
    assert wide.ci_low < narrow.ci_low < 0.1 < narrow.ci_high < wide.ci_high
    assert str(summarize_rate(1, 4)).startswith("0.250 (1/4), 95% CI [")


@pytest.mark.parametrize(("k", "n", "conf"), [(1, 0, 0.95), (5, 4, 0.95), (-1, 4, 0.95),
                                              (1, 4, 1.0), (1.5, 4, 0.95)])
def test_summarize_rate_rejects_bad_input(k, n, conf):
    with pytest.raises(ValueError):
        summarize_rate(k, n, conf)


# ----------------------------------------------------------------- outputs
