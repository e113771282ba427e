"""Entropy estimators: exact values, Miller-Madow bias, NSB against independent computations."""

import math
import warnings

import numpy as np
import pytest
from entropy_reference import h_rows, nsb
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import digamma, gammaln

import infodyn.information as I
from infodyn.errors import InputError
from infodyn.information import Estimate, UndersampledWarning, entropy, entropy_from_counts
from infodyn.information.nsb import dirichlet_entropy_moments, nsb_entropy

pytestmark = pytest.mark.filterwarnings("ignore::infodyn.information.UndersampledWarning")


def test_plugin_exact_on_equally_weighted_rows():
    rows = np.arange(8)
    h = entropy(rows)
    assert isinstance(h, Estimate) and float(h) == pytest.approx(3.0, abs=1e-12)
    assert h.n_samples == 8 and h.n_words == 8
    x = np.array([0, 0, 0, 1])  # p = (3/4, 1/4)
    assert float(entropy(x)) == pytest.approx(-(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25)))


def test_entropy_of_constant_data_is_plus_zero():
    # -(1 * log 1) is -0.0, and max(-0.0, 0.0) kept it: "Estimate(-0 bits, ...)"
    h = entropy(np.zeros(50, int))
    assert math.copysign(1.0, float(h)) == 1.0 and "-0" not in repr(h)


def test_miller_madow_removes_the_plugin_bias_on_uniform_samples():
    k, n, reps = 16, 200, 300
    rng = np.random.default_rng(0)
    samples = rng.integers(0, k, (reps, n))
    plug = np.array([float(entropy(s)) for s in samples])
    mm = np.array([float(entropy(s, "miller_madow")) for s in samples])
    expected_bias = (k - 1) / (2 * n * np.log(2))
    se = plug.std() / np.sqrt(reps)
    assert np.log2(k) - plug.mean() == pytest.approx(expected_bias, rel=0.15)
    assert abs(mm.mean() - np.log2(k)) < 4 * se + 0.01
    assert abs(mm.mean() - np.log2(k)) < 0.25 * expected_bias


def test_plugin_standard_error_matches_sampling_spread():
    p = np.array([0.5, 0.25, 0.125, 0.125])
    rng = np.random.default_rng(1)
    est = [entropy(rng.choice(4, size=500, p=p)) for _ in range(300)]
    spread = np.std([float(e) for e in est])
    assert np.mean([e.std for e in est]) == pytest.approx(spread, rel=0.2)


def test_undersampling_warns():
    with pytest.warns(UndersampledWarning, match="distinct words"):
        warnings.simplefilter("always")
        entropy(np.arange(10))


def test_dirichlet_entropy_moments_match_monte_carlo():
    counts = np.array([5.0, 2.0, 1.0, 1.0])
    k, beta = 7, 0.7
    rng = np.random.default_rng(2)
    alpha = np.concatenate([counts + beta, np.full(k - counts.size, beta)])
    p = rng.dirichlet(alpha, size=200_000)
    h = -(p * np.log(np.where(p > 0, p, 1.0))).sum(1)
    m1, m2 = dirichlet_entropy_moments(counts, beta, k)
    assert m1 == pytest.approx(h.mean(), abs=3 * h.std() / np.sqrt(h.size))
    assert m2 == pytest.approx((h**2).mean(), rel=2e-3)


def test_dirichlet_entropy_moments_of_no_counts_are_the_priors():
    """No observation: the prior's mean entropy psi(K beta + 1) - psi(beta + 1) (1/2 + 1/3 +
    1/4 nats for K = 4, beta = 1); an empty array is that, as all-zero counts are."""
    m1, m2 = dirichlet_entropy_moments([], 1.0, 4)
    assert m1 == pytest.approx(1 / 2 + 1 / 3 + 1 / 4, rel=1e-12)
    assert (m1, m2) == pytest.approx(dirichlet_entropy_moments([0, 0], 1.0, 4), rel=1e-12)


