"""Run directories (infodyn.experiments.rundir): a rerun into a finished run's folder that fails
part way leaves that run's config.json, results.json (the energy model, the spikes) as they
were: the config is written with the results at the end (RunDir.finish), not when the run
starts; and a folder belongs to one command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from infodyn.data.spikes import SpikeTrain, save_spikes
from infodyn.errors import InputError
from infodyn.experiments.config import SimulateConfig, validate
from infodyn.experiments.rundir import STARTED, RunDir

SIM_SMALL = {"network": {"n_in": 3, "n_rec": 5}}

CHANNEL = {
    "n_in": 10,
    "n_rec": 6,
    "n_stimuli": 2,
    "n_steps": 40,
    "response_start": 10,
    "input_strengths": [2.0],
    "seeds": [0],
    "conditions": ["info"],
    "n_iterations": 1,
    "trials_per_stimulus": 2,
    "test_trials_per_stimulus": 6,
    "bin_steps": 10,
    "n_subsets": 1,
    "n_shuffles": 1,
    "lr": 1e-3,
}

IMAGES = {
    "stages": ["image_energy"],
    "images": {"images": ["camera"], "sizes": [3], "n_patches": 400},
    "energy": {"n_samples": 50, "denoise_patterns": 10, "denoise_flips": [1]},
}


@pytest.fixture(scope="module")
def spike_file(tmp_path_factory):
    """Correlated spikes of 8 units (a shared drive), 2 trials of 3000 steps."""
    rng = np.random.default_rng(3)
    drive = rng.random((2, 3000, 1)) < 0.2
    z = (rng.random((2, 3000, 8)) < np.where(drive, 0.5, 0.05)).astype(np.uint8)
    path = tmp_path_factory.mktemp("spikes") / "spikes.h5"
    save_spikes(path, SpikeTrain.from_dense(z, dt=1.0))
    return path


def _run(command: str, out, seed: int, spikes) -> None:
    """One run of ``command`` into ``out``; ``seed`` changes its config."""
    if command == "simulate":
        from infodyn.experiments.config import SimulateConfig
        from infodyn.experiments.simulate_run import run_simulation

        cfg = {"network": {"n_in": 3, "n_rec": 5}, "input": {"n_steps": 50, "seed": seed}}
        run_simulation(SimulateConfig(**cfg), out)
    elif command == "criticality":
        from infodyn.experiments.criticality_run import run_criticality

        run_criticality(spikes, out, n_boot=5, min_tail=10, seed=seed)
    elif command == "info":
        from infodyn.experiments.info_run import run_info

        run_info(spikes, out, n_shuffles=1, seed=seed)
    elif command == "energy":
        from infodyn.experiments.energy_run import run_energy

        run_energy({"spikes": str(spikes), "seed": seed, "n_samples": 200}, out)
    elif command == "channel":
        from infodyn.experiments.channel.config import ChannelConfig
        from infodyn.experiments.channel.run import run_channel

        run_channel(ChannelConfig(**{**CHANNEL, "seeds": [seed]}), out)
    else:
        from infodyn.experiments.pipeline.config import PipelineConfig
        from infodyn.experiments.pipeline.run import run_pipeline

        images = {**IMAGES["images"], "seed": seed}
        run_pipeline(PipelineConfig(**{**IMAGES, "images": images}), out)


def _run_files(out) -> dict[str, bytes]:
    """The contents of a run's data files (JSON, NPZ, HDF5), without the step journal."""
    files = [p for p in out.iterdir() if p.suffix in (".json", ".npz", ".h5")]
    return {p.name: p.read_bytes() for p in files if p.name != "progress.json"}


