"""Spike trains and spike files: round trips, streaming, corrupt and bad input."""

import warnings

import numpy as np
import pytest

import infodyn as idn
from infodyn import InputError
from infodyn.data import SpikeTrain, SpikeWriter, load_spikes, save_spikes
from infodyn.data.binning import spike_source


def _raster(seed=0, shape=(3, 200, 15), p=0.05):
    return (np.random.default_rng(seed).random(shape) < p).astype(np.uint8)


def test_dense_sparse_round_trip_and_views():
    r = _raster()
    s = SpikeTrain.from_dense(r, dt=0.5)
    np.testing.assert_array_equal(s.to_dense(), r)
    np.testing.assert_array_equal(s.population_activity(), r.sum(axis=2))
    np.testing.assert_array_equal(s.spike_counts(), r.sum(axis=(0, 1)))
    np.testing.assert_allclose(s.rates_hz(), r.mean(axis=(0, 1)) * 1000.0 / 0.5)
    chunks = np.concatenate([c for _, _, c in s.iter_dense(64)], axis=0)
    np.testing.assert_array_equal(chunks, r.reshape(-1, 15))
    sub = s.select_units([3, 1])
    np.testing.assert_array_equal(sub.to_dense(), r[:, :, [3, 1]])


@pytest.mark.parametrize("suffix", [".h5", ".hdf5"])
def test_hdf5_round_trip_with_metadata(tmp_path, suffix):
    s = SpikeTrain.from_dense(_raster(), dt=0.25, metadata={"animal": "m1", "area": "V1"})
    path = save_spikes(tmp_path / f"s{suffix}", s)
    back = load_spikes(path)
    np.testing.assert_array_equal(back.to_dense(), s.to_dense())
    assert (back.dt, back.n_trials, back.n_steps, back.n_units) == (0.25, 3, 200, 15)
    assert back.metadata == {"animal": "m1", "area": "V1"}


def test_npz_dense_and_sparse(tmp_path):
    r = _raster(shape=(100, 6))
    np.savez(tmp_path / "dense.npz", raster=r, dt=2.0)
    s = load_spikes(tmp_path / "dense.npz")
    assert s.dt == 2.0 and s.n_trials == 1
    np.testing.assert_array_equal(s.to_dense()[0], r)
    t, u = np.nonzero(r)
    np.savez(tmp_path / "sparse.npz", times=t, units=u, n_units=6, n_steps=100)
    np.testing.assert_array_equal(load_spikes(tmp_path / "sparse.npz").to_dense()[0], r)


def test_spike_writer_streams_and_is_atomic(tmp_path):
    path = tmp_path / "w.h5"
    with SpikeWriter(path, n_units=4, dt=1.0, n_steps=10) as w:
        w.append([0, 1], [2, 3])
        assert not path.exists(), "the final file must not appear before the run completes"
        w.append([5], [0])
    s = load_spikes(path)
    np.testing.assert_array_equal(s.times, [0, 1, 5])
    assert s.n_steps == 10

    failed = tmp_path / "failed.h5"
    with pytest.raises(RuntimeError):
        with SpikeWriter(failed, n_units=4) as w:
            w.append([0], [1])
            raise RuntimeError("simulated crash")
    assert not failed.exists()
    assert not list(tmp_path.glob(".failed.h5*")), "no temporary file may be left behind"


@pytest.mark.parametrize(
    "raster, match",
    [
        (np.array([[0, 2], [1, 0]]), "binary"),
        (np.array([[0.0, np.nan]]), "NaN"),
        (np.zeros((0, 3)), "empty"),
        (np.zeros(5), "n_steps"),
    ],
)
def test_bad_rasters(raster, match):
    with pytest.raises(InputError, match=match):
        SpikeTrain.from_dense(raster)


