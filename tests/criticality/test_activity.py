"""Population activity, Fano factor and global-rate variance."""

from __future__ import annotations

import numpy as np
import pytest

import infodyn.criticality as C
from infodyn.data.spikes import SpikeTrain, save_spikes
from infodyn.errors import InputError


def _spikes() -> SpikeTrain:
    # trial 0: steps 0,0,1,5 ; trial 1: steps 2,3,3,3
    return SpikeTrain(
        times=np.array([0, 0, 1, 5, 2, 3, 3, 3]),
        units=np.array([0, 1, 2, 0, 0, 1, 2, 3]),
        trials=np.array([0, 0, 0, 0, 1, 1, 1, 1]),
        n_units=4,
        n_steps=8,
        n_trials=2,
        dt=0.5,
    )


def test_counts_per_step_and_bins_keep_trials_apart():
    act = C.population_activity(_spikes())
    np.testing.assert_array_equal(act.counts, [[2, 1, 0, 0, 0, 1, 0, 0], [0, 0, 1, 3, 0, 0, 0, 0]])
    assert act.bin_ms == 0.5 and act.n_units == 4
    binned = C.population_activity(_spikes(), bin_ms=1.0)  # two steps per bin
    np.testing.assert_array_equal(binned.counts, [[3, 0, 1, 0], [0, 4, 0, 0]])
    assert binned.bin_ms == 1.0 and binned.bin_steps == 2
    np.testing.assert_array_equal(np.asarray(binned), binned.counts)


@pytest.mark.parametrize(("events", "steps"), [([0, 3, 5], 3), ([0, 4, 7], 4), ([0, 2, 3], 2)])
def test_iei_of_a_half_step_rounds_up(events, steps):
    """IEIs of 2.5, 3.5 and 1.5 steps give bins of 3, 4 and 2 steps (round() gave 2, 4, 2)."""
    a = np.zeros((1, events[-1] + 3))
    a[0, events] = 1
    assert C.population_activity(a, bin_ms="iei").bin_steps == steps


def test_iei_bin_width_from_spikes_and_arrays(tmp_path):
    sp = _spikes()
    # trial 0 spans 5 steps over 3 intervals, trial 1 spans 1 step over 3 intervals
    iei = (5 + 1) * 0.5 / 6
    assert C.mean_interevent_interval(sp) == pytest.approx(iei)
    act = C.population_activity(sp, bin_ms="iei")
    assert act.info["mean_iei_ms"] == pytest.approx(iei)
    assert act.bin_ms == 0.5  # IEI < dt -> one step
    counts = sp.population_activity()
    arr = C.population_activity(counts, bin_ms="iei", dt=0.5)
    assert arr.info["mean_iei_ms"] == pytest.approx(iei)
    path = tmp_path / "s.h5"
    save_spikes(path, sp)
    np.testing.assert_array_equal(C.population_activity(path).counts, counts)


def test_raster_and_unit_subset():
    sp = _spikes()
    dense = sp.to_dense()
    np.testing.assert_array_equal(C.population_activity(dense).counts, sp.population_activity())
    sub = C.population_activity(sp, units=[0])
    np.testing.assert_array_equal(sub.counts.sum(axis=1), [2, 1])


@pytest.mark.parametrize(
    "bad",
    [
        np.array([1, -1, 2]),
        np.array([1.0, np.nan]),
        np.zeros((0,)),
        np.zeros((2, 2, 2, 2)),
        np.array([0.5, 1.0]),
    ],
)
def test_bad_arrays_raise(bad):
    with pytest.raises(InputError):
        C.population_activity(bad)


def test_bad_bin_raises():
    with pytest.raises(InputError):
        C.population_activity(np.ones(10), bin_ms="median")
    with pytest.raises(InputError):
        C.population_activity(np.ones(10), bin_ms=-1.0)


def test_fano_factor_of_one_bin_is_undefined():
    # it read 0.0 (the variance of one value), the Fano factor of a perfectly regular process
    with pytest.warns(C.CriticalityWarning, match="only one bin: no variance"):
        assert np.isnan(C.fano_factor(np.array([7.0])))
    with pytest.warns(C.CriticalityWarning, match="only one bin per trial"):
        assert np.all(np.isnan(C.fano_factor(np.array([[7.0], [3.0]]), per_trial=True)))
    assert C.fano_factor(np.array([[7.0], [3.0]])) == pytest.approx(4.0 / 5.0)  # pooled: 2 bins


