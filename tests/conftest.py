"""Test set-up: float64 JAX (exactness checks), a headless matplotlib backend, and tests/ on the
import path for the shared helpers (``faultkit``; see tests/README.md)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)


import pytest  # noqa: E402


@pytest.fixture
def h5_read_sizes(monkeypatch):
    """The number of elements of every ``h5py.Dataset`` read made during the test, in order."""
    import h5py
    import numpy as np

    reads: list[int] = []
    original = h5py.Dataset.__getitem__

    def counting(self, key):
        out = original(self, key)
        reads.append(int(np.size(out)))
        return out

    monkeypatch.setattr(h5py.Dataset, "__getitem__", counting)
    return reads
