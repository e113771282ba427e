"""Maximum-likelihood refinement of the potential V(K) of a K-pairwise model, J and theta fixed.

MPF and pseudolikelihood only compare each data word with its one-flip neighbours, so they do
not constrain the weight of population counts K the data rarely visit: a converged fit can put
much of its mass there. Likelihood does: with ``E(x) = -1/2 x^T J x + theta^T x + V(K)``,

    P_model(K) = Z_K exp(-V(K)) / Z,    Z_K = sum_{x: sum x = K} exp(1/2 x^T J x - theta^T x),

and ``d log L / d V(K) = P_model(K) - P_data(K)`` per word (Tkacik et al. 2014, PLoS Comput Biol
10:e1003408, eq. 5-6; Boltzmann learning restricted to V, Ackley, Hinton & Sejnowski 1985, Cogn.
Sci. 9:147). Since ``Z_K`` does not depend on V, the penalised negative log-likelihood per word

    f(V) = sum_K P_data(K) V(K) + log sum_K exp(L_K - V(K)) + l2_potential sum_K (D V)(K)^2,

``L_K = log Z_K``, ``(D V)(K) = (D2 V)(K) - mean_K (D2 V)(K)`` with D2 the second difference, is
a convex function of the n + 1 values V(K) alone. The penalty is the curvature penalty of
``kobjectives`` taken about the mean curvature instead of the curvature at K = 1. A quadratic
part of V (the mean coupling, which ``canonical`` moves into J) and a linear part (the mean
field) cost nothing, as they cost nothing in V when J and theta are fitted too. In the canonical
gauge the reference is (D2 V)(1) = V(2) - 2 V(1) + V(0), so with J and theta fixed any change of
V(0..2) moves all n - 1 terms: the rare counts K <= 2 of the network words could not be matched
(P(K) total variation stuck at 0.09 at N = 80). Each iteration estimates ``P_model(K)`` at the
current V, reads ``L_K = log P_model(K) + V(K)`` (up to a constant), and minimises f by Newton's
method with the Hessian ``diag(q) - q q^T + 2 l2_potential D^T D``, ``q = softmax(L - V)``; the
step is damped by ``step``. With ``method="exact"`` (enumeration, n <= 20) L_K is exact and one
iteration reaches the optimum; with ``method="mc"`` P_model(K) comes from Gibbs chains
(``sampling.sample``), three quarters started at data words, the rest at uniform random words
(they find a second mode away from the data, which the data-started chains can miss; their share
only reweights whole modes, and where the data have no words ML pushes that mass out anyway). A
count sampled by no chain gets ``pseudocount`` samples where the data visit it and keeps its V
where they do not (nothing is known of its L_K there: left to the penalty alone, V would
continue the visited counts' curve, and with the fitted J this can open a mode near K = n that
the chains then chase for many iterations; the trained-network fits at N = 80 did so). The
result is returned in the canonical gauge (``KPairwiseModel.canonical``: the linear and
quadratic parts of the new V move into theta and J, the same distribution).

No replica exchange: the library's kernel (``tempering``) returns energies, not states. The
Monte Carlo P_model(K) has sampling noise, so the total variation stops falling near its noise
floor (about 0.01-0.02 with 20000 correlated samples over some 20 occupied counts); ``tol`` below
that floor is never met and all ``iterations`` run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logsumexp, softmax

from infodyn.energy._checks import as_binary, positive_int, rng_seed, seed_plus
from infodyn.energy.kpairwise import KPairwiseModel
from infodyn.energy.model import IsingModel
from infodyn.energy.partition import neg_energy_blocks
from infodyn.energy.sampling import sample
from infodyn.errors import is_finite_number, require, require_choice

MAX_EXACT_N = 20
RANDOM_STARTS = 0.25


def count_log_weights(J: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``log Z_K`` for K = 0..n by enumeration of all 2^n states (n <= 20; module docstring)."""
    n = theta.shape[0]
    n_lo = (n + 1) // 2
    k_lo = np.array([bin(i).count("1") for i in range(2**n_lo)], dtype=np.int64)
    out = np.full(n + 1, -np.inf)
    start = 0
    for neg_e in neg_energy_blocks(J, theta):
        hi = np.arange(start, start + neg_e.shape[1], dtype=np.int64)
        k_hi = np.array([bin(int(i)).count("1") for i in hi], dtype=np.int64)
        K = (k_lo[:, None] + k_hi[None, :]).ravel()
        flat = neg_e.ravel()
        for k in np.unique(K):
            out[k] = np.logaddexp(out[k], logsumexp(flat[K == k]))
        start += neg_e.shape[1]
    return out


