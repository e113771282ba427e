"""The JAX and event-driven engines give exactly the same spikes in float64."""

import jax
import numpy as np
import pytest
import scipy.sparse as sps

import infodyn as idn
from infodyn import InputError

CONFIGS = [
    dict(cls="LIF", n_ref=0, connectivity="dense"),
    dict(cls="LIF", n_ref=3, connectivity="sparse", p_connect=0.2),
    dict(cls="LIF", n_ref=1, connectivity="ei", input_scaling="one_minus_alpha"),
    dict(cls="ALIF", n_ref=2, connectivity="dense", n_alif=30, beta_a=0.02, tau_a=200.0),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c['cls']}-{c['connectivity']}")
@pytest.mark.parametrize("seed", [0, 1])
def test_event_and_jax_spikes_identical(cfg, seed):
    cfg = dict(cfg)
    cls = getattr(idn.network, cfg.pop("cls"))
    net = cls(n_in=30, n_rec=60, n_out=3, in_scale=4.0, rec_scale=1.5, **cfg)
    params = net.init(seed=seed)
    x = idn.network.poisson_spikes(40.0, 1500, n_in=30, seed=seed + 10)
    tj = net.simulate(params, x, engine="jax", precision="float64")
    te = net.simulate(params, x, engine="event")
    assert 0.005 < tj.z.mean() < 0.5, "test network should be active but not saturated"
    np.testing.assert_array_equal(tj.z, te.z)
    # bit for bit: XLA fuses each multiply-add (alpha v + rec, beta a + v_th, kappa y + ...),
    # so the event engine does too (rounded twice, v differed in the last bit in most cells)
    np.testing.assert_array_equal(tj.v, te.v)
    np.testing.assert_array_equal(tj.thr, te.thr)
    np.testing.assert_array_equal(tj.y, te.y)


def test_one_readout_sums_in_another_order_only():
    """docs/network.md: with n_out = 1 XLA reduces z @ w_out in another order, so y differs in
    its last bits; spikes, v and thr stay bit for bit (n_out = 3 above: y too)."""
    net = idn.network.LIF(n_in=30, n_rec=60, n_out=1, in_scale=4.0, rec_scale=1.5)
    p = net.init(seed=0)
    x = idn.network.poisson_spikes(40.0, 500, n_in=30, seed=1)
    tj = net.simulate(p, x, engine="jax", precision="float64")
    te = net.simulate(p, x, engine="event")
    for name in ("z", "v", "thr"):
        np.testing.assert_array_equal(np.asarray(getattr(tj, name)), getattr(te, name))
    np.testing.assert_allclose(np.asarray(tj.y), te.y, rtol=0, atol=1e-13)


def test_batched_event_equals_per_sample_jax():
    net = idn.network.LIF(n_in=10, n_rec=20, n_out=1, in_scale=4.0)
    params = net.init(seed=3)
    x = idn.network.poisson_spikes(50.0, 300, n_in=10, batch=3, frozen=False, seed=4)
    tj = net.simulate(params, x, engine="jax", precision="float64")
    te = net.simulate(params, x, engine="event")
    assert tj.z.shape == te.z.shape == (3, 300, 20)
    np.testing.assert_array_equal(tj.z, te.z)


def test_float32_default_close_to_float64():
    net = idn.network.LIF(n_in=10, n_rec=20, n_out=1, in_scale=4.0)
    params = net.init(seed=3)
    x = idn.network.poisson_spikes(50.0, 200, n_in=10, seed=4)
    t32 = net.simulate(params, x, engine="jax")
    t64 = net.simulate(params, x, engine="jax", precision="float64")
    assert t32.v.dtype == np.float32
    # identical until the first spike that a rounding difference could move
    first = np.argmax(np.any(t32.z != t64.z, axis=1)) if np.any(t32.z != t64.z) else 200
    assert first > 20


def test_auto_engine_choice():
    net = idn.network.LIF(n_in=5, n_rec=10, n_out=1)
    params = net.init(seed=0)
    short = net.simulate(params, np.zeros((100, 5)))
    long = net.simulate(params, np.zeros((2500, 5)))
    batched = net.simulate(params, np.zeros((2, 2500, 5)))
    assert (short.engine, long.engine, batched.engine) == ("jax", "event", "jax")


