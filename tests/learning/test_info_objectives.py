"""Information objectives: closed-form learning signals, e-prop == BPTT where exact, estimators."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from infodyn.errors import InputError
from infodyn.learning import Trainer, TrainOptions, gradients
from infodyn.learning.info_objectives import (
    InfoMaxBound,
    InformationBottleneck,
    TotalCorrelationPenalty,
    decorrelation_objective,
    objective_learning_signals,
    sequence_statistics,
    stimulus_entropy_bits,
    window_target,
)
from infodyn.learning.losses import LossTerm, as_loss
from infodyn.network import LIF, poisson_spikes

B, T, K = 6, 40, 3
LABELS = np.arange(B) % K


def _problem():
    net = LIF(n_in=8, n_rec=6, n_out=K, in_scale=6.0, rec_scale=1.0)
    params = net.init(seed=1)
    rates = np.random.default_rng(0).uniform(5, 80, (K, 8))
    x = np.stack([poisson_spikes(rates[s], T, seed=10 + b) for b, s in enumerate(LABELS)])
    return net, params, x, window_target(LABELS, T, K, 10)


OBJECTIVES = {
    "infomax": InfoMaxBound(),
    "decorrelation_gaussian": decorrelation_objective(tc_weight=1.0, r0_hz=20.0),
    "bottleneck": InformationBottleneck(labels=tuple(LABELS), gamma=0.3),
}


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_eprop_equals_autodiff_where_exact(name):
    """e-prop with the closed-form learning signal == BPTT with the gradient through z stopped
    in the recurrent input and the reset (the configuration in which e-prop is exact)."""
    net, params, x, tgt = _problem()
    loss = OBJECTIVES[name]
    ge = gradients(net, params, x, tgt, loss, method="eprop", precision="float64")
    gb = gradients(net, params, x, tgt, loss, method="bptt_stopgrad", precision="float64")
    for key in ("w_in", "w_rec", "w_out"):
        a, b = np.asarray(ge[key]), np.asarray(gb[key])
        scale = np.max(np.abs(b))
        if key != "w_out" or as_loss(loss).uses_output:
            assert scale > 1e-6, (name, key)  # a gradient that is there
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10 * max(scale, 1.0))


TS = 12  # steps of the random trajectories used for the closed-form checks


def _random_trajectory(seed=0, n=5, n_out=K):
    rng = np.random.default_rng(seed)
    z = (rng.random((B, TS, n)) < 0.2).astype(np.float64)
    y = rng.normal(size=(B, TS, n_out))
    return z, y


@pytest.mark.parametrize(
    "loss",
    [
        InfoMaxBound(weight=0.7),
        TotalCorrelationPenalty(estimator="gaussian"),
        TotalCorrelationPenalty(estimator="pairwise", weight=2.0),
        InformationBottleneck(labels=tuple(LABELS), gamma=0.5),
    ],
    ids=["infomax", "tc_gauss", "tc_pair", "ib"],
)
def test_closed_form_signal_equals_gradient_of_the_loss(loss):
    """The closed-form learning signal of each objective == jax.grad of E(z, y) (float64)."""
    z, y = _random_trajectory()
    tgt = window_target(LABELS, TS, K, 4)
    lz, ly = objective_learning_signals(loss, z, y, tgt)
    lossc = as_loss(loss)

    def energy(zz, yy):  # E(z, y) = F(sum_t phi_t): differentiated by autodiff
        return lossc.total(sequence_statistics(lossc, zz, yy, tgt), TS, 1.0)

    energy_grad = jax.jit(jax.grad(energy, (0, 1)))
    gz, gy = energy_grad(jnp.asarray(z), jnp.asarray(y))
    np.testing.assert_allclose(np.asarray(lz), np.asarray(gz), atol=1e-12)
    np.testing.assert_allclose(np.asarray(ly), np.asarray(gy), atol=1e-12)
    # and the override agrees with the generic vjp of the step statistics at one step
    t = 7
    stats = sequence_statistics(loss, z, y, tgt)
    cot = jax.grad(lambda s: lossc.total(s, TS, 1.0))(stats)
    term = lossc.terms[0]
    args = (jnp.asarray(z[:, t]), jnp.asarray(y[:, t]), jnp.asarray(tgt[:, t]), 1.0)
    a = term.signal(cot[0], *args)
    b = LossTerm.signal(term, cot[0], *args)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), atol=1e-12)


@pytest.mark.parametrize(
    "z, message",
    [
        (np.zeros((0, 5, 3)), "at least one step"),
        (np.full((2, 5, 3), np.nan), "NaN"),
        ("spikes", "z must be real numbers"),
    ],
)
def test_tc_of_a_batch_that_is_not_spikes_is_refused(z, message):
    """An empty batch or NaN spikes gave (nan, nan matrix), text a raw JAX TypeError."""
    with pytest.raises(InputError, match=message):
        TotalCorrelationPenalty().value_and_grad_cov(z)


def test_gaussian_tc_matches_the_analytic_value():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T + 4 * np.eye(4)
    x = rng.multivariate_normal(np.zeros(4), cov, size=(1, 200_000))
    tc, _ = TotalCorrelationPenalty(eps=1e-12).value_and_grad_cov(x)
    d = np.sqrt(np.diag(cov))
    exact = -0.5 * np.log2(np.linalg.det(cov / np.outer(d, d)))
    assert abs(tc - exact) < 0.01 * exact + 2e-3


def test_pairwise_tc_matches_plugin_tc_of_weakly_correlated_binary_units():
    """Second-order agreement with the plug-in TC ``sum_i H(z_i) - H(z)`` of the 16-state
    histogram, counted here (an approximation check: the pairwise and Gaussian estimators
    are second order in the correlations)."""

    def plugin_bits(codes):
        p = np.bincount(codes) / codes.size
        p = p[p > 0]
        return float(-np.sum(p * np.log2(p)))

    rng = np.random.default_rng(1)
    n, m = 4, 400_000
    common = rng.random(m) < 0.3
    z = (rng.random((m, n)) < 0.15) | (common[:, None] & (rng.random((m, n)) < 0.3))
    z = z.astype(np.float64)
    tc_pair, _ = TotalCorrelationPenalty(estimator="pairwise", eps=1e-12).value_and_grad_cov(
        z[None]
    )
    tc_gauss, _ = TotalCorrelationPenalty(eps=1e-12).value_and_grad_cov(z[None])
    zi = z.astype(np.int64)
    tc_plugin = sum(plugin_bits(zi[:, i]) for i in range(n)) - plugin_bits(zi @ (1 << np.arange(n)))
    assert 0.01 < tc_plugin < 0.1
    assert abs(tc_pair - tc_plugin) < 0.2 * tc_plugin
    assert abs(tc_gauss - tc_plugin) < 0.1 * tc_plugin


def test_bottleneck_terms_equal_plugin_information_of_the_joint_table():
    """I(R~;S) and I(R~;R) from the loss == the same quantities from the explicit joint table."""
    z, y = _random_trajectory(seed=3)
    tgt = window_target(LABELS, TS, K, 4)
    loss = InformationBottleneck(labels=tuple(LABELS), gamma=0.2)
    stats = sequence_statistics(loss, z, y, tgt)[0]
    i_s, i_r = (float(v) for v in loss.terms(stats))
    # explicit joint p(sample, r~) over the scored samples, equal weights
    p = np.exp(y[:, 4:]) / np.exp(y[:, 4:]).sum(-1, keepdims=True)  # (B, Tw, K~)
    n_s = p.shape[0] * p.shape[1]
    joint_rs = p.reshape(n_s, -1) / n_s  # p(r, r~): r = sample index

    def mi(pxy):
        px, py = pxy.sum(1, keepdims=True), pxy.sum(0, keepdims=True)
        nz = pxy > 0
        return float(np.sum(pxy[nz] * np.log2(pxy[nz] / (px @ py)[nz])))

    s_of = np.repeat(LABELS, p.shape[1])
    joint_ss = np.stack([joint_rs[s_of == s].sum(0) for s in range(K)])
    assert abs(i_r - mi(joint_rs)) < 1e-10
    assert abs(i_s - mi(joint_ss)) < 1e-10
    assert abs(float(loss.reduce(stats, TS, 1.0)) - (-(i_s - 0.2 * i_r))) < 1e-12


def test_infomax_bound_reports_bits():
    assert stimulus_entropy_bits([0, 1, 2, 3]) == pytest.approx(2.0)
    assert InfoMaxBound.bound_bits(0.5, [0, 1, 0, 1]) == pytest.approx(0.5)


def test_bad_options_are_input_errors():
    with pytest.raises(InputError, match="estimator"):
        TotalCorrelationPenalty(estimator="knn")
    with pytest.raises(InputError, match="labels"):
        InformationBottleneck(labels=())
    with pytest.raises(InputError, match="start"):
        window_target([0, 1], 10, 2, 12)


def _gaussian_tc_bits(z, eps):
    """0.5 (sum_j log C_jj - log det C) / ln 2 of the pooled covariance plus a ridge."""
    zz = z.reshape(-1, z.shape[-1])
    c = np.cov(zz.T, bias=True) + eps * np.eye(zz.shape[1])
    return 0.5 * (np.sum(np.log(np.diag(c))) - np.linalg.slogdet(c)[1]) / np.log(2.0)


def test_total_correlation_with_a_silent_unit_stays_finite(loss_value):
    """The ridge eps keeps a silent unit finite: the value equals the formula with C + eps I and
    the learning signal is finite."""
    rng = np.random.default_rng(5)
    z = (rng.random((4, 30, 4)) < 0.3).astype(np.float64)
    z[..., 2] = 0.0  # silent
    z[..., 3] = z[..., 0]  # perfectly correlated pair: only eps bounds the TC
    term = TotalCorrelationPenalty(eps=1e-3)
    assert loss_value(term, z) == pytest.approx(_gaussian_tc_bits(z, 1e-3), rel=1e-8)
    with jax.enable_x64(True):
        lz, _ = objective_learning_signals(term, z, np.zeros((*z.shape[:2], 1)), None)
    assert np.all(np.isfinite(np.asarray(lz)))
    with pytest.raises(InputError, match="eps"):
        TotalCorrelationPenalty(eps=0.0)


def _tc_bits_of_cov(c, estimator):
    """TC of a covariance written out in jnp (module docstring, 2), for autodiff."""
    d = jnp.diag(c)
    if estimator == "gaussian":
        return 0.5 * (jnp.sum(jnp.log(d)) - jnp.linalg.slogdet(c)[1]) / np.log(2.0)
    rho = c / jnp.sqrt(jnp.outer(d, d))
    off = rho * (1.0 - jnp.eye(c.shape[0]))
    return 0.5 * jnp.sum(jnp.triu(off, 1) ** 2) / np.log(2.0)


@pytest.mark.parametrize("estimator", ["gaussian", "pairwise"])
def test_total_correlation_gradient_is_dtc_dc(estimator):
    """value_and_grad_cov's G = dTC/dC equals the symmetrised float64 autodiff gradient of
    TC(C) written out in the test (pairwise: 1/2 sum_{i<j} rho_ij^2 / ln 2)."""
    rng = np.random.default_rng(9)
    z = (rng.random((2, 60, 4)) < 0.3).astype(np.float64)
    z[..., 3] = np.maximum(z[..., 3], z[..., 0])  # a correlated pair
    eps = 1e-4
    tc, g = TotalCorrelationPenalty(estimator=estimator, eps=eps).value_and_grad_cov(z)
    zz = z.reshape(-1, 4)
    c = np.cov(zz.T, bias=True) + eps * np.eye(4)
    with jax.enable_x64(True):
        ref_tc = float(_tc_bits_of_cov(jnp.asarray(c), estimator))
        ref_g = np.asarray(jax.grad(_tc_bits_of_cov)(jnp.asarray(c), estimator))
    ref_g = 0.5 * (ref_g + ref_g.T)  # the symmetric gradient (C_ij = C_ji)
    assert tc == pytest.approx(ref_tc, rel=1e-5)  # float32 statistics
    np.testing.assert_allclose(g, ref_g, rtol=1e-4, atol=1e-6 * np.abs(ref_g).max())


def test_bottleneck_ignores_stimulus_ids_absent_from_the_batch(loss_value):
    """Labels (0, 2, ...) name no trial of stimulus 1: value and learning signal are those of
    the same trials labelled (0, 1, ...), and finite."""
    rng = np.random.default_rng(6)
    z = (rng.random((4, 10, 3)) < 0.2).astype(np.float64)
    y = rng.normal(size=(4, 10, 2))
    tgt = window_target([0, 0, 0, 0], 10, 2, 3)  # weights only
    gap = InformationBottleneck(labels=(0, 2, 0, 2), gamma=0.3)
    dense = InformationBottleneck(labels=(0, 1, 0, 1), gamma=0.3)
    assert loss_value(gap, z, y, tgt) == pytest.approx(loss_value(dense, z, y, tgt), rel=1e-12)
    with jax.enable_x64(True):
        _, ly_gap = objective_learning_signals(gap, z, y, tgt)
        _, ly_dense = objective_learning_signals(dense, z, y, tgt)
    assert np.all(np.isfinite(np.asarray(ly_gap)))
    np.testing.assert_allclose(np.asarray(ly_gap), np.asarray(ly_dense), atol=1e-14)
    with pytest.raises(InputError, match="gamma"):
        InformationBottleneck(labels=(0, 1), gamma=-0.5)


def test_bottleneck_refuses_a_task_whose_labels_change_between_batches():
    """PatchTask draws new labels each batch; the bottleneck's labels are fixed, so it trained
    on labels unrelated to the stimuli without a word. A target that groups the trials as the
    labels do (any class names) is taken; one that groups them otherwise is refused."""
    from infodyn.learning.tasks import PatchTask

    task = PatchTask(np.array([[10.0, 200, 50], [200, 10, 50]]), 30, 10)
    net = LIF(n_in=3, n_rec=8, n_out=2)
    loss = InformationBottleneck(labels=(0, 1, 0, 1), gamma=0.1)
    with pytest.raises(InputError, match="labels are fixed when it is made.*PatchTask"):
        Trainer(net, task, loss, TrainOptions(batch_size=4, seed=0)).fit(5)
    net, params, x, _ = _problem()
    fixed = InformationBottleneck(labels=tuple(LABELS), gamma=0.3)
    # columns that are a function of the labels are weights (window_target's docs): renamed,
    # merged (labels % 2, n_out below the number of stimuli) or all zeros
    for columns in ((LABELS + 1) % K, LABELS % 2, np.minimum(LABELS, 1), np.zeros(B, int)):
        gradients(net, params, x, window_target(columns, T, K, 10), fixed, precision="float64")
    split = window_target(np.arange(B) % 2, T, K, 10)  # label 0 on trials 0 and 3: columns 0, 1
    with pytest.raises(InputError, match=r"label 0: columns \[0, 1\]"):
        gradients(net, params, x, split, fixed, precision="float64")


def test_bottleneck_of_a_window_that_scores_no_step_is_zero_with_no_gradient():
    """Online e-prop windows of 10 steps before a response window from step 20: the first two
    windows' bottleneck was 0/0, NaN, reported by the trainer as an exploded gradient."""
    net, params, x, _ = _problem()
    tgt = window_target(LABELS, T, K, 20)
    loss = InformationBottleneck(labels=tuple(LABELS), gamma=0.3)
    with jax.enable_x64(True):
        stats = sequence_statistics(loss, np.zeros((B, 10, 6)), np.zeros((B, 10, K)), tgt[:, :10])
        assert float(as_loss(loss).terms[0].reduce(stats[0], 10, 1.0)) == 0.0
        lz, ly = objective_learning_signals(loss, np.zeros((B, 10, 6)), x[:, :10, :K], tgt[:, :10])
    assert np.all(np.asarray(ly) == 0) and np.all(np.asarray(lz) == 0)

    class Task:
        n_in, n_out = 8, K

        def batch(self, rng, batch_size):
            return x, tgt

        def metrics(self, y, target):
            return {}

    opts = TrainOptions(online_window=10, batch_size=B, lr=1e-3)
    history = Trainer(net, Task(), loss, opts).fit(2)
    assert len(history) == 2 and all(np.isfinite(h["loss"]) for h in history)


