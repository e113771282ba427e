"""Chunked single-trial runs that can stop after any chunk and continue later.

This is the loop under :func:`~infodyn.network.simulate_spikes` and
:func:`~infodyn.network.simulate_to_file`: the input is read (or made) ``chunk_steps`` steps at a
time, either engine advances its state through each chunk, and the spikes go to a callback.
After every chunk, :func:`run_chunks` can hand out a :class:`RunState`: the steps done and the
engine's whole state after them (the event engine's potentials, spikes of the last step and the
ids of those units, adaptation, refractory counters and readout; the JAX engine's
:class:`~infodyn.network.dynamics.State` in its precision). A run started again from that
state (``start=``) takes the next chunk exactly as the uninterrupted run took it, so its spikes
are those of one run, spike for spike, on either engine and in either precision:
``infodyn simulate --resume`` is built on it (:mod:`infodyn.experiments.simulate_checkpoint`).
"""

from __future__ import annotations

__all__ = ["RunState", "check_chunked_run", "input_chunks", "run_chunks"]

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.errors import (
    InputError,
    as_array,
    as_table,
    require,
    require_choice,
    whole_number,
)
from infodyn.network.engine_event import EventState, event_weights, run_event_chunk, sparse_input
from infodyn.network.engine_jax import check_precision, require_host_and_device, stream_spikes
from infodyn.network.run_inputs import check_input, check_sparse_input, require_network


@dataclass(frozen=True)
class RunState:
    """Where a chunked run stands: ``step`` steps done by ``engine`` (in ``precision``: the JAX
    engine's; the event engine's is always float64) and its state after them, ``arrays`` by
    name (:data:`EVENT_ARRAYS` or :data:`JAX_ARRAYS`)."""

    step: int
    engine: str
    precision: str
    arrays: dict[str, np.ndarray]

    def check(self, net: Any, n_steps: int, engine: str, precision: str) -> None:
        """Refuse a state that cannot continue this run: another engine or precision, a step
        beyond the run, or arrays of other names, shapes or types than ``net``'s (a state
        read from a file of another network)."""
        precision = "float64" if engine == "event" else precision
        if (self.engine, self.precision) != (engine, precision):
            raise InputError(
                f"the saved state is the {self.engine} engine's ({self.precision}); this run "
                f"uses the {engine} engine ({precision}): continue with the engine it started on"
            )
        if not (isinstance(self.step, int) and 0 <= self.step <= n_steps):
            raise InputError(f"the saved state is at step {self.step!r}, not in 0..{n_steps}")
        for name, (shape, dtype) in _expected(net, engine, precision).items():
            got = self.arrays.get(name)
            if not isinstance(got, np.ndarray) or got.shape != shape or got.dtype != dtype:
                found = "missing" if got is None else f"{getattr(got, 'shape', '?')} {got.dtype}"
                raise InputError(
                    f"the saved state's {name!r} is {found}, not {shape} {np.dtype(dtype)}: it "
                    f"was not saved by this network ({net.n_rec:,} units, {net.n_out} outputs)"
                )
        if engine == "event":
            n_active = int(self.arrays["n_active"][0])
            active = self.arrays["active"][:n_active]
            if not 0 <= n_active <= net.n_rec or np.any((active < 0) | (active >= net.n_rec)):
                raise InputError("the saved state's active units are out of range")


#: the event engine's state arrays (:class:`~infodyn.network.engine_event.EventState`)
EVENT_ARRAYS = ("v", "z", "a", "r", "y", "active", "n_active")
#: the JAX engine's (:class:`~infodyn.network.dynamics.State`, batch 1)
JAX_ARRAYS = ("v", "z", "a", "r", "y")


def _expected(net: Any, engine: str, precision: str) -> dict[str, tuple[tuple[int, ...], Any]]:
    """Each state array's shape and dtype for ``net`` on ``engine``."""
    n, n_out = net.n_rec, net.n_out
    if engine == "event":
        zeros = EventState.zeros(n, n_out).arrays()
        return {name: (a.shape, a.dtype) for name, a in zip(EVENT_ARRAYS, zeros, strict=True)}
    return {name: ((1, n_out if name == "y" else n), np.dtype(precision)) for name in JAX_ARRAYS}


