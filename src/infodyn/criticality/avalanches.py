"""Neuronal avalanches (Beggs & Plenz 2003) and the crackling-noise relation.

An avalanche is a maximal run of consecutive bins whose population count exceeds ``threshold``
(0 by default: non-empty bins) bounded by bins at or below it. Its **size** ``S`` is the number of
events in the run (minus ``threshold`` per bin when a threshold is set) and its **duration**
``D`` the number of bins. Runs touching the start or end of a trial are incomplete and dropped by
default. At criticality ``P(S) ~ S^-alpha_S`` (3/2), ``P(D) ~ D^-alpha_D`` (2) and
``<S>(D) ~ D^gamma`` with the crackling-noise relation
``gamma = (alpha_D - 1)/(alpha_S - 1)`` (Sethna, Dahmen & Myers 2001; Friedman et al. 2012).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.criticality._common import as_counts, warn
from infodyn.errors import is_finite_number, require, require_flag, whole_number
from infodyn.memory import require_memory


@dataclass(frozen=True)
class Avalanches:
    """Avalanche sizes and durations (bins), with their trial and start bin."""

    sizes: np.ndarray
    durations: np.ndarray
    trials: np.ndarray
    starts: np.ndarray
    truncated: np.ndarray
    bin_ms: float = 1.0

    def __len__(self) -> int:
        return int(self.sizes.size)

    @property
    def n(self) -> int:
        return int(self.sizes.size)

    def mean_size_by_duration(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(D, <S>(D), count(D))`` for every observed duration ``D``."""
        require(self.n > 0, "there are no avalanches")
        d, inv, cnt = np.unique(self.durations, return_inverse=True, return_counts=True)
        mean = np.bincount(inv, weights=self.sizes.astype(float)) / cnt
        return d, mean, cnt


def avalanches(activity: Any, threshold: float = 0.0, drop_edges: bool = True) -> Avalanches:
    """Segment population activity ``(T,)`` / ``(trials, T)`` into avalanches, trial by trial.

    ``activity`` may be counts, a :class:`~infodyn.criticality.activity.PopulationActivity`
    (e.g. binned at the mean inter-event interval) or a SpikeTrain (one bin per step).
    """
    drop_edges = require_flag("drop_edges", drop_edges)
    a, dt = as_counts(activity)
    require(  # True was told "must be >= 0", which it is
        is_finite_number(threshold) and threshold >= 0,
        f"threshold must be a finite number >= 0 (counts a bin must exceed), got {threshold!r:.30}",
    )
    n, t = a.shape
    require_memory(  # masks, excess and its cumulative sum: 10^7 bins took 0.55 GB
        48 * n * (t + 2),
        f"the avalanches of {n:,} trial(s) x {t:,} bins",
        "a coarser bin (--avalanche-bin-ms), or fewer or shorter trials",
    )
    active = a > threshold
    # a silent guard column after every trial keeps runs from crossing trials
    padded = np.zeros((n, t + 2), dtype=np.int8)
    padded[:, 1:-1] = active
    flat = padded.ravel()
    edges = np.diff(flat)
    starts = np.flatnonzero(edges == 1)  # index in flat of the bin before the run -> +1
    ends = np.flatnonzero(edges == -1)  # last active bin index in flat
    first = starts + 1
    trial = first // (t + 2)
    start_bin = first % (t + 2) - 1
    end_bin = ends % (t + 2) - 1
    dur = end_bin - start_bin + 1
    # each run's events (summed within the run, not as differences of one running sum), then
    # minus the threshold per bin: one rounding (2.9, not 2.8999999999999995)
    inside = np.zeros((n, t + 2))
    inside[:, 1:-1] = np.where(active, a, 0.0)
    bounds = np.column_stack([first, ends + 1]).ravel()
    size = np.add.reduceat(inside.ravel(), bounds)[::2] if bounds.size else np.zeros(0)
    if threshold:
        size = size - threshold * dur
    touches = (start_bin == 0) | (end_bin == t - 1)
    if drop_edges:
        keep = ~touches
        trial, start_bin, dur, size, touches = (
            trial[keep],
            start_bin[keep],
            dur[keep],
            size[keep],
            touches[keep],
        )
    sizes = np.rint(size).astype(np.int64) if np.all(size == np.rint(size)) else size
    if sizes.size == 0:
        warn("no complete avalanche found: the activity has no bounded run of active bins")
    return Avalanches(
        sizes=sizes,
        durations=dur.astype(np.int64),
        trials=trial.astype(np.int64),
        starts=start_bin.astype(np.int64),
        truncated=touches,
        bin_ms=1.0 if dt is None else dt,
    )


@dataclass(frozen=True)
class CracklingResult:
    """Crackling-noise check: predicted ``gamma`` from the exponents vs the fitted slope, with
    their standard errors, the difference and whether it lies within two of its standard
    errors (``consistent``; None where an error is unknown or nothing was fitted)."""

    gamma_predicted: float
    gamma_fitted: float
    gamma_fitted_stderr: float
    intercept: float
    duration_range: tuple[int, int] | None
    n_durations: int
    gamma_predicted_stderr: float = float("nan")

    @property
    def difference(self) -> float:
        return self.gamma_fitted - self.gamma_predicted

    @property
    def difference_stderr(self) -> float:
        return float(np.hypot(self.gamma_predicted_stderr, self.gamma_fitted_stderr))

    @property
    def consistent(self) -> bool | None:
        """``|difference| <= 2 difference_stderr`` (None: an error or a value is NaN)."""
        d, se = self.difference, self.difference_stderr
        return None if not (np.isfinite(d) and np.isfinite(se)) else bool(abs(d) <= 2.0 * se)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "gamma_predicted": self.gamma_predicted,
            "gamma_predicted_stderr": self.gamma_predicted_stderr,
            "gamma_fitted": self.gamma_fitted,
            "gamma_fitted_stderr": self.gamma_fitted_stderr,
            "difference": self.difference,
            "difference_stderr": self.difference_stderr,
            "consistent": self.consistent,
            "intercept_log10": self.intercept,
            "duration_range": None if self.duration_range is None else list(self.duration_range),
            "n_durations": self.n_durations,
        }
        return {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in out.items()
        }


