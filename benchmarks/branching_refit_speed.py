"""The bias correction's refits (issue 16): full grid + golden-section search at every step of the
fixed-point iteration against a secant refit started from the previous ln m (``_fit_lnm``'s
``start``). Fits R bootstrap replicates of one simulated data set both ways; prints the median CPU
time of 5 repeats and the largest difference in ln m. (The full search refines its grid point by
the secant too since stop 56, golden section only where that fails: its column is faster now
than in the table recorded before that.)

    OPENBLAS_NUM_THREADS=1 python benchmarks/branching_refit_speed.py
"""

from __future__ import annotations

import time

import numpy as np
from harness import no_options

import infodyn.criticality as C
from infodyn.criticality import branching as B
from infodyn.criticality._mr_bias import fit_corrected

# (m, bins per trial, kmax, subsampling, rows): the test size with B = 50 and 20 inner
# replicates, and the research size with B = 100 and 20 inner replicates
CASES = ((0.9, 300, 30, 1.0, 1050), (0.95, 500, 60, 0.2, 2100))


def main() -> None:
    print("| m, T, kmax, a, rows | fit | full refits s | secant refits s | ratio | max diff ln m |")
    print("|---|---|---:|---:|---:|---:|")
    for m, t, kmax, a, rows in CASES:
        k = np.arange(1, kmax + 1, dtype=float)
        w = np.ones(kmax)
        act = C.simulate_branching_process(m, 10.0, t, trials=10, subsample=a, seed=1)
        sums = B._lag_sums(act, kmax)
        r = B._slopes_ts(sums, B._boot_weights(10, rows, np.random.default_rng(0)))
        for offset in (False, True):

            def full(q, s, k=k, w=w, offset=offset):
                return B._fit_lnm(q, k, w, offset)

            def warm(q, s, k=k, w=w, offset=offset):
                return B._fit_lnm(q, k, w, offset, s)

            out, cpu = {}, {}
            for name, fit in (("full", full), ("warm", warm)):
                times = []
                for _ in range(5):
                    t0 = time.process_time()
                    out[name] = fit_corrected(fit, r, k, float(t), 1.0)[0]
                    times.append(time.process_time() - t0)
                cpu[name] = float(np.median(times))
            diff = np.nanmax(np.abs(out["full"] - out["warm"]))
            print(
                f"| {m}, {t}, {kmax}, {a}, {rows} | {'exp_offset' if offset else 'exp'} | "
                f"{cpu['full']:.3f} | {cpu['warm']:.3f} | {cpu['full'] / cpu['warm']:.1f} | "
                f"{diff:.1e} |"
            )


if __name__ == "__main__":
    no_options(__doc__)
    main()
