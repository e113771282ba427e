"""Branching-ratio estimators: the naive regression slope and multistep regression (MR).

For population activity ``A_t`` the linear autoregressive representation of a driven branching
process is ``<A_{t+1} | A_t> = m A_t + h``. The **naive** estimator is the regression slope of
``A_{t+1}`` on ``A_t``; when only a fraction ``a`` of the units is observed it is biased towards
zero by ``b = 1 / (1 + (1 - a)(1 - m^2) / a)`` (Wilting & Priesemann 2018, Nat. Commun. 9:2325).

The **multistep regression** (MR) estimator regresses ``A_{t+k}`` on ``A_t`` for lags
``k = 1..k_max``. Under subsampling the slopes obey ``r_k = b m^k`` with the unknown ``b``
absorbing the bias, so a fit of ``r_k`` recovers ``m`` and the autocorrelation time
``tau = -dt / ln m``. Two fits are made: ``b m^k`` ("exp") and ``b m^k + c`` ("exp_offset", which
tolerates slow non-stationarities); a warning is raised when they disagree.

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

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import fft as sfft

from infodyn.criticality._common import as_counts, warn
from infodyn.criticality._mr_bias import fit_corrected
from infodyn.errors import InputError, require

_FITS = ("exp", "exp_offset")


# ----------------------------------------------------------------------------- result types
@dataclass(frozen=True)
class ExpFit:
    """One fit of ``r_k``: ``b m^k`` (``c`` = 0) or ``b m^k + c``; intervals from the bootstrap."""

    name: str
    m: float
    tau: float
    b: float
    c: float
    m_ci: tuple[float, float]
    tau_ci: tuple[float, float]
    residual: float
    m_boot: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))

    def curve(self, k: Any) -> np.ndarray:
        """The fitted ``r_k`` at lags ``k``."""
        return self.b * self.m ** np.asarray(k, dtype=float) + self.c

    def to_dict(self) -> dict[str, Any]:
        return {
            "m": self.m,
            "tau_ms": self.tau,
            "b": self.b,
            "c": self.c,
            "m_ci": list(self.m_ci),
            "tau_ms_ci": list(self.tau_ci),
            "weighted_sse": self.residual,
        }


@dataclass(frozen=True)
class BranchingResult:
    """Branching ratio ``m`` and autocorrelation time ``tau`` (ms) with the fit details.

    ``k`` are the lags (in bins), ``r_k`` the regression slopes, ``r_k_stderr`` their bootstrap
    standard errors, ``fits`` the ``"exp"`` and ``"exp_offset"`` fits (MR only). ``m``/``tau``
    come from ``fits[primary]`` (MR) or from ``r_1`` (naive). ``meaningful`` is False (and ``m``
    NaN) where the data cannot support an estimate; ``warnings`` says why.
    """

    m: float
    tau: float
    m_ci: tuple[float, float]
    tau_ci: tuple[float, float]
    method: str
    coefficient_method: str
    dt: float
    k: np.ndarray
    r_k: np.ndarray
    r_k_stderr: np.ndarray
    fits: dict[str, ExpFit]
    primary: str
    n_trials: int
    n_bins: int
    n_boot: int
    ci_level: float
    mean_activity: float
    meaningful: bool
    fits_disagree: bool
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (lags and slopes included)."""
        return {
            "m": _f(self.m),
            "tau_ms": _f(self.tau),
            "m_ci": [_f(v) for v in self.m_ci],
            "tau_ms_ci": [_f(v) for v in self.tau_ci],
            "ci_level": self.ci_level,
            "method": self.method,
            "coefficient_method": self.coefficient_method,
            "primary_fit": self.primary,
            "dt_ms": self.dt,
            "kmax": int(self.k[-1]) if self.k.size else 0,
            "n_trials": self.n_trials,
            "n_bins": self.n_bins,
            "n_boot": self.n_boot,
            "mean_activity": self.mean_activity,
            "meaningful": self.meaningful,
            "fits_disagree": self.fits_disagree,
            "fits": {k: v.to_dict() for k, v in self.fits.items()},
            "k": self.k.tolist(),
            "r_k": [_f(v) for v in self.r_k],
            "r_k_stderr": [_f(v) for v in self.r_k_stderr],
            "warnings": list(self.warnings),
        }


