"""Extending a finished simulation (infodyn.experiments.simulate_extend): ``resume`` with a
larger ``[input] n_steps`` runs the new steps only and gives the longer run, spike for spike."""

import numpy as np
import pytest

from infodyn.data.io import load_spikes
from infodyn.errors import InputError
from infodyn.experiments.config import SimulateConfig, validate
from infodyn.experiments.interrupt import Interrupted, _state
from infodyn.experiments.simulate_checkpoint import load_state
from infodyn.experiments.simulate_extend import END_STATE
from infodyn.experiments.simulate_run import run_simulation


def _cfg(n_steps, engine="event", precision="float64", kind="poisson", network=None, **sim):
    return validate(
        SimulateConfig,
        {
            "network": network or {"n_in": 10, "n_rec": 60, "in_scale": 3.0},
            "input": {"kind": kind, "n_steps": n_steps, "rate_hz": 40.0, "seed": 5},
            "simulation": {"engine": engine, "precision": precision, "chunk_steps": 100, **sim},
        },
    )


def _assert_same_spikes(a, b, n_steps):
    a, b = load_spikes(a / "spikes.h5"), load_spikes(b / "spikes.h5")
    assert a.n_steps == b.n_steps == n_steps and a.metadata == b.metadata
    assert a.n_spikes > 500 and a.times.max() >= n_steps - 100  # spikes in the new steps too
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.units, b.units)


@pytest.mark.parametrize(("engine", "precision"), [("event", "float64"), ("jax", "float32")])
def test_an_extended_run_is_the_longer_run_spike_for_spike(engine, precision, tmp_path):
    run_simulation(_cfg(700, engine, precision), tmp_path / "whole")
    run_simulation(_cfg(300, engine, precision), tmp_path / "run")
    assert load_state(tmp_path / "run" / END_STATE)["step"] == 300
    res = run_simulation(_cfg(550, engine, precision), tmp_path / "run", resume=True)
    assert res["resumed_from_step"] == 300 and res["n_steps"] == 550
    res = run_simulation(_cfg(700, engine, precision), tmp_path / "run", resume=True)
    assert res["resumed_from_step"] == 550 and res["n_steps"] == 700
    _assert_same_spikes(tmp_path / "run", tmp_path / "whole", 700)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "config.json", END_STATE, "figures", "results.json", "spikes.h5"
    ]  # fmt: skip
    assert load_state(tmp_path / "run" / END_STATE)["step"] == 700


def test_private_poisson_inputs_extend_and_auto_keeps_the_engine_the_run_had(tmp_path):
    """A 300-step run on "auto" ran on JAX (the event engine from 2,000 steps): its extension
    to 2,100 steps goes on with JAX; the private Poisson stream is drawn by blocks of steps."""
    brunel = {
        "n_rec": 200, "n_out": 0, "connectivity": "ei", "k_in": 50, "ei_mu": 0.0,
        "ei_sigma": 0.0, "rec_scale": 5.0, "inh_factor": 5.0,
        "input_connectivity": "private", "in_scale": 0.3,
    }  # fmt: skip
    cfg = {"network": brunel, "engine": "auto", "precision": "float64", "chunk_steps": 700}
    run_simulation(_cfg(2100, **{**cfg, "engine": "jax"}), tmp_path / "whole")
    assert run_simulation(_cfg(300, **cfg), tmp_path / "run")["engine"] == "jax"
    res = run_simulation(_cfg(2100, **cfg), tmp_path / "run", resume=True)
    assert res["engine"] == "jax" and res["resumed_from_step"] == 300
    _assert_same_spikes(tmp_path / "run", tmp_path / "whole", 2100)


def test_an_extension_stopped_part_way_resumes_to_the_longer_run(tmp_path, monkeypatch):
    run_simulation(_cfg(600), tmp_path / "whole")
    run_simulation(_cfg(200), tmp_path / "run")
    before = (tmp_path / "run" / "spikes.h5").read_bytes()
    monkeypatch.setitem(_state, "signal", "SIGINT")
    with pytest.raises(Interrupted, match="after 300 of 600 steps"):
        run_simulation(_cfg(600), tmp_path / "run", resume=True)
    monkeypatch.setitem(_state, "signal", None)
    assert (tmp_path / "run" / "spikes.h5").read_bytes() == before  # the finished run is whole
    res = run_simulation(_cfg(600, chunk_steps=70), tmp_path / "run", resume=True)
    assert res["resumed_from_step"] == 300  # (chunk_steps changes no spike: may differ)
    _assert_same_spikes(tmp_path / "run", tmp_path / "whole", 600)


