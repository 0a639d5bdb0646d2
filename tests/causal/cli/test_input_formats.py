"""SPSS, Stata and Excel input on the command line (issue 10, files researchers have)."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from features.io import read_table
from features.simulate import simulate_cohort


def _xlsx(df: pd.DataFrame, path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)
                   for v in row])
    book.save(path)


@pytest.mark.parametrize(("suffix", "write"), [
    (".sav", lambda df, p: pyreadstat.write_sav(df, str(p))),
    (".dta", lambda df, p: pyreadstat.write_dta(df, str(p))),
    (".xlsx", _xlsx),
])
def test_copy_of_a_cohort_gives_byte_identical_links(cli, tmp_path, suffix, write):
    csv = tmp_path / "cohort.csv"
    cohort = simulate_cohort("paper", 30, 10, random_state=5)
    cohort.loc[cohort.sample(frac=0.1, random_state=1).index, "depression"] = float("nan")
    cohort.to_csv(csv, index=False)
    copy = tmp_path / f"cohort{suffix}"
    write(read_table(csv).reset_index(drop=True), copy)  # the values the CSV reader sees
    for data, out in ((csv, "o_csv"), (copy, "o_copy")):
        code, _, err = cli("-q", "discover", data, "--bootstrap", "0", "--out", tmp_path / out)
        assert code == 0, err
    for name in ("links.csv", "exclusions.csv", "graph.json"):
        assert (tmp_path / "o_copy" / name).read_bytes() == (tmp_path / "o_csv" / name
                                                             ).read_bytes(), name
    assert len(pd.read_csv(tmp_path / "o_csv" / "links.csv")) > 0


def test_value_labels_reach_the_group_column(cli, tmp_path):
    from features.scenarios import generic_scenario
    from features.simulate import simulate_subgroups

    base = generic_scenario(2, 0)
    a = base.with_cross([("x1", "x2", 0.5)], name="A")
    b = base.with_cross([("x2", "x1", 0.5)], name="B")
    df = simulate_subgroups([a, b], [6, 6], n_weeks=60, random_state=4)
    df["arm"] = df["subgroup"].astype(float) + 1
    path = tmp_path / "arms.sav"
    pyreadstat.write_sav(df.drop(columns="subgroup"), str(path),
                         variable_value_labels={"arm": {1: "control", 2: "mbct"}})
    code, _, err = cli("-q", "individual", path, "--group-col", "arm", "--value-labels",
                       "labels", "--out", tmp_path / "o")
    assert code == 0, err
    groups = pd.read_csv(tmp_path / "o" / "subgroups.csv")
    assert sorted(groups["group"].unique()) == ["control", "mbct"]


def test_sheet_option_and_its_errors(cli, tmp_path, one_error_line):
    path = tmp_path / "book.xlsx"
    _xlsx(simulate_cohort("paper", 12, 8, random_state=0), path)
    code, _, err = cli("discover", path, "--sheet", "results", "--out", tmp_path / "o")
    one_error_line(code, err, "book.xlsx: no sheet 'results'", "Sheet")
    csv = tmp_path / "c.csv"
    simulate_cohort("paper", 12, 8, random_state=0).to_csv(csv, index=False)
    code, _, err = cli("discover", csv, "--value-labels", "labels", "--out", tmp_path / "p")
    one_error_line(code, err, "c.csv: value_labels applies to SPSS")


@pytest.mark.parametrize(("suffix", "row"), [(".xlsx", 4), (".sav", 3), (".csv", 4)])
def test_data_errors_name_the_file_column_and_row(cli, tmp_path, one_error_line, suffix, row):
    # the third record has a typo: sheet row 4, case 3, file line 4
    df = pd.DataFrame({"patient": [1, 1, 1, 1], "week": [1, 2, 3, 4],
                       "a": [1.0, 2.0, 4.0, 1.0], "b": ["2", "3", "5x", "1"]})
    path = tmp_path / f"typo{suffix}"
    {".xlsx": _xlsx, ".sav": lambda d, p: pyreadstat.write_sav(d, str(p)),
     ".csv": lambda d, p: d.to_csv(p, index=False)}[suffix](df, path)
    code, _, err = cli("discover", path, "--vars", "a,b", "--out", tmp_path / "o")
    one_error_line(code, err, f"{path}: column 'b': row {row} has non-numeric value '5x'")
    assert not (tmp_path / "o").exists()
