"""Stopping on signals (infodyn.experiments.interrupt): a second signal whose KeyboardInterrupt
a garbage-collection callback swallowed stops the run at the next check."""

import gc
import signal
import sys

import pytest

from infodyn.experiments import interrupt
from infodyn.experiments.interrupt import Interrupted, check, graceful


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
