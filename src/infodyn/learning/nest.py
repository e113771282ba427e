"""NEST's e-prop conventions translated to infodyn: ``from_nest`` builds the network, the loss,
the weights and the optimiser that reproduce NEST's ``eprop_*_bsshslm_2020`` models.

NEST 3.x implements e-prop (Bellec et al. 2020, Nat. Commun. 11:3625) in the models
``eprop_iaf_bsshslm_2020``, ``eprop_iaf_adapt_bsshslm_2020``, ``eprop_readout_bsshslm_2020`` and
``eprop_synapse_bsshslm_2020`` (van Meegen, Korcsak-Gorzo et al. 2024, "Event-based
implementation of eligibility propagation"). Its conventions differ from infodyn's defaults in
six places; each is translated here (the table is ``docs/conventions.md``):

1. refractoriness: ``t_ref = k`` steps blocks ``k - 1`` steps after a spike (the counter is
   decremented before the spike test), so ``n_ref = round(t_ref / dt) - 1``;
2. ``regular_spike_arrival=False`` scales *every* incoming spike, recurrent ones included, by
   ``1 - alpha`` (``v += (1 - alpha) (W_in x + W_rec z)``); infodyn's ``input_scaling=
   "one_minus_alpha"`` scales the input only, so ``w_rec = (1 - alpha) W_rec`` and the gradient
   of NEST's weight is ``(1 - alpha)`` times infodyn's (learning rate x ``(1 - alpha)^2`` for SGD;
   :class:`NestOptimizer` converts exactly, for Adam too);
3. the firing-rate regulariser: NEST's ``c_reg`` multiplies rates in spikes per step
   (``f_target`` in Hz times ``dt / 1000``), infodyn's rates are in Hz, so
   ``c = c_reg (dt / 1000)^2`` (``c_reg / 10^6`` at dt = 1 ms; at dt = 0.5 ms that was 4x too
   strong);
   rates are per sequence in NEST (``per_sequence=True``), pooled over the batch by default here;
4. losses: NEST's gradients are sums over the learning window (divided by its length when
   ``average_gradient``); infodyn's MSE is a mean over time, hence a loss weight of ``T``;
   cross-entropy is scored on the last ``learning_window`` steps (``target`` weights);
5. feedback: NEST's learning-signal weights ``B`` are given (the tests draw ``N(0, 1)`` or
   ``N(0, 1/n_rec)``), infodyn's ``random_feedback`` draws ``N(0, 1/n_rec)``; pass NEST's matrix;
6. surrogate: ``piecewise_linear`` with height ``h`` and width ``w`` is infodyn's ``triangle``
   with ``gamma = h * V_th`` when ``w = V_th`` (NEST's tests set exactly that); the older
   names ``gamma`` and ``beta``, which NEST's versions read differently, are taken only at
   ``V_th = 1``, where the readings agree (infodyn's ``gamma`` is NEST's with ``beta = 1``).

A parameter not translated (or checked to be NEST's neutral value) is refused by name, and so
is a missing parameter whose NEST default is not what infodyn translates (NEST 3.10's
``eprop_iaf_bsshslm_2020`` defaults to ``C_m = 250``, ``E_L = V_m = -70``, ``t_ref = 2`` and a
surrogate height of 0.3: a dict without them was built with infodyn's values, another neuron
than NEST's); nothing is dropped or assumed unsaid. The dicts of NEST's e-prop tests are taken
as they are; NEST 3.10's example scripts add ``flush_event_send_interval``, which is refused:
remove it.

The readout ``eprop_readout_bsshslm_2020`` with ``regular_spike_arrival=False`` integrates
``(1 - kappa) W_out z``: ``readout_scaling="one_minus_kappa"``. NEST's optimisers: gradient
descent and Adam in the TensorFlow form ``w -= eta sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) +
eps)``, one step per ``batch_size`` sequences on the batch-mean gradient.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from infodyn.errors import InputError, is_choice, require
from infodyn.learning.losses import (
    CompositeLoss,
    FiringRateRegularizer,
    MeanSquaredError,
    SoftmaxCrossEntropy,
    as_loss,
)
from infodyn.network.model import ALIF, LIF


def _check_neutral(params: dict[str, Any], what: str) -> None:
    for key, neutral in (("C_m", 1.0), ("E_L", 0.0), ("I_e", 0.0), ("V_m", 0.0)):
        require(
            float(params.get(key, neutral)) == neutral,
            f"{what}: {key}={params.get(key)} has no infodyn equivalent (needs {neutral})",
        )


#: the parameters translated (or checked to be neutral) of each NEST model's dict; any other
#: was dropped unsaid (NEST's older surrogate gamma = 0.3 gave infodyn's default 1.0)
_NEUTRAL = {"C_m", "E_L", "I_e", "V_m", "V_min"}
_RECURRENT_KEYS = _NEUTRAL | {
    "V_th", "tau_m", "t_ref", "regular_spike_arrival", "c_reg", "f_target",
    "surrogate_gradient_function", "surrogate_gradient_height", "surrogate_gradient_width",
    "gamma", "beta",
}  # fmt: skip
_ADAPTIVE_KEYS = _RECURRENT_KEYS | {"adapt_tau", "adapt_beta", "adaptation"}
_READOUT_KEYS = _NEUTRAL | {"tau_m", "loss", "regular_spike_arrival"}


#: parameters whose NEST 3.10 default differs from what infodyn translates: to be written out
_RECURRENT_NEEDED = ("V_th", "tau_m", "C_m", "E_L", "V_m", "t_ref")
_READOUT_NEEDED = ("tau_m", "C_m", "E_L", "V_m")


def _check_keys(
    params: dict[str, Any], known: set[str], what: str, needed: tuple[str, ...] = ()
) -> None:
    """Refuse a parameter that is not translated, one of ``needed`` that is missing (NEST's
    default is not what infodyn would assume; a missing V_th was a bare KeyError), and a
    finite ``V_min`` (NEST clamps the potential from below there; infodyn does not)."""
    unknown = sorted(set(params) - known)
    require(
        not unknown,
        f"{what}: {', '.join(unknown)} not translated to infodyn (it knows "
        f"{', '.join(sorted(known))}); remove it",
    )
    missing = [key for key in needed if key not in params]
    require(  # (a missing V_th or tau_m was a bare KeyError)
        not {"V_th", "tau_m"} & set(missing),
        f"{what}: give {' and '.join(k for k in ('V_th', 'tau_m') if k in missing)} (the "
        "network is built from them)",
    )
    require(
        not missing,
        f"{what}: give {', '.join(missing)}: NEST's defaults of these (C_m = 250, E_L = V_m = "
        "-70, t_ref = 2 ms in NEST 3.10) are not what infodyn translates (it needs C_m = 1, "
        "E_L = V_m = 0), so each must be written out, in NEST's dict too",
    )
    v_min = float(params.get("V_min", -math.inf))
    require(
        v_min <= -1e300,
        f"{what}: V_min={v_min:g} clamps the potential from below; infodyn has no such clamp "
        "(leave V_min at NEST's default, -inf)",
    )


def _surrogate(params: dict[str, Any], v_th: float) -> float:
    """infodyn's ``gamma`` for NEST's piecewise-linear surrogate: ``surrogate_gradient_height``
    h and ``_width`` w (``gamma = h V_th``, w must be ``V_th``), or the older names ``gamma``
    and ``beta``, which NEST versions read differently (3.7-3.8: ``gamma max(0, 1 - beta
    |v - v_th| / V_th) / V_th``; later ones without the two ``/ V_th``): only at ``V_th = 1``,
    where both readings agree and infodyn's ``gamma`` is NEST's with ``beta = 1``."""
    fn = params.get("surrogate_gradient_function", "piecewise_linear")
    require(fn == "piecewise_linear", f"surrogate {fn!r}: only piecewise_linear is translated")
    if {"gamma", "beta"} & set(params):
        require(
            not {"surrogate_gradient_height", "surrogate_gradient_width"} & set(params),
            "give the surrogate as gamma and beta or as surrogate_gradient_height and _width, "
            "not both",
        )
        require(
            math.isclose(v_th, 1.0, rel_tol=1e-12),
            f"gamma and beta with V_th={v_th}: NEST's versions read them differently (3.7-3.8 "
            "divide |v - v_th| and the height by V_th, later ones do not); give the surrogate as "
            "surrogate_gradient_height and surrogate_gradient_width instead",
        )
        beta = float(params.get("beta", 1.0))
        require(
            math.isclose(beta, 1.0, rel_tol=1e-12),
            f"beta={beta}: the surrogate's width 1 / beta must equal V_th = 1 (infodyn's "
            "triangle has width v_th)",
        )
        return float(params.get("gamma", 0.3))
    missing = [
        key
        for key in ("surrogate_gradient_height", "surrogate_gradient_width")
        if key not in params
    ]
    require(  # NEST's default height is 0.3; infodyn assumed 1
        not missing,
        f"recurrent neurons: give {' and '.join(missing)} (NEST's default height, 0.3, is not "
        "what infodyn would assume)",
    )
    height = float(params["surrogate_gradient_height"])
    width = float(params["surrogate_gradient_width"])
    require(
        math.isclose(width, abs(v_th), rel_tol=1e-12),
        f"surrogate_gradient_width={width} must equal V_th={v_th} (infodyn's triangle has "
        "width v_th)",
    )
    return height * v_th


def _recurrent(
    params: dict[str, Any], dt: float, known: set[str] = _RECURRENT_KEYS
) -> dict[str, Any]:
    """Shared LIF settings of a NEST e-prop neuron parameter dict."""
    _check_keys(params, known, "recurrent neurons", _RECURRENT_NEEDED)
    _check_neutral(params, "recurrent neurons")
    v_th = float(params["V_th"])
    gamma = _surrogate(params, v_th)
    steps = round(float(params.get("t_ref", 0.0)) / dt)
    return {
        "tau_m": float(params["tau_m"]),
        "v_th": v_th,
        "n_ref": max(steps - 1, 0),
        "gamma": gamma,
        "surrogate": "triangle",
        "input_scaling": "none" if params.get("regular_spike_arrival", True) else "one_minus_alpha",
    }


@dataclass
class NestOptimizer:
    """NEST's ``gradient_descent`` or ``adam`` optimiser acting on infodyn weights.

    Weights and gradients are converted to NEST's units (``W_nest = w / factor``,
    ``g_nest = g * factor``), stepped as NEST steps them, and converted back.
    """

    kind: str
    eta: float
    factors: dict[str, float]
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    w_min: float = -100.0
    w_max: float = 100.0
    _m: dict[str, np.ndarray] = field(default_factory=dict)
    _v: dict[str, np.ndarray] = field(default_factory=dict)
    _b1: float = 1.0
    _b2: float = 1.0

    def step(self, params: dict[str, Any], grads: dict[str, Any]) -> dict[str, np.ndarray]:
        """One optimisation step on the batch-mean gradient ``grads`` (infodyn units)."""
        out = {}
        self._b1 *= self.beta_1
        self._b2 *= self.beta_2
        for k, f in self.factors.items():
            w = np.asarray(params[k], dtype=np.float64) / f
            g = np.asarray(grads[k], dtype=np.float64) * f
            if self.kind == "gradient_descent":
                w = w - self.eta * g
            else:
                m = self.beta_1 * self._m.get(k, 0.0) + (1.0 - self.beta_1) * g
                v = self.beta_2 * self._v.get(k, 0.0) + (1.0 - self.beta_2) * g * g
                self._m[k], self._v[k] = m, v
                lr = self.eta * math.sqrt(1.0 - self._b2) / (1.0 - self._b1)
                w = w - lr * m / (np.sqrt(v) + self.epsilon)
            out[k] = np.clip(w, self.w_min, self.w_max) * f
        return out


@dataclass(frozen=True)
class NestEprop:
    """A NEST e-prop set-up in infodyn terms (see :func:`from_nest`)."""

    net: LIF
    loss: CompositeLoss
    rec_factor: float
    sequence_steps: int
    learning_window: int
    average_gradient: bool
    optimizer_settings: dict[str, Any]

    def params(self, weights_in_rec: Any, weights_rec_rec: Any, weights_rec_out: Any) -> dict:
        """infodyn weights from NEST's ``[target, source]`` matrices."""
        w_rec = np.array(weights_rec_rec, dtype=np.float64).T * self.rec_factor
        np.fill_diagonal(w_rec, 0.0)
        return {
            "w_in": np.array(weights_in_rec, dtype=np.float64).T,
            "w_rec": w_rec,
            "w_out": np.array(weights_rec_out, dtype=np.float64).T,
        }

    def regression_target(self, signal: Any) -> np.ndarray:
        """``(B, T, n_out)`` target from ``(B, T)`` or ``(B, T, n_out)`` values."""
        t = np.asarray(signal, dtype=np.float64)
        return t[..., None] if t.ndim == 2 else t

    def classification_target(self, labels: Any) -> np.ndarray:
        """Per-step class weights: one-hot on the last ``learning_window`` steps, divided by
        the window when ``average_gradient`` (NEST's scaling of the gradient)."""
        lab = np.asarray(labels, dtype=np.int64).reshape(-1)
        w = np.zeros((lab.size, self.sequence_steps, self.net.n_out))
        scale = 1.0 / self.learning_window if self.average_gradient else 1.0
        w[np.arange(lab.size), -self.learning_window :, lab] = scale
        w[:, : self.sequence_steps - self.learning_window] = 0.0
        return w

    def optimizer(self) -> NestOptimizer:
        s = self.optimizer_settings
        kind = s.get("type", "gradient_descent")
        require(
            is_choice(kind, ("gradient_descent", "adam")), f"optimizer type {kind!r} is not NEST's"
        )
        return NestOptimizer(
            kind=kind,
            eta=float(s.get("eta", 1e-4)),
            factors={"w_in": 1.0, "w_rec": self.rec_factor, "w_out": 1.0},
            beta_1=float(s.get("beta_1", 0.9)),
            beta_2=float(s.get("beta_2", 0.999)),
            epsilon=float(s.get("epsilon", 1e-8)),
            w_min=float(s.get("Wmin", -100.0)),
            w_max=float(s.get("Wmax", 100.0)),
        )


