"""``gradients``: one entry point over e-prop and BPTT.

::

    g = idn.learning.gradients(net, params, x, target, loss, method="eprop", feedback="symmetric")

returns a dict with the keys of ``params`` (``w_in``, ``w_rec``, ``w_out``). The gradient of
``w_rec`` is masked to the network's structure: zero diagonal (no autapses) and, when given, the
connectivity ``mask``. :func:`evaluate` returns the same gradients with the loss, each term's
value and the population activity, which the trainer logs.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np

from infodyn.errors import (
    InputError,
    as_array,
    is_finite_number,
    make_rng,
    require,
    require_choice,
    require_finite,
    require_flag,
    whole_number,
)
from infodyn.learning.bptt import (
    bptt_window,
    remat_chunk_of,
    require_bptt_memory,
    sparse_synapses,
)
from infodyn.learning.eprop import eprop_window, zero_carry
from infodyn.learning.losses import as_loss
from infodyn.learning.synapse_ops import values_of
from infodyn.learning.train_options import KEYS
from infodyn.network.connectivity import checked_mask
from infodyn.network.dynamics import Constants
from infodyn.network.engine_jax import check_float32_network, check_float32_range, ensure_dtype
from infodyn.network.event_current import ByEvent, by_event
from infodyn.network.run_inputs import check_input, require_network
from infodyn.network.sparse import constrain_sparse, is_sparse, to_jax

Array = Any

METHODS = ("eprop", "bptt", "bptt_stopgrad")
FEEDBACK = ("symmetric", "random", "adaptive")
RESETS = ("through", "detach")


def explosion_message(method: str, reset: str, norm: float, threshold: float) -> str:
    """What exploded and what may help, for this ``method`` and ``reset`` (e-prop was told to
    "train with method='eprop'" and "use reset='through'", which it did already)."""
    size = "is not finite" if not np.isfinite(norm) else f"norm {norm:.3g} > {threshold:.3g}"
    advice = ["lower the learning rate or the recurrent weights"]
    if method != "eprop":
        advice.append("shorten the sequence")
        if reset != "through":
            advice.append("use reset='through'")
        advice.append("train with method='eprop'")
    if len(advice) > 1:
        advice[-1] = f"or {advice[-1]}"
    scale = (  # a large loss has a large gradient without diverging (a rate variance is in
        # Hz^2: 8 units at 140 Hz passed 1e8 at their first step)
        f"; if the loss itself is that large, lower its terms' weights or raise "
        f"explode_threshold ({threshold:.3g})"
        if np.isfinite(norm)
        else ""
    )
    return f"{method} gradient exploded ({size}); {', '.join(advice)}{scale}"


class GradientExplosionError(InputError):
    """The gradient is not finite or its norm exceeds the explosion threshold.

    Raised by :meth:`~infodyn.learning.trainer.Trainer.fit` with ``out``, it names the run's
    last checkpoint: ``checkpoint`` (its path) and ``checkpoint_iteration`` (the iterations
    it holds), None when the run wrote none; ``reason`` is then the message without them."""

    reason: str = ""
    checkpoint: Path | None = None
    checkpoint_iteration: int | None = None

    @classmethod
    def at_checkpoint(
        cls, reason: str, path: Path, iteration: int, how: str
    ) -> GradientExplosionError:
        """The error ``reason``, naming the run's last checkpoint and ``how`` to continue from
        it (it named none: a run that exploded after hours read as lost)."""
        err = cls(
            f"{reason}; the run's last checkpoint, of {iteration} iteration(s), is {path}: {how}"
        )
        err.reason, err.checkpoint, err.checkpoint_iteration = reason, path, iteration
        return err


@dataclass
class Evaluation:
    """Loss value, per-term values, gradients and population activity of one sequence batch."""

    loss: float
    terms: dict[str, float]
    grads: dict[str, Array]
    activity: np.ndarray  # (B, T) population spike counts per step
    y: np.ndarray  # (B, T, n_out) readouts
    grad_norm: float


def random_feedback(n_rec: int, n_out: int, seed: int = 0, dtype=np.float64) -> np.ndarray:
    """A fixed Gaussian feedback matrix B (n_rec, n_out) with entries N(0, 1/n_rec)."""
    n_rec = whole_number(n_rec, "n_rec", minimum=1)  # -1, 2.5 and NaN were raw NumPy errors
    n_out = whole_number(n_out, "n_out")  # 0: a network without readout (rate losses)
    rng = make_rng(seed)
    try:  # "3" was NumPy's "data type not understood"; None and "a" were taken
        ok = dtype is not None and np.dtype(dtype) in (np.float32, np.float64)
    except TypeError:
        ok = False
    require(ok, f"dtype must be float32 or float64, got {dtype!r}")
    return (rng.standard_normal((n_rec, n_out)) / np.sqrt(n_rec)).astype(dtype)


def _prepare(net, params, x, target, precision):
    dtype = ensure_dtype(precision)
    require_network(net)
    net.validate_params(params)
    xb, batched = check_input(net, x)
    tgt = None
    if target is not None:
        raw = as_array(target, "target")
        if raw.dtype.kind not in "biuf":  # complex lost its imaginary part, text a raw error
            raise InputError(f"target must hold real numbers, got dtype {raw.dtype}")
        t = raw.astype(np.float64)
        if t.ndim == 2 and not batched:
            t = t[None]
        require(
            t.ndim == 3 and t.shape[:2] == xb.shape[:2] and t.shape[2] == net.n_out,
            f"target must have shape {(xb.shape[0], xb.shape[1], net.n_out)} (batch, steps, "
            f"n_out) to match x, got {t.shape}",
        )

        require_finite("target", t)
        if dtype == jnp.float32:
            check_float32_range("target", t)
        tgt = jnp.asarray(np.swapaxes(t, 0, 1), dtype)
    if dtype == jnp.float32:  # inf in float32 was "the gradient exploded, lower the rate"
        check_float32_network(net, params)
        check_float32_range("x", xb)
    p = {k: to_jax(params[k], dtype) for k in ("w_in", "w_rec", "w_out")}
    xt = jnp.asarray(np.swapaxes(xb, 0, 1), dtype)
    return dtype, p, xt, tgt


def _feedback_matrix(net, params, feedback, feedback_matrix, feedback_seed, dtype):
    require_choice("feedback", feedback, FEEDBACK)
    if feedback == "symmetric":
        require(feedback_matrix is None, "feedback_matrix is only used with random/adaptive")
        return params["w_out"]
    if feedback_matrix is None:
        feedback_matrix = random_feedback(net.n_rec, net.n_out, feedback_seed)
    fb = np.asarray(feedback_matrix, dtype=np.float64)
    require(
        fb.shape == (net.n_rec, net.n_out),
        f"feedback_matrix must have shape {(net.n_rec, net.n_out)}, got {fb.shape}",
    )
    require_finite("feedback_matrix", fb)  # NaN read as "the gradient exploded"
    return jnp.asarray(fb, dtype)


def sparse_layout(params: dict[str, Any]) -> tuple[Any, Any]:
    """The layouts e-prop's forward passes use for ``w_rec`` and ``w_in``: for sparse weights
    their :func:`~infodyn.network.event_current.by_event` plan (the rows of the non-zero
    entries added event by event on a CPU, bitwise the gather path's sums), None for dense ones.
    Made outside ``jit`` from the concrete patterns; valid while the patterns are (training
    changes values only)."""
    return tuple(by_event(params[k]) if is_sparse(params[k]) else None for k in ("w_rec", "w_in"))


def checked_layout(params: dict[str, Any], layout: Any) -> tuple[Any, Any]:
    """``layout`` as :func:`evaluate` takes it: ``"auto"`` (made here by :func:`sparse_layout`),
    None (no event-driven forward pass), or the pair :func:`sparse_layout` returned, checked
    against ``params``: a plan made for another sparsity pattern would add the wrong rows (a
    wrong loss and gradient, silently, when the synapse counts agree), so its index arrays
    must equal the weights' (an O(nnz) comparison, small beside a forward pass)."""
    if layout is None:
        return (None, None)
    if isinstance(layout, str):
        require(
            layout == "auto",
            f"layout must be 'auto', None or sparse_layout(params), got {layout!r}",
        )
        return sparse_layout(params)
    require(
        isinstance(layout, tuple) and len(layout) == 2,
        "layout must be the (w_rec, w_in) pair sparse_layout(params) returns, got "
        f"{type(layout).__name__}",
    )
    for key, plan in zip(("w_rec", "w_in"), layout, strict=True):
        if plan is None:
            continue
        w = params[key]
        require(
            isinstance(plan, ByEvent),
            f"layout of {key} must be a ByEvent plan or None, got {type(plan).__name__}",
        )
        require(
            is_sparse(w)
            and all(
                np.shape(a) == np.shape(b) and np.array_equal(np.asarray(a), np.asarray(b))
                for a, b in ((plan.indices, w.indices), (plan.indptr, w.indptr))
            ),
            f"layout of {key} was made for another sparsity pattern than params[{key!r}]; "
            "make it with sparse_layout(params)",
        )
    return layout


def evaluate(
    net,
    params: dict[str, Array],
    x: Array,
    target: Array | None,
    loss: Any,
    method: str = "eprop",
    feedback: str = "symmetric",
    feedback_matrix: Array | None = None,
    feedback_seed: int = 0,
    reset: str = "through",
    filter_readout: bool = True,
    mask: Array | None = None,
    precision: str = "float32",
    explode_threshold: float = 1e8,
    remat: bool = True,
    layout: Any = "auto",
    trained: tuple[str, ...] | None = None,
) -> Evaluation:
    """Loss, per-term values, gradients and activity; see :func:`gradients` for the arguments.
    ``trained``: the weights that will be updated (default all); ``grad_norm`` and the explosion
    check are theirs (a reservoir trained on ``w_out`` alone is not stopped by ``w_rec``'s).
    ``layout`` (e-prop): the layouts of sparse ``w_rec`` and ``w_in``, the pair
    :func:`sparse_layout` returns (checked against ``params``: :func:`checked_layout`);
    ``"auto"``: made here, O(nnz log nnz) on the host (callers that evaluate one pattern many
    times pass it); None: no event-driven forward pass (the gather path)."""
    require_network(net)  # None was an AttributeError on net.n_out below
    filter_readout = require_flag("filter_readout", filter_readout)
    remat = require_flag("remat", remat)
    require_choice("method", method, METHODS)
    require_choice("reset", reset, RESETS)
    require(  # "a" or {} was ignored: the norm and explosion check of every weight
        trained is None
        or (
            not isinstance(trained, str)
            and isinstance(trained, tuple | list)
            and all(k in KEYS for k in trained)
        ),
        f"trained must be a list of weight names from {KEYS}, got {trained!r}",
    )
    require(  # inf turns the check off; NaN, 0, -1 and text counted every gradient exploded
        (is_finite_number(explode_threshold) or explode_threshold == np.inf)
        and explode_threshold > 0,
        f"explode_threshold must be a number > 0 (inf: no check), got {explode_threshold!r}",
    )
    lossc = as_loss(loss)
    require(
        target is not None or not lossc.needs_target,
        f"the loss {lossc.names()} needs a target",
    )
    require(
        net.n_out > 0 or not lossc.uses_output,
        "the loss uses readouts but the network has n_out=0",
    )
    lossc.check_outputs(net.n_out)
    require(  # e-prop's traces have no reset term to detach: the option did nothing
        reset == "through" or method != "eprop",
        "reset='detach' is a BPTT option (e-prop never differentiates through the reset)",
    )
    require(  # BPTT took them and returned the true gradient as if they were not there
        method == "eprop" or (feedback == "symmetric" and feedback_matrix is None),
        f"feedback={feedback!r} and feedback_matrix are e-prop's; method={method!r} uses the "
        "true gradient",
    )
    dtype, p, xt, tgt = _prepare(net, params, x, target, precision)
    lossc.check_target(tgt)
    mask = checked_mask(net, p["w_rec"], mask)
    beta = jnp.asarray(net.beta_vector(), dtype)
    c = Constants.of(net)
    n_steps, batch = xt.shape[0], xt.shape[1]
    if method == "eprop":
        fb = _feedback_matrix(net, p, feedback, feedback_matrix, feedback_seed, dtype)
        n_adaptive = net.n_adaptive  # the last n_adaptive units (0: LIF)
        # one window = the whole sequence: the readout filter looks ahead (no filtered traces)
        carry = zero_carry(
            batch, net.n_in, net.n_rec, net.n_out, dtype, n_adaptive, False, p["w_rec"], p["w_in"],
            n_steps,
        )  # fmt: skip
        layout = checked_layout(p, layout)
        grads, stats, activity, y, _ = eprop_window(
            c,
            lossc,
            net.dt,
            n_adaptive,
            filter_readout,
            not lossc.online,
            p,
            beta,
            fb,
            carry,
            xt,
            tgt,
            lookahead=True,
            layout=layout,
        )
    else:
        detach_rec = method == "bptt_stopgrad"
        detach_reset = detach_rec or reset == "detach"
        chunk = remat_chunk_of(n_steps) if remat else 0
        require_bptt_memory(batch, n_steps, chunk, sparse_synapses(p), dtype)
        grads, stats, activity, y = bptt_window(
            c, lossc, net.dt, detach_rec, detach_reset, p, beta, xt, tgt, chunk
        )
    grads = mask_gradients(net, grads, mask)
    values = lossc.term_values(stats, n_steps, net.dt)
    total = float(sum(values))
    norm = grad_norm(grads, trained)
    if not np.isfinite(norm) or norm > explode_threshold:
        raise GradientExplosionError(explosion_message(method, reset, norm, explode_threshold))
    return Evaluation(
        loss=total,
        terms={n: float(v) for n, v in zip(lossc.names(), values, strict=True)},
        grads=grads,
        activity=np.asarray(activity).T,
        y=np.swapaxes(np.asarray(y), 0, 1),
        grad_norm=norm,
    )


def grad_norm(grads: dict[str, Any], keys: tuple[str, ...] | None = None) -> float:
    """Global L2 norm of the gradients of ``keys`` (default all; of the stored synapses only,
    for sparse weights)."""
    kept = [g for k, g in grads.items() if keys is None or k in keys]
    return float(jnp.sqrt(sum(jnp.sum(values_of(g) ** 2) for g in kept)))


def mask_gradients(net, grads: dict[str, Array], mask: Array | None = None) -> dict[str, Array]:
    """Zero the gradient of absent synapses: the diagonal of ``w_rec`` and, if given, ``mask``.

    For sparse ``w_rec`` the pattern is the mask (absent synapses have no gradient); only
    autapses in the pattern are zeroed and ``mask``, if given, is per synapse (length nnz),
    0 or 1 (:func:`~infodyn.network.connectivity.checked_mask`: a mask of NaN made every
    gradient NaN, ``-1`` reversed them)."""
    require_network(net)
    require(
        isinstance(grads, dict) and "w_rec" in grads,
        f"grads must be a dict of gradients with 'w_rec', got {type(grads).__name__}",
    )
    mask = checked_mask(net, grads["w_rec"], mask)  # not scanned again when checked before
    if is_sparse(grads["w_rec"]):
        return {**grads, "w_rec": constrain_sparse(grads["w_rec"], None, mask)}
    g = grads["w_rec"] * (1.0 - jnp.eye(net.n_rec, dtype=grads["w_rec"].dtype))
    if mask is not None:
        g = g * jnp.asarray(mask, g.dtype)
    return {**grads, "w_rec": g}


def gradients(
    net,
    params: dict[str, Array],
    x: Array,
    target: Array | None,
    loss: Any = "mse",
    method: str = "eprop",
    feedback: str = "symmetric",
    **options: Any,
) -> dict[str, Array]:
    """Gradients of ``loss`` for ``params`` on input ``x`` ((T, n_in) or (B, T, n_in)).

    Arguments:

    - ``target``: (T, n_out) or (B, T, n_out) (None for losses that need none).
    - ``loss``: ``"mse"``, ``"xent"``, a loss term or a sum of terms (:mod:`.losses`).
    - ``method``: ``"eprop"`` (forward-only eligibility traces; memory constant in T),
      ``"bptt"`` (exact surrogate gradient), ``"bptt_stopgrad"`` (BPTT with the gradient
      through z stopped in the recurrent input and the reset: what e-prop computes exactly).
    - ``feedback`` (e-prop): ``"symmetric"`` (B = W_out), ``"random"`` or ``"adaptive"``
      (``feedback_matrix=`` B of shape (n_rec, n_out), default a fixed Gaussian drawn with
      ``feedback_seed``; the trainer updates an adaptive B like W_out).
    - ``reset`` (BPTT): ``"through"`` (default) or ``"detach"`` (see :mod:`.bptt`).
    - ``filter_readout`` (e-prop, default True): the readout's kappa filter enters exactly; the
      sequence is one window, so the readout error is recorded by a first forward pass and
      filtered backwards (no per-synapse filtered traces; see :func:`.eprop.eprop_window`).
      False applies the readout signal to the unfiltered trace (not exact; saves that pass).
    - ``mask``: connectivity mask (n_rec, n_rec) for the ``w_rec`` gradient (sparse ``w_rec``:
      none needed, the pattern is the mask; a per-synapse mask of length nnz may be given).
    - ``precision``: ``"float32"`` (default) or ``"float64"``.
    - ``explode_threshold``: raise :class:`GradientExplosionError` above this norm (1e8).
    - ``remat`` (BPTT, default True): recompute the forward pass in chunks of ceil(sqrt(T))
      steps during the backward pass, so memory grows like sqrt(T) (see :mod:`.bptt`).

    Returns a dict of JAX arrays with the keys ``w_in``, ``w_rec``, ``w_out``. When
    ``params["w_rec"]`` is a :class:`~infodyn.network.sparse.SparseWeights`, ``w_rec``'s gradient
    is a ``SparseWeights`` of the same pattern whose values are the gradients of the stored
    synapses (e-prop forms the per-synapse products at those synapses only; memory O(nnz)).
    """
    unknown = sorted(set(options) - set(inspect.signature(evaluate).parameters))
    if unknown:  # was "evaluate() got an unexpected keyword argument", a function not called
        raise TypeError(
            f"gradients() got unexpected keyword arguments {unknown} (its options are those "
            "listed in its docstring; a learning rate is the optimizer's: TrainOptions(lr=...))"
        )
    return evaluate(net, params, x, target, loss, method=method, feedback=feedback, **options).grads
