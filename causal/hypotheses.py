"""Pre-registered lagged hypotheses and their verdicts against a discovery result.

A :class:`Hypothesis` claims something about one lagged link
``cause(t - lag) -> effect(t)``: that it is ``"positive"``, ``"negative"``,
``"present"`` (either sign) or ``"absent"``. :func:`evaluate` looks each
claim up in a :class:`~causal.links.Links` result and returns a
:class:`VerdictTable`.

Hypothesis files (TOML)
-----------------------
``load_hypotheses`` reads a preset name (see :data:`PRESETS`) or a path::

    [defaults]              # optional; may set lag, expected, sesoi
    sesoi = 0.05

    [[hypothesis]]
    name = "fear_to_depression"   # required, unique
    cause = "fear_others"         # required
    effect = "depression"         # required, != cause
    lag = 1                       # optional, integer >= 1, default 1
    expected = "positive"         # required (here or in [defaults]):
                                  # positive | negative | present | absent
    sesoi = 0.05                  # optional, 0 < sesoi < 1, default 0.05
    description = "..."           # optional

Any other key, a missing key or a bad value raises :class:`HypothesisError`
naming the file, the hypothesis (1-based index and name), the key and value.

Decision rule
-------------
``sesoi`` is the smallest effect size of interest on the partial-correlation
scale. ``[ci_low, ci_high]`` is the link's confidence interval, which the
discovery layer computes at level ``1 - 2 * alpha`` (unless
``links.settings["conf_level"]`` says otherwise); the effect is
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
2. significant and ``|value| >= sesoi`` -> **contradicted**;
3. otherwise -> inconclusive; in particular non-significance alone never
   supports absence, and a NaN interval (a test without intervals) makes
   equivalence untestable.

So a claim and its opposite (``absent`` vs any other, ``positive`` vs
``negative``) are never supported together. A hypothesised link that the
search did not test at all is inconclusive.

Bootstrap columns
-----------------
``evaluate(..., bootstrap=frame)`` with columns ``source``, ``target``,
``lag``, ``frequency``, ``boot_low``, ``boot_high`` adds ``edge_frequency``,
``boot_low`` and ``boot_high`` to the table (NaN for links missing from the
frame). They are reported only; the verdict logic does not use them yet.

Examples
--------
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
>>> [h.name for h in load_hypotheses("melsom2023")][:2]
['fear_to_depression', 'depression_to_fear']
"""

from __future__ import annotations

import logging
import math
import numbers
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from causal.links import Links

__all__ = [
    "EXPECTATIONS",
    "HYPOTHESIS_COLUMNS",
    "PRESETS",
    "VERDICTS",
    "Hypothesis",
    "HypothesisError",
    "Verdict",
    "VerdictTable",
    "decide",
    "evaluate",
    "load_hypotheses",
    "parse_hypotheses",
]

logger = logging.getLogger(__name__)

#: Columns of ``hypotheses.csv`` (bootstrap runs add edge_frequency, boot_low, boot_high).
HYPOTHESIS_COLUMNS = ("name", "cause", "effect", "lag", "expected", "verdict", "value", "p_value",
                      "ci_low", "ci_high", "significant", "sesoi", "reason")

#: Names of the hypothesis files shipped in ``causal/presets``.
PRESETS: tuple[str, ...] = ("melsom2023",)
#: Allowed values of :attr:`Hypothesis.expected`.
EXPECTATIONS: tuple[str, ...] = ("positive", "negative", "present", "absent")
#: Possible verdicts, in report order.
VERDICTS: tuple[str, ...] = ("supported", "contradicted", "inconclusive")

_REQUIRED_KEYS = ("name", "cause", "effect", "expected")
_OPTIONAL_KEYS = ("lag", "sesoi", "description")
_DEFAULT_KEYS = ("lag", "expected", "sesoi")
_BOOT_COLUMNS = ("source", "target", "lag", "frequency", "boot_low", "boot_high")


class HypothesisError(ValueError):
    """A hypothesis, hypothesis file or hypothesis/data mismatch is invalid."""


# --------------------------------------------------------------- hypothesis
def _check_sesoi(sesoi: Any, what: str = "sesoi") -> float:
    """Return ``sesoi`` as a float in (0, 1) or raise naming it."""
    if isinstance(sesoi, bool) or not isinstance(sesoi, numbers.Real):
        raise HypothesisError(f"{what} must be a number, got {sesoi!r}")
    value = float(sesoi)
    if not 0.0 < value < 1.0:
        raise HypothesisError(f"{what} must lie in (0, 1) on the partial-correlation scale, "
                              f"got {sesoi!r}")
    return value


