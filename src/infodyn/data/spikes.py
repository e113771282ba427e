"""Sparse spike trains and the infodyn spike-file format.

This module holds the in-memory :class:`SpikeTrain` and the whole-file loaders; the HDF5 format
and its writers live in :mod:`infodyn.data.spike_files` and the streaming reader in
:mod:`infodyn.data.spike_reader`. Their names are re-exported here, so
``from infodyn.data.spikes import SpikeReader`` keeps working.

A :class:`SpikeTrain` stores spikes sparsely as three aligned integer arrays, ``trials``, ``times``
(step indices within a trial) and ``units``, plus ``n_units``, ``n_steps`` (steps per trial),
``n_trials``, the step ``dt`` in ms and free-form metadata.

NPZ import: either the same sparse keys (``times``, ``units``, optional ``trials``, ``n_units``,
``n_steps``, ``dt``) or a dense binary raster under ``raster`` (or ``spikes``) shaped
``(n_steps, n_units)`` or ``(n_trials, n_steps, n_units)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# re-exported: the HDF5 format and writers, and the streaming reader, live in their own modules
from infodyn.data._repeats import repeat_warning, sorted_repeats
from infodyn.data._repeats import strictly_in_order as _strictly_in_order
from infodyn.data.notes import warn_data
from infodyn.data.npy import npz_member_size
from infodyn.data.spike_files import FORMAT_NAME as FORMAT_NAME
from infodyn.data.spike_files import FORMAT_VERSION as FORMAT_VERSION
from infodyn.data.spike_files import (
    H5_READ_ERRORS,
    INT32_MAX,
    MAX_STEPS,
    NO_TRIALS,
    check_count,
    raster_dtype,
)
from infodyn.data.spike_files import H5_SUFFIXES as H5_SUFFIXES
from infodyn.data.spike_files import SpikeWriter as SpikeWriter
from infodyn.data.spike_files import _existing_file as _existing_file
from infodyn.data.spike_files import _h5_header as _h5_header
from infodyn.data.spike_files import _open_h5 as _open_h5
from infodyn.data.spike_files import _write_attrs as _write_attrs
from infodyn.data.spike_files import is_h5_path as is_h5_path
from infodyn.data.spike_files import save_spikes as save_spikes
from infodyn.data.spike_reader import SpikeReader as SpikeReader
from infodyn.data.spike_reader import _Cursor as _Cursor
from infodyn.data.spike_stream import iter_spike_file as iter_spike_file
from infodyn.data.units import unit_subset as unit_subset
from infodyn.errors import (
    InputError,
    array_or_none,
    as_array,
    as_table,
    whole_number,
)
from infodyn.memory import format_bytes, require_memory

#: metadata the readers give one entry a unit (phy's cluster ids and labels, Neo's and
#: pynapple's unit names, NWB's unit ids): :meth:`SpikeTrain.select_units` selects them too
PER_UNIT_METADATA = ("unit_ids", "unit_groups", "nwb_unit_ids")


def per_unit_selected(metadata: dict[str, Any], n_units: int, units: np.ndarray) -> dict:
    """``metadata`` with each per-unit list (:data:`PER_UNIT_METADATA`, one entry for each of
    ``n_units`` units) taken at ``units``, in their order: entry i stays unit i's."""
    metadata = dict(metadata)
    for key in PER_UNIT_METADATA:
        values = metadata.get(key)
        if isinstance(values, list) and len(values) == n_units:
            metadata[key] = [values[u] for u in units]
    return metadata


def _own(a: np.ndarray, dtype: Any) -> np.ndarray:
    """``a`` in ``dtype``, as an array of the train's own: a copy, unless ``a`` is already one
    that nothing else can write (read-only, of that dtype, owning its data: what the file
    readers hand over), which is kept (a copy was 16 bytes a spike more at the peak)."""
    if a.dtype == dtype and a.flags.owndata and not a.flags.writeable:
        return a
    return a.astype(dtype)


