"""Sparse recurrent weights: the drawn graphs, and both engines on SparseWeights (float64)."""

import numpy as np
import pytest

import infodyn as idn
from infodyn import InputError
from infodyn.network import SparseWeights
from infodyn.network.run_inputs import check_sparse_input
from infodyn.network.sparse_checks import check_sparse

NETS = [
    dict(cls="LIF", n_ref=0, connectivity="sparse", k_in=12),
    dict(cls="LIF", n_ref=3, connectivity="sparse", p_connect=0.2, weights="sparse"),
    dict(cls="LIF", n_ref=1, connectivity="ei", k_in=15, input_scaling="one_minus_alpha"),
    dict(cls="ALIF", n_ref=2, connectivity="sparse", k_in=10, n_alif=30, beta_a=0.02, tau_a=200.0),
    dict(cls="ALIF", n_ref=1, connectivity="ei", weights="sparse", n_alif=20, beta_a=0.02),
]


def _net(cfg):
    cfg = dict(cfg)
    cls = getattr(idn.network, cfg.pop("cls"))
    return cls(n_in=30, n_rec=60, n_out=3, in_scale=4.0, rec_scale=1.5, **cfg)


def _ids(c):
    return f"{c['cls']}-{c['connectivity']}-{'k' if 'k_in' in c else 'p'}"


# ---------------------------------------------------------------------- the graphs
@pytest.mark.parametrize("conn", ["sparse", "ei"])
def test_fixed_in_degree_is_exact_without_autapses(conn):
    net = idn.network.LIF(n_rec=300, connectivity=conn, k_in=40)
    w = net.init(seed=3)["w_rec"]
    assert isinstance(w, SparseWeights) and w.shape == (300, 300) and w.nnz == 300 * 40
    dense = w.to_dense()
    assert np.all(np.count_nonzero(dense, axis=0) == 40)  # every column receives exactly K
    assert np.all(w.in_degrees() == 40)
    assert np.all(np.diag(dense) == 0) and not np.any(w.pre_indices() == w.indices)
    # rows: postsynaptic ids strictly ascending (distinct synapses)
    for i in range(0, 300, 37):
        row = w.indices[w.indptr[i] : w.indptr[i + 1]]
        assert np.all(np.diff(row) > 0)
    if conn == "ei":
        n_e = net.n_exc
        assert np.all(np.count_nonzero(dense[:n_e], axis=0) == 32)  # round(0.8 * 40)
        assert np.all(dense[:n_e] >= 0) and np.all(dense[n_e:] <= 0)  # Dale's law
    else:  # N(0, (rec_scale v_th)^2 / K)
        assert abs(np.std(w.values) * np.sqrt(40) / net.v_th - 1.0) < 0.05


def test_presynaptic_units_are_uniform():
    """Each unit is a presynaptic partner with probability K/(N-1): out-degrees are binomial."""
    n, k = 400, 50
    w = idn.network.LIF(n_rec=n, connectivity="sparse", k_in=k).init(seed=0)["w_rec"]
    out = w.out_degrees()
    assert out.sum() == n * k
    assert abs(out.mean() - k) < 1e-9
    p = k / (n - 1)
    assert abs(out.var() / (n * p * (1 - p)) - 1.0) < 0.2


def test_bernoulli_sparse_density_and_ei_blocks():
    w = idn.network.LIF(n_rec=400, connectivity="sparse", p_connect=0.1, weights="sparse").init(
        seed=0
    )["w_rec"]
    assert abs(w.nnz / (400 * 399) - 0.1) < 0.01
    assert not np.any(w.pre_indices() == w.indices)
    net = idn.network.LIF(n_rec=1000, connectivity="ei", weights="sparse")
    d = net.init(seed=0)["w_rec"].to_dense()
    n_e = net.n_exc
    assert np.all(d[:n_e] >= 0) and np.all(d[n_e:] <= 0)
    for block, p in [
        (d[:n_e, :n_e], 0.16),
        (d[:n_e, n_e:], 0.244),
        (d[n_e:, :n_e], 0.318),
        (d[n_e:, n_e:], 0.343),
    ]:
        assert abs(np.count_nonzero(block) / block.size - p) < 0.02


def test_storage_choice_and_determinism():
    assert not idn.network.LIF(n_rec=100, connectivity="sparse", p_connect=0.2).sparse_weights
    assert not idn.network.LIF(n_rec=100, connectivity="ei").sparse_weights
    assert idn.network.LIF(n_rec=5000, connectivity="ei").sparse_weights
    assert not idn.network.LIF(n_rec=5000).sparse_weights  # dense connectivity stays dense
    net = idn.network.LIF(n_rec=80, connectivity="sparse", k_in=9)
    a, b = net.init(seed=4), net.init(seed=4)
    np.testing.assert_array_equal(a["w_rec"].values, b["w_rec"].values)
    np.testing.assert_array_equal(a["w_rec"].indices, b["w_rec"].indices)
    # the same k_in graph, densified by weights="dense"; float32 is the float64 draw rounded
    d = idn.network.LIF(n_rec=80, connectivity="sparse", k_in=9, weights="dense").init(seed=4)
    np.testing.assert_array_equal(d["w_rec"], a["w_rec"].to_dense())
    np.testing.assert_array_equal(d["w_in"], a["w_in"])
    f = net.init(seed=4, precision="float32")
    assert f["w_rec"].values.dtype == np.float32 and f["w_in"].dtype == np.float32
    np.testing.assert_array_equal(f["w_rec"].values, a["w_rec"].values.astype(np.float32))


@pytest.mark.parametrize(
    "bad",
    [
        dict(k_in=5),
        dict(connectivity="sparse", k_in=5, p_connect=0.5),
        dict(connectivity="sparse", k_in=20),
        dict(connectivity="ei", k_in=19),
        dict(connectivity="sparse", k_in=0),
        dict(weights="csr"),
    ],
)
def test_bad_k_in_configs(bad):
    with pytest.raises(InputError, match="invalid LIF config"):
        idn.network.LIF(n_rec=20, **bad)


