"""Stopping on signals (infodyn.experiments.interrupt): an interrupt is never raised inside an
import, and one a garbage-collection callback dropped is delivered again."""

import gc
import signal
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest
from faultkit import start_python

from infodyn.experiments import interrupt
from infodyn.experiments.interrupt import (
    Interrupted,
    check,
    checkpoint_on_signal,
    graceful,
    requested,
    resumable_iterations,
)


@pytest.fixture(autouse=True)
def _no_interrupt_left_behind():
    """Each test starts with Python's SIGINT handler and leaves no pending redelivery and no
    hook of :func:`command_line_interrupts` behind."""
    before, hook = signal.signal(signal.SIGINT, signal.default_int_handler), sys.unraisablehook
    yield
    sys.unraisablehook = hook
    timer = interrupt._state["timer"]
    if timer is not None:
        timer.cancel()
    interrupt._state.update(deferred=False, redelivering=False, timer=None)
    signal.signal(signal.SIGINT, before)


def _wait_for_interrupt(seconds: float = 10.0) -> None:
    """Wait for a KeyboardInterrupt (the test fails if none comes within ``seconds``)."""
    with pytest.raises(KeyboardInterrupt):
        time.sleep(seconds)


def _collect_with(callback) -> None:
    gc.callbacks.append(callback)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(callback)


def _module(tmp_path, monkeypatch, name: str, body: str) -> str:
    """A module ``name`` in ``tmp_path`` (on ``sys.path``) whose import runs ``body``."""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


_CTRL_C_THEN_WORK = """
    import signal, time
    signal.raise_signal(signal.SIGINT)  # Ctrl-C while this module is imported
    t = time.monotonic()
    while time.monotonic() - t < 0.3:  # work on, as a compiled extension's set-up would
        pass
    done = True
"""


def test_ctrl_c_during_an_import_is_raised_when_the_import_is_done(tmp_path, monkeypatch):
    # raised inside jaxlib's initialisation, a KeyboardInterrupt aborted the process or was lost
    name = _module(tmp_path, monkeypatch, "ctrl_c_then_work", _CTRL_C_THEN_WORK)
    interrupt.command_line_interrupts()
    with pytest.raises(KeyboardInterrupt):
        __import__(name)
        time.sleep(10)  # delivered again a moment after the import
    assert sys.modules[name].done  # not interrupted: the import ran to its end
    assert not interrupt._state["deferred"]
    assert signal.getsignal(signal.SIGINT) is interrupt._outside_graceful  # outside: as before
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


def test_a_second_ctrl_c_during_the_same_import_stops_at_once(tmp_path, monkeypatch):
    body = """
        import signal
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)  # the user presses again
        done = True
    """
    name = _module(tmp_path, monkeypatch, "ctrl_c_twice", body)
    interrupt.command_line_interrupts()
    with pytest.raises(KeyboardInterrupt):
        __import__(name)
    assert name not in sys.modules and not interrupt._state["deferred"]


def test_ctrl_c_deferred_before_graceful_stops_it_at_its_entry(tmp_path, monkeypatch, capsys):
    name = _module(tmp_path, monkeypatch, "ctrl_c_before_the_block", _CTRL_C_THEN_WORK)
    monkeypatch.setattr(interrupt, "REDELIVERY_S", 3.0)  # after the block's entry below
    interrupt.command_line_interrupts()
    __import__(name)
    with pytest.raises(KeyboardInterrupt), graceful():
        pytest.fail("the block ran after a Ctrl-C at start-up")
    time.sleep(3.5)  # the redelivery, taken at the entry, is ignored (3 s: a loaded
    # machine's stall before the entry would let it come first)
    assert not interrupt._state["deferred"] and interrupt._state["timer"] is None
    with graceful():  # raised once
        pass
    assert "got SIG" not in capsys.readouterr().err


@pytest.mark.parametrize("sigint", ["default", "ignored"])
def test_a_second_signal_during_an_import_in_graceful_waits_for_the_import(
    sigint, tmp_path, monkeypatch
):
    if sigint == "ignored":  # a background job: the redelivery comes as SIGTERM
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    body = _CTRL_C_THEN_WORK.replace("signal.SIGINT)", "signal.SIGTERM)")
    name = _module(tmp_path, monkeypatch, "second_signal_then_work", body)
    with pytest.raises(KeyboardInterrupt), graceful():
        interrupt._handler(signal.SIGTERM, None)
        __import__(name)
        time.sleep(10)
    assert sys.modules[name].done


def test_second_signal_dropped_by_a_gc_callback_is_delivered_again(capsys):
    # Python runs a signal handler wherever the main thread is; inside a gc callback (JAX has
    # one) its KeyboardInterrupt is reported as "Exception ignored" and dropped: a run that
    # failed so took the one-signal path and printed a traceback
    def second_signal_during_gc(phase, info):
        if phase == "start":
            interrupt._handler(signal.SIGTERM, None)

    with graceful():
        interrupt._handler(signal.SIGINT, None)
        with pytest.raises(Interrupted, match="stopped on SIGINT"):
            check("one signal")
        _collect_with(second_signal_during_gc)  # raised inside the callback and dropped
        _wait_for_interrupt()
    err = capsys.readouterr().err
    assert "got SIGINT" in err and "Traceback" not in err and "Exception ignored" not in err, err
    check("outside graceful: no signal recorded")  # the state was reset on the way out


