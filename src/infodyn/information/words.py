"""Words: integer codes for rows of small-alphabet variables, counted without dense tables.

A row ``(x_1, ..., x_n)`` of a ``(samples, n)`` symbol array is one *word*. Columns are packed
by a compiled mixed-radix kernel: 64 binary columns per ``uint64`` (bits), fewer for larger
alphabets.
Wider words are built chunk by chunk: each chunk's codes are relabelled to ``0..K-1`` by sorting
(``np.unique``) and chunk labels are combined as ``a * K_b + b``, so words of 64, 128 or 1000
units cost ``O(N log N)`` per 64-bit chunk and never a ``2**n`` table. When the code range is small
(``<= max(2**20, 4 N)``) counting is a direct ``np.bincount`` in ``O(N)``.

Also here: time-lagged (delay-embedded) and trial-aware views of spike rasters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.data.binning import bin_raster
from infodyn.errors import InputError, as_array, require, require_flag, whole_number
from infodyn.information._inputs import as_symbols
from infodyn.information._kernels import (
    column_max,
    count_codes,
    count_joint_codes,
    pack_bits,
    pack_radix,
)
from infodyn.memory import require_memory

_DIRECT_RANGE = 1 << 20


@dataclass(frozen=True)
class Words:
    """Integer labels of the rows of a symbol array: ``labels[t]`` in ``[0, n_labels)``.

    Equal rows get equal labels. Labels are not necessarily contiguous (a small code range is
    kept as is so that counting is a ``bincount``), but ``n_labels <= max(2**20, 4 * samples)``.
    ``alphabet_size`` is the number of possible words (a float: it may exceed 2**64).
    """

    labels: np.ndarray
    n_labels: int
    alphabet_size: float

    def counts(self) -> np.ndarray:
        """Counts of the observed words (zeros dropped), float64."""
        c = np.bincount(self.labels, minlength=self.n_labels)
        return c[c > 0].astype(np.float64)

    @property
    def n_samples(self) -> int:
        return int(self.labels.size)


def _radix_sizes(x: np.ndarray, name: str = "X") -> np.ndarray:
    """Per-column alphabet size ``max + 1``, at least 2 (a silent binary unit is still binary)."""
    negative = f"{name} holds negative symbols; symbols must be integers >= 0"
    if x.shape[1] <= 4 or x.dtype.kind != "i":
        top = x.max(axis=0).astype(np.int64)
        if x.dtype.kind == "i" and top.size and x.min() < 0:
            raise InputError(negative)
    else:
        try:
            top = column_max(x)  # one pass; also rejects negative symbols
        except ValueError:
            raise InputError(negative) from None
    return np.maximum(top + 1, 2)


def _compact(code: np.ndarray, n_codes: int) -> tuple[np.ndarray, int]:
    """Relabel ``code`` to a small range: keep it when already small, else sort-based labels."""
    n = code.size
    if n_codes <= max(_DIRECT_RANGE, 4 * n):
        return code.astype(np.int64, copy=False), int(n_codes)
    uniq, inv = np.unique(code, return_inverse=True)
    return inv.astype(np.int64, copy=False).reshape(-1), int(uniq.size)


def _chunks(sizes: np.ndarray) -> list[tuple[int, int, int]]:
    """Split columns into consecutive groups whose radix product (returned) is <= 2**64."""
    out, start, prod = [], 0, 1
    for j, s in enumerate(int(v) for v in sizes):
        if j > start and prod * s > 1 << 64:
            out.append((start, j, prod))
            start, prod = j, 1
        prod *= s
    out.append((start, len(sizes), prod))
    return out


def encode(x: Any, name: str = "X", validated: bool = False) -> Words:
    """Label the rows (words) of a ``(samples, variables)`` symbol array.

    Rows are packed (mixed radix; bits for binary columns) into 64-bit codes per chunk of
    columns and chunks are combined by sort-based relabelling (see the module docstring).
    """
    validated = require_flag("validated", validated)
    a = x if validated else as_symbols(x, name)
    sizes = _radix_sizes(a, name)
    # a Python float product: past ~1023 binary columns it is inf (NSB refuses it by name)
    # without NumPy's "overflow encountered in reduce" warning, once per marginal
    alphabet = math.prod(float(v) for v in sizes)
    labels: np.ndarray | None = None
    n_labels = 1
    for lo, hi, span in _chunks(sizes):
        sub = a[:, lo:hi]
        if hi - lo == 1:
            code = sub[:, 0]  # one column: the symbol is its own code
        elif span == 1 << (hi - lo):
            code = pack_bits(sub)
        else:
            code = pack_radix(sub, sizes[lo:hi].astype(np.uint64))
        if span > np.iinfo(np.int64).max:
            # full 64-bit codes: np.unique on uint64 keeps them exact
            uniq, inv = np.unique(code, return_inverse=True)
            lab, k = inv.reshape(-1).astype(np.int64), int(uniq.size)
        else:
            lab, k = _compact(code, span)
        if labels is None:
            labels, n_labels = lab, k
        else:
            labels, n_labels = _compact(labels * k + lab, n_labels * k)
    assert labels is not None
    return Words(labels=labels, n_labels=n_labels, alphabet_size=alphabet)


def count_table(a: np.ndarray, max_cells: int, name: str = "X") -> np.ndarray | None:
    """Counts of every possible word as an array of shape ``(alphabet sizes per column)``.

    Only for small joint alphabets (``prod(sizes) <= max_cells``; else ``None``): then every
    marginal is a sum over axes, which is the fastest way to get many marginals of few units
    (12 binary units: 4096 cells). Codes are counted as they are computed, in one pass;
    ``a`` must be a validated symbol array (its sign is checked here; ``name`` in the message).
    """
    sizes = _radix_sizes(a, name)
    total = 1
    for v in sizes:
        total *= int(v)
        if total > max_cells:
            return None
    counts = count_codes(a, sizes.astype(np.int64), total)
    return counts.reshape(tuple(int(v) for v in sizes))


def joint_count_table(
    a: np.ndarray, b: np.ndarray, max_cells: int, names: tuple[str, str] = ("X", "Y")
) -> np.ndarray | None:
    """Counts ``T[word_a, word_b]`` of the joint words of two arrays, when ``T`` has at most
    ``max_cells`` cells (else ``None``); one pass over both arrays (signs checked here)."""
    sa, sb = _radix_sizes(a, names[0]), _radix_sizes(b, names[1])
    ka = kb = 1
    for v in sa:
        ka *= int(v)
    for v in sb:
        kb *= int(v)
    if ka * kb > max_cells:
        return None
    counts = count_joint_codes(a, sa.astype(np.int64), b, sb.astype(np.int64), ka * kb)
    return counts.reshape(ka, kb)


def join(*words: Words) -> Words:
    """Labels of the joint word ``(w_1, w_2, ...)`` from the labels of its parts."""
    if not words:
        raise InputError("join needs at least one set of words")
    for i, w in enumerate(words):
        if not isinstance(w, Words):  # arrays gave "'numpy.ndarray' object has no attribute"
            raise InputError(
                f"join takes Words (from encode(x)); argument {i + 1} is a {type(w).__name__}"
            )
    n = words[0].labels.size
    labels, n_labels, alphabet = words[0].labels, words[0].n_labels, words[0].alphabet_size
    for w in words[1:]:
        if w.labels.size != n:
            raise InputError(
                f"the inputs must have the same number of samples: {n} and {w.labels.size}"
            )
        labels, n_labels = _compact(labels * w.n_labels + w.labels, n_labels * w.n_labels)
        alphabet *= w.alphabet_size
    return Words(labels=labels, n_labels=n_labels, alphabet_size=alphabet)


def word_counts(x: Any) -> np.ndarray:
    """Counts of the distinct rows of ``x`` (order unspecified), float64."""
    return encode(x).counts()


def pack_words(x: Any) -> np.ndarray:
    """Bit-pack a binary ``(samples, units)`` array into ``(samples, ceil(units / 64))`` uint64.

    Column ``j`` is bit ``j % 64`` of word ``j // 64``. Useful to store or hash spike words.
    """
    a = as_symbols(x)
    if a.max() > 1:
        raise InputError("pack_words needs binary (0/1) columns")
    cols = []
    for lo in range(0, a.shape[1], 64):
        sub = a[:, lo : lo + 64][:, ::-1]  # first column in the lowest bit
        cols.append(pack_bits(np.ascontiguousarray(sub)))
    return np.stack(cols, axis=1)


@dataclass(frozen=True)
class EmpiricalDistribution:
    """The distinct rows of a symbol array with their counts: the plug-in distribution.

    Every multivariate measure is a function of this table, so marginals are computed on the
    ``n_words`` distinct rows instead of all samples.
    """

    rows: np.ndarray
    counts: np.ndarray

    @classmethod
    def from_samples(
        cls, x: Any, name: str = "X", validated: bool = False
    ) -> EmpiricalDistribution:
        a = x if require_flag("validated", validated) else as_symbols(x, name)
        w = encode(a, validated=True)
        rep = np.zeros(w.n_labels, dtype=np.int64)
        rep[w.labels] = np.arange(w.labels.size)  # any index of a word represents it
        c = np.bincount(w.labels, minlength=w.n_labels)
        keep = c > 0
        return cls(rows=a[rep[keep]], counts=c[keep].astype(np.float64))

    @property
    def n_samples(self) -> float:
        return float(self.counts.sum())

    def marginal_counts(self, columns: Any) -> tuple[np.ndarray, float]:
        """Counts of the words on ``columns`` and that marginal's alphabet size."""
        cols = np.atleast_1d(as_array(columns, "columns"))
        cols = cols.astype(np.int64) if cols.size == 0 else cols  # [] reads as float64
        n = self.rows.shape[1]
        require(  # "3", None, NaN or 3-D: raw int(), IndexError and TypeError
            cols.ndim == 1 and cols.dtype.kind in "iu" and bool(np.all((cols >= 0) & (cols < n))),
            f"columns must be a list of column indices in [0, {n}), got {columns!r:.60}",
        )
        w = encode(self.rows[:, cols], validated=True)
        c = np.bincount(w.labels, weights=self.counts, minlength=w.n_labels)
        return c[c > 0], w.alphabet_size