def test_memory_is_8_bytes_a_synapse_in_float32():
    n, k = 2000, 100
    w = idn.network.LIF(n_rec=n, connectivity="sparse", k_in=k).init(seed=0, precision="float32")[
        "w_rec"
    ]
    assert w.values.dtype == np.float32 and w.indices.dtype == np.int32
    assert w.nbytes <= 8 * w.nnz + 8 * (n + 1)


def test_no_n_by_n_array_when_drawing_or_running_a_large_network():
    """N = 20000: an N x N float64 array would be 3.2 GB; drawing the k_in network and an
    event-engine run allocate a few tens of MB (NumPy allocations, traced)."""
    import tracemalloc

    net = idn.network.LIF(n_in=4, n_rec=20_000, n_out=1, connectivity="ei", k_in=10)
    net.init(seed=0, precision="float32")  # compile the kernels outside the trace
    tracemalloc.start()
    try:
        params = net.init(seed=1, precision="float32")
        drawn = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        x = np.ones((20, 4))
        net.simulate(params, x, engine="event", record=False)
        ran = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert params["w_rec"].nnz == 200_000
    assert drawn < 100e6 and ran < 100e6, (drawn, ran)  # 3 % of one N x N float64 array


# ---------------------------------------------------------------------- params
def test_validate_and_constrain_sparse():
    net = idn.network.LIF(n_rec=60, connectivity="ei", k_in=10)
    p = net.init(seed=1)
    net.validate_params(p)
    w = p["w_rec"]
    bad_idx = w.indices.copy()
    bad_idx[0] = 60
    for bad in (
        SparseWeights(w.values, bad_idx, w.indptr, w.shape),
        SparseWeights(w.values, w.indices, w.indptr, (60, 61)),
        w.with_values(np.where(np.arange(w.nnz) == 3, np.nan, w.values)),
    ):
        with pytest.raises(InputError, match="w_rec"):
            net.validate_params({**p, "w_rec": bad})
    noisy = w.with_values(w.values + np.random.default_rng(0).normal(0, 1, w.nnz))
    fixed = net.constrain({**p, "w_rec": noisy})["w_rec"]
    assert isinstance(fixed, SparseWeights) and fixed.same_pattern(w)
    d = fixed.to_numpy().to_dense()
    assert np.all(d[: net.n_exc] >= 0) and np.all(d[net.n_exc :] <= 0)
    # the dense projection of the same matrix, masked to the pattern, agrees
    dense = np.asarray(
        net.constrain({**p, "w_rec": noisy.to_dense()}, mask=w.to_dense() != 0)["w_rec"]
    )
    np.testing.assert_array_equal(d, dense)
    diag = SparseWeights.from_dense(np.eye(60) + w.to_dense())
    assert np.all(np.diag(net.constrain({**p, "w_rec": diag})["w_rec"].to_numpy().to_dense()) == 0)


def test_constructor_and_from_coo_refuse_bad_shapes_and_indices():
    w = SparseWeights.from_dense(np.array([[0.0, 1.0], [2.0, 0.0]]))
    for bad in ((-1, 2), ("a", 2), (2,), None, (float("nan"), 2), (2.5, 2), (True, 2), (2, 2, 1)):
        with pytest.raises(InputError, match="shape must be two whole numbers"):
            SparseWeights(w.values, w.indices, w.indptr, bad)
    assert SparseWeights(w.values, w.indices, w.indptr, (2.0, np.int64(2))).shape == (2, 2)
    with pytest.raises(InputError, match="whole numbers"):  # used to be truncated to 0 and 1
        SparseWeights.from_coo([0.0, 1.5], [1, 0], [1.0, 2.0], (2, 2))
    with pytest.raises(InputError, match="integers"):
        SparseWeights.from_coo(["0", "1"], [1, 0], [1.0, 2.0], (2, 2))
    ok = SparseWeights.from_coo([0.0, 1.0], [1, 0], [1.0, 2.0], (2, 2))
    np.testing.assert_array_equal(ok.to_dense(), w.to_dense())


def test_from_dense_stores_float32_or_float64_only():
    # float16 input stayed float16, although dtype=np.float16 is refused
    assert SparseWeights.from_dense(np.eye(2, dtype=np.float16)).dtype == np.float64
    assert SparseWeights.from_dense(np.eye(2, dtype=np.float32)).dtype == np.float32
    assert SparseWeights.from_dense(np.eye(2, dtype=np.int64)).dtype == np.float64


# ---------------------------------------------------------------------- engines
@pytest.mark.parametrize("cfg", NETS, ids=_ids)
def test_sparse_and_dense_engines_identical_spikes(cfg):
    """JAX and event engines on SparseWeights equal each other and their dense runs (float64)."""
    net = _net(cfg)
    params = net.init(seed=0)
    assert isinstance(params["w_rec"], SparseWeights)
    dense = {**params, "w_rec": params["w_rec"].to_dense()}
    x = idn.network.poisson_spikes(40.0, 800, n_in=30, seed=10)
    js = net.simulate(params, x, engine="jax", precision="float64")
    jd = net.simulate(dense, x, engine="jax", precision="float64")
    es = net.simulate(params, x, engine="event")
    ed = net.simulate(dense, x, engine="event")
    assert 0.005 < js.z.mean() < 0.5, "test network should be active but not saturated"
    np.testing.assert_array_equal(js.z, jd.z)
    np.testing.assert_array_equal(es.z, js.z)
    np.testing.assert_array_equal(es.z, ed.z)
    np.testing.assert_allclose(js.v, jd.v, rtol=0, atol=1e-12)
    np.testing.assert_allclose(es.v, js.v, rtol=0, atol=1e-10)
    for name in ("v", "thr", "y"):  # the event engine's sparse sums are bitwise the dense ones
        np.testing.assert_array_equal(getattr(es, name), getattr(ed, name))


