"""Population activity: spike counts per time bin, trials kept separate.

The population activity ``A_t`` is the number of spikes (events) of all recorded units in time
bin ``t``. Avalanche analysis (Beggs & Plenz 2003) bins at the mean inter-event interval (IEI) of
the pooled population; branching estimators usually use the simulation or recording step.

Also here: the Fano factor of the population activity, ``F = Var(A) / <A>`` (``1/(1-m^2)`` for a
driven Poisson branching process), and the global-rate variance of Seitz 2021
``s = (1/T) sum_t (r_t - mu_r)^2`` with ``r_t`` the population rate in bin ``t``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from infodyn.criticality._common import as_counts, is_trace, require_bin_width, warn
from infodyn.data.binning import whole_bin_steps
from infodyn.data.io import load_spikes
from infodyn.data.spike_files import is_h5_path
from infodyn.data.spike_reader import SpikeReader
from infodyn.data.units import unit_subset
from infodyn.errors import (
    InputError,
    as_array,
    is_finite_number,
    require,
    require_flag,
    whole_number,
)


def _check_counts(counts: Any) -> None:
    """Counts of a result built by hand: a (n_trials, n) array of numbers (shape and type only;
    the values are what a caller computed)."""
    ok = isinstance(counts, np.ndarray) and counts.ndim == 2 and counts.dtype.kind in "iuf"
    require(ok, f"counts must be a (n_trials, n) array of numbers, got {counts!r:.60}")


@dataclass(frozen=True)
class PopulationActivity:
    """Counts per bin ``(n_trials, n_bins)`` with the bin width in ms.

    ``np.asarray(activity)`` gives the counts, so it can be passed wherever an array is expected;
    :func:`~infodyn.criticality.branching_ratio` and :func:`~infodyn.criticality.avalanches` also
    read ``bin_ms`` from it.
    """

    counts: np.ndarray
    bin_ms: float
    bin_steps: int = 1
    n_units: int | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # built by hand with text or a 1-D array, it failed later inside the estimators
        _check_counts(self.counts)
        require(
            is_finite_number(self.bin_ms) and self.bin_ms > 0,
            f"bin_ms must be a positive number of ms, got {self.bin_ms!r}",
        )
        whole_number(self.bin_steps, "bin_steps", minimum=1)
        if self.n_units is not None:
            whole_number(self.n_units, "n_units", minimum=1)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.counts if dtype is None else self.counts.astype(dtype)

    @property
    def n_trials(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_bins(self) -> int:
        return int(self.counts.shape[1])


@dataclass(frozen=True)
class StepCounts:
    """Population spike counts per step, ``(n_trials, n_steps)`` int64, of ``n_units`` units at
    a step of ``dt`` ms: all that :func:`population_activity` (every ``bin_ms``, ``"iei"``
    included) needs of a spike train. :func:`step_counts` reads them from a spike file in one
    streamed pass; pass the result to :func:`population_activity` as often as needed."""

    counts: np.ndarray
    n_units: int
    dt: float = 1.0

    def __post_init__(self) -> None:
        _check_counts(self.counts)  # n_units="a" or dt="a" failed later, inside population_activity
        whole_number(self.n_units, "n_units", minimum=1)
        require(
            is_finite_number(self.dt) and self.dt > 0,
            f"dt must be a positive number of ms, got {self.dt!r}",
        )

    @property
    def n_trials(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self.counts.shape[1])

    @property
    def n_spikes(self) -> int:
        return int(self.counts.sum())

    def population_activity(self) -> np.ndarray:
        """The counts, like :meth:`SpikeTrain.population_activity`."""
        return self.counts


BLOCK_SPIKES = 1 << 20  # spikes read at a time when a spike file is streamed (16 MiB)


def step_counts(
    data: Any,
    units: Any = None,
    block_spikes: int | None = None,
    each_block: Callable[[Any, Any, Any], None] | None = None,
) -> StepCounts:
    """Population counts per step of a spike file or :class:`~infodyn.data.spikes.SpikeTrain`.

    An infodyn HDF5 file (``.h5``/``.hdf5``) is read in one streamed pass
    (:meth:`infodyn.data.spikes.SpikeReader.step_counts`), ``block_spikes`` spikes (default
    :data:`BLOCK_SPIKES`) at a time, so memory is the counts (8 bytes a step and trial) plus one
    block (16 bytes a spike), however many spikes the file holds, and the file's spikes need not
    be in order. Other files are loaded with :func:`~infodyn.data.io.load_spikes`. ``units``
    counts only those units (``n_units`` is then their number). The counts equal
    ``load_spikes(path).select_units(units).population_activity()``. ``each_block`` is given
    each block of a streamed file's spikes (:meth:`~infodyn.data.spikes.SpikeReader.step_counts`;
    not called for other data).
    """
    if block_spikes is not None:  # "a" or 2.5 were taken when the data was not a file
        block_spikes = whole_number(block_spikes, "block_spikes", minimum=1)
    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        if is_h5_path(data):
            block = BLOCK_SPIKES if block_spikes is None else block_spikes
            with SpikeReader(data, block_spikes=block) as reader:
                n_units = reader.n_units
                if units is not None:
                    n_units = int(unit_subset(units, reader.n_units).size)
                counts = reader.step_counts(units, each_block)
                return StepCounts(counts, n_units=n_units, dt=reader.dt)
        data = load_spikes(data)
    require(
        hasattr(data, "population_activity") and hasattr(data, "select_units"),
        "step_counts needs a spike file or a SpikeTrain",
    )
    if units is not None:
        data = data.select_units(units)
    return StepCounts(
        data.population_activity().astype(np.int64), n_units=int(data.n_units), dt=float(data.dt)
    )


def _step_counts_iei(counts: np.ndarray, dt: float) -> float:
    """:func:`mean_interevent_interval` from population counts per step ``(trials, steps)``: a
    trial's first and last events are its first and last non-empty steps."""
    n = counts.sum(axis=1)
    require(int(n.sum()) >= 2, "the mean inter-event interval needs at least two spikes")
    span = 0.0
    n_int = 0
    for row, k in zip(counts, n, strict=True):
        if k >= 2:
            nz = np.flatnonzero(row)
            span += float(nz[-1] - nz[0])
            n_int += int(k - 1)
    require(n_int > 0, "the mean inter-event interval needs two spikes within one trial")
    return span * float(dt) / n_int


