"""Bad input to the learning API: one InputError each, where it enters (an adversarial review's
findings: accepted and ignored, clipped, or a raw error mid-training)."""

from __future__ import annotations

import numpy as np
import pytest

import infodyn as idn
import infodyn.learning as L
from infodyn.errors import InputError
from infodyn.learning.adaptation import LIFAdaptationConfig
from infodyn.learning.info_objectives import InformationBottleneck, window_target
from infodyn.learning.tasks import EvidenceAccumulation, PatchTask, PatternGeneration, RateTask
from infodyn.learning.trainer import Trainer, TrainOptions
from infodyn.network import LIF, StimulusSet

_STIM = StimulusSet.constant(2, 20, 4, seed=0)
NET0 = LIF(n_in=5, n_rec=20, n_out=0)
X = (np.random.default_rng(0).random((2, 60, 4)) < 0.3).astype(float)


def test_the_task_must_be_made_for_the_networks_dt():
    # input drawn for dt = 0.1 ms drove a dt = 1 ms network at a tenth of the rate
    with pytest.raises(InputError, match="differs from the network's dt"):
        Trainer(NET0, RateTask(n_in=5, n_steps=50, rate_hz=50.0, dt=0.1), "mse")
    with pytest.raises(InputError, match="dt must be a finite number > 0 ms"):  # the task's own
        RateTask(n_in=5, n_steps=50, rate_hz=50.0, dt=float("nan"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(checkpoint_every=0), "checkpoint_every must be"),  # ZeroDivisionError at fit
        (dict(batch_size=2.5), "batch_size must be a whole number"),  # TypeError at fit
        (dict(online_window=2.5), "online_window must be a whole number"),
        (dict(lr="0.1"), "lr must be a finite number"),
        (dict(seed=-1), "seed must be a whole number"),
        (dict(momentum=0.9), "momentum is an option of optimizer 'sgd'"),  # Adam ignored it
        (dict(optimizer="sgd", momentum=float("nan")), "momentum must be a finite"),
        (dict(optimizer="sgd", momentum=-0.5), r"momentum must lie in \[0, 1\)"),
        (dict(method="bptt", feedback="adaptive"), "e-prop's"),  # B updated, never used
        (dict(reset="detach"), "reset='detach' is a BPTT option"),  # e-prop ignored it
        (dict(lr_scale=[1]), "lr_scale must be a table"),  # raw TypeError
        (dict(lr_scale={"w_rec": "2"}), "lr_scale\\['w_rec'\\] must be a finite number"),
        (dict(train="w_rec"), "train must be a list of weight names"),  # read letter by letter
        (dict(train=()), "train must name at least one"),  # every iteration changed nothing
        (dict(optimizer=np.array([])), "optimizer must be one of"),  # "ambiguous" ValueError
        (dict(filter_readout="no"), "filter_readout must be true or false"),  # read as true
        (dict(explode_threshold=-1.0), "explode_threshold must be > 0"),  # all "exploded"
    ],
)
def test_train_options_are_checked_when_made(options, message):
    with pytest.raises(InputError, match=message):
        TrainOptions(**options)


def test_trainer_parts_of_the_wrong_kind_are_refused_when_made():
    task = RateTask(n_in=5, n_steps=50)
    with pytest.raises(InputError, match="net must be an infodyn network"):
        Trainer("net", task, "mse")
    with pytest.raises(InputError, match="options must be a TrainOptions"):
        Trainer(NET0, task, "mse", options={})  # {} was read as the defaults
    with pytest.raises(InputError, match="hooks must be TrainHook objects"):
        Trainer(NET0, task, "mse", hooks=[lambda info: None])
    with pytest.raises(InputError, match="sampler must be a function"):
        Trainer(NET0, task, "mse", sampler=3)
    with pytest.raises(InputError, match="options must be a TrainOptions"):
        Trainer(NET0, task, "mse", options={"lr": 0.1})
    with pytest.raises(InputError, match="task must have n_in, n_out and batch"):
        Trainer(NET0, object(), "mse")


