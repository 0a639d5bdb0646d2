"""Validation studies: one module per experiment, configured by ``configs/NAME.toml``.

Run ``python -m experiments.NAME [--quick]``; see ``docs/validation.md``.
"""

__all__: list[str] = []
