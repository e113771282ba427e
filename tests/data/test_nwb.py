"""NWB round trip with metadata, foreign NWB files binned against NumPy, clear errors."""

import warnings
from datetime import UTC, datetime

import numpy as np
import pynwb  # the nwb extra is part of the test extra: this check must run, not skip
import pytest

from infodyn.data.io import load_spikes
from infodyn.data.nwb import load_nwb_spikes, save_nwb_spikes
from infodyn.data.spikes import SpikeTrain
from infodyn.errors import InputError

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _spikes(seed=0, n_trials=3, n_steps=400, n_units=7, dt=0.5):
    rng = np.random.default_rng(seed)
    raster = rng.random((n_trials, n_steps, n_units)) < 0.03
    raster[:, :, 3] = False  # a silent unit must survive the round trip
    meta = {"network": {"n_rec": n_units, "tau_m": 30.0}, "seed": seed, "engine": "jax"}
    return SpikeTrain.from_dense(raster, dt=dt, metadata=meta)


def test_round_trip_with_metadata(tmp_path):
    spikes = _spikes()
    path = save_nwb_spikes(
        tmp_path / "run.nwb",
        spikes,
        session_start_time=START,
        experimenter="A. Tester",
        unit_columns={"cell_type": ["exc"] * 5 + ["inh"] * 2},
    )
    back = load_spikes(path)  # dispatches .nwb to load_nwb_spikes
    np.testing.assert_array_equal(back.times, spikes.times)
    np.testing.assert_array_equal(back.units, spikes.units)
    np.testing.assert_array_equal(back.trials, spikes.trials)
    assert (back.n_units, back.n_steps, back.n_trials, back.dt) == (7, 400, 3, 0.5)
    assert {k: v for k, v in back.metadata.items() if k != "nwb"} == spikes.metadata
    assert back.metadata["nwb"]["session_start_time"].startswith("2024-05-01T12:00:00")

    # independent check with pynwb itself: NWB conventions (seconds, trials, ids, columns)
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        assert list(nwb.units.id.data[:]) == list(range(7))
        assert list(nwb.units["cell_type"].data[:]) == ["exc"] * 5 + ["inh"] * 2
        assert nwb.experimenter == ("A. Tester",)
        trials = nwb.trials.to_dataframe()
        np.testing.assert_allclose(trials["start_time"], [0.0, 0.2, 0.4])
        u0 = np.asarray(nwb.units.get_unit_spike_times(0))
    sel = spikes.units == 0
    expected = (spikes.trials[sel] * 400 + spikes.times[sel]) * 0.5 / 1000.0
    np.testing.assert_allclose(np.sort(u0), np.sort(expected))


def _foreign_file(path, unit_times, trials=None):
    nwb = pynwb.NWBFile(
        session_description="recorded", identifier="rec-1", session_start_time=START
    )
    if trials is not None:
        for start, stop in trials:
            nwb.add_trial(start_time=start, stop_time=stop)
    for i, t in enumerate(unit_times):
        nwb.add_unit(spike_times=t, id=100 + i)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def test_foreign_file_binned_like_numpy_histogram(tmp_path):
    rng = np.random.default_rng(3)
    unit_times = [np.sort(rng.uniform(0.0, 2.0, size=n)) for n in (30, 0, 55)]
    path = _foreign_file(tmp_path / "rec.nwb", unit_times)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a merge of two spikes in one bin is allowed here
        spikes = load_nwb_spikes(path, dt=2.0)
    assert spikes.n_units == 3 and spikes.n_trials == 1 and spikes.dt == 2.0
    assert spikes.metadata["nwb_unit_ids"] == [100, 101, 102]
    dense = spikes.to_dense()[0]
    for u, t in enumerate(unit_times):
        counts, _ = np.histogram(t, bins=np.arange(spikes.n_steps + 1) * 0.002)
        np.testing.assert_array_equal(dense[:, u], np.minimum(counts, 1))