def test_cross_entropy_needs_two_readouts():
    # a softmax over one readout is 1: loss 0 and gradient 0 whatever the network did
    net1 = LIF(n_in=4, n_rec=15, n_out=1)
    target = np.ones((2, 60, 1))
    with pytest.raises(InputError, match="needs n_out >= 2"):
        L.evaluate(net1, net1.init(0), X, target, "xent")


def test_gradients_refuse_feedback_bptt_ignores_and_bad_masks():
    net = LIF(n_in=4, n_rec=15, n_out=2)
    p = net.init(0)
    tgt = np.zeros((2, 60, 2))
    with pytest.raises(InputError, match="e-prop's"):  # was the true gradient, silently
        L.gradients(net, p, X, tgt, "mse", method="bptt", feedback="random")
    with pytest.raises(InputError, match="reset='detach' is a BPTT option"):
        L.gradients(net, p, X, tgt, "mse", method="eprop", reset="detach")
    with pytest.raises(InputError, match=r"mask must have shape \(15, 15\)"):  # raw TypeError
        L.gradients(net, p, X, tgt, "mse", mask=np.ones((3, 3)))
    with pytest.raises(InputError, match="0 .* and 1 .* only"):  # "the gradient exploded"
        L.gradients(net, p, X, tgt, "mse", mask=np.full((15, 15), np.nan))
    with pytest.raises(InputError, match="0 .* and 1 .* only"):  # scaled the weights
        Trainer(
            LIF(n_in=4, n_rec=15, n_out=0),
            RateTask(n_in=4, n_steps=60),
            "mse",
            mask=np.full((15, 15), 0.5),
        )
    with pytest.raises(InputError, match="feedback_matrix contains NaN"):
        L.gradients(
            net, p, X, tgt, "mse", feedback="random", feedback_matrix=np.full((15, 2), np.nan)
        )
    with pytest.raises(InputError, match="mask must have shape"):
        Trainer(LIF(n_in=4, n_rec=15, n_out=0), RateTask(n_in=4, n_steps=60), "mse", mask=[1])


