"""The train run (infodyn.experiments.train_run): [task] option types; what a resume refuses
(fewer iterations than done, lost metrics or config) and what a failed resume leaves alone."""

import json

import numpy as np
import pytest
from faultkit import TRAIN, cli_in_process, fail_at_call, record_calls

import infodyn as idn
from infodyn.errors import InputError
from infodyn.experiments.train_run import TrainConfig, build_task, run_training


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        ({"n_steps": 1e99}, r"\[task.n_steps\] must be a whole number"),  # was a raw TypeError
        ({"n_steps": True}, r"\[task.n_steps\] must be a whole number"),
        ({"n_steps": "30"}, r"\[task.n_steps\] must be a whole number"),
        ({"rate_hz": float("nan")}, r"\[task.rate_hz\] must be a finite number"),
        ({"rate_hz": float("inf")}, r"\[task.rate_hz\] must be a finite number"),
        ({"bogus": 1}, r"\[task.bogus\] is not an option"),
        # clipped to [0, 1] per step: rate_hz = -50 trained on silence and exited 0
        ({"rate_hz": -50.0}, r"\[task.rate_hz\] rates must be >= 0"),
        ({"rate_hz": 1e300}, r"\[task.rate_hz\] rate x dt exceeds one spike per step"),
        # input and target made for another time step than the network's
        ({"dt": 5.0}, r"\[task.dt\] = 5.0 differs from the network's dt = 1.0 ms"),
    ],
)
def test_task_options_are_type_checked(opts, message):
    net = idn.network.LIF(n_in=3, n_rec=8, n_out=1)
    with pytest.raises(InputError, match=message):
        build_task({"kind": "pattern_generation", **opts}, net)


def test_good_task_options_build():
    net = idn.network.LIF(n_in=3, n_rec=8, n_out=1)
    task = build_task({"kind": "pattern_generation", "n_steps": 30, "rate_hz": 40}, net)
    assert task.n_steps == 30


def _trained(tmp_path, **training):
    """A 3-iteration training run in ``tmp_path/t``; returns (config dict, run folder)."""
    from infodyn.experiments.train_run import TrainConfig, run_training

    cfg = {
        "network": {"n_in": 3, "n_rec": 8, "n_out": 1},
        "task": {"kind": "pattern_generation", "n_steps": 30},
        "training": {"iterations": 3, "checkpoint_every": 1, **training},
    }
    run_training(TrainConfig(**cfg), tmp_path / "t")
    return cfg, tmp_path / "t"


def _resume(cfg, out, allow=False, refuse_complete=False, **training):
    from infodyn.experiments.train_run import TrainConfig, run_training

    new = {**cfg, "training": {**cfg["training"], **training}}
    return run_training(
        TrainConfig(**new),
        out,
        resume=True,
        allow_config_change=allow,
        refuse_complete=refuse_complete,
    )


def test_resume_refuses_what_it_cannot_continue_honestly(tmp_path):
    cfg, out = _trained(tmp_path)
    # fewer iterations than done: ran on, reported 3, recorded iterations = 2
    with pytest.raises(InputError, match="has done 3 iterations, more than the 2 asked for"):
        _resume(cfg, out, iterations=2)
    metrics = (out / "metrics.json").read_text()
    (out / "metrics.json").unlink()  # the history would start at the resumed iteration
    with pytest.raises(InputError, match="metrics.json is missing"):
        _resume(cfg, out, iterations=4)
    (out / "metrics.json").write_text(metrics.replace('"iteration": 2', '"iteration": 7'))
    with pytest.raises(InputError, match="does not hold one row for each of the checkpoint's 3"):
        _resume(cfg, out, iterations=4)
    (out / "metrics.json").write_text(metrics)
    assert _resume(cfg, out, iterations=4)["iterations"] == 4


