"""Large runs: streaming to disk and chunked analysis equal the in-memory results, with memory
bounded by the chunk, not by the run length."""

import tracemalloc

import numpy as np
import pytest

from infodyn.data.io import load_spikes
from infodyn.data.spikes import iter_spike_file
from infodyn.network import LIF, poisson_spikes, simulate, simulate_to_file


@pytest.fixture(scope="module")
def small_net():
    net = LIF(n_in=20, n_rec=60, in_scale=3.0, rec_scale=1.0, n_ref=2)
    return net, net.init(seed=0)


def test_streamed_file_equals_in_memory_run(tmp_path, small_net):
    net, params = small_net
    x = poisson_spikes(50.0, 3000, n_in=20, seed=1)
    trace = simulate(net, params, x, engine="event")
    for chunk in (137, 3000):
        path = simulate_to_file(net, params, x, 3000, tmp_path / f"s{chunk}.h5", chunk_steps=chunk)
        spikes = load_spikes(path)
        np.testing.assert_array_equal(spikes.to_dense()[0], trace.z.astype(np.uint8))
        # the run's file is in time order, so it streams back in windows without loading it
        for (_, a, c), (_, b, d) in zip(
            spikes.iter_dense(251), iter_spike_file(path, 251, block_spikes=64), strict=True
        ):
            assert a == b
            np.testing.assert_array_equal(c, d)
    # the same with the input generated chunk by chunk (nothing of length T in memory)
    path = simulate_to_file(
        net, params, lambda a, b: x[a:b], 3000, tmp_path / "cb.h5", chunk_steps=500
    )
    np.testing.assert_array_equal(load_spikes(path).to_dense()[0], trace.z.astype(np.uint8))


def test_chunked_analysis_equals_in_memory(small_net):
    net, params = small_net
    x = poisson_spikes(50.0, 2000, n_in=20, batch=2, frozen=False, seed=4)
    spikes = simulate(net, params, x, engine="jax", precision="float64").spike_train()
    dense = spikes.to_dense().astype(np.float64)  # (trials, T, N)
    # streaming sums: population activity, counts, and the unit covariance matrix
    pop = np.zeros((spikes.n_trials, spikes.n_steps))
    s1 = np.zeros(spikes.n_units)
    s2 = np.zeros((spikes.n_units, spikes.n_units))
    n = 0
    for trial, start, chunk in spikes.iter_dense(333):
        c = chunk.astype(np.float64)
        pop[trial, start : start + len(c)] = c.sum(axis=1)
        s1 += c.sum(axis=0)
        s2 += c.T @ c
        n += len(c)
    np.testing.assert_array_equal(pop, spikes.population_activity())
    np.testing.assert_array_equal(pop, dense.sum(axis=2))
    np.testing.assert_array_equal(s1, spikes.spike_counts())
    flat = dense.reshape(-1, spikes.n_units)
    cov = (s2 - np.outer(s1, s1) / n) / (n - 1)
    np.testing.assert_allclose(cov, np.cov(flat, rowvar=False), atol=1e-12)


