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


def _potential_terms(W: Any, n: int, xp: Any = jnp) -> tuple[Any, Any, Any]:
    """``(a, b, V)`` of the free coordinates' potential W (module docstring)."""
    a = W[1] - W[0]
    b = W[2] - 2 * W[1] + W[0]
    K = xp.arange(n + 1, dtype=W.dtype)
    return a, b, W - W[0] - a * K - b * K * (K - 1) / 2


def canonical_from_free(q: Any, n: int, xp: Any = np) -> Any:
    """Canonical parameters ``[J_ij (i<j), theta, V(3..n)]`` from the free coordinates
    ``[J'_ij, theta', W(0..n)]`` (module docstring; ``xp``: numpy or jax.numpy)."""
    m = n_couplings(n)
    if n < 3:  # no free V: the gauge fixes all of V(0..n)
        return q[: m + n]
    a, b, V = _potential_terms(q[m + n :], n, xp)
    return xp.concatenate([q[:m] - b, q[m : m + n] + a, V[n + 1 - n_potential(n) :]])


def free_from_canonical(p: np.ndarray, n: int) -> np.ndarray:
    """The free coordinates of canonical parameters (``W = V``, V(0..2) = 0)."""
    nv = n_potential(n)
    return np.concatenate([p[: p.size - nv], np.zeros(n + 1 - nv), p[p.size - nv :]])


def _build(method: str, n: int, split: bool, free: bool) -> tuple[Any, Any, Any]:
    """``total(p, data, l1, l2, lv)``, ``data_term(p, data)`` and, in free coordinates,
    ``total_parts(pair, W, data, l1, l2, lv)`` with the pairwise part and W separate."""
    iu = tuple(a.astype(np.int32) for a in np.triu_indices(n, 1))
    m = n_couplings(n)
    nv = n_potential(n)

    def couplings(q):
        upper = q[:m] - q[m : 2 * m] if split else q[:m]
        J = jnp.zeros((n, n), dtype=q.dtype).at[iu].set(upper)
        return J + J.T, upper

    def flips(h, V, data):
        X, w = data
        K = jnp.round(jnp.sum(X, axis=1)).astype(jnp.int32)[:, None]
        Kf = K + (1 - 2 * X).astype(jnp.int32)
        u = (2.0 * X - 1.0) * h + V[Kf] - V[K]
        per = jnp.exp(-0.5 * u) if method == "mpf" else jax.nn.softplus(-u)
        return jnp.sum(w * jnp.sum(per, axis=1)) / jnp.sum(w)

    def canonical_terms(p, data):
        if free:
            p = canonical_from_free(p, n, jnp)
        q = p[: p.shape[0] - nv]
        J, upper = couplings(q)
        theta, V = q[q.shape[0] - n :], full_potential(p[p.shape[0] - nv :], n, jnp)
        if method == "ml":
            C, mean, S, pk, kS = data
            mean_e = -0.5 * jnp.sum(J * C) + mean @ theta + pk @ V
            e_all = -0.5 * jnp.sum((S @ J) * S, axis=1) + S @ theta + V[kS]
            return mean_e + jax.scipy.special.logsumexp(-e_all), V, upper
        return flips(data[0] @ J - theta, V, data), V, upper

    def total(p, data, l1, l2, lv):
        f, V, upper = canonical_terms(p, data)
        penalty = l2 * jnp.sum(upper**2) + lv * jnp.sum(jnp.diff(V, 2) ** 2)
        if split:
            penalty = penalty + l1 * jnp.sum(p[: 2 * m])
        return f + penalty

    def total_parts(pair, W, data, l1, l2, lv):
        # J = J' - b (off the diagonal), so x J = x J' - b (K - x): the product with the data
        # does not depend on W, and a Hessian in W alone costs O(M n) per direction
        a, b, V = _potential_terms(W, n)
        Jp, upper = couplings(pair)
        if method == "ml":
            return total(jnp.concatenate([pair, W]), data, l1, l2, lv)
        X = data[0]
        Kx = jnp.sum(X, axis=1, keepdims=True)
        h = X @ Jp - pair[m:] - b * (Kx - X) - a
        penalty = l2 * jnp.sum((upper - b) ** 2) + lv * jnp.sum(jnp.diff(V, 2) ** 2)
        return flips(h, V, data) + penalty

    return total, lambda p, data: canonical_terms(p, data)[0], total_parts


@lru_cache(maxsize=64)
def make_k_objective(method: str, n: int, split: bool, free: bool = False) -> tuple[Any, Any]:
    """Jitted ``value_and_grad(p, data, l1, l2, lv)`` and ``value(p, data)`` (no penalty).

    ``data`` is ``(X, w)`` for MPF/PL and ``(C, m, S, pk, kS)`` for ML: second moments, means,
    all states, the data's P(K), and the count of each state. ``free``: ``p`` holds the free
    coordinates (module docstring; not with ``split``), else the canonical parameters.
    """
    total, data_term, _ = _build(method, n, split, free and not split)
    return jax.jit(jax.value_and_grad(total)), jax.jit(data_term)


@lru_cache(maxsize=64)
def make_potential_hessian(method: str, n: int, batch: int = 8) -> Any:
    """Jitted ``H(pair, W, data, l1, l2, lv)``: the (n+1, n+1) Hessian of the objective in the
    free coordinates' W with the pairwise part ``pair`` held fixed (no L1). Built from
    Hessian-vector products ``batch`` directions at a time, so that its memory stays at about
    ``batch`` gradients' worth (all n + 1 at once take (M, n, n+1) floats: gigabytes)."""
    total_parts = _build(method, n, False, True)[2]
    grad_w = jax.grad(total_parts, argnums=1)

    def hessian(pair, W, data, l1, l2, lv):
        def hvp(v):
            return jax.jvp(lambda x: grad_w(pair, x, data, l1, l2, lv), (W,), (v,))[1]

        return jax.lax.map(hvp, jnp.eye(n + 1, dtype=W.dtype), batch_size=batch)

    return jax.jit(hessian)


def prepare_k_data(method: str, X: np.ndarray, w: np.ndarray, dtype: Any) -> tuple:
    """``objectives.prepare_data`` plus, for ML, the data's P(K) and the count of every state."""
    data = prepare_data(method, X, w, dtype)
    if method != "ml":
        return data
    n = X.shape[1]
    pk = np.bincount(X.sum(1).astype(np.int64), weights=w, minlength=n + 1) / w.sum()
    kS = np.round(np.asarray(data[2]).sum(1)).astype(np.int32)
    return (*data, jnp.asarray(pk, dtype=dtype), jnp.asarray(kS))