def _f(v: float) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


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


def _lag_sums(a: np.ndarray, kmax: int) -> _LagSums:
    """All lag sums for ``k = 1..kmax``; the data are centred by one constant (shift-invariant)."""
    n, t = a.shape
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
    return _LagSums(k, (t - k).astype(float), sxy, f1, f2, b1)


def _slopes_ts(s: _LagSums, w: np.ndarray | None = None) -> np.ndarray:
    """Trial-separated slopes; ``w`` (R, N) trial multiplicities -> (R, K), else (K,)."""
    L = s.length
    mx, my = s.f1 / L, s.b1 / L
    cov = s.sxy / L - mx * my
    var = s.f2 / L - mx * mx
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
    var = (w @ s.f2) / norm - mx * mx
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(var > 0, cov / np.where(var > 0, var, 1.0), np.nan)
    return r[0] if squeeze else r


_SLOPES = {"ts": _slopes_ts, "sm": _slopes_sm}


def regression_slopes(
    activity: Any, kmax: int, method: str = "ts"
) -> tuple[np.ndarray, np.ndarray]:
    """Slopes ``r_k`` of ``A_{t+k}`` on ``A_t`` for ``k = 1..kmax``; returns ``(k, r_k)``.

    ``method`` is ``"ts"`` (trial-separated) or ``"sm"`` (stationary mean); see the module
    docstring for the formulas.
    """
    a, _ = as_counts(activity)
    require(method in _SLOPES, f"coefficient method must be 'ts' or 'sm', got {method!r}")
    kmax = int(kmax)
    require(1 <= kmax <= a.shape[1] - 2, f"kmax must lie in [1, T-2={a.shape[1] - 2}]")
    s = _lag_sums(a, kmax)
    return s.k, _SLOPES[method](s)


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
    r: np.ndarray, k: np.ndarray, w: np.ndarray, offset: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares ``ln m`` (and b, c, sse) for each row of ``r`` (R, K)."""
    grid = _lnm_grid(int(k[-1]))
    sse, _, _ = _profile_sse(grid, r, k, w, offset)
    sse = np.where(np.isfinite(sse), sse, np.inf)
    g = np.argmin(sse, axis=1)
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
    x = 0.5 * (lo + hi)
    s, b, c = _paired(x, r, k, w, offset)
    return x, b, c, s


def _paired(
    x: np.ndarray, r: np.ndarray, k: np.ndarray, w: np.ndarray, offset: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Profile SSE with one ``ln m`` per row of ``r``."""
    s, b, c = _profile_sse(x[:, None], r, k, w, offset)
    return s[:, 0], b[:, 0], c[:, 0]


