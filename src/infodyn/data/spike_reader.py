"""Streaming reads of infodyn HDF5 spike files, in time windows and bounded memory.

:class:`SpikeReader` streams a sorted file (see
:mod:`infodyn.data.spike_files` for the layout and the ``sorted`` attribute) in time windows,
reading only slices of the datasets, for runs whose spikes do not fit in memory
(:func:`~infodyn.data.spike_stream.iter_spike_file` iterates its windows);
:meth:`SpikeReader.step_counts` / :meth:`SpikeReader.unit_counts` count spikes per step or per unit
in one streamed pass over any file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from infodyn.data._repeats import RepeatFilter, repeat_warning, repeats_in_file_order
from infodyn.data.read_progress import READ_HOOK
from infodyn.data.spike_files import (
    H5_READ_ERRORS,
    NO_TRIALS,
    _existing_file,
    _h5_header,
    _open_h5,
    is_h5_path,
    raster_dtype,
    read_attribute,
)
from infodyn.data.units import unit_subset
from infodyn.errors import InputError, reading, whole_number
from infodyn.memory import require_memory


class _Cursor:
    """Forward cursor over the (time, unit) blocks of one trial, for consecutive windows."""

    def __init__(self, blocks: Iterator[tuple[np.ndarray, np.ndarray]]) -> None:
        self._blocks = blocks
        self._t = np.empty(0, np.int64)
        self._u = np.empty(0, np.int32)

    def take_until(self, stop: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield pieces (views) of the remaining spikes with time < ``stop``, reading blocks as
        needed; the spikes at ``stop`` and later stay for the next window. Callers drop each
        piece before taking the next, so that a used-up block is freed before the next is read."""
        while True:
            if self._t.size == 0:
                nxt = next(self._blocks, None)
                if nxt is None:
                    return
                self._t, self._u = nxt
            k = int(np.searchsorted(self._t, stop, side="left"))
            if k:
                yield self._t[:k], self._u[:k]
            if k < self._t.size:
                self._t, self._u = self._t[k:], self._u[k:]
                return
            # block used up: drop it (an empty view would keep it alive while the next is read)
            self._t, self._u = np.empty(0, np.int64), np.empty(0, np.int32)


