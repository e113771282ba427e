"""The checkpoint of an ``infodyn simulate`` run: stop after any chunk, continue with ``--resume``.

While a run goes, ``DIR/checkpoint/`` holds

- ``config.json``: the resolved config the run started with. A resume must give the same one;
  only :data:`HARMLESS` keys (how the steps are chunked and how often checkpoints are made) may
  differ, since they change no spike;
- ``spikes-00000.h5``, ``spikes-00001.h5``, ...: the spikes of the stretches of steps between
  checkpoints, each file a spike file of the whole run's header (times within the run) holding
  whole HDF5 chunks of :data:`~infodyn.data.spike_files.CHUNK` spikes, written through a
  temporary file, so that a file cut off by a kill is never under its name;
- ``state.npz``: written after each stretch's file: the steps done, how many files hold their
  spikes, the spikes beyond their last whole chunk (a stretch of fewer has no file), the
  engine's state (:class:`~infodyn.network.chunked.RunState`), a SHA-256 digest of the
  weights (a ``[simulation] params`` file changed in between is refused) and the wall seconds
  the run has taken up to this checkpoint, its earlier sessions' included (:attr:`earlier_s` of
  a resumed run: a resumed run's ``wall_seconds`` counts every session up to the checkpoint it
  continued from, not the steps a kill threw away).

A checkpoint is made every ``[simulation] checkpoint_seconds`` of wall time, after all steps, and
at once when SIGINT or SIGTERM arrives (after the current chunk). A kill that allows nothing
(SIGKILL, a node lost) loses the steps since the last checkpoint: their file, if it was written
before ``state.npz``, is dropped on resume and the steps run again from the saved state, which
gives them the same spikes (:func:`~infodyn.network.chunked.run_chunks`). At the end the files
become the run's one spike file, joined by copying their compressed chunks as stored
(:mod:`infodyn.data.spike_concat`: every file but the last holds whole chunks, the spikes beyond
them waiting in memory, and in ``state.npz``, for the next). Each file is marked as a stretch of
an unfinished run (:data:`~infodyn.data.spike_files.UNFINISHED`), which the readers refuse: its
header gives the whole run's steps, and the steps it lacks were analysed as silence. The folder
is removed once the run's results are written. The folder takes as much disk as the run's spike
file, and both exist while they are joined.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.atomic import save_npz, to_jsonable, write_json
from infodyn.data.spike_concat import check_spike_parts, concatenate_spike_files
from infodyn.data.spike_files import CHUNK, SpikeWriter
from infodyn.errors import InputError, reading
from infodyn.experiments.interrupt import Interrupted, requested
from infodyn.experiments.resume import (
    StaleCheckpoint,
    changed_keys,
    config_value,
    shown_changes,
    stored_config,
)
from infodyn.experiments.rundir import command_in
from infodyn.network.chunked import EVENT_ARRAYS, JAX_ARRAYS, RunState
from infodyn.network.params_file import params_to_arrays

#: the checkpoint folder in a simulate run's directory, and its state file
FOLDER = "checkpoint"
STATE = "state.npz"
#: the start of a stretch's spike file name (``spikes-00000.h5``)
SEGMENT = "spikes-"

#: config keys a resume may change: they change how the run is cut up, not its spikes
HARMLESS = frozenset({"simulation.chunk_steps", "simulation.checkpoint_seconds"})


def weights_digest(params: dict[str, Any]) -> str:
    """SHA-256 of the weights: every array's name, dtype, shape and bytes (sparse ``w_rec`` by
    its parts, :func:`~infodyn.network.params_file.params_to_arrays`)."""
    digest = hashlib.sha256()
    for name, array in sorted(params_to_arrays(params).items()):
        array = np.ascontiguousarray(array)
        digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.data)
    return digest.hexdigest()


def config_changes(
    old: dict[str, Any], new: dict[str, Any], allowed: frozenset[str] = HARMLESS
) -> tuple[str, str]:
    """The changes from the ``old`` resolved config to ``new`` that a resume may not make (keys
    outside ``allowed``), as ``key (old -> new)`` text ("" for none), and the hint to give
    ``--engine`` again where the engine changed (the config file may be unchanged: --engine
    overrides it)."""
    new = to_jsonable(new)  # the types the stored copy has (lists, not tuples)
    changes = [k for k in changed_keys(old, new) if k not in allowed]
    if not changes:
        return "", ""
    shown = {k: [config_value(old, k), config_value(new, k)] for k in changes}
    engine = (
        "; if --engine was given to the first run, give it again"
        if "simulation.engine" in changes
        else ""
    )
    return shown_changes(changes, shown), engine


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (read 1 MiB at a time), as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def saved_step(run_dir: str | os.PathLike) -> int | None:
    """The steps an interrupted simulation in ``run_dir`` has done (``None``: no checkpoint)."""
    path = Path(run_dir) / FOLDER / STATE
    if not path.exists():
        return None
    return load_state(path)["step"]


class SimulationCheckpoint:
    """The checkpoint folder of one run (module docstring): a fresh one (:meth:`fresh`) or one
    continued (:meth:`resumed`). Its :meth:`on_spikes` and :meth:`after_chunk` are the
    callbacks of :func:`~infodyn.network.chunked.run_chunks`."""

    def __init__(self, folder: Path, header: dict[str, Any], every_s: float, digest: str) -> None:
        self.folder = folder
        self.header = header  # n_units, dt, n_steps, metadata of every spike file
        self.every_s = every_s
        self.digest = digest
        self.segments = 0  # spike files the last state.npz counts
        self.segment_sha256: list[str] = []  # their SHA-256s, kept with them in state.npz
        self.saved = False  # a state.npz exists
        self._writer: SpikeWriter | None = None
        self._held: list[tuple[np.ndarray, np.ndarray]] = []  # spikes not yet in a file
        self._n_held = 0
        self._last = time.monotonic()
        self._started = self._last
        self.earlier_s = 0.0  # the wall seconds of the sessions before, up to their checkpoint

    def wall_seconds(self) -> float:
        """The run's wall seconds so far: this session's and :attr:`earlier_s`."""
        return self.earlier_s + time.monotonic() - self._started

    @classmethod
    def fresh(
        cls, run_dir: Path, config: dict[str, Any], header: dict[str, Any], every_s: float,
        digest: str,
    ) -> SimulationCheckpoint:  # fmt: skip
        """Start a new checkpoint folder in ``run_dir``: an old one of a simulation without a
        state is replaced (the caller refuses one with a state), a folder of that name that is
        not a simulation's checkpoint is refused (it is the user's)."""
        folder = run_dir / FOLDER
        if folder.exists() and not _is_checkpoint(folder):
            raise InputError(
                f"{folder} is in the way: it is not a simulation's checkpoint, and a run in "
                f"{run_dir} keeps its checkpoint there; choose another --out (nothing was changed)"
            )
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        write_json(folder / "config.json", {"command": "simulate", "config": config})
        return cls(folder, header, every_s, digest)

    @classmethod
    def resumed(
        cls, run_dir: Path, config: dict[str, Any], header: dict[str, Any], every_s: float,
        digest: str,
    ) -> tuple[SimulationCheckpoint, RunState | None]:  # fmt: skip
        """Open ``run_dir``'s checkpoint to continue it: the config must be the one it started
        with (but :data:`HARMLESS` keys) and the weights the same; returns it and the saved
        state (``None`` when it holds none yet: the run starts at step 0). A stretch's file
        written after the last state (by a run killed then) is removed; the caller removes the
        temporary files a kill left."""
        folder = run_dir / FOLDER
        if (folder / STATE).is_file() and not _is_checkpoint(folder):  # damaged: without
            # --resume it said "pass --resume", with it "no interrupted simulation to resume"
            what = "is missing" if not (folder / "config.json").is_file() else "is damaged"
            raise InputError(
                f"{folder / 'config.json'} {what}: the settings the interrupted run started "
                f"with are unknown; delete {folder} and simulate afresh"
            )
        stored = stored_config(folder) if _is_checkpoint(folder) else None
        if stored is None:
            raise InputError(
                f"{run_dir}: no interrupted simulation to resume (no simulation checkpoint in "
                f"{folder})"
            )
        shown, engine = config_changes(stored["config"], config)
        if shown:
            raise InputError(
                f"{folder / 'config.json'}: the config differs from the one this simulation "
                f"started with: {shown}; resume with the original config, or delete {folder} "
                f"and simulate afresh{engine}"
            )
        ckpt = cls(folder, header, every_s, digest)
        if not (folder / STATE).exists():
            ckpt._drop_segments_from(0)
            return ckpt, None
        saved = load_state(folder / STATE)
        if saved["digest"] != digest:
            raise StaleCheckpoint(
                f"{folder / STATE}: the weights differ from those the interrupted run used (was "
                "[simulation] params changed, or were they drawn by another infodyn version?); "
                f"restore them, or delete {folder} and simulate afresh"
            )
        ckpt.segments, ckpt.saved = saved["segments"], True
        ckpt.earlier_s = saved["wall_seconds"]
        missing = [p.name for p in ckpt.segment_paths() if not p.is_file()]
        if missing:
            raise InputError(
                f"{folder}: the spike files {missing[:3]} of the interrupted run are missing; "
                f"delete {folder} and simulate afresh"
            )
        try:  # before the rest of the run, not at the join after it
            check_spike_parts(ckpt.segment_paths())
        except InputError as exc:
            raise InputError(f"{exc}; delete {folder} and simulate afresh") from None
        if saved["segment_sha256"] is not None:  # (a checkpoint of an earlier version: none)
            # a damaged stretch was found only at the join, after the rest of the run
            changed = [
                p.name
                for p, want in zip(ckpt.segment_paths(), saved["segment_sha256"], strict=True)
                if file_sha256(p) != want
            ]
            if changed:
                raise InputError(
                    f"{folder}: the spike files {changed[:3]} of the interrupted run changed "
                    "since they were checkpointed (their SHA-256 differs: damaged or "
                    f"replaced); delete {folder} and simulate afresh"
                )
            ckpt.segment_sha256 = list(saved["segment_sha256"])
        else:  # its files as they are now (the next state.npz counts a digest for each)
            ckpt.segment_sha256 = [file_sha256(p) for p in ckpt.segment_paths()]
        ckpt._drop_segments_from(ckpt.segments)
        ckpt._held, ckpt._n_held = [saved["held"]], len(saved["held"][0])
        return ckpt, saved["state"]

    def segment_path(self, k: int) -> Path:
        return self.folder / f"{SEGMENT}{k:05d}.h5"

    def segment_paths(self) -> list[Path]:
        """The spike files the last state counts, in order."""
        return [self.segment_path(k) for k in range(self.segments)]

    def _drop_segments_from(self, k: int) -> None:
        for path in self.folder.glob(f"{SEGMENT}*.h5"):
            number = path.stem.removeprefix(SEGMENT)
            if number.isdigit() and int(number) >= k:
                path.unlink()

    def on_spikes(self, times: np.ndarray, units: np.ndarray) -> None:
        """Take a chunk's spikes: whole dataset chunks (:data:`CHUNK` spikes) go to the current
        stretch's file, the rest waits for the next spikes (so that the files join by copying
        their compressed chunks, :mod:`infodyn.data.spike_concat`)."""
        self._held.append((times, units))
        self._n_held += len(times)
        if self._n_held >= CHUNK:
            self._write_held(whole_chunks=True)

    def _write_held(self, whole_chunks: bool) -> None:
        """Append the spikes held (their whole chunks only, ``whole_chunks``) to the current
        stretch's file, opening it first (not for no spikes: a stretch of none has no file)."""
        times, units = self.held()
        cut = len(times) - len(times) % CHUNK if whole_chunks else len(times)
        if cut == 0:
            return
        if self._writer is None:
            self._writer = SpikeWriter(  # marked: the readers refuse it until the run ends
                self.segment_path(self.segments), **self.header, unfinished=True
            )
        self._writer.append(times[:cut], units[:cut])
        self._held = [(times[cut:], units[cut:])]
        self._n_held = len(times) - cut

    def held(self) -> tuple[np.ndarray, np.ndarray]:
        """The spikes not yet in a file, as one (times, units) pair."""
        times = np.concatenate([t for t, _ in self._held] or [np.zeros(0, np.int64)])
        units = np.concatenate([u for _, u in self._held] or [np.zeros(0, np.int32)])
        return times.astype(np.int64, copy=False), units.astype(np.int32, copy=False)

    def after_chunk(self, stop: int, snapshot: Any) -> None:
        """Checkpoint after this chunk when ``checkpoint_seconds`` have passed since the last,
        after the last step, or when a signal came (then stop:
        :class:`~infodyn.experiments.interrupt.Interrupted`, unless this chunk was the last: the
        run is whole then and goes on to write its files, where it stopped after every step
        with no results and asked for a ``--resume`` to write them)."""
        signal = requested()  # read once: one that comes after this is taken after a chunk
        due = time.monotonic() - self._last >= self.every_s
        last = stop == self.header["n_steps"]
        if due or signal is not None or last:
            self.save(snapshot())
        if signal is not None and not last:
            raise Interrupted(
                f"simulation stopped after {stop:,} of {self.header['n_steps']:,} steps, "
                f"checkpointed in {self.folder} (stopped on {signal})"
            )

    def save(self, state: RunState) -> None:
        """Close the current stretch's file with its whole chunks of spikes (all of them after
        the last step), then write ``state.npz`` counting it, with the spikes left over (a
        stretch of fewer spikes than a chunk leaves them all there, and no file)."""
        self._write_held(whole_chunks=state.step < self.header["n_steps"])
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self.segment_sha256.append(file_sha256(self.segment_path(self.segments)))
            self.segments += 1
        times, units = self.held()
        arrays = {f"state.{k}": v for k, v in state.arrays.items()}
        save_npz(
            self.folder / STATE,
            step=np.int64(state.step),
            engine=np.str_(state.engine),
            precision=np.str_(state.precision),
            segments=np.int64(self.segments),
            segment_sha256=np.array(self.segment_sha256, dtype="U64"),
            digest=np.str_(self.digest),
            wall_seconds=np.float64(self.wall_seconds()),
            held_times=times,
            held_units=units,
            **arrays,
        )
        self.saved = True
        self._last = time.monotonic()

    def discard_open(self) -> None:
        """Drop the stretch being written (a failed run): the last checkpoint stays whole."""
        if self._writer is not None:
            self._writer.close(error=True)
            self._writer = None

    def spikes_into(self, path: Path) -> None:
        """The run's spike file at ``path``, made from the stretches by copying their
        compressed chunks (:func:`~infodyn.data.spike_concat.concatenate_spike_files`, which
        leaves out their mark of an unfinished run: a single stretch was linked, and kept it);
        they are kept until :meth:`remove`, so a stop before the run's results are written can
        still resume."""
        path.unlink(missing_ok=True)
        paths = self.segment_paths()
        if not paths:  # a run without a spike
            SpikeWriter(path, **self.header).close()
            return
        try:
            concatenate_spike_files(paths, path)
        except InputError as exc:  # a stretch's file damaged since it was written
            raise InputError(f"{exc}; delete {self.folder} and simulate afresh") from None

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _is_checkpoint(folder: Path) -> bool:
    """Whether ``folder`` is a simulation's checkpoint (its ``config.json`` says so) or an
    empty folder: what :class:`SimulationCheckpoint` may replace and remove."""
    if not folder.is_dir():
        return False
    return not any(folder.iterdir()) or command_in(folder / "config.json") == "simulate"


