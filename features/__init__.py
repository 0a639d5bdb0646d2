"""Data in: long-format therapy and EMA panels, validated, within-person transformed, lagged.

The public API::

    from features import read_table, Panel, simulate_cohort, get_scenario, DataError

Names are loaded on first use (PEP 562), so importing the package costs nothing
until a name is used. ``features`` never imports ``causal``.

Examples
--------
>>> import features
>>> df = features.simulate_cohort("paper", n_patients=3, n_weeks=4, random_state=0)
>>> features.Panel.from_frame(df).n_patients
3
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from features._lazy import lazy_api

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from features.choices import PREPS, TRAJECTORIES
    from features.datasets import load_bringmann2013_tidy, load_kossakowski2017_tidy
    from features.diagnostics import TrendDiagnostics, diagnose_trends
    from features.errors import DataError
    from features.exclusions import ExclusionReport
    from features.io import read_table
    from features.lags import lag_table
    from features.panel import Panel
    from features.scenarios import Scenario, generic_scenario, get_scenario
    from features.simulate import simulate_cohort, simulate_ema, simulate_subgroups
    from features.trajectories import Trajectory
    from features.transforms import prepare

#: Public name -> the module that defines it.
_API: dict[str, str] = {
    **dict.fromkeys(("load_bringmann2013_tidy", "load_kossakowski2017_tidy"), "features.datasets"),
    **dict.fromkeys(("TrendDiagnostics", "diagnose_trends"), "features.diagnostics"),
    "DataError": "features.errors",
    "ExclusionReport": "features.exclusions",
    "read_table": "features.io",
    "lag_table": "features.lags",
    "Panel": "features.panel",
    **dict.fromkeys(("Scenario", "generic_scenario", "get_scenario"), "features.scenarios"),
    **dict.fromkeys(("simulate_cohort", "simulate_ema", "simulate_subgroups"),
                    "features.simulate"),
    **dict.fromkeys(("PREPS", "TRAJECTORIES"), "features.choices"),
    "Trajectory": "features.trajectories",
    "prepare": "features.transforms",
}

__all__ = [
    "PREPS",
    "TRAJECTORIES",
    "DataError",
    "ExclusionReport",
    "Panel",
    "Scenario",
    "Trajectory",
    "TrendDiagnostics",
    "diagnose_trends",
    "generic_scenario",
    "get_scenario",
    "lag_table",
    "load_bringmann2013_tidy",
    "load_kossakowski2017_tidy",
    "prepare",
    "read_table",
    "simulate_cohort",
    "simulate_ema",
    "simulate_subgroups",
]


__getattr__, __dir__ = lazy_api(__name__, _API, globals())
