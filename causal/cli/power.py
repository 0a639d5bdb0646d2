"""``therapy-pcmci power``: simulation-based power planning for an effect or a set of claims.

Two modes, which may be combined:

edge (``--effect``, ``--edge``)
    Runs :func:`causal.power.power_curve` for every effect and design of the
    grid and writes ``power.csv``, ``power.png`` and ``power.svg``; the log
    says how many patients give 80% and 90% power and, with several effects,
    the smallest effect detectable with each number of patients
    (``smallest_effect.csv``).
claims (``--hypotheses FILE|melsom2023``)
    Runs :func:`causal.power.claims_power` and writes ``claims_power.csv``
    (per claim and ``all`` claims, per design), ``claims_required.csv``
    (patients for 80% and 90% power) and ``claims_power.png``/``.svg``. The
    truth is the paper's (``melsom2023``) or, with ``--effect``, every
    directional claim at that effect.

Designs: ``--patients`` (a list), ``--weeks`` (a list), ``--missing``,
``--dropout``; or an EMA design ``--days D --beeps B`` (lags never cross a
night). A TOML grid (``--config``) may set::

    effect = [0.05, 0.08, 0.12]   # number or list; required here or via --effect (edge mode)
    weeks = [13, 26]              # number or list (default 13)
    patients = [50, 100, 200, 400]
    cohorts = 200
    alpha = 0.05
    missing = 0.0
    dropout = 0.0
    days = 14                     # with beeps: an EMA design instead of weeks
    beeps = 5
    trajectory = "linear"         # linear | early | sudden | relapse | mixed
    seed = 1
    edge = ["fear_others", "depression"]
    hypotheses = "melsom2023"     # preset name or path
    n_boot = 1000                 # bootstrap replicates of [[comparison]] claims
    engine = "auto"               # auto | fast | full
    [pcmci]                       # further PanelPCMCI settings, e.g. prep = "center"

Options given on the command line override the file.

Examples
--------
>>> parser = argparse.ArgumentParser()
>>> configure_parser(parser)
>>> parser.parse_args(["--effect", "0.1", "--patients", "50,100", "--out", "o"]).patients
[50, 100]
>>> parser.parse_args(["--effect", "0.05,0.1", "--weeks", "13,26", "--out", "o"]).weeks
[13, 26]
"""

from __future__ import annotations

import argparse
import logging
import tomllib
from pathlib import Path
from typing import Any

from causal.cli.options import check_seed_option, n_jobs, out_folder
from features.choices import TRAJECTORIES

__all__ = ["CONFIG_KEYS", "add_parser", "configure_parser", "read_config", "run"]

logger = logging.getLogger("therapy_pcmci")  # what the command reports to the user

#: Keys a ``--config`` TOML file may set.
CONFIG_KEYS = ("effect", "weeks", "patients", "cohorts", "alpha", "missing", "dropout", "days",
               "beeps", "trajectory", "seed", "edge", "hypotheses", "n_boot", "engine", "pcmci")


