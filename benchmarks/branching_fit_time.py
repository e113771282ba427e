"""CPU time of one bias-corrected bootstrap-t MR fit (``branching_ratio(..., bias_correction=True,
ci_method="symmetric_t")``), for comparing two versions of the estimator on one machine: run it
with each version on the import path, alternating, and compare the medians (this machine is
shared and noisy). Prints, for each case, the median CPU seconds of ``--repeats`` fits and m with
its interval (to see that both versions give the same numbers).

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/branching_fit_time.py
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import infodyn.criticality as C

# (m, bins per trial, trials, kmax, B, inner replicates): the coverage test's set-up
# (tests/criticality/test_mr_interval.py) and a research-sized one
CASES = ((0.9, 300, 10, 30, 50, 20), (0.95, 2000, 20, 60, 100, 20))


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    print("| m, T, trials, kmax, B, inner | CPU s (median) | m | interval |")
    print("|---|---:|---:|---|")
    for m, t, trials, kmax, n_boot, n_inner in CASES:
        act = C.simulate_branching_process(m, 10.0, t, trials=trials, seed=1)
        times = []
        for _ in range(args.repeats):
            t0 = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", C.CriticalityWarning)
                res = C.branching_ratio(
                    act, kmax=kmax, n_boot=n_boot, seed=1, bias_correction=True,
                    ci_method="symmetric_t", n_inner=n_inner,
                )  # fmt: skip
            times.append(time.process_time() - t0)
        print(
            f"| {m}, {t}, {trials}, {kmax}, {n_boot}, {n_inner} | {np.median(times):.3f} | "
            f"{res.m:.7f} | {res.m_ci[0]:.7f} - {res.m_ci[1]:.7f} |"
        )


if __name__ == "__main__":
    main()
