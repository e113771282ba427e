"""The info run (infodyn.experiments.info_run) takes a SpikeTrain as it says, and checks its
options before it reads the data."""

import json

import numpy as np
import pytest

from infodyn.data import SpikeTrain
from infodyn.errors import InputError
from infodyn.experiments.info_run import run_info


def _spikes():
    return SpikeTrain.from_dense(np.random.default_rng(0).random((500, 5)) < 0.3)


def test_a_spike_train_is_analysed_and_named(tmp_path):
    """It was analysed, then a raw TypeError (str(Path(SpikeTrain))) left an empty folder."""
    res = run_info(_spikes(), tmp_path / "out", n_shuffles=1)
    assert res["n_units"] == 5
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["config"]["spikes"] == "<SpikeTrain>"


def test_the_most_active_units_of_a_larger_file_are_said(tmp_path):
    # results.json's n_units_file alone said so: "3 units, ..." read as the whole file
    res = run_info(_spikes(), tmp_path / "out", n_shuffles=1, max_units=3)
    assert res["n_units"] == 3 and res["warnings"] == [
        "<SpikeTrain>: analysing the 3 most active of its 5 units (raise max_units, "
        "--max-units, or select units, --units)"
    ]
    res = run_info(_spikes(), tmp_path / "all", n_shuffles=1, max_units=5)
    assert res["n_units"] == 5 and res["warnings"] == []


@pytest.mark.parametrize(
    ("option", "bad", "said"),
    [
        ("max_population", "5", "max_population must be >= 3"),
        ("max_population", 3.5, "max_population must be >= 3"),
        ("n_shuffles", None, "n_shuffles must be >= 0"),
        ("max_units", float("nan"), "max_units must be >= 3"),
        ("bin_ms", [1], "bin_ms must be a positive number of ms"),
    ],
)
def test_options_of_the_wrong_kind_are_refused_before_the_data_is_read(option, bad, said, tmp_path):
    with pytest.raises(InputError, match=said):
        run_info(tmp_path / "missing.h5", tmp_path / "out", **{option: bad})
    assert not (tmp_path / "out").exists()


def test_a_rerun_stopped_in_its_figures_keeps_the_previous_runs_files_together(
    tmp_path, monkeypatch
):
    """information.npz was written before the figures: a rerun stopped there (Ctrl-C, a full
    disk) left its arrays beside the previous run's config and results."""
    import infodyn.experiments.info_run as info_run

    out = tmp_path / "out"
    run_info(_spikes(), out, n_shuffles=0)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(info_run, "pairwise_mi_figure", stopped)
    other = SpikeTrain.from_dense(np.random.default_rng(1).random((400, 7)) < 0.2)
    with pytest.raises(KeyboardInterrupt):
        run_info(other, out, n_shuffles=0, bin_ms=2.0)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before


