"""Intervals of the branching ratio (``ci_method``): the symmetric bootstrap-t against a direct
computation, its inner resampling, its coverage on simulated branching processes, input checks."""

from __future__ import annotations

import re
import time
import warnings

import numpy as np
import pytest

import infodyn.criticality as C
from infodyn.criticality._mr_interval import inner_weights, symmetric_t
from infodyn.errors import InputError


def test_symmetric_t_matches_a_direct_computation():
    rng = np.random.default_rng(1)
    est = 0.9
    boot = est + 0.02 * rng.standard_normal(40)
    inner = boot[:, None] + rng.uniform(0.005, 0.03, 40)[:, None] * rng.standard_normal((40, 15))
    inner[3, :14] = np.nan  # one finite inner estimate: replicate 3 is left out
    inner[5, 2] = np.nan  # a failed inner fit: left out of replicate 5's spread
    t = []
    for b in range(40):
        vals = inner[b][~np.isnan(inner[b])]
        if vals.size >= 2:
            t.append(abs(boot[b] - est) / np.std(vals, ddof=1))
    # 39 usable replicates: the ceil(40 * 0.9) = 36th smallest |t*|
    assert len(t) == 39
    half = sorted(t)[35] * np.std(boot, ddof=1)
    lo, hi = symmetric_t(est, boot, inner, 0.9)
    assert (lo, hi) == pytest.approx((est - half, est + half), rel=1e-12)
    assert np.isnan(symmetric_t(est, boot[:1], inner[:1], 0.9)[0])


def test_inner_resamples_draw_from_the_replicates_units():
    rng = np.random.default_rng(2)
    n, nb, ni = 6, 20, 2000
    idx = rng.integers(0, n, size=(nb, n))
    w = np.zeros((nb, n))
    np.add.at(w, (np.arange(nb)[:, None], idx), 1.0)
    wi = inner_weights(w, ni, rng).reshape(nb, ni, n)
    assert np.all(wi.sum(axis=2) == n)  # each inner resample has n units
    assert np.all(wi[w[:, None, :].repeat(ni, 1) == 0] == 0)  # none outside the replicate
    # a unit's expected inner multiplicity is its outer multiplicity (sd of the mean <= 0.03)
    np.testing.assert_allclose(wi.mean(axis=1), w, atol=0.15)


def test_symmetric_t_interval_is_symmetric_and_recorded():
    act = C.simulate_branching_process(0.9, 10.0, 300, trials=10, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        plain = C.branching_ratio(act, kmax=30, n_boot=40, bias_correction=True)
        sym = C.branching_ratio(
            act, kmax=30, n_boot=40, bias_correction=True, ci_method="symmetric_t", n_inner=6
        )
        naive = C.branching_ratio(act, method="naive", n_boot=40, ci_method="symmetric_t")
    assert plain.ci_method == "centred_percentile" and sym.ci_method == "symmetric_t"
    assert sym.to_dict()["ci_method"] == "symmetric_t" and sym.to_dict()["n_inner"] == 6
    # the same outer replicates (drawn before the inner ones), a different interval
    np.testing.assert_array_equal(sym.fits["exp"].m_boot, plain.fits["exp"].m_boot)
    assert sym.m == plain.m and sym.m_ci != plain.m_ci
    for res in (sym, naive, *sym.fits.values()):
        lo, hi = res.m_ci
        assert lo < res.m < hi
        assert res.m - lo == pytest.approx(hi - res.m, rel=1e-9)
        assert res.tau_ci[0] == pytest.approx(-1.0 / np.log(lo))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ci_method": "bca"}, "ci_method"),
        ({"ci_method": "symmetric_t", "n_inner": 1}, "n_inner"),
        ({"n_inner": 2.5}, "n_inner"),
        ({"n_inner": True}, "n_inner"),
        ({"n_inner": "20"}, "n_inner"),
    ],
)
def test_bad_interval_options_raise(kwargs, message):
    act = C.simulate_branching_process(0.9, 10.0, 300, trials=10, seed=4)
    with pytest.raises(InputError, match=message):
        C.branching_ratio(act, kmax=30, **kwargs)


