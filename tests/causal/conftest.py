"""Shared fixtures of the plotting tests (tests/causal/test_plotting*.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from causal import plotting, plotting_studies

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_files(paths: list[Path], stem: Path) -> str:
    """Both files exist, are valid PNG / SVG; return the SVG text."""
    assert [p.name for p in paths] == [f"{stem.name}.png", f"{stem.name}.svg"]
    png, svg = paths
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert svg.stat().st_size > 0
    root = ET.fromstring(svg.read_bytes())
    assert root.tag.endswith("svg")
    return svg.read_text()


@pytest.fixture
def check_files() -> Callable[[list[Path], Path], str]:
    """``check_files(paths, stem)``: the PNG and SVG of ``stem`` are valid; returns the SVG."""
    return _check_files


@pytest.fixture
def figures(monkeypatch) -> list:
    """Capture every Figure that passes through ``_save`` of the plotting modules."""
    captured = []
    for module in (plotting, plotting_studies):
        original = module._save

        def spy(fig, path_stem, formats, _original=original):
            captured.append(fig)
            return _original(fig, path_stem, formats)

        monkeypatch.setattr(module, "_save", spy)
    return captured
