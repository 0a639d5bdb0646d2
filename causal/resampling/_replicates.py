"""Replicates of the patient cluster bootstrap (private; see :mod:`causal.resampling.bootstrap`).

A :class:`Job` holds what a worker needs (the fitted estimator, the patient of
every dataset and the link order); :func:`run_chunk` runs a chunk of
replicates given their per-patient counts.

Replicates never touch tigramite's structures: they run through the fitted
estimator's one internal hook, ``PanelPCMCI._rerun()`` (same algorithm, link
assumptions and settings, per-dataset weights; see
:class:`causal.discovery._tigramite.Rerun`), which returns a typed link table.
:func:`check_full_sample` guards the weighting by re-running the full sample
with unit weights.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from causal.discovery.estimator import PanelPCMCI
from features.errors import DataError

__all__ = ["Job", "Runner", "check_full_sample", "make_job", "run_chunk"]

logger = logging.getLogger(__name__)

_KEYS = ["source", "target", "lag"]


@dataclass(frozen=True, eq=False)
class Job:
    """Everything a worker needs to run replicates (small and picklable)."""

    estimator: PanelPCMCI  # fitted
    dataset_cluster: np.ndarray  # per dataset: index of its patient among the resampled
    keys: pd.DataFrame  # link order: source, target, lag

    def dataset_weights(self, counts: np.ndarray) -> np.ndarray:
        """Per-dataset weights from per-patient counts (unresampled datasets weigh 0)."""
        padded = np.append(np.asarray(counts, dtype=float), 0.0)
        return padded[self.dataset_cluster]


class Runner:
    """Runs replicates of one job in one process, sharing the pooled moments."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.rerun = job.estimator._rerun()
        self.order: tuple[list[Any], np.ndarray] = ([], np.arange(0))

    def run(self, counts: np.ndarray, seed: int) -> pd.DataFrame:
        """Return the link table of one replicate (rows in ``job.keys`` order)."""
        job = self.job
        table = self.rerun(job.dataset_weights(counts), seed=int(seed)).table
        if table["p_value"].isna().any():  # PanelPCMCI refuses such data too
            raise DataError("a test gave no p-value (too few samples in this replicate)")
        keys = list(zip(table["source"], table["target"], table["lag"], strict=True))
        if keys != self.order[0]:  # tigramite's order (fixed by the link assumptions)
            self.order = (keys, _positions(keys, job.keys))
        return table.iloc[self.order[1]].reset_index(drop=True)


def _positions(keys: list[tuple[str, str, int]], wanted: pd.DataFrame) -> np.ndarray:
    """Row positions in ``keys`` of every ``(source, target, lag)`` row of ``wanted``."""
    where = {k: i for i, k in enumerate(keys)}
    missing = [k for k in wanted.itertuples(index=False, name=None) if tuple(k) not in where]
    if missing or len(keys) != len(wanted):
        raise RuntimeError(f"internal: replicate links differ from the estimator's: {missing}")
    return np.array([where[tuple(k)] for k in wanted.itertuples(index=False, name=None)])


def run_chunk(task: tuple[Job, int, np.ndarray, np.ndarray]) -> dict[str, Any]:
    """Run replicates ``first, first+1, ...`` (a joblib / Dask task)."""
    from threadpoolctl import threadpool_limits

    job, first, counts, seeds = task
    n, n_links = len(counts), len(job.keys)
    value, pval = np.full((n, n_links), np.nan), np.full((n, n_links), np.nan)
    sig = np.zeros((n, n_links), dtype=bool)
    failed: dict[int, str] = {}
    with threadpool_limits(limits=1):  # same arithmetic in every process
        runner = Runner(job)
        for k in range(n):
            try:
                table = runner.run(counts[k], int(seeds[k]))
            except DataError as exc:
                failed[first + k] = str(exc)
                continue
            value[k] = table["value"].to_numpy(float)
            pval[k] = table["p_value"].to_numpy(float)
            sig[k] = table["significant"].to_numpy(bool)
    return {"value": value, "p_value": pval, "significant": sig, "failed": failed}


def make_job(est: PanelPCMCI) -> tuple[Job, list[Any]]:
    """Build the replicate job from a fitted estimator; return it and the resampled patients.

    Patients without any test sample are not resampled (they contribute
    nothing to any test).
    """
    blocks = est.blocks_
    has = blocks["n_samples"].to_numpy() > 0
    ids = blocks[est.panel_.id_col]
    patients = list(pd.unique(ids[has]))
    skipped = len(pd.unique(ids)) - len(patients)
    if skipped:
        logger.info("%d patient(s) without a complete test sample are not resampled", skipped)
    index = {p: i for i, p in enumerate(patients)}
    cluster = np.array([index.get(p, len(patients)) for p in ids], dtype=np.int64)
    keys = est.links_.table[_KEYS].reset_index(drop=True)
    return Job(estimator=est, dataset_cluster=cluster, keys=keys), patients


def check_full_sample(job: Job, est: PanelPCMCI) -> None:
    """Weights of 1 must reproduce the estimator's own fit (guards the replicate code)."""
    n_patients = int(job.dataset_cluster.max(initial=-1)) + 1
    table = Runner(job).run(np.ones(max(n_patients, 1)), 0)
    mine, theirs = table["value"].to_numpy(float), est.links_.table["value"].to_numpy(float)
    same_sig = np.array_equal(table["significant"].to_numpy(bool),
                              est.links_.table["significant"].to_numpy(bool))
    if not (np.allclose(mine, theirs, rtol=0, atol=1e-9, equal_nan=True) and same_sig):
        raise RuntimeError("internal: the bootstrap's re-run of the full sample differs from "
                           "the estimator's fit; the replicate code is out of date")
