"""Zipf slope of words drawn from planted power laws."""

import numpy as np
import pytest
from scipy.stats import norm

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


def _from_counts(counts):
    """Words (rows of 8 bits) with the given multiplicities."""
    rows = [[(k >> b) & 1 for b in range(8)] for k, c in enumerate(counts) for _ in range(c)]
    return np.array(rows, dtype=np.uint8)


def _ls_slope(r, c):
    x, y = np.log(r), np.log(c)
    return float(((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())


def test_zipf_window_and_min_count_are_inclusive():
    counts = [40, 12, 9, 5, 3, 2, 1]
    X = _from_counts(counts)
    # ranks 2..6 (counts 12, 9, 5, 3, 2: all >= min_count = 2)
    z = zipf_slope(X, rank_range=(2, 6), min_count=2, n_boot=0)
    assert z.n_ranks == 5
    assert z.slope == pytest.approx(_ls_slope(np.arange(2, 7), np.array(counts[1:6])), rel=1e-10)
    assert z.n_words == sum(counts) and z.n_distinct == len(counts)


def test_zipf_needs_three_ranks():
    X = _from_counts([5, 3])
    with pytest.warns(UserWarning, match="no Zipf slope"):
        assert np.isnan(zipf_slope(X, n_boot=0).slope)


def test_zipf_interval_half_width_follows_the_normal_quantile():
    rng = np.random.default_rng(0)
    p = np.arange(1, 301, dtype=float) ** -1.0
    k = rng.choice(300, size=20000, p=p / p.sum())
    X = ((k[:, None] >> np.arange(9)) & 1).astype(np.uint8)
    a = zipf_slope(X, rank_range=(1, 100), n_boot=50, level=0.95, seed=1)
    b = zipf_slope(X, rank_range=(1, 100), n_boot=50, level=0.5, seed=1)
    ratio = (a.high - a.low) / (b.high - b.low)
    assert ratio == pytest.approx(norm.ppf(0.975) / norm.ppf(0.75), rel=1e-10)


def test_zipf_rank_range_needs_lo_below_hi():
    with pytest.raises(InputError):
        zipf_slope(_from_counts([5, 4, 3, 2]), rank_range=(3, 3))


def test_a_level_that_is_no_number_is_one_line():
    X = np.random.default_rng(0).integers(0, 2, size=(200, 6))
    with pytest.raises(InputError, match="level must be in \\(0, 1\\), got '0.9'"):
        zipf_slope(X, level="0.9")
