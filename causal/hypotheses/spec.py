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

Any other key, a missing key or a bad value raises :class:`HypothesisError`
naming the file, the hypothesis (1-based index and name), the key and value.

Verdicts
--------
The decision rule, :func:`~causal.hypotheses.verdicts.evaluate`, ``decide``,
``Verdict`` and ``VerdictTable`` live in :mod:`causal.hypotheses.verdicts`, which
imports this module (never the other way round).

Examples
--------
>>> [h.name for h in load_hypotheses("melsom2023")][:2]
['fear_to_depression', 'depression_to_fear']
>>> print(Hypothesis("f2d", "fear_others", "depression", expected="positive"))
f2d: fear_others(t-1) -> depression(t) expected positive
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
from features.errors import InputError, is_integer

__all__ = [
    "EXPECTATIONS",
    "PRESETS",
    "Hypothesis",
    "HypothesisError",
    "load_hypotheses",
    "parse_hypotheses",
]

logger = logging.getLogger(__name__)

#: Names of the hypothesis files shipped in ``causal/hypotheses/presets``.
PRESETS: tuple[str, ...] = ("melsom2023",)
#: Allowed values of :attr:`Hypothesis.expected`.
EXPECTATIONS: tuple[str, ...] = ("positive", "negative", "present", "absent")

_REQUIRED_KEYS = ("name", "cause", "effect", "expected")
_OPTIONAL_KEYS = ("lag", "sesoi", "description")
_DEFAULT_KEYS = ("lag", "expected", "sesoi")


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


# ----------------------------------------------------------------- loading
def _preset_text(name: str) -> str:
    """Return the TOML text of a shipped preset."""
    preset = resources.files("causal.hypotheses") / "presets" / f"{name}.toml"
    return preset.read_text(encoding="utf-8")


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
