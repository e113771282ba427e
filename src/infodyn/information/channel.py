"""Channel capacity by the Blahut-Arimoto algorithm (Blahut 1972; Arimoto 1972), in bits by
default (``base=``: units of ``log_base``).

For a channel ``P[x, y] = p(y | x)`` and an input distribution ``r``, with ``q = r P`` and
``D_x = KL(P[x] || q)``, the update ``r_x <- r_x exp(D_x) / sum_x' r_x' exp(D_x')`` increases
``I(X;Y)`` monotonically. After each step
``log sum_x r_x exp(D_x) <= C <= max_x D_x``, so the loop stops when the gap is below ``tol``.
Examples: BSC(0.1) 0.531004 bits; BEC(0.25) 0.75 bits.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.errors import InputError, whole_number
from infodyn.information._inputs import log_factor, real_array

_LN2 = np.log(2.0)


@dataclass(frozen=True)
class ChannelCapacity:
    """Capacity, the capacity-achieving input and output distributions, the final
    upper-minus-lower bound gap (both in units of ``log_base``, default bits) and the number of
    iterations."""

    capacity: float
    input_distribution: np.ndarray
    output_distribution: np.ndarray
    gap: float
    n_iter: int

    def __float__(self) -> float:
        return self.capacity


ROW_SUM_TOL = 1e-9  # how far a row of P may sum from 1 (rounding of normalised rows)


def _divergences(P: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``D_x = sum_y P[x, y] ln(P[x, y] / q[y])`` for every input x (nats)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(P > 0, P * np.log(P / q[None, :]), 0.0)
    return terms.sum(axis=1)


def channel_capacity(
    P: Any, tol: float = 1e-12, max_iter: int = 100_000, base: float = 2.0
) -> ChannelCapacity:
    """Capacity of the discrete memoryless channel ``P[x, y] = p(y | x)`` by Blahut-Arimoto.

    Each row must sum to 1 within :data:`ROW_SUM_TOL` (absolute), or within the rounding of
    ``P``'s own float type (``(2 + n_y / 2) eps``, at most 1e-3: float32 rows), and is
    renormalised in float64.
    ``tol`` is the stopping gap in bits whatever ``base`` (so the iterations do not depend on
    the unit); capacity and gap are returned in units of ``log_base``.
    """
    f = log_factor(base)
    m = real_array(P, "P")
    if m.ndim != 2 or m.size == 0:
        raise InputError(f"P must be a 2-D matrix P[x, y] = p(y|x), got shape {m.shape}")
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise InputError("P must hold finite non-negative probabilities")
    sums = m.sum(axis=1)
    x = int(np.abs(sums - 1.0).argmax())
    # a row normalised in float32 sums to 1 within float32's rounding (0.99999998): refused
    given = getattr(P, "dtype", None)
    eps = np.finfo(given).eps if given is not None and np.issubdtype(given, np.floating) else 0.0
    # a row summed one term after another (a strided axis) may drift by n_y / 2 eps (one large
    # term first: 4206 eps at 65,536 columns), capped at 1e-3 (float16's eps made any row pass)
    row_tol = max(ROW_SUM_TOL, min((2 + m.shape[1] / 2) * float(eps), 1e-3))
    if abs(sums[x] - 1.0) > row_tol:  # absolute: np.allclose's default rtol allowed 1e-5
        raise InputError(
            f"each row of P must sum to 1 within {row_tol:g} (P[x, y] = p(y|x)): "
            f"row {x} sums to {sums[x]:.12g}"
        )
    m = m / sums[:, None]  # in float64: the channel the rows' rounding stands for
    max_iter = whole_number(max_iter, "max_iter", minimum=1)  # NaN ran no iteration, gap 0
    if isinstance(tol, bool) or not isinstance(tol, int | float | np.number):
        raise InputError(f"tol must be a finite number > 0 (bits), got {tol!r}")
    if not (math.isfinite(tol) and tol > 0):
        raise InputError(f"tol must be a finite number > 0 (bits), got {tol}")
    r = np.full(m.shape[0], 1.0 / m.shape[0])
    lower = upper = 0.0
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        q = r @ m
        d = _divergences(m, q)
        w = r * np.exp(d - d.max())
        lower = float(np.log(w.sum()) + d.max())
        upper = float(d.max())
        r = w / w.sum()
        if upper - lower < tol * _LN2:
            break
    else:
        # enough digits that the two bounds differ (6 printed "between 0.280676 and 0.280676")
        gap = upper - lower
        ratio = max(abs(upper), gap) / gap if gap > 0 else 1e17
        digits = int(min(17, max(6, 2 + np.ceil(np.log10(ratio)))))
        warnings.warn(
            f"Blahut-Arimoto stopped at max_iter = {max_iter} with a gap of "
            f"{gap / _LN2:.3g} bits > tol = {tol:g}: the capacity lies between "
            f"{lower / _LN2:.{digits}g} and {upper / _LN2:.{digits}g} bits; raise max_iter",
            stacklevel=2,
        )
    q = r @ m
    # the capacity is I(X;Y) under the final r (between the bounds)
    cap = float(np.dot(r, _divergences(m, q)))
    return ChannelCapacity(
        capacity=float(max(cap, lower) / _LN2 * f),
        input_distribution=r,
        output_distribution=q,
        gap=float((upper - lower) / _LN2 * f),
        n_iter=n_iter,
    )


def _probability(value: Any, name: str) -> float:
    if isinstance(value, bool | np.bool_ | str | bytes):  # True was taken as p = 1, "0.1" as 0.1
        raise InputError(f"{name} must be a probability in [0, 1], got {value!r}")
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a probability in [0, 1], got {value!r}") from None
    if not 0.0 <= p <= 1.0:  # NaN fails too
        raise InputError(f"{name} must be a probability in [0, 1], got {value!r}")
    return p


def binary_symmetric_channel(p: float) -> np.ndarray:
    """``[[1-p, p], [p, 1-p]]``: each bit flipped with probability ``p``."""
    p = _probability(p, "the flip probability p")
    return np.array([[1 - p, p], [p, 1 - p]], dtype=float)


def binary_erasure_channel(e: float) -> np.ndarray:
    """Outputs (0, erased, 1): ``[[1-e, e, 0], [0, e, 1-e]]``."""
    e = _probability(e, "the erasure probability e")
    return np.array([[1 - e, e, 0.0], [0.0, e, 1 - e]], dtype=float)