def test_resume_with_another_optimizer_is_refused(tmp_path):
    net = LIF(n_in=5, n_rec=20, n_out=0)
    task = RateTask(n_in=5, n_steps=50, rate_hz=20.0)
    loss = L.UnitRateTarget(r0_hz=10.0, weight=1e-3)
    adam = TrainOptions(optimizer="adam", checkpoint_every=1)
    Trainer(net, task, loss, adam).fit(2, out=tmp_path)
    # plain SGD has no state, so no leaf count differed: Adam's moments were dropped silently
    with pytest.raises(InputError, match="trained with optimizer = 'adam'"):
        Trainer(net, task, loss, TrainOptions(optimizer="sgd")).fit(3, out=tmp_path, resume=True)
    resumed = Trainer(net, task, loss, adam)
    resumed.fit(3, out=tmp_path, resume=True)
    assert resumed.state.iteration == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: window_target([0.7, 1.9], 4, 2, 2), "whole numbers >= 0"),  # truncated to 0, 1
        (lambda: window_target([np.nan], 4, 2, 2), "whole numbers >= 0"),
        (lambda: InformationBottleneck(labels=(0.7, 1.9)), "whole numbers >= 0"),
        (lambda: LIFAdaptationConfig(theta_range=(5.0, -5.0)), "lo < hi"),  # pinned at -5
        (lambda: LIFAdaptationConfig(gain_range=(-5.0, -1.0)), "gain_range must be > 0"),
        (lambda: PatchTask(np.full((2, 3), np.nan), n_steps=50, start=10), "NaN"),  # silence
        (lambda: PatchTask(np.full((2, 3), 5000.0), n_steps=50, start=10), "one spike per"),
        (lambda: PatternGeneration(n_in=5, periods_ms=()), "periods_ms must list"),
        (lambda: PatternGeneration(n_in=5, seed=-1), "seed must be"),
        (lambda: EvidenceAccumulation(dt=0.0), "dt must be > 0"),  # ZeroDivisionError
        (lambda: EvidenceAccumulation(recall_ms=0.0), "recall_ms must be at least one step"),
        (lambda: L.infer_transfer_function(np.arange(20.0), input_mean=np.nan), "input_mean"),
        # the network itself (the obvious guess) was a raw TypeError
        (lambda: L.init_lif_adaptation(NET0), "net.n_rec"),
        # loss options were checked only in a config: NaN read as "the gradient exploded"
        (lambda: L.UnitRateTarget(r0_hz=float("nan")), r"\.r0_hz must be a finite number"),
        (lambda: L.FiringRateRegularizer(f_target_hz=np.nan), "f_target_hz must be a finite"),
        (lambda: L.FiringRateRegularizer(per_sequence="no"), "per_sequence must be true or"),
        (lambda: L.UnitRateTarget(weight="2"), "weight must be a finite number"),
        (lambda: L.UnitRateTarget(weight=True), "weight must be a finite number"),
        # text, True and fractions were taken: channels_per_group="a" made n_in 'aaaa'
        (lambda: EvidenceAccumulation(channels_per_group="a"), "channels_per_group must be"),
        (lambda: EvidenceAccumulation(channels_per_group=2.5), "channels_per_group must be"),
        (lambda: EvidenceAccumulation(cue_rate_hz="a"), "cue_rate_hz must be a finite"),
        (lambda: EvidenceAccumulation(noise_rate_hz=-1.0), "rates must be >= 0"),
        (lambda: EvidenceAccumulation(cue_ms=True), "cue_ms must be a finite number"),
        (lambda: PatternGeneration(rate_hz="3"), "rate_hz must be a finite number"),
        (lambda: PatchTask(np.full((2, 3), 5.0), n_steps=20.7, start=2), "n_steps must be"),
        (lambda: PatchTask(np.full((2, 3), 5.0), n_steps=20, start=-1), "start must be"),
        (lambda: PatchTask(np.full((2, 3), 5.0), n_steps=20, start=2, dt=True), "dt must be"),
        (lambda: L.StimulusTrials(_STIM, n_out=2.5, n_per_stimulus=2, start=5), "n_out must"),
        (lambda: L.StimulusTrials(_STIM, n_out=2, n_per_stimulus=True, start=5), "n_per_stim"),
        (lambda: L.StimulusTrials(_STIM, n_out=2, n_per_stimulus=2, start="3"), "start must"),
        (lambda: L.StimulusTrials("x", n_out=2, n_per_stimulus=2, start=5), "a StimulusSet"),
        # no checks at all: text taken as numbers, mu = 0 a ZeroDivisionError, complex rates
        (lambda: L.ip_update("3", np.zeros(1), np.array([0.5]), 0.1, 0.01), "a must be real"),
        (lambda: L.ip_update(np.ones(1), np.zeros(1), np.array([np.nan]), 0.1, 0.01), "x cont"),
        (lambda: L.ip_update(np.ones(1), np.zeros(1), np.array([0.5]), 0, 0.01), "mu must be"),
        (lambda: L.ip_update(np.ones(1), np.zeros(1), np.array([0.5]), 0.1, 1j), "eta must be"),
        # four samples at once: four copies of the parameters came back
        (lambda: L.ip_update(np.ones(3), np.zeros(3), np.ones((4, 3)), 0.1, 0.1), "one sample"),
        (lambda: L.sigmoid_transfer(np.array([0.5]), 1 + 2j, 1.0, 0.0), "r_max must be a fin"),
        (lambda: L.sigmoid_transfer("3", 1.0, 1.0, 0.0), "h must be real numbers"),
        (lambda: L.intrinsic_plasticity(np.ones(50), n_checkpoints=np.nan), "n_checkpoints"),
        (lambda: L.count_distribution_kl(np.ones((5, 2), int), mean=np.nan), "mean must be"),
        (lambda: L.count_distribution_kl(np.ones((5, 2), int), mean="3"), "mean must be"),
        # hooks built without a word and failed inside Trainer.fit
        (lambda: L.metric_hook("m", fn="notfn"), "fn must be a function"),
        (lambda: L.lif_adaptation_hook("zzz"), "cfg must be a LIFAdaptationConfig"),
        (lambda: L.lif_adaptation_hook(LIFAdaptationConfig(), every=2.5), "every must be"),
        (lambda: L.early_stopping(patience=2.5), "patience must be a whole number"),
        (lambda: L.early_stopping(min_delta=True), "min_delta must be a finite number"),
        (lambda: window_target(np.array([0, 1]), 20, 2, start=True), "start must be a whole"),
        (lambda: L.TrainOptions(train=None), "train must be a list of weight names"),
        (lambda: RateTask().batch("a", 1), "rng must be a np.random.Generator"),
        (lambda: PatchTask(np.full((2, 3), 5.0), 20, 2, gaze="x"), "gaze must be a dict"),
        (lambda: PatternGeneration(periods_ms="a"), "periods_ms must be real numbers"),
        (lambda: window_target(np.array([0, 1]), 20.5, 2, start=1), "n_steps must be a whole"),
    ],
)
def test_learning_inputs_are_checked_where_they_enter(call, message):
    with pytest.raises(InputError, match=message):
        call()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_in": 0}, "n_in must be a whole number >= 1"),
        ({"n_steps": 2.5}, "n_steps must be a whole number >= 1"),
        ({"n_out": -1}, "n_out must be a whole number >= 0"),
        ({"n_in": "3"}, "n_in must be a whole number"),
        ({"rate_hz": float("nan")}, "rate_hz must be a finite number >= 0 Hz"),
        ({"rate_hz": -1.0}, "rate_hz must be a finite number >= 0 Hz"),
        ({"dt": 0.0}, "dt must be a finite number > 0 ms"),
    ],
)
def test_rate_task_checks_its_sizes_and_rates(kwargs, message):
    """RateTask checked nothing: n_in = 0 gave empty batches, -1 and 2.5 raw NumPy errors when
    a batch was drawn, and Trainer.fit(2.5) ran 3 iterations."""
    with pytest.raises(InputError, match=message):
        RateTask(**kwargs)
    with pytest.raises(InputError, match="batch_size must be a whole number >= 1"):
        RateTask(n_in=2, n_steps=5).batch(np.random.default_rng(0), 0)
    trainer = Trainer(LIF(n_in=2, n_rec=4, n_out=0), RateTask(n_in=2, n_steps=5), "unit_rate")
    with pytest.raises(InputError, match="n_iterations must be a whole number"):
        trainer.fit(2.5)


