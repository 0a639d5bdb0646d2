"""causal.cli.individual: ``therapy-pcmci individual``."""

from __future__ import annotations

import pandas as pd
import pytest

from features.scenarios import generic_scenario
from features.simulate import simulate_subgroups


def test_individual_command(cli, tmp_path):
    base = generic_scenario(2, 0)
    a = base.with_cross([("x1", "x2", 0.5)], name="A")
    b = base.with_cross([("x2", "x1", 0.5)], name="B")
    data = tmp_path / "long.csv"
    simulate_subgroups([a, b], [6, 6], n_weeks=60, random_state=4).to_csv(data, index=False)
    code, out, err = cli("-q", "individual", data, "--group-col", "subgroup",
                         "--group-threshold", "0.5", "--out", tmp_path / "o")
    assert (code, out, err) == (0, "", "")
    for name in ("edge_shares.csv", "patient_links.csv", "group_graph.png", "edge_shares.png",
                 "subgroups.csv", "subgroup_differences.csv", "summary.txt"):
        assert (tmp_path / "o" / name).is_file(), name
    shares = pd.read_csv(tmp_path / "o" / "edge_shares.csv").set_index("edge")
    assert shares.loc["x1(t-1) -> x2(t)", "n_patients"] == 12
    code, _, _ = cli("-q", "individual", data, "--vars", "x1,x2", "--subgroups", "2",
                     "--out", tmp_path / "k")
    assert code == 0 and len(pd.read_csv(tmp_path / "k" / "subgroups.csv")) == 12


@pytest.mark.parametrize(("args", "needles"), [
    (["--subgroups", "1"], ["--subgroups", "1"]),
    (["--subgroups", "2", "--group-col", "arm"], ["--group-col", "not allowed"]),
    (["--group-threshold", "0"], ["--group-threshold"]),
    (["--group-col", "arm"], ["'arm' not in the data"]),
])
def test_individual_bad_options(cli, tmp_path, good_csv, args, needles, one_error_line):
    code, _, err = cli("individual", good_csv, *args, "--out", tmp_path / "o")
    one_error_line(code, err, *needles)


def test_individual_refuses_short_series_with_the_needed_length(cli, tmp_path, good_csv,
                                                                one_error_line):
    # 8 weeks per patient; per-patient PCMCI with 3 variables at tau_max=1 needs 31
    code, _, err = cli("individual", good_csv, "--out", tmp_path / "o")
    one_error_line(code, err, "needs at least 31 time points per patient")


