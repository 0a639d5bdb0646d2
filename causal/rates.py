"""Rates with Wilson score intervals: power, error rates, edge shares, bootstrap frequencies.

:func:`summarize_rate` is the one Wilson interval of the package (Wilson 1927;
recommended over the Wald interval for small counts and rates near 0 or 1 by
Brown, Cai & DasGupta 2001, *Stat Sci* 16:101-133). It delegates to
:func:`scipy.stats.binomtest`'s ``proportion_ci(method="wilson")``.

Examples
--------
>>> print(summarize_rate(3, 60))
0.050 (3/60), 95% CI [0.017, 0.137]
>>> summarize_rate(0, 5).ci_low
0.0
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binomtest

from features.checks import check_int, check_real
from features.errors import InputError

__all__ = ["Rate", "summarize_rate"]


@dataclass(frozen=True)
class Rate:
    """A proportion ``k / n`` with a Wilson score interval.

    Attributes
    ----------
    k, n : int
        Events and trials.
    rate : float
        ``k / n``.
    ci_low, ci_high : float
        Wilson score interval at level ``ci_level``.
    ci_level : float
        Level of the interval.
    """

    k: int
    n: int
    rate: float
    ci_low: float
    ci_high: float
    ci_level: float = 0.95

    def as_dict(self) -> dict[str, float | int]:
        """Return ``k, n, rate, ci_low, ci_high`` (for a results table row)."""
        return {"k": self.k, "n": self.n, "rate": self.rate, "ci_low": self.ci_low,
                "ci_high": self.ci_high}

    def __str__(self) -> str:
        return (f"{self.rate:.3f} ({self.k}/{self.n}), {100 * self.ci_level:g}% CI "
                f"[{self.ci_low:.3f}, {self.ci_high:.3f}]")


def summarize_rate(k: int, n: int, ci_level: float = 0.95) -> Rate:
    """Return the rate ``k / n`` with its Wilson score interval.

    Parameters
    ----------
    k : int
        Number of events, ``0 <= k <= n``.
    n : int
        Number of trials, >= 1.
    ci_level : float
        Interval level in (0, 1).

    Returns
    -------
    Rate
    """
    n = check_int("n", n, minimum=1)
    k = check_int("k", k, minimum=0)
    if k > n:
        raise InputError(f"need 0 <= k <= n, got k={k}, n={n}")
    ci_level = check_real("ci_level", ci_level, low=0, high=1)
    ci = binomtest(k, n).proportion_ci(confidence_level=ci_level, method="wilson")
    return Rate(k=k, n=n, rate=k / n, ci_low=float(ci.low), ci_high=float(ci.high),
                ci_level=ci_level)