# ---------------------------------------------------------------------- spike-raster views
def spike_words(raster: Any, bin_steps: int = 1, binary: bool = True) -> np.ndarray:
    """Bin a raster into words: ``(samples, units)`` with one sample per bin and trial.

    ``raster`` is a :class:`~infodyn.data.spikes.SpikeTrain`, ``(steps, units)`` or
    ``(trials, steps, units)``. Bins of ``bin_steps`` steps never cross trials (a trailing partial
    bin is dropped). ``binary=True`` clips counts to 0/1 (spike / no spike in the bin).
    Trials are concatenated in order; use :func:`trial_view` to keep them apart.
    """
    binary = require_flag("binary", binary)
    counts = bin_raster(trial_view(raster), bin_steps)  # (trials, bins, units)
    out = (counts > 0).astype(np.uint8) if binary else counts
    return out.reshape(-1, counts.shape[2])


def trial_view(x: Any) -> np.ndarray:
    """Return data as ``(trials, steps, variables)``.

    Accepts a :class:`~infodyn.data.spikes.SpikeTrain`, a 1-D series ``(steps,)``, a 2-D
    ``(steps, variables)`` array (one trial) or a 3-D ``(trials, steps, variables)`` array.
    """
    if hasattr(x, "to_dense") and hasattr(x, "n_trials"):
        return x.to_dense()
    a = as_array(x, "the time series")
    if a.ndim == 1:
        a = a.reshape(1, -1, 1)
    elif a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise InputError(
            f"time series must be (steps,), (steps, variables) or (trials, steps, variables), "
            f"got shape {a.shape}"
        )
    if a.size == 0:
        raise InputError(f"the time series is empty (shape {a.shape})")
    return a