def test_streaming_memory_is_bounded_by_the_chunk(tmp_path):
    net = LIF(n_in=10, n_rec=400, in_scale=2.0, rec_scale=0.5)
    params = net.init(seed=0)
    n_steps, chunk = 40_000, 2_000
    rng = np.random.default_rng(0)

    def x(a, b):
        return (rng.random((b - a, 10)) < 0.05).astype(np.float32)

    peaks = {}
    for steps in (n_steps // 5, n_steps):
        tracemalloc.start()
        simulate_to_file(net, params, x, steps, tmp_path / "long.h5", chunk_steps=chunk)
        peaks[steps] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # memory does not grow with the run length (a fixed spike buffer plus one chunk)
    assert peaks[n_steps] < 1.25 * peaks[n_steps // 5] + 1_000_000, peaks
    dense_bytes = n_steps * net.n_rec * 8  # a dense float64 (T, N) raster: 128 MB
    assert peaks[n_steps] < dense_bytes / 5, peaks
    spikes = load_spikes(tmp_path / "long.h5")
    assert spikes.n_steps == n_steps
    peak_chunk = 0
    tracemalloc.start()
    total = 0
    for _, _, c in spikes.iter_dense(chunk):
        total += int(np.count_nonzero(c))
        peak_chunk = max(peak_chunk, tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
    assert total == spikes.n_spikes
    # a few uint8 chunks plus (today) one transient int64 copy of the sparse trial indices
    # in SpikeTrain.iter_dense's searchsorted: proportional to the spike count, never to T * N
    assert peak_chunk < 8 * spikes.n_spikes + 4 * chunk * net.n_rec + 1_000_000


@pytest.fixture(scope="module")
def sparse_run():
    """A fixed in-degree E/I ALIF network with refractoriness and sparse (CSR) input."""
    import scipy.sparse as sp

    from infodyn.network import ALIF

    net = ALIF(
        n_in=30,
        n_rec=200,
        n_out=0,
        connectivity="ei",
        k_in=20,
        in_scale=2.5,
        rec_scale=1.5,
        n_ref=2,
    )
    rng = np.random.default_rng(3)
    x = sp.csr_matrix((rng.random((2000, 30)) < 0.05).astype(np.float64))
    return net, net.init(seed=2), x


def test_jax_streamed_run_equals_the_event_engine_in_float64(tmp_path, sparse_run):
    """``engine="jax"``, the state carried across chunks, gives the event engine's spikes in
    float64, from a CSR input and from a callable, and reports each chunk's end. Chunks of 7
    steps end within refractory periods (n_ref = 2: a unit that spiked in a chunk's last step is
    still refractory in the next chunk; zeroing the refractory counters at each chunk passed
    the 137-step chunks alone) and within adaptation."""
    from infodyn.network.simulate import simulate_spikes

    net, params, x = sparse_run
    ref = simulate_spikes(net, params, x)
    assert 1_000 < ref.n_spikes < 0.3 * 2000 * 200  # active, not saturated
    last_steps = np.isin(ref.times % 7, [5, 6]).sum()
    assert last_steps > 100  # spikes in the last 2 steps of a chunk of 7: refractory across it
    for chunk in (7, 137):
        done = []
        path = simulate_to_file(
            net,
            params,
            x,
            2000,
            tmp_path / f"j{chunk}.h5",
            chunk_steps=chunk,
            progress=done.append,
            engine="jax",
            precision="float64",
        )
        got = load_spikes(path)
        np.testing.assert_array_equal(got.times, ref.times)
        np.testing.assert_array_equal(got.units, ref.units)
        assert done == [*range(chunk, 2000, chunk), 2000]
    assert got.metadata["engine"] == "jax" and got.metadata["precision"] == "float64"
    assert ref.metadata["engine"] == "event" and "precision" not in ref.metadata
    by_call = simulate_spikes(
        net, params, lambda a, b: x[a:b], 2000, chunk_steps=500, engine="jax", precision="float64"
    )
    np.testing.assert_array_equal(by_call.times, ref.times)
    np.testing.assert_array_equal(by_call.units, ref.units)


def test_jax_streamed_float32_run_equals_one_unchunked_jax_run(sparse_run):
    from infodyn.network.simulate import simulate_spikes

    net, params, x = sparse_run
    whole = simulate(net, params, x.toarray(), engine="jax", precision="float32", record=False)
    t, u = np.nonzero(whole.z)
    got = simulate_spikes(net, params, x, chunk_steps=300, engine="jax", precision="float32")
    np.testing.assert_array_equal(got.times, t)
    np.testing.assert_array_equal(got.units, u)


def test_jax_streamed_run_checks_its_chunks_against_the_free_memory(
    tmp_path, sparse_run, monkeypatch
):
    """Before anything runs: the host (input as float64 and in the run's precision, spikes, two
    chunks in flight: 2 x 1000 x (30 x 16 + 200) B = 1.3 MiB) and JAX's device (input and
    spikes in float64: 2 x 1000 x 230 x 8 B = 3.51 MiB), apart on a GPU, where JAX reports its
    free memory, summed on the CPU, whose device arrays are host memory."""
    import importlib

    from infodyn.errors import InputError
    from infodyn.memory import MemoryPreflightError

    simulate_module = importlib.import_module("infodyn.network.engine_jax")
    net, params, x = sparse_run

    def run(name):
        simulate_to_file(
            net,
            params,
            x,
            2000,
            tmp_path / name,
            chunk_steps=1000,
            engine="jax",
            precision="float64",
        )

    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "600K")
    with pytest.raises(MemoryPreflightError) as info:
        run("m.h5")
    assert str(info.value).startswith(
        "chunks of 1,000 steps for the JAX engine (dense input 30 wide and its spikes, two "
        "chunks in flight, float64, JAX's arrays in host memory) needs 4.81 MiB but 600 KiB "
        "is free under INFODYN_MEMORY_LIMIT; fewer chunk_steps"
    )  # 1.30 MiB of host copies and spikes + 3.51 MiB of JAX's float64 input and spikes
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "4M")  # the host copies alone would fit
    with pytest.raises(MemoryPreflightError, match="needs 4.81 MiB but 4 MiB is free"):
        run("m.h5")
    monkeypatch.delenv("INFODYN_MEMORY_LIMIT")
    monkeypatch.setattr(simulate_module, "device_free_bytes", lambda: 3_000_000)
    with pytest.raises(
        MemoryPreflightError,
        match=r"float64\) needs 3.51 MiB on the device but 2.86 MiB is free there",
    ):
        run("d.h5")
    assert not (tmp_path / "m.h5").exists() and not (tmp_path / "d.h5").exists()
    monkeypatch.setattr(simulate_module, "device_free_bytes", lambda: 5_000_000)
    run("ok.h5")  # fits with the 10 % headroom
    with pytest.raises(
        InputError, match=r"engine \(of a chunked run\) must be one of 'event', 'jax'"
    ):
        simulate_to_file(net, params, x, 2000, tmp_path / "e.h5", engine="auto")
    with pytest.raises(InputError, match="precision must be one of 'float32', 'float64'"):
        simulate_to_file(net, params, x, 2000, tmp_path / "e.h5", engine="jax", precision="bf16")


def test_the_free_memory_of_a_cpu_device_is_the_hosts():
    from infodyn.network.engine_jax import device_free_bytes

    assert device_free_bytes() is None  # the suite runs JAX on the CPU


def test_a_jax_run_counts_its_input_and_checks_the_device_apart(monkeypatch):
    """simulate(engine="jax") counted its traces alone: a bool input of 10^4 x 4000 channels
    (40 MB) took 0.5 GB as a float64 copy and the device's copy, unchecked; on a GPU it never
    asked the device. 3000 x 4000 bools: a float64 copy of 96 MB, and 48 MB (float32) or 96 MB
    (float64) on the device."""
    import importlib

    from infodyn.memory import MemoryPreflightError

    engine_jax = importlib.import_module("infodyn.network.engine_jax")
    net = LIF(n_in=4000, n_rec=50, v_th=0.5)
    params = net.init(seed=1)
    x = np.random.default_rng(0).random((3000, 4000)) < 0.01
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "60M")
    with pytest.raises(MemoryPreflightError, match=r"a float64 copy of the input x \(1, 3000"):
        simulate(net, params, x, engine="jax", record=False)
    xf = x.astype(np.float64)  # no copy to make: the device's (96 MB in float64) is too much
    with pytest.raises(MemoryPreflightError, match="traces of 1 x 3000 steps x 50 units and its"):
        simulate(net, params, xf, engine="jax", record=False, precision="float64")
    monkeypatch.delenv("INFODYN_MEMORY_LIMIT")
    monkeypatch.setattr(engine_jax, "device_free_bytes", lambda: 20_000_000)  # a small GPU
    with pytest.raises(MemoryPreflightError, match="needs 46.3 MiB on the device"):
        simulate(net, params, x, engine="jax", record=False)
    monkeypatch.setattr(engine_jax, "device_free_bytes", lambda: 10**9)
    assert simulate(net, params, x[:100], engine="jax", record=False).z.shape == (100, 50)
