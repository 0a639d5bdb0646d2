"""Subgroups of patients with similar per-patient graphs.

:func:`find_subgroups` clusters the patients of a fitted
:class:`~causal.resampling.individual.IndividualPCMCI` by their per-patient link values
(Ward's agglomerative clustering on standardized features, the number of
groups chosen by the silhouette), in the spirit of S-GIMME (Gates, Lane,
Varangis, Giovanello & Guiskewicz 2017, *Multivariate Behavioral Research*
52:129-148), which clusters individuals by the similarity of their
person-specific models and then finds subgroup-level paths.
:func:`compare_groups` uses a known grouping (treatment arm, period,
diagnosis) instead, and tests which links differ between the groups.

A clustering always returns groups, wanted or not. Each found solution
therefore carries two checks, and a solution below either threshold is
**weak** (logged as a warning, and said in ``summary.txt``):

* the mean **silhouette** of the chosen ``k`` (below
  :data:`WEAK_SILHOUETTE` = 0.25: no substantial structure, in Kaufman &
  Rousseeuw's 1990 rule of thumb);
* its **stability**: the mean adjusted Rand index between the solution and
  re-clusterings of patient bootstrap samples (same ``k``, features
  standardized again in each sample; Hennig 2007, *Computational Statistics
  & Data Analysis* 52:258-271, uses the Jaccard index the same way). Below
  :data:`WEAK_STABILITY` = 0.6 the groups change substantially when other
  patients of the same population are drawn.

Within every group the links are classified as in
:attr:`IndividualPCMCI.summary_ <causal.resampling.individual.IndividualPCMCI>`:
``"group"`` when significant in at least ``group_threshold`` of the group's
patients.

Examples
--------
>>> from features.scenarios import generic_scenario
>>> from features.simulate import simulate_subgroups
>>> base = generic_scenario(2, 0)
>>> a = base.with_cross([("x1", "x2", 0.5)], name="A")
>>> b = base.with_cross([("x2", "x1", 0.5)], name="B")
>>> df = simulate_subgroups([a, b], [8, 8], n_weeks=100, random_state=4)
>>> model = IndividualPCMCI().fit(df, variables=["x1", "x2"])  # default PanelPCMCI()
>>> result = find_subgroups(model, n_groups=2)
>>> truth = df.groupby("patient")["subgroup"].first()
>>> bool(result.adjusted_rand(truth) > 0.5)
True
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from causal.resampling.group import summarize_edges
from causal.resampling.individual import IndividualPCMCI
from features.checks import check_int, check_seed, spawn_seeds
from features.errors import DataError, InputError, format_value, is_integer

__all__ = ["WEAK_SILHOUETTE", "WEAK_STABILITY", "SubgroupResult", "cluster_stability",
           "compare_groups", "find_subgroups"]

logger = logging.getLogger(__name__)

#: A found solution with a mean silhouette below this is weak.
WEAK_SILHOUETTE = 0.25
#: A found solution whose bootstrap stability (mean adjusted Rand index) is below this is weak.
WEAK_STABILITY = 0.6
#: ``spawn_seeds`` stream of the stability bootstrap.
_STABILITY_STREAM = (7,)


@dataclass(frozen=True)
class SubgroupResult:
    """Patients assigned to groups, with each group's link summary.

    Attributes
    ----------
    labels : pandas.Series
        Patient -> group label (``0..k-1`` for found clusters, numbered in
        order of each group's first patient; the given labels for
        :func:`compare_groups`).
    summaries : pandas.DataFrame
        One row per group and link: ``group`` plus the columns of
        :attr:`IndividualPCMCI.summary_` computed within the group
        (``share`` of the group's patients with the link, ``class``...).
    silhouette : pandas.Series
        Mean silhouette per number of groups tried (index ``k``); for
        :func:`compare_groups` the silhouette of the known grouping.
    method : str
        ``"ward"`` or ``"known"``.
    differences : pandas.DataFrame or None
        For :func:`compare_groups`: per link, the Kruskal-Wallis test of the
        link values across groups (``statistic``, ``p_value``,
        ``p_adjusted`` by Benjamini-Hochberg). None for found clusters,
        where such tests would be circular (the groups were built to
        differ).
    stability : float or None
        For found clusters: mean adjusted Rand index between the solution
        and ``n_stability`` patient-bootstrap re-clusterings
        (:func:`cluster_stability`); None for a known grouping.
    n_stability : int
        Bootstrap samples behind ``stability``.
    """

    labels: pd.Series
    summaries: pd.DataFrame
    silhouette: pd.Series
    method: str = "ward"
    differences: pd.DataFrame | None = None
    stability: float | None = None
    n_stability: int = 0

    @property
    def chosen_silhouette(self) -> float:
        """Mean silhouette of the solution (of its number of groups)."""
        return float(self.silhouette.get(self.n_groups, np.nan))

    @property
    def weak(self) -> bool:
        """True for a found solution with silhouette or stability below its threshold."""
        if self.method != "ward":
            return False
        return bool(self.chosen_silhouette < WEAK_SILHOUETTE or (
            self.stability is not None and self.stability < WEAK_STABILITY))

    @property
    def warning(self) -> str | None:
        """The weak-solution warning, or None."""
        if not self.weak:
            return None
        stab = ("" if self.stability is None else
                f", stability {self.stability:.2f} (mean adjusted Rand index over "
                f"{self.n_stability} patient bootstrap re-clusterings; weak below "
                f"{WEAK_STABILITY})")
        return (f"weak subgroup solution: silhouette {self.chosen_silhouette:.2f} (weak below "
                f"{WEAK_SILHOUETTE}){stab}; the {self.n_groups} groups may not be real "
                "subtypes: do not interpret them without replication")

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.labels.nunique())

    @property
    def group_edges(self) -> dict[object, list[str]]:
        """Group -> links significant in at least ``group_threshold`` of its patients."""
        s = self.summaries
        return {g: s.loc[(s["group"] == g) & (s["class"] == "group"), "edge"].tolist()
                for g in pd.unique(self.labels)}

    def adjusted_rand(self, true_labels: pd.Series | Mapping) -> float:
        """Return the adjusted Rand index of ``labels`` against known labels.

        Parameters
        ----------
        true_labels : pandas.Series or mapping
            Patient -> true group, for at least every labelled patient.

        Raises
        ------
        DataError
            If a labelled patient has no true label.
        """
        truth = pd.Series(true_labels)
        missing = self.labels.index.difference(truth.dropna().index)
        if len(missing):
            raise DataError(f"true_labels has no label for patient(s) {list(missing[:10])}")
        return float(adjusted_rand_score(truth.loc[self.labels.index].to_numpy(),
                                         self.labels.to_numpy()))

    def __str__(self) -> str:
        sizes = self.labels.value_counts(sort=False)
        lines = [f"SubgroupResult ({self.method}): {len(self.labels)} patients in "
                 f"{self.n_groups} groups"]
        if self.method == "ward" and len(self.silhouette) > 0:
            sil = ", ".join(f"k={k}: {v:.3f}" for k, v in self.silhouette.items())
            lines.append(f"  silhouette: {sil}")
            if self.stability is not None:
                lines.append(f"  stability: {self.stability:.3f} (mean adjusted Rand index, "
                             f"{self.n_stability} patient bootstrap re-clusterings)")
            if self.warning is not None:
                lines.append(f"  WARNING: {self.warning}")
        for g, edges in self.group_edges.items():
            lines.append(f"  group {g} ({int(sizes[g])} patients): group edges "
                         f"{', '.join(edges) if edges else '(none)'}")
        if self.differences is not None:
            diff = self.differences[self.differences["p_adjusted"] < 0.05]
            lines.append(f"  links differing between groups (BH-adjusted p < 0.05): "
                         f"{', '.join(diff['edge']) if not diff.empty else '(none)'}")
        return "\n".join(lines)


def _features(individual: IndividualPCMCI, autoregressive: bool,
              edges: Sequence[str] | None) -> pd.DataFrame:
    if not hasattr(individual, "edge_matrix_"):
        raise InputError("individual must be a fitted IndividualPCMCI (call fit first)")
    summary = individual.summary_
    if edges is not None:
        edges = [edges] if isinstance(edges, str) else list(edges)
        unknown = [e for e in edges if e not in set(summary["edge"])]
        if unknown or not edges:
            raise InputError(f"edges: unknown edge(s) {unknown}; edges are "
                             f"{summary['edge'].tolist()}")
        keep = edges
    elif autoregressive:
        keep = summary["edge"].tolist()
    else:
        keep = summary.loc[~summary["autoregressive"], "edge"].tolist()
    matrix = individual.edge_matrix_[keep]
    matrix = matrix.loc[:, matrix.std(axis=0, ddof=0) > 1e-12]
    if matrix.shape[1] == 0:
        raise DataError("no link varies between patients; there is nothing to cluster on")
    return matrix


def _summaries(individual: IndividualPCMCI, labels: pd.Series) -> pd.DataFrame:
    keys = pd.MultiIndex.from_frame(individual.summary_[["source", "target", "lag"]])
    frames = []
    for g in pd.unique(labels):
        members = labels.index[labels == g]
        s = summarize_edges(keys, individual.edge_matrix_.loc[members],
                            individual.presence_.loc[members], individual.group_threshold)
        frames.append(s.assign(group=g))
    out = pd.concat(frames, ignore_index=True)
    return out[["group", *out.columns.drop("group")]]


def find_subgroups(individual: IndividualPCMCI, n_groups: int | None = None, *,
                   max_groups: int = 6, autoregressive: bool = True,
                   edges: Sequence[str] | None = None, n_stability: int = 100,
                   random_state: int | np.random.Generator | None = None) -> SubgroupResult:
    """Cluster patients by their per-patient link values.

    Parameters
    ----------
    individual : IndividualPCMCI
        Fitted per-patient discovery; its ``edge_matrix_`` (raw MCI partial
        correlations) are the features, each standardized across patients
        (:class:`sklearn.preprocessing.StandardScaler`) so that every link
        weighs the same. Links constant across patients are left out.
    n_groups : int, optional
        Number of groups; default: the ``k`` in ``2..max_groups`` with the
        largest mean silhouette (:func:`sklearn.metrics.silhouette_score`).
    max_groups : int
        Largest ``k`` tried (at most the number of patients minus 1).
    autoregressive : bool
        Also cluster on the autoregressive links (inertia). False uses only
        the cross-lagged links.
    edges : sequence of str, optional
        Cluster on these links only (names as in ``summary_["edge"]``).
        Standardizing gives every link the same weight, so links that do not
        differ between subgroups dilute those that do: with many variables,
        restrict the features to the links of interest.
    n_stability : int, default 100
        Patient bootstrap samples for the stability check
        (:func:`cluster_stability`); 0 skips it.
    random_state : int, numpy.random.Generator or None
        Seed of the stability bootstrap (an int goes through
        :func:`features.checks.spawn_seeds`). Ward clustering and the
        silhouette are deterministic; only ``stability`` depends on it.

    Returns
    -------
    SubgroupResult
        A weak solution (see the module docstring) is logged as a warning
        and flagged by ``weak`` / ``warning``.

    Raises
    ------
    DataError
        With fewer than 3 patients or when no link varies between patients.
    """
    features = _features(individual, autoregressive, edges)
    n = len(features)
    if n < 3:
        raise DataError(f"clustering needs at least 3 patients, got {n}")
    check_int("max_groups", max_groups, minimum=2)
    if n_groups is not None and (not is_integer(n_groups) or not 2 <= n_groups <= n - 1):
        raise InputError(f"n_groups must be an integer in 2..{n - 1} (patients - 1), "
                         f"got {format_value(n_groups)}")
    check_int("n_stability", n_stability, minimum=0)
    x = StandardScaler().fit_transform(features.to_numpy())
    ks = [int(n_groups)] if n_groups is not None else list(range(2, min(max_groups, n - 1) + 1))
    fits, scores = {}, {}
    for k in ks:
        fits[k] = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(x)
        scores[k] = float(silhouette_score(x, fits[k]))
    best = max(ks, key=lambda k: (scores[k], -k))
    raw = pd.Series(fits[best], index=features.index)
    # Number groups in order of their first patient, so labels do not depend on sklearn's order.
    order = {g: i for i, g in enumerate(pd.unique(raw))}
    labels = raw.map(order).astype("int64").rename("group")
    stability = (cluster_stability(features, best, n_boot=n_stability,
                                   random_state=random_state) if n_stability else None)
    logger.info("found %d subgroups (silhouette %.3f, stability %s)", best, scores[best],
                "not checked" if stability is None else f"{stability:.3f}")
    silhouette = pd.Series(scores, name="silhouette").rename_axis("k")
    result = SubgroupResult(labels=labels, summaries=_summaries(individual, labels),
                            silhouette=silhouette, method="ward", stability=stability,
                            n_stability=int(n_stability))
    if result.warning is not None:
        logger.warning("%s", result.warning)
    return result


def _ward(features: np.ndarray, k: int) -> np.ndarray:
    x = StandardScaler().fit_transform(features)
    return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(x)


def cluster_stability(features: pd.DataFrame, n_groups: int, *, n_boot: int = 100,
                      random_state: int | np.random.Generator | None = None) -> float:
    """Mean adjusted Rand index of Ward clusterings over patient bootstrap samples.

    The patients (rows) are clustered into ``n_groups`` (features
    standardized, Ward linkage). Each of ``n_boot`` bootstrap samples draws
    the patients with replacement, standardizes and clusters them again into
    ``n_groups``; its labels of the distinct drawn patients are compared
    with theirs in the full solution by the adjusted Rand index (1: the
    same partition; about 0: agreement by chance). Samples with fewer than
    ``n_groups + 1`` distinct patients are skipped.

    Parameters
    ----------
    features : pandas.DataFrame
        Patients x features (e.g. ``IndividualPCMCI.edge_matrix_`` columns).
    n_groups : int
        Number of groups (>= 2).
    n_boot : int
        Bootstrap samples (>= 1).
    random_state : int, numpy.random.Generator or None
        Seed (through :func:`features.checks.spawn_seeds`) or generator.

    Returns
    -------
    float
        The mean adjusted Rand index.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> two = pd.DataFrame(np.r_[rng.normal(0, 1, (20, 2)), rng.normal(8, 1, (20, 2))])
    >>> round(cluster_stability(two, 2, n_boot=20, random_state=1), 2)
    1.0
    >>> bool(cluster_stability(pd.DataFrame(rng.normal(size=(40, 2))), 2, n_boot=20,
    ...                        random_state=1) < 0.6)
    True
    """
    x = np.asarray(features, dtype=float)
    n = len(x)
    k = check_int("n_groups", n_groups, minimum=2)
    check_int("n_boot", n_boot, minimum=1)
    if k >= n:
        raise InputError(f"n_groups must be below the number of patients {n}, got {k}")
    if isinstance(random_state, np.random.Generator):
        rng = random_state
    else:
        seed = check_seed("random_state", random_state)
        rng = np.random.default_rng(spawn_seeds(seed, 1, stream=_STABILITY_STREAM)[0])
    full = _ward(x, k)
    scores = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, size=n)
        drawn, first = np.unique(idx, return_index=True)
        if len(drawn) <= k:
            continue
        labels = _ward(x[idx], k)[first]
        scores.append(adjusted_rand_score(full[drawn], labels))
    if not scores:
        raise DataError(f"no bootstrap sample of the {n} patients had more than {k} distinct "
                        "patients; too few patients for a stability check")
    return float(np.mean(scores))


def compare_groups(individual: IndividualPCMCI, groups: pd.Series | Mapping) -> SubgroupResult:
    """Summarize and compare per-patient graphs across known groups.

    Parameters
    ----------
    individual : IndividualPCMCI
        Fitted per-patient discovery.
    groups : pandas.Series or mapping
        Patient -> group (e.g. treatment arm). Every analysed patient needs a
        group; patients not analysed (excluded) are ignored.

    Returns
    -------
    SubgroupResult
        ``method="known"``; ``differences`` holds a Kruskal-Wallis test
        (:func:`scipy.stats.kruskal`) per link of the link values across
        groups, with Benjamini-Hochberg adjusted p-values
        (:func:`scipy.stats.false_discovery_control`).

    Raises
    ------
    DataError
        If an analysed patient has no group, or fewer than 2 groups remain.
    """
    if not hasattr(individual, "edge_matrix_"):
        raise InputError("individual must be a fitted IndividualPCMCI (call fit first)")
    groups = pd.Series(groups)
    patients = individual.edge_matrix_.index
    missing = patients.difference(groups.dropna().index)
    if len(missing):
        raise DataError(f"groups has no group for analysed patient(s) {list(missing[:10])}"
                        f"{' ...' if len(missing) > 10 else ''}")
    labels = groups.loc[patients].rename("group")
    if labels.nunique() < 2:
        raise DataError(f"compare_groups needs at least 2 groups, got {labels.unique().tolist()}")
    values = individual.edge_matrix_
    rows = []
    for edge in values.columns:
        samples = [values.loc[labels.index[labels == g], edge].to_numpy()
                   for g in pd.unique(labels)]
        if np.ptp(values[edge].to_numpy()) == 0:
            rows.append((edge, np.nan, 1.0))
            continue
        res = stats.kruskal(*samples)
        rows.append((edge, float(res.statistic), float(res.pvalue)))
    diff = pd.DataFrame(rows, columns=["edge", "statistic", "p_value"])
    diff["p_adjusted"] = stats.false_discovery_control(diff["p_value"].to_numpy())
    x = StandardScaler().fit_transform(values.to_numpy())
    codes = pd.factorize(labels)[0]
    sil = (float(silhouette_score(x, codes))
           if 2 <= labels.nunique() <= len(labels) - 1 else np.nan)
    return SubgroupResult(labels=labels, summaries=_summaries(individual, labels),
                          silhouette=pd.Series({int(labels.nunique()): sil}, name="silhouette")
                          .rename_axis("k"),
                          method="known", differences=diff)
