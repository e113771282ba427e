"""Shared matplotlib set-up: a non-interactive backend and a consistent style."""

from __future__ import annotations

import sys
from typing import Any

import matplotlib


def pyplot() -> Any:
    """Return ``matplotlib.pyplot``, with the Agg backend (no screen needed) unless pyplot was
    already imported: then the caller chose a backend (a notebook's inline one, say), and
    switching it would stop the caller's own figures from showing."""
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False})
    return plt
