"""Parallel map and truth of simulated cohorts.

Cohort seeds come from :func:`features.checks.spawn_seeds` (the one seeding
scheme), so a cohort's result depends only on the master seed, its stream and
its index, never on ``--n-jobs`` or execution order.

* :class:`CohortTask` / :func:`cohort_tasks` - the seeded cohorts of a
  simulation study, one task each for a worker process;
* :func:`cohort_table` - one cohort's tables, labelled and with the truth;
* :func:`map_cohorts` - parallel map in task order
  (:func:`causal.resampling.parallel.parallel_map`);
* :func:`true_values` - the simulated coefficient of each link of a result table.

Examples
--------
>>> from types import SimpleNamespace
>>> tasks = cohort_tasks(SimpleNamespace(n_cohorts=2), 7, scenarios=("null", "paper"))
>>> [(t.scenario, t.cohort) for t in tasks]
[('null', 0), ('null', 1), ('paper', 0), ('paper', 1)]
>>> map_cohorts(abs, [-2, 3, -1], n_jobs=1)
[2, 3, 1]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from causal.resampling.parallel import check_n_jobs, parallel_map
from features.checks import spawn_seeds
from features.scenarios import SCENARIO_NAMES, Scenario

__all__ = ["CohortTask", "cohort_table", "cohort_tasks", "map_cohorts", "true_values"]

T = TypeVar("T")
R = TypeVar("R")


# ------------------------------------------------------------------ tasks
@dataclass(frozen=True)
class CohortTask:
    """One seeded cohort of a simulation study: what a worker process needs.

    Attributes
    ----------
    config : Settings
        The study's settings (sample sizes, arms...).
    cohort : int
        Index of the cohort (within its scenario).
    seed : int
        Its seed, from :func:`features.checks.spawn_seeds`.
    scenario : str
        Name of the simulated scenario ("" when the study fixes it).
    """

    config: Any
    cohort: int
    seed: int
    scenario: str = ""


def cohort_tasks(config: Any, seed: int,
                 scenarios: Sequence[str] | None = None) -> list[CohortTask]:
    """Return the tasks of ``config.n_cohorts`` seeded cohorts (per scenario).

    Without ``scenarios``, cohort ``i`` uses
    ``spawn_seeds(seed, n_cohorts, stream=(0,))[i]``; with them, cohort ``i``
    of scenario ``s`` uses ``stream=(SCENARIO_NAMES.index(s),)``, so a
    scenario's cohorts do not depend on which other scenarios run.
    """
    if scenarios is None:
        return [CohortTask(config, i, s)
                for i, s in enumerate(spawn_seeds(seed, config.n_cohorts, stream=(0,)))]
    return [CohortTask(config, i, s, name) for name in scenarios
            for i, s in enumerate(spawn_seeds(seed, config.n_cohorts,
                                              stream=(SCENARIO_NAMES.index(name),)))]


def cohort_table(frames: Iterable[pd.DataFrame], task: CohortTask, scenario: Scenario,
                 columns: Sequence[str]) -> pd.DataFrame:
    """Concatenate one cohort's link tables, label them with the task, add ``true_value``.

    Parameters
    ----------
    frames : iterable of pandas.DataFrame
        Link tables (``source``, ``target``, ``lag``...), one per arm or method.
    task : CohortTask
        Adds the columns ``scenario``, ``cohort`` and ``seed``.
    scenario : Scenario
        The simulated scenario (:func:`true_values`).
    columns : sequence of str
        Columns to return, in order.
    """
    out = pd.concat(frames, ignore_index=True)
    out = out.assign(scenario=task.scenario, cohort=task.cohort, seed=task.seed,
                     true_value=true_values(scenario, out))
    return out[list(columns)]


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
