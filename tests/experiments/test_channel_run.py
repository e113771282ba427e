"""The channel experiment's runs and summary (infodyn.experiments.channel: config, run,
summary): boundary values, the network it builds, stimulus rates and intervals over seeds."""

import json
import math

import numpy as np
import pytest

from infodyn.experiments.channel.config import ChannelConfig
from infodyn.experiments.channel.run import build_channel_network
from infodyn.experiments.channel.summary import summarize


def _channel(**kw):
    base = dict(
        n_in=10,
        n_rec=6,
        n_stimuli=2,
        n_steps=40,
        response_start=10,
        input_strengths=[2.0],
        seeds=[0],
        conditions=["info"],
        n_iterations=1,
        trials_per_stimulus=2,
        test_trials_per_stimulus=6,
        bin_steps=10,
        n_subsets=1,
        n_shuffles=1,
    )
    return ChannelConfig(**{**base, **kw})


class _Passed(Exception):
    pass


@pytest.mark.parametrize("kw", [{"response_start": 30}, {"input_strengths": [0.0, 1.0]}])
def test_channel_accepts_the_boundary_values(kw, tmp_path, monkeypatch):
    """response_start + bin_steps may equal n_steps (the last word fits exactly); an input
    strength of 0 is allowed (">= 0"). The run is stopped right after the checks."""
    import infodyn.experiments.channel.run as cr

    def stop(*a, **k):
        raise _Passed

    monkeypatch.setattr(cr, "check_trials_memory", stop)
    with pytest.raises(_Passed):
        cr.run_channel(_channel(**kw), tmp_path / "run")


@pytest.mark.parametrize(
    "kw", [{"seeds": [0, 0]}, {"input_strengths": [1.0, 1]}, {"conditions": ["info", "info"]}]
)
def test_channel_refuses_a_value_given_twice(kw):
    # ran the same networks twice and wrote their rows twice into table.csv
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="more than once"):
        _channel(**kw)


@pytest.mark.parametrize("key", ["conditions", "input_strengths", "seeds"])
def test_channel_refuses_an_empty_list(key):
    # conditions = [] trained nothing and wrote a results table without rows
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="at least 1 item"):
        _channel(**{key: []})


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"input_rate_hz": 600.0}, "input_rate_hz = 600: the constant stimuli draw rates up to"),
        (
            {"adaptation": True, "adapt_window_ms": 500.0, "n_steps": 40},
            "adapt_window_ms = 500 is longer than a trial",
        ),
        ({"r0_hz": 5000.0}, "r0_hz = 5000 is above .* 1000 / \\(n_ref \\+ 1\\) = 333.333 Hz"),
        ({"r0_hz": 101.0, "n_ref": 9}, "give r0_hz <= 100"),
        # run_channel's own check named neither the file nor [channel]
        ({"n_steps": 20, "response_start": 15}, "response_start \\+ bin_steps = 15 \\+ 10 must"),
    ],
)
def test_channel_refuses_keys_that_failed_only_once_the_networks_ran(kw, message):
    """They failed after training had started, naming neither key ("max_rate must be > 0 and
    at most one spike per step", "need at least one window of 500 steps, got T = 40")."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        _channel(**kw)
    _channel(input_rate_hz=500.0, stimulus="filtered_noise")  # the noise's own check applies
    _channel(r0_hz=100.0, n_ref=9)  # the highest rate itself is a target


def test_channel_network_uses_the_configured_refractory_period():
    cfg = _channel(n_ref=5, tau_m=15.0, v_th=0.05)
    net = build_channel_network(cfg, 3.0)
    assert (net.n_ref, net.tau_m, net.v_th, net.n_out) == (5, 15.0, 0.05, 2)


def test_constant_stimuli_have_the_configured_mean_rate(monkeypatch):
    """'constant' stimuli: rates uniform on [0, 2 x input_rate_hz], so their mean is the
    configured mean input rate."""
    import infodyn.experiments.channel.run as cr

    seen = []
    real = cr.StimulusSet

    class Recording:
        @staticmethod
        def constant(*a, **k):
            s = real.constant(*a, **k)
            seen.append(s)
            raise _Passed

    monkeypatch.setattr(cr, "StimulusSet", Recording)
    with pytest.raises(_Passed):
        cr.run_one(_channel(n_in=200, n_stimuli=8, input_rate_hz=20.0), 1.0, 0)
    rates = seen[0].rates_hz
    assert rates.max() <= 40.0 and rates.mean() == pytest.approx(20.0, rel=0.05)


def test_channel_summary_mean_and_t_interval_over_seeds():
    """95 % t-interval over seeds: t_{0.975, n-1} s / sqrt(n), s with ddof = 1; a NaN seed
    (e.g. an estimator that failed) is left out."""

    rows = [{"strength": 1.0, "condition": "info", "mi_bits": v} for v in (1.0, 2.0, 3.0, np.nan)]
    (rec,) = summarize(rows, keys=("mi_bits",))
    assert rec["mi_bits"] == pytest.approx(2.0)
    assert rec["mi_bits_ci95"] == pytest.approx(4.302652729911275 * 1.0 / math.sqrt(3))
    assert (rec["n_seeds"], rec["mi_bits_n"]) == (4, 3)  # the NaN seed counted apart


def test_condition_means_compare_the_conditions_on_the_same_networks():
    """A sweep's results.csv keeps scalars only: without these a channel sweep had no column to
    plot. Each condition skipped its own NaN, so the untrained m averaged strength 2.5 alone
    and the trained m strength 0.5 alone ("training lowered m"): the means now take the
    networks (strength, seed) where every condition's value is finite, and count them."""
    from infodyn.experiments.channel.summary import condition_means

    def row(cond, strength, mi, m, rate, tc):
        keys = ("condition", "strength", "seed", "mi_bits", "m", "rate_hz", "tc_bits")
        return dict(zip(keys, (cond, strength, 0, mi, m, rate, tc), strict=True))

    rows = [
        row("untrained", 0.5, 0.5, None, 4.0, 1.0),
        row("info", 0.5, 1.0, 0.9, 9.0, 2.0),
        row("untrained", 2.5, 1.5, 0.4, 6.0, 3.0),
        row("info", 2.5, math.nan, None, 11.0, 4.0),
    ]
    means = condition_means(rows)
    assert list(means) == ["untrained", "info"]
    assert means["untrained"] == pytest.approx(
        {"mi_bits": 0.5, "mi_bits_n": 1, "m": math.nan, "m_n": 0, "rate_hz": 5.0,
         "rate_hz_n": 2, "tc_bits": 2.0, "tc_bits_n": 2},
        nan_ok=True,
    )  # fmt: skip
    assert means["info"]["mi_bits"] == 1.0 and means["info"]["rate_hz"] == 10.0


