"""The one ``--quick`` run of a study, shared by the tests of its outputs."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pytest

from experiments.harness.config import load_config
from experiments.harness.outputs import read_output


class QuickRun(NamedTuple):
    """Output folder, loaded ``--quick`` config and every CSV table (by file stem)."""

    out: Path
    cfg: dict[str, Any]
    tables: dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def quick(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    """Run the study of ``test_NAME.py`` (``experiments.NAME``) with ``--quick`` once."""
    name = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    study = importlib.import_module(f"experiments.{name}").STUDY
    out = tmp_path_factory.mktemp(study.name)
    assert study.main(["--quick", "--out", str(out)]) == 0
    tables = {path.stem: read_output(path) for path in sorted(out.glob("*.csv"))}
    return QuickRun(out, load_config(study.name, quick=True), tables)
