"""Two real, public experience-sampling datasets bundled with the package.

Both ship as byte-identical copies in ``features/data/`` (see its
``README.md``) and are published under the Creative Commons Attribution 4.0
International licence (CC BY 4.0,
https://creativecommons.org/licenses/by/4.0/). Cite them wherever they are
used or shipped:

* Bringmann, L. F., Vissers, N., Wichers, M., Geschwind, N., Kuppens, P.,
  Peeters, F., Borsboom, D., & Tuerlinckx, F. (2013). A network approach to
  psychopathology: new insights into clinical longitudinal data. *PLoS ONE,
  8*(4), e60188. https://doi.org/10.1371/journal.pone.0060188 (supporting
  information file S4): 130 adults with residual depressive symptoms in a
  trial of mindfulness-based cognitive therapy, 10 beeps a day for 10 days
  before and 10 days after treatment.
* Kossakowski, J. J., Groot, P. C., Haslbeck, J. M. B., Borsboom, D., &
  Wichers, M. (2017). Data from 'Critical slowing down as a personalized
  early warning signal for depression'. *Journal of Open Psychology Data,
  5*(1), 1. https://doi.org/10.5334/jopd.29: one person followed for 239
  days while the antidepressant dose was reduced.

The ``load_*`` functions return the files as published (read with
:func:`features.io.read_table`, rows labelled by file line number); the
``load_*_tidy`` functions return frames the pipeline can use directly.

Examples
--------
>>> df = load_bringmann2013_tidy()
>>> df.shape, df["person"].nunique()
((28600, 10), 130)
>>> list(df.columns[:4])
['person', 'period', 'day', 'beep']
"""

from __future__ import annotations

import logging
from importlib import resources

import pandas as pd

from features.io import read_table

__all__ = [
    "BRINGMANN_ITEMS",
    "KOSSAKOWSKI_ITEMS",
    "load_bringmann2013",
    "load_bringmann2013_tidy",
    "load_kossakowski2017",
    "load_kossakowski2017_tidy",
]

logger = logging.getLogger(__name__)

_BRINGMANN_FILE = "bringmann2013_mbct_esm.txt"
_KOSSAKOWSKI_FILE = "kossakowski2017_esm_single.csv"

#: Bringmann et al. (2013) column -> English name in the tidy frame.
BRINGMANN_ITEMS: dict[str, str] = {
    "opgewkt_": "cheerful",
    "pieker": "worry",
    "angstig_": "fearful",
    "somber__": "sad",
    "ontspann": "relaxed",
    "onplplez": "pleasant_event",
}

#: Mood and self-esteem items kept in the tidy Kossakowski et al. (2017) frame.
KOSSAKOWSKI_ITEMS: tuple[str, ...] = (
    "mood_down",
    "mood_anxious",
    "mood_irritat",
    "mood_satisfi",
    "mood_cheerf",
    "pat_worry",
    "se_selflike",
)


def _read_bundled(name: str) -> pd.DataFrame:
    with resources.as_file(resources.files("features").joinpath("data", name)) as path:
        return read_table(path, sep=",")


def load_bringmann2013() -> pd.DataFrame:
    """Return the Bringmann et al. (2013) MBCT experience-sampling data as published.

    Returns
    -------
    pandas.DataFrame
        28,600 rows (220 per person, 130 persons) and the columns ``subjno``,
        ``dayno``, ``beepno``, ``informat04``, ``st_period``, ``opgewkt_``,
        ``onplplez``, ``pieker``, ``angstig_``, ``somber__``, ``ontspann``,
        ``neur`` (see ``features/data/README.md``), indexed by file line
        number. The file's leading row-label field is dropped.

    Examples
    --------
    >>> raw = load_bringmann2013()
    >>> raw.shape, int(raw["beepno"].isna().sum())
    ((28600, 12), 2600)
    """
    return _read_bundled(_BRINGMANN_FILE)


