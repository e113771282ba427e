"""Spike writers and image patches check what they are given (an adversarial review's
findings: files written that could not be read back, raw errors, silently empty patches)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from infodyn.data import (
    SpikeReader,
    SpikeTrain,
    SpikeWriter,
    iter_spike_file,
    load_spikes,
    saccade_path,
    save_spikes,
)
from infodyn.data import images as I
from infodyn.errors import InputError

_IMG = np.random.default_rng(0).random((40, 40))


@pytest.mark.parametrize(
    ("kwargs", "times", "units", "trial", "message"),
    [
        (dict(n_units=2), [0.7, 1.9], [0, 1], 0, "times must be whole numbers"),  # truncated
        (dict(n_units=3), [0, 1], [0, 5], 0, r"units must lie in \[0, 3\)"),  # read-time error
        (dict(n_units=3), [-1, 1], [0, 1], 0, "times must lie in"),
        (dict(n_units=3, n_steps=10), [0, 10], [0, 1], 0, r"times must lie in \[0, 10\)"),
        (dict(n_units=3, n_trials=2), [0, 1], [0, 1], 2, "trial must be at most 1"),
    ],
)
def test_spike_writer_refuses_bad_spikes(tmp_path, kwargs, times, units, trial, message):
    path = tmp_path / "w.h5"
    with pytest.raises(InputError, match=message), SpikeWriter(path, **kwargs) as w:
        w.append(times, units, trial=trial)
    assert not path.exists()  # nothing half-written under the final name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n_units=0), "n_units must be a whole number >= 1"),
        (dict(n_units=2, dt=-1.0), "dt must be a positive number"),
        (dict(n_units=2, n_trials=0), "n_trials must be"),
        (dict(n_units=2, n_steps=2.5), "n_steps must be"),
    ],
)
def test_spike_writer_refuses_a_bad_header_before_making_the_file(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        SpikeWriter(tmp_path / "w.h5", **kwargs)
    assert not list(tmp_path.iterdir())


def test_spike_files_must_be_named_as_hdf5(tmp_path):
    # HDF5 written as .npz could not be read back ("pickled data")
    s = SpikeTrain.from_dense(np.eye(3, dtype=np.uint8))
    for name in ("s.npz", "s"):
        with pytest.raises(InputError, match="name the file .h5 or .hdf5"):
            save_spikes(tmp_path / name, s)
        with pytest.raises(InputError, match="name the file .h5 or .hdf5"):
            SpikeWriter(tmp_path / name, n_units=3)
    with SpikeWriter(tmp_path / "ok.h5", n_units=3, n_steps=3) as w:
        w.append(np.array([0, 1, 2]), np.array([0, 1, 2]))
    np.testing.assert_array_equal(load_spikes(tmp_path / "ok.h5").to_dense()[0], np.eye(3))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: I.natural_patches(4, 50, images=[_IMG], seed=-1), "seed must be"),
        (lambda: I.natural_patches(4, 50, images=[_IMG], seed=1.5), "seed must be"),
        (lambda: I.natural_patches(4, 50, images=[_IMG], held_out=0.3, n_test=5.5), "n_test"),
        (lambda: I.natural_patches(4, 50, images=[np.full((5, 5), "a")]), "must be numbers"),
        (lambda: I.natural_patches(4, 50, images=[_IMG], whiten="zca", zca_epsilon=np.inf), "zca"),
        (lambda: I.natural_patches(4, 50, images=[_IMG], whiten="dog", dog_sigmas=(1.0,)), "dog"),
        (lambda: I.natural_patches(4, 50, images=[_IMG], held_out="camera"), r"\['camera'\]"),
        (lambda: saccade_path(_IMG, size=0), "size must be"),  # empty patches
        (lambda: saccade_path(_IMG, max_offset=-1), "max_offset must be"),  # never drifted
    ],
)
def test_patch_options_are_checked(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_numpy_numbers_are_options_too():
    split = I.natural_patches(4, 50, images=[_IMG, _IMG.T], held_out=np.float32(0.3), seed=1)
    assert split.train.shape == (50, 16) and split.test.shape == (15, 16)
    path = saccade_path(_IMG, fixation_steps=np.int64(5), n_fixations=2, seed=0)
    assert path.grey.shape[0] == 10


def test_spike_writer_flags_a_chunk_out_of_time_order(tmp_path):  # kills F03
    """One append whose times go back (5 then 1): the file is flagged unsorted, so window reads
    are refused on the call while order-free passes count it (the file is not 'corrupt')."""
    path = tmp_path / "w.h5"
    with SpikeWriter(path, n_units=2, n_steps=8) as w:
        w.append([5, 1], [0, 1])
    with h5py.File(path, "r") as h5:
        assert int(h5.attrs["sorted"]) == 0
    with pytest.raises(InputError, match=r"not stored in \(trial, time\) order"):
        iter_spike_file(path, 4)
    with SpikeReader(path) as reader:
        assert reader.unit_counts().tolist() == [1, 1]
        assert reader.step_counts().tolist() == [[0, 1, 0, 0, 0, 1, 0, 0]]


def test_spike_writer_n_steps_defaults_to_the_last_spike_plus_one(tmp_path):  # kills F04
    """SpikeWriter docstring: n_steps defaults to the last spike time + 1."""
    with SpikeWriter(tmp_path / "w.h5", n_units=2) as w:
        w.append([0, 3], [0, 1])
        w.append([7], [1])
    s = load_spikes(tmp_path / "w.h5")
    assert s.n_steps == 8
    assert s.to_dense()[0, 7].tolist() == [0, 1]


def test_spike_file_suffixes_are_case_insensitive(tmp_path):  # kills F09
    """.H5 / .HDF5 name HDF5 spike files as .h5 / .hdf5 do (is_h5_path compares lower case)."""
    train = SpikeTrain(times=[0, 2, 4, 9], units=[0, 1, 0, 0], n_units=3, n_steps=10)
    for name in ("S.H5", "S.HDF5"):
        path = save_spikes(tmp_path / name, train)
        assert load_spikes(path).times.tolist() == [0, 2, 4, 9]
        with SpikeReader(path) as reader:
            assert reader.unit_counts().tolist() == [3, 1, 0]


def test_spike_writer_close_checks_n_steps_and_stays_open_when_refused(tmp_path):
    # close(n_steps=...) was never checked: 3 with a spike at step 7 wrote a file that failed
    # only when read, 2.7 was cut to 2 and 0 fell back to the default
    path = tmp_path / "w.h5"
    w = SpikeWriter(path, n_units=2)
    w.append([0, 7], [0, 1])
    for bad, match in ((3, "n_steps=3 but a spike lies at step 7"), (2.7, "whole number")):
        with pytest.raises(InputError, match=match):
            w.close(n_steps=bad)
    with pytest.raises(InputError, match="whole number >= 1"):
        w.close(n_steps=0)
    assert not path.exists()
    w.close(n_steps=8)
    s = load_spikes(path)
    assert (s.n_steps, s.times.tolist(), s.units.tolist()) == (8, [0, 7], [0, 1])
