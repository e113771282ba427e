"""L-BFGS-B on the K-pairwise objective with the potential block preconditioned.

In the free coordinates ``(J', theta', W)`` of ``kobjectives`` the slow directions left are
smooth modes of W: counts the data rarely or never visit, held only by the curvature penalty
``l2_potential sum (V(K+1) - 2 V(K) + V(K-1))^2``, whose smallest eigenvalues over a run of L
unvisited counts fall like ``l2_potential (pi / L)^4`` (about 1e-9 for the network words, whose
counts above ~15 of 80 never occur). The W block of the Hessian is small, (n + 1)^2, and cheap
(``make_potential_hessian``: the data product x J' does not depend on W). With its
eigendecomposition ``H_WW = U diag(lam) U^T`` the optimiser works on z with
``W = W_ref + U diag(lam_c^-1/2) z``, ``lam_c = max(lam, floor lam_max)``, so the W block is the
identity in z (Nocedal & Wright 2006, Numerical Optimization, ch. 7.2, a fixed preconditioner
as a change of variables). The block is refreshed at the current point after ``refresh``
iterations, doubling each time (L-BFGS-B restarts then, losing its memory). This only changes
the path: the objective and its optimum are those of the free coordinates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize

FLOOR = 1e-10


def potential_scaling(H: np.ndarray, floor: float = FLOOR) -> np.ndarray:
    """``M = U diag(max(lam, floor lam_max)^-1/2)`` of the symmetric block ``H`` (the map
    ``W = W_ref + M z``); H's exact null direction (constant W) gets the floor's scale."""
    lam, U = np.linalg.eigh(0.5 * (H + H.T))
    lam_c = np.maximum(lam, floor * max(float(lam.max()), 1e-300))
    return U / np.sqrt(lam_c)


def lbfgs_potential_preconditioned(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    hessian_w: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    n_w: int,
    maxiter: int,
    options: dict[str, Any],
    callback: Callable[[np.ndarray], None] | None = None,
    refresh: int = 50,
) -> tuple[np.ndarray, int, int, bool, str]:
    """Minimise ``fun`` (value and gradient in the free coordinates ``x``, the last ``n_w``
    entries W) from ``x0``; ``hessian_w(x)`` gives the W block at x. ``callback(x)`` is called
    with the free coordinates after every iteration and may raise StopIteration.

    Returns ``(x, iterations, evaluations, converged, message)``."""
    x = np.array(x0, dtype=np.float64)
    k = x.size - n_w
    nit = nfev = 0
    chunk = refresh
    while True:
        M = potential_scaling(np.asarray(hessian_w(x), dtype=np.float64))
        w_ref = x[k:].copy()

        def to_x(y: np.ndarray, M: np.ndarray = M, w_ref: np.ndarray = w_ref) -> np.ndarray:
            return np.concatenate([y[:k], w_ref + M @ y[k:]])

        def f(y: np.ndarray, M: np.ndarray = M, to_x: Callable = to_x) -> tuple[float, np.ndarray]:
            v, g = fun(to_x(y))
            return v, np.concatenate([g[:k], M.T @ g[k:]])

        stopped = []

        def cb(y: np.ndarray, to_x: Callable = to_x, stopped: list = stopped) -> None:
            if callback is not None:
                try:
                    callback(to_x(y))
                except StopIteration:
                    stopped.append(True)
                    raise

        y0 = np.concatenate([x[:k], np.zeros(n_w)])
        left = maxiter - nit
        res = minimize(
            f,
            y0,
            jac=True,
            method="L-BFGS-B",
            callback=cb,
            options={**options, "maxiter": min(chunk, left)},
        )
        x = to_x(np.asarray(res.x))
        nit += int(res.nit)
        nfev += int(res.nfev)
        done = bool(res.success) or bool(stopped) or nit >= maxiter
        if done or str(res.message).startswith("ABNORMAL"):
            return x, nit, nfev, bool(res.success), str(res.message)
        chunk *= 2
