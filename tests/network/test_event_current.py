"""The event-driven sparse current (an XLA CPU custom call): bitwise the gather path's sums, the
event engine's spikes, under jit / scan / vmap / grad, and its fallbacks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import infodyn as idn
from infodyn.network import SparseWeights
from infodyn.network import event_current as ec
from infodyn.network.dynamics import Constants
from infodyn.network.engine_jax import cast_params, ensure_dtype, lower, run
from infodyn.network.sparse import to_jax
from infodyn.network.sparse_current import by_target, recurrent_current

NETS = [
    dict(n_ref=2, connectivity="ei", k_in=12),  # fixed in-degree: the by-target fallback
    dict(n_ref=1, connectivity="sparse", p_connect=0.2, weights="sparse"),  # segment sums
]


def _weights(seed, dtype, n_pre=50, n_post=40, k_in=None):
    """A dense matrix and its SparseWeights (JAX arrays): Bernoulli 0.2, or ``k_in`` a target."""
    rng = np.random.default_rng(seed)
    if k_in is None:
        mask = rng.random((n_pre, n_post)) < 0.2
    else:
        mask = np.zeros((n_pre, n_post), bool)
        for j in range(n_post):
            mask[rng.choice(n_pre, k_in, replace=False), j] = True
    dense = (rng.normal(size=(n_pre, n_post)) * mask).astype(dtype)
    return dense, to_jax(SparseWeights.from_dense(dense), dtype)


def _spikes(seed, shape, dtype, rate=0.15):
    return jnp.asarray((np.random.default_rng(seed).random(shape) < rate).astype(dtype))


def _engine(net, params, x, dtype, **kw):
    p = cast_params(params, dtype)
    beta = jnp.asarray(net.beta_vector(), dtype)
    return run(Constants.of(net), p, beta, jnp.asarray(x, dtype), **kw)


def test_the_custom_call_is_compiled_into_the_engine_on_cpu_only():
    dtype = ensure_dtype("float64")
    assert ec.register()
    net = idn.network.LIF(n_in=30, n_rec=60, n_out=3, **NETS[0])
    p = cast_params(net.init(seed=0), dtype)
    args = (Constants.of(net), p, jnp.asarray(net.beta_vector(), dtype), jnp.zeros((1, 20, 30)))
    assert ec.TARGET in lower(*args).as_text()
    assert ec.TARGET not in lower(*args, event_driven=False).as_text()
    # lowered for a GPU, only the gather path is there (platform_dependent)
    dense, w = _weights(0, np.float32)
    plan = ec.by_event(w)
    z = _spikes(1, (2, 50), np.float32)
    cuda = jax.export.export(jax.jit(ec.event_current), platforms=["cuda"])(z, w, plan)
    cpu = jax.jit(ec.event_current).lower(z, w, plan).as_text()
    assert ec.TARGET not in cuda.mlir_module() and ec.TARGET in cpu


def test_the_self_test_runs_while_tracing():
    """register() may first be asked inside a jit trace: its check still runs on concrete data."""
    assert ec.register()

    def f(x):
        assert ec._self_test()
        return x + 1

    assert float(jax.jit(f)(1.0)) == 2.0


@pytest.mark.parametrize("k_in", [None, 7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bitwise_the_gather_path_and_close_to_a_dense_product(dtype, k_in):
    ensure_dtype("float64")
    dense, w = _weights(1, dtype, k_in=k_in)
    z = np.array(_spikes(2, (2, 3, 50), dtype))
    z[0, 1] *= 0.37  # any values, not only spikes
    z[0, 2] *= -2.5  # and signed ones: the input current of a sparse w_in (x may be < 0)
    z = jnp.asarray(z)
    plan = ec.by_event(w)
    assert (plan.fallback is None) == (k_in is None)
    got = np.asarray(jax.jit(ec.event_current)(z, w, plan))
    np.testing.assert_array_equal(got, np.asarray(recurrent_current(z, w, plan.fallback)))
    # the segment-sum path rounds z * w apart from the sum: the same as the by-target path's
    # fused multiply-add for spikes (0 or 1), which every path therefore sums alike
    np.testing.assert_array_equal(got[1], np.asarray(recurrent_current(z[1], w)))
    ref = np.asarray(z, np.float64) @ dense.astype(np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("cfg", NETS, ids=["k_in", "p_connect"])
def test_engine_spikes_identical_to_the_gather_path_and_the_event_engine(cfg):
    """float64: event-driven JAX == gather JAX == the event engine, spike for spike (also v);
    float32: event-driven == gather bitwise."""
    net = idn.network.LIF(n_in=30, n_rec=60, n_out=3, in_scale=4.0, rec_scale=1.5, **cfg)
    params = net.init(seed=3)
    x = idn.network.poisson_spikes(40.0, 800, n_in=30, batch=2, frozen=False, seed=4)
    ev = _engine(net, params, x, ensure_dtype("float64"))
    ga = _engine(net, params, x, jnp.float64, event_driven=False)
    ref = net.simulate(params, x, engine="event")
    z = np.swapaxes(np.asarray(ev["z"]), 0, 1)
    assert 0.005 < z.mean() < 0.5, "test network should be active but not saturated"
    np.testing.assert_array_equal(z, ref.z)
    for k in ("z", "v", "thr", "y"):
        np.testing.assert_array_equal(np.asarray(ev[k]), np.asarray(ga[k]))
    ev32 = _engine(net, params, x, jnp.float32)
    ga32 = _engine(net, params, x, jnp.float32, event_driven=False)
    np.testing.assert_array_equal(np.asarray(ev32["v"]), np.asarray(ga32["v"]))


def test_fallback_above_capacity_and_for_unsupported_inputs(monkeypatch):
    """Above ``capacity`` active entries the gather path runs (seen by breaking the custom call);
    mixed dtypes never call it."""
    ensure_dtype("float64")
    _, w = _weights(5, np.float64, k_in=6)
    z = _spikes(6, (3, 50), np.float64, rate=0.3)
    exact = np.asarray(recurrent_current(z, w))
    monkeypatch.setattr(ec, "_call", lambda z, *a: jnp.zeros((*z.shape[:-1], a[-1]), z.dtype))
    broken = np.asarray(ec.event_current(z, w, ec.by_event(w, capacity=0.5)))
    assert not np.array_equal(broken, exact)  # under capacity: the (broken) custom call ran
    low = np.asarray(ec.event_current(z, w, ec.by_event(w, capacity=0.1)))
    np.testing.assert_array_equal(low, exact)  # 30 % active > 10 %: the gather path
    mixed = np.asarray(ec.event_current(z.astype(jnp.float32), w, ec.by_event(w, capacity=0.5)))
    np.testing.assert_allclose(mixed, exact, rtol=1e-6)


def test_vmap_scan_and_a_capacity_crossed_in_some_steps():
    """Under lax.scan with steps above and below capacity, and under vmap over the spikes or
    over the synapse values: the gather path's results, bitwise."""
    ensure_dtype("float64")
    _, w = _weights(7, np.float64, k_in=5)
    rates = np.where(np.arange(30) % 3 == 0, 0.6, 0.05)  # every third step above capacity
    zs = jnp.asarray((np.random.default_rng(8).random((30, 2, 50)) < rates[:, None, None]) * 1.0)
    plans = ec.by_event(w), by_target(w)

    def scan(plan, current):
        def body(acc, z):
            i = current(z, w, plan)
            return acc + i, i

        return jax.jit(lambda zs: jax.lax.scan(body, jnp.zeros((2, 40)), zs))(zs)

    a, b = scan(plans[0], ec.current), scan(plans[1], recurrent_current)
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    per_row = jax.jit(jax.vmap(lambda z: ec.event_current(z, w, plans[0])))(zs[:, 0])
    np.testing.assert_array_equal(np.asarray(per_row), np.asarray(recurrent_current(zs[:, 0], w)))
    values = jnp.stack([w.values, -2.0 * w.values])
    by_values = jax.vmap(lambda v: ec.event_current(zs[1], w.with_values(v), plans[0]))(values)
    for k in range(2):
        ref = recurrent_current(zs[1], w.with_values(values[k]))
        np.testing.assert_array_equal(np.asarray(by_values[k]), np.asarray(ref))