@pytest.mark.slow  # about 40 s of CPU
def test_symmetric_t_covers_at_the_nominal_rate_on_simulated_branching_processes():
    # 200 runs of a driven branching process (m = 0.9, h = 10, 10 trials x 300 bins; tau ~ 9.5
    # bins), MR with kmax 30, 50 bootstrap replicates over trials, 20 inner replicates each.
    # Bias-corrected, the symmetric bootstrap-t covers m in 0.956 of 800 other runs (0.963
    # subsampled; benchmarks/RESULTS.md; conservative at B = 50). The binomial standard error
    # of 200 runs is 0.015, so the test accepts 0.95 - 2.5 se. An interval known to be wrong,
    # the default one around the uncorrected fit (the O(tau/T) bias is the same in every
    # replicate), fails that bound.
    m, n_runs, t0 = 0.9, 200, time.process_time()
    lower = 0.95 - 2.5 * np.sqrt(0.95 * 0.05 / n_runs)
    hits, wrong, widths = 0, 0, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        for i in range(n_runs):
            act = C.simulate_branching_process(m, 10.0, 300, trials=10, seed=i)
            res = C.branching_ratio(
                act,
                kmax=30,
                n_boot=50,
                seed=i,
                bias_correction=True,
                ci_method="symmetric_t",
                n_inner=20,
            )
            hits += bool(res.m_ci[0] <= m <= res.m_ci[1])
            widths.append(res.m_ci[1] - res.m_ci[0])
            lo, hi = C.branching_ratio(act, kmax=30, n_boot=50, seed=i).m_ci
            wrong += bool(lo <= m <= hi)
    covered, uncorrected = hits / n_runs, wrong / n_runs
    print(f"coverage {covered:.3f} (wrong {uncorrected:.3f}), {time.process_time() - t0:.1f} s")
    assert lower <= covered <= 0.99, covered
    assert uncorrected < lower - 0.05, uncorrected
    assert np.all(np.isfinite(widths)) and np.median(widths) < 0.2


def test_symmetric_t_takes_the_ceil_b_plus_1_ci_order_statistic():
    """B = 20 usable replicates at ci = 0.95: j = ceil(21 * 0.95) = 20, the largest |t*|
    (ceil(20 * 0.95) = 19 would under-cover); the existing check used B = 39, ci = 0.9, where
    both rules give 36."""
    rng = np.random.default_rng(3)
    est = 0.9
    boot = est + 0.02 * rng.standard_normal(20)
    inner = boot[:, None] + 0.01 * rng.standard_normal((20, 10))
    t = np.sort(np.abs(boot - est) / np.std(inner, axis=1, ddof=1))
    half = t[19] * np.std(boot, ddof=1)
    assert t[19] > t[18]
    assert symmetric_t(est, boot, inner, 0.95) == pytest.approx((est - half, est + half), rel=1e-12)


@pytest.mark.parametrize("n_boot,ci_method", [(3, "symmetric_t"), (2, "centred_percentile")])
def test_too_few_replicates_for_the_level_are_said(n_boot, ci_method):
    """With B < ci / (1 - ci) (19 at 95 %) the ceil((B + 1) ci)-th of B values does not exist:
    bootstrap-t took the largest, at most B / (B + 1) (75 % at B = 3), reported as 95 % without
    a word; the percentile interval spanned two replicates. From 19 on nothing is said."""
    a = C.simulate_branching_process(0.9, 10, 2000, 5, seed=0)
    need = 19 if ci_method == "symmetric_t" else 39  # (each percentile tail needs one beyond)
    said = f"replicates cannot resolve a 95 % {ci_method} interval (it needs at least {need})"
    with pytest.warns(UserWarning, match=re.escape(f"n_boot = {n_boot} {said}")):
        C.branching_ratio(a, n_boot=n_boot, ci_method=ci_method, seed=0)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        C.branching_ratio(a, n_boot=need, ci_method=ci_method, seed=0)
    assert not [w for w in seen if "cannot resolve" in str(w.message)]


@pytest.mark.parametrize("ci,need", [(0.9, 9), (0.95, 19), (0.975, 39), (0.99, 99), (0.995, 199)])
def test_the_replicates_a_bootstrap_t_level_needs(ci, need):
    """The smallest B with ceil((B + 1) ci) <= B, and the advice never below it."""
    from infodyn.criticality._mr_interval import few_replicates_note

    assert few_replicates_note(need, ci, "symmetric_t") is None
    note = few_replicates_note(need - 1, ci, "symmetric_t")
    assert f"(it needs at least {need})" in note and f"use n_boot >= {max(100, need)}" in note


