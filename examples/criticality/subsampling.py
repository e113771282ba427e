"""Acceptance run: naive vs MR branching estimates under subsampling, and avalanche statistics.

    .venv/bin/python examples/criticality/subsampling.py [--trials 10] [--steps 10000]
        [--avalanche-steps 1000000] [--out DIR]

Writes ``subsampling.md`` (tables) and ``subsampling.png`` (figure) into ``--out``: by default
next to this script (the record) for the recorded sizes, and ``runs/subsampling`` for others (a
smaller run never replaces the record). Part 1: driven branching processes (h = 10) at
m = 0.9, 0.98, 0.995 observed through binomial subsampling a = 1 ... 0.01; the naive slope
against its prediction
``m / (1 + (1-a)(1-m^2)/a)`` and the MR estimate with its 95 % interval. Part 2: avalanches of a
weakly driven process near criticality (m = 0.999, h = 0.002) binned at the mean inter-event
interval: power-law fits of sizes and durations, comparisons and the crackling relation.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

import infodyn.criticality as C
from infodyn.plotting import pyplot

HERE = Path(__file__).resolve().parent


def part1(trials: int, steps: int) -> tuple[list[dict], str]:
    rows = []
    for m in (0.9, 0.98, 0.995):
        for a in (1.0, 0.3, 0.1, 0.03, 0.01):
            act = C.simulate_branching_process(
                m, 10.0, steps, trials=trials, subsample=a, seed=int(1000 * m + 100 * a)
            )
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                t0 = time.perf_counter()
                mr = C.branching_ratio(act, method="mr")
                dt = time.perf_counter() - t0
                nv = C.branching_ratio(act, method="naive")
            rows.append(
                dict(
                    m=m,
                    a=a,
                    naive=nv.m,
                    naive_ci=nv.m_ci,
                    predicted=C.naive_subsampling_bias(m, a),
                    mr=mr.m,
                    mr_ci=mr.m_ci,
                    offset=mr.fits["exp_offset"].m,
                    kmax=int(mr.k[-1]),
                    seconds=dt,
                    warnings=len(w),
                )
            )
    lines = [
        "| m | a | naive | predicted naive | MR (exp) [95 % CI] | MR (exp_offset) | "
        "kmax | MR s | inside CI |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        inside = r["mr_ci"][0] <= r["m"] <= r["mr_ci"][1]
        lines.append(
            f"| {r['m']} | {r['a']} | {r['naive']:.4f} | {r['predicted']:.4f} | "
            f"{r['mr']:.4f} [{r['mr_ci'][0]:.4f}, {r['mr_ci'][1]:.4f}] | {r['offset']:.4f} | "
            f"{r['kmax']} | {r['seconds']:.2f} | {'yes' if inside else 'no'} |"
        )
    n_in = sum(r["mr_ci"][0] <= r["m"] <= r["mr_ci"][1] for r in rows)
    cov = coverage(trials, steps)
    lines += [
        "",
        f"{n_in} of {len(rows)} MR intervals (95 %, small-sample corrected bootstrap "
        f"over {trials} trials) contain the true m. The bootstrap does not see the "
        "O(tau/T) bias of trial-separated ('ts') slopes, which matters most at m = 0.995. "
        "(These intervals are without `branching_ratio(..., bias_correction=True)`: that "
        "option, off by default, removes this bias from the estimate and from every bootstrap "
        "replicate, so the interval is centred where it should be; `docs/criticality.md` gives "
        "its coverage.) "
        f"Coverage over {cov['n']} runs (the 15 settings x 2 more seeds): 'ts' "
        f"{cov['ts']:.0%}, stationary-mean 'sm' {cov['sm']:.0%}; mean error 'ts' "
        f"{cov['ts_err']:+.4f}, 'sm' {cov['sm_err']:+.4f}. The naive slope follows the "
        "subsampling prediction at every a.",
    ]
    return rows, "\n".join(lines)


def coverage(trials: int, steps: int) -> dict:
    """Fraction of MR intervals containing m, for 'ts' and 'sm', over fresh seeds."""
    hits: dict[str, list] = {"ts": [], "sm": []}
    errs: dict[str, list] = {"ts": [], "sm": []}
    for m in (0.9, 0.98, 0.995):
        for a in (1.0, 0.3, 0.1, 0.03, 0.01):
            for seed in (1, 2):
                act = C.simulate_branching_process(
                    m,
                    10.0,
                    steps,
                    trials=trials,
                    subsample=a,
                    seed=seed * 7 + int(1000 * m + 100 * a),
                )
                for cm in hits:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        r = C.branching_ratio(act, coefficient_method=cm)
                    hits[cm].append(r.m_ci[0] <= m <= r.m_ci[1])
                    errs[cm].append(r.m - m)
    return {
        "n": len(hits["ts"]),
        "ts": float(np.mean(hits["ts"])),
        "sm": float(np.mean(hits["sm"])),
        "ts_err": float(np.mean(errs["ts"])),
        "sm_err": float(np.mean(errs["sm"])),
    }


def part2(steps: int) -> tuple[dict, str]:
    act = C.simulate_branching_process(0.999, 0.002, steps, trials=4, seed=7)
    pa = C.population_activity(act, bin_ms="iei")
    av = C.avalanches(pa)
    fs = C.fit_power_law(av.sizes)
    fd = C.fit_power_law(av.durations)
    cr = C.crackling_relation(av, fs.alpha, fd.alpha, d_min=int(fd.xmin))
    mr = C.branching_ratio(act)
    lines = [
        f"4 trials x {steps} steps, m = 0.999, h = 0.002; MR m = {mr.m:.4f} "
        f"[{mr.m_ci[0]:.4f}, {mr.m_ci[1]:.4f}]; mean IEI {pa.info['mean_iei_ms']:.2f} ms -> bin "
        f"{pa.bin_ms:g} ms; {av.n} avalanches.",
        "",
        "| quantity | alpha +- sigma | xmin | n_tail | KS D | vs exponential | vs lognormal | "
        "vs cutoff |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, f in (("sizes", fs), ("durations", fd)):
        cmp = " | ".join(f"R={c.R:.3g}, p={c.p:.2g} ({c.favored})" for c in f.comparisons.values())
        lines.append(
            f"| {name} | {f.alpha:.3f} +- {f.sigma:.3f} | {f.xmin:g} | {f.n_tail} | "
            f"{f.D:.4f} | {cmp} |"
        )
    lines += [
        "",
        f"Crackling noise: (alpha_D - 1)/(alpha_S - 1) = {cr.gamma_predicted:.3f}; "
        f"fitted <S>(D) slope = {cr.gamma_fitted:.3f} +- {cr.gamma_fitted_stderr:.3f} over "
        f"D in {list(cr.duration_range)} (mean-field branching: 3/2, 2 and 2).",
    ]
    return dict(av=av, fs=fs, fd=fd, cr=cr), "\n".join(lines)


def figure(out: Path, rows: list[dict], p2: dict) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    for i, m in enumerate((0.9, 0.98, 0.995)):
        rr = [r for r in rows if r["m"] == m]
        a = np.array([r["a"] for r in rr])
        ax.semilogx(a, [r["naive"] for r in rr], "o", color=f"C{i}", mfc="none")
        ax.semilogx(a, [r["predicted"] for r in rr], ":", color=f"C{i}")
        lo = [r["mr"] - r["mr_ci"][0] for r in rr]
        hi = [r["mr_ci"][1] - r["mr"] for r in rr]
        ax.errorbar(
            a, [r["mr"] for r in rr], yerr=[lo, hi], fmt="s", color=f"C{i}", ms=4, label=f"m={m}"
        )
        ax.axhline(m, color=f"C{i}", lw=0.5)
    ax.set(
        xlabel="sampled fraction a",
        ylabel="estimate",
        title="MR (squares) vs naive (circles, dotted: theory)",
    )
    ax.legend(fontsize=7, frameon=False)
    for ax, vals, f, lab in (
        (axes[1], p2["av"].sizes, p2["fs"], "size S"),
        (axes[2], p2["av"].durations, p2["fd"], "duration D (bins)"),
    ):
        u, c = np.unique(vals, return_counts=True)
        ax.loglog(u, np.cumsum(c[::-1])[::-1] / vals.size, ".", ms=3, color="0.3")
        x = u[u >= f.xmin]
        ax.loglog(
            x, f.n_tail / f.n * f.ccdf(x), "C3", label=f"alpha={f.alpha:.2f}, xmin={f.xmin:g}"
        )
        ax.set(xlabel=lab, ylabel="P(X >= x)")
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(out / "subsampling.png", dpi=110)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--avalanche-steps", type=int, default=1_000_000)
    p.add_argument("--out", type=Path, default=None, help="folder of the .md and .png")
    args = p.parse_args()
    recorded = (args.trials, args.steps, args.avalanche_steps) == (10, 10_000, 1_000_000)
    out = args.out or (HERE if recorded else HERE.parents[1] / "runs" / "subsampling")
    out.mkdir(parents=True, exist_ok=True)
    rows, t1 = part1(args.trials, args.steps)
    p2, t2 = part2(args.avalanche_steps)
    figure(out, rows, p2)
    text = (
        "# Branching estimates under subsampling, and avalanches\n\n"
        "Made by `.venv/bin/python examples/criticality/subsampling.py "
        f"--trials {args.trials} --steps {args.steps} --avalanche-steps {args.avalanche_steps}`"
        " (figure: `subsampling.png`).\n\n"
        f"## Naive vs MR ({args.trials} trials x {args.steps} steps, h = 10, kmax automatic)\n\n"
        f"{t1}\n\n## Avalanches near criticality\n\n{t2}\n"
    )
    (out / "subsampling.md").write_text(text)
    print(text)
    print(f"-> {out}")


if __name__ == "__main__":
    main()
