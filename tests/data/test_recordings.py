"""Recordings users already have: Kilosort/phy folders, Neo files and objects, pynapple TsGroups,
and ``infodyn convert``. Each file is written by the format's own writer (Neo's IO classes,
NumPy for phy's .npy/.tsv files, pynapple's constructors) and read back through load_spikes."""

import subprocess
import sys
import warnings
from pathlib import Path

import neo  # neo and pynapple are in the test extra: these tests run in `make test`
import numpy as np
import pynapple as nap
import pytest
import quantities as pq
from faultkit import cli_subprocess

from infodyn.data import DataWarning, SpikeTrain, load_spikes
from infodyn.errors import InputError

RATE = 30000.0  # samples per second of the phy recordings


def _random_spikes(seed=0, n_units=5, n_steps=200, n_trials=2, dt=0.5, p=0.05):
    rng = np.random.default_rng(seed)
    return SpikeTrain.from_dense(rng.random((n_trials, n_steps, n_units)) < p, dt=dt)


def _same(a: SpikeTrain, b: SpikeTrain):
    assert (a.n_units, a.n_steps, a.n_trials, a.dt) == (b.n_units, b.n_steps, b.n_trials, b.dt)
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.units, b.units)
    np.testing.assert_array_equal(a.trials, b.trials)


