"""Training hooks that join learning to the other packages (which ``learning`` never imports).

:func:`branching_hook` adds the branching ratio of each training batch's population activity to
the trainer's metrics; :func:`branching_estimate` is that estimate on its own.
"""

from __future__ import annotations

import warnings

import numpy as np

from infodyn.criticality.branching import branching_ratio
from infodyn.learning.hooks import StepInfo, TrainHook, metric_hook


def branching_estimate(activity: np.ndarray) -> float:
    """Branching ratio of population counts ``activity`` (B, T): the naive lag-1 regression slope
    ``m`` of ``A[t+1]`` on ``A[t]`` (Wilting & Priesemann 2018, Nat. Commun. 9:2325, eq. 2),
    trial-separated (:func:`infodyn.criticality.branching_ratio` with ``method="naive"``).

    NaN for fewer than 3 steps, constant activity or whatever else makes the estimate not
    meaningful (its warning is not repeated: a metric of every iteration).
    """
    a = np.asarray(activity, dtype=np.float64)
    if a.shape[-1] < 3 or np.all(a == a.flat[0]):
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(branching_ratio(a, method="naive", n_boot=0).m)


def _branching(info: StepInfo) -> float:
    return branching_estimate(info.activity)


def branching_hook() -> TrainHook:
    """A trainer hook recording ``branching`` (:func:`branching_estimate`) every iteration."""
    return metric_hook("branching", _branching)
