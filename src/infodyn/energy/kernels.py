"""Numba kernels for the sequential parts of Ising dynamics: descent, Gibbs/Metropolis, AIS.

All kernels keep the local drive ``h = J x - theta`` of each chain and update it incrementally
when a unit flips (O(n) per flip instead of O(n^2) per update). Random numbers come from Numba's
own generator, seeded once per call, so the same seed gives the same result.

Conventions: ``x`` in {0,1}^n, ``E(x) = -1/2 x^T J x + theta^T x + V(K)`` with ``K = sum_i x_i``
and ``V`` a potential on the population count (n + 1 values; all zero for a pairwise model, and
then every kernel does exactly the arithmetic of the pairwise case, since ``h - 0.0 == h``).
Setting unit i to 1 instead of 0 changes the energy by ``-g_i`` with
``g_i = h_i - (V(K_i + 1) - V(K_i))`` and ``K_i = K - x_i``, so ``p(x_i = 1 | rest) =
sigmoid(beta g_i)`` and asynchronous descent sets ``x_i = H(g_i)`` (ties keep the current value).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Drives within TIE of zero count as ties (keep the current value): guards against float drift.
TIE = 1e-12


@njit(cache=True)
def _drive(x, J, theta):
    n = x.shape[0]
    h = -theta.copy()
    for j in range(n):
        if x[j]:
            for i in range(n):
                h[i] += J[j, i]
    return h


@njit(cache=True)
def _flip(x, h, J, i, new):
    d = 1.0 if new else -1.0
    x[i] = new
    for j in range(h.shape[0]):
        h[j] += d * J[i, j]


@njit(cache=True)
def _count(x):
    k = 0
    for i in range(x.shape[0]):
        k += x[i]
    return k


@njit(cache=True)
def _gain(h, V, x, i, k):
    """``g_i``: the energy drop of setting x_i = 1 instead of 0 (module docstring)."""
    ki = k - x[i]
    return h[i] - (V[ki + 1] - V[ki])


@njit(cache=True)
def descend_kernel(X, J, theta, V, orders, max_sweeps):
    """Asynchronous descent of every row of ``X`` in place.

    ``orders`` is (k, n): sweep s visits units in ``orders[s % k]``. Returns the number of
    sweeps each row needed (the last sweep changes nothing) or -1 if ``max_sweeps`` ran out.
    """
    B, n = X.shape
    sweeps = np.full(B, -1, dtype=np.int64)
    k = orders.shape[0]
    for b in range(B):
        x = X[b]
        h = _drive(x, J, theta)
        K = _count(x)
        for s in range(max_sweeps):
            changed = False
            o = orders[s % k]
            for t in range(n):
                i = o[t]
                g = _gain(h, V, x, i, K)
                if x[i] == 0 and g > TIE:
                    _flip(x, h, J, i, 1)
                    K += 1
                    changed = True
                elif x[i] == 1 and g < -TIE:
                    _flip(x, h, J, i, 0)
                    K -= 1
                    changed = True
            if not changed:
                sweeps[b] = s + 1
                break
    return sweeps


@njit(cache=True)
def gibbs_kernel(X0, J, theta, V, beta, burn_in, thin, n_keep, random_order, metropolis, seed):
    """Run one chain per row of ``X0``; keep every ``thin``-th sweep after ``burn_in`` sweeps.

    A sweep is n single-site updates, in a fresh random order or in index order. Gibbs
    (heat bath): ``x_i ~ Bernoulli(sigmoid(beta h_i))``. Metropolis: propose flipping x_i and
    accept with probability ``min(1, exp(-beta dE))``. Returns (chains, n_keep, n) uint8.
    """
    np.random.seed(seed)
    C, n = X0.shape
    out = np.zeros((C, n_keep, n), dtype=np.uint8)
    order = np.arange(n)
    for c in range(C):
        x = X0[c].copy()
        h = _drive(x, J, theta)
        K = _count(x)
        kept = 0
        total = burn_in + n_keep * thin
        for s in range(total):
            if random_order:
                order = np.random.permutation(n)
            for t in range(n):
                i = order[t]
                g = _gain(h, V, x, i, K)
                if metropolis:
                    dE = g if x[i] == 1 else -g
                    if dE <= 0.0 or np.random.random() < np.exp(-beta * dE):
                        K += 1 - 2 * x[i]
                        _flip(x, h, J, i, 1 - x[i])
                else:
                    p1 = 1.0 / (1.0 + np.exp(-beta * g))
                    new = 1 if np.random.random() < p1 else 0
                    if new != x[i]:
                        K += 1 - 2 * x[i]
                        _flip(x, h, J, i, new)
            if s >= burn_in and (s - burn_in) % thin == thin - 1:
                out[c, kept] = x
                kept += 1
    return out


@njit(cache=True)
def ais_kernel(J, theta, V, theta0, betas, n_chains, sweeps_per_beta, seed):
    """Annealed importance sampling log weights (Neal 2001), one chain per weight.

    Intermediate energies ``E_b(x) = b (-1/2 x^T J x + V(K)) + ((1-b) theta0 + b theta)^T x``:
    at b = 0 the independent model with fields ``theta0`` (sampled exactly), at b = 1 the
    target. The weight accumulates ``-(b_k - b_{k-1}) (E(x) - theta0^T x)`` before each Gibbs
    transition at ``b_k``.
    """
    np.random.seed(seed)
    n = J.shape[0]
    K = betas.shape[0]
    logw = np.zeros(n_chains)
    x = np.zeros(n, dtype=np.uint8)
    g = np.zeros(n)
    for c in range(n_chains):
        for i in range(n):
            x[i] = 1 if np.random.random() < 1.0 / (1.0 + np.exp(theta0[i])) else 0
        g[:] = 0.0
        for j in range(n):
            if x[j]:
                for i in range(n):
                    g[i] += J[j, i]
        # e_int = -1/2 x^T J x + V(K) + (theta - theta0)^T x
        cnt = _count(x)
        e_int = V[cnt]
        for i in range(n):
            if x[i]:
                e_int += -0.5 * g[i] + theta[i] - theta0[i]
        lw = 0.0
        for k in range(1, K):
            b = betas[k]
            lw -= (b - betas[k - 1]) * e_int
            if k == K - 1:
                break
            for _ in range(sweeps_per_beta):
                for i in range(n):
                    ki = cnt - x[i]
                    dv = V[ki + 1] - V[ki]
                    hb = b * (g[i] - dv) - ((1.0 - b) * theta0[i] + b * theta[i])
                    p1 = 1.0 / (1.0 + np.exp(-hb))
                    new = 1 if np.random.random() < p1 else 0
                    if new != x[i]:
                        d = 1.0 if new else -1.0
                        e_int += d * (-g[i] + dv + theta[i] - theta0[i])
                        cnt += 1 if new else -1
                        x[i] = new
                        for j in range(n):
                            g[j] += d * J[i, j]
        logw[c] = lw
    return logw


#: the exhaustive search recomputes the drive from scratch every RESYNC_STEPS flips, so that
#: the round-off of the incremental updates (5e-10 after the 2^26 flips of n = 26) stays bounded
RESYNC_STEPS = 1024


@njit(cache=True)
def exhaustive_fixed_kernel(J, theta, V, lowest, max_found):
    """Visit all 2^n states in Gray-code order (one flip per step, O(n) drive update) and return
    the states whose every flip energy ``u_i`` is at least ``lowest`` (at most ``max_found`` of
    them) and their count (which may exceed it). The drive is recomputed every
    :data:`RESYNC_STEPS` flips; the caller confirms the candidates with exact drives."""
    n = theta.shape[0]
    x = np.zeros(n, dtype=np.uint8)
    h = -theta.copy()
    K = 0
    found = np.zeros((max_found, n), dtype=np.uint8)
    count = 0
    total = np.int64(1) << n
    for k in range(total):
        if k > 0:
            # bit that changes between gray(k-1) and gray(k): lowest set bit of k
            i = 0
            kk = k
            while (kk & 1) == 0:
                kk >>= 1
                i += 1
            K += 1 - 2 * x[i]
            _flip(x, h, J, i, 1 - x[i])
            if (k & (RESYNC_STEPS - 1)) == 0:  # a power of two
                h[:] = _drive(x, J, theta)
        ok = True
        for i in range(n):
            g = _gain(h, V, x, i, K)
            u = g if x[i] == 1 else -g
            if u < lowest:
                ok = False
                break
        if ok:
            if count < max_found:
                found[count] = x
            count += 1
    return found[: min(count, max_found)], count
