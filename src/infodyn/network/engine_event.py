"""The event-driven CPU engine (Numba): for long, low-activity, single-network runs.

Per step it touches only the rows of ``w_rec``/``w_out`` of units that spiked on the previous
step and the rows of ``w_in`` of inputs that are non-zero, plus O(n_rec) work for leak and
threshold. With a few per cent of units active this is far cheaper than a dense matrix-vector
product per step. With a sparse ``w_rec`` (:class:`~infodyn.network.sparse.SparseWeights`) a
spike of unit i adds only its outgoing synapses ``values[indptr[i]:indptr[i+1]]`` onto units
``indices[indptr[i]:indptr[i+1]]``: O(K) per spike, bitwise the sums of the dense rows.
Semantics are those of :mod:`infodyn.network.model`, operation for operation as the JAX
engine evaluates them, so in float64 both give the same spikes (and, for one trial,
potentials bit for bit; a batch's matrix products may sum in another order, about 1e-15 off):
XLA fuses each multiply that feeds an add into one rounding (``alpha v + rec``, ``x w_in s_in
+ ...``, ALIF's ``rho a + z`` and ``beta a + v_th``, the readout's ``kappa y + ...``), and so
does this engine (:func:`~infodyn.network._event_rows.fma`).

Spikes are returned (or streamed to an HDF5 file) sparsely as (times, units); dense voltage
traces are recorded only on request. Weights that are all exactly float32 are read as float32
rows and summed in float64 (:func:`row_storage`): the same numbers with half the memory traffic.
:func:`event_weights` prepares these arrays once (an :class:`EventWeights` snapshot) for runs
of many chunks (``weights=`` of :func:`run_event_chunk`; ``simulate_to_file`` does so).
"""

from __future__ import annotations

__all__ = [
    "EXACT_INPUT_DTYPES",
    "EventState",
    "EventWeights",
    "event_weights",
    "row_storage",
    "run_event_chunk",
    "sparse_input",
]

from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np
import scipy.sparse as sp
from numba.cpython.unsafe.numbers import trailing_zeros

from infodyn.errors import InputError
from infodyn.network._event_rows import (
    PREFETCH_LINES,
    add_rows,
    add_scaled_rows,
    fma,
    prefetch,
    prefetch_synapses,
    row_storage,
)
from infodyn.network._event_weights import (
    NO_SPARSE,
    EventWeights,
    LoopWeights,
    event_weights,
    unsigned,
)

# The loop's weight tuple under its former name here: Numba's on-disk cache indexes written
# before it moved name it so, and are unpickled (then found stale and recompiled) by name.
_Weights = LoopWeights


class _Input(NamedTuple):
    """One chunk of input: dense rows ``x`` (T, n_in), or (``x_sparse``) a CSR matrix, ``x``
    then being (T, 0)."""

    x: np.ndarray
    x_sparse: bool
    x_indptr: np.ndarray
    x_indices: np.ndarray
    x_data: np.ndarray


class _Constants(NamedTuple):
    alpha: float
    rho: float
    kappa: float
    v_th: float
    beta: np.ndarray
    n_ref: float
    s_in: float
    s_out: float


class _Output(NamedTuple):
    """The spike buffer (times, units, count) and the dense records (empty unless ``record``)."""

    spk_t: np.ndarray
    spk_u: np.ndarray
    n_spk: np.ndarray
    record: bool
    v_rec: np.ndarray
    thr_rec: np.ndarray
    y_rec: np.ndarray


#: the first cache lines of a sparse row's values, and of its indices, prefetched when its unit
#: spikes and again :data:`SPARSE_PREFETCH_AHEAD` rows ahead of its scatter-adds
SPARSE_PREFETCH_LINES = 4
SPARSE_PREFETCH_AHEAD = 8

