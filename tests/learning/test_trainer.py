"""Trainer: target-rate training reaches r0, constraints survive, resume is exact; tasks; CLI."""

import json
import warnings
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from faultkit import fail_at_call

import infodyn as idn
from infodyn.errors import InputError
from infodyn.experiments.hooks import branching_estimate
from infodyn.learning import UnitRateTarget, evaluate
from infodyn.learning.hooks import HookOutput, TrainHook, metric_hook
from infodyn.learning.tasks import EvidenceAccumulation, PatternGeneration, RateTask
from infodyn.learning.trainer import Trainer, TrainOptions

NET = dict(n_in=20, n_rec=30, n_out=0, in_scale=3.0, surrogate="fast_sigmoid")
TASK = RateTask(n_in=20, n_steps=200, rate_hz=20.0)
SMALL_NET = dict(n_in=6, n_rec=5, n_out=0, in_scale=3.0)
SMALL_TASK = RateTask(n_in=6, n_steps=40, rate_hz=30.0)


def _params_copy(trainer):
    """The trainer's weights now, as NumPy copies to compare with after a step."""
    return {k: np.asarray(v).copy() for k, v in trainer.state.params.items()}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_target_rate_training_reaches_r0():
    net = idn.network.LIF(**NET)
    tr = Trainer(
        net,
        TASK,
        UnitRateTarget(r0_hz=10.0, weight=1e-3),
        TrainOptions(optimizer="adam", lr=3e-4, batch_size=4, precision="float64"),
    )
    hist = tr.fit(100)
    assert hist[0]["mean_rate_hz"] > 30.0  # starts far from the target
    final = np.mean([r["mean_rate_hz"] for r in hist[-20:]])
    assert abs(final - 10.0) <= 1.0, final


