"""Population activity of HDF5 spike files by streaming: equal to the loaded SpikeTrain's for every
bin option (``"iei"`` included), unit subsets and several trials, without loading the file; the
criticality and simulate runs give the same results and figures from a path as from the loaded
spikes."""

from __future__ import annotations

import json
import tracemalloc

import h5py
import numpy as np
import pytest

import infodyn as idn
import infodyn.criticality as C
import infodyn.data.io as io_mod
import infodyn.data.spikes as spikes_mod
from infodyn.criticality import activity as activity_mod
from infodyn.data.io import load_spikes
from infodyn.data.spikes import SpikeReader, SpikeTrain, SpikeWriter, save_spikes
from infodyn.errors import InputError


def _train(seed=0, shape=(3, 4000, 40), p=0.02, dt=0.5, silent_trial=1):
    """Spikes of ``shape`` (trials, steps, units); one trial silent, unit 3 silent."""
    r = np.random.default_rng(seed).random(shape) < p
    if silent_trial is not None:
        r[silent_trial] = False
    r[:, :, 3] = False
    return SpikeTrain.from_dense(r, dt=dt)


def _write_unordered(path, s, chunk=97):
    """SpikeWriter appends in reverse chunk order: a file not in (trial, time) order."""
    with SpikeWriter(path, n_units=s.n_units, dt=s.dt, n_steps=s.n_steps, n_trials=s.n_trials) as w:
        for a in reversed(range(0, s.n_spikes, chunk)):
            b = min(a + chunk, s.n_spikes)
            for tr in np.unique(s.trials[a:b]):
                m = s.trials[a:b] == tr
                w.append(s.times[a:b][m], s.units[a:b][m], trial=int(tr))
    return path


def _same(a, b):
    assert a.counts.dtype == b.counts.dtype == np.int64
    np.testing.assert_array_equal(a.counts, b.counts)
    assert (a.bin_ms, a.bin_steps, a.n_units, a.info) == (b.bin_ms, b.bin_steps, b.n_units, b.info)


@pytest.fixture
def no_load(monkeypatch):
    """Make load_spikes fail: whatever still calls it does not stream."""

    def refuse(path):
        raise AssertionError(f"load_spikes({path}) called: the file was loaded whole")

    monkeypatch.setattr(io_mod, "load_spikes", refuse)


@pytest.mark.parametrize("writer", ["save_spikes", "unordered"])
def test_streamed_activity_equals_in_memory(tmp_path, writer, no_load):
    s = _train()
    path = tmp_path / "s.h5"
    save_spikes(path, s) if writer == "save_spikes" else _write_unordered(path, s)
    # the order of a list is kept; a repeated unit is refused (tests/data/test_units.py)
    subsets = [None, [0, 5, 7, 39], np.arange(0, 40, 3), [3], [12, 2]]
    for units in subsets:
        ref = s if units is None else s.select_units(units)
        n_units = 40 if units is None else len(units)
        silent = ref.n_spikes == 0  # unit 3 alone: no inter-event interval (checked below)
        for block in (7, 1000, None):  # several blocks, many blocks per trial, one block
            got = C.step_counts(path, units=units, block_spikes=block)
            np.testing.assert_array_equal(got.counts, ref.population_activity())
            assert (got.n_units, got.dt, got.n_spikes) == (n_units, 0.5, ref.n_spikes)
        for bin_ms in (None, 0.5, 1.0, 1.5, 4, "iei", "IEI"):
            if silent and isinstance(bin_ms, str):
                continue
            expected = C.population_activity(ref, bin_ms=bin_ms)
            _same(C.population_activity(path, bin_ms=bin_ms, units=units), expected)
            _same(C.population_activity(str(path), bin_ms=bin_ms, units=units), expected)
            # StepCounts read once serve every binning
            counts = C.step_counts(path, units=units)
            _same(C.population_activity(counts, bin_ms=bin_ms), expected)
        if not silent:
            iei = C.mean_interevent_interval(C.step_counts(path, units=units))
            assert iei == C.mean_interevent_interval(ref)  # the same sums: exactly equal


