"""The one error base class for bad input, and how values are shown in its messages.

:class:`InputError` is raised for every bad input: data, parameters, hypothesis
files, configurations. The command line turns it (and only it) into one
``error:`` line and exit code 2; any other exception is an internal error.
:class:`DataError` is the subclass for the data themselves.

Every message names what is wrong and where: the file, column, row or patient,
and the offending value, so that a clinical researcher can fix the data without
reading a traceback. :func:`format_value` is the one place that decides how a
value appears in a message: numbers plain (``2.5``, ``3``, ``inf``), never as
numpy reprs such as ``np.float64(2.5)``; text quoted (``'12a'``).
"""

from __future__ import annotations

import datetime
import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DataError", "InputError", "format_value", "is_integer"]

# Integral floats up to this size are shown without ".0"; beyond it, e.g. 1e+30.
_PLAIN_INT_LIMIT = 1e15


class InputError(ValueError):
    """Bad input of any kind: data, a parameter, a file, an option or a configuration.

    The base class of every error this package raises for its users' input. It
    subclasses :class:`ValueError`, so ``except ValueError`` keeps working.

    Examples
    --------
    >>> issubclass(DataError, InputError)
    True
    """


class DataError(InputError):
    """Input data that cannot be used as given.

    Examples
    --------
    >>> raise DataError("column 'week': row 7 has non-integer time 1.5")
    Traceback (most recent call last):
    ...
    features.errors.DataError: column 'week': row 7 has non-integer time 1.5
    """


def format_value(value: Any) -> str:
    """Return ``value`` as it should appear in an error message.

    Parameters
    ----------
    value : object
        A cell value: a Python or numpy number, a string, a timestamp, a
        missing value or anything else.

    Returns
    -------
    str
        Numbers in plain notation (integral floats without ``.0``, so a patient
        id read as ``3.0`` shows as ``3``); strings quoted so that blanks and
        typos are visible; timestamps as quoted ISO text; anything else by
        ``repr``.

    Examples
    --------
    >>> format_value(np.float64(2.5)), format_value(np.float64(3.0)), format_value(np.int64(7))
    ('2.5', '3', '7')
    >>> format_value(float("-inf")), format_value(1e30), format_value("12a")
    ('-inf', '1e+30', "'12a'")
    >>> format_value(pd.Timestamp("2024-01-17")), format_value(np.datetime64("2024-01-17"))
    ("'2024-01-17 00:00:00'", "'2024-01-17 00:00:00'")
    >>> format_value(np.True_), format_value(pd.NA), format_value(None)
    ('True', '<NA>', 'None')
    """
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)  # .item() would give nanoseconds as an int
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (datetime.date, datetime.datetime)):  # includes pd.Timestamp
        return repr(str(value))
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < _PLAIN_INT_LIMIT:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return repr(value)


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or NumPy); booleans are not.

    The one predicate behind every "must be an integer" check of the package.

    >>> is_integer(3), is_integer(np.int64(3)), is_integer(True), is_integer(3.0)
    (True, True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