def test_what_cannot_be_extended_is_refused_and_left_as_it_was(tmp_path):
    out = tmp_path / "run"
    run_simulation(_cfg(300), out)
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    refusals = [
        (_cfg(300), "all its 300 steps: nothing to resume; to extend it, raise \\[input\\] n_st"),
        (_cfg(200), "of 300 steps, more than the 200 asked for: a run is extended, never cut"),
        (_cfg(400, seed=9), "another config: simulation.seed \\(0 -> 9\\); a finished run is"),
        (_cfg(400, engine="jax"), 'simulation.engine \\("event" -> "jax"\\)'),
    ]
    for cfg, match in refusals:
        with pytest.raises(InputError, match=match):
            run_simulation(cfg, out, resume=True)
        assert not (out / "checkpoint").exists()
        assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == files
    (out / END_STATE).unlink()
    with pytest.raises(InputError, match="without end_state.npz .* cannot be extended"):
        run_simulation(_cfg(400), out, resume=True)
    noise = tmp_path / "noise"
    run_simulation(_cfg(300, kind="filtered_noise"), noise)
    with pytest.raises(InputError, match="kind = 'filtered_noise' cannot be extended"):
        run_simulation(_cfg(400, kind="filtered_noise"), noise, resume=True)


def test_a_rerun_replaces_the_end_state_and_a_foreign_one_is_refused(tmp_path):
    out = tmp_path / "run"
    run_simulation(_cfg(300), out)
    state = (out / END_STATE).read_bytes()
    run_simulation(_cfg(250), out)  # a new run (no resume) replaces the old one, end and all
    assert load_state(out / END_STATE)["step"] == 250
    (out / END_STATE).write_bytes(state)  # the end of another run
    with pytest.raises(InputError, match="state after step 300, but the run has 250 steps"):
        run_simulation(_cfg(400), out, resume=True)


def _files(out):
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_other_weights_are_refused_and_a_stop_while_reopening_leaves_the_run_as_it_was(
    tmp_path, monkeypatch
):
    """A params file rewritten after the run finished was taken: the new weights went on from
    the old weights' state. A stop while the spikes are copied into the checkpoint left a
    checkpoint without a state, from which the next resume started over at step 0."""
    from infodyn.experiments.simulate_checkpoint import SimulationCheckpoint
    from infodyn.network import save_params

    net = _cfg(300).build_network()
    weights = tmp_path / "w.npz"
    save_params(weights, net.init(seed=1))
    out = tmp_path / "run"
    run_simulation(_cfg(300, params=str(weights)), out)
    files = _files(out)
    save_params(weights, net.init(seed=2))
    with pytest.raises(InputError, match="the weights differ from those the finished run used"):
        run_simulation(_cfg(600, params=str(weights)), out, resume=True)
    assert _files(out) == files
    save_params(weights, net.init(seed=1))

    def stopped(self, times, units):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(SimulationCheckpoint, "on_spikes", stopped)
        with pytest.raises(KeyboardInterrupt):
            run_simulation(_cfg(600, params=str(weights)), out, resume=True)
    assert _files(out) == files and sorted(p.name for p in out.iterdir()) == [
        "config.json", "end_state.npz", "figures", "results.json", "spikes.h5"
    ]  # fmt: skip
    res = run_simulation(_cfg(600, params=str(weights)), out, resume=True)
    assert res["resumed_from_step"] == 300
    run_simulation(_cfg(600, params=str(weights)), tmp_path / "whole")
    _assert_same_spikes(out, tmp_path / "whole", 600)


def test_damaged_spikes_and_a_batched_rerun_are_refused(tmp_path):
    from infodyn.experiments.simulate_batch import simulate_batch

    out = tmp_path / "run"
    run_simulation(_cfg(300), out)
    spikes = out / "spikes.h5"
    spikes.write_bytes(spikes.read_bytes()[:2000])
    with pytest.raises(InputError, match="the finished run's spikes cannot be read .* cannot be"):
        run_simulation(_cfg(400), out, resume=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "end_state.npz", "figures", "results.json", "spikes.h5"
    ]  # fmt: skip
    # a sweep's batched points keep no end state: the one there before is not theirs
    batched = _cfg(300, engine="jax", precision="float32")
    run_simulation(batched, out)
    simulate_batch([batched], [out])
    assert not (out / END_STATE).exists()
    with pytest.raises(InputError, match="without end_state.npz .* batched points keep none"):
        run_simulation(_cfg(400, engine="jax", precision="float32"), out, resume=True)


