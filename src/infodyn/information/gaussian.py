"""Gaussian estimators for continuous data (membrane potentials, filtered rates), in bits by
default (``base=``: units of ``log_base``; the formulas below with ``log_base`` for ``log2``).

For jointly Gaussian variables (Cover & Thomas 2006, ch. 8):

* ``I(X;Y) = 1/2 log2( det S_X det S_Y / det S_XY )``
* ``TC(X) = 1/2 log2( prod_i S_ii / det S ) = -1/2 log2 det R`` (R the correlation matrix)

``copula=True`` first maps every column through its empirical CDF to a standard normal (the
Gaussian-copula estimator of Ince et al. 2017, Hum. Brain Mapp. 38:1541), which makes the
estimate invariant to monotone transforms and a lower bound on the true MI. ``bias_correct=True``
removes the small-sample bias of ``log det`` of the sample covariance analytically:
``E[ln det S] = ln det Sigma + sum_{i=1}^{d} psi((N - i)/2) + d ln(2/(N-1))``, the mean
log-determinant of the sample covariance ``S = W/(N-1)``, W a Wishart matrix with N - 1 degrees of
freedom (the correction of Misra, Singh & Demchuk 2005, J. Multivar. Anal. 92:324, that Ince et al.
2017 apply to the copula).

These estimators see only second-order (linear) dependence: they are blind to synergy such as
parity (``Y = X1 XOR X2`` has ``I(X1,X2;Y) = 1`` bit but Gaussian MI near 0). Use the discrete
estimators on binned data for that.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import digamma, ndtri
from scipy.stats import rankdata

from infodyn.errors import InputError, require_flag, whole_number
from infodyn.information._inputs import as_real, log_factor, same_samples

_LN2 = np.log(2.0)


def copula_normalize(x: Any) -> np.ndarray:
    """Map each column to standard normal scores through its empirical CDF (ties averaged)."""
    a = as_real(x)
    n = a.shape[0]
    return ndtri(rankdata(a, axis=0) / (n + 1.0))


#: the smallest eigenvalue of the correlation matrix, per variable, below which a covariance is
#: singular up to round-off: ``[a, 3a]`` has 1e-16 there (its slogdet came out finite, and the
#: entropy -19 bits); a correlation of 1 - 1e-10 between two variables still passes
_SINGULAR_EIGENVALUE = 64 * np.finfo(float).eps


def _checked_logdet(cov: np.ndarray, advice: str) -> float:
    """``log det cov``, or :class:`InputError` when ``cov`` is singular up to round-off: a
    variance of 0 (a constant variable, or values that under- or overflow float64), or a
    correlation matrix whose smallest eigenvalue is below ``d`` x
    :data:`_SINGULAR_EIGENVALUE` (a variable that is a linear combination of others)."""
    sd = np.sqrt(np.diag(cov))
    if not np.all(np.isfinite(sd)) or np.any(sd == 0):
        raise InputError(
            "the covariance is singular: a variable is constant (or its values are too small or "
            f"too large for float64: rescale them){advice}"
        )
    corr = cov / np.outer(sd, sd)
    if np.linalg.eigvalsh(corr)[0] <= cov.shape[0] * _SINGULAR_EIGENVALUE:
        raise InputError(
            f"the covariance is singular: a variable is a linear combination of others{advice}"
        )
    # log det S = sum_i log S_ii + log det R: the LU of S itself underflowed its off-diagonal
    # products for variances near 1e-308 (the information of x 1e-154 and y 1e-154 came out 0)
    return float(2.0 * np.sum(np.log(sd)) + np.linalg.slogdet(corr)[1])


def _unit_columns(a: np.ndarray) -> tuple[np.ndarray, float]:
    """``a`` with each column divided by its largest magnitude, and the sum of those logs
    (``log det`` of the covariance gains twice it back): values of 1e-160 had subnormal
    covariances (3 digits left), those of 1e153 overflowed in the product."""
    scale = np.max(np.abs(a), axis=0)
    scale[scale == 0] = 1.0  # (a column of zeros: refused as constant by _checked_logdet)
    return a / scale, float(np.sum(np.log(scale)))


def _logdet_cov(a: np.ndarray, bias_correct: bool) -> float:
    n, d = a.shape
    if n <= d + 1:
        raise InputError(f"need more samples ({n}) than variables + 1 ({d + 1}) for a covariance")
    scaled, log_scale = _unit_columns(a)
    logdet = _checked_logdet(np.atleast_2d(np.cov(scaled, rowvar=False)), "") + 2.0 * log_scale
    if bias_correct:
        psi = digamma((n - np.arange(1, d + 1)) / 2.0)
        logdet -= float(np.sum(psi)) + d * np.log(2.0 / (n - 1))
    return float(logdet)


def _prep(x: Any, name: str, copula: bool) -> np.ndarray:
    a = as_real(x, name)
    return copula_normalize(a) if copula else a


def gaussian_entropy(x: Any, bias_correct: bool = False, base: float = 2.0) -> float:
    """Differential entropy ``1/2 log((2 pi e)^d det S)`` of a Gaussian fit, in units of
    ``log_base`` (default bits)."""
    bias_correct = require_flag("bias_correct", bias_correct)
    f = log_factor(base)
    a = as_real(x)
    d = a.shape[1]
    h = (0.5 * d * np.log(2 * np.pi * np.e) + 0.5 * _logdet_cov(a, bias_correct)) / _LN2
    return float(h * f)  # (np.float64 where the other measures give float)


def gaussian_mutual_information(
    x: Any, y: Any, copula: bool = False, bias_correct: bool = False, base: float = 2.0
) -> float:
    """``I(X;Y)`` under a Gaussian model of ``(samples, variables)`` real arrays, in units of
    ``log_base`` (default bits)."""
    copula = require_flag("copula", copula)
    bias_correct = require_flag("bias_correct", bias_correct)
    f = log_factor(base)
    a, b = _prep(x, "X", copula), _prep(y, "Y", copula)
    same_samples(X=a, Y=b)
    ld = [_logdet_cov(v, bias_correct) for v in (a, b, np.hstack([a, b]))]
    return float(0.5 * (ld[0] + ld[1] - ld[2]) / _LN2 * f)


def gaussian_total_correlation(
    x: Any,
    copula: bool = False,
    bias_correct: bool = False,
    ridge: float = 0.0,
    ddof: int = 1,
    base: float = 2.0,
) -> float:
    """Total correlation ``sum_i H(X_i) - H(X)`` in units of ``log_base`` (default bits) under a
    Gaussian model:
    ``1/2 log2(prod_i S_ii / det S)`` (Watanabe 1960, IBM J. Res. Dev. 4:66; Cover & Thomas
    2006, eq. 8.56 for the Gaussian entropies).

    ``ridge`` adds ``ridge * I`` to the sample covariance ``S`` (``ddof``: its divisor is
    ``N - ddof``) so that units that rarely fire cannot make it singular; with ``ridge > 0`` the
    small-sample correction is not available.
    """
    copula = require_flag("copula", copula)
    bias_correct = require_flag("bias_correct", bias_correct)
    f = log_factor(base)
    a = _prep(x, "X", copula)
    if a.shape[1] < 2:
        raise InputError("total correlation needs at least two variables (columns)")
    if isinstance(ridge, bool) or not isinstance(ridge, int | float | np.number):
        raise InputError(f"ridge must be a finite number >= 0, got {ridge!r}")
    if not (math.isfinite(ridge) and ridge >= 0):
        raise InputError(f"ridge must be a finite number >= 0, got {ridge}")
    if a.shape[0] < 2:  # said "ddof must be at most 0", an option the caller never passed
        raise InputError(f"a covariance needs at least two samples, got {a.shape[0]}")
    ddof = whole_number(ddof, "ddof", maximum=a.shape[0] - 1)  # the divisor N - ddof is >= 1
    if ridge == 0.0 and ddof == 1:
        singles = sum(_logdet_cov(a[:, [i]], bias_correct) for i in range(a.shape[1]))
        return float(0.5 * (singles - _logdet_cov(a, bias_correct)) / _LN2 * f)
    if bias_correct:
        raise InputError("bias_correct needs ridge=0 and ddof=1")
    # TC does not change when the columns are scaled, but a ridge is in the data's units
    cols = _unit_columns(a)[0] if ridge == 0.0 else a
    cov = np.atleast_2d(np.cov(cols, rowvar=False, ddof=ddof)) + ridge * np.eye(a.shape[1])
    logdet = _checked_logdet(cov, " (use ridge > 0)" if ridge == 0 else "")
    return float(0.5 * (float(np.sum(np.log(np.diag(cov)))) - logdet) / _LN2 * f)
