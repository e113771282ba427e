"""Nested (double) bootstrap for the bias-corrected MR estimate (issue 16): data for a
studentized bootstrap-t with an inner-bootstrap se and for a calibrated (iterated) bootstrap.

Simulates ``RUNS`` driven branching processes (m = 0.95, h = 10, 10 trials of 500 bins,
binomially subsampled to ``A``; seeds SEED + i), fits the bias-corrected MR estimate (kmax 60,
"ts" slopes) to the data, to ``B`` bootstrap replicates over trials and to ``BI`` inner
bootstrap replicates of every replicate (trials drawn with replacement from the replicate's
trials). Saves ``est`` (runs,), ``boot`` (runs, B), ``inner`` (runs, B, BI) to ``OUT``.

    OPENBLAS_NUM_THREADS=1 python benchmarks/branching_nested_bootstrap.py A RUNS SEED B BI OUT
"""

from __future__ import annotations

import sys
import time

import numpy as np
from harness import positional

import infodyn.criticality as C
from infodyn.criticality import branching as B
from infodyn.criticality._mr_bias import fit_corrected

M, H, T, N, KMAX = 0.95, 10.0, 500, 10, 60


def main() -> None:
    positional(__doc__, 6)
    a, out = float(sys.argv[1]), sys.argv[6]
    runs, seed0, nb, ni = (int(v) for v in sys.argv[2:6])
    k = np.arange(1, KMAX + 1, dtype=float)
    w1 = np.ones(KMAX)
    rng = np.random.default_rng(seed0)
    t0 = time.perf_counter()
    est, boot, inner = [], [], []
    rows_b = np.arange(nb)[:, None, None]
    rows_i = np.arange(ni)[None, :, None]
    for i in range(runs):
        act = C.simulate_branching_process(M, H, T, trials=N, subsample=a, seed=seed0 + i)
        s = B._lag_sums(act, KMAX)
        idx = rng.integers(0, N, size=(nb, N))
        w = np.zeros((nb, N))
        np.add.at(w, (np.arange(nb)[:, None], idx), 1.0)
        sub = np.take_along_axis(
            np.broadcast_to(idx[:, None, :], (nb, ni, N)),
            rng.integers(0, N, size=(nb, ni, N)),
            axis=2,
        )
        wi = np.zeros((nb, ni, N))
        np.add.at(wi, (rows_b, rows_i, sub), 1.0)
        r = B._slopes_ts(s, np.vstack([np.ones((1, N)), w, wi.reshape(nb * ni, N)]))
        x = fit_corrected(lambda q, s: B._fit_lnm(q, k, w1, False, s), r, k, T, 1.0)[0]
        mm = np.exp(x)
        est.append(mm[0])
        boot.append(mm[1 : 1 + nb])
        inner.append(mm[1 + nb :].reshape(nb, ni))
    np.savez(out, est=np.array(est), boot=np.array(boot), inner=np.array(inner), m=M, a=a)
    print(f"{runs} runs a={a} seed {seed0} B={nb} BI={ni}: {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
