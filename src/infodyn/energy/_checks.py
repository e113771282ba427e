"""Input checks shared by the energy-model functions: binary data, shapes, sample counts."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from infodyn.errors import InputError, as_array, require, require_finite, whole_number


def as_binary(
    X: Any,
    name: str = "X",
    n: int | None = None,
    min_rows: int = 1,
    n_of: str = "the model",
) -> np.ndarray:
    """Return ``X`` as a C-contiguous ``uint8`` array of shape (M, n) with entries in {0, 1}.

    Accepts bool, integer or float arrays holding only 0 and 1; a single pattern of shape (n,) is
    promoted to (1, n). ``n``: the units it must have, those of ``n_of`` (named in the message).
    Raises :class:`InputError` for anything else.
    """
    a = as_array(X, name)
    if a.ndim == 1:
        a = a[None, :]
    require(a.ndim == 2, f"{name} must be a (patterns, units) array, got shape {np.shape(X)}")
    require(a.shape[1] >= 1, f"{name} has no units (shape {a.shape})")
    require(
        a.shape[0] >= min_rows, f"{name} needs at least {min_rows} pattern(s), got {a.shape[0]}"
    )
    if n is not None:
        require(a.shape[1] == n, f"{name} has {a.shape[1]} units but {n_of} has {n}")
    if a.dtype == bool:
        return np.ascontiguousarray(a, dtype=np.uint8)
    require(a.dtype.kind in "iuf", f"{name} must be numeric 0/1 data, got dtype {a.dtype}")
    require_finite(name, a)
    if not np.all((a == 0) | (a == 1)):
        bad = a[(a != 0) & (a != 1)].ravel()[0]
        raise InputError(
            f"{name} must be binary (0/1); found the value {bad!r} (binarise first, e.g. X > 0)"
        )
    return np.ascontiguousarray(a, dtype=np.uint8)


def ising_parameters(
    J: Any, theta: Any, V: Any = None, theta0: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Check the parameters of an Ising model (and a potential ``V`` on the count of active
    units, and base fields ``theta0``): J square, symmetric, zero diagonal, finite; one finite
    field per unit; ``V`` n + 1 finite values. Returns float64 copies (J symmetrised exactly).

    The compiled kernels index J by theta's length without bounds checks: a theta longer than
    J read past its end, a non-square or asymmetric J gave a log Z of another model."""
    for name, value in (("J", J), ("theta", theta), ("V", V), ("theta0", theta0)):
        dtype = None if value is None else as_array(value, name).dtype
        require(  # complex values lost their imaginary part with only NumPy's warning
            dtype is None or dtype.kind in "biuf", f"{name} must hold real numbers, got {dtype}"
        )
    J = np.array(J, dtype=np.float64)
    theta = _vector("theta", theta)
    require(J.ndim == 2 and J.shape[0] == J.shape[1], f"J must be square, got {J.shape}")
    require(J.shape[0] >= 1, "J must have at least one unit")
    require(theta.shape[0] == J.shape[0], f"theta has {theta.size} entries for {J.shape[0]} units")
    require(
        bool(np.all(np.isfinite(J))) and bool(np.all(np.isfinite(theta))),
        "J and theta must be finite",
    )
    scale = max(1.0, float(np.abs(J).max()))
    require(bool(np.allclose(J, J.T, rtol=0, atol=1e-10 * scale)), "J must be symmetric")
    require(bool(np.all(np.diag(J) == 0)), "J must have a zero diagonal")
    J = 0.5 * J + 0.5 * J.T  # (J + J.T) / 2 overflowed to inf at 1e308
    n = theta.shape[0]
    if V is not None:
        V = _vector("V", V)
        require(V.shape == (n + 1,), f"V must hold n + 1 = {n + 1} values, got {V.size}")
        require_finite("V", V)
    if theta0 is not None:
        theta0 = _vector("theta0", theta0)
        require(theta0.shape == (n,), f"theta0 must have one field per unit ({n})")
        require_finite("theta0", theta0)
    return J, theta, V, theta0


def _vector(name: str, value: Any) -> np.ndarray:
    """``value`` as a float64 vector (a number: one entry); a (2, 2) theta had been read as
    four fields, flattened."""
    out = np.array(value, dtype=np.float64)
    require(out.ndim <= 1, f"{name} must be a vector (n,), got shape {out.shape}")
    return out.reshape(-1)


def check_trainable(
    X: np.ndarray, n_samples: float, n_params: int, allow_constant: bool = False
) -> None:
    """Reject constant columns (their field diverges) unless ``allow_constant``; warn when there
    are fewer samples than parameters."""
    m = X.mean(axis=0)
    const = np.flatnonzero((m == 0) | (m == 1))
    if const.size and not allow_constant:
        shown = ", ".join(str(int(i)) for i in const[:10]) + (" ..." if const.size > 10 else "")
        raise InputError(
            f"{const.size} unit(s) never change in the data (constant columns: {shown}); "
            "their fields would diverge: remove them, or pass allow_constant=True"
        )
    if n_samples < n_params:
        warnings.warn(
            f"only {n_samples:g} patterns for {n_params} parameters: the fit will overfit "
            "(expected KL gap ~ d/(2M)); use l2 > 0 or more data",
            UserWarning,
            stacklevel=3,
        )


class UnboundedCouplingWarning(UserWarning):
    """The data leave some couplings without a finite maximum-likelihood value (see
    :func:`unbounded_pairs`): unregularised, they end where the optimiser stops."""


#: the joint state of a pair (x_i, x_j) that the data never show, in words
_MISSING_STATE = (
    "units {i} and {j} are never both active",
    "unit {i} is never active without unit {j}",
    "unit {j} is never active without unit {i}",
    "units {i} and {j} are never both silent",
)


