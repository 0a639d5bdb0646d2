"""Pre-registered lagged hypotheses and their verdicts against a discovery result.

A :class:`Hypothesis` claims something about one lagged link
``cause(t - lag) -> effect(t)``: that it is ``"positive"``, ``"negative"``,
``"present"`` (either sign) or ``"absent"``. :func:`evaluate` (from
:mod:`causal.hypotheses.verdicts`) looks each claim up in a :class:`~causal.discovery.links.Links`
result and returns a :class:`VerdictTable`.

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

    [[comparison]]                # optional: one link stronger than another
    name = "fear_leads_depression"     # required, unique among comparisons
    stronger = "fear_others -> depression"   # required: "cause -> effect"
    weaker = "depression -> fear_others"     # required, a different link
    lag = 1                       # optional, integer >= 1, default 1 (or [defaults])
    sesoi = 0.03                  # optional, on the effect scale, 0 < sesoi < 1
    description = "..."           # optional

Any other key, a missing key or a bad value raises :class:`HypothesisError`
naming the file, the hypothesis or comparison (1-based index and name), the
key and value. A file needs at least one ``[[hypothesis]]`` or
``[[comparison]]``; ``[defaults]`` ``lag`` applies to both, ``expected`` and
``sesoi`` only to hypotheses (a comparison's SESOI is on the effect scale,
not the partial-correlation scale). :func:`load_hypotheses` returns the
hypotheses and :func:`load_comparisons` the comparisons; both validate the
whole file.

Verdicts
--------
Comparisons are judged by :func:`causal.hypotheses.comparisons.compare`.
The decision rule, :func:`~causal.hypotheses.verdicts.evaluate`, ``decide``,
``Verdict`` and ``VerdictTable`` live in :mod:`causal.hypotheses.verdicts`, which
imports this module (never the other way round).

Examples
--------
>>> [h.name for h in load_hypotheses("melsom2023")][:2]
['fear_to_depression', 'depression_to_fear']
>>> print(Hypothesis("f2d", "fear_others", "depression", expected="positive"))
f2d: fear_others(t-1) -> depression(t) expected positive
>>> print(load_comparisons("melsom2023")[0])  # doctest: +NORMALIZE_WHITESPACE
fear_leads_depression: fear_others(t-1) -> depression(t) stronger than
depression(t-1) -> fear_others(t)
"""

from __future__ import annotations

import logging
import numbers
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from causal.discovery.links import format_link
from features.checks import check_int, check_real
from features.errors import InputError, format_value, is_integer

__all__ = [
    "EXPECTATIONS",
    "PRESETS",
    "Comparison",
    "Hypothesis",
    "HypothesisError",
    "load_comparisons",
    "load_hypotheses",
    "parse_comparisons",
    "parse_hypotheses",
    "parse_link",
]

logger = logging.getLogger(__name__)

#: Names of the hypothesis files shipped in ``causal/hypotheses/presets``.
PRESETS: tuple[str, ...] = ("melsom2023",)
#: Allowed values of :attr:`Hypothesis.expected`.
EXPECTATIONS: tuple[str, ...] = ("positive", "negative", "present", "absent")

_REQUIRED_KEYS = ("name", "cause", "effect", "expected")
_OPTIONAL_KEYS = ("lag", "sesoi", "description")
_DEFAULT_KEYS = ("lag", "expected", "sesoi")
_COMPARISON_REQUIRED = ("name", "stronger", "weaker")
_COMPARISON_OPTIONAL = ("lag", "sesoi", "description")
_TOP_KEYS = ("defaults", "hypothesis", "comparison")


class HypothesisError(InputError):
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
        if not is_integer(self.lag):
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
        return (f"{self.name}: {format_link(self.cause, self.effect, self.lag)} "
                f"expected {self.expected}")


# --------------------------------------------------------------- comparison
def parse_link(text: Any, what: str = "link") -> tuple[str, str]:
    """Split ``"cause -> effect"`` into ``(cause, effect)``, or raise naming ``what``.

    Examples
    --------
    >>> parse_link("fear_others -> depression")
    ('fear_others', 'depression')
    >>> parse_link("fear_others => depression", "stronger")
    Traceback (most recent call last):
    ...
    causal.hypotheses.spec.HypothesisError: stronger must be "cause -> effect" with two different \
variable names, got 'fear_others => depression'
    """
    parts = text.split("->") if isinstance(text, str) else []
    names = [p.strip() for p in parts]
    if len(names) != 2 or not all(names) or names[0] == names[1]:
        raise HypothesisError(f'{what} must be "cause -> effect" with two different variable '
                              f"names, got {format_value(text)}")
    return names[0], names[1]


