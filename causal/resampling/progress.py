"""Progress bars for long runs: bootstraps, per-patient fits, experiment loops.

Bars are drawn by :mod:`tqdm` on standard error, so standard output and the
files written stay clean. ``progress=None`` (the default everywhere) means
*automatic*: a bar is shown only when standard error is a terminal, so logs,
CI and pipes never receive bar updates. ``progress=False`` (the command
line's ``--quiet``) turns bars off, ``True`` forces them on.

Examples
--------
>>> import io
>>> progress_enabled(False), progress_enabled(True)
(False, True)
>>> progress_enabled(None, stream=io.StringIO())  # not a terminal
False
>>> with progress_bar(3, "demo", progress=False) as bar:
...     bar.update(3)
...     bar.disable
True
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

from tqdm import tqdm

__all__ = ["progress_bar", "progress_enabled"]

logger = logging.getLogger(__name__)


def progress_enabled(progress: bool | None, *, stream: IO[str] | None = None) -> bool:
    """Decide whether to draw a progress bar.

    Parameters
    ----------
    progress : bool or None
        ``True``/``False`` force the bar on/off; ``None`` shows it only when
        ``stream`` is a terminal.
    stream : file-like, optional
        Where the bar would go (default: the current :data:`sys.stderr`).

    Returns
    -------
    bool
    """
    if progress is not None:
        if not isinstance(progress, bool):
            raise ValueError(f"progress must be True, False or None, got {progress!r}")
        return progress
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # closed or detached stream
        return False


def progress_bar(total: int, desc: str = "", *, progress: bool | None = None,
                 unit: str = "it") -> Any:
    """Return a :class:`tqdm.tqdm` bar on standard error (a silent one when disabled).

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        Label in front of the bar.
    progress : bool or None
        See :func:`progress_enabled`.
    unit : str
        Name of one step.

    Returns
    -------
    tqdm.tqdm
        Use as a context manager and call ``update(n)``; a disabled bar
        (``bar.disable``) writes nothing.
    """
    enabled = progress_enabled(progress)
    return tqdm(total=int(total), desc=desc or None, unit=unit, file=sys.stderr,
                disable=not enabled, leave=False, dynamic_ncols=True)
