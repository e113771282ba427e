"""Plug-in and bias-corrected entropies written out from ``np.unique`` counts in float64, as
independent references for the information tests (no infodyn estimator is used, except NSB of
one word array, whose own tests check it against numerical integration)."""

from __future__ import annotations

import math

import numpy as np

import infodyn.information as I


def h_plugin_nats(counts) -> float:
    c = np.asarray(counts, dtype=float)
    c = c[c > 0]
    p = c / c.sum()
    return float(-(p * np.log(p)).sum())


def h_rows(rows, estimator="plugin") -> float:
    """Plug-in or Miller-Madow entropy (bits) of the rows, from np.unique counts."""
    _, c = np.unique(np.asarray(rows).reshape(len(rows), -1), axis=0, return_counts=True)
    h = h_plugin_nats(c)
    if estimator == "miller_madow":
        h += (c.size - 1) / (2.0 * c.sum())
    return h / math.log(2)


def nsb(rows) -> float:
    """NSB entropy (bits) of the rows; alphabet = product of the columns' max(2, max + 1)."""
    return float(I.entropy(np.asarray(rows), "nsb"))


def cmi_rows(a, b, c) -> float:
    """Plug-in I(a; b | c) (bits) of row arrays (a column is a 1-D array):
    H(a, c) + H(b, c) - H(c) - H(a, b, c)."""
    a, b, c = (np.asarray(v).reshape(len(v), -1) for v in (a, b, c))
    return h_rows(np.c_[a, c]) + h_rows(np.c_[b, c]) - h_rows(c) - h_rows(np.c_[a, b, c])


def te_reference(x, y, k, l, delay):
    """Plug-in I(Y_t; X_{t-d}, ..., X_{t-d-l+1} | Y_{t-1}, ..., Y_{t-k}) (bits) of one trial,
    rows written out by index arithmetic, t from max(k, d + l - 1)."""
    span = max(k, delay + l - 1)
    fut, src, past = [], [], []
    for t in range(span, x.size):
        fut.append([y[t]])
        src.append([x[t - delay - j] for j in range(l)])
        past.append([y[t - j] for j in range(1, k + 1)])
    return cmi_rows(np.array(fut), np.array(src), np.array(past))


def mi_plugin_bits(a, b) -> float:
    return h_rows(a) + h_rows(b) - h_rows(np.c_[a.reshape(len(a), -1), b.reshape(len(b), -1)])
