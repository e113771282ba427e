"""``SparseWeights``: a recurrent weight matrix that stores only its existing synapses.

Layout: compressed sparse rows by **presynaptic** unit (CSR), the convention of
``w_rec[i, j]`` = synapse from unit i onto unit j. The synapses of unit i are::

    values[indptr[i]:indptr[i+1]]    (float32 or float64)  their weights
    indices[indptr[i]:indptr[i+1]]   (int32)               their postsynaptic units, ascending

so a synapse costs 4 + 4 bytes in float32 (8 + 4 in float64) and the row pointer ``indptr``
(int64, n_pre + 1 entries) is the O(N) part. The presynaptic layout is what the event engine wants
(a spike of unit i adds the row i), and the JAX product below gathers and segment-sums without ever
forming an N x N array.

``SparseWeights`` is a registered JAX pytree whose children are ``(values, indices, indptr)`` and
whose static part is ``shape``. Only ``values`` is a parameter: learning code and optimizers must
pass the integer leaves through unchanged. An optax step of the whole params tree would step
them too (``indices - lr * indices`` rounds to other units: the graph rewired); step the
values alone (``infodyn.learning.trainable_arrays`` and ``with_trainable``, as the trainer does),
and take ``jax.grad`` with respect to ``values`` (``w.with_values(v)`` inside the function).
The checks of a pattern that the engines trust are in :mod:`infodyn.network.sparse_checks`.

The recurrent current of a step, ``I[j] = sum_i z[i] w[i, j]``, is
:func:`~infodyn.network.sparse_current.recurrent_current` (JAX; the gather and segment-sum, and
the by-target layout of fixed in-degree graphs, live in :mod:`infodyn.network.sparse_current`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse

from infodyn.errors import InputError, as_array, is_tracer, native_byte_order
from infodyn.memory import require_memory
from infodyn.network.sparse_checks import check_sparse

Array = Any


@jax.tree_util.register_pytree_node_class
class SparseWeights:
    """A (n_pre, n_post) weight matrix holding only its existing synapses (module docstring).

    Example::

        w = SparseWeights.from_dense(W)       # keeps the non-zero entries of W
        w.nnz, w.shape, w.to_dense()
        w.with_values(w.values * 0.5)         # same pattern, new weights
    """

    __slots__ = ("values", "indices", "indptr", "shape")

    def __init__(self, values: Array, indices: Array, indptr: Array, shape: tuple[int, int]):
        for name, a in (("values", values), ("indices", indices), ("indptr", indptr)):
            if getattr(a, "ndim", None) != 1:  # None was an AttributeError on w.nnz later
                got = (  # an array's repr ran over lines, without its shape
                    f"an array of shape {a.shape}" if hasattr(a, "shape") else f"{a!r:.60}"
                )
                raise InputError(f"{name} must be a 1-D array, got {got}")
        # big-endian arrays (a file written on another machine) in the machine's byte order:
        # Numba refused them with a TypingError, and '>f8' values read as "not float64"
        self.values, self.indices, self.indptr = map(native_byte_order, (values, indices, indptr))
        self.shape = matrix_shape(shape)  # the arrays: check_sparse (O(nnz), where they are used)

    # ------------------------------------------------------------------ pytree
    def tree_flatten(self):
        return (self.values, self.indices, self.indptr), self.shape

    @classmethod
    def tree_unflatten(cls, shape, children):
        values, indices, indptr = children
        obj = object.__new__(cls)
        obj.values, obj.indices, obj.indptr, obj.shape = values, indices, indptr, shape
        return obj

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dense(cls, w: Array, dtype: Any = None) -> SparseWeights:
        """The non-zero entries of a dense (n_pre, n_post) matrix ``w`` (or of a SciPy sparse
        matrix: its entries that are not zero, duplicates summed as SciPy reads them; they
        were refused as duplicate synapses). An exact zero is no synapse: to keep a
        pattern whose weights are 0 (clipped by Dale's law during training), take the dense
        matrix at its synapses, ``pattern.with_values(pattern.mask_dense(w))``."""
        if hasattr(w, "tocoo"):  # scipy.sparse: np.asarray made a 0-d object array of it
            c = w.tocoo(copy=True)  # (a copy: summing in place changed the caller's matrix)
            c.sum_duplicates()
            keep = c.data != 0
            return cls.from_coo(c.row[keep], c.col[keep], c.data[keep], c.shape, dtype=dtype)
        w = as_array(w, "w")
        if w.ndim != 2:
            raise InputError(f"SparseWeights.from_dense needs a 2-D matrix, got shape {w.shape}")
        pre, post = np.nonzero(w)
        return cls.from_coo(pre, post, w[pre, post], w.shape, dtype=dtype)

    @classmethod
    def from_coo(
        cls, pre: Array, post: Array, values: Array, shape: tuple[int, int], dtype: Any = None
    ) -> SparseWeights:
        """Build from synapse lists ``(pre[s], post[s], values[s])`` (any order, no duplicates)."""
        pre, post = _whole_indices(pre, "pre"), _whole_indices(post, "post")
        values = as_array(values, "values")
        n_pre, n_post = matrix_shape(shape)
        if not (pre.shape == post.shape == values.shape and pre.ndim == 1):
            raise InputError("pre, post and values must be 1-D arrays of one length")
        if pre.size and (
            pre.min() < 0 or pre.max() >= n_pre or post.min() < 0 or post.max() >= n_post
        ):
            raise InputError(f"synapse indices out of range for shape {(n_pre, n_post)}")
        order = np.lexsort((post, pre))
        pre, post, values = pre[order], post[order], values[order]
        if pre.size > 1 and np.any((np.diff(pre) == 0) & (np.diff(post) == 0)):
            raise InputError("duplicate synapses (the same (pre, post) pair twice)")
        require_memory(  # a shape of 2^41 rows was NumPy's "Unable to allocate 16.0 TiB"
            16.0 * (n_pre + 1),
            f"the row pointers of a {n_pre:,} x {n_post:,} SparseWeights",
            "check the shape",
        )
        indptr = np.zeros(n_pre + 1, np.int64)
        np.cumsum(np.bincount(pre, minlength=n_pre), out=indptr[1:])
        if n_post > INDEX_MAX:  # the int32 indices wrapped to negative units
            raise InputError(
                f"n_post = {n_post:,} is above the {INDEX_MAX:,} postsynaptic units that "
                "SparseWeights' int32 indices can name"
            )
        if values.dtype.kind not in "biuf":  # complex lost its imaginary part
            raise InputError(f"synapse values must be real numbers, got dtype {values.dtype}")
        if dtype is None:  # float32 stays float32; float16, ints and bools become float64
            dtype = values.dtype if values.dtype.name == "float32" else np.dtype(np.float64)
        with np.errstate(over="ignore"):  # (NumPy's RuntimeWarning: said below, once)
            kept = values.astype(_weight_dtype(dtype))
        if kept.size and not np.isfinite(kept).all() and np.isfinite(values).all():
            raise InputError(  # 1e300 was stored as inf, refused only where used
                f"synapse values up to {float(np.abs(values).max()):g} overflow {kept.dtype.name}; "
                "scale them or keep float64"
            )
        return cls(kept, post.astype(np.int32), indptr, (n_pre, n_post))

    # ------------------------------------------------------------------ properties
    @property
    def ndim(self) -> int:
        """2, a matrix (``np.ndim(w)`` reads it instead of converting ``w`` to an array)."""
        return 2

    @property
    def nnz(self) -> int:
        """Number of stored synapses."""
        return int(self.values.shape[0])

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def nbytes(self) -> int:
        """Bytes held by the three arrays."""
        return sum(
            int(np.dtype(a.dtype).itemsize) * int(a.size)
            for a in (self.values, self.indices, self.indptr)
        )

    def pre_indices(self) -> np.ndarray:
        """The presynaptic unit of each synapse (int32, length nnz), expanded from ``indptr``."""
        counts = np.diff(np.asarray(self.indptr))
        return np.repeat(np.arange(self.shape[0], dtype=np.int32), counts)

    def in_degrees(self) -> np.ndarray:
        """Number of synapses onto each postsynaptic unit."""
        return np.bincount(np.asarray(self.indices), minlength=self.shape[1])

    def out_degrees(self) -> np.ndarray:
        """Number of synapses from each presynaptic unit."""
        return np.diff(np.asarray(self.indptr))

    # ------------------------------------------------------------------ conversion
    def to_dense(self) -> np.ndarray:
        """The (n_pre, n_post) dense matrix (zeros where there is no synapse). The pattern is
        checked first (:func:`check_sparse`): one built by hand with an index out of range was
        a raw IndexError here; so is the memory it needs (37 GiB at 10^5 units was NumPy's
        "Unable to allocate"). Not under ``jax.jit``, ``vmap`` or ``grad`` (a NumPy array)."""
        if any(is_tracer(a) for a in (self.values, self.indices, self.indptr)):
            raise InputError(  # was JAX's TracerArrayConversionError
                "SparseWeights.to_dense makes a NumPy array and cannot run inside jax.jit, vmap "
                "or grad; call it outside, or use recurrent_current (it takes SparseWeights)"
            )
        check_sparse(self, self.shape, "SparseWeights", finite=False)
        dtype = np.asarray(self.values).dtype
        require_memory(
            dtype.itemsize * self.shape[0] * self.shape[1],
            f"a dense {self.shape[0]} x {self.shape[1]} {dtype.name} matrix",
            "keep it sparse (w.values, w.mask_dense(...), w.to_scipy(); the engines and "
            "save_params take SparseWeights)",
        )
        out = np.zeros(self.shape, dtype=dtype)
        out[self.pre_indices(), np.asarray(self.indices)] = np.asarray(self.values)
        return out

    def mask_dense(self, w: Array) -> np.ndarray:
        """The entries of a dense (n_pre, n_post) matrix at this pattern's synapses (length nnz)."""
        w = as_array(w, "w")
        if w.shape != self.shape:  # a scalar was "too many indices for array"
            raise InputError(f"w must have shape {self.shape}, got {w.shape}")
        return w[self.pre_indices(), np.asarray(self.indices)]

    def to_scipy(self) -> Any:
        """The matrix as a SciPy ``csr_array`` (SciPy may copy the arrays: int64 indices)."""
        v, i, p = (np.asarray(a) for a in (self.values, self.indices, self.indptr))
        return scipy.sparse.csr_array((v, i, p), shape=self.shape)

    @property
    def T(self) -> SparseWeights:  # noqa: N802 - NumPy's name
        """The transpose (n_post, n_pre): the same synapses by postsynaptic unit (NumPy)."""
        t = self.to_scipy().T.tocsr()
        t.sort_indices()
        return SparseWeights(
            t.data, t.indices.astype(np.int32), t.indptr.astype(np.int64), self.shape[::-1]
        )

    def with_values(self, values: Array) -> SparseWeights:
        """The same pattern with new synapse values (length nnz, floating point)."""
        if isinstance(values, list | tuple):  # kept as a list: nnz and repr failed later
            values = as_array(values, "values", self.dtype)
        dtype = np.dtype(getattr(values, "dtype", np.float64))
        if dtype not in (np.float32, np.float64):  # ints were refused by the engines later;
            raise InputError(  # float16 ran with too few digits for the engines' sums
                f"values must be float32 or float64, got dtype {values.dtype}; cast them first "
                "(values.astype(np.float64))"
            )
        if tuple(np.shape(values)) != (self.nnz,):
            raise InputError(f"values must have shape ({self.nnz},), got {np.shape(values)}")
        return SparseWeights(values, self.indices, self.indptr, self.shape)

    def astype(self, dtype: Any) -> SparseWeights:
        """Values cast to ``dtype``, float32 or float64 (a JAX array if the values are, else
        NumPy); an integer type would cut the weights to whole numbers, float16 keeps too few
        digits for the engines' sums (:meth:`from_coo` stores float16 values as float64)."""
        dtype = _weight_dtype(dtype)
        v = self.values
        v = v.astype(dtype) if hasattr(v, "astype") else np.asarray(v, dtype)
        return SparseWeights(v, self.indices, self.indptr, self.shape)

    def to_numpy(self) -> SparseWeights:
        """All three arrays as NumPy arrays (for files and the event engine)."""
        return SparseWeights(
            np.asarray(self.values),
            np.asarray(self.indices, np.int32),
            np.asarray(self.indptr, np.int64),
            self.shape,
        )

    def same_pattern(self, other: SparseWeights) -> bool:
        """True when ``other`` has the same shape and the same synapses (values may differ)."""
        return (
            isinstance(other, SparseWeights)
            and other.shape == self.shape
            and other.nnz == self.nnz
            and np.array_equal(np.asarray(other.indptr), np.asarray(self.indptr))
            and np.array_equal(np.asarray(other.indices), np.asarray(self.indices))
        )

    def __eq__(self, other: Any) -> bool:
        """``w1 == w2``: one bool, True when both hold the same synapses with the same values
        (bitwise, NaN equal to NaN) and dtype; not elementwise (``==`` compared identities, so
        a copy or a saved and loaded matrix was unequal). ``np.array_equal(w1, w2)`` cannot
        see into ``w`` (it is always False): use ``==``."""
        if not isinstance(other, SparseWeights):
            return NotImplemented
        a, b = np.asarray(self.values), np.asarray(other.values)
        return (
            self.same_pattern(other)
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )

    __hash__ = None  # type: ignore[assignment]  # mutable arrays: equal ones may differ later

    def copy(self) -> SparseWeights:
        """A copy whose three arrays are new (NumPy) or the same immutable JAX arrays."""
        return SparseWeights(*(_copied(a) for a in (self.values, self.indices, self.indptr)),
                             self.shape)  # fmt: skip

    def __neg__(self) -> SparseWeights:
        """``-w``: the same pattern, values negated."""
        return self.with_values(-self.values)

    def __truediv__(self, other: Any) -> SparseWeights:
        """``w / k`` for a real number ``k``."""
        return self.with_values(self.values / other) if _real_number(other) else self._refuse("/")

    # ------------------------------------------------------------------ not an array
    #: NumPy defers its operators to this class (``np.float64(2) * w`` is ``w.__rmul__``)
    __array_ufunc__ = None

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """Refused: ``np.asarray(w)`` made a 0-d object array without a word. NumPy functions
        that catch the error answer for arrays of ``w`` (``np.array_equal(w, w)`` is False):
        compare ``w1 == w2``."""
        raise TypeError(self._not_dense("np.asarray"))

    def __matmul__(self, other: Any) -> Any:
        raise TypeError(self._not_dense("@"))

    __rmatmul__ = __matmul__

    def __mul__(self, other: Any) -> SparseWeights:
        """``w * k`` for a real number ``k``: the same pattern, values scaled."""
        return self.with_values(self.values * other) if _real_number(other) else self._refuse("*")

    __rmul__ = __mul__

    def _refuse(self, op: str) -> Any:
        raise TypeError(self._not_dense(op) + f"; w {op} k takes a number k")

    def _combine(self, op: str) -> Any:
        raise TypeError(
            self._not_dense(op) + f"; to combine weights of one pattern, "
            f"w1.with_values(w1.values {op} w2.values) (w1.same_pattern(w2) must hold)"
        )

    def __add__(self, other: Any) -> Any:
        return self._combine("+")

    def __sub__(self, other: Any) -> Any:
        return self._combine("-")

    __radd__, __rsub__ = __add__, __sub__

    def _not_dense(self, op: str) -> str:
        return (
            f"{op} on {self!r}: it holds only the stored synapses, not a dense matrix; use "
            "w.to_dense() for the (n_pre, n_post) array, w.values for the synapse weights, "
            "w.with_values(...) for new ones, infodyn.network.save_params for files, "
            "w.to_scipy() for SciPy, or infodyn.network.recurrent_current for "
            "z @ w"
        )

    def __repr__(self) -> str:
        return (
            f"SparseWeights(shape={self.shape}, nnz={self.nnz}, "
            f"dtype={np.dtype(self.values.dtype).name})"
        )


def _real_number(k: Any) -> bool:
    """A real number or a 0-d array of one (NumPy, JAX, also traced under ``jax.jit``: a
    tracer has no values for ``np.asarray``), not ``True``/``False``."""
    dtype = k.dtype if hasattr(k, "dtype") else np.asarray(k).dtype
    real = np.ndim(k) == 0 and np.dtype(dtype).kind in "iuf"
    return real and not isinstance(k, bool | np.bool_)


def _copied(a: Any) -> Any:
    return a.copy() if isinstance(a, np.ndarray) else a


def numpy_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with every weight as NumPy arrays: dense weights as arrays, sparse ones as
    :meth:`SparseWeights.to_numpy` (``np.asarray`` refuses them)."""
    return {k: v.to_numpy() if is_sparse(v) else np.asarray(v) for k, v in params.items()}


#: the largest postsynaptic index the int32 ``indices`` hold
INDEX_MAX = int(np.iinfo(np.int32).max)


def _weight_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as float32 or float64, the types synapse values are kept in."""
    try:
        ok = np.dtype(dtype).name in ("float32", "float64")
    except TypeError:  # "foo"
        ok = False
    if not ok:
        raise InputError(f"dtype must be float32 or float64 (synapse values), got {dtype!r}")
    return np.dtype(dtype)


def matrix_shape(shape: Any) -> tuple[int, int]:
    """``shape`` as two whole numbers >= 0, or :class:`InputError`."""
    try:
        dims = tuple(shape)
    except TypeError:
        dims = ()
    if len(dims) != 2 or not all(
        isinstance(d, numbers.Real)
        and not isinstance(d, bool | np.bool_)
        and math.isfinite(d)
        and float(d).is_integer()
        and d >= 0
        for d in dims
    ):
        raise InputError(f"a SparseWeights shape must be two whole numbers >= 0, got {shape!r}")
    return int(dims[0]), int(dims[1])


def _whole_indices(a: Array, name: str) -> np.ndarray:
    """``a`` as int64, refusing fractional, non-finite and non-numeric entries."""
    a = as_array(a, f"{name} indices")
    if a.dtype.kind == "f":
        if not bool(np.all(np.isfinite(a))) or not bool(np.all(a == np.round(a))):
            raise InputError(f"{name} indices must be whole numbers")
    elif a.dtype.kind not in "iu":
        raise InputError(f"{name} indices must be integers, got dtype {a.dtype}")
    return a.astype(np.int64)


def is_sparse(w: Any) -> bool:
    """True for :class:`SparseWeights`."""
    return isinstance(w, SparseWeights)


def pre_indices_jax(w: SparseWeights) -> jax.Array:
    """The presynaptic unit of each synapse, computed inside JAX from ``indptr`` (jit-safe)."""
    counts = jnp.diff(jnp.asarray(w.indptr))
    return jnp.repeat(jnp.arange(w.shape[0], dtype=jnp.int32), counts, total_repeat_length=w.nnz)


def first_autapse(w: Any) -> int | None:
    """The first unit of a recurrent weight matrix (dense or :class:`SparseWeights`, checked)
    with a non-zero synapse onto itself, or None: the model has none, user weights may."""
    if isinstance(w, SparseWeights):
        pre = w.pre_indices()
        rows = pre[(pre == np.asarray(w.indices)) & (np.asarray(w.values) != 0)]
    else:
        rows = np.flatnonzero(np.diagonal(np.asarray(w)))
    return int(rows[0]) if rows.size else None


def constrain_sparse(w: SparseWeights, signs: Array | None = None, mask: Array | None = None):
    """The values projected onto the constraints (JAX, jit-safe): synapses on the diagonal
    zeroed, times ``mask`` (nnz,) if given, and Dale's law ``s_i max(s_i w_s, 0)`` with ``s_i``
    the sign of the presynaptic unit i when ``signs`` (n_pre,) is given. NumPy values stay
    NumPy in their own dtype (the jitted JAX path made float64 values float32 unless JAX's
    64-bit mode happened to be on)."""
    if isinstance(w.values, np.ndarray):  # the pattern arrays unchanged
        pre, post = w.pre_indices(), np.asarray(w.indices)
        return w.with_values(_values_constrained(np, w.values, pre, post, signs, mask))
    return w.with_values(_constrained_values(w, signs, mask))


def _values_constrained(xp: Any, v: Any, pre: Any, post: Any, signs: Any, mask: Any) -> Any:
    """:func:`constrain_sparse`'s projection of the values ``v`` in NumPy or JAX (``xp``)."""
    v = v * (pre != post).astype(v.dtype)
    if mask is not None:
        v = v * xp.asarray(mask, v.dtype)
    if signs is not None:
        s = xp.take(xp.asarray(signs, v.dtype), pre)
        v = s * xp.maximum(s * v, 0.0)
    return v


@jax.jit
def _constrained_values(w: SparseWeights, signs: Array | None, mask: Array | None) -> Array:
    post = jnp.asarray(w.indices)
    return _values_constrained(jnp, jnp.asarray(w.values), pre_indices_jax(w), post, signs, mask)


#: the most synapses whose positions int32 holds (beyond: int64 ``indptr``, which needs x64)
INT32_MAX = 2**31 - 1


def to_jax(w: Array, dtype: Any) -> Array:
    """``w`` as JAX arrays of float ``dtype``: a dense array, or a :class:`SparseWeights` with
    its values cast and int32 indices (int64 ``indptr`` only beyond 2^31 synapses, which needs
    JAX's 64-bit mode: without it JAX would cast to int32 and the positions would wrap)."""
    if not isinstance(w, SparseWeights):
        return jnp.asarray(w, dtype)
    ptr_dtype = jnp.int32 if w.nnz < INT32_MAX else jnp.int64
    if ptr_dtype == jnp.int64 and not jax.config.jax_enable_x64:
        raise InputError(
            f"a SparseWeights of {w.nnz:,} synapses needs 64-bit positions in JAX: call "
            "jax.config.update('jax_enable_x64', True) first (precision='float64' does), or "
            "run the event engine"
        )
    return SparseWeights(
        jnp.asarray(w.values, dtype),
        jnp.asarray(w.indices, jnp.int32),
        jnp.asarray(np.asarray(w.indptr).astype(ptr_dtype)),
        w.shape,
    )


def sparse_bytes(n_pre: int, nnz: int, dtype: Any = np.float32) -> int:
    """Bytes a :class:`SparseWeights` of ``nnz`` synapses needs (values + indices + indptr)."""
    return nnz * (np.dtype(dtype).itemsize + 4) + (n_pre + 1) * 8
