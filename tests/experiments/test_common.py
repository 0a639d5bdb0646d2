from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import _cohorts, _outputs, common
from experiments.common import (
    CONFIG_DIR,
    ConfigError,
    RunContext,
    check_int,
    check_ints,
    check_names,
    check_prob,
    cohort_seeds,
    config_path,
    experiment_parser,
    load_config,
    map_cohorts,
    read_output,
    run_experiment,
    run_study,
    settings_from_mapping,
    write_outputs,
)

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
    parser = experiment_parser("demo", "a demo")
    args = parser.parse_args([])
    assert args.config == config_path("demo")
    assert (args.quick, args.seed, args.out, args.n_jobs) == (False, None,
                                                              Path("results/demo"), 1)
    args = parser.parse_args(["--quick", "--seed", "3", "--out", "x", "--n-jobs", "2",
                              "--config", "c.toml"])
    assert (args.quick, args.seed, args.out, args.n_jobs, args.config) == (
        True, 3, Path("x"), 2, Path("c.toml"))


# ----------------------------------------------------------------- settings
@pytest.mark.parametrize(("value", "minimum", "maximum"), [
    (4, 4, None), (10**9, 1, None), (999, 4, 999), (0, 0, 0),
])
def test_check_int_accepts_integers_in_bounds(value, minimum, maximum):
    got = check_int("n", value, minimum, maximum)
    assert got == value and type(got) is int


@pytest.mark.parametrize(("value", "minimum", "maximum", "match"), [
    (3, 4, None, r"^n_weeks must be an integer >= 4, got 3$"),
    (1000, 4, 999, r"^n_weeks must be an integer >= 4 and <= 999, got 1000$"),
    (8.0, 4, None, r"got 8\.0$"),
    (True, 0, None, r"got True$"),
    ("8", 4, None, r"got '8'$"),
    (np.int64(8), 4, None, r"got np\.int64\(8\)$"),
])
def test_check_int_names_key_and_value(value, minimum, maximum, match):
    with pytest.raises(ConfigError, match=match):
        check_int("n_weeks", value, minimum, maximum)


def test_check_ints():
    assert check_ints("weeks", [8, 13, 26], 4) == (8, 13, 26)
    assert check_ints("weeks", (13,), 4, 13) == (13,)
    for bad in ([], [8, 8], [3], [1000], "8", 8, [8.0], [True, 8], None):
        with pytest.raises(ConfigError, match=r"^weeks must be a non-empty list of distinct "
                                              r"integers >= 4 and <= 999, got "):
            check_ints("weeks", bad, 4, 999)


@pytest.mark.parametrize(("zero_ok", "one_ok", "interval"), [
    (False, False, "(0, 1)"), (True, False, "[0, 1)"), (False, True, "(0, 1]"),
    (True, True, "[0, 1]"),
])
def test_check_prob_endpoints(zero_ok, one_ok, interval):
    got = check_prob("p", 1 if one_ok else 0.5, zero_ok=zero_ok, one_ok=one_ok)
    assert type(got) is float and got == (1.0 if one_ok else 0.5)
    bad = [-0.1, 1.5, float("nan"), True, "0.5", None]
    bad += [] if zero_ok else [0, 0.0]
    bad += [] if one_ok else [1, 1.0]
    for value in bad:
        with pytest.raises(ConfigError) as info:
            check_prob("p", value, zero_ok=zero_ok, one_ok=one_ok)
        assert str(info.value) == f"p must be a number in {interval}, got {value!r}"


def test_check_names():
    valid = ("none", "center", "detrend")
    assert check_names("arms", ["detrend", "none"], valid) == ("detrend", "none")
    for bad in ([], ["raw"], ["center", "center"], "center", None, [1]):
        with pytest.raises(ConfigError, match=r"^arms must be a non-empty list of distinct "
                                              r"names from \['none', 'center', 'detrend'\]"):
            check_names("arms", bad, valid)


@dataclass(frozen=True)
class _Settings:
    n: int = 1
    alpha: float = 0.05