@pytest.mark.parametrize(
    "command", ["simulate", "criticality", "info", "energy", "channel", "images"]
)
def test_a_failed_rerun_leaves_the_finished_run_as_it_was(
    command, spike_file, tmp_path, monkeypatch
):
    out = tmp_path / "run"
    _run(command, out, 0, spike_file)
    kept = _run_files(out)
    assert {"config.json", "results.json"} <= set(kept)

    def disk_full(self, png, name):
        raise OSError(28, "No space left on device")

    # every figure is written through save_png: fails after the work, before the end
    monkeypatch.setattr(RunDir, "save_png", disk_full)
    with pytest.raises(OSError, match="No space"):
        _run(command, out, 1, spike_file)
    assert json.loads(kept["config.json"])["command"] == command
    if command == "images":  # its stages replace the old files one by one: the old results
        del kept["results.json"]  # go first, and the folder is an interrupted run of the new
        assert (out / "progress.json").exists()  # config (never old results beside new files)
        # with the old run's models and weights (pipeline.run.retire_outputs): a rerun with
        # fewer stages or sizes kept them, and its report showed them
        kept = {k: v for k, v in kept.items() if not k.endswith(".npz")}
    assert _run_files(out) == kept  # (a journal of the failed run's finished steps may be added)


@pytest.mark.parametrize("command", ["simulate", "criticality", "info", "energy", "channel"])
def test_a_rerun_stopped_after_its_first_figure_leaves_the_old_figures(
    command, spike_file, tmp_path, monkeypatch
):
    # figures were written as they were made: a rerun stopped after its first one left it
    # beside the previous run's results and config (a report then embedded it)
    out = tmp_path / "run"
    _run(command, out, 0, spike_file)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    save_png, calls = RunDir.save_png, []

    def stopped_at_the_second(self, png, name):
        calls.append(name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return save_png(self, png, name)

    monkeypatch.setattr(RunDir, "save_png", stopped_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        _run(command, out, 1, spike_file)
    after = {
        p: p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and "checkpoint" not in p.parts and p.name != "progress.json"
    }
    assert after == before


def test_a_folder_holding_another_commands_interrupted_run_is_refused(tmp_path, spike_file):
    # an interrupted channel run has its journal and no config.json yet: simulate, info, ...
    # wrote beside it, and its --resume was then refused (config.json named the other command)
    from infodyn.errors import InputError
    from infodyn.experiments.journal import StepJournal

    StepJournal(tmp_path / "ch", "abc", False, "channel").put("strength=1.0 seed=0", [])
    for command in ("simulate", "criticality", "info", "energy", "images"):
        with pytest.raises(InputError, match=r"holds an infodyn channel interrupted run"):
            _run(command, tmp_path / "ch", 0, spike_file)
    assert [p.name for p in (tmp_path / "ch").iterdir()] == ["progress.json"]


def test_a_folder_holding_an_interrupted_simulation_is_refused(tmp_path, spike_file):
    # its command is in checkpoint/config.json (no config.json at the top yet): a train or an
    # analysis ran there, then simulate named that run and, without --resume, the simulation
    import json

    import numpy as np

    from infodyn.errors import InputError
    from infodyn.experiments.train_run import TrainConfig, run_training

    sim = tmp_path / "sim"
    (sim / "checkpoint").mkdir(parents=True)
    (sim / "checkpoint" / "config.json").write_text(json.dumps({"command": "simulate"}))
    np.savez(sim / "checkpoint" / "state.npz", step=np.int64(10))
    said = r"holds an infodyn simulate interrupted run \(checkpoint/config.json\)"
    for command in ("criticality", "info", "energy"):
        with pytest.raises(InputError, match=said):
            _run(command, sim, 0, spike_file)
    cfg = TrainConfig(network={"n_in": 3, "n_rec": 8, "n_out": 1}, training={"iterations": 2})
    with pytest.raises(InputError, match=said):
        run_training(cfg, sim)
    with pytest.raises(InputError, match=r"no checkpoint.npz to resume from; the simulate run"):
        run_training(cfg, sim, resume=True)
    assert sorted(p.name for p in sim.iterdir()) == ["checkpoint"]


def test_channel_resume_into_a_missing_folder_is_refused_and_makes_none(tmp_path):
    from infodyn.errors import InputError
    from infodyn.experiments.channel.config import ChannelConfig
    from infodyn.experiments.channel.run import run_channel

    with pytest.raises(InputError, match="no interrupted channel run to resume"):
        run_channel(ChannelConfig(**CHANNEL), tmp_path / "typo", resume=True)
    assert not (tmp_path / "typo").exists()


def test_a_rerun_removes_the_figures_and_report_of_the_run_it_replaces(tmp_path, spike_file):
    # info over 1 unit makes no population figure: the old one stayed, and `infodyn report`
    # embedded it beside the new results (which say population: None)
    from infodyn.experiments.info_run import run_info
    from infodyn.experiments.report import write_report

    out = tmp_path / "inf"
    run_info(spike_file, out, n_shuffles=1)
    assert (out / "figures" / "population.png").exists()
    write_report(out)
    (out / "figures" / "mine").mkdir()  # a subfolder of the user's: kept
    (out / "figures" / "mine" / "panel.png").write_bytes(b"png")
    run_info(spike_file, out, n_shuffles=1, units="3")
    # (one unit has no pair either: the old pairwise figure goes too)
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["entropies.png", "mine"]
    assert not (out / "report.html").exists() and (out / "figures" / "mine" / "panel.png").exists()
    # a folder of the user's own, without a run of the command: nothing of it is removed
    own = tmp_path / "paper"
    (own / "figures").mkdir(parents=True)
    (own / "figures" / "fig1.png").write_bytes(b"png")
    (own / "report.html").write_text("mine")
    run_info(spike_file, own, n_shuffles=1)
    assert (own / "figures" / "fig1.png").exists() and (own / "report.html").exists()
    run = RunDir(tmp_path / "kept")  # without prune (a resumed pipeline): nothing is removed
    run.save_png(b"png", "old")
    RunDir(tmp_path / "kept").finish({}, "images", {})
    assert (tmp_path / "kept" / "figures" / "old.png").exists()


def test_finish_writes_the_config_and_the_results(tmp_path):
    run = RunDir(tmp_path / "r")
    run.finish({"a": 1}, "criticality", {"x": float("nan")}, {"note": "n"})
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["command"] == "criticality" and config["config"] == {"a": 1}
    assert config["note"] == "n"
    assert json.loads((tmp_path / "r" / "results.json").read_text()) == {"x": None}


def test_a_folder_of_another_commands_run_is_refused(tmp_path, spike_file):
    # simulate into a train folder replaced its config and results and left the checkpoint;
    # images --resume into a finished channel folder started afresh over it
    from infodyn.errors import InputError

    RunDir(tmp_path / "t", "train").finish({"x": 1}, "train", {"done": True})
    before = {p.name: p.read_bytes() for p in (tmp_path / "t").iterdir() if p.is_file()}
    for command in ("simulate", "criticality", "info", "channel", "images"):
        with pytest.raises(InputError, match=r"holds an infodyn train run .*choose another --out"):
            _run(command, tmp_path / "t", 0, spike_file)
    after = {p.name: p.read_bytes() for p in (tmp_path / "t").iterdir() if p.is_file()}
    assert after == before
    RunDir(tmp_path / "t", "train")  # the same command may write there again
    (tmp_path / "t" / "config.json").write_text("{broken")  # unreadable: no claim to honour,
    with pytest.raises(InputError, match="holds config.json, results.json but no infodyn"):
        RunDir(tmp_path / "t", "simulate")  # but not infodyn's: the files are not replaced


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("simulate", "spikes.h5"),
        ("simulate", "results.json"),
        ("criticality", "config.json"),
        ("info", "information.npz"),
        ("energy", "model.npz"),
        ("channel", "table.csv"),
        ("images", "network_params.npz"),
    ],
)
def test_a_folder_of_the_users_own_files_is_not_written_over(command, name, tmp_path, spike_file):
    """`infodyn simulate --out data` replaced the user's recording data/spikes.h5 (and any
    command their results.json or config.json) without a word: a folder that holds a file the
    run writes but no run of the command is refused, and nothing in it changes."""
    mine = tmp_path / "data"
    mine.mkdir()
    (mine / name).write_bytes(b"the user's own")
    (mine / "notes.txt").write_text("kept")
    with pytest.raises(InputError, match=f"data holds {name} but no infodyn {command} run"):
        _run(command, mine, 0, spike_file)
    assert sorted(p.name for p in mine.iterdir()) == sorted([name, "notes.txt"])
    assert (mine / name).read_bytes() == b"the user's own"
    (mine / name).unlink()  # once the file is moved away, the run goes ahead
    _run(command, mine, 0, spike_file)
    assert (mine / "notes.txt").read_text() == "kept" and (mine / "results.json").is_file()
    _run(command, mine, 1, spike_file)  # and a run of the command there may be replaced


