"""Stopping long commands cleanly on SIGINT (Ctrl-C) and SIGTERM (``kill``, a batch scheduler).

Inside :func:`graceful`, the first SIGINT or SIGTERM only records the signal and says so on
stderr; the running command finishes its current step (a training iteration, a sweep point, a
pipeline stage, one channel network), writes its checkpoint and raises :class:`Interrupted`
whose message says what was kept and how to resume. The CLI prints that line and exits with
130. A second signal stops at once (``KeyboardInterrupt``; files are still written atomically,
so nothing half-written is left under a final name).

Python runs a signal handler wherever the main thread is, and two places there make a
``KeyboardInterrupt`` harmful. Raised inside an import, from Python code that a compiled
module's initialisation calls, it crashes or vanishes: in jaxlib's ``_hlo`` the process aborted
("terminate called after throwing an instance of 'nanobind::python_error'"), in ``_jax`` it was
lost and the command ran on to its end, and Ctrl-C at random times during start-up crashed 4 of
280 tries (aborts, segmentation faults); in SciPy it surfaced as ``ImportError: initialization
failed``. Raised inside a callback whose exceptions Python only reports and drops (a
garbage-collection callback, as JAX registers one), it is lost too. So an interrupt is never
raised inside an import (an importlib frame on the main thread's stack): a timer thread
delivers it again :data:`REDELIVERY_S` later, as a real signal to the main thread (SIGINT;
SIGTERM inside :func:`graceful` when SIGINT is ignored), until the import is done; a second
Ctrl-C during the same import stops at once. One dropped in a callback is caught by a
``sys.unraisablehook`` and delivered again the same way. One still waiting when
:func:`graceful` is entered (a Ctrl-C during the command's start-up) stops the command there,
before its work; a redelivery of it that comes later is ignored. The command line installs this
for its whole run (:func:`command_line_interrupts`), graceful for its block. A signal that is
ignored when graceful starts (SIGINT in a shell script's background job) stays ignored.

Long loops poll :func:`requested` (or call :func:`check`) at their step boundaries; outside
:func:`graceful` (library use) :func:`requested` is always ``None`` and Ctrl-C behaves as usual.

:class:`~infodyn.experiments.journal.StepJournal` keeps the finished steps of a command that
has no checkpoint of its own (the channel experiment, the image pipeline), so a rerun with
``--resume`` continues where the interrupted run stopped.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: what the first signal's line says the command does next (``graceful(doing=...)``)
CHECKPOINT = "finishing the current step and writing a checkpoint"

#: seconds after which an interrupt that could not be raised is delivered again
REDELIVERY_S = 0.05

_state: dict[str, Any] = {
    "active": False,
    "signal": None,
    "doing": CHECKPOINT,
    "deferred": False,  # an interrupt waits to be delivered again (_stop_at_once, _keeping)
    "redelivering": False,  # the next handler call is that delivery, not a new signal
    "timer": None,  # the one pending redelivery
    "stopped_resume": None,  # the resume command of a graceful block a second signal stopped
    "command": False,  # a command line runs (command_running)
    "finished": False,  # its run is written (run_finished): signals are ignored
}
_lock = threading.RLock()  # the timer thread and the main thread's handlers share _state


class Interrupted(Exception):  # noqa: N818 - reads as what happened, like KeyboardInterrupt
    """A long command stopped at a step boundary after SIGINT/SIGTERM (checkpoint written)."""


def resume_after_stop() -> str | None:
    """The command that resumes the run a second signal stopped at once (its
    :func:`graceful` block's ``resume``; ``None`` when it had none or nothing stopped)."""
    return _state["stopped_resume"]


def requested() -> str | None:
    """The name of the signal received inside :func:`graceful` (``"SIGINT"``), else ``None``."""
    return _state["signal"]


def check(message: str) -> None:
    """Raise :class:`Interrupted` with ``message`` if a stop was requested."""
    if _state["signal"] is not None:
        raise Interrupted(f"{message} (stopped on {_state['signal']})")


def _importing(frame: Any) -> bool:
    """Whether ``frame`` runs inside an import (an importlib frame below it on the stack)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _redelivery_signal() -> int:
    """SIGINT, or SIGTERM when SIGINT is ignored and SIGTERM is handled here."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        if signal.getsignal(signal.SIGTERM) in (_handler, _outside_graceful):
            return signal.SIGTERM
    return signal.SIGINT


def _redeliver() -> None:
    with _lock:
        _state["timer"] = None
        if _state["deferred"]:
            _state["redelivering"] = True
            # a real signal, not _thread.interrupt_main: it also wakes a main thread in a
            # system call (a sleep, a read), which then runs the handler at once
            signal.pthread_kill(threading.main_thread().ident, _redelivery_signal())


def _deliver_again_soon() -> None:
    """Deliver the deferred interrupt again in :data:`REDELIVERY_S` (one timer at a time)."""
    with _lock:
        _state["deferred"] = True
        if _state["timer"] is None:
            timer = threading.Timer(REDELIVERY_S, _redeliver)
            timer.daemon = True
            _state["timer"] = timer
            timer.start()


def _take(flag: str) -> bool:
    """The flag ``"redelivering"`` (this handler call is a redelivery) or ``"deferred"`` (an
    interrupt waits; taken, its redelivery is ignored), cleared as it is read."""
    with _lock:
        value, _state[flag] = _state[flag], False
    return value


def _stop_at_once(frame: Any, redelivered: bool) -> None:
    """Raise ``KeyboardInterrupt``, unless the main thread is inside an import: then deliver it
    again once the import is done; a new signal during the same import raises at once. A
    redelivery of an interrupt already taken (:func:`graceful`'s entry) is ignored."""
    with _lock:
        if redelivered and not _state["deferred"]:
            return
        if _importing(frame) and (redelivered or not _state["deferred"]):
            _deliver_again_soon()
            return
        _state["deferred"] = False
    raise KeyboardInterrupt


def _outside_graceful(signum: int, frame: Any) -> None:
    """The command line's SIGINT and SIGTERM handler outside :func:`graceful`:
    ``KeyboardInterrupt``, as Python's own for SIGINT, but never inside an import, and not
    once the command's run is written (:func:`run_finished`)."""
    redelivered = _take("redelivering")
    if _state["finished"]:
        _take("deferred")  # (a deferred interrupt must not outlive the command)
        return
    _stop_at_once(frame, redelivered)


def command_running(running: bool) -> None:
    """A command line starts (True) or has ended (False); :func:`run_finished` acts only in
    between, so that library use (a notebook that imported the command line, whose handler
    stays installed) keeps its Ctrl-C."""
    _state["command"], _state["finished"] = running, False


def run_finished() -> None:
    """The command's run folder is complete (its ``results.json`` written): from now until the
    command ends, the command line's handler ignores SIGINT and SIGTERM, as
    :func:`ignore_signals_at_exit` does once the interpreter shuts down. A signal in between,
    right after the summary line, ended a finished run with exit 130 ("interrupted at once"),
    and a batch scheduler read it as failed. Outside a command line (:func:`command_running`)
    nothing changes."""
    if _state["command"]:
        _state["finished"] = True


def _keeping(hook: Any) -> Any:
    """``sys.unraisablehook`` that delivers a dropped ``KeyboardInterrupt`` again (instead of
    reporting it) and passes everything else on to ``hook``."""

    def keep(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            _deliver_again_soon()
        else:
            hook(unraisable)

    return keep


def command_line_interrupts() -> None:
    """Ctrl-C for the command line, installed (once) before it imports anything heavy.

    SIGINT raises ``KeyboardInterrupt`` as usual, but never inside an import, and a
    ``KeyboardInterrupt`` dropped in a callback is delivered again (module docstring); SIGTERM
    does the same (by default it ended the process at once, exit 143). Python's default
    handlers are replaced only in the main thread and only if nobody replaced them before;
    :func:`graceful` puts its own in place for its block and restores these.
    """
    if not getattr(sys.unraisablehook, "_infodyn_keeps", False):
        keep = _keeping(sys.unraisablehook)
        keep._infodyn_keeps = True
        sys.unraisablehook = keep
    main = threading.current_thread() is threading.main_thread()
    if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _outside_graceful)
    # SIGTERM before graceful (a scheduler's kill at start-up) ended the process with 143 and
    # no line, where SIGINT gave 130 and "interrupted at once": both stop the same way now
    # (not in a process multiprocessing started, a Dask worker importing the command line:
    # its nanny stops it with SIGTERM)
    # a spawned process runs the parent's main module (the ``infodyn`` script, which calls
    # this) as a module named ``__mp_main__`` before multiprocessing names its parent: a Dask
    # worker of a sweep got the handler, and a SIGTERM to the process group printed its
    # traceback (importing multiprocessing makes sys.modules["__mp_main__"] the __main__ module
    # in every process: only its name tells)
    spawning = getattr(sys.modules.get("__mp_main__"), "__name__", None) == "__mp_main__"
    child = multiprocessing.parent_process() is not None or spawning
    if main and not child and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _outside_graceful)


