"""Recordings that are not infodyn's own files: which reader takes a source, and reading it.

:func:`~infodyn.data.load_spikes` hands a source here when it is not an infodyn HDF5, NPZ or NWB
file (:func:`is_recording`):

- a folder: a Kilosort/phy output folder (:mod:`infodyn.data.phy`);
- any other file: whatever Neo reads (:mod:`infodyn.data.neo_io`, optional ``neo`` extra);
- an object: a pynapple ``TsGroup`` (:mod:`infodyn.data.pynapple_io`) or Neo ``Block``,
  ``Segment`` or ``SpikeTrain`` objects.

Spike times are binned into steps of ``dt`` ms (default 1 ms; :mod:`infodyn.data.timebins`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infodyn.data.neo_io import load_neo_spikes, spikes_from_neo
from infodyn.data.phy import is_phy_folder, load_phy
from infodyn.data.pynapple_io import from_tsgroup, is_tsgroup
from infodyn.data.spikes import SpikeTrain
from infodyn.errors import InputError

NATIVE_SUFFIXES = (".h5", ".hdf5", ".npz", ".nwb")  # read by infodyn.data.spikes itself


def is_recording(source: Any) -> bool:
    """Whether ``source`` is read here rather than as an infodyn/NWB file: any object that is not
    a path, an existing folder, or an existing file with another suffix than .h5/.hdf5/.npz/.nwb."""
    if not isinstance(source, (str, bytes, os.PathLike)):
        return True
    path = Path(os.fsdecode(source))
    if path.is_dir():
        return True
    return path.is_file() and path.suffix.lower() not in NATIVE_SUFFIXES


def load_recording(
    source: Any, dt: float | None = None, groups: str | Sequence[str] = "good"
) -> SpikeTrain:
    """Read a recording (module docstring) as a :class:`~infodyn.data.SpikeTrain` of ``dt`` ms
    steps; ``groups`` picks the phy cluster labels kept (``"good"``, several, or ``"all"``)."""
    if isinstance(source, (str, bytes, os.PathLike)):
        path = Path(os.fsdecode(source))
        if path.is_dir():
            if not is_phy_folder(path):
                raise InputError(
                    f"{path}: is a folder, but not a Kilosort/phy output folder (no "
                    f"spike_times.npy); expected a spike file or a phy folder"
                )
            return load_phy(path, dt=dt, groups=groups)
    if not (isinstance(groups, str) and groups == "good"):  # ignored without a word
        raise InputError(
            f"{source if isinstance(source, (str, bytes, os.PathLike)) else type(source).__name__}"
            ": groups (--groups) selects Kilosort/phy cluster labels; this recording has none"
        )
    if isinstance(source, (str, bytes, os.PathLike)):
        return load_neo_spikes(Path(os.fsdecode(source)), dt=dt)
    if is_tsgroup(source):
        return from_tsgroup(source, dt=dt)
    module = type(source).__module__ or ""
    if module.startswith("neo") or (
        isinstance(source, (list, tuple))
        and source
        and all((type(o).__module__ or "").startswith("neo") for o in source)
    ):
        return spikes_from_neo(source, dt=dt)
    raise InputError(
        f"cannot read spikes from a {type(source).__name__}: give a file or folder path, a "
        f"pynapple TsGroup, or Neo Block/Segment/SpikeTrain objects"
    )
