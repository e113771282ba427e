"""Naive and multistep-regression branching estimators."""

from __future__ import annotations

import warnings

import mrestimator as mre
import numpy as np
import pytest
from scipy import optimize, stats

import infodyn.criticality as C
from infodyn.errors import InputError


def _slopes_by_hand(a: np.ndarray, kmax: int, method: str) -> np.ndarray:
    """Direct per-lag regression slopes (the definitions, no FFT)."""
    out = []
    for k in range(1, kmax + 1):
        x, y = a[:, :-k].astype(float), a[:, k:].astype(float)
        if method == "ts":
            r = [np.cov(xi, yi, bias=True)[0, 1] / np.var(xi) for xi, yi in zip(x, y, strict=True)]
            out.append(np.mean(r))
        else:
            mx, my = x.mean(), y.mean()
            out.append(np.mean((x - mx) * (y - my)) / np.mean((x - mx) ** 2))
    return np.array(out)


@pytest.mark.parametrize("method", ["ts", "sm"])
def test_slopes_match_direct_definition(method):
    a = C.simulate_branching_process(0.9, 3.0, 3000, trials=4, subsample=0.3, seed=4)
    k, r = C.regression_slopes(a, 40, method)
    np.testing.assert_array_equal(k, np.arange(1, 41))
    np.testing.assert_allclose(r, _slopes_by_hand(a, 40, method), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("method", ["ts", "sm"])
def test_slopes_match_mrestimator(method):
    a = C.simulate_branching_process(0.95, 5.0, 2000, trials=3, subsample=0.1, seed=9)
    _, r = C.regression_slopes(a, 30, method)
    ref = mre.coefficients(a, steps=(1, 30), method=method, numboot=0)
    np.testing.assert_allclose(r, ref.coefficients, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("m,a", [(0.9, 1.0), (0.9, 0.1), (0.98, 0.02)])
def test_naive_slope_is_biased_by_subsampling_as_predicted(m, a):
    act = C.simulate_branching_process(m, 10.0, 40_000, trials=5, subsample=a, seed=11)
    res = C.branching_ratio(act, method="naive", n_boot=200)
    expected = C.naive_subsampling_bias(m, a)
    half_width = (res.m_ci[1] - res.m_ci[0]) / 2
    assert abs(res.m - expected) < max(2.5 * half_width, 0.01)
    assert res.m_ci[0] < res.m < res.m_ci[1]


@pytest.mark.parametrize("a", [1.0, 0.1, 0.02])
def test_mr_recovers_m_under_subsampling(a):
    m = 0.98
    act = C.simulate_branching_process(m, 10.0, 10_000, trials=10, subsample=a, seed=21)
    res = C.branching_ratio(act, method="mr")
    assert abs(res.m - m) < 0.01
    assert res.m_ci[0] < m < res.m_ci[1]
    assert res.tau == pytest.approx(-1.0 / np.log(res.m))
    assert abs(res.fits["exp_offset"].m - m) < 0.015
    assert res.meaningful and not res.fits_disagree
    if a < 1:  # the naive slope is clearly biased on the same data
        assert C.branching_ratio(act, method="naive", n_boot=0).m < m - 0.05


def test_mr_agrees_with_mrestimator_within_its_errors():
    act = C.simulate_branching_process(0.97, 10.0, 8_000, trials=8, subsample=0.05, seed=3)
    ours = C.branching_ratio(act, kmax=120, dt=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rk = mre.coefficients(act, steps=(1, 120), method="ts", dt=2.0, numboot=40, seed=1)
        fit = mre.fit(rk, fitfunc="exponential", numboot=40, seed=1)
    # mrestimator reports tau with bootstrap quantiles; m = exp(-dt/tau)
    lo, hi = (np.exp(-2.0 / np.array(fit.tauquantiles[i])) for i in (0, -1))
    assert abs(ours.m - fit.mre) <= max(abs(hi - lo), 2e-3)
    assert abs(ours.tau - fit.tau) / fit.tau < 0.05
    assert ours.tau_ci[0] < fit.tau < ours.tau_ci[1]


def test_dt_sets_tau_and_population_activity_carries_it():
    act = C.simulate_branching_process(0.9, 5.0, 20_000, trials=2, seed=5)
    r1 = C.branching_ratio(act, kmax=40, n_boot=0)
    r4 = C.branching_ratio(act, kmax=40, n_boot=0, dt=4.0)
    assert r4.m == r1.m and r4.tau == pytest.approx(4 * r1.tau)
    pa = C.PopulationActivity(act, bin_ms=4.0)
    assert C.branching_ratio(pa, kmax=40, n_boot=0).tau == pytest.approx(r4.tau)


def test_single_trial_uses_block_bootstrap():
    act = C.simulate_branching_process(0.95, 10.0, 40_000, trials=1, subsample=0.2, seed=8)
    res = C.branching_ratio(act[0])
    assert abs(res.m - 0.95) < 0.01
    assert res.m_ci[0] < 0.95 < res.m_ci[1]


def test_offset_fit_and_disagreement_flag_on_nonstationary_activity():
    rng = np.random.default_rng(0)
    act = C.simulate_branching_process(0.8, 20.0, 20_000, trials=4, seed=2)
    # a slow square-wave modulation of the drive adds a long-lived offset to r_k
    slow = (np.arange(20_000) // 2000) % 2 * 60
    drift = rng.poisson(np.broadcast_to(slow, act.shape))
    with pytest.warns(C.CriticalityWarning, match="disagree"):
        res = C.branching_ratio(act + drift, kmax=60)
    assert res.fits_disagree
    assert abs(res.fits["exp_offset"].m - 0.8) < abs(res.fits["exp"].m - 0.8)


def test_stationary_fits_agree_and_result_serialises():
    act = C.simulate_branching_process(0.9, 5.0, 20_000, trials=4, seed=12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = C.branching_ratio(act, coefficient_method="sm")
    d = res.to_dict()
    assert d["m"] == res.m and len(d["r_k"]) == res.k.size and d["fits"]["exp"]["m"] > 0
    np.testing.assert_allclose(
        res.fits["exp"].curve(res.k[:3]), res.fits["exp"].b * res.m ** res.k[:3]
    )


@pytest.mark.parametrize(
    "act,msg",
    [
        (np.zeros((3, 500)), "all zero"),
        (np.full(500, 4), "constant"),
        (np.r_[np.zeros(200), 1, np.zeros(200)], "not meaningful"),
        (np.array([1, 0, 2, 1, 0]), "too short"),
    ],
)
@pytest.mark.parametrize("method", ["mr", "naive"])
def test_degenerate_activity_warns_and_returns_nan(act, msg, method):
    with pytest.warns(C.CriticalityWarning, match=msg):
        res = C.branching_ratio(act, method=method)
    assert np.isnan(res.m) and np.isnan(res.tau) and not res.meaningful


def test_silent_trial_among_active_ones_is_dropped_with_a_warning():
    act = C.simulate_branching_process(0.9, 5.0, 5000, trials=3, seed=1)
    act[1] = 0
    with pytest.warns(C.CriticalityWarning, match="constant"):
        res = C.branching_ratio(act, method="naive")
    assert res.n_trials == 2 and np.isfinite(res.m)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kmax=495),
        dict(kmax=1),
        dict(method="ar"),
        dict(coefficient_method="x"),
        dict(fit="power"),
        dict(ci=1.5),
        dict(method="naive", kmax=5),
        dict(dt=0.0),
        dict(min_events=-1),  # was accepted
        dict(min_events=2.5),
    ],
)
def test_bad_parameters_raise(kwargs):
    act = C.simulate_branching_process(0.9, 5.0, 500, seed=1)
    with pytest.raises(InputError):
        C.branching_ratio(act, **kwargs)


def test_a_dt_that_contradicts_the_activity_bin_width_is_refused():
    # dt = 2 over bins of 5 ms gave tau = 15.7 ms instead of 39.2, without a word
    counts = C.simulate_branching_process(0.9, 5.0, 2000, seed=1)
    act = C.PopulationActivity(counts=counts, bin_ms=5.0)
    with pytest.raises(InputError, match="contradicts the activity's own bin width, 5 ms"):
        C.branching_ratio(act, dt=2.0, n_boot=0)
    same = C.branching_ratio(act, dt=5.0, n_boot=0)
    assert same.tau == C.branching_ratio(act, n_boot=0).tau
    assert same.tau == pytest.approx(C.branching_ratio(counts, dt=5.0, n_boot=0).tau)


@pytest.mark.parametrize("bad", [-np.ones(100), np.array([1.0, np.inf] * 50), np.ones((2, 2, 2))])
def test_malformed_activity_raises(bad):
    with pytest.raises(InputError):
        C.branching_ratio(bad)


def test_weighted_fit_agrees_with_ordinary_least_squares_on_clean_data():
    act = C.simulate_branching_process(0.95, 10.0, 10_000, trials=10, subsample=0.2, seed=17)
    ols = C.branching_ratio(act, kmax=100)
    wls = C.branching_ratio(act, kmax=100, weighted=True)
    assert abs(wls.m - 0.95) < 0.01 and abs(wls.m - ols.m) < 0.005
    assert np.all(np.isfinite(wls.r_k_stderr)) and np.all(wls.r_k_stderr > 0)


def test_without_bootstrap_there_are_no_intervals_but_an_estimate():
    act = C.simulate_branching_process(0.95, 10.0, 5_000, trials=3, seed=18)
    res = C.branching_ratio(act, n_boot=0)
    assert np.isfinite(res.m) and np.all(np.isnan(res.m_ci)) and res.n_boot == 0


def test_branching_fit_at_grid_edge_is_not_meaningful():
    from infodyn.criticality import branching_ratio

    rng = np.random.default_rng(0)
    a = rng.poisson(5.0, size=(1, 4000)).astype(float)
    a[0, 1::2] = 0.0  # alternating: r_1 < 0, decay faster than one bin
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = branching_ratio(a, method="mr", n_boot=0, kmax=20)
    assert not res.meaningful and np.isnan(res.m)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_activity_without_correlation_gives_no_mr_estimate(seed):
    # the least-squares fit of r_k = b m^k to pure noise returned m = 0.61 (Poisson counts)
    # or 0.95 (a process with m = 0), marked meaningful
    noise = np.random.default_rng(seed).poisson(5.0, 20_000)
    unbranched = C.simulate_branching_process(0.0, 5.0, 20_000, seed=seed)
    for activity in (noise, unbranched):
        with pytest.warns(C.CriticalityWarning, match=r"from 0 .Ljung-Box p = \S+ > 0.01\)"):
            res = C.branching_ratio(activity, n_boot=10, seed=seed)
        assert np.isnan(res.m) and not res.meaningful
        # no interval for the refused m either (it kept the fit's: m null, m_ci [-0.19, 1.27])
        assert np.isnan([*res.m_ci, *res.tau_ci]).all()
        assert res.to_dict()["m_ci"] == [None, None] and res.fits  # the fits keep their own


def test_weak_but_real_correlation_is_still_estimated():
    # 2 % of a near-critical population: r_k are small (b ~ 0.01) yet clearly not noise
    full = C.simulate_branching_process(0.98, 40.0, 30_000, seed=4, trials=4)
    sub = np.random.default_rng(4).binomial(full, 0.02)
    res = C.branching_ratio(sub, n_boot=20, seed=4)
    assert res.meaningful and abs(res.m - 0.98) < 0.01, res.m


def test_ljung_box_p_values_are_uniform_without_correlation():
    from infodyn.criticality._mr_significance import ljung_box_p

    rng = np.random.default_rng(0)
    lags = np.arange(1, 11)
    p = []
    for _ in range(400):
        x = rng.standard_normal(2000)
        x = x - x.mean()
        r = np.array([x[:-k] @ x[k:] / (x @ x) for k in lags])  # sample autocorrelations
        p.append(ljung_box_p(r, lags, x.size))
    p = np.array(p)
    assert 0.02 < np.mean(p < 0.05) < 0.09  # binomial sd 0.011 around 0.05
    assert 0.4 < np.median(p) < 0.6
    assert ljung_box_p(np.zeros(5), np.arange(1, 6), 100) == 1.0
    assert ljung_box_p(np.full(5, 0.5), np.arange(1, 6), 1000) < 1e-12


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kmax": float("nan")}, "kmax must be a whole number"),  # was "cannot convert NaN"
        ({"kmax": 2.5}, "kmax must be a whole number"),  # was truncated to 2
        ({"n_boot": 1.5}, "n_boot must be a whole number"),  # was truncated to 1
        ({"seed": -1}, "seed must be a whole number"),
    ],
)
def test_fractional_or_nan_counts_are_refused(kwargs, message):
    act = C.simulate_branching_process(0.9, 5.0, 3000, seed=1)
    with pytest.raises(InputError, match=message):
        C.branching_ratio(act, **kwargs)