def test_a_failed_resume_with_changes_leaves_the_config(tmp_path, monkeypatch):
    # the new settings were written first: a resume that then failed locked the run (its
    # config said lr = 1e30, which the checkpoint was never trained with)
    from infodyn.learning.trainer import Trainer

    cfg, out = _trained(tmp_path)
    before = (out / "config.json").read_bytes()

    def explode(self, *args, **kwargs):
        raise InputError("gradient exploded")

    monkeypatch.setattr(Trainer, "step", explode)
    with pytest.raises(InputError, match="gradient exploded"):
        _resume(cfg, out, allow=True, iterations=5, lr=0.5)
    assert (out / "config.json").read_bytes() == before
    monkeypatch.undo()
    _resume(cfg, out, allow=True, iterations=5, lr=0.5)
    stored = json.loads((out / "config.json").read_text())
    assert stored["resumed_with_changes"][-1]["changes"]["training.lr"] == [0.001, 0.5]


def test_an_explosion_after_a_checkpoint_gives_the_resume_options(tmp_path, monkeypatch):
    # the run's checkpoints were kept but the error named neither them nor how to continue
    from infodyn.experiments.train_run import TrainConfig, run_training
    from infodyn.learning.gradients import GradientExplosionError
    from infodyn.learning.trainer import Trainer

    exploded = GradientExplosionError("eprop gradient exploded (norm 1e+09 > 1e+08)")
    fail_at_call(monkeypatch, Trainer, "step", 3, exploded)
    cfg = {
        "network": {"n_in": 3, "n_rec": 8, "n_out": 1},
        "task": {"kind": "pattern_generation", "n_steps": 30},
        "training": {"iterations": 5, "checkpoint_every": 2},
    }
    with pytest.raises(GradientExplosionError) as info:
        run_training(TrainConfig(**cfg), tmp_path / "t")
    assert str(info.value) == (
        "eprop gradient exploded (norm 1e+09 > 1e+08); the run's last checkpoint, of 2 "
        f"iteration(s), is {tmp_path / 't' / 'checkpoint.npz'}: change the settings and "
        "continue with --resume --allow-config-change"
    )
    assert info.value.checkpoint == tmp_path / "t" / "checkpoint.npz"
    assert info.value.checkpoint_iteration == 2 and info.value.reason.startswith("eprop")
    assert (tmp_path / "t" / "config.json").exists()  # the run's, for the resume
    monkeypatch.undo()
    _resume(cfg, tmp_path / "t", allow=True, lr=1e-4)
    assert json.loads((tmp_path / "t" / "results.json").read_text())["iterations"] == 5


def test_a_changed_resume_that_checkpointed_then_failed_keeps_the_record(tmp_path, monkeypatch):
    # stopped (or failed) after its first checkpoint, a resume with --allow-config-change left
    # checkpoints trained at the new lr under a config that said the old one, with no record
    from infodyn.learning.trainer import Trainer

    cfg, out = _trained(tmp_path)
    fail_at_call(monkeypatch, Trainer, "step", 2, InputError("gradient exploded"))
    with pytest.raises(InputError, match="gradient exploded"):
        _resume(cfg, out, allow=True, iterations=6, lr=0.5)
    assert int(np.load(out / "checkpoint.npz")["iteration"]) == 4  # one iteration at lr 0.5
    stored = json.loads((out / "config.json").read_text())
    assert stored["config"]["training"]["lr"] == 0.5
    assert stored["resumed_with_changes"] == [
        {
            "from_iteration": 3,
            "changes": {"training.iterations": [3, 6], "training.lr": [0.001, 0.5]},
        }
    ]
    assert not (out / "results.json").exists()  # it described the 3-iteration run
    monkeypatch.undo()
    with pytest.raises(InputError, match=r"training.lr \(0.5 -> 0.001\)"):
        _resume(cfg, out, iterations=6)  # the original config: a change now


def test_every_resume_with_changes_stays_recorded(tmp_path):
    # the second resume's record replaced the first's: a run trained at lr 0.001, then 0.5,
    # then 0.1 said it was started at 0.5
    cfg, out = _trained(tmp_path)
    _resume(cfg, out, allow=True, iterations=4, lr=0.5)
    _resume({**cfg, "training": {**cfg["training"], "lr": 0.5}}, out, True, iterations=6, lr=0.1)
    stored = json.loads((out / "config.json").read_text())
    assert [
        (r["from_iteration"], r["changes"]["training.lr"]) for r in stored["resumed_with_changes"]
    ] == [(3, [0.001, 0.5]), (4, [0.5, 0.1])]
    assert stored["config"]["training"]["lr"] == 0.1


