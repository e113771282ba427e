"""Shuffle-corrected MI and the permutation test."""

import numpy as np
import pytest

import infodyn.information as I
from infodyn.errors import InputError
from infodyn.information import mi_permutation_test, mutual_information, shuffle_corrected_mi


def test_independent_data():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    raw = mutual_information(x, y)
    corrected = shuffle_corrected_mi(x, y, n_shuffles=50)
    bias = 9 / (2 * 300 * np.log(2))  # (Kx-1)(Ky-1) / (2 N ln 2)
    reps = [
        mutual_information(*np.random.default_rng(s).integers(0, 4, (2, 300))) for s in range(200)
    ]
    assert abs(np.mean(reps) - bias) < 4 * np.std(reps) / np.sqrt(len(reps))  # the plug-in bias
    assert abs(corrected) < 0.5 * raw
    pvals = [mi_permutation_test(x, rng.permutation(y), 99, seed=s).p_value for s in range(20)]
    assert 0.2 < np.mean(pvals) < 0.8  # uniform under the null


def test_dependent_data_and_groups():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, 500)
    y = x ^ (rng.random(500) < 0.3)
    res = mi_permutation_test(x, y, n_permutations=199)
    assert res.p_value == pytest.approx(1 / 200)
    assert res.mi == pytest.approx(mutual_information(x, y))
    assert res.corrected == pytest.approx(res.mi - res.null.mean())
    groups = np.repeat(np.arange(50), 10)
    by_trial = mi_permutation_test(x, y, n_permutations=99, groups=groups)
    assert by_trial.p_value == pytest.approx(1 / 100)
    with pytest.raises(ValueError, match="equal size"):
        mi_permutation_test(x, y, 9, groups=np.r_[np.zeros(499), 1])


def test_group_shuffle_moves_whole_groups():
    """Y constant within each of 20 trials and X = Y: shuffling samples *within* trials changes
    nothing (null = observed, p = 1); shuffling whole trials almost never reproduces the
    observed table (chance 2 / C(20, 10) ~ 1e-5 per draw), so p is its floor 1 / (1 + B)."""
    bits = np.r_[np.zeros(10, int), np.ones(10, int)][np.random.default_rng(10).permutation(20)]
    y = np.repeat(bits, 10)
    groups = np.repeat(np.arange(20), 10)
    res = I.mi_permutation_test(y, y, n_permutations=99, groups=groups, seed=1)
    assert res.mi == pytest.approx(1.0)
    assert res.p_value == pytest.approx(1 / 100)
    assert res.null.max() < 1.0 - 1e-9
    assert I.shuffle_corrected_mi(y, y, n_shuffles=50, groups=groups) > 0.5


def test_groups_of_the_wrong_length_are_refused():
    x = np.random.default_rng(11).integers(0, 2, 200)
    for g in (
        np.repeat(np.arange(30), 10),
        np.repeat(np.arange(10), 10),
    ):  # 300 and 100 entries
        with pytest.raises(InputError, match="groups has"):
            I.mi_permutation_test(x, x, n_permutations=9, groups=g)
    nan_ids = np.repeat(np.arange(20.0), 10)
    nan_ids[:10] = np.nan  # all NaN read as "one group"; some NaN as a group of their own
    for g in (np.full(200, np.nan), nan_ids):
        with pytest.raises(InputError, match="groups must be finite ids"):
            I.mi_permutation_test(x, x, n_permutations=9, groups=g)


def test_documented_defaults_of_the_significance_functions():
    rng = np.random.default_rng(12)
    x = rng.integers(0, 2, 100)
    y = x ^ (rng.random(100) < 0.3)
    res = I.mi_permutation_test(x, y)
    assert res.null.size == 1000
    assert res.p_value == I.mi_permutation_test(x, y, n_permutations=1000, seed=0).p_value
    assert I.shuffle_corrected_mi(x, y) == I.shuffle_corrected_mi(x, y, n_shuffles=20, seed=0)
