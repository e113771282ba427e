"""Permutation test and shuffle-corrected MI against the exact permutation law.

Reference: for binary x, y of length N, permuting y leaves the margins ``n1x = sum x`` and
``n1y = sum y`` fixed, and the count ``n11 = #{x=1, y=1}`` of a uniformly random permutation
follows ``scipy.stats.hypergeom(N, n1x, n1y)``. The plug-in MI is a function of the 2x2 table, so
the exact null law of MI is enumerated here over the support of n11 (MI written out from the
table, not with infodyn). From it:

* exact tail ``q = sum pmf * [MI >= MI_obs - 1e-12]`` (infodyn's comparison, with the same float
  tolerance for ties such as the mirror table of a symmetric margin); the Monte Carlo p-value
  ``(1 + #{null >= obs}) / (1 + B)`` has mean ``(1 + B q) / (1 + B)`` and binomial spread;
* exact null mean ``E = sum pmf * MI`` and sd; the shuffle-corrected MI estimates ``MI_obs - E``.

Tolerances are 4 Monte Carlo standard errors (plus 1/B for the p-value).
"""

import numpy as np
import pytest
from scipy.stats import hypergeom

from infodyn.information import mi_permutation_test, shuffle_corrected_mi

N = 40
B = 10000


def _mi_table(t):
    """Plug-in MI (bits) of a 2x2 count table."""
    p = t / t.sum()
    px, py = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log2(p[nz] / (px * py)[nz])).sum())


def _table(n1x, n1y, n11):
    return np.array([[N - n1x - n1y + n11, n1y - n11], [n1x - n11, n11]], dtype=float)


def _data(flip, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, N)
    y = np.where(rng.random(N) < 1 - flip, x, 1 - x)
    return x, y


def _exact_null(x, y):
    """(observed MI, support MI values, their hypergeometric pmf)."""
    n1x, n1y, n11 = int(x.sum()), int(y.sum()), int(np.sum(x & y))
    ks = np.arange(max(0, n1x + n1y - N), min(n1x, n1y) + 1)
    pmf = hypergeom.pmf(ks, N, n1x, n1y)
    mis = np.array([_mi_table(_table(n1x, n1y, k)) for k in ks])
    return _mi_table(_table(n1x, n1y, n11)), mis, pmf


# (flip probability, seed, expected range of the exact tail q): a strong and a mid-range case
CASES = [(0.25, 3, (1e-4, 1e-2)), (0.4, 5, (0.2, 0.8))]


@pytest.mark.parametrize("flip, seed, q_range", CASES)
def test_permutation_test_matches_exact_hypergeometric_law(flip, seed, q_range):
    x, y = _data(flip, seed)
    obs, mis, pmf = _exact_null(x, y)
    q = float(pmf[mis >= obs - 1e-12].sum())
    assert q_range[0] < q < q_range[1]  # the case is what it claims to be
    mean = float(pmf @ mis)
    var = float(pmf @ (mis - mean) ** 2)
    mu4 = float(pmf @ (mis - mean) ** 4)

    res = mi_permutation_test(x, y, n_permutations=B, seed=1)
    assert res.mi == pytest.approx(obs, abs=1e-12)
    expected_p = (1 + B * q) / (1 + B)
    assert abs(res.p_value - expected_p) <= 4 * np.sqrt(q * (1 - q) / B) + 1 / B
    assert abs(res.null_mean - mean) <= 4 * np.sqrt(var / B)
    # sample sd: SE ~ sqrt((mu4 - var^2) / (4 var B))
    assert abs(res.null_std - np.sqrt(var)) <= 4 * np.sqrt((mu4 - var**2) / (4 * var * B))
    assert abs(res.corrected - (obs - mean)) <= 4 * np.sqrt(var / B)


@pytest.mark.parametrize("flip, seed, q_range", CASES)
def test_shuffle_corrected_mi_matches_exact_null_mean(flip, seed, q_range):
    x, y = _data(flip, seed)
    obs, mis, pmf = _exact_null(x, y)
    mean = float(pmf @ mis)
    sd = float(np.sqrt(pmf @ (mis - mean) ** 2))
    corrected = shuffle_corrected_mi(x, y, n_shuffles=B, seed=2)
    assert abs(corrected - (obs - mean)) <= 4 * sd / np.sqrt(B)


def test_permutation_p_value_counts_the_observed_value_as_one_permutation():
    """x = y with balanced margins: the exact tail is 2 / C(40, 20) ~ 1.4e-11 (n11 = 20 and its
    mirror n11 = 0), so with B = 19 no shuffle reaches the observed MI (but for a chance of
    3e-10) and the p-value is exactly its floor 1 / (1 + B) = 0.05, never 0."""
    x = np.repeat([0, 1], N // 2)
    obs, mis, pmf = _exact_null(x, x)
    assert float(pmf[mis >= obs - 1e-12].sum()) < 1e-10
    res = mi_permutation_test(x, x, n_permutations=19, seed=4)
    assert res.p_value == 1 / 20


def test_permutation_null_larger_than_memory_is_refused_before_allocating(monkeypatch):
    from infodyn.memory import MemoryPreflightError

    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1M")
    x = np.repeat([0, 1], N // 2)
    with pytest.raises(MemoryPreflightError, match="null distribution of 1000000 shuffles"):
        mi_permutation_test(x, x, n_permutations=10**6)
    with pytest.raises(MemoryPreflightError, match="fewer permutations/shuffles"):
        shuffle_corrected_mi(x, x, n_shuffles=10**6)
