r"""Read SPSS, Stata and Excel files: the files experience-sampling studies arrive in.

:func:`features.io.read_table` dispatches here by suffix:

* SPSS ``.sav``, ``.zsav`` and ``.por`` (the portable format stores names in
  upper case) and Stata ``.dta`` through
  `pyreadstat <https://github.com/Roche/pyreadstat>`_;
* Excel ``.xlsx`` and ``.xlsm`` through `openpyxl <https://openpyxl.readthedocs.io>`_
  (the old binary ``.xls`` is refused with advice to save it as ``.xlsx``).

Rows are labelled so that every later error or exclusion points at a place
the user can find in the program that made the file:

* SPSS and Stata: the **case number** (1 for the first case, as in SPSS's
  Data View and Stata's data browser);
* Excel: the **sheet row number** (the header row is usually row 1, so the
  first data row is row 2); blank rows are skipped but still counted.

Values come out as they would from a CSV file: numbers as numbers (a column
of whole numbers without missing values as integers), text stripped, the
:data:`features.io.NA_VALUES` strings and SPSS/Stata missing values
(system-missing, SPSS user-defined missing values, Stata's ``.a``-``.z``) as
NaN, dates as ``datetime64``.

**Value labels** (SPSS and Stata): by default the numeric **codes** are kept,
which is what the analysis needs (a 1-7 mood scale labelled "not at all" ...
"very" is analysed as 1-7); the labels are logged. ``value_labels="labels"``
replaces every labelled code by its label instead, e.g. for a group column
(``--group-col arm`` then shows ``control``/``mbct`` rather than ``1``/``2``).
Codes without a label stay codes.

Examples
--------
>>> import tempfile, pathlib, pyreadstat
>>> path = pathlib.Path(tempfile.mkdtemp()) / "cohort.sav"
>>> df = pd.DataFrame({"patient": [1.0, 1.0, 2.0], "arm": [1.0, 1.0, 2.0],
...                    "mood": [3.5, None, 4.0]})
>>> pyreadstat.write_sav(df, path, variable_value_labels={"arm": {1: "control", 2: "mbct"}})
>>> read_spss(path).dtypes.astype(str).tolist()
['int64', 'int64', 'float64']
>>> read_spss(path, value_labels="labels")["arm"].tolist()
['control', 'control', 'mbct']
>>> read_spss(path).index.tolist()
[1, 2, 3]
"""

from __future__ import annotations

import datetime
import importlib
import logging
import numbers
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.checks import check_choice
from features.choices import VALUE_LABELS
from features.errors import DataError, format_value

__all__ = [
    "FORMAT_SUFFIXES",
    "read_excel",
    "read_formatted",
    "read_spss",
    "read_stata",
]

logger = logging.getLogger(__name__)

#: Suffix -> format read by this module.
FORMAT_SUFFIXES: dict[str, str] = {".sav": "spss", ".zsav": "spss", ".por": "spss",
                                   ".dta": "stata", ".xlsx": "excel", ".xlsm": "excel"}

# The strings read as missing values (features.io.NA_VALUES; io imports this module).
_NA_STRINGS = frozenset({"", "NA", "N/A", "NaN", "nan", "NULL", "null", ".", "-"})


def read_formatted(path: str | Path, *, value_labels: str = "codes",
                   sheet: str | int | None = None, labels: Iterable[str] = ()) -> pd.DataFrame:
    """Read an SPSS, Stata or Excel file, chosen by its suffix (:data:`FORMAT_SUFFIXES`).

    Parameters
    ----------
    path : str or Path
        The file.
    value_labels : {"codes", "labels"}
        SPSS/Stata: keep the numeric codes (default) or map labelled codes to
        their labels.
    sheet : str or int, optional
        Excel: sheet name or 0-based position (default: the first sheet).
    labels : iterable of str
        Label columns (patient ids): text in them stays text (``007`` is not
        7); see :func:`features.io.read_table`.

    Returns
    -------
    pandas.DataFrame
        Indexed by case number (SPSS, Stata) or sheet row (Excel), index name
        ``"row"``.

    Raises
    ------
    DataError
        If the file cannot be read (the message names it), has no data rows,
        or an option does not apply to its format.
    """
    path = Path(path)
    kind = FORMAT_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path}: not an SPSS, Stata or Excel file (suffixes "
                        f"{', '.join(FORMAT_SUFFIXES)})")
    if kind == "excel":
        if value_labels != "codes":
            raise DataError(f"{path}: value labels apply to SPSS and Stata files, not Excel")
        return read_excel(path, sheet=sheet, labels=labels)
    if sheet is not None:
        raise DataError(f"{path}: sheet applies to Excel files, not {kind.upper()} files")
    if kind == "spss":
        return read_spss(path, value_labels=value_labels, labels=labels)
    return read_stata(path, value_labels=value_labels, labels=labels)


