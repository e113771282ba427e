"""Data: spike-file I/O (HDF5, NPZ, NWB), atomic writes, natural-image patches."""

from infodyn.atomic import atomic_path, save_npz, write_json, write_text
from infodyn.data.gaze import GazePath, saccade_path
from infodyn.data.images import (
    BUILTIN_IMAGES,
    Patches,
    PatchSplit,
    ZCAWhitener,
    binarize_patches,
    builtin_image,
    dog_filter,
    load_images,
    natural_patches,
    read_image,
)
from infodyn.data.io import load_spikes
from infodyn.data.nest_io import from_nest_events, load_nest_spikes
from infodyn.data.notes import DataWarning
from infodyn.data.spike_files import SpikeWriter, save_spikes
from infodyn.data.spike_reader import SpikeReader
from infodyn.data.spike_stream import iter_spike_file
from infodyn.data.spikes import SpikeTrain

__all__ = [
    "BUILTIN_IMAGES",
    "DataWarning",
    "GazePath",
    "PatchSplit",
    "Patches",
    "ZCAWhitener",
    "from_nest_events",
    "load_nest_spikes",
    "binarize_patches",
    "builtin_image",
    "dog_filter",
    "load_images",
    "natural_patches",
    "read_image",
    "saccade_path",
    "SpikeReader",
    "SpikeTrain",
    "SpikeWriter",
    "atomic_path",
    "iter_spike_file",
    "load_spikes",
    "save_npz",
    "save_spikes",
    "write_json",
    "write_text",
]