def _sorted_once(trials: np.ndarray, times: np.ndarray, units: np.ndarray) -> tuple:
    """The spikes sorted by (trial, time, unit), a spike repeated in the same (trial, step,
    unit) kept once, with a warning: a unit spikes at most once a step (the readers of
    recordings merge spikes that share a bin the same way)."""
    order, repeat = sorted_repeats(trials, times, units)
    trials, times, units = trials[order], times[order], units[order]
    n_repeats = int(np.count_nonzero(repeat))
    if n_repeats:
        repeat_warning("", n_repeats)
        keep = ~repeat
        trials, times, units = trials[keep], times[keep], units[keep]
    return trials, times, units


@dataclass(frozen=True)
class SpikeTrain:
    """Spikes of ``n_units`` units over ``n_trials`` trials of ``n_steps`` steps of ``dt`` ms.

    The arrays are the train's own (int64 times, int32 units and trials, sorted by (trial,
    time, unit)): arrays given are copied, except read-only ones of those types that own their
    data, which the file readers hand over and which are kept (so a loaded train's arrays are
    read-only)."""

    times: np.ndarray
    units: np.ndarray
    n_units: int
    n_steps: int
    dt: float = 1.0
    trials: np.ndarray | None = None
    n_trials: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        times = as_array(self.times, "spike times")
        units = as_array(self.units, "spike units")
        trials = np.zeros_like(times, dtype=np.int32) if self.trials is None else self.trials
        trials = as_array(trials, "spike trials")
        for name, a in (("times", times), ("units", units), ("trials", trials)):
            if a.ndim != 1:
                raise InputError(f"spike {name} must be one-dimensional, got shape {a.shape}")
            if a.size and a.dtype.kind not in "iu":
                if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
                    continue
                what = {
                    "times": "step indices of dt ms; times in seconds: floor(t * 1000 / dt)",
                    "units": "unit ids",
                    "trials": "trial indices",
                }
                raise InputError(f"spike {name} must be integers ({what[name]}), got {a.dtype}")
        if not (times.size == units.size == trials.size):
            given = "times, units and trials" if self.trials is not None else "times and units"
            sizes = (times.size, units.size) + ((trials.size,) if self.trials is not None else ())
            raise InputError(  # it named trials that were not given (their default's length)
                f"spike {given} differ in length: {', '.join(map(str, sizes))}"
            )
        for name, limit in (
            ("n_units", INT32_MAX),
            ("n_steps", MAX_STEPS),
            ("n_trials", INT32_MAX),
        ):
            check_count(name, getattr(self, name), limit)
        dt = array_or_none(self.dt)  # a ragged list: NumPy's "inhomogeneous shape"
        if dt is None or dt.ndim or dt.dtype.kind not in "iuf" or not np.isfinite(dt) or dt <= 0:
            raise InputError(f"dt must be a positive number of ms, got {self.dt!r}")
        if times.size:  # the value out of range named: a negative time of an .npz was read
            # against an n_steps inferred from the largest time, and only that was said
            for name, a, size in (
                ("times", times, "n_steps"),
                ("units", units, "n_units"),
                ("trials", trials, "n_trials"),
            ):
                low, high, bound = a.min(), a.max(), getattr(self, size)
                if low < 0 or high >= bound:
                    bad = low if low < 0 else high
                    raise InputError(f"spike {name} must lie in [0, {size}={bound}), got {bad:g}")
        times, units, trials = _own(times, np.int64), _own(units, np.int32), _own(trials, np.int32)
        if not _strictly_in_order(trials, times, units):  # the engines' spikes already are
            trials, times, units = _sorted_once(trials, times, units)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "trials", trials)
        object.__setattr__(self, "n_units", int(self.n_units))
        object.__setattr__(self, "n_steps", int(self.n_steps))
        object.__setattr__(self, "n_trials", int(self.n_trials))
        object.__setattr__(self, "dt", float(self.dt))
        object.__setattr__(self, "metadata", as_table(self.metadata, "metadata"))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dense(
        cls, raster: Any, dt: float = 1.0, metadata: dict[str, Any] | None = None
    ) -> SpikeTrain:
        """Build from a binary raster ``(n_steps, n_units)`` or ``(n_trials, n_steps, n_units)``."""
        r = as_array(raster, "raster")
        if r.ndim == 2:
            r = r[None]
        if r.ndim != 3:
            raise InputError(
                f"a spike raster must be (n_steps, n_units) or (n_trials, n_steps, n_units), "
                f"got shape {np.asarray(raster).shape}"
            )
        if r.size == 0:
            raise InputError(f"the spike raster is empty (shape {r.shape})")
        if r.dtype.kind == "f" and not np.all(np.isfinite(r)):
            raise InputError("the spike raster contains NaN or inf values")
        if r.dtype != bool and not np.all((r == 0) | (r == 1)):
            raise InputError("a spike raster must be binary (0/1); found other values")
        trials, times, units = np.nonzero(r)
        return cls(
            times=times,
            units=units,
            trials=trials,
            n_units=r.shape[2],
            n_steps=r.shape[1],
            n_trials=r.shape[0],
            dt=dt,
            metadata=metadata,
        )

    # ------------------------------------------------------------------ views
    @property
    def n_spikes(self) -> int:
        return int(self.times.size)

    @property
    def duration_ms(self) -> float:
        """Total recorded time over all trials, in ms."""
        return self.n_trials * self.n_steps * self.dt

    def to_dense(self, dtype: Any = np.uint8) -> np.ndarray:
        """Dense raster ``(n_trials, n_steps, n_units)`` of ``dtype`` (bool, integer or float)."""
        out = np.zeros((self.n_trials, self.n_steps, self.n_units), dtype=raster_dtype(dtype))
        out[self.trials, self.times, self.units] = 1
        return out

    def iter_dense(
        self, chunk_steps: int, dtype: Any = np.uint8
    ) -> Iterator[tuple[int, int, np.ndarray]]:
        """Yield ``(trial, start, raster)`` chunks of at most ``chunk_steps`` steps, in order."""
        chunk_steps = whole_number(chunk_steps, "chunk_steps", minimum=1)  # 2.5: a TypeError
        dtype = raster_dtype(dtype)
        bounds = np.searchsorted(self.trials, np.arange(self.n_trials + 1, dtype=self.trials.dtype))
        for trial in range(self.n_trials):
            t = self.times[bounds[trial] : bounds[trial + 1]]
            u = self.units[bounds[trial] : bounds[trial + 1]]
            for start in range(0, self.n_steps, chunk_steps):
                stop = min(start + chunk_steps, self.n_steps)
                lo, hi = np.searchsorted(t, [start, stop])
                out = np.zeros((stop - start, self.n_units), dtype=dtype)
                out[t[lo:hi] - start, u[lo:hi]] = 1
                yield trial, start, out

    def population_activity(self) -> np.ndarray:
        """Spike counts per step summed over units, ``(n_trials, n_steps)`` int64."""
        require_memory(  # as SpikeReader.step_counts checks it for a file
            8.0 * self.n_trials * self.n_steps,
            f"the counts per step of {self.n_trials:,} trial(s) x {self.n_steps:,} steps",
            "analyse fewer trials or a part of the run, or a machine with more memory",
        )
        counts = np.zeros((self.n_trials, self.n_steps), dtype=np.int64)
        np.add.at(counts, (self.trials, self.times), 1)
        return counts

    def spike_counts(self) -> np.ndarray:
        """Total spikes per unit, ``(n_units,)``."""
        return np.bincount(self.units, minlength=self.n_units)

    def rates_hz(self) -> np.ndarray:
        """Mean firing rate of each unit in Hz."""
        return self.spike_counts() / (self.duration_ms / 1000.0)

    def select_units(self, units: Any) -> SpikeTrain:
        """Keep the given units (renumbered 0..k-1 in the given order); ``units`` as
        :func:`~infodyn.data.units.unit_subset` takes them (a list without repeats, or
        ``"0-19,25"``). The readers' per-unit metadata (:data:`PER_UNIT_METADATA`: one entry a
        unit) is selected with them."""
        units = unit_subset(units, self.n_units)
        lookup = -np.ones(self.n_units, dtype=np.int64)
        lookup[units] = np.arange(units.size)
        new = lookup[self.units]
        keep = new >= 0
        # (they kept the old units' ids: cluster 3 for 40)
        metadata = per_unit_selected(self.metadata, self.n_units, units)
        return SpikeTrain(
            times=self.times[keep],
            units=new[keep],
            trials=self.trials[keep],
            n_units=units.size,
            n_steps=self.n_steps,
            n_trials=self.n_trials,
            dt=self.dt,
            metadata=metadata,
        )