def check_chunked_run(
    net,
    params,
    x: Any,
    n_steps: Any,
    chunk_steps: Any,
    metadata: dict[str, Any] | None,
    engine: str = "event",
    precision: str = "float32",
) -> tuple[int, int, dict[str, Any]]:
    """Check a chunked run before it starts; return ``n_steps``, ``chunk_steps`` and the
    metadata of its spikes. A negative ``chunk_steps`` ran no chunk at all (an empty spike
    train that claimed the whole run), so both counts must be whole numbers >= 1. The JAX
    engine's ``precision`` goes into the metadata; the event engine's is always float64."""
    require_choice("engine (of a chunked run)", engine, ("event", "jax"))
    check_precision(precision)
    require_network(net)
    net.validate_params(params)
    n_steps = whole_number(n_steps, "n_steps", minimum=1)
    chunk_steps = whole_number(chunk_steps, "chunk_steps", minimum=1)
    # .ndim of an array (or an h5py dataset) reads no data: as_array would load it whole
    lazy = callable(x) or sparse_input(x)
    if not lazy and (x.ndim if hasattr(x, "ndim") else np.ndim(as_array(x, "input x"))) != 2:
        raise InputError(
            f"x must be (T, n_in): one trial, got shape {np.shape(x)}; for a batch of trials use "
            f"simulate(net, params, x, engine={engine!r})"
        )
    meta: dict[str, Any] = {"network": net.section(), "engine": engine}
    if engine == "jax":  # a name, as a file keeps it (np.dtype("float32") went in as an object)
        meta["precision"] = np.dtype(precision).name
    mine = as_table(metadata, "metadata")
    taken = sorted(set(mine) & {"network", "engine", "precision"})
    require(  # a user's "engine" replaced the run's own record of its engine, unsaid
        not taken,
        f"metadata may not set {', '.join(map(repr, taken))}: the run records its network, "
        "engine and precision under those keys; name yours otherwise",
    )
    return n_steps, chunk_steps, {**meta, **mine}


def run_chunks(
    net,
    params,
    x: Any,
    n_steps: int,
    chunk_steps: int,
    engine: str,
    precision: str,
    on_spikes: Callable[[np.ndarray, np.ndarray], None],
    after_chunk: Callable[[int, Callable[[], RunState]], None] | None = None,
    start: RunState | None = None,
) -> None:
    """Run steps ``start.step`` (0 without ``start``) to ``n_steps`` on ``engine`` in chunks of
    ``chunk_steps`` (:func:`input_chunks`), from ``start``'s state, passing the spikes (times
    within the whole run) to ``on_spikes``. After each chunk, ``after_chunk(steps_done,
    snapshot)`` is called: ``snapshot()`` returns the :class:`RunState` after that chunk (its
    arrays copied; the JAX engine's copied from the device only when asked). Check the run
    first with :func:`check_chunked_run`."""
    if start is not None:
        start.check(net, n_steps, engine, precision)
    first = 0 if start is None else start.step
    chunks = input_chunks(net, x, n_steps, chunk_steps, first)
    if engine == "jax":
        _jax_chunks(net, params, chunks, chunk_steps, n_steps, precision, on_spikes, after_chunk,
                    start)  # fmt: skip
    else:
        _event_chunks(net, params, chunks, on_spikes, after_chunk, start)


