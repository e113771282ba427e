"""The one binning of step rasters, against a loop over bins."""

import numpy as np
import pytest

from infodyn import InputError
from infodyn.data import SpikeTrain, save_spikes
from infodyn.data.binning import bin_raster, spike_source


def test_bin_raster_sums_each_bin_of_each_trial():
    rng = np.random.default_rng(0)
    z = (rng.random((3, 23, 4)) < 0.3).astype(np.uint8)
    got = bin_raster(z, 5)
    assert got.shape == (3, 4, 4) and got.dtype == np.int64  # 3 steps dropped
    for t in range(3):
        for b in range(4):
            np.testing.assert_array_equal(got[t, b], z[t, 5 * b : 5 * b + 5].sum(axis=0))
    np.testing.assert_array_equal(bin_raster(z[0], 5), got[:1])  # (T, n): one trial
    np.testing.assert_array_equal(bin_raster(z, 1), z.astype(np.int64))


def test_bin_raster_refuses_bad_bins():
    z = np.zeros((2, 10, 3))
    for bad in (0, 11):
        with pytest.raises(InputError):
            bin_raster(z, bad)
    with pytest.raises(InputError):
        bin_raster(np.zeros(10), 2)


def test_bin_raster_refuses_fractional_counts():  # kills B03
    """check_spike_counts: 'whole spike counts >= 0' - 0.5 spikes is no count."""
    with pytest.raises(InputError, match="whole spike counts"):
        bin_raster(np.full((4, 2), 0.5), 2)
    # whole floats are counts: hand sum of two steps of 1.0
    np.testing.assert_array_equal(bin_raster(np.ones((4, 2)), 2), [[[2, 2], [2, 2]]])


def _train_10_steps():
    # one trial, 10 steps, 3 units: unit 0 spikes at 0, 4, 9; unit 1 at 2; unit 2 silent
    return SpikeTrain(times=[0, 2, 4, 9], units=[0, 1, 0, 0], n_units=3, n_steps=10)


def test_binned_drops_the_trailing_partial_bin(tmp_path):  # kills B07
    """bin_steps=3 over 10 steps: bins 0-2, 3-5, 6-8; step 9 is in the dropped partial bin."""
    train = _train_10_steps()
    expected = np.array([[[1, 1, 0], [1, 0, 0], [0, 0, 0]]])
    path = save_spikes(tmp_path / "s.h5", train)
    for source in (train, path):
        with spike_source(source) as src:
            np.testing.assert_array_equal(src.binned(3, binary=False), expected)
            np.testing.assert_array_equal(src.binned(3, binary=True), expected)


def test_binned_counts_are_int64_and_do_not_wrap(tmp_path):  # kills B09
    """binary=False gives int64 counts (docstring); a bin of 300 spikes is 300, not 300 % 256."""
    train = SpikeTrain(times=np.arange(300), units=np.zeros(300, int), n_units=1, n_steps=300)
    for source in (train, save_spikes(tmp_path / "s.h5", train)):
        with spike_source(source, block_spikes=7) as src:
            got = src.binned(300, binary=False)
            assert got.dtype == np.int64
            assert got.tolist() == [[[300]]]
            assert src.binned(300, binary=True).dtype == np.uint8


def test_binned_refuses_a_unit_past_the_last():  # kills B11
    with spike_source(_train_10_steps()) as src:
        for bad in ([3], [0, 3], [-1]):
            with pytest.raises(InputError, match=r"units must be a non-empty list in \[0, 3\)"):
                src.binned(2, bad)
        for bad in ([1.7, 2.2], ["a"], [True]):  # 1.7 was read as unit 1
            with pytest.raises(InputError, match="units must be whole numbers"):
                src.binned(2, bad)
        np.testing.assert_array_equal(src.binned(2, [2.0, 0.0]), src.binned(2, [2, 0]))


def test_unit_counts_include_silent_last_units(tmp_path):  # kills B13
    """Unit 2 (the last) never spikes: its count is 0, and the result has n_units entries."""
    train = _train_10_steps()
    for source in (train, save_spikes(tmp_path / "s.h5", train)):
        with spike_source(source) as src:
            assert src.unit_counts().tolist() == [3, 1, 0]


@pytest.mark.parametrize("bad", [1.5, True, 0])
def test_binned_refuses_a_bin_that_is_not_a_whole_number(bad):
    # 1.5 and True were read as bins of one step
    with spike_source(_train_10_steps()) as src:
        with pytest.raises(InputError, match="bin_steps must be a whole number >= 1"):
            src.binned(bad)


def test_binned_looks_up_only_the_span_of_the_units_asked_for():
    """Ten units of a header's 2^40 took a lookup over all 2^40 (8 TiB): the columns are now
    looked up over the selected units' span, and the words are the same as before."""
    from infodyn.data.binning import SpikeSource

    rng = np.random.default_rng(0)
    t = rng.integers(0, 50, 40)
    u = rng.choice([3, 5, 2**40 - 1, 2**39, 9], 40)
    blocks = [(np.zeros(40, np.int64), t, u)]
    words = SpikeSource(2**40, 50, 1, 1.0, lambda: iter(blocks), False).binned(5, [9, 3, 5])
    raster = np.zeros((50, 10), np.uint8)
    raster[t[u < 10], u[u < 10]] = 1
    expected = raster.reshape(10, 5, 10).max(axis=1)[:, [9, 3, 5]]
    assert 0 < expected.sum() < expected.size  # words with 0s and 1s
    np.testing.assert_array_equal(words[0], expected)
    far = SpikeSource(2**40, 50, 1, 1.0, lambda: iter(blocks), False).binned(5, [2**40 - 1, 3])
    raster[:] = 0  # units at both ends of 2^40: a binary search instead of a 8 TiB table
    raster[t[u == 2**40 - 1], 0], raster[t[u == 3], 1] = 1, 1
    np.testing.assert_array_equal(far[0], raster[:, :2].reshape(10, 5, 2).max(axis=1))
