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
trial's means removed; ``infodyn criticality`` reports it for the units it analyses and warns
above :data:`OWN_SHARE_WARN`.

:func:`own_covariances` computes the ``S_k`` from spikes instead of per-unit counts, so that its
memory follows the spikes, not units x bins (per-unit counts of 1 % of a 10^5-unit network over
10^5 bins are 10^8 cells): with ``x`` a unit's counts in the ``T`` bins of a trial, ``N`` their
sum, ``F_k`` and ``L_k`` the sums of its first and last ``k`` bins and ``mu = N / T``,

    sum_t (x_t - mu)(x_{t+k} - mu) = sum_t x_t x_{t+k} - mu (2 N - F_k - L_k) + (T - k) mu^2,

whose first term has a product only where the unit spiked in both bins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numba
import numpy as np

from infodyn.errors import InputError, whole_number
from infodyn.memory import require_memory

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
    own = np.zeros(lags)
    for lo in range(0, counts.shape[2], UNIT_CHUNK):  # float64 copies of a chunk of units only
        x = counts[:, :, lo : lo + UNIT_CHUNK].astype(np.float64)
        x -= x.mean(axis=1, keepdims=True)  # each trial's and unit's mean
        own += [np.sum(x[:, :-k] * x[:, k:]) for k in range(1, lags + 1)]
    return share_of(own, counts.sum(axis=2, dtype=np.float64))


def share_of(own: Any, activity: Any) -> float:
    """``sum_k |S_k| / sum_k |C_k|`` of the own lagged covariances ``own`` (``S_1..S_lags``)
    and the population ``activity`` ``(n_trials, n_bins)`` (its ``C_k``, each trial's mean
    removed); NaN when the population has no lagged covariance."""
    a = np.asarray(activity, np.float64)
    a = a - a.mean(axis=1, keepdims=True)
    total = sum(abs(float(np.sum(a[:, :-k] * a[:, k:]))) for k in range(1, len(own) + 1))
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


def own_covariances(
    blocks: Iterable[tuple[Any, Any, Any]],
    n_bins: int,
    bin_steps: int,
    columns: Any,
    lags: int = LAGS,
) -> np.ndarray | None:
    """The units' own lagged covariances ``S_1..S_lags`` (module docstring), summed over trials,
    from spikes: ``blocks`` yields ``(trials, times, units)`` arrays in (trial, time) order,
    ``columns[u]`` is unit ``u``'s column (-1: not analysed); bin ``b`` of a trial holds steps
    ``[b * bin_steps, (b + 1) * bin_steps)``, and steps from ``n_bins * bin_steps`` on are not
    counted. Equal to :func:`own_share`'s ``S_k`` of the binned counts; memory is one block plus
    ``O(columns)``. ``None`` when the blocks are not in (trial, time) order."""
    sums = OwnCovariances(columns, n_bins, bin_steps, lags)
    for trials, times, units in blocks:
        sums.add(trials, times, units)
        if not sums.in_order:  # the rest of the file cannot change that
            break
    return sums.result()