def _need_steps(name: str, n_steps: int, history: int, what: str | None = None) -> None:
    """Refuse trials of ``n_steps`` steps that leave no step after a ``history``; ``what`` names
    the history that is too long (a transfer entropy's source delay, a block length)."""
    if n_steps <= history:
        need = f"{what}: a trial needs at least {history + 1} steps" if what else None
        raise InputError(
            f"{name} has {n_steps} steps per trial, too few for {need or f'a history of {history}'}"
        )


def lagged(x: Any, lags: Any, name: str = "x", span: int | None = None) -> np.ndarray:
    """Delay embedding that never crosses trials: rows ``[x_{t-l} for l in lags]`` per time t.

    ``x`` is ``(steps,)``, ``(steps, variables)`` or ``(trials, steps, variables)``. ``lags`` are
    non-negative integers; rows are produced for ``t = span .. steps-1`` of every trial where
    ``span`` defaults to ``max(lags)`` (pass a larger ``span`` to align several embeddings).
    Returns ``(trials * (steps - span), len(lags) * variables)`` with lag-major columns.
    """
    r = trial_view(x)
    n_tr, n_st, n_v = r.shape
    if isinstance(lags, range) and len(lags):  # range(10**12) would be built before the check
        _need_steps(name, n_st, max(lags[0], lags[-1], span or 0))
    try:
        raw = np.atleast_1d(np.asarray(lags))
    except ValueError:  # ragged [[1, 2], [3]]
        raw = np.array([], dtype=object)
    whole = raw.dtype.kind in "iu" or (
        raw.dtype.kind == "f" and bool(np.all(np.isfinite(raw) & (raw == np.round(raw))))
    )
    if raw.ndim != 1 or not whole:  # [[1, 2]] took each row as one lag; inf became -2^63
        raise InputError(f"lags must be whole numbers >= 0 (a flat list), got {lags!r}")
    lag_arr = raw.astype(np.int64)
    if lag_arr.size == 0 or lag_arr.min() < 0:
        raise InputError("lags must be a non-empty list of integers >= 0")
    s = int(lag_arr.max()) if span is None else whole_number(span, "span")
    if s < lag_arr.max():
        raise InputError(f"span={s} is shorter than the largest lag {int(lag_arr.max())}")
    _need_steps(name, n_st, s)
    rows = n_tr * (n_st - s)
    require_memory(  # block_entropy(k=3000) of 10^6 steps held 3 GB, whatever was free
        2.0 * rows * lag_arr.size * n_v * r.dtype.itemsize,
        f"the delay embedding of {name} ({rows:,} rows x {lag_arr.size:,} lags x {n_v} "
        "variable(s))",
        "shorter histories (k, l) or fewer steps",
    )
    cols = [r[:, s - lag : n_st - lag, :] for lag in lag_arr]
    return np.concatenate(cols, axis=2).reshape(n_tr * (n_st - s), lag_arr.size * n_v)