def input_chunks(net, x, n_steps: int, chunk_steps: int, first: int = 0):
    """``(start, chunk)`` for the chunks of ``chunk_steps`` steps of a run of ``n_steps`` from
    step ``first`` on, each from ``x`` (an array, a SciPy sparse matrix or a callable ``x(start,
    stop)``) and checked: a whole sparse ``x`` once, an array's chunks and a callable's as they
    come."""
    whole_sparse = sparse_input(x)
    if whole_sparse:
        x = check_sparse_input(net, x)
    rows = None if callable(x) else np.shape(x)[0] if np.ndim(x) else None
    if rows is not None and rows > n_steps:  # (its first n_steps rows ran, unsaid)
        raise InputError(
            f"x has {rows} steps for a run of n_steps={n_steps}: give n_steps={rows}, or "
            f"x[:{n_steps}] to run only its start"
        )
    for start in range(first, n_steps, chunk_steps):
        stop = min(start + chunk_steps, n_steps)
        chunk = x(start, stop) if callable(x) else x[start:stop]
        if not sparse_input(chunk) and np.ndim(chunk) != 2:  # a batch lost all but its first
            raise InputError(
                f"x({start}, {stop}) must return a (steps, n_in) chunk of one trial, got shape "
                f"{np.shape(chunk)}"
            )
        if not whole_sparse:  # the rows of a whole CSR input were checked above
            sparse = sparse_input(chunk)
            chunk = check_sparse_input(net, chunk) if sparse else check_input(net, chunk)[0][0]
        if chunk.shape[0] != stop - start:
            raise InputError(f"input for steps {start}..{stop} has {chunk.shape[0]} rows")
        yield start, chunk


def _event_chunks(net, params, chunks, on_spikes, after_chunk, start: RunState | None) -> None:
    """:func:`run_chunks` on the event engine."""
    weights = event_weights(params)
    if start is None:
        state = EventState.zeros(net.n_rec, net.n_out)
    else:
        state = EventState(*(np.array(start.arrays[name]) for name in EVENT_ARRAYS))

    def snapshot(stop: int) -> RunState:
        arrays = {name: a.copy() for name, a in zip(EVENT_ARRAYS, state.arrays(), strict=True)}
        return RunState(stop, "event", "float64", arrays)

    for first, chunk in chunks:
        run_event_chunk(
            net, params, chunk, state, t_offset=first, on_spikes=on_spikes, weights=weights
        )
        if after_chunk is not None:
            stop = first + chunk.shape[0]
            after_chunk(stop, lambda stop=stop: snapshot(stop))


def _jax_chunks(
    net, params, chunks, chunk_steps, n_steps, precision, on_spikes, after_chunk, start
) -> None:
    """:func:`run_chunks` on the JAX engine (:func:`.engine_jax.stream_spikes`, the state
    carried between chunks), each chunk's input made dense (sparse inputs). Before anything is
    built, the memory of the largest chunk is checked, for two chunks in flight: on the host its
    input (float64, then a copy in ``precision``) and spikes (bytes); on JAX's device its input
    and spikes in ``precision``. On a GPU (where JAX reports its free memory) the two are
    checked apart; on the CPU the device's arrays are in host memory too, so their sum is."""
    steps = min(chunk_steps, n_steps)
    itemsize = np.dtype(precision).itemsize
    what = f"chunks of {steps:,} steps for the JAX engine (dense input {net.n_in:,} wide"
    what += f" and its spikes, two chunks in flight, {precision}"
    advice = (
        "fewer chunk_steps ([simulation] chunk_steps), or engine='event', which reads sparse "
        "input row by row"
    )
    host = 2 * steps * (net.n_in * (8 + itemsize) + net.n_rec)
    on_device = 2 * steps * (net.n_in + net.n_rec) * itemsize
    # on the CPU JAX's arrays are host memory: a 10^5-unit chunk of 10^5 steps passed the
    # host's check without them and died allocating 40 GB in JAX
    require_host_and_device(
        host, on_device, advice, f"{what}, JAX's arrays in host memory)", f"{what}, on the host)",
        f"{what})",
    )  # fmt: skip

    def dense(chunks):
        for first, chunk in chunks:
            yield first, (chunk.toarray() if sparse_input(chunk) else chunk)

    def progress(stop: int, state: Any) -> None:
        if after_chunk is not None:

            def snapshot() -> RunState:
                arrays = {k: np.asarray(v) for k, v in zip(JAX_ARRAYS, state, strict=True)}
                return RunState(stop, "jax", precision, arrays)

            after_chunk(stop, snapshot)

    state0 = None if start is None else tuple(start.arrays[name] for name in JAX_ARRAYS)
    stream_spikes(net, params, dense(chunks), precision, on_spikes, progress, state0)
