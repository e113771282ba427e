"""The simulate run (infodyn.experiments.simulate_run): an interrupt leaves a checkpoint beside
the previous run, and ``resume`` continues it with the spikes of one uninterrupted run."""

import warnings

import numpy as np
import pytest

from infodyn.data.io import load_spikes
from infodyn.data.spikes import SpikeTrain
from infodyn.errors import InputError
from infodyn.experiments.config import SimulateConfig, validate
from infodyn.experiments.interrupt import Interrupted, _state
from infodyn.experiments.rundir import RunDir
from infodyn.experiments.simulate_batch import batch_signature
from infodyn.experiments.simulate_run import run_simulation, simulation_results

SIM_SMALL = {"network": {"n_in": 3, "n_rec": 5}}


@pytest.mark.parametrize("engine", ["event", "jax"])
def test_an_interrupted_run_into_a_new_folder_keeps_only_its_checkpoint(
    engine, tmp_path, monkeypatch
):
    cfg = validate(
        SimulateConfig,
        {
            "network": {"n_in": 3, "n_rec": 8},
            "input": {"n_steps": 300},
            "simulation": {"engine": engine, "chunk_steps": 100},
        },
    )
    monkeypatch.setitem(_state, "signal", "SIGTERM")  # as if a signal had come (graceful)
    # both engines stream in chunks and stop after the first, with a checkpoint
    with pytest.raises(Interrupted, match="after 100 of 300 steps, checkpointed in"):
        run_simulation(cfg, tmp_path / "new")
    left = sorted(p.relative_to(tmp_path / "new").as_posix() for p in (tmp_path / "new").rglob("*"))
    # fewer spikes than an HDF5 chunk: all wait in state.npz, no stretch has a file yet
    assert left == ["checkpoint", "checkpoint/config.json", "checkpoint/state.npz"]
    monkeypatch.setitem(_state, "signal", None)
    with pytest.raises(
        InputError, match="holds an interrupted simulation \\(100 of its 300 steps done\\)"
    ):
        run_simulation(cfg, tmp_path / "new")  # without resume: refused, nothing lost
    res = run_simulation(cfg, tmp_path / "new", resume=True)
    assert res["n_steps"] == 300 and res["resumed_from_step"] == 100
    assert (tmp_path / "new" / "config.json").exists()
    assert not (tmp_path / "new" / "checkpoint").exists()


SIM_SPIKING = {"n_in": 10, "n_rec": 60, "in_scale": 3.0}


def _spiking(engine, precision="float32", n_steps=500, **simulation):
    return validate(
        SimulateConfig,
        {
            "network": SIM_SPIKING,
            "input": {"n_steps": n_steps, "rate_hz": 40.0},
            "simulation": {"engine": engine, "precision": precision, "chunk_steps": 100,
                           **simulation},
        },
    )  # fmt: skip


def _same_spikes(a, b):
    from infodyn.data.io import load_spikes

    a, b = load_spikes(a / "spikes.h5"), load_spikes(b / "spikes.h5")
    assert a.n_spikes > 1000 and a.n_steps == b.n_steps and a.metadata == b.metadata
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.units, b.units)


@pytest.mark.parametrize(("engine", "precision"), [("event", "float64"), ("jax", "float32")])
def test_a_run_stopped_twice_and_resumed_has_the_uninterrupted_spikes(
    engine, precision, tmp_path, monkeypatch
):
    """Stopped after steps 100 and 200, then resumed to 500: three stretches of spikes made
    into one file, spike for spike the file of one run (the JAX engine's state is kept in its
    float32)."""
    cfg = _spiking(engine, precision)
    run_simulation(cfg, tmp_path / "whole")
    monkeypatch.setitem(_state, "signal", "SIGINT")
    with pytest.raises(Interrupted, match="after 100 of 500"):
        run_simulation(cfg, tmp_path / "run")
    with pytest.raises(Interrupted, match="after 200 of 500"):
        run_simulation(cfg, tmp_path / "run", resume=True)
    monkeypatch.setitem(_state, "signal", None)
    res = run_simulation(cfg, tmp_path / "run", resume=True)
    assert res["resumed_from_step"] == 200
    _same_spikes(tmp_path / "run", tmp_path / "whole")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "config.json", "end_state.npz", "figures", "results.json", "spikes.h5"
    ]  # fmt: skip


