"""The validated long-format panel and its exclusion report.

A :class:`Panel` is the one object the rest of the package trusts: one row per
patient (per segment) per time point, an integer time grid, numeric
variables, and an :class:`ExclusionReport` that counts every row and patient
that was set aside, with its reason. Nothing is dropped silently.

Validation rules (see ``docs/method.md``):

* missing id / time / variable / segment **columns**, two columns of one name,
  or one column given two roles (``id_col == time_col``, a segment that is the
  time) -> :class:`DataError`;
* patient ids that differ only in surrounding blanks (``'P7 '`` and ``'P7'``)
  -> :class:`DataError` naming both;
* **non-numeric**, **non-finite** (inf) or **overflowing** (``|x| > 1e100``,
  whose squares and sums leave floating point) variable values ->
  :class:`DataError` naming column, row and value (``NA``-like strings are
  missing values);
* non-integer, non-finite, huge (beyond 2**53) or unparsable **time** values,
  a time column mixing integers and dates, dates with a **time zone**, and
  **ambiguous** day/month dates (``03/04/2024`` when no date of the column
  has a day above 12 and ``dayfirst`` is not given) -> :class:`DataError`
  naming column and row; dates become steps from each patient's first date;
* a patient whose times **span** more steps than ``max_span`` (default
  ``max(1000, 50 x`` the patient's rows``)``: a typo such as ``20240115`` in a
  week column) -> :class:`DataError` naming patient, row and value, before
  anything builds a grid over the time span;
* a variable value **far outside the rest of its column** (beyond median
  +- 20 x MAD, the median absolute deviation; e.g. a ``-999`` missing code
  among scores 0..27) -> a logged warning naming value, column and count, and
  one ``warning`` record per value in ``exclusions`` (the value is analysed as
  given: declare missing codes with :func:`features.io.read_table`'s
  ``na_values``);
* **duplicate** (patient, segment, time) rows -> :class:`DataError` naming the
  rows (``duplicates="keep-first"`` keeps the first and reports the others);
* with ``day_col`` and ``beep_col`` (an EMA / ESM design, like mlVAR's
  ``dayvar`` / ``beepvar``): the day is part of the block, so no lag crosses a
  night; a missing beep is a gap; missing day or beep -> row excluded; days are
  integers or dates, beeps integers;
* a variable with **zero within-patient variance** in every patient ->
  :class:`DataError`;
* without ``variables``: a text column of *mostly* numbers (a typo in a measure)
  -> :class:`DataError`; a text column of numbers written with separators
  (``1,234``, decimal commas) -> :class:`DataError` unless
  ``drop_text_columns=True``; other non-numeric columns (labels such as
  ``group``) are ignored, logged and reported as ``column`` records;
* rows with a missing id, time or segment, or with every variable missing ->
  excluded and reported;
* patients with fewer than ``min_lagged_rows`` usable lagged rows for the
  chosen ``tau_max`` -> excluded and reported.

Examples
--------
>>> df = pd.DataFrame({"patient": [1, 1, 1, 1, 2], "week": [1, 2, 3, 5, 1],
...                    "depression": [20, 18, 17, 15, 11], "fear_others": [30, 29, 31, 25, 20]})
>>> panel = Panel.from_frame(df, tau_max=1, min_lagged_rows=2)
>>> panel.n_patients, panel.variables
(1, ('depression', 'fear_others'))
>>> print(panel.exclusions)
ExclusionReport: 0 row(s) and 1 patient(s) excluded
  patient: fewer than 2 usable lagged rows at tau_max=1: 1 patient(s)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from features.checks import check_bool, check_choice, check_int
from features.choices import DUPLICATES
from features.errors import DataError, InputError, format_value
from features.exclusions import ExclusionReport
from features.samples import usable_lagged_rows

__all__ = ["MAX_VALUE", "OUTLIER_MADS", "SPAN_FLOOR", "SPAN_PER_ROW", "Panel"]

logger = logging.getLogger(__name__)

_NA_STRINGS = {"", "na", "n/a", "nan", "null", ".", "-", "none"}
_MAX_TIME = 2**53  # largest |time|: beyond it, float times no longer hold every integer
#: Largest |value| of a variable: squares and sums of up to 1e100 rows stay finite.
MAX_VALUE = 1e100
#: A value beyond median +- OUTLIER_MADS x MAD of its column is flagged as a possible code.
OUTLIER_MADS = 20
#: Default largest time span of a patient: max(SPAN_FLOOR, SPAN_PER_ROW x its rows).
SPAN_FLOOR, SPAN_PER_ROW = 1000, 50
_TZ = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)$",
                 re.IGNORECASE)
_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})\b")
_NUMBER_LIKE = re.compile(r"^[+-]?[\d\s.,'\u2019]*\d[\d\s.,'\u2019]*$")


@dataclass(frozen=True)
class Panel:
    """A validated long-format panel.

    Build it with :meth:`Panel.from_frame`. ``data`` holds the columns
    ``[id_col, *segments, time_col, *variables]`` sorted by patient, segment
    and time, indexed by the original row labels. ``time_col`` holds integer
    time steps (dates are converted with ``time_unit``). Lags are only ever
    taken within a *block*: one patient and one combination of segment values.

    A day/beep design (``day_col`` and ``beep_col`` set) holds
    ``[id_col, *segments, day_col, beep_col, *variables]``; ``time_col`` is
    ``beep_col`` and a block is one patient-(segment-)day (:attr:`block_cols`),
    while :attr:`segment_cols` (without the day) groups the within-person
    transforms and :meth:`study_time` gives the time trends are fitted on.
    """

    data: pd.DataFrame
    id_col: str
    time_col: str
    variables: tuple[str, ...]
    segments: tuple[str, ...] = ()
    exclusions: ExclusionReport = field(default_factory=ExclusionReport.empty)
    time_unit: str | None = None
    day_col: str | None = None
    beep_col: str | None = None

    # ------------------------------------------------------------ construction
    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, id_col: str = "patient",
                   time_col: str | None = None, day_col: str | None = None,
                   beep_col: str | None = None, variables: Sequence[str] | None = None,
                   segments: Sequence[str] = (), tau_max: int | None = 1,
                   min_lagged_rows: int = 2, time_step: str | pd.Timedelta | None = None,
                   dayfirst: bool | None = None, max_span: int | None = None,
                   drop_text_columns: bool = False, duplicates: str = "error",
                   max_gap: str | pd.Timedelta | None = None) -> Panel:
        """Validate a long-format DataFrame and build a panel.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per patient per time point.
        id_col : str
            Patient id column.
        time_col : str, optional
            Time column (default ``"week"`` unless ``day_col``/``beep_col``
            are given). Time is integer (weeks, beeps) or dates; dates become
            integer steps of ``time_step`` counted from each patient's first
            date (only differences within a patient matter, so patients may
            start on any day).
        day_col, beep_col : str, optional
            Day and beep-of-day columns of an experience-sampling design
            (give both, instead of ``time_col``). Days are integers or dates
            (steps of one day), beeps integers (1, 2, ... within the day). Each
            patient-day is a block: no lag crosses a night, a missing beep is
            a gap, and rows with no day or beep are excluded and reported.
        variables : sequence of str, optional
            Measures to analyse; default every numeric column other than the
            id, time and segment columns (text holding only numbers counts;
            mostly numbers raises :class:`DataError`); the other columns are
            logged and listed in ``exclusions`` with level ``"column"``.
        segments : sequence of str
            Columns whose change breaks the series (day, treatment period):
            no lag crosses a change in any of them.
        tau_max : int or None
            Exclude patients with fewer than ``min_lagged_rows`` usable lagged
            rows at this maximum lag; None skips the check.
        min_lagged_rows : int
            See ``tau_max``.
        time_step : str or Timedelta, optional
            Step for date times (e.g. ``"7D"``); default: the most common
            difference between consecutive (sorted) dates within patients.
        dayfirst : bool, optional
            Whether dates such as ``03/04/2024`` put the day first (3 April).
            Default: inferred from the column (a first number above 12 means
            day first, a second number above 12 month first); a column where
            every such date could be read either way raises
            :class:`DataError`.
        max_span : int, optional
            Largest time span (last minus first time step) of one patient;
            default ``max(1000, 50 x`` the patient's rows``)``. A longer span
            is almost always a typo, and lag grids grow with the span.
        drop_text_columns : bool
            Without ``variables``: leave out (with a warning and a
            ``column`` record) columns of numbers written with separators
            (``1,234``) instead of raising :class:`DataError`.
        max_gap : str or Timedelta, optional
            For irregular schedules (random beeps, a schedule that shifts, cancelled
            beeps): ``time_col`` holds date-times and the panel becomes a day/beep
            design with columns ``{time_col}_day`` (calendar day, counted from the
            patient's first day) and ``{time_col}_beep`` (position in the day's
            order). Consecutive observations of a day are one lag apart when at most
            ``max_gap`` (e.g. ``"3h"``) apart; a longer gap breaks the series like a
            missed beep, and no lag crosses a night. Not with ``day_col``/``beep_col``.
        duplicates : {"error", "keep-first"}
            Rows with the same patient, segments and time (day and beep):
            an error naming the rows, or keep the first (in input order) and
            list the others in ``exclusions``.

        Raises
        ------
        DataError
            For the input problems listed in the module docstring.
        """
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}")
        if df.empty:
            raise DataError("the data have no rows")
        segments = tuple(segments)
        dayfirst = None if dayfirst is None else check_bool("dayfirst", dayfirst)
        max_span = None if max_span is None else check_int("max_span", max_span, minimum=1)
        drop_text_columns = check_bool("drop_text_columns", drop_text_columns)
        check_choice("duplicates", duplicates, DUPLICATES)
        time_unit = None
        if max_gap is not None:
            df, day_col, beep_col, time_unit = _schedule(df, id_col, time_col, day_col,
                                                         beep_col, segments, max_gap)
            time_col = None
        time_col, day = _design(time_col, day_col, beep_col, segments)
        if day and time_step is not None:
            raise InputError("time_step is the step of date times in time_col; a day/beep "
                             "design counts days and beeps, so leave time_step out")
        _check_roles(df, id_col, time_col, (*segments, *day))
        _check_columns(df, [id_col, *day, time_col, *segments, *(variables or [])])
        if variables is None:
            variables, report = _detect_variables(df, [id_col, time_col, *day, *segments],
                                                  drop_text_columns)
        else:
            report = ExclusionReport.empty()
        variables = tuple(str(v) for v in variables)
        if twice := sorted(v for v in set(variables) if variables.count(v) > 1):
            raise DataError(f"variables listed twice: {twice}")
        if clash := sorted(set(variables) & {id_col, time_col, *day, *segments}):
            raise DataError(f"column(s) {clash} cannot be both a variable and the "
                            "id/time/day/segment")
        work = df[[id_col, *segments, *day, time_col, *variables]].copy()
        _check_id_blanks(work[id_col], id_col)
        for v in variables:
            work[v] = _to_numeric(work[v], v)
        for col, what in [(id_col, "patient id"),
                          *[(c, w) for c, w in zip(day, ["day"], strict=False)],
                          (time_col, "beep" if day else "time"),
                          *[(s, f"segment {s!r}") for s in segments]]:
            bad = work[col].isna().to_numpy()
            if bad.any():
                report = report.add("row", f"missing {what}", work[id_col].to_numpy()[bad],
                                    rows=work.index[bad], column=col)
                work = work[~bad]
        times = work[time_col]
        if day:
            work[day[0]], _ = _to_steps(work, id_col, day[0], "1D", dayfirst)
            work[time_col] = _to_steps(work, id_col, time_col, None, dayfirst)[0]
        else:
            work[time_col], time_unit = _to_steps(work, id_col, time_col, time_step, dayfirst)
        empty = work[list(variables)].isna().all(axis=1).to_numpy()
        if empty.any():
            report = report.add("row", "every variable missing", work[id_col].to_numpy()[empty],
                                rows=work.index[empty])
            work, times = work[~empty], times[~empty]
        if work.empty:
            raise DataError("no rows left after removing rows with missing id, time or all "
                            "variables")
        keys = [id_col, *segments, *day, time_col]
        if duplicates == "keep-first":  # before the outlier check: only kept rows count
            kept = len(work)
            work, report = _keep_first(work, keys, report)
            if len(work) < kept:
                times = times.loc[work.index]
        _check_span(work, id_col, time_col, times, max_span)
        report = _flag_outliers(work, id_col, variables, report)
        # no row removed: no patient gone
        gone = (pd.Index(df[id_col].dropna().unique()).difference(pd.Index(work[id_col].unique()))
                if len(work) < len(df) else ())
        if len(gone):
            report = report.add("patient", "every row excluded (missing time or all variables)",
                                gone)
        try:
            ordered = work.sort_values(keys, kind="stable")
        except TypeError:  # unorderable keys: duplicates are still reported first
            _check_duplicates(work, keys)
            raise
        if _adjacent_duplicates(ordered, keys):  # sorted: duplicates are neighbours
            _check_duplicates(work, keys)
        work = ordered
        _check_variance(work, id_col, variables)
        panel = cls(data=work, id_col=id_col, time_col=time_col, variables=variables,
                    segments=segments, exclusions=report, time_unit=time_unit,
                    day_col=day[0] if day else None, beep_col=time_col if day else None)
        if tau_max is not None:
            panel = panel.drop_short(tau_max, min_lagged_rows)
        logger.info("panel: %d patients, %d rows, variables %s", panel.n_patients, panel.n_rows,
                    ", ".join(variables))
        return panel

    # ---------------------------------------------------------------- methods
    @property
    def block_cols(self) -> list[str]:
        """Columns identifying a block (patient plus segments, plus the day of a day/beep design).

        Lags are taken within a block only.
        """
        return [self.id_col, *self.segments, *([self.day_col] if self.day_col else [])]

    @property
    def segment_cols(self) -> list[str]:
        """Columns identifying a patient's segment (patient plus segments; never the day).

        Within-person transforms with ``by="segment"`` fit one model per segment.
        """
        return [self.id_col, *self.segments]

    @property
    def time_cols(self) -> list[str]:
        """The time columns: ``[day_col, beep_col]`` for day/beep designs, else ``[time_col]``."""
        return [self.day_col, self.time_col] if self.day_col else [self.time_col]

    @property
    def beeps_per_day(self) -> int | None:
        """Beeps per day of a day/beep design (largest minus smallest beep, plus 1), else None."""
        if not self.day_col or self.data.empty:
            return None
        beeps = self.data[self.time_col]
        return int(beeps.max() - beeps.min()) + 1

    def study_time(self) -> np.ndarray:
        """Time since the start of the study, per row, for fitting slow trends.

        For a day/beep design it is ``day + (beep - first beep) / beeps_per_day``
        (in days), with a patient's segments laid one after the other when their
        days restart (Bringmann's periods count days 1-10 each); else the
        integer time steps. A trend on this time is a trend over the study, not
        a pattern over the hours of the day.

        >>> df = pd.DataFrame({"p": [1] * 4, "d": [1, 1, 2, 2], "b": [1, 2, 1, 2],
        ...                    "x": [1.0, 2.0, 4.0, 3.0]})
        >>> Panel.from_frame(df, id_col="p", day_col="d", beep_col="b",
        ...                  tau_max=None).study_time().tolist()
        [1.0, 1.5, 2.0, 2.5]
        """
        t = self.data[self.time_col].to_numpy(dtype=float)
        if not self.day_col:
            return t
        day = self.data[self.day_col].to_numpy(dtype=float)
        if self.segments:  # lay each patient's segments end to end when their days overlap
            seg = self.data.groupby(self.segment_cols, sort=False)[self.day_col]
            first, span = seg.transform("min"), seg.transform("max") - seg.transform("min") + 1
            starts = pd.DataFrame({"p": self.data[self.id_col].to_numpy(),
                                   "g": self.data.groupby(self.segment_cols,
                                                          sort=False).ngroup().to_numpy(),
                                   "first": first.to_numpy(), "span": span.to_numpy()})
            per = starts.drop_duplicates("g")
            offset = per.groupby("p", sort=False)["span"].cumsum() - per["span"]
            base = per.groupby("p", sort=False)["first"].transform("min")
            shift = pd.Series((base + offset - per["first"]).to_numpy(), index=per["g"])
            overlap = self._segments_overlap()
            if overlap:
                day = day + shift.reindex(starts["g"]).to_numpy(dtype=float)
        beep0 = float(t.min()) if len(t) else 0.0
        return day + (t - beep0) / float(self.beeps_per_day or 1)

    def _segments_overlap(self) -> bool:
        """Whether some patient's segments share day numbers (days restart per segment)."""
        seg = self.data.groupby(self.segment_cols, sort=False)[self.day_col].agg(["min", "max"])
        seg = seg.reset_index().sort_values([self.id_col, "min"], kind="stable")
        same = seg[self.id_col].to_numpy()[1:] == seg[self.id_col].to_numpy()[:-1]
        return bool((same & (seg["min"].to_numpy()[1:] <= seg["max"].to_numpy()[:-1])).any())

    @property
    def patients(self) -> np.ndarray:
        """Patient ids in order."""
        return self.data[self.id_col].unique()

    @property
    def n_patients(self) -> int:
        """Number of patients."""
        return int(self.data[self.id_col].nunique())

    @property
    def n_rows(self) -> int:
        """Number of rows (time points with at least one observed variable)."""
        return len(self.data)

    def with_data(self, data: pd.DataFrame, exclusions: ExclusionReport | None = None) -> Panel:
        """Return a copy with new data (same columns) and optionally a new report."""
        return replace(self, data=data, exclusions=exclusions if exclusions is not None
                       else self.exclusions)

    def select(self, variables: Sequence[str]) -> Panel:
        """Return a panel restricted to ``variables``."""
        _check_columns(self.data, variables)
        cols = [*self.block_cols, self.time_col, *variables]
        return replace(self, data=self.data[cols], variables=tuple(variables))

    def subset(self, patients: Iterable[Any]) -> Panel:
        """Return the panel of the given patients (order of the panel kept)."""
        keep = self.data[self.id_col].isin(list(patients))
        return self.with_data(self.data[keep])

    def usable_lagged_rows(self, tau_max: int) -> pd.Series:
        """Usable lagged rows per patient (see :func:`usable_lagged_rows`)."""
        return usable_lagged_rows(self.data, self.block_cols, self.time_col, self.variables,
                                  tau_max)

    def drop_short(self, tau_max: int, min_lagged_rows: int = 2) -> Panel:
        """Exclude patients with fewer than ``min_lagged_rows`` usable lagged rows."""
        if int(tau_max) < 0 or int(tau_max) != tau_max:
            raise DataError(f"tau_max must be a non-negative integer, got {tau_max!r}")
        counts = self.usable_lagged_rows(int(tau_max))
        short = counts[counts < min_lagged_rows]
        if short.empty:
            return self
        report = self.exclusions.add(
            "patient", f"fewer than {min_lagged_rows} usable lagged rows at tau_max={tau_max}",
            short.index, values=short.to_numpy())
        keep = ~self.data[self.id_col].isin(short.index)
        if not keep.any():
            raise DataError(f"no patient has at least {min_lagged_rows} usable lagged rows at "
                            f"tau_max={tau_max} (most has {int(counts.max())}); every variable "
                            f"must be observed at {tau_max + 1} consecutive time points")
        return self.with_data(self.data[keep], report)

    def describe(self) -> dict[str, Any]:
        """Return sample counts for reports."""
        per = self.data.groupby(self.id_col).size()
        return {"patients": self.n_patients, "rows": self.n_rows,
                "rows_per_patient_median": float(per.median()),
                "missing_values": {v: int(self.data[v].isna().sum()) for v in self.variables},
                "rows_excluded": self.exclusions.n_rows,
                "patients_excluded": self.exclusions.n_patients}

    def __str__(self) -> str:
        d = self.describe()
        return (f"Panel: {d['patients']} patients, {d['rows']} rows, variables "
                f"{', '.join(self.variables)}; {d['rows_excluded']} rows and "
                f"{d['patients_excluded']} patients excluded")


# ------------------------------------------------------------------- helpers
def _check_columns(df: pd.DataFrame, cols: Iterable[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"missing column(s) {missing}; available columns: {list(df.columns)}")


def _check_roles(df: pd.DataFrame, id_col: str, time_col: str, segments: Sequence[str]) -> None:
    """Refuse duplicate column names and a column given two roles (id, time, segment)."""
    if df.columns.has_duplicates:
        twice = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise DataError(f"duplicate column name(s) {twice}: every column needs its own name "
                        "(two columns renamed to one name?)")
    roles: dict[str, str] = {}
    for role, col in [("id", id_col), ("time", time_col), *[("segment", s) for s in segments]]:
        if col in roles:
            both = "listed twice as a segment" if role == roles[col] == "segment" else (
                f"given as both the {roles[col]} and the {role} column")
            raise DataError(f"column {col!r} is {both}; the id, time and segment columns "
                            "must be different columns")
        roles[col] = role


def _check_id_blanks(ids: pd.Series, id_col: str) -> None:
    """Refuse text ids that differ only in surrounding blanks ('P7 ' and 'P7')."""
    if not (pd.api.types.is_object_dtype(ids) or pd.api.types.is_string_dtype(ids)):
        return
    text = ids[[isinstance(v, str) for v in ids]]
    stripped = text.str.strip()
    if (text == stripped).all():
        return
    frame = pd.DataFrame({"raw": text.to_numpy(), "key": stripped.to_numpy(),
                          "row": text.index}).drop_duplicates("raw")
    clash = frame[frame.duplicated("key", keep=False)]
    if clash.empty:
        return
    first = clash[clash["key"] == clash["key"].iloc[0]]
    shown = " and ".join(f"{format_value(r.raw)} (row {r.row})" for r in first.itertuples())
    raise DataError(f"column {id_col!r}: patient ids {shown} differ only in surrounding "
                    "blanks and would be read as different patients; fix the ids")


def _check_span(work: pd.DataFrame, id_col: str, time_col: str, times: pd.Series,
                max_span: int | None) -> None:
    """Refuse a patient whose time span is far larger than its number of rows."""
    t = work[time_col].to_numpy(np.int64)
    groups = pd.DataFrame({"id": work[id_col].to_numpy(), "t": t}).groupby("id", sort=False)["t"]
    span = (groups.transform("max") - groups.transform("min")).to_numpy()
    n = groups.transform("size").to_numpy()
    limit = np.maximum(SPAN_FLOOR, SPAN_PER_ROW * n) if max_span is None else np.full(
        len(t), max_span)
    bad = span > limit
    if not bad.any():
        return
    patient = work[id_col].to_numpy()[int(np.flatnonzero(bad)[0])]
    mine = (work[id_col] == patient).to_numpy() & bad
    # the row farthest from the patient's median time is the likely typo
    dev = np.where(mine, np.abs(t - groups.transform("median").to_numpy()), -1)
    pos = int(np.argmax(dev))
    rule = (f"max_span={max_span}" if max_span is not None else
            f"max({SPAN_FLOOR}, {SPAN_PER_ROW} x {int(n[pos])} rows)")
    raise DataError(f"patient {format_value(patient)}: column {time_col!r} spans "
                    f"{int(span[pos])} time steps over {int(n[pos])} rows, more than "
                    f"{int(limit[pos])} ({rule}); row {work.index[pos]} has {time_col} "
                    f"{format_value(times.iloc[pos])}: a typo? (allow longer spans with "
                    "max_span, --max-span)")


def _flag_outliers(work: pd.DataFrame, id_col: str, variables: Sequence[str],
                   report: ExclusionReport) -> ExclusionReport:
    """Warn about values far outside the rest of their column (possible missing codes)."""
    for v in variables:
        x = work[v].to_numpy(dtype=float)
        obs = x[~np.isnan(x)]
        if len(obs) < 5:
            continue
        med = float(np.median(obs))
        mad = float(np.median(np.abs(obs - med)))
        if mad == 0:
            continue
        with np.errstate(invalid="ignore"):
            far = np.abs(x - med) > OUTLIER_MADS * mad
        if not far.any():
            continue
        values, counts = np.unique(x[far], return_counts=True)
        shown = ", ".join(f"{format_value(a)} ({int(c)}x)"
                          for a, c in zip(values, counts, strict=True))
        logger.warning("column %r: %d value(s) far outside the rest of the column (beyond "
                       "median %s +- %d x MAD %s): %s; missing-value codes? They are analysed "
                       "as given: declare codes with --na-values (na_values)", v,
                       int(far.sum()), format_value(med), OUTLIER_MADS, format_value(mad), shown)
        report = report.add("warning", f"value far outside the column (beyond median +- "
                            f"{OUTLIER_MADS} x MAD): a missing-value code? analysed as given",
                            work[id_col].to_numpy()[far], rows=work.index[far], column=v,
                            values=x[far])
    return report


def _first(mask: np.ndarray | pd.Series, col: pd.Series) -> tuple[Any, str]:
    """Return label and shown value at the first True of ``mask`` (positional access)."""
    pos = int(np.flatnonzero(np.asarray(mask, dtype=bool))[0])
    return col.index[pos], format_value(col.iloc[pos])


def _parse_text(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return the numbers in a text column (NaN if not a number) and its NA-like mask."""
    as_str = col.astype("string").str.strip()
    na_like = (col.isna() | as_str.str.lower().isin(_NA_STRINGS).fillna(True)).to_numpy(bool)
    values = pd.to_numeric(as_str.where(~na_like), errors="coerce").astype(float).to_numpy()
    return values, na_like


def _to_numeric(col: pd.Series, name: str, hint: str = "") -> np.ndarray:
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        values = col.astype(float).to_numpy()
    else:
        values, na_like = _parse_text(col)
        bad = np.isnan(values) & ~na_like
        if bad.any():
            row, shown = _first(bad, col)
            raise DataError(f"column {name!r}: row {row} has non-numeric value {shown} "
                            f"({int(bad.sum())} non-numeric value(s) in this column){hint}")
    inf = np.isinf(values)
    if inf.any():
        row, _ = _first(inf, col)
        raise DataError(f"column {name!r}: row {row} has non-finite value "
                        f"{format_value(values[inf][0])} "
                        f"({int(inf.sum())} non-finite value(s) in this column)")
    with np.errstate(invalid="ignore"):
        huge = np.abs(values) > MAX_VALUE
    if huge.any():
        row, _ = _first(huge, col)
        raise DataError(f"column {name!r}: row {row} has value {format_value(values[huge][0])}, "
                        f"too large to analyse (|value| must be at most {MAX_VALUE:g}; "
                        f"{int(huge.sum())} such value(s) in this column)")
    return values


def _detect_variables(df: pd.DataFrame, keys: Sequence[str],
                      drop_text_columns: bool = False) -> tuple[list[str], ExclusionReport]:
    """Pick the numeric columns; report the others; reject mostly-numeric text columns."""
    chosen, report = [], ExclusionReport.empty()
    for name in df.columns:
        if name in keys:
            continue
        col = df[name]
        kind = _column_kind(col)
        if kind == "numeric":
            chosen.append(name)
            continue
        if kind == "mostly numeric":  # a typo in a measure: raises naming row and value
            _to_numeric(col, str(name), hint="; most values are numbers, so the column is read "
                        "as a measure: fix the value, or list the variables to leave it out")
        if kind == "text" and not drop_text_columns:
            _refuse_number_text(col, str(name))
        example = col.dropna().iloc[0] if col.notna().any() else pd.NA
        logger.warning("column %r is not a numeric variable (%s, e.g. %s): ignored; list the "
                       "variables explicitly to analyse it", name, kind, format_value(example))
        report = report.add("column", f"ignored: not a numeric variable ({kind})", [pd.NA],
                            column=str(name), values=[example])
    if not chosen:
        raise DataError(f"no numeric variable columns besides {keys[0]!r} and {keys[1]!r}; "
                        f"columns are {list(df.columns)}")
    return chosen, report


def _refuse_number_text(col: pd.Series, name: str) -> None:
    """Raise if most values of a text column are numbers written with separators."""
    text = col.dropna().astype(str).str.strip()
    text = text[~text.str.lower().isin(_NA_STRINGS)]
    like = text.str.match(_NUMBER_LIKE) & ~text.str.match(_DMY)  # 15.01.2024 is a date
    if text.empty or like.sum() <= len(text) / 2:
        return
    unread = like & pd.to_numeric(text, errors="coerce").isna()
    row, shown = text.index[unread.to_numpy()][0], format_value(text[unread].iloc[0])
    raise DataError(f"column {name!r}: row {row} has {shown}, a number written with a thousands "
                    f"separator or a decimal comma ({int(unread.sum())} such value(s)), so the "
                    "whole measure would be dropped; read decimal commas with decimal=',' "
                    "(--decimal ,), remove thousands separators, or leave such columns out "
                    "with drop_text_columns=True (--drop-text-columns)")


def _column_kind(col: pd.Series) -> str:
    """Return ``"numeric"``, ``"mostly numeric"`` or why the column is not a variable."""
    if pd.api.types.is_bool_dtype(col):
        return "true/false values"
    if pd.api.types.is_numeric_dtype(col):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
        return "dates or durations"
    values, na_like = _parse_text(col)
    n_obs, n_num = int((~na_like).sum()), int((~np.isnan(values)).sum())
    if n_obs == 0 or n_num == n_obs:
        return "no values" if n_obs == 0 else "numeric"
    return "mostly numeric" if n_num > n_obs / 2 else "text"


def _design(time_col: str | None, day_col: str | None, beep_col: str | None,
            segments: tuple[str, ...]) -> tuple[str, list[str]]:
    """Return the time column and ``[day_col]`` (empty without a day/beep design)."""
    if day_col is None and beep_col is None:
        return ("week" if time_col is None else time_col), []
    if day_col is None or beep_col is None:
        given, other = ("day_col", "beep_col") if beep_col is None else ("beep_col", "day_col")
        raise InputError(f"{given} needs {other} too: a day/beep design names the day and the "
                         "beep-of-day columns")
    if time_col is not None and time_col != beep_col:
        raise InputError(f"give either time_col ({time_col!r}) or day_col and beep_col "
                         f"({day_col!r}, {beep_col!r}), not both")
    if day_col == beep_col:
        raise InputError(f"day_col and beep_col must differ, got {day_col!r} for both")
    if clash := sorted({day_col, beep_col} & set(segments)):
        raise InputError(f"column(s) {clash} are the day/beep columns; the day already breaks "
                         "the series, so leave them out of the segments")
    return beep_col, [day_col]


def _schedule(df: pd.DataFrame, id_col: str, time_col: str | None, day_col: str | None,
              beep_col: str | None, segments: tuple[str, ...], max_gap: Any
              ) -> tuple[pd.DataFrame, str, str, str]:
    """Turn date-times into a day/beep design: calendar day, and order within the day.

    Returns the new frame, the day and beep column names and a description of
    the rule. Within a (patient, segments, day), observations are numbered in
    time order; a gap longer than ``max_gap`` skips a number (a missing beep),
    and identical date-times share one (duplicates).
    """
    if day_col is not None or beep_col is not None:
        raise InputError("max_gap orders date-times within the day; give it with time_col, "
                         "not with day_col and beep_col")
    time_col = "week" if time_col is None else time_col
    try:
        gap = pd.Timedelta(max_gap)
    except (ValueError, TypeError):
        raise InputError(f"max_gap must be a duration such as '3h' or '90min', got "
                         f"{format_value(max_gap)}") from None
    if pd.isna(gap) or gap <= pd.Timedelta(0):
        raise InputError(f"max_gap must be a positive duration, got {format_value(max_gap)}")
    _check_columns(df, [id_col, time_col, *segments])
    day_col, beep_col = f"{time_col}_day", f"{time_col}_beep"
    if clash := [c for c in (day_col, beep_col) if c in df.columns]:
        raise InputError(f"max_gap makes the columns {day_col!r} and {beep_col!r}, but the data "
                         f"already have {clash}; rename them")
    col = df[time_col]
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        raise DataError(f"column {time_col!r}: max_gap needs date-times, but the column holds "
                        "numbers; give day_col and beep_col for numbered beeps")
    dates = pd.to_datetime(col, errors="coerce", format="mixed")
    bad = dates.isna().to_numpy() & col.notna().to_numpy()
    if bad.any():
        row, shown = _first(bad, col)
        raise DataError(f"column {time_col!r}: row {row} has {shown}, which is not a date-time "
                        "(max_gap orders date-times within the day)")
    frame = pd.DataFrame({"id": df[id_col].to_numpy(), "t": dates.to_numpy()})
    for i, seg in enumerate(segments):
        frame[f"s{i}"] = df[seg].to_numpy()
    origin = frame.groupby("id", sort=False, dropna=False)["t"].transform("min").dt.normalize()
    frame["day"] = (frame["t"].dt.normalize() - origin).dt.days
    keys = ["id", *[f"s{i}" for i in range(len(segments))], "day"]
    ordered = frame[frame["t"].notna()].sort_values([*keys, "t"], kind="stable")
    step = ordered.groupby(keys, sort=False, dropna=False)["t"].diff()
    inc = np.where(step.isna(), 1, np.where(step <= pd.Timedelta(0), 0,
                                            np.where(step > gap, 2, 1)))
    beep = pd.Series(inc, index=ordered.index).groupby(
        [ordered[k] for k in keys], sort=False, dropna=False).cumsum()
    out = df.drop(columns=[time_col]).copy()
    out[day_col] = frame["day"].set_axis(df.index)
    out[beep_col] = beep.reindex(frame.index).set_axis(df.index)
    rule = f"order within the day, max gap {gap}"
    logger.info("%s: date-times as %s and %s (%s)", time_col, day_col, beep_col, rule)
    return out, day_col, beep_col, rule


def _keep_first(work: pd.DataFrame, keys: list[str],
                report: ExclusionReport) -> tuple[pd.DataFrame, ExclusionReport]:
    """Drop all but the first row (input order) of each duplicate key group; report them."""
    later = work.duplicated(keys, keep="first").to_numpy()
    if not later.any():
        return work, report
    group = work.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    first_row = pd.Series(work.index, dtype=object).groupby(group).transform("first").to_numpy()
    shown = [", ".join(f"{k}={format_value(work[k].iloc[i])}" for k in keys[1:])
             + f" (row {format_value(first_row[i])} kept)" for i in np.flatnonzero(later)]
    logger.warning("%d duplicate row(s) of (%s) excluded; the first of each is kept",
                   int(later.sum()), ", ".join(keys))
    report = report.add("row", f"duplicate ({', '.join(keys)}): first row kept",
                        work[keys[0]].to_numpy()[later], rows=work.index[later],
                        column=",".join(keys[1:]), values=shown)
    return work[~later], report


def _check_duplicates(work: pd.DataFrame, keys: list[str]) -> None:
    dup = work.duplicated(keys, keep=False).to_numpy()
    if not dup.any():
        return
    pos = int(np.flatnonzero(dup)[0])
    first = {k: work[k].iloc[pos] for k in keys}  # per column: keeps each column's dtype
    same = dup & np.logical_and.reduce([(work[k] == v).to_numpy() for k, v in first.items()])
    where = ", ".join(f"{k}={format_value(first[k])}" for k in keys[1:])
    raise DataError(f"duplicate rows for patient {format_value(first[keys[0]])} at {where} "
                    f"(rows {work.index[same].tolist()}); {int(dup.sum())} rows in duplicate "
                    f"({', '.join(keys)}) groups; remove them, or use duplicates='keep-first' "
                    "to keep the first row of each group")


def _to_steps(work: pd.DataFrame, id_col: str, time_col: str,
              time_step: str | pd.Timedelta | None,
              dayfirst: bool | None = None) -> tuple[np.ndarray, str | None]:
    """Return integer time steps, and the step as text for dates (else None)."""
    col = work[time_col]
    numbers = _numeric_times(col)
    if numbers is not None:
        return _integer_steps(numbers, col, time_col), None
    dates = _parse_dates(col, time_col, dayfirst)
    # Positional frame: steps count from each patient's own first date, so only
    # differences within a patient matter (patients may start on any weekday).
    frame = pd.DataFrame({"id": work[id_col].to_numpy(), "t": dates.reset_index(drop=True)})
    origin = frame.groupby("id", sort=False)["t"].transform("min")
    if time_step is None:
        diffs = frame.sort_values("t", kind="stable").groupby("id", sort=False)["t"].diff()
        diffs = diffs[diffs > pd.Timedelta(0)]
        if diffs.empty:
            raise DataError(f"column {time_col!r}: cannot infer the time step (no patient has two "
                            "dates); pass time_step")
        step = diffs.mode().iloc[0]
    else:
        step = pd.Timedelta(time_step)
    if step <= pd.Timedelta(0):
        raise DataError(f"time_step must be positive, got {time_step!r}")
    offset = ((frame["t"] - origin) / step).to_numpy(dtype=float)
    frac = np.abs(offset - np.round(offset)) > 1e-9
    if frac.any():
        (row, shown), (_, patient) = _first(frac, col), _first(frac, frame["id"])
        raise DataError(f"column {time_col!r}: row {row} date {shown} is not a whole number "
                        f"of time steps ({step}) from the first date of patient {patient} "
                        f"({format_value(origin[frac].iloc[0])}); pass time_step")
    return np.round(offset).astype(np.int64), str(step)


def _parse_dates(col: pd.Series, time_col: str, dayfirst: bool | None) -> pd.Series:
    """Parse a date column; refuse numbers mixed in, time zones and ambiguous day/month order."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        row, shown = _first(col.notna(), col)
        raise DataError(f"column {time_col!r}: row {row} has time {shown} with a time zone "
                        f"({col.dtype.tz}); store local dates without a time zone")
    if pd.api.types.is_datetime64_any_dtype(col):
        return col
    text = col.astype("string").str.strip()
    number = pd.to_numeric(text, errors="coerce").notna().to_numpy()
    if number.any():
        _refuse_non_dates(col.where(~number), ~number, time_col)
        (row, shown), (row2, shown2) = _first(number, col), _first(~number, col)
        raise DataError(f"column {time_col!r} mixes integer times and dates: row {row} has "
                        f"{shown}, row {row2} has {shown2}; use one kind throughout")
    zoned = text.str.contains(_TZ).fillna(False).to_numpy(bool)
    if zoned.any():
        row, shown = _first(zoned, col)
        raise DataError(f"column {time_col!r}: row {row} has time {shown} with a time zone "
                        f"({int(zoned.sum())} such value(s)); write local dates and times "
                        "without a time zone")
    parts = text.str.extract(_DMY).astype(float)
    slashed = parts[0].notna().to_numpy()
    if slashed.any() and dayfirst is None:
        first, second = parts[0].to_numpy(), parts[1].to_numpy()
        day_first, month_first = first > 12, second > 12
        if day_first.any() and month_first.any():
            (row, shown), (row2, shown2) = _first(day_first, col), _first(month_first, col)
            raise DataError(f"column {time_col!r}: row {row} has {shown} (day first) but row "
                            f"{row2} has {shown2} (month first); use one date format")
        if not (day_first.any() or month_first.any()):
            ambiguous = slashed & (first != second)
            if ambiguous.any():
                row, shown = _first(ambiguous, col)
                raise DataError(f"column {time_col!r}: row {row} has date {shown}, which reads "
                                "as day/month or month/day, and no date of the column tells "
                                "which; pass dayfirst=True (--dayfirst) for day/month, or write "
                                "dates as YYYY-MM-DD")
        dayfirst = bool(day_first.any())
    options = {"dayfirst": bool(dayfirst)} if slashed.any() else {}
    _refuse_non_dates(col, np.ones(len(col), bool), time_col, **options)
    try:
        return pd.to_datetime(col, errors="raise", format="mixed", **options)
    except (ValueError, TypeError, OverflowError):  # every value parses alone, not together
        row, shown = _first(np.ones(len(col), bool), col)
        raise DataError(f"column {time_col!r}: cannot read the dates as one column (row {row} "
                        f"has {shown}); write them all as YYYY-MM-DD") from None


def _refuse_non_dates(col: pd.Series, where: np.ndarray, time_col: str, **options: Any) -> None:
    """Raise naming the first value at ``where`` that is neither an integer nor a date."""
    parsed = pd.to_datetime(col, errors="coerce", format="mixed", **options)
    bad = where & parsed.isna().to_numpy()
    if bad.any():
        row, shown = _first(bad, col)
        raise DataError(f"column {time_col!r}: row {row} has time {shown}, which is neither "
                        "an integer nor a date")


def _numeric_times(col: pd.Series) -> np.ndarray | None:
    """Return the times as floats if they are numbers (or text of numbers), else None."""
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
        return None
    if pd.api.types.is_numeric_dtype(col):
        return col.astype(float).to_numpy()
    values, _ = _parse_text(col)
    return None if np.isnan(values).any() else values


def _integer_steps(values: np.ndarray, col: pd.Series, time_col: str) -> np.ndarray:
    """Return ``values`` as int64 after checking they are finite, in range and whole."""
    for bad, problem in [
        (~np.isfinite(values), "non-finite time {}; time must be integer steps or dates"),
        (np.abs(values) > _MAX_TIME, "time {}, too large for integer time steps (|time| must "
         f"be at most 2**53 = {_MAX_TIME})"),
        (values != np.round(values), "non-integer time {}; time must be integer steps or dates"),
    ]:
        if bad.any():
            row, shown = _first(bad, col)
            raise DataError(f"column {time_col!r}: row {row} has {problem.format(shown)}")
    return values.astype(np.int64)


def _adjacent_duplicates(work: pd.DataFrame, keys: list[str]) -> bool:
    """Whether two neighbouring rows have the same values of every key."""
    same = np.ones(max(len(work) - 1, 0), dtype=bool)
    for k in keys:
        col = work[k].to_numpy()
        same &= col[1:] == col[:-1]
    return bool(same.any())


def _check_variance(work: pd.DataFrame, id_col: str, variables: Sequence[str]) -> None:
    """Raise unless each variable varies within at least one patient (rows sorted by patient)."""
    ids = work[id_col].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, int)
    for v in variables:
        x = work[v].to_numpy(dtype=float)
        # fmax/fmin skip missing values; a patient with none observed gives NaN (not > 0)
        spread = np.fmax.reduceat(x, starts) - np.fmin.reduceat(x, starts)
        if not (spread > 0).any():
            observed = work[v].dropna()
            detail = "never observed" if observed.empty else "constant within every patient"
            raise DataError(f"column {v!r}: zero within-patient variance ({detail}); it "
                            "cannot carry within-patient dynamics; leave it out of the variables")
