"""Atomic files (infodyn.atomic): the one JSON-safe conversion (to_jsonable), strict JSON,
the umask's mode, no temporary left by an interrupted write, and an InputError where one cannot
write."""

import csv
import json
import math
import os
import stat
import zipfile
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from infodyn.atomic import remove_temporaries, save_npz, to_jsonable, write_csv, write_json
from infodyn.errors import InputError


def test_to_jsonable_makes_plain_python():
    obj = {
        "i": np.int64(3),
        "f": np.float32(0.5),
        "a": np.arange(3),
        "j": jnp.ones(2),
        "p": Path("runs/x"),
        "t": (1, np.bool_(True)),
        "bad": [float("nan"), np.inf],
    }
    assert to_jsonable(obj) == {
        "i": 3,
        "f": 0.5,
        "a": [0, 1, 2],
        "j": [1.0, 1.0],
        "p": "runs/x",
        "t": [1, True],
        "bad": [None, None],
    }
    kept = to_jsonable(obj, keep_nonfinite=True)["bad"]
    assert math.isnan(kept[0]) and kept[1] == math.inf


def test_to_jsonable_refuses_what_it_cannot_convert():
    from infodyn.errors import InputError

    with pytest.raises(InputError, match="cannot write object"):  # one line, not a TypeError
        to_jsonable({"x": object()})
    with pytest.raises(InputError, match="cannot write complex"):
        to_jsonable({"x": 1 + 2j})


def test_write_json_writes_strict_json(tmp_path):
    path = write_json(tmp_path / "r.json", {"m": np.float64("nan"), "n": np.int32(2)})
    assert json.loads(path.read_text(), parse_constant=pytest.fail) == {"m": None, "n": 2}


@pytest.mark.parametrize("mask", [0o002, 0o022, 0o077])
def test_atomic_files_get_the_umask_mode(mask, tmp_path):
    from infodyn.atomic import save_npz, write_json, write_text

    old = os.umask(mask)
    try:
        paths = [
            write_json(tmp_path / "a.json", {"x": 1}),
            write_text(tmp_path / "b.txt", "x"),
            save_npz(tmp_path / "c.npz", x=np.zeros(2)),
        ]
    finally:
        os.umask(old)
    for p in paths:
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask, (p, oct(p.stat().st_mode))
    assert not list(tmp_path.glob(".*.tmp"))


def test_interrupted_write_leaves_no_temporary(tmp_path):
    from infodyn.atomic import atomic_path, remove_temporaries

    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "x.json") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".x.json.abc.json.tmp").write_text("left by a killed worker")
    assert remove_temporaries(tmp_path) == 1 and not list(tmp_path.rglob("*.tmp"))


def test_removing_temporaries_leaves_what_cannot_be_removed(tmp_path, monkeypatch):
    """A sweep whose folder turned read-only ended with an error naming a temporary file that
    the clean-up could not remove, instead of the points' own failures."""
    import errno
    from pathlib import Path

    left = tmp_path / ".x.json.abc.json.tmp"
    left.write_text("left by a killed worker")

    def read_only(self, missing_ok=False):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "unlink", read_only)
    assert remove_temporaries(tmp_path) == 0 and left.exists()


def test_writing_where_one_cannot_is_an_input_error(tmp_path):
    from faultkit import unwritable_dir

    from infodyn.atomic import write_json
    from infodyn.experiments.rundir import RunDir

    with pytest.raises(InputError, match="permission denied|not permitted"):
        write_json(unwritable_dir(tmp_path) / "x" / "a.json", {})
    # a folder that exists but takes no files: the message named the temporary file
    # (".a.json.w24w000m.tmp: read-only file system")
    folder = Path("/sys") if os.geteuid() == 0 else unwritable_dir(tmp_path)
    with pytest.raises(InputError) as err:
        write_json(folder / "a.json", {})
    assert str(err.value).startswith(f"{folder / 'a.json'}: ") and ".tmp" not in str(err.value)
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="/f: a file is in the way"):
        write_json(tmp_path / "f" / "a.json", {})
    with pytest.raises(InputError, match="f: a file is in the way"):
        RunDir(tmp_path / "f")
    # a folder where the file should go: the message names it, not the temporary file
    (tmp_path / "d.json").mkdir()
    with pytest.raises(InputError, match=r"d\.json: is a directory") as err:
        write_json(tmp_path / "d.json", {})
    assert ".tmp" not in str(err.value) and not list(tmp_path.glob(".*.tmp"))


