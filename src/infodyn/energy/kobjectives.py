"""Fitting objectives of the K-pairwise model (JAX, jit-compiled, gradients by autodiff).

Parameters: the pairwise vector of ``objectives`` (couplings, or ``J+, J-`` with L1, then the
fields) followed by the free potential values ``V(3..n)`` (canonical gauge V(0..2) = 0, see
``kpairwise``). Flipping bit i changes K by ``d_i = 1 - 2 x_i`` and the energy by
``u_i(x) = (2 x_i - 1) h_i + V(K + d_i) - V(K)`` with ``h = x J - theta``; MPF (Sohl-Dickstein et
al. 2011, eq. 7) and pseudolikelihood (Besag 1975) are the pairwise formulas of ``objectives``
with this ``u``; maximum likelihood adds ``sum_K P_data(K) V(K)`` to ``<E>_data`` and V to the
energies of the enumerated states (Tkacik et al. 2014, eq. 5-6).

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


@lru_cache(maxsize=64)
def make_k_objective(method: str, n: int, split: bool) -> tuple[Any, Any]:
    """Jitted ``value_and_grad(p, data, l1, l2, lv)`` and ``value(p, data)`` (no penalty).

    ``data`` is ``(X, w)`` for MPF/PL and ``(C, m, S, pk, kS)`` for ML: second moments, means,
    all states, the data's P(K), and the count of each state.
    """
    iu = tuple(a.astype(np.int32) for a in np.triu_indices(n, 1))
    m = n_couplings(n)
    nv = n_potential(n)

    def unpack(p):
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