def test_figures_folder_appears_with_the_first_figure(tmp_path):
    # RunDir made figures/ up front: a run refused inside an estimator left it empty
    from infodyn.plotting import pyplot

    run = RunDir(tmp_path / "r", "criticality")
    assert (tmp_path / "r").is_dir() and not (tmp_path / "r" / "figures").exists()
    plt = pyplot()
    fig, _ = plt.subplots()
    path = run.savefig(fig, "one")
    assert path == tmp_path / "r" / "figures" / "one.png" and path.stat().st_size > 0
    assert run.figures() == [path]


def test_remove_if_empty_removes_an_empty_figures_folder_too(tmp_path):
    run = RunDir(tmp_path / "r")
    (tmp_path / "r" / "figures").mkdir()
    run.remove_if_empty()
    assert not (tmp_path / "r").exists()
    kept = RunDir(tmp_path / "k")
    kept.write_json("results.json", {})
    kept.remove_if_empty()  # something was written: kept
    assert (tmp_path / "k" / "results.json").exists()


def test_write_config_stores_every_default(tmp_path):
    RunDir(tmp_path).write_config(SimulateConfig(**SIM_SMALL), "simulate")
    stored = json.loads((tmp_path / "config.json").read_text())["config"]
    assert stored["input"]["n_steps"] == 1000  # defaults of SimulateConfig, filled in
    assert stored["simulation"]["engine"] == "auto"
    assert stored["network"]["tau_m"] == 30.0


