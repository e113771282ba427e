"""Gibbs and Metropolis chains against exact distributions; sample statistics."""

import numpy as np
import pytest

import infodyn as idn
from infodyn.energy import IsingModel, all_states, compare_statistics, sample_statistics
from infodyn.energy.sampling import (
    pairwise_covariance,
    sample,
    triplet_correlations,
)
from infodyn.errors import InputError


def _model(n=8, seed=0):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0, 0.6, (n, n)), 1)
    return IsingModel(J + J.T, rng.normal(0.2, 0.6, n))


def _histogram(X):
    idx = X.astype(np.int64) @ (1 << np.arange(X.shape[1]))
    return np.bincount(idx, minlength=2 ** X.shape[1]) / X.shape[0]


@pytest.mark.parametrize("method", ["gibbs", "metropolis"])
def test_chains_sample_the_exact_distribution(method):
    m = _model()
    p = m.probabilities()
    X = m.sample(40000, seed=1, method=method, chains=40, burn_in=100, thin=1)
    assert X.shape == (40000, 8) and X.dtype == np.uint8
    tv = 0.5 * np.abs(_histogram(X) - p).sum()
    assert tv < 0.04
    S = all_states(8).astype(float)
    np.testing.assert_allclose(X.mean(0), p @ S, atol=0.015)


def test_temperature_and_sequential_order():
    m = _model(6, seed=2)
    S = all_states(6)
    q = np.exp(-m.energy(S) / 2.0)
    q /= q.sum()
    X = m.sample(30000, seed=3, temperature=2.0, order="sequential", chains=30)
    assert 0.5 * np.abs(_histogram(X) - q).sum() < 0.04


def test_sampling_is_seeded():
    m = _model()
    a = m.sample(500, seed=7)
    assert np.array_equal(a, m.sample(500, seed=7))
    assert not np.array_equal(a, m.sample(500, seed=8))
    init = np.ones((4, 8), dtype=np.uint8)
    b = m.sample(40, seed=0, chains=4, init=init, burn_in=0, thin=1)
    assert b.shape == (40, 8)
    with pytest.raises(idn.InputError):
        m.sample(10, seed=0, chains=3, init=init)
    with pytest.raises(idn.InputError):
        m.sample(10, seed=-1)


def test_seeds_past_32_bits_are_refused_not_cut():
    """Numba's generator keeps a seed's low 32 bits: Gibbs chains of seeds 5 and 2^32 + 5 were
    the same chain; the largest 32-bit seed still runs."""
    X = (np.random.default_rng(0).random((500, 8)) < 0.3).astype(np.uint8)
    m = idn.energy.fit(X)
    assert not np.array_equal(m.sample(200, seed=5), m.sample(200, seed=2**32 - 1))
    with pytest.raises(idn.InputError, match=r"seed must be a whole number in \[0, 2\^32\)"):
        m.sample(200, seed=2**32 + 5)


def test_the_largest_seed_runs_through_the_curves_that_derive_seeds():
    """Curves seed point j with seed + j: the largest seed, 2^32 - 1, passed the first check and
    was refused at the second point ("got 4294967296", a seed never given); it wraps to 0."""
    E = idn.energy
    top = 2**32 - 1
    P = E.random_patterns(3, 12, seed=0)
    m = E.store(P, method="outer")
    ind = IsingModel.independent(np.vstack([P, 1 - P]))
    a = E.basin_profile(m, P, [1, 2], seed=top)
    assert a.shape == (3, 2)
    assert len(E.denoising_curve(m, P, [1, 2], seed=top)) == 2
    assert len(E.denoising_rows(m, ind, P, [1, 2], top)) == 2
    assert len(E.capacity_curve(12, [1, 2], seed=top)) == 2
    with pytest.raises(idn.InputError, match=r"seed must be a whole number in \[0, 2\^32\)"):
        E.capacity_curve(12, [1, 2], seed=2**40)  # checked to 2^63, then wrapped unsaid


