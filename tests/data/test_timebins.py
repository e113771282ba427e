"""Binning spike times into steps and trials (infodyn.data.timebins): [start, stop) trials,
closed trials of unequal length, and the recording named in errors."""

import warnings

import pytest

from infodyn.data.timebins import TimedTrial, bin_trials
from infodyn.errors import InputError


def _bin(trials, n_units=1):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = bin_trials(trials, n_units, 1.0, source="rec")
    return s, [str(w.message) for w in caught]


def test_a_spike_at_the_stop_of_an_open_trial_is_dropped():  # kills T07
    """[start, stop): stop 10.5 ms gives ceil(10.5) = 11 steps; a spike at 10.5 ms (step 10,
    inside the step range) lies at the stop and is dropped, one at 10.4 ms is kept in step 10."""
    s, warned = _bin([TimedTrial([0.0105, 0.0104], [0, 0], start=0.0, stop=0.0105)])
    assert s.n_steps == 11
    assert s.times.tolist() == [10]
    assert s.metadata["binning"]["dropped_outside_trials"] == 1
    assert any("1 spikes lie outside every trial" in w for w in warned)


def test_closed_trials_of_unequal_length_drop_spikes_after_their_own_stop():  # kills T08
    """Trial 0 is [0, 5] ms, trial 1 [0, 10] ms (closed): n_steps is the longest, 10, but a spike
    at 7 ms of trial 0 lies after that trial's stop and is dropped; one at 5 ms (its stop) is
    kept in its last step, 4."""
    s, warned = _bin(
        [
            TimedTrial([0.007, 0.005], [0, 0], start=0.0, stop=0.005, closed=True),
            TimedTrial([0.007], [0], start=0.0, stop=0.010, closed=True),
        ]
    )
    assert (s.n_trials, s.n_steps) == (2, 10)
    assert list(zip(s.trials.tolist(), s.times.tolist(), strict=True)) == [(0, 4), (1, 7)]
    assert s.metadata["binning"]["dropped_outside_trials"] == 1
    assert any("1 spikes lie outside every trial" in w for w in warned)


def test_a_unit_index_past_n_units_is_refused_naming_the_recording():  # kills T13
    """bin_trials: unit indices must lie in [0, n_units); the error names the recording
    (``source``), not only the SpikeTrain built from it."""
    with pytest.raises(InputError, match=r"^rec: spike unit indices must lie in \[0, 2\)"):
        bin_trials([TimedTrial([0.001, 0.002], [0, 2])], 2, 1.0, source="rec")


def test_coarse_bins_move_no_spike_by_more_than_a_nanosecond():
    """The rounding tolerance was 1e-6 of a bin at every dt: with dt = 1000 s, spikes in the last
    millisecond before a trial's stop were dropped and one 0.5 ms before a bin edge moved to the
    next bin. It is now at most 1 ns; at dt <= 1 ms it is unchanged (1e-6 of a bin)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing dropped, nothing merged
        s = bin_trials(
            [TimedTrial([999.9995, 1999.9995], [0, 1], start=0.0, stop=2000.0)], 2, 1e6, source="r"
        )
    assert (s.n_steps, s.times.tolist(), s.units.tolist()) == (2, [0, 1], [0, 1])
    s, _ = _bin([TimedTrial([0.003 - 1e-10], [0])])  # at 1 ms a spike 1e-7 bin early is on 3
    assert s.times.tolist() == [3]


def test_trials_of_unequal_length_are_said_to_be_padded():
    """Trials of 100 and 1000 ms: every trial is n_steps long, so a unit firing at 100 Hz in both
    read 55 Hz with no word. The padding is now warned about and its range kept."""
    spikes = [i / 100 for i in range(10)], [1 + i / 100 for i in range(100)]
    trials = [
        TimedTrial(t, [0] * len(t), start=start, stop=stop)
        for t, start, stop in zip(spikes, (0.0, 1.0), (0.1, 2.0), strict=True)
    ]
    s, warned = _bin(trials)
    assert s.n_steps == 1000 and s.metadata["binning"]["trial_steps_range"] == [100, 1000]
    assert any(
        "trials last 100 to 1000 steps of 1.0 ms; the 1 shorter one(s) are pad" in w for w in warned
    )
    same, warned = _bin([TimedTrial(t, [0] * len(t), start=1.0, stop=2.0) for t in spikes[1:] * 2])
    assert not warned and "trial_steps_range" not in same.metadata["binning"]
