"""Extending a finished ``infodyn simulate`` run: ``--resume`` with more ``[input] n_steps``.

A finished run keeps the engine's state after its last step, ``DIR/end_state.npz`` (the
checkpoint's last ``state.npz``, :mod:`~infodyn.experiments.simulate_checkpoint`). Given a config
that differs from the run's own (``DIR/config.json``) only by a larger ``[input] n_steps`` (and
the keys that change no spike, :data:`~infodyn.experiments.simulate_checkpoint.HARMLESS`),
``infodyn simulate CONFIG --out DIR --resume`` makes the finished run an interrupted one at its
last step: a checkpoint whose first stretch holds the run's spikes under the longer run's header
and whose state is the end state. The resume then runs the new steps only. The result is the
run of the longer ``n_steps`` from step 0, spike for spike, because the input of the first steps
does not depend on ``n_steps`` (Poisson input and direct current; the private Poisson stream is
drawn by blocks of steps) and the state after them is the saved one. Filtered noise is made for
the whole run at once (its filter and normalisation see every step), so a run driven by it is
refused. The run that was in DIR stays whole until the longer one has finished.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from infodyn.atomic import atomic_path
from infodyn.data.spike_stream import iter_spike_file
from infodyn.errors import InputError
from infodyn.experiments.resume import config_value, stored_config
from infodyn.experiments.simulate_checkpoint import (
    FOLDER,
    HARMLESS,
    STATE,
    SimulationCheckpoint,
    config_changes,
    load_state,
)

#: the engine's state after a finished run's last step, in its run directory
END_STATE = "end_state.npz"

#: input kinds whose first steps are the same for any number of steps
EXTENDABLE_INPUTS = ("poisson", "current")

#: the folder in which an extension's checkpoint is made before it is renamed into place
STAGING = ".extending"

#: spike steps read at a time while the finished run's spikes are copied into the checkpoint
_COPY_STEPS = 10_000


def keep_end_state(checkpoint: Path, run_dir: Path) -> None:
    """Copy the checkpoint's last state (after the run's last step) to :data:`END_STATE`,
    atomically; the checkpoint keeps it until it is removed, so a kill before the run's files
    are written still resumes from it."""
    with atomic_path(run_dir / END_STATE, ".npz") as tmp:
        shutil.copyfile(checkpoint / STATE, tmp)


def finished_run_end(out: Path, config: dict[str, Any], n_steps: int) -> dict[str, Any]:
    """The saved end of the finished run in ``out`` that ``config`` (resolved, with
    ``n_steps`` steps) extends: :func:`load_state`'s dict. Refuses, with what to do, a run that
    cannot be extended to it (another config, as many steps or fewer, filtered noise, no end
    state); the weights are checked by :func:`check_end_weights`."""
    stored = stored_config(out)
    if stored is None or not isinstance(stored.get("config"), dict):
        raise InputError(
            f"{out} holds a finished run without its config.json: nothing to resume; run without "
            "--resume to simulate it again"
        )
    old = stored["config"]
    shown, engine = config_changes(old, config, HARMLESS | {"input.n_steps"})
    if shown:
        raise InputError(
            f"{out} holds a finished simulation of another config: {shown}; a finished run is "
            "extended by [input] n_steps alone: restore the rest, or run without --resume to "
            f"simulate afresh{engine}"
        )
    done = config_value(old, "input.n_steps")
    if not isinstance(done, int):
        raise InputError(
            f"{out / 'config.json'} gives no whole [input] n_steps ({done!r}): the finished run "
            "cannot be extended; run without --resume to simulate afresh"
        )
    if n_steps == done:
        raise InputError(
            f"{out} holds a finished simulation of all its {done:,} steps: nothing to resume; to "
            "extend it, raise [input] n_steps and resume again, or run without --resume to "
            "simulate it again (the new run replaces it when it finishes)"
        )
    if n_steps < done:
        raise InputError(
            f"{out} holds a finished simulation of {done:,} steps, more than the {n_steps:,} "
            "asked for: a run is extended, never cut; analyse its first steps instead "
            "(infodyn criticality/info take the spike file), or run without --resume"
        )
    kind = config_value(config, "input.kind")
    if kind not in EXTENDABLE_INPUTS:
        raise InputError(
            f"{out}: a run driven by [input] kind = {kind!r} cannot be extended (that input is "
            "made for the whole run at once: a longer run's first steps get another input); run "
            "without --resume to simulate the longer run"
        )
    path = out / END_STATE
    if not path.is_file():
        raise InputError(
            f"{out} holds a finished simulation without {END_STATE} (the engine's state after "
            "its last step, which `infodyn simulate` keeps from this version on; a sweep's "
            "batched points keep none), so it cannot be extended; run without --resume to "
            "simulate the longer run"
        )
    end = load_state(path)
    if end["step"] != done:
        raise InputError(
            f"{path} is the state after step {end['step']:,}, but the run has {done:,} steps: "
            "it belongs to another run; run without --resume to simulate the longer run"
        )
    _check_finished_spikes(out, done)
    return end


def _check_finished_spikes(out: Path, done: int) -> None:
    """Refuse a ``spikes.h5`` that is not the finished run's: its header and number of spikes
    against the run's ``results.json`` (a foreign or edited file was spliced into the longer
    run without a word, or one of more steps failed later, leaving a checkpoint that blocked
    the folder)."""
    import json

    from infodyn.data.spike_reader import SpikeReader

    spikes = out / "spikes.h5"
    try:
        results = json.loads((out / "results.json").read_text())
        with SpikeReader(spikes) as reader:
            got = {
                "n_units": reader.n_units,
                "n_steps": reader.n_steps,
                "n_trials": reader.n_trials,
                "dt_ms": reader.dt,
                "n_spikes": reader.n_spikes,
            }
    except (OSError, ValueError, InputError) as exc:
        raise InputError(
            f"the finished run's spikes cannot be read against its results.json ({exc}), so "
            "it cannot be extended; run without --resume to simulate the longer run"
        ) from None
    want = {**{k: results.get(k) for k in got}, "n_steps": done, "n_trials": 1}
    differ = [f"{k} {got[k]!r} (the run's: {want[k]!r})" for k in got if got[k] != want[k]]
    if differ:
        raise InputError(
            f"{spikes} is not the finished run's spike file ({'; '.join(differ)}): restore it, "
            "or run without --resume to simulate the longer run afresh"
        )


def check_end_weights(end: dict[str, Any], digest: str, out: Path) -> None:
    """Refuse weights other than those the finished run used (its end state keeps their
    SHA-256, :func:`~infodyn.experiments.simulate_checkpoint.weights_digest`)."""
    if end["digest"] != digest:
        raise InputError(
            f"{out / END_STATE}: the weights differ from those the finished run used (was "
            "[simulation] params changed, or were they drawn by another infodyn version?); "
            "restore them, or run without --resume to simulate the longer run afresh"
        )


def reopen_as_checkpoint(
    run_dir: Path, args: tuple[Any, ...], end: dict[str, Any], spikes: Path
) -> None:
    """Make ``run_dir/checkpoint`` from the finished run: its spikes under the longer run's
    header (``args`` of :meth:`SimulationCheckpoint.fresh`) and its end state, as a run
    interrupted after its last step would have left it. It is built in a staging folder and
    renamed into place once whole: a kill or a failure on the way leaves the folder as it was
    (the staging folder is removed by the next extension, or here on a failure)."""
    staging = run_dir / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    ckpt = None
    try:
        ckpt = SimulationCheckpoint.fresh(staging, *args[1:])
        ckpt.earlier_s = end["wall_seconds"]
        try:
            for _, _, times, units in iter_spike_file(spikes, _COPY_STEPS, dense=False):
                if times.size:
                    ckpt.on_spikes(times, units)
        except InputError as exc:
            raise InputError(
                f"the finished run's spikes cannot be read ({exc}), so it cannot be extended; "
                "run without --resume to simulate the longer run"
            ) from None
        ckpt.save(end["state"])
        os.replace(ckpt.folder, run_dir / FOLDER)
    except BaseException:
        if ckpt is not None:
            ckpt.discard_open()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