@pytest.mark.parametrize("period", [3, 20])
def test_oscillating_slopes_are_no_branching_ratio(period):
    """A rhythm of period 3 bins makes r_1 < 0 (as refractoriness at the bin width does); one of
    20 bins makes r_1 > 0 but r_10 clearly negative. Neither is b m^k: no m is reported."""
    rng = np.random.default_rng(period)
    t = np.arange(20_000)
    rate = 5.0 * (1.0 + 0.8 * np.cos(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi)))
    act = rng.poisson(rate)[None].astype(float)
    with pytest.warns(C.CriticalityWarning, match="do not decay as b m"):
        res = C.branching_ratio(act, kmax=40, n_boot=20)
    assert not res.meaningful and np.isnan(res.m)
    assert res.r_k[0] < 0 if period == 3 else res.r_k[9] < -0.25 * res.r_k[0]


def test_ts_slopes_leave_out_a_trial_without_variance():
    """'ts' averages the per-trial slopes of the trials that have one: a silent trial (no
    variance, slope undefined) must not pull every r_k towards 0 by a factor (N-1)/N."""
    a = C.simulate_branching_process(0.9, 5.0, 2000, trials=3, seed=4)
    _, r = C.regression_slopes(a, 20, "ts")
    _, r_silent = C.regression_slopes(np.vstack([a, np.zeros(2000)]), 20, "ts")
    np.testing.assert_allclose(r_silent, r, rtol=1e-12, atol=1e-14)


