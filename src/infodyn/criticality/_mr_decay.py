"""Whether the MR slopes can be ``b m^k``: the checks of their shape.

The MR estimator fits ``r_k = b m^k`` to the lag-k regression slopes of the population
activity (Wilting & Priesemann 2018, Nat. Commun. 9:2325, eq. 3). With ``b, m > 0`` that
sequence is positive at every lag and monotone: it only falls (``m < 1``) or only rises
(``m > 1``). Two departures are checked:

- :func:`decay_note`: a first slope <= 0, or a clearly negative later one. Then no ``b m^k``
  passes near the slopes and ``m`` is not reported;
- :func:`oscillation_note`: among the first :data:`FIRST_LAGS` fitted slopes, one rises above
  an earlier one and one falls below an earlier one, each by more than
  :data:`OSCILLATION_Z` standard errors of their difference (``sqrt(se_i^2 + se_j^2)``, the
  bootstrap's, at most :data:`MAX_GAP` lags apart). Then the activity oscillates, typically at
  the period of a refractory period (``n_ref + 1`` steps): in a subsample of a large network
  the single units' own refractoriness and regularity dominate the slopes, and an exponential
  through them gave m = 0.94 on 0.1 % of a 10^5-unit network whose whole population gives
  m = 0.49 (r_1..r_6 = 0.015, -0.005, 0.013, 0.004, 0.000, 0.017). A branching process on top
  of such an oscillation can still be estimated right, so ``m`` is reported with a warning.
  The thresholds were set on 120 simulated branching processes (m 0.5 to 1.0005, fully
  observed and binomially subsampled to 10 % and 1 %, 4 trials of 1500-5000 bins): none
  raised it (largest rise 3.2, fall 61 standard errors: never both above 4).
"""

from __future__ import annotations

import numpy as np

#: the first fitted lags searched for an oscillation, the largest lag gap compared, and the
#: standard errors a rise and a fall must both exceed
FIRST_LAGS = 12
MAX_GAP = 5
OSCILLATION_Z = 4.0


def decay_note(r: np.ndarray, se: np.ndarray, k: np.ndarray) -> str:
    """Why the fitted slopes cannot be ``b m^k`` with ``b, m > 0`` (empty if they can).

    Such slopes are positive at every lag. A first fitted slope <= 0, or a later one below
    ``-r_first / 4`` and (where the bootstrap gives errors) below ``-4 se``, is an oscillation
    of the activity (refractoriness at about the bin width, rhythms); the least-squares m of an
    exponential through it can still come out near 1, which would read as criticality.
    """
    if r[0] <= 0:
        why = f"the first fitted slope r_{k[0]} = {r[0]:.3g} is <= 0"
    else:
        noise = np.where(np.isfinite(se), 4.0 * se, 0.0)
        below = np.nonzero(r < -np.maximum(0.25 * r[0], noise))[0]
        if below.size == 0:
            return ""
        j = below[0]
        why = f"r_{k[j]} = {r[j]:.3g} is clearly negative (r_{k[0]} = {r[0]:.3g})"
    return (
        f"the slopes r_k do not decay as b m^k: {why}; the activity oscillates (a refractory "
        "period about as long as the bin? use a bin of at least n_ref + 1 steps, or kmin past "
        "the oscillation); m is not reported"
    )


def oscillation_note(r: np.ndarray, se: np.ndarray, k: np.ndarray) -> str:
    """Why the first slopes oscillate (module docstring); empty if they do not, or without the
    bootstrap's standard errors."""
    r, se, k = r[:FIRST_LAGS], se[:FIRST_LAGS], k[:FIRST_LAGS]
    rise = fall = (0.0, 0, 0)
    for gap in range(1, min(MAX_GAP, len(r) - 1) + 1):
        spread = np.sqrt(se[gap:] ** 2 + se[:-gap] ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (r[gap:] - r[:-gap]) / spread
        z = np.where(np.isfinite(z), z, 0.0)
        if z.size and z.max() > rise[0]:
            rise = (float(z.max()), int(np.argmax(z)), int(np.argmax(z)) + gap)
        if z.size and -z.min() > fall[0]:
            fall = (float(-z.min()), int(np.argmin(z)), int(np.argmin(z)) + gap)
    if min(rise[0], fall[0]) <= OSCILLATION_Z:
        return ""

    def step(move: tuple[float, int, int]) -> str:
        _, i, j = move
        return f"r_{k[i]} = {r[i]:.3g} -> r_{k[j]} = {r[j]:.3g} ({move[0]:.1f} standard errors)"

    return (
        f"the slopes r_k rise and fall within the first lags ({step(fall)}; {step(rise)}), "
        "which b m^k never does: the activity oscillates (a refractory period, a rhythm; in a "
        "small subsample of a large network the single units' own refractoriness dominates "
        "r_k), so m may describe the oscillation's envelope, not the spread of activity; use a "
        "bin of at least n_ref + 1 steps, kmin past the oscillation, or more units"
    )
