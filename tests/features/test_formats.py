from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from features.errors import DataError, InputError
from features.formats import read_excel, read_formatted, read_spss, read_stata
from features.io import read_table
from features.panel import Panel


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"patient": [1.0, 1.0, 1.0, 2.0], "beep": [1.0, 2.0, 3.0, 1.0],
                         "arm": [1.0, 1.0, 1.0, 2.0], "mood": [3.25, np.nan, 4.0, 5.5],
                         "note": ["a", "", "NA", " b "]})


# ------------------------------------------------------------------ SPSS / Stata
@pytest.mark.parametrize(("suffix", "writer", "reader"),
                         [(".sav", pyreadstat.write_sav, read_spss),
                          (".dta", pyreadstat.write_dta, read_stata)])
def test_spss_and_stata_read_like_a_csv(tmp_path, frame, suffix, writer, reader):
    path = tmp_path / f"cohort{suffix}"
    writer(frame, str(path), variable_value_labels={"arm": {1: "control", 2: "mbct"}})
    df = reader(path)
    assert df.index.tolist() == [1, 2, 3, 4] and df.index.name == "row"  # case numbers
    # whole numbers without missing values are integers, as read_csv gives them
    numeric = df.drop(columns="note").dtypes.astype(str).to_dict()
    assert numeric == {"patient": "int64", "beep": "int64", "arm": "int64", "mood": "float64"}
    assert pd.api.types.is_string_dtype(df["note"])
    assert df["mood"].isna().tolist() == [False, True, False, False]
    assert df["note"].tolist()[0] == "a" and df["note"].tolist()[3] == "b"
    assert df["note"].isna().tolist() == [False, True, True, False]
    # the dispatch by suffix gives the same frame
    pd.testing.assert_frame_equal(read_table(path), df)


@pytest.mark.parametrize(("suffix", "writer"), [(".sav", pyreadstat.write_sav),
                                                (".dta", pyreadstat.write_dta)])
def test_value_labels_codes_by_default_labels_on_request(tmp_path, frame, suffix, writer):
    path = tmp_path / f"cohort{suffix}"
    writer(frame, str(path), variable_value_labels={"arm": {1: "control", 2: "mbct"},
                                                    "beep": {1: "morning"}})
    assert read_table(path)["arm"].tolist() == [1, 1, 1, 2]
    labelled = read_table(path, value_labels="labels")
    assert labelled["arm"].tolist() == ["control", "control", "control", "mbct"]
    # a code without a label stays a code
    assert labelled["beep"].tolist() == ["morning", 2, 3, "morning"]


def test_spss_user_missing_values_are_missing(tmp_path, frame):
    frame["mood"] = [3.25, 99.0, 4.0, 5.5]
    path = tmp_path / "missing.sav"
    pyreadstat.write_sav(frame, str(path), missing_ranges={"mood": [99]})
    assert read_spss(path)["mood"].isna().tolist() == [False, True, False, False]


def test_spss_dates_become_datetimes(tmp_path):
    when = [datetime.datetime(2024, 1, 2, 9), datetime.datetime(2024, 1, 2, 12)]
    df = pd.DataFrame({"patient": [1.0, 1.0], "when": when,
                       "mood": [1.0, 2.0]})
    path = tmp_path / "dates.sav"
    pyreadstat.write_sav(df, str(path))
    assert read_spss(path)["when"].dtype.kind == "M"


@pytest.mark.parametrize("name", ["broken.sav", "broken.dta", "broken.xlsx"])
def test_unreadable_files_name_the_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"this is not a data file at all\n" * 10)
    with pytest.raises(DataError, match=rf"{name}: not a readable"):
        read_table(path)


@pytest.mark.parametrize("name", ["missing.sav", "missing.dta", "missing.xlsx"])
def test_missing_file(tmp_path, name):
    with pytest.raises(DataError, match=rf"{name}: file not found"):
        read_table(tmp_path / name)


def test_options_that_do_not_apply_are_refused(tmp_path, frame):
    csv = tmp_path / "c.csv"
    frame.to_csv(csv, index=False)
    with pytest.raises(DataError, match=r"c\.csv: value_labels applies to SPSS"):
        read_table(csv, value_labels="labels")
    with pytest.raises(DataError, match=r"c\.csv: sheet applies to"):
        read_table(csv, sheet="data")
    sav = tmp_path / "c.sav"
    pyreadstat.write_sav(frame, str(sav))
    with pytest.raises(DataError, match=r"c\.sav: sheet applies to Excel"):
        read_formatted(sav, sheet=0)
    with pytest.raises(InputError, match="value_labels must be one of 'codes', 'labels'"):
        read_spss(sav, value_labels="both")


def test_old_excel_is_refused_with_advice(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataError, match=r"old.xls: old binary Excel .* save it as .xlsx"):
        read_table(path)


# ------------------------------------------------------------------------- Excel
def _workbook(path: Path, rows: dict[str, list], sheets: tuple[str, ...] = ()) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "data"
    for cell, values in rows.items():
        for k, v in enumerate(values):
            col, row = cell[0], int(cell[1:])
            ws[f"{chr(ord(col) + k)}{row}"] = v
    for name in sheets:
        book.create_sheet(name)["A1"] = "other"
    book.save(path)
    return path