class SpikeReader:
    """Read an infodyn HDF5 spike file in time windows, never loading its datasets whole.

    The file is opened once (use as a context manager or call :meth:`close`); the header is read
    eagerly, so a missing, foreign or corrupt file raises :class:`~infodyn.errors.InputError`
    here. ``n_units``, ``n_steps``, ``n_trials``, ``dt``, ``metadata`` and ``n_spikes`` mirror
    :class:`SpikeTrain`.

    Windows are located by binary search on ``/spikes/trials`` and ``/spikes/times`` (one element
    a probe, then one in-memory search over about one storage chunk) and read forward in blocks of
    ``block_spikes`` spikes, rounded up to whole storage chunks of the file. This needs the spikes
    in (trial, time) order: files from :func:`save_spikes` always are, :class:`SpikeWriter`
    records whether its appends were (attribute ``sorted``), and older files without the
    attribute are checked in one bounded-memory pass on first use. A file that is not in order
    raises :class:`~infodyn.errors.InputError` (read it whole with :func:`load_spikes`).

    Memory: one block of each dataset at a time (16 bytes a spike: ``16 * block_spikes`` bytes,
    16 MiB by default; a used-up block is freed before the next is read) plus the window being
    returned (``chunk_steps * n_units`` elements of ``dtype`` for dense windows; 12 bytes a spike
    of the window for sparse ones), temporaries no larger than these, and HDF5's chunk cache
    (1 MiB a dataset) - independent of the number of spikes or steps in the file. Each spike of
    the range asked for is read once (locating a range reads about one storage chunk more), and
    blocks are checked (trial, order, time and unit ranges) as they are read.

    Whole-file passes that need no order - :meth:`step_counts` (population counts per step,
    optionally of a subset of units), :meth:`unit_counts` and :meth:`rates_hz` - read the file
    once, block by block (:meth:`iter_blocks`), and equal the loaded :class:`SpikeTrain`'s.
    """

    def __init__(self, path: str | os.PathLike, block_spikes: int = 1 << 20) -> None:
        path = _existing_file(path)
        if not is_h5_path(path):
            raise InputError(
                f"{path}: only infodyn HDF5 spike files (.h5/.hdf5) can be read in windows; "
                f"use load_spikes for {path.suffix or 'this'} files"
            )
        block_spikes = whole_number(block_spikes, "block_spikes", minimum=1)
        self.path = path
        with reading(path, "spike file"):
            self._h5 = _open_h5(path)
            try:
                self._open(block_spikes)
            except BaseException:
                self._h5.close()
                raise

    def _open(self, block_spikes: int) -> None:
        h5, path = self._h5, self.path
        try:
            grp = h5["spikes"]
            self._times, self._units = grp["times"], grp["units"]
            self._trials = grp["trials"] if "trials" in grp else None
            header = _h5_header(h5)
            self.n_units, self.n_steps = header["n_units"], header["n_steps"]
            self.n_trials, self.dt = header["n_trials"], header["dt"]
            self.metadata: dict[str, Any] = header["metadata"]
            flag = read_attribute(h5.attrs, "sorted")
        except KeyError as exc:
            raise InputError(f"{path}: spike file is missing {exc}") from None
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise InputError(f"{path}: spike file has unreadable attributes ({exc})") from None
        except H5_READ_ERRORS as exc:
            raise InputError(f"{path}: corrupt HDF5 file ({exc})") from None
        if self._trials is None and self.n_trials > 1:
            raise InputError(f"{path}: {NO_TRIALS.format(self.n_trials)}")
        datasets = [self._times, self._units] + ([self._trials] if self._trials is not None else [])
        if any(not hasattr(d, "shape") or len(d.shape) != 1 for d in datasets):
            raise InputError(f"{path}: /spikes/times, units and trials must be 1-D datasets")
        if len({d.shape[0] for d in datasets}) != 1:
            raise InputError(
                f"{path}: spike times, units and trials differ in length: "
                f"{', '.join(str(d.shape[0]) for d in datasets)}"
            )
        if self.n_units < 1 or self.n_steps < 1 or self.n_trials < 1:
            raise InputError(f"{path}: n_units, n_steps and n_trials must all be >= 1")
        if not np.isfinite(self.dt) or self.dt <= 0:
            raise InputError(f"{path}: dt must be a positive number of ms, got {self.dt}")
        self.n_spikes = int(self._times.shape[0])
        storage = self._times.chunks[0] if self._times.chunks else 1
        self.block_spikes = -(-block_spikes // storage) * storage
        self._probe_until = max(storage, 1024)  # binary search by probes down to this many
        self._sorted: bool | None = None if flag is None else bool(int(flag))

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        self._h5.close()

    def __enter__(self) -> SpikeReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _read(self, ds: Any, a: int, b: int) -> np.ndarray:
        if not self._h5.id.valid:  # was "corrupt spike data (... not of specified type)"
            raise InputError(f"{self.path}: the reader is closed; open a new SpikeReader")
        try:
            return np.asarray(ds[a:b])
        except H5_READ_ERRORS as exc:
            raise InputError(f"{self.path}: corrupt spike data ({exc})") from None

    def _read_trials(self, a: int, b: int) -> np.ndarray:
        if self._trials is None:
            return np.zeros(b - a, np.int32)
        return self._read(self._trials, a, b)

    def _checked_block(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(trials, times, units)`` of spikes ``a:b`` as int32, int64, int32, each checked to be
        whole numbers within the header's ranges (before the cast)."""
        block = []
        for name, x, n, dtype in (
            ("trials", self._read_trials(a, b), self.n_trials, np.int32),
            ("times", self._read(self._times, a, b), self.n_steps, np.int64),
            ("units", self._read(self._units, a, b), self.n_units, np.int32),
        ):
            if x.dtype.kind not in "iuf" or (  # bool, text, compound: refused as load_spikes does
                x.dtype.kind == "f" and not bool(np.all(x == np.round(x)))
            ):
                raise InputError(
                    f"{self.path}: spike {name} must be whole numbers, got {x.dtype} values"
                )
            if x.min() < 0 or x.max() >= n:
                raise InputError(f"{self.path}: spike {name} must lie in [0, {n})")
            block.append(x.astype(dtype, copy=False))
            del x
        tr, t, u = block
        return tr, t, u

    def _require_order(self) -> None:
        """Check (once, block by block) that the spikes are in (trial, time) order."""
        self._check_order()
        if not self._sorted:
            raise InputError(
                f"{self.path}: spikes are not stored in (trial, time) order (SpikeWriter.append "
                f"was given them out of order), so they cannot be read in windows; load_spikes "
                f"reads the file whole, and save_spikes rewrites it in order"
            )

    def _check_order(self) -> None:
        """Whether a file without the ``sorted`` flag is in (trial, time) order, found once by
        reading its spikes block by block, each checked as a read checks it (text times raised
        NumPy's UFuncTypeError here, NaN ones were called "out of order")."""
        if self._sorted is None:
            ok, prev = True, None
            for a in range(0, self.n_spikes, self.block_spikes):
                b = min(a + self.block_spikes, self.n_spikes)
                tr, t, _ = self._checked_block(a, b)
                if prev is not None:
                    tr, t = np.concatenate([[prev[0]], tr]), np.concatenate([[prev[1]], t])
                steps = (tr[1:] > tr[:-1]) | ((tr[1:] == tr[:-1]) & (t[1:] >= t[:-1]))
                if not bool(np.all(steps)):
                    ok = False
                    break
                prev = (tr[-1], t[-1])
            self._sorted = ok

    def _seek(self, trial: int, step: int) -> int:
        """Index of the first spike at or after (trial, step): binary search by single-element
        reads down to about one storage chunk, then one in-memory search."""
        lo, hi = 0, self.n_spikes
        while hi - lo > self._probe_until:
            mid = (lo + hi) // 2
            tr = int(self._read_trials(mid, mid + 1)[0])
            t = int(self._read(self._times, mid, mid + 1)[0])
            if (tr, t) < (trial, step):
                lo = mid + 1
            else:
                hi = mid
        if lo == hi:
            return lo
        tr, t = self._read_trials(lo, hi), self._read(self._times, lo, hi)
        return lo + int(np.count_nonzero((tr < trial) | ((tr == trial) & (t < step))))

    def _blocks(self, trial: int, lo: int, hi: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield checked (times, units) blocks of spikes ``lo:hi`` (all of trial ``trial``),
        block ends aligned to the storage chunks."""
        last = -1
        pos = lo
        repeats = RepeatFilter(str(self.path))
        while pos < hi:
            end = min(hi, (pos // self.block_spikes + 1) * self.block_spikes)
            tr, t, u = self._checked_block(pos, end)
            if not (bool(np.all(tr == trial)) and t[0] >= last and bool(np.all(t[1:] >= t[:-1]))):
                raise InputError(
                    f"{self.path}: spikes {pos}..{end} are not in (trial, time) order although "
                    f"the file says so; the file is corrupt (load_spikes reads it whole)"
                )
            last = int(t[-1])
            pos = end
            keep = repeats.keep(tr, t, u)
            if keep is not None:
                t, u = t[keep], u[keep]
            yield t, u
            del t, u, tr, keep  # free this block before reading the next
        repeat_warning(f"{self.path}: ", repeats.n_repeats)

    def _plan(
        self, chunk_steps: Any, trial: int | None, start: Any, stop: Any
    ) -> tuple[int, list[int], int, int]:
        chunk_steps = whole_number(chunk_steps, "chunk_steps", minimum=1)
        start = whole_number(start, "start", minimum=0)
        stop = self.n_steps if stop is None else whole_number(stop, "stop", minimum=0)
        if not start < stop <= self.n_steps:
            raise InputError(
                f"need 0 <= start < stop <= n_steps={self.n_steps}, got start={start}, stop={stop}"
            )
        if trial is None:
            trials = list(range(self.n_trials))
        else:
            trials = [whole_number(trial, "trial", minimum=0)]
            if trials[0] >= self.n_trials:
                raise InputError(f"trial must lie in [0, n_trials={self.n_trials}), got {trial}")
        self._require_order()
        return chunk_steps, trials, start, stop

    def _check_trial_ends(self, trial: int, first: int | None, end: int | None) -> None:
        """The spike just before a trial's first (position ``first``) must belong to an earlier
        trial, and the one at its end (``end``) to a later one: a window search skips a spike
        of ``trial`` at a time below 0 or at ``n_steps`` or beyond, or of a trial id out of
        range, and only the blocks it reads are checked (a time of -5 first was dropped
        without a word). Two single-element reads."""
        before = None if not first else int(self._read_trials(first - 1, first)[0])
        after = None if end in (None, self.n_spikes) else int(self._read_trials(end, end + 1)[0])
        if (before is not None and not 0 <= before < trial) or (
            after is not None and not trial < after < self.n_trials
        ):
            raise InputError(
                f"{self.path}: spike times must lie in [0, {self.n_steps}) and trials in "
                f"[0, {self.n_trials})"
            )

    def _windows(
        self, chunk_steps: int, trials: list[int], start: int, stop: int
    ) -> Iterator[tuple[int, int, int, _Cursor]]:
        for tr in trials:
            lo, hi = self._seek(tr, start), self._seek(tr, stop)
            self._check_trial_ends(
                tr, lo if start == 0 else None, hi if stop == self.n_steps else None
            )
            cursor = _Cursor(self._blocks(tr, lo, hi))
            for w0 in range(start, stop, chunk_steps):
                yield tr, w0, min(w0 + chunk_steps, stop), cursor

    # ------------------------------------------------------------------ public reads
    def window(
        self, trial: int = 0, start: int = 0, stop: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Spike ``(times, units)`` of ``trial`` in steps ``[start, stop)`` (times within the
        trial, sorted by time then unit), reading only that slice of the file."""
        trial = whole_number(trial, "trial", minimum=0)
        _, trials, start, stop = self._plan(1, trial, start, stop)
        _, _, w1, cursor = next(self._windows(stop - start, trials, start, stop))
        return self._sparse(cursor, w1)

    @staticmethod
    def _sparse(cursor: _Cursor, stop: int) -> tuple[np.ndarray, np.ndarray]:
        ts, us = [np.empty(0, np.int64)], [np.empty(0, np.int32)]
        for t, u in cursor.take_until(stop):
            ts.append(t.copy())  # copies: a view would keep its whole block alive
            us.append(u.copy())
            del t, u  # drop the views before the cursor reads the next block
        t, u = np.concatenate(ts), np.concatenate(us)
        del ts, us
        order = np.lexsort((u, t))
        return t[order], u[order]

    def iter_dense(
        self,
        chunk_steps: int,
        trial: int | None = None,
        *,
        start: int = 0,
        stop: int | None = None,
        dtype: Any = np.uint8,
    ) -> Iterator[tuple[int, int, np.ndarray]]:
        """Yield ``(trial, start, raster)``: consecutive windows of at most ``chunk_steps`` steps
        as dense ``(steps, n_units)`` rasters of ``dtype``, trial by trial (all trials, or only
        ``trial``), over steps ``[start, stop)`` of each - equal to :meth:`SpikeTrain.iter_dense`
        of the loaded file. Arguments are checked now; the file is read as windows are taken."""
        chunk_steps, trials, start, stop = self._plan(chunk_steps, trial, start, stop)
        dtype = raster_dtype(dtype)
        require_memory(
            min(chunk_steps, stop - start) * self.n_units * dtype.itemsize,
            f"{self.path}: a window of {min(chunk_steps, stop - start):,} steps x "
            f"{self.n_units:,} units",
            "read shorter windows (chunk_steps) or sparse ones (iter_sparse)",
        )

        def gen() -> Iterator[tuple[int, int, np.ndarray]]:
            for tr, w0, w1, cursor in self._windows(chunk_steps, trials, start, stop):
                out = np.zeros((w1 - w0, self.n_units), dtype=dtype)
                for t, u in cursor.take_until(w1):
                    out[t - w0, u] = 1
                    del t, u  # drop the block views before the cursor reads the next block
                yield tr, w0, out

        return gen()

    def iter_sparse(
        self,
        chunk_steps: int,
        trial: int | None = None,
        *,
        start: int = 0,
        stop: int | None = None,
    ) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """Like :meth:`iter_dense`, but yield ``(trial, start, times, units)``: the window's spikes
        (times within the trial, not within the window; sorted by time then unit)."""
        chunk_steps, trials, start, stop = self._plan(chunk_steps, trial, start, stop)

        def gen() -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
            for tr, w0, w1, cursor in self._windows(chunk_steps, trials, start, stop):
                t, u = self._sparse(cursor, w1)
                yield tr, w0, t, u

        return gen()

    # ------------------------------------------------------------------ whole-file passes
    def iter_blocks(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield ``(trials, times, units)`` of all spikes, one block of ``block_spikes`` spikes at
        a time in file order (trials int32, times int64, units int32), each block checked against
        the header's ranges. For passes that need no order - counts per step or per unit - so it
        works on files not stored in (trial, time) order too. Memory: one block. A spike that
        repeats a (trial, step, unit) is yielded once, with a warning, as :func:`load_spikes`
        keeps it (:mod:`infodyn.data._repeats`; a file whose spikes are not in order needs 25
        bytes a spike for that, checked first; one without the ``sorted`` flag is checked for
        order first)."""

        def raw() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
            hook = READ_HOOK.get()
            for a in range(0, self.n_spikes, self.block_spikes):
                b = min(a + self.block_spikes, self.n_spikes)
                yield self._checked_block(a, b)
                if hook is not None:
                    hook(self.path, b, self.n_spikes)

        def gen() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
            self._check_order()  # a file without the flag in order: not held whole (38 B/spike)
            sizes = (self.n_trials, self.n_steps, self.n_units)
            stored = (
                None
                if self._sorted
                else repeats_in_file_order(str(self.path), self.n_spikes, raw, sizes)
            )
            repeats, a = RepeatFilter(str(self.path)), 0
            for tr, t, u in raw():
                b = a + tr.size
                if self._sorted:
                    keep = repeats.keep(tr, t, u)
                else:
                    keep = None if stored is None else ~stored[a:b]
                if keep is not None:
                    tr, t, u = tr[keep], t[keep], u[keep]
                yield tr, t, u
                del tr, t, u, keep  # free this block before reading the next
                a = b
            n_repeats = repeats.n_repeats if self._sorted else int(np.count_nonzero(stored))
            repeat_warning(f"{self.path}: ", n_repeats)

        return gen()

    def step_counts(
        self, units: Any = None, each_block: Callable[[Any, Any, Any], None] | None = None
    ) -> np.ndarray:
        """Spike counts per step summed over units, ``(n_trials, n_steps)`` int64 - equal to
        ``load_spikes(path).population_activity()`` (of ``.select_units(units)`` when ``units``
        is given) - from one pass over the file (:meth:`iter_blocks`): memory is one block plus
        the result (8 bytes a step and trial). ``each_block``, if given, is called with each
        block's ``(trials, times, units)`` of all units (something else computed in the same
        pass)."""
        keep = None
        if units is not None:
            keep = np.zeros(self.n_units, dtype=bool)
            keep[unit_subset(units, self.n_units)] = True
        require_memory(  # the counts, and a block's flat indices
            8 * self.n_trials * self.n_steps + 24 * min(self.block_spikes, self.n_spikes),
            f"{self.path}: the counts per step of {self.n_trials:,} trial(s) x "
            f"{self.n_steps:,} steps",
            "analyse fewer trials or a part of the run (SpikeReader.window), or a machine with "
            "more memory",
        )
        counts = np.zeros((self.n_trials, self.n_steps), dtype=np.int64)
        flat = counts.reshape(-1)
        for tr, t, u in self.iter_blocks():
            if each_block is not None:
                each_block(tr, t, u)
            idx = tr.astype(np.int64)  # flat (trial, step) index, in place
            idx *= self.n_steps
            idx += t
            del tr, t
            if keep is not None:
                idx = idx[keep[u]]
            del u
            if idx.size:
                lo, hi = int(idx.min()), int(idx.max()) + 1  # one block spans few steps
                idx -= lo
                flat[lo:hi] += np.bincount(idx, minlength=hi - lo)
            del idx
        return counts

    def unit_counts(self) -> np.ndarray:
        """Total spikes per unit, ``(n_units,)`` int64 - equal to ``SpikeTrain.spike_counts`` of
        the loaded file - from one pass over the file."""
        require_memory(  # a corrupt header's n_units of 2^31 would be 16 GiB
            8 * self.n_units,
            f"{self.path}: the spike counts of {self.n_units:,} units",
            "check the file's n_units attribute",
        )
        return unit_counts_of(self.iter_blocks(), self.n_units)

    @property
    def duration_ms(self) -> float:
        """Total recorded time over all trials, in ms."""
        return self.n_trials * self.n_steps * self.dt

    def rates_hz(self) -> np.ndarray:
        """Mean firing rate of each unit in Hz (equal to ``SpikeTrain.rates_hz``), streamed."""
        return self.unit_counts() / (self.duration_ms / 1000.0)


def unit_counts_of(blocks: Iterator[tuple[Any, Any, Any]], n_units: int) -> np.ndarray:
    """Spikes per unit, ``(n_units,)`` int64, of ``(trials, times, units)`` blocks: each block's
    counts reach only its highest unit (a ``bincount`` of all ``n_units`` a block doubled the
    memory of a header's large n_units)."""
    counts = np.zeros(n_units, dtype=np.int64)
    for block in blocks:
        seen = np.bincount(block[2])
        counts[: seen.size] += seen
        del block, seen  # free this block before the next is read
    return counts
