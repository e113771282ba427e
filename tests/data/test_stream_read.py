"""Streaming reads of HDF5 spike files (``iter_spike_file`` / ``SpikeReader``): windows equal
``load_spikes(path).iter_dense``, only slices of the datasets are read, and bad input is a clear
``InputError``."""

import re
import tracemalloc
import warnings

import h5py
import numpy as np
import pytest

from infodyn.data.io import load_spikes
from infodyn.data.spikes import (
    SpikeReader,
    SpikeTrain,
    SpikeWriter,
    iter_spike_file,
    save_spikes,
)
from infodyn.errors import InputError


def _train(seed=0, shape=(3, 1000, 17), p=0.05, silent_trial=None):
    r = (np.random.default_rng(seed).random(shape) < p).astype(np.uint8)
    if silent_trial is not None:
        r[silent_trial] = 0
    return SpikeTrain.from_dense(r, dt=0.5, metadata={"k": 1})


def _assert_same(expected, streamed):
    expected, streamed = list(expected), list(streamed)
    assert [w[:2] for w in streamed] == [w[:2] for w in expected]
    for (_, _, a), (_, _, b) in zip(expected, streamed, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def _written(path, spikes, chunk=97):
    """Write ``spikes`` with SpikeWriter, trial by trial in chunks of ``chunk`` spikes."""
    with SpikeWriter(
        path, n_units=spikes.n_units, dt=spikes.dt, n_steps=spikes.n_steps, n_trials=spikes.n_trials
    ) as w:
        for a in range(0, spikes.n_spikes, chunk):
            b = min(a + chunk, spikes.n_spikes)
            for tr in np.unique(spikes.trials[a:b]):
                m = spikes.trials[a:b] == tr
                w.append(spikes.times[a:b][m], spikes.units[a:b][m], trial=int(tr))
    return path


@pytest.mark.parametrize("chunk", [1, 7, 64, 333, 1000, 4096])
@pytest.mark.parametrize("writer", ["save_spikes", "SpikeWriter"])
def test_streamed_windows_equal_iter_dense(tmp_path, chunk, writer):
    s = _train(silent_trial=1)  # three trials, the middle one without spikes
    path = tmp_path / "s.h5"
    save_spikes(path, s) if writer == "save_spikes" else _written(path, s)
    expected = list(load_spikes(path).iter_dense(chunk))
    # several blocks per window and several windows per block
    for block in (5, 1 << 20):
        _assert_same(expected, iter_spike_file(path, chunk, block_spikes=block))
    # one trial only, a bool raster, and the sparse form
    _assert_same(
        [w for w in load_spikes(path).iter_dense(chunk, dtype=bool) if w[0] == 2],
        iter_spike_file(path, chunk, trial=2, dtype=bool, block_spikes=5),
    )
    for (tr, w0, raster), (tr2, w02, t, u) in zip(
        expected, iter_spike_file(path, chunk, dense=False, block_spikes=5), strict=True
    ):
        assert (tr, w0) == (tr2, w02)
        assert np.all((t >= w0) & (t < w0 + len(raster)))
        rt, ru = np.nonzero(raster)
        np.testing.assert_array_equal(t, rt + w0)  # sorted by time, then unit
        np.testing.assert_array_equal(u, ru)


def test_reader_header_window_and_ranges(tmp_path):
    s = _train(seed=3, shape=(2, 500, 9), p=0.1)
    path = save_spikes(tmp_path / "s.hdf5", s)
    with SpikeReader(path, block_spikes=11) as rd:
        assert (rd.n_units, rd.n_steps, rd.n_trials, rd.dt) == (9, 500, 2, 0.5)
        assert rd.n_spikes == s.n_spikes and rd.metadata == {"k": 1}
        for trial, a, b in [(0, 0, 500), (1, 123, 124), (1, 40, 333), (0, 499, 500)]:
            t, u = rd.window(trial, a, b)
            m = (s.trials == trial) & (s.times >= a) & (s.times < b)
            np.testing.assert_array_equal(t, s.times[m])
            np.testing.assert_array_equal(u, s.units[m])
        # start/stop restrict the windows: same rasters as slicing the full ones
        got = list(rd.iter_dense(50, trial=1, start=130, stop=421))
        assert [w[1] for w in got] == list(range(130, 421, 50))
        full = s.to_dense()[1]
        for _, w0, raster in got:
            np.testing.assert_array_equal(raster, full[w0 : w0 + len(raster)])
        assert sum(len(w[2]) for w in got) == 421 - 130


def test_empty_file_and_order_checks(tmp_path):
    with SpikeWriter(tmp_path / "empty.h5", n_units=3, n_steps=10) as w:
        pass
    got = list(iter_spike_file(tmp_path / "empty.h5", 4))
    assert [g[1] for g in got] == [0, 4, 8] and all(not g[2].any() for g in got)

    # SpikeWriter records whether its appends were in (trial, time) order
    with SpikeWriter(tmp_path / "late.h5", n_units=3, n_steps=10) as w:
        w.append([5, 6], [0, 1])
        w.append([1], [2])
    with SpikeWriter(tmp_path / "trials.h5", n_units=3, n_steps=10, n_trials=2) as w:
        w.append([5], [0], trial=1)
        w.append([6], [0], trial=0)
    with SpikeWriter(tmp_path / "ok.h5", n_units=3, n_steps=10, n_trials=2) as w:
        w.append([1, 5], [0, 1], trial=0)
        w.append([5, 9], [0, 0], trial=0)
        w.append([0], [2], trial=1)
    for name, flag in (("late", 0), ("trials", 0), ("ok", 1)):
        with h5py.File(tmp_path / f"{name}.h5", "r") as h5:
            assert int(h5.attrs["sorted"]) == flag
    for name in ("late", "trials"):
        with pytest.raises(InputError, match="not stored in \\(trial, time\\) order"):
            iter_spike_file(tmp_path / f"{name}.h5", 4)  # raised on the call, not on iteration
        load_spikes(tmp_path / f"{name}.h5")  # still readable whole
    _assert_same(
        load_spikes(tmp_path / "ok.h5").iter_dense(3), iter_spike_file(tmp_path / "ok.h5", 3)
    )

    # files from before the attribute existed are checked in one pass
    s = _train(seed=5)
    for name, times in (("legacy", s.times), ("legacy_bad", s.times[::-1])):
        _as_legacy(save_spikes(tmp_path / f"{name}.h5", s), times)
    _assert_same(s.iter_dense(100), iter_spike_file(tmp_path / "legacy.h5", 100, block_spikes=64))
    with pytest.raises(InputError, match="order"):
        iter_spike_file(tmp_path / "legacy_bad.h5", 100, block_spikes=64)
    # a file that claims order but is not: a clear error while reading, never wrong windows
    with h5py.File(tmp_path / "legacy_bad.h5", "r+") as h5:
        h5.attrs["sorted"] = np.int8(1)
    with pytest.raises(InputError, match="corrupt"):
        list(iter_spike_file(tmp_path / "legacy_bad.h5", 100, block_spikes=64))


def _as_legacy(path, times):
    """The spike file at ``path`` as written before the ``sorted`` flag existed: the flag
    removed and its spike times replaced by ``times`` (same length, any order)."""
    with h5py.File(path, "r+") as h5:
        del h5.attrs["sorted"]
        h5["spikes/times"][...] = times
    return path


def _damaged_copy(path, tmp_path, name, signature):
    """A copy of ``path`` whose first HDF5 ``signature`` (b"HEAP": the local heap of the group
    names; b"TREE": a chunk index) is overwritten, as a disk error would."""
    data = bytearray(path.read_bytes())
    at = data.index(signature)
    data[at : at + 4] = b"XXXX"
    out = tmp_path / name
    out.write_bytes(bytes(data))
    return out


def test_damaged_files_give_one_input_error(tmp_path):
    # h5py raises RuntimeError (not OSError) for some damage; both readers must turn it into
    # InputError, so the CLI answers with one line and exit code 2
    path = save_spikes(tmp_path / "s.h5", _train())
    for signature in (b"HEAP", b"TREE"):
        bad = _damaged_copy(path, tmp_path, f"bad_{signature.decode()}.h5", signature)
        with pytest.raises(InputError, match="corrupt"):
            list(iter_spike_file(bad, 100))
        with pytest.raises(InputError, match="corrupt"):
            load_spikes(bad)


def test_bad_input(tmp_path):
    path = save_spikes(tmp_path / "s.h5", _train())
    with pytest.raises(InputError, match="no such file"):
        iter_spike_file(tmp_path / "nope.h5", 10)
    with pytest.raises(InputError, match="folder"):
        iter_spike_file(tmp_path, 10)
    (tmp_path / "bad.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(InputError, match="not a readable HDF5"):
        iter_spike_file(tmp_path / "bad.h5", 10)
    with h5py.File(tmp_path / "other.h5", "w") as h5:
        h5["x"] = np.arange(3)
    with pytest.raises(InputError, match="not an infodyn spike file"):
        iter_spike_file(tmp_path / "other.h5", 10)
    np.savez(tmp_path / "s.npz", raster=np.zeros((5, 2)))
    with pytest.raises(InputError, match="load_spikes"):
        iter_spike_file(tmp_path / "s.npz", 10)
    for bad in (0, -3, 2.5, True, "10", None):
        with pytest.raises(InputError, match="chunk_steps"):
            iter_spike_file(path, bad)
    with pytest.raises(InputError, match="trial"):
        iter_spike_file(path, 10, trial=3)
    with pytest.raises(InputError, match="start"):
        iter_spike_file(path, 10, start=500, stop=400)
    with pytest.raises(InputError, match="stop"):
        iter_spike_file(path, 10, stop=1001)
    with pytest.raises(InputError, match="block_spikes"):
        iter_spike_file(path, 10, block_spikes=0)
    with h5py.File(path, "r+") as h5:  # truncated datasets
        del h5["spikes/units"]
        h5["spikes/units"] = np.zeros(3, np.int32)
    with pytest.raises(InputError, match="differ in length"):
        iter_spike_file(path, 10)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """A file of 10^6 spikes (16 MB of datasets) over 10^5 steps, written by SpikeWriter."""
    rng = np.random.default_rng(1)
    n_steps, n_units = 100_000, 200
    flat = np.unique(rng.integers(0, n_steps * n_units, 1_030_000))[:1_000_000]  # distinct, sorted
    times, units = flat // n_units, flat % n_units
    n = flat.size
    path = tmp_path_factory.mktemp("big") / "big.h5"
    with SpikeWriter(path, n_units=n_units, n_steps=n_steps) as w:
        for a in range(0, n, 250_000):
            w.append(times[a : a + 250_000], units[a : a + 250_000])
    return path, n, n_steps


def test_reads_slices_never_the_whole_dataset(big_file, h5_read_sizes):
    path, n, n_steps = big_file
    reads = h5_read_sizes
    with SpikeReader(path, block_spikes=50_000) as rd:
        block = rd.block_spikes  # rounded up to whole 65536-spike storage chunks
        assert block < n // 10
        total = sum(int(np.count_nonzero(r)) for _, _, r in rd.iter_dense(7_000))
        assert total == n
        # every spike read once from times, units and trials, plus a few binary-search probes
        assert max(reads) <= block and sum(reads) <= 3 * n + 4 * block, (max(reads), sum(reads))
        # a tenth of the run reads about a tenth of the file
        reads.clear()
        got = list(rd.iter_sparse(1_000, start=40_000, stop=50_000))
        assert sum(len(t) for _, _, t, _ in got) == pytest.approx(n / 10, rel=0.02)
        assert max(reads) <= block and sum(reads) <= 3 * (n / 10 + 2 * block) + 4 * block


def test_streaming_memory_is_bounded_by_block_and_window(big_file):
    path, n, _ = big_file
    tracemalloc.start()
    try:
        count = 0
        for _, _, raster in iter_spike_file(path, 2_000, block_spikes=50_000):  # 400 kB windows
            count += int(np.count_nonzero(raster))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == n
    # one 65536-spike block of times/units/trials (1 MB), its temporaries and a window (about
    # 3 MB in all), far below the 16 MB that load_spikes would hold
    assert peak < 16 * n / 4, peak


def test_step_counts_check_memory_before_allocating(tmp_path, monkeypatch):
    from infodyn.data.spike_reader import SpikeReader
    from infodyn.memory import MemoryPreflightError

    path = save_spikes(tmp_path / "s.h5", _train())
    with h5py.File(path, "r+") as h5:  # a header that claims 10^13 steps (8 bytes each)
        h5.attrs["n_steps"] = 10**13
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1G")
    with SpikeReader(path) as reader, pytest.raises(MemoryPreflightError, match="counts per step"):
        reader.step_counts()


def _with_spikes(path, spikes, index, sorted_flag, tmp_path, name):
    """A copy of the file at ``path`` holding spikes ``index`` of ``spikes`` (repeats, any
    order), flagged ``sorted_flag``."""
    out = tmp_path / name
    with h5py.File(path, "r") as src, h5py.File(out, "w") as h5:
        h5.attrs.update(dict(src.attrs))
        for key in ("times", "units", "trials"):
            h5[f"spikes/{key}"] = np.asarray(getattr(spikes, key))[index]
        h5.attrs["sorted"] = np.int8(sorted_flag)
    return out


@pytest.mark.parametrize("block", [5, 64, 1 << 20])
def test_repeated_spikes_are_counted_once_as_load_spikes_counts_them(tmp_path, block):
    """A spike listed twice (SpikeWriter takes it) was counted twice by every streamed pass:
    rates and the criticality command's global-rate variance doubled, without a word."""
    s = _train(seed=3)
    path = save_spikes(tmp_path / "s.h5", s)
    n = s.n_spikes
    rng = np.random.default_rng(0)
    cases = {  # (index into the spikes, flagged sorted): each spike twice, in order; a third
        "sorted": (np.repeat(np.arange(n), 2), 1),  # of them again, in no order
        "shuffled": (rng.permutation(np.r_[np.arange(n), np.arange(0, n, 3)]), 0),
    }
    for name, (index, flag) in cases.items():
        bad = _with_spikes(path, s, index, flag, tmp_path, f"{name}.h5")
        n_repeats = index.size - n
        with pytest.warns(UserWarning, match=f"{n_repeats} spikes repeat a spike"):
            whole = load_spikes(bad)
        assert whole.n_spikes == n
        with SpikeReader(bad, block_spikes=block) as r:
            with pytest.warns(UserWarning, match=f"{bad}: {n_repeats} spikes repeat a spike"):
                np.testing.assert_array_equal(r.step_counts(), s.population_activity())
            with pytest.warns(UserWarning, match="repeat a spike"):
                np.testing.assert_array_equal(r.unit_counts(), s.spike_counts())
            with pytest.warns(UserWarning, match="repeat a spike"):
                blocks = list(r.iter_blocks())
        assert sum(b[0].size for b in blocks) == n
        if flag:  # windows need order: they keep each spike once too
            with pytest.warns(UserWarning, match="repeat a spike"):
                _assert_same(s.iter_dense(100), iter_spike_file(bad, 100, block_spikes=block))
            with SpikeReader(bad, block_spikes=block) as r, pytest.warns(UserWarning):
                t, u = r.window(1, 200, 700)
            keep = (s.trials == 1) & (s.times >= 200) & (s.times < 700)
            np.testing.assert_array_equal(t, s.times[keep])
            np.testing.assert_array_equal(u, s.units[keep])


def test_a_file_without_the_sorted_flag_in_order_is_not_held_whole(tmp_path, monkeypatch):
    """Older files lack the flag: every whole pass held their spikes (38 bytes a spike) to find
    repeats, though they were in order; they are now checked for order first."""
    from infodyn.data import _repeats, spike_reader

    s = _train(seed=5)
    path = save_spikes(tmp_path / "s.h5", s)
    with h5py.File(path, "a") as h5:
        del h5.attrs["sorted"]
    held = []
    monkeypatch.setattr(
        spike_reader,
        "repeats_in_file_order",
        lambda *a: held.append(a) or _repeats.repeats_in_file_order(*a),
    )
    with SpikeReader(path, block_spikes=64) as r:
        np.testing.assert_array_equal(r.unit_counts(), s.spike_counts())
    assert held == []
    shuffled = _with_spikes(
        path, s, np.random.default_rng(0).permutation(s.n_spikes), 0, tmp_path, "x.h5"
    )
    with h5py.File(shuffled, "a") as h5:
        del h5.attrs["sorted"]
    with SpikeReader(shuffled, block_spikes=64) as r:
        np.testing.assert_array_equal(r.unit_counts(), s.spike_counts())
    assert len(held) == 1


@pytest.mark.parametrize(
    "times, message",
    [
        (np.array([b"a", b"b", b"c"]), "spike times must be whole numbers, got |S1"),
        (np.array([0.0, np.nan, 2.0]), "spike times must be whole numbers, got float64"),
        (np.array([True, False, True]), "spike times must be whole numbers, got bool"),
    ],
)
def test_a_file_without_the_sorted_flag_is_checked_before_its_order(tmp_path, times, message):
    """Text times raised NumPy's UFuncTypeError in the order check of a file without the flag,
    NaN or boolean ones were called "not stored in (trial, time) order"."""
    from infodyn.data.spike_stream import iter_spike_file

    path = save_spikes(tmp_path / "s.h5", SpikeTrain([0, 1, 2], [0, 1, 2], n_units=3, n_steps=4))
    with h5py.File(path, "a") as h5:
        del h5.attrs["sorted"], h5["spikes/times"]
        h5["spikes/times"] = times
    with pytest.raises(InputError, match=re.escape(message)):
        list(iter_spike_file(path, 4, dense=False))


def test_unit_counts_hold_one_array_of_the_headers_units(tmp_path):
    """Each block's bincount took all n_units: a header's 10^8 units needed twice the memory
    the check asked for (8 bytes a unit)."""
    n_units = 2_000_000
    with SpikeWriter(tmp_path / "w.h5", n_units=n_units, n_steps=100) as w:
        w.append(np.arange(100), np.arange(100) * 7)  # units up to 693
    with SpikeReader(tmp_path / "w.h5", block_spikes=10) as r:
        tracemalloc.start()
        try:
            counts = r.unit_counts()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 8 * n_units * 1.2, peak
    assert counts.sum() == 100 and counts[693] == 1 and counts.size == n_units


def test_repeats_in_file_order_one_key_or_three_fields_agree():
    from infodyn.data._repeats import repeats_in_file_order

    rng = np.random.default_rng(1)
    tr, t, u = rng.integers(0, 3, 4000), rng.integers(0, 50, 4000), rng.integers(0, 30, 4000)
    tr, t, u = tr.astype(np.int32), t.astype(np.int64), u.astype(np.int32)

    def blocks():
        return iter(
            [(tr[a : a + 333], t[a : a + 333], u[a : a + 333]) for a in range(0, 4000, 333)]
        )

    one_key = repeats_in_file_order("f", 4000, blocks, (3, 50, 30))
    fields = repeats_in_file_order("f", 4000, blocks, (3, 50, 2**62))  # no int64 key fits
    np.testing.assert_array_equal(one_key, fields)
    # trials x n_steps past 2^32: an int32 product wrapped and merged spikes of other trials
    wide = repeats_in_file_order("f", 4000, blocks, (3, 2**32, 30))
    np.testing.assert_array_equal(wide, one_key)
    seen, expect = set(), np.zeros(4000, bool)  # every copy after a spike's first, by hand
    for k, key in enumerate(zip(tr.tolist(), t.tolist(), u.tolist(), strict=True)):
        expect[k] = key in seen
        seen.add(key)
    np.testing.assert_array_equal(one_key, expect)


def test_repeat_check_of_an_unordered_file_checks_memory_first(tmp_path, monkeypatch):
    from infodyn.memory import MemoryPreflightError

    s = _train(seed=4)
    path = save_spikes(tmp_path / "s.h5", s)
    bad = _with_spikes(path, s, np.arange(s.n_spikes)[::-1], 0, tmp_path, "reversed.h5")
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "10K")
    with SpikeReader(bad) as r, pytest.raises(MemoryPreflightError, match="rewrite the file"):
        r.unit_counts()


@pytest.mark.parametrize(
    "values",
    [np.ones(4, bool), np.array([b"a"] * 4), np.zeros(4, dtype=[("a", "i8"), ("b", "f8")])],
    ids=["bool", "text", "compound"],
)
def test_spike_times_that_are_not_numbers_are_refused_by_the_streamed_passes(tmp_path, values):
    """load_spikes refused these; the streamed passes analysed booleans as steps 0 and 1 and
    raised a bare TypeError on text (the CLI's 'internal error')."""
    path = save_spikes(tmp_path / "s.h5", SpikeTrain(np.arange(4), np.zeros(4, int), 2, 10))
    with h5py.File(path, "r+") as h5:
        del h5["spikes/times"]
        h5["spikes/times"] = values
    with pytest.raises(InputError, match="must be integers"):
        load_spikes(path)
    with SpikeReader(path) as r, pytest.raises(InputError, match="spike times must be whole"):
        r.step_counts()


def test_window_starts_at_a_step_the_binary_search_probes(tmp_path):  # kills R04
    """4 units spiking at every one of 1000 steps: 4000 spikes, more than the 1024 below which
    the search reads a slice, so the first probe (spike 2000) is the first spike of step 500.
    The window [500, 600) holds exactly the 4 x 100 spikes of those steps."""
    n_units, n_steps = 4, 1000
    times = np.repeat(np.arange(n_steps), n_units)
    units = np.tile(np.arange(n_units), n_steps)
    path = save_spikes(
        tmp_path / "full.h5", SpikeTrain(times=times, units=units, n_units=4, n_steps=n_steps)
    )
    with SpikeReader(path) as reader:
        assert reader.n_spikes == 4000
        t, u = reader.window(0, 500, 600)
        np.testing.assert_array_equal(t, np.repeat(np.arange(500, 600), 4))
        np.testing.assert_array_equal(u, np.tile(np.arange(4), 100))
        windows = list(reader.iter_sparse(250))
        assert [w0 for _, w0, _, _ in windows] == [0, 250, 500, 750]
        assert [len(t) for _, _, t, _ in windows] == [1000] * 4


def _legacy_file(tmp_path, name, times):
    """A file of one trial, 4 units, 10 steps, spikes at ``times`` (unit = index % 4), without
    the ``sorted`` attribute (files from before it was recorded)."""
    times = np.asarray(times)
    train = SpikeTrain(times=np.sort(times), units=np.arange(times.size) % 4, n_units=4, n_steps=10)
    return _as_legacy(save_spikes(tmp_path / f"{name}.h5", train), times)


def test_legacy_order_check_sees_disorder_across_a_block_boundary(tmp_path):  # kills R13
    """Blocks of 4 spikes, each in order, but the second starts before the first ends: the file
    is not in (trial, time) order, refused on the call (as for disorder inside a block)."""
    path = _legacy_file(tmp_path, "across", [5, 6, 7, 8, 1, 2, 3, 4])
    with pytest.raises(InputError, match=r"not stored in \(trial, time\) order"):
        iter_spike_file(path, 5, block_spikes=4)
    # an order-free pass still works on it, after the refused window read too
    with SpikeReader(path, block_spikes=4) as reader:
        with pytest.raises(InputError, match="order"):
            reader.iter_dense(5)
        assert reader.step_counts().tolist() == [[0, 1, 1, 1, 1, 1, 1, 1, 1, 0]]
    # the same spikes in order across the boundary are read
    ok = _legacy_file(tmp_path, "ok", [1, 2, 3, 4, 5, 6, 7, 8])
    assert [int(c.sum()) for _, _, c in iter_spike_file(ok, 5, block_spikes=4)] == [4, 4]


def test_sparse_windows_sort_units_within_a_step(tmp_path):  # kills R19
    """SpikeWriter keeps the appended order; a file in (trial, time) order may list the units of
    a step in any order. window / iter_sparse return spikes sorted by time, then unit."""
    path = tmp_path / "w.h5"
    with SpikeWriter(path, n_units=4, n_steps=6) as w:
        w.append([1, 3, 3, 3], [3, 2, 0, 1])
        w.append([3, 5], [3, 0])
    with SpikeReader(path) as reader:
        t, u = reader.window(0, 0, 6)
        assert t.tolist() == [1, 3, 3, 3, 3, 5]
        assert u.tolist() == [3, 0, 1, 2, 3, 0]
        ((_, w0, t, u),) = list(reader.iter_sparse(3, start=3))
        assert (w0, t.tolist(), u.tolist()) == (3, [3, 3, 3, 3, 5], [0, 1, 2, 3, 0])


def test_a_repeat_is_found_when_its_step_spans_three_blocks(tmp_path):  # kills P07
    """Blocks of 2 spikes: (t4 u0, t5 u0 | t5 u1, t5 u2 | t5 u0, t6 u1). Step 5 runs through all
    three blocks; the last block's unit 0 at step 5 repeats the first block's and is kept once:
    counts per unit 2, 2, 1 (hand count), one repeat warned about."""
    train = SpikeTrain(times=[4, 5, 5, 5, 5, 6], units=[0, 0, 1, 2, 3, 1], n_units=4, n_steps=8)
    path = save_spikes(tmp_path / "s.h5", train)
    with h5py.File(path, "r+") as h5:
        h5["spikes/units"][...] = [0, 0, 1, 2, 0, 1]  # still (trial, time) order, flagged sorted
        assert int(h5.attrs["sorted"]) == 1
    with SpikeReader(path, block_spikes=2) as reader:
        with pytest.warns(UserWarning, match="1 spikes repeat"):
            assert reader.unit_counts().tolist() == [2, 2, 1, 0]
        with pytest.warns(UserWarning, match="1 spikes repeat"):
            t, u = reader.window(0, 0, 8)
    assert list(zip(t.tolist(), u.tolist(), strict=True)) == [
        (4, 0),
        (5, 0),
        (5, 1),
        (5, 2),
        (6, 1),
    ]


@pytest.mark.parametrize(
    "dataset, position, value", [("times", 0, -5), ("times", -1, 10**6), ("trials", 0, -1)]
)
def test_a_time_outside_its_trial_in_a_file_flagged_sorted_is_refused(
    tmp_path, dataset, position, value
):
    """A file flagged as sorted is not scanned: the window search skipped a first spike at time
    -5 (or a last one past n_steps), and iter_spike_file streamed the other spikes without a
    word while load_spikes refused the file. The spikes beside each trial's ends are read."""
    raster = np.zeros((2, 30, 4), np.uint8)
    raster[:, ::3, 1] = 1
    path = save_spikes(tmp_path / "s.h5", SpikeTrain.from_dense(raster))
    with h5py.File(path, "r+") as f:
        values = f[f"spikes/{dataset}"][:]
        values[position] = value
        f[f"spikes/{dataset}"][:] = values
    for read in (lambda: list(iter_spike_file(path, 7)), lambda: load_spikes(path)):
        with pytest.raises(InputError, match=f"spike {dataset} must lie in|spike times must"):
            read()
    np.testing.assert_array_equal(  # an intact file streams as before
        np.concatenate(
            [
                r
                for _, _, r in iter_spike_file(
                    save_spikes(tmp_path / "ok.h5", SpikeTrain.from_dense(raster)), 7
                )
            ]
        ),
        raster.reshape(-1, 4),
    )


def test_a_whole_pass_over_a_file_wrongly_flagged_sorted_loses_no_spike_in_silence(tmp_path):
    """Windows trust the file's ``sorted`` flag (checking it costs a pass): a hand-edited file
    with its spikes shuffled under the flag either is refused as corrupt or, read whole, gives
    every spike. A window's search skips what lies outside it, so only windows within a trial
    can miss spikes of such a file; a whole pass reads every block between the trials' ends,
    whose checks fail on any disorder."""
    rng = np.random.default_rng(0)
    outcomes = {"refused": 0, "whole": 0}
    for case in range(60):
        n, n_trials, n_steps = int(rng.integers(5, 300)), int(rng.integers(1, 4)), 50
        tr, t, u = (np.sort(rng.integers(0, n_trials, n)), rng.integers(0, n_steps, n),
                    rng.integers(0, 7, n))  # fmt: skip
        with warnings.catch_warnings():  # repeated spikes are kept once, with a warning
            warnings.simplefilter("ignore")
            train = SpikeTrain(t, u, n_units=7, n_steps=n_steps, trials=tr, n_trials=n_trials)
        path = save_spikes(tmp_path / f"s{case}.h5", train)
        with h5py.File(path, "r+") as h5:  # a stretch shuffled, the flag left at 1
            i, j = sorted(rng.integers(0, train.n_spikes, 2))
            order = np.arange(train.n_spikes)
            order[i : j + 1] = rng.permutation(order[i : j + 1])
            for name in ("times", "units", "trials"):
                h5["spikes"][name][...] = h5["spikes"][name][...][order]
        try:
            with SpikeReader(path, block_spikes=int(rng.integers(1, 64))) as reader:
                chunks = reader.iter_sparse(int(rng.integers(1, 60)))
                got = sum(len(times) for _, _, times, _ in chunks)
        except InputError:
            outcomes["refused"] += 1
            continue
        assert got == train.n_spikes, case
        outcomes["whole"] += 1
    assert outcomes["refused"] > 40  # the check is not vacuous