@dataclass(frozen=True)
class Hypothesis:
    """A claim about the lagged link ``cause(t - lag) -> effect(t)``.

    Parameters
    ----------
    name : str
        Unique label.
    cause, effect : str
        Variable names as used in discovery; must differ.
    lag : int
        Lag in time steps, >= 1.
    expected : {"positive", "negative", "present", "absent"}
        The claim about the link.
    sesoi : float
        Smallest effect size of interest (partial-correlation scale), in (0, 1).
    description : str
        Free text, e.g. the source of the claim.
    """

    name: str
    cause: str
    effect: str
    lag: int = 1
    expected: str = "present"
    sesoi: float = 0.05
    description: str = ""

    def __post_init__(self) -> None:
        for key in ("name", "cause", "effect"):
            val = getattr(self, key)
            if not isinstance(val, str) or not val.strip():
                raise HypothesisError(f"{key} must be a non-empty string, got {val!r}")
        if self.cause == self.effect:
            raise HypothesisError(f"cause and effect must differ, both are {self.cause!r} "
                                  "(autoregressive claims are not supported)")
        if isinstance(self.lag, bool) or not isinstance(self.lag, numbers.Integral):
            raise HypothesisError(f"lag must be an integer >= 1, got {self.lag!r}")
        if self.lag < 1:
            raise HypothesisError(f"lag must be an integer >= 1, got {self.lag!r}")
        object.__setattr__(self, "lag", int(self.lag))
        if self.expected not in EXPECTATIONS:
            raise HypothesisError(f"expected must be one of {list(EXPECTATIONS)}, "
                                  f"got {self.expected!r}")
        object.__setattr__(self, "sesoi", _check_sesoi(self.sesoi))
        if not isinstance(self.description, str):
            raise HypothesisError(f"description must be a string, got {self.description!r}")

    def __str__(self) -> str:
        return (f"{self.name}: {self.cause}(t-{self.lag}) -> {self.effect}(t) "
                f"expected {self.expected}")


# ----------------------------------------------------------------- loading
def _preset_text(name: str) -> str:
    """Return the TOML text of a shipped preset."""
    return (resources.files("causal") / "presets" / f"{name}.toml").read_text(encoding="utf-8")


def load_hypotheses(path_or_name: str | Path) -> tuple[Hypothesis, ...]:
    """Load hypotheses from a preset name or a TOML file.

    Parameters
    ----------
    path_or_name : str or Path
        A name from :data:`PRESETS` (a string without a path separator or
        ``.toml`` suffix) or the path of a TOML file in the format described
        in the module docstring.

    Returns
    -------
    tuple of Hypothesis
        In file order.

    Raises
    ------
    HypothesisError
        Unknown preset, missing file, invalid TOML, or invalid content.
    """
    text_in = str(path_or_name)
    is_name = (isinstance(path_or_name, str) and "/" not in text_in and "\\" not in text_in
               and not text_in.lower().endswith(".toml"))
    if is_name:
        if text_in not in PRESETS:
            raise HypothesisError(f"unknown hypothesis preset {text_in!r}; available presets: "
                                  f"{', '.join(PRESETS)} (or give the path of a .toml file)")
        source, text = f"preset {text_in!r}", _preset_text(text_in)
    else:
        path = Path(path_or_name)
        if not path.is_file():
            raise HypothesisError(f"hypothesis file not found: {path}")
        source, text = str(path), path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HypothesisError(f"{source}: invalid TOML: {exc}") from exc
    hypotheses = parse_hypotheses(data, source=source)
    logger.info("loaded %d hypotheses from %s", len(hypotheses), source)
    return hypotheses


