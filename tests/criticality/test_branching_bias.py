"""MR bias correction: the finite-trial expectation of the slopes, interval coverage on
simulated branching processes, kmin, signed signals."""

from __future__ import annotations

import warnings

import mrestimator as mre
import numpy as np
import pytest

import infodyn.criticality as C
from infodyn.criticality import branching as B
from infodyn.criticality._mr_bias import _block, _cross, expected_slopes, fit_corrected
from infodyn.errors import InputError


def test_closed_form_sums_match_direct_double_sums():
    for m in (0.3, 0.9, 0.995):
        for L in (1, 7, 40):
            i = np.arange(L)
            assert _block(np.array(m), np.array(float(L))) == pytest.approx(
                (m ** np.abs(i[:, None] - i[None, :])).sum(), rel=1e-10
            )
            for k in (1, 5, 39, 60):
                ref = (m ** np.abs(np.arange(k, k + L)[:, None] - i[None, :])).sum()
                got = _cross(np.array([[m]]), np.array([float(k)]), np.array([float(L)]))
                assert got[0, 0] == pytest.approx(ref, rel=1e-10)


def test_marriott_pope_lag_one_bias():
    # first-order autoregression, fully observed (b = 1): E[r_1] = rho - (1 + 3 rho) / T + O(T^-2)
    for rho, T in ((0.5, 2000.0), (0.9, 5000.0)):
        e = expected_slopes(np.ones(1), np.array([rho]), np.array([1.0]), T, 1.0)[0, 0]
        assert e - rho == pytest.approx(-(1 + 3 * rho) / (T - 1), rel=0.02)


def test_expected_slopes_match_simulated_means():
    # 3000 trials of 300 bins, subsampled: the raw slopes are biased by up to -0.09, the
    # first-order expectation leaves <= 0.01 at the lags of a typical fit window (k <= 15)
    m, a, T = 0.95, 0.2, 300
    act = C.simulate_branching_process(m, 20.0, T, trials=3000, subsample=a, seed=2)
    k, r = C.regression_slopes(act, 15, "ts")
    b = 1.0 / (1.0 + (1.0 - a) * (1.0 - m * m) / a)
    e = expected_slopes(np.array([b]), np.array([m]), k.astype(float), T, 1.0)[0]
    assert np.max(np.abs(r - b * m**k)) > 0.05
    assert np.max(np.abs(r - e)) < 0.012


def test_bias_corrected_intervals_cover_at_the_nominal_rate():
    # 240 simulated runs (10 trials x 300 bins, m = 0.9, tau ~ 9.5 bins), each with 40
    # bootstrap replicates over trials, fitted at once through the estimator's own pieces
    m, T, N, kmax, n_runs, n_boot = 0.9, 300, 10, 30, 240, 40
    rows, rng = [], np.random.default_rng(0)
    for i in range(n_runs):
        sums = B._lag_sums(C.simulate_branching_process(m, 10.0, T, trials=N, seed=i), kmax)
        rows.append(
            np.vstack([B._slopes_ts(sums), B._slopes_ts(sums, B._boot_weights(N, n_boot, rng))])
        )
    r = np.vstack(rows)
    k = np.arange(1, kmax + 1, dtype=float)
    w = np.ones(kmax)

    def plain(x, start=None):
        return B._fit_lnm(x, k, w, False, start)

    for corrected, (lo_cov, hi_cov) in ((False, (0.0, 0.8)), (True, (0.9, 0.985))):
        x = fit_corrected(plain, r, k, T, 1.0)[0] if corrected else plain(r)[0]
        mm = np.exp(x).reshape(n_runs, n_boot + 1)
        ci = np.array([B._interval(row[0], row[1:], 0.95, N) for row in mm])
        covered = np.mean((ci[:, 0] <= m) & (m <= ci[:, 1]))
        assert lo_cov <= covered <= hi_cov, (corrected, covered)
        if corrected:
            assert abs(mm[:, 0].mean() - m) < 0.003


