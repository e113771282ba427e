"""Bin spike times in seconds (recordings) into a step-indexed :class:`~infodyn.data.SpikeTrain`.

Recordings store spike times in seconds; infodyn analyses spikes as step indices of ``dt`` ms.
Each trial ``r`` is given in its own time frame with a start ``t0_r`` and an optional stop; a
spike at time ``t`` of that trial falls in step

    k = floor((t - t0_r) / dt + 1e-6)        (dt in seconds here)

(the small tolerance keeps spikes written as exact multiples of ``dt`` in their own bin despite
float rounding; it is 1e-6 of a bin up to ``dt`` = 1 ms and 1 ns above, so a coarse ``dt`` of
seconds moves no spike by more than a nanosecond: at ``dt`` = 1000 s a bin's tolerance of 1 ms
dropped the spikes of the last millisecond before a stop). ``n_steps`` is the longest trial:
``ceil((stop - t0) / dt - 1e-6)`` steps, or up to the last spike when a trial has no stop.
Spikes before ``t0`` or at or after the stop are dropped (a trial ``closed`` at its stop, as
pynapple's intervals are, keeps a spike at the stop in its last step); two spikes of one unit in
one bin become one event (infodyn rasters are binary). Both are counted in
``metadata["binning"]`` and warned about, never silently, as are trials of unequal length
(every trial is ``n_steps`` long: the shorter ones are padded with silent steps). Unless the
trials follow one another from 0 s, ``metadata["trial_starts_s"]`` keeps every trial's start in
the recording's clock (seconds): step ``k`` of trial ``r`` began at
``trial_starts_s[r] + k * dt / 1000`` s.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.data.notes import warn_data
from infodyn.data.spike_files import MAX_STEPS
from infodyn.data.spikes import SpikeTrain
from infodyn.errors import InputError

_BIN_TOL = 1e-6  # of a bin
_MAX_TOL_S = 1e-9  # the tolerance in seconds is at most this (1e-6 of a 1-ms bin)
DEFAULT_DT_MS = 1.0


@dataclass(frozen=True)
class TimedTrial:
    """Spikes of one trial in seconds: ``seconds[i]`` is a spike of unit ``units[i]``; the trial
    spans ``[start, stop)`` seconds (``stop=None``: up to its last spike)."""

    seconds: Any
    units: Any
    start: float = 0.0
    stop: float | None = None
    #: the stop belongs to the trial, ``[start, stop]`` (pynapple's intervals): a spike at the
    #: stop is kept, in the trial's last step (the step count is that of ``[start, stop)``)
    closed: bool = False


def bin_tolerance(dt_s: float) -> float:
    """The binning tolerance in bins for bins of ``dt_s`` seconds (the module docstring)."""
    return min(_BIN_TOL, _MAX_TOL_S / dt_s)


def check_dt(dt: float | None) -> float:
    """The bin width in ms: ``dt`` (checked positive and finite) or 1 ms when None."""
    if dt is None:
        return DEFAULT_DT_MS
    if isinstance(dt, bool):  # True was taken as 1 ms
        raise InputError(f"dt must be a positive number of ms, got {dt!r}")
    try:
        value = float(dt)
    except (TypeError, ValueError):
        raise InputError(f"dt must be a positive number of ms, got {dt!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"dt must be a positive number of ms, got {dt!r}")
    return value


def bin_trials(
    trials: Sequence[TimedTrial],
    n_units: int,
    dt: float | None,
    *,
    source: str,
    metadata: dict[str, Any] | None = None,
    dropped: int = 0,
) -> SpikeTrain:
    """Bin ``trials`` of spike times (seconds) into steps of ``dt`` ms (see the module docstring).

    ``source`` names the recording in warnings and error messages; ``metadata`` is stored with
    the spikes, plus ``binning`` (spikes dropped outside their trial, spikes merged in a bin);
    ``dropped`` counts spikes the caller left out of every trial, warned about with the rest.
    """
    dt = check_dt(dt)
    dt_s = dt / 1000.0
    tol = bin_tolerance(dt_s)
    if n_units < 1:
        raise InputError(f"{source}: the recording has no units")
    if not trials:
        raise InputError(f"{source}: the recording has no trials (segments)")
    parts = []
    for r, trial in enumerate(trials):
        t = np.asarray(trial.seconds, dtype=np.float64).reshape(-1)
        u = np.asarray(trial.units, dtype=np.int64).reshape(-1)
        if t.shape != u.shape:
            raise InputError(f"{source}: spike times and units of trial {r} differ in length")
        if not np.all(np.isfinite(t)):
            raise InputError(f"{source}: trial {r} holds non-finite spike times")
        start = float(trial.start)
        if not math.isfinite(start) or not (trial.stop is None or math.isfinite(float(trial.stop))):
            raise InputError(f"{source}: trial {r} has a start or stop that is not finite")
        if trial.stop is None:
            last = (t.max(initial=start) - start) / dt_s + tol
            steps_r = int(np.floor(check_span(last, dt, source, f"trial {r}"))) + 1
        else:
            if not float(trial.stop) > start:
                raise InputError(f"{source}: trial {r} stops at or before it starts")
            span = (float(trial.stop) - start) / dt_s - tol
            steps_r = max(math.ceil(check_span(span, dt, source, f"trial {r}")), 1)
        parts.append((t, u, start, trial.stop, steps_r, trial.closed))
    n_steps = max(p[4] for p in parts)
    keys, times, n_outside = [], [], int(dropped)
    for r, (t, u, start, stop, steps_r, closed) in enumerate(parts):
        steps = np.floor((t - start) / dt_s + tol).astype(np.int64)
        if stop is not None and closed:  # a spike at the stop: in the last step
            steps = np.where(t <= float(stop), np.minimum(steps, steps_r - 1), steps)
        inside = (steps >= 0) & (steps < steps_r)
        if stop is not None and not closed:
            inside &= t < float(stop) - tol * dt_s
        n_outside += int(np.count_nonzero(~inside))
        keys.append(np.stack([np.full(int(inside.sum()), r), steps[inside], u[inside]]))
        times.append(t[inside])
    key = np.concatenate(keys, axis=1)
    if key.size and (key[2].min() < 0 or key[2].max() >= n_units):
        raise InputError(f"{source}: spike unit indices must lie in [0, {n_units})")
    unique = np.unique(key, axis=1)
    n_merged = key.shape[1] - unique.shape[1]
    n_repeated = repeated_spikes(key[0], np.concatenate(times), key[2]) if n_merged else 0
    closed_lengths = [p[4] for p in parts] if all(p[3] is not None for p in parts) else []
    warn_binning(source, dt, n_outside, n_merged, closed_lengths, n_repeated)
    meta = dict(metadata or {})
    meta["binning"] = {
        "dt_ms": dt,
        "dropped_outside_trials": n_outside,
        "merged": n_merged,
        "repeated": n_repeated,
    }
    if closed_lengths and min(closed_lengths) != n_steps:
        meta["binning"]["trial_steps_range"] = [min(closed_lengths), n_steps]
    starts = trial_starts(np.array([p[2] for p in parts]), n_steps, dt_s)
    if starts is not None:
        meta["trial_starts_s"] = starts
    return SpikeTrain(
        times=unique[1],
        units=unique[2],
        trials=unique[0],
        n_units=n_units,
        n_steps=n_steps,
        n_trials=len(parts),
        dt=dt,
        metadata=meta,
    )


def trial_starts(starts: np.ndarray, n_steps: int, dt_s: float) -> list[float] | None:
    """The trials' starts (seconds) for ``metadata["trial_starts_s"]``, or None when they
    follow one another from 0 s (trial ``r`` at ``r * n_steps * dt``: infodyn's own layout in
    NWB files, where they say nothing the steps do not)."""
    laid_out = np.arange(starts.size) * n_steps * dt_s
    if np.all(np.abs(starts - laid_out) <= bin_tolerance(dt_s) * dt_s):
        return None
    return [float(v) for v in starts]


def check_span(steps: float, dt_ms: float, source: str, what: str) -> float:
    """``steps`` (a number of bins, as a float), refused when it is not finite or exceeds
    :data:`MAX_STEPS` (a bin of 1e-300 ms, a spike at 1e300 s): int64 step indices would
    overflow."""
    if not steps < MAX_STEPS:  # also NaN
        raise InputError(
            f"{source}: {what} spans {steps:.3g} steps of {dt_ms:g} ms, more than "
            f"{MAX_STEPS:.3g}: use a larger bin (dt)"
        )
    return steps


def repeated_spikes(trials: np.ndarray, seconds: np.ndarray, units: np.ndarray) -> int:
    """How many spikes repeat another of the same unit at exactly the same time in the same
    trial (a sorter's duplicate): a finer bin cannot part them, unlike spikes that only share
    a bin."""
    exact = np.stack([trials.astype(np.float64), seconds, units.astype(np.float64)])
    return int(exact.shape[1] - np.unique(exact, axis=1).shape[1])


def warn_binning(
    source: str,
    dt: float,
    n_outside: int,
    n_merged: int,
    trial_steps: Sequence[int] = (),
    n_repeated: int = 0,
    outside: str = "outside every trial",
) -> None:
    """Warn that binning dropped ``n_outside`` spikes ``outside`` (every trial) and merged
    ``n_merged`` spikes into a bin already holding a spike of the same unit (``n_repeated`` of
    them at exactly the same time: kept once, with no advice to bin finer, which cannot part
    them), and that trials of ``trial_steps`` steps (their stops given) differ in length: every
    trial is ``n_steps`` long, so the shorter ones end in steps that were not recorded but are
    analysed as silent."""
    if len(trial_steps) and min(trial_steps) != max(trial_steps):
        shorter = sum(1 for n in trial_steps if n < max(trial_steps))
        warn_data(
            f"{source}: trials last {min(trial_steps)} to {max(trial_steps)} steps of {dt} ms; "
            f"the {shorter} shorter one(s) are padded with silent steps to {max(trial_steps)}, "
            "which rates and analyses count as recorded (a recording of trials of one length "
            "has none)"
        )
    if n_outside:
        warn_data(f"{source}: {n_outside} spikes lie {outside} and were dropped")
    if n_repeated:
        warn_data(
            f"{source}: {n_repeated} spikes repeat a spike of the same unit at the same time; "
            "each was kept once (a unit spikes at most once a step)"
        )
    if n_merged > n_repeated:
        on_disk = os.path.exists(source)  # (an object in memory has no command line)
        warn_data(
            f"{source}: {n_merged - n_repeated} spikes share a {dt} ms bin with another spike "
            f"of the same unit and were merged: bin finer, with a dt below {dt} ms in "
            "load_spikes(..., dt=)"
            + (f" or `infodyn convert {source} spikes.h5 --dt D`" if on_disk else "")
        )
