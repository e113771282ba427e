"""Input encoders: Poisson rate coding, direct current, and the author's filtered-noise stimulus.

All rates are in Hz and times in ms; the per-step spike probability is ``rate * dt / 1000``.
Every function takes ``seed``; the same seed gives the same input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import fft as sfft
from scipy.special import ndtr

from infodyn.errors import (
    InputError,
    as_array,
    finite_reals,
    is_finite_number,
    make_rng,
    require,
    require_finite,
    require_flag,
    shown,
    whole_number,
)
from infodyn.memory import require_memory


def spike_probabilities(rates: Any, dt: float) -> np.ndarray:
    """Per-step spike probabilities ``rate dt / 1000`` of Poisson ``rates`` (Hz), checked: finite,
    >= 0, and at most one spike per step of ``dt`` ms."""
    try:
        r = np.asarray(rates)
    except ValueError:  # ragged
        r = np.array([], dtype=object)
    if r.dtype.kind not in "iuf":  # "3" and True were read as rates of 3 and 1 Hz
        raise InputError(f"rates must be numbers (Hz), got {shown(rates)}")
    r = r.astype(np.float64, copy=False)
    require_finite("rates", r)
    if np.any(r < 0):
        raise InputError("rates must be >= 0 Hz")
    if not (is_finite_number(dt) and dt > 0):  # NaN made every probability NaN: silence
        raise InputError(f"dt must be a finite number > 0 ms, got {shown(dt)}")
    p = r * dt / 1000.0
    if np.any(p > 1):
        raise InputError(
            f"rate x dt exceeds one spike per step: the highest rate is {r.max():.4g} Hz, and a "
            f"step of dt = {dt:g} ms allows at most {1000.0 / dt:.4g} Hz"
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

    ``rates``: a scalar, (n_in,) per channel, or (n_steps, n_in) time-varying, in Hz; ``dt``:
    the step in ms (not read from the network: give the network's ``dt`` when it is not 1 ms,
    else a rate is read per 1 ms step). A spike has probability ``rates * dt / 1000`` a step.
    Returns (n_steps, n_in) float32, or (batch, n_steps, n_in) when ``batch`` is given: with
    ``frozen=True`` every batch entry is the same realisation (a frozen stimulus), otherwise each
    entry is a fresh draw.
    """
    frozen = require_flag("frozen", frozen)
    p = spike_probabilities(rates, dt)
    n_steps = whole_number(n_steps, "n_steps", minimum=1)
    if n_in is not None:  # an array compared with the channels had no truth value
        n_in = whole_number(n_in, "n_in", minimum=1)
    if p.ndim >= 1 and n_in is not None and n_in != p.shape[-1]:
        raise InputError(f"n_in={n_in} but rates give {p.shape[-1]} channels; omit n_in")
    if p.ndim == 0 and n_in is None:
        raise InputError("give n_in when rates is a scalar")
    if n_in is not None:
        n_in = whole_number(n_in, "n_in", minimum=1)
    if p.ndim > 2:  # (3, 50, 4) came back as it was, n_steps ignored
        raise InputError(f"rates must be a scalar, (n_in,) or (n_steps, n_in), got shape {p.shape}")
    if p.ndim and p.shape[-1] == 0:  # a (10, 0) input no network takes (n_in >= 1)
        raise InputError("rates is empty: give at least one channel's rate")
    if p.ndim == 2 and p.shape[0] != n_steps:
        raise InputError(f"time-varying rates must have {n_steps} rows, got {p.shape[0]}")
    batch = None if batch is None else whole_number(batch, "batch", minimum=1)
    channels = int(n_in) if p.ndim == 0 else p.shape[-1]
    _preflight((n_steps, channels), batch, frozen, scalar=p.ndim == 0)
    if p.ndim == 0:
        p = np.full((n_steps, n_in), float(p))
    elif p.ndim == 1:
        p = np.broadcast_to(p, (n_steps, p.size))
    rng = make_rng(seed)
    if batch is None:
        return (rng.random(p.shape) < p).astype(np.float32)
    if frozen:
        one = (rng.random(p.shape) < p).astype(np.float32)
        return np.broadcast_to(one, (batch, *p.shape)).copy()
    return (rng.random((batch, *p.shape)) < p).astype(np.float32)


