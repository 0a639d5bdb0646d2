r"""Read long-format panels from CSV, text, Parquet, SPSS, Stata or Excel files.

Rows read from a file are labelled with their **line number in the file**
(the header is line 1), so every later error or exclusion that names a row
points at a line the user can open in an editor. Blank lines are skipped but
still counted, and a record whose quoted field spans several lines is labelled
with the line it starts on. SPSS ``.sav``, Stata ``.dta`` and Excel ``.xlsx``
files are read by :mod:`features.formats` (rows labelled by case number or
sheet row).

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "cohort.csv"
>>> _ = path.write_text("patient,week,depression\n1,1,12\n\n1,2,NA\n")
>>> df = read_table(path)
>>> df.index.tolist(), df["depression"].isna().tolist()
([2, 4], [False, True])
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from features.errors import DataError
from features.formats import FORMAT_SUFFIXES, read_formatted

__all__ = ["NA_VALUES", "read_table"]

logger = logging.getLogger(__name__)

#: Strings read as missing values.
NA_VALUES: tuple[str, ...] = ("", "NA", "N/A", "NaN", "nan", "NULL", "null", ".", "-")

_TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".dat"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}


def read_table(path: str | Path, *, sep: str | None = None, value_labels: str = "codes",
               sheet: str | int | None = None) -> pd.DataFrame:
    """Read a long-format table from a CSV/text, Parquet, SPSS, Stata or Excel file.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.txt``, ``.tsv`` or ``.dat`` (delimited text; the
        delimiter is sniffed unless ``sep`` is given), or ``.parquet``/``.pq``.
        SPSS ``.sav``/``.zsav``/``.por``, Stata ``.dta`` and Excel
        ``.xlsx``/``.xlsm`` are read by :func:`features.formats.read_formatted`.
    sep : str, optional
        Field delimiter for text files.
    value_labels : {"codes", "labels"}
        SPSS/Stata: keep numeric codes (default) or map labelled codes to their
        labels (see :mod:`features.formats`).
    sheet : str or int, optional
        Excel: sheet name or 0-based position (default the first sheet).

    Returns
    -------
    pandas.DataFrame
        The table, indexed by file line number (text; blank lines are
        counted) or by 1-based record number plus one (Parquet), so the first
        data record is row 2. Named index levels stored in a Parquet file
        (``df.set_index("patient").to_parquet(...)``) become columns; an
        unnamed stored index is dropped.
        A text file whose header has one name fewer than its data rows (a
        leading row-label column, as written by R's ``write.table``) is read
        with the row labels dropped.

    Raises
    ------
    DataError
        If the file does not exist, has an unknown suffix, cannot be parsed,
        or holds no data rows.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a CSV or Parquet file")
    suffix = path.suffix.lower()
    if suffix not in FORMAT_SUFFIXES and (value_labels != "codes" or sheet is not None):
        option = "sheet" if sheet is not None else "value_labels"
        raise DataError(f"{path}: {option} applies to SPSS, Stata or Excel files, not "
                        f"{suffix or 'this'} files")
    if suffix in _PARQUET_SUFFIXES:
        df = _read_parquet(path)
        if df.empty:
            raise DataError(f"{path}: the file has no data rows")
        df.index = pd.RangeIndex(2, len(df) + 2, name="row")
    elif suffix in _TEXT_SUFFIXES:
        df = _read_text(path, sep)
    elif suffix in FORMAT_SUFFIXES:
        df = read_formatted(path, value_labels=value_labels, sheet=sheet)
    elif suffix == ".xls":
        raise DataError(f"{path}: old binary Excel (.xls) is not supported; save it as .xlsx")
    else:
        raise DataError(f"{path}: unknown file type {suffix!r}; use .csv, .txt, .tsv, "
                        ".parquet, .sav, .dta or .xlsx")
    df.columns = [str(c).strip() for c in df.columns]
    logger.info("read %d rows x %d columns from %s", len(df), df.shape[1], path)
    return df


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except ImportError as exc:
        raise DataError(f"{path}: reading Parquet needs pyarrow "
                        "(pip install 'therapy-pcmci[parquet]')") from exc
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from exc
    # A named index (df.set_index("patient")) holds data: keep it as columns.
    named = [str(n) for n in df.index.names if n is not None]
    if named:
        clash = sorted(set(named) & {str(c) for c in df.columns})
        if clash:
            raise DataError(f"{path}: index level(s) {clash} have the same name as a column")
        if len(set(named)) != len(named):
            raise DataError(f"{path}: index level names are not unique: {named}")
        logger.info("%s: index level(s) %s kept as columns", path, named)
        df = df.reset_index(level=[n for n in df.index.names if n is not None])
    return df.reset_index(drop=True)


def _read_text(path: Path, sep: str | None) -> pd.DataFrame:
    if sep is None:
        sep = "\t" if path.suffix.lower() == ".tsv" else _sniff_sep(path)
    try:
        df = pd.read_csv(path, sep=sep, na_values=list(NA_VALUES), keep_default_na=True,
                         skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: cannot parse ({str(exc).strip()})") from exc
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from exc
    if df.empty:
        raise DataError(f"{path}: the file has no data rows")
    # pandas uses a leading unnamed column as the index when the header is one short.
    df = df.reset_index(drop=True)
    lines = _record_lines(path, sep)
    if len(lines) == len(df):
        df.index = pd.Index(lines, dtype=np.int64, name="row")
    else:  # a construct the line scan does not model; never mislabel rows silently
        logger.warning("%s: cannot match the %d records to file lines (found %d); rows are "
                       "labelled by record number + 1, which may differ from line numbers",
                       path, len(df), len(lines))
        df.index = pd.RangeIndex(2, len(df) + 2, name="row")
    return df


def _record_lines(path: Path, sep: str) -> list[int]:
    """Return the 1-based file line on which each data record starts.

    Records are split like pandas splits them: a quoted field may span lines,
    and lines holding only blanks (spaces or tabs that are not the delimiter)
    are skipped. The first non-blank record is the header.
    """
    blanks = {" ", "\t"} - {sep}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        raw = fh.readlines()
    if not any('"' in line for line in raw):  # no quoting: one record per line (fast path)
        strip = "".join(blanks) + "\r\n"
        return [i for i, line in enumerate(raw, 1) if line.strip(strip)][1:]
    reader = csv.reader(raw, delimiter=sep if len(sep) == 1 else " ", quotechar='"',
                        skipinitialspace=True, strict=False)
    starts: list[int] = []
    end = 0
    try:
        for _ in reader:
            start, end = end + 1, reader.line_num
            if start == end and set(raw[start - 1].rstrip("\r\n")) <= blanks:
                continue
            starts.append(start)
    except csv.Error as exc:  # e.g. a field beyond csv's size limit: caller falls back
        logger.debug("%s: line scan stopped at line %d (%s)", path, end, exc)
        return []
    return starts[1:]  # the first record is the header


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> DataError:
    return DataError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})")


def _sniff_sep(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as fh:
            header = next((line for line in fh if line.strip()), "")  # pandas skips blank lines
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from exc
    counts = {s: header.count(s) for s in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    if counts[best] > 0:
        return best
    return r"\s+" if len(header.split()) > 1 else ","
