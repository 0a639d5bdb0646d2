"""Study configs: TOML files with a ``[quick]`` table, and the settings base class.

Every study ``NAME`` reads ``experiments/configs/NAME.toml``: its top-level
keys are the full run and its ``[quick]`` table overrides some of them for
``--quick`` (seconds, for CI). A study's settings are a frozen dataclass
deriving from :class:`Settings`: its fields are the config keys (plus
``seed``, which the harness handles), and every bad value raises
:class:`ConfigError` naming the key.

A key is declared once, with its full-run default and its check: the field
makers :func:`integer`, :func:`integers`, :func:`real`, :func:`probability`,
:func:`numbers`, :func:`choice` and :func:`choices` wrap the checks of
:mod:`features.checks`, and :meth:`Settings.check` applies them in field
order (a study overrides it only for checks across keys, after
``super().check()``). :class:`CohortSettings` holds the design keys of the
studies that simulate cohorts with :func:`features.simulate.simulate_cohort`.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo(Settings):
...     n_cohorts: int = integer(10, minimum=1)
...     alphas: tuple[float, ...] = numbers((0.1, 0.05), low=0, high=1, sort=True)
>>> Demo.keys()
('seed', 'n_cohorts', 'alphas')
>>> Demo.from_mapping({"seed": 1, "n_cohorts": 3})
Demo(n_cohorts=3, alphas=(0.05, 0.1))
>>> Demo(n_cohorts=0)
Traceback (most recent call last):
...
experiments.harness.config.ConfigError: n_cohorts must be an integer >= 1, got 0
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Self

from features.checks import (
    check_choice,
    check_choices,
    check_int,
    check_ints,
    check_probability,
    check_real,
)
from features.errors import InputError, format_value

__all__ = [
    "CONFIG_DIR",
    "CohortSettings",
    "ConfigError",
    "Settings",
    "choice",
    "choices",
    "config_path",
    "integer",
    "integers",
    "load_config",
    "numbers",
    "probability",
    "real",
    "setting",
]

logger = logging.getLogger(__name__)

#: Folder of the study configs (shipped as package data).
CONFIG_DIR: Path = Path(__file__).resolve().parent.parent / "configs"


class ConfigError(InputError):
    """A study config file or setting that cannot be used."""


def config_path(name: str) -> Path:
    """Return the default config path ``experiments/configs/NAME.toml``."""
    return CONFIG_DIR / f"{name}.toml"


def load_config(name: str, path: str | Path | None = None, *, quick: bool = False,
                allowed: Collection[str] | None = None,
                required: Collection[str] = ()) -> dict[str, Any]:
    r"""Read a study config.

    Parameters
    ----------
    name : str
        Study name (default path ``experiments/configs/NAME.toml``).
    path : str or Path, optional
        Config file to read instead of the default.
    quick : bool
        Apply the ``[quick]`` table's overrides.
    allowed : collection of str, optional
        Keys the study understands; any other top-level or ``[quick]``
        key raises. None accepts every key.
    required : collection of str
        Keys that must be present after the overrides.

    Returns
    -------
    dict
        The settings, without the ``quick`` table.

    Raises
    ------
    ConfigError
        Missing file, invalid TOML, unknown or missing keys, ``--quick``
        without a ``[quick]`` table.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "demo.toml"
    >>> _ = path.write_text("n_cohorts = 200\nseed = 1\n[quick]\nn_cohorts = 5\n")
    >>> load_config("demo", path, quick=True)
    {'n_cohorts': 5, 'seed': 1}
    >>> load_config("demo", path, allowed={"seed"})
    Traceback (most recent call last):
    ...
    experiments.harness.config.ConfigError: ...: unknown key(s) ['n_cohorts']; allowed: ['seed']
    """
    path = Path(path) if path is not None else config_path(name)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    overrides = data.pop("quick", {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"{path}: 'quick' must be a table ([quick]), got {overrides!r}")
    if allowed is not None:
        for where, keys in ((str(path), data), (f"{path} [quick]", overrides)):
            unknown = sorted(set(keys) - set(allowed))
            if unknown:
                raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    if quick:
        if not overrides:
            raise ConfigError(f"{path}: --quick needs a [quick] table of overrides")
        data.update(overrides)
    missing = sorted(set(required) - set(data))
    if missing:
        raise ConfigError(f"{path}: missing required key(s) {missing}")
    logger.debug("config %s (quick=%s): %s", path, quick, data)
    return data


@dataclass(frozen=True)
class Settings:
    """Base of every study's settings: a frozen dataclass whose fields are the config keys.

    Subclasses declare their keys as fields with the full-run defaults, made
    by a field maker (:func:`setting`, :func:`integer`, :func:`choices`...)
    that carries the key's check. :meth:`check` applies those checks and keeps
    what they return (say, a list as a tuple); a subclass overrides it only
    for checks across keys, calling ``super().check()`` first, and may
    normalize a value with :meth:`_set`. Any
    :class:`~features.errors.InputError` raised becomes a
    :class:`ConfigError` with the same message.
    """

    def __post_init__(self) -> None:
        try:
            self.check()
        except ConfigError:
            raise
        except InputError as exc:
            raise ConfigError(str(exc)) from exc

    def check(self) -> None:
        """Validate every key with the check of its field, in field order; raise naming the key."""
        for f in fields(self):
            check = f.metadata.get("check")
            if check is not None:
                self._set(f.name, check(f.name, getattr(self, f.name)))

    def _set(self, key: str, value: Any) -> None:
        """Replace the value of ``key`` during :meth:`check` (the dataclass is frozen)."""
        object.__setattr__(self, key, value)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """Return the config keys: ``seed`` and the fields."""
        return ("seed", *(f.name for f in fields(cls)))

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any], study: str | None = None) -> Self:
        """Build from a loaded config; missing keys take the defaults, ``seed`` is dropped.

        ``study`` names the study in the message on an unknown key (default:
        the last part of the module name, ``NAME`` of ``experiments.NAME``).

        Raises
        ------
        ConfigError
            On a key that is not one of :meth:`keys`, or a bad value.
        """
        keys = cls.keys()
        unknown = sorted(set(config) - set(keys))
        if unknown:
            study = study or cls.__module__.rpartition(".")[2]
            raise ConfigError(f"unknown {study} setting(s) {unknown}; allowed: {list(keys)}")
        return cls(**{k: v for k, v in config.items() if k != "seed"})


# ------------------------------------------------------------- field makers
def setting(default: Any, check: Callable[[str, Any], Any]) -> Any:
    """Return a settings field: its full-run ``default`` and ``check(key, value) -> value``.

    :meth:`Settings.check` stores what ``check`` returns (the value, normalized).
    """
    return field(default=default, metadata={"check": check})


def integer(default: int, *, minimum: int | None = None, maximum: int | None = None) -> Any:
    """Return a field: an integer within the bounds (:func:`features.checks.check_int`)."""
    return setting(default, lambda key, v: check_int(key, v, minimum=minimum, maximum=maximum))


def integers(default: tuple[int, ...], *, minimum: int | None = None,
             maximum: int | None = None) -> Any:
    """Return a field: a non-empty list of distinct integers (:func:`features.checks.check_ints`).

    The bounds apply to every integer.
    """
    return setting(default, lambda key, v: check_ints(key, v, minimum=minimum, maximum=maximum))


def real(default: float, *, low: float | None = None, high: float | None = None,
         low_ok: bool = False, high_ok: bool = False) -> Any:
    """Return a field: a finite number within the bounds (:func:`features.checks.check_real`)."""
    return setting(default, lambda key, v: check_real(key, v, low=low, high=high,
                                                      low_ok=low_ok, high_ok=high_ok))


def probability(default: float, *, zero_ok: bool = False, one_ok: bool = False) -> Any:
    """Return a field: a number in the unit interval (:func:`features.checks.check_probability`)."""
    return setting(default, lambda key, v: check_probability(key, v, zero_ok=zero_ok,
                                                             one_ok=one_ok))


def choice(default: str, allowed: Sequence[str]) -> Any:
    """Return a field: one name of ``allowed`` (:func:`features.checks.check_choice`)."""
    return setting(default, lambda key, v: check_choice(key, v, allowed))


def choices(default: tuple[str, ...], allowed: Sequence[str]) -> Any:
    """Return a field: a non-empty list of distinct names of ``allowed``.

    See :func:`features.checks.check_choices`.
    """
    return setting(default, lambda key, v: check_choices(key, v, allowed))


def numbers(default: tuple[float, ...], *, distinct: bool = False, sort: bool = False,
            **bounds: Any) -> Any:
    """Return a field: a non-empty list of numbers, each within ``bounds`` (as for :func:`real`).

    ``distinct`` rejects repeated values; ``sort`` stores them sorted and
    deduplicated.

    Examples
    --------
    >>> numbers((), low=0).metadata["check"]("gaps", [])
    Traceback (most recent call last):
    ...
    experiments.harness.config.ConfigError: gaps must be a non-empty list of numbers, got []
    """
    def check(key: str, value: Any) -> tuple[float, ...]:
        what = "distinct numbers" if distinct else "numbers"
        if isinstance(value, str) or not isinstance(value, list | tuple) or not value or (
                distinct and len(set(value)) != len(value)):
            raise ConfigError(f"{key} must be a non-empty list of {what}, got "
                              f"{format_value(value)}")
        out = tuple(check_real(key, v, **bounds) for v in value)
        return tuple(sorted(set(out))) if sort else out

    return setting(default, check)


@dataclass(frozen=True)
class CohortSettings(Settings):
    """The design keys of a study of cohorts from :func:`features.simulate.simulate_cohort`.

    ``n_cohorts`` seeded cohorts of ``n_patients`` x ``n_weeks``, a share
    ``missing`` of patient-weeks missing and a share ``dropout`` of patients
    dropping out. A study redeclares a key to change its default or bounds.
    """

    n_cohorts: int = integer(200, minimum=1)
    n_patients: int = integer(226, minimum=2)
    n_weeks: int = integer(13, minimum=4)
    missing: float = probability(0.0, zero_ok=True)
    dropout: float = probability(0.0, zero_ok=True, one_ok=True)
