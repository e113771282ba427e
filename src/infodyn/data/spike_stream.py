"""Iterate an infodyn HDF5 spike file in time windows: :func:`iter_spike_file`, the
one-call form of :class:`~infodyn.data.spike_reader.SpikeReader`'s windowed reads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Literal, overload

import numpy as np

from infodyn.data.spike_reader import SpikeReader
from infodyn.errors import require_flag


@overload
def iter_spike_file(
    path: str | os.PathLike,
    chunk_steps: int,
    *,
    dense: Literal[True] = ...,
    trial: int | None = ...,
    start: int = ...,
    stop: int | None = ...,
    dtype: Any = ...,
    block_spikes: int = ...,
) -> Iterator[tuple[int, int, np.ndarray]]: ...


@overload
def iter_spike_file(
    path: str | os.PathLike,
    chunk_steps: int,
    *,
    dense: Literal[False],
    trial: int | None = ...,
    start: int = ...,
    stop: int | None = ...,
    dtype: Any = ...,
    block_spikes: int = ...,
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]: ...


@overload
def iter_spike_file(
    path: str | os.PathLike,
    chunk_steps: int,
    *,
    dense: bool,
    trial: int | None = ...,
    start: int = ...,
    stop: int | None = ...,
    dtype: Any = ...,
    block_spikes: int = ...,
) -> Iterator[tuple[int, int, np.ndarray]] | Iterator[tuple[int, int, np.ndarray, np.ndarray]]: ...


def iter_spike_file(
    path: str | os.PathLike,
    chunk_steps: int,
    *,
    dense: bool = True,
    trial: int | None = None,
    start: int = 0,
    stop: int | None = None,
    dtype: Any = np.uint8,
    block_spikes: int = 1 << 20,
) -> Iterator[tuple[int, int, np.ndarray]] | Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """Stream an infodyn HDF5 spike file in consecutive windows of ``chunk_steps`` steps.

    Yields, trial by trial (all trials, or only ``trial``) over steps ``[start, stop)``:
    ``(trial, start, raster)`` with a dense ``(steps, n_units)`` raster of ``dtype`` when
    ``dense`` (exactly what ``load_spikes(path).iter_dense(chunk_steps)`` yields), else
    ``(trial, start, times, units)`` with the window's spikes (times within the trial). The last
    window of a trial is shorter when ``chunk_steps`` does not divide the steps.

    The file is opened once and read forward in blocks of ``block_spikes`` spikes; only the
    slices of the datasets for the windows asked for are read, never a whole dataset. Memory is
    one block (16 bytes a spike) plus one window, whatever the file's size - see
    :class:`SpikeReader`, which also gives the header (``n_units``, ``dt``...) and random access
    (:meth:`SpikeReader.window`). The file, ``chunk_steps``, ``trial``, ``start`` and ``stop`` are
    checked on the call (:class:`~infodyn.errors.InputError`); the file is closed when the
    iterator is exhausted or discarded.
    """
    dense = require_flag("dense", dense)
    reader = SpikeReader(path, block_spikes=block_spikes)
    try:
        if dense:
            it: Iterator[Any] = reader.iter_dense(
                chunk_steps, trial, start=start, stop=stop, dtype=dtype
            )
        else:
            it = reader.iter_sparse(chunk_steps, trial, start=start, stop=stop)
    except BaseException:
        reader.close()
        raise

    def gen() -> Iterator[Any]:
        with reader:
            yield from it

    return gen()