@dataclass(frozen=True)
class Comparison:
    """A claim that one lagged link is stronger than another.

    The claim is ``|effect(stronger)| > |effect(weaker)|`` on the standardized
    within-person effect scale, both links at the same ``lag``; it is judged
    by :func:`causal.hypotheses.comparisons.compare`.

    Parameters
    ----------
    name : str
        Unique label.
    stronger, weaker : str
        The two links as ``"cause -> effect"``; they must differ.
    lag : int
        Lag of both links, >= 1.
    sesoi : float or None
        Smallest difference of interest on the effect scale, in (0, 1); it
        qualifies the reason, never the verdict (``docs/hypotheses.md``).
    description : str
        Free text, e.g. the source of the claim.

    Examples
    --------
    >>> c = Comparison("f_vs_d", "fear_others -> depression", "depression -> fear_others")
    >>> c.stronger_link, c.weaker_link
    (('fear_others', 'depression', 1), ('depression', 'fear_others', 1))
    """

    name: str
    stronger: str
    weaker: str
    lag: int = 1
    sesoi: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise HypothesisError(f"name must be a non-empty string, got "
                                  f"{format_value(self.name)}")
        strong = parse_link(self.stronger, "stronger")
        weak = parse_link(self.weaker, "weaker")
        if strong == weak:
            raise HypothesisError(f"stronger and weaker must be different links, both are "
                                  f"{format_value(self.stronger)}")
        object.__setattr__(self, "stronger", f"{strong[0]} -> {strong[1]}")
        object.__setattr__(self, "weaker", f"{weak[0]} -> {weak[1]}")
        try:
            object.__setattr__(self, "lag", check_int("lag", self.lag, minimum=1))
            if self.sesoi is not None:
                object.__setattr__(self, "sesoi", check_real("sesoi", self.sesoi, low=0.0,
                                                             high=1.0))
        except InputError as exc:
            raise HypothesisError(str(exc)) from None
        if not isinstance(self.description, str):
            raise HypothesisError(f"description must be a string, got "
                                  f"{format_value(self.description)}")

    @property
    def stronger_link(self) -> tuple[str, str, int]:
        """``(cause, effect, lag)`` of the link claimed stronger."""
        return (*parse_link(self.stronger), self.lag)

    @property
    def weaker_link(self) -> tuple[str, str, int]:
        """``(cause, effect, lag)`` of the link claimed weaker."""
        return (*parse_link(self.weaker), self.lag)

    def __str__(self) -> str:
        return (f"{self.name}: {format_link(*self.stronger_link)} stronger than "
                f"{format_link(*self.weaker_link)}")


# ----------------------------------------------------------------- loading
def _preset_text(name: str) -> str:
    """Return the TOML text of a shipped preset."""
    preset = resources.files("causal.hypotheses") / "presets" / f"{name}.toml"
    return preset.read_text(encoding="utf-8")


