"""Fixtures of the fault-injection suite: ``workspace`` (one per session) holds tiny configs for
every command, a small spike file, broken copies of each (missing, empty, truncated, garbage), a
trained run with a checkpoint and broken copies of that. Helpers live in ``tests/faultkit.py``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from faultkit import CHANNEL, IMAGES, SIM, TRAIN, breakages, tiny_spikes


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("faults")
    for name, text in (("sim", SIM), ("train", TRAIN), ("channel", CHANNEL), ("images", IMAGES)):
        (ws / f"{name}.toml").write_text(text)
    (ws / "train_truncated.toml").write_text(TRAIN[: TRAIN.index("n_rec") + 7])  # "n_rec = "
    (ws / "afile").write_text("I am a file, not a folder\n")
    tiny_spikes(ws / "spikes.h5")
    breakages(ws / "spikes.h5", ws, "spikes", ".h5")
    breakages(ws / "sim.toml", ws, "sim", ".toml")
    # a finished training run and broken copies of it
    from infodyn.experiments.config import load_config
    from infodyn.experiments.train_run import TrainConfig, run_training

    run_training(load_config(ws / "train.toml", TrainConfig), ws / "trained")
    for name in ("ck_truncated", "ck_empty", "ck_metrics", "ck_config", "ck_edited"):
        shutil.copytree(ws / "trained", ws / name)
    ck = (ws / "trained" / "checkpoint.npz").read_bytes()
    (ws / "ck_truncated" / "checkpoint.npz").write_bytes(ck[: len(ck) // 2])
    (ws / "ck_empty" / "checkpoint.npz").write_bytes(b"")
    (ws / "ck_metrics" / "metrics.json").write_text('[{"iteration": 1, "loss"')
    (ws / "ck_config" / "config.json").write_text("{not json")
    (ws / "train_edited.toml").write_text(TRAIN.replace("lr = 0.003", "lr = 0.03"))
    # channel and images runs that were interrupted under another config / with a broken journal
    for name, body in (("ch_other", '{"config": "0000", "steps": {}}'), ("ch_corrupt", "{")):
        (ws / name).mkdir()
        (ws / name / "progress.json").write_text(body)
    # a run directory whose results.json is corrupt (for `infodyn report`)
    (ws / "bad_run").mkdir()
    (ws / "bad_run" / "results.json").write_text("{broken")
    (ws / "empty_dir").mkdir()
    return ws