def test_what_a_refusal_says_first_and_a_stopped_extension_counts_its_steps(tmp_path, monkeypatch):
    out = tmp_path / "run"
    run_simulation(_cfg(300), out)
    with pytest.raises(InputError, match="another config: simulation.seed"):  # not "raise n_st"
        run_simulation(_cfg(300, seed=9), out, resume=True)
    with pytest.raises(InputError, match="if --engine was given to the first run, give it again"):
        run_simulation(_cfg(400, engine="auto"), out, resume=True)
    monkeypatch.setitem(_state, "signal", "SIGINT")
    with pytest.raises(Interrupted, match="after 400 of 600 steps"):
        run_simulation(_cfg(600), out, resume=True)
    monkeypatch.setitem(_state, "signal", None)
    # it said "all its 300 steps done, its results not yet written" (the new config's steps)
    with pytest.raises(InputError, match="interrupted simulation \\(400 of its 600 steps done\\)"):
        run_simulation(_cfg(300), out)


def test_a_killed_extensions_staging_folder_goes_and_a_damaged_checkpoint_still_says_resume(
    tmp_path, monkeypatch
):
    from infodyn.experiments.simulate_extend import STAGING

    out = tmp_path / "run"
    run_simulation(_cfg(300), out)
    (out / STAGING / "checkpoint").mkdir(parents=True)  # as a kill during the copy leaves it
    (out / STAGING / "checkpoint" / "spikes-00000.h5").write_bytes(b"x" * 1000)
    run_simulation(_cfg(300), out)  # a plain rerun: it stayed for good
    assert not (out / STAGING).exists()
    monkeypatch.setitem(_state, "signal", "SIGINT")
    with pytest.raises(Interrupted):
        run_simulation(_cfg(600), out, resume=True)
    monkeypatch.setitem(_state, "signal", None)
    (out / "checkpoint" / "config.json").write_text("{not json")
    with pytest.raises(
        InputError, match="interrupted simulation \\(400 of its steps done\\): pass"
    ):
        run_simulation(_cfg(300), out)


@pytest.mark.parametrize("swap", ["foreign", "edited", "longer"])
def test_a_spike_file_that_is_not_the_finished_runs_is_refused_and_the_folder_kept(swap, tmp_path):
    """A foreign or edited spikes.h5 was spliced into the longer run without a word; one of
    more steps failed later, blaming the checkpoint's stretch files, and left checkpoint/
    behind, which then refused a plain rerun as "an interrupted simulation"."""
    from infodyn.data import SpikeTrain, save_spikes

    out = tmp_path / "run"
    run_simulation(_cfg(300), out)
    spikes = out / "spikes.h5"
    train = load_spikes(spikes)
    if swap == "foreign":  # another recording of 10 units
        rng = np.random.default_rng(0)
        save_spikes(
            spikes,
            SpikeTrain(
                np.sort(rng.integers(0, 300, 50)),
                rng.integers(0, 10, 50),
                n_units=10,
                n_steps=300,
                dt=1.0,
            ),
        )
    elif swap == "edited":  # half its spikes deleted
        keep = np.arange(train.n_spikes) % 2 == 0
        save_spikes(
            spikes,
            SpikeTrain(
                train.times[keep], train.units[keep], n_units=train.n_units, n_steps=300, dt=1.0
            ),
        )
    else:  # the spikes of a longer run of the same config
        run_simulation(_cfg(600), tmp_path / "long")
        spikes.write_bytes((tmp_path / "long" / "spikes.h5").read_bytes())
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    what = {"foreign": "n_units 10", "edited": "n_spikes", "longer": "n_steps 600"}[swap]
    with pytest.raises(InputError, match=f"not the finished run's spike file .*{what}"):
        run_simulation(_cfg(400), out, resume=True)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert not (out / "checkpoint").exists()
    run_simulation(_cfg(300), out)  # a plain rerun is not refused