def test_sparse_input_weights_in_both_engines():
    """A sparse ``w_in`` (here: some channels drive a few units) gives the dense run's spikes."""
    net = _net(NETS[3])
    params = net.init(seed=2)
    w_in = params["w_in"] * (np.random.default_rng(0).random(params["w_in"].shape) < 0.3)
    sp = {**params, "w_in": SparseWeights.from_dense(w_in)}
    dense = {**params, "w_rec": params["w_rec"].to_dense(), "w_in": w_in}
    x = idn.network.poisson_spikes(60.0, 800, n_in=30, seed=3)
    es, ed = net.simulate(sp, x, engine="event"), net.simulate(dense, x, engine="event")
    js = net.simulate(sp, x, engine="jax", precision="float64")
    assert 0.005 < es.z.mean() < 0.5
    for name in ("z", "v", "thr", "y"):
        np.testing.assert_array_equal(getattr(es, name), getattr(ed, name))
    np.testing.assert_array_equal(js.z, es.z)
    with pytest.raises(InputError, match="w_out"):
        net.validate_params({**params, "w_out": SparseWeights.from_dense(params["w_out"])})


@pytest.mark.parametrize("scaled", [False, True], ids=["s=1", "s=1-alpha,1-kappa"])
def test_private_inputs_one_synapse_per_unit_in_both_engines(scaled):
    """One input channel per unit (a diagonal sparse ``w_in``, the event engine adds a step's
    few inputs straight onto v) and the same channels with two of them onto one unit: the
    spikes of the dense ``w_in`` run and of the JAX engine, for dense and CSR input, also with
    unsorted CSR rows; with input and readout scaling too (at s = 1 a path that dropped the
    factor passed), the readout against the JAX engine's."""
    import scipy.sparse as sps

    scaling = dict(input_scaling="one_minus_alpha", readout_scaling="one_minus_kappa")
    net = idn.network.LIF(
        n_in=60, n_rec=60, n_out=3, connectivity="ei", k_in=12, **(scaling if scaled else {})
    )
    params = net.init(seed=5)
    gain = np.random.default_rng(1).uniform(0.05, 0.3, 60) / net.input_scale
    diag = SparseWeights.from_dense(np.diag(gain))
    merged = np.diag(gain)
    merged[7, 9], merged[7, 7] = gain[7], 0.0  # channels 7 and 9 both drive unit 9
    x = idn.network.poisson_spikes(40.0, 1500, n_in=60, seed=8)  # 2.4 inputs a step on average
    t, i = np.nonzero(x)
    order = np.random.default_rng(2).permutation(t.size)
    by_row = order[np.argsort(t[order], kind="stable")]  # rows in a random unit order
    ptr = np.searchsorted(t[by_row], np.arange(x.shape[0] + 1))
    raw = sps.csr_array((x[t, i][by_row], i[by_row], ptr), shape=x.shape)
    assert not raw.has_sorted_indices
    for w_in in (diag, SparseWeights.from_dense(merged)):
        p = {**params, "w_in": w_in}
        ref = net.simulate({**p, "w_in": w_in.to_dense()}, x, engine="event", record=False)
        assert 0.005 < ref.z.mean() < 0.5
        jax_z = net.simulate(p, x, engine="jax", precision="float64", record=False).z
        np.testing.assert_array_equal(jax_z, ref.z)
        for xin in (x, sps.csr_array(x), raw):  # record=False: the plain-LIF loop
            z = net.simulate(p, xin, engine="event", record=False).z
            np.testing.assert_array_equal(z, ref.z)
        full = net.simulate(p, raw, engine="event")
        np.testing.assert_array_equal(full.z, ref.z)
        jax_y = net.simulate(p, x, engine="jax", precision="float64").y
        np.testing.assert_allclose(full.y, jax_y, rtol=0, atol=1e-12)