def _read(path_or_name: str | Path) -> tuple[str, dict[str, Any]]:
    """Return ``(source, parsed TOML)`` of a preset name or a file."""
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
        return source, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HypothesisError(f"{source}: invalid TOML: {exc}") from exc


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
        In file order; empty when the file holds only comparisons.

    Raises
    ------
    HypothesisError
        Unknown preset, missing file, invalid TOML, or invalid content
        (comparisons included).
    """
    source, data = _read(path_or_name)
    hypotheses = parse_hypotheses(data, source=source)
    logger.info("loaded %d hypotheses from %s", len(hypotheses), source)
    return hypotheses


def load_comparisons(path_or_name: str | Path) -> tuple[Comparison, ...]:
    """Load the ``[[comparison]]`` tables of a preset name or a TOML file.

    Parameters
    ----------
    path_or_name : str or Path
        As for :func:`load_hypotheses`.

    Returns
    -------
    tuple of Comparison
        In file order; empty when the file has none.

    Raises
    ------
    HypothesisError
        As :func:`load_hypotheses` (the whole file is validated).
    """
    source, data = _read(path_or_name)
    parse_hypotheses(data, source=source)  # validates everything, comparisons included
    comparisons = parse_comparisons(data, source=source)
    logger.info("loaded %d comparisons from %s", len(comparisons), source)
    return comparisons


def _defaults(data: Mapping[str, Any], source: str) -> Mapping[str, Any]:
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise HypothesisError(f"{source}: unknown top-level key(s) {unknown}; allowed: "
                              f"{', '.join(repr(k) for k in _TOP_KEYS)}")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise HypothesisError(f"{source}: [defaults] must be a table, got {defaults!r}")
    bad = sorted(set(defaults) - set(_DEFAULT_KEYS))
    if bad:
        raise HypothesisError(f"{source}: unknown key(s) {bad} in [defaults]; allowed: "
                              f"{list(_DEFAULT_KEYS)}")
    return defaults


def _tables(data: Mapping[str, Any], key: str, source: str) -> list[Any]:
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise HypothesisError(f"{source}: needs at least one [[hypothesis]] or [[comparison]] "
                              f"table; {key} must be an array of tables ([[{key}]]), got "
                              f"{format_value(entries)}")
    return entries


def parse_hypotheses(data: Mapping[str, Any], *, source: str = "<mapping>") -> tuple[
        Hypothesis, ...]:
    """Build hypotheses from parsed TOML content (``defaults`` and ``hypothesis`` keys).

    ``comparison`` tables are validated too (:func:`parse_comparisons`) but
    not returned.

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
    defaults = _defaults(data, source)
    entries = _tables(data, "hypothesis", source)
    comparisons = parse_comparisons(data, source=source)
    if not entries and not comparisons:
        raise HypothesisError(f"{source}: needs at least one [[hypothesis]] or [[comparison]] "
                              f"table, got {data.get('hypothesis')!r}")
    return _build_all(entries, Hypothesis, "hypothesis", defaults, _REQUIRED_KEYS,
                      _OPTIONAL_KEYS, source)


def _build_all(entries: list[Any], kind: type, label: str, defaults: Mapping[str, Any],
               required: tuple[str, ...], optional: tuple[str, ...], source: str) -> tuple:
    """Build one ``kind`` per table; every error names the file, index, name and key."""
    out: list[Any] = []
    seen: set[str] = set()
    allowed = list(required + optional)
    for i, entry in enumerate(entries, start=1):
        where = f"{source}: {label} #{i}"
        if not isinstance(entry, Mapping):
            raise HypothesisError(f"{where} must be a table, got {entry!r}")
        where += f" ({entry['name']!r})" if "name" in entry else ""
        extra = sorted(set(entry) - set(allowed))
        if extra:
            raise HypothesisError(f"{where}: unknown key(s) {extra}; allowed: {allowed}")
        merged = {**defaults, **entry}
        missing = [k for k in required if k not in merged]
        if missing:
            raise HypothesisError(f"{where}: missing required key(s) {missing}")
        try:
            item = kind(**merged)
        except HypothesisError as exc:
            raise HypothesisError(f"{where}: {exc}") from exc
        if item.name in seen:
            raise HypothesisError(f"{where}: duplicate name {item.name!r}")
        seen.add(item.name)
        out.append(item)
    return tuple(out)


def parse_comparisons(data: Mapping[str, Any], *, source: str = "<mapping>") -> tuple[
        Comparison, ...]:
    """Build comparisons from parsed TOML content (``comparison`` tables).

    Only ``lag`` is taken from ``[defaults]``; ``data`` and ``source`` are as
    in :func:`parse_hypotheses`.

    Examples
    --------
    >>> parse_comparisons({"comparison": [{"name": "c", "stronger": "a -> b",
    ...                                    "weaker": "b -> a"}]})[0].weaker_link
    ('b', 'a', 1)
    """
    defaults = _defaults(data, source)
    lag_only = {"lag": defaults["lag"]} if "lag" in defaults else {}
    return _build_all(_tables(data, "comparison", source), Comparison, "comparison", lag_only,
                      _COMPARISON_REQUIRED, _COMPARISON_OPTIONAL, source)
