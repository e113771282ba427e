"""Atomic file writes: write to a temporary name in the same folder, then rename.

An interrupted run therefore never leaves a half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=suffix + ".tmp", dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):  # jax arrays
        return np.asarray(obj).tolist()
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def to_jsonable(obj: Any) -> Any:
    """Convert NumPy/JAX scalars and arrays inside ``obj`` to plain Python; NaN/inf become None."""
    text = json.dumps(obj, default=_json_default)
    return json.loads(text, parse_constant=lambda _: None)


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON (NumPy values converted; NaN/inf -> null)."""
    with atomic_path(path, ".json") as tmp:
        tmp.write_text(json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n")
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write a text file."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def save_npz(path: str | os.PathLike, *, compress: bool = True, **arrays: Any) -> Path:
    """Atomically write an ``.npz`` archive (zlib-compressed unless ``compress=False``)."""
    write = np.savez_compressed if compress else np.savez
    with atomic_path(path, ".npz") as tmp:
        with open(tmp, "wb") as fh:
            write(fh, **{k: np.asarray(v) for k, v in arrays.items()})
    return Path(path)
