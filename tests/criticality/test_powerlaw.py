"""Power-law fits: Hurwitz zeta, MLE, xmin by KS, comparisons, bootstrap; powerlaw cross-check."""

from __future__ import annotations

import warnings

import numpy as np
import powerlaw
import pytest
from scipy import optimize, special

import infodyn.criticality as C
from infodyn.criticality._zeta import hurwitz_zeta_array
from infodyn.errors import InputError


def test_hurwitz_zeta_matches_scipy():
    s = np.repeat([1.001, 1.5, 2.0, 3.7, 8.0, 20.0, 30.0], 7)
    q = np.tile([1.0, 2.0, 7.5, 10.0, 33.0, 1234.0, 1e7], 7)
    np.testing.assert_allclose(hurwitz_zeta_array(s, q), special.zeta(s, q), rtol=1e-13)


def test_discrete_sampler_matches_the_pmf():
    x = C.sample_power_law(200_000, 2.5, 3, discrete=True, seed=1)
    assert x.min() == 3
    vals = np.arange(3, 10)
    p = vals**-2.5 / special.zeta(2.5, 3)
    freq = np.array([(x == v).mean() for v in vals])
    assert np.all(np.abs(freq - p) < 4.5 * np.sqrt(p * (1 - p) / x.size))
    # the far tail (beyond the table) follows the continuous approximation
    y = C.sample_power_law(100_000, 1.5, 1, discrete=True, seed=2, table=100)
    assert (y >= 1000).mean() == pytest.approx(
        special.zeta(1.5, 1000) / special.zeta(1.5, 1), rel=0.08
    )


@pytest.mark.parametrize("discrete", [True, False])
def test_recovers_alpha_and_xmin_of_a_power_law_tail(discrete):
    rng = np.random.default_rng(3)
    xmin_true, alpha = 10, 2.2
    tail = C.sample_power_law(4000, alpha, xmin_true, discrete=discrete, seed=4)
    body = rng.integers(1, xmin_true, 3000) if discrete else rng.uniform(1, xmin_true, 3000)
    fit = C.fit_power_law(np.concatenate([body, tail]), discrete=discrete, compare=False)
    assert abs(fit.alpha - alpha) < 3 * fit.sigma
    assert 0.9 * xmin_true <= fit.xmin <= 2 * xmin_true
    assert fit.sigma == pytest.approx((fit.alpha - 1) / np.sqrt(fit.n_tail), rel=0.2)
    assert 0 < fit.D < 0.05