def ignore_signals_at_exit() -> None:
    """Once the command line has its exit code (its files written, its line printed), SIGINT
    and SIGTERM are ignored while the interpreter shuts down (JAX's takes 0.5-0.8 s): they ended
    the process by that signal (exit -2 or -15 to a parent, 130 or 143 to a shell), so a batch
    scheduler read a finished run as a failure. Ignored, not handled: Python's shutdown puts the
    default action back in place of a handler (not of an ignored signal) before its slow part.
    Only the main thread can set handlers (elsewhere nothing changes)."""
    if threading.current_thread() is threading.main_thread():
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)


def _handler(signum: int, frame: Any) -> None:
    redelivered = _take("redelivering")
    if _state["signal"] is not None or redelivered:  # the second signal (or its redelivery)
        _stop_at_once(frame, redelivered)
        return
    name = signal.Signals(signum).name
    _state["signal"] = name
    print(
        f"infodyn: got {name}: {_state['doing']} (send it again to stop at once)",
        file=sys.stderr,
        flush=True,
    )


@contextlib.contextmanager
def graceful(
    resume: str | None = None,
    doing: str = CHECKPOINT,
    resumable: Callable[[], bool] | None = None,
) -> Iterator[None]:
    """Handle SIGINT and SIGTERM as described in the module docstring while the block runs.

    ``resume`` is the command line that continues the run; it is appended to the message of an
    :class:`Interrupted` leaving the block, and kept for the line of a second signal that
    stopped it at once (:func:`resume_after_stop`) when ``resumable()`` (whether a checkpoint
    was written; ``None``: always) holds then. ``doing`` is what the first signal's line says
    happens next (a command without checkpoints says what it keeps instead).
    """
    if threading.current_thread() is not threading.main_thread() or _state["active"]:
        yield  # signal handlers can only be set from the main thread; nested: already set
        return
    if _take("deferred"):  # a Ctrl-C at start-up (in an import, a callback): stop before the work
        raise KeyboardInterrupt
    # a signal ignored when the block starts stays ignored: a shell starts a background job
    # (``infodyn train ... &`` in a script) with SIGINT ignored, so that Ctrl-C in the terminal
    # stops only the foreground
    old = {
        s: h
        for s in (signal.SIGINT, signal.SIGTERM)
        if (h := signal.getsignal(s)) is not signal.SIG_IGN
    }
    old_hook = sys.unraisablehook
    _state.update(active=True, signal=None, doing=doing, stopped_resume=None)
    sys.unraisablehook = _keeping(old_hook)
    try:
        for s in old:
            signal.signal(s, _handler)
        yield
    except Interrupted as exc:
        if resume is None:
            raise
        raise Interrupted(f"{exc}; resume with: {resume}") from None
    except KeyboardInterrupt:  # stopped at once: the last checkpoint may still resume
        if resumable is None or resumable():  # not "--resume" where nothing was checkpointed
            _state["stopped_resume"] = resume
        raise
    else:
        if _state["signal"] is not None:  # it came after the last step: said it would stop
            print(
                f"infodyn: {_state['signal']} came as the command was finishing; it ran to its "
                "end and its files are complete (nothing to resume)",
                file=sys.stderr,
            )
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        sys.unraisablehook = old_hook
        _state.update(active=False, signal=None, doing=CHECKPOINT)


