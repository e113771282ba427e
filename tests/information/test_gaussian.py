"""Gaussian MI / TC: closed forms, copula invariance, bias correction, blindness to synergy."""

import math
from fractions import Fraction

import numpy as np
import pytest

import infodyn.information as I
from infodyn.errors import InputError
from infodyn.information import (
    gaussian_entropy,
    gaussian_mutual_information,
    gaussian_total_correlation,
    mutual_information,
)


def test_closed_forms():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.6, 0.2], [0.6, 1.0, -0.3], [0.2, -0.3, 1.0]])
    x = rng.multivariate_normal(np.zeros(3), cov, size=200_000)
    assert gaussian_mutual_information(x[:, 0], x[:, 1]) == pytest.approx(
        -0.5 * np.log2(1 - 0.36), abs=5e-3
    )
    assert gaussian_total_correlation(x) == pytest.approx(
        -0.5 * np.log2(np.linalg.det(cov)), abs=5e-3
    )
    sub = cov[np.ix_([0], [1, 2])]
    expected = -0.5 * np.log2(1 - (sub @ np.linalg.inv(cov[1:, 1:]) @ sub.T)[0, 0])
    assert gaussian_mutual_information(x[:, 0], x[:, 1:]) == pytest.approx(expected, abs=5e-3)
    assert gaussian_entropy(x[:, 0]) == pytest.approx(0.5 * np.log2(2 * np.pi * np.e), abs=5e-3)


def test_copula_is_invariant_to_monotone_transforms():
    rng = np.random.default_rng(1)
    x = rng.multivariate_normal([0, 0], [[1, 0.7], [0.7, 1]], size=20_000)
    a = gaussian_mutual_information(x[:, 0], x[:, 1], copula=True)
    b = gaussian_mutual_information(np.exp(x[:, 0]), x[:, 1] ** 3, copula=True)
    assert a == pytest.approx(b, abs=1e-12)
    assert a == pytest.approx(-0.5 * np.log2(1 - 0.49), abs=0.02)


def test_bias_correction_centres_independent_data_on_zero():
    rng = np.random.default_rng(2)
    raw, corr = [], []
    for _ in range(200):
        x = rng.normal(size=(40, 4))
        raw.append(gaussian_mutual_information(x[:, :2], x[:, 2:]))
        corr.append(gaussian_mutual_information(x[:, :2], x[:, 2:], bias_correct=True))
    assert np.mean(raw) > 0.05
    assert abs(np.mean(corr)) < 0.2 * np.mean(raw)


@pytest.mark.filterwarnings("ignore::infodyn.information.UndersampledWarning")
def test_gaussian_estimator_is_blind_to_parity_synergy():
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, (20_000, 2))
    y = bits[:, 0] ^ bits[:, 1]
    assert mutual_information(bits, y) == pytest.approx(1.0, abs=1e-3)
    assert gaussian_mutual_information(bits.astype(float), y.astype(float)) < 0.01


def test_covariance_needs_more_than_d_plus_one_samples():
    x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.5]])  # n = d + 1 = 3
    with pytest.raises(InputError, match="need more samples"):
        I.gaussian_entropy(x)
    assert np.isfinite(I.gaussian_entropy(np.r_[x, [[3.0, 1.0]]]))  # n = d + 2 is accepted


def test_bias_correct_with_ddof_zero_is_refused():
    x = np.random.default_rng(13).normal(size=(50, 3))
    with pytest.raises(InputError, match="bias_correct needs ridge=0 and ddof=1"):
        I.gaussian_total_correlation(x, bias_correct=True, ddof=0)


def test_negative_ridge_is_refused():
    x = np.random.default_rng(14).normal(size=(50, 3))
    with pytest.raises(InputError, match="ridge must be a finite number >= 0"):
        I.gaussian_total_correlation(x, ridge=-0.5)


def test_a_covariance_singular_up_to_round_off_is_refused():
    """[a, 3a] has a covariance whose slogdet came out finite (round-off), and its entropy was
    -19.1 bits; the copula TC of [a, a] 26.4 bits. Both are refused now, as [a, a] was; a
    nearly collinear pair that float64 resolves still gives the analytic value (the log
    determinant of its own sample covariance)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(500), rng.standard_normal(500)
    for x in (np.c_[a, 3 * a], np.c_[a, -2 * a + 1]):
        with pytest.raises(InputError, match="linear combination"):
            I.gaussian_entropy(x)
    with pytest.raises(InputError, match="linear combination"):
        I.gaussian_total_correlation(np.c_[a, a], copula=True)
    # values of any size float64 holds: their covariance is formed on columns scaled to 1
    # (x 1e-200 was refused, x 1e-154 gave an information of 0.0 bits: the LU underflowed)
    base = I.gaussian_entropy(np.c_[a, b])
    for s in (1e-300, 1e-200, 1e-154, 1e153, 1e300):
        shifted = base + 2 * np.log2(s)  # H(s X) = H(X) + d log2 s
        assert I.gaussian_entropy(np.c_[a, b] * s) == pytest.approx(shifted, abs=1e-9)
        y = 0.8 * a + 0.6 * b
        assert I.gaussian_mutual_information(a * s, y * s) == pytest.approx(
            I.gaussian_mutual_information(a, y), rel=1e-9
        )
        three = np.c_[a, y, a + np.roll(b, 7)]  # and TC with another divisor (ddof = 0)
        assert I.gaussian_total_correlation(three * s, ddof=0) == pytest.approx(
            I.gaussian_total_correlation(three, ddof=0), rel=1e-9
        )
    near = np.c_[a, a + 1e-5 * b]
    # its sample covariance's determinant in exact rational arithmetic (slogdet of the float64
    # covariance is 6e-6 bit off, the scaled columns' 8e-7)
    x, y = ([Fraction(float(v)) for v in col] for col in near.T)
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxx, syy = sum((u - mx) ** 2 for u in x), sum((v - my) ** 2 for v in y)
    sxy = sum((u - mx) * (v - my) for u, v in zip(x, y, strict=True))
    det = (sxx * syy - sxy**2) / (len(x) - 1) ** 2
    expected = (np.log(2 * np.pi * np.e) + 0.5 * math.log(det)) / np.log(2)
    assert I.gaussian_entropy(near) == pytest.approx(expected, rel=2e-7)
    assert I.gaussian_total_correlation(np.c_[a, a], ridge=0.1) > 0  # ridge makes it regular


def test_one_sample_is_named_as_such():
    """One sample gave "ddof must be at most 0", naming an option the caller never passed."""
    with pytest.raises(InputError, match="at least two samples, got 1"):
        I.gaussian_total_correlation(np.ones((1, 3)))


def test_gaussian_measures_return_python_floats_as_the_others_do():
    """They returned np.float64 (the discrete measures return float)."""
    x = np.random.default_rng(0).normal(size=(100, 2))
    for value in (
        I.gaussian_entropy(x),
        I.gaussian_mutual_information(x[:, 0], x[:, 1]),
        I.gaussian_total_correlation(x),
        I.gaussian_total_correlation(x, ddof=0),
    ):
        assert type(value) is float
