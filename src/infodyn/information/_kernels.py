"""Numba kernels for word packing (one pass over the rows, no temporaries)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def pack_radix(x: np.ndarray, sizes: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Mixed-radix code ``(((x_0) s_1 + x_1) s_2 + x_2) ...`` of each row, in uint64.

    The caller guarantees ``prod(sizes) <= 2**64`` so no code overflows.
    """
    n, m = x.shape
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        c = np.uint64(0)
        for j in range(m):
            c = c * np.uint64(sizes[j]) + np.uint64(x[i, j])
        out[i] = c
    return out


@numba.njit(cache=True, nogil=True)
def pack_bits(x: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Binary rows (at most 64 columns) as uint64 codes, first column in the highest bit.

    Equal to :func:`pack_radix` with all sizes 2, with shifts instead of multiplications.
    """
    n, m = x.shape
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        c = np.uint64(0)
        for j in range(m):
            c = (c << np.uint64(1)) | np.uint64(x[i, j] != 0)
        out[i] = c
    return out


@numba.njit(cache=True, nogil=True)
def column_max(x: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Largest value of each column in one pass over the rows; raises on negative values."""
    n, m = x.shape
    out = np.zeros(m, dtype=np.int64)
    low = np.int64(0)
    for i in range(n):
        for j in range(m):
            v = np.int64(x[i, j])
            out[j] = max(out[j], v)
            low = min(low, v)
    if low < 0:
        raise ValueError("negative symbol")
    return out


@numba.njit(cache=True, nogil=True)
def count_codes(x: np.ndarray, sizes: np.ndarray, total: int) -> np.ndarray:  # pragma: no cover
    """Counts of the mixed-radix codes of the rows (``total = prod(sizes)`` bins), one pass."""
    n, m = x.shape
    out = np.zeros(total, dtype=np.int64)
    for i in range(n):
        c = np.int64(0)
        for j in range(m):
            c = c * sizes[j] + np.int64(x[i, j])
        out[c] += 1
    return out


@numba.njit(cache=True, nogil=True)
def count_joint_codes(
    x: np.ndarray, sx: np.ndarray, y: np.ndarray, sy: np.ndarray, total: int
) -> np.ndarray:  # pragma: no cover - compiled
    """Counts of the joint codes ``code(x_row) * prod(sy) + code(y_row)``, one pass, no copy."""
    n, mx = x.shape
    my = y.shape[1]
    out = np.zeros(total, dtype=np.int64)
    for i in range(n):
        c = np.int64(0)
        for j in range(mx):
            c = c * sx[j] + np.int64(x[i, j])
        for j in range(my):
            c = c * sy[j] + np.int64(y[i, j])
        out[c] += 1
    return out
