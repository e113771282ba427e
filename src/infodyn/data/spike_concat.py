"""Joining spike files of one run, written in stretches, into one file without re-compressing.

A long run written in stretches (``infodyn simulate``'s checkpoints,
:mod:`infodyn.experiments.simulate_checkpoint`) leaves one spike file per stretch, each with the
whole run's header. :func:`concatenate_spike_files` makes them one file. When every part but the
last holds a whole number of dataset chunks (:data:`~infodyn.data.spike_files.CHUNK` spikes)
and all use the writers' chunks and filters, each compressed chunk is copied as it is stored
(HDF5's direct chunk read and write): nothing is decompressed, checked or compressed again.
Joining the 1.85 x 10^7 spikes of ``examples/simulate_sparse_100k.toml`` in eight parts took
0.05 s of CPU so, against 2.5 s to read them back block by block and write them again (an eighth
of the run that made them). Other parts are copied block by block, one block in memory.
"""

from __future__ import annotations

__all__ = ["concatenate_spike_files"]

import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from infodyn.atomic import atomic_path, require_space
from infodyn.data.spike_files import (
    CHUNK,
    COMPRESSION,
    _h5_header,
    _open_h5,
    _write_attrs,
    is_h5_path,
)
from infodyn.errors import InputError, as_path

#: the datasets of a spike file, the header entry that bounds each, and the spikes copied at
#: a time where chunks cannot be
DATASETS = ("times", "units", "trials")
UPPER = {"times": "n_steps", "units": "n_units", "trials": "n_trials"}
BLOCK = 1 << 20


def concatenate_spike_files(parts: list[str | os.PathLike], path: str | os.PathLike) -> Path:
    """Write the spikes of ``parts``, in order, to one spike file at ``path`` (atomically).

    The parts must share one header (units, steps, trials, dt, metadata): they are stretches of
    one run. The result is flagged ``sorted`` when each part is and each part starts at or after
    the (trial, time) where the one before ends. Parts marked as stretches of an unfinished run
    (:data:`~infodyn.data.spike_files.UNFINISHED`) are taken and the result is not marked: join
    them once the run has ended. Compressed chunks are copied as stored where
    the parts allow it (module docstring), else block by block.
    """
    if not isinstance(parts, list | tuple):  # None was "not iterable"
        raise InputError(f"parts must be a list of spike files, got {parts!r:.60}")
    if not parts:
        raise InputError("concatenate_spike_files needs at least one spike file")
    if not is_h5_path(path):  # HDF5 named .npz was written and refused when read back
        raise InputError(f"{path}: the joined spike file is HDF5; name it .h5 or .hdf5")
    paths = [as_path(p) for p in parts]
    files: list[Any] = []
    try:
        headers, counts = _open_parts(paths, files)
        # stored chunks copied, or the spikes compressed again: about the parts' own sizes
        require_space(path, sum(os.path.getsize(p) for p in paths))  # HDF5 dies of a full disk
        with atomic_path(path, ".h5") as tmp:
            with h5py.File(tmp, "w") as out:
                grp = out.create_group("spikes")
                total = sum(counts)
                for name in DATASETS:
                    ds = grp.create_dataset(
                        name, shape=(total,), dtype=_dtype(name), maxshape=(None,), chunks=(CHUNK,),
                        **COMPRESSION,
                    )  # fmt: skip
                    if _chunks_align(files, counts, name):  # the writers' own files
                        _copy_chunks(files, counts, name, ds)
                    else:
                        _copy_blocks(files, counts, name, ds, headers[0][UPPER[name]])
                _write_attrs(out, {**headers[0], "sorted": _in_order(files, counts)})
    finally:
        for h5 in files:
            h5.close()
    return as_path(path)


def check_spike_parts(parts: list[Path]) -> None:
    """Raise :class:`InputError` unless the spike files ``parts`` can be joined by
    :func:`concatenate_spike_files` (readable, one run's header, whole-number datasets): what a
    resumed simulation checks of its stretches before it runs on (a damaged one was found only
    at the join, after the rest of the run)."""
    files: list[Any] = []
    try:
        _open_parts(parts, files)
    finally:
        for h5 in files:
            h5.close()


