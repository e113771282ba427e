"""e-prop (Bellec et al. 2020, Nat. Commun.): gradients from forward-only eligibility traces.

The exact gradient factorises as ``dE/dW_ij = sum_t (dE/dz_j[t]) e_ij[t]``; e-prop replaces the
total derivative by the learning signal ``L_j[t]`` (explicit dependence of E on z_j[t], plus the
readout path through the feedback matrix). For this model (:mod:`infodyn.network.model`), with
``psi_j[t]`` the pseudo-derivative (0 while refractory) and ``pre_i[t]`` the presynaptic drive of
the synapse (``s_in x_i[t]`` for input weights, ``z_i[t-1]`` for recurrent ones)::

    xbar_i[t]  = alpha xbar_i[t-1] + pre_i[t]                        (eligibility vector of v)
    eps_ij[t]  = psi_j[t-1] xbar_i[t-1] + (rho - beta_j psi_j[t-1]) eps_ij[t-1]   (ALIF only)
    e_ij[t]    = psi_j[t] (xbar_i[t] - beta_j eps_ij[t])                (eligibility trace)

For LIF units ``e_ij = psi_j xbar_i`` factorises: the gradient is accumulated as
``sum_b xbar^T (psi * L)`` without any per-synapse state. For sparse weights that sum is
needed at the stored synapses only; on a CPU it is summed over the spikes (and non-zero inputs)
alone, each adding a backward-filtered ``psi * L`` at its row's targets
(:mod:`.event_outer`), and the forward passes add only the active rows
(:func:`~infodyn.network.event_current.by_event`): O(spikes x out-degree) a step, not O(nnz).
Per-synapse state (B x n_pre x n_adaptive) is kept for the adaptive units of ALIF (``eps``;
the others have ``beta_j = 0``). The readout signal ``L^y`` reaches unit j through
``y[t] = kappa y[t-1] + s_out W_out^T z[t]``, so its trace is filtered,
``ebar[t] = kappa ebar[t-1] + e[t]`` (exact). Two exact ways to apply it:

- ``lookahead=True`` (a whole sequence with fixed weights; what :func:`.gradients` uses): a first
  forward pass records ``dE/dy[t]`` (T, B, n_out), filtered backwards into
  ``G[t] = sum_{k>=t} kappa^(k-t) dE/dy[k]``; then ``sum_t L^y[t] ebar[t] = sum_t e[t] G[t]``
  (exchange of the two sums), the traces stay factorised and the extra memory is that of the
  readout trajectory. Costs one forward pass, none when the loss already runs two passes and its
  readout terms are online (dE/dy is recorded in the pass that sums the statistics); a loss with
  a nonlinear readout term runs three. Exact as long as that pass replays the main pass's
  trajectory: bitwise in float32 on the CPU (tested); other backends are not checked.
- carried (online windows, weights changing inside a sequence): ``ebar`` is per-synapse state,
  updated once per chunk (:func:`_chunked`). Costs ~ one more gradient product per chunk.

``filter_readout=False`` applies ``L^y`` to the unfiltered trace instead (not exact).

The readout weights get ``dE/dW_out[j,k] = sum_t zout_j[t] L^y_k[t]`` with
``zout[t] = kappa zout[t-1] + s_out z[t]``: identical to BPTT in every configuration.

e-prop equals BPTT with the gradient through z stopped in the recurrent input and in the reset
(``method="bptt_stopgrad"``), see ``tests/learning``.

The scan carries a :class:`Carry` so a long run can be processed in windows with the state and
traces kept between them (online e-prop).
"""

from __future__ import annotations

import functools
import math
import os
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from infodyn.learning.losses import CompositeLoss
from infodyn.learning.synapse_ops import adaptive_synapses, ops_for, values_of
from infodyn.memory import require_memory
from infodyn.network.dynamics import Constants, State, step, zero_state
from infodyn.network.engine_jax import device_free_bytes, prepare_layout
from infodyn.network.sparse import is_sparse
from infodyn.network.surrogate import pseudo_derivative

Array = Any