def from_nest(
    n_in: int,
    recurrent: dict[str, Any],
    n_rec: int,
    readout: dict[str, Any],
    n_out: int,
    *,
    sequence_steps: int,
    adaptive: dict[str, Any] | None = None,
    n_adaptive: int = 0,
    learning_window: int | None = None,
    average_gradient: bool = False,
    optimizer: dict[str, Any] | None = None,
    dt: float = 1.0,
) -> NestEprop:
    """Translate NEST e-prop parameters into an infodyn network, loss and optimiser.

    ``recurrent`` and ``readout`` are the parameter dicts of ``eprop_iaf_bsshslm_2020`` and
    ``eprop_readout_bsshslm_2020`` (``readout["loss"]`` is ``"mean_squared_error"`` or
    ``"cross_entropy"``); ``adaptive`` those of the ``n_adaptive`` ``eprop_iaf_adapt_bsshslm_2020``
    units, which come after the others (NEST's ``nrns_reg + nrns_ad``). ``sequence_steps`` is
    NEST's ``eprop_update_interval``, ``learning_window`` its ``eprop_learning_window`` (default:
    the whole sequence), ``average_gradient`` and ``optimizer`` the synapse settings.
    """
    n_adaptive = int(n_adaptive)
    lif = _recurrent(recurrent, dt)
    if adaptive is not None and n_adaptive:
        ad = _recurrent(adaptive, dt, _ADAPTIVE_KEYS)
        require(  # NEST's initial adaptation: infodyn's starts at 0
            float(adaptive.get("adaptation", 0.0)) == 0.0,
            f"adaptive neurons: adaptation={adaptive.get('adaptation')} (the initial adaptation) "
            "has no infodyn equivalent (needs 0)",
        )
        require(
            ad == lif,
            "regular and adaptive neurons must share tau_m, V_th, t_ref, "
            "surrogate and spike arrival to map onto one infodyn network",
        )
        for key in ("c_reg", "f_target"):
            require(adaptive.get(key) == recurrent.get(key), f"{key} differs between neurons")
    _check_keys(readout, _READOUT_KEYS, "readout", _READOUT_NEEDED)
    _check_neutral(readout, "readout")
    require(
        readout.get("regular_spike_arrival", True) is False,
        "the readout needs regular_spike_arrival=False (NEST always filters the eligibility "
        "trace with (1 - kappa); only the (1 - kappa) readout makes that the exact gradient)",
    )
    window = int(sequence_steps if learning_window is None else learning_window)
    require(0 < window <= int(sequence_steps), "learning_window must lie in [1, sequence_steps]")
    common = dict(
        n_in=n_in,
        n_rec=n_rec,
        n_out=n_out,
        dt=dt,
        tau_out=float(readout["tau_m"]),
        readout_scaling="one_minus_kappa",
        **lif,
    )
    if adaptive is not None and n_adaptive:
        net: LIF = ALIF(
            **common,
            tau_a=float(adaptive["adapt_tau"]),
            beta_a=float(adaptive["adapt_beta"]),
            n_alif=n_adaptive,
        )
    else:
        net = LIF(**common)
    rec_factor = 1.0 - net.alpha if lif["input_scaling"] == "one_minus_alpha" else 1.0
    per_window = 1.0 / window if average_gradient else 1.0
    kind = readout.get("loss", "mean_squared_error")
    if kind == "mean_squared_error":
        require(
            window == sequence_steps,
            "a mean-squared-error learning window shorter than the sequence is not translated",
        )
        loss = as_loss(MeanSquaredError(weight=float(sequence_steps) * per_window))
    elif kind == "cross_entropy":
        loss = as_loss(SoftmaxCrossEntropy())  # the window and its scale are in the target
    else:
        raise InputError(f"readout loss {kind!r} is not NEST's")
    c_reg = float(recurrent.get("c_reg", 0.0))
    if c_reg:
        f_target = float(recurrent.get("f_target", 10.0))
        if 0.0 < f_target < 1.0:  # GetStatus reports it per ms: 10 Hz reads 0.01
            warnings.warn(
                f"f_target = {f_target:g} Hz: NEST's GetStatus reports f_target in spikes per "
                "ms (a target set to 10 Hz reads 0.01); give the value set, in Hz",
                stacklevel=2,
            )
        loss = loss + FiringRateRegularizer(  # rates per step: (dt / 1000)^2 (module docstring)
            weight=c_reg * (dt / 1000.0) ** 2 * per_window,
            f_target_hz=f_target,
            per_sequence=True,
        )
    return NestEprop(
        net,
        loss,
        rec_factor,
        int(sequence_steps),
        window,
        bool(average_gradient),
        dict(optimizer or {}),
    )
