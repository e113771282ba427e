"""Hand-computed 1-2 neuron cases: reset, refractoriness, ALIF and recurrence, both engines."""

import math

import numpy as np
import pytest

import infodyn as idn

ENGINES = ["jax", "event"]
HALF = 1.0 / math.log(2.0)  # tau giving a decay factor of exactly 0.5 at dt = 1


def _single(net_cls=idn.network.LIF, **kw):
    net = net_cls(n_in=1, n_rec=1, n_out=1, tau_m=HALF, tau_out=HALF, v_th=1.0, **kw)
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