def parse_hypotheses(data: Mapping[str, Any], *, source: str = "<mapping>") -> tuple[
        Hypothesis, ...]:
    """Build hypotheses from parsed TOML content (``defaults`` and ``hypothesis`` keys).

    Parameters
    ----------
    data : mapping
        E.g. the result of :func:`tomllib.loads` on a hypothesis file.
    source : str
        Where ``data`` came from, used in error messages.

    Examples
    --------
    >>> parse_hypotheses({"defaults": {"sesoi": 0.1}, "hypothesis": [
    ...     {"name": "h", "cause": "a", "effect": "b", "expected": "absent"}]})[0].sesoi
    0.1
    """
    unknown = sorted(set(data) - {"defaults", "hypothesis"})
    if unknown:
        raise HypothesisError(f"{source}: unknown top-level key(s) {unknown}; allowed: "
                              "'defaults', 'hypothesis'")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise HypothesisError(f"{source}: [defaults] must be a table, got {defaults!r}")
    bad = sorted(set(defaults) - set(_DEFAULT_KEYS))
    if bad:
        raise HypothesisError(f"{source}: unknown key(s) {bad} in [defaults]; allowed: "
                              f"{list(_DEFAULT_KEYS)}")
    entries = data.get("hypothesis")
    if not isinstance(entries, list) or not entries:
        raise HypothesisError(f"{source}: needs at least one [[hypothesis]] table, got "
                              f"{entries!r}")
    out: list[Hypothesis] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, start=1):
        where = f"{source}: hypothesis #{i}"
        if not isinstance(entry, Mapping):
            raise HypothesisError(f"{where} must be a table, got {entry!r}")
        where += f" ({entry['name']!r})" if "name" in entry else ""
        extra = sorted(set(entry) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS))
        if extra:
            raise HypothesisError(f"{where}: unknown key(s) {extra}; allowed: "
                                  f"{list(_REQUIRED_KEYS + _OPTIONAL_KEYS)}")
        merged = {**defaults, **entry}
        missing = [k for k in _REQUIRED_KEYS if k not in merged]
        if missing:
            raise HypothesisError(f"{where}: missing required key(s) {missing}")
        try:
            hypothesis = Hypothesis(**merged)
        except HypothesisError as exc:
            raise HypothesisError(f"{where}: {exc}") from exc
        if hypothesis.name in seen:
            raise HypothesisError(f"{where}: duplicate name {hypothesis.name!r}")
        seen.add(hypothesis.name)
        out.append(hypothesis)
    return tuple(out)


# ---------------------------------------------------------------- decision
def _fmt(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:+.3f}"


def decide(expected: str, value: float, significant: bool, ci_low: float, ci_high: float,
           sesoi: float) -> tuple[str, str]:
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
    """
    if expected not in EXPECTATIONS:
        raise HypothesisError(f"expected must be one of {list(EXPECTATIONS)}, got {expected!r}")
    sesoi = _check_sesoi(sesoi)
    value, ci_low, ci_high = float(value), float(ci_low), float(ci_high)
    has_ci = not (math.isnan(ci_low) or math.isnan(ci_high))
    if has_ci and ci_low > ci_high:
        raise ValueError(f"ci_low={ci_low} is above ci_high={ci_high}")
    significant = bool(significant)
    ci = f"CI [{_fmt(ci_low)}, {_fmt(ci_high)}]"
    equivalent = has_ci and -sesoi < ci_low and ci_high < sesoi
    sig_word = "significant" if significant else "not significant"

    if expected == "absent":
        if equivalent:
            return "supported", (f"equivalence shown: the {ci} lies inside ±{sesoi:g} "
                                 f"({sig_word}, value {_fmt(value)}).")
        if significant and abs(value) >= sesoi:
            return "contradicted", (f"the link is significant with |value| {abs(value):.3f} "
                                    f">= SESOI {sesoi:g}.")
        if not has_ci:
            return "inconclusive", ("no confidence interval is available, so equivalence to "
                                    f"zero cannot be tested ({sig_word}).")
        return "inconclusive", (f"{sig_word}, but the {ci} is not inside ±{sesoi:g}; "
                                "non-significance alone does not show absence.")

    if math.isnan(value):
        return "inconclusive", "the link could not be estimated (value is NaN)."
    if equivalent:
        return "contradicted", (f"the effect is negligible: the {ci} lies inside ±{sesoi:g} "
                                f"({sig_word}, value {_fmt(value)}).")
    sign = "positive" if value > 0 else "negative" if value < 0 else "zero"
    if significant and sign != "zero":
        if expected in ("present", sign):
            return "supported", f"significant {sign} link (value {_fmt(value)}, {ci})."
        return "contradicted", (f"significant link with the opposite ({sign}) sign "
                                f"(value {_fmt(value)}, {ci}).")
    return "inconclusive", (f"{sig_word} (value {_fmt(value)}) and the {ci} does not show "
                            f"equivalence within ±{sesoi:g}.")


# ----------------------------------------------------------------- verdicts
@dataclass(frozen=True)
class Verdict:
    """The verdict on one :class:`Hypothesis`.

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
        return (f"{h.name}: {h.cause}(t-{h.lag}) -> {h.effect}(t) expected {h.expected}: "
                f"{self.verdict.upper()} (value {_fmt(self.value)}, p={self.p_value:.3g}, "
                f"CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]) - {self.reason}")


