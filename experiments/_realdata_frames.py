"""Data of the real-data study: the two ESM frames and an independent count of lag-1 samples.

Part of :mod:`experiments.realdata`. Time
is the study beep ``t = BEEPS_PER_DAY * (day - 1) + beep``; lags never cross
a night or a study period because each day is its own segment.

Examples
--------
>>> df = pd.DataFrame({"person": 1, "day": 1, "t": [1, 2, 3, 5], "x": [0.1, 0.2, None, 0.4]})
>>> count_lag_pairs(df, id_col="person", time_col="t", segments=["day"], variables=["x"])
{'within_day_pairs': 1, 'within_day_triples': 0, 'pairs_ignoring_night': 1, 'night_pairs': 0}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from experiments.harness.config import ConfigError
from features.datasets import (
    load_bringmann2013,
    load_bringmann2013_tidy,
    load_kossakowski2017,
    load_kossakowski2017_tidy,
)
from features.errors import DataError, format_value

__all__ = [
    "BEEPS_PER_DAY",
    "PERIODS",
    "bringmann_frame",
    "count_lag_pairs",
    "kossakowski_frame",
]

#: Beeps per day in both designs; the study beep is ``t = BEEPS_PER_DAY * (day - 1) + beep``.
BEEPS_PER_DAY = 10
#: Bringmann 2013 study periods: ``period`` code -> label.
PERIODS = {0: "pre", 1: "post"}


def _study_beep(day: pd.Series, beep: pd.Series, what: str) -> pd.Series:
    bad = beep.notna() & ~beep.between(1, BEEPS_PER_DAY)
    if bad.any():
        value, row = format_value(beep[bad].iloc[0]), format_value(beep.index[bad][0])
        raise DataError(f"{what}: beep {value} on row {row} is "
                        f"outside 1..{BEEPS_PER_DAY}; the study beep would mix days")
    return (day - 1) * BEEPS_PER_DAY + beep


def bringmann_frame(max_persons: int = 0) -> pd.DataFrame:
    """Return the tidy Bringmann et al. (2013) frame with the study beep ``t`` and ``informat04``.

    Parameters
    ----------
    max_persons : int
        Keep only the first ``max_persons`` person ids in sorted order (0: all
        130); for the quick run.

    Returns
    -------
    pandas.DataFrame
        :func:`features.datasets.load_bringmann2013_tidy` plus ``t`` (study
        beep within the period, missing where ``beep`` is) and
        ``informat04`` (the person's value; missing for the one person who
        never has one).
    """
    df = load_bringmann2013_tidy()
    raw = load_bringmann2013()
    group = raw.groupby("subjno")["informat04"].max()
    df = df.assign(t=_study_beep(df["day"], df["beep"], "Bringmann 2013"),
                   informat04=df["person"].map(group))
    if max_persons:
        df = df[df["person"].isin(np.sort(df["person"].unique())[:max_persons])]
    return df


def kossakowski_frame(variables: Sequence[str]) -> pd.DataFrame:
    """Return the Kossakowski et al. (2017) frame with ``variables`` and the study beep ``t``.

    Items missing from :func:`features.datasets.load_kossakowski2017_tidy`
    (e.g. ``mood_relaxed``) are taken from the published file by row.
    """
    tidy = load_kossakowski2017_tidy()
    raw = load_kossakowski2017()
    extra = [v for v in variables if v not in tidy.columns]
    unknown = [v for v in extra if v not in raw.columns]
    if unknown:
        raise ConfigError(f"kossakowski_variables {unknown} are not columns of the data")
    df = pd.concat([tidy, raw[extra]], axis=1)
    return df.assign(t=_study_beep(df["day"], df["beepno"], "Kossakowski 2017"),
                     concentrat=raw["concentrat"], dep=raw["dep"])


def count_lag_pairs(df: pd.DataFrame, *, id_col: str, time_col: str, segments: Sequence[str],
                    variables: Sequence[str], cut_off: str = "tau_max",
                    patients: Sequence[Any] | None = None,
                    night: str = "day") -> dict[str, int]:
    """Count lag-1 samples with plain pandas, independently of :mod:`features.lags`.

    Rows without time or with every variable missing are dropped, as the
    panel does. A *pair* is a fully observed row at ``t`` whose block (person
    and every segment) has a fully observed row at ``t - 1``.

    Returns
    -------
    dict
        ``within_day_pairs`` (the lag-1 samples of PanelPCMCI; with
        ``cut_off="2xtau_max"`` minus the pair whose target is the second
        time step of its block), ``within_day_triples`` (also ``t - 2``
        observed: the samples of MCI tests whose conditions reach lag 2),
        ``pairs_ignoring_night`` (pairs if the ``night`` segment did not cut
        the series) and ``night_pairs`` (the difference: lags that would
        cross a night).
    """
    keys = [id_col, *segments]
    d = df[df[time_col].notna() & df[list(variables)].notna().any(axis=1)]
    if patients is not None:
        d = d[d[id_col].isin(list(patients))]
    frame = d[[*keys, time_col]].astype({time_col: "int64"}).reset_index(drop=True)
    frame["ok"] = d[list(variables)].notna().all(axis=1).to_numpy()

    def observed_at(by: list[str], lag: int) -> np.ndarray:
        prev = frame[[*by, time_col, "ok"]].assign(**{time_col: frame[time_col] + lag})
        merged = frame[[*by, time_col]].merge(prev, on=[*by, time_col], how="left",
                                              validate="one_to_one")
        return merged["ok"].fillna(False).to_numpy(dtype=bool)

    ok = frame["ok"].to_numpy()
    pair = ok & observed_at(keys, 1)
    ignoring = ok & observed_at([k for k in keys if k != night], 1)
    triple = pair & observed_at(keys, 2)
    used = pair.copy()
    if cut_off == "2xtau_max":
        start = frame.groupby(keys)[time_col].transform("min")
        used &= (frame[time_col] - start >= 2).to_numpy()
    return {"within_day_pairs": int(used.sum()), "within_day_triples": int(triple.sum()),
            "pairs_ignoring_night": int(ignoring.sum()),
            "night_pairs": int(ignoring.sum() - pair.sum())}
