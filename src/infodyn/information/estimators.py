"""Entropy estimators on word counts: plug-in, Miller-Madow and NSB. Results in bits by default;
``base=`` gives units of ``log_base`` (``math.e``: nats): every term below, the bias corrections
and the standard errors included, is divided by ``log2(base)``.

* plug-in: ``H = log2 N - (1/N) sum_i n_i log2 n_i``; biased low by about
  ``(K - 1) / (2 N ln 2)`` bits (Miller 1955; Panzeri & Treves 1996). Its standard error is the
  delta-method value ``sqrt((sum_i p_i ln^2 p_i - H_nats^2) / N) / ln 2`` (Basharin 1959,
  Theory Probab. Appl. 4:333).
* Miller-Madow: plug-in plus ``(K_obs - 1) / (2 N ln 2)`` with ``K_obs`` the observed words.
* NSB: the Bayesian estimator of Nemenman, Shafee & Bialek (2002) (see :mod:`.nsb`), with its
  posterior standard deviation; it needs the alphabet size ``K`` (the number of possible words).

A :class:`UndersampledWarning` is issued when there are fewer than two samples per observed
word (plug-in and Miller-Madow are then strongly biased), or when NSB sees no coincidences.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from infodyn.errors import InputError, require_flag
from infodyn.information._inputs import (
    as_symbols,
    check_estimator,
    log_factor,
    nonnegative_counts,
    same_samples,
    unit_name,
)
from infodyn.information.nsb import check_alphabet_size, nsb_entropy
from infodyn.information.words import encode, join

_LN2 = np.log(2.0)


class UndersampledWarning(UserWarning):
    """Too few samples for the number of words: the estimate is strongly biased."""


class Estimate(float):
    """An entropy (bits, or units of ``log_base``) that behaves as a float, with its uncertainty
    and sampling details.

    ``std`` is the standard error (plug-in, Miller-Madow: delta method) or the posterior standard
    deviation (NSB). ``n_samples`` and ``n_words`` (observed distinct words) tell how well the
    alphabet was sampled. ``base`` is the log base of the value and of ``std`` (2: bits).
    """

    std: float
    estimator: str
    n_samples: int
    n_words: int
    base: float

    def __new__(
        cls,
        value: float,
        std: float,
        estimator: str,
        n_samples: int,
        n_words: int,
        base: float = 2.0,
    ) -> Estimate:
        obj = super().__new__(cls, value)
        obj.std, obj.estimator = float(std), estimator
        obj.n_samples, obj.n_words = int(n_samples), int(n_words)
        obj.base = float(base)
        return obj

    def __reduce__(self) -> Any:
        args = (float(self), self.std, self.estimator, self.n_samples, self.n_words, self.base)
        return (Estimate, args)

    def __repr__(self) -> str:
        return (
            f"Estimate({float(self):.6g} {unit_name(self.base)}, std={self.std:.3g}, "
            f"{self.estimator}, "
            f"N={self.n_samples}, words={self.n_words})"
        )


def _plugin_nats(counts: np.ndarray) -> tuple[float, float, float]:
    """Plug-in entropy (nats), its delta-method standard error and N."""
    n = counts[counts > 0]
    big_n = float(n.sum())
    p = n / big_n
    logp = np.log(p)
    h = float(-(p * logp).sum())
    # Var[log p] about its mean -h in two passes: E[log^2 p] - h^2 cancelled to 3e-16 for equal
    # counts, whose square root read as a standard error of 1.8e-8 bits (0 exactly)
    var = float((p * (logp + h) ** 2).sum()) / big_n
    return (h if h > 0.0 else 0.0), float(np.sqrt(var)), big_n  # never -0.0 (max(-0.0, 0.0))


#: how the undersampling warning names the estimates of each non-NSB estimator
_BIASED = {
    "plugin": "plug-in estimates are",
    "miller_madow": "Miller-Madow's correction is first order only: estimates are still",
}


def warn_if_undersampled(
    n_samples: float, n_words: int, what: str = "the words", estimator: str = "plugin"
) -> None:
    """Warn when fewer than two samples per observed word are available (the advice depends on
    the ``estimator`` in use), and when there is a single sample (one word: nothing to compare,
    every multivariate measure is 0)."""
    if n_samples < 2:
        warnings.warn(
            f"{what}: only {int(n_samples)} sample: the estimate says nothing about the source; "
            "use at least a few samples per possible word",
            UndersampledWarning,
            stacklevel=3,
        )
        return
    if n_words > 1 and n_samples < 2 * n_words:
        advice = (
            "NSB's estimate then leans on its prior (see its std), and entropies of different "
            "word sets are not comparable (a total correlation can come out negative); use "
            "more data or fewer units."
            if estimator == "nsb"
            else f"{_BIASED.get(estimator, 'plug-in estimates are')} strongly biased. Use "
            "estimator='nsb', more data or fewer units."
        )
        warnings.warn(
            f"{what}: {int(n_samples)} samples for {n_words} distinct words (< 2 per word); "
            + advice,
            UndersampledWarning,
            stacklevel=3,
        )


#: the largest alphabet NSB takes: its integral over beta needs K beta, K psi_1 and their sums to
#: stay finite, and past about 1e300 words the grid's beta values turn subnormal
MAX_NSB_ALPHABET = 1e300


def entropy_from_counts(
    counts: Any,
    estimator: str = "plugin",
    alphabet_size: float | None = None,
    warn: bool = True,
    base: float = 2.0,
) -> Estimate:
    """Entropy from word counts with the chosen estimator (see module docstring), in units of
    ``log_base`` (default bits).

    The plug-in estimator also takes probabilities (or any non-negative weights that are not
    all whole numbers): their distribution's entropy, with ``std`` NaN and ``n_samples`` 0, as
    they hold no sample size (``[0.2, 0.8]`` was read as one sample: a standard error of 0.8
    bits and a warning that one sample says nothing)."""
    warn = require_flag("warn", warn)
    check_estimator(estimator)
    f = log_factor(base)
    c = nonnegative_counts(counts)
    weights = bool(np.any(c != np.floor(c)))  # probabilities: no number of samples
    if estimator != "plugin" and weights:  # probabilities gave 2.94 bits
        raise InputError(
            f"estimator={estimator!r} needs counts of samples (whole numbers): its correction "
            "depends on their number; the plug-in estimator also takes probabilities"
        )
    c = c[c > 0]
    if c.size == 0:
        raise InputError("counts sum to zero")
    if not np.isfinite(c.sum()):
        raise InputError("counts are too large: their sum overflows floating point")
    k_obs = int(c.size)
    if alphabet_size is not None:  # every estimator: fewer possible words than observed ones
        alphabet_size = check_alphabet_size(alphabet_size, k_obs)
    h, se, big_n = _plugin_nats(c)
    if weights:
        return Estimate(h / _LN2 * f, float("nan"), estimator, 0, k_obs, base)
    if warn and big_n < 2:
        warnings.warn(
            f"only {big_n:g} sample: the estimate (0 bits plug-in, the prior's mean for NSB) says "
            "nothing about the source; use at least a few samples per possible word",
            UndersampledWarning,
            stacklevel=2,
        )
        warn = False
    if estimator == "nsb":
        if alphabet_size is None:
            raise InputError("estimator='nsb' needs the alphabet size (number of possible words)")
        k = check_alphabet_size(alphabet_size, k_obs)
        if k > MAX_NSB_ALPHABET:
            raise InputError(
                f"estimator='nsb': the alphabet of {alphabet_size:.3g} possible words is beyond "
                f"what NSB's integral resolves in floating point ({MAX_NSB_ALPHABET:.0e} words, "
                "about 996 binary variables); use fewer variables"
            )
        if warn and k_obs == big_n and k_obs > 1:
            warnings.warn(
                f"NSB: all {k_obs} samples are distinct (no coincidences); the estimate is "
                "dominated by the prior",
                UndersampledWarning,
                stacklevel=2,
            )
        if warn and k_obs < big_n:
            warn_if_undersampled(big_n, k_obs, estimator="nsb")
        mean, std = nsb_entropy(c, k)
        return Estimate(mean * f, std * f, "nsb", int(big_n), k_obs, base)
    if warn:
        warn_if_undersampled(big_n, k_obs, estimator=estimator)
    if estimator == "miller_madow":
        h += (k_obs - 1) / (2.0 * big_n)
    return Estimate(h / _LN2 * f, se / _LN2 * f, estimator, int(big_n), k_obs, base)


def entropy(
    x: Any, estimator: str = "plugin", alphabet_size: float | None = None, base: float = 2.0
) -> Estimate:
    """Entropy ``H(X)`` of the words (rows) of a ``(samples, variables)`` array, in units of
    ``log_base`` (default 2: bits).

    ``estimator`` is ``"plugin"``, ``"miller_madow"`` or ``"nsb"``. NSB uses ``alphabet_size``
    when given, else the product over columns of ``max(2, max symbol + 1)`` (``2**n`` for ``n``
    binary units). Returns an :class:`Estimate` (a float with ``.std``).
    """
    check_estimator(estimator)
    log_factor(base)
    a = as_symbols(x, "X")
    w = encode(a, validated=True)
    counts = w.counts()
    if alphabet_size is None:
        k = w.alphabet_size
    else:  # for every estimator: fewer possible words than observed ones is a contradiction
        k = check_alphabet_size(alphabet_size, int(np.count_nonzero(counts)))
    return entropy_from_counts(counts, estimator, k, base=base)


def conditional_entropy(x: Any, y: Any, estimator: str = "plugin", base: float = 2.0) -> float:
    """``H(X | Y) = H(X, Y) - H(Y)`` in units of ``log_base`` (default bits)."""
    check_estimator(estimator)
    f = log_factor(base)
    a, b = as_symbols(x, "X"), as_symbols(y, "Y")
    same_samples(X=a, Y=b)
    wa, wb = encode(a, validated=True), encode(b, validated=True)
    wab = join(wa, wb)
    h_ab = entropy_from_counts(wab.counts(), estimator, wab.alphabet_size)
    h_b = entropy_from_counts(wb.counts(), estimator, wb.alphabet_size, warn=False)
    return (float(h_ab) - float(h_b)) * f
