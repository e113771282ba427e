"""Transfer functions of rate units fitted without a teacher (Triesch 2005; Pereira & Brunel 2018).

Two tools, one per question "how does a transfer function fit its stimuli without a teacher?";
the LIF analogue that runs beside e-prop is :mod:`infodyn.learning.adaptation`.

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
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import jax.numpy as jnp
import numpy as np
from numba import njit
from scipy.optimize import least_squares
from scipy.special import ndtri

from infodyn.errors import (
    InputError,
    finite_reals,
    is_finite_number,
    make_rng,
    require,
    require_finite,
    require_finite_number,
    require_flag,
    whole_number,
)

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
    a, b, x = finite_reals(a, "a"), finite_reals(b, "b"), finite_reals(x, "x")
    try:  # one value per unit (or one for all): empty against three was a raw broadcast error
        shape = np.broadcast_shapes(a.shape, b.shape, x.shape)
    except ValueError:
        shape = None
    if shape is None or len(shape) > 1:  # (4, 3) samples gave four copies of the parameters
        raise InputError(
            f"a, b and x must hold one value per unit, got shapes {a.shape}, {b.shape} and "
            f"{x.shape} (one sample x a call; intrinsic_plasticity takes many)"
        )
    _check_ip_rates(mu, eta)
    require(bool(np.all(a > 0)), "the gain a must be > 0")  # eta / a
    y = sigmoid_unit(x, a, b)
    db = eta * (1.0 - (2.0 + 1.0 / mu) * y + y * y / mu)
    return a + eta / a + x * db, b + db


def _check_ip_rates(mu: Any, eta: Any, eta_final: Any = None) -> None:
    """The target mean ``mu`` in (0, 1/2) and learning rates > 0, finite numbers (``mu = 0`` was
    a ZeroDivisionError; text, NaN and complex were taken)."""
    require(is_finite_number(mu) and 0.0 < mu < 0.5, f"mu must be in (0, 0.5), got {mu!r}")
    for name, value in (("eta", eta), ("eta_final", eta_final)):
        if value is not None or name == "eta":
            require(
                is_finite_number(value) and value > 0,
                f"{name} must be a finite number > 0, got {value!r}",
            )


def ip_sample_objective(x: Any, a: Any, b: Any, mu: float):
    """The per-sample term of ``KL(p_y || Exp(mu))`` that IP descends (nats, up to a constant).

    ``l(x) = -log a - log y - log(1 - y) + y / mu``: the expected value of l over x is
    ``KL(p_y || Exp(mu)) + H(x) + log(1/mu)`` (since ``H(y) = H(x) + E[log a + log y +
    log(1 - y)]``); H(x) does not depend on (a, b), so descending l descends the KL divergence
    (Triesch 2005). Written with ``numpy``-compatible
    operations so it also runs on JAX arrays (``jax.grad`` of it reproduces :func:`ip_update`).
    """
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


@njit(cache=False, fastmath=False)
def _ip_loop(x: np.ndarray, a: np.ndarray, b: np.ndarray, mu: float, eta: np.ndarray):
    """:func:`ip_update` over the rows of ``x`` in order, in place on ``a`` and ``b`` (compiled
    on first call)."""
    n, m = x.shape
    c = 2.0 + 1.0 / mu
    for t in range(n):
        for j in range(m):
            y = 1.0 / (1.0 + math.exp(-(a[j] * x[t, j] + b[j])))
            db = eta[t] * (1.0 - c * y + y * y / mu)
            a[j] += eta[t] / a[j] + x[t, j] * db
            b[j] += db
    return a, b


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
    standardize: bool = True,
) -> IPResult:
    """Adapt sigmoid units online by intrinsic plasticity (Triesch 2005).

    The rule is not scale-free (``da = eta/a + x db``): on inputs far from unit scale (currents
    in pA, say) it oscillated to a negative gain or saturated, without a word. With
    ``standardize`` (the default) each unit's input is standardised, ``x' = (x - m) / s`` over
    the samples, the rule runs on x', and the gain and bias are mapped back
    (``a = a' / s``, ``b = b' - a' m / s``). The sigmoid family is affine-equivariant, so the
    optimum of ``KL(p_y || Exp(mu))`` and the rule's fixed point are the same in either
    coordinates; only the stochastic path differs. ``standardize=False`` runs the rule on x as
    published. Either way a run that ends with a gain <= 0 is refused, and one whose output
    mean ends more than 50 % from ``mu`` is warned of, as not converged.

    Parameters
    ----------
    x : (n_samples,) or (n_samples, n_units) input drive, presented in a fresh random order each
        epoch (``seed``).
    mu : target output mean, 0 < mu < 1/2 (the exponential must fit mostly inside (0, 1)).
    eta, eta_final : learning rate, decayed geometrically from ``eta`` to ``eta_final`` over the
        whole run (``eta_final=None`` keeps it constant). Annealing removes the stochastic jitter
        of the fixed point.
    a0, b0 : initial gain (> 0) and bias, on the standardised input x' with ``standardize``
        (the default 1 and 0 then start every unit at sigmoid(x'), whatever x's scale), on x
        without.
    standardize : run the rule on each unit's standardised input (see above).
    """
    x = finite_reals(x, "x")
    require(
        x.ndim in (1, 2) and x.size > 0,
        "x must be a non-empty (n_samples,) or (n_samples, n_units) array",
    )
    require_finite("x", x)
    _check_ip_rates(mu, eta, eta_final)
    epochs = whole_number(epochs, "epochs", minimum=1)  # 1.5: a TypeError in range()
    n_checkpoints = whole_number(n_checkpoints, "n_checkpoints", minimum=1)  # NaN gave 1
    x2 = x if x.ndim == 2 else x[:, None]
    n, m = x2.shape
    a, b = finite_reals(a0, "a0"), finite_reals(b0, "b0")  # "3" was a gain of 3
    for name, v in (("a0", a), ("b0", b)):  # a wrong length: NumPy's broadcast error
        require(v.size in (1, m), f"{name} must be one number or one per unit ({m}), got {v.size}")
    a, b = (np.broadcast_to(v.reshape(-1), (m,)).copy() for v in (a, b))
    require_finite("a0", a)
    require_finite("b0", b)
    require(bool(np.all(a > 0)), "the initial gain a0 must be > 0")
    loc, scale = np.zeros(m), np.ones(m)
    standardize = require_flag("standardize", standardize)
    if standardize:
        loc, scale = x2.mean(axis=0), x2.std(axis=0)
        scale[scale == 0] = 1.0  # a constant input: shifted only
        x2 = (x2 - loc) / scale
    total = n * epochs
    etas = (
        np.geomspace(float(eta), float(eta_final), total)  # 10**30, an int, had no log10
        if eta_final is not None
        else np.full(total, float(eta))
    )
    rng = make_rng(seed)
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
    _check_converged(a, means[-1], float(mu), None if standardize else x2.std(axis=0))
    return IPResult(
        a=a / scale,
        b=b - a * loc / scale,
        mu=float(mu),
        checkpoints=bounds,
        mean_history=np.array(means),
        cv_history=np.array(cvs),
    )


def _check_converged(a: np.ndarray, mean: np.ndarray, mu: float, raw_sd: np.ndarray | None) -> None:
    """Refuse a run that ended with a gain <= 0 (a sigmoid turned round: no fixed point of the
    rule), and warn of one whose output mean ended more than 50 % from ``mu`` (the seed-to-seed
    spread of a converged run is a few per cent); ``raw_sd``: the inputs' SDs of a run on
    unstandardised input, None for a standardised one."""
    far = np.abs(mean / mu - 1.0) > 0.5
    for bad, what in ((a <= 0, "a gain <= 0"), (far, "an output mean more than 50 % from mu")):
        if not bad.any():
            continue
        j = int(np.flatnonzero(bad)[0])
        advice = (
            "lower eta or give more samples (epochs)"
            if raw_sd is None
            else f"its input's SD is {float(raw_sd[j]):.3g}: the rule is not scale-free; use "
            "standardize=True, or lower eta"
        )
        text = (
            f"intrinsic plasticity did not converge: {int(bad.sum())} unit(s) ended with {what} "
            f"(unit {j}: gain {float(a[j]):.3g}, output mean {float(mean[j]):.3g} for "
            f"mu = {mu:g}); {advice}"
        )
        if what.startswith("a gain"):
            raise InputError(text)
        warnings.warn(text, stacklevel=3)
        return


# --------------------------------------------------------------------------- histogram matching


def sigmoid_transfer(h: Any, r_max: float, beta: float, h0: float) -> np.ndarray:
    """``phi(h) = r_max / (1 + exp(-beta (h - h0)))`` (Pereira & Brunel 2018)."""
    for name, value in (("r_max", r_max), ("beta", beta), ("h0", h0)):  # 1+2j: complex rates
        require(is_finite_number(value), f"{name} must be a finite number, got {value!r}")
    u = beta * (finite_reals(h, "h") - h0)
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
    r = finite_reals(rates, "rates").ravel()
    require(r.size >= 10, f"need at least 10 rates to infer a transfer function, got {r.size}")
    require_finite("rates", r)
    require(bool(np.all(r >= 0)), "rates must be >= 0")
    require_finite_number("input_mean", input_mean)  # NaN: a LinAlgError and LAPACK noise
    require_finite_number("input_std", input_std)
    require(input_std > 0, f"input_std must be a finite number > 0, got {input_std}")
    n_quantiles = whole_number(n_quantiles, "n_quantiles", minimum=10)  # 10.5: a LinAlgError
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