def test_a_channel_sweep_plots_the_info_conditions_information_by_default():
    from infodyn.experiments.config import get_command

    assert get_command("channel").summary_metric == "means.info.mi_bits"


def test_filtered_noise_beyond_one_spike_a_step_is_refused_before_the_folder(tmp_path):
    # it failed mid-run ("rate x dt exceeds one spike per step"), naming no key, leaving an
    # empty run folder
    from infodyn.errors import InputError
    from infodyn.experiments.channel.run import run_channel

    cfg = _channel(stimulus="filtered_noise", input_rate_hz=400.0, contrast=2.0)
    with pytest.raises(InputError, match=r"^\[channel\] input_rate_hz = 400 with contrast = 2"):
        run_channel(cfg, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_channel_run_that_fails_part_way_lets_a_plain_rerun_start(tmp_path, monkeypatch):
    """A network refused part way (an exploding gradient is an InputError) left progress.json
    as an interrupted run's: the rerun was refused ("pass --resume"), and --resume refused the
    corrected config. The journal now says the run failed; a plain rerun starts afresh over
    it and says which finished networks it discards (--resume would reuse them)."""
    from infodyn.errors import InputError
    from infodyn.experiments.channel import run as cr

    done = []

    def run_one(cfg, g, seed, journal, checkpoints):
        if seed == 1:
            raise InputError("eprop gradient exploded")
        done.append(seed)
        row = {"m": 0.5, "mi_bits": 0.1, "rate_hz": 5.0, "condition": "info"}
        return [journal.put(f"strength={g!r} seed={seed} condition=info", row)]

    monkeypatch.setattr(cr, "run_one", run_one)
    cfg = _channel(seeds=[0, 1])
    with pytest.raises(InputError, match="exploded"):
        cr.run_channel(cfg, tmp_path / "run")
    assert "exploded" in (tmp_path / "run" / "progress.json").read_text()
    with pytest.raises(InputError, match="exploded"):  # not "holds an interrupted run"
        with pytest.warns(
            UserWarning, match="'strength=2.0 seed=0 condition=info'.* discarded.*--resume would"
        ):
            cr.run_channel(cfg, tmp_path / "run")
    assert done == [0, 0]  # seed 0 ran again: a plain rerun starts afresh


class _Killed(BaseException):
    """A SIGKILL's stand-in: nothing after it runs (no interrupt handler, no checkpoint)."""


def test_a_channel_run_killed_in_a_training_resumes_from_its_last_checkpoint(tmp_path, monkeypatch):
    """A SIGKILL lost the network in progress, all its conditions' trainings: each finished
    condition is now journalled and each training checkpointed every tenth of its iterations;
    --resume continues there and gives the rows of an uninterrupted run."""
    from faultkit import fail_at_call

    from infodyn.experiments.channel.run import TRAINING_CHECKPOINTS, run_channel
    from infodyn.learning.trainer import Trainer

    cfg = _channel(conditions=["rate", "info"], n_iterations=20)
    ref = run_channel(cfg, tmp_path / "ref")["rows"]
    assert not (tmp_path / "ref" / TRAINING_CHECKPOINTS).exists()
    fail_at_call(monkeypatch, Trainer, "step", 20 + 7, _Killed())  # info's 7th iteration
    with pytest.raises(_Killed):
        run_channel(cfg, tmp_path / "run")
    steps = json.loads((tmp_path / "run" / "progress.json").read_text())["steps"]
    assert sorted(steps) == [
        "strength=2.0 seed=0 condition=rate",
        "strength=2.0 seed=0 condition=untrained",
    ]
    folders = list((tmp_path / "run" / TRAINING_CHECKPOINTS).iterdir())
    assert [f.name for f in folders] == ["strength=2.0_seed=0_info"]  # rate's was removed
    assert np.load(folders[0] / "checkpoint.npz")["iteration"] == 6
    monkeypatch.undo()
    steps_run = []
    step = Trainer.step
    monkeypatch.setattr(Trainer, "step", lambda self: steps_run.append(1) or step(self))
    got = run_channel(cfg, tmp_path / "run", resume=True)["rows"]
    assert len(steps_run) == 20 - 6  # from the checkpoint on
    assert not (tmp_path / "run" / TRAINING_CHECKPOINTS).exists()
    drop = ("train_seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in got] == [
        {k: v for k, v in r.items() if k not in drop} for r in ref
    ]
