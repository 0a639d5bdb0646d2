"""Benchmarks of the pooled ParCorr engine and of the ``discover`` command (not installed).

Run from the repository root:

* ``python -m benchmarks.engine [--quick]`` - tigramite's multiple-dataset
  ``ParCorr`` versus :class:`causal.discovery.engine.PooledParCorr` on the same data;
* ``python -m benchmarks.engine_profile`` - where the engine's time goes,
  against the one-pass limit;
* ``python -m benchmarks.cli_scale`` - ``therapy-pcmci discover`` on a
  10,000 x 52 x 10 CSV, with a profile of the in-process pipeline.

Results are written to ``results/benchmarks/`` and documented in
``docs/benchmarks.md``.
"""

__all__: list[str] = []
