"""Stopping on signals (infodyn.experiments.interrupt): a second signal whose KeyboardInterrupt
a garbage-collection callback swallowed stops the run at the next check."""

import gc
import signal
import sys
import types
from pathlib import Path

import pytest

from infodyn.experiments import interrupt
from infodyn.experiments.interrupt import (
    Interrupted,
    check,
    checkpoint_on_signal,
    graceful,
    requested,
    resumable_iterations,
)


def test_second_signal_swallowed_by_a_gc_callback_is_raised_at_the_next_check(capsys):
    # Python runs a signal handler wherever the main thread is; inside a gc callback (JAX has
    # one) its KeyboardInterrupt is reported as "Exception ignored" and dropped: a run that
    # failed so took the one-signal path and printed a traceback
    def second_signal_during_gc(phase, info):
        if phase == "start":
            interrupt._handler(signal.SIGTERM, None)

    with pytest.raises(KeyboardInterrupt), graceful():
        interrupt._handler(signal.SIGINT, None)
        with pytest.raises(Interrupted, match="stopped on SIGINT"):
            check("one signal")
        gc.callbacks.append(second_signal_during_gc)
        try:
            gc.collect()  # the handler raises inside the callback; gc drops the exception
        finally:
            gc.callbacks.remove(second_signal_during_gc)
        check("after the swallowed second signal")
    err = capsys.readouterr().err
    assert "got SIGINT" in err and "Traceback" not in err and "Exception ignored" not in err, err
    check("outside graceful: no signal recorded")  # the state was reset on the way out


def test_other_unraisable_exceptions_are_still_reported(monkeypatch):
    seen = []

    def record(unraisable):
        seen.append(unraisable.exc_value)

    monkeypatch.setattr(sys, "unraisablehook", record)

    def failing_gc_callback(phase, info):
        if phase == "start":
            raise RuntimeError("a real problem in a callback")

    with graceful():
        gc.callbacks.append(failing_gc_callback)
        try:
            gc.collect()
        finally:
            gc.callbacks.remove(failing_gc_callback)
    assert [str(e) for e in seen] == ["a real problem in a callback"]
    assert sys.unraisablehook is record  # restored on the way out


class _FakeTrainer:
    def __init__(self, iteration=0):
        self.state = types.SimpleNamespace(iteration=iteration)
        self.saved, self.loaded = [], []

    def load_checkpoint(self, path):
        self.loaded.append(Path(path))
        self.state.iteration = 3

    def save_checkpoint(self, path):
        self.saved.append(Path(path))


def test_interrupted_message_says_how_to_resume():
    with pytest.raises(Interrupted, match=r"^stopped; resume with: infodyn train c.toml --resume$"):
        with graceful(resume="infodyn train c.toml --resume"):
            raise Interrupted("stopped")


def test_resumable_iterations_load_only_with_resume(tmp_path):
    ckpt = tmp_path / "checkpoint.npz"
    ckpt.write_bytes(b"x")
    fresh = _FakeTrainer()
    assert list(resumable_iterations(fresh, 5, ckpt, resume=False)) == [0, 1, 2, 3, 4]
    assert fresh.loaded == []  # a fresh start ignores an old checkpoint
    resumed = _FakeTrainer()
    assert list(resumable_iterations(resumed, 5, ckpt, resume=True)) == [3, 4]
    assert resumed.loaded == [ckpt]


def test_resumable_iterations_checkpoint_after_a_signal(tmp_path, monkeypatch):
    trainer = _FakeTrainer()
    ckpt = tmp_path / "c.npz"
    it = resumable_iterations(trainer, 5, ckpt, resume=False)
    assert next(it) == 0
    monkeypatch.setitem(interrupt._state, "signal", "SIGTERM")
    with pytest.raises(Interrupted, match=r"iteration 1 of 5 finished and checkpointed"):
        next(it)
    assert trainer.saved == [ckpt]


def test_checkpoint_on_signal_writes_the_checkpoint_then_stops(tmp_path, monkeypatch):
    trainer = _FakeTrainer(iteration=4)
    callback = checkpoint_on_signal(tmp_path / "c.npz", 10)
    callback(trainer, {})  # no signal: nothing written
    assert trainer.saved == []
    monkeypatch.setitem(interrupt._state, "signal", "SIGINT")
    with pytest.raises(Interrupted, match=r"iteration 4 of 10 finished and checkpointed"):
        callback(trainer, {})
    assert trainer.saved == [tmp_path / "c.npz"]


def test_graceful_handles_sigterm_and_restores_the_handlers(capsys):
    seen = []

    def mine(signum, frame):
        seen.append(signum)

    old = {s: signal.signal(s, mine) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with graceful():
            signal.raise_signal(signal.SIGTERM)  # a batch scheduler's kill
            assert requested() == "SIGTERM"
        assert seen == [] and "got SIGTERM" in capsys.readouterr().err
        assert requested() is None and not interrupt._state["active"]
        assert signal.getsignal(signal.SIGINT) is mine and signal.getsignal(signal.SIGTERM) is mine
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def test_a_nested_graceful_keeps_the_outer_signal():
    with graceful():
        interrupt._handler(signal.SIGINT, None)
        with graceful():  # e.g. a command run from another one
            assert requested() == "SIGINT"
        assert requested() == "SIGINT"


def test_ctrl_c_swallowed_by_a_gc_callback_at_start_up_stops_the_next_graceful_block(
    monkeypatch,
):
    # Ctrl-C during JAX's import (the CLI's start-up) was reported as "Exception ignored" and
    # lost: the command ran on to the end
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    monkeypatch.setitem(interrupt._state, "swallowed", False)
    interrupt.keep_swallowed_interrupts()
    interrupt.keep_swallowed_interrupts()  # installed once
    assert sys.unraisablehook is not reported.append

    def ctrl_c_during_gc(phase, info):
        if phase == "start":
            raise KeyboardInterrupt

    def failing_gc_callback(phase, info):
        if phase == "start":
            raise RuntimeError("a real problem in a callback")

    for callback in (ctrl_c_during_gc, failing_gc_callback):
        gc.callbacks.append(callback)
        try:
            gc.collect()
        finally:
            gc.callbacks.remove(callback)
    assert [str(u.exc_value) for u in reported] == ["a real problem in a callback"]
    with pytest.raises(KeyboardInterrupt), graceful():
        pytest.fail("the block ran after a Ctrl-C")
    with graceful():  # raised once
        pass
