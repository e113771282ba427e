"""Binary words of spike trains (infodyn.energy.words): windows, bin widths in ms and the
bins each word starts at, trial by trial."""

import numpy as np
import pytest

from infodyn.data.spikes import SpikeTrain
from infodyn.energy import binary_words
from infodyn.errors import InputError


def test_words_window_equal_to_the_bins_gives_one_word_per_trial():
    raster = np.zeros((2, 4, 2), dtype=np.uint8)
    raster[0, 0, 0] = raster[1, 3, 1] = 1
    st = SpikeTrain.from_dense(raster, dt=1.0)
    w = binary_words(st, bin_ms=2.0, window=2)  # 2 bins per trial, window 2
    np.testing.assert_array_equal(w.X, [[1, 0, 0, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(w.trial, [0, 1])
    with pytest.raises(InputError):
        binary_words(st, bin_ms=2.0, window=3)


def test_words_record_bin_width_in_ms_and_first_bin_per_trial():
    raster = np.zeros((2, 6, 1), dtype=np.uint8)
    st = SpikeTrain.from_dense(raster, dt=0.5)
    w = binary_words(st, bin_ms=1.0)  # 2 steps of 0.5 ms
    assert w.bin_ms == pytest.approx(1.0)
    np.testing.assert_array_equal(w.bin, [0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(w.trial, [0, 0, 0, 1, 1, 1])