def _csv(kind: type, what: str):
    def parse(text: str) -> list[Any]:
        try:
            values = [kind(t) for t in text.split(",") if t.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {what}, got "
                                             f"{text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
        return values
    return parse


_csv_ints = _csv(int, "integers")
_csv_floats = _csv(float, "numbers")


def _edge(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(f"--edge is CAUSE:EFFECT, got {text!r}")
    return parts[0], parts[1]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``therapy-pcmci power`` to ``parser``."""
    parser.add_argument("--effect", type=_csv_floats, default=None,
                        help="lag-1 effect(s) to detect, comma-separated (standardized "
                             "within-person coefficient, the scale of the 'effect' output); "
                             "required unless --config or --hypotheses sets the truth")
    parser.add_argument("--edge", type=_edge, default=None,
                        help="tested edge CAUSE:EFFECT (default fear_others:depression)")
    parser.add_argument("--hypotheses", default=None, metavar="FILE|PRESET",
                        help="power for a set of claims to come out as stated, per claim and "
                             "all together (a TOML file or a preset, e.g. melsom2023)")
    parser.add_argument("--weeks", type=_csv_ints, default=None,
                        help="weekly reports, comma-separated (default 13)")
    parser.add_argument("--patients", type=_csv_ints, default=None,
                        help="comma-separated numbers of patients (default 50,100,200,400)")
    parser.add_argument("--days", type=int, default=None,
                        help="EMA design: number of days (with --beeps); lags never cross a "
                             "night")
    parser.add_argument("--beeps", type=int, default=None,
                        help="EMA design: beeps a day (with --days)")
    parser.add_argument("--trajectory", choices=TRAJECTORIES, default=None,
                        help="shape of the patients' change over the weeks (default linear)")
    parser.add_argument("--missing", type=float, default=None,
                        help="share of missing patient-weeks (EMA: beeps) (default 0)")
    parser.add_argument("--dropout", type=float, default=None,
                        help="share of patients who drop out at a random week (EMA: day) "
                             "(default 0)")
    parser.add_argument("--cohorts", type=int, default=None,
                        help="simulated cohorts per design (default 200)")
    parser.add_argument("--alpha", type=float, default=None,
                        help="PCMCI significance level (default 0.05)")
    parser.add_argument("--n-boot", type=int, default=None,
                        help="patient-bootstrap replicates of the effects for [[comparison]] "
                             "claims (default 1000, as discover)")
    parser.add_argument("--engine", choices=("auto", "fast", "full"), default=None,
                        help="fast: vectorized simulation into PCMCI's statistics (same "
                             "decisions); full: PanelPCMCI on every cohort; auto (default): "
                             "fast when the settings allow")
    parser.add_argument("--config", type=Path, default=None,
                        help="TOML grid (effect and weeks may be lists; see docs/usage.md)")
    parser.add_argument("--out", type=out_folder, required=True,
                        help="output folder (power.csv, power.png/.svg; with --hypotheses "
                             "claims_power.csv, claims_required.csv, claims_power.png/.svg)")
    parser.add_argument("--seed", type=check_seed_option, default=None,
                        help="random seed (default 1)")
    parser.add_argument("--n-jobs", type=n_jobs, default=1,
                        help="parallel workers (default 1; -1 = all cores)")
    parser.add_argument("--scheduler", default=None,
                        help="address of a Dask scheduler to run the cohorts on")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``power`` command to the sub-parsers ``sub``."""
    w = sub.add_parser("power", help="simulation-based power planning for an effect or claims")
    configure_parser(w)
    w.set_defaults(func=run)
    return w


def read_config(path: Path) -> dict[str, Any]:
    """Read and check a ``--config`` TOML grid.

    Raises
    ------
    InputError
        Naming the file: missing, unreadable, not TOML, unknown keys, a bad
        ``[pcmci]`` table.
    """
    from causal.power import POWER_CURVE_ARGS
    from features.errors import InputError

    if not path.is_file():
        raise InputError(f"config file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the config file "
                         f"({exc.strerror or type(exc).__name__})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: the config file is not UTF-8 text (byte {exc.start})"
                         ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise InputError(f"{path}: unknown key(s) {unknown}; allowed: {list(CONFIG_KEYS)}")
    pcmci = data.get("pcmci", {})
    if not isinstance(pcmci, dict):
        raise InputError(f"{path}: 'pcmci' must be a table ([pcmci]), got {pcmci!r}")
    shadowing = sorted(set(pcmci) & set(POWER_CURVE_ARGS))
    if shadowing:
        raise InputError(f"{path}: [pcmci] must not set {shadowing}; set them at the top "
                         "level or on the command line")
    return data


def _as_list(name: str, value: Any) -> list[Any]:
    from features.errors import InputError

    values = list(value) if isinstance(value, list | tuple) else [value]
    if not values:
        raise InputError(f"{name} must not be an empty list")
    return values


def run(args: argparse.Namespace) -> int:
    """Run ``therapy-pcmci power`` and write its tables and figures into ``--out``.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    InputError
        Bad options or config, with a message naming them.
    """
    import pandas as pd

    from causal.cli.pipeline import published, writing_to
    from causal.plotting.studies import plot_power_curve
    from causal.power import (
        DEFAULT_EDGE,
        DEFAULT_PATIENTS,
        claims_power,
        power_curve,
        smallest_effects,
    )
    from features.errors import InputError

    defaults = {"weeks": 13, "patients": DEFAULT_PATIENTS, "cohorts": 200, "alpha": 0.05,
                "missing": 0.0, "dropout": 0.0, "seed": 1, "edge": DEFAULT_EDGE,
                "engine": "auto", "n_boot": 1000, "trajectory": "linear"}
    config = read_config(args.config) if args.config is not None else {}
    where = f"{args.config}: " if args.config is not None else ""

    def pick(name: str, key: str | None = None) -> Any:
        key = name if key is None else key
        value = getattr(args, name, None)
        return value if value is not None else config.get(key, defaults.get(key))

    hypotheses = pick("hypotheses")
    effects = pick("effect")
    if effects is None and hypotheses is None:
        raise InputError("--effect is required (or set 'effect' in the --config file), "
                         "unless --hypotheses is given")
    days, beeps = pick("days"), pick("beeps")
    ema = days is not None or beeps is not None
    weeks = [None] if ema else _as_list(f"{where}weeks", pick("weeks"))
    common = {"patients": pick("patients"), "n_cohorts": pick("cohorts"),
              "alpha": pick("alpha"), "missing": pick("missing"), "dropout": pick("dropout"),
              "days": days, "beeps": beeps, "trajectory": pick("trajectory"),
              "engine": pick("engine"), "n_jobs": args.n_jobs,
              "scheduler": args.scheduler, "random_state": pick("seed"),
              "progress": False if getattr(args, "quiet", False) else None,
              **config.get("pcmci", {})}
    out = Path(args.out)
    written: list[Path] = []
    curves, claims = [], []
    n_boot = pick("n_boot")
    if hypotheses is not None and effects is None:
        claims = [claims_power(str(hypotheses), w, n_boot=n_boot, **common) for w in weeks]
    elif hypotheses is not None:
        claims = [claims_power(str(hypotheses), w, effect=e, n_boot=n_boot, **common)
                  for w in weeks for e in _as_list(f"{where}effect", effects)]
    else:
        edge = pick("edge")
        curves = [power_curve(e, w, edge=edge, **common)
                  for w in weeks for e in _as_list(f"{where}effect", effects)]
    with writing_to(out) as stage:
        if curves:
            table = pd.concat([r.table for r in curves], ignore_index=True)
            table.to_csv(stage / "power.csv", index=False)
            written.append(stage / "power.csv")
            design = [f"{d:g} days x {b:g} beeps" if ema else f"{w} weeks"
                      for w, d, b in zip(table["n_weeks"], table["days"], table["beeps"],
                                         strict=True)]
            labelled = table.assign(curve=[f"effect {e:g}, {d}" for e, d in
                                           zip(table["effect"], design, strict=True)])
            written += plot_power_curve(labelled, stage / "power",
                                        group="curve" if len(curves) > 1 else None)
            if len(set(table["effect"])) > 1:
                small = pd.concat([smallest_effects(curves, t) for t in (0.8, 0.9)],
                                  ignore_index=True)
                small.to_csv(stage / "smallest_effect.csv", index=False)
                written.append(stage / "smallest_effect.csv")
        if claims:
            table = pd.concat([r.table for r in claims], ignore_index=True)
            table.to_csv(stage / "claims_power.csv", index=False)
            need = pd.concat([r.required_patients(t) for r in claims for t in (0.8, 0.9)],
                             ignore_index=True)
            need.to_csv(stage / "claims_required.csv", index=False)
            written += [stage / "claims_power.csv", stage / "claims_required.csv"]
            if len(claims) > 1:  # one line per claim and run (weeks, truth)
                labels = [f", {r.table['n_weeks'].iloc[0]} weeks"
                          + (f", {r.scenario.name}" if effects is not None else "")
                          for r in claims]
                table = table.assign(claim=[f"{c}{labels[i]}" for i, r in enumerate(claims)
                                            for c in r.table["claim"]])
            written += plot_power_curve(table, stage / "claims_power", group="claim")
        written = list(published(written, stage, out))
    for r in curves:
        logger.info("%s", r)
    if len({r.effect for r in curves}) > 1:
        for t in (0.8, 0.9):
            for row in smallest_effects(curves, t).itertuples(index=False):
                found = ("not reached" if pd.isna(row.smallest_effect) else
                         f"{'<= ' if row.at_smallest_tried else '~'}{row.smallest_effect:.3g}")
                logger.info("smallest effect with %.0f%% power at %d patients: %s", 100 * t,
                            row.n_patients, found)
    for r in claims:
        logger.info("%s", r)
    logger.info("wrote %s", ", ".join(str(p) for p in written))
    return 0