def test_an_interrupt_as_the_temporary_is_made_leaves_none(tmp_path, monkeypatch):
    """The simulate interrupt test sends its signals when the temporary file appears: landing
    after mkstemp (atomic_path) or while SpikeWriter set the file up (before any __exit__), the
    KeyboardInterrupt left ``.NAME.XXXX.tmp`` behind (seen once under load)."""
    import infodyn.atomic as atomic
    from infodyn.atomic import atomic_path
    from infodyn.data.spike_files import SpikeWriter

    real_close = os.close

    def interrupted_close(fd):
        real_close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "close", interrupted_close)
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "a.json"):
        pass
    monkeypatch.setattr(atomic.os, "close", real_close)
    assert not list(tmp_path.iterdir())

    def interrupted_create(self):
        self._h5 = None
        raise KeyboardInterrupt

    monkeypatch.setattr(SpikeWriter, "_create", interrupted_create)
    with pytest.raises(KeyboardInterrupt):
        SpikeWriter(tmp_path / "s.h5", n_units=3)
    assert not list(tmp_path.iterdir())


def test_write_csv_columns_are_every_key_in_order_blank_when_missing(tmp_path):
    path = write_csv(tmp_path / "t.csv", [{"a": 1}, {"b": 2, "a": 3}])
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["a", "b"], ["1", ""], ["3", "2"]]


def test_write_csv_writes_lists_and_tables_as_json(tmp_path):
    """A sweep's grid of lists (``units = ["0-9", [0, 1]]``) or a table of results: cells any
    reader parses back (Python's repr has single quotes and None)."""
    rows = [{"units": ["a", None, 1.5], "fit": {"ok": True}, "flag": True, "n": (1, 2)}]
    with open(write_csv(tmp_path / "t.csv", rows), newline="") as fh:
        (got,) = list(csv.DictReader(fh))
    assert json.loads(got["units"]) == ["a", None, 1.5]
    assert json.loads(got["fit"]) == {"ok": True}
    assert json.loads(got["n"]) == [1, 2]
    assert got["flag"] == "True"  # pandas and R read it as a boolean
    # an array is a list; what JSON cannot hold (tuple keys) is its text, not a TypeError
    odd = [{"a": np.array([1, 2]), "t": {(1, 2): 3}, "x": [float("nan")]}]
    with open(write_csv(tmp_path / "o.csv", odd), newline="") as fh:
        (got,) = list(csv.DictReader(fh))
    assert json.loads(got["a"]) == [1, 2] and got["t"] == "{(1, 2): 3}"
    assert np.isnan(json.loads(got["x"])[0])


def test_remove_temporaries_counts_and_removes_only_files(tmp_path):
    (tmp_path / ".d.tmp").mkdir()  # a folder matching the pattern is not a temporary file
    (tmp_path / ".x.json.abc.json.tmp").write_text("left")
    assert remove_temporaries(tmp_path) == 1
    assert (tmp_path / ".d.tmp").is_dir()


def test_write_json_keeps_integers_and_bools_as_such(tmp_path):
    path = write_json(tmp_path / "r.json", {"i": np.int64(3), "b": np.bool_(True)})
    text = path.read_text()
    loaded = json.loads(text)
    assert type(loaded["i"]) is int and loaded["b"] is True
    assert '"i": 3,' in text and '"b": true' in text


def test_save_npz_compresses_unless_told_not_to(tmp_path):
    a = save_npz(tmp_path / "a.npz", x=np.zeros(1000))
    b = save_npz(tmp_path / "b.npz", compress=False, x=np.zeros(1000))
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert {i.compress_type for i in za.infolist()} == {zipfile.ZIP_DEFLATED}
        assert {i.compress_type for i in zb.infolist()} == {zipfile.ZIP_STORED}
    assert np.array_equal(np.load(a)["x"], np.load(b)["x"])


