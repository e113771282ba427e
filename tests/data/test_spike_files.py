"""The two spike-file writers store the same datasets with the same filters."""

import h5py
import numpy as np
import pytest

from infodyn import InputError
from infodyn.data import SpikeTrain, load_spikes, save_spikes
from infodyn.data.spike_files import COMPRESSION, SpikeWriter


def _raster(n_units: int = 500, n_steps: int = 400, p: float = 0.05) -> SpikeTrain:
    rng = np.random.default_rng(3)
    times, units = np.nonzero(rng.random((n_steps, n_units)) < p)
    return SpikeTrain(times=times, units=units, n_units=n_units, n_steps=n_steps, dt=1.0)


def _filters(path) -> set[tuple]:
    with h5py.File(path, "r") as h5:
        return {
            (name, ds.compression, ds.compression_opts, ds.shuffle, ds.chunks)
            for name, ds in h5["spikes"].items()
        }


def test_save_spikes_and_spike_writer_compress_alike(tmp_path):
    train = _raster()
    assert train.n_spikes > 4096  # save_spikes compresses files of more spikes than that
    saved = save_spikes(tmp_path / "saved.h5", train)
    streamed = tmp_path / "streamed.h5"
    with SpikeWriter(streamed, n_units=train.n_units, n_steps=train.n_steps) as w:
        half = train.n_spikes // 2
        w.append(train.times[:half], train.units[:half])
        w.append(train.times[half:], train.units[half:])
    chunks = (min(train.n_spikes, 65536),), (65536,)
    want = [{(n, "gzip", 4, True, c) for n in ("times", "trials", "units")} for c in chunks]
    assert COMPRESSION == {"compression": "gzip", "compression_opts": 4, "shuffle": True}
    assert [_filters(saved), _filters(streamed)] == want
    for path in (saved, streamed):
        back = load_spikes(path)
        np.testing.assert_array_equal(back.times, train.times)
        np.testing.assert_array_equal(back.units, train.units)


def test_small_files_are_stored_plain(tmp_path):
    """Up to 4096 spikes save_spikes writes no filter (nothing worth compressing)."""
    train = _raster(n_units=20, n_steps=50, p=0.1)
    assert 0 < train.n_spikes <= 4096
    saved = save_spikes(tmp_path / "small.h5", train)
    assert {f[1:] for f in _filters(saved)} == {(None, None, False, None)}


def test_close_inside_the_with_block_writes_once(tmp_path):
    """close(n_steps=...) in the documented with block: the block's own close then failed on
    the closed file (KeyError 'invalid identifier type'), though the file was written."""
    import pytest

    from infodyn.errors import InputError

    with SpikeWriter(tmp_path / "w.h5", n_units=3, dt=1.0) as w:
        w.append(np.array([0, 5]), np.array([0, 2]))
        w.close(n_steps=100)
        w.close()  # a second close does nothing
        with pytest.raises(InputError, match="the spike writer is closed"):
            w.append(np.array([7]), np.array([1]))
    got = load_spikes(tmp_path / "w.h5")
    assert (got.n_steps, got.times.tolist(), got.units.tolist()) == (100, [0, 5], [0, 2])


def test_save_spikes_names_what_it_writes(tmp_path):
    """A raster passed to save_spikes was "'numpy.ndarray' object has no attribute
    'n_spikes'"."""
    with pytest.raises(InputError, match="save_spikes writes a SpikeTrain, got ndarray"):
        save_spikes(tmp_path / "b.h5", np.eye(3))
    assert not (tmp_path / "b.h5").exists()


def test_a_writer_refuses_at_once_what_it_could_not_close_or_read_back(tmp_path):
    """Metadata keys JSON cannot hold failed as the file closed (every spike lost, the
    temporary left); counts beyond the readers' limits, and times that wrapped (uint64
    2**64 - 1 stored as -1), were written and refused only on reading (fuzz of the writers)."""
    import os

    from infodyn.data import SpikeWriter
    from infodyn.errors import InputError

    with pytest.raises(InputError, match="metadata must be a table JSON can hold"):
        SpikeWriter(tmp_path / "o.h5", n_units=3, metadata={np.int64(1): "a"})
    for kw, said in (
        ({"n_units": 2**31}, "n_units must be at most 2147483647"),
        ({"n_trials": 2**31 + 1}, "n_trials must be at most 2147483647"),
        ({"n_steps": 2**62 + 1}, "n_steps must be at most"),
    ):
        with pytest.raises(InputError, match=said):
            SpikeWriter(tmp_path / "o.h5", **{"n_units": 3, **kw})
    w = SpikeWriter(tmp_path / "o.h5", n_units=3)
    with pytest.raises(InputError, match="times must lie in \\[0, 4611686018427387904\\)"):
        w.append(np.array([2**64 - 1], np.uint64), [0])
    w.close(error=True)
    assert os.listdir(tmp_path) == []  # nothing left behind


def test_a_named_pipe_is_refused_instead_of_blocking_the_reader(tmp_path):
    """Opening a FIFO without a writer blocked load_spikes, load_params, IsingModel.load and
    load_checkpoint for ever."""
    import os

    from infodyn.data import load_spikes
    from infodyn.energy import IsingModel
    from infodyn.errors import InputError
    from infodyn.network import load_params

    for name, load in (("f.h5", load_spikes), ("p.npz", load_params), ("m.npz", IsingModel.load)):
        os.mkfifo(tmp_path / name)
        with pytest.raises(InputError, match="is not a regular file \\(a pipe or a device\\)"):
            load(tmp_path / name)


def test_a_closed_reader_says_so(tmp_path):
    from infodyn.data import SpikeReader, SpikeTrain, save_spikes
    from infodyn.errors import InputError

    save_spikes(tmp_path / "s.h5", SpikeTrain.from_dense(np.eye(4, dtype=np.uint8)))
    reader = SpikeReader(tmp_path / "s.h5")
    reader.close()
    with pytest.raises(InputError, match="the reader is closed"):  # was "corrupt spike data"
        reader.window(0, 0, 4)


def test_a_file_another_process_writes_is_named_as_such(tmp_path, monkeypatch):
    """A file held open for writing elsewhere was "not a readable HDF5 file" (HDF5's lock)."""
    path = tmp_path / "open.h5"
    save_spikes(path, SpikeTrain(times=[1], units=[0], n_units=1, n_steps=4))

    said = {
        11: ("Resource temporarily unavailable", "another process has it open for writing"),
        38: ("Function not implemented", "cannot lock files on this file system.*LOCKING=FALSE"),
    }  # errno 38: NFS and Lustre, where no other process holds the file
    for errno, (text, message) in said.items():

        def locked(*args, errno=errno, text=text, **kwargs):
            raise OSError(
                f"[Errno {errno}] Unable to synchronously open file (unable to lock file, "
                f"errno = {errno}, error message = '{text}')"
            )

        monkeypatch.setattr(h5py, "File", locked)
        with pytest.raises(InputError, match=message):
            load_spikes(path)