def test_resuming_a_complete_run_is_refused_and_changes_nothing(tmp_path):
    # it trained no further and rewrote the results (channel and demo refuse such a resume)
    cfg, out = _trained(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    with pytest.raises(InputError, match=r"complete \(it has done its 3 iterations; "):
        _resume(cfg, out, refuse_complete=True)
    with pytest.raises(InputError, match="raise \\[training\\] iterations"):
        _resume(cfg, out, allow=True, refuse_complete=True, lr=0.5)  # nothing trains under it
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    more = _resume(cfg, out, refuse_complete=True, iterations=4)  # training further goes on
    assert more["iterations"] == 4
    assert _resume(cfg, out, iterations=4)["iterations"] == 4  # a sweep point: made again


@pytest.mark.parametrize(
    ("training", "key"), [({"iterations": 0}, "iterations"), ({"train": []}, "train")]
)
def test_training_that_would_do_nothing_is_refused_when_the_config_is_read(training, key):
    from pydantic import ValidationError

    from infodyn.experiments.train_run import TrainConfig

    with pytest.raises((InputError, ValidationError), match=key):
        TrainConfig(training=training)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"network": {"n_in": 20}, "task": {"kind": "evidence_accumulation"}},
            r"\[task\] kind = 'evidence_accumulation' needs \[network\] n_in = 40 and n_out = 2",
        ),
        (
            {"network": {"n_in": 20}, "task": {"kind": "rate"}},  # "leave it out": never given
            r"\[\[loss\]\] kind = 'mse' \(the default, used when the config has no \[\[loss\]\]\) "
            r"needs a target, and \[task\] kind = 'rate' gives none: add \[\[loss\]\] tables",
        ),
        (
            {"network": {"n_in": 20}, "task": {"kind": "rate"}, "loss": [{"kind": "mse"}]},
            r"'mse' needs a target, and \[task\] kind = 'rate' gives none: leave it out",
        ),
        (  # only the term that needs one is named (it said "unit_rate, mse needs a target")
            {
                "network": {"n_in": 20},
                "task": {"kind": "rate"},
                "loss": [{"kind": "unit_rate"}, {"kind": "mse"}],
            },
            r"\[\[loss\]\] kind = 'mse' needs a target",
        ),
        (  # a softmax over one readout: refused at the first step before
            {"loss": [{"kind": "xent"}]},
            r"needs n_out >= 2 readouts",
        ),
        (  # named as the config names it (it said 'infomax_xent_bits')
            {"loss": [{"kind": "infomax"}]},
            r"the loss term 'infomax' needs n_out >= 2 readouts",
        ),
        ({"training": {"lr_scale": {"w_rec": -1.0}}}, r"\[training.lr_scale.w_rec\]"),
    ],
)
def test_what_the_run_refuses_at_its_start_is_refused_when_the_config_is_read(config, message):
    # `infodyn config show` passed these; `infodyn train` refused them at once
    from infodyn.experiments.config import validate

    with pytest.raises(InputError, match=message):
        validate(TrainConfig, config, source="t.toml")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        # "text" failed inside JAX (a TypeError about a LinearizeTracer) as an internal error
        ({"kind": "unit_rate", "r0_hz": "text"}, r"unit_rate.r0_hz must be a finite number"),
        # nan ran until the gradient "exploded", with advice about reset and eprop
        ({"kind": "rate_variance", "s_target": float("nan")}, r"s_target must be a finite"),
        ({"kind": "mse", "weight": True}, r"mse.weight must be a finite number"),
    ],
)
def test_loss_options_are_type_checked(entry, message):
    from infodyn.learning.registry import build_loss

    with pytest.raises(InputError, match=message):
        build_loss([entry])
    assert build_loss([{"kind": "unit_rate", "r0_hz": 5}]).terms[0].r0_hz == 5