def mean_interevent_interval(spikes: Any) -> float:
    """Mean interval (ms) between successive events of the pooled population, within trials.

    ``<IEI> = sum_trials (t_last - t_first) / sum_trials (n_events - 1)`` with event times in ms;
    simultaneous events count as intervals of zero (events are pooled over units, as in
    Beggs & Plenz 2003 and Priesemann et al. 2014). ``spikes`` is a SpikeTrain or
    :class:`StepCounts`.
    """
    if not hasattr(spikes, "population_activity"):
        raise InputError(
            "spikes must be a SpikeTrain or StepCounts (with its dt); for an activity array "
            f"use population_activity first, got {type(spikes).__name__}"
        )
    return _step_counts_iei(np.asarray(spikes.population_activity()), spikes.dt)


def _rebin(counts: np.ndarray, k: int) -> np.ndarray:
    """Sum consecutive groups of ``k`` columns; a trailing partial bin is dropped."""
    if k == 1:
        return counts
    n = counts.shape[1] // k
    require(n >= 1, f"a bin of {k} steps is longer than the recording ({counts.shape[1]} steps)")
    return counts[:, : n * k].reshape(counts.shape[0], n, k).sum(axis=2)


def population_activity(
    data: Any,
    bin_ms: float | str | None = None,
    dt: float | None = None,
    units: Any = None,
) -> PopulationActivity:
    """Population spike counts per bin, ``(n_trials, n_bins)``, trials kept separate.

    Parameters
    ----------
    data
        A :class:`~infodyn.data.spikes.SpikeTrain`, a path to a spike file readable by
        :func:`infodyn.data.io.load_spikes`, :class:`StepCounts`, a :class:`PopulationActivity`
        (re-binned: its bins are the steps, ``bin_ms`` a whole multiple of its own), a simulation's
        :class:`~infodyn.network.Trace` (its raster ``z``, ``(T, N)`` or ``(B, T, N)``), a
        binary raster ``(trials, T, N)`` as a 3-D array, or population counts ``(T,)`` /
        ``(trials, T)`` (a 2-D array is counts, never a raster: one of only 0s and 1s with more
        rows than columns, such as ``trace.z``, is read as counts with a warning). An infodyn
        HDF5 file (``.h5``/``.hdf5``) is not loaded but read in one streamed pass
        (:func:`step_counts`): memory is the counts per step, not the spikes; the result equals
        that of the loaded SpikeTrain.
    bin_ms
        Bin width in ms, a whole multiple of the step (another width is refused rather than
        rounded). ``"iei"`` uses the mean inter-event interval of the pooled population (Beggs &
        Plenz 2003), rounded to whole steps (halves up; at least one); ``None`` keeps one bin
        per step.
    dt
        Step in ms for array input (default 1); a SpikeTrain carries its own.
    units
        Optional subset of unit indices in ``[0, n_units)`` (spike-train or spike-file input
        only) - e.g. to emulate subsampling.
    """
    n_units = None
    info: dict[str, Any] = {}
    require(  # float() read "3" as 3 ms and True as 1 ms; np.isclose failed on text
        dt is None or (is_finite_number(dt) and dt > 0),
        f"dt must be a positive number of ms, got {dt!r}",
    )
    base_steps, counts_given = 1, isinstance(data, PopulationActivity)
    if counts_given:  # re-binned in its own bins (its 5-ms bins were read as 1-ms steps: a
        # 10-ms request gave 50-ms bins labelled 10, and its IEI was 5 times too short)
        require(dt is None or np.isclose(dt, data.bin_ms), "dt is the activity's bin_ms; omit dt")
        require(units is None, "units= selects units of a SpikeTrain; these counts are summed")
        dt, base_steps, n_given, data = data.bin_ms, data.bin_steps, data.n_units, data.counts
    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        if is_h5_path(data):
            data, units = step_counts(data, units=units), None
        else:
            data = load_spikes(data)
    if hasattr(data, "population_activity") and hasattr(data, "n_units"):
        spikes = data
        if units is not None:
            require(
                hasattr(spikes, "select_units"),
                "units= selects units of a SpikeTrain or file; these counts are already summed",
            )

            spikes = spikes.select_units(units)
        step = float(spikes.dt)
        require(dt is None or np.isclose(dt, step), "dt is given by the spike train; omit dt")
        counts = spikes.population_activity().astype(np.int64)
        n_units = int(spikes.n_units)
        if isinstance(bin_ms, str):
            require(bin_ms.lower() == "iei", f"bin_ms must be a number, 'iei' or None: {bin_ms!r}")
            iei = mean_interevent_interval(spikes)
            info["mean_iei_ms"] = iei
            bin_ms = max(iei, step)
    else:
        if is_trace(data):  # a simulation's Trace: its raster z, (T, N) or (B, T, N)
            require(dt is None or np.isclose(dt, data.dt), "dt is given by the trace; omit dt")
            dt, data = float(data.dt), np.asarray(data.z)
            data = data[None] if data.ndim == 2 else data
            if units is not None:
                data, units = data[..., unit_subset(units, data.shape[-1])], None
        require(units is None, "units= selects units of a SpikeTrain; arrays are already summed")
        a = as_array(data, "data")
        if a.ndim == 3:  # binary raster (trials, T, N)
            require(a.shape[2] >= 1, f"the raster has no units (shape {a.shape})")
            # checked before it is summed: a -1 beside a 1 summed to a count of 0
            as_counts(a.reshape(-1, a.shape[2]), "the raster", raster_check=False)
            n_units = int(a.shape[2])
            a = a.sum(axis=2)
        counts, _ = as_counts(a, raster_check=n_units is None and not counts_given)
        if counts_given:
            n_units = n_given
        if np.any(counts != np.round(counts)):
            raise InputError("population counts must be whole numbers")
        counts = counts.astype(np.int64)
        step = 1.0 if dt is None else float(dt)
        if isinstance(bin_ms, str):
            require(bin_ms.lower() == "iei", f"bin_ms must be a number, 'iei' or None: {bin_ms!r}")
            n_ev = counts.sum(axis=1)
            t_idx = np.arange(counts.shape[1])
            spans = []
            for row, n in zip(counts, n_ev, strict=True):
                nz = np.flatnonzero(row)
                if n >= 2:
                    spans.append(((t_idx[nz[-1]] - t_idx[nz[0]]) * step, n - 1))
            require(spans, "the mean inter-event interval needs two events within one trial")
            iei = sum(s for s, _ in spans) / sum(n for _, n in spans)
            info["mean_iei_ms"] = float(iei)
            bin_ms = max(iei, step)
    if bin_ms is None:
        k = 1
    elif "mean_iei_ms" in info:  # the IEI is rounded to whole steps by design
        k = max(1, int(np.floor(float(bin_ms) / step + 0.5)))  # half up: round() gave 2.5 -> 2
    else:
        k = whole_bin_steps(bin_ms, step)
    out = _rebin(counts, k)
    if out.shape[1] < 2:
        warn(f"only {out.shape[1]} bin(s) of {k * step:g} ms: too short for any analysis")
    return PopulationActivity(
        out, bin_ms=k * step, bin_steps=k * base_steps, n_units=n_units, info=info
    )


