"""The Nemenman-Shafee-Bialek (NSB) entropy estimator.

NSB (Nemenman, Shafee & Bialek 2002, "Entropy and inference, revisited", NIPS 14) averages the
Dirichlet-posterior mean entropy over concentrations ``beta`` with a prior that is flat in the
prior-expected entropy ``xi(beta) = psi(K beta + 1) - psi(beta + 1)``:

    p(beta | n) ∝ [Gamma(K beta) / Gamma(N + K beta)] prod_i [Gamma(n_i + beta) / Gamma(beta)]
                  * dxi/dbeta,     dxi/dbeta = K psi_1(K beta + 1) - psi_1(beta + 1)

    E[H | n, beta] = psi(A + 1) - sum_i (a_i / A) psi(a_i + 1),  a_i = n_i + beta, A = N + K beta

and the second moment of H under Dirichlet(a) (Wolpert & Wolf 1995) gives the posterior standard
deviation. All sums over the K bins are done as (observed bins) + (K - K_obs) identical empty bins,
so K may be astronomically large (2**64 words of 64 binary units). The 1-D integral over
``log beta`` is done on a grid refined around the posterior mode.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import digamma, gammaln, polygamma

from infodyn.errors import InputError, require, require_finite_number
from infodyn.information._inputs import nonnegative_counts

_LN2 = np.log(2.0)


def _log_rising(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``log Gamma(a + n) - log Gamma(a)``, accurate also for ``a >> n`` (Stirling series)."""
    a = np.asarray(a, dtype=float)
    n = np.asarray(n, dtype=float)
    a, n = np.broadcast_arrays(a, n)
    out = np.empty(a.shape)
    big = a > 1e6
    small = ~big
    out[small] = gammaln(a[small] + n[small]) - gammaln(a[small])
    if np.any(big):
        ab, nb = a[big], n[big]
        b = ab + nb
        out[big] = (
            (ab - 0.5) * np.log1p(nb / ab)
            + nb * np.log(b)
            - nb
            + (1.0 / (12.0 * b) - 1.0 / (12.0 * ab))
            - ((1.0 / b) ** 3 - (1.0 / ab) ** 3) / 360.0  # b**3 overflows for b > 1e102
        )
    return out


def check_alphabet_size(alphabet_size: Any, n_observed: int) -> float:
    """An NSB alphabet size as a float: a whole number (it may exceed 2^64, so a float is
    accepted) at least the number of distinct words observed; else one :class:`InputError`."""
    if isinstance(alphabet_size, bool) or not isinstance(alphabet_size, int | float | np.number):
        raise InputError(f"alphabet_size must be a number of possible words, got {alphabet_size!r}")
    k = float(alphabet_size)
    if math.isnan(k) or k < 1 or (math.isfinite(k) and k != math.floor(k)):
        raise InputError(f"alphabet_size must be a whole number >= 1, got {alphabet_size!r}")
    if k < n_observed:
        raise InputError(
            f"alphabet_size={alphabet_size} is below the {n_observed} distinct words observed"
        )
    return k


def observed_counts(counts: Any, alphabet_size: Any) -> tuple[np.ndarray, float]:
    """The non-zero ``counts`` (a 1-D array of whole numbers >= 0) and the alphabet size as a
    float (:func:`check_alphabet_size`): -5 and NaN were dropped as zeros are, 2.5 words and
    fewer words than observed were taken."""
    n = nonnegative_counts(counts, allow_empty=True)
    require(bool(np.all(n == np.floor(n))), "counts must be whole numbers (counts of samples)")
    n = n[n > 0]
    return n, check_alphabet_size(alphabet_size, n.size)


