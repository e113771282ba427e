"""Atomic file writes: write to a temporary name in the same folder, flush it to disk, then
rename.

An interrupted run therefore never leaves a half-written file under the final name, and the
temporary file is removed whatever stops the block (an exception, ``KeyboardInterrupt``). The
data are flushed (``fsync``) before the rename and the folder's entry after it: without that, a
power loss or kernel crash soon after a checkpoint can leave the new name pointing at an empty or
partial file on filesystems that delay allocation (ext4, XFS), with the old file already gone.
The
final file gets the mode a plain ``open(path, "w")`` would give it (``0o666`` minus the umask),
not the private ``0o600`` of :func:`tempfile.mkstemp`, so a group on shared storage can read
results when its umask allows.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.errors import InputError, as_array, as_path, require_flag, writing


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no read-only call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    """Flush ``path`` (a file's data, or a folder's entries) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "", replace: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds.

    ``replace=False``: never replace a file at ``path``, even one made while the block ran
    (a hard link, which fails where the name exists: two ``infodyn convert`` runs to one new
    file both said they wrote it; :class:`FileExistsError`)."""
    final = as_path(path)
    tmp_path: Path | None = None
    try:  # from the moment the file exists: an interrupt right after mkstemp left it behind
        with writing(final):  # permission denied, a file in the way, read-only, disk full
            final.parent.mkdir(parents=True, exist_ok=True)
        # said of the name given, not of the temporary file (".c.h5.w24w000m.h5.tmp: ...")
        with writing(final, own_name=True):
            fd, tmp = tempfile.mkstemp(
                prefix=f".{final.name}.", suffix=suffix + ".tmp", dir=final.parent
            )
        tmp_path = Path(tmp)
        os.close(fd)
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        with writing(final):  # a folder of that name, a name too long: say so of the name given
            _fsync(tmp_path)
        if replace or not _linked(tmp_path, final):
            with writing(final):
                try:
                    os.replace(tmp_path, final)
                except OSError as exc:
                    exc.filename, exc.filename2 = str(final), None
                    raise
        with contextlib.suppress(OSError):  # some filesystems cannot sync a folder: best effort
            _fsync(final.parent)
    finally:
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()


def _linked(tmp: Path, final: Path) -> bool:
    """Give ``tmp`` the name ``final`` unless that name exists (:class:`FileExistsError`), by a
    hard link, which never replaces; False where the filesystem has no hard links (then a
    file there now is refused, and the caller renames: a narrow window remains)."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some network and FAT filesystems)
        if os.path.lexists(final):
            raise FileExistsError(errno.EEXIST, "exists", str(final)) from None
        return False
    return True


#: names of files a killed process leaves: :func:`atomic_path`'s ``.NAME.XXXX.tmp``, and a
#: finished result staged until the rest of its run is made (the simulate run's
#: ``.spikes.staged.h5``, which can hold gigabytes)
TEMPORARY_PATTERNS = (".*.tmp", ".*.staged.*")


#: bytes an HDF5 write keeps free beyond its own data: the chunk caches of a spike file's three
#: datasets (1 MiB each, written when they close) and its metadata
HDF5_RESERVE_BYTES = 4 * 2**20