def test_ctrl_c_dropped_by_a_gc_callback_at_start_up_is_delivered_again(monkeypatch):
    # Ctrl-C during JAX's import (the CLI's start-up) was reported as "Exception ignored" and
    # lost: the command ran on to the end
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    interrupt.command_line_interrupts()
    interrupt.command_line_interrupts()  # installed once
    assert sys.unraisablehook is not reported.append

    def ctrl_c_during_gc(phase, info):
        if phase == "start":
            raise KeyboardInterrupt

    def failing_gc_callback(phase, info):
        if phase == "start":
            raise RuntimeError("a real problem in a callback")

    _collect_with(ctrl_c_during_gc)
    _wait_for_interrupt()
    _collect_with(failing_gc_callback)
    assert [str(u.exc_value) for u in reported] == ["a real problem in a callback"]


def test_command_line_interrupts_keeps_a_handler_set_by_someone_else():
    def mine(signum, frame):
        pass

    signal.signal(signal.SIGINT, mine)
    interrupt.command_line_interrupts()
    assert signal.getsignal(signal.SIGINT) is mine


def test_a_spawned_process_importing_the_command_line_keeps_sigterm(monkeypatch):
    # a Dask worker imports the ``infodyn`` script as __mp_main__ before multiprocessing names
    # its parent: it took the SIGTERM handler, and a sweep's group SIGTERM printed tracebacks
    import types

    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        interrupt.command_line_interrupts()  # the main process (it imported multiprocessing,
        assert signal.getsignal(signal.SIGTERM) is interrupt._outside_graceful  # __mp_main__ too)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        spawned = types.ModuleType("__mp_main__")  # what a spawned child runs the script as
        monkeypatch.setitem(sys.modules, "__mp_main__", spawned)
        interrupt.command_line_interrupts()
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, before)


def test_other_unraisable_exceptions_are_still_reported(monkeypatch):
    seen = []

    def record(unraisable):
        seen.append(unraisable.exc_value)

    monkeypatch.setattr(sys, "unraisablehook", record)

    def failing_gc_callback(phase, info):
        if phase == "start":
            raise RuntimeError("a real problem in a callback")

    with graceful():
        _collect_with(failing_gc_callback)
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


def test_a_stop_at_once_keeps_the_resume_command_only_where_it_can_resume():
    """The second signal's line ('interrupted at once ...') gave no resume command; given
    where nothing was checkpointed, it advised a --resume that was refused."""
    for resumable, kept in ((None, True), (lambda: True, True), (lambda: False, False)):
        with pytest.raises(KeyboardInterrupt):
            with graceful(resume="infodyn simulate c.toml --out r --resume", resumable=resumable):
                raise KeyboardInterrupt
        want = "infodyn simulate c.toml --out r --resume" if kept else None
        assert interrupt.resume_after_stop() == want
    with graceful(resume="x"):  # a new block forgets the last one's
        assert interrupt.resume_after_stop() is None


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


def test_graceful_leaves_an_ignored_signal_ignored():
    # a background job of a shell script starts with SIGINT ignored: Ctrl-C in the terminal
    # is meant for the foreground only
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with graceful():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        signal.raise_signal(signal.SIGINT)
        assert requested() is None
        signal.raise_signal(signal.SIGTERM)  # still handled
        assert requested() == "SIGTERM"
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_a_signal_after_the_last_step_is_answered_at_the_end(capsys):
    """SIGTERM after a training run's last iteration was acknowledged ("finishing the current
    step and writing a checkpoint"), then the run finished with exit 0 and no further word."""
    with graceful():
        interrupt._handler(signal.SIGTERM, None)  # nothing checks it again: the work ends
    err = capsys.readouterr().err
    assert "SIGTERM came as the command was finishing; it ran to its end" in err
    with graceful():
        pass
    assert "came as the command" not in capsys.readouterr().err


def test_a_nested_graceful_keeps_the_outer_signal():
    with graceful():
        interrupt._handler(signal.SIGINT, None)
        with graceful():  # e.g. a command run from another one
            assert requested() == "SIGINT"
        assert requested() == "SIGINT"


def test_the_command_line_installs_its_handler_before_it_imports_typer():
    # the window in which a Ctrl-C lands in an import unguarded is Python's own start-up only
    code = textwrap.dedent(
        """
        import signal, sys

        class SeeTyper:  # the first third-party package the command line imports
            def find_spec(self, name, path=None, target=None):
                if name == "typer":
                    sys.meta_path.remove(self)
                    print(getattr(signal.getsignal(signal.SIGINT), "__name__", None))
                return None

        sys.meta_path.insert(0, SeeTyper())
        import infodyn.cli
        print("numpy" in sys.modules)  # NumPy waits for a command that needs it
        """
    )
    proc = start_python(["-c", code], Path.cwd())
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert out.split() == ["_outside_graceful", "False"]


def test_a_finished_run_ignores_signals_only_inside_a_command_line(tmp_path):
    # a signal right after the summary line ended a finished run with 130; the first fix made
    # every later Ctrl-C of a notebook that had imported the command line silent, once any
    # library call had written a run (RunDir.finish)
    from infodyn.experiments.rundir import RunDir

    interrupt.command_line_interrupts()
    handler = signal.getsignal(signal.SIGINT)
    RunDir(tmp_path / "lib", "info").finish({}, "info", {"x": 1})  # library use
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGINT, None)
    interrupt.command_running(True)
    try:
        RunDir(tmp_path / "cli", "info").finish({}, "info", {"x": 1})
        handler(signal.SIGINT, None)  # ignored: the command's run is complete
    finally:
        interrupt.command_running(False)
    with pytest.raises(KeyboardInterrupt):  # the command over: heard again
        handler(signal.SIGINT, None)