@pytest.mark.parametrize("discrete", [True, False])
def test_agrees_with_the_powerlaw_package(discrete):
    rng = np.random.default_rng(0)
    body = rng.geometric(0.3, 800)
    x = np.concatenate([body[body < 5], C.sample_power_law(800, 2.3, 5, True, 1)])
    if not discrete:
        x = x * rng.uniform(1.0, 1.001, x.size)
    ours = C.fit_power_law(x, discrete=discrete, min_tail=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = powerlaw.Fit(x, discrete=discrete, estimate_discrete=False, verbose=False)
        ref_cmp = {
            alt: ref.distribution_compare("power_law", alt, normalized_ratio=alt != "t")
            for alt in ("exponential", "lognormal")
        }
    if discrete:  # same candidates, same KS statistic: identical choice
        assert ours.xmin == pytest.approx(ref.xmin)
        assert ours.alpha == pytest.approx(ref.alpha, abs=0.1 * ref.sigma)
        assert ours.D == pytest.approx(ref.D, abs=1e-4)
        assert ours.n_tail == ref.n_tail
    else:  # two-sided vs one-sided KS on continuous data: neighbouring xmin can win
        assert ours.xmin == pytest.approx(ref.xmin, rel=0.05)
        assert ours.alpha == pytest.approx(ref.alpha, abs=ref.sigma)
        assert ours.D == pytest.approx(ref.D, abs=5e-3)
    assert ours.sigma == pytest.approx(ref.sigma, rel=0.1)
    # exponential: same closed-form MLE, so the same normalised ratio and p-value
    r_exp, p_exp = ref_cmp["exponential"]
    if discrete:  # same tail
        assert ours.comparisons["exponential"].normalized_R == pytest.approx(r_exp, rel=1e-3)
        assert ours.comparisons["exponential"].p == pytest.approx(p_exp, rel=0.01, abs=1e-6)
    else:
        assert ours.comparisons["exponential"].normalized_R == pytest.approx(r_exp, rel=0.1)
    # lognormal: the power law and lognormal are indistinguishable here for both packages
    assert ours.comparisons["lognormal"].favored == "neither"
    assert ref_cmp["lognormal"][1] > 0.1


def test_comparisons_pick_the_generating_family():
    rng = np.random.default_rng(7)
    expo = np.floor(rng.exponential(20.0, 3000)) + 1
    f = C.fit_power_law(expo, xmin=1)
    assert f.comparisons["exponential"].favored == "exponential"
    logn = np.floor(rng.lognormal(2.0, 0.6, 3000)) + 1
    f = C.fit_power_law(logn, xmin=3)
    assert f.comparisons["lognormal"].favored == "lognormal"
    pl = C.sample_power_law(3000, 1.8, 1, discrete=True, seed=8)
    f = C.fit_power_law(pl, xmin=1)
    assert f.comparisons["exponential"].favored == "power_law"
    assert f.comparisons["truncated_power_law"].favored == "neither"
    # a power law with a clear exponential cutoff: thin by e^{-x/200}
    cut = pl[rng.random(pl.size) < np.exp(-pl / 200.0)]
    f = C.fit_power_law(cut, xmin=1)
    tpl = f.comparisons["truncated_power_law"]
    assert tpl.favored == "truncated_power_law" and tpl.nested
    assert tpl.params["lambda"] == pytest.approx(1 / 200.0, rel=0.5)


def test_truncated_normaliser_matches_brute_force_sum():
    from infodyn.criticality.powerlaw import _log_z_cutoff

    xs = np.arange(3, 3_000_003, dtype=float)
    for a, lam in [(1.5, 1e-3), (0.5, 0.01), (3.0, 0.5), (2.0, 1e-4)]:
        brute = np.log(np.sum(xs**-a * np.exp(-lam * xs)))
        assert _log_z_cutoff(a, lam, 3.0, True, 1000) == pytest.approx(brute, abs=1e-7)


def test_bootstrap_goodness_of_fit():
    pl = C.sample_power_law(400, 2.5, 1, discrete=True, seed=5)
    good = C.fit_power_law(pl, bootstrap=40, seed=1, compare=False, min_tail=20)
    assert good.p_value > 0.1
    rng = np.random.default_rng(2)
    expo = np.floor(rng.exponential(8.0, 400)) + 1
    bad = C.fit_power_law(expo, xmin=1, bootstrap=40, seed=1, compare=False)
    assert bad.p_value < 0.1


def test_to_dict_and_pdf():
    pl = C.sample_power_law(2000, 2.0, 2, discrete=True, seed=1)
    f = C.fit_power_law(pl)
    d = f.to_dict()
    assert d["alpha"] == f.alpha and set(d["comparisons"]) == {
        "exponential",
        "lognormal",
        "truncated_power_law",
    }
    k = np.arange(int(f.xmin), 100000)
    assert f.pdf(k).sum() == pytest.approx(1.0, abs=0.01)
    assert f.ccdf(f.xmin) == pytest.approx(1.0)


@pytest.mark.parametrize("values", [[5], [3, 3, 3, 3]])
def test_too_little_data_warns_and_returns_nan(values):
    with pytest.warns(C.CriticalityWarning, match="not meaningful"):
        f = C.fit_power_law(values)
    assert np.isnan(f.alpha) and not f.meaningful


@pytest.mark.parametrize(
    "values,kw",
    [([0, 1, 2], {}), ([1.5, 2.0], {}), ([1.0, np.nan], {}), ([], {}), ([1, 2, 3], {"xmin": -1})],
)
def test_bad_values_raise(values, kw):
    with pytest.raises(InputError):
        C.fit_power_law(values, **kw)


@pytest.mark.parametrize(
    "args,message",
    [
        ((-1, 2.5, 1), "n must be a whole number"),  # a raw "negative dimensions" ValueError
        ((2.5, 2.5, 1), "n must be a whole number"),
        ((5, 2.5, 1.5), "xmin must be an integer"),  # gave 1.5, 2.5, 9.5: fit_power_law refuses
        ((5, np.nan, 1), "alpha must be a finite number > 1"),
        ((5, 2.5, np.inf), "xmin must be a finite number > 0"),
        ((5, 2.5, 1e300), "a discrete xmin must be at most 2.53"),  # ZeroDivisionError
        ((5, 1.0001, 1), "draws exceed float64's range"),  # inf values, with a warning
        ((5, 1e300, 1), "a discrete alpha must be at most 1000"),  # ran for ever
        ((5, "2.5", 1), "alpha must be a finite number > 1"),  # a raw TypeError
        ((5, 2.5, True), "xmin must be a finite number > 0"),  # xmin 1
    ],
)
def test_sample_power_law_refuses_what_fit_power_law_would(args, message):
    with pytest.raises(InputError, match=message):
        C.sample_power_law(*args, discrete=True)


def test_scaled_hurwitz_zeta_is_c_to_the_s_times_zeta():
    from infodyn.criticality._zeta import hurwitz_zeta_scaled

    for s, q, c in [(2.5, 3.0, 1.0), (30.0, 50.0, 40.0), (8.0, 1234.0, 1000.0), (1.5, 7.5, 9.0)]:
        assert hurwitz_zeta_scaled(s, q, c) == pytest.approx(c**s * special.zeta(s, q), rel=1e-13)


def test_discrete_sampler_with_a_zeta_below_float64s_range_follows_the_tail():
    # zeta(50, 1e7) ~ 1e-345 is 0 in float64: the table divided by it (ZeroDivisionError)
    x = C.sample_power_law(20_000, 50.0, 10**7, discrete=True, seed=0)
    assert x.min() == 10**7 and np.all(x == np.round(x))
    # P(X >= x) = zeta(50, x) / zeta(50, xmin) ~ ((x - 1/2) / (xmin - 1/2))^-49 (1 +- 1e-6 here)
    for p in (0.9, 0.5, 0.1):
        q = (10**7 - 0.5) * p ** (-1 / 49) + 0.5
        assert np.mean(x >= np.ceil(q)) == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / 2e4))


