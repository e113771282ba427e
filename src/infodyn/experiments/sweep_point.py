"""One point of a sweep, on a Dask worker: run it into its folder and write its done marker.

``OUT/points/NAME/`` holds the command's own run directory, ``attempts.jsonl`` (one line per
start of the point: pid, host, time) and, once its run returned, ``DONE.json``: the point's
config hash (``key``), a checksum of its results (a marker edited or damaged since is not
taken as done: the point runs again, with a warning), the files its config names
(:func:`~infodyn.experiments.grid.input_files`: path, size, modification time), its results,
attempts and wall time, written atomically. A
point whose marker holds its key and unchanged input files is done: :func:`read_marker` and
:func:`~infodyn.experiments.grid.changed_inputs` tell, here before a point runs (Dask reruns the
finished tasks of a worker it lost) and in :func:`~infodyn.experiments.sweep.run_sweep` before
it schedules. A point that fails the same way every time (bad input, a full or read-only disk)
returns one line under :data:`INPUT_ERROR` instead of a marker, and is not retried.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
import warnings
from pathlib import Path
from typing import Any

from infodyn.atomic import write_json
from infodyn.errors import InputError, os_error_line
from infodyn.experiments.config import CommandSpec, validate
from infodyn.experiments.grid import SweepPoint, changed_inputs, input_files
from infodyn.experiments.journal import stored_checksum
from infodyn.experiments.plugins import load_plugins
from infodyn.experiments.resume import StaleCheckpoint
from infodyn.progress import warning_line

DONE_MARKER = "DONE.json"
ATTEMPTS_LOG = "attempts.jsonl"


def _log_attempt(out: Path, key: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {"key": key, "pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    )
    with open(out / ATTEMPTS_LOG, "a") as fh:
        fh.write(line + "\n")


def count_attempts(out: str | os.PathLike) -> int:
    """How many times a point's run was started (one line per start in ``attempts.jsonl``)."""
    try:  # bytes: one stray non-UTF-8 byte failed every rerun of the sweep
        return len((Path(out) / ATTEMPTS_LOG).read_bytes().splitlines())
    except OSError:
        return 0


def _mark_done(
    out: Path, key: str, results: dict[str, Any], wall: float, inputs: dict[str, list[Any]]
) -> dict[str, Any]:
    marker = {
        "key": key,
        "inputs": inputs,
        "checksum": stored_checksum(results),
        "results": results,
        "attempts": count_attempts(out),
        "wall_seconds": wall,
        "finished": time.time(),
        "pid": os.getpid(),
    }
    write_json(out / DONE_MARKER, marker)
    return json.loads((out / DONE_MARKER).read_text())


#: the key of what a point returns instead of its marker when its input is bad (InputError)
INPUT_ERROR = "input_error"

#: file-system errors a retry cannot mend (no space, quota, read-only, permissions): a point
#: fails at once with their one line, as on bad input (they were retried, and reported as
#: crashes with h5py's text)
_FILE_SYSTEM_STATE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


#: file-system states that fail every point of a batch alike (not one point's file: EACCES)
_WHOLE_FILE_SYSTEM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def _not_retried(exc: BaseException) -> str | None:
    """The one line of a failure that fails the same way every time, or None (retry it)."""
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in _FILE_SYSTEM_STATE:
        return os_error_line(exc)
    return None


def run_point(
    spec: CommandSpec, config: dict[str, Any], out: str, key: str, logged: bool = False
) -> dict[str, Any]:
    """Run one sweep point into ``out`` and write its done marker; returns the marker.

    A point cut off earlier continues from its checkpoint when the command declares one. A
    point that finished already (Dask reruns a lost worker's finished tasks) is not run again.
    ``logged``: this attempt is in the point's log already (a batch's, run again alone).
    """
    out_path = Path(out)
    inputs = input_files(config)
    done = finished_marker(out_path, key, inputs)
    if done is not None:
        return done
    if not logged:
        _log_attempt(out_path, key)
    t0 = time.perf_counter()
    warnings.showwarning = warning_line  # a worker's warnings as the command line prints them
    try:
        load_plugins()  # a worker process: what the plugins register (loss kinds) is used here
        cfg = validate(spec.config_model(), config, source=str(out_path))
        results = _run_or_resume(spec, cfg, out_path)
    except (InputError, OSError) as exc:  # bad input fails the same way every time
        if (line := _not_retried(exc)) is None:
            raise
        return {"key": key, INPUT_ERROR: line}
    return _mark_done(out_path, key, results, time.perf_counter() - t0, inputs)