def _nsb_by_quadrature(counts: np.ndarray, k: int) -> float:
    """Independent NSB: integrate over xi (flat prior) with sums over all K bins, the
    K - len(counts) empty bins summed at once (so that K = 2^30 can be checked)."""
    n = np.asarray(counts, dtype=float)
    big_n, empty = n.sum(), k - n.size

    def beta_of(xi: float) -> float:
        f = lambda lb: digamma(k * np.exp(lb) + 1) - digamma(np.exp(lb) + 1) - xi  # noqa: E731
        return float(np.exp(brentq(f, -60, 60, xtol=1e-13)))

    def log_ev(b: float) -> float:  # an empty bin adds gammaln(b) - gammaln(b) = 0
        return gammaln(k * b) - gammaln(big_n + k * b) + np.sum(gammaln(n + b) - gammaln(b))

    def mean_h(b: float) -> float:
        a, total = n + b, big_n + k * b
        spread = np.sum(a / total * digamma(a + 1)) + empty * b / total * digamma(b + 1)
        return digamma(total + 1) - spread

    xs = np.linspace(1e-6, np.log(k) - 1e-6, 400)
    ref = max(log_ev(beta_of(x)) for x in xs)
    w = lambda x: np.exp(log_ev(beta_of(x)) - ref)  # noqa: E731
    z = quad(w, 1e-9, np.log(k) - 1e-9, limit=400, points=xs[::40])[0]
    num = quad(
        lambda x: w(x) * mean_h(beta_of(x)), 1e-9, np.log(k) - 1e-9, limit=400, points=xs[::40]
    )[0]
    return num / z / np.log(2)


@pytest.mark.parametrize(
    "counts,k",
    [
        ([4, 3, 2, 1, 1, 1], 20),
        ([10, 1, 1], 8),
        ([1, 1, 2], 50),
        # no word repeats in a huge alphabet: the evidence is flat up to beta >> N, where the
        # prior thins out slowly; the grid stopped at beta = N (15.734 bits for 15.900)
        ([1, 1], 2**30),
        ([1, 1, 1, 1, 1], 2**40),
    ],
)
def test_nsb_matches_independent_quadrature(counts, k):
    c = np.array(counts, dtype=float)
    est = entropy_from_counts(c, "nsb", alphabet_size=k)
    assert float(est) == pytest.approx(_nsb_by_quadrature(c, k), abs=2e-3, rel=2e-4)
    assert 0 < est.std < np.log2(k)


def test_nsb_beats_plugin_when_undersampled_and_handles_huge_alphabets():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 1024, 300)  # true entropy 10 bits
    nsb, plug = entropy(x, "nsb", alphabet_size=1024), entropy(x)
    assert abs(float(nsb) - 10) < abs(float(plug) - 10) / 5
    assert abs(float(nsb) - 10) < 3 * nsb.std + 0.1
    words = (rng.random((4000, 64)) < 0.05).astype(np.uint8)  # K = 2**64 possible words
    h = entropy(words, "nsb")
    assert np.isfinite(float(h)) and float(h) > float(entropy(words))
    with pytest.raises(Exception, match="alphabet"):
        entropy_from_counts([1, 1, 1], "nsb", alphabet_size=2)


def test_values_of_one_sample_warn():
    from infodyn.information import (
        UndersampledWarning,
        entropy,
        mutual_information,
        o_information,
        pid,
        total_correlation,
        transfer_entropy,
    )

    calls = [
        # these returned 0 bits without a word (entropy and MI warned)
        lambda: total_correlation(np.array([[0, 1, 1]])),
        lambda: o_information(np.array([[0, 1, 1]])),
        lambda: pid([1], [0], [1]),
        lambda: entropy(np.array([[1, 0]])),
        lambda: entropy(np.array([[1, 0]]), estimator="nsb"),
        lambda: mutual_information(np.array([[1]]), np.array([[0]])),
        lambda: transfer_entropy(np.array([0, 1]), np.array([1, 0])),
    ]
    for call in calls:
        with pytest.warns(UndersampledWarning, match="only 1 sample"):
            call()


