"""Result tables and figures of the experiments: rates with Wilson intervals, CSV and PNG output.

Used by every study of :mod:`experiments` through :class:`experiments.harness.study.Study`:

* :func:`rate_row` - a proportion with its Wilson 95% interval
  (:func:`causal.rates.summarize_rate`) - the same as the columns of a summary-table row,
  with the mean and SD of the estimates behind it;
* :func:`write_outputs` / :func:`read_output` - CSV tables;
* :func:`save_figure` - write a :class:`matplotlib.figure.Figure` to a file.

Examples
--------
>>> row = rate_row(1, 4, pd.Series([0.1, 0.3]))
>>> row["k"], row["n"], row["rate"], round(row["mean_value"], 3)
(1, 4, 0.25, 0.2)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from causal.rates import summarize_rate
from features.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "rate_row",
    "read_output",
    "save_figure",
    "write_outputs",
]

logger = logging.getLogger(__name__)


def rate_row(k: int, n: int, values: pd.Series | None = None) -> dict[str, Any]:
    """Return a summary-table row: ``k, n, rate, ci_low, ci_high, mean_value, sd_value``.

    Parameters
    ----------
    k, n : int
        Events and trials (see :func:`summarize_rate`; Wilson 95% interval).
    values : pandas.Series, optional
        Estimates behind the rate (e.g. one per cohort); ``mean_value`` is
        their mean and ``sd_value`` their sample SD (``ddof=1``; NaN for
        fewer than two values). None gives NaN for both.

    Examples
    --------
    >>> row = rate_row(0, 5)
    >>> row["rate"], row["ci_low"], row["mean_value"], row["sd_value"]
    (0.0, 0.0, nan, nan)
    """
    return {**summarize_rate(int(k), int(n)).as_dict(),
            "mean_value": np.nan if values is None else float(values.mean()),
            "sd_value": np.nan if values is None or len(values) < 2 else float(values.std())}


def write_outputs(out_dir: str | Path, tables: Mapping[str, pd.DataFrame]) -> list[Path]:
    """Write each table as ``out_dir/NAME.csv`` (no index) and return the paths.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created if needed).
    tables : mapping of str to pandas.DataFrame
        File stem (``".csv"`` is appended unless present) to table.
    """
    out = Path(out_dir)
    paths = []
    for name, table in tables.items():
        stem = str(name)
        if not stem or Path(stem).name != stem or stem in (".", ".."):
            raise InputError(f"table name must be a plain file name, got {name!r}")
        if not isinstance(table, pd.DataFrame):
            raise InputError(f"table {name!r} must be a pandas DataFrame, got "
                             f"{type(table).__name__}")
        out.mkdir(parents=True, exist_ok=True)
        path = out / (stem if stem.endswith(".csv") else f"{stem}.csv")
        table.to_csv(path, index=False)
        paths.append(path)
        logger.info("wrote %s (%d rows)", path, len(table))
    return paths


def read_output(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`write_outputs`.

    Only empty fields are missing values: pandas' default would also read
    the scenario name ``"null"`` (and ``"NA"``, ``"none"``...) as NaN.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_outputs(tempfile.mkdtemp(), {"t": pd.DataFrame(
    ...     {"scenario": ["null", "paper"], "rate": [0.05, None]})})
    >>> read_output(paths[0]).to_dict("list")
    {'scenario': ['null', 'paper'], 'rate': [0.05, nan]}
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix; folders created) and return the path.

    Examples
    --------
    >>> import tempfile
    >>> from matplotlib.figure import Figure
    >>> path = save_figure(Figure(), Path(tempfile.mkdtemp()) / "sub" / "empty.png")
    >>> path.name, path.stat().st_size > 0
    ('empty.png', True)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
