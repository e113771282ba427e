"""Shuffle-corrected MI and the permutation test."""

import numpy as np
import pytest

from infodyn.information import mi_permutation_test, mutual_information, shuffle_corrected_mi


def test_independent_data():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    raw = mutual_information(x, y)
    corrected = shuffle_corrected_mi(x, y, n_shuffles=50)
    bias = 9 / (2 * 300 * np.log(2))  # (Kx-1)(Ky-1) / (2 N ln 2)
    assert raw == pytest.approx(bias, rel=0.8)
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
