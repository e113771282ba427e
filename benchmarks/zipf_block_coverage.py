"""The Zipf slope's bootstrap sd against the true sd over independent recordings (stop 57).

Two word processes, ``n`` rows each (``rank_range`` (1, 60), ``min_count`` 5):

- ``persistent``: each row keeps the last row's word with probability 0.9, else draws a Zipf
  word (alpha 1, 300 types): ``rho_k = 0.9^k`` for any function of the word, ``tau`` = 19;
- ``mixture``: on 70 % of the rows (independently) one dominant word; the others show a Zipf word
  that persists with probability 0.995 (a drift of small amplitude and 200-row runs).

For each, the sd of the slope over ``--truth`` recordings, then the mean bootstrap sd (the
interval's half width over z) over ``--boot`` other recordings for single rows (``block=1``),
the automatic blocks and fixed ones, as ratios to the truth. Run (from the repository root)::

    PYTHONPATH=src .venv/bin/python benchmarks/zipf_block_coverage.py
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from scipy.stats import norm

from infodyn.energy import zipf_slope

KW = {"rank_range": (1, 60), "min_count": 5, "seed": 2}


def words(n: int, seed: int, stay: float, dominant: float) -> np.ndarray:
    """Rows of 9-bit words: persistent Zipf words, each row replaced by word 0 w.p. dominant."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, 301)
    fresh = 1 + rng.choice(300, size=n, p=p / p.sum())
    new = rng.random(n) >= stay
    new[0] = True
    k = fresh[np.maximum.accumulate(np.where(new, np.arange(n), 0))]
    k = np.where(rng.random(n) < dominant, 0, k)
    return ((k[:, None] >> np.arange(9)) & 1).astype(np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--truth", type=int, default=200)
    ap.add_argument("--boot", type=int, default=30)
    args = ap.parse_args()
    z95 = norm.ppf(0.975)
    cases = {"persistent": (0.9, 0.0, [1, 200]), "mixture": (0.995, 0.7, [1, 200, 1000])}
    print("| process | tau (auto) | block (auto) | auto / truth | fixed blocks: ratio |")
    print("|---|---|---|---|---|")
    for name, (stay, dominant, fixed) in cases.items():
        truth = np.std(
            [
                zipf_slope(words(args.rows, s, stay, dominant), n_boot=0, **KW).slope
                for s in range(args.truth)
            ],
            ddof=1,
        )
        sds: dict[str, list[float]] = {}
        taus, blocks = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in range(10_000, 10_000 + args.boot):
                X = words(args.rows, s, stay, dominant)
                for b in ["auto", *fixed]:
                    z = zipf_slope(X, n_boot=150, block=b, **KW)
                    sds.setdefault(str(b), []).append((z.high - z.low) / (2 * z95))
                    if b == "auto":
                        taus.append(z.tau)
                        blocks.append(z.block)
        ratios = {b: np.mean(v) / truth for b, v in sds.items()}
        fixed_txt = ", ".join(f"{b}: {ratios[str(b)]:.2f}" for b in fixed)
        print(
            f"| {name} | {np.mean(taus):.1f} | {np.mean(blocks):.0f} | {ratios['auto']:.2f} | "
            f"{fixed_txt} |"
        )


if __name__ == "__main__":
    main()
