"""Direct peer checks of helpers that other tests reach only by composition.

References: dit (conditional entropy, pairwise mutual information, and the plug-in MI and total
correlation of a (stimulus label, response word) table written out here), and
``scipy.stats.norm.ppf(rankdata(a, axis=0) / (n + 1))`` for the copula transform.
"""

from collections import Counter

import dit
import numpy as np
import pytest
from scipy.stats import norm, rankdata

from infodyn.information import (
    conditional_entropy,
    copula_normalize,
    pairwise_mutual_information,
    response_information,
)


def _dit_from_rows(rows):
    """dit distribution of the empirical law of the integer rows (one outcome per distinct row)."""
    u, c = np.unique(rows, axis=0, return_counts=True)
    return dit.Distribution([tuple(int(v) for v in r) for r in u], c / c.sum())


def _binary_rows(seed):
    rng = np.random.default_rng(seed)
    x = (rng.random((400, 3)) < 0.4).astype(np.int64)
    x[:, 2] ^= x[:, 0] & (rng.random(400) < 0.7)
    return x


def _mixed_rows(seed):
    """Columns with alphabets 2, 3, 2, 4, some dependence between them."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, 300)
    b = (a + rng.integers(0, 2, 300)) % 3
    c = rng.integers(0, 2, 300)
    d = (2 * c + b * (rng.random(300) < 0.5)) % 4
    return np.column_stack([a, b, c, d])


@pytest.mark.parametrize("rows", [_binary_rows(7), _mixed_rows(8)], ids=["binary", "mixed"])
def test_conditional_entropy_matches_dit(rows):
    d = _dit_from_rows(rows)
    pairs = [([0], [2]), ([2], [0]), ([0, 1], [2]), ([1], [0, 2])]
    for xs, ys in pairs:
        ours = conditional_entropy(rows[:, xs], rows[:, ys])
        assert ours == pytest.approx(dit.shannon.conditional_entropy(d, xs, ys), abs=1e-12)


@pytest.mark.parametrize("rows", [_binary_rows(9), _mixed_rows(10)], ids=["binary", "mixed"])
def test_pairwise_mutual_information_matches_dit(rows):
    # binary columns take the matrix-product path, the others the pair-by-pair path
    d = _dit_from_rows(rows)
    m = pairwise_mutual_information(rows)
    n = rows.shape[1]
    for i in range(n):
        assert m[i, i] == pytest.approx(dit.shannon.entropy(d, [i]), abs=1e-12)
        for j in range(i + 1, n):
            ref = dit.shannon.mutual_information(d, [i], [j])
            assert m[i, j] == pytest.approx(ref, abs=1e-12)
            assert m[j, i] == pytest.approx(ref, abs=1e-12)


def test_copula_normalize_matches_scipy():
    rng = np.random.default_rng(11)
    a = rng.normal(size=(50, 3))
    a[3, 0] = a[4, 0]  # a tie: average ranks
    a[:, 2] = np.round(a[:, 2])  # many ties
    ref = norm.ppf(rankdata(a, axis=0) / (a.shape[0] + 1))
    assert np.allclose(copula_normalize(a), ref, rtol=0, atol=1e-12)


def test_response_information_matches_dit_on_the_label_word_table():
    rng = np.random.default_rng(5)
    n_labels, n_trials, steps, bin_steps = 4, 200, 20, 5
    labels = np.repeat(np.arange(n_labels), n_trials // n_labels)
    rates = 0.05 + 0.1 * np.array([[1, 0, 2], [0, 2, 1], [2, 1, 0], [1, 1, 1]])[labels]
    z = (rng.random((n_trials, steps, 3)) < rates[:, None, :]).astype(np.float32)
    res = response_information(z, labels, bin_steps=bin_steps, n_shuffles=5)

    # the words written out here: did each unit spike in each bin of 5 steps
    n_bins = steps // bin_steps
    w = z.reshape(n_trials, n_bins, bin_steps, 3).max(axis=2).reshape(-1, 3).astype(int)
    lab = np.repeat(labels, n_bins)
    c = Counter((int(s), *map(int, row)) for s, row in zip(lab, w, strict=True))
    d = dit.Distribution(list(c), [v / lab.size for v in c.values()])

    mi_ref = dit.shannon.mutual_information(d, [0], [1, 2, 3])
    tc_ref = dit.multivariate.total_correlation(d, [[1], [2], [3]])
    assert mi_ref > 0.1 and tc_ref > 1e-3  # neither is a trivial zero
    assert res["mi_plugin_bits"] == pytest.approx(mi_ref, abs=1e-12)
    assert res["tc_bits"] == pytest.approx(tc_ref, abs=1e-12)
    assert res["n_samples"] == lab.size
