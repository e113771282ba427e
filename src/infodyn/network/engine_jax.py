"""The JAX engine: ``jit`` + ``lax.scan`` over time, batched, float32 or float64.

This is the differentiable path used by training. One compiled function per network shape,
detach options and dtype; later calls with the same shapes reuse it.

Sparse weights (:class:`~infodyn.network.sparse.SparseWeights`) with concrete index arrays run
event-driven by default (``event_driven=True``): on a CPU each step adds only the rows of the
units (and input channels) that are active, in an XLA custom call
(:mod:`infodyn.network.event_current`: about 3x faster than gathering every synapse at 10 %
activity), with bitwise the sums of the gather path, which it falls back to above 40 %
activity, for derivatives and on a GPU. ``event_driven=False`` runs the gather path everywhere:
K gathers by target for a fixed in-degree (:func:`~infodyn.network.sparse_current.by_target`),
else a gather and segment sum.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from infodyn.errors import InputError, require_choice
from infodyn.memory import require_memory
from infodyn.network.dynamics import Constants, State, step, zero_state
from infodyn.network.event_current import ByEvent, by_event
from infodyn.network.sparse import is_sparse, pre_indices_jax, to_jax
from infodyn.network.sparse_current import ByTarget, by_target


def check_precision(precision: str) -> None:
    """Refuse a ``precision`` other than "float32" and "float64" in one line."""
    name = precision.name if isinstance(precision, np.dtype) else precision  # np.dtype("float32")
    require_choice("precision", name, ("float32", "float64"))


def ensure_dtype(precision: str):
    """Return the JAX dtype for ``precision`` ("float32" or "float64"), enabling x64 if needed."""
    check_precision(precision)
    if precision == "float64":
        if not jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", True)
        return jnp.float64
    return jnp.float32


def check_float32_range(name: str, values: Any, nonzero: bool = False) -> None:
    """Refuse float64 ``values`` beyond float32's largest number (they became inf, and the run
    NaN with no spike, where the float64 event engine spiked), and with ``nonzero`` (weights, a
    threshold) values that are all below its smallest normal number but not 0 (XLA on
    the CPU flushes subnormals to 0: weights drawn for ``v_th = 1e-39`` gave no current and no
    spike, and no potential was ever tested against ``v_th = 1e-300``; a decay that small is 0
    to float32's precision). Float32 input fits itself; NaN and inf are refused before
    (validation). Two passes without temporaries (max, min), for weights of 10^8 synapses."""
    raw = values.values if is_sparse(values) else values
    if getattr(raw, "dtype", np.float64) != np.float64:  # before any copy: a trainer's JAX
        return  # float32 weights were copied off a GPU at every iteration
    a = np.asarray(raw)
    if a.dtype != np.float64 or a.size == 0:
        return
    largest = max(abs(float(a.max())), abs(float(a.min())))
    if largest > _F32_MAX:
        raise InputError(
            f"{name} holds {largest:.3g}, beyond float32's range (3.4e38): run with "
            "precision='float64'"
        )
    if nonzero and 0 < largest < _F32_TINY:
        what = f"= {largest:.3g}" if a.size == 1 else f"holds values up to {largest:.3g} only"
        raise InputError(
            f"{name} {what}, below float32's smallest normal number (1.2e-38), which the "
            "engine flushes to 0: run with precision='float64'"
        )


#: float32's limits, against which a float32 run's float64 input is checked
_F32_MAX = float(np.finfo(np.float32).max)
_F32_TINY = float(np.finfo(np.float32).tiny)


def check_float32_network(net, params, c: Constants | None = None) -> None:
    """Refuse weights and constants of ``net`` that float32 cannot hold
    (:func:`check_float32_range`), for a float32 run or gradient: a decay or scale below
    float32's smallest number is 0 to the same precision, a threshold that becomes 0 changes
    which potentials spike, and a weight beyond its range becomes inf (a float32 gradient then
    read as "exploded ... lower the learning rate")."""
    c = Constants.of(net) if c is None else c
    for key in ("w_in", "w_rec", "w_out"):
        check_float32_range(f"params[{key!r}]", params[key], nonzero=True)
    for field in ("alpha", "rho", "kappa", "v_th", "input_scale", "readout_scale", "gamma"):
        check_float32_range(field, np.float64(getattr(c, field)), nonzero=field == "v_th")
    check_float32_range("beta_a", np.asarray(net.beta_vector(), np.float64))


def prepare(net, params, precision: str):
    """``(dtype, params cast to it, Constants, beta)``: what a JAX run of ``net`` needs; in
    float32 its weights and constants are checked to fit (:func:`check_float32_range`)."""
    dtype = ensure_dtype(precision)
    c = Constants.of(net)
    if dtype == jnp.float32:
        check_float32_network(net, params, c)
    beta = jnp.asarray(net.beta_vector(), dtype)
    return dtype, cast_params(params, dtype), c, beta


def run(
    c: Constants,
    params: dict[str, jax.Array],
    beta: jax.Array,
    x: jax.Array,
    detach_recurrent: bool = False,
    detach_reset: bool = False,
    record: bool = True,
    event_driven: bool = True,
) -> dict[str, jax.Array]:
    """Simulate ``x`` (B, T, n_in); returns time-major arrays v, z, thr, y of shape (T, B, .)
    (only z with ``record=False``). ``params["w_rec"]`` and ``params["w_in"]`` may be
    :class:`SparseWeights`; with concrete index arrays they run event-driven on a CPU
    (``event_driven``, module docstring), else one with a fixed in-degree runs by target
    (:func:`~infodyn.network.sparse_current.by_target`: gathers and sums, no scatter), others by
    segment sums; all give the same sums. ``x`` and the weights must share one dtype."""
    dtypes = {
        str(jnp.result_type(a)) for a in (x, params["w_in"], params["w_rec"], params["w_out"])
    }
    if len(dtypes) > 1:  # lax.scan's "carry input and carry output must have equal types"
        raise InputError(
            f"x and the weights must share one dtype, got {', '.join(sorted(dtypes))}: cast "
            "them to one precision (jnp.asarray(x, dtype), and each weight)"
        )
    layouts = _layouts(params, event_driven)
    return _run(c, params, beta, x, layouts, detach_recurrent, detach_reset, record)


def lower(
    c: Constants,
    params,
    beta,
    x,
    detach_recurrent=False,
    detach_reset=False,
    record=True,
    event_driven=True,
):
    """The compiled-to-be computation of :func:`run` with these arguments (``jax.jit``'s
    ``lower``: ``.compile()`` it to time compilation alone)."""
    layouts = _layouts(params, event_driven)
    return _run.lower(c, params, beta, x, layouts, detach_recurrent, detach_reset, record)


def _layouts(params, event_driven: bool) -> tuple:
    """The layouts of ``w_rec`` and ``w_in`` (None for dense weights or traced indices)."""
    plan = by_event if event_driven else by_target
    return tuple(plan(params[k]) for k in ("w_rec", "w_in"))


def prepare_layout(w, plan):
    """What a step needs besides ``w`` (its ``pre``/``pre_in``, :func:`.dynamics.step`): the
    layout ``plan`` (:func:`~infodyn.network.event_current.by_event` or
    :func:`~infodyn.network.sparse_current.by_target` of ``w``, made outside ``jit``) with its
    values gathered, or, without a plan, the presynaptic ids of a sparse ``w``; call it inside the
    traced function, once per scan, not every step."""
    if isinstance(plan, ByEvent):
        return plan.replace(fallback=prepare_layout(w, plan.fallback))
    if plan is not None:
        return plan.gather(w)
    return pre_indices_jax(w) if is_sparse(w) else None


def _scan(c, params, beta, x, layouts, state0, detach_recurrent, detach_reset, record):
    """``lax.scan`` of :func:`.dynamics.step` over the time axis of ``x`` (B, T, n_in) from
    ``state0``: ``(final state, per-step outputs)``, time-major."""
    pre, pre_in = (
        prepare_layout(w, plan)
        for w, plan in zip((params["w_rec"], params["w_in"]), layouts, strict=True)
    )

    def body(state: State, x_t: jax.Array):
        new, thr = step(c, params, beta, state, x_t, detach_recurrent, detach_reset, pre, pre_in)
        if not record:
            return new, new.z
        return new, (new.v, new.z, thr, new.y)

    return jax.lax.scan(body, state0, jnp.swapaxes(x, 0, 1))


@partial(jax.jit, static_argnames=("c", "detach_recurrent", "detach_reset", "record"))
def _run(
    c: Constants,
    params: dict[str, jax.Array],
    beta: jax.Array,
    x: jax.Array,
    layouts: tuple[ByEvent | ByTarget | None, ByEvent | ByTarget | None],
    detach_recurrent: bool,
    detach_reset: bool,
    record: bool,
) -> dict[str, jax.Array]:
    state0 = zero_state(x.shape[0], params["w_rec"].shape[0], params["w_out"].shape[1], x.dtype)
    _, out = _scan(c, params, beta, x, layouts, state0, detach_recurrent, detach_reset, record)
    if not record:
        return {"z": out}
    v, z, thr, y = out
    return {"v": v, "z": z, "thr": thr, "y": y}


@partial(jax.jit, static_argnames=("c",))
def _continue(c, params, beta, x, layouts, state0):
    """One chunk of a long run: ``(state after it, z as booleans)`` from ``state0`` (booleans:
    4-8x less to copy to the host)."""
    final, z = _scan(c, params, beta, x, layouts, state0, False, False, False)
    return final, z.astype(jnp.bool_)


def device_free_bytes() -> int | None:
    """Free memory of JAX's default device (its allocator's limit minus what is in use), or
    None where JAX does not report it (the CPU: there the host's free memory is what counts)."""
    device = next(iter(jnp.zeros(()).devices()))
    if device.platform == "cpu":
        return None
    stats = device.memory_stats() or {}
    if "bytes_limit" not in stats:
        return None
    return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))


