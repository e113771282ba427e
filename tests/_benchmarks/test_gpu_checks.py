"""``benchmarks/gpu_checks.sh`` where JAX sees no GPU (``JAX_PLATFORMS=cpu``, so on any machine):
one line naming what to install, exit 2, and no log folder left behind (its stages run only on a
GPU machine: ``docs/scale.md``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_refuses_without_a_gpu(tmp_path):
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "OUT": str(tmp_path / "logs"),
        "JAX_PLATFORMS": "cpu",
    }
    res = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_checks.sh")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert res.returncode == 2
    assert res.stderr.strip() == (
        "gpu_checks.sh: JAX sees no GPU here; install jax[cuda12] (jax[cuda13] for CUDA 13)"
    )
    assert not (tmp_path / "logs").exists()