def test_sample_power_law_continuous_takes_a_fractional_xmin():
    x = C.sample_power_law(1000, 2.5, 1.5, discrete=False, seed=0)
    assert x.min() >= 1.5 and np.any(x != np.round(x))


@pytest.mark.parametrize("discrete", [True, False])
def test_fixed_xmin_reproduces_the_scan_choice(discrete):
    x = C.sample_power_law(3000, 2.2, 4, discrete=discrete, seed=3)
    f = C.fit_power_law(x, discrete=discrete, compare=False)
    g = C.fit_power_law(x, discrete=discrete, xmin=f.xmin, compare=False)
    assert g.xmin == f.xmin and g.n_tail == f.n_tail
    assert g.alpha == pytest.approx(f.alpha, abs=1e-8)
    assert g.D == pytest.approx(f.D, abs=1e-9)


def test_discrete_ks_counts_the_unobserved_integers_above_a_fixed_xmin():
    """xmin = 2 fixed below the smallest observed value (5): F_emp is 0 on 2..4 while the fitted
    law already holds F(4) there, so D >= F(4) (supremum over every integer >= xmin)."""
    x = C.sample_power_law(500, 2.5, 5, discrete=True, seed=1)
    assert x.min() == 5
    f = C.fit_power_law(x, xmin=2, compare=False)
    s = np.log(x).sum()
    a = optimize.minimize_scalar(
        lambda al: al * s + x.size * np.log(special.zeta(al, 2.0)),
        bounds=(1.0001, 20.0),
        method="bounded",
        options={"xatol": 1e-12},
    ).x
    k = np.arange(2, x.max() + 1)
    F = 1.0 - special.zeta(a, k + 1) / special.zeta(a, 2.0)
    emp = np.searchsorted(np.sort(x), k, side="right") / x.size
    assert f.alpha == pytest.approx(a, abs=1e-6)
    assert f.D == pytest.approx(np.max(np.abs(emp - F)), abs=1e-6)