def test_feedback_sizes_and_targets_are_checked():
    """random_feedback(-1, 2) and (2.5, 2) were raw NumPy errors; a complex target lost its
    imaginary part with only NumPy's warning."""
    for n_rec in (-1, 2.5, float("nan"), 0):
        with pytest.raises(InputError, match="n_rec must be a whole number >= 1"):
            L.random_feedback(n_rec, 2)
    assert L.random_feedback(3, 0).shape == (3, 0)  # no readout: rate losses only
    net = LIF(n_in=4, n_rec=15, n_out=2)
    with pytest.raises(InputError, match="target must hold real numbers"):
        L.gradients(net, net.init(0), X, np.zeros((2, 60, 2)) + 1j, "mse")


def test_feedback_decay_is_not_negative():
    """feedback_decay = -1 grew B away from W_out instead of toward it."""
    with pytest.raises(InputError, match="feedback_decay must be >= 0"):
        L.TrainOptions(feedback_decay=-1.0)


def test_fit_checks_its_flags_out_and_callback_before_training():
    # resume="no" resumed; out=True and callback="a" failed after the training had run
    trainer = Trainer(NET0, RateTask(n_in=5, n_steps=50), "mse")
    for kw, message in [
        (dict(resume="no"), "resume must be true or false"),
        (dict(progress="no"), "progress must be true or false"),
        (dict(out=True), "out must be a folder path"),
        (dict(callback="a"), "callback must be a function"),
    ]:
        with pytest.raises(InputError, match=message):
            trainer.fit(1, **kw)
    assert trainer.state.iteration == 0


