"""The energy function as a code: memories as codewords, their distance, error correction and
storage capacity.

The code of a model is its set of strict fixed points. Its minimum Hamming distance ``d_min`` is
at least 2 for a zero-diagonal network (two strict fixed points never differ in one bit); the
code corrects every pattern of ``r = floor((d_min - 1) / 2)`` flips *by nearest codeword*, and
descent corrects what lies in a memory's basin of attraction.

Storage: MPF (Hillar, Sohl-Dickstein & Koepsell 2012, "Efficient and optimal binary Hopfield
associative memory storage using minimum probability flow") stores random patterns up to about
1.5 n as measured here (every one of up to 101 patterns at n = 64, ``benchmarks/mpf_capacity.py``;
the limit for any rule is 2 n, Cover 1965, Gardner 1988); the outer-product (Hebb) rule
``W = (1/n) sum_mu s^mu s^mu^T`` (Hopfield 1982) stores
about ``n / (4 ln n)`` with all patterns exact (McEliece et al. 1987). Clique codes (Hillar &
Tran 2018, "Robust exponential memory in Hopfield networks", J. Math. Neurosci. 8:1): bits are
the edges of the complete graph on v vertices, codewords are the k-cliques; a network fitted by
MPF to a small sample of cliques stores all C(v, k) of them with large basins.
"""

from __future__ import annotations

import warnings
from itertools import combinations
from math import comb
from typing import Any

import numpy as np

from infodyn.energy._checks import (
    UnboundedCouplingWarning,
    as_binary,
    flip_counts,
    positive_int,
    require_model,
    rng_seed,
    seed_plus,
)
from infodyn.energy.fit import fit
from infodyn.energy.model import IsingModel
from infodyn.errors import (
    is_finite_number,
    require,
    require_choice,
    require_flag,
)
from infodyn.memory import require_memory


def hamming_distances(A: Any, B: Any = None) -> np.ndarray:
    """Pairwise Hamming distances between the rows of A and B (default B = A), int64."""
    A = as_binary(A, "A")
    B = A if B is None else as_binary(B, "B", n=A.shape[1], n_of="A")
    require_memory(  # the int64 matrix and its two products (20,000 rows: a raw 3 GiB error)
        8.0 * (3 * A.shape[0] * B.shape[0] + (A.shape[0] + B.shape[0]) * A.shape[1]),
        f"the {A.shape[0]:,} x {B.shape[0]:,} Hamming distances",
        "fewer rows, or minimum_distance (blockwise) for the smallest one",
    )
    a = A.astype(np.int64)
    b = B.astype(np.int64)
    return a @ (1 - b).T + (1 - a) @ b.T


