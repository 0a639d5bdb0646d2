"""One parallel map for bootstraps, per-patient fits and experiment loops.

:func:`parallel_map` runs ``func`` over a list of tasks with :mod:`joblib` and
returns the results **in task order**, whatever the number of workers or the
order in which they finish. Determinism is the caller's side of the contract:
each task must carry all its randomness (e.g. a seed drawn up front), so the
results are the same with ``n_jobs=1``, ``n_jobs=2`` or on a cluster.

Where the work runs:

* ``n_jobs=1`` (default): sequentially in this process;
* ``n_jobs=N`` / ``-1``: ``N`` / all local cores, in joblib's default
  process-based backend (loky), or whatever backend a surrounding
  :func:`joblib.parallel_config` sets;
* ``scheduler="tcp://host:8786"``: on a Dask cluster. The address of a running
  ``dask.distributed`` scheduler is connected to with a
  :class:`distributed.Client`, and joblib's ``"dask"`` backend sends the tasks
  to its workers (``n_jobs=1`` then means "every worker"). Needs the ``dask``
  extra (``pip install 'therapy-pcmci[dask]'``); the workers must be able to
  import this package. An unreachable address fails after
  :data:`CONNECT_TIMEOUT` seconds with a :class:`SchedulerError`.

A :mod:`tqdm` progress bar (see :mod:`causal.resampling.progress`) counts finished tasks.

Examples
--------
>>> parallel_map(abs, [-2, 3, -1])
[2, 3, 1]
>>> check_n_jobs(0)
Traceback (most recent call last):
...
features.errors.InputError: n_jobs must be a positive integer or -1, got 0
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import joblib

from causal.resampling.progress import progress_bar
from features.errors import InputError, is_integer

__all__ = ["CONNECT_TIMEOUT", "SchedulerError", "check_n_jobs", "dask_backend", "parallel_map"]

logger = logging.getLogger(__name__)

#: Seconds to wait for a Dask scheduler before giving up.
CONNECT_TIMEOUT = 5.0

T = TypeVar("T")
R = TypeVar("R")


class SchedulerError(InputError):
    """A Dask scheduler that cannot be used (dask missing, address unreachable)."""


def check_n_jobs(n_jobs: Any, *, allow_none: bool = False) -> int | None:
    """Return ``n_jobs`` if it is a positive integer or -1, else raise ``InputError``.

    Parameters
    ----------
    n_jobs : int or None
        Number of workers; -1 uses every core.
    allow_none : bool
        Accept ``None`` (joblib's default: 1, unless a surrounding
        :func:`joblib.parallel_config` sets it).
    """
    if n_jobs is None and allow_none:
        return None
    if not is_integer(n_jobs) or n_jobs == 0 \
            or n_jobs < -1:
        raise InputError(f"n_jobs must be a positive integer or -1, got {n_jobs!r}")
    return int(n_jobs)


@contextmanager
def dask_backend(scheduler: str, *, timeout: float | None = None) -> Iterator[Any]:
    """Connect to a Dask scheduler and make it joblib's backend inside the block.

    Parameters
    ----------
    scheduler : str
        Address of a running ``dask.distributed`` scheduler, e.g.
        ``"tcp://10.0.0.5:8786"``.
    timeout : float, optional
        Seconds to wait for the connection (default :data:`CONNECT_TIMEOUT`).

    Yields
    ------
    distributed.Client
        The connected client (closed on exit).

    Raises
    ------
    SchedulerError
        If ``dask.distributed`` is not installed or the scheduler cannot be
        reached within ``timeout`` seconds.
    """
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise SchedulerError(f"scheduler must be the address of a Dask scheduler, e.g. "
                             f"'tcp://127.0.0.1:8786', got {scheduler!r}")
    timeout = CONNECT_TIMEOUT if timeout is None else float(timeout)
    try:
        from distributed import Client
    except ImportError as exc:
        raise SchedulerError(
            "a Dask scheduler needs dask.distributed, which is not installed: "
            "pip install 'therapy-pcmci[dask]' (or: pip install 'dask[distributed]')") from exc
    try:
        client = Client(scheduler, timeout=f"{float(timeout):g}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler!r} within "
                             f"{float(timeout):g} s: {exc}") from exc
    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        logger.info("connected to Dask scheduler %s (%d workers)", scheduler, n_workers)
        with joblib.parallel_config(backend="dask", client=client):
            yield client
    finally:
        client.close()


def parallel_map(func: Callable[[T], R], tasks: Iterable[T], *, n_jobs: int | None = 1,
                 scheduler: str | None = None, progress: bool | None = None,
                 desc: str = "") -> list[R]:
    """Apply ``func`` to every task, possibly in parallel, and keep task order.

    Parameters
    ----------
    func : callable
        Called as ``func(task)``. For ``n_jobs != 1`` or a scheduler it must be
        picklable (a module-level function) and should draw its randomness
        from seeds inside ``task``.
    tasks : iterable
        Arguments, one per call.
    n_jobs : int or None
        Local workers (-1: every core); ``None`` leaves it to a surrounding
        :func:`joblib.parallel_config`. With a scheduler, 1 means every worker.
    scheduler : str, optional
        Dask scheduler address (see the module docstring).
    progress : bool or None
        Progress bar on standard error; ``None``: only on a terminal.
    desc : str
        Label of the progress bar.

    Returns
    -------
    list
        ``[func(t) for t in tasks]``, in task order.
    """
    n_jobs = check_n_jobs(n_jobs, allow_none=True)
    tasks = list(tasks)
    where = f"Dask scheduler {scheduler}" if scheduler is not None else f"n_jobs={n_jobs}"
    logger.info("running %d %s task(s) with %s", len(tasks), desc or "parallel", where)
    out: list[R] = []
    step = max(1, len(tasks) // 10)
    with progress_bar(len(tasks), desc, progress=progress) as bar:
        for i, result in enumerate(_results(func, tasks, n_jobs, scheduler), start=1):
            out.append(result)
            bar.update(1)
            if i % step == 0 or i == len(tasks):
                logger.debug("finished %d/%d tasks", i, len(tasks))
    return out


def _results(func: Callable[[T], R], tasks: list[T], n_jobs: int | None,
             scheduler: str | None) -> Iterator[R]:
    """Yield ``func(task)`` in task order, running where the arguments say."""
    if scheduler is not None:
        with dask_backend(scheduler):
            yield from joblib.Parallel(n_jobs=-1 if n_jobs in (None, 1) else n_jobs,
                                       return_as="generator")(
                joblib.delayed(func)(t) for t in tasks)
        return
    if n_jobs == 1 or len(tasks) <= 1:
        yield from (func(t) for t in tasks)
        return
    yield from joblib.Parallel(n_jobs=n_jobs, return_as="generator")(
        joblib.delayed(func)(t) for t in tasks)
