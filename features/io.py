r"""Read long-format panels from CSV, text or Parquet files.

Rows read from a file are labelled with their **line number in the file**
(the header is line 1), so every later error or exclusion that names a row
points at a line the user can open in an editor. Blank lines are skipped but
still counted, and a record whose quoted field spans several lines is labelled
with the line it starts on. SPSS ``.sav``, Stata ``.dta`` and Excel ``.xlsx``
files are read by :mod:`features.formats` (rows labelled by case number or
sheet row).

Nothing is misread silently (issue 12): text must be UTF-8 (a Latin-1 or
UTF-16 file is refused, naming the file, the line and the likely encoding);
a NUL byte is refused naming its line; two columns with one name (also
``depression`` and ``depression ``, in text or Parquet) are refused, never
renamed ``depression.1``; ``labels`` (patient ids) are read as text, so
``007`` and ``7`` stay two patients; ``na_values`` declares missing-value
codes such as ``-999``; ``decimal=","`` reads decimal commas. Values far
outside their column (an undeclared code) are flagged later, by
:class:`features.panel.Panel`.

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
import io
import logging
import numbers
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.errors import DataError, InputError, format_value
from features.formats import FORMAT_SUFFIXES, read_formatted

__all__ = ["NA_VALUES", "read_table", "write_csv"]

logger = logging.getLogger(__name__)

#: Strings read as missing values.
NA_VALUES: tuple[str, ...] = ("", "NA", "N/A", "NaN", "nan", "NULL", "null", ".", "-")

_TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".dat"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}


def read_table(path: str | Path, *, sep: str | None = None,
               na_values: Iterable[str | float] | None = None, decimal: str = ".",
               labels: Iterable[str] = (), value_labels: str = "codes",
               sheet: str | int | None = None) -> pd.DataFrame:
    r"""Read a long-format table from a CSV/text, Parquet, SPSS, Stata or Excel file.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.txt``, ``.tsv`` or ``.dat`` (delimited UTF-8 text; the
        delimiter is sniffed unless ``sep`` is given), or ``.parquet``/``.pq``.
        SPSS ``.sav``/``.zsav``/``.por``, Stata ``.dta`` and Excel
        ``.xlsx``/``.xlsm`` are read by :func:`features.formats.read_formatted`
        (``na_values`` and ``labels`` apply to them too).
    sep : str, optional
        Field delimiter for text files.
    na_values : iterable of str or number, optional
        Missing-value codes in addition to :data:`NA_VALUES`, e.g.
        ``["-999", "999"]`` (``--na-values -999,999``). A code matches the
        text of a cell and, if it is a number, every cell of the same number
        (``-999`` also matches ``-999.0``). Codes do not apply to ``labels``
        (patient 999 stays patient 999).
    decimal : {".", ","}
        Decimal mark of text files; ``","`` reads ``3,5`` as 3.5 (it cannot
        be the delimiter too).
    labels : iterable of str
        Columns that hold labels such as patient ids. They are read as text,
        so ``007`` and ``7`` stay two different patients; only when every
        value is written as a plain integer (no leading zeros, signs, blanks
        or decimals) are they turned into integers, which are then the very
        same labels and sort numerically. Names not in the file are ignored.
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
        If the file does not exist, has an unknown suffix, is not UTF-8 text,
        holds a NUL byte, cannot be parsed, holds no data rows or has two
        columns of the same name (compared after removing surrounding
        blanks: ``depression`` and ``depression `` are the same name).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ids.csv"
    >>> _ = path.write_text("patient,week,x\n007,1,-999\n7,1,3\n")
    >>> df = read_table(path, labels=["patient"], na_values=["-999"])
    >>> df["patient"].tolist(), df["x"].tolist()
    (['007', '7'], [nan, 3.0])
    """
    path = Path(path)
    codes = _na_codes(na_values)
    if decimal not in (".", ","):
        raise InputError(f"decimal must be '.' or ',', got {format_value(decimal)}")
    labels = {str(c).strip() for c in ([labels] if isinstance(labels, str) else labels)}
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
        df = _strip_names(df, path)
        df = _replace_codes(df, codes, labels)
    elif suffix in _TEXT_SUFFIXES:
        df = _strip_names(_read_text(path, sep, codes, decimal, labels), path)
    elif suffix in FORMAT_SUFFIXES:
        df = read_formatted(path, value_labels=value_labels, sheet=sheet, labels=labels)
        df = _replace_codes(_strip_names(df, path), codes, labels)
    elif suffix == ".xls":
        raise DataError(f"{path}: old binary Excel (.xls) is not supported; save it as .xlsx")
    else:
        raise DataError(f"{path}: unknown file type {suffix!r}; use .csv, .txt, .tsv, "
                        ".parquet, .sav, .dta or .xlsx")
    for name in labels & set(df.columns):
        df[name] = _as_labels(df[name])
    logger.info("read %d rows x %d columns from %s", len(df), df.shape[1], path)
    return df


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` without its index to ``path``; return the path.

    The one way the result tables (``links.csv``, ``hypotheses.csv``,
    ``exclusions.csv``, ...) are written, so :func:`read_table` reads them back.

    >>> import tempfile
    >>> path = write_csv(pd.DataFrame({"a": [1, 2]}), Path(tempfile.mkdtemp()) / "a.csv")
    >>> read_table(path)["a"].tolist()
    [1, 2]
    """
    path = Path(path)
    frame.to_csv(path, index=False)
    return path


