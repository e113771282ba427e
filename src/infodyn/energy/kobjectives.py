"""Fitting objectives of the K-pairwise model (JAX, jit-compiled, gradients by autodiff).

Parameters: the pairwise vector of ``objectives`` (couplings, or ``J+, J-`` with L1, then the
fields) followed by the free potential values ``V(3..n)`` (canonical gauge V(0..2) = 0, see
``kpairwise``). Flipping bit i changes K by ``d_i = 1 - 2 x_i`` and the energy by
``u_i(x) = (2 x_i - 1) h_i + V(K + d_i) - V(K)`` with ``h = x J - theta``; MPF (Sohl-Dickstein et
al. 2011, eq. 7) and pseudolikelihood (Besag 1975) are the pairwise formulas of ``objectives``
with this ``u``; maximum likelihood adds ``sum_K P_data(K) V(K)`` to ``<E>_data`` and V to the
energies of the enumerated states (Tkacik et al. 2014, eq. 5-6).

Optimisation coordinates (``free=True``, without L1): the objective is a function of the canonical
parameters, but the optimiser works on ``(J', theta', W(0..n))`` with ``V(K) = W(K) - W(0) - a K
- b K(K-1)/2``, ``a = W(1) - W(0)``, ``b = W(2) - 2 W(1) + W(0)``, ``theta = theta' + a`` and
``J_ij = J'_ij - b`` (``canonical_from_free``): the canonical gauge is this map's image, so the
objective and its optimum are the same. In canonical coordinates a shift of the mean field or
of the mean coupling is pinned only by the rare counts K <= 2, yet it moves every V(K): the
Hessian has eigenvalues ~1e-6 (against ~1) along such mixed directions and L-BFGS needs
thousands of iterations (benchmarks/acceptance_thermo_kp_speed.py). In the free coordinates the
same freedom is the single coordinates W(0..2), the three exact gauge directions are flat and
harmless, and the condition number of the rest falls ~300x.

Penalty: the pairwise one plus ``l2_potential sum_K (V(K+1) - 2 V(K) + V(K-1))^2`` on the
curvature of V. A count never seen in the data gets no other pull (its V would stay wherever it
starts, or run off to +inf next to the largest count seen); the curvature term continues V
smoothly there and keeps the fit bounded.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from infodyn.energy.objectives import n_couplings, prepare_data


def n_potential(n: int) -> int:
    """The free values V(3..n) of the canonical gauge."""
    return max(n - 2, 0)


def full_potential(free: Any, n: int, xp: Any = np) -> Any:
    """V(0..n) from its free values V(3..n) (``xp``: numpy or jax.numpy)."""
    return xp.concatenate([xp.zeros(n + 1 - n_potential(n), dtype=free.dtype), free])


def canonical_from_free(q: Any, n: int, xp: Any = np) -> Any:
    """Canonical parameters ``[J_ij (i<j), theta, V(3..n)]`` from the free coordinates
    ``[J'_ij, theta', W(0..n)]`` (module docstring; ``xp``: numpy or jax.numpy)."""
    m = n_couplings(n)
    W = q[m + n :]
    if n < 2:  # no gauge to move: V(0..n) are all fixed at 0
        return q[: m + n]
    a = W[1] - W[0]
    b = W[2] - 2 * W[1] + W[0]
    K = xp.arange(n + 1, dtype=q.dtype)
    V = W - W[0] - a * K - b * K * (K - 1) / 2
    return xp.concatenate([q[:m] - b, q[m : m + n] + a, V[n + 1 - n_potential(n) :]])


def free_from_canonical(p: np.ndarray, n: int) -> np.ndarray:
    """The free coordinates of canonical parameters (``W = V``, V(0..2) = 0)."""
    nv = n_potential(n)
    return np.concatenate([p[: p.size - nv], np.zeros(n + 1 - nv), p[p.size - nv :]])


@lru_cache(maxsize=64)
def make_k_objective(method: str, n: int, split: bool, free: bool = False) -> tuple[Any, Any]:
    """Jitted ``value_and_grad(p, data, l1, l2, lv)`` and ``value(p, data)`` (no penalty).

    ``data`` is ``(X, w)`` for MPF/PL and ``(C, m, S, pk, kS)`` for ML: second moments, means,
    all states, the data's P(K), and the count of each state. ``free``: ``p`` holds the free
    coordinates (module docstring; not with ``split``), else the canonical parameters.
    """
    iu = tuple(a.astype(np.int32) for a in np.triu_indices(n, 1))
    m = n_couplings(n)
    nv = n_potential(n)
    free = free and not split

    def unpack(p):
        if free:
            p = canonical_from_free(p, n, jnp)
        q = p[: p.shape[0] - nv]
        upper = q[:m] - q[m : 2 * m] if split else q[:m]
        J = jnp.zeros((n, n), dtype=p.dtype).at[iu].set(upper)
        V = full_potential(p[p.shape[0] - nv :], n, jnp)
        return J + J.T, q[q.shape[0] - n :], V, upper

    def data_term(p, data):
        J, theta, V, _ = unpack(p)
        if method == "ml":
            C, mean, S, pk, kS = data
            mean_e = -0.5 * jnp.sum(J * C) + mean @ theta + pk @ V
            e_all = -0.5 * jnp.sum((S @ J) * S, axis=1) + S @ theta + V[kS]
            return mean_e + jax.scipy.special.logsumexp(-e_all)
        X, w = data
        K = jnp.round(jnp.sum(X, axis=1)).astype(jnp.int32)[:, None]
        Kf = K + (1 - 2 * X).astype(jnp.int32)
        u = (2.0 * X - 1.0) * (X @ J - theta) + V[Kf] - V[K]
        per = jnp.exp(-0.5 * u) if method == "mpf" else jax.nn.softplus(-u)
        return jnp.sum(w * jnp.sum(per, axis=1)) / jnp.sum(w)

    def total(p, data, l1, l2, lv):
        _, _, V, upper = unpack(p)
        penalty = l2 * jnp.sum(upper**2) + lv * jnp.sum(jnp.diff(V, 2) ** 2)
        if split:
            penalty = penalty + l1 * jnp.sum(p[: 2 * m])
        return data_term(p, data) + penalty

    return jax.jit(jax.value_and_grad(total)), jax.jit(data_term)


def prepare_k_data(method: str, X: np.ndarray, w: np.ndarray, dtype: Any) -> tuple:
    """``objectives.prepare_data`` plus, for ML, the data's P(K) and the count of every state."""
    data = prepare_data(method, X, w, dtype)
    if method != "ml":
        return data
    n = X.shape[1]
    pk = np.bincount(X.sum(1).astype(np.int64), weights=w, minlength=n + 1) / w.sum()
    kS = np.round(np.asarray(data[2]).sum(1)).astype(np.int32)
    return (*data, jnp.asarray(pk, dtype=dtype), jnp.asarray(kS))
