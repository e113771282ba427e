"""Training checkpoints: the state of a :class:`~infodyn.learning.trainer.Trainer` on disk.

``checkpoint.npz`` (written atomically) holds

- ``param_<name>``: the weights (a sparse ``w_rec`` as its values and pattern:
  :func:`infodyn.network.params_file.params_to_arrays`);
- ``opt_<i>``: the leaves of the optax optimizer state, in tree order;
- ``feedback``: the feedback matrix B of random or adaptive feedback (absent when symmetric);
- ``iteration`` (iterations done) and ``stop`` (a hook asked to stop);
- ``hook_<j>_n`` and ``hook_<j>_<i>``: the number of leaves and the leaves of hook ``j``'s state;
- ``options``: the training options as JSON (a resumed run must use the same optimizer and
  feedback, :data:`FIXED_OPTIONS`; the rest is the record);
- ``mask``: the trainer's connectivity mask as booleans, when it has one (a sparse or E/I graph
  stored dense); a resumed run must have the same (checkpoints without it are not checked);
- ``network``: the network the weights were trained in, as JSON (:func:`network_record`): a
  resumed run must have the same :data:`NETWORK_FIXED` fields (its shapes, graph, storage,
  initial scales and Dale's signs); other changes (the kind, LIF or ALIF, time constants,
  threshold, adaptation) are allowed with a warning that names them (checkpoints without it are
  not checked).

``metrics.json`` beside it holds one row of metrics per iteration. Loading rebuilds every tree
on the structure of a fresh one (the optimizer's ``init``, the hooks' ``init``) and checks each
part, so a checkpoint of another network, optimizer or set of hooks, or a damaged file, is one
:class:`~infodyn.errors.InputError` naming the file and what to do, not a crash mid-resume.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from infodyn.atomic import save_npz, write_json
from infodyn.errors import InputError, as_path, existing_file, reading, require
from infodyn.learning.synapse_ops import trainable_arrays
from infodyn.network.params_file import CHECKPOINT_PREFIX, params_from_arrays, params_to_arrays

#: network fields a checkpoint fixes: shapes, graph, storage, initial scales and the signs of
#: Dale's law (``frac_exc``). A resume keeps the checkpoint's weights, so another value would be
#: trained on the old graph, or mix two networks (a graph stored dense takes its mask from a
#: fresh draw)
NETWORK_FIXED = (
    "n_in", "n_rec", "n_out", "connectivity", "p_connect", "k_in", "weights", "in_scale",
    "rec_scale", "out_scale", "frac_exc", "ei_mu", "ei_sigma", "inh_factor", "p_ee", "p_ei",
    "p_ie", "p_ii", "input_connectivity",
)  # fmt: skip

ADVICE = (
    "restore it, or train afresh without --resume into another directory (a sweep point: "
    "delete its folder and run the sweep again)"
)


@dataclass
class TrainState:
    """Everything a resumed run needs: weights, optimizer state, feedback matrix, iterations
    done, the metrics so far, the hooks' states and whether a hook asked to stop."""

    params: dict[str, Any]
    opt_state: Any
    feedback: np.ndarray | None
    iteration: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    hook_states: tuple[Any, ...] = ()
    stop: bool = False


def network_record(net: Any) -> dict[str, Any]:
    """The network as the checkpoint stores it: its kind and every field (JSON types)."""
    return {"model": type(net).__name__, **net.model_dump(mode="json")}


def save_checkpoint(
    path: str | os.PathLike,
    state: TrainState,
    options: dict[str, Any],
    mask: Any = None,
    network: dict[str, Any] | None = None,
) -> Path:
    """Write ``state`` to ``path`` and its metrics to ``metrics.json`` beside it (module
    docstring); ``options`` (JSON-able) are stored for the record, and the trainer's
    connectivity ``mask`` (which synapses exist, when weights stored dense are masked) and its
    ``network`` (:func:`network_record`) so that a resume can check them."""
    path = as_path(path)
    arrays = params_to_arrays(state.params, prefix=CHECKPOINT_PREFIX)  # sparse: values + pattern
    leaves = jax.tree_util.tree_leaves(state.opt_state)
    arrays.update({f"opt_{i}": np.asarray(v) for i, v in enumerate(leaves)})
    if state.feedback is not None:
        arrays["feedback"] = np.asarray(state.feedback)
    arrays["iteration"] = np.asarray(state.iteration)
    arrays["stop"] = np.asarray(state.stop)
    for j, hs in enumerate(state.hook_states):
        leaves = jax.tree_util.tree_leaves(hs)
        arrays[f"hook_{j}_n"] = np.asarray(len(leaves))
        arrays.update({f"hook_{j}_{i}": np.asarray(v) for i, v in enumerate(leaves)})
    arrays["options"] = np.asarray(json.dumps(options))
    if network is not None:
        arrays["network"] = np.asarray(json.dumps(network))
    if mask is not None:
        arrays["mask"] = np.asarray(mask) != 0
    write_json(path.with_name("metrics.json"), state.history)
    return save_npz(path, **arrays)


