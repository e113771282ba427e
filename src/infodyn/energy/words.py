"""Binary population words from spike trains.

Time is cut into bins of ``bin_ms`` (a whole number of steps); a unit's bit is 1 when it fired
at least once in the bin (Schneidman et al. 2006). With ``window = w > 1`` each word
concatenates w consecutive bins (n * w bits, bin-major: bits ``t*n .. t*n + n-1`` are bin t),
sliding by one bin. Words never straddle trials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.energy._checks import positive_int
from infodyn.errors import require


@dataclass(frozen=True)
class Words:
    """Binary words (M, n_bits) with the trial and first bin of each, and the binning used."""

    X: np.ndarray
    trial: np.ndarray
    bin: np.ndarray
    units: np.ndarray
    bin_ms: float
    window: int


def binary_words(
    spikes: Any, bin_ms: float | None = None, units: Any = None, window: int = 1
) -> Words:
    """Words from a :class:`~infodyn.data.spikes.SpikeTrain` (see the module docstring).

    ``bin_ms`` defaults to one step; ``units`` selects and orders units (default: all).
    """
    window = positive_int(window, "window")
    steps = 1 if bin_ms is None else int(round(float(bin_ms) / spikes.dt))
    require(steps >= 1, f"bin_ms must be at least one step ({spikes.dt} ms)")
    if bin_ms is not None:
        require(
            abs(steps * spikes.dt - float(bin_ms)) <= 1e-6 * max(1.0, float(bin_ms)),
            f"bin_ms = {bin_ms} is not a whole number of {spikes.dt} ms steps",
        )
    sel = (
        np.arange(spikes.n_units)
        if units is None
        else np.asarray(units, dtype=np.int64).reshape(-1)
    )
    require(sel.size >= 1, "select at least one unit")
    require(
        bool(np.all((sel >= 0) & (sel < spikes.n_units))),
        f"units must lie in [0, {spikes.n_units})",
    )
    require(np.unique(sel).size == sel.size, "units contains duplicates")
    n_bins = spikes.n_steps // steps
    require(
        n_bins >= window,
        f"a trial of {spikes.n_steps} steps holds fewer than {window} bins of {steps} steps",
    )
    lookup = -np.ones(spikes.n_units, dtype=np.int64)
    lookup[sel] = np.arange(sel.size)
    keep = (lookup[spikes.units] >= 0) & (spikes.times < n_bins * steps)
    binned = np.zeros((spikes.n_trials, n_bins, sel.size), dtype=np.uint8)
    binned[spikes.trials[keep], spikes.times[keep] // steps, lookup[spikes.units[keep]]] = 1
    per_trial = n_bins - window + 1
    if window == 1:
        X = binned.reshape(-1, sel.size)
    else:
        idx = np.arange(per_trial)[:, None] + np.arange(window)[None, :]
        X = binned[:, idx, :].reshape(spikes.n_trials * per_trial, window * sel.size)
    trial = np.repeat(np.arange(spikes.n_trials), per_trial)
    first = np.tile(np.arange(per_trial), spikes.n_trials)
    return Words(np.ascontiguousarray(X), trial, first, sel, steps * spikes.dt, window)