# ---------------------------------------------------------------------- phy / Kilosort
def _write_phy(folder, spikes_by_cluster, labels, dt_ms, params=True, seed=1):
    """A phy folder: spikes_by_cluster maps cluster id -> step indices (one trial); each spike
    lies at a random sample inside its step."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    per_step = RATE * dt_ms / 1000.0
    times, clusters = [], []
    for cid, steps in spikes_by_cluster.items():
        steps = np.asarray(steps)
        times.append(np.floor(steps * per_step + rng.uniform(0, per_step - 1, steps.size)))
        clusters.append(np.full(steps.size, cid))
    t, c = np.concatenate(times), np.concatenate(clusters)
    order = np.argsort(t, kind="stable")
    np.save(folder / "spike_times.npy", t[order].astype(np.uint64)[:, None])  # Kilosort: (n, 1)
    np.save(folder / "spike_clusters.npy", c[order].astype(np.int32))
    if labels is not None:
        lines = ["cluster_id\tgroup"] + [f"{cid}\t{g}" for cid, g in labels.items()]
        (folder / "cluster_group.tsv").write_text("\n".join(lines) + "\n")
    if params:
        (folder / "params.py").write_text(
            "dat_path = 'recording.bin'\nn_channels_dat = 64\ndtype = 'int16'\noffset = 0\n"
            f"sample_rate = {RATE}\nhp_filtered = False\n"
        )
    return folder


PHY_SPIKES = {3: [0, 5, 9, 40], 7: [1, 2, 3, 99], 12: [7, 8], 20: [50, 60, 70]}
PHY_LABELS = {3: "good", 7: "mua", 12: "good", 20: "noise", 30: "good"}  # 30 has no spikes


def _expected(ids, n_steps=100, dt=1.0):
    times = np.concatenate([PHY_SPIKES[c] for c in ids])
    units = np.concatenate([np.full(len(PHY_SPIKES[c]), i) for i, c in enumerate(ids)])
    return SpikeTrain(times=times, units=units, n_units=len(ids), n_steps=n_steps, dt=dt)


def test_phy_folder_good_units_by_default(tmp_path):
    folder = _write_phy(tmp_path / "ks", PHY_SPIKES, PHY_LABELS, dt_ms=1.0)
    with pytest.warns(DataWarning, match=r"1 cluster\(s\) labelled good in cluster_group.tsv "):
        s = load_spikes(folder)  # cluster 30 left the population without a word
    _same(s, _expected([3, 12]))
    assert s.metadata["unit_ids"] == [3, 12] and s.metadata["sample_rate"] == RATE
    assert s.metadata["silent_labelled_clusters"] == [30]
    _same(load_spikes(folder, groups=("good", "mua")), _expected([3, 7, 12]))
    _same(load_spikes(folder, groups="good,mua"), _expected([3, 7, 12]))
    _same(load_spikes(folder, groups="all"), _expected([3, 7, 12, 20]))
    for bad in (None, 5):  # "not iterable"
        with pytest.raises(InputError, match="groups must be cluster labels"):
            load_spikes(folder, groups=bad)


def test_phy_labels_compare_without_case(tmp_path):
    # a hand-edited "Good" was left out of the default groups="good" without a word
    labels = {**PHY_LABELS, 3: "Good", 7: "MUA"}
    folder = _write_phy(tmp_path / "ks", PHY_SPIKES, labels, dt_ms=1.0)
    with pytest.warns(DataWarning, match="labelled good"):  # cluster 30: no spikes
        s = load_spikes(folder)
    _same(s, _expected([3, 12]))
    assert s.metadata["unit_groups"] == ["Good", "good"]  # the labels as written
    with pytest.warns(DataWarning):
        _same(load_spikes(folder, groups="GOOD,mua"), _expected([3, 7, 12]))


def test_phy_sample_rate_may_be_a_numpy_number(tmp_path):
    # np.int64(30000) was refused as "not a positive number of Hz"
    from infodyn.data.phy import load_phy

    folder = _write_phy(tmp_path / "ks", PHY_SPIKES, PHY_LABELS, dt_ms=1.0)
    for rate in (np.int64(30000), np.float32(30000.0)):
        _same(load_phy(folder, sample_rate=rate), _expected([3, 12]))


def test_phy_messages_say_what_is_wrong(tmp_path):
    # a header-only tsv and a byte-order mark were "needs the columns cluster_id and group";
    # sample_rate = 3e4 * 1 was "params.py is missing or lacks it"
    folder = _write_phy(tmp_path / "ks", PHY_SPIKES, PHY_LABELS, dt_ms=1.0)
    tsv = folder / "cluster_group.tsv"
    text = tsv.read_text()
    tsv.write_text("\ufeff" + text, encoding="utf-8")
    _same(load_spikes(folder), _expected([3, 12]))
    tsv.write_text("cluster_id\tgroup\n")
    with pytest.raises(InputError, match="has its columns but no cluster rows"):
        load_spikes(folder)
    tsv.write_text(text)
    params = folder / "params.py"
    params.write_text(params.read_text().replace(f"sample_rate = {RATE}", "sample_rate = 3e4 * 1"))
    with pytest.raises(InputError, match="sets sample_rate to an expression"):
        load_spikes(folder)


def test_phy_folder_bin_width(tmp_path):
    folder = _write_phy(tmp_path / "ks", PHY_SPIKES, PHY_LABELS, dt_ms=0.25)
    s = load_spikes(folder, dt=0.25)
    _same(s, _expected([3, 12], dt=0.25))


def test_phy_kilosort_labels_and_templates(tmp_path):
    """Without phy curation: clusters from spike_templates.npy, labels from cluster_KSLabel.tsv."""
    folder = _write_phy(tmp_path / "ks", PHY_SPIKES, None, dt_ms=1.0)
    (folder / "spike_clusters.npy").rename(folder / "spike_templates.npy")
    said = "no cluster labels.*groups='all' .*infodyn convert .* --groups all"
    with pytest.raises(InputError, match=said):
        load_spikes(folder)
    (folder / "cluster_KSLabel.tsv").write_text("cluster_id\tKSLabel\n3\tgood\n7\tmua\n12\tmua\n")
    _same(load_spikes(folder), _expected([3]))
    assert load_spikes(folder).metadata["cluster_file"] == "spike_templates.npy"


def test_phy_merged_spikes_are_counted(tmp_path):
    folder = _write_phy(tmp_path / "ks", {1: [4]}, {1: "good"}, dt_ms=1.0)
    np.save(folder / "spike_times.npy", np.array([120, 121], np.uint64))  # both in step 4
    np.save(folder / "spike_clusters.npy", np.array([1, 1]))
    with pytest.warns(UserWarning, match="1 spikes share a 1.0 ms bin") as caught:
        s = load_spikes(folder)
    assert s.n_spikes == 1 and s.metadata["binning"]["merged"] == 1
    # the advice can be followed from every command (criticality/info/energy take no --dt)
    assert f"infodyn convert {folder} spikes.h5 --dt D" in str(caught[0].message)
    assert len(load_spikes(folder, dt=0.02).times) == 2  # one sample (1/30 ms) apart
    # the same sample twice (a sorter's duplicate): no finer bin parts them, so no such advice
    np.save(folder / "spike_times.npy", np.array([100, 100, 121], np.uint64))
    np.save(folder / "spike_clusters.npy", np.array([1, 1, 1]))
    with pytest.warns(UserWarning) as caught:
        s = load_spikes(folder, dt=0.01)
    said = [str(w.message) for w in caught]
    assert said == [f"{folder}: 1 spikes repeat a spike of the same unit at the same time; each "
                    "was kept once (a unit spikes at most once a step)"]  # fmt: skip
    assert s.metadata["binning"]["merged"] == s.metadata["binning"]["repeated"] == 1


def _npy_header(shape):
    """The bytes of a version 1.0 .npy header for an uint64 array of ``shape``."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<u8", "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: (f / "spike_times.npy").unlink(), "not a Kilosort/phy output folder"),
        (lambda f: (f / "spike_clusters.npy").unlink(), "neither spike_clusters.npy"),
        (lambda f: (f / "params.py").unlink(), "no sample_rate"),
        (lambda f: (f / "params.py").write_text("sample_rate = -3\n"), "sample_rate must be"),
        (lambda f: (f / "params.py").write_text("sample_rate = (\n"), "not a readable params"),
        (lambda f: (f / "params.py").write_text("sample_rate = 1e999\n"), "sample_rate must be"),
        (lambda f: (f / "params.py").write_text(f"sample_rate = 1{'0' * 400}\n"), "rate must be"),
        (lambda f: (f / "params.py").write_text("x = {[]: 1}\nsample_rate = -1\n"), "rate must"),
        (lambda f: (f / "spike_times.npy").write_bytes(b""), "not a readable .npy.*EOF"),
        (
            lambda f: np.save(f / "spike_clusters.npy", np.r_[np.inf, np.ones(12)]),
            "cluster ids must be whole numbers within int64",
        ),
        (
            lambda f: (f / "cluster_group.tsv").write_bytes(b"cluster_id\tgroup\n0\tg\xffood\n"),
            "cluster_group.tsv: cannot read .UnicodeDecodeError",
        ),
        (lambda f: np.save(f / "spike_clusters.npy", np.zeros(2)), "has 13 spikes but"),
        (lambda f: (f / "spike_times.npy").write_bytes(b"junk"), "not a readable .npy"),
        (lambda f: (f / "cluster_group.tsv").write_text("id\tlabel\n1\tgood\n"), "columns"),
        (
            lambda f: (f / "cluster_group.tsv").write_text("cluster_id\tgroup\n3\tmua\n"),
            "no cluster with spikes is labelled good.*clusters with spikes are: .*mua",
        ),
        # "labels found: good" listed the labels of clusters without spikes
        (
            lambda f: np.save(f / "spike_clusters.npy", np.full(13, -1)),
            r"labelled good in .*\(the clusters with spikes are: unlabelled\)",
        ),
        (
            lambda f: (
                np.save(f / "spike_times.npy", np.zeros(0, np.uint64)),
                np.save(f / "spike_clusters.npy", np.zeros(0, np.int64)),
            ),
            "spike_times.npy: holds no spikes",
        ),
        # the last label won silently (unit 1 dropped as noise)
        (
            lambda f: (f / "cluster_group.tsv").write_text(
                "cluster_id\tgroup\n1\tgood\n1\tnoise\n"
            ),
            "line 3: cluster 1 is labelled 'noise' after 'good'",
        ),
        # wrapped to -1 silently
        (
            lambda f: np.save(f / "spike_clusters.npy", np.full(13, 2**64 - 1, np.uint64)),
            "cluster ids must be whole numbers within int64",
        ),
        # a header declaring 10^13 spikes: a bare MemoryError ("use smaller sizes" in the CLI)
        # here, a late ValueError where memory is overcommitted (a 128 GiB GPU machine)
        (
            lambda f: (f / "spike_times.npy").write_bytes(_npy_header((10**13,)) + bytes(64)),
            r"spike_times.npy: its header declares uint64 of shape \(10000000000000,\) "
            r"\(72.8 TiB\) but the file holds 64 B after it",
        ),
    ],
)
def test_phy_bad_folders(tmp_path, damage, message):
    folder = _write_phy(tmp_path / "ks", PHY_SPIKES, PHY_LABELS, dt_ms=1.0)
    damage(folder)
    with pytest.raises(InputError, match=message):
        load_spikes(folder)


