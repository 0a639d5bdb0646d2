from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.errors import DataError, InputError
from features.io import NA_VALUES, read_table

BRINGMANN = Path(__file__).resolve().parents[2] / "features" / "data" / "bringmann2013_mbct_esm.txt"
BRINGMANN_COLUMNS = [
    "subjno", "dayno", "beepno", "informat04", "st_period",
    "opgewkt_", "onplplez", "pieker", "angstig_", "somber__", "ontspann", "neur",
]
ITEMS = ["opgewkt_", "pieker", "angstig_", "somber__", "ontspann"]

EXPECTED = pd.DataFrame(
    {"patient": [1, 1, 2], "week": [1, 2, 1], "depression": [12.0, np.nan, 7.5]},
    index=pd.RangeIndex(2, 5, name="row"),
)


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# ------------------------------------------------------------- delimiters and row labels


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # delimiters, sniffed from the header (or given by the suffix)
        ("comma.csv", "patient,week,depression\n1,1,12\n1,2,NA\n2,1,7.5\n"),
        ("semicolon.csv", "patient;week;depression\n1;1;12\n1;2;NA\n2;1;7.5\n"),
        ("tab.tsv", "patient\tweek\tdepression\n1\t1\t12\n1\t2\tNA\n2\t1\t7.5\n"),
        ("tab_sniffed.txt", "patient\tweek\tdepression\n1\t1\t12\n1\t2\tNA\n2\t1\t7.5\n"),
        ("spaces.txt", "patient week   depression\n1 1 12\n1   2 NA\n2 1     7.5\n"),
        ("indented.dat", "  patient week depression\n  1 1 12\n  1 2 NA\n  2 1 7.5\n"),
        ("spaced_commas.csv", "patient, week, depression\n1, 1, 12\n1, 2, NA\n2, 1, 7.5\n"),
        ("upper.CSV", "patient,week,depression\n1,1,12\n1,2,NA\n2,1,7.5\n"),
        # a header one short: the first column holds row labels, which are dropped.
        # R write.table(row.names=TRUE, sep=","): quoted, header one short
        ("r.csv", '"patient","week","depression"\n"1",1,1,12\n"2",1,2,NA\n"3",2,1,7.5\n'),
        # R write.table defaults: space separated, quoted, header one short
        ("r.txt", '"patient" "week" "depression"\n"1" 1 1 12\n"2" 1 2 NA\n"3" 2 1 7.5\n'),
        # non-numeric row labels
        ("labels.csv", "patient,week,depression\nr1,1,1,12\nr2,1,2,NA\nr3,2,1,7.5\n"),
    ],
)
def test_delimited_text_is_read_with_sniffed_separator_and_row_labels_dropped(tmp_path, name,
                                                                             text):
    df = read_table(_write(tmp_path, name, text))
    pd.testing.assert_frame_equal(df, EXPECTED, check_dtype=False)
    assert df["depression"].dtype == np.float64


def test_explicit_sep_overrides_sniffing(tmp_path):
    # no comma, semicolon, tab or blank in the header: sniffing cannot find '|'
    path = _write(tmp_path, "pipe.txt", "patient|week|depression\n1|1|12\n1|2|NA\n2|1|7.5\n")
    pd.testing.assert_frame_equal(read_table(path, sep="|"), EXPECTED, check_dtype=False)


def test_tsv_suffix_forces_tab_even_if_header_has_spaces(tmp_path):
    path = _write(tmp_path, "a.tsv", "patient id\tweek\n1\t2\n")
    df = read_table(path)
    assert df.columns.tolist() == ["patient id", "week"]
    assert df.iloc[0].tolist() == [1, 2]


def test_single_column_file(tmp_path):
    df = read_table(_write(tmp_path, "one.csv", "depression\n3\n4\n"))
    assert df.columns.tolist() == ["depression"]
    assert df["depression"].tolist() == [3, 4]


