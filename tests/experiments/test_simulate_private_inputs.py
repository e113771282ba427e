"""``infodyn simulate`` of networks with private Poisson inputs (``[network]
input_connectivity = "private"``): each unit its own Poisson source, made chunk by chunk."""

import numpy as np
import pytest

from infodyn.data.io import load_spikes
from infodyn.errors import InputError
from infodyn.experiments.config import SimulateConfig, make_input, validate
from infodyn.experiments.interrupt import Interrupted, _state
from infodyn.experiments.simulate_batch import batch_signature
from infodyn.experiments.simulate_run import run_simulation
from infodyn.network import SparseWeights
from infodyn.network.poisson_stream import PoissonStream

#: Brunel's sparse E/I network (fixed weights J = 0.05 v_th, g = 8, K = 100) driven by one
#: private Poisson source a unit (p = 0.1 a step through J_ext = 0.3 v_th): the scale benchmark's
#: "ai" network
BRUNEL = {
    "n_rec": 400, "n_out": 0, "tau_m": 20.0, "v_th": 1.0, "connectivity": "ei", "k_in": 100,
    "ei_mu": 0.0, "ei_sigma": 0.0, "rec_scale": 5.0, "inh_factor": 8.0,
    "input_connectivity": "private", "in_scale": 0.3,
}  # fmt: skip


def _config(engine="event", n_steps=1200, chunk_steps=300, **network):
    return validate(
        SimulateConfig,
        {
            "network": {**BRUNEL, **network},
            "input": {"kind": "poisson", "rate_hz": 100.0, "n_steps": n_steps, "seed": 4},
            "simulation": {"engine": engine, "precision": "float64", "chunk_steps": chunk_steps},
        },
    )


def _spikes(folder):
    s = load_spikes(folder / "spikes.h5")
    return s.times, s.units


def test_both_engines_and_any_chunking_give_the_same_spikes(tmp_path):
    """The input is made chunk by chunk, the same whatever the chunks: the event engine in
    chunks of 300 and 1,000 steps, and the JAX engine (float64, sparse w_in and w_rec), give one
    raster; and it is that of the dense diagonal w_in driven by the same spikes as one array."""
    runs = {
        "event300": _config(),
        "event1000": _config(chunk_steps=1000),
        "jax": _config(engine="jax"),
    }
    for name, cfg in runs.items():
        run_simulation(cfg, tmp_path / name)
    times, units = _spikes(tmp_path / "event300")
    assert 2 < times.size / (400 * 1.2) < 20  # a few Hz, asynchronous irregular
    for name in ("event1000", "jax"):
        t, u = _spikes(tmp_path / name)
        np.testing.assert_array_equal(t, times)
        np.testing.assert_array_equal(u, units)
    cfg = runs["event300"]
    net = cfg.build_network()
    params = net.init(seed=cfg.simulation.seed)
    assert isinstance(params["w_in"], SparseWeights)
    x = make_input(cfg.input, net.n_in, net.dt, private=True)(0, 1200).toarray()
    dense = {**params, "w_in": params["w_in"].to_dense()}
    z = net.simulate(dense, x.astype(np.float64), engine="jax", precision="float64").z
    t, u = np.nonzero(z)
    np.testing.assert_array_equal(t, times)
    np.testing.assert_array_equal(u, units)


def test_a_stopped_run_resumes_with_the_same_input(tmp_path, monkeypatch):
    run_simulation(_config(), tmp_path / "whole")
    monkeypatch.setitem(_state, "signal", "SIGINT")
    with pytest.raises(Interrupted, match="after 300 of 1,?200"):
        run_simulation(_config(), tmp_path / "run")
    monkeypatch.setitem(_state, "signal", None)
    assert run_simulation(_config(), tmp_path / "run", resume=True)["resumed_from_step"] == 300
    for a, b in zip(_spikes(tmp_path / "run"), _spikes(tmp_path / "whole"), strict=True):
        np.testing.assert_array_equal(a, b)


def test_private_inputs_take_poisson_input_and_are_not_batched(tmp_path):
    with pytest.raises(InputError, match="private inputs take kind = 'poisson'"):
        validate(
            SimulateConfig, {"network": BRUNEL, "input": {"kind": "current", "amplitude": 1.0}}
        )
    with pytest.raises(InputError, match=r"\[input\] rate x dt exceeds one spike per step"):
        validate(SimulateConfig, {"network": BRUNEL, "input": {"rate_hz": 1500.0}})
    with pytest.raises(InputError, match="n_in must equal n_rec"):
        validate(SimulateConfig, {"network": {**BRUNEL, "n_in": 10}})
    dense = {"n_rec": 30, "input_connectivity": "private", "weights": "dense"}
    cfg = validate(SimulateConfig, {"network": dense, "input": {"n_steps": 100}})
    assert batch_signature(cfg) is None  # a dense w_rec, but w_in is a SparseWeights
    assert run_simulation(cfg, tmp_path / "run")["engine"] == "jax"


def test_a_chunk_of_input_larger_than_memory_is_refused(tmp_path, monkeypatch):
    import infodyn.memory as memory

    need = PoissonStream(100.0, 400).chunk_bytes(200_000)  # 93 MB, the weights 33 MB
    monkeypatch.setattr(memory, "available_bytes", lambda: int(0.9 * need / memory.HEADROOM))
    with pytest.raises(  # (checked with the weights, which leave less room)
        InputError, match=r"and a chunk's input \(.*\) needs .*; use fewer \[simulation\] chunk_"
    ):
        run_simulation(_config(n_steps=200_000, chunk_steps=200_000), tmp_path / "run")
    assert not (tmp_path / "run").exists()
