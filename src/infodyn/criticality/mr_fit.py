"""Multistep-regression fitting: the slopes ``r_k``, the fits of ``b m^k (+ c)``, the bootstrap.

The estimator built on it, :func:`~infodyn.criticality.branching.branching_ratio`, and its
result types live in :mod:`infodyn.criticality.branching`.

Slopes (``T`` steps per trial, ``N`` trials, lag ``k``; front ``x = A_{0..T-k-1}``, back
``y = A_{k..T-1}``):

* ``"ts"`` (trial-separated): ``r_k = (1/N) sum_i Cov_i(x, y) / Var_i(x)`` with each trial's own
  front and back means;
* ``"sm"`` (stationary mean): one mean over all trials,
  ``r_k = [sum_i sum_t x y / (N(T-k)) - mu_x mu_y] / [sum_i sum_t x^2 / (N(T-k)) - mu_x^2]``.

All lag products come from one FFT per trial (``O(N T log T)`` for all lags at once) plus prefix
sums, so ``k_max`` costs nothing extra. Bootstrap replicates resample trials with replacement
(contiguous blocks of a single trial) and reuse those per-trial sums; fits are profile least
squares (the linear parameters solved in closed form) on a grid of ``ln m`` refined by golden
section, vectorised over replicates. Confidence intervals: bootstrap percentiles centred on the
estimate and widened by the small-sample factor of a bootstrap over few trials (``_interval``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import fft as sfft
from scipy import stats

from infodyn.criticality._common import as_counts, warn
from infodyn.criticality._mr_bias import expected_slopes
from infodyn.errors import require, require_choice, whole_number
from infodyn.memory import require_memory


# ----------------------------------------------------------------------------- slopes r_k
@dataclass(frozen=True)
class _LagSums:
    """Per-trial sums for lags ``k``: ``sxy[i,k] = sum_t x_t x_{t+k}``, front/back sums."""

    k: np.ndarray  # (K,)
    length: np.ndarray  # (K,) T - k
    sxy: np.ndarray  # (N, K)
    f1: np.ndarray  # (N, K) sum of the front part
    f2: np.ndarray  # (N, K) sum of squares of the front part
    b1: np.ndarray  # (N, K) sum of the back part
    flat: np.ndarray  # (N, K) the front part is constant (its variance is exactly 0)
    level: np.ndarray  # (N,) the first value of each trial


def _lag_sums(a: np.ndarray, kmax: int) -> _LagSums:
    """All lag sums for ``k = 1..kmax``; the data are centred by one constant (shift-invariant)."""
    n, t = a.shape
    require_memory(  # centred copy, spectrum, products, cumulative sums: 10^7 bins took 0.6 GB
        (48 if kmax <= 4 else 64) * n * (t + kmax),
        f"the lag sums of {n:,} trial(s) x {t:,} bins",
        "a coarser bin (--bin-ms), or fewer or shorter trials",
    )
    x = a - a.mean()
    k = np.arange(1, kmax + 1)
    if kmax <= 4:  # direct products are cheaper than an FFT for the naive estimator
        sxy = np.stack([np.einsum("ij,ij->i", x[:, :-j], x[:, j:]) for j in k], axis=1)
    else:
        nfft = sfft.next_fast_len(t + kmax, real=True)
        spec = sfft.rfft(x, nfft, axis=1)
        sxy = sfft.irfft(spec.real**2 + spec.imag**2, nfft, axis=1)[:, 1 : kmax + 1]
    c1 = np.cumsum(x, axis=1)
    c2 = np.cumsum(x * x, axis=1)
    total = c1[:, -1:]
    f1 = c1[:, t - 1 - k]  # sum_{t < T-k}
    f2 = c2[:, t - 1 - k]
    b1 = total - c1[:, k - 1]  # sum_{t >= k}
    # constancy found exactly: sums of squares minus squared sums leave round-off (~1e-17)
    # where the front part does not vary, and a slope of round-off over round-off
    changed = a != a[:, :1]
    first_change = np.where(changed.any(axis=1), changed.argmax(axis=1), t)
    flat = (t - k)[None, :] <= first_change[:, None]
    return _LagSums(k, (t - k).astype(float), sxy, f1, f2, b1, flat, a[:, 0].copy())


def _slopes_ts(s: _LagSums, w: np.ndarray | None = None) -> np.ndarray:
    """Trial-separated slopes; ``w`` (R, N) trial multiplicities -> (R, K), else (K,)."""
    L = s.length
    mx, my = s.f1 / L, s.b1 / L
    cov = s.sxy / L - mx * my
    var = np.where(s.flat, 0.0, s.f2 / L - mx * mx)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(var > 0, cov / np.where(var > 0, var, 1.0), np.nan)
    ok = np.isfinite(r)
    r0 = np.where(ok, r, 0.0)
    if w is None:
        return r0.sum(0) / np.maximum(ok.sum(0), 1) + np.where(ok.any(0), 0.0, np.nan)
    num = w @ r0
    den = w @ ok.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _slopes_sm(s: _LagSums, w: np.ndarray | None = None) -> np.ndarray:
    """Stationary-mean slopes; ``w`` (R, N) trial multiplicities -> (R, K), else (K,)."""
    if w is None:
        w = np.ones((1, s.sxy.shape[0]))
        squeeze = True
    else:
        squeeze = False
    norm = w.sum(1, keepdims=True) * s.length
    mx, my = (w @ s.f1) / norm, (w @ s.b1) / norm
    cov = (w @ s.sxy) / norm - mx * my
    used = w > 0  # the pooled front part is constant when every trial's is, at one level
    levels = np.where(used, s.level, np.inf).min(1) == np.where(used, s.level, -np.inf).max(1)
    pooled_flat = ((used @ ~s.flat) == 0) & levels[:, None]
    var = np.where(pooled_flat, 0.0, (w @ s.f2) / norm - mx * mx)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(var > 0, cov / np.where(var > 0, var, 1.0), np.nan)
    return r[0] if squeeze else r


_SLOPES = {"ts": _slopes_ts, "sm": _slopes_sm}


def regression_slopes(
    activity: Any, kmax: int, method: str = "ts"
) -> tuple[np.ndarray, np.ndarray]:
    """Slopes ``r_k`` of ``A_{t+k}`` on ``A_t`` for ``k = 1..kmax``; returns ``(k, r_k)``
    (Wilting & Priesemann 2018; the "ts" and "sm" slopes as in mrestimator, Spitzner et al. 2021,
    PLoS ONE 16:e0249447).

    ``method`` is ``"ts"`` (trial-separated) or ``"sm"`` (stationary mean); see the module
    docstring for the formulas.
    """
    a, _ = as_counts(activity)
    require_choice("method", method, _SLOPES)
    kmax = whole_number(kmax, "kmax", minimum=1)  # 1.5 ran as 1; '2' and True went in
    require(1 <= kmax <= a.shape[1] - 2, f"kmax must lie in [1, T-2={a.shape[1] - 2}]")
    s = _lag_sums(a, kmax)
    r = _SLOPES[method](s)
    if np.isnan(r).any():
        lags = s.k[np.isnan(r)]
        which = "every k" if lags.size == r.size else f"k = {_lag_list(lags)}"
        warn(
            f"r_k is NaN for {which}: A_t does not vary over the first T - k bins of any "
            "trial (constant activity), so no slope is defined there"
        )
    return s.k, r


def _lag_list(lags: np.ndarray) -> str:
    """``5, 6, 7`` or, for more than four lags, ``5, 6, 7, ..., 40``."""
    ks = [str(int(k)) for k in lags]
    return ", ".join(ks if len(ks) <= 4 else [*ks[:3], "...", ks[-1]])


# ----------------------------------------------------------------------------- fits
@lru_cache(maxsize=64)
def _lnm_grid(kmax: int) -> np.ndarray:
    """Grid of ``ln m``: tau from 0.05 to 1e7 bins (m < 1) and a short supercritical range."""
    sub = -np.geomspace(20.0, 1e-7, 500)
    top = min(np.log(1.5), 30.0 / max(kmax, 1))
    sup = np.geomspace(1e-7, top, 60)
    grid = np.concatenate([sub, sup])
    grid.flags.writeable = False
    return grid


def _profile_sse(
    lnm: np.ndarray, r: np.ndarray, k: np.ndarray, w: np.ndarray, offset: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted SSE of ``r`` (R, K) minimised over the linear parameters ``b`` (and ``c``).

    ``lnm`` is either a grid (G,) evaluated for every row (-> (R, G)) or one value per row
    given as (R, 1) (-> (R, 1)). Returns ``(sse, b, c)``; ``b`` is constrained to ``>= 0`` for
    the pure exponential.
    """
    rw = r * w
    if lnm.ndim == 1:  # grid: matrix products
        e = np.exp(lnm[:, None] * k)  # (G, K)
        u = rw @ e.T  # (R, G)
        a = ((w * e) * e).sum(-1)[None, :]  # (1, G)
        s1 = (w * e).sum(-1)[None, :]
    else:  # paired: one ln m per row
        e = np.exp(lnm * k)  # (R, K)
        we = w * e
        u = np.einsum("rk,rk->r", rw, e)[:, None]  # (R, 1)
        a = np.einsum("rk,rk->r", we, e)[:, None]
        s1 = we.sum(-1, keepdims=True)
    ss = (rw * r).sum(-1, keepdims=True)  # (R, 1)
    if not offset:
        b = np.where(u > 0, u / np.maximum(a, 1e-300), 0.0)
        sse = ss - b * u
        return sse, b, np.zeros_like(sse)
    s0 = w.sum()
    v = rw.sum(-1, keepdims=True)
    det = a * s0 - s1 * s1
    good = det > 1e-12 * a * s0
    safe = np.where(good, det, 1.0)
    b = np.where(good, (s0 * u - s1 * v) / safe, 0.0)
    c = np.where(good, (a * v - s1 * u) / safe, v / s0)
    sse = ss - b * u - c * v
    return sse, b, c


