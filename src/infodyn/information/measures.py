"""Mutual information and multivariate measures from word counts, in bits by default.

Every public function takes ``base`` (default 2: bits; ``math.e``: nats) and returns its value
in units of ``log_base`` (the bits value times :func:`._inputs.log_factor`).

With ``H`` any entropy estimator of :mod:`.estimators` (each entropy term gets its own bias
correction for Miller-Madow and NSB):

* ``I(X;Y) = H(X) + H(Y) - H(X,Y)``;  ``I(X;Y|Z) = H(X,Z) + H(Y,Z) - H(Z) - H(X,Y,Z)``
* total correlation ``TC = sum_i H(X_i) - H(X)`` (Watanabe 1960)
* dual total correlation ``DTC = H(X) - sum_i H(X_i | X_-i) = sum_i H(X_-i) - (n-1) H(X)``
  (Han 1978)
* O-information ``Omega = TC - DTC`` (> 0 redundancy-dominated, < 0 synergy-dominated) and
  S-information ``Sigma = TC + DTC`` (Rosas, Mediano, Gastpar & Jensen 2019)
* co-information ``I(X_1;...;X_n) = -sum_{S nonempty} (-1)^|S| H(X_S)`` (McGill 1954;
  Bell 2003). For three variables ``I(X;Y;Z) = I(X;Y) - I(X;Y|Z)``: positive for redundancy
  (giant bit: +1), negative for synergy (XOR: -1). ``dit.multivariate.coinformation`` uses this
  sign; ``dit``'s ``interaction_information`` is ``(-1)^n`` times it (opposite for odd n).

All multivariate measures treat each column of ``X`` as one variable and are computed on the
table of distinct rows (:class:`.words.EmpiricalDistribution`), never on a ``2**n`` table.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from infodyn.errors import InputError
from infodyn.information._inputs import as_symbols, check_estimator, log_factor, same_samples
from infodyn.information.estimators import entropy_from_counts, warn_if_undersampled
from infodyn.information.words import (
    EmpiricalDistribution,
    Words,
    count_table,
    encode,
    join,
    joint_count_table,
)
from infodyn.memory import require_memory


def _h(words: Words, estimator: str, warn: bool = False) -> float:
    return float(entropy_from_counts(words.counts(), estimator, words.alphabet_size, warn=warn))


def mutual_information(x: Any, y: Any, estimator: str = "plugin", base: float = 2.0) -> float:
    """``I(X;Y)`` between the words of two ``(samples, variables)`` arrays, in units of
    ``log_base`` (default bits).

    Fast for wide binary words (64+ units are bit-packed and counted by sorting). Warns
    (:class:`.UndersampledWarning`) when the joint words are undersampled.
    """
    check_estimator(estimator)
    f = log_factor(base)
    a, b = as_symbols(x, "X", check_sign=False), as_symbols(y, "Y", check_sign=False)
    same_samples(X=a, Y=b)
    table = joint_count_table(a, b, min(1 << 22, max(1 << 16, 4 * a.shape[0])))
    if table is not None:  # small alphabets: one counting pass, marginals by summation
        ka, kb = (float(v) for v in table.shape)
        h_a = entropy_from_counts(table.sum(1), estimator, ka, warn=False)
        h_b = entropy_from_counts(table.sum(0), estimator, kb, warn=False)
        h_ab = entropy_from_counts(table.ravel(), estimator, ka * kb)
        return (float(h_a) + float(h_b) - float(h_ab)) * f
    wa, wb = encode(a, "X", validated=True), encode(b, "Y", validated=True)
    return _mi_words(wa, wb, estimator, warn=True) * f


def _mi_words(wa: Words, wb: Words, estimator: str, warn: bool = False) -> float:
    wab = join(wa, wb)
    return _h(wa, estimator) + _h(wb, estimator) - _h(wab, estimator, warn=warn)


def conditional_mutual_information(
    x: Any, y: Any, z: Any, estimator: str = "plugin", base: float = 2.0
) -> float:
    """``I(X;Y|Z) = H(X,Z) + H(Y,Z) - H(Z) - H(X,Y,Z)`` in units of ``log_base`` (bits)."""
    check_estimator(estimator)
    f = log_factor(base)
    a, b, c = as_symbols(x, "X"), as_symbols(y, "Y"), as_symbols(z, "Z")
    same_samples(X=a, Y=b, Z=c)
    wa, wb, wc = (encode(v, n, validated=True) for v, n in ((a, "X"), (b, "Y"), (c, "Z")))
    return _cmi_words(wa, wb, wc, estimator, warn=True) * f


def _cmi_words(wa: Words, wb: Words, wc: Words, estimator: str, warn: bool = False) -> float:
    wac, wbc = join(wa, wc), join(wb, wc)
    wabc = join(wac, wb)
    return (
        _h(wac, estimator) + _h(wbc, estimator) - _h(wc, estimator) - _h(wabc, estimator, warn=warn)
    )


# ---------------------------------------------------------------------- multivariate
class _Marginals:
    """Entropies of column subsets of one data set.

    Small joint alphabets (at most ``max(2**16, 4 N)`` cells, capped at ``2**22``) use a count
    table over all words, whose marginals are sums over axes; larger ones use the table of
    distinct rows (:class:`.words.EmpiricalDistribution`), never a ``2**n`` table.
    """

    def __init__(self, x: Any, estimator: str, min_vars: int = 2) -> None:
        check_estimator(estimator)
        a = as_symbols(x, "X", check_sign=False)  # the counting pass rejects negative symbols
        if a.shape[1] < min_vars:
            raise InputError(f"X needs at least {min_vars} variables (columns), got {a.shape[1]}")
        self.n = a.shape[1]
        self.estimator = estimator
        self._cache: dict[tuple[int, ...], float] = {}
        self.table = count_table(a, min(1 << 22, max(1 << 16, 4 * a.shape[0])))
        self.dist = None
        if self.table is None:
            self.dist = EmpiricalDistribution.from_samples(a, validated=True)
            n_words = self.dist.counts.size
        else:
            n_words = int(np.count_nonzero(self.table))
        warn_if_undersampled(a.shape[0], n_words, "X", estimator)

    def h(self, cols: Any) -> float:
        key = tuple(int(c) for c in cols)
        if key not in self._cache:
            if self.table is not None:
                others = tuple(i for i in range(self.n) if i not in key)
                marginal = self.table.sum(axis=others) if others else self.table
                counts = marginal.ravel().astype(np.float64)
                k = float(np.prod([self.table.shape[i] for i in key], dtype=np.float64))
            else:
                counts, k = self.dist.marginal_counts(list(key))
            self._cache[key] = float(entropy_from_counts(counts, self.estimator, k, warn=False))
        return self._cache[key]

    def full(self) -> float:
        return self.h(range(self.n))

    def _batched(self) -> bool:
        return self.table is not None and self.estimator != "nsb"

    def singles(self) -> float:
        if self._batched():  # all one-unit marginals of the table in one pass
            t = self.table
            rows = [
                t.reshape(math.prod(t.shape[:i]), t.shape[i], -1).sum(axis=(0, 2))
                for i in range(self.n)
            ]
            return float(_rows_entropy(rows, self.estimator).sum())
        return sum(self.h((i,)) for i in range(self.n))

    def leave_one_out(self) -> float:
        if self._batched():
            t = self.table
            rows = [
                t.reshape(math.prod(t.shape[:i]), t.shape[i], -1).sum(axis=1).ravel()
                for i in range(self.n)
            ]
            return float(_rows_entropy(rows, self.estimator).sum())
        return sum(self.h([j for j in range(self.n) if j != i]) for i in range(self.n))


def _rows_entropy(rows: list[np.ndarray], estimator: str) -> np.ndarray:
    """Plug-in or Miller-Madow entropies (bits) of several count vectors with equal totals."""
    width = max(r.size for r in rows)
    c = np.zeros((len(rows), width))
    for i, r in enumerate(rows):
        c[i, : r.size] = r
    big_n = c[0].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        clogc = np.where(c > 0, c * np.log(c), 0.0).sum(axis=1)
    h = np.log(big_n) - clogc / big_n
    if estimator == "miller_madow":
        h += (np.count_nonzero(c, axis=1) - 1) / (2.0 * big_n)
    return h / np.log(2.0)


def total_correlation(x: Any, estimator: str = "plugin", base: float = 2.0) -> float:
    """Total correlation ``TC = sum_i H(X_i) - H(X)`` (columns are the variables), in units of
    ``log_base`` (default bits)."""
    f = log_factor(base)
    m = _Marginals(x, estimator)
    return (m.singles() - m.full()) * f


def dual_total_correlation(x: Any, estimator: str = "plugin", base: float = 2.0) -> float:
    """Dual total correlation ``DTC = sum_i H(X_-i) - (n - 1) H(X)`` in units of ``log_base``."""
    f = log_factor(base)
    m = _Marginals(x, estimator)
    return (m.leave_one_out() - (m.n - 1) * m.full()) * f


def o_information(x: Any, estimator: str = "plugin", base: float = 2.0) -> float:
    """O-information ``TC - DTC = (n-2) H(X) + sum_i [H(X_i) - H(X_-i)]`` in units of
    ``log_base`` (default bits).

    Positive: redundancy dominates; negative: synergy dominates (Rosas et al. 2019). Needs
    at least three variables.
    """
    f = log_factor(base)
    m = _Marginals(x, estimator, min_vars=3)
    return ((m.n - 2) * m.full() + m.singles() - m.leave_one_out()) * f


def s_information(x: Any, estimator: str = "plugin", base: float = 2.0) -> float:
    """S-information ``TC + DTC = sum_i H(X_i) + sum_i H(X_-i) - n H(X)`` in units of
    ``log_base`` (default bits)."""
    f = log_factor(base)
    m = _Marginals(x, estimator)
    return (m.singles() + m.leave_one_out() - m.n * m.full()) * f


def multivariate_summary(x: Any, estimator: str = "plugin", base: float = 2.0) -> dict[str, float]:
    """Joint entropy, TC, DTC, O- and S-information of ``X`` from one pass over its marginals,
    in units of ``log_base`` (default bits)."""
    f = log_factor(base)
    m = _Marginals(x, estimator, min_vars=3)
    h, s1, loo = m.full() * f, m.singles() * f, m.leave_one_out() * f
    tc, dtc = s1 - h, loo - (m.n - 1) * h
    return {
        "joint_entropy": h,
        "sum_entropies": s1,
        "total_correlation": tc,
        "dual_total_correlation": dtc,
        "o_information": tc - dtc,
        "s_information": tc + dtc,
    }


def co_information(x: Any, estimator: str = "plugin", base: float = 2.0) -> float:
    """Co-information ``-sum_{S nonempty} (-1)^|S| H(X_S)`` in units of ``log_base`` (default
    bits; sign: see module docstring).

    Two columns give ``I(X_1;X_2)``; three give ``I(X;Y) - I(X;Y|Z)`` (XOR: -1, giant bit: +1).
    Enumerates all ``2**n - 1`` subsets, so ``n`` is limited to 20.
    """
    f = log_factor(base)
    m = _Marginals(x, estimator)
    if m.n > 20:
        raise InputError(f"co-information enumerates 2**n subsets; n={m.n} columns is too many")
    total = 0.0
    for size in range(1, m.n + 1):
        sign = -((-1) ** size)
        for cols in itertools.combinations(range(m.n), size):
            total += sign * m.h(cols)
    return total * f


# ---------------------------------------------------------------------- pairwise
#: cells of the (rows, n) blocks in which the binary all-pairs MI is formed: the work arrays of
#: one block (about 17 float64 arrays of its cells) stay near 140 MB however many units
PAIRWISE_BLOCK_CELLS = 2**20


def require_pairwise_memory(n_samples: int, n_units: int, extra: int = 0) -> None:
    """Refuse (:func:`infodyn.memory.require_memory`) a :func:`pairwise_mutual_information` of
    ``n_units`` columns of ``n_samples`` samples that would not fit: a float32 block of the
    words and its product, the ``n_units`` x ``n_units`` result and one block's work (``extra``
    bytes more, such as the caller's words)."""
    n = int(n_units)
    block = 4 * min(n_samples, _sample_block(n)) * n + 4 * n * n
    need = block + 8 * n * n + 17 * 8 * min(n * n, PAIRWISE_BLOCK_CELLS) + extra
    # the words (the caller's ``extra`` and a block of them) or the units' n x n arrays: 2 units
    # of 10^13 steps were told to use fewer units
    by_samples = 4 * min(n_samples, _sample_block(n)) * n + extra > need / 2
    require_memory(
        need,
        f"the pairwise mutual information of {n:,} units ({n:,} x {n:,} float64, "
        f"{n_samples:,} samples)",
        "use fewer samples (infodyn info: a coarser --bin-ms, or a shorter recording)"
        if by_samples
        else "use fewer units (infodyn info: --max-units or --units)",
    )