def test_float32_sparse_weights_in_the_event_engine():
    """float32 synapse values are read as they are and summed in float64: bitwise the run of the
    same values stored in float64."""
    from infodyn.network._event_rows import sparse_storage

    net = _net(NETS[2])
    p32 = net.init(seed=4, precision="float32")
    p64 = {k: v.astype(np.float64) for k, v in p32.items()}  # SparseWeights.astype too
    assert sparse_storage(p64["w_rec"])[0].dtype == np.float32  # exactly float32: read as such
    x = idn.network.poisson_spikes(40.0, 600, n_in=30, seed=5)
    a, b = net.simulate(p32, x, engine="event"), net.simulate(p64, x, engine="event")
    assert a.z.mean() > 0.005
    for name in ("z", "v", "thr", "y"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_jax_sparse_batched_and_vmapped():
    import jax
    import jax.numpy as jnp

    from infodyn.network.dynamics import Constants
    from infodyn.network.engine_jax import cast_params, ensure_dtype, run

    net = _net(NETS[0])
    params = net.init(seed=1)
    x = idn.network.poisson_spikes(40.0, 200, n_in=30, batch=3, frozen=False, seed=2)
    batched = net.simulate(params, x, engine="jax", precision="float64")
    single = net.simulate(params, x[1], engine="jax", precision="float64")
    np.testing.assert_array_equal(batched.z[1], single.z)
    spikes_only = net.simulate(params, x, engine="jax", precision="float64", record=False)
    assert spikes_only.v is None and spikes_only.y is None
    np.testing.assert_array_equal(spikes_only.z, batched.z)
    dt = ensure_dtype("float64")
    p = cast_params(params, dt)
    values = jnp.stack([p["w_rec"].values, 0.5 * p["w_rec"].values])

    def one(v):  # vmap over the synapse values of one pattern
        q = {**p, "w_rec": p["w_rec"].with_values(v)}
        beta = jnp.asarray(net.beta_vector(), dt)
        return run(Constants.of(net), q, beta, jnp.asarray(x[:1], dt))["z"][:, 0]

    z = np.asarray(jax.vmap(one)(values))
    np.testing.assert_array_equal(z[0], batched.z[0])
    assert z[1].sum() != z[0].sum()


def test_simulate_to_file_with_sparse_weights(tmp_path):
    net = _net(NETS[2])
    params = net.init(seed=3)
    x = idn.network.poisson_spikes(40.0, 1500, n_in=30, seed=6)
    path = idn.network.simulate_to_file(net, params, x, 1500, tmp_path / "s.h5", chunk_steps=400)
    direct = net.simulate({**params, "w_rec": params["w_rec"].to_dense()}, x, engine="event")
    np.testing.assert_array_equal(idn.data.load_spikes(path).to_dense()[0], direct.z)


@pytest.mark.parametrize("cfg", [NETS[0], NETS[2]], ids=["plain-LIF", "refractory"])
def test_scipy_sparse_input_in_simulate_simulate_spikes_and_simulate_to_file(cfg, tmp_path):
    """A SciPy sparse input x gives the spikes of the dense x: ``simulate`` (event engine reads
    the CSR rows; the JAX engine densifies), ``simulate_spikes`` (also with a function making
    sparse chunks) and ``simulate_to_file``; a COO input with duplicates is summed first."""
    import scipy.sparse as sps

    net = _net(cfg)
    params = net.init(seed=3)
    x = idn.network.poisson_spikes(40.0, 900, n_in=30, seed=6)
    xs = sps.csr_array(x)
    ref = net.simulate(params, x, engine="event", record=False)
    assert ref.z.mean() > 0.005
    np.testing.assert_array_equal(net.simulate(params, xs, engine="event").z, ref.z)
    jd = net.simulate(params, x, engine="jax", precision="float64")
    np.testing.assert_array_equal(
        net.simulate(params, xs, engine="jax", precision="float64").z, jd.z
    )
    train = idn.network.simulate_spikes(net, params, xs, chunk_steps=250)
    np.testing.assert_array_equal(train.to_dense()[0], ref.z)
    chunks = idn.network.simulate_spikes(net, params, lambda a, b: xs[a:b], 900, chunk_steps=333)
    np.testing.assert_array_equal(chunks.times, train.times)
    np.testing.assert_array_equal(chunks.units, train.units)
    path = idn.network.simulate_to_file(net, params, xs, 900, tmp_path / "s.h5", chunk_steps=400)
    np.testing.assert_array_equal(idn.data.load_spikes(path).to_dense()[0], ref.z)
    t, i = np.nonzero(x)  # the same input as COO, every entry split in two halves, unordered
    order = np.random.default_rng(0).permutation(2 * t.size)
    coo = sps.coo_array(
        (np.r_[x[t, i], x[t, i]][order] / 2, (np.r_[t, t][order], np.r_[i, i][order])), x.shape
    )
    np.testing.assert_array_equal(net.simulate(params, coo, engine="event").z, ref.z)
    rows = np.r_[t, t][order]  # the same entries as a CSR array as they come: unsorted rows
    by_row = np.argsort(rows, kind="stable")
    ptr = np.searchsorted(rows[by_row], np.arange(x.shape[0] + 1))
    raw = sps.csr_array((coo.data[by_row], coo.col[by_row], ptr), shape=x.shape)
    assert not raw.has_sorted_indices
    np.testing.assert_array_equal(
        idn.network.simulate_spikes(net, params, raw).to_dense()[0], ref.z
    )
    with pytest.raises(InputError, match="channels"):
        net.simulate(params, sps.csr_array(x[:, :5]), engine="event")
    with pytest.raises(InputError, match="rows"):
        idn.network.simulate_spikes(net, params, lambda a, b: xs[a : b - 1], 900)


def test_csr_input_read_in_its_own_dtype():
    """Spikes given as a bool, uint8 or float32 CSR input (read as they are, one byte an input
    for bool) give the spikes of the float64 input, in ``simulate`` and ``simulate_spikes``,
    with dense and private (diagonal) input weights; an int64 CSR input is converted."""
    import scipy.sparse as sps

    net = idn.network.LIF(n_in=40, n_rec=40, n_out=2, connectivity="ei", k_in=10)
    params = net.init(seed=4)
    diag = SparseWeights.from_dense(np.diag(np.random.default_rng(3).uniform(0.2, 0.6, 40)))
    x = idn.network.poisson_spikes(30.0, 800, n_in=40, seed=9)
    for p in (params, {**params, "w_in": diag}):
        ref = net.simulate(p, x, engine="event", record=False).z
        assert 0.002 < ref.mean() < 0.7
        for dtype in (np.bool_, np.uint8, np.float32, np.int64):
            xs = sps.csr_array(x.astype(dtype))
            assert check_sparse_input(net, xs).dtype == (np.float64 if dtype == np.int64 else dtype)
            np.testing.assert_array_equal(net.simulate(p, xs, engine="event", record=False).z, ref)
            train = idn.network.simulate_spikes(net, p, xs, chunk_steps=300)
            np.testing.assert_array_equal(train.to_dense()[0], ref)


# ---------------------------------------------------------------------- memory preflight
def test_preflight_refuses_a_dense_network_that_does_not_fit(monkeypatch):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "2G")
    with pytest.raises(InputError) as err:
        idn.network.LIF(n_in=5, n_rec=10**5).init(seed=0)
    msg = str(err.value)
    assert "\n" not in msg and "needs" in msg and "is free" in msg and "k_in" in msg
    with pytest.raises(InputError, match="smaller k_in"):
        idn.network.LIF(n_in=5, n_rec=10**5, connectivity="sparse", k_in=10_000).init(seed=0)


