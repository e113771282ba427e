"""The event engine's prepared weights (:mod:`infodyn.network.engine_event`).

Before its loop runs, the event engine converts the weights of ``params`` into the arrays it
reads: ``w_in``/``w_rec`` as float32 rows when every weight is exactly a float32
(:func:`~infodyn.network._event_rows.row_storage`, one pass over the matrix and a copy, about
1 ms for a dense 1000 x 1000 ``w_rec``), sparse weights as unsigned CSR arrays, ``w_out`` as
float64. :func:`event_weights` does this once and returns an :class:`EventWeights`, which
:func:`~infodyn.network.engine_event.run_event_chunk` takes as ``weights=``: a run streamed as
many chunks (``simulate_to_file``) prepares its weights once instead of once a chunk.

An :class:`EventWeights` is a snapshot: its arrays are the engine's own read-only copies (an
array of ``params`` that is already in the engine's format is copied too), so changing
``params`` afterwards changes nothing in it; prepare again after changing the weights.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from infodyn.errors import InputError
from infodyn.memory import require_memory
from infodyn.network._event_rows import row_storage, sparse_storage
from infodyn.network.sparse import SparseWeights


class LoopWeights(NamedTuple):
    """The weight arrays as the loop reads them (one argument).
    ``in_kind``: 0 dense ``w_in``, 1 sparse, 2 sparse with one synapse per input, 3 the same
    onto distinct units (a private input per unit)."""

    w_in: np.ndarray
    in_kind: int
    in_values: np.ndarray
    in_indices: np.ndarray
    in_indptr: np.ndarray
    w_rec: np.ndarray
    sparse: bool
    values: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    w_out: np.ndarray


def unsigned(indices: np.ndarray) -> np.ndarray:
    """The int32 ``indices`` (all >= 0) viewed as uint32, no copy: indexing with unsigned ints
    spares the loops the negative-index wrap-around test of every synapse."""
    return indices.view(np.uint32)


NO_SPARSE = (np.zeros(1, np.float32), np.zeros(1, np.int32), np.zeros(2, np.int64))


class EventWeights:
    """The weights of a network prepared once for the event engine (module docstring): pass it
    as ``weights=`` to :func:`~infodyn.network.engine_event.run_event_chunk` for every chunk of
    a run. Made by :func:`event_weights`; ``shapes`` are those of ``w_in``, ``w_rec``, ``w_out``
    (checked against the network at each call); ``loop`` the arrays the loop reads."""

    __slots__ = ("loop", "shapes")

    def __init__(self, loop: LoopWeights, shapes: tuple[tuple[int, int], ...]):
        self.loop = loop
        self.shapes = shapes

    @property
    def float32_rows(self) -> bool:
        """Whether the recurrent weights are read as float32 (exact float32 values)."""
        w = self.loop.values if self.loop.sparse else self.loop.w_rec
        return w.dtype == np.float32

    def check(self, net) -> None:
        """Raise :class:`InputError` unless these weights fit ``net``'s sizes."""
        want = ((net.n_in, net.n_rec), (net.n_rec, net.n_rec), (net.n_rec, net.n_out))
        if self.shapes != want:
            raise InputError(
                f"prepared weights have shapes {self.shapes} (w_in, w_rec, w_out), the network "
                f"needs {want}: prepare them with event_weights(params) for this network"
            )


def _own(a: np.ndarray, source) -> np.ndarray:
    """``a`` as an array of its own (copied when it shares memory with ``source``), read-only."""
    if any(np.shares_memory(a, np.asarray(s)) for s in source):
        a = a.copy()
    a.flags.writeable = False
    return a


def _storage(w) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    """``(dense rows, None)`` of a dense matrix, or a placeholder and the CSR arrays of a
    :class:`SparseWeights`, each the engine's own read-only copy."""
    if isinstance(w, SparseWeights):
        src = (w.values, w.indices, w.indptr)
        values, indices, indptr = (_own(a, src) for a in sparse_storage(w))
        return np.zeros((1, 1), np.float32), (values, indices, indptr)
    return _own(row_storage(w), (w,)), None


def _in_kind(in_sparse: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> int:
    """0 dense ``w_in``; 1 sparse; 2 one synapse an input; 3 those onto distinct units."""
    if in_sparse is None:
        return 0
    _, in_indices, in_indptr = in_sparse
    if not np.array_equal(in_indptr, np.arange(in_indptr.shape[0])):
        return 1
    return 3 if np.bincount(in_indices, minlength=1).max() <= 1 else 2


def event_weights(params) -> EventWeights:
    """Prepare the weights of ``params`` for the event engine once (module docstring): float32
    rows of ``w_in``/``w_rec`` when every weight is exactly a float32 (else float64), CSR arrays
    of a :class:`SparseWeights`, float64 ``w_out``, all read-only copies of their own. Their
    memory (at most that of ``params``' arrays, as they are) is checked first: a run of 10^9
    synapses passed the check of their draw and then needed 7.6 GB more than it counted."""
    arrays = [
        a
        for w in (params["w_in"], params["w_rec"])
        for a in ((w.values, w.indices, w.indptr) if isinstance(w, SparseWeights) else (w,))
    ]
    require_memory(
        sum(np.asarray(a).nbytes for a in arrays) + 8 * np.size(params["w_out"]),
        "the event engine's own copy of the weights (it reads them as a snapshot, beside params)",
        "use fewer synapses (a smaller k_in or p_connect) or fewer units",
    )
    w_out = np.ascontiguousarray(params["w_out"], dtype=np.float64)
    w_out = _own(w_out, (params["w_out"],))
    w_in, in_sparse = _storage(params["w_in"])
    w_rec, rec_sparse = _storage(params["w_rec"])
    values, indices, indptr = rec_sparse or NO_SPARSE
    in_values, in_indices, in_indptr = in_sparse or NO_SPARSE
    loop = LoopWeights(
        w_in,
        _in_kind(in_sparse),
        in_values,
        unsigned(in_indices),
        in_indptr,
        w_rec,
        rec_sparse is not None,
        values,
        unsigned(indices),
        indptr,
        w_out,
    )
    shapes = tuple(tuple(int(n) for n in np.shape(params[k])) for k in ("w_in", "w_rec", "w_out"))
    return EventWeights(loop, shapes)