def test_triplets_equal_third_central_moment():
    X = (np.random.default_rng(0).random((3000, 5)) < 0.3).astype(np.uint8)
    t = triplet_correlations(X)
    Xc = X - X.mean(0)
    for i, j, k, c3 in t:
        assert c3 == pytest.approx(
            np.mean(Xc[:, int(i)] * Xc[:, int(j)] * Xc[:, int(k)]), abs=1e-12
        )
    assert t.shape == (10, 4)


def test_triplets_hold_a_bounded_block_of_words_x_triplets(monkeypatch):
    """`infodyn energy` on 30 units x 50000 words held 4060 triplets x 50000 float64 three
    times over (1.6 GB each) to compare the model's statistics with the data's."""
    import tracemalloc

    from infodyn.energy import sampling

    X = (np.random.default_rng(1).random((4000, 20)) < 0.2).astype(np.uint8)
    tracemalloc.start()
    try:
        t = triplet_correlations(X)  # 1140 triplets: 36 MB a product of all of them
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * sampling.TRIPLET_CELLS * 5, peak
    monkeypatch.setattr(sampling, "TRIPLET_CELLS", 4000 * 7)  # blocks of 7 triplets
    np.testing.assert_array_equal(triplet_correlations(X), t)  # the same, bit for bit
    Xc = X - X.mean(0)
    i, j, k = t[:, :3].T.astype(int)
    np.testing.assert_allclose(t[:, 3], np.mean(Xc[:, i] * Xc[:, j] * Xc[:, k], axis=0), atol=1e-14)


def test_statistics_of_model_samples_match_data():
    m = _model()
    data = m.sample(20000, seed=0)
    same = compare_statistics(data, data)
    exact = ("rmse_means", "rmse_covariances", "rmse_triplets", "tv_count_distribution")
    exact += ("kl_count_distribution_bits",)  # smoothed where no sample fell only: none here
    assert all(same[k] == pytest.approx(0.0, abs=1e-12) for k in exact)
    assert same["corr_covariances"] == pytest.approx(1.0)
    few = data[:30]  # every K got half a count: KL(X || X) was 0.09 bits for 30 words
    assert compare_statistics(few, few)["kl_count_distribution_bits"] == 0.0
    unseen = compare_statistics(few, np.zeros_like(few))  # K = 0 only: the others smoothed
    assert np.isfinite(unseen["kl_count_distribution_bits"]) and unseen["tv_count_distribution"] > 0
    good = compare_statistics(data, m.sample(20000, seed=1))
    ind = IsingModel.independent(data)
    bad = compare_statistics(data, ind.sample(20000, seed=1))
    assert good["rmse_covariances"] < 0.3 * bad["rmse_covariances"]
    assert good["corr_covariances"] > 0.95
    stats = sample_statistics(data)
    assert stats["count_distribution"].sum() == pytest.approx(1.0)
    assert stats["covariances"].size == 28


def test_pattern_rates_by_hand():
    data = np.array([[0, 1], [0, 1], [1, 1], [0, 0]])
    other = np.array([[0, 1], [1, 0], [0, 0], [0, 0]])
    pats, fa, fb = idn.energy.pattern_rates(data, other)
    np.testing.assert_array_equal(pats[0], [0, 1])
    np.testing.assert_allclose(fa, [0.5, 0.25, 0.25])
    got = {tuple(p): f for p, f in zip(pats.tolist(), fb, strict=True)}
    assert got == {(0, 1): 0.25, (0, 0): 0.5, (1, 1): 0.0}
    s = compare_statistics(data, other)
    assert s["fraction_data_patterns_unsampled"] == pytest.approx(1 / 3)
    # TV over the data's patterns plus the mass the samples put elsewhere ([1, 0]: 0.25)
    assert s["tv_patterns_seen_in_data"] == pytest.approx(0.5 * (0.25 + 0.25 + 0.25) + 0.5 * 0.25)


