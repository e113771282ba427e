"""The energy model as a density: held-out likelihood against simpler models, and the
generalisation gap.

Held-out log-likelihood is reported in bits per pattern (``log2 p``, mean over test patterns)
for the fitted model, the independent model (J = 0, matched unit means, half-count smoothing)
and the empirical histogram of the training set, which is defined only when every test pattern
occurs in training (otherwise it is infinitely bad and reported as None).

Generalisation (Akaike 1974): with d = n(n+1)/2 parameters fitted by unregularised maximum
likelihood on M samples, ``E[KL(p_true || p_fit)] = d / (2M) + O(M^-2)`` nats, and the training
log-likelihood exceeds the true model's by the same amount, so the expected train - test gap is
``d / M``. For MPF (the default fit), pseudolikelihood or regularised fits d / M is a reference
value only: their asymptotic gap is ``tr(J^-1 K) / M`` (Takeuchi 1976), which regularisation
lowers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infodyn.energy._checks import as_binary, require_model
from infodyn.energy.fit import fit
from infodyn.energy.model import IsingModel
from infodyn.errors import is_finite_number, make_rng, require, whole_number

LOG2E = 1.0 / np.log(2.0)


def n_parameters(n: int) -> int:
    """d = n(n+1)/2 for a pairwise model on n units."""
    n = whole_number(n, "n", minimum=1)  # -1 gave 0 parameters, 1.5 gave 1
    return n * (n + 1) // 2


def expected_kl(n: int, n_samples: int) -> float:
    """``d / (2M)`` nats: the expected KL(p_true || p_fit) of a maximum-likelihood fit."""
    n_samples = whole_number(n_samples, "n_samples", minimum=1)  # 0.5 samples gave 6 nats
    return n_parameters(n) / (2.0 * n_samples)


def empirical_log_likelihood(X_train: Any, X_test: Any) -> tuple[float | None, float]:
    """Mean ``log p_emp(x)`` (nats) of test patterns under the training histogram, and the
    fraction of test patterns never seen in training (the value is None when that is > 0)."""
    A = as_binary(X_train, "X_train")
    B = as_binary(X_test, "X_test", n=A.shape[1], n_of="X_train")
    pa = np.packbits(A, axis=1)
    uniq, counts = np.unique(pa, axis=0, return_counts=True)
    lookup = {row.tobytes(): c for row, c in zip(uniq, counts, strict=True)}
    c = np.array([lookup.get(row.tobytes(), 0) for row in np.packbits(B, axis=1)], dtype=np.float64)
    unseen = float(np.mean(c == 0))
    if unseen > 0:
        return None, unseen
    return float(np.mean(np.log(c / A.shape[0]))), 0.0


def heldout_report(
    model: Any, X_train: Any, X_test: Any, log_z: float | None = None
) -> dict[str, Any]:
    """Train and test log-likelihoods in bits per pattern for the model, the independent model
    and the empirical histogram, plus the train - test gap against its ``d/M`` expectation."""
    require_model(model)
    A = as_binary(X_train, "X_train", n=model.n)
    B = as_binary(X_test, "X_test", n=model.n)
    if log_z is not None:  # NaN gave NaN everywhere; float() read "3" as 3 nats
        require(is_finite_number(log_z), f"log_z must be a finite number (nats), got {log_z!r}")
    lz = model.log_partition() if log_z is None else float(log_z)
    if log_z is not None:  # -100 gave a likelihood of 144.9 bits a pattern
        top = float(np.max(-model.energy(np.vstack([A, B]))))
        require(
            top <= lz + 1e-9 * max(1.0, abs(lz)),
            f"log_z = {lz:.6g} is below -E(x) = {top + 0.0:.6g} of a pattern (a probability "
            "above 1): it is too low; an AIS estimate can miss a deeper mode of a strongly "
            "coupled model (its AISModeWarning says so): use the exact log Z (n <= 34 units) or "
            "more inverse temperatures",
        )
    ind = IsingModel.independent(A)
    per_word = [model.log_likelihood(words, "none", log_z=lz) for words in (A, B)]
    ll_tr, ll_te = (float(ll.mean()) for ll in per_word)
    # per word: the model's log-likelihood less the independent model's, in bits
    gain_tr, gain_te = (
        (ll - ind.log_likelihood(words, "none")) * LOG2E
        for ll, words in zip(per_word, (A, B), strict=True)
    )
    emp, unseen = empirical_log_likelihood(A, B)
    d, M = model.n_params, A.shape[0]
    return {
        "n_train": int(M),
        "n_test": int(B.shape[0]),
        "log_z_nats": lz,
        "model_train_bits": ll_tr * LOG2E,
        "model_test_bits": ll_te * LOG2E,
        "independent_train_bits": ind.log_likelihood(A) * LOG2E,
        "independent_test_bits": ind.log_likelihood(B) * LOG2E,
        "empirical_test_bits": None if emp is None else emp * LOG2E,
        "fraction_test_unseen": unseen,
        "gain_over_independent_bits": float(gain_te.mean()),
        "gain_over_independent_se_bits": _standard_error(gain_te),
        "train_gain_over_independent_bits": float(gain_tr.mean()),
        "train_gain_over_independent_se_bits": _standard_error(gain_tr),
        "gap_nats": ll_tr - ll_te,
        "expected_gap_nats": d / M,
        "expected_kl_nats": d / (2.0 * M),
    }


def _standard_error(values: np.ndarray) -> float:
    """The standard error of the mean of ``values``, a series in time order, by batch means:
    the means of ``b = floor(sqrt(M))`` contiguous blocks of ``floor(M / b)`` values give
    ``sd / sqrt(b)`` (Flegal & Jones 2010, Ann. Stat. 38:1034, batch size sqrt(M)). Words of a
    recording, and the sliding words of ``window > 1``, are correlated in time: the plain
    ``sd / sqrt(M)`` understated it 1.7-fold for windows of 4 bins. NaN for fewer than four."""
    m = values.size
    if m < 4:
        return float("nan")
    b = math.isqrt(m)
    means = values[: b * (m // b)].reshape(b, m // b).mean(axis=1)
    return float(np.std(means, ddof=1) / np.sqrt(b))


#: a model's log-likelihood below the independent model's by at most this many bits per word
#: (or two standard errors of the per-word difference) is a tie, not a worse fit
TIE_BITS = 1e-3


def clearly_worse(gain_bits: float, se_bits: float) -> bool:
    """Whether a mean per-word gain over the independent model (bits) is below zero by more
    than :data:`TIE_BITS` and two standard errors (an unknown, NaN, error: by TIE_BITS alone):
    a model whose couplings a penalty drove to 0 is the independent model, and a 9e-7 bit
    deficit was reported as overfitting. log Z's own error (AIS, more than 24 units) shifts
    every word alike and is not in the standard error."""
    margin = TIE_BITS if not np.isfinite(se_bits) else max(TIE_BITS, 2.0 * se_bits)
    return bool(gain_bits < -margin)


def generalisation_curve(
    X: Any,
    sizes: Any,
    method: str = "mpf",
    test_fraction: float = 0.5,
    seed: int = 0,
    **fit_kwargs: Any,
) -> list[dict[str, Any]]:
    """Fit on nested training subsets of each size and report the train - test gap (nats)
    against the ``d/M`` prediction; the test set is a fixed held-out part of X."""
    X = as_binary(X)
    require(
        is_finite_number(test_fraction) and 0 < test_fraction < 1,
        f"test_fraction must be in (0, 1), got {test_fraction!r}",
    )
    idx = make_rng(seed).permutation(X.shape[0])
    k = int(round(test_fraction * X.shape[0]))
    require(  # 0.01 of 40 rows: found after the first fit, as "X_test needs at least 1"
        k >= 1,
        f"test_fraction={test_fraction!r} of {X.shape[0]} rows holds out no row: give a larger "
        "test_fraction or more rows",
    )
    test, pool = X[idx[:k]], X[idx[k:]]
    require(  # [] gave an empty curve, 2.5 a subset of 2
        isinstance(sizes, list | tuple | np.ndarray) and len(sizes) > 0,
        f"sizes must be a non-empty list of whole numbers, got {sizes!r}",
    )
    out = []
    for m in sizes:
        m = whole_number(m, "sizes")
        require(2 <= m <= pool.shape[0], f"training size {m} exceeds the {pool.shape[0]} available")
        model = fit(pool[:m], method=method, seed=seed, **fit_kwargs)
        r = heldout_report(model, pool[:m], test)
        out.append(
            {
                "n_train": m,
                **{
                    key: r[key]
                    for key in (
                        "model_train_bits",
                        "model_test_bits",
                        "independent_test_bits",
                        "gap_nats",
                        "expected_gap_nats",
                        "expected_kl_nats",
                    )
                },
            }
        )
    return out


def smoothed_histogram_bits(X_train: Any, X_test: Any, pseudocount: float = 0.5) -> float:
    """Mean ``log2 p(x)`` (bits per pattern) of test rows under the training histogram smoothed
    by ``pseudocount`` ``a`` per state: ``p(x) = (c(x) + a) / (M + a 2^n)`` (additive smoothing;
    ``a = 1/2`` is the Jeffreys-Perks rule, Jeffreys 1946, Perks 1947, or Krichevsky-Trofimov
    1981 in coding; ``a = 1`` Laplace's). Counts every
    one of the ``2^n`` states, so ``n`` is limited to 24 units."""
    A = as_binary(X_train, "X_train")  # 0.5 counted as 0 and 2 as a wrong state before
    n = A.shape[1]
    B = as_binary(X_test, "X_test", n=n, n_of="X_train")
    require(n <= 24, f"the smoothed histogram counts all 2^n states: n = {n} > 24")
    require(
        is_finite_number(pseudocount) and pseudocount > 0,
        f"pseudocount must be a finite number > 0, got {pseudocount}",
    )
    w = 1 << np.arange(n, dtype=np.int64)
    ctr = np.bincount(A.astype(np.int64) @ w, minlength=1 << n).astype(np.float64)
    codes = B.astype(np.int64) @ w
    p = (ctr[codes] + pseudocount) / (len(A) + pseudocount * (1 << n))
    return float(np.mean(np.log2(p)))
