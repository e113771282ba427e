"""Input checks shared by the information estimators.

Every estimator takes ``(samples, variables)`` arrays of non-negative integer symbols (a 1-D
array is one variable). Bad input raises :class:`infodyn.errors.InputError` with one sentence.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infodyn.errors import (
    InputError,
    as_array,
    is_finite_number,
    native_byte_order,
    require,
    require_choice,
    shown,
)

ESTIMATORS = ("plugin", "miller_madow", "nsb")


def log_factor(base: float) -> float:
    """``1 / log2(base)``: multiply bits by it to get units of ``log_base``.

    Every information measure takes ``base`` (default 2: bits; ``math.e``: nats; 10: hartleys)
    and returns ``value_in_bits * log_factor(base)``; bias corrections (Miller-Madow, shuffle
    baselines) and standard errors scale the same way. A base that is not a finite number > 1
    raises :class:`InputError` (below 1 every information would come out negative).
    """
    if not is_finite_number(base):  # "3" was read as base 3, True failed as base 1
        raise InputError(f"base must be a number > 1 (2: bits, e: nats), got {shown(base)}")
    b = float(base)
    if not b > 1:
        raise InputError(f"base must be a number > 1 (2: bits, e: nats), got {base}")
    return 1.0 / math.log2(b)


def unit_name(base: float) -> str:
    """``"bits"`` (base 2), ``"nats"`` (e), ``"hartleys"`` (10), else ``"base-B units"``."""
    b = float(base)
    for name, ref in (("bits", 2.0), ("nats", math.e), ("hartleys", 10.0)):
        if math.isclose(b, ref, rel_tol=1e-12):
            return name
    return f"base-{b:.12g} units"


def unit_key(base: float) -> str:
    """The unit as a result-key suffix: ``"bits"``, ``"nats"``, ``"hartleys"`` or ``"baseB"``."""
    name = unit_name(base)
    return name if not name.startswith("base-") else f"base{float(base):.12g}"


def as_symbols(x: Any, name: str = "X", check_sign: bool = True) -> np.ndarray:
    """Return ``x`` as a 2-D ``(samples, variables)`` array of non-negative integers.

    Booleans become ``uint8``; floats are accepted only when every value is a whole number.
    The integer dtype of the input is kept (no int64 copy of a large uint8 raster).
    ``check_sign=False`` skips the scan for negative values, for callers that count the words
    next (their one pass over the data rejects negative symbols).
    """
    a = as_array(x, name)
    if a.dtype == object:
        raise InputError(f"{name} must be a numeric array of integer symbols, got objects")
    a = native_byte_order(a)  # the counting kernels need the machine's byte order
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise InputError(f"{name} must be (samples, variables) or (samples,), got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {a.shape})")
    if a.dtype == bool:
        return a.view(np.uint8)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise InputError(f"{name} contains NaN or inf values; symbols must be integers")
        if not np.all(a == np.round(a)):
            raise InputError(f"{name} holds non-integer values; discretise (bin) the data first")
        _check_largest(a, name)  # before the cast: 1e19 would wrap
        a = a.astype(np.int64)
    elif a.dtype.kind not in "iu":
        raise InputError(f"{name} must hold integer symbols, got dtype {a.dtype}")
    elif a.dtype.itemsize == 8:  # narrower integers are far below the limit
        _check_largest(a, name)
    if check_sign and a.dtype.kind == "i" and a.min() < 0:
        raise InputError(f"{name} holds negative symbols; symbols must be integers >= 0")
    return a


#: the largest symbol: words are coded in int64 with one more than the largest symbol as radix
MAX_SYMBOL = 2**62


def _check_largest(a: np.ndarray, name: str) -> None:
    if a.max().item() > MAX_SYMBOL:  # Python compares int and float exactly (float() rounds)
        raise InputError(
            f"{name} holds symbols above 2^62; symbols are labels: relabel them, e.g. "
            f"np.unique({name}, return_inverse=True)[1]"
        )


def side_by_side(*arrays: np.ndarray) -> np.ndarray:
    """The columns of symbol arrays (from :func:`as_symbols`) side by side in one integer
    dtype: ``np.hstack`` of uint64 beside int64 is float64, where 2^53 and 2^53 + 1 are one
    symbol (a conditional total correlation of 1 bit came out 0). Symbols are at most 2^62, so
    int64 holds every one exactly."""
    dtype = np.result_type(*arrays)
    return np.hstack(arrays, dtype=dtype if dtype.kind in "iu" else np.int64)


def same_samples(**arrays: np.ndarray) -> int:
    """Check that all arrays have the same number of samples (rows); return it."""
    sizes = {k: v.shape[0] for k, v in arrays.items()}
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{k} has {n}" for k, n in sizes.items())
        raise InputError(f"the inputs must have the same number of samples: {detail}")
    return next(iter(sizes.values()))


def check_estimator(estimator: str) -> str:
    """``estimator`` if it names an entropy estimator (``ESTIMATORS``), else an ``InputError``."""
    require_choice("estimator", estimator, ESTIMATORS)  # np.array([]): "ambiguous" ValueError
    return estimator


def real_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a float64 array of any shape, of real numbers: text, complex numbers and objects
    are refused, not converted or truncated (a complex table lost its imaginary part with only
    NumPy's warning, and its PID or capacity came out as the real part's)."""
    raw = as_array(x, name)
    if raw.dtype.kind not in "biuf":
        raise InputError(f"{name} must be an array of real numbers, got dtype {raw.dtype}")
    return raw.astype(np.float64)


def nonnegative_counts(counts: Any, allow_empty: bool = False) -> np.ndarray:
    """``counts`` as a float array once checked: 1-D, finite and non-negative (whole numbers or
    weights) and, unless ``allow_empty`` (no observation: a Dirichlet prior's own moments), not
    empty; else one :class:`InputError`."""
    c = real_array(counts, "counts")
    require(
        c.ndim == 1 and (allow_empty or c.size > 0)
        and bool(np.all(np.isfinite(c))) and bool(np.all(c >= 0)),
        f"counts must be a {'' if allow_empty else 'non-empty '}1-D array of finite "
        "non-negative numbers",
    )  # fmt: skip
    return c


def as_real(x: Any, name: str = "X") -> np.ndarray:
    """Return ``x`` as a finite 2-D float64 ``(samples, variables)`` array (real numbers: text,
    complex numbers and objects are refused, not converted or truncated)."""
    a = real_array(x, name)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise InputError(f"{name} must be (samples, variables) or (samples,), got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {a.shape})")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} contains NaN or inf values")
    return a
