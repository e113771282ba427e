"""What binned responses of a population say about the stimulus, and how redundant they are.

:func:`response_information` estimates ``I(S; W)`` between the stimulus ``S`` of each trial and
the binary word ``W`` of a subset of units in each bin of the response (plug-in estimate minus
its mean under shuffled stimulus labels: the bootstrap (stimulus-label permutation) bias
correction reviewed by Panzeri et al. 2007, J. Neurophysiol. 98:1064, not their I_sh, which
shuffles responses within a stimulus), and the plug-in total correlation of the same
words (Watanabe 1960). :func:`response_gaussian_tc` is the total correlation of all units'
binned counts under a Gaussian model (:func:`~infodyn.information.gaussian_total_correlation`).

Both take ``base`` (default 2: bits); the result keys of :func:`response_information` name the
unit (``mi_bits`` for base 2, ``mi_nats`` for base e, ``mi_base3`` for base 3, ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.data.binning import check_spike_counts
from infodyn.data.notes import muted_warnings
from infodyn.errors import as_array, make_rng, require, require_flag, whole_number
from infodyn.information._inputs import as_symbols, log_factor, unit_key
from infodyn.information.gaussian import gaussian_total_correlation
from infodyn.information.measures import mutual_information, total_correlation
from infodyn.information.words import spike_words


def response_words(z: Any, start: int = 0, bin_steps: int = 10, binary: bool = True) -> np.ndarray:
    """(trials, n_bins, n) words of responses ``z`` (trials, T, n) from step ``start`` on, in
    bins of ``bin_steps`` (a trailing partial bin is dropped): did each unit spike in each bin
    (``binary``), or how often."""
    binary = require_flag("binary", binary)
    z = as_array(z, "responses")
    require(z.ndim == 3, f"responses must be (trials, T, n), got shape {z.shape}")
    check_spike_counts(z, "z (the responses)")
    start = whole_number(start, "start")
    bin_steps = whole_number(bin_steps, "bin_steps", minimum=1)
    w = z[:, start:]
    require(
        w.shape[1] // bin_steps >= 1,
        f"the response window (steps {start}..{z.shape[1] - 1}) is shorter than one bin of "
        f"{bin_steps} steps",
    )
    words = spike_words(w, bin_steps, binary=binary)
    return words.reshape(z.shape[0], -1, z.shape[2]).astype(np.int64)


def response_information(
    z: np.ndarray,
    labels: np.ndarray,
    start: int = 0,
    bin_steps: int = 10,
    subset_size: int = 8,
    n_subsets: int = 20,
    n_shuffles: int = 20,
    seed: int = 0,
    base: float = 2.0,
) -> dict[str, float]:
    """I(stimulus; response) and the total correlation of binary response words, in units of
    ``log_base`` (default bits; the keys name the unit: ``mi_bits``, ``mi_nats``, ...).

    The response of a trial is cut into bins of ``bin_steps`` from ``start``; in each bin a
    subset of ``subset_size`` units gives a binary word (spiked or not). Samples are the
    (trial, bin) pairs; ``I(S; word)`` is the plug-in estimate minus the mean over
    ``n_shuffles`` permutations of the trial labels (the shuffle correction removes the
    plug-in's upward bias; bins of a trial move together). The estimate is averaged over
    ``n_subsets`` random subsets (all units when n <= subset_size); TC is the plug-in total
    correlation of the same words (the words' alphabet is at most 2^subset_size; 0 for words of
    one unit). Returns means and standard deviations over subsets.
    """
    log_factor(base)
    u = unit_key(base)
    z = as_array(z, "responses")
    # labels are categories: whole numbers (any sign), relabelled 0..k-1 (2.5 was truncated)
    labels = as_symbols(labels, "labels", check_sign=False)
    require(labels.shape[1] == 1, f"labels must be one label per trial, got {labels.shape}")
    labels = np.unique(labels[:, 0], return_inverse=True)[1].reshape(-1)
    subset_size = whole_number(subset_size, "subset_size", minimum=1)
    n_subsets = whole_number(n_subsets, "n_subsets", minimum=1)
    n_shuffles = whole_number(n_shuffles, "n_shuffles", minimum=1)
    require(
        z.ndim == 3 and z.shape[0] == labels.size,
        "z must be (trials, T, n) with one label per trial",
    )
    words = response_words(z, start, bin_steps)  # (trials, bins, n)
    n_tr, n_bins, n = words.shape
    rng = make_rng(seed)
    k = min(subset_size, n)
    subsets = (
        [np.arange(n)]
        if n <= subset_size
        else [rng.choice(n, size=k, replace=False) for _ in range(n_subsets)]
    )
    lab = np.repeat(labels, n_bins)
    mi, mi_raw, tc = [], [], []
    with muted_warnings():
        for sub in subsets:
            w = words[:, :, sub].reshape(-1, k)
            raw = mutual_information(lab, w, base=base)
            shuf = [
                mutual_information(np.repeat(rng.permutation(labels), n_bins), w, base=base)
                for _ in range(n_shuffles)
            ]
            mi_raw.append(raw)
            mi.append(raw - float(np.mean(shuf)))
            # one unit's word: TC = H(X_1) - H(X_1) = 0 (total_correlation needs two columns)
            tc.append(total_correlation(w, base=base) if k >= 2 else 0.0)
    return {
        f"mi_{u}": float(np.mean(mi)),
        f"mi_{u}_sd": float(np.std(mi)),
        f"mi_plugin_{u}": float(np.mean(mi_raw)),
        f"tc_{u}": float(np.mean(tc)),
        f"tc_{u}_sd": float(np.std(tc)),
        "subset_size": k,
        "n_subsets": len(subsets),
        "bin_steps": bin_steps,
        "n_samples": int(n_tr * n_bins),
    }


def response_gaussian_tc(
    z: Any, start: int = 0, bin_steps: int = 1, ridge: float = 1e-4, base: float = 2.0
) -> float:
    """Gaussian total correlation (units of ``log_base``, default bits) of the spike counts of
    the active units of responses ``z`` (trials, T, n) in bins of ``bin_steps`` from ``start``,
    pooled over trials and bins: the population covariance (divisor N) with ``ridge`` on its
    diagonal, the statistic the :class:`~infodyn.learning.TotalCorrelationPenalty` trains on.
    NaN with fewer than two active units."""
    log_factor(base)
    w = response_words(z, start, bin_steps, binary=False).reshape(-1, np.shape(z)[2])
    live = w.var(axis=0) > 0
    if live.sum() < 2:
        return float("nan")
    return gaussian_total_correlation(w[:, live], ridge=ridge, ddof=0, base=base)