def pairwise_mutual_information(x: Any, estimator: str = "plugin", base: float = 2.0) -> np.ndarray:
    """Matrix ``M[i, j] = I(X_i; X_j)`` of all column pairs; ``M[i, i] = H(X_i)``; in units of
    ``log_base`` (default bits).

    Binary columns use matrix products for all pair counts (``O(N n^2)`` BLAS work, in blocks
    of samples and of rows: the memory is the n x n result and one block's work);
    other alphabets join the per-column labels pair by pair. The memory is checked first
    (:func:`require_pairwise_memory`).
    """
    check_estimator(estimator)
    f = log_factor(base)
    a = as_symbols(x, "X")
    n_samples, n = a.shape
    require_pairwise_memory(n_samples, n)
    if estimator == "plugin" or estimator == "miller_madow":
        if a.max() <= 1:
            out = _pairwise_binary(a, estimator)
            out *= f
            return out
    words = [encode(a[:, [i]], validated=True) for i in range(n)]
    h = np.array([_h(w, estimator) for w in words])
    out = np.diag(h)
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = h[i] + h[j] - _h(join(words[i], words[j]), estimator)
    return out * f


def _pairwise_binary(a: np.ndarray, estimator: str) -> np.ndarray:
    """All-pairs MI of binary columns from ``n11 = X^T X`` (plug-in or Miller-Madow).

    ``n11`` is summed over blocks of samples (:func:`_sample_block`), each a float32 product
    (its counts, at most the block's samples < 2^24, are exact in float32) added in
    float64, so no float64 copy of all the words is held (8 bytes a sample and unit: 1.3 GB for
    2000 units of a long file); the entropies are then formed :data:`PAIRWISE_BLOCK_CELLS`
    cells at a time, in place of ``n11``'s rows. The counts are whole numbers, exact either way,
    so the values are those of one product of the whole words."""
    big_n = float(a.shape[0])
    n = a.shape[1]
    mi = np.zeros((n, n))  # n11 first, then the MI, row block by row block
    step = _sample_block(n)
    for s0 in range(0, a.shape[0], step):
        block = a[s0 : s0 + step].astype(np.float32)
        mi += block.T @ block
    n1 = np.diag(mi).copy()
    hm = _count_entropies(np.stack([big_n - n1, n1]), big_n, estimator)
    rows = max(1, PAIRWISE_BLOCK_CELLS // max(n, 1))
    for i0 in range(0, n, rows):
        i1 = min(n, i0 + rows)
        n11 = mi[i0:i1]
        n1_rows = n1[i0:i1, None]
        n10 = n1_rows - n11
        n01 = n1[None, :] - n11
        n00 = big_n - n1_rows - n1[None, :] + n11
        hj = _count_entropies(np.stack([n00, n01, n10, n11]), big_n, estimator)
        mi[i0:i1] = hm[i0:i1, None] + hm[None, :] - hj
    if estimator == "plugin":
        np.maximum(mi, 0.0, out=mi)  # exact value is >= 0; remove rounding noise
    np.fill_diagonal(mi, hm)
    mi /= np.log(2.0)
    return mi


def _sample_block(n_units: int) -> int:
    """Samples of ``n_units`` words multiplied at once by :func:`_pairwise_binary`: about
    :data:`PAIRWISE_SAMPLE_CELLS` float32 cells, fewer than 2^24 samples (exact counts)."""
    return min(1 << 23, max(1, PAIRWISE_SAMPLE_CELLS // max(n_units, 1)))


#: float32 cells of words :func:`_pairwise_binary` multiplies at once (16 MiB)
PAIRWISE_SAMPLE_CELLS = 1 << 22


def _count_entropies(cells: np.ndarray, big_n: float, estimator: str) -> np.ndarray:
    """Entropies in nats of the count tables along axis 0 of ``cells`` (each summing to
    ``big_n``): plug-in ``log N - sum c log c / N``, plus Miller-Madow's ``(m - 1) / 2N`` for
    ``m`` non-empty cells."""
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.log(big_n) - np.where(cells > 0, cells * np.log(cells), 0.0).sum(0) / big_n
    if estimator == "miller_madow":
        h = h + ((cells > 0).sum(0) - 1) / (2 * big_n)
    return h
