"""Conditional-independence tests by name, built for tigramite's PCMCI.

Examples
--------
>>> make_ci_test("parcorr-tigramite").measure
'par_corr'
>>> make_ci_test("nope")
Traceback (most recent call last):
...
ValueError: unknown ci_test 'nope'; choose one of parcorr, parcorr-tigramite, robust_parcorr, gpdc, cmiknn
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["CI_TESTS", "make_ci_test"]

logger = logging.getLogger(__name__)

#: Names accepted by ``ci_test`` / ``--ci-test``.
CI_TESTS = ("parcorr", "parcorr-tigramite", "robust_parcorr", "gpdc", "cmiknn")


def make_ci_test(name: str, *, conf_level: float = 0.9, random_state: int | None = None) -> Any:
    """Return a fresh tigramite conditional-independence test.

    Parameters
    ----------
    name : str
        ``"parcorr"`` (linear partial correlation; the package default),
        ``"parcorr-tigramite"`` (tigramite's own ParCorr, for cross-checks),
        ``"robust_parcorr"`` (partial correlation after a normal-score
        transform), ``"gpdc"`` (Gaussian-process regression and distance
        correlation; needs the ``dcor`` package) or ``"cmiknn"``
        (nearest-neighbour conditional mutual information with a permutation
        test; slow).
    conf_level : float
        Level of the analytic confidence intervals (ParCorr-type tests).
    random_state : int, optional
        Seed of the permutation / null-distribution draws (GPDC, CMIknn).
    """
    if name not in CI_TESTS:
        raise ValueError(f"unknown ci_test {name!r}; choose one of {', '.join(CI_TESTS)}")
    if name in ("parcorr", "parcorr-tigramite"):
        from tigramite.independence_tests.parcorr import ParCorr

        return ParCorr(significance="analytic", confidence="analytic", conf_lev=conf_level)
    if name == "robust_parcorr":
        from tigramite.independence_tests.robust_parcorr import RobustParCorr

        return RobustParCorr(significance="analytic", confidence="analytic", conf_lev=conf_level)
    if name == "gpdc":
        try:
            from tigramite.independence_tests.gpdc import GPDC
        except ImportError as exc:
            raise ValueError("ci_test 'gpdc' needs the dcor package: pip install dcor") from exc
        return GPDC(significance="analytic", seed=random_state)
    from tigramite.independence_tests.cmiknn import CMIknn

    return CMIknn(significance="shuffle_test", seed=random_state, workers=1)