def fit_mean_size_by_duration(
    av: Avalanches, d_min: int = 1, d_max: int | None = None, min_count: int = 5
) -> tuple[float, float, float, tuple[int, int], int]:
    """Slope of ``log10 <S>(D)`` on ``log10 D``; returns ``(gamma, stderr, intercept, range, n)``.

    Ordinary least squares over durations in ``[d_min, d_max]`` seen at least ``min_count``
    times (each duration one point, as in Friedman et al. 2012).
    """
    d_min = whole_number(d_min, "d_min", minimum=1)
    min_count = whole_number(min_count, "min_count", minimum=1)
    if d_max is not None:
        d_max = whole_number(d_max, "d_max", minimum=d_min)
    require(  # an AttributeError ("'str' object has no attribute 'mean_size_by_duration'")
        isinstance(av, Avalanches), f"av must be the Avalanches of avalanches(), got {av!r:.60}"
    )
    d, mean, cnt = av.mean_size_by_duration()
    sel = (d >= d_min) & (cnt >= min_count)
    if d_max is not None:
        sel &= d <= d_max
    nsel = int(sel.sum())
    if nsel < 3:
        warn(f"only {nsel} durations with >= {min_count} avalanches: <S>(D) slope not meaningful")
        top = int(d_max) if d_max is not None else int(d.max())
        return float("nan"), float("nan"), float("nan"), (int(d_min), top), nsel
    x, y = np.log10(d[sel]), np.log10(mean[sel])
    A = np.column_stack([x, np.ones_like(x)])
    coef, res, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    s2 = float(resid @ resid) / max(nsel - 2, 1)
    cov = s2 * np.linalg.inv(A.T @ A)
    rng = (int(d[sel].min()), int(d[sel].max()))
    return float(coef[0]), float(np.sqrt(cov[0, 0])), float(coef[1]), rng, nsel


def crackling_relation(
    av: Avalanches,
    alpha_size: float,
    alpha_duration: float,
    d_min: int = 1,
    d_max: int | None = None,
    min_count: int = 5,
    alpha_size_err: float = float("nan"),
    alpha_duration_err: float = float("nan"),
) -> CracklingResult:
    """Compare ``gamma = (alpha_D - 1)/(alpha_S - 1)`` with the fitted ``<S>(D) ~ D^gamma`` slope
    (Sethna, Dahmen & Myers 2001; Friedman et al. 2012, PRL 108:208102).

    Use ``alpha_size``/``alpha_duration`` from :func:`~infodyn.criticality.fit_power_law`, and
    their ``sigma`` as ``alpha_size_err``/``alpha_duration_err``: the prediction's standard
    error is then propagated to first order, treating the two fits as independent,
    ``se^2 = (se_D / (alpha_S - 1))^2 + ((alpha_D - 1) se_S / (alpha_S - 1)^2)^2``, and
    ``consistent`` says whether the difference lies within two standard errors. ``d_min`` is
    typically the duration fit's ``xmin`` (a whole-valued float, as fits give it, is taken). A
    NaN exponent (a fit that could not be made) gives a NaN prediction with a warning; the
    fitted slope is still reported.
    """
    if isinstance(d_min, float | np.floating) and float(d_min).is_integer():
        d_min = int(d_min)  # PowerLawFit.xmin is a float (15.0 was "not a whole number")
    exponents = {"alpha_size": alpha_size, "alpha_duration": alpha_duration}
    for name, value in exponents.items():
        require(  # True was an exponent of 1; 10**30 (an int NumPy cannot hold) a raw TypeError
            isinstance(value, float | np.floating) or is_finite_number(value),
            f"{name} must be a number",
        )
        value = exponents[name] = float(value)
        require(  # inf gave a predicted gamma of 0 (or inf)
            np.isnan(value) or (np.isfinite(value) and value > 1),
            f"{name} must be a finite number > 1 (or NaN), got {value}",
        )
    missing = [name for name, value in exponents.items() if np.isnan(value)]
    if missing:
        warn(f"{' and '.join(missing)} NaN (no power-law fit): the predicted gamma is NaN")
    alpha_size, alpha_duration = exponents["alpha_size"], exponents["alpha_duration"]
    errs = []
    for name, err in (
        ("alpha_size_err", alpha_size_err),
        ("alpha_duration_err", alpha_duration_err),
    ):
        require(
            isinstance(err, float | np.floating | int) and not isinstance(err, bool),
            f"{name} must be a number (a standard error >= 0, or NaN)",
        )
        require(np.isnan(err) or err >= 0, f"{name} must be >= 0 (or NaN), got {err}")
        errs.append(float(err))
    gp = (alpha_duration - 1.0) / (alpha_size - 1.0)
    gp_se = float(
        np.hypot(
            errs[1] / (alpha_size - 1.0), (alpha_duration - 1.0) * errs[0] / (alpha_size - 1.0) ** 2
        )
    )
    g, se, b, rng, nsel = fit_mean_size_by_duration(av, d_min, d_max, min_count)
    return CracklingResult(gp, g, se, b, rng if nsel else None, nsel, gp_se)