def test_simulate_to_file_streams_same_spikes(tmp_path):
    net = idn.network.LIF(n_in=20, n_rec=40, n_out=1, in_scale=4.0, n_ref=1)
    params = net.init(seed=5)
    x = idn.network.poisson_spikes(40.0, 2300, n_in=20, seed=6)
    path = idn.network.simulate_to_file(net, params, x, 2300, tmp_path / "s.h5", chunk_steps=500)
    loaded = idn.data.load_spikes(path)
    direct = net.simulate(params, x, engine="event")
    np.testing.assert_array_equal(loaded.to_dense()[0], direct.z)
    assert loaded.n_steps == 2300 and loaded.metadata["engine"] == "event"


def test_simulate_to_file_accepts_generator_input(tmp_path):
    net = idn.network.LIF(n_in=20, n_rec=40, n_out=1, in_scale=4.0)
    params = net.init(seed=5)
    x = idn.network.poisson_spikes(40.0, 1000, n_in=20, seed=6)
    seen = []
    path = idn.network.simulate_to_file(
        net,
        params,
        lambda a, b: x[a:b],
        1000,
        tmp_path / "g.h5",
        chunk_steps=300,
        progress=seen.append,
    )
    assert seen == [300, 600, 900, 1000]
    direct = net.simulate(params, x, engine="event")
    np.testing.assert_array_equal(idn.data.load_spikes(path).to_dense()[0], direct.z)


@pytest.mark.parametrize("cfg", CONFIGS[::3], ids=lambda c: f"{c['cls']}-{c['connectivity']}")
def test_float32_weights_read_as_float32_rows_give_the_float64_results(cfg, monkeypatch):
    """Weights that are exact float32 values are stored as float32 rows (half the bytes per
    spike); every trace is bitwise what float64 storage gives, and the spikes equal JAX's."""
    from infodyn.network import _event_weights, engine_event

    cfg = dict(cfg)
    cls = getattr(idn.network, cfg.pop("cls"))
    net = cls(n_in=30, n_rec=60, n_out=3, in_scale=4.0, rec_scale=1.5, **cfg)
    params = {k: v.astype(np.float32).astype(np.float64) for k, v in net.init(seed=2).items()}
    assert engine_event.row_storage(params["w_rec"]).dtype == np.float32
    assert engine_event.row_storage(net.init(seed=2)["w_rec"]).dtype == np.float64
    x = idn.network.poisson_spikes(40.0, 1500, n_in=30, seed=12)
    fast = net.simulate(params, x, engine="event")
    monkeypatch.setattr(
        _event_weights, "row_storage", lambda w: np.ascontiguousarray(w, dtype=np.float64)
    )
    plain = net.simulate(params, x, engine="event")
    assert 0.005 < fast.z.mean() < 0.5
    for name in ("z", "v", "thr", "y"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(plain, name))
    np.testing.assert_array_equal(
        fast.z, net.simulate(params, x, engine="jax", precision="float64").z
    )


def test_auto_engine_switches_at_exactly_2000_steps():
    """``T >= 2000`` picks the event engine (simulate module docstring), dense and CSR input."""
    net = idn.network.LIF(n_in=2, n_rec=3, n_out=1)
    params = net.init(seed=0)
    assert net.simulate(params, np.zeros((1999, 2)), record=False).engine == "jax"
    assert net.simulate(params, np.zeros((2000, 2)), record=False).engine == "event"
    assert net.simulate(params, sps.csr_array((2000, 2)), record=False).engine == "event"
    assert net.simulate(params, sps.csr_array((1999, 2)), record=False).engine == "jax"


def test_float64_precision_turns_x64_on():
    """precision="float64" computes in float64 even when x64 was off."""
    net = idn.network.LIF(n_in=2, n_rec=3, n_out=1)
    params = net.init(seed=0)
    jax.config.update("jax_enable_x64", False)
    try:
        trace = net.simulate(params, np.zeros((5, 2)), engine="jax", precision="float64")
        assert jax.config.jax_enable_x64
    finally:
        jax.config.update("jax_enable_x64", True)
    assert trace.v.dtype == np.float64