def test_metropolis_samples_at_its_temperature():
    rng = np.random.default_rng(2)
    J = np.triu(rng.normal(0, 0.6, (6, 6)), 1)
    m = IsingModel(J + J.T, rng.normal(0.2, 0.6, 6))
    S = all_states(6)
    q = np.exp(-m.energy(S) / 2.0)
    q /= q.sum()
    X = m.sample(30000, seed=3, temperature=2.0, method="metropolis", chains=30)
    h = np.bincount(X.astype(np.int64) @ (1 << np.arange(6)), minlength=64) / X.shape[0]
    assert 0.5 * np.abs(h - q).sum() < 0.04


def _free(n=2):
    return IsingModel(np.zeros((n, n)), np.zeros(n))


def test_sample_returns_n_rows_when_chains_do_not_divide_n():
    X = sample(_free(3), 100, seed=0, chains=64)
    assert X.shape == (100, 3)


def test_default_chains_is_min_n_64_or_one_per_init_state():
    init = np.zeros((64, 3), dtype=np.uint8)
    X = sample(_free(3), 128, seed=0, init=init, burn_in=0, thin=1)
    assert X.shape == (128, 3)
    # 64 init states and n = 10: refused before, "init must hold one state per chain (10)",
    # with chains never given; now 64 chains
    assert sample(_free(3), 10, seed=0, init=init).shape == (10, 3)
    with pytest.raises(InputError, match="init holds 64 states for chains=10: give one state"):
        sample(_free(3), 10, seed=0, init=init, chains=10)


def test_metropolis_flips_every_zero_cost_unit_and_gibbs_does_not():
    """J = 0, theta = 0: every flip costs dE = 0, so Metropolis accepts it (min(1, e^0) = 1)
    and the state alternates 11, 00, 11, ...; Gibbs sets each bit with probability 1/2."""
    init = np.zeros((1, 2), dtype=np.uint8)
    kw = dict(seed=0, chains=1, init=init, burn_in=0, thin=1)
    X = sample(_free(2), 100, method="metropolis", **kw)
    expect = np.tile([[1, 1], [0, 0]], (50, 1))
    np.testing.assert_array_equal(X, expect)
    G = sample(_free(2), 100, method="gibbs", **kw)
    assert not np.array_equal(G, expect)


def test_sequential_order_visits_units_in_index_order():
    """Cold chain, one sweep from 00 (theta = (0.5, -0.5), J_01 = 1): in the order 0, 1 unit 0
    stays off (h = -0.5) and unit 1 turns on -> 01; in the order 1, 0 both turn on -> 11."""
    m = IsingModel([[0.0, 1.0], [1.0, 0.0]], [0.5, -0.5])
    init = np.zeros((64, 2), dtype=np.uint8)
    kw = dict(seed=0, chains=64, init=init, burn_in=0, thin=1, temperature=1e-3)
    seq = sample(m, 64, order="sequential", **kw)
    np.testing.assert_array_equal(seq, np.tile([[0, 1]], (64, 1)))
    rnd = sample(m, 64, order="random", **kw)
    assert {tuple(r) for r in rnd.tolist()} == {(0, 1), (1, 1)}


def test_triplets_are_all_listed_when_their_number_equals_max_triplets():
    X = (np.random.default_rng(0).random((200, 5)) < 0.5).astype(np.uint8)
    t = triplet_correlations(X, max_triplets=10)
    expect = [(a, b, c) for a in range(5) for b in range(a + 1, 5) for c in range(b + 1, 5)]
    assert [tuple(int(v) for v in r[:3]) for r in t] == expect


def test_pairwise_covariance_by_hand():
    X = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=np.uint8)
    # means 1/2, <x0 x1> = 1/4: covariance 0; variances 1/4 (population, not sample)
    np.testing.assert_allclose(pairwise_covariance(X), [[0.25, 0.0], [0.0, 0.25]], atol=1e-15)
    Y = np.array([[1, 0], [0, 1]], dtype=np.uint8)
    np.testing.assert_allclose(pairwise_covariance(Y), [[0.25, -0.25], [-0.25, 0.25]], atol=1e-15)