def test_streamed_errors_match_in_memory(tmp_path):
    s = _train(shape=(2, 50, 4), p=0.0, silent_trial=None)  # no spikes at all
    one = SpikeTrain(times=[4], units=[1], n_units=4, n_steps=50, n_trials=2, dt=1.0)
    apart = SpikeTrain(times=[4, 9], units=[1, 0], trials=[0, 1], n_units=4, n_steps=50, n_trials=2)
    for name, train, message in (
        ("empty", s, "at least two spikes"),
        ("one", one, "at least two spikes"),
        ("apart", apart, "within one trial"),
    ):
        path = save_spikes(tmp_path / f"{name}.h5", train)
        for data in (train, path):
            with pytest.raises(InputError, match=message):
                C.population_activity(data, bin_ms="iei")
    path = save_spikes(tmp_path / "s.h5", _train(shape=(1, 100, 6), p=0.1, silent_trial=None))
    for data in (load_spikes(path), path):
        for bad in ([6], [-1], [], [[0, 1]], [0.5]):
            with pytest.raises(InputError, match="units"):
                C.population_activity(data, units=bad)
        with pytest.raises(InputError, match="dt"):
            C.population_activity(data, dt=2.0)
    with pytest.raises(InputError, match="already summed"):
        C.population_activity(C.step_counts(path), units=[0])
    with pytest.raises(InputError, match="no such file"):
        C.population_activity(tmp_path / "missing.h5")
    with h5py.File(path, "r+") as h5:  # a unit index beyond n_units: caught while streaming
        h5["spikes/units"][0] = 6
    with pytest.raises(InputError, match="units must lie"):
        C.population_activity(path)
    # .npz files are still loaded whole, with the same result
    s = _train(shape=(2, 300, 5))
    np.savez(tmp_path / "s.npz", raster=s.to_dense(), dt=s.dt)
    _same(
        C.population_activity(tmp_path / "s.npz", bin_ms="iei"),
        C.population_activity(s, bin_ms="iei"),
    )


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """10^6 spikes over 2 trials of 50 000 steps of 400 units (16 MB of datasets)."""
    rng = np.random.default_rng(2)
    n_trials, n_steps, n_units = 2, 50_000, 400
    flat = np.unique(rng.integers(0, n_trials * n_steps * n_units, 1_030_000))[:1_000_000]
    trials, rest = flat // (n_steps * n_units), flat % (n_steps * n_units)
    times, units = rest // n_units, rest % n_units
    path = tmp_path_factory.mktemp("big") / "big.h5"
    with SpikeWriter(path, n_units=n_units, n_steps=n_steps, n_trials=n_trials) as w:
        for a in range(0, flat.size, 250_000):
            for tr in (0, 1):
                m = trials[a : a + 250_000] == tr
                w.append(times[a : a + 250_000][m], units[a : a + 250_000][m], trial=tr)
    return path, flat.size


def test_population_activity_of_a_path_reads_blocks_not_the_file(
    big_file, monkeypatch, no_load, h5_read_sizes
):
    path, n = big_file
    monkeypatch.setattr(activity_mod, "BLOCK_SPIKES", 50_000)
    reads = h5_read_sizes
    act = C.population_activity(path, bin_ms="iei", units=np.arange(0, 400, 2))
    assert act.n_trials == 2 and act.n_units == 200
    with SpikeReader(path, block_spikes=50_000) as rd:
        block = rd.block_spikes  # rounded up to whole 65536-spike storage chunks
    # each spike read once from times, units and trials, in blocks far smaller than the file
    assert block < n // 10
    assert max(reads) <= block and sum(reads) == 3 * n, (max(reads), sum(reads))


