"""LIF threshold and input-gain homeostasis, the LIF analogue of intrinsic plasticity.

Per unit j a threshold factor ``theta_j`` (spike when ``v_j > theta_j v_th``; the reset still
subtracts ``v_th``) and an input gain ``g_j`` multiplying unit j's feed-forward weights adapt
without a teacher, beside e-prop. The threshold is realised exactly by a constant bias current:
with ``b_j = (1 - alpha) v_th (1 - theta_j)``, ``u = v - b/(1-alpha)`` obeys the unbiased membrane
equation, and the biased potential v reaches ``v_th`` exactly when u reaches ``theta_j v_th``
(from rest too: :func:`adapted_input` with the network makes the bias channel's first step
``1 / (1 - alpha)``, so that ``u[0] = 0``; without it ``u[0] = v_th (theta_j - 1)``).
:func:`adapted_network` therefore returns the network with one extra, constant input channel
carrying the biases, and the input gains folded into ``w_in``, so every engine, e-prop and BPTT
run adapted networks unchanged. :func:`lif_adaptation_update` is a pure function
``state -> state`` that a trainer calls every K steps with the spikes it produced:

- the threshold follows the rate: ``theta <- theta + eta_theta * (m_hat - m*) / m*``, with
  ``m*`` the target spike count per window (target rate times window). The relative error, not
  the log ratio of earlier versions: the noisy count of a chunk of a few spikes a unit has a mean
  log below the log of its mean (Jensen), so the log rule settled 10-40 % above the target
  (11.4 Hz for 10 Hz over chunks of 200 ms, 2 spikes a unit); the relative error's mean is 0 at
  the target. Clipping a step to ``max_step`` still cuts the rare large upward errors of such
  short chunks (10.5 Hz there at the default 0.25, 10.0 with ``smoothing=0.2``);
- the gain follows the spread: the maximum-entropy distribution of a count with fixed mean m* is
  geometric, ``P(n) = (1 - q) q^n`` with variance ``m*(1 + m*)``, i.e. Fano factor ``1 + m*``.
  ``g <- g * exp(eta_gain * 1/2 log(F* / F_hat))`` raises the gain when counts vary too little
  and lowers it when they vary too much. Where a refractory period of ``n_ref`` steps caps a
  window at ``N`` spikes, the maximum-entropy law is the truncated geometric one on
  ``0..N`` (:func:`max_entropy_fano`): ``1 + m*`` can lie beyond any count's reach there (a
  count's variance is at most ``m* (N - m*)``), and the gain rose to its bound chasing it.

With two parameters per unit the rule matches two moments of the maximum-entropy law (as
intrinsic plasticity's two parameters match two conditions of the exponential; Triesch 2005);
:func:`count_distribution_kl` reports how close the whole count distribution came.

The rate-unit tools, intrinsic plasticity (Triesch 2005) and histogram matching (Pereira &
Brunel 2018), live in :mod:`infodyn.learning.transfer` and are importable from here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from infodyn.data.binning import bin_raster, check_spike_counts
from infodyn.errors import (
    InputError,
    array_or_none,
    as_array,
    is_finite_number,
    require,
    require_choice,
    require_finite_number,
    whole_number,
)
from infodyn.learning.transfer import (
    IPResult,
    TransferFit,
    infer_transfer_function,
    intrinsic_plasticity,
    ip_sample_objective,
    ip_update,
    sigmoid_transfer,
    sigmoid_unit,
)
from infodyn.network.run_inputs import require_network
from infodyn.network.simulate import simulate
from infodyn.network.sparse import SparseWeights, is_sparse

__all__ = [
    # the LIF threshold/gain homeostasis (this module)
    "LIFAdaptationConfig",
    "LIFAdaptationResult",
    "adapt_lif",
    "adapted_input",
    "adapted_network",
    "count_distribution_kl",
    "init_lif_adaptation",
    "lif_adaptation_update",
    "count_fano_target",
    "max_count",
    "max_entropy_fano",
    "threshold_bias",
    "window_counts",
    # rate units (infodyn.learning.transfer), importable from here as before
    "IPResult",
    "TransferFit",
    "infer_transfer_function",
    "intrinsic_plasticity",
    "ip_sample_objective",
    "ip_update",
    "sigmoid_transfer",
    "sigmoid_unit",
]


@dataclass(frozen=True)
class LIFAdaptationConfig:
    """Settings of the LIF threshold/gain adaptation.

    ``target_rate_hz``: target mean rate; ``window_ms``: count window defining the "rate" whose
    distribution is shaped; ``rule``: "rate" (threshold only: homeostasis of the mean) or
    "max_entropy" (threshold and gain: the maximum-entropy count distribution at the target
    mean, geometric or, where a refractory period caps a window, truncated geometric);
    ``eta_theta``: step on theta per unit of relative rate error; ``eta_gain``: step on log g;
    ``smoothing``: weight of the newest chunk in the running count moments (1 = newest only);
    ``max_step``: largest change of theta or log g in one update (stability guard);
    ``theta_range``/``gain_range``: hard bounds.
    """

    target_rate_hz: float = 10.0
    window_ms: float = 20.0
    rule: str = "max_entropy"
    eta_theta: float = 0.3
    eta_gain: float = 0.3
    smoothing: float = 0.5
    max_step: float = 0.25
    theta_range: tuple[float, float] = (-5.0, 20.0)
    gain_range: tuple[float, float] = (0.02, 50.0)

    def __post_init__(self) -> None:
        # inf pushed theta down every update; text failed the comparisons below
        numbers = ("target_rate_hz", "window_ms", "eta_theta", "eta_gain", "smoothing", "max_step")
        for key in numbers:
            require_finite_number(key, getattr(self, key))
        require(self.target_rate_hz > 0, "target_rate_hz must be > 0")
        require(self.window_ms > 0, "window_ms must be > 0")
        require_choice("rule", self.rule, ("rate", "max_entropy"))
        require(self.eta_theta >= 0 and self.eta_gain >= 0, "step sizes must be >= 0")
        require(0 < self.smoothing <= 1, "smoothing must be in (0, 1]")
        require(self.max_step > 0, "max_step must be > 0")
        for name, bounds in (("theta_range", self.theta_range), ("gain_range", self.gain_range)):
            pair = getattr(array_or_none(bounds), "shape", None) == (2,)  # None: a raw unpacking
            require(  # (5, -5) pinned every threshold at -5
                pair and all(map(is_finite_number, bounds)) and bounds[0] < bounds[1],
                f"{name} must be finite bounds (lo, hi) with lo < hi, got {bounds!r}",
            )
        require(  # a negative gain flips the sign of every input weight
            self.gain_range[0] > 0, f"gain_range must be > 0, got {self.gain_range}"
        )


def init_lif_adaptation(n_rec: int) -> dict[str, np.ndarray]:
    """Initial adaptation state: ``theta = g = 1`` (the unadapted network), no count moments."""
    require(  # a network gave a raw TypeError
        isinstance(n_rec, int | np.integer) and not isinstance(n_rec, bool) and 1 <= n_rec < 2**31,
        f"n_rec must be a whole number in [1, 2**31) (the network's net.n_rec), got {n_rec!r}",
    )
    ones = np.ones(int(n_rec))
    return {
        "theta": ones.copy(),
        "gain": ones.copy(),
        "count_mean": np.full(n_rec, np.nan),
        "count_var": np.full(n_rec, np.nan),
        "n_updates": np.zeros((), dtype=np.int64),
    }


def require_reachable_target(net: Any, cfg: LIFAdaptationConfig) -> None:
    """Refuse a target rate that ``net``'s refractory period puts out of reach: at most one
    spike every ``n_ref + 1`` steps, ``1000 / (dt (n_ref + 1))`` Hz (150 Hz with ``n_ref = 10``
    at dt = 1 ms drove every threshold to its lower bound unsaid; the rate stayed at 81 Hz)."""
    _require_rate_within_refractory_cap(
        cfg.target_rate_hz, net.dt, int(getattr(net, "n_ref", 0) or 0)
    )


def _require_rate_within_refractory_cap(target_hz: float, dt: float, n_ref: int) -> None:
    """One spike every ``n_ref + 1`` steps of ``dt`` ms is the most a unit can fire:
    ``1000 / (dt (n_ref + 1))`` Hz; a target above it drives every threshold down in vain."""
    top = 1000.0 / (dt * (n_ref + 1))
    require(
        target_hz <= top,
        f"target_rate_hz={target_hz:g} is out of reach: a refractory period of "
        f"n_ref={n_ref} steps of {dt:g} ms allows at most {top:.4g} Hz",
    )


def _check_state(state: dict[str, Any]) -> None:
    require(  # None was "argument of type 'NoneType' is not iterable"
        isinstance(state, Mapping),
        f"the adaptation state must be the dict of init_lif_adaptation(n_rec), got {state!r:.60}",
    )
    missing = [
        k for k in ("theta", "gain", "count_mean", "count_var", "n_updates") if k not in state
    ]
    if missing:
        raise InputError(
            f"adaptation state is missing {missing}; make it with init_lif_adaptation(n_rec)"
        )
    for key in ("theta", "gain", "count_mean", "count_var"):  # text: raw NumPy errors
        dtype = np.asarray(state[key]).dtype
        require(dtype.kind in "iuf", f"the adaptation state's {key} must hold numbers, got {dtype}")
    for key in ("theta", "gain"):  # NaN was carried forward into every later step
        require(
            bool(np.all(np.isfinite(np.asarray(state[key], dtype=float)))),
            f"the adaptation state's {key} holds NaN or inf",
        )
    require(  # a negative gain flipped the sign of every input weight, 0 cut the input off
        bool(np.all(np.asarray(state["gain"]) > 0)), "the adaptation state's gain must be > 0"
    )
    for key in ("count_mean", "count_var"):  # NaN: no moments yet; inf stayed, -1 was carried
        values = np.asarray(state[key], dtype=float)
        require(
            bool(np.all(np.isnan(values) | (np.isfinite(values) & (values >= 0)))),
            f"the adaptation state's {key} must be >= 0 (NaN before the first update), "
            "got inf or a negative value",
        )
    n = np.asarray(state["n_updates"])
    require(  # "x" was a raw UFuncTypeError in the update
        n.shape == () and n.dtype.kind in "iu" and int(n) >= 0,
        f"the adaptation state's n_updates must be a whole number >= 0, got {state['n_updates']!r}",
    )
    shapes = {k: np.shape(state[k]) for k in ("theta", "gain", "count_mean", "count_var")}
    flat = all(len(shape) == 1 for shape in shapes.values())  # (1, 3): "for 1 units"
    if len(set(shapes.values())) > 1 or not flat:  # a raw "operands could not be broadcast"
        raise InputError(
            "the adaptation state's theta, gain, count_mean and count_var must hold one value "
            f"per unit each, got shapes {shapes}; make it with init_lif_adaptation(n_rec)"
        )


def threshold_bias(net: Any, theta: Any) -> Any:
    """The constant current ``b = (1 - alpha) v_th (1 - theta)`` that moves the threshold to
    ``theta * v_th`` (module docstring). NumPy or JAX arrays."""
    return (1.0 - net.alpha) * net.v_th * (1.0 - theta)


def adapted_network(net: Any, params: dict[str, Any], state: dict[str, Any]):
    """The adapted network as ``(net_a, params_a)``: ``net_a`` has ``n_in + 1`` inputs, the last a
    constant 1 (append it with :func:`adapted_input`) whose weights are the threshold biases;
    columns of the other input weights are multiplied by the gains. ``w_rec``, ``w_out`` are
    unchanged. Works on NumPy or JAX ``params`` so a trainer can differentiate through it. A
    sparse ``w_in`` stays sparse: its values are scaled by their target's gain, and the bias row
    adds one synapse onto every unit.
    """
    require_network(net)
    _check_state(state)
    require(  # None, {} or an array: a raw TypeError, KeyError or IndexError below
        isinstance(params, Mapping) and "w_in" in params,
        f"params must be the network's weights (a dict with w_in), got {params!r:.60}",
    )
    require(
        np.shape(state["theta"]) == (net.n_rec,),
        f"adaptation state is for {np.shape(state['theta'])[0]} units, net has {net.n_rec}",
    )
    xp = np if isinstance(params["w_in"], np.ndarray) else jnp
    bias = threshold_bias(net, xp.asarray(state["theta"])) / net.input_scale
    gain, w = xp.asarray(state["gain"]), params["w_in"]
    if is_sparse(w):
        w_in = _with_bias_row(w, w.values * gain[np.asarray(w.indices)], bias)
    else:
        w_in = xp.concatenate([w * gain[None, :], bias[None, :]], axis=0)
    net_a = net.model_copy(update={"n_in": net.n_in + 1})
    return net_a, {**params, "w_in": w_in}


def _with_bias_row(w: SparseWeights, values: Any, bias: Any) -> SparseWeights:
    """Sparse ``w`` with ``values`` and one more row: a synapse of weight ``bias[j]`` onto every
    unit j (CSR: the new row's synapses come after all of ``w``'s)."""
    xp = np if isinstance(values, np.ndarray) else jnp
    n_pre, n_post = w.shape
    indices, indptr = np.asarray(w.indices), np.asarray(w.indptr)
    return SparseWeights(
        xp.concatenate([values, xp.asarray(bias, dtype=values.dtype)]),
        np.concatenate([indices, np.arange(n_post, dtype=indices.dtype)]),
        np.concatenate([indptr, indptr[-1:] + n_post]),
        (n_pre + 1, n_post),
    )


def adapted_input(x: Any, net: Any = None) -> np.ndarray:
    """Append the constant bias channel to input ``x`` ((T, n_in) or (B, T, n_in)).

    With ``net`` (the raw network) its first step is ``1 / (1 - alpha)``: the membrane then
    starts where the unbiased one does, ``u[0] = 0`` (module docstring), and the adapted
    network's spikes equal those of per-unit thresholds from rest. Without it the bias channel
    is 1 throughout and the membrane starts at ``u[0] = v_th (theta - 1)``, depolarised for a
    raised threshold: over the first tau_m of every trial such a unit fired more (56 Hz for 34
    at theta = 5), which short chunks of adaptation read as its rate."""
    x = as_array(x, "x")  # None was "zero-dimensional arrays cannot be concatenated"
    require(x.ndim in (2, 3), f"x must be (T, n_in) or (B, T, n_in), got shape {x.shape}")
    require(  # NaN went through to the engine
        x.dtype.kind in "biu" or bool(np.all(np.isfinite(x))), "input x holds NaN or inf"
    )
    ones = np.ones((*x.shape[:-1], 1), dtype=x.dtype if x.dtype.kind == "f" else np.float32)
    if net is not None:
        require_network(net)
        require(  # checked after the bias channel: "7 channels but n_in=6" for 6 and 5
            x.shape[-1] == net.n_in,
            f"input x has {x.shape[-1]} channels but the network has n_in={net.n_in}",
        )
        require(x.shape[-2] >= 1, f"x has no step (shape {x.shape})")
        ones[..., 0, 0] = 1.0 / (1.0 - net.alpha)
    return np.concatenate([x, ones], axis=-1)


def window_counts(z: Any, window_steps: int) -> np.ndarray:
    """Spike counts in consecutive windows: z (T, n) or (B, T, n) -> (n_windows, n).

    Trailing steps that do not fill a window are dropped.
    """
    z = as_array(z, "spikes", np.float64)
    require(z.ndim in (2, 3), f"spikes must be (T, n) or (B, T, n), got shape {z.shape}")
    window_steps = whole_number(window_steps, "window_steps", minimum=1)  # 0: ZeroDivisionError
    require(
        z.shape[-2] // window_steps >= 1,
        f"need at least one window of {window_steps} steps, got T = {z.shape[-2]}",
    )
    counts = bin_raster(z, window_steps)
    return counts.reshape(-1, counts.shape[2]).astype(np.float64)


def lif_adaptation_update(
    state: dict[str, Any], z: Any, dt: float, cfg: LIFAdaptationConfig, n_ref: int = 0
) -> dict[str, Any]:
    """One adaptation step from the spikes ``z`` ((T, n) or (B, T, n)) produced since the last
    call; returns a new state (the input state is not modified).

    Running count moments: ``m <- (1-s) m + s mean(c)``, ``v <- (1-s) v + s var(c)`` over
    windows of ``cfg.window_ms`` (the unbiased variance, ddof 1; a chunk of one window leaves v
    as it was). Then (module docstring) ``theta += eta_theta (m - m*)/m*`` and,
    for ``rule="max_entropy"``, ``log g += eta_gain/2 log(F*/F)`` with ``F = v/m`` and ``F*``
    the maximum-entropy law's (``1 + m*``, the geometric law's, where a window's cap takes
    little of it), only while the rate is within reach of the target
    (``eta_theta |log(m/m*)| < max_step``: m between 0.43 and 2.3 m* at the defaults) and while
    the threshold is not pinned at the bound the gain step pushes against. ``F*`` is that of the
    law on ``0..N``, ``N`` = :func:`max_count` of a window under ``n_ref`` (the network's
    refractory steps; 0: one spike a step) (:func:`max_entropy_fano`). Each
    step is clipped to ``cfg.max_step``. The threshold/gain pair matches the count moments of
    the maximum-entropy law; it is a heuristic after Triesch 2005, not that paper's KL
    gradient.
    """
    _check_state(state)
    require(isinstance(cfg, LIFAdaptationConfig), f"cfg must be a LIFAdaptationConfig, got {cfg!r}")
    require_finite_number("dt", dt)
    require(dt > 0, f"dt must be a positive step in ms, got {dt}")  # 0: ZeroDivisionError
    n_ref = whole_number(n_ref, "n_ref")  # -1 was a ZeroDivisionError, 2.7 read as 2
    # 2000 Hz at dt = 1 ms: a target no unit reaches, its threshold driven down
    _require_rate_within_refractory_cap(cfg.target_rate_hz, dt, n_ref)
    w = max(1, int(round(cfg.window_ms / dt)))
    counts = window_counts(z, w)
    require(  # none: a ZeroDivisionError in the floor below
        counts.shape[0] > 0,
        f"the spikes hold no window of {cfg.window_ms} ms ({w} steps): give at least one trial",
    )
    n = counts.shape[1]
    require(
        np.shape(state["theta"]) == (n,),
        f"state is for {np.shape(state['theta'])[0]} units, spikes have {n}",
    )
    s = cfg.smoothing
    m_old, v_old = np.asarray(state["count_mean"]), np.asarray(state["count_var"])
    m_new = counts.mean(axis=0)
    m = np.where(np.isnan(m_old), m_new, (1 - s) * m_old + s * m_new)
    spread = counts.shape[0] >= 2  # one window tells nothing of the spread
    if spread:  # the unbiased variance: with ddof 0 (5 windows a chunk) F read 0.8 of its value
        v_new = counts.var(axis=0, ddof=1)  # and the gain rose until F was 1.25 F*
        v = np.where(np.isnan(v_old), v_new, (1 - s) * v_old + s * v_new)
    else:
        v = v_old
    target = cfg.target_rate_hz * w * dt / 1000.0
    # the Fano factor's floor: no spike in any window counts as half a spike over the chunk,
    # or half the target if that is less
    floor = min(0.5 / counts.shape[0], 0.5 * target)
    d_theta = cfg.eta_theta * (m - target) / target  # the relative error: its mean is 0 at
    # the target (a log ratio's mean is 0 below it, Jensen: the rate settled 10-40 % above the
    # target on chunks of a few spikes a unit)
    theta = np.asarray(state["theta"]) + np.clip(d_theta, -cfg.max_step, cfg.max_step)
    gain = np.asarray(state["gain"])
    if cfg.rule == "max_entropy":
        fano_target = count_fano_target(target, w, n_ref)
        fano = np.maximum(v, floor) / np.maximum(m, floor)
        # a target at the cap (F* = 0: every window full) leaves no spread to shape
        d_gain = 0.5 * cfg.eta_gain * np.log(max(fano_target, 1e-300) / fano)
        # a silent unit says nothing about its spread, nor one whose rate is still far off (its
        # threshold step clipped): a saturated unit fires regularly, its low Fano factor raised
        # the gain faster than the threshold could follow, up to the clip bounds (3 of 100 units
        # at 334 Hz held a 10 Hz target's population at 19.4 Hz)
        # "within reach": |eta_theta log(m/m*)| < max_step, the band of the log rule (the
        # relative error never falls below -1, so its clip no longer marks a rate far below)
        reach = cfg.eta_theta * np.abs(np.log(np.maximum(m, floor) / target)) < cfg.max_step
        live = (m > floor) & reach & ~np.isnan(v) & (fano_target > 0)
        # nor one whose threshold is pinned at a bound: a gain raised against the top one (or
        # lowered against the bottom) moves the rate where no threshold can bring it back (a
        # cap of 2 spikes a window, n_ref = 10: gains at their bound, 48 Hz for 40)
        lo, hi = cfg.theta_range
        live &= ~((theta >= hi) & (d_gain > 0)) & ~((theta <= lo) & (d_gain < 0))
        d_gain = np.where(live, d_gain, 0.0)
        gain = gain * np.exp(np.clip(d_gain, -cfg.max_step, cfg.max_step))
    return {
        "theta": np.clip(theta, *cfg.theta_range),
        "gain": np.clip(gain, *cfg.gain_range),
        "count_mean": m,
        "count_var": v,
        "n_updates": np.asarray(state["n_updates"]) + 1,
    }


def max_count(window_steps: int, n_ref: int = 0) -> int:
    """The most spikes a window of ``window_steps`` steps can hold: one every ``n_ref + 1``
    steps (a unit is silent for ``n_ref`` steps after a spike), ``ceil(window_steps /
    (n_ref + 1))``."""
    window_steps = whole_number(window_steps, "window_steps", minimum=1)
    n_ref = whole_number(n_ref, "n_ref")  # -1 was a ZeroDivisionError, 2.7 read as 2
    return -(-window_steps // (n_ref + 1))


#: the largest window count :func:`max_entropy_fano` solves for (its arrays hold top + 1
#: values, 64 times: 10^9 tried 7.5 GiB)
MAX_TOP = 10**5


def max_entropy_fano(mean: float, top: int) -> float:
    """Fano factor of the maximum-entropy count law on ``{0, ..., top}`` with the given mean:
    the truncated geometric ``P(n) ~ q^n`` (Jaynes 1957; the Gibbs law of one constraint),
    whose ``q`` solves ``E[n] = mean`` (bisection on ``log q``; the mean rises with q).
    Unbounded (``top`` large against the mean) it is the geometric law, ``F = 1 + mean``; a
    window that a refractory period caps at a few spikes lowers it (1.2 spikes a window of at
    most 4: F = 1.33, where ``1 + mean`` = 2.2 is out of any count's reach, whose variance is at
    most ``mean (top - mean)``). A mean of 0 gives 1 (Poisson's, by convention) and a mean at
    ``top`` gives 0 (every window holds ``top`` spikes)."""
    require(  # NaN gave 1.0, inf a log(0) warning
        is_finite_number(mean) and mean >= 0, f"mean must be a finite number >= 0, got {mean!r}"
    )
    top = whole_number(top, "top", minimum=1)
    require(mean <= top, f"mean {mean:g} exceeds the most a window holds, {top}")
    if mean == 0 or mean == top:
        return 1.0 if mean == 0 else 0.0
    # the geometric law's, exact to 1e-12 where the cap takes little of it: the law's F differs
    # from 1 + mean by about (top + 1)^2 q^top (10 Hz in 20-ms windows); mirrored (n -> top - n,
    # q -> 1/q, the same variance) for a mean near the top
    for near in (mean, top - mean):
        if 2 * np.log(top + 1.0) + top * np.log(near / (1.0 + near)) < np.log(1e-12):
            return near * (1.0 + near) / mean
    require(
        top <= MAX_TOP,
        f"the count law of windows of up to {top:,} spikes at a mean of {mean:g} is not solved "
        f"beyond {MAX_TOP:,}: use shorter windows (window_ms)",
    )
    n = np.arange(top + 1, dtype=np.float64)

    def moments(log_q: float) -> tuple[float, float]:
        logp = n * log_q
        p = np.exp(logp - logp.max())
        p /= p.sum()
        mu = float(p @ n)
        return mu, float(p @ (n - mu) ** 2)

    lo, hi = -60.0, 60.0  # q from e^-60 (the early return takes smaller means) to e^60
    for _ in range(64):  # the bracket halves: 120 / 2^64 = 7e-18 in log q
        mid = 0.5 * (lo + hi)
        if moments(mid)[0] < mean:
            lo = mid
        else:
            hi = mid
    mu, var = moments(0.5 * (lo + hi))
    return var / mu


def count_fano_target(target: float, window_steps: int, n_ref: int) -> float:
    """``F*`` of a target of ``target`` spikes a window of ``window_steps`` steps under a
    refractory period of ``n_ref`` steps (:func:`max_entropy_fano` on ``0..``:func:`max_count`;
    a target within 1e-9 of the cap, where rounding of ``rate * window * dt`` puts one at it, is
    the cap: 19.999999999999996 for 20 gave F* = 1.8e-16, and the gain was driven down)."""
    top = max_count(window_steps, n_ref)
    return max_entropy_fano(top if target > top * (1.0 - 1e-9) else target, top)


def count_distribution_kl(counts: Any, mean: float | None = None) -> np.ndarray:
    """KL divergence (bits) of each unit's count histogram from the geometric law of the same
    (or the given) mean: the maximum-entropy law of an unbounded count at that mean (a window
    that a refractory period caps has the truncated one, :func:`max_entropy_fano`).

    counts: (n_windows, n_units) integer counts. ``D = sum_n p(n) log2(p(n) / P_geo(n))``.
    """
    c = as_array(counts, "counts")
    require(c.ndim == 2 and c.shape[0] > 0, "counts must be (n_windows, n_units)")
    check_spike_counts(c, "counts")  # 0.5 was cut to 0 and read as a perfect fit
    require(  # NaN gave NaN, -1 inf, "3" was read as 3
        mean is None or (is_finite_number(mean) and mean >= 0),
        f"mean must be a finite number >= 0 (spikes per window), got {mean!r}",
    )
    out = np.empty(c.shape[1])
    for j in range(c.shape[1]):
        col = c[:, j].astype(np.int64)
        mj = float(col.mean()) if mean is None else float(mean)
        if mj <= 0:
            out[j] = 0.0 if col.max() == 0 else np.inf
            continue
        q = mj / (1.0 + mj)
        p = np.bincount(col) / col.size
        k = np.nonzero(p)[0]
        log_geo = np.log2(1 - q) + k * np.log2(q)
        out[j] = float(np.sum(p[k] * (np.log2(p[k]) - log_geo)))
    return out


@dataclass
class LIFAdaptationResult:
    """Result of :func:`adapt_lif`: final state and per-update history of the mean rate (Hz),
    the mean Fano factor of window counts over active units, and its target (the maximum-entropy
    law's, :func:`count_fano_target`)."""

    state: dict[str, np.ndarray]
    rate_hz: list[float]
    fano: list[float]
    fano_target: float


def adapt_lif(
    net: Any,
    params: dict[str, Any],
    inputs: Any | Callable[[int], np.ndarray],
    n_updates: int,
    cfg: LIFAdaptationConfig | None = None,
    state: dict[str, Any] | None = None,
    precision: str = "float32",
) -> LIFAdaptationResult:
    """Run the LIF adaptation alone (no supervised learning) for ``n_updates`` chunks.

    ``inputs`` is a (B, T, n_in) or (T, n_in) array reused every update, or a callable
    ``inputs(k)`` returning the k-th chunk. Each chunk is simulated by the JAX engine on the
    :func:`adapted_network` and the state updated with its spikes.
    """
    cfg = LIFAdaptationConfig() if cfg is None else cfg  # {} or 0 was read as the defaults
    require(isinstance(cfg, LIFAdaptationConfig), f"cfg must be a LIFAdaptationConfig, got {cfg!r}")
    n_updates = whole_number(n_updates, "n_updates", minimum=1)  # 10**30: a loop for ever
    require_network(net)  # None was an AttributeError on net.n_rec
    require_reachable_target(net, cfg)
    state = state if state is not None else init_lif_adaptation(net.n_rec)
    w = max(1, int(round(cfg.window_ms / net.dt)))
    target = cfg.target_rate_hz * w * net.dt / 1000.0
    rates, fanos = [], []
    for k in range(n_updates):
        x = inputs(k) if callable(inputs) else inputs
        net_a, params_a = adapted_network(net, params, state)
        tr = simulate(net_a, params_a, adapted_input(x, net), engine="jax", precision=precision)
        state = lif_adaptation_update(state, tr.z, net.dt, cfg, n_ref=net.n_ref)
        counts = window_counts(tr.z, w)
        m = counts.mean(axis=0)
        rates.append(float(m.mean() * 1000.0 / (w * net.dt)))
        live = m > 0
        var = counts.var(axis=0, ddof=1) if counts.shape[0] > 1 else np.full(m.shape, np.nan)
        fanos.append(float(np.mean(var[live] / m[live])) if live.any() else 0.0)  # the rule's F
    fano_target = count_fano_target(target, w, net.n_ref)
    return LIFAdaptationResult(state=state, rate_hz=rates, fano=fanos, fano_target=fano_target)