def _na_codes(na_values: Iterable[str | float] | None) -> tuple[str, ...]:
    if na_values is None:
        return ()
    if isinstance(na_values, (str, numbers.Number)):
        na_values = [na_values]
    codes = []
    for v in na_values:
        if isinstance(v, bool) or not isinstance(v, (str, numbers.Real)):
            raise InputError(f"na_values must be strings or numbers, got {format_value(v)}")
        codes.append(v.strip() if isinstance(v, str) else format_value(v))
    return tuple(codes)


def _duplicates(names: Sequence[str]) -> dict[str, list[int]]:
    """Names (non-empty) given more than once -> their 1-based column positions."""
    where: dict[str, list[int]] = {}
    for i, n in enumerate(names, 1):
        if n:
            where.setdefault(n, []).append(i)
    return {n: pos for n, pos in where.items() if len(pos) > 1}


def _duplicate_error(path: Path, dups: dict[str, list[int]]) -> DataError:
    shown = "; ".join(f"{n!r} (columns {', '.join(map(str, pos))})" for n, pos in dups.items())
    return DataError(f"{path}: duplicate column name(s) {shown}; names are compared after "
                     "removing surrounding blanks: rename or remove the extra column(s)")


def _strip_names(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    names = [str(c).strip() for c in df.columns]
    if dups := _duplicates(names):
        raise _duplicate_error(path, dups)
    df.columns = names
    return df


def _replace_codes(df: pd.DataFrame, codes: Sequence[str], labels: set[str]) -> pd.DataFrame:
    """Set the cells equal to a missing-value code (as text or as a number) to missing."""
    if not codes:
        return df
    numbers_ = [float(c) for c in codes if _is_number(c)]
    for name in df.columns.difference(list(labels), sort=False):
        col = df[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            hit = col.isin(numbers_)
            df[name] = col.astype(float).mask(hit) if hit.any() else col
        elif pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col):
            df[name] = col.mask(col.astype("string").str.strip().isin(codes).fillna(False))
    return df


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _as_labels(col: pd.Series) -> pd.Series:
    """Label column: keep the text unless every value is a plain integer (then int64)."""
    if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
        return col
    known = col.dropna()
    if known.empty:
        return col
    plain = known.astype(str).str.fullmatch(r"-?(0|[1-9]\d{0,14})")
    # plain integers are the same labels as numbers (float64 if some are missing)
    return pd.to_numeric(col) if bool(plain.all()) else col


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
    except ImportError:
        names = []
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from exc
    if dups := _duplicates([str(n).strip() for n in names]):
        raise _duplicate_error(path, dups)
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


def _read_text(path: Path, sep: str | None, codes: Sequence[str], decimal: str,
               labels: set[str]) -> pd.DataFrame:
    text = _decode(path)
    if sep is None:
        sep = "\t" if path.suffix.lower() == ".tsv" else _sniff_sep(text)
    if sep == decimal:
        raise InputError(f"{path}: the delimiter and the decimal mark are both {sep!r}; "
                         "pass sep (e.g. ';') when decimal=','")
    options: dict[str, Any] = dict(sep=sep, skipinitialspace=True)
    try:
        names = _header_names(text, sep)
        if dups := _duplicates([n.strip() for n in names]):
            raise _duplicate_error(path, dups)
        na = {n: [*NA_VALUES, *([] if n.strip() in labels else codes)] for n in names}
        df = pd.read_csv(io.StringIO(text), na_values=na or list(NA_VALUES), keep_default_na=True,
                         decimal=decimal, dtype={n: str for n in names if n.strip() in labels},
                         **options)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: cannot parse ({str(exc).strip()})") from exc
    if df.empty:
        raise DataError(f"{path}: the file has no data rows")
    # pandas uses a leading unnamed column as the index when the header is one short.
    df = df.reset_index(drop=True)
    # a delimiter at the end of every line: a column without name or values holds nothing
    blank = [c for c, n in zip(df.columns, _pad(names, df.shape[1]), strict=True)
             if not n.strip() and df[c].isna().all()]
    if blank:
        logger.info("%s: %d column(s) without a name or any value dropped (a delimiter at the "
                    "end of the lines?)", path, len(blank))
        df = df.drop(columns=blank)
    lines = _record_lines(text, sep)
    if len(lines) == len(df):
        df.index = pd.Index(lines, dtype=np.int64, name="row")
    else:  # a construct the line scan does not model; never mislabel rows silently
        logger.warning("%s: cannot match the %d records to file lines (found %d); rows are "
                       "labelled by record number + 1, which may differ from line numbers",
                       path, len(df), len(lines))
        df.index = pd.RangeIndex(2, len(df) + 2, name="row")
    return df


def _pad(names: list[str], n: int) -> list[str]:
    """Return the last ``n`` header names (a header one short names no row-label column)."""
    return ([""] * n + names)[-n:] if n else []


def _header_names(text: str, sep: str) -> list[str]:
    """Return the header names (first non-blank record) as pandas reads them, duplicates kept."""
    lines = io.StringIO(text, newline="").readlines()
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if start == len(lines):
        return []
    if len(sep) > 1:  # whitespace-separated
        return [t.strip('"') for t in lines[start].split()]
    return next(csv.reader(lines[start:], delimiter=sep, quotechar='"', skipinitialspace=True,
                           strict=False), [])


def _decode(path: Path) -> str:
    """Return the file's text (UTF-8, a byte-order mark removed); refuse other encodings and NUL."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start:exc.start + 1].hex()
        guess = ""
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            guess = "; it looks UTF-16 encoded"
        elif b"\x00" not in raw:
            try:
                raw.decode("cp1252")
                guess = "; it looks Latin-1 / Windows-1252 encoded"
            except UnicodeDecodeError:
                pass
        raise DataError(f"{path}: not a UTF-8 text file (byte 0x{bad} on line {line} is not "
                        f"valid UTF-8{guess}): save it as UTF-8 (CSV UTF-8 in Excel)") from None
    nul = text.find("\x00")
    if nul >= 0:
        line = len(io.StringIO(text[:nul], newline="").readlines()) or 1
        if text[:nul].endswith(("\n", "\r")):
            line += 1
        raise DataError(f"{path}: line {line} holds a NUL byte (binary data, or a UTF-16 "
                        "file?): save it as UTF-8 text")
    return text


def _record_lines(text: str, sep: str) -> list[int]:
    """Return the 1-based file line on which each data record starts.

    Records are split like pandas splits them: a quoted field may span lines,
    and lines holding only blanks (spaces or tabs that are not the delimiter)
    are skipped. The first non-blank record is the header.
    """
    blanks = {" ", "\t"} - {sep}
    raw = io.StringIO(text, newline="").readlines()
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
        logger.debug("line scan stopped at line %d (%s)", end, exc)
        return []
    return starts[1:]  # the first record is the header


def _sniff_sep(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")  # pandas skips blanks
    counts = {s: header.count(s) for s in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    if counts[best] > 0:
        return best
    return r"\s+" if len(header.split()) > 1 else ","