def test_checkpoints_every_chunk_and_a_kill_loses_only_the_steps_since(tmp_path, monkeypatch):
    """``checkpoint_seconds = 0``: a checkpoint after every chunk. A kill during steps
    2100-2400 (here a KeyboardInterrupt from the spike callback, as a second Ctrl-C stops at
    once; the files a SIGKILL leaves are added by hand: a temporary file and a stretch written
    after the last state) loses those steps only: the resumed run removes them and has the
    spikes of one run. The stretches' files hold whole chunks of 65,536 spikes (the rest waits
    in state.npz), so the run's 176,000 spikes are joined by copying compressed chunks."""
    import h5py

    from infodyn.data.spike_files import CHUNK
    from infodyn.experiments import simulate_checkpoint as module

    cfg = validate(
        SimulateConfig,
        {
            "network": {"n_in": 10, "n_rec": 300, "in_scale": 5.0},
            "input": {"n_steps": 3000, "rate_hz": 100.0},
            "simulation": {"engine": "event", "chunk_steps": 300, "checkpoint_seconds": 0},
        },
    )
    run_simulation(cfg, tmp_path / "whole")
    appended = module.SimulationCheckpoint.on_spikes

    def killed(self, times, units):
        if times.max() >= 2100:
            raise KeyboardInterrupt
        appended(self, times, units)

    monkeypatch.setattr(module.SimulationCheckpoint, "on_spikes", killed)
    with pytest.raises(KeyboardInterrupt):
        run_simulation(cfg, tmp_path / "run")
    monkeypatch.setattr(module.SimulationCheckpoint, "on_spikes", appended)
    folder = tmp_path / "run" / "checkpoint"
    written = sorted(folder.glob("spikes-*.h5"))  # stretches of fewer spikes have no file
    assert [p.name for p in written] == ["spikes-00000.h5"]
    with h5py.File(written[0]) as h5:
        assert h5["spikes/times"].shape[0] == CHUNK  # the rest is in state.npz
    assert module.saved_step(tmp_path / "run") == 2100
    # the stretch's header is the whole run's: its missing steps were analysed as silence
    from infodyn.data import SpikeReader, load_spikes

    for read in (load_spikes, SpikeReader):
        with pytest.raises(InputError, match="one stretch of a simulation that has not finish"):
            read(written[0])
    # a damaged stretch is refused before the rest of the run is simulated (it was found at
    # the join, after all of it), and nothing in the checkpoint changes
    whole = written[0].read_bytes()
    written[0].write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match="spikes-00000.h5: not a readable HDF5 .*afresh"):
        run_simulation(cfg, tmp_path / "run", resume=True)
    assert sorted(folder.glob("spikes-*.h5")) == written
    # bytes overwritten in its compressed data: readable as HDF5, it failed only at the join
    # ("do not read back"); its SHA-256, kept in state.npz, finds it before any step runs
    damaged = bytearray(whole)
    damaged[len(whole) // 2 : len(whole) // 2 + 4096] = b"\x55" * 4096
    written[0].write_bytes(bytes(damaged))
    state = (folder / "state.npz").read_bytes()
    with pytest.raises(InputError, match="spikes-00000.h5'] of the interrupted run changed"):
        run_simulation(cfg, tmp_path / "run", resume=True)
    assert (folder / "state.npz").read_bytes() == state
    assert not (tmp_path / "run" / "spikes.h5").exists()
    written[0].write_bytes(whole)
    with np.load(folder / "state.npz") as data:  # a checkpoint of an earlier version: no
        arrays = {k: data[k] for k in data.files if k != "segment_sha256"}  # digests, resumed
    np.savez(folder / "state.npz", **arrays)
    (folder / "spikes-00001.h5").write_bytes(b"written after the last state")
    (folder / ".spikes-00002.h5.abcd.h5.tmp").write_bytes(b"cut off")
    monkeypatch.setitem(_state, "signal", "SIGTERM")  # stopped again: its state.npz counts a
    with pytest.raises(Interrupted):  # digest for the earlier file too (it had fewer digests
        run_simulation(cfg, tmp_path / "run", resume=True)  # than files, then refused itself)
    monkeypatch.setitem(_state, "signal", None)
    with np.load(folder / "state.npz") as data:
        assert len(data["segment_sha256"]) == int(data["segments"]) == 2
    res = run_simulation(cfg, tmp_path / "run", resume=True)
    assert res["resumed_from_step"] == 2400 and res["n_spikes"] > 2 * CHUNK
    _same_spikes(tmp_path / "run", tmp_path / "whole")
    with h5py.File(tmp_path / "run" / "spikes.h5") as h5:
        assert "unfinished_run" not in h5.attrs


def test_a_resume_refuses_another_config_or_other_weights(tmp_path, monkeypatch):
    from infodyn.network import save_params

    net = validate(SimulateConfig, {"network": SIM_SPIKING}).build_network()
    save_params(tmp_path / "w.npz", net.init(seed=1))
    cfg = _spiking("event", params=str(tmp_path / "w.npz"))
    monkeypatch.setitem(_state, "signal", "SIGTERM")
    with pytest.raises(Interrupted):
        run_simulation(cfg, tmp_path / "run")
    monkeypatch.setitem(_state, "signal", None)
    with pytest.raises(InputError, match="input.n_steps \\(500 -> 600\\)"):
        run_simulation(_spiking("event", n_steps=600, params=str(tmp_path / "w.npz")),
                       tmp_path / "run", resume=True)  # fmt: skip
    save_params(tmp_path / "w.npz", net.init(seed=2))  # the params file changed meanwhile
    with pytest.raises(InputError, match="the weights differ from those the interrupted run"):
        run_simulation(cfg, tmp_path / "run", resume=True)
    save_params(tmp_path / "w.npz", net.init(seed=1))
    # chunking and the checkpoints' interval change no spike: a resume may change them
    cfg = _spiking("event", params=str(tmp_path / "w.npz"), chunk_steps=70, checkpoint_seconds=5)
    assert run_simulation(cfg, tmp_path / "run", resume=True)["resumed_from_step"] == 100


def test_a_resume_without_a_checkpoint_or_with_a_corrupt_one_is_refused(tmp_path, monkeypatch):
    cfg = _spiking("event")
    with pytest.raises(InputError, match="no interrupted simulation to resume"):
        run_simulation(cfg, tmp_path / "none", resume=True)
    assert not (tmp_path / "none").exists()
    run_simulation(cfg, tmp_path / "done")  # finished: "no checkpoint folder" said too little
    with pytest.raises(InputError, match="holds a finished simulation .* nothing to resume"):
        run_simulation(cfg, tmp_path / "done", resume=True)
    monkeypatch.setitem(_state, "signal", "SIGTERM")
    with pytest.raises(Interrupted):
        run_simulation(cfg, tmp_path / "run")
    monkeypatch.setitem(_state, "signal", None)
    state = tmp_path / "run" / "checkpoint" / "state.npz"
    state.write_bytes(state.read_bytes()[:100])
    with pytest.raises(InputError, match="state.npz: cannot read this simulation checkpoint"):
        run_simulation(cfg, tmp_path / "run", resume=True)
    state.unlink()  # no state yet (a kill before the first): the run starts at step 0
    res = run_simulation(cfg, tmp_path / "run", resume=True)
    assert res["resumed_from_step"] == 0


def test_a_run_without_a_spike_resumed_writes_an_empty_spike_file(tmp_path, monkeypatch):
    from infodyn.data.io import load_spikes

    silent = {"network": {"n_in": 3, "n_rec": 5, "in_scale": 0.0}, "input": {"n_steps": 300}}
    cfg = validate(SimulateConfig, {**silent, "simulation": {"chunk_steps": 100}})
    monkeypatch.setitem(_state, "signal", "SIGTERM")
    with pytest.raises(Interrupted):
        run_simulation(cfg, tmp_path / "run")
    monkeypatch.setitem(_state, "signal", None)
    assert run_simulation(cfg, tmp_path / "run", resume=True)["n_spikes"] == 0
    spikes = load_spikes(tmp_path / "run" / "spikes.h5")
    assert spikes.n_spikes == 0 and spikes.n_steps == 300 and spikes.n_units == 5


def test_a_run_that_fails_before_its_first_checkpoint_leaves_no_folder(tmp_path, monkeypatch):
    from infodyn.experiments import simulate_checkpoint as module

    def failing(self, times, units):
        raise MemoryError

    monkeypatch.setattr(module.SimulationCheckpoint, "on_spikes", failing)
    with pytest.raises(MemoryError):
        run_simulation(_spiking("event"), tmp_path / "new")
    assert not (tmp_path / "new").exists()
    (tmp_path / "mine").mkdir()  # an empty folder the user made stays
    with pytest.raises(MemoryError):
        run_simulation(_spiking("event"), tmp_path / "mine")
    assert (tmp_path / "mine").is_dir() and not list((tmp_path / "mine").iterdir())


def test_a_folder_named_checkpoint_of_the_users_is_never_removed(tmp_path):
    (tmp_path / "mine" / "checkpoint").mkdir(parents=True)
    (tmp_path / "mine" / "checkpoint" / "model.pt").write_bytes(b"the user's")
    with pytest.raises(InputError, match="checkpoint is in the way: it is not a simulation's"):
        run_simulation(_spiking("event"), tmp_path / "mine")
    with pytest.raises(InputError, match="no simulation checkpoint in"):
        run_simulation(_spiking("event"), tmp_path / "mine", resume=True)
    assert (tmp_path / "mine" / "checkpoint" / "model.pt").read_bytes() == b"the user's"
    (tmp_path / "file").mkdir()
    (tmp_path / "file" / "checkpoint").write_text("a file")
    with pytest.raises(InputError, match="checkpoint is in the way"):
        run_simulation(_spiking("event"), tmp_path / "file")


def test_a_signal_just_after_a_chunk_is_taken_after_the_next(tmp_path, monkeypatch):
    """The signal is read once per chunk: one that lands after the read (here: the second
    read of the first chunk would see it) stops the run after the next chunk, checkpointed; it
    said "checkpointed" after the first without having saved anything."""
    from infodyn.experiments import simulate_checkpoint as module

    reads = []

    def requested():
        reads.append(1)
        return None if len(reads) == 1 else "SIGINT"

    monkeypatch.setattr(module, "requested", requested)
    with pytest.raises(Interrupted, match="after 200 of 500 steps, checkpointed"):
        run_simulation(_spiking("event"), tmp_path / "run")
    assert module.saved_step(tmp_path / "run") == 200


@pytest.mark.parametrize(("engine", "ran"), [("event", "float64"), ("jax", "float32")])
def test_results_record_the_precision_that_ran(engine, ran, tmp_path):
    # the event engine always computes in float64; the results said nothing, the config float32
    from infodyn.experiments.config import SimulateConfig
    from infodyn.experiments.simulate_run import run_simulation

    cfg = SimulateConfig(
        network={"n_in": 3, "n_rec": 5},
        input={"n_steps": 40},
        simulation={"engine": engine, "precision": "float32"},
    )
    assert run_simulation(cfg, tmp_path / "r")["precision"] == ran


def test_the_jax_engine_streams_the_event_engines_spikes_in_float64(tmp_path):
    """``engine = "jax"`` streams in chunks of ``chunk_steps`` too (state carried), so in float64
    its spike file holds the event engine's spikes (a sparse E/I network)."""
    from infodyn.data.io import load_spikes

    network = {"n_in": 10, "n_rec": 120, "connectivity": "ei", "k_in": 15, "in_scale": 3.0}
    spikes = {}
    for engine in ("event", "jax"):
        cfg = SimulateConfig(
            network=network,
            input={"n_steps": 900, "rate_hz": 40.0},
            simulation={"engine": engine, "precision": "float64", "chunk_steps": 250},
        )
        res = run_simulation(cfg, tmp_path / engine)
        assert res["engine"] == engine and res["precision"] == "float64"
        spikes[engine] = load_spikes(tmp_path / engine / "spikes.h5")
    assert spikes["jax"].metadata["engine"] == "jax" and spikes["event"].n_spikes > 500
    # the input's settings travel with the spikes (a converted file could not say them)
    assert spikes["event"].metadata["input"] == cfg.input.model_dump(mode="json")
    assert spikes["event"].metadata["input"]["rate_hz"] == 40.0
    # and the network's kind with its fields: the section that rebuilds it
    assert spikes["event"].metadata["network"] == {
        "model": "lif",
        **cfg.build_network().model_dump(mode="json"),
    }
    np.testing.assert_array_equal(spikes["jax"].times, spikes["event"].times)
    np.testing.assert_array_equal(spikes["jax"].units, spikes["event"].units)


def test_auto_engine_switches_to_event_at_2000_steps(tmp_path):
    at = SimulateConfig(**SIM_SMALL, input={"n_steps": 2000})
    below = SimulateConfig(**SIM_SMALL, input={"n_steps": 1999})
    assert batch_signature(at) is None and batch_signature(below) is not None
    assert run_simulation(at, tmp_path / "r")["engine"] == "event"


def test_a_signal_during_the_analysis_leaves_the_previous_run_whole(tmp_path, monkeypatch):
    # the stop was polled between chunks only: a signal during the figures (after the last
    # chunk) was told "--out is left as it was", then the new run replaced it (exit 0)
    import infodyn.experiments.figures as figures

    out = tmp_path / "run"
    run_simulation(SimulateConfig(**SIM_SMALL, input={"n_steps": 60}), out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    histogram = figures.rate_histogram_figure

    def signalled(rates):  # the signal comes while the figures are made
        _state["signal"] = "SIGTERM"
        return histogram(rates)

    monkeypatch.setattr(figures, "rate_histogram_figure", signalled)
    monkeypatch.setitem(_state, "signal", None)
    new = SimulateConfig(**SIM_SMALL, input={"n_steps": 90})
    with pytest.raises(Interrupted, match="as its results were being made; all its steps are"):
        run_simulation(new, out)
    after = {
        p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "checkpoint" not in p.parts
    }
    assert after == before
    # the resumed run runs no step: it makes the results from the checkpoint
    monkeypatch.setattr(figures, "rate_histogram_figure", histogram)
    _state["signal"] = None
    with pytest.raises(InputError, match="all its 90 steps done, its results not yet written"):
        run_simulation(new, out)
    assert run_simulation(new, out, resume=True)["resumed_from_step"] == 90


def test_an_interrupt_keeps_an_empty_folder_the_user_made(tmp_path, monkeypatch):
    (tmp_path / "mine").mkdir()
    monkeypatch.setitem(_state, "signal", "SIGTERM")
    cfg = SimulateConfig(**SIM_SMALL, input={"n_steps": 50}, simulation={"engine": "jax"})
    with pytest.raises(Interrupted):
        run_simulation(cfg, tmp_path / "mine")
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["checkpoint"]


def test_simulation_results_of_a_known_spike_train(tmp_path):
    # 5 units, 2000 steps of 1 ms (2 s): 0, 1, 10, 0 and 0 spikes -> 0, 0.5, 5, 0 and 0 Hz

    units = np.array([1] + [2] * 10)
    times = np.array([7] + list(range(0, 2000, 200)))
    order = np.argsort(times, kind="stable")
    spikes = SpikeTrain(
        times=times[order], units=units[order], n_units=5, n_steps=2000, n_trials=1, dt=1.0
    )
    res = simulation_results(RunDir(tmp_path), spikes, 5, 0.0, "jax", "float32")
    assert res["fraction_silent"] == 0.6  # units 0, 3 and 4 (unit 1's 0.5 Hz is not silent)
    assert res["mean_rate_hz"] == pytest.approx((0.5 + 5.0) / 5)
    assert res["n_spikes"] == 11 and res["activity_per_step"] == pytest.approx(11 / (5 * 2000))


@pytest.mark.parametrize("connectivity", ["dense", "sparse"])
def test_simulate_runs_the_weights_of_a_training_checkpoint(connectivity, tmp_path):
    # train -> long streamed simulation -> criticality needed hand-written Python that renamed
    # the checkpoint's param_* arrays (load_params returned them beside the optimizer state)
    from infodyn.data import load_spikes
    from infodyn.learning import RateTask, Trainer, TrainOptions
    from infodyn.network import load_params, simulate_spikes

    network = {"n_in": 4, "n_rec": 12, "n_out": 0, "connectivity": connectivity, "k_in": 4}
    if connectivity == "dense":
        network = {"n_in": 4, "n_rec": 12, "n_out": 0}
    cfg = validate(SimulateConfig, {"network": network, "input": {"n_steps": 200}})
    net = cfg.build_network()
    trainer = Trainer(
        net,
        RateTask(n_in=4, n_steps=50, rate_hz=40.0),
        "unit_rate",
        TrainOptions(lr=0.05, train=("w_rec",)),
    )
    trainer.fit(2, out=tmp_path / "train")
    trained = load_params(tmp_path / "train" / "checkpoint.npz")
    assert sorted(trained) == ["w_in", "w_out", "w_rec"]  # not param_*, not opt_*

    def dense(w):
        return w.to_dense() if hasattr(w, "to_dense") else np.asarray(w)

    drawn = net.init(seed=0)  # [simulation] seed's weights, which ran before
    assert not np.array_equal(dense(trained["w_rec"]), dense(drawn["w_rec"]))

    data = {
        "network": network,
        "input": {"n_steps": 200},
        "simulation": {"params": str(tmp_path / "train" / "checkpoint.npz")},
    }
    with warnings.catch_warnings():  # the network it was trained in: nothing to say
        warnings.filterwarnings("error", message=".*trained in another network")
        run_simulation(validate(SimulateConfig, data), tmp_path / "sim")
    got = load_spikes(tmp_path / "sim" / "spikes.h5")
    from infodyn.experiments.config import make_input

    cfg = validate(SimulateConfig, data)
    x = make_input(cfg.input, net.n_in, net.dt)
    want = simulate_spikes(net, trained, x, engine="event")
    np.testing.assert_array_equal(got.times, want.times)
    np.testing.assert_array_equal(got.units, want.units)
    # the spike file says where its weights came from (it said seed 0, never used)
    assert got.metadata["params"] == data["simulation"]["params"] and "seed" not in got.metadata

    # other dynamics ran without a word (an audit: trained at tau_m = 30, v_th = 0.03, run at
    # the defaults, 78 Hz for 4.4)
    data["network"] = {**network, "tau_m": 10.0, "v_th": 0.5, "rec_scale": 2.0}
    said = r"trained in another network: tau_m \(30\.0 -> 10\.0\), v_th \(0\.03 -> 0\.5\);"
    with pytest.warns(UserWarning, match=said):  # (rec_scale draws weights: not named)
        run_simulation(validate(SimulateConfig, data), tmp_path / "dynamics")

    data["network"] = {**network, "n_rec": 13}  # not the network the weights were trained in
    with pytest.raises(InputError, match="does not fit \\[network\\]"):
        run_simulation(validate(SimulateConfig, data), tmp_path / "other")
    # the same size, another graph: ran without a word (a k_in = 100 network under k_in = 50)
    other = {**network, "connectivity": "sparse", "k_in": 2}
    if connectivity == "sparse":
        other = {"n_in": 4, "n_rec": 12, "n_out": 0}  # all-to-all
    data["network"] = other
    with pytest.raises(InputError, match="does not fit \\[network\\]: its units receive"):
        run_simulation(validate(SimulateConfig, data), tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_points_with_weights_from_a_file_are_not_batched(tmp_path):
    # the file may hold sparse weights under a dense [network]: np.stack failed on them
    base = {"network": {"n_in": 3, "n_rec": 5}, "simulation": {"engine": "jax"}}
    assert batch_signature(validate(SimulateConfig, base)) is not None
    base["simulation"]["params"] = str(tmp_path / "params.npz")
    assert batch_signature(validate(SimulateConfig, base)) is None


def test_one_simulation_at_a_time_in_a_folder_and_a_killed_ones_files_go(tmp_path, monkeypatch):
    """A second run into a folder where one runs removed the first one's temporary files (it
    died with "no such file"); it is refused. A run killed as it joined its spikes left a
    staged file as large as spikes.h5, which nothing removed: the next run into the folder
    does."""
    from infodyn.experiments.simulate_run import LOCK_NAME
    from infodyn.experiments.sweep_lock import folder_lock

    cfg = _spiking("event")
    (tmp_path / "run").mkdir()
    with folder_lock(tmp_path / "run", LOCK_NAME, "simulation"):  # this live process holds it
        with pytest.raises(InputError, match="another simulation is running in"):
            run_simulation(cfg, tmp_path / "run")
    left = tmp_path / "run" / "..spikes.staged.h5.abcd1234.h5.tmp"
    left.write_bytes(b"x" * 1000)
    run_simulation(cfg, tmp_path / "run")
    assert not left.exists() and not (tmp_path / "run" / LOCK_NAME).exists()


def test_a_running_simulations_checkpoint_is_not_called_interrupted(tmp_path, monkeypatch):
    """A second run into the folder of a running one said it "holds an interrupted simulation
    ... delete run/checkpoint to start afresh": deleting it made the running one fail and
    remove the folder. The lock is looked at first."""
    from infodyn.experiments.simulate_run import LOCK_NAME
    from infodyn.experiments.sweep_lock import folder_lock

    data = {"network": {"n_in": 3, "n_rec": 8}, "input": {"n_steps": 3000}}
    data["simulation"] = {"chunk_steps": 1000}
    monkeypatch.setitem(_state, "signal", "SIGTERM")
    with pytest.raises(Interrupted):
        run_simulation(validate(SimulateConfig, data), tmp_path / "run")
    monkeypatch.setitem(_state, "signal", None)
    with folder_lock(tmp_path / "run", LOCK_NAME, "simulation"):  # the run goes on, here
        with pytest.raises(InputError, match="another simulation is running in") as caught:
            run_simulation(validate(SimulateConfig, data), tmp_path / "run")
    assert "delete" not in str(caught.value).split("(")[0]
    with pytest.raises(InputError, match="holds an interrupted simulation"):  # it was killed
        run_simulation(validate(SimulateConfig, data), tmp_path / "run")


def test_a_rerun_says_it_replaces_a_finished_run_only_once_it_may(tmp_path, monkeypatch, capsys):
    """'holds a finished run; this one replaces it' was printed before the refusals, beside
    'holds an interrupted simulation ... pass --resume'."""
    data = {"network": {"n_in": 3, "n_rec": 8}, "input": {"n_steps": 3000}}
    data["simulation"] = {"chunk_steps": 1000}
    cfg = validate(SimulateConfig, data)
    run_simulation(cfg, tmp_path / "run", progress=True)
    assert "replaces it" not in capsys.readouterr().err  # nothing was there
    monkeypatch.setitem(_state, "signal", "SIGTERM")
    with pytest.raises(Interrupted):
        run_simulation(cfg, tmp_path / "run", progress=True)
    monkeypatch.setitem(_state, "signal", None)
    assert "holds a finished run; this one replaces it when it finishes" in capsys.readouterr().err
    with pytest.raises(InputError, match="holds an interrupted simulation"):
        run_simulation(cfg, tmp_path / "run", progress=True)
    assert "replaces it" not in capsys.readouterr().err


def test_what_a_resume_says_when_it_cannot_go_on(tmp_path, monkeypatch):
    data = {
        "network": {"n_in": 3, "n_rec": 8},
        "input": {"n_steps": 3000},
        "simulation": {"chunk_steps": 1000},
    }
    monkeypatch.setitem(_state, "signal", "SIGTERM")
    with pytest.raises(Interrupted):
        run_simulation(validate(SimulateConfig, data), tmp_path / "run")
    monkeypatch.setitem(_state, "signal", None)
    # the first run had --engine jax (the config file unchanged): say to give it again
    forced = {**data, "simulation": {**data["simulation"], "engine": "jax"}}
    with pytest.raises(InputError, match="if --engine was given to the first run, give it again"):
        run_simulation(validate(SimulateConfig, forced), tmp_path / "run", resume=True)
    folder = tmp_path / "run" / "checkpoint"
    config = (folder / "config.json").read_bytes()
    (folder / "config.json").unlink()
    with pytest.raises(InputError, match="config.json is missing: the settings the interrupted"):
        run_simulation(validate(SimulateConfig, data), tmp_path / "run", resume=True)
    # damaged: without --resume it said "pass --resume", with it "no interrupted simulation"
    (folder / "config.json").write_bytes(config[: len(config) // 2])
    with pytest.raises(InputError, match="config.json is damaged: .* delete .* afresh"):
        run_simulation(validate(SimulateConfig, data), tmp_path / "run", resume=True)
    (folder / "config.json").write_bytes(config)
    # a state that holds NaN was resumed (11 Hz for 27, other spikes)
    state = dict(np.load(folder / "state.npz"))
    state["state.v"] = np.full_like(state["state.v"], np.nan)
    original = (folder / "state.npz").read_bytes()
    np.savez(folder / "state.npz", **state)
    with pytest.raises(InputError, match=r"state.v holds NaN or inf\); delete .* afresh"):
        run_simulation(validate(SimulateConfig, data), tmp_path / "run", resume=True)
    (folder / "state.npz").write_bytes(original)
    with pytest.raises(InputError, match="no interrupted simulation to resume .*run without"):
        run_simulation(validate(SimulateConfig, data), tmp_path / "none", resume=True)


def test_a_damaged_stretch_file_says_to_start_afresh(tmp_path):
    from infodyn.experiments.simulate_checkpoint import SimulationCheckpoint

    header = {"n_units": 3, "dt": 1.0, "n_steps": 10, "metadata": {}}
    ckpt = SimulationCheckpoint.fresh(tmp_path, {}, header, 60.0, "digest")
    for k in range(2):
        ckpt.segment_path(k).write_bytes(b"truncated")
    for segments in (1, 2):  # one, or joined
        ckpt.segments = segments
        with pytest.raises(InputError, match="not a readable HDF5 file.*delete .* afresh"):
            ckpt.spikes_into(tmp_path / "s.h5")


def test_a_resumed_run_counts_the_wall_time_of_its_earlier_sessions(tmp_path, monkeypatch):
    """``wall_seconds`` of a resumed run is the time of every session up to the checkpoint it
    continued from plus its own (``wall_seconds_this_run``); a checkpoint written before the
    wall time was kept counts none."""
    cfg = _spiking("event", "float64", n_steps=300)
    monkeypatch.setitem(_state, "signal", "SIGINT")
    with pytest.raises(Interrupted, match="after 100 of 300"):
        run_simulation(cfg, tmp_path / "run")
    state = tmp_path / "run" / "checkpoint" / "state.npz"
    with np.load(state) as data:
        saved = dict(data)
    assert 0.0 < saved["wall_seconds"] < 60.0
    saved["wall_seconds"] = np.float64(1000.0)  # as if the first session had taken 1000 s
    np.savez(state, **saved)
    monkeypatch.setitem(_state, "signal", None)
    res = run_simulation(cfg, tmp_path / "run", resume=True)
    assert 0.0 < res["wall_seconds_this_run"] < 60.0
    assert res["wall_seconds"] == pytest.approx(1000.0 + res["wall_seconds_this_run"])
    monkeypatch.setitem(_state, "signal", "SIGINT")
    with pytest.raises(Interrupted, match="after 100 of 300"):
        run_simulation(cfg, tmp_path / "old")
    state = tmp_path / "old" / "checkpoint" / "state.npz"
    with np.load(state) as data:
        saved = {k: v for k, v in data.items() if k != "wall_seconds"}
    np.savez(state, **saved)  # a checkpoint of the version before
    monkeypatch.setitem(_state, "signal", None)
    res = run_simulation(cfg, tmp_path / "old", resume=True)
    assert res["wall_seconds"] == pytest.approx(res["wall_seconds_this_run"])
    saved["wall_seconds"] = np.float64(np.nan)
    monkeypatch.setitem(_state, "signal", "SIGINT")
    with pytest.raises(Interrupted):
        run_simulation(cfg, tmp_path / "bad")
    np.savez(tmp_path / "bad" / "checkpoint" / "state.npz", **saved)
    monkeypatch.setitem(_state, "signal", None)
    with pytest.raises(InputError, match="nan wall seconds"):
        run_simulation(cfg, tmp_path / "bad", resume=True)


def test_the_arguments_are_checked_before_the_simulation(tmp_path):
    """A dict config (as run_energy takes) is validated; None, or None as out, were raw
    errors; a folder named spikes.h5 failed the final rename after the whole simulation."""
    res = run_simulation(
        {"network": {"n_in": 3, "n_rec": 5}, "input": {"n_steps": 50}}, tmp_path / "a"
    )
    assert res["n_steps"] == 50
    with pytest.raises(InputError, match="cfg must be a SimulateConfig or its table"):
        run_simulation(None, tmp_path / "b")
    cfg = validate(SimulateConfig, {**SIM_SMALL, "input": {"n_steps": 50}})
    with pytest.raises(InputError, match="out must be a file or folder path"):
        run_simulation(cfg, None)
    (tmp_path / "c" / "spikes.h5").mkdir(parents=True)
    with pytest.raises(InputError, match="a folder is in the way of the run's spikes.h5"):
        run_simulation(cfg, tmp_path / "c")


def test_a_rerun_dying_after_its_spikes_leaves_no_old_results_beside_them(tmp_path, monkeypatch):
    # the new spikes.h5 replaced the old one, then the process died before results.json: the
    # old run's results stayed, read back as describing the new spikes
    out = tmp_path / "run"
    run_simulation(SimulateConfig(**SIM_SMALL, input={"n_steps": 60}), out)

    def dies(*args, **kwargs):
        raise KeyboardInterrupt  # as a kill between the spike file and the results would

    monkeypatch.setattr(RunDir, "finish", dies)
    new = SimulateConfig(**SIM_SMALL, input={"n_steps": 90})
    with pytest.raises(KeyboardInterrupt):
        run_simulation(new, out)
    assert load_spikes(out / "spikes.h5").n_steps == 90
    assert not (out / "results.json").exists()
    monkeypatch.undo()  # the checkpoint is still there: the resume writes the results
    assert run_simulation(new, out, resume=True)["resumed_from_step"] == 90


def test_a_stretch_damaged_inside_its_chunks_names_the_checkpoint(tmp_path, monkeypatch):
    # the stretches' chunks are copied unread: a damaged one showed up as "DIR/.spikes.staged.h5:
    # corrupt spike data", a temporary file already gone, with no remedy
    import infodyn.experiments.simulate_run as simulate_run

    def corrupt(run, staged, *args, **kwargs):
        raise InputError(f"{staged}: corrupt spike data (bad chunk)")

    monkeypatch.setattr(simulate_run, "simulation_results", corrupt)
    out = tmp_path / "run"
    with pytest.raises(InputError) as info:
        run_simulation(SimulateConfig(**SIM_SMALL, input={"n_steps": 60}), out)
    said = str(info.value)
    assert said.startswith(f"{out / 'checkpoint'}: the spikes of its stretch files do not read")
    assert "(corrupt spike data (bad chunk))" in said and "staged" not in said
    assert said.endswith(f"delete {out / 'checkpoint'} and simulate afresh")


def test_weights_with_nan_are_not_blamed_on_the_network_section(tmp_path):
    # "... does not fit [network]: params['w_rec'] contains NaN or inf values (give the
    # [network] section the weights were made with)": no section makes NaN fit
    from infodyn.network import LIF, save_params

    params = LIF(n_in=3, n_rec=5).init(seed=0)
    params["w_rec"][0, 1] = np.nan
    save_params(tmp_path / "w.npz", params)
    cfg = {**SIM_SMALL, "simulation": {"params": str(tmp_path / "w.npz")}}
    with pytest.raises(InputError) as info:
        run_simulation(validate(SimulateConfig, cfg), tmp_path / "run")
    said = str(info.value)
    assert said.endswith("contains NaN or inf values") and "[network] section" not in said
    # a missing or foreign file names the key too ("nope.npz: no such params file" did not)
    for name, content in (("nope.npz", None), ("text.npz", "not weights")):
        if content is not None:
            (tmp_path / name).write_text(content)
        cfg = {**SIM_SMALL, "simulation": {"params": str(tmp_path / name)}}
        with pytest.raises(InputError, match=r"^\[simulation\] params: .*" + name):
            run_simulation(validate(SimulateConfig, cfg), tmp_path / "run")


@pytest.mark.parametrize("engine", ["event", "jax"])
def test_weights_that_leave_no_room_for_the_engines_copy_are_refused_before_drawing(
    engine, tmp_path, monkeypatch
):
    # the check of the draw counted the weights alone: 10^8 synapses passed at 1.67 GiB and the
    # run peaked at 2.75 GiB (event engine), 4.97 GiB (JAX)
    from infodyn.network import LIF

    monkeypatch.setattr(LIF, "init", lambda *a, **k: pytest.fail("drawn before the check"))
    network = {"n_in": 5, "n_rec": 10_000, "connectivity": "sparse", "k_in": 1000}
    cfg = validate(
        SimulateConfig,
        {"network": network, "input": {"n_steps": 50}, "simulation": {"engine": engine}},
    )
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "240M")  # the draw (186 MiB) fits under it
    with pytest.raises(InputError, match=f"with the {engine} engine's own copy of them and"):
        run_simulation(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_the_jax_copy_is_checked_on_its_device_and_a_params_file_as_it_is_copied(
    tmp_path, monkeypatch
):
    # on a GPU the JAX engine's copy was counted against the host's memory; weights read from
    # a file (float32, trained) were counted as a float64 draw
    from infodyn.experiments import simulate_run
    from infodyn.network import LIF, engine_jax

    net = LIF(n_in=5, n_rec=10_000, connectivity="sparse", k_in=1000)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "240M")  # the weights alone fit the host
    monkeypatch.setattr(engine_jax, "device_free_bytes", lambda: 80 * 2**30)
    simulate_run.check_weights_memory(net, "jax", "float32")  # the copy fits the device
    monkeypatch.setattr(engine_jax, "device_free_bytes", lambda: 100 * 2**20)
    with pytest.raises(InputError, match="JAX engine's copy .* needs .* on the device but"):
        simulate_run.check_weights_memory(net, "jax", "float32")
    monkeypatch.setattr(simulate_run, "check_weights_memory", lambda *a: pytest.fail("checked"))
    small = {"n_in": 3, "n_rec": 20}
    params = tmp_path / "w.npz"
    from infodyn.network import save_params

    save_params(params, LIF(**small).init(seed=0))
    cfg = validate(
        SimulateConfig,
        {"network": small, "input": {"n_steps": 20}, "simulation": {"params": str(params)}},
    )
    run_simulation(cfg, tmp_path / "run")  # no draw: no check of one


def test_a_signal_during_the_last_chunk_lets_the_whole_run_write_its_files(tmp_path, monkeypatch):
    # it stopped after 500 of 500 steps, with a checkpoint and no results, and asked for a
    # --resume to write them (a 10^5-unit run of one chunk could not be stopped earlier)
    from infodyn.experiments import simulate_checkpoint as module

    cfg = _spiking("event", chunk_steps=250)
    run_simulation(cfg, tmp_path / "whole")
    reads = []

    def requested():  # the signal came during the second (last) chunk
        reads.append(1)
        return "SIGTERM" if len(reads) > 1 else None

    monkeypatch.setattr(module, "requested", requested)
    results = run_simulation(cfg, tmp_path / "run")
    assert results["n_steps"] == 500 and (tmp_path / "run" / "results.json").is_file()
    assert not (tmp_path / "run" / "checkpoint").exists()
    _same_spikes(tmp_path / "run", tmp_path / "whole")


@pytest.mark.parametrize(
    ("steps", "advice"),
    [
        (50, "use fewer inputs"),
        (2000, r"use fewer \[simulation\] chunk_steps; or use fewer inputs"),
    ],
)
def test_the_weights_are_checked_with_a_chunks_input_and_advised_on_the_largest(
    steps, advice, tmp_path, monkeypatch
):
    """A network of 10^5 inputs and 10^4 units passed the check of its weights and that of
    its input chunk, each alone, and was killed by the out-of-memory killer; the refusal
    advised sparse recurrent weights where the dense w_in was nine tenths of the need."""
    from infodyn.experiments.config import make_input
    from infodyn.experiments.simulate_run import _input_bytes
    from infodyn.network import LIF
    from infodyn.network.simulate import run_weights_bytes

    monkeypatch.setattr(LIF, "init", lambda *a, **k: pytest.fail("drawn before the check"))
    cfg = validate(
        SimulateConfig,
        {
            "network": {"n_in": 20_000, "n_rec": 300},
            "input": {"n_steps": steps, "rate_hz": 20.0},
            "simulation": {"engine": "event", "chunk_steps": 2000},
        },
    )
    net = cfg.build_network()
    x = make_input(cfg.input, net.n_in, net.dt, streamed=True)
    weights, chunk = sum(run_weights_bytes(net, "event", "float64")), _input_bytes(x, steps)
    assert chunk > 0.1 * weights
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", str(int((weights + chunk / 2) / 0.9)))
    with pytest.raises(
        InputError,
        match=r"the weights of 300 units with the event engine's own copy of them and a "
        r"chunk's input \(.*\) needs .*; " + advice + r" \(n_in\): w_in is dense",
    ):
        run_simulation(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()
