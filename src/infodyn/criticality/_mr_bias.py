"""The finite-trial bias of multistep-regression slopes, and a fit that removes it.

A slope ``r_k = c_k / c_0`` (lag-k covariance over the variance) subtracts a mean estimated
from the same trial (``"ts"``) or from all trials (``"sm"``), and is a ratio of two noisy
sums; both bias it by ``O(1/L)``. For a stationary linear process with autocorrelation
``rho(h)``, to order ``1/L`` (Marriott & Pope 1954, Biometrika 41:390, who give
``E[r_1] = rho - (1 + 3 rho) / T`` for a first-order autoregression; the same expansion at
every lag, with Bartlett's 1946 covariances of ``c_k`` and ``c_0``):

    E[r_k] = (rho(k) - S_k) / (1 - S'_k) - 2 (A_k - rho(k) A_0) / (n L),
    S_k  = 1/(n L^2) sum_{i in [k, k+L)} sum_{j in [0, L)} rho(i - j),     (the mean)
    S'_k = 1/(n L^2) sum_{i, j in [0, L)} rho(i - j),
    A_k  = sum_h rho(h) rho(h + k),                                        (the ratio)

with ``L = T - k`` and ``n`` the number of trials pooled into one estimate (1 for ``"ts"``,
which averages per-trial slopes; the number of trials for ``"sm"``). For the subsampled driven
branching process ``rho(h) = b m^|h|`` for ``h != 0`` and ``rho(0) = 1`` (Wilting & Priesemann
2018), so the sums are geometric series, evaluated in closed form below:
``A_k = b^2 m^k ((1 + m^2) / (1 - m^2) + k) + 2 b (1 - b) m^k`` for ``k >= 1`` and
``A_0 = 1 + 2 b^2 m^2 / (1 - m^2)``. The bias is ``O(tau / T)`` and is the same
in every bootstrap replicate, so a bootstrap interval around the uncorrected fit misses the true
``m`` when trials are short; :func:`fit_corrected` fits ``E[r_k]`` instead of ``b m^k`` by
fixed-point iteration (each step refits ``r_k - (E[r_k] - b m^k)`` at the previous
``(b, m)``), vectorised over bootstrap replicates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from infodyn.criticality.branching_result import ExpFit

_ITERATIONS = 12
_TOL = 1e-6  # in ln m: far below any interval's width
#: the largest correction of a slope for which the first-order expansion is trusted
MAX_CORRECTION = 0.25


def _geom(m: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``sum_{h=0}^{n-1} m^h`` for ``0 < m < 1`` (broadcast), stable near m = 1."""
    lm = np.log(m)
    return np.expm1(n * lm) / np.expm1(lm)