def _preflight(shape: tuple[int, int], batch: int | None, frozen: bool, scalar: bool) -> None:
    """Refuse spike trains that do not fit: per draw float64 uniforms, a bool mask and the
    float32 result (``shape`` = (n_steps, n_in) cells; a scalar rate adds its float64 array of
    probabilities), then the batch's float32 copies."""
    cells = shape[0] * shape[1]
    draws = 1 if batch is None or frozen else batch
    copies = batch if batch is not None and frozen else 0  # the frozen draw broadcast
    need = cells * ((8 + 1 + 4) * draws + 4 * copies + (8 if scalar else 0))
    size = f"{shape[0]:,} x {shape[1]:,}" + ("" if batch is None else f" x batch {batch:,}")
    require_memory(
        need,
        f"Poisson spike trains of {size} (dense float32)",
        "for long runs of many inputs give simulate_to_file or simulate_spikes a function "
        "x(start, stop) that draws each chunk, or a SciPy sparse (n_steps, n_in) matrix",
    )


def direct_current(amplitude: Any, n_steps: int, n_in: int | None = None) -> np.ndarray:
    """Constant input current: ``amplitude`` (scalar or (n_in,)) repeated for ``n_steps`` steps."""
    n_steps = whole_number(n_steps, "n_steps", minimum=1)
    a = finite_reals(amplitude, "amplitude")  # "3" was a current of 3
    big = float(np.finfo(np.float32).max)  # the input is float32: 1e308 became inf, then NaN
    if np.any(np.abs(a) > big):
        bad = float(a[np.abs(a) > big].flat[0])
        raise InputError(f"amplitude must lie within +-{big:.3g} (float32 input), got {bad:g}")
    if a.ndim > 1:
        raise InputError(f"amplitude must be a scalar or (n_in,), got shape {a.shape}")
    if a.ndim == 1 and a.size == 0:  # a (5, 0) input no network takes (n_in >= 1)
        raise InputError("amplitude is empty: give at least one channel's current")
    if a.ndim == 0:
        if n_in is None:
            raise InputError("give n_in when amplitude is a scalar")
        a = np.full(whole_number(n_in, "n_in", minimum=1), float(a))
    elif n_in is not None and whole_number(n_in, "n_in", minimum=1) != a.size:
        raise InputError(f"n_in={n_in} but amplitude gives {a.size} channels; omit n_in")
    require_memory(  # 10^7 steps x 100 inputs was a raw "Unable to allocate 3.73 GiB"
        4.0 * n_steps * a.size,
        f"a constant input of {n_steps:,} steps x {a.size:,} inputs (float32)",
        "fewer steps, or an input function x(start, stop) that makes each chunk",
    )
    return np.broadcast_to(a, (n_steps, a.size)).astype(np.float32)


def valid_convolution(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``sum_m kernel[m] signal[t + L - 1 - m]`` for ``t = 0..T-L`` along axis 0 of ``signal``
    (T, C) with ``kernel`` (L,): SciPy's ``fftconvolve(signal, kernel[:, None], "valid",
    axes=0)``, computed the same way (real FFTs of the padded length ``next_fast_len(T + L - 1)``,
    so bitwise its numbers) without importing ``scipy.signal``, which took 0.7 s of every
    command's start-up."""
    n_full = signal.shape[0] + kernel.size - 1
    size = sfft.next_fast_len(n_full, True)
    spectrum = sfft.rfft(signal, size, axis=0) * sfft.rfft(kernel, size)[:, None]
    full = sfft.irfft(spectrum, size, axis=0)[:n_full]
    return full[kernel.size - 1 : signal.shape[0]]


#: the rate (1/ms) of the Adelson-Bergen kernel of :func:`filtered_noise_rates`: a 15 ms scale
KERNEL_A = 1.0 / 15.0