def test_pure_exponential_fit_never_has_a_negative_amplitude():
    """b m^k is fitted with b >= 0 (mr_fit._profile_sse). Anti-correlated activity (differenced
    white noise: r_1 = -1/2, r_k = 0 beyond) must give b = 0, not a negative b that fits the
    negative r_1 with a fast decay."""
    rng = np.random.default_rng(0)
    act = np.diff(rng.standard_normal(20_001)) + 10.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = C.branching_ratio(act, kmax=20, n_boot=0)
    assert res.r_k[0] < -0.4
    assert res.fits["exp"].b >= 0.0
    assert not res.meaningful and np.isnan(res.m)


def test_few_trials_are_cut_into_the_same_blocks_as_one_long_trial():
    """With < 10 trials every trial is cut into contiguous blocks so that >= 10 units are
    resampled (branching_ratio docstring). Two trials of 20 000 bins give 10 blocks of 4000
    bins, exactly the blocks of the same data as one trial of 40 000 bins: the same bootstrap
    replicates (same seed), so the interval sits at the same offsets from each estimate."""
    act = C.simulate_branching_process(0.9, 5.0, 20_000, trials=2, seed=3)
    two = C.branching_ratio(act, kmax=40, n_boot=50, seed=1)
    one = C.branching_ratio(act.reshape(1, -1), kmax=40, n_boot=50, seed=1)
    np.testing.assert_allclose(two.fits["exp"].m_boot, one.fits["exp"].m_boot, rtol=1e-12)
    np.testing.assert_allclose(
        np.array(two.m_ci) - two.m, np.array(one.m_ci) - one.m, rtol=1e-9, atol=1e-12
    )


