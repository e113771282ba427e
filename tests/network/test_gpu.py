"""The JAX engine gives the same spikes on CPU and GPU (skipped where JAX sees no GPU)."""

import numpy as np
import pytest


def _gpu_devices():
    import jax

    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        not _gpu_devices(),
        reason="no GPU visible to JAX: install jax[cuda12] on a CUDA machine to run the "
        "CPU-vs-GPU agreement check (it cannot run on CPU-only hosts)",
    ),
]


def _run_on(device, net, params, x, precision):
    import jax

    from infodyn.network.engine_jax import simulate_jax

    with jax.default_device(device):
        return simulate_jax(net, params, x, precision)


def test_cpu_and_gpu_engines_agree():
    import jax

    from infodyn.network import LIF, poisson_spikes

    net = LIF(n_in=50, n_rec=200, n_out=2, in_scale=3.0, n_ref=2)
    params = net.init(seed=0)
    x = poisson_spikes(40.0, 500, n_in=50, batch=4, frozen=False, seed=1)
    cpu, gpu = jax.devices("cpu")[0], _gpu_devices()[0]
    a = _run_on(cpu, net, params, x, "float64")
    b = _run_on(gpu, net, params, x, "float64")
    np.testing.assert_array_equal(a["z"], b["z"])
    np.testing.assert_allclose(a["v"], b["v"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a["y"], b["y"], rtol=1e-9, atol=1e-12)
    # float32: GPU matmuls may round differently; spikes agree almost everywhere
    with jax.default_matmul_precision("highest"):
        a32 = _run_on(cpu, net, params, x, "float32")
        b32 = _run_on(gpu, net, params, x, "float32")
    assert np.mean(a32["z"] == b32["z"]) > 0.995