class OwnCovariances:
    """The running sums of :func:`own_covariances`, fed a block of spikes at a time by
    :meth:`add` (so that a pass made for something else can feed them); :meth:`result` ends
    them."""

    def __init__(self, columns: Any, n_bins: int, bin_steps: int, lags: int = LAGS) -> None:
        self.columns = np.asarray(columns, np.int64)
        self.n_bins = whole_number(n_bins, "n_bins", minimum=1)
        self.bin_steps = whole_number(bin_steps, "bin_steps", minimum=1)
        lags = whole_number(lags, "lags", minimum=1)
        if self.columns.ndim != 1 or self.n_bins <= lags:
            raise InputError(
                f"need 1-D columns and more than lags={lags} bins a trial, got columns of shape "
                f"{self.columns.shape} and {self.n_bins} bins"
            )
        n_cols = max(int(self.columns.max(initial=-1)) + 1, 1)
        # per column: its last lags + 1 bins and their counts (a ring indexed by the global bin
        # g = trial * n_bins + bin), its count in this trial, and in the trial's first and
        # last bins
        width = 1 << lags.bit_length()  # a power of two above lags: slots by a mask
        require_memory(  # 232 bytes a unit at 5 lags: a corrupt header's 10^8 units, 23 GB
            8 * self.columns.size + 8 * n_cols * (2 * width + 2 * lags + 2),
            f"the own lagged covariances of {n_cols:,} units",
            "analyse fewer units (--units, --sample-fraction)",
        )
        self._ring = np.full((n_cols, width, 2), -1, np.int64)
        self._n = np.zeros(n_cols, np.int64)
        self._edges = np.zeros((2, lags, n_cols), np.int64)
        self._touched = np.empty(n_cols, np.int64)
        self._state = np.array([-1, -1, 0], np.int64)  # last global bin, trial, columns touched
        self._products, self._sums = np.zeros(lags, np.int64), np.zeros(lags)
        self.in_order = True

    def add(self, trials: Any, times: Any, units: Any) -> None:
        """Add the next block of spikes (the blocks in (trial, time) order)."""
        units = np.asarray(units)
        if not self.in_order or units.size == 0:
            return
        if units.dtype.kind not in "iu" or units.min() < 0 or units.max() >= self.columns.size:
            raise InputError(f"units must be whole numbers in [0, {self.columns.size})")
        self.in_order = _add_spikes(
            np.asarray(trials), np.asarray(times), units, self.columns, self.n_bins,
            self.bin_steps, self._ring, self._n, self._edges, self._touched, self._state,
            self._products, self._sums,
        )  # fmt: skip

    def result(self) -> np.ndarray | None:
        """``S_1..S_lags`` of the spikes added (``None`` if they were not in order); call
        once, after the last :meth:`add`."""
        if not self.in_order:
            return None
        _end_trial(
            self.n_bins, self._n, self._edges, self._touched, self._state, self._products,
            self._sums,
        )  # fmt: skip
        return self._sums


@numba.njit(cache=True)
def _add_spikes(
    trials, times, units, columns, n_bins, bin_steps, ring, n, edges, touched, state, products, sums
):
    """Add spikes to the sums of :func:`own_covariances`: one more spike in global bin ``g``
    adds the unit's counts of bins ``g - k`` (complete, as the spikes come in order) to
    ``sum_t x_t x_{t+k}``. False when ``g`` goes back."""
    lags, mask = products.size, ring.shape[1] - 1
    for i in range(times.size):
        c = columns[units[i]]
        if c < 0 or times[i] >= n_bins * bin_steps:
            continue
        b = times[i] // bin_steps
        gi = trials[i] * n_bins + b
        if gi < state[0]:
            return False
        state[0] = gi
        if trials[i] != state[1]:
            _end_trial(n_bins, n, edges, touched, state, products, sums)
            state[1] = trials[i]
        for k in range(1, min(lags, b) + 1):  # without branches: they are unpredictable
            slot = (gi - k) & mask
            products[k - 1] += ring[c, slot, 1] * (ring[c, slot, 0] == gi - k)
        slot = gi & mask
        if ring[c, slot, 0] != gi:
            ring[c, slot, 0], ring[c, slot, 1] = gi, 0
        ring[c, slot, 1] += 1
        if n[c] == 0:
            touched[state[2]] = c
            state[2] += 1
        n[c] += 1
        if b < lags:
            edges[0, b, c] += 1
        if b >= n_bins - lags:
            edges[1, n_bins - 1 - b, c] += 1
    return True


@numba.njit(cache=True)
def _end_trial(n_bins, n, edges, touched, state, products, sums):
    """Add the trial's ``S_k`` (module docstring) to ``sums``; clear its per-column sums."""
    lags = products.size
    for k in range(1, lags + 1):
        centred = float(products[k - 1])
        for j in range(state[2]):
            c = touched[j]
            mu = n[c] / n_bins
            first = edges[0, :k, c].sum()
            last = edges[1, :k, c].sum()
            centred += (n_bins - k) * mu * mu - mu * (2 * n[c] - first - last)
        sums[k - 1] += centred
        products[k - 1] = 0
    for j in range(state[2]):
        c = touched[j]
        n[c] = 0
        edges[:, :, c] = 0
    state[2] = 0
