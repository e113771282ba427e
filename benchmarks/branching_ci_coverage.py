"""Coverage of ``branching_ratio``'s intervals (``ci_method``) on simulated branching processes
(issue 16): the size of the suite's coverage test, and the research size of RESULTS.md.

Simulates ``RUNS`` driven branching processes (``A_{t+1} ~ Poisson(m A_t + h)``, h = 10,
binomially subsampled to ``A``; simulation seed ``SEED + i``, bootstrap seed ``i``) and calls
:func:`infodyn.criticality.branching_ratio` on each with every interval below; prints the coverage
of the true m, the misses on either side, the mean width and the median CPU time per call.

Sizes: ``test`` m = 0.9, 10 trials x 300 bins, kmax 30, B = 50 (the suite's test);
``research`` m = 0.95, 10 x 500, kmax 60, B = 100 (benchmarks/branching_nested_bootstrap.py).

    OPENBLAS_NUM_THREADS=1 python benchmarks/branching_ci_coverage.py SIZE A RUNS SEED [BI ...]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
from harness import positional

import infodyn.criticality as C

SIZES = {"test": (0.9, 300, 30, 50), "research": (0.95, 500, 60, 100)}


def main() -> None:
    positional(__doc__, 4)
    size, a = sys.argv[1], float(sys.argv[2])
    runs, seed0 = int(sys.argv[3]), int(sys.argv[4])
    inner = [int(v) for v in sys.argv[5:]] or [20]
    m, t, kmax, nb = SIZES[size]
    cases = [("centred_percentile, bias-corrected", "centred_percentile", True, 0)]
    cases += [
        (f"symmetric_t, n_inner {bi}, bias-corrected", "symmetric_t", True, bi) for bi in inner
    ]
    cases += [(f"symmetric_t, n_inner {inner[0]}, uncorrected", "symmetric_t", False, inner[0])]
    ci = {c[0]: np.empty((runs, 2)) for c in cases}
    cpu = {c[0]: np.empty(runs) for c in cases}
    warnings.simplefilter("ignore", C.CriticalityWarning)
    for i in range(runs):
        act = C.simulate_branching_process(m, 10.0, t, trials=10, subsample=a, seed=seed0 + i)
        for name, method, corrected, bi in cases:
            t0 = time.process_time()
            res = C.branching_ratio(
                act,
                kmax=kmax,
                n_boot=nb,
                seed=i,
                bias_correction=corrected,
                ci_method=method,
                n_inner=max(bi, 2),
            )
            cpu[name][i] = time.process_time() - t0
            ci[name][i] = res.m_ci
    print(
        f"size {size} (m = {m}, 10 x {t} bins, kmax {kmax}, B = {nb}), a = {a}, "
        f"{runs} runs, seeds {seed0}+"
    )
    print("| interval (95 %) | coverage | below m | above m | mean width | CPU s/call |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (lo, hi) in ((k, v.T) for k, v in ci.items()):
        print(
            f"| {name} | {np.mean((lo <= m) & (m <= hi)):.3f} | {np.mean(hi < m):.3f} | "
            f"{np.mean(lo > m):.3f} | {np.nanmean(hi - lo):.4f} | {np.median(cpu[name]):.3f} |"
        )


if __name__ == "__main__":
    main()