def test_a_file_in_the_way_of_the_run_folder_is_one_input_error(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match=r"f"):
        RunDir(tmp_path / "f")


@pytest.mark.parametrize(("png", "name"), [(b"\x89PNG", None), ("a", "fig"), (None, "fig")])
def test_save_png_takes_bytes_and_a_name(png, name, tmp_path):
    # None was saved as figures/None.png; text was a raw TypeError after the folder was made
    from infodyn.errors import InputError

    run = RunDir(tmp_path / "run")
    with pytest.raises(InputError, match="save_png takes the PNG's bytes and a figure name"):
        run.save_png(png, name)
    assert not (tmp_path / "run" / "figures").exists()


def test_a_figure_name_cannot_leave_the_run_folder(tmp_path):
    from infodyn.errors import InputError
    from infodyn.experiments.rundir import RunDir

    run = RunDir(tmp_path / "run", "simulate")
    with pytest.raises(InputError, match="stays inside the run's figures/ folder"):
        run.save_png(b"png", "../../escape")  # was written outside the run folder
    assert run.save_png(b"png", "patches/4x4").parent.name == "patches"  # subfolders are fine


def test_removed_if_failed_removes_only_an_empty_folder_the_run_made(tmp_path):
    run = RunDir(tmp_path / "new")
    assert run.created
    with pytest.raises(KeyboardInterrupt), run.removed_if_failed():
        raise KeyboardInterrupt
    assert not (tmp_path / "new").exists()
    (tmp_path / "mine").mkdir()
    mine = RunDir(tmp_path / "mine")
    assert not mine.created
    with pytest.raises(ValueError), mine.removed_if_failed():
        raise ValueError
    assert (tmp_path / "mine").is_dir()
    written = RunDir(tmp_path / "written")
    with pytest.raises(ValueError), written.removed_if_failed():
        written.file("x.txt").write_text("kept")
        raise ValueError
    assert (tmp_path / "written" / "x.txt").exists()


