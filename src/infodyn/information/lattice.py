"""Williams-Beer PID for any number of sources, and conditional total correlation.

**PID on the redundancy lattice** (Williams & Beer 2010, "Nonnegative decomposition of
multivariate information", arXiv:1004.2515, eqs. 7-9 and 22-24). The nodes are the antichains
``alpha = {A_1, ..., A_m}`` of non-empty source subsets (no ``A_i`` contains another), ordered by
``alpha <= beta`` iff every ``B`` in ``beta`` contains some ``A`` in ``alpha``. The redundancy of
a node is

    I_min(Y; alpha) = sum_y p(y) min_{A in alpha} I_spec(y; X_A),
    I_spec(y; X_A) = sum_{x_A} p(x_A | y) log p(y | x_A) / p(y),

and the partial information atoms invert it on the lattice:
``Pi(alpha) = I_min(alpha) - sum_{beta < alpha} Pi(beta)``. The atoms sum to ``I(X_1..X_n; Y)``
and reproduce every ``I(X_A; Y)`` as the sum over the down-set of ``{A}``. Two sources give the
four atoms of :func:`.pid.pid`; three give 18, four 166 (n <= 4 here: five sources have 7579).

**Conditional total correlation** ``TC(X | Z) = sum_i H(X_i | Z) - H(X | Z)
= sum_i H(X_i, Z) - (n - 1) H(Z) - H(X, Z)`` (Watanabe 1960, conditioned on Z).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.errors import InputError
from infodyn.information._inputs import (
    as_symbols,
    log_factor,
    real_array,
    same_samples,
    side_by_side,
)
from infodyn.information.estimators import warn_if_undersampled
from infodyn.information.measures import _Marginals
from infodyn.information.words import encode

MAX_SOURCES = 4
Antichain = tuple[tuple[int, ...], ...]


def _antichains(n: int) -> list[Antichain]:
    """All antichains of non-empty subsets of ``range(n)``, each sorted, as tuples."""
    subsets = [s for r in range(1, n + 1) for s in itertools.combinations(range(n), r)]
    sets = [frozenset(s) for s in subsets]
    out: list[Antichain] = []
    for r in range(1, len(subsets) + 1):
        for combo in itertools.combinations(range(len(subsets)), r):
            if any(
                sets[i] < sets[j] or sets[j] < sets[i] for i, j in itertools.combinations(combo, 2)
            ):
                continue
            out.append(tuple(subsets[i] for i in combo))
    return out


def _below(alpha: Antichain, beta: Antichain) -> bool:
    """``alpha <= beta`` on the redundancy lattice."""
    return all(any(set(a) <= set(b) for a in alpha) for b in beta)


@dataclass(frozen=True)
class LatticePID:
    """Partial information atoms (``atoms[antichain]``), the redundancies ``I_min`` of every
    node, and ``I(X_1..X_n; Y)``; all in units of ``log_base``."""

    atoms: dict[Antichain, float]
    redundancy: dict[Antichain, float]
    mi_joint: float
    n_sources: int

    def atom(self, *subsets: Any) -> float:
        """The atom of the antichain given as subsets, e.g. ``atom((0,), (1,))`` (redundancy of
        sources 0 and 1 alone) or ``atom((0, 1, 2))`` (synergy of three sources)."""
        try:  # None or "a" were raw TypeErrors and ValueErrors of int()
            key = tuple(sorted(tuple(sorted(_source(i) for i in s)) for s in subsets))
        except (TypeError, ValueError):
            key = None
        if key is not None:
            key = tuple(sorted(key, key=lambda s: (len(s), s)))
        if key not in self.atoms:
            raise InputError(
                f"{subsets!r:.60} is not an antichain of source subsets (give tuples of source "
                f"indices 0..{self.n_sources - 1}, e.g. atom((0,), (1,)))"
            )
        return self.atoms[key]


def _source(i: Any) -> int:
    """A source index: a whole number, 0.0 too (2.7, NaN, text or ``True`` are not)."""
    whole = isinstance(i, int | np.integer) or (isinstance(i, float | np.floating) and i == int(i))
    if isinstance(i, bool | np.bool_) or not whole:
        raise TypeError(i)
    return int(i)


def _canonical(alpha: Antichain) -> Antichain:
    return tuple(sorted(alpha, key=lambda s: (len(s), s)))


def pid_lattice_from_table(p: Any, base: float = 2.0) -> LatticePID:
    """Williams-Beer PID of a joint table ``p[x_1, ..., x_n, y]`` (``n = p.ndim - 1`` sources)."""
    p = real_array(p, "the PID table")
    n = p.ndim - 1
    if not 2 <= n <= MAX_SOURCES:
        raise InputError(
            f"the table needs 2 to {MAX_SOURCES} source axes plus Y, got {p.ndim} axes"
        )
    if not np.all(np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1.0) > 1e-9:
        raise InputError("a PID table must hold non-negative probabilities summing to 1")
    py = p.sum(axis=tuple(range(n)))
    mask = py > 0
    spec: dict[tuple[int, ...], np.ndarray] = {}
    for r in range(1, n + 1):
        for A in itertools.combinations(range(n), r):
            others = tuple(i for i in range(n) if i not in A)
            pxy = p.sum(axis=others).reshape(-1, py.size)  # (x_A, y)
            px = pxy.sum(1, keepdims=True)
            with np.errstate(divide="ignore", invalid="ignore"):
                term = np.where(pxy > 0, pxy / py * np.log2(pxy / (px * py)), 0.0)
            spec[A] = term.sum(0)  # I_spec(y; X_A), bits
    nodes = [_canonical(a) for a in _antichains(n)]
    imin = {a: float((py[mask] * np.min([spec[A][mask] for A in a], axis=0)).sum()) for a in nodes}
    # Moebius inversion: visit nodes by the size of their down-sets (a linear extension)
    down = {a: [b for b in nodes if b != a and _below(b, a)] for a in nodes}
    atoms: dict[Antichain, float] = {}
    for a in sorted(nodes, key=lambda a: len(down[a])):
        atoms[a] = imin[a] - sum(atoms[b] for b in down[a])
    f = log_factor(base)
    clean = {a: (0.0 if abs(v) < 1e-12 else v * f) for a, v in atoms.items()}
    return LatticePID(clean, {a: v * f for a, v in imin.items()}, imin[(tuple(range(n)),)] * f, n)


def pid_lattice(sources: Any, target: Any, base: float = 2.0) -> LatticePID:
    """Williams-Beer PID of ``I(X_1, ..., X_n; Y)`` from samples (``n`` = 2..4 sources).

    ``sources`` is a list of ``(samples, variables)`` symbol arrays (a multi-column source is
    one variable whose values are its words); the plug-in distribution is decomposed.
    """
    if isinstance(sources, np.ndarray) or not isinstance(sources, list | tuple):
        raise InputError(
            "sources must be a list of arrays, one per source (e.g. [x1, x2]); a 2-D array "
            "would be read row by row"
        )
    srcs = [as_symbols(s, f"source {i}", check_sign=False) for i, s in enumerate(sources)]
    y = as_symbols(target, "Y", check_sign=False)
    if not 2 <= len(srcs) <= MAX_SOURCES:
        raise InputError(f"pid_lattice takes 2 to {MAX_SOURCES} sources, got {len(srcs)}")
    if same_samples(Y=y, **{f"source{i}": s for i, s in enumerate(srcs)}) < 2:
        warn_if_undersampled(y.shape[0], 1, "sources, Y")  # all atoms 0, unsaid (pid warned)
    labels, shape = [], []
    for i, v in enumerate([*srcs, y]):
        w = encode(v, f"source {i}" if i < len(srcs) else "Y")
        used, lab = np.unique(w.labels, return_inverse=True)
        labels.append(lab.reshape(-1))
        shape.append(int(used.size))
    if np.prod(shape, dtype=float) > 5e6:
        raise InputError(f"PID alphabets {tuple(shape)} are too large for a joint table (max 5e6)")
    flat = np.ravel_multi_index(labels, shape)
    p = np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape).astype(np.float64)
    return pid_lattice_from_table(p / p.sum(), base)


def conditional_total_correlation(
    x: Any, z: Any, estimator: str = "plugin", base: float = 2.0
) -> float:
    """``TC(X | Z) = sum_i H(X_i, Z) - (n - 1) H(Z) - H(X, Z)`` (columns of X are the variables;
    Z is one joint variable whatever its number of columns)."""
    a, c = as_symbols(x, "X"), as_symbols(z, "Z")
    same_samples(X=a, Z=c)
    if a.shape[1] < 2:
        raise InputError(f"X needs at least 2 variables (columns), got {a.shape[1]}")
    # Z keeps its columns (not one column of word labels), so that every joint entropy has the
    # alphabet of its own variables - NSB's prior depends on it
    m = _Marginals(side_by_side(a, c), estimator)
    n = a.shape[1]
    zi = tuple(range(n, n + c.shape[1]))
    total = sum(m.h((i, *zi)) for i in range(n)) - (n - 1) * m.h(zi) - m.full()
    return total * log_factor(base)