def _fit_lnm(
    r: np.ndarray,
    k: np.ndarray,
    w: np.ndarray,
    offset: bool,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares ``ln m`` (and b, c, sse) for each row of ``r`` (R, K).

    Without ``start``: the best point of a grid, refined by :func:`_local_lnm` (the secant
    method on the SSE's derivative, which settles in a few steps) where that ends inside the
    grid point's bracket, else by golden section over the bracket (32 steps: the refinement
    had been golden section for every row, 1.6x the profile evaluations of a bias-corrected
    bootstrap-t fit). With ``start`` (R,), a nearby solution (a refit of slightly changed
    rows, as in the bias correction's fixed-point iteration): the minimum next to it by
    :func:`_local_lnm`; rows where that fails get the full search.
    """
    if start is not None:
        x, ok = _local_lnm(np.asarray(start, dtype=float), r, k, w, offset)
        if not np.all(ok):
            x[~ok] = _fit_lnm(r[~ok], k, w, offset)[0]
        s, b, c = _paired(x, r, k, w, offset)
        return x, b, c, s
    grid = _lnm_grid(int(k[-1]))
    sse, _, _ = _profile_sse(grid, r, k, w, offset)
    sse = np.where(np.isfinite(sse), sse, np.inf)
    g = np.argmin(sse, axis=1)
    x, ok = _local_lnm(grid[g], r, k, w, offset)
    ok &= (x >= grid[np.maximum(g - 1, 0)]) & (x <= grid[np.minimum(g + 1, grid.size - 1)])
    if not np.all(ok):
        x[~ok] = _golden_lnm(grid, g[~ok], r[~ok], k, w, offset)
    s, b, c = _paired(x, r, k, w, offset)
    return x, b, c, s


def _golden_lnm(
    grid: np.ndarray, g: np.ndarray, r: np.ndarray, k: np.ndarray, w: np.ndarray, offset: bool
) -> np.ndarray:
    """The minimum of each row's profile SSE between the grid points next to ``grid[g]``."""
    lo = grid[np.maximum(g - 1, 0)]
    hi = grid[np.minimum(g + 1, grid.size - 1)]
    invphi = (np.sqrt(5.0) - 1.0) / 2.0

    def obj(x: np.ndarray) -> np.ndarray:
        s, _, _ = _paired(x, r, k, w, offset)
        return np.where(np.isfinite(s), s, np.inf)

    x1 = hi - invphi * (hi - lo)
    x2 = lo + invphi * (hi - lo)
    f1, f2 = obj(x1), obj(x2)
    for _ in range(32):  # bracket shrinks by 0.618^32 ~ 2e-7 of a grid step
        left = f1 < f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x2n = np.where(left, x1, lo + invphi * (hi - lo))
        x1n = np.where(left, hi - invphi * (hi - lo), x2)
        fnew = obj(np.where(left, x1n, x2n))
        f1, f2 = np.where(left, fnew, f2), np.where(left, f1, fnew)
        x1, x2 = x1n, x2n
    return 0.5 * (lo + hi)


def _dsse(
    x: np.ndarray, r: np.ndarray, k: np.ndarray, w: np.ndarray, offset: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Profile SSE ``S(x)`` and its derivative in ``x = ln m`` for one ``x`` per row.

    At the optimal ``b, c`` the envelope theorem gives
    ``S'(x) = -2 b sum_k w_k k e^{x k} (r_k - b e^{x k} - c)``.
    """
    s, b, c = _profile_sse(x[:, None], r, k, w, offset)
    e = np.exp(x[:, None] * k)
    res = r - b * e - c
    return s[:, 0], -2.0 * b[:, 0] * np.einsum("rk,rk->r", w * k * res, e)


def _local_lnm(
    x0: np.ndarray, r: np.ndarray, k: np.ndarray, w: np.ndarray, offset: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The minimum of the profile SSE next to ``x0`` by the secant method on ``S'(x) = 0``.

    Returns ``(x, ok)``; ``ok`` is False where the iteration met non-positive curvature, did
    not settle to 1e-11 within 16 steps, moved more than a quarter of ``|x0|`` (plus 0.01)
    away, left the grid's range or ended above ``S(x0)``: those rows need the full search.
    A step far out of the grid's range overflows ``exp``; such a row ends non-finite and
    is marked, so NumPy's warnings about it would only alarm the user.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _secant_lnm(x0, r, k, w, offset)


def _secant_lnm(
    x0: np.ndarray, r: np.ndarray, k: np.ndarray, w: np.ndarray, offset: bool
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_local_lnm`'s iteration; a row that settles (or fails) stops there, and only the
    others are evaluated again (all rows had been, until the last one settled)."""
    grid = _lnm_grid(int(k[-1]))
    s0, ga = _dsse(x0, r, k, w, offset)
    xa = x0.copy()
    xb = x0 + 1e-4 * (np.abs(x0) + 1e-3)
    _, gb = _dsse(xb, r, k, w, offset)
    bad = np.zeros(x0.shape, dtype=bool)
    done = bad.copy()
    live = np.arange(x0.size)
    for _ in range(16):
        dx, dg = xb[live] - xa[live], gb[live] - ga[live]
        curved = dg * dx > 0
        step = np.where(curved, -gb[live] * dx / np.where(curved, dg, 1.0), 0.0)
        xa[live], ga[live] = xb[live], gb[live]
        xb[live] += step
        bad[live[~curved]] = True
        done[live[np.abs(step) < 1e-11]] = True
        live = live[~done[live] & ~bad[live]]
        if live.size == 0:
            break
        gb[live] = _dsse(xb[live], r[live], k, w, offset)[1]
    s1, _ = _dsse(xb, r, k, w, offset)
    ok = done & ~bad & np.isfinite(xb) & (np.abs(xb - x0) <= 0.25 * np.abs(x0) + 0.01)
    ok &= (xb >= grid[0]) & (xb <= grid[-1]) & (s1 <= s0 + 1e-12 * np.abs(s0))
    return xb, ok


def _paired(
    x: np.ndarray, r: np.ndarray, k: np.ndarray, w: np.ndarray, offset: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Profile SSE with one ``ln m`` per row of ``r``."""
    s, b, c = _profile_sse(x[:, None], r, k, w, offset)
    return s[:, 0], b[:, 0], c[:, 0]


# ----------------------------------------------------------------------------- window, bootstrap
def _auto_kmax(a: np.ndarray, method: str) -> tuple[int, list[str], int | None]:
    """Fit window: ``k_max = 5 tau`` from a first MR pass on ``k = 1..min(T/10, 1000)``;
    returns it (kept within ``min(10, k0)..k0``), its notes, and the 5 tau itself (None where
    the first pass resolves no decay)."""
    notes: list[str] = []
    t = a.shape[1]
    k0 = int(min(max(t // 10, 2), 1000, t - 2))
    s = _lag_sums(a, k0)
    r = _SLOPES[method](s)
    ok = np.isfinite(r)
    if ok.sum() < 2:
        return k0, notes, None
    x, *_ = _fit_lnm(r[None, ok], s.k[ok].astype(float), np.ones(ok.sum()), False)
    lnm = float(x[0])
    if lnm >= 0:
        return k0, notes, None
    kmax = int(np.ceil(5.0 / -lnm))
    if kmax > k0:
        notes.append(
            f"the autocorrelation time (~{-1 / lnm:.0f} bins) is long for {t} bins per trial: "
            f"kmax limited to {k0}, below the recommended 5 tau"
        )
    return int(np.clip(kmax, min(10, k0), k0)), notes, kmax


def _bootstrap_units(a: np.ndarray, kmax: int) -> tuple[np.ndarray | None, str]:
    """Rows to resample: the trials, or contiguous blocks of them when there are < 10 trials."""
    n, t = a.shape
    if n >= 10:
        return a, ""
    pieces = int(np.ceil(10 / n))
    blen = t // pieces
    if blen >= max(4 * kmax, 20):
        blocks = a[:, : pieces * blen].reshape(n * pieces, blen)
        return blocks, ""
    if n >= 2:
        return a, f"bootstrap over only {n} trials: the intervals are unreliable"
    return None, "a single trial too short to cut into 10 blocks of 4 kmax: no intervals"


def _boot_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Trial multiplicities (n_boot, n) of resampling n trials with replacement."""
    idx = rng.integers(0, n, size=(n_boot, n))
    w = np.zeros((n_boot, n))
    np.add.at(w, (np.arange(n_boot)[:, None], idx), 1.0)
    return w


def require_bootstrap_memory(
    n_boot: int, n_inner: int, kmax: int, n_units: int, corrected: bool = False
) -> None:
    """Refuse a bootstrap that does not fit in memory: every replicate's slopes and fits are
    held at once (measured 66 KB each at kmax = 1000, 1 + ``n_inner`` times that with inner
    replicates, 1.6 times with the bias correction's iterations, ``corrected``): the command
    line's ``--n-boot`` 10^6 ran out of memory unannounced."""
    per_replicate = (96 if corrected else 64) * (kmax + _lnm_grid(kmax).size + n_units)
    require_memory(
        n_boot * (1 + n_inner) * per_replicate,
        f"the bootstrap of {n_boot:,} replicates"
        + (f" x {n_inner} inner ones" if n_inner else "")
        + f" of {kmax} slopes",
        "lower n_boot or kmax"
        + (", or n_inner (the bootstrap-t's inner replicates)" if n_inner else ""),
    )


def _interval(est: float, boot: np.ndarray, ci: float, n_units: int) -> tuple[float, float]:
    """Bootstrap interval centred on the estimate, widened for few resampled units.

    ``est + f (Q_p(boot) - median(boot))`` for ``p = (1 -+ ci)/2``: the percentile shape (it
    keeps the skew near m = 1) moved onto the estimate (block replicates are biased relative to
    full trials) and scaled by ``f = t_{n-1}(p) / z(p) * sqrt(n / (n - 1))``, the small-sample
    correction of a bootstrap over ``n`` units (the expanded percentile interval of Hesterberg
    2015, Am. Stat. 69:371; bootstrap intervals: Efron & Tibshirani 1993, ch. 12-13); ``f`` is
    1.2 for n = 10 at 95 % and tends to 1. Centring the percentile shape on the estimate is this
    library's choice.
    """
    boot = boot[np.isfinite(boot)]
    p = ((1 - ci) / 2, (1 + ci) / 2)
    lo, hi = np.quantile(boot, p)
    med = np.median(boot)
    n = max(int(n_units), 2)
    f = float(stats.t.ppf(p[1], n - 1) / stats.norm.ppf(p[1]) * np.sqrt(n / (n - 1)))
    return float(est + f * (lo - med)), float(est + f * (hi - med))


def _naive_corrected(r1: np.ndarray, length: int, n_pool: int) -> np.ndarray:
    """Lag-1 slopes corrected for the finite-trial bias: ``m`` with ``E[r_1](1, m) = r_1``
    (full observation, b = 1) by fixed-point iteration from ``m = r_1``."""
    r1 = np.asarray(r1, dtype=float)
    m = r1.copy()
    one = np.ones(1)
    for _ in range(20):
        e = expected_slopes(np.ones_like(m), m, one, float(length), float(n_pool))[:, 0]
        m = np.where(np.isfinite(e), r1 - (e - m), m)
    return np.where(np.abs(r1 - m) > 0.25, np.nan, m)  # the expansion needs a small correction


def _tau(lnm: np.ndarray | float, dt: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return -dt / np.asarray(lnm, dtype=float)


def _tau_interval(m_ci: np.ndarray, dt: float, m: float) -> tuple[float, float]:
    """tau interval from an m interval (tau = -dt / ln m increases in m on (0, 1) and on
    (1, inf)). An interval from below 1 to 1 or above leaves tau unbounded above, and where
    ``m`` itself is >= 1 (tau < 0, a growing process) it holds negative values too: (-inf, inf)
    (it was (tau_lo, inf), without the estimate); one wholly above 1 is finite and negative.
    An interval from m = 0 (the MR interval is cut there) gives tau from 0."""
    if not np.all(np.isfinite(m_ci)) or m_ci[0] < 0 or m_ci[1] <= 0:
        return (float("nan"), float("nan"))
    if m >= 1 and m_ci[0] < 1 <= m_ci[1]:  # straddling 1 around a growing estimate
        return (float("-inf"), float("inf"))
    lo, hi = (_tau(np.log(v), dt) if v > 0 else 0.0 for v in m_ci)  # m -> 0: tau -> 0
    if m_ci[0] < 1 <= m_ci[1]:  # the interval reaches the supercritical side: unbounded above
        hi = np.inf
    return (float(lo), float(hi))
