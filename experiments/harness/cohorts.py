"""Parallel map and truth of simulated cohorts.

Cohort seeds come from :func:`features.checks.spawn_seeds` (the one seeding
scheme), so a cohort's result depends only on the master seed, its stream and
its index, never on ``--n-jobs`` or execution order.

* :func:`map_cohorts` - parallel map in task order
  (:func:`causal.resampling.parallel.parallel_map`);
* :func:`true_values` - the simulated coefficient of each link of a result table.

Examples
--------
>>> map_cohorts(abs, [-2, 3, -1], n_jobs=1)
[2, 3, 1]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import numpy as np
import pandas as pd

from causal.resampling.parallel import check_n_jobs, parallel_map
from features.scenarios import Scenario

__all__ = ["map_cohorts", "true_values"]

T = TypeVar("T")
R = TypeVar("R")


# --------------------------------------------------------------- parallel
def map_cohorts(func: Callable[[T], R], tasks: Iterable[T], n_jobs: int = 1, *,
                scheduler: str | None = None, progress: bool | None = None) -> list[R]:
    """Apply ``func`` to every task, in parallel worker processes, keeping task order.

    Delegates to :func:`causal.resampling.parallel.parallel_map`.

    Parameters
    ----------
    func : callable
        Called as ``func(task)``; must be picklable (a module-level function)
        and should draw all its randomness from seeds inside ``task``.
    tasks : iterable
        Arguments, one per call.
    n_jobs : int
        Worker processes (joblib's loky backend); 1 runs in this process, -1
        uses every core.
    scheduler : str, optional
        Address of a Dask scheduler to run the tasks on instead.
    progress : bool or None
        Progress bar on standard error; None: only when it is a terminal.

    Returns
    -------
    list
        ``[func(t) for t in tasks]``, in task order whatever ``n_jobs`` is.
    """
    return parallel_map(func, tasks, n_jobs=check_n_jobs(n_jobs), scheduler=scheduler,
                        progress=progress, desc="cohorts")


# ------------------------------------------------------------------ truth
def true_values(scenario: Scenario, links: pd.DataFrame) -> np.ndarray:
    """Return the simulated coefficient of every ``source -> target`` row of ``links``.

    The lag-1 entry of :meth:`~features.simulate.Scenario.transition_matrix`
    (autoregressive on the diagonal, 0.0 for an absent cross-lagged effect);
    rows at other lags are 0.0, as the simulated process is a VAR(1).

    Parameters
    ----------
    scenario : Scenario
        The simulated scenario.
    links : pandas.DataFrame
        Columns ``source``, ``target`` and ``lag``.

    Examples
    --------
    >>> from features.scenarios import get_scenario
    >>> links = pd.DataFrame({"source": ["fear_others", "depression", "depression"],
    ...                       "target": ["depression", "self_compassion", "depression"],
    ...                       "lag": [1, 2, 1]})
    >>> true_values(get_scenario("paper"), links).round(2).tolist()
    [0.12, 0.0, 0.3]
    """
    a = scenario.transition_matrix()
    index = {v: i for i, v in enumerate(scenario.variables)}
    return np.array([float(a[index[t], index[s]]) if lag == 1 else 0.0
                     for s, t, lag in zip(links["source"], links["target"], links["lag"],
                                          strict=True)], dtype=float)
