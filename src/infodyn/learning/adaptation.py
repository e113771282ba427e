"""Unsupervised adaptation of a neuron's transfer function (Triesch 2005; Pereira & Brunel 2018).

Three tools, one per question "how does a transfer function fit its stimuli without a teacher?":

1. **Intrinsic plasticity** (Triesch 2005, ICANN / Neural Comput. 2007) for sigmoid units
   ``y = 1 / (1 + exp(-(a x + b)))``. Stochastic gradient descent on the per-sample
   Kullback-Leibler objective ``KL(p_y || Exp(mu))``, whose sample term is
   ``l(x) = -log a - log y - log(1 - y) + y / mu`` (up to constants independent of a, b), gives::

       db = eta * (1 - (2 + 1/mu) y + y^2 / mu)
       da = eta / a + x * db

   It drives each unit's output toward the exponential distribution of mean ``mu``: the
   maximum-entropy distribution on [0, inf) at a fixed mean (the fixed expected spike
   count). :func:`intrinsic_plasticity` runs it online; :func:`ip_update` is one pure step.

2. **Histogram matching** (Pereira & Brunel 2018, Neuron): if the input currents are Gaussian,
   ``h ~ N(mu_h, sigma_h^2)``, and the transfer function ``phi`` is increasing, then
   ``phi = F_r^-1 o Phi`` where ``F_r`` is the CDF of the observed rates and ``Phi`` that of h.
   :func:`infer_transfer_function` builds this map from quantiles and fits
   ``phi(h) = r_max / (1 + exp(-beta (h - h0)))`` by least squares.

3. **LIF analogue** (threshold and input-gain homeostasis): per unit j a threshold factor
   ``theta_j`` (spike when ``v_j > theta_j v_th``; the reset still subtracts ``v_th``) and an input
   gain ``g_j`` multiplying unit j's feed-forward weights. The threshold is realised exactly by a
   constant bias current: with ``b_j = (1 - alpha) v_th (1 - theta_j)``, ``u = v - b/(1-alpha)``
   obeys the unbiased membrane equation and crosses ``v_th`` exactly when v crosses
   ``theta_j v_th`` (the only difference is the start value ``u[0] = v_th (theta_j - 1)``, a
   transient of tau_m). :func:`adapted_network` therefore returns the network with one extra,
   constant input channel carrying the biases, and the input gains folded into ``w_in``, so every
   engine, e-prop and BPTT run adapted networks unchanged. :func:`lif_adaptation_update` is a pure
   function ``state -> state`` that a trainer calls every K steps with the spikes it produced:

   - the threshold follows the rate: ``theta <- theta + eta_theta * log(m_hat / m*)``, with
     ``m*`` the target spike count per window (target rate times window);
   - the gain follows the spread: the maximum-entropy distribution of a count with fixed mean m*
     is geometric, ``P(n) = (1 - q) q^n`` with variance ``m*(1 + m*)``, i.e. Fano factor
     ``1 + m*``. ``g <- g * exp(eta_gain * 1/2 log(F* / F_hat))`` raises the gain when counts vary
     too little and lowers it when they vary too much.

   With two parameters per unit the rule matches two moments of the geometric law (as IP's two
   parameters match two conditions of the exponential); :func:`count_distribution_kl` reports how
   close the whole count distribution came.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from infodyn.data.binning import bin_raster
from infodyn.errors import InputError, require, require_finite

# --------------------------------------------------------------------------- intrinsic plasticity


def sigmoid_unit(x: Any, a: Any, b: Any) -> np.ndarray:
    """``y = 1 / (1 + exp(-(a x + b)))`` (numerically stable)."""
    u = np.asarray(a) * np.asarray(x) + np.asarray(b)
    return 0.5 * (1.0 + np.tanh(0.5 * u))


def ip_update(
    a: np.ndarray, b: np.ndarray, x: np.ndarray, mu: float, eta: float
) -> tuple[np.ndarray, np.ndarray]:
    """One Triesch intrinsic-plasticity step for one input sample ``x`` (one value per unit).

    Returns new ``(a, b)``: ``db = eta (1 - (2 + 1/mu) y + y^2/mu)``, ``da = eta/a + x db``.
    Pure: the inputs are not modified.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    y = sigmoid_unit(x, a, b)
    db = eta * (1.0 - (2.0 + 1.0 / mu) * y + y * y / mu)
    return a + eta / a + np.asarray(x) * db, b + db