# ------------------------------------------------------------ whole-file loaders
def _read_only(dataset: Any, dtype: Any) -> np.ndarray:
    """A dataset read whole, read-only: a SpikeTrain keeps it without a copy when it already
    has the train's ``dtype`` (:func:`_own`; the file's integer types are those of the
    writers)."""
    a = np.asarray(dataset[...])
    if a.dtype == dtype:
        a.flags.writeable = False
    return a


def _load_h5(path: Path) -> SpikeTrain:
    with _open_h5(path) as h5:
        try:
            grp = h5["spikes"]
            header = _h5_header(h5)
            if "trials" not in grp and header["n_trials"] > 1:
                raise InputError(NO_TRIALS.format(header["n_trials"]))
            return SpikeTrain(
                times=_read_only(grp["times"], np.int64),
                units=_read_only(grp["units"], np.int32),
                trials=_read_only(grp["trials"], np.int32) if "trials" in grp else None,
                **header,
            )
        except KeyError as exc:
            raise InputError(f"{path}: spike file is missing {exc}") from None
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        except H5_READ_ERRORS as exc:
            raise InputError(f"{path}: corrupt spike data ({exc})") from None
        except (TypeError, ValueError, OverflowError) as exc:  # a group where a dataset should be
            raise InputError(f"{path}: spike file has unreadable parts ({exc})") from None


