"""The event engine's row-sum kernels (network/_event_rows.py) equal a plain row-by-row loop
bit for bit, for every count around their 8/4/2/1 unrolling; the rows are float32 only when
that is exact."""

from fractions import Fraction

import numpy as np
import pytest

from infodyn.network._event_rows import add_rows, add_scaled_rows, row_storage, sparse_storage
from infodyn.network.sparse import SparseWeights


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


def _fma(a: float, b: float, c: float) -> float:
    """``a * b + c`` rounded once: the exact rational sum, rounded to the nearest float."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def test_add_scaled_rows_is_the_row_by_row_sum_rounded_as_xla_rounds_it():
    # each product fused into the running sum (one rounding), as XLA's dot forms it: rounded
    # twice, analog inputs differed from the JAX engine in the last bit
    rng = np.random.default_rng(1)
    w = rng.normal(size=(30, 7))
    for count in range(0, 7):
        idx = rng.integers(0, 30, size=count + 1).astype(np.int64)
        scale = rng.normal(size=count + 1)
        acc = rng.normal(size=7)
        expected = acc.copy()
        for k in range(count):
            for j in range(7):
                expected[j] = _fma(scale[k], w[idx[k], j], expected[j])
        add_scaled_rows(acc, w, idx, scale, count)
        np.testing.assert_array_equal(acc, expected)


def test_row_storage_is_float32_only_when_exact():
    """Weights that are all float32 numbers are read as float32 rows (the same numbers), any
    other weight (one value off a float32, a NaN) keeps the float64 rows."""
    rng = np.random.default_rng(2)
    w32 = rng.normal(size=(9, 11)).astype(np.float32)
    exact = row_storage(w32.astype(np.float64))
    assert exact.dtype == np.float32
    np.testing.assert_array_equal(exact, w32)
    assert row_storage(w32).dtype == np.float32
    for bad in (np.nextafter(np.float64(w32[3, 4]), np.inf), np.nan):
        w = w32.astype(np.float64)
        w[3, 4] = bad
        kept = row_storage(w)
        assert kept.dtype == np.float64
        np.testing.assert_array_equal(kept, w)
    values, _, _ = sparse_storage(SparseWeights.from_dense(w32.astype(np.float64)))
    assert values.dtype == np.float32
