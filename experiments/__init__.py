"""Validation studies: one module per experiment, configured by ``configs/NAME.toml``.

Run ``python -m experiments.NAME [--quick] [--n-jobs N]``: every study has the
command line of :func:`experiments.harness.study.study_parser`, and the head of
``configs/NAME.toml`` gives the command and size of its full run. Results are
described in ``docs/validation.md``.
"""

__all__: list[str] = []
