"""infodyn on the scale benchmark's network: the event engine (Numba, float64 sums of float32
weights) or the JAX engine (``lax.scan``, float32, batch 1), one thread.

The recurrent weights are the case's CSR arrays wrapped as :class:`infodyn.network.SparseWeights`
without a copy, the input weights ``W_in = J_ext I`` as a diagonal ``SparseWeights``. The time
infodyn takes to draw a network of the same size itself (``LIF(connectivity="ei", k_in=K).init``)
is reported as ``init_s`` (after the timed runs and the peak-memory reading).

Event engine: :func:`infodyn.network.simulate_spikes` (the public API: it prepares the weights,
runs :func:`~infodyn.network.engine_event.run_event_chunk` chunk by chunk and returns a sparse
``SpikeTrain``) on an input function that makes chunks of 10,000 steps (the API's default;
2,000 at N = 10^4, 1,000 at 10^5: a few 10^6 input spikes a chunk) as SciPy CSR arrays from
the case's input spikes (the CPU time spent making them is reported apart, ``input_prep_s``,
and not counted). JAX engine:
:func:`infodyn.network.engine_jax.run` on the whole input at once (device arrays,
``block_until_ready``), compiled before the timed repeats.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from common import current_rss_mb, emit, parser, peak_rss_mb, save_spikes, timed
from scale_case import input_chunk, read_case, synaptic_events

from infodyn.network import LIF, SparseWeights


def build_params(case, arrays: dict) -> dict:
    """The infodyn params of the case: ``SparseWeights`` around the case's arrays (no copy)."""
    n = case.n
    w_rec = SparseWeights(arrays["values"], arrays["indices"], arrays["indptr"], (n, n))
    diag = np.arange(n, dtype=np.int32)
    w_in = SparseWeights(
        np.full(n, arrays["j_ext"], np.float32), diag, np.arange(n + 1, dtype=np.int64), (n, n)
    )
    return {"w_in": w_in, "w_rec": w_rec, "w_out": np.zeros((n, 0), np.float32)}


def network(case) -> LIF:
    return LIF(n_in=case.n, n_rec=case.n, n_out=0, tau_m=case.tau_m, dt=case.dt, v_th=case.v_th)


def time_init(case) -> float:
    """Seconds infodyn takes to draw a network of this size itself: ``LIF(connectivity="ei",
    k_in=K).init`` in float32 (fixed in-degree E/I; its own weight distribution; one input)."""
    net = LIF(n_in=1, n_rec=case.n, n_out=0, connectivity="ei", k_in=case.k, tau_m=case.tau_m)
    _, wall, _ = timed(lambda: net.init(seed=case.seed, precision="float32"))
    return wall