def test_gradients_are_the_gather_paths():
    """grad with respect to z and the synapse values through the custom call (its custom_jvp)
    equals float64 autodiff of the dense product at the synapses."""
    ensure_dtype("float64")
    dense, w = _weights(9, np.float64, k_in=8)
    z = _spikes(10, (3, 50), np.float64) * 0.8
    c = jnp.asarray(np.random.default_rng(11).normal(size=(3, 40)))
    plan = ec.by_event(w)

    def loss(z, v):
        return jnp.sum(jnp.tanh(ec.event_current(z, w.with_values(v), plan)) * c)

    def dense_loss(z, m):
        return jnp.sum(jnp.tanh(z @ m) * c)

    gz, gv = jax.jit(jax.grad(loss, argnums=(0, 1)))(z, w.values)
    rz, rm = jax.grad(dense_loss, argnums=(0, 1))(z, jnp.asarray(dense))
    np.testing.assert_allclose(np.asarray(gz), np.asarray(rz), rtol=1e-12, atol=1e-12)
    sw = SparseWeights.from_dense(dense)
    np.testing.assert_allclose(
        np.asarray(gv), sw.mask_dense(np.asarray(rm)), rtol=1e-12, atol=1e-12
    )


def _call_frame(z, dense, out, n_args=5, buffer_type=1):
    """A hand-built ``XLA_FFI_CallFrame`` (EXECUTE stage) holding the five argument buffers and
    the result buffer the handler reads; the arrays it points into are returned to keep alive."""
    w = SparseWeights.from_dense(dense)
    operands = [z, np.asarray(w.values), np.asarray(w.indices, np.int32)]
    operands += [np.asarray(w.indptr, np.int32), np.array([0], np.int32)]
    keep, buffers = [], []
    for a in [*operands, out]:
        dims = np.asarray(a.shape, np.int64)
        buf = np.zeros(6, np.int64)
        code = {np.float32: 11, np.float64: 12}.get(a.dtype.type, 4)  # 4: S32
        buf[:] = [48, 0, code, a.ctypes.data, a.ndim, dims.ctypes.data]
        keep += [a, dims, buf]
        buffers.append(buf.ctypes.data)
    arg_ptrs = np.asarray(buffers[:5], np.int64)
    arg_types = np.full(5, buffer_type, np.int32)
    ret_ptrs, ret_types = np.asarray(buffers[5:], np.int64), np.ones(1, np.int32)
    frame = np.zeros(22, np.int64)
    frame[[0, 4, 5, 7, 10, 12]] = [176, 3, 40, n_args, 40, 1]
    frame[[8, 9, 13, 14]] = [a.ctypes.data for a in (arg_types, arg_ptrs, ret_types, ret_ptrs)]
    return frame, keep + [arg_ptrs, arg_types, ret_ptrs, ret_types]


def test_the_handler_reads_its_layout_and_leaves_any_other_alone():
    assert ec.register()
    handler = ec._HANDLERS[0].ctypes
    dense = np.random.default_rng(3).normal(size=(6, 5)) * (np.arange(30).reshape(6, 5) % 3 == 0)
    z = np.array([[1.0, 0.0, 1.0, 0.0, 0.0, 1.0]])
    out = np.full((1, 5), np.nan)
    frame, keep = _call_frame(z, dense, out)
    assert handler(frame.ctypes.data) == 0
    np.testing.assert_allclose(out, z @ dense, rtol=1e-15)
    for bad in (dict(n_args=4), dict(buffer_type=2)):  # another layout: nothing written
        out[:] = np.nan
        frame, keep = _call_frame(z, dense, out, **bad)
        assert handler(frame.ctypes.data) == 0 and np.isnan(out).all()
