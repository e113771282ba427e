"""Shared matplotlib set-up: a non-interactive backend and a consistent style."""

from __future__ import annotations

import sys
from typing import Any

import matplotlib
import numpy as np


def pyplot() -> Any:
    """Return ``matplotlib.pyplot``, with the Agg backend (no screen needed) unless pyplot was
    already imported: then the caller chose a backend (a notebook's inline one, say), and
    switching it would stop the caller's own figures from showing."""
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def label_matrix_ticks(ax: Any, ids: Any, axes: str = "xy", max_ticks: int = 10) -> None:
    """Label the rows (``"y"``) and columns (``"x"``) of a matrix drawn with ``imshow`` (or bars
    drawn at 0, 1, ...) by ``ids``, the unit or bit each stands for, at up to ``max_ticks``
    whole positions: a matrix of a selection of units was labelled by position in the
    selection (0.5 steps, "unit 1" for unit 41)."""
    ids = np.asarray(ids)
    pos = np.unique(np.linspace(0, ids.size - 1, min(max_ticks, ids.size)).round().astype(int))
    labels = [str(v) for v in ids[pos]]
    for name in axes:
        getattr(ax, f"set_{name}ticks")(pos, labels)
