"""Losses for training spiking networks, written so that e-prop and BPTT optimise the same number.

Every loss term is a function of *sequence statistics*: per-step contributions ``phi_t`` summed
over time, then a reduction ``F``::

    S = sum_t phi(z[t], y[t], target[t])        (a pytree, usually one array per batch entry)
    E = weight * F(S, T)

BPTT differentiates ``E`` through the whole trajectory. e-prop needs the *learning signal*, the
partial derivative of ``E`` with respect to the spikes and readouts at one step (Bellec et al.
2020, Nat. Commun. 11:3625, eq. 4)::

    L_z[t] = dE/dz[t] (explicit)  = <dF/dS, d phi/d z[t]>      shape (B, n_rec)
    L_y[t] = dE/dy[t] (explicit)  = <dF/dS, d phi/d y[t]>      shape (B, n_out)

``L_y`` reaches the recurrent units through the feedback matrix (symmetric, random or adaptive)
and the readout filter. Both signals come from :meth:`LossTerm.signal`, which by default applies
``jax.vjp`` of :meth:`LossTerm.step_stats` to ``dF/dS``; a term may override it.

When ``F`` is linear in ``S`` (``online = True``) ``dF/dS`` is a constant and the learning signal
is available at every step: e-prop runs in one forward pass. Otherwise (rates over the whole
sequence, variances) ``dF/dS`` needs the final statistics, so e-prop first runs the sequence
forward to get ``S`` and then a second forward pass with eligibility traces (two passes, memory
still constant in T). The result is exact either way.

Writing a new loss (for example an information objective): subclass :class:`LossTerm`, set
``name`` and ``online``, implement ``step_stats(z_t, y_t, target_t, dt)`` (a pytree of arrays
whose leading axis is the batch) and ``reduce(stats, n_steps, dt)`` (a scalar, JAX-traceable).
Override ``signal(cotangent, z_t, y_t, target_t, dt) -> (L_z, L_y)`` only if the learning signal
is not the autodiff one (for example a surrogate signal for a non-differentiable estimator).

Rates are in Hz: a unit's rate over a window is ``mean_t z * 1000 / dt``.
Terms combine with ``+`` and scale with ``*``: ``0.5 * MeanSquaredError() + UnitRateTarget(5.0)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from infodyn.errors import (
    InputError,
    check_option_type,
    is_finite_number,
    require,
    require_choices,
)

Array = Any


@dataclass(frozen=True)
class LossTerm:
    """Base class of one loss term (see the module docstring for the interface)."""

    weight: float = 1.0

    name: ClassVar[str] = "loss"
    online: ClassVar[bool] = True  # F linear in S: learning signal known at every step
    uses_output: ClassVar[bool] = False  # depends on the readouts y
    needs_target: ClassVar[bool] = False
    min_outputs: ClassVar[int] = 0  # readouts the term needs (a softmax over one is always 1)
    weights_steps: ClassVar[bool] = False  # the target weights the scored steps (one-hot rows)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # NaN or text failed inside JAX ("exploded")
            check_option_type(f"{self.name}.{f.name}", getattr(self, f.name), f.type)
        require_choices(self)
        # a negative weight maximised the error, a negative rate was a target no unit can reach;
        # both trained without a word
        require(self.weight >= 0, f"the weight of loss term {self.name!r} must be >= 0")
        for key in ("r0_hz", "f_target_hz"):
            rate = getattr(self, key, 0.0)
            require(rate >= 0, f"{self.name}.{key} must be a rate >= 0 Hz, got {rate}")
        s_target = getattr(self, "s_target", 0.0)  # a variance: -1 was taken
        require(s_target >= 0, f"{self.name}.s_target must be a variance >= 0 Hz^2, got {s_target}")

    def check_batch(self, target: np.ndarray) -> None:
        """Refuse a batch's target, (T, B, n_out) time-major, that this term cannot score (a
        concrete array, checked before the batch runs). None refused here."""

    def step_stats(self, z_t: Array, y_t: Array, target_t: Array | None, dt: float) -> Any:
        raise NotImplementedError

    def reduce(self, stats: Any, n_steps: int, dt: float) -> Array:
        raise NotImplementedError

    def signal(
        self, cotangent: Any, z_t: Array, y_t: Array, target_t: Array | None, dt: float
    ) -> tuple[Array, Array]:
        """Learning signals ``(dE/dz[t], dE/dy[t])`` for the cotangent ``dE/dS``."""
        _, vjp = jax.vjp(lambda z, y: self.step_stats(z, y, target_t, dt), z_t, y_t)
        return vjp(cotangent)

    def __add__(self, other: Any) -> CompositeLoss:
        return as_loss(self) + other

    def __radd__(self, other: Any) -> CompositeLoss:
        return as_loss(self) if isinstance(other, int) and other == 0 else as_loss(other) + self

    def __mul__(self, factor: float) -> LossTerm:
        require(  # "a" was a bare ValueError of float() (a negative weight is refused below)
            is_finite_number(factor), f"a loss term is scaled by a number, got {factor!r}"
        )
        return dataclasses.replace(self, weight=self.weight * float(factor))

    __rmul__ = __mul__


# ---------------------------------------------------------------------------------- task losses
@dataclass(frozen=True)
class MeanSquaredError(LossTerm):
    """Regression: ``E = 1/2 * mean_{b,t} sum_k (y_k[t] - y*_k[t])^2``.

    ``target`` has the readout's shape (B, T, n_out). The e-prop paper sums over time; the mean
    over time used here keeps learning rates independent of T.
    """

    name: ClassVar[str] = "mse"
    uses_output: ClassVar[bool] = True
    needs_target: ClassVar[bool] = True

    def step_stats(self, z_t, y_t, target_t, dt):
        return 0.5 * jnp.sum((y_t - target_t) ** 2, axis=-1)

    def reduce(self, stats, n_steps, dt):
        return jnp.mean(stats) / n_steps


@dataclass(frozen=True)
class SoftmaxCrossEntropy(LossTerm):
    """Classification: ``E = mean_b sum_t sum_k -w_k[t] log softmax(y[t])_k``.

    ``target`` (B, T, n_out) holds per-step class weights: one-hot rows on the steps that are
    scored and zero rows elsewhere (scale a row by ``1/n_scored`` to average over a decision
    window). With ``w = onehot`` the learning signal is ``softmax(y) - onehot`` (Bellec et al.
    2020, Nat. Commun. 11:3625, Methods).
    """

    name: ClassVar[str] = "xent"
    uses_output: ClassVar[bool] = True
    needs_target: ClassVar[bool] = True
    min_outputs: ClassVar[int] = 2
    weights_steps: ClassVar[bool] = True

    def step_stats(self, z_t, y_t, target_t, dt):
        logp = jax.nn.log_softmax(y_t, axis=-1)
        return -jnp.sum(target_t * logp, axis=-1)

    def reduce(self, stats, n_steps, dt):
        return jnp.mean(stats)


# ---------------------------------------------------------------------------------- rate losses
def _hz(dt: float) -> float:
    return 1000.0 / dt


@dataclass(frozen=True)
class UnitRateTarget(LossTerm):
    """The per-unit target rate of Seitz 2021: ``E = a * mean_j (r_j - r0)^2``.

    ``r_j`` is unit j's rate in Hz over the sequence (mean over batch and time), ``r0`` the
    target in Hz, ``a`` the ``weight``. Learning signal ``dE/dz_j[t] = 2a (r_j - r0) (1000/dt) /
    (n_rec B T)``: the same at every step, known once the sequence is over (two-pass e-prop).
    """

    r0_hz: float = 5.0
    name: ClassVar[str] = "unit_rate"
    online: ClassVar[bool] = False

    def step_stats(self, z_t, y_t, target_t, dt):
        return z_t

    def reduce(self, stats, n_steps, dt):
        r = jnp.mean(stats, axis=0) / n_steps * _hz(dt)
        return jnp.mean((r - self.r0_hz) ** 2)


@dataclass(frozen=True)
class FiringRateRegularizer(LossTerm):
    """The e-prop paper's firing-rate regulariser: ``E = c/2 * sum_j (fbar_j - f*)^2``.

    ``fbar_j`` is unit j's mean rate in Hz over batch and time, ``f*`` the target (Hz), ``c`` the
    ``weight``. Its e-prop gradient is ``c (fbar_j - f*) * mean_{b,t} e_ji[t]`` (x 1000/dt).
    ``per_sequence=True`` takes each sequence's own rates instead of pooling the batch,
    ``E = c/2 * mean_b sum_j (f_bj - f*)^2`` (NEST's e-prop models; the same for batch 1).
    """

    f_target_hz: float = 10.0
    per_sequence: bool = False
    name: ClassVar[str] = "rate_reg"
    online: ClassVar[bool] = False

    def step_stats(self, z_t, y_t, target_t, dt):
        return z_t

    def reduce(self, stats, n_steps, dt):
        if self.per_sequence:
            f = stats / n_steps * _hz(dt)
            return 0.5 * jnp.mean(jnp.sum((f - self.f_target_hz) ** 2, axis=-1))
        f = jnp.mean(stats, axis=0) / n_steps * _hz(dt)
        return 0.5 * jnp.sum((f - self.f_target_hz) ** 2)


@dataclass(frozen=True)
class PopulationRateVariance(LossTerm):
    """The global-rate variance loss of Seitz 2021: ``E = b * mean_b (s - s_r)^2``.

    ``r_t = mean_j z_j[t] * 1000/dt`` is the population rate (Hz) of one batch entry,
    ``mu_r = mean_t r_t`` and ``s = (1/T) sum_t (r_t - mu_r)^2`` its variance over time (Hz^2);
    ``s_r`` is the target variance and ``b`` the ``weight``. Because the variance constrains the
    fluctuations of the population activity, ``s -> 0`` drives the branching parameter toward
    its driven, subcritical value. The learning signal is the push-pull form of Seitz 2021::

        dE/dz_j[t] = 2b (s - s_r) * 2 (r_t - mu_r) / T * (1000/dt) / (n_rec B)

    which raises the rate of units at moments of low population rate and lowers it at moments of
    high rate when ``s > s_r`` (and the opposite when ``s < s_r``).
    """

    s_target: float = 0.0
    name: ClassVar[str] = "rate_variance"
    online: ClassVar[bool] = False

    def step_stats(self, z_t, y_t, target_t, dt):
        r = jnp.mean(z_t, axis=-1) * _hz(dt)
        return (r, r**2)

    def reduce(self, stats, n_steps, dt):
        s1, s2 = stats
        mu = s1 / n_steps
        s = s2 / n_steps - mu**2
        return jnp.mean((s - self.s_target) ** 2)


@dataclass(frozen=True)
class PopulationRateDeviation(LossTerm):
    """The author's code's rate loss: ``E = 1/2 * mean_b sum_t (r_t - r0)^2``.

    ``r_t = mean_j z_j[t] * 1000/dt`` is the population rate (Hz) at step t and ``r0`` the target
    (Hz). Summed over time as in the original; the learning signal
    ``dE/dz_j[t] = (r_t - r0) (1000/dt) / (n_rec B)`` is available at every step (online).
    """

    r0_hz: float = 5.0
    name: ClassVar[str] = "pop_rate_dev"

    def step_stats(self, z_t, y_t, target_t, dt):
        r = jnp.mean(z_t, axis=-1) * _hz(dt)
        return 0.5 * (r - self.r0_hz) ** 2

    def reduce(self, stats, n_steps, dt):
        return jnp.mean(stats)


# ---------------------------------------------------------------------------------- composition
@dataclass(frozen=True)
class CompositeLoss:
    """A weighted sum of loss terms, ``E = sum_i w_i F_i(S_i)`` (hashable, so it can be static
    in ``jit``). Each term's weight is its own ``weight`` field."""

    terms: tuple[LossTerm, ...]

    @property
    def online(self) -> bool:
        return all(t.online for t in self.terms)

    @property
    def uses_output(self) -> bool:
        return any(t.uses_output for t in self.terms)

    @property
    def output_online(self) -> bool:
        """``dE/dy[t]`` is known at every step: every term that reads the readouts is online."""
        return all(t.online for t in self.terms if t.uses_output)

    @property
    def needs_target(self) -> bool:
        return any(t.needs_target for t in self.terms)

    def check_outputs(self, n_out: int, names: list[str] | None = None) -> None:
        """Refuse a network with fewer readouts than a term needs: a softmax over one readout
        is always 1, so its cross-entropy and gradient were 0 whatever the network did.
        ``names``: the terms as the caller wrote them (a config's kinds: ``infomax``, where the
        term's own name is ``infomax_xent_bits``)."""
        for t, name in zip(self.terms, names or [t.name for t in self.terms], strict=True):
            if n_out < t.min_outputs:
                raise InputError(
                    f"the loss term {name!r} needs n_out >= {t.min_outputs} readouts (a "
                    f"softmax over {n_out} is constant); the network has n_out={n_out}"
                )

    def check_online_window(self, window: int | None) -> None:
        """Refuse a variance over windows of one step (``online_window=1``): it is 0 whatever
        the network does, so the term gave no gradient and training went on without a word
        (its logged loss, the whole sequence's, did not move)."""
        for t in self.terms:
            if window == 1 and isinstance(t, PopulationRateVariance):
                raise InputError(
                    f"{t.name} with online_window=1: the variance of one step is 0, so the term "
                    "gives no gradient; use online_window >= 2 (each window's own variance) or "
                    "None (the sequence's)"
                )

    def check_target(self, target: Any) -> None:
        """Refuse a target, (T, B, n_out) time-major or None, that scores no step for a term
        that weights steps by it (one-hot rows): its loss was 0 and its gradient 0, or 0/0 in
        the bottleneck (reported as an exploded gradient); then each term's own
        :meth:`LossTerm.check_batch`."""
        concrete = None if target is None else np.asarray(target)  # (from the device once)
        for t in self.terms:
            if concrete is not None:
                t.check_batch(concrete)
            if not (t.weights_steps and target is not None):
                continue
            if float(jnp.min(target)) < 0:  # [3, -2.9] made the loss unbounded below
                raise InputError(
                    f"the target of the loss term {t.name!r} holds negative class weights "
                    f"(down to {float(jnp.min(target)):g}): give weights >= 0, one-hot rows on "
                    "the scored steps (learning.window_target)"
                )
            if not float(jnp.sum(target)) > 0:
                raise InputError(
                    f"the target scores no step for the loss term {t.name!r} (its weights sum "
                    "to 0): give one-hot rows on the scored steps (learning.window_target)"
                )

    def names(self) -> list[str]:
        """Unique names of the terms (``mse``, ``mse_2``, ... when repeated)."""
        out: list[str] = []
        for t in self.terms:
            n, k = t.name, 2
            while n in out:
                n, k = f"{t.name}_{k}", k + 1
            out.append(n)
        return out

    def step_stats(self, z_t, y_t, target_t, dt):
        return tuple(t.step_stats(z_t, y_t, target_t, dt) for t in self.terms)

    def zero_stats(self, z_t, y_t, target_t, dt):
        shapes = jax.eval_shape(lambda: self.step_stats(z_t, y_t, target_t, dt))
        return jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

    def term_values(self, stats, n_steps: int, dt: float) -> tuple[Array, ...]:
        """Each term's weighted value."""
        pairs = zip(self.terms, stats, strict=True)
        return tuple(t.weight * t.reduce(s, n_steps, dt) for t, s in pairs)

    def total(self, stats, n_steps: int, dt: float) -> Array:
        return sum(self.term_values(stats, n_steps, dt))

    def signal(self, cotangent, z_t, y_t, target_t, dt):
        lz = jnp.zeros_like(z_t)
        ly = jnp.zeros_like(y_t)
        for t, ct in zip(self.terms, cotangent, strict=True):
            a, b = t.signal(ct, z_t, y_t, target_t, dt)
            lz, ly = lz + a, ly + b
        return lz, ly

    def __add__(self, other: Any) -> CompositeLoss:
        return CompositeLoss(self.terms + as_loss(other).terms)

    def __radd__(self, other: Any) -> CompositeLoss:
        if isinstance(other, int) and other == 0:  # sum([...]) starts from 0
            return self
        return CompositeLoss(as_loss(other).terms + self.terms)

    def __mul__(self, factor: float) -> CompositeLoss:
        return CompositeLoss(tuple(t * factor for t in self.terms))

    __rmul__ = __mul__


NAMED = {
    "mse": MeanSquaredError,
    "xent": SoftmaxCrossEntropy,
    "unit_rate": UnitRateTarget,
    "rate_reg": FiringRateRegularizer,
    "rate_variance": PopulationRateVariance,
    "pop_rate_dev": PopulationRateDeviation,
}


#: config kinds (:func:`infodyn.learning.registry.config_kinds`) whose API form is an object
CONFIG_ONLY = {"infomax": "InfoMaxBound()", "total_correlation": "TotalCorrelationPenalty()"}


def as_loss(spec: Any) -> CompositeLoss:
    """Turn ``"mse"``, ``"xent"``, a :class:`LossTerm`, a list of them or a
    :class:`CompositeLoss` into a :class:`CompositeLoss`."""
    if isinstance(spec, CompositeLoss):
        return spec
    if isinstance(spec, LossTerm):
        return CompositeLoss((spec,))
    if isinstance(spec, str):
        if spec in CONFIG_ONLY:  # a config's kind, told "unknown loss" here without a word
            raise InputError(
                f"loss {spec!r} is a kind of a config's [[loss]] tables; in the API pass "
                f"{CONFIG_ONLY[spec]} (infodyn.learning)"
            )
        if spec not in NAMED:
            raise InputError(f"unknown loss {spec!r}; choose from {sorted(NAMED)} or a loss object")
        return CompositeLoss((NAMED[spec](),))
    if isinstance(spec, (list, tuple)) and spec:
        terms: tuple[LossTerm, ...] = ()
        for s in spec:
            terms += as_loss(s).terms
        return CompositeLoss(terms)
    raise InputError(f"loss must be a name, a loss object or a list of them, got {spec!r}")