@pytest.mark.parametrize(
    ("command", "name"),
    [("energy", "model.npz"), ("info", "information.npz")],
)
def test_a_run_that_would_write_over_its_own_input_is_refused(command, name, spike_file, tmp_path):
    """`infodyn energy DIR/model.npz --out DIR` replaced the user's spike file with the model
    (and `info` with information.npz): refused before anything is written."""
    from infodyn.data import load_spikes

    spikes = load_spikes(spike_file)
    own = tmp_path / name
    np.savez(own, times=spikes.times, units=spikes.units, trials=spikes.trials, n_units=8,
             n_steps=3000, n_trials=2)  # fmt: skip
    before = own.read_bytes()
    with pytest.raises(InputError, match=f"this run writes {name} into .*its own input"):
        _run(command, tmp_path, 0, own)
    assert own.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_one_run_at_a_time_in_a_folder_whatever_its_command(tmp_path, spike_file):
    """Two `info` runs into one folder left one's config and results beside the other's
    information.npz, and `simulate` and `info` started together into a new folder both
    succeeded with their files mixed: every command holds the folder's run lock."""
    out = tmp_path / "M"
    with RunDir(out, "simulate").locked():  # a simulation running there (this process)
        for command in ("simulate", "criticality", "info", "energy", "channel", "images"):
            with pytest.raises(InputError, match=r"another infodyn simulate run is running in"):
                _run(command, out, 0, spike_file)
        assert [p.name for p in out.iterdir()] == [".run.lock"]  # nothing written
    assert not any(out.iterdir())  # released
    with RunDir(out, "simulate").locked():  # a running simulation's checkpoint is no
        (out / "checkpoint").mkdir()  # interrupted run: the lock is said first
        (out / "checkpoint" / "config.json").write_text('{"command": "simulate"}')
        with pytest.raises(InputError, match=r"another infodyn simulate run is running in .*"
                           r"two runs in one folder mix each other's files"):  # fmt: skip
            RunDir(out, "info")
    (out / "checkpoint" / "config.json").unlink()
    (out / "checkpoint").rmdir()
    _run("info", out, 0, spike_file)
    # a run of another command that finished while this one started: refused once locked
    late = RunDir(tmp_path / "N", "criticality")
    RunDir(tmp_path / "N", "info").finish({"x": 1}, "info", {"done": True})
    with pytest.raises(InputError, match="holds an infodyn info run"), late.locked():
        pass


def test_an_out_that_is_a_link_to_nothing_says_so(tmp_path):
    # "out: a file is in the way of a directory that must be created there"
    (tmp_path / "out").symlink_to(tmp_path / "gone" / "folder")
    with pytest.raises(InputError, match=r"out: a symbolic link to .*gone/folder, which leads"):
        RunDir(tmp_path / "out", "info")
    (tmp_path / "gone" / "folder").mkdir(parents=True)  # its target made: the run goes there
    RunDir(tmp_path / "out", "info").write_json("x.json", {})
    assert (tmp_path / "gone" / "folder" / "x.json").is_file()


