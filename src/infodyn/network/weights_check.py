"""Whether recurrent weights fit the connectivity a network's options describe.

Weights saved by one network and read into another (``[simulation] params`` of a config) are
checked for their shapes by ``validate_params``; :func:`connectivity_mismatch` goes on to the
graph, so that a run's ``config.json`` does not describe a network other than the one simulated
(a ``k_in = 100`` E/I network ran under ``k_in = 50``, or under an all-to-all ``[network]``,
without a word):

- **in-degree** (the synapses a unit receives, :func:`in_degrees`). A
  :class:`~infodyn.network.sparse.SparseWeights` stores its pattern, which training keeps: with
  ``k_in = K`` (Brunel 2000, fixed in-degree) every unit must receive exactly K; without it the
  number of synapses must lie within ``6 sqrt(E) + 1`` of the expected ``E`` of the Bernoulli
  graph (:func:`~infodyn.network.connectivity.expected_nnz`, ``p (n - 1)`` a unit; all-to-all
  ``n - 1``; six standard deviations at most, since ``Var <= E``). A dense array shows only its
  non-zero entries, and weights of 0 are a network's own (``rec_scale = 0``, entries zeroed by
  Dale's law in training), so it is checked from above only: no unit above K, no more synapses
  than ``E + 6 sqrt(E) + 1``;
- **Dale's law** for ``connectivity = "ei"`` (:func:`dale_violations`): no synapse of the
  first ``n_exc`` (excitatory) units below 0, none of the others above 0.

So a graph drawn from other options fails (a ``k_in = 50`` graph under ``k_in = 100`` when
stored sparse, a ``k_in = 100`` graph under ``k_in = 50``, a sparse graph under all-to-all, a
dense one under a sparse ``[network]``) and the network's own draw passes at any size. Dense
arrays are read a block of rows at a time (:data:`BLOCK_ELEMENTS`): the check adds no copy of
the weights.
"""

from __future__ import annotations

__all__ = ["connectivity_mismatch", "dale_violations", "in_degrees"]

from collections.abc import Iterator
from typing import Any

import numpy as np

from infodyn.network.connectivity import expected_nnz
from infodyn.network.sparse import is_sparse

#: entries of a dense array read at once by the checks (a block of rows)
BLOCK_ELEMENTS = 1 << 22


def _row_blocks(a: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """``(first row, rows)`` of a dense array, about :data:`BLOCK_ELEMENTS` entries each."""
    rows = max(1, BLOCK_ELEMENTS // max(a.shape[1], 1))
    for lo in range(0, a.shape[0], rows):
        yield lo, a[lo : lo + rows]


def in_degrees(w: Any) -> np.ndarray:
    """The number of synapses each unit receives in ``w`` (rows presynaptic, columns
    postsynaptic): the stored synapses of a :class:`~infodyn.network.sparse.SparseWeights`, the
    non-zero off-diagonal entries of a dense array."""
    if is_sparse(w):
        return w.in_degrees()
    a = np.asarray(w)
    degrees = np.zeros(a.shape[1], np.int64)
    for _, rows in _row_blocks(a):
        degrees += np.count_nonzero(rows, axis=0)
    return degrees - (np.diagonal(a) != 0)


def dale_violations(w: Any, signs: Any) -> int:
    """How many synapses of ``w`` (dense or sparse) have the sign opposite to their presynaptic
    unit's in ``signs`` (+1 excitatory, -1 inhibitory; ``None``: no Dale's law, 0)."""
    if signs is None:
        return 0
    signs = np.asarray(signs)
    if is_sparse(w):
        return int(np.sum(np.asarray(w.values) * signs[w.pre_indices()] < 0))
    a = np.asarray(w)
    wrong = 0
    for lo, rows in _row_blocks(a):
        s = signs[lo : lo + len(rows), None]
        wrong += int(np.count_nonzero(((rows < 0) & (s > 0)) | ((rows > 0) & (s < 0))))
    return wrong


def connectivity_mismatch(net: Any, w_rec: Any) -> str | None:
    """Why ``w_rec`` (of ``net``'s shape) does not fit ``net``'s connectivity options (module
    docstring), in one phrase naming both; ``None`` when it fits."""
    degrees = in_degrees(w_rec)
    stored = is_sparse(w_rec)  # a pattern, kept by training: checked from both sides
    n, nnz = len(degrees), int(degrees.sum())
    found = f"its units receive {int(degrees.min())}..{int(degrees.max())} synapses (mean "
    found += f"{nnz / max(n, 1):.1f})"
    if net.k_in is not None:
        k = net.k_in
        if degrees.max() > k or (stored and degrees.min() < k):
            return f"{found}, [network] k_in = {k} gives each unit {k}"
    else:
        expected = expected_nnz(net)
        slack = 6.0 * np.sqrt(expected) + 1.0
        if nnz > expected + slack or (stored and nnz < expected - slack):
            graph = (
                "all-to-all"
                if expected >= n * (n - 1)
                else f"{expected / max(n, 1):.1f} on average"
            )
            return f"{found}, [network] connectivity = {net.connectivity!r} gives {graph}"
    wrong = dale_violations(w_rec, net.unit_signs())
    if wrong:
        return (
            f"{wrong:,} of its synapses break Dale's law of [network] connectivity = 'ei' (units "
            f"0..{net.n_exc - 1} excitatory, the rest inhibitory)"
        )
    return None
