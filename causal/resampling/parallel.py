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

Stopping the workers. Local workers live in joblib's reusable loky executor,
which outlives :func:`parallel_map` so the next call can reuse them. A process
killed by SIGTERM runs no cleanup, and its loky workers and resource trackers
would be orphaned. :func:`shutdown_workers` kills the loky workers and closes
the Dask clients this module opened. :func:`workers_stopped_on_exit` wraps a
whole command: SIGTERM inside it raises :class:`Terminated` (a
:class:`SystemExit` with code 143, so ``finally`` blocks run), and every way
out of it calls :func:`shutdown_workers`. No function here starts a Dask
cluster, so no dashboard port is ever opened.

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
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import joblib

from causal.resampling.progress import progress_bar
from features.checks import check_bool
from features.errors import InputError, format_value, is_integer

__all__ = ["CONNECT_TIMEOUT", "SchedulerError", "Terminated", "check_execution", "check_n_jobs",
           "dask_backend", "parallel_map", "shutdown_workers", "workers_stopped_on_exit"]

logger = logging.getLogger(__name__)

#: Seconds to wait for a Dask scheduler before giving up.
CONNECT_TIMEOUT = 5.0

T = TypeVar("T")
R = TypeVar("R")

#: Dask clients opened by :func:`dask_backend` and not closed yet.
_open_clients: set[Any] = set()
_clients_lock = threading.Lock()


class SchedulerError(InputError):
    """A Dask scheduler that cannot be used (dask missing, address unreachable)."""


