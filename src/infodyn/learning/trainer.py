"""Training loop: optax optimisers, clipping, constraints, checkpoints with resume, metrics.

::

    trainer = Trainer(net, task, loss, TrainOptions(method="eprop", optimizer="adam", lr=5e-3))
    history = trainer.fit(n_iterations=500, out="runs/x", progress=True)

Each iteration draws a batch from the task (seeded by ``(seed, iteration)``, so a resumed run
sees the same batches), computes gradients with :func:`infodyn.learning.evaluate` (or, with
``online_window=K``, e-prop updates every K steps while the state and eligibility traces run on
through the sequence), clips the global gradient norm, applies the optax update and projects the
weights back onto the network's constraints (zero diagonal, connectivity mask, Dale's law) with
``net.constrain``. Adaptive feedback (Kolen-Pollack) gives B the same update as W_out and decays
both by ``feedback_decay``, so B converges to W_out.

Metrics per iteration: the loss and each term, the mean rate (Hz), the gradient norm, the
task's own metrics (for example the error rate) and those of the ``hooks``
(:mod:`infodyn.learning.hooks`: extra metrics such as a branching ratio, adaptation steps beside
gradient descent, early stop). Checkpoints (``checkpoint.npz``, written atomically with
``metrics.json``: :mod:`infodyn.learning.checkpoint`) hold the weights, the optimizer state, the
feedback matrix, the iteration, the hooks' states and whether a hook asked to stop;
``resume=True`` continues from them exactly.

Sparse recurrent weights (``params["w_rec"]`` a :class:`~infodyn.network.sparse.SparseWeights`)
train unchanged: the optimizer sees only the synapse values (the pattern is the mask), Dale's
law clips values, and the checkpoint stores the values with the pattern (``param_w_rec.values``,
``.indices``, ``.indptr``, ``.shape``: :func:`infodyn.network.params_file.params_to_arrays`).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from infodyn.errors import (
    require,
    require_flag,
    whole_number,
)
from infodyn.learning.checkpoint import (
    TrainState,
    check_resumed,
    load_checkpoint,
    network_record,
    save_checkpoint,
)
from infodyn.learning.eprop import eprop_window, zero_carry
from infodyn.learning.gradients import (
    GradientExplosionError,
    _feedback_matrix,
    _prepare,
    evaluate,
    explosion_message,
    grad_norm,
    mask_gradients,
    random_feedback,
    sparse_layout,
)
from infodyn.learning.hooks import StepInfo, TrainHook, View, add_metrics, require_hook_output
from infodyn.learning.losses import as_loss
from infodyn.learning.synapse_ops import trainable_arrays, with_trainable
from infodyn.learning.train_options import KEYS, TrainOptions
from infodyn.network.connectivity import checked_mask
from infodyn.network.dynamics import Constants
from infodyn.network.engine_jax import ensure_dtype
from infodyn.network.run_inputs import require_network
from infodyn.network.sparse import first_autapse, is_sparse, to_jax
from infodyn.network.weights_check import dale_violations
from infodyn.progress import ProgressBar


def batch_metrics(net, task, loss, terms, activity, y, target) -> dict[str, Any]:
    """A batch's record: ``loss``, ``loss_<term>``, ``mean_rate_hz`` (the population's spikes
    ``activity`` (B, T) per unit and second) and the task's metrics of the readouts ``y``."""
    n_trials, n_steps = activity.shape
    rate = float(activity.sum() / (n_trials * n_steps * net.n_rec) * 1000.0 / net.dt)
    return {
        "loss": loss,
        **{f"loss_{k}": v for k, v in terms.items()},
        "mean_rate_hz": rate,
        **task.metrics(y, target),
    }


def _dense_graph_mask(net: Any, w0: Any, given: bool, seed: int) -> np.ndarray:
    """The synapses of a sparse or E/I network stored dense: the non-zero entries of its
    weights. Given weights that lie in the graph ``net.init(seed)`` draws but are 0 at some of
    its synapses (Dale's law clips weights to exactly 0 in training, or a pruning) are warned
    about: dense storage cannot tell such a synapse from an absent one, and a continued run
    then differed from one of sparse storage, whose pattern keeps zero weights."""
    mask = np.asarray(w0) != 0
    if given:
        w = net.init(seed=seed)["w_rec"]
        drawn = np.asarray(w.to_dense() if is_sparse(w) else w) != 0
        zero = int(np.count_nonzero(drawn & ~mask))
        if zero and not np.any(mask & ~drawn):
            warnings.warn(
                f"params['w_rec'] is 0 at {zero} synapses of the graph net.init(seed={seed}) "
                "draws (Dale's law clips weights to 0 in training); stored dense, they count as "
                "absent and stay 0. To keep them, pass mask=(net.init(seed)['w_rec'] != 0) or "
                "store the network sparse (weights='sparse'), whose pattern keeps zero weights",
                UserWarning,
                stacklevel=3,
            )
    return mask.astype(np.float64)


