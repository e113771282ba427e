"""Training hooks of the runs (infodyn.experiments.hooks): the branching metric is the
lag-one regression slope of the population activity (eq. 2 of the naive estimator)."""

import numpy as np
import pytest

from infodyn.experiments.hooks import branching_estimate


def test_branching_estimate_is_the_lag_one_regression_slope():
    a = np.random.default_rng(0).poisson(5.0, size=(1, 400)).astype(float)
    slope = np.polyfit(a[0, :-1], a[0, 1:], 1)[0]  # OLS of A[t+1] on A[t]
    assert branching_estimate(a) == pytest.approx(slope, rel=1e-6, abs=1e-9)
