"""Real ESM data: the Bringmann (2013) MBCT panel and the Kossakowski (2017) single person.

Both datasets ship with :mod:`features.datasets` (CC BY 4.0; provenance and
citations in ``features/data/README.md``). Lags never cross a night or a
study period: every person-period-day (Bringmann) or day (Kossakowski) is its
own block, so the first answered beep of a day has no lagged value. Time is
the study beep ``t = 10 * (day - 1) + beep``; within a day its steps are the
beeps, and a skipped beep leaves the lag missing (never the previous answered
beep). Beeps are semi-random within the day, so one step is not a fixed
number of minutes (see ``docs/validation.md``).

* **Bringmann 2013** (130 persons, 10 beeps a day for 10 days before and 10
  days after the treatment period): cheerful, worry, fearful, sad, relaxed
  and the pleasantness of the last event, analysed separately per period
  (``pre``: ``period`` 0, ``post``: ``period`` 1). Pooled
  :class:`~causal.discovery.estimator.PanelPCMCI` with person-period mean centering
  (arm ``center``, the default; :data:`ARMS`), a cluster bootstrap over
  persons (:class:`causal.resampling.bootstrap.ClusterBootstrap`), per-person
  :class:`~causal.resampling.individual.IndividualPCMCI` where a person's series is
  long enough, sensitivity arms (other preprocessing) and the two groups of
  ``informat04`` (the therapy indicator of the authors' script).
* **Kossakowski 2017** (one person, 239 days): a few mood items before
  (phases 1-2, full antidepressant dose) and after (phases 4-5, dose 0) the
  dose reduction, single-person PanelPCMCI per phase group.

Outputs (``--out``, default ``results/realdata``): ``bringmann_edges.csv``,
``bringmann_changes.csv``, ``bringmann_sensitivity.csv``,
``bringmann_groups.csv``, ``kossakowski_phases.csv``,
``kossakowski_edges.csv``, ``kossakowski_changes.csv``, ``samples.csv``
(sample counts, with an independent count of within-day beep pairs),
``exclusions.csv`` / ``exclusion_summary.csv`` and ``realdata_*.png``.

The data frames and the independent sample count are in
:mod:`experiments._realdata_frames`, the figures in :mod:`experiments._realdata_figures`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from causal import ClusterBootstrap, IndividualPCMCI, PanelPCMCI
from causal.discovery.citests import within_df_loss
from experiments._realdata_figures import plot_realdata
from experiments._realdata_frames import (
    PERIODS,
    bringmann_frame,
    count_lag_pairs,
    kossakowski_frame,
)
from experiments.harness.config import ConfigError, Settings
from experiments.harness.study import RunOptions, Study, StudyResult
from features.checks import check_bool, check_choice, check_int, check_probability, spawn_seeds
from features.errors import DataError
from features.exclusions import ExclusionReport

__all__ = [
    "ARMS",
    "CONFIG_KEYS",
    "NAME",
    "STUDY",
    "RealDataConfig",
    "compare_edges",
    "expected_share",
    "main",
    "run_realdata",
]

logger = logging.getLogger(__name__)

NAME = "realdata"
#: Within-person preprocessing arms: name -> (``prep``, ``prep_by``) of PanelPCMCI.
ARMS: dict[str, tuple[str, str]] = {
    "center": ("center", "patient"),      # person(-period) mean centering
    "center_day": ("center", "segment"),  # person-day mean centering
    "detrend": ("detrend", "patient"),    # person(-period) linear trend over study beeps
    "none": ("none", "patient"),          # raw pooled scores (comparison only)
}
_KEYS = ["source", "target", "lag"]
_BOOT_RENAME = {"frequency": "boot_frequency", "mean": "boot_mean", "sd": "boot_sd",
                "share_positive": "boot_share_positive",
                "share_negative": "boot_share_negative"}


# ------------------------------------------------------------------- config
@dataclass(frozen=True)
class RealDataConfig(Settings):
    """The keys of ``configs/realdata.toml`` but ``seed``, with their full-run defaults."""

    variables: tuple[str, ...] = ("cheerful", "worry", "fearful", "sad", "relaxed",
                                  "pleasant_event")
    tau_max: int = 1
    alpha: float = 0.05
    prep: str = "center"
    cut_off: str = "tau_max"
    n_boot: int = 1000
    ci_level: float = 0.95
    max_persons: int = 0
    individual: bool = True
    min_df: int = 20
    group_threshold: float = 0.75
    sensitivity: tuple[str, ...] = ("center_day", "detrend", "none")
    by_group: bool = True
    kossakowski_variables: tuple[str, ...] = ("mood_cheerf", "mood_relaxed", "mood_down",
                                              "mood_irritat", "mood_satisfi")
    kossakowski_prep: str = "detrend"
    kossakowski_pre: tuple[int, ...] = (1, 2)
    kossakowski_post: tuple[int, ...] = (4, 5)

    def check(self) -> None:
        """Validate every key with :mod:`features.checks` (a bad one raises ConfigError)."""
        for key, low in (("tau_max", 1), ("n_boot", 0), ("max_persons", 0), ("min_df", 1)):
            check_int(key, getattr(self, key), minimum=low)
        if self.tau_max != 1:  # the design (about 5 answered beeps a day) and count_lag_pairs
            raise ConfigError(f"tau_max must be 1 for within-day ESM lags, got {self.tau_max!r}")
        for key in ("alpha", "ci_level", "group_threshold"):
            self._set(key, check_probability(key, getattr(self, key),
                                             one_ok=key == "group_threshold"))
        for key in ("individual", "by_group"):
            self._set(key, check_bool(key, getattr(self, key)))
        check_choice("cut_off", self.cut_off, ("tau_max", "2xtau_max"))
        for key in ("variables", "sensitivity", "kossakowski_variables", "kossakowski_pre",
                    "kossakowski_post"):
            val = getattr(self, key)
            if isinstance(val, str) or not isinstance(val, list | tuple) or (
                    not val and key != "sensitivity") or len(set(val)) != len(val):
                raise ConfigError(f"{key} must be a list of distinct values, got {val!r}")
            self._set(key, tuple(val))
        for key, arms in (("prep", (self.prep,)), ("kossakowski_prep", (self.kossakowski_prep,)),
                          ("sensitivity", self.sensitivity)):
            if any(a not in ARMS for a in arms):
                raise ConfigError(f"{key} must name arms from {list(ARMS)}, got {arms!r}")
        if set(self.kossakowski_pre) & set(self.kossakowski_post):
            raise ConfigError("kossakowski_pre and kossakowski_post share a phase: "
                              f"{sorted(set(self.kossakowski_pre) & set(self.kossakowski_post))}")


#: Keys of ``configs/realdata.toml``.
CONFIG_KEYS: tuple[str, ...] = RealDataConfig.keys()


# --------------------------------------------------------------- statistics
def expected_share(value: float | np.ndarray, n: float, n_cond: int,
                   alpha: float) -> np.ndarray:
    """Share of persons expected to show a link if every person had the effect ``value``.

    The power of the two-sided partial-correlation test at ``alpha`` with
    ``n`` samples and ``n_cond`` conditions, by Fisher's z approximation
    (standard error ``1 / sqrt(n - 3 - n_cond)``).

    >>> float(expected_share(0.0, 40, 6, 0.05).round(3))
    0.05
    """
    z = np.arctanh(np.abs(np.asarray(value, dtype=float))) * np.sqrt(max(n - 3 - n_cond, 1))
    crit = stats.norm.ppf(1 - alpha / 2)
    return stats.norm.sf(crit - z) + stats.norm.cdf(-crit - z)


def compare_edges(a: pd.DataFrame, b: pd.DataFrame, n_a: float, n_b: float,
                  labels: tuple[str, str] = ("pre", "post")) -> pd.DataFrame:
    """Compare the links of two fits: values, significance and an approximate difference test.

    ``z = (atanh(v_b) - atanh(v_a)) / sqrt(1/(n_a - 3) + 1/(n_b - 3))`` with
    ``n`` the effective samples of each fit; it ignores the conditioning sets
    and treats the fits as independent samples (see the docs).
    """
    la, lb = labels
    cols = [c for c in ("value", "p_value", "significant", "boot_frequency") if c in a and c in b]
    m = a[_KEYS + cols].merge(b[_KEYS + cols], on=_KEYS, suffixes=(f"_{la}", f"_{lb}"))
    va, vb = m[f"value_{la}"].to_numpy(float), m[f"value_{lb}"].to_numpy(float)
    se = np.sqrt(1 / max(n_a - 3, 1) + 1 / max(n_b - 3, 1))
    m["difference"] = vb - va
    m["z"] = (np.arctanh(vb) - np.arctanh(va)) / se
    m["p_difference"] = 2 * stats.norm.sf(np.abs(m["z"]))
    sa, sb = m[f"significant_{la}"].astype(bool), m[f"significant_{lb}"].astype(bool)
    m["significant_in"] = np.select([sa & sb, sa, sb], ["both", f"{la} only", f"{lb} only"],
                                    "neither")
    return m


# ----------------------------------------------------------------- analyses
def _pcmci(cfg: RealDataConfig, arm: str) -> PanelPCMCI:
    prep, by = ARMS[arm]
    return PanelPCMCI(cfg.tau_max, alpha=cfg.alpha, prep=prep, prep_by=by, cut_off=cfg.cut_off)


def _links(model: PanelPCMCI) -> pd.DataFrame:
    return model.links_.table[[*_KEYS, "value", "p_value", "significant", "ci_low", "ci_high"]]


def _bootstrap(model: PanelPCMCI, data: pd.DataFrame, fit: dict[str, Any],
               cfg: RealDataConfig, seed: int, n_jobs: int) -> pd.DataFrame:
    boot = ClusterBootstrap(PanelPCMCI(**model.get_params()), n_boot=cfg.n_boot,
                            ci_level=cfg.ci_level, random_state=seed, n_jobs=n_jobs)
    boot.fit(data, **fit)
    edges = boot.edges_.rename(columns=_BOOT_RENAME)
    return edges[[*_KEYS, *_BOOT_RENAME.values(), "boot_low", "boot_high", "n_boot"]]


def _individual(data: pd.DataFrame, fit: dict[str, Any], cfg: RealDataConfig, seed: int,
                n_jobs: int) -> tuple[IndividualPCMCI | None, str]:
    prep, by = ARMS[cfg.prep]
    model = IndividualPCMCI(PanelPCMCI(cfg.tau_max, alpha=cfg.alpha, prep=prep, prep_by=by,
                                       cut_off=cfg.cut_off),
                            group_threshold=cfg.group_threshold, n_jobs=n_jobs,
                            min_df=cfg.min_df, random_state=seed)
    try:
        return model.fit(data, **fit), ""
    except DataError as exc:  # every person too short: reported, not hidden
        logger.warning("per-person discovery refused: %s", exc)
        return None, str(exc)


def _describe(config: RealDataConfig, seed: int,
              tables: Mapping[str, pd.DataFrame]) -> tuple[str, ...]:
    lines = [f"Real data (seed {seed}, prep {config.prep}, n_boot {config.n_boot})"]
    for r in tables["samples"].itertuples(index=False):
        lines.append(f"  {r.analysis:<24} {r.persons:>4} persons, {r.n_samples:>5} samples "
                     f"(independent count {r.within_day_pairs}), {r.significant} significant")
    edges = tables["bringmann_edges"]
    for r in edges[edges["significant"] & (edges["source"] != edges["target"])].itertuples():
        freq = f", bootstrap {r.boot_frequency:.0%}" if "boot_frequency" in edges else ""
        lines.append(f"  Bringmann {r.period:<4} {r.source}(t-1) -> {r.target}: "
                     f"{r.value:+.3f} (p={r.p_value:.3g}{freq})")
    k = tables["kossakowski_changes"]
    for r in k[k["significant_in"] != "neither"].itertuples(index=False):
        lines.append(f"  Kossakowski {r.source}(t-1) -> {r.target}: pre {r.value_pre:+.3f}, "
                     f"post {r.value_post:+.3f} ({r.significant_in})")
    return tuple(lines)


class _Collector:
    """Fits one analysis at a time and keeps its sample counts and exclusions."""

    def __init__(self, cfg: RealDataConfig) -> None:
        self.cfg = cfg
        self.samples: list[dict[str, Any]] = []
        self.excluded: list[pd.DataFrame] = []
        self.counts: list[pd.Series] = []

    def exclusions(self, name: str, report: Any, rows: bool = True) -> None:
        """Count every record; keep row records only of the main analyses (file size)."""
        records = report.records.assign(analysis=name)
        self.excluded.append(records if rows else records[records["level"] == "patient"])
        self.counts.append(records.groupby(["analysis", "level", "reason"], sort=False).size())

    def fit(self, name: str, data: pd.DataFrame, fit: dict[str, Any], arm: str,
            rows: bool = True) -> PanelPCMCI:
        """Fit pooled PCMCI with ``arm``; record samples (checked independently) and exclusions."""
        model = _pcmci(self.cfg, arm).fit(data, **fit)
        counts = count_lag_pairs(data, cut_off=self.cfg.cut_off,
                                 patients=model.panel_.patients, **fit)
        self.samples.append({
            "analysis": name, "persons": model.panel_.n_patients, "rows": len(data),
            "rows_used": model.panel_.n_rows, "n_samples": int(model.n_samples_), **counts,
            "df_loss": float(model.df_loss_),
            "significant": int(model.links_.table["significant"].sum())})
        if counts["within_day_pairs"] != model.n_samples_:
            logger.warning("%s: PanelPCMCI used %d samples but %d within-day pairs were counted",
                           name, model.n_samples_, counts["within_day_pairs"])
        self.exclusions(name, model.exclusions_, rows)
        return model


def _with_individual(table: pd.DataFrame, ind: IndividualPCMCI,
                     cfg: RealDataConfig) -> pd.DataFrame:
    """Add the per-person shares (``ind_*``) and the share expected under homogeneity."""
    cols = ["n_patients", "n_significant", "share", "share_low", "share_high", "share_positive",
            "share_negative", "median_value"]
    summary = ind.summary_[[*_KEYS, *cols]].rename(columns={c: f"ind_{c}" for c in cols})
    table = table.merge(summary, on=_KEYS, how="left")
    n = float(ind.patients_["n_samples"].median()) - within_df_loss(ARMS[cfg.prep][0], 1)
    return table.assign(ind_expected_share=expected_share(table["value"], n, len(cfg.variables),
                                                          cfg.alpha))


def _bringmann(cfg: RealDataConfig, seed: int, n_jobs: int, run: _Collector,
               models: dict[str, PanelPCMCI], notes: list[str]) -> dict[str, pd.DataFrame]:
    seeds = spawn_seeds(seed, len(PERIODS), stream=(0,))
    df = bringmann_frame(cfg.max_persons)
    fit = {"id_col": "person", "time_col": "t", "variables": list(cfg.variables),
           "segments": ("period", "day")}
    edges, sens, groups, n_eff = [], [], [], {}
    for period, label in PERIODS.items():
        data = df[df["period"] == period]
        model = models[f"bringmann_{label}"] = run.fit(f"bringmann {label}", data, fit, cfg.prep)
        n_eff[label] = float(model.n_samples_ - model.df_loss_)
        table = _links(model).assign(persons=model.panel_.n_patients, n_samples=model.n_samples_)
        if cfg.n_boot:
            table = table.merge(_bootstrap(model, data, fit, cfg, seeds[period], n_jobs),
                                on=_KEYS, how="left")
        if cfg.individual:
            ind, why = _individual(data, fit, cfg, seeds[period], n_jobs)
            if ind is None:
                notes.append(f"per-person discovery {label}: {why}")
            else:
                run.exclusions(f"bringmann {label} per-person", ind.exclusions_)
                table = _with_individual(table, ind, cfg)
                notes.append(f"per-person discovery {label}: {len(ind.patients_)} of "
                             f"{model.panel_.n_patients} persons analysed (median "
                             f"{ind.patients_['n_samples'].median():g} samples), "
                             f"{ind.exclusions_.n_patients} excluded")
        edges.append(table)
        for arm in cfg.sensitivity:
            m = run.fit(f"bringmann {label} {arm}", data, fit, arm, rows=False)
            sens.append(_links(m).assign(period=label, arm=arm, persons=m.panel_.n_patients,
                                         n_samples=m.n_samples_))
        if cfg.by_group:
            unknown = data.loc[data["informat04"].isna(), "person"].unique()
            run.exclusions(f"bringmann {label} informat04", ExclusionReport.empty().add(
                "patient", "informat04 missing (the person answered no beep)", unknown))
        for g, part in (data.dropna(subset=["informat04"]).groupby("informat04")
                        if cfg.by_group else ()):
            m = run.fit(f"bringmann {label} informat04={int(g)}", part, fit, cfg.prep, rows=False)
            groups.append(_links(m).assign(period=label, informat04=int(g),
                                           persons=m.panel_.n_patients, n_samples=m.n_samples_))
    tables = {"bringmann_edges": pd.concat([e.assign(period=p) for e, p in
                                            zip(edges, PERIODS.values(), strict=True)],
                                           ignore_index=True),
              "bringmann_changes": compare_edges(*edges, n_eff["pre"], n_eff["post"])}
    if sens:
        tables["bringmann_sensitivity"] = pd.concat(sens, ignore_index=True)
    if groups:
        tables["bringmann_groups"] = pd.concat(groups, ignore_index=True)
    return tables


def _kossakowski(cfg: RealDataConfig, run: _Collector,
                 models: dict[str, PanelPCMCI]) -> dict[str, pd.DataFrame]:
    df = kossakowski_frame(cfg.kossakowski_variables)
    phases = df.groupby("phase").agg(
        days=("day", "nunique"), first_day=("day", "min"), last_day=("day", "max"),
        signals=("day", "size"), dose_min=("concentrat", "min"), dose_max=("concentrat", "max"),
        scl90_depression_mean=("dep", "mean")).reset_index()
    fit = {"id_col": "person", "time_col": "t", "variables": list(cfg.kossakowski_variables),
           "segments": ("phase", "day")}
    links, n_eff = [], []
    for label, keep in (("pre", cfg.kossakowski_pre), ("post", cfg.kossakowski_post)):
        data = df[df["phase"].isin(keep)]
        model = models[f"kossakowski_{label}"] = run.fit(f"kossakowski {label}", data, fit,
                                                         cfg.kossakowski_prep)
        n_eff.append(float(model.n_samples_ - model.df_loss_))
        links.append(_links(model).assign(phase_group=label, n_samples=model.n_samples_))
    return {"kossakowski_phases": phases,
            "kossakowski_edges": pd.concat(links, ignore_index=True),
            "kossakowski_changes": compare_edges(*links, *n_eff)}


def _compute(cfg: RealDataConfig, seed: int, options: RunOptions) -> StudyResult:
    """Run every analysis and return the tables (nothing is written).

    Period ``p`` uses ``spawn_seeds(seed, 2, stream=(0,))[p]`` for the
    bootstrap and the per-person fits, which run on ``options.n_jobs``
    worker processes.
    """
    run, models, notes = _Collector(cfg), {}, []
    tables = {**_bringmann(cfg, seed, options.n_jobs, run, models, notes),
              **_kossakowski(cfg, run, models)}
    tables["samples"] = pd.DataFrame(run.samples)
    tables["exclusion_summary"] = pd.concat(run.counts).rename("count").reset_index()
    tables["exclusions"] = pd.concat([e for e in run.excluded if not e.empty],
                                     ignore_index=True)
    return StudyResult(NAME, cfg, seed, tables, lines=_describe(cfg, seed, tables),
                       notes=tuple(notes), models=models)


#: The study: ``STUDY.run(config, seed, n_jobs=...)`` and ``STUDY.main(argv)``.
STUDY = Study(NAME, __doc__, RealDataConfig, _compute, plot_realdata)
run_realdata, main = STUDY.run, STUDY.main


if __name__ == "__main__":  # pragma: no cover
    STUDY.run_script()