def test_fano_factor_matches_branching_theory():
    m = 0.9
    a = C.simulate_branching_process(m, 5.0, 50_000, trials=4, seed=2)
    assert C.fano_factor(a) == pytest.approx(1 / (1 - m**2), rel=0.06)
    # Poisson input alone (m = 0) has Fano factor 1
    assert C.fano_factor(C.simulate_branching_process(0.0, 5.0, 50_000, seed=3)) == pytest.approx(
        1.0, rel=0.03
    )
    with pytest.warns(C.CriticalityWarning):
        assert np.isnan(C.fano_factor(np.zeros(10)))


def test_global_rate_variance_is_the_deck_formula():
    rng = np.random.default_rng(0)
    a = rng.poisson(3.0, size=(3, 200))
    s_trials = C.global_rate_variance(a, per_trial=True)
    by_hand = [np.sum((row - row.mean()) ** 2) / row.size for row in a]
    np.testing.assert_allclose(s_trials, by_hand)
    assert C.global_rate_variance(a) == pytest.approx(np.mean(by_hand))
    # in Hz: r = A / (N dt / 1000)
    hz = C.global_rate_variance(a, n_units=50, dt_ms=2.0)
    assert hz == pytest.approx(np.mean(by_hand) / (50 * 2.0 / 1000) ** 2)
    with pytest.raises(InputError):
        C.global_rate_variance(a, n_units=50)


def test_global_rate_variance_of_one_bin_a_trial_is_nan_with_a_warning():
    """The variance about each trial's own mean of one bin was 0 (the pipeline reported
    global_rate_variance_hz2 = 0.0 for branching bins as long as its trials)."""
    a = np.random.default_rng(0).poisson(3.0, size=(20, 1)).astype(float)
    with pytest.warns(C.CriticalityWarning, match="one bin a trial"):
        assert np.isnan(C.global_rate_variance(a, n_units=10, dt_ms=40.0))
    with pytest.warns(C.CriticalityWarning, match="one bin a trial"):
        assert np.isnan(C.global_rate_variance(a, per_trial=True)).all()


def test_global_rate_variance_takes_the_bin_width_the_activity_carries():
    # dt_ms = 1 over bins of 5 ms gave a variance 25 times too large, unremarked
    raster = (np.random.default_rng(1).random((2, 1000, 40)) < 0.02).astype(float)
    act = C.population_activity(raster, bin_ms=5.0)
    assert act.bin_ms == 5.0 and act.n_units == 40
    by_hand = np.mean((act.counts / (40 * 5.0 / 1000)).var(axis=1))
    assert C.global_rate_variance(act, n_units=40, dt_ms=5.0) == pytest.approx(by_hand)
    assert C.global_rate_variance(act, n_units=40) == pytest.approx(by_hand)
    assert C.global_rate_variance(act, dt_ms=5.0) == pytest.approx(by_hand)
    with pytest.raises(InputError, match="dt_ms = 1 ms contradicts the activity's own bin width"):
        C.global_rate_variance(act, n_units=40, dt_ms=1.0)


def test_bad_rasters_and_rate_options_are_refused_before_any_number():
    """From a fuzz of the public API: a 3-D raster was summed before it was checked (a -1
    beside a 1 gave a count of 0), counts of 1e300 became avalanche sizes of -2^63, and
    global_rate_variance took 1.5 units, inf units or an infinite bin."""
    raster = np.zeros((2, 100, 5))
    raster[0, 0, 2], raster[0, 0, 3] = 1, -1
    with pytest.raises(InputError, match="the raster contains negative counts"):
        C.population_activity(raster)
    with pytest.raises(InputError, match="the raster has no units"):
        C.population_activity(np.zeros((2, 100, 0)))
    huge = np.zeros((1, 50))
    huge[0, 10:13] = 1e300
    with pytest.raises(InputError, match="2\\^53 or more"):
        C.avalanches(huge)
    with pytest.raises(InputError, match="2\\^53 or more"):
        C.population_activity(huge[:, :, None] * np.ones(3))
    act = C.simulate_branching_process(0.9, 1.0, 300, trials=2, seed=0)
    for kwargs, message in [
        ({"n_units": 1.5, "dt_ms": 1.0}, "n_units must be a whole number"),
        ({"n_units": True, "dt_ms": 1.0}, "n_units must be a whole number"),
        ({"n_units": 10, "dt_ms": float("inf")}, "dt_ms must be a finite number"),
        ({"n_units": 10, "dt_ms": "1"}, "dt_ms must be a finite number"),
    ]:
        with pytest.raises(InputError, match=message):
            C.global_rate_variance(act, **kwargs)
    assert C.global_rate_variance(act, n_units=10, dt_ms=1.0) > 0


