"""The check of a :class:`~infodyn.network.sparse.SparseWeights` pattern that the engines trust.

The Numba loops of :mod:`infodyn.network.engine_event` and the event-driven JAX current read a
pattern's indices without bounds checks, so every pattern that reaches them passes
:func:`check_sparse` first (in ``validate_params``, ``to_dense`` and when params are saved or
loaded): ``indptr`` rises from 0 to nnz, postsynaptic indices lie in ``0..n_post-1`` and ascend
strictly within each row (no duplicate synapse, which the event engine would add twice), values
are finite floats. One Numba pass checks the pattern, O(nnz). The check reads only the
pattern's ``shape``, ``values``, ``indices`` and ``indptr``, so this module imports nothing of
:mod:`infodyn.network.sparse` (which imports it).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from infodyn.errors import InputError, is_tracer, require_finite


@numba.njit(cache=True, nogil=True)
def _pattern_error(indices, indptr, n_post):  # pragma: no cover - compiled
    """One pass over a CSR pattern: 1 when ``indptr`` does not rise from 0 to nnz, 2 for a
    post index outside ``0..n_post-1``, 3 for indices not strictly ascending within a row,
    else 0."""
    nnz = indices.shape[0]
    if indptr[0] != 0 or indptr[indptr.shape[0] - 1] != nnz:
        return 1
    for row in range(indptr.shape[0] - 1):
        if indptr[row + 1] < indptr[row]:
            return 1
    for row in range(indptr.shape[0] - 1):
        prev = -1
        for s in range(indptr[row], indptr[row + 1]):
            post = indices[s]
            if post < 0 or post >= n_post:
                return 2
            if post <= prev:
                return 3
            prev = post
    return 0


def check_sparse(w: Any, shape: tuple[int, int], name: str = "w_rec", finite: bool = True) -> None:
    """Raise :class:`InputError` unless ``w`` is a well-formed :class:`SparseWeights` of
    ``shape``: float values, int indices in range and ascending within each row, a
    non-decreasing ``indptr`` from 0 to nnz, finite values unless ``finite=False`` (O(nnz)
    checks). Values traced by JAX (``jax.grad`` of ``w.with_values(v)``, ``jit``, ``vmap``)
    are checked by their dtype and shape alone: the pattern is what the engines trust."""
    if tuple(w.shape) != tuple(shape):
        raise InputError(f"{name} must have shape {tuple(shape)}, got {tuple(w.shape)}")
    traced = is_tracer(w.values)  # np.asarray of it raised JAX's TracerArrayConversionError
    values = w.values if traced else np.asarray(w.values)
    indices, indptr = np.asarray(w.indices), np.asarray(w.indptr)
    nnz = values.shape[0] if values.ndim == 1 else -1
    if values.dtype.kind != "f" or indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
        raise InputError(f"{name}: values must be float and indices, indptr integers")
    if values.dtype not in (np.float32, np.float64):  # float16 from a file ran, rounded
        raise InputError(
            f"{name}: values must be float32 or float64, got {values.dtype} (too few digits "
            "for the engines' sums); cast them first"
        )
    if indices.shape != (nnz,) or indptr.shape != (shape[0] + 1,):
        raise InputError(
            f"{name}: values {values.shape}, indices {indices.shape} and indptr {indptr.shape} "
            f"do not describe a ({shape[0]}, {shape[1]}) matrix"
        )
    if indptr.dtype.kind == "u" or indices.dtype.kind == "u":  # the loop reads them signed
        indptr, indices = indptr.astype(np.int64), indices.astype(np.int64)
    error = _pattern_error(indices, indptr, shape[1])
    if error == 1:  # the usual cause: an optimizer stepped the integer leaves of the pytree
        raise InputError(
            f"{name}: indptr must rise from 0 to nnz={nnz} (one cause: an optimizer stepped the "
            "whole params tree, pattern included; step only the values, "
            "infodyn.learning.trainable_arrays and with_trainable)"
        )
    if error == 2:
        raise InputError(f"{name}: postsynaptic indices out of range 0..{shape[1] - 1}")
    if error == 3:
        raise InputError(f"{name}: indices must ascend within each row (no duplicates)")
    if finite and not traced:
        require_finite(name, values)
