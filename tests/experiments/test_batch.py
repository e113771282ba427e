"""vmap batching of small networks gives exactly the runs of the unbatched simulate command."""

import json
from pathlib import Path

import numpy as np
import pytest

from infodyn.data.io import load_spikes
from infodyn.errors import InputError
from infodyn.experiments.config import SimulateConfig, get_command, validate
from infodyn.experiments.simulate_batch import batch_signature, simulate_batch
from infodyn.experiments.simulate_run import run_simulation
from infodyn.experiments.sweep import (
    count_attempts,
    expand_grid,
    make_tasks,
    read_marker,
    run_point_batch,
)

SIM_SMALL = {"network": {"n_in": 3, "n_rec": 5}}

BASE = {
    "network": {"n_in": 8, "n_rec": 16, "in_scale": 3.0, "n_ref": 1},
    "input": {"n_steps": 150, "rate_hz": 40.0},
    "simulation": {"engine": "jax", "precision": "float64"},
}


def test_tasks_group_compatible_points():
    spec = get_command("simulate")
    grid = {"network.rec_scale": [0.5, 1.0, 1.5], "network.tau_m": [20.0, 30.0]}
    points = expand_grid(spec, BASE, grid, seeds=2)
    tasks = make_tasks(spec, points, batch_size=4)
    assert sorted(len(t) for t in tasks) == [2, 2, 4, 4]  # tau_m changes the compiled network
    for task in tasks:
        assert len({p.config["network"]["tau_m"] for p in task}) == 1
    assert all(len(t) == 1 for t in make_tasks(spec, points, batch_size=1))
    long = dict(BASE, simulation={"engine": "auto"}, input={"n_steps": 5000})
    assert all(len(t) == 1 for t in make_tasks(spec, expand_grid(spec, long, grid), 4))
    # sparse networks (k_in) are swept point by point: each point has its own synapse pattern
    sparse = dict(BASE, network={**BASE["network"], "connectivity": "sparse"})
    points = expand_grid(spec, sparse, {"network.k_in": [3, 5]}, seeds=2)
    assert len(points) == 4 and {p.config["network"]["k_in"] for p in points} == {3, 5}
    assert all(len(t) == 1 for t in make_tasks(spec, points, batch_size=4))


def test_batched_points_equal_unbatched_runs(tmp_path):
    spec = get_command("simulate")
    points = expand_grid(
        spec, BASE, {"network.rec_scale": [0.5, 1.5], "input.rate_hz": [20.0, 60.0]}
    )
    items = [(p.config, str(tmp_path / "b" / p.name), p.key) for p in points]
    markers = run_point_batch(spec, items)
    for p, marker in zip(points, markers, strict=True):
        assert read_marker(tmp_path / "b" / p.name, p.key) == marker
        ref = run_simulation(validate(SimulateConfig, p.config), tmp_path / "ref" / p.name)
        got = json.loads((tmp_path / "b" / p.name / "results.json").read_text())
        assert got["engine"] == "jax-vmap" and ref["engine"] == "jax"
        skip = {"engine", "wall_seconds"}
        assert {k: v for k, v in got.items() if k not in skip} == {
            k: v for k, v in ref.items() if k not in skip
        }
        a = load_spikes(tmp_path / "b" / p.name / "spikes.h5")
        b = load_spikes(tmp_path / "ref" / p.name / "spikes.h5")
        np.testing.assert_array_equal(a.to_dense(), b.to_dense())
        # the same record of how they ran: network (model included), seed and input settings
        assert a.metadata["network"] == b.metadata["network"]
        assert a.metadata["network"]["model"] == "lif"
        assert {k: a.metadata[k] for k in ("seed", "input")} == {
            k: b.metadata[k] for k in ("seed", "input")
        }
        assert (tmp_path / "b" / p.name / "figures" / "raster.png").exists()
    assert len({m["results"]["n_spikes"] for m in markers}) > 1  # the points really differ


def test_one_bad_point_fails_alone_not_its_whole_batch(tmp_path):
    """A 5000 Hz point refused the whole batch: the 50 Hz points beside it failed with its
    message ("all 4 points failed on the same input"), on every rerun."""
    spec = get_command("simulate")
    points = expand_grid(
        spec, BASE, {"input.rate_hz": [50.0, 5000.0], "network.rec_scale": [0.5, 1.0]}
    )
    items = [(p.config, str(tmp_path / p.name), p.key) for p in points]
    assert len(make_tasks(spec, points, batch_size=4)) == 1  # one batch
    markers = run_point_batch(spec, items)
    for p, marker in zip(points, markers, strict=True):
        if p.values["input.rate_hz"] == 5000.0:
            assert "highest rate is 5000 Hz" in marker["input_error"]
        else:
            assert marker == read_marker(tmp_path / p.name, p.key)  # ran alone, done
        assert count_attempts(tmp_path / p.name) == 1  # the batch's attempt, not two


