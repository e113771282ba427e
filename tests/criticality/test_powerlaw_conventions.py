"""Power-law conventions: the KS supremum for discrete data (checked against every integer),
a lognormal fit at its bound reported as 'neither', and a truncated xmin scan that says so."""

from __future__ import annotations

import warnings

import numpy as np
import powerlaw
import pytest
from scipy import optimize, special

import infodyn.criticality as C


def _brute_discrete(x: np.ndarray, xmin: float) -> tuple[float, float]:
    """(alpha, D): bounded 1-d MLE with SciPy's zeta, D = max over every integer >= xmin."""
    t = np.sort(x[x >= xmin])
    s = np.log(t).sum()
    res = optimize.minimize_scalar(
        lambda a: a * s + t.size * np.log(special.zeta(a, xmin)),
        bounds=(1.0001, 20.0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    k = np.arange(xmin, t.max() + 1)
    F = 1.0 - special.zeta(res.x, k + 1) / special.zeta(res.x, xmin)
    E = np.searchsorted(t, k, side="right") / t.size
    return float(res.x), float(np.max(np.abs(E - F)))


def _sparse_tail(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.integers(50, 300, 400), C.sample_power_law(400, 2.5, 300, True, seed)])
    return x[x <= 3000]


def test_discrete_ks_is_the_supremum_over_every_integer():
    x = _sparse_tail(1)
    for xmin in (300.0, 301.0, 517.0):  # 301 and 517 are not observed: the tail starts later
        f = C.fit_power_law(x, xmin=xmin, compare=False)
        a, d = _brute_discrete(x, xmin)
        assert f.alpha == pytest.approx(a, abs=1e-6)
        assert f.D == pytest.approx(d, abs=1e-6)


def test_discrete_xmin_scan_matches_the_brute_force_supremum_scan():
    # observed values only (the previous convention, and the powerlaw package's) chose 335;
    # the supremum over all integers >= xmin chooses 329
    x = _sparse_tail(1)
    f = C.fit_power_law(x, compare=False, min_tail=100)
    u = np.unique(x)
    u = u[np.array([(x >= v).sum() >= 100 for v in u])][:-1]
    d_ref, xmin_ref = min((_brute_discrete(x, v)[1], v) for v in u)
    assert f.xmin == xmin_ref == 329
    assert f.D == pytest.approx(d_ref, abs=1e-6)
    # the powerlaw package (KS at observed values) never reports a larger D at the same xmin
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = powerlaw.Fit(x, discrete=True, estimate_discrete=False, xmin=f.xmin, verbose=False)
    assert ref.power_law.alpha == pytest.approx(f.alpha, abs=1e-4)
    assert ref.power_law.D <= f.D + 1e-6


def test_lognormal_at_its_sigma_bound_is_neither():
    # a pure continuous power law: the lognormal tends to it as sigma -> inf and stops at the
    # bound sigma = 100; the ratio then said "power_law" (p = 0.085, R = 0.029 nats)
    x = C.sample_power_law(20000, 2.0, 1.0, discrete=False, seed=6)
    with pytest.warns(C.CriticalityWarning, match="lognormal fit stopped at a bound"):
        f = C.fit_power_law(x, discrete=False, xmin=1.0)
    ln = f.comparisons["lognormal"]
    assert ln.at_bound and ln.params["sigma"] == pytest.approx(100.0)
    assert ln.p < 0.1 and ln.R > 0  # the raw test still leans to the power law...
    assert ln.favored == "neither"  # ...but a fit at its bound cannot be trusted
    assert f.to_dict()["comparisons"]["lognormal"]["at_bound"] is True
    assert any("lognormal" in w for w in f.warnings)
    # an interior lognormal fit is untouched
    logn = np.floor(np.random.default_rng(7).lognormal(2.0, 0.6, 3000)) + 1
    g = C.fit_power_law(logn, xmin=3)
    assert not g.comparisons["lognormal"].at_bound
    assert g.comparisons["lognormal"].favored == "lognormal"


def test_truncated_xmin_scan_says_so_and_the_exhaustive_scan_finds_the_optimum():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(1, 10, 1500), C.sample_power_law(1500, 2.2, 10, False, 1)])
    with pytest.warns(C.CriticalityWarning, match="tried 40 of 2951 candidates"):
        short = C.fit_power_law(x, discrete=False, compare=False, max_candidates=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = C.fit_power_law(x, discrete=False, compare=False, max_candidates=None)
    # reference: the two-sided KS distance at every candidate, in NumPy
    xs = np.sort(x)
    best = (np.inf, None)
    for j in range(xs.size - 50 + 1):
        t = xs[j:]
        a = 1.0 + t.size / np.log(t / t[0]).sum()
        F = 1.0 - (t / t[0]) ** (1.0 - a)
        i = np.arange(t.size)
        d = max(np.abs((i + 1) / t.size - F).max(), np.abs(i / t.size - F).max())
        best = min(best, (d, t[0]))
    assert full.xmin == best[1] and full.D == pytest.approx(best[0], rel=1e-12)
    assert full.D <= short.D
    assert full.warnings == []


def test_continuous_likelihood_ratios_do_not_depend_on_the_datas_units():
    """A likelihood ratio of continuous data is unchanged by rescaling x (the densities' Jacobians
    cancel): the cutoff law's rate was bounded by 50 in the data's units, so durations in
    seconds got another R than the same durations in ms (-6.8 for -567 at 1e-6), and a mean
    below 2e-14 crossed its bounds (a raw SciPy ValueError)."""
    x = 1.0 + np.random.default_rng(0).exponential(5.0, 2000)
    rs = {}
    for scale in (1.0, 1e-3, 1e-6, 1e4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", C.CriticalityWarning)
            f = C.fit_power_law(x * scale, discrete=False, xmin=scale)
        rs[scale] = {k: c.R for k, c in f.comparisons.items()}
        assert not f.comparisons["truncated_power_law"].at_bound
    for scale, r in rs.items():
        for k, v in r.items():
            assert v == pytest.approx(rs[1.0][k], rel=1e-4, abs=1e-3), (scale, k)
    # the cutoff law contains the exponential: never a worse fit
    assert rs[1e-3]["truncated_power_law"] <= rs[1e-3]["exponential"] + 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        f = C.fit_power_law(np.arange(1, 200) * 1e-310, discrete=False)
    assert np.isfinite(f.comparisons["truncated_power_law"].R)


def test_discrete_lognormal_ratios_of_huge_sizes_are_the_continuous_ones():
    """Sizes of 1e13 are bins far narrower than float64 resolves as a difference of two logs:
    a lognormal sample favoured the power law (R = +17,000, p = 5e-8; the powerlaw package
    does the same). Bins that narrow hold the density: R is the continuous one, and at sizes
    near 1 the discrete R is not the continuous one (the bins are wide)."""
    base = np.random.default_rng(0).lognormal(0.0, 1.5, 2000)
    for scale, rel in ((1e8, 1e-6), (1e13, 1e-9)):
        x = np.round(base * scale) + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", C.CriticalityWarning)
            d = C.fit_power_law(x, discrete=True, xmin=scale).comparisons["lognormal"]
            c = C.fit_power_law(x, discrete=False, xmin=scale).comparisons["lognormal"]
        assert d.R == pytest.approx(c.R, rel=rel) and d.R < -40
        assert d.favored == "lognormal"


def test_a_fixed_xmin_above_the_data_or_under_one_value_gives_the_documented_nan_fit():
    """docs/criticality.md: with a fixed xmin, too few values at or above it give a NaN fit
    with a warning; none, one, or one distinct value raised an InputError."""
    for xmin, match in ((1000, "only 0 values"), (199, "only 1 values"), (190, "only 10")):
        with pytest.warns(C.CriticalityWarning, match=match):
            f = C.fit_power_law(np.arange(1, 200), xmin=xmin)
        assert np.isnan(f.alpha) and not f.meaningful
    with pytest.warns(C.CriticalityWarning, match="are all 5: no power law"):
        f = C.fit_power_law(np.r_[np.ones(10), np.full(60, 5.0)], xmin=5)
    assert np.isnan(f.alpha)
    with pytest.warns(C.CriticalityWarning, match="only 1 values"):
        C.fit_power_law(np.arange(1.0, 200.0), xmin=199.0, discrete=False)


def test_a_fixed_xmin_bootstrap_takes_synthetic_tails_of_one_value():
    """A steep tail at a fixed xmin: a synthetic tail is all ones in about 1 % of draws (P(X=1)
    = 0.92, 60 values), which raised 'xmin=1 leaves fewer than two distinct values'. Such a
    tail's KS distance is the limit of its fit (alpha at its bound): about 0, below D."""
    x = C.sample_power_law(60, 4.0, 1, True, seed=3)
    f = C.fit_power_law(x, xmin=1, bootstrap=500, compare=False)
    assert 0.0 <= f.p_value <= 1.0 and f.meaningful
    f = C.fit_power_law(np.r_[np.ones(46), 2, 2, 2, 3], xmin=1, bootstrap=200)
    assert 0.0 < f.p_value <= 1.0


def test_bootstrap_sets_without_an_xmin_candidate_are_left_out_of_p(monkeypatch):
    """A synthetic set that no xmin can fit (NaN D) was counted as a set below D, biasing p low;
    it is left out, and the fit says how many."""
    import infodyn.criticality.powerlaw as pl

    real = pl._scan
    calls = []

    def every_other_unfit(x, discrete, min_tail, xmin, max_candidates):
        calls.append(1)
        if len(calls) > 1 and len(calls) % 2 == 0:  # the data's own fit is the first call
            return np.nan, np.nan, np.nan, 0
        return real(x, discrete, min_tail, xmin, max_candidates)

    x = C.sample_power_law(300, 2.5, 1, True, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        whole = C.fit_power_law(x, bootstrap=40, compare=False, seed=5)
    monkeypatch.setattr(pl, "_scan", every_other_unfit)
    with pytest.warns(C.CriticalityWarning, match="20 of 40 synthetic sets could not be refitted"):
        half = C.fit_power_law(x, bootstrap=40, compare=False, seed=5)
    assert 0.0 < half.p_value <= 1.0
    assert half.p_value != pytest.approx(whole.p_value * 0.5)  # not counted as below D


def test_a_continuous_tail_of_one_value_above_xmin_is_fitted_not_taken_as_its_limit():
    """Only a tail all at xmin is the degenerate step (D = 0): one value above xmin has the
    closed-form MLE alpha = 1 + 1 / ln(t / xmin) and D = 1 - 1/e (it was given D = 0, so a
    bootstrap with a small min_tail counted such draws below D and reported p too low)."""
    from infodyn.criticality.powerlaw import _scan

    xm, alpha, d, n = _scan(np.array([2.0]), False, 2, 1.0, None)
    assert alpha == pytest.approx(1.0 + 1.0 / np.log(2.0)) and d == pytest.approx(1 - np.exp(-1))
    assert _scan(np.array([1.0, 1.0]), False, 2, 1.0, None)[1:3] == (np.inf, 0.0)