def _failed_and_kept(act, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        return C.branching_ratio(act, n_boot=100, seed=1, **kwargs)


def test_replicates_left_out_of_the_interval_are_said():
    """m = 0.9 on 10 trials of 100 bins: 32 of 100 bias-corrected replicate fits fail (the
    correction does not hold), and they are the replicates of largest m; the interval of the
    other 68 was reported without a word."""
    act = C.simulate_branching_process(0.9, 10.0, 100, trials=10, seed=1)
    res = _failed_and_kept(act, bias_correction=True)
    failed = ~np.isfinite(res.fits["exp"].m_boot)
    assert failed.sum() == 32 and res.fits["exp"].m_boot.size == 100
    said = [w for w in res.warnings if "bootstrap replicates are left out" in w]
    assert len(said) == 1 and said[0].startswith("32 of 100 bootstrap replicates"), res.warnings
    assert "32 have a finite-trial bias" in said[0] and "upper end may be too low" in said[0]
    assert "or a smaller kmax" in said[0] and np.all(np.isfinite(res.m_ci))
    plain = _failed_and_kept(act).fits["exp"].m_boot  # the same replicates, uncorrected
    assert np.median(plain[failed]) > np.median(plain[~failed])
    # the bootstrap-t (symmetric: too narrow, not too low) counts the replicates it used,
    # those its inner replicates dropped (5 inner fits leave some without two finite) too
    sym = _failed_and_kept(act, bias_correction=True, ci_method="symmetric_t", n_inner=5)
    said = [w for w in sym.warnings if "left out" in w]
    assert len(said) == 1 and "32 have a finite-trial bias" in said[0], sym.warnings
    assert "so the interval may be too narrow" in said[0] and "upper end" not in said[0]
    left = int(said[0].split(" of 100")[0])
    assert left > 32 and f"{left - 32} have fewer than two finite inner fits" in said[0]
    # 40 replicates leave 28, fewer than a 95 % percentile interval needs: said with the
    # n_boot that leaves enough at this rate of failures (ceil(39 * 40 / 28) = 56)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        few = C.branching_ratio(act, n_boot=40, seed=1, bias_correction=True)
    said = [w for w in few.warnings if "left out" in w]
    assert len(said) == 1 and "the 28 left cannot resolve a 95 % centred_percentile" in said[0]
    assert said[0].endswith("use n_boot >= 56"), said


def test_left_out_replicates_of_the_naive_slope_and_of_one_trial_drawn_again():
    """The naive estimator takes no kmax (not advised); replicates a bootstrap-t drops for
    lack of inner spread (3 trials: 13 of 100 replicates are one trial three times) are not
    blamed on their fits."""
    act = C.simulate_branching_process(0.8, 10.0, 20, trials=10, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        naive = C.branching_ratio(act, method="naive", bias_correction=True, n_boot=100, seed=1)
        three = C.branching_ratio(
            C.simulate_branching_process(0.9, 10.0, 150, trials=3, seed=1),
            ci_method="symmetric_t", n_inner=5, n_boot=100, seed=1,
        )  # fmt: skip
    said = [w for w in naive.warnings if "left out" in w]
    assert len(said) == 1 and "use longer trials" in said[0] and "kmax" not in said[0]
    said = [w for w in three.warnings if "left out" in w]
    assert len(said) == 1 and "not finite" not in said[0] and "finite-trial" not in said[0]
    assert said[0].startswith("13 of 100") and np.all(np.isfinite(three.m_ci))
    assert "13 have fewer than two finite inner fits or no spread" in said[0], said


def test_no_note_when_every_replicate_is_used():
    act = C.simulate_branching_process(0.9, 10.0, 2000, trials=10, seed=1)
    for kwargs in ({}, {"bias_correction": True}, {"method": "naive"}):
        res = _failed_and_kept(act, **kwargs)
        assert not any("left out" in w for w in res.warnings), (kwargs, res.warnings)


def test_a_bootstrap_t_of_two_trials_gives_no_interval_not_a_point():
    """2 trials: replicates holding one trial twice have no inner spread (dropped), those
    holding both once equal the estimate, so the interval was (m, m) at "95 %"; it is NaN now,
    beside the note that 2 trials make intervals unreliable (the percentile interval stays)."""
    act = C.simulate_branching_process(0.9, 10.0, 150, trials=2, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        sym = C.branching_ratio(act, ci_method="symmetric_t", n_inner=5, n_boot=100, seed=1)
        pct = C.branching_ratio(act, n_boot=100, seed=1)
    assert np.isfinite(sym.m) and np.all(np.isnan(sym.m_ci)), sym.m_ci
    assert any("only 2 trials" in w for w in sym.warnings)
    assert pct.m_ci[0] < pct.m < pct.m_ci[1]
    est = 0.8
    assert np.all(np.isnan(symmetric_t(est, np.full(30, est), np.ones((30, 4)), 0.95)))
