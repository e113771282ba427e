"""Training of the channel experiment: the loss of each condition and
:func:`train_network`, which trains by :class:`~infodyn.learning.Trainer` on
:class:`~infodyn.learning.tasks.StimulusTrials`, optionally with the LIF threshold/gain homeostasis
(:func:`~infodyn.learning.hooks.lif_adaptation_hook`) alongside."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.errors import InputError, require
from infodyn.experiments.interrupt import fit_resumably
from infodyn.learning.adaptation import adapted_input, adapted_network
from infodyn.learning.hooks import lif_adaptation_hook
from infodyn.learning.info_objectives import (
    InfoMaxBound,
    InformationBottleneck,
    TotalCorrelationPenalty,
)
from infodyn.learning.losses import UnitRateTarget, as_loss
from infodyn.learning.tasks import StimulusTrials
from infodyn.learning.trainer import Trainer, TrainOptions
from infodyn.network.encoders import StimulusSet


def make_loss(
    condition: str,
    r0_hz: float,
    rate_weight: float,
    info_weight: float,
    objective: str,
    labels: np.ndarray,
    gamma: float = 0.1,
):
    """The loss of a training condition: ``rate`` (per-unit rate target) or ``info`` (the same
    plus ``info_weight`` times the chosen information objective)."""
    rate = UnitRateTarget(weight=rate_weight, r0_hz=r0_hz)
    if condition == "rate":
        return as_loss(rate)
    require(condition == "info", f"condition must be 'rate' or 'info', got {condition!r}")
    if objective == "infomax":
        term = InfoMaxBound(weight=info_weight)
    elif objective == "bottleneck":
        term = InformationBottleneck(
            weight=info_weight, labels=tuple(int(s) for s in labels), gamma=gamma
        )
    elif objective == "decorrelation":
        term = TotalCorrelationPenalty(weight=info_weight)
    else:
        raise InputError(
            f"objective must be 'infomax', 'bottleneck' or 'decorrelation', got {objective!r}"
        )
    return as_loss([rate, term])


@dataclass
class TrainResult:
    """Trained weights, per-iteration history (loss, terms, rate) and, when the LIF
    threshold/gain adaptation ran alongside, its final state (else None)."""

    params: dict[str, np.ndarray]
    history: list[dict[str, float]]
    adaptation: dict[str, np.ndarray] | None = None

    def network(self, net: Any) -> tuple[Any, dict[str, np.ndarray], Callable[[Any], Any]]:
        """``(net, params, prepare_input)`` of the trained network, adaptation included."""
        if self.adaptation is None:
            return net, self.params, lambda x: x
        net_a, params_a = adapted_network(net, self.params, self.adaptation)
        return net_a, params_a, lambda x: adapted_input(x, net)


def train_network(
    net: Any,
    params: dict[str, np.ndarray],
    stimuli: StimulusSet,
    loss_for: Callable[[np.ndarray], Any],
    n_iterations: int,
    trials_per_stimulus: int,
    response_start: int,
    lr: float = 5e-3,
    train: tuple[str, ...] = ("w_rec", "w_out"),
    method: str = "eprop",
    clip_norm: float = 10.0,
    seed: int = 0,
    precision: str = "float32",
    adaptation: Any = None,
    adapt_every: int = 1,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
) -> TrainResult:
    """Adam (after global-norm clipping) on the chosen weights, by
    :class:`~infodyn.learning.trainer.Trainer`; every iteration draws fresh noisy trials of all
    stimuli (:class:`StimulusTrials`). ``loss_for(labels)`` builds the loss from the trial
    labels, which are the same in every batch.

    ``adaptation`` (a :class:`~infodyn.learning.adaptation.LIFAdaptationConfig`) runs the LIF
    threshold/gain homeostasis alongside (:func:`~infodyn.learning.hooks.lif_adaptation_hook`,
    updated every ``adapt_every`` iterations).

    ``checkpoint`` (a folder): the training is checkpointed there every tenth of its
    iterations and on SIGINT/SIGTERM (:func:`~infodyn.experiments.interrupt.fit_resumably`);
    ``resume=True`` continues from the checkpoint there.
    """
    require(n_iterations >= 0, "n_iterations must be >= 0")
    require(adapt_every >= 1, "adapt_every must be >= 1")
    task = StimulusTrials(stimuli, net.n_out, trials_per_stimulus, response_start)
    hooks = () if adaptation is None else (lif_adaptation_hook(adaptation, adapt_every, precision),)
    trainer = Trainer(
        net,
        task,
        loss_for(task.labels),
        TrainOptions(
            method=method,
            optimizer="adam",
            lr=lr,
            clip_norm=clip_norm,
            train=train,
            precision=precision,
            seed=seed,
            checkpoint_every=max(1, n_iterations // 10),
        ),
        params=params,
        mask=None,
        hooks=hooks,
        sampler=task.sampler(seed),
    )
    if checkpoint is None:
        history = trainer.fit(n_iterations)
    else:
        history = fit_resumably(trainer, n_iterations, checkpoint, resume)
    dtype = np.float64 if precision == "float64" else np.float32
    p = {k: np.asarray(trainer.state.params[k], dtype=dtype) for k in params}
    hist = [
        {
            "loss": r["loss"],
            **{k.removeprefix("loss_"): v for k, v in r.items() if k.startswith("loss_")},
            "rate_hz": r["mean_rate_hz"],
        }
        for r in history
    ]
    return TrainResult(p, hist, trainer.state.hook_states[0] if hooks else None)
