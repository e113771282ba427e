"""Test set-up: float64 JAX (exactness checks) on the CPU even where a GPU is visible, a headless
matplotlib backend, no forced colour, and tests/ on the import path for the shared helpers
(``faultkit``; see tests/README.md)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

os.environ.setdefault("MPLBACKEND", "Agg")
# the tests read plain text from the command line; these make rich and typer write colour
# codes whatever the stream (typer reads them when it is imported; subprocesses inherit this)
for _forces_colour in ("FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS", "TTY_COMPATIBLE"):
    os.environ.pop(_forces_colour, None)
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
# (A JAX compilation cache shared by the workers and CLI subprocesses was tried in stop 56:
# the subprocess-heavy test files took 226 s with it against 233 s without, -n 2, and JAX
# writes entries unlocked unless a size limit makes it lock each read and write with
# `filelock`, a half-written entry otherwise being read with a warning. Not kept.)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
# The suite's exactness checks are written for the CPU (bitwise equalities with the event engine,
# the CPU custom calls, float32 tolerances): on a machine with a GPU it still runs them on the
# CPU. tests/network/test_gpu.py places its GPU runs explicitly (jax.default_device), which
# overrides this. On an H200 without it, 10 tests of tests/network and tests/learning failed
# because JAX ran them on the GPU: 8 tests of the CPU custom calls (lowered for the GPU
# instead), a float32 tolerance (1.8e-5 > 1e-5) and a sparse trainer's bitwise resume (a few
# ulps apart on the GPU). (An 11th wanted the installed `infodyn` console script; the package
# was on PYTHONPATH only.)
jax.config.update("jax_default_device", jax.devices("cpu")[0])


import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _subprocesses_on_the_cpu():
    """The tests that run `infodyn ...` (or a script) in a subprocess: JAX there reads
    JAX_PLATFORMS when it is imported, so with it set they run on the CPU too. A fixture, not a
    line at import: pytest-xdist's controller imports this file before it starts its workers,
    which would then inherit the variable and lose the GPU that tests/network/test_gpu.py needs;
    fixtures run only where tests run, after JAX is imported there. With the CPU pin above
    alone, the whole suite on an H200 (stop 36) failed 2 resume tests: a resumed `infodyn train`
    subprocess (GPU) against the same run in-process (CPU), 8 of 24 input weights 1-12 ulps
    apart (the first array compared). Its other failures there: a phy file test (fixed in
    infodyn.data.npy) and the console-script test, for want of an installed `infodyn`."""
    had = "JAX_PLATFORMS" in os.environ
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    yield
    if not had:
        del os.environ["JAX_PLATFORMS"]


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