@dataclass(frozen=True)
class VerdictTable:
    """Verdicts on a set of hypotheses with the settings used.

    Parameters
    ----------
    verdicts : tuple of Verdict
        One per hypothesis, in input order.
    alpha : float
        Significance level of the discovery run.
    conf_level : float
        Level of the confidence intervals used for equivalence.
    bootstrap : bool
        Whether bootstrap columns were supplied (adds them to :meth:`to_frame`).
    """

    verdicts: tuple[Verdict, ...]
    alpha: float
    conf_level: float
    bootstrap: bool = False

    def __len__(self) -> int:
        return len(self.verdicts)

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.verdicts)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per hypothesis.

        Columns: ``name, cause, effect, lag, expected, verdict, value,
        p_value, ci_low, ci_high, significant, sesoi, reason`` and, with
        bootstrap, ``edge_frequency, boot_low, boot_high``.
        """
        columns = list(HYPOTHESIS_COLUMNS)
        if self.bootstrap:
            columns += ["edge_frequency", "boot_low", "boot_high"]
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

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`to_frame` to ``path`` and return it."""
        path = Path(path)
        self.to_frame().to_csv(path, index=False)
        logger.info("wrote %d verdicts to %s", len(self), path)
        return path

    def counts(self) -> dict[str, int]:
        """Return the number of hypotheses per verdict (all verdicts, zeros included)."""
        out = dict.fromkeys(VERDICTS, 0)
        for v in self.verdicts:
            out[v.verdict] += 1
        return out

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {k}" for k, n in self.counts().items())
        head = (f"Hypothesis verdicts (alpha={self.alpha:g}, {100 * self.conf_level:g}% CI): "
                f"{counts}")
        return "\n".join([head, *(f"  {v}" for v in self.verdicts)])


# ---------------------------------------------------------------- evaluate
def _check_against(h: Hypothesis, links: Links) -> None:
    """Raise if ``h`` names variables or a lag the discovery run does not have."""
    for role in ("cause", "effect"):
        var = getattr(h, role)
        if var not in links.variables:
            raise HypothesisError(
                f"hypothesis {h.name!r}: {role} variable {var!r} is not among the discovery "
                f"variables {list(links.variables)}; rename the data column or the hypothesis "
                "so the names match")
    if h.lag > links.tau_max:
        raise HypothesisError(f"hypothesis {h.name!r}: lag={h.lag} exceeds the discovery "
                              f"tau_max={links.tau_max}; rerun with tau_max >= {h.lag}")


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


def evaluate(hypotheses: Iterable[Hypothesis] | str | Path, links: Links, *,
             sesoi: float | None = None,
             bootstrap: pd.DataFrame | None = None) -> VerdictTable:
    """Judge each hypothesis against a discovery result.

    Parameters
    ----------
    hypotheses : iterable of Hypothesis, or str / Path
        The claims, or a preset name / TOML path for :func:`load_hypotheses`.
    links : Links
        Discovery result; every cause/effect must be in ``links.variables``
        and every lag <= ``links.tau_max``.
    sesoi : float, optional
        If given, overrides every hypothesis' own ``sesoi``.
    bootstrap : pandas.DataFrame, optional
        Columns ``source, target, lag, frequency, boot_low, boot_high``;
        reported as ``edge_frequency, boot_low, boot_high`` (verdicts do not
        use them yet).

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
    conf_level = float(links.settings.get("conf_level", 1 - 2 * links.alpha))
    if not math.isclose(conf_level, 1 - 2 * links.alpha):
        logger.warning("confidence intervals are at level %g, not 1 - 2*alpha = %g; the "
                       "equivalence test then has level %g", conf_level, 1 - 2 * links.alpha,
                       (1 - conf_level) / 2)

    verdicts = []
    for h in claims:
        used = h.sesoi if override is None else override
        row = links.get(h.cause, h.effect, h.lag)
        if row is None:
            stats = {"value": math.nan, "p_value": math.nan, "ci_low": math.nan,
                     "ci_high": math.nan, "significant": False}
            verdict, reason = "inconclusive", "the link was not tested by the discovery run."
        else:
            stats = {k: float(row[k]) for k in ("value", "p_value", "ci_low", "ci_high")}
            stats["significant"] = bool(row["significant"])
            verdict, reason = decide(h.expected, stats["value"], stats["significant"],
                                     stats["ci_low"], stats["ci_high"], used)
        extra = {}
        if boot is not None:
            key = (h.cause, h.effect, h.lag)
            if key not in boot:
                logger.warning("bootstrap frame has no row for hypothesis %s (%s -> %s, lag %d);"
                               " its bootstrap columns are NaN", h.name, *key)
            freq, lo, hi = boot.get(key, (math.nan,) * 3)
            extra = {"edge_frequency": freq, "boot_low": lo, "boot_high": hi}
        verdicts.append(Verdict(hypothesis=h, verdict=verdict, reason=reason, sesoi=used,
                                **stats, **extra))
        logger.debug("hypothesis %s: %s", h.name, verdict)
    return VerdictTable(verdicts=tuple(verdicts), alpha=float(links.alpha),
                        conf_level=conf_level, bootstrap=boot is not None)