# ------------------------------------------------------------------ SPSS / Stata
def read_spss(path: str | Path, *, value_labels: str = "codes",
              labels: Iterable[str] = ()) -> pd.DataFrame:
    """Read an SPSS ``.sav``/``.zsav``/``.por`` file (see the module docstring).

    Parameters
    ----------
    path : str or Path
        The file.
    value_labels : {"codes", "labels"}
        Keep the numeric codes (default) or map labelled codes to labels.
    labels : iterable of str
        Label columns whose text stays text (see :func:`read_formatted`).

    Returns
    -------
    pandas.DataFrame
        Indexed by case number (1, 2, ...).
    """
    path = Path(path)
    reader = "read_por" if path.suffix.lower() == ".por" else "read_sav"
    return _read_readstat(path, reader, "SPSS", value_labels, labels)


def read_stata(path: str | Path, *, value_labels: str = "codes",
               labels: Iterable[str] = ()) -> pd.DataFrame:
    """Read a Stata ``.dta`` file, indexed by observation number (1, 2, ...).

    The parameters, values and missing values are handled as by :func:`read_spss`.

    See Also
    --------
    read_spss : the same parameters, documented.
    """
    return _read_readstat(Path(path), "read_dta", "Stata", value_labels, labels)


def _read_readstat(path: Path, reader: str, kind: str, value_labels: str,
                   labels: Iterable[str]) -> pd.DataFrame:
    value_labels = check_choice("value_labels", value_labels, VALUE_LABELS)
    pyreadstat = _reader_module(path, "pyreadstat", kind)
    try:
        df, meta = getattr(pyreadstat, reader)(
            str(path), apply_value_formats=value_labels == "labels", formats_as_category=False,
            dates_as_pandas_datetime=True)
    except pyreadstat.ReadstatError as exc:
        raise DataError(f"{path}: not a readable {kind} file ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: cannot decode the {kind} file's text ({exc.reason} at byte "
                        f"{exc.start}); re-save it with UTF-8 encoding") from exc
    labelled = {str(c): lab for c, lab in (meta.variable_value_labels or {}).items() if lab}
    if labelled:
        shown = "; ".join(f"{c}: {_show_labels(lab)}" for c, lab in list(labelled.items())[:5])
        more = f" and {len(labelled) - 5} more" if len(labelled) > 5 else ""
        logger.info("%s: value labels (%s): %s%s", path,
                    "codes kept" if value_labels == "codes" else "mapped to labels", shown, more)
    if df.shape[0] == 0:
        raise DataError(f"{path}: the file has no data rows")
    df = _tidy_columns(df, labels)
    df.index = pd.RangeIndex(1, len(df) + 1, name="row")
    return df


def _show_labels(labels: dict[Any, Any]) -> str:
    items = list(labels.items())
    text = ", ".join(f"{format_value(k)}={v!r}" for k, v in items[:4])
    return text + (", ..." if len(items) > 4 else "")


