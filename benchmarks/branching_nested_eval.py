"""Coverage and width of nested-bootstrap intervals on the fits saved by
branching_nested_bootstrap.py (issue 16).

* ``current``: ``branching_ratio``'s interval (``mr_fit._interval``) from the outer replicates;
* ``boot-t (inner-bootstrap se)``: studentized bootstrap, ``t*_b = (m*_b - m^) / sd(inner_b)``,
  interval ``[m^ - q_.975(t*) sd(boot), m^ - q_.025(t*) sd(boot)]`` (Efron & Tibshirani 1993,
  sec. 12.5; Hall 1992, sec. 3.5);
* ``symmetric boot-t``: ``m^ +- q_.95(|t*|) sd(boot)`` (Hall 1988);
* ``calibrated current``: the current construction at tail levels calibrated by the double
  bootstrap (Hall 1992, sec. 3.11; Beran 1987 prepivoting; DiCiccio & Efron 1996, sec. 7): for each
  outer replicate, the tail level ``u_b`` at which its own current interval (from its inner
  replicates) just reaches ``m^``; the final interval uses the 2.5 % and 97.5 % quantiles of
  ``u_b`` in place of 0.025 and 0.975.

    python benchmarks/branching_nested_eval.py FILE.npz [FILE.npz ...]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from harness import positional
from scipy import stats

from infodyn.criticality import branching as B

CI = 0.95


def main() -> None:
    positional(__doc__, 1)
    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN inner rows (failed fits)
    for fname in sys.argv[1:]:
        d = np.load(fname)
        est, boot, inner, m = d["est"], d["boot"], d["inner"], float(d["m"])
        n = 10
        f = float(stats.t.ppf(0.975, n - 1) / stats.norm.ppf(0.975) * np.sqrt(n / (n - 1)))
        res = {}
        res["current"] = np.array(
            [B._interval(e, b, CI, n) for e, b in zip(est, boot, strict=True)]
        ).T
        se = np.nanstd(boot, axis=1, ddof=1)
        sei = np.nanstd(inner, axis=2, ddof=1)
        t = (boot - est[:, None]) / sei
        tq = np.array([np.nanquantile(r, [0.025, 0.975]) for r in t])
        res["boot-t (inner-bootstrap se)"] = np.array([est - tq[:, 1] * se, est - tq[:, 0] * se])
        sym = np.array([np.nanquantile(np.abs(r), CI) for r in t])
        res["symmetric boot-t"] = np.array([est - sym * se, est + sym * se])
        med = np.nanmedian(inner, axis=2)
        z = med + (est[:, None] - boot) / f
        u = (
            np.sum(inner < z[..., None], axis=2) + 0.5 * np.sum(inner == z[..., None], axis=2) + 0.5
        ) / (inner.shape[2] + 1)
        cal = []
        for e, b, uu in zip(est, boot, u, strict=True):
            plo, phi = np.quantile(uu, [0.025, 0.975])
            lo, hi = np.nanquantile(b, [plo, phi])
            mb = np.nanmedian(b)
            cal.append((e + f * (lo - mb), e + f * (hi - mb)))
        res["calibrated current"] = np.array(cal).T
        print(
            f"{fname}: {est.size} runs, a = {float(d['a'])}, "
            f"B = {boot.shape[1]}, BI = {inner.shape[2]}"
        )
        print("| interval | coverage | below m | above m | mean width |")
        print("|---|---:|---:|---:|---:|")
        for name, (lo, hi) in res.items():
            cov = np.mean((lo <= m) & (m <= hi))
            print(
                f"| {name} | {cov:.3f} | {np.mean(hi < m):.3f} | {np.mean(lo > m):.3f} | "
                f"{np.nanmean(hi - lo):.4f} |"
            )


if __name__ == "__main__":
    main()