def _curvature_deviation(n: int) -> np.ndarray:
    """``D`` (n - 1, n + 1): ``(D V)(K) = (D2 V)(K) - mean (D2 V)``, ``(D2 V)(K) = V(K+1) -
    2 V(K) + V(K-1)`` (module docstring)."""
    D2 = np.diff(np.eye(n + 1), 2, axis=0)
    return D2 - D2.mean(0)


def penalised_objective(V: np.ndarray, L: np.ndarray, pk: np.ndarray, lv: float) -> float:
    """``f(V)`` of the module docstring; counts with ``L = -inf`` carry no model weight."""
    d = np.diff(V, 2)
    d = d - d.mean()
    return float(pk @ V + logsumexp(L - V) + lv * d @ d)


def solve_potential(
    V: np.ndarray,
    L: np.ndarray,
    pk: np.ndarray,
    lv: float,
    free: np.ndarray | None = None,
    max_newton: int = 100,
) -> np.ndarray:
    """Minimise ``f`` over the ``free`` values of V (default all) from ``V`` by Newton's
    method with backtracking (module docstring); the others keep their values. The constant
    direction is an exact null direction; it is fixed by the minimum-norm step."""
    n = V.size - 1
    free = np.ones(n + 1, dtype=bool) if free is None else free
    D = _curvature_deviation(n)
    P = 2.0 * lv * D.T @ D
    V = V.copy()
    f = penalised_objective(V, L, pk, lv)
    for _ in range(max_newton):
        q = softmax(L - V)
        g = np.where(free, pk - q + P @ V, 0.0)
        if np.max(np.abs(g)) < 1e-11:
            break
        H = (np.diag(q) - np.outer(q, q) + P)[np.ix_(free, free)]
        step = np.zeros(n + 1)
        step[free] = -np.linalg.lstsq(H + 1e-12 * np.eye(H.shape[0]), g[free], rcond=1e-13)[0]
        t = 1.0
        while t > 1e-8:
            f_new = penalised_objective(V + t * step, L, pk, lv)
            if f_new <= f + 1e-4 * t * (g @ step):
                break
            t *= 0.5
        if t <= 1e-8:
            break
        V, f = V + t * step, f_new
    return V


def _model_counts(model: KPairwiseModel, X: np.ndarray, method: str, opts: dict) -> np.ndarray:
    """P_model(K): exact (enumeration) or from Gibbs chains (module docstring)."""
    n = model.n
    if method == "exact":
        lw = count_log_weights(model.J, model.theta) - model.V
        return np.exp(lw - logsumexp(lw))
    rng = np.random.default_rng(opts["seed"])
    chains = opts["chains"]
    n_rand = int(round(RANDOM_STARTS * chains))
    starts = np.concatenate(
        [
            X[rng.choice(X.shape[0], chains - n_rand)],
            (rng.random((n_rand, n)) < 0.5).astype(np.uint8),
        ]
    )
    S = sample(
        model,
        opts["n_samples"],
        seed=opts["seed"],
        chains=chains,
        burn_in=opts["burn_in"],
        thin=opts["thin"],
        init=starts,
    )
    return np.bincount(S.sum(1, dtype=np.int64), minlength=n + 1) / S.shape[0]


