"""Confidence intervals of the branching ratio from bootstrap replicates over trials.

Two constructions, chosen by ``branching_ratio(..., ci_method=...)``:

* ``"centred_percentile"`` (the default): ``m^ + f (Q_p(m*) - median(m*))`` for
  ``p = (1 -+ ci)/2``, the percentile interval of the replicates ``m*_b`` moved onto the estimate
  and widened by the small-sample factor ``f = t_{n-1}(p) / z(p) sqrt(n / (n - 1))`` of a
  bootstrap over ``n`` units (:func:`infodyn.criticality.mr_fit._interval`). One fit per replicate.
* ``"symmetric_t"``: the symmetric bootstrap-t (Hall 1988, Ann. Stat. 16:927, sec. 2-3; Hall 1992,
  *The Bootstrap and Edgeworth Expansion*, ch. 3). Each replicate ``b`` is studentized by the
  standard deviation ``s*_b`` of ``n_inner`` inner replicates (units drawn with replacement from
  the units of replicate ``b``), ``t*_b = (m*_b - m^) / s*_b``, and

      [m^ - q s, m^ + q s],   q = |t*|_(j),   j = ceil((B + 1) ci),   s = sd_b(m*_b),

  symmetric about the estimate on the scale of ``m``; ``|t*|_(j)`` is the j-th smallest of the
  ``B`` values, the order statistic that makes the Monte Carlo level exact (Davison & Hinkley
  1997, *Bootstrap Methods and their Application*, sec. 5.2). Its coverage error is
  ``O(n^-2)`` against ``O(n^-1)`` for percentile intervals (Hall 1988), bought with
  ``1 + n_inner`` fits per replicate.

Both need the replicates' fits only; :func:`replicate_interval` fits all outer replicates in one
vectorised call, all inner replicates in another, and builds the interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from infodyn.criticality.mr_fit import _interval
from infodyn.errors import require, require_choice

CI_METHODS = ("centred_percentile", "symmetric_t")


def check_ci_method(ci_method: str, n_inner: int) -> int:
    """Validate ``ci_method`` and ``n_inner`` (an integer >= 2); return ``n_inner`` as int."""
    require_choice("ci_method", ci_method, CI_METHODS)
    ok = isinstance(n_inner, (int, np.integer)) and not isinstance(n_inner, bool)
    require(ok and n_inner >= 2, f"n_inner must be an integer >= 2, got {n_inner!r}")
    return int(n_inner)


def inner_weights(w: np.ndarray, n_inner: int, rng: np.random.Generator) -> np.ndarray:
    """Unit multiplicities ``(B * n_inner, N)`` of the inner resamples.

    ``w`` (B, N) are the outer replicates' multiplicities (each row sums to N); inner resample
    ``j`` of replicate ``b`` (row ``b * n_inner + j``) draws N units with replacement from the N
    units (with repeats) of replicate ``b``.
    """
    nb, n = w.shape
    units = np.repeat(np.tile(np.arange(n), nb), np.rint(w).astype(np.int64).ravel())
    units = units.reshape(nb, n)
    pick = rng.integers(0, n, size=(nb, n_inner, n))
    drawn = np.take_along_axis(units[:, None, :], pick, axis=2).reshape(nb * n_inner, n)
    flat = drawn + n * np.arange(nb * n_inner)[:, None]
    return (
        np.bincount(flat.ravel(), minlength=nb * n_inner * n).reshape(nb * n_inner, n).astype(float)
    )


def _order_index(n: int, ci: float) -> int:
    """``ceil((n + 1) ci)``: the rank of the bootstrap-t quantile among ``n`` replicates (the
    tolerance absorbs rounding of ``(n + 1) ci``)."""
    return int(np.ceil((n + 1) * ci - 1e-9))


def _level_need(n: int, ci: float, ci_method: str) -> tuple[int, str]:
    """The replicates a ``ci`` interval needs, and what it reaches with ``n`` fewer than that
    (:func:`few_replicates_note`)."""
    if ci_method == "symmetric_t":
        need = next(b for b in range(1, 10**7) if _order_index(b, ci) <= b)
        return need, f"its level is at most {100 * n / (n + 1):.0f} %"
    need = math.ceil(2.0 / (1.0 - ci) - 1.0 - 1e-9)
    return need, "its ends are interpolated among the extreme replicates"


def few_replicates_note(n_boot: int, ci: float, ci_method: str) -> str | None:
    """The note for ``n_boot`` replicates too few for a ``ci`` interval, else None (it was
    reported as 95 % without a word: 75 % at most for the bootstrap-t at B = 3).

    Bootstrap-t: the ``ceil((B + 1) ci)``-th of B values exists only from the smallest B with
    ``ceil((B + 1) ci) <= B`` (19 at 95 %); below it the largest was taken, a level of at most
    ``B / (B + 1)``. Percentile: each tail needs a replicate beyond its quantile,
    ``B >= 2 / (1 - ci) - 1`` (39 at 95 %); below it the ends are interpolated among the
    extreme replicates. Replicates whose fit failed are left out of the interval too, which
    :func:`left_out_note` says (with this note for the replicates left)."""
    need, reach = _level_need(n_boot, ci, ci_method)
    if n_boot >= need:
        return None
    return (
        f"n_boot = {n_boot} replicates cannot resolve a {100 * ci:g} % {ci_method} interval "
        f"(it needs at least {need}): {reach}; use n_boot >= {max(100, need)}"
    )


def left_out_note(
    counts: tuple[int, int, int],
    m_ci: tuple[float, float],
    ci: float,
    ci_method: str,
    bias_correction: bool,
    naive: bool = False,
) -> list[str]:
    """The note (a list of none or one) for an interval that left replicates out, which it
    had done without a word. ``counts``: the replicates asked for, those with a finite fit, and
    those the interval used (the bootstrap-t also drops replicates with fewer than two finite
    inner fits or no spread among them: with few trials, one trial drawn over and over).

    For the bias-corrected fit, fits fail where the first-order correction does not hold, which
    is where the bias is largest, at the replicates of largest m (m = 0.9 on 10 trials of 100
    bins, seeds 0 and 1: 38 and 32 of 100 left out, their uncorrected m 0.857 and 0.863 against
    0.837 and 0.826 for those kept): the percentile interval's upper end may be too low, the
    symmetric bootstrap-t interval too narrow. Nothing when all were used or the interval is
    NaN. When the replicates left are too few for the level (and ``n_boot`` was not), the note
    says so, with the ``n_boot`` that would leave enough at the same rate of failures."""
    n_boot, n_fitted, n_used = counts
    if n_used >= n_boot or not np.all(np.isfinite(m_ci)):
        return []
    parts = []
    if n_fitted < n_boot:
        where = (
            "'s upper end may be too low" if ci_method != "symmetric_t" else " may be too narrow"
        )
        parts.append(
            f"{n_boot - n_fitted} have a finite-trial bias too large for the first-order "
            "correction (tau not small against the trial); they are the replicates of largest "
            f"m, so the interval{where}; use longer trials"
            + ("" if naive else " or a smaller kmax")
            if bias_correction
            else f"{n_boot - n_fitted} have slopes or a fit that are not finite"
        )
    if n_used < n_fitted:
        parts.append(
            f"{n_fitted - n_used} have fewer than two finite inner fits or no spread among "
            "them (with few trials a replicate can hold one trial over and over; use more trials)"
        )
    note = f"{n_boot - n_used} of {n_boot} bootstrap replicates are left out of the interval: "
    note += "; ".join(parts)
    need, reach = _level_need(n_used, ci, ci_method)
    if n_used < need <= n_boot:  # (fewer than n_boot needs: few_replicates_note said it)
        more = math.ceil(need * n_boot / max(n_used, 1))
        note += (
            f"; the {n_used} left cannot resolve a {100 * ci:g} % {ci_method} interval (it "
            f"needs at least {need}): {reach}; use n_boot >= {more}"
        )
    return [note]


def symmetric_t(est: float, boot: np.ndarray, inner: np.ndarray, ci: float) -> tuple[float, float]:
    """Symmetric bootstrap-t interval ``m^ -+ |t*|_(j) sd(m*)`` (module docstring).

    ``boot`` (B,) are the replicates' estimates, ``inner`` (B, n_inner) those of their inner
    replicates; NaN entries (failed fits) are left out, and replicates with fewer than two
    finite inner estimates or no inner spread (below 1e-6 of the outer one) are dropped. NaN
    with fewer than two usable replicates, and where the chosen ``|t*|`` is 0 (the usable
    replicates equal the estimate: with 2 trials, the replicates that hold both trials once;
    the others, one trial twice, have no inner spread), which had been an interval of zero
    width around m.
    """
    return _symmetric_t(est, boot, inner, ci)[0]


def _symmetric_t(
    est: float, boot: np.ndarray, inner: np.ndarray, ci: float
) -> tuple[tuple[float, float], int]:
    """:func:`symmetric_t` and the number of replicates it used."""
    finite = np.isfinite(inner)
    n_fin = finite.sum(axis=1)
    filled = np.where(finite, inner, 0.0)
    mean = filled.sum(axis=1) / np.maximum(n_fin, 1)
    dev = np.where(finite, inner - mean[:, None], 0.0)
    s_inner = np.sqrt((dev * dev).sum(axis=1) / np.maximum(n_fin - 1, 1))
    finite_boot = np.isfinite(boot)
    nan = (float("nan"), float("nan"))
    if finite_boot.sum() < 2:
        return nan, 0
    s = float(np.std(boot[finite_boot], ddof=1))
    # a replicate made of one unit repeated has no inner spread (zero up to rounding)
    use = finite_boot & (n_fin >= 2) & (s_inner > 1e-6 * s)
    if use.sum() < 2:
        return nan, 0
    t_abs = np.sort(np.abs(boot[use] - est) / s_inner[use])
    # the ceil((B + 1) ci)-th smallest of B values: P(|T| <= q) >= ci when T and the t*_b are
    # exchangeable (Davison & Hinkley 1997, sec. 5.2); too few: the largest (few_replicates_note)
    j = min(_order_index(t_abs.size, ci), t_abs.size)
    half = float(t_abs[j - 1]) * s
    if not half > 0:  # the replicates that vary were all dropped: no interval, not a point
        return nan, 0
    return (float(est - half), float(est + half)), t_abs.size


def replicate_interval(
    fit_m: Callable[[np.ndarray], np.ndarray],
    est: float,
    r_boot: np.ndarray,
    r_inner: np.ndarray | None,
    ci: float,
    n_units: int,
) -> tuple[tuple[float, float], np.ndarray, tuple[int, int, int]]:
    """The interval of ``est`` from the slopes of the replicates; returns ``(m_ci, m_boot,
    counts)``, ``counts`` the outer replicates given, those with a finite fit and those the
    interval was built from (0 when NaN), as :func:`left_out_note` takes them.

    ``fit_m(rows)`` gives ``m`` for each row of slopes; ``r_boot`` (B, K) are the outer
    replicates' slopes, ``r_inner`` (B * n_inner, K) the inner ones (``None``: centred
    percentile), fitted in two calls (so the outer fits do not depend on the inner rows).
    Rows with a non-finite slope are not fitted; ``m_boot`` holds the fits of the other outer
    replicates (NaN where a fit failed). The interval is NaN with fewer than two finite
    replicate estimates.
    """
    m_boot = _fit_finite(fit_m, r_boot)
    kept = m_boot[np.all(np.isfinite(r_boot), axis=1)]
    n_boot, n_fitted = m_boot.size, int(np.isfinite(m_boot).sum())
    if n_fitted < 2 or not np.isfinite(est):
        return (float("nan"), float("nan")), kept, (n_boot, n_fitted, 0)
    if r_inner is None:
        return _interval(est, m_boot, ci, n_units), kept, (n_boot, n_fitted, n_fitted)
    inner = _fit_finite(fit_m, r_inner).reshape(r_boot.shape[0], -1)
    interval, n_used = _symmetric_t(est, m_boot, inner, ci)
    return interval, kept, (n_boot, n_fitted, n_used)


def _fit_finite(fit_m: Callable[[np.ndarray], np.ndarray], rows: np.ndarray) -> np.ndarray:
    """``fit_m`` on the rows whose slopes are all finite (in one call); NaN for the others."""
    good = np.all(np.isfinite(rows), axis=1)
    out = np.full(rows.shape[0], np.nan)
    if good.sum() >= 2:
        out[good] = fit_m(rows[good])
    return out
