"""NEST's e-prop regression tests reproduced in infodyn (float64) through ``from_nest``.

The expected losses are the hard-coded reference values of NEST 3.10's
``testsuite/pytests/synapses/test_eprop_bsshslm_2020_plasticity.py`` (``test_eprop_regression``:
LIF pattern generation, MSE, gradient descent; ``test_eprop_classification``: 50 LIF + 50 ALIF
units, refractoriness, cross-entropy on a recall window, Adam, batch 1 and 2). The networks,
weights, inputs and targets are drawn with NumPy's legacy generator in the order NEST's tests
draw them; NEST simulates them with its kernel, infodyn with its own e-prop. Nothing of NEST runs
here.
"""

from __future__ import annotations

import numpy as np
import pytest

from infodyn.errors import InputError
from infodyn.learning.gradients import evaluate
from infodyn.learning.nest import from_nest

NEST_REGRESSION = [
    101.964356999041,
    103.466731126205,
    103.340607074771,
    103.680244037686,
    104.412775748752,
]
NEST_CLASSIFICATION = {
    1: [0.741152550006, 0.740388187700, 0.665785233177, 0.663644193322, 0.729428962844],
    2: [0.702163370672, 0.735555303152, 0.740354864111, 0.683882815282, 0.707841122268],
}


def _readout(loss: str, tau_m: float) -> dict:
    return {
        "C_m": 1.0,
        "E_L": 0.0,
        "I_e": 0.0,
        "loss": loss,
        "regular_spike_arrival": False,
        "tau_m": tau_m,
        "V_m": 0.0,
    }


def _input_and_recurrent(rs: np.random.RandomState, n_in: int, n_rec: int):
    """NEST's tests: float32 N(0, 1/n) matrices [target, source], no autapses."""
    w_in = np.array(rs.randn(n_in, n_rec).T / np.sqrt(n_in), dtype=np.float32)
    w_rec = np.array(rs.randn(n_rec, n_rec).T / np.sqrt(n_rec), dtype=np.float32)
    np.fill_diagonal(w_rec, 0.0)
    return w_in, w_rec


def _surrogate(params: dict) -> dict:
    params["surrogate_gradient_height"] /= params["V_th"]
    params["surrogate_gradient_width"] *= abs(params["V_th"])
    return params


