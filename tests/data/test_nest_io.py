"""NEST spike recordings (infodyn.data.nest_io): ASCII files of every virtual process and
events dicts, binned as recordings are."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import infodyn as idn
from infodyn.data import from_nest_events, load_spikes
from infodyn.errors import InputError

HEAD = "# NEST version: 3.10.0\n# RecordingBackendASCII version: 2\nsender\ttime_ms\n"


def _dat(path, rows, head=HEAD):
    path.write_text(head + "".join(f"{s}\t{t:.3f}\n" for s, t in rows))
    return path


def test_a_nest_file_is_read_with_its_other_virtual_processes(tmp_path):
    """Neo's nine readers were tried on NEST's .dat files and the file was called corrupt; read
    alone, one thread's file would leave out the others' spikes."""
    _dat(tmp_path / "sr-12-0.dat", [(7, 13.9), (9, 13.9), (7, 29.8)])
    _dat(tmp_path / "sr-12-1.dat", [(8, 2.0), (8, 45.7)])
    _dat(tmp_path / "sr-13-0.dat", [(1, 1.0)])  # another recorder: not read
    with pytest.warns(idn.data.DataWarning, match="its 1 sibling file"):
        s = load_spikes(tmp_path / "sr-12-1.dat")
    assert s.metadata["unit_ids"] == [7, 8, 9] and s.n_units == 3 and s.dt == 1.0
    assert s.metadata["files"] == [str(tmp_path / f"sr-12-{vp}.dat") for vp in (0, 1)]
    got = sorted(zip(s.units.tolist(), s.times.tolist(), strict=True))
    assert got == [(0, 13), (0, 29), (1, 2), (1, 45), (2, 13)]  # floor(t / dt), ids in order
    assert s.n_steps == 46
    fine = load_spikes(tmp_path / "sr-13-0.dat", dt=0.25)
    assert fine.times.tolist() == [4] and fine.metadata["unit_ids"] == [1]


def test_events_dicts_and_their_bad_input():
    events = {"senders": np.array([7, 9, 7]), "times": np.array([1.5, 2.0, 3.25])}
    s = from_nest_events(events, dt=0.5)
    assert (s.times.tolist(), s.units.tolist()) == ([3, 4, 6], [0, 1, 0])
    assert load_spikes(events).n_spikes == 3  # load_spikes takes the dict too
    silent = from_nest_events(events, senders=range(5, 11), t_stop=10.0)
    assert silent.n_units == 6 and silent.n_steps == 10 and silent.metadata["unit_ids"][0] == 5
    for bad, said in [
        ({"senders": [1, 2], "times": [1.0]}, "2 senders but 1 spike times"),
        ({"senders": [], "times": []}, "NEST recorded no spikes; to read .* senders="),
        ({"senders": [1.5], "times": [1.0]}, "senders must be whole neuron ids"),
        ({"senders": ["1"], "times": [1.0]}, "senders must be whole neuron ids"),  # TypeError
        ({"senders": [1], "times": [np.nan]}, "non-finite spike times"),
    ]:
        with pytest.raises(InputError, match=said):
            from_nest_events(bad)
    with pytest.raises(InputError, match=r"spikes of neuron\(s\) \[9\] not in senders="):
        from_nest_events(events, senders=[7])


def test_nest_files_that_cannot_be_read_say_why(tmp_path):
    empty = _dat(tmp_path / "e-3-0.dat", [])
    with pytest.raises(InputError, match="NEST recorded no spikes"):
        load_spikes(empty)
    steps = tmp_path / "s-3-0.dat"
    steps.write_text("# NEST version: 3.10.0\nsender\ttime_step\toffset\n1\t139\t0.0\n")
    with pytest.raises(InputError, match="record with time_in_steps=False"):
        load_spikes(steps)
    broken = tmp_path / "b-3-0.dat"
    broken.write_text(HEAD + "1\tnot-a-time\n")
    with pytest.raises(InputError, match="not 'sender time_ms' numbers"):
        load_spikes(broken)
    cut = tmp_path / "c-3-0.dat"  # NEST writing "17\t13.5\n" got as far as "17\t13"
    cut.write_text(HEAD + "3\t2.000\n17\t13")
    with pytest.raises(InputError, match="last line has no line end, so it may be cut short"):
        load_spikes(cut)
    cut.write_text(HEAD + "3\t2.000\r\n \t")  # blanks after the last line end: no line
    assert load_spikes(cut).n_spikes == 1
    with pytest.raises(InputError, match="groups .* NEST has none"):
        load_spikes(_dat(tmp_path / "ok-3-0.dat", [(1, 1.0)]), groups="all")
    other = tmp_path / "other.dat"  # not NEST's: still Neo's to try
    other.write_text("1 2 3\n")
    with warnings.catch_warnings(), pytest.raises(InputError) as info:
        warnings.simplefilter("ignore")
        load_spikes(other)
    assert "NEST" not in str(info.value)


def test_other_recorders_and_step_times_are_refused(tmp_path):
    """A multimeter's file (sender time_ms V_m) was read as one spike per sample; events with
    time_in_steps=True (times in steps, with offsets) were read as ms."""
    multimeter = tmp_path / "mm-4-0.dat"
    multimeter.write_text("# NEST version: 3.10.0\nsender\ttime_ms\tV_m\n1\t1.0\t-70.0\n")
    with pytest.raises(InputError, match=r"\['sender', 'time_ms', 'V_m'\] are not a spike"):
        load_spikes(multimeter)
    with pytest.raises(InputError, match="V_m are not a spike recorder's"):
        from_nest_events({"senders": [1], "times": [1.0], "V_m": [-70.0]})
    with pytest.raises(InputError, match="time_in_steps=True"):
        from_nest_events({"senders": [1], "times": [139], "offsets": [0.0]})
    crlf = tmp_path / "w-5-0.dat"
    crlf.write_bytes(HEAD.replace("\n", "\r\n").encode() + b"2\t3.000\r\n")
    assert load_spikes(crlf).times.tolist() == [3]


def test_files_of_different_runs_and_bad_senders_are_refused(tmp_path):
    """A folder reused with fewer threads kept the old run's other VP files, and they were
    merged without a word (NEST writes each neuron in one VP's file); senders=["2", "10"]
    sorted "10" before "2" and 1.5 was cut to 1."""
    _dat(tmp_path / "r-7-0.dat", [(1, 1.0), (3, 2.0)])
    _dat(tmp_path / "r-7-1.dat", [(2, 1.0)])
    _dat(tmp_path / "r-7-2.dat", [(1, 9.0), (4, 9.5)])  # the old run's: neuron 1 again
    with pytest.raises(InputError, match=r"neuron\(s\) \[1\] appear in more than one of the"):
        load_spikes(tmp_path / "r-7-0.dat")
    events = {"senders": [2, 10], "times": [1.0, 2.0]}
    for bad in (["2", "10"], [1.5, 2.5]):
        with pytest.raises(InputError, match="senders must be whole neuron ids"):
            from_nest_events(events, senders=bad)
    assert from_nest_events(events, senders=[2.0, 10.0]).metadata["unit_ids"] == [2, 10]
    assert load_spikes((events,)).n_spikes == 2  # nest.GetStatus(recorder, "events")
    with pytest.raises(InputError, match="2 NEST recorders' events: pass one"):
        load_spikes((events, events))
