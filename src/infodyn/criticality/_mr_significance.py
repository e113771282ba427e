"""Is there any correlation for the MR estimator to fit? A Ljung-Box test of the slopes r_k.

The MR estimator fits ``r_k = b m^k`` to the lag-k regression slopes of the population
activity (Wilting & Priesemann 2018, eq. 3). When the activity has no temporal correlation at
all (independent units, ``m = 0``, or a population subsampled so sparsely that nothing is left)
every ``r_k`` is sampling noise around 0 and the least-squares fit still returns some ``m``,
often near 1, with ``b`` close to 0. Such a number is not an estimate. For a stationary series
without correlation the slopes behave as sample autocorrelations, each with variance about
``1/N``; the Ljung-Box statistic (Ljung & Box 1978, eq. 2.3)

    Q = N (N + 2) sum_k r_k^2 / (N - k)

is then chi-squared with one degree of freedom per lag. ``N`` is the number of bins (all trials
together). When ``Q`` is not significant at :data:`NO_CORRELATION_P` the MR estimate is marked
not meaningful and ``m`` is not reported.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: p-value above which the slopes are taken as indistinguishable from zero
NO_CORRELATION_P = 0.01


def ljung_box_p(r: np.ndarray, k: np.ndarray, n_bins: int) -> float:
    """p-value of the Ljung-Box test that the slopes ``r`` at lags ``k`` are all zero."""
    r, k = np.asarray(r, float), np.asarray(k, float)
    n = float(n_bins)
    q = n * (n + 2.0) * float(np.sum(r**2 / np.maximum(n - k, 1.0)))
    return float(stats.chi2.sf(q, df=r.size))
