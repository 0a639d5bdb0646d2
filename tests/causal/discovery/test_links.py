from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal import Links
from causal.discovery import LINK_COLUMNS

VARS = ("a", "b")


def _table(**extra) -> pd.DataFrame:
    """a(t-1) -> b significant, b(t-1) -> a not, and an oriented contemporaneous a -> b."""
    base = {
        "source": ["b", "a", "a", "b"], "target": ["a", "b", "b", "a"], "lag": [1, 1, 0, 0],
        "value": [0.02, 0.3, 0.25, 0.25], "p_value": [0.6, 0.001, 0.01, 0.01],
        "significant": [False, True, True, False],
    }
    return pd.DataFrame({**base, **extra})


def test_missing_optional_columns_get_defaults_in_column_order():
    links = Links(table=_table(), variables=VARS, tau_max=1, alpha=0.05)
    t = links.table
    assert list(t.columns) == list(LINK_COLUMNS)
    assert (t["n_samples"] == -1).all()  # unknown
    assert t["ci_low"].isna().all() and t["ci_high"].isna().all()
    assert t["directed"].all()
    assert t["lag"].dtype.kind == "i" and t["n_samples"].dtype.kind == "i"
    assert t["significant"].dtype == bool
    # the effect columns (causal.effects) follow the test statistics, NaN until filled
    assert list(t.columns[-3:]) == ["effect", "effect_low", "effect_high"]
    assert t[["effect", "effect_low", "effect_high"]].isna().all().all()


def test_effect_columns_are_kept_as_floats():
    links = Links(table=_table(effect=[0.1, 0.2, np.nan, np.nan], effect_low=[0, 0.1, np.nan,
                                                                               np.nan],
                               effect_high=[0.2, 0.3, np.nan, np.nan]),
                  variables=VARS, tau_max=1, alpha=0.05)
    row = links.get("a", "b", 1)
    assert (row["effect"], row["effect_low"], row["effect_high"]) == (0.2, 0.1, 0.3)
    assert links.table["effect_low"].dtype == float
    assert np.isnan(links.get("a", "b", 0)["effect"])


def test_extra_columns_are_kept_after_the_standard_ones():
    links = Links(table=_table(required=[False, True, False, False], n_samples=[90] * 4),
                  variables=VARS, tau_max=1, alpha=0.05)
    assert list(links.table.columns) == [*LINK_COLUMNS, "required"]
    assert (links.table["n_samples"] == 90).all()


def test_rows_are_sorted_and_the_input_is_not_modified():
    table = _table()
    before = table.copy()
    links = Links(table=table, variables=VARS, tau_max=1, alpha=0.05)
    keys = list(zip(links.table["target"], links.table["source"], links.table["lag"],
                    strict=True))
    assert keys == sorted(keys)
    pd.testing.assert_frame_equal(table, before)


@pytest.mark.parametrize("drop", ["source", "target", "lag", "value", "p_value", "significant"])
def test_required_columns(drop):
    with pytest.raises(ValueError, match=drop):
        Links(table=_table().drop(columns=drop), variables=VARS, tau_max=1, alpha=0.05)


def test_unknown_variables_are_rejected():
    with pytest.raises(ValueError, match="'c'"):
        Links(table=_table().replace({"source": {"b": "c"}}), variables=VARS, tau_max=1,
              alpha=0.05)


def test_queries():
    links = Links(table=_table(), variables=VARS, tau_max=1, alpha=0.05)
    sig = links.significant()
    assert set(zip(sig["source"], sig["target"], sig["lag"], strict=True)) == {
        ("a", "b", 1), ("a", "b", 0)}
    assert links.significant(lagged_only=True)["lag"].tolist() == [1]
    assert (links.cross_lagged()["lag"] > 0).all() and len(links.cross_lagged()) == 2
    assert float(links.get("a", "b", 1)["value"]) == 0.3
    assert links.get("a", "a", 1) is None


def test_csv_round_trip(tmp_path):
    links = Links(table=_table(ci_low=[-0.1, 0.2, 0.15, 0.15]), variables=VARS, tau_max=1,
                  alpha=0.05)
    path = links.to_csv(tmp_path / "links.csv")
    back = Links(table=pd.read_csv(path), variables=VARS, tau_max=1, alpha=0.05)
    pd.testing.assert_frame_equal(back.table, links.table)


def test_str_shows_each_significant_link_with_its_orientation():
    undirected = _table(directed=[True, True, False, False],
                        significant=[False, True, True, True])
    text = str(Links(table=undirected, variables=VARS, tau_max=1, alpha=0.05,
                     method="pcmciplus"))
    assert text.splitlines()[0].startswith("Links: 4 tested, 3 significant (pcmciplus")
    assert "a(t-1) -> b(t)" in text
    assert "a(t) -- b(t)" in text and "b(t) -- a(t)" in text
    empty = _table(significant=[False] * 4)
    assert "(no significant links)" in str(Links(table=empty, variables=VARS, tau_max=1,
                                                 alpha=0.05))


def test_nan_confidence_bounds_survive():
    links = Links(table=_table(ci_low=np.nan, ci_high=np.nan), variables=VARS, tau_max=1,
                  alpha=0.05)
    assert links.table[["ci_low", "ci_high"]].isna().all().all()


def test_direction_reads_each_row():
    """'->' lagged and the head row of an oriented lag-0 link, '<-' its reverse, '--' else."""
    oriented = Links(table=_table(directed=[True, True, True, False]), variables=VARS,
                     tau_max=1, alpha=0.05).table.set_index(["source", "target", "lag"])
    assert oriented.loc[("a", "b", 0), "direction"] == "->"
    assert oriented.loc[("b", "a", 0), "direction"] == "<-"
    assert (oriented.xs(1, level="lag")["direction"] == "->").all()
    unoriented = _table(directed=[True, True, False, False], significant=[False, True, True, True])
    t = Links(table=unoriented, variables=VARS, tau_max=1, alpha=0.05).table
    assert t.loc[t["lag"] == 0, "direction"].tolist() == ["--", "--"]
    absent = _table(directed=[True, True, False, False], significant=[False, True, False, False])
    t = Links(table=absent, variables=VARS, tau_max=1, alpha=0.05).table
    assert t.loc[t["lag"] == 0, "direction"].tolist() == ["--", "--"]


def test_direction_is_derived_not_taken_from_the_input():
    table = _table(directed=[True, True, False, False], direction=["<-"] * 4)
    t = Links(table=table, variables=VARS, tau_max=1, alpha=0.05).table
    assert t.loc[t["lag"] == 1, "direction"].tolist() == ["->", "->"]
    assert t.loc[t["lag"] == 0, "direction"].tolist() == ["--", "--"]