@pytest.mark.parametrize("mask", [float("nan"), "3", -1, 2.5, np.ones((3, 3))])
def test_mask_gradients_checks_its_mask(mask):
    # NaN made every w_rec gradient NaN, -1 reversed them, 2.5 scaled them
    params = NET0.init(0)
    grads = {k: np.ones_like(np.asarray(v)) for k, v in params.items()}
    with pytest.raises(InputError, match="mask must"):
        L.mask_gradients(NET0, grads, mask)
    n = NET0.n_rec
    kept = L.mask_gradients(NET0, grads, np.ones((n, n)))["w_rec"]
    np.testing.assert_array_equal(np.asarray(kept), 1.0 - np.eye(n))


def test_adapt_lif_checks_n_updates_and_cfg():
    x = np.zeros((20, 5))
    with pytest.raises(InputError, match="n_updates must be at most"):
        L.adapt_lif(NET0, NET0.init(0), x, n_updates=10**30)  # a loop for ever
    with pytest.raises(InputError, match="cfg must be a LIFAdaptationConfig"):
        L.adapt_lif(NET0, NET0.init(0), x, n_updates=1, cfg={})  # {} read as the defaults


@pytest.mark.parametrize("trained", ["a", {}, [[1, 2]], ("w_rec", "bias")])
def test_evaluate_checks_trained(trained):
    # "a" was ignored: the norm and explosion check then covered every weight
    task = RateTask(n_in=5, n_steps=20)
    x, _ = task.batch(np.random.default_rng(0), 1)
    with pytest.raises(InputError, match="trained must be a list of weight names"):
        L.evaluate(NET0, NET0.init(0), x, None, "unit_rate", trained=trained)


@pytest.mark.parametrize("method", ["eprop", "bptt"])
def test_float32_gradients_refuse_what_float32_cannot_hold(method):
    """Weights, beta_a, input or targets beyond float32's range became inf in a float32
    gradient, then read as "gradient exploded; lower the learning rate" (simulate refused the
    same weights, advising float64): the gradients say so too, and float64 runs."""
    net = idn.network.LIF(n_in=5, n_rec=8, n_out=1)
    params = net.init(seed=0)
    x = idn.network.poisson_spikes(100.0, 50, n_in=5, seed=1)
    target = np.zeros((50, 1))
    big = {**params, "w_out": params["w_out"] * 1e40}
    float64 = r"beyond float32's range \(3.4e38\): run with precision='float64'"
    with pytest.raises(InputError, match=r"params\['w_out'\] holds .*" + float64):
        idn.learning.gradients(net, big, x, target, "mse", method=method)
    with pytest.raises(InputError, match="^x holds 1e.39, " + float64):
        idn.learning.gradients(net, params, x.astype(float) * 1e39, target, "mse", method=method)
    with pytest.raises(InputError, match="^target holds 1e.39, " + float64):
        idn.learning.gradients(net, params, x, target + 1e39, "mse", method=method)
    alif = idn.network.ALIF(n_in=5, n_rec=8, n_out=1, beta_a=1e39, tau_a=200.0)
    with pytest.raises(InputError, match="^beta_a holds 1e.39, " + float64):
        idn.learning.gradients(alif, alif.init(seed=0), x, target, "mse", method=method)
    small = idn.learning.gradients(net, params, x, target, "mse", method=method)
    g = idn.learning.gradients(net, params, x, target, "mse", method=method, precision="float64")
    assert np.allclose(np.asarray(small["w_out"]), np.asarray(g["w_out"]), rtol=1e-3, atol=1e-6)
