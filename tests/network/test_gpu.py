"""The JAX engine gives the same spikes on CPU and GPU (skipped where JAX sees no GPU): dense
weights, and ``SparseWeights`` by both of its paths (fixed in-degree: the by-target layout;
Bernoulli: gather and segment sum), the latter also equal to the event engine's spikes; and
e-prop and BPTT gradients on sparse LIF and ALIF networks equal on CPU and GPU (float64); and a
long run streamed to a file in chunks on the GPU (``engine="jax"``) equal to the event engine's.

``INFODYN_TEST_GPU_AS_CPU=1`` runs these tests with the CPU standing in for the GPU (to check
the tests themselves on a machine without one; the agreement they then show is trivial)."""

import numpy as np
import pytest


def _gpu_devices():
    import os

    import jax

    if os.environ.get("INFODYN_TEST_GPU_AS_CPU") == "1":
        return jax.devices("cpu")
    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        not _gpu_devices(),
        reason="no GPU visible to JAX: install jax[cuda12] (jax[cuda13] for CUDA 13) on a CUDA "
        "machine to run the CPU-vs-GPU agreement checks (they cannot run on CPU-only hosts)",
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


SPARSE = {
    "k_in (by target)": dict(connectivity="sparse", k_in=12),
    "p_connect (segment sum)": dict(connectivity="sparse", p_connect=0.05, weights="sparse"),
    "ei k_in": dict(connectivity="ei", k_in=15),
}


@pytest.mark.parametrize("conn", list(SPARSE.values()), ids=list(SPARSE))
def test_sparse_networks_on_gpu_give_the_event_engines_spikes(conn):
    import jax

    from infodyn.network import LIF, SparseWeights, poisson_spikes

    net = LIF(n_in=30, n_rec=240, n_out=2, in_scale=4.0, rec_scale=1.5, n_ref=2, **conn)
    params = net.init(seed=0)
    assert isinstance(params["w_rec"], SparseWeights)
    x = poisson_spikes(40.0, 600, n_in=30, batch=2, frozen=False, seed=1)
    gpu = _run_on(_gpu_devices()[0], net, params, x, "float64")
    cpu = _run_on(jax.devices("cpu")[0], net, params, x, "float64")
    assert 0.005 < np.mean(gpu["z"]) < 0.5, "the test network should be active, not saturated"
    np.testing.assert_array_equal(gpu["z"], cpu["z"])
    np.testing.assert_allclose(gpu["v"], cpu["v"], rtol=1e-9, atol=1e-12)
    for b in range(x.shape[0]):
        event = net.simulate(params, x[b], engine="event")
        np.testing.assert_array_equal(np.asarray(gpu["z"])[b], event.z)


@pytest.mark.parametrize("model", ["LIF", "ALIF"])
def test_sparse_gradients_on_gpu_equal_cpu(model):
    import jax

    import infodyn as idn
    from infodyn.learning import evaluate

    kw = dict(n_in=8, n_rec=40, n_out=2, in_scale=3.0, rec_scale=2.0, n_ref=2)
    kw |= dict(connectivity="sparse", k_in=8)
    if model == "ALIF":
        kw |= dict(n_alif=20, tau_a=60.0, beta_a=0.03)
    net = getattr(idn.network, model)(**kw)
    params = net.init(seed=3)
    rng = np.random.default_rng(4)
    x = (rng.random((2, 120, 8)) < 0.1).astype(float)
    tgt = np.sin(np.arange(120) / 10.0)[None, :, None] * np.ones((2, 1, 2))
    for method in ("eprop", "bptt_stopgrad", "bptt"):
        got = {}
        for name, device in (("cpu", jax.devices("cpu")[0]), ("gpu", _gpu_devices()[0])):
            with jax.default_device(device):
                got[name] = evaluate(net, params, x, tgt, "mse", method=method, precision="float64")
        c, g = got["cpu"], got["gpu"]
        assert 0.01 < np.mean(c.activity) / net.n_rec < 0.5
        np.testing.assert_array_equal(g.activity, c.activity)
        assert g.loss == pytest.approx(c.loss, rel=1e-12)
        w = c.grads["w_rec"]
        assert np.max(np.abs(np.asarray(w.values))) > 0
        np.testing.assert_allclose(g.grads["w_rec"].values, w.values, rtol=1e-9, atol=1e-14)
        for key in ("w_in", "w_out"):
            np.testing.assert_allclose(g.grads[key], c.grads[key], rtol=1e-9, atol=1e-14)


def test_a_long_run_streamed_on_gpu_gives_the_event_engines_spikes(tmp_path):
    """``simulate_to_file(..., engine="jax")`` on the GPU: chunks with the state carried, in
    float64, write the event engine's spikes (the by-target path, ALIF with refractoriness)."""
    import jax

    from infodyn.data.io import load_spikes
    from infodyn.network import ALIF, poisson_spikes, simulate_spikes, simulate_to_file

    net = ALIF(n_in=30, n_rec=300, n_out=0, connectivity="ei", k_in=20, in_scale=4.0, n_ref=2)
    params = net.init(seed=1)
    x = poisson_spikes(30.0, 3000, n_in=30, seed=2)
    ref = simulate_spikes(net, params, x)
    assert 1_000 < ref.n_spikes < 0.3 * 300 * 3000  # active, not saturated
    with jax.default_device(_gpu_devices()[0]):
        path = simulate_to_file(
            net,
            params,
            x,
            3000,
            tmp_path / "g.h5",
            chunk_steps=700,
            engine="jax",
            precision="float64",
        )
    got = load_spikes(path)
    np.testing.assert_array_equal(got.times, ref.times)
    np.testing.assert_array_equal(got.units, ref.units)