def load_bringmann2013_tidy() -> pd.DataFrame:
    """Return the Bringmann et al. (2013) data with English names, ready for discovery.

    Returns
    -------
    pandas.DataFrame
        Columns ``person`` (from ``subjno``), ``period`` (``st_period``: 0
        before, 1 after MBCT), ``day`` (``dayno``, 1-10 *within* each
        period), ``beep`` (``beepno``, 1-10 within the day; missing on 2,600
        rows) and the items ``cheerful``, ``worry``, ``fearful``, ``sad``,
        ``relaxed`` (1-7) and ``pleasant_event``. All 28,600 rows are kept,
        in file order and with the file's line numbers as index; the
        person-level ``neur`` and ``informat04`` stay in
        :func:`load_bringmann2013` (constant within person, they carry no
        within-person dynamics).

    Notes
    -----
    Beeps are only comparable within one day: a lag must never cross a night
    or the gap between the two periods. Give the day/beep design and the
    period as a segment, so that each person-period-day is its own block, the
    first beep of every day has no lagged value, and the default preprocessing
    removes each person's time-of-day profile and trend over the study
    (``docs/method.md``, "Day/beep designs")::

        PanelPCMCI(tau_max=1).fit(df, id_col="person", day_col="day", beep_col="beep",
                                  segments=("period",),
                                  variables=["cheerful", "worry", "fearful", "sad", "relaxed"])

    (``time_col="beep"`` with ``segments=("period", "day")`` gives the same
    blocks, but detrends along the hours of the day and keeps the rhythm.)

    Rows without a ``beep`` are excluded by :meth:`features.panel.Panel.from_frame`
    with the reason ``"missing beep"`` (they are reported, not silently
    dropped), and unanswered beeps with ``"every variable missing"``. The
    same arguments work for :class:`causal.resampling.individual.IndividualPCMCI`.

    Examples
    --------
    >>> df = load_bringmann2013_tidy()
    >>> df.groupby(["person", "period"])["day"].nunique().unique().tolist()
    [10]
    >>> sorted(df.columns[4:])
    ['cheerful', 'fearful', 'pleasant_event', 'relaxed', 'sad', 'worry']
    """
    raw = load_bringmann2013()
    names = {"subjno": "person", "st_period": "period", "dayno": "day", "beepno": "beep",
             **BRINGMANN_ITEMS}
    tidy = raw[list(names)].rename(columns=names)
    tidy = tidy.astype({"person": "int64", "period": "int64", "day": "int64",
                        "beep": "Int64"})
    logger.debug("Bringmann 2013 tidy: %d rows, %d persons", len(tidy), tidy["person"].nunique())
    return tidy


def load_kossakowski2017() -> pd.DataFrame:
    """Return the Kossakowski et al. (2017) single-person ESM data as published.

    Returns
    -------
    pandas.DataFrame
        1,476 rows x 86 columns exactly as in the file (the first column,
        ``"Unnamed: 0"``, is the file's row label 1..1476), indexed by file
        line number. See ``features/data/README.md`` for the columns.

    Examples
    --------
    >>> raw = load_kossakowski2017()
    >>> raw.shape
    (1476, 86)
    """
    return _read_bundled(_KOSSAKOWSKI_FILE)


def load_kossakowski2017_tidy() -> pd.DataFrame:
    """Return the Kossakowski et al. (2017) data trimmed to a few mood items.

    Returns
    -------
    pandas.DataFrame
        Columns ``person`` (always 1: a single participant, so the panel
        machinery can be used unchanged), ``date`` (datetime), ``day`` (study
        day 1..239 counted from the first date), ``phase`` (1-5), ``dayno``
        (day of the *calendar year* as published: it wraps from 366 to 1 on
        1 January 2013, so use ``day`` for ordering), ``beepno`` (signal
        within the day) and the items in :data:`KOSSAKOWSKI_ITEMS`. All 1,476
        rows are kept, with the file's line numbers as index.

    Notes
    -----
    As for :func:`load_bringmann2013_tidy`, keep lags within a day: time
    ``beepno`` and segments ``("day",)``. Single-person discovery is
    :class:`causal.discovery.estimator.PanelPCMCI` on this one-patient panel; add
    ``"phase"`` to the segments to keep lags within a study phase too.

    Examples
    --------
    >>> df = load_kossakowski2017_tidy()
    >>> df.shape, int(df["day"].max()), df["person"].unique().tolist()
    ((1476, 13), 239, [1])
    """
    raw = load_kossakowski2017()
    date = pd.to_datetime(raw["date"], format="%d/%m/%y")
    tidy = pd.DataFrame({
        "person": 1,
        "date": date,
        "day": (date - date.min()).dt.days + 1,
        "phase": raw["phase"],
        "dayno": raw["dayno"],
        "beepno": raw["beepno"],
    }, index=raw.index)
    tidy = pd.concat([tidy, raw[list(KOSSAKOWSKI_ITEMS)]], axis=1)
    return tidy.astype({"person": "int64", "day": "int64"})
