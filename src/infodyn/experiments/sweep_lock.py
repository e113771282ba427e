"""One sweep at a time in an output folder: the lock file ``OUT/.sweep.lock``.

:func:`folder_lock` is the same lock under another name, for other commands that must not run
twice in one folder (``infodyn simulate`` holds ``OUT/.simulate.lock``).

Two sweeps on one ``--out`` do not merely repeat work: each starts by removing the temporary
files that killed workers left (:func:`~infodyn.atomic.remove_temporaries`), which are then the
other sweep's files being written (an atomic write whose temporary file vanishes fails, a
simulate point loses its staged spikes). So a sweep holds ``OUT/.sweep.lock`` while it runs:
created with ``O_EXCL`` (one creator wins, on NFS too), holding the owner's host, process id,
start time and a random token, and touched every :data:`HEARTBEAT_S` seconds by a thread.

A second sweep that finds the lock refuses to start, naming the owner, unless the lock is
stale:

- its owner ran on this host and that process is gone (checked at once with ``kill(pid, 0)``; a
  live process holds its lock, even suspended, and a second sweep is refused at once);
- or its modification time does not advance for :data:`STALE_S` seconds (the owner ran on
  another node, as after a SLURM requeue of a killed job, or the file is unreadable because its
  creator was killed before writing it). Only the file's own times are compared, so clocks that
  differ between nodes do not matter.

A stale lock is replaced and the sweep goes on; the lock is removed when the sweep ends, however
it ends. Two sweeps that both find the same stale lock in the same instant may both take it over
(the check of the token before removal narrows that window to a few milliseconds).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infodyn.errors import InputError, writing

#: the lock's name in the sweep's output folder
LOCK_NAME = ".sweep.lock"
#: seconds between two touches of a held lock
HEARTBEAT_S = 10.0
#: seconds without a touch after which a lock of another host counts as abandoned
STALE_S = 30.0
#: seconds between two looks at a lock whose heartbeat is being watched
POLL_S = 0.5


def sweep_lock(out: str | os.PathLike) -> contextlib.AbstractContextManager[Path]:
    """Hold ``out/.sweep.lock`` for the block (see the module docstring); yields its path.
    A live lock of another sweep is one :class:`~infodyn.errors.InputError`."""
    return folder_lock(out, LOCK_NAME, "sweep")


@contextlib.contextmanager
def folder_lock(out: str | os.PathLike, name: str, what: str) -> Iterator[Path]:
    """Hold the lock file ``out/name`` for the block, as :func:`sweep_lock` does for sweeps;
    ``what`` names the holder in the refusal ("another simulation is running in ...")."""
    path = Path(out) / name
    token = uuid.uuid4().hex
    _acquire(path, token, what)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(path, token, stop), daemon=True)
    beat.start()
    try:
        yield path
    finally:
        stop.set()
        beat.join()
        if _owner(path).get("token") == token:
            path.unlink(missing_ok=True)


def refuse_if_held(out: str | os.PathLike, name: str, what: str) -> None:
    """The refusal of :func:`folder_lock` when another process holds ``out/name`` now, without
    taking the lock: for what a command says about a folder before it locks it (a running
    simulation's checkpoint is not an interrupted one, and deleting it killed the run)."""
    path = Path(out) / name
    if path.exists():
        owner = _owner(path)
        if not _stale(path, owner):
            raise InputError(_held_message(path, owner, what))


def is_held(path: Path) -> bool:
    """Whether the lock file ``path`` may be held by a live process, without waiting: on this
    host, whether its process lives; for another host (or an unreadable record), whether its
    heartbeat touched it within :data:`STALE_S` (watching each for :data:`STALE_S`, as
    :func:`_stale` does, made a rerun wait half a minute a leftover point, in silence)."""
    owner, seen = _owner(path), _mtime(path)
    if seen is None:
        return False
    if (pid := _local_pid(owner)) is not None:
        return _process_alive(pid)
    return time.time_ns() - seen < STALE_S * 1e9


def _local_pid(owner: dict[str, Any]) -> int | None:
    """The process id of a lock record written on this host (None for another host's, or an
    unreadable record): its liveness is then known at once."""
    pid = owner.get("pid")
    return pid if owner.get("host") == socket.gethostname() and isinstance(pid, int) else None


def _acquire(path: Path, token: str, what: str) -> None:
    """Create the lock, replacing a stale one; refuse a live one."""
    record = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "token": token,
        "what": what,  # a folder's run lock is taken by every command: the refusal names it
    }
    while (fd := _create(path)) is None:
        owner, seen = _owner(path), _mtime(path)
        if not _stale(path, owner):
            raise InputError(_held_message(path, owner, what))
        if _owner(path) == owner and _mtime(path) == seen:  # still the stale one, untouched
            with writing(path):  # a folder of that name: one line
                path.unlink(missing_ok=True)
    with os.fdopen(fd, "w") as fh:
        json.dump(record, fh)


