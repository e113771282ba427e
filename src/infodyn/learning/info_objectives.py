"""Information objectives as loss terms for e-prop and BPTT (Seitz 2021; Barber & Agakov 2003).

Each objective is a :class:`~infodyn.learning.losses.LossTerm`: per-step statistics summed over
time, then a reduction (see :mod:`infodyn.learning.losses`), so ``gradients(..., method="eprop")``
and ``method="bptt"`` optimise the same number. Each overrides ``signal`` with its learning
signal in closed form (derived below; the tests check it against ``jax.vjp`` and check the
e-prop gradient against BPTT with the gradient through z stopped, where e-prop is exact).
Values are in **bits**. The bound's reduction is linear (one e-prop pass); the other two need
the whole sequence's statistics (``online = False``): e-prop runs a forward pass for the
statistics and a second one with eligibility traces.

Notation: batch entries b = 1..B are trials; ``s_b`` the stimulus of trial b; ``w_bt >= 0`` the
weight of step t (1/n_scored on the scored response window, 0 elsewhere); ``y_bt`` the leaky
readout (n_out units); ``z_bt`` the spikes.

1. :class:`InfoMaxBound`: the Barber-Agakov variational lower bound through a decoder::

       I(S; R) >= H(S) + E[log2 q(S | R)] = H(S) - CE,     q(s | r_bt) = softmax(y_bt)_s

   ``CE = 1/(B ln 2) sum_b sum_t w_bt * -log softmax(y_bt)_{s_b}`` in bits. y_bt is a function of
   the response up to t, so each step's bound holds and so does their average. The loss is CE;
   :func:`stimulus_entropy_bits` gives H(S) to report the bound ``H(S) - CE``. Learning signal
   (readout; e-prop routes it through the feedback matrix and the kappa-filtered traces)::

       dE/dy_bt = w_bt / (B ln 2) * (softmax(y_bt) - onehot(s_b))

   Assumes: n_out = number of stimuli; the decoder family (softmax of the readout) limits the
   bound's tightness. Prefer it when the goal is decodability of a known stimulus set.

2. :class:`TotalCorrelationPenalty`: decorrelation of the population at a fixed mean rate (add a
   rate target: :func:`decorrelation_objective`). At fixed rates the binary marginal entropies
   ``H(r_k)`` are fixed, so maximising ``H(R) = sum_k H(r_k) - TC`` is minimising the total
   correlation TC; at low noise that maximises ``I(X; R) = H(R) - H(R | X)`` (Seitz 2021; Linsker
   1988, Computer 21:105). TC is
   estimated from the pooled covariance C of the spike vectors z_bt (one bin = one step; pooled
   over trials and time, so signal and noise correlations both count)::

       gaussian: TC_G = 1/2 (sum_j log C_jj - log det C) / ln 2      (exact for Gaussian data)
       pairwise: TC_2 = 1/2 sum_{i<j} rho_ij^2 / ln 2                (its small-correlation limit)

   For two binary variables with small correlation rho, ``I = rho^2 / (2 ln 2) + O(rho^3)`` bits,
   and TC = sum of pairwise MI to second order, so TC_2 is the second-order expansion of the
   binary TC; TC_G adds the higher-order linear structure. A ridge ``eps`` on the diagonal keeps
   silent units finite. With ``G = dTC/dC`` (symmetric) the learning signal is::

       dE/dz_bt = (2 / N) G (z_bt - m),    N = B T, m = mean_{b,t} z_bt
       G_gauss = 1/2 (diag(1/C_jj) - C^-1) / ln 2
       G_pair  = [off-diagonal: rho_ij / (2 sqrt(C_ii C_jj));
                  diagonal: -1/2 sum_{j!=i} rho_ij^2 / C_ii] / ln 2

   Prefer it to push a code toward independent units without a stimulus label (unsupervised).

3. :class:`InformationBottleneck`: ``max I(R~; S) - gamma I(R~; R)`` for a stochastic readout
   layer R~ with ``p(r~ = k | r_bt) = softmax(y_bt)_k`` (n_out bottleneck states). Both terms are
   computed exactly for the empirical distribution of the scored samples (b, t), weights w_bt::

       q_k = sum_bt w_bt P_btk / W,  q_k|s = sum_{b: s_b = s} sum_t w_bt P_btk / W_s,  p_s = W_s/W
       I(R~; S) = H(q) - sum_s p_s H(q_.|s)
       I(R~; R) = H(q) - sum_bt w_bt H(P_bt) / W

   Loss ``E = -(I(R~; S) - gamma I(R~; R))`` in bits. By data processing I(R~; S) <= I(R; S), so
   it is a lower bound on the response's information as well. Learning signal (readout)::

       dE/dP_btk = w_bt / W * [-(log2 q_k|s_b - log2 q_k) + gamma (log2 P_btk - log2 q_k)]
       dE/dy_bt = P_bt * (dE/dP_bt - <P_bt, dE/dP_bt>)      (softmax Jacobian)

   The statistics handed to the reduction are per trial, ``A_bk = sum_t w_bt P_btk`` and
   ``h_b = sum_t w_bt H(P_bt)``; their cotangents give the same signal step by step. gamma = 0
   gives a plug-in I(R~; S) maximiser; gamma > 0 compresses (Tishby, Pereira & Bialek 1999).
   Prefer it when a compact readout of the task-relevant part of the response is wanted.

Stimulus labels live in the loss (a tuple, so the loss stays hashable and static under ``jit``)
for the bottleneck; the bound reads them from the one-hot target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from infodyn.errors import (
    InputError,
    class_labels,
    finite_reals,
    is_finite_number,
    real_shape,
    require,
    require_choice,
    require_finite_number,
    whole_number,
)
from infodyn.learning.losses import CompositeLoss, LossTerm, UnitRateTarget, as_loss

Array = Any
LN2 = math.log(2.0)
TINY32 = float(np.finfo(np.float32).tiny)  # the smallest normal float32


# --------------------------------------------------------------------------- helpers


def stimulus_entropy_bits(labels: Any, n_stimuli: int | None = None) -> float:
    """Plug-in entropy H(S) in bits of the stimulus labels of a batch (0 <= H <= log2 K)."""
    lab = class_labels(labels)  # a ragged list was NumPy's "inhomogeneous shape"
    require(lab.size > 0, "labels must not be empty")
    if n_stimuli is not None:  # text, a fraction or an array: raw bincount errors
        n_stimuli = whole_number(n_stimuli, "n_stimuli", minimum=1, maximum=2**31 - 1)
        require(  # label 5 of 2 stimuli was counted as a third one
            int(lab.max()) < n_stimuli,
            f"labels go up to {int(lab.max())} but n_stimuli={n_stimuli} (labels 0..n_stimuli-1)",
        )
    p = np.bincount(lab, minlength=n_stimuli or 0) / lab.size
    p = p[p > 0]
    return float(-np.sum(p * np.log2(p)))


def window_target(
    labels: Any, n_steps: int, n_out: int, start: int, stop: int | None = None
) -> np.ndarray:
    """The (B, n_steps, n_out) target of :class:`InfoMaxBound` (and the weights of
    :class:`InformationBottleneck`): ``onehot(s_b) / n_scored`` on steps ``start..stop-1``.

    For the bottleneck, whose n_out need not equal the number of stimuli, pass any labels
    below n_out that follow its own (zeros, ``labels % n_out``): it reads only the per-step
    weight ``sum_k target_btk``, and refuses trials of one label in different columns.
    """
    lab = class_labels(labels)
    n_steps = whole_number(n_steps, "n_steps", minimum=1)  # True was one step, 2.5 two
    n_out = whole_number(n_out, "n_out", minimum=1)
    start = whole_number(start, "start")
    stop = n_steps if stop is None else whole_number(stop, "stop")
    require(
        0 <= start < stop <= n_steps,
        f"need 0 <= start < stop <= n_steps, got start={start}, stop={stop}, n_steps={n_steps}",
    )
    require(bool(np.all((lab >= 0) & (lab < n_out))), f"labels must be in [0, {n_out})")
    tgt = np.zeros((lab.size, n_steps, n_out))
    tgt[:, start:stop, :] = np.eye(n_out)[lab][:, None, :] / (stop - start)
    return tgt


def _entropy_bits(p: Array, axis: int = -1) -> Array:
    return -jnp.sum(jnp.where(p > 0, p * jnp.log2(jnp.where(p > 0, p, 1.0)), 0.0), axis=axis)


# --------------------------------------------------------------------------- 1. infomax bound


@dataclass(frozen=True)
class InfoMaxBound(LossTerm):
    """Variational lower bound on I(S; R): the loss is the decoder cross-entropy in bits
    (module docstring, 1). ``target``: :func:`window_target` (one-hot stimulus rows weighted by
    1/n_scored on the response window). Report ``bound_bits(value, labels)``."""

    name: ClassVar[str] = "infomax_xent_bits"
    online: ClassVar[bool] = True  # the reduction is linear: the signal is known at every step
    uses_output: ClassVar[bool] = True
    needs_target: ClassVar[bool] = True
    min_outputs: ClassVar[int] = 2
    weights_steps: ClassVar[bool] = True

    def step_stats(self, z_t, y_t, target_t, dt):
        logp = jax.nn.log_softmax(y_t, axis=-1)
        return -jnp.sum(target_t * logp, axis=-1) / LN2

    def reduce(self, stats, n_steps, dt):
        return jnp.mean(stats)

    def signal(self, cotangent, z_t, y_t, target_t, dt):
        # cotangent = dE/dstats_b = 1/B (weight applied by the composite); see the docstring
        p = jax.nn.softmax(y_t, axis=-1)
        w = jnp.sum(target_t, axis=-1, keepdims=True)
        ly = cotangent[:, None] * (w * p - target_t) / LN2
        return jnp.zeros_like(z_t), ly

    @staticmethod
    def bound_bits(cross_entropy_bits: float, labels: Any) -> float:
        """The lower bound ``H(S) - CE`` in bits (H(S) of the batch's labels)."""
        require_finite_number("cross_entropy_bits", cross_entropy_bits)  # "x": raw ValueError
        return stimulus_entropy_bits(labels) - float(cross_entropy_bits)


# --------------------------------------------------------------------------- 2. total correlation


def _tc_and_grad_from_cov(c: Array, estimator: str) -> tuple[Array, Array]:
    """TC (bits) of a covariance matrix and its gradient G = dTC/dC (symmetric)."""
    d = jnp.diag(c)
    if estimator == "gaussian":
        sign, logdet = jnp.linalg.slogdet(c)
        tc = 0.5 * (jnp.sum(jnp.log(d)) - logdet) / LN2
        g = 0.5 * (jnp.diag(1.0 / d) - jnp.linalg.inv(c)) / LN2
        return tc, 0.5 * (g + g.T)
    s = jnp.sqrt(d)
    rho = c / (s[:, None] * s[None, :])
    off = 1.0 - jnp.eye(c.shape[0], dtype=c.dtype)
    rho_off = rho * off
    tc = 0.25 * jnp.sum(rho_off**2) / LN2
    g_off = rho_off / (2.0 * s[:, None] * s[None, :])
    g_diag = -0.5 * jnp.sum(rho_off**2, axis=1) / d
    return tc, (g_off + jnp.diag(g_diag)) / LN2


def _pooled_cov(stats, n_steps: int, eps: float) -> tuple[Array, Array, Array]:
    s1, s2 = stats  # (B, n), (B, n, n)
    n_samples = s1.shape[0] * n_steps
    m = jnp.sum(s1, axis=0) / n_samples
    c = jnp.sum(s2, axis=0) / n_samples - jnp.outer(m, m)
    c = c + eps * jnp.eye(c.shape[0], dtype=c.dtype)
    return c, m, n_samples


@dataclass(frozen=True)
class TotalCorrelationPenalty(LossTerm):
    """Total correlation of the population's spike vectors (bits; module docstring, 2).

    ``estimator``: "gaussian" (log-determinant) or "pairwise" (sum of squared correlations);
    ``eps``: ridge added to the covariance diagonal (in spikes^2 per step^2). Combine with a rate
    target (:func:`decorrelation_objective`) to decorrelate at a fixed mean rate.
    """

    estimator: str = "gaussian"
    eps: float = 1e-4
    name: ClassVar[str] = "total_correlation_bits"
    online: ClassVar[bool] = False

    def __post_init__(self) -> None:
        super().__post_init__()
        require_choice("estimator", self.estimator, ("gaussian", "pairwise"))
        require(  # 1e-300 is 0 in float32: a silent unit's variance 0, reported as exploded
            self.eps >= TINY32,
            f"eps must be >= {TINY32:.3g} (float32's smallest normal; it keeps silent units "
            f"finite), got {self.eps!r}",
        )

    def step_stats(self, z_t, y_t, target_t, dt):
        return (z_t, z_t[:, :, None] * z_t[:, None, :])

    def reduce(self, stats, n_steps, dt):
        c, _, _ = _pooled_cov(stats, n_steps, self.eps)
        return _tc_and_grad_from_cov(c, self.estimator)[0]

    def signal(self, cotangent, z_t, y_t, target_t, dt):
        # dE/dz_bt = cot1_b + (cot2_b + cot2_b^T) z_bt; with cot2 = G/N and cot1 = -2 G m / N
        # this is the closed form (2/N) G (z_bt - m) of the module docstring.
        c1, c2 = cotangent
        lz = c1 + jnp.einsum("bij,bj->bi", c2 + jnp.swapaxes(c2, 1, 2), z_t)
        return lz, jnp.zeros_like(y_t)

    def value_and_grad_cov(self, z: Any) -> tuple[float, np.ndarray]:
        """TC (bits) of spikes ``z`` (B, T, n) and ``dTC/dC``: a direct check of the reduction."""
        zz = jnp.asarray(finite_reals(z, "z"))  # NaN spikes gave (nan, nan), text a JAX error
        require(
            zz.ndim == 3 and zz.size > 0,  # an empty batch gave (nan, nan)
            f"z must be spikes (B, T, n) of at least one step, got shape {zz.shape}",
        )
        stats = (jnp.sum(zz, axis=1), jnp.einsum("bti,btj->bij", zz, zz))
        c, _, _ = _pooled_cov(stats, zz.shape[1], self.eps)
        tc, g = _tc_and_grad_from_cov(c, self.estimator)
        return float(tc), np.asarray(g)


def decorrelation_objective(
    tc_weight: float = 1.0,
    r0_hz: float = 10.0,
    rate_weight: float = 1e-3,
    estimator: str = "gaussian",
    eps: float = 1e-4,
) -> CompositeLoss:
    """Decorrelation near a mean rate: ``tc_weight * TC + rate_weight * mean_j (r_j - r0)^2``
    (:class:`TotalCorrelationPenalty` plus the per-unit rate target of Seitz 2021).

    The rate term is a soft penalty, not a constraint: TC falls as units fall silent, and a
    silent network costs only ``rate_weight * r0^2`` (0.1 at the defaults), below the TC of
    most networks at r0. So the rates drift down (a 16-unit LIF from 44 Hz to about 1 Hz in 80
    Adam steps; with ``rate_weight`` 1e-2 or 1e-1 still to 2-6 Hz), and TC then falls partly
    through the marginal entropies, which ``max H(R) = min TC`` assumes fixed. Check the rates
    after training; start near r0 with a small learning rate, and raise ``rate_weight`` until
    ``rate_weight * r0^2`` clearly exceeds the TC (bits) the network starts with."""
    return as_loss(
        [
            TotalCorrelationPenalty(weight=tc_weight, estimator=estimator, eps=eps),
            UnitRateTarget(weight=rate_weight, r0_hz=r0_hz),
        ]
    )


# --------------------------------------------------------------------------- 3. bottleneck


@dataclass(frozen=True)
class InformationBottleneck(LossTerm):
    """``E = -(I(R~; S) - gamma I(R~; R))`` in bits for a softmax readout layer (module
    docstring, 3). ``labels``: the stimulus of each trial (batch entry), a tuple of ints;
    ``target``: per-step weights, read as ``sum_k target_btk`` (:func:`window_target`)."""

    labels: tuple[int, ...] = ()
    gamma: float = 0.1
    name: ClassVar[str] = "bottleneck_bits"
    online: ClassVar[bool] = False
    uses_output: ClassVar[bool] = True
    needs_target: ClassVar[bool] = True
    min_outputs: ClassVar[int] = 2
    weights_steps: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        labels = class_labels(self.labels)  # None: "has no len()"
        require(labels.size > 0, "InformationBottleneck needs the stimulus labels of the batch")
        require(self.gamma >= 0, f"gamma must be >= 0, got {self.gamma}")
        object.__setattr__(self, "labels", tuple(int(s) for s in labels))

    def check_batch(self, target: np.ndarray) -> None:
        """The labels are fixed when the loss is made: refuse a batch whose one-hot target
        rows (:func:`window_target`) put trials of one label in different columns, so that
        they cannot name the same stimulus. A task that draws new labels each batch
        (``PatchTask``) trained on labels unrelated to its stimuli, unsaid. Columns that are
        any function of the labels (zeros, ``labels % n_out``) are weights, as documented."""
        totals = target.sum(axis=0)  # (B, n_out)
        if totals.shape[0] != len(self.labels) or np.any(np.count_nonzero(totals, axis=1) != 1):
            return  # not one class a trial: weights only (the batch size is checked later)
        columns: dict[int, set[int]] = {}
        for label, col in zip(self.labels, totals.argmax(axis=1).tolist(), strict=True):
            columns.setdefault(label, set()).add(col)
        split = {label: sorted(c) for label, c in columns.items() if len(c) > 1}
        if split:
            label, cols = next(iter(split.items()))
            raise InputError(
                f"the batch's one-hot targets put trials of one bottleneck label in different "
                f"columns (label {label}: columns {cols}; {len(split)} label(s) so split): "
                "InformationBottleneck's labels are fixed when it is made, so the task must "
                "show the same stimuli in every batch (StimulusTrials, labels="
                "tuple(task.labels)); a task that draws labels each batch (PatchTask) does not"
            )

    def _onehot(self, dtype) -> Array:
        lab = np.asarray(self.labels)
        return jnp.asarray(np.eye(int(lab.max()) + 1)[lab], dtype)  # (B, K)

    def step_stats(self, z_t, y_t, target_t, dt):
        w = jnp.sum(target_t, axis=-1)  # (B,)
        p = jax.nn.softmax(y_t, axis=-1)
        return (w[:, None] * p, w * _entropy_bits(p), w)

    def terms(self, stats) -> tuple[Array, Array]:
        """``(I(R~; S), I(R~; R))`` in bits from the statistics."""
        a, h, w = stats  # (B, K~), (B,), (B,)
        require(
            a.shape[0] == len(self.labels),
            f"the loss has {len(self.labels)} labels but the batch has {a.shape[0]} trials",
        )
        onehot = self._onehot(a.dtype)  # (B, S)
        # no scored step (an online window before the response window): both terms 0, no
        # gradient (0/0 was NaN, reported as an exploded gradient)
        total = jnp.where(jnp.sum(w) > 0, jnp.sum(w), 1.0)
        q = jnp.sum(a, axis=0) / total
        a_s = onehot.T @ a  # (S, K~)
        w_s = onehot.T @ w  # (S,)
        live = w_s > 0
        q_s = a_s / jnp.where(live, w_s, 1.0)[:, None]
        h_cond_s = jnp.sum(jnp.where(live, w_s * _entropy_bits(q_s), 0.0)) / total
        h_q = _entropy_bits(q)
        return h_q - h_cond_s, h_q - jnp.sum(h) / total

    def reduce(self, stats, n_steps, dt):
        i_s, i_r = self.terms(stats)
        return -(i_s - self.gamma * i_r)

    def signal(self, cotangent, z_t, y_t, target_t, dt):
        # dE/dP_btk = w_bt (ca_bk + ch_b dH(P_bt)/dP_btk), dH/dP_k = -(log2 P_k + 1/ln 2)
        ca, ch, _ = cotangent
        w = jnp.sum(target_t, axis=-1)[:, None]
        p = jax.nn.softmax(y_t, axis=-1)
        log2p = jnp.log2(jnp.maximum(p, jnp.finfo(p.dtype).tiny))
        dp = w * (ca - ch[:, None] * (log2p + 1.0 / LN2))
        ly = p * (dp - jnp.sum(p * dp, axis=-1, keepdims=True))
        return jnp.zeros_like(z_t), ly


def objective_learning_signals(loss: Any, z: Any, y: Any, target: Any, dt: float = 1.0):
    """The full learning signals ``(dE/dz, dE/dy)`` ((B, T, n_rec), (B, T, n_out)) of a loss for
    a recorded trajectory: the cotangent of the reduction at the sequence's statistics, pushed
    through each step's ``signal``. Useful to inspect what e-prop feeds back (and in tests)."""
    lossc = as_loss(loss)
    lz, ly = _signals(lossc, _dt(dt), *_time_major(lossc, z, y, target))
    return jnp.swapaxes(lz, 0, 1), jnp.swapaxes(ly, 0, 1)


def sequence_statistics(loss: Any, z: Any, y: Any, target: Any, dt: float = 1.0):
    """The loss statistics ``S = sum_t step_stats(z[t], y[t], target[t])`` of a recorded
    trajectory ((B, T, .) arrays); ``as_loss(loss).total(S, T, dt)`` is the loss value."""
    lossc = as_loss(loss)
    return _stats(lossc, _dt(dt), *_time_major(lossc, z, y, target))


def _dt(dt: Any) -> float:
    """The step in ms, a finite number > 0 (NaN, -1, 0, "3" and True were taken)."""
    require(is_finite_number(dt) and dt > 0, f"dt must be a finite number > 0 (ms), got {dt!r}")
    return float(dt)


def _time_major(lossc: CompositeLoss, z: Any, y: Any, target: Any) -> tuple[Array, ...]:
    """``z``, ``y``, ``target`` (B, T, .) as (T, B, .); a missing target is refused when a term
    needs one (it was read as zeros: a cross-entropy of 0, a NaN signal), else zeros."""
    require(
        target is not None or not lossc.needs_target, f"the loss {lossc.names()} needs a target"
    )
    arrays = {"z": z, "y": y} if target is None else {"z": z, "y": y, "target": target}
    shapes, widths = {}, {}
    for name, value in arrays.items():  # None, text, a ragged or 2-D list: raw JAX errors
        shape = real_shape(value, name)
        require(len(shape) == 3, f"{name} must be a (B, T, n) array, got shape {shape}")
        shapes[name], widths[name] = shape[:2], shape[2]
    require(
        len(set(shapes.values())) == 1 and min(min(s) for s in shapes.values()) > 0,
        f"z, y and target must have the same (B, T) >= 1, got {shapes}",
    )
    require(  # a raw JAX "mul got incompatible shapes"
        widths.get("target", widths["y"]) == widths["y"],
        f"target must have y's width (n_out = {widths['y']}), got {widths.get('target')}",
    )
    zt, yt = (jnp.swapaxes(jnp.asarray(arrays[k]), 0, 1) for k in ("z", "y"))
    if target is None:  # terms without a target ignore it; vmap needs an array
        return zt, yt, jnp.zeros((*zt.shape[:2], 1), zt.dtype)
    return zt, yt, jnp.swapaxes(jnp.asarray(arrays["target"]), 0, 1)


@partial(jax.jit, static_argnums=(0, 1))
def _stats(lossc: CompositeLoss, dt: float, zt, yt, tt):
    per = jax.vmap(lambda a, b, c: lossc.step_stats(a, b, c, dt))(zt, yt, tt)
    return jax.tree_util.tree_map(lambda s: jnp.sum(s, axis=0), per)


@partial(jax.jit, static_argnums=(0, 1))
def _signals(lossc: CompositeLoss, dt: float, zt, yt, tt):
    n_steps = zt.shape[0]
    stats = _stats(lossc, dt, zt, yt, tt)
    cot = jax.grad(lambda s: lossc.total(s, n_steps, dt))(stats)
    return jax.vmap(lambda a, b, c: lossc.signal(cot, a, b, c, dt))(zt, yt, tt)
