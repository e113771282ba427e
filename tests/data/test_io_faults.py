"""Reading broken spike files: an InputError naming the path (never a raw MemoryError,
EOFError or PermissionError), for spike files and images alike."""

import numpy as np
import pytest

from infodyn.errors import InputError


@pytest.fixture
def spike_file(tmp_path):
    from faultkit import tiny_spikes

    return tiny_spikes(tmp_path / "s.h5")


@pytest.mark.parametrize("fault", ["missing", "empty", "truncated", "garbage"])
@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_load_spikes_faults_name_the_path(fault, suffix, tmp_path, spike_file):
    from faultkit import breakages

    from infodyn.data.io import load_spikes
    from infodyn.data.spikes import SpikeTrain

    good = spike_file
    if suffix == ".npz":
        good = tmp_path / "s.npz"
        sp = load_spikes(spike_file)
        np.savez(
            good, times=sp.times, units=sp.units, n_units=sp.n_units, n_steps=sp.n_steps, dt=sp.dt
        )
        assert isinstance(load_spikes(good), SpikeTrain)
    path = breakages(good, tmp_path, "b", suffix)[fault]
    with pytest.raises(InputError, match=path.name):
        load_spikes(path)


def test_raw_os_and_memory_errors_become_input_errors(monkeypatch, spike_file, tmp_path):
    from infodyn.data import image_files as images_mod
    from infodyn.data.io import load_spikes

    for exc in (MemoryError(), PermissionError(13, "Permission denied"), EOFError("cut")):

        def boom(*a, exc=exc, **k):
            raise exc

        monkeypatch.setattr("infodyn.data.spikes._load_h5", boom)
        with pytest.raises(InputError, match="s.h5: cannot read this spike file"):
            load_spikes(spike_file)
        monkeypatch.setattr(images_mod, "_read_image", boom)
        with pytest.raises(InputError, match="img.png: cannot read this image"):
            images_mod.read_image(tmp_path / "img.png")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"dt": [1.0, 2.0]}, "dt must be a single number"),
        ({"n_units": [3, 4]}, "n_units must be a single number"),
        ({"times": [np.inf, 5.0]}, "times must be integers"),
        ({"times": np.array(["a", "b"])}, "times must be integers"),
        ({"units": np.array([2**64 - 1, 1], dtype="u8")}, r"n_units must be a whole number in"),
        ({"units": [3_000_000_000, 1]}, r"n_units must be a whole number in \[1, 2147483647\]"),
        ({"n_units": -5}, r"n_units must be a whole number in \[1"),
        ({"n_steps": 10.7}, r"n_steps must be a whole number"),
    ],
)
def test_npz_fields_of_the_wrong_kind_are_input_errors(fields, message, tmp_path):
    # each crashed (TypeError, OverflowError, UFuncTypeError) or was truncated, clamped or
    # wrapped to int32 silently (unit 3e9 stored as -1294967296)
    from infodyn.data.io import load_spikes

    data = {"times": [0, 5], "units": [0, 1], **fields}
    np.savez(tmp_path / "a.npz", **data)
    with pytest.raises(InputError, match=message) as err:
        load_spikes(tmp_path / "a.npz")
    assert "a.npz" in str(err.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h5: h5.attrs.__setitem__("dt", np.array([1.0, 2.0])), "dt attribute must be one"),
        (lambda h5: h5.attrs.__setitem__("n_units", np.array([2, 3])), "n_units must be a whole"),
        (lambda h5: h5.attrs.__setitem__("n_units", 2.7), "n_units must be a whole"),
        (lambda h5: h5.attrs.__setitem__("metadata", 5), "metadata attribute must be a JSON"),
        (lambda h5: h5.attrs.__setitem__("metadata", "[1, 2]"), "metadata attribute must be"),
        (lambda h5: h5.attrs.__setitem__("version", 2), r"version 2 \(a newer infodyn wrote it"),
        (lambda h5: h5.attrs.__setitem__("version", "x"), r"version 'x' \(not a version\)"),
        (
            lambda h5: (h5["spikes"].__delitem__("times"), h5["spikes"].create_group("times")),
            "s.h5: spike file has unreadable parts",
        ),
    ],
)
def test_h5_header_of_the_wrong_kind_is_an_input_error(change, message, spike_file):
    import h5py

    from infodyn.data.io import load_spikes
    from infodyn.data.spike_reader import SpikeReader

    with h5py.File(spike_file, "r+") as h5:
        change(h5)
    with pytest.raises(InputError, match=message):
        load_spikes(spike_file)
    with pytest.raises(InputError, match="s.h5"):  # the streaming reader too
        SpikeReader(spike_file).close()


def test_a_header_as_c_matlab_or_r_write_it_is_read(spike_file):
    """Fixed-length byte strings and one-element arrays: the format was refused as "missing"
    and dt as "must be one number"; a file without a version is read as version 1."""
    import h5py

    from infodyn.data.io import load_spikes

    before = load_spikes(spike_file)
    with h5py.File(spike_file, "r+") as h5:
        h5.attrs["format"] = np.bytes_(b"infodyn-spikes")
        h5.attrs["metadata"] = np.bytes_(h5.attrs["metadata"].encode())
        for name in ("dt", "n_units", "n_steps", "n_trials"):
            h5.attrs[name] = np.array([h5.attrs[name]])
        h5.attrs["version"] = np.array([1.0])  # MATLAB's h5writeatt writes a double
    after = load_spikes(spike_file)
    assert (after.dt, after.n_units, after.n_steps) == (before.dt, before.n_units, before.n_steps)
    np.testing.assert_array_equal(after.to_dense(), before.to_dense())
    with h5py.File(spike_file, "r+") as h5:
        del h5.attrs["version"]  # files written before the attribute was read
    assert load_spikes(spike_file).n_spikes == before.n_spikes


