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
not independent, and resampling single rows then gives too narrow an interval (a third of the
true spread when each row keeps the last row's word with probability 0.9). So the rows are
resampled in blocks by default: the circular block bootstrap (Politis & Romano 1992, in
*Exploring the Limits of Bootstrap*, pp. 263-270) with blocks as long as the slope's
correlations need. To first order the slope is a sum over the rows,
``slope ~ const + sum_t g(w_t)`` with ``g(w) = (log r_w - mean log r) / (S_xx c_w)`` for a word
of the fit (rank ``r_w``, count ``c_w``, ``S_xx`` the sum of squares of the centred log ranks;
0 for the other words), so its variance is ``n Var(g) tau`` with

    tau = 1 + 2 sum_{k=1}^{M} rho_k,

``rho_k`` the autocorrelation of the series ``g(w_t)`` (by FFT) and ``M`` Sokal's window, the
smallest lag with ``M >= 5 tau(M)`` (Sokal 1997, *Monte Carlo Methods in Statistical Mechanics*,
sec. 3). Blocks are ``b = ceil(5 tau)`` rows. The block bootstrap's variance is low by about
``sum_k |k| rho_k / (b tau)`` (Kunsch 1989, Ann. Stat. 17:1217): a tenth for correlations
``rho_k = s^k``. A correlation that decays slowly with a small amplitude is missed by the
window (its tail is at the noise level of ``rho_k``): words that persist for 200 rows on 30 %
of the rows, the others one independent word, gave ``tau`` 22 and an interval of 0.71 of the
true spread (``block=1000``: 0.99; ``benchmarks/zipf_block_coverage.py``). Where such slow
drifts are likely, compare longer blocks. Weighting the rows by ``g`` counts the rare words of
the fit as much as they weigh on the slope (the words' own autocorrelation is dominated by the
most frequent words). ``block=1`` resamples single rows (a multinomial draw of the word counts: the
former interval, for rows that are independent draws); an integer sets the block length.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.fft as sfft
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
    tau: float = float("nan")  # the slope terms' autocorrelation time (rows), block "auto"

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


def _slope_terms(ids: np.ndarray, counts: np.ndarray, lo: int, hi: int, min_count: int):
    """Per row, the first-order change of the slope per occurrence of its word (``g``, module
    docstring)."""
    order = np.argsort(-counts, kind="stable")
    c = counts[order]
    r = np.arange(1, c.size + 1)
    keep = (r >= lo) & (r <= hi) & (c >= min_count)
    x = np.log(r[keep])
    x -= x.mean()
    sxx = float(x @ x)
    # words of equal count share their ranks in any order: one more occurrence of any of them
    # moves the slope alike, by the mean of their centred log ranks
    _, tie, n_tied = np.unique(c[keep], return_inverse=True, return_counts=True)
    x = (np.bincount(tie, weights=x) / n_tied)[tie]
    g = np.zeros(counts.size)
    g[order[keep]] = x / (sxx * c[keep])
    return g[ids]


def _correlation_time(y: np.ndarray) -> tuple[float, bool]:
    """``tau`` of the series ``y`` over Sokal's window (module docstring), and whether the
    window closed within a tenth of the series (autocorrelation by FFT)."""
    n = y.size
    y = y - y.mean()
    size = sfft.next_fast_len(2 * n, real=True)
    f = sfft.rfft(y, size)
    acf = sfft.irfft(f.real**2 + f.imag**2, size)[: n // 10 + 1]
    if n < 20 or not acf[0] > 0:
        return 1.0, n >= 20
    k = np.arange(1, acf.size)
    tau = np.maximum(1.0 + 2.0 * np.cumsum(acf[1:] / acf[0]), 1.0)
    closed = k >= 5.0 * tau
    return float(tau[int(np.argmax(closed)) if closed.any() else -1]), bool(closed.any())


def _block_length(y: np.ndarray, block: int | str) -> tuple[int, float]:
    """The bootstrap's block length (rows), and the slope terms' ``tau`` where it is chosen
    from them; warns when the rows hold fewer than 20 blocks."""
    n = y.size
    if block == "auto":
        tau, closed = _correlation_time(y)
        b = min(int(np.ceil(5.0 * tau)), n)
        if not closed or n < 20 * b:
            warnings.warn(
                f"the slope's terms stay correlated over about {tau:.0f} rows (blocks of {b}): "
                f"{n} rows hold {n / b:.0f} such blocks, too few for a reliable Zipf interval "
                "(none below 2); record longer",
                UserWarning,
                stacklevel=3,
            )
        return b, tau
    if n < 20 * block:
        warnings.warn(
            f"{n} rows hold {n / block:.0f} blocks of {block}: too few for a reliable Zipf "
            "interval (none below 2); give a shorter block",
            UserWarning,
            stacklevel=3,
        )
    return int(block), float("nan")


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
    length in rows: ``"auto"`` (from the autocorrelation of the slope's terms, module
    docstring), an integer, or 1 for rows that are independent draws. A warning says when the
    rows hold fewer than 20 blocks; below 2 the interval is NaN.
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
        b, tau = _block_length(_slope_terms(ids, counts, lo, hi, min_count), block)
        if b == 1:  # independent rows: a multinomial draw of the counts (in decreasing order,
            p = np.sort(counts)[::-1] / counts.sum()  # as before blocks: the same numbers)
            draws = (rng.multinomial(counts.sum(), p) for _ in range(n_boot))
        else:
            draws = (_block_counts(ids, counts.size, b, rng) for _ in range(n_boot))
        boots = np.array([_slope(c, lo, hi, min_count)[0] for c in draws])
        boots = boots[np.isfinite(boots)]
        if boots.size > 1 and ids.size >= 2 * b:  # (circular blocks of all rows: no spread)
            half = float(ndtri((1 + level) / 2) * boots.std(ddof=1))
            low, high = slope - half, slope + half
    return ZipfFit(slope, low, high, (lo, hi), used, int(counts.sum()), int(counts.size), b, tau)
