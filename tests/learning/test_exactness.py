"""e-prop against float64 autodiff: exact where theory says so, different where it must be."""

from dataclasses import dataclass
from typing import ClassVar

import jax
import numpy as np
import pytest

import infodyn as idn
from infodyn.learning import (
    FiringRateRegularizer,
    MeanSquaredError,
    PopulationRateVariance,
    SoftmaxCrossEntropy,
    evaluate,
    gradients,
    random_feedback,
)
from infodyn.learning.losses import LossTerm


def cosine(a, b):
    a = np.concatenate([np.ravel(a[k]) for k in ("w_in", "w_rec")])
    b = np.concatenate([np.ravel(b[k]) for k in ("w_in", "w_rec")])
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


CONFIGS = {
    # LIF, refractory, input scaling of the e-prop code, MSE + firing-rate regulariser
    "lif": (
        dict(
            model="lif",
            n_in=6,
            n_rec=10,
            n_out=2,
            n_ref=2,
            rec_scale=2.0,
            in_scale=3.0,
            input_scaling="one_minus_alpha",
        ),
        MeanSquaredError() + FiringRateRegularizer(weight=1e-4, f_target_hz=10.0),
        False,
    ),
    # ALIF (half adaptive), refractory, scaled readout, cross-entropy + variance + regulariser
    "alif": (
        dict(
            model="alif",
            n_in=6,
            n_rec=10,
            n_out=2,
            n_ref=1,
            rec_scale=2.0,
            in_scale=3.0,
            tau_a=60.0,
            beta_a=0.02,
            n_alif=5,
            readout_scaling="one_minus_kappa",
            surrogate="fast_sigmoid",
        ),
        SoftmaxCrossEntropy()
        + PopulationRateVariance(weight=1e-8, s_target=10.0)
        + FiringRateRegularizer(weight=1e-4, f_target_hz=10.0),
        True,
    ),
}


def _net(cfg):
    cfg = dict(cfg)
    cls = idn.network.ALIF if cfg.pop("model") == "alif" else idn.network.LIF
    return cls(**cfg)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_eprop_equals_stopgrad_bptt_and_readout_equals_bptt(name, max_rel, spike_input):
    cfg, loss, onehot = CONFIGS[name]
    net = _net(cfg)
    params = net.init(seed=1)
    x, tgt = spike_input(net.n_in, net.n_out, onehot=onehot)
    e = evaluate(net, params, x, tgt, loss, method="eprop", precision="float64")
    s = evaluate(net, params, x, tgt, loss, method="bptt_stopgrad", precision="float64")
    b = evaluate(net, params, x, tgt, loss, method="bptt", precision="float64")
    assert 0.02 < e.activity.mean() / net.n_rec < 0.5  # the network is active, not saturated
    assert e.loss == pytest.approx(s.loss, rel=1e-12)
    for key in ("w_in", "w_rec", "w_out"):
        assert np.max(np.abs(np.asarray(s.grads[key]))) > 0
        assert max_rel(e.grads[key], s.grads[key]) <= 1e-10, key
    # the readout gradient is exact in every configuration, also against full BPTT
    assert max_rel(e.grads["w_out"], b.grads["w_out"]) <= 1e-10
    # and it does not depend on the feedback matrix
    r = evaluate(
        net,
        params,
        x,
        tgt,
        loss,
        method="eprop",
        feedback="random",
        feedback_matrix=random_feedback(net.n_rec, net.n_out, 3),
        precision="float64",
    )
    assert max_rel(r.grads["w_out"], b.grads["w_out"]) <= 1e-10
    assert max_rel(r.grads["w_in"], e.grads["w_in"]) > 1e-3  # but the hidden ones do


def test_no_recurrence_detached_reset_equals_bptt_and_kept_reset_differs(max_rel, spike_input):
    net = idn.network.LIF(n_in=6, n_rec=10, n_out=1, in_scale=4.0, n_ref=0)
    params = net.init(seed=2)
    params["w_rec"] = np.zeros_like(params["w_rec"])
    x, tgt = spike_input(net.n_in, net.n_out, steps=100)
    e = evaluate(net, params, x, tgt, "mse", method="eprop", precision="float64")
    d = evaluate(net, params, x, tgt, "mse", method="bptt", reset="detach", precision="float64")
    k = evaluate(net, params, x, tgt, "mse", method="bptt", reset="through", precision="float64")
    assert e.activity.sum() > 20
    for key in ("w_in", "w_rec", "w_out"):
        assert max_rel(e.grads[key], d.grads[key]) <= 1e-10, key
    # negative control: the gradient through the reset is real and e-prop does not see it
    assert cosine(e.grads, k.grads) < 0.999
    assert max_rel(e.grads["w_out"], k.grads["w_out"]) <= 1e-10