def test_column_names_are_stripped_and_bom_removed(tmp_path):
    path = _write(tmp_path, "bom.csv", "\ufeffpatient , week ,depression\n1,1,2\n".encode())
    assert read_table(path).columns.tolist() == ["patient", "week", "depression"]


# --------------------------------------------------------------------------- row labels


def test_row_index_is_file_line_number(tmp_path):
    lines = ["patient,week,depression"]
    lines += [f"{p},{w},{p * 100 + w}" for p in (1, 2) for w in (1, 2, 3)]
    df = read_table(_write(tmp_path, "lines.csv", "\n".join(lines) + "\n"))
    assert df.index.name == "row"
    for row, rec in df.iterrows():
        # the value written on line `row` (1-based) is exactly this record
        p, w, d = (int(x) for x in lines[row - 1].split(","))
        assert (rec["patient"], rec["week"], rec["depression"]) == (p, w, d)


def test_row_index_counts_blank_lines(tmp_path):
    path = _write(tmp_path, "blank.csv", "patient,week,depression\n1,1,10\n\n1,2,20\n2,1,30\n")
    df = read_table(path)
    # line 4 holds week 2 of patient 1, line 5 patient 2
    assert df.index.tolist() == [2, 4, 5]


def _assert_rows_are_lines(df: pd.DataFrame, text: str, sep: str) -> None:
    """Every row label points at the file line holding exactly that record."""
    lines = text.splitlines()
    for row, rec in df.iterrows():
        fields = [f.strip().strip('"') for f in re.split(sep, lines[row - 1].strip())]
        assert [float(f) for f in fields[-3:]] == rec[["patient", "week", "depression"]].tolist()


@pytest.mark.parametrize(
    ("name", "text", "sep", "lines"),
    [
        # blank lines before the header, between records and at the end
        ("lead.csv", "\n\npatient,week,depression\n1,1,10\n\n\n1,2,20\n\n\n", ",", [4, 7]),
        # lines of spaces and tabs are blank too (pandas skips them)
        ("ws.csv", "patient,week,depression\n1,1,10\n  \t \n1,2,20\n", ",", [2, 4]),
        ("ws.txt", "patient week depression\n1 1 10\n\t\n \n1 2 20\n", r"\s+", [2, 5]),
        ("semi.csv", "patient;week;depression\n\n1;1;10\n\t\n1;2;20\n", ";", [3, 5]),
        # Windows line endings
        ("crlf.csv", "patient,week,depression\r\n1,1,10\r\n\r\n1,2,20\r\n", ",", [2, 4]),
        # R row labels (header one short) with a blank line
        ("r.csv", '"patient","week","depression"\n"1",1,1,10\n\n"2",1,2,20\n', ",", [2, 4]),
    ],
)
def test_row_index_is_line_number_with_blank_lines(tmp_path, name, text, sep, lines):
    df = read_table(_write(tmp_path, name, text))
    assert df.index.tolist() == lines
    assert df["week"].tolist() == [1, 2]
    _assert_rows_are_lines(df, text, sep)


def test_quoted_field_spanning_lines_is_labelled_by_its_first_line(tmp_path):
    text = 'patient,week,note,depression\n1,1,"two\nlines",10\n\n1,2,"",20\n2,1,x,30\n'
    df = read_table(_write(tmp_path, "multi.csv", text))
    assert df["note"].tolist()[0] == "two\nlines"
    # record 1 starts on line 2 and ends on line 3; line 4 is blank
    assert df.index.tolist() == [2, 5, 6]
    assert df["depression"].tolist() == [10, 20, 30]


def test_delimiter_only_line_is_a_row_of_missing_values_not_a_blank(tmp_path):
    # pandas keeps "\t" in a tab file (all fields empty) but skips a line of spaces
    text = "patient\tweek\tdepression\n1\t1\t10\n\t\t\n  \n1\t2\t20\n"
    df = read_table(_write(tmp_path, "t.tsv", text))
    assert df.index.tolist() == [2, 3, 5]
    assert df.loc[3].isna().all()
    assert df.loc[5, "depression"] == 20