def test_nsb_is_finite_for_alphabets_up_to_the_float_limit():
    # K = 1e150 gave a NaN std and K = 1e300 a NaN estimate (K beta and squared sums overflowed);
    # with few coincidences the estimate no longer depends on K once K >> N
    c = np.array([3.0, 4.0, 1.0, 1.0, 2.0])
    ref = entropy_from_counts(c, "nsb", alphabet_size=2.0**40)
    for k in (1e150, 1e200, 1e300):
        with warnings.catch_warnings():  # b**3 and K beta overflowed on the way (warnings)
            warnings.simplefilter("error")
            est = entropy_from_counts(c, "nsb", alphabet_size=k)
        assert float(est) == pytest.approx(float(ref), rel=1e-5)
        assert est.std == pytest.approx(ref.std, rel=1e-4) and est.std > 0
    m1, m2 = dirichlet_entropy_moments(c, 1e-200, 1e300)  # the normalised sums hold there
    assert np.isfinite(m1) and m2 >= m1**2 - 1e-9
    # beyond 1e300 the grid's beta turns subnormal (1e307 gave NaN): refused as out of range
    for k in (1e307, float("inf")):
        with pytest.raises(InputError, match="beyond what NSB's integral resolves"):
            entropy_from_counts(c, "nsb", alphabet_size=k)
    for bad in (float("nan"), "a", 4.5, 0, True, 2):  # 2 < the 5 words observed
        with pytest.raises(InputError, match="alphabet_size"):
            entropy_from_counts(c, "nsb", alphabet_size=bad)


@pytest.mark.parametrize("estimator", ["plugin", "miller_madow", "nsb"])
def test_entropy_refuses_fewer_possible_words_than_observed_for_every_estimator(estimator):
    # plug-in and Miller-Madow took alphabet_size=1 for four distinct words without a word
    with pytest.raises(InputError, match="below the 4 distinct words observed"):
        entropy(np.arange(4), estimator, alphabet_size=3)
    assert float(entropy(np.arange(4), estimator, alphabet_size=4)) > 0
    # the words observed, not the range of their labels (3 words: 0, 5, 9)
    x = np.array([0, 5, 9, 9, 5, 0])
    assert float(entropy(x, estimator, alphabet_size=3)) > 0
    with pytest.raises(InputError, match="below the 3 distinct words observed"):
        entropy(x, estimator, alphabet_size=2)
    words = np.vstack([np.zeros(8, int), np.eye(8, dtype=int)])  # 9 of 2^8 possible words
    assert float(entropy(words, estimator, alphabet_size=9)) > 0


def test_undersampled_nsb_warns_with_nsb_advice():
    # the warning said "plug-in estimates are strongly biased. Use estimator='nsb'" to NSB users
    x = np.r_[np.arange(40), np.arange(10)]
    with pytest.warns(UndersampledWarning, match="NSB's estimate then leans on its prior"):
        warnings.simplefilter("always")
        entropy(x, "nsb", alphabet_size=64)
    # and the Miller-Madow users that they had plug-in estimates
    with pytest.warns(UndersampledWarning, match="Miller-Madow's correction is first order only"):
        entropy(x, "miller_madow")
    with pytest.warns(UndersampledWarning, match="Miller-Madow's correction is first order only"):
        I.total_correlation(np.random.default_rng(0).integers(0, 2, (20, 6)), "miller_madow")
    with pytest.warns(UndersampledWarning, match="plug-in estimates are strongly biased"):
        entropy(x)


def test_negative_counts_are_refused():
    for bad in ([3, -1, 2], [0, -0.5, 4]):
        with pytest.raises(InputError, match="non-negative"):
            I.entropy_from_counts(bad)


