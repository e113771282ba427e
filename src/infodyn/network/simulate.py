"""``simulate``: one entry point over the JAX and event-driven engines.

``engine="auto"`` picks the event-driven engine for long single-network runs (no batch axis and
``T >= 2000``), where activity is typically a few per cent and the event engine is fastest, and
the JAX engine otherwise (batches, short runs, anything differentiable). Force either with
``engine="jax"`` or ``engine="event"``. The event engine always computes in float64.
``"auto"`` does not look for a GPU: there the better engine depends on the network (on an H200,
``benchmarks/RESULTS.md``, the JAX engine ran 2,000 steps of a 10^5-unit, K = 100 network 5.4x
faster than the event engine on one core, but a 10^4-unit, K = 1,000 one 2.6x slower, unrolled
32 K-steps at a time), and its float32 default would change the spikes. On a GPU, choose
``engine="jax"`` for large networks.

Long runs: ``simulate_to_file`` streams spikes to an HDF5 spike file in chunks, never holding a
dense (T, n_rec) array; the input may be a callable ``x(start, stop) -> (stop-start, n_in)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.data.spike_files import SpikeWriter
from infodyn.data.spikes import SpikeTrain
from infodyn.errors import (
    InputError,
    as_array,
    as_table,
    require,
    require_choice,
    require_flag,
)
from infodyn.memory import require_memory
from infodyn.network.chunked import check_chunked_run, run_chunks
from infodyn.network.connectivity import expected_nnz
from infodyn.network.engine_event import (
    EventState,
    event_weights,
    run_event_chunk,
    sparse_input,
)
from infodyn.network.engine_jax import (
    check_precision,
    simulate_jax,
    trace_advice,
)
from infodyn.network.run_inputs import check_input, check_sparse_input, require_network
from infodyn.network.sparse import sparse_bytes
from infodyn.network.weights_memory import input_weights_bytes
from infodyn.progress import ProgressBar

AUTO_EVENT_MIN_STEPS = 2000

#: peak bytes the JAX engine allocates beyond the weights it is given, by precision: a synapse
#: of a sparse ``w_rec`` (its copy in the run's precision and the layouts by target and by
#: event; measured, VmHWM, 10^7 synapses at 10^5 x K = 100, 2 10^4 x K = 250, 10^4 x K =
#: 1,000: 33.5-38.9 float32, 37.5-42.5 float64) or an entry of a dense one (12.3-13.0 float32,
#: 8.3-9.1 float64, at 5,000 units)
JAX_BYTES_PER_SYNAPSE = {"float32": 40, "float64": 44}
JAX_BYTES_PER_DENSE_ENTRY = {"float32": 13.5, "float64": 9.5}


def run_weights_bytes(net, engine: str, precision: str) -> tuple[int, int]:
    """``(stored, engine's)``: the bytes of the weights of ``net`` as
    :meth:`~infodyn.network.LIF.init` draws them (float64), and of the ``engine``'s own copy of
    them during a run: the event engine's is a copy of the arrays
    (:func:`~infodyn.network.engine_event.event_weights`), the JAX engine's is
    :data:`JAX_BYTES_PER_SYNAPSE` (:data:`JAX_BYTES_PER_DENSE_ENTRY`), on its device. The check
    of the draw counted only the weights: a run allowed beside them could need twice as much
    and more."""
    require_choice("engine", engine, ("event", "jax"))
    n = net.n_rec
    if net.sparse_weights:
        nnz = int(expected_nnz(net))
        stored = sparse_bytes(n, nnz, np.float64)
        extra = stored if engine == "event" else JAX_BYTES_PER_SYNAPSE[precision] * nnz
    else:
        stored = 8 * n * n
        extra = stored if engine == "event" else JAX_BYTES_PER_DENSE_ENTRY[precision] * n * n
    others = input_weights_bytes(net, np.float64) + 8 * n * net.n_out  # w_in and w_out, and
    # the engine's copy of them
    return int(stored + others), int(extra + others)


@dataclass
class Trace:
    """Result of a simulation. Arrays are (T, .) for unbatched input, (B, T, .) for batched.

    ``z`` spikes (0/1), ``v`` membrane potentials, ``thr`` thresholds A (v_th for LIF units,
    adaptive for ALIF), ``y`` readouts. ``engine`` names the engine that produced it and
    ``precision`` its floats (the event engine's are always float64).
    """

    z: np.ndarray
    v: np.ndarray | None
    thr: np.ndarray | None
    y: np.ndarray | None
    dt: float
    engine: str
    precision: str = "float64"

    def spike_train(self, metadata: dict[str, Any] | None = None):
        """The spikes as a :class:`~infodyn.data.SpikeTrain` (batch entries become trials); its
        metadata names the engine and precision, then ``metadata``."""
        own = {"engine": self.engine, "precision": self.precision}
        extra = {} if metadata is None else as_table(metadata, "metadata")
        return SpikeTrain.from_dense(self.z.astype(np.uint8), dt=self.dt, metadata={**own, **extra})

    def rates_hz(self) -> np.ndarray:
        """Mean rate of each unit in Hz (averaged over batch and time)."""
        z = self.z.reshape(-1, self.z.shape[-1])
        return z.mean(axis=0) * 1000.0 / self.dt


#: the engines :func:`simulate` runs ("auto": the event engine for one long trial, else JAX)
ENGINES = ("auto", "jax", "event")


def simulate(
    net,
    params: dict[str, Any],
    x: Any,
    engine: str = "auto",
    precision: str = "float32",
    record: bool = True,
) -> Trace:
    """Simulate ``net`` with weights ``params`` on input ``x``.

    Parameters
    ----------
    x : (T, n_in) or (B, T, n_in) array of input spikes or currents, or a SciPy sparse (T, n_in)
        matrix (read row by row by the event engine, without a dense copy: e.g. 10^5 private
        Poisson inputs; densified for the JAX engine).
    engine : "auto", "jax" or "event" (module docstring).
    precision : "float32" (default) or "float64" (JAX engine; the event engine is always float64).
        "float64" turns on JAX's 64-bit mode (``jax_enable_x64``) for the rest of the process,
        as JAX cannot hold float64 arrays without it: other JAX code then defaults to 64 bits
        too (set ``jax.config.update("jax_enable_x64", False)`` after, to go back).
    record : also record v, thr and y (dense arrays); spikes are always recorded. With
        ``record=False`` the trace holds z only (``v``, ``thr``, ``y`` are None).

    ``params["w_rec"]`` may be dense or a :class:`~infodyn.network.SparseWeights`; both engines
    run it without an N x N array. Before allocating the dense (B, T, .) traces the memory they
    need is checked (:func:`infodyn.memory.require_memory`); for runs too long to hold, stream
    spikes to a file with :func:`simulate_to_file`.
    """
    record = require_flag("record", record)
    require_network(net)
    net.validate_params(params)
    check_precision(precision)  # the event engine took float16 without a word
    require_choice("engine", engine, ENGINES)  # (an array compared with "auto" had no truth value)
    if sparse_input(x):
        xs = check_sparse_input(net, x)
        if engine == "auto":
            engine = "event" if xs.shape[0] >= AUTO_EVENT_MIN_STEPS else "jax"
        if engine == "jax":
            require_memory(
                8 * xs.shape[0] * net.n_in,
                f"a dense copy of the sparse input {xs.shape} for the JAX engine",
                "use engine='event' (it reads the sparse rows) or fewer steps",
            )
            xb, batched = check_input(net, xs.toarray())
        else:
            xb, batched = [xs], False  # the event engine reads the CSR rows
    else:
        xb, batched = check_input(net, x)
    if engine == "auto":
        engine = "event" if (not batched and xb.shape[1] >= AUTO_EVENT_MIN_STEPS) else "jax"
    if engine == "jax":
        out = simulate_jax(net, params, xb, precision, record=record)
        z, v, thr, y = out["z"], out.get("v"), out.get("thr"), out.get("y")
    elif engine == "event":
        z, v, thr, y = _simulate_event_batch(net, params, xb, record)
    if not batched:
        z, v, thr, y = (a[0] if a is not None else None for a in (z, v, thr, y))
    used = np.dtype(precision).name if engine == "jax" else "float64"
    return Trace(z=z, v=v, thr=thr, y=y, dt=net.dt, engine=engine, precision=used)


def _simulate_event_batch(net, params, xb, record: bool):
    n_b, n_t = len(xb), xb[0].shape[0]
    width = net.n_rec + (2 * (2 * net.n_rec + net.n_out) if record else 0)  # z; v, thr, y twice
    require_memory(
        8 * n_b * n_t * width,
        f"the event engine's dense {'z, v, thr and y' if record else 'z'} traces of "
        f"{n_b} x {n_t} steps x {net.n_rec} units",
        trace_advice(record, "fewer steps"),
    )
    weights = event_weights(params)
    z = np.zeros((n_b, n_t, net.n_rec), np.float64)
    vs, thrs, ys = [], [], []
    for b in range(n_b):
        state = EventState.zeros(net.n_rec, net.n_out)

        def collect(times, units, b=b):
            z[b, times, units] = 1.0

        v, thr, y = run_event_chunk(
            net, params, xb[b], state, record=record, on_spikes=collect, weights=weights
        )
        vs.append(v)
        thrs.append(thr)
        ys.append(y)
    if not record:
        return z, None, None, None
    return z, np.stack(vs), np.stack(thrs), np.stack(ys)


def simulate_spikes(
    net,
    params: dict[str, Any],
    x: Any,
    n_steps: int | None = None,
    chunk_steps: int = 10_000,
    metadata: dict[str, Any] | None = None,
    engine: str = "event",
    precision: str = "float32",
):
    """Run the event engine (or ``engine="jax"``) and return its spikes as a sparse
    :class:`~infodyn.data.SpikeTrain` (16 bytes a spike; no dense (T, n_rec) array).

    ``x``: a (T, n_in) array, a SciPy sparse (T, n_in) matrix (read row by row) or a callable
    ``x(start, stop)`` making each chunk of ``chunk_steps`` steps (then ``n_steps`` is needed).
    Spikes equal those of :func:`simulate` with the same engine (and, for JAX, precision) and
    of :func:`simulate_to_file`; use the latter when the spikes do not fit in memory.

    ``engine="jax"`` runs the chunks on JAX's default device (a GPU where there is one) in
    ``precision`` (float32 by default, as in :func:`simulate`; the event engine always computes
    in float64), the state carried from chunk to chunk; each chunk's input and spikes are dense
    there ((chunk_steps, n_in + n_rec) values, checked against the free memory of the host and,
    where JAX reports it, of the GPU), so choose ``chunk_steps`` to fit. In float64 its spikes
    equal the event engine's.
    """
    if n_steps is None:
        if callable(x):
            raise InputError("n_steps is needed when x is a function")
        if not sparse_input(x) and not hasattr(x, "shape"):  # an h5py dataset is not read
            x = as_array(x, "input x")
        n_steps = int(x.shape[0]) if len(x.shape) >= 1 else 0
    n_steps, chunk_steps, meta = check_chunked_run(
        net, params, x, n_steps, chunk_steps, metadata, engine, precision
    )
    collect = _SpikeCollector(net.n_rec, n_steps, net.dt)
    run_chunks(net, params, x, n_steps, chunk_steps, engine, precision, collect)
    times, units = collect.arrays()
    return SpikeTrain(times, units, n_units=net.n_rec, n_steps=n_steps, dt=net.dt, metadata=meta)


class _SpikeCollector:
    """The spikes of :func:`simulate_spikes` as they come, with a memory preflight that grows
    with them: a network that runs away (every unit firing every step) would otherwise fill the
    memory and be killed. Each time the count passes twice the last checked one (from
    :data:`CHECK_FROM` spikes on), the spikes still to come are projected from the rate since
    the last check, capped at the count so far (so a burst that dies out is not projected over
    the whole run: the next check, at twice the count, sees the new rate), and the memory they
    and the end of the run need is required: their chunks (12 bytes a spike), then for every
    spike the concatenation (12) and the :class:`~infodyn.data.SpikeTrain`'s own copies with
    trial ids (16). A run that keeps its rate is refused before the count doubles past what
    fits."""

    CHECK_FROM = 1 << 20
    BYTES_HELD = 12  # int64 time + int32 unit, per spike in the chunk lists
    BYTES_FINAL = 28  # concatenated (12), then the SpikeTrain's copies with trial ids (16)

    def __init__(self, n_units: int, n_steps: int, dt: float) -> None:
        self.n_units, self.n_steps, self.dt = n_units, n_steps, dt
        self.times: list[np.ndarray] = []
        self.units: list[np.ndarray] = []
        self.count = 0
        self.checked = self.CHECK_FROM // 2  # the count, and the step, of the last check
        self.checked_count, self.checked_step = 0, 0

    def __call__(self, t: np.ndarray, u: np.ndarray) -> None:
        self.times.append(t)
        self.units.append(u)
        self.count += len(t)
        if self.count >= 2 * self.checked:
            self.checked = self.count
            self.preflight(int(t[-1]) + 1)

    def preflight(self, done: int) -> None:
        steps = max(done - self.checked_step, 1)
        per_step = (self.count - self.checked_count) / steps
        self.checked_count, self.checked_step = self.count, done
        rest = min(per_step * (self.n_steps - done), self.count)
        rate = per_step / self.n_units * 1000.0 / self.dt
        require_memory(
            self.BYTES_HELD * rest + self.BYTES_FINAL * (self.count + rest),  # held: not free
            f"simulate_spikes: {self.count:,} spikes in the first {done:,} of "
            f"{self.n_steps:,} steps ({rate:.3g} Hz a unit over the last {steps:,}); holding "
            f"them and the next {int(rest):,} at that rate",
            "stream the spikes to HDF5 (simulate_to_file, `infodyn simulate`), run fewer "
            "steps, or check the network for runaway activity (weights, drive)",
        )

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The spike times and units, concatenated (the chunks are released on the way)."""
        times = np.concatenate(self.times or [np.zeros(0, np.int64)])
        self.times.clear()
        units = np.concatenate(self.units or [np.zeros(0, np.int32)])
        self.units.clear()
        return times, units


def simulate_to_file(
    net,
    params: dict[str, Any],
    x: Any,
    n_steps: int,
    path: str | os.PathLike,
    chunk_steps: int = 10_000,
    progress: bool | Callable[[int], None] | None = None,
    metadata: dict[str, Any] | None = None,
    engine: str = "event",
    precision: str = "float32",
) -> Path:
    """Run the event engine (or ``engine="jax"``, as in :func:`simulate_spikes`) for
    ``n_steps`` and stream spikes to an HDF5 spike file.

    ``x`` is a (n_steps, n_in) array, a SciPy sparse (n_steps, n_in) matrix (read row by row,
    never densified by the event engine) or a callable ``x(start, stop)`` producing each chunk
    of input (an array or a sparse matrix), so neither input nor spikes need to fit in memory.
    ``progress=True`` shows the bar of :mod:`infodyn.progress` (steps done); a callable
    ``progress(steps_done)`` is called after each chunk instead. The file appears only when
    the run completes; its metadata names the engine (and the JAX engine's precision).
    """
    n_steps, chunk_steps, meta = check_chunked_run(
        net, params, x, n_steps, chunk_steps, metadata, engine, precision
    )
    require(  # "a" or {} were taken and showed nothing
        progress is None or isinstance(progress, bool) or callable(progress),
        f"progress must be True, False, None or a function progress(steps_done), got "
        f"{progress!r:.60}",
    )
    report = progress if callable(progress) else None
    with (
        ProgressBar("simulating", n_steps, enabled=progress is True, unit="steps") as bar,
        SpikeWriter(path, n_units=net.n_rec, dt=net.dt, n_steps=n_steps, metadata=meta) as writer,
    ):

        def done(stop: int, _snapshot: Any) -> None:
            bar.update(done=stop)
            if report is not None:
                report(stop)

        run_chunks(net, params, x, n_steps, chunk_steps, engine, precision, writer.append, done)
    return Path(path)
