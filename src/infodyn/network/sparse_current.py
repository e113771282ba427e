"""The recurrent current of a step on :class:`~infodyn.network.sparse.SparseWeights`, in JAX.

``I[j] = sum_i z[i] w[i, j]`` (the ``z^T W_rec`` of :mod:`infodyn.network.model`) is
:func:`recurrent_current`: a dense matmul for arrays and, for ``SparseWeights``,
``segment_sum_j(values_s * z[pre_s])`` over the synapses s, or, for a fixed in-degree K, K
gathers of ``z`` through the synapses stored by target (:func:`by_target`, an ELL layout built
once per run: no scatter). The JAX engine's forward runs on a CPU add only the rows of the
active units instead (:mod:`infodyn.network.event_current`, same sums).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from infodyn.errors import InputError, real_shape
from infodyn.network.sparse import SparseWeights, pre_indices_jax
from infodyn.network.sparse_checks import check_sparse

Array = Any


class ByTarget(NamedTuple):
    """The synapses of a fixed in-degree :class:`SparseWeights` grouped by target (an ELL
    layout, K-major): ``pre[k, j]`` is the k-th presynaptic unit of unit j (ascending in k) and
    ``syn[k, j]`` that synapse's position in ``values``; both (K, n_post), ``syn`` int32, ``pre``
    uint16 up to 2^16 presynaptic units (the rows streamed every step: 6 bytes a synapse instead
    of 8, about 15 % faster on a CPU), else int32. ``values``:
    ``w.values[syn]``, gathered once per scan (:meth:`gather`), or None."""

    pre: Array
    syn: Array
    values: Array | None = None

    def gather(self, w: SparseWeights) -> ByTarget:
        """This layout with ``w``'s values in it (differentiable with respect to them)."""
        return self._replace(values=jnp.take(jnp.asarray(w.values), self.syn))


_BY_TARGET_CACHE: list[tuple[Any, Any, ByTarget | None]] = []


def by_target(w: Any) -> ByTarget | None:
    """The :class:`ByTarget` layout of ``w`` when every postsynaptic unit receives the same
    number K >= 1 of synapses (fixed in-degree, ``k_in``) and ``w``'s index arrays are concrete
    (not traced); else None. Computed with NumPy (a stable sort of the synapses by target) and
    kept for the last few patterns, so a run that reuses its weights pays it once."""
    if not isinstance(w, SparseWeights) or isinstance(w.indices, jax.core.Tracer):
        return None
    if isinstance(w.indptr, jax.core.Tracer):
        return None
    for ind, ptr, plan in _BY_TARGET_CACHE:
        if ind is w.indices and ptr is w.indptr:
            return plan
    indices = np.asarray(w.indices)
    n_pre, n_post = w.shape
    nnz = indices.shape[0]
    plan = None
    if nnz and nnz % n_post == 0:
        k = nnz // n_post
        if np.all(np.bincount(indices, minlength=n_post) == k):
            order = np.argsort(indices, kind="stable")  # by target, then by synapse (= by pre)
            counts = np.diff(np.asarray(w.indptr))
            small = np.uint16 if n_pre <= 1 << 16 else np.int32  # 6 bytes a synapse a step
            pre = np.repeat(np.arange(n_pre, dtype=small), counts)[order]
            plan = ByTarget(
                jnp.asarray(pre.reshape(n_post, k).T),
                jnp.asarray(order.astype(np.int32).reshape(n_post, k).T),
            )
    _BY_TARGET_CACHE.insert(0, (w.indices, w.indptr, plan))
    del _BY_TARGET_CACHE[4:]
    return plan


#: K-steps of the by-target sum unrolled into one step of its loop on a GPU (and any platform
#: but the CPU): each loop iteration there costs a kernel launch, about 10 us, and an unrolled
#: group fuses into one kernel, the additions still in ascending presynaptic order (the same
#: sums for spikes; for real-valued z a fused multiply-add may round a term differently, as
#: on a CPU when XLA contracts the rolled loop's). On a CPU the loop is not unrolled: XLA's CPU
#: code was slower unrolled (N = 10^4, K = 100, float32: 0.29 s rolled, 0.42 s unrolled by 16,
#: 0.34 s fully, for 500 steps). 64 was the fastest measured on an NVIDIA H200 (stop 36,
#: ``benchmarks/RESULTS.md``): at K = 100, 1.8-3.3x faster than 32 in float64 and float32 at 10^4
#: and 10^5 units, tied with full unrolling in float32 and 2.8x faster in float64 at 10^5, for
#: 1.0-2.3 s more compilation than 32; at K = 1,000 each doubling from 8 to 32 cut the time by
#: 1.5-2.1x (64 not measured there).
GPU_UNROLL = 64


