"""Zipf slope of words drawn from planted power laws."""

import numpy as np
import pytest

from infodyn.energy import rank_frequency, zipf_slope
from infodyn.errors import InputError


def _words(alpha, n_types=4000, M=200_000, seed=0):
    rng = np.random.default_rng(seed)
    p = np.arange(1, n_types + 1, dtype=float) ** -alpha
    k = rng.choice(n_types, size=M, p=p / p.sum())
    return ((k[:, None] >> np.arange(12)) & 1).astype(np.uint8)


@pytest.mark.parametrize("alpha", [1.0, 1.5])
def test_planted_power_law(alpha):
    X = _words(alpha)
    z = zipf_slope(X, rank_range=(1, 300), n_boot=100, seed=0)
    assert abs(z.slope + alpha) < 0.05
    # the bootstrap interval covers the planted slope, allowing for the finite-rank bias that
    # an interval of this width (< 0.1) can leave out by at most 0.03
    assert z.low - 0.03 < -alpha < z.high + 0.03, (z.low, z.slope, z.high)
    assert z.high - z.low < 0.1
    r, f = rank_frequency(X)
    assert r[0] == 1 and np.all(np.diff(f) <= 0) and f.sum() == pytest.approx(1.0)


def test_too_few_ranks_and_bad_input():
    X = np.array([[0, 1], [0, 1], [1, 1]])
    with pytest.warns(UserWarning, match="no Zipf slope"):
        assert np.isnan(zipf_slope(X).slope)
    with pytest.raises(InputError):
        zipf_slope(X, rank_range=(5, 2))
