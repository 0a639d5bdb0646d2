from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from experiments.common import (
    CONFIG_DIR,
    ConfigError,
    Rate,
    RunContext,
    cohort_seeds,
    config_path,
    experiment_parser,
    load_config,
    map_cohorts,
    read_output,
    run_experiment,
    summarize_rate,
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


# ------------------------------------------------------------------- seeds
def test_cohort_seeds_deterministic_prefix_stable_and_distinct():
    seeds = cohort_seeds(123, 50)
    assert seeds == cohort_seeds(123, 50)
    assert cohort_seeds(123, 10) == seeds[:10]  # growing n keeps the head
    assert len(set(seeds)) == 50
    assert all(isinstance(s, int) and 0 <= s < 2**64 for s in seeds)
    assert set(seeds).isdisjoint(cohort_seeds(124, 50))
    assert set(seeds).isdisjoint(cohort_seeds(123, 50, stream=1))
    assert cohort_seeds(5, 0) == []


def test_cohort_seeds_give_independent_streams():
    # Means of 200 first draws from distinct child seeds: SD 1/sqrt(200) = 0.071; with
    # independent streams their correlation with the next seed's draws is ~N(0, 1/200).
    first = np.array([np.random.default_rng(s).standard_normal() for s in cohort_seeds(9, 200)])
    assert abs(first.mean()) < 4 / math.sqrt(200)
    assert abs(np.corrcoef(first[:-1], first[1:])[0, 1]) < 4 / math.sqrt(199)


@pytest.mark.parametrize(("args", "match"), [
    ((-1, 3), "seed"), ((1, -3), "n"), ((1, 3.0), "n"), ((True, 3), "seed"),
])
def test_cohort_seeds_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        cohort_seeds(*args)
    with pytest.raises(ValueError, match="stream"):
        cohort_seeds(1, 1, stream=-1)


# ---------------------------------------------------------------- parallel
def test_map_cohorts_results_do_not_depend_on_n_jobs():
    seeds = cohort_seeds(2024, 12)
    serial = map_cohorts(draw, seeds, n_jobs=1)
    assert serial == [draw(s) for s in seeds]
    assert map_cohorts(draw, seeds, n_jobs=2) == serial
    # reversing the tasks reverses the results: each depends only on its own seed
    assert map_cohorts(draw, seeds[::-1], n_jobs=2) == serial[::-1]


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, True])
def test_map_cohorts_rejects_bad_n_jobs(n_jobs):
    with pytest.raises(ValueError, match="n_jobs"):
        map_cohorts(draw, [1], n_jobs=n_jobs)


# ------------------------------------------------------------------- rates
def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval written out (Wilson 1927), as an independent check."""
    z = norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 60), (53, 1200), (20, 20), (1, 1)])
def test_summarize_rate_matches_wilson_formula(k, n):
    r = summarize_rate(k, n)
    low, high = wilson(k, n)
    assert isinstance(r, Rate) and (r.k, r.n) == (k, n)
    assert r.rate == pytest.approx(k / n)
    assert r.ci_low == pytest.approx(max(low, 0.0), abs=1e-12)
    assert r.ci_high == pytest.approx(min(high, 1.0), abs=1e-12)
    assert 0 <= r.ci_low <= r.rate <= r.ci_high <= 1
    assert r.as_dict() == {"k": k, "n": n, "rate": r.rate, "ci_low": r.ci_low,
                           "ci_high": r.ci_high}


def test_summarize_rate_level_and_str():
    wide, narrow = summarize_rate(10, 100, 0.99), summarize_rate(10, 100, 0.8)
    assert wide.ci_low < narrow.ci_low < 0.1 < narrow.ci_high < wide.ci_high
    assert str(summarize_rate(1, 4)).startswith("0.250 (1/4), 95% CI [")


@pytest.mark.parametrize(("k", "n", "conf"), [(1, 0, 0.95), (5, 4, 0.95), (-1, 4, 0.95),
                                              (1, 4, 1.0), (1.5, 4, 0.95)])
def test_summarize_rate_rejects_bad_input(k, n, conf):
    with pytest.raises(ValueError):
        summarize_rate(k, n, conf)


# ----------------------------------------------------------------- outputs
def test_write_and_read_outputs(tmp_path):
    table = pd.DataFrame({"scenario": ["null", "paper"], "arm": ["none", "detrend"],
                          "rate": [0.25, np.nan]})
    paths = write_outputs(tmp_path / "out", {"rates": table, "more.csv": table.head(1)})
    assert [p.name for p in paths] == ["rates.csv", "more.csv"]
    back = read_output(paths[0])
    assert back["scenario"].tolist() == ["null", "paper"]  # not read as NaN
    assert back["arm"].tolist() == ["none", "detrend"]
    assert back["rate"].iloc[0] == 0.25 and np.isnan(back["rate"].iloc[1])


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".."])
def test_write_outputs_rejects_paths_as_names(tmp_path, name):
    with pytest.raises(ValueError, match="plain file name"):
        write_outputs(tmp_path, {name: pd.DataFrame({"a": [1]})})


def test_write_outputs_rejects_non_frames(tmp_path):
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        write_outputs(tmp_path, {"t": [1, 2]})


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
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        code = pooling.main(["--quick", "--quiet", "--scheduler", cluster.scheduler_address,
                             "--out", str(tmp_path / "dask")])
    assert code == 0
    for name in ("pooling.csv", "pooling_cohorts.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "local" / name),
                                      pd.read_csv(tmp_path / "dask" / name))
