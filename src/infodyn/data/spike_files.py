"""The infodyn HDF5 spike-file format: writing it and opening it.

HDF5 layout (``.h5``/``.hdf5``), written atomically (temporary name, then rename)::

    /spikes/times   int64 (n_spikes,)   step index within the trial
    /spikes/units   int32 (n_spikes,)   unit index
    /spikes/trials  int32 (n_spikes,)   trial index
    attrs: format="infodyn-spikes", version=1, dt, n_units, n_steps, n_trials, metadata (JSON),
           sorted (1 when the spikes are stored in (trial, time) order, else 0)

``save_spikes`` always stores spikes in (trial, time, unit) order; ``SpikeWriter`` stores them in
the order they were appended and records in ``sorted`` whether that order was (trial, time).
Both compress the three datasets alike (:data:`COMPRESSION`: gzip level 4 after HDF5's byte
shuffle; ``save_spikes`` stores files of up to 4,096 spikes plain). Files written before
``sorted`` was recorded lack it; :class:`~infodyn.data.spike_reader.SpikeReader` then checks
the order in one bounded-memory pass.
Loading a whole file into a :class:`~infodyn.data.spikes.SpikeTrain` is
:func:`infodyn.data.io.load_spikes`; streaming it in time windows is
:mod:`infodyn.data.spike_reader`.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from infodyn.atomic import atomic_path, require_space, to_jsonable
from infodyn.data.notes import warn_data
from infodyn.errors import (
    InputError,
    array_or_none,
    as_array,
    as_path,
    as_table,
    existing_file,
    is_finite_number,
    shown,
    whole_number,
)

if TYPE_CHECKING:
    from infodyn.data.spikes import SpikeTrain

FORMAT_NAME = "infodyn-spikes"
FORMAT_VERSION = 1

#: the datasets' filters, for both writers (readers need nothing: HDF5 records them). The byte
#: shuffle groups the high bytes of the integers, which are mostly equal, so gzip finds them:
#: on a raster of 3.6 million spikes (10^5 units, 2,000 steps) it made the file 4.6 MB at level
#: 4 against 6.8 MB without it (level 1: 5.1 against 6.6 MB), and writing and reading faster
#: (``benchmarks/bench_spike_files.py``, ``benchmarks/RESULTS.md``)
COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}
#: spikes a dataset chunk holds (both writers)
CHUNK = 65536

#: bytes a spike takes uncompressed (int64 time, int32 unit, int32 trial): the most it adds
SPIKE_BYTES = 16


H5_SUFFIXES = (".h5", ".hdf5")  # infodyn HDF5 spike files


def is_h5_path(path: Any) -> bool:
    """Whether ``path`` (str, bytes or path-like) names an infodyn HDF5 spike file by its suffix:
    the files :class:`SpikeReader` streams (other spike files are loaded whole)."""
    return Path(os.fsdecode(path)).suffix.lower() in H5_SUFFIXES


#: a file of several trials without /spikes/trials: every spike was read as trial 0
NO_TRIALS = "n_trials is {} but no /spikes/trials dataset says which trial each spike is in"


def _existing_file(path: str | bytes | os.PathLike) -> Path:
    return existing_file(path, "spike file", missing="no such file")


def metadata_json(metadata: Any) -> str:
    """``metadata`` as the strict JSON text a spike file stores: NumPy numbers and arrays as
    numbers and lists (they were stored as text: an array of 2000 ids as NumPy's truncated
    print), NaN/inf as null, other values JSON cannot hold as their text; keys it cannot
    hold (NumPy ints, tuples) or a table that holds itself are one :class:`InputError` (they
    were a raw TypeError as the file closed: the spikes were lost)."""
    try:
        return json.dumps(to_jsonable(metadata, others_as_text=True), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InputError(
            f"metadata must be a table JSON can hold (text keys; numbers, text, lists, tables): "
            f"{exc}"
        ) from None


#: the attribute of a spike file that holds one stretch of an unfinished run (a checkpoint's,
#: :mod:`infodyn.experiments.simulate_checkpoint`): the readers refuse it
UNFINISHED = "unfinished_run"


def _write_attrs(h5: Any, spikes_meta: dict[str, Any]) -> None:
    h5.attrs["format"] = FORMAT_NAME
    h5.attrs["version"] = FORMAT_VERSION
    for key in ("dt", "n_units", "n_steps", "n_trials"):
        h5.attrs[key] = spikes_meta[key]
    h5.attrs["metadata"] = metadata_json(spikes_meta.get("metadata", {}))
    h5.attrs["sorted"] = np.int8(1 if spikes_meta["sorted"] else 0)


def save_spikes(path: str | os.PathLike, spikes: SpikeTrain, replace: bool = True) -> Path:
    """Write ``spikes`` to an HDF5 file atomically (see the module docstring for the layout).

    The name must end in ``.h5`` or ``.hdf5``: readers choose the format by the suffix, so HDF5
    written as ``spikes.npz`` could not be read back (it was, with a message about pickles).
    ``replace=False``: a file at ``path`` is never replaced, even one another process made
    meanwhile (:class:`InputError`)."""
    path = as_path(path)
    if not is_h5_path(path):
        raise InputError(f"{path}: save_spikes writes HDF5; name the file .h5 or .hdf5")
    if not all(hasattr(spikes, k) for k in ("times", "units", "trials", "n_spikes")):
        raise InputError(  # a raster gave "'numpy.ndarray' object has no attribute 'n_spikes'"
            f"save_spikes writes a SpikeTrain, got {type(spikes).__name__}; make one with "
            "SpikeTrain.from_dense(raster)"
        )
    require_space(path, SPIKE_BYTES * spikes.n_spikes)  # HDF5 does not survive a full disk
    try:
        _write_h5(path, spikes, replace)
    except FileExistsError:
        raise InputError(
            f"{path}: exists (made while this file was written, if not before) and is not "
            "replaced; pass --force (replace=True) to replace it, or write to another file"
        ) from None
    return path


def _write_h5(path: Path, spikes: SpikeTrain, replace: bool) -> None:
    with atomic_path(path, ".h5", replace=replace) as tmp:
        with h5py.File(tmp, "w") as h5:
            grp = h5.create_group("spikes")
            n = spikes.n_spikes  # SpikeWriter's chunks (h5py's own were smaller: slower reads)
            kw = {"chunks": (min(n, CHUNK),), **COMPRESSION} if n > 4096 else {}
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
                    "sorted": True,  # a SpikeTrain is always in (trial, time, unit) order
                },
            )


def _indices(values: Any, name: str, upper: int | None) -> np.ndarray:
    """Spike times or units as 1-D int64: whole numbers in ``[0, upper)`` (fractional steps were
    truncated, units past ``n_units`` written and refused only on reading)."""
    a = as_array(values, name)
    if a.ndim != 1:
        raise InputError(f"{name} must be a 1-D array, got shape {a.shape}")
    if a.size == 0:
        return a.astype(np.int64)
    if a.dtype.kind == "f":
        if not (np.all(np.isfinite(a)) and np.all(a == np.round(a))):
            raise InputError(f"{name} must be whole numbers (steps and unit indices)")
    elif a.dtype.kind not in "iu":
        raise InputError(f"{name} must be whole numbers, got dtype {a.dtype}")
    lo, hi = a.min(), a.max()
    if lo < 0 or (upper is not None and hi >= upper):
        bound = f"[0, {upper})" if upper is not None else ">= 0"
        raise InputError(f"{name} must lie in {bound}, got {lo}..{hi}")
    return a.astype(np.int64)


class SpikeWriter:
    """Stream spikes to an HDF5 file in chunks, so long runs never hold a dense (T, N) array.

    Use as a context manager; the file appears under its final name only when the block exits
    without an error::

        with SpikeWriter("run/spikes.h5", n_units=1000, dt=1.0) as w:
            w.append(times, units)          # any number of chunks, times in steps
        # n_steps defaults to the last spike time + 1 unless given to the constructor or close()

    ``unfinished`` marks the file as one stretch of a run that is still going (:data:`UNFINISHED`:
    its header is the whole run's), which the readers refuse.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        n_units: int,
        dt: float = 1.0,
        n_steps: int | None = None,
        n_trials: int = 1,
        metadata: dict[str, Any] | None = None,
        unfinished: bool = False,
    ) -> None:
        self.path = as_path(path)
        self.unfinished = bool(unfinished)
        if not is_h5_path(self.path):
            raise InputError(f"{self.path}: SpikeWriter writes HDF5; name the file .h5 or .hdf5")
        # checked before the file is made, to the readers' limits: a bad header was written and
        # refused only on reading
        self.n_units = whole_number(n_units, "n_units", minimum=1, maximum=INT32_MAX)
        self.n_trials = whole_number(n_trials, "n_trials", minimum=1, maximum=INT32_MAX)
        self.n_steps = (
            None if n_steps is None else whole_number(n_steps, "n_steps", 1, maximum=MAX_STEPS)
        )
        if not (is_finite_number(dt) and dt > 0):  # 10**30: a raw isfinite TypeError
            raise InputError(f"dt must be a positive number of ms, got {dt!r}")
        self.dt = float(dt)
        self.metadata = as_table(metadata, "metadata")
        metadata_json(self.metadata)  # now, not as the file closes (the spikes were lost)
        self._ctx = atomic_path(self.path, ".h5")
        self._tmp = self._ctx.__enter__()
        try:  # an interrupt while the file is set up (no __exit__ yet) left its temporary
            self._create()
        except BaseException:
            if getattr(self, "_h5", None) is not None:
                self._h5.close()
            if not self._ctx.__exit__(*sys.exc_info()):
                raise
        self.n_spikes = 0
        self._last_time = -1
        self._closed = False  # close() done: a second close (or the with block's) does nothing
        # whether everything appended so far is in (trial, time) order, and the last such key
        self._sorted = True
        self._last_key: tuple[int, int] | None = None

    def _create(self) -> None:
        """Open the temporary file and make its empty, growable datasets."""
        self._h5 = None
        self._h5 = h5py.File(self._tmp, "w")
        grp = self._h5.create_group("spikes")
        opts = {"maxshape": (None,), "chunks": (CHUNK,), **COMPRESSION}
        self._ds = {
            "times": grp.create_dataset("times", shape=(0,), dtype=np.int64, **opts),
            "units": grp.create_dataset("units", shape=(0,), dtype=np.int32, **opts),
            "trials": grp.create_dataset("trials", shape=(0,), dtype=np.int32, **opts),
        }

    def append(self, times: Any, units: Any, trial: int = 0) -> None:
        """Append spikes (step indices and unit indices) of one trial; each is checked here
        (whole numbers in range), not when the file is read back."""
        if self._closed:
            raise InputError(f"{self.path}: the spike writer is closed; nothing can be appended")
        # without n_steps, the readers' limit (2**64 - 1 as uint64 wrapped to -1)
        times = _indices(times, "times", self.n_steps or MAX_STEPS)
        units = _indices(units, "units", self.n_units).astype(np.int32)
        trial = whole_number(trial, "trial", maximum=self.n_trials - 1)
        if times.shape != units.shape:
            raise InputError("times and units must be 1-D arrays of equal length")
        if times.size == 0:
            return
        n = times.size
        require_space(self.path, SPIKE_BYTES * n)  # before HDF5 meets a full disk: it crashed
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
        if self._sorted:
            first = (int(trial), int(times[0]))
            if (self._last_key is not None and first < self._last_key) or bool(
                np.any(times[1:] < times[:-1])
            ):
                self._sorted = False
            self._last_key = (int(trial), int(times[-1]))

    def close(self, n_steps: int | None = None, error: bool = False) -> None:
        """Write the header and move the file to its name (``error``: discard it instead).
        ``n_steps`` (default: the constructor's, else the last spike + 1) must pass the last
        spike; a refused value leaves the writer open, so ``close`` can be called again. Once
        closed, ``close`` does nothing (``close(n_steps=...)`` inside a ``with`` block)."""
        if self._closed:
            return
        if n_steps is not None and not error:  # 0 fell back to the default, 2.7 was cut to 2
            n_steps = whole_number(n_steps, "n_steps", minimum=1, maximum=MAX_STEPS)
            if n_steps <= self._last_time:  # wrote a file that failed only when read
                raise InputError(
                    f"{self.path}: n_steps={n_steps} but a spike lies at step "
                    f"{self._last_time}; give n_steps > {self._last_time} or leave it out"
                )
        n_steps = n_steps or self.n_steps or (self._last_time + 1) or 1
        _write_attrs(
            self._h5,
            {
                "dt": self.dt,
                "n_units": self.n_units,
                "n_steps": int(n_steps),
                "n_trials": self.n_trials,
                "metadata": self.metadata,
                "sorted": self._sorted,
            },
        )
        if self.unfinished:
            self._h5.attrs[UNFINISHED] = np.int8(1)
        self._h5.close()
        self._closed = True
        if error:
            self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)
        else:
            self._ctx.__exit__(None, None, None)

    def __enter__(self) -> SpikeWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None or self._closed:
            self.close()
        else:
            self._h5.close()
            try:
                self._ctx.__exit__(exc_type, exc, tb)
            except BaseException:  # the original exception is re-raised by the caller
                pass