def ip_sample_objective(x: Any, a: Any, b: Any, mu: float):
    """The per-sample term of ``KL(p_y || Exp(mu))`` that IP descends (nats, up to a constant).

    ``l(x) = -log a - log y - log(1 - y) + y / mu``: the expected value of l over x equals the KL
    divergence minus ``H(x) + log(1/mu)`` (Triesch 2005). Written with ``numpy``-compatible
    operations so it also runs on JAX arrays (``jax.grad`` of it reproduces :func:`ip_update`).
    """
    import jax.numpy as jnp

    u = a * x + b
    log_y = -jnp.logaddexp(0.0, -u)
    log_1my = -jnp.logaddexp(0.0, u)
    return -jnp.log(a) - log_y - log_1my + jnp.exp(log_y) / mu


@dataclass(frozen=True)
class IPResult:
    """Result of :func:`intrinsic_plasticity`: per-unit gain ``a`` and bias ``b`` and the
    trajectory of the output mean and coefficient of variation (one row per checkpoint)."""

    a: np.ndarray
    b: np.ndarray
    mu: float
    checkpoints: np.ndarray  # sample index of each checkpoint
    mean_history: np.ndarray  # (n_checkpoints, n_units)
    cv_history: np.ndarray  # (n_checkpoints, n_units)

    def output(self, x: Any) -> np.ndarray:
        """The adapted units' output on input ``x`` ((n_samples,) or (n_samples, n_units))."""
        x = np.asarray(x, dtype=np.float64)
        return sigmoid_unit(x if x.ndim == 2 else x[:, None], self.a, self.b)


def _ip_loop(x: np.ndarray, a: np.ndarray, b: np.ndarray, mu: float, eta: np.ndarray):
    from numba import njit

    global _IP_KERNEL
    if _IP_KERNEL is None:

        @njit(cache=False, fastmath=False)
        def kernel(x, a, b, mu, eta):
            n, m = x.shape
            c = 2.0 + 1.0 / mu
            for t in range(n):
                for j in range(m):
                    y = 1.0 / (1.0 + math.exp(-(a[j] * x[t, j] + b[j])))
                    db = eta[t] * (1.0 - c * y + y * y / mu)
                    a[j] += eta[t] / a[j] + x[t, j] * db
                    b[j] += db
            return a, b

        _IP_KERNEL = kernel
    return _IP_KERNEL(x, a, b, mu, eta)


_IP_KERNEL = None


