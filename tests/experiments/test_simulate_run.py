"""The simulate run (infodyn.experiments.simulate_run): an interrupt leaves nothing behind."""

import pytest

from infodyn.experiments.config import SimulateConfig, validate
from infodyn.experiments.interrupt import Interrupted, _state
from infodyn.experiments.simulate_run import run_simulation


@pytest.mark.parametrize("engine", ["event", "jax"])
def test_an_interrupted_run_into_a_new_folder_leaves_no_folder(engine, tmp_path, monkeypatch):
    cfg = validate(
        SimulateConfig,
        {
            "network": {"n_in": 3, "n_rec": 8},
            "input": {"n_steps": 300},
            "simulation": {"engine": engine, "chunk_steps": 100},
        },
    )
    monkeypatch.setitem(_state, "signal", "SIGTERM")  # as if a signal had come (graceful)
    with pytest.raises(Interrupted, match="nothing was written"):
        run_simulation(cfg, tmp_path / "new")
    assert not (tmp_path / "new").exists()
    monkeypatch.setitem(_state, "signal", None)
    res = run_simulation(cfg, tmp_path / "new")
    assert res["n_steps"] == 300 and (tmp_path / "new" / "config.json").exists()


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
