"""The memory that drawing a network's weights needs, checked before :meth:`LIF.init` draws
them, and the advice that goes with a refusal: which matrix is largest and what makes it smaller
(a sparse graph, a fixed in-degree ``k_in`` the network can have, fewer inputs or readouts).

The estimates are of the draws at their peak (measured with tracemalloc; comments below), so
that a refusal comes before the allocation that would fail, not after it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.memory import format_bytes, require_memory
from infodyn.network.connectivity import CHUNK_SYNAPSES, EI_PROBABILITIES, expected_nnz
from infodyn.network.sparse import sparse_bytes


def _draw_needs(net: Any, dtype: np.dtype) -> tuple[int, str, str, int, int]:
    """``(rec, rec_what, rec_advice, w_in, w_out)``: the bytes each matrix's draw needs at its
    peak (the dense draws hold two float64 copies of w_in and w_out)."""
    rec, rec_what, rec_advice = recurrent_need(net, dtype)
    private = net.input_connectivity == "private"
    w_in = input_weights_bytes(net, dtype if private else np.float64) * (1 if private else 2)
    return rec, rec_what, rec_advice, w_in, 2 * 8 * net.n_rec * net.n_out


def _largest_advice(net: Any, rec: int, rec_advice: str, w_in: int, w_out: int) -> str:
    """What makes the largest of the three matrices smaller."""
    largest = max(rec, w_in, w_out)
    if largest == rec:
        return rec_advice
    if largest == w_in:
        advice = "use fewer inputs (n_in): w_in is dense, a row of n_rec weights an input"
        if net.n_in == net.n_rec:
            advice += ", or input_connectivity='private' (input i onto unit i only)"
        return advice
    return "use fewer readouts (n_out): w_out is dense, n_rec weights a readout"


def weights_advice(net: Any) -> str:
    """What to change to make ``net``'s weights smaller: the advice for its largest matrix
    (a run's check named the recurrent weights where a dense ``w_in`` of 10^5 inputs was
    nine tenths of the need)."""
    rec, _, rec_advice, w_in, w_out = _draw_needs(net, np.dtype(np.float64))
    return _largest_advice(net, rec, rec_advice, w_in, w_out)


def weights_preflight(net: Any, dtype: np.dtype) -> None:
    """Refuse, before drawing, weights that do not fit in the free memory. The message names
    each matrix's share and advises on the largest: a recurrent one (sparse or dense), or
    the dense ``w_in``/``w_out`` (two float64 copies each while drawn)."""
    n = net.n_rec
    rec, rec_what, rec_advice, w_in, w_out = _draw_needs(net, dtype)
    private = net.input_connectivity == "private"
    what = (
        f"the weights of {n:,} units ({rec_what}: {format_bytes(rec)}; w_in{' private' * private} "
        f"{net.n_in:,} x {n:,}: {format_bytes(w_in)}; w_out {n:,} x {net.n_out:,}: "
        f"{format_bytes(w_out)})"
    )
    require_memory(rec + w_in + w_out, what, _largest_advice(net, rec, rec_advice, w_in, w_out))


def input_weights_bytes(net: Any, dtype: Any) -> int:
    """The bytes of ``w_in`` in ``dtype``: a diagonal :class:`SparseWeights` for private
    inputs, else an n_in x n_rec array."""
    if net.input_connectivity == "private":
        return sparse_bytes(net.n_rec, net.n_rec, dtype)
    return np.dtype(dtype).itemsize * net.n_in * net.n_rec


def recurrent_need(net: Any, dtype: np.dtype) -> tuple[int, str, str]:
    """The bytes drawing ``w_rec`` needs, what it is, and how to make it smaller (advice
    that a validator would not refuse in turn)."""
    n = net.n_rec
    if net.sparse_weights or net.k_in is not None:
        nnz = int(expected_nnz(net))
        # values + indices + indptr, the column-ordered presynaptic ids, one uniform chunk
        need = sparse_bytes(n, nnz, dtype) + 4 * nnz + 8 * CHUNK_SYNAPSES
        if not net.sparse_weights:  # k_in drawn sparse, then stored dense
            what = f"a dense w_rec of {n:,} x {n:,} from {nnz:.3g} synapses"
            advice = "use weights='sparse' or 'auto' (about 8 bytes a synapse in float32)"
            return need + n * n * dtype.itemsize, what, advice
        if net.k_in is not None:
            advice = "use a smaller k_in, or fewer units"
        elif net.connectivity == "ei":
            advice = f"use {_k_in_hint(net)}, or smaller p_ee, p_ei, p_ie, p_ii"
        elif net.connectivity == "sparse":
            advice = f"use a smaller p_connect, or {_k_in_hint(net)}"
        else:  # weights="sparse" of the all-to-all graph
            advice = f"use {_k_in_hint(net)} (the dense graph has n_rec - 1 synapses a unit)"
        return need, f"sparse w_rec with {nnz:.3g} synapses", advice
    # dense draws, at their peak (tracemalloc, 3,000 units): the normals scaled in place
    # (1 float64 array); and the uniforms with their mask (2.13, p_connect < 1); E/I's
    # uniforms, mask, magnitudes and product (4.13); a float32 copy besides. It counted 3
    # and 5 arrays: a 10^4-unit dense run estimated at 2.25 GiB peaked at 1.85 GiB
    copies = {"ei": 4.125, "sparse": 2.125}.get(net.connectivity, 1.0)
    need = int((copies * 8 + (dtype.itemsize if dtype.itemsize < 8 else 0)) * n * n)
    what = f"a dense w_rec of {n:,} x {n:,} while drawn"
    sparse = net.weights == "dense" and net.connectivity != "dense"
    hint = ("weights='sparse' with " if sparse else "") + _k_in_hint(net)
    return need, what, f"use {hint} (sparse weights, about 8 bytes a synapse in float32)"


def _k_in_hint(net: Any) -> str:
    """A fixed in-degree to suggest (100, 1,000 for E/I, at most a tenth of the units and
    no more than they can have), with the options it replaces (``k_in`` is refused beside
    ``p_connect`` or ``p_ee``..``p_ii`` other than their defaults)."""
    k = min(1000 if net.connectivity == "ei" else 100, max(1, net.n_rec // 10))
    k_in = f"k_in={_largest_k_in(net, k)}"  # at most a tenth of the units, and possible
    if net.connectivity == "dense":
        return f"connectivity='sparse' with {k_in}"
    given = net._non_default(("p_connect", *EI_PROBABILITIES))
    return k_in + (f" in place of {', '.join(given)}" if given else "")


def _largest_k_in(net: Any, k: int) -> int:
    """``k``, or the largest in-degree this network's units can have when ``k`` is more
    (:meth:`LIF._check_k_in`'s rule: no autapses, E/I split by ``frac_exc``)."""
    k = min(k, net.n_rec - 1)
    if net.connectivity == "ei":  # the largest up to k, else the smallest above (k_in=1)
        ks = (*range(k, 0, -1), *range(k + 1, net.n_rec))
        k = next((j for j in ks if net._ei_in_degree_fits(j)), k)
    return max(k, 1)