def chunk_steps(n: int) -> int:
    """Input rows per chunk: about 16 MB of float64 input at a time."""
    return max(1, min(1000, 2_000_000 // n))


def input_csr(in_t: np.ndarray, in_u: np.ndarray, t0: int, t1: int, n: int):
    """The input ``x[t0:t1]`` as a SciPy CSR array of spikes (rows sorted by unit): bool
    values and int32 indices (5 bytes an input spike; the event engine reads them as they
    are). The step bounds are searched in ``in_t``'s own dtype (no converted copy of it)."""
    import scipy.sparse as sp

    steps = np.arange(t0, t1 + 1, dtype=in_t.dtype)
    a, b = np.searchsorted(in_t, steps[[0, -1]])
    indptr = np.searchsorted(in_t[a:b], steps).astype(np.int32)
    data = np.ones(b - a, np.bool_)
    return sp.csr_array((data, in_u[a:b].astype(np.int32, copy=False), indptr), (t1 - t0, n))


def run_event(net, case, arrays, params, sparse_x: bool = True, chunk: int | None = None, **kw):
    """One event-engine run through the public API, :func:`infodyn.network.simulate_spikes`,
    the input made chunk by chunk by a function; returns (times, units, CPU seconds spent
    making the input chunks). The input goes in as SciPy CSR chunks (``sparse_x``) or as dense
    0/1 chunks. ``chunk`` replaces the chunk length chosen here; ``kw`` goes to
    ``simulate_spikes`` (``engine="jax", precision=...``: the JAX engine's streamed run)."""
    import infodyn as idn

    prep = [0.0]
    make = input_csr if sparse_x else input_chunk

    def x(t0: int, t1: int):
        c0 = time.process_time()
        chunk = make(arrays["in_t"], arrays["in_u"], t0, t1, case.n)
        prep[0] += time.process_time() - c0
        return chunk

    step = max(1000, min(10_000, 20_000_000 // case.n)) if sparse_x else chunk_steps(case.n)
    step = chunk or step
    train = idn.network.simulate_spikes(net, params, x, case.n_steps, chunk_steps=step, **kw)
    return train.times, train.units, prep[0]


def event_main(net, case, arrays, params, repeats):
    short = dataclasses.replace(case, n_steps=min(case.n_steps, 50))
    run_event(net, short, arrays, params)  # compile (cached) outside the timing
    wall, cpu, prep = [], [], []
    for _ in range(repeats):
        (t, u, p), w, c = timed(lambda: run_event(net, case, arrays, params))
        wall.append(w - p)
        cpu.append(c - p)
        prep.append(p)
    return t, u, wall, cpu, {"input_prep_s": prep}


def jax_main(net, case, arrays, params, repeats, precision="float32", device=None):
    """The JAX engine on the whole input at once, in ``precision``, on ``device`` (JAX's default
    when None; ``benchmarks/gpu_scale.py`` passes a GPU): (times, units, wall and CPU seconds of
    each repeat, extras with the first, compiling call's wall seconds)."""
    import contextlib

    import jax
    import jax.numpy as jnp

    from infodyn.network.engine_jax import prepare, run

    with jax.default_device(device) if device is not None else contextlib.nullcontext():
        dtype, p, c, beta = prepare(net, params, precision)
        x = input_chunk(arrays["in_t"], arrays["in_u"], 0, case.n_steps, case.n)
        xb = jnp.asarray(x[None], dtype)
        del x

        def go():
            return jax.block_until_ready(run(c, p, beta, xb, record=False))

        out, compile_wall, _ = timed(go)
        z = np.asarray(out["z"][:, 0])
        del out
        times, units = np.nonzero(z)
        del z
        wall, cpu = [], []
        for _ in range(repeats):
            _, w, cp = timed(go)
            wall.append(w)
            cpu.append(cp)
    extra = {"first_call_s": compile_wall, "jax_version": jax.__version__}
    return times, units, wall, cpu, extra


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--engine", choices=["event", "jax"], default="event")
    p.add_argument("--no-init", action="store_true", help="do not time LIF(k_in=K).init")
    args = p.parse_args()
    rss0 = current_rss_mb()
    case, arrays = read_case(args.case)
    net = network(case)
    params, build_wall, build_cpu = timed(lambda: build_params(case, arrays))
    rss_run = current_rss_mb()
    runner = event_main if args.engine == "event" else jax_main
    times, units, wall, cpu, extra = runner(net, case, arrays, params, args.repeats)
    peak = peak_rss_mb()
    save_spikes(args.spikes_out, times, units)
    if args.engine == "event" and not args.no_init:
        extra["init_s"] = time_init(case)
    name = (
        "infodyn event engine (Numba, SparseWeights)"
        if args.engine == "event"
        else "infodyn JAX engine (XLA float32, SparseWeights)"
    )
    emit(
        name,
        case.n_steps,
        wall,
        cpu,
        n_spikes=int(times.size),
        syn_events=synaptic_events(times, units, arrays["indptr"], case.n_steps),
        build_s=build_wall,
        build_cpu_s=build_cpu,
        rss_before_case_mb=rss0,
        rss_before_run_mb=rss_run,
        w_rec_bytes=int(params["w_rec"].nbytes),
        **extra,
        **peak,
    )


if __name__ == "__main__":
    main()