def require_host_and_device(
    host: float, device: float, advice: str, summed: str, on_host: str, on_device: str
) -> None:
    """Check ``host`` bytes of host memory and ``device`` bytes of JAX's arrays: apart where
    JAX reports its device's free memory (a GPU), against the host together where it does not
    (the CPU, whose device arrays are host memory; a device that reports nothing: summing is
    the safe side). ``summed``, ``on_host`` and ``on_device`` name the need in each message."""
    free = device_free_bytes()
    if free is None:
        require_memory(host + device, summed, advice)
    else:
        require_memory(host, on_host, advice)
        require_memory(device, on_device, advice, free=free, where=" on the device")


def stream_spikes(
    net, params, chunks, precision: str, on_spikes, progress=None, state0=None
) -> None:
    """Run the JAX engine over a long single trial given in ``chunks`` (an iterable of ``(start,
    (steps, n_in) array)``), the state carried from each chunk to the next, passing each
    chunk's spikes to ``on_spikes(times, units)`` (times within the run, ascending; units
    ascending within a step: the event engine's order) and then the steps done and the
    :class:`~infodyn.network.dynamics.State` after them to ``progress(stop, state)``. The steps
    are those of :func:`simulate_jax` on the whole input: the same spikes at the same
    precision. ``state0``: the (v, z, a, r, y) arrays to start from (a state ``progress`` was
    given, saved; zeros by default). Chunks of one length share one compilation. Each chunk is
    dispatched before the previous one's spikes are copied back and written (JAX runs
    asynchronously), so the device computes while the host writes; at most two chunks' input
    and spikes are held at a time."""
    dtype, p, c, beta = prepare(net, params, precision)
    layouts = _layouts(p, event_driven=True)
    if state0 is None:
        state = zero_state(1, net.n_rec, net.n_out, dtype)
    else:
        state = State(*(jnp.asarray(a, dtype) for a in state0))

    def emit(start: int, steps: int, z: jax.Array, after: State) -> None:
        times, _, units = np.nonzero(np.asarray(z))
        on_spikes(times.astype(np.int64) + start, units.astype(np.int32))
        if progress is not None:
            progress(start + steps, after)

    pending = None
    for start, chunk in chunks:
        if dtype == jnp.float32:  # 1e39 became inf, then NaN: the units it reached fell silent
            check_float32_range(f"x (steps {start}..)", chunk)
        state, z = _continue(c, p, beta, jnp.asarray(chunk[None], dtype), layouts, state)
        if pending is not None:
            emit(*pending)
        pending = (start, chunk.shape[0], z, state)
    if pending is not None:
        emit(*pending)