def check_n_jobs(n_jobs: Any, *, allow_none: bool = False) -> int | None:
    """Return ``n_jobs`` if it is a positive integer or -1, else raise :class:`InputError`.

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
    if not is_integer(n_jobs) or n_jobs == 0 or n_jobs < -1:
        raise InputError(f"n_jobs must be a positive integer or -1, "
                         f"got {format_value(n_jobs)}")
    return int(n_jobs)


def check_execution(n_jobs: Any, scheduler: Any, progress: Any, *,
                    allow_none: bool = False) -> None:
    """Check where work runs: workers, Dask scheduler and progress bars.

    ``n_jobs`` as in :func:`check_n_jobs`; ``scheduler`` a Dask scheduler
    address (a string) or None; ``progress`` True, False or None (automatic).

    >>> check_execution(2, None, None)
    >>> check_execution(1, 8786, None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    features.errors.InputError: scheduler must be a Dask scheduler address ... got int
    """
    check_n_jobs(n_jobs, allow_none=allow_none)
    if scheduler is not None and not isinstance(scheduler, str):
        raise InputError(f"scheduler must be a Dask scheduler address (a string) or None, "
                         f"got {type(scheduler).__name__}")
    if progress is not None:
        check_bool("progress", progress)


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
            "--scheduler needs dask.distributed, which is not installed: "
            "pip install 'therapy-pcmci[dask]' (or: pip install 'dask[distributed]')") from exc
    try:
        client = Client(scheduler, timeout=f"{float(timeout):g}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler!r} within "
                             f"{float(timeout):g} s: {exc}") from exc
    with _clients_lock:
        _open_clients.add(client)
    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        logger.info("connected to Dask scheduler %s (%d workers)", scheduler, n_workers)
        with joblib.parallel_config(backend="dask", client=client):
            yield client
    finally:
        with _clients_lock:
            _open_clients.discard(client)
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


# ------------------------------------------------------------ stopping workers
class Terminated(SystemExit):
    """Raised by :func:`workers_stopped_on_exit` when the process receives SIGTERM.

    A :class:`SystemExit` with code 143 (128 + SIGTERM): uncaught, the process
    exits with status 143 without a traceback, after ``finally`` blocks ran.
    """

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


def shutdown_workers(*, trackers: bool = False, timeout: float = 5.0) -> None:
    """Stop every worker process :func:`parallel_map` may have started.

    * joblib's reusable loky executor is terminated with its workers killed
      (a running task is abandoned) and its shared temporary folder removed;
    * the Dask clients opened by :func:`dask_backend` and still open are
      closed, so the scheduler cancels their tasks (the remote workers belong
      to the cluster and keep running).

    Safe to call at any time and more than once; the next :func:`parallel_map`
    starts fresh workers. The resource trackers loky started (its own and
    :mod:`multiprocessing`'s) are left running by default: they exit by
    themselves with this process, once no worker holds their pipe.

    Parameters
    ----------
    trackers : bool
        Also stop those resource trackers now, so that no child process is
        left. Only for a process done with multiprocessing: the trackers then
        unlink every shared object still registered with them, e.g. the
        semaphores of a Dask ``LocalCluster`` running in this process.
    timeout : float
        Seconds to wait for each resource tracker to exit.

    Examples
    --------
    >>> parallel_map(abs, [-1, 2], n_jobs=2)
    [1, 2]
    >>> shutdown_workers()
    """
    with _clients_lock:
        clients = list(_open_clients)
        _open_clients.clear()
    for client in clients:
        try:
            client.close(timeout=timeout)
        except Exception as exc:  # a dead scheduler must not stop the cleanup
            logger.debug("closing Dask client %s failed: %s", client, exc)
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor  # not get_reusable_executor(): that starts one
    if executor is not None:
        logger.debug("terminating joblib's loky executor and its workers")
        terminate = getattr(executor, "terminate", None)  # joblib's MemmappingExecutor
        if terminate is not None:
            terminate(kill_workers=True)
        else:
            executor.shutdown(wait=True, kill_workers=True)
        with reusable_executor._executor_lock:
            if reusable_executor._executor is executor:
                reusable_executor._executor = None
    if trackers and os.name == "posix":
        import multiprocessing.resource_tracker as mp_tracker

        from joblib.externals.loky.backend import resource_tracker as loky_tracker

        for tracker in (loky_tracker._resource_tracker, mp_tracker._resource_tracker):
            _stop_tracker(tracker, timeout)


def _stop_tracker(tracker: Any, timeout: float) -> None:
    """Stop a resource tracker like ``ResourceTracker._stop``, waiting at most ``timeout`` s.

    Closing the tracker's pipe makes it exit as soon as no other process holds
    the pipe (the workers are dead by now); a tracker still held is left to
    exit on its own. It restarts on demand (``ensure_running``).
    """
    with tracker._lock:
        fd, pid = getattr(tracker, "_fd", None), getattr(tracker, "_pid", None)
        if fd is None or pid is None:
            return
        os.close(fd)
        tracker._fd = None
        deadline = time.monotonic() + timeout
        try:
            while os.waitpid(pid, os.WNOHANG)[0] == 0:
                if time.monotonic() > deadline:
                    logger.debug("resource tracker %d still running after %g s", pid, timeout)
                    break
                time.sleep(0.01)
        except ChildProcessError:  # already reaped
            pass
        tracker._pid = None


@contextmanager
def workers_stopped_on_exit() -> Iterator[None]:
    """Run a block (a whole command) so that no worker process outlives it.

    Inside the block SIGTERM raises :class:`Terminated` (exit status 143)
    instead of killing the process on the spot, so ``finally`` blocks and
    cleanups run; on every way out (normal end, error, SIGINT, SIGTERM)
    :func:`shutdown_workers` is called. The previous SIGTERM handler is restored
    on exit. Outside the main thread no handler can be installed and only the
    shutdown is done.

    Examples
    --------
    >>> with workers_stopped_on_exit():
    ...     parallel_map(abs, [-1, 2], n_jobs=2)
    [1, 2]
    """
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main else None
    try:
        yield
    finally:
        if in_main:  # a second SIGTERM must not cut the shutdown short
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            shutdown_workers()
        finally:
            if in_main:
                signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _raise_terminated(signum: int, frame: Any) -> None:
    """SIGTERM handler of :func:`workers_stopped_on_exit`."""
    raise Terminated