def test_conditional_entropy_miller_madow_corrects_both_terms():
    """H_MM(X|Y) = H_MM(X,Y) - H_MM(Y): each entropy gets its own Miller-Madow term."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, 60)
    y = (x + rng.integers(0, 2, 60)) % 4
    ref = h_rows(np.c_[x, y], "miller_madow") - h_rows(y, "miller_madow")
    assert I.conditional_entropy(x, y, "miller_madow") == pytest.approx(ref, abs=1e-12)


def test_nsb_std_is_in_bits_like_the_delta_method():
    """With N = 1000 samples on K = 3 words the NSB posterior is a narrow Gaussian around the
    plug-in value: its sd equals the delta-method SE sqrt((sum p ln^2 p - H^2) / N) / ln 2
    (bits), written out here."""
    counts = np.array([500.0, 300.0, 200.0])
    p = counts / counts.sum()
    h = -(p * np.log(p)).sum()
    se_bits = math.sqrt(((p * np.log(p) ** 2).sum() - h * h) / counts.sum()) / math.log(2)
    est = I.entropy_from_counts(counts, "nsb", alphabet_size=3)
    assert est.std == pytest.approx(se_bits, rel=0.05)
    assert float(est) == pytest.approx(h / math.log(2), abs=3e-3)


def test_conditional_entropy_nsb_is_the_difference_of_nsb_entropies():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, 40)
    y = x ^ (rng.random(40) < 0.2)
    ref = nsb(np.c_[x, y]) - nsb(y)
    assert I.conditional_entropy(x, y, "nsb") == pytest.approx(ref, abs=1e-10)


def test_stirling_branch_of_the_rising_factorial():
    """The a > 1e6 branch of nsb._log_rising (private helper: NSB's public values do not reach
    it with any posterior weight in ordinary cases) against gammaln differences, which are
    accurate to ~1e-8 at these arguments."""
    from scipy.special import gammaln

    from infodyn.information.nsb import _log_rising

    a = np.array([2e6, 1e7, 1e7, 5e6])
    n = np.array([50.0, 1000.0, 3.0, 20000.0])
    np.testing.assert_allclose(_log_rising(a, n), gammaln(a + n) - gammaln(a), rtol=0, atol=1e-6)


def test_counts_options_are_checked_for_every_estimator():
    """alphabet_size was checked only for NSB (-1, 0 or fewer words than observed went into the
    plug-in and Miller-Madow estimates), and probabilities passed as counts gave a Miller-Madow
    correction of 2.94 bits for 1.5; the plug-in estimate of probabilities stays."""
    for size, message in [(-1, "whole number >= 1"), (0, "whole number >= 1"), (2, "below the 3")]:
        for estimator in ("plugin", "miller_madow"):
            with pytest.raises(InputError, match=message):
                entropy_from_counts([5, 3, 2], estimator, alphabet_size=size)
    for estimator in ("miller_madow", "nsb"):
        with pytest.raises(InputError, match="needs counts of samples"):
            entropy_from_counts([0.5, 0.25, 0.25], estimator, alphabet_size=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndersampledWarning)
        assert float(entropy_from_counts([0.5, 0.25, 0.25])) == pytest.approx(1.5, abs=1e-12)


def test_probabilities_have_no_sample_size_and_no_undersampling_warning():
    # [0.2, 0.8] was read as one sample: std 0.8 bits and "only 1 sample: the estimate (0 bits
    # plug-in ...)" beside an estimate of 0.72 bits
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = entropy_from_counts([0.2, 0.8])
    assert float(e) == pytest.approx(-(0.2 * np.log2(0.2) + 0.8 * np.log2(0.8)), abs=1e-12)
    assert np.isnan(e.std) and e.n_samples == 0 and e.n_words == 2
    counts = entropy_from_counts([200, 800])  # counts keep their standard error
    assert float(counts) == pytest.approx(float(e), abs=1e-12) and 0 < counts.std < 0.03


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # dropped as zeros are: -5 and NaN gave an entropy of the other counts
        (lambda: nsb_entropy([3, -5, 2], 4), "finite non-negative"),
        (lambda: nsb_entropy([np.nan, 2], 4), "finite non-negative"),
        (lambda: nsb_entropy([1.5, 2], 4), "whole numbers"),
        (lambda: nsb_entropy([1, 2], 2.5), "whole number"),  # 2.5 possible words
        (lambda: nsb_entropy([1, 2], np.inf), "finite"),
        # K = 2 bins with 3 observed: a negative weight on the empty bins
        (lambda: dirichlet_entropy_moments([1, 2, 3], 1.0, 2), "below the 3 distinct"),
        (lambda: dirichlet_entropy_moments([1, 2], -1.0, 4), "beta must be > 0"),  # NaN
    ],
)
def test_the_nsb_helpers_check_their_input(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_equal_counts_have_a_standard_error_of_zero_to_rounding():
    """The delta-method variance sum p (log p + H)^2 is 0 for equal counts; E[log^2 p] - H^2
    cancelled to 3e-16, and its square root read as 1.8e-8 bits (now about 1e-16)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", I.UndersampledWarning)
        assert I.entropy_from_counts([1] * 6).std < 1e-14
    assert I.entropy_from_counts([7] * 1000).std < 1e-14
