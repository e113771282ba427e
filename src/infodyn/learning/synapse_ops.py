"""The per-synapse sums of e-prop for a dense weight matrix or for :class:`SparseWeights`.

e-prop's gradient and traces (:mod:`infodyn.learning.eprop`; Bellec et al. 2020, Nat. Commun.
11:3625, eq. 3 and the LIF and ALIF eligibility traces of their Methods, the ALIF one eq. 25)
are sums of products of a presynaptic and a postsynaptic factor over steps k and
trials b::

    g[i, j]      = sum_{k,b} a[k, b, i] q[k, b, j]            (LIF: a = zbar, q = psi L)
    e[b, i, j]   = sum_k     a[k, b, i] q[k, b, j]            (a carried trace, per trial)

For a dense (n_pre, n_post) matrix these are the batched matrix products (einsum) of the dense
code. For sparse weights they are needed only at the existing synapses s = (pre_s, post_s), so
:class:`SparseOps` forms ``a[k, b, pre_s] q[k, b, post_s]`` for those only, one step k at a time
(a scan accumulating an (B, nnz) array: O(B nnz) memory whatever the chunk length, never an
N x N array). The threshold traces of ALIF (``eps``, only onto adaptive units) live on the
synapses whose postsynaptic unit is adaptive (the last ``n_adaptive`` units), ``nnz_a`` of them.

:class:`DenseOps` reproduces the dense expressions exactly (same einsums, same order), so the
dense path keeps its numbers bit for bit.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from infodyn.learning.event_outer import trace_outer
from infodyn.network.sparse import SparseWeights, is_sparse, pre_indices_jax

Array = Any


class DenseOps:
    """Per-synapse sums for a dense (n_pre, n_post) matrix; adaptive units are ``tail``."""

    pre = None  # no presynaptic index array: the dense product

    def __init__(self, n_post: int, n_adaptive: int):
        self.tail = slice(n_post - n_adaptive, None)

    def outer(self, a, q):
        """``sum_{k,b} a[k,b,i] q[k,b,j]`` (n_pre, n_post)."""
        return jnp.einsum("kbi,kbj->ij", a, q)

    def outer_batch(self, a, q):
        """``sum_k a[k,b,i] q[k,b,j]`` (B, n_pre, n_post)."""
        return jnp.einsum("kbi,kbj->bij", a, q)

    def trace_outer(self, alpha, zbar0, zin, q, zb):
        """:meth:`outer` of the filtered spikes ``zb`` (``zb[k] = alpha zb[k-1] + zin[k]``,
        from ``zbar0``) and ``q``: the dense product of ``zb`` itself."""
        return self.outer(zb, q)

    def trace_dot(self, e, h):
        """``sum_b e[b,i,j] h[b,j]`` (n_pre, n_post)."""
        return jnp.einsum("bij,bj->ij", e, h)

    def add_tail(self, g, x):
        """``g`` with ``x`` added on the synapses onto adaptive units."""
        return g.at[:, self.tail].add(x)

    def add_tail_batch(self, e, x):
        return e.at[..., self.tail].add(x)

    def eps_sum(self, eps0, d1, pre_prev, psi_prev, lam):
        """``sum_b eps0[b,i,j] d1 lam[0] + sum_{k,b} pre_prev[k,b,i] psi_prev lam`` (adaptive
        columns only; see :func:`infodyn.learning.eprop._chunked`)."""
        return jnp.einsum("bij,bj->ij", eps0, d1 * lam[0]) + jnp.einsum(
            "kbi,kbj->ij", pre_prev, psi_prev * lam
        )

    def eps_trace(self, eps0, d1, pre_prev, psi_prev, coef):
        """Per-trial ``eps0 d1 coef[0] + sum_k pre_prev psi_prev coef`` (B, n_pre, n_adaptive)."""
        return (d1 * coef[0])[:, None, :] * eps0 + jnp.einsum(
            "kbi,kbj->bij", pre_prev, psi_prev * coef
        )


class SparseOps:
    """The same sums at the synapses of a :class:`SparseWeights` pattern only.

    ``pre``/``post``: the units of each synapse (nnz); ``sel``: the synapses onto adaptive units
    (nnz_a, the static length of the threshold traces), ``pre_a``/``post_a`` their presynaptic
    unit and their postsynaptic unit counted within the adaptive block.
    """

    def __init__(self, w: SparseWeights, n_adaptive: int, nnz_adaptive: int):
        self.pre = pre_indices_jax(w)
        self.post = jnp.asarray(w.indices)
        self.indptr = jnp.asarray(w.indptr)
        first = w.shape[1] - n_adaptive
        if n_adaptive:
            (self.sel,) = jnp.nonzero(self.post >= first, size=nnz_adaptive, fill_value=0)
            self.pre_a = jnp.take(self.pre, self.sel)
            self.post_a = jnp.take(self.post, self.sel) - first

    def outer(self, a, q):
        return jnp.sum(_sampled(a, q, self.pre, self.post), axis=0)

    def outer_batch(self, a, q):
        return _sampled(a, q, self.pre, self.post)

    def trace_outer(self, alpha, zbar0, zin, q, zb):
        """:meth:`outer` of the filtered spikes ``zb`` (``zb[k] = alpha zb[k-1] + zin[k]``, from
        ``zbar0``) and ``q``, event by event on a CPU
        (:func:`~infodyn.learning.event_outer.trace_outer`: O(spikes x out-degree))."""
        return trace_outer(alpha, zbar0, zin, q, zb, self.outer, self.post, self.indptr)

    def trace_dot(self, e, h):
        return jnp.sum(e * jnp.take(h, self.post, axis=-1), axis=0)

    def add_tail(self, g, x):
        return g.at[self.sel].add(x)

    def add_tail_batch(self, e, x):
        return e.at[:, self.sel].add(x)

    def eps_sum(self, eps0, d1, pre_prev, psi_prev, lam):
        first = jnp.sum(eps0 * jnp.take(d1 * lam[0], self.post_a, axis=-1), axis=0)
        return first + jnp.sum(_sampled(pre_prev, psi_prev * lam, self.pre_a, self.post_a), 0)

    def eps_trace(self, eps0, d1, pre_prev, psi_prev, coef):
        first = jnp.take(d1 * coef[0], self.post_a, axis=-1) * eps0
        return first + _sampled(pre_prev, psi_prev * coef, self.pre_a, self.post_a)


def _sampled(a: Array, q: Array, pre: Array, post: Array) -> Array:
    """``out[b, s] = sum_k a[k, b, pre_s] q[k, b, post_s]`` (B, n_syn), one step k at a time:
    the (K, B, n_syn) products are never held together."""

    def body(acc, inp):
        a_k, q_k = inp
        return acc + jnp.take(a_k, pre, axis=-1) * jnp.take(q_k, post, axis=-1), None

    acc0 = jnp.zeros((a.shape[1], pre.shape[0]), jnp.result_type(a, q))
    out, _ = jax.lax.scan(body, acc0, (a, q))
    return out


def ops_for(w: Any, n_adaptive: int, nnz_adaptive: int = 0):
    """:class:`SparseOps` for sparse ``w``, else :class:`DenseOps`."""
    if is_sparse(w):
        return SparseOps(w, n_adaptive, nnz_adaptive)
    return DenseOps(w.shape[1], n_adaptive)


def adaptive_synapses(w: SparseWeights, n_adaptive: int) -> int:
    """Number of synapses of ``w`` onto the last ``n_adaptive`` units (concrete arrays)."""
    if not n_adaptive:
        return 0
    return int(np.count_nonzero(np.asarray(w.indices) >= w.shape[1] - n_adaptive))


def pre_of(w: Any) -> Array | None:
    """The presynaptic index of each synapse of sparse ``w`` (for ``dynamics.step``), else None."""
    return pre_indices_jax(w) if is_sparse(w) else None


def values_of(w: Any) -> Array:
    """The trainable array of a weight: a dense matrix itself, the values of sparse weights."""
    return w.values if is_sparse(w) else w


def trainable_arrays(params: dict[str, Any]) -> dict[str, Array]:
    """``params`` with each weight replaced by its trainable array (:func:`values_of`): what
    ``jax.grad`` and optax see (the integer indices of sparse weights are not parameters)."""
    return {k: values_of(w) for k, w in params.items()}


def with_trainable(params: dict[str, Any], arrays: dict[str, Array]) -> dict[str, Any]:
    """Inverse of :func:`trainable_arrays`: sparse weights keep their pattern, new values."""
    return {
        k: (SparseWeights(arrays[k], w.indices, w.indptr, w.shape) if is_sparse(w) else arrays[k])
        for k, w in params.items()
    }