def test_separator_is_sniffed_after_leading_blank_lines(tmp_path):
    df = read_table(_write(tmp_path, "lead.csv", "\n \npatient;week;depression\n1;1;12\n"))
    assert df.columns.tolist() == ["patient", "week", "depression"]
    assert df.index.tolist() == [4]


def test_field_beyond_the_csv_module_limit_falls_back(tmp_path, caplog):
    # pandas reads a 200 kB quoted field; the csv module used for line numbers refuses it
    text = 'patient,week,note\n1,1,x\n1,2,"' + "y" * 200_000 + '"\n'
    with caplog.at_level("WARNING", logger="features.io"):
        df = read_table(_write(tmp_path, "big.csv", text))
    assert df.index.tolist() == [2, 3] and len(df.loc[3, "note"]) == 200_000
    assert "cannot match the 2 records to file lines" in caplog.text


def test_unquoted_file_takes_the_line_fast_path(tmp_path, caplog):
    # without quotes every line is one record: exact line numbers, blank lines skipped
    text = "patient,week,note\n1,1,x\n\n   \n1,2," + "y" * 200_000 + "\n"
    with caplog.at_level("WARNING", logger="features.io"):
        df = read_table(_write(tmp_path, "big.csv", text))
    assert df.index.tolist() == [2, 5] and len(df.loc[5, "note"]) == 200_000
    assert "cannot match" not in caplog.text


def test_unmatched_record_count_falls_back_loudly(tmp_path, monkeypatch, caplog):
    import features.io as io_module

    monkeypatch.setattr(io_module, "_record_lines", lambda path, sep: [2])
    with caplog.at_level("WARNING", logger="features.io"):
        df = read_table(_write(tmp_path, "a.csv", "a,b\n1,2\n3,4\n"))
    assert df.index.tolist() == [2, 3]
    assert "cannot match the 2 records to file lines" in caplog.text


# --------------------------------------------------------------------------- missing values


@pytest.mark.parametrize("token", NA_VALUES)
def test_na_strings_are_missing(tmp_path, token):
    df = read_table(_write(tmp_path, "na.csv", f"a,b\n1,{token}\n2,5\n"))
    assert np.isnan(df.loc[2, "b"])
    assert df.loc[3, "b"] == 5
    assert df["b"].dtype == np.float64


def test_na_like_tokens_do_not_swallow_numbers(tmp_path):
    df = read_table(_write(tmp_path, "neg.csv", "a,b\n1,-3\n2,-\n3,.5\n4,.\n"))
    assert df["b"].tolist()[0] == -3
    assert np.isnan(df["b"].tolist()[1])
    assert df["b"].tolist()[2] == 0.5
    assert np.isnan(df["b"].tolist()[3])


# --------------------------------------------------------------------------- parquet


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_roundtrip(tmp_path, suffix):
    pytest.importorskip("pyarrow")
    path = tmp_path / f"cohort{suffix}"
    EXPECTED.reset_index(drop=True).to_parquet(path)
    df = read_table(path)
    pd.testing.assert_frame_equal(df, EXPECTED)