def test_a_float32_run_refuses_what_float32_cannot_hold(tmp_path):
    """Finite in float64 and past every check, these became inf or 0 in the JAX engine's
    float32: w_in = 1e300 gave NaN potentials and no spike where the event engine (float64)
    spiked at every step, and v_th = 1e-300 a threshold of 0. They are refused, naming
    precision='float64', which runs them as the event engine does."""
    net = idn.network.LIF(n_in=3, n_rec=5, n_out=2)
    p = net.init(seed=0)
    x = np.ones((20, 3))
    big = dict(p, w_in=np.full((3, 5), 1e300))
    tiny_net = idn.network.LIF(n_in=3, n_rec=5, n_out=2, v_th=1e-39)
    cases = [
        (net, big, x, "params\\['w_in'\\] holds 1e\\+300"),
        (idn.network.LIF(n_in=3, n_rec=5, n_out=2, v_th=1e-300), p, x, "v_th = 1e-300"),
        # below float32's smallest normal number, which XLA flushes to 0: weights drawn for
        # v_th = 1e-39 gave no current and no spike, where the event engine spiked
        (tiny_net, tiny_net.init(seed=0), x, r"w_in'\] holds values up to .* only, below"),
        (tiny_net, p, x, "v_th = 1e-39, below float32's smallest normal"),
        (idn.network.LIF(n_in=3, n_rec=5, n_out=2, v_th=1e300), p, x, "v_th holds 1e\\+300"),
        (net, p, x * 1e300, "x holds 1e\\+300"),
    ]
    one = idn.network.LIF(n_in=1, n_rec=1, n_out=1, v_th=1e-39)  # one weight each: 1x1
    cases.append((one, one.init(seed=0), np.ones((5, 1)), r"w_in'\] = 1.26e-40, below"))
    for model, params, inp, message in cases:
        with pytest.raises(InputError, match=message + ".*precision='float64'"):
            idn.network.simulate(model, params, inp, engine="jax")
    # an input that fades below float32's normal numbers is no error: a later chunk of it
    # holds only such values, and flushing them to 0 changes nothing
    fading = 5.0 * np.exp(-np.arange(400.0) / 2.0)[:, None] * np.ones((1, 3))
    path = tmp_path / "faded.h5"
    idn.network.simulate_to_file(net, p, fading, 400, path, chunk_steps=200, engine="jax")
    assert idn.data.load_spikes(path).n_steps == 400
    jax_run = idn.network.simulate(net, big, x, engine="jax", precision="float64")
    event_run = idn.network.simulate(net, big, x, engine="event")
    np.testing.assert_array_equal(jax_run.z, event_run.z)
    assert jax_run.z[1:].all()  # every unit spikes at every step after the first


def test_a_potential_within_a_rounding_of_the_threshold_spikes_on_both_engines_alike():
    """alpha c + w rounded once (XLA's fused multiply-add) lies above v_th, rounded twice (the
    event engine's former update) it equals v_th: unit 1 spiked on the JAX engine only."""
    net = idn.network.LIF(n_in=2, n_rec=2, n_out=0, tau_m=30.0, v_th=0.03)
    c, w01 = 0.02377156669760763, 0.007007757956392036  # found by search (audit of stop 50)
    assert net.alpha * c + w01 == 0.03  # rounded twice: not above the threshold
    params = {
        "w_in": np.array([[1.0, 0.0], [0.0, c]]),
        "w_rec": np.array([[0.0, w01], [0.0, 0.0]]),
        "w_out": np.zeros((2, 0)),
    }
    x = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    ev = net.simulate(params, x, engine="event")
    jx = net.simulate(params, x, engine="jax", precision="float64")
    assert jx.z[1, 1] == 1.0 and jx.v[1, 1] > 0.03  # XLA's one rounding
    np.testing.assert_array_equal(ev.z, jx.z)
    np.testing.assert_array_equal(ev.v, jx.v)


@pytest.mark.parametrize("scaling", ["none", "one_minus_alpha"])
def test_analog_inputs_and_the_unrecorded_path_are_bit_for_bit(scaling):
    """Real-valued inputs on a dense w_in: XLA's dot fuses each product into its sum, the event
    engine added them rounded twice (v differed in 25-65 % of cells; 0/1 spikes hid it, their
    products being exact). The plain-LIF path (nothing recorded) is compared step by step."""
    from infodyn.network._event_weights import event_weights
    from infodyn.network.engine_event import EventState, run_event_chunk

    net = idn.network.LIF(
        n_in=30, n_rec=60, n_out=3, in_scale=4.0, rec_scale=1.5, input_scaling=scaling
    )
    params = net.init(seed=1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 30)) * (rng.random((80, 30)) < 0.3)
    x[::7] *= rng.random((30,)) < 0.05  # steps with at most two non-zero inputs (fused path)
    tj = net.simulate(params, x, engine="jax", precision="float64")
    te = net.simulate(params, x, engine="event")
    np.testing.assert_array_equal(tj.z, te.z)
    np.testing.assert_array_equal(tj.v, te.v)
    np.testing.assert_array_equal(tj.y, te.y)
    state, weights = EventState.zeros(net.n_rec, net.n_out), event_weights(params)
    for t in range(x.shape[0]):
        run_event_chunk(net, params, x[t : t + 1], state, record=False, weights=weights)
        np.testing.assert_array_equal(state.v, tj.v[t])
        np.testing.assert_array_equal(state.y, tj.y[t])
