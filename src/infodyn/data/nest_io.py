"""NEST's spike recordings: a ``spike_recorder``'s events (``{"senders", "times"}``) and the
ASCII files of its ``record_to="ascii"`` backend, binned into a :class:`~infodyn.data.SpikeTrain`.

NEST (Gewaltig & Diesmann 2007; NEST 3.x's recording backends) writes one ASCII file per virtual
process, ``<label>-<recorder id>-<vp>.dat``, each a few ``#`` lines (``# NEST version: 3.10.0``)
then the header ``sender\\ttime_ms`` and one spike a line: the neuron's id and the spike time in
ms. A file read alone left out the spikes of the other threads, so :func:`load_nest_spikes` reads
every sibling ``<label>-<recorder id>-*.dat`` that is a NEST file (and says how many). Files
recorded with ``time_in_steps=True`` (``sender\\ttime_step\\toffset``) are refused: their step
is NEST's resolution, which the file does not give.

Units are the distinct senders in increasing order (``metadata["unit_ids"]`` keeps NEST's ids;
neurons that never spiked are not in the recording: give ``senders=`` the ids of the recorded
population to keep them as silent units). One trial from ``t_start`` (ms, default 0: NEST's
clock) to ``t_stop`` (default: the last spike), binned as every recording is
(:mod:`infodyn.data.timebins`: ``dt`` ms steps, default 1 ms; spikes at exact multiples of dt stay
in their own bin).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.data.notes import warn_data
from infodyn.data.spikes import SpikeTrain
from infodyn.data.timebins import TimedTrial, bin_trials
from infodyn.errors import InputError, as_array

#: the first line NEST's ASCII backend writes
NEST_MARK = "# NEST version"
_VP_FILE = re.compile(r"^(?P<stem>.+)-(?P<vp>\d+)\.dat$")


def is_nest_file(path: Path) -> bool:
    """Whether ``path`` is an ASCII file of NEST's recording backend (its first line)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.readline().startswith(NEST_MARK)
    except OSError:
        return False


def is_nest_events(obj: Any) -> bool:
    """Whether ``obj`` is a spike recorder's events: a mapping with ``senders`` and ``times``."""
    return hasattr(obj, "keys") and {"senders", "times"} <= set(obj.keys())


def load_nest_spikes(
    path: str | os.PathLike,
    dt: float | None = None,
    senders: Sequence[int] | None = None,
    t_start: float = 0.0,
    t_stop: float | None = None,
) -> SpikeTrain:
    """Read a NEST spike recorder's ASCII file, with its sibling files of the other virtual
    processes (module docstring), into a :class:`~infodyn.data.SpikeTrain` of ``dt`` ms steps."""
    path = Path(path)
    files = _sibling_files(path)
    columns = {path: _read_dat(path)}  # the file given first: its errors name it
    columns.update({f: _read_dat(f) for f in files if f != path})
    columns = [columns[f] for f in files]
    _refuse_mixed_runs(path, files, [c[0] for c in columns])
    if len(files) > 1:
        warn_data(
            f"{path}: read with its {len(files) - 1} sibling file(s) of the other virtual "
            f"processes ({', '.join(f.name for f in files)})"
        )
    events = {
        "senders": np.concatenate([c[0] for c in columns]),
        "times": np.concatenate([c[1] for c in columns]),
    }
    return from_nest_events(
        events, dt, senders, t_start, t_stop, source=str(path), files=[str(f) for f in files]
    )


def from_nest_events(
    events: Any,
    dt: float | None = None,
    senders: Sequence[int] | None = None,
    t_start: float = 0.0,
    t_stop: float | None = None,
    source: str = "NEST events",
    files: list[str] | None = None,
) -> SpikeTrain:
    """Bin a spike recorder's ``events`` (``recorder.get("events")``: ``senders`` ids and
    ``times`` in ms) into a :class:`~infodyn.data.SpikeTrain` (module docstring)."""
    if not is_nest_events(events):
        raise InputError(f"{source}: NEST events need 'senders' and 'times', got {events!r:.60}")
    extra = sorted(set(events.keys()) - {"senders", "times"})
    if "offsets" in extra:  # time_in_steps=True: times in steps of NEST's resolution, not ms
        raise InputError(
            f"{source}: events recorded with time_in_steps=True (times in steps of NEST's "
            "resolution, with offsets); record with time_in_steps=False (times in ms)"
        )
    if extra:  # a multimeter's or weight recorder's events: every sample read as a spike
        raise InputError(
            f"{source}: events with {', '.join(map(str, extra))} are not a spike recorder's "
            "(only senders and times)"
        )
    ids = as_array(np.asarray(events["senders"]).reshape(-1), f"{source} senders")
    times = as_array(np.asarray(events["times"], dtype=np.float64).reshape(-1), f"{source} times")
    if ids.size != times.size:
        raise InputError(f"{source}: {ids.size} senders but {times.size} spike times")
    ids = _whole_ids(ids, f"{source}: senders")
    if senders is None:
        if ids.size == 0:
            raise InputError(
                f"{source}: NEST recorded no spikes; to read its neurons as silent units, give "
                "their ids in Python: infodyn.data.load_nest_spikes(path, senders=...) or "
                "from_nest_events(events, senders=...)"
            )
        unit_ids = np.unique(ids)
    else:
        unit_ids = np.unique(
            _whole_ids(as_array(np.asarray(senders).reshape(-1), "senders"), "senders")
        )
        unknown = np.setdiff1d(ids, unit_ids)
        if unknown.size:
            raise InputError(
                f"{source}: spikes of neuron(s) {unknown[:5].tolist()} not in senders="
            )
    units = np.searchsorted(unit_ids, ids)
    stop = None if t_stop is None else float(t_stop) / 1000.0
    trial = TimedTrial(times / 1000.0, units, float(t_start) / 1000.0, stop)
    meta: dict[str, Any] = {"source": source, "format": "nest", "unit_ids": unit_ids.tolist()}
    if files:
        meta["files"] = files
    return bin_trials([trial], int(unit_ids.size), dt, source=source, metadata=meta)


