"""Names the data stage accepts, in a module that imports nothing.

The command line builds its ``choices=`` from here without importing pandas;
:mod:`features.transforms`, :mod:`features.scenarios` and
:mod:`features.trajectories` import the same
tuples, so each list is written once.

Examples
--------
>>> PREPS[0], SCENARIO_NAMES[0]
('detrend', 'paper')
"""

from __future__ import annotations

__all__ = ["PREPS", "SCENARIO_NAMES", "TRAJECTORIES"]

#: Valid values of ``prep`` (within-person preprocessing, :mod:`features.transforms`; the
#: last four are the trend models of :mod:`features.trends`).
PREPS: tuple[str, ...] = ("detrend", "center", "none", "spline", "changepoint", "piecewise",
                          "difference")
#: Preset scenarios of :func:`features.scenarios.get_scenario`.
SCENARIO_NAMES: tuple[str, ...] = ("paper", "null", "reversed")
#: Trajectory shapes of :mod:`features.trajectories` (``simulate --trajectory``).
TRAJECTORIES: tuple[str, ...] = ("linear", "early", "sudden", "relapse", "mixed")