def test_nested_cutoff_ratio_is_never_positive():
    """The cutoff law contains the power law (lambda -> 0), so R = ll_pl - ll_cutoff <= 0 and
    p = 1 at R = 0. On pure power-law data the bounded cutoff fit stops a little short of the
    power law's likelihood (raw R ~ +3e-5 here): the comparison must report R = 0, not R > 0."""
    x = C.sample_power_law(2000, 2.0, 1, discrete=True, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tpl = C.fit_power_law(x, xmin=1).comparisons["truncated_power_law"]
    assert tpl.nested and tpl.R <= 0.0
    assert tpl.p == 1.0 and tpl.favored == "neither"


def test_a_bootstrap_whose_draws_overflow_reports_no_p_value(monkeypatch):
    # near alpha = 1 synthetic draws exceed float64: the fit stopped with advice about an
    # alpha and an xmin the caller never gave
    import infodyn.criticality.powerlaw as pl

    def overflow(*a, **k):
        raise pl.DrawsOverflow("3 of 5 draws exceed float64's range")

    x = C.sample_power_law(500, 2.5, 1, discrete=True, seed=0)
    monkeypatch.setattr(pl, "sample_power_law", overflow)
    with pytest.warns(C.CriticalityWarning, match="no goodness-of-fit p-value"):
        fit = C.fit_power_law(x, bootstrap=2, compare=False)
    assert np.isnan(fit.p_value) and fit.alpha == pytest.approx(2.5, abs=0.3)
    monkeypatch.undo()
    with pytest.raises(InputError, match="seed must be a whole number"):  # not swallowed
        C.fit_power_law(x, bootstrap=2, compare=False, seed="a")


@pytest.mark.parametrize("alpha", [-2.0, 0.0, 0.5, 3.0, 10.0, 20.0, 50.0])
@pytest.mark.parametrize("lam_xmin", [1e-3, 0.7, 1.0, 50.0, 300.0])
def test_continuous_cutoff_normaliser_matches_quadrature(alpha, lam_xmin):
    # ln int_xmin^inf x^-alpha e^-lam x dx by quadrature of e^-lam t (1 + t/xmin)^-alpha: the
    # downward recurrence cancelled for steep tails (alpha 20, lam xmin 100: 12 nats off)
    from scipy import integrate

    from infodyn.criticality.powerlaw_compare import _log_z_cutoff

    xmin = 7.0
    lam = lam_xmin / xmin
    body, _ = integrate.quad(
        lambda t: np.exp(-lam * t - alpha * np.log1p(t / xmin)), 0, np.inf, epsrel=1e-12
    )
    expected = -alpha * np.log(xmin) - lam * xmin + np.log(body)
    got = _log_z_cutoff(alpha, lam, xmin, False, 1000)
    assert got == pytest.approx(expected, abs=1e-8 * max(1.0, abs(expected)))


@pytest.mark.parametrize("discrete", [True, False])
def test_the_cutoff_law_fits_at_least_as_well_as_the_exponential_it_contains(discrete):
    # x^-alpha e^-lam x is the exponential at alpha = 0: its likelihood ratio with the power
    # law can never exceed the exponential's; steep tails gave R_tpl = -29 against R_exp = -884
    # (discrete) and R_tpl = 0 (p = 1) against R_exp = -0.21 (continuous)
    rng = np.random.default_rng(0)
    if discrete:
        x = np.floor(400 + np.abs(rng.normal(0, 5, 1000)))
    else:
        x = 100 + np.abs(rng.normal(0, 1, 2000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = C.fit_power_law(x, discrete=discrete)
    exp_r = f.comparisons["exponential"].R
    assert f.comparisons["truncated_power_law"].R <= min(0.0, exp_r) + 1e-6
    assert not f.meaningful  # "the tail is not a power law", as its warning says (was True)
    if discrete:
        assert any("alpha hit the upper bound 20" in w for w in f.warnings)
    else:  # alpha is unbounded here: it is no bound that was hit
        assert f.alpha > 200
        assert any(w.startswith(f"alpha = {f.alpha:.4g} > 20") for w in f.warnings)
        assert not any("upper bound" in w for w in f.warnings)
        assert "log-slope at xmin (beta) reached +-100" in f.comparisons["lognormal"].bound


def test_no_stray_numpy_warning_from_the_exponential_comparison():
    x = np.round(C.sample_power_law(1000, 2.5, 1e12, discrete=False, seed=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        C.fit_power_law(x)


def test_a_fixed_xmin_keeps_the_min_tail_guard():
    """A fixed xmin skipped min_tail: 2 values at or above it gave an alpha called meaningful."""
    x = np.array([1, 1, 1, 2, 2, 3, 5, 8, 40, 1000])
    for xmin in (1, 40):
        with pytest.warns(C.CriticalityWarning, match=f"values >= xmin={xmin} .< min_tail=50."):
            f = C.fit_power_law(x, xmin=xmin)
        assert np.isnan(f.alpha) and not f.meaningful and f.n_tail == 0
        assert {c.favored for c in f.comparisons.values()} == {"neither"}
    f = C.fit_power_law(x, xmin=1, min_tail=10, compare=False)
    assert f.meaningful and f.n_tail == 10 and np.isfinite(f.alpha)


@pytest.mark.parametrize(
    ("s", "z"), [(1.0 - 4e9, 0.5), (-50.5, 0.01), (-20.3, 0.9), (-10.5, 1e-3), (-5.5, 0.1)]
)
def test_the_upper_gamma_of_very_negative_orders_is_exact_and_quick(s, z):
    """Below s = -10 the recurrence took -s steps: a continuous tail of near-equal values
    (alpha = 4e9) made a cutoff fit that did not end. mpmath (powerlaw's dependency) is the
    reference."""
    import mpmath

    from infodyn.criticality.powerlaw_compare import _log_upper_gamma

    mpmath.mp.dps = 40
    expected = float(mpmath.log(mpmath.gammainc(s, z)))
    assert _log_upper_gamma(s, z) == pytest.approx(expected, rel=1e-13)


def test_a_continuous_tail_of_near_equal_values_is_compared_in_a_moment():
    x = np.r_[np.ones(50), np.full(50, 1.0001)] + np.linspace(0, 1e-9, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        f = C.fit_power_law(x, discrete=False)
    assert f.alpha > 1e9 and not f.meaningful
    assert np.isfinite(f.comparisons["truncated_power_law"].R)


def test_a_fit_that_would_not_fit_in_memory_is_refused_first(monkeypatch):
    """5 x 10^6 continuous values took 580 MB in a fit with its comparisons, unchecked under
    any INFODYN_MEMORY_LIMIT: the need is checked, and said with what makes it smaller."""
    from infodyn.memory import MemoryPreflightError

    x = np.random.default_rng(0).pareto(1.5, 100_000) + 1.0
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "8M")  # 12.2 MiB with comparisons, 4.6 without
    with pytest.raises(
        MemoryPreflightError,
        match=r"^a power-law fit to 100,000 values and its comparisons needs 12.2 MiB .*; fit a "
        r"sample of the values, give xmin, or compare=False$",
    ):
        C.fit_power_law(x, discrete=False)
    fit = C.fit_power_law(x, discrete=False, compare=False, max_candidates=20)
    assert np.isfinite(fit.alpha)