def test_bad_sparse_fields():
    # the value out of range is named (a negative time was said against n_steps alone)
    with pytest.raises(InputError, match=r"times must lie in \[0, n_steps=5\), got 5$"):
        SpikeTrain(times=[5], units=[0], n_units=1, n_steps=5)
    with pytest.raises(InputError, match=r"times must lie in \[0, n_steps=5\), got -2$"):
        SpikeTrain(times=[-2, 9], units=[0, 0], n_units=1, n_steps=5)
    with pytest.raises(InputError, match=r"units must lie in \[0, n_units=1\), got -1$"):
        SpikeTrain(times=[0], units=[-1], n_units=1, n_steps=5)
    with pytest.raises(InputError, match=r"trials must lie in \[0, n_trials=1\), got 3$"):
        SpikeTrain(times=[0], units=[0], trials=[3], n_units=1, n_steps=5)
    with pytest.raises(InputError, match="differ in length"):
        SpikeTrain(times=[0, 1], units=[0], n_units=1, n_steps=5)
    with pytest.raises(InputError, match="integers"):
        SpikeTrain(times=[0.5], units=[0], n_units=1, n_steps=5)
    with pytest.raises(InputError, match="dt"):
        SpikeTrain(times=[], units=[], n_units=1, n_steps=5, dt=0.0)


