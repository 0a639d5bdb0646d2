"""The ``therapy-pcmci`` command line.

Commands: ``simulate``, ``discover``, ``individual``, ``power`` and ``demo``.
"""

from __future__ import annotations

from causal.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