def cast_params(params, dtype) -> dict[str, jax.Array]:
    """``{"w_in", "w_rec", "w_out"}`` as JAX arrays of ``dtype`` (a sparse ``w_rec`` stays
    sparse: :func:`~infodyn.network.sparse.to_jax`)."""
    return {k: to_jax(params[k], dtype) for k in ("w_in", "w_rec", "w_out")}


def trace_bytes(net, batch: int, n_steps: int, precision: str, record: bool = True) -> int:
    """Bytes of the traces a JAX run returns: z (and v, thr, y when recording), on the device
    and again on the host."""
    width = (3 * net.n_rec + net.n_out) if record else net.n_rec
    return 2 * batch * n_steps * width * np.dtype(precision).itemsize


def require_trace_memory(
    net, batch: int, n_steps: int, precision: str, record: bool, advice: str, need: str,
    summed: str,
) -> None:  # fmt: skip
    """Refuse a JAX run of ``batch`` x ``n_steps`` steps whose traces (:func:`trace_bytes`, on
    each side) and input's copy on the device (4,000 input channels took 0.5 GB unchecked)
    do not fit; on a GPU the device's memory is checked on its own
    (:func:`require_host_and_device`; ``need`` names the host's share, ``summed`` the device's
    and the sum)."""
    traces = trace_bytes(net, batch, n_steps, precision, record) / 2
    device_input = float(batch) * n_steps * net.n_in * np.dtype(precision).itemsize
    require_host_and_device(traces, traces + device_input, advice, summed, need, summed)


