"""e-prop's recurrent per-synapse sum, event by event: O(spikes x out-degree), not O(steps x nnz).

Over a chunk of steps k = 1..n, e-prop adds to the gradient of a recurrent synapse s = (i -> j)
the sum ``sum_k zbar_i[k] q_j[k]`` (:mod:`infodyn.learning.synapse_ops`; ``q = psi L``, the
postsynaptic factor). The presynaptic trace is a filtered spike train,
``zbar[k] = alpha zbar[k-1] + z_in[k]`` (``z_in[k]``: the spikes of step k-1, the recurrent
input of step k; the LIF eligibility trace of Bellec et al. 2020, Nat. Commun. 11, 3625,
Methods, whose ALIF form is their eq. 25). Exchanging the two sums
(as the look-ahead readout filter of :mod:`infodyn.learning.eprop` does in time)::

    sum_k zbar_i[k] q_j[k] = alpha zbar_i[0] Q_j[1] + sum_{k: z_in,i[k] != 0} z_in,i[k] Q_j[k]
    Q[k] = q[k] + alpha Q[k+1],  Q[n+1] = 0          (q filtered backwards within the chunk)

The first term is one sampled product per chunk (every synapse once); the second adds, for each
spike of unit i, ``Q[k]`` gathered at i's targets onto i's synapses: with spikes at a few Hz
that is a few per cent of the synapses a step instead of all of them, the same exploitation of
spike sparsity in the backward pass as Perez-Nieves & Goodman 2021 (NeurIPS, "Sparse spiking
gradient descent"), here exact for e-prop (the sums reassociated: equal to round-off, tested
against the sampled product and against BPTT with stopped gradients in float64).

The spike term runs as a Numba loop called from XLA (``jax.pure_callback``) on a CPU; on other
platforms (``lax.platform_dependent``) the chunk keeps the sampled product of every step.
With the forward passes event-driven too, one e-prop gradient of a 1,000-step sequence of the
acceptance network of issue 13 (N = 10^5, K = 100, about 4 Hz, float32, one thread) took 18.4 s
of CPU instead of 76.3 s (6.9 s with its input weights sparse too; 10^4 units: 6.7 -> 0.86 and
0.44 s; ``benchmarks/profile_eprop_scale.py``, ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numba
import numpy as np

Array = Any


@numba.njit(cache=True, nogil=True)
def _spike_rows(zin, q, indptr, indices, out):  # pragma: no cover - compiled
    """``out[s] += z_in[k, b, i] q[k, b, indices[s]]`` for every non-zero ``z_in[k, b, i]`` and
    every synapse s of row i (``indptr[i]:indptr[i+1]``), steps and trials in order."""
    n_steps, batch, n_pre = zin.shape
    for k in range(n_steps):
        for b in range(batch):
            zk = zin[k, b]
            qk = q[k, b]
            for i in range(n_pre):
                zi = zk[i]
                if zi != 0.0:
                    for s in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                        out[s] += zi * qk[indices[s]]


def _host_spike_rows(zin, q, indices, indptr):
    """The host side of :func:`spike_rows`: NumPy views of the buffers, unsigned indices (no
    negative-index test per synapse)."""
    q = np.asarray(q)
    out = np.zeros(np.shape(indices)[0], q.dtype)
    idx = np.asarray(indices)
    idx = idx.view(np.uint32) if idx.dtype == np.int32 else idx
    _spike_rows(np.asarray(zin, q.dtype), q, np.asarray(indptr), idx, out)
    return out


def spike_rows(zin: Array, q: Array, indices: Array, indptr: Array) -> Array:
    """``out[s] = sum_{k,b} z_in[k, b, pre_s] q[k, b, post_s]`` (nnz,) over the spikes of
    ``z_in`` (n, B, n_pre) only, for the CSR pattern (``indices``, ``indptr``) of a
    :class:`~infodyn.network.sparse.SparseWeights`; a host callback (CPU). The pattern must be
    valid (``indptr`` ascending to nnz, ``indices`` in ``[0, n_post)``: what
    :meth:`~infodyn.network.model.LIF.validate_params` checks before any e-prop call): the loop
    does not test each synapse's index, so an index out of range would write out of bounds."""
    shape = jax.ShapeDtypeStruct((indices.shape[0],), q.dtype)
    return jax.pure_callback(
        _host_spike_rows, shape, zin, q, indices, indptr, vmap_method="sequential"
    )


def reverse_filter(alpha: float, q: Array) -> Array:
    """``Q[k] = q[k] + alpha Q[k+1]`` over the leading axis, ``Q[n] = q[n]``."""

    def back(acc, q_k):
        acc = q_k + alpha * acc
        return acc, acc

    _, out = jax.lax.scan(back, jnp.zeros_like(q[0]), q, reverse=True)
    return out


def trace_outer(
    alpha: float, zbar0: Array, zin: Array, q: Array, zb: Array, sampled, indices, indptr
) -> Array:
    """``sum_{k,b} zbar[k, b, pre_s] q[k, b, post_s]`` (nnz,) for the filtered spikes ``zbar``
    (``zb``, (n, B, n_pre), with ``zbar[0] = zbar0`` and inputs ``zin``): event by event on a
    CPU (module docstring), elsewhere ``sampled(zb, q)``, the product of every step.
    ``sampled(a, q)``: the sampled sum over the leading axes of (m, B, .) arrays."""

    def by_spikes(zbar0, zin, q, zb):
        big_q = reverse_filter(alpha, q)
        first = sampled((alpha * zbar0)[None], big_q[:1])
        return first + spike_rows(zin, big_q, indices, indptr)

    def by_steps(zbar0, zin, q, zb):
        return sampled(zb, q)

    return jax.lax.platform_dependent(zbar0, zin, q, zb, cpu=by_spikes, default=by_steps)