def _open_parts(paths: list[Path], files: list[Any]) -> tuple[list[dict], list[int]]:
    """Open ``paths`` into ``files`` (the caller closes them) and check them: their headers,
    which must be one, and their spike counts."""
    for p in paths:
        files.append(_open_h5(p))
    headers = [_h5_header(h5, unfinished_ok=True) for h5 in files]
    for p, header in zip(paths[1:], headers[1:], strict=True):
        if header != headers[0]:
            raise InputError(
                f"{p}: its header ({_shown(header)}) is not that of {paths[0]} "
                f"({_shown(headers[0])}): not a stretch of the same run"
            )
    return headers, [_checked_part(h5, p, headers[0]) for h5, p in zip(files, paths, strict=True)]


def _checked_part(h5: Any, path: Path, header: dict) -> int:
    """The spike count of a part, whose datasets must be 1-D whole numbers of one length (a
    group, 2-D or float data were raw errors, or copied into a file that read back otherwise)."""
    lengths = set()
    for name in DATASETS:
        ds = h5.get(f"spikes/{name}")
        if ds is None and name == "trials" and header["n_trials"] == 1:
            continue  # one trial needs no trial ids (the readers take it so)
        if not isinstance(ds, h5py.Dataset) or ds.ndim != 1 or ds.dtype.kind not in "iu":
            raise InputError(f"{path}: /spikes/{name} is not a 1-D dataset of whole numbers")
        lengths.add(ds.shape[0])
    if len(lengths) != 1:
        raise InputError(f"{path}: /spikes/times, units and trials differ in length")
    return lengths.pop()


def _shown(header: dict) -> str:
    return ", ".join(f"{k} {header[k]}" for k in ("n_units", "n_steps", "n_trials", "dt"))


def _chunks_align(files: list, counts: list[int], name: str) -> bool:
    """Whether ``name``'s stored chunks can be copied as they are: the writers' chunks and
    filters in every part, and whole chunks in every part but the last."""
    if any(count % CHUNK for count in counts[:-1]):
        return False
    for h5 in files:
        ds = h5.get(f"spikes/{name}")
        if ds is None:
            return False
        filters = (ds.compression, ds.compression_opts, ds.shuffle)
        wanted = (COMPRESSION["compression"], COMPRESSION["compression_opts"], True)
        if ds.chunks != (CHUNK,) or filters != wanted or ds.dtype != _dtype(name):
            return False
    return True


def _dtype(name: str) -> np.dtype:
    return np.dtype(np.int64 if name == "times" else np.int32)


def _copy_chunks(files: list, counts: list[int], name: str, out) -> None:
    """Each stored chunk of each part, compressed bytes and filter mask as they are."""
    offset = 0
    for h5, count in zip(files, counts, strict=True):
        source = h5[f"spikes/{name}"].id
        for start in range(0, count, CHUNK):
            mask, data = source.read_direct_chunk((start,))
            out.id.write_direct_chunk((offset + start,), data, mask)
        offset += count


def _copy_blocks(files: list, counts: list[int], name: str, out, upper: int) -> None:
    """Block by block, each checked to lie in ``[0, upper)`` (a part the readers refuse made a
    joined file that read back wrong or not at all); a part of one trial without trial ids
    gets zeros."""
    offset = 0
    for h5, count in zip(files, counts, strict=True):
        source = h5.get(f"spikes/{name}")
        for start in range(0, count, BLOCK):
            stop = min(start + BLOCK, count)
            block = np.zeros(stop - start, _dtype(name)) if source is None else source[start:stop]
            if block.size and (block.min() < 0 or block.max() >= upper):
                raise InputError(
                    f"{h5.filename}: spike {name} must lie in [0, {upper}); the file is damaged"
                )
            out[offset + start : offset + stop] = block
        offset += count


def _flag(value: Any) -> bool:
    """A stored 0/1 flag; anything else ('yes', [1, 1]: raw errors) counts as unset."""
    a = np.asarray(value)
    return a.ndim == 0 and a.dtype.kind in "biu" and bool(a)


def _in_order(files: list, counts: list[int]) -> bool:
    """Each part flagged sorted, and each starting at or after the previous one's last key."""
    last = None
    for h5, count in zip(files, counts, strict=True):
        if not _flag(h5.attrs.get("sorted", 0)):
            return False
        if count == 0:
            continue
        trials, times = h5.get("spikes/trials"), h5["spikes/times"]
        first = (0 if trials is None else int(trials[0]), int(times[0]))
        if last is not None and first < last:
            return False
        last = (0 if trials is None else int(trials[count - 1]), int(times[count - 1]))
    return True
