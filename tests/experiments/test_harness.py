from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.harness.config import (
    CONFIG_DIR,
    CohortSettings,
    ConfigError,
    Settings,
    choice,
    choices,
    config_path,
    integer,
    integers,
    load_config,
    numbers,
    probability,
    real,
)
from experiments.harness.outputs import read_output
from experiments.harness.study import (
    RunOptions,
    Study,
    StudyResult,
    study_parser,
    summary_figure,
)
from features.checks import spawn_seeds
from features.errors import InputError

CONFIG = """
seed = 11
n_cohorts = 200
n_patients = 226
label = "full"

[quick]
n_cohorts = 5
n_patients = 60
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "demo.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def draw(seed: int) -> float:
    """A cohort stand-in: its result depends on its own seed only."""
    return float(np.random.default_rng(seed).standard_normal(5).sum())


# ------------------------------------------------------------------ config
def test_full_config_has_no_quick_table(config_file):
    cfg = load_config("demo", config_file)
    assert cfg == {"seed": 11, "n_cohorts": 200, "n_patients": 226, "label": "full"}


def test_quick_overrides_only_its_keys(config_file):
    cfg = load_config("demo", config_file, quick=True)
    assert cfg == {"seed": 11, "n_cohorts": 5, "n_patients": 60, "label": "full"}


def test_allowed_and_required_keys(config_file):
    keys = {"seed", "n_cohorts", "n_patients", "label"}
    assert load_config("demo", config_file, allowed=keys, required=keys)["label"] == "full"
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['label'\]"):
        load_config("demo", config_file, allowed=keys - {"label"})
    with pytest.raises(ConfigError, match=r"missing required key\(s\) \['alpha'\]"):
        load_config("demo", config_file, required={"alpha"})


def test_unknown_key_in_quick_table(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text("seed = 1\n[quick]\nn_cohrts = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[quick\]: unknown key\(s\) \['n_cohrts'\]"):
        load_config("x", path, allowed={"seed", "n_cohorts"})


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.toml"):
        load_config("nope", tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.toml: invalid TOML"):
        load_config("bad", bad)
    no_quick = tmp_path / "plain.toml"
    no_quick.write_text("seed = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"--quick needs a \[quick\] table"):
        load_config("plain", no_quick, quick=True)
    scalar_quick = tmp_path / "scalar.toml"
    scalar_quick.write_text("quick = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'quick' must be a table"):
        load_config("scalar", scalar_quick)
    assert issubclass(ConfigError, ValueError)


def test_default_config_path_is_in_package():
    assert config_path("pooling") == CONFIG_DIR / "pooling.toml"
    assert config_path("pooling").is_file()


def test_parser_defaults_and_options():
    parser = study_parser("demo", "a demo")
    args = parser.parse_args([])
    assert args.config == config_path("demo")
    assert (args.quick, args.seed, args.out, args.n_jobs) == (False, None,
                                                              Path("results/demo"), 1)
    args = parser.parse_args(["--quick", "--seed", "3", "--out", "x", "--n-jobs", "2",
                              "--config", "c.toml"])
    assert (args.quick, args.seed, args.out, args.n_jobs, args.config) == (
        True, 3, Path("x"), 2, Path("c.toml"))


# ----------------------------------------------------------------- settings
@dataclass(frozen=True)
class _Settings(Settings):
    n_cohorts: int = integer(1, minimum=1)
    n_patients: int = integer(10, minimum=2)
    label: str = choice("full", ("full", "small"))
    alpha: float = probability(0.05)


def test_settings_keys_are_seed_and_the_fields():
    assert _Settings.keys() == ("seed", "n_cohorts", "n_patients", "label", "alpha")


@pytest.mark.parametrize(("values", "match"), [
    ({"n_cohorts": 0}, r"^n_cohorts must be an integer >= 1, got 0$"),
    ({"n_patients": 2.5}, r"^n_patients must be an integer >= 2, got 2\.5$"),
    ({"n_cohorts": np.int64(0)}, r"got 0$"),  # shown as a number, not np.int64(0)
    ({"label": "tiny"}, r"^label must be one of 'full', 'small', got 'tiny'$"),
    ({"alpha": 1}, r"^alpha must be a number in \(0, 1\), got 1$"),
    ({"alpha": True}, r"^alpha must be a number in \(0, 1\), got True$"),
])
def test_settings_checks_raise_config_error_naming_the_key(values, match):
    with pytest.raises(ConfigError, match=match) as info:
        _Settings(**values)
    assert isinstance(info.value, InputError) and isinstance(info.value, ValueError)


def test_settings_check_may_normalize_values():
    got = _Settings(alpha=1 / 4)
    assert got.alpha == 0.25 and type(got.alpha) is float
    with pytest.raises(AttributeError):
        got.alpha = 0.5  # still frozen


@dataclass(frozen=True)
class _Cohorts(CohortSettings):
    n_cohorts: int = integer(5, minimum=2)  # redeclared: new default and bound, same place
    alphas: tuple[float, ...] = numbers((0.1, 0.01, 0.1), low=0, high=1, sort=True)
    effects: tuple[float, ...] = numbers((0.2,), low=0, distinct=True)
    weeks: tuple[int, ...] = integers((8,), minimum=4)
    scale: float = real(1.0, low=0)
    arms: tuple[str, ...] = choices(("a",), ("a", "b"))
    name: str = "free"  # a plain field: not checked

    def check(self) -> None:
        super().check()
        if self.name == "bad":
            raise ConfigError("name must not be 'bad'")


def test_field_makers_declare_each_key_once_with_its_check():
    assert _Cohorts.keys() == ("seed", "n_cohorts", "n_patients", "n_weeks", "missing",
                               "dropout", "alphas", "effects", "weeks", "scale", "arms", "name")
    got = _Cohorts(weeks=[8, 13], arms=["b", "a"], scale=2, dropout=1)
    assert (got.n_cohorts, got.n_patients, got.n_weeks, got.missing) == (5, 226, 13, 0.0)
    assert got.alphas == (0.01, 0.1)  # sorted and deduplicated
    assert got.weeks == (8, 13) and got.arms == ("b", "a")  # lists stored as tuples
    assert got.dropout == 1.0 and type(got.dropout) is float and type(got.scale) is float


@pytest.mark.parametrize(("values", "match"), [
    ({"n_cohorts": 1}, r"^n_cohorts must be an integer >= 2, got 1$"),
    ({"n_weeks": 3}, r"^n_weeks must be an integer >= 4, got 3$"),
    ({"missing": 1.0}, r"^missing must be a number in \[0, 1\), got 1$"),
    ({"dropout": 1.5}, r"^dropout must be a number in \[0, 1\], got 1\.5$"),
    ({"alphas": []}, r"^alphas must be a non-empty list of numbers, got \[\]$"),
    ({"alphas": "0.05"}, r"^alphas must be a non-empty list of numbers, got '0\.05'$"),
    ({"alphas": [0.05, 1.0]}, r"^alphas must be a number in \(0, 1\), got 1$"),
    ({"effects": [0.2, 0.2]}, r"^effects must be a non-empty list of distinct numbers, got "),
    ({"weeks": [8, 8]}, r"^weeks must be a non-empty list of distinct integers >= 4"),
    ({"scale": 0}, r"^scale must be a number > 0, got 0$"),
    ({"arms": ["c"]}, r"^arms must be "),
    ({"name": "bad"}, r"^name must not be 'bad'$"),  # a study's own check, after the fields'
])
def test_field_makers_raise_config_error_naming_the_key(values, match):
    with pytest.raises(ConfigError, match=match):
        _Cohorts(**values)


def test_settings_from_mapping_drops_seed_and_rejects_unknown_keys():
    assert _Settings.from_mapping({"seed": 3, "n_cohorts": 2}) == _Settings(n_cohorts=2)
    assert _Settings.from_mapping({}) == _Settings()
    with pytest.raises(ConfigError, match=r"^unknown demo setting\(s\) \['m', 'z'\]; allowed: "
                                          r"\['seed', 'n_cohorts', 'n_patients', 'label', "
                                          r"'alpha'\]$"):
        _Settings.from_mapping({"z": 1, "m": 2, "n_cohorts": 3}, "demo")
    with pytest.raises(ConfigError, match=r"^unknown test_harness setting"):
        _Settings.from_mapping({"z": 1})


# --------------------------------------------------------------------- main
def _compute(config: _Settings, seed: int, options: RunOptions) -> StudyResult:
    values = options.map(draw, spawn_seeds(seed, config.n_cohorts, stream=(0,)))
    cohorts = pd.DataFrame({"cohort": range(len(values)), "value": values})
    summary = cohorts.agg({"value": ["mean"]}).reset_index()
    return StudyResult("demo", config, seed, {"demo": summary, "demo_cohorts": cohorts},
                       lines=(f"Demo: {config.n_cohorts} cohorts, seed {seed}",),
                       notes=("a note",))


def _figures(result: StudyResult, out: Path) -> list[Path]:
    path = out / "demo.txt"
    path.write_text(f"{len(result.cohorts)} cohorts\n", encoding="utf-8")
    return [path]


DEMO = Study("demo", "A demo study.\n\nMore text.", _Settings, _compute, _figures)


def test_study_description_is_the_first_docstring_line():
    assert DEMO.description == "A demo study."


def test_main_quick_and_seed_override(config_file, tmp_path):
    out = tmp_path / "res"
    code = DEMO.main(["--config", str(config_file), "--quick", "--out", str(out)])
    assert code == 0
    assert {p.name for p in out.iterdir()} == {"demo.csv", "demo_cohorts.csv", "demo.txt",
                                               "run.json"}
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 11 and meta["quick"] is True and meta["config"]["n_cohorts"] == 5
    assert "--quick" in meta["command"] and "tigramite" in meta["versions"]
    first = read_output(out / "demo_cohorts.csv")["value"]
    assert len(first) == 5
    assert (out / "demo.txt").read_text() == "5 cohorts\n"
    DEMO.main(["--config", str(config_file), "--quick", "--out", str(out), "--seed", "12"])
    assert json.loads((out / "run.json").read_text())["seed"] == 12
    assert not np.allclose(read_output(out / "demo_cohorts.csv")["value"], first)


@pytest.mark.parametrize(("text", "args", "needle"), [
    ("n_cohorts = 3\nextra = 1\nseed = 1\n", [], "'extra'"),
    ("n_cohorts = 3\n", [], "'seed'"),
    ("n_cohorts = 0\nseed = 1\n", [], "n_cohorts must be an integer >= 1, got 0"),
    ("n_cohorts = 3\nseed = 1\n", ["--n-jobs", "0"], "--n-jobs must be an integer >= 1"),
])
def test_main_reports_input_errors(tmp_path, capsys, text, args, needle):
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    code = DEMO.main(["--config", str(bad), "--out", str(tmp_path / "o"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: ") and needle in err[-1]
    assert not (tmp_path / "o").exists()


def test_complete_study_needs_every_key(tmp_path, capsys):
    partial = tmp_path / "partial.toml"
    partial.write_text("n_cohorts = 3\nseed = 1\n", encoding="utf-8")
    complete = Study("demo", "Demo.", _Settings, _compute, complete=True)
    assert complete.main(["--config", str(partial), "--out", str(tmp_path / "o")]) == 2
    assert "missing required key(s) ['alpha', 'label', 'n_patients']" in capsys.readouterr().err
    assert DEMO.main(["--config", str(partial), "--out", str(tmp_path / "o")]) == 0


def test_parser_has_scheduler_and_quiet():
    args = study_parser("demo").parse_args(["--scheduler", "tcp://h:8786", "--quiet"])
    assert args.scheduler == "tcp://h:8786" and args.quiet
    args = study_parser("demo").parse_args([])
    assert args.scheduler is None and not args.quiet


def test_experiment_on_a_local_dask_cluster_equals_a_local_run(tmp_path):
    # Issue 4: the same job runs unchanged on a Dask cluster with --scheduler ADDRESS.
    distributed = pytest.importorskip("distributed")
    from experiments import pooling

    assert pooling.main(["--quick", "--quiet", "--out", str(tmp_path / "local")]) == 0
    # free ports only (see the dask_cluster fixture of tests/causal/conftest.py):
    # dashboard_address=None still serves /health on 8787
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  scheduler_port=0, dashboard_address=":0",
                                  worker_dashboard_address=None) as cluster:
        code = pooling.main(["--quick", "--quiet", "--scheduler", cluster.scheduler_address,
                             "--out", str(tmp_path / "dask")])
    assert code == 0
    for name in ("pooling.csv", "pooling_cohorts.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "local" / name),
                                      pd.read_csv(tmp_path / "dask" / name))


def test_python_dash_m_exits_with_the_code_of_main(tmp_path):
    # Study.run_script: `python -m experiments.NAME` runs main of the importable module
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "experiments.comparisons", "--config",
                           str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last == f"error: config file not found: {tmp_path / 'nope.toml'}"
    assert not (tmp_path / "o").exists()


def test_summary_figure_plots_the_summary_with_the_settings_plot_takes(tmp_path):
    calls = []

    def plot(summary: pd.DataFrame, path: Path, *, alpha: float) -> Path:
        calls.append((summary, alpha))
        return path

    result = DEMO.run({"n_cohorts": 2, "alpha": 0.1}, 5, progress=False)
    assert summary_figure(plot)(result, tmp_path) == [tmp_path / "demo.png"]
    assert calls[0][0] is result.summary and calls[0][1] == 0.1


def test_run_and_write_the_one_result_type(tmp_path):
    result = DEMO.run({"seed": 1, "n_cohorts": 4}, 5, progress=False)
    assert result.config == _Settings(n_cohorts=4) and result.seed == 5 and not result.paths
    assert result.cohorts["value"].tolist() == pytest.approx(
        [draw(s) for s in spawn_seeds(5, 4, stream=(0,))])
    assert str(result) == "Demo: 4 cohorts, seed 5\n  note: a note"
    written = DEMO.write(result, tmp_path / "o")
    assert written.paths == (tmp_path / "o" / "demo.csv", tmp_path / "o" / "demo_cohorts.csv",
                             tmp_path / "o" / "demo.txt")
    assert str(written).endswith(f"wrote 3 files to {tmp_path / 'o'}")
    pd.testing.assert_frame_equal(read_output(written.paths[0]), result.summary)
    with pytest.raises(ConfigError, match="n_cohorts"):
        DEMO.run({"n_cohorts": 0}, 5)