def test_a_rerun_dying_after_its_arrays_leaves_no_old_results_beside_them(tmp_path, monkeypatch):
    """The new information.npz replaced the old one, then a death before results.json left
    the previous run's results beside the new arrays."""
    from infodyn.experiments.rundir import RunDir

    out = tmp_path / "out"
    run_info(_spikes(), out, n_shuffles=0)

    def dies(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(RunDir, "finish", dies)
    other = SpikeTrain.from_dense(np.random.default_rng(1).random((400, 7)) < 0.2)
    with pytest.raises(KeyboardInterrupt):
        run_info(other, out, n_shuffles=0)
    assert np.load(out / "information.npz")["units"].size == 7
    assert not (out / "results.json").exists()


@pytest.mark.parametrize("seed", range(4))
def test_most_active_units_are_those_of_a_stable_sort(seed, monkeypatch):
    import infodyn.experiments.info_run as info_run

    rng = np.random.default_rng(seed)
    monkeypatch.setattr(info_run, "SILENT_BLOCK", 3)  # the silent units found across blocks
    for _ in range(50):
        n = int(rng.integers(1, 60))
        counts = rng.integers(0, 4, n) * (rng.random(n) < rng.random())
        k = int(rng.integers(1, n + 1))
        expect = np.sort(np.argsort(-counts, kind="stable")[:k])
        np.testing.assert_array_equal(info_run.most_active(counts, k), expect)


def test_one_word_a_run_or_an_absurd_bin_is_refused(tmp_path):
    """One bin of the whole trial gave all-zero results and exit 0; 1e300 ms was refused as a
    300-digit bin_steps."""
    with pytest.raises(InputError, match="leaves 1 bin.*at least two words; choose a smaller"):
        run_info(_spikes(), tmp_path / "one", bin_ms=500.0)
    with pytest.raises(InputError, match=r"--bin-ms=1e\+300 ms is longer than any run"):
        run_info(_spikes(), tmp_path / "huge", bin_ms=1e300)
    assert not (tmp_path / "one").exists() and not (tmp_path / "huge").exists()
    # a recording of one step, --bin-ms not given: not named ("--bin-ms=1 leaves 1 bin(s)")
    one_step = SpikeTrain(np.array([0]), np.array([0]), n_units=2, n_steps=1, dt=1.0)
    with pytest.raises(InputError, match=r"^the recording holds 1 bin\(s\).*too short"):
        run_info(one_step, tmp_path / "step")


def test_an_nsb_run_is_not_advised_nsb_and_is_told_of_miller_madow_pairs(tmp_path):
    rng = np.random.default_rng(3)
    train = SpikeTrain.from_dense(rng.random((300, 70)) < 0.3)
    res = run_info(train, tmp_path / "nsb", estimator="nsb", n_shuffles=2, max_population=10)
    notes = " ".join(res["warnings"])
    assert "estimates are undersampled" in notes and "--estimator nsb" not in notes
    assert "70 units is estimated by Miller-Madow, not NSB" in notes
    assert res["pairwise_estimator"] == "miller_madow"


def test_results_of_a_recording_name_its_units_ids(tmp_path):
    """info, energy and criticality gave units as indices only: the recording's cluster ids
    (kept in the spike file) did not reach the run folder."""
    from infodyn.data.spikes import SpikeTrain, save_spikes
    from infodyn.experiments.criticality_run import run_criticality
    from infodyn.experiments.energy_run import run_energy
    from infodyn.experiments.info_run import run_info

    rng = np.random.default_rng(0)
    n, steps = 6, 4000
    t, u = np.nonzero(rng.random((steps, n)) < 0.05)
    ids = [3, 7, 12, 40, 101, 150]
    sp = SpikeTrain(times=t, units=u, n_units=n, n_steps=steps, metadata={"unit_ids": ids})
    save_spikes(tmp_path / "s.h5", sp)
    info = run_info(tmp_path / "s.h5", tmp_path / "i", units="1,3", n_shuffles=2)
    assert info["unit_ids"] == [7, 40]
    energy = run_energy({"spikes": str(tmp_path / "s.h5"), "units": "0-2"}, tmp_path / "e")
    assert energy["unit_ids"] == [3, 7, 12]
    crit = run_criticality(tmp_path / "s.h5", tmp_path / "c", n_boot=0, units="5,4")
    assert crit["unit_ids"] == [101, 150] and crit["units"] == [4, 5]  # indices: none before
    drawn = run_criticality(tmp_path / "s.h5", tmp_path / "c3", n_boot=0, sample_fraction=0.5)
    assert len(drawn["units"]) == 3 and drawn["unit_ids"] == [ids[i] for i in drawn["units"]]
    loaded = run_criticality(sp, tmp_path / "c2", n_boot=0, units="2")  # a train, not a file
    assert loaded["unit_ids"] == [12]


@pytest.mark.parametrize("suffix", [".h5", ".npz"])  # streamed, loaded whole
def test_the_readers_warnings_reach_results_json(tmp_path, suffix):
    """Spikes a reader merged (a spike listed twice) were said on stderr only: results.json of
    info, criticality and energy kept no trace of the change to the data they measured."""
    from infodyn.data import SpikeWriter
    from infodyn.experiments.criticality_run import run_criticality
    from infodyn.experiments.energy_run import run_energy

    rng = np.random.default_rng(1)
    t, u = np.nonzero(rng.random((3000, 6)) < 0.05)
    path = tmp_path / f"s{suffix}"
    if suffix == ".h5":
        with SpikeWriter(path, n_units=6, n_steps=3000) as w:
            w.append(np.r_[t, t[:4]], np.r_[u, u[:4]])  # four spikes twice, after the others
    else:
        np.savez(path, times=np.r_[t, t[:4]], units=np.r_[u, u[:4]], n_units=6, n_steps=3000)
    # named by its file, also where the file is loaded whole (it named none there)
    line = f"{path}: 4 spikes repeat a spike of the same unit in the same step and trial"
    runs = {
        "info": lambda out: run_info(path, out, n_shuffles=0),
        "criticality": lambda out: run_criticality(path, out, n_boot=0),
        "criticality_iei": lambda out: run_criticality(path, out, n_boot=0, bin_ms="iei"),
        "energy": lambda out: run_energy({"spikes": str(path), "n_samples": 100}, out),
    }
    for name, run in runs.items():
        res = run(tmp_path / name)
        kept = json.loads((tmp_path / name / "results.json").read_text())["warnings"]
        assert sum(line in w for w in kept) == 1, (name, kept)  # once, though read 2-3 times
        assert kept == res["warnings"]


def test_a_run_stopped_in_its_analysis_leaves_no_folder_it_made(stopped_run_check):
    """Ctrl-C during the information measures left an empty --out folder (energy's did not)."""
    raster = (np.random.default_rng(0).random((500, 6)) < 0.2).astype(np.uint8)
    stopped_run_check(raster, "infodyn.information.pairwise_mutual_information", run_info)


def test_constant_units_and_too_few_units_are_noted_under_every_estimator(tmp_path):
    """Silent units and units spiking in every bin were found by an entropy of exactly 0, which
    NSB's prior never gives (6e-4 bit): under --estimator nsb both notes were lost. Two units
    left out the population measures without a word."""
    raster = (np.random.default_rng(1).random((2000, 5)) < 0.2).astype(np.uint8)
    raster[:, 2], raster[:, 4] = 0, 1
    train = SpikeTrain.from_dense(raster)
    for estimator in ("plugin", "nsb"):
        res = run_info(train, tmp_path / estimator, estimator=estimator, n_shuffles=0)
        notes = " ".join(res["warnings"])
        assert "1 of 5 units never spike" in notes and "1 of 5 units spike in every" in notes
    assert "NSB's prior leaves them 0.0006 bits" in notes  # (2000 bins: the prior's share)
    two = run_info(train, tmp_path / "two", units=[0, 1], n_shuffles=0)
    assert two["population"] is None
    assert any("2 units analysed: no population measures" in w for w in two["warnings"])
    # one unit has no pair: no pairwise figure (it was an empty matrix and "0 pairs")
    one = run_info(train, tmp_path / "one", units=[0], n_shuffles=0)
    assert one["files"]["pairwise_mi"] is None
    assert not (tmp_path / "one" / "figures" / "pairwise_mi.png").exists()
    assert (tmp_path / "two" / "figures" / "pairwise_mi.png").exists()
