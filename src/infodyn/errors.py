"""Errors raised for bad input.

Every user-facing function raises :class:`InputError` (a ``ValueError``) with one clear sentence
when its input is wrong: shapes, NaN/inf, out-of-range parameters, empty or corrupt data. The CLI
turns it into one line on stderr and exit code 2, with no traceback.
"""

from __future__ import annotations

import collections.abc
import contextlib
import dataclasses
import errno
import math
import os
import pathlib
import types
import typing
import zipfile

import numpy as np


class InputError(ValueError):
    """Bad user input: wrong shape, non-finite values, out-of-range parameters, corrupt files."""


def require(condition: bool, message: str) -> None:
    """Raise :class:`InputError` with ``message`` unless ``condition`` holds. A condition with
    no truth value (an array compared where a number was expected: ``ci > 0`` for
    ``ci=np.array([])``) fails the check too, instead of NumPy's "truth value of an array is
    ambiguous"."""
    try:
        holds = bool(condition)
    except (ValueError, TypeError):
        holds = False
    if not holds:
        raise InputError(message)


def require_finite(name: str, array) -> None:
    """Raise :class:`InputError` when ``array`` holds NaN or inf."""
    a = np.asarray(array)
    if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        raise InputError(f"{name} contains NaN or inf values")


def _choices(annotation: typing.Any) -> tuple[typing.Any, ...] | None:
    """The allowed values of a ``Literal[...]`` annotation (``None`` added for an Optional)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return typing.get_args(annotation)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        found: list[typing.Any] = []
        for arg in typing.get_args(annotation):
            if arg is type(None):
                found.append(None)
                continue
            inner = _choices(arg)
            if inner is None:
                return None
            found.extend(inner)
        return tuple(found)
    return None


def require_choices(obj: typing.Any) -> None:
    """Check every ``Literal[...]`` field of the dataclass ``obj`` against its declaration.

    The field's type annotation is the single statement of what is allowed; this raises
    :class:`InputError` naming the field, the value and the choices, e.g. ``TrainOptions.optimizer
    must be one of 'sgd', 'adam'; got 'foo'``.
    """
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        allowed = _choices(hints.get(f.name))
        value = getattr(obj, f.name)
        if allowed is not None:
            require_choice(f"{type(obj).__name__}.{f.name}", value, allowed)


def is_choice(value: typing.Any, choices: typing.Iterable[typing.Any]) -> bool:
    """Whether ``value`` is one of ``choices`` (text, numbers, ``None``): an array compared
    with them ("truth value ... is ambiguous") or a dict ("unhashable") is not."""
    value = value.item() if isinstance(value, np.generic) else value  # np.str_("plugin")
    scalar = value is None or isinstance(value, str | int | float)
    return scalar and any(type(value) is type(c) and value == c for c in choices)


def require_choice(name: str, value: typing.Any, choices: typing.Iterable[typing.Any]) -> None:
    """One :class:`InputError` naming ``name``, the value and the ``choices`` unless
    :func:`is_choice`."""
    choices = tuple(choices)
    if not is_choice(value, choices):
        listed = ", ".join(repr(a) for a in choices)
        raise InputError(f"{name} must be one of {listed}; got {value!r:.60}")


def _admits_bool(annotation: typing.Any) -> bool:
    """Whether a type annotation allows ``True``/``False`` (``bool``, ``Any``, a union with one)."""
    if annotation is bool or annotation is typing.Any:
        return True
    if typing.get_origin(annotation) is typing.Literal:
        return any(isinstance(a, bool) for a in typing.get_args(annotation))
    return any(_admits_bool(a) for a in typing.get_args(annotation))


def _number_only(annotation: typing.Any) -> bool:
    """Whether an annotation takes numbers and nothing that is text: ``int``, ``float``, an
    ``Annotated`` one, or a union of those with ``None``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _number_only(typing.get_args(annotation)[0])
    if annotation in (int, float):
        return True
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and args:
        kinds = [a for a in args if a is not type(None)]
        return bool(kinds) and all(_number_only(a) for a in kinds)
    return False


def _bool_only(annotation: typing.Any) -> bool:
    """Whether an annotation is ``bool`` (or ``bool | None``): nothing else is true or false."""
    if annotation is bool:
        return True
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and args:
        kinds = [a for a in args if a is not type(None)]
        return kinds == [bool]
    return False


