"""The validated long-format panel and its exclusion report.

A :class:`Panel` is the one object the rest of the package trusts: one row per
patient (per segment) per time point, an integer time grid, numeric
variables, and an :class:`ExclusionReport` that counts every row and patient
that was set aside, with its reason. Nothing is dropped silently.

Validation rules (see ``docs/method.md``):

* missing id / time / variable / segment **columns** -> :class:`DataError`;
* **non-numeric** or **non-finite** (inf) variable values -> :class:`DataError`
  naming column, row and value (``NA``-like strings are missing values);
* non-integer or unparsable **time** values -> :class:`DataError`;
* **duplicate** (patient, segment, time) rows -> :class:`DataError`;
* a variable with **zero within-patient variance** in every patient ->
  :class:`DataError`;
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.errors import DataError

__all__ = ["EXCLUSION_COLUMNS", "ExclusionReport", "Panel", "usable_lagged_rows"]

logger = logging.getLogger(__name__)

#: Columns of :attr:`ExclusionReport.records` (and of ``exclusions.csv``).
EXCLUSION_COLUMNS = ("level", "patient", "row", "column", "value", "reason")

_NA_STRINGS = {"", "na", "n/a", "nan", "null", ".", "-", "none"}


@dataclass(frozen=True)
class ExclusionReport:
    """Every row and patient set aside, with its reason.

    ``records`` has columns :data:`EXCLUSION_COLUMNS`; ``level`` is ``"row"``
    (one record per excluded row; ``row`` is the input row label, for files
    the line number) or ``"patient"`` (one record per excluded patient).
    """

    records: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(EXCLUSION_COLUMNS)))

    @classmethod
    def empty(cls) -> ExclusionReport:
        """Return a report with no exclusions."""
        return cls()

    def add(self, level: str, reason: str, patients: Iterable[Any], rows: Iterable[Any] | None = None,
            column: str | None = None, values: Iterable[Any] | None = None) -> ExclusionReport:
        """Return a new report with records appended (one per patient or row)."""
        patients = list(patients)
        if not patients:
            return self
        n = len(patients)
        new = pd.DataFrame({
            "level": [level] * n,
            "patient": patients,
            "row": list(rows) if rows is not None else [pd.NA] * n,
            "column": [column if column is not None else pd.NA] * n,
            "value": list(values) if values is not None else [pd.NA] * n,
            "reason": [reason] * n,
        })
        logger.info("excluded %d %s(s): %s", n, level, reason)
        frames = [f for f in (self.records, new) if not f.empty]
        return ExclusionReport(pd.concat(frames, ignore_index=True))

    def merge(self, other: ExclusionReport) -> ExclusionReport:
        """Return the records of both reports."""
        frames = [f for f in (self.records, other.records) if not f.empty]
        if not frames:
            return self
        return ExclusionReport(pd.concat(frames, ignore_index=True))

    @property
    def n_rows(self) -> int:
        """Number of excluded rows."""
        return int((self.records["level"] == "row").sum())

    @property
    def n_patients(self) -> int:
        """Number of excluded patients."""
        return int((self.records["level"] == "patient").sum())

    def summary(self) -> pd.DataFrame:
        """Return counts per (level, reason)."""
        if self.records.empty:
            return pd.DataFrame(columns=["level", "reason", "count"])
        return (self.records.groupby(["level", "reason"], sort=False).size()
                .rename("count").reset_index())

    def to_csv(self, path: str | Path) -> Path:
        """Write all records to ``path`` (header only when nothing was excluded)."""
        path = Path(path)
        self.records.to_csv(path, index=False)
        return path

    def __str__(self) -> str:
        head = (f"ExclusionReport: {self.n_rows} row(s) and {self.n_patients} patient(s) excluded")
        lines = [head]
        for r in self.summary().itertuples(index=False):
            lines.append(f"  {r.level}: {r.reason}: {r.count} {r.level}(s)")
        return "\n".join(lines)


def usable_lagged_rows(data: pd.DataFrame, keys: Sequence[str], time_col: str,
                       variables: Sequence[str], tau_max: int) -> pd.Series:
    """Count, per first key (patient), rows with every variable observed at lags 0..tau_max.

    A row at time ``t`` is usable when the same block (patient and segment)
    has rows at ``t-1, ..., t-tau_max`` and every variable is observed at all
    ``tau_max + 1`` time points. Gaps in time are never bridged.
    """
    keys = list(keys)
    complete = data[list(variables)].notna().all(axis=1).to_numpy()
    frame = data[keys + [time_col]].copy()
    frame["_ok"] = complete
    ok = frame["_ok"].copy()
    for k in range(1, tau_max + 1):
        shifted = frame[keys + [time_col, "_ok"]].copy()
        shifted[time_col] = shifted[time_col] + k
        merged = frame[keys + [time_col]].merge(shifted, on=keys + [time_col], how="left")
        ok &= merged["_ok"].fillna(False).astype(bool).to_numpy()
    return ok.groupby(data[keys[0]].to_numpy()).sum()


@dataclass(frozen=True)
class Panel:
    """A validated long-format panel.

    Build it with :meth:`Panel.from_frame`. ``data`` holds the columns
    ``[id_col, *segments, time_col, *variables]`` sorted by patient, segment
    and time, indexed by the original row labels. ``time_col`` holds integer
    time steps (dates are converted with ``time_unit``). Lags are only ever
    taken within a *block*: one patient and one combination of segment values.
    """

    data: pd.DataFrame
    id_col: str
    time_col: str
    variables: tuple[str, ...]
    segments: tuple[str, ...] = ()
    exclusions: ExclusionReport = field(default_factory=ExclusionReport.empty)
    time_unit: str | None = None

    # ------------------------------------------------------------ construction
    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, id_col: str = "patient", time_col: str = "week",
                   variables: Sequence[str] | None = None, segments: Sequence[str] = (),
                   tau_max: int | None = 1, min_lagged_rows: int = 2,
                   time_step: str | pd.Timedelta | None = None) -> Panel:
        """Validate a long-format DataFrame and build a panel.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per patient per time point.
        id_col, time_col : str
            Patient id and time columns. Time is integer (weeks, beeps) or
            dates; dates become integer steps of ``time_step``.
        variables : sequence of str, optional
            Measures to analyse; default every numeric column other than the
            id, time and segment columns.
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
            difference between consecutive dates within patients.

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
        _check_columns(df, [id_col, time_col, *segments, *(variables or [])])
        if variables is None:
            variables = [c for c in df.columns
                         if c not in {id_col, time_col, *segments}
                         and pd.api.types.is_numeric_dtype(df[c])
                         and not pd.api.types.is_bool_dtype(df[c])]
            if not variables:
                raise DataError(f"no numeric variable columns besides {id_col!r} and {time_col!r}; "
                                f"columns are {list(df.columns)}")
        variables = tuple(str(v) for v in variables)
        if len(set(variables)) != len(variables):
            raise DataError(f"variables listed twice: {sorted(v for v in set(variables) if variables.count(v) > 1)}")
        clash = set(variables) & {id_col, time_col, *segments}
        if clash:
            raise DataError(f"column(s) {sorted(clash)} cannot be both a variable and the id/time/segment")

        work = df[[id_col, *segments, time_col, *variables]].copy()
        for v in variables:
            work[v] = _to_numeric(work[v], v)
        report = ExclusionReport.empty()
        for col, what in [(id_col, "patient id"), (time_col, "time"),
                          *[(s, f"segment {s!r}") for s in segments]]:
            bad = work[col].isna()
            if bad.any():
                report = report.add("row", f"missing {what}", work.loc[bad, id_col], rows=work.index[bad],
                                    column=col)
                work = work[~bad]
        time_unit = None
        work[time_col], time_unit = _to_steps(work, id_col, time_col, time_step)
        empty = work[list(variables)].isna().all(axis=1)
        if empty.any():
            report = report.add("row", "every variable missing", work.loc[empty, id_col],
                                rows=work.index[empty])
            work = work[~empty]
        if work.empty:
            raise DataError("no rows left after removing rows with missing id, time or all variables")
        keys = [id_col, *segments, time_col]
        dup = work.duplicated(keys, keep=False)
        if dup.any():
            first = work[dup].iloc[0]
            rows = work.index[dup & (work[keys] == first[keys]).all(axis=1)].tolist()
            raise DataError(f"duplicate rows for patient {first[id_col]!r} at {time_col}="
                            f"{first[time_col]} (rows {rows}); {int(dup.sum())} rows in duplicate "
                            f"({', '.join(keys)}) groups")
        work = work.sort_values(keys, kind="stable")
        _check_variance(work, id_col, variables)
        panel = cls(data=work, id_col=id_col, time_col=time_col, variables=variables,
                    segments=segments, exclusions=report, time_unit=time_unit)
        if tau_max is not None:
            panel = panel.drop_short(tau_max, min_lagged_rows)
        logger.info("panel: %d patients, %d rows, variables %s", panel.n_patients, panel.n_rows,
                    ", ".join(variables))
        return panel

    # ---------------------------------------------------------------- methods
    @property
    def block_cols(self) -> list[str]:
        """Columns identifying a block (patient plus segments)."""
        return [self.id_col, *self.segments]

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
        return usable_lagged_rows(self.data, self.block_cols, self.time_col, self.variables, tau_max)

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
                            f"tau_max={tau_max} (most has {int(counts.max())}); every variable must "
                            f"be observed at {tau_max + 1} consecutive time points")
        return self.with_data(self.data[keep], report)

    def describe(self) -> dict[str, Any]:
        """Return sample counts for reports."""
        per = self.data.groupby(self.id_col).size()
        return {
            "patients": self.n_patients,
            "rows": self.n_rows,
            "rows_per_patient_median": float(per.median()),
            "missing_values": {v: int(self.data[v].isna().sum()) for v in self.variables},
            "rows_excluded": self.exclusions.n_rows,
            "patients_excluded": self.exclusions.n_patients,
        }

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