class Carry(NamedTuple):
    """Everything e-prop keeps between steps (and between windows of an online run)."""

    state: State
    psi: Array  # (B, N) pseudo-derivative at the previous step
    xbar: Array  # (B, n_in) filtered input
    zbar: Array  # (B, N) filtered recurrent spikes
    eps_in: Array  # (B, n_in, n_adaptive) ALIF threshold eligibility vectors (or placeholder)
    eps_rec: Array  # (B, N, n_adaptive); sparse W_rec: (B, nnz_a) per synapse onto adaptive units
    ebar_in: Array  # (B, n_in, N) kappa-filtered eligibility traces (or placeholder)
    ebar_rec: Array  # (B, N, N); sparse W_rec: (B, nnz)
    zout: Array  # (B, N) kappa-filtered spikes for the readout gradient


def zero_carry(
    batch: int,
    n_in: int,
    n_rec: int,
    n_out: int,
    dtype,
    n_adaptive: int,
    filtered: bool,
    w_rec: Any = None,
    w_in: Any = None,
    n_steps: int = 0,
) -> Carry:
    """The carry at rest; threshold traces for the last ``n_adaptive`` units (ALIF), filtered
    traces when ``filtered`` (online windows with the readout filter). With a sparse ``w_rec``
    or ``w_in`` (:class:`~infodyn.network.sparse.SparseWeights`) its traces are per synapse: the
    threshold traces (B, nnz_a) for the synapses onto adaptive units, the filtered ones (B, nnz).

    The traces are checked to fit in memory first (:data:`TRACE_PEAK` times their size, the
    peak measured while they are updated), refused with the options that shrink them; with
    ``n_steps`` (the steps of a window), together with what a chunk of them holds
    (:data:`STEP_ARRAYS`, :data:`SYNAPSE_BYTES`)."""
    n_adaptive = _count(n_adaptive)
    eps_in, ebar_in = _trace_shapes(batch, n_in, n_rec, n_adaptive, filtered, w_in)
    eps_rec, ebar_rec = _trace_shapes(batch, n_rec, n_rec, n_adaptive, filtered, w_rec)
    shapes = {"eps_in": eps_in, "eps_rec": eps_rec, "ebar_in": ebar_in, "ebar_rec": ebar_rec}
    entries = sum(math.prod(shape) for shape in shapes.values())
    item = jnp.dtype(dtype).itemsize
    chunk = chunk_steps(w_rec, w_in, n_steps)
    states = STEP_ARRAYS[n_adaptive > 0] * chunk * batch * (n_rec + n_in) * item
    synapses = SYNAPSE_BYTES[n_adaptive > 0] * w_rec.nnz if is_sparse(w_rec) else 0
    inputs = INPUT_BYTES[item] * batch * n_steps * n_in
    require_memory_once(
        TRACE_PEAK * entries * item + states + synapses + inputs,
        f"e-prop's per-synapse eligibility traces ({entries:,} values: batch {batch} x the "
        f"synapses onto {n_adaptive:,} adaptive units"
        + (", and the readout-filtered traces of every synapse)" if filtered else ")")
        + (f", the states of a chunk of {chunk} steps (batch {batch} x {n_rec:,} units)")
        + (f", the layouts of {w_rec.nnz:,} synapses" if synapses else "")
        + f" and the copies of the input ({batch} x {n_steps:,} steps x {n_in:,} channels)",
        "use a smaller batch_size, fewer adaptive (ALIF) units"
        + ("" if is_sparse(w_rec) else ", sparse weights (k_in)")
        + (" or filter_readout=False" if filtered else ""),
    )
    z = jnp.zeros
    return Carry(
        state=zero_state(batch, n_rec, n_out, dtype),
        psi=z((batch, n_rec), dtype),
        xbar=z((batch, n_in), dtype),
        zbar=z((batch, n_rec), dtype),
        zout=z((batch, n_rec), dtype),
        **{name: z(shape, dtype) for name, shape in shapes.items()},
    )


