"""How much of a population's lagged covariance is its units' own autocovariance.

The MR estimator (Wilting & Priesemann 2018, Nat. Commun. 9:2325, eq. 3) fits ``b m^k`` to the
lag-k regression slopes of the population activity ``A_t = sum_i a_i(t)``, reading them as
activity spreading from unit to unit. Their numerator splits into the units' own terms and the
terms between units:

    C_k = Cov(A_t, A_{t+k}) = sum_i Cov(a_i(t), a_i(t+k)) + sum_{i != j} Cov(a_i(t), a_j(t+k))
        = S_k + (C_k - S_k).

In a network where activity spreads between exchangeable units, a unit's own lagged covariance
is no larger than its covariance with any other unit, so ``S_k`` is about ``1 / n`` of ``C_k``
for ``n`` units recorded. A single unit's refractoriness and regular firing are covariances of
its own: in a small subsample of a large network they can outweigh everything else, and ``m``
then describes the units, not the spread of activity between them (0.1 % of the units of a
10^5-unit LIF network gave m = 0.94, the whole population 0.49).

:func:`own_share` is ``sum_k |S_k| / sum_k |C_k|`` over the first :data:`LAGS` lags, each
trial's means removed; ``infodyn criticality`` reports it for the units it analyses when they
are a subset of the file's and warns above :data:`OWN_SHARE_WARN`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.errors import InputError, whole_number

#: lags compared, and the share of the units' own covariance above which a result warns
LAGS = 5
OWN_SHARE_WARN = 0.5


def own_share(counts: Any, lags: int = LAGS) -> float:
    """``sum_k |S_k| / sum_k |C_k|`` for ``k = 1..lags`` (module docstring) of per-unit counts
    ``(n_trials, n_bins, n_units)``; NaN when the population has no lagged covariance."""
    counts = np.asarray(counts)
    if counts.ndim != 3 or counts.dtype.kind not in "biuf":
        raise InputError(
            f"counts must be (n_trials, n_bins, n_units) numbers, got {counts.dtype} of shape "
            f"{counts.shape}"
        )
    lags = whole_number(lags, "lags", minimum=1)
    if counts.shape[1] <= lags:
        raise InputError(f"need more than lags={lags} bins per trial, got {counts.shape[1]}")
    a = counts.sum(axis=2, dtype=np.float64)
    a -= a.mean(axis=1, keepdims=True)  # each trial's mean
    own = np.zeros(lags)
    for lo in range(0, counts.shape[2], UNIT_CHUNK):  # float64 copies of a chunk of units only
        x = counts[:, :, lo : lo + UNIT_CHUNK].astype(np.float64)
        x -= x.mean(axis=1, keepdims=True)  # each trial's and unit's mean
        own += [np.sum(x[:, :-k] * x[:, k:]) for k in range(1, lags + 1)]
    total = sum(abs(float(np.sum(a[:, :-k] * a[:, k:]))) for k in range(1, lags + 1))
    return float(np.sum(np.abs(own))) / total if total > 0 else float("nan")


#: units whose counts are converted to float64 at once by :func:`own_share`
UNIT_CHUNK = 64


def own_share_note(share: float, n_units: int) -> str:
    """The warning for a ``share`` above :data:`OWN_SHARE_WARN` (empty otherwise)."""
    if not share > OWN_SHARE_WARN:
        return ""
    return (
        f"the {n_units} units' own lagged covariance (refractoriness, regular firing) is "
        f"{share:.2g} times that of their population activity over lags 1-{LAGS} (about "
        f"1/n = {1 / max(n_units, 1):.2g} where activity passes between exchangeable units): "
        "the MR m may describe single units rather than the network; analyse more units"
    )
