"""The ``therapy-pcmci`` command line (console script ``causal.cli:main``).

Commands, one module each: ``simulate`` (:mod:`causal.cli.simulate`),
``discover`` and ``demo`` (:mod:`causal.cli.discover`), ``individual``
(:mod:`causal.cli.individual`) and ``power`` (:mod:`causal.cli.power`).
:mod:`causal.cli.app` assembles the parser and reports errors;
:mod:`causal.cli.pipeline` holds the discover and individual pipelines
(compute -> result object -> write outputs). ``python -m causal.cli`` is the
same command.
"""

from __future__ import annotations

from causal.cli.app import main

__all__ = ["main"]
