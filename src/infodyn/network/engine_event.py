"""The event-driven CPU engine (Numba): for long, low-activity, single-network runs.

Per step it touches only the rows of ``w_rec``/``w_out`` of units that spiked on the previous
step and the rows of ``w_in`` of inputs that are non-zero, plus O(n_rec) work for leak and
threshold. With a few per cent of units active this is far cheaper than a dense matrix-vector
product per step. With a sparse ``w_rec`` (:class:`~infodyn.network.sparse.SparseWeights`) a
spike of unit i adds only its outgoing synapses ``values[indptr[i]:indptr[i+1]]`` onto units
``indices[indptr[i]:indptr[i+1]]``: O(K) per spike, bitwise the sums of the dense rows.
Semantics are those of :mod:`infodyn.network.model`, operation for operation
as the JAX engine evaluates them, so in float64 both give the same spikes.

Spikes are returned (or streamed to an HDF5 file) sparsely as (times, units); dense voltage
traces are recorded only on request. Weights that are all exactly float32 are read as float32
rows and summed in float64 (:func:`row_storage`): the same numbers with half the memory traffic.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import scipy.sparse as sp

from infodyn.errors import InputError
from infodyn.network.sparse import SparseWeights


@numba.njit(cache=True, nogil=True)
def _add_rows(acc, w, idx, count):  # pragma: no cover - compiled
    """``acc[j] += w[idx[k], j]`` for k = 0..count-1, in that order, for every j.

    Four (then two, then one) rows are added per pass over ``acc``: the sum of each element is
    formed in exactly the same order as row by row, so the result is bitwise the same, but
    ``acc`` is loaded and stored a quarter as often and four rows stream from memory at once.
    """
    n = acc.shape[0]
    k = 0
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


@numba.njit(cache=True, nogil=True)
def _add_scaled_rows(acc, w, idx, scale, count):  # pragma: no cover - compiled
    """``acc[j] += scale[k] * w[idx[k], j]`` for k = 0..count-1, in that order, two per pass
    (bitwise the same as one row at a time, like :func:`_add_rows`)."""
    n = acc.shape[0]
    k = 0
    while k + 2 <= count:
        r0 = w[idx[k]]
        r1 = w[idx[k + 1]]
        s0 = scale[k]
        s1 = scale[k + 1]
        for j in range(n):
            acc[j] = (acc[j] + s0 * r0[j]) + s1 * r1[j]
        k += 2
    if k < count:
        r0 = w[idx[k]]
        s0 = scale[k]
        for j in range(n):
            acc[j] += s0 * r0[j]


@numba.njit(cache=True, nogil=True)
def _add_sparse_rows(acc, values, indices, indptr, idx, count):  # pragma: no cover - compiled
    """``acc[indices[s]] += values[s]`` for the synapses s of units ``idx[0..count-1]``, in that
    order: the additions each ``acc[j]`` receives are those of :func:`_add_rows` without the
    zeros, in the same order, so sparse and dense rows give bitwise the same sums."""
    for k in range(count):
        i = idx[k]
        for s in range(indptr[i], indptr[i + 1]):
            acc[indices[s]] += values[s]


@numba.njit(cache=True, nogil=True)
def _add_sparse_scaled_rows(acc, values, indices, indptr, idx, scale, count):  # pragma: no cover
    """``acc[indices[s]] += scale[k] * values[s]`` for the synapses s of rows ``idx[k]``, k in
    order: bitwise the sums of :func:`_add_scaled_rows` on the dense rows."""
    for k in range(count):
        i = idx[k]
        sk = scale[k]
        for s in range(indptr[i], indptr[i + 1]):
            acc[indices[s]] += sk * values[s]


@numba.njit(cache=True, nogil=True)
def _lif_update(v, z, rec, inp, alpha, v_th, s_in, active):  # pragma: no cover - compiled
    """The neuron update of plain LIF units (no adaptation, no refractory period, nothing
    recorded): ``v = alpha v + rec + s_in inp - v_th z``, ``z = H((v - v_th) / v_th)``, the same
    operations as the general update with ``beta = 0`` and ``n_ref = 0`` (so the same spikes),
    in one pass over v, z, rec and inp that also writes the ids of the units that fired to
    ``active`` (branch-free); returns how many fired. The general update's ``a`` and ``r``
    (unused by such units) are not touched."""
    n_new = 0
    for j in range(v.shape[0]):
        vj = alpha * v[j] + rec[j] + inp[j] * s_in - v_th * z[j]
        v[j] = vj
        fire = (vj - v_th) / v_th > 0.0
        z[j] = 1.0 if fire else 0.0
        active[n_new] = j
        n_new += 1 if fire else 0
    return n_new


class Rows(NamedTuple):
    """One weight matrix as the loop reads its rows: ``dense`` (n_from, n_to) or, where
    ``sparse``, the CSR arrays ``values``, ``indices``, ``indptr`` (``dense`` is then a
    placeholder). Made by :func:`loop_rows`."""

    dense: np.ndarray
    sparse: bool
    values: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray


class LoopWeights(NamedTuple):
    """The weights :func:`_event_loop` reads, from :func:`event_weights`."""

    w_in: Rows
    w_rec: Rows
    w_out: np.ndarray


class LoopInput(NamedTuple):
    """The input: dense ``x`` (T, n_in), or a CSR matrix's arrays where ``x_sparse`` (``x`` is
    then (T, 0)); ``n_in`` is the number of input channels."""

    x: np.ndarray
    x_sparse: bool
    x_indptr: np.ndarray
    x_indices: np.ndarray
    x_data: np.ndarray
    n_in: int


class LoopConstants(NamedTuple):
    """The network's constants (:mod:`infodyn.network.model`); ``lif_fast`` selects
    :func:`_lif_update` (plain LIF units, nothing recorded)."""

    alpha: float
    rho: float
    kappa: float
    v_th: float
    beta: np.ndarray
    n_ref: float
    s_in: float
    s_out: float
    lif_fast: bool


class EventState(NamedTuple):
    """State carried between chunks of an event-driven run; the loop updates its arrays in
    place."""

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
            z=np.zeros(n_rec),
            a=np.zeros(n_rec),
            r=np.zeros(n_rec),
            y=np.zeros(n_out),
            active=np.zeros(n_rec, np.int64),
            n_active=np.zeros(1, np.int64),
        )


class LoopRecord(NamedTuple):
    """Where the loop writes: the spike buffer (``spk_t``, ``spk_u``, its fill ``n_spk``) and,
    where ``record``, the (T, n) traces of v, the threshold and y."""

    spk_t: np.ndarray
    spk_u: np.ndarray
    n_spk: np.ndarray
    record: bool
    v_rec: np.ndarray
    thr_rec: np.ndarray
    y_rec: np.ndarray


@numba.njit(cache=True, nogil=True)
def _event_loop(
    wts: LoopWeights,
    inp_: LoopInput,
    c: LoopConstants,
    st: EventState,
    out_: LoopRecord,
    t_start: int,
):  # pragma: no cover - compiled
    """Steps ``t_start..`` until the input ends or the spike buffer could overflow; returns the
    next step. Tuples of arrays keep the argument list short; reading their fields costs
    nothing in compiled code."""
    w_in, w_rec, w_out = wts.w_in, wts.w_rec, wts.w_out
    x, x_indptr, x_indices, x_data = inp_.x, inp_.x_indptr, inp_.x_indices, inp_.x_data
    alpha, rho, kappa, v_th, beta = c.alpha, c.rho, c.kappa, c.v_th, c.beta
    n_ref, s_in, s_out = c.n_ref, c.s_in, c.s_out
    v, z, a, r, y, active = st.v, st.z, st.a, st.r, st.y, st.active
    spk_t, spk_u, record = out_.spk_t, out_.spk_u, out_.record
    v_rec, thr_rec, y_rec = out_.v_rec, out_.thr_rec, out_.y_rec
    n_active_arr, n_spk_arr, n_in_buf = st.n_active, out_.n_spk, inp_.n_in
    n_rec = v.shape[0]
    n_in = x.shape[1]
    n_out = y.shape[0]
    n_steps = x.shape[0]
    cap = spk_t.shape[0]
    rec = np.zeros(n_rec)
    inp = np.zeros(n_rec)
    out = np.zeros(n_out)
    in_idx = np.zeros(n_in_buf, np.int64)
    in_val = np.zeros(n_in_buf)
    n_active = n_active_arr[0]
    n_spk = n_spk_arr[0]
    for t in range(t_start, n_steps):
        if n_spk + n_rec > cap:
            n_active_arr[0] = n_active
            n_spk_arr[0] = n_spk
            return t
        # recurrent input: rows of units that spiked at t-1 (summed in spike order)
        rec[:] = 0.0
        if w_rec.sparse:
            _add_sparse_rows(rec, w_rec.values, w_rec.indices, w_rec.indptr, active, n_active)
        else:
            _add_rows(rec, w_rec.dense, active, n_active)
        # external input: rows of non-zero inputs, scaled by their value, in input order
        n_x = 0
        if inp_.x_sparse:  # row t of a CSR input: its non-zeros in ascending input order
            for p in range(x_indptr[t], x_indptr[t + 1]):
                xi = x_data[p]
                if xi != 0.0:
                    in_idx[n_x] = x_indices[p]
                    in_val[n_x] = xi
                    n_x += 1
        else:
            for i in range(n_in):
                xi = x[t, i]
                if xi != 0.0:
                    in_idx[n_x] = i
                    in_val[n_x] = xi
                    n_x += 1
        inp[:] = 0.0
        if w_in.sparse:
            _add_sparse_scaled_rows(
                inp, w_in.values, w_in.indices, w_in.indptr, in_idx, in_val, n_x
            )
        else:
            _add_scaled_rows(inp, w_in.dense, in_idx, in_val, n_x)
        if c.lif_fast:
            n_new = _lif_update(v, z, rec, inp, alpha, v_th, s_in, active)
            for k in range(n_new):
                spk_t[n_spk] = t
                spk_u[n_spk] = active[k]
                n_spk += 1
        else:
            # leak, input, reset, threshold and refractoriness: branch-free so that it vectorises
            for j in range(n_rec):
                zj = z[j]
                a[j] = rho * a[j] + zj
                v[j] = alpha * v[j] + rec[j] + inp[j] * s_in - v_th * zj
                thr = v_th + beta[j] * a[j]
                fire = (r[j] <= 0.0) & ((v[j] - thr) / v_th > 0.0)
                z[j] = 1.0 if fire else 0.0
                r[j] = n_ref if fire else max(r[j] - 1.0, 0.0)
                rec[j] = thr  # rec is free now: keep A[t] for the record
            if record:
                for j in range(n_rec):
                    v_rec[t, j] = v[j]
                    thr_rec[t, j] = rec[j]
            # the units that spiked: next step's active rows, and the sparse raster
            n_new = 0
            for j in range(n_rec):
                if z[j] != 0.0:
                    active[n_new] = j
                    n_new += 1
                    spk_t[n_spk] = t
                    spk_u[n_spk] = j
                    n_spk += 1
        n_active = n_new
        out[:] = 0.0
        for k in range(n_active):
            row = w_out[active[k]]
            for o in range(n_out):
                out[o] += row[o]
        for o in range(n_out):
            y[o] = kappa * y[o] + out[o] * s_out
            if record:
                y_rec[t, o] = y[o]
    n_active_arr[0] = n_active
    n_spk_arr[0] = n_spk
    return n_steps


def row_storage(w) -> np.ndarray:
    """The weight rows the loop reads: float32 when every weight is exactly a float32 (weights
    trained or drawn in float32, the JAX engine's default), else float64.

    The loop adds rows into float64 accumulators, and a float32 converts to float64 exactly, so
    the sums, and the spikes, are bitwise those of float64 storage, while each spike reads half
    the bytes (the row reads are the engine's memory-bound part).
    """
    w64 = np.ascontiguousarray(w, dtype=np.float64)
    w32 = w64.astype(np.float32)
    return w32 if np.array_equal(w32, w64) else w64


def sparse_storage(w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(values, indices int32, indptr int64)`` of a :class:`SparseWeights` as the loop reads
    them; float64 values that are all exactly float32 are read as float32 (:func:`row_storage`)."""
    values = np.ascontiguousarray(np.asarray(w.values))
    if values.dtype != np.float32:
        values = np.ascontiguousarray(values, dtype=np.float64)
        v32 = values.astype(np.float32)
        if np.array_equal(v32, values):
            values = v32
    indices = np.ascontiguousarray(np.asarray(w.indices), dtype=np.int32)
    indptr = np.ascontiguousarray(np.asarray(w.indptr), dtype=np.int64)
    return values, indices, indptr


_NO_SPARSE = (np.zeros(1, np.float32), np.zeros(1, np.int32), np.zeros(2, np.int64))


def loop_rows(w) -> Rows:
    """A weight matrix as the loop reads it: :func:`row_storage` of a dense array, or
    :func:`sparse_storage` of a :class:`SparseWeights`."""
    if isinstance(w, SparseWeights):
        return Rows(np.zeros((1, 1), np.float32), True, *sparse_storage(w))
    return Rows(row_storage(w), False, *_NO_SPARSE)


def event_weights(params) -> LoopWeights:
    """The weights the loop reads (:func:`loop_rows` of ``w_in`` and ``w_rec``, float64
    ``w_out``); prepare them once for a run of many chunks and pass them as ``weights=``."""
    w_out = np.ascontiguousarray(params["w_out"], dtype=np.float64)
    return LoopWeights(loop_rows(params["w_in"]), loop_rows(params["w_rec"]), w_out)


def sparse_input(x) -> bool:
    """True for a SciPy sparse input matrix (which :func:`run_event_chunk` reads row by row)."""
    return sp.issparse(x)


def _csr_input(x, n_in: int):
    """``x`` as a canonical CSR array (sorted indices, duplicates summed, float64 data)."""
    xs = sp.csr_array(x, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[1] != n_in:
        raise InputError(f"sparse input must have shape (T, {n_in}), got {xs.shape}")
    xs.sum_duplicates()
    xs.sort_indices()
    return xs


def run_event_chunk(
    net,
    params,
    x: np.ndarray,
    state: EventState,
    record: bool = False,
    capacity: int = 1 << 20,
    on_spikes=None,
    t_offset: int = 0,
    weights: LoopWeights | None = None,
):
    """Advance ``state`` through input ``x`` (T, n_in), float64.

    ``x`` may also be a SciPy sparse matrix (T, n_in): its rows are then read as lists of
    non-zero inputs, in ascending input order, so the sums (and spikes) are bitwise those of
    the dense ``x``, without an O(n_in) scan of each step or a dense (T, n_in) array (inputs of
    10^5 channels, one per unit). Plain LIF networks (no adaptation, no refractory period,
    nothing recorded) use :func:`_lif_update`.

    Spikes are passed to ``on_spikes(times, units)`` (times offset by ``t_offset``) whenever the
    buffer of ``capacity`` spikes fills and at the end; returns recorded (v, thr, y) or Nones.
    ``weights``: :func:`event_weights` of ``params``, prepared once by callers that run many
    chunks (otherwise prepared here, an O(n_rec^2) (dense) or O(nnz) (sparse) check per call).
    A sparse ``w_rec`` adds, for each unit that spiked, only its outgoing synapses; a sparse
    ``w_in``, for each non-zero input, only its synapses.
    """
    wts = event_weights(params) if weights is None else weights
    x_sparse = sparse_input(x)
    if x_sparse:
        xs = _csr_input(x, net.n_in)
        x_indptr, x_indices, x_data = xs.indptr.astype(np.int64), xs.indices, xs.data
        x = np.zeros((xs.shape[0], 0))
    else:
        x = np.ascontiguousarray(x, dtype=np.float64)
        x_indptr, x_indices, x_data = _NO_SPARSE[2], _NO_SPARSE[1], np.zeros(1)
    n_steps = x.shape[0]
    capacity = max(capacity, 2 * net.n_rec)
    spk_t = np.empty(capacity, np.int64)
    spk_u = np.empty(capacity, np.int32)
    n_spk = np.zeros(1, np.int64)
    shape_v = (n_steps, net.n_rec) if record else (0, net.n_rec)
    v_rec, thr_rec = np.zeros(shape_v), np.zeros(shape_v)
    y_rec = np.zeros((n_steps, net.n_out) if record else (0, net.n_out))
    beta = np.ascontiguousarray(net.beta_vector(), dtype=np.float64)
    lif_fast = not record and net.n_ref == 0 and not beta.any()  # plain LIF: _lif_update
    inp = LoopInput(x, x_sparse, x_indptr, x_indices, x_data, net.n_in)
    consts = LoopConstants(
        net.alpha,
        net.rho,
        net.kappa,
        net.v_th,
        beta,
        float(net.n_ref),
        net.input_scale,
        net.readout_scale,
        lif_fast,
    )
    buffers = LoopRecord(spk_t, spk_u, n_spk, record, v_rec, thr_rec, y_rec)
    t = 0
    while t < n_steps:
        t = _event_loop(wts, inp, consts, state, buffers, t)
        k = int(n_spk[0])
        if on_spikes is not None and k:
            on_spikes(spk_t[:k] + t_offset, spk_u[:k].copy())
        n_spk[0] = 0
    if record:
        return v_rec, thr_rec, y_rec
    return None, None, None