def test_the_explosion_message_suits_the_method():
    # e-prop was told to "use reset='through', or train with method='eprop'", and "nan > 1e8"
    from infodyn.learning.gradients import explosion_message

    eprop = explosion_message("eprop", "through", float("nan"), 1e8)
    assert eprop == (
        "eprop gradient exploded (is not finite); lower the learning rate or the recurrent weights"
    )
    bptt = explosion_message("bptt", "through", 2e9, 1e8)
    assert "(norm 2e+09 > 1e+08)" in bptt and "reset=" not in bptt and "method='eprop'" in bptt
    # a finite norm may be the loss's own scale (a rate variance in Hz^2 on 8 units at 140 Hz
    # passed 1e8 at the first step, and the advice was the learning rate alone)
    assert bptt.endswith("lower its terms' weights or raise explode_threshold (1e+08)")


def test_exploding_bptt_is_caught():
    net = idn.network.LIF(n_in=10, n_rec=30, n_out=1, rec_scale=2.0, in_scale=3.0)
    params = net.init(seed=0)
    rng = np.random.default_rng(0)
    steps = 1000
    x = (rng.random((1, steps, 10)) < 0.05).astype(float)
    tgt = np.sin(np.arange(steps) / 50.0)[None, :, None]
    args = (net, params, x, tgt, "mse")
    with pytest.raises(
        idn.learning.GradientExplosionError,
        match=r"bptt gradient exploded \(norm .* > 1e\+08\); .*use reset='through', or train "
        "with method='eprop'",
    ):
        evaluate(*args, method="bptt", reset="detach", precision="float64")
    # the explosion is real (a finite norm above the threshold, not a NaN) ...
    b = evaluate(
        *args, method="bptt", reset="detach", precision="float64", explode_threshold=np.inf
    )
    assert np.isfinite(b.grad_norm) and b.grad_norm > 1e8
    # ... and e-prop, on the same network, stays many orders of magnitude below it
    e = evaluate(*args, method="eprop", precision="float64")
    assert e.grad_norm < 1e-4 * b.grad_norm


def _window(
    net, params, loss, xt, tt, *, filtered=False, lookahead=False, carry=None, dtype=np.float64
):
    """``eprop_window`` (readout filter on, symmetric feedback) over time-major ``xt``, ``tt``
    from rest with filtered traces when ``filtered``, or from ``carry``."""
    from infodyn.learning.eprop import eprop_window, zero_carry
    from infodyn.learning.losses import as_loss
    from infodyn.network.dynamics import Constants

    lossc = as_loss(loss)
    if carry is None:
        carry = zero_carry(
            xt.shape[1], net.n_in, net.n_rec, net.n_out, dtype, net.n_adaptive, filtered
        )
    beta = jax.numpy.asarray(net.beta_vector(), dtype)
    return eprop_window(
        Constants.of(net),
        lossc,
        net.dt,
        net.n_adaptive,
        True,
        not lossc.online,
        params,
        beta,
        params["w_out"],
        carry,
        xt,
        tt,
        lookahead=lookahead,
    )


@pytest.mark.parametrize("adaptive", [True, False])
def test_online_windows_sum_to_the_sequence_gradient(adaptive, max_rel, spike_input):
    """Traces carried across windows: the window gradients of an online loss add up exactly
    (LIF: also across the chunks of the chunked accumulation, CHUNK = 50 > window)."""
    from infodyn.learning.eprop import zero_carry

    net = idn.network.ALIF(
        n_in=5,
        n_rec=8,
        n_out=1,
        in_scale=3.0,
        rec_scale=2.0,
        tau_a=40.0,
        beta_a=0.02,
        n_alif=4 if adaptive else 0,
    )
    params = {k: jax.numpy.asarray(v) for k, v in net.init(seed=4).items()}
    x, tgt = spike_input(net.n_in, net.n_out, steps=120, batch=2)
    xt, tt = np.swapaxes(x, 0, 1), np.swapaxes(tgt, 0, 1)
    full, *_ = _window(net, params, "mse", xt, tt, filtered=True)
    k = zero_carry(2, 5, 8, 1, np.float64, net.n_adaptive, True)
    total = {key: 0.0 for key in full}
    for start in (0, 40, 80):
        g, _, _, _, k = _window(
            net, params, "mse", xt[start : start + 40], tt[start : start + 40], carry=k
        )
        total = {key: total[key] + np.asarray(g[key]) * 40 / 120 for key in g}
    for key in full:
        assert max_rel(total[key], full[key]) <= 1e-10


