"""Studentized (nested-jackknife) bootstrap intervals for the bias-corrected MR estimate (issue 16).

Simulates ``RUNS`` driven branching processes (m = 0.95, h = 10, 10 trials of 500 bins,
binomially subsampled to ``A``; seeds SEED + i) and fits the bias-corrected MR estimate (kmax 60,
"ts" slopes) to the data, its 10 delete-one-trial jackknife samples, ``B`` bootstrap replicates
over trials and the delete-one jackknife samples *of every replicate* (the nested level of a
studentized bootstrap). Saves everything to ``OUT`` (npz) for ``branching_interval_eval.py``.

    OPENBLAS_NUM_THREADS=1 python benchmarks/branching_studentized.py A RUNS SEED B OUT
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
    positional(__doc__, 5)
    a, runs, seed0, nb, out = (
        float(sys.argv[1]),
        int(sys.argv[2]),
        int(sys.argv[3]),
        int(sys.argv[4]),
        sys.argv[5],
    )
    k = np.arange(1, KMAX + 1, dtype=float)
    w1 = np.ones(KMAX)
    rng = np.random.default_rng(seed0)
    t0 = time.perf_counter()
    est, boot, jack, bjack, wts = [], [], [], [], []
    for i in range(runs):
        act = C.simulate_branching_process(M, H, T, trials=N, subsample=a, seed=seed0 + i)
        s = B._lag_sums(act, KMAX)
        w = B._boot_weights(N, nb, rng)
        # nested: delete one occurrence of unit j from replicate b (only where w[b, j] > 0)
        wj = w[:, None, :] - np.eye(N)[None]
        keep = w > 0
        rows = np.vstack([np.ones((1, N)), 1.0 - np.eye(N), w, wj[keep]])
        r = B._slopes_ts(s, rows)
        x = fit_corrected(lambda q, s: B._fit_lnm(q, k, w1, False, s), r, k, T, 1.0)[0]
        mm = np.exp(x)
        est.append(mm[0])
        jack.append(mm[1 : 1 + N])
        boot.append(mm[1 + N : 1 + N + nb])
        bj = np.full((nb, N), np.nan)
        bj[keep] = mm[1 + N + nb :]
        bjack.append(bj)
        wts.append(w)
    np.savez(
        out,
        est=np.array(est),
        jack=np.array(jack),
        boot=np.array(boot),
        bjack=np.array(bjack),
        w=np.array(wts),
        m=M,
        a=a,
    )
    print(f"{runs} runs a={a} seed {seed0} B={nb}: {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
