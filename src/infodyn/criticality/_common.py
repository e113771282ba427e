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
    activity: Any, name: str = "activity", allow_negative: bool = False, raster_check: bool = True
) -> tuple[np.ndarray, float | None]:
    """Return ``(counts, dt)``: counts as float64 ``(trials, T)`` and the bin width if known.

    Accepts a :class:`~infodyn.criticality.activity.PopulationActivity`, a
    :class:`~infodyn.data.spikes.SpikeTrain` (one bin per step), a simulation's
    :class:`~infodyn.network.Trace` (its raster ``z`` summed over units, one bin per step), or
    an array shaped ``(T,)`` or ``(trials, T)`` of non-negative counts (any real values with
    ``allow_negative``). Negative (unless allowed), non-finite or empty input raises
    :class:`InputError`; a path is refused with the call that reads it. A 2-D array of only 0s
    and 1s with more rows than columns is read as counts, with a warning: it is most likely a
    raster ``(T, N)`` (a Trace's ``z``), which read as ``(trials, T)`` counts gives avalanches
    and branching ratios of nothing (``raster_check=False``: counts the caller made itself, no
    warning).
    """
    dt = None
    if isinstance(activity, str | bytes) or hasattr(activity, "__fspath__"):
        raise InputError(  # it was "must hold numbers (counts), got dtype <U23"
            f"{name} is a path ({activity!r:.60}): read a spike file with "
            "population_activity(path) (an HDF5 file is streamed) and pass its result"
        )
    array_given = raster_check and not any(
        hasattr(activity, a) for a in ("counts", "population_activity", "engine")
    )
    if is_trace(activity):
        z = np.asarray(activity.z)  # (T, N) or (B, T, N) spikes
        require(z.ndim in (2, 3), f"the trace's z must be (T, N) or (B, T, N), got {z.shape}")
        dt = float(activity.dt)
        activity = z.sum(axis=-1)
    elif hasattr(activity, "counts") and hasattr(activity, "bin_ms"):
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
    if array_given:
        _warn_raster(a, name)
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


def require_bin_width(name: str, given: float, known: float | None) -> None:
    """Refuse a bin width ``name`` (ms) that contradicts the one the activity carries."""
    if known is not None and abs(given - known) > 1e-9 * known:
        raise InputError(
            f"{name} = {given:g} ms contradicts the activity's own bin width, {known:g} ms: "
            f"leave {name} unset (it is taken from the activity)"
        )


def is_trace(data: Any) -> bool:
    """Whether ``data`` is a simulation's :class:`~infodyn.network.Trace` (its raster ``z``)."""
    return all(hasattr(data, a) for a in ("z", "engine", "dt"))


def _warn_raster(a: np.ndarray, name: str) -> None:
    """Warn when ``(trials, T)`` counts given as an array hold only 0s and 1s and have more
    rows than columns: a spike raster ``(T, N)`` (``trace.z``, more steps than units) read as
    counts, the usual slip (sparse counts of a few trials have far more steps than trials).
    The warning points at the caller of the public function (``as_counts`` is two calls down).
    """
    if a.ndim == 2 and a.shape[0] > a.shape[1] > 0 and bool(np.all((a == 0) | (a == 1))):
        warnings.warn(
            f"{name} of shape {a.shape} holds only 0s and 1s: read as population counts "
            "(trials, T); a spike raster (T, N) such as trace.z must be summed over units "
            "first (pass the Trace itself, or raster.sum(axis=1))",
            CriticalityWarning,
            stacklevel=4,
        )
