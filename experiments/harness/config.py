"""Study configs: TOML files with a ``[quick]`` table, and the settings base class.

Every study ``NAME`` reads ``experiments/configs/NAME.toml``: its top-level
keys are the full run and its ``[quick]`` table overrides some of them for
``--quick`` (seconds, for CI). A study's settings are a frozen dataclass
deriving from :class:`Settings`: its fields are the config keys (plus
``seed``, which the harness handles), its :meth:`Settings.check` validates
them with :mod:`features.checks`, and every bad value raises
:class:`ConfigError` naming the key.

Examples
--------
>>> from dataclasses import dataclass
>>> from features.checks import check_int
>>> @dataclass(frozen=True)
... class Demo(Settings):
...     n_cohorts: int = 10
...     def check(self):
...         check_int("n_cohorts", self.n_cohorts, minimum=1)
>>> Demo.keys()
('seed', 'n_cohorts')
>>> Demo.from_mapping({"seed": 1, "n_cohorts": 3})
Demo(n_cohorts=3)
>>> Demo(n_cohorts=0)
Traceback (most recent call last):
...
experiments.harness.config.ConfigError: n_cohorts must be an integer >= 1, got 0
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Self

from features.errors import InputError

__all__ = ["CONFIG_DIR", "ConfigError", "Settings", "config_path", "load_config"]

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

    Subclasses declare their keys as fields with the full-run defaults and
    override :meth:`check`, which validates them (with :mod:`features.checks`)
    and may normalize a value with :meth:`_set` (say, a list to a tuple). Any
    :class:`~features.errors.InputError` it raises becomes a
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
        """Validate the settings (subclasses override); raise naming the key."""

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
