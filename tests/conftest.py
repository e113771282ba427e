"""Test set-up: float64 JAX (exactness checks), a headless matplotlib backend."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
