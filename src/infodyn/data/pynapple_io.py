"""pynapple ``TsGroup`` objects (Viejo et al. 2023) to and from :class:`~infodyn.data.SpikeTrain`.

Needs the optional extra: ``pip install infodyn[pynapple]``.

A ``TsGroup`` maps unit ids to ``Ts`` spike-time series (seconds) over a ``time_support``
``IntervalSet``. :func:`from_tsgroup` makes unit ``i`` of the keys in sorted order (the ids are
kept in ``metadata["unit_ids"]``) and one trial per interval of the time support (or of
``epochs``), binned into steps of ``dt`` ms from the interval's start
(:func:`infodyn.data.timebins.bin_trials`). pynapple's intervals hold their end (a ``TsGroup``
made without a time support ends at its last spike), so a spike on an interval's end is kept, in
the trial's last step; spikes outside every interval are counted in ``metadata["binning"]`` and
warned about. :func:`to_tsgroup` lays trials one after another with
a one-step gap (pynapple merges touching intervals) - trial ``k`` spans ``k * (n_steps + 1) * dt``
ms to ``n_steps * dt`` ms later, one interval of the time support - with each spike at the start
of its step, so ``from_tsgroup(to_tsgroup(s), dt=s.dt)`` gives ``s``'s spikes back, with its unit
ids (as the keys, where they are ascending whole numbers: phy's cluster ids) and unit groups (a
metadata column); its other metadata (sample rate, source) has no place in a ``TsGroup``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.data.notes import warn_data
from infodyn.data.spikes import SpikeTrain
from infodyn.data.timebins import TimedTrial, bin_trials
from infodyn.errors import InputError


def _nap() -> Any:
    try:
        import pynapple
    except ImportError:
        raise InputError(
            "converting pynapple objects needs pynapple: pip install 'infodyn[pynapple]'"
        ) from None
    return pynapple


def is_tsgroup(obj: Any) -> bool:
    """Whether ``obj`` is a pynapple ``TsGroup`` (False when pynapple is not installed)."""
    cls = type(obj)
    if cls.__name__ != "TsGroup" or not cls.__module__.startswith("pynapple"):
        return False
    return True


def from_tsgroup(group: Any, dt: float | None = None, epochs: Any = None) -> SpikeTrain:
    """Bin a pynapple ``TsGroup`` into a :class:`~infodyn.data.SpikeTrain` of ``dt`` ms steps
    (default 1 ms): one trial per interval of ``epochs`` (an ``IntervalSet``; default the
    group's time support)."""
    nap = _nap()
    if not isinstance(group, nap.TsGroup):
        raise InputError(f"expected a pynapple TsGroup, got {type(group).__name__}")
    keys = sorted(group.keys())
    if not keys:
        raise InputError("the TsGroup holds no units")
    support = group.time_support if epochs is None else epochs
    if not isinstance(support, nap.IntervalSet):
        raise InputError(f"epochs must be a pynapple IntervalSet, got {type(support).__name__}")
    starts = np.asarray(support.start, dtype=np.float64)
    ends = np.asarray(support.end, dtype=np.float64)
    if starts.size == 0:
        raise InputError("the TsGroup's time support (or epochs) holds no interval")
    seconds = [np.asarray(group[k].t, dtype=np.float64) for k in keys]
    units = [np.full(s.size, i, dtype=np.int64) for i, s in enumerate(seconds)]
    t, u = np.concatenate(seconds), np.concatenate(units)
    firsts = [x.min() for x in seconds if x.size]  # a support inferred from the spikes is
    lasts = [x.max() for x in seconds if x.size]  # the union of each unit's [first, last]
    inferred = np.isin(starts, firsts).all() and np.isin(ends, lasts).all()
    if epochs is None and starts.size > 1 and inferred:
        warn_data(  # pynapple's support of a TsGroup made without one: the spikes' spans
            f"TsGroup: its time support's {starts.size} intervals each start and end at a spike "
            "(pynapple infers a support from the spikes when none is given), and each interval "
            "is a trial; give the TsGroup a time_support, or epochs=, with the recording's span"
        )
    trials, anywhere = [], np.zeros(t.size, dtype=bool)
    for a, b in zip(starts, ends, strict=True):  # pynapple's intervals hold their end
        inside = (t >= a) & (t <= b)
        anywhere |= inside
        trials.append(TimedTrial(t[inside], u[inside], float(a), float(b), closed=True))
    metadata = {"source": "pynapple.TsGroup", "format": "pynapple", "unit_ids": list(keys)}
    if GROUP_COLUMN in getattr(group, "metadata_columns", ()):  # to_tsgroup's (phy's groups)
        metadata["unit_groups"] = [str(group[GROUP_COLUMN][k]) for k in keys]
    return bin_trials(
        trials,
        len(keys),
        dt,
        source="TsGroup",
        metadata=metadata,
        dropped=int(np.count_nonzero(~anywhere)),  # outside every interval: counted, warned
    )


#: the TsGroup metadata column that carries a train's ``unit_groups`` (phy's good/mua labels)
GROUP_COLUMN = "unit_group"


def to_tsgroup(spikes: SpikeTrain) -> Any:
    """A pynapple ``TsGroup`` of ``spikes``: unit ``i`` under its id (``metadata["unit_ids"]``
    where they are distinct whole numbers in ascending order, pynapple's key order; else ``i``)
    with its group (``metadata["unit_groups"]``) in the column :data:`GROUP_COLUMN`, trials one
    after another (see the module docstring), times in seconds."""
    nap = _nap()
    keys = _keys(spikes.metadata.get("unit_ids"), spikes.n_units)
    groups = spikes.metadata.get("unit_groups")
    columns = {}
    if isinstance(groups, list) and len(groups) == spikes.n_units:
        columns[GROUP_COLUMN] = [str(g) for g in groups]
    dt_s = spikes.dt / 1000.0
    period = (spikes.n_steps + 1) * dt_s
    seconds = spikes.trials * period + spikes.times * dt_s
    starts = np.arange(spikes.n_trials) * period
    support = nap.IntervalSet(start=starts, end=starts + spikes.n_steps * dt_s)
    return nap.TsGroup(
        {
            key: nap.Ts(t=np.sort(seconds[spikes.units == i]), time_support=support)
            for i, key in enumerate(keys)
        },
        time_support=support,
        metadata=columns or None,
    )


def _keys(ids: Any, n_units: int) -> list[int]:
    """The TsGroup keys of ``n_units`` units: their ids where those are distinct whole numbers
    in ascending order (the order :func:`from_tsgroup` reads keys in), else 0..n-1."""
    ok = (
        isinstance(ids, list)
        and len(ids) == n_units
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ids)
        and all(a < b for a, b in zip(ids, ids[1:], strict=False))
    )
    return list(ids) if ok else list(range(n_units))
