"""The machine's floor for the scale benchmark, and a bare reference simulation (Numba, float64).

Two bare loops over the case's CSR arrays (``values``, ``indices``, ``indptr``):

- ``reference``: the whole network (leak, input, recurrent scatter-adds, reset, threshold) as
  one loop, the same float64 operations in the same order as infodyn's event engine (each
  multiply that feeds an add rounded once with it, as XLA and the event engine round it), so
  the two rasters must be identical; it is the raster the floor replays and a check independent of
  infodyn's code.
- ``floor``: only the recurrent scatter-adds ``acc[indices[s]] += values[s]`` over the synapses
  of every spike of that raster, in the same order, into one float64 array: the least work any
  simulator of this network must do per synaptic event. Reported as synaptic events per second.
  The post indices are read as uint32 (a view of the int32 array) and the synapse positions
  as uint64, as the event engine reads them: unsigned indices spare the loop Numba's
  negative-index test per synapse (about 15 % faster each), and the first cache lines of a
  row are prefetched a few spikes ahead (:func:`floor`), as the event engine prefetches a
  spiking unit's row when it finds the spike.
"""

from __future__ import annotations

import time

import numba
import numpy as np
from common import emit, parser, save_spikes, timed
from scale_case import read_case, synaptic_events

from infodyn.network._event_rows import fma, prefetch_synapses
from infodyn.network.engine_event import SPARSE_PREFETCH_AHEAD, SPARSE_PREFETCH_LINES


@numba.njit(cache=True, nogil=True)
def reference(values, indices, indptr, j_ext, in_t, in_u, n_steps, alpha, v_th):  # pragma: no cover
    """Simulate; returns the raster (times, units) sorted by (time, unit)."""
    n = indptr.shape[0] - 1
    v = np.zeros(n)
    z = np.zeros(n)
    rec = np.zeros(n)
    inp = np.zeros(n)
    active = np.zeros(n, np.int64)
    n_active = 0
    cap = 1 << 16
    spk_t = np.empty(cap, np.int64)
    spk_u = np.empty(cap, np.int32)
    n_spk = 0
    p = 0
    for t in range(n_steps):
        rec[:] = 0.0
        for k in range(n_active):
            i = active[k]
            for s in range(indptr[i], indptr[i + 1]):
                rec[indices[s]] += values[s]
        inp[:] = 0.0
        while p < in_t.shape[0] and in_t[p] == t:
            inp[in_u[p]] += 1.0 * j_ext
            p += 1
        for j in range(n):
            zj = z[j]
            v[j] = fma(inp[j], 1.0, fma(alpha, v[j], rec[j])) - v_th * zj  # XLA's roundings
            z[j] = 1.0 if (v[j] - v_th) / v_th > 0.0 else 0.0
        n_active = 0
        for j in range(n):
            if z[j] != 0.0:
                active[n_active] = j
                n_active += 1
                if n_spk == cap:
                    cap *= 2
                    spk_t = np.concatenate((spk_t, np.empty(cap - n_spk, np.int64)))
                    spk_u = np.concatenate((spk_u, np.empty(cap - n_spk, np.int32)))
                spk_t[n_spk] = t
                spk_u[n_spk] = j
                n_spk += 1
    return spk_t[:n_spk], spk_u[:n_spk]


@numba.njit(cache=True, nogil=True)
def floor(values, indices, indptr, spk_u, n):  # pragma: no cover
    """The scatter-adds alone: every spike's row added into one accumulator. The first lines of
    the row of the spike ``SPARSE_PREFETCH_AHEAD`` ahead are prefetched, as many lines as the
    event engine prefetches (``engine_event.SPARSE_PREFETCH_LINES``; a hint: without it
    the loop waits on the cache for each row's start: 1.4-1.7x slower at N >= 10^4)."""
    acc = np.zeros(n)
    n_spk = spk_u.shape[0]
    for k in range(n_spk):
        if k + SPARSE_PREFETCH_AHEAD < n_spk:
            first = np.uint64(indptr[spk_u[k + SPARSE_PREFETCH_AHEAD]])
            prefetch_synapses(values, indices, first, SPARSE_PREFETCH_LINES)
        i = spk_u[k]
        for s in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            acc[indices[s]] += values[s]
    return acc


def main() -> None:
    args = parser(__doc__).parse_args()
    case, a = read_case(args.case)
    values, indices, indptr = a["values"], a["indices"], a["indptr"]
    sim_args = (values, indices, indptr, float(a["j_ext"]), a["in_t"], a["in_u"])
    reference(*sim_args, 20, case.alpha, case.v_th)  # compile (cached) outside the timing
    (times, units), ref_wall, ref_cpu = timed(
        lambda: reference(*sim_args, case.n_steps, case.alpha, case.v_th)
    )
    delivered = units[times < case.n_steps - 1]
    indices = indices.view(np.uint32)  # as the event engine reads them: no wrap-around test
    floor(values, indices, indptr, delivered[:10], case.n)
    wall, cpu = [], []
    for _ in range(args.repeats):
        _, w, c = timed(lambda: floor(values, indices, indptr, delivered, case.n))
        wall.append(w)
        cpu.append(c)
    save_spikes(args.spikes_out, times, units)
    emit(
        "floor: bare Numba scatter-add loop",
        case.n_steps,
        wall,
        cpu,
        n_spikes=int(times.size),
        syn_events=synaptic_events(times, units, indptr, case.n_steps),
        reference_wall_s=ref_wall,
        reference_cpu_s=ref_cpu,
        build_s=0.0,
        when=time.strftime("%H:%M:%S"),
    )


if __name__ == "__main__":
    main()