def require_space(path: str | os.PathLike, n_bytes: int) -> None:
    """Refuse a write of at most ``n_bytes`` to ``path`` that would leave less than
    :data:`HDF5_RESERVE_BYTES` free on its file system, as the disk would refuse it
    (``OSError`` ENOSPC naming ``path``), before HDF5 starts it: HDF5 does not survive a full
    disk. A close that fails to write leaves a file handle that cannot be closed, and freeing it
    crashed the process (segmentation fault, exit 139, after the error's line; h5py issues
    914, 1120, 2160). A disk that another process fills meanwhile is not caught. A read-only
    file system is named as such (EROFS), and one that reports no capacity (``/proc``) is left
    to the write's own error: both were called full."""
    folder = as_path(path).parent
    while not folder.exists() and folder != folder.parent:  # the run's folder, not made yet
        folder = folder.parent
    if hasattr(os, "statvfs"):
        stats = os.statvfs(folder)
        if stats.f_flag & os.ST_RDONLY:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        if stats.f_blocks == 0:  # a pseudo file system: no free space to compare
            return
    free = shutil.disk_usage(folder).free
    if free < int(n_bytes) + HDF5_RESERVE_BYTES:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def remove_temporaries(folder: str | os.PathLike, below: bool = True) -> int:
    """Delete the files a process killed mid-write leaves in ``folder`` (and in its
    subfolders: ``below``) (:data:`TEMPORARY_PATTERNS`); returns how many. Call it only while no
    process writes there (before a run starts, after its workers stopped). A file that cannot be
    removed (a folder turned read-only) is left: this is cleaning up, and its error named a
    temporary file instead of the run's own failure."""
    count = 0
    root = Path(folder)
    if root.is_dir():
        find = root.rglob if below else root.glob
        for path in (p for pattern in TEMPORARY_PATTERNS for p in find(pattern)):
            try:
                if path.is_file():
                    path.unlink(missing_ok=True)
                    count += 1
            except OSError:
                continue
    return count


def write_csv(path: str | os.PathLike, rows: list[dict[str, Any]]) -> Path:
    """Atomically write ``rows`` as CSV; the columns are every key, in order of appearance.

    A list, tuple, array or table in a cell is written as JSON (``["a", "b"]``, ``{"k": 1}``;
    NaN as ``NaN``, as Python's and pandas' JSON readers take it); Python's repr
    (``['a', 'b']``) was written before. What JSON cannot hold (a table with tuple keys) is
    written as its text."""
    columns = list(dict.fromkeys(k for row in rows for k in row))

    def cell(v: Any) -> Any:
        if not isinstance(v, list | tuple | dict | np.ndarray):
            return v
        try:
            return json.dumps(v, default=_json_default_or_text)
        except (TypeError, ValueError):
            return str(v)

    with atomic_path(path, ".csv") as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows({k: cell(v) for k, v in row.items()} for row in rows)
    return Path(path)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):  # jax arrays
        return np.asarray(obj).tolist()
    raise InputError(f"cannot write {type(obj).__name__} {obj!r:.40} to JSON")


def _json_default_or_text(obj: Any) -> Any:
    try:
        return _json_default(obj)
    except InputError:
        return str(obj)


def to_jsonable(obj: Any, keep_nonfinite: bool = False, others_as_text: bool = False) -> Any:
    """Convert NumPy/JAX scalars and arrays and paths inside ``obj`` to plain Python; NaN/inf
    become None (``keep_nonfinite=True``: stay floats, for files that must give them back).
    Other objects are refused, or (``others_as_text=True``, a user's free-form metadata)
    written as their text.

    The package's one JSON-safe conversion: every JSON file infodyn writes goes through it."""
    text = json.dumps(obj, default=_json_default_or_text if others_as_text else _json_default)
    return json.loads(text) if keep_nonfinite else json.loads(text, parse_constant=lambda _: None)


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON (NumPy values converted; NaN/inf -> null)."""
    with atomic_path(path, ".json") as tmp:
        tmp.write_text(json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n")
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write a text file."""
    if not isinstance(text, str):  # "data must be str" from inside the temporary file
        raise InputError(f"text must be a str, got {type(text).__name__}")
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def save_npz(path: str | os.PathLike, *, compress: bool = True, **arrays: Any) -> Path:
    """Atomically write an ``.npz`` archive (zlib-compressed unless ``compress=False``)."""
    compress = require_flag("compress", compress)
    write = np.savez_compressed if compress else np.savez
    with atomic_path(path, ".npz") as tmp:
        with open(tmp, "wb") as fh:
            write(fh, **{k: as_array(v, k) for k, v in arrays.items()})
    return Path(path)
