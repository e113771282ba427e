"""The energy function as a dynamical system (Hopfield 1982): descent, synchronous updates,
Glauber dynamics, and fixed points.

With drive ``h = J x - theta``, the asynchronous update ``x_i <- H(h_i)`` changes the energy by
``-|h_i|`` or 0, so it never raises ``E(x) = -1/2 x^T J x + theta^T x`` and ends in a fixed
point (a "memory"). Synchronous updates of all units at once can instead end in a 2-cycle
(Goles & Olivos 1980). Glauber dynamics at temperature T updates ``x_i = 1`` with probability
``sigmoid(h_i / T)`` and samples ``p(x) ~ exp(-E(x)/T)``.

A state is a fixed point when no single flip lowers the energy (``u_i(x) >= 0`` for all i, with
``u_i`` the energy change of flipping bit i) and a *strict* fixed point when every flip raises it
(``u_i > 0``). Two strict fixed points never differ in one bit.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.energy._checks import as_binary, positive_int, require_model, rng_seed
from infodyn.energy.kernels import (
    RESYNC_STEPS,
    TIE,
    descend_kernel,
    exhaustive_fixed_kernel,
    gibbs_kernel,
)
from infodyn.errors import (
    is_finite_number,
    make_rng,
    require,
    require_choice,
    require_flag,
)
from infodyn.memory import require_memory

MAX_EXHAUSTIVE_N = 26


def drive(model: Any, X: np.ndarray) -> np.ndarray:
    """``h = X J - theta`` for a batch (M, n): ``h_i`` is the energy drop of setting x_i = 1.

    With a potential V(K) on the count of active units (K-pairwise model) the drop also holds
    ``-(V(K_i + 1) - V(K_i))`` with ``K_i`` the count of the other units."""
    h = X.astype(np.float64) @ model.J - model.theta
    V = model.potential
    if np.any(V):
        Ki = X.sum(1, keepdims=True).astype(np.int64) - X
        h = h - (V[Ki + 1] - V[Ki])
    return h


def require_rows_memory(X: np.ndarray, what: str) -> None:
    """Refuse an (M, n) float64 result of binary rows ``X`` that does not fit with its
    temporaries (:data:`ROW_FLOATS` floats a bit); the rows are uint8, 1 byte a bit, so a batch
    that fits may not fit as floats."""
    require_memory(
        ROW_FLOATS * 8 * X.size,
        f"{what} of {X.shape[0]:,} rows of {X.shape[1]:,} units (float64, with temporaries)",
        "pass fewer rows at a time",
    )


#: float64 values a bit of the rows counted for a result: measured peaks (tracemalloc) 3 for a
#: pairwise model's flip energies, 2 for its drives, 5 for a K-pairwise model's flip energies
#: (its int64 count temporaries); 4 is between them
ROW_FLOATS = 4


def flip_energies(model: Any, X: Any) -> np.ndarray:
    """``u_i(x) = E(x with bit i flipped) - E(x) = (2 x_i - 1) h_i``, shape (M, n) (M may be 0);
    checked against the free memory first (:func:`require_rows_memory`)."""
    require_model(model)
    X = as_binary(X, n=model.n, min_rows=0)
    require_rows_memory(X, "the flip energies")
    return _flip_energies(model, X)


def _flip_energies(model: Any, X: np.ndarray) -> np.ndarray:
    """:func:`flip_energies` of checked binary rows, with no memory check (callers block)."""
    return (2.0 * X - 1.0) * drive(model, X)


def is_fixed_point(model: Any, X: Any, strict: bool = False) -> np.ndarray:
    """Boolean (M,): whether each row is a fixed point (strict: every flip raises E); M may be 0.
    Rows run a block at a time (:func:`block_rows`): every row's flip energies were made at
    once, 8 bytes a bit."""
    strict = require_flag("strict", strict)
    require_model(model)
    X = as_binary(X, n=model.n, min_rows=0)
    out = np.empty(X.shape[0], dtype=bool)
    step = block_rows(model.n)
    for lo in range(0, X.shape[0], step):
        u = _flip_energies(model, X[lo : lo + step])
        out[lo : lo + step] = np.all(u > TIE, axis=1) if strict else np.all(u >= -TIE, axis=1)
    return out


def _check_order(order: Any) -> None:
    require_choice("order", order, ("sequential", "random"))


def _orders(n: int, order: str, seed: int, k: int = 64) -> np.ndarray:
    _check_order(order)
    if order == "sequential":
        return np.arange(n, dtype=np.int64)[None, :]
    rng = make_rng(seed)
    return np.stack([rng.permutation(n) for _ in range(k)]).astype(np.int64)


def descend(
    model: Any,
    X: Any,
    order: str = "sequential",
    seed: int = 0,
    max_sweeps: int = 1000,
    return_sweeps: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Asynchronous descent from each row of ``X`` to the fixed point it reaches.

    ``order="sequential"`` visits units 0..n-1 in every sweep; ``"random"`` visits them in a
    seeded random permutation that changes from sweep to sweep (64 permutations, cycled; the
    same for every row). Returns the fixed points (M, n) uint8, and with ``return_sweeps`` also
    the sweeps each row took (-1: not converged in ``max_sweeps``). Without ``return_sweeps``
    a row that has not converged raises a warning (its state is not a fixed point).
    """
    return_sweeps = require_flag("return_sweeps", return_sweeps)
    require_model(model)
    X = as_binary(X, n=model.n).copy()
    seed = rng_seed(seed)
    max_sweeps = positive_int(max_sweeps, "max_sweeps")
    sweeps = descend_kernel(
        X, model.J, model.theta, model.potential, _orders(model.n, order, seed), max_sweeps
    )
    if return_sweeps:
        return X, sweeps
    if np.any(sweeps < 0):
        warnings.warn(
            f"{int(np.sum(sweeps < 0))} state(s) did not reach a fixed point in "
            f"max_sweeps = {max_sweeps} sweeps",
            UserWarning,
            stacklevel=2,
        )
    return X


