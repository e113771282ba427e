"""Word packing and counting against np.unique on rows; lagged and trial-aware views."""

import warnings

import numpy as np
import pytest

import infodyn.information as I
from infodyn.data.spikes import SpikeTrain
from infodyn.errors import InputError
from infodyn.information import (
    EmpiricalDistribution,
    encode,
    join,
    lagged,
    pack_words,
    spike_words,
    word_counts,
)


def _same_partition(labels: np.ndarray, x: np.ndarray) -> None:
    """Two rows share a label iff they are equal (compared with np.unique on rows)."""
    _, ref = np.unique(x, axis=0, return_inverse=True)
    ref = ref.reshape(-1)
    pairs = np.unique(np.stack([labels, ref], axis=1), axis=0)
    assert len(pairs) == len(np.unique(labels)) == len(np.unique(ref))


@pytest.mark.parametrize("n_cols", [1, 12, 63, 64, 65, 130, 200])
def test_binary_words_partition_rows(n_cols):
    rng = np.random.default_rng(n_cols)
    base = (rng.random((300, n_cols)) < 0.5).astype(np.uint8)
    x = base[rng.integers(0, 300, 3000)]  # many repeats
    w = encode(x)
    _same_partition(w.labels, x)
    assert w.labels.max() < w.n_labels
    assert w.alphabet_size == 2.0**n_cols
    np.testing.assert_array_equal(
        np.sort(w.counts()), np.sort(np.unique(x, axis=0, return_counts=True)[1])
    )


def test_an_alphabet_past_the_float_range_is_inf_without_a_numpy_warning():
    """1,100 binary columns have 2^1100 possible words: NumPy's product warned "overflow
    encountered in reduce" once for every marginal (1,102 warnings from one O-information)."""
    x = np.random.default_rng(0).integers(0, 2, (50, 1100))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert I.encode(x).alphabet_size == np.inf
        assert float(I.entropy(x)) == pytest.approx(np.log2(50))  # 50 distinct rows


def test_words_differing_only_in_last_units_of_wide_rows():
    x = np.zeros((4, 130), dtype=np.uint8)
    x[1, 129] = 1
    x[2, 64] = 1
    x[3, 63] = 1
    assert len(np.unique(encode(x).labels)) == 4


@pytest.mark.parametrize("alphabet,n_cols", [(3, 5), (7, 30), (256, 9), (1000, 3)])
def test_radix_words_partition_rows(alphabet, n_cols):
    rng = np.random.default_rng(alphabet)
    base = rng.integers(0, alphabet, (200, n_cols))
    x = base[rng.integers(0, 200, 2000)]
    _same_partition(encode(x).labels, x)


def test_join_equals_encoding_of_stacked_columns():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 3, (500, 4))
    b = (rng.random((500, 70)) < 0.2).astype(np.int64)
    _same_partition(join(encode(a), encode(b)).labels, np.hstack([a, b]))
    with pytest.raises(InputError, match="same number of samples"):
        join(encode(a), encode(b[:10]))


def test_pack_words_bit_layout():
    x = np.zeros((3, 70), dtype=np.uint8)
    x[0, 0] = x[1, 1] = x[2, 65] = 1
    np.testing.assert_array_equal(pack_words(x), [[1, 0], [2, 0], [0, 2]])
    with pytest.raises(InputError, match="binary"):
        pack_words([[0, 2]])


def test_empirical_distribution_marginals():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, (1000, 5))
    d = EmpiricalDistribution.from_samples(x)
    assert d.n_samples == 1000
    counts, k = d.marginal_counts([1, 3])
    ref = np.unique(x[:, [1, 3]], axis=0, return_counts=True)[1]
    np.testing.assert_array_equal(np.sort(counts), np.sort(ref))
    assert k == 9.0
    np.testing.assert_array_equal(np.sort(word_counts(x)), np.sort(d.counts))


def test_lagged_never_crosses_trials():
    x = np.arange(2 * 5).reshape(2, 5, 1)  # trial 0: 0..4, trial 1: 5..9
    emb = lagged(x, [0, 1, 2])
    np.testing.assert_array_equal(
        emb, [[2, 1, 0], [3, 2, 1], [4, 3, 2], [7, 6, 5], [8, 7, 6], [9, 8, 7]]
    )
    assert lagged(np.arange(6), [0], span=2).ravel().tolist() == [2, 3, 4, 5]
    with pytest.raises(InputError, match="too few"):
        lagged(np.arange(3), [0, 3])
    with pytest.raises(InputError, match="lags"):
        lagged(np.arange(3), [-1])


def test_spike_words_bins_within_trials():
    raster = np.zeros((2, 7, 3), dtype=np.uint8)
    raster[0, 1, 0] = raster[0, 2, 0] = 1  # two spikes in bin 0 of trial 0
    raster[1, 6, 2] = 1  # in the dropped partial bin
    raster[1, 3, 1] = 1
    spikes = SpikeTrain.from_dense(raster)
    w = spike_words(spikes, bin_steps=3)
    np.testing.assert_array_equal(w, [[1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 1, 0]])
    counts = spike_words(raster, bin_steps=3, binary=False)
    assert counts[0, 0] == 2
    with pytest.raises(InputError, match="bin_steps"):
        spike_words(raster, bin_steps=0)


def test_a_silent_unit_is_still_binary():
    """A column that never fires counts 2 symbols (docstring of _radix_sizes): the NSB alphabet
    of (silent, binary) words is 4."""
    rng = np.random.default_rng(6)
    x = np.c_[np.zeros(30, dtype=int), rng.integers(0, 2, 30)]
    assert I.encode(x).alphabet_size == 4.0
    _, c = np.unique(x, axis=0, return_counts=True)
    ref = I.entropy_from_counts(c, "nsb", alphabet_size=4)
    assert float(I.entropy(x, "nsb")) == pytest.approx(float(ref), abs=1e-12)


def test_join_refuses_arrays_with_a_clear_message():
    # arrays gave AttributeError: 'numpy.ndarray' object has no attribute 'labels'
    with pytest.raises(InputError, match=r"join takes Words \(from encode\(x\)\); argument 2"):
        I.join(I.encode(np.zeros(3, int)), np.zeros(3, int))


def test_lagged_refuses_a_span_shorter_than_the_largest_lag():
    with pytest.raises(InputError, match="span=2 is shorter than the largest lag 3"):
        I.lagged(np.arange(10), [0, 3], span=2)


def test_a_delay_embedding_checks_its_memory_first(monkeypatch):
    """block_entropy(k=3000) of 10^6 binary steps held 3 GB, whatever memory was free."""
    from infodyn.memory import MemoryPreflightError

    x = (np.random.default_rng(0).random(200_000) < 0.3).astype(np.uint8)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "50M")
    with pytest.raises(MemoryPreflightError, match=r"embedding of x \(199,001 rows x 1,000 lags"):
        I.block_entropy(x, k=1000)
    assert I.block_entropy(x, k=3) > 0
