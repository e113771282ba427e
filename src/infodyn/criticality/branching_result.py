"""The branching-ratio estimator's result types: one exponential fit of the regression slopes
(:class:`ExpFit`) and the whole estimate with its fit details (:class:`BranchingResult`).

:func:`infodyn.criticality.branching_ratio` makes them; see :mod:`infodyn.criticality.branching`
for the estimators and :mod:`infodyn.criticality.mr_fit` for the fits' formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


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
    #: bias-corrected fits only: at the result's lags ``k``, the slopes the fit expects the
    #: trials to give, ``E[r_k] + c`` with their finite-trial bias (first order; see
    #: :mod:`infodyn.criticality._mr_bias`); empty without the correction, where that is
    #: :meth:`curve`
    observed: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))

    def curve(self, k: Any) -> np.ndarray:
        """``b m^k + c`` at lags ``k``: the fitted ``r_k`` or, bias-corrected, the slopes of
        infinitely long trials (:attr:`observed` then fits the estimated slopes)."""
        return self.b * self.m ** np.asarray(k, dtype=float) + self.c

    def disagrees_with(self, other: ExpFit) -> bool:
        """Whether the two fits' tau differ by > 50 % or their m intervals do not overlap (one
        fit without a tau disagrees with one that has it; two without, neither: there is nothing
        to compare, and "tau nan vs nan ms" was said to disagree)."""
        if not (np.isfinite(self.tau) or np.isfinite(other.tau)):
            return False
        if not (np.isfinite(self.tau) and np.isfinite(other.tau)):
            return True
        if self.tau <= 0 or other.tau <= 0:
            return (self.tau > 0) != (other.tau > 0)
        rel = abs(self.tau - other.tau) / min(self.tau, other.tau)
        ci_ok = np.all(np.isfinite(self.m_ci + other.m_ci))
        apart = ci_ok and (self.m_ci[1] < other.m_ci[0] or other.m_ci[1] < self.m_ci[0])
        return bool(rel > 0.5 or apart)

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
    ci_method: str
    n_inner: int
    mean_activity: float
    meaningful: bool
    fits_disagree: bool
    warnings: list[str]
    bias_correction: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (lags and slopes included)."""
        return {
            "m": _f(self.m),
            "tau_ms": _f(self.tau),
            "m_ci": [_f(v) for v in self.m_ci],
            "tau_ms_ci": [_f(v) for v in self.tau_ci],
            "ci_level": self.ci_level,
            "ci_method": self.ci_method,
            "n_inner": self.n_inner,
            "method": self.method,
            "coefficient_method": self.coefficient_method,
            "bias_correction": self.bias_correction,
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