# What h5py raises on a damaged file: OSError, and RuntimeError from HDF5's own checks (a
# corrupt object header reads "Unable to synchronously check link existence (bad local heap
# signature)").
H5_READ_ERRORS = (OSError, RuntimeError)


def _open_h5(path: Path) -> Any:
    """Open an infodyn HDF5 spike file for reading (format checked), or raise InputError."""
    try:
        h5 = h5py.File(path, "r")
    except H5_READ_ERRORS as exc:
        if "unable to lock file, errno = 11" in str(exc):  # EAGAIN: another holds the lock
            raise InputError(
                f"{path}: another process has it open for writing (HDF5's file lock); read it "
                "when that process has closed it"
            ) from None
        if "unable to lock file" in str(exc):  # a file system without locks (NFS, Lustre)
            raise InputError(
                f"{path}: HDF5 cannot lock files on this file system ({exc}); set "
                "HDF5_USE_FILE_LOCKING=FALSE in the environment"
            ) from None
        raise InputError(f"{path}: not a readable HDF5 file ({exc})") from None
    try:
        is_spike_file = read_attribute(h5.attrs, "format") == FORMAT_NAME and "spikes" in h5
        version = read_attribute(h5.attrs, "version", FORMAT_VERSION)
    except H5_READ_ERRORS as exc:
        h5.close()
        raise InputError(f"{path}: corrupt HDF5 file ({exc})") from None
    if not is_spike_file:
        h5.close()
        raise InputError(
            f"{path}: not an infodyn spike file (it needs the root attribute format = "
            f"{FORMAT_NAME!r} and the group /spikes)"
        )
    if isinstance(version, float) and version.is_integer():  # MATLAB writes numbers as doubles
        version = int(version)
    whole = isinstance(version, int) and not isinstance(version, bool)
    if not (whole and version == FORMAT_VERSION):
        h5.close()  # a later layout would be misread without a sign
        why = (
            "a newer infodyn wrote it: upgrade"
            if whole and version > FORMAT_VERSION
            else "not a version"
        )
        raise InputError(
            f"{path}: infodyn spike file of format version {shown(version)} ({why}); this "
            f"infodyn reads version {FORMAT_VERSION}"
        )
    return h5


