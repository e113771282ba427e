"""Coverage and width of interval constructions on the fits saved by
``branching_studentized.py`` (issue 16), on the scale of m and of atanh(m) (the
variance-stabilising scale of a first-order autoregression's coefficient; end points mapped
back to m):

* ``current``: ``branching_ratio``'s interval (``mr_fit._interval``);
* ``jackknife t``: ``est +- t_{n-1} se_jack`` (Efron & Tibshirani 1993, ch. 11);
* ``bootstrap-sd t``: ``est +- t_{n-1} sd_boot sqrt(n/(n-1))``;
* ``boot-t (jackknife se)``: studentized bootstrap with the nested delete-one jackknife se of
  every replicate, ``t*_b = (m*_b - m^) / se_jack(b)``, interval
  ``[m^ - q_.975(t*) se_jack, m^ - q_.025(t*) se_jack]`` (Efron & Tibshirani 1993, sec. 12.5;
  Hall 1992, sec. 3.5);
* ``symmetric boot-t``: ``m^ +- q_.95(|t*|) se_jack`` (Hall 1988) - the same as calibrating the
  level of the jackknife t interval by the bootstrap.

    python benchmarks/branching_interval_eval.py FILE.npz [FILE.npz ...]
"""

from __future__ import annotations

import sys

import numpy as np
from harness import positional
from scipy import stats

from infodyn.criticality import branching as B

CI = 0.95
SCALES = {"m": (lambda x: x, lambda y: y), "atanh(m)": (np.arctanh, np.tanh)}


def jack_se(vals: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """Jackknife se from delete-one values ``vals`` (..., n) with multiplicities ``mult``."""
    n = mult.sum(-1, keepdims=True)
    v = np.where(mult > 0, vals, 0.0)
    mean = (mult * v).sum(-1, keepdims=True) / n
    ss = (mult * (v - mean) ** 2).sum(-1)
    return np.sqrt((n[..., 0] - 1) / n[..., 0] * ss)


def intervals(d, g) -> dict[str, np.ndarray]:
    est, boot, jack, bjack = (g(d[k]) for k in ("est", "boot", "jack", "bjack"))
    w = d["w"]
    n = jack.shape[1]
    tq9 = stats.t.ppf((1 + CI) / 2, n - 1)
    se = jack_se(jack, np.ones_like(jack))
    sdb = np.nanstd(boot, axis=1, ddof=1) * np.sqrt(n / (n - 1))
    t = (boot - est[:, None]) / jack_se(bjack, w)
    out = {
        "current": np.array([B._interval(e, b, CI, n) for e, b in zip(est, boot, strict=True)]).T
    }
    out["jackknife t"] = np.array([est - tq9 * se, est + tq9 * se])
    out["bootstrap-sd t"] = np.array([est - tq9 * sdb, est + tq9 * sdb])
    tq = np.array([np.nanquantile(row, [(1 - CI) / 2, (1 + CI) / 2]) for row in t])
    out["boot-t (jackknife se)"] = np.array([est - tq[:, 1] * se, est - tq[:, 0] * se])
    sym = np.array([np.nanquantile(np.abs(row), CI) for row in t])
    out["symmetric boot-t"] = np.array([est - sym * se, est + sym * se])
    return out


def main() -> None:
    positional(__doc__, 1)
    for f in sys.argv[1:]:
        d = np.load(f)
        m = float(d["m"])
        print(f"{f}: {d['est'].size} runs, a = {float(d['a'])}")
        print("| scale | interval | coverage | below m | above m | mean width |")
        print("|---|---|---:|---:|---:|---:|")
        for scale, (g, gi) in SCALES.items():
            for name, (lo, hi) in intervals(d, g).items():
                lo, hi = np.sort([gi(lo), gi(hi)], axis=0)
                cov = np.mean((lo <= m) & (m <= hi))
                print(
                    f"| {scale} | {name} | {cov:.3f} | {np.mean(hi < m):.3f} | "
                    f"{np.mean(lo > m):.3f} | {np.nanmean(hi - lo):.4f} |"
                )


if __name__ == "__main__":
    main()
