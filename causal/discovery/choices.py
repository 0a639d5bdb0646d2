"""Names the discovery stage accepts, in a module that imports nothing.

The command line builds its ``choices=`` from here without importing
tigramite; :mod:`causal.discovery.citests` and
:mod:`causal.discovery.estimator` import the same tuples, so each list is
written once.

Examples
--------
>>> CI_TESTS[0], METHODS
('parcorr', ('pcmci', 'pcmciplus'))
"""

from __future__ import annotations

__all__ = ["CI_TESTS", "METHODS"]

#: Names accepted by ``ci_test`` / ``--ci-test``.
CI_TESTS: tuple[str, ...] = ("parcorr", "parcorr-tigramite", "robust_parcorr", "gpdc",
                             "cmiknn")
#: Discovery algorithms (``method`` / ``--method``).
METHODS: tuple[str, ...] = ("pcmci", "pcmciplus")
