"""Exceptions raised for bad input data.

Every message names what is wrong and where: the file, column, row or patient,
and the offending value, so that a clinical researcher can fix the data without
reading a traceback.
"""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """Input data that cannot be used as given.

    Examples
    --------
    >>> raise DataError("column 'week': row 7 has non-integer time 1.5")
    Traceback (most recent call last):
    ...
    features.errors.DataError: column 'week': row 7 has non-integer time 1.5
    """