def read_attribute(attrs: Any, name: str, default: Any = None) -> Any:
    """An HDF5 attribute as a plain value: text for the byte strings that C, MATLAB or R write,
    and one value for their one-element arrays (h5py writes both as scalars)."""
    value = attrs.get(name, default)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bytes | np.bytes_):
        try:
            value = bytes(value).decode()
        except UnicodeDecodeError:
            return value
    return value.item() if isinstance(value, np.generic) and value.ndim == 0 else value


#: units and trials are stored as int32, step indices as int64 (with room for t + 1)
INT32_MAX = 2**31 - 1
MAX_STEPS = 2**62


def check_count(name: str, value: Any, limit: int) -> int:
    """A count (``n_units``, ...) as an int: one whole number in ``[1, limit]``, else
    :class:`InputError` (2.7 units, or 3e9 beyond the int32 ids, would be truncated or wrap
    silently)."""
    a = array_or_none(value)  # a ragged list: NumPy's "inhomogeneous shape"
    ok = a is not None and not isinstance(value, bool) and a.ndim == 0 and a.dtype.kind in "iuf"
    ok = ok and bool(np.isfinite(a)) and a == np.round(a) and 1 <= a <= limit
    if not ok:
        raise InputError(f"{name} must be a whole number in [1, {limit}], got {shown(value)}")
    return int(a)