# ``(word * GATHER_BITS) >> 56`` packs the eight 0/1 bytes of a little-endian word into the
# eight bits of one byte (byte i to bit i: each product term lands on its own bit, no carries).
GATHER_BITS = np.uint64(0x0102040810204080)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _run_loop(lif, w, xin, c, state, out, t_start):  # pragma: no cover - compiled
    """Steps ``t_start..`` of the network; returns the first step not run (the end of the
    chunk, or earlier when the spike buffer could fill), or ``-1 - t`` when the CSR input row of
    step t does not ascend strictly (nothing of step t is kept: the caller sorts, runs again).

    Per step: the recurrent rows of the units that spiked at t-1 (summed in spike order; a
    sparse row ``values[indptr[i]:indptr[i+1]]`` onto ``indices[...]`` adds the non-zeros of
    the dense row in the same order, so bitwise the same sums), the rows of the non-zero inputs
    scaled by their value in input order (``x`` as dense rows or, ``x_sparse``, as CSR rows;
    ``w_in`` dense, ``in_kind`` 0, sparse, 1, or sparse with exactly one synapse per input, 2
    or 3), the neuron update, the ids of the units that fired, the readout.

    ``lif``: plain LIF units (no adaptation, no refractory period, nothing recorded). One
    vectorised pass forms ``u = fma(s_in, inp, fma(alpha, v, rec))`` for every unit and clears
    ``rec``/``inp`` for the next step; the reset ``- v_th`` then goes to last step's spikes only
    (``active``): for the other units ``u - v_th * 0.0`` is ``u``, so every ``v`` is bitwise the
    general update's. The threshold test is ``v > v_th``: for ``v_th > 0`` (the config requires
    it) ``(v - v_th) / v_th > 0`` holds exactly when ``v > v_th`` (the rounded difference of two
    floats is zero only when they are equal and keeps its sign; dividing by ``v_th`` neither
    flips the sign nor underflows to zero, since a non-zero difference is at least half an ulp
    of ``v_th``; NaN fails both), so the same spikes without a division per unit. With private
    inputs (``in_kind`` 3: one synapse per input, onto distinct units; ``direct``) the pass
    forms ``alpha v + rec`` and tests it, then each input adds its one term ``(x_i w_i) s_in``
    to its unit's v and tests it again: the same sums (an ``inp`` of one term is that term)
    without ``inp`` (a third array through the pass costs more than a second visit to a few
    units); a CSR row is checked to ascend before v changes. Otherwise the general,
    branch-free update (adaptation, refractoriness, records). With a dense ``w_in`` and at most
    two non-zero inputs in the step (``fused``), the pass forms their ``inp`` itself from the
    two rows, in :func:`add_scaled_rows`' order, instead of reading a stored one.

    CSR input rows with one synapse an input (``in_kind`` >= 2, ``tight``) are read by loops of
    their own, with unsigned positions, and only the entries of ``inp`` they wrote are cleared
    after the update; synapse positions are unsigned too: Numba tests every signed index for
    a negative (wrap-around) value.

    Every array is taken out of its tuple once, before the time loop, and the step is written
    out without calls on the sparse path: Numba counts references of arrays passed to a call,
    which costs more per step than a small network's whole update. ``z`` (uint8, a multiple of
    64 long) is scanned 64 units at a time, up to the last spike: eight words of 0/1 bytes
    packed into one mask of bits (:data:`GATHER_BITS`), whose set bits are the ids, lowest
    first (a branch per spike and per 64 units instead of per byte and per word).
    As a unit's spike is found, the first :data:`PREFETCH_LINES` cache lines of its dense
    ``w_rec`` row are prefetched (a hint, no effect on results): next step's row sums then
    start with their rows' first lines on the way (2-3 % a step at N = 1000, 25 rows a step).
    A sparse row's first :data:`SPARSE_PREFETCH_LINES` lines of values and of indices are
    prefetched then too, and again :data:`SPARSE_PREFETCH_AHEAD` rows ahead in the scatter-adds
    (the rows of 10^6-10^8 synapses live in L3 or memory: 1.3-1.5x faster a run at N = 10^5,
    ``benchmarks/profile_scale_event.py``).
    """
    w_in, in_kind, in_val, in_idx, in_ptr, w_rec, sparse, values, indices, indptr, w_out = w
    x, x_sparse, xs_ptr, xs_idx, xs_val = xin
    alpha, rho, kappa, v_th, beta, n_ref, s_in, s_out = c
    v, z, a, r, y, active, n_active_arr = state
    spk_t, spk_u, n_spk_arr, record, v_rec, thr_rec, y_rec = out
    n_rec = v.shape[0]
    n_out = y.shape[0]
    n_steps = x.shape[0]
    cap = spk_t.shape[0]
    rec = np.zeros(n_rec)
    inp = np.zeros(n_rec)
    buf_i = np.empty(w_in.shape[0], np.int64)
    buf_x = np.empty(w_in.shape[0])
    ro = np.zeros(n_out)
    words = z.view(np.uint64)
    n_active = n_active_arr[0]
    row_bytes = w_rec.strides[0]  # the first lines of a dense row are prefetched at its spike
    n_lines = 0 if sparse else min(PREFETCH_LINES, (row_bytes + 63) // 64)
    n_sp_lines = SPARSE_PREFETCH_LINES if sparse else 0  # and those of a sparse row
    n_spk = n_spk_arr[0]
    direct = lif and in_kind == 3
    tight = xin.x_sparse and in_kind >= 2
    for t in range(t_start, n_steps):
        if n_spk + n_rec > cap:
            n_active_arr[0] = n_active
            n_spk_arr[0] = n_spk
            return t
        if sparse:
            for k in range(n_active):
                if k + SPARSE_PREFETCH_AHEAD < n_active:
                    ahead = active[k + SPARSE_PREFETCH_AHEAD]
                    prefetch_synapses(values, indices, np.uint64(indptr[ahead]), n_sp_lines)
                i = active[k]
                for s in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):  # unsigned:
                    rec[indices[s]] += values[s]  # no negative-index test per synapse
        elif n_active:
            add_rows(rec, w_rec, active, n_active)
        p0, p1 = (xs_ptr[t], xs_ptr[t + 1]) if x_sparse else (0, x.shape[1])
        if direct and x_sparse:  # an unordered row (or duplicates) before v changes
            bad = False
            for p in range(p0 + 1, p1):
                bad |= xs_idx[p] <= xs_idx[p - 1]
            if bad:
                n_active_arr[0] = n_active
                n_spk_arr[0] = n_spk
                return -1 - t
        count = 0
        if direct:  # v = alpha v + rec for every unit, its test; the inputs come next
            for j in range(n_rec):
                vj = fma(alpha, v[j], rec[j])
                v[j] = vj
                rec[j] = 0.0
                z[j] = vj > v_th
        n_x = 0
        last = -1
        if tight and direct:  # the unit's one input term, added as the dense update adds it
            for p in range(np.uint64(p0), np.uint64(p1)):
                xi = np.float64(xs_val[p])
                if xi != 0.0:
                    i = xs_idx[p]
                    j = in_idx[i]
                    vj = fma(xi * in_val[i], s_in, v[j])
                    v[j] = vj
                    z[j] = vj > v_th
        elif tight:
            for p in range(np.uint64(p0), np.uint64(p1)):
                xi = np.float64(xs_val[p])
                if xi != 0.0:
                    i = np.int64(xs_idx[p])
                    n_x += i <= last  # out of order or a duplicate: counted, checked below
                    last = i
                    inp[in_idx[i]] += xi * in_val[i]
            if n_x:  # nothing of step t is kept (rec, inp are this call's): the caller
                n_active_arr[0] = n_active  # sorts the rows and runs step t again
                n_spk_arr[0] = n_spk
                return -1 - t
        if not x_sparse and in_kind == 0:  # dense x onto dense w_in: the non-zeros, branch-free
            for p in range(p1):
                buf_i[n_x] = p
                buf_x[n_x] = x[t, p]
                n_x += x[t, p] != 0.0
        for p in range(p0, p0 if tight or (not x_sparse and in_kind == 0) else p1):
            xi = np.float64(xs_val[p]) if x_sparse else x[t, p]
            if xi != 0.0:
                i = xs_idx[p] if x_sparse else p
                if i <= last:  # a CSR row out of order or with duplicates: nothing of step t
                    n_active_arr[0] = n_active  # is kept (rec, inp are this call's), so the
                    n_spk_arr[0] = n_spk  # caller sorts the rows and runs step t again
                    return -1 - t
                last = i
                if direct:  # the unit's one input term, added as the dense update adds it
                    j = in_idx[i]
                    vj = fma(xi * in_val[i], s_in, v[j])
                    v[j] = vj
                    z[j] = vj > v_th
                elif in_kind >= 2:
                    inp[in_idx[i]] += xi * in_val[i]
                elif in_kind == 1:
                    for s in range(in_ptr[i], in_ptr[i + 1]):
                        inp[in_idx[s]] += xi * in_val[s]
                else:
                    buf_i[n_x] = i
                    buf_x[n_x] = xi
                    n_x += 1
        fused = lif and in_kind == 0 and n_x <= 2  # inp formed in the update pass
        if n_x and not fused:
            add_scaled_rows(inp, w_in, buf_i, buf_x, n_x)
        if lif:
            # fused (at most two input rows): (0 + x0 r0) + x1 r1, with x1 = 0 for one row and
            # x0 = x1 = 0 for none: adding the (finite) weights times 0 changes no bit of it
            r0, r1 = w_in[buf_i[0] if n_x else 0], w_in[buf_i[1] if n_x > 1 else 0]
            x0, x1 = buf_x[0] if n_x else 0.0, buf_x[1] if n_x > 1 else 0.0
            for j in range(n_rec if not (direct or fused) else 0):
                vj = fma(inp[j], s_in, fma(alpha, v[j], rec[j]))
                v[j] = vj
                rec[j] = 0.0
                fire = vj > v_th
                z[j] = fire
                count += fire
            for j in range(n_rec if fused else 0):  # inp as add_scaled_rows forms it
                vj = fma(fma(x1, np.float64(r1[j]), x0 * r0[j]), s_in, fma(alpha, v[j], rec[j]))
                v[j] = vj
                rec[j] = 0.0
                fire = vj > v_th
                z[j] = fire
                count += fire
            if tight and not direct:  # clear the entries of inp written
                for p in range(np.uint64(p0), np.uint64(p1)):
                    inp[in_idx[xs_idx[p]]] = 0.0
            elif not direct and not fused:
                inp[:] = 0.0
            for k in range(n_active):  # the reset of last step's spikes, and their test
                j = active[k]
                vj = v[j] - v_th
                v[j] = vj
                fire = vj > v_th
                count += np.int64(fire) - np.int64(z[j])
                z[j] = fire
            if direct:  # not counted: the scan below reads every word
                count = n_rec
        else:
            for j in range(n_rec):
                zj = float(z[j])
                a[j] = fma(rho, a[j], zj)
                v[j] = fma(inp[j], s_in, fma(alpha, v[j], rec[j])) - v_th * zj
                thr = fma(beta[j], a[j], v_th)
                fire = (r[j] <= 0.0) & ((v[j] - thr) / v_th > 0.0)
                z[j] = fire
                r[j] = n_ref if fire else max(r[j] - 1.0, 0.0)
                inp[j] = 0.0
                rec[j] = thr  # rec is free now: keep A[t] for the record
                count += fire
            if record:
                for j in range(n_rec):
                    v_rec[t, j] = v[j]
                    thr_rec[t, j] = rec[j]
            rec[:] = 0.0
        # the units that fired: next step's active rows, and the sparse raster
        k = 0
        for g in range(0, words.shape[0] if count else 0, 8):
            if k == count:
                break
            m = np.uint64(0)  # the 64 units of words g..g+7 as bits (a byte's 0/1 per unit)
            for b in range(8):
                m |= ((words[g + b] * GATHER_BITS) >> np.uint64(56)) << np.uint64(8 * b)
            while m != 0:  # the set bits, lowest first
                j = 8 * g + np.int64(trailing_zeros(m))
                active[k] = j
                for line in range(n_lines):
                    prefetch(w_rec, j * row_bytes + 64 * line)
                if n_sp_lines:  # (a dense w_rec has no indptr to read)
                    prefetch_synapses(values, indices, np.uint64(indptr[j]), n_sp_lines)
                spk_t[n_spk + k] = t
                spk_u[n_spk + k] = j
                k += 1
                m &= m - np.uint64(1)
        n_active = k
        n_spk += k
        if n_out:
            ro[:] = 0.0
            for k in range(n_active):
                row = w_out[active[k]]
                for o in range(n_out):
                    ro[o] += row[o]
            for o in range(n_out):
                y[o] = fma(kappa, y[o], ro[o] * s_out)
                if record:
                    y_rec[t, o] = y[o]
    n_active_arr[0] = n_active
    n_spk_arr[0] = n_spk
    return n_steps


