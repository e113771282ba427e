"""Memory preflight of the commands (infodyn.experiments.preflight): batches of trials too large
to hold (10^30 steps, trials or a batch size from a config) are refused with the numbers before
anything runs or any folder is made; they ended in NumPy's "maximum allowed dimension" or
"Python int too large" errors."""

from __future__ import annotations

import pytest

from infodyn.experiments.pipeline.config import PipelineConfig
from infodyn.experiments.preflight import (
    check_pipeline_memory,
    check_trials_memory,
    image_energy_bytes,
    trials_bytes,
)
from infodyn.memory import MemoryPreflightError

HUGE = 10**30
#: a config's setting: within 64 bits (configs refuse more), far beyond any memory
LARGE = 10**15


def test_trials_bytes_counts_input_spikes_and_potentials():
    assert trials_bytes(2, 3, 4, 5) == 4 * 2 * 3 * (4 + 2 * 5)
    assert trials_bytes(HUGE, HUGE, 1, 1) == pytest.approx(12.0 * 1e60)  # no overflow


def test_check_trials_memory_names_the_batch(monkeypatch):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "64M")
    check_trials_memory(10, 100, 5, 20, "a batch", "use less")  # 180 kB: fits
    with pytest.raises(
        MemoryPreflightError,
        match=r"a batch \(1,000 trials x 10,000 steps x 5 inputs and 20 units\) needs 1.68 GiB "
        r"but 64 MiB is free under INFODYN_MEMORY_LIMIT; use less",
    ):
        check_trials_memory(1000, 10_000, 5, 20, "a batch", "use less")


@pytest.mark.parametrize(
    "key", ["n_steps", "trials_per_stimulus", "test_trials_per_stimulus", "n_stimuli"]
)
def test_channel_refuses_before_making_its_folder(key, tmp_path):
    from infodyn.experiments.channel.config import ChannelConfig
    from infodyn.experiments.channel.run import run_channel

    cfg = ChannelConfig(n_in=10, n_rec=6, **{key: LARGE})
    with pytest.raises(MemoryPreflightError, match="a batch of the channel's trials"):
        run_channel(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("section", "key"),
    [("stimulus", "trial_ms"), ("training", "batch_size"), ("analysis", "n_trials")],
)
def test_pipeline_refuses_before_the_first_stage(section, key, tmp_path):
    from infodyn.experiments.pipeline.config import PipelineConfig
    from infodyn.experiments.pipeline.run import run_pipeline

    cfg = PipelineConfig(**{section: {key: LARGE}})
    with pytest.raises(
        MemoryPreflightError, match=r"a batch of the network's trials .*\[" + section
    ):
        run_pipeline(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_train_refuses_a_huge_batch(tmp_path):
    from infodyn.experiments.train_run import TrainConfig, run_training

    cfg = TrainConfig(
        network={"n_in": 5, "n_rec": 10, "n_out": 1},
        training={"batch_size": 10**15},
    )
    with pytest.raises(MemoryPreflightError, match="a training batch .*batch_size"):
        run_training(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    # beyond an int64, the config refuses it before any estimate
    with pytest.raises(ValueError, match="more than a 64-bit integer holds"):
        TrainConfig(network={"n_in": 5, "n_rec": 10, "n_out": 1}, training={"batch_size": HUGE})


def test_image_energy_bytes_counts_patches_couplings_and_lbfgs():
    # n = 16 pixels, N = 100 (1 + 0.5) = 150 rows: 7 N n + (6 + 20) n^2 float64 values
    assert image_energy_bytes(4, 100, 0.5) == 8.0 * (7 * 150 * 16 + 26 * 16 * 16)


def test_pipeline_preflight_checks_the_largest_patch_size(monkeypatch):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "256M")
    # 40x40: n = 1600, 26 n^2 float64 = 532 MB; 4x4 fits
    cfg = PipelineConfig(stages=["image_energy"], images={"sizes": [40, 4], "n_patches": 100})
    with pytest.raises(MemoryPreflightError, match=r"40x40 patches"):
        check_pipeline_memory(cfg)
    check_pipeline_memory(
        PipelineConfig(stages=["image_energy"], images={"sizes": [4], "n_patches": 100})
    )
