"""Stage 2b, learning: e-prop (Bellec et al. 2020, Nat. Commun. 11:3625) toward a per-unit target
rate, a global-rate variance constraint and a variational lower bound on I(stimulus; response)
through a softmax readout (``H(S) - CE``; Barber & Agakov 2003, NIPS 16), by
:class:`~infodyn.learning.Trainer` with the branching ratio recorded as a hook."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.atomic import remove_temporaries
from infodyn.data.notes import muted_warnings
from infodyn.errors import require
from infodyn.experiments.hooks import branching_hook
from infodyn.experiments.interrupt import fit_resumably
from infodyn.experiments.pipeline import figures as pf
from infodyn.experiments.pipeline.config import TrainingSection
from infodyn.experiments.pipeline.stimulus_stage import Stimuli
from infodyn.experiments.rundir import RunDir
from infodyn.learning.info_objectives import InfoMaxBound
from infodyn.learning.losses import CompositeLoss, PopulationRateVariance, UnitRateTarget
from infodyn.learning.trainer import Trainer, TrainOptions
from infodyn.network.sparse import numpy_params

Progress = Callable[[str, float], None]
SUMMARY_KEYS = ("loss", "mean_rate_hz", "branching", "info_bound_bits", "error_rate")


@dataclass
class TrainingOutcome:
    """Trained weights, the per-iteration history and its summary for ``results.json``."""

    params: dict[str, np.ndarray]
    history: list[dict[str, Any]]
    summary: dict[str, Any]


#: the training step's checkpoint in the run folder (resumable before any step is journaled)
TRAINING_CHECKPOINT = "training/checkpoint.npz"


def forget_training_checkpoint(run: RunDir) -> None:
    """Remove the training checkpoint (and the ``metrics.json`` beside it) once the network
    step it belongs to is recorded, or before a run starts afresh: one left behind by a resumed
    run was taken up by a later ``--resume`` under another config (a finished run was rerun
    over, or trained on from another seed's weights). A ``training`` folder holding anything
    else is not the step's (``infodyn train --out OUT/training``) and is left alone."""
    ckpt = run.file(TRAINING_CHECKPOINT)
    ours = (ckpt, ckpt.with_name("metrics.json"))
    if ckpt.parent.is_dir():  # a write killed part way left its temporary: ours too, not a
        remove_temporaries(ckpt.parent, below=False)  # user's file (it kept a stale checkpoint)
    if ckpt.parent.is_dir() and any(p not in ours for p in ckpt.parent.iterdir()):
        return  # more than the training step's files: a folder of the user's (a train --out)
    for path in ours:
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        ckpt.parent.rmdir()


def training_loss(tr: TrainingSection) -> CompositeLoss:
    """The loss of ``[training]``: the terms whose weight is above zero."""
    terms = []
    if tr.rate_weight > 0:
        terms.append(UnitRateTarget(weight=tr.rate_weight, r0_hz=tr.rate_target_hz))
    if tr.variance_weight > 0:
        terms.append(PopulationRateVariance(weight=tr.variance_weight, s_target=tr.variance_target))
    if tr.info_weight > 0:
        terms.append(InfoMaxBound(weight=tr.info_weight))
    require(terms, "[training] every loss weight is zero")
    return CompositeLoss(tuple(terms))


def _avg(key: str, part: list[dict[str, Any]]) -> float | None:
    vals = [r[key] for r in part if r.get(key) is not None]
    return float(np.mean(vals)) if vals else None


def training_stage(
    tr: TrainingSection,
    stimuli: Stimuli,
    run: RunDir,
    progress: Progress,
    resume: bool = False,
    bin_steps: int = 1,
) -> TrainingOutcome:
    """Train the network on its patch task; write ``training_history.json`` and the training
    figure. The summary holds the means of the first and last tenth of the iterations; the
    branching ratio of each batch is estimated in bins of ``bin_steps`` steps (the analysis's:
    on 1-ms bins refractoriness made it about 0).

    On SIGINT/SIGTERM (:mod:`infodyn.experiments.interrupt`) training stops after the current
    iteration with ``training/checkpoint.npz``; ``resume=True`` continues from it. The
    checkpoint is also written every tenth of the iterations (a SIGKILL, the out-of-memory
    killer or a lost node threw the whole training away, even one that had finished)."""
    loss = training_loss(tr)
    trainer = Trainer(
        stimuli.net,
        stimuli.task,
        loss,
        TrainOptions(
            method=tr.method,
            lr=tr.lr,
            batch_size=tr.batch_size,
            clip_norm=tr.clip_norm,
            seed=tr.seed,
            checkpoint_every=max(1, tr.iterations // 10),
        ),
        params=stimuli.params0,
        hooks=(branching_hook(bin_steps=bin_steps),),
    )
    t0 = time.perf_counter()

    def report(trainer: Trainer, rec: dict[str, Any]) -> None:
        i = rec["iteration"]
        progress(
            f"training: {i}/{tr.iterations}, rate {rec['mean_rate_hz']:.1f} Hz", i / tr.iterations
        )

    with muted_warnings():
        folder = run.file(TRAINING_CHECKPOINT).parent
        history = fit_resumably(trainer, tr.iterations, folder, resume, report)
    params = numpy_params(trainer.state.params)  # a sparse [network] stays sparse
    h_s = math.log2(stimuli.task.n_out)
    for rec in history:  # the history's loss terms are weighted: the bound needs CE itself
        if "loss_infomax_xent_bits" in rec:
            rec["info_bound_bits"] = h_s - rec["loss_infomax_xent_bits"] / tr.info_weight
    run.write_json("training_history.json", history)
    k = max(1, len(history) // 10)
    summary = {
        "method": tr.method,
        "iterations": tr.iterations,
        "seconds": time.perf_counter() - t0,
        "loss_terms": [t.name for t in loss.terms],
        **{f"{key}_first_{k}": _avg(key, history[:k]) for key in SUMMARY_KEYS},
        **{f"{key}_last_{k}": _avg(key, history[-k:]) for key in SUMMARY_KEYS},
    }
    run.savefig(pf.training_figure(history, tr), "network_training")
    return TrainingOutcome(params, history, summary)