def test_phy_unreadable_params_is_an_input_error(tmp_path, monkeypatch):
    """An unreadable params.py was a bare PermissionError (the CLI: advice about writing)."""
    folder = _write_phy(tmp_path / "ks", PHY_SPIKES, PHY_LABELS, dt_ms=1.0)
    real = Path.read_text

    def denied(self, *a, **k):
        if self.name == "params.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(InputError, match="params.py: cannot read .PermissionError: Permission"):
        load_spikes(folder)


def test_plain_folder_is_refused(tmp_path):
    with pytest.raises(InputError, match="is a folder, but not a Kilosort/phy"):
        load_spikes(tmp_path)


# ---------------------------------------------------------------------- Neo


def _neo_block(spikes: SpikeTrain, offsets_s=(0.0, 10.0), shuffle_second=True):
    """One neo Segment per trial, trial r starting at offsets_s[r] seconds, with named
    SpikeTrains in ms; the second segment lists its trains in reverse order."""
    block = neo.Block(name="test")
    for r in range(spikes.n_trials):
        seg = neo.Segment(name=f"trial {r}")
        t0 = offsets_s[r] * 1000.0
        trains = []
        for i in range(spikes.n_units):
            sel = (spikes.trials == r) & (spikes.units == i)
            trains.append(
                neo.SpikeTrain(
                    spikes.times[sel] * spikes.dt + t0,
                    units="ms",
                    t_start=t0 * pq.ms,
                    t_stop=(t0 + spikes.n_steps * spikes.dt) * pq.ms,
                    name=f"unit{i}",
                )
            )
        if shuffle_second and r == 1:
            trains = trains[::-1]
        seg.spiketrains.extend(trains)
        block.segments.append(seg)
    return block