def minimum_distance(codewords: Any) -> int:
    """Minimum Hamming distance between distinct codewords (rows; duplicates are merged).

    Computed in chunks, so thousands of codewords of hundreds of bits are fine.
    """
    C = np.unique(as_binary(codewords, "codewords"), axis=0)
    require(C.shape[0] >= 2, "minimum_distance needs at least two distinct codewords")
    best = C.shape[1]
    a = C.astype(np.int32)
    chunk = max(1, 4_000_000 // C.shape[0])
    for start in range(0, C.shape[0], chunk):
        blk = a[start : start + chunk]
        d = blk @ (1 - a).T + (1 - blk) @ a.T
        rows = np.arange(blk.shape[0])
        d[rows, start + rows] = C.shape[1] + 1
        best = min(best, int(d.min()))
    return best


def correction_radius(codewords: Any) -> int:
    """``floor((d_min - 1) / 2)``: flips always corrected by decoding to the nearest codeword."""
    return (minimum_distance(codewords) - 1) // 2


def corrupt(patterns: Any, k: int, seed: int = 0) -> np.ndarray:
    """Flip exactly ``k`` distinct random bits of each row (seeded)."""
    X = as_binary(patterns, "patterns")
    k = positive_int(k, "k", 0)  # 2.0 or "2" was a raw TypeError in the slice
    require(k <= X.shape[1], f"k must be in [0, {X.shape[1]}], got {k}")
    rng = np.random.default_rng(rng_seed(seed))
    flips = np.argsort(rng.random(X.shape), axis=1)[:, :k]
    out = X.copy()
    rows = np.arange(X.shape[0])[:, None]
    out[rows, flips] ^= 1
    return out


def recovery(
    model: Any, patterns: Any, k: int, n_trials: int = 10, seed: int = 0
) -> dict[str, Any]:
    """Corrupt each pattern by ``k`` random flips ``n_trials`` times, descend, and compare.

    Returns ``fraction_recovered`` (exactly back to the pattern), ``per_pattern`` (its fraction
    per pattern), and the mean Hamming error before (= k) and after descent.
    """
    require_model(model)
    P = as_binary(patterns, "patterns", n=model.n)
    n_trials = positive_int(n_trials, "n_trials")
    rep = np.repeat(P, n_trials, axis=0)
    noisy = corrupt(rep, k, seed=seed)
    clean = model.descend(noisy)
    err = np.sum(clean != rep, axis=1)
    ok = (err == 0).reshape(P.shape[0], n_trials)
    return {
        "k": int(k),
        "fraction_recovered": float(ok.mean()),
        "per_pattern": ok.mean(1),
        "bits_wrong_before": float(k),
        "bits_wrong_after": float(err.mean()),
    }


def denoising_curve(
    model: Any, patterns: Any, ks: Any, n_trials: int = 10, seed: int = 0
) -> list[dict[str, Any]]:
    """``recovery`` for each k in ``ks`` (without the per-pattern arrays)."""
    require_model(model)
    seed = rng_seed(seed)  # True was seed 1
    out = []
    for j, k in enumerate(flip_counts(ks)):
        r = recovery(model, patterns, k, n_trials=n_trials, seed=seed_plus(seed, j))
        r.pop("per_pattern")
        out.append(r)
    return out


def random_patterns(n_patterns: int, n: int, p: float = 0.5, seed: int = 0) -> np.ndarray:
    """``n_patterns`` independent random binary patterns with P(x_i = 1) = p."""
    n_patterns = positive_int(n_patterns, "n_patterns")
    n = positive_int(n, "n")
    require(is_finite_number(p) and 0 < p < 1, f"p must be in (0, 1), got {p!r}")
    require_memory(  # the uniforms in float64 (10**6 x 10**6 was a raw MemoryError)
        9.0 * n_patterns * n, f"{n_patterns:,} random patterns of {n:,} units", "use fewer"
    )
    return (np.random.default_rng(rng_seed(seed)).random((n_patterns, n)) < p).astype(np.uint8)


def outer_product_rule(patterns: Any) -> Any:
    """The Hopfield (Hebb) network ``W = (1/n) sum_mu s^mu s^mu^T`` (zero diagonal, b = 0) over
    spins s = 2x - 1, as an :class:`IsingModel`."""
    P = as_binary(patterns, "patterns")
    require_memory(  # W, the model's copies of it (from_spin), and the patterns as spins
        8.0 * (3 * P.shape[1] ** 2 + P.size),
        f"a Hopfield network of {P.shape[1]:,} units",
        "use fewer units",
    )
    S = 2.0 * P - 1.0
    W = S.T @ S
    W /= P.shape[1]
    np.fill_diagonal(W, 0.0)
    return IsingModel.from_spin(W, np.zeros(P.shape[1]), {"method": "outer_product"})


def store(patterns: Any, method: str = "mpf", **fit_kwargs: Any) -> Any:
    """A network storing ``patterns``: ``"mpf"`` fits MPF to them (``fit_kwargs`` go to
    ``fit``; constant bits are allowed), ``"outer"`` uses the outer-product rule."""
    require_choice("method", method, ("mpf", "outer"))
    if method == "outer":
        require(  # l2=5, seed=3, maxiter=-1 were ignored without a word
            not fit_kwargs,
            f"method='outer' takes no fit options, got {sorted(fit_kwargs)}",
        )
        return outer_product_rule(patterns)

    fit_kwargs.setdefault("allow_constant", True)
    with warnings.catch_warnings():  # storing few patterns in many parameters is the point
        warnings.filterwarnings("ignore", message="only .* patterns for", category=UserWarning)
        warnings.simplefilter("ignore", UnboundedCouplingWarning)  # fixed points, not a density
        return fit(patterns, method="mpf", **fit_kwargs)


def storage_fraction(model: Any, patterns: Any, strict: bool = True) -> float:
    """Fraction of ``patterns`` that are (strict) fixed points of ``model``."""
    strict = require_flag("strict", strict)
    require_model(model)
    patterns = as_binary(patterns, "patterns", n=model.n)  # no fraction of no patterns
    return float(np.mean(model.is_fixed_point(patterns, strict=strict)))


def clique_code(v: int, k: int | None = None) -> np.ndarray:
    """All k-cliques of the complete graph on v vertices as edge-indicator vectors.

    Bit ``e`` stands for edge ``combinations(range(v), 2)[e]``; there are ``C(v, k)`` codewords
    of ``v(v-1)/2`` bits (default ``k = v // 2``, Hillar & Tran 2018).
    """
    v = positive_int(v, "v", 3)
    k = v // 2 if k is None else positive_int(k, "k", 2)
    require(k < v, "k must be smaller than v")
    require(comb(v, k) <= 2_000_000, f"C({v}, {k}) cliques are too many to list")
    edge_index = {e: i for i, e in enumerate(combinations(range(v), 2))}
    out = np.zeros((comb(v, k), len(edge_index)), dtype=np.uint8)
    for row, clique in enumerate(combinations(range(v), k)):
        out[row, [edge_index[e] for e in combinations(clique, 2)]] = 1
    return out


def clique_network(
    v: int,
    k: int | None = None,
    share: float = 1.0,
    disjoint: float = -1.0,
    threshold: float | None = None,
) -> Any:
    """The symmetric network on the edges of K_v that stores every k-clique (Hillar & Tran 2018).

    Two edges are coupled by ``share`` when they meet at a vertex and by ``disjoint`` otherwise;
    every threshold is ``threshold``. For a k-clique codeword the drives are, by counting edges:
    inside the clique ``2(k-2) share + (C(k,2) - 2k + 3) disjoint - z`` (must be > 0), for an
    outside edge touching the clique ``(k-1) share + (C(k,2) - k + 1) disjoint - z`` and for an
    outside edge away from it ``C(k,2) disjoint - z`` (both must be < 0). The default
    threshold is the midpoint of the admissible interval, which maximises the smallest margin;
    an InputError says when no threshold works.
    """
    v = positive_int(v, "v", 3)
    k = v // 2 if k is None else positive_int(k, "k", 2)
    require(k < v, "k must be smaller than v")
    for name, value in (("share", share), ("disjoint", disjoint), ("threshold", threshold)):
        require(  # "3" was a threshold of 3, True a share of 1
            (value is None and name == "threshold") or is_finite_number(value),
            f"{name} must be a finite number, got {value!r}",
        )
    c = comb(k, 2)
    inside = 2 * (k - 2) * share + (c - 2 * k + 3) * disjoint
    outside = max((k - 1) * share + (c - k + 1) * disjoint, c * disjoint)
    require(inside > outside, "no threshold stores the cliques with these couplings")
    z = 0.5 * (inside + outside) if threshold is None else float(threshold)
    require_memory(  # the edges' coupling matrix, its masks and the model's checked, symmetrised
        36.0 * comb(v, 2) ** 2,  # copies (v = 200: a raw 3 GiB error; v = 100 peaked at 0.83 GB)
        f"the clique network on K_{v} ({comb(v, 2):,} units)",
        "a smaller v",
    )
    edges = list(combinations(range(v), 2))
    a = np.array(edges)
    meet = (
        (a[:, None, 0] == a[None, :, 0])
        | (a[:, None, 0] == a[None, :, 1])
        | (a[:, None, 1] == a[None, :, 0])
        | (a[:, None, 1] == a[None, :, 1])
    )
    J = np.where(meet, share, disjoint)
    np.fill_diagonal(J, 0.0)
    info = {"method": "clique_network", "v": v, "k": k, "margin": 0.5 * (inside - outside)}
    return IsingModel(J, np.full(len(edges), z), info)


def capacity_curve(
    n: int, counts: Any, method: str = "mpf", seed: int = 0, **fit_kwargs: Any
) -> list[dict[str, Any]]:
    """Fraction of K random patterns (n bits, P = 1/2) stored as strict fixed points by
    ``method`` ("mpf" or "outer"), for each K in ``counts``."""
    require(  # {} or [] gave an empty curve without a word
        isinstance(counts, list | tuple | np.ndarray) and len(counts) > 0,
        f"counts must be a non-empty list of whole numbers >= 1, got {counts!r}",
    )
    seed = rng_seed(seed)  # True was seed 1; 2^40 would wrap into seed_plus's range
    out = []
    for j, K in enumerate(counts):
        P = random_patterns(positive_int(K, "counts"), n, seed=seed_plus(seed, j))  # 2.7 was 2
        model = store(P, method=method, **fit_kwargs)
        out.append({"n_patterns": int(K), "fraction_stored": storage_fraction(model, P)})
    return out
