"""Partial information decomposition (PID) of ``I(X1, X2; Y)`` for two sources, in bits by
default (``base=``: every atom and mutual information in units of ``log_base``).

``I(X1,X2;Y) = R + U1 + U2 + S`` and ``I(Xi;Y) = R + Ui`` (Williams & Beer 2010). The lattice
fixes everything once the redundancy ``R`` (or one unique term) is chosen:

* ``measure="wb"``: Williams-Beer ``I_min``:
  ``R = sum_y p(y) min_i I_spec(y; X_i)``, ``I_spec(y; X_i) = sum_x p(x|y) log2 p(y|x)/p(y)``.
* ``measure="broja"``: Bertschinger, Rauh, Olbrich, Jost & Ay (2014):
  ``UI_1 = min_{Q in Delta_P} I_Q(Y; X1 | X2)`` over distributions ``Q`` with the same ``(X1,Y)``
  and ``(X2,Y)`` marginals as ``P``. Equivalently ``Q*`` maximises ``H_Q(Y | X1, X2)``; this
  convex programme is solved with SciPy's SLSQP (analytic gradient, linear equality
  constraints), started from ``p(x1|y) p(x2|y) p(y)``, which lies in ``Delta_P``, then
  finished by the alternating minimisation of :mod:`~infodyn.information.broja_polish`, which
  brackets the minimum (SLSQP alone stopped 0.017 bit above it on small tables).

Classic values: XOR: S = 1; AND: WB R = 0.311278, S = 0.5; COPY (Y = (X1, X2)): WB R = 1 and
S = 1, BROJA U1 = U2 = 1.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.linalg import qr
from scipy.optimize import minimize

from infodyn.errors import InputError, require_choice
from infodyn.information._inputs import (
    as_symbols,
    log_factor,
    real_array,
    same_samples,
    side_by_side,
)
from infodyn.information._kernels import count_codes
from infodyn.information.broja_polish import MAX_ALTERNATIONS, broja_alternating
from infodyn.information.estimators import warn_if_undersampled
from infodyn.information.words import _radix_sizes, encode

_MEASURES = ("wb", "broja")
#: the most cells (x1, x2, y) of the BROJA programme: SLSQP's steps are dense, their cost
#: grows with the cube of the cells (an 8 x 8 x 4 table, 256 cells, took 138 s)
MAX_BROJA_CELLS = 300
#: the BROJA minimum's bracket beyond which the answer is warned about (bits)
BROJA_TOLERANCE_BITS = 1e-5


class PIDAccuracyWarning(UserWarning):
    """The BROJA optimisation could not bracket its minimum as tightly as asked."""


@dataclass(frozen=True)
class PIDResult:
    """The four PID atoms and the mutual informations they decompose, in units of ``log_base``
    (``base``; default 2: bits)."""

    redundancy: float
    unique1: float
    unique2: float
    synergy: float
    mi1: float
    mi2: float
    mi_joint: float
    measure: str
    base: float = 2.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __iter__(self):
        return iter((self.redundancy, self.unique1, self.unique2, self.synergy))


def joint_table(x1: Any, x2: Any, y: Any) -> np.ndarray:
    """Plug-in distribution ``p[a, b, c]`` of the (relabelled) words of X1, X2 and Y."""
    a = as_symbols(x1, "X1", check_sign=False)
    b = as_symbols(x2, "X2", check_sign=False)
    c = as_symbols(y, "Y", check_sign=False)
    if same_samples(X1=a, X2=b, Y=c) < 2:  # returned 0 bits in every atom, without a word
        warn_if_undersampled(a.shape[0], 1, "X1, X2, Y")
    # one pass each; rejects negative symbols
    sizes = [_radix_sizes(v, n) for v, n in ((a, "X1"), (b, "X2"), (c, "Y"))]
    shape = [math.prod(int(v) for v in sz) for sz in sizes]
    if math.prod(shape) <= 5_000_000:  # count all words in one pass, then drop unseen ones
        flat = count_codes(
            side_by_side(a, b, c).astype(np.int64, copy=False),
            np.concatenate(sizes).astype(np.int64),
            math.prod(shape),
        )
        p = flat.reshape(shape).astype(np.float64)
        for axis in range(3):
            seen = np.flatnonzero(p.sum(axis=tuple(i for i in range(3) if i != axis)))
            p = np.take(p, seen, axis=axis)
        return p / p.sum()
    labs, shape = [], []
    for v in (a, b, c):
        w = encode(v, validated=True)
        used = np.flatnonzero(np.bincount(w.labels, minlength=w.n_labels))
        relabel = np.zeros(w.n_labels, dtype=np.int64)
        relabel[used] = np.arange(used.size)  # observed words -> 0..k-1
        labs.append(relabel[w.labels])
        shape.append(int(used.size))
    if np.prod(shape, dtype=float) > 5e6:
        raise InputError(f"PID alphabets {tuple(shape)} are too large for a joint table (max 5e6)")
    flat = (labs[0] * shape[1] + labs[1]) * shape[2] + labs[2]
    p = np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape).astype(np.float64)
    return p / p.sum()


def _mi(pxy: np.ndarray) -> float:
    """Mutual information (bits) of a 2-D joint table."""
    px = pxy.sum(1, keepdims=True)
    py = pxy.sum(0, keepdims=True)
    nz = pxy > 0
    return float((pxy[nz] * np.log2(pxy[nz] / (px @ py)[nz])).sum())


def _wb_redundancy(p: np.ndarray) -> float:
    py = p.sum((0, 1))
    spec = []
    for axis in (1, 0):  # marginalise the other source
        pxy = p.sum(axis)  # (x_i, y)
        px = pxy.sum(1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_x_given_y = pxy / py[None, :]
            p_y_given_x = pxy / px
            term = np.where(pxy > 0, p_x_given_y * np.log2(p_y_given_x / py[None, :]), 0.0)
        spec.append(term.sum(0))
    mask = py > 0
    return float((py[mask] * np.minimum(spec[0], spec[1])[mask]).sum())


def _broja_min_joint_mi(p: np.ndarray, tol: float = 1e-12) -> float:
    """``min_{Q in Delta_P} I_Q(Y; X1, X2)`` (bits) by SLSQP."""
    p_ac = p.sum(1)
    p_bc = p.sum(0)
    p_c = p.sum((0, 1))
    support = (p_ac[:, None, :] > 0) & (p_bc[None, :, :] > 0)
    idx = np.argwhere(support)
    n = len(idx)
    if n > MAX_BROJA_CELLS:  # SLSQP's dense steps grow with the cube of the cells: hours
        raise InputError(
            f"BROJA PID over {n} free cells (x1, x2, y) is beyond SLSQP's dense solver here "
            f"(at most {MAX_BROJA_CELLS}; 144 took 13-53 s, 256 took 138 s in an audit): use "
            "measure='wb', or fewer symbols (coarser bins, shorter words)"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        q0 = (p_ac[:, None, :] * p_bc[None, :, :] / p_c[None, None, :])[support]
    # equality constraints: (a, c) and (b, c) marginals
    rows_ac = {k: i for i, k in enumerate(map(tuple, np.argwhere(p_ac > 0)))}
    rows_bc = {k: i for i, k in enumerate(map(tuple, np.argwhere(p_bc > 0)))}
    A = np.zeros((len(rows_ac) + len(rows_bc), n))
    for j, (a, b, c) in enumerate(idx):
        A[rows_ac[(a, c)], j] = 1.0
        A[len(rows_ac) + rows_bc[(b, c)], j] = 1.0
    rhs = np.concatenate([[p_ac[k] for k in rows_ac], [p_bc[k] for k in rows_bc]])
    # the two marginal families share p(y): keep a linearly independent set of rows
    _, r, piv = qr(A.T, mode="economic", pivoting=True)
    rank = int(np.sum(np.abs(np.diag(r)) > 1e-10 * max(1.0, abs(r[0, 0]))))
    A, rhs = A[piv[:rank]], rhs[piv[:rank]]
    ab = idx[:, 0] * p.shape[1] + idx[:, 1]
    n_ab = p.shape[0] * p.shape[1]

    def neg_cond_entropy(q: np.ndarray) -> tuple[float, np.ndarray]:
        qc = np.maximum(q, 1e-300)
        q_ab = np.bincount(ab, weights=q, minlength=n_ab)[ab]
        q_ab = np.maximum(q_ab, 1e-300)
        log_ratio = np.log(qc / q_ab)
        return float(np.sum(np.where(q > 0, q * log_ratio, 0.0))), log_ratio

    if rank >= n:  # Delta_P is a single point
        return (h_y(p_c) + neg_cond_entropy(q0)[0]) / np.log(2.0)
    res = minimize(
        neg_cond_entropy,
        q0,
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n,
        constraints=[{"type": "eq", "fun": lambda q: A @ q - rhs, "jac": lambda q: A}],
        options={"ftol": tol, "maxiter": 1000},
    )
    q = np.clip(res.x, 0.0, None) if res.success else q0
    # I_Q(Y; X1X2) = H(Y) - H_Q(Y|X1X2), with H(Y) fixed by the constraints
    val = min(neg_cond_entropy(q)[0], neg_cond_entropy(q0)[0])  # never worse than the start
    # SLSQP can stop well above the minimum (broja_polish): alternate from its answer to it
    r0 = np.zeros(p.shape)
    r0[tuple(idx.T)] = q
    upper, lower = broja_alternating(p, r0.sum(2))
    upper = min(upper, h_y(p_c) + val)
    if not upper - lower <= BROJA_TOLERANCE_BITS * np.log(2.0):  # wide, or no bracket
        how, much = (
            (f"is bracketed only to within {(upper - lower) / np.log(2.0):.2g} bit", " that much")
            if np.isfinite(lower)
            else ("could not be bracketed (the alternation's scalings did not converge)", "")
        )
        warnings.warn(
            f"BROJA: the minimum of I_Q(Y; X1 X2) {how} after {MAX_ALTERNATIONS:,} "
            f"alternations; the unique atoms may be{much} too large, the redundancy and the "
            f"synergy{much} too small",
            PIDAccuracyWarning,
            stacklevel=3,
        )
    return upper / np.log(2.0)


def h_y(p: np.ndarray) -> float:
    """Entropy (nats) of a probability vector."""
    nz = p > 0
    return float(-(p[nz] * np.log(p[nz])).sum())


def pid(x1: Any, x2: Any, y: Any, measure: str = "wb", base: float = 2.0) -> PIDResult:
    """Two-source PID of ``I(X1, X2; Y)`` from samples: redundancy, unique1, unique2, synergy.

    ``x1``, ``x2`` and ``y`` are ``(samples, variables)`` symbol arrays (a multi-column source is
    one variable whose values are its words). ``measure`` is ``"wb"`` (Williams-Beer ``I_min``) or
    ``"broja"``. The plug-in distribution of the samples is decomposed; with equally weighted
    rows (e.g. the four rows of XOR) it is the exact distribution.
    """
    require_choice("measure", measure, _MEASURES)
    log_factor(base)
    return pid_from_table(joint_table(x1, x2, y), measure, base)


def pid_from_table(p: Any, measure: str = "wb", base: float = 2.0) -> PIDResult:
    """PID of a joint probability table ``p[x1, x2, y]`` (non-negative, summing to 1), in units
    of ``log_base`` (default bits)."""
    f = log_factor(base)
    p = real_array(p, "the PID table")
    if p.ndim != 3 or p.size == 0:
        raise InputError(f"a PID table must be 3-D p[x1, x2, y], got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1.0) > 1e-9:
        raise InputError("a PID table must hold non-negative probabilities summing to 1")
    require_choice("measure", measure, _MEASURES)
    mi1, mi2 = _mi(p.sum(1)), _mi(p.sum(0))
    mi12 = _mi(p.reshape(-1, p.shape[2]))
    if measure == "wb":
        red = _wb_redundancy(p)
        u1, u2 = mi1 - red, mi2 - red
    else:
        i_q = min(_broja_min_joint_mi(p), mi12)
        u1, u2 = i_q - mi2, i_q - mi1
        red = mi1 - u1
    syn = mi12 - red - u1 - u2
    clean = [0.0 if abs(v) < 1e-10 else float(v) * f for v in (red, u1, u2, syn)]
    return PIDResult(
        *clean, mi1=mi1 * f, mi2=mi2 * f, mi_joint=mi12 * f, measure=measure, base=float(base)
    )
