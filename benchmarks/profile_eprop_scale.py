"""The time of one e-prop gradient on the acceptance network of issue 13 (not in CI).

Builds the network of ``acceptance_scale.py`` (non-leaky LIF, E/I, fixed in-degree K, sparse
float32 weights, weak Poisson drive; its defaults, or ``--n``/``--k``/``--rec-scale``/...), draws
one sequence of ``--steps`` steps and times :func:`infodyn.learning.evaluate` (e-prop, the
acceptance loss: per-unit target rate + population-rate variance, one window) twice in one
process: the first call compiles, ``--repeats`` more (default 2) give the steady cost. Prints
one JSON line (CPU seconds of every call and the median of the steady ones, the sequence's
rate, the gradient's norm).

Run it against two checkouts to compare them, alternating (from the repository root)::

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 \\
        XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \\
        .venv/bin/python benchmarks/profile_eprop_scale.py --n 100000 --steps 1000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import acceptance_scale  # noqa: E402
import acceptance_scale_tools as tools  # noqa: E402


def main() -> None:
    import infodyn
    from infodyn.learning import PopulationRateVariance, UnitRateTarget, evaluate

    ap = acceptance_scale.parser()  # its options, with this script's description and own
    ap.description = __doc__  # --repeats (--help printed acceptance_scale.py's alone)
    ap.formatter_class = argparse.RawDescriptionHelpFormatter
    ap.add_argument("--repeats", type=int, default=2, help="steady calls after the first (>= 1)")
    a = ap.parse_args(["--inh-factor", "3", "--rec-scale", "7.65", "--h", "0.01", *sys.argv[1:]])
    if a.repeats < 1:  # no steady call: a median of nothing (NaN, invalid JSON)
        ap.error(f"--repeats must be >= 1, got {a.repeats}")
    repeats = a.repeats
    net, task, params = tools.build(a)
    x = task.sample(np.random.default_rng(a.seed), a.steps)
    loss = UnitRateTarget(r0_hz=a.r0, weight=1e-3) + PopulationRateVariance(
        weight=a.var_weight, s_target=20.0
    )
    out = {"n": a.n, "k": a.k, "steps": a.steps, "sparse_input": a.sparse_input}
    out["infodyn"] = str(Path(infodyn.__file__).parent)
    cpu = []
    for _ in range(1 + repeats):
        c0 = time.process_time()
        ev = evaluate(net, params, x, None, loss, method="eprop", precision="float32")
        cpu.append(round(time.process_time() - c0, 3))
    out["first_cpu_s"], out["cpu_s"] = cpu[0], cpu[1:]
    out["median_cpu_s"] = float(np.median(cpu[1:]))
    out["rate_hz"] = float(ev.activity.sum() / (a.steps * net.n_rec) * 1000.0 / net.dt)
    out["grad_norm"] = ev.grad_norm
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
