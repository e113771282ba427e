"""Quiet teardown of a sweep's local Dask cluster: no tracebacks after the sweep's last line.

A terminal's Ctrl-C or a scheduler's ``kill`` signals the whole process group, Dask's worker
processes included. A worker that dies of it is restarted by its nanny (in the sweep's own
process); when the sweep then stops and closes the cluster, that restart is cancelled, and the
nanny logs the ``CancelledError`` (or, for a connection cut mid-message, a
``CommClosedError``; for a restart cut short, a ``TimeoutError``) as an ERROR with a 30-line
traceback, printed after the sweep's own "interrupted" line. None says anything about the
sweep's points: what finished is in its table, what did not is marked there.
:func:`cluster_closing` drops these records of Dask's loggers (and those of a lost connection)
once the cluster is being closed (until :func:`cluster_started`: another local sweep, or one on
a remote scheduler), and nothing else: a failing point's error still reaches the sweep's table
through its future, and a worker's failed spill to disk is still shown.

The worker processes log such records too: a worker still busy with a point when the
scheduler closes logs "Failed to communicate with scheduler during heartbeat" with a
``CommClosedError`` traceback before its nanny stops it. A local cluster's workers have no
peer but the sweep's own scheduler, which goes away only when the sweep closes it, so a worker
plugin (:func:`quiet_worker_teardown`) drops these records, and those of a connection to it
that cannot be made again, in each worker for its whole life.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["TeardownNoise", "cluster_closing", "cluster_started", "quiet_worker_teardown"]

#: the loggers of Dask's nannies, workers, comms and client
LOGGERS = (
    "distributed.nanny",
    "distributed.worker",
    "distributed.core",
    "distributed.comm",
    "distributed.client",
    "distributed.utils",
)


class TeardownNoise(logging.Filter):
    """Drops records whose exception is a cancellation, a closed connection or a timeout while
    ``closing`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.closing or not record.exc_info:
            return True
        exc = record.exc_info[1]  # a cancellation, a closed connection (distributed's
        # CommClosedError, tornado's StreamClosedError: not imported here) or a timeout (a
        # restart cut short: "Failed to restart worker"); not every OSError (a worker's
        # "Spill to disk failed" is one, and a user needs it)
        closed = any(c.__name__ in _CLOSED for c in type(exc).__mro__)
        lost = isinstance(exc, ConnectionError) or str(exc).startswith(_RECONNECT)
        return not (closed or lost or isinstance(exc, asyncio.CancelledError | TimeoutError))


#: the exceptions of a connection that the other side closed
_CLOSED = ("CommClosedError", "StreamClosedError")
#: distributed's OSError when a connection to the gone scheduler cannot be made again
_RECONNECT = "Timed out trying to connect"


_FILTER = TeardownNoise()


def _install() -> None:
    """On Dask's loggers, and on the handlers of its root logger ``distributed``: a logger's
    filter sees only the records made on it, not those of its children
    (``distributed.comm.tcp``), which reach its ancestors' handlers."""
    for filterer in [
        *(logging.getLogger(name) for name in LOGGERS),
        *logging.getLogger("distributed").handlers,
    ]:
        if _FILTER not in filterer.filters:
            filterer.addFilter(_FILTER)


def cluster_started() -> None:
    """A local cluster is up: Dask's records pass unchanged."""
    _install()
    _FILTER.closing = False


def cluster_closing() -> None:
    """The local cluster is being closed: its cancellation tracebacks are dropped from now on
    (they are logged after ``close`` returns, so until the next :func:`cluster_started`)."""
    _install()
    _FILTER.closing = True


def quiet_worker_teardown(client: Any) -> None:
    """Registers, on every worker of ``client`` (and on those that join later), a plugin that
    drops the cancellation and closed-connection records of Dask's loggers in the worker's own
    process (see the module's docstring): for a local cluster's workers only."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class QuietWorkerTeardown(WorkerPlugin):
        idempotent = True
        name = "infodyn-quiet-teardown"

        def setup(self, worker: Any) -> None:
            cluster_closing()  # by name: cloudpickle sends this class by value, and a
            # reference to _FILTER here would arrive as a copy, not the worker's own filter

    client.register_plugin(QuietWorkerTeardown(), name=QuietWorkerTeardown.name)
