"""Criticality benchmarks: MR branching estimator vs mrestimator, power-law fits vs powerlaw.

    .venv/bin/python benchmarks/bench_criticality.py [--trials 10] [--steps 100000]
        [--avalanches 100000] [--kmax 250] [--n-boot 100] [--repeats 3] [--peer-repeats 1]
        [--only mr|powerlaw] [--json FILE]

Both sides do the same work on the same data, one thread each (BLAS/Numba), after a warm-up
call that compiles Numba code (mrestimator uses Numba too):

* **MR**: 10 trials x 10^5 steps of a driven branching process (m = 0.98, h = 10) observed
  through 10 % binomial subsampling; slopes r_k ('ts') for k = 1..kmax with ``n_boot`` bootstrap
  replicates, then the exponential and exponential-with-offset fits, each with bootstrap
  intervals (``n_boot`` refits). mrestimator: ``coefficients(numboot=n_boot)`` and
  ``fit(fitfunc=exp/exp_offs, numboot=n_boot)``.
* **Power law**: 10^5 avalanche sizes of the critical Poisson Galton-Watson process (censored
  ones removed); discrete MLE with the xmin scan over every distinct value (``min_tail=2`` here,
  as ``powerlaw`` scans all but the largest), then the three likelihood-ratio comparisons.
  powerlaw: ``Fit(discrete=True, estimate_discrete=False)`` (exact discrete MLE) and
  ``distribution_compare`` for exponential, lognormal and truncated power law.

Reported: medians over repeats, the ratio peer/infodyn, and whether our estimate lies inside the
peer's error bar (mrestimator's bootstrap interval of m; powerlaw's alpha +- sigma).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import infodyn.criticality as C  # noqa: E402


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def bench_mr(args) -> list[dict]:
    import mrestimator as mre

    act = C.simulate_branching_process(
        0.98, 10.0, args.steps, trials=args.trials, subsample=0.1, seed=1
    )

    def ours():
        return C.branching_ratio(act, kmax=args.kmax, n_boot=args.n_boot, seed=1)

    def peer():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rk = mre.coefficients(
                act, steps=(1, args.kmax), method="ts", numboot=args.n_boot, seed=1
            )
            f1 = mre.fit(rk, fitfunc="exponential", numboot=args.n_boot, seed=1)
            f2 = mre.fit(rk, fitfunc="exponential_offset", numboot=args.n_boot, seed=1)
        return rk, f1, f2

    small = act[:2, :2000]
    with warnings.catch_warnings():  # warm-up calls (FFT plans; Numba in mrestimator)
        warnings.simplefilter("ignore")
        C.branching_ratio(small, kmax=20, n_boot=4)
        mre.coefficients(small, steps=(1, 20), method="ts", numboot=4)
    t_ours, r = timed(ours, args.repeats)
    t_peer, (rk, f1, f2) = timed(peer, args.peer_repeats)
    lo, hi = (float(np.exp(-1.0 / q)) for q in (f1.tauquantiles[0], f1.tauquantiles[-1]))
    lo2, hi2 = (float(np.exp(-1.0 / q)) for q in (f2.tauquantiles[0], f2.tauquantiles[-1]))
    e, o = r.fits["exp"], r.fits["exp_offset"]
    return [
        dict(
            task=f"MR exp: {args.trials}x{args.steps} steps, kmax {args.kmax}, "
            f"{args.n_boot} boot (both fits)",
            ours_s=t_ours,
            peer="mrestimator",
            peer_s=t_peer,
            ours_est=f"m={e.m:.5f} [{e.m_ci[0]:.5f}, {e.m_ci[1]:.5f}]",
            peer_est=f"m={f1.mre:.5f} [{min(lo, hi):.5f}, {max(lo, hi):.5f}]",
            within=bool(min(lo, hi) <= e.m <= max(lo, hi)),
        ),
        dict(
            task="MR exp_offset (same run)",
            ours_s=float("nan"),
            peer="mrestimator",
            peer_s=float("nan"),
            ours_est=f"m={o.m:.5f} [{o.m_ci[0]:.5f}, {o.m_ci[1]:.5f}]",
            peer_est=f"m={f2.mre:.5f} [{min(lo2, hi2):.5f}, {max(lo2, hi2):.5f}]",
            within=bool(min(lo2, hi2) <= o.m <= max(lo2, hi2)),
        ),
        dict(
            task="max |r_k(ours) - r_k(mrestimator)|",
            ours_s=float("nan"),
            peer="mrestimator",
            peer_s=float("nan"),
            ours_est=f"{np.max(np.abs(r.r_k - rk.coefficients)):.2e}",
            peer_est="",
            within=True,
        ),
    ]


def bench_powerlaw(args) -> list[dict]:
    import powerlaw

    av = C.galton_watson_avalanches(int(args.avalanches * 1.01) + 100, 1.0, max_size=10**6, seed=2)
    sizes = av.sizes[~av.truncated][: args.avalanches]

    def ours_fit():
        return C.fit_power_law(sizes, discrete=True, min_tail=2, compare=False)

    def ours_cmp():
        return C.fit_power_law(sizes, discrete=True, min_tail=2, compare=True)

    def peer_fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return powerlaw.Fit(sizes, discrete=True, estimate_discrete=False, verbose=False)

    C.fit_power_law(sizes[:2000], min_tail=2)  # warm-up: compile the scan
    t_fit, f = timed(ours_fit, args.repeats)
    t_cmp, fc = timed(ours_cmp, args.repeats)
    t_pfit, pf = timed(peer_fit, args.peer_repeats)
    t0 = time.perf_counter()
    peer_cmp = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for alt in ("exponential", "lognormal", "truncated_power_law"):
            peer_cmp[alt] = pf.distribution_compare(
                "power_law", alt, normalized_ratio=alt != "truncated_power_law"
            )
    t_pcmp = time.perf_counter() - t0
    rows = [
        dict(
            task=f"power law: xmin scan + discrete MLE, {sizes.size} sizes",
            ours_s=t_fit,
            peer="powerlaw",
            peer_s=t_pfit,
            ours_est=f"alpha={f.alpha:.4f}+-{f.sigma:.4f}, xmin={f.xmin:g}",
            peer_est=f"alpha={pf.alpha:.4f}+-{pf.sigma:.4f}, xmin={pf.xmin:g}",
            within=bool(abs(f.alpha - pf.alpha) <= pf.sigma),
        ),
        dict(
            task="power law: 3 likelihood-ratio comparisons",
            ours_s=t_cmp - t_fit,
            peer="powerlaw",
            peer_s=t_pcmp,
            ours_est="; ".join(f"{k[:5]} {v.favored}" for k, v in fc.comparisons.items()),
            peer_est="; ".join(f"{k[:5]} R={r:.3g} p={p:.2g}" for k, (r, p) in peer_cmp.items()),
            within=True,
        ),
    ]
    for k, v in fc.comparisons.items():
        r, p = peer_cmp[k]
        ours_r = v.R if v.nested else v.normalized_R
        rows.append(
            dict(
                task=f"  vs {k}: R (normalised for non-nested), p",
                ours_s=float("nan"),
                peer="powerlaw",
                peer_s=float("nan"),
                ours_est=f"R={ours_r:.4g} p={v.p:.3g}",
                peer_est=f"R={r:.4g} p={p:.3g}",
                within=bool(np.sign(ours_r) == np.sign(r) or min(v.p, p) > 0.1),
            )
        )
    return rows


def fmt(v: float) -> str:
    return f"{v:.3g}" if np.isfinite(v) else ""


def table(rows: list[dict]) -> str:
    lines = [
        "| task | infodyn s | peer | peer s | ratio | infodyn estimate | peer estimate "
        "| inside peer error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = r["peer_s"] / r["ours_s"] if np.isfinite(r["ours_s"] * r["peer_s"]) else None
        lines.append(
            f"| {r['task']} | {fmt(r['ours_s'])} | {r['peer']} | {fmt(r['peer_s'])} | "
            f"{'' if ratio is None else f'{ratio:.0f}x'} | {r['ours_est']} | {r['peer_est']} | "
            f"{'yes' if r['within'] else 'NO'} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--avalanches", type=int, default=100_000)
    p.add_argument("--kmax", type=int, default=250)
    p.add_argument("--n-boot", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--peer-repeats", type=int, default=1)
    p.add_argument("--only", choices=("mr", "powerlaw"), default=None)
    p.add_argument("--json", default=None, help="Also write the rows to this JSON file.")
    args = p.parse_args()
    rows = []
    if args.only in (None, "mr"):
        rows += bench_mr(args)
        print(table(rows), flush=True)
    if args.only in (None, "powerlaw"):
        rows += bench_powerlaw(args)
    print()
    print(table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
