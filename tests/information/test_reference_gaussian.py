"""Gaussian entropy, MI and total correlation against closed forms (Cover & Thomas 2006, ch. 8).

References, all analytic for a known covariance Sigma:

* ``H = 1/2 log2((2 pi e)^d det Sigma)`` (multivariate, unequal variances);
* ``I = -1/2 log2(1 - rho^2)`` for a bivariate normal;
* ``TC = -1/2 log2 det R`` (R the correlation matrix).

``bias_correct=True`` is checked by Monte Carlo: over many small samples the mean of the corrected
estimate must lie within 4 standard errors of the analytic value, while the mean of the raw
estimate (the negative control, computed in the test from the sample covariances) must miss
it by more than 8 standard errors.
"""

import numpy as np
import pytest

from infodyn.information import (
    gaussian_entropy,
    gaussian_mutual_information,
    gaussian_total_correlation,
)

SD = np.array([1.0, 2.0, 0.5])
CORR = np.array([[1.0, 0.6, 0.2], [0.6, 1.0, -0.3], [0.2, -0.3, 1.0]])
COV = CORR * SD[:, None] * SD[None, :]


def _h_closed_form(cov):
    d = cov.shape[0]
    return 0.5 * np.log2((2 * np.pi * np.e) ** d * np.linalg.det(cov))


def _samples(cov, n, reps, seed):
    """(reps, n, d) independent normal samples with covariance cov."""
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(cov)
    return rng.standard_normal((reps, n, cov.shape[0])) @ chol.T


def _raw_logdets(reps):
    """ln det of the sample covariance (divisor n - 1) of every rep, and of each variable."""
    c = reps - reps.mean(axis=1, keepdims=True)
    cov = np.einsum("rni,rnj->rij", c, c) / (reps.shape[1] - 1)
    return np.linalg.slogdet(cov)[1], np.log(np.diagonal(cov, axis1=1, axis2=2))


def _check_unbiased(corrected, raw, truth):
    """Mean of ``corrected`` within 4 SE of ``truth``; mean of ``raw`` (the same estimator
    without the correction, computed in the test) more than 8 SE away."""
    corrected, raw = np.asarray(corrected), np.asarray(raw)
    se = corrected.std(ddof=1) / np.sqrt(corrected.size)
    se_raw = raw.std(ddof=1) / np.sqrt(raw.size)
    assert abs(corrected.mean() - truth) < 4 * se
    assert abs(raw.mean() - truth) > 8 * se_raw  # the correction is doing real work


def test_multivariate_entropy_matches_closed_form():
    x = _samples(COV, 200_000, 1, seed=0)[0]
    # exact on the sample covariance (the formula, d = 3)
    assert gaussian_entropy(x) == pytest.approx(_h_closed_form(np.cov(x, rowvar=False)), abs=1e-10)
    # and close to the population value: sd of ln det S ~ sqrt(2 d / N) -> about 0.004 bits
    assert gaussian_entropy(x) == pytest.approx(_h_closed_form(COV), abs=0.016)


def test_entropy_bias_correction_is_unbiased():
    truth = _h_closed_form(COV)
    reps = _samples(COV, 20, 2000, seed=1)
    corrected = [gaussian_entropy(s, bias_correct=True) for s in reps]
    logdet, _ = _raw_logdets(reps)
    raw = (1.5 * np.log(2 * np.pi * np.e) + 0.5 * logdet) / np.log(2)
    assert gaussian_entropy(reps[0]) == pytest.approx(raw[0], abs=1e-10)
    _check_unbiased(corrected, raw, truth)


def test_mutual_information_bias_correction_is_unbiased():
    rho = 0.6
    truth = -0.5 * np.log2(1 - rho**2)
    reps = _samples(np.array([[1.0, rho], [rho, 1.0]]), 30, 6000, seed=2)
    corrected = [gaussian_mutual_information(s[:, 0], s[:, 1], bias_correct=True) for s in reps]
    logdet, logvar = _raw_logdets(reps)
    raw = 0.5 * (logvar.sum(axis=1) - logdet) / np.log(2)
    assert gaussian_mutual_information(reps[0, :, 0], reps[0, :, 1]) == pytest.approx(
        raw[0], abs=1e-10
    )
    _check_unbiased(corrected, raw, truth)


def test_total_correlation_bias_correction_is_unbiased():
    truth = -0.5 * np.log2(np.linalg.det(CORR))
    reps = _samples(COV, 30, 2000, seed=3)
    corrected = [gaussian_total_correlation(s, bias_correct=True) for s in reps]
    logdet, logvar = _raw_logdets(reps)
    raw = 0.5 * (logvar.sum(axis=1) - logdet) / np.log(2)
    assert gaussian_total_correlation(reps[0]) == pytest.approx(raw[0], abs=1e-10)
    _check_unbiased(corrected, raw, truth)


@pytest.mark.parametrize("kind", ["entropy", "mi", "tc"])
def test_bias_correction_has_the_size_of_the_monte_carlo_bias(kind):
    """The correction (corrected minus raw) depends only on N and d, so it is read from one
    sample and set against the raw estimator's bias measured over 200,000 samples of N = 10
    (computed in the test): raw mean + correction within 4 SE of the closed form. The SE is
    about 1e-3 bit against biases of 0.1-0.6 bit, so a correction 5 % short fails (the tests
    above, with 30 reps, cannot tell a correction 30 % short)."""
    cov = {"entropy": COV, "mi": np.array([[1.0, 0.6], [0.6, 1.0]]), "tc": COV}[kind]
    estimate = {
        "entropy": gaussian_entropy,
        "mi": lambda s, **kw: gaussian_mutual_information(s[:, 0], s[:, 1], **kw),
        "tc": gaussian_total_correlation,
    }[kind]
    reps = _samples(cov, 10, 200_000, seed=5)
    logdet, logvar = _raw_logdets(reps)
    if kind == "entropy":
        raw = (1.5 * np.log(2 * np.pi * np.e) + 0.5 * logdet) / np.log(2)
        truth = _h_closed_form(cov)
    else:
        raw = 0.5 * (logvar.sum(axis=1) - logdet) / np.log(2)
        sd = np.sqrt(np.diag(cov))
        truth = -0.5 * np.log2(np.linalg.det(cov / np.outer(sd, sd)))
    shift = [estimate(s, bias_correct=True) - estimate(s) for s in reps[:2]]
    assert shift[0] == pytest.approx(shift[1], abs=1e-12)  # a function of N and d only
    bias = truth - raw.mean()
    se = raw.std(ddof=1) / np.sqrt(raw.size)
    assert abs(bias) > 20 * se and abs(bias) > 0.02  # a bias well resolved
    assert abs(raw.mean() + shift[0] - truth) < 4 * se
