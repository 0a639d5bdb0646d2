"""Patient (cluster) bootstrap of a pooled discovery run.

tigramite's ``run_bootstrap_of`` resamples blocks of time within series, which
says nothing about how an edge would fare in *another sample of patients*.
:class:`ClusterBootstrap` resamples **patients** with replacement, the
resampling unit of a panel whose patients are independent and whose weeks are
not: the cluster (pairs / case) bootstrap of Field & Welsh (2007, *J R Stat
Soc B* 69:369-390) and Cameron, Gelbach & Miller (2008, *Rev Econ Stat*
90:414-427). Each of ``n_boot`` replicates draws ``n`` patients out of the
``n`` analysed ones, re-runs the same algorithm with the same settings
(tigramite's PCMCI or PCMCI+, same ``tau_max``, ``alpha``, ``pc_alpha``,
``fdr``, background knowledge) and records every link's value, p-value and
significance.

How a replicate is computed
---------------------------
The data are prepared once (validation, within-person transform, lags), so a
replicate is the fitted sample with some patients counted several times and
others left out. A patient drawn ``m`` times gets weight ``m`` (multinomial
counts); every block (segment, day) of a patient shares that weight. With the
default ``ci_test="parcorr"`` the pooled engine
(:meth:`causal.discovery.engine.PooledParCorr.with_weights`) re-pools the per-patient
sufficient statistics with these weights, which is **exactly** the analysis
of a data set in which each patient is physically duplicated ``m`` times under
new ids (to rounding, ~1e-15; tested to 1e-9): sample sizes, partial
correlations, p-values, intervals and the within-transform degrees of freedom
(``df_loss``: 2 per detrended patient copy, given per dataset and weighted) all
count a duplicated patient twice. Other tests (``parcorr-tigramite``,
``robust_parcorr``, ``gpdc``, ``cmiknn``) are run on that physically
duplicated data set instead: correct, but a full tigramite run per replicate
(slow; CMIknn and GPDC get one seed per replicate).

Patients who contribute no complete test sample (e.g. every week has a
missing value) are not resampled. All randomness is drawn up front from one
``numpy.random.default_rng(random_state)``: the ``n_boot x n_patients``
weight matrix, then one seed per replicate; replicates run in chunks through
:func:`causal.resampling.parallel.parallel_map` with BLAS limited to one thread, so the
results depend only on ``random_state``, never on ``n_jobs`` or a Dask
``scheduler``. The replicate machinery lives in :mod:`causal.resampling._replicates`.

Examples
--------
>>> from features.simulate import simulate_cohort
>>> df = simulate_cohort("paper", n_patients=60, n_weeks=13, random_state=1)
>>> boot = ClusterBootstrap(n_boot=20, random_state=0).fit(df)
>>> boot.edges_.columns.tolist()[:4]
['source', 'target', 'lag', 'frequency']
>>> len(boot.replicates_) == 20 * len(boot.estimator_.links_.table)
True
>>> bool(boot.edges_["frequency"].between(0, 1).all())
True
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from causal.discovery.estimator import PanelPCMCI, template_of
from causal.discovery.links import format_link
from causal.resampling._replicates import Job, check_full_sample, make_job, run_chunk
from causal.resampling.parallel import check_execution, parallel_map
from features.checks import check_int, check_probability, check_seed
from features.errors import DataError
from features.panel import Panel

__all__ = [
    "EDGE_COLUMNS",
    "STABLE_FREQUENCY",
    "BootstrapResult",
    "ClusterBootstrap",
    "bootstrap_section",
]

logger = logging.getLogger(__name__)

#: Columns of :attr:`ClusterBootstrap.edges_` (and ``bootstrap.csv``).
EDGE_COLUMNS = ("source", "target", "lag", "frequency", "mean", "sd", "boot_low", "boot_high",
                "share_positive", "share_negative", "n_boot")
#: Edges found in at least this share of replicates are called stable.
STABLE_FREQUENCY = 0.9
_REPLICATE_COLUMNS = ("replicate", "source", "target", "lag", "value", "p_value", "significant")


# ------------------------------------------------------------------ result
@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Summary of a cluster bootstrap (see :class:`ClusterBootstrap`).

    Attributes
    ----------
    edges : pandas.DataFrame
        :attr:`ClusterBootstrap.edges_`.
    n_boot, n_failed : int
        Replicates requested, and those that could not be analysed (excluded
        from ``edges``; listed in :attr:`ClusterBootstrap.failures_`).
    n_patients : int
        Patients resampled.
    ci_level : float
        Level of the percentile intervals.
    method, ci_test : str
        Discovery algorithm and test.
    alpha : float
        Significance level of every replicate.
    seconds : float
        Wall-clock time of the replicates.
    """

    edges: pd.DataFrame
    n_boot: int
    n_failed: int
    n_patients: int
    ci_level: float
    method: str
    ci_test: str
    alpha: float
    seconds: float = math.nan

    def __str__(self) -> str:
        ok = self.n_boot - self.n_failed
        head = (f"Cluster bootstrap: {ok} of {self.n_boot} replicates of {self.n_patients} "
                f"patients resampled with replacement ({self.method.upper()}, {self.ci_test}, "
                f"alpha={self.alpha:g}; {100 * self.ci_level:g}% percentile intervals)")
        e = self.edges.assign(auto=self.edges["source"] == self.edges["target"])
        e = e.sort_values(["auto", "frequency", "lag"], ascending=[True, False, True],
                          kind="stable")
        lines = [head]
        for r in e.itertuples(index=False):
            word = ("STABLE" if r.frequency >= STABLE_FREQUENCY else
                    "FREQUENT" if r.frequency >= 0.5 else "RARE")
            lines.append(
                f"  {format_link(r.source, r.target, r.lag)}: {word}, significant in "
                f"{r.frequency:.1%} of replicates (+{r.share_positive:.1%} / "
                f"-{r.share_negative:.1%}), mean {r.mean:+.3f}, interval "
                f"[{r.boot_low:+.3f}, {r.boot_high:+.3f}]")
        return "\n".join(lines)


