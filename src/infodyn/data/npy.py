"""Read one ``.npy`` array with its header checked first: one clear error, never a bare crash.

``np.load`` allocates the array its header declares and then reads into it. A corrupt header
(or one written by a tool that died before the data) can declare far more than the file holds:
on a machine that refuses the allocation that is a bare ``MemoryError``; on one that overcommits
memory (likely so on a 128 GiB GPU machine, for a header declaring 10^13 values) the allocation
succeeds and the read fails later with a ValueError about data "not fully written". So
:func:`read_npy` reads the header alone (``numpy.lib.format``, versions 1.0 to 3.0), compares the
bytes it declares with the bytes the file holds after it and with the memory that is free
(:func:`infodyn.memory.require_memory`), and only then loads the array.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.errors import InputError
from infodyn.memory import format_bytes, require_memory

_READ_ERRORS = (OSError, ValueError, EOFError, MemoryError)


def npy_header(fh: Any) -> tuple[tuple[int, ...], np.dtype] | None:
    """``(shape, dtype)`` from the ``.npy`` header at the start of the open file ``fh``, or None
    for a header version this check does not know (numpy's own load then decides).

    Version 3.0 headers are utf-8 where 2.0 ones are latin-1; read as 2.0, only the field names
    of a structured dtype can come out garbled, never its size, which is all that is used."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version in ((2, 0), (3, 0)):  # 3.0 differs only in the header's text encoding
        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        return None
    return shape, dtype


def _declared(path: Path) -> tuple[tuple[int, ...], np.dtype, int] | None:
    """``(shape, dtype, bytes of data after the header)`` from the header of ``path``, or None
    (:func:`npy_header`)."""
    with open(path, "rb") as fh:
        header = npy_header(fh)
        data_bytes = os.fstat(fh.fileno()).st_size - fh.tell()
    return None if header is None else (*header, data_bytes)


def npz_member_size(npz: Any, key: str) -> tuple[int, int] | None:
    """``(elements, bytes)`` the array ``key`` of an NPZ archive opened with ``np.load``
    declares, read from its header without decompressing its data; None where the header
    cannot say. A compressed archive of a few hundred KB can declare a raster of gigabytes
    (read whole by ``npz[key]``: a raster of 3 x 10^8 zeros in a 285 KB file took 964 MB,
    unchecked)."""
    try:
        with npz.zip.open(f"{key}.npy") as fh:
            header = npy_header(fh)
    except (*_READ_ERRORS, KeyError, AttributeError):  # numpy's own load then decides
        return None
    if header is None:
        return None
    elements = math.prod(header[0])
    return elements, elements * header[1].itemsize


def read_npy(
    path: str | os.PathLike,
    what: str = "the array",
    advice: str = "free memory or use a larger machine",
) -> np.ndarray:
    """The array stored in the ``.npy`` file ``path`` (no pickled objects).

    Raises :class:`InputError` naming ``path`` when the file is not a readable ``.npy`` file,
    when its header declares more data than the file holds (a corrupt header or a file cut
    short), and, as :class:`infodyn.memory.MemoryPreflightError`, when the array would not fit
    in the free memory. ``what`` names the array and ``advice`` says what to do in that last
    message.
    """
    path = Path(path)
    try:
        header = _declared(path)
    except _READ_ERRORS as exc:
        raise _unreadable(path, exc) from None
    if header is not None:
        shape, dtype, data_bytes = header
        if dtype.hasobject:
            raise InputError(f"{path}: holds Python objects (pickled data), not numbers")
        need = math.prod(shape) * dtype.itemsize
        if need > data_bytes:
            raise InputError(
                f"{path}: its header declares {dtype} of shape {shape} ({format_bytes(need)}) "
                f"but the file holds {format_bytes(data_bytes)} after it: a corrupt header or "
                f"a file cut short"
            )
        require_memory(need, f"{what} in {path} ({dtype} of shape {shape})", advice)
    try:
        return np.load(path, allow_pickle=False)
    except MemoryError:  # the estimate fitted, the allocation did not
        raise InputError(
            f"{path}: too large to load into the memory that is free; {advice}"
        ) from None
    except _READ_ERRORS as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: BaseException) -> InputError:
    """``path: not a readable .npy file (ValueError: ...)``, numpy's text cut to its first line
    (its advice to unpickle is not for this reader)."""
    text = str(exc).strip().splitlines()
    return InputError(
        f"{path}: not a readable .npy file ({type(exc).__name__}: {text[0] if text else ''})"
    )
