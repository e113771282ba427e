"""Coverage of the MR bootstrap interval for m, with and without the finite-trial bias correction.

Simulates ``runs`` driven branching processes (``simulate_branching_process(m, 10, T, trials,
subsample, seed=1000 + i)``), estimates m with ``branching_ratio(kmax, n_boot=100, seed=i)``
with ``bias_correction`` off and on, and prints the mean estimate, its spread and how often the
95 % interval contains the true m (and on which side it misses).

    python benchmarks/branching_coverage.py M T TRIALS SUBSAMPLE KMAX RUNS [ts|sm]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
from harness import positional

import infodyn.criticality as C


def main() -> None:
    positional(__doc__, 6)
    m, T, N, a, kmax, runs = (
        float(sys.argv[1]),
        int(sys.argv[2]),
        int(sys.argv[3]),
        float(sys.argv[4]),
        int(sys.argv[5]),
        int(sys.argv[6]),
    )
    method = sys.argv[7] if len(sys.argv) > 7 else "ts"
    warnings.simplefilter("ignore", C.CriticalityWarning)
    res: dict[bool, list[tuple[float, float, float]]] = {False: [], True: []}
    t0 = time.perf_counter()
    for i in range(runs):
        act = C.simulate_branching_process(m, 10.0, T, trials=N, subsample=a, seed=1000 + i)
        for corrected in (False, True):
            r = C.branching_ratio(
                act,
                kmax=kmax,
                n_boot=100,
                seed=i,
                coefficient_method=method,
                bias_correction=corrected,
            )
            res[corrected].append((r.m, *r.m_ci))
    print(
        f"m={m} T={T} trials={N} subsample={a} kmax={kmax} {method}, {runs} runs, "
        f"{time.perf_counter() - t0:.0f} s"
    )
    print("| bias_correction | mean m | sd m | coverage | interval below m | above m |")
    print("|---|---:|---:|---:|---:|---:|")
    for corrected in (False, True):
        x = np.array(res[corrected])
        cov = np.mean((x[:, 1] <= m) & (m <= x[:, 2]))
        print(
            f"| {corrected} | {x[:, 0].mean():.4f} | {x[:, 0].std():.4f} | {cov:.3f} | "
            f"{np.mean(x[:, 2] < m):.3f} | {np.mean(x[:, 1] > m):.3f} |"
        )


if __name__ == "__main__":
    main()