def _create(path: Path) -> int | None:
    """A descriptor of the new lock file, or ``None`` when a lock is there; any other failure
    (a read-only folder) is one :class:`~infodyn.errors.InputError`."""
    with writing(path):
        try:
            return os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            return None


def _owner(path: Path) -> dict[str, Any]:
    """The lock's record ({} when it is gone, unreadable or not yet written)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _mtime(path: Path) -> int | None:
    """The lock's modification time in ns (``None`` when it is gone)."""
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _stale(path: Path, owner: dict[str, Any]) -> bool:
    """Whether the lock at ``path`` (whose record is ``owner``) was abandoned: its process on
    this host is gone (a live one holds it, even suspended by Ctrl-Z, when it cannot beat), or,
    for another host or an unreadable record, its heartbeat stopped for :data:`STALE_S`."""
    if (pid := _local_pid(owner)) is not None:
        return not _process_alive(pid)
    seen = _mtime(path)
    if seen is None:
        return True
    waited = 0.0
    while waited < STALE_S:
        time.sleep(POLL_S)
        waited += POLL_S
        try:
            if path.stat().st_mtime_ns != seen:
                return False  # touched: its sweep is alive
        except FileNotFoundError:
            return True  # released meanwhile
    return True


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process (or a pid this system cannot hold): assume alive
    return True


def _heartbeat(path: Path, token: str, stop: threading.Event) -> None:
    """Touch the lock every :data:`HEARTBEAT_S` seconds while it is ours. SIGINT and SIGTERM
    are blocked in this thread (Python runs their handlers in the main thread only): while a
    sweep's main thread blocked SIGINT, as its workers started, a Ctrl-C was delivered here and
    discarded (:func:`~infodyn.experiments.sweep_cluster._workers_ignore_sigint`)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    while not stop.wait(HEARTBEAT_S):
        with contextlib.suppress(OSError):
            if _owner(path).get("token") == token:
                os.utime(path)


def _held_message(path: Path, owner: dict[str, Any], what: str) -> str:
    held_by = owner.get("what") if isinstance(owner.get("what"), str) else None
    if held_by is not None and held_by != what:  # a folder's run lock: another command's run
        holder, clash, killed = held_by, "two runs in one folder mix", "run's"
    else:
        holder, clash, killed = what, f"two {what}s in one folder remove", f"{what}'s"
    return (
        f"another {holder} is running in {path.parent} ({_who(owner)}): {clash} each other's "
        f"files; wait for it to end or use another --out (a killed {killed} lock is taken "
        f"over, at once on its host, after {STALE_S:g} s without a heartbeat from another; if "
        f"that process is no {holder}, delete {path})"
    )


def _who(owner: dict[str, Any]) -> str:
    return (
        f"pid {owner.get('pid', '?')} on {owner.get('host', '?')}, started "
        f"{owner.get('started', '?')}"
        if owner
        else "its owner is unknown"
    )