def require_memory_once(need: float, what: str, advice: str) -> None:
    """:func:`~infodyn.memory.require_memory` on the device JAX computes on (host memory on the
    CPU), once for each need under one ``INFODYN_MEMORY_LIMIT``: e-prop's carry
    (:func:`zero_carry`) and BPTT's residuals (:func:`infodyn.learning.bptt.require_bptt_memory`)
    are checked every iteration, and after the first the process keeps the memory it freed,
    which the free memory then lacks (a long run could be refused midway)."""
    _fits_once(need, what, advice, os.environ.get("INFODYN_MEMORY_LIMIT"))


@functools.lru_cache(maxsize=32)
def _fits_once(need: float, what: str, advice: str, limit: str | None) -> None:
    """:func:`require_memory_once`'s check (``limit`` only keys the cache)."""
    free = device_free_bytes()  # None: JAX on the CPU, its arrays in host memory
    require_memory(need, what, advice, free=free, where="" if free is None else " on the device")


#: peak memory of the traces while they are updated, in units of their size (measured with
#: ALIF e-prop, B = 16-32, n_rec = 2000-3000: 2.1-2.2)
TRACE_PEAK = 2.5

#: (chunk, B, n_rec + n_in) arrays that e-prop's chunked scan holds at its peak (by whether
#: the network has adaptive units): the per-step values it records (xbar, zbar, the spikes
#: taken in, psi, both learning signals; ALIF: the previous step's too) and the products
#: formed from them. Measured (VmRSS peak, float32, n_rec = 20,000, k_in = 50 and 200, B = 2
#: and 8, chunks of 100 steps): 9.6-10.5 a batch entry (LIF), 14.1-14.5 (ALIF); the check
#: counted the traces alone, 0.1x of the peak
STEP_ARRAYS = {False: 12, True: 16}

#: bytes a value of the (B, T, n_in) input costs a gradient, by the item size of its
#: precision: the float64 copy it validates and the copies in the run's precision (measured:
#: dense LIF, 100-200 units, 1,000-2,000 inputs, B 16-64, T 500-1,000: 20-21 in float32, where
#: the check had counted 154 MiB of a 1.2 GiB peak; 10-11 in float64, whose copies are shared)
INPUT_BYTES = {4: 20, 8: 16}

#: bytes a stored synapse of a sparse w_rec costs beside its weights and traces during the
#: gradient (its layouts by target and by event, the adaptive synapses' own; the same
#: measurements, the batch's share taken out: 34 LIF, 104 ALIF)
SYNAPSE_BYTES = {False: 40, True: 110}


def _trace_shapes(batch, n_pre, n_rec, n_adaptive, filtered, w) -> tuple[tuple, tuple]:
    """Shapes of the threshold and filtered traces of weights ``w`` from ``n_pre`` units ((0,)
    when there are none): per synapse for sparse ``w``, else (B, n_pre, n_adaptive | n_rec)."""
    if is_sparse(w):
        eps = (batch, adaptive_synapses(w, n_adaptive)) if n_adaptive else (0,)
        return eps, (batch, w.nnz) if filtered else (0,)
    eps = (batch, n_pre, n_adaptive) if n_adaptive else (0,)
    return eps, (batch, n_pre, n_rec) if filtered else (0,)


def _forward_pass(
    c: Constants, loss: CompositeLoss, dt: float, params, beta, state, x, tgt, cot=None, pre=None
):
    """Forward pass only (the first pass of two-pass e-prop, and the look-ahead filter's
    readout pass): the window's loss statistics and, for a cotangent ``cot``, the readout errors
    ``dE/dy[t]`` (T, B, n_out), else None. ``pre``: the prepared layouts of ``w_rec`` and
    ``w_in`` (:func:`~infodyn.network.engine_jax.prepare_layout`)."""
    pre, pre_in = (None, None) if pre is None else pre

    def body(carry, inp):
        st, stats = carry
        x_t, tgt_t = inp
        new, _ = step(c, params, beta, st, x_t, pre=pre, pre_in=pre_in)
        stats = jax.tree_util.tree_map(jnp.add, stats, loss.step_stats(new.z, new.y, tgt_t, dt))
        ly = None if cot is None else loss.signal(cot, new.z, new.y, tgt_t, dt)[1]
        return (new, stats), ly

    stats0 = loss.zero_stats(state.z, state.y, None if tgt is None else tgt[0], dt)
    (_, stats), ly = jax.lax.scan(body, (state, stats0), (x, tgt))
    return stats, ly


