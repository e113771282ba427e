"""Steady-state A/B timing of the event engine on ``bench_network.py``'s dense case.

``bench_network.py`` times three 10,000-step runs after a 100-step warm-up, about 30 ms each:
on this shared two-core machine its medians move by 5-10 % from run to run. This script
compares two source trees of infodyn (``--src A --src B``, e.g. a ``git archive`` of main and
the work tree) on the same case (``--float32-weights``: exact float32 weights, N = 1000, 100
Poisson inputs at 20 Hz, 10,000 steps), in alternating child processes, each timing
``run_event_chunk`` (weights prepared once, before its timer, as the benchmark runner does)
``--repeats`` times after one full untimed run; it prints the median process-CPU time a step
of every child and the median of those per tree, and checks that every child produced the
same spikes (a hash of the raster).

    PYTHONPATH=src .venv/bin/python benchmarks/event_steady_ab.py \
        --src /tmp/main_src --src src --pairs 4
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def child(case: str, repeats: int) -> None:
    """Time the case in this process (the infodyn on PYTHONPATH); print one JSON line."""
    from infodyn.network import LIF
    from infodyn.network.engine_event import EventState, event_weights, run_event_chunk

    with np.load(case) as f:
        net = LIF(**json.loads(str(f["net_json"])))
        params = {"w_in": f["w_in"], "w_rec": f["w_rec"], "w_out": np.zeros((net.n_rec, 0))}
        x = np.ascontiguousarray(f["x"], dtype=np.float64)
    weights = event_weights(params)

    def run() -> tuple[np.ndarray, np.ndarray]:
        state = EventState.zeros(net.n_rec, net.n_out)
        times, units = [], []
        collect = lambda t, u: (times.append(t.copy()), units.append(u))  # noqa: E731
        run_event_chunk(net, params, x, state, on_spikes=collect, weights=weights)
        return np.concatenate(times), np.concatenate(units)

    run()
    cpu = []
    for _ in range(repeats):
        c0 = time.process_time()
        t, u = run()
        cpu.append(time.process_time() - c0)
    digest = hashlib.sha1(t.tobytes() + u.tobytes()).hexdigest()[:12]
    us = statistics.median(cpu) / x.shape[0] * 1e6
    print(json.dumps({"us_per_step": us, "spikes": int(t.size), "hash": digest}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--src", action="append", required=True, help="an infodyn src tree (2)")
    p.add_argument("--pairs", type=int, default=4)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args.child, args.repeats)
    sys.path.insert(0, str(HERE))
    from bench_network import make_case

    case_args = argparse.Namespace(
        n_in=100, n_rec=1000, tau_m=20.0, in_scale=2.0, rec_scale=1.0, seed=1, rate=20.0
    )
    case_args.float32_weights, case_args.n_steps = True, 10_000
    srcs = [str(Path(s).resolve()) for s in args.src]
    for src in srcs:  # else the venv's own infodyn answered under that name
        if not (Path(src) / "infodyn" / "__init__.py").is_file():
            p.error(f"--src {src}: not an infodyn source tree (no infodyn/__init__.py)")
    if len(set(srcs)) != len(srcs):
        p.error("--src: the same tree twice (an A/B needs two trees)")
    times: dict[str, list[float]] = {s: [] for s in srcs}
    hashes = set()
    with tempfile.TemporaryDirectory() as tmp:
        case = Path(tmp) / "case.npz"
        make_case(case_args, case)
        for _ in range(args.pairs):
            for src in srcs:
                env = dict(os.environ, PYTHONPATH=src, OPENBLAS_NUM_THREADS="1")
                env.update(NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
                cmd = [sys.executable, __file__, "--src", src, "--child", str(case)]
                cmd += ["--repeats", str(args.repeats)]
                load = os.getloadavg()[0]
                out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                times[src].append(r["us_per_step"])
                hashes.add(r["hash"])
                print(f"{src}: {r['us_per_step']:.3f} us a step (load {load:.1f})", flush=True)
    for src in srcs:
        med = statistics.median(times[src])
        print(f"median {med:.3f} us a step ({1e6 / med:,.0f} steps/s): {src}")
    print("spikes identical in every run:", len(hashes) == 1)


if __name__ == "__main__":
    main()
