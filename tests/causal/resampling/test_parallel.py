from __future__ import annotations

import sys
import time

import joblib
import pytest

from causal.resampling import parallel
from causal.resampling.parallel import SchedulerError, check_n_jobs, dask_backend, parallel_map

TASKS = [-5, 3, -1, 8, -2, 0, 7]


@pytest.mark.parametrize("n_jobs", [1, 2, -1, None])
def test_results_in_task_order_whatever_n_jobs(n_jobs):
    assert parallel_map(abs, TASKS, n_jobs=n_jobs) == [abs(t) for t in TASKS]
    assert parallel_map(abs, reversed(TASKS), n_jobs=n_jobs) == [abs(t) for t in TASKS[::-1]]
    assert parallel_map(abs, [], n_jobs=n_jobs) == []


def test_surrounding_joblib_config_is_respected_with_n_jobs_none():
    # n_jobs=None leaves backend and workers to joblib.parallel_config
    with joblib.parallel_config(backend="threading", n_jobs=2):
        assert parallel_map(abs, TASKS, n_jobs=None) == [abs(t) for t in TASKS]


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_bad_n_jobs(bad):
    with pytest.raises(ValueError, match="n_jobs must be a positive integer or -1"):
        parallel_map(abs, TASKS, n_jobs=bad)
    with pytest.raises(ValueError, match="n_jobs"):
        check_n_jobs(bad, allow_none=True)
    assert check_n_jobs(None, allow_none=True) is None
    with pytest.raises(ValueError, match="n_jobs"):
        check_n_jobs(None)


def test_progress_bar_goes_to_stderr_only_when_asked(capsys):
    parallel_map(abs, TASKS, progress=True, desc="demo tasks")
    out, err = capsys.readouterr()
    assert out == "" and "demo tasks" in err and "/7" in err
    for progress in (False, None):  # None: stderr is captured here, not a terminal
        parallel_map(abs, TASKS, progress=progress, desc="demo tasks")
        out, err = capsys.readouterr()
        assert out == err == ""


# ---------------------------------------------------------------------- dask
def test_unreachable_scheduler_fails_fast_and_clearly(monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 1.0)
    start = time.perf_counter()
    with pytest.raises(SchedulerError, match=r"cannot reach the Dask scheduler at "
                                             r"'tcp://127.0.0.1:9' within 1 s"):
        parallel_map(abs, TASKS, scheduler="tcp://127.0.0.1:9")
    assert time.perf_counter() - start < 10
    with pytest.raises(SchedulerError, match="address of a Dask scheduler"):
        with dask_backend(""):
            pass


def test_missing_dask_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    with pytest.raises(SchedulerError, match=r"pip install 'therapy-pcmci\[dask\]'"):
        parallel_map(abs, TASKS, scheduler="tcp://127.0.0.1:8786")
    assert issubclass(SchedulerError, ValueError)  # the CLI reports it as error:, exit 2


def test_local_dask_cluster_runs_the_same_map():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        got = parallel_map(abs, TASKS, scheduler=cluster.scheduler_address)
        also = parallel_map(abs, TASKS, n_jobs=2, scheduler=cluster.scheduler_address)
    assert got == also == [abs(t) for t in TASKS]
