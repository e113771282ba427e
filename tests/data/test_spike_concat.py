"""Joining the spike files of one run's stretches (infodyn.data.spike_concat)."""

import h5py
import numpy as np
import pytest

from infodyn.data import load_spikes
from infodyn.data import spike_concat as module
from infodyn.data.spike_concat import concatenate_spike_files
from infodyn.data.spike_files import CHUNK, SpikeWriter
from infodyn.errors import InputError

HEADER = {"n_units": 500, "dt": 1.0, "n_steps": 10_000, "metadata": {"engine": "event"}}


def _spikes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct (step, unit) spikes in (time, unit) order."""
    flat = np.sort(np.random.default_rng(seed).choice(10_000 * 500, n, replace=False))
    return flat // 500, (flat % 500).astype(np.int32)


def _parts(tmp_path, sizes, **header):
    """Spike files of consecutive slices of one sorted spike train, of ``sizes`` spikes."""
    times, units = _spikes(sum(sizes))
    paths, start = [], 0
    for k, size in enumerate(sizes):
        path = tmp_path / f"part{k}.h5"
        with SpikeWriter(path, **{**HEADER, **header}) as writer:
            writer.append(times[start : start + size], units[start : start + size])
        paths.append(path)
        start += size
    return paths, times, units


@pytest.mark.parametrize(
    ("sizes", "by_chunks"),
    [
        ([2 * CHUNK, 0, CHUNK, 1234], True),  # whole chunks, an empty part, a partial last one
        ([CHUNK + 5, 70_000, 10], False),  # a part of 1 chunk and 5 spikes: copied by blocks
    ],
)
def test_the_joined_file_holds_the_parts_spikes_in_order(tmp_path, monkeypatch, sizes, by_chunks):
    calls = []
    for name in ("_copy_chunks", "_copy_blocks"):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, f=original, n=name: calls.append(n) or f(*a))
    paths, times, units = _parts(tmp_path, sizes)
    out = concatenate_spike_files(paths, tmp_path / "all.h5")
    assert set(calls) == {"_copy_chunks" if by_chunks else "_copy_blocks"}
    joined = load_spikes(out)
    np.testing.assert_array_equal(joined.times, times)
    np.testing.assert_array_equal(joined.units, units)
    assert (joined.n_units, joined.n_steps, joined.metadata) == (500, 10_000, {"engine": "event"})
    with h5py.File(out) as h5:
        assert int(h5.attrs["sorted"]) == 1 and h5["spikes/times"].compression == "gzip"


def test_parts_out_of_order_are_joined_unsorted_and_read_right(tmp_path):
    paths, times, units = _parts(tmp_path, [300, 200])
    out = concatenate_spike_files(paths[::-1], tmp_path / "swapped.h5")
    with h5py.File(out) as h5:
        assert int(h5.attrs["sorted"]) == 0  # the readers then sort what they load
    joined = load_spikes(out)
    assert joined.n_spikes == 500
    assert sorted(zip(joined.times, joined.units, strict=True)) == sorted(
        zip(times, units, strict=True)
    )


def test_parts_of_different_runs_or_none_are_refused(tmp_path):
    first, *_ = _parts(tmp_path, [10])[0]
    (tmp_path / "other").mkdir()
    other, *_ = _parts(tmp_path / "other", [10], n_units=501)[0]
    with pytest.raises(InputError, match="n_units 501.*is not that of .*part0.h5.*n_units 500"):
        concatenate_spike_files([first, other], tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()
    with pytest.raises(InputError, match="needs at least one spike file"):
        concatenate_spike_files([], tmp_path / "x.h5")
    (tmp_path / "junk.h5").write_bytes(b"no hdf5")
    with pytest.raises(InputError, match="junk.h5: not a readable HDF5 file"):
        concatenate_spike_files([first, tmp_path / "junk.h5"], tmp_path / "x.h5")


def test_parts_the_readers_refuse_are_refused_not_copied(tmp_path):
    """A part with fractional times was truncated into a joined file that loaded fine; one with
    times out of range, or a name that is not .h5, made a file that did not read back; a group
    for a dataset, parts of unequal lengths or None were raw errors (fuzz of the readers)."""
    import h5py

    from infodyn.data import SpikeTrain, load_spikes, save_spikes
    from infodyn.data.spike_concat import concatenate_spike_files as join
    from infodyn.errors import InputError

    first, second = np.zeros((8, 4), np.uint8), np.zeros((8, 4), np.uint8)
    first[:4], second[4:] = np.eye(4), np.eye(4)  # two stretches of one run
    s, s2 = SpikeTrain.from_dense(first), SpikeTrain.from_dense(second)
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    save_spikes(a, s)
    save_spikes(b, s2)
    with pytest.raises(InputError, match="name it .h5 or .hdf5"):
        join([a, b], tmp_path / "o.npz")
    with pytest.raises(InputError, match="parts must be a list of spike files"):
        join(None, tmp_path / "o.h5")
    with h5py.File(b, "r+") as h:  # fractional times
        t = h["spikes/times"][...].astype(float)
        t[0] += 0.5
        del h["spikes/times"]
        h["spikes/times"] = t
    with pytest.raises(InputError, match="is not a 1-D dataset of whole numbers"):
        join([a, b], tmp_path / "o.h5")
    save_spikes(b, s2)
    with h5py.File(b, "r+") as h:  # a time beyond n_steps
        h["spikes/times"][0] = 99
    with pytest.raises(InputError, match="spike times must lie in \\[0, 8\\); the file is damaged"):
        join([a, b], tmp_path / "o.h5")
    save_spikes(b, s2)
    with h5py.File(b, "r+") as h:  # one trial: no trial ids needed, as the readers take it
        del h["spikes/trials"]
    joined = load_spikes(join([a, b], tmp_path / "o.h5"))
    assert joined.n_spikes == 8 and not (tmp_path / "o.npz").exists()
