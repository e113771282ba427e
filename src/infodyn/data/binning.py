"""Spike counts per bin and unit, from a loaded spike train or streamed from a file.

``binned[trial, b, k]`` counts the spikes of unit ``units[k]`` in steps ``b*bin_steps ..
(b+1)*bin_steps - 1`` of ``trial`` (a trailing partial bin is dropped); ``binary=True`` keeps only
whether the unit spiked (0/1, uint8). This is the raster that word-based analyses (entropies,
mutual information, energy models) start from.

An infodyn HDF5 spike file is not loaded: :func:`spike_source` reads it block by block
(:meth:`~infodyn.data.spikes.SpikeReader.iter_blocks`, ``block_spikes`` spikes at a time, in any
order) and adds each block's spikes of the selected units to the result. Memory is the result
(``n_trials * n_bins * len(units)`` bytes when binary) plus one block (16 bytes a spike) and an
O(n_units) lookup, however many units and spikes the file holds, and the numbers equal those of
the loaded file. Other files are loaded with :func:`~infodyn.data.io.load_spikes`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from infodyn.data.io import load_spikes
from infodyn.data.spike_files import is_h5_path
from infodyn.data.spike_reader import SpikeReader, unit_counts_of
from infodyn.errors import InputError, as_array, is_finite_number, whole_number
from infodyn.memory import fits_in_memory, require_memory

BLOCK_SPIKES = 1 << 20  # spikes read at a time from a file (16 MiB)


def whole_bin_steps(bin_ms: float, dt: float, option: str = "bin_ms") -> int:
    """The number of steps of ``dt`` ms in a bin of ``bin_ms`` ms, refusing a width that is not
    a whole multiple of ``dt`` (rounding a requested width silently, 1.5 ms to 2, would report
    a measure at another time scale than asked); ``option`` names the setting in the error."""
    if not is_finite_number(bin_ms) or bin_ms <= 0:  # float() read "3" as 3 ms
        raise InputError(f"{option} must be a positive number of ms, got {bin_ms!r}")
    bin_ms = float(bin_ms)
    if bin_ms / dt > MAX_BIN_STEPS:  # 1e300 was refused as a 300-digit bin_steps
        raise InputError(f"{option}={bin_ms:g} ms is longer than any run of dt={dt:g} ms steps")
    steps = int(round(bin_ms / dt))
    if steps < 1 or abs(steps * dt - bin_ms) > 1e-6 * max(1.0, bin_ms):
        raise InputError(
            f"{option}={bin_ms:g} must be a whole multiple of the time step dt={dt:g} ms"
        )
    return steps


#: the most steps a bin can hold (a run's steps are int64)
MAX_BIN_STEPS = 2**62


def check_spike_counts(r: np.ndarray, name: str = "the raster") -> None:
    """Refuse a raster that is not spike counts: not numbers, NaN, negative or fractional
    values (a NaN became a count of -2^63, and a negative value read as "no spike")."""
    if r.dtype.kind not in "biuf":
        raise InputError(f"{name} must hold spike counts (numbers), got dtype {r.dtype}")
    if r.dtype.kind == "f":
        if not np.all(np.isfinite(r)):
            raise InputError(f"{name} contains NaN or inf; it must hold spike counts")
        if r.size and (r.min() < 0 or np.any(r != np.round(r))):
            raise InputError(f"{name} must hold whole spike counts >= 0 (0/1 spikes)")
    elif r.dtype.kind == "i" and r.size and r.min() < 0:
        raise InputError(f"{name} holds negative values; it must hold spike counts >= 0")


def bin_raster(raster: Any, bin_steps: int) -> np.ndarray:
    """Spike counts per bin of a dense raster: ``(trials, T, n)`` (or ``(T, n)``, one trial) ->
    ``(trials, T // bin_steps, n)`` int64, bin ``b`` summing steps ``b*bin_steps ..
    (b+1)*bin_steps - 1`` of its trial (a trailing partial bin is dropped). The one binning of
    step rasters in the package: response words, count windows and population activity start
    from it."""
    r = np.asarray(raster)
    if r.ndim == 2:
        r = r[None]
    if r.ndim != 3:
        raise InputError(f"a raster must be (T, n) or (trials, T, n), got shape {r.shape}")
    b = whole_number(bin_steps, "bin_steps", minimum=1)
    check_spike_counts(r)
    n_tr, n_st, n_u = r.shape
    n_bins = n_st // b
    if n_bins == 0:
        raise InputError(f"bin_steps={b} is longer than a trial ({n_st} steps)")
    return r[:, : n_bins * b].reshape(n_tr, n_bins, b, n_u).sum(axis=2, dtype=np.int64)


Blocks = Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass
class SpikeSource:
    """The header of a spike train or file and a pass over its spikes in blocks.

    ``blocks()`` yields ``(trials, times, units)`` arrays (one block for a loaded train);
    ``unit_counts()`` is the number of spikes of each unit.
    """

    n_units: int
    n_steps: int
    n_trials: int
    dt: float
    blocks: Callable[[], Blocks]
    streamed: bool
    metadata: dict = field(default_factory=dict)  # the file's or train's (unit ids, source)

    def unit_counts(self) -> np.ndarray:
        """Spikes per unit, ``(n_units,)`` int64, from one pass."""
        require_memory(
            8 * self.n_units, f"the spike counts of {self.n_units:,} units", "check n_units"
        )
        return unit_counts_of(self.blocks(), self.n_units)

    def binned(self, bin_steps: int, units: Any = None, binary: bool = True) -> np.ndarray:
        """``(n_trials, n_bins, len(units))`` counts per bin (module docstring): uint8 0/1 when
        ``binary``, else int64; ``units`` (default all) selects and orders the columns."""
        b = whole_number(bin_steps, "bin_steps", minimum=1)  # 1.5 and True were read as 1
        n_bins = self.n_steps // b
        if n_bins == 0:
            raise InputError(f"bin_steps={b} is longer than a trial ({self.n_steps} steps)")
        raw = np.arange(self.n_units) if units is None else as_array(units, "units").ravel()
        if raw.dtype.kind not in "iuf" or not np.all(raw == np.round(raw)):  # 1.7 was unit 1
            raise InputError(f"units must be whole numbers (unit indices), got {units!r:.60}")
        sel = raw.astype(np.int64)
        if sel.size == 0 or sel.min() < 0 or sel.max() >= self.n_units:
            raise InputError(f"units must be a non-empty list in [0, {self.n_units})")
        uniq, inverse = np.unique(sel, return_inverse=True)
        dtype = np.uint8 if binary else np.int64
        require_memory(
            self.n_trials * n_bins * uniq.size * np.dtype(dtype).itemsize,
            f"words of {uniq.size} units x {self.n_trials * n_bins} bins",
            "select fewer units or use larger bins",
        )
        column = _column_lookup(uniq)
        out = np.zeros((self.n_trials, n_bins, uniq.size), dtype)
        for tr, t, u in self.blocks():
            col = column(u)
            keep = (col >= 0) & (t < n_bins * b)
            idx = (tr[keep], t[keep] // b, col[keep])
            if binary:
                out[idx] = 1
            else:
                np.add.at(out, idx, 1)
        return out if np.array_equal(uniq, sel) else out[:, :, inverse]


def _column_lookup(units: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """For sorted distinct ``units``, a function giving each spike's column (its unit's place
    in ``units``; -1 for the others): a table over the units' span where it fits in memory (a
    table over every unit of the header took 16 GB for 10 units of 2^31), else a binary
    search."""
    lo, hi = int(units[0]), int(units[-1]) + 1
    if not fits_in_memory(8 * (hi - lo)):

        def searched(u: np.ndarray) -> np.ndarray:
            at = np.minimum(np.searchsorted(units, u), units.size - 1)
            return np.where(units[at] == u, at, -1)

        return searched
    table = np.full(hi - lo, -1, np.int64)
    table[units - lo] = np.arange(units.size)

    def looked_up(u: np.ndarray) -> np.ndarray:
        return np.where((u >= lo) & (u < hi), table[np.clip(u, lo, hi - 1) - lo], -1)

    return looked_up


@contextlib.contextmanager
def spike_source(source: Any, block_spikes: int | None = None) -> Iterator[SpikeSource]:
    """A :class:`SpikeSource` over a :class:`~infodyn.data.spikes.SpikeTrain` or a spike file
    (HDF5 files streamed, ``block_spikes`` spikes at a time; others loaded)."""
    if isinstance(source, (str, bytes, os.PathLike)):
        if is_h5_path(source):
            block = BLOCK_SPIKES if block_spikes is None else block_spikes
            with SpikeReader(os.fsdecode(source), block_spikes=block) as reader:
                yield SpikeSource(
                    reader.n_units,
                    reader.n_steps,
                    reader.n_trials,
                    reader.dt,
                    reader.iter_blocks,
                    streamed=True,
                    metadata=dict(reader.metadata),
                )
            return
        source = load_spikes(source)
    if not all(hasattr(source, a) for a in ("times", "units", "trials", "n_units", "dt")):
        raise InputError("expected a SpikeTrain or the path of a spike file")
    train = source
    yield SpikeSource(
        int(train.n_units),
        int(train.n_steps),
        int(train.n_trials),
        float(train.dt),
        lambda: iter(
            [(np.asarray(train.trials), np.asarray(train.times), np.asarray(train.units))]
        ),
        streamed=False,
        metadata=dict(getattr(train, "metadata", {}) or {}),
    )