def adelson_bergen_kernel(tau: Any, a: float = KERNEL_A) -> np.ndarray:
    """Adelson-Bergen temporal kernel ``D(tau) = a e^(-a tau) [(a tau)^5/5! - (a tau)^7/7!]``
    (Adelson & Bergen 1985, J. Opt. Soc. Am. A 2:284).

    ``tau`` in ms (>= 0), ``a`` in 1/ms (default 1/15). D is biphasic: positive, then negative.
    """
    if not (is_finite_number(a) and a > 0):  # NaN gave NaN rates, -1 plausible ones
        raise InputError(f"a must be a finite rate > 0 in 1/ms, got {a!r}")
    raw = as_array(tau, "tau")
    if raw.dtype.kind not in "biuf" or raw.size == 0:
        raise InputError(f"tau must be non-empty lags in ms (numbers), got {tau!r}")
    t = raw.astype(np.float64)
    if not (np.all(np.isfinite(t)) and np.all(t >= 0)):
        raise InputError("tau must hold finite lags >= 0 ms")
    at = a * t
    return a * np.exp(-at) * (at**5 / math.factorial(5) - at**7 / math.factorial(7))


def filtered_noise_rates(
    n_steps: int,
    n_in: int,
    dt: float = 1.0,
    mean_rate: float = 20.0,
    contrast: float = 0.5,
    a: float = KERNEL_A,
    kernel_ms: float = 300.0,
    shared: bool = False,
    seed: int | np.random.Generator = 0,
) -> np.ndarray:
    """The author's stimulus: Gaussian white noise filtered by the Adelson-Bergen kernel.

    Each channel (or one shared signal with ``shared=True``) is white noise convolved with
    D(tau) over ``kernel_ms``, normalised to zero mean and unit variance ``s(t)``; the rate is
    ``mean_rate * max(0, 1 + contrast * s(t)) / g(contrast)`` Hz, where
    ``g(c) = E[max(0, 1 + c s)] = Phi(1/c) + c phi(1/c)`` for Gaussian s (1 at c = 0), so that
    ``mean_rate`` is the mean rate: the rectification alone raised it, by 8 % at contrast 1
    and 40 % at contrast 2. Returns (n_steps, n_in) rates in Hz.

    The kernel must be resolved by the steps and fit in ``kernel_ms``: its positive lobe peaks
    at ``a tau = 3.9``, so ``a dt <= 1`` (four steps to the peak) is required (a = 10 /ms, read
    as "10 ms", gave a few taps of white noise; a = 100 gave a kernel of 1e-32 and constant
    rates), and ``a kernel_ms >= 13.4`` (at most 1 % of the kernel's energy cut off: at
    a = 1e-4 it was a t^5 ramp, not biphasic).
    """
    shared = require_flag("shared", shared)
    n_steps = whole_number(n_steps, "n_steps", minimum=1)
    n_in = whole_number(n_in, "n_in", minimum=1)
    for name, value in (("mean_rate", mean_rate), ("contrast", contrast)):
        if not (is_finite_number(value) and value >= 0):
            raise InputError(f"{name} must be a finite number >= 0, got {value!r}")
    if not (is_finite_number(dt) and dt > 0):  # dt <= 0 gave an empty array, 0 a ZeroDivisionError
        raise InputError(f"dt must be a finite number > 0 ms, got {dt}")
    if not (is_finite_number(kernel_ms) and kernel_ms > 0):  # (the span check needs 14 steps)
        raise InputError(f"kernel_ms must be a finite number > 0 ms, got {kernel_ms}")
    _check_kernel_span(a, dt, kernel_ms)
    n_taps = math.ceil(kernel_ms / dt)  # 1e300 ms: "Maximum allowed size exceeded"
    n_sig = 1 if shared else n_in
    require_memory(  # the noise, its spectrum (complex), the inverse and the normalised copy,
        # then the rates (the noise alone was counted: 200,000 x 100 took 4x its estimate)
        8.0 * (n_taps + 3 * (n_steps + n_taps) * n_sig + 2 * n_steps * n_in),
        f"the filtered noise of {n_steps:,} steps x {n_in:,} inputs and its kernel",
        "use a shorter kernel_ms or fewer steps",
    )
    rng = make_rng(seed)
    taus = np.arange(0.0, kernel_ms, dt)
    kern = adelson_bergen_kernel(taus, a)
    noise = rng.standard_normal((n_steps + taus.size, n_sig))

    s = valid_convolution(noise, kern)[:n_steps]
    s = (s - s.mean(axis=0)) / (s.std(axis=0) + 1e-12)
    if shared:
        s = np.repeat(s, n_in, axis=1)
    return (mean_rate / rectified_mean(contrast)) * np.maximum(0.0, 1.0 + contrast * s)


