"""Fitting objectives in JAX (jit-compiled, gradients by autodiff), per pattern.

Parameters are packed in one vector: the couplings above the diagonal (row-major, ``i < j``)
then the fields ``theta``; with L1 regularisation the couplings are split as ``J = J+ - J-``
(both >= 0, so ``|J| = J+ + J-`` is smooth on the bounded domain L-BFGS-B works on).

With ``h = x J - theta`` and ``u_i(x) = (2 x_i - 1) h_i`` the energy change of flipping bit i
(weights ``w`` are pattern counts, ``W = sum w``):

* MPF (Sohl-Dickstein, Battaglino & DeWeese 2011, PRL 107, 220601, eq. 7 with single-bit-flip
  connectivity): ``K = (1/W) sum_x w_x sum_i exp(-u_i(x) / 2)``, summed over every one-flip
  neighbour (the paper leaves out neighbours that are data states; hdnet keeps them, as here).
  The 1/2 is part of the published objective; dropping it (as hdnet does) halves the recovered
  couplings' scale.
* Pseudolikelihood (Besag 1975): ``-(1/W) sum_x w_x sum_i log p(x_i | x_rest)
  = (1/W) sum_x w_x sum_i log(1 + exp(-u_i(x)))``.
* Maximum likelihood: ``<E>_data + log Z`` with ``<E>_data = -1/2 sum_ij J_ij C_ij + theta.m``
  from the data moments and log Z by enumeration (n <= 20).

Regularisation added to each: ``l2 sum_{i<j} J_ij^2 + l1 sum_{i<j} |J_ij|`` (couplings only).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from infodyn.energy.partition import all_states

METHODS = ("mpf", "pl", "ml")
MAX_ML_N = 20


def n_couplings(n: int) -> int:
    """Number of pairs i < j among ``n`` units: the length of J's upper triangle, n (n - 1) / 2."""
    return n * (n - 1) // 2


def pack(J: np.ndarray, theta: np.ndarray, split: bool = False) -> np.ndarray:
    """Parameter vector from (J, theta); ``split`` gives ``[J+, J-, theta]``."""
    upper = np.asarray(J)[np.triu_indices(theta.shape[0], 1)]
    if split:
        return np.concatenate([np.maximum(upper, 0), np.maximum(-upper, 0), theta])
    return np.concatenate([upper, theta])


def unpack_numpy(p: np.ndarray, n: int, split: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(J, theta) from a parameter vector (NumPy)."""
    m = n_couplings(n)
    upper = p[:m] - p[m : 2 * m] if split else p[:m]
    J = np.zeros((n, n))
    J[np.triu_indices(n, 1)] = upper
    return J + J.T, np.asarray(p[-n:], dtype=np.float64)


@lru_cache(maxsize=64)
def make_objective(method: str, n: int, split: bool) -> tuple[Any, Any]:
    """Jitted ``value_and_grad(p, data, l1, l2)`` and ``value(p, data)`` (no penalty).

    ``data`` is ``(X, w)`` for MPF/PL (X float (M, n), w (M,)) and ``(C, m, S)`` for ML
    (second moments, means, all 2^n states as float).
    """
    iu = tuple(a.astype(np.int32) for a in np.triu_indices(n, 1))
    m = n_couplings(n)

    def couplings(p):
        return p[:m] - p[m : 2 * m] if split else p[:m]

    def unpack(p):
        upper = couplings(p)
        J = jnp.zeros((n, n), dtype=p.dtype).at[iu].set(upper)
        return J + J.T, p[p.shape[0] - n :]

    def data_term(p, data):
        J, theta = unpack(p)
        if method == "ml":
            C, mean, S = data
            mean_e = -0.5 * jnp.sum(J * C) + mean @ theta
            e_all = -0.5 * jnp.sum((S @ J) * S, axis=1) + S @ theta
            return mean_e + jax.scipy.special.logsumexp(-e_all)
        X, w = data
        u = (2.0 * X - 1.0) * (X @ J - theta)
        per = jnp.exp(-0.5 * u) if method == "mpf" else jax.nn.softplus(-u)
        return jnp.sum(w * jnp.sum(per, axis=1)) / jnp.sum(w)

    def total(p, data, l1, l2):
        upper = couplings(p)
        penalty = l2 * jnp.sum(upper**2)
        if split:
            penalty = penalty + l1 * jnp.sum(p[: 2 * m])
        return data_term(p, data) + penalty

    return jax.jit(jax.value_and_grad(total)), jax.jit(data_term)


def prepare_data(method: str, X: np.ndarray, w: np.ndarray, dtype: Any) -> tuple:
    """Device arrays for ``make_objective``'s ``data`` argument."""
    if method == "ml":
        Xf = X.astype(np.float64)
        W = w.sum()
        C = (Xf * w[:, None]).T @ Xf / W
        mean = w @ Xf / W
        S = all_states(X.shape[1]).astype(dtype)
        return (jnp.asarray(C, dtype=dtype), jnp.asarray(mean, dtype=dtype), jnp.asarray(S))
    # Pad to a power-of-two row count with zero-weight rows so that data sets of similar size
    # share one compiled objective (jit specialises on shapes). The padding repeats the first
    # data row: an all-zero row has u_i = theta_i, and once a field falls below about -1419.6,
    # exp(-theta_i / 2) overflows and 0 * inf makes the objective NaN; a copy of a
    # real row is finite whenever the objective itself is.
    rows = 1 << max(0, int(np.ceil(np.log2(max(1, X.shape[0])))))
    Xp = np.empty((rows, X.shape[1]), dtype=dtype)
    Xp[: X.shape[0]] = X
    Xp[X.shape[0] :] = X[0]
    wp = np.zeros(rows, dtype=dtype)
    wp[: X.shape[0]] = w
    return (jnp.asarray(Xp), jnp.asarray(wp))