def test_a_full_disk_fails_the_batch_at_once_not_point_by_point(tmp_path, monkeypatch):
    """A full disk fails a batch's points at once (each alone would fail again); a permission
    error, which may be one point's file, sends them to run alone, as bad input does."""
    import errno

    import infodyn.experiments.simulate_batch as sb

    def full(cfgs, outs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sb, "simulate_batch", full)
    spec = get_command("simulate")
    points = expand_grid(spec, BASE, {"network.rec_scale": [0.5, 1.0]})
    markers = run_point_batch(spec, [(p.config, str(tmp_path / p.name), p.key) for p in points])
    assert all("no space left on the device" in m["input_error"] for m in markers)
    assert all(count_attempts(tmp_path / p.name) == 1 for p in points)

    def denied(cfgs, outs):  # one point's file it may not write: not every point's failure
        raise PermissionError(errno.EACCES, "Permission denied", str(outs[1] / "spikes.h5"))

    monkeypatch.setattr(sb, "simulate_batch", denied)
    others = [(p.config, str(tmp_path / "b" / p.name), p.key) for p in points]
    assert all("results" in m for m in run_point_batch(spec, others))  # each ran alone


def test_a_batch_larger_than_the_free_memory_is_refused_before_it_runs(tmp_path, monkeypatch):
    """4 points x 150 steps x (8 inputs x 24 B + 16 units x 16 B) = 268,800 B, plus 4 points x
    (8 x 16 + 16 x 16 + 16 x 1) weights x 24 B = 38,400 B (the weights were not counted):
    307,200 B = 300 KiB."""
    from infodyn.memory import MemoryPreflightError

    cfgs = [validate(SimulateConfig, BASE)] * 4
    outs = [tmp_path / f"p{i}" for i in range(4)]
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "200K")
    with pytest.raises(MemoryPreflightError) as info:
        simulate_batch(cfgs, outs)
    assert str(info.value).startswith(
        "a batch of 4 simulate points of 150 steps x 16 units (dense weights, inputs and spikes, "
        "all held) needs 300 KiB but 200 KiB is free under INFODYN_MEMORY_LIMIT; a smaller "
        "batch_size"
    )
    assert not any(o.exists() for o in outs)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1M")
    simulate_batch(cfgs, outs)
    assert load_spikes(outs[0] / "spikes.h5").metadata["precision"] == "float64"


def test_points_of_different_precision_are_not_batched_together():
    cfg = {**SIM_SMALL, "input": {"n_steps": 50}, "simulation": {"engine": "jax"}}
    f32 = SimulateConfig(**cfg)
    f64 = SimulateConfig(**{**cfg, "simulation": {"engine": "jax", "precision": "float64"}})
    assert batch_signature(f32) != batch_signature(f64)
    with pytest.raises(InputError, match="share one network signature"):
        simulate_batch([f32, f64], [Path("a"), Path("b")])


@pytest.mark.parametrize(
    "change",
    [
        {
            "network": {
                **SIM_SMALL["network"],
                "connectivity": "sparse",
                "p_connect": 0.5,
                "weights": "sparse",
            }
        },
        {"simulation": {"engine": "event"}},
    ],
    ids=["sparse-weights", "event-engine"],
)
def test_configs_that_cannot_be_batched_are_refused_by_name(change):
    # sparse weights failed inside np.stack with a raw TypeError about SparseWeights
    cfg = SimulateConfig(**{**SIM_SMALL, "input": {"n_steps": 50}, **change})
    with pytest.raises(InputError, match="cannot batch configs with sparse recurrent weights"):
        simulate_batch([cfg, cfg], [Path("a"), Path("b")])


def test_a_batch_of_points_refuses_weights_float32_cannot_hold(tmp_path):
    """A point run alone refused weights beyond float32's range (advising float64); in a batch
    they became inf and the spikes were wrong in silence."""
    big = {**SIM_SMALL["network"], "rec_scale": 1e41}
    cfg = validate(SimulateConfig, {"network": big, "input": {"n_steps": 40}})
    with pytest.raises(InputError, match=r"params\['w_rec'\] holds .*beyond float32's range"):
        simulate_batch([cfg], [tmp_path / "p0"])
    wide = {"network": big, "input": {"n_steps": 40}, "simulation": {"precision": "float64"}}
    simulate_batch([validate(SimulateConfig, wide)], [tmp_path / "p1"])
    assert (tmp_path / "p1" / "results.json").is_file()
