"""A stopped sweep's cluster teardown logs no cancellation tracebacks (dask_teardown)."""

import asyncio
import logging

import dask.distributed
import pytest
from distributed.comm.core import CommClosedError

from infodyn.errors import InputError
from infodyn.experiments import dask_teardown, sweep_cluster


def _record(exc: BaseException | None) -> logging.LogRecord:
    info = (type(exc), exc, None) if exc is not None else None
    return logging.LogRecord("distributed.nanny", logging.ERROR, __file__, 1, "", (), info)


def test_cancellations_are_dropped_only_while_the_cluster_closes():
    nanny = logging.getLogger("distributed.nanny")
    cancelled, closed = _record(asyncio.CancelledError()), _record(CommClosedError("gone"))
    other, plain = _record(ValueError("a real error")), _record(None)
    late = _record(TimeoutError("restart"))  # a nanny's restart cut short by the close
    dask_teardown.cluster_started()
    assert all(nanny.filter(r) for r in (cancelled, closed, other, plain, late))
    dask_teardown.cluster_closing()
    assert not nanny.filter(cancelled) and not nanny.filter(closed) and not nanny.filter(late)
    spill = _record(OSError(28, "No space left on device"))  # "Spill to disk failed": shown
    assert nanny.filter(spill)
    refused = _record(ConnectionRefusedError(111, "Connection refused"))  # the gone scheduler
    again = _record(OSError("Timed out trying to connect to tcp://127.0.0.1:1 after 30 s"))
    assert not nanny.filter(refused) and not nanny.filter(again)
    assert nanny.filter(other) and nanny.filter(plain)
    dask_teardown.cluster_started()  # another sweep in the same process: all pass again
    assert nanny.filter(cancelled)
    dask_teardown.cluster_started()
    assert nanny.filters.count(dask_teardown._FILTER) == 1
    # the records of child loggers (distributed.comm.tcp) pass the handlers of "distributed"
    # (Dask's own stderr handler), not the filters of these loggers
    handler = logging.StreamHandler()
    logging.getLogger("distributed").addHandler(handler)
    try:
        dask_teardown.cluster_started()
        assert handler.filters == [dask_teardown._FILTER]
    finally:
        logging.getLogger("distributed").removeHandler(handler)


def test_dask_client_marks_its_local_cluster_closing(monkeypatch):
    seen = []

    class Fake:
        def __init__(self, *a, **k):
            seen.append(("start", dask_teardown._FILTER.closing))

        def close(self):
            seen.append(("close", dask_teardown._FILTER.closing))

        def register_plugin(self, plugin, name=None):
            seen.append(("plugin", name))

    monkeypatch.setattr(dask.distributed, "LocalCluster", Fake)
    monkeypatch.setattr(dask.distributed, "Client", Fake)
    with pytest.raises(KeyboardInterrupt), sweep_cluster.dask_client(n_workers=1):
        assert dask_teardown._FILTER.closing is False
        raise KeyboardInterrupt
    assert seen[-2:] == [("close", True), ("close", True)]
    dask_teardown.cluster_started()


def test_the_local_workers_drop_their_own_teardown_records():
    # a worker busy with a point when the scheduler closed logged "Failed to communicate with
    # scheduler during heartbeat" and a CommClosedError traceback in its own process, after the
    # sweep's "interrupted" line (the sweep's filter is in the sweep's process only)
    heartbeat = logging.getLogger("distributed.worker")
    closed, other = _record(CommClosedError("gone")), _record(ValueError("a real error"))
    with sweep_cluster.dask_client(n_workers=1) as client:
        assert list(client.run(heartbeat.filter, closed).values()) == [False]
        assert list(client.run(heartbeat.filter, other).values()) == [True]
        spill = _record(OSError(28, "No space left on device"))  # a user needs this one
        assert list(client.run(heartbeat.filter, spill).values()) == [True]
    dask_teardown.cluster_closing()  # as a local sweep leaves it
    with pytest.raises(InputError):  # a remote sweep after it: records pass unchanged again
        with sweep_cluster.dask_client("tcp://127.0.0.1:9", connect_timeout=0.5):
            pass
    assert dask_teardown._FILTER.closing is False
    dask_teardown.cluster_started()