def intrinsic_plasticity(
    x: Any,
    mu: float = 0.1,
    eta: float = 1e-2,
    eta_final: float | None = 5e-4,
    epochs: int = 1,
    a0: float | np.ndarray = 1.0,
    b0: float | np.ndarray = 0.0,
    n_checkpoints: int = 20,
    seed: int = 0,
) -> IPResult:
    """Adapt sigmoid units online by intrinsic plasticity (Triesch 2005).

    Parameters
    ----------
    x : (n_samples,) or (n_samples, n_units) input drive, presented in a fresh random order each
        epoch (``seed``).
    mu : target output mean, 0 < mu < 1/2 (the exponential must fit mostly inside (0, 1)).
    eta, eta_final : learning rate, decayed geometrically from ``eta`` to ``eta_final`` over the
        whole run (``eta_final=None`` keeps it constant). Annealing removes the stochastic jitter
        of the fixed point.
    a0, b0 : initial gain (> 0) and bias.
    """
    x = np.asarray(x, dtype=np.float64)
    require(
        x.ndim in (1, 2) and x.size > 0,
        "x must be a non-empty (n_samples,) or (n_samples, n_units) array",
    )
    require_finite("x", x)
    require(0.0 < mu < 0.5, f"mu must be in (0, 0.5), got {mu}")
    require(eta > 0 and (eta_final is None or eta_final > 0), "learning rates must be > 0")
    require(epochs >= 1, "epochs must be >= 1")
    x2 = x if x.ndim == 2 else x[:, None]
    n, m = x2.shape
    a = np.broadcast_to(np.asarray(a0, dtype=np.float64), (m,)).copy()
    b = np.broadcast_to(np.asarray(b0, dtype=np.float64), (m,)).copy()
    require(bool(np.all(a > 0)), "the initial gain a0 must be > 0")
    total = n * epochs
    etas = (
        np.geomspace(eta, eta_final, total) if eta_final is not None else np.full(total, float(eta))
    )
    rng = np.random.default_rng(seed)
    n_ck = max(1, min(n_checkpoints, total))
    bounds = np.linspace(0, total, n_ck + 1).astype(int)[1:]
    probe = x2[rng.choice(n, size=min(n, 20_000), replace=False)]
    order = np.concatenate([rng.permutation(n) for _ in range(epochs)])
    means, cvs, done = [], [], 0
    for stop in bounds:
        idx = order[done:stop]
        a, b = _ip_loop(np.ascontiguousarray(x2[idx]), a, b, float(mu), etas[done:stop])
        done = stop
        y = sigmoid_unit(probe, a, b)
        means.append(y.mean(axis=0))
        cvs.append(y.std(axis=0) / np.maximum(y.mean(axis=0), 1e-300))
    require(
        bool(np.all(np.isfinite(a)) and np.all(np.isfinite(b))),
        "intrinsic plasticity diverged; lower eta",
    )
    return IPResult(
        a=a,
        b=b,
        mu=float(mu),
        checkpoints=bounds,
        mean_history=np.array(means),
        cv_history=np.array(cvs),
    )


# --------------------------------------------------------------------------- histogram matching


def sigmoid_transfer(h: Any, r_max: float, beta: float, h0: float) -> np.ndarray:
    """``phi(h) = r_max / (1 + exp(-beta (h - h0)))`` (Pereira & Brunel 2018)."""
    u = beta * (np.asarray(h, dtype=np.float64) - h0)
    return r_max * 0.5 * (1.0 + np.tanh(0.5 * u))


@dataclass(frozen=True)
class TransferFit:
    """A transfer function inferred by histogram matching.

    ``h`` and ``r`` are the nonparametric estimate ``r = F_r^-1(Phi((h - mu_h) / sigma_h))`` on
    quantile midpoints; ``r_max``, ``beta``, ``h0`` the fitted sigmoid (h in the units of the
    assumed input distribution), ``rmse`` its error on the quantiles (rate units), ``std_err``
    the asymptotic standard errors of the three parameters from the least-squares Jacobian
    (quantiles are correlated, so treat them as indicative).
    """

    r_max: float
    beta: float
    h0: float
    h: np.ndarray
    r: np.ndarray
    rmse: float
    std_err: dict[str, float] = field(default_factory=dict)

    def __call__(self, h: Any) -> np.ndarray:
        return sigmoid_transfer(h, self.r_max, self.beta, self.h0)

    def as_dict(self) -> dict[str, float]:
        return {"r_max": self.r_max, "beta": self.beta, "h0": self.h0, "rmse": self.rmse}


