"""The drawn graphs against their definitions, at the edges a loose statistical test cannot see
(each test here failed on a mutant of ``network/connectivity.py`` that the graph tests in
``test_sparse.py`` let through): the complete graph, a non-whole 0.8 K, the weight scale at
10^6 synapses, and the Bernoulli density of N (N - 1) possible synapses."""

import math

import numpy as np
import pytest

import infodyn as idn


def test_k_in_of_n_minus_one_is_the_complete_graph_without_autapses():
    """K = N - 1: every other unit is a partner (a candidate set one short never drew the last
    unit of a population); the dense connectivity drawn as sparse weights is the same graph."""
    n = 9
    off_diagonal = ~np.eye(n, dtype=bool)
    for kw in (
        dict(connectivity="sparse", k_in=n - 1),
        dict(connectivity="dense", weights="sparse"),
    ):
        w = idn.network.LIF(n_rec=n, **kw).init(seed=0)["w_rec"]
        np.testing.assert_array_equal(w.to_dense() != 0, off_diagonal)


def test_ei_in_degrees_round_0_8_k():
    """Brunel (2000): C_E = 0.8 C excitatory inputs of C; for C = 12 that is round(9.6) = 10
    (truncation gave 9 and 3)."""
    net = idn.network.LIF(n_rec=100, connectivity="ei", k_in=12)
    dense = net.init(seed=0)["w_rec"].to_dense()
    assert np.all(np.count_nonzero(dense[: net.n_exc], axis=0) == 10)
    assert np.all(np.count_nonzero(dense[net.n_exc :], axis=0) == 2)


def test_weight_scale_is_rec_scale_v_th_over_sqrt_k():
    """w ~ N(0, (rec_scale v_th)^2 / K): at 10^6 synapses the sd is known to 0.07 %, so a
    scale of sqrt(K - 1) (1.3 % off at K = 20) fails the 0.5 % bound."""
    n, k = 50_000, 20
    net = idn.network.LIF(n_rec=n, connectivity="sparse", k_in=k, rec_scale=1.3)
    w = net.init(seed=0)["w_rec"]
    ratio = np.std(w.values) * np.sqrt(k) / (net.rec_scale * net.v_th)
    assert abs(ratio - 1.0) < 0.005, ratio


def test_bernoulli_density_counts_n_times_n_minus_one_possible_synapses():
    """p = 0.99 over the N (N - 1) ordered pairs without autapses: the synapse count lies within
    4 sd of its binomial mean (drawing in-degrees from N candidates is about 10 sd off)."""
    n, p = 400, 0.99
    net = idn.network.LIF(n_rec=n, connectivity="sparse", p_connect=p, weights="sparse")
    w = net.init(seed=0)["w_rec"]
    mean, sd = n * (n - 1) * p, np.sqrt(n * (n - 1) * p * (1 - p))
    assert abs(w.nnz - mean) < 4 * sd, (w.nnz, mean, sd)
    assert not np.any(w.pre_indices() == w.indices)


def test_expected_synapse_count_of_ei_blocks_matches_drawn_networks():
    """``expected_nnz`` (the memory preflight's count) against drawn E/I Bernoulli networks:
    the four blocks' probabilities, each over its possible pairs (n_e (n_e - 1) for E->E)."""
    from infodyn.network.connectivity import expected_nnz

    net = idn.network.LIF(n_rec=4000, connectivity="ei", weights="sparse")
    counts = [net.init(seed=s)["w_rec"].nnz for s in range(3)]
    n_e, n_i = net.n_exc, net.n_rec - net.n_exc
    pairs = {"ee": n_e * (n_e - 1), "ei": n_e * n_i, "ie": n_i * n_e, "ii": n_i * (n_i - 1)}
    probs = {"ee": net.p_ee, "ei": net.p_ei, "ie": net.p_ie, "ii": net.p_ii}
    var = sum(pairs[b] * probs[b] * (1 - probs[b]) for b in pairs)
    assert abs(np.mean(counts) - expected_nnz(net)) < 4 * np.sqrt(var / len(counts))


def test_a_checked_mask_is_read_only_and_not_scanned_again():
    # the Trainer gave its mask back to constrain and evaluate every iteration: an n_rec^2 scan
    import infodyn as idn
    from infodyn.network.connectivity import checked_mask

    net = idn.network.LIF(n_rec=6)
    w = np.zeros((6, 6))
    mine = np.ones((6, 6))
    checked = checked_mask(net, w, mine)
    assert checked is not mine and not checked.flags.writeable  # the caller's may change
    assert checked_mask(net, w, checked) is checked
    with pytest.raises(idn.InputError, match=r"mask must have shape \(7, 7\)"):  # remembered,
        checked_mask(idn.network.LIF(n_rec=7), np.zeros((7, 7)), checked)  # still its shape
    mine[0, 1] = 0.5  # a change of the caller's array is seen on the next call
    with pytest.raises(idn.InputError, match="0 .no synapse. and 1 .synapse. only"):
        checked_mask(net, w, mine)


@pytest.mark.parametrize("n_rec", [10, 50])
def test_dense_ei_weights_are_divided_by_the_mean_in_degree_without_autapses(n_rec):
    # the divisor counted the draws on the diagonal, whose weights were then zeroed: a 10-unit
    # network's recurrence was 10 % weaker than documented (and than its sparse storage's)
    net = idn.network.LIF(n_in=2, n_rec=n_rec, connectivity="ei", ei_sigma=1e-12)
    for seed in range(5):
        w = np.asarray(net.init(seed=seed)["w_rec"])
        assert not np.any(np.diag(w))
        exc = np.abs(w[: net.n_exc][w[: net.n_exc] != 0])  # magnitude exp(ei_mu) each
        divisor = math.exp(net.ei_mu) * net.rec_scale * net.v_th / exc
        np.testing.assert_allclose(divisor, np.count_nonzero(w) / n_rec, rtol=1e-9)
