"""Compiled kernels of the power-law fit (:mod:`infodyn.criticality.powerlaw`): the discrete
maximum-likelihood ``alpha`` (golden section on ``-alpha mean ln x - ln zeta(alpha, xmin)``), the
``xmin`` scans that keep the candidate with the smallest KS distance (Clauset, Shalizi & Newman
2009, eq. 3.9) and stop a candidate's KS sum once it exceeds the best so far, and the discrete
power law's CCDF table ``P(X >= x) = zeta(alpha, x) / zeta(alpha, xmin)`` used to sample it.
"""

from __future__ import annotations

import numba
import numpy as np

from infodyn.criticality._zeta import hurwitz_zeta, hurwitz_zeta_scaled
from infodyn.criticality.powerlaw_compare import ALPHA_MAX

_ALPHA_LO = 1.0 + 1e-7


@numba.njit(cache=True)
def _alpha_discrete(xmin, mean_log):  # pragma: no cover - compiled
    """Maximise ``-alpha mean_log - ln zeta(alpha, xmin)`` on (1, ALPHA_MAX) by golden section."""
    lo, hi = _ALPHA_LO, ALPHA_MAX
    g = (np.sqrt(5.0) - 1.0) / 2.0
    x1 = hi - g * (hi - lo)
    x2 = lo + g * (hi - lo)
    f1 = -x1 * mean_log - np.log(hurwitz_zeta(x1, xmin))
    f2 = -x2 * mean_log - np.log(hurwitz_zeta(x2, xmin))
    for _ in range(80):
        if f1 > f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - g * (hi - lo)
            f1 = -x1 * mean_log - np.log(hurwitz_zeta(x1, xmin))
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + g * (hi - lo)
            f2 = -x2 * mean_log - np.log(hurwitz_zeta(x2, xmin))
        if hi - lo < 1e-10:
            break
    return 0.5 * (lo + hi)


@numba.njit(cache=True)
def _scan_discrete(u, c, cand):  # pragma: no cover - compiled
    """Best (index, alpha, D) over candidate indices ``cand`` into the sorted uniques ``u``."""
    nu = u.size
    tail_n = np.zeros(nu + 1)
    tail_l = np.zeros(nu + 1)
    for i in range(nu - 1, -1, -1):
        tail_n[i] = tail_n[i + 1] + c[i]
        tail_l[i] = tail_l[i + 1] + c[i] * np.log(u[i])
    best_d = np.inf
    best_j = -1
    best_a = np.nan
    for jj in range(cand.size):
        j = cand[jj]
        n = tail_n[j]
        a = _alpha_discrete(u[j], tail_l[j] / n)
        d = _sup_discrete(u, c, j, a, u[j], n, best_d)
        if d < best_d:
            best_d, best_j, best_a = d, j, a
    return best_j, best_a, best_d


@numba.njit(cache=True)
def _scan_continuous(x, cand):  # pragma: no cover - compiled
    """Best (start index, alpha, D) over candidate start indices into sorted data ``x``."""
    n_all = x.size
    suffix = np.zeros(n_all + 1)
    for i in range(n_all - 1, -1, -1):
        suffix[i] = suffix[i + 1] + np.log(x[i])
    best_d = np.inf
    best_j = -1
    best_a = np.nan
    for jj in range(cand.size):
        j = cand[jj]
        n = n_all - j
        xm = x[j]
        denom = suffix[j] - n * np.log(xm)
        if denom <= 0:
            continue
        a = 1.0 + n / denom
        d = 0.0
        for i in range(j, n_all):
            fit = 1.0 - (x[i] / xm) ** (1.0 - a)
            hi = abs((i - j + 1) / n - fit)
            lo = abs((i - j) / n - fit)
            e = hi if hi > lo else lo
            if e > d:
                d = e
                if d >= best_d:
                    break
        if d < best_d:
            best_d, best_j, best_a = d, j, a
    return best_j, best_a, best_d


@numba.njit(cache=True)
def _sup_discrete(u, c, j, a, xmin, n, stop):  # pragma: no cover - compiled
    """``sup_x |F_emp(x) - F(x)|`` over all integers ``x >= xmin`` (tail values ``u[j:]``).

    Between observed values ``u[i] < u[i+1]`` the empirical CDF is constant while the fitted
    one rises, so the supremum is attained at ``u[i]`` or at ``u[i+1] - 1``; both are checked
    (Clauset et al. 2009 evaluate every integer). Returns early once the distance is ``>= stop``.
    """
    z0 = hurwitz_zeta(a, xmin)
    cum = 0.0
    d = 1.0 - hurwitz_zeta(a, u[j]) / z0  # F(u[j] - 1): 0 unless xmin is not observed
    for i in range(j, u.size):
        cum += c[i]
        e = cum / n
        diff = abs(e - 1.0 + hurwitz_zeta(a, u[i] + 1.0) / z0)
        if i + 1 < u.size and u[i + 1] > u[i] + 1.0:  # a gap: F just before the next value
            diff = max(diff, abs(e - 1.0 + hurwitz_zeta(a, u[i + 1]) / z0))
        if diff > d:
            d = diff
            if d >= stop:
                break
    return d


@numba.njit(cache=True)
def _ks_discrete(u, c, j, a, xmin):  # pragma: no cover - compiled
    """KS distance (supremum) of the discrete power law (``a``, ``xmin``) to the tail ``u[j:]``."""
    n = 0.0
    for i in range(j, u.size):
        n += c[i]
    return _sup_discrete(u, c, j, a, xmin, n, np.inf)


@numba.njit(cache=True)
def _ccdf_table(a, xmin, n):  # pragma: no cover - compiled
    """``P(X >= x)`` for ``x = xmin .. xmin + n - 1`` of the discrete power law: ratios of
    zeta sums scaled by ``xmin^a`` (unscaled, ``zeta(a, xmin)`` was 0 for ``a = 2.5,
    xmin = 1e300`` or ``a = 50, xmin = 1e7``, a division by zero)."""
    z0 = hurwitz_zeta_scaled(a, xmin, xmin)
    out = np.empty(n)
    for i in range(n):
        out[i] = hurwitz_zeta_scaled(a, xmin + i, xmin) / z0
    return out