def load_checkpoint(
    path: str | os.PathLike,
    keys: Sequence[str],
    optimizer: optax.GradientTransformation,
    init_hooks: Callable[[dict[str, Any]], tuple[Any, ...]],
    to_param: Callable[[Any], Any],
    options: dict[str, Any] | None = None,
    mask: Any = None,
    network: dict[str, Any] | None = None,
    check_params: Callable[[dict[str, Any]], None] | None = None,
) -> TrainState:
    """The :class:`TrainState` stored at ``path`` (and ``metrics.json`` beside it).

    ``keys`` name the weights, ``to_param`` converts a stored one to the trainer's arrays (its
    precision), ``optimizer`` and ``init_hooks(params)`` give the fresh trees the stored optimizer
    and hook states must match. ``options`` (the resuming trainer's) must name the optimizer and
    the feedback the checkpoint was trained with (:data:`FIXED_OPTIONS`), and ``mask`` (the
    resuming trainer's connectivity mask) the stored one: a trainer whose mask comes from a
    fresh draw under another seed or connectivity would otherwise zero trained synapses and
    grow new ones (checkpoints written before the mask was stored are not checked).
    ``network`` (the resuming trainer's :func:`network_record`) must be the stored one in its
    :data:`NETWORK_FIXED` fields; other changed fields are named in a warning.
    ``check_params(weights)`` (the network's ``validate_params``) checks the stored weights.
    """
    path = existing_file(path, "checkpoint", missing="no checkpoint to resume from")
    with reading(path, "checkpoint", ADVICE):
        data = np.load(path, allow_pickle=False)
        _check_options(data, options or {}, path)
        _check_mask(data, mask, path)
        _check_network(data, network, path)
        try:  # a damaged sparse pattern was named without the file or what to do
            stored = params_from_arrays(data, prefix=CHECKPOINT_PREFIX)
        except InputError as exc:
            raise InputError(f"{path}: {exc}; {ADVICE}") from None
        for key in keys:  # named with the file (was "params['w_rec'] contains NaN", no file)
            if _non_finite(getattr(stored.get(key), "values", stored.get(key))):
                raise InputError(f"{path}: the weights {key} hold NaN or inf; {ADVICE}")
        if check_params is not None:  # before the optimizer state is built on them (a wrong
            try:  # shape was blamed on the optimizer state)
                check_params({k: stored[k] for k in keys})
            except InputError as exc:
                raise InputError(
                    f"{path}: the stored weights do not fit this network: {exc}; {ADVICE}"
                ) from None
        params = {k: to_param(stored[k]) for k in keys}
        opt_state = _optimizer_state(data, optimizer.init(trainable_arrays(params)), path)
        feedback = np.asarray(data["feedback"]) if "feedback" in data else None
        if feedback is not None and (feedback.dtype.kind != "f" or _non_finite(feedback)):
            raise InputError(f"{path}: the feedback matrix is not finite numbers; {ADVICE}")
        it = np.asarray(data["iteration"])
        if it.ndim or it.dtype.kind not in "iu" or it < 0:
            raise InputError(f"{path}: 'iteration' must be one whole number >= 0; {ADVICE}")
        iteration = int(it)
        stop = _stop_flag(data, path)
        hook_states = _hook_states(data, init_hooks(params), path)
    history = _metrics(path.with_name("metrics.json"), iteration)
    return TrainState(params, opt_state, feedback, iteration, history, hook_states, stop)


#: training options a resumed run must share with its checkpoint: the optimizer state and the
#: feedback matrix are stored for them
FIXED_OPTIONS = ("optimizer", "feedback")


def _check_options(data: Any, options: dict[str, Any], path: Path) -> None:
    """Refuse to resume with another optimizer or feedback than the checkpoint's (the stored
    options; a checkpoint without them is not checked)."""
    if "options" not in data or not options:
        return
    stored = _stored_json(data, "options", "the stored training options are", path)
    for key in FIXED_OPTIONS:
        if key in stored and key in options and stored[key] != options[key]:
            raise InputError(
                f"{path}: the checkpoint was trained with {key} = {stored[key]!r}, this trainer "
                f"has {options[key]!r}; resume with {key} = {stored[key]!r}"
            )