def test_population_activity_of_a_path_memory(big_file, monkeypatch, no_load):
    path, n = big_file
    monkeypatch.setattr(activity_mod, "BLOCK_SPIKES", 50_000)
    tracemalloc.start()
    try:
        act = C.population_activity(path, bin_ms=2.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert int(act.counts.sum()) == n
    # the counts per step (2 x 50 000 int64: 0.8 MB) and one 65536-spike block with its
    # temporaries (a few MB), well below the 16 MB of spikes that load_spikes would hold
    assert peak < 16 * n / 3, peak


def test_criticality_run_streams_an_h5_file(tmp_path, monkeypatch):
    from infodyn.experiments.criticality_run import run_criticality

    s = _train(seed=4, shape=(2, 3000, 60), p=0.01, silent_trial=None)
    path = save_spikes(tmp_path / "s.h5", s)
    options = [
        {},
        {"units": "0-19,25", "bin_ms": 2, "avalanche_bin_ms": "step"},
        {"sample_fraction": 0.4, "seed": 3},
    ]
    expected = []
    for i, kw in enumerate(options):
        r = run_criticality(s, tmp_path / f"mem{i}", n_boot=5, **kw)
        expected.append(r)

    def refuse(p):
        raise AssertionError("the criticality run loaded the file whole")

    monkeypatch.setattr(io_mod, "load_spikes", refuse)
    for i, kw in enumerate(options):
        got = run_criticality(path, tmp_path / f"file{i}", n_boot=5, **kw)
        for r in (got, expected[i]):
            r.pop("wall_seconds")
        assert json.dumps(got, sort_keys=True) == json.dumps(expected[i], sort_keys=True)
        for name in ("branching", "sizes", "durations", "size_vs_duration"):
            a = (tmp_path / f"file{i}" / "figures" / f"{name}.png").read_bytes()
            assert a == (tmp_path / f"mem{i}" / "figures" / f"{name}.png").read_bytes(), name
        cfg = json.loads((tmp_path / f"file{i}" / "config.json").read_text())
        assert cfg["config"]["n_units_analysed"] == expected[i]["n_units"]
    with pytest.raises(InputError, match="selected units hold no spikes"):
        run_criticality(path, tmp_path / "silent", units="3")


def test_simulation_results_from_a_path_equal_the_loaded_spikes(tmp_path, monkeypatch):
    from infodyn.experiments.rundir import RunDir
    from infodyn.experiments.simulate_run import simulation_results

    s = _train(seed=5, shape=(2, 2600, 250), p=0.01, silent_trial=None)  # window cut at 2000
    path = save_spikes(tmp_path / "s.h5", s)
    expected = simulation_results(RunDir(tmp_path / "mem"), s, 250, 1.0, "event", "float64")
    windows = []
    original_window = SpikeReader.window

    def window(self, *args):
        windows.append(args)
        return original_window(self, *args)

    def refuse(p):
        raise AssertionError("the simulate run loaded the file whole")

    monkeypatch.setattr(SpikeReader, "window", window)
    monkeypatch.setattr(io_mod, "load_spikes", refuse)
    got = simulation_results(RunDir(tmp_path / "file"), path, 250, 1.0, "event", "float64")
    assert got == expected
    assert windows == [(0, 0, 2000)]  # only the raster's steps are read as spikes
    for name in ("raster", "rates"):
        a = (tmp_path / "file" / "figures" / f"{name}.png").read_bytes()
        assert a == (tmp_path / "mem" / "figures" / f"{name}.png").read_bytes(), name


def test_reader_counts_and_exports(tmp_path):
    s = _train(seed=6, shape=(2, 700, 30))
    for path in (save_spikes(tmp_path / "s.h5", s), _write_unordered(tmp_path / "u.h5", s)):
        with SpikeReader(path, block_spikes=13) as rd:
            u = rd.unit_counts()
            assert u.dtype == np.int64
            np.testing.assert_array_equal(u, s.spike_counts())
            np.testing.assert_array_equal(rd.rates_hz(), s.rates_hz())
            assert rd.duration_ms == s.duration_ms
            np.testing.assert_array_equal(rd.step_counts(), s.population_activity())
            assert sum(b[0].size for b in rd.iter_blocks()) == s.n_spikes
    assert idn.data.SpikeReader is SpikeReader
    assert idn.data.iter_spike_file is spikes_mod.iter_spike_file
    assert {"SpikeReader", "iter_spike_file"} <= set(idn.data.__all__)
    assert {"StepCounts", "step_counts"} <= set(C.__all__)