def _load_npz(path: Path) -> SpikeTrain:
    try:
        with path.open("rb") as fh:
            head = fh.read(6)
    except OSError as exc:
        raise InputError(f"{path}: not a readable NPZ file ({exc})") from None
    if head.startswith(b"\x93NUMPY"):  # np.save output renamed: was a TypeError
        raise InputError(
            f"{path}: a single .npy array, not an NPZ archive; save it with "
            f"np.savez(path, raster=...) or np.savez(path, times=..., units=...)"
        )
    if not head.startswith(b"PK"):  # numpy's text suggested unpickling it
        raise InputError(f"{path}: not an NPZ (zip) archive")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable NPZ file ({exc})") from None
    with data:
        try:
            spikes = _npz_spikes(path, data)
        except InputError as exc:  # (a MemoryPreflightError stays one)
            raise type(exc)(f"{path}: {exc}") from None
        except (TypeError, ValueError, OverflowError) as exc:  # fields of an unexpected kind
            raise InputError(
                f"{path}: unexpected NPZ field ({type(exc).__name__}: {exc})"
            ) from None
    if spikes is None:
        raise InputError(f"{path}: NPZ file needs a 'raster' array or 'times' and 'units' arrays")
    return spikes


def _npz_number(data: Any, key: str, default: Any) -> Any:
    """The single number stored under ``key`` (``default`` when absent)."""
    if key not in data.files:
        return default
    a = data[key]
    if a.ndim != 0 or a.dtype.kind not in "iuf":
        raise InputError(f"{key} must be a single number, got {a.dtype} of shape {a.shape}")
    return a.item()


def _one_past_max(a: np.ndarray) -> Any:
    """The count a stored array of ids implies: its largest entry + 1 (a Python number, so
    uint64 cannot wrap), or 1 when it is empty or not finite numbers (SpikeTrain refuses those)."""
    ok = a.ndim == 1 and a.dtype.kind in "iuf" and np.all(np.isfinite(a))
    return a.max().item() + 1 if ok and a.size else 1


