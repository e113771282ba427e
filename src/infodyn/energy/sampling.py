"""The energy function as a generative model: seeded Gibbs and Metropolis chains, and the
statistics of samples against data.

Gibbs (heat bath): ``x_i ~ Bernoulli(sigmoid(h_i))`` with ``h = J x - theta``; Metropolis:
flip x_i with probability ``min(1, exp(-u_i))``. Chains start from uniformly random states (or
given states), run ``burn_in`` sweeps, then keep every ``thin``-th sweep. Several chains run side
by side; samples are returned chain after chain.

Statistics (``sample_statistics``): unit means, pairwise covariances ``<x_i x_j> - <x_i><x_j>``,
connected triplet correlations
``<x_i x_j x_k> - <x_i x_j><x_k> - <x_i x_k><x_j> - <x_j x_k><x_i> + 2<x_i><x_j><x_k>``,
and the distribution of the number of active units per pattern (Tkacik et al. 2014).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.energy._checks import as_binary, positive_int, require_model, rng_seed
from infodyn.energy.kernels import gibbs_kernel
from infodyn.errors import check_option_type, make_rng, require, require_choice
from infodyn.memory import require_memory


def sample(
    model: Any,
    n: int,
    seed: int = 0,
    method: str = "gibbs",
    chains: int | None = None,
    burn_in: int = 200,
    thin: int = 2,
    init: Any = None,
    temperature: float = 1.0,
    order: str = "random",
) -> np.ndarray:
    """Draw ``n`` samples (n, n_units) uint8 from ``p(x) ~ exp(-E(x)/T)``.

    ``method``: ``"gibbs"`` (each unit drawn from ``p(x_i | x_rest)``; Geman & Geman 1984) or
    ``"metropolis"`` (a flip accepted with probability ``min(1, exp(-dE/T))``; Metropolis et al.
    1953); ``chains`` (default ``min(n, 64)``, or one per ``init`` state) independent
    chains each keep ``ceil(n / chains)`` samples; ``init`` gives the start states of the chains
    (default: uniform random); ``order``: ``"random"`` or ``"sequential"`` site order.
    """
    require_model(model)
    n = positive_int(n, "n")
    seed = rng_seed(seed)
    require_choice("method", method, ("gibbs", "metropolis"))
    require_choice("order", order, ("random", "sequential"))
    check_option_type("temperature", temperature, float)  # "1" or an array: raw TypeErrors
    require(temperature > 0, f"temperature must be > 0, got {temperature}")
    burn_in = positive_int(burn_in, "burn_in", 0)
    thin = positive_int(thin, "thin")
    X0 = None if init is None else as_binary(init, "init", n=model.n)
    if chains is None:  # one chain per init state, else min(n, 64)
        chains = min(n, 64) if X0 is None else X0.shape[0]
    chains = positive_int(chains, "chains")
    per_chain = -(-n // chains)
    require_memory(  # the samples, one byte a unit (10**11 was a raw MemoryError)
        float(chains * per_chain * model.n),
        f"{chains * per_chain:,} samples of {model.n} units",
        "draw fewer samples at a time",
    )
    if X0 is None:
        rng = make_rng(seed)
        X0 = (rng.random((chains, model.n)) < 0.5).astype(np.uint8)
    else:
        require(
            X0.shape[0] == chains,
            f"init holds {X0.shape[0]} states for chains={chains}: give one state per chain",
        )
    out = gibbs_kernel(
        X0,
        model.J,
        model.theta,
        model.potential,
        1.0 / temperature,
        burn_in,
        thin,
        per_chain,
        order == "random",
        method == "metropolis",
        seed,
    )
    return out.reshape(-1, model.n)[:n]


def pairwise_covariance(X: np.ndarray) -> np.ndarray:
    """``<x_i x_j> - <x_i><x_j>`` (n, n)."""
    Xf = X.astype(np.float64)
    m = Xf.mean(0)
    return Xf.T @ Xf / Xf.shape[0] - np.outer(m, m)


def triplet_correlations(X: np.ndarray, max_triplets: int = 20000, seed: int = 0) -> np.ndarray:
    """Connected third-order correlations for all triplets i<j<k (or a seeded random subset of
    ``max_triplets`` when there are more), returned with their index triples as (T, 4)."""
    n = X.shape[1]
    Xf = X.astype(np.float64)
    total = n * (n - 1) * (n - 2) // 6
    if total == 0:
        return np.zeros((0, 4))
    if total <= max_triplets:
        i, j, k = np.array(
            [(a, b, c) for a in range(n) for b in range(a + 1, n) for c in range(b + 1, n)]
        ).T
    else:
        rng = make_rng(seed)
        trip = np.sort(
            np.stack([rng.choice(n, 3, replace=False) for _ in range(max_triplets)]), axis=1
        )
        i, j, k = trip.T
    m = Xf.mean(0)
    pair = Xf.T @ Xf / Xf.shape[0]
    third = np.empty(i.size)
    step = max(1, TRIPLET_CELLS // max(Xf.shape[0], 1))  # words x triplets were held at once
    for lo in range(0, i.size, step):
        sl = slice(lo, lo + step)
        third[sl] = np.mean(Xf[:, i[sl]] * Xf[:, j[sl]] * Xf[:, k[sl]], axis=0)
    c3 = third - pair[i, j] * m[k] - pair[i, k] * m[j] - pair[j, k] * m[i] + 2 * m[i] * m[j] * m[k]
    return np.column_stack([i, j, k, c3])


#: float64 cells (words x triplets) :func:`triplet_correlations` forms at a time: 8 MiB
TRIPLET_CELLS = 1 << 20


def count_distribution(X: np.ndarray) -> np.ndarray:
    """P(K) for K = 0..n active units per pattern."""
    return np.bincount(X.sum(1).astype(np.int64), minlength=X.shape[1] + 1) / X.shape[0]


def sample_statistics(X: Any, seed: int = 0) -> dict[str, np.ndarray]:
    """Means, pairwise covariances (upper triangle), triplet correlations and P(K) of ``X``."""
    X = as_binary(X)
    iu = np.triu_indices(X.shape[1], 1)
    return {
        "means": X.mean(0),
        "covariances": pairwise_covariance(X)[iu],
        "triplets": triplet_correlations(X, seed=seed)[:, 3],
        "count_distribution": count_distribution(X),
    }


def compare_statistics(data: Any, samples: Any, seed: int = 0) -> dict[str, float]:
    """How well ``samples`` reproduce the statistics of ``data``: RMSE of means, covariances and
    triplet correlations, the correlation of covariances, and the total-variation distance and
    KL(data || samples) in bits of the count distribution P(K) (a count K of the data that no
    sample has gets half a sample), and over whole patterns the total-variation distance between the
    two pattern histograms and the fraction of the data's patterns never sampled. Both need two
    patterns or more (one sample's covariances are 0: their correlation was a silent NaN); the
    correlation is NaN where it is undefined (fewer than two pairs, or no spread in either)."""
    data = as_binary(data, "data", min_rows=2)
    samples = as_binary(samples, "samples", min_rows=2)
    a = sample_statistics(data, seed=seed)
    b = sample_statistics(samples, seed=seed)
    require(a["means"].size == b["means"].size, "data and samples differ in their number of units")

    def rmse(key: str) -> float:
        return float(np.sqrt(np.mean((a[key] - b[key]) ** 2))) if a[key].size else 0.0

    pk, qk = a["count_distribution"], b["count_distribution"]
    n_s = as_binary(samples).shape[0]
    # half a count for a K of the data that no sample has (its KL term would be infinite), the
    # others as sampled (every K got half a count: KL(X || X) was 0.09 bits for 30 words)
    counts = np.where(qk > 0, qk * n_s, np.where(pk > 0, 0.5, 0.0))
    q_s = counts / counts.sum()
    nz = pk > 0
    cov_r = (
        float(np.corrcoef(a["covariances"], b["covariances"])[0, 1])
        if a["covariances"].size > 1 and a["covariances"].std() > 0 and b["covariances"].std() > 0
        else float("nan")
    )
    _, fa, fb = pattern_rates(data, samples)
    return {
        "rmse_means": rmse("means"),
        "rmse_covariances": rmse("covariances"),
        "rmse_triplets": rmse("triplets"),
        "corr_covariances": cov_r,
        "tv_count_distribution": float(0.5 * np.abs(pk - qk).sum()),
        "kl_count_distribution_bits": float(np.sum(pk[nz] * np.log2(pk[nz] / q_s[nz]))),
        "fraction_data_patterns_unsampled": float(np.mean(fb == 0)),
        "tv_patterns_seen_in_data": float(0.5 * np.abs(fa - fb).sum() + 0.5 * (1 - fb.sum())),
    }


def pattern_rates(data: Any, other: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequencies of every distinct pattern of ``data`` in ``data`` and in ``other`` (samples),
    most frequent first: ``(patterns (K, n), data_freq (K,), other_freq (K,))`` - the
    observed-vs-predicted pattern-rate comparison of Schneidman et al. (2006)."""
    A = as_binary(data, "data")
    B = as_binary(other, "other", n=A.shape[1], n_of="data")
    pa, pb = np.packbits(A, axis=1), np.packbits(B, axis=1)
    ua, ia, ca = np.unique(pa, axis=0, return_index=True, return_counts=True)
    ub, cb = np.unique(pb, axis=0, return_counts=True)
    lookup = {row.tobytes(): c for row, c in zip(ub, cb, strict=True)}
    other_c = np.array([lookup.get(row.tobytes(), 0) for row in ua], dtype=np.float64)
    order = np.argsort(-ca, kind="stable")
    return A[ia[order]], ca[order] / A.shape[0], other_c[order] / B.shape[0]