def test_window_target_averages_over_the_scored_steps():
    tgt = window_target([2, 0], 10, 3, 4, 8)
    expect = np.zeros((2, 10, 3))
    expect[0, 4:8, 2] = 0.25
    expect[1, 4:8, 0] = 0.25
    np.testing.assert_array_equal(tgt, expect)
    with pytest.raises(InputError, match="start"):
        window_target([0], 10, 2, 5, 5)  # an empty window scores nothing


def test_decorrelation_objective_uses_its_rate_target(loss_value):
    """E = tc_weight TC_G + rate_weight mean_j (r_j - r0)^2, both written out here."""
    rng = np.random.default_rng(7)
    z = (rng.random((3, 40, 4)) < 0.15).astype(np.float64)
    loss = decorrelation_objective(tc_weight=0.5, r0_hz=20.0, rate_weight=2e-3, eps=1e-4)
    r = z.mean(axis=(0, 1)) * 1000.0
    ref = 0.5 * _gaussian_tc_bits(z, 1e-4) + 2e-3 * np.mean((r - 20.0) ** 2)
    assert loss_value(loss, z) == pytest.approx(ref, rel=1e-8)


def test_a_missing_or_empty_target_is_refused_for_the_terms_that_read_it():
    """objective_learning_signals/sequence_statistics read a missing target as zeros (a
    cross-entropy of 0, a NaN bottleneck signal), and a target of zeros in gradients() gave
    the bottleneck 0/0, reported as an exploded gradient ('lower the learning rate')."""
    z, y = np.zeros((4, 10, 3)), np.zeros((4, 10, 2))
    for fn in (objective_learning_signals, sequence_statistics):
        with pytest.raises(InputError, match=r"the loss \['infomax_xent_bits'\] needs a target"):
            fn(InfoMaxBound(), z, y, None)
    net = LIF(n_in=3, n_rec=4, n_out=2)
    x = (np.random.default_rng(0).random((4, 10, 3)) < 0.3).astype(float)
    for loss in (InformationBottleneck(labels=(0, 1, 0, 1)), InfoMaxBound()):
        with pytest.raises(InputError, match=f"scores no step for the loss term '{loss.name}'"):
            gradients(net, net.init(seed=0), x, np.zeros((4, 10, 2)), loss)