def load_state(path: Path) -> dict[str, Any]:
    """``state.npz``: its step, stretch count, weights digest and the engine's state."""
    advice = f"delete {path.parent} and simulate afresh"
    with reading(path, "simulation checkpoint", advice), np.load(path) as data:
        engine = str(data["engine"])
        names = EVENT_ARRAYS if engine == "event" else JAX_ARRAYS
        state = RunState(
            int(data["step"]),
            engine,
            str(data["precision"]),
            {k: data[f"state.{k}"] for k in names},
        )
        for name, value in state.arrays.items():  # NaN in v resumed at 11 Hz for 27, unsaid
            if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
                raise ValueError(f"its state.{name} holds NaN or inf")
        segments = int(data["segments"])
        if segments < 0:
            raise ValueError(f"it counts {segments} spike files")
        held = (data["held_times"].astype(np.int64), data["held_units"].astype(np.int32))
        sha256 = None  # (written before the stretches' digests were kept: none)
        if "segment_sha256" in data.files:
            sha256 = [str(d) for d in data["segment_sha256"]]
            if len(sha256) != segments:
                raise ValueError(f"it has {len(sha256)} digests for {segments} spike files")
        # (a checkpoint written before its wall seconds were kept counts none)
        wall = float(data["wall_seconds"]) if "wall_seconds" in data.files else 0.0
        if not (np.isfinite(wall) and wall >= 0.0):
            raise ValueError(f"it counts {wall} wall seconds")
        return {"step": state.step, "state": state, "segments": segments, "held": held,
                "digest": str(data["digest"]), "wall_seconds": wall,
                "segment_sha256": sha256}  # fmt: skip