def rectified_mean(contrast: float) -> float:
    """``E[max(0, 1 + c s)]`` for ``s ~ N(0, 1)``: ``Phi(1/c) + c phi(1/c)`` (1 at c = 0), the
    factor by which rectification raises the mean of :func:`filtered_noise_rates`."""
    if contrast == 0:
        return 1.0
    z = 1.0 / contrast
    return float(ndtr(z) + contrast * math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi))


#: the positive lobe of D(tau) peaks at a tau = 3.9: at least four steps to it
_KERNEL_MAX_A_DT = 1.0


def kernel_resolved(dt: float, a: float = KERNEL_A) -> bool:
    """Whether steps of ``dt`` ms resolve the Adelson-Bergen kernel of rate ``a`` (four steps
    to its peak): the test :func:`filtered_noise_rates` makes of its arguments."""
    return a * dt <= _KERNEL_MAX_A_DT


def kernel_max_dt(a: float = KERNEL_A) -> float:
    """The largest step (ms) that resolves the Adelson-Bergen kernel of rate ``a`` (four steps
    to its peak): 15 ms at the default ``a``."""
    return _KERNEL_MAX_A_DT / a


#: at a kernel_ms = 13.4 the tail past kernel_ms holds 1 % of the kernel's energy
_KERNEL_MIN_A_SPAN = 13.4


def _check_kernel_span(a: float, dt: float, kernel_ms: float) -> None:
    """Refuse an Adelson-Bergen kernel the steps do not resolve, or that ``kernel_ms`` cuts."""
    if not (is_finite_number(a) and a > 0):
        raise InputError(f"a must be a finite rate > 0 in 1/ms, got {a!r}")
    if not kernel_resolved(dt, a):
        raise InputError(
            f"a = {a:g} /ms puts the kernel's peak at {3.9 / a:.3g} ms, under four steps of "
            f"dt = {dt:g} ms: the filter is not resolved (a is a rate in 1/ms, e.g. 1/15 for a "
            f"15 ms time scale); use a <= {_KERNEL_MAX_A_DT / dt:g} or a smaller dt"
        )
    if a * kernel_ms < _KERNEL_MIN_A_SPAN:
        raise InputError(
            f"kernel_ms = {kernel_ms:g} cuts the kernel of a = {a:g} /ms before its negative "
            f"lobe ends (more than 1 % of its energy lies past it); use kernel_ms >= "
            f"{_KERNEL_MIN_A_SPAN / a:.4g}"
        )


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
    """Poisson generators driven by :func:`filtered_noise_rates` (the filtered-noise stimulus of
    Seitz 2021)."""
    seed = whole_number(seed, "seed")  # the spikes use seed + 1 (a Generator cannot be shared)
    rates = filtered_noise_rates(n_steps, n_in, dt, mean_rate, contrast, seed=seed, **kwargs)
    try:
        return poisson_spikes(rates, n_steps, dt=dt, batch=batch, frozen=frozen, seed=seed + 1)
    except InputError as exc:  # the rate refused is the noise's peak, which no one typed
        if "rate x dt" not in str(exc):
            raise
        raise InputError(
            f"{exc} (the peak of mean_rate (1 + contrast s) / g(contrast), s the unit-variance "
            "noise: lower mean_rate or contrast)"
        ) from None


def encode_patches(grey: np.ndarray, base_hz: float, gain_hz: float) -> np.ndarray:
    """ON/OFF Poisson rates (K, 2 n) in Hz from grey patches (K, n).

    ``c = (g - mean g) / std g`` per patch (0 for a flat patch); ON channel ``base + gain *
    clip(c, 0, 2) / 2``, OFF channel ``base + gain * clip(-c, 0, 2) / 2``: the contrast split
    into rectified ON and OFF pathways as in retinal ganglion cells (Kuffler 1953,
    J. Neurophysiol. 16:37), each a rate code saturating at two standard deviations.
    """
    g = finite_reals(grey, "grey")  # "a" was a raw ValueError of float()
    require(g.ndim == 2 and g.size > 0, f"grey patches must be (K, n), got shape {g.shape}")
    require_finite("grey", g)  # a NaN patch became a flat one
    require(
        is_finite_number(base_hz) and is_finite_number(gain_hz) and base_hz >= 0 and gain_hz >= 0,
        f"base_hz and gain_hz must be finite rates >= 0, got {base_hz}, {gain_hz}",
    )
    sd = g.std(axis=1, keepdims=True)
    c = np.where(sd > 0, (g - g.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0), 0.0)
    on = base_hz + gain_hz * np.clip(c, 0.0, 2.0) / 2.0
    off = base_hz + gain_hz * np.clip(-c, 0.0, 2.0) / 2.0
    return np.concatenate([on, off], axis=1)


