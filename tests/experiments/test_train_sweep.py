"""The train command is registered for sweeps: seeds reach the trainer, a cut-off point resumes."""

import json

import pytest

from infodyn.experiments.config import get_command
from infodyn.experiments.sweep import expand_grid, read_marker, run_point

BASE = {
    "network": {"n_in": 6, "n_rec": 10, "n_out": 1},
    "task": {"kind": "pattern_generation", "n_steps": 40},
    "loss": [{"kind": "mse"}],
    "training": {"iterations": 2, "checkpoint_every": 1, "lr": 0.01},
}


@pytest.mark.filterwarnings("ignore:only .* non-empty bins")  # tiny runs: no branching estimate
def test_train_points_run_and_resume(tmp_path, monkeypatch):
    import infodyn.experiments.train_run as train_run

    calls = []
    real = train_run.run_training

    def spy(cfg, out, **kw):
        calls.append(kw.get("resume", False))
        return real(cfg, out, **kw)

    monkeypatch.setattr(train_run, "run_training", spy)
    spec = get_command("train")
    points = expand_grid(spec, BASE, {"training.lr": [0.01]}, seeds=2)
    assert [p.config["training"]["seed"] for p in points] == [0, 1]
    assert [p.config["training"]["feedback_seed"] for p in points] == [0, 1]
    p = points[0]  # one training run keeps this test short; seeds are checked above
    m = run_point(spec, p.config, str(tmp_path / p.name), p.key)
    assert read_marker(tmp_path / p.name, p.key) == m
    assert m["results"]["iterations"] == 2 and m["attempts"] == 1
    assert (tmp_path / p.name / "checkpoint.npz").exists()
    run_cfg = json.loads((tmp_path / p.name / "config.json").read_text())
    assert run_cfg["command"] == "train" and run_cfg["config"]["training"]["seed"] == 0
    # a rerun of a point whose run left a checkpoint continues it instead of restarting
    (tmp_path / points[0].name / "DONE.json").unlink()
    again = run_point(spec, points[0].config, str(tmp_path / points[0].name), points[0].key)
    assert calls == [False, True]  # the rerun was told to resume from checkpoint.npz
    assert again["attempts"] == 2
    assert again["results"]["iterations"] == 2
    metrics = json.loads((tmp_path / points[0].name / "metrics.json").read_text())
    assert len(metrics) >= 1