@pytest.mark.parametrize("dt", ["3", "a", {}, True, -1.0])
def test_a_dt_that_is_no_positive_number_is_refused_for_spike_trains_too(dt):
    # for a SpikeTrain (or a spike file) dt was compared with np.isclose: text raised NumPy's
    # UFuncTypeError, a dict a TypeError
    spikes = SpikeTrain(times=np.array([1, 2]), units=np.array([0, 1]), n_units=2, n_steps=5)
    with pytest.raises(InputError, match="dt must be a positive number of ms"):
        C.population_activity(spikes, dt=dt)


def test_a_trace_is_read_by_its_raster_and_a_raster_as_counts_warns():
    """A simulation's Trace is its raster summed over units, one bin per step, in every
    function; the raster ``trace.z`` itself, a 2-D array of 0s and 1s, is read as (trials, T)
    counts (the documented meaning of 2-D) with a warning instead of in silence (it gave
    thousands of avalanches of nothing); a path says which call reads it."""
    import warnings

    import infodyn.network as N
    from infodyn.criticality import CriticalityWarning, avalanches, branching_ratio

    net = N.LIF(n_in=5, n_rec=60, in_scale=3.0)
    x = (np.random.default_rng(0).random((400, 5)) < 0.02).astype(float)
    trace = net.simulate(net.init(0), x)
    counts = np.asarray(trace.z).sum(axis=1)
    assert counts.sum() > 100
    with warnings.catch_warnings():
        warnings.simplefilter("error", CriticalityWarning)
        pa = C.population_activity(trace)
        np.testing.assert_array_equal(pa.counts, counts[None])
        assert pa.n_units == 60 and pa.bin_ms == net.dt
        some = C.population_activity(trace, units=[0, 5, 7])
        np.testing.assert_array_equal(some.counts[0], np.asarray(trace.z)[:, [0, 5, 7]].sum(1))
        assert some.n_units == 3
        np.testing.assert_array_equal(avalanches(trace).sizes, avalanches(counts).sizes)
        assert avalanches(trace).n > 5
    with pytest.warns(CriticalityWarning, match="holds only 0s and 1s"):
        avalanches(trace.z)
    with pytest.warns(CriticalityWarning, match="pass the Trace itself"):
        C.population_activity(np.asarray(trace.z))
    for call in (avalanches, branching_ratio):
        with pytest.raises(InputError, match="read a spike file with population_activity"):
            call("big.h5")
    sparse_counts = (np.random.default_rng(1).random((5, 20000)) < 0.02).astype(int)
    with warnings.catch_warnings():  # counts of a few trials: far more steps than trials
        warnings.simplefilter("error", CriticalityWarning)
        avalanches(sparse_counts)
    with pytest.warns(CriticalityWarning, match="holds only 0s and 1s") as caught:
        avalanches(trace.z)
    assert caught[0].filename == __file__  # it points at the line that passed the raster


def test_an_activity_is_rebinned_in_its_own_bins():
    """Its 5-ms bins were read as 1-ms steps: a 10-ms request gave 50-ms bins labelled 10 ms, and
    its inter-event interval was 5 times too short."""
    x = np.random.default_rng(0).poisson(0.3, (2, 1000))
    five = C.population_activity(x, bin_ms=5)
    ten = C.population_activity(five, bin_ms=10)
    np.testing.assert_array_equal(ten.counts, C.population_activity(x, bin_ms=10).counts)
    assert ten.bin_ms == 10 and ten.bin_steps == 10
    direct = C.population_activity(x, bin_ms="iei").info["mean_iei_ms"]
    assert C.population_activity(five, bin_ms="iei").info["mean_iei_ms"] == pytest.approx(
        direct, rel=0.05
    )
    with pytest.raises(InputError, match="whole multiple of the time step dt=5 ms"):
        C.population_activity(five, bin_ms=7)
    with pytest.raises(InputError, match="omit dt"):
        C.population_activity(five, dt=1.0)