def recurrent_current(z: Array, w: Array, pre: Array | ByTarget | None = None) -> Array:
    """``I[..., j] = sum_i z[..., i] w[i, j]`` for a dense array or a :class:`SparseWeights`.

    For sparse ``w`` the product is a gather of the presynaptic activity onto the synapses and a
    segment sum onto the postsynaptic units: O(nnz) work and memory, no N x N array; it works
    under ``jit``, ``lax.scan``, ``vmap`` and ``grad`` (with respect to ``z`` and ``w.values``).
    ``pre`` may pass the precomputed presynaptic indices (:func:`pre_indices_jax`) so that a scan
    does not rebuild them every step, or a :class:`ByTarget` layout (fixed in-degree
    networks, :func:`by_target`): then K gathers of ``z`` and K vector multiply-adds,
    ``I[j] = (...(z[pre[0, j]] w_0j + z[pre[1, j]] w_1j) + ...)``, in ascending presynaptic
    order (the event engine's order), with no scatter; about 3-4x faster than the segment sum on
    a CPU; on a GPU the loop over the K in-synapses runs :data:`GPU_UNROLL` of them an
    iteration. Gradients with respect to ``w.values`` come back at the synapses, in ``values``'
    order, either way.
    """
    # None, text or a ragged list were raw errors of z @ w (shapes and dtypes are static: under
    # jit these checks cost nothing)
    w_shape = w.shape if isinstance(w, SparseWeights) else real_shape(w, "w")
    z_shape = real_shape(z, "z")
    if len(w_shape) != 2 or not z_shape or z_shape[-1] != w_shape[0]:
        raise InputError(
            f"z (..., n_pre) and w (n_pre, n_post) must be activity and weights of the same "
            f"units, got shapes {z_shape} and {w_shape}"
        )
    if isinstance(w, SparseWeights) and isinstance(w.indices, np.ndarray):  # not traced:
        check_sparse(w, w.shape, "w", finite=False)  # an index past n_post was dropped and a
        # duplicate synapse summed without a word
    if not isinstance(w, SparseWeights):
        if pre is not None:  # ignored without a word
            raise InputError("pre (presynaptic indices) is for SparseWeights; w is dense")
        return z @ w
    if pre is not None and not isinstance(pre, ByTarget):
        # shapes and dtypes are static under jit: a check here costs nothing at run time
        if jnp.shape(pre) != (w.nnz,) or not jnp.issubdtype(jnp.result_type(pre), jnp.integer):
            raise InputError(  # pre=0 spread unit 0's activity over every synapse
                f"pre must be the presynaptic unit of each synapse: {w.nnz} whole numbers "
                f"(pre_indices_jax(w)), or a ByTarget; got {type(pre).__name__} of shape "
                f"{jnp.shape(pre)}"
            )
    if isinstance(pre, ByTarget):
        plan = pre if pre.values is not None else pre.gather(w)

        def add(acc, inp):  # the ids are in range by construction: no bounds handling
            pre_k, w_k = inp
            z_k = z.at[..., pre_k.astype(jnp.int32)].get(mode="promise_in_bounds")
            return acc + z_k * w_k, None

        shape = (*z.shape[:-1], w.shape[1])
        acc0 = jnp.zeros(shape, jnp.result_type(z, plan.values))

        def summed(unroll: int):
            return lambda p, v: jax.lax.scan(add, acc0, (p, v), unroll=unroll)[0]

        k = int(plan.pre.shape[0])
        gpu_unroll = max(1, min(k, int(GPU_UNROLL)))
        return jax.lax.platform_dependent(
            plan.pre, plan.values, cpu=summed(1), default=summed(gpu_unroll)
        )
    if pre is None:
        pre = pre_indices_jax(w)
    contrib = jnp.take(z, pre, axis=-1) * w.values  # (..., nnz)
    moved = jnp.moveaxis(contrib, -1, 0)
    summed = jax.ops.segment_sum(moved, jnp.asarray(w.indices), num_segments=w.shape[1])
    return jnp.moveaxis(summed, 0, -1)
