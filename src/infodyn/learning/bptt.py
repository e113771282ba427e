"""Backpropagation through time through the surrogate derivative (the reference for e-prop;
BPTT: Werbos 1990, Proc. IEEE 78:1550).

``method="bptt"`` differentiates the loss through the whole network with ``jax.grad`` over a
``lax.scan`` of :func:`infodyn.network.dynamics.step`; memory grows with T (the scan keeps
every step's residuals). ``reset="through"`` (default) lets the gradient flow through the reset
term ``-v_th z[t-1]`` as the forward model does; ``reset="detach"`` stops it there, the
convention of the e-prop paper, which removes the negative self-feedback that the reset gives
the gradient: with recurrence kept, detaching the reset can make the backward pass unstable
(we measured a gradient norm of 1e23 at T = 1000).

With a sparse ``w_rec`` (:class:`~infodyn.network.sparse.SparseWeights`) the gradient is taken
with respect to the stored synapse values only and returned as weights of the same pattern.

``method="bptt_stopgrad"`` stops the gradient through z in both the recurrent input and the
reset: the configuration in which e-prop is exact.

Memory. With ``remat_chunk=K`` the scan runs as an outer scan over chunks of K steps whose body
is wrapped in ``jax.checkpoint``: the backward pass keeps only the state at each chunk boundary
and recomputes a chunk's steps when it reaches it (gradient checkpointing, Griewank & Walther
2000), so memory grows like ``T/K + K`` states instead of ``T`` steps' residuals, for about one
extra forward pass of time. :func:`infodyn.learning.evaluate` uses ``K = ceil(sqrt(T))`` by
default (``remat=False`` keeps every residual). The numbers are the same either way. With sparse
weights each step's residuals include the presynaptic spike each stored synapse gathered, batch x
nnz values: :func:`require_bptt_memory` refuses, before the pass, a chunk whose residuals cannot
fit (10^4 units at k_in = 1000 and batch 16 asked XLA for 31 GB and died in a traceback).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from infodyn.learning.eprop import require_memory_once, scan_in_chunks
from infodyn.learning.losses import CompositeLoss
from infodyn.learning.synapse_ops import pre_of, trainable_arrays, with_trainable
from infodyn.network.dynamics import Constants, step, zero_state
from infodyn.network.sparse import is_sparse

Array = Any


@partial(
    jax.jit,
    static_argnames=("c", "loss", "dt", "detach_recurrent", "detach_reset", "remat_chunk"),
)
def bptt_window(
    c: Constants,
    loss: CompositeLoss,
    dt: float,
    detach_recurrent: bool,
    detach_reset: bool,
    params: dict[str, Array],
    beta: Array,
    x: Array,
    tgt: Array | None,
    remat_chunk: int = 0,
):
    """BPTT over ``x`` (T, B, n_in), time-major, from the zero state.

    ``remat_chunk`` > 0 recomputes the forward pass in chunks of that many steps during the
    backward pass (see the module docstring); 0 keeps every step's residuals.
    Returns ``(grads, stats, activity, y)`` like :func:`infodyn.learning.eprop.eprop_window`.
    """
    n_steps, batch = x.shape[0], x.shape[1]
    n_rec, n_out = params["w_rec"].shape[0], params["w_out"].shape[1]

    pre = pre_of(params["w_rec"])  # sparse: presynaptic indices, once per scan

    def objective(trainable):
        p = with_trainable(params, trainable)
        state0 = zero_state(batch, n_rec, n_out, x.dtype)
        stats0 = loss.zero_stats(state0.z, state0.y, None if tgt is None else tgt[0], dt)

        def body(carry, inp):
            st, stats = carry
            x_t, tgt_t = inp
            new, _ = step(c, p, beta, st, x_t, detach_recurrent, detach_reset, pre)
            inc = loss.step_stats(new.z, new.y, tgt_t, dt)
            stats = jax.tree_util.tree_map(jnp.add, stats, inc)
            return (new, stats), (jnp.sum(new.z, axis=-1), new.y)

        carry = (state0, stats0)
        if 0 < remat_chunk < n_steps:
            carry, (activity, y) = _checkpointed_scan(body, carry, x, tgt, remat_chunk)
        else:
            carry, (activity, y) = jax.lax.scan(body, carry, (x, tgt))
        stats = carry[1]
        return loss.total(stats, n_steps, dt), (stats, activity, y)

    grads, (stats, activity, y) = jax.grad(objective, has_aux=True)(trainable_arrays(params))
    return with_trainable(params, grads), stats, activity, y


def _checkpointed_scan(body, carry, x: Array, tgt: Array | None, size: int):
    """``lax.scan(body, carry, (x, tgt))`` as chunks of ``size`` steps, each rematerialised in
    the backward pass (the last, shorter chunk too)."""

    @jax.checkpoint
    def chunk(cy, inp):
        return jax.lax.scan(body, cy, inp)

    return scan_in_chunks(chunk, carry, (x, tgt), size)


def require_bptt_memory(batch: int, n_steps: int, remat_chunk: int, nnz: int, dtype: Any) -> None:
    """Refuse a BPTT pass over ``nnz`` synapses of sparse weights (:func:`sparse_synapses`) whose
    residuals cannot fit: :data:`BPTT_PEAK` x the steps kept at once (a rematerialised chunk,
    else all) x ``batch`` x ``nnz`` x the item size (dense weights keep only per-unit values a
    step); once for each shape (:func:`~infodyn.learning.eprop.require_memory_once`)."""
    if not nnz:
        return
    steps = remat_chunk if 0 < remat_chunk < n_steps else n_steps
    require_memory_once(
        BPTT_PEAK * steps * batch * nnz * jnp.dtype(dtype).itemsize,
        f"BPTT's residuals ({steps:,} steps kept at once x batch {batch} x {nnz:,} synapses: "
        "the presynaptic spike each one gathered)",
        "use method='eprop' (its memory does not grow with the steps), a smaller batch_size, "
        "fewer steps or fewer synapses (k_in)",
    )


def sparse_synapses(params: dict[str, Any]) -> int:
    """The stored synapses of ``params``' sparse weights (0 when they are dense)."""
    return sum(int(w.nnz) for w in (params["w_rec"], params["w_in"]) if is_sparse(w))


def remat_chunk_of(n_steps: int) -> int:
    """The steps of a rematerialised chunk of :func:`infodyn.learning.evaluate`: ceil(sqrt(T))."""
    return math.ceil(math.sqrt(n_steps))


#: peak memory of a BPTT pass over sparse weights in units of one chunk's gathered spikes
#: (measured on the CPU, LIF, n_rec 5000-10000, k_in 200-500, batch 4-8, T 64-400: 1.6-2.2)
BPTT_PEAK = 2.5