def _to_numeric(col: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(col):
        return col.astype(float)
    if pd.api.types.is_numeric_dtype(col):
        values = col.astype(float)
    else:
        as_str = col.astype("string").str.strip()
        na_like = col.isna() | as_str.str.lower().isin(_NA_STRINGS).fillna(True).astype(bool)
        values = pd.to_numeric(as_str.where(~na_like), errors="coerce").astype(float)
        bad = values.isna() & ~na_like
        if bad.any():
            row = col.index[bad][0]
            raise DataError(f"column {name!r}: row {row} has non-numeric value {col.loc[row]!r} "
                            f"({int(bad.sum())} non-numeric value(s) in this column)")
    inf = np.isinf(values.to_numpy())
    if inf.any():
        row = col.index[inf][0]
        raise DataError(f"column {name!r}: row {row} has non-finite value {values.loc[row]!r} "
                        f"({int(inf.sum())} non-finite value(s) in this column)")
    return values


def _to_steps(work: pd.DataFrame, id_col: str, time_col: str,
              time_step: str | pd.Timedelta | None) -> tuple[pd.Series, str | None]:
    col = work[time_col]
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.astype(float)
        frac = values != np.round(values)
        if frac.any():
            row = col.index[frac][0]
            raise DataError(f"column {time_col!r}: row {row} has non-integer time {col.loc[row]!r}; "
                            "time must be integer steps or dates")
        return values.astype(np.int64), None
    try:
        dates = pd.to_datetime(col, errors="raise", format="mixed")
    except (ValueError, TypeError):
        parsed = pd.to_datetime(col, errors="coerce", format="mixed")
        row = col.index[parsed.isna()][0]
        raise DataError(f"column {time_col!r}: row {row} has time {col.loc[row]!r}, which is neither "
                        "an integer nor a date") from None
    if time_step is None:
        diffs = dates.groupby(work[id_col].to_numpy()).diff().dropna()
        diffs = diffs[diffs > pd.Timedelta(0)]
        if diffs.empty:
            raise DataError(f"column {time_col!r}: cannot infer the time step (no patient has two "
                            "dates); pass time_step")
        step = diffs.mode().iloc[0]
    else:
        step = pd.Timedelta(time_step)
    if step <= pd.Timedelta(0):
        raise DataError(f"time_step must be positive, got {time_step!r}")
    offset = (dates - dates.min()) / step
    frac = (offset - np.round(offset)).abs() > 1e-9
    if frac.any():
        row = col.index[frac.to_numpy()][0]
        raise DataError(f"column {time_col!r}: row {row} date {col.loc[row]!r} is not a whole number "
                        f"of time steps ({step}) from the first date; pass time_step")
    return np.round(offset).astype(np.int64), str(step)


def _check_variance(work: pd.DataFrame, id_col: str, variables: Sequence[str]) -> None:
    sd = work.groupby(id_col)[list(variables)].std(ddof=0)
    for v in variables:
        if not (sd[v].fillna(0) > 0).any():
            observed = work[v].dropna()
            detail = "never observed" if observed.empty else f"constant within every patient"
            raise DataError(f"column {v!r}: zero within-patient variance ({detail}); "
                            "it cannot carry within-patient dynamics, drop it with --vars")
