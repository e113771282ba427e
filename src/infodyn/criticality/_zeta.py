"""Hurwitz zeta ``zeta(s, q) = sum_{k>=0} (q + k)^-s`` (s > 1) compiled with Numba.

Euler-Maclaurin summation (DLMF 25.11.5 and 2.10.1): terms are summed directly until
``q >= max(20, 2 s)``, then ``zeta(s, Q) = Q^(1-s)/(s-1) + Q^-s/2
+ sum_j B_2j/(2j)! s(s+1)...(s+2j-2) Q^(-s-2j+1)`` with seven Bernoulli terms. Relative accuracy
~1e-15 against :func:`scipy.special.zeta` for 1 < s <= 30 (checked in the tests); Numba lets the
power-law fits call it inside their loops without Python overhead.
"""

from __future__ import annotations

from fractions import Fraction
from math import factorial

import numba
import numpy as np

_B2J = (
    Fraction(1, 6),
    Fraction(-1, 30),
    Fraction(1, 42),
    Fraction(-1, 30),
    Fraction(5, 66),
    Fraction(-691, 2730),
    Fraction(7, 6),
)
EM_COEF = np.array([float(b / factorial(2 * (j + 1))) for j, b in enumerate(_B2J)])


@numba.njit(cache=True, fastmath=False)
def hurwitz_zeta_scaled(s: float, q: float, c: float) -> float:  # pragma: no cover - compiled
    """``c^s zeta(s, q) = sum_{k>=0} ((q + k) / c)^-s`` for ``s > 1``, ``q > 0``, ``c > 0``: the
    same sum with every term scaled by ``c^s``, so that ``zeta(s, q)`` far below float64's
    smallest number (``q = 10^7``, ``s = 50``) keeps its digits when ``c`` is near ``q``."""
    total = 0.0
    big = max(20.0, 2.0 * s)
    while q < big:
        total += (q / c) ** (-s)
        q += 1.0
    qs = (q / c) ** (-s)
    total += q * qs / (s - 1.0) + 0.5 * qs
    poch = s
    pw = qs / q
    q2 = q * q
    for j in range(EM_COEF.size):
        total += EM_COEF[j] * poch * pw
        poch *= (s + 2 * j + 1) * (s + 2 * j + 2)
        pw /= q2
    return total


@numba.njit(cache=True, fastmath=False)
def hurwitz_zeta(s: float, q: float) -> float:  # pragma: no cover - compiled
    """``zeta(s, q)`` for ``s > 1``, ``q > 0``."""
    return hurwitz_zeta_scaled(s, q, 1.0)  # q / 1.0 is q: the same numbers bit for bit


@numba.njit(cache=True)
def hurwitz_zeta_array(s, q):  # pragma: no cover - compiled
    """Elementwise ``zeta(s[i], q[i])`` for equal-length 1-D arrays."""
    out = np.empty(q.size)
    for i in range(q.size):
        out[i] = hurwitz_zeta(s[i], q[i])
    return out