def nsb_entropy(counts: np.ndarray, alphabet_size: float) -> tuple[float, float]:
    """NSB posterior mean and standard deviation of the entropy, in bits.

    ``counts`` are the observed word counts (zeros are ignored); ``alphabet_size`` is the number
    of possible words K (>= the number of observed words).
    """
    n, k = observed_counts(counts, alphabet_size)
    if n.size == 0:
        raise InputError("NSB needs at least one sample")
    require(math.isfinite(k), f"alphabet_size must be finite, got {alphabet_size!r}")
    if k < 2:
        return 0.0, 0.0
    big_n = float(n.sum())
    # group equal counts: the sums over bins only depend on the count histogram
    vals, mult = np.unique(n, return_counts=True)

    log_k = np.log(k)

    def logpost(t: np.ndarray) -> np.ndarray:
        beta = np.exp(t)
        kb = np.exp(t + log_k)  # K beta without the overflow of K * beta near K = 1e308
        log_ev = -_log_rising(kb, big_n)
        log_ev = log_ev + (mult[None, :] * _log_rising(beta[:, None], vals[None, :])).sum(axis=1)
        # dxi / K, so that K psi_1 does not overflow near K = 1e308
        dxi_k = polygamma(1, kb + 1.0) - polygamma(1, beta + 1.0) / k
        return log_ev + log_k + np.log(np.maximum(dxi_k, 1e-300)) + t

    # beta from K beta = 1e-8 (the data alone) to beta = 1e8 N (the prior alone, near uniform,
    # whatever K: the prior's density in log beta falls only as 1 / (2 beta), and where no word
    # repeats the evidence is flat up there; the grid stopped at beta = N for K >= 1e8, which
    # cut that weight off and put H 0.17 bit low at K = 2^30, N = 2): capped so that K beta
    # stays below 1e300 (K beta + N and its functions finite for K up to 1.8e308)
    lo = np.log(1e-8) - log_k
    hi = min(np.log(1e8 * max(big_n, 1.0)), np.log(1e300) - log_k)
    coarse = np.linspace(lo, hi, 1201)
    lp = logpost(coarse)
    i = int(np.argmax(lp))
    step = coarse[1] - coarse[0]
    fine = np.linspace(coarse[max(i - 3, 0)], coarse[min(i + 3, coarse.size - 1)], 1201)
    lpf = logpost(fine)
    j = int(np.argmax(lpf))
    t_star = fine[j]
    # curvature-based width around the mode, then a dense window of +-12 widths
    h = step / 50
    curv = logpost(np.array([t_star + h]))[0] - 2 * lpf[j] + logpost(np.array([t_star - h]))[0]
    width = np.sqrt(-h * h / curv) if curv < 0 else step
    width = float(np.clip(width, 1e-4, 5.0))
    window = np.linspace(t_star - 12 * width, t_star + 12 * width, 801)
    grid = np.unique(np.concatenate([coarse, fine, window]))
    grid = grid[(grid >= lo) & (grid <= hi)]
    lpg = logpost(grid)
    w = np.exp(lpg - lpg.max())
    h1, h2 = _moments_grouped(grid, vals, mult, big_n, k)
    z = np.trapezoid(w, grid)
    mean = np.trapezoid(w * h1, grid) / z
    second = np.trapezoid(w * h2, grid) / z
    var = max(second - mean**2, 0.0)
    return float(mean / _LN2), float(np.sqrt(var) / _LN2)


def _moments_grouped(
    t: np.ndarray, vals: np.ndarray, mult: np.ndarray, big_n: float, k: float
) -> tuple[np.ndarray, np.ndarray]:
    """E[H] and E[H^2] (nats) under Dirichlet(n + beta), ``beta = exp(t)``, with bins grouped by
    their count (``mult[i]`` bins hold ``vals[i]``; the ``k - sum(mult)`` others are empty).

    Every sum is taken over ``a_i / A`` (``A = N + K beta``) rather than ``a_i``: the squares of
    the raw sums overflow once ``K beta`` passes about 1e154 (K = 1e150 gave NaN)."""
    beta = np.exp(t)
    b = beta[:, None]
    big_a = big_n + np.exp(t + np.log(k))  # K beta: k * beta overflows near K = 1e308
    A = big_a[:, None]
    a = vals[None, :] + b
    p = a / A  # an observed bin's share
    p0 = beta / big_a  # each empty bin's share
    w0 = (k - mult.sum()) * p0  # all empty bins together (<= 1)
    h1 = digamma(big_a + 1.0) - (mult * p * digamma(a + 1.0)).sum(1) - w0 * digamma(beta + 1.0)
    psi_a2 = digamma(A + 2.0)
    tri_a2 = polygamma(1, big_a + 2.0)
    d = digamma(a + 1.0) - psi_a2
    d0 = digamma(b + 1.0)[:, 0] - psi_a2[:, 0]
    u = (mult * p * d).sum(1) + w0 * d0  # s_ad / A
    s_p2d2 = (mult * p**2 * d**2).sum(1) + w0 * p0 * d0**2  # s_a2d2 / A^2
    s_p2 = (mult * p**2).sum(1) + w0 * p0  # s_a2 / A^2
    j = (digamma(a + 2.0) - psi_a2) ** 2 + polygamma(1, a + 2.0) - tri_a2[:, None]
    j0 = (digamma(beta + 2.0) - psi_a2[:, 0]) ** 2 + polygamma(1, beta + 2.0) - tri_a2
    diag = (mult * p * ((a + 1.0) / A) * j).sum(1) + w0 * ((beta + 1.0) / big_a) * j0
    h2 = (u**2 - s_p2d2 - tri_a2 * (1.0 - s_p2) + diag) * (big_a / (big_a + 1.0))
    return h1, h2


def dirichlet_entropy_moments(counts: np.ndarray, beta: float, alphabet_size: float):
    """E[H] and E[H^2] (nats) under Dirichlet(counts + beta) over ``alphabet_size`` bins.

    Exposed for testing the closed forms against Monte Carlo samples of the Dirichlet.
    """
    n, k = observed_counts(counts, alphabet_size)
    require_finite_number("beta", beta)
    require(beta > 0, f"beta must be > 0, got {beta!r}")  # -1: NaN with NumPy's warning
    vals, mult = np.unique(n, return_counts=True)
    h1, h2 = _moments_grouped(np.array([np.log(beta)]), vals, mult, float(n.sum()), k)
    return float(h1[0]), float(h2[0])
