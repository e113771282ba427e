"""Posterior denoising: exact MAP for an independent prior, a local MAP otherwise, and the
denoising report."""

import math
import warnings

import numpy as np
import pytest

from infodyn.energy import IsingModel, denoising_rows, posterior_descent
from infodyn.energy.codes import corrupt


def test_posterior_descent_independent_prior_is_exact_map():
    rng = np.random.default_rng(0)
    n = 6
    theta = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, 4.0])
    model = IsingModel(np.zeros((n, n)), theta)
    Y = (rng.random((200, n)) < 0.5).astype(np.int64)
    eps = 0.1
    L = math.log((1 - eps) / eps)
    got = posterior_descent(model, Y, eps)
    # bitwise MAP: x_i = 1 iff L (2 y_i - 1) - theta_i > 0
    np.testing.assert_array_equal(got, (L * (2 * Y - 1) - theta > 0).astype(np.uint8))


def test_posterior_descent_reaches_a_local_map_and_lowers_posterior_energy():
    rng = np.random.default_rng(1)
    n = 10
    J = rng.normal(0, 1, (n, n))
    J = (J + J.T) / 2
    np.fill_diagonal(J, 0)
    model = IsingModel(J, rng.normal(0, 1, n))
    Y = (rng.random((300, n)) < 0.5).astype(np.int64)
    eps = 0.2
    L = math.log((1 - eps) / eps)
    X = posterior_descent(model, Y, eps)

    def post_energy(X):
        return model.energy(X) - L * np.sum(X * (2 * Y - 1), axis=1)

    assert np.all(post_energy(X) <= post_energy(Y) + 1e-12)
    # no single flip lowers the posterior energy
    for i in range(n):
        F = X.copy()
        F[:, i] ^= 1
        assert np.all(post_energy(F) >= post_energy(X) - 1e-12)


def test_denoising_rows_count_the_bits_left_wrong():
    rng = np.random.default_rng(2)
    pats = (rng.random((50, 8)) < 0.5).astype(np.uint8)
    ind = IsingModel(np.zeros((8, 8)), np.zeros(8))  # flat prior: the posterior keeps y
    rows = denoising_rows(ind, ind, pats, [1, 2], seed=3)
    assert [r["k"] for r in rows] == [1, 2]
    for j, r in enumerate(rows):
        noisy = corrupt(pats, r["k"], seed=3 + j)
        wrong = float(np.mean(np.sum(noisy != pats, axis=1)))
        assert r["bits_wrong_after_posterior_pairwise"] == wrong == r["k"]
        assert r["bits_wrong_after_posterior_independent"] == wrong
        assert r["fraction_exactly_restored_pairwise"] == 0.0


def test_denoising_rows_with_a_biased_independent_prior_use_the_bitwise_map():
    """With a non-flat independent prior the posterior's answer is the bitwise MAP
    ``x_i = 1 iff L (2 y_i - 1) - theta_i > 0`` (L = log((1 - eps) / eps), eps = k / n),
    computed here by hand and scored against the clean patterns."""
    rng = np.random.default_rng(4)
    n = 8
    pats = (rng.random((60, n)) < 0.3).astype(np.uint8)
    theta = np.array([-4.0, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0, 5.0])  # strong enough to flip bits
    ind = IsingModel(np.zeros((n, n)), theta)
    rows = denoising_rows(ind, ind, pats, [1, 3], seed=5)
    for j, r in enumerate(rows):
        noisy = corrupt(pats, r["k"], seed=5 + j).astype(np.int64)
        L = math.log((1 - r["k"] / n) / (r["k"] / n))
        map_ = (L * (2 * noisy - 1) - theta > 0).astype(np.uint8)
        wrong = float(np.mean(np.sum(map_ != pats, axis=1)))
        assert r["bits_wrong_after_posterior_independent"] == wrong
        assert r["bits_wrong_after_posterior_pairwise"] == wrong  # the same prior twice
        assert wrong != r["k"]  # the prior changed bits: not the flat case again


def test_flips_that_are_no_list_of_whole_numbers_are_one_line():
    import pytest

    from infodyn.errors import InputError

    model = IsingModel(np.zeros((8, 8)), np.zeros(8))
    patterns = np.random.default_rng(0).integers(0, 2, size=(5, 8))
    for bad, said in (
        (None, "must list at least one"),
        (["2"], "must be whole numbers in \\(0, 4\\)"),
    ):  # the argument's name (it was the config key's, denoise_flips)
        with pytest.raises(InputError, match=f"^flips {said}"):
            denoising_rows(model, model, patterns, bad, 0)


def test_posterior_descent_warns_of_rows_that_had_not_settled():
    """A chain of 80 units switching on one a sweep from its end needs more than 50 sweeps:
    the result was returned as a local MAP estimate, unsaid (one flip lowered its posterior
    energy by 0.59); ``descend`` warned in the same case."""
    n = 80
    J = np.zeros((n, n))
    i = np.arange(n - 1)
    J[i, i + 1] = J[i + 1, i] = 2.0
    theta = np.ones(n)
    theta[-1] = -5.0
    model = IsingModel(J, theta)
    y = np.ones((2, n), np.uint8)  # the second row is a fixed point already
    y[0, :-1] = 0
    with pytest.warns(UserWarning, match=r"1 row\(s\) did not reach a local MAP estimate"):
        x = posterior_descent(model, y, 0.4)
    assert 0 < x[0].sum() < n and x[1].sum() == n
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert posterior_descent(model, y, 0.4, max_sweeps=200)[0].sum() == n