def refine_potential(
    model: IsingModel,
    X: Any,
    *,
    method: str = "mc",
    iterations: int = 10,
    n_samples: int = 20000,
    seed: int = 0,
    l2_potential: float = 1e-3,
    tol: float = 0.01,
    step: float = 1.0,
    chains: int = 64,
    burn_in: int = 300,
    thin: int = 2,
    pseudocount: float = 0.5,
) -> KPairwiseModel:
    """Refit the potential V(K) of ``model`` to the words ``X`` by maximum likelihood with
    J and theta fixed (module docstring); a pairwise model starts from V = 0.

    ``method``: ``"exact"`` (enumeration, n <= 20) or ``"mc"`` (``n_samples`` Gibbs samples
    from ``chains`` chains, ``burn_in`` sweeps, every ``thin``-th sweep kept; the seed of
    iteration i is ``seed + i``). Stops when the total variation ``1/2 sum_K |P_model(K) -
    P_data(K)|`` is at most ``tol`` or after ``iterations`` updates; ``step`` in (0, 1] damps
    each update. ``l2_potential``: the weight of the curvature penalty (module docstring).

    Returns a canonical :class:`KPairwiseModel`; its ``fit_info["refine_potential"]`` holds the
    diagnostics: the total variation before each update and after the last (``tv``), the
    penalised objective of each update's surrogate, the iterations and whether ``tol`` was met.
    """
    require(isinstance(model, IsingModel), "model must be an IsingModel or KPairwiseModel")
    require_choice("method", method, ("exact", "mc"))
    n = model.n
    if method == "exact":
        require(n <= MAX_EXACT_N, f"method='exact' needs n <= {MAX_EXACT_N} (got {n}); use 'mc'")
    X = as_binary(X, n=n, min_rows=2)
    iterations = positive_int(iterations, "iterations")
    opts = {
        "n_samples": positive_int(n_samples, "n_samples", 100),
        "chains": positive_int(chains, "chains"),
        "burn_in": positive_int(burn_in, "burn_in", 0),
        "thin": positive_int(thin, "thin"),
    }
    seed = rng_seed(seed)
    for name, val in (("l2_potential", l2_potential), ("tol", tol), ("pseudocount", pseudocount)):
        require(is_finite_number(val) and val >= 0, f"{name} must be finite and >= 0")
    require(is_finite_number(step) and 0 < step <= 1, f"step must be in (0, 1], got {step!r}")
    pk = np.bincount(X.sum(1, dtype=np.int64), minlength=n + 1) / X.shape[0]
    require(
        l2_potential > 0 or bool(np.all(pk > 0)),
        "l2_potential must be > 0 when the data miss some counts K (their V would diverge)",
    )
    info_in = dict(model.fit_info or {})
    current = KPairwiseModel(model.J, model.theta, np.asarray(model.potential, np.float64))
    tv: list[float] = []
    objective: list[float] = []
    converged = False
    for it in range(iterations + 1):
        opts["seed"] = seed_plus(seed, it)
        pm = _model_counts(current, X, method, opts)
        tv.append(float(0.5 * np.abs(pm - pk).sum()))
        if tv[-1] <= tol:
            converged = True
            break
        if it == iterations:
            break
        informed = (pm > 0) | (pk > 0)
        if method == "mc":
            pm = np.where((pm == 0) & (pk > 0), pseudocount / opts["n_samples"], pm)
        with np.errstate(divide="ignore"):
            L = np.log(pm) + current.V
        V_new = solve_potential(current.V, L, pk, l2_potential, informed)
        objective.append(penalised_objective(V_new, L, pk, l2_potential))
        V_new = current.V + step * (V_new - current.V)
        current = KPairwiseModel(current.J, current.theta, V_new)
    info_in["refine_potential"] = {
        "method": method,
        "tv": tv,
        "surrogate_objective": objective,
        "n_updates": len(objective),
        "converged": converged,
        "tol": float(tol),
        "l2_potential": float(l2_potential),
        "n_samples": opts["n_samples"] if method == "mc" else None,
    }
    out = current.canonical()
    return KPairwiseModel(out.J, out.theta, out.V, info_in)
