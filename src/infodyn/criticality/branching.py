"""Branching-ratio estimators: the naive regression slope and multistep regression (MR).

For population activity ``A_t`` the linear autoregressive representation of a driven branching
process is ``<A_{t+1} | A_t> = m A_t + h``. The **naive** estimator is the regression slope of
``A_{t+1}`` on ``A_t``; when only a fraction ``a`` of the units is observed it is biased towards
zero by ``b = 1 / (1 + (1 - a)(1 - m^2) / a)`` (Wilting & Priesemann 2018, Nat. Commun. 9:2325).

The **multistep regression** (MR) estimator regresses ``A_{t+k}`` on ``A_t`` for lags
``k = 1..k_max``. Under subsampling the slopes obey ``r_k = b m^k`` with the unknown ``b``
absorbing the bias, so a fit of ``r_k`` recovers ``m`` and the autocorrelation time
``tau = -dt / ln m``. Two fits are made: ``b m^k`` ("exp") and ``b m^k + c`` ("exp_offset", which
tolerates slow non-stationarities); a warning is raised when they disagree.

The slopes (``"ts"`` trial-separated, ``"sm"`` stationary mean), the profile least-squares fits
and the bootstrap helpers live in :mod:`infodyn.criticality.mr_fit`, whose docstring gives the
formulas; the result types are in :mod:`infodyn.criticality.branching_result`; this module
holds the estimator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.criticality._common import as_counts, require_bin_width, warn
from infodyn.criticality._mr_bias import expected_slopes, fit_corrected, short_trial_note
from infodyn.criticality._mr_decay import decay_note, oscillation_note
from infodyn.criticality._mr_interval import (
    check_ci_method,
    few_replicates_note,
    inner_weights,
    left_out_note,
    replicate_interval,
)
from infodyn.criticality._mr_significance import NO_CORRELATION_P, ljung_box_p
from infodyn.criticality.branching_result import BranchingResult, ExpFit

# The fitting machinery lives in mr_fit; ``x as x`` re-exports names used only by callers.
from infodyn.criticality.mr_fit import (
    _SLOPES,
    _auto_kmax,
    _boot_weights,
    _bootstrap_units,
    _fit_lnm,
    _lag_sums,
    _lnm_grid,
    _naive_corrected,
    _tau,
    _tau_interval,
    require_bootstrap_memory,
)
from infodyn.criticality.mr_fit import _interval as _interval
from infodyn.criticality.mr_fit import _LagSums as _LagSums
from infodyn.criticality.mr_fit import _paired as _paired
from infodyn.criticality.mr_fit import _profile_sse as _profile_sse
from infodyn.criticality.mr_fit import _slopes_sm as _slopes_sm
from infodyn.criticality.mr_fit import _slopes_ts as _slopes_ts
from infodyn.criticality.mr_fit import regression_slopes as regression_slopes
from infodyn.errors import (
    InputError,
    is_finite_number,
    make_rng,
    require,
    require_choice,
    require_flag,
    whole_number,
)

_FITS = ("exp", "exp_offset")


# ----------------------------------------------------------------------------- the estimator
def _result(
    setup: dict[str, Any], a: np.ndarray, k: np.ndarray, notes: list[str], **estimate: Any
) -> BranchingResult:
    """The result of one call: its ``setup`` (method, coefficient_method, primary, dt, n_boot,
    ci_level, ci_method, n_inner), the activity ``a`` it used, the lags ``k``, its ``notes``
    (each also raised as a warning) and the ``estimate`` (m, tau, intervals, slopes, fits: NaN
    and empty where not given, so no estimate means a result that is not meaningful)."""
    for note in notes:
        warn(note)
    nan = float("nan")
    absent = {
        "m": nan,
        "tau": nan,
        "m_ci": (nan, nan),
        "tau_ci": (nan, nan),
        "r_k": np.full(k.size, nan),
        "r_k_stderr": np.full(k.size, nan),
        "fits": {},
        "meaningful": False,
        "fits_disagree": False,
    }
    return BranchingResult(
        **setup,
        **{**absent, **estimate},
        k=k,
        n_trials=a.shape[0],
        n_bins=a.shape[1],
        mean_activity=float(a.mean()),
        warnings=notes,
    )


def _event_bins(a: np.ndarray, signed: bool) -> int:
    """The bins with activity, which ``min_events`` counts: the non-zero counts or, for a signed
    signal, the bins that differ from their trial's most common value (its baseline: the
    centred silent bins of mean-subtracted counts), so that the guard too is shift-invariant."""
    if not signed:
        return int(np.count_nonzero(a))
    events = 0
    for trial in a:
        _, counts = np.unique(trial, return_counts=True)
        events += trial.size - int(counts.max())
    return events


def branching_ratio(
    activity: Any,
    method: str = "mr",
    kmax: int | None = None,
    *,
    dt: float | None = None,
    coefficient_method: str = "ts",
    fit: str = "exp",
    n_boot: int = 100,
    ci: float = 0.95,
    min_events: int = 20,
    weighted: bool = False,
    seed: int = 0,
    kmin: int = 1,
    bias_correction: bool = False,
    signed: bool = False,
    ci_method: str = "centred_percentile",
    n_inner: int = 20,
) -> BranchingResult:
    """Estimate the branching ratio ``m`` and autocorrelation time ``tau = -dt / ln m``.

    Parameters
    ----------
    activity
        Population counts ``(T,)`` or ``(trials, T)`` (non-negative), a
        :class:`~infodyn.criticality.activity.PopulationActivity` or a SpikeTrain.
    method
        ``"mr"`` (multistep regression, robust to subsampling) or ``"naive"`` (slope at lag 1).
    kmax
        Largest lag for MR, in bins. ``None`` chooses ``5 tau`` from a first pass (capped by
        ``T/10`` and 1000). Must satisfy ``kmax <= T - 10``.
    dt
        Bin width in ms for ``tau`` (default: from a PopulationActivity/SpikeTrain, else 1).
    coefficient_method
        ``"ts"`` trial-separated or ``"sm"`` stationary mean (module docstring).
    fit
        Which MR fit gives ``m``: ``"exp"`` (``b m^k``) or ``"exp_offset"`` (``b m^k + c``).
    n_boot
        Bootstrap replicates: trials are resampled with replacement; with fewer than 10 trials
        each trial is first cut into contiguous blocks (>= 4 kmax bins) so that at least 10
        units are resampled. 0 skips the intervals.
    ci
        Confidence level of the bootstrap intervals.
    ci_method
        How the intervals are built from the bootstrap replicates (module
        :mod:`~infodyn.criticality._mr_interval`). ``"centred_percentile"``:
        ``m^ + f (Q_p(m*) - median(m*))``, ``p = (1 -+ ci)/2``, the replicates' percentiles moved
        onto the estimate and widened by ``f = t_{n-1}(p)/z(p) sqrt(n/(n-1))`` for ``n``
        resampled units. ``"symmetric_t"``: the symmetric bootstrap-t of Hall (1988, Ann. Stat.
        16:927), ``m^ -+ |t*|_(j) sd(m*)``, ``j = ceil((B+1) ci)``, ``t*_b = (m*_b - m^)/s*_b``,
        ``s*_b`` the standard deviation of ``n_inner`` inner replicates of replicate ``b``; with
        ``bias_correction=True`` it covers at least at its nominal rate on simulated branching
        processes (tested), where the default falls 1-4 points short, at ``1 + n_inner`` times
        the fits and 35-65 % more width.
    n_inner
        Inner replicates per bootstrap replicate for ``ci_method="symmetric_t"`` (>= 2).
    min_events
        Fewer non-empty bins than this (or constant activity) gives NaN and a warning; with
        ``signed``, fewer bins away from their trial's most common value (its baseline).
    weighted
        Weight the fits by ``1/se_k^2`` from the bootstrap (floored at a tenth of the median
        ``se``); the default is ordinary least squares, which is robust when few trials make
        ``se_k`` noisy.
    seed
        Seed of the bootstrap.
    kmin
        Smallest lag of the MR fit (like mrestimator's ``steps=(kmin, kmax)``): slopes
        ``r_k`` are still reported from k = 1, the fits use ``kmin <= k <= kmax`` only.
    bias_correction
        Fit the finite-trial expectation of the slopes instead of ``b m^k`` (module
        ``_mr_bias``): the per-trial mean subtraction and the ratio bias shrink every slope by
        ``O(tau / T)``, the same in every bootstrap replicate, so without the correction short
        trials give an ``m`` that is too small and an interval that misses the true value. With
        it the estimate and each replicate are corrected and the interval covers at about its
        nominal rate on simulated branching processes (tested). Off by default (the reported
        numbers of existing analyses do not move); an uncorrected result whose corrected ``m``
        lies more than half the interval's half-width away warns (``short_trial_note``).
    signed
        Accept real-valued signals with negative values (e.g. mean-subtracted activity; the
        slopes are shift-invariant). By default negative counts raise ``InputError``.

    Returns
    -------
    BranchingResult
        Degenerate activity (all zero, constant, almost no events), slopes that cannot be told
        from 0 and slopes that oscillate (a first fitted slope <= 0 or a clearly negative
        later one: not ``b m^k``) never raise: the result is NaN, ``meaningful`` False, and a
        :class:`~infodyn.criticality.CriticalityWarning` says why. Malformed input (negative
        counts, NaN, wrong shape) and impossible parameters raise :class:`~infodyn.InputError`.
    """
    weighted = require_flag("weighted", weighted)
    bias_correction = require_flag("bias_correction", bias_correction)
    signed = require_flag("signed", signed)
    a, dt_known = as_counts(activity, allow_negative=signed)
    # is_choice: an array ("truth value ... ambiguous") or a dict ("unhashable") was raw
    require_choice("method", method, ("mr", "naive"))
    require_choice("coefficient_method", coefficient_method, _SLOPES)
    require_choice("fit", fit, _FITS)
    require(is_finite_number(ci) and 0.0 < ci < 1.0, f"ci must lie in (0, 1), got {ci!r}")
    n_boot = whole_number(n_boot, "n_boot")
    require(n_boot != 1, "n_boot must be 0 (no intervals) or at least 2 (one replicate: no spread)")
    n_inner = check_ci_method(ci_method, n_inner)
    min_events = whole_number(min_events, "min_events")
    dt_given = dt is not None
    require(  # float() read "3" as 3 ms and True as 1 ms
        dt is None or (is_finite_number(dt) and dt > 0),
        f"dt must be a positive number of ms, got {dt!r}",
    )
    dt = float(dt if dt is not None else (dt_known if dt_known is not None else 1.0))
    if dt_given:  # dt = 2 over bins of 5 ms gave tau = 15.7 ms, not 39.2, unremarked
        require_bin_width("dt", dt, dt_known)
    n, t = a.shape
    kmin = whole_number(kmin, "kmin", minimum=1)
    if method == "naive":
        require(kmax in (None, 1), "the naive estimator uses lag 1 only; leave kmax unset")
        require(kmin == 1, "the naive estimator uses lag 1 only; leave kmin unset")
    elif kmax is not None:
        # three lags from kmin at least (">= 2" was said of kmax = 1, then 2 refused by kmin)
        kmax = whole_number(kmax, "kmax", minimum=kmin + 2)
        require(
            kmax <= t - 10,
            f"kmax={kmax} is too large for {t} bins per trial (need kmax <= T - 10)",
        )
    elif kmin > 1 and t >= 12:  # the automatic kmax grows to kmin + 2: the lags must fit
        require(  # kmin = 150 of 200 bins fitted three noise slopes, as an estimate
            kmin + 2 <= t - 10,
            f"kmin={kmin} is too large for {t} bins per trial (need kmin <= T - 12)",
        )
    primary = fit if method == "mr" else "naive"
    setup = {
        "method": method,
        "coefficient_method": coefficient_method,
        "primary": primary,
        "dt": dt,
        "n_boot": n_boot,
        "ci_level": ci,
        "ci_method": ci_method,
        "n_inner": n_inner,
        "bias_correction": bias_correction,
    }
    # --- degenerate activity: warn, do not crash
    problems: list[str] = []
    nonempty = _event_bins(a, signed)
    if t < 12:
        problems.append(f"only {t} bins per trial: too short to estimate a branching ratio")
    elif nonempty == 0:  # (signed: no bin away from the baseline, a constant signal)
        what = "constant" if signed else "all zero"
        problems.append(f"the activity is {what}: the branching ratio is not defined")
    elif np.all(a.var(axis=1) == 0):
        problems.append("the activity is constant: the branching ratio is not defined")
    elif nonempty < min_events:
        problems.append(
            f"only {nonempty} {'bins away from the baseline' if signed else 'non-empty bins'} "
            f"(< min_events={min_events}): "
            "the branching-ratio estimate is not meaningful"
        )
    if problems:
        kk = np.arange(1, 2 if method == "naive" else (kmax or 1) + 1)
        return _result(setup, a, kk, problems)
    notes: list[str] = []
    flat = a.var(axis=1) == 0
    if np.any(flat) and n > 1:
        notes.append(f"{int(flat.sum())} of {n} trials have constant activity and are ignored")
        a = a[~flat]
        n = a.shape[0]
    noise_lags = False  # kmin past the lags of the automatic kmax: no m is reported
    if method == "naive":
        kmax_eff = 1
    elif kmax is None:
        kmax_eff, more, five_tau = _auto_kmax(a, coefficient_method)
        notes += more
        if kmax_eff < kmin + 2:
            # past 5 tau, the slopes are mostly noise: its m was reported as meaningful (0.776
            # for 0.9, b 1e107); past the T/10 cap of short trials they are not, m stays
            noise_lags = kmin > 1 and five_tau is not None and five_tau < kmin + 2
            if noise_lags:  # (the note of a kmax limited below 5 tau no longer held)
                notes = [n for n in notes if "kmax limited to" not in n]
            notes.append(
                f"kmin={kmin} lies past the lags the fit would use (up to about 5 tau: the "
                f"automatic kmax is {kmax_eff}): the slopes from there on are mostly noise, "
                "so m is not reported; lower kmin"
                if noise_lags
                else f"kmin={kmin} lies past the automatic kmax ({kmax_eff}, at most T/10 for "
                f"trials of {t} bins): lags {kmin}-{kmin + 2} are fitted; lower kmin or use "
                "longer trials"
                if kmin > 1  # kmin = 1: the automatic kmax (T/10) is short of 3 lags
                else f"trials of {t} bins are short for MR: the automatic kmax (T/10) is below "
                "the 3 lags a fit needs, so lags 1-3 are fitted, and their finite-trial bias "
                "(O(tau/T)) is large; use longer trials"
            )
            kmax_eff = kmin + 2
        kmax_eff = min(kmax_eff, t - 2)
    else:
        kmax_eff = kmax
        if kmax > t // 2:
            notes.append(f"kmax={kmax} exceeds half the trial length ({t}): slopes are noisy")
    slopes = _SLOPES[coefficient_method]
    sums = _lag_sums(a, kmax_eff)
    r = slopes(sums)
    # --- bootstrap replicates of the slopes
    rng = make_rng(seed)
    r_boot = np.empty((0, kmax_eff))
    r_inner = None  # slopes of the inner replicates (symmetric bootstrap-t)
    n_units = 0  # number of resampled units (trials or blocks)
    unit_len = t  # their length
    if n_boot > 0:
        units, why = _bootstrap_units(a, kmax_eff)
        if units is None:
            notes.append(why)
        else:
            few = few_replicates_note(n_boot, ci, ci_method)
            notes.extend(note for note in (why, few) if note)
            n_units, unit_len = units.shape
            inner = n_inner if ci_method == "symmetric_t" else 0
            require_bootstrap_memory(n_boot, inner, kmax_eff, n_units, bias_correction)
            usums = sums if units is a else _lag_sums(units, kmax_eff)
            wb = _boot_weights(units.shape[0], n_boot, rng)
            r_boot = slopes(usums, wb)
            if ci_method == "symmetric_t":
                r_inner = slopes(usums, inner_weights(wb, n_inner, rng))
    have_boot = r_boot.shape[0] >= 2
    if have_boot:
        se = np.nanstd(r_boot, axis=0, ddof=1)
    else:
        se = np.full(kmax_eff, np.nan)
    k = sums.k
    if method == "naive":
        m = float(r[0])
        if not np.isfinite(m):
            return _result(setup, a, k, notes + ["the lag-1 slope is undefined"])
        pool = coefficient_method == "sm"
        if bias_correction:
            m = float(_naive_corrected(r[:1], t, n if pool else 1)[0])

        def lag1(rows: np.ndarray) -> np.ndarray:
            if not bias_correction:
                return rows[:, 0]
            return _naive_corrected(rows[:, 0], unit_len, n_units if pool else 1)

        inner1 = None if r_inner is None else r_inner[:, :1]
        m_ci = (np.nan, np.nan)
        if have_boot:
            m_ci, _, counts = replicate_interval(lag1, m, r_boot[:, :1], inner1, ci, n_units)
            notes += left_out_note(counts, m_ci, ci, ci_method, bias_correction, naive=True)
        tau = float(_tau(np.log(m), dt)) if m > 0 else float("nan")
        tau_ci = _tau_interval(np.array(m_ci), dt, m)
        if m <= 0:
            notes.append(f"the lag-1 slope is {m:.3g} <= 0: tau is undefined")
        estimate = {"m": m, "tau": tau, "m_ci": _pair(m_ci), "tau_ci": tau_ci}
        return _result(setup, a, k, notes, **estimate, r_k=r, r_k_stderr=se, meaningful=True)
    # --- MR fits, weighted by 1/se^2 where the bootstrap gives errors
    ok = np.isfinite(r) & (k >= kmin)
    if ok.sum() < 3:
        notes.append("fewer than 3 finite slopes r_k: the MR estimate is not meaningful")
        return _result(setup, a, k, notes)
    kf = k[ok].astype(float)
    if weighted and have_boot and np.all(np.isfinite(se[ok])) and np.all(se[ok] > 0):
        w = 1.0 / np.maximum(se[ok], 0.1 * np.median(se[ok])) ** 2
        w = w / w.mean()
    else:
        w = np.ones(ok.sum())
    fits: dict[str, ExpFit] = {}
    plain_fits = {}  # each fit's plain least squares, for the short-trial note too
    used = {}  # the replicates each fit's interval was given and built from
    pool = coefficient_method == "sm"
    for name in _FITS:
        offset = name == "exp_offset"

        def plain(
            rows: np.ndarray, start: np.ndarray | None = None, offset: bool = offset
        ) -> tuple[np.ndarray, ...]:
            return _fit_lnm(rows, kf, w, offset, start)

        plain_fits[name] = plain

        def fitted(rows: np.ndarray, length: int, n_pool: int) -> tuple[np.ndarray, ...]:
            if not bias_correction:
                return plain(rows)
            return fit_corrected(plain, rows, kf, float(length), float(n_pool))

        def boot_m(rows: np.ndarray) -> np.ndarray:
            return np.exp(fitted(rows, unit_len, n_units if pool else 1)[0])

        x, b, c, sse = fitted(r[None, ok], t, n if pool else 1)
        m_hat = float(np.exp(x[0]))
        m_ci, mb = (np.nan, np.nan), np.empty(0)
        if have_boot:
            inner = None if r_inner is None else r_inner[:, ok]
            m_ci, mb, used[name] = replicate_interval(
                boot_m, m_hat, r_boot[:, ok], inner, ci, n_units
            )
            # m = e^x > 0: an interval reaching below 0 holds values no fit gives (its tau
            # interval was NaN without a word); cut at 0, where tau = 0
            m_ci = (max(m_ci[0], 0.0), m_ci[1]) if np.isfinite(m_ci[0]) else m_ci
        fits[name] = ExpFit(
            name=name,
            m=float(np.exp(x[0])),
            tau=float(_tau(x[0], dt)),
            b=float(b[0]),
            c=float(c[0]),
            m_ci=_pair(m_ci),
            tau_ci=_tau_interval(np.array(m_ci), dt, m_hat),
            residual=float(sse[0]),
            m_boot=mb,
            observed=(
                expected_slopes(b, np.exp(x), k.astype(float), float(t), float(n if pool else 1))[0]
                + c[0]
                if bias_correction
                else np.empty(0)
            ),
        )
    # notes on the fitted m: left out where the slopes show no correlation at all, as m is not
    # reported then (white noise was told "supercritical", "oscillates" and "fits disagree")
    fit_notes: list[str] = []
    disagree = fits["exp"].disagrees_with(fits["exp_offset"])
    if disagree:
        fit_notes.append(
            f"the exp and exp_offset fits disagree (tau {fits['exp'].tau:.4g} vs "
            f"{fits['exp_offset'].tau:.4g} ms): the activity may be non-stationary or the "
            "fit window kmax inadequate"
        )
    main = fits[fit]
    if have_boot:
        fit_notes += left_out_note(used[fit], main.m_ci, ci, ci_method, bias_correction)
    if bias_correction and not np.isfinite(main.m):
        fit_notes.append(
            f"the finite-trial bias correction does not hold here (tau not small against "
            f"{t} bins per trial, or m close to 1): no bias-corrected estimate"
        )
    grid = _lnm_grid(int(kf[-1]))
    edge = main.b > 0 and np.isfinite(main.m) and not grid[1] <= np.log(main.m) <= grid[-2]
    if edge:  # the least-squares m sits on the end of the searched range: not an estimate
        fit_notes.append(
            f"the fitted m = {main.m:.3g} (tau = {main.tau:.3g} ms) lies at the edge of the fit "
            "range: r_k decays within about one lag (or grows), so m and tau are not resolved; "
            "use a finer bin or check the activity"
        )
    if main.m >= 1:
        fit_notes.append(
            f"m = {main.m:.4g} >= 1 (supercritical or non-stationary): tau is negative"
        )
    if main.b <= 0:
        fit_notes.append("the fitted amplitude b is 0: r_k shows no decay; m is not meaningful")
    p_zero = ljung_box_p(r[ok], k[ok], n * t)
    decays = decay_note(r[ok], se[ok], k[ok])
    if p_zero > NO_CORRELATION_P:  # (a first pass's tau of noise limited no kmax worth saying)
        notes = [n for n in notes if "kmax limited to" not in n]
        notes.append(
            f"the slopes r_k are indistinguishable from 0 (Ljung-Box p = {p_zero:.2g} > "
            f"{NO_CORRELATION_P:g}): the "
            "activity shows no temporal correlation to estimate m from (m near 0, independent "
            "units, or too sparse a subsample); m is not reported"
        )
    else:
        notes += fit_notes + ([decays] if decays else [])
    meaningful = bool(
        main.b > 0 and not edge and p_zero <= NO_CORRELATION_P and not decays and not noise_lags
    )
    # m stays (it may fit the envelope); where it is refused anyway, the refusal says why
    if meaningful and (wobble := oscillation_note(r[ok], se[ok], k[ok])):
        notes.append(wobble)
    if meaningful and not bias_correction and np.all(np.isfinite(main.m_ci)):
        rows = r[None, ok]
        pooled = n if pool else 1
        if short := short_trial_note(
            plain_fits[fit], rows, kf, t, pooled, main, coefficient_method
        ):
            notes.append(short)
    # a refused m has no interval either (results.json gave m null beside an m_ci); the fit's
    # own m and interval stay in ``fits``
    estimate = (
        {"m": main.m, "tau": main.tau, "m_ci": main.m_ci, "tau_ci": main.tau_ci}
        if meaningful
        else {}
    )
    estimate.update(r_k=r, r_k_stderr=se, fits=fits)
    # (no correlation to fit: the fits' disagreement is not said, nor flagged)
    disagree = disagree and p_zero <= NO_CORRELATION_P
    return _result(setup, a, k, notes, **estimate, meaningful=meaningful, fits_disagree=disagree)


def _pair(v: Any) -> tuple[float, float]:
    return (float(v[0]), float(v[1]))


def naive_subsampling_bias(m: float, a: float) -> float:
    """Expected naive slope under binomial subsampling a: ``m / (1 + (1-a)(1-m^2)/a)``.

    Exact for a driven Poisson branching process (Fano factor ``1/(1-m^2)``) observed through
    independent binomial thinning with probability ``a`` (Wilting & Priesemann 2018).
    """
    ok = is_finite_number(a) and is_finite_number(m)  # text was a raw TypeError
    if not ok or not (0 < a <= 1) or not (0 <= m < 1):
        raise InputError("naive_subsampling_bias needs 0 < a <= 1 and 0 <= m < 1")
    return m / (1.0 + (1.0 - a) * (1.0 - m * m) / a)
