"""infodyn's JAX engine (``jit`` + ``lax.scan``, float32, batch 1, one XLA thread).

Reports (a) the first call of ``net.simulate(params, x, engine="jax")`` in this fresh process,
compilation and host transfers included; (b) the steady-state time of the compiled engine
(:func:`infodyn.network.engine_jax.run`, device arrays, ``block_until_ready``); (c) the reference
bound "one sgemv per step": T steps of a jitted ``lax.scan`` whose body is one float32
(1 x n) @ (n x n) product plus a threshold (so each step depends on the last and nothing can be
hoisted or batched across steps); (d) the time of an ahead-of-time ``lower().compile()`` of
the engine call, the compilation share of (a) (JAX's in-memory caches cleared first, or it
would return the executable of (a)). The import time reported is that of JAX and infodyn.
"""

from __future__ import annotations

import time

import numpy as np
from common import emit, load_case, parser, save_spikes, timed


def main() -> None:
    args = parser(__doc__).parse_args()
    t_import = time.perf_counter()
    import jax
    import jax.numpy as jnp
    from run_infodyn_event import network  # imports infodyn, which imports JAX

    from infodyn.network.dynamics import Constants
    from infodyn.network.engine_jax import lower, run

    import_s = time.perf_counter() - t_import
    case = load_case(args.case)
    net, params = network(case)
    x = case["x"].astype(np.float32)

    trace, first_wall, first_cpu = timed(lambda: net.simulate(params, x, engine="jax"))
    times, units = np.nonzero(trace.z)

    c = Constants.of(net)
    p = {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}
    beta = jnp.asarray(net.beta_vector(), jnp.float32)
    xb = jnp.asarray(x[None])

    def engine() -> None:
        jax.block_until_ready(run(c, p, beta, xb))

    engine()
    wall, cpu = [], []
    for _ in range(args.repeats):
        _, w, cp = timed(engine)
        wall.append(w)
        cpu.append(cp)

    @jax.jit
    def sgemv_scan(w: jax.Array, xs: jax.Array) -> jax.Array:
        def body(z: jax.Array, x_t: jax.Array):
            return ((z @ w + x_t) > 1.0).astype(w.dtype), None

        z, _ = jax.lax.scan(body, jnp.zeros(w.shape[0], w.dtype), xs)
        return z

    w32 = p["w_rec"]
    drive = jnp.asarray(x @ params["w_in"], jnp.float32)

    def baseline() -> None:
        jax.block_until_ready(sgemv_scan(w32, drive))

    baseline()
    s_wall, s_cpu = [], []
    for _ in range(args.repeats):
        _, w, cp = timed(baseline)
        s_wall.append(w)
        s_cpu.append(cp)

    # compilation alone (ahead-of-time lower + compile of the same engine call); JAX would
    # otherwise hand back the executable its first call compiled (in-memory cache): 0.00 s
    jax.clear_caches()
    _, compile_wall, compile_cpu = timed(lambda: lower(c, p, beta, xb, False, False).compile())

    save_spikes(args.spikes_out, times, units)
    emit(
        "infodyn JAX engine (XLA, float32)",
        x.shape[0],
        wall,
        cpu,
        n_spikes=int(times.size),
        first_call_s=first_wall,
        first_call_cpu_s=first_cpu,
        import_s=import_s,
        compile_s=compile_wall,
        compile_cpu_s=compile_cpu,
        sgemv_wall_s=s_wall,
        sgemv_cpu_s=s_cpu,
        jax_version=jax.__version__,
    )


if __name__ == "__main__":
    main()
