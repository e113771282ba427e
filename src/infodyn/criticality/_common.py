"""Shared input checks and the warning class of :mod:`infodyn.criticality`."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from infodyn.errors import InputError, require


class CriticalityWarning(UserWarning):
    """An estimate was computed but is not meaningful (degenerate or too little data)."""


def warn(message: str) -> None:
    """Emit a :class:`CriticalityWarning` pointing at the caller's caller."""
    warnings.warn(message, CriticalityWarning, stacklevel=3)


def as_counts(
    activity: Any, name: str = "activity", allow_negative: bool = False
) -> tuple[np.ndarray, float | None]:
    """Return ``(counts, dt)``: counts as float64 ``(trials, T)`` and the bin width if known.

    Accepts a :class:`~infodyn.criticality.activity.PopulationActivity`, a
    :class:`~infodyn.data.spikes.SpikeTrain` (one bin per step), or an array shaped ``(T,)`` or
    ``(trials, T)`` of non-negative counts (any real values with ``allow_negative``).
    Negative (unless allowed), non-finite or empty input raises :class:`InputError`.
    """
    dt = None
    if hasattr(activity, "counts") and hasattr(activity, "bin_ms"):
        dt = float(activity.bin_ms)
        activity = activity.counts
    elif hasattr(activity, "population_activity") and hasattr(activity, "dt"):
        dt = float(activity.dt)
        activity = activity.population_activity()
    try:
        a = np.asarray(activity)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise InputError(f"{name} could not be converted to an array: {exc}") from None
    require(a.dtype.kind in "biuf", f"{name} must hold numbers (counts), got dtype {a.dtype}")
    if a.ndim == 1:
        a = a[None, :]
    require(
        a.ndim == 2,
        f"{name} must be (T,) or (trials, T) population counts, got shape {np.shape(activity)}",
    )
    require(a.size > 0, f"{name} is empty (shape {a.shape})")
    a = a.astype(np.float64, copy=False)
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} contains NaN or inf values")
    require(
        allow_negative or bool(np.all(a >= 0)),
        f"{name} contains negative counts; activity must be >= 0",
    )
    require(  # beyond, whole numbers are not exact, and avalanche sizes wrapped to -2^63
        allow_negative or bool(a.max() < 2.0**53),
        f"{name} holds counts of 2^53 or more ({a.max():.3g}): not counts of events",
    )
    return a, dt