def _run_or_resume(spec: CommandSpec, cfg: Any, out: Path) -> dict[str, Any]:
    """Run the point, continuing from its checkpoint when it has one; a checkpoint made from
    input files that changed since (:class:`~infodyn.experiments.resume.StaleCheckpoint`) is
    removed and the point runs afresh, as a finished point whose inputs changed does."""
    checkpoint = None if spec.checkpoint is None else out / spec.checkpoint
    if checkpoint is not None and checkpoint.exists():
        try:
            return spec.runner()(cfg, out, resume=True)
        except StaleCheckpoint:
            checkpoint.unlink()
    return spec.runner()(cfg, out)


def run_point_batch(
    spec: CommandSpec, items: list[tuple[dict[str, Any], str, str]]
) -> list[dict[str, Any]]:
    """Run several points with the command's batched runner; one marker per point (the
    points that finished already are not run again, and those cut off with a checkpoint
    continue it, alone, as in :func:`run_point`)."""
    inputs = [input_files(config) for config, _, _ in items]
    done = [
        finished_marker(out, key, files) for (_, out, key), files in zip(items, inputs, strict=True)
    ]
    for k, (config, out, key) in enumerate(items):  # cut off with a checkpoint: continue it
        if done[k] is None and spec.checkpoint and (Path(out) / spec.checkpoint).exists():
            done[k] = run_point(spec, config, out, key)
    if any(marker is not None for marker in done):
        todo = [item for item, marker in zip(items, done, strict=True) if marker is None]
        ran = iter(run_point_batch(spec, todo) if todo else [])
        return [next(ran) if marker is None else marker for marker in done]
    outs = [Path(out) for _, out, _ in items]
    for out, (_, _, key) in zip(outs, items, strict=True):
        _log_attempt(out, key)
    t0 = time.perf_counter()
    warnings.showwarning = warning_line
    try:
        load_plugins()
        model = spec.config_model()
        cfgs = [validate(model, c, source=str(o)) for (c, _, _), o in zip(items, outs, strict=True)]
        results = spec.batch_runner()(cfgs, outs)
    except (InputError, OSError) as exc:  # not retried (see run_point)
        if (line := _not_retried(exc)) is None:
            raise
        if len(items) == 1 or getattr(exc, "errno", None) in _WHOLE_FILE_SYSTEM:  # (a full disk
            return [{"key": key, INPUT_ERROR: line} for _, _, key in items]  # fails them all)
        # one point's bad input (or a file of its own it may not read or write) refused the whole
        # batch (a 5000 Hz point failed the 50 Hz points beside it, with its message): each
        # runs alone, to finish or fail on its own, in the attempt the batch logged
        return [run_point(spec, c, out, key, logged=True) for c, out, key in items]
    wall = (time.perf_counter() - t0) / len(items)
    return [
        _mark_done(out, key, res, wall, files)
        for out, (_, _, key), res, files in zip(outs, items, results, inputs, strict=True)
    ]


def finished_marker(
    out: str | os.PathLike, key: str, inputs: dict[str, list[Any]]
) -> dict[str, Any] | None:
    """The marker of a point that finished under the same config and the same input files
    (:func:`~infodyn.experiments.grid.input_files`), whose data files are still there
    (:func:`missing_outputs`), else None: the point is to run."""
    marker = read_marker(out, key)
    if marker is None or changed_inputs(marker, inputs) or missing_outputs(out, marker):
        return None
    return marker


def read_marker(
    out: str | os.PathLike, key: str | None, warn: bool = False
) -> dict[str, Any] | None:
    """The done marker of a point if it exists and belongs to the same config (``key``; None:
    whichever config it names), else None. ``warn``: say so when the marker is damaged
    (unreadable, not JSON, not a marker, or its results not matching their checksum) and the
    point therefore runs again: the sweep's first look says it once (a worker's look again
    printed it twice, once as a raw Python warning)."""
    path = Path(out) / DONE_MARKER
    if not path.exists():
        return None
    try:
        marker = json.loads(path.read_text())
        damage = None
        if not isinstance(marker, dict) or not isinstance(marker.get("results"), dict):
            damage = "it is not a done marker"
    except (OSError, ValueError) as exc:  # unreadable, not JSON, not UTF-8
        marker, damage = None, f"it cannot be read ({type(exc).__name__})"
    if damage is None and key is not None and marker.get("key") != key:
        return None  # another config's point: not damage
    if damage is None and "checksum" in marker:  # a marker written before checksums is read
        if marker["checksum"] != stored_checksum(marker["results"]):  # as it is
            damage = "its results do not match their checksum (edited or damaged)"
    if damage is not None:
        if warn:
            warnings.warn(f"{path}: {damage}; the point runs again", stacklevel=2)
        return None
    return marker