def _is_table(annotation: typing.Any) -> bool:
    """Whether an annotation is ``dict[...]`` (or a union with one): a table of plain values."""
    if typing.get_origin(annotation) is dict:
        return True
    return any(_is_table(a) for a in typing.get_args(annotation))


def refuse_bool_number(annotation: typing.Any, value: typing.Any) -> typing.Any:
    """A pydantic ``mode="before"`` check: raise ``ValueError`` when ``value`` is a bool, or a
    list or ``dict[...]`` table holding one, for a setting whose ``annotation`` admits no bool
    (pydantic's lax mode reads ``n_steps = true`` as 1 and ``rate_hz = false`` as 0.0), text
    for a number (``n_in = "20"`` was read as 20), or anything but true/false for a flag
    (``filter_readout = "no"`` was read as false); return ``value``. Nested models (a table
    that is a section) check their own fields."""
    if isinstance(value, str) and _number_only(annotation):  # lax mode read "20" as 20
        raise ValueError(f"got {value!r}: text is not a number; write the number without quotes")
    if _bool_only(annotation) and value is not None and not isinstance(value, bool):
        raise ValueError(f"got {value!r}: write true or false")  # lax mode read "no" and 0
    if _admits_bool(annotation):
        return value
    if isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, dict):
        items = list(value.values()) if _is_table(annotation) else []
    else:
        items = [value]
    if any(isinstance(v, bool) for v in items):
        shown = str(value).replace("True", "true").replace("False", "false")
        raise ValueError(f"got {shown}: true/false is not a number or a name here")
    return value


def refuse_beyond_int64(value: typing.Any) -> typing.Any:
    """A pydantic ``mode="after"`` check: raise ``ValueError`` when ``value``, or an item of a
    list it is, is an integer that no 64-bit integer holds (``n_steps = 10^20`` passed a config
    and the run refused it without naming the key); return ``value``. (A table is checked by
    the model it is for: ``[network]`` by the network's.)"""
    for item in value if isinstance(value, list | tuple) else [value]:
        if isinstance(item, int) and not -(2**63) <= item < 2**63:
            raise ValueError(f"got {item}: more than a 64-bit integer holds")
    return value


