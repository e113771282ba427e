"""Weights against the connectivity a network's options describe (network/weights_check.py)."""

from __future__ import annotations

import numpy as np
import pytest

import infodyn as idn
from infodyn.network.sparse import SparseWeights
from infodyn.network.weights_check import connectivity_mismatch, dale_violations, in_degrees


def _net(**kw):
    return idn.network.LIF(n_in=3, **kw)


def test_in_degrees_count_the_synapses_each_unit_receives():
    w = np.array([[0.0, 1.0, 2.0], [0.0, 5.0, -1.0], [3.0, 0.0, 0.0]])  # diagonal 5 ignored
    assert in_degrees(w).tolist() == [1, 1, 2]
    assert in_degrees(SparseWeights.from_dense(w)).tolist() == [1, 2, 2]  # stored, 5 included


@pytest.mark.parametrize(
    "options",
    [
        dict(n_rec=12, connectivity="dense"),
        dict(n_rec=10, connectivity="sparse", p_connect=0.1),  # 9 synapses expected
        dict(n_rec=400, connectivity="sparse", p_connect=0.05),
        dict(n_rec=400, connectivity="sparse", p_connect=0.05, weights="sparse"),
        dict(n_rec=300, connectivity="ei"),
        dict(n_rec=300, connectivity="ei", weights="sparse"),
        dict(n_rec=300, connectivity="ei", k_in=20),
        dict(n_rec=300, connectivity="sparse", k_in=20, weights="dense"),
    ],
)
def test_a_networks_own_draw_fits_it_at_every_seed(options):
    net = _net(**options)
    for seed in range(20):
        assert connectivity_mismatch(net, net.init(seed)["w_rec"]) is None


def test_a_graph_of_other_options_is_named_with_the_options():
    w100 = _net(n_rec=1000, connectivity="ei", k_in=100).init(0)["w_rec"]
    said = connectivity_mismatch(_net(n_rec=1000, connectivity="ei", k_in=50), w100)
    assert "100..100 synapses (mean 100.0)" in said and "k_in = 50 gives each unit 50" in said
    said = connectivity_mismatch(_net(n_rec=1000), w100)  # dense [network]: all-to-all
    assert "connectivity = 'dense' gives all-to-all" in said
    w50 = _net(n_rec=1000, connectivity="ei", k_in=50).init(0)["w_rec"]
    said = connectivity_mismatch(_net(n_rec=1000, connectivity="ei", k_in=100), w50)
    assert "k_in = 100" in said  # fewer synapses than k_in, in a stored pattern
    bern = _net(n_rec=1000, connectivity="sparse", p_connect=0.1, weights="sparse").init(0)
    said = connectivity_mismatch(
        _net(n_rec=1000, connectivity="sparse", p_connect=0.2), bern["w_rec"]
    )
    assert "connectivity = 'sparse' gives 199.8 on average" in said
    dense = _net(n_rec=200).init(0)["w_rec"]  # all-to-all under a Bernoulli [network]
    assert "gives 19.9 on average" in connectivity_mismatch(
        _net(n_rec=200, connectivity="sparse", p_connect=0.1), dense
    )


def test_a_dense_array_may_have_lost_synapses_to_training_but_not_gained_any():
    net = _net(n_rec=300, connectivity="sparse", k_in=20, weights="dense")
    w = np.asarray(net.init(0)["w_rec"]).copy()
    w[:, :150][w[:, :150] < 0] = 0.0  # about half the synapses of half the units zeroed
    assert connectivity_mismatch(net, w) is None
    w[:, :] = 0.0  # as many as all: zeros are not absent synapses in a dense array
    assert connectivity_mismatch(net, w) is None
    uncoupled = _net(n_rec=50, rec_scale=0.0)  # was refused as "0..0 synapses, all-to-all"
    assert connectivity_mismatch(uncoupled, uncoupled.init(0)["w_rec"]) is None
    w = np.asarray(net.init(0)["w_rec"]).copy()
    absent = np.flatnonzero(w[:, 5] == 0)
    w[absent[absent != 5][0], 5] = 0.1  # one more synapse onto a unit of 20
    assert "k_in = 20" in connectivity_mismatch(net, w)


def test_dense_checks_read_the_weights_a_block_of_rows_at_a_time(monkeypatch):
    """The dense checks made a float64 n x n copy and a boolean one (309 MiB at 137 MiB of
    float32 weights)."""
    import tracemalloc

    from infodyn.network import weights_check

    net = _net(n_rec=1500, connectivity="ei", weights="dense")
    w = -np.asarray(net.init(0, precision="float32")["w_rec"])  # every synapse breaks Dale
    want = (in_degrees(w).tolist(), dale_violations(w, net.unit_signs()))
    monkeypatch.setattr(weights_check, "BLOCK_ELEMENTS", 7 * 1500 + 3)  # blocks of 7 rows
    tracemalloc.start()
    got = (in_degrees(w).tolist(), dale_violations(w, net.unit_signs()))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert got == want and want[1] == sum(want[0]) > 0
    assert peak < 0.05 * w.nbytes


def test_dale_violations_are_counted_and_named():
    net = _net(n_rec=300, connectivity="ei", k_in=20)
    w = net.init(0)["w_rec"]
    assert dale_violations(w, net.unit_signs()) == 0
    assert dale_violations(w, None) == 0
    flipped = w.with_values(-np.asarray(w.values))
    assert dale_violations(flipped, net.unit_signs()) == w.nnz
    said = connectivity_mismatch(net, flipped)
    assert f"{w.nnz:,} of its synapses break Dale's law" in said and "units 0..239" in said
    assert connectivity_mismatch(_net(n_rec=300, connectivity="sparse", k_in=20), flipped) is None