def test_alif_rate_losses_without_readout_equal_stopgrad_bptt(alif_rate_case, max_rel):
    """ALIF traces on the unfiltered path (no readout term: the deck's rate and variance
    losses), across a chunk boundary (130 steps: chunks of 50, 50 and 30)."""
    net, x, tgt, loss = alif_rate_case
    params = net.init(seed=2)
    e = evaluate(net, params, x, tgt, loss, method="eprop", precision="float64")
    s = evaluate(net, params, x, tgt, loss, method="bptt_stopgrad", precision="float64")
    assert 0.02 < e.activity.mean() / net.n_rec < 0.5
    for key in ("w_in", "w_rec"):
        assert np.max(np.abs(np.asarray(s.grads[key]))) > 0
        assert max_rel(e.grads[key], s.grads[key]) <= 1e-10, key


@pytest.mark.parametrize("method", ["bptt", "bptt_stopgrad"])
def test_checkpointed_bptt_equals_plain_bptt(method, max_rel, spike_input):
    """Rematerialised chunks (T = 80: eight chunks of 9 steps and a remainder of 8) give the
    gradients of the plain scan."""
    cfg, loss, onehot = CONFIGS["alif"]
    net = _net(cfg)
    params = net.init(seed=3)
    x, tgt = spike_input(net.n_in, net.n_out, onehot=onehot)
    a = evaluate(net, params, x, tgt, loss, method=method, precision="float64")
    b = evaluate(net, params, x, tgt, loss, method=method, precision="float64", remat=False)
    assert a.loss == pytest.approx(b.loss, rel=1e-13)
    np.testing.assert_array_equal(a.activity, b.activity)
    for key in ("w_in", "w_rec", "w_out"):
        assert max_rel(a.grads[key], b.grads[key]) <= 1e-12, key


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_lookahead_readout_filter_equals_carried_filtered_traces(name, max_rel, spike_input):
    """The two exact readout filters agree: ``G`` filtered backwards from the recorded readout
    error (one window = the sequence) and per-synapse ``ebar`` carried forward (online), across
    chunk boundaries (130 steps), with ALIF threshold traces and a two-pass loss."""
    kwargs, loss, onehot = CONFIGS[name]
    net = _net(kwargs)
    params = {k: jax.numpy.asarray(v) for k, v in net.init(seed=3).items()}
    x, tgt = spike_input(net.n_in, net.n_out, steps=130, onehot=onehot)
    xt, tt = np.swapaxes(x, 0, 1), np.swapaxes(tgt, 0, 1)
    out = {}
    for ahead in (True, False):
        out[ahead], *_ = _window(net, params, loss, xt, tt, filtered=not ahead, lookahead=ahead)
    for key in ("w_in", "w_rec", "w_out"):
        assert np.max(np.abs(np.asarray(out[False][key]))) > 1e-8
        assert max_rel(out[True][key], out[False][key]) <= 1e-12


def test_lookahead_first_pass_replays_the_same_trajectory_in_float32(max_rel, spike_input):
    """The look-ahead filter is exact only if its first (readout-error) pass sees the spikes of
    the main pass: compiled separately, the two must agree bitwise (float32, 400 steps)."""
    import jax.numpy as jnp

    from infodyn.learning.eprop import _forward_pass, zero_carry
    from infodyn.learning.losses import as_loss
    from infodyn.network.dynamics import Constants

    net = idn.network.LIF(n_in=20, n_rec=64, n_out=2, in_scale=3.0, rec_scale=2.0)
    params = {k: jnp.asarray(v, jnp.float32) for k, v in net.init(seed=5).items()}
    x, tgt = spike_input(net.n_in, net.n_out, steps=400, batch=4)
    xt, tt = (jnp.asarray(np.swapaxes(a, 0, 1), jnp.float32) for a in (x, tgt))
    loss = as_loss("mse")
    state0 = zero_carry(4, net.n_in, net.n_rec, net.n_out, jnp.float32, 0, False).state
    cot = jax.grad(lambda s: loss.total(s, 400, net.dt))(
        loss.zero_stats(state0.z, state0.y, tt[0], net.dt)
    )
    _, ly = jax.jit(
        lambda: _forward_pass(
            Constants.of(net),
            loss,
            net.dt,
            params,
            jnp.zeros(net.n_rec, jnp.float32),
            state0,
            xt,
            tt,
            cot,
        )
    )()
    g_look, _, act_look, y, _ = _window(
        net, params, loss, xt, tt, lookahead=True, dtype=jnp.float32
    )
    assert float(jnp.mean(act_look)) > 0.5  # spikes happen
    z0 = jnp.zeros((4, net.n_rec), jnp.float32)  # MSE: dE/dy does not read z
    ly_main = jax.vmap(lambda y_t, t_t: loss.signal(cot, z0, y_t, t_t, net.dt)[1])(y, tt)
    np.testing.assert_array_equal(np.asarray(ly), np.asarray(ly_main))
    # and inside eprop_window (its first pass compiled with the rest): the carried filter, which
    # has no first pass, sees the same spikes and gives the same gradient to float32 rounding
    g_car, _, act_car, _, _ = _window(net, params, loss, xt, tt, filtered=True, dtype=jnp.float32)
    np.testing.assert_array_equal(np.asarray(act_look), np.asarray(act_car))
    for key in ("w_in", "w_rec", "w_out"):
        assert max_rel(g_look[key], g_car[key]) <= 1e-5


