"""Training hooks of the runs (infodyn.experiments.hooks): the branching metric is the
lag-one regression slope of the population activity (eq. 2 of the naive estimator)."""

import numpy as np
import pytest

from infodyn.errors import InputError
from infodyn.experiments.hooks import branching_estimate, branching_hook


def test_branching_estimate_is_the_lag_one_regression_slope():
    a = np.random.default_rng(0).poisson(5.0, size=(1, 400)).astype(float)
    slope = np.polyfit(a[0, :-1], a[0, 1:], 1)[0]  # OLS of A[t+1] on A[t]
    assert branching_estimate(a) == pytest.approx(slope, rel=1e-6, abs=1e-9)


def _driven_branching_process(m, h, shape, seed=0):
    """A[t] ~ Poisson(m A[t-1] + h): a branching process with immigration, ratio m."""
    rng = np.random.default_rng(seed)
    a = np.zeros(shape)
    for t in range(1, shape[1]):
        a[:, t] = rng.poisson(m * a[:, t - 1] + h)
    return a


def test_mr_estimate_recovers_m_under_subsampling_where_the_naive_one_does_not():
    # Wilting & Priesemann 2018: binomial subsampling (each event seen with probability q)
    # scales every lag's slope r_k = q' m^k by the same factor, so MR still finds m while the
    # naive slope r_1 falls far below it
    m = 0.95
    full = _driven_branching_process(m, 2.0, (4, 20_000))
    seen = np.random.default_rng(1).binomial(full.astype(np.int64), 0.05).astype(float)
    assert branching_estimate(seen, "mr") == pytest.approx(m, abs=0.01)
    assert branching_estimate(seen, "naive") < m - 0.3


def test_branching_hook_records_the_estimate_of_its_method():
    from types import SimpleNamespace

    from infodyn.experiments.hooks import BRANCHING_METRICS, branching_hook

    a = _driven_branching_process(0.9, 3.0, (2, 3000))
    for method, name in BRANCHING_METRICS.items():
        hook = branching_hook(method)
        out = hook.update(SimpleNamespace(activity=a), hook.init(None, {}))
        assert out.metrics == {name: branching_estimate(a, method)}
    assert np.isnan(branching_estimate(np.ones((1, 50)), "mr"))  # constant: no estimate
    with pytest.raises(InputError, match="method must be one of"):
        branching_hook("mle")


def test_branching_in_bins_of_several_steps():
    """The image pipeline's training metric used 1-ms bins (refractoriness: m about 0) where its
    analysis uses n_ref + 1 steps."""
    rng = np.random.default_rng(0)
    a = rng.poisson(3.0, size=(4, 61)).astype(float)
    binned = a[:, :60].reshape(4, 20, 3).sum(axis=2)
    assert branching_estimate(a, bin_steps=3) == branching_estimate(binned)
    with pytest.raises(InputError, match="bin_steps"):
        branching_hook(bin_steps=0)


@pytest.mark.parametrize(
    "activity, bin_steps, message",
    [
        (np.ones((2, 10)), 0, "bin_steps"),  # 0 and -3 were taken as 1
        (np.ones((2, 10)), -3, "bin_steps"),
        (np.ones((2, 10)), 2.5, "bin_steps"),  # a TypeError of slice indices
        (np.zeros((0, 10)), 1, r"population counts \(trials, steps\), got shape \(0, 10\)"),
        ("abc", 1, "activity must be real numbers"),
        (np.full((2, 10), np.nan), 1, "activity"),
    ],
)
def test_branching_estimate_refuses_bad_input_in_one_line(activity, bin_steps, message):
    with pytest.raises(InputError, match=message):
        branching_estimate(activity, bin_steps=bin_steps)
