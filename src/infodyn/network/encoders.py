"""Input encoders: Poisson rate coding, direct current, and the author's filtered-noise stimulus.

All rates are in Hz and times in ms; the per-step spike probability is ``rate * dt / 1000``.
Every function takes ``seed``; the same seed gives the same input.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infodyn.errors import InputError, require_finite


def _check_rates(rates: Any, dt: float) -> np.ndarray:
    r = np.asarray(rates, dtype=np.float64)
    require_finite("rates", r)
    if np.any(r < 0):
        raise InputError("rates must be >= 0 Hz")
    if dt <= 0:
        raise InputError(f"dt must be > 0 ms, got {dt}")
    p = r * dt / 1000.0
    if np.any(p > 1):
        raise InputError(
            f"rate x dt exceeds one spike per step (max rate {r.max():.4g} Hz at dt={dt} ms)"
        )
    return p


def poisson_spikes(
    rates: Any,
    n_steps: int,
    n_in: int | None = None,
    dt: float = 1.0,
    batch: int | None = None,
    frozen: bool = True,
    seed: int = 0,
) -> np.ndarray:
    """Bernoulli-per-step (Poisson) spike trains.

    ``rates``: a scalar, (n_in,) per channel, or (n_steps, n_in) time-varying, in Hz.
    Returns (n_steps, n_in) float32, or (batch, n_steps, n_in) when ``batch`` is given: with
    ``frozen=True`` every batch entry is the same realisation (a frozen stimulus), otherwise each
    entry is a fresh draw.
    """
    p = _check_rates(rates, dt)
    if n_steps < 1:
        raise InputError("n_steps must be >= 1")
    if p.ndim == 0:
        if n_in is None:
            raise InputError("give n_in when rates is a scalar")
        p = np.full((n_steps, n_in), float(p))
    elif p.ndim == 1:
        p = np.broadcast_to(p, (n_steps, p.size))
    elif p.shape[0] != n_steps:
        raise InputError(f"time-varying rates must have {n_steps} rows, got {p.shape[0]}")
    rng = np.random.default_rng(seed)
    if batch is None:
        return (rng.random(p.shape) < p).astype(np.float32)
    if batch < 1:
        raise InputError("batch must be >= 1")
    if frozen:
        one = (rng.random(p.shape) < p).astype(np.float32)
        return np.broadcast_to(one, (batch, *p.shape)).copy()
    return (rng.random((batch, *p.shape)) < p).astype(np.float32)


def direct_current(amplitude: Any, n_steps: int, n_in: int | None = None) -> np.ndarray:
    """Constant input current: ``amplitude`` (scalar or (n_in,)) repeated for ``n_steps`` steps."""
    a = np.asarray(amplitude, dtype=np.float64)
    require_finite("amplitude", a)
    if a.ndim == 0:
        if n_in is None:
            raise InputError("give n_in when amplitude is a scalar")
        a = np.full(n_in, float(a))
    return np.broadcast_to(a, (n_steps, a.size)).astype(np.float32)


def adelson_bergen_kernel(tau: Any, a: float = 1.0 / 15.0) -> np.ndarray:
    """Adelson-Bergen temporal kernel ``D(tau) = a e^(-a tau) [(a tau)^5/5! - (a tau)^7/7!]``.

    ``tau`` in ms (>= 0), ``a`` in 1/ms (default 1/15). D is biphasic: positive, then negative.
    """
    t = np.asarray(tau, dtype=np.float64)
    at = a * t
    return a * np.exp(-at) * (at**5 / math.factorial(5) - at**7 / math.factorial(7))


def filtered_noise_rates(
    n_steps: int,
    n_in: int,
    dt: float = 1.0,
    mean_rate: float = 20.0,
    contrast: float = 0.5,
    a: float = 1.0 / 15.0,
    kernel_ms: float = 300.0,
    shared: bool = False,
    seed: int = 0,
) -> np.ndarray:
    """The author's stimulus: Gaussian white noise filtered by the Adelson-Bergen kernel.

    Each channel (or one shared signal with ``shared=True``) is white noise convolved with
    D(tau) over ``kernel_ms``, normalised to unit variance ``s(t)``; the rate is
    ``mean_rate * max(0, 1 + contrast * s(t))`` Hz. Returns (n_steps, n_in) rates in Hz.
    """
    if n_steps < 1 or n_in < 1:
        raise InputError("n_steps and n_in must be >= 1")
    if mean_rate < 0 or contrast < 0:
        raise InputError("mean_rate and contrast must be >= 0")
    rng = np.random.default_rng(seed)
    taus = np.arange(0.0, kernel_ms, dt)
    kern = adelson_bergen_kernel(taus, a)
    n_sig = 1 if shared else n_in
    noise = rng.standard_normal((n_steps + taus.size, n_sig))
    from scipy.signal import fftconvolve

    s = fftconvolve(noise, kern[:, None], mode="valid", axes=0)[:n_steps]
    s = (s - s.mean(axis=0)) / (s.std(axis=0) + 1e-12)
    if shared:
        s = np.repeat(s, n_in, axis=1)
    return mean_rate * np.maximum(0.0, 1.0 + contrast * s)


def filtered_noise_spikes(
    n_steps: int,
    n_in: int,
    dt: float = 1.0,
    mean_rate: float = 20.0,
    contrast: float = 0.5,
    batch: int | None = None,
    frozen: bool = True,
    seed: int = 0,
    **kwargs: Any,
) -> np.ndarray:
    """Poisson generators driven by :func:`filtered_noise_rates` (the deck's stimulus)."""
    rates = filtered_noise_rates(n_steps, n_in, dt, mean_rate, contrast, seed=seed, **kwargs)
    return poisson_spikes(rates, n_steps, dt=dt, batch=batch, frozen=frozen, seed=seed + 1)