def test_neo_matlab_file_round_trip(tmp_path):
    s = _random_spikes()
    path = tmp_path / "rec.mat"
    neo.io.NeoMatlabIO(str(path)).write_block(_neo_block(s))
    back = load_spikes(path, dt=s.dt)
    _same(back, s)
    assert back.metadata["unit_ids"] == [f"unit{i}" for i in range(s.n_units)]


def test_neo_text_file_tries_the_next_reader(tmp_path):
    """A .txt file of spike times (one line of seconds per unit, as Neo's AsciiSpikeTrainIO
    reads them): Neo's first candidate for .txt (AsciiSignalIO) finds no spike trains, the next
    one does. Written by hand: Neo 0.14's AsciiSpikeTrainIO writer appends units ('4.0 ms')
    that its own reader cannot parse."""
    s = _random_spikes(seed=3, n_trials=1, dt=1.0)
    lines = [
        # mid-bin times: the reader parses float32 seconds (about 1e-8 s off)
        "\t".join(f"{(t + 0.5) / 1000.0:.5f}" for t in s.times[s.units == i])
        for i in range(s.n_units)
    ]
    path = tmp_path / "rec.txt"
    path.write_text("\n".join(lines) + "\n")
    back = load_spikes(path)
    # the text format carries no t_stop: the trial runs to the last spike
    assert back.n_steps == int(s.times.max()) + 1
    np.testing.assert_array_equal(back.times, s.times)
    np.testing.assert_array_equal(back.units, s.units)