# ------------------------------------------------------------------------- Excel
def read_excel(path: str | Path, *, sheet: str | int | None = None,
               labels: Iterable[str] = ()) -> pd.DataFrame:
    """Read one sheet of an Excel ``.xlsx``/``.xlsm`` workbook (see the module docstring).

    The first non-blank row is the header; columns that are blank in the
    header and in every row are dropped. Formulas are read as their cached
    values (as last saved by Excel).

    Parameters
    ----------
    path : str or Path
        The workbook.
    sheet : str or int, optional
        Sheet name or 0-based position; default the first sheet (the others
        are named in the log).
    labels : iterable of str
        Label columns whose text stays text (see :func:`read_formatted`).

    Returns
    -------
    pandas.DataFrame
        Indexed by sheet row number.

    Raises
    ------
    DataError
        If the workbook cannot be read, the sheet does not exist, a column
        with data has no header, header names repeat, or there are no data
        rows.
    """
    path = Path(path)
    openpyxl = _reader_module(path, "openpyxl", "Excel")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable Excel .xlsx workbook ({exc})") from exc
    try:
        ws = _sheet(book, sheet, path)
        rows = [(i, values) for i, values in enumerate(ws.iter_rows(values_only=True), 1)
                if any(not _blank(v) for v in values)]
    finally:
        book.close()
    if not rows:
        raise DataError(f"{path}: sheet {ws.title!r} is empty")
    (header_row, header), body = rows[0], rows[1:]
    if not body:
        raise DataError(f"{path}: sheet {ws.title!r} has no data rows below the header "
                        f"(row {header_row})")
    width = max(len(header), *(len(v) for _, v in body))
    cells = np.full((len(body), width), None, dtype=object)
    for r, (_, values) in enumerate(body):
        cells[r, :len(values)] = values
    names: list[str] = []
    keep: list[int] = []
    for c in range(width):
        name = header[c] if c < len(header) else None
        filled = [not _blank(v) for v in cells[:, c]]
        if _blank(name):
            if any(filled):
                first = body[filled.index(True)][0]
                raise DataError(f"{path}: sheet {ws.title!r}, column "
                                f"{openpyxl.utils.get_column_letter(c + 1)} has data (row "
                                f"{first}) but no name in the header row {header_row}")
            continue
        names.append(str(name).strip())
        keep.append(c)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DataError(f"{path}: sheet {ws.title!r}: column name(s) {dup} appear more than "
                        f"once in the header row {header_row}")
    df = pd.DataFrame(cells[:, keep], columns=names,
                      index=pd.Index([i for i, _ in body], dtype=np.int64, name="row"))
    return _tidy_columns(df, labels)


def _sheet(book: Any, sheet: str | int | None, path: Path) -> Any:
    names = book.sheetnames
    if sheet is None:
        if len(names) > 1:
            logger.info("%s: reading the first sheet %r of %s", path, names[0], names)
        return book.worksheets[0]
    if isinstance(sheet, str) and sheet in names:
        return book[sheet]
    if isinstance(sheet, str) and sheet.strip().isdigit():
        sheet = int(sheet)
    if isinstance(sheet, numbers.Integral) and 0 <= int(sheet) < len(names):
        return book.worksheets[int(sheet)]
    raise DataError(f"{path}: no sheet {format_value(sheet)}; the sheets are {names} "
                    "(give a name or a 0-based position)")


# ------------------------------------------------------------------------ shared
def _reader_module(path: Path, module: str, kind: str) -> Any:
    """Check that ``path`` is a file, then import the package that reads ``kind`` files."""
    _check_file(path)
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise DataError(f"{path}: reading {kind} files needs {module} "
                        f"(pip install {module})") from exc


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a data file")
    if path.suffix.lower() == ".xls":  # pragma: no cover - dispatch refuses .xls earlier
        raise DataError(f"{path}: old binary Excel; save it as .xlsx")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_na(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() in _NA_STRINGS
    return isinstance(value, float) and np.isnan(value)


def _tidy_columns(df: pd.DataFrame, labels: Iterable[str] = ()) -> pd.DataFrame:
    """Give every column the dtype a CSV reader would give it (see the module docstring).

    Text in a label column (patient ids) is only stripped, never turned into numbers.
    """
    labels = {str(c).strip() for c in ([labels] if isinstance(labels, str) else labels)}
    out = {}
    for name in df.columns:
        col = df[name]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            col = _tidy_object(col, numbers_from_text=str(name).strip() not in labels)
        if col.dtype.kind == "f" and col.notna().all() and np.isfinite(col).all() and (
                col == np.round(col)).all() and col.abs().max() < 2**53:
            col = col.astype(np.int64)
        out[name] = col
    return pd.DataFrame(out, index=df.index)


def _tidy_object(col: pd.Series, *, numbers_from_text: bool = True) -> pd.Series:
    values = [None if _is_na(v) else (v.strip() if isinstance(v, str) else v) for v in col]
    present = [v for v in values if v is not None]
    nan = np.nan
    if all(isinstance(v, (numbers.Real, np.number)) and not isinstance(v, bool)
           for v in present):
        return pd.Series([nan if v is None else float(v) for v in values], index=col.index,
                         dtype=np.float64, name=col.name)
    if present and all(isinstance(v, (datetime.date, pd.Timestamp)) for v in present):
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)).to_numpy(),
                         index=col.index, name=col.name)
    if numbers_from_text and present and all(isinstance(v, str) for v in present):
        parsed = pd.to_numeric(pd.Series(present), errors="coerce")
        if parsed.notna().all():  # numbers stored as text, as a CSV file would hold them
            return pd.to_numeric(pd.Series(values, index=col.index, dtype=object,
                                           name=col.name))
    return pd.Series(values, index=col.index, name=col.name)  # text: the dtype read_csv gives