def test_centred_percentile_interval_is_the_documented_formula():
    """m_ci = m^ + f (Q_p(m*) - median(m*)), p = (1 -+ ci)/2, f = t_{n-1}(p)/z(p) sqrt(n/(n-1)),
    n = resampled units (here the 12 trials), from the replicates the result exposes."""
    act = C.simulate_branching_process(0.9, 5.0, 3000, trials=12, seed=5)
    ci, n = 0.9, 12
    res = C.branching_ratio(act, kmax=30, n_boot=60, ci=ci, seed=2)
    boot = res.fits["exp"].m_boot
    assert boot.size == 60 and np.all(np.isfinite(boot))
    p = np.array([(1 - ci) / 2, (1 + ci) / 2])
    f = stats.t.ppf(p[1], n - 1) / stats.norm.ppf(p[1]) * np.sqrt(n / (n - 1))
    expected = res.m + f * (np.quantile(boot, p) - np.median(boot))
    np.testing.assert_allclose(res.m_ci, expected, rtol=1e-12)


def test_weighted_fit_is_least_squares_with_inverse_variance_weights():
    """weighted=True fits b m^k with weights 1/se_k^2 (se floored at a tenth of its median):
    the same as SciPy's curve_fit with sigma = the floored standard errors."""
    act = C.simulate_branching_process(0.95, 10.0, 10_000, trials=10, subsample=0.2, seed=17)
    res = C.branching_ratio(act, kmax=100, weighted=True)
    se = np.maximum(res.r_k_stderr, 0.1 * np.median(res.r_k_stderr))
    (b, m), _ = optimize.curve_fit(
        lambda k, b, m: b * m**k,
        res.k.astype(float),
        res.r_k,
        p0=[0.5, 0.95],
        sigma=se,
        xtol=1e-14,
        ftol=1e-14,
    )
    assert res.fits["exp"].m == pytest.approx(m, abs=1e-6)
    assert res.fits["exp"].b == pytest.approx(b, rel=1e-4)