# --------------------------------------------------------------- estimator
class ClusterBootstrap(BaseEstimator):
    """Resample patients with replacement and re-run discovery on each replicate.

    A scikit-learn estimator: ``clone``, ``get_params(deep=True)`` (with
    ``estimator__tau_max`` and the like) and ``set_params`` work, and the
    parameters are checked in :meth:`fit`.

    Parameters
    ----------
    estimator : PanelPCMCI, optional
        Template (cloned, so it is never fitted itself); default
        ``PanelPCMCI()``.
    n_boot : int, default 1000
        Number of replicates B.
    ci_level : float, default 0.95
        Level of the percentile intervals ``boot_low``/``boot_high``.
    random_state : int, numpy.random.Generator or None
        Seed of the patient draws.
    n_jobs : int, default 1
        Local worker processes (-1: all cores); see
        :func:`causal.resampling.parallel.parallel_map`.
    scheduler : str, optional
        Address of a Dask scheduler to run the replicates on.
    progress : bool or None
        Progress bar on standard error (None: only on a terminal).

    Attributes
    ----------
    estimator_ : PanelPCMCI
        Fitted once on the full sample.
    edges_ : pandas.DataFrame
        One row per tested link, columns :data:`EDGE_COLUMNS`: ``frequency``
        (share of replicates in which the link is significant), ``mean`` and
        ``sd`` of its value, the percentile interval ``boot_low``/``boot_high``
        at ``ci_level``, ``share_positive``/``share_negative`` (share of
        replicates significant with that sign) and ``n_boot`` (replicates
        analysed).
    replicates_ : pandas.DataFrame
        Long table: ``replicate, source, target, lag, value, p_value,
        significant``.
    weights_ : pandas.DataFrame
        Replicates x patients: how often each patient was drawn.
    failures_ : pandas.DataFrame
        ``replicate, error`` of replicates that could not be analysed.
    result_ : BootstrapResult
        Frozen summary with a readable ``str``.
    """

    def __init__(self, estimator: PanelPCMCI | None = None, *, n_boot: int = 1000,
                 ci_level: float = 0.95, random_state: int | np.random.Generator | None = None,
                 n_jobs: int = 1, scheduler: str | None = None,
                 progress: bool | None = None) -> None:
        self.estimator = estimator
        self.n_boot = n_boot
        self.ci_level = ci_level
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.scheduler = scheduler
        self.progress = progress

    def _check_params(self) -> PanelPCMCI:
        """Check the parameters; return an unfitted clone of the template."""
        template = template_of(self.estimator)
        check_int("n_boot", self.n_boot, minimum=1)
        check_probability("ci_level", self.ci_level)
        check_execution(self.n_jobs, self.scheduler, self.progress)
        if not isinstance(self.random_state, np.random.Generator):
            check_seed("random_state", self.random_state)
        return template

    # ------------------------------------------------------------------- fit
    def fit(self, data: Panel | pd.DataFrame, **fit_kwargs: Any) -> ClusterBootstrap:
        """Fit the estimator on the full sample, then on ``n_boot`` patient resamples.

        Parameters
        ----------
        data : Panel or pandas.DataFrame
            As for :meth:`PanelPCMCI.fit <causal.discovery.estimator.PanelPCMCI.fit>`.
        **fit_kwargs
            ``id_col``, ``time_col``, ``variables``, ``segments``.

        Returns
        -------
        self : ClusterBootstrap
            Fitted, with the attributes listed in the class docstring.

        Raises
        ------
        InputError
            If a parameter is invalid (the message names it).
        DataError
            If the full-sample fit fails, or every replicate does.
        """
        est = self._check_params().fit(data, **fit_kwargs)
        self.estimator_ = est
        job, patients = make_job(est)
        rng = np.random.default_rng(self.random_state)
        n, n_boot = len(patients), int(self.n_boot)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)
        seeds = rng.integers(0, 2**31 - 1, size=n_boot)
        self.weights_ = pd.DataFrame(counts, columns=pd.Index(patients, name=est.panel_.id_col),
                                     index=pd.RangeIndex(n_boot, name="replicate"))
        check_full_sample(job, est)
        size = max(1, math.ceil(n_boot / 40))
        tasks = [(job, s, counts[s:s + size], seeds[s:s + size]) for s in range(0, n_boot, size)]
        start = time.perf_counter()
        parts = parallel_map(run_chunk, tasks, n_jobs=self.n_jobs, scheduler=self.scheduler,
                             progress=self.progress, desc=f"bootstrap ({n_boot} replicates)")
        seconds = time.perf_counter() - start
        self._collect(job, parts, n_boot, n, seconds)
        logger.info("cluster bootstrap: %d replicates in %.1f s (%d failed)", n_boot, seconds,
                    len(self.failures_))
        return self

    def _collect(self, job: Job, parts: list[dict[str, Any]], n_boot: int, n_patients: int,
                 seconds: float) -> None:
        value = np.concatenate([p["value"] for p in parts])
        pval = np.concatenate([p["p_value"] for p in parts])
        sig = np.concatenate([p["significant"] for p in parts])
        failed = {k: v for p in parts for k, v in p["failed"].items()}
        self.failures_ = pd.DataFrame({"replicate": list(failed), "error": list(failed.values())},
                                      columns=["replicate", "error"])
        if failed:
            logger.warning("%d of %d bootstrap replicates could not be analysed and are left "
                           "out (see failures_); first: %s", len(failed), n_boot,
                           next(iter(failed.values())))
        ok = np.setdiff1d(np.arange(n_boot), list(failed))
        if not len(ok):
            raise DataError(f"every bootstrap replicate failed: {next(iter(failed.values()))}")
        value, pval, sig = value[ok], pval[ok], sig[ok]
        n_links = len(job.keys)
        rep = job.keys.loc[np.tile(np.arange(n_links), len(ok))].reset_index(drop=True)
        rep.insert(0, "replicate", np.repeat(ok, n_links))
        self.replicates_ = rep.assign(value=value.ravel(), p_value=pval.ravel(),
                                      significant=sig.ravel())
        self.edges_ = _summarize(job.keys, value, sig, float(self.ci_level))
        est = self.estimator_
        self.result_ = BootstrapResult(edges=self.edges_, n_boot=n_boot, n_failed=len(failed),
                                       n_patients=n_patients, ci_level=float(self.ci_level),
                                       method=est.method, ci_test=est.ci_test,
                                       alpha=float(est.alpha), seconds=seconds)

    def __str__(self) -> str:
        if not hasattr(self, "result_"):
            return f"ClusterBootstrap(n_boot={self.n_boot}) (not fitted)"
        return str(self.result_)


