"""Network weights to and from ``.npz`` files, sparse recurrent weights included.

A params dict ``{"w_in", "w_rec", "w_out"}`` is stored as one array per dense weight under its
name and, for a :class:`SparseWeights`, as ``NAME.values``, ``NAME.indices``, ``NAME.indptr``
and ``NAME.shape``; the dtype of every array is kept. :func:`params_to_arrays` and
:func:`params_from_arrays` are the same mapping for callers that add arrays of their own
(training checkpoints).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.atomic import save_npz
from infodyn.errors import InputError, existing_file
from infodyn.network.sparse import SparseWeights, matrix_shape
from infodyn.network.sparse_checks import check_sparse

_PARTS = ("values", "indices", "indptr", "shape")


def params_to_arrays(params: Mapping[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    """Flat ``{name: array}`` of ``params`` (module docstring), names prefixed by ``prefix``."""
    if not isinstance(params, Mapping):  # a list: AttributeError ('list' ... no attribute 'items')
        raise InputError(
            "params must be a dict of weights by name (as net.init returns), got "
            f"{type(params).__name__}"
        )
    if not all(isinstance(k, str) for k in params):
        raise InputError(f"params' keys must be weight names (text), got {list(params)[:5]!r}")
    if not params:  # written, then refused by load_params ("holds no weights")
        raise InputError("params holds no weights: nothing to save")
    odd = [k for k in params if not k or "." in k or "/" in k]
    if odd:  # "a.b" read back as part "b" of a sparse "a": the weights were lost
        raise InputError(f"weight names must be non-empty, without '.' or '/': {odd[:5]!r}")
    out: dict[str, np.ndarray] = {}
    for key, w in params.items():
        if isinstance(w, SparseWeights):
            # the pattern (e.g. indices that int32 cannot hold); values are checked where used
            check_sparse(w, w.shape, f"params[{key!r}]", finite=False)
            w = w.to_numpy()
            for part, arr in zip(
                _PARTS, (w.values, w.indices, w.indptr, np.asarray(w.shape)), strict=True
            ):
                out[f"{prefix}{key}.{part}"] = arr
        else:
            arr = np.asarray(w)
            if arr.dtype.kind not in "biuf":  # an object array saved, then refused on load
                raise InputError(f"params[{key!r}] must be an array of numbers, got {arr.dtype}")
            out[f"{prefix}{key}"] = arr
    return out


def params_from_arrays(arrays: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The params dict that :func:`params_to_arrays` flattened (other names are ignored)."""
    out: dict[str, Any] = {}
    parts: dict[str, set[str]] = {}
    for name in arrays:
        if name.startswith(prefix) and "." in name[len(prefix) :]:
            key, _, part = name[len(prefix) :].partition(".")
            parts.setdefault(key, set()).add(part)
    sparse_parts = {"values", "indices", "indptr", "shape"}
    for key, have in parts.items():  # a sparse weight without its values was left out unsaid
        missing = sorted(sparse_parts - have)
        if have & sparse_parts and missing:  # ("meta.note" is no weight's: ignored)
            raise InputError(
                f"{prefix}{key}: a sparse weight needs {prefix}{key}.values, .indices, .indptr "
                f"and .shape; the file lacks {', '.join(missing)} (written part way?)"
            )
    for name in arrays:
        if not name.startswith(prefix):
            continue
        key, _, part = name[len(prefix) :].partition(".")
        if not part:
            out[key] = np.asarray(arrays[name])
        elif part == "values":
            shape = np.asarray(arrays[f"{prefix}{key}.shape"])
            if shape.ndim != 1 or shape.dtype.kind not in "iuf":
                raise InputError(f"{prefix}{key}.shape must be a pair of numbers, got {shape!r}")
            w = SparseWeights(
                np.asarray(arrays[name]),
                np.asarray(arrays[f"{prefix}{key}.indices"]),
                np.asarray(arrays[f"{prefix}{key}.indptr"]),
                matrix_shape(shape.tolist()),
            )
            check_sparse(w, w.shape, f"{prefix}{key}", finite=False)
            out[key] = w
    return out


def save_params(
    path: str | os.PathLike, params: Mapping[str, Any], compress: bool | None = None
) -> Path:
    """Write ``params`` atomically to an ``.npz`` file; returns its path.

    ``compress``: zlib-compress the archive; default: only when it holds fewer than 10^7
    numbers (random weights barely compress, and compressing 10^8 synapses takes minutes).
    """
    arrays = params_to_arrays(params)
    if compress is None:
        compress = sum(a.size for a in arrays.values()) < 10**7
    return save_npz(path, compress=compress, **arrays)


def _npy_magic(path: Path) -> bool | None:
    """Whether the file starts as a ``.npy`` array does (None when it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(6) == b"\x93NUMPY"
    except OSError:
        return None


#: the prefix of a training checkpoint's weights (``infodyn.learning.checkpoint``)
CHECKPOINT_PREFIX = "param_"


def load_params(path: str | os.PathLike) -> dict[str, Any]:
    """Read weights written by :func:`save_params` (NumPy arrays; a sparse ``w_rec`` comes back
    as :class:`SparseWeights`), or the weights of a training checkpoint (the ``checkpoint.npz``
    of :class:`~infodyn.learning.Trainer` and ``infodyn train``: its ``param_*`` arrays; they
    were returned under those names beside the optimizer's state). Check them against a network
    with ``net.validate_params``."""
    path = existing_file(path, "params file")
    if path.is_file() and not zipfile.is_zipfile(path) and _npy_magic(path) is False:
        # np.load reads any other bytes as a pickle and refused them with advice to allow
        # pickles: this is simply not an .npz archive
        raise InputError(f"{path}: not a params file (not an .npz archive: no zip structure)")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not a params file ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise InputError(f"{path}: not a params file (a single .npy array, not an .npz archive)")
    try:
        with data:
            checkpoint = any(k.startswith(CHECKPOINT_PREFIX) for k in data.files)
            prefix = CHECKPOINT_PREFIX if checkpoint else ""
            params = params_from_arrays(
                {k: data[k] for k in data.files if k.startswith(prefix)}, prefix=prefix
            )
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not a params file ({type(exc).__name__}: {exc})") from None
    if not params:
        raise InputError(f"{path}: holds no weights")
    return params
