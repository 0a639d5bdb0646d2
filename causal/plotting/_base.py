"""Saving and input checks shared by the figure modules of :mod:`causal.plotting`.

Figures are written in each requested format next to a path stem; SVG output
is byte-reproducible (a fixed ``svg.hashsalt``, no creation date).

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     [p.name for p in _save(Figure(), Path(tmp) / "empty", ("png", "svg"))]
['empty.png', 'empty.svg']
>>> _require(pd.DataFrame({"a": [1]}), ["a", "b"], "table")
Traceback (most recent call last):
...
ValueError: table lacks column(s) ['b']; it has ['a']
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["_DEFAULT_FORMATS", "_numeric", "_require", "_save", "_saves_figure"]

logger = logging.getLogger(__name__)

_DEFAULT_FORMATS: tuple[str, ...] = ("png", "svg")

# The docstring text every ``plot_*`` function shares, filled in by :func:`_saves_figure`.
_SAVING_DOCS: dict[str, str] = {
    "%(path_stem)s": """path_stem, formats : str or Path, iterable of str
    Output path without suffix (``.<format>`` is appended) and the file
    formats to write.""",
    "%(returns)s": """Returns
-------
list of Path
    The written files, in the order of ``formats``.""",
}

_F = TypeVar("_F", bound=Callable[..., Any])


def _saves_figure(func: _F) -> _F:
    """Fill the ``%(path_stem)s`` and ``%(returns)s`` lines of ``func``'s docstring.

    >>> @_saves_figure
    ... def plot(path_stem, formats=_DEFAULT_FORMATS):
    ...     '''Plot.
    ...
    ...     %(returns)s
    ...     '''
    >>> print(plot.__doc__.splitlines()[-2].strip())
    The written files, in the order of ``formats``.
    """
    lines = []
    for line in (func.__doc__ or "").splitlines():
        shared = _SAVING_DOCS.get(line.strip())
        if shared is None:
            lines.append(line)
            continue
        indent = line[:len(line) - len(line.lstrip())]
        lines += [indent + text if text else "" for text in shared.splitlines()]
    func.__doc__ = "\n".join(lines)
    return func


def _save(fig: Figure, path_stem: str | Path, formats: Iterable[str]) -> list[Path]:
    """Write ``fig`` as ``<path_stem>.<fmt>`` for every format, reproducibly."""
    fmts = (formats,) if isinstance(formats, str) else tuple(formats)
    if not fmts:
        raise ValueError("formats must name at least one file format, e.g. ('png', 'svg')")
    supported = fig.canvas.get_supported_filetypes()
    unknown = [f for f in fmts if f not in supported]
    if unknown:
        raise ValueError(f"unsupported figure format(s) {unknown}; choose from {sorted(supported)}")
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    with mpl.rc_context({"svg.hashsalt": "therapy-pcmci"}):
        for fmt in fmts:
            path = stem.parent / f"{stem.name}.{fmt}"
            metadata = {"Date": None} if fmt in ("svg", "png", "pdf") else None
            fig.savefig(path, format=fmt, metadata=metadata)
            paths.append(path)
    logger.debug("wrote %s", ", ".join(map(str, paths)))
    return paths


def _require(table: Any, columns: Iterable[str], what: str) -> pd.DataFrame:
    """Check ``table`` is a non-empty DataFrame holding ``columns``."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; it has {list(table.columns)}")
    if table.empty:
        raise ValueError(f"{what} has no rows")
    return table


def _numeric(table: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """Return ``table[column]`` as floats, naming the column when it is not numeric."""
    try:
        return pd.to_numeric(table[column], errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} column {column!r} must be numeric: {err}") from None
