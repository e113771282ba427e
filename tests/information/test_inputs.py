"""Bad input gives one clear InputError."""

import numpy as np
import pytest

import infodyn.information as I
from infodyn.errors import InputError
from infodyn.information import (
    channel_capacity,
    entropy,
    gaussian_mutual_information,
    mutual_information,
    o_information,
    pid,
    total_correlation,
    transfer_entropy,
)


@pytest.mark.parametrize(
    "bad,match",
    [
        (np.array([[0.5, 1.0]]), "non-integer"),
        (np.array([[0, -1]]), "negative"),
        (np.zeros((0, 3), dtype=int), "empty"),
        (np.array([[np.nan, 1.0]]), "NaN"),
        (np.zeros((2, 2, 2), dtype=int), "samples, variables"),
        (np.array(["a", "b"]), "integer symbols"),
        # words are coded with max + 1 as radix: 2^63 - 1 wrapped, gave wrong entropies and
        # then corrupted memory (a double free)
        (np.array([0, 1, 2, 2**63 - 1] * 5), "above 2\\^62; .*relabel"),
        (np.array([0, 2**63 + 5], dtype=np.uint64), "above 2\\^62"),
        (np.array([0.0, 1e19]), "above 2\\^62"),
    ],
)
def test_bad_symbols(bad, match):
    with pytest.raises(InputError, match=match):
        entropy(bad)


def test_mismatched_samples_and_options():
    x = np.zeros((10, 2), dtype=int)
    with pytest.raises(InputError, match="same number of samples"):
        mutual_information(x, x[:5])
    with pytest.raises(InputError, match="estimator"):
        entropy(x, estimator="shrinkage")
    with pytest.raises(InputError, match="at least 3"):
        o_information(x)
    with pytest.raises(InputError, match="at least 2"):
        total_correlation(x[:, :1])
    with pytest.raises(InputError, match="measure"):
        pid(x[:, 0], x[:, 1], x[:, 0], measure="imin")
    with pytest.raises(InputError, match="same trials and steps"):
        transfer_entropy(np.zeros(10, int), np.zeros(11, int))
    with pytest.raises(InputError, match="k must be"):
        transfer_entropy(np.zeros(10, int), np.zeros(10, int), k=0)


def test_symbols_up_to_the_limit_are_exact():
    x = np.array([0, 1, 2, 2**62] * 5)
    assert float(entropy(x)) == pytest.approx(2.0)
    assert float(mutual_information(x, np.array([0, 1, 0, 1] * 5))) == pytest.approx(1.0)


def test_large_symbols_of_mixed_integer_types_stay_apart():
    """uint64 X beside int64 Z were stacked as float64, where 2^53 and 2^53 + 1 are one
    symbol: TC(X | Z) of two copies of a fair bit came out 0 bits for 1."""
    big = 2**53
    x = np.array([[big, 0], [big + 1, 1]] * 4, dtype=np.uint64)
    z = np.repeat(np.array([0, 1], dtype=np.int64), 4)
    assert I.conditional_total_correlation(x, z) == pytest.approx(1.0)
    assert pid(x[:, 0], z, x[:, 1].astype(np.int8)).mi1 == pytest.approx(1.0)


def test_the_symbol_limit_is_exact():
    """2^62 + 1 compared as a float was 2^62 and passed the check of symbols above 2^62."""
    for just_above in (np.array([0, 2**62 + 1]), np.array([0, 2**62 + 1], dtype=np.uint64)):
        with pytest.raises(InputError, match="symbols above 2\\^62"):
            entropy(just_above)


def test_float_integers_accepted():
    x = np.array([0.0, 1.0, 1.0, 0.0])
    assert float(entropy(x)) == pytest.approx(1.0)


