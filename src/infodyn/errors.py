"""Errors raised for bad input.

Every user-facing function raises :class:`InputError` (a ``ValueError``) with one clear sentence
when its input is wrong: shapes, NaN/inf, out-of-range parameters, empty or corrupt data. The CLI
turns it into one line on stderr and exit code 2, with no traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import typing
import zipfile

import numpy as np


class InputError(ValueError):
    """Bad user input: wrong shape, non-finite values, out-of-range parameters, corrupt files."""


def require(condition: bool, message: str) -> None:
    """Raise :class:`InputError` with ``message`` unless ``condition`` holds."""
    if not condition:
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
        if allowed is not None and value not in allowed:
            listed = ", ".join(repr(a) for a in allowed)
            raise InputError(
                f"{type(obj).__name__}.{f.name} must be one of {listed}; got {value!r}"
            )


def require_finite_number(name: str, value: typing.Any) -> None:
    """Raise :class:`InputError` unless ``value`` is a finite real number."""
    try:
        ok = math.isfinite(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"{name} must be a finite number, got {value!r}")


#: what goes wrong when a file is read: missing or unreadable (OSError), cut short (EOFError,
#: BadZipFile), garbled (ValueError covers JSON, Unicode and NumPy format errors), missing a
#: field (KeyError) or too large for memory
_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, ValueError, KeyError, MemoryError)


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
        else:
            problem = f"corrupt or not in the expected format ({type(exc).__name__}: {exc})"
        tail = f"; {advice}" if advice else ""
        raise InputError(f"{path}: cannot read this {what}: {problem}{tail}") from None
