"""log Z: chunked enumeration against brute force; AIS against exact."""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from infodyn.energy import IsingModel, ais_log_partition, all_states, exact_log_partition


def _model(n, seed, scale=0.5):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0, scale, (n, n)), 1)
    return IsingModel(J + J.T, rng.normal(0.3, 0.7, n))


@pytest.mark.parametrize("n", [1, 2, 7, 12])
def test_exact_matches_brute_force(n):
    m = _model(n, n)
    brute = logsumexp(-m.energy(all_states(n)))
    assert exact_log_partition(m.J, m.theta) == pytest.approx(brute, abs=1e-10)
    # small chunks exercise the running log-sum-exp across many blocks
    assert exact_log_partition(m.J, m.theta, max_entries=8) == pytest.approx(brute, abs=1e-10)


def test_probabilities_and_log_likelihood_normalise():
    m = _model(9, 3)
    S = all_states(9)
    ll = m.log_likelihood(S, reduce="none")
    assert logsumexp(ll) == pytest.approx(0.0, abs=1e-10)
    np.testing.assert_allclose(m.probabilities(), np.exp(ll), rtol=1e-10)


def test_ais_within_005_nats_of_exact_n16():
    m = _model(16, 7, scale=0.4)
    exact = m.log_partition("exact")
    res = ais_log_partition(m.J, m.theta, n_chains=400, n_betas=1000, seed=0)
    assert abs(res.log_z - exact) < 0.05
    assert 0 < res.stderr < 0.05
    assert abs(res.log_z - exact) < 5 * res.stderr + 0.01
    # the model-level entry point caches and agrees
    assert m.log_partition("ais", n_chains=400, n_betas=1000) == pytest.approx(res.log_z)


def test_ais_is_exact_for_independent_base():
    # J = 0 with base = target: every weight is exactly 1
    theta = np.array([0.3, -1.0, 2.0])
    res = ais_log_partition(np.zeros((3, 3)), theta, n_chains=10, n_betas=5)
    assert res.log_z == pytest.approx(np.sum(np.logaddexp(0, -theta)), abs=1e-12)
    assert res.stderr == pytest.approx(0.0, abs=1e-12)


def test_ais_with_two_temperatures_is_importance_sampling_from_the_base():
    """n_betas = 2 (betas 0 and 1) is plain importance sampling from the independent base:
    log Z = log Z_0 + log mean exp(-(E(x) - theta^T x)), unbiased in the weights; with 2e5
    chains on 4 units it lands on the exact log Z within a few standard errors. The annealing
    path must start at beta = 0, where the base is sampled."""
    rng = np.random.default_rng(1)
    J = np.triu(rng.normal(0, 0.8, (4, 4)), 1)
    m = IsingModel(J + J.T, rng.normal(0.2, 0.5, 4))
    exact = m.log_partition("exact")
    res = ais_log_partition(m.J, m.theta, n_chains=200_000, n_betas=2, seed=0)
    assert abs(res.log_z - exact) < 5 * res.stderr + 1e-3
    assert res.stderr < 0.01


def test_an_ais_estimate_below_a_known_state_is_reported_and_refused():
    # ferromagnetic couplings under strong fields: the chains stay in the all-off basin while
    # all-on (E = -390) holds nearly all of Z; AIS gave log Z = 0.001 with stderr 0 and full
    # effective sample size, and log_likelihood(all-on) = +390 nats without a word
    from infodyn.energy import AISModeWarning
    from infodyn.errors import InputError

    n = 26
    m = IsingModel(2.0 * (np.ones((n, n)) - np.eye(n)), np.full(n, 10.0))
    with pytest.warns(AISModeWarning, match="too low by at least 390 nats"):
        res = ais_log_partition(m.J, m.theta, seed=0)
    assert res.log_z < 1 and res.lower_bound == pytest.approx(390.0, abs=1e-6)
    with pytest.warns(AISModeWarning), pytest.raises(InputError, match=r"log p\(x\) = 389.999 > 0"):
        m.log_likelihood(np.ones((1, n)))


def test_a_sound_ais_estimate_lies_above_its_descent_bound():
    m = _model(16, 7, scale=0.4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ais_log_partition(m.J, m.theta, n_chains=400, n_betas=1000, seed=0)
    assert res.lower_bound <= m.log_partition("exact") < res.lower_bound + 16 * np.log(2)


@pytest.mark.parametrize("bad", ["1000", 0, 2.5, None])
def test_max_entries_must_be_a_whole_number(bad):
    from infodyn.errors import InputError

    model = IsingModel(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(InputError, match="max_entries must be a whole number >= 1"):
        exact_log_partition(model.J, model.theta, max_entries=bad)


def test_log_partition_options_are_checked_for_every_method():
    # "exact" with n_chains was a raw TypeError; J = 0 took n_chains = -5 without a word
    from infodyn.errors import InputError

    m = IsingModel([[0, 1], [1, 0]], [0, 0])
    with pytest.raises(InputError, match="log_partition\\('exact'\\) has no option n_chains"):
        m.log_partition("exact", n_chains=100)
    free = IsingModel(np.zeros((2, 2)), [0, 0])
    with pytest.raises(InputError, match="n_chains must be an integer >= 2"):
        free.log_partition("ais", n_chains=-5)
    assert free.log_partition("ais", n_chains=5) == pytest.approx(np.log(4), abs=1e-12)