@pytest.mark.parametrize(
    "kwargs, share, advice",
    [
        (  # the need was all w_in's, the message named only w_rec and advised a smaller k_in
            dict(n_in=10**6, connectivity="sparse", k_in=10),
            "sparse w_rec with 1e+06 synapses: 48 MiB; w_in 1,000,000 x 100,000: 1.46 TiB",
            "use fewer inputs (n_in)",
        ),
        (
            dict(n_in=10, n_out=10**5, connectivity="sparse", k_in=10),
            "w_out 100,000 x 100,000: 149 GiB",
            "use fewer readouts (n_out)",
        ),
        (  # advised the k_in already given
            dict(n_in=5, connectivity="sparse", k_in=100, weights="dense"),
            "a dense w_rec of 100,000 x 100,000 from 1e+07 synapses: 74.7 GiB",
            "use weights='sparse' or 'auto'",
        ),
        (  # advised p_connect, which "ei" refuses
            dict(n_in=5, connectivity="ei"),
            "sparse w_rec with 2.06e+09 synapses: 30.7 GiB",
            "use k_in=1000, or smaller p_ee, p_ei, p_ie, p_ii",
        ),
        (  # the advice, followed, must not be refused in turn (k_in beside p_ee, p_connect)
            dict(n_in=5, connectivity="ei", p_ee=0.1),
            "sparse w_rec with",
            "use k_in=1000 in place of p_ee, or smaller p_ee, p_ei, p_ie, p_ii",
        ),
        (
            dict(n_in=5, connectivity="ei", weights="dense", p_ee=0.1),
            "a dense w_rec of 100,000 x 100,000 while drawn: 307 GiB",
            "use weights='sparse' with k_in=1000 in place of p_ee",
        ),
        (  # p_connect and k_in are refused for the all-to-all graph
            dict(n_in=5, weights="sparse"),
            "sparse w_rec with 1e+10 synapses",
            "use connectivity='sparse' with k_in=100 (the dense graph has n_rec - 1 synapses",
        ),
        (
            dict(n_in=5, connectivity="sparse", p_connect=0.5, weights="dense"),
            "a dense w_rec of 100,000 x 100,000 while drawn: 158 GiB",  # 2.125 arrays
            "use weights='sparse' with k_in=100 in place of p_connect",
        ),
    ],
)
def test_preflight_names_each_matrix_and_advises_on_the_largest(monkeypatch, kwargs, share, advice):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "2G")
    with pytest.raises(InputError) as err:
        idn.network.LIF(n_rec=10**5, **kwargs).init(seed=0)
    msg = str(err.value)
    assert msg.startswith("the weights of 100,000 units (") and "\n" not in msg
    assert share in msg and "but 2 GiB is free under INFODYN_MEMORY_LIMIT; " + advice in msg


def test_preflight_refuses_traces_that_do_not_fit(monkeypatch):
    net = idn.network.LIF(n_in=2, n_rec=1000, connectivity="sparse", k_in=5)
    params = net.init(seed=0)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "20M")
    x = np.zeros((2, 2000, 2))
    with pytest.raises(InputError, match="record=False"):
        net.simulate(params, x, engine="jax")
    with pytest.raises(InputError, match="simulate_to_file"):
        net.simulate(params, x[0], engine="event")
    net.simulate(params, x[0, :200], engine="event", record=False)  # small enough: runs


def test_simulate_spikes_refuses_a_run_whose_spikes_would_not_fit(monkeypatch):
    """A runaway network (every unit firing every step) is stopped by the growing preflight of
    ``simulate_spikes`` with one message naming the rate so far and what to do, not killed for
    memory; the same run fits when the projection does."""
    import importlib

    from infodyn.memory import MemoryPreflightError

    sim = importlib.import_module("infodyn.network.simulate")  # the module, not the function
    monkeypatch.setattr(sim._SpikeCollector, "CHECK_FROM", 1000)
    net = idn.network.LIF(n_in=1, n_rec=100, n_out=0, connectivity="sparse", k_in=10)
    params = net.init(seed=0)
    x = np.ones((400, 1))
    params["w_in"] = np.full((1, 100), 2.0)  # every unit crosses threshold every step
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "200K")  # 40,000 spikes need ~1.1 MB
    with pytest.raises(MemoryPreflightError, match=r"Hz a unit.*runaway activity"):
        idn.network.simulate_spikes(net, params, x)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "64M")
    train = idn.network.simulate_spikes(net, params, x)
    ref = idn.network.simulate(net, params, x, engine="event").z
    assert train.times.size > 35_000
    np.testing.assert_array_equal(train.to_dense()[0], ref)
    # a burst that dies out is not projected over the whole run: 20 steps of drive (the network
    # reverberates for ~150 more), then 100,000 quiet steps; at the burst's rate of 100 spikes a
    # step the run would need ~0.4 GB
    burst = np.zeros((100_020, 1))
    burst[:20] = 1.0
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1M")
    train = idn.network.simulate_spikes(net, params, burst, chunk_steps=5)
    assert train.n_steps == 100_020 and 2_000 < train.times.size < 40_000
    assert train.times.max() < 10_000


def test_to_jax_refuses_int64_positions_without_x64(monkeypatch):
    import jax

    from infodyn.network import sparse

    w = SparseWeights.from_dense(np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 4.0], [5.0, 6.0, 0.0]]))
    monkeypatch.setattr(sparse, "INT32_MAX", 4)  # as if nnz = 6 were beyond 2^31
    assert sparse.to_jax(w, np.float64).indptr.dtype == np.int64  # x64 on (tests/conftest.py)
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(InputError, match="64-bit positions"):
            sparse.to_jax(w, np.float32)
    finally:
        jax.config.update("jax_enable_x64", True)


