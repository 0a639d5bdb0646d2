"""Lazy public APIs (PEP 562) for the ``causal`` and ``features`` packages.

A package lists its public names and the module that defines each; a name is
imported on first attribute access, so importing the package (and starting the
command line) costs nothing until a name is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_api"]


def lazy_api(package: str, names: Mapping[str, str],
             namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the module ``__getattr__`` and ``__dir__`` of a lazily loaded package.

    Parameters
    ----------
    package : str
        The package's ``__name__`` (for error messages).
    names : mapping of str to str
        Public name -> dotted module that defines it.
    namespace : dict
        The package's ``globals()``; a loaded name is cached there, so the
        import happens once.

    Examples
    --------
    >>> ns = {}
    >>> getattr_, dir_ = lazy_api("demo", {"sqrt": "math"}, ns)
    >>> getattr_("sqrt")(9.0), "sqrt" in ns
    (3.0, True)
    >>> getattr_("nope")
    Traceback (most recent call last):
    ...
    AttributeError: module 'demo' has no attribute 'nope'
    """

    def load(name: str) -> Any:
        try:
            module = names[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def listing() -> list[str]:
        return sorted(set(namespace) | set(names))

    return load, listing
