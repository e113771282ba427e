"""Zipf's law for population words: rank-frequency of binary patterns and its log-log slope.

Sort the distinct words of a recording (or of model samples) by frequency, most frequent first;
Zipf's law is ``f(r) ~ r^(-alpha)`` with alpha = 1 (Zipf 1949; for neural population words Mora &
Bialek 2011, J. Stat. Phys. 144:268, fig. 1; Tkacik et al. 2015, PNAS 112:11508, fig. 1). The
slope is the least-squares line of ``log f`` on ``log r`` over a rank window (default ranks
1-1000), using only words seen at least ``min_count`` times (rarer words sit on the flat tail of
the sampling floor). Its interval is the normal bootstrap interval ``slope +- z sd`` with sd
the spread of the slope over resamples of the words. (Percentile intervals are biased here:
resampling moves words across the ``min_count`` threshold, which shifts the whole bootstrap
distribution away from the estimate.)

Consecutive rows of a recording (time bins, overlapping windows, a Gibbs chain's samples) are
not independent, and resampling single rows then gives too narrow an interval (with words that
persist for 19 rows on average, about a third of the true spread). So the rows are resampled in
blocks by default: the circular block bootstrap (Politis & Romano 1992, in *Exploring the
Limits of Bootstrap*, pp. 263-270), blocks of ``b = ceil(5 tau)`` rows, where ``tau`` is the
integrated autocorrelation time of the word sequence,

    tau = 1 + 2 sum_{k=1}^{M} rho_k,   rho_k = (P(w_t = w_{t+k}) - sum_w p_w^2) / (1 - sum_w p_w^2),

the autocorrelation of the words' one-hot vectors, summed over the automatic window: the
smallest ``M >= 5 tau(M)`` (Sokal 1997, *Monte Carlo Methods in Statistical Mechanics*, eq.
3.19). With blocks of five such times the block bootstrap's variance is low by about
``1 / 10`` (Kunsch 1989, Ann. Stat. 17:1217, the bias ``-sum |k| gamma_k / b``). ``block=1``
resamples single rows (a multinomial draw of the word counts: the former interval, for rows
that are independent draws); an integer sets the block length.
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
    block: int = 0  # the bootstrap's block length in rows (0: no bootstrap)
    tau: float = float("nan")  # the words' autocorrelation time (rows), where block was "auto"

    def to_dict(self) -> dict[str, Any]:
        return {
            "slope": self.slope,
            "interval": [self.low, self.high],
            "rank_range": list(self.rank_range),
            "n_ranks_fitted": self.n_ranks,
            "n_words": self.n_words,
            "n_distinct": self.n_distinct,
            "block_rows": self.block,
            "autocorrelation_time_rows": self.tau,
        }


def word_counts(X: Any) -> np.ndarray:
    """Counts of the distinct rows of X, in decreasing order."""
    return np.sort(_word_ids(as_binary(X))[1])[::-1].astype(np.int64)


def _word_ids(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The index of each row's word among the distinct rows, and the distinct rows' counts."""
    _, ids, counts = np.unique(
        np.packbits(X, axis=1), axis=0, return_inverse=True, return_counts=True
    )
    return ids.reshape(-1), counts


def _autocorrelation_time(ids: Any) -> tuple[float, bool]:
    """Integrated autocorrelation time (rows) of a sequence of word indices (module docstring)
    with Sokal's window, and whether the window closed before a tenth of the sequence."""
    ids = np.asarray(ids).reshape(-1)
    n = ids.size
    p = np.bincount(ids) / n
    chance = float(p @ p)
    if n < 2 or chance >= 1.0:
        return 1.0, True
    tau, k = 1.0, 0
    while k < n // 10:
        k += 1
        same = np.count_nonzero(ids[:-k] == ids[k:]) / (n - k)
        tau += 2.0 * (same - chance) / (1.0 - chance)
        if k >= 5.0 * tau:
            return max(tau, 1.0), True
    return max(tau, 1.0), False


def _block_length(ids: np.ndarray, block: int | str) -> tuple[int, float]:
    """The bootstrap's block length (rows) and the autocorrelation time it came from."""
    if block != "auto":
        return int(block), float("nan")
    n = ids.size
    tau, closed = _autocorrelation_time(ids)
    b = min(int(np.ceil(5.0 * tau)), n)
    if not closed or n < 20 * b:
        warnings.warn(
            f"the words stay correlated over about {tau:.0f} rows (blocks of {b}): {n} rows "
            f"hold {n / b:.0f} such blocks, too few for a reliable Zipf interval; record longer",
            UserWarning,
            stacklevel=3,
        )
    return b, tau


def _block_counts(ids: np.ndarray, n_words: int, b: int, rng: np.random.Generator) -> np.ndarray:
    """Word counts of one circular block resample of the rows (blocks of ``b`` rows)."""
    n = ids.size
    starts = rng.integers(0, n, size=-(-n // b))
    rows = (starts[:, None] + np.arange(b)).reshape(-1)[:n] % n
    return np.bincount(ids[rows], minlength=n_words)


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
    block: int | str = "auto",
) -> ZipfFit:
    """The Zipf slope (module docstring) of the words of X with a bootstrap interval.

    The rows of X are taken in their order (time bins); ``block`` is the bootstrap's block
    length in rows: ``"auto"`` (five integrated autocorrelation times; a warning when the rows
    hold fewer than 20 such blocks), an integer, or 1 for rows that are independent draws.
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
    ids, counts = _word_ids(as_binary(X))
    if not (isinstance(block, str) and block == "auto"):  # (an array's != is no bool)
        require(
            isinstance(block, int | np.integer) and not isinstance(block, bool),
            f"block must be 'auto' or a whole number of rows, got {block!r}",
        )
        block = positive_int(block, "block")
        require(block <= ids.size, f"block must be at most the {ids.size} rows, got {block}")
    slope, used = _slope(counts, lo, hi, min_count)
    low = high = float("nan")
    b, tau = 0, float("nan")
    if np.isnan(slope):
        warnings.warn(
            f"only {used} ranks in {rank_range} occur >= {min_count} times: no Zipf slope",
            UserWarning,
            stacklevel=2,
        )
    elif n_boot:
        rng = np.random.default_rng(rng_seed(seed))
        b, tau = _block_length(ids, block)
        if b == 1:  # independent rows: a multinomial draw of the counts (in decreasing order,
            p = np.sort(counts)[::-1] / counts.sum()  # as before blocks: the same numbers)
            draws = (rng.multinomial(counts.sum(), p) for _ in range(n_boot))
        else:
            draws = (_block_counts(ids, counts.size, b, rng) for _ in range(n_boot))
        boots = np.array([_slope(c, lo, hi, min_count)[0] for c in draws])
        boots = boots[np.isfinite(boots)]
        if boots.size > 1:
            half = float(ndtri((1 + level) / 2) * boots.std(ddof=1))
            low, high = slope - half, slope + half
    return ZipfFit(slope, low, high, (lo, hi), used, int(counts.sum()), int(counts.size), b, tau)
