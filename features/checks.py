"""Parameter checks and the one seeding scheme, shared by every stage.

Every public function and estimator validates its parameters with these
checks, so a bad value always raises :class:`~features.errors.InputError`
(a :class:`ValueError`) whose message names the parameter and the value, in
the same words everywhere. The command line reports such errors as one
``error:`` line with exit code 2.

Seeding
-------
One ``random_state`` (``--seed`` on the command line) reproduces everything.
It is never used to seed numpy's global generator. :func:`spawn_seeds` derives
independent child seeds with :meth:`numpy.random.SeedSequence.spawn`, keyed by
a ``stream`` tuple, so a child depends only on ``(seed, stream, index)``: never
on the number of workers, the order tasks run in, or how many children were
asked for.

Examples
--------
>>> check_int("tau_max", 2, minimum=1)
2
>>> check_int("tau_max", True, minimum=1)
Traceback (most recent call last):
...
features.errors.InputError: tau_max must be an integer >= 1, got True
>>> check_real("alpha", 0.05, low=0, high=1)
0.05
>>> check_choice("prep", "detrend", ("detrend", "center", "none"))
'detrend'
>>> spawn_seeds(7, 3) == spawn_seeds(7, 5)[:3]
True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from features.errors import InputError, format_value, is_integer

__all__ = [
    "check_bool",
    "check_choice",
    "check_choices",
    "check_int",
    "check_ints",
    "check_probability",
    "check_real",
    "check_seed",
    "spawn_seeds",
]

S = TypeVar("S", bound=str)


def _bounds(minimum: int | None, maximum: int | None) -> str:
    parts = []
    if minimum is not None:
        parts.append(f">= {minimum}")
    if maximum is not None:
        parts.append(f"<= {maximum}")
    return " and ".join(parts)


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer (not a bool) within the bounds.

    Parameters
    ----------
    name : str
        Parameter name, for the message.
    value : object
        Python or numpy integer; a bool or a float is not an integer.
    minimum, maximum : int, optional
        Inclusive bounds.

    Raises
    ------
    InputError
        Naming ``name`` and ``value``.
    """
    ok = is_integer(value) and (minimum is None or value >= minimum) and (
        maximum is None or value <= maximum)
    if not ok:
        bounds = _bounds(minimum, maximum)
        raise InputError(f"{name} must be an integer{' ' + bounds if bounds else ''}, "
                         f"got {format_value(value)}")
    return int(value)


def check_ints(name: str, value: Any, *, minimum: int | None = None,
               maximum: int | None = None) -> tuple[int, ...]:
    """Return a non-empty sequence of distinct integers within the bounds, as a tuple.

    Examples
    --------
    >>> check_ints("patients", [50, 100], minimum=2)
    (50, 100)
    >>> check_ints("patients", [50, 50], minimum=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    features.errors.InputError: patients must be a ... distinct integers >= 2, got [50, 50]
    """
    bounds = _bounds(minimum, maximum)
    message = (f"{name} must be a non-empty list of distinct integers"
               f"{' ' + bounds if bounds else ''}, got {value!r}")
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray) or len(
            value) == 0:
        raise InputError(message)
    try:
        out = tuple(check_int(name, v, minimum=minimum, maximum=maximum) for v in value)
    except InputError:
        raise InputError(message) from None
    if len(set(out)) != len(out):
        raise InputError(message)
    return out