def fano_factor(activity: Any, per_trial: bool = False) -> float | np.ndarray:
    """Fano factor ``Var(A)/<A>`` of the population activity (population variance, ddof 0).

    Pooled over trials with the grand mean by default (a stationary process); ``per_trial=True``
    returns one value per trial. A driven Poisson branching process with branching ratio ``m``
    has ``F = 1/(1-m^2)``. Returns NaN with a warning where the mean is zero, or where one bin
    gives no variance to measure (it read 0, the value of a perfectly regular process).
    """
    per_trial = require_flag("per_trial", per_trial)
    a, _ = as_counts(activity)
    if (a.shape[1] if per_trial else a.size) < 2:
        where = " per trial" if per_trial else ""
        warn(f"only one bin{where}: no variance to measure, the Fano factor is undefined (NaN)")
        return np.full(a.shape[0], np.nan) if per_trial else float("nan")
    if per_trial:
        mu = a.mean(axis=1)
        var = a.var(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(mu > 0, var / np.where(mu > 0, mu, 1.0), np.nan)
        if np.any(mu == 0):
            warn("some trials have no events: their Fano factor is undefined (NaN)")
        return f
    mu = a.mean()
    if mu == 0:
        warn("the activity has no events: the Fano factor is undefined (NaN)")
        return float("nan")
    return float(a.var() / mu)


def global_rate_variance(
    activity: Any,
    n_units: int | None = None,
    dt_ms: float | None = None,
    per_trial: bool = False,
) -> float | np.ndarray:
    """The global-rate variance (Seitz 2021) ``s = (1/T) sum_t (r_t - mu_r)^2`` (ddof 0).

    ``r_t`` is the population activity of bin ``t`` itself (counts) unless ``n_units`` or
    ``dt_ms`` is given, in which case it is the mean single-unit rate in Hz,
    ``r_t = A_t / (n_units * dt_ms / 1000)``; either one left out is taken from a
    :class:`PopulationActivity` (its ``n_units``, its ``bin_ms``), and a ``dt_ms`` that
    contradicts its ``bin_ms`` is refused (``InputError``). ``mu_r`` is the mean over the bins
    of each trial; the result is averaged over trials (or returned per trial). One bin a trial
    leaves no variance to measure: NaN, with a warning.

    The deck (Seitz 2021) constrains branching through ``s`` and states that branching -> 1 as
    s -> 0. For a driven branching process at a fixed input the variance moves the other way:
    ``Var(A) = <A> / (1 - m^2)`` (see :func:`fano_factor`) grows as m -> 1, so a small target
    variance keeps m subcritical at a given mean, as the loss ``PopulationRateVariance`` of
    ``infodyn.learning`` says; it is the pair (target rate, target variance) that sets m.
    """
    per_trial = require_flag("per_trial", per_trial)
    a, dt_known = as_counts(activity)
    if n_units is not None or dt_ms is not None:
        if n_units is None and isinstance(activity, PopulationActivity):
            n_units = activity.n_units
        require(
            dt_ms is None or (is_finite_number(dt_ms) and dt_ms > 0),
            f"dt_ms must be a finite number of ms > 0, got {dt_ms!r}",
        )
        if dt_ms is not None:  # dt_ms = 1 over bins of 5 ms gave a variance 25 times too large
            require_bin_width("dt_ms", dt_ms, dt_known)
        dt_ms = dt_known if dt_ms is None else dt_ms
        require(
            n_units is not None and dt_ms is not None,
            "give both n_units and dt_ms to express the rate in Hz (or neither for counts)",
        )
        n_units = whole_number(n_units, "n_units", minimum=1)  # 1.5 units, inf, True went in
        a = a / (n_units * dt_ms / 1000.0)
    if a.shape[1] < 2:  # the variance around a trial's own mean of one bin was 0, unsaid
        warn("one bin a trial: no variance about a trial's mean to measure (NaN)")
        return np.full(a.shape[0], np.nan) if per_trial else float("nan")
    s = a.var(axis=1)
    return s if per_trial else float(s.mean())
