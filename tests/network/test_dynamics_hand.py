"""Hand-computed 1-2 neuron cases: reset, refractoriness, ALIF and recurrence, both engines."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import infodyn as idn
from infodyn.network.dynamics import Constants
from infodyn.network.engine_jax import run

ENGINES = ["jax", "event"]
HALF = 1.0 / math.log(2.0)  # tau giving a decay factor of exactly 0.5 at dt = 1


def _single(net_cls=idn.network.LIF, **kw):
    kw = {"tau_m": HALF, "tau_out": HALF, **kw}
    net = net_cls(n_in=1, n_rec=1, n_out=1, v_th=1.0, **kw)
    params = {"w_in": np.array([[0.6]]), "w_rec": np.zeros((1, 1)), "w_out": np.array([[1.0]])}
    return net, params


@pytest.mark.parametrize("engine", ENGINES)
def test_subtractive_reset_by_hand(engine):
    net, params = _single()
    trace = net.simulate(params, np.ones((8, 1)), engine=engine, precision="float64")
    # v0=.6, v1=.9, v2=1.05 (spike), v3=.525+.6-1=.125, v4=.6625, v5=.93125,
    # v6=1.065625 (spike), v7=.5328125+.6-1=.1328125
    expected_v = [0.6, 0.9, 1.05, 0.125, 0.6625, 0.93125, 1.065625, 0.1328125]
    np.testing.assert_allclose(trace.v[:, 0], expected_v, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.flatnonzero(trace.z[:, 0]), [2, 6])
    # readout with kappa = 0.5: y2 = 1, y3 = .5, y4 = .25, y5 = .125, y6 = 1.0625
    np.testing.assert_allclose(trace.y[2:7, 0], [1.0, 0.5, 0.25, 0.125, 1.0625], atol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_refractory_period_blocks_spikes_by_hand(engine):
    net, params = _single(n_ref=2)
    params["w_in"] = np.array([[1.5]])
    trace = net.simulate(params, np.ones((10, 1)), engine=engine, precision="float64")
    # v0=1.5 spike; v1=1.25 and v2=2.125 are refractory; v3=2.5625 spikes; and so on.
    np.testing.assert_allclose(trace.v[:4, 0], [1.5, 1.25, 2.125, 2.5625], atol=1e-12)
    np.testing.assert_array_equal(np.flatnonzero(trace.z[:, 0]), [0, 3, 6, 9])
    free, _ = _single()
    free_params = {**params}
    no_ref = free.simulate(free_params, np.ones((10, 1)), engine=engine, precision="float64")
    assert no_ref.z.sum() > trace.z.sum()


@pytest.mark.parametrize("engine", ENGINES)
def test_alif_threshold_adaptation_by_hand(engine):
    net, params = _single(idn.network.ALIF, tau_a=HALF, beta_a=1.0)
    trace = net.simulate(params, np.ones((8, 1)), engine=engine, precision="float64")
    # spike at t=2; a3=1 -> A3=2, a4=.5 -> A4=1.5, a5=.25, a6=.125 -> A6=1.125 > v6=1.065625,
    # a7=.0625 -> A7=1.0625 < v7=.5328125+.6=1.1328125: spike at 7 (a LIF unit spikes at 6).
    np.testing.assert_allclose(trace.thr[:, 0], [1, 1, 1, 2, 1.5, 1.25, 1.125, 1.0625], atol=1e-12)
    np.testing.assert_array_equal(np.flatnonzero(trace.z[:, 0]), [2, 7])


@pytest.mark.parametrize("engine", ENGINES)
def test_recurrent_input_arrives_one_step_later(engine):
    net = idn.network.LIF(n_in=1, n_rec=2, n_out=1, tau_m=HALF, v_th=1.0)
    params = {
        "w_in": np.array([[0.6, 0.0]]),
        "w_rec": np.array([[0.0, 0.7], [0.0, 0.0]]),
        "w_out": np.ones((2, 1)),
    }
    trace = net.simulate(params, np.ones((5, 1)), engine=engine, precision="float64")
    np.testing.assert_allclose(trace.v[:, 1], [0, 0, 0, 0.7, 0.35], atol=1e-12)
    assert trace.z[:, 1].sum() == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_one_minus_alpha_input_scaling(engine):
    net, params = _single(input_scaling="one_minus_alpha")
    trace = net.simulate(params, np.ones((2, 1)), engine=engine, precision="float64")
    np.testing.assert_allclose(trace.v[:, 0], [0.3, 0.45], atol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_readout_decays_with_tau_out_not_tau_m(engine):
    """kappa = exp(-dt/tau_out): tau_out giving kappa = 0.25 while alpha = 0.5."""
    net, params = _single(tau_out=HALF / 2)
    trace = net.simulate(params, np.ones((8, 1)), engine=engine, precision="float64")
    np.testing.assert_array_equal(np.flatnonzero(trace.z[:, 0]), [2, 6])  # as with alpha = .5
    # y2 = 1, y3 = .25, y4 = .0625, y5 = .015625, y6 = .00390625 + 1
    np.testing.assert_allclose(
        trace.y[2:7, 0], [1.0, 0.25, 0.0625, 0.015625, 1.00390625], rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_one_minus_kappa_readout_scaling(engine):
    """s_out = 1 - kappa = 0.5: y[t] = .5 y[t-1] + .5 z[t] (spikes at 2 and 6)."""
    net, params = _single(readout_scaling="one_minus_kappa")
    trace = net.simulate(params, np.ones((8, 1)), engine=engine, precision="float64")
    np.testing.assert_array_equal(np.flatnonzero(trace.z[:, 0]), [2, 6])
    np.testing.assert_allclose(
        trace.y[2:7, 0], [0.5, 0.25, 0.125, 0.0625, 0.53125], rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_time_constants_are_in_ms_at_dt_half(engine):
    """dt = 0.5 ms with every tau halved gives decay factors of 0.5 per step: the trace of
    test_alif_threshold_adaptation_by_hand step for step; the trace keeps dt and its rates
    are in Hz of ms steps (2 spikes in 8 steps of 0.5 ms = 500 Hz)."""
    net, params = _single(
        idn.network.ALIF, dt=0.5, tau_m=HALF / 2, tau_out=HALF / 2, tau_a=HALF / 2, beta_a=1.0
    )
    assert (net.alpha, net.kappa, net.rho) == pytest.approx((0.5, 0.5, 0.5), abs=1e-15)
    trace = net.simulate(params, np.ones((8, 1)), engine=engine, precision="float64")
    np.testing.assert_allclose(trace.thr[:, 0], [1, 1, 1, 2, 1.5, 1.25, 1.125, 1.0625], atol=1e-12)
    np.testing.assert_array_equal(np.flatnonzero(trace.z[:, 0]), [2, 7])
    np.testing.assert_allclose(trace.y[2:8, 0], [1, 0.5, 0.25, 0.125, 0.0625, 1.03125], atol=1e-12)
    assert trace.dt == 0.5
    np.testing.assert_allclose(trace.rates_hz(), [500.0])
    assert trace.spike_train().dt == 0.5


@pytest.mark.parametrize("engine", ENGINES)
def test_v_equal_to_threshold_does_not_spike(engine):
    """H is strict (surrogate module docstring): v0 = 1.0 = A gives no spike, v1 = 1.5 does."""
    net, params = _single()
    params["w_in"] = np.array([[1.0]])
    trace = net.simulate(params, np.ones((3, 1)), engine=engine, precision="float64")
    np.testing.assert_allclose(trace.v[:2, 0], [1.0, 1.5], rtol=0, atol=0)
    np.testing.assert_array_equal(trace.z[:, 0], [0.0, 1.0, 0.0])


@pytest.mark.parametrize("engine", ENGINES)
def test_adaptive_units_are_the_last_n_alif(engine):
    """Two identically driven units, n_alif=1: unit 1 adapts (thresholds of the ALIF hand
    case), unit 0 keeps v_th and spikes as a LIF unit (at 2 and 6)."""
    net = idn.network.ALIF(
        n_in=1,
        n_rec=2,
        n_out=1,
        tau_m=HALF,
        tau_out=HALF,
        v_th=1.0,
        tau_a=HALF,
        beta_a=1.0,
        n_alif=1,
    )
    np.testing.assert_array_equal(net.beta_vector(), [0.0, 1.0])
    params = {"w_in": np.array([[0.6, 0.6]]), "w_rec": np.zeros((2, 2)), "w_out": np.ones((2, 1))}
    trace = net.simulate(params, np.ones((8, 1)), engine=engine, precision="float64")
    np.testing.assert_allclose(trace.thr[:, 0], 1.0, atol=0)
    np.testing.assert_allclose(trace.thr[:, 1], [1, 1, 1, 2, 1.5, 1.25, 1.125, 1.0625], atol=1e-12)
    np.testing.assert_array_equal(np.flatnonzero(trace.z[:, 0]), [2, 6])
    np.testing.assert_array_equal(np.flatnonzero(trace.z[:, 1]), [2, 7])


def _grad_of(out_fn, detach_recurrent=False, detach_reset=False, v_th=0.5):
    """d out / d w_in for one unit (alpha = .5, v_th, w_in = .6, x = 1 every step)."""

    net = idn.network.LIF(n_in=1, n_rec=1, n_out=1, tau_m=HALF, v_th=v_th)
    c = Constants.of(net)

    def f(w):
        p = {"w_in": w.reshape(1, 1), "w_rec": jnp.zeros((1, 1)), "w_out": jnp.ones((1, 1))}
        out = run(c, p, jnp.zeros(1), jnp.ones((1, 2, 1)), detach_recurrent, detach_reset)
        return out_fn(out)

    return float(jax.grad(f)(jnp.asarray(0.6)))


def test_spike_gradient_through_a_step_is_psi_of_the_normalised_distance():
    """z0 = H((w x - v_th)/v_th) with w = .6, v_th = .5: u = .2, dz0/dw = psi(u) x =
    gamma/v_th (1 - u) = .3/.5 * .8 = .48 (triangle, gamma .3)."""
    assert _grad_of(lambda o: o["z"][0, 0, 0]) == pytest.approx(0.48, abs=1e-12)


def test_reset_gradient_follows_detach_reset_only():
    """v1 = alpha v0 + w x1 - v_th z0: dv1/dw = .5 + 1 - .5 * dz0/dw = 1.5 - .5 * .48 = 1.26
    with the reset kept, 1.5 with it detached; detach_recurrent alone keeps the reset."""
    v1 = lambda o: o["v"][1, 0, 0]  # noqa: E731
    assert _grad_of(v1) == pytest.approx(1.26, abs=1e-12)
    assert _grad_of(v1, detach_reset=True) == pytest.approx(1.5, abs=1e-12)
    assert _grad_of(v1, detach_recurrent=True) == pytest.approx(1.26, abs=1e-12)
