"""Whether recurrent weights fit the connectivity a network's options describe.

Weights saved by one network and read into another (``[simulation] params`` of a config,
``Trainer(params=)``) are checked for their shapes by ``validate_params``; these checks go on
to the graph, so that a run's ``config.json`` does not describe a network other than the one
simulated (a ``k_in = 100`` E/I network ran under ``k_in = 50``, or under an all-to-all
``[network]``, without a word):

- **in-degree** (the synapses a unit receives, :func:`in_degrees`): with ``k_in = K`` (Brunel
  2000, fixed in-degree) every unit of a :class:`~infodyn.network.sparse.SparseWeights` must
  receive exactly K (training keeps the pattern); a dense array none more than K and K / 2 on
  average (training may zero entries, e.g. by Dale's law). Without ``k_in`` the number of
  synapses must lie within ``6 sqrt(E) + 1`` of the expected ``E`` of the Bernoulli graph
  (:func:`~infodyn.network.connectivity.expected_nnz`, ``p (n - 1)`` a unit; all-to-all
  ``n - 1``; six standard deviations at most, since ``Var <= E``), a dense array's from
  ``E / 2`` below for the same reason;
- **Dale's law** for ``connectivity = "ei"`` (:func:`dale_violations`): no synapse of the
  first ``n_exc`` (excitatory) units below 0, none of the others above 0.

So a graph drawn from other options fails (a ``k_in = 50`` graph under ``k_in = 100``, a
Bernoulli graph under all-to-all) and the network's own draw passes at any size.
"""

from __future__ import annotations

__all__ = ["connectivity_mismatch", "dale_violations", "in_degrees"]

from typing import Any

import numpy as np

from infodyn.network.connectivity import expected_nnz
from infodyn.network.sparse import is_sparse


def in_degrees(w: Any) -> np.ndarray:
    """The number of synapses each unit receives in ``w`` (rows presynaptic, columns
    postsynaptic): the stored synapses of a :class:`~infodyn.network.sparse.SparseWeights`, the
    non-zero off-diagonal entries of a dense array."""
    if is_sparse(w):
        return np.bincount(np.asarray(w.indices), minlength=w.shape[1])
    a = np.asarray(w)
    return np.count_nonzero(a, axis=0) - (np.diagonal(a) != 0)


def dale_violations(w: Any, signs: Any) -> int:
    """How many synapses of ``w`` (dense or sparse) have the sign opposite to their presynaptic
    unit's in ``signs`` (+1 excitatory, -1 inhibitory; ``None``: no Dale's law, 0)."""
    if signs is None:
        return 0
    signs = np.asarray(signs)
    if is_sparse(w):
        return int(np.sum(np.asarray(w.values) * signs[w.pre_indices()] < 0))
    return int(np.sum(np.asarray(w) * signs[:, None] < 0))


def connectivity_mismatch(net: Any, w_rec: Any) -> str | None:
    """Why ``w_rec`` (of ``net``'s shape) does not fit ``net``'s connectivity options (module
    docstring), in one phrase naming both; ``None`` when it fits."""
    degrees = in_degrees(w_rec)
    stored = is_sparse(w_rec)  # a pattern, kept by training: the checks are exact
    n, nnz = len(degrees), int(degrees.sum())
    mean = nnz / max(n, 1)
    found = f"its units receive {int(degrees.min())}..{int(degrees.max())} "
    found += f"synapses (mean {mean:.1f})"
    if net.k_in is not None:
        k = net.k_in
        if degrees.max() > k or (degrees.min() < k if stored else mean < k / 2):
            return f"{found}, [network] k_in = {k} gives each unit {k}"
    else:
        expected = expected_nnz(net)
        slack = 6.0 * np.sqrt(expected) + 1.0
        low = expected - slack if stored else expected / 2 - slack
        if not low <= nnz <= expected + slack:
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
