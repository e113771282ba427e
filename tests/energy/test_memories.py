"""Memory labels, Markov chains of memories, memory-triggered averages, basins, density
reports, spike words."""

import numpy as np
import pytest

import infodyn as idn
from infodyn.data.spikes import SpikeTrain
from infodyn.energy import (
    IsingModel,
    basin_profile,
    binary_words,
    empirical_log_likelihood,
    heldout_report,
    markov_chain,
    memory_labels,
    memory_triggered_average,
)
from infodyn.energy.density import clearly_worse


def test_markov_chain_by_hand():
    mc = markov_chain([0, 0, 1, 0, 1, 1])
    np.testing.assert_array_equal(mc.counts, [[1, 2], [1, 1]])
    np.testing.assert_allclose(mc.transition, [[1 / 3, 2 / 3], [0.5, 0.5]])
    np.testing.assert_allclose(mc.stationary, [0.5, 0.5])
    h0 = -(1 / 3 * np.log2(1 / 3) + 2 / 3 * np.log2(2 / 3))
    assert mc.entropy_rate_bits == pytest.approx(0.5 * h0 + 0.5 * 1.0)
    assert mc.stationary_entropy_bits == pytest.approx(1.0)
    # unknown labels and segment boundaries break transitions
    mc2 = markov_chain([0, 1, -1, 1, 0, 0], segments=[0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(mc2.counts, [[1, 1], [0, 0]])
    np.testing.assert_array_equal(mc2.transition[1], [0, 1])
    one = markov_chain([0, 0, 0])  # one state: 0 bits, not -0.0 (a negative entropy in JSON)
    assert str(one.entropy_rate_bits) == str(one.stationary_entropy_bits) == "0.0"


def test_memory_labels_and_triggered_average():
    m = IsingModel([[0.0, 2.0, -2.0], [2.0, 0.0, -2.0], [-2.0, -2.0, 0.0]], [1.0, 1.0, 0.5])
    mem = m.fixed_points()
    assert mem.shape[0] >= 2
    X = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 0, 0], [1, 1, 1]])
    labels, found = memory_labels(m, X)
    ends = m.descend(X)
    np.testing.assert_array_equal(found[labels], ends)
    labels2, _ = memory_labels(m, X, memories=found[:1])
    assert set(labels2) <= {0, -1}
    # stimulus pulses one step before each onset of label 1
    lab = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0])
    stim = np.zeros(10)
    stim[[1, 6]] = 1.0
    avg, n_ev = memory_triggered_average(lab, stim, window=(2, 1))
    # onsets: label 0 at t = 0 (dropped: no 2 steps of history), 4, 8; label 1 at t = 2, 7
    np.testing.assert_array_equal(n_ev, [2, 2])
    np.testing.assert_allclose(avg[1], [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(avg[0], [0.5, 0.0, 0.0, 0.0])


def test_basins_of_strict_memories():
    P = idn.energy.random_patterns(5, 40, seed=0)
    m = idn.energy.store(P)
    prof = basin_profile(m, P, ks=[0, 1, 3], n_trials=4)
    assert prof.shape == (5, 3)
    np.testing.assert_array_equal(prof[:, 0], 1.0)
    assert np.all(prof[:, 1] == 1.0)


def test_heldout_report_and_empirical_likelihood():
    rng = np.random.default_rng(0)
    n = 8
    J = np.triu(rng.normal(0, 0.8, (n, n)), 1)
    truth = IsingModel(J + J.T, rng.normal(0.5, 0.5, n))
    train = truth.sample(6000, seed=1)
    test = truth.sample(6000, seed=2)
    model = idn.energy.fit(train, method="mpf")
    r = heldout_report(model, train, test)
    assert r["model_test_bits"] > r["independent_test_bits"] + 0.05
    assert r["gain_over_independent_bits"] > 0.05
    assert r["expected_kl_nats"] == pytest.approx(36 / 12000)
    # the standard errors of the per-word gains, computed from the words themselves
    ind = IsingModel.independent(train)
    for words, key in ((test, "gain_over_independent"), (train, "train_gain_over_independent")):
        gain = (model.log_likelihood(words, "none") - ind.log_likelihood(words, "none")) / np.log(2)
        assert r[key + "_bits"] == pytest.approx(gain.mean(), rel=1e-12)
        blocks = gain[: 77 * 77].reshape(77, 77).mean(axis=1)  # batch means: 77 of 77 words
        assert r[key + "_se_bits"] == pytest.approx(blocks.std(ddof=1) / np.sqrt(77), rel=1e-12)
    assert not clearly_worse(r["gain_over_independent_bits"], r["gain_over_independent_se_bits"])
    assert clearly_worse(-0.05, 0.01) and not clearly_worse(-0.05, 0.03)  # two SEs
    assert clearly_worse(-0.05, float("nan")) and not clearly_worse(-5e-4, float("nan"))
    assert not clearly_worse(-9e-7, 0.0) and clearly_worse(-2e-3, 0.0)  # TIE_BITS
    # the true model scores the test set as well as the fit does, to within a few d/M
    assert truth.log_likelihood(test) - model.log_likelihood(test) < 5 * r["expected_gap_nats"]
    ll, unseen = empirical_log_likelihood([[0, 1], [0, 1], [1, 1], [0, 0]], [[0, 1], [1, 1]])
    assert unseen == 0 and ll == pytest.approx(0.5 * (np.log(0.5) + np.log(0.25)))
    ll, unseen = empirical_log_likelihood([[0, 1]], [[0, 1], [1, 1]])
    assert ll is None and unseen == 0.5


def test_binary_words_from_spikes():
    raster = np.zeros((2, 6, 3), dtype=np.uint8)
    raster[0, 0, 0] = raster[0, 1, 0] = raster[0, 3, 2] = raster[1, 5, 1] = 1
    st = SpikeTrain.from_dense(raster, dt=1.0)
    w = binary_words(st, bin_ms=2.0)
    np.testing.assert_array_equal(
        w.X, [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 1, 0]]
    )
    np.testing.assert_array_equal(w.trial, [0, 0, 0, 1, 1, 1])
    w2 = binary_words(st, bin_ms=2.0, units=[2, 0], window=2)
    np.testing.assert_array_equal(w2.X[:2], [[0, 1, 1, 0], [1, 0, 0, 0]])
    assert w2.X.shape == (4, 4)
    with pytest.raises(idn.InputError):
        binary_words(st, bin_ms=1.5)
    with pytest.raises(idn.InputError):
        binary_words(st, units=[5])


def test_generalisation_gap_matches_d_over_m():
    """Train - test log-likelihood gap of an exact ML fit ~ d/M (d = 21 parameters, M = 300)."""
    rng = np.random.default_rng(0)
    n = 6
    J = np.triu(rng.normal(0, 0.8, (n, n)), 1)
    truth = IsingModel(J + J.T, rng.normal(0.3, 0.5, n))
    S = idn.energy.all_states(n)
    X = S[rng.choice(64, 40000, p=truth.probabilities())]
    gaps = [idn.energy.generalisation_curve(X, [300], method="ml", seed=s)[0] for s in range(4)]
    ratio = np.mean([g["gap_nats"] for g in gaps]) / gaps[0]["expected_gap_nats"]
    assert gaps[0]["expected_gap_nats"] == pytest.approx(21 / 300)
    assert 0.3 < ratio < 1.7, ratio


def test_memory_triggered_average_starts_each_trial_afresh():
    """Trials joined end to end: a memory that went on from one trial into the next was no
    visit of the new trial (its stimulus never entered the average), and a window reached into
    the trial before. With segments every trial's first word is an onset, and windows stay
    within their trial."""
    from infodyn.energy import memory_triggered_average

    labels = np.array([0, 0, 1, 1, 1, 1, 0, 0])  # trial 1 goes on in memory 1
    trial = np.array([0, 0, 0, 1, 1, 1, 1, 1])  # ... trial 1 starts at step 3
    stim = np.array([10.0, 10.0, 10.0, 20.0, 20.0, 20.0, 20.0, 20.0])
    joined, n_joined = memory_triggered_average(labels, stim, n_memories=2, window=(0, 0))
    assert n_joined.tolist() == [2, 1] and joined[1, 0] == 10.0  # trial 1 never counted
    avg, n = memory_triggered_average(labels, stim, n_memories=2, window=(0, 0), segments=trial)
    assert n.tolist() == [2, 2] and avg[1, 0] == 15.0
    pre, n_pre = memory_triggered_average(labels, stim, n_memories=2, window=(1, 0), segments=trial)
    assert n_pre.tolist() == [1, 1] and pre[1].tolist() == [10.0, 10.0]  # not from step 2 into 3


def test_the_gains_standard_error_holds_for_words_correlated_in_time():
    """Words of a recording (and sliding words) are correlated: sd / sqrt(M) understated the
    error of their mean. An AR(1) series x_t = phi x_{t-1} + e_t has Var(mean) = Var(x) / M
    (1 + phi) / (1 - phi) for large M; the batch-means error is within 15 % of it."""
    from infodyn.energy.density import _standard_error

    rng = np.random.default_rng(0)
    phi, m = 0.8, 40_000
    e = rng.standard_normal(m)
    x = np.empty(m)
    x[0] = e[0] / np.sqrt(1 - phi**2)
    for t in range(1, m):
        x[t] = phi * x[t - 1] + e[t]
    exact = np.sqrt(1 / (1 - phi**2) / m * (1 + phi) / (1 - phi))
    assert _standard_error(x) == pytest.approx(exact, rel=0.15)
    assert x.std() / np.sqrt(m) < 0.4 * exact  # the plain error, three times too small
    assert np.isnan(_standard_error(np.ones(3)))