def _block(m: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``sum_{i, j in [0, n)} m^|i - j| = n + 2 sum_{d=1}^{n-1} (n - d) m^d`` in closed form:
    ``n (1 + m) / (1 - m) - 2 m (1 - m^n) / (1 - m)^2``."""
    q = 1.0 - m
    return n * (1.0 + m) / q - 2.0 * m * _geom(m, n) / q


def _cross(m: np.ndarray, k: np.ndarray, L: np.ndarray) -> np.ndarray:
    """``sum_{i in [k, k+L)} sum_{j in [0, L)} m^|i - j|`` for ``k >= 1``.

    Overlapping windows (``k < L``) split into the overlap ``[k, L)`` and the two flanks of
    length k; disjoint windows are a product of two geometric sums.
    """
    over = np.maximum(L - k, 0.0)
    gk = _geom(m, np.minimum(k, L))
    overlapping = _block(m, over) + 2.0 * m * gk * _geom(m, over) + m ** (over + 1.0) * gk * gk
    disjoint = m ** np.maximum(k - L + 1.0, 0.0) * _geom(m, L) ** 2  # used where k >= L
    return np.where(k < L, overlapping, disjoint)


def expected_slopes(
    b: np.ndarray, m: np.ndarray, k: np.ndarray, T: float, n_pool: float
) -> np.ndarray:
    """First-order ``E[r_k]`` (rows of b, m; columns of k) for trials of ``T`` bins with the
    mean pooled over ``n_pool`` trials; ``rho(h) = b m^|h|``, ``rho(0) = 1``. Rows with m
    outside (0, 1) get ``b m^k`` (no stationary bias to remove)."""
    b = np.asarray(b, dtype=float)[:, None]
    m = np.asarray(m, dtype=float)[:, None]
    ok = (m > 0) & (m < 1)
    ms = np.where(ok, m, 0.5)
    L = T - k
    norm = n_pool * L * L
    num = b * _cross(ms, k, L) + (1.0 - b) * np.maximum(L - k, 0.0)
    den = b * _block(ms, L) + (1.0 - b) * L
    mk = ms**k
    a_k = b * b * mk * ((1.0 + ms * ms) / (1.0 - ms * ms) + k) + 2.0 * b * (1.0 - b) * mk
    a_0 = 1.0 + 2.0 * b * b * ms * ms / (1.0 - ms * ms)
    ratio = 2.0 * (a_k - b * mk * a_0) / (n_pool * L)
    with np.errstate(over="ignore", invalid="ignore"):
        pure = b * m**k
        out = (b * mk - num / norm) / (1.0 - den / norm) - ratio
    return np.where(ok, out, pure)


_Fit = Callable[
    [np.ndarray, np.ndarray | None], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
]


def fit_corrected(
    fit: _Fit,
    r: np.ndarray,
    k: np.ndarray,
    T: float,
    n_pool: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bias-corrected ``(ln m, b, c, sse)`` for each row of ``r`` (R, K).

    ``fit(rows, start)`` is the plain least-squares fit of ``b m^k (+ c)`` (``start``: None,
    or the previous ``ln m`` of each row, from which the refit starts); it is re-run on
    ``r - (E[r_k] - b m^k)`` at the current ``(b, m)`` until the correction settles
    (at most :data:`_ITERATIONS` steps, until ``ln m`` moves by less than :data:`_TOL`; the
    correction is ``O(tau / T)`` and each step shrinks the change about fourfold). Each row
    stops once two steps in a row moved it by less than :data:`_TOL` (all rows had run until
    every one moved less than that in the same step: 5-12 steps for the 1,050 replicates of a
    bootstrap-t fit; one small step is not enough where a large correction makes the
    iteration wander, e.g. steps of 2.7e-3, 8.7e-8, 3.5e-4). Rows whose
    correction exceeds :data:`MAX_CORRECTION` (tau not small against T, typically m close to 1) are
    returned as NaN: the expansion does not hold there.
    """
    x, b, c, sse = (np.array(a, dtype=float) for a in fit(r, None))  # updated row by row
    failed = ~np.isfinite(x)
    moving = np.flatnonzero(~failed)  # the rows still iterating
    calm = np.zeros(r.shape[0], dtype=bool)  # whose last step was below _TOL
    for _ in range(_ITERATIONS):
        if moving.size == 0:
            break
        m = np.exp(x[moving])
        with np.errstate(all="ignore"):
            delta = expected_slopes(b[moving], m, k, T, n_pool) - b[moving, None] * m[:, None] ** k
        # the expansion holds while the correction is small; near m = 1 it is not (and the
        # iteration would run away towards m = 1): such rows get NaN
        too_large = np.max(np.abs(delta), axis=1) > MAX_CORRECTION
        bad = ~np.all(np.isfinite(delta), axis=1) | too_large
        failed[moving[bad]] = True
        moving, delta = moving[~bad], delta[~bad]
        x_old = x[moving]
        x[moving], b[moving], c[moving], sse[moving] = fit(r[moving] - delta, x_old)
        small = np.abs(x[moving] - x_old) < _TOL
        settled = small & calm[moving]  # two steps below _TOL in a row: left as it is
        calm[moving] = small
        moving = moving[~settled]
    nan = np.where(failed, np.nan, 1.0)
    return x * nan, b * nan, c * nan, sse * nan


def short_trial_note(
    plain: _Fit, rows: np.ndarray, kf: np.ndarray, t: int, n_pool: int, main: ExpFit, method: str
) -> str:
    """Why the uncorrected interval may miss the true m (empty if it need not).

    Every slope of a trial of ``t`` bins is shrunk by ``O(tau / t)`` (``_mr_bias``), the
    same in every bootstrap replicate, so the interval is centred on the shrunk ``m``. When the
    bias-corrected ``m`` lies more than half the interval's half-width away, the interval misses
    the true ``m`` far more often than its level says (1 of 12 intervals covered m = 0.8 on 30
    trials of 100 bins of a branching process with drive 5, seeds 100-111; 12 of 12 with the
    correction). When the correction fails (``fit_corrected`` NaN: the bias is too large for
    its first order) the note says so too, unless m or its interval reaches 1 or tau outlasts
    a trial (long, non-stationary activity fits m near 1: "biased low" would be false there).
    ``plain`` is the main fit's least squares, as ``fit_corrected`` takes it; ``method`` the
    slopes' (``"ts"``: the advice names ``"sm"``).
    """
    m_corrected = float(np.exp(fit_corrected(plain, rows, kf, float(t), float(n_pool))[0][0]))
    if not np.isfinite(m_corrected):  # the bias is too large to correct: the worst case, which
        # was silent (0 of 20 intervals covered m = 0.9 on 40 trials of 100 bins); not where m
        # reaches 1 or tau outlasts the trial (slow drift fits m ~ 1: the kmax note says it)
        if main.m_ci[1] >= 1.0 or main.m >= 1.0 or -1.0 / np.log(main.m) >= t:
            return ""
        sm = ", or coefficient_method='sm' (stationary-mean slopes)" if method == "ts" else ""
        return (
            f"the trials ({t} bins) are too short against tau = {main.tau:.3g} ms for their "
            "finite-trial bias to be corrected (a slope's first-order correction exceeds "
            f"{MAX_CORRECTION:.0%}): m = {main.m:.4g} and its interval are biased low; use "
            f"longer trials or a smaller kmax{sm}"
        )
    # an interval cut at m = 0 (branching_ratio) keeps its upper side whole: that side's width
    lo, hi = main.m_ci
    half = hi - main.m if lo == 0.0 else 0.5 * (hi - lo)
    if abs(m_corrected - main.m) <= 0.5 * half:
        return ""
    return (
        f"the trials ({t} bins) are short against tau = {main.tau:.3g} ms: their finite-trial "
        f"bias moves m from {m_corrected:.4g} (bias-corrected) to {main.m:.4g}, by more than "
        f"half the interval's half-width of {half:.2g}, so the interval misses the true m more "
        "often than its level says; pass bias_correction=True"
    )
