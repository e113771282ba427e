"""Spike nonlinearity with a surrogate (pseudo-)derivative.

The forward pass is the Heaviside step ``z = H(v - A)`` (strict: a unit spikes when ``v > A``).
The backward pass replaces the Dirac delta by a pseudo-derivative ``psi`` of the normalised
distance to threshold ``u = (v - A) / v_th`` (Bellec et al. 2020, Nat. Commun. 11:3625, Methods:
the pseudo-derivative of their LIF and ALIF models):

- ``triangle`` (default): ``psi = gamma / v_th * max(0, 1 - |u|)``
- ``fast_sigmoid``:       ``psi = gamma / v_th / (1 + |u|)^2``          (Zenke & Ganguli 2018)
- ``arctan``:             ``psi = gamma / v_th / (1 + (pi u)^2)``   (Fang et al. 2021, ICCV:
  the derivative of their ``arctan(pi a u / 2) / pi + 1/2`` at ``a = 2``)
- ``exponential``:        ``psi = gamma / v_th * exp(-|u|)``     (the escape-rate shape of
  Shrestha & Orchard 2018, NeurIPS, SLAYER, at unit slope)

``gamma`` (default 0.3) dampens the pseudo-derivative; psi is 0 while a unit is refractory.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

SURROGATES = ("triangle", "fast_sigmoid", "arctan", "exponential")


def pseudo_derivative(shape: str, u: jax.Array, gamma: float, v_th: float) -> jax.Array:
    """psi(u) for ``u = (v - A) / v_th``; see the module docstring for each shape."""
    au = jnp.abs(u)
    if shape == "triangle":
        f = jnp.maximum(0.0, 1.0 - au)
    elif shape == "fast_sigmoid":
        f = 1.0 / (1.0 + au) ** 2
    elif shape == "arctan":
        f = 1.0 / (1.0 + (jnp.pi * u) ** 2)
    elif shape == "exponential":
        f = jnp.exp(-au)
    else:  # validated by the config; kept as a guard for direct callers
        raise ValueError(f"unknown surrogate {shape!r}; choose from {SURROGATES}")
    return (gamma / v_th) * f


@partial(jax.custom_jvp, nondiff_argnums=(0, 2, 3))
def spike(shape: str, u: jax.Array, gamma: float, v_th: float) -> jax.Array:
    """Heaviside ``H(u)`` (``u > 0``) with the surrogate derivative ``psi(u) / v_th``.

    ``u`` is ``(v - A) / v_th``; the chain rule through ``u`` supplies the ``1/v_th`` of
    ``d u / d v``, so the total derivative dz/dv equals ``psi`` as defined above.
    """
    return (u > 0).astype(u.dtype)


@spike.defjvp
def _spike_jvp(shape, gamma, v_th, primals, tangents):
    (u,) = primals
    (du,) = tangents
    out = (u > 0).astype(u.dtype)
    # dz/du = psi * v_th, so that dz/dv = dz/du * du/dv = psi.
    return out, pseudo_derivative(shape, u, gamma, v_th) * v_th * du