@pytest.mark.parametrize(
    "kw",
    [
        dict(n_rec=1500),
        dict(n_rec=1500, connectivity="ei"),
        dict(n_rec=20_000, connectivity="sparse", k_in=50),
        dict(n_rec=20_000, connectivity="ei", k_in=50),
    ],
    ids=["dense", "ei dense", "sparse", "ei sparse"],
)
@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_preflight_estimate_covers_the_memory_the_draw_takes(kw, precision, monkeypatch):
    """The estimate the preflight checks against the peak that drawing the weights allocates
    (tracemalloc: NumPy's buffers). The refusal tests sit far from the limit, so an estimate of
    half the need (4 bytes a dense entry) passed them."""
    import tracemalloc

    import infodyn.network.weights_memory as weights_memory

    asked = []
    monkeypatch.setattr(
        weights_memory, "require_memory", lambda need, what, advice: asked.append(need)
    )
    net = idn.network.LIF(n_in=20, **kw)
    tracemalloc.start()
    try:
        net.init(seed=0, precision=precision)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(asked) == 1 and asked[0] >= peak, (asked, peak)


def test_trace_estimate_is_twice_the_traces_returned():
    """On the device and again on the host: 2 x the bytes of the returned z, v, thr, y."""
    from infodyn.network.engine_jax import simulate_jax, trace_bytes

    net = idn.network.ALIF(n_in=10, n_rec=30, n_out=2, n_alif=10)
    x = idn.network.poisson_spikes(20.0, 50, n_in=10, seed=0)[None].repeat(3, axis=0)
    for record in (True, False):
        out = simulate_jax(net, net.init(seed=0), x, "float32", record=record)
        returned = sum(np.asarray(a).nbytes for a in out.values() if np.ndim(a) == 3)
        assert trace_bytes(net, 3, 50, "float32", record) == 2 * returned


def test_private_inputs_end_in_the_dense_runs_membranes_bit_for_bit():
    """Spikes cannot see a changed rounding order: the final membranes can. With one private
    input a unit (the direct path) and with two channels onto one unit (not private: their sum
    is formed first, as the dense ``w_in`` forms it), and for a CSR input that lists every
    entry twice (0.37 x and 0.63 x: summed first, as SciPy means it, not added to v twice),
    the event engine's v equals the dense ``w_in`` run's bitwise."""
    import scipy.sparse as sps

    from infodyn.network.engine_event import EventState, run_event_chunk

    net = idn.network.LIF(n_in=60, n_rec=60, n_out=2, connectivity="ei", k_in=12)
    params = net.init(seed=5)
    gain = np.random.default_rng(1).uniform(0.05, 0.3, 60)
    merged = np.diag(gain)
    merged[7, 9], merged[7, 7] = gain[7], 0.0
    rng = np.random.default_rng(4)
    x = (rng.random((400, 60)) < 0.3) * rng.uniform(0.3, 1.7, (400, 60))  # 18 inputs a step
    x[:, 7] = x[:, 9] = 0.7  # channels 7 and 9 onto unit 9 together, every step
    t, i = np.nonzero(x)
    a, b = 0.37 * x[t, i], 0.63 * x[t, i]
    summed = np.zeros_like(x)
    summed[t, i] = a + b  # what the repeated entries mean
    order = np.argsort(np.repeat(t * 60 + i, 2), kind="stable")
    rows, cols, vals = np.repeat(t, 2)[order], np.repeat(i, 2)[order], np.c_[a, b].ravel()[order]
    ptr = np.searchsorted(rows, np.arange(x.shape[0] + 1))
    twice = sps.csr_array((vals, cols, ptr), shape=x.shape)
    assert not twice.has_canonical_format
    for w_in in (np.diag(gain), merged):
        sw = SparseWeights.from_dense(w_in)
        finals = {}
        for name, w, xin in (
            ("dense", w_in, summed),
            ("sparse", sw, summed),
            ("sparse csr", sw, sps.csr_array(summed)),
            ("sparse csr twice", sw, twice),
        ):
            state = EventState.zeros(net.n_rec, net.n_out)
            run_event_chunk(net, {**params, "w_in": w}, xin, state)
            finals[name] = state.v.copy()
        for name, v in finals.items():
            np.testing.assert_array_equal(v, finals["dense"], err_msg=name)


@pytest.mark.parametrize("unroll", [5, 6, 64])
def test_by_target_sum_unrolled_as_on_a_gpu_is_the_same_sum(unroll, monkeypatch):
    """On a GPU the by-target loop runs unrolled (``sparse_current.GPU_UNROLL`` K-steps an
    iteration); a CPU lowers it rolled. Taking the GPU branch here gives bitwise the CPU
    branch's currents for spikes (K = 12: not a multiple of the unroll, a multiple, and fully
    unrolled; float64 weights: every rounding shows), and for real-valued ``z`` the same up to
    where XLA fuses a multiply-add."""
    import jax
    import jax.numpy as jnp

    from infodyn.network import sparse_current

    net = _net(NETS[0])
    w = net.init(seed=4)["w_rec"]
    plan = sparse_current.by_target(w)
    assert plan is not None and plan.pre.shape[0] == 12
    rng = np.random.default_rng(5)
    spikes = jnp.asarray((rng.random((3, 60)) < 0.4).astype(np.float64))
    real = jnp.asarray(rng.normal(size=(3, 60)))
    sw = w.with_values(jnp.asarray(rng.normal(size=w.nnz)))

    def current(z):
        return np.asarray(jax.jit(lambda z: sparse_current.recurrent_current(z, sw, plan))(z))

    rolled = [current(z) for z in (spikes, real)]
    monkeypatch.setattr(sparse_current, "GPU_UNROLL", unroll)
    monkeypatch.setattr(jax.lax, "platform_dependent", lambda *a, cpu, default: default(*a))
    unrolled = [current(z) for z in (spikes, real)]
    np.testing.assert_array_equal(unrolled[0], rolled[0])
    np.testing.assert_allclose(unrolled[1], rolled[1], rtol=1e-14, atol=1e-15)
    for z, got in zip((spikes, real), rolled, strict=True):
        np.testing.assert_allclose(got, np.asarray(z) @ sw.to_dense(), rtol=1e-12, atol=1e-12)