def infer_transfer_function(
    rates: Any,
    input_mean: float = 0.0,
    input_std: float = 1.0,
    n_quantiles: int = 2000,
) -> TransferFit:
    """Infer ``phi`` from observed rates, assuming Gaussian input currents (histogram matching).

    With ``h ~ N(input_mean, input_std^2)`` and ``r = phi(h)`` increasing, ``P(r <= phi(h)) =
    P(H <= h)``, hence ``phi(h) = F_r^-1(Phi((h - input_mean) / input_std))`` (Pereira & Brunel
    2018). The map is evaluated at ``n_quantiles`` quantile midpoints ``q_k = (k + 1/2) / K`` of
    the rates, and the sigmoid is fitted to the pairs ``(h_k, r_k)`` by least squares (scipy's
    trust-region reflective method, ``r_max > 0``, ``beta > 0``).

    The assumptions are the estimate's limits: a non-monotonic phi or non-Gaussian inputs are not
    identifiable from a rate histogram alone, and h is only defined up to the assumed mean and
    scale of the input.
    """
    from scipy.optimize import least_squares
    from scipy.special import ndtri

    r = np.asarray(rates, dtype=np.float64).ravel()
    require(r.size >= 10, f"need at least 10 rates to infer a transfer function, got {r.size}")
    require_finite("rates", r)
    require(bool(np.all(r >= 0)), "rates must be >= 0")
    require(input_std > 0, f"input_std must be > 0, got {input_std}")
    require(n_quantiles >= 10, "n_quantiles must be >= 10")
    require(float(np.ptp(r)) > 0, "rates are all equal: the transfer function is not identifiable")
    k = min(n_quantiles, r.size)
    q = (np.arange(k) + 0.5) / k
    r_q = np.quantile(r, q)
    h_q = input_mean + input_std * ndtri(q)
    # initial guess from a logit regression at r_max slightly above the largest rate
    r_max0 = 1.05 * float(r.max())
    p = np.clip(r_q / r_max0, 1e-4, 1 - 1e-4)
    slope, icept = np.polyfit(h_q, np.log(p / (1 - p)), 1)
    beta0 = max(float(slope), 1e-3)
    h00 = -float(icept) / beta0

    def resid(theta: np.ndarray) -> np.ndarray:
        return sigmoid_transfer(h_q, *theta) - r_q

    sol = least_squares(
        resid,
        x0=[r_max0, beta0, h00],
        bounds=([1e-12, 1e-9, -np.inf], [np.inf, np.inf, np.inf]),
        x_scale="jac",
        method="trf",
    )
    r_max, beta, h0 = (float(v) for v in sol.x)
    res = sol.fun
    dof = max(1, res.size - 3)
    s2 = float(res @ res) / dof
    try:
        cov = np.linalg.inv(sol.jac.T @ sol.jac) * s2
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(3, np.nan)
    return TransferFit(
        r_max=r_max,
        beta=beta,
        h0=h0,
        h=h_q,
        r=r_q,
        rmse=float(np.sqrt(np.mean(res**2))),
        std_err={"r_max": float(se[0]), "beta": float(se[1]), "h0": float(se[2])},
    )


# --------------------------------------------------------------------------- LIF analogue


