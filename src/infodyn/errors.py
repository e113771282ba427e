"""Errors raised for bad input.

Every user-facing function raises :class:`InputError` (a ``ValueError``) with one clear sentence
when its input is wrong: shapes, NaN/inf, out-of-range parameters, empty or corrupt data. The CLI
turns it into one line on stderr and exit code 2, with no traceback.
"""

from __future__ import annotations

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
