"""Verdicts on hypotheses: the decision rule, with or without a cluster bootstrap.

:func:`evaluate` looks each :class:`~causal.hypotheses.spec.Hypothesis` up in a
:class:`~causal.discovery.links.Links` result and returns a :class:`VerdictTable`;
:func:`decide` is the rule for one link (``docs/hypotheses.md``).

Decision rule
-------------
``sesoi`` is the smallest effect size of interest on the partial-correlation
scale. ``[ci_low, ci_high]`` is the link's confidence interval, which the
discovery layer computes at level ``1 - 2 * alpha`` (unless
``links.settings["ci_level"]`` says otherwise); the effect is
*equivalent to zero* when ``-sesoi < ci_low`` and ``ci_high < +sesoi``.
With a ``1 - 2 * alpha`` interval this is exactly the two one-sided tests
(TOST) procedure at level ``alpha`` (Schuirmann 1987; Lakens 2017).
``significant`` is the link's membership in the discovered graph.

``positive`` / ``negative`` / ``present``:

1. not estimable (``value`` is NaN) -> inconclusive;
2. equivalent to zero -> **contradicted** (the effect is practically absent;
   this is checked first, so a significant but negligible link whose whole
   interval lies within ``±sesoi`` contradicts the claim);
3. significant with the expected sign (any nonzero sign for ``present``)
   -> **supported**;
4. significant with the opposite sign -> **contradicted**;
5. otherwise -> inconclusive.

``absent``:

1. equivalent to zero -> **supported** (significance does not matter);
2. significant and the whole interval beyond ``±sesoi`` (``ci_low > sesoi``
   or ``ci_high < -sesoi``: the minimal-effect test at level ``alpha``,
   the mirror image of TOST) -> **contradicted**: the effect is shown to be
   practically present, not merely nonzero;
3. otherwise -> inconclusive; in particular non-significance alone never
   supports absence, a significant link whose interval reaches inside
   ``±sesoi`` neither supports nor contradicts it, and a NaN interval (a test
   without intervals) makes both tests impossible.

So a claim and its opposite (``absent`` vs any other, ``positive`` vs
``negative``) are never supported together. A hypothesised link that the
search did not test at all is inconclusive.

With a cluster bootstrap
------------------------
``evaluate(..., bootstrap=frame)`` takes per-link bootstrap results (columns
``source, target, lag, frequency, boot_low, boot_high``, e.g.
:attr:`causal.resampling.bootstrap.ClusterBootstrap.edges_`), reports them as
``edge_frequency, boot_low, boot_high`` and uses them twice:

* a significant link counts only if found in at least ``min_frequency``
  (0.5) of the replicates *and* its bootstrap interval excludes zero on the
  side of its sign; otherwise the steps that need significance give
  inconclusive, with the failed check as reason;
* equivalence, and the minimal-effect test of ``absent`` claims, use the
  wider interval ``[min(ci_low, boot_low), max(ci_high, boot_high)]`` (the
  bootstrap interval alone for tests without analytic intervals).

The bootstrap thus only removes evidence (``docs/hypotheses.md``). A link
missing from the frame is judged by the analytic rule alone, with a warning.

Examples
--------
>>> from causal.hypotheses.spec import Hypothesis, load_hypotheses
>>> table = pd.DataFrame({
...     "source": ["fear_others", "self_compassion"],
...     "target": ["depression", "depression"], "lag": [1, 1],
...     "value": [0.12, 0.01], "p_value": [0.001, 0.6], "significant": [True, False],
...     "ci_low": [0.08, -0.02], "ci_high": [0.16, 0.04]})
>>> links = Links(table=table, variables=("depression", "self_compassion", "fear_others"),
...               tau_max=1, alpha=0.05)
>>> claims = (Hypothesis("f2d", "fear_others", "depression", expected="positive"),
...           Hypothesis("s2d", "self_compassion", "depression", expected="absent"))
>>> evaluate(claims, links).to_frame()[["name", "verdict"]].to_dict("records")
[{'name': 'f2d', 'verdict': 'supported'}, {'name': 's2d', 'verdict': 'supported'}]
>>> boot = pd.DataFrame({"source": ["fear_others", "self_compassion"],
...     "target": ["depression", "depression"], "lag": [1, 1], "frequency": [0.4, 0.1],
...     "boot_low": [-0.01, -0.06], "boot_high": [0.2, 0.05]})
>>> evaluate(claims, links, bootstrap=boot).to_frame()["verdict"].tolist()
['inconclusive', 'inconclusive']
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

import pandas as pd

from causal.discovery.links import Links, format_link
from causal.hypotheses.spec import (
    EXPECTATIONS,
    Hypothesis,
    HypothesisError,
    _check_sesoi,
    load_hypotheses,
)
from features.io import write_csv

__all__ = [
    "BOOTSTRAP_COLUMNS",
    "HYPOTHESIS_COLUMNS",
    "MIN_EDGE_FREQUENCY",
    "VERDICTS",
    "Verdict",
    "VerdictTable",
    "check_hypotheses",
    "decide",
    "evaluate",
]

logger = logging.getLogger(__name__)

#: Columns of ``hypotheses.csv``; the first ten never change.
HYPOTHESIS_COLUMNS = ("name", "cause", "effect", "lag", "expected", "verdict", "value", "p_value",
                      "ci_low", "ci_high", "significant", "sesoi", "reason")
#: Columns a bootstrap run appends to ``hypotheses.csv``.
BOOTSTRAP_COLUMNS = ("edge_frequency", "boot_low", "boot_high")
#: Possible verdicts, in report order.
VERDICTS: tuple[str, ...] = ("supported", "contradicted", "inconclusive")
#: A significant link must be found in at least this share of bootstrap replicates.
MIN_EDGE_FREQUENCY = 0.5

_BOOT_COLUMNS = ("source", "target", "lag", "frequency", "boot_low", "boot_high")


# ---------------------------------------------------------------- decision
def _fmt(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:+.3f}"


def _sign(x: float) -> str:
    return "positive" if x > 0 else "negative" if x < 0 else "zero"


def _bootstrap_check(sign: str, freq: float, lo: float, hi: float,
                     min_frequency: float) -> str | None:
    """Return why the bootstrap does not confirm a significant ``sign`` link, or None."""
    if math.isnan(freq):
        return None
    side = "positive" if lo > 0 else "negative" if hi < 0 else "zero"
    if freq < min_frequency:
        return (f"it is significant in only {freq:.0%} of bootstrap replicates "
                f"(< {min_frequency:.0%})")
    if side != sign:
        return (f"its bootstrap interval [{_fmt(lo)}, {_fmt(hi)}] does not exclude zero on the "
                f"{sign} side")
    return None


def decide(expected: str, value: float, significant: bool, ci_low: float, ci_high: float,
           sesoi: float, *, edge_frequency: float = math.nan, boot_low: float = math.nan,
           boot_high: float = math.nan,
           min_frequency: float = MIN_EDGE_FREQUENCY) -> tuple[str, str]:
    """Apply the decision rule of the module docstring to one link.

    Parameters
    ----------
    expected : {"positive", "negative", "present", "absent"}
        The claim.
    value : float
        Estimated effect (NaN if not estimable).
    significant : bool
        Whether the link is in the discovered graph.
    ci_low, ci_high : float
        The ``1 - 2 * alpha`` confidence interval (NaN if unavailable).
    sesoi : float
        Smallest effect size of interest, > 0.
    edge_frequency, boot_low, boot_high : float, optional
        Cluster-bootstrap frequency and percentile interval of the link
        (NaN: no bootstrap, the analytic rule alone).
    min_frequency : float
        Frequency a significant link needs to count (default 0.5).

    Returns
    -------
    (verdict, reason) : tuple of str
        ``verdict`` is one of :data:`VERDICTS`; ``reason`` is one sentence.

    Examples
    --------
    >>> decide("absent", 0.01, False, -0.03, 0.04, 0.05)[0]
    'supported'
    >>> decide("absent", 0.01, False, -0.08, 0.09, 0.05)[0]
    'inconclusive'
    >>> decide("negative", 0.2, True, 0.1, 0.3, 0.05)[0]
    'contradicted'
    >>> verdict, reason = decide("positive", 0.2, True, 0.1, 0.3, 0.05, edge_frequency=0.3,
    ...                          boot_low=-0.1, boot_high=0.4)
    >>> verdict, reason.split(", but ")[1]
    ('inconclusive', 'it is significant in only 30% of bootstrap replicates (< 50%).')
    """
    if expected not in EXPECTATIONS:
        raise HypothesisError(f"expected must be one of {list(EXPECTATIONS)}, got {expected!r}")
    sesoi = _check_sesoi(sesoi)
    value, ci_low, ci_high = float(value), float(ci_low), float(ci_high)
    freq, boot_low, boot_high = float(edge_frequency), float(boot_low), float(boot_high)
    has_ci = not (math.isnan(ci_low) or math.isnan(ci_high))
    if has_ci and ci_low > ci_high:
        raise ValueError(f"ci_low={ci_low} is above ci_high={ci_high}")
    if not math.isnan(freq) and not 0.0 <= freq <= 1.0:
        raise ValueError(f"edge_frequency must lie in [0, 1], got {freq}")
    has_boot = not (math.isnan(freq) or math.isnan(boot_low) or math.isnan(boot_high))
    if has_boot and boot_low > boot_high:
        raise ValueError(f"boot_low={boot_low} is above boot_high={boot_high}")
    if not 0.0 <= float(min_frequency) <= 1.0:
        raise ValueError(f"min_frequency must lie in [0, 1], got {min_frequency!r}")
    significant = bool(significant)
    ci = f"CI [{_fmt(ci_low)}, {_fmt(ci_high)}]"
    lo, hi, what = ci_low, ci_high, ci
    if has_boot:
        lo = boot_low if not has_ci else min(ci_low, boot_low)
        hi = boot_high if not has_ci else max(ci_high, boot_high)
        what = f"interval [{_fmt(lo)}, {_fmt(hi)}] (analytic {ci} widened to the bootstrap's)"
    has_interval = not (math.isnan(lo) or math.isnan(hi))
    equivalent = has_interval and -sesoi < lo and hi < sesoi
    sig_word = "significant" if significant else "not significant"
    sign = _sign(value)
    unconfirmed = (_bootstrap_check(sign, freq, boot_low, boot_high, float(min_frequency))
                   if significant and sign != "zero" else None)

    if expected == "absent":
        if equivalent:
            return "supported", (f"equivalence shown: the {what} lies inside ±{sesoi:g} "
                                 f"({sig_word}, value {_fmt(value)}).")
        if significant and abs(value) >= sesoi and unconfirmed:
            return "inconclusive", (f"the link is significant with |value| {abs(value):.3f} "
                                    f">= SESOI {sesoi:g}, but {unconfirmed}.")
        if significant and has_interval and (lo > sesoi or hi < -sesoi):
            return "contradicted", (f"the link is practically present: significant, and the "
                                    f"whole {what} lies beyond ±{sesoi:g} (minimal-effect "
                                    "test).")
        if not has_interval:
            return "inconclusive", ("no confidence interval is available, so neither "
                                    "equivalence to zero nor a practically present effect can "
                                    f"be tested ({sig_word}, value {_fmt(value)}).")
        if significant and abs(value) >= sesoi:
            return "inconclusive", (f"significant with |value| {abs(value):.3f} >= SESOI "
                                    f"{sesoi:g}, but the {what} reaches inside ±{sesoi:g}: the "
                                    "effect is not shown to be practically present "
                                    "(minimal-effect test), nor negligible.")
        if significant:
            return "inconclusive", (f"significant, but |value| {abs(value):.3f} < SESOI "
                                    f"{sesoi:g} and the {what} is not inside ±{sesoi:g}: the "
                                    "effect is shown neither negligible nor large enough.")
        return "inconclusive", (f"{sig_word}, but the {what} is not inside ±{sesoi:g}; "
                                "non-significance alone does not show absence.")

    if math.isnan(value):
        return "inconclusive", "the link could not be estimated (value is NaN)."
    if equivalent:
        return "contradicted", (f"the effect is negligible: the {what} lies inside ±{sesoi:g} "
                                f"({sig_word}, value {_fmt(value)}).")
    if significant and sign != "zero":
        found = f"significant {sign} link (value {_fmt(value)}, {ci})"
        if unconfirmed:
            return "inconclusive", f"{found}, but {unconfirmed}."
        boot = (f", found in {freq:.0%} of bootstrap replicates" if has_boot else "")
        if expected in ("present", sign):
            return "supported", f"{found}{boot}."
        return "contradicted", f"{found} has the opposite sign{boot}."
    return "inconclusive", (f"{sig_word} (value {_fmt(value)}) and the {what} does not show "
                            f"equivalence within ±{sesoi:g}.")


# ----------------------------------------------------------------- verdicts
@dataclass(frozen=True)
class Verdict:
    """The verdict on one :class:`~causal.hypotheses.spec.Hypothesis`.

    ``edge_frequency``, ``boot_low`` and ``boot_high`` are NaN unless a
    bootstrap frame was passed to :func:`evaluate`.
    """

    hypothesis: Hypothesis
    verdict: str
    value: float
    p_value: float
    ci_low: float
    ci_high: float
    significant: bool
    reason: str
    sesoi: float
    edge_frequency: float = math.nan
    boot_low: float = math.nan
    boot_high: float = math.nan

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {list(VERDICTS)}, got {self.verdict!r}")

    def __str__(self) -> str:
        h = self.hypothesis
        boot = ("" if math.isnan(self.edge_frequency) else
                f", bootstrap {self.edge_frequency:.0%} [{_fmt(self.boot_low)}, "
                f"{_fmt(self.boot_high)}]")
        return (f"{h.name}: {format_link(h.cause, h.effect, h.lag)} expected {h.expected}: "
                f"{self.verdict.upper()} (value {_fmt(self.value)}, p={self.p_value:.3g}, "
                f"CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]{boot}) - {self.reason}")


class _Judged:
    """What :class:`VerdictTable` and the comparisons' table share: rows with a ``verdict``.

    A subclass has ``__iter__`` and ``__len__`` over its rows, ``to_frame()``, and
    names its rows in ``_noun`` (for the log).
    """

    _noun: ClassVar[str]

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`to_frame` to ``path`` and return it."""
        path = write_csv(self.to_frame(), path)
        logging.getLogger(type(self).__module__).info("wrote %d %s to %s", len(self),
                                                      self._noun, path)
        return path

    def counts(self) -> dict[str, int]:
        """Return the number of rows per verdict (all :data:`VERDICTS`, zeros included)."""
        return _count_verdicts(row.verdict for row in self)