@pytest.mark.parametrize("command", ["info", "energy"])
def test_a_run_stopped_before_its_config_is_run_again_there(
    command, tmp_path, spike_file, monkeypatch
):
    """A run stopped after its data file and before its config.json (Ctrl-C, kill -9) left
    files the next run of the same command refused as the user's own ("delete them to run
    there"): the run marks the folder when it takes it, and the mark goes with its results.
    (simulate, channel, images and train runs stopped there are resumed from their checkpoints
    and journals; a sweep's test is in test_sweep.py.)"""
    out = tmp_path / "run"
    calls = []

    def stopped(self, *args, **kwargs):
        calls.append(1)
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(RunDir, "write_config", stopped)
        with pytest.raises(KeyboardInterrupt):
            _run(command, out, 0, spike_file)
    assert calls and not (out / "config.json").exists()
    assert (out / STARTED).is_file()  # what the stopped run wrote is marked as its own
    _run(command, out, 1, spike_file)  # the rerun goes ahead
    assert (out / "results.json").is_file() and not (out / STARTED).exists()
    mine = tmp_path / "mine"  # a folder of the user's own stays refused, and unmarked
    mine.mkdir()
    (mine / "results.json").write_text("{}")
    with pytest.raises(InputError, match="holds results.json but no infodyn"):
        _run(command, mine, 0, spike_file)
    assert [p.name for p in mine.iterdir()] == ["results.json"]


def test_the_run_mark_goes_when_the_run_wrote_nothing(tmp_path):
    """A run that failed before writing anything leaves no mark in a folder that was there
    (it would let a later run of the command replace the user's files)."""
    out = tmp_path / "kept"
    out.mkdir()
    with pytest.raises(InputError, match="refused"), RunDir(out, "info", mark=True).locked():
        assert (out / STARTED).is_file()
        raise InputError("refused")
    assert not any(out.iterdir())
    with RunDir(out, "info", mark=True).locked():  # one that wrote a file keeps it
        (out / "information.npz").write_bytes(b"x")
    assert json.loads((out / STARTED).read_text())["command"] == "info"
    # a rerun that fails before writing keeps the stopped run's mark: it removed it, and the
    # run after it was refused again ("holds information.npz but no infodyn info run")
    with pytest.raises(InputError, match="refused"), RunDir(out, "info", mark=True).locked():
        raise InputError("refused")
    assert (out / STARTED).is_file()
    RunDir(out, "info", mark=True)  # not refused
    clean = tmp_path / "clean"  # a file the run removes (a temporary) is no writing
    clean.mkdir()
    (clean / ".left.tmp").write_bytes(b"")
    with pytest.raises(InputError, match="refused"), RunDir(clean, "info", mark=True).locked():
        (clean / ".left.tmp").unlink()
        raise InputError("refused")
    assert not any(clean.iterdir())


def test_a_batched_simulation_stopped_before_its_config_is_run_again_there(tmp_path, monkeypatch):
    """A sweep's batched simulate point stopped between its spikes.h5 and its config.json has
    no checkpoint: its rerun, batched or not, was refused as the user's own files."""
    from infodyn.experiments.simulate_batch import simulate_batch
    from infodyn.experiments.simulate_run import run_simulation

    cfg = validate(SimulateConfig, {**SIM_SMALL, "input": {"n_steps": 60}})

    def stopped(self, *args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(RunDir, "write_config", stopped)
        with pytest.raises(KeyboardInterrupt):
            simulate_batch([cfg], [tmp_path / "p0"])
    assert (tmp_path / "p0" / "spikes.h5").is_file() and (tmp_path / "p0" / STARTED).is_file()
    simulate_batch([cfg], [tmp_path / "p0"])
    assert (tmp_path / "p0" / "config.json").is_file() and not (tmp_path / "p0" / STARTED).exists()
    with monkeypatch.context() as patch:
        patch.setattr(RunDir, "write_config", stopped)
        with pytest.raises(KeyboardInterrupt):
            simulate_batch([cfg], [tmp_path / "p1"])
    run_simulation(cfg, tmp_path / "p1")  # a run of its own there too
    assert not (tmp_path / "p1" / STARTED).exists()
