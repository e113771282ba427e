"""The one-step update of the network, shared by the JAX engine, e-prop and BPTT.

See :mod:`infodyn.network.model` for the equations. ``detach_recurrent`` and ``detach_reset`` stop
the gradient through ``z[t-1]`` in the recurrent input and in the reset respectively; with both set,
BPTT computes exactly what e-prop computes (Bellec et al. 2020, Nat. Commun. 11:3625: the gradient
``sum_t L_j^t e_ji^t`` of their eq. 3 with the learning signal ``L_j^t`` the partial derivative
``partial E / partial z_j^t`` of eq. 4; the authors' code checks the same identity against autodiff
with stopped gradients).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from infodyn.network.event_current import current
from infodyn.network.surrogate import spike


class Constants(NamedTuple):
    """Static (hashable) constants of a network, derived from its config."""

    alpha: float
    rho: float
    kappa: float
    v_th: float
    n_ref: int
    input_scale: float
    readout_scale: float
    surrogate: str
    gamma: float

    @classmethod
    def of(cls, net) -> Constants:
        return cls(
            alpha=net.alpha,
            rho=net.rho,
            kappa=net.kappa,
            v_th=net.v_th,
            n_ref=net.n_ref,
            input_scale=net.input_scale,
            readout_scale=net.readout_scale,
            surrogate=net.surrogate,
            gamma=net.gamma,
        )


class State(NamedTuple):
    """Network state after a step; each field is (B, n_rec) except ``y`` (B, n_out)."""

    v: jax.Array
    z: jax.Array
    a: jax.Array
    r: jax.Array  # refractory steps left (float, 0 when free)
    y: jax.Array


def zero_state(batch: int, n_rec: int, n_out: int, dtype) -> State:
    """The state before the first step: all potentials, spikes, adaptation, refractory counters
    and readouts zero, for ``batch`` sequences."""
    zeros = jnp.zeros((batch, n_rec), dtype)
    return State(v=zeros, z=zeros, a=zeros, r=zeros, y=jnp.zeros((batch, n_out), dtype))


def step(
    c: Constants,
    params: dict[str, jax.Array],
    beta: jax.Array,
    state: State,
    x_t: jax.Array,
    detach_recurrent: bool = False,
    detach_reset: bool = False,
    pre: jax.Array | None = None,
    pre_in: jax.Array | None = None,
) -> tuple[State, jax.Array]:
    """Advance one step. Returns the new state and the threshold ``A[t]`` (B, n_rec).

    ``params["w_rec"]`` and ``params["w_in"]`` may be
    :class:`~infodyn.network.sparse.SparseWeights`; ``pre`` and ``pre_in`` then pass their
    presynaptic indices (:func:`~infodyn.network.sparse.pre_indices_jax`, computed once per scan
    rather than every step), their by-target layout
    (:class:`~infodyn.network.sparse_current.ByTarget`, fixed in-degree) or their event-driven
    layout (:class:`~infodyn.network.event_current.ByEvent`: a CPU custom call, same sums)."""
    z_prev = state.z
    z_rec = jax.lax.stop_gradient(z_prev) if detach_recurrent else z_prev
    z_reset = jax.lax.stop_gradient(z_prev) if detach_reset else z_prev
    a = c.rho * state.a + z_prev
    v = (
        c.alpha * state.v
        + current(z_rec, params["w_rec"], pre)
        + current(x_t, params["w_in"], pre_in) * c.input_scale
        - c.v_th * z_reset
    )
    thr = c.v_th + beta * a
    free = (state.r <= 0).astype(v.dtype)
    z = spike(c.surrogate, (v - thr) / c.v_th, c.gamma, c.v_th) * free
    r = jnp.where(z > 0, float(c.n_ref), jnp.maximum(state.r - 1.0, 0.0))
    y = c.kappa * state.y + (z @ params["w_out"]) * c.readout_scale
    return State(v=v, z=z, a=a, r=r, y=y), thr
