"""The train run: network, task, loss and optimiser from a TOML config; checkpoints and figures.

Config sections::

    [network]            # fields of infodyn.network.LIF / ALIF (model = "alif")
    [task]               # kind = "pattern_generation" | "evidence_accumulation" | "rate", + options
    [[loss]]             # one table per term: kind = "mse" | "xent" | "unit_rate" | "rate_reg" |
                         #   "rate_variance" | "pop_rate_dev" | "infomax" | "total_correlation",
                         #   weight = ..., term options
    [training]           # method, feedback, optimizer, lr, iterations, batch_size, ...

Writes ``config.json``, ``checkpoint.npz`` + ``metrics.json`` (atomic, resumable),
``results.json`` and figures: loss curves, raster, rate histogram, output vs target.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, PositiveFloat

from infodyn.atomic import remove_temporaries
from infodyn.errors import InputError, check_option_type
from infodyn.experiments.config import (
    Section,
    Seed,
    build_network,
    network_errors,
)
from infodyn.experiments.rundir import RunDir, interrupted_note
from infodyn.experiments.sweep_lock import folder_lock


class TrainingSection(Section):
    """``[training]`` of ``infodyn train``: gradient method, feedback, optimiser and schedule."""

    method: Literal["eprop", "bptt", "bptt_stopgrad"] = "eprop"
    feedback: Literal["symmetric", "random", "adaptive"] = "symmetric"
    optimizer: Literal["sgd", "adam"] = "adam"
    lr: float = Field(1e-3, gt=0, description="learning rate")
    lr_scale: dict[Literal["w_in", "w_rec", "w_out"], PositiveFloat] = Field(
        default_factory=dict, description="per-weight learning-rate factors, e.g. {w_rec = 0.0328}"
    )
    momentum: float = Field(0.0, ge=0, lt=1, description="SGD momentum")
    clip_norm: float | None = Field(None, gt=0, description="global gradient-norm clip")
    iterations: int = Field(100, ge=1, description="training iterations")
    batch_size: int = Field(1, ge=1, description="sequences per gradient step")
    train: list[Literal["w_in", "w_rec", "w_out"]] = Field(
        ["w_in", "w_rec", "w_out"], min_length=1, description="the weights that learn"
    )
    reset: Literal["through", "detach"] = "through"
    filter_readout: bool = Field(
        True,
        description="e-prop: filter the learning signal as the readout (false: inexact)",
    )
    online_window: int | None = Field(None, ge=1, description="e-prop update every K steps")
    feedback_decay: float = Field(0.0, ge=0, description="adaptive feedback weight decay")
    feedback_seed: Seed = Field(0, description="seed of the random feedback matrix")
    precision: Literal["float32", "float64"] = "float32"
    seed: Seed = Field(0, description="weight and batch seed")
    checkpoint_every: int = Field(50, ge=1, description="iterations between checkpoints")
    explode_threshold: float = Field(
        1e8, gt=0, description="stop when the gradient norm exceeds this (or is not finite)"
    )


def loss_of(entries: list[dict[str, Any]]) -> Any:
    """The loss of ``[[loss]]`` tables (:func:`infodyn.learning.registry.build_loss`), with the
    loss kinds of plugins (:mod:`infodyn.experiments.plugins`) loaded first."""
    from infodyn.experiments.plugins import load_plugins
    from infodyn.learning.registry import build_loss

    load_plugins()
    return build_loss(entries)


class TrainConfig(Section):
    """The ``infodyn train`` config: ``[network]``, ``[task]``, ``[[loss]]`` terms (summed) and
    ``[training]``."""

    network: dict[str, Any] = Field(default_factory=dict)
    task: dict[str, Any] = Field(default_factory=lambda: {"kind": "pattern_generation"})
    loss: list[dict[str, Any]] = Field(default_factory=lambda: [{"kind": "mse"}])
    training: TrainingSection = TrainingSection()

    def build_network(self):
        return build_network(self.network)

    @staticmethod
    def section_errors(data: dict[str, Any]) -> str:
        """The errors of the free-form ``[network]``, ``[task]`` (given a network that builds)
        and ``[[loss]]``, in one line: read by :func:`validate` when the other sections fail."""
        found = [network_errors(data)]
        network, task, loss = data.get("network", {}), data.get("task", {}), data.get("loss")
        try:
            if not found[0] and isinstance(network, dict) and isinstance(task, dict):
                build_task(task, build_network(network))
        except InputError as exc:
            found.append(str(exc))
        try:
            if isinstance(loss, list):  # (none given: the default, mse)
                loss_of(loss)
        except InputError as exc:
            found.append(f"[[loss]] {exc}" if not str(exc).startswith("[") else str(exc))
        return "; ".join(filter(None, found))

    def build_task(self, net):
        return build_task(self.task, net)

    def build_loss(self):
        return loss_of(self.loss)

    def train_options(self, **overrides: Any) -> Any:
        """The :class:`~infodyn.learning.trainer.TrainOptions` of ``[training]`` (everything but
        ``iterations``), with ``overrides`` applied."""
        from infodyn.learning.trainer import TrainOptions

        t = self.training
        fields = {k: v for k, v in t.model_dump().items() if k not in ("iterations", "train")}
        return TrainOptions(**{**fields, "train": tuple(t.train), **overrides})

    def check_sections(self) -> None:
        """What the run would refuse at its start, at load time: ``infodyn config show``
        passed a negative ``lr_scale``, a task whose sizes are not the network's, a loss that
        needs a target with a task that gives none, and one that needs more readouts."""
        net = self.build_network()
        task = self.build_task(net)
        loss = self.build_loss()
        self.train_options()
        kind = self.task.get("kind", "pattern_generation")
        if (task.n_in, task.n_out) != (net.n_in, net.n_out):
            raise InputError(
                f"[task] kind = {kind!r} needs [network] n_in = {task.n_in} and n_out = "
                f"{task.n_out}; the network has n_in = {net.n_in}, n_out = {net.n_out}"
            )
        # the config's kinds, in its order (the terms' own names differ: infomax_xent_bits)
        kinds = [entry.get("kind") for entry in self.loss]
        wanting = [k for k, t in zip(kinds, loss.terms, strict=True) if t.needs_target]
        if wanting and task.batch(np.random.default_rng(0), 1)[1] is None:
            given = "loss" in self.model_fields_set  # else the default [[loss]], mse
            raise InputError(
                f"[[loss]] kind = {', '.join(map(repr, wanting))} "
                + ("" if given else "(the default, used when the config has no [[loss]]) ")
                + f"needs a target, and [task] kind = {kind!r} gives none: "
                + ("leave it out, or use " if given else "add [[loss]] tables of ")
                + "a loss without one (e.g. kind = 'unit_rate')"
            )
        loss.check_outputs(net.n_out, kinds)

    def resolved_sections(self) -> dict[str, Any]:
        """``[network]``, ``[task]`` and each ``[[loss]]`` term with every default filled in
        (the task's as built for the network: its ``n_in``, ``dt``): ``config show`` and a
        run's ``config.json`` gave the task and loss options the file named, and nothing said
        what the others were."""
        net = self.build_network()
        kind = self.task.get("kind", "pattern_generation")
        terms = self.build_loss().terms
        return {
            "network": net.section(),
            "task": {"kind": kind, **_init_fields(self.build_task(net))},
            "loss": [
                {"kind": entry.get("kind"), **_init_fields(term)}
                for entry, term in zip(self.loss, terms, strict=True)
            ],
        }

    def free_form_descriptions(self) -> dict[str, str]:
        """The comments ``infodyn config show`` gives ``[task]`` and ``[[loss]]``."""
        from infodyn.learning.registry import config_kinds
        from infodyn.learning.tasks import OPTION_DESCRIPTIONS, TASKS

        task = self.build_task(self.build_network())
        return {
            **{f"task.{k}": OPTION_DESCRIPTIONS[k] for k in _init_fields(task)},
            "task.kind": "one of " + ", ".join(map(repr, TASKS)) + " (+ the task's options)",
            "loss": "one table per term: kind = one of "
            + ", ".join(map(repr, config_kinds()))
            + "; weight; the term's options",
        }


def _init_fields(obj: Any) -> dict[str, Any]:
    """The options of a task or loss term (its dataclass's ``init`` fields), tuples as lists."""
    return {
        f.name: list(v) if isinstance(v := getattr(obj, f.name), tuple) else v
        for f in dataclasses.fields(obj)
        if f.init
    }


def build_task(section: dict[str, Any], net) -> Any:
    """Build a task from ``[task]``; unknown kinds or options are errors naming the key."""
    from infodyn.learning.tasks import TASKS
    from infodyn.network.encoders import spike_probabilities

    opts = dict(section)
    kind = opts.pop("kind", "pattern_generation")
    if kind not in TASKS:
        raise InputError(f"[task.kind] must be one of {sorted(TASKS)}, got {kind!r}")
    cls = TASKS[kind]
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    types = {f.name: f.type for f in dataclasses.fields(cls)}
    for key, value in opts.items():
        if key not in fields:
            raise InputError(f"[task.{key}] is not an option of task {kind!r}")
        check_option_type(f"[task.{key}]", value, types[key])
    if "dt" in fields:
        if opts.setdefault("dt", net.dt) != net.dt:  # input and target for another time step
            raise InputError(
                f"[task.dt] = {opts['dt']} differs from the network's dt = {net.dt} ms; leave "
                "it out (the task takes the network's)"
            )
    for key, value in opts.items():  # Poisson rates: >= 0 and at most one spike per step
        if key.endswith("rate_hz"):
            try:
                spike_probabilities(value, net.dt)
            except InputError as exc:
                raise InputError(f"[task.{key}] {exc}") from None
    if kind == "rate":
        opts.setdefault("n_in", net.n_in)
        opts.setdefault("n_out", net.n_out)
    if kind == "pattern_generation":
        opts.setdefault("n_in", net.n_in)
    try:
        return cls(**opts)
    except (TypeError, ValueError) as exc:
        raise InputError(f"[task] {exc}") from None


def run_training(
    cfg: TrainConfig,
    out: str | os.PathLike,
    resume: bool = False,
    progress: bool = False,
    allow_config_change: bool = False,
    refuse_complete: bool = False,
) -> dict[str, Any]:
    """Train as ``cfg`` says into run directory ``out``; returns the results dict.

    ``refuse_complete`` (the command line's ``--resume``): a resume of a complete run (its
    iterations done, its ``results.json`` written) is refused, changing nothing; without it (a
    sweep point whose done marker was lost) the run's results are made again.

    ``resume`` continues from ``out/checkpoint.npz`` and refuses a config that differs from the
    stored one (:func:`~infodyn.experiments.resume.check_resume_config`) unless
    ``allow_config_change``. Inside :func:`~infodyn.experiments.interrupt.graceful`, SIGINT or
    SIGTERM ends the run after the current iteration with a checkpoint.
    """
    from infodyn.experiments.preflight import check_evaluation_memory, check_trials_memory

    net = cfg.build_network()
    task = cfg.build_task(net)
    loss = cfg.build_loss()
    t = cfg.training
    opts = cfg.train_options()
    check_trials_memory(
        t.batch_size,
        task.n_steps,
        net.n_in,
        net.n_rec,
        "a training batch",
        "use a smaller [training] batch_size or fewer [task] steps",
    )
    if opts.method != "eprop" and net.sparse_weights:  # before RunDir makes the folder
        from infodyn.learning.bptt import remat_chunk_of, require_bptt_memory
        from infodyn.network.connectivity import expected_nnz

        require_bptt_memory(
            t.batch_size,
            task.n_steps,
            remat_chunk_of(task.n_steps),
            int(expected_nnz(net)),
            np.dtype(opts.precision),
        )
    check_evaluation_memory(net, t.batch_size, task.n_steps, opts.precision)  # after training
    if resume and not (Path(out) / "checkpoint.npz").exists():  # before RunDir makes the folder
        note = interrupted_note(Path(out))  # another command's, say an interrupted simulation
        raise InputError(f"{out}: no checkpoint.npz to resume from" + (f"; {note}" if note else ""))
    run = RunDir(out, "train", writes=("checkpoint.npz", "metrics.json"))
    try:  # one training at a time in a folder: a second replaced the first's checkpoints and
        # results without a word (both said they succeeded)
        with folder_lock(run.path, LOCK_NAME, "training"), run.locked():
            built = (net, task, loss, opts)
            return _train_in(
                run, cfg, built, resume, progress, allow_config_change, refuse_complete
            )
    except BaseException:
        if run.created:  # the lock held the folder a fresh run that failed made: removed
            run.remove_if_empty()
        raise


#: the lock a training holds in its folder (:func:`~infodyn.experiments.sweep_lock.folder_lock`)
LOCK_NAME = ".train.lock"


def _train_in(
    run: RunDir,
    cfg: TrainConfig,
    built: tuple[Any, Any, Any, Any],
    resume: bool,
    progress: bool,
    allow_config_change: bool,
    refuse_complete: bool,
) -> dict[str, Any]:
    """:func:`run_training`'s training in its folder ``run``, locked; ``built``: the network,
    task, loss and train options it made of ``cfg``."""
    from infodyn.experiments.config import resolved, validate
    from infodyn.experiments.hooks import branching_hook
    from infodyn.experiments.interrupt import fit_resumably
    from infodyn.experiments.resume import (
        check_resume_config,
        record_with_first_checkpoint,
        resumed_changes,
    )
    from infodyn.learning.gradients import GradientExplosionError
    from infodyn.learning.trainer import Trainer
    from infodyn.network.sparse import numpy_params

    net, task, loss, opts = built
    t = cfg.training
    # what a run killed mid-write left (a checkpoint's temporary file, up to a checkpoint's size
    # each: they piled up under repeated pre-emption)
    remove_temporaries(run.path, below=False)
    changes = {}
    if resume:  # the defaults: what a run whose config.json predates a key used for it
        defaults = resolved(TrainConfig())
        changes = check_resume_config(
            run.path,
            resolved(cfg),
            allow_config_change,
            defaults,
            resolve=lambda stored: resolved(validate(TrainConfig, stored)),
        )
    trainer = Trainer(net, task, loss, opts, hooks=(branching_hook(),))
    ran: list[int] = []  # the iterations this call trained
    change_record = resumed_changes(run.path, changes, trainer, ran) if changes else None
    if change_record:
        record_with_first_checkpoint(trainer, run, cfg, change_record)
    t0 = time.perf_counter()

    def step_done(trainer: Any, record: dict[str, Any]) -> None:
        ran.append(record["iteration"])

    try:  # (a resume without a checkpoint was refused before the folder was made)
        if not resume:  # a fresh run's settings, kept for a resume after an interrupt; a
            # finished run's results.json described another run from here on (and a resume
            # of this one, stopped after its last checkpoint, was refused as complete). In the
            # try: a Ctrl-C between them left a folder holding config.json alone
            run.retire_results()
            run.write_config(cfg, "train")
        history = fit_resumably(trainer, t.iterations, run.path, resume, step_done, progress)
    except BaseException as err:
        if not resume and not run.file("checkpoint.npz").exists():  # nothing of it is kept
            _forget_fresh_run(run)
        if isinstance(err, GradientExplosionError) and err.checkpoint is not None:
            how = "change the settings and continue with --resume --allow-config-change"
            raise err.at_checkpoint(  # the command that continues, not the API's call
                err.reason, err.checkpoint, err.checkpoint_iteration or 0, how
            ) from None
        raise
    elapsed = time.perf_counter() - t0
    if not history:
        raise InputError("no training iterations were run (training.iterations = 0)")
    if refuse_complete and resume and not ran and run.file("results.json").exists():
        _refuse_complete(run.path, trainer.state)
    params = numpy_params(trainer.state.params)  # a sparse w_rec stays sparse
    last = history[-1]
    first = history[0]
    # the trained weights on fresh trials: ``final`` is the last iteration's record, taken
    # before its update (its rate disagreed with the figures, made from the trained weights)
    x_eval, target_eval = task.batch(np.random.default_rng([opts.seed, 10**9]), t.batch_size)
    trained, trace = _trained_metrics(net, task, loss, params, x_eval, target_eval, opts)
    results = {
        "iterations": trainer.state.iteration,
        "method": t.method,
        "initial_loss": first["loss"],
        "final_loss": last["loss"],
        "loss_ratio": first["loss"] / last["loss"] if last["loss"] else float("inf"),
        "final": last,
        "trained": trained,
        "wall_seconds_this_run": elapsed,
        "files": {
            "checkpoint": "checkpoint.npz",
            "metrics": "metrics.json",
            "figures": ["loss", "raster", "rates", "output"],
        },
    }
    classify = any(term.weights_steps for term in loss.terms)  # xent, infomax: class weights
    _figures(run, net, history, x_eval, target_eval, trace, classify)
    if change_record:  # recorded once the resumed run went through: a failed one changes nothing
        run.finish(cfg, "train", results, change_record())
    else:
        run.write_results(results)
    return results


def _forget_fresh_run(run: RunDir) -> None:
    """Remove what a fresh run wrote before its first checkpoint (its ``config.json``, and the
    folder when the run made it): a run that exploded at iteration 1 left a folder holding a
    config alone, which read as a run."""
    with contextlib.suppress(OSError):
        run.file("config.json").unlink(missing_ok=True)
    if run.created:
        run.remove_if_empty()


def _refuse_complete(out: Path, state: Any) -> None:
    """``--resume`` of a run that is complete (its checkpoint has done the iterations asked
    for and ``results.json`` is written): it rewrote the results of a run that trained no
    further (``channel`` and ``demo`` refuse such a resume too)."""
    raise InputError(
        f"{out}: its train run is complete (it has done its {state.iteration} iterations; "
        "results.json), there is nothing to resume: raise [training] iterations to train it "
        "further, or train afresh into another --out; this command changed nothing"
    )


def _trained_metrics(net, task, loss, params, x, target, opts) -> tuple[dict[str, Any], Any]:
    """Loss, terms, mean rate and task metrics of the weights ``params`` on the trials ``x``
    from a forward pass (no gradients: nothing to explode, no eligibility traces), and its
    trace."""
    from infodyn.learning.info_objectives import sequence_statistics
    from infodyn.learning.losses import as_loss
    from infodyn.learning.trainer import batch_metrics

    trace = net.simulate(params, x, engine="jax", precision=opts.precision)
    z = np.asarray(trace.z, dtype=np.float64)
    y = np.zeros((*z.shape[:2], 0)) if trace.y is None else np.asarray(trace.y)
    lossc = as_loss(loss)
    values = lossc.term_values(sequence_statistics(lossc, z, y, target, net.dt), z.shape[1], net.dt)
    terms = {k: float(v) for k, v in zip(lossc.names(), values, strict=True)}
    metrics = batch_metrics(net, task, sum(terms.values()), terms, z.sum(axis=-1), y, target)
    return {"n_trials": int(z.shape[0]), **metrics}, trace


def _figures(run: RunDir, net, history, x, target, every, classify: bool) -> None:
    """The loss curves; the raster and output of the first fresh trial ``x[0]``, and the rates
    over all, from their trace ``every`` (one simulation of the batch). ``classify`` (a loss
    whose target weights steps by class: cross-entropy, infomax): the output is the softmax of
    the readouts, with the window where the target weights the decision shaded and its class
    named (the class weights, drawn beside the readouts, read as a target of 0)."""
    from infodyn.experiments.figures import raster_figure, rate_histogram_figure
    from infodyn.plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    it = [r["iteration"] for r in history]
    keys = ["loss"] + [k for k in history[0] if k.startswith("loss_")]
    for k in keys:
        vals = np.array([r[k] for r in history], dtype=float)
        ax.plot(it, vals, label=k, lw=1.5 if k == "loss" else 1.0)
    if all(np.all(np.array([r[k] for r in history], dtype=float) > 0) for k in keys):
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.legend(fontsize=7)
    run.savefig(fig, "loss")

    run.savefig(raster_figure(every.spike_train()), "raster")  # its trial 0
    run.savefig(rate_histogram_figure(every.rates_hz()), "rates")  # the trials of `trained`
    fig, ax = plt.subplots(figsize=(6, 3))
    tt = np.arange(x.shape[1]) * net.dt
    if net.n_out and every.y is not None and classify and target is not None:
        y = every.y[0] - every.y[0].max(axis=1, keepdims=True)
        p = np.exp(y) / np.exp(y).sum(axis=1, keepdims=True)
        for k in range(net.n_out):
            ax.plot(tt, p[:, k], lw=1.0, label=f"p(class {k})")
        window = np.flatnonzero(np.asarray(target[0]).sum(axis=1) > 0)
        if window.size:
            right = int(np.asarray(target[0])[window].sum(axis=0).argmax())
            ax.axvspan(tt[window[0]], tt[window[-1]] + net.dt, color="0.85", zorder=0,
                       label=f"decision window (class {right})")  # fmt: skip
        ax.set_ylabel("softmax of the readouts")
        ax.legend(fontsize=7)
    elif net.n_out and every.y is not None:
        for k in range(net.n_out):
            ax.plot(tt, every.y[0, :, k], lw=1.0, label=f"y{k}")
            if target is not None:
                ax.plot(tt, target[0, :, k], "--", lw=1.0, label=f"target {k}")
        ax.set_ylabel("readout y")
        ax.legend(fontsize=7)
    else:
        ax.plot(tt, every.z[0].sum(axis=1), lw=0.8, label="population spikes")
        ax.legend(fontsize=7)
    ax.set_xlabel("time (ms)")
    run.savefig(fig, "output")