@dataclass(frozen=True)
class VerdictTable(_Judged):
    """Verdicts on a set of hypotheses with the settings used.

    Parameters
    ----------
    verdicts : tuple of Verdict
        One per hypothesis, in input order.
    alpha : float
        Significance level of the discovery run.
    ci_level : float
        Level of the confidence intervals used for equivalence.
    bootstrap : bool
        Whether bootstrap columns were supplied (adds them to :meth:`to_frame`).
    min_frequency : float
        Bootstrap frequency a significant link needed (see :func:`decide`).
    """

    verdicts: tuple[Verdict, ...]
    alpha: float
    ci_level: float
    bootstrap: bool = False
    min_frequency: float = MIN_EDGE_FREQUENCY
    _noun: ClassVar[str] = "verdicts"

    def __len__(self) -> int:
        return len(self.verdicts)

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.verdicts)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per hypothesis.

        Columns: :data:`HYPOTHESIS_COLUMNS` and, with bootstrap,
        :data:`BOOTSTRAP_COLUMNS`.
        """
        columns = list(HYPOTHESIS_COLUMNS)
        if self.bootstrap:
            columns += list(BOOTSTRAP_COLUMNS)
        rows = []
        for v in self.verdicts:
            h = v.hypothesis
            row = {"name": h.name, "cause": h.cause, "effect": h.effect, "lag": h.lag,
                   "expected": h.expected}
            row.update({f.name: getattr(v, f.name) for f in fields(v) if f.name != "hypothesis"})
            rows.append({c: row[c] for c in columns})
        frame = pd.DataFrame(rows, columns=columns)
        return frame.astype({"lag": int, "significant": bool, "value": float,
                             "p_value": float, "ci_low": float, "ci_high": float,
                             "sesoi": float})

    def __str__(self) -> str:
        counts = _counts_text(self.counts())
        boot = (f", cluster bootstrap: significant links need >= {self.min_frequency:.0%} of "
                "replicates" if self.bootstrap else "")
        head = (f"Hypothesis verdicts (alpha={self.alpha:g}, {100 * self.ci_level:g}% CI"
                f"{boot}): {counts}")
        return "\n".join([head, *(f"  {v}" for v in self.verdicts)])


# ---------------------------------------------------------------- evaluate
def check_hypotheses(hypotheses: Iterable[Hypothesis], variables: Iterable[str],
                     tau_max: int) -> None:
    """Raise :class:`HypothesisError` if a claim names a variable or lag the run will not have.

    Called before any discovery work, so a mismatch is reported before a long
    bootstrap rather than after it.

    >>> h = Hypothesis("f2d", "fear", "depression", expected="positive")
    >>> check_hypotheses([h], ["fear", "depression"], tau_max=1)
    >>> check_hypotheses([h], ["fear", "mood"], tau_max=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    causal.hypotheses.spec.HypothesisError: hypothesis 'f2d': effect variable 'depression' ...
    """
    names = list(variables)
    for h in hypotheses:
        for role in ("cause", "effect"):
            var = getattr(h, role)
            if var not in names:
                raise HypothesisError(
                    f"hypothesis {h.name!r}: {role} variable {var!r} is not among the discovery "
                    f"variables {names}; rename the data column or the hypothesis "
                    "so the names match")
        if h.lag > tau_max:
            raise HypothesisError(f"hypothesis {h.name!r}: lag={h.lag} exceeds the discovery "
                                  f"tau_max={tau_max}; rerun with tau_max >= {h.lag}")


def _check_against(h: Hypothesis, links: Links) -> None:
    """Raise if ``h`` names variables or a lag the discovery run does not have."""
    check_hypotheses([h], links.variables, links.tau_max)


def _bootstrap_lookup(bootstrap: pd.DataFrame) -> dict[tuple[str, str, int], tuple[float, ...]]:
    """Index a bootstrap frame by ``(source, target, lag)``, validating it."""
    missing = [c for c in _BOOT_COLUMNS if c not in bootstrap.columns]
    if missing:
        raise HypothesisError(f"bootstrap frame lacks column(s) {missing}; needs "
                              f"{list(_BOOT_COLUMNS)}")
    keys = bootstrap[["source", "target", "lag"]].astype({"source": str, "target": str,
                                                          "lag": int})
    dup = keys.duplicated(keep=False)
    if dup.any():
        raise HypothesisError("bootstrap frame has duplicate rows for "
                              f"{keys[dup].drop_duplicates().to_dict('records')}")
    values = bootstrap[["frequency", "boot_low", "boot_high"]].astype(float)
    return {(s, t, int(k)): tuple(v) for (s, t, k), v in
            zip(keys.itertuples(index=False), values.itertuples(index=False), strict=True)}


def _count_verdicts(verdicts: Iterable[str]) -> dict[str, int]:
    """Return how often each of :data:`VERDICTS` occurs (in that order, zeros included)."""
    out = dict.fromkeys(VERDICTS, 0)
    for verdict in verdicts:
        out[verdict] += 1
    return out


def _counts_text(counts: dict[str, int]) -> str:
    """``"2 supported, 0 contradicted, 1 inconclusive"``."""
    return ", ".join(f"{n} {k}" for k, n in counts.items())


def evaluate(hypotheses: Iterable[Hypothesis] | str | Path, links: Links, *,
             sesoi: float | None = None, bootstrap: pd.DataFrame | None = None,
             min_frequency: float = MIN_EDGE_FREQUENCY) -> VerdictTable:
    """Judge each hypothesis against a discovery result.

    Parameters
    ----------
    hypotheses : iterable of Hypothesis, or str / Path
        The claims, or a preset name / TOML path for
        :func:`~causal.hypotheses.spec.load_hypotheses`.
    links : Links
        Discovery result; every cause/effect must be in ``links.variables``
        and every lag <= ``links.tau_max``.
    sesoi : float, optional
        If given, overrides every hypothesis' own ``sesoi``.
    bootstrap : pandas.DataFrame, optional
        Columns ``source, target, lag, frequency, boot_low, boot_high`` (e.g.
        ``ClusterBootstrap.edges_``): reported as ``edge_frequency, boot_low,
        boot_high`` and used by the verdicts (module docstring).
    min_frequency : float
        Bootstrap frequency a significant link needs (default 0.5).

    Returns
    -------
    VerdictTable
    """
    if isinstance(hypotheses, str | Path):
        hypotheses = load_hypotheses(hypotheses)
    claims = tuple(hypotheses)
    if not claims:
        raise HypothesisError("no hypotheses given")
    for h in claims:
        if not isinstance(h, Hypothesis):
            raise TypeError(f"expected Hypothesis objects, got {type(h).__name__}: {h!r}")
        _check_against(h, links)
    override = None if sesoi is None else _check_sesoi(sesoi, "sesoi override")
    boot = None if bootstrap is None else _bootstrap_lookup(bootstrap)
    ci_level = float(links.settings.get("ci_level", 1 - 2 * links.alpha))
    if not math.isclose(ci_level, 1 - 2 * links.alpha):
        logger.warning("confidence intervals are at level %g, not 1 - 2*alpha = %g; the "
                       "equivalence test then has level %g", ci_level, 1 - 2 * links.alpha,
                       (1 - ci_level) / 2)

    verdicts = []
    for h in claims:
        used = h.sesoi if override is None else override
        extra = {}
        if boot is not None:
            key = (h.cause, h.effect, h.lag)
            if key not in boot:
                logger.warning("bootstrap frame has no row for hypothesis %s (%s -> %s, lag %d);"
                               " it is judged by the analytic rule alone", h.name, *key)
            freq, lo, hi = boot.get(key, (math.nan,) * 3)
            extra = {"edge_frequency": freq, "boot_low": lo, "boot_high": hi}
        row = links.get(h.cause, h.effect, h.lag)
        if row is None:
            stats = {"value": math.nan, "p_value": math.nan, "ci_low": math.nan,
                     "ci_high": math.nan, "significant": False}
            verdict, reason = "inconclusive", "the link was not tested by the discovery run."
        else:
            stats = {k: float(row[k]) for k in ("value", "p_value", "ci_low", "ci_high")}
            stats["significant"] = bool(row["significant"])
            verdict, reason = decide(h.expected, stats["value"], stats["significant"],
                                     stats["ci_low"], stats["ci_high"], used,
                                     min_frequency=min_frequency, **extra)
        verdicts.append(Verdict(hypothesis=h, verdict=verdict, reason=reason, sesoi=used,
                                **stats, **extra))
        logger.debug("hypothesis %s: %s", h.name, verdict)
    return VerdictTable(verdicts=tuple(verdicts), alpha=float(links.alpha),
                        ci_level=ci_level, bootstrap=boot is not None,
                        min_frequency=float(min_frequency))
