"""The one binning of step rasters, against a loop over bins."""

import numpy as np
import pytest

from infodyn import InputError
from infodyn.data.binning import bin_raster


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
