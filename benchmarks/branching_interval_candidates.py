"""Which interval for the bias-corrected MR estimate covers at its nominal rate? (issue 16)

Simulates ``RUNS`` driven branching processes (m = 0.95, h = 10, 10 trials of 500 bins,
binomially subsampled to ``A``; seeds SEED + i), fits the bias-corrected MR estimate (kmax 60,
"ts" slopes) to the data, to 100 bootstrap replicates over trials and to the 10 delete-one-trial
jackknife samples (all rows at once, with the estimator's own pieces), and compares 95 %
intervals built from them:

* ``current``: ``branching_ratio``'s interval (bootstrap percentiles centred on the estimate,
  widened by ``f = t_{n-1}/z sqrt(n/(n-1))``; ``mr_fit._interval``);
* ``bootstrap-sd t``: ``est +- t_{n-1} sd_boot sqrt(n/(n-1))``;
* ``jackknife t``: ``est +- t_{n-1} se_jack`` (Efron & Tibshirani 1993, ch. 11);
* ``BCa centred``: bias-corrected and accelerated percentiles (ch. 14; acceleration from the
  jackknife), moved onto the estimate and widened by f like ``current``;
* ``current, jackknife floor``: ``current`` with its half-widths scaled by
  ``max(1, se_jack / (sd_boot sqrt(n/(n-1))))``.

It also prints how the spread of the estimate over runs compares with the bootstrap's spread
(does the bootstrap over trials see the subsampling noise?).

    OPENBLAS_NUM_THREADS=1 python benchmarks/branching_interval_candidates.py A RUNS [SEED]
"""

from __future__ import annotations

import sys
import time

import numpy as np
from harness import positional
from scipy import stats

import infodyn.criticality as C
from infodyn.criticality import branching as B
from infodyn.criticality._mr_bias import fit_corrected

M, H, T, N, KMAX, N_BOOT, CI = 0.95, 10.0, 500, 10, 60, 100, 0.95


def simulate_fits(a: float, runs: int, seed0: int) -> tuple[np.ndarray, ...]:
    """Bias-corrected m of each run, of its bootstrap replicates and its jackknife samples."""
    k = np.arange(1, KMAX + 1, dtype=float)
    w = np.ones(KMAX)
    rng = np.random.default_rng(seed0)
    rows = []
    for i in range(runs):
        act = C.simulate_branching_process(M, H, T, trials=N, subsample=a, seed=seed0 + i)
        s = B._lag_sums(act, KMAX)
        boot = B._slopes_ts(s, B._boot_weights(N, N_BOOT, rng))
        jack = B._slopes_ts(s, 1.0 - np.eye(N))
        rows.append(np.vstack([B._slopes_ts(s), boot, jack]))
    x = fit_corrected(lambda r, s: B._fit_lnm(r, k, w, False, s), np.vstack(rows), k, T, 1.0)[0]
    mm = np.exp(x).reshape(runs, 1 + N_BOOT + N)
    return mm[:, 0], mm[:, 1 : 1 + N_BOOT], mm[:, 1 + N_BOOT :]


def intervals(est: np.ndarray, boot: np.ndarray, jack: np.ndarray) -> dict[str, np.ndarray]:
    p = ((1 - CI) / 2, (1 + CI) / 2)
    tq = stats.t.ppf(p[1], N - 1)
    f = tq / stats.norm.ppf(p[1]) * np.sqrt(N / (N - 1))
    sd_boot = np.nanstd(boot, axis=1, ddof=1)
    se_jack = np.sqrt((N - 1) / N * ((jack - jack.mean(1, keepdims=True)) ** 2).sum(1))
    out = {
        "current": np.array([B._interval(e, b, CI, N) for e, b in zip(est, boot, strict=True)]).T,
        "jackknife t": np.array([est - tq * se_jack, est + tq * se_jack]),
    }
    out["bootstrap-sd t"] = np.array(
        [est - tq * sd_boot * np.sqrt(N / (N - 1)), est + tq * sd_boot * np.sqrt(N / (N - 1))]
    )
    below = np.nanmean(np.where(np.isnan(boot), np.nan, boot < est[:, None]), axis=1)
    z0 = stats.norm.ppf(np.clip(below, 1e-3, 1 - 1e-3))
    d = jack.mean(1, keepdims=True) - jack
    acc = (d**3).sum(1) / (6 * ((d**2).sum(1)) ** 1.5)
    ends = []
    for z in stats.norm.ppf(p):
        q = stats.norm.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z)))
        ends.append(np.array([np.nanquantile(b, qq) for b, qq in zip(boot, q, strict=True)]))
    out["BCa centred"] = np.array([est + f * (ends[0] - est), est + f * (ends[1] - est)])
    scale = np.maximum(1.0, se_jack / (sd_boot * np.sqrt(N / (N - 1))))
    cur = out["current"]
    out["current, jackknife floor"] = np.array(
        [est - scale * (est - cur[0]), est + scale * (cur[1] - est)]
    )
    return out


def main() -> None:
    positional(__doc__, 2)
    a, runs = float(sys.argv[1]), int(sys.argv[2])
    seed0 = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    t0 = time.perf_counter()
    est, boot, jack = simulate_fits(a, runs, seed0)
    sd_boot = np.nanstd(boot, axis=1, ddof=1)
    print(
        f"m={M} h={H} {N} x {T} bins, subsample {a}, kmax {KMAX}, bias-corrected, {runs} runs "
        f"(seeds {seed0}..{seed0 + runs - 1}), {time.perf_counter() - t0:.0f} s; NaN estimates "
        f"{int(np.isnan(est).sum())}, runs with a failed replicate "
        f"{int(np.isnan(boot).any(1).sum())}"
    )
    print(
        f"mean m {np.nanmean(est):.4f}, sd over runs {np.nanstd(est):.4f}, mean bootstrap sd "
        f"{np.nanmean(sd_boot):.4f} (ratio {np.nanstd(est) / np.nanmean(sd_boot):.3f})"
    )
    print("| interval | coverage | below m | above m | mean width |")
    print("|---|---:|---:|---:|---:|")
    for name, (lo, hi) in intervals(est, boot, jack).items():
        cov = np.mean((lo <= M) & (M <= hi))
        print(
            f"| {name} | {cov:.3f} | {np.mean(hi < M):.3f} | {np.mean(lo > M):.3f} | "
            f"{np.nanmean(hi - lo):.4f} |"
        )


if __name__ == "__main__":
    main()
