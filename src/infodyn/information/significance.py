"""Bias correction and significance of mutual information by shuffling.

Shuffling the rows of Y destroys any X-Y dependence but keeps both marginals, so
``I(X; Y_shuffled)`` samples the estimator's bias under independence (Panzeri, Senatore,
Montemurro & Petersen 2007, J. Neurophysiol. 98:1064). The shuffle-corrected estimate subtracts
its mean; the permutation test's p-value is ``(1 + #{I_null >= I}) / (1 + n_permutations)``.
For time series, shuffling rows also destroys serial correlations, so the null is too narrow when
samples are autocorrelated: shuffle whole trials (``groups``) or thin the series.

Results are in bits by default; ``base=`` gives units of ``log_base`` (observed value, null
distribution and p-value's comparison alike; the p-value does not depend on the base).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.errors import InputError, as_array, make_rng, whole_number
from infodyn.information._inputs import as_symbols, check_estimator, log_factor, same_samples
from infodyn.information.measures import _mi_words
from infodyn.information.words import Words, encode
from infodyn.memory import require_memory


@dataclass(frozen=True)
class PermutationTest:
    """Observed MI, its null distribution summary and the permutation p-value (MI values in
    units of ``log_base``, default bits)."""

    mi: float
    p_value: float
    null_mean: float
    null_std: float
    corrected: float
    null: np.ndarray


def _null(
    wx: Words, wy: Words, n: int, seed: int, estimator: str, groups: np.ndarray | None
) -> np.ndarray:
    require_memory(
        8.0 * n,
        f"a null distribution of {n} shuffles",
        "ask for fewer permutations/shuffles (10^3-10^4 resolve p down to 10^-3-10^-4)",
    )
    rng = make_rng(seed)
    out = np.empty(n)
    for i in range(n):
        if groups is None:
            perm = rng.permutation(wy.labels.size)
        else:
            perm = _group_permutation(groups, rng)
        shuffled = Words(wy.labels[perm], wy.n_labels, wy.alphabet_size)
        out[i] = _mi_words(wx, shuffled, estimator)
    return out


def _group_permutation(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Permute Y by whole groups (e.g. trials): group g's samples get group pi(g)'s samples."""
    uniq, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    if np.any(counts != counts[0]):
        raise InputError("group shuffling needs groups (trials) of equal size")
    order = np.argsort(inv, kind="stable")  # samples sorted by group
    blocks = order.reshape(uniq.size, counts[0])
    perm = np.empty_like(order)
    perm[blocks] = blocks[rng.permutation(uniq.size)]
    return perm


def _prepare(x: Any, y: Any, estimator: str, groups: Any) -> tuple[Words, Words, Any]:
    check_estimator(estimator)
    a, b = as_symbols(x, "X"), as_symbols(y, "Y")
    same_samples(X=a, Y=b)
    g = None
    if groups is not None:
        g = as_array(groups, "groups").reshape(-1)
        if g.size != a.shape[0]:
            raise InputError(f"groups has {g.size} entries for {a.shape[0]} samples")
        if g.dtype.kind in "fc" and not np.all(np.isfinite(g)):  # was "groups has one group"
            raise InputError("groups must be finite ids (one group id per sample), not NaN or inf")
        if np.unique(g).size < 2:  # the null would be the observed value itself
            raise InputError(
                "groups has one group: shuffling whole groups permutes nothing; give at least "
                "two groups (e.g. trial ids), or groups=None to shuffle samples"
            )
    return encode(a, validated=True), encode(b, validated=True), g


def shuffle_corrected_mi(
    x: Any,
    y: Any,
    n_shuffles: int = 20,
    seed: int = 0,
    estimator: str = "plugin",
    groups: Any = None,
    base: float = 2.0,
) -> float:
    """``I(X;Y) - mean_s I(X; Y_shuffled_s)`` (shuffle bias correction) in units of
    ``log_base`` (default bits)."""
    n_shuffles = whole_number(n_shuffles, "n_shuffles", minimum=1)
    f = log_factor(base)
    wx, wy, g = _prepare(x, y, estimator, groups)
    corrected = _mi_words(wx, wy, estimator) - float(
        _null(wx, wy, int(n_shuffles), seed, estimator, g).mean()
    )
    return corrected * f


def mi_permutation_test(
    x: Any,
    y: Any,
    n_permutations: int = 1000,
    seed: int = 0,
    estimator: str = "plugin",
    groups: Any = None,
    base: float = 2.0,
) -> PermutationTest:
    """Permutation test of ``I(X;Y) > 0``; ``groups`` (e.g. trial ids) shuffles whole groups.

    ``p = (1 + #{I_null >= I}) / (1 + B)`` over ``B`` permutations, never 0 (Davison & Hinkley
    1997, ch. 4; Phipson & Smyth 2010, Stat. Appl. Genet. Mol. Biol. 9:39).
    """
    n_permutations = whole_number(n_permutations, "n_permutations", minimum=1)
    f = log_factor(base)
    wx, wy, g = _prepare(x, y, estimator, groups)
    mi = _mi_words(wx, wy, estimator, warn=True)
    null = _null(wx, wy, int(n_permutations), seed, estimator, g)
    p = (1.0 + np.sum(null >= mi - 1e-12)) / (1.0 + null.size)
    return PermutationTest(
        mi=mi * f,
        p_value=float(p),
        null_mean=float(null.mean()) * f,
        null_std=float(null.std()) * f,
        corrected=(mi - float(null.mean())) * f,
        null=null * f,
    )
