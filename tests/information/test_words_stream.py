"""Words binned from a streamed HDF5 file equal those of the loaded file; ``info`` and
``energy`` runs on a file give the numbers of the loaded spikes."""

import json

import numpy as np
import pytest

from infodyn.data import binning
from infodyn.data.spikes import SpikeTrain, load_spikes, save_spikes


@pytest.fixture
def files(tmp_path):
    """The same spikes (3 trials, 40 units, correlated) as a streamed .h5 and a loaded .npz."""
    rng = np.random.default_rng(1)
    t, n = 900, 40
    common = rng.random((3, t)) < 0.05
    r = (rng.random((3, t, n)) < 0.02) | (common[..., None] & (rng.random((3, t, n)) < 0.5))
    r[..., 7] = 0  # a silent unit
    spikes = SpikeTrain.from_dense(r.astype(np.uint8), dt=0.5)
    h5, npz = tmp_path / "s.h5", tmp_path / "s.npz"
    save_spikes(h5, spikes)
    np.savez(npz, raster=r.astype(np.uint8), dt=0.5)  # loaded whole by load_spikes
    return h5, npz, r


def test_binned_from_blocks_equals_loaded(files):
    from infodyn.information import spike_words

    h5, _, r = files
    loaded = load_spikes(h5)
    units = [30, 2, 7, 11]
    for bin_steps, binary in ((1, True), (3, True), (4, False)):
        with binning.spike_source(h5, block_spikes=97) as src:  # many small blocks
            assert src.streamed
            got = src.binned(bin_steps, units, binary=binary)
        with binning.spike_source(loaded) as src:
            ref = src.binned(bin_steps, units, binary=binary)
        np.testing.assert_array_equal(got, ref)
        n_bins = 900 // bin_steps
        counts = r[:, : n_bins * bin_steps][..., units].reshape(3, n_bins, bin_steps, 4).sum(2)
        np.testing.assert_array_equal(got, counts > 0 if binary else counts)
        if binary:
            words = spike_words(loaded.select_units(units), bin_steps)
            np.testing.assert_array_equal(got.reshape(-1, 4), words)
    with binning.spike_source(h5) as src:
        np.testing.assert_array_equal(src.unit_counts(), loaded.spike_counts())


def test_info_run_streamed_equals_loaded(files, tmp_path, monkeypatch):
    from infodyn.experiments.info_run import run_info

    h5, npz, r = files
    monkeypatch.setattr(binning, "BLOCK_SPIKES", 101)
    kw = dict(bin_ms=1.0, max_population=5, n_shuffles=2, max_units=12)
    a = run_info(h5, tmp_path / "a", **kw)
    b = run_info(npz, tmp_path / "b", **kw)
    # 40 units > max_units: the 12 most active, as counted from the dense raster
    active = np.sort(np.argsort(-r.sum(axis=(0, 1)), kind="stable")[:12])
    assert a["units"] == active.tolist() and a["n_units"] == 12 and a["n_units_file"] == 40
    for key in ("units", "entropy_bits", "pairwise_mi_bits", "population", "n_samples"):
        assert a[key] == b[key]
    mi_a = np.load(tmp_path / "a" / "information.npz")["pairwise_mi_bits"]
    mi_b = np.load(tmp_path / "b" / "information.npz")["pairwise_mi_bits"]
    np.testing.assert_array_equal(mi_a, mi_b)
    c = run_info(h5, tmp_path / "c", units=[3, 5, 9, 30], **kw)
    assert c["n_units"] == 4 and {p["i"] for p in c["pairwise_mi_bits"]["top_pairs"]} <= {3, 5, 9}
    saved = json.loads((tmp_path / "c" / "results.json").read_text())
    assert saved["units"] == [3, 5, 9, 30]


def test_energy_words_streamed_equal_loaded(files, monkeypatch):
    from infodyn.energy import binary_words

    h5, _, _ = files
    monkeypatch.setattr(binning, "BLOCK_SPIKES", 64)
    for kw in (dict(units=[4, 1, 20]), dict(bin_ms=1.5, window=2, units=list(range(10)))):
        got = binary_words(str(h5), **kw)
        ref = binary_words(load_spikes(h5), **kw)
        np.testing.assert_array_equal(got.X, ref.X)
        np.testing.assert_array_equal(got.trial, ref.trial)
        np.testing.assert_array_equal(got.units, ref.units)
        assert got.bin_ms == ref.bin_ms


def test_energy_run_refuses_too_many_active_units_before_binning(files, tmp_path):
    from infodyn.errors import InputError
    from infodyn.experiments.energy_run import run_energy

    h5, _, _ = files
    with pytest.raises(InputError, match="39 of the file's 40 units spike"):
        run_energy({"spikes": str(h5), "max_units": 20}, tmp_path / "e")
