"""Input checks shared by the energy-model functions: binary data, shapes, sample counts."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from infodyn.errors import InputError, require, require_finite


def as_binary(X: Any, name: str = "X", n: int | None = None, min_rows: int = 1) -> np.ndarray:
    """Return ``X`` as a C-contiguous ``uint8`` array of shape (M, n) with entries in {0, 1}.

    Accepts bool, integer or float arrays holding only 0 and 1; a single pattern of shape (n,) is
    promoted to (1, n). Raises :class:`InputError` for anything else.
    """
    a = np.asarray(X)
    if a.ndim == 1:
        a = a[None, :]
    require(a.ndim == 2, f"{name} must be a (patterns, units) array, got shape {np.shape(X)}")
    require(a.shape[1] >= 1, f"{name} has no units (shape {a.shape})")
    require(
        a.shape[0] >= min_rows, f"{name} needs at least {min_rows} pattern(s), got {a.shape[0]}"
    )
    if n is not None:
        require(a.shape[1] == n, f"{name} has {a.shape[1]} units but the model has {n}")
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


def rng_seed(seed: Any) -> int:
    """Validate a seed and return it as a non-negative int."""
    require(
        isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and int(seed) >= 0,
        f"seed must be a non-negative integer, got {seed!r}",
    )
    return int(seed)


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Validate an integer option (>= ``minimum``)."""
    require(
        isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum,
        f"{name} must be an integer >= {minimum}, got {value!r}",
    )
    return int(value)
