"""The log partition function ``log Z = log sum_x exp(-E(x))`` (nats): exact and by AIS.

Exact: chunked enumeration. The units are split into a low block ``a`` and a high block ``b``;
``E(a, b) = E_a(a) + E_b(b) - a^T J_ab b`` so each chunk of high-block states costs one small
matrix product, and the sum is accumulated as a running log-sum-exp. n = 24 takes about a
second; up to ``MAX_EXACT_N`` = 34 works with patience.

AIS (annealed importance sampling, Neal 2001, "Annealed importance sampling", Stat. Comput.):
anneal from the independent model with fields ``theta0`` to the target by scaling the couplings
up (``E_b = -b/2 x^T J x + ((1-b) theta0 + b theta)^T x``), Gibbs transitions at each ``b``.
``log Z = log Z_0 + log mean(w)``; its standard error is estimated by the delta method,
``se = std(w) / (sqrt(K) mean(w))``, and the effective sample size is ``(sum w)^2 / sum w^2``
(Kong 1992). Neither shows a mode the chains never reached (a strongly coupled model whose
couplings, scaled up, open a deeper basin than the one the chains sit in: a first-order
transition); ``log Z >= -E(x)`` for every state does, so the states that asynchronous descent
reaches from all-off, all-on and :data:`AIS_CHECK_STARTS` random states bound the estimate from
below (:attr:`AISResult.lower_bound`), and an estimate under that bound is reported
(:class:`AISModeWarning`): it is too low by at least the difference.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from infodyn.energy._checks import ising_parameters, positive_int, rng_seed
from infodyn.energy.kernels import ais_kernel, descend_kernel
from infodyn.errors import require, whole_number
from infodyn.memory import require_memory

MAX_EXACT_N = 34
MAX_ENUMERATE_N = 22

#: random starts of the descent that bounds an AIS estimate from below (besides all-off, all-on)
AIS_CHECK_STARTS = 64


class AISModeWarning(UserWarning):
    """An AIS estimate of log Z below ``-E(x)`` of a known state: its chains missed a mode."""


def all_states(n: int) -> np.ndarray:
    """All 2^n binary states as a (2^n, n) uint8 array; row k is the binary expansion of k
    (unit i is bit i)."""
    n = whole_number(n, "n")  # "a" was a raw TypeError, 2.5 a NumPy one, True one unit
    require(n <= MAX_ENUMERATE_N, f"enumerating 2^{n} states is too large (n <= 22)")
    require_memory(  # the int64 shift table and the uint8 result
        9.0 * n * 2**n,
        f"the table of all 2^{n} states of {n} units",
        "use fewer units, or AIS (infodyn.energy.ais_log_partition)",
    )
    idx = np.arange(2**n, dtype=np.int64)
    return ((idx[:, None] >> np.arange(n)) & 1).astype(np.uint8)


def _block_energies(states: np.ndarray, J: np.ndarray, theta: np.ndarray) -> np.ndarray:
    s = states.astype(np.float64)
    return -0.5 * np.einsum("ki,ij,kj->k", s, J, s, optimize=True) + s @ theta


def neg_energy_blocks(
    J: np.ndarray,
    theta: np.ndarray,
    max_entries: int = 1 << 22,
    V: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """``-E`` of all 2^n states in blocks of at most about ``max_entries`` (float64): block
    ``[a, b]`` is the state whose low ``ceil(n/2)`` units spell ``a`` and high units ``b``. ``V``
    (n + 1 values) adds a potential ``V(K)`` on the count of active units."""
    max_entries = whole_number(max_entries, "max_entries", minimum=1)
    n = theta.shape[0]
    n_lo = (n + 1) // 2
    n_hi = n - n_lo
    lo = all_states(n_lo)
    hi_idx = np.arange(2**n_hi, dtype=np.int64)
    e_lo = _block_energies(lo, J[:n_lo, :n_lo], theta[:n_lo])
    a_cross = lo.astype(np.float64) @ J[:n_lo, n_lo:]  # (2^n_lo, n_hi)
    k_lo = lo.sum(1, dtype=np.int64)
    chunk = max(1, max_entries // lo.shape[0])
    for start in range(0, hi_idx.size, chunk):
        hb = ((hi_idx[start : start + chunk, None] >> np.arange(n_hi)) & 1).astype(np.float64)
        e_hi = _block_energies(hb, J[n_lo:, n_lo:], theta[n_lo:])
        neg_e = -(e_lo[:, None] + e_hi[None, :] - a_cross @ hb.T)
        if V is not None:
            neg_e -= V[k_lo[:, None] + hb.sum(1).astype(np.int64)[None, :]]
        yield neg_e


def exact_log_partition(
    J: np.ndarray, theta: np.ndarray, max_entries: int = 1 << 22, V: np.ndarray | None = None
) -> float:
    """Exact ``log Z`` by chunked enumeration of all 2^n states (float64 throughout); ``V``
    adds a potential on the count of active units (K-pairwise model)."""
    J, theta, V, _ = ising_parameters(J, theta, V)
    n = theta.shape[0]
    require(n <= MAX_EXACT_N, f"exact log Z needs n <= {MAX_EXACT_N} (got n = {n}); use AIS")
    run_max, run_sum = -np.inf, 0.0
    for neg_e in neg_energy_blocks(J, theta, max_entries, V):
        m = float(neg_e.max())
        if m > run_max:
            run_sum = run_sum * np.exp(run_max - m) if np.isfinite(run_max) else 0.0
            run_max = m
        run_sum += float(np.exp(neg_e - run_max).sum())
    return float(run_max + np.log(run_sum))


@dataclass(frozen=True)
class AISResult:
    """An AIS estimate of ``log Z`` (nats) with its delta-method standard error."""

    log_z: float
    stderr: float
    ess: float
    n_chains: int
    n_betas: int
    log_weights: np.ndarray
    #: ``log sum exp(-E(x))`` over the distinct states descent reached: ``log Z`` is at least it
    lower_bound: float = float("nan")

    def __float__(self) -> float:
        return self.log_z


def ais_log_partition(
    J: np.ndarray,
    theta: np.ndarray,
    n_chains: int = 500,
    n_betas: int = 1000,
    sweeps_per_beta: int = 1,
    theta0: np.ndarray | None = None,
    seed: int = 0,
    V: np.ndarray | None = None,
) -> AISResult:
    """Estimate ``log Z`` by annealed importance sampling from an independent model.

    ``theta0`` are the base fields (default: the target's own ``theta``, i.e. the couplings
    are scaled up from zero). ``V`` (n + 1 values) is a potential on the count of active units,
    scaled up with the couplings (K-pairwise model). ``n_betas`` evenly spaced inverse
    temperatures in [0, 1], with ``sweeps_per_beta`` Gibbs sweeps at each; more of either lowers
    the bias and the variance.
    """
    n_chains = positive_int(n_chains, "n_chains", 2)
    n_betas = positive_int(n_betas, "n_betas", 2)
    sweeps_per_beta = positive_int(sweeps_per_beta, "sweeps_per_beta")
    seed = rng_seed(seed)
    J, theta, V, theta0 = ising_parameters(J, theta, V, theta0)
    t0 = theta.copy() if theta0 is None else theta0
    betas = np.linspace(0.0, 1.0, n_betas)
    V = np.zeros(theta.shape[0] + 1) if V is None else V
    logw = ais_kernel(J, theta, V, t0, betas, n_chains, sweeps_per_beta, seed)
    log_z0 = float(np.sum(np.logaddexp(0.0, -t0)))
    top = logw.max()
    w = np.exp(logw - top)
    mean_w = w.mean()
    log_z = log_z0 + float(top + np.log(mean_w))
    stderr = float(w.std(ddof=1) / (np.sqrt(n_chains) * mean_w))
    ess = float(w.sum() ** 2 / np.sum(w**2))
    bound = descent_lower_bound(J, theta, V, seed)
    if log_z < bound:
        warnings.warn(
            f"AIS log Z = {log_z:.6g} is below {bound:.6g}, the log-sum of exp(-E) over states "
            f"that descent reaches, so it is too low by at least {bound - log_z:.3g} nats: its "
            "chains stayed out of a deeper mode of the model (their standard error and "
            "effective sample size cannot show this); use the exact log Z (n <= 34 units) or "
            "more inverse temperatures (n_betas)",
            AISModeWarning,
            stacklevel=2,
        )
    elif stderr > 0.05:
        warnings.warn(
            f"AIS log Z has a standard error of {stderr:.3f} nats (effective sample size "
            f"{ess:.0f} of {n_chains}); raise n_betas or n_chains",
            UserWarning,
            stacklevel=2,
        )
    return AISResult(log_z, stderr, ess, n_chains, n_betas, logw, bound)


def descent_lower_bound(
    J: np.ndarray, theta: np.ndarray, V: np.ndarray, seed: int, n_starts: int = AIS_CHECK_STARTS
) -> float:
    """``log sum_x exp(-E(x))`` over the distinct states that asynchronous descent (in unit
    order) reaches from all-off, all-on and ``n_starts`` random states: a lower bound of
    ``log Z`` (every term of Z is positive). ``E(x) = -1/2 x^T J x + theta^T x + V(K)``."""
    n = theta.shape[0]
    rng = np.random.default_rng([seed, n_starts])
    starts = np.vstack([np.zeros((1, n)), np.ones((1, n)), rng.random((n_starts, n)) < 0.5]).astype(
        np.uint8
    )
    descend_kernel(starts, J, theta, V, np.arange(n)[None, :], 10 * n + 100)
    ends = np.unique(starts, axis=0)
    neg_e = -_block_energies(ends, J, theta) - V[ends.sum(axis=1, dtype=np.int64)]
    top = float(neg_e.max())
    return top + float(np.log(np.sum(np.exp(neg_e - top))))
