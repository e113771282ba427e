"""Spike trains of any file Neo reads (Garcia et al. 2014), as a :class:`~infodyn.data.SpikeTrain`.

Needs the optional extra: ``pip install infodyn[neo]``.

Neo reads some fifty formats (Plexon, Blackrock, Spike2, NeuroExplorer, NIX, Neo's MATLAB
files, ...) into ``Block`` objects of ``Segment`` objects holding ``SpikeTrain`` objects. Each
segment that holds spike trains becomes one trial spanning ``[t_start, t_stop]`` of its spike
trains (a spike on ``t_stop``, which Neo allows, is kept in the trial's last step), and spike train
``i`` of a segment becomes unit ``i`` - or, when every spike train has a distinct name, the
units are the names (in order of first appearance), so a unit keeps its index across segments
that list it in another order. Times are binned into steps of ``dt`` ms
(:func:`infodyn.data.timebins.bin_trials`).

Neo's ``PickleIO`` is never used: unpickling a file runs whatever code the file names, so a
spike file could run commands (infodyn's own ``.npz`` reader likewise loads with
``allow_pickle=False``). Save such data with Neo's ``NixIO`` or as NWB instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.data.notes import warn_data
from infodyn.data.spikes import SpikeTrain
from infodyn.data.timebins import TimedTrial, bin_trials
from infodyn.errors import InputError

#: Neo readers never tried: reading a file with them can run code it holds
UNSAFE_NEO_IOS = frozenset({"PickleIO"})


def _neo() -> Any:
    try:
        import neo
    except ImportError:
        raise InputError("reading this format needs Neo: pip install 'infodyn[neo]'") from None
    return neo


def load_neo_spikes(path: str | os.PathLike, dt: float | None = None) -> SpikeTrain:
    """Read the spike trains of a file Neo can read; ``dt`` is the bin in ms (default 1 ms).

    Neo's readers for the file's suffix are tried in Neo's order until one finds spike trains
    (``.txt``, for instance, may hold signals or spike times). All blocks are read; their
    segments become trials (module docstring)."""
    neo = _neo()
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        candidates = neo.io.list_candidate_ios(str(path))
    except Exception:  # Neo raises several types for names it cannot place
        candidates = []
    unsafe = [cls for cls in candidates if cls.__name__ in UNSAFE_NEO_IOS]
    candidates = [cls for cls in candidates if cls.__name__ not in UNSAFE_NEO_IOS]
    tried = [f"{cls.__name__} is not used (unpickling runs code from the file)" for cls in unsafe]
    for cls in candidates:
        with warnings.catch_warnings(record=True) as caught, _quiet_neo_logs():
            warnings.simplefilter("always")
            try:
                io = cls(str(path))
                blocks = io.read(lazy=False)
            except Exception as exc:  # each Neo IO raises its own types for unreadable files
                tried.append(f"{cls.__name__} failed ({type(exc).__name__}: {exc})")
                continue
            finally:
                close = getattr(locals().get("io"), "close", None)
                if callable(close):
                    close()
        try:  # a reader that read nothing (None: a MATLAB file without Neo's structure)
            segments = [seg for seg in _segments(blocks, neo) if seg]
        except InputError:
            segments = []
        if not segments:
            tried.append(f"{cls.__name__} finds no spike trains")
            continue
        for w in caught:  # the warnings of the reader that is used, not of those tried before
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return spikes_from_neo(blocks, dt, source=str(path))
    if not tried:
        raise InputError(
            f"{path}: unknown spike file type {path.suffix!r}: neither infodyn nor Neo has a "
            f"reader for it (infodyn reads .h5, .npz, .nwb and Kilosort/phy folders)"
        )
    # Neo's readers of this suffix could not use it: corrupt, or another kind of data (it was
    # called "unknown", and a .txt listed every reader tried in one very long line)
    shown = [t if len(t) <= 160 else t[:157] + "..." for t in tried[:3]]
    more = f"; and {len(tried) - 3} more readers" if len(tried) > 3 else ""
    text = path.suffix.lower() in (".csv", ".tsv", ".txt")  # said nothing of what to do
    hint = (
        "; for spike times in a text table, save them as NPZ instead: "
        "np.savez('spikes.npz', times=<steps>, units=<unit indices 0..n-1>, n_units=<n>) "
        "(docs/recordings.md)"
        if text
        else ""
    )
    raise InputError(
        f"{path}: no spike trains readable by Neo's readers of {path.suffix!r} files (corrupt, or "
        f"not spike data?): " + "; ".join(shown) + more + hint
    )


def spikes_from_neo(obj: Any, dt: float | None = None, *, source: str = "neo") -> SpikeTrain:
    """Bin Neo objects: a ``Block``, a ``Segment``, a ``SpikeTrain``, or a list of any of these
    (a list of spike trains is one trial; a list of blocks or segments, consecutive trials)."""
    neo = _neo()
    every = _segments(obj, neo)
    segments = [seg for seg in every if seg]
    if not segments:
        raise InputError(f"{source}: holds no spike trains")
    empty = [i for i, seg in enumerate(every) if not seg]
    if empty:  # a trial without trains has no bounds: left out, and said (trials renumbered)
        warn_data(
            f"{source}: segment(s) {_listed(empty)} of {len(every)} hold no spike trains (no "
            f"start or stop to bin) and are left out: the {len(segments)} trials are the other "
            "segments, in order"
        )
    names = [st.name for seg in segments for st in seg]
    by_name = all(isinstance(n, str) and n for n in names) and all(
        len({st.name for st in seg}) == len(seg) for seg in segments
    )
    unit_ids: list[Any] = []
    if by_name:
        for n in names:
            if n not in unit_ids:
                unit_ids.append(n)
    else:
        unit_ids = list(range(max(len(seg) for seg in segments)))
        counts = sorted({len(seg) for seg in segments})
        if len(counts) > 1:  # a segment short of its first train shifted every later one
            warn_data(
                f"{source}: segments hold {' or '.join(map(str, counts))} spike trains, without "
                "a name of their own each; train i of every segment is read as unit i (give "
                "each train of a segment its own name, SpikeTrain.name, to match them by name)"
            )
    index = {u: i for i, u in enumerate(unit_ids)}
    trials = []
    for seg in segments:
        seconds, units = [], []
        for i, st in enumerate(seg):
            # float32 times as the decimals they print as, in their own unit (0.35 s in float32
            # is 0.3499999940 s: about half of all whole-millisecond times fell a step early)
            per_unit = float(st.times.units.rescale("s").magnitude)
            seconds.append(_decimals(np.asarray(st.times.magnitude)) * per_unit)
            units.append(np.full(len(st), index[st.name if by_name else i], dtype=np.int64))
        raw_start = min(float(st.t_start.rescale("s").magnitude) for st in seg)
        raw_stop = max(float(st.t_stop.rescale("s").magnitude) for st in seg)
        start, stop = _decimal(raw_start), _decimal(raw_stop)
        # a spike on a float32 bound read as its decimal stays on it (it fell outside)
        t = np.concatenate(seconds)
        t = np.where((t >= raw_start) & (t < start), start, t)
        t = np.where((t <= raw_stop) & (t > stop), stop, t)
        # Neo's t_stop is inclusive: a spike at it is kept in the trial's last step (as for
        # pynapple's intervals); the trial was left open, and unequal trials padded unsaid
        trials.append(TimedTrial(t, np.concatenate(units), start, stop, True))
    metadata = {"source": source, "format": "neo", "unit_ids": [str(u) for u in unit_ids]}
    return bin_trials(trials, len(unit_ids), dt, source=source, metadata=metadata)


def _listed(indices: list[int]) -> str:
    """``0, 2, 5`` (the first ten, then ``...``)."""
    return ", ".join(map(str, indices[:10])) + (", ..." if len(indices) > 10 else "")


def _decimals(values: np.ndarray) -> np.ndarray:
    """Times as float64, each that is a float32 (Neo keeps float32 times, or widens them to the
    float64 of the same number) read as the decimal it prints as: a ``t_stop`` of float32 0.1 s
    is 0.10000000149 s, and the trial took 101 steps of 1 ms."""
    values = np.asarray(values, dtype=np.float64)
    single = values.astype(np.float32)
    exact = single.astype(np.float64) == values
    out = values.copy()
    out[exact] = single[exact].astype(str).astype(np.float64)
    return out


def _decimal(value: float) -> float:
    """A trial's bound in seconds, by :func:`_decimals`; the caller keeps a spike on the
    float32 bound on it."""
    return float(_decimals(np.array([value]))[0])


@contextlib.contextmanager
def _quiet_neo_logs() -> Iterator[None]:
    """Neo's readers log their own failures ("No block in x.mat" and a traceback line) on a
    handler of their own; the readers are tried in turn here, and one message says what each
    found, so their log records below CRITICAL are dropped while they run."""
    logger = logging.getLogger("neo")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _segments(obj: Any, neo: Any) -> list[list[Any]]:
    """The spike trains of ``obj``, one list per segment."""
    if isinstance(obj, neo.Block):
        return [list(seg.spiketrains) for seg in obj.segments]
    if isinstance(obj, neo.Segment):
        return [list(obj.spiketrains)]
    if isinstance(obj, neo.SpikeTrain):
        return [[obj]]
    if isinstance(obj, (list, tuple)) or type(obj).__name__ == "SpikeTrainList":
        items = list(obj)
        if items and all(isinstance(o, neo.SpikeTrain) for o in items):
            return [items]
        return [seg for o in items for seg in _segments(o, neo)]
    raise InputError(
        f"expected a Neo Block, Segment or SpikeTrain (or a list of them), got {type(obj).__name__}"
    )
