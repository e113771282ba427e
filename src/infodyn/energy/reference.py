"""Plain NumPy MPF and pseudolikelihood objectives with hand-derived gradients.

An independent implementation of the objectives in ``objectives.py`` (same packing, same
per-pattern normalisation), used to cross-check the JAX gradients and as the NumPy/SciPy peer in
``benchmarks/bench_energy.py``. With ``g_i = dL/du_i`` per pattern, ``s = 2x - 1``:
``dL/dtheta_i = -<g_i s_i>``, ``dL/dJ_ij = <g_i s_i x_j> + <g_j s_j x_i>`` (i < j), where
MPF has ``g = -exp(-u/2)/2`` and PL has ``g = -sigmoid(-u)``.
"""

from __future__ import annotations

import numpy as np

from infodyn.energy.objectives import unpack_numpy


def value_and_grad(
    p: np.ndarray, X: np.ndarray, w: np.ndarray, method: str = "mpf", l2: float = 0.0
) -> tuple[float, np.ndarray]:
    """Objective (per pattern, plus ``l2 sum_{i<j} J_ij^2``) and its gradient, NumPy float64."""
    n = X.shape[1]
    J, theta = unpack_numpy(p, n)
    Xf = X.astype(np.float64)
    s = 2.0 * Xf - 1.0
    u = s * (Xf @ J - theta)
    W = w.sum()
    if method == "mpf":
        e = np.exp(-0.5 * u)
        value = float(w @ e.sum(1)) / W
        g = -0.5 * e
    elif method == "pl":
        value = float(w @ np.logaddexp(0.0, -u).sum(1)) / W
        g = -0.5 * (1.0 - np.tanh(0.5 * u))  # -sigmoid(-u)
    else:
        raise ValueError(f"unknown method {method!r}")
    gs = g * s * w[:, None]
    d_theta = -gs.sum(0) / W
    G = gs.T @ Xf / W
    iu = np.triu_indices(n, 1)
    d_upper = (G + G.T)[iu]
    upper = J[iu]
    value += l2 * float(upper @ upper)
    d_upper = d_upper + 2.0 * l2 * upper
    return value, np.concatenate([d_upper, d_theta])
