"""Training hooks: per-iteration metrics, adaptation steps beside gradient descent, early stop.

A hook is a pair of pure functions in the style of optax's ``GradientTransformation``
(Babuschkin et al. 2020, "The DeepMind JAX Ecosystem"): ``init(net, params) -> state`` and
``update(info, state) -> HookOutput(metrics, state, stop)``, called after every iteration with the
:class:`StepInfo` of that iteration. Its state is a NamedTuple or another pytree held by the
trainer, never by the hook, so a hook can be shared by several trainers. A checkpoint
rebuilds each state on the structure of a fresh ``init``: a state whose structure changes (a
list that grows) trains, but cannot be resumed; keep it fixed (arrays of fixed shape). A hook
may also give a ``view``: the network, parameters and input on which the gradients are taken
(an adapted network, for example), with the ``pullback`` that maps their gradients back to the
trained weights.

::

    hooks = (metric_hook("spikes", lambda info: float(info.activity.sum())),
             early_stopping("loss", patience=20))
    Trainer(net, task, loss, options, hooks=hooks).fit(500)

Hooks given here: :func:`metric_hook` (a per-iteration metric), :func:`early_stopping`,
:func:`lif_adaptation_hook` (the LIF threshold/gain homeostasis of
:mod:`infodyn.learning.adaptation` running beside e-prop or BPTT).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from infodyn.errors import is_finite_number, require, require_choice, whole_number
from infodyn.learning.adaptation import (
    LIFAdaptationConfig,
    adapted_input,
    adapted_network,
    init_lif_adaptation,
    lif_adaptation_update,
    require_reachable_target,
)
from infodyn.network.sparse import is_sparse


def _same(grads: dict[str, Any]) -> dict[str, Any]:
    return grads


class View(NamedTuple):
    """What the gradients of one iteration are taken on: ``net`` and ``params`` driven by ``x``;
    ``pullback(grads)`` maps the gradients with respect to ``params`` back to the trained
    weights (the identity when the view is the trained network itself)."""

    net: Any
    params: dict[str, Any]
    x: Any
    pullback: Callable[[dict[str, Any]], dict[str, Any]] = _same


class StepInfo(NamedTuple):
    """One finished iteration as hooks see it.

    ``iteration`` counts the iterations done, this one included; ``activity`` is the population
    spike count (B, T); ``y`` the readout (B, T, n_out); ``view`` the network, weights (before
    this iteration's update) and input the gradients were taken on; ``record`` the metrics of the
    iteration gathered so far.
    """

    iteration: int
    x: Any
    target: Any
    activity: np.ndarray
    y: np.ndarray
    loss: float
    terms: dict[str, float]
    grad_norm: float
    view: View
    record: dict[str, Any]


class HookOutput(NamedTuple):
    """What a hook's ``update`` returns: metrics to add to the iteration's record, its new state,
    and whether training should stop after this iteration."""

    metrics: dict[str, Any]
    state: Any
    stop: bool = False


def require_hook_output(out: Any, index: int) -> None:
    """Refuse what hook ``index``'s ``update`` returned unless it is a :class:`HookOutput`
    with a dict of metrics (a tuple, None or ``HookOutput(None, state)`` were AttributeErrors
    and TypeErrors inside the trainer)."""
    require(
        isinstance(out, HookOutput) and isinstance(out.metrics, dict),
        f"hook {index}'s update must return HookOutput(metrics, state, stop) with a dict of "
        f"metrics ({{}} for none), got {out!r:.100}",
    )


def add_metrics(record: dict[str, Any], metrics: dict[str, Any]) -> None:
    """Add a hook's ``metrics`` to the iteration's ``record``, refusing a name it already has
    (or ``seconds``, added last): ``metric_hook("loss", ...)`` replaced the loss in the
    history, ``metrics.json`` and what ``early_stopping("loss")`` watched."""
    taken = sorted(k for k in metrics if k in record or k == "seconds")
    require(
        not taken,
        f"a hook's metric {taken} would replace the iteration's own (its record has "
        f"{sorted([*record, 'seconds'])}): name it otherwise",
    )
    record.update(metrics)


class TrainHook(NamedTuple):
    """A training hook: ``init(net, params) -> state``; ``update(info, state) -> HookOutput``;
    optional ``view(state, net, params, x) -> View`` (module docstring)."""

    init: Callable[[Any, dict[str, Any]], Any]
    update: Callable[[StepInfo, Any], HookOutput]
    view: Callable[[Any, Any, dict[str, Any], Any], View] | None = None


class EmptyState(NamedTuple):
    """The state of a stateless hook."""


def _empty(net: Any, params: dict[str, Any]) -> EmptyState:
    return EmptyState()


def metric_hook(name: str, fn: Callable[[StepInfo], Any]) -> TrainHook:
    """A stateless hook adding ``record[name] = fn(info)`` to every iteration's metrics."""
    require(isinstance(name, str) and bool(name), f"a metric needs a name (text), got {name!r}")
    require(  # a raw TypeError inside Trainer.fit, after its first iteration
        callable(fn), f"fn must be a function of the iteration's StepInfo, got {fn!r}"
    )

    def update(info: StepInfo, state: EmptyState) -> HookOutput:
        return HookOutput({name: fn(info)}, state)

    return TrainHook(_empty, update)


class EarlyStoppingState(NamedTuple):
    """Best value of the watched metric so far and the iterations since it improved."""

    best: float
    wait: int


def early_stopping(
    key: str = "loss", patience: int = 10, min_delta: float = 0.0, mode: str = "min"
) -> TrainHook:
    """Stop when ``record[key]`` has not improved by more than ``min_delta`` for ``patience``
    iterations (``mode="min"``: lower is better; ``"max"``: higher is better).

    A non-finite value never counts as an improvement.
    """
    patience = whole_number(patience, "patience", minimum=1)  # 2.5 and True were taken
    require(
        is_finite_number(min_delta) and min_delta >= 0,
        f"min_delta must be a finite number >= 0, got {min_delta!r}",
    )
    require(isinstance(key, str), f"key must be a metric's name (text), got {key!r}")
    require_choice("mode", mode, ("min", "max"))
    sign = 1.0 if mode == "min" else -1.0

    def init(net: Any, params: dict[str, Any]) -> EarlyStoppingState:
        return EarlyStoppingState(best=math.inf, wait=0)

    def update(info: StepInfo, state: EarlyStoppingState) -> HookOutput:
        require(
            key in info.record,
            f"early stopping watches {key!r}, which is not a metric of "
            f"this training (metrics: {sorted(info.record)})",
        )
        value = sign * float(info.record[key])
        if math.isfinite(value) and value < state.best - min_delta:
            new = EarlyStoppingState(value, 0)
        else:
            new = EarlyStoppingState(state.best, state.wait + 1)
        return HookOutput({}, new, stop=new.wait >= patience)

    return TrainHook(init, update)


def _numpy(value: Any, dtype: Any) -> Any:
    """A dense weight as a NumPy array of ``dtype``; sparse weights stay as they are."""
    return value if is_sparse(value) else np.asarray(value, dtype=dtype)


def lif_adaptation_hook(
    cfg: LIFAdaptationConfig, every: int = 1, precision: str = "float32"
) -> TrainHook:
    """LIF threshold/gain homeostasis (:func:`~infodyn.learning.adaptation.lif_adaptation_update`)
    beside gradient descent.

    Gradients are taken on the adapted network (:func:`~infodyn.learning.adaptation.
    adapted_network`); the input-weight gradient is mapped back to the raw weights by the chain
    rule, ``dE/dw_in = g * dE/dw_in_eff`` (the bias row has no raw weight). Every ``every``
    iterations the adapted network is simulated on the iteration's input and the adaptation
    state (a pytree of per-unit arrays) is updated from its spikes.
    """
    every = whole_number(every, "every", minimum=1)  # 2.5 and True were taken
    require(  # a raw AttributeError inside Trainer.fit
        isinstance(cfg, LIFAdaptationConfig), f"cfg must be a LIFAdaptationConfig, got {cfg!r}"
    )
    require_choice("precision", precision, ("float32", "float64"))  # None, {} were float32
    dtype = np.float64 if precision == "float64" else np.float32

    def init(net: Any, params: dict[str, Any]) -> dict[str, np.ndarray]:
        require_reachable_target(net, cfg)
        return init_lif_adaptation(net.n_rec)

    def view(state: dict[str, Any], net: Any, params: dict[str, Any], x: Any) -> View:
        raw = {k: _numpy(v, dtype) for k, v in params.items()}
        net_a, params_a = adapted_network(net, raw, state)
        gain = np.asarray(state["gain"]).astype(dtype)

        def pullback(grads: dict[str, Any]) -> dict[str, Any]:
            g = {k: _numpy(v, dtype) for k, v in grads.items()}
            w_in = raw["w_in"]
            if is_sparse(w_in):  # the raw synapses come first, the bias row's last
                values = np.asarray(g["w_in"].values, dtype)[: w_in.nnz]
                g["w_in"] = w_in.with_values(values * gain[np.asarray(w_in.indices)])
            else:
                g["w_in"] = g["w_in"][:-1] * gain[None, :]
            return g

        return View(net_a, params_a, adapted_input(x, net), pullback)

    def update(info: StepInfo, state: dict[str, Any]) -> HookOutput:
        if (info.iteration - 1) % every != 0:
            return HookOutput({}, state)
        v = info.view
        z = v.net.simulate(v.params, v.x, engine="jax", precision=precision).z
        return HookOutput({}, lif_adaptation_update(state, z, v.net.dt, cfg, n_ref=v.net.n_ref))

    return TrainHook(init, update, view)
