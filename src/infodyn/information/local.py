"""Local (pointwise) information dynamics, block entropy and excess entropy (plug-in).

Local values are the terms whose time average is the plug-in estimate (Lizier, Prokopenko &
Zomaya 2008, Phys. Rev. E 77:026110, eq. 3; Lizier, Prokopenko & Zomaya 2012, Inf. Sci.
208:39, eq. 8), with ``x_t^(k) = (x_{t-1}, ..., x_{t-k})``:

* local transfer entropy ``te_t = log p(y_t | y_t^(k), x_{t-d+1}^(l)) / p(y_t | y_t^(k))``
  (source history ``(x_{t-d}, ..., x_{t-d-l+1})``, ``d = delay``);
* local active information storage ``a_t = log p(x_t^(k), x_t) / (p(x_t^(k)) p(x_t))``.

Both can be negative (the source or the past misinforms about that step). Probabilities are
relative frequencies pooled over trials, as in :mod:`.temporal` (histories never cross trials).

Block entropy ``H(k) = H(X_t, ..., X_{t+k-1})`` and the excess entropy estimate
``E(k) = H(k) - k h(k)`` with ``h(k) = H(k) - H(k-1)`` (Crutchfield & Feldman 2003, Chaos
13:25, eqs. 17 and 43; ``E(k) = sum_{L <= k} (h(L) - h(k))``), exact for a Markov chain of order
< k. Every function takes ``base`` (default 2: bits; ``math.e``: nats).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.information._inputs import log_factor
from infodyn.information.estimators import _LN2, _plugin_nats
from infodyn.information.temporal import _positive, _same_shape, _series, te_span
from infodyn.information.words import Words, _need_steps, encode, join, lagged


def _p(words: Words) -> np.ndarray:
    """Relative frequency of each sample's word."""
    c = np.bincount(words.labels, minlength=words.n_labels).astype(np.float64)
    return c[words.labels] / words.labels.size


def _per_trial(values: np.ndarray, n_trials: int) -> np.ndarray:
    return values.reshape(n_trials, -1)


def local_transfer_entropy(
    source: Any, target: Any, k: int = 1, l: int = 1, delay: int = 1, base: float = 2.0
) -> np.ndarray:
    """Local transfer entropy ``(trials, steps - span)``; its mean is the plug-in TE.

    ``span = max(k, delay + l - 1)`` steps at the start of every trial have no value.
    """
    k, l, delay = _positive("k", k), _positive("l", l), _positive("delay", delay)
    x, y = _series(source, "source"), _series(target, "target")
    _same_shape(source=x, target=y)
    span = te_span(y.shape[1], k, l, delay)
    future = encode(lagged(y, [0], "target", span), validated=True)
    y_past = encode(lagged(y, range(1, k + 1), "target", span), validated=True)
    x_past = encode(lagged(x, range(delay, delay + l), "source", span), validated=True)
    both = join(y_past, x_past)
    num = _p(join(future, both)) * _p(y_past)
    den = _p(both) * _p(join(future, y_past))
    return _per_trial(np.log2(num / den) * log_factor(base), y.shape[0])


def local_active_information_storage(x: Any, k: int = 1, base: float = 2.0) -> np.ndarray:
    """Local active information storage ``(trials, steps - k)``; its mean is the plug-in AIS."""
    k = _positive("k", k)
    r = _series(x, "x")
    future = encode(lagged(r, [0], "x", k), validated=True)
    past = encode(lagged(r, range(1, k + 1), "x", k), validated=True)
    ratio = _p(join(past, future)) / (_p(past) * _p(future))
    return _per_trial(np.log2(ratio) * log_factor(base), r.shape[0])


def block_entropy(x: Any, k: int, base: float = 2.0) -> float:
    """Plug-in entropy of the length-``k`` blocks ``(x_t, ..., x_{t+k-1})``, pooled over trials."""
    k = _positive("k", k)
    r = _series(x, "x")
    _need_steps("x", r.shape[1], k - 1, f"blocks of k = {k} steps")
    words = encode(lagged(r, range(k), "x", k - 1), validated=True)
    return float(_plugin_bits(words) * log_factor(base))  # (was np.float64)


def _plugin_bits(words: Words) -> float:
    """Plug-in entropy of ``words`` in bits, never -0.0 (a constant series gave -0.0)."""
    return _plugin_nats(words.counts())[0] / _LN2


def excess_entropy(x: Any, k: int, base: float = 2.0) -> float:
    """Excess entropy estimate ``E(k) = H(k) - k (H(k) - H(k-1))`` (``H(0) = 0``), ``k >= 1``.

    ``E(k)`` is the information the past shares with the future as seen through blocks of k;
    for a Markov chain of order ``r`` it equals ``I(past^(r); future^(r))`` once ``k > r``.
    Both block entropies are computed on the same time steps (``t = k-1 ..`` of each trial).
    """
    k = _positive("k", k)
    r = _series(x, "x")
    _need_steps("x", r.shape[1], k - 1, f"blocks of k = {k} steps")
    h = []
    for size in (k - 1, k):
        if size == 0:
            h.append(0.0)
            continue
        h.append(_plugin_bits(encode(lagged(r, range(size), "x", k - 1), validated=True)))
    return float((h[1] - k * (h[1] - h[0])) * log_factor(base))
