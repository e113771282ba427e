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

from infodyn.data.binning import spike_source, whole_bin_steps
from infodyn.data.units import recorded_ids, unit_subset
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
    #: the recording's own ids of ``units`` (:func:`~infodyn.data.units.recorded_ids`), or None
    unit_ids: list[Any] | None = None


def binary_words(
    spikes: Any, bin_ms: float | None = None, units: Any = None, window: int = 1
) -> Words:
    """Words from a :class:`~infodyn.data.spikes.SpikeTrain` or a spike file (see the module
    docstring); an HDF5 file is streamed block by block, never loaded whole
    (:func:`infodyn.data.binning.spike_source`), with the same words as the loaded file.

    ``bin_ms`` defaults to one step; ``units`` selects and orders units (default: all).
    """
    window = positive_int(window, "window")
    with spike_source(spikes) as src:
        steps = 1 if bin_ms is None else whole_bin_steps(bin_ms, src.dt)
        sel = np.arange(src.n_units) if units is None else unit_subset(units, src.n_units)
        n_bins = src.n_steps // steps
        require(
            n_bins >= window,
            f"a trial of {src.n_steps} steps holds fewer than {window} bins of {steps} steps",
        )
        binned = src.binned(steps, sel, binary=True)
        n_trials, dt = src.n_trials, src.dt
        ids = recorded_ids(src.metadata, src.n_units, sel)
    per_trial = n_bins - window + 1
    if window == 1:
        X = binned.reshape(-1, sel.size)
    else:
        idx = np.arange(per_trial)[:, None] + np.arange(window)[None, :]
        X = binned[:, idx, :].reshape(n_trials * per_trial, window * sel.size)
    trial = np.repeat(np.arange(n_trials), per_trial)
    first = np.tile(np.arange(per_trial), n_trials)
    return Words(np.ascontiguousarray(X), trial, first, sel, steps * dt, window, ids)
