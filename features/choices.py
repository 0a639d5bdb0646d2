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

__all__ = ["DUPLICATES", "PREPS", "SCENARIO_NAMES", "TRAJECTORIES", "VALUE_LABELS"]

#: Valid values of ``prep`` (within-person preprocessing, :mod:`features.transforms`).
#: ``"auto"`` is ``"diurnal"`` for day/beep designs, else ``"detrend"``; the last four are
#: the trend models of :mod:`features.trends`.
PREPS: tuple[str, ...] = ("detrend", "center", "none", "diurnal", "auto", "spline",
                          "changepoint", "piecewise", "difference")
#: Values of ``duplicates`` (:meth:`features.panel.Panel.from_frame`): rows sharing
#: patient, segments and time raise an error, or the first is kept.
DUPLICATES: tuple[str, ...] = ("error", "keep-first")
#: Preset scenarios of :func:`features.scenarios.get_scenario`.
SCENARIO_NAMES: tuple[str, ...] = ("paper", "null", "reversed")
#: Trajectory shapes of :mod:`features.trajectories` (``simulate --trajectory``).
TRAJECTORIES: tuple[str, ...] = ("linear", "early", "sudden", "relapse", "mixed")
#: Valid values of ``value_labels`` (SPSS/Stata value labels, :mod:`features.formats`).
VALUE_LABELS: tuple[str, ...] = ("codes", "labels")