def test_bad_channel_and_continuous():
    with pytest.raises(InputError, match="sum to 1"):
        channel_capacity([[0.5, 0.4], [0.5, 0.5]])
    with pytest.raises(InputError, match="non-negative"):
        channel_capacity([[1.5, -0.5]])
    with pytest.raises(InputError, match="2-D"):
        channel_capacity([0.5, 0.5])
    with pytest.raises(InputError, match="NaN"):
        gaussian_mutual_information([1.0, np.nan, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(InputError, match="singular"):
        gaussian_mutual_information(np.ones(50), np.arange(50.0))


def test_huge_orders_and_counts_are_input_errors():
    from infodyn.information import block_entropy, entropy_from_counts, entropy_rate

    x = np.zeros(100, dtype=int)
    # range(10**12) was built before the length check (MemoryError)
    with pytest.raises(InputError, match="100 steps per trial, too few for blocks of k = 10+ "):
        block_entropy(x, 10**12)
    with pytest.raises(InputError, match="too few for a history"):
        entropy_rate(x, k=10**12)
    with pytest.raises(InputError, match="sum overflows"):  # was an OverflowError
        entropy_from_counts([1e308, 1e308])


_RNG = np.random.default_rng(0)
_Z = (_RNG.random((6, 40, 5)) < 0.3).astype(int)
_X = _RNG.integers(0, 2, 200)
_XC = _RNG.integers(0, 2, (40, 2))
_G = _RNG.normal(size=(50, 2))


def _nan_z():
    z = _Z.astype(float)
    z[0, 0, 0] = np.nan
    return z


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # silently wrong before: stimuli 0.2 and 0.7 were both read as stimulus 0 (0 bits)
        (lambda I: I.response_information(_Z, [0.2, 0.7] * 3), "labels holds non-integer"),
        # a NaN became a count of -2^63 (the Gaussian TC doubled); negative read as no spike
        (lambda I: I.response_gaussian_tc(_nan_z()), "z \\(the responses\\) contains NaN"),
        (lambda I: I.spike_words(np.array([[0.0, -1.0, 1.0]])), "whole spike counts >= 0"),
        # NaN results without a word
        (lambda I: I.response_information(_Z, [0, 1] * 3, n_shuffles=0), "n_shuffles must be"),
        (lambda I: I.response_information(_Z, [0, 1] * 3, n_subsets=0), "n_subsets must be"),
        (lambda I: I.response_words(_Z, start=-10), "start must be"),  # used the last 10 steps
        (lambda I: I.response_words(_Z, bin_steps=0), "bin_steps must be"),  # ZeroDivisionError
        (lambda I: I.response_words(_Z, bin_steps=2.5), "bin_steps must be"),  # was 2
        # ran no iteration and reported a gap of 0
        (lambda I: I.channel_capacity([[1, 0], [0.5, 0.5]], max_iter=float("nan")), "max_iter"),
        (lambda I: I.channel_capacity([[1, 0], [0.5, 0.5]], tol=None), "tol must be"),
        # one group: the null was the observed value (p = 1 for I(X;X) = 1 bit)
        (lambda I: I.mi_permutation_test(_X, _X, groups=np.zeros(200)), "one group"),
        (lambda I: I.shuffle_corrected_mi(_X, _X, groups=np.zeros(200)), "one group"),
        # complex and text were converted (the imaginary part dropped), ragged lists raw errors
        (lambda I: I.gaussian_entropy(np.array([1 + 5j, 2, 3, 5])), "real numbers"),
        (lambda I: I.gaussian_entropy(["1", "2", "3", "5"]), "real numbers"),
        (lambda I: I.entropy([[0, 1], [1]]), "X must be a rectangular array"),
        (lambda I: I.gaussian_total_correlation(_G, ridge=np.nan), "ridge must be"),
        (lambda I: I.gaussian_total_correlation(_G, ddof=50), "ddof"),
        (lambda I: I.gaussian_total_correlation(_G, ddof=-5), "ddof"),
        # raw ValueError/TypeError/OverflowError
        (lambda I: I.transfer_entropy(_X, _X, k=float("nan")), "k must be a whole number"),
        (lambda I: I.transfer_entropy(_X, _X, delay=None), "delay must be a whole number"),
        # checked without a condition too: -1 (a typo) was silently ignored
        (lambda I: I.transfer_entropy(_X, _X, condition_k=-1), "condition_k must be a whole"),
        (lambda I: I.active_information_storage(_X, k=float("inf")), "k must be a whole"),
        (lambda I: I.shuffle_corrected_mi(_X, _X, n_shuffles=1.7), "n_shuffles must be"),
        (lambda I: I.mi_permutation_test(_X, _X, n_permutations=None), "n_permutations must"),
        (lambda I: I.lagged(np.arange(5), [0.5]), "lags must be whole"),  # was lag 0
        (lambda I: I.lagged(np.arange(5), [[1, 2]]), "lags must be whole"),  # a row as a lag
        (lambda I: I.lagged(np.arange(5), [[1, 2], [3]]), "lags must be whole"),  # ragged
        (lambda I: I.lagged(np.arange(5), [np.inf]), "lags must be whole"),  # lag -2^63
        (lambda I: I.lagged(np.arange(5), [0], span=float("nan")), "span must be"),
        # the message named X for the negative Z, Y, or no input at all
        (lambda I: I.conditional_total_correlation(_XC, -_XC - 1), "Z holds negative"),
        (lambda I: I.mutual_information(_XC, -_XC - 1), "Y holds negative"),
        (lambda I: I.pid_lattice([_XC[:, 0], _XC[:, 1]], -_XC[:, 0] - 1), "Y holds negative"),
        (lambda I: I.pid_lattice(np.c_[_XC[:, 0], _XC[:, 1]].T, _XC[:, 0]), "list of arrays"),
        # read by truthiness or by float(): "no" switched the copula on, "3" was base 3
        (lambda I: I.gaussian_mutual_information(_XC, _XC, copula="no"), "copula must be true"),
        (lambda I: I.spike_words(_XC, binary="no"), "binary must be true or false"),
        (lambda I: I.entropy(_X, base="3"), "base must be a number > 1"),
        (lambda I: I.entropy(_X, base=True), "base must be a number > 1"),
        # an array or a dict for a choice: NumPy's "ambiguous" ValueError, "unhashable type"
        (lambda I: I.entropy(_X, estimator=np.array([])), "estimator must be one of"),
        (lambda I: I.pid(_X, _X, _X, measure={}), "measure must be one of"),
    ],
)
def test_api_bad_input_is_one_input_error(call, message):
    with pytest.raises(InputError, match=message):
        call(I)


