"""Codes: minimum distance, corruption and recovery, storage capacity (MPF vs outer product),
clique codes."""

from itertools import combinations

import numpy as np
import pytest

import infodyn as idn
from infodyn.energy import (
    all_states,
    clique_code,
    clique_network,
    corrupt,
    minimum_distance,
    outer_product_rule,
    random_patterns,
    recovery,
    storage_fraction,
    store,
)


def test_minimum_distance_by_hand_and_brute_force():
    C = np.array([[0, 0, 0, 0, 0], [1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 1, 1, 0, 0]])
    assert minimum_distance(C) == 3  # duplicates merged; 00000-11100 = 3, 11100-00111 = 4
    assert idn.energy.correction_radius(C) == 1
    R = random_patterns(60, 20, seed=1)
    brute = min(int(np.sum(a != b)) for a, b in combinations(np.unique(R, axis=0), 2))
    assert minimum_distance(R) == brute
    with pytest.raises(idn.InputError):
        minimum_distance(C[:1])


def test_corrupt_flips_exactly_k_bits():
    P = random_patterns(50, 30, seed=0)
    Q = corrupt(P, 7, seed=1)
    assert np.all(np.sum(P != Q, axis=1) == 7)
    assert np.array_equal(corrupt(P, 0), P)


def test_mpf_stores_90_random_patterns_at_n64_outer_product_fails():
    P = random_patterns(90, 64, seed=0)
    mpf = store(P, maxiter=400)
    assert storage_fraction(mpf, P, strict=True) == 1.0
    # outer-product (Hebb) rule: capacity ~ n / (4 ln n) ~ 4 patterns for exact storage
    assert storage_fraction(outer_product_rule(P), P) < 0.05
    assert storage_fraction(outer_product_rule(P[:4]), P[:4]) == 1.0
    assert storage_fraction(outer_product_rule(P[:30]), P[:30]) < 0.5


def test_denoising_of_stored_patterns():
    P = random_patterns(20, 64, seed=3)
    m = store(P)
    r1 = recovery(m, P, 1, n_trials=5)
    r4 = recovery(m, P, 4, n_trials=5, seed=1)
    assert r1["fraction_recovered"] == 1.0
    assert r4["fraction_recovered"] > 0.9
    assert r4["bits_wrong_after"] < r4["bits_wrong_before"]


def test_clique_code_and_network():
    C = clique_code(8)  # 4-cliques of K_8
    assert C.shape == (70, 28) and np.all(C.sum(1) == 6)
    # two 4-cliques sharing 3 vertices differ in 2 * (4 - 1) edges
    assert minimum_distance(C) == 6
    m = clique_network(8)
    assert storage_fraction(m, C, strict=True) == 1.0
    assert recovery(m, C, 1, n_trials=3)["fraction_recovered"] == 1.0
    # a random non-clique state with 6 edges is not a memory
    bad = np.zeros(28, dtype=np.uint8)
    bad[:6] = 1  # edges (0,1)...(0,6): a star, not a clique
    assert not m.is_fixed_point(bad, strict=True)[0]
    with pytest.raises(idn.InputError):
        clique_network(8, share=-1.0, disjoint=1.0)


def test_mpf_on_some_cliques_stores_the_unseen_ones():
    """Hillar & Tran 2018: MPF on a sample of k-cliques generalises to the unseen cliques."""
    C = clique_code(10)  # 252 five-cliques on 45 edge bits
    idx = np.random.default_rng(0).choice(C.shape[0], 100, replace=False)
    m = store(C[idx], maxiter=300)
    unseen = np.setdiff1d(np.arange(C.shape[0]), idx)
    assert storage_fraction(m, C[unseen], strict=True) > 0.9  # 1.0, 1.0, 0.95 for seeds 0-2
    assert recovery(m, C, 1, n_trials=2)["fraction_recovered"] > 0.9


def test_minimum_distance_of_a_code_larger_than_one_chunk():
    """The even-weight code of length 12 (2048 codewords, d_min = 2): more codewords than one
    chunk of the distance computation (4e6 // 2048 = 1953 rows)."""
    S = all_states(12)
    even = S[S.sum(1) % 2 == 0]
    assert even.shape[0] == 2048
    assert minimum_distance(even) == 2
    assert minimum_distance(S) == 1


def test_one_pattern_is_stored():
    """Storing one memory is a Hopfield case: MPF refused it ("X needs at least 2 pattern(s)")."""
    P = random_patterns(1, 16, seed=0)
    model = store(P)
    assert storage_fraction(model, P) == 1.0
    np.testing.assert_array_equal(model.fixed_points(method="exhaustive"), P)
    assert idn.energy.capacity_curve(16, [1])[0] == {"n_patterns": 1, "fraction_stored": 1.0}
    with pytest.raises(idn.InputError, match="X is a single pattern of 16 units: fit learns"):
        idn.energy.fit(P)  # a density fit of one word: refused as before, now saying why


def test_huge_sizes_are_refused_before_allocating(monkeypatch):
    import infodyn.energy as E
    import infodyn.memory
    from infodyn.errors import InputError

    monkeypatch.setattr(infodyn.memory, "available_bytes", lambda: 10**9)
    model = E.IsingModel(np.zeros((4, 4)), np.zeros(4))
    for call, said in (
        (lambda: model.sample(10**11), "samples of 4 units"),
        (lambda: model.fixed_points(method="random", n_starts=10**11), "random starts"),
        (lambda: E.random_patterns(10**6, 10**6), "random patterns"),
    ):
        with pytest.raises(InputError, match=said):  # raw MemoryErrors
            call()
