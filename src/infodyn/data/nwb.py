"""Spike trains in Neurodata Without Borders (NWB) files: the ``units`` table, via pynwb.

Needs the optional extra: ``pip install infodyn[nwb]``.

Reading (:func:`load_nwb_spikes`): spike times of the ``units`` table (seconds, NWB's unit) are
binned into steps of ``dt`` ms: step ``k = floor((t - t_start) / dt + 1e-6)`` (the tolerance
keeps times written as exact multiples of ``dt`` in their own bin despite float rounding; at most
1 ns, :func:`infodyn.data.timebins.bin_tolerance`). With a
``trials`` table, each trial ``[start_time, stop_time)`` becomes one trial of the
:class:`~infodyn.data.SpikeTrain` (``n_steps`` = the longest trial) and spikes outside every trial
are dropped; without one, the whole recording from t = 0 is one trial. Two spikes of one unit in
one bin become one event (a binary raster); both cases are counted in the metadata and warned
about, never silently. Files written by infodyn carry ``dt``, ``n_steps`` and the run metadata in
a scratch entry ``infodyn`` and load back exactly.

Writing (:func:`save_nwb_spikes`): unit ``i`` becomes row ``id = i`` of the units table with
spike times ``(trial_start + step * dt) / 1000`` s, trial ``k`` spans ``[k, k + 1) * n_steps * dt``
ms in the trials table, and the metadata (network config, seeds, engine, ...) is stored as JSON
in the scratch entry. The file is written atomically.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from infodyn._version import __version__
from infodyn.atomic import atomic_path
from infodyn.data.notes import warn_data
from infodyn.data.spike_files import MAX_STEPS, metadata_json
from infodyn.data.spikes import SpikeTrain, per_unit_selected
from infodyn.data.timebins import (
    bin_tolerance,
    check_dt,
    check_span,
    repeated_spikes,
    trial_starts,
    warn_binning,
)
from infodyn.data.units import unit_subset
from infodyn.errors import InputError

SCRATCH_NAME = "infodyn"


def _pynwb():
    try:
        import pynwb
    except ImportError:
        raise InputError(
            "reading or writing NWB files needs pynwb: pip install 'infodyn[nwb]'"
        ) from None
    return pynwb


def save_nwb_spikes(
    path: str | os.PathLike,
    spikes: SpikeTrain,
    session_description: str = "spiking network activity simulated with infodyn",
    identifier: str | None = None,
    session_start_time: datetime | None = None,
    experimenter: str | list[str] | None = None,
    institution: str | None = None,
    experiment_description: str | None = None,
    unit_columns: dict[str, Any] | None = None,
) -> Path:
    """Write ``spikes`` to an NWB file (units table, trials table, infodyn metadata).

    ``unit_columns`` adds per-unit columns to the units table (e.g. ``{"cell_type": [...]}``,
    one value per unit). Returns the path.
    """
    if Path(path).suffix.lower() != ".nwb":  # written, then unreadable: load_spikes reads NWB
        raise InputError(f"{path}: save_nwb_spikes writes NWB; name the file .nwb")  # by name
    pynwb = _pynwb()
    from pynwb import NWBHDF5IO, NWBFile

    start = session_start_time or datetime.now(UTC)
    if start.tzinfo is None:
        raise InputError("session_start_time must carry a time zone (NWB requires one)")
    nwb = NWBFile(
        session_description=session_description,
        identifier=identifier or str(uuid.uuid4()),
        session_start_time=start,
        experimenter=experimenter,
        institution=institution,
        experiment_description=experiment_description,
        source_script=f"infodyn {__version__} (pynwb {pynwb.__version__})",
        source_script_file_name="infodyn",
    )
    trial_ms = spikes.n_steps * spikes.dt
    for k in range(spikes.n_trials):
        nwb.add_trial(start_time=k * trial_ms / 1000.0, stop_time=(k + 1) * trial_ms / 1000.0)
    columns = dict(unit_columns or {})
    for name, values in columns.items():
        if len(values) != spikes.n_units:
            raise InputError(
                f"unit column {name!r} has {len(values)} values for {spikes.n_units} units"
            )
        nwb.add_unit_column(name=name, description=f"{name} (infodyn)")
    seconds = (spikes.trials * trial_ms + spikes.times * spikes.dt) / 1000.0
    order = np.lexsort((seconds, spikes.units))
    bounds = np.searchsorted(spikes.units[order], np.arange(spikes.n_units + 1))
    for unit in range(spikes.n_units):
        extra = {name: values[unit] for name, values in columns.items()}
        nwb.add_unit(spike_times=seconds[order[bounds[unit] : bounds[unit + 1]]], id=unit, **extra)
    info = {
        "dt_ms": spikes.dt,
        "n_steps": spikes.n_steps,
        "n_trials": spikes.n_trials,
        "n_units": spikes.n_units,
        "metadata": spikes.metadata,
        "infodyn_version": __version__,
    }
    nwb.add_scratch(
        metadata_json(info),
        name=SCRATCH_NAME,
        description="infodyn spike-train attributes and run metadata (JSON)",
    )
    path = Path(path)
    with atomic_path(path, ".nwb") as tmp, warnings.catch_warnings():
        # the temporary name ends in .tmp; the final name is the caller's
        warnings.filterwarnings("ignore", message=".*does not end in '.nwb'")
        with NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)
    return path


def load_nwb_spikes(
    path: str | os.PathLike, dt: float | None = None, units: Any = None
) -> SpikeTrain:
    """Read the ``units`` table of an NWB file as a :class:`~infodyn.data.SpikeTrain`.

    Parameters
    ----------
    dt : bin width in ms; default: the file's own ``dt`` if infodyn wrote it, else 1 ms.
    units : optional row indices of the units table to keep (in that order, no repeats), or a
        text such as ``"0-19,25"`` (:func:`infodyn.data.units.unit_subset`).
    """
    _pynwb()
    from pynwb import NWBHDF5IO

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        io = NWBHDF5IO(str(path), "r")
        nwb = io.read()
    except Exception as exc:  # pynwb/hdmf raise many types for unreadable files
        raise InputError(f"{path}: not a readable NWB file ({type(exc).__name__}: {exc})") from None
    with io:
        table = nwb.units
        if table is None or len(table) == 0:
            raise InputError(f"{path}: the NWB file has no units table (no spike times to read)")
        if "spike_times" not in table.colnames:
            raise InputError(f"{path}: the NWB units table has no spike_times column")
        flat = np.asarray(table.spike_times.data[:], dtype=np.float64)
        ends = np.asarray(table.spike_times_index.data[:], dtype=np.int64)
        ids = np.asarray(table.id.data[:])
        info = _infodyn_info(nwb)
        trials = None
        if nwb.trials is not None and len(nwb.trials) > 0:
            trials = (
                np.asarray(nwb.trials["start_time"].data[:], dtype=np.float64),
                np.asarray(nwb.trials["stop_time"].data[:], dtype=np.float64),
            )
        description = nwb.session_description
        identifier = nwb.identifier
        start_time = nwb.session_start_time.isoformat()
    dt = check_dt(dt if dt is not None else info.get("dt_ms") if info else None)
    counts = np.diff(np.concatenate([[0], ends]))
    if ends.size != ids.size or np.any(counts < 0) or (ends[-1] if ends.size else 0) != flat.size:
        raise InputError(  # a decreasing or past-the-end index: a ValueError or IndexError
            f"{path}: the units table's spike_times_index does not partition its "
            f"{flat.size} spike times ({ends.size} rows for {ids.size} units, last end "
            f"{int(ends[-1]) if ends.size else 0}); the file is corrupt"
        )
    unit_of = np.repeat(np.arange(ids.size), counts)
    if not np.all(np.isfinite(flat)):
        raise InputError(f"{path}: the units table holds non-finite spike times")
    last_time = flat.max(initial=0.0)  # of every unit: units= made a recording of 3 steps
    metadata = dict(info.get("metadata", {})) if info else {}
    if units is not None:
        keep_rows = unit_subset(units, ids.size)  # the rules of every units= (no repeats)
        lookup = -np.ones(ids.size, dtype=np.int64)
        lookup[keep_rows] = np.arange(keep_rows.size)
        unit_of = lookup[unit_of]
        sel = unit_of >= 0
        # a file of infodyn's: its run's per-unit lists (phy cluster ids) taken with the rows
        # (they were kept whole: unit 0 of units=[2, 1, 0] was labelled with row 0's cluster)
        metadata = per_unit_selected(metadata, ids.size, keep_rows)
        flat, unit_of, ids = flat[sel], unit_of[sel], ids[keep_rows]
    dt_s = dt / 1000.0
    tol = bin_tolerance(dt_s)
    if trials is None:
        if info and "n_steps" in info and float(info.get("dt_ms", -1.0)) == dt:
            n_steps = int(info["n_steps"])
        else:
            last = check_span(last_time / dt_s + tol, dt, str(path), "the data")
            n_steps = int(np.floor(last)) + 1
        starts, stops = np.zeros(1), np.array([n_steps * dt_s])
        order = np.zeros(1, np.int64)
    else:
        starts, stops = trials
        if not (np.all(np.isfinite(starts)) and np.all(np.isfinite(stops))):
            raise InputError(f"{path}: the trials table holds non-finite start or stop times")
        if np.any(stops <= starts):
            raise InputError(f"{path}: a trial in the trials table has stop_time <= start_time")
        order = np.argsort(starts, kind="stable")  # trials keep their row numbers as ids
        starts, stops = starts[order], stops[order]
        if np.any(starts[1:] < stops[:-1]):
            raise InputError(f"{path}: trials in the trials table overlap in time")
        span = check_span(np.max((stops - starts) / dt_s) - tol, dt, str(path), "a trial")
        n_steps = max(int(np.ceil(span)), 1)  # as timebins.bin_trials: a last partial bin kept
    own = (  # each trial's own steps: a spike within the tolerance of a shorter trial's stop
        np.full(1, n_steps)  # landed in the padding (past its stop) when another was longer
        if trials is None
        else np.maximum(np.ceil((stops - starts) / dt_s - tol), 1).astype(np.int64)
    )
    trial_of = np.searchsorted(starts, flat, side="right") - 1
    inside = trial_of >= 0
    inside[inside] &= flat[inside] < stops[trial_of[inside]]
    steps = np.floor((flat - starts[np.maximum(trial_of, 0)]) / dt_s + tol).astype(np.int64)
    inside &= (steps >= 0) & (steps < own[np.maximum(trial_of, 0)])
    n_outside = int(np.count_nonzero(~inside))
    key = np.stack([order[trial_of[inside]], steps[inside], unit_of[inside]])
    unique = np.unique(key, axis=1)
    n_merged = key.shape[1] - unique.shape[1]
    n_repeated = repeated_spikes(key[0], flat[inside], key[2]) if n_merged else 0
    lengths = [] if trials is None else [int(n) for n in own]
    # without a trials table the one trial is the recording: "outside every trial" named none
    outside = (
        "outside every trial"
        if trials is not None
        else f"outside the recording (0 to {n_steps * dt:g} ms; the file has no trials table)"
    )
    warn_binning(str(path), dt, n_outside, n_merged, lengths, n_repeated, outside)
    # this file's session; a train infodyn saved after reading another NWB file carries that
    # read's "nwb" and "nwb_binning", which described the other file: the first NWB file read
    # is kept as nwb_origin, the binning notes are this read's alone
    earlier = metadata.pop("nwb", None)
    earlier_binning = metadata.pop("nwb_binning", None)  # what that read changed in the data
    metadata["nwb"] = {
        "source": str(path),
        "session_description": description,
        "identifier": identifier,
        "session_start_time": start_time,
    }
    if isinstance(earlier, dict) and earlier != metadata["nwb"]:
        binning = {} if earlier_binning is None else {"binning": earlier_binning}
        metadata.setdefault("nwb_origin", {**earlier, **binning})
    if n_outside or n_merged:
        metadata["nwb_binning"] = {
            "dropped_outside_trials": n_outside,
            "merged": n_merged,
            "repeated": n_repeated,
        }
    if lengths and min(lengths) != n_steps:
        metadata.setdefault("nwb_binning", {})["trial_steps_range"] = [min(lengths), n_steps]
    if not np.array_equal(ids, np.arange(ids.size)):
        metadata["nwb_unit_ids"] = ids.tolist()
    row_starts = np.empty_like(starts)  # trial r is row r of the trials table
    row_starts[order] = starts
    saved = metadata.pop("trial_starts_s", None)  # those of the train infodyn saved here
    own_starts = trial_starts(row_starts, n_steps, dt_s)  # (save_nwb_spikes' layout: None)
    if own_starts is not None:  # this file's own trials
        metadata["trial_starts_s"] = own_starts
    elif isinstance(saved, list) and len(saved) == starts.size:  # laid out by save_nwb_spikes:
        metadata["trial_starts_s"] = saved  # the session clock of the train it saved
    n_repeated = ids.size - np.unique(ids).size
    if n_repeated:  # loaded silently: two rows named the same unit
        warn_data(
            f"{path}: the units table repeats ids ({n_repeated} rows); "
            "units are numbered by row (metadata['nwb_unit_ids'] keeps the ids)"
        )
    return SpikeTrain(
        times=unique[1],
        units=unique[2],
        trials=unique[0],
        n_units=max(int(ids.size), 1),
        n_steps=max(n_steps, 1),
        n_trials=starts.size,
        dt=dt,
        metadata=metadata,
    )


def _infodyn_info(nwb: Any) -> dict[str, Any]:
    try:
        entry = nwb.scratch[SCRATCH_NAME]
    except (KeyError, TypeError):
        return {}
    data = entry.data
    if hasattr(data, "shape") and getattr(data, "shape", None) == ():
        data = data[()]
    if isinstance(data, bytes):
        data = data.decode()
    try:
        info = json.loads(str(data))
    except (json.JSONDecodeError, RecursionError):
        return {}
    if _valid_info(info):
        return info
    warn_data(
        f"the NWB file's scratch/{SCRATCH_NAME} entry is not infodyn's header (dt_ms, n_steps, "
        "metadata); ignored: the spikes are binned from the units table alone"
    )
    return {}


def _valid_info(info: Any) -> bool:
    """infodyn's scratch header: a table with a positive finite ``dt_ms``, a whole ``n_steps``
    in [1, 2^62] and a table of ``metadata`` (each optional)."""
    if not isinstance(info, dict):
        return False
    dt, n, meta = info.get("dt_ms", 1.0), info.get("n_steps", 1), info.get("metadata", {})
    real = isinstance(dt, int | float) and not isinstance(dt, bool)
    whole = isinstance(n, int) and not isinstance(n, bool)
    return (
        real and 0 < dt < float("inf") and whole and 1 <= n <= MAX_STEPS and isinstance(meta, dict)
    )