def test_branching_ratio_bias_correction_on_short_trials():
    m = 0.95  # tau ~ 19.5 bins, trials of 400 bins
    act = C.simulate_branching_process(m, 10.0, 400, trials=10, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        raw = C.branching_ratio(act, kmax=50, n_boot=60)
        bc = C.branching_ratio(act, kmax=50, n_boot=60, bias_correction=True)
        long = C.branching_ratio(
            C.simulate_branching_process(m, 10.0, 20_000, trials=1, seed=2), kmax=50, n_boot=60
        )
    assert raw.m_ci[1] < m  # the uncorrected interval misses m = 0.95 here
    assert bc.m_ci[0] < m < bc.m_ci[1] and abs(bc.m - m) < 0.01
    # and the uncorrected result says so: the shift is more than half the half-width
    short = [w for w in raw.warnings if "pass bias_correction=True" in w]
    assert len(short) == 1 and "400 bins" in short[0], raw.warnings
    assert not any("bias_correction" in w for w in bc.warnings + long.warnings)
    assert long.m_ci[0] < m < long.m_ci[1]
    # the naive slope, fully observed, corrected the same way
    full = C.simulate_branching_process(0.9, 10.0, 200, trials=40, seed=6)
    nv = C.branching_ratio(full, method="naive", n_boot=0)
    nvc = C.branching_ratio(full, method="naive", n_boot=0, bias_correction=True)
    assert nvc.m - nv.m == pytest.approx((1 + 3 * 0.9) / 199, rel=0.25)


def test_a_bias_too_large_to_correct_is_said_too():
    """Where the first-order correction fails (NaN) the bias is largest, and the note was
    silent: m = 0.9 on 40 trials of 100 bins, kmax 20, gave m 0.83 with an interval missing 0.9
    (0 of 20 seeds covered it; 1 of 20 was warned about)."""
    act = C.simulate_branching_process(0.9, 5.0, 100, trials=40, seed=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        raw = C.branching_ratio(act, kmax=20, n_boot=50, seed=0)
        bc = C.branching_ratio(act, kmax=20, n_boot=50, seed=0, bias_correction=True)
        sm = C.branching_ratio(act, kmax=20, n_boot=50, seed=0, coefficient_method="sm")
    assert raw.meaningful and raw.m_ci[1] < 0.9 and not np.isfinite(bc.m)  # the failed case
    note = [w for w in raw.warnings if "too short against tau" in w]
    assert len(note) == 1 and "to be corrected" in note[0] and "'sm'" in note[0], raw.warnings
    assert sm.m_ci[0] < 0.9 < sm.m_ci[1]  # the advice holds here
    # slow drift over long trials fits m ~ 1 (tau 1.8e6 bins): not "too short ... biased low"
    rng = np.random.default_rng(0)
    drift = rng.poisson(5 + 4 * np.sin(2 * np.pi * np.arange(50_000) / 50_000), size=(10, 50_000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        slow = C.branching_ratio(drift, n_boot=100)
    assert not any("too short against tau" in w for w in slow.warnings), slow.warnings
    assert any("autocorrelation time" in w for w in slow.warnings), slow.warnings


def test_the_bootstrap_checks_its_memory_first(monkeypatch):
    """Every replicate's slopes and fits are held at once (66 KB each at kmax 1000): the CLI's
    --n-boot 10^6 would have needed about 65 GB, and ran out unannounced."""
    from infodyn.memory import MemoryPreflightError

    act = C.simulate_branching_process(0.95, 10.0, 3000, trials=4, seed=1)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "50M")
    with pytest.raises(MemoryPreflightError, match="bootstrap of 10,000 replicates of 1000"):
        C.branching_ratio(act, kmax=1000, n_boot=10_000)
    with pytest.raises(MemoryPreflightError, match="x 20 inner ones .* or n_inner"):
        C.branching_ratio(act, kmax=1000, n_boot=200, ci_method="symmetric_t")
    assert np.isfinite(C.branching_ratio(act, kmax=100, n_boot=100).m)  # 3 MB: runs


def test_bias_corrected_fit_records_the_slopes_it_expects_of_the_trials():
    act = C.simulate_branching_process(0.95, 10.0, 400, trials=10, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        bc = C.branching_ratio(act, kmax=50, n_boot=0, bias_correction=True)
        raw = C.branching_ratio(act, kmax=50, n_boot=0)
    f = bc.fits["exp"]
    ref = expected_slopes(np.array([f.b]), np.array([f.m]), bc.k.astype(float), 400.0, 1.0)[0]
    np.testing.assert_allclose(f.observed, ref + f.c, rtol=1e-12)
    # the slopes follow E[r_k], not b m^k of long trials (m = 0.95 against 400 bins)
    rms = [np.sqrt(np.mean((curve - bc.r_k) ** 2)) for curve in (f.observed, f.curve(bc.k))]
    assert rms[0] < 0.3 * rms[1]
    assert bc.bias_correction and bc.to_dict()["bias_correction"] is True
    assert not raw.bias_correction and raw.fits["exp"].observed.size == 0


def test_bias_corrected_refits_do_not_leak_numpy_overflow_warnings():
    # the secant refit can step far past the grid (exp overflows); that row is refitted by
    # the full search, so NumPy's RuntimeWarning said nothing true to the user
    act = C.simulate_branching_process(0.35, 2.0, 50, trials=64, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", C.CriticalityWarning)
        res = C.branching_ratio(act, method="mr", bias_correction=True, seed=0, n_boot=20)
    assert np.isfinite(res.m)


def test_kmin_fits_from_lag_kmin_like_mrestimator():
    act = C.simulate_branching_process(0.97, 10.0, 6_000, trials=6, subsample=0.1, seed=3)
    ours = C.branching_ratio(act, kmin=5, kmax=100, n_boot=0)
    assert ours.k[0] == 1  # slopes are still reported from lag 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rk = mre.coefficients(act, steps=(5, 100), method="ts", numboot=0)
        fit = mre.fit(rk, fitfunc="exponential", numboot=0)
    assert ours.m == pytest.approx(fit.mre, abs=2e-4)
    np.testing.assert_allclose(ours.r_k[4:], rk.coefficients, rtol=1e-8, atol=1e-10)
    with pytest.raises(InputError):
        C.branching_ratio(act, kmin=99, kmax=100)


def test_signed_signals_are_accepted_and_shift_invariant():
    act = C.simulate_branching_process(0.9, 5.0, 2_000, trials=4, seed=7).astype(float)
    centred = act - act.mean()
    with pytest.raises(InputError, match="negative"):
        C.branching_ratio(centred, kmax=30, n_boot=0)
    a = C.branching_ratio(act, kmax=30, n_boot=0)
    b = C.branching_ratio(centred, kmax=30, n_boot=0, signed=True)
    assert b.m == pytest.approx(a.m, abs=1e-7)  # the golden section stops at ~1e-7
    np.testing.assert_allclose(b.r_k, a.r_k, atol=1e-10)


def test_signed_signals_keep_the_min_events_guard():
    # six events in 400 bins: centred, every bin was non-zero and the guard let m = 0.16 through
    counts = np.zeros(400)
    counts[[50, 51, 52, 200, 201, 300]] = [1, 2, 1, 1, 1, 1]
    for x, kw in ((counts, {}), (counts - counts.mean(), {"signed": True})):
        with pytest.warns(C.CriticalityWarning, match="only 6 "):
            r = C.branching_ratio(x, n_boot=0, **kw)
        assert np.isnan(r.m) and not r.meaningful
    assert B._event_bins(np.array([[0.5, 0.5, 1.5, -2.0]]), signed=True) == 2
    with pytest.warns(C.CriticalityWarning, match="the activity is constant"):  # not "all zero"
        C.branching_ratio(np.full(100, -0.5), n_boot=0, signed=True)


def _documented_expectation(b, m, k, T, n):
    """E[r_k] of the _mr_bias docstring, every sum taken term by term
    (rho(h) = b m^|h|, rho(0) = 1)."""

    def rho(h):
        h = np.abs(np.asarray(h))
        return np.where(h == 0, 1.0, b * m ** h.astype(float))

    L = T - k
    i, j = np.arange(k, k + L)[:, None], np.arange(L)[None, :]
    S = rho(i - j).sum() / (n * L * L)
    i0 = np.arange(L)[:, None]
    S0 = rho(i0 - j).sum() / (n * L * L)
    h = np.arange(-3000, 3001)
    A_k = float(np.sum(rho(h) * rho(h + k)))
    A_0 = float(np.sum(rho(h) ** 2))
    return (float(rho(k)) - S) / (1.0 - S0) - 2.0 * (A_k - float(rho(k)) * A_0) / (n * L)


@pytest.mark.parametrize("n_pool", [1.0, 3.0])
def test_expected_slopes_are_the_documented_expansion_at_long_lags(n_pool):
    """Lags up to 0.7 T, where L = T - k and T differ: each term of the first-order
    expansion (mean and ratio bias) enters with its own L."""
    b, m, T = 0.6, 0.8, 100.0
    k = np.array([1.0, 10.0, 40.0, 70.0])
    got = expected_slopes(np.array([b]), np.array([m]), k, T, n_pool)[0]
    want = [_documented_expectation(b, m, int(kk), int(T), n_pool) for kk in k]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_kmin_must_leave_lags_within_the_trials_when_kmax_is_automatic():
    # kmin = 150 of 200 bins fitted three noise slopes (lags 150-152) as an estimate, and
    # kmin = 1000 gave m = nan with a generic note
    act = C.simulate_branching_process(0.9, 20.0, 200, trials=20, seed=1)
    with pytest.raises(InputError, match=r"kmin=189 is too large for 200 bins"):
        C.branching_ratio(act, kmin=189, n_boot=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        res = C.branching_ratio(act, kmin=100, n_boot=0)  # past the automatic kmax (5 tau)
    assert res.k[-1] == 102 and not any("kmax limited to" in w for w in res.warnings)
    assert any("kmin=100 lies past the lags" in w for w in res.warnings)
    # its m was reported as meaningful (0.776 for 0.9, an amplitude of 1e107): refused now
    assert (
        not res.meaningful
        and np.isnan(res.m)
        and "m is not reported; lower kmin" in str(res.warnings)
    )


def test_kmin_past_the_trial_length_cap_keeps_its_m():
    # the refusal of kmin past 5 tau caught a kmax capped at T/10 by short trials, whose lags
    # are not noise (m 0.960, 0.967 at kmin = 5), and said "up to about 5 tau"
    act = C.simulate_branching_process(m=0.99, h=20, T=200, trials=50, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        res = C.branching_ratio(act, kmin=19, n_boot=20)
    assert res.meaningful and 0.9 < res.m < 1.0 and res.k[-1] == 21
    said = " ".join(res.warnings)
    assert "kmin=19 lies past the automatic kmax (20, at most T/10 for trials of 200" in said
    assert "kmax limited to 20" in said and "mostly noise" not in said


def test_trials_too_short_for_the_automatic_kmax_say_so_not_kmin():
    """Trials under 30 bins: the automatic kmax (T/10 = 2) fell below 3 lags and the note blamed
    "kmin=1 ... (up to about 5 tau, kmax=2)", a kmin the user never set."""
    act = C.simulate_branching_process(0.9, 5.0, 20, trials=50, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        res = C.branching_ratio(act, n_boot=0)
    assert not any("kmin=" in w for w in res.warnings), res.warnings
    assert any("trials of 20 bins are short for MR" in w for w in res.warnings), res.warnings


def test_tau_interval_of_a_growing_process_holds_its_tau():
    """m >= 1 gives tau < 0 (growth), but tau_ci was (tau_lo, inf): without the estimate."""
    rng = np.random.default_rng(0)
    a = np.zeros((10, 400))
    a[:, 0] = 20
    for t in range(1, 400):
        a[:, t] = rng.poisson(1.005 * a[:, t - 1] + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        res = C.branching_ratio(a, kmax=40, n_boot=50, seed=0)
    fit = res.fits["exp"]
    assert fit.m >= 1 and fit.tau < 0
    assert fit.tau_ci[0] <= fit.tau <= fit.tau_ci[1]
    from infodyn.criticality.mr_fit import _tau_interval

    above = _tau_interval(np.array([1.01, 1.02]), 1.0, 1.015)  # wholly above 1: finite
    assert above == pytest.approx((-1 / np.log(1.01), -1 / np.log(1.02)))
    assert _tau_interval(np.array([0.98, 1.02]), 1.0, 0.999)[1] == np.inf


def _replicate_rows(m: float, t: int, n_boot: int, seed: int) -> np.ndarray:
    sums = B._lag_sums(C.simulate_branching_process(m, 10.0, t, trials=10, seed=seed), 30)
    return B._slopes_ts(sums, B._boot_weights(10, n_boot, np.random.default_rng(seed)))


def test_the_corrected_fit_is_a_fixed_point_of_each_row_alone():
    """Every row is iterated until the correction settles: one more step of the iteration
    (refit ``r - delta`` at the returned (b, m)) moves ln m by less than 1e-5 in 99 % of rows
    (a row stopped after one or two refits moves by ~1e-3), and a row's result is the same
    whether it is fitted alone or among others (rows stop one by one now)."""
    k = np.arange(1.0, 31.0)
    w = np.ones(30)

    def plain(x, start=None):
        return B._fit_lnm(x, k, w, False, start)

    for m, t in ((0.9, 300), (0.95, 300), (0.98, 1000)):
        r = _replicate_rows(m, t, 300, 1)
        x, b, c, _ = fit_corrected(plain, r, k, float(t), 1.0)
        ok = np.isfinite(x)
        assert ok.sum() > 100
        mm = np.exp(x[ok])
        delta = expected_slopes(b[ok], mm, k, float(t), 1.0) - b[ok, None] * mm[:, None] ** k
        x_next = plain(r[ok] - delta, x[ok])[0]
        moved = np.abs(x_next - x[ok])
        assert np.mean(moved < 1e-5) >= 0.99 and np.median(moved) < 1e-6, (m, t, moved.max())
        some = np.flatnonzero(ok)[::37]
        alone = np.array([fit_corrected(plain, r[i : i + 1], k, float(t), 1.0)[0][0] for i in some])
        np.testing.assert_allclose(alone, x[some], rtol=0, atol=1e-12)


def test_one_small_step_does_not_stop_the_fixed_point_iteration():
    """A row's iteration can take one small step by chance and move again (steps of 2.7e-3,
    8.7e-8, 3.5e-4 were seen where a large correction makes it wander): a row stops after two
    steps below the tolerance in a row, not one. A scripted fit moves one row by these steps."""
    steps = [2.7e-3, 8.7e-8, 3.5e-4, 4e-7, 3e-8, 1e-3]
    x0 = np.log(0.9)

    def scripted(rows, start=None):
        scripted.calls += start is not None  # the n-th refit has taken n steps
        x = np.full(rows.shape[0], x0 + sum(steps[: scripted.calls]))
        ones = np.ones(rows.shape[0])
        return x, 0.5 * ones, 0 * ones, 0 * ones

    scripted.calls = 0
    k = np.arange(1.0, 11.0)
    x = fit_corrected(scripted, np.zeros((1, 10)), k, 1000.0, 1.0)[0]
    assert scripted.calls == 5 and x[0] == pytest.approx(x0 + sum(steps[:5]), abs=1e-15)