def test_dt_does_not_apply_to_binned_files(spike_file):
    from infodyn.data.io import load_spikes

    with pytest.raises(InputError, match="already binned in steps"):
        load_spikes(spike_file, dt=5.0)
    with pytest.raises(InputError, match="groups .* selects Kilosort/phy cluster labels"):
        load_spikes(spike_file, groups="all")  # was ignored without a word


def test_npz_paths_that_hold_no_zip_archive_say_so(tmp_path):
    """A renamed np.save file was a TypeError (the CLI's 'internal error'); random bytes got
    numpy's advice to unpickle them."""
    from infodyn.data.io import load_spikes

    np.save(tmp_path / "raster.npy", np.zeros((5, 3)))
    (tmp_path / "raster.npy").rename(tmp_path / "renamed.npz")
    with pytest.raises(InputError, match="renamed.npz: a single .npy array, not an NPZ"):
        load_spikes(tmp_path / "renamed.npz")
    (tmp_path / "garbage.npz").write_bytes(b"garbage")
    with pytest.raises(InputError, match="garbage.npz: not an NPZ .zip. archive$"):
        load_spikes(tmp_path / "garbage.npz")


def test_header_faults_name_what_is_missing(tmp_path):
    """h5py's KeyError text ('Unable to synchronously open attribute ...') named no attribute; a
    file of three trials without /spikes/trials was read with every spike in trial 0; a
    symbolic-link loop was 'no such file'."""
    import h5py

    from infodyn.data.io import load_spikes
    from infodyn.data.spike_files import save_spikes
    from infodyn.data.spike_reader import SpikeReader
    from infodyn.data.spikes import SpikeTrain

    s = SpikeTrain(np.arange(6), np.zeros(6, int), 2, 10, trials=np.arange(6) % 3, n_trials=3)
    for change, message in (
        (lambda h5: h5.attrs.__delitem__("dt"), "has no 'dt' attribute"),
        (lambda h5: h5["spikes"].__delitem__("trials"), "n_trials is 3 but no /spikes/trials"),
    ):
        path = save_spikes(tmp_path / "s.h5", s)
        with h5py.File(path, "r+") as h5:
            change(h5)
        with pytest.raises(InputError, match=f"s.h5: .*{message}"):
            load_spikes(path)
        with pytest.raises(InputError, match=f"s.h5: .*{message}"):
            SpikeReader(path)
    (tmp_path / "a.h5").symlink_to(tmp_path / "b.h5")
    (tmp_path / "b.h5").symlink_to(tmp_path / "a.h5")
    with pytest.raises(InputError, match="a.h5: a symbolic link that leads to no file"):
        load_spikes(tmp_path / "a.h5")


def test_bytes_paths_and_a_boolean_dt(spike_file):
    """A bytes path was a TypeError for infodyn files (the recording readers took it); dt=True
    was read as 1 ms."""
    import os

    from infodyn.data.io import load_spikes
    from infodyn.data.timebins import check_dt

    assert load_spikes(os.fsencode(spike_file)).n_spikes == load_spikes(spike_file).n_spikes
    for bad in (True, False):
        with pytest.raises(InputError, match="dt must be a positive number of ms, got"):
            check_dt(bad)


def test_an_empty_path_is_not_the_working_folder():
    """``infodyn criticality ""`` read '.' ("is a folder, but not a Kilosort/phy output
    folder")."""
    from infodyn.data.io import load_spikes

    for empty in ("", b""):
        with pytest.raises(InputError, match="an empty path: name a spike file"):
            load_spikes(empty)


def test_hdf5_writes_are_refused_before_they_fill_the_disk(monkeypatch, tmp_path):
    """HDF5 does not survive a full disk: its close failed, and freeing the handle it left
    crashed the process (exit 139) after the error's line. Each write now checks the free space
    first and fails as the disk would, naming the file, with nothing left behind."""
    import errno
    import shutil
    from collections import namedtuple

    from infodyn.atomic import HDF5_RESERVE_BYTES
    from infodyn.data.spike_concat import concatenate_spike_files
    from infodyn.data.spike_files import SpikeWriter, save_spikes
    from infodyn.data.spikes import SpikeTrain

    train = SpikeTrain.from_dense((np.random.default_rng(0).random((500, 8)) < 0.2), dt=1.0)
    part = save_spikes(tmp_path / "part.h5", train)
    usage = namedtuple("usage", "total used free")
    # one byte short of the reserve and the write: 16 B a spike, or the part's size to join it
    free = {"bytes": HDF5_RESERVE_BYTES + min(16 * train.n_spikes, part.stat().st_size) - 1}
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(1, 1, free["bytes"]))
    out = tmp_path / "new" / "out.h5"

    def stream() -> None:
        with SpikeWriter(out, n_units=8) as writer:
            writer.append(train.times, train.units)

    for write in (
        lambda: save_spikes(out, train),
        stream,
        lambda: concatenate_spike_files([part], out),
    ):
        with pytest.raises(OSError) as caught:
            write()
        assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(out)
        assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["part.h5"]
    free["bytes"] = HDF5_RESERVE_BYTES + 16 * train.n_spikes  # enough
    assert save_spikes(out, train).exists()
