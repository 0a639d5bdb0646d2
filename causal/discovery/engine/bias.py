r"""Short-panel bias of pooled partial correlations, and its removal from the tests.

Within-person centering or detrending estimates each patient's mean (and
slope) from the same few weeks that the tests use. The pooled moments of the
transformed scores are then biased (Nickell 1981, *Econometrica* 49:1417): at
226 patients x 13 weeks an absent cross-lagged link gets a partial correlation
of about -0.02 to +0.02 (its standard error is about 0.02), and a true +0.08
reads as +0.067. The bias is of order ``1/T``; it does not shrink with more
patients, so it costs power and calibration exactly where the evidence grows.

:class:`MomentBias` holds, for every pair of lagged columns of the engine's
design (:func:`causal.discovery.engine.column_index`), two per-sample moment
matrices of a fitted within-person VAR:

``expected``
    the expected moments of the *transformed* scores over the test samples
    (the panel's own weeks, missing values and trend model), and
``population``
    the stationary moments of the within-person process itself.

The partial correlation of a test on columns ``cols`` is then shifted by
``bias(cols) = pcor(expected[cols]) - pcor(population[cols])``: the
large-sample difference between what the pooled test computes and the
partial correlation it stands for, under the fitted model (the same exact
binding-function algebra as the ``effect`` column, see :mod:`causal.effects`;
the idea is the bias-corrected within estimator of Kiviet 1995, *J Econom*
68:53, applied to the test statistic). The analytic test keeps its degrees of
freedom: the correction moves the centre of the statistic, not its spread.

Examples
--------
>>> import numpy as np
>>> pop = np.eye(3)
>>> exp = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -0.05], [0.0, -0.05, 1.0]])
>>> bias = MomentBias(expected=exp, population=pop, n_vars=3, max_lag=0)
>>> round(bias.shift([0, 1, 2]), 3)
-0.05
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from causal.discovery.engine.partial import partial_correlation

__all__ = ["MomentBias"]


@dataclass(frozen=True, eq=False)
class MomentBias:
    """Expected and population moments of the lagged design, for centring tests.

    Parameters
    ----------
    expected : numpy.ndarray
        ``(n_vars * (max_lag + 1),) * 2``: per-sample expected moments of the
        transformed scores, columns ordered as
        :func:`~causal.discovery.engine.column_index`.
    population : numpy.ndarray
        Same shape: the stationary moments of the within-person process.
    n_vars : int
        Number of variables.
    max_lag : int
        Largest lag covered.
    """

    expected: np.ndarray
    population: np.ndarray
    n_vars: int
    max_lag: int

    def __post_init__(self) -> None:
        size = self.n_vars * (self.max_lag + 1)
        for name in ("expected", "population"):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != (size, size) or not np.all(np.isfinite(value)):
                raise ValueError(f"MomentBias.{name} must be a finite ({size}, {size}) matrix, "
                                 f"got shape {value.shape}")
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    def shift(self, columns: Sequence[int] | np.ndarray) -> float:
        """Bias of the partial correlation of the last two ``columns`` given the others.

        Returns 0 where either partial correlation is undefined.
        """
        cols = np.asarray(columns, dtype=np.int64)
        if cols.size < 2 or cols.max() >= self.expected.shape[0]:
            return 0.0
        grid = np.ix_(cols, cols)
        out = partial_correlation(self.expected[grid]) - partial_correlation(
            self.population[grid])
        return float(out) if np.isfinite(out) else 0.0
