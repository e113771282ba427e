"""infodyn on the scale benchmark's network: the event engine (Numba, float64 sums of float32
weights) or the JAX engine (``lax.scan``, float32, batch 1), one thread.

The recurrent weights are the case's CSR arrays wrapped as :class:`infodyn.network.SparseWeights`
without a copy, the input weights ``W_in = J_ext I`` as a diagonal ``SparseWeights``. When the
engine in this checkout does not take ``SparseWeights`` yet, small networks (``n <=
DENSE_FALLBACK_MAX``) run on the dense matrices instead and the result says so.

Event engine: :func:`infodyn.network.engine_event.run_event_chunk` over chunks of input (dense
0/1 rows built from the case's sparse input spikes; the time spent building them is reported
apart, ``input_prep_s``), spikes collected through ``on_spikes``. JAX engine:
:func:`infodyn.network.engine_jax.run` on the whole input at once (device arrays,
``block_until_ready``), compiled before the timed repeats.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from common import current_rss_mb, emit, parser, save_spikes, timed
from scale_case import input_chunk, read_case, synaptic_events

from infodyn.network import LIF, SparseWeights

DENSE_FALLBACK_MAX = 4000


def build_params(case, arrays: dict, sparse: bool = True) -> dict:
    """The infodyn params of the case: sparse (no copy of the synapse arrays) or dense."""
    n = case.n
    w_rec = SparseWeights(arrays["values"], arrays["indices"], arrays["indptr"], (n, n))
    diag = np.arange(n, dtype=np.int32)
    w_in = SparseWeights(
        np.full(n, arrays["j_ext"], np.float32), diag, np.arange(n + 1, dtype=np.int64), (n, n)
    )
    if not sparse:
        w_rec, w_in = w_rec.to_dense(), w_in.to_dense()
    return {"w_in": w_in, "w_rec": w_rec, "w_out": np.zeros((n, 0), np.float32)}


def network(case) -> LIF:
    return LIF(n_in=case.n, n_rec=case.n, n_out=0, tau_m=case.tau_m, dt=case.dt, v_th=case.v_th)


def chunk_steps(n: int) -> int:
    """Input rows per chunk: about 16 MB of float64 input at a time."""
    return max(1, min(1000, 2_000_000 // n))


def run_event(net, case, arrays, params, weights) -> tuple[np.ndarray, np.ndarray, float]:
    """One event-engine run; returns (times, units, seconds spent building input chunks)."""
    from infodyn.network.engine_event import EventState, run_event_chunk

    state = EventState.zeros(net.n_rec, net.n_out)
    times, units = [], []
    prep = 0.0

    def collect(t: np.ndarray, u: np.ndarray) -> None:
        times.append(t.copy())
        units.append(u)

    step = chunk_steps(case.n)
    for t0 in range(0, case.n_steps, step):
        t1 = min(case.n_steps, t0 + step)
        c0 = time.process_time()
        x = input_chunk(arrays["in_t"], arrays["in_u"], t0, t1, case.n)
        prep += time.process_time() - c0
        run_event_chunk(net, params, x, state, on_spikes=collect, t_offset=t0, weights=weights)
    t = np.concatenate(times or [np.zeros(0, np.int64)])
    u = np.concatenate(units or [np.zeros(0, np.int32)])
    return t, u, prep


def event_main(net, case, arrays, params, repeats):
    from infodyn.network.engine_event import event_weights

    weights, build_wall, build_cpu = timed(lambda: event_weights(params))
    short = dataclasses.replace(case, n_steps=min(case.n_steps, 50))
    run_event(net, short, arrays, params, weights)  # compile (cached) outside the timing
    wall, cpu, prep = [], [], []
    for _ in range(repeats):
        (t, u, p), w, c = timed(lambda: run_event(net, case, arrays, params, weights))
        wall.append(w - p)
        cpu.append(c - p)
        prep.append(p)
    return (
        t,
        u,
        wall,
        cpu,
        {"input_prep_s": prep, "prepare_s": build_wall, "prepare_cpu_s": build_cpu},
    )


def _to_jax(w, dtype):
    import jax.numpy as jnp

    if isinstance(w, SparseWeights):
        return SparseWeights(
            jnp.asarray(w.values, dtype), jnp.asarray(w.indices), jnp.asarray(w.indptr), w.shape
        )
    return jnp.asarray(w, dtype)


def jax_main(net, case, arrays, params, repeats):
    import jax
    import jax.numpy as jnp

    from infodyn.network.dynamics import Constants
    from infodyn.network.engine_jax import run

    dtype = jnp.float32
    p = {k: _to_jax(v, dtype) for k, v in params.items()}
    c = Constants.of(net)
    beta = jnp.asarray(net.beta_vector(), dtype)
    x = input_chunk(arrays["in_t"], arrays["in_u"], 0, case.n_steps, case.n).astype(np.float32)
    xb = jnp.asarray(x[None])
    del x
    out, compile_wall, _ = timed(lambda: jax.block_until_ready(run(c, p, beta, xb)))
    z = np.asarray(out["z"][:, 0])
    del out
    times, units = np.nonzero(z)
    del z
    wall, cpu = [], []
    for _ in range(repeats):
        _, w, cp = timed(lambda: jax.block_until_ready(run(c, p, beta, xb)))
        wall.append(w)
        cpu.append(cp)
    return times, units, wall, cpu, {"first_call_s": compile_wall, "jax_version": jax.__version__}


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--engine", choices=["event", "jax"], default="event")
    args = p.parse_args()
    rss0 = current_rss_mb()
    case, arrays = read_case(args.case)
    net = network(case)
    params, build_wall, build_cpu = timed(lambda: build_params(case, arrays, sparse=True))
    rss_run = current_rss_mb()
    runner = event_main if args.engine == "event" else jax_main
    layout = "sparse W"
    try:
        times, units, wall, cpu, extra = runner(net, case, arrays, params, args.repeats)
    except Exception as exc:  # this checkout's engine does not take SparseWeights yet
        if case.n > DENSE_FALLBACK_MAX:
            raise
        layout = f"dense W fallback ({type(exc).__name__})"
        params, build_wall, build_cpu = timed(lambda: build_params(case, arrays, sparse=False))
        times, units, wall, cpu, extra = runner(net, case, arrays, params, args.repeats)
    save_spikes(args.spikes_out, times, units)
    w_rec = params["w_rec"]
    weight_bytes = w_rec.nbytes if isinstance(w_rec, SparseWeights) else w_rec.nbytes
    name = (
        f"infodyn event engine (Numba, {layout})"
        if args.engine == "event"
        else f"infodyn JAX engine (XLA float32, {layout})"
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
        w_rec_bytes=int(weight_bytes),
        layout=layout,
        **extra,
    )


if __name__ == "__main__":
    main()