def checkpoint_on_signal(path: str | os.PathLike, total: int) -> Any:
    """A :meth:`Trainer.fit <infodyn.learning.trainer.Trainer.fit>` callback: after the
    iteration during which a signal arrived, write the checkpoint to ``path`` and stop."""

    def callback(trainer: Any, record: dict[str, Any]) -> None:
        if requested() is not None:
            trainer.save_checkpoint(path)
            check(
                f"iteration {trainer.state.iteration} of {total} finished and checkpointed in "
                f"{path}"
            )

    return callback


def fit_resumably(
    trainer: Any,
    n: int,
    folder: str | os.PathLike,
    resume: bool,
    callback: Any = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """``trainer.fit(n)`` checkpointed in ``folder/checkpoint.npz``: every
    ``trainer.opt.checkpoint_every`` iterations, at the end, and after the iteration during
    which a signal arrived (then :class:`Interrupted`); with ``resume`` it continues from that
    checkpoint when there is one (a kill before the first checkpoint left none).
    ``callback(trainer, record)`` runs after every iteration, before the signal check;
    ``progress``: the fit's bar."""
    stop = checkpoint_on_signal(Path(folder) / "checkpoint.npz", n)

    def each(trainer: Any, record: dict[str, Any]) -> None:
        if callback is not None:
            callback(trainer, record)
        stop(trainer, record)

    resume = resume and (Path(folder) / "checkpoint.npz").exists()
    return trainer.fit(n, out=folder, resume=resume, progress=progress, callback=each)


def resumable_iterations(trainer: Any, n: int, checkpoint: str | os.PathLike, resume: bool):
    """Iteration numbers ``start .. n - 1`` for a loop that calls ``trainer.step()`` itself.

    With ``resume`` and an existing ``checkpoint``, the trainer is loaded from it first (``start``
    is its iteration). When a signal arrived during an iteration, the checkpoint is written after
    that iteration and :class:`Interrupted` is raised.
    """
    checkpoint = Path(checkpoint)
    if resume and checkpoint.exists():
        trainer.load_checkpoint(checkpoint)
    for i in range(trainer.state.iteration, n):
        yield i
        if requested() is not None:
            trainer.save_checkpoint(checkpoint)
            check(f"training iteration {i + 1} of {n} finished and checkpointed in {checkpoint}")