@dataclass
class EventState:
    """State carried between chunks of an event-driven run. ``z`` (uint8) is padded to a multiple
    of 64 units (the loops scan it 64 units at a time); the padding stays 0."""

    v: np.ndarray
    z: np.ndarray
    a: np.ndarray
    r: np.ndarray
    y: np.ndarray
    active: np.ndarray
    n_active: np.ndarray

    @classmethod
    def zeros(cls, n_rec: int, n_out: int) -> EventState:
        return cls(
            v=np.zeros(n_rec),
            z=np.zeros(-(-n_rec // 64) * 64, np.uint8),
            a=np.zeros(n_rec),
            r=np.zeros(n_rec),
            y=np.zeros(n_out),
            active=np.zeros(n_rec, np.int64),
            n_active=np.zeros(1, np.int64),
        )

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.v, self.z, self.a, self.r, self.y, self.active, self.n_active)


def sparse_input(x) -> bool:
    """True for a SciPy sparse input matrix (which :func:`run_event_chunk` reads row by row)."""
    return sp.issparse(x)


# CSR input values the loop reads as they are (each converts to float64 exactly): spikes as
# bool read one byte an input instead of eight.
EXACT_INPUT_DTYPES = tuple(np.dtype(d) for d in (np.bool_, np.uint8, np.float32, np.float64))


def _csr_input(x, n_in: int, canonical: bool = False) -> _Input:
    """A SciPy sparse ``x`` as the loop's CSR rows: values as they are when their dtype is one
    of :data:`EXACT_INPUT_DTYPES` (else float64), int64 row pointers, column indices as they
    are (int32, read unsigned, or int64: no copy). A CSR input is used as it is: the loop
    itself stops at a row whose indices do not ascend strictly (unsorted, or duplicates), and
    :func:`run_event_chunk` then calls this again with ``canonical`` (a float64 copy,
    duplicates summed, indices sorted)."""
    if x.ndim != 2 or x.shape[1] != n_in:
        raise InputError(f"sparse input must have shape (T, {n_in}), got {x.shape}")
    if x.dtype.kind not in "buif":  # complex: the cast below dropped the imaginary part
        raise InputError(f"input x must be numeric, got dtype {x.dtype}")
    xs = x
    if canonical or x.format != "csr" or x.dtype not in EXACT_INPUT_DTYPES:
        xs = sp.csr_array(x, dtype=np.float64, copy=canonical)
    if canonical:
        xs.sum_duplicates()
        xs.sort_indices()
    indptr = xs.indptr.astype(np.int64, copy=False)
    indices = xs.indices
    indices = (
        unsigned(indices) if indices.dtype == np.int32 else indices.astype(np.int64, copy=False)
    )
    return _Input(np.zeros((xs.shape[0], 0)), True, indptr, indices, xs.data)


def run_event_chunk(
    net,
    params,
    x: np.ndarray,
    state: EventState,
    record: bool = False,
    capacity: int = 1 << 16,
    on_spikes=None,
    t_offset: int = 0,
    weights: EventWeights | None = None,
):
    """Advance ``state`` through input ``x`` (T, n_in), float64.

    ``x`` may also be a SciPy sparse matrix (T, n_in): its rows are then read as lists of
    non-zero inputs, in ascending input order, so the sums (and spikes) are bitwise those of
    the dense ``x``, without an O(n_in) scan of each step or a dense (T, n_in) array (inputs of
    10^5 channels, one per unit); bool, uint8, float32 or float64 values are read as they are
    (:data:`EXACT_INPUT_DTYPES`: 0/1 spikes as bool read one byte an input). Plain LIF
    networks (no adaptation, no refractory period, nothing recorded) take the loop's ``lif``
    path.

    Spikes are passed to ``on_spikes(times, units)`` (times offset by ``t_offset``) whenever the
    buffer of ``capacity`` spikes fills and at the end; returns recorded (v, thr, y) or Nones.
    ``weights``: :func:`event_weights` of ``params`` (an :class:`EventWeights` snapshot),
    prepared once by callers that run many chunks; otherwise prepared here, an O(n_rec^2)
    (dense) or O(nnz) (sparse) conversion and check per call. ``params`` is then not read.
    A sparse ``w_rec`` adds, for each unit that spiked, only its outgoing synapses; a sparse
    ``w_in``, for each non-zero input, only its synapses.
    """
    weights = event_weights(params) if weights is None else weights
    weights.check(net)
    w = weights.loop
    if sparse_input(x):
        xin = _csr_input(x, net.n_in)
    else:
        x = np.ascontiguousarray(x, dtype=np.float64)
        xin = _Input(x, False, NO_SPARSE[2], unsigned(NO_SPARSE[1]), np.zeros(1))
    n_steps = xin.x.shape[0]
    capacity = max(capacity, 2 * net.n_rec)
    shape_v = (n_steps, net.n_rec) if record else (0, net.n_rec)
    out = _Output(
        np.empty(capacity, np.int64),
        np.empty(capacity, np.int32),
        np.zeros(1, np.int64),
        record,
        np.zeros(shape_v),
        np.zeros(shape_v),
        np.zeros((n_steps, net.n_out) if record else (0, net.n_out)),
    )
    beta = np.ascontiguousarray(net.beta_vector(), dtype=np.float64)
    c = _Constants(
        net.alpha,
        net.rho,
        net.kappa,
        net.v_th,
        beta,
        float(net.n_ref),
        net.input_scale,
        net.readout_scale,
    )
    # plain LIF: the vectorised update (its threshold test needs v_th > 0, as the config does)
    lif = not record and net.n_ref == 0 and not beta.any() and c.v_th > 0
    state_arrays = state.arrays()
    t = 0
    while t < n_steps:
        t = _run_loop(lif, w, xin, c, state_arrays, out, t)
        if t < 0:  # a sparse input row out of order at step -1 - t: sort the rows, go on
            t = -1 - t
            xin = _csr_input(x, net.n_in, canonical=True)
        k = int(out.n_spk[0])
        if on_spikes is not None and k:
            on_spikes(out.spk_t[:k] + t_offset, out.spk_u[:k].copy())
        out.n_spk[0] = 0
    if record:
        return out.v_rec, out.thr_rec, out.y_rec
    return None, None, None
