"""Property tests of :func:`features.io.read_table` on generated files (issue 12, item 5).

Every generated CSV, whatever its delimiter, quoting, byte-order mark, line
ends, blank lines, missing-value codes and id type, must read back exactly:
the same column names, ids as the same labels, every number bit for bit, the
missing cells missing, and each row labelled with its line in the file. Any
file at all (random text or bytes) either reads or raises one
:class:`~features.errors.InputError`: never another exception.
"""

from __future__ import annotations

import csv
import io
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from features.errors import InputError
from features.io import NA_VALUES, read_table

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

_PLAIN_INT = re.compile(r"-?(0|[1-9]\d{0,14})")
_NA_LIKE = {t.lower() for t in NA_VALUES} | {"none", "n/a", "nan", "inf", "-inf", "+inf",
                                             "infinity", "-infinity", "+infinity", "#n/a",
                                             "#na", "-nan", "1.#ind", "1.#qnan", "<na>",
                                             "-1.#ind", "-1.#qnan", "true", "false"}

names = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=3,
                 unique=True).filter(lambda ns: not {"id", "week"} & set(ns))
text_ids = st.text(st.characters(codec="utf-8", exclude_categories=("C", "Z")) | st.sampled_from(
    [",", ";", '"', "'", "\t", " "]), min_size=1, max_size=6).filter(
    lambda s: s == s.strip() and s.lower() not in _NA_LIKE and "\t" not in s)
id_kinds = st.one_of(
    st.lists(st.integers(-10**6, 10**15).map(str), min_size=1, max_size=12),
    st.lists(st.integers(0, 999).map(lambda i: f"{i:03d}"), min_size=1, max_size=12),
    st.lists(text_ids, min_size=1, max_size=12),
)
numbers = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**15, 10**15))


@st.composite
def tables(draw):
    ids = draw(id_kinds)
    n = len(ids)
    cols = draw(names)
    values = {c: draw(st.lists(st.none() | numbers, min_size=n, max_size=n)) for c in cols}
    return ids, list(range(1, n + 1)), values


def _expected_ids(ids: list[str]) -> list:
    if all(_PLAIN_INT.fullmatch(i) for i in ids):
        return [int(i) for i in ids]
    return ids


def _write(rows: list[list[str]], sep: str, quoting: int, newline: str, bom: bool,
           blanks: list[int]) -> tuple[bytes, list[int]]:
    """Write the records (header first) with blank lines before the given records."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, quoting=quoting, lineterminator=newline)
    lines, line = [], 0
    for k, row in enumerate(rows):
        for _ in range(blanks.count(k) if k else 0):
            buf.write(newline)
            line += 1
        writer.writerow(row)
        line += 1
        lines.append(line)
    text = buf.getvalue()
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8"), lines[1:]


@SETTINGS
@given(table=tables(), sep=st.sampled_from([",", ";", "\t"]),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
       newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans(),
       code=st.sampled_from([*NA_VALUES, "-999", "999", "-99"]),
       blanks=st.lists(st.integers(1, 12), max_size=3), explicit_sep=st.booleans())
def test_generated_csv_round_trips(tmp_path, table, sep, quoting, newline, bom, code, blanks,
                                   explicit_sep):
    ids, weeks, values = table
    if code == "" and quoting == csv.QUOTE_ALL:
        assume(False)  # a quoted empty field is an empty label, not a missing value
    custom = code not in NA_VALUES
    shown = {c: [code if v is None else repr(v) for v in vs] for c, vs in values.items()}
    if custom:  # a declared code must not collide with a real value of the same number
        assume(all(float(code) != v for vs in values.values() for v in vs if v is not None))
    header = ["id", "week", *values]
    rows = [header] + [[ids[i], str(weeks[i]), *(shown[c][i] for c in values)]
                       for i in range(len(ids))]
    content, lines = _write(rows, sep, quoting, newline, bom, blanks)
    path = tmp_path / "generated.csv"
    path.write_bytes(content)

    df = read_table(path, sep=sep if explicit_sep else None, labels=["id"],
                    na_values=[code] if custom else None)

    assert df.columns.tolist() == header
    assert df.index.tolist() == lines
    assert df["id"].tolist() == _expected_ids(ids)
    assert df["week"].tolist() == weeks
    for c, vs in values.items():
        got = df[c].tolist()
        for g, v in zip(got, vs, strict=True):
            if v is None:
                assert g is None or (isinstance(g, float) and math.isnan(g)), (c, g)
            else:
                assert float(g) == float(v) and (g == v), (c, g, v)


@SETTINGS
@given(content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
       suffix=st.sampled_from([".csv", ".txt", ".tsv"]))
def test_any_file_reads_or_raises_input_error(tmp_path, content, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(content)
    try:
        df = read_table(path)
    except InputError:
        return
    assert isinstance(df, pd.DataFrame) and len(df) > 0
    assert df.columns.is_unique
    assert df.index.is_unique and np.all(np.diff(df.index.to_numpy()) > 0)


@pytest.mark.parametrize("code", ["-999", "999"])
def test_undeclared_numeric_codes_are_read_as_numbers(tmp_path, code):
    path = tmp_path / "codes.csv"
    path.write_text(f"id,week,x\n1,1,{code}\n1,2,3\n", encoding="utf-8")
    assert read_table(path)["x"].tolist() == [float(code), 3.0]