def shown(value: typing.Any) -> str:
    """``repr(value)`` for a message, a NumPy scalar as its Python number (``-5``, not
    ``np.int64(-5)``, which NumPy 2 prints and a user never wrote)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def require_finite_number(name: str, value: typing.Any) -> None:
    """Raise :class:`InputError` unless ``value`` is a finite real number (a 0-d array too;
    not text such as ``"3"``, which ``float`` reads, nor ``True``/``False``)."""
    try:
        ok = not isinstance(value, str | bytes | bool | np.bool_) and math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):  # 10**400: int too large to convert
        ok = False
    if not ok:
        raise InputError(f"{name} must be a finite number, got {shown(value)}")


def require_flag(name: str, value: typing.Any) -> bool:
    """``value`` when it is ``True`` or ``False`` (NumPy's too), else one :class:`InputError`:
    a flag read by truthiness took ``"no"``, ``"false"`` and NaN as true, ``{}`` as false."""
    value = _scalar(value)
    if not isinstance(value, bool | np.bool_):
        raise InputError(f"{name} must be true or false, got {shown(value)}")
    return bool(value)


def whole_number(value: typing.Any, name: str, minimum: int = 0, maximum: int = 2**63 - 1) -> int:
    """``value`` as an ``int`` when it is a whole number (not ``true``/``false``, not 2.5 or
    NaN) in ``[minimum, maximum]`` (default: what an int64 holds); else one
    :class:`InputError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        whole = isinstance(value, float | np.floating) and float(value).is_integer()
        hint = f" (a float: give the int {int(value)})" if whole and value >= minimum else ""
        raise InputError(f"{name} must be a whole number >= {minimum}, got {shown(value)}{hint}")
    if value > maximum:
        raise InputError(f"{name} must be at most {maximum}, got {shown(value)}")
    return int(value)


def native_byte_order(a: typing.Any) -> typing.Any:
    """A NumPy array in the machine's byte order (big-endian data from FITS, some HDF5, a file
    written on another machine: Numba kernels refuse it); anything else as it is."""
    if isinstance(a, np.ndarray) and not a.dtype.isnative:
        return a.astype(a.dtype.newbyteorder("="))
    return a


def as_array(value: typing.Any, name: str, dtype: typing.Any = None) -> np.ndarray:
    """``np.asarray(value, dtype)``, with a ragged list (rows of different lengths), or values
    ``dtype`` cannot hold (text as float), as one :class:`InputError` naming ``name`` instead of
    NumPy's "setting an array element with a sequence". A SciPy sparse matrix is refused with
    the advice to densify it (NumPy made a 0-d object array of it: "got objects", "shape ()")."""
    if type(value).__module__.startswith("scipy.sparse"):
        raise InputError(
            f"{name} is a SciPy sparse {getattr(value, 'format', '')} matrix; this takes dense "
            "arrays only: pass its .toarray()"
        )
    if isinstance(value, np.ma.MaskedArray) and np.ma.is_masked(value):  # the mask was lost:
        raise InputError(  # masked entries were counted as data
            f"{name} is a masked array with masked entries, and infodyn does not read masks: "
            "pass the valid entries (a[~a.mask], or a.compressed())"
        )
    if is_tracer(value):  # "must be a rectangular array ..., got JitTracer(...)"
        raise InputError(
            f"{name} is a traced JAX value (inside jax.jit, vmap or grad), but this function "
            "reads concrete arrays: call it outside the transformation (the network's "
            "jit-able and differentiable run is infodyn.network.engine_jax.run)"
        )
    try:
        return np.asarray(value, dtype=dtype)
    except (ValueError, TypeError, OverflowError):
        what = "numbers" if dtype is None else f"values of type {np.dtype(dtype).name}"
        raise InputError(
            f"{name} must be a rectangular array of {what} (rows of equal length), got "
            f"{_short(value)}"
        ) from None


def is_tracer(value: typing.Any) -> bool:
    """Whether ``value`` is an abstract JAX value being traced (``jax.core.Tracer``, found by
    name: this module imports no JAX)."""
    return any(
        c.__name__ == "Tracer" and c.__module__.startswith("jax") for c in type(value).__mro__
    )


def array_or_none(value: typing.Any) -> np.ndarray | None:
    """``np.asarray(value)``, or ``None`` for what NumPy cannot make an array of (a ragged list):
    for checks that then refuse it in their own words (a count, a pair, a shape)."""
    try:
        return as_array(value, "value")
    except InputError:
        return None


def _short(value: typing.Any) -> str:
    """``repr(value)`` cut to 60 characters for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def finite_reals(value: typing.Any, name: str) -> np.ndarray:
    """``value`` as a float64 array of finite real numbers (any shape); text, ``True``/``False``,
    complex numbers, NaN, inf and ragged lists are one :class:`InputError` naming ``name``."""
    a = as_array(value, name)
    if a.dtype.kind not in "iuf":  # text was read as numbers, complex lost its imaginary part
        raise InputError(f"{name} must be real numbers, got {_short(value)}")
    require_finite(name, a)
    return a.astype(np.float64)


def real_shape(value: typing.Any, name: str) -> tuple[int, ...]:
    """The shape of ``value``, an array of real numbers (or bools): a NumPy or JAX array, or a
    value JAX traces (only its dtype is checked: no data is read, so under ``jit`` and ``grad``
    it costs nothing); anything else (lists, text, ``None``) is read by :func:`finite_reals`."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        require(
            np.dtype(value.dtype).kind in "biuf",
            f"{name} must be real numbers (float32 or float64), got dtype {value.dtype}",
        )
        return tuple(value.shape)
    return tuple(np.shape(finite_reals(value, name)))


def as_path(value: typing.Any, name: str = "path") -> pathlib.Path:
    """``value`` as a :class:`~pathlib.Path` (text, bytes or path-like); anything else (``None``,
    a number, a list) is one :class:`InputError` instead of ``expected str, bytes or
    os.PathLike object``."""
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    if not isinstance(value, str | os.PathLike) or (isinstance(value, str) and not value):
        raise InputError(f"{name} must be a file or folder path (text), got {_short(value)}")
    return pathlib.Path(value)


def existing_file(value: typing.Any, what: str = "file", missing: str = "") -> pathlib.Path:
    """``value`` as the :class:`~pathlib.Path` of an existing regular file, else one
    :class:`InputError`: ``missing`` (default "no such {what}"), a link to nothing, a folder, or
    something that is no regular file (a named pipe blocked every reader for ever)."""
    path = as_path(value)  # bytes too, as the recording readers take them
    if not path.exists() and path.is_symlink():  # a loop, or a target that is gone
        raise InputError(f"{path}: a symbolic link that leads to no file (a loop, or lost target)")
    if not path.exists():
        raise InputError(f"{path}: {missing or f'no such {what}'}")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a {what}")
    if not path.is_file():
        raise InputError(f"{path}: is not a regular file (a pipe or a device), expected a {what}")
    return path


def as_table(value: typing.Any, name: str) -> dict[typing.Any, typing.Any]:
    """``value`` as a new ``dict``: a mapping (``None``: empty); else one :class:`InputError`
    naming ``name`` (``metadata="text"`` was ``'str' object is not a mapping`` from deep inside
    a simulation, or kept as text in a spike file that then failed to read)."""
    if value is None:
        return {}
    if not isinstance(value, collections.abc.Mapping):
        raise InputError(f"{name} must be a table of names and values (a dict), got {shown(value)}")
    return dict(value)


def class_labels(values: typing.Any, name: str = "labels") -> np.ndarray:
    """Class labels (stimulus ids) as a 1-D int64 array: whole numbers >= 0; a fraction, NaN,
    text or a negative label is one :class:`InputError` naming ``name`` (``[0.7, 1.9]`` was
    truncated to classes 0 and 1)."""
    try:
        a = np.asarray(values).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a list of whole numbers >= 0") from None
    ok = a.dtype.kind in "iu" or (
        a.dtype.kind == "f" and bool(np.all(np.isfinite(a))) and bool(np.all(a == np.round(a)))
    )
    # a label beyond int64 wrapped to a negative one (uint64 2**64-1 -> -1, 1e300 -> -2**63)
    if not ok or (a.size and (a.min() < 0 or a.max() >= 2**63)):
        raise InputError(f"{name} must be whole numbers >= 0 (class ids), got {values!r}")
    return a.astype(np.int64)


def make_rng(seed: typing.Any = None) -> np.random.Generator:
    """``np.random.default_rng(seed)``, with a seed NumPy cannot use (negative, a fraction,
    NaN, ``true``/``false``, text) as one :class:`InputError` rather than NumPy's "expected
    non-negative integer". A ``Generator`` is returned as it is; ``None`` seeds from the OS."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool | float | str):
        raise InputError(f"seed must be a whole number >= 0, got {seed!r}")
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError, OverflowError):
        raise InputError(
            f"seed must be a whole number >= 0 (or a list of them), got {seed!r}"
        ) from None


def _isfinite(value: typing.Any) -> bool:
    """``math.isfinite`` that reads an int too large for a float (``10**400``) as not finite."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _scalar(value: typing.Any) -> typing.Any:
    """A 0-d NumPy or JAX array (``np.array(2.0)``, ``jnp.float32(1)``) as its Python value;
    anything else as it is."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "dtype") and hasattr(value, "item"):
        try:
            return value.item()
        except (TypeError, ValueError):  # a value traced by jax.jit has none yet
            return value
    return value


def is_finite_number(value: typing.Any) -> bool:
    """A finite real number, as a ``float`` option takes it (a 0-d array of one too): not
    ``true``/``false``, not text, not complex, not NaN or inf."""
    value = _scalar(value)
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float | np.integer | np.floating)
        and _isfinite(value)
    )


def check_option_type(name: str, value: typing.Any, annotation: typing.Any) -> None:
    """For a config option of a dataclass (a task, a loss term) whose field is annotated
    ``bool``, ``int`` or ``float`` (the annotation or its string): a ``bool`` must be
    ``true``/``false``, an ``int`` a whole number and a ``float`` a finite number, never
    ``true``/``false`` or text. TOML gives ``1e99`` or ``nan``
    as floats and ``"20"`` as text; the dataclass would fail on them later without naming
    ``name``, or inside JAX."""
    kind = getattr(annotation, "__name__", annotation)
    if kind == "bool" and not isinstance(value, bool | np.bool_):  # "no" would read as true
        raise InputError(f"{name} must be true or false, got {shown(value)}")
    if kind == "int" and (not isinstance(value, int | np.integer) or isinstance(value, bool)):
        raise InputError(f"{name} must be a whole number, got {shown(value)}")
    if kind == "float" and not is_finite_number(value):
        raise InputError(f"{name} must be a finite number, got {shown(value)}")


#: what goes wrong when a file is read: missing or unreadable (OSError), cut short (EOFError,
#: BadZipFile), garbled (ValueError covers JSON, Unicode and NumPy format errors), missing a
#: field (KeyError) or too large for memory
_READ_ERRORS = (
    OSError, EOFError, zipfile.BadZipFile, ValueError, KeyError, MemoryError,
    # an entry of another type or kind than expected (int() of a list, a group for a
    # dataset) and nesting too deep for the JSON reader
    TypeError, AttributeError, IndexError, RecursionError,
)  # fmt: skip


@contextlib.contextmanager
def reading(path: str | os.PathLike, what: str = "file", advice: str = "") -> typing.Iterator[None]:
    """Turn any failure to read ``path`` inside the block into one :class:`InputError`.

    The message names the path, says what kind of file was expected and what happened::

        run/checkpoint.npz: cannot read this checkpoint (truncated or corrupt: BadZipFile ...)

    ``advice`` (what to do) is appended after a semicolon. An :class:`InputError` raised inside
    passes unchanged.
    """
    try:
        yield
    except InputError:
        raise
    except _READ_ERRORS as exc:
        if isinstance(exc, FileNotFoundError):
            problem = "no such file"
        elif isinstance(exc, PermissionError):
            problem = "permission denied"
        elif isinstance(exc, IsADirectoryError):
            problem = "is a directory, not a file"
        elif isinstance(exc, MemoryError):
            problem = "too large to load into the memory that is free"
        elif isinstance(exc, EOFError | zipfile.BadZipFile):
            problem = f"truncated or corrupt ({type(exc).__name__}: {exc})"
        elif isinstance(exc, ValueError) and "allow_pickle" in str(exc):
            # NumPy's text ("... load it unsafely using the allow_pickle= keyword") invited
            # unpickling a file that is no NPZ archive at all (garbage bytes read as a pickle)
            problem = (  # (NumPy takes whatever is no zip or .npy for a pickle: text too)
                "not an NPZ archive of plain arrays (neither a zip archive of arrays nor an "
                "array file; infodyn never loads pickled Python objects)"
            )
        else:
            problem = f"corrupt or not in the expected format ({type(exc).__name__}: {exc})"
        tail = f"; {advice}" if advice else ""
        raise InputError(f"{path}: cannot read this {what}: {problem}{tail}") from None


_OS_ADVICE = {
    errno.EACCES: "permission denied; fix its permissions (to read it, or to write there), or "
    "choose another location",
    errno.EPERM: "operation not permitted; choose another location or fix its permissions",
    errno.EROFS: "read-only file system; choose a writable location",
    errno.ENOSPC: "no space left on the device; free some space or choose another location",
    errno.EDQUOT: "disk quota exceeded; free some space or choose another location",
    errno.EEXIST: "a file is in the way of a directory that must be created there; choose "
    "another output path or move the file",
    errno.ENOTDIR: "a file is in the way where a directory is needed; choose another output "
    "path or move the file",
    errno.EISDIR: "is a directory where a file is expected; name a file",
    errno.ENOENT: "no such file or directory; check the path",
    errno.ENAMETOOLONG: "the path is too long; choose a shorter one",
}


def os_error_line(exc: OSError) -> str:
    """``PATH: what went wrong; what to do`` for a file-system error (by its errno)."""
    where = exc.filename if exc.filename is not None else None
    advice = _OS_ADVICE.get(exc.errno or -1)
    if advice is None:
        advice = f"{exc.strerror or exc}; check the path and the file system"
    return f"{where}: {advice}" if where is not None else advice


@contextlib.contextmanager
def writing(path: str | os.PathLike, own_name: bool = False) -> typing.Iterator[None]:
    """Turn a file-system error while creating ``path`` (or its folder) into one
    :class:`InputError` naming the path and what to do (:func:`os_error_line`). ``own_name``:
    name ``path`` even when the error names another file (a temporary one beside it)."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None:
            raise
        if exc.filename is None or own_name:
            exc.filename, exc.filename2 = str(path), None
        raise InputError(os_error_line(exc)) from None