@partial(
    jax.jit,
    static_argnames=("c", "loss", "dt", "n_adaptive", "filter_readout", "two_pass", "lookahead"),
)
def eprop_window(
    c: Constants,
    loss: CompositeLoss,
    dt: float,
    n_adaptive: int,
    filter_readout: bool,
    two_pass: bool,
    params: dict[str, Array],
    beta: Array,
    feedback: Array,
    carry: Carry,
    x: Array,
    tgt: Array | None,
    *,
    lookahead: bool = False,
    layout: Any = None,
):
    """e-prop over one window ``x`` (T, B, n_in), time-major, starting from ``carry``.

    Returns ``(grads, stats, activity, y, carry)``: gradients of the window's loss, its
    statistics, the population spike count per step (T, B), the readouts (T, B, n_out) and the
    carry at the end of the window.

    ``lookahead=True`` (a window that is a whole sequence, the weights fixed during it) applies
    the readout filter to the learning signal instead of the traces: with
    ``G[t] = sum_{k>=t} kappa^(k-t) dE/dy[k]`` (a backward filter of the (T, B, n_out) readout
    error, recorded by one extra forward pass), ``sum_t L^y[t] ebar[t] = sum_t e[t] G[t]``
    exactly, so LIF traces stay factorised and no B x n_pre x N filtered trace exists. The carry
    returned then holds no filtered traces (``zero_carry(..., filtered=False)``): do not continue
    it into a next window.

    ``layout``: the layouts of sparse ``w_rec`` and ``w_in`` (a pair) for the forward passes,
    made outside ``jit`` (:func:`~infodyn.learning.gradients.sparse_layout`: the non-zero
    entries added event by event on a CPU, the same sums as the gather path; None: the gather
    path).
    """
    n_steps = x.shape[0]
    plans = (None, None) if layout is None else layout
    pre = tuple(prepare_layout(params[k], p) for k, p in zip(("w_rec", "w_in"), plans, strict=True))
    filtered = filter_readout and loss.uses_output
    stats0 = loss.zero_stats(carry.state.z, carry.state.y, None if tgt is None else tgt[0], dt)

    def cotangent(stats, readout_only=False):
        """``dE/dS`` term by term; ``readout_only``: zeros for the terms that do not read the
        readouts (their reductions, perhaps undefined at S = 0, are then not evaluated)."""
        return tuple(
            jax.grad(lambda s, t=t: t.weight * t.reduce(s, n_steps, dt))(s_t)
            if t.uses_output or not readout_only
            else jax.tree_util.tree_map(jnp.zeros_like, s_t)
            for t, s_t in zip(loss.terms, stats, strict=True)
        )

    look = filtered and lookahead
    if look and carry.ebar_in.size:
        raise ValueError(
            "lookahead=True starts a sequence: pass a carry without filtered traces "
            "(zero_carry(..., filtered=False)); online windows use lookahead=False"
        )
    # the look-ahead filter needs dE/dy[t] before the main pass: recorded in the first pass when
    # every readout term is online (its cotangent does not depend on S), else in a pass of its own
    # once the statistics, and so the cotangent, are known
    early = look and loss.output_online
    cot = None if two_pass else cotangent(stats0)  # linear reductions: dE/dS is a constant
    ahead = None
    if two_pass or look:
        cot_y = (cotangent(stats0, readout_only=True) if two_pass else cot) if early else None
        s_final, ly = _forward_pass(c, loss, dt, params, beta, carry.state, x, tgt, cot_y, pre)
        if two_pass:
            cot = cotangent(s_final)
        if look:
            if not early:
                _, ly = _forward_pass(c, loss, dt, params, beta, carry.state, x, tgt, cot, pre)
            ahead = _reverse_filter(jnp.full((n_steps, 1, 1), c.kappa, x.dtype), ly)
            filtered = False  # the filter is in the signal now: factorised traces
    g0 = {key: jnp.zeros_like(values_of(params[key])) for key in ("w_in", "w_rec", "w_out")}
    grads, *rest = _chunked(
        c,
        loss,
        dt,
        _count(n_adaptive),
        filtered,
        params,
        beta,
        feedback,
        carry,
        x,
        tgt,
        ahead,
        cot,
        stats0,
        g0,
        pre,
    )
    for key in ("w_rec", "w_in"):  # sparse: the gradient of the stored synapses, same pattern
        if is_sparse(params[key]):
            grads[key] = params[key].with_values(grads[key])
    return grads, *rest