@pytest.mark.slow
def test_nest_eprop_regression_losses():
    rs = np.random.RandomState(1)  # NEST's test: np.random.seed(1), legacy draws in this order
    n_in, n_rec, n_out, T = 100, 100, 1, 1000
    rec = _surrogate(
        {
            "C_m": 1.0,
            "c_reg": 300.0,
            "E_L": 0.0,
            "f_target": 10.0,
            "I_e": 0.0,
            "regular_spike_arrival": False,
            "surrogate_gradient_function": "piecewise_linear",
            "surrogate_gradient_height": 0.3,
            "surrogate_gradient_width": 1.0,
            "t_ref": 0.0,
            "tau_m": 30.0,
            "V_m": 0.0,
            "V_th": 0.03,
        }
    )
    out = _readout("mean_squared_error", 30.0)
    f32 = np.float32
    w_in, w_rec = _input_and_recurrent(rs, n_in, n_rec)
    w_out = np.array(rs.randn(n_rec, n_out).T / np.sqrt(n_rec), dtype=f32)
    feedback = np.array(rs.randn(n_rec, n_out) / np.sqrt(n_rec), dtype=f32)
    x = (rs.rand(T, n_in) < 0.05).astype(np.float64)
    x[0] = 0
    amp, phase = rs.uniform(0.5, 2.0, 4), rs.uniform(0.0, 2.0 * np.pi, 4)
    sines = sum(
        a * np.sin(np.linspace(p, p + 2.0 * np.pi * (T // per), T))
        for a, p, per in zip(amp, phase, [1000, 500, 333, 200], strict=True)
    )
    sines -= sines[0]
    sines /= max(np.abs(sines).max(), 1e-6)

    setup = from_nest(
        n_in,
        rec,
        n_rec,
        out,
        n_out,
        sequence_steps=T,
        optimizer={"type": "gradient_descent", "eta": 1e-4},
    )
    assert setup.net.n_ref == 0 and setup.net.input_scaling == "one_minus_alpha"
    params = setup.params(w_in, w_rec, w_out)
    opt = setup.optimizer()
    target = setup.regression_target(sines[None])
    for expected in NEST_REGRESSION:
        ev = evaluate(
            setup.net,
            params,
            x,
            target,
            setup.loss,
            feedback="random",
            feedback_matrix=feedback.astype(np.float64),
            precision="float64",
        )
        assert ev.terms["mse"] == pytest.approx(expected, rel=1e-10, abs=0)
        params = opt.step(params, ev.grads)


def _evidence_accumulation(rs, batch_size: int, n_in: int, T: int):
    n_pop, n_cues, cue, spacing, recall = n_in // 4, 7, 100, 50, 150
    choices = np.array([0.3, 0.7], dtype=np.float32)
    idx = rs.choice([0, 1], batch_size)
    probs = np.zeros((batch_size, 2), dtype=np.float32)
    probs[:, 0], probs[:, 1] = choices[idx], choices[1 - idx]
    cues = np.zeros((batch_size, n_cues), dtype=int)
    for b in range(batch_size):
        cues[b] = rs.choice([0, 1], n_cues, p=probs[b])
    p = np.zeros((batch_size, T, n_in))
    for b in range(batch_size):
        for c in range(n_cues):
            start = c * (cue + spacing) + spacing
            p[b, start : start + cue, cues[b, c] * n_pop : (cues[b, c] + 1) * n_pop] = 0.04
    p[:, -recall:, 2 * n_pop : 3 * n_pop] = 0.04
    p[:, :, 3 * n_pop :] = 0.01
    spikes = p > rs.rand(p.size).reshape(p.shape)
    spikes[:, 0, :] = 0
    return spikes.astype(np.float64), (cues.sum(axis=1) > n_cues // 2).astype(int)


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [1, 2])
def test_nest_eprop_classification_losses(batch_size):
    rs = np.random.RandomState(1)
    n_in, n_rec, n_out, n_ad, T, recall = 40, 100, 2, 50, 2250, 150
    reg = _surrogate(
        {
            "C_m": 1.0,
            "c_reg": 300.0,
            "E_L": 0.0,
            "f_target": 10.0,
            "I_e": 0.0,
            "regular_spike_arrival": True,
            "surrogate_gradient_function": "piecewise_linear",
            "surrogate_gradient_height": 0.3,
            "surrogate_gradient_width": 1.0,
            "t_ref": 5.0,
            "tau_m": 20.0,
            "V_m": 0.0,
            "V_th": 0.6,
        }
    )
    ad = {
        **reg,
        "adapt_tau": 2000.0,
        "adaptation": 0.0,
        "adapt_beta": 1.7 * (1.0 - np.exp(-1.0 / 2000.0)) / (1.0 - np.exp(-1.0 / 20.0)),
    }
    out = _readout("cross_entropy", 20.0)
    f32 = np.float32
    w_in, w_rec = _input_and_recurrent(rs, n_in, n_rec)
    limit = np.sqrt(3.0 / max(1.0, (n_rec + n_out) / 2.0))  # Glorot uniform
    w_out = np.array(rs.uniform(-limit, limit, size=(n_rec, n_out)).T, dtype=f32)
    feedback = np.array(rs.randn(n_rec, n_out), dtype=f32).astype(np.float64)
    data = [_evidence_accumulation(rs, batch_size, n_in, T) for _ in range(5)]

    setup = from_nest(
        n_in,
        reg,
        n_rec,
        out,
        n_out,
        adaptive=ad,
        n_adaptive=n_ad,
        sequence_steps=T,
        learning_window=recall,
        average_gradient=True,
        optimizer={
            "type": "adam",
            "beta_1": 0.9,
            "beta_2": 0.999,
            "epsilon": 1e-8,
            "eta": 5e-3,
            "Wmin": -100.0,
            "Wmax": 100.0,
        },
    )
    assert setup.net.n_ref == 4 and setup.net.n_adaptive == n_ad  # t_ref = 5 steps blocks 4
    params = setup.params(w_in, w_rec, w_out)
    opt = setup.optimizer()
    for (x, labels), expected in zip(data, NEST_CLASSIFICATION[batch_size], strict=True):
        ev = evaluate(
            setup.net,
            params,
            x,
            setup.classification_target(labels),
            setup.loss,
            feedback="random",
            feedback_matrix=feedback,
            precision="float64",
        )
        assert ev.terms["xent"] == pytest.approx(expected, rel=1e-10, abs=0)
        params = opt.step(params, ev.grads)


_NEUTRAL = {"C_m": 1.0, "E_L": 0.0, "V_m": 0.0}  # written out: NEST's defaults differ


def test_untranslatable_settings_raise():
    rec = {
        **_NEUTRAL,
        "t_ref": 0.0,
        "tau_m": 20.0,
        "V_th": 0.6,
        "surrogate_gradient_height": 0.5,
        "surrogate_gradient_width": 1.0,
    }
    out = {**_NEUTRAL, "tau_m": 20.0, "regular_spike_arrival": False}
    with pytest.raises(InputError, match="width"):
        from_nest(2, rec, 3, out, 1, sequence_steps=10)
    with pytest.raises(InputError, match="E_L"):
        from_nest(
            2, {**rec, "surrogate_gradient_width": 0.6, "E_L": -70.0}, 3, out, 1, sequence_steps=10
        )
    with pytest.raises(InputError, match="regular_spike_arrival"):
        from_nest(
            2,
            {**rec, "surrogate_gradient_width": 0.6},
            3,
            {**_NEUTRAL, "tau_m": 20.0},
            1,
            sequence_steps=10,
        )


def test_nest_parameters_not_translated_are_refused_and_the_older_surrogate_names_read():
    """Keys from_nest did not read were dropped unsaid: NEST's older surrogate gamma = 0.3
    (and beta) gave infodyn's default gamma of 1.0, 3.3 times the pseudo-derivative; a finite
    V_min (NEST's clamp) or a misspelt key went unnoticed."""
    base = {**_NEUTRAL, "I_e": 0.0, "t_ref": 0.0, "V_th": 1.0, "tau_m": 20.0}
    out = {**_NEUTRAL, "tau_m": 20.0, "loss": "mean_squared_error", "regular_spike_arrival": False}
    old = {**base, "surrogate_gradient_function": "piecewise_linear", "beta": 1.0, "gamma": 0.3}
    assert from_nest(3, old, 5, out, 1, sequence_steps=10).net.gamma == pytest.approx(0.3)
    new = {**base, "surrogate_gradient_height": 0.3, "surrogate_gradient_width": 1.0}
    assert from_nest(3, new, 5, out, 1, sequence_steps=10).net.gamma == pytest.approx(0.3)
    cases = [
        ({**old, "beta": 2.0}, out, "beta=2.0: the surrogate's width 1 / beta must equal"),
        # NEST 3.7-3.8 and later versions read gamma and beta apart unless V_th = 1
        ({**old, "V_th": 0.03}, out, "gamma and beta with V_th=0.03: NEST's versions read"),
        ({**old, "surrogate_gradient_height": 0.3}, out, "not both"),
        ({**base, "tau_syn": 5.0}, out, "recurrent neurons: tau_syn not translated"),
        ({**base, "V_min": -70.0}, out, "V_min=-70 clamps the potential"),
        (new, {**out, "tau_M": 20.0}, "readout: tau_M not translated"),
    ]
    for rec, readout, message in cases:
        with pytest.raises(InputError, match=message):
            from_nest(3, rec, 5, readout, 1, sequence_steps=10)
    from_nest(3, {**new, "V_min": -np.inf}, 5, out, 1, sequence_steps=10)  # NEST's default


def _small_nest_setup(dt: float, **rec_extra):
    rec = {
        **_NEUTRAL,
        "t_ref": 0.0,
        "tau_m": 20.0,
        "V_th": 0.6,
        "surrogate_gradient_height": 0.5,
        "surrogate_gradient_width": 0.6,
        **rec_extra,
    }
    out = {**_NEUTRAL, "tau_m": 20.0, "loss": "mean_squared_error", "regular_spike_arrival": False}
    return rec, out


def test_missing_parameters_whose_nest_default_differs_are_refused_by_name():
    """A dict without C_m, E_L, V_m, t_ref or the surrogate was built with infodyn's values
    (C_m 1, t_ref 0, height 1) where NEST 3.10 builds C_m 250, E_L -70, t_ref 2 ms, height 0.3;
    a missing V_th or tau_m was a bare KeyError."""
    rec, out = _small_nest_setup(1.0)
    for key in ("C_m", "E_L", "V_m", "t_ref", "V_th", "tau_m", "surrogate_gradient_height"):
        short = {k: v for k, v in rec.items() if k != key}
        with pytest.raises(InputError, match=rf"give {key}"):
            from_nest(2, short, 3, out, 1, sequence_steps=10)
    for key in ("C_m", "tau_m"):
        with pytest.raises(InputError, match=rf"readout: give {key}"):
            from_nest(2, rec, 3, {k: v for k, v in out.items() if k != key}, 1, sequence_steps=10)
    with pytest.raises(InputError, match="flush_event_send_interval not translated .* remove"):
        from_nest(2, {**rec, "flush_event_send_interval": 500.0}, 3, out, 1, sequence_steps=10)
    with pytest.warns(UserWarning, match="reports f_target in spikes per ms"):
        from_nest(2, {**rec, "c_reg": 1.0, "f_target": 0.01}, 3, out, 1, sequence_steps=10)


@pytest.mark.parametrize("dt", [1.0, 0.5, 0.1])
def test_the_rate_regulariser_is_nests_in_spikes_per_step_at_any_dt(dt):
    """NEST's regulariser c_reg/2 sum_j (f_j - f*)^2 takes rates in spikes per step (f* in Hz x
    dt/1000); infodyn's takes Hz, so c = c_reg (dt/1000)^2. It was c_reg/1e6 at every dt: 4x too
    strong at dt = 0.5 ms (a NEST 3.10 run of its sine-wave example at dt = 0.5 ms then differed
    by 1.1 % from the second iteration; with (dt/1000)^2 its losses agree to 1e-15)."""
    rec, out = _small_nest_setup(dt, c_reg=300.0, f_target=10.0)
    T = 400
    setup = from_nest(4, rec, 6, out, 1, sequence_steps=T, dt=dt)
    rs = np.random.RandomState(0)
    params = {
        "w_in": rs.randn(4, 6) * 2.0,
        "w_rec": rs.randn(6, 6) * 0.3 * (1 - np.eye(6)),
        "w_out": rs.randn(6, 1),
    }
    x = (rs.rand(1, T, 4) < 0.2).astype(np.float64)
    ev = evaluate(setup.net, params, x, np.zeros((1, T, 1)), setup.loss, precision="float64")
    spikes = np.asarray(setup.net.simulate(params, x[0], engine="event").z)
    per_step = spikes.sum(0) / T  # spikes per step of each unit
    nest = 0.5 * 300.0 * np.sum((per_step - 10.0 * dt / 1000.0) ** 2)
    assert spikes.sum() > 0
    assert float(ev.terms["rate_reg"]) == pytest.approx(nest, rel=1e-9)