def test_big_endian_symbols_count_as_native_ones():
    # a TypingError inside numba before (np.load of foreign files, FITS, some HDF5)
    x = _RNG.integers(0, 3, (200, 2))
    big = x.astype(">i8")
    assert float(entropy(big)) == float(entropy(x))
    assert float(mutual_information(big[:, 0], big[:, 1])) == float(
        mutual_information(x[:, 0], x[:, 1])
    )
    assert float(total_correlation(big.astype(">u4"))) == float(total_correlation(x))


def test_response_labels_are_categories():
    # any whole numbers name the stimuli; -1/1 carry what 0/1 carry
    a = I.response_information(_Z, [0, 1] * 3, n_shuffles=3)
    b = I.response_information(_Z, [-1, 1] * 3, n_shuffles=3)
    assert a["mi_plugin_bits"] == b["mi_plugin_bits"] > 0


def test_pack_words_refuses_negative_symbols():
    with pytest.raises(InputError, match="negative"):
        I.pack_words(np.array([[-1, 0, 1]]))


def test_negative_symbols_in_wide_integer_arrays_are_refused():
    """More than four int64 columns take the compiled column_max pass, which must refuse
    negative symbols (the counting kernels index arrays with them)."""
    x = np.random.default_rng(18).integers(0, 2, (40, 6))
    x[5, 4] = -1
    with pytest.raises(InputError, match="negative"):
        I.total_correlation(x)
    with pytest.raises(InputError, match="negative"):
        I.mutual_information(x, x[:, :2])
