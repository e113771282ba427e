"""The sparse recurrent current added event by event inside XLA on a CPU (an XLA custom call).

The current of a step is ``I[b, j] = sum_i z[b, i] w[i, j]`` (the ``z^T W_rec`` of
:mod:`infodyn.network.model`). The gather path of
:func:`~infodyn.network.sparse_current.recurrent_current` touches every synapse every step; an
event-driven product touches only the rows of the units that spiked,
``I[b, :] += z[b, i] * w[i, :]`` for each i with ``z[b, i] != 0`` (the event engine's loop;
the clock-driven scheme with event-driven spike propagation of Brette et al. 2007, J. Comput.
Neurosci. 23:349), so at 10 % activity it does a tenth of the work.

Why a custom call: XLA has no efficient event-driven sparse product on a CPU. Measured on this
project's CPU at N = 10^4, K = 100, 10.6 % activity, float32, one thread (ms per step):
the K-gather path 0.50 (the floor of a bare Numba loop doing the same gathers: 0.44);
``nonzero`` of the spikes + a by-source padded gather + ``.at[].add`` scatter 1.0-1.4 (XLA's
scatter costs about 1.7-2 ns an update, four times a gather, and the padding to the largest
out-degree adds 44 %; ``nonzero`` alone 0.11-0.13); the same loop here, a Numba kernel that
XLA calls through its typed FFI, 0.17 (0.035 at 1 %, 0.49 at 40 %, 1.09 at 100 % activity);
reading synapse positions and targets unsigned made that loop another 1.4-2x faster (0.25-0.35
-> 0.12-0.24 ms a step at 10.6 %, the two alternating in one process on a noisier day). The
crossover to the gather path stayed at about 40 % active entries (remeasured after that change
by ``benchmarks/event_current_crossover.py``: event / gather 0.30, 0.65, 0.80, 0.99, 1.21, 1.58
at 10, 20, 30, 40, 60, 100 % activity), so ``DEFAULT_CAPACITY`` stays 0.4.

How it is called: :func:`event_current` is a ``jax.ffi.ffi_call`` of the CPU target registered
by :func:`register` (a Numba ``cfunc`` implementing the XLA FFI C ABI: it reads the buffers of
the call frame, ``xla/ffi/api/c_api.h``), wrapped so that

- it is exact: rows and synapses are added in ascending order, the order of the gather path and
  of the event engine, each term rounded as the fallback rounds it (XLA contracts the by-target
  path's ``acc + z w`` to a fused multiply-add, so the kernel then uses one too; the segment
  sum rounds ``z w`` first), so float32 and float64 results are bitwise the fallback's for any
  ``z``, and for spikes (0 or 1, where both roundings agree) those of every path and of the
  event engine;
- it differentiates: a ``custom_jvp`` whose tangent is the gather path's (linear in ``z`` and in
  the synapse values), so ``grad`` and BPTT through it work;
- it falls back: more than ``capacity`` (default 40 %) active entries in a step run the gather
  path instead (``lax.cond``; above that the gather is faster), and on a GPU (or any platform
  but the CPU, ``lax.platform_dependent``) only the gather path is lowered;
- it batches: ``z`` may have any leading axes; under ``vmap`` the call loops over the mapped
  axis (``vmap_method="sequential"``; the ``cond`` then becomes a select that runs both paths).

The FFI handler checks the layout of the call frame (five argument buffers, one result, struct
sizes; any other layout leaves the result alone, which the self-test catches) and otherwise
trusts its inputs: :func:`event_current` checks dtypes and shapes when tracing
(float32 or float64 ``z`` and values of one dtype, int32 indices, fewer than 2^31 synapses) and
otherwise takes the gather path.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numba
import numpy as np
from numba import carray, types
from numba.extending import intrinsic

from infodyn.network._event_rows import fma
from infodyn.network.sparse import SparseWeights
from infodyn.network.sparse_current import ByTarget, by_target, recurrent_current

Array = Any
TARGET = "infodyn_event_current"
DEFAULT_CAPACITY = 0.4  # fraction of active entries above which the gather path is cheaper
_F32, _F64 = 11, 12  # XLA_FFI_DataType codes
_FFI_VERSION = (0, 1)  # the XLA FFI API version this handler's struct offsets follow


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=["indices", "indptr", "fallback"],
    meta_fields=["capacity"],
)
@dataclasses.dataclass(frozen=True)
class ByEvent:
    """The event-driven layout of a :class:`SparseWeights` (a pytree): its CSR ``indices`` and
    ``indptr`` as int32 (what the custom call reads) and ``fallback``, the layout of the gather
    path (a :class:`~infodyn.network.sparse_current.ByTarget`, the presynaptic ids, or None) used
    for derivatives, above ``capacity`` and on other platforms. ``capacity`` (static): the fraction
    of active entries of ``z`` up to which a step is event-driven."""

    indices: Array
    indptr: Array
    fallback: Any = None
    capacity: float = DEFAULT_CAPACITY

    def replace(self, **changes) -> ByEvent:
        return dataclasses.replace(self, **changes)


def by_event(w: Any, capacity: float = DEFAULT_CAPACITY) -> ByEvent | None:
    """The :class:`ByEvent` layout of a :class:`SparseWeights` with concrete (not traced) index
    arrays and fewer than 2^31 synapses, its fallback the :func:`by_target` layout when the
    in-degree is fixed; else None."""
    if not isinstance(w, SparseWeights) or w.nnz >= 2**31 - 1:
        return None
    if any(isinstance(a, jax.core.Tracer) for a in (w.indices, w.indptr)):
        return None
    register()  # compile and check the custom call here, outside any trace
    return ByEvent(
        jnp.asarray(np.asarray(w.indices), jnp.int32),
        jnp.asarray(np.asarray(w.indptr), jnp.int32),
        by_target(w),
        float(capacity),
    )


# ---------------------------------------------------------------------- the kernel
def _pointer_to(dtype):
    """An intrinsic that reads an int64 address as a pointer to ``dtype``."""

    @intrinsic
    def cast(typingctx, addr):
        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], context.get_value_type(signature.return_type))

        return types.CPointer(dtype)(addr), codegen

    return cast


_p_i64, _p_i32, _p_f32, _p_f64 = map(
    _pointer_to, (types.int64, types.int32, types.float32, types.float64)
)


@numba.njit(inline="always")
def _word(addr, k):  # pragma: no cover - compiled; the k-th 8-byte word at addr
    return _p_i64(addr)[k]


@numba.njit(cache=True, nogil=True)
def _add_rows(z, values, indices, indptr, out, fused):  # pragma: no cover - compiled
    """``out[b, :] = sum_i z[b, i] w[i, :]`` over the active i, rows and synapses ascending;
    each step ``out = z w + out`` rounded once when ``fused`` (the by-target gather path's fused
    multiply-add), else the product and the sum rounded apart (the segment-sum path's).
    Positions and targets are read unsigned into one row of ``out`` at a time: Numba tests
    every signed index for a negative (wrap-around) value, which made the loop 1.8x slower."""
    for b in range(z.shape[0]):
        zb, ob = z[b], out[b]
        for j in range(ob.shape[0]):
            ob[j] = 0.0
        for i in range(zb.shape[0]):
            zi = zb[i]
            if zi == 0:
                continue
            first, stop = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
            if fused:
                for s in range(first, stop):
                    t = np.uint32(indices[s])
                    ob[t] = fma(zi, values[s], ob[t])
            else:
                for s in range(first, stop):
                    t = np.uint32(indices[s])
                    ob[t] += zi * values[s]


@numba.njit(inline="always")
def _layout_ok(frame):  # pragma: no cover - compiled
    """Whether the call frame has the layout :func:`_handle` reads: a frame reaching past its
    results (120 bytes), an ``XLA_FFI_Args`` of five buffers and an ``XLA_FFI_Rets`` of one
    buffer (struct sizes at least this API's 40 bytes, buffer type code 1), each buffer at
    least this API's 48 bytes."""
    if _word(frame, 0) < 120 or _word(frame, 5) < 40 or _word(frame, 10) < 40:
        return False
    if _word(frame, 7) != 5 or _word(frame, 12) != 1 or _p_i32(_word(frame, 13))[0] != 1:
        return False
    arg_types, args = _p_i32(_word(frame, 8)), _word(frame, 9)
    for k in range(5):
        if arg_types[k] != 1 or _word(_word(args, k), 0) < 48:
            return False
    return _word(_word(_word(frame, 14), 0), 0) >= 48


def _handle(frame):  # pragma: no cover - compiled by register()
    """The XLA FFI handler (``XLA_FFI_Error* handler(XLA_FFI_CallFrame*)``, byte offsets of
    ``xla/ffi/api/c_api.h``): answers the metadata query with the API version, then adds the
    rows of buffers (z, values, indices, indptr, fused) into the result. Returns 0 (no error)."""
    ext = _word(frame, 1)  # extension_start
    if ext != 0:
        if _p_i32(ext)[2] == 1:  # XLA_FFI_Extension_Metadata
            meta = _word(ext, 3)
            m = _p_i64(meta)
            m[1], m[2] = 24, 0  # api_version.struct_size, .extension_start
            _p_i32(meta + 24)[0], _p_i32(meta + 24)[1] = _FFI_VERSION[0], _FFI_VERSION[1]
            _p_i32(meta + 32)[0] = 0  # traits
            if m[0] >= 48:
                m[5] = 0  # state_type_id: none
        return 0
    if _p_i32(frame + 32)[0] != 3:  # stage: only EXECUTE does work
        return 0
    if not _layout_ok(frame):  # another FFI layout: the result is left alone (the self-test
        return 0  # of register() then sees a wrong answer and turns the event path off)
    args, rets = _word(frame, 9), _word(frame, 14)  # args.args, rets.rets
    bz, bv, bi, bp = _word(args, 0), _word(args, 1), _word(args, 2), _word(args, 3)
    fused = _p_i32(_word(_word(args, 4), 3))[0] != 0
    bo = _word(rets, 0)
    rank, dims = _word(bz, 4), _p_i64(_word(bz, 5))
    n_pre, n_post = dims[rank - 1], _p_i64(_word(bo, 5))[rank - 1]
    rows = 1
    for r in range(rank - 1):
        rows *= dims[r]
    nnz = _p_i64(_word(bv, 5))[0]
    indices = carray(_p_i32(_word(bi, 3)), (nnz,))
    indptr = carray(_p_i32(_word(bp, 3)), (n_pre + 1,))
    if _p_i32(bz + 16)[0] == _F32:
        z, v, out = _p_f32(_word(bz, 3)), _p_f32(_word(bv, 3)), _p_f32(_word(bo, 3))
        _add_rows(carray(z, (rows, n_pre)), carray(v, (nnz,)), indices, indptr,
                  carray(out, (rows, n_post)), fused)  # fmt: skip
    else:
        z, v, out = _p_f64(_word(bz, 3)), _p_f64(_word(bv, 3)), _p_f64(_word(bo, 3))
        _add_rows(carray(z, (rows, n_pre)), carray(v, (nnz,)), indices, indptr,
                  carray(out, (rows, n_post)), fused)  # fmt: skip
    return 0


_HANDLERS: list[Any] = []  # the compiled handler, kept alive while XLA may call it


@functools.cache
def register() -> bool:
    """Compile the handler and register it with XLA as the CPU target :data:`TARGET` (once a
    process). False when this jaxlib refuses it (the gather path is used then)."""
    try:
        handler = numba.cfunc(types.int64(types.int64), nopython=True, cache=True)(_handle)
        new_capsule = ctypes.pythonapi.PyCapsule_New
        new_capsule.restype = ctypes.py_object
        new_capsule.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)
        capsule = new_capsule(handler.address, b"xla._CUSTOM_CALL_TARGET", None)
        jax.ffi.register_ffi_target(TARGET, capsule, platform="cpu")
        _HANDLERS.append(handler)
        return _self_test()
    except Exception:  # noqa: BLE001 - any failure means: no custom call, use the gather path
        return False


def _self_test() -> bool:
    """One small call on the CPU against NumPy (a jaxlib whose FFI no longer matches this
    handler then turns the event path off instead of failing later)."""
    cpu = jax.devices("cpu")[0]
    dense = np.array([[0.5, 0.0], [0.0, -1.0], [2.0, 0.25]], np.float32)
    w = SparseWeights.from_dense(dense)
    z = np.array([[1.0, 0.0, -2.0], [0.0, 3.0, 0.0]], np.float32)  # signed: x of a sparse w_in
    args = [z, w.values, w.indices, np.asarray(w.indptr, np.int32)]
    call = jax.jit(lambda z, v, i, p: _call(z, v, i, p, False, 2))
    with jax.ensure_compile_time_eval():  # run now, also when first asked while tracing
        got = np.asarray(call(*(jax.device_put(a, cpu) for a in args)))
    return bool(np.array_equal(got, z @ dense))


# ---------------------------------------------------------------------- the JAX side
def _supported(z: Array, w: SparseWeights) -> bool:
    dt = jnp.result_type(z)
    return (
        dt in (jnp.float32, jnp.float64)
        and jnp.result_type(w.values) == dt
        and z.ndim >= 1
        and z.shape[-1] == w.shape[0]
        and register()
    )


def _call(z, values, indices, indptr, fused: bool, n_post: int) -> Array:
    out = jax.ShapeDtypeStruct((*z.shape[:-1], n_post), z.dtype)
    call = jax.ffi.ffi_call(TARGET, out, vmap_method="sequential")
    return call(z, values, indices, indptr, jnp.asarray([fused], jnp.int32))


@functools.partial(jax.custom_jvp, nondiff_argnums=(5, 6))
def _exact(z, values, indices, indptr, fallback, shape: tuple[int, int], capacity: float):
    w = SparseWeights(values, indices, indptr, shape)
    fused = isinstance(fallback, ByTarget)  # XLA fuses its multiply-adds: so does the kernel

    def gather(z, values):
        return recurrent_current(z, w.with_values(values), fallback)

    def event(z, values):
        return jax.lax.cond(
            jnp.count_nonzero(z) <= capacity * z.size,
            lambda: _call(z, values, indices, indptr, fused, shape[1]),
            lambda: gather(z, values),
        )

    return jax.lax.platform_dependent(z, values, cpu=event, default=gather)


@_exact.defjvp
def _exact_jvp(shape, capacity, primals, tangents):
    z, values, indices, indptr, fallback = primals
    dz, dvalues = tangents[:2]
    w = SparseWeights(values, indices, indptr, shape)
    if isinstance(fallback, ByTarget):  # its values are w's: re-gathered for the tangent
        fallback = fallback._replace(values=None)
    out = _exact(z, values, indices, indptr, fallback, shape, capacity)
    tangent = recurrent_current(dz, w, fallback) + recurrent_current(
        z, w.with_values(dvalues), fallback
    )
    return out, tangent


def event_current(z: Array, w: SparseWeights, plan: ByEvent) -> Array:
    """``I[..., j] = sum_i z[..., i] w[i, j]``, event-driven on a CPU (module docstring), bitwise
    the gather path's :func:`~infodyn.network.sparse_current.recurrent_current` with
    ``plan.fallback``, which it uses for derivatives, above ``plan.capacity``, on other platforms
    and for inputs the custom call does not take."""
    if not _supported(z, w):
        return recurrent_current(z, w, plan.fallback)
    return _exact(z, w.values, plan.indices, plan.indptr, plan.fallback, w.shape, plan.capacity)


def current(z: Array, w: Array, pre: Array | ByTarget | ByEvent | None = None) -> Array:
    """:func:`~infodyn.network.sparse_current.recurrent_current`, event-driven when ``pre`` is a
    :class:`ByEvent` layout (what :func:`infodyn.network.dynamics.step` calls)."""
    if isinstance(pre, ByEvent) and isinstance(w, SparseWeights):
        return event_current(z, w, pre)
    return recurrent_current(z, w, pre)
