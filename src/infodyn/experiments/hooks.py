"""Training hooks that join learning to the other packages (which ``learning`` never imports).

:func:`branching_hook` adds the branching ratio of each training batch's population activity to
the trainer's metrics (naive or multistep regression); :func:`branching_estimate` is that
estimate on its own.
"""

from __future__ import annotations

import numpy as np

from infodyn.criticality.branching import branching_ratio
from infodyn.data.notes import muted_warnings
from infodyn.errors import finite_reals, require, require_choice, whole_number
from infodyn.learning.hooks import TrainHook, metric_hook

#: the estimators a :func:`branching_hook` can record, and the metric each writes
BRANCHING_METRICS = {"naive": "branching", "mr": "branching_mr"}


def _check_method(method: str) -> None:
    require_choice("method", method, sorted(BRANCHING_METRICS))


def branching_estimate(activity: np.ndarray, method: str = "naive", bin_steps: int = 1) -> float:
    """Branching ratio of population counts ``activity`` (B, T), trial-separated, in bins of
    ``bin_steps`` steps (summed; a partial last bin dropped).

    ``method="naive"``: the lag-1 regression slope ``m`` of ``A[t+1]`` on ``A[t]`` (Wilting &
    Priesemann 2018, Nat. Commun. 9:2325, eq. 2), biased toward 0 when only part of the
    network is seen. ``"mr"``: multistep regression, the slopes ``r_k`` of ``A[t+k]`` on
    ``A[t]`` fitted by ``r_k = b m^k`` (same paper), which subsampling leaves unbiased;
    :func:`infodyn.criticality.branching_ratio` with its default lags.

    NaN for fewer than 3 steps, constant activity or whatever else makes the estimate not
    meaningful (its warning is not repeated: a metric of every iteration).
    """
    _check_method(method)
    bin_steps = whole_number(bin_steps, "bin_steps", minimum=1)  # 0 and -3 were taken as 1
    a = finite_reals(activity, "activity")  # text, NaN and () were raw NumPy errors
    require(
        a.ndim in (1, 2) and a.size > 0,
        f"activity must be population counts (trials, steps), got shape {a.shape}",
    )
    if bin_steps > 1:  # the analysis's bins: on 1-ms bins refractoriness gave m about 0
        n = a.shape[-1] // bin_steps
        a = a[..., : n * bin_steps].reshape(*a.shape[:-1], n, bin_steps).sum(axis=-1)
    if a.shape[-1] < 3 or np.all(a == a.flat[0]):
        return float("nan")
    with muted_warnings():
        return float(branching_ratio(a, method=method, n_boot=0).m)


def branching_hook(method: str = "naive", bin_steps: int = 1) -> TrainHook:
    """A trainer hook recording the branching ratio of each training batch's population
    activity (:func:`branching_estimate`, in bins of ``bin_steps`` steps) every iteration:
    ``branching`` (naive) or ``branching_mr`` (multistep regression),
    :data:`BRANCHING_METRICS`. Two hooks record both."""
    _check_method(method)  # here, not at the first iteration
    bin_steps = whole_number(bin_steps, "bin_steps", minimum=1)
    return metric_hook(
        BRANCHING_METRICS[method],
        lambda info: branching_estimate(info.activity, method, bin_steps),
    )
