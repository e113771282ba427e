"""Stopping long commands cleanly on SIGINT (Ctrl-C) and SIGTERM (``kill``, a batch scheduler).

Inside :func:`graceful`, the first SIGINT or SIGTERM only records the signal and says so on
stderr; the running command finishes its current step (a training iteration, a sweep point, a
pipeline stage, one channel network), writes its checkpoint and raises :class:`Interrupted`
whose message says what was kept and how to resume. The CLI prints that line and exits with
130. A second signal stops at once (``KeyboardInterrupt``; files are still written atomically,
so nothing half-written is left under a final name). Python runs a signal handler wherever the
main thread is, including inside callbacks whose exceptions it only reports and drops (a
garbage-collection callback, as JAX registers one): a ``KeyboardInterrupt`` swallowed there
(a second signal's, or a Ctrl-C at the command line's start-up:
:func:`keep_swallowed_interrupts`) is kept by one ``sys.unraisablehook`` and raised again at
the next step boundary (:func:`check`) or :func:`graceful`'s entry, and the "Exception ignored"
report of it is left out.

Long loops poll :func:`requested` (or call :func:`check`) at their step boundaries; outside
:func:`graceful` (library use) :func:`requested` is always ``None`` and Ctrl-C behaves as usual.

:class:`~infodyn.experiments.journal.StepJournal` keeps the finished steps of a command that
has no checkpoint of its own (the channel experiment, the image pipeline), so a rerun with
``--resume`` continues where the interrupted run stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: what the first signal's line says the command does next (``graceful(doing=...)``)
CHECKPOINT = "finishing the current step and writing a checkpoint"

_state: dict[str, Any] = {
    "active": False,
    "signal": None,
    "doing": CHECKPOINT,
    "swallowed": False,  # a KeyboardInterrupt Python dropped where it was raised (_keeping)
}


class Interrupted(Exception):  # noqa: N818 - reads as what happened, like KeyboardInterrupt
    """A long command stopped at a step boundary after SIGINT/SIGTERM (checkpoint written)."""


def requested() -> str | None:
    """The name of the signal received inside :func:`graceful` (``"SIGINT"``), else ``None``."""
    return _state["signal"]


def check(message: str) -> None:
    """Raise :class:`Interrupted` with ``message`` if a stop was requested, or
    ``KeyboardInterrupt`` if one was swallowed before it got here."""
    if _state["swallowed"]:
        raise KeyboardInterrupt
    if _state["signal"] is not None:
        raise Interrupted(f"{message} (stopped on {_state['signal']})")


def _keeping(hook: Any) -> Any:
    """``sys.unraisablehook`` that keeps a swallowed ``KeyboardInterrupt`` instead of reporting
    it (:func:`check` and :func:`graceful`'s entry raise it again) and passes everything else
    on to ``hook``."""

    def keep(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            _state["swallowed"] = True
        else:
            hook(unraisable)

    return keep


def keep_swallowed_interrupts() -> None:
    """Make sure a Ctrl-C at start-up is not lost (the command line calls this first).

    Outside :func:`graceful` Ctrl-C raises ``KeyboardInterrupt`` wherever the main thread is.
    Raised inside a garbage-collection callback (JAX registers one during its import), the
    exception is only reported ("Exception ignored ... KeyboardInterrupt") and dropped, and the
    command ran on to the end as if nothing had been pressed. The ``sys.unraisablehook``
    installed here (once) records such an interrupt instead of reporting it, and the next
    :func:`graceful` block raises it on entry (every long command opens one before its work),
    so the command stops at once. Every other unraisable exception goes to the previous hook.

    Delivering the interrupt again a moment later (``_thread.interrupt_main`` from a timer; at
    once, it is raised inside the hook and dropped again) was tried and left: it lands wherever
    the main thread is then, a compiled module's import included; :func:`graceful`'s entry is a
    known, safe point.
    """
    if getattr(sys.unraisablehook, "_infodyn_keeps", False):
        return
    keep = _keeping(sys.unraisablehook)
    keep._infodyn_keeps = True
    sys.unraisablehook = keep


def _handler(signum: int, frame: Any) -> None:
    name = signal.Signals(signum).name
    if _state["signal"] is not None:  # the second signal: stop now (kept if swallowed)
        raise KeyboardInterrupt
    _state["signal"] = name
    print(
        f"infodyn: got {name}: {_state['doing']} (send it again to stop at once)",
        file=sys.stderr,
        flush=True,
    )


@contextlib.contextmanager
def graceful(resume: str | None = None, doing: str = CHECKPOINT) -> Iterator[None]:
    """Handle SIGINT and SIGTERM as described in the module docstring while the block runs.

    ``resume`` is the command line that continues the run; it is appended to the message of an
    :class:`Interrupted` leaving the block. ``doing`` is what the first signal's line says
    happens next (a command without checkpoints says what it keeps instead).
    """
    if _state["swallowed"]:  # Ctrl-C during start-up, dropped where it was raised
        _state["swallowed"] = False
        raise KeyboardInterrupt
    if threading.current_thread() is not threading.main_thread() or _state["active"]:
        yield  # signal handlers can only be set from the main thread; nested: already set
        return
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    old_hook = sys.unraisablehook
    _state.update(active=True, signal=None, doing=doing)
    sys.unraisablehook = _keeping(old_hook)
    try:
        for s in old:
            signal.signal(s, _handler)
        yield
    except Interrupted as exc:
        if resume is None:
            raise
        raise Interrupted(f"{exc}; resume with: {resume}") from None
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        sys.unraisablehook = old_hook
        _state.update(active=False, signal=None, swallowed=False, doing=CHECKPOINT)


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