def _stored_json(data: Any, key: str, said: str, path: Path) -> Any:
    """The JSON text stored under ``key`` (the options, the network), read; else one
    :class:`InputError` that begins with ``said`` ("the stored network is")."""
    try:
        return json.loads(str(data[key]))
    except (ValueError, TypeError):
        raise InputError(f"{path}: {said} not JSON; {ADVICE}") from None


def _check_network(data: Any, network: dict[str, Any] | None, path: Path) -> None:
    """Refuse a resume into another graph (:data:`NETWORK_FIXED`); warn of other changed fields
    (the dynamics the weights meet from now on)."""
    if "network" not in data or network is None:
        return
    stored = _stored_json(data, "network", "the stored network is", path)
    changed, shown = network_changes(stored, network)
    fixed = [k for k in changed if k in NETWORK_FIXED]
    if fixed:
        raise InputError(
            f"{path}: the checkpoint was trained in another network: {shown}; resume with the "
            "network it was trained in (its weights, graph and signs are those of that network)"
        )
    if changed:
        warnings.warn(
            f"{path}: resuming with other network settings than the checkpoint was trained "
            f"with: {shown}; the trained weights meet the new dynamics from here on",
            UserWarning,
            stacklevel=4,
        )


def network_changes(stored: dict[str, Any], network: dict[str, Any]) -> tuple[list[str], str]:
    """The fields of ``network`` (:func:`network_record`) that differ from ``stored``, and a
    text naming each as ``key (old -> new)``. Only the fields both know: one a later version
    added (or removed) was not recorded, as the whole network was not before checkpoints kept
    it."""
    changed = sorted(k for k in set(stored) & set(network) if stored[k] != network[k])
    return changed, ", ".join(f"{k} ({stored[k]!r} -> {network[k]!r})" for k in changed)


def stored_network(path: str | os.PathLike) -> dict[str, Any] | None:
    """The network a training checkpoint's weights were trained in (:func:`network_record`),
    or None for a file without it (weights of ``save_params``, older checkpoints)."""
    path = Path(path)
    with np.load(path, allow_pickle=False) as data:
        if "network" not in data.files:
            return None
        return _stored_json(data, "network", "the stored network is", path)


def _stop_flag(data: Any, path: Path) -> bool:
    """The stored 'a hook asked to stop' flag: one boolean (text such as 'no' was read as true,
    and the resumed fit did nothing)."""
    if "stop" not in data:
        return False
    flag = np.asarray(data["stop"])
    if flag.ndim or flag.dtype.kind not in "biu" or int(flag) not in (0, 1):
        raise InputError(f"{path}: 'stop' must be one boolean; {ADVICE}")
    return bool(flag)


def _non_finite(values: Any) -> bool:
    """Whether a float (or complex) array holds NaN or inf; other arrays are checked elsewhere."""
    a = np.asarray(values)
    return a.dtype.kind in "fc" and not bool(np.all(np.isfinite(a)))


def _check_mask(data: Any, mask: Any, path: Path) -> None:
    """Refuse a resume whose connectivity mask differs from the checkpoint's."""
    if "mask" not in data:
        return
    stored = np.asarray(data["mask"]) != 0
    ours = None if mask is None else np.asarray(mask) != 0
    if ours is None or ours.shape != stored.shape or not np.array_equal(ours, stored):
        raise InputError(
            f"{path}: the checkpoint was trained on another connectivity mask than this "
            "trainer's (drawn by net.init with its seed and connectivity, or given); resume "
            "with the network, seed and mask it was trained with"
        )


def _optimizer_state(data: Any, fresh_state: Any, path: Path) -> Any:
    """The stored optimizer state on the structure of ``fresh_state``, leaf shapes checked."""
    fresh, treedef = jax.tree_util.tree_flatten(fresh_state)
    if f"opt_{treedef.num_leaves}" in data:  # plain SGD has no leaves: Adam's were dropped
        raise InputError(
            f"{path}: the checkpoint's optimizer state has more parts than this trainer's "
            f"optimizer ({treedef.num_leaves}); resume with the optimizer it was trained with"
        )
    missing = [i for i in range(treedef.num_leaves) if f"opt_{i}" not in data]
    stored = treedef.num_leaves - len(missing)
    if missing and missing[0] < stored:  # a gap: parts lost, not another optimizer's state
        raise InputError(f"{path}: optimizer state opt_{missing[0]} is missing; {ADVICE}")
    if missing:  # plain SGD's none under momentum: read as a damaged file
        raise InputError(
            f"{path}: the checkpoint's optimizer state has fewer parts ({stored}) than this "
            f"trainer's optimizer ({treedef.num_leaves}); resume with the optimizer it was "
            "trained with (if it was this one, the file lost its last parts: restore it)"
        )
    leaves = [jnp.asarray(data[f"opt_{i}"]) for i in range(treedef.num_leaves)]
    for i, (got, want) in enumerate(zip(leaves, fresh, strict=True)):
        if _non_finite(got):
            raise InputError(f"{path}: optimizer state opt_{i} holds NaN or inf; {ADVICE}")
        if got.shape != jnp.shape(want):
            raise InputError(
                f"{path}: optimizer state opt_{i} has shape {got.shape}, this network's "
                f"optimizer needs {jnp.shape(want)}; {ADVICE}"
            )
    return jax.tree_util.tree_unflatten(treedef, leaves)


