"""Null models: their rates, correlations and count variance match the targets."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from infodyn.energy.nulls import (
    bivariate_normal_cdf,
    dichotomised_gaussian,
    independent_null,
    latent_fit,
    latent_null,
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


def _corr_data(M=3000, n=4, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((M, 1)) * 0.8 + rng.standard_normal((M, n))
    return (z > 0.3).astype(np.uint8)


@pytest.mark.parametrize("kind", ["independent", "shuffle", "dichotomised_gaussian", "latent"])
def test_null_words_passes_its_seed(kind):
    X = _corr_data()
    a, b = null_words(X, kind, seed=5), null_words(X, kind, seed=6)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, null_words(X, kind, seed=5))


@pytest.mark.parametrize("fn", [independent_null, dichotomised_gaussian, latent_null])
def test_nulls_draw_n_samples_rows(fn):
    assert fn(_corr_data(), n_samples=37, seed=0).shape == (37, 4)


def test_dichotomised_gaussian_refuses_a_constant_unit():
    X = _corr_data()
    X[:, 2] = 0
    with pytest.raises(InputError, match="strictly in"):
        dichotomised_gaussian(X)


def test_dichotomised_gaussian_clips_an_invalid_correlation_matrix():
    """Three mutually exclusive units: every pairwise Lambda is near -1, not a valid
    correlation matrix; it is clipped (with a warning) and sampling still works."""
    X = np.tile(np.eye(3, dtype=np.uint8), (100, 1))
    with pytest.warns(UserWarning, match="not positive definite"):
        Y = dichotomised_gaussian(X, n_samples=20000, seed=0)
    assert Y.shape == (20000, 3)
    np.testing.assert_allclose(Y.mean(0), 1 / 3, atol=0.02)