@dataclass(frozen=True)
class StimulusSet:
    """K frozen rate patterns (K, T, n_in) in Hz; trials are fresh Poisson draws, so trials of
    one stimulus differ by noise only."""

    rates_hz: np.ndarray
    dt: float = 1.0

    def __post_init__(self) -> None:
        # NaN or negative rates were clipped to silence and 5000 Hz to a spike every step
        rates = finite_reals(self.rates_hz, "rates_hz")
        require(rates.ndim == 3, f"rates_hz must be (K, T, n_in), got shape {rates.shape}")
        spike_probabilities(rates, self.dt)
        object.__setattr__(self, "rates_hz", rates)

    @property
    def n_stimuli(self) -> int:
        return self.rates_hz.shape[0]

    @property
    def n_steps(self) -> int:
        return self.rates_hz.shape[1]

    @property
    def n_in(self) -> int:
        return self.rates_hz.shape[2]

    @classmethod
    def filtered_noise(
        cls,
        n_stimuli: int,
        n_steps: int,
        n_in: int,
        mean_rate: float = 20.0,
        contrast: float = 1.0,
        dt: float = 1.0,
        seed: int = 0,
    ) -> StimulusSet:
        """K independent filtered-noise rate patterns (:func:`filtered_noise_rates`)."""
        n_stimuli = whole_number(n_stimuli, "n_stimuli", minimum=2)  # 10**30: a loop for ever
        seed = whole_number(seed, "seed")  # "3" was repeated
        pats = [  # pattern k of seed s from a stream spawned off s: seed * 1000 + k gave set 1's
            filtered_noise_rates(  # first pattern as set 0's 1001st (and the pair [s, k] is
                # the stream of s itself at k = 0, that of net.init(seed=s)'s weights)
                n_steps,
                n_in,
                dt=dt,
                mean_rate=mean_rate,
                contrast=contrast,
                seed=np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,))),
            )  # fmt: skip
            for k in range(n_stimuli)
        ]
        return cls(np.stack(pats), dt)

    @classmethod
    def constant(
        cls,
        n_stimuli: int,
        n_steps: int,
        n_in: int,
        max_rate: float = 40.0,
        dt: float = 1.0,
        seed: int = 0,
    ) -> StimulusSet:
        """K constant rate patterns, each channel's rate drawn uniformly from [0, max_rate]."""
        n_stimuli = whole_number(n_stimuli, "n_stimuli", minimum=2)
        n_steps = whole_number(n_steps, "n_steps", minimum=1)
        n_in = whole_number(n_in, "n_in", minimum=1)
        require(
            is_finite_number(max_rate) and is_finite_number(dt) and dt > 0,
            f"max_rate and dt must be finite numbers, dt > 0; got {max_rate!r} and {dt!r}",
        )
        require(
            max_rate > 0 and max_rate * dt / 1000.0 <= 1.0,
            "max_rate must be > 0 and at most one spike per step",
        )
        rng = make_rng(seed)
        pats = rng.uniform(0.0, max_rate, (n_stimuli, 1, n_in)) * np.ones((1, n_steps, 1))
        return cls(pats, dt)

    def trials(self, n_per_stimulus: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``(x, labels)``: (K n, T, n_in) Poisson spikes and the stimulus of each trial
        (labels in stimulus order, ``n_per_stimulus`` each)."""
        n_per_stimulus = whole_number(n_per_stimulus, "n_per_stimulus", minimum=1)
        rng = make_rng(seed)
        labels = np.repeat(np.arange(self.n_stimuli), n_per_stimulus)
        p = self.rates_hz[labels] * self.dt / 1000.0  # checked in __post_init__
        return (rng.random(p.shape) < p).astype(np.float32), labels