def unbounded_pairs(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``i < j`` of non-constant units for which one of the four joint states
    ``(x_i, x_j)`` has zero weight in the rows of ``X`` (weights ``w``), and which state (0: both
    active, 1: i without j, 2: j without i, 3: both silent).

    Such a pair's moments lie on the boundary of what a pairwise model can match: with
    ``<x_i x_j> = 0`` (both never active together) the likelihood keeps rising as ``J_ij -> -inf``,
    and likewise toward ``+inf`` or with the fields for the other states. This is the pairwise
    case of complete separation in logistic regression (pseudolikelihood is a set of logistic
    regressions; Albert & Anderson 1984, Biometrika 71:1); a sufficient condition for an
    unbounded optimum, not a necessary one (a missing state of three units is not detected).
    Returns ``(pairs (K, 2), states (K,))``, the pairs in row-major order.
    """
    W = float(w.sum())
    c = np.zeros(X.shape[1])
    C = np.zeros((X.shape[1], X.shape[1]))
    for start in range(0, X.shape[0], 4096):  # float64 counts, rows a block at a time
        Xb = X[start : start + 4096].astype(np.float64)
        wb = w[start : start + 4096]
        c += wb @ Xb
        C += Xb.T @ (Xb * wb[:, None])
    tol = 1e-9 * W
    cells = (  # the weight of each joint state, made one at a time (n x n each)
        lambda: C,
        lambda: c[:, None] - C,
        lambda: c[None, :] - C,
        lambda: W - c[:, None] - c[None, :] + C,
    )
    missing = np.full(C.shape, -1, dtype=np.int8)
    for state in (3, 2, 1, 0):  # the first missing state in the order of _MISSING_STATE
        missing[cells[state]() <= tol] = state
    varies = (c > tol) & (c < W - tol)
    missing[~varies, :] = -1
    missing[:, ~varies] = -1
    i, j = np.nonzero(np.triu(missing >= 0, k=1))
    return np.stack([i, j], axis=1), missing[i, j]


def warn_unbounded(X: np.ndarray, w: np.ndarray, early_stopping: bool = False) -> int:
    """Warn (:class:`UnboundedCouplingWarning`) when :func:`unbounded_pairs` finds any; returns
    their number. ``early_stopping``: a K-pairwise fit with validation (which does not bound
    them there), advised l2 or l1 only."""
    pairs, states = unbounded_pairs(X, w)
    if pairs.size:
        i, j = (int(u) for u in pairs[0])
        what = _MISSING_STATE[states[0]].format(i=i, j=j)
        others = len(pairs) - 1
        more = f" ({others} more pair(s) lack one of their four joint states)" if others else ""
        warnings.warn(
            f"in the data, {what}{more}: such couplings have no finite "
            "maximum-likelihood value, so the fitted ones are where the optimiser stopped; "
            + (
                "early stopping does not hold them in a K-pairwise model: pass l2 > 0 (e.g. "
                "1e-3) or l1 > 0"
                if early_stopping
                else "pass l2 > 0 (e.g. 1e-3), l1 > 0 or validation= (early stopping), or use "
                "more data"
            ),
            UnboundedCouplingWarning,
            stacklevel=3,
        )
    return len(pairs)


def rng_seed(seed: Any) -> int:
    """Validate a seed and return it as a non-negative int below 2^32: the compiled samplers
    seed Numba's generator, which keeps a seed's low 32 bits (seeds k and k + 2^32 ran the same
    chain; 10**30 overflowed)."""
    require(
        isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and 0 <= seed < 2**32,
        f"seed must be a whole number in [0, 2^32), got {seed!r}",
    )
    return int(seed)


def seed_plus(seed: int, j: int) -> int:
    """The ``j``-th seed derived from a checked ``seed``: ``seed + j`` wrapped into
    :func:`rng_seed`'s range (the largest seed, 2^32 - 1, was refused at a curve's second
    point, naming a seed the user never gave)."""
    return (seed + j) % 2**32


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Validate an integer option (>= ``minimum``)."""
    require(
        isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum,
        f"{name} must be an integer >= {minimum}, got {value!r}",
    )
    # 10**30 ran a Python loop for ever (zipf_slope's n_boot) or overflowed in NumPy or Numba
    require(value < 2**63, f"{name} must be at most 2^63 - 1, got {value!r}")
    return int(value)


def require_model(model: Any) -> None:
    """Refuse what is not an energy model (an :class:`~infodyn.energy.IsingModel` or a
    :class:`~infodyn.energy.KPairwiseModel`: anything with ``n``, ``J``, ``theta`` and
    ``energy``): the couplings ``J`` or a fit's record passed instead gave an AttributeError
    ("'numpy.ndarray' object has no attribute 'n'") deep in the function."""
    if not all(hasattr(model, name) for name in ("n", "J", "theta", "energy")):
        raise InputError(
            "model must be an energy model (infodyn.energy.IsingModel or KPairwiseModel), got "
            f"{type(model).__name__}"
        )


def flip_counts(ks: Any) -> list[int]:
    """``ks`` (numbers of flipped bits) as a non-empty list of whole numbers >= 0: a scalar gave
    a TypeError, ``[]`` a NumPy error about stacking, and ``[1.5]`` ran as one flip."""
    a = np.asarray(ks, dtype=object) if not isinstance(ks, np.ndarray) else ks
    require(
        a.ndim == 1 and a.size >= 1,
        f"ks must be a non-empty list of numbers of flipped bits, got {ks!r}",
    )
    return [whole_number(k, "each k of ks") for k in a]