# ----------------------------------------------------------------- helpers
def _summarize(keys: pd.DataFrame, value: np.ndarray, sig: np.ndarray,
               ci_level: float) -> pd.DataFrame:
    """Per-link frequency, mean, sd, percentile interval and sign shares."""
    import warnings

    tail = (1 - ci_level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN, as wanted
        low, high = np.nanquantile(value, [tail, 1 - tail], axis=0)
        mean = np.nanmean(value, axis=0)
        sd = np.nanstd(value, axis=0, ddof=1) if len(value) > 1 else np.full(len(keys), np.nan)
    out = keys.copy()
    out["frequency"] = sig.mean(axis=0)
    out["mean"], out["sd"], out["boot_low"], out["boot_high"] = mean, sd, low, high
    out["share_positive"] = (sig & (value > 0)).mean(axis=0)
    out["share_negative"] = (sig & (value < 0)).mean(axis=0)
    out["n_boot"] = len(value)
    return out[list(EDGE_COLUMNS)]


def bootstrap_section(result: BootstrapResult,
                      hypothesis_edges: Sequence[tuple[str, str, int]] = ()) -> tuple[str, str]:
    """Return ``(title, markdown)`` of a report section on a bootstrap run.

    Parameters
    ----------
    result : BootstrapResult
        The fitted bootstrap's ``result_``.
    hypothesis_edges : sequence of (source, target, lag)
        Links to mark as hypothesised in the table.
    """
    from causal.report import markdown_table

    e = result.edges
    e = e[e["source"] != e["target"]].sort_values("frequency", ascending=False, kind="stable")
    marked = {(s, t, int(k)) for s, t, k in hypothesis_edges}
    table = pd.DataFrame({
        "link": [format_link(s, t, k) + (" (hypothesis)" if (s, t, int(k)) in marked else "")
                 for s, t, k in zip(e["source"], e["target"], e["lag"], strict=True)],
        "frequency": e["frequency"].round(3), "mean": e["mean"].round(3),
        "boot_low": e["boot_low"].round(3), "boot_high": e["boot_high"].round(3),
        "share_positive": e["share_positive"].round(3),
        "share_negative": e["share_negative"].round(3)})
    ok = result.n_boot - result.n_failed
    body = (f"Patients were resampled with replacement {result.n_boot} times "
            f"({result.n_patients} patients per replicate; {ok} replicates analysed) and "
            f"{result.method.upper()} was re-run on each with the same settings (cluster "
            "bootstrap; Field & Welsh 2007, Cameron, Gelbach & Miller 2008). `frequency` is the "
            "share of replicates in which the link is significant; `boot_low`/`boot_high` is "
            f"the {100 * result.ci_level:g}% percentile interval of its value. Cross-lagged "
            "links (all links in `bootstrap.csv`):\n\n" + markdown_table(table))
    return "Cluster bootstrap", body