def _warn_id_gaps(path: Path, sp: SpikeTrain) -> None:
    """NPZ ``units`` are indices 0..n-1: without ``n_units``, values such as cluster ids (5, 17)
    make every index below the largest a unit, most of them silent (18 units for 2), which
    dilutes rates and subsamples. Said when more than half the units so made never spike."""
    n = sp.n_units
    used = np.unique(sp.units).size
    if used < n / 2:
        warn_data(
            f"{path}: units hold {used} distinct values up to {n - 1}, read as indices: "
            f"{n} units, {n - used} of them silent; if they are ids, renumber them "
            "(np.unique(units, return_inverse=True)) or give n_units"
        )


#: bytes the reading of an NPZ raster holds an element beyond the raster itself (its 0/1
#: check's three boolean temporaries), and a byte of times/units/trials (their int64 and int32
#: copies)
_NPZ_RASTER_EXTRA = 3
_NPZ_EVENTS_FACTOR = 3


def _check_npz_memory(path: Path, data: Any, keys: set[str]) -> None:
    """Refuse, from the members' headers, an NPZ whose arrays would not fit once read: a
    compressed archive can declare far more than it holds."""
    raster = next((k for k in ("raster", "spikes") if k in keys), None)
    if raster is not None:
        declared = npz_member_size(data, raster)
        if declared is None:
            return
        elements, size = declared
        need = size + _NPZ_RASTER_EXTRA * elements
        what = f"its {raster!r} array ({format_bytes(size)} once decompressed) and its checks"
    else:
        declared = [npz_member_size(data, k) for k in ("times", "units", "trials") if k in keys]
        if not declared or None in declared:
            return
        sizes = [d[1] for d in declared if d is not None]
        need = _NPZ_EVENTS_FACTOR * sum(sizes)
        what = f"its spike times and units ({format_bytes(sum(sizes))} once read) and copies"
    require_memory(
        need,
        what,
        "free memory, or store the spikes as an infodyn HDF5 file (save_spikes), which the "
        "analyses read in chunks",
    )


def _npz_spikes(path: Path, data: Any) -> SpikeTrain | None:
    """A raster (``raster``/``spikes``) or ``times``/``units`` (+ ``trials``, counts, ``dt``)."""
    keys = set(data.files)
    dt = _npz_number(data, "dt", 1.0)
    _check_npz_memory(path, data, keys)
    for key in ("raster", "spikes"):
        if key in keys:
            left = sorted(keys & {"times", "units", "trials"})
            if left:  # two descriptions of the spikes: the other was ignored without a word
                warn_data(f"{path}: read its {key!r} array; {', '.join(left)} are not read")
            return SpikeTrain.from_dense(data[key], dt=dt, metadata={"source": str(path)})
    if {"times", "units"} <= keys:
        times, units = data["times"], data["units"]
        trials = data["trials"] if "trials" in keys else None
        unsized = [k for k in ("n_units", "n_steps") if k not in keys]
        if unsized and np.size(times) == 0:  # read as 1 unit x 1 step, with no word
            raise InputError(
                f"holds no spikes and no {' or '.join(unsized)}: its size is unknown; save "
                "n_units and n_steps with the (empty) times and units"
            )
        sp = SpikeTrain(
            times=times,
            units=units,
            trials=trials,
            n_units=_npz_number(data, "n_units", _one_past_max(units)),
            n_steps=_npz_number(data, "n_steps", _one_past_max(times)),
            n_trials=_npz_number(data, "n_trials", 1 if trials is None else _one_past_max(trials)),
            dt=dt,
            metadata={"source": str(path)},
        )
        if "n_units" not in keys and sp.n_spikes:  # (after the train's own checks: none for
            _warn_id_gaps(path, sp)  # refused units; no spikes: "no spikes" says it)
        return sp
    return None
