"""Moments of an energy model's Boltzmann family by replica exchange, and their errors.

:func:`tempering_moments` runs replica exchange (:mod:`.tempering`) over a ladder of inverse
temperatures and returns ``C = beta^2 Var(E)`` and ``<E>`` at each, with errors from blocks of
sweeps (Efron 1982; Flyvbjerg & Petersen 1989, J. Chem. Phys. 91:461: blocks longer than the
chain's correlation time make the block means nearly independent):

* the blocked jackknife: ``C_(b)`` leaves block b out, and
  ``err = sqrt((B - 1)/B sum_b (C_(b) - mean_b C_(b))^2)``. All replicas share the sweeps, so
  a block is the same stretch of the run at every temperature: a quantity made of several
  temperatures (the entropy integral of :mod:`.thermo`) takes its error from the same leave-one-
  block-out replicates (``c_jack``), which keep the correlation that replica exchange puts
  between neighbouring temperatures (errors added in quadrature left it out: 1.2-1.5x too small
  at a sharp transition);
* the block bootstrap for the location of the C(T) peak (:func:`peak_spread`): the argmax of a
  curve is not a smooth function of the moments, where the jackknife fails (as for the median,
  Efron 1982, ch. 3), so blocks are drawn with replacement instead (Kuensch 1989, Ann. Stat.
  17:1217) and the peak found on each draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.energy._checks import positive_int, rng_seed
from infodyn.energy.tempering import tempering_kernel
from infodyn.errors import require
from infodyn.memory import require_memory

#: the replica-exchange options of :func:`tempering_moments` and their defaults
MCMC_DEFAULTS = {"n_sweeps": 4000, "burn_in": 1000, "n_blocks": 20}
#: block-bootstrap draws for the spread of the C(T) peak
PEAK_DRAWS = 400


def _mcmc_options(n_sweeps: Any, burn_in: Any, n_blocks: Any, seed: Any) -> tuple[int, ...]:
    """The replica-exchange options, checked: whole numbers (``n_sweeps >= 2 n_blocks``)."""
    n_sweeps = positive_int(n_sweeps, "n_sweeps", 2)
    burn_in = positive_int(burn_in, "burn_in", 0)
    n_blocks = positive_int(n_blocks, "n_blocks", 2)
    require(n_sweeps >= 2 * n_blocks, "n_sweeps must be at least 2 * n_blocks")
    return n_sweeps, burn_in, n_blocks, rng_seed(seed)


def _block_moments(e: np.ndarray, n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """The first and second moments of ``e`` (sweeps, R), centred on its mean, in each of
    ``n_blocks`` contiguous blocks of sweeps: two (n_blocks, R) arrays (a remainder of fewer
    than ``n_blocks`` sweeps at the end is left out)."""
    L = e.shape[0] // n_blocks
    d = e[: n_blocks * L] - e[: n_blocks * L].mean(0)
    blk = d.reshape(n_blocks, L, -1)
    return blk.mean(1), (blk**2).mean(1)


def _jackknife(e: np.ndarray, betas: np.ndarray, n_blocks: int) -> tuple[np.ndarray, ...]:
    """C = beta^2 Var(E) and <E> per column of ``e`` (sweeps, R) with jackknife errors over
    ``n_blocks`` contiguous blocks of sweeps (module docstring); the fifth result holds the
    leave-one-block-out replicates of C, (n_blocks, R)."""
    return _jackknife_blocks(e, betas, *_block_moments(e, n_blocks))


def _jackknife_blocks(
    e: np.ndarray, betas: np.ndarray, m1b: np.ndarray, m2b: np.ndarray
) -> tuple[np.ndarray, ...]:
    """:func:`_jackknife` from the block moments of ``e`` (:func:`_block_moments`)."""
    nb = m1b.shape[0]
    m1, m2 = m1b.mean(0), m2b.mean(0)
    c = betas**2 * (m2 - m1**2)
    m1j = (nb * m1 - m1b) / (nb - 1)
    m2j = (nb * m2 - m2b) / (nb - 1)
    cj = betas**2 * (m2j - m1j**2)
    c_err = jackknife_sd(cj)
    mean = e[: nb * (e.shape[0] // nb)].mean(0)
    mean_err = m1b.std(0, ddof=1) / np.sqrt(nb)
    return c, c_err, mean, mean_err, cj


def jackknife_sd(replicates: np.ndarray) -> np.ndarray:
    """The jackknife standard error ``sqrt((B - 1)/B sum_b (r_b - mean r)^2)`` of leave-one-out
    ``replicates`` (B, ...) along their first axis."""
    nb = replicates.shape[0]
    return np.sqrt((nb - 1) / nb * np.sum((replicates - replicates.mean(0)) ** 2, axis=0))


def tempering_moments(
    model: Any,
    betas: np.ndarray,
    n_sweeps: int = MCMC_DEFAULTS["n_sweeps"],
    burn_in: int = MCMC_DEFAULTS["burn_in"],
    n_blocks: int = MCMC_DEFAULTS["n_blocks"],
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """``beta^2 Var(E)`` and ``<E>`` with jackknife errors at each inverse temperature (sorted
    ascending) by replica exchange; also the exchange acceptance of each neighbouring pair, the
    jackknife replicates of C (``c_jack``, (n_blocks, R)) and the centred block moments
    (``block_m1``, ``block_m2``) that :func:`peak_spread` resamples."""
    n_sweeps, burn_in, n_blocks, seed = _mcmc_options(n_sweeps, burn_in, n_blocks, seed)
    require_memory(  # the kernel keeps every sweep's energies (n_sweeps=10**9: MemoryError)
        8.0 * (burn_in + n_sweeps) * betas.size,
        f"the energies of {betas.size} replicas over {burn_in + n_sweeps} sweeps",
        "use fewer sweeps or temperatures",
    )
    rng = np.random.default_rng(seed)
    X0 = (rng.random((betas.size, model.n)) < 0.5).astype(np.uint8)
    V = np.ascontiguousarray(model.potential, dtype=np.float64)
    e, acc, tried = tempering_kernel(
        model.J, model.theta, V, betas, X0, burn_in + n_sweeps, rng_seed(seed)
    )
    m1b, m2b = _block_moments(e[burn_in:], n_blocks)
    c, c_err, mean, mean_err, c_jack = _jackknife_blocks(e[burn_in:], betas, m1b, m2b)
    return {
        "c": c,
        "c_err": c_err,
        "mean": mean,
        "mean_err": mean_err,
        "acceptance": acc / np.maximum(tried, 1),
        "c_jack": c_jack,
        "block_m1": m1b,
        "block_m2": m2b,
    }


def peak(temperatures: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Location and height of the maximum of ``values`` over ``temperatures``: the grid maximum,
    refined by the parabola in log T through it and its two neighbours when it is interior."""
    # a temperature given twice is one point (its mean): a parabola through two equal
    # abscissae was ill-posed and its height neither value
    T, where = np.unique(np.asarray(temperatures, dtype=np.float64), return_inverse=True)
    v = np.bincount(where, weights=np.asarray(values, dtype=np.float64)) / np.bincount(where)
    k = int(np.argmax(v))
    if 0 < k < T.size - 1:
        x = np.log(T[k - 1 : k + 2])
        a, b, c0 = np.polyfit(x, v[k - 1 : k + 2], 2)
        if a < 0:
            xm = float(np.clip(-b / (2 * a), x[0], x[2]))
            return float(np.exp(xm)), float(a * xm * xm + b * xm + c0)
    return float(T[k]), float(v[k])


def peak_spread(
    temperatures: np.ndarray, betas: np.ndarray, mom: dict[str, np.ndarray], seed: int
) -> tuple[float, float]:
    """The standard deviation of the C(T) peak's location and of its height (per unit of
    ``mom``'s scale) over :data:`PEAK_DRAWS` block-bootstrap draws (module docstring):
    ``temperatures`` in the order of the moments' ``betas``."""
    m1b, m2b = mom["block_m1"], mom["block_m2"]
    nb = m1b.shape[0]
    rng = np.random.default_rng(rng_seed(seed))
    draws = rng.integers(0, nb, size=(PEAK_DRAWS, nb))
    m1, m2 = m1b[draws].mean(1), m2b[draws].mean(1)  # (draws, R)
    c = betas**2 * (m2 - m1**2)
    found = np.array([peak(temperatures, row) for row in c])
    return float(found[:, 0].std(ddof=1)), float(found[:, 1].std(ddof=1))
