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


def _persistent_words(n_rows, stay, seed, n_types=300, alpha=1.0):
    """Zipf words that persist: each row keeps the previous row's word with probability
    ``stay``, else draws afresh, so ``rho_k = stay^k`` and ``tau = (1 + stay) / (1 - stay)``."""
    rng = np.random.default_rng(seed)
    p = np.arange(1, n_types + 1, dtype=float) ** -alpha
    fresh = rng.choice(n_types, size=n_rows, p=p / p.sum())
    new = rng.random(n_rows) >= stay
    new[0] = True
    k = fresh[np.maximum.accumulate(np.where(new, np.arange(n_rows), 0))]
    return ((k[:, None] >> np.arange(9)) & 1).astype(np.uint8), k


@pytest.mark.parametrize("stay", [0.0, 0.8, 0.9])
def test_autocorrelation_time_of_persistent_words(stay):
    """A row's slope term is a function of its word, so its autocorrelation is ``stay^k``."""
    X = _persistent_words(40_000, stay, seed=3)[0]
    z = zipf_slope(X, rank_range=(1, 60), min_count=5, n_boot=2)
    assert z.tau == pytest.approx((1 + stay) / (1 - stay), rel=0.15)
    assert isinstance(z.tau, float) and isinstance(z.to_dict()["block_rows"], int)


def test_block_bootstrap_interval_matches_the_spread_over_independent_recordings():
    """Against the true sd of the slope over 60 independent recordings: resampling single rows
    of persistent words (tau = 19) gives about a third of it, the automatic blocks about all."""
    stay, n = 0.9, 20_000
    kw = {"rank_range": (1, 60), "min_count": 5, "seed": 2}
    slopes = [zipf_slope(_persistent_words(n, stay, s)[0], n_boot=0, **kw).slope for s in range(60)]
    truth = np.std(slopes, ddof=1)
    auto_sd, single_sd = [], []
    for s in range(100, 104):
        X = _persistent_words(n, stay, s)[0]
        z = zipf_slope(X, n_boot=150, **kw)
        one = zipf_slope(X, n_boot=150, block=1, **kw)
        assert z.block == int(np.ceil(5 * z.tau)) and 80 <= z.block <= 130 and one.block == 1
        auto_sd.append((z.high - z.low) / (2 * norm.ppf(0.975)))
        single_sd.append((one.high - one.low) / (2 * norm.ppf(0.975)))
    assert 0.75 < np.mean(auto_sd) / truth < 1.25, (np.mean(auto_sd), truth)
    assert np.mean(single_sd) / truth < 0.5, (np.mean(single_sd), truth)


def test_block_one_is_the_multinomial_interval_and_blocks_are_checked():
    X = _words(1.0, n_types=500, M=5000)
    z = zipf_slope(X, rank_range=(1, 100), n_boot=40, seed=4, block=1)
    counts = np.sort(np.unique(np.packbits(X, axis=1), axis=0, return_counts=True)[1])[::-1]
    rng = np.random.default_rng(4)
    boots = []
    for _ in range(40):
        c = np.sort(rng.multinomial(counts.sum(), counts / counts.sum()))[::-1]
        r = np.arange(1, c.size + 1)
        keep = (r <= 100) & (c >= 2)
        boots.append(_ls_slope(r[keep], c[keep]))
    half = norm.ppf(0.975) * np.std(boots, ddof=1)
    assert z.low == pytest.approx(z.slope - half, abs=1e-12)
    assert z.high == pytest.approx(z.slope + half, abs=1e-12)
    assert z.to_dict()["block_rows"] == 1
    for bad in (0, 1.5, "blocks", True, 5001, np.array([5, 5]), None):
        with pytest.raises(InputError, match="block must be"):
            zipf_slope(X, block=bad)


def test_a_recording_too_short_for_its_correlations_is_warned():
    X = _persistent_words(1000, 0.97, seed=1)[0]
    with pytest.warns(UserWarning, match="too few for a reliable Zipf interval"):
        z = zipf_slope(X, rank_range=(1, 30), n_boot=20)
    assert z.block > 50


def test_explicit_blocks_too_long_for_the_rows_are_warned_and_below_two_give_no_interval():
    """Circular blocks of all the rows resample the same counts: a zero-width interval."""
    X = _words(1.0, n_types=300, M=3000)
    kw = {"rank_range": (1, 50), "n_boot": 30}
    with pytest.warns(UserWarning, match="3000 rows hold 2 blocks of 1500: too few"):
        z = zipf_slope(X, block=1500, **kw)
    assert np.isfinite(z.low) and z.high > z.low
    for b in (1501, 3000):
        with pytest.warns(UserWarning, match="too few for a reliable Zipf interval"):
            z = zipf_slope(X, block=b, **kw)
        assert np.isfinite(z.slope) and np.isnan(z.low) and np.isnan(z.high)


def test_tied_words_have_one_slope_term_that_matches_the_slope_change():
    """Words of equal count share their ranks in any order: each has the same first-order
    effect on the slope (they had different terms, by the arbitrary order of their ranks)."""
    from infodyn.energy.zipf import _slope, _slope_terms

    counts = np.array([50, 400, 200, 50, 50, 100, 30, 20])
    g = _slope_terms(np.arange(counts.size), counts, 1, 8, 1)
    assert g[0] == g[3] == g[4]
    base = _slope(counts, 1, 8, 1)[0]
    for w in range(counts.size):
        more = counts.copy()
        more[w] += 1
        if np.sum(counts == counts[w]) == 1:  # (for a tied word one more moves its rank)
            assert _slope(more, 1, 8, 1)[0] - base == pytest.approx(g[w], rel=0.05, abs=1e-5)


@pytest.mark.parametrize("n", [61, 111, 200, 1001])
def test_the_correlation_time_by_fft_is_the_direct_sum(n):
    """An odd FFT length (n = 61, 111, 1001) dropped the last sample of the inverse transform:
    tau 4.53 for 4.56 at n = 61."""
    from infodyn.energy.zipf import _correlation_time

    y = np.convolve(np.random.default_rng(n).normal(size=n), np.ones(5), "same")
    d = y - y.mean()
    acf = np.array([d[: n - k] @ d[k:] for k in range(n // 10 + 1)])
    tau = np.maximum(1 + 2 * np.cumsum(acf[1:] / acf[0]), 1.0)
    k = np.arange(1, tau.size + 1)
    closed = k >= 5 * tau
    expected = tau[np.argmax(closed)] if closed.any() else tau[-1]
    assert _correlation_time(y) == (pytest.approx(expected, rel=1e-12), bool(closed.any()))
