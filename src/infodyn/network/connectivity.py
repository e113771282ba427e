"""Drawing sparse recurrent connectivity without an N x N array.

Two random graphs, both without autapses, returned as :class:`SparseWeights` patterns:

- **fixed in-degree** (Brunel 2000, "Dynamics of sparsely connected networks of excitatory and
  inhibitory spiking neurons", J. Comput. Neurosci. 8:183, section 2): every postsynaptic unit j
  receives exactly ``K`` synapses from ``K`` distinct units of a presynaptic population, j itself
  excluded;
- **Bernoulli** (Erdos-Renyi): every ordered pair (i, j), i != j, is a synapse with probability
  ``p``. It is drawn column by column as an in-degree ``K_j ~ Binomial(n_pre - [j in pre], p)``
  followed by a fixed-in-degree draw of ``K_j`` distinct presynaptic units, which gives exactly
  the distribution of independent Bernoulli pairs.

The ``K_j`` distinct presynaptic units of column j are drawn with Floyd's algorithm (Bentley and
Floyd 1987, "Programming pearls: a sample of brilliance", Commun. ACM 30:754): O(K_j) work and
one O(N) marker array however large K_j is relative to N. The random integers come from Numba's
generator seeded from the caller's NumPy ``Generator``, so the graph is reproducible from the
seed and no array of random numbers is held. A counting sort (a stable scatter by presynaptic
unit, columns in ascending order) then writes the compressed presynaptic layout, whose
postsynaptic indices are therefore ascending within each row.

Memory: the result (``indices`` int32 plus the caller's values) and, transiently, the
column-ordered presynaptic ids (4 bytes a synapse) and one chunk of values being drawn (8 bytes
a synapse of at most :data:`CHUNK_SYNAPSES` synapses). Time: O(nnz).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from typing import Any

import jax
import numba
import numpy as np

from infodyn.errors import InputError, as_array
from infodyn.network.sparse import SparseWeights, is_sparse

#: synapse values drawn at once (bounds the transient float64 buffer to 32 MiB)
CHUNK_SYNAPSES = 1 << 22
#: the E/I connection probabilities of a network without ``k_in`` (pre -> post: E->E, E->I, ...)
EI_PROBABILITIES = ("p_ee", "p_ei", "p_ie", "p_ii")


@numba.njit(cache=True, nogil=True)
def _floyd_columns(counts, lo, hi, seed, out, row_counts):  # pragma: no cover - compiled
    """For every column j draw ``counts[j]`` distinct presynaptic units from ``[lo, hi)`` minus
    ``{j}`` (Floyd's algorithm), written to ``out`` column after column; ``row_counts[i]`` counts
    the synapses of each presynaptic unit. Random numbers: Numba's generator seeded by ``seed``."""
    np.random.seed(seed)
    marked = np.zeros(max(hi - lo, 1), np.bool_)
    pos = 0
    for j in range(counts.shape[0]):
        excl = 1 if (lo <= j) and (j < hi) else 0
        m = hi - lo - excl  # number of candidates
        start = pos
        for jj in range(m - counts[j], m):
            r = np.random.randint(0, jj + 1)
            if marked[r]:
                r = jj
            marked[r] = True
            out[pos] = r
            pos += 1
        for s in range(start, pos):  # unmark, then map candidate r to a unit id
            r = out[s]
            marked[r] = False
            unit = lo + r
            if excl and unit >= j:
                unit += 1
            out[s] = unit
            row_counts[unit] += 1


@numba.njit(cache=True, nogil=True)
def _scatter_rows(pre, colptr, fill, indices):  # pragma: no cover - compiled
    """Counting sort: synapse s of column j (``colptr[j] <= s < colptr[j+1]``) goes to the next
    free slot ``fill[pre[s]]`` of its presynaptic row, as postsynaptic index j."""
    for j in range(colptr.shape[0] - 1):
        for s in range(colptr[j], colptr[j + 1]):
            i = pre[s]
            indices[fill[i]] = j
            fill[i] += 1


def draw_pattern(
    rng: np.random.Generator,
    n: int,
    blocks: Sequence[tuple[int, int, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """The compressed presynaptic layout ``(indices int32, indptr int64)`` of an (n, n) graph.

    ``blocks`` lists presynaptic populations ``(lo, hi, counts)``: column j receives
    ``counts[j]`` distinct synapses from units ``lo..hi-1`` other than j. The populations must be
    disjoint ranges (each presynaptic row then gets its synapses from one block). Each block's
    draw is seeded from ``rng``.
    """
    row_counts = np.zeros(n, np.int64)
    pres = []
    for lo, hi, counts in blocks:
        counts = np.asarray(counts, np.int64)
        pre = np.empty(int(counts.sum()), np.int32)
        _floyd_columns(counts, lo, hi, int(rng.integers(0, 2**32 - 1)), pre, row_counts)
        pres.append(pre)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(row_counts, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), np.int32)
    fill = indptr[:-1].copy()
    for (_lo, _hi, counts), pre in zip(blocks, pres, strict=True):
        colptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.asarray(counts, np.int64), out=colptr[1:])
        _scatter_rows(pre, colptr, fill, indices)
    return indices, indptr


def fixed_indegree_counts(n: int, k: int) -> np.ndarray:
    """``k`` synapses onto each of ``n`` columns."""
    return np.full(n, int(k), np.int64)


def bernoulli_counts(rng: np.random.Generator, p_col: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """In-degrees from population ``[lo, hi)`` when each pair (i, j), i != j, connects with
    probability ``p_col[j]``: ``Binomial(hi - lo - [lo <= j < hi], p_col[j])``."""
    n = len(p_col)
    j = np.arange(n)
    candidates = (hi - lo) - ((j >= lo) & (j < hi)).astype(np.int64)
    return rng.binomial(candidates, np.asarray(p_col, np.float64)).astype(np.int64)


def fill_values(
    rng: np.random.Generator, nnz: int, dtype, draw, chunk: int = CHUNK_SYNAPSES
) -> np.ndarray:
    """``nnz`` values of ``dtype``: ``draw(rng, start, stop)`` returns the float64 values of
    synapses ``start..stop-1``; it is called chunk by chunk, so float32 values are exactly the
    float64 ones rounded and the transient buffer stays bounded."""
    out = np.empty(nnz, dtype)
    for start in range(0, nnz, chunk):
        stop = min(start + chunk, nnz)
        out[start:stop] = draw(rng, start, stop)
    return out


# ---------------------------------------------------------------------- the networks' graphs
def ei_split(k: int, frac_exc: float) -> tuple[int, int]:
    """Fixed in-degree ``k`` split into ``(K_E, K_I)`` in proportion ``frac_exc`` (Brunel 2000:
    C_E = 0.8 C, C_I = 0.2 C)."""
    k_e = int(round(frac_exc * k))
    return k_e, int(k) - k_e


def recurrent_blocks(net, rng: np.random.Generator) -> list[tuple[int, int, np.ndarray]]:
    """The presynaptic populations ``(lo, hi, in-degrees)`` of ``net``'s recurrent graph.

    ``connectivity="sparse"``: one population, in-degree ``k_in`` or ``Binomial(n-1, p_connect)``;
    ``"dense"``: ``n - 1``; ``"ei"``: excitatory units ``0..n_exc-1`` and inhibitory units, with
    in-degrees ``ei_split(k_in)`` or ``Binomial(n_x - [j in x], p_xy)`` for a unit j of type y.
    """
    n = net.n_rec
    if net.connectivity == "ei":
        n_e = net.n_exc
        if net.k_in is not None:
            k_e, k_i = ei_split(net.k_in, net.frac_exc)
            c_e, c_i = fixed_indegree_counts(n, k_e), fixed_indegree_counts(n, k_i)
        else:
            post_exc = np.arange(n) < n_e
            c_e = bernoulli_counts(rng, np.where(post_exc, net.p_ee, net.p_ei), 0, n_e)
            c_i = bernoulli_counts(rng, np.where(post_exc, net.p_ie, net.p_ii), n_e, n)
        return [(0, n_e, c_e), (n_e, n, c_i)]
    if net.k_in is not None:
        counts = fixed_indegree_counts(n, net.k_in)
    elif net.connectivity == "sparse" and net.p_connect < 1.0:
        counts = bernoulli_counts(rng, np.full(n, net.p_connect), 0, n)
    else:
        counts = fixed_indegree_counts(n, n - 1)
    return [(0, n, counts)]


def expected_nnz(net) -> float:
    """The expected number of recurrent synapses of ``net`` (for memory estimates)."""
    n = net.n_rec
    if net.k_in is not None:
        return float(n) * net.k_in
    if net.connectivity == "ei":
        n_e, n_i = net.n_exc, n - net.n_exc
        return float(
            n_e * (n_e - 1) * net.p_ee
            + n_e * n_i * net.p_ei
            + n_i * n_e * net.p_ie
            + n_i * max(n_i - 1, 0) * net.p_ii
        )
    p = net.p_connect if net.connectivity == "sparse" else 1.0
    return float(n) * (n - 1) * p


def dense_recurrent(net, rng: np.random.Generator) -> np.ndarray:
    """Draw ``net``'s recurrent weights as a dense float64 (N, N) array, no autapses (the
    draw of ``weights="dense"`` without ``k_in``, and of small networks; module docstring)."""
    n = net.n_rec
    if net.connectivity == "ei":
        n_e = net.n_exc
        is_exc = np.arange(n) < n_e
        p = np.where(
            is_exc[:, None],
            np.where(is_exc[None, :], net.p_ee, net.p_ei),
            np.where(is_exc[None, :], net.p_ie, net.p_ii),
        )
        mask = rng.random((n, n)) < p
        # no autapses, before the in-degree is counted: its mean counted the diagonal's
        # draws, whose weights were then zeroed (10 % too weak at 10 units, 1.8 % at 50)
        np.fill_diagonal(mask, False)
        mag = rng.lognormal(net.ei_mu, net.ei_sigma, size=(n, n))
        mag[~is_exc] *= net.inh_factor
        w = mag * mask * net.unit_signs()[:, None] * net.rec_scale * net.v_th
        # keep the mean input per unit independent of n: divide by the expected fan-in
        w /= max(1.0, float(np.mean(mask.sum(axis=0))))
    else:
        p = net.p_connect if net.connectivity == "sparse" else 1.0
        w = rng.standard_normal((n, n)) * net.rec_scale * net.v_th / math.sqrt(p * n)
        if p < 1.0:
            w *= rng.random((n, n)) < p
    np.fill_diagonal(w, 0.0)
    return w


def sparse_recurrent(net, rng: np.random.Generator, dtype=np.float64):
    """Draw ``net``'s recurrent weights as :class:`SparseWeights` (no N x N array).

    Values, drawn in float64 and stored in ``dtype``:

    - ``"sparse"``/``"dense"``: ``N(0, (rec_scale v_th)^2 / K)`` with ``K = k_in``, or
      ``p_connect * n_rec`` for Bernoulli graphs (``n_rec`` for all-to-all), as the dense init;
    - ``"ei"``: lognormal magnitudes ``LN(ei_mu, ei_sigma)``, times ``inh_factor`` for inhibitory
      units, signed by Dale's law, times ``rec_scale * v_th`` and divided by the mean in-degree
      (``k_in``, or the drawn ``nnz / n_rec`` as the dense init does).
    """
    n = net.n_rec
    indices, indptr = draw_pattern(rng, n, recurrent_blocks(net, rng))
    nnz = int(indptr[-1])
    scale = net.rec_scale * net.v_th
    if net.connectivity == "ei":
        fan_in = float(net.k_in) if net.k_in is not None else max(1.0, nnz / n)
        e_end = int(indptr[net.n_exc])  # synapses of excitatory rows come first

        def draw(r, start, stop):
            sign = np.where(np.arange(start, stop) < e_end, 1.0, -net.inh_factor)
            return r.lognormal(net.ei_mu, net.ei_sigma, stop - start) * sign * scale / fan_in

    else:
        if net.k_in is not None:
            k = float(net.k_in)
        else:
            k = (net.p_connect if net.connectivity == "sparse" else 1.0) * n
        std = scale / np.sqrt(k)

        def draw(r, start, stop):
            return r.standard_normal(stop - start) * std

    values = fill_values(rng, nnz, dtype, draw)
    return SparseWeights(values, indices, indptr, (n, n))


def private_inputs(n: int, weight: float, dtype=np.float64) -> SparseWeights:
    """Input weights of private inputs: channel i onto unit i only, every weight ``weight`` (the
    external drive of Brunel 2000, section 2, each unit's own Poisson source through one synapse
    of efficacy J_ext): an n x n diagonal :class:`SparseWeights`, O(n) memory."""
    ids = np.arange(n, dtype=np.int32)
    indptr = np.arange(n + 1, dtype=np.int64)
    return SparseWeights(np.full(n, weight, dtype=dtype), ids, indptr, (n, n))


def checked_mask(net, w_rec: Any, mask: Any) -> np.ndarray | None:
    """A connectivity ``mask`` for ``w_rec`` as float64, checked: (n_rec, n_rec) for dense
    weights, one value per stored synapse (nnz,) for :class:`SparseWeights`; finite numbers.
    A wrong shape was a raw TypeError/IndexError inside JAX, a NaN "an exploding gradient".
    A mask traced by ``jax.jit`` has no values yet: only its shape and type are checked. The
    array returned is read-only and remembered: given back (the Trainer's mask, every
    iteration), it is not scanned again."""
    if mask is None:
        return None
    want = (w_rec.nnz,) if is_sparse(w_rec) else (net.n_rec, net.n_rec)
    if _CHECKED.get(id(mask)) is mask and mask.shape == want:
        return mask
    traced = isinstance(mask, jax.core.Tracer)
    m = mask if traced else as_array(mask, "mask")
    if m.dtype.kind not in "biuf":
        raise InputError(f"mask must hold numbers (1: synapse, 0: none), got dtype {m.dtype}")
    if tuple(m.shape) != want:
        what = "one value per stored synapse" if is_sparse(w_rec) else "(n_rec, n_rec)"
        raise InputError(f"mask must have shape {want} ({what}), got {m.shape}")
    if traced:
        return m
    m = m.astype(np.float64)  # a copy: the caller's array may change, this one may not
    if not np.all((m == 0) | (m == 1)):  # 0.5 scaled the weights (and gradients) each step
        raise InputError("mask must hold 0 (no synapse) and 1 (synapse) only")
    m.flags.writeable = False
    _CHECKED[id(m)] = m
    return m


#: masks :func:`checked_mask` returned, by id, while they live (read-only: they cannot change)
_CHECKED: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()