def test_neo_objects_in_the_api():
    s = _random_spikes(seed=2, dt=2.0)
    block = _neo_block(s)
    _same(load_spikes(block, dt=2.0), s)
    one = load_spikes(block.segments[0].spiketrains, dt=2.0)
    first = s.trials == 0
    want = SpikeTrain(s.times[first], s.units[first], n_units=s.n_units, n_steps=s.n_steps, dt=2.0)
    _same(one, want)


def test_neo_file_without_spikes_and_unknown_types(tmp_path):
    (tmp_path / "s.csv").write_text("1,2\n3,4\n")  # Neo reads it as a signal, not spikes
    with pytest.raises(
        InputError, match="no spike trains readable by Neo's readers of '.csv'"
    ) as err:
        load_spikes(tmp_path / "s.csv")
    assert "save them as NPZ instead: np.savez('spikes.npz', times=" in str(err.value)
    (tmp_path / "r.plx").write_bytes(bytes(range(7)))  # a format Neo knows, corrupt
    with pytest.raises(InputError, match="r.plx: no spike trains readable.*PlexonIO") as err:
        load_spikes(tmp_path / "r.plx")
    assert "NPZ" not in str(err.value)
    assert "unknown" not in str(err.value)
    (tmp_path / "s.zzz").write_text("?")
    with pytest.raises(InputError, match="unknown spike file type '.zzz'"):
        load_spikes(tmp_path / "s.zzz")
    with pytest.raises(InputError, match="cannot read spikes from a dict"):
        load_spikes({"a": 1})


class _RunsCode:
    """Unpickling this object calls ``open(path, "w")``: proof that the file's code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_neo_pickle_files_are_never_unpickled(tmp_path):
    import pickle

    proof = tmp_path / "code_ran"
    (tmp_path / "rec.pkl").write_bytes(pickle.dumps(_RunsCode(proof)))
    with pytest.raises(InputError, match="PickleIO is not used .unpickling runs code"):
        load_spikes(tmp_path / "rec.pkl")
    assert not proof.exists()


# ---------------------------------------------------------------------- pynapple
def test_pynapple_round_trip_and_independent_group():
    from infodyn.data.pynapple_io import from_tsgroup, to_tsgroup

    s = _random_spikes(seed=4, n_trials=3, dt=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pynapple interval fix-ups
        group = to_tsgroup(s)
    _same(load_spikes(group, dt=0.5), s)
    # a group built by hand: units 10 and 2 (sorted keys -> 2 is unit 0), two epochs
    support = nap.IntervalSet(start=[1.0, 5.0], end=[1.010, 5.010])
    group = nap.TsGroup(
        {
            10: nap.Ts(t=np.array([1.0005, 1.0091, 5.0])),
            2: nap.Ts(t=np.array([1.003, 5.0042, 5.0099])),
        },
        time_support=support,
    )
    got = from_tsgroup(group, dt=1.0)
    want = SpikeTrain(
        times=[0, 9, 0, 3, 4, 9],
        units=[1, 1, 1, 0, 0, 0],
        trials=[0, 0, 1, 0, 1, 1],
        n_units=2,
        n_steps=10,
        n_trials=2,
        dt=1.0,
    )
    _same(got, want)
    assert got.metadata["unit_ids"] == [2, 10]


def test_pynapple_round_trip_keeps_cluster_ids_and_groups():
    """A phy recording through pynapple came back with ids 0..n-1 and no groups: it could not be
    tied back to its sorting. Ascending ids are the group's keys; other ids stay 0..n-1."""
    from infodyn.data.pynapple_io import from_tsgroup, to_tsgroup

    s = _random_spikes(seed=5, n_trials=2, dt=1.0)
    ids = [2 + 5 * i for i in range(s.n_units)]
    groups = ["good" if i % 2 else "mua" for i in range(s.n_units)]
    phy = SpikeTrain(
        times=s.times, units=s.units, trials=s.trials, n_units=s.n_units, n_steps=s.n_steps,
        n_trials=s.n_trials, dt=s.dt, metadata={"unit_ids": ids, "unit_groups": groups},
    )  # fmt: skip
    group = to_tsgroup(phy)
    assert list(group.keys()) == ids
    back = from_tsgroup(group, dt=1.0)
    _same(back, phy)
    assert back.metadata["unit_ids"] == ids and back.metadata["unit_groups"] == groups
    reordered = phy.select_units(list(range(s.n_units))[::-1])  # descending ids: keys 0..n-1
    back = from_tsgroup(to_tsgroup(reordered), dt=1.0)
    _same(back, reordered)
    assert back.metadata["unit_groups"] == groups[::-1]


