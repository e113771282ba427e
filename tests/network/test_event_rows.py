"""The event engine's row-sum kernels (network/_event_rows.py) equal a plain row-by-row loop
bit for bit, for every count around their 8/4/2/1 unrolling."""

import numpy as np
import pytest

from infodyn.network._event_rows import add_rows, add_scaled_rows


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_rows_is_bitwise_the_row_by_row_sum(dtype):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(40, 13)).astype(dtype)
    for count in range(0, 20):
        idx = rng.integers(0, 40, size=count + 3).astype(np.int64)
        acc = rng.normal(size=13)
        expected = acc.copy()
        for k in range(count):
            expected += w[idx[k]]
        add_rows(acc, w, idx, count)
        np.testing.assert_array_equal(acc, expected)


def test_add_scaled_rows_is_bitwise_the_row_by_row_sum():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(30, 7))
    for count in range(0, 7):
        idx = rng.integers(0, 30, size=count + 1).astype(np.int64)
        scale = rng.normal(size=count + 1)
        acc = rng.normal(size=7)
        expected = acc.copy()
        for k in range(count):
            expected += scale[k] * w[idx[k]]
        add_scaled_rows(acc, w, idx, scale, count)
        np.testing.assert_array_equal(acc, expected)