def test_resume_without_a_run_leaves_no_folder(tmp_path):
    # `--resume` into a folder that does not exist made it (empty) before refusing
    cfg = {
        "network": {"n_in": 3, "n_rec": 8, "n_out": 1},
        "task": {"kind": "pattern_generation", "n_steps": 30},
        "training": {"iterations": 3},
    }
    with pytest.raises(InputError, match="no checkpoint.npz to resume from"):
        _resume(cfg, tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_bptt_of_sparse_weights_that_cannot_fit_is_refused_before_the_run_folder(
    tmp_path, monkeypatch
):
    from infodyn.memory import MemoryPreflightError

    cfg = {
        "network": {"n_in": 3, "n_rec": 300, "n_out": 1, "connectivity": "sparse", "k_in": 50},
        "task": {"kind": "pattern_generation", "n_steps": 100},
        "training": {"iterations": 1, "method": "bptt", "batch_size": 8},
    }
    need = 2.5 * 10 * 8 * 300 * 50 * 4  # BPTT_PEAK x ceil(sqrt(100)) x batch x nnz x float32
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", str(int(need * 0.9)))
    with pytest.raises(MemoryPreflightError, match="BPTT's residuals .*method='eprop'"):
        run_training(TrainConfig(**cfg), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_run_whose_evaluation_cannot_fit_is_refused_before_training(tmp_path, monkeypatch):
    """The trained weights' evaluation on batch_size fresh trials (every trace) was checked
    after the whole training, and refused with advice `infodyn train` cannot take
    (record=False, simulate_to_file)."""
    from infodyn.learning.trainer import Trainer
    from infodyn.memory import MemoryPreflightError

    monkeypatch.setattr(Trainer, "fit", lambda *a, **k: pytest.fail("trained before the check"))
    cfg = {
        "network": {"n_in": 3, "n_rec": 300, "n_out": 1},
        "task": {"kind": "pattern_generation", "n_steps": 200},
        "training": {"iterations": 1, "batch_size": 32},
    }
    # a training batch: 4 x 32 x 200 x (3 + 600) = 15.4 MB, fits; the evaluation's traces:
    # 2 x 32 x 200 x (3 x 300 + 1) x 4 = 46.1 MB and its input, not
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "30M")
    with pytest.raises(
        MemoryPreflightError,
        match=r"^the evaluation of the trained weights on 32 fresh trials .* 32 x 200 steps x 300 "
        r"units\) needs 44.\d MiB .*; use a smaller \[training\] batch_size or fewer \[task\]",
    ):
        run_training(TrainConfig(**cfg), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_train_cli_passes_allow_config_change_with_resume(tmp_path, monkeypatch, capsys):
    """T3 (tests/experiments/test_train_run.py): ``--resume --allow-config-change`` reaches
    run_training (it was the only way to resume an edited config)."""
    (tmp_path / "t.toml").write_text(TRAIN)
    fake = {
        "iterations": 3,
        "method": "eprop",
        "initial_loss": 1.0,
        "final_loss": 0.5,
        "final": {"mean_rate_hz": 1.0},
        "trained": {"n_trials": 8, "loss": 0.4, "mean_rate_hz": 1.0},
    }
    calls = record_calls(monkeypatch, "infodyn.experiments.train_run", "run_training", fake)
    argv = ["train", tmp_path / "t.toml", "--out", tmp_path / "run"]
    rc, out, err = cli_in_process([*argv, "--resume", "--allow-config-change"], capsys)
    assert rc == 0, err
    assert calls[-1][1]["resume"] is True and calls[-1][1]["allow_config_change"] is True
    assert calls[-1][1]["refuse_complete"] is True  # a complete run: nothing to resume
    rc, out, err = cli_in_process([*argv, "--resume"], capsys)
    assert rc == 0, err
    assert calls[-1][1]["allow_config_change"] is False


def test_train_loss_ratio_is_initial_over_final(tmp_path):
    """Z2: results.json's loss_ratio is initial / final loss (> 1 when the loss fell)."""

    cfg = {
        "network": {"n_in": 3, "n_rec": 8, "n_out": 1},
        "task": {"kind": "pattern_generation", "n_steps": 30},
        "training": {"iterations": 2},
    }
    res = run_training(TrainConfig(**cfg), tmp_path / "t")
    assert res["loss_ratio"] == pytest.approx(res["initial_loss"] / res["final_loss"])
    saved = json.loads((tmp_path / "t" / "results.json").read_text())
    assert saved["loss_ratio"] == pytest.approx(saved["initial_loss"] / saved["final_loss"])


def test_every_task_rate_option_is_checked_when_the_task_is_built():
    """Z3: every ``*_rate_hz`` option, not only ``rate_hz``, is checked where the config is
    read (a negative cue rate was found only when the first batch was drawn)."""
    import infodyn as idn

    net = idn.network.LIF(n_in=40, n_rec=8, n_out=2)
    with pytest.raises(InputError, match=r"\[task.cue_rate_hz\] rates must be >= 0"):
        build_task({"kind": "evidence_accumulation", "cue_rate_hz": -5.0}, net)


def test_task_refusals_name_the_task_table():
    """Z4: a task's own refusal (an InputError, a ValueError) is said under [task], so the user
    knows which table of the config to edit."""
    import infodyn as idn

    net = idn.network.LIF(n_in=40, n_rec=8, n_out=2)
    with pytest.raises(InputError, match=r"^\[task\] n_cues must be odd"):
        build_task({"kind": "evidence_accumulation", "n_cues": 4}, net)


def test_results_give_the_trained_weights_on_the_figures_trials(tmp_path):
    """results.json's "final" is the last iteration's record, taken before its update: it read
    7.97 Hz where the rate figure, made from the trained weights, read 6.37. "trained" holds
    the trained weights on fresh trials, the trials of the figures."""
    import infodyn as idn
    from infodyn.learning.tasks import PatternGeneration

    cfg = {
        "network": {"n_in": 3, "n_rec": 8, "n_out": 1},
        "task": {"kind": "pattern_generation", "n_steps": 30},
        "training": {"iterations": 2, "batch_size": 3},
    }
    res = run_training(TrainConfig(**cfg), tmp_path / "t")
    trained = json.loads((tmp_path / "t" / "results.json").read_text())["trained"]
    assert trained == pytest.approx(res["trained"]) and trained["n_trials"] == 3
    net = idn.network.LIF(n_in=3, n_rec=8, n_out=1)
    with np.load(tmp_path / "t" / "checkpoint.npz") as ckpt:
        params = {k: ckpt[f"param_{k}"] for k in ("w_in", "w_rec", "w_out")}
    x, target = PatternGeneration(n_in=3, n_steps=30).batch(np.random.default_rng([0, 10**9]), 3)
    ev = idn.learning.evaluate(net, params, x, target, "mse")
    assert trained["loss"] == pytest.approx(ev.loss, rel=1e-6)
    rate = net.simulate(params, x, engine="jax").rates_hz().mean()
    assert trained["mean_rate_hz"] == pytest.approx(rate, rel=1e-6)


def test_the_resolved_config_gives_every_task_and_loss_option():
    # config show and config.json gave [task] and [[loss]] as the file named them: the defaults
    # of PatternGeneration and FiringRateRegularizer were nowhere to be read
    from infodyn.experiments.config import resolved, validate

    cfg = TrainConfig(
        network={"n_in": 3, "n_rec": 8, "n_out": 1},
        loss=[{"kind": "mse"}, {"kind": "rate_reg", "weight": 0.1}],
    )
    full = resolved(cfg)
    assert full["task"] == {
        "kind": "pattern_generation",
        "n_in": 3,  # the network's
        "n_steps": 1000,
        "rate_hz": 50.0,
        "dt": 1.0,
        "periods_ms": [1000.0, 500.0, 333.0, 200.0],
        "seed": 0,
    }
    assert full["loss"] == [
        {"kind": "mse", "weight": 1.0},
        {"kind": "rate_reg", "weight": 0.1, "f_target_hz": 10.0, "per_sequence": False},
    ]
    assert resolved(validate(TrainConfig, full)) == full  # it rebuilds the same run
    evidence = TrainConfig(
        network={"n_in": 40, "n_rec": 8, "n_out": 2}, task={"kind": "evidence_accumulation"}
    )
    assert resolved(evidence)["task"]["p_group"] == 0.3


def test_a_run_whose_config_predates_the_task_and_loss_defaults_resumes(tmp_path):
    # its config.json names the options the file gave; resolved now it lists every default,
    # which is no change of the run
    cfg, out = _trained(tmp_path)
    stored = json.loads((out / "config.json").read_text())
    stored["config"]["task"] = {"kind": "pattern_generation", "n_steps": 30}
    stored["config"]["loss"] = [{"kind": "mse"}]
    (out / "config.json").write_text(json.dumps(stored))
    assert _resume(cfg, out, iterations=4)["iterations"] == 4
    record = json.loads((out / "config.json").read_text())["resumed_with_changes"]
    assert record == [{"from_iteration": 3, "changes": {"training.iterations": [3, 4]}}]
    with pytest.raises(InputError, match=r"task.n_steps \(30 -> 40\)"):
        _resume({**cfg, "task": {"kind": "pattern_generation", "n_steps": 40}}, out, iterations=5)


def test_a_fresh_run_failing_before_its_first_checkpoint_leaves_nothing(tmp_path, monkeypatch):
    # a run that exploded at iteration 1 left a folder holding its config.json alone
    from infodyn.learning.trainer import Trainer

    def explode(self, *args, **kwargs):
        raise InputError("gradient exploded")

    monkeypatch.setattr(Trainer, "step", explode)
    cfg = {"network": {"n_in": 3, "n_rec": 8, "n_out": 1}, "task": {"n_steps": 30}}
    with pytest.raises(InputError, match="gradient exploded"):
        run_training(TrainConfig(**cfg), tmp_path / "new")
    assert not (tmp_path / "new").exists()
    (tmp_path / "mine").mkdir()  # a folder the user made stays, empty
    with pytest.raises(InputError, match="gradient exploded"):
        run_training(TrainConfig(**cfg), tmp_path / "mine")
    assert (tmp_path / "mine").is_dir() and not list((tmp_path / "mine").iterdir())


@pytest.mark.parametrize("where", ["making the trainer", "just after config.json"])
def test_a_fresh_run_interrupted_before_training_leaves_nothing(tmp_path, monkeypatch, where):
    """A second Ctrl-C during start-up (after config.json, before the training's try) left a
    folder holding config.json alone; its --resume said "no checkpoint.npz to resume from"."""
    from infodyn.experiments.rundir import RunDir
    from infodyn.learning.trainer import Trainer

    if where == "making the trainer":
        monkeypatch.setattr(
            Trainer, "__init__", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
        )
    else:
        write_config = RunDir.write_config

        def then_interrupted(self, *args, **kwargs):
            write_config(self, *args, **kwargs)
            raise KeyboardInterrupt

        monkeypatch.setattr(RunDir, "write_config", then_interrupted)
    cfg = {"network": {"n_in": 3, "n_rec": 8, "n_out": 1}, "task": {"n_steps": 30}}
    with pytest.raises(KeyboardInterrupt):
        run_training(TrainConfig(**cfg), tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_a_fresh_run_over_a_finished_one_retires_its_results_at_once(tmp_path, monkeypatch):
    # a fresh run that failed after its last checkpoint left the earlier run's results.json
    # beside its own config and checkpoint, and its resume was refused as complete
    import infodyn.experiments.train_run as train_run

    cfg, out = _trained(tmp_path)
    monkeypatch.setattr(
        train_run, "_figures", lambda *a: (_ for _ in ()).throw(OSError(28, "full"))
    )
    with pytest.raises(OSError):
        run_training(TrainConfig(**{**cfg, "training": {**cfg["training"], "lr": 0.05}}), out)
    assert not (out / "results.json").exists()
    monkeypatch.undo()
    new = {**cfg, "training": {**cfg["training"], "lr": 0.05}}
    done = run_training(TrainConfig(**new), out, resume=True, refuse_complete=True)
    assert done["iterations"] == 3 and (out / "results.json").exists()


def test_a_killed_checkpoint_writes_temporary_file_is_removed_by_the_next_run(tmp_path):
    """kill -9 while a checkpoint was written left .checkpoint.npz.XXXX.npz.tmp, up to a
    checkpoint's size; no run removed them and they piled up under repeated pre-emption."""
    cfg, out = _trained(tmp_path)
    left = out / ".checkpoint.npz.k1ll3d.npz.tmp"
    left.write_bytes(b"half a checkpoint")
    _resume(cfg, out, allow=True, iterations=4)
    assert not left.exists()


def test_a_classification_runs_output_figure_shows_class_probabilities(tmp_path, monkeypatch):
    """For a cross-entropy task the target is class weights in the recall window (about 0.007):
    drawn beside the readouts it read as a target of 0 for the whole trial, with no y label."""
    from infodyn.experiments.rundir import RunDir

    figures = {}
    monkeypatch.setattr(RunDir, "savefig", lambda self, fig, name: figures.update({name: fig}))
    cfg = {
        "network": {"n_in": 40, "n_rec": 8, "n_out": 2},
        "task": {"kind": "evidence_accumulation", "n_cues": 1, "cue_ms": 20, "gap_ms": 10,
                 "delay_ms": 20, "recall_ms": 30},
        "loss": [{"kind": "xent"}],
        "training": {"iterations": 1, "batch_size": 2},
    }  # fmt: skip
    for loss in ("xent", "infomax"):  # both weight the decision steps by class
        run_training(TrainConfig(**{**cfg, "loss": [{"kind": loss}]}), tmp_path / loss)
        ax = figures["output"].axes[0]
        assert ax.get_ylabel() == "softmax of the readouts", loss
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels[:2] == ["p(class 0)", "p(class 1)"] and "decision window (cl" in labels[2]
        for line in ax.get_lines():
            assert 0.0 <= line.get_ydata().min() and line.get_ydata().max() <= 1.0


def test_every_train_run_marks_its_results_written(tmp_path, monkeypatch):
    # a fresh run writes results.json without RunDir.finish: a signal right after its summary
    # line still ended it with 130
    from infodyn.experiments import interrupt

    interrupt.command_running(True)
    try:
        _trained(tmp_path)
        assert interrupt._state["finished"]
    finally:
        interrupt.command_running(False)


def test_a_second_training_in_a_running_ones_folder_is_refused(tmp_path, capsys):
    # both ran: the second replaced the first's checkpoints, config and results, and both said
    # they had succeeded
    from infodyn.experiments.sweep_lock import folder_lock
    from infodyn.experiments.train_run import LOCK_NAME

    cfg = {
        "network": {"n_in": 3, "n_rec": 8, "n_out": 1},
        "task": {"kind": "pattern_generation", "n_steps": 30},
        "training": {"iterations": 2},
    }
    out = tmp_path / "t"
    out.mkdir()
    with folder_lock(out, LOCK_NAME, "training"):  # a training running there (this process)
        with pytest.raises(InputError, match=r"another training is running in .*t \(pid"):
            run_training(TrainConfig(**cfg), out)
        (out / "checkpoint.npz").write_bytes(b"its first checkpoint")
        path = tmp_path / "c.toml"
        path.write_text(TRAIN)
        rc, _, err = cli_in_process(["train", path, "--out", out], capsys)
        assert rc == 2 and "another training is running" in err  # not "pass --resume"
        assert sorted(p.name for p in out.iterdir()) == [".train.lock", "checkpoint.npz"]
    (out / "checkpoint.npz").unlink()
    run_training(TrainConfig(**cfg), out)  # the lock released: it trains
    assert not (out / LOCK_NAME).exists() and (out / "results.json").exists()
