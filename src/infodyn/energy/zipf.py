"""Zipf's law for population words: rank-frequency of binary patterns and its log-log slope.

Sort the distinct words of a recording (or of model samples) by frequency, most frequent first;
Zipf's law is ``f(r) ~ r^(-alpha)`` with alpha = 1 (Zipf 1949; for neural population words Mora &
Bialek 2011, J. Stat. Phys. 144:268, fig. 1; Tkacik et al. 2015, PNAS 112:11508, fig. 1). The
slope is the least-squares line of ``log f`` on ``log r`` over a rank window (default ranks
1-1000), using only words seen at least ``min_count`` times (rarer words sit on the flat tail of
the sampling floor). Its interval is the normal bootstrap interval ``slope +- z sd`` with sd
the spread of the slope over multinomial resamples of the word counts. (Percentile intervals
are biased here: resampling moves words across the ``min_count`` threshold, which shifts the
whole bootstrap distribution away from the estimate.)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

from infodyn.energy._checks import as_binary, positive_int, rng_seed
from infodyn.errors import is_finite_number, require


@dataclass(frozen=True)
class ZipfFit:
    """Slope of log f on log r over ``rank_range`` with its bootstrap interval (``level``)."""

    slope: float
    low: float
    high: float
    rank_range: tuple[int, int]
    n_ranks: int
    n_words: int
    n_distinct: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "slope": self.slope,
            "interval": [self.low, self.high],
            "rank_range": list(self.rank_range),
            "n_ranks_fitted": self.n_ranks,
            "n_words": self.n_words,
            "n_distinct": self.n_distinct,
        }


def word_counts(X: Any) -> np.ndarray:
    """Counts of the distinct rows of X, in decreasing order."""
    X = as_binary(X)
    _, counts = np.unique(np.packbits(X, axis=1), axis=0, return_counts=True)
    return np.sort(counts)[::-1].astype(np.int64)


def rank_frequency(X: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(ranks 1..D, frequencies)`` of the D distinct words of X, most frequent first."""
    c = word_counts(X)
    return np.arange(1, c.size + 1), c / c.sum()


def _slope(counts: np.ndarray, lo: int, hi: int, min_count: int) -> tuple[float, int]:
    c = np.sort(counts[counts > 0])[::-1]
    r = np.arange(1, c.size + 1)
    keep = (r >= lo) & (r <= hi) & (c >= min_count)
    if keep.sum() < 3:
        return float("nan"), int(keep.sum())
    return float(np.polyfit(np.log(r[keep]), np.log(c[keep]), 1)[0]), int(keep.sum())


def zipf_slope(
    X: Any,
    rank_range: tuple[int, int] = (1, 1000),
    min_count: int = 2,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> ZipfFit:
    """The Zipf slope (module docstring) of the words of X with a bootstrap interval.

    Needs at least 3 ranks in the window with ``min_count`` or more occurrences; otherwise the
    slope is NaN (with a warning).
    """
    require(  # (1, 10, 5) was read as (1, 10); NaN was a raw ValueError, None a TypeError
        isinstance(rank_range, tuple | list)
        and len(rank_range) == 2
        and all(isinstance(v, int | np.integer) for v in rank_range),
        f"rank_range must be two whole numbers (lo, hi), got {rank_range!r}",
    )
    lo, hi = (int(rank_range[0]), int(rank_range[1]))
    require(1 <= lo < hi, f"rank_range must be (lo, hi) with 1 <= lo < hi, got {rank_range}")
    min_count = positive_int(min_count, "min_count")
    n_boot = positive_int(n_boot, "n_boot", 0)
    require(is_finite_number(level) and 0 < level < 1, f"level must be in (0, 1), got {level!r}")
    counts = word_counts(X)
    slope, used = _slope(counts, lo, hi, min_count)
    low = high = float("nan")
    if np.isnan(slope):
        warnings.warn(
            f"only {used} ranks in {rank_range} occur >= {min_count} times: no Zipf slope",
            UserWarning,
            stacklevel=2,
        )
    elif n_boot:
        rng = np.random.default_rng(rng_seed(seed))
        p = counts / counts.sum()
        boots = np.array(
            [_slope(rng.multinomial(counts.sum(), p), lo, hi, min_count)[0] for _ in range(n_boot)]
        )
        boots = boots[np.isfinite(boots)]
        if boots.size > 1:
            half = float(ndtri((1 + level) / 2) * boots.std(ddof=1))
            low, high = slope - half, slope + half
    return ZipfFit(slope, low, high, (lo, hi), used, int(counts.sum()), int(counts.size))
