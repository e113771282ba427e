"""Readers' notes (infodyn.data.notes): kept by a recording block, else a DataWarning at the
user's call; Python's own warnings left alone."""

import numpy as np
import pytest


def test_recording_data_warnings_keeps_the_readers_notes():
    import warnings

    from infodyn.data.notes import DataWarning, recording_data_warnings, warn_data

    lines: list[str] = []
    with pytest.warns(RuntimeWarning, match="not the reader's"):
        with recording_data_warnings(lines):
            warn_data("3 spikes merged")
            warnings.warn("not the reader's", RuntimeWarning, stacklevel=1)
            warn_data("3 spikes merged")  # a second pass over the file: kept once
            warn_data("1 spike dropped")
    assert lines == ["3 spikes merged", "1 spike dropped"]
    with pytest.raises(KeyError), recording_data_warnings(lines):  # kept when the block fails
        warn_data("read before the failure")
        raise KeyError
    assert lines[-1] == "read before the failure"
    again: list[str] = []  # the same file read again by another run: recorded again
    with recording_data_warnings(again):
        warn_data("3 spikes merged")
    assert again == ["3 spikes merged"]
    with pytest.warns(DataWarning, match="outside a block") as seen:  # a warning there
        warn_data("outside a block")
    assert seen[0].filename == __file__  # at the first caller outside infodyn


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_a_readers_note_points_at_the_users_call(tmp_path, suffix):
    """The readers' fixed stack levels pointed inside infodyn (spikes.py, spike_reader.py,
    io.py) for load_spikes and step_counts: -W and module filters on the user's code missed."""
    from infodyn.criticality import step_counts
    from infodyn.data import DataWarning, SpikeWriter, load_spikes

    path = tmp_path / f"s{suffix}"
    if suffix == ".npz":
        np.savez(path, times=[1, 1, 2], units=[0, 0, 1], n_units=2, n_steps=4)
    else:
        with SpikeWriter(path, n_units=2, n_steps=4) as w:
            w.append([2, 1, 1], [1, 0, 0])
    with pytest.warns(DataWarning, match="1 spikes repeat") as seen:
        load_spikes(path)
    assert seen[0].filename == __file__
    if suffix == ".h5":
        with pytest.warns(DataWarning, match="1 spikes repeat") as seen:
            step_counts(path)
        assert seen[0].filename == __file__


def test_recording_data_warnings_leaves_pythons_warnings_alone():
    """A first version recorded every warning of the block and warned again afterwards without
    the module: "once" showed twice and module filters stopped matching."""
    import warnings

    from infodyn.data.notes import recording_data_warnings

    def twice() -> None:
        for _ in range(2):
            with recording_data_warnings([]):
                warnings.warn("a library's", UserWarning, stacklevel=1)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("once")
        twice()
    assert len(seen) == 1
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("ignore")
        warnings.filterwarnings("always", category=UserWarning, module=__name__)
        twice()
    assert len(seen) == 2


def test_muted_warnings_mutes_notes_and_runtime_warnings_but_not_deprecations():
    """The experiments' blocks for internal estimates ignored every warning category: a
    dependency's DeprecationWarning or FutureWarning there would have stayed hidden until the
    release that removes the call."""
    import warnings

    from infodyn.criticality import CriticalityWarning
    from infodyn.data.notes import muted_warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with muted_warnings():
            warnings.warn("a note", CriticalityWarning, stacklevel=1)
            warnings.warn("overflow", RuntimeWarning, stacklevel=1)
            warnings.warn("old call", DeprecationWarning, stacklevel=1)
            warnings.warn("new default", FutureWarning, stacklevel=1)
        warnings.warn("after the block", UserWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["old call", "new default", "after the block"]