def _reverse_filter(coef: Array, q: Array) -> Array:
    """``out[u] = q[u] + coef[u] * out[u+1]`` over the leading axis, ``out[K] = q[K]``."""

    def back(acc, inp):
        c_u, q_u = inp
        acc = q_u + c_u * acc
        return acc, acc

    _, out = jax.lax.scan(back, jnp.zeros_like(q[0]), (coef, q), reverse=True)
    return out


CHUNK = 50
SPARSE_CHUNK = 100  # sparse weights: the event-driven sum's sampled product comes once a chunk


def chunk_steps(w_rec: Any, w_in: Any, n_steps: int) -> int:
    """The steps of a chunk of :func:`_chunked` over ``n_steps`` steps (:data:`SPARSE_CHUNK`
    where either weight matrix is sparse, else :data:`CHUNK`), which :func:`zero_carry`'s
    memory check counts."""
    return min(SPARSE_CHUNK if is_sparse(w_rec) or is_sparse(w_in) else CHUNK, n_steps)


def _chunked(
    c,
    loss,
    dt,
    n_adaptive,
    filtered,
    params,
    beta,
    feedback,
    carry,
    x,
    tgt,
    ahead,
    cot,
    stats0,
    g0,
    pre=None,
):
    """e-prop in chunks of ``CHUNK`` steps: the per-step forward pass keeps only per-unit state;
    the per-synapse sums are matrix products, once per chunk.

    Within a chunk (steps s = 1..K after the carry at s = 0) the gradient is
    ``sum_s e[s] M[s]`` plus the readout-filter term, with ``M`` the learning signal:

    - readout filter: with ``G[s] = sum_{k>=s} kappa^(k-s) L^y[k]`` (``L^y`` filtered backwards
      inside the chunk), ``sum_k L^y[k] ebar[k] = ebar[0] . sum_k kappa^k L^y[k] + sum_s e[s]
      G[s]`` and ``ebar[K] = kappa^K ebar[0] + sum_s kappa^(K-s) e[s]``, so ``M = L^z + G``.
    - LIF: ``e[s] = psi[s] pre[s]`` factorises, ``sum_s e[s] M[s] = pre^T (psi M)``.
    - ALIF: ``e[s] = psi[s] (pre[s] - beta eps[s])`` with ``eps[s] = d[s] eps[s-1] +
      psi[s-1] pre[s-1]``, ``d[s] = rho - beta psi[s-1]``. Unrolled, ``eps[s] = D(s,0) eps[0] +
      sum_{u<=s} D(s,u) psi[u-1] pre[u-1]`` with ``D(s,u) = prod_{w=u+1..s} d[w]``, so for any
      per-unit weights ``q[s]``::

          sum_s q[s] eps[s] = eps[0] d[1] Lam[1] + sum_u pre[u-1]^T (psi[u-1] Lam[u]),
          Lam[u] = q[u] + d[u+1] Lam[u+1]              (a backward scan of per-unit state)

      used with ``q = beta psi M`` (the gradient), ``q = beta psi kappa^(K-s)`` (the filtered
      trace at the chunk's end), and ``eps[K] = d[1] R[1] eps[0] + sum_u pre[u-1]^T (psi[u-1]
      R[u])``, ``R[u] = prod_{w>u} d[w]``.

    Every per-synapse array (``eps``: B x n_pre x n_adaptive, ``ebar``: B x n_pre x N; for
    sparse W_rec B x nnz_a and B x nnz, :mod:`.synapse_ops`) is touched once per chunk, not once
    per step, and the sums are batched matrix products (sampled at the synapses for sparse
    weights): the same numbers as the step-by-step recursion (float64 tests against BPTT with
    stopped gradients), several times faster. ``ahead`` (T, B, n_out), when given, is the
    look-ahead-filtered readout error ``G`` of :func:`eprop_window`: it replaces ``L^y`` in the
    learning signal, and ``filtered`` is then False (no ``ebar``).

    For sparse W_rec the term ``zbar^T (psi M)`` is summed event by event on a CPU
    (:meth:`.synapse_ops.SparseOps.trace_outer`: the spikes' rows only, plus one sampled product
    a chunk), in chunks of ``SPARSE_CHUNK`` steps, and so is ``xbar^T (psi M)`` for sparse
    W_in. ``pre``: the prepared layouts of ``w_rec`` and ``w_in``.
    """
    n_steps = x.shape[0]
    s_out = c.readout_scale
    dtype = x.dtype
    n_rec = params["w_rec"].shape[0]
    tail = slice(n_rec - n_adaptive, None)  # the adaptive units
    beta_a = beta[tail][None, :]
    sparse_in = is_sparse(params["w_in"])
    ops_in = ops_for(params["w_in"], n_adaptive, carry.eps_in.shape[-1] if sparse_in else 0)
    nnz_a = carry.eps_rec.shape[-1] if n_adaptive else 0
    ops_rec = ops_for(params["w_rec"], n_adaptive, nnz_a)
    sparse = is_sparse(params["w_rec"])
    pre, pre_in = (ops_rec.pre, ops_in.pre) if pre is None else pre

    def step_fn(cy, inp):
        k, stats, g_out = cy
        x_t, tgt_t, ahead_t = inp
        st = k.state
        free = (st.r <= 0).astype(dtype)
        new, thr = step(c, params, beta, st, x_t, pre=pre, pre_in=pre_in)
        psi = pseudo_derivative(c.surrogate, (new.v - thr) / c.v_th, c.gamma, c.v_th) * free
        xbar = c.alpha * k.xbar + c.input_scale * x_t
        zbar = c.alpha * k.zbar + st.z
        stats = jax.tree_util.tree_map(jnp.add, stats, loss.step_stats(new.z, new.y, tgt_t, dt))
        lz, ly = loss.signal(cot, new.z, new.y, tgt_t, dt)
        lr = s_out * ((ly if ahead_t is None else ahead_t) @ feedback.T)
        zout = c.kappa * k.zout + s_out * new.z
        g_out = g_out + zout.T @ ly
        prev = (k.psi, k.xbar, k.zbar) if n_adaptive else ()
        k = k._replace(state=new, psi=psi, xbar=xbar, zbar=zbar, zout=zout)
        # what zbar and xbar took in (sparse weights: their sums go by these events)
        ins = (st.z if sparse else None, c.input_scale * x_t if sparse_in else None)
        out = (xbar, zbar, ins, psi, lz, lr, prev, jnp.sum(new.z, axis=-1), new.y)
        return (k, stats, g_out), out

    def chunk_fn(cy, inp):
        k0, g, stats = cy
        (k, stats, g_out), (xb, zb, (zin, xin), psi, lz, lr, prev, act, y) = jax.lax.scan(
            step_fn, (k0, stats, g["w_out"]), inp
        )
        n = xb.shape[0]
        if filtered:
            gsig = _reverse_filter(jnp.full((n, 1, 1), c.kappa, dtype), lr)
            pl = psi * (lz + gsig)
            h = jnp.einsum("k,kbj->bj", c.kappa ** jnp.arange(1, n + 1, dtype=dtype), lr)
            w_end = (c.kappa ** jnp.arange(n - 1, -1, -1, dtype=dtype))[:, None, None] * psi
        else:
            pl = psi * (lz + lr)
        g_in = g["w_in"] + ops_in.trace_outer(c.alpha, k0.xbar, xin, pl, xb)
        g_rec = g["w_rec"] + ops_rec.trace_outer(c.alpha, k0.zbar, zin, pl, zb)
        if filtered:
            g_in = g_in + ops_in.trace_dot(k0.ebar_in, h)
            g_rec = g_rec + ops_rec.trace_dot(k0.ebar_rec, h)
            ebar_in = c.kappa**n * k0.ebar_in + ops_in.outer_batch(xb, w_end)
            ebar_rec = c.kappa**n * k0.ebar_rec + ops_rec.outer_batch(zb, w_end)
        if n_adaptive:  # the threshold traces of the adaptive units, the last n_adaptive
            psi_all, xb_prev, zb_prev = prev
            psi_prev = psi_all[..., tail]
            d = c.rho - beta_a * psi_prev  # d[s], s = 1..K
            d_next = jnp.concatenate([d[1:], jnp.ones_like(d[:1])])  # d[u+1]; 1 past the end
            lam = _reverse_filter(d_next, beta_a * pl[..., tail])
            g_in = ops_in.add_tail(g_in, -ops_in.eps_sum(k0.eps_in, d[0], xb_prev, psi_prev, lam))
            g_rec = ops_rec.add_tail(
                g_rec, -ops_rec.eps_sum(k0.eps_rec, d[0], zb_prev, psi_prev, lam)
            )
            if filtered:
                lam_end = _reverse_filter(d_next, beta_a * w_end[..., tail])
                ebar_in = ops_in.add_tail_batch(
                    ebar_in, -ops_in.eps_trace(k0.eps_in, d[0], xb_prev, psi_prev, lam_end)
                )
                ebar_rec = ops_rec.add_tail_batch(
                    ebar_rec, -ops_rec.eps_trace(k0.eps_rec, d[0], zb_prev, psi_prev, lam_end)
                )
            r = jnp.cumprod(d_next[::-1], axis=0)[::-1]  # R[u] = prod_{w>u} d[w]
            eps_in = ops_in.eps_trace(k0.eps_in, d[0], xb_prev, psi_prev, r)
            eps_rec = ops_rec.eps_trace(k0.eps_rec, d[0], zb_prev, psi_prev, r)
            k = k._replace(eps_in=eps_in, eps_rec=eps_rec)
        if filtered:
            k = k._replace(ebar_in=ebar_in, ebar_rec=ebar_rec)
        return (k, {"w_in": g_in, "w_rec": g_rec, "w_out": g_out}, stats), (act, y)

    cy, (act, y) = scan_in_chunks(
        chunk_fn,
        (carry, g0, stats0),
        (x, tgt, ahead),
        chunk_steps(params["w_rec"], params["w_in"], n_steps),
    )
    carry, grads, stats = cy
    return grads, stats, act, y, carry