def test_the_data_reach_the_disk_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    # a rename without fsync can leave an empty file under the new name after a power loss
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.fstat(fd).st_ino))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("rename", os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_json(tmp_path / "r.json", {"a": 1})
    (_, data), rename, (_, folder) = events  # in this order: data, rename, folder
    assert data == (tmp_path / "r.json").stat().st_ino  # the renamed file is the synced one
    assert rename == ("rename", str(tmp_path / "r.json")) and folder == tmp_path.stat().st_ino
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": 1}


def test_remove_temporaries_removes_a_staged_spike_file_of_a_killed_simulate_run(tmp_path):
    # a simulate point killed while its figures were made left its spikes staged (gigabytes
    # at 10^5 units); a sweep rerun without that point kept them forever
    from infodyn.experiments.simulate_run import STAGED

    point = tmp_path / "points" / "n_rec=100000"
    point.mkdir(parents=True)
    (point / STAGED).write_bytes(b"\x89HDF")
    (point / "spikes.h5").write_bytes(b"\x89HDF")  # a finished run's file stays
    assert remove_temporaries(tmp_path) == 1
    assert [p.name for p in point.iterdir()] == ["spikes.h5"]


def test_write_text_takes_text(tmp_path):
    from infodyn.atomic import write_text
    from infodyn.errors import InputError

    with pytest.raises(InputError, match="text must be a str, got NoneType"):
        write_text(tmp_path / "t.txt", None)  # "data must be str" from the temporary file
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not hasattr(os, "statvfs"), reason="no statvfs on this platform (Windows)")
def test_require_space_names_a_read_only_file_system_and_skips_one_without_capacity(
    tmp_path, monkeypatch
):
    """A write to /proc was refused as "no space left on the device" (its file system reports
    none), and so was one to a read-only mount; a real shortage still is."""
    import errno
    import shutil
    from types import SimpleNamespace

    from infodyn.atomic import HDF5_RESERVE_BYTES, require_space

    def fs(flag, blocks):
        return lambda folder: SimpleNamespace(f_flag=flag, f_blocks=blocks)

    monkeypatch.setattr(os, "statvfs", fs(os.ST_RDONLY, 100))
    with pytest.raises(OSError) as read_only:
        require_space(tmp_path / "x.h5", 10)
    assert read_only.value.errno == errno.EROFS
    monkeypatch.setattr(os, "statvfs", fs(0, 0))  # /proc, /sys: no capacity to compare
    require_space(tmp_path / "x.h5", 10)
    monkeypatch.setattr(os, "statvfs", fs(0, 100))
    monkeypatch.setattr(shutil, "disk_usage", lambda f: SimpleNamespace(free=HDF5_RESERVE_BYTES))
    with pytest.raises(OSError) as full:
        require_space(tmp_path / "x.h5", 10)
    assert full.value.errno == errno.ENOSPC


def test_replace_false_never_replaces_a_file_made_meanwhile(tmp_path, monkeypatch):
    """Two `infodyn convert` runs to one new file both said they wrote it (the check that it
    did not exist came before the write): without replace, the final name is taken by a hard
    link, which fails where the name exists, even one made while the block ran."""
    import os

    from infodyn.atomic import atomic_path

    target = tmp_path / "out.h5"
    with pytest.raises(FileExistsError), atomic_path(target, replace=False) as tmp:
        tmp.write_text("mine")
        target.write_text("the other process's")  # made while this one was written
    assert target.read_text() == "the other process's"
    assert [p.name for p in tmp_path.iterdir()] == ["out.h5"]  # no temporary left
    target.unlink()
    with atomic_path(target, replace=False) as tmp:
        tmp.write_text("mine")
    assert target.read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["out.h5"]

    def no_links(src, dst):  # a filesystem without hard links: refused all the same
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with pytest.raises(FileExistsError), atomic_path(target, replace=False) as tmp:
        tmp.write_text("again")
    assert target.read_text() == "mine"
    target.unlink()
    with atomic_path(target, replace=False) as tmp:
        tmp.write_text("renamed")
    assert target.read_text() == "renamed"