def _whole_ids(ids: np.ndarray, name: str) -> np.ndarray:
    """``ids`` as int64 neuron ids: integers, or floats of whole values (as NEST's ASCII files
    give them); text ("2" sorted after "10"), fractions (1.5 was cut to 1) and booleans are
    refused."""
    whole = ids.dtype.kind in "iu" or (ids.dtype.kind == "f" and np.all(ids == np.round(ids)))
    if not whole:
        raise InputError(f"{name} must be whole neuron ids, got {ids[:5].tolist()}")
    return ids.astype(np.int64)


def _refuse_mixed_runs(path: Path, files: list[Path], senders: list[np.ndarray]) -> None:
    """Refuse a set of per-VP files in which a neuron appears in two: NEST writes each neuron's
    spikes in its own virtual process's file, so those files come from different runs (a folder
    reused with fewer threads kept the old run's other files, merged without a word)."""
    if len(files) < 2:
        return
    ids = np.concatenate([np.unique(s) for s in senders])
    shared, counts = np.unique(ids, return_counts=True)
    twice = shared[counts > 1]
    if twice.size:
        raise InputError(
            f"{path}: neuron(s) {twice[:5].astype(np.int64).tolist()} appear in more than one "
            f"of the files {', '.join(f.name for f in files)}: NEST writes each neuron in one "
            "virtual process's file, so these come from different runs; remove the stale ones"
        )


def _sibling_files(path: Path) -> list[Path]:
    """``path`` and the NEST files of the same recorder's other virtual processes."""
    if not is_nest_file(path):
        raise InputError(f"{path}: not an ASCII file of NEST's recording backend")
    match = _VP_FILE.match(path.name)
    if match is None:
        return [path]
    stem = match.group("stem")
    found = []
    for other in path.parent.iterdir():
        m = _VP_FILE.match(other.name)
        if m and m.group("stem") == stem and other.is_file() and is_nest_file(other):
            found.append((int(m.group("vp")), other))
    return [f for _, f in sorted(found)]


def _read_dat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(senders, times in ms) of one NEST ASCII spike file, parsed by NumPy after its header
    (Python lists of its lines took about 20 times the file's size)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        header: list[str] = []
        for line in fh:
            if line.strip() and not line.startswith("#"):
                header = line.split()
                break
        if not header:
            raise InputError(f"{path}: no header line (sender, time_ms): a truncated NEST file?")
        if header != ["sender", "time_ms"]:  # a multimeter's V_m samples were read as spikes
            raise InputError(
                f"{path}: columns {header} are not a spike recorder's (sender, time_ms)"
                + ("; record with time_in_steps=False" if "time_step" in header else "")
            )
        try:
            with warnings.catch_warnings():  # "input contained no data": no spikes, said later
                warnings.simplefilter("ignore", UserWarning)
                data = np.loadtxt(fh, dtype=np.float64, comments="#", ndmin=2)
        except ValueError:
            raise InputError(f"{path}: a spike line is not 'sender time_ms' numbers") from None
    if data.size == 0:
        return np.zeros(0), np.zeros(0)
    if data.shape[1] != 2:
        raise InputError(f"{path}: a spike line is not 'sender time_ms' numbers")
    if not _ends_with_newline(path):  # "17\t13" of "17\t13.5\n" reads as a whole line
        raise InputError(
            f"{path}: its last line has no line end, so it may be cut short (NEST still "
            "writing, or a truncated copy); wait for the run to finish, or end the line if "
            "it is whole"
        )
    return data[:, 0], data[:, 1]


def _ends_with_newline(path: Path) -> bool:
    """Whether the file's last line is ended (NEST ends every line it writes; blanks after
    the last line end are no line)."""
    with open(path, "rb") as fh:
        fh.seek(max(0, os.fstat(fh.fileno()).st_size - 256))
        tail = fh.read().rstrip(b" \t")
    return not tail or tail.endswith((b"\n", b"\r"))