def test_excel_rows_are_sheet_rows_and_values_read_like_csv(tmp_path):
    path = _workbook(tmp_path / "ema.xlsx", {
        "B2": ["person", "beep", "mood", "when", "coded_as_text"],
        "B3": [1, 1, 2.5, datetime.datetime(2024, 1, 2, 9), "3"],
        # row 4 blank: skipped but counted
        "B5": [1, 2, "NA", datetime.datetime(2024, 1, 2, 12), "4"],
        "B6": [2, 1, 4, datetime.datetime(2024, 1, 3, 9), " "],
    })
    df = read_table(path)
    assert df.index.tolist() == [3, 5, 6] and df.index.name == "row"
    assert df.columns.tolist() == ["person", "beep", "mood", "when", "coded_as_text"]
    assert df["person"].dtype == np.int64 and df["mood"].dtype == np.float64
    assert df["mood"].isna().tolist() == [False, True, False]
    assert df["when"].dtype.kind == "M"
    assert df["coded_as_text"].tolist()[:2] == [3, 4] and np.isnan(df["coded_as_text"].iloc[2])


def test_excel_typo_error_names_column_and_sheet_row(tmp_path):
    path = _workbook(tmp_path / "typo.xlsx", {
        "A1": ["patient", "week", "a", "b"], "A2": [1, 1, 1, 2], "A3": [1, 2, 2, 3],
        "A4": [1, 3, 4, "5x"], "A5": [1, 4, 1, 1], "A6": [1, 5, 3, 2]})
    with pytest.raises(DataError, match=r"column 'b': row 4 has non-numeric value '5x'"):
        Panel.from_frame(read_table(path), variables=["a", "b"])


def test_excel_sheet_choice(tmp_path):
    path = _workbook(tmp_path / "two.xlsx", {"A1": ["patient", "x"], "A2": [1, 2]},
                     sheets=("notes",))
    assert read_table(path).columns.tolist() == ["patient", "x"]
    assert read_table(path, sheet="data").equals(read_table(path))
    with pytest.raises(DataError, match="sheet 'notes' has no data rows"):  # the 2nd sheet
        read_table(path, sheet=1)
    with pytest.raises(DataError, match=r"two.xlsx: no sheet 'results'; the sheets are "
                                        r"\['data', 'notes'\]"):
        read_excel(path, sheet="results")
    with pytest.raises(DataError, match="no sheet 5"):
        read_excel(path, sheet=5)


def test_excel_structural_problems_name_file_and_place(tmp_path):
    nameless = _workbook(tmp_path / "nameless.xlsx", {"A1": ["patient", None, "x"],
                                                      "A2": [1, 5, 2], "A4": [1, 6, 3]})
    with pytest.raises(DataError, match=r"nameless.xlsx: sheet 'data', column B has data "
                                        r"\(row 2\) but no name in the header row 1"):
        read_excel(nameless)
    dup = _workbook(tmp_path / "dup.xlsx", {"A1": ["patient", "x", "x"], "A2": [1, 2, 3]})
    with pytest.raises(DataError, match=r"dup.xlsx: sheet 'data': column name\(s\) \['x'\] "
                                        "appear more than once"):
        read_excel(dup)
    header_only = _workbook(tmp_path / "header.xlsx", {"A1": ["patient", "x"]})
    with pytest.raises(DataError, match=r"header\.xlsx: sheet 'data' has no data rows"):
        read_excel(header_only)
    empty = _workbook(tmp_path / "empty.xlsx", {})
    with pytest.raises(DataError, match=r"empty\.xlsx: sheet 'data' is empty"):
        read_excel(empty)


@pytest.mark.parametrize("suffix", [".sav", ".xlsx"])
def test_label_columns_stay_text_and_na_codes_apply(tmp_path, suffix):
    df = pd.DataFrame({"patient": ["007", "7", "7"], "beep": [1.0, 1.0, 2.0],
                       "mood": [-999.0, 3.0, 4.0]})
    path = tmp_path / f"ids{suffix}"
    if suffix == ".sav":
        pyreadstat.write_sav(df, str(path))
    else:
        _workbook(path, {"A1": list(df.columns), **{f"A{i + 2}": list(r) for i, r in
                                                     enumerate(df.itertuples(index=False))}})
    read = read_table(path, labels=["patient"], na_values=["-999"])
    assert read["patient"].tolist() == ["007", "7", "7"]  # two patients, not one
    assert read["mood"].isna().tolist() == [True, False, False]
    # without labels, text of numbers becomes numbers, as in a CSV column
    assert read_table(path)["patient"].tolist() == [7, 7, 7]


def test_compressed_sav_and_portable_spss(tmp_path):
    df = pd.DataFrame({"patient": [1.0, 1.0, 2.0], "beep": [1.0, 2.0, 1.0],
                       "mood": [3.25, np.nan, 4.0]})
    zsav = tmp_path / "c.zsav"
    pyreadstat.write_sav(df, str(zsav), compress=True)
    pd.testing.assert_frame_equal(read_table(zsav).reset_index(drop=True),
                                  df.astype({"patient": "int64", "beep": "int64"}))
    por = tmp_path / "c.por"
    pyreadstat.write_por(df, str(por))
    # the portable format stores names in upper case
    assert read_table(por).columns.tolist() == ["PATIENT", "BEEP", "MOOD"]
    assert read_table(por)["MOOD"].isna().tolist() == [False, True, False]
