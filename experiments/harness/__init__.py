"""The one harness every study runs on (``python -m experiments.NAME``).

* :mod:`experiments.harness.config` - :class:`~experiments.harness.config.ConfigError`,
  the :class:`~experiments.harness.config.Settings` base of every study's
  settings, the field makers that declare each config key once with its check
  (:func:`~experiments.harness.config.integer`,
  :func:`~experiments.harness.config.choices`...), the shared cohort design keys
  :class:`~experiments.harness.config.CohortSettings` and
  :func:`~experiments.harness.config.load_config` (TOML from
  ``experiments/configs/NAME.toml`` with its ``[quick]`` table);
* :mod:`experiments.harness.study` - the study spec
  :class:`~experiments.harness.study.Study` (its ``run``, ``main`` and
  ``run_script``), the one result type
  :class:`~experiments.harness.study.StudyResult`, the run options
  :class:`~experiments.harness.study.RunOptions` (parallel cohort map) and
  :func:`~experiments.harness.study.summary_figure`;
* :mod:`experiments.harness.cohorts` - parallel map and truth of simulated cohorts;
* :mod:`experiments.harness.outputs` - CSV tables, text rows, figures and rate rows.

Import from the defining module; this package re-exports nothing.
"""

__all__: list[str] = []
