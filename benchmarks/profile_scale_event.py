"""Where the event engine's time goes on the scale benchmark's network (issue 13), in one process.

For each case (``regime:N:K`` of ``peers/scale_case.py``) it prints CPU milliseconds, medians of
``--repeats`` runs alternating between:

- ``floor``: the bare scatter-adds of ``peers/run_scale_floor.py`` over the reference raster;
- ``engine``: :func:`infodyn.network.engine_event.run_event_chunk` on the whole input as one
  CSR matrix, weights prepared once (the loop alone, without ``simulate_spikes``' validation);
- a replay of the reference raster (the spikes fixed, so every variant does the same work) with
  parts of a step switched on: ``rec`` (the recurrent scatter-adds), ``+in`` (the private
  inputs into an accumulator), ``+dense`` (the update pass over all units), ``+scan`` (finding
  the units that fired), and ``dense`` / ``in`` alone.

Run (from the repository root)::

    PYTHONPATH=src .venv/bin/python benchmarks/profile_scale_event.py ai:1000:100 ai:10000:100
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from run_scale_floor import floor, reference  # noqa: E402
from run_scale_infodyn import build_params, input_csr, network  # noqa: E402
from scale_case import build_synapses, draw_input, regime_case  # noqa: E402

from infodyn.network.engine_event import EventState, event_weights, run_event_chunk  # noqa: E402


@numba.njit(error_model="numpy")
def replay(syn, spikes, x_rows, in_val, v, z, alpha, v_th, parts):  # pragma: no cover
    """Steps of the LIF map with the spikes of step t-1 taken from ``spikes`` (pointers by step,
    units); ``parts`` = (rec, in, dense, scan) flags. Returns a checksum."""
    values, indices, indptr = syn
    sp_ptr, sp_u = spikes
    xp, xi, xv = x_rows
    do_rec, do_in, do_dense, do_scan = parts
    n = v.shape[0]
    rec = np.zeros(n)
    inp = np.zeros(n)
    words = z.view(np.uint64)
    total = 0
    for t in range(xp.shape[0] - 1):
        if do_rec and t > 0:
            for k in range(sp_ptr[t - 1], sp_ptr[t]):
                i = sp_u[k]
                for s in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                    rec[indices[s]] += values[s]
        if do_in:
            for p in range(xp[t], xp[t + 1]):
                if xv[p] != 0.0:
                    inp[xi[p]] += xv[p] * in_val[xi[p]]
        if do_dense:
            for j in range(n):
                vj = alpha * v[j] + rec[j] + inp[j]
                v[j] = vj
                rec[j] = 0.0
                inp[j] = 0.0
                z[j] = vj > v_th
        if do_scan:
            for wd in range(words.shape[0]):
                if words[wd] != 0:
                    for j in range(8 * wd, 8 * wd + 8):
                        total += z[j]
    return total


PARTS = {
    "rec": (1, 0, 0, 0),
    "rec+in": (1, 1, 0, 0),
    "rec+dense": (1, 0, 1, 0),
    "rec+in+dense": (1, 1, 1, 0),
    "rec+in+dense+scan": (1, 1, 1, 1),
    "dense": (0, 0, 1, 0),
    "in": (0, 1, 0, 0),
}


def profile(spec: str, repeats: int) -> str:
    regime, n, k = spec.split(":")
    case = regime_case(regime, int(n), int(k))
    values, indices, indptr = build_synapses(case)
    in_t, in_u = draw_input(case)
    j_ext = np.float32(case.j_ext)
    args = (values, indices, indptr, float(j_ext), in_t, in_u)
    times, units = reference(*args, case.n_steps, case.alpha, case.v_th)
    arrays = {"values": values, "indices": indices, "indptr": indptr, "j_ext": j_ext}
    params, net = build_params(case, arrays), network(case)
    x = input_csr(in_t, in_u, 0, case.n_steps, case.n)
    weights = event_weights(params)
    syn = (values, indices.view(np.uint32), indptr)
    spikes = (np.searchsorted(times, np.arange(case.n_steps + 1)), units)
    x_rows = (x.indptr.astype(np.int64), x.indices.view(np.uint32), x.data)
    in_val = np.full(case.n, j_ext, np.float32)
    delivered = units[times < case.n_steps - 1]

    def engine() -> None:
        state = EventState.zeros(case.n, 0)
        run_event_chunk(net, params, x, state, on_spikes=lambda t, u: None, weights=weights)

    def part(flags):
        v, z = np.zeros(case.n), np.zeros(-(-case.n // 8) * 8, np.uint8)
        return lambda: replay(syn, spikes, x_rows, in_val, v, z, case.alpha, case.v_th, flags)

    runs = {"floor": lambda: floor(*syn, delivered, case.n), "engine": engine}
    runs.update({name: part(flags) for name, flags in PARTS.items()})
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for f in runs.values():
        f()  # compile (cached or not) outside the timing
    for _ in range(repeats):
        for name, f in runs.items():
            c0 = time.process_time()
            f()
            cpu[name].append(time.process_time() - c0)
    ms = {name: 1e3 * float(np.median(c)) for name, c in cpu.items()}
    cells = " ".join(f"{name} {t:.1f}" for name, t in ms.items())
    return f"{spec}: {cells} ms CPU; floor / engine {ms['floor'] / ms['engine']:.3f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("cases", nargs="+", help="regime:N:K, e.g. ai:1000:100")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    for spec in args.cases:
        print(profile(spec, args.repeats), flush=True)


if __name__ == "__main__":
    main()