def test_trials_merging_and_dropping_are_reported(tmp_path):
    times = [np.array([0.0105, 0.0109, 0.5, 1.2]), np.array([1.05])]
    path = _foreign_file(tmp_path / "tr.nwb", times, trials=[(0.0, 0.1), (1.0, 1.1)])
    with pytest.warns(UserWarning) as rec:
        spikes = load_nwb_spikes(path, dt=1.0)
    messages = " ".join(str(w.message) for w in rec)
    assert "outside every trial" in messages and "merged" in messages
    assert spikes.n_trials == 2 and spikes.n_steps == 100
    assert spikes.metadata["nwb_binning"] == {
        "dropped_outside_trials": 2,
        "merged": 1,
        "repeated": 0,
    }
    triples = zip(spikes.trials.tolist(), spikes.times.tolist(), spikes.units.tolist(), strict=True)
    got = sorted(triples)
    assert got == [(0, 10, 0), (1, 50, 1)]  # 0.5 s lies between the trials; 1.2 s after them


def test_a_saved_copy_describes_its_own_file_and_read(tmp_path):
    """A train read from one NWB file and saved to another kept, when read back, the first
    file's source, identifier and binning notes (2 spikes dropped) as its own."""
    times = [np.array([0.0105, 0.0109, 0.5, 1.2]), np.array([1.05])]
    first = _foreign_file(tmp_path / "tr.nwb", times, trials=[(0.0, 0.1), (1.0, 1.1)])
    with pytest.warns(UserWarning, match="outside every trial"):
        spikes = load_nwb_spikes(first, dt=1.0)
    copy = save_nwb_spikes(tmp_path / "copy.nwb", spikes, identifier="copy-1")
    again = load_nwb_spikes(copy, dt=1.0)
    assert again.metadata["nwb"]["source"] == str(copy)
    assert again.metadata["nwb"]["identifier"] == "copy-1"
    origin = again.metadata["nwb_origin"]  # the recording read first, and what reading it did
    assert origin == {**spikes.metadata["nwb"], "binning": spikes.metadata["nwb_binning"]}
    assert "nwb_binning" not in again.metadata  # nothing was dropped reading the copy
    twice = load_nwb_spikes(save_nwb_spikes(tmp_path / "copy2.nwb", again), dt=1.0)
    assert twice.metadata["nwb_origin"]["source"] == str(first)


def test_file_without_units_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.nwb"
    nwb = pynwb.NWBFile(session_description="x", identifier="y", session_start_time=START)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    with pytest.raises(InputError, match="no units table"):
        load_spikes(path)
    bad = tmp_path / "bad.nwb"
    bad.write_text("not hdf5")
    with pytest.raises(InputError, match="not a readable NWB file"):
        load_spikes(bad)


def test_select_units_and_bad_column(tmp_path):
    spikes = _spikes(n_trials=1)
    path = save_nwb_spikes(tmp_path / "s.nwb", spikes, session_start_time=START)
    sub = load_nwb_spikes(path, units=[4, 0])
    ref = spikes.select_units([4, 0])
    np.testing.assert_array_equal(sub.to_dense(), ref.to_dense())
    text = load_nwb_spikes(path, units="4,0-1")  # a text names the sorted set, as elsewhere
    np.testing.assert_array_equal(text.to_dense(), spikes.select_units([0, 1, 4]).to_dense())
    # these went past the reader's own check: a repeat became a fake silent unit, 1.9 was row 1
    for bad, why in (([1, 1], "unit 1 more than once"), ([1.9], "whole numbers")):
        with pytest.raises(InputError, match=why):
            load_nwb_spikes(path, units=bad)
    for dt in (True, -1.0):  # True was taken as 1 ms
        with pytest.raises(InputError, match="dt must be a positive number of ms"):
            load_nwb_spikes(path, dt=dt)
    with pytest.raises(InputError, match="unit column"):
        save_nwb_spikes(tmp_path / "t.nwb", spikes, unit_columns={"x": [1, 2]})
    # written as NWB under any name, then unreadable: load_spikes reads NWB by its suffix
    with pytest.raises(InputError, match=r"rt.txt: save_nwb_spikes writes NWB; name the file"):
        save_nwb_spikes(tmp_path / "rt.txt", spikes)
    assert not (tmp_path / "rt.txt").exists()


def test_analyses_read_nwb_paths(tmp_path):
    """An analysis given an .nwb path sees exactly the spikes that were saved."""
    from infodyn.criticality import population_activity

    spikes = _spikes(n_trials=2)
    path = save_nwb_spikes(tmp_path / "a.nwb", spikes, session_start_time=START)
    from_file = population_activity(path, bin_ms=2.0)
    direct = population_activity(spikes, bin_ms=2.0)
    np.testing.assert_array_equal(np.asarray(from_file.counts), np.asarray(direct.counts))


