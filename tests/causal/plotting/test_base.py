from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from causal.plotting._base import _DEFAULT_FORMATS, _numeric, _require, _save


def figure() -> Figure:
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    return fig


def test_save_writes_each_format_next_to_the_stem(tmp_path, png_pixels):
    stem = tmp_path / "nested" / "fig.v1"  # a dot in the stem is not a suffix
    paths = _save(figure(), stem, _DEFAULT_FORMATS)
    assert paths == [tmp_path / "nested" / "fig.v1.png", tmp_path / "nested" / "fig.v1.svg"]
    # the PNG is the square figure with its line drawn: a few dark pixels on white
    pixels = png_pixels(paths[0])
    assert pixels.shape[0] == pixels.shape[1] > 0
    assert 0 < (pixels.min(axis=-1) < 0.5).mean() < 0.1
    svg = paths[1].read_text()
    assert svg.lstrip().startswith("<?xml") and "<path" in svg
    assert _save(figure(), tmp_path / "one", "svg") == [tmp_path / "one.svg"]


def test_save_svg_is_byte_reproducible(tmp_path):
    first = _save(figure(), tmp_path / "a", ("svg",))[0].read_bytes()
    assert _save(figure(), tmp_path / "b", ("svg",))[0].read_bytes() == first
    assert b"<dc:date>" not in first


def test_save_rejects_bad_formats(tmp_path):
    with pytest.raises(ValueError, match="at least one"):
        _save(figure(), tmp_path / "f", ())
    with pytest.raises(ValueError, match=r"unsupported.*\['bogus'\]"):
        _save(figure(), tmp_path / "f", ("png", "bogus"))
    assert not list(tmp_path.iterdir())  # nothing written before the check


def test_require_and_numeric_name_the_problem():
    table = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert _require(table, ["a"], "table") is table
    with pytest.raises(TypeError, match="table must be a pandas DataFrame, got dict"):
        _require({"a": [1]}, ["a"], "table")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['c'\]"):
        _require(table, ["a", "c"], "table")
    with pytest.raises(ValueError, match="table has no rows"):
        _require(table.iloc[:0], ["a"], "table")
    assert _numeric(table, "a", "table").tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="table column 'b' must be numeric"):
        _numeric(table, "b", "table")
