"""Reference processes: the driven branching process and Galton-Watson avalanches."""

from __future__ import annotations

import numpy as np
import pytest

import infodyn.criticality as C
from infodyn.errors import InputError


def test_branching_process_moments_and_subsampling():
    m, h = 0.8, 4.0
    obs, full = C.simulate_branching_process(
        m, h, 40_000, trials=3, subsample=0.25, seed=1, return_full=True
    )
    assert obs.shape == full.shape == (3, 40_000)
    assert full.mean() == pytest.approx(h / (1 - m), rel=0.02)
    assert obs.mean() == pytest.approx(0.25 * h / (1 - m), rel=0.02)
    assert np.all(obs <= full)
    # lag-1 autocorrelation of the full process is m
    x = full - full.mean(axis=1, keepdims=True)
    r1 = (x[:, 1:] * x[:, :-1]).sum() / (x * x).sum()
    assert r1 == pytest.approx(m, abs=0.01)


def test_same_seed_same_result():
    a = C.simulate_branching_process(0.9, 2.0, 500, trials=2, subsample=0.5, seed=7)
    b = C.simulate_branching_process(0.9, 2.0, 500, trials=2, subsample=0.5, seed=7)
    c = C.simulate_branching_process(0.9, 2.0, 500, trials=2, subsample=0.5, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_branching_process_bad_input():
    with pytest.raises(InputError):
        C.simulate_branching_process(-0.1, 1.0, 10)
    with pytest.raises(InputError):
        C.simulate_branching_process(0.5, 1.0, 10, subsample=0.0)
    with pytest.raises(InputError), pytest.warns(C.CriticalityWarning):
        C.simulate_branching_process(1.5, 1.0, 10_000)  # explodes


def test_borel_law_for_poisson_one_galton_watson():
    av = C.galton_watson_avalanches(200_000, 1.0, seed=5)
    s = np.arange(1, 11)
    p = C.borel_pmf(s)
    # analytic values: P(1) = e^-1, P(2) = e^-2, P(3) = 3/2 e^-3
    np.testing.assert_allclose(p[:3], [np.exp(-1), np.exp(-2), 1.5 * np.exp(-3)])
    freq = np.array([(av.sizes == k).mean() for k in s])
    se = np.sqrt(p * (1 - p) / av.n)
    assert np.all(np.abs(freq - p) < 4.5 * se)
    # subcritical Borel sums to one
    assert C.borel_pmf(np.arange(1, 400), mu=0.5).sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("mu", [1.0, 0.5, 0.999])
def test_borel_pmf_keeps_its_digits_for_huge_sizes(mu):
    # e^(-mu s) (mu s)^(s-1) / s! in 50-digit arithmetic; float64 on the formula's own terms
    # gave 1.0 at s = 1e16 (P = 4e-25) and twice the answer at 1e15
    import mpmath

    s = np.array([1, 2, 7, 9, 10, 11, 150, 1e6, 1e15, 1e16, 2.0**60])
    want = []
    with mpmath.workdps(50):
        for k in s:
            k = mpmath.mpf(float(k))  # exact: k - 1 in float64 is k itself at 1e16
            log_p = -mu * k + (k - 1) * mpmath.log(mu * k) - mpmath.loggamma(k + 1)
            want.append(float(mpmath.exp(log_p)))
    np.testing.assert_allclose(C.borel_pmf(s, mu=mu), want, rtol=1e-12)


def test_galton_watson_durations_follow_extinction_recursion():
    m = 1.0
    av = C.galton_watson_avalanches(200_000, m, seed=6)
    q = [0.0]  # q_n = P(extinct by generation n) = exp(m (q_{n-1} - 1))
    for _ in range(30):
        q.append(np.exp(m * (q[-1] - 1.0)))
    for d in (1, 2, 5, 10, 30):
        emp = (av.durations <= d).mean()
        se = np.sqrt(q[d] * (1 - q[d]) / av.n)
        assert abs(emp - q[d]) < 4.5 * se


def test_galton_watson_truncation_flag():
    av = C.galton_watson_avalanches(2000, 1.0, max_size=100, seed=1)
    assert np.all(av.sizes[av.truncated] >= 100)
    assert np.all(av.sizes[~av.truncated] < 100)
    assert av.truncated.any()


def _gw():
    import infodyn.criticality as C

    return C.galton_watson_avalanches(200, 1.0, max_size=1000, seed=0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # each was a raw NumPy/Numba error or a MemoryError
        (lambda C: C.simulate_branching_process(0.5, 1.0, float("nan")), "T must be a whole"),
        (lambda C: C.simulate_branching_process(0.5, 1.0, 10, seed=2**70), "seed must be at"),
        (lambda C: C.simulate_branching_process(0.5, 1.0, 10**12), "needs .* but .* is free"),
        (lambda C: C.mean_interevent_interval(np.zeros(3)), "a SpikeTrain or StepCounts"),
        (lambda C: C.fit_power_law(np.r_[[1e300] * 50, [1e301] * 50]), "values <= 2\\^53"),
        # each was accepted and gave a number without a word
        (lambda C: C.borel_pmf(1.5), "whole numbers >= 1"),  # a "probability" at s = 1.5
        (lambda C: C.borel_pmf("3"), "whole numbers >= 1"),  # read as 3
        # float() and np.isfinite read "3" as 3 and True as 1, or raised TypeError on text
        (lambda C: C.branching_ratio(np.ones((2, 50)), dt="3"), "dt must be a positive number"),
        (lambda C: C.population_activity(np.ones((1, 20)), dt=True), "dt must be a positive"),
        (lambda C: C.galton_watson_avalanches(20, m=True), "m must be a finite number"),
        (lambda C: C.simulate_branching_process(0.5, "1", 50), "h must be a finite number"),
        (lambda C: C.avalanches(np.ones(20), threshold="a"), "threshold must be a finite num"),
        (lambda C: C.avalanches(np.ones(20), threshold=True), "got True"),  # ">= 0": it is
        (lambda C: C.crackling_relation(_gw(), True, 2.0), "alpha_size must be a number"),
        (lambda C: C.crackling_relation("av", 1.5, 2.0), "av must be the Avalanches"),
        # results built by hand failed later, inside the estimators they were passed to
        (lambda C: C.PopulationActivity("a", bin_ms=1.0), "counts must be a .n_trials, n."),
        (lambda C: C.PopulationActivity(np.ones((1, 5)), bin_ms="1"), "bin_ms must be a pos"),
        (lambda C: C.StepCounts(np.ones((1, 5)), n_units="a"), "n_units must be a whole"),
        (lambda C: C.StepCounts(np.ones(5), n_units=2), "counts must be a .n_trials, n."),
        (lambda C: C.naive_subsampling_bias("0.9", 0.5), "needs 0 < a <= 1"),
        (lambda C: C.simulate_branching_process(0.5, 1.0, 50, burn_in=2.5), "burn_in must be"),
        (lambda C: C.simulate_branching_process(0.5, 1.0, 50, subsample="a"), "subsample must"),
        (lambda C: C.population_activity(np.ones((1, 20)), bin_ms="3"), "bin_ms must be a num"),
        (lambda C: C.fit_power_law([[1, 2], [3]]), "values must be a rectangular array"),
        (lambda C: C.population_activity([[1, 2], [3]]), "data must be a rectangular array"),
        (lambda C: C.borel_pmf(True), "whole numbers >= 1"),  # read as 1
        (lambda C: C.borel_pmf(3, mu=None), "0 < mu <= 1"),  # a raw TypeError
        (lambda C: C.borel_pmf(3, mu="1"), "0 < mu <= 1"),
        (lambda C: C.sample_power_law(10, 2.5, 1, discrete="no"), "discrete must be true or"),
        (lambda C: C.branching_ratio(np.ones((2, 50)), weighted="no"), "weighted must be true"),
        (lambda C: C.fit_power_law(np.arange(1, 201).reshape(2, 100)), "1-D"),  # was flattened
        (lambda C: C.branching_ratio(np.ones((2, 500)), n_boot=1), "at least 2"),  # NaN interval
        (lambda C: C.population_activity(np.ones((1, 20)), bin_ms=1.5), "whole multiple"),
        (lambda C: C.crackling_relation(_gw(), 1.5, 2.0, d_min=0), "d_min must be"),
        (lambda C: C.crackling_relation(_gw(), 1.5, 2.0, d_min=float("nan")), "d_min must be"),
        (lambda C: C.crackling_relation(_gw(), 1.5, 2.0, d_max=0.5), "d_max must be"),
        (lambda C: C.crackling_relation(_gw(), 1.5, 0.5), "alpha_duration must be a finite num"),
        (lambda C: C.crackling_relation(_gw(), float("inf"), 2.0), "alpha_size must be a finite"),
        (lambda C: C.crackling_relation(_gw(), "1.5", 2.0), "alpha_size must be a number"),
        # fractions and text were cut or taken: kmax 1.5 ran as 1, a seed of -1 was accepted
        (lambda C: C.galton_watson_avalanches(1.5), "n must be a whole number"),
        (lambda C: C.galton_watson_avalanches(50, seed=-1), "seed must be a whole number"),
        # Numba keeps a seed's low 32 bits: seeds 5 and 2^32 + 5 ran the same process
        (
            lambda C: C.galton_watson_avalanches(5, seed=2**32 + 5),
            "seed must be at most 4294967295",
        ),
        (lambda C: C.simulate_branching_process(0.9, 0.5, 9, seed=2**32), "seed must be at most"),
        (lambda C: C.galton_watson_avalanches(50, max_size="2"), "max_size must be a whole"),
        (lambda C: C.fit_power_law(_gw().sizes, bootstrap=1.5), "bootstrap must be a whole"),
        (lambda C: C.fit_power_law(_gw().sizes, min_tail=True), "min_tail must be a whole"),
        (lambda C: C.fit_power_law(_gw().sizes, max_candidates=1.5), "max_candidates"),
        (lambda C: C.regression_slopes(np.ones((2, 50)), kmax=1.5), "kmax must be a whole"),
    ],
)
def test_api_bad_input_is_one_input_error(call, message):
    import infodyn.criticality as C
    from infodyn.errors import InputError

    with pytest.raises(InputError, match=message):
        call(C)


def test_crackling_relation_with_a_failed_exponent_fit_warns_and_keeps_the_slope():
    """A NaN exponent (fit_power_law could not fit) gives a NaN prediction and a warning, as the
    other degenerate results do; the <S>(D) slope is still fitted."""
    import infodyn.criticality as C

    av = _gw()
    with pytest.warns(C.CriticalityWarning, match="alpha_duration NaN"):
        res = C.crackling_relation(av, 1.5, float("nan"))
    assert np.isnan(res.gamma_predicted)
    assert res.gamma_fitted == C.crackling_relation(av, 1.5, 2.0).gamma_fitted


def test_a_fit_that_could_not_be_made_still_names_every_comparison():
    import infodyn.criticality as C

    with pytest.warns(C.CriticalityWarning, match="too few"):
        fit = C.fit_power_law(np.array([1, 2, 3, 2]), discrete=True)
    assert set(fit.comparisons) == {"exponential", "lognormal", "truncated_power_law"}
    assert all(np.isnan(c.R) and c.favored == "neither" for c in fit.comparisons.values())
    assert fit.to_dict()["comparisons"]["lognormal"]["R"] is None
