"""Bad input gives one clear InputError."""

import numpy as np
import pytest

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
    with pytest.raises(InputError, match="100 steps per trial, too few for a history"):
        block_entropy(x, 10**12)
    with pytest.raises(InputError, match="too few for a history"):
        entropy_rate(x, k=10**12)
    with pytest.raises(InputError, match="sum overflows"):  # was an OverflowError
        entropy_from_counts([1e308, 1e308])