def check_real(name: str, value: Any, *, low: float | None = None, high: float | None = None,
               low_ok: bool = False, high_ok: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real number (not a bool) within the bounds.

    ``low_ok`` / ``high_ok`` say whether the bounds themselves are allowed.

    Examples
    --------
    >>> check_real("alpha", 1.0, low=0, high=1)
    Traceback (most recent call last):
    ...
    features.errors.InputError: alpha must be a number in (0, 1), got 1
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    if ok:
        x = float(value)
        ok = math.isfinite(x) and (low is None or x > low or (low_ok and x == low)) and (
            high is None or x < high or (high_ok and x == high))
    if not ok:
        if low is not None and high is not None:
            where = (f"in {'[' if low_ok else '('}{format_value(low)}, {format_value(high)}"
                     f"{']' if high_ok else ')'}")
        elif low is not None:
            where = f"{'>=' if low_ok else '>'} {format_value(low)}"
        elif high is not None:
            where = f"{'<=' if high_ok else '<'} {format_value(high)}"
        else:
            where = "that is finite"
        raise InputError(f"{name} must be a number {where}, got {format_value(value)}")
    return float(value)


def check_probability(name: str, value: Any, *, zero_ok: bool = False,
                      one_ok: bool = False) -> float:
    """Return ``value`` as a float in the unit interval (endpoints as allowed).

    Examples
    --------
    >>> check_probability("missing", 0, zero_ok=True)
    0.0
    """
    return check_real(name, value, low=0.0, high=1.0, low_ok=zero_ok, high_ok=one_ok)


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (Python or numpy).

    Examples
    --------
    >>> check_bool("within_df", 1)
    Traceback (most recent call last):
    ...
    features.errors.InputError: within_df must be True or False, got 1
    """
    if not isinstance(value, bool | np.bool_):
        raise InputError(f"{name} must be True or False, got {format_value(value)}")
    return bool(value)


def check_choice(name: str, value: Any, choices: Sequence[S]) -> S:
    """Return ``value`` if it is one of ``choices``.

    Examples
    --------
    >>> check_choice("method", "pc", ("pcmci", "pcmciplus"))
    Traceback (most recent call last):
    ...
    features.errors.InputError: method must be one of 'pcmci', 'pcmciplus', got 'pc'
    """
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise InputError(f"{name} must be one of {options}, got {format_value(value)}")
    return value


def check_choices(name: str, value: Any, choices: Sequence[S]) -> tuple[S, ...]:
    """Return a non-empty sequence of distinct names from ``choices``, as a tuple.

    Examples
    --------
    >>> check_choices("preps", ["center", "detrend"], ("none", "center", "detrend"))
    ('center', 'detrend')
    """
    if isinstance(value, str) or not isinstance(value, Sequence) or not value or any(
            v not in choices for v in value) or len(set(value)) != len(value):
        raise InputError(f"{name} must be a non-empty list of distinct names from "
                         f"{list(choices)}, got {value!r}")
    return tuple(value)


def check_seed(name: str, value: Any, *, allow_none: bool = True) -> int | None:
    """Return a seed: a non-negative integer (or None, for fresh OS entropy, if allowed).

    A :class:`numpy.random.Generator` is not a seed: pass an integer so that a
    run can be reproduced from the number written in its outputs.

    Examples
    --------
    >>> check_seed("random_state", None) is None
    True
    >>> check_seed("--seed", -1)
    Traceback (most recent call last):
    ...
    features.errors.InputError: --seed must be an integer >= 0, got -1
    """
    if value is None and allow_none:
        return None
    return check_int(name, value, minimum=0)


def spawn_seeds(seed: int | None, n: int, *, stream: Sequence[int] = ()) -> list[int]:
    """Return ``n`` independent 64-bit child seeds of ``seed`` for ``stream``.

    The children come from :meth:`numpy.random.SeedSequence.spawn` of
    ``SeedSequence(seed, spawn_key=stream)``: child ``i`` depends only on
    ``(seed, stream, i)``, so asking for more children extends the list
    without changing its head, results never depend on the number of workers,
    and different ``stream`` keys (one per design, say) give independent
    families. ``seed=None`` draws fresh entropy from the OS (not reproducible).

    Parameters
    ----------
    seed : int or None
        Master seed (>= 0).
    n : int
        Number of children (>= 0).
    stream : sequence of int
        Key of an independent family of children (each >= 0).

    Returns
    -------
    list of int
        Seeds for :func:`numpy.random.default_rng`.

    Examples
    --------
    >>> spawn_seeds(1, 2, stream=(0,)) != spawn_seeds(1, 2, stream=(1,))
    True
    """
    seed = check_seed("seed", seed)
    n = check_int("n", n, minimum=0)
    key = tuple(check_int("stream", s, minimum=0) for s in stream)
    parent = np.random.SeedSequence(seed, spawn_key=key)
    return [int(child.generate_state(1, dtype=np.uint64)[0]) for child in parent.spawn(n)]
