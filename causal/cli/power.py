"""``therapy-pcmci power``: simulation-based power planning for a lag-1 effect.

Runs :func:`causal.power.power_curve` for every effect and number of weeks of
the grid and writes ``power.csv``, ``power.png`` and ``power.svg`` into
``--out``. A TOML grid (``--config``) may set::

    effect = [0.05, 0.08, 0.12]   # number or list; required here or via --effect
    weeks = [13, 26]              # number or list (default 13)
    patients = [50, 100, 200, 400]
    cohorts = 200
    alpha = 0.05
    missing = 0.0
    seed = 1
    edge = ["fear_others", "depression"]
    [pcmci]                       # further PanelPCMCI settings, e.g. prep = "center"

Options given on the command line override the file.

Examples
--------
>>> parser = argparse.ArgumentParser()
>>> configure_parser(parser)
>>> parser.parse_args(["--effect", "0.1", "--patients", "50,100", "--out", "o"]).patients
[50, 100]
"""

from __future__ import annotations

import argparse
import logging
import tomllib
from pathlib import Path
from typing import Any

from causal.cli.options import check_seed_option, n_jobs, out_folder

__all__ = ["CONFIG_KEYS", "add_parser", "configure_parser", "read_config", "run"]

logger = logging.getLogger("therapy_pcmci")  # what the command reports to the user

#: Keys a ``--config`` TOML file may set.
CONFIG_KEYS = ("effect", "weeks", "patients", "cohorts", "alpha", "missing", "seed", "edge",
               "pcmci")


def _csv_ints(text: str) -> list[int]:
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of integers, got "
                                         f"{text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return values


def _edge(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(f"--edge is CAUSE:EFFECT, got {text!r}")
    return parts[0], parts[1]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``therapy-pcmci power`` to ``parser``."""
    parser.add_argument("--effect", type=float, default=None,
                        help="lag-1 effect to detect (within-person SD units); required "
                             "unless --config sets it")
    parser.add_argument("--weeks", type=int, default=None, help="weekly reports (default 13)")
    parser.add_argument("--patients", type=_csv_ints, default=None,
                        help="comma-separated numbers of patients (default 50,100,200,400)")
    parser.add_argument("--cohorts", type=int, default=None,
                        help="simulated cohorts per number of patients (default 200)")
    parser.add_argument("--alpha", type=float, default=None,
                        help="PCMCI significance level (default 0.05)")
    parser.add_argument("--missing", type=float, default=None,
                        help="share of missing patient-weeks (default 0)")
    parser.add_argument("--edge", type=_edge, default=None,
                        help="tested edge CAUSE:EFFECT (default fear_others:depression)")
    parser.add_argument("--config", type=Path, default=None,
                        help="TOML grid (effect and weeks may be lists; see docs/usage.md)")
    parser.add_argument("--out", type=out_folder, required=True,
                        help="output folder for power.csv, power.png and power.svg")
    parser.add_argument("--seed", type=check_seed_option, default=None,
                        help="random seed (default 1)")
    parser.add_argument("--n-jobs", type=n_jobs, default=1,
                        help="parallel workers (default 1; -1 = all cores)")
    parser.add_argument("--scheduler", default=None,
                        help="address of a Dask scheduler to run the cohorts on")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``power`` command to the sub-parsers ``sub``."""
    w = sub.add_parser("power", help="simulation-based power planning for a lag-1 effect")
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
    """Run ``therapy-pcmci power``: write ``power.csv``, ``power.png`` and ``power.svg``.

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
    from causal.power import DEFAULT_EDGE, DEFAULT_PATIENTS, power_curve
    from features.errors import InputError

    defaults = {"weeks": 13, "patients": DEFAULT_PATIENTS, "cohorts": 200, "alpha": 0.05,
                "missing": 0.0, "seed": 1, "edge": DEFAULT_EDGE}
    config = read_config(args.config) if args.config is not None else {}
    where = f"{args.config}: " if args.config is not None else ""

    def pick(name: str, key: str) -> Any:
        value = getattr(args, name, None)
        return value if value is not None else config.get(key, defaults.get(key))

    effects = pick("effect", "effect")
    if effects is None:
        raise InputError("--effect is required (or set 'effect' in the --config file)")
    effects = _as_list(f"{where}effect", effects)
    weeks = _as_list(f"{where}weeks", pick("weeks", "weeks"))
    common = {"patients": pick("patients", "patients"), "n_cohorts": pick("cohorts", "cohorts"),
              "alpha": pick("alpha", "alpha"), "missing": pick("missing", "missing"),
              "edge": pick("edge", "edge"), "n_jobs": args.n_jobs,
              "scheduler": args.scheduler,
              "progress": False if getattr(args, "quiet", False) else None,
              **config.get("pcmci", {})}
    seed = pick("seed", "seed")
    results = [power_curve(e, w, random_state=seed, **common) for w in weeks for e in effects]
    table = pd.concat([r.table for r in results], ignore_index=True)
    out = Path(args.out)
    curves = table.assign(curve=[f"effect {e:g}, {w} weeks"
                                 for e, w in zip(table["effect"], table["n_weeks"], strict=True)])
    with writing_to(out) as stage:
        table.to_csv(stage / "power.csv", index=False)
        paths = plot_power_curve(curves, stage / "power",
                                 group="curve" if len(results) > 1 else None)
        paths = published(paths, stage, out)
    for r in results:
        logger.info("%s", r)
    logger.info("wrote %s", ", ".join(str(p) for p in [out / "power.csv", *paths]))
    return 0
