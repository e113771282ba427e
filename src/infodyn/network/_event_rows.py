"""The event engine's weight rows (:mod:`infodyn.network.engine_event`): how they are stored
(float32 when every weight is exactly a float32) and the Numba kernels that sum them. The rows
of the units that spiked are added onto an accumulator several at a time, each element summed
in exactly the order of a row-by-row loop, so the result is bitwise that of the plain loop while
the accumulator is loaded and stored less often.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@numba.njit(cache=True, nogil=True)
def _float32_copy(w):  # pragma: no cover - compiled
    """``(w as float32, whether every element converted exactly)`` in one pass over ``w``."""
    flat = w.reshape(-1)
    out = np.empty(flat.shape[0], np.float32)
    exact = True
    for i in range(flat.shape[0]):
        f = np.float32(flat[i])
        out[i] = f
        exact &= np.float64(f) == flat[i]
    return out.reshape(w.shape), exact


def _exact_float32(w: np.ndarray) -> np.ndarray:
    """``w`` (C-contiguous) as float32 when that is exact (NaN never is), else float64."""
    if w.dtype == np.float32:
        return w
    w64 = np.ascontiguousarray(w, dtype=np.float64)
    w32, exact = _float32_copy(w64)
    return w32 if exact else w64


def row_storage(w) -> np.ndarray:
    """The weight rows the loop reads: float32 when every weight is exactly a float32 (weights
    trained or drawn in float32, the JAX engine's default), else float64.

    The loop adds rows into float64 accumulators, and a float32 converts to float64 exactly, so
    the sums, and the spikes, are bitwise those of float64 storage, while each spike reads half
    the bytes (the row reads are the engine's memory-bound part).
    """
    return _exact_float32(np.ascontiguousarray(w))


def sparse_storage(w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(values, indices int32, indptr int64)`` of a :class:`SparseWeights` as the loop reads
    them; values that are all exactly float32 are read as float32 (:func:`row_storage`)."""
    values = _exact_float32(np.ascontiguousarray(np.asarray(w.values)))
    indices = np.ascontiguousarray(np.asarray(w.indices), dtype=np.int32)
    indptr = np.ascontiguousarray(np.asarray(w.indptr), dtype=np.int64)
    return values, indices, indptr


#: cache lines (64 bytes) of a dense ``w_rec`` row prefetched when its unit spikes
PREFETCH_LINES = 8


@intrinsic
def prefetch(typingctx, arr, offset):
    """Hint the CPU to load the cache line at byte ``offset`` of ``arr``'s data (LLVM's
    ``llvm.prefetch``: a read, kept in every cache level); no effect on results."""
    if not isinstance(arr, types.Array) or not isinstance(offset, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        ptr = builder.gep(builder.bitcast(data, i8p), [args[1]])
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, offset), codegen


@numba.njit(inline="always")
def prefetch_synapses(values, indices, first, n_lines):  # pragma: no cover - compiled
    """Prefetch the first ``n_lines`` cache lines of the synapses from position ``first`` on
    (unsigned), in ``values`` and in ``indices`` (a sparse row about to be scattered)."""
    v_bytes, i_bytes = values.strides[0], indices.strides[0]
    for line in range(n_lines):
        prefetch(values, first * v_bytes + 64 * line)
        prefetch(indices, first * i_bytes + 64 * line)


@numba.njit(cache=True, nogil=True)
def add_rows(acc, w, idx, count):  # pragma: no cover - compiled
    """``acc[j] += w[idx[k], j]`` for k = 0..count-1, in that order, for every j.

    Eight (then four, two, one) rows are added per pass over ``acc``: the sum of each element is
    formed in exactly the same order as row by row, so the result is bitwise the same, but
    ``acc`` is loaded and stored an eighth as often and eight rows stream from memory at once.
    """
    n = acc.shape[0]
    k = 0
    while k + 8 <= count:
        r0, r1, r2, r3 = w[idx[k]], w[idx[k + 1]], w[idx[k + 2]], w[idx[k + 3]]
        r4, r5, r6, r7 = w[idx[k + 4]], w[idx[k + 5]], w[idx[k + 6]], w[idx[k + 7]]
        for j in range(n):
            a = (((acc[j] + r0[j]) + r1[j]) + r2[j]) + r3[j]
            acc[j] = (((a + r4[j]) + r5[j]) + r6[j]) + r7[j]
        k += 8
    while k + 4 <= count:
        r0 = w[idx[k]]
        r1 = w[idx[k + 1]]
        r2 = w[idx[k + 2]]
        r3 = w[idx[k + 3]]
        for j in range(n):
            acc[j] = (((acc[j] + r0[j]) + r1[j]) + r2[j]) + r3[j]
        k += 4
    while k + 2 <= count:
        r0 = w[idx[k]]
        r1 = w[idx[k + 1]]
        for j in range(n):
            acc[j] = (acc[j] + r0[j]) + r1[j]
        k += 2
    if k < count:
        r0 = w[idx[k]]
        for j in range(n):
            acc[j] += r0[j]


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's fma): XLA on the CPU contracts a multiply that feeds
    an add into one, its dot products included, so the event engine forms the same operations to
    give the JAX engine's numbers bit for bit (``alpha v + rec`` rounded twice differed in the
    last bit in most steps, and a potential within that bit of the threshold spiked on one
    engine only). Checked on the CPU (tests/network/test_engines_agree.py: dense and sparse,
    analog inputs, batches); a GPU's XLA is compared in ``benchmarks/gpu_checks.sh``."""

    if not (isinstance(a, types.Float) and a == b == c):  # float32 rows: say so when typed
        raise TypeError(f"fma takes three floats of one type, got {a}, {b}, {c}")

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


@numba.njit(cache=True, nogil=True)
def add_scaled_rows(acc, w, idx, scale, count):  # pragma: no cover - compiled
    """``acc[j] += scale[k] * w[idx[k], j]`` for k = 0..count-1, in that order, each rounded
    once (:func:`fma`, as XLA's dot of the input with ``w_in`` forms it: analog inputs differed in
    the last bit in 25-65 % of the potentials), two per pass (bitwise the same as one row at a
    time, like :func:`add_rows`)."""
    n = acc.shape[0]
    k = 0
    while k + 2 <= count:
        r0 = w[idx[k]]
        r1 = w[idx[k + 1]]
        s0 = scale[k]
        s1 = scale[k + 1]
        for j in range(n):
            acc[j] = fma(s1, np.float64(r1[j]), fma(s0, np.float64(r0[j]), acc[j]))
        k += 2
    if k < count:
        r0 = w[idx[k]]
        s0 = scale[k]
        for j in range(n):
            acc[j] = fma(s0, np.float64(r0[j]), acc[j])