# ----------------------------------------------------------------------------- the estimator
def _auto_kmax(a: np.ndarray, method: str) -> tuple[int, list[str]]:
    """Fit window: ``k_max = 5 tau`` from a first MR pass on ``k = 1..min(T/10, 1000)``."""
    notes: list[str] = []
    t = a.shape[1]
    k0 = int(min(max(t // 10, 2), 1000, t - 2))
    s = _lag_sums(a, k0)
    r = _SLOPES[method](s)
    ok = np.isfinite(r)
    if ok.sum() < 2:
        return k0, notes
    x, *_ = _fit_lnm(r[None, ok], s.k[ok].astype(float), np.ones(ok.sum()), False)
    lnm = float(x[0])
    if lnm >= 0:
        return k0, notes
    kmax = int(np.ceil(5.0 / -lnm))
    if kmax > k0:
        notes.append(
            f"the autocorrelation time (~{-1 / lnm:.0f} bins) is long for {t} bins per trial: "
            f"kmax limited to {k0}, below the recommended 5 tau"
        )
    return int(np.clip(kmax, min(10, k0), k0)), notes


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


def _nan_result(
    method: str,
    cm: str,
    dt: float,
    a: np.ndarray,
    k: np.ndarray,
    msg: list[str],
    n_boot: int,
    ci: float,
    primary: str,
) -> BranchingResult:
    for m in msg:
        warn(m)
    nan = float("nan")
    return BranchingResult(
        m=nan,
        tau=nan,
        m_ci=(nan, nan),
        tau_ci=(nan, nan),
        method=method,
        coefficient_method=cm,
        dt=dt,
        k=k,
        r_k=np.full(k.size, nan),
        r_k_stderr=np.full(k.size, nan),
        fits={},
        primary=primary,
        n_trials=a.shape[0],
        n_bins=a.shape[1],
        n_boot=n_boot,
        ci_level=ci,
        mean_activity=float(a.mean()),
        meaningful=False,
        fits_disagree=False,
        warnings=msg,
    )


def _tau(lnm: np.ndarray | float, dt: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return -dt / np.asarray(lnm, dtype=float)


def branching_ratio(
    activity: Any,
    method: str = "mr",
    kmax: int | None = None,
    *,
    dt: float | None = None,
    coefficient_method: str = "ts",
    fit: str = "exp",
    n_boot: int = 100,
    ci: float = 0.95,
    min_events: int = 20,
    weighted: bool = False,
    seed: int = 0,
    kmin: int = 1,
    bias_correction: bool = False,
    signed: bool = False,
) -> BranchingResult:
    """Estimate the branching ratio ``m`` and autocorrelation time ``tau = -dt / ln m``.

    Parameters
    ----------
    activity
        Population counts ``(T,)`` or ``(trials, T)`` (non-negative), a
        :class:`~infodyn.criticality.activity.PopulationActivity` or a SpikeTrain.
    method
        ``"mr"`` (multistep regression, robust to subsampling) or ``"naive"`` (slope at lag 1).
    kmax
        Largest lag for MR, in bins. ``None`` chooses ``5 tau`` from a first pass (capped by
        ``T/10`` and 1000). Must satisfy ``kmax <= T - 10``.
    dt
        Bin width in ms for ``tau`` (default: from a PopulationActivity/SpikeTrain, else 1).
    coefficient_method
        ``"ts"`` trial-separated or ``"sm"`` stationary mean (module docstring).
    fit
        Which MR fit gives ``m``: ``"exp"`` (``b m^k``) or ``"exp_offset"`` (``b m^k + c``).
    n_boot
        Bootstrap replicates: trials are resampled with replacement; with fewer than 10 trials
        each trial is first cut into contiguous blocks (>= 4 kmax bins) so that at least 10
        units are resampled. 0 skips the intervals.
    ci
        Confidence level of the bootstrap intervals.
    min_events
        Fewer non-empty bins than this (or constant activity) gives NaN and a warning.
    weighted
        Weight the fits by ``1/se_k^2`` from the bootstrap (floored at a tenth of the median
        ``se``); the default is ordinary least squares, which is robust when few trials make
        ``se_k`` noisy.
    seed
        Seed of the bootstrap.
    kmin
        Smallest lag of the MR fit (like mrestimator's ``steps=(kmin, kmax)``): slopes
        ``r_k`` are still reported from k = 1, the fits use ``kmin <= k <= kmax`` only.
    bias_correction
        Fit the finite-trial expectation of the slopes instead of ``b m^k`` (module
        ``_mr_bias``): the per-trial mean subtraction and the ratio bias shrink every slope by
        ``O(tau / T)``, the same in every bootstrap replicate, so without the correction short
        trials give an ``m`` that is too small and an interval that misses the true value. With
        it the estimate and each replicate are corrected and the interval covers at about its
        nominal rate on simulated branching processes (tested). Off by default (the reported
        numbers of existing analyses do not move).
    signed
        Accept real-valued signals with negative values (e.g. mean-subtracted activity; the
        slopes are shift-invariant). By default negative counts raise ``InputError``.

    Returns
    -------
    BranchingResult
        Degenerate activity (all zero, constant, almost no events) never raises: the result
        is NaN, ``meaningful`` False, and a :class:`~infodyn.criticality.CriticalityWarning`
        says why. Malformed input (negative counts, NaN, wrong shape) and impossible
        parameters raise :class:`~infodyn.InputError`.
    """
    a, dt_known = as_counts(activity, allow_negative=signed)
    require(method in ("mr", "naive"), f"method must be 'mr' or 'naive', got {method!r}")
    require(
        coefficient_method in _SLOPES,
        f"coefficient_method must be 'ts' or 'sm', got {coefficient_method!r}",
    )
    require(fit in _FITS, f"fit must be 'exp' or 'exp_offset', got {fit!r}")
    require(0.0 < ci < 1.0, f"ci must lie in (0, 1), got {ci}")
    require(int(n_boot) >= 0, "n_boot must be >= 0")
    n_boot = int(n_boot)
    dt = float(dt if dt is not None else (dt_known if dt_known is not None else 1.0))
    require(np.isfinite(dt) and dt > 0, f"dt must be a positive number of ms, got {dt}")
    n, t = a.shape
    kmin = int(kmin)
    require(kmin >= 1, f"kmin must be >= 1, got {kmin}")
    if method == "naive":
        require(kmax in (None, 1), "the naive estimator uses lag 1 only; leave kmax unset")
        require(kmin == 1, "the naive estimator uses lag 1 only; leave kmin unset")
    elif kmax is not None:
        kmax = int(kmax)
        require(kmax >= 2, f"kmax must be >= 2 for the MR estimator, got {kmax}")
        require(
            kmax <= t - 10,
            f"kmax={kmax} is too large for {t} bins per trial (need kmax <= T - 10)",
        )
        require(kmin <= kmax - 2, f"kmin={kmin} leaves fewer than 3 lags up to kmax={kmax}")
    primary = fit if method == "mr" else "naive"
    # --- degenerate activity: warn, do not crash
    problems: list[str] = []
    nonempty = int(np.count_nonzero(a))
    if t < 12:
        problems.append(f"only {t} bins per trial: too short to estimate a branching ratio")
    elif nonempty == 0:
        problems.append("the activity is all zero: the branching ratio is not defined")
    elif np.all(a.var(axis=1) == 0):
        problems.append("the activity is constant: the branching ratio is not defined")
    elif nonempty < min_events:
        problems.append(
            f"only {nonempty} non-empty bins (< min_events={min_events}): "
            "the branching-ratio estimate is not meaningful"
        )
    if problems:
        kk = np.arange(1, 2 if method == "naive" else (kmax or 1) + 1)
        return _nan_result(method, coefficient_method, dt, a, kk, problems, n_boot, ci, primary)
    notes: list[str] = []
    flat = a.var(axis=1) == 0
    if np.any(flat) and n > 1:
        notes.append(f"{int(flat.sum())} of {n} trials have constant activity and are ignored")
        a = a[~flat]
        n = a.shape[0]
    if method == "naive":
        kmax_eff = 1
    elif kmax is None:
        kmax_eff, more = _auto_kmax(a, coefficient_method)
        notes += more
        kmax_eff = min(max(kmax_eff, kmin + 2), t - 2)
    else:
        kmax_eff = kmax
        if kmax > t // 2:
            notes.append(f"kmax={kmax} exceeds half the trial length ({t}): slopes are noisy")
    slopes = _SLOPES[coefficient_method]
    sums = _lag_sums(a, kmax_eff)
    r = slopes(sums)
    # --- bootstrap replicates of the slopes
    rng = np.random.default_rng(seed)
    r_boot = np.empty((0, kmax_eff))
    n_units = 0  # number of resampled units (trials or blocks)
    unit_len = t  # their length
    if n_boot > 0:
        units, why = _bootstrap_units(a, kmax_eff)
        if units is None:
            notes.append(why)
        else:
            if why:
                notes.append(why)
            n_units, unit_len = units.shape
            usums = sums if units is a else _lag_sums(units, kmax_eff)
            r_boot = slopes(usums, _boot_weights(units.shape[0], n_boot, rng))
    have_boot = r_boot.shape[0] >= 2
    if have_boot:
        se = np.nanstd(r_boot, axis=0, ddof=1)
    else:
        se = np.full(kmax_eff, np.nan)
    k = sums.k
    if method == "naive":
        m = float(r[0])
        if not np.isfinite(m):
            return _nan_result(
                method,
                coefficient_method,
                dt,
                a,
                k,
                notes + ["the lag-1 slope is undefined"],
                n_boot,
                ci,
                primary,
            )
        m_boot = r_boot[:, 0]
        if bias_correction:
            pool = coefficient_method == "sm"
            m = float(_naive_corrected(r[:1], t, n if pool else 1)[0])
            m_boot = _naive_corrected(m_boot, unit_len, n_units if pool else 1)
        m_ci = _interval(m, m_boot, ci, n_units) if have_boot else (np.nan, np.nan)
        tau = float(_tau(np.log(m), dt)) if m > 0 else float("nan")
        tau_ci = _tau_interval(np.array(m_ci), dt)
        if m <= 0:
            notes.append(f"the lag-1 slope is {m:.3g} <= 0: tau is undefined")
        for s in notes:
            warn(s)
        return BranchingResult(
            m=m,
            tau=tau,
            m_ci=_pair(m_ci),
            tau_ci=tau_ci,
            method=method,
            coefficient_method=coefficient_method,
            dt=dt,
            k=k,
            r_k=r,
            r_k_stderr=se,
            fits={},
            primary=primary,
            n_trials=n,
            n_bins=t,
            n_boot=n_boot,
            ci_level=ci,
            mean_activity=float(a.mean()),
            meaningful=True,
            fits_disagree=False,
            warnings=notes,
        )
    # --- MR fits, weighted by 1/se^2 where the bootstrap gives errors
    ok = np.isfinite(r) & (k >= kmin)
    if ok.sum() < 3:
        return _nan_result(
            method,
            coefficient_method,
            dt,
            a,
            k,
            notes + ["fewer than 3 finite slopes r_k: the MR estimate is not meaningful"],
            n_boot,
            ci,
            primary,
        )
    kf = k[ok].astype(float)
    if weighted and have_boot and np.all(np.isfinite(se[ok])) and np.all(se[ok] > 0):
        w = 1.0 / np.maximum(se[ok], 0.1 * np.median(se[ok])) ** 2
        w = w / w.mean()
    else:
        w = np.ones(ok.sum())
    fits: dict[str, ExpFit] = {}
    pool = coefficient_method == "sm"
    for name in _FITS:
        offset = name == "exp_offset"

        def plain(rows: np.ndarray, offset: bool = offset) -> tuple[np.ndarray, ...]:
            return _fit_lnm(rows, kf, w, offset)

        def fitted(rows: np.ndarray, length: int, n_pool: int) -> tuple[np.ndarray, ...]:
            if not bias_correction:
                return plain(rows)
            return fit_corrected(plain, rows, kf, float(length), float(n_pool))

        x, b, c, sse = fitted(r[None, ok], t, n if pool else 1)
        if have_boot:
            rb = r_boot[:, ok]
            good = np.all(np.isfinite(rb), axis=1)
            xb = (
                fitted(rb[good], unit_len, n_units if pool else 1)[0]
                if good.sum() >= 2
                else np.empty(0)
            )
        else:
            xb = np.empty(0)
        mb = np.exp(xb)
        m_hat = float(np.exp(x[0]))
        m_ci = _interval(m_hat, mb, ci, n_units) if mb.size >= 2 else (np.nan, np.nan)
        fits[name] = ExpFit(
            name=name,
            m=float(np.exp(x[0])),
            tau=float(_tau(x[0], dt)),
            b=float(b[0]),
            c=float(c[0]),
            m_ci=_pair(m_ci),
            tau_ci=_tau_interval(np.array(m_ci), dt),
            residual=float(sse[0]),
            m_boot=mb,
        )
    disagree = _disagree(fits["exp"], fits["exp_offset"])
    if disagree:
        notes.append(
            f"the exp and exp_offset fits disagree (tau {fits['exp'].tau:.4g} vs "
            f"{fits['exp_offset'].tau:.4g} ms): the activity may be non-stationary or the "
            "fit window kmax inadequate"
        )
    main = fits[fit]
    if bias_correction and not np.isfinite(main.m):
        notes.append(
            f"the finite-trial bias correction does not hold here (tau not small against "
            f"{t} bins per trial, or m close to 1): no bias-corrected estimate"
        )
    grid = _lnm_grid(int(kf[-1]))
    edge = main.b > 0 and np.isfinite(main.m) and not grid[1] <= np.log(main.m) <= grid[-2]
    if edge:  # the least-squares m sits on the end of the searched range: not an estimate
        notes.append(
            f"the fitted m = {main.m:.3g} (tau = {main.tau:.3g} ms) lies at the edge of the fit "
            "range: r_k decays within about one lag (or grows), so m and tau are not resolved; "
            "use a finer bin or check the activity"
        )
    if main.m >= 1:
        notes.append(f"m = {main.m:.4g} >= 1 (supercritical or non-stationary): tau is negative")
    if main.b <= 0:
        notes.append("the fitted amplitude b is 0: r_k shows no decay; m is not meaningful")
    for s in notes:
        warn(s)
    return BranchingResult(
        m=main.m if main.b > 0 and not edge else float("nan"),
        tau=main.tau if main.b > 0 and not edge else float("nan"),
        m_ci=main.m_ci,
        tau_ci=main.tau_ci,
        method=method,
        coefficient_method=coefficient_method,
        dt=dt,
        k=k,
        r_k=r,
        r_k_stderr=se,
        fits=fits,
        primary=primary,
        n_trials=n,
        n_bins=t,
        n_boot=n_boot,
        ci_level=ci,
        mean_activity=float(a.mean()),
        meaningful=bool(main.b > 0 and not edge),
        fits_disagree=disagree,
        warnings=notes,
    )


def _interval(est: float, boot: np.ndarray, ci: float, n_units: int) -> tuple[float, float]:
    """Bootstrap interval centred on the estimate, widened for few resampled units.

    ``est + f (Q_p(boot) - median(boot))`` for ``p = (1 -+ ci)/2``: the percentile shape (it
    keeps the skew near m = 1) moved onto the estimate (block replicates are biased relative to
    full trials) and scaled by ``f = t_{n-1}(p) / z(p) * sqrt(n / (n - 1))``, the small-sample
    correction of a bootstrap over ``n`` units (Efron & Tibshirani 1993, ch. 12-13); ``f`` is
    1.2 for n = 10 at 95 % and tends to 1.
    """
    from scipy import stats

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
    from infodyn.criticality._mr_bias import expected_slopes

    r1 = np.asarray(r1, dtype=float)
    m = r1.copy()
    one = np.ones(1)
    for _ in range(20):
        e = expected_slopes(np.ones_like(m), m, one, float(length), float(n_pool))[:, 0]
        m = np.where(np.isfinite(e), r1 - (e - m), m)
    return np.where(np.abs(r1 - m) > 0.25, np.nan, m)  # the expansion needs a small correction


def _pair(v: Any) -> tuple[float, float]:
    return (float(v[0]), float(v[1]))


def _tau_interval(m_ci: np.ndarray, dt: float) -> tuple[float, float]:
    """tau interval from an m interval (tau is increasing in m on (0, 1))."""
    if not np.all(np.isfinite(m_ci)) or m_ci[0] <= 0:
        return (float("nan"), float("nan"))
    lo, hi = (_tau(np.log(v), dt) for v in m_ci)
    if m_ci[1] >= 1:  # the interval reaches the supercritical side: tau unbounded above
        hi = np.inf
    return (float(lo), float(hi))


def _disagree(e: ExpFit, o: ExpFit) -> bool:
    """The fits disagree if tau differs by > 50 % or their m intervals do not overlap."""
    if not (np.isfinite(e.tau) and np.isfinite(o.tau)):
        return True
    if e.tau <= 0 or o.tau <= 0:
        return (e.tau > 0) != (o.tau > 0)
    rel = abs(e.tau - o.tau) / min(e.tau, o.tau)
    ci_ok = np.all(np.isfinite(e.m_ci + o.m_ci))
    apart = ci_ok and (e.m_ci[1] < o.m_ci[0] or o.m_ci[1] < e.m_ci[0])
    return bool(rel > 0.5 or apart)


def naive_subsampling_bias(m: float, a: float) -> float:
    """Expected naive slope under binomial subsampling a: ``m / (1 + (1-a)(1-m^2)/a)``.

    Exact for a driven Poisson branching process (Fano factor ``1/(1-m^2)``) observed through
    independent binomial thinning with probability ``a`` (Wilting & Priesemann 2018).
    """
    if not (0 < a <= 1) or not (0 <= m < 1):
        raise InputError("naive_subsampling_bias needs 0 < a <= 1 and 0 <= m < 1")
    return m / (1.0 + (1.0 - a) * (1.0 - m * m) / a)
