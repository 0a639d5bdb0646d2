"""Shared by the tests of every study ``experiments.NAME`` (in ``test_NAME.py``).

* ``quick`` - the one ``--quick`` run of the study, shared by the tests of its
  outputs (``quick_run(NAME)``: the run of any study, once per session; the
  files every run writes are checked in ``test_outputs.py``);
* ``rejects`` - assert that the study's settings reject a config mapping;
* ``exits_on`` - run the study's ``main`` on a config file and expect exit 2.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pytest

from experiments.harness.config import ConfigError, load_config
from experiments.harness.outputs import read_output
from experiments.harness.study import Study, StudyResult


def _study(request: pytest.FixtureRequest) -> Study:
    """The study of the requesting ``test_NAME.py``: ``experiments.NAME.STUDY``."""
    name = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    return importlib.import_module(f"experiments.{name}").STUDY


class QuickRun(NamedTuple):
    """Output folder, loaded ``--quick`` config and every CSV table (by file stem)."""

    out: Path
    cfg: dict[str, Any]
    tables: dict[str, pd.DataFrame]

    @property
    def result(self) -> StudyResult:
        """The run as the harness's one result type (its ``summary``, ``cohorts``...)."""
        meta = json.loads((self.out / "run.json").read_text())
        return StudyResult(meta["experiment"], self.cfg, meta["seed"], self.tables)


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], QuickRun]:
    """``quick_run(NAME)``: the one ``--quick`` run of ``experiments.NAME`` in this session."""
    runs: dict[str, QuickRun] = {}

    def run(name: str) -> QuickRun:
        if name not in runs:
            study = importlib.import_module(f"experiments.{name}").STUDY
            out = tmp_path_factory.mktemp(name)
            assert study.main(["--quick", "--quiet", "--out", str(out)]) == 0
            tables = {path.stem: read_output(path) for path in sorted(out.glob("*.csv"))}
            runs[name] = QuickRun(out, load_config(name, quick=True), tables)
        return runs[name]

    return run


@pytest.fixture
def quick(request: pytest.FixtureRequest, quick_run: Callable[[str], QuickRun]) -> QuickRun:
    """The ``--quick`` run of the study of ``test_NAME.py`` (``experiments.NAME``)."""
    return quick_run(_study(request).name)


@pytest.fixture
def rejects(request: pytest.FixtureRequest) -> Callable[[Mapping[str, Any], str], None]:
    """``rejects(mapping, match)``: the study's settings raise a ConfigError matching ``match``."""
    study = _study(request)

    def check(mapping: Mapping[str, Any], match: str) -> None:
        with pytest.raises(ConfigError, match=match):
            study.settings.from_mapping(mapping, study.name)

    return check


@pytest.fixture
def exits_on(request: pytest.FixtureRequest, tmp_path: Path,
             capsys: pytest.CaptureFixture[str]) -> Callable[[str], str]:
    """``exits_on(toml)``: the study's ``main`` on that config file exits with 2; return stderr."""
    study = _study(request)

    def run(text: str) -> str:
        path = tmp_path / f"{study.name}.toml"
        path.write_text(text, encoding="utf-8")
        assert study.main(["--config", str(path), "--out", str(tmp_path / "out")]) == 2
        return capsys.readouterr().err

    return run
