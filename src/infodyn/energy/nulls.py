"""Null models for binary population words: data of the same shape with chosen statistics kept.

* ``independent``: each unit Bernoulli with its own rate (all correlations removed).
* ``shuffle``: each unit's own sequence circularly shifted by an independent random lag: rates
  and each unit's autocorrelation kept exactly, correlations between units removed (spike-train
  shifting; Grün 2009, J. Neurophysiol. 101:1126, reviews it among other surrogates).
* ``dichotomised_gaussian`` (Macke, Berens, Ecker, Tolias & Bethge 2009, Neural Comput.
  21:397, eq. 2-4): ``x_i = [z_i > 0]``, ``z ~ N(gamma, Lambda)`` with unit variances;
  ``gamma_i = Phi^-1(mu_i)`` gives the rates and each ``Lambda_ij`` solves
  ``Phi_2(gamma_i, gamma_j; Lambda_ij) = <x_i x_j>`` (bisection; Phi_2 by Owen's T function,
  Owen 1956, Ann. Math. Stat. 27:1075, eq. 3.1). A Lambda that is not positive definite is
  clipped to its nearest valid correlation matrix (eigenvalues >= 1e-6, unit diagonal).
* ``latent``: units conditionally independent given one shared Gaussian drive h per word,
  ``p(x_i = 1 | h) = sigmoid(a_i + b h)``, ``h ~ N(0, 1)`` (the latent-common-input model of
  Schwab, Nemenman & Mehta 2014, PRL 113:068102): ``a_i`` match the rates and the shared gain b
  matches the variance of the population count K (so P(K) is broad like the data's), by
  Gauss-Hermite quadrature and bisection. No fine tuning to any critical point.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.special import expit, ndtr, ndtri, owens_t

from infodyn.energy._checks import as_binary, positive_int, rng_seed
from infodyn.errors import require, require_choice

KINDS = ("independent", "shuffle", "dichotomised_gaussian", "latent")


def _rows(X: np.ndarray, n_samples: int | None) -> int:
    return X.shape[0] if n_samples is None else positive_int(n_samples, "n_samples")


def independent_null(X: Any, n_samples: int | None = None, seed: int = 0) -> np.ndarray:
    """Independent units with the rates of X."""
    X = as_binary(X)
    rng = np.random.default_rng(rng_seed(seed))
    return (rng.random((_rows(X, n_samples), X.shape[1])) < X.mean(0)).astype(np.uint8)


def shuffle_null(X: Any, seed: int = 0) -> np.ndarray:
    """Each unit (column) circularly shifted by its own random lag."""
    X = as_binary(X)
    rng = np.random.default_rng(rng_seed(seed))
    lags = rng.integers(0, X.shape[0], X.shape[1])
    return np.ascontiguousarray(
        np.stack([np.roll(X[:, i], lags[i]) for i in range(X.shape[1])], axis=1)
    )


def bivariate_normal_cdf(h: Any, k: Any, rho: Any) -> np.ndarray:
    """``P(Z1 <= h, Z2 <= k)`` for standard normals with correlation rho (|rho| < 1), by
    Owen's T function (module docstring); vectorised."""
    h, k, rho = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (h, k, rho)))
    h = np.where(h == 0, 1e-12, h)
    k = np.where(k == 0, 1e-12, k)
    s = np.sqrt(1.0 - rho**2)
    out = 0.5 * (ndtr(h) + ndtr(k))
    out = out - owens_t(h, (k - rho * h) / (h * s)) - owens_t(k, (h - rho * k) / (k * s))
    return out - np.where(h * k > 0, 0.0, 0.5)


