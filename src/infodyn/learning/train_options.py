"""How to train: :class:`TrainOptions`, checked when made (one job: the options; the loop is
:mod:`infodyn.learning.trainer`, which re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from infodyn.errors import (
    check_option_type,
    require,
    require_choices,
    whole_number,
)

#: the weights a network has, in the order the trainer keeps them
KEYS = ("w_in", "w_rec", "w_out")


@dataclass
class TrainOptions:
    """How to train. ``lr`` is the learning rate; ``lr_scale`` multiplies it per weight, e.g.
    ``{"w_rec": 0.05}`` (Adam's steps have the size of the learning rate whatever the weight's
    scale, so weights kept in different units need different rates: with
    ``input_scaling="one_minus_alpha"`` the input weights carry a 1/(1 - alpha) factor that the
    recurrent ones do not); ``clip_norm`` the global-norm clip (None: off); ``train`` the weights
    that learn; ``online_window`` K steps per e-prop update (None: one update per sequence batch);
    ``checkpoint_every`` iterations between checkpoints.

    Online (``online_window = K``), each window's loss is the loss of those K steps alone,
    reduced over them: an MSE averages over K steps, so at fixed weights the T/K windows'
    gradients add up to T/K times the whole sequence's (SGD's effective rate grows with T/K;
    Adam's step size does not), and a rate or variance regulariser is measured per window, a
    different objective from the sequence's. The readout's learning signal uses ``W_out`` as it
    is at each window (e-prop's rule, B = the current ``W_out``)."""

    method: Literal["eprop", "bptt", "bptt_stopgrad"] = "eprop"
    feedback: Literal["symmetric", "random", "adaptive"] = "symmetric"
    optimizer: Literal["sgd", "adam"] = "adam"
    lr: float = 1e-3
    lr_scale: dict[str, float] = field(default_factory=dict)
    momentum: float = 0.0
    clip_norm: float | None = None
    batch_size: int = 1
    train: tuple[str, ...] = KEYS
    reset: Literal["through", "detach"] = "through"
    filter_readout: bool = True
    online_window: int | None = None
    feedback_decay: float = 0.0
    feedback_seed: int = 0
    precision: Literal["float32", "float64"] = "float32"
    seed: int = 0
    checkpoint_every: int = 50
    explode_threshold: float = 1e8

    def __post_init__(self) -> None:
        require_choices(self)  # method, feedback, optimizer, reset, precision: their Literal
        # types first: 2.5 steps, "0.1" or NaN failed at fit time (TypeError, ZeroDivisionError)
        for name in ("lr", "momentum", "feedback_decay", "explode_threshold"):
            check_option_type(name, getattr(self, name), float)
        if self.clip_norm is not None:
            check_option_type("clip_norm", self.clip_norm, float)
        self.batch_size = whole_number(self.batch_size, "batch_size", minimum=1)
        self.checkpoint_every = whole_number(self.checkpoint_every, "checkpoint_every", minimum=1)
        self.seed = whole_number(self.seed, "seed", maximum=2**32 - 1)
        self.feedback_seed = whole_number(self.feedback_seed, "feedback_seed", maximum=2**32 - 1)
        if self.online_window is not None:
            self.online_window = whole_number(self.online_window, "online_window", minimum=1)
        require(self.lr > 0, f"lr must be > 0, got {self.lr}")
        require(  # -1 or 0 counted every iteration as an explosion
            self.explode_threshold > 0,
            f"explode_threshold must be > 0, got {self.explode_threshold}",
        )
        require(  # -1 grew B away from W_out instead of toward it
            self.feedback_decay >= 0, f"feedback_decay must be >= 0, got {self.feedback_decay}"
        )
        require(0 <= self.momentum < 1, f"momentum must lie in [0, 1), got {self.momentum}")
        require(
            self.momentum == 0 or self.optimizer == "sgd",
            "momentum is an option of optimizer 'sgd' (Adam has its own moments)",
        )
        require(
            self.feedback == "symmetric" or self.method == "eprop",
            f"feedback={self.feedback!r} is e-prop's (BPTT uses the true gradient); use "
            "method='eprop' or feedback='symmetric'",
        )
        require(
            self.reset == "through" or self.method != "eprop",
            "reset='detach' is a BPTT option (e-prop never differentiates through the reset)",
        )
        require(self.clip_norm is None or self.clip_norm > 0, "clip_norm must be > 0")
        require(
            self.online_window is None or self.method == "eprop",
            "online_window (updates during a sequence) needs method='eprop'",
        )
        require(  # a string was read letter by letter; None and True were raw TypeErrors
            isinstance(self.train, list | tuple) and all(isinstance(k, str) for k in self.train),
            f"train must be a list of weight names {KEYS}, got {self.train!r}",
        )
        bad = set(self.train) - set(KEYS)
        require(not bad, f"train may only name {KEYS}, got {sorted(bad)}")
        require(  # () ran every iteration and changed nothing
            len(self.train) > 0, f"train must name at least one of {KEYS}, got an empty list"
        )
        check_option_type("filter_readout", self.filter_readout, bool)  # "no" read as true
        require(  # [1] was a raw TypeError
            isinstance(self.lr_scale, dict | type(None)),
            f"lr_scale must be a table of weight name -> factor, got {self.lr_scale!r}",
        )
        self.lr_scale = dict(self.lr_scale or {})
        bad = set(self.lr_scale) - set(KEYS)
        require(not bad, f"lr_scale may only name {KEYS}, got {sorted(bad)}")
        for key, value in self.lr_scale.items():
            check_option_type(f"lr_scale[{key!r}]", value, float)
            require(value > 0, f"lr_scale values must be > 0, got {self.lr_scale}")
        self.train = tuple(self.train)