def test_settings_from_mapping_drops_seed_and_rejects_unknown_keys():
    keys = ("seed", "n", "alpha")
    assert settings_from_mapping(_Settings, {"seed": 3, "n": 2}, keys, "demo") == _Settings(n=2)
    assert settings_from_mapping(_Settings, {}, keys, "demo") == _Settings()
    with pytest.raises(ConfigError, match=r"^unknown demo setting\(s\) \['m', 'z'\]; allowed: "
                                          r"\['seed', 'n', 'alpha'\]$"):
        settings_from_mapping(_Settings, {"z": 1, "m": 2, "n": 3}, keys, "demo")


def test_common_re_exports_the_harness():
    for module in (_cohorts, _outputs):
        for name in module.__all__:
            assert getattr(common, name) is getattr(module, name)
            assert name in common.__all__


# --------------------------------------------------------------------- main
def _fake_run(context: RunContext) -> list[Path]:
    seeds = cohort_seeds(context.seed, context.config["n_cohorts"])
    values = map_cohorts(draw, seeds, context.n_jobs)
    return write_outputs(context.out_dir, {"values": pd.DataFrame({"value": values})})


def test_run_experiment_quick_and_seed_override(config_file, tmp_path):
    keys = ("n_cohorts", "n_patients", "label")
    out = tmp_path / "res"
    code = run_experiment("demo", "demo", _fake_run, ["--config", str(config_file), "--quick",
                                                      "--out", str(out)], allowed=keys)
    assert code == 0
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 11 and meta["quick"] is True and meta["config"]["n_cohorts"] == 5
    assert "--quick" in meta["command"] and "tigramite" in meta["versions"]
    first = read_output(out / "values.csv")["value"]
    assert len(first) == 5
    run_experiment("demo", "demo", _fake_run, ["--config", str(config_file), "--quick",
                                               "--out", str(out), "--seed", "12"])
    assert json.loads((out / "run.json").read_text())["seed"] == 12
    assert not np.allclose(read_output(out / "values.csv")["value"], first)


def test_run_experiment_reports_config_errors(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("n_cohorts = 3\nextra = 1\n", encoding="utf-8")
    code = run_experiment("demo", "demo", _fake_run, ["--config", str(bad), "--out",
                                                      str(tmp_path / "o")],
                          allowed={"n_cohorts"})
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: ") and "'extra'" in err[-1]
    no_seed = tmp_path / "noseed.toml"
    no_seed.write_text("n_cohorts = 3\n", encoding="utf-8")
    code = run_experiment("demo", "demo", _fake_run, ["--config", str(no_seed), "--out",
                                                      str(tmp_path / "o")])
    assert code == 2 and "'seed'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_parser_has_scheduler_and_quiet():
    args = experiment_parser("demo").parse_args(["--scheduler", "tcp://h:8786", "--quiet"])
    assert args.scheduler == "tcp://h:8786" and args.quiet
    args = experiment_parser("demo").parse_args([])
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


@dataclass(frozen=True)
class _StudyResult:
    summary: pd.DataFrame
    cohorts: pd.DataFrame


def _study(config, seed, *, n_jobs, scheduler, progress):
    values = map_cohorts(draw, cohort_seeds(seed, config["n_cohorts"]), n_jobs,
                         scheduler=scheduler, progress=progress)
    cohorts = pd.DataFrame({"cohort": range(len(values)), "value": values})
    return _StudyResult(summary=cohorts.agg({"value": ["mean"]}).reset_index(), cohorts=cohorts)


def test_run_study_passes_the_context_and_writes_both_tables(tmp_path):
    context = RunContext(name="demo", config={"n_cohorts": 4}, seed=5, out_dir=tmp_path / "o",
                         progress=False)
    result, paths = run_study(context, _study)
    assert paths == [tmp_path / "o" / "demo.csv", tmp_path / "o" / "demo_cohorts.csv"]
    cohorts = read_output(paths[1])
    assert cohorts["value"].tolist() == pytest.approx([draw(s) for s in cohort_seeds(5, 4)])
    pd.testing.assert_frame_equal(read_output(paths[0]), result.summary)
