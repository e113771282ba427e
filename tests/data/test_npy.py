"""``infodyn.data.npy.read_npy``: the header is checked against the file and the free memory
before anything is allocated, so a corrupt or cut-short file gives the same clear error on every
machine (a header declaring 10^13 values was a MemoryError here and a late ValueError on a
machine that overcommits memory)."""

import io

import numpy as np
import pytest

from infodyn.data.npy import read_npy
from infodyn.errors import InputError
from infodyn.memory import MemoryPreflightError


def _header(shape, descr="<u8", version=(1, 0)) -> bytes:
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buf, header)
    else:
        np.lib.format.write_array_header_2_0(buf, header)
    return buf.getvalue()


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
@pytest.mark.parametrize("array", [np.arange(7.0), np.zeros((0,)), np.ones((3, 2), np.int32)])
def test_reads_what_numpy_wrote(tmp_path, version, array):
    """Every header version numpy writes (3.0: utf-8 headers)."""
    path = tmp_path / "a.npy"
    with open(path, "wb") as fh:
        np.lib.format.write_array(fh, array, version=version)
    got = read_npy(path)
    assert got.dtype == array.dtype
    np.testing.assert_array_equal(got, array)


@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_a_header_declaring_more_than_the_file_holds(tmp_path, version):
    path = tmp_path / "t.npy"
    path.write_bytes(_header((10**13,), version=version) + bytes(64))
    with pytest.raises(InputError) as info:
        read_npy(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: its header declares uint64 of shape (10000000000000,)")
    assert "(72.8 TiB) but the file holds 64 B after it: a corrupt header or a file cut" in msg
    assert not isinstance(info.value, MemoryPreflightError)


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_a_file_cut_short_by_one_value(tmp_path, version):
    path = tmp_path / "t.npy"
    with open(path, "wb") as fh:
        np.lib.format.write_array(fh, np.arange(10.0), version=version)
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(InputError, match=r"\(80 B\) but the file holds 72 B after it"):
        read_npy(path)


def test_an_allocation_that_fails_after_the_estimate_fitted(tmp_path, monkeypatch):
    path = tmp_path / "a.npy"
    np.save(path, np.zeros(3))

    def refuse(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(np, "load", refuse)
    with pytest.raises(InputError) as info:
        read_npy(path, advice="crop it")
    assert str(info.value) == f"{path}: too large to load into the memory that is free; crop it"


def test_an_array_larger_than_the_free_memory(tmp_path, monkeypatch):
    path = tmp_path / "big.npy"
    np.save(path, np.zeros(1000))
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "4K")
    with pytest.raises(MemoryPreflightError) as info:
        read_npy(path, "the spike times", "split the recording")
    assert str(info.value) == (
        f"the spike times in {path} (float64 of shape (1000,)) needs 7.81 KiB but 4 KiB is free "
        "under INFODYN_MEMORY_LIMIT; split the recording"
    )
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1M")
    np.testing.assert_array_equal(read_npy(path), np.zeros(1000))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"not a readable \.npy file \(ValueError: EOF: reading magic string"),
        (b"junk", r"not a readable \.npy file \(ValueError"),
        (_header((3,))[:20], r"not a readable \.npy file \(ValueError"),  # header cut short
        (_header((2,), "|O") + bytes(16), "holds Python objects"),
    ],
    ids=["empty", "junk", "header-cut", "objects"],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "x.npy"
    path.write_bytes(content)
    with pytest.raises(InputError, match=f"{path}: {message}") as info:
        read_npy(path)
    assert "\n" not in str(info.value) and "allow_pickle" not in str(info.value)


def test_a_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"missing\.npy: not a readable \.npy file \(FileNotFound"):
        read_npy(tmp_path / "missing.npy")
