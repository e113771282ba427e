"""Null models: their rates, correlations and count variance match the targets."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from infodyn.energy.nulls import (
    bivariate_normal_cdf,
    dichotomised_gaussian,
    latent_fit,
    null_words,
)
from infodyn.errors import InputError


def _data(M=20000, n=8, seed=0):
    """Correlated words from a thresholded two-factor Gaussian (not a DG with these moments
    by construction, but of that family)."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((M, 2))
    load = rng.uniform(0.2, 0.7, (n, 2))
    z = f @ load.T + rng.standard_normal((M, n))
    return (z > rng.uniform(0.5, 1.5, n)).astype(np.uint8)


def test_bivariate_normal_cdf_against_scipy():
    for h, k, r in [(0.3, -0.7, 0.5), (-1.2, -0.4, -0.3), (1.0, 2.0, 0.9), (0.0, 0.5, 0.2)]:
        ref = multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]]).cdf([h, k])
        assert bivariate_normal_cdf(h, k, r) == pytest.approx(ref, abs=1e-6)


def _moments(X):
    Xf = X.astype(float)
    return Xf.mean(0), Xf.T @ Xf / len(X)


def test_nulls_keep_their_statistics():
    X = _data()
    mu, second = _moments(X)
    se = np.sqrt(mu * (1 - mu) / len(X))
    iu = np.triu_indices(X.shape[1], 1)
    for kind in ("independent", "shuffle", "dichotomised_gaussian", "latent"):
        Y = null_words(X, kind, seed=1)
        assert Y.shape == X.shape and Y.dtype == np.uint8
        m, s = _moments(Y)
        assert np.all(np.abs(m - mu) < 5 * se + 1e-12), kind
        if kind in ("independent", "shuffle"):  # pairs factorise
            np.testing.assert_allclose(s[iu], (np.outer(m, m))[iu], atol=0.01)
    np.testing.assert_array_equal(np.sort(null_words(X, "shuffle", seed=1)[:, 0]), np.sort(X[:, 0]))
    # the dichotomised Gaussian reproduces each pairwise second moment
    Y = dichotomised_gaussian(X, n_samples=200000, seed=2)
    _, s = _moments(Y)
    assert np.max(np.abs(s[iu] - second[iu])) < 0.006
    # the latent model reproduces the rates and the variance of the population count
    Y = null_words(X, "latent", seed=3)
    assert Y.sum(1).var() == pytest.approx(X.sum(1).var(), rel=0.05)
    a, b = latent_fit(X)
    assert b > 0


def test_bad_kind():
    with pytest.raises(InputError):
        null_words(_data(100), "bogus")