def test_self_synapses_of_given_weights_are_zeroed_with_a_warning():
    # simulate honours a user's autapses; the trainer's constraints remove them: said, not silent
    net = idn.network.LIF(**SMALL_NET)
    params = net.init(seed=0)
    w = np.array(params["w_rec"])
    w[2, 2] = 0.01
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        tr = Trainer(net, SMALL_TASK, UnitRateTarget(r0_hz=10.0), params={**params, "w_rec": w})
    assert any("(unit 2 first)" in str(x.message) for x in seen)
    assert np.all(np.diag(np.asarray(tr.state.params["w_rec"])) == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer(net, SMALL_TASK, UnitRateTarget(r0_hz=10.0), params=params)


def test_resume_is_exact_and_constraints_hold(tmp_path):
    net = idn.network.LIF(**NET, connectivity="ei")
    loss = UnitRateTarget(r0_hz=10.0, weight=1e-3)
    opts = TrainOptions(
        optimizer="adam",
        lr=1e-3,
        batch_size=2,
        precision="float64",
        checkpoint_every=2,
        clip_norm=5.0,
    )
    full = Trainer(net, TASK, loss, opts)
    full.fit(4)
    part = Trainer(net, TASK, loss, opts)
    part.fit(2, out=tmp_path)
    resumed = Trainer(net, TASK, loss, opts)
    resumed.fit(4, out=tmp_path, resume=True)
    for k in ("w_in", "w_rec", "w_out"):
        np.testing.assert_array_equal(
            np.asarray(full.state.params[k]), np.asarray(resumed.state.params[k])
        )
    assert [r["iteration"] for r in json.loads((tmp_path / "metrics.json").read_text())] == [
        1,
        2,
        3,
        4,
    ]
    w = np.asarray(resumed.state.params["w_rec"])
    signs = net.unit_signs()
    assert np.all(np.diag(w) == 0)
    assert np.all(w * signs[:, None] >= 0)  # Dale's law: outgoing weights keep their sign
    w0 = net.init(seed=0)["w_rec"]
    assert np.all(w[w0 == 0] == 0)  # absent synapses stay absent
    assert not np.allclose(w, w0)


def test_branching_estimate_recovers_a_branching_process():
    rng = np.random.default_rng(0)
    m, h, a = 0.8, 5.0, np.zeros((4, 4000))
    for t in range(1, a.shape[1]):
        a[:, t] = rng.poisson(m * a[:, t - 1] + h)
    assert branching_estimate(a) == pytest.approx(m, abs=0.03)


def test_tasks_follow_the_published_layout():
    rng = np.random.default_rng(0)
    ev = EvidenceAccumulation()
    x, tgt = ev.batch(rng, 16)
    assert x.shape == (16, 2250, 40) and tgt.shape == (16, 2250, 2)
    assert np.allclose(tgt.sum(axis=(1, 2)), 1.0)  # one decision, averaged over the recall
    assert np.all(tgt[:, :2100] == 0)
    cue_counts = x[:, :1050, :20].reshape(16, 1050, 2, 10).sum(axis=(1, 3))
    assert np.mean(np.argmax(cue_counts, axis=1) == ev.labels(tgt)) > 0.9
    assert x[:, 2100:, 20:30].mean() == pytest.approx(0.04, abs=0.01)  # recall cue at 40 Hz
    perfect = np.repeat(tgt[:, :, :], 1, axis=0)
    assert ev.metrics(perfect, tgt)["error"] == 0.0
    pg = PatternGeneration()
    x, y = pg.batch(rng, 2)
    assert x.shape == (2, 1000, 100) and y.shape == (2, 1000, 1)
    assert x.mean() == pytest.approx(0.05, abs=0.005)
    spec = np.abs(np.fft.rfft(y[0, :, 0]))
    assert set(np.argsort(spec)[-4:]) == {1, 2, 3, 5}  # periods 1000, 500, 333, 200 ms


def test_train_cli_writes_a_resumable_run(tmp_path):
    from typer.testing import CliRunner

    from infodyn.cli import app

    cfg = tmp_path / "c.toml"
    text = (
        "[network]\nn_in = 10\nn_rec = 12\nn_out = 1\nin_scale = 3.0\n"
        '[task]\nkind = "pattern_generation"\nn_steps = 60\n'
        '[[loss]]\nkind = "mse"\n[[loss]]\nkind = "rate_reg"\nweight = 1e-5\n'
        "[training]\niterations = 2\ncheckpoint_every = 1\nlr = 1e-3\n"
    )
    cfg.write_text(text)
    out = tmp_path / "run"
    runner = CliRunner()
    res = runner.invoke(app, ["train", str(cfg), "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("loss", "raster", "rates", "output"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
    cfg.write_text(text.replace("iterations = 2", "iterations = 3"))
    res = runner.invoke(app, ["train", str(cfg), "--out", str(out), "--resume"])
    assert res.exit_code == 0, res.output
    results = json.loads((out / "results.json").read_text())
    assert results["iterations"] == 3 and "loss_rate_reg" in results["final"]
    assert set(results["final"]) >= {"loss_mse", "mean_rate_hz", "branching", "nmse"}
    before = (out / "checkpoint.npz").read_bytes()
    res = runner.invoke(app, ["train", str(cfg), "--out", str(out)])  # no --resume
    assert res.exit_code == 2 and "--resume" in res.output
    assert (out / "checkpoint.npz").read_bytes() == before, "the checkpoint must survive"
    cfg.write_text(text.replace('kind = "mse"', 'kind = "hinge"'))
    import shutil
    import subprocess
    import sys

    # the console script: beside this interpreter (a venv), else on PATH (pip --user, --target)
    exe = Path(sys.executable).with_name("infodyn")
    exe = exe if exe.exists() else Path(shutil.which("infodyn") or exe)
    proc = subprocess.run(
        [str(exe), "train", str(cfg), "--out", str(tmp_path / "bad")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "hinge" in proc.stderr


@pytest.mark.parametrize("out_scale", [None, 0.4])
def test_adaptive_feedback_gets_the_readout_update_and_converges(out_scale):
    """Kolen-Pollack: B and W_out get the same update and both decay, so W_out - B shrinks by
    (1 - lr_out * decay) per step whatever the gradients are (lr_out: W_out's learning rate,
    ``lr`` times its ``lr_scale``)."""
    import jax.numpy as jnp

    net = idn.network.LIF(n_in=3, n_rec=6, n_out=2)
    task = PatternGeneration(n_in=3, n_steps=10)
    task.n_out = 2
    lr, decay = 0.1, 0.5
    scale = {} if out_scale is None else {"w_out": out_scale, "w_rec": 3.0}
    tr = Trainer(
        net,
        task,
        "mse",
        TrainOptions(
            feedback="adaptive",
            optimizer="sgd",
            lr=lr,
            lr_scale=scale,
            feedback_decay=decay,
            precision="float64",
        ),
    )
    lr = lr * (out_scale or 1.0)
    rng = np.random.default_rng(0)
    gap0 = np.asarray(tr.state.params["w_out"]) - tr.state.feedback
    for _ in range(5):
        grads = {
            k: jnp.asarray(rng.standard_normal(np.shape(v))) for k, v in tr.state.params.items()
        }
        tr._apply(grads)
    gap = np.asarray(tr.state.params["w_out"]) - tr.state.feedback
    np.testing.assert_allclose(gap, gap0 * (1 - lr * decay) ** 5, rtol=1e-12)


def test_online_mode_updates_within_the_sequence():
    """online_window=K: four weight updates per 200-step sequence while state and traces run
    on; the rate moves toward the target within the first sequences."""
    net = idn.network.LIF(**NET)
    tr = Trainer(
        net,
        TASK,
        UnitRateTarget(r0_hz=10.0, weight=1e-3),
        TrainOptions(
            optimizer="adam", lr=3e-4, batch_size=4, precision="float64", online_window=50
        ),
    )
    p0 = np.asarray(tr.state.params["w_in"]).copy()
    hist = tr.fit(6)
    assert len(hist) == 6 and hist[0]["mean_rate_hz"] > 30.0
    assert hist[-1]["mean_rate_hz"] < 0.8 * hist[0]["mean_rate_hz"]
    # Adam moves each weight by about lr per update: 6 sequences x 4 windows = 24 updates
    step = np.max(np.abs(np.asarray(tr.state.params["w_in"]) - p0))
    assert 6 * 3e-4 < step <= 24 * 3e-4 * 1.01


def test_a_variance_over_one_step_windows_is_refused():
    """online_window=1 with rate_variance: the variance of one step is 0, so the term gave no
    gradient and training ran on without a word (grad_norm 0, its logged loss unchanged)."""
    net = idn.network.LIF(**NET)
    variance = idn.learning.PopulationRateVariance(weight=1e-5, s_target=50.0)
    with pytest.raises(InputError, match="rate_variance with online_window=1: the variance"):
        Trainer(net, TASK, UnitRateTarget(r0_hz=10.0) + variance, TrainOptions(online_window=1))
    Trainer(net, TASK, variance, TrainOptions(online_window=2))  # a window's own variance


def test_train_cli_takes_the_information_objectives(tmp_path):
    """``infomax`` (the decoder bound, on the evidence task's one-hot recall window) and
    ``total_correlation`` are config kinds; their terms are logged in bits."""
    from typer.testing import CliRunner

    from infodyn.cli import app

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[network]\nmodel = "alif"\nn_in = 40\nn_rec = 12\nn_out = 2\nn_alif = 6\n'
        '[task]\nkind = "evidence_accumulation"\nn_cues = 1\ndelay_ms = 20.0\n'
        "recall_ms = 20.0\n"
        '[[loss]]\nkind = "infomax"\n'
        '[[loss]]\nkind = "total_correlation"\nestimator = "pairwise"\nweight = 0.1\n'
        "[training]\niterations = 2\nbatch_size = 4\nlr = 1e-3\n"
    )
    res = CliRunner().invoke(app, ["train", str(cfg), "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    final = json.loads((tmp_path / "run" / "results.json").read_text())["final"]
    # two stimuli and a readout trained for two iterations: the decoder's cross-entropy is
    # about log2(2) = 1 bit (ln 2 = 0.69 if it were logged in nats)
    assert final["loss_infomax_xent_bits"] == pytest.approx(1.0, abs=0.1)
    # the pairwise TC term, 0.1 * 0.25 sum rho_ij^2 / ln 2: zero only if no two units covary
    assert final["loss_total_correlation_bits"] > 0.0
    terms = final["loss_infomax_xent_bits"] + final["loss_total_correlation_bits"]
    assert final["loss"] == pytest.approx(terms, rel=1e-6)


@pytest.mark.parametrize(("p_group", "close_fraction"), [(0.3, 0.3241), (0.5, 0.5469)])
def test_evidence_cues_follow_the_published_bias(p_group, close_fraction):
    """Each trial favours one side; a cue comes from it with probability 1 - p_group. The
    fraction of 4:3 trials is 2 * C(7,3)/2^7 = 0.547 for unbiased cues and
    C(7,3) (0.3^3 0.7^4 + 0.3^4 0.7^3) = 0.324 for p_group = 0.3 (the published task)."""
    ev = EvidenceAccumulation(p_group=p_group, delay_ms=0.0, recall_ms=1.0)  # the cues only
    x, _ = ev.batch(np.random.default_rng(1), 3000)
    starts = np.arange(ev.n_cues) * 150
    per_cue = np.stack(
        [x[:, s : s + 100, :20].reshape(-1, 100, 2, 10).sum(axis=(1, 3)) for s in starts], axis=1
    )  # (B, cue, side) spike counts
    left = np.sum(per_cue[:, :, 0] > per_cue[:, :, 1], axis=1)
    close = np.mean((left == 3) | (left == 4))
    assert close == pytest.approx(close_fraction, abs=0.03)
    with pytest.raises(Exception, match="p_group"):
        EvidenceAccumulation(p_group=0.7)


def test_lr_scale_multiplies_each_weights_step():
    """Adam's first step is lr * sign(g) per entry; a factor 0.05 on w_rec scales exactly that
    weight's step, leaves the others, and bad keys or values are refused."""
    net = idn.network.LIF(n_in=10, n_rec=12, n_out=1, in_scale=3.0)
    task = PatternGeneration(n_in=10, n_steps=60)
    steps = {}
    for name, scale in (("plain", {}), ("scaled", {"w_rec": 0.05})):
        tr = Trainer(net, task, "mse", TrainOptions(lr=1e-3, lr_scale=scale, seed=1))
        before = {k: np.asarray(v) for k, v in tr.state.params.items()}
        tr.step()
        steps[name] = {k: np.asarray(tr.state.params[k]) - before[k] for k in before}
    np.testing.assert_allclose(
        steps["scaled"]["w_rec"],
        0.05 * steps["plain"]["w_rec"],  # float32
        rtol=1e-4,
        atol=1e-12,
    )
    np.testing.assert_array_equal(steps["scaled"]["w_in"], steps["plain"]["w_in"])
    assert np.abs(steps["plain"]["w_rec"]).max() > 0
    with pytest.raises(Exception, match="lr_scale"):
        TrainOptions(lr_scale={"w_hid": 0.1})
    with pytest.raises(Exception, match="lr_scale"):
        TrainOptions(lr_scale={"w_rec": 0.0})


@pytest.mark.parametrize("seed", [0, 1])
def test_pattern_generation_example_config_learns(seed):
    """The shipped pattern-generation config (published settings, w_rec's learning rate in
    published units) lowers the MSE >= 10x within its 300 iterations for other seeds too (with
    one learning rate for all weights the outcome was 1x-10x depending on the seed)."""
    from pathlib import Path

    from infodyn.experiments.config import load_config
    from infodyn.experiments.train_run import TrainConfig, build_task

    path = Path(__file__).resolve().parents[2] / "examples" / "train_pattern_generation.toml"
    cfg = load_config(path, TrainConfig)
    net = cfg.build_network()
    task = build_task({**cfg.task, "seed": seed}, net)  # another target (phases, amplitudes)
    opts = cfg.train_options(seed=seed)  # as infodyn train builds them
    hist = Trainer(net, task, cfg.build_loss(), opts).fit(cfg.training.iterations)
    mse = [r["loss_mse"] for r in hist]
    assert mse[0] / np.mean(mse[-10:]) >= 10.0


def test_declared_choices_are_checked():
    from infodyn.learning.registry import build_loss
    from infodyn.learning.trainer import TrainOptions

    for field in ("optimizer", "method", "feedback", "reset", "precision"):
        with pytest.raises(InputError, match=f"TrainOptions.{field} must be one of"):
            TrainOptions(**{field: "foo"})
    for weight in (float("nan"), float("inf"), "x"):
        with pytest.raises(InputError, match="mse.weight must be a finite number"):
            build_loss([{"kind": "mse", "weight": weight}])


def test_only_the_listed_weights_train():
    net = idn.network.LIF(n_in=10, n_rec=12, n_out=1, in_scale=3.0)
    task = PatternGeneration(n_in=10, n_steps=30)
    tr = Trainer(net, task, "mse", TrainOptions(lr=1e-2, train=("w_rec",)))
    before = _params_copy(tr)
    tr.step()
    after = {k: np.asarray(v) for k, v in tr.state.params.items()}
    np.testing.assert_array_equal(after["w_in"], before["w_in"])
    np.testing.assert_array_equal(after["w_out"], before["w_out"])
    assert not np.array_equal(after["w_rec"], before["w_rec"])


def test_clip_norm_bounds_the_sgd_step():
    """SGD with lr 1 and clip_norm c moves the weights by exactly c (the gradient is larger)."""
    net = idn.network.LIF(**SMALL_NET)
    tr = Trainer(
        net,
        SMALL_TASK,
        UnitRateTarget(r0_hz=0.0, weight=1.0),
        TrainOptions(optimizer="sgd", lr=1.0, clip_norm=1e-3, precision="float64"),
    )
    before = _params_copy(tr)
    rec = tr.step()
    assert rec["grad_norm"] > 1e-2
    moved = np.sqrt(sum(np.sum((np.asarray(tr.state.params[k]) - before[k]) ** 2) for k in before))
    assert moved == pytest.approx(1e-3, rel=1e-9)


def test_sgd_momentum_accumulates_the_previous_step():
    """optax SGD with momentum mu: step_2 = -lr (g2 + mu g1)."""
    net = idn.network.LIF(n_in=3, n_rec=4, n_out=1)
    tr = Trainer(
        net,
        PatternGeneration(n_in=3, n_steps=10),
        "mse",
        TrainOptions(optimizer="sgd", lr=0.1, momentum=0.9, precision="float64"),
    )
    rng = np.random.default_rng(0)
    g1, g2 = (
        {k: jnp.asarray(rng.standard_normal(np.shape(v))) for k, v in tr.state.params.items()}
        for _ in range(2)
    )
    w0 = np.asarray(tr.state.params["w_in"]).copy()
    tr._apply(g1)
    w1 = np.asarray(tr.state.params["w_in"]).copy()
    tr._apply(g2)
    w2 = np.asarray(tr.state.params["w_in"])
    np.testing.assert_allclose(w1 - w0, -0.1 * np.asarray(g1["w_in"]), rtol=1e-12)
    expect = -0.1 * (np.asarray(g2["w_in"]) + 0.9 * np.asarray(g1["w_in"]))
    np.testing.assert_allclose(w2 - w1, expect, rtol=1e-10)


def test_mean_rate_is_in_hz_at_any_step():
    net = idn.network.LIF(**SMALL_NET, dt=0.5)
    task = RateTask(n_in=6, n_steps=40, rate_hz=30.0, dt=0.5)
    tr = Trainer(
        net,
        task,
        UnitRateTarget(r0_hz=5.0),
        TrainOptions(precision="float64"),
        hooks=(metric_hook("spikes", lambda info: float(info.activity.sum())),),
    )
    hist = tr.fit(2)
    assert hist[0]["spikes"] > 0
    for r in hist:  # spikes / (units x seconds); 40 steps of 0.5 ms = 0.02 s
        assert r["mean_rate_hz"] == pytest.approx(r["spikes"] / (5 * 0.02), rel=1e-12)


def test_any_hook_can_stop_training():
    """The first of two hooks asks to stop: the second's 'no' must not cancel it."""

    def stop_now(info, state):
        return HookOutput({}, state, stop=True)

    hooks = (TrainHook(lambda net, p: (), stop_now), metric_hook("x", lambda info: 1.0))
    tr = Trainer(
        idn.network.LIF(**SMALL_NET), SMALL_TASK, UnitRateTarget(), TrainOptions(), hooks=hooks
    )
    assert len(tr.fit(5)) == 1 and tr.state.stop


def test_online_mode_loss_is_the_sequence_average():
    """With a vanishing learning rate the weights do not move, so the loss logged in online
    mode (four windows) equals the MSE of the whole sequence from evaluate."""
    net = idn.network.LIF(n_in=5, n_rec=8, n_out=1, in_scale=3.0)
    task = PatternGeneration(n_in=5, n_steps=40)
    opts = TrainOptions(optimizer="sgd", lr=1e-30, precision="float64", online_window=10)
    tr = Trainer(net, task, "mse", opts)
    p0 = _params_copy(tr)
    rec = tr.step()
    x, tgt = task.batch(np.random.default_rng([0, 0]), 1)
    ev = evaluate(net, p0, x, tgt, "mse", precision="float64")
    assert rec["loss"] == pytest.approx(ev.loss, rel=1e-9)


def test_checkpoints_are_written_every_checkpoint_every(tmp_path):
    """Iteration 3's callback runs before its own checkpoint: the file holds iteration 2."""
    seen = {}

    def callback(trainer, rec):
        ck = tmp_path / "checkpoint.npz"
        seen[rec["iteration"]] = int(np.load(ck)["iteration"]) if ck.exists() else None

    tr = Trainer(
        idn.network.LIF(**SMALL_NET), SMALL_TASK, UnitRateTarget(), TrainOptions(checkpoint_every=2)
    )
    tr.fit(5, out=tmp_path, callback=callback)
    assert seen == {1: None, 2: None, 3: 2, 4: 2, 5: 4}
    rows = json.loads((tmp_path / "metrics.json").read_text())
    assert [r["iteration"] for r in rows] == [1, 2, 3, 4, 5]


def test_resuming_a_finished_run_does_nothing(tmp_path):
    tr = Trainer(idn.network.LIF(**SMALL_NET), SMALL_TASK, UnitRateTarget(), TrainOptions())
    tr.fit(2, out=tmp_path)
    again = Trainer(idn.network.LIF(**SMALL_NET), SMALL_TASK, UnitRateTarget(), TrainOptions())
    hist = again.fit(2, out=tmp_path, resume=True)
    assert [r["iteration"] for r in hist] == [1, 2] and again.state.iteration == 2


@pytest.mark.parametrize("window", [None, 50])
def test_a_readout_only_run_is_judged_by_the_readout_gradient(window):
    """train=("w_out",): the frozen w_in/w_rec gradients (norms 585 and 1087 here, against
    w_out's 13.5) were logged as grad_norm and stopped the run as an explosion."""
    net = idn.network.LIF(n_in=20, n_rec=100, n_out=1, v_th=0.03, rec_scale=1.0)
    opts = TrainOptions(train=("w_out",), explode_threshold=50.0, online_window=window)
    trainer = Trainer(net, PatternGeneration(n_in=20, n_steps=200), "mse", opts)
    x, target = trainer._batch(0)
    ev = evaluate(net, trainer.state.params, x, target, "mse", explode_threshold=1e30)
    norms = {k: float(np.sqrt(np.sum(np.asarray(g) ** 2))) for k, g in ev.grads.items()}
    assert norms["w_rec"] > 50.0 > norms["w_out"]
    rec = trainer.step()
    if window is None:
        assert rec["grad_norm"] == pytest.approx(norms["w_out"], rel=1e-5)
    with pytest.raises(idn.learning.GradientExplosionError):
        evaluate(net, trainer.state.params, x, target, "mse", explode_threshold=50.0)


def test_online_windows_report_the_sequence_loss():
    """With online_window the terms were a length-weighted mean of the window values: right for
    a mean over steps (mse), half of a summed term (cross-entropy) at two windows. The window
    statistics are now summed and reduced once. lr ~ 0: the weights stay as they are."""
    from infodyn.learning.info_objectives import InfoMaxBound
    from infodyn.learning.tasks import StimulusTrials
    from infodyn.network.encoders import StimulusSet

    net = idn.network.LIF(n_in=10, n_rec=10, n_out=2, in_scale=2.0)
    task = StimulusTrials(StimulusSet.constant(2, 40, 10, 40.0, seed=0), 2, 3, 0)
    loss = InfoMaxBound() + UnitRateTarget(r0_hz=5.0)
    params = net.init(seed=0)
    values = []
    for window in (None, 20, 10):
        opts = TrainOptions(optimizer="sgd", lr=1e-30, online_window=window)
        tr = Trainer(net, task, loss, opts, params=params, sampler=task.sampler(0))
        values.append(tr.fit(1)[0])
    for rec in values[1:]:
        for key in ("loss_infomax_xent_bits", "loss_unit_rate", "loss"):
            assert rec[key] == pytest.approx(values[0][key], rel=1e-5), key


@pytest.mark.parametrize("weights", ["sparse", "dense"])
def test_given_weights_that_break_dales_law_are_zeroed_with_a_warning(weights):
    """An E/I network's trainer clips wrong-signed weights to 0 (Dale's law): given weights
    that break it lost half their synapses in silence."""
    import infodyn as idn
    from infodyn.network.weights_check import dale_violations

    net = idn.network.LIF(n_in=3, n_rec=40, n_out=1, connectivity="ei", k_in=10, weights=weights)
    p = net.init(0)
    assert dale_violations(p["w_rec"], net.unit_signs()) == 0
    task = idn.learning.PatternGeneration(n_in=3, n_steps=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        idn.learning.Trainer(net, task, "mse", params=p)  # drawn by the network: no word
    w = np.asarray(p["w_rec"].values if weights == "sparse" else p["w_rec"])
    flipped = -w
    wrong = int(np.sum(flipped != 0))
    bad = p["w_rec"].with_values(flipped) if weights == "sparse" else flipped
    with pytest.warns(UserWarning, match=f"has {wrong} synapses whose sign breaks Dale's law"):
        tr = idn.learning.Trainer(net, task, "mse", params={**p, "w_rec": bad})
    kept = tr.state.params["w_rec"]
    assert not np.any(np.asarray(kept.values if weights == "sparse" else kept))


def test_a_sampler_that_returns_no_pair_is_one_line():
    """A sampler returning None or one array was a raw unpacking error inside step()."""
    import infodyn as idn

    net = idn.network.LIF(n_in=2, n_rec=5, n_out=1)
    task = idn.learning.PatternGeneration(n_in=2, n_steps=10)
    for bad in (lambda it: None, lambda it: (np.zeros((1, 10, 2)),)):
        trainer = idn.learning.Trainer(net, task, "mse", sampler=bad)
        with pytest.raises(InputError, match="a batch must be the pair \\(x, target\\)"):
            trainer.step()


def test_given_dense_params_zero_at_graph_synapses_are_warned_about_and_mask_keeps_them():
    """Trainer(params=...) of a dense-stored E/I network reads its graph from the non-zero
    weights: the synapses Dale's law had clipped to 0 were dropped for good without a word,
    where sparse storage keeps them. Dense storage cannot tell them from absent (or pruned)
    synapses: it says so, and mask= keeps them (then the run equals the sparse one)."""
    from infodyn.learning import PopulationRateVariance

    task = RateTask(n_in=10, n_steps=40, rate_hz=40.0)
    loss = UnitRateTarget(weight=0.1, r0_hz=5.0) + PopulationRateVariance(weight=1e-3)
    o = TrainOptions(lr=3e-2, batch_size=2, precision="float64")
    grown = {}
    for storage in ("sparse", "dense"):
        net = idn.network.LIF(
            n_in=10, n_rec=30, n_out=0, in_scale=3.0, rec_scale=3.0,
            connectivity="ei", k_in=6, weights=storage,
        )  # fmt: skip
        first = Trainer(net, task, loss, o)
        first.fit(3)
        params = {k: v.to_numpy() if hasattr(v, "to_numpy") else np.asarray(v)
                  for k, v in first.state.params.items()}  # fmt: skip
        if storage == "dense":
            graph = np.asarray(net.init(seed=0)["w_rec"]) != 0
            clipped = int(np.count_nonzero(graph & (params["w_rec"] == 0)))
            assert clipped  # the case: Dale's law clipped some synapses to 0
            with pytest.warns(UserWarning, match=f"is 0 at {clipped} synapses of the graph"):
                plain = Trainer(net, task, loss, o, params=params)
            np.testing.assert_array_equal(plain.mask != 0, params["w_rec"] != 0)
            then = Trainer(net, task, loss, o, params=params, mask=graph.astype(float))
        else:
            then = Trainer(net, task, loss, o, params=params)
        then.fit(3)
        wr = then.state.params["w_rec"]
        grown[storage] = np.asarray(wr.to_dense() if hasattr(wr, "to_dense") else wr)
    np.testing.assert_allclose(grown["dense"], grown["sparse"], rtol=0, atol=1e-12)
    with warnings.catch_warnings():  # the network's own weights, or another graph's: no word
        warnings.simplefilter("error")
        Trainer(net, task, loss, o, params=net.init(seed=0))
        Trainer(net, task, loss, o, params=net.init(seed=1))


def _exploding_at(monkeypatch, iteration):
    """Trainer.step raising GradientExplosionError at its ``iteration``-th call."""
    from infodyn.learning.gradients import GradientExplosionError

    exploded = GradientExplosionError("eprop gradient exploded (norm 1e+09 > 1e+08)")
    fail_at_call(monkeypatch, Trainer, "step", iteration, exploded)


def test_an_explosion_names_the_last_checkpoint(tmp_path, monkeypatch):
    # it named none: a run that exploded after hours of checkpoints read as lost
    from infodyn.learning.gradients import GradientExplosionError

    net = idn.network.LIF(**SMALL_NET)
    opts = TrainOptions(batch_size=1, checkpoint_every=2)
    _exploding_at(monkeypatch, 4)
    with pytest.raises(GradientExplosionError) as info:
        Trainer(net, SMALL_TASK, UnitRateTarget(r0_hz=10.0), opts).fit(6, out=tmp_path)
    err = info.value
    assert err.checkpoint == tmp_path / "checkpoint.npz" and err.checkpoint_iteration == 2
    assert err.reason == "eprop gradient exploded (norm 1e+09 > 1e+08)"
    assert str(err) == (
        f"{err.reason}; the run's last checkpoint, of 2 iteration(s), is "
        f"{tmp_path / 'checkpoint.npz'}: fit(..., resume=True) continues"
    )
    assert int(np.load(tmp_path / "checkpoint.npz")["iteration"]) == 2
    # a resumed run that explodes before its next checkpoint names the one it resumed from
    _exploding_at(monkeypatch, 1)
    with pytest.raises(GradientExplosionError) as info:
        Trainer(net, SMALL_TASK, UnitRateTarget(r0_hz=10.0), opts).fit(6, tmp_path, resume=True)
    assert info.value.checkpoint_iteration == 2
    # without a folder, or before a first checkpoint: the error as the step raised it
    for out in (None, tmp_path / "fresh"):
        _exploding_at(monkeypatch, 1)
        with pytest.raises(GradientExplosionError) as info:
            Trainer(net, SMALL_TASK, UnitRateTarget(r0_hz=10.0), opts).fit(6, out=out)
        assert info.value.checkpoint is None and "checkpoint" not in str(info.value)


def test_float32_training_does_not_depend_on_jax_64_bit_mode():
    """With JAX's 64-bit mode on (any float64 simulate earlier in the process turns it on),
    Adam's bias correction ran in float64: the float32 weights of the same config and seed
    differed by 1.5e-3 after four iterations."""
    import jax

    net = idn.network.LIF(n_in=20, n_rec=30, n_out=1, tau_m=30.0, v_th=0.03)

    def trained(x64: bool) -> dict[str, np.ndarray]:
        jax.config.update("jax_enable_x64", x64)
        task = PatternGeneration(seed=0, n_in=20, n_steps=200)
        opts = TrainOptions(optimizer="adam", lr=3e-3, seed=0, batch_size=2)
        tr = Trainer(net, task, "mse", opts)
        tr.fit(4)
        return {k: np.asarray(v) for k, v in tr.state.params.items()}

    before = jax.config.jax_enable_x64
    try:
        off, on = trained(False), trained(True)
    finally:
        jax.config.update("jax_enable_x64", before)
    for key in off:
        assert on[key].dtype == np.float32
        assert np.array_equal(off[key], on[key]), key


def test_weights_left_out_of_train_after_a_resume_stay_put(tmp_path):
    """Trained for 3 iterations with every matrix, resumed with train=("w_out",): Adam's
    moments (or SGD's momentum) of w_rec and w_in moved them on by 0.013 in two iterations,
    though their gradients were zeroed."""
    net = idn.network.LIF(n_in=20, n_rec=30, n_out=1, v_th=0.03)
    task = PatternGeneration(n_in=20, n_steps=60, seed=0)
    for opts in (dict(optimizer="adam"), dict(optimizer="sgd", momentum=0.9)):
        out = tmp_path / opts["optimizer"]
        Trainer(net, task, "mse", TrainOptions(lr=1e-2, **opts)).fit(3, out=out)
        tr = Trainer(net, task, "mse", TrainOptions(lr=1e-2, train=("w_out",), **opts))
        tr.load_checkpoint(out / "checkpoint.npz")
        before = {k: np.asarray(v).copy() for k, v in tr.state.params.items()}
        tr.fit(5, out=out, resume=True)
        after = {k: np.asarray(v) for k, v in tr.state.params.items()}
        assert tr.state.iteration == 5
        assert np.array_equal(after["w_rec"], before["w_rec"])
        assert np.array_equal(after["w_in"], before["w_in"])
        assert not np.array_equal(after["w_out"], before["w_out"])
