"""Network weights to and from .npz files: round trips, and bad files and bad weights refused
with one InputError (infodyn.network.params_file)."""

import zipfile

import numpy as np
import pytest

import infodyn as idn
from infodyn import InputError
from infodyn.network import SparseWeights
from infodyn.network.params_file import load_params, params_from_arrays, save_params


def _sparse_params():
    net = idn.network.LIF(n_in=4, n_rec=50, connectivity="sparse", k_in=7)
    return net, net.init(seed=2, precision="float32")


def test_save_and_load_params_round_trip(tmp_path):
    net, p = _sparse_params()
    path = idn.network.save_params(tmp_path / "p.npz", p)
    q = idn.network.load_params(path)
    assert isinstance(q["w_rec"], SparseWeights) and q["w_rec"].same_pattern(p["w_rec"])
    np.testing.assert_array_equal(q["w_rec"].values, p["w_rec"].values)
    assert q["w_rec"].values.dtype == np.float32
    np.testing.assert_array_equal(q["w_in"], p["w_in"])
    net.validate_params(q)
    dense = idn.network.LIF(n_in=4, n_rec=5).init(seed=0)
    r = idn.network.load_params(idn.network.save_params(tmp_path / "d.npz", dense))
    np.testing.assert_array_equal(r["w_rec"], dense["w_rec"])


def test_save_refuses_a_pattern_it_would_corrupt(tmp_path):
    _, p = _sparse_params()
    w = p["w_rec"]
    huge = np.asarray(w.indices, np.int64)
    huge[3] += 2**32  # int32 storage would wrap it back into range: a silently different network
    for indices, match in ((huge, "out of range"), (np.asarray(w.indices) + 0.5, "integers")):
        bad = SparseWeights(w.values, indices, w.indptr, w.shape)
        with pytest.raises(InputError, match=match):
            idn.network.save_params(tmp_path / "bad.npz", {**p, "w_rec": bad})
        assert not (tmp_path / "bad.npz").exists()


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_load_refuses_bad_files_with_one_error(tmp_path):
    _, p = _sparse_params()
    good = dict(np.load(idn.network.save_params(tmp_path / "p.npz", p)))
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    np.save(tmp_path / "one.npy", np.zeros(3))
    cases = {
        "empty.npz": "not a params file",
        "junk.npz": "not a params file",
        "one.npy": "single .npy array",
        _write(tmp_path / "shape0d.npz", **{**good, "w_rec.shape": np.array(50)}).name: "pair",
        _write(tmp_path / "shape1.npz", **{**good, "w_rec.shape": np.array([50])}).name: "shape",
        _write(tmp_path / "shape3.npz", **{**good, "w_rec.shape": np.array([50, 50, 1])}).name: (
            "shape"
        ),
        _write(tmp_path / "shapefr.npz", **{**good, "w_rec.shape": np.array([50.5, 50])}).name: (
            "shape"
        ),
        _write(
            tmp_path / "noptr.npz", **{k: v for k, v in good.items() if k != "w_rec.indptr"}
        ).name: "sparse weight needs .* lacks indptr",
        _write(
            tmp_path / "oor.npz", **{**good, "w_rec.indices": good["w_rec.indices"] + 50}
        ).name: "out of range",
    }
    for name, match in cases.items():
        with pytest.raises(InputError, match=match) as info:
            idn.network.load_params(tmp_path / name)
        assert name in str(info.value)


def test_save_params_compresses_small_archives_by_default(tmp_path):
    params = idn.network.LIF(n_in=2, n_rec=3).init(seed=0)
    path = idn.network.save_params(tmp_path / "p.npz", params)
    with zipfile.ZipFile(path) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    path = idn.network.save_params(tmp_path / "q.npz", params, compress=False)
    with zipfile.ZipFile(path) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}


def test_load_refuses_missing_empty_and_pickled_files(tmp_path):
    with pytest.raises(InputError, match="no such params file"):
        idn.network.load_params(tmp_path / "missing.npz")
    np.savez(tmp_path / "none.npz", **{"w_rec.indices": np.zeros(3, np.int32)})  # no weights
    with pytest.raises(InputError, match="lacks indptr, shape, values"):
        idn.network.load_params(tmp_path / "none.npz")
    obj = np.empty(1, dtype=object)
    obj[0] = {"a": 1}
    np.savez(tmp_path / "pickled.npz", w_in=obj)
    with pytest.raises(InputError, match="not a params file"):
        idn.network.load_params(tmp_path / "pickled.npz")


def test_params_from_arrays_keeps_only_its_prefix():
    a, b = np.zeros((2, 2)), np.ones((2, 2))
    out = params_from_arrays({"a.w_in": a, "b.w_in": b}, prefix="a.")
    assert list(out) == ["w_in"]
    np.testing.assert_array_equal(out["w_in"], a)


def test_params_that_are_not_a_dict_of_named_weights_are_refused(tmp_path):
    with pytest.raises(InputError, match="params must be a dict of weights by name .* got list"):
        save_params(tmp_path / "p.npz", [1, 2])  # was AttributeError: no attribute 'items'
    with pytest.raises(InputError, match=r"params' keys must be weight names \(text\), got \[1\]"):
        save_params(tmp_path / "p.npz", {1: np.ones(2)})
    assert not (tmp_path / "p.npz").exists()


def test_a_file_that_is_not_a_zip_is_not_a_params_file(tmp_path):
    """np.load read the bytes as a pickle and advised allowing pickles."""
    junk = tmp_path / "junk.npz"
    junk.write_text("three hundred bytes of text, not an archive " * 7)
    with pytest.raises(InputError) as err:
        load_params(junk)
    assert str(err.value) == f"{junk}: not a params file (not an .npz archive: no zip structure)"
    assert "pickle" not in str(err.value)


def test_save_refuses_what_load_would_refuse(tmp_path):
    """save_params wrote an empty archive, an object array and a weight named "a.b", which
    load_params then refused ("holds no weights", "Object arrays cannot be loaded") or read back
    without the weight: the user learnt it only when loading."""
    cases = [
        ({}, "holds no weights"),
        ({"w_rec": object()}, "must be an array of numbers"),
        ({"w_rec": "abc"}, "must be an array of numbers"),
        ({"w.rec": np.eye(2)}, "without '.' or '/'"),
        ({"a/b": np.eye(2)}, "without '.' or '/'"),
    ]
    for params, message in cases:
        with pytest.raises(InputError, match=message):
            save_params(tmp_path / "p.npz", params)
        assert not (tmp_path / "p.npz").exists()


def test_a_sparse_weight_written_part_way_is_named():
    """w_rec.indices, .indptr and .shape without .values loaded as params without w_rec (the
    error came later: "params is missing ['w_rec']"); without .indices it was a KeyError."""
    w = SparseWeights.from_dense(np.array([[0.0, 0.5], [0.25, 0.0]]))
    arrays = {"w_rec.values": w.values, "w_rec.indices": w.indices, "w_rec.indptr": w.indptr}
    arrays["w_rec.shape"] = np.array(w.shape)
    for part in ("values", "indices"):
        partial = {k: v for k, v in arrays.items() if k != f"w_rec.{part}"}
        with pytest.raises(InputError, match=f"w_rec: a sparse weight needs .*lacks {part}"):
            params_from_arrays(partial)
    assert params_from_arrays(arrays)["w_rec"].nnz == 2
    # a dotted name that is no part of a sparse weight is still ignored (the review: refused)
    assert list(params_from_arrays({**arrays, "meta.note": np.zeros(1)})) == ["w_rec"]
