"""ExclusionReport: every row, patient or column set aside, with its reason.

Nothing is dropped silently: :class:`features.panel.Panel` and the
transforms append a record for each exclusion, and the pipeline writes them
to ``exclusions.csv``.

Examples
--------
>>> report = ExclusionReport.empty().add("patient", "too few rows", [3, 7])
>>> report.n_patients, report.n_rows
(2, 0)
>>> print(report)
ExclusionReport: 0 row(s) and 2 patient(s) excluded
  patient: too few rows: 2 patient(s)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from features.io import write_csv

__all__ = ["EXCLUSION_COLUMNS", "ExclusionReport"]

logger = logging.getLogger(__name__)

#: Columns of :attr:`ExclusionReport.records` (and of ``exclusions.csv``).
EXCLUSION_COLUMNS = ("level", "patient", "row", "column", "value", "reason")


@dataclass(frozen=True)
class ExclusionReport:
    """Every row and patient set aside, with its reason.

    ``records`` has columns :data:`EXCLUSION_COLUMNS`; ``level`` is ``"row"``
    (one record per excluded row; ``row`` is the input row label, for files
    the line number), ``"patient"`` (one record per excluded patient),
    ``"column"`` (a column left out of the automatically detected variables;
    ``value`` is an example value) or ``"warning"`` (a value kept and analysed
    but flagged, e.g. a possible missing-value code; nothing is excluded).
    """

    records: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(EXCLUSION_COLUMNS)))

    @classmethod
    def empty(cls) -> ExclusionReport:
        """Return a report with no exclusions."""
        return cls()

    def add(self, level: str, reason: str, patients: Iterable[Any],
            rows: Iterable[Any] | None = None, column: str | None = None,
            values: Iterable[Any] | None = None) -> ExclusionReport:
        """Return a new report with records appended (one per patient or row)."""
        patients = list(patients)
        if not patients:
            return self
        n, na = len(patients), [pd.NA] * len(patients)
        new = pd.DataFrame({
            "level": [level] * n, "patient": patients, "row": na if rows is None else list(rows),
            "column": [pd.NA if column is None else column] * n,
            "value": na if values is None else list(values), "reason": [reason] * n,
        })
        logger.info("%s %d %s(s): %s", "flagged" if level == "warning" else "excluded", n, level,
                    reason)
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

    @property
    def ignored_columns(self) -> list[str]:
        """Columns left out of the automatically detected variables."""
        return self.records.loc[self.records["level"] == "column", "column"].tolist()

    def summary(self) -> pd.DataFrame:
        """Return counts per (level, reason)."""
        if self.records.empty:
            return pd.DataFrame(columns=["level", "reason", "count"])
        return (self.records.groupby(["level", "reason"], sort=False).size()
                .rename("count").reset_index())

    def to_csv(self, path: str | Path) -> Path:
        """Write all records to ``path`` (header only when nothing was excluded)."""
        return write_csv(self.records, path)

    def __str__(self) -> str:
        head = f"ExclusionReport: {self.n_rows} row(s) and {self.n_patients} patient(s) excluded"
        if self.ignored_columns:
            head += f", {len(self.ignored_columns)} column(s) ignored"
        lines = [head]
        for r in self.summary().itertuples(index=False):
            lines.append(f"  {r.level}: {r.reason}: {r.count} {r.level}(s)")
        return "\n".join(lines)