def test_missing_corrupt_and_unknown_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_spikes(tmp_path / "nope.h5")
    (tmp_path / "bad.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(InputError, match="not a readable HDF5"):
        load_spikes(tmp_path / "bad.h5")
    import h5py

    with h5py.File(tmp_path / "other.h5", "w") as h5:
        h5["x"] = [1, 2]
    with pytest.raises(InputError, match="not an infodyn spike file"):
        load_spikes(tmp_path / "other.h5")
    (tmp_path / "bad.npz").write_bytes(b"PK garbage")
    with pytest.raises(InputError, match="NPZ"):
        load_spikes(tmp_path / "bad.npz")
    np.savez(tmp_path / "keys.npz", something=np.zeros(3))
    with pytest.raises(InputError, match="raster"):
        load_spikes(tmp_path / "keys.npz")
    (tmp_path / "s.csv").write_text("1,2")
    with pytest.raises(InputError, match="no spike trains readable by Neo"):
        load_spikes(tmp_path / "s.csv")
    with pytest.raises(InputError, match="folder"):
        load_spikes(tmp_path)


def test_trace_to_spike_train():
    net = idn.network.LIF(n_in=5, n_rec=8, n_out=1, in_scale=5.0)
    x = idn.network.poisson_spikes(50.0, 100, n_in=5, batch=2, frozen=False, seed=0)
    trace = net.simulate(net.init(seed=0), x, engine="jax")
    s = trace.spike_train()
    assert s.n_trials == 2 and s.n_steps == 100
    np.testing.assert_array_equal(s.to_dense(), trace.z.astype(np.uint8))


def test_a_repeated_spike_is_kept_once_with_a_warning(tmp_path):
    # a unit spikes at most once a step: a repeat counted twice in the rates (400 Hz for one
    # spike in 5 ms) while the raster showed one spike
    with pytest.warns(UserWarning, match="1 spikes repeat a spike of the same unit"):
        s = SpikeTrain(times=[2, 1, 1], units=[1, 0, 0], n_units=2, n_steps=5)
    assert s.n_spikes == 2 and s.times.tolist() == [1, 2] and s.units.tolist() == [0, 1]
    np.testing.assert_allclose(s.rates_hz(), [200.0, 200.0])
    np.testing.assert_array_equal(s.rates_hz(), s.to_dense().mean((0, 1)) * 1000.0)
    # the same spike in two trials is no repeat
    two = SpikeTrain(times=[1, 1], units=[0, 0], trials=[0, 1], n_units=1, n_steps=5, n_trials=2)
    assert two.n_spikes == 2
    np.savez(tmp_path / "d.npz", times=np.array([3, 3, 3]), units=np.array([0, 0, 0]))
    with pytest.warns(UserWarning, match="2 spikes repeat"):
        assert load_spikes(tmp_path / "d.npz").n_spikes == 1


def test_npz_trials_without_n_trials_count_the_trials(tmp_path):  # kills S13
    """Sparse NPZ keys: times, units and optional trials; n_trials defaults to the trials
    listed (largest + 1), as n_units and n_steps default to theirs."""
    np.savez(tmp_path / "s.npz", times=[0, 3, 1], units=[1, 0, 0], trials=[0, 2, 2])
    s = load_spikes(tmp_path / "s.npz")
    assert (s.n_trials, s.n_steps, s.n_units) == (3, 4, 2)
    assert list(zip(s.trials.tolist(), s.times.tolist(), s.units.tolist(), strict=True)) == [
        (0, 0, 1),
        (2, 1, 0),
        (2, 3, 0),
    ]


def test_hdf5_file_of_another_format_is_refused(tmp_path):  # kills F11
    """_open_h5 checks format == "infodyn-spikes": a file with the same layout but another
    format attribute is not read as spikes."""
    import h5py

    path = save_spikes(
        tmp_path / "s.h5", SpikeTrain(times=[0, 2, 4, 9], units=[0, 1, 0, 0], n_units=3, n_steps=10)
    )
    with h5py.File(path, "r+") as h5:
        h5.attrs["format"] = "other-spikes"
    with pytest.raises(InputError, match="not an infodyn spike file"):
        load_spikes(path)
    with h5py.File(path, "r+") as h5:  # the attributes on /spikes: it said "missing format
        h5["spikes"].attrs["format"] = "infodyn-spikes"  # attribute" of one it had, elsewhere
        del h5.attrs["format"]
    with pytest.raises(InputError, match="root attribute format = 'infodyn-spikes'"):
        load_spikes(path)
    with pytest.raises(InputError, match="not an infodyn spike file"):
        with spike_source(path):
            pass


@pytest.mark.parametrize("chunk", [2.5, "4", None, True, 0])
def test_iter_dense_refuses_a_chunk_that_is_not_a_whole_number(chunk):
    # SpikeTrain.iter_dense(2.5) was a raw TypeError; SpikeReader.iter_dense said InputError
    train = SpikeTrain(times=[0, 3], units=[0, 1], n_units=2, n_steps=5)
    with pytest.raises(InputError, match="chunk_steps must be a whole number >= 1"):
        next(train.iter_dense(chunk))


def test_population_activity_of_a_huge_span_is_refused_before_allocating():
    """A loaded train (an NPZ) of 2^62 steps: NumPy's "array is too big" escaped as an internal
    error, where the same data as HDF5 got the one-line memory refusal."""
    from infodyn.memory import MemoryPreflightError

    s = SpikeTrain(times=np.array([0, 2**62 - 1]), units=np.array([0, 1]), n_units=2, n_steps=2**62)
    with pytest.raises(MemoryPreflightError, match="counts per step of 1 trial.* needs .* free"):
        s.population_activity()


@pytest.mark.parametrize("bad", ["text", [1, 2], 3])
def test_spike_metadata_must_be_a_table(bad, tmp_path):
    with pytest.raises(InputError, match="spike times must be a rectangular array"):
        SpikeTrain([[0, 1], [0]], [0, 0], n_units=1, n_steps=2)  # NumPy's ValueError
    # SpikeTrain kept metadata="text" and wrote it; SpikeWriter failed with dict()'s error
    with pytest.raises(InputError, match="metadata must be a table"):
        SpikeTrain(np.array([0]), np.array([0]), n_units=1, n_steps=2, metadata=bad)
    with pytest.raises(InputError, match="metadata must be a table"):
        SpikeTrain.from_dense(np.ones((2, 1)), metadata=bad)
    with pytest.raises(InputError, match="metadata must be a table"):
        SpikeWriter(tmp_path / "s.h5", n_units=1, dt=1.0, n_steps=2, metadata=bad)
    assert SpikeTrain(np.array([0]), np.array([0]), 1, 2, metadata=None).metadata == {}


def test_iter_spike_file_dense_is_true_or_false(tmp_path):
    from infodyn.data import iter_spike_file

    path = save_spikes(tmp_path / "s.h5", SpikeTrain(np.array([0]), np.array([0]), 1, 4))
    with pytest.raises(InputError, match="dense must be true or false"):
        iter_spike_file(path, 2, dense="no")  # read as true: rasters where spikes were asked


@pytest.mark.filterwarnings("error::DeprecationWarning")
@pytest.mark.parametrize("dtype", ["a", [], None, True])
def test_rasters_take_a_bool_integer_or_float_dtype(dtype):
    # "a" gave a raster of bytes (then NumPy 2's DeprecationWarning before the refusal), []
    # an empty structured type, None float64
    st = SpikeTrain(np.array([0]), np.array([0]), n_units=1, n_steps=2)
    with pytest.raises(InputError, match="dtype must be a bool, integer or float type"):
        st.to_dense(dtype)
    with pytest.raises(InputError, match="dtype must be a bool, integer or float type"):
        next(st.iter_dense(1, dtype))


@pytest.mark.parametrize("path", [None, 3, [], ""])
def test_paths_that_are_not_paths_are_one_line(path):
    # "expected str, bytes or os.PathLike object, not NoneType"
    from infodyn.data import SpikeReader

    with pytest.raises(InputError, match="path must be a file or folder path"):
        save_spikes(path, SpikeTrain(np.array([0]), np.array([0]), 1, 2))
    with pytest.raises(InputError, match="path must be a file or folder path"):
        SpikeReader(path)


def test_the_order_check_compares_across_its_blocks(monkeypatch):
    from infodyn.data import _repeats

    monkeypatch.setattr(_repeats, "ORDER_BLOCK", 4)
    times = np.arange(11, dtype=np.int64)
    units = np.zeros(11, np.int32)
    trials = np.zeros(11, np.int32)
    assert _repeats.strictly_in_order(trials, times, units)
    for at in (3, 4, 5, 10):  # within a block, on its last pair, across two, at the end
        bad = times.copy()
        bad[at] = bad[at - 1]  # a repeat of the spike before
        assert not _repeats.strictly_in_order(trials, bad, units), at
    assert _repeats.strictly_in_order(trials[:1], times[:1], units[:1])
    assert _repeats.strictly_in_order(trials[:0], times[:0], units[:0])


def test_a_loaded_train_keeps_the_files_arrays_and_peaks_near_their_size(tmp_path):
    """load_spikes of 1.85e8 spikes peaked at 3.5 times their 2.75 GiB: the order check's
    differences of the whole arrays and a copy of every array in its own type."""
    import tracemalloc

    rng = np.random.default_rng(0)
    n = 2_000_000
    times = np.sort(rng.integers(0, 10**6, n))
    units = rng.integers(0, 1000, n).astype(np.int32)
    times, units = np.unique(np.c_[times, units], axis=0).T
    path = save_spikes(tmp_path / "s.h5", SpikeTrain(times, units, n_units=1000, n_steps=10**6))
    tracemalloc.start()
    loaded = load_spikes(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    held = loaded.times.nbytes + loaded.units.nbytes + loaded.trials.nbytes
    assert peak < 1.4 * held, (peak, held)  # was 3.5 times
    assert not loaded.times.flags.writeable and not loaded.units.flags.writeable
    np.testing.assert_array_equal(loaded.times, times)
    # arrays a user gives are still copied: changing them later does not change the train
    mine = np.array([3, 1, 2], np.int64)
    train = SpikeTrain(mine, np.zeros(3, np.int32), n_units=1, n_steps=5)
    mine[:] = 0
    assert train.times.tolist() == [1, 2, 3] and train.times.flags.writeable


def test_select_units_selects_the_readers_per_unit_metadata():
    sp = SpikeTrain(
        times=[0, 1, 2],
        units=[0, 3, 4],
        n_units=5,
        n_steps=3,
        metadata={"unit_ids": [3, 7, 12, 40, 101], "unit_groups": list("abcde"), "seed": 1},
    )
    sub = sp.select_units([3, 0])  # unit 0 of sub is cluster 40 (it said 3)
    assert sub.metadata["unit_ids"] == [40, 3] and sub.metadata["unit_groups"] == ["d", "a"]
    assert sub.metadata["seed"] == 1 and sp.metadata["unit_ids"][0] == 3
    np.testing.assert_array_equal(sub.units, [1, 0])  # unit 0 at step 0, unit 3 at step 1


def test_spike_file_metadata_keeps_numpy_values_and_is_strict_json(tmp_path):
    import json

    import h5py

    meta = {"seed": np.int64(5), "unit_ids": np.arange(2000) * 3, "nan": float("nan")}
    sp = SpikeTrain(times=[1], units=[0], n_units=1, n_steps=5, metadata=meta)
    save_spikes(tmp_path / "m.h5", sp)
    back = load_spikes(tmp_path / "m.h5").metadata
    # NumPy values were stored as text: the ids as NumPy's truncated print '[   0    3 ...'
    assert back["seed"] == 5 and back["unit_ids"] == list(range(0, 6000, 3))
    assert back["nan"] is None  # strict JSON: no NaN token
    with h5py.File(tmp_path / "m.h5") as h5:
        json.loads(h5.attrs["metadata"], parse_constant=lambda c: pytest.fail(c))


def test_npz_unit_ids_read_as_indices_are_warned_about(tmp_path):
    np.savez(tmp_path / "ids.npz", times=[5, 2, 3], units=[5, 17, 5])
    with pytest.warns(UserWarning, match="2 distinct values up to 17.*16 of them silent"):
        sp = load_spikes(tmp_path / "ids.npz")
    assert sp.n_units == 18
    np.savez(tmp_path / "given.npz", times=[5, 2, 3], units=[5, 17, 5], n_units=40)
    np.savez(tmp_path / "dense.npz", times=[5, 2, 3], units=[0, 2, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_spikes(tmp_path / "given.npz").n_units == 40
        assert load_spikes(tmp_path / "dense.npz").n_units == 3
        empty = {"times": np.zeros(0, int), "units": np.zeros(0, int), "n_steps": 9}
        np.savez(tmp_path / "empty.npz", **empty, n_units=3)
        assert load_spikes(tmp_path / "empty.npz").n_spikes == 0  # ids were "1 of 1 silent"


def test_npz_messages_name_what_the_file_holds(tmp_path):
    # a length mismatch named "trials" the file did not hold (their default's length); float
    # trials were to be "step indices"; a raster beside times/units hid them without a word
    np.savez(tmp_path / "ragged.npz", times=[0, 1, 2], units=[0, 1])
    with pytest.raises(InputError, match=r"spike times and units differ in length: 3, 2$"):
        load_spikes(tmp_path / "ragged.npz")
    np.savez(tmp_path / "t.npz", times=[0, 1], units=[0, 1], trials=[0])
    with pytest.raises(InputError, match=r"times, units and trials differ in length: 2, 2, 1$"):
        load_spikes(tmp_path / "t.npz")
    np.savez(tmp_path / "f.npz", times=[1, 2], units=[0, 1], trials=[0, 0.5])
    with pytest.raises(InputError, match=r"spike trials must be integers \(trial indices\)"):
        load_spikes(tmp_path / "f.npz")
    np.savez(tmp_path / "b.npz", raster=np.eye(3, dtype=np.uint8), times=[1], units=[0])
    with pytest.warns(UserWarning, match=r"read its 'raster' array; times, units are not read"):
        assert load_spikes(tmp_path / "b.npz").n_units == 3


def test_an_empty_npz_without_its_size_is_refused(tmp_path):
    """Empty times and units without n_units and n_steps were read as 1 unit x 1 step in
    silence (and converted to such an HDF5 file); with the sizes the empty train is read."""
    np.savez(tmp_path / "e.npz", times=np.array([], int), units=np.array([], int))
    with pytest.raises(InputError, match=r"e.npz: holds no spikes and no n_units or n_steps: "):
        load_spikes(tmp_path / "e.npz")
    np.savez(tmp_path / "s.npz", times=[], units=[], n_units=4)
    with pytest.raises(InputError, match=r"no spikes and no n_steps: its size is unknown"):
        load_spikes(tmp_path / "s.npz")
    np.savez(tmp_path / "ok.npz", times=[], units=[], n_units=4, n_steps=10)
    sp = load_spikes(tmp_path / "ok.npz")
    assert (sp.n_units, sp.n_steps, sp.n_spikes) == (4, 10, 0)


def test_an_npz_declaring_more_than_fits_is_refused_from_its_headers(tmp_path, monkeypatch):
    """A compressed archive of 285 KB declared a raster of 3 x 10^8 zeros, read whole (964 MB)
    before any check; its members' headers say what it holds."""
    from infodyn.memory import MemoryPreflightError

    np.savez_compressed(tmp_path / "r.npz", raster=np.zeros((3000, 1000), np.uint8))
    np.savez_compressed(tmp_path / "e.npz", times=np.zeros(10**6, np.int64), units=np.zeros(10**6))
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "5M")
    assert (tmp_path / "r.npz").stat().st_size < 50_000
    with pytest.raises(
        MemoryPreflightError,
        match=r"r.npz: its 'raster' array \(2.86 MiB once decompressed\) and its checks needs "
        r"11.4 MiB but 5 MiB is free .*; free memory, or store the spikes as an infodyn HDF5",
    ):
        load_spikes(tmp_path / "r.npz")
    with pytest.raises(MemoryPreflightError, match=r"its spike times and units \(15.3 MiB once"):
        load_spikes(tmp_path / "e.npz")
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "100M")
    assert load_spikes(tmp_path / "r.npz").n_units == 1000
    # a float64 raster: its checks hold a byte an element, not 3 of each of its 8 (24 MB + 9)
    np.savez_compressed(tmp_path / "f.npz", raster=np.zeros((3000, 1000)))
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "40M")
    assert load_spikes(tmp_path / "f.npz").n_units == 1000