def dichotomised_gaussian_fit(X: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(gamma (n,), Lambda (n, n))`` of the dichotomised Gaussian matching the rates and the
    second moments ``<x_i x_j>`` of X (module docstring)."""
    X = as_binary(X)
    mu = X.mean(0)
    require(bool(np.all((mu > 0) & (mu < 1))), "every unit must have a rate strictly in (0, 1)")
    n = X.shape[1]
    Xf = X.astype(np.float64)
    second = Xf.T @ Xf / X.shape[0]
    gamma = ndtri(mu)
    i, j = np.triu_indices(n, 1)
    lo_t = np.maximum(0.0, mu[i] + mu[j] - 1.0)
    hi_t = np.minimum(mu[i], mu[j])
    target = np.clip(second[i, j], lo_t + 1e-9, hi_t - 1e-9)
    lo, hi = np.full(i.size, -0.999999), np.full(i.size, 0.999999)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = bivariate_normal_cdf(gamma[i], gamma[j], mid) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    lam = np.eye(n)
    lam[i, j] = lam[j, i] = 0.5 * (lo + hi)
    w, U = np.linalg.eigh(lam)
    if w.min() < 1e-6:
        warnings.warn(
            f"the dichotomised-Gaussian correlation matrix is not positive definite "
            f"(min eigenvalue {w.min():.3g}); clipped to the nearest valid one",
            UserWarning,
            stacklevel=2,
        )
        lam = (U * np.maximum(w, 1e-6)) @ U.T
        d = np.sqrt(np.diag(lam))
        lam = lam / np.outer(d, d)
    return gamma, lam


def dichotomised_gaussian(X: Any, n_samples: int | None = None, seed: int = 0) -> np.ndarray:
    """Samples of the dichotomised Gaussian with the rates and pairwise correlations of X."""
    X = as_binary(X)
    gamma, lam = dichotomised_gaussian_fit(X)
    L = np.linalg.cholesky(lam + 1e-12 * np.eye(lam.shape[0]))
    rng = np.random.default_rng(rng_seed(seed))
    z = gamma + rng.standard_normal((_rows(X, n_samples), X.shape[1])) @ L.T
    return (z > 0).astype(np.uint8)


def _fields(mu: np.ndarray, b: float, nodes: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Offsets a_i with E_h[sigmoid(a_i + b h)] = mu_i (bisection, Gauss-Hermite over h)."""
    lo, hi = np.full(mu.size, -40.0), np.full(mu.size, 40.0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        m = expit(mid[:, None] + b * nodes[None, :]) @ w
        lo = np.where(m < mu, mid, lo)
        hi = np.where(m < mu, hi, mid)
    return 0.5 * (lo + hi)


def _count_variance(mu: np.ndarray, b: float, nodes: np.ndarray, w: np.ndarray) -> float:
    p = expit(_fields(mu, b, nodes, w)[:, None] + b * nodes[None, :])  # (n, nodes)
    within = (p * (1 - p)).sum(0) @ w
    tot = p.sum(0)
    return float(within + ((tot - tot @ w) ** 2) @ w)


def latent_fit(X: Any, n_nodes: int = 80) -> tuple[np.ndarray, float]:
    """``(a (n,), b)`` of the latent-input model matching the rates and Var(K) of X."""
    X = as_binary(X)
    mu = X.mean(0)
    require(bool(np.all((mu > 0) & (mu < 1))), "every unit must have a rate strictly in (0, 1)")
    nodes, w = np.polynomial.hermite_e.hermegauss(positive_int(n_nodes, "n_nodes", 8))
    w = w / w.sum()
    var_k = float(X.sum(1).var())
    b_lo, b_hi = 0.0, 20.0
    if var_k <= _count_variance(mu, 0.0, nodes, w):
        b = 0.0
    else:
        for _ in range(50):
            b = 0.5 * (b_lo + b_hi)
            if _count_variance(mu, b, nodes, w) < var_k:
                b_lo = b
            else:
                b_hi = b
        b = 0.5 * (b_lo + b_hi)
    return _fields(mu, b, nodes, w), float(b)


def latent_null(X: Any, n_samples: int | None = None, seed: int = 0) -> np.ndarray:
    """Samples of the latent-common-input model fitted to X (module docstring)."""
    X = as_binary(X)
    a, b = latent_fit(X)
    rng = np.random.default_rng(rng_seed(seed))
    M = _rows(X, n_samples)
    h = rng.standard_normal(M)
    return (rng.random((M, X.shape[1])) < expit(a[None, :] + b * h[:, None])).astype(np.uint8)


def null_words(X: Any, kind: str, seed: int = 0) -> np.ndarray:
    """A null data set of the shape of X: ``kind`` in independent, shuffle,
    dichotomised_gaussian, latent (module docstring)."""
    require_choice("kind", kind, KINDS)
    if kind == "shuffle":
        return shuffle_null(X, seed=seed)
    fn = {
        "independent": independent_null,
        "dichotomised_gaussian": dichotomised_gaussian,
        "latent": latent_null,
    }[kind]
    return fn(X, seed=seed)