class Trainer:
    """Train ``net`` on ``task`` (see :mod:`infodyn.learning.tasks`) with ``loss``.

    ``mask`` (n_rec, n_rec) fixes which recurrent synapses exist; ``"auto"`` (default) keeps
    the connectivity of sparse and E/I networks and leaves dense ones unmasked. Stored sparse,
    the pattern is the connectivity (zero weights included); stored dense, the non-zero
    weights are (given ``params`` that are 0 at synapses of the graph ``net.init(seed)`` draws,
    as Dale's law leaves them, are warned about: pass ``mask=`` to keep those).
    ``hooks``: :class:`~infodyn.learning.hooks.TrainHook` s run after every iteration, in order.
    ``sampler(iteration) -> (x, target)`` replaces the task's batches (default: ``task.batch``
    with a generator seeded by ``(seed, iteration)``).
    """

    def __init__(
        self,
        net,
        task,
        loss: Any,
        options: TrainOptions | None = None,
        params: dict[str, Any] | None = None,
        mask: Any | None = "auto",
        hooks: Sequence[TrainHook] = (),
        sampler: Callable[[int], tuple[Any, Any]] | None = None,
    ) -> None:
        require_network(net)
        self.net, self.task = net, task
        self.loss = as_loss(loss)
        self.opt = TrainOptions() if options is None else options  # {} was read as None
        require(isinstance(self.opt, TrainOptions), "options must be a TrainOptions (or None)")
        require(  # another object failed later with an AttributeError
            all(hasattr(task, a) for a in ("n_in", "n_out", "batch")),
            "task must have n_in, n_out and batch(rng, batch_size) (infodyn.learning.tasks)",
        )
        require(
            task.n_in == net.n_in and task.n_out == net.n_out,
            f"the task needs n_in={task.n_in}, n_out={task.n_out}; the network has "
            f"n_in={net.n_in}, n_out={net.n_out}",
        )
        task_dt = getattr(task, "dt", None)
        if task_dt is not None:  # input made for another step drove the network at other rates
            require(
                bool(np.isfinite(task_dt)) and abs(float(task_dt) - net.dt) <= 1e-9 * net.dt,
                f"the task's dt={task_dt} ms differs from the network's dt={net.dt} ms; make the "
                "task with the network's dt",
            )

        self.dtype = ensure_dtype(self.opt.precision)
        p0 = params if params is not None else net.init(seed=self.opt.seed)
        net.validate_params(p0)
        w0 = p0["w_rec"]
        self_synapse = first_autapse(w0)
        if self_synapse is not None:  # constrain below zeroes them: say so
            warnings.warn(
                f"params['w_rec'] has synapses of units onto themselves (unit {self_synapse} "
                "first); the model's learning has no autapses, so the trainer sets them to 0",
                UserWarning,
                stacklevel=2,
            )
        wrong = dale_violations(w0, net.unit_signs())
        if wrong:  # constrain below zeroes them too: say so
            warnings.warn(
                f"params['w_rec'] has {wrong} synapses whose sign breaks Dale's law for this E/I "
                "network (a unit's outgoing weights share its sign: net.unit_signs()); the "
                "trainer sets them to 0",
                UserWarning,
                stacklevel=2,
            )
        if isinstance(mask, str) and mask == "auto":
            # sparse and E/I networks keep their connectivity: absent synapses stay absent
            # (SparseWeights: the pattern is the mask, nothing to mask)
            sparse = net.connectivity != "dense" and not is_sparse(w0)
            given = params is not None
            mask = _dense_graph_mask(net, w0, given, self.opt.seed) if sparse else None
        if mask is not None and is_sparse(w0) and np.ndim(mask) == 2:
            mask = w0.mask_dense(mask)  # a dense mask, taken at the stored synapses
        self.mask = checked_mask(net, w0, mask)
        p0 = net.constrain({k: to_jax(p0[k], self.dtype) for k in KEYS}, self.mask)
        self.optimizer = self._optimizer()
        fb = None
        if self.opt.feedback != "symmetric":
            fb = random_feedback(net.n_rec, net.n_out, self.opt.feedback_seed)
        self.hooks, self.sampler = tuple(hooks), sampler
        require(  # another object failed at the first iteration (AttributeError)
            all(isinstance(h, TrainHook) for h in self.hooks),
            "hooks must be TrainHook objects (infodyn.learning.hooks, e.g. metric_hook)",
        )
        require(sampler is None or callable(sampler), "sampler must be a function(iteration)")
        require(
            self.opt.online_window is None or all(h.view is None for h in self.hooks),
            "a hook that changes the network the gradients see needs online_window=None",
        )
        self.loss.check_online_window(self.opt.online_window)
        self.state = TrainState(
            params=p0,
            opt_state=self.optimizer.init(trainable_arrays(p0)),
            feedback=fb,
            hook_states=self._init_hooks(p0),
        )

    def _init_hooks(self, params: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(h.init(self.net, params) for h in self.hooks)

    # ------------------------------------------------------------------ optimisation
    def _optimizer(self) -> optax.GradientTransformation:
        o = self.opt
        parts = []
        if o.clip_norm is not None:
            parts.append(optax.clip_by_global_norm(o.clip_norm))
        if o.optimizer == "adam":
            parts.append(optax.adam(o.lr))
        else:
            parts.append(optax.sgd(o.lr, momentum=o.momentum or None))
        if o.lr_scale:
            scale = {k: float(o.lr_scale.get(k, 1.0)) for k in KEYS}
            parts.append(
                optax.stateless(
                    lambda updates, params=None: {k: u * scale[k] for k, u in updates.items()}
                )
            )
        return optax.chain(*parts)

    def _apply(self, grads: dict[str, Any]) -> None:
        st, o = self.state, self.opt
        grads, params = trainable_arrays(grads), trainable_arrays(st.params)  # sparse: values
        grads = {k: (grads[k] if k in o.train else jnp.zeros_like(grads[k])) for k in KEYS}
        # float32 training runs its update in 32 bits whatever JAX's 64-bit mode: with it on
        # (a float64 simulate earlier in the process), Adam's bias correction was float64 and
        # the weights of the same config and seed differed by 1e-3 after four iterations
        with jax.enable_x64(self.dtype == jnp.float64):
            updates, st.opt_state = self.optimizer.update(grads, st.opt_state, params)
            new = optax.apply_updates(params, updates)
        # a zero gradient does not hold a weight still: Adam's moments or SGD's momentum of a
        # weight trained before a resume with a smaller `train` moved it on (0.013 in 2 steps)
        new = {k: (new[k] if k in o.train else params[k]) for k in KEYS}
        if o.feedback == "adaptive" and "w_out" in o.train:
            decay = o.lr * o.lr_scale.get("w_out", 1.0) * o.feedback_decay  # W_out's own rate
            new["w_out"] = new["w_out"] - decay * st.params["w_out"]
            st.feedback = np.asarray(
                st.feedback + np.asarray(updates["w_out"]) - decay * st.feedback
            )
        new = with_trainable(st.params, new)
        st.params = self.net.constrain(new, self.mask)

    # ------------------------------------------------------------------ one iteration
    def _batch(self, iteration: int):
        if self.sampler is not None:
            return self.sampler(iteration)
        rng = np.random.default_rng([self.opt.seed, iteration])
        return self.task.batch(rng, self.opt.batch_size)

    def _view(self, x: Any) -> View:
        """The network, weights and input the gradients are taken on (hooks may adapt them)."""
        view = View(self.net, self.state.params, x)
        for hook, hs in zip(self.hooks, self.state.hook_states, strict=True):
            if hook.view is not None:
                inner = hook.view(hs, view.net, view.params, view.x)
                outer = view.pullback
                view = inner._replace(pullback=lambda g, i=inner, o=outer: o(i.pullback(g)))
        return view

    def step(self) -> dict[str, Any]:
        """Run one training iteration, then the hooks; return the iteration's metrics."""
        t0 = time.perf_counter()
        it = self.state.iteration
        batch = self._batch(it)
        require(  # None or one array were raw unpacking errors
            isinstance(batch, tuple | list) and len(batch) == 2,
            f"a batch must be the pair (x, target) (the task's batch or the sampler's result), "
            f"got {type(batch).__name__}",
        )
        x, target = batch
        view = self._view(x)
        if self.opt.online_window is None:
            ev = evaluate(
                view.net,
                view.params,
                view.x,
                target,
                self.loss,
                method=self.opt.method,
                feedback=self.opt.feedback,
                feedback_matrix=self.state.feedback,
                reset=self.opt.reset,
                filter_readout=self.opt.filter_readout,
                mask=self.mask,
                precision=self.opt.precision,
                explode_threshold=self.opt.explode_threshold,
                layout=self._layout(view.params) if self.opt.method == "eprop" else None,
                trained=tuple(self.opt.train),
            )
            self._apply(view.pullback(ev.grads))
            loss, terms, activity, y, gnorm = ev.loss, ev.terms, ev.activity, ev.y, ev.grad_norm
        else:
            loss, terms, activity, y, gnorm = self._online_sequence(x, target)
        self.state.iteration = it + 1
        rec = {
            "iteration": it + 1,
            **batch_metrics(self.net, self.task, loss, terms, activity, y, target),
            "grad_norm": gnorm,
        }
        info = StepInfo(it + 1, x, target, activity, y, loss, terms, gnorm, view, rec)
        states = []
        for j, (hook, hs) in enumerate(zip(self.hooks, self.state.hook_states, strict=True)):
            out = hook.update(info, hs)
            require_hook_output(out, j)
            add_metrics(rec, out.metrics)
            states.append(out.state)
            self.state.stop = self.state.stop or bool(out.stop)
        self.state.hook_states = tuple(states)
        rec["seconds"] = time.perf_counter() - t0
        self.state.history.append(rec)
        return rec

    def _layout(self, params):
        """:func:`~infodyn.learning.gradients.sparse_layout` of ``params``, made once per
        sparsity pattern (the same index arrays: updates change the values only)."""
        key = tuple(
            (w.indices, w.indptr) if is_sparse(w) else None
            for w in (params["w_rec"], params["w_in"])
        )
        cached = getattr(self, "_layout_cache", None)
        same = cached is not None and all(
            a is b or (a is not None and b is not None and a[0] is b[0] and a[1] is b[1])
            for a, b in zip(cached[0], key, strict=True)
        )
        if not same:
            self._layout_cache = (key, sparse_layout(params))
        return self._layout_cache[1]

    def _online_sequence(self, x, target):
        """e-prop with an update every ``online_window`` steps within one sequence batch."""
        net, o, lossc = self.net, self.opt, self.loss
        _, _, xt, tgt = _prepare(net, self.state.params, x, target, o.precision)
        lossc.check_target(tgt)
        c, beta = Constants.of(net), jnp.asarray(net.beta_vector(), self.dtype)
        n_adaptive = net.n_adaptive  # the last n_adaptive units (0: LIF)
        n_steps, batch = xt.shape[0], xt.shape[1]
        carry = zero_carry(
            batch,
            net.n_in,
            net.n_rec,
            net.n_out,
            self.dtype,
            n_adaptive,
            o.filter_readout and lossc.uses_output,
            self.state.params["w_rec"],
            self.state.params["w_in"],
            min(o.online_window, n_steps),
        )
        acts, ys, total, norms = [], [], None, []
        k = o.online_window
        for start in range(0, n_steps, k):
            sl = slice(start, min(start + k, n_steps))
            fb = _feedback_matrix(
                net, self.state.params, o.feedback, self.state.feedback, o.feedback_seed, self.dtype
            )
            layout = self._layout(self.state.params)
            grads, stats, act, y, carry = eprop_window(
                c,
                lossc,
                net.dt,
                n_adaptive,
                o.filter_readout,
                not lossc.online,
                self.state.params,
                beta,
                fb,
                carry,
                xt[sl],
                None if tgt is None else tgt[sl],
                layout=layout,
            )
            grads = mask_gradients(net, grads, self.mask)  # checked in __init__: not rescanned
            norm = grad_norm(grads, tuple(o.train))
            if not np.isfinite(norm) or norm > o.explode_threshold:
                raise GradientExplosionError(
                    explosion_message("eprop", "through", norm, o.explode_threshold)
                    + f" (in the window starting at step {start})"
                )
            self._apply(grads)
            # the statistics are sums over steps: the sequence's are the windows' sums (a
            # length-weighted mean of window values halved a summed term at two windows)
            total = stats if total is None else jax.tree_util.tree_map(jnp.add, total, stats)
            norms.append(norm)
            acts.append(np.asarray(act).T)
            ys.append(np.swapaxes(np.asarray(y), 0, 1))
        values = [float(v) for v in lossc.term_values(total, n_steps, net.dt)]
        terms = dict(zip(lossc.names(), values, strict=True))
        losses = float(sum(values))
        return (
            losses,
            terms,
            np.concatenate(acts, axis=1),
            np.concatenate(ys, axis=1),
            float(np.mean(norms)),
        )

    # ------------------------------------------------------------------ fit, checkpoints
    def fit(
        self,
        n_iterations: int,
        out: str | os.PathLike | None = None,
        resume: bool = False,
        progress: bool = False,
        callback: Any = None,
    ) -> list[dict[str, Any]]:
        """Train until ``n_iterations`` iterations are done (counting resumed ones) or a hook
        asks to stop.

        With ``out``, writes ``checkpoint.npz`` and ``metrics.json`` there every
        ``checkpoint_every`` iterations and at the end; ``resume=True`` loads them first.
        Without it a checkpoint already in ``out`` is replaced by this run's (``infodyn train``
        refuses such a folder; ``run_training`` replaces a finished run on purpose).
        """
        n_iterations = whole_number(n_iterations, "n_iterations")  # 2.5 ran 3, "3" a TypeError
        resume = require_flag("resume", resume)  # "no" resumed
        progress = require_flag("progress", progress)  # "no" showed a bar
        require(  # both were raw TypeErrors after the training, when first used
            out is None or (isinstance(out, str | os.PathLike) and str(out) != ""),
            f"out must be a folder path, got {out!r}",  # "" wrote into the current folder
        )
        require(
            callback is None or callable(callback),
            f"callback must be a function (trainer, record), got {callback!r}",
        )
        if resume:
            require(out is not None, "resume needs a run directory")
            self.load_checkpoint(Path(out) / "checkpoint.npz")
            check_resumed(self.state, out, n_iterations)
        saved = self.state.iteration if resume else None  # the checkpoint's iterations
        bar = ProgressBar("training", n_iterations, self.state.iteration, enabled=progress)
        with bar:
            while self.state.iteration < n_iterations and not self.state.stop:
                try:
                    rec = self.step()
                except GradientExplosionError as err:
                    if saved is not None and out is not None:
                        path, how = Path(out) / "checkpoint.npz", "fit(..., resume=True) continues"
                        raise err.at_checkpoint(str(err), path, saved, how) from None
                    raise
                bar.update(advance=1, status=f"loss {rec['loss']:.4g}")
                if callback is not None:
                    callback(self, rec)
                due = self.state.iteration % self.opt.checkpoint_every == 0
                last = self.state.iteration == n_iterations or self.state.stop
                if out is not None and (due or last):
                    self.save_checkpoint(Path(out) / "checkpoint.npz")
                    saved = self.state.iteration
        return self.state.history

    def save_checkpoint(self, path: str | os.PathLike) -> Path:
        """Write weights, optimizer state, feedback, iteration, hook states (and metrics.json
        beside it): :func:`infodyn.learning.checkpoint.save_checkpoint`."""
        return save_checkpoint(
            path, self.state, asdict(self.opt), mask=self.mask, network=network_record(self.net)
        )

    def _check_stored_weights(self, weights: dict[str, Any]) -> None:
        """A checkpoint's weights must fit the network, keep this trainer's synapse pattern
        (sparse weights store it; a dense ``mask`` is checked on its own) and Dale's law: the
        checkpoint of another seed's graph, or an edited one, was resumed without a word."""
        self.net.validate_params(weights)
        for key in ("w_rec", "w_in"):  # (w_in's storage and pattern went unchecked)
            stored, ours = weights[key], self.state.params[key]
            kinds = ("sparse" if is_sparse(w) else "dense" for w in (stored, ours))
            require(
                is_sparse(stored) == is_sparse(ours),
                "their {} is {} but this trainer's is {}: resume with the weights it was "
                "trained with".format(key, *kinds),
            )
            same = not is_sparse(stored) or all(
                np.array_equal(np.asarray(a), np.asarray(b))
                for a, b in ((stored.indptr, ours.indptr), (stored.indices, ours.indices))
            )
            require(
                same,
                f"their {key} holds another synapse pattern than this trainer's (drawn by "
                "net.init with its seed and connectivity, or given); resume with the network, "
                "seed and weights it was trained with",
            )
        wrong = dale_violations(weights["w_rec"], self.net.unit_signs())
        require(not wrong, f"{wrong} synapses break Dale's law of this E/I network")

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """Continue from the checkpoint at ``path``, every part checked against this trainer
        (:func:`infodyn.learning.checkpoint.load_checkpoint`)."""
        state = load_checkpoint(
            path,
            KEYS,
            self.optimizer,
            self._init_hooks,
            lambda p: to_jax(p, self.dtype),
            options=asdict(self.opt),
            mask=self.mask,
            network=network_record(self.net),
            check_params=self._check_stored_weights,
        )
        self.state = state
