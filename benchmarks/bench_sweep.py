"""Sweep benchmark (issue 9): 32 small networks, sequential loop vs Dask vs vmap batching.

Every mode runs the same 32 ``simulate`` points (4 recurrent scales x 2 input rates x 4 seeds;
LIF, 20 inputs, 50 units, 500 steps, JAX engine, float32) and writes the same per-point run
directories (spikes.h5, figures, results.json). Each repeat of each mode runs in a fresh Python
process, so every mode pays its own start-up: JIT compilation, and for Dask the cluster start.

Modes:
  sequential    a Python loop over ``run_simulation`` in one process
  dask-2        ``run_sweep`` on a 2-worker LocalCluster, one task per point
  dask-2+vmap   ``run_sweep`` on a 2-worker LocalCluster, 16 points per task (``jax.vmap``)
  vmap-1proc    all 32 points as one ``vmap``-ed batch in one process, no Dask
and, separating compute from file and figure output,
  sim-loop      32 ``simulate(engine="jax")`` calls in a loop (no files)
  sim-vmap      one ``vmap``-ed call over the 32 networks (no files)
  sim-*-warm    the same, timing a second pass (JIT compilation excluded)

Run:  .venv/bin/python benchmarks/bench_sweep.py --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE = {
    "network": {"n_in": 20, "n_rec": 50, "in_scale": 3.0, "n_ref": 2},
    "input": {"n_steps": 500, "rate_hz": 40.0},
    "simulation": {"engine": "jax", "precision": "float32"},
}
GRID = {"network.rec_scale": [0.5, 1.0, 1.5, 2.0], "input.rate_hz": [20.0, 40.0]}
SEEDS = 4
MODES = (
    "sequential",
    "dask-2",
    "dask-2+vmap",
    "vmap-1proc",
    "sim-loop",
    "sim-vmap",
    "sim-loop-warm",
    "sim-vmap-warm",
)


def _points():
    from infodyn.experiments.config import get_command
    from infodyn.experiments.sweep import expand_grid

    return expand_grid(get_command("simulate"), BASE, GRID, seeds=SEEDS)


def run_mode(mode: str, out: Path) -> float:
    """Run one mode once (inside a fresh process) and return its wall time in seconds."""
    import numpy as np

    from infodyn.experiments.config import SimulateConfig, get_command, make_input, validate
    from infodyn.experiments.simulate_run import run_simulation
    from infodyn.experiments.sweep import run_point_batch, run_sweep

    spec = get_command("simulate")
    points = _points()
    t0 = time.perf_counter()
    if mode == "sequential":
        for p in points:
            run_simulation(validate(SimulateConfig, p.config), out / p.name)
    elif mode in ("dask-2", "dask-2+vmap"):
        res = run_sweep(
            "simulate",
            BASE,
            GRID,
            out,
            seeds=SEEDS,
            n_workers=2,
            batch_size=16 if mode == "dask-2+vmap" else 1,
        )
        assert res.n_ran == len(points) and not res.failures
    elif mode == "vmap-1proc":
        run_point_batch(spec, [(p.config, str(out / p.name), p.key) for p in points])
    elif mode.startswith(("sim-loop", "sim-vmap")):
        import jax
        import jax.numpy as jnp

        from infodyn.network.dynamics import Constants
        from infodyn.network.engine_jax import run
        from infodyn.network.simulate import simulate

        cfgs = [validate(SimulateConfig, p.config) for p in points]
        nets = [c.build_network() for c in cfgs]
        params = [n.init(seed=c.simulation.seed) for n, c in zip(nets, cfgs, strict=True)]
        xs = [make_input(c.input, n.n_in, n.dt) for n, c in zip(nets, cfgs, strict=True)]
        stacked = {k: jnp.asarray(np.stack([p[k] for p in params]), jnp.float32) for k in params[0]}
        c, beta = Constants.of(nets[0]), jnp.asarray(nets[0].beta_vector(), jnp.float32)
        f = jax.jit(jax.vmap(lambda p, x: run(c, p, beta, x[None])["z"]))
        x_all = jnp.asarray(np.stack(xs), jnp.float32)
        for _ in range(2 if mode.endswith("-warm") else 1):  # -warm: time a second pass
            t0 = time.perf_counter()  # compute only: configs, weights and inputs are ready
            if mode.startswith("sim-loop"):
                for n, p, x in zip(nets, params, xs, strict=True):
                    simulate(n, p, x, engine="jax").z.sum()
            else:
                np.asarray(f(stacked, x_all)).sum()
    else:
        raise SystemExit(f"unknown mode {mode}")
    return time.perf_counter() - t0


def _children_cpu() -> float:
    """User + system CPU seconds of all finished child processes (and their descendants)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one mode, print seconds
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps({"seconds": run_mode(args.one, Path(args.out))}))
        return
    times: dict[str, list[float]] = {m: [] for m in args.modes.split(",")}
    cpu: dict[str, list[float]] = {m: [] for m in times}
    for rep in range(args.repeats):
        for mode in times:  # interleaved, so load changes hit every mode alike
            with tempfile.TemporaryDirectory() as tmp:
                before = _children_cpu()
                proc = subprocess.run(
                    [sys.executable, __file__, "--one", mode, "--out", tmp],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                used = _children_cpu() - before
                if proc.returncode:
                    raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
                sec = json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
                times[mode].append(sec)
                cpu[mode].append(used)
                print(
                    f"repeat {rep + 1} {mode}: {sec:.2f} s wall, {used:.2f} s CPU",
                    file=sys.stderr,
                    flush=True,
                )
    ref = statistics.median(times["sequential"]) if "sequential" in times else None
    n = len(_points())
    print(f"\n{n} networks, medians of {args.repeats} repeats (each a fresh process)\n")
    print(
        "| mode | wall (s), median | min | max | per network (ms) | speed-up vs sequential "
        "| CPU (s), median |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for mode, ts in times.items():
        med = statistics.median(ts)
        ratio = f"{ref / med:.2f}x" if ref and not mode.startswith("sim-") else "-"
        print(
            f"| {mode} | {med:.2f} | {min(ts):.2f} | {max(ts):.2f} | {1000 * med / n:.0f} | "
            f"{ratio} | {statistics.median(cpu[mode]):.1f} |"
        )
    print(
        "\nwall: the timed section inside the process (sweep or loop, incl. cluster start and "
        "JIT); CPU: user+sys of the whole process tree (incl. Python imports and Dask workers)"
    )
    for suffix in ("", "-warm"):
        loop, vm = f"sim-loop{suffix}", f"sim-vmap{suffix}"
        if loop in times and vm in times:
            r = statistics.median(times[loop]) / statistics.median(times[vm])
            what = "warm (compiled)" if suffix else "cold (incl. JIT)"
            print(f"\ncompute only, {what}: loop / one vmap call = {r:.2f}")


if __name__ == "__main__":
    main()