def test_to_dense_checks_a_pattern_built_by_hand():
    """The constructor takes the arrays as given (it is the pytree's); to_dense raised a raw
    IndexError on an index out of range."""
    from infodyn.network import SparseWeights

    bad = SparseWeights(np.ones(2), np.array([0, 99]), np.array([0, 1, 2]), (2, 2))
    with pytest.raises(InputError, match=r"SparseWeights: postsynaptic indices out of range 0..1"):
        bad.to_dense()
    floats = SparseWeights(np.ones(2), np.array([0.0, 1.0]), np.array([0, 1, 2]), (2, 2))
    with pytest.raises(InputError, match="indices, indptr integers"):
        floats.to_dense()


@pytest.mark.parametrize(
    "kwargs, advice",
    [
        (dict(n_rec=1000, connectivity="ei", weights="dense"), "weights='sparse' with k_in=100 "),
        (dict(n_rec=300), "connectivity='sparse' with k_in=30 "),
        (dict(n_rec=12, connectivity="ei", weights="dense"), "weights='sparse' with k_in=3 "),
    ],
)
def test_preflight_suggests_an_in_degree_the_network_can_have(monkeypatch, kwargs, advice):
    """k_in=1000 was advised to a 1,000-unit E/I network, and then refused (800 E + 200 I
    inputs from 799 and 199 others): the suggestion is at most a tenth of the units."""
    import re

    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1K")
    with pytest.raises(InputError) as err:
        idn.network.LIF(n_in=2, **kwargs).init(seed=0)
    assert advice in str(err.value)
    k = int(re.search(r"k_in=(\d+)", str(err.value)).group(1))
    monkeypatch.delenv("INFODYN_MEMORY_LIMIT")  # the advice, followed, is a valid network
    connectivity = kwargs.get("connectivity", "sparse")
    idn.network.LIF(n_in=2, n_rec=kwargs["n_rec"], connectivity=connectivity, k_in=k).init(0)


def test_sparse_weights_are_not_taken_for_an_array():
    """np.asarray(w) was a 0-d object array without a word, w @ v and w * 2 raw errors; w * k
    now scales the values and the rest name what to use instead."""
    w = SparseWeights.from_dense(np.array([[0.0, 1.0], [2.0, 0.0]]))
    for op in (np.asarray, lambda w: w @ np.ones(2), lambda w: np.ones(2) @ w):
        with pytest.raises(TypeError, match=r"not a dense matrix; use w.to_dense\(\)"):
            op(w)
    import jax.numpy as jnp

    for scaled in (w * 2, 2 * w, w * np.float32(2), np.float64(2) * w, jnp.float32(2) * w):
        np.testing.assert_array_equal(scaled.to_dense(), [[0.0, 2.0], [4.0, 0.0]])
        assert scaled.same_pattern(w)
    with pytest.raises(TypeError, match="w \\* k takes a number k"):
        w * np.ones(2)
    assert (np.shape(w), np.ndim(w)) == ((2, 2), 2)  # read from w, not from an array of it
    import jax

    # a traced k (a learning rate inside a jitted step): np.asarray of the tracer failed
    for op in (lambda w, k: w * k, lambda w, k: k * w, lambda w, k: w / (1 / k)):
        got = jax.jit(lambda w, k, op=op: op(w, k).values)(w, 2.0)
        np.testing.assert_allclose(got, [2.0, 4.0])
    with pytest.raises(TypeError, match="w \\* k takes a number k"):
        jax.jit(lambda w, k: (w * k).values)(w, jnp.ones(2))


def test_numpy_params_keeps_sparse_weights_sparse():
    """The image pipeline took np.asarray of every weight, which a sparse [network] w_rec
    refuses (a TypeError traceback after training)."""
    import jax.numpy as jnp

    from infodyn.network.sparse import numpy_params

    w = SparseWeights.from_dense(np.array([[0.0, 1.0], [2.0, 0.0]]))
    got = numpy_params({"w_rec": w.with_values(jnp.asarray(w.values)), "w_out": jnp.ones(2)})
    assert isinstance(got["w_rec"], SparseWeights) and isinstance(got["w_rec"].values, np.ndarray)
    assert isinstance(got["w_out"], np.ndarray) and got["w_rec"].same_pattern(w)


def test_equality_copies_and_arithmetic_of_sparse_weights(tmp_path):
    """``==`` is one bool: the same synapses, values and dtype (it compared identities: a copy
    or a saved and loaded matrix was unequal); ``copy``, ``-w`` and ``w / k`` keep the pattern;
    ``w1 + w2`` says how to add values of one pattern instead of a bare TypeError."""
    import copy

    from infodyn.network import load_params, save_params

    w = SparseWeights.from_dense(np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0], [0.0, 0.5, 0.0]]))
    assert w == copy.deepcopy(w) and w == w.copy() and not (w != w.copy())
    c = w.copy()
    c.values[0] = 9.0  # a copy owns its arrays
    assert w.values[0] == 1.5 and w != c
    assert w != w.astype(np.float32) and w != SparseWeights.from_dense(np.eye(3))
    assert w != w.to_dense() and w != "w"  # another kind: not equal, no error
    save_params(tmp_path / "p.npz", {"w_rec": w})
    assert load_params(tmp_path / "p.npz")["w_rec"] == w
    nan = w.with_values(np.array([np.nan, 2.0, -1.0, 0.5]))
    assert nan == nan.copy()  # NaN weights compare equal bitwise
    np.testing.assert_array_equal((-w).to_dense(), -w.to_dense())
    np.testing.assert_array_equal((w / 2).to_dense(), w.to_dense() / 2)
    assert (-w).same_pattern(w) and (w / 4.0).same_pattern(w)
    with pytest.raises(TypeError, match="w1.with_values\\(w1.values \\+ w2.values\\)"):
        w + w
    with pytest.raises(TypeError, match="w / k takes a number k"):
        w / w
    with pytest.raises(TypeError, match="unhashable"):
        hash(w)