def test_lookahead_refuses_a_carry_with_filtered_traces(spike_input):
    """A look-ahead window starts a sequence: silently dropping carried filtered traces would
    lose their contribution, so such a carry is refused."""
    net = idn.network.LIF(n_in=3, n_rec=4, n_out=1)
    params = {k: jax.numpy.asarray(v) for k, v in net.init(seed=0).items()}
    x, tgt = spike_input(3, 1, steps=10, batch=2)
    with pytest.raises(ValueError, match="lookahead"):
        _window(
            net,
            params,
            "mse",
            np.swapaxes(x, 0, 1),
            np.swapaxes(tgt, 0, 1),
            filtered=True,
            lookahead=True,
        )


@dataclass(frozen=True)
class SquaredMeanReadout(LossTerm):
    """``(mean_{b,t} sum_k y_k - c)^2``: a readout term whose reduction is not linear, so its
    learning signal is known only after the sequence (three-pass look-ahead e-prop)."""

    c0: float = 0.3
    name: ClassVar[str] = "squared_mean_readout"
    online: ClassVar[bool] = False
    uses_output: ClassVar[bool] = True

    def step_stats(self, z_t, y_t, target_t, dt):
        return jax.numpy.sum(y_t, axis=-1)

    def reduce(self, stats, n_steps, dt):
        return (jax.numpy.mean(stats) / n_steps - self.c0) ** 2


def test_nonlinear_readout_term_and_all_adaptive_alif_equal_stopgrad_bptt(max_rel, spike_input):
    """The look-ahead pass of its own (a readout term with a nonlinear reduction, beside a
    two-pass rate term) on an ALIF network whose every unit adapts, across chunk boundaries."""
    net = idn.network.ALIF(
        n_in=6,
        n_rec=8,
        n_out=2,
        n_ref=1,
        rec_scale=2.0,
        in_scale=3.0,
        tau_a=60.0,
        beta_a=0.05,
        n_alif=None,
    )
    assert net.n_adaptive == net.n_rec
    params = net.init(seed=6)
    x, tgt = spike_input(net.n_in, net.n_out, steps=130)
    loss = (
        MeanSquaredError()
        + SquaredMeanReadout(weight=2.0)
        + PopulationRateVariance(weight=1e-8, s_target=10.0)
    )
    e = evaluate(net, params, x, tgt, loss, method="eprop", precision="float64")
    b = evaluate(net, params, x, tgt, loss, method="bptt_stopgrad", precision="float64")
    for key in ("w_in", "w_rec", "w_out"):
        assert np.max(np.abs(np.asarray(b.grads[key]))) > 1e-8
        assert max_rel(e.grads[key], b.grads[key]) <= 1e-10, key


def test_unfiltered_readout_signal_is_exact_only_without_readout_memory(max_rel, spike_input):
    """``filter_readout=False`` drops the kappa filter from the readout's learning signal: exact
    when the readout has no memory (tau_out -> 0, kappa = 0), different when it has."""
    grads = {}
    for tau_out in (1e-3, 30.0):
        net = idn.network.LIF(
            n_in=6, n_rec=10, n_out=2, rec_scale=2.0, in_scale=3.0, tau_out=tau_out
        )
        params = net.init(seed=7)
        x, tgt = spike_input(net.n_in, net.n_out, steps=90)
        grads[tau_out] = [
            gradients(
                net, params, x, tgt, "mse", method="eprop", filter_readout=f, precision="float64"
            )
            for f in (True, False)
        ]
    exact, plain = grads[1e-3]
    assert max_rel(plain["w_rec"], exact["w_rec"]) <= 1e-12
    exact, plain = grads[30.0]
    assert max_rel(plain["w_rec"], exact["w_rec"]) > 1e-2