def test_pynapple_spikes_on_an_interval_end_are_kept_and_others_counted():
    """pynapple's intervals hold their end, and a TsGroup without a time support ends at its
    last spike: those spikes were dropped before binning, so neither counted nor warned."""
    from infodyn.data.pynapple_io import from_tsgroup

    group = nap.TsGroup({0: nap.Ts(t=np.array([0.1, 0.5, 0.9])), 1: nap.Ts(t=np.array([0.3, 0.9]))})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing dropped, nothing to warn about
        got = load_spikes(group)
    assert got.n_spikes == 5 and got.n_steps == 800  # [0.1, 0.9] s: the end in the last step
    np.testing.assert_array_equal(np.sort(got.times), [0, 200, 400, 799, 799])
    assert got.metadata["binning"]["dropped_outside_trials"] == 0
    twelve = nap.TsGroup({0: nap.Ts(t=np.arange(12) * 0.8 + 0.1)})
    with pytest.warns(UserWarning, match="9 spikes lie outside every trial"):
        got = from_tsgroup(twelve, dt=1.0, epochs=nap.IntervalSet([0.0], [2.0]))
    assert got.n_spikes == 3 and got.metadata["binning"]["dropped_outside_trials"] == 9


def test_pynapple_trial_starts_are_kept_and_an_inferred_support_is_named():
    """A TsGroup made without a time support has one inferred from its units' spike spans:
    two units with disjoint spans became two trials, each starting at a spike, with no word;
    and no reader kept its trials' starts."""
    group = nap.TsGroup({1: nap.Ts(t=np.array([5.002, 5.05])), 2: nap.Ts(t=np.array([5.2, 5.3]))})
    with pytest.warns(DataWarning, match="2 intervals each start and end at a spike"):
        got = load_spikes(group)
    assert got.n_trials == 2 and got.metadata["trial_starts_s"] == [5.002, 5.2]
    span = nap.IntervalSet([5.0, 6.0], [5.5, 6.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a support the user gave: no warning
        got = load_spikes(nap.TsGroup(group.data, time_support=span))
    assert got.metadata["trial_starts_s"] == [5.0, 6.0]
    on_spikes = nap.IntervalSet([5.002, 5.2], [5.052, 5.25])  # given: bounds at spikes, but
    spikes = {  # not at each unit's first and last
        1: nap.Ts(t=np.array([5.002, 5.03, 5.052, 5.2, 5.22, 5.25])),
        2: nap.Ts(t=np.array([5.01, 5.21])),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning
        load_spikes(nap.TsGroup(spikes, time_support=on_spikes))
    assert (
        "trial_starts_s"
        not in load_spikes(
            nap.TsGroup(group.data, time_support=nap.IntervalSet([0.0], [6.0]))
        ).metadata
    )


# ---------------------------------------------------------------------- infodyn convert
def _cli(*args):
    return cli_subprocess(*args)


def test_convert_cli(tmp_path):
    folder = _write_phy(tmp_path / "ks", PHY_SPIKES, PHY_LABELS, dt_ms=0.5)
    out = tmp_path / "spikes.h5"
    r = _cli("convert", folder, out, "--dt", "0.5", "--groups", "good,mua")
    assert r.returncode == 0, r.stderr
    assert "3 units" in r.stdout
    _same(load_spikes(out), _expected([3, 7, 12], dt=0.5))
    r = _cli("convert", tmp_path / "ks", tmp_path / "x.npz")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and ".h5 or .hdf5" in r.stderr
    before = out.read_bytes()  # convert X X rewrote its input in place
    r = _cli("convert", out, tmp_path / "." / "spikes.h5")
    assert r.returncode == 2 and "is SOURCE itself" in r.stderr and out.read_bytes() == before
    # an existing file (a run's spikes.h5, beside the results made from it) is kept...
    r = _cli("convert", folder, out, "--dt", "1.0", "--groups", "good,mua")
    assert r.returncode == 2 and "exists; pass --force" in r.stderr and out.read_bytes() == before
    r = _cli("convert", folder, out, "--dt", "1.0", "--groups", "good,mua", "--force")
    assert r.returncode == 0 and load_spikes(out).dt == 1.0  # ... unless --force is given
    r = _cli("convert", tmp_path / "no_such_folder", out)  # said only: OUT exists
    assert r.returncode == 2 and "no_such_folder: no such file or folder" in r.stderr
    np.savez(tmp_path / "none.npz", times=[], units=[], n_units=5, n_steps=100)
    r = _cli("convert", tmp_path / "none.npz", tmp_path / "none.h5")
    assert (
        r.returncode == 2 and "holds no spikes" in r.stderr and not (tmp_path / "none.h5").exists()
    )
    (folder / "spike_clusters.npy").unlink()
    r = _cli("info", folder, "--out", tmp_path / "run")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "neither spike_clusters.npy" in r.stderr and "Traceback" not in r.stderr


def test_cli_warnings_are_one_line(tmp_path):
    # a warning of the reader printed Python's two lines: the file and line of infodyn's code
    # that warned, then its source
    folder = _write_phy(tmp_path / "ks", {1: [4]}, {1: "good"}, dt_ms=1.0)
    np.save(folder / "spike_times.npy", np.array([120, 121], np.uint64))  # both in step 4
    np.save(folder / "spike_clusters.npy", np.array([1, 1]))
    r = subprocess.run(
        [sys.executable, "-m", "infodyn.cli", "convert", str(folder), str(tmp_path / "s.h5")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("warning: ") and "1 spikes share a 1.0 ms bin" in r.stderr
    assert r.stderr.count("\n") == 1 and "UserWarning" not in r.stderr, r.stderr


def test_a_matlab_file_without_neos_structure_names_the_file(tmp_path, caplog):
    """Neo's MATLAB reader returns nothing for a plain .mat file: the message said "expected a
    Neo Block, Segment or SpikeTrain ..., got NoneType", naming neither file nor problem, and
    Neo's logger printed "No block in x.mat" and a traceback line beside it."""
    import scipy.io

    scipy.io.savemat(tmp_path / "x.mat", {"a": np.arange(3)})
    with pytest.raises(InputError, match="x.mat: no spike trains readable by Neo's readers"):
        load_spikes(tmp_path / "x.mat")
    assert not [r for r in caplog.records if r.name.startswith("neo")]


def test_neo_spike_on_t_stop_keeps_the_padding_warning_and_groups_are_refused():
    """A spike on a segment's t_stop left that trial open: unequal trials were padded unsaid.
    --groups was ignored for Neo and pynapple sources."""
    short = neo.Segment()
    short.spiketrains.append(neo.SpikeTrain([1.0, 10.0], units="ms", t_stop=10.0 * pq.ms))
    long = neo.Segment()
    long.spiketrains.append(neo.SpikeTrain([3.0], units="ms", t_stop=20.0 * pq.ms))
    block = neo.Block()
    block.segments.extend([short, long])
    with pytest.warns(UserWarning, match="trials last 10 to 20 steps"):
        s = load_spikes(block)
    assert s.metadata["binning"]["trial_steps_range"] == [10, 20]
    assert sorted(zip(s.trials.tolist(), s.times.tolist(), strict=True)) == [(0, 1), (0, 9), (1, 3)]
    with pytest.raises(InputError, match="Block: groups .--groups. selects Kilosort/phy"):
        load_spikes(block, groups="mua")


def test_a_neo_float32_t_stop_is_read_as_the_decimal_it_prints_as():
    """A t_stop of float32 0.1 s is 0.10000000149 s: its trial took 101 steps of 1 ms (1.1 s,
    1101). Another float64 bound is taken as it is."""
    for stop, steps in ((0.1, 100), (1.1, 1100), (2.3, 2300)):
        st = neo.SpikeTrain(
            np.array([0.05], np.float32) * pq.s, t_start=np.float32(0) * pq.s,
            t_stop=np.float32(stop) * pq.s,
        )  # fmt: skip
        assert load_spikes(st, dt=1.0).n_steps == steps
    wide = neo.SpikeTrain([0.05] * pq.s, t_stop=0.1004 * pq.s)
    assert load_spikes(wide, dt=1.0).n_steps == 101
    # spikes on the float32 bounds stay in the trial (read apart from the bounds, they fell
    # outside: 0.69999998808 before a start of 0.7, 1.7000000477 after a stop of 1.7)
    for t0, t1 in ((0.7, 1.7), (1000.3, 1001.3)):
        on = neo.SpikeTrain(
            np.array([t0, t1], np.float32) * pq.s, t_start=np.float32(t0) * pq.s,
            t_stop=np.float32(t1) * pq.s,
        )  # fmt: skip
        kept = load_spikes(on, dt=1.0)
        assert kept.n_steps == 1000 and kept.times.tolist() == [0, 999], (t0, kept.times)


def test_neo_segments_left_out_or_matched_by_position_are_said():
    """An empty segment was dropped without a word (3 segments, 2 trials: the third became
    trial 1), and segments of 3 and 2 unnamed trains were matched by position unsaid."""
    block = neo.Block()
    for k in range(3):
        seg = neo.Segment()
        if k != 1:
            seg.spiketrains.append(neo.SpikeTrain([0.1] * pq.s, t_stop=1 * pq.s))
        block.segments.append(seg)
    with pytest.warns(UserWarning, match=r"segment\(s\) 1 of 3 hold no spike trains .* the 2 "):
        assert load_spikes(block, dt=1.0).n_trials == 2
    block = neo.Block()
    for k, n in enumerate([3, 2]):
        seg = neo.Segment()
        for _ in range(n):
            seg.spiketrains.append(
                neo.SpikeTrain([k + 0.1] * pq.s, t_start=k * pq.s, t_stop=(k + 1) * pq.s)
            )
        block.segments.append(seg)
    with pytest.warns(
        UserWarning,
        match=r"segments hold 2 or 3 spike trains, without a name of their own each; train i",
    ):
        assert load_spikes(block, dt=1.0).n_units == 3
    with warnings.catch_warnings():  # equal segments, or named trains: nothing to say
        warnings.simplefilter("error")
        load_spikes(block.segments[0], dt=1.0)


def test_neo_float32_spike_times_on_whole_steps_stay_in_their_step():
    """Float32 0.35 s is 0.3499999940 s: it was binned in step 349 at dt = 1 ms (and 0.7 s in
    699); about half of all whole-millisecond times fell a step early. In ms they stay too."""
    seg = neo.Segment()
    times = np.array([0.35, 0.7, 0.123], np.float32)
    seg.spiketrains.append(neo.SpikeTrain(times, units="s", t_stop=1.0))
    seg.spiketrains.append(neo.SpikeTrain(times * np.float32(1000), units="ms", t_stop=1000.0))
    train = load_spikes(seg)
    got = sorted(zip(train.units.tolist(), train.times.tolist(), strict=True))
    assert got == [(0, 123), (0, 350), (0, 700), (1, 123), (1, 350), (1, 700)]
    whole_ms = np.arange(1, 100_001, dtype=np.float64) / 1000  # every ms of 100 s, in float32
    seg = neo.Segment()
    seg.spiketrains.append(neo.SpikeTrain(whole_ms.astype(np.float32), units="s", t_stop=101.0))
    np.testing.assert_array_equal(load_spikes(seg).times, np.arange(1, 100_001))
