"""Denoising binary patterns with an energy model as the prior.

A pattern ``x`` seen through a binary symmetric channel that flips each bit with probability
``eps`` gives ``y``; with the prior ``p(x) ~ exp(-E(x))``, ``E(x) = -1/2 x J x + theta x``, the
posterior ``p(x | y) ~ exp(-E(x)) prod_i eps^[x_i != y_i] (1 - eps)^[x_i = y_i]`` is again a
pairwise model, with the thresholds ``theta_i - L (2 y_i - 1)``, ``L = log((1 - eps) / eps)``.
:func:`posterior_descent` finds a local maximum a posteriori estimate by iterated conditional
modes (Besag 1986, J. R. Stat. Soc. B 48:259, section 2.5); :func:`denoising_rows` scores it
against the independent prior and plain descent to a memory (Hopfield 1982, PNAS 79:2554).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from infodyn.energy._checks import as_binary, positive_int, require_model, rng_seed, seed_plus
from infodyn.energy.codes import corrupt
from infodyn.errors import is_finite_number, require


def posterior_descent(model: Any, Y: np.ndarray, flip_prob: float, max_sweeps: int = 50):
    """Denoise binary rows ``Y`` observed through a binary symmetric channel.

    Asynchronous descent of the posterior energy (module docstring) from ``y``: unit ``i`` is set
    to 1 exactly when ``sum_j J_ij x_j - theta_i + L (2 y_i - 1) > 0``. It never raises the
    posterior energy and stops at a local MAP estimate (no single flip lowers it) or after
    ``max_sweeps`` sweeps, warning (``UserWarning``) of the rows that had not settled. Returns
    ``uint8`` rows.
    """
    require_model(model)
    require(
        is_finite_number(flip_prob) and 0 < flip_prob < 0.5,
        f"flip probability must be in (0, 0.5), got {flip_prob!r}",
    )
    max_sweeps = positive_int(max_sweeps, "max_sweeps")
    V = getattr(model, "potential", None)
    require(  # the rule below has no V(K) term: it descended another energy
        V is None or not np.any(np.asarray(V) != 0),
        "posterior_descent takes pairwise models; this model has a potential V(K) on the count "
        "of active units",
    )
    J, theta = np.asarray(model.J), np.asarray(model.theta)
    X = as_binary(Y, "Y", n=theta.shape[0]).astype(np.float64)
    bias = math.log((1 - flip_prob) / flip_prob) * (2 * X - 1) - theta
    for _ in range(max_sweeps):
        changed = np.zeros(X.shape[0], dtype=bool)
        for i in range(X.shape[1]):
            new = (X @ J[:, i] + bias[:, i] > 0).astype(np.float64)
            flips = new != X[:, i]
            if np.any(flips):
                changed |= flips
                X[:, i] = new
        if not np.any(changed):
            break
    else:  # rows still changing are no local MAP estimate (as descend warns)
        warnings.warn(
            f"{int(np.sum(changed))} row(s) did not reach a local MAP estimate in max_sweeps = "
            f"{max_sweeps} sweeps: raise max_sweeps",
            UserWarning,
            stacklevel=2,
        )
    return X.astype(np.uint8)


def denoising_rows(model: Any, ind: Any, patterns: np.ndarray, flips: list[int], seed: int):
    """For each ``k`` in ``flips``: corrupt ``patterns`` by ``k`` flips (:func:`corrupt`) and
    report the mean number of bits wrong after :func:`posterior_descent` (``eps = k / n``) under
    the pairwise prior ``model`` and the independent prior ``ind``, after plain descent to a
    memory of ``model``, and the fraction restored exactly by the pairwise posterior."""
    require_model(model)
    patterns = as_binary(patterns, "patterns", n=model.n)  # "a": an AttributeError
    n = patterns.shape[1]
    seed = rng_seed(seed)
    require(  # None had no len(), text failed the comparison below
        isinstance(flips, list | tuple | np.ndarray) and len(flips) > 0,
        f"flips must list at least one number of flips, got {flips!r:.60}",
    )
    rows = []
    for j, k in enumerate(flips):
        require(
            isinstance(k, int | np.integer) and not isinstance(k, bool) and 0 < k < n / 2,
            f"flips must be whole numbers in (0, {n / 2:g}), got {k!r:.30}",
        )
        noisy = corrupt(patterns, int(k), seed=seed_plus(seed, j))
        eps = k / n
        clean = {
            name: posterior_descent(m, noisy, eps)
            for name, m in (("pairwise", model), ("independent", ind))
        }
        rows.append(
            {
                "k": int(k),
                "bits_wrong_after_posterior_pairwise": float(
                    np.mean(np.sum(clean["pairwise"] != patterns, axis=1))
                ),
                "bits_wrong_after_posterior_independent": float(
                    np.mean(np.sum(clean["independent"] != patterns, axis=1))
                ),
                "bits_wrong_after_memory_descent": float(
                    np.mean(np.sum(model.descend(noisy) != patterns, axis=1))
                ),
                "fraction_exactly_restored_pairwise": float(
                    np.mean(np.all(clean["pairwise"] == patterns, axis=1))
                ),
            }
        )
    return rows
