"""Spikes that repeat a (trial, step, unit): found in a stream of blocks, kept once.

A unit spikes at most once a step, so a file that lists a spike twice (an external writer, or
``SpikeWriter.append`` given the same spike twice) is read as if it listed it once:
:func:`~infodyn.data.io.load_spikes` merges repeats with a warning, and the streamed passes of
:class:`~infodyn.data.spike_reader.SpikeReader` must count the same spikes. Counting both
copies silently doubled rates and the global-rate variance of ``infodyn criticality``.

Two ways, by what is known of the file's order:

* :class:`RepeatFilter`, for blocks in (trial, time) order (a file flagged ``sorted``, or one
  trial's blocks of a window read): a repeat then lies in its own (trial, step) group, which may
  continue from the previous block, so each block is checked against itself and the units of the
  previous block's last group. Blocks already strictly ordered by (trial, time, unit) - every file
  infodyn's simulators write - take one O(n) test; others are sorted within the block.
* :func:`repeats_in_file_order`, for files in no known order: every spike's (trial, time, unit)
  is held and sorted once (25 bytes a spike as one key, checked against the free memory
  first). A file without the ``sorted`` flag (older files) is checked for order first, block by
  block, and read as sorted when it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import numpy as np

from infodyn.data.notes import warn_data
from infodyn.errors import InputError
from infodyn.memory import require_memory


def strictly_in_order(trials: np.ndarray, times: np.ndarray, units: np.ndarray) -> bool:
    """True when the spikes are sorted by (trial, time, unit) with no spike repeated: O(n)
    time, and O(:data:`ORDER_BLOCK`) memory (the differences of the whole arrays took 24 bytes
    a spike beside the spikes: ``load_spikes`` of 1.85e8 spikes peaked at 3.5 times their
    2.75 GiB)."""
    for a in range(0, max(times.size - 1, 0), ORDER_BLOCK):
        b = min(a + ORDER_BLOCK + 1, times.size)  # one spike of overlap: the pair across
        dr, dt, du = np.diff(trials[a:b]), np.diff(times[a:b]), np.diff(units[a:b])
        if not np.all((dr > 0) | ((dr == 0) & ((dt > 0) | ((dt == 0) & (du > 0))))):
            return False
    return True


#: spikes compared at once by :func:`strictly_in_order`
ORDER_BLOCK = 1 << 16


def sorted_repeats(tr: np.ndarray, t: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, repeat)``: the lexicographic order of the spikes and, in that order, whether
    each repeats the spike before it."""
    order = np.lexsort((u, t, tr))
    trs, ts, us = tr[order], t[order], u[order]
    repeat = np.zeros(order.size, dtype=bool)
    repeat[1:] = (trs[1:] == trs[:-1]) & (ts[1:] == ts[:-1]) & (us[1:] == us[:-1])
    return order, repeat


#: the file whose spikes are being built into a train (:func:`naming_file`), for the note
_FILE: ContextVar[str] = ContextVar("infodyn_spike_file", default="")


@contextlib.contextmanager
def naming_file(path: Any) -> Iterator[None]:
    """Name ``path`` in the repeat note of the trains built inside the block: a whole-file
    load builds its train without knowing its file, and the note named none (two files of a
    command with the same count of repeats made one note)."""
    token = _FILE.set(f"{path}: ")
    try:
        yield
    finally:
        _FILE.reset(token)


def repeat_warning(source: str, n_repeats: int) -> None:
    """The warning of :func:`~infodyn.data.io.load_spikes` for ``n_repeats`` merged spikes
    (``source``: the file, ``"PATH: "``; empty, the one :func:`naming_file` names, if any)."""
    if n_repeats:
        warn_data(
            f"{source or _FILE.get()}{n_repeats} spikes repeat a spike of the same unit in the "
            "same step and trial; each was kept once (a unit spikes at most once a step)"
        )


class RepeatFilter:
    """Keeps each (trial, step, unit) once in blocks that arrive in (trial, time) order."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.n_repeats = 0
        self._group: tuple[int, int] | None = None  # (trial, step) of the last spike seen
        self._units = np.empty(0, np.int32)  # the units kept in that group so far

    def keep(self, tr: np.ndarray, t: np.ndarray, u: np.ndarray) -> np.ndarray | None:
        """The mask of the block's spikes to keep (``None``: all), in the block's order."""
        if tr.size == 0:
            return None
        first = (int(tr[0]), int(t[0]))
        continues = first == self._group
        if self._group is not None and first < self._group:
            self._out_of_order()
        mask = None
        if not (strictly_in_order(tr, t, u) and not (continues and u[0] <= self._units.max())):
            dr, dt = np.diff(tr), np.diff(t)
            if not bool(np.all((dr > 0) | ((dr == 0) & (dt >= 0)))):
                self._out_of_order()
            order, repeat = sorted_repeats(tr, t, u)
            if continues:  # the block's first group continues the last block's last group
                head = (tr[order] == first[0]) & (t[order] == first[1])
                repeat |= head & np.isin(u[order], self._units)
            mask = np.empty(tr.size, dtype=bool)
            mask[order] = ~repeat
            self.n_repeats += int(np.count_nonzero(repeat))
        last = (int(tr[-1]), int(t[-1]))
        tail = (tr == last[0]) & (t == last[1])
        units = u[tail if mask is None else tail & mask]
        self._units = np.union1d(self._units, units) if last == self._group else np.unique(units)
        self._group = last
        return mask

    def _out_of_order(self) -> None:
        raise InputError(
            f"{self.source}: spikes are not in (trial, time) order although the file says so; "
            "the file is corrupt (load_spikes reads it whole)"
        )


def repeats_in_file_order(
    source: str,
    n_spikes: int,
    blocks: Callable[[], Iterator[tuple[np.ndarray, ...]]],
    sizes: tuple[int, int, int],
) -> np.ndarray | None:
    """For a file in no known order: the mask of spikes that repeat an earlier-sorted copy of
    themselves (``None`` when there are none), from one pass over ``blocks()``. ``sizes`` are
    the header's ``(n_trials, n_steps, n_units)``: where their product fits in int64, each
    spike is one key ``(trial * n_steps + time) * n_units + unit`` (25 bytes a spike with its
    order and sorted copy), else its three fields are sorted together (41 bytes a spike)."""
    n_trials, n_steps, n_units = sizes
    one_key = n_trials * n_steps * n_units < 2**63
    require_memory(
        (25 if one_key else 41) * n_spikes,
        f"{source}: checking {n_spikes:,} spikes stored out of (trial, time) order for repeats",
        "rewrite the file in order (load_spikes, then save_spikes, or `infodyn convert`)",
    )
    if not n_spikes:
        return None
    if one_key:
        keys, a = np.empty(n_spikes, np.int64), 0  # filled block by block: no list of blocks
        for tr, t, u in blocks():
            part = keys[a : a + tr.size]
            part[:] = tr  # int64 before the product: int32 trials x n_steps wrapped around
            part *= n_steps
            part += t
            part *= n_units
            part += u
            a += tr.size
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        repeat = np.zeros(n_spikes, dtype=bool)
        repeat[1:] = keys[1:] == keys[:-1]
        del keys
    else:
        fields = [np.empty(n_spikes, dtype) for dtype in (np.int32, np.int64, np.int32)]
        a = 0
        for block in blocks():
            for field, part in zip(fields, block, strict=True):
                field[a : a + part.size] = part
            a += block[0].size
        order, repeat = sorted_repeats(*fields)
    if not repeat.any():
        return None
    mask = np.zeros(n_spikes, dtype=bool)
    mask[order[repeat]] = True
    return mask