def warn_padded_trials(meta: dict[str, Any], source: str) -> None:
    """Pass on, at every read of a spike file, the note that its trials were padded when it was
    made (``metadata["binning"]`` or ``["nwb_binning"]["trial_steps_range"]``): ``convert``
    said so once, and every analysis of the file then counted the padding as recorded silence
    unsaid (three trials of 200-900 steps of independent spikes gave an MR branching ratio of
    0.995: the fall to silence at a short trial's end reads as a slow decay)."""
    for key in ("binning", "nwb_binning"):
        block = meta.get(key)
        span = block.get("trial_steps_range") if isinstance(block, dict) else None
        if isinstance(span, list) and len(span) == 2 and span[0] < span[1]:
            warn_data(
                f"{source}: its trials lasted {span[0]} to {span[1]} steps and were padded "
                f"with silent steps to {span[1]} when the file was made; analyses count those "
                "steps as recorded silence, which lowers rates and entropies and can put the "
                "branching ratio near 1: analyse trials of one length (cut them to "
                f"{span[0]} steps, or convert each length apart)"
            )
            return


def _h5_header(h5: Any, unfinished_ok: bool = False) -> dict[str, Any]:
    """``n_units``, ``n_steps``, ``n_trials``, ``dt`` and ``metadata`` of an open spike file
    (KeyError when one is missing, InputError when one is not what it should be, or when the
    file is a stretch of an unfinished run, :data:`UNFINISHED`, unless ``unfinished_ok``)."""
    attrs = h5.attrs
    if UNFINISHED in attrs and not unfinished_ok:  # its missing steps were read as silence
        raise InputError(
            f"this is the spike file of one stretch of a simulation that has not finished (a "
            f"checkpoint's): its header gives the whole run's {attrs.get('n_steps')} steps, but "
            "its spikes stop where the stretch did; finish the run (infodyn simulate CONFIG "
            "--out DIR --resume) and analyse DIR/spikes.h5"
        )
    for name in ("dt", "n_units", "n_steps"):  # h5py's KeyError text named no attribute
        if name not in attrs:
            raise InputError(f"the spike file has no {name!r} attribute")
    dt = np.asarray(read_attribute(attrs, "dt"))
    if dt.ndim or dt.dtype.kind not in "iuf":
        raise InputError(f"the dt attribute must be one number, got {attrs['dt']!r}")
    meta = read_attribute(attrs, "metadata", "{}")
    meta = json.loads(meta) if isinstance(meta, str) else None
    if not isinstance(meta, dict):
        raise InputError("the metadata attribute must be a JSON object (text)")
    warn_padded_trials(meta, str(h5.filename))
    return {
        "n_units": check_count("n_units", read_attribute(attrs, "n_units"), INT32_MAX),
        "n_steps": check_count("n_steps", read_attribute(attrs, "n_steps"), MAX_STEPS),
        "n_trials": check_count("n_trials", read_attribute(attrs, "n_trials", 1), INT32_MAX),
        "dt": float(dt),
        "metadata": meta,
    }


def raster_dtype(dtype: Any) -> np.dtype:
    """A raster's ``dtype``: bool, integer or float ("a" gave a raster of bytes, ``[]`` an empty
    structured type, "foo" NumPy's "data type not understood"; NumPy 2's DeprecationWarning of
    the alias "a" came before the refusal, or instead of it under ``-W error``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            out = np.dtype(dtype)
    except (TypeError, DeprecationWarning):
        out = None
    if dtype is None or out is None or out.kind not in "biuf":
        raise InputError(f"dtype must be a bool, integer or float type (np.uint8), got {dtype!r}")
    return out
