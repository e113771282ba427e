"""The natural-image pipeline end to end on a tiny config, and its building blocks."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from infodyn.experiments import pipeline as pl

TINY = """
stages = ["image_energy", "network", "report"]

[images]
images = ["camera", "grass"]
sizes = [4]
n_patches = 1500

[energy]
n_samples = 100
denoise_patterns = 40
denoise_flips = [1, 2]
max_words_units = 8

[stimulus]
n_stimuli = 3
trial_ms = 60
response_start_ms = 20
drift = 0.1

[network]
n_rec = 20
tau_m = 20.0
v_th = 0.03
n_ref = 2

[training]
iterations = 3
batch_size = 2

[analysis]
n_trials = 24
"""

EXPECTED_FIGURES = {
    "image_4x4_patches_and_samples",
    "image_4x4_memories",
    "image_4x4_couplings",
    "image_4x4_denoising",
    "image_4x4_thermodynamics",
    "network_stimuli",
    "network_training",
    "network_rates_before_after",
    *(
        f"network_{s}_{f}"
        for s in ("before", "after")
        for f in (
            "raster",
            "branching",
            "decoding",
            "memories_and_triggered_patches",
            "energy_trajectory",
        )
    ),
}


def _finite_numbers(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _finite_numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _finite_numbers(v, f"{path}[{i}]")
    elif isinstance(obj, float):
        yield path, obj


def test_pipeline_end_to_end_through_the_cli(tmp_path, report_checks):
    _, assert_every_figure_embedded = report_checks
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    res = subprocess.run(
        [sys.executable, "-m", "infodyn.cli", "images", str(cfg), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "4x4 patches:" in res.stdout and "report:" in res.stdout
    for name in (
        "config.json",
        "results.json",
        "report.html",
        "training_history.json",
        "network_params.npz",
        "image_4x4_model.npz",
    ):
        assert (out / name).is_file(), name
    figs = {p.stem for p in (out / "figures").glob("*.png")}
    assert EXPECTED_FIGURES <= figs, EXPECTED_FIGURES - figs
    text = (out / "report.html").read_text()
    assert_every_figure_embedded(out, text)
    results = json.loads((out / "results.json").read_text())
    # no stage left out; notes may only flag an oscillating population activity
    assert all("do not decay" in n for n in results["notes"]), results["notes"]
    img = results["image_energy_4x4"]
    assert img["n_units"] == 16 and img["log_z_method"] == "exact"
    assert img["bits_per_patch_model_test"] > img["bits_per_patch_independent_test"]
    assert img["n_memories"] >= 1 and img["min_distance"] >= 2
    net = results["network"]
    assert set(net) >= {"before_training", "after_training", "training"}
    assert net["training"]["iterations"] == 3
    hist = json.loads((out / "training_history.json").read_text())
    assert len(hist) == 3 and all("info_bound_bits" in r for r in hist)
    for stage in ("before_training", "after_training"):
        info = net[stage]["information"]
        assert 0 <= info["mi_stimulus_decision_bits_plugin"] <= math.log2(3) + 1e-9
    bad = [p for p, v in _finite_numbers(results) if not math.isfinite(v)]
    assert not bad
    cfg_used = json.loads((out / "config.json").read_text())
    assert cfg_used["command"] == "images"
    assert cfg_used["config"]["stimulus"]["n_stimuli"] == 3


def test_bad_config_exits_2_with_one_line(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[images]\nsizez = [4]\n")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    res = subprocess.run(
        [sys.executable, "-m", "infodyn.cli", "images", str(cfg), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 2
    assert "[images.sizez] unknown key" in res.stderr and res.stderr.strip().count("\n") == 0


def test_overrides_and_defaults():
    cfg = pl.apply_overrides(
        pl.PipelineConfig(), images=["camera"], sizes="4", iterations=7, train=False, seed=3
    )
    assert cfg.images.images == ["camera"] and cfg.images.sizes == [4]
    assert cfg.training.iterations == 7 and not cfg.training.enabled
    assert cfg.images.seed == 3 and cfg.stimulus.seed == 4
    with pytest.raises(ValueError, match="--sizes"):
        pl.apply_overrides(pl.PipelineConfig(), sizes="4,x")
    assert pl.demo_config().images.sizes == [4, 8]


def test_patch_task_with_drift_follows_the_gaze():
    import infodyn as idn

    img = idn.data.builtin_image("camera")
    rows, cols = np.array([100, 300]), np.array([50, 200])
    grey = np.stack([img[r : r + 4, c : c + 4].ravel() for r, c in zip(rows, cols, strict=True)])
    rates = pl.encode_patches(grey, 2.0, 60.0)
    gaze = {
        "images": [img, img],
        "rows": rows,
        "cols": cols,
        "size": 4,
        "drift": 1.0,
        "base_hz": 2.0,
        "gain_hz": 60.0,
    }
    still = pl.PatchTask(rates, 400, 50)
    moving = pl.PatchTask(rates, 400, 50, gaze=gaze)
    labels = np.array([0, 1, 1, 0])
    r_still = still.rates(np.random.default_rng(0), labels)
    np.testing.assert_array_equal(r_still, np.broadcast_to(rates[labels][:, None], (4, 400, 32)))
    r = moving.rates(np.random.default_rng(0), labels)
    np.testing.assert_allclose(r[:, 0], rates[labels])  # the gaze starts on the stimulus
    # every step shows a patch within 2 pixels of the stimulus, and the gaze does move
    for b, k in enumerate(labels):
        near = [
            pl.encode_patches(
                img[rows[k] + dr : rows[k] + dr + 4, cols[k] + dc : cols[k] + dc + 4].ravel()[None],
                2.0,
                60.0,
            )[0]
            for dr in range(-2, 3)
            for dc in range(-2, 3)
        ]
        d = np.min([np.abs(r[b] - n).max(axis=1) for n in near], axis=0)
        assert np.all(d < 1e-9)
        assert len(np.unique(r[b], axis=0)) > 3
    x, lab = moving.draw(np.random.default_rng(0), 8)
    assert x.shape == (8, 400, 32) and set(np.unique(x)) <= {0.0, 1.0}


def test_encode_patches_on_off_rates():
    g = np.array([[0.0, 1.0, 0.5, 0.5], [0.3, 0.3, 0.3, 0.3]])
    r = pl.encode_patches(g, base_hz=2.0, gain_hz=60.0)
    c = (g[0] - g[0].mean()) / g[0].std()  # [-sqrt2, sqrt2, 0, 0]
    np.testing.assert_allclose(r[0, :4], 2 + 60 * np.clip(c, 0, 2) / 2)
    np.testing.assert_allclose(r[0, 4:], 2 + 60 * np.clip(-c, 0, 2) / 2)
    np.testing.assert_allclose(r[1], 2.0)  # a flat patch drives only the base rate


def test_posterior_descent_independent_prior_is_exact_map():
    from infodyn.energy import IsingModel

    rng = np.random.default_rng(0)
    n = 6
    theta = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, 4.0])
    model = IsingModel(np.zeros((n, n)), theta)
    Y = (rng.random((200, n)) < 0.5).astype(np.int64)
    eps = 0.1
    L = math.log((1 - eps) / eps)
    got = pl.posterior_descent(model, Y, eps)
    # bitwise MAP: x_i = 1 iff L (2 y_i - 1) - theta_i > 0
    np.testing.assert_array_equal(got, (L * (2 * Y - 1) - theta > 0).astype(np.uint8))


def test_posterior_descent_reaches_a_local_map_and_lowers_posterior_energy():
    from infodyn.energy import IsingModel

    rng = np.random.default_rng(1)
    n = 10
    J = rng.normal(0, 1, (n, n))
    J = (J + J.T) / 2
    np.fill_diagonal(J, 0)
    model = IsingModel(J, rng.normal(0, 1, n))
    Y = (rng.random((300, n)) < 0.5).astype(np.int64)
    eps = 0.2
    L = math.log((1 - eps) / eps)
    X = pl.posterior_descent(model, Y, eps)

    def post_energy(X):
        return model.energy(X) - L * np.sum(X * (2 * Y - 1), axis=1)

    assert np.all(post_energy(X) <= post_energy(Y) + 1e-12)
    # no single flip lowers the posterior energy
    for i in range(n):
        F = X.copy()
        F[:, i] ^= 1
        assert np.all(post_energy(F) >= post_energy(X) - 1e-12)


def test_example_configs_are_valid_and_images_toml_is_the_demo():
    from pathlib import Path

    from infodyn.experiments.config import load_config

    root = Path(__file__).resolve().parents[2] / "examples"
    full = load_config(root / "images.toml", pl.PipelineConfig)
    assert full == pl.demo_config()
    for path in sorted(root.glob("images*.toml")):
        load_config(path, pl.PipelineConfig)