@pytest.mark.parametrize("dt", [float("nan"), -1, 0, "3", True])
def test_learning_signals_check_dt(dt):
    import infodyn.learning as L
    from infodyn.errors import InputError

    z = np.zeros((2, 10, 3))
    with pytest.raises(InputError, match="dt must be a finite number > 0"):
        L.objective_learning_signals(L.FiringRateRegularizer(), z, None, None, dt=dt)


def test_small_helpers_refuse_what_they_misread():
    from infodyn.learning.adaptation import (
        LIFAdaptationConfig,
        init_lif_adaptation,
        lif_adaptation_update,
    )

    with pytest.raises(InputError, match="labels go up to 5 but n_stimuli=2"):
        stimulus_entropy_bits([0, 5], n_stimuli=2)  # was 1.0 bit, a third stimulus
    with pytest.raises(InputError, match="cross_entropy_bits"):
        InfoMaxBound.bound_bits("x", [0, 1])
    with pytest.raises(InputError, match="float32's smallest normal"):
        TotalCorrelationPenalty(eps=1e-300)
    rng = np.random.default_rng(0)
    z, y = rng.random((2, 5, 3)) < 0.3, rng.normal(size=(2, 5, 2))
    with pytest.raises(InputError, match="y's width"):  # a raw JAX shape error
        objective_learning_signals(InfoMaxBound(), z.astype(float), y, np.zeros((2, 5, 3)))
    state = init_lif_adaptation(3)
    state["theta"] = np.array([0.0, np.nan, 0.0])
    with pytest.raises(InputError, match="theta holds NaN"):
        lif_adaptation_update(state, z[0], 1.0, LIFAdaptationConfig())
    state = dict(init_lif_adaptation(3), gain=np.ones(2))  # a raw broadcast error
    with pytest.raises(InputError, match="one value per unit each, got shapes"):
        lif_adaptation_update(state, z[0], 1.0, LIFAdaptationConfig())
    with pytest.raises(InputError, match="n_ref=0 steps of 1 ms allows at most 1000 Hz"):
        lif_adaptation_update(init_lif_adaptation(3), z[0], 1.0, LIFAdaptationConfig(2000.0))
