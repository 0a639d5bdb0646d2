"""Read long-format panels from CSV, text or Parquet files.

Rows read from a file are labelled with their **line number in the file**
(the header is line 1), so every later error or exclusion that names a row
points at a line the user can open in an editor.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "cohort.csv"
>>> _ = path.write_text("patient,week,depression\\n1,1,12\\n1,2,NA\\n")
>>> df = read_table(path)
>>> df.index.tolist(), df["depression"].isna().tolist()
([2, 3], [False, True])
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from features.errors import DataError

__all__ = ["NA_VALUES", "read_table"]

logger = logging.getLogger(__name__)

#: Strings read as missing values.
NA_VALUES: tuple[str, ...] = ("", "NA", "N/A", "NaN", "nan", "NULL", "null", ".", "-")

_TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".dat"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}


def read_table(path: str | Path, *, sep: str | None = None) -> pd.DataFrame:
    """Read a long-format table from a CSV/text or Parquet file.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.txt``, ``.tsv`` or ``.dat`` (delimited text; the
        delimiter is sniffed unless ``sep`` is given), or ``.parquet``/``.pq``.
    sep : str, optional
        Field delimiter for text files.

    Returns
    -------
    pandas.DataFrame
        The table, indexed by file line number (text) or by 1-based record
        number plus one (Parquet), so the first data record is row 2.
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
    if suffix in _PARQUET_SUFFIXES:
        df = _read_parquet(path)
    elif suffix in _TEXT_SUFFIXES:
        df = _read_text(path, sep)
    else:
        raise DataError(f"{path}: unknown file type {suffix!r}; use .csv, .txt, .tsv or .parquet")
    if df.empty:
        raise DataError(f"{path}: the file has no data rows")
    df.index = pd.RangeIndex(2, len(df) + 2, name="row")
    df.columns = [str(c).strip() for c in df.columns]
    logger.info("read %d rows x %d columns from %s", len(df), df.shape[1], path)
    return df


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path).reset_index(drop=True)
    except ImportError as exc:
        raise DataError(f"{path}: reading Parquet needs pyarrow "
                        "(pip install 'therapy-pcmci[parquet]')") from exc
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from exc


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
        raise DataError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from exc
    # pandas uses a leading unnamed column as the index when the header is one short.
    return df.reset_index(drop=True)


def _sniff_sep(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as fh:
            header = fh.readline()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from exc
    counts = {s: header.count(s) for s in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    if counts[best] > 0:
        return best
    return r"\s+" if len(header.split()) > 1 else ","