def test_trials_partial_last_bin_unsorted_and_bad_trials(tmp_path):
    # a 300 ms trial in 250 ms bins has two bins (the last partial), as bin_trials counts them:
    # round() gave one and dropped the spikes of the second as "outside every trial"
    path = _foreign_file(tmp_path / "p.nwb", [np.array([0.01, 0.29])], trials=[(0.0, 0.3)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing dropped
        spikes = load_nwb_spikes(path, dt=250.0)
    assert spikes.n_steps == 2 and spikes.times.tolist() == [0, 1]
    # trials listed out of time order keep their row numbers as trial ids; no spike is lost
    times = [np.array([0.005, 0.015, 0.025])]
    rows = [(0.02, 0.03), (0.0, 0.01), (0.01, 0.02)]
    path = _foreign_file(tmp_path / "u.nwb", times, trials=rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing dropped, nothing merged
        spikes = load_nwb_spikes(path, dt=1.0)
    assert sorted(zip(spikes.trials.tolist(), spikes.times.tolist(), strict=True)) == [
        (0, 5),
        (1, 5),
        (2, 5),
    ]
    assert spikes.metadata["trial_starts_s"] == [0.02, 0.0, 0.01]  # by row: trial ids (lost)
    path = _foreign_file(tmp_path / "o.nwb", times, trials=[(0.0, 0.02), (0.01, 0.03)])
    with pytest.raises(InputError, match="overlap"):
        load_nwb_spikes(path, dt=1.0)
    path = _foreign_file(tmp_path / "i.nwb", times, trials=[(0.0, np.inf)])
    with pytest.raises(InputError, match="non-finite start or stop"):
        load_nwb_spikes(path, dt=1.0)
    path = _foreign_file(tmp_path / "big.nwb", [np.array([1e300])])
    with pytest.raises(InputError, match="use a larger bin"):
        load_nwb_spikes(path, dt=1.0)


def test_spike_times_index_past_the_end_is_a_clear_error(tmp_path):
    """An index one past the spike times was an IndexError (a decreasing one a ValueError)."""
    import h5py

    path = save_nwb_spikes(tmp_path / "s.nwb", _spikes(n_trials=1), session_start_time=START)
    for change in (1, -1):
        bad = tmp_path / f"bad{change}.nwb"
        bad.write_bytes(path.read_bytes())
        with h5py.File(bad, "a") as h5:
            index = h5["units/spike_times_index"]
            values = index[...]
            values[-1] = int(values[-1]) + change
            index[...] = values
        with pytest.raises(InputError, match="spike_times_index does not partition its"):
            load_spikes(bad)


def test_repeated_unit_ids_are_warned_about(tmp_path):
    """An id column of one value loaded as that many units without a word."""
    import h5py

    path = save_nwb_spikes(tmp_path / "s.nwb", _spikes(n_trials=1), session_start_time=START)
    with h5py.File(path, "a") as h5:
        h5["units/id"][...] = 0
    with pytest.warns(UserWarning, match="the units table repeats ids .6 rows.; units are num"):
        got = load_spikes(path)
    assert got.n_units == 7 and got.metadata["nwb_unit_ids"] == [0] * 7


def test_an_infodyn_header_without_n_steps_bins_up_to_the_last_spike(tmp_path):
    """The header's n_steps is optional (_valid_info) but was read as info["n_steps"]: the file
    was then called corrupt (KeyError: 'n_steps')."""
    import json

    nwb = pynwb.NWBFile(session_description="x", identifier="x", session_start_time=START)
    nwb.add_unit(spike_times=[0.001, 0.0025], id=0)
    nwb.add_scratch(json.dumps({"dt_ms": 0.5}), name="infodyn", description="header")
    with pynwb.NWBHDF5IO(tmp_path / "h.nwb", "w") as io:
        io.write(nwb)
    got = load_nwb_spikes(tmp_path / "h.nwb")
    assert (got.dt, got.n_steps, got.times.tolist()) == (0.5, 6, [2, 5])


def test_trials_table_of_unequal_lengths_warns_of_the_padding(tmp_path):
    nwb = pynwb.NWBFile(session_description="x", identifier="x", session_start_time=START)
    nwb.add_trial(start_time=0.0, stop_time=0.1)
    nwb.add_trial(start_time=1.0, stop_time=2.0)
    nwb.add_unit(spike_times=[0.05, 1.5], id=0)
    with pynwb.NWBHDF5IO(tmp_path / "u.nwb", "w") as io:
        io.write(nwb)
    with pytest.warns(UserWarning, match="trials last 100 to 1000 steps of 1.0 ms; the 1 shor"):
        got = load_nwb_spikes(tmp_path / "u.nwb")
    assert got.metadata["nwb_binning"]["trial_steps_range"] == [100, 1000]


def test_units_do_not_change_the_recordings_length_and_trials_keep_their_own(tmp_path):
    """units= cut the recording at the selected units' last spike (3 steps, 667 Hz for 0.02);
    a spike within the tolerance before a shorter trial's stop landed in its padding."""
    path = _foreign_file(tmp_path / "u.nwb", [[0.5, 99.0], [0.001, 0.002]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = load_nwb_spikes(path).select_units([1])
        sub = load_nwb_spikes(path, units=[1])
    assert sub.n_steps == whole.n_steps == 99001
    np.testing.assert_array_equal(sub.rates_hz(), whole.rates_hz())
    edge = 0.29999999999999993  # below the stop of [0, 0.3), within the binning tolerance
    path = _foreign_file(tmp_path / "t.nwb", [[edge, 1.05]], trials=[(0.0, 0.3), (1.0, 1.5)])
    with pytest.warns(UserWarning, match="1 spike"):
        s = load_nwb_spikes(path)
    assert s.n_steps == 500 and list(zip(s.trials, s.times, strict=True)) == [(1, 50)]


def test_units_take_the_runs_per_unit_ids_with_them(tmp_path):
    """A file of infodyn's keeps its run's per-unit lists (phy cluster ids, groups): units=
    reordered the units but kept the lists whole, so unit 0 of units=[2, 1, 0] was labelled
    with row 0's cluster (and a subset lost its ids)."""
    spikes = _spikes(n_trials=1, n_units=5).select_units([0, 1, 2])
    spikes = SpikeTrain(
        times=spikes.times, units=spikes.units, trials=spikes.trials, n_units=3,
        n_steps=spikes.n_steps, dt=spikes.dt,
        metadata={"unit_ids": [2, 7, 11], "unit_groups": ["good", "mua", "good"]},
    )  # fmt: skip
    path = save_nwb_spikes(tmp_path / "phy.nwb", spikes, session_start_time=START)
    sub = load_nwb_spikes(path, units=[2, 1, 0])
    assert sub.metadata["unit_ids"] == [11, 7, 2]
    assert sub.metadata["unit_groups"] == ["good", "mua", "good"]
    np.testing.assert_array_equal(sub.spike_counts(), spikes.spike_counts()[[2, 1, 0]])
    assert load_nwb_spikes(path, units=[1]).metadata["unit_ids"] == [7]


def test_spikes_before_a_recording_without_trials_are_not_outside_trials(tmp_path):
    """A file without a trials table was told its spike at -0.5 s lay "outside every trial"."""
    path = _foreign_file(tmp_path / "neg.nwb", [np.array([-0.5, 0.0105, 0.02])])
    with pytest.warns(UserWarning, match=r"1 spikes lie outside the recording \(0 to 21 ms; the"):
        spikes = load_nwb_spikes(path, dt=1.0)
    assert spikes.times.tolist() == [10, 20]


def test_trial_starts_survive_an_nwb_round_trip(tmp_path):
    """save_nwb_spikes lays trials end to end from 0 s; the loader dropped the train's own
    trial_starts_s, so the session clock was lost in `infodyn convert x.nwb y.nwb`."""
    spikes = _spikes()
    starts = [10.0, 20.5, 31.0]
    spikes = SpikeTrain(
        times=spikes.times, units=spikes.units, trials=spikes.trials, n_units=7, n_steps=400,
        n_trials=3, dt=0.5, metadata={**spikes.metadata, "trial_starts_s": starts},
    )  # fmt: skip
    back = load_spikes(save_nwb_spikes(tmp_path / "s.nwb", spikes, session_start_time=START))
    assert back.metadata["trial_starts_s"] == starts
