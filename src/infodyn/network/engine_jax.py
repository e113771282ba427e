"""The JAX engine: ``jit`` + ``lax.scan`` over time, batched, float32 or float64.

This is the differentiable path used by training. One compiled function per network shape,
detach options and dtype; later calls with the same shapes reuse it.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from infodyn.network.dynamics import Constants, State, step, zero_state


def ensure_dtype(precision: str):
    """Return the JAX dtype for ``precision`` ("float32" or "float64"), enabling x64 if needed."""
    if precision == "float64":
        if not jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", True)
        return jnp.float64
    if precision == "float32":
        return jnp.float32
    from infodyn.errors import InputError

    raise InputError(f"precision must be 'float32' or 'float64', got {precision!r}")


@partial(jax.jit, static_argnames=("c", "detach_recurrent", "detach_reset"))
def run(
    c: Constants,
    params: dict[str, jax.Array],
    beta: jax.Array,
    x: jax.Array,
    detach_recurrent: bool = False,
    detach_reset: bool = False,
) -> dict[str, jax.Array]:
    """Simulate ``x`` (B, T, n_in); returns time-major arrays v, z, thr, y of shape (T, B, .)."""
    batch = x.shape[0]
    n_rec = params["w_rec"].shape[0]
    n_out = params["w_out"].shape[1]
    state0 = zero_state(batch, n_rec, n_out, x.dtype)

    def body(state: State, x_t: jax.Array):
        new, thr = step(c, params, beta, state, x_t, detach_recurrent, detach_reset)
        return new, (new.v, new.z, thr, new.y)

    _, (v, z, thr, y) = jax.lax.scan(body, state0, jnp.swapaxes(x, 0, 1))
    return {"v": v, "z": z, "thr": thr, "y": y}


def simulate_jax(net, params, x: np.ndarray, precision: str = "float32") -> dict[str, np.ndarray]:
    """Run the JAX engine on batched input ``x`` (B, T, n_in); returns (B, T, .) NumPy arrays."""
    dtype = ensure_dtype(precision)
    p = {k: jnp.asarray(params[k], dtype) for k in ("w_in", "w_rec", "w_out")}
    out = run(Constants.of(net), p, jnp.asarray(net.beta_vector(), dtype), jnp.asarray(x, dtype))
    return {k: np.swapaxes(np.asarray(v), 0, 1) for k, v in out.items()}
