"""The Dask client of a sweep (:mod:`infodyn.experiments.sweep`): a connection to a running
scheduler with a deadline, or a local cluster of worker processes that ignore Ctrl-C (the sweep
alone hears it and stops them after the points that run), closed without Dask's teardown
tracebacks (:mod:`infodyn.experiments.dask_teardown`)."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infodyn.errors import InputError
from infodyn.experiments.dask_teardown import (
    cluster_closing,
    cluster_started,
    quiet_worker_teardown,
)

__all__ = ["dask_client"]


_GRACE_S = 2.0  # seconds past connect_timeout before the attempt is given up


def _connect(scheduler: str, connect_timeout: float) -> Any:
    """A client of the scheduler at ``scheduler``, connected in a thread with a deadline: Dask's
    timeout bounds the connection, not the handshake, so a port that accepts and never answers
    (the dashboard's, 8787, for the scheduler's, 8786) hung past any timeout and past SIGTERM,
    and one that answers with other bytes was read as a message length (a 3 EiB MemoryError,
    reported as out of memory).

    A thread cannot be stopped: an attempt given up runs on, and the client it makes after the
    deadline is closed at once (it stayed connected, unseen, for the rest of the process)."""
    import threading

    from dask.distributed import Client

    box: dict[str, Any] = {}
    lock = threading.Lock()

    def attempt() -> None:
        try:
            client = Client(scheduler, timeout=f"{connect_timeout}s")
        except BaseException as exc:  # noqa: BLE001 - any failure is "not a scheduler here"
            box["error"] = exc
            return
        with lock:
            late = box.get("given_up", False)
            if not late:
                box["client"] = client
        if late:
            client.close()

    thread = threading.Thread(target=attempt, name="infodyn-dask-connect", daemon=True)
    thread.start()
    deadline = time.monotonic() + connect_timeout + _GRACE_S
    try:
        while thread.is_alive() and time.monotonic() < deadline:  # a SIGTERM waits for this
            thread.join(0.1)  # at most (the sweep's loop then stops; it hung here for good)
    finally:  # a Ctrl-C meanwhile gives the attempt up too
        with lock:
            client = box.get("client")
            box["given_up"] = client is None
    if client is not None:
        return client
    error = box.get("error")  # "(ValueError)" alone told nothing: its message says what
    why = "no answer" if error is None else f"{type(error).__name__}: {str(error)[:120]}"
    raise InputError(
        f"cannot reach the Dask scheduler at {scheduler!r} within {connect_timeout:g} s ({why}); "
        "check the address (the scheduler's port, 8786 by default, not the dashboard's 8787) "
        "or start one with `dask scheduler`"
    )


def scheduler_address(scheduler: str, wait_s: float = 0.0) -> str:
    """``scheduler`` as an address: itself, or, where it names a file, the ``address`` of that
    scheduler file (the JSON that ``dask scheduler --scheduler-file F`` and dask-jobqueue's
    clusters write; a cluster's usual hand-off, which was read as an address and refused with
    "(ValueError)"). A file not there yet, or not yet complete (Dask writes it in place), is
    waited for ``wait_s`` seconds, as Dask's own ``scheduler_file=`` does (a batch job starts
    the scheduler and the sweep together)."""
    from infodyn.experiments import interrupt

    path = Path(scheduler).expanduser()
    looks_like_a_file = "://" not in scheduler and (
        "/" in scheduler or scheduler.startswith("~") or path.suffix.lower() == ".json"
    )
    deadline = time.monotonic() + wait_s
    while True:
        late = time.monotonic() >= deadline
        if path.is_file():
            try:
                return _address_in(path, scheduler)
            except InputError:  # an empty or half-written file: read again until the deadline
                if late:
                    raise
        elif not looks_like_a_file:
            return scheduler
        elif late:  # was "cannot reach ... (ValueError: missing port number)" after the
            raise InputError(  # connection timeout
                f"--scheduler {scheduler}: no such scheduler file (waited {wait_s:g} s, "
                "--connect-timeout); give the file `dask scheduler --scheduler-file` writes, "
                "or the scheduler's address (tcp://HOST:8786)"
            )
        interrupt.check(f"sweep stopped while waiting for the scheduler file {scheduler}")
        time.sleep(0.1)


def _address_in(path: Path, scheduler: str) -> str:
    """The ``address`` of the scheduler file ``path`` (given as ``scheduler``)."""
    try:
        address = json.loads(path.read_text(encoding="utf-8")).get("address")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as exc:
        raise InputError(
            f"--scheduler {scheduler}: a file, but not a Dask scheduler file (JSON with an "
            f"'address'; {type(exc).__name__}); give the file `dask scheduler --scheduler-file` "
            "wrote, or the scheduler's address (tcp://HOST:8786)"
        ) from None
    if not isinstance(address, str) or not address:
        raise InputError(
            f"--scheduler {scheduler}: a scheduler file without an 'address'; give the file "
            "`dask scheduler --scheduler-file` wrote, or the address (tcp://HOST:8786)"
        )
    return address


@contextlib.contextmanager
def dask_client(
    scheduler: str | None = None, n_workers: int = 2, connect_timeout: float = 10.0
) -> Iterator[Any]:
    """A Dask client: to ``scheduler`` (an address or a scheduler file) if given, else to a new
    ``LocalCluster`` of processes.

    An unreachable scheduler raises :class:`InputError` after ``connect_timeout`` seconds.
    """
    from dask.distributed import Client, LocalCluster

    if scheduler:
        cluster_started()  # Dask's records pass unchanged (a local sweep before may have
        address = scheduler_address(scheduler, wait_s=connect_timeout)  # left them filtered)
        client = _connect(address, connect_timeout)
        try:
            yield client
        finally:
            client.close()
        return
    if n_workers < 1:
        raise InputError(f"n_workers must be >= 1, got {n_workers}")
    from infodyn.experiments.mainguard import require_main_guard

    require_main_guard()  # spawned workers re-import the script: it needs a main guard
    with _workers_ignore_sigint():
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
    cluster_started()
    client = Client(cluster)
    try:
        quiet_worker_teardown(client)
        yield client
    finally:
        cluster_closing()  # a stopped sweep's nannies logged 30-line CancelledError tracebacks
        client.close()
        cluster.close()


@contextlib.contextmanager
def _workers_ignore_sigint() -> Iterator[None]:
    """SIGINT ignored while the worker processes start, so that they inherit it ignored (an
    ignored signal survives ``exec``; Python leaves it ignored). Ctrl-C in a terminal signals
    the whole process group: the workers died of it mid-point, no worker was left to finish
    one, and the sweep waited for a finished point for ever. Now the sweep alone hears it and
    stops its workers after the first point to finish (:meth:`_Submitted.gather`).

    SIGINT is blocked in this thread meanwhile (the threads Dask starts here inherit that): a
    Ctrl-C in the seconds the workers take to start was discarded, ignored, and the sweep ran
    to its end; blocked, Linux keeps it pending, and it is heard once the handler is back."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # a handler can be set from the main thread only
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
