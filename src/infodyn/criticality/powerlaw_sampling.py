"""Draws from a power law ``x >= xmin``, discrete or continuous: the synthetic sets of
:func:`~infodyn.criticality.fit_power_law`'s goodness-of-fit bootstrap, and test data
(Clauset, Shalizi & Newman 2009, SIAM Review 51:661, App. D)."""

from __future__ import annotations

import numpy as np

from infodyn.criticality._powerlaw_scan import _ccdf_table
from infodyn.errors import (
    InputError,
    is_finite_number,
    make_rng,
    require,
    require_flag,
    whole_number,
)
from infodyn.memory import require_memory

#: the largest exponent of a discrete draw (its table's zeta sums take about 2 alpha terms each)
MAX_DISCRETE_ALPHA = 1000


def sample_power_law(
    n: int,
    alpha: float,
    xmin: float,
    discrete: bool = True,
    seed: int | np.random.Generator = 0,
    table: int = 100_000,
) -> np.ndarray:
    """Draw ``n`` values from the power law ``x >= xmin``.

    Discrete: exact inverse transform on a table of ``P(X >= x)`` for ``table`` values above
    ``xmin``; beyond it (probability ``P(X >= xmin + table)``) the continuous approximation
    ``floor((x_T - 1/2) u^(-1/(alpha-1)) + 1/2)`` of Clauset et al. (2009, App. D).
    """
    discrete = require_flag("discrete", discrete)
    n = whole_number(n, "n")
    table = whole_number(table, "table", minimum=1)
    # text was a raw TypeError, True an xmin of 1
    require(
        is_finite_number(alpha) and alpha > 1, f"alpha must be a finite number > 1, got {alpha!r}"
    )
    require(is_finite_number(xmin) and xmin > 0, f"xmin must be a finite number > 0, got {xmin!r}")
    # as fit_power_law: a fraction would shift every discrete value off the integers
    require(not discrete or float(xmin) == round(xmin), f"xmin must be an integer, got {xmin}")
    require(  # the zeta sums of the table add about 2 alpha terms: 1e300 ran for ever
        not discrete or alpha <= MAX_DISCRETE_ALPHA,
        f"a discrete alpha must be at most {MAX_DISCRETE_ALPHA} (P(xmin + 1) / P(xmin) is "
        f"below 2^-{MAX_DISCRETE_ALPHA} at xmin = 1), got {alpha}; use discrete=False",
    )
    require(  # beyond, float64 has no neighbouring integers: 1e300 + 1 == 1e300
        not discrete or xmin <= 2**53,
        f"a discrete xmin must be at most 2^53 (float64 holds every integer only that far), "
        f"got {xmin}; use discrete=False",
    )
    require_memory(  # the uniforms, the values, the table's tails (n = 10^9: a raw MemoryError)
        24.0 * n + (16.0 * table if discrete else 0.0),
        f"{n:,} power-law values" + (f" and a table of {table:,}" if discrete else ""),
        "draw fewer values (or a smaller table)",
    )
    rng = make_rng(seed)
    u = rng.random(n)
    with np.errstate(over="ignore"):
        if not discrete:
            out = xmin * (1.0 - u) ** (-1.0 / (alpha - 1.0))
        else:
            out = _discrete_draws(u, float(alpha), float(xmin), table)
    n_inf = int(np.count_nonzero(np.isinf(out)))
    if n_inf:
        raise DrawsOverflow(
            f"{n_inf} of {n} draws exceed float64's range (about 1.8e308): alpha={alpha} is too "
            "close to 1 for this xmin; use a larger alpha or a smaller xmin"
        )
    return out


class DrawsOverflow(InputError):
    """Power-law draws beyond float64's range (alpha near 1): the bootstrap of
    :func:`fit_power_law` reports no p-value for them; any other bad input stops the fit."""


def _discrete_draws(u: np.ndarray, alpha: float, xmin: float, table: int) -> np.ndarray:
    """The discrete power law's values for uniforms ``u`` (:func:`sample_power_law`)."""
    s = _ccdf_table(alpha, xmin, table)  # decreasing from 1
    # X = x with S(x+1) < u <= S(x): index = number of table entries with S >= u, minus 1
    idx = np.searchsorted(-s, -u, side="right") - 1
    out = xmin + idx.astype(float)
    far = idx >= table - 1
    if np.any(far):
        x_t = xmin + table - 1
        v = u[far] / s[-1]
        out[far] = np.floor((x_t - 0.5) * v ** (-1.0 / (alpha - 1.0)) + 0.5)
    return out