def test_parquet_drops_unnamed_stored_index(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "filtered.parquet"
    frame = pd.DataFrame({"patient": [1, 2, 3], "week": [1, 1, 1], "x": [1.0, 2.0, 3.0]})
    frame.iloc[[0, 2]].to_parquet(path)  # non-range index is stored, but unnamed
    df = read_table(path)
    assert df.columns.tolist() == ["patient", "week", "x"]
    assert df.index.tolist() == [2, 3]


def test_parquet_keeps_named_index_as_column(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "indexed.parquet"
    EXPECTED.reset_index(drop=True).set_index("patient").to_parquet(path)
    df = read_table(path)
    assert "patient" in df.columns
    assert df["patient"].tolist() == [1, 1, 2]
    assert df.columns.tolist() == ["patient", "week", "depression"]
    assert df.index.tolist() == [2, 3, 4]


def test_parquet_keeps_named_multiindex_levels_and_drops_unnamed(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "multi.parquet"
    frame = EXPECTED.reset_index(drop=True).set_index(["patient", "week"])
    frame.to_parquet(path)
    pd.testing.assert_frame_equal(read_table(path), EXPECTED)
    # a level without a name carries no column name: it is dropped like an unnamed index
    frame.index = frame.index.set_names([None, "week"])
    frame.to_parquet(path)
    assert read_table(path).columns.tolist() == ["week", "depression"]


def test_parquet_index_named_like_a_column(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "clash.parquet"
    frame = EXPECTED.reset_index(drop=True).set_index("patient")
    frame["patient"] = 0
    frame.to_parquet(path)
    with pytest.raises(DataError, match=re.escape("index level(s) ['patient'] have the same name")):
        read_table(path)


def test_corrupt_parquet(tmp_path):
    path = _write(tmp_path, "bad.parquet", "patient,week\n1,1\n")
    with pytest.raises(DataError, match=r"bad\.parquet: not a readable Parquet file"):
        read_table(path)


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError, match=re.escape(f"{path}: file not found")):
        read_table(path)


def test_missing_file_accepts_str(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_table(str(tmp_path / "nope.csv"))


def test_directory(tmp_path):
    with pytest.raises(DataError, match=re.escape(f"{tmp_path}: is a directory")):
        read_table(tmp_path)


@pytest.mark.parametrize(("name", "shown"), [("data.ods", "'.ods'"), ("data", "''"),
                                              ("data.json", "'.json'")])
def test_unknown_suffix(tmp_path, name, shown):
    path = _write(tmp_path, name, "a,b\n1,2\n")
    with pytest.raises(DataError, match=re.escape(f"{path}: unknown file type {shown}")):
        read_table(path)


def test_empty_file(tmp_path):
    path = _write(tmp_path, "empty.csv", "")
    with pytest.raises(DataError, match=re.escape(f"{path}: the file is empty")):
        read_table(path)


def test_header_only_file(tmp_path):
    path = _write(tmp_path, "header.csv", "patient,week,depression\n")
    with pytest.raises(DataError, match=re.escape(f"{path}: the file has no data rows")):
        read_table(path)


def test_ragged_file_names_the_line(tmp_path):
    path = _write(tmp_path, "ragged.csv", "patient,week,x\n1,1,2\n1,2,3\n1,3,4,5,6\n")
    with pytest.raises(DataError, match=re.escape(f"{path}: cannot parse")) as info:
        read_table(path)
    assert "line 4" in str(info.value)


@pytest.mark.parametrize(
    ("content", "sep"),
    [(b"\xff\xfe\x00\x01a,b\n", None),  # fails while sniffing the header
     (b"a,b\n\xff\xfe\x00,\x80\x81\n", ",")],  # fails inside pandas
)
def test_binary_file(tmp_path, content, sep):
    path = _write(tmp_path, "binary.csv", content)
    with pytest.raises(DataError, match=re.escape(f"{path}: not a UTF-8 text file")):
        read_table(path, sep=sep)


def test_errors_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="file not found"):
        read_table(tmp_path / "x.csv")


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def bringmann() -> pd.DataFrame:
    if not BRINGMANN.exists():
        pytest.skip(f"{BRINGMANN} not available")
    return read_table(BRINGMANN)


def test_bringmann_shape_and_columns(bringmann):
    # README: 28,600 rows, 130 persons x 220 rows; the header has one name fewer than the rows
    assert bringmann.shape == (28_600, 12)
    assert bringmann.columns.tolist() == BRINGMANN_COLUMNS
    assert bringmann.index.tolist() == list(range(2, 28_602))
    per_person = bringmann.groupby("subjno").size()
    assert len(per_person) == 130 and (per_person == 220).all()
    assert set(bringmann["st_period"].unique()) == {0, 1}


def test_bringmann_values(bringmann):
    for col in ["subjno", "dayno", "st_period"]:
        assert bringmann[col].notna().all()
        assert pd.api.types.is_integer_dtype(bringmann[col])
    # beepno is empty on some rows (README), so it is float with NaN
    assert bringmann["beepno"].isna().any() and bringmann["beepno"].notna().any()
    items = bringmann[ITEMS].to_numpy()
    observed = items[~np.isnan(items)]
    assert observed.min() >= 1 and observed.max() <= 7
    assert np.array_equal(observed, np.round(observed))
    # README: "About 59% of item values are missing"
    assert 0.55 < np.isnan(items).mean() < 0.63


def test_bringmann_rows_match_file_lines(bringmann):
    lines = BRINGMANN.read_text(encoding="utf-8").splitlines()
    rng = np.random.default_rng(0)
    for row in [2, 3, 28_601, *rng.integers(2, 28_602, size=40).tolist()]:
        fields = lines[row - 1].split(",")
        assert len(fields) == len(BRINGMANN_COLUMNS) + 1  # leading row label
        for col, raw in zip(BRINGMANN_COLUMNS, fields[1:], strict=True):
            value = bringmann.loc[row, col]
            if raw == "NA":
                assert np.isnan(value)
            else:
                assert value == float(raw), (row, col)


# --------------------------------------------------------------------------- issue 12: misreads


def test_na_values_declare_missing_codes_as_text_and_number(tmp_path):
    path = _write(tmp_path, "codes.csv", "patient,week,x,y\n1,1,-999,a\n1,2,-999.0,-999\n"
                                         "1,3,4,b\n1,4,999,.\n")
    df = read_table(path, na_values=["-999", 999])
    assert df["x"].isna().tolist() == [True, True, False, True]
    assert df["y"].isna().tolist() == [False, True, False, True]
    assert read_table(path)["x"].tolist() == [-999, -999, 4, 999]  # not declared: kept


def test_na_values_apply_to_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "codes.parquet"
    pd.DataFrame({"x": [1.0, -999.0, 3.0], "g": ["a", "-999", "b"]}).to_parquet(path)
    df = read_table(path, na_values=["-999"])
    assert df["x"].isna().tolist() == [False, True, False]
    assert df["g"].isna().tolist() == [False, True, False]


@pytest.mark.parametrize("bad", [[True], [None], [["x"]]])
def test_na_values_must_be_text_or_numbers(tmp_path, bad):
    path = _write(tmp_path, "a.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match="na_values must be strings or numbers"):
        read_table(path, na_values=bad)


def test_decimal_comma(tmp_path):
    path = _write(tmp_path, "dec.csv", "patient;week;x\n1;1;3,5\n1;2;-0,25\n")
    assert read_table(path, decimal=",")["x"].tolist() == [3.5, -0.25]
    assert read_table(path)["x"].tolist() == ["3,5", "-0,25"]
    with pytest.raises(InputError, match=re.escape("decimal must be '.' or ','")):
        read_table(path, decimal=";")
    comma = _write(tmp_path, "comma.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match="delimiter and the decimal mark are both ','"):
        read_table(comma, decimal=",")


def test_labels_are_read_as_text(tmp_path):
    path = _write(tmp_path, "ids.csv", "patient ,week\n007,1\n7,1\n 8,2\n")
    df = read_table(path, labels=["patient", "absent"])
    assert df["patient"].tolist() == ["007", "7", "8"]
    assert read_table(path)["patient"].tolist() == [7, 7, 8]  # without labels: numbers


@pytest.mark.parametrize(("text", "expected", "dtype"), [
    ("1\n2\n10\n", [1, 2, 10], "int64"),
    ("1\nNA\n10\n", [1.0, np.nan, 10.0], "float64"),
    ("1\n2.0\n10\n", ["1", "2.0", "10"], "str"),
    ("-3\n+4\n10\n", ["-3", "+4", "10"], "str"),
    ("P1\nP2\nP10\n", ["P1", "P2", "P10"], "str"),
])
def test_labels_become_integers_only_when_written_as_plain_integers(tmp_path, text, expected,
                                                                    dtype):
    df = read_table(_write(tmp_path, "ids.csv", "patient,x\n" + text.replace("\n", ",1\n")),
                    labels="patient")
    pd.testing.assert_series_equal(df["patient"], pd.Series(expected, index=df.index,
                                                            name="patient"), check_dtype=False)
    assert str(df["patient"].dtype) == dtype


@pytest.mark.parametrize(("header", "shown"), [
    ("patient,week,depression,depression", "'depression' (columns 3, 4)"),
    ("patient,week,depression,depression ", "'depression' (columns 3, 4)"),
    ("patient, week,week ,x", "'week' (columns 2, 3)"),
])
def test_duplicate_header_names_are_refused(tmp_path, header, shown):
    path = _write(tmp_path, "dup.csv", header + "\n1,1,2,3\n")
    with pytest.raises(DataError, match=re.escape(f"{path}: duplicate column name(s) {shown}")):
        read_table(path)


def test_duplicate_names_in_parquet_are_refused(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.table([[1, 2], [3, 4], [5, 6]], names=["patient", "x", "x"]), path)
    with pytest.raises(DataError, match=re.escape(f"{path}: duplicate column name(s) 'x' "
                                                  "(columns 2, 3)")):
        read_table(path)


@pytest.mark.parametrize(("content", "line"), [
    (b"a,b\n1,2\n3,4\x00\n5,6\n", 3),
    (b"a,b\n\x001,2\n", 2),
    (b"a,b\r\n1,2\r\n\r\n3,\x004\r\n", 4),
    (b"a,b\n1,2\n\n\n\x00", 5),
])
def test_nul_byte_names_its_line(tmp_path, content, line):
    path = _write(tmp_path, "nul.csv", content)
    with pytest.raises(DataError, match=re.escape(f"{path}: line {line} holds a NUL byte")):
        read_table(path)


def test_latin1_file_names_file_line_and_encoding(tmp_path):
    path = _write(tmp_path, "latin.csv", "patient,week,x\n1,1,2\n1,2,café\n".encode("latin-1"))
    with pytest.raises(DataError, match=re.escape(
            f"{path}: not a UTF-8 text file (byte 0xe9 on line 3 is not valid UTF-8; it looks "
            "Latin-1 / Windows-1252 encoded)")):
        read_table(path)


def test_utf16_file_is_named(tmp_path):
    path = _write(tmp_path, "u16.csv", "patient,week\n1,1\n".encode("utf-16"))
    with pytest.raises(DataError, match="it looks UTF-16 encoded"):
        read_table(path)


def test_na_values_do_not_apply_to_labels(tmp_path):
    path = _write(tmp_path, "ids.csv", "patient,week,x\n999,1,999\n1,1,2\n")
    df = read_table(path, na_values=["999"], labels=["patient"])
    assert df["patient"].tolist() == [999, 1] and df["x"].isna().tolist() == [True, False]


def test_trailing_delimiter_column_is_dropped_but_named_empty_columns_are_kept(tmp_path):
    path = _write(tmp_path, "trail.csv", "patient,week,x,\n1,1,2,\n1,2,3,\n")
    assert read_table(path).columns.tolist() == ["patient", "week", "x"]
    path = _write(tmp_path, "named.csv", "patient,week,x,y\n1,1,2,\n1,2,3,\n")
    assert read_table(path).columns.tolist() == ["patient", "week", "x", "y"]