def test_scipy_transpose_and_the_checks_of_new_values_and_dense_copies(monkeypatch):
    """``to_scipy`` and ``.T`` (scipy.sparse.csr_matrix(w) failed, no transpose existed);
    integer values are refused by ``with_values`` (they were taken, then refused by the
    engines); ``to_dense`` checks the memory it needs first."""
    import infodyn.memory

    dense = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0], [0.0, 0.5, 0.0]], np.float32)
    w = SparseWeights.from_dense(dense)
    np.testing.assert_array_equal(w.to_scipy().toarray(), dense)
    t = w.T
    assert t.shape == (3, 3) and t.dtype == np.float32 and t.indices.dtype == np.int32
    np.testing.assert_array_equal(t.to_dense(), dense.T)
    assert t.T == w
    rect = SparseWeights.from_dense(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(rect.T.to_dense(), np.arange(6.0).reshape(2, 3).T)
    with pytest.raises(InputError, match="values must be float32 or float64, got dtype int64"):
        w.with_values(np.ones(w.nnz, np.int64))
    monkeypatch.setattr(infodyn.memory, "available_bytes", lambda: 16)
    with pytest.raises(InputError, match="a dense 3 x 3 float32 matrix needs"):
        w.to_dense()
    with pytest.raises(TypeError, match="infodyn.network.save_params for files"):
        np.asarray(w)


def test_arrays_of_another_rank_are_named_by_their_shape():
    # the message held an array's repr over three lines, without its shape
    with pytest.raises(
        InputError, match=r"^values must be a 1-D array, got an array of shape \(3, 1\)$"
    ):
        SparseWeights(
            np.ones((3, 1)), np.array([1, 2, 0], np.int32), np.array([0, 1, 2, 3]), (3, 3)
        )
    with pytest.raises(InputError, match="indptr must be a 1-D array, got None"):
        SparseWeights(np.ones(3), np.array([1, 2, 0], np.int32), None, (3, 3))


def test_from_dense_sums_scipy_duplicates_as_scipy_reads_them():
    """SciPy sums a COO matrix's repeated entries (the usual result of accumulating a
    connectivity): from_dense refused them as duplicate synapses. Entries that cancel are no
    synapse, and the caller's matrix is left as it was."""
    import scipy.sparse as sps

    coo = sps.coo_matrix(([1.0, 2.0, 1.0, -1.0, 4.0], ([0, 0, 1, 1, 2], [1, 1, 0, 0, 2])), (3, 3))
    w = SparseWeights.from_dense(coo)
    np.testing.assert_array_equal(w.to_dense(), coo.toarray())
    assert w.nnz == 2 and coo.nnz == 5


def test_recurrent_current_checks_a_pattern_it_is_given_outside_jit():
    """A synapse onto unit 5 of 2 was dropped, and a duplicate synapse summed, without a word
    (sparse_checks: every pattern that reaches the kernels is checked first)."""
    import jax.numpy as jnp

    from infodyn.network import recurrent_current

    bad = np.array([1, 5], np.int32)
    out_of_range = SparseWeights(np.array([1.0, 2.0]), bad, np.array([0, 1, 2]), (2, 2))
    with pytest.raises(InputError, match="out of range"):
        recurrent_current(jnp.ones(2), out_of_range)
    twice = SparseWeights(
        np.array([1.0, 2.0]), np.array([1, 1], np.int32), np.array([0, 2, 2]), (2, 2)
    )
    with pytest.raises(InputError, match="no duplicates"):
        recurrent_current(jnp.ones(2), twice)
    good = SparseWeights(
        np.array([1.0, 2.0]), np.array([0, 1], np.int32), np.array([0, 1, 2]), (2, 2)
    )
    np.testing.assert_allclose(recurrent_current(jnp.ones(2), good), [1.0, 2.0])


def test_float16_synapse_values_are_refused_everywhere():
    """astype(float16) was refused, but with_values and a params file took float16 values:
    the run went on with rounded weights (702 spikes for 701)."""
    w = SparseWeights.from_dense(np.array([[0.0, 0.5], [0.25, 0.0]]))
    with pytest.raises(InputError, match="float32 or float64, got dtype float16"):
        w.with_values(w.values.astype(np.float16))
    half = SparseWeights(w.values.astype(np.float16), w.indices, w.indptr, w.shape)
    with pytest.raises(InputError, match="float32 or float64, got float16"):
        check_sparse(half, half.shape, "w_rec")


def test_from_coo_checks_the_memory_of_a_huge_shape_first():
    """(2^41, 2): NumPy's "Unable to allocate 16.0 TiB" (a raw MemoryError)."""
    with pytest.raises(InputError, match="row pointers of a 2,199,023,255,552 x 2"):
        SparseWeights.from_coo([0, 2**40], [1, 0], [1.0, 2.0], (2**41, 2))


def test_a_complex_sparse_input_is_refused_as_a_dense_one_is():
    """A complex SciPy input ran with its imaginary part dropped (NumPy's ComplexWarning)."""
    import scipy.sparse as sps

    from infodyn.network.engine_event import _csr_input

    net = idn.network.LIF(n_in=4, n_rec=5, n_out=1)
    x = sps.csr_matrix(np.ones((10, 4)) * (1 + 1j))
    with pytest.raises(InputError, match="must be numeric, got dtype complex128"):
        check_sparse_input(net, x)
    with pytest.raises(InputError, match="must be numeric, got dtype complex128"):
        _csr_input(x, 4)
    with pytest.raises(InputError, match="must be numeric"):
        net.simulate(net.init(seed=0), x, engine="event")