def scan_in_chunks(chunk_fn, carry, xs: tuple, size: int):
    """Run ``chunk_fn(carry, xs_chunk) -> (carry, (act, y))`` over consecutive chunks of
    ``size`` steps of the time-major arrays in the tuple ``xs`` (entries after the first may be
    None) with
    ``lax.scan``; the remainder (T mod size steps) runs as one last, shorter chunk. Returns the
    final carry and ``act``, ``y`` concatenated over time. Shared by e-prop's chunked traces and
    checkpointed BPTT."""
    n_total = xs[0].shape[0]
    n_main = n_total // size
    main = n_main * size

    def split(a):
        return a[:main].reshape(n_main, size, *a.shape[1:])

    carry, (act, y) = jax.lax.scan(chunk_fn, carry, jax.tree_util.tree_map(split, xs))
    acts, ys = [act.reshape(main, *act.shape[2:])], [y.reshape(main, *y.shape[2:])]
    if main < n_total:  # the remainder as one shorter chunk
        carry, (act, y) = chunk_fn(carry, jax.tree_util.tree_map(lambda a: a[main:], xs))
        acts.append(act)
        ys.append(y)
    return carry, (jnp.concatenate(acts), jnp.concatenate(ys))


def _count(n_adaptive) -> int:
    """The number of adaptive units as an int (a bool would silently mean 0 or 1 unit)."""
    if isinstance(n_adaptive, bool):
        raise TypeError("n_adaptive is the number of adaptive units (net.n_adaptive), not a bool")
    return int(n_adaptive)