@dataclass(frozen=True)
class LIFAdaptationConfig:
    """Settings of the LIF threshold/gain adaptation.

    ``target_rate_hz``: target mean rate; ``window_ms``: count window defining the "rate" whose
    distribution is shaped; ``rule``: "rate" (threshold only: homeostasis of the mean) or
    "max_entropy" (threshold and gain: geometric count distribution at the target mean);
    ``eta_theta``: step on theta per unit of log rate ratio; ``eta_gain``: step on log g;
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
        require(self.target_rate_hz > 0, "target_rate_hz must be > 0")
        require(self.window_ms > 0, "window_ms must be > 0")
        require(
            self.rule in ("rate", "max_entropy"),
            f"rule must be 'rate' or 'max_entropy', got {self.rule!r}",
        )
        require(self.eta_theta >= 0 and self.eta_gain >= 0, "step sizes must be >= 0")
        require(0 < self.smoothing <= 1, "smoothing must be in (0, 1]")
        require(self.max_step > 0, "max_step must be > 0")


def init_lif_adaptation(n_rec: int) -> dict[str, np.ndarray]:
    """Initial adaptation state: ``theta = g = 1`` (the unadapted network), no count moments."""
    require(n_rec >= 1, "n_rec must be >= 1")
    ones = np.ones(n_rec)
    return {
        "theta": ones.copy(),
        "gain": ones.copy(),
        "count_mean": np.full(n_rec, np.nan),
        "count_var": np.full(n_rec, np.nan),
        "n_updates": np.zeros((), dtype=np.int64),
    }


def _check_state(state: dict[str, Any]) -> None:
    missing = [
        k for k in ("theta", "gain", "count_mean", "count_var", "n_updates") if k not in state
    ]
    if missing:
        raise InputError(
            f"adaptation state is missing {missing}; make it with init_lif_adaptation(n_rec)"
        )


def threshold_bias(net: Any, theta: Any) -> Any:
    """The constant current ``b = (1 - alpha) v_th (1 - theta)`` that moves the threshold to
    ``theta * v_th`` (module docstring). NumPy or JAX arrays."""
    return (1.0 - net.alpha) * net.v_th * (1.0 - theta)


def adapted_network(net: Any, params: dict[str, Any], state: dict[str, Any]):
    """The adapted network as ``(net_a, params_a)``: ``net_a`` has ``n_in + 1`` inputs, the last a
    constant 1 (append it with :func:`adapted_input`) whose weights are the threshold biases;
    columns of the other input weights are multiplied by the gains. ``w_rec``, ``w_out`` are
    unchanged. Works on NumPy or JAX ``params`` so a trainer can differentiate through it.
    """
    _check_state(state)
    require(
        np.shape(state["theta"]) == (net.n_rec,),
        f"adaptation state is for {np.shape(state['theta'])[0]} units, net has {net.n_rec}",
    )
    xp = np if isinstance(params["w_in"], np.ndarray) else _jnp()
    bias = threshold_bias(net, xp.asarray(state["theta"])) / net.input_scale
    w_in = params["w_in"] * xp.asarray(state["gain"])[None, :]
    net_a = net.model_copy(update={"n_in": net.n_in + 1})
    return net_a, {**params, "w_in": xp.concatenate([w_in, bias[None, :]], axis=0)}


def _jnp():
    import jax.numpy as jnp

    return jnp


def adapted_input(x: Any) -> np.ndarray:
    """Append the constant bias channel to input ``x`` ((T, n_in) or (B, T, n_in))."""
    x = np.asarray(x)
    ones = np.ones((*x.shape[:-1], 1), dtype=x.dtype if x.dtype.kind == "f" else np.float32)
    return np.concatenate([x, ones], axis=-1)


def window_counts(z: Any, window_steps: int) -> np.ndarray:
    """Spike counts in consecutive windows: z (T, n) or (B, T, n) -> (n_windows, n).

    Trailing steps that do not fill a window are dropped.
    """
    z = np.asarray(z, dtype=np.float64)
    require(z.ndim in (2, 3), f"spikes must be (T, n) or (B, T, n), got shape {z.shape}")
    require(
        z.shape[-2] // window_steps >= 1,
        f"need at least one window of {window_steps} steps, got T = {z.shape[-2]}",
    )
    counts = bin_raster(z, window_steps)
    return counts.reshape(-1, counts.shape[2]).astype(np.float64)


def lif_adaptation_update(
    state: dict[str, Any], z: Any, dt: float, cfg: LIFAdaptationConfig
) -> dict[str, Any]:
    """One adaptation step from the spikes ``z`` ((T, n) or (B, T, n)) produced since the last
    call; returns a new state (the input state is not modified).

    Running count moments: ``m <- (1-s) m + s mean(c)``, ``v <- (1-s) v + s var(c)`` over
    windows of ``cfg.window_ms``. Then (module docstring) ``theta += eta_theta log(m/m*)`` and,
    for ``rule="max_entropy"``, ``log g += eta_gain/2 log(F*/F)`` with ``F = v/m`` and
    ``F* = 1 + m*`` (geometric law). Each step is clipped to ``cfg.max_step``.
    """
    _check_state(state)
    w = max(1, int(round(cfg.window_ms / dt)))
    counts = window_counts(z, w)
    n = counts.shape[1]
    require(
        np.shape(state["theta"]) == (n,),
        f"state is for {np.shape(state['theta'])[0]} units, spikes have {n}",
    )
    m_new, v_new = counts.mean(axis=0), counts.var(axis=0)
    s = cfg.smoothing
    m_old, v_old = np.asarray(state["count_mean"]), np.asarray(state["count_var"])
    m = np.where(np.isnan(m_old), m_new, (1 - s) * m_old + s * m_new)
    v = np.where(np.isnan(v_old), v_new, (1 - s) * v_old + s * v_new)
    target = cfg.target_rate_hz * w * dt / 1000.0
    floor = 0.5 / counts.shape[0]  # no spike in any window: treat as half a spike
    d_theta = cfg.eta_theta * np.log(np.maximum(m, floor) / target)
    theta = np.asarray(state["theta"]) + np.clip(d_theta, -cfg.max_step, cfg.max_step)
    gain = np.asarray(state["gain"])
    if cfg.rule == "max_entropy":
        fano = np.maximum(v, floor) / np.maximum(m, floor)
        d_gain = 0.5 * cfg.eta_gain * np.log((1.0 + target) / fano)
        # a silent unit says nothing about its spread: leave its gain alone
        d_gain = np.where(m > floor, d_gain, 0.0)
        gain = gain * np.exp(np.clip(d_gain, -cfg.max_step, cfg.max_step))
    return {
        "theta": np.clip(theta, *cfg.theta_range),
        "gain": np.clip(gain, *cfg.gain_range),
        "count_mean": m,
        "count_var": v,
        "n_updates": np.asarray(state["n_updates"]) + 1,
    }


def count_distribution_kl(counts: Any, mean: float | None = None) -> np.ndarray:
    """KL divergence (bits) of each unit's count histogram from the geometric law of the same
    (or the given) mean: the maximum-entropy count distribution at that mean.

    counts: (n_windows, n_units) integer counts. ``D = sum_n p(n) log2(p(n) / P_geo(n))``.
    """
    c = np.asarray(counts)
    require(c.ndim == 2 and c.shape[0] > 0, "counts must be (n_windows, n_units)")
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
    the mean Fano factor of window counts over active units, and its geometric target."""

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
    from infodyn.network.simulate import simulate

    cfg = cfg or LIFAdaptationConfig()
    require(n_updates >= 1, "n_updates must be >= 1")
    state = state if state is not None else init_lif_adaptation(net.n_rec)
    w = max(1, int(round(cfg.window_ms / net.dt)))
    target = cfg.target_rate_hz * w * net.dt / 1000.0
    rates, fanos = [], []
    for k in range(n_updates):
        x = inputs(k) if callable(inputs) else inputs
        net_a, params_a = adapted_network(net, params, state)
        tr = simulate(net_a, params_a, adapted_input(x), engine="jax", precision=precision)
        state = lif_adaptation_update(state, tr.z, net.dt, cfg)
        counts = window_counts(tr.z, w)
        m = counts.mean(axis=0)
        rates.append(float(m.mean() * 1000.0 / (w * net.dt)))
        live = m > 0
        fanos.append(float(np.mean(counts.var(axis=0)[live] / m[live])) if live.any() else 0.0)
    return LIFAdaptationResult(state=state, rate_hz=rates, fano=fanos, fano_target=1.0 + target)