def test_stationary_mean_bias_correction_pools_the_trials():
    """'sm' estimates one mean from all N trials, so its finite-trial bias is ~1/N of a single
    trial's: on 40 trials of 300 bins the bias-corrected 'sm' estimate moves by well under the
    single-trial correction (~0.03 here) and stays near the true m = 0.9."""
    act = C.simulate_branching_process(0.9, 5.0, 300, trials=40, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        raw = C.branching_ratio(act, kmax=30, n_boot=0, coefficient_method="sm")
        bc = C.branching_ratio(
            act, kmax=30, n_boot=0, coefficient_method="sm", bias_correction=True
        )
    assert 0.0 < bc.m - raw.m < 0.005
    assert abs(bc.m - 0.9) < 0.02


def test_ljung_box_counts_the_bins_of_all_trials():
    """100 trials of 200 bins, 2 % subsampled: the slopes are small (b ~ 0.1) but measured on
    20 000 bins, far from noise (p ~ 1e-71); counted as 200 bins they would look like noise."""
    act = C.simulate_branching_process(0.9, 50.0, 200, trials=100, subsample=0.02, seed=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = C.branching_ratio(act, n_boot=0)
    assert not any("indistinguishable" in str(w.message) for w in caught)
    assert res.meaningful and np.isfinite(res.m)


@pytest.mark.parametrize("method", ["ts", "sm"])
def test_slopes_of_constant_activity_are_nan_with_a_warning(method):
    """No variance, no slope: NaN and a warning naming the lags (it was NaN in silence)."""
    with pytest.warns(C.CriticalityWarning, match="NaN for every k"):
        _, r = C.regression_slopes(np.full((2, 100), 3.0), 5, method)
    assert np.isnan(r).all()
    late = np.ones(100)
    late[-6:] = [0, 3, 1, 2, 5, 4]  # varies only in the last 6 bins: lags 1-5 see it
    with pytest.warns(C.CriticalityWarning, match=r"NaN for k = 6, 7, 8, \.\.\., 10:"):
        _, r = C.regression_slopes(late, 10, method)
    assert np.isfinite(r[:5]).all() and np.isnan(r[5:]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        C.regression_slopes(C.simulate_branching_process(0.9, 3.0, 500, seed=1), 5, method)


@pytest.mark.parametrize(
    ("option", "bad", "said"),
    [
        ("method", np.array([]), "method must be one of 'mr', 'naive'"),
        ("coefficient_method", {}, "coefficient_method must be one of 'ts', 'sm'"),
        ("fit", np.array([]), "fit must be one of 'exp', 'exp_offset'"),
        ("ci", "0.9", "ci must lie in \\(0, 1\\), got '0.9'"),
    ],
)
def test_options_of_a_wrong_type_are_one_line(option, bad, said):
    # an array's truth value, a dict's hash and text compared with 0.0 were raw errors
    activity = np.random.default_rng(0).poisson(5.0, size=(2, 500))
    with pytest.raises(InputError, match=said):
        C.branching_ratio(activity, **{option: bad})
    if option == "coefficient_method":
        with pytest.raises(InputError, match="method must be one of 'ts', 'sm'"):
            C.regression_slopes(activity, 5, method=bad)


def test_mr_interval_and_notes_stay_within_what_a_fit_gives():
    """An MR interval reached below 0 (m = e^x > 0) and its tau interval was NaN without a
    word; white noise was told its autocorrelation time limited kmax; two fits without a tau
    were said to "disagree (tau nan vs nan ms)"."""
    act = C.simulate_branching_process(m=0.3, h=5, T=300, trials=3, subsample=0.3, seed=5)
    r = C.branching_ratio(act, n_boot=100, seed=5)
    assert r.meaningful and r.m_ci[0] == 0.0 and 0.0 < r.m_ci[1] < 1.0
    assert r.tau_ci[0] == 0.0 and np.isfinite(r.tau_ci[1]) and r.tau_ci[1] > r.tau
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        noise = C.branching_ratio(C.simulate_branching_process(0.0, 10, 3000, trials=5, seed=0))
        assert not noise.meaningful and not any("kmax limited" in w for w in noise.warnings)
        act = C.simulate_branching_process(0.999, 10, 3000, trials=5, subsample=0.05, seed=0)
        close = C.branching_ratio(act, bias_correction=True)
    assert not close.fits_disagree and not any("disagree" in w for w in close.warnings)
    assert any("bias correction does not hold" in w for w in close.warnings)
