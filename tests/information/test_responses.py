"""Information in binned population responses, against definitions written out here."""

import math

import numpy as np
import pytest
from entropy_reference import mi_plugin_bits

import infodyn.information as I
from infodyn import InputError
from infodyn.information import (
    gaussian_total_correlation,
    response_gaussian_tc,
    response_information,
    response_words,
)


def test_response_words_are_per_trial_bins_of_the_window():
    rng = np.random.default_rng(0)
    z = (rng.random((3, 25, 4)) < 0.2).astype(np.float32)
    w = response_words(z, start=5, bin_steps=6)  # 20 steps -> 3 bins, 2 steps dropped
    assert w.shape == (3, 3, 4)
    for t in range(3):
        for b in range(3):
            np.testing.assert_array_equal(w[t, b], z[t, 5 + 6 * b : 11 + 6 * b].max(axis=0))
    counts = response_words(z, start=5, bin_steps=6, binary=False)
    np.testing.assert_array_equal(counts[1, 2], z[1, 17:23].sum(axis=0))
    with pytest.raises(InputError):
        response_words(z, start=20, bin_steps=6)


def test_a_response_that_names_its_stimulus_carries_log2_k_bits():
    k, n_trials = 4, 400
    labels = np.repeat(np.arange(k), n_trials // k)
    z = np.zeros((n_trials, 20, 2), dtype=np.float32)
    z[:, :, 0] = (labels[:, None] & 1) > 0  # unit 0 codes bit 0 of the label, unit 1 bit 1
    z[:, :, 1] = (labels[:, None] & 2) > 0
    info = response_information(z, labels, bin_steps=10, n_shuffles=10)
    assert info["mi_plugin_bits"] == pytest.approx(math.log2(k))
    # shuffled labels still see 4 equiprobable words: the correction is small but positive
    assert 0 < math.log2(k) - info["mi_bits"] < 0.05
    # the two units are independent across stimuli: no total correlation
    assert info["tc_bits"] == pytest.approx(0.0, abs=1e-12)
    assert info["n_samples"] == n_trials * 2 and info["subset_size"] == 2


def test_gaussian_tc_with_ridge_matches_the_formula():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0.3], [0, 0, 1.0]])
    c = np.cov(x, rowvar=False, ddof=0) + 0.1 * np.eye(3)
    want = 0.5 * (np.sum(np.log(np.diag(c))) - np.linalg.slogdet(c)[1]) / math.log(2)
    assert gaussian_total_correlation(x, ridge=0.1, ddof=0) == pytest.approx(want, rel=1e-12)
    r = np.corrcoef(x, rowvar=False)
    assert gaussian_total_correlation(x) == pytest.approx(-0.5 * np.log2(np.linalg.det(r)))
    with pytest.raises(InputError):
        gaussian_total_correlation(x, ridge=0.1, bias_correct=True)


def test_response_gaussian_tc_uses_the_active_units_only():
    rng = np.random.default_rng(2)
    z = (rng.random((20, 50, 4)) < 0.3).astype(np.float32)
    z[:, :, 2] = 0  # a silent unit
    z[:, :, 3] = z[:, :, 0]  # a copy of unit 0: strong correlation
    got = response_gaussian_tc(z, start=10, bin_steps=5, ridge=1e-3)
    counts = z[:, 10:].reshape(20, 8, 5, 4).sum(axis=2).reshape(-1, 4)[:, [0, 1, 3]]
    assert got == pytest.approx(gaussian_total_correlation(counts, ridge=1e-3, ddof=0))
    assert got > 1.0
    assert math.isnan(response_gaussian_tc(np.zeros((3, 10, 3)), bin_steps=2))


def test_stimulus_shuffles_move_the_bins_of_a_trial_together():
    """Every trial shows one distinct 6-unit word in all its bins: the word names the trial,
    so I(S; W) = H(S) = 2 bits for the true labels and for every trial-level shuffle; the
    shuffle-corrected MI is exactly 0 (a bin-level shuffle would break that)."""
    rng = np.random.default_rng(16)
    n_trials = 40
    codes = rng.choice(np.arange(1, 64), size=n_trials, replace=False)
    pattern = (codes[:, None] >> np.arange(6)) & 1  # (trials, 6) distinct words
    z = np.repeat(pattern[:, None, :], 20, axis=1).astype(np.float32)  # (40, 20, 6)
    labels = np.repeat(np.arange(4), 10)
    res = I.response_information(z, labels, bin_steps=10, n_shuffles=10)
    assert res["mi_plugin_bits"] == pytest.approx(2.0, abs=1e-12)
    assert res["mi_bits"] == pytest.approx(0.0, abs=1e-12)


def test_shuffle_correction_subtracts_the_mean_of_the_shuffles():
    """mi = plug-in I(S; W) minus the *mean* over n_shuffles trial-label permutations drawn from
    np.random.default_rng(seed) (make_rng's documented generator), written out here."""
    rng = np.random.default_rng(17)
    n_trials, steps, bin_steps = 24, 20, 10
    labels = np.repeat(np.arange(3), 8)
    z = (rng.random((n_trials, steps, 3)) < (0.2 + 0.2 * labels)[:, None, None]).astype(np.float32)
    res = I.response_information(z, labels, bin_steps=bin_steps, n_shuffles=5, seed=3)
    n_bins = steps // bin_steps
    w = z.reshape(n_trials, n_bins, bin_steps, 3).max(axis=2).reshape(-1, 3).astype(int)
    raw = mi_plugin_bits(np.repeat(labels, n_bins), w)
    g = np.random.default_rng(3)
    shuf = [mi_plugin_bits(np.repeat(g.permutation(labels), n_bins), w) for _ in range(5)]
    assert abs(np.mean(shuf) - np.median(shuf)) > 1e-3  # the case tells mean from median
    assert res["mi_plugin_bits"] == pytest.approx(raw, abs=1e-12)
    assert res["mi_bits"] == pytest.approx(raw - np.mean(shuf), abs=1e-12)


def test_words_of_one_unit_carry_their_information_and_no_total_correlation():
    """subset_size = 1 (valid here and in [channel]) and one-unit populations: I(S; X_1) of that
    unit, TC = 0 by definition; both raised 'X needs at least 2 variables' (the channel
    experiment after its whole training)."""
    labels = np.repeat([0, 1], 50)
    z = np.zeros((100, 20, 3), dtype=np.float32)
    z[:, :, 0] = labels[:, None]  # unit 0 names the stimulus; the others are silent
    one = response_information(z[:, :, :1], labels, bin_steps=10, n_shuffles=5)
    assert one["mi_plugin_bits"] == pytest.approx(1.0) and one["tc_bits"] == 0.0
    subsets = response_information(z, labels, bin_steps=10, subset_size=1, n_subsets=30)
    assert subsets["subset_size"] == 1 and subsets["tc_bits"] == 0.0
    assert 0.0 < subsets["mi_plugin_bits"] < 1.0  # a third of the subsets hold unit 0
