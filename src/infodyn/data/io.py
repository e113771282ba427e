"""Read any spike source: the format dispatcher :func:`load_spikes`.

It sits above the readers (:mod:`infodyn.data.spikes` for infodyn HDF5 and NPZ,
:mod:`infodyn.data.nwb`, :mod:`infodyn.data.recordings` for Kilosort/phy, Neo and pynapple), so
that none of them imports another through it. Optional dependencies (pynwb, neo, pynapple) are
imported by the readers only when a file needs them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infodyn.data import spikes as _spikes
from infodyn.data._repeats import naming_file
from infodyn.data.nest_io import from_nest_events, is_nest_events, is_nest_file, load_nest_spikes
from infodyn.data.nwb import load_nwb_spikes
from infodyn.data.recordings import is_recording, load_recording
from infodyn.data.spike_files import is_h5_path
from infodyn.data.spikes import SpikeTrain
from infodyn.errors import InputError, reading


def load_spikes(
    path: Any, dt: float | None = None, groups: str | Sequence[str] = "good"
) -> SpikeTrain:
    """Read spikes: infodyn HDF5 (``.h5``/``.hdf5``), NPZ, NWB (``.nwb``, needs pynwb), a
    Kilosort/phy folder, NEST's spike recorder (an ASCII ``.dat`` file with its sibling files,
    or its events dict, :mod:`infodyn.data.nest_io`), any file Neo reads, or a pynapple
    ``TsGroup`` / Neo object (:mod:`infodyn.data.recordings`). ``dt``: bin in ms for spike
    times in seconds or ms (NWB, NEST and recordings; default 1 ms or the NWB file's own);
    ``groups``: phy cluster labels kept."""
    if isinstance(path, (str, bytes)) and not path:  # Path("") is "." (the working folder)
        raise InputError("an empty path: name a spike file or a recording folder")
    if isinstance(path, list | tuple) and path and all(is_nest_events(e) for e in path):
        if len(path) > 1:  # nest.GetStatus(recorders, "events"): a tuple, one per recorder
            raise InputError(
                f"{len(path)} NEST recorders' events: pass one recorder's (events[0], ...)"
            )
        path = path[0]  # GetStatus of one recorder: a tuple of one
    if is_nest_events(path) or _is_nest_path(path):  # NEST's spike recorder (before Neo, which
        # tried nine readers on its .dat files and blamed the file)
        if not (isinstance(groups, str) and groups == "good"):
            raise InputError("groups (--groups) selects Kilosort/phy cluster labels; NEST has none")
        if is_nest_events(path):
            return from_nest_events(path, dt=dt)
        return load_nest_spikes(path, dt=dt)
    if isinstance(path, (str, bytes, os.PathLike)) and Path(os.fsdecode(path)).suffix == ".json":
        raise InputError(  # Neo's readers were tried on it and blamed a missing .xdat file
            f"{os.fsdecode(path)}: a JSON file is not a spike file (a run's config.json reruns "
            "with the command that wrote it: infodyn simulate|train|energy|images RUN/config.json)"
        )
    if is_recording(path):
        return load_recording(path, dt=dt, groups=groups)
    path = _spikes._existing_file(path)
    suffix = path.suffix.lower()
    if dt is not None and (is_h5_path(path) or suffix == ".npz"):
        raise InputError(
            f"{path}: dt (--dt) bins spike times in seconds (NWB, Kilosort/phy, Neo); this file "
            "is already binned in steps, so it does not apply"
        )
    if not (isinstance(groups, str) and groups == "good"):  # was ignored without a word
        raise InputError(
            f"{path}: groups (--groups) selects Kilosort/phy cluster labels; this file has none"
        )
    with reading(path, "spike file"), naming_file(path):  # (reading: truncated, unreadable or
        # too large is one InputError; naming_file: the repeat note names the file)
        if is_h5_path(path):
            return _spikes._load_h5(path)
        if suffix == ".npz":
            return _spikes._load_npz(path)
        if suffix == ".nwb":
            return load_nwb_spikes(path, dt=dt)
    raise InputError(f"{path}: unknown spike file type {suffix!r} (use .h5, .npz or .nwb)")


def _is_nest_path(path: Any) -> bool:
    """Whether ``path`` names an existing ASCII file of NEST's recording backend."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        return False
    p = Path(os.fsdecode(path))
    return p.suffix.lower() == ".dat" and p.is_file() and is_nest_file(p)
