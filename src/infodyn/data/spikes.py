"""Sparse spike trains and the infodyn spike-file format.

A :class:`SpikeTrain` stores spikes sparsely as three aligned integer arrays, ``trials``, ``times``
(step indices within a trial) and ``units``, plus ``n_units``, ``n_steps`` (steps per trial),
``n_trials``, the step ``dt`` in ms and free-form metadata.

HDF5 layout (``.h5``/``.hdf5``), written atomically (temporary name, then rename)::

    /spikes/times   int64 (n_spikes,)   step index within the trial
    /spikes/units   int32 (n_spikes,)   unit index
    /spikes/trials  int32 (n_spikes,)   trial index
    attrs: format="infodyn-spikes", version=1, dt, n_units, n_steps, n_trials, metadata (JSON)

NPZ import: either the same sparse keys (``times``, ``units``, optional ``trials``, ``n_units``,
``n_steps``, ``dt``) or a dense binary raster under ``raster`` (or ``spikes``) shaped
``(n_steps, n_units)`` or ``(n_trials, n_steps, n_units)``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.data.atomic import atomic_path
from infodyn.errors import InputError

FORMAT_NAME = "infodyn-spikes"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SpikeTrain:
    """Spikes of ``n_units`` units over ``n_trials`` trials of ``n_steps`` steps of ``dt`` ms."""

    times: np.ndarray
    units: np.ndarray
    n_units: int
    n_steps: int
    dt: float = 1.0
    trials: np.ndarray | None = None
    n_trials: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        times = np.asarray(self.times)
        units = np.asarray(self.units)
        trials = np.zeros_like(times, dtype=np.int32) if self.trials is None else self.trials
        trials = np.asarray(trials)
        for name, a in (("times", times), ("units", units), ("trials", trials)):
            if a.ndim != 1:
                raise InputError(f"spike {name} must be one-dimensional, got shape {a.shape}")
            if a.size and a.dtype.kind not in "iu":
                if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
                    continue
                raise InputError(f"spike {name} must be integers (step indices), got {a.dtype}")
        if not (times.size == units.size == trials.size):
            raise InputError(
                f"spike times, units and trials differ in length: "
                f"{times.size}, {units.size}, {trials.size}"
            )
        if int(self.n_units) < 1 or int(self.n_steps) < 1 or int(self.n_trials) < 1:
            raise InputError("n_units, n_steps and n_trials must all be >= 1")
        if not np.isfinite(self.dt) or self.dt <= 0:
            raise InputError(f"dt must be a positive number of ms, got {self.dt}")
        if times.size:
            if times.min() < 0 or times.max() >= self.n_steps:
                raise InputError(f"spike times must lie in [0, n_steps={self.n_steps})")
            if units.min() < 0 or units.max() >= self.n_units:
                raise InputError(f"spike units must lie in [0, n_units={self.n_units})")
            if trials.min() < 0 or trials.max() >= self.n_trials:
                raise InputError(f"spike trials must lie in [0, n_trials={self.n_trials})")
        order = np.lexsort((units, times, trials))
        object.__setattr__(self, "times", times.astype(np.int64)[order])
        object.__setattr__(self, "units", units.astype(np.int32)[order])
        object.__setattr__(self, "trials", trials.astype(np.int32)[order])
        object.__setattr__(self, "n_units", int(self.n_units))
        object.__setattr__(self, "n_steps", int(self.n_steps))
        object.__setattr__(self, "n_trials", int(self.n_trials))
        object.__setattr__(self, "dt", float(self.dt))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dense(
        cls, raster: Any, dt: float = 1.0, metadata: dict[str, Any] | None = None
    ) -> SpikeTrain:
        """Build from a binary raster ``(n_steps, n_units)`` or ``(n_trials, n_steps, n_units)``."""
        r = np.asarray(raster)
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
            metadata=dict(metadata or {}),
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
        """Dense raster ``(n_trials, n_steps, n_units)``."""
        out = np.zeros((self.n_trials, self.n_steps, self.n_units), dtype=dtype)
        out[self.trials, self.times, self.units] = 1
        return out

    def iter_dense(
        self, chunk_steps: int, dtype: Any = np.uint8
    ) -> Iterator[tuple[int, int, np.ndarray]]:
        """Yield ``(trial, start, raster)`` chunks of at most ``chunk_steps`` steps, in order."""
        if chunk_steps < 1:
            raise InputError("chunk_steps must be >= 1")
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
        """Keep the given units (renumbered 0..k-1 in the given order)."""
        units = np.asarray(units, dtype=np.int64)
        lookup = -np.ones(self.n_units, dtype=np.int64)
        lookup[units] = np.arange(units.size)
        new = lookup[self.units]
        keep = new >= 0
        return SpikeTrain(
            times=self.times[keep],
            units=new[keep],
            trials=self.trials[keep],
            n_units=units.size,
            n_steps=self.n_steps,
            n_trials=self.n_trials,
            dt=self.dt,
            metadata=dict(self.metadata),
        )


# ---------------------------------------------------------------------- HDF5 files
def _write_attrs(h5: Any, spikes_meta: dict[str, Any]) -> None:
    h5.attrs["format"] = FORMAT_NAME
    h5.attrs["version"] = FORMAT_VERSION
    for key in ("dt", "n_units", "n_steps", "n_trials"):
        h5.attrs[key] = spikes_meta[key]
    h5.attrs["metadata"] = json.dumps(spikes_meta.get("metadata", {}), default=str)


def save_spikes(path: str | os.PathLike, spikes: SpikeTrain) -> Path:
    """Write ``spikes`` to an HDF5 file atomically (see the module docstring for the layout)."""
    import h5py

    path = Path(path)
    with atomic_path(path, ".h5") as tmp:
        with h5py.File(tmp, "w") as h5:
            grp = h5.create_group("spikes")
            kw = {"compression": "gzip", "compression_opts": 4} if spikes.n_spikes > 4096 else {}
            grp.create_dataset("times", data=spikes.times, **kw)
            grp.create_dataset("units", data=spikes.units, **kw)
            grp.create_dataset("trials", data=spikes.trials, **kw)
            _write_attrs(
                h5,
                {
                    "dt": spikes.dt,
                    "n_units": spikes.n_units,
                    "n_steps": spikes.n_steps,
                    "n_trials": spikes.n_trials,
                    "metadata": spikes.metadata,
                },
            )
    return path


class SpikeWriter:
    """Stream spikes to an HDF5 file in chunks, so long runs never hold a dense (T, N) array.

    Use as a context manager; the file appears under its final name only when the block exits
    without an error::

        with SpikeWriter("run/spikes.h5", n_units=1000, dt=1.0) as w:
            w.append(times, units)          # any number of chunks, times in steps
        # n_steps defaults to the last spike time + 1 unless given to the constructor or close()
    """

    def __init__(
        self,
        path: str | os.PathLike,
        n_units: int,
        dt: float = 1.0,
        n_steps: int | None = None,
        n_trials: int = 1,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        import h5py

        self.path = Path(path)
        self.n_units, self.dt, self.n_steps, self.n_trials = (
            int(n_units),
            float(dt),
            n_steps,
            n_trials,
        )
        self.metadata = dict(metadata or {})
        self._ctx = atomic_path(self.path, ".h5")
        self._tmp = self._ctx.__enter__()
        self._h5 = h5py.File(self._tmp, "w")
        grp = self._h5.create_group("spikes")
        opts = {
            "maxshape": (None,),
            "chunks": (65536,),
            "compression": "gzip",
            "compression_opts": 1,
        }
        self._ds = {
            "times": grp.create_dataset("times", shape=(0,), dtype=np.int64, **opts),
            "units": grp.create_dataset("units", shape=(0,), dtype=np.int32, **opts),
            "trials": grp.create_dataset("trials", shape=(0,), dtype=np.int32, **opts),
        }
        self.n_spikes = 0
        self._last_time = -1

    def append(self, times: Any, units: Any, trial: int = 0) -> None:
        """Append spikes (step indices and unit indices) of one trial."""
        times = np.asarray(times, dtype=np.int64)
        units = np.asarray(units, dtype=np.int32)
        if times.shape != units.shape or times.ndim != 1:
            raise InputError("times and units must be 1-D arrays of equal length")
        if times.size == 0:
            return
        n = times.size
        for key, data in (
            ("times", times),
            ("units", units),
            ("trials", np.full(n, trial, np.int32)),
        ):
            ds = self._ds[key]
            ds.resize((self.n_spikes + n,))
            ds[self.n_spikes :] = data
        self.n_spikes += n
        self._last_time = max(self._last_time, int(times.max()))

    def close(self, n_steps: int | None = None, error: bool = False) -> None:
        n_steps = n_steps or self.n_steps or (self._last_time + 1) or 1
        _write_attrs(
            self._h5,
            {
                "dt": self.dt,
                "n_units": self.n_units,
                "n_steps": int(n_steps),
                "n_trials": self.n_trials,
                "metadata": self.metadata,
            },
        )
        self._h5.close()
        if error:
            self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)
        else:
            self._ctx.__exit__(None, None, None)

    def __enter__(self) -> SpikeWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self._h5.close()
            try:
                self._ctx.__exit__(exc_type, exc, tb)
            except BaseException:  # the original exception is re-raised by the caller
                pass


def _load_h5(path: Path) -> SpikeTrain:
    import h5py

    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path}: not a readable HDF5 file ({exc})") from None
    with h5:
        if h5.attrs.get("format") != FORMAT_NAME or "spikes" not in h5:
            raise InputError(
                f"{path}: not an infodyn spike file (missing format attribute or /spikes)"
            )
        try:
            grp = h5["spikes"]
            return SpikeTrain(
                times=grp["times"][...],
                units=grp["units"][...],
                trials=grp["trials"][...] if "trials" in grp else None,
                n_units=int(h5.attrs["n_units"]),
                n_steps=int(h5.attrs["n_steps"]),
                n_trials=int(h5.attrs.get("n_trials", 1)),
                dt=float(h5.attrs["dt"]),
                metadata=json.loads(h5.attrs.get("metadata", "{}")),
            )
        except KeyError as exc:
            raise InputError(f"{path}: spike file is missing {exc}") from None


def _load_npz(path: Path) -> SpikeTrain:
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable NPZ file ({exc})") from None
    with data:
        keys = set(data.files)
        dt = float(data["dt"]) if "dt" in keys else 1.0
        for key in ("raster", "spikes"):
            if key in keys:
                return SpikeTrain.from_dense(data[key], dt=dt, metadata={"source": str(path)})
        if {"times", "units"} <= keys:
            times, units = data["times"], data["units"]
            n_units = int(data["n_units"]) if "n_units" in keys else int(units.max(initial=-1)) + 1
            n_steps = int(data["n_steps"]) if "n_steps" in keys else int(times.max(initial=-1)) + 1
            trials = data["trials"] if "trials" in keys else None
            n_trials = (
                int(data["n_trials"])
                if "n_trials" in keys
                else (int(trials.max(initial=0)) + 1 if trials is not None else 1)
            )
            return SpikeTrain(
                times=times,
                units=units,
                trials=trials,
                n_units=max(n_units, 1),
                n_steps=max(n_steps, 1),
                n_trials=n_trials,
                dt=dt,
                metadata={"source": str(path)},
            )
    raise InputError(f"{path}: NPZ file needs a 'raster' array or 'times' and 'units' arrays")


def load_spikes(path: str | os.PathLike) -> SpikeTrain:
    """Read a spike file: infodyn HDF5 (``.h5``/``.hdf5``), NPZ, or NWB (``.nwb``, needs pynwb)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a spike file")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return _load_h5(path)
    if suffix == ".npz":
        return _load_npz(path)
    if suffix == ".nwb":
        from infodyn.data.nwb import load_nwb_spikes  # optional extra

        return load_nwb_spikes(path)
    raise InputError(f"{path}: unknown spike file type {suffix!r} (use .h5, .npz or .nwb)")