def trace_advice(record: bool, fewer: str) -> str:
    """What to change when traces do not fit: ``record=False`` only when it was not given."""
    first = "record=False (spikes only), " if record else ""
    return f"{first}{fewer}, or stream spikes to HDF5 with `infodyn simulate` / simulate_to_file"


def simulate_jax(
    net, params, x: np.ndarray, precision: str = "float32", record: bool = True
) -> dict[str, np.ndarray]:
    """Run the JAX engine on batched input ``x`` (B, T, n_in); returns (B, T, .) NumPy arrays
    (z only with ``record=False``). Refuses, before running, traces that do not fit in memory."""
    batch, n_steps = x.shape[:2]
    what = "z, v, thr and y" if record else "z"
    need = f"the JAX engine's {what} traces of {batch} x {n_steps} steps x {net.n_rec} units"
    require_trace_memory(
        net, batch, n_steps, precision, record, trace_advice(record, "fewer steps or trials"),
        need, f"{need} and its input",
    )  # fmt: skip
    dtype, p, c, beta = prepare(net, params, precision)
    if dtype == jnp.float32:
        check_float32_range("x", x)
    out = run(c, p, beta, jnp.asarray(x, dtype), record=record)
    traces = {k: np.swapaxes(np.asarray(v), 0, 1) for k, v in out.items()}
    if dtype == jnp.float32:
        _warn_overflow(traces)
    return traces


def _warn_overflow(traces: dict[str, np.ndarray]) -> None:
    """Warn when a float32 run's recorded potentials, thresholds or readouts overflowed to inf
    (finite weights can drive them past 3.4e38: the traces held inf in silence where the
    float64 run's were finite)."""
    bad = [k for k in ("v", "thr", "y") if k in traces and not np.all(np.isfinite(traces[k]))]
    if bad:
        warnings.warn(
            f"the float32 run's {', '.join(bad)} overflowed to inf (beyond float32's range, "
            "3.4e38): run with precision='float64' for finite values",
            RuntimeWarning,
            stacklevel=4,
        )