def missing_outputs(out: str | os.PathLike, marker: dict[str, Any]) -> list[str]:
    """The data files a finished point's results name (``"files"``: ``spikes.h5``,
    ``model.npz``, ...; figures aside) that are no longer in its folder ``out``: a point whose
    ``spikes.h5`` was deleted counted as done, and was never made again."""
    files = marker["results"].get("files")
    if not isinstance(files, dict):
        return []
    named = [f for f in files.values() if isinstance(f, str) and not f.startswith("figures/")]
    return [f for f in named if not (Path(out) / f).exists()]


def refuse_files_in_the_way(points_dir: Path, folders: list[Path]) -> None:
    """Refuse, before any point runs, a file where the sweep's ``points`` folder or a point's
    folder goes (a worker's ``mkdir`` raised, Dask retried the point and printed its traceback,
    and the sweep ended as a failed point with exit code 1)."""
    for path in (points_dir, *folders):
        if path.exists() and not path.is_dir():
            what = "points folder" if path == points_dir else "folder of a point"
            raise InputError(
                f"{path}: a file is in the way of the sweep's {what}; move it, or choose "
                "another --out"
            )
        if path == points_dir and not path.exists():
            return  # no point's folder can exist either


def adopt_finished_folders(points_dir: Path, points: list[SweepPoint]) -> int:
    """Rename the folder of a finished point of the same config (its name ends in the same
    hash, ``key[:10]``) to the name of each of ``points`` that has no folder yet; returns how
    many were renamed. The same config can be named otherwise: a grid key added at its base
    value, ``=1`` for ``=1.0``, another key order, ``--seeds 1``; such points ran again, into
    folders beside their finished twins. Folders of the current points are never moved, and
    the folder is listed once (not once a point: a sweep may have 10^4 of them)."""
    if not points_dir.is_dir():
        return 0
    taken = {p.name for p in points}
    by_hash: dict[str, list[Path]] = {}
    for folder in sorted(points_dir.iterdir()):
        if folder.name not in taken and folder.is_dir():
            by_hash.setdefault(folder.name.rsplit("_", 1)[-1], []).append(folder)
    adopted = 0
    for p in points:
        target = points_dir / p.name
        if target.exists():
            continue
        twins = by_hash.get(p.key[:10], [])
        for other in twins:
            if read_marker(other, p.key) is None:
                continue
            try:
                other.rename(target)
            except OSError:  # cannot be moved (permissions): the point runs as before
                break
            twins.remove(other)
            adopted += 1
            break
    return adopted


def earlier_markers(
    points: list[SweepPoint], point_dir: dict[str, Path]
) -> tuple[dict[str, dict[str, Any]], set[str], list[str]]:
    """The done markers of points an earlier run finished whose input files are unchanged and
    whose data files are there, the keys of the input files replaced since their points
    finished, and the data files gone from theirs (those points run again)."""
    markers: dict[str, dict[str, Any]] = {}
    replaced: set[str] = set()
    lost: list[str] = []
    for p in points:
        marker = read_marker(point_dir[p.key], p.key, warn=True)
        changed = [] if marker is None else changed_inputs(marker, input_files(p.config))
        gone = [] if marker is None else missing_outputs(point_dir[p.key], marker)
        replaced.update(changed)
        lost += [f"{point_dir[p.key].name}/{f}" for f in gone]
        if marker is not None and not changed and not gone:
            markers[p.key] = marker
    return markers, replaced, lost


def earlier_notes(adopted: int, replaced: set[str], lost: list[str]) -> list[str | None]:
    """What the sweep did with an earlier run's points, for the summary's notes."""
    notes: list[str | None] = []
    if lost:
        more = f" and {len(lost) - 3} more" if len(lost) > 3 else ""
        notes.append(
            f"points that had finished run again: their data files were gone "
            f"({', '.join(lost[:3])}{more})"
        )
    if adopted:
        notes.append(
            f"{adopted} finished point(s) of the same config under another name were renamed "
            "to this grid's names and not run again"
        )
    if replaced:
        notes.append(
            f"points that had finished run again: their input files changed since "
            f"({', '.join(sorted(replaced))})"
        )
    return notes
