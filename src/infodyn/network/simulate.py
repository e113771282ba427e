"""``simulate``: one entry point over the JAX and event-driven engines.

``engine="auto"`` picks the event-driven engine for long single-network runs (no batch axis and
``T >= 2000``), where activity is typically a few per cent and the event engine is fastest, and
the JAX engine otherwise (batches, short runs, anything differentiable). Force either with
``engine="jax"`` or ``engine="event"``. The event engine always computes in float64.

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
from infodyn.errors import InputError, require_finite
from infodyn.memory import require_memory
from infodyn.network.engine_event import EventState, event_weights, run_event_chunk
from infodyn.network.engine_jax import simulate_jax

AUTO_EVENT_MIN_STEPS = 2000


@dataclass
class Trace:
    """Result of a simulation. Arrays are (T, .) for unbatched input, (B, T, .) for batched.

    ``z`` spikes (0/1), ``v`` membrane potentials, ``thr`` thresholds A (v_th for LIF units,
    adaptive for ALIF), ``y`` readouts. ``engine`` names the engine that produced it.
    """

    z: np.ndarray
    v: np.ndarray | None
    thr: np.ndarray | None
    y: np.ndarray | None
    dt: float
    engine: str

    def spike_train(self, metadata: dict[str, Any] | None = None):
        """The spikes as a :class:`~infodyn.data.SpikeTrain` (batch entries become trials)."""
        return SpikeTrain.from_dense(self.z.astype(np.uint8), dt=self.dt, metadata=metadata)

    def rates_hz(self) -> np.ndarray:
        """Mean rate of each unit in Hz (averaged over batch and time)."""
        z = self.z.reshape(-1, self.z.shape[-1])
        return z.mean(axis=0) * 1000.0 / self.dt


def check_input(net, x: Any) -> tuple[np.ndarray, bool]:
    """Validate ``x`` and return it as (B, T, n_in) float64 with a flag for batched input."""
    x = np.asarray(x)
    if x.dtype == object or x.dtype.kind not in "biuf":
        raise InputError(f"input x must be numeric, got dtype {x.dtype}")
    batched = x.ndim == 3
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise InputError(f"input x must be (T, n_in) or (B, T, n_in), got shape {x.shape}")
    if x.shape[2] != net.n_in:
        raise InputError(f"input x has {x.shape[2]} channels but the network has n_in={net.n_in}")
    if x.shape[1] == 0 or x.shape[0] == 0:
        raise InputError(f"input x is empty (shape {x.shape})")
    require_finite("input x", x)
    return x.astype(np.float64, copy=False), batched


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
    x : (T, n_in) or (B, T, n_in) array of input spikes or currents.
    engine : "auto", "jax" or "event" (module docstring).
    precision : "float32" (default) or "float64" (JAX engine; the event engine is always float64).
    record : also record v, thr and y (dense arrays); spikes are always recorded. With
        ``record=False`` the trace holds z only (``v``, ``thr``, ``y`` are None).

    ``params["w_rec"]`` may be dense or a :class:`~infodyn.network.SparseWeights`; both engines
    run it without an N x N array. Before allocating the dense (B, T, .) traces the memory they
    need is checked (:func:`infodyn.memory.require_memory`); for runs too long to hold, stream
    spikes to a file with :func:`simulate_to_file`.
    """
    net.validate_params(params)
    xb, batched = check_input(net, x)
    if engine == "auto":
        engine = "event" if (not batched and xb.shape[1] >= AUTO_EVENT_MIN_STEPS) else "jax"
    if engine == "jax":
        out = simulate_jax(net, params, xb, precision, record=record)
        z, v, thr, y = out["z"], out.get("v"), out.get("thr"), out.get("y")
    elif engine == "event":
        z, v, thr, y = _simulate_event_batch(net, params, xb, record)
    else:
        raise InputError(f"engine must be 'auto', 'jax' or 'event', got {engine!r}")
    if not batched:
        z, v, thr, y = (a[0] if a is not None else None for a in (z, v, thr, y))
    return Trace(z=z, v=v, thr=thr, y=y, dt=net.dt, engine=engine)


def _simulate_event_batch(net, params, xb: np.ndarray, record: bool):
    n_b, n_t = xb.shape[:2]
    width = net.n_rec + (2 * (2 * net.n_rec + net.n_out) if record else 0)  # z; v, thr, y twice
    require_memory(
        8 * n_b * n_t * width,
        f"the event engine's dense {'z, v, thr and y' if record else 'z'} traces of "
        f"{n_b} x {n_t} steps x {net.n_rec} units",
        "record=False (spikes only), fewer steps, or stream spikes to HDF5 with "
        "`infodyn simulate` / simulate_to_file",
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


def simulate_to_file(
    net,
    params: dict[str, Any],
    x: np.ndarray | Callable[[int, int], np.ndarray],
    n_steps: int,
    path: str | os.PathLike,
    chunk_steps: int = 10_000,
    progress: Callable[[int], None] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Run the event engine for ``n_steps`` and stream spikes to an HDF5 spike file.

    ``x`` is a (n_steps, n_in) array or a callable ``x(start, stop)`` producing each chunk of
    input, so neither input nor spikes need to fit in memory. ``progress(steps_done)`` is called
    after each chunk. The file appears only when the run completes.
    """
    net.validate_params(params)
    if n_steps < 1:
        raise InputError("n_steps must be >= 1")
    weights = event_weights(params)
    state = EventState.zeros(net.n_rec, net.n_out)
    meta = {"network": net.model_dump(mode="json"), "engine": "event", **(metadata or {})}
    with SpikeWriter(path, n_units=net.n_rec, dt=net.dt, n_steps=n_steps, metadata=meta) as writer:
        for start in range(0, n_steps, chunk_steps):
            stop = min(start + chunk_steps, n_steps)
            chunk = x(start, stop) if callable(x) else x[start:stop]
            chunk, _ = check_input(net, chunk)
            run_event_chunk(
                net,
                params,
                chunk[0],
                state,
                t_offset=start,
                on_spikes=writer.append,
                weights=weights,
            )
            if progress is not None:
                progress(stop)
    return Path(path)
