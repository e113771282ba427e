"""Where the JAX engine's event-driven recurrent current stops paying (issue 13).

``network/event_current.py`` adds the rows of the units that spiked inside XLA (a custom call)
while at most ``capacity`` of the entries of ``z`` are active and takes the gather path above.
This times both, in one process, alternating, on a fixed in-degree network (``LIF(connectivity=
"ei", k_in=K)``, float32) for random spike vectors of several activities: each is a jitted
``lax.scan`` over ``--steps`` spike vectors; medians of ``--repeats``, CPU milliseconds a step,
and a check that both give the same sums.

Run (from the repository root; one XLA thread, as the scale benchmark runs)::

    XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \\
        PYTHONPATH=src .venv/bin/python benchmarks/event_current_crossover.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    import jax
    import jax.numpy as jnp

    from infodyn.network import LIF
    from infodyn.network.event_current import by_event, event_current
    from infodyn.network.sparse import to_jax
    from infodyn.network.sparse_current import recurrent_current

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--k", type=int, default=100)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--activity", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4, 0.6, 1.0])
    a = p.parse_args()
    net = LIF(n_in=1, n_rec=a.n, n_out=0, connectivity="ei", k_in=a.k)
    w = to_jax(net.init(seed=0, precision="float32")["w_rec"], jnp.float32)
    plan = by_event(w, capacity=1.0)  # event-driven at every activity

    def scan(current):
        def total(zs):
            return jax.lax.scan(lambda c, z: (c + current(z).sum(), None), 0.0, zs)[0]

        return jax.jit(total)

    event = scan(lambda z: event_current(z, w, plan))
    gather = scan(lambda z: recurrent_current(z, w, plan.fallback))
    rng = np.random.default_rng(0)
    print(f"N = {a.n}, K = {a.k}, float32, {a.steps} steps a scan, medians of {a.repeats}")
    for act in a.activity:
        zs = jnp.asarray((rng.random((a.steps, a.n)) < act).astype(np.float32))
        if float(event(zs)) != float(gather(zs)):  # also compiles both outside the timing
            raise SystemExit(f"event and gather sums differ at activity {act}")
        cpu: dict[str, list[float]] = {"event": [], "gather": []}
        for _ in range(a.repeats):
            for name, f in (("event", event), ("gather", gather)):
                c0 = time.process_time()
                f(zs).block_until_ready()
                cpu[name].append((time.process_time() - c0) * 1e3 / a.steps)
        e, g = (float(np.median(cpu[k])) for k in ("event", "gather"))
        print(
            f"activity {act:4.0%}: event {e:.3f} ms/step, gather {g:.3f} ms/step, "
            f"event / gather {e / g:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