@dataclass(frozen=True)
class SyncResult:
    """Final states of synchronous dynamics; ``period`` 1 = fixed point, 2 = two-cycle, ...,
    0 = no repeat within ``max_steps``; ``steps`` = step at which the cycle was first entered."""

    states: np.ndarray
    period: np.ndarray
    steps: np.ndarray


#: float64 values of a block of rows (:func:`block_rows`): what the row-wise computations
#: (energies, synchronous updates) hold at once, whatever the number of rows
BLOCK_VALUES = 1 << 22


def block_rows(n: int) -> int:
    """Rows of ``n`` units in a block of :data:`BLOCK_VALUES` values (at least 1)."""
    return max(1, BLOCK_VALUES // max(1, int(n)))


def synchronous(model: Any, X: Any, max_steps: int = 200) -> SyncResult:
    """Synchronous (parallel) updates ``x <- H(J x - theta)`` (ties keep the value) with cycle
    detection: each row runs until it revisits a state; its period and entry step are reported.
    Rows run a block at a time (:func:`block_rows`): 10^5 rows of 250 bits kept every row's
    history at once (0.8 GB)."""
    require_model(model)
    X = as_binary(X, n=model.n)
    max_steps = positive_int(max_steps, "max_steps")
    step = block_rows(model.n)
    parts = [_synchronous(model, X[lo : lo + step], max_steps) for lo in range(0, len(X), step)]
    if len(parts) == 1:
        return parts[0]
    return SyncResult(
        np.concatenate([p.states for p in parts]),
        np.concatenate([p.period for p in parts]),
        np.concatenate([p.steps for p in parts]),
    )


def _synchronous(model: Any, X: np.ndarray, max_steps: int) -> SyncResult:
    """:func:`synchronous` of the rows ``X`` (checked)."""
    M = X.shape[0]
    history = [np.packbits(X, axis=1)]
    period = np.zeros(M, dtype=np.int64)
    entry = np.full(M, -1, dtype=np.int64)
    final = X.copy()
    x = X.copy()
    active = np.ones(M, dtype=bool)
    for t in range(1, max_steps + 1):
        h = drive(model, x)
        x = np.where(h > TIE, 1, np.where(h < -TIE, 0, x)).astype(np.uint8)
        packed = np.packbits(x, axis=1)
        for lag in range(1, t + 1):
            same = active & np.all(packed == history[t - lag], axis=1)
            if same.any():
                period[same] = lag
                entry[same] = t - lag
                final[same] = x[same]
                active &= ~same
        history.append(packed)
        if not active.any():
            break
    final[active] = x[active]
    return SyncResult(final, period, entry)


def glauber(
    model: Any,
    X: Any,
    temperature: float = 1.0,
    n_sweeps: int = 1,
    order: str = "random",
    seed: int = 0,
) -> np.ndarray:
    """Stochastic asynchronous (Glauber / heat-bath) dynamics at temperature T for ``n_sweeps``
    sweeps from each row of ``X``: each visited unit is set to 1 with probability
    ``sigmoid(h_i / T)`` (Glauber 1963, J. Math. Phys. 4:294); returns the final states.
    T -> 0 approaches descent."""
    require_model(model)
    X = as_binary(X, n=model.n)
    require(is_finite_number(temperature) and temperature > 0, "temperature must be > 0")
    n_sweeps = positive_int(n_sweeps, "n_sweeps")
    _check_order(order)
    out = gibbs_kernel(
        X,
        model.J,
        model.theta,
        model.potential,
        1.0 / temperature,
        n_sweeps - 1,
        1,
        1,
        order == "random",
        False,
        rng_seed(seed),
    )
    return out[:, 0, :]


def _unique_sorted(model: Any, states: np.ndarray) -> np.ndarray:
    if states.shape[0] == 0:
        return states.reshape(0, model.n).astype(np.uint8)
    u = np.unique(states, axis=0)
    e = model.energy(u)
    return u[np.lexsort((np.arange(u.shape[0]), e))]


def exhaustive_fixed_points(
    model: Any, strict: bool = False, max_found: int = 1_000_000
) -> np.ndarray:
    """All fixed points by checking every one of the 2^n states (n <= 26), sorted by energy.

    States are visited in Gray-code order so each step flips one unit and updates the drive in
    O(n); n = 24 takes about a second. The incremental drive drifts by round-off, so the scan
    keeps every state within a margin of a fixed point (:func:`_drift_margin`) and each is then
    confirmed by :func:`is_fixed_point` on drives computed afresh: a state with an exact tie
    (``u_i = 0``, common with Hebbian or decimal couplings) is classed as :func:`is_fixed_point`
    and :func:`descend` class it (at n = 25 the drift had dropped a stored pattern).
    """
    strict = require_flag("strict", strict)
    require_model(model)
    n = model.n
    require(n <= MAX_EXHAUSTIVE_N, f"exhaustive search needs n <= {MAX_EXHAUSTIVE_N}, got {n}")
    max_found = min(positive_int(max_found, "max_found"), 1 << n)  # no more states than 2^n
    require_memory(  # 2**40 was a raw MemoryError from the kernel's buffer
        max_found * n,
        f"a buffer of max_found = {max_found:,} states of {n} units",
        "give a smaller max_found",
    )
    lowest = (TIE if strict else -TIE) - _drift_margin(model)
    found, count = exhaustive_fixed_kernel(model.J, model.theta, model.potential, lowest, max_found)
    require(
        count <= max_found,
        f"more than {max_found:,} fixed points (or near-ties) among the 2^{n} states; "
        "exhaustive_fixed_points(model, max_found=...) takes a higher limit",
    )
    return _unique_sorted(model, found[is_fixed_point(model, found, strict=strict)])


def _drift_margin(model: Any) -> float:
    """How far the exhaustive scan's incremental drive may be from the exact one: at most
    ``RESYNC_STEPS`` additions since the last fresh drive, each off by a rounding of the drive's
    largest possible size ``S = max_i (sum_j |J_ij| + |theta_i|)``; 10x that, and never below
    1e-12."""
    size = float(np.max(np.sum(np.abs(model.J), axis=0) + np.abs(model.theta)))
    return max(1e-12, 10.0 * RESYNC_STEPS * np.finfo(np.float64).eps * size)


def fixed_points(
    model: Any,
    X: Any = None,
    method: str = "auto",
    n_starts: int = 10000,
    strict: bool = False,
    seed: int = 0,
    order: str = "sequential",
) -> np.ndarray:
    """Fixed points (memories) of ``model``, unique and sorted by energy (lowest first), uint8.

    ``method``: ``"exhaustive"`` (all 2^n states, n <= 26), ``"data"`` (descend from the rows
    of ``X``), ``"random"`` (descend from ``n_starts`` uniformly random states) or ``"auto"``:
    data when ``X`` is given, else exhaustive for n <= :data:`MAX_EXHAUSTIVE_N` (26: 2^26 states
    in seconds; random starts missed a strict fixed point of a 25-pixel image model),
    else random starts. ``strict`` keeps
    only states where every flip raises the energy.
    """
    strict = require_flag("strict", strict)
    require_model(model)
    require_choice("method", method, ("auto", "exhaustive", "data", "random"))
    # checked whichever method runs (the exhaustive one ignores them: None or {} were taken)
    n_starts, seed = positive_int(n_starts, "n_starts"), rng_seed(seed)
    _check_order(order)
    if method == "auto":
        method = (
            "data" if X is not None else "exhaustive" if model.n <= MAX_EXHAUSTIVE_N else "random"
        )
    if method == "exhaustive":
        return exhaustive_fixed_points(model, strict=strict)
    if method == "data":
        require(X is not None, "method='data' needs the data X")
        starts = np.unique(as_binary(X, n=model.n), axis=0)
    else:
        require_memory(  # the uniforms in float64 (10**11 starts: a raw MemoryError)
            9.0 * n_starts * model.n,
            f"{n_starts:,} random starts of {model.n} units",
            "use fewer n_starts",
        )
        rng = np.random.default_rng(seed)
        starts = (rng.random((n_starts, model.n)) < 0.5).astype(np.uint8)
    ends = descend(model, starts, order=order, seed=seed)
    if strict:
        ends = ends[is_fixed_point(model, ends, strict=True)]
    return _unique_sorted(model, ends)