def check_resumed(state: TrainState, out: Any, n_iterations: int) -> None:
    """Refuse resuming a run past the iterations asked for; warn when a hook had stopped it
    before them (resuming returned its old history, the iterations asked for unsaid)."""
    require(
        state.iteration <= n_iterations,
        f"{out}: the run has done {state.iteration} iterations, more than the "
        f"{n_iterations} asked for; ask for at least {state.iteration} to continue it",
    )
    if state.stop and state.iteration < n_iterations:
        warnings.warn(
            f"{out}: a hook stopped this run at iteration {state.iteration}, so resuming it "
            f"trains no further toward {n_iterations}; to train on, start a new run from its "
            "weights (trainer.state.params)",
            UserWarning,
            stacklevel=3,
        )


def _hook_states(data: Any, fresh: tuple[Any, ...], path: Path) -> tuple[Any, ...]:
    """The hooks' states kept in checkpoint ``data``, each rebuilt on the structure (and leaf
    types) of a fresh ``init``; a checkpoint written without hook states (by a trainer
    without hooks) gives fresh ones."""
    if not any(k.startswith("hook_") for k in data.files):
        return fresh
    states = []
    for j, init in enumerate(fresh):
        leaves, treedef = jax.tree_util.tree_flatten(init)
        key = f"hook_{j}_n"
        if key not in data:
            raise InputError(
                f"{path}: the checkpoint's hook states do not match the hooks of this "
                f"trainer (hook {j}); resume with the hooks it was trained with"
            )
        if int(data[key]) != len(leaves):
            raise InputError(
                f"{path}: hook {j}'s stored state has {int(data[key])} parts, a fresh init of "
                f"it {len(leaves)}: resume with the hooks the run was trained with; a hook "
                "whose state changes structure as it trains (a growing list) cannot be resumed "
                "(keep its state's structure fixed)"
            )
        stored = [_like(old, data[f"hook_{j}_{i}"]) for i, old in enumerate(leaves)]
        states.append(jax.tree_util.tree_unflatten(treedef, stored))
    if f"hook_{len(fresh)}_n" in data:
        raise InputError(
            f"{path}: the checkpoint holds the states of more hooks than this trainer has; "
            "resume with the hooks it was trained with"
        )
    return tuple(states)


def _metrics(metrics: Path, iteration: int) -> list[dict[str, Any]]:
    """The rows of ``metrics.json`` for iterations 1 .. ``iteration``: one each (the file is
    written before the checkpoint, so it may hold later rows, never fewer)."""
    if not metrics.exists():
        if iteration == 0:
            return []
        raise InputError(
            f"{metrics} is missing: the metrics of the checkpoint's {iteration} iterations are "
            f"lost, and a resumed run would report a wrong history; {ADVICE}"
        )
    with reading(metrics, "metrics file", ADVICE):
        rows = json.loads(metrics.read_text())
        if not isinstance(rows, list) or not all(
            isinstance(r, dict) and isinstance(r.get("iteration"), int) for r in rows
        ):
            raise InputError(f"{metrics}: not a list of rows with an 'iteration' each; {ADVICE}")
    # metrics.json is strict JSON: a NaN metric (branching is NaN on most early iterations) was
    # written as null and came back as None, where the run had NaN (np.nanmean of a resumed
    # history raised); inf, written as null too, comes back as NaN
    history = [
        {k: math.nan if v is None else v for k, v in r.items()}
        for r in rows
        if r["iteration"] <= iteration
    ]
    if [r["iteration"] for r in history] != list(range(1, iteration + 1)):
        raise InputError(
            f"{metrics} does not hold one row for each of the checkpoint's {iteration} "
            f"iterations ({len(history)} rows up to it); {ADVICE}"
        )
    return history


def _like(old: Any, value: np.ndarray) -> Any:
    """Stored ``value`` as the kind of leaf ``old`` is: a Python scalar, a JAX or NumPy array."""
    if isinstance(old, (bool, int, float, complex, np.generic)):
        return type(old)(value.item())
    if isinstance(old, jax.Array):
        return jnp.asarray(value)
    return np.asarray(value)
