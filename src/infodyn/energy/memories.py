"""Memories over a recording: labels, basins, the Markov chain of memories, triggered averages.

Each word of a recording descends to a memory (fixed point); the sequence of memory labels is a
coarse-grained trajectory (hdnet's "Markov chain of memories"). Its empirical transition matrix
``P[a, b] = N(a -> b) / sum_c N(a -> c)``, pi (the empirical label frequency, which
approximates the stationary distribution of P) and entropy rate
``H = -sum_a pi_a sum_b P[a, b] log2 P[a, b]`` (bits per step; Cover & Thomas 2006, Thm. 4.2.4)
summarise the dynamics; the memory-triggered average is the mean stimulus around the times a
memory is visited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.energy._checks import (
    as_binary,
    flip_counts,
    positive_int,
    require_model,
    rng_seed,
    seed_plus,
)
from infodyn.energy.codes import recovery
from infodyn.errors import (
    array_or_none,
    as_array,
    finite_reals,
    require,
    require_flag,
    whole_number,
)
from infodyn.memory import require_memory


def memory_labels(model: Any, X: Any, memories: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Descend every row of X and label it by the memory it reaches.

    With ``memories`` given, rows ending elsewhere get label -1; otherwise the memories are the
    distinct end points, ordered by how often they are reached (most frequent first).
    Returns ``(labels (M,), memories (K, n))``.
    """
    require_model(model)
    X = as_binary(X, n=model.n)
    ends = model.descend(X)
    if memories is None:
        mem, inverse, counts = np.unique(ends, axis=0, return_inverse=True, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return rank[inverse.reshape(-1)], mem[order]
    mem = as_binary(memories, "memories", n=model.n)
    lookup = {row.tobytes(): i for i, row in enumerate(mem)}
    labels = np.array([lookup.get(row.tobytes(), -1) for row in ends], dtype=np.int64)
    return labels, mem


@dataclass(frozen=True)
class MarkovChain:
    """Transition statistics of a label sequence (labels 0..K-1)."""

    counts: np.ndarray
    transition: np.ndarray
    stationary: np.ndarray
    entropy_rate_bits: float
    stationary_entropy_bits: float


def _segments(segments: Any, size: int) -> np.ndarray:
    """``segments`` checked: one finite trial id for each of ``size`` labels."""
    seg = as_array(segments, "segments").reshape(-1)
    require(seg.size == size, "segments must match labels in length")
    require(  # NaN ids differ from themselves: every transition was cut (entropy rate 0)
        seg.dtype.kind in "biu" or (seg.dtype.kind == "f" and bool(np.all(np.isfinite(seg)))),
        "segments must be finite numbers (one trial id per label)",
    )
    return seg


def markov_chain(labels: Any, n_states: int | None = None, segments: Any = None) -> MarkovChain:
    """Transition counts and matrix of a label sequence.

    Negative labels (unknown memories) break the chain; ``segments`` (same length as labels)
    marks trials, and no transition is counted across a segment boundary. Rows never left have
    a self-transition of 1. The stationary distribution is the empirical label frequency.
    """
    lab = as_array(labels, "labels")
    require(  # 2-D labels were flattened and counted across row ends
        lab.ndim == 1, f"labels must be one 1-D sequence (trials: segments), got {lab.shape}"
    )
    require(lab.size >= 2, "a Markov chain needs at least two labels")
    require(lab.dtype.kind in "iu", "labels must be integers")
    require(  # negative labels are unknown memories: a chain of none has no states
        lab.max() >= 0, "every label is negative (an unknown memory): there is no chain to count"
    )
    K = int(lab.max()) + 1 if n_states is None else positive_int(n_states, "n_states")
    require(lab.max() < K, "a label exceeds n_states")
    require_memory(  # counts, P, logs and their products (20,000 states: a raw 3 GiB error)
        40.0 * K * K,
        f"the {K:,} x {K:,} transition matrix",
        "fewer states (the most frequent memories, the others labelled -1)",
    )
    a, b = lab[:-1], lab[1:]
    ok = (a >= 0) & (b >= 0)
    if segments is not None:
        seg = _segments(segments, lab.size)
        ok &= seg[:-1] == seg[1:]
    counts = np.zeros((K, K), dtype=np.int64)
    np.add.at(counts, (a[ok], b[ok]), 1)
    rows = counts.sum(1, keepdims=True)
    P = np.where(rows > 0, counts / np.maximum(rows, 1), np.eye(K))
    freq = np.bincount(lab[lab >= 0], minlength=K).astype(np.float64)
    pi = freq / max(freq.sum(), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(P > 0, np.log2(P), 0.0)
        # (+ 0.0: one state gave -0.0 bits, read as a negative entropy in results.json)
        h_rate = float(-np.sum(pi[:, None] * P * logs)) + 0.0
        h_stat = float(-np.sum(np.where(pi > 0, pi * np.log2(pi), 0.0))) + 0.0
    return MarkovChain(counts, P, pi, h_rate, h_stat)


def memory_triggered_average(
    labels: Any,
    stimulus: Any,
    n_memories: int | None = None,
    window: tuple[int, int] = (10, 0),
    onsets_only: bool = True,
    segments: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean stimulus around visits of each memory.

    ``stimulus`` is (T, ...) aligned with ``labels`` (T,); ``window = (pre, post)`` steps. A
    visit is a step with that label (``onsets_only``: the first step of each run). ``segments``
    (one trial id a label, as in :func:`markov_chain`): a run starts afresh at each trial's first
    step, and a window does not reach across a trial's bounds (trials joined end to end counted
    a memory that went on from one trial into the next as no visit). Returns ``(averages (K,
    pre + post + 1, ...), n_events (K,))``; memories without events get NaN.
    """
    onsets_only = require_flag("onsets_only", onsets_only)
    lab = as_array(labels, "labels")
    require(lab.ndim == 1 and lab.size >= 1, f"labels must be a non-empty 1-D array: {lab.shape}")
    require(lab.dtype.kind in "iu", f"labels must be integers (memory ids), got {lab.dtype}")
    stim = finite_reals(stimulus, "stimulus")
    require(stim.ndim >= 1 and stim.shape[0] == lab.size, "stimulus and labels differ in length")
    require(  # (1,) gave an IndexError, None a TypeError, (1.9, 0.9) the window (1, 0)
        getattr(array_or_none(window), "shape", None) == (2,),
        f"window must be a pair (pre, post) of whole numbers of steps, got {window!r}",
    )
    pre, post = whole_number(window[0], "window's pre"), whole_number(window[1], "window's post")
    K = int(lab.max()) + 1 if n_memories is None else positive_int(n_memories, "n_memories")
    require(  # the visits to memories >= n_memories were left out without a word
        int(lab.max()) < K, f"a label ({int(lab.max())}) exceeds n_memories ({K})"
    )
    seg = None if segments is None else _segments(segments, lab.size)
    events = np.ones(lab.size, dtype=bool)
    if onsets_only:
        events[1:] = lab[1:] != lab[:-1]
        if seg is not None:
            events[1:] |= seg[1:] != seg[:-1]
    lags = np.arange(-pre, post + 1)
    out = np.full((K, lags.size, *stim.shape[1:]), np.nan)
    n_events = np.zeros(K, dtype=np.int64)
    for k in range(K):
        t = np.flatnonzero(events & (lab == k))
        t = t[(t - pre >= 0) & (t + post < lab.size)]
        if seg is not None:  # the whole window within the event's trial
            t = t[(seg[t - pre] == seg[t]) & (seg[t + post] == seg[t])]
        n_events[k] = t.size
        if t.size:
            out[k] = stim[t[:, None] + lags[None, :]].mean(0)
    return out, n_events


def basin_profile(
    model: Any, memories: Any, ks: Any, n_trials: int = 20, seed: int = 0
) -> np.ndarray:
    """Fraction of ``k``-bit corruptions of each memory that descend back to it, (K, len(ks))."""
    require_model(model)
    mem = as_binary(memories, "memories", n=model.n)
    seed = rng_seed(seed)  # True was seed 1
    per_k = [
        recovery(model, mem, k, n_trials, seed_plus(seed, j)) for j, k in enumerate(flip_counts(ks))
    ]
    return np.stack([r["per_pattern"] for r in per_k], axis=1)
