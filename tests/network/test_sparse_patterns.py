"""What ``SparseWeights`` promises: the fixed in-degree layout past 2^16 presynaptic units and
for patterns that have none; the pattern comparison; the bytes a pattern takes. Each test
failed on a mutant that the rest of the suite let through (the pattern checks the Numba loops
trust are in test_sparse_checks.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import infodyn as idn
from infodyn.network import SparseWeights
from infodyn.network.sparse import sparse_bytes
from infodyn.network.sparse_current import by_target, recurrent_current

# rows ascending, 6 synapses, no autapses
W = SparseWeights.from_dense(np.array([[0, 1.0, 2.0], [3.0, 0, 4.0], [5.0, 6.0, 0]]))


def test_same_pattern_compares_targets_not_only_row_lengths():
    a = SparseWeights.from_dense(np.array([[0, 1.0], [1.0, 0]]))
    b = SparseWeights.from_dense(np.array([[1.0, 0], [0, 1.0]]))
    assert np.array_equal(a.indptr, b.indptr) and not a.same_pattern(b)
    assert a.same_pattern(a.with_values(a.values * 2))


def _current(z, w, plan):
    wj = jax.tree_util.tree_map(jnp.asarray, w)
    return np.asarray(recurrent_current(jnp.asarray(z), wj, plan))


def test_fixed_in_degree_layout_past_2_16_presynaptic_units():
    """Presynaptic ids are stored as uint16 up to 2^16 units: unit 69,999 must not be read as
    unit 69,999 - 65,536 (the dense product is the reference)."""
    w = SparseWeights.from_coo([69_999, 1], [0, 1], [2.0, 3.0], (70_000, 2))
    plan = by_target(w)
    assert plan is not None
    z = np.zeros(70_000)
    z[69_999], z[69_999 - 65_536] = 1.0, 10.0
    np.testing.assert_array_equal(_current(z, w, plan), z @ w.to_dense())


def test_no_fixed_in_degree_layout_without_a_fixed_in_degree():
    """In-degrees (2, 0, 1): 3 synapses onto 3 units, but no K-major layout exists."""
    w = SparseWeights.from_coo([0, 1, 2], [0, 0, 2], [1.0, 2.0, 3.0], (3, 3))
    assert by_target(w) is None
    z = np.array([1.0, 1.0, 1.0])
    np.testing.assert_array_equal(_current(z, w, by_target(w)), z @ w.to_dense())


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_sparse_bytes_are_the_bytes_of_the_arrays(precision):
    """The preflight's estimate of a pattern against the arrays' own sizes."""
    net = idn.network.LIF(n_rec=300, connectivity="sparse", k_in=7)
    w = net.init(seed=0, precision=precision)["w_rec"]
    nbytes = sum(np.asarray(a).nbytes for a in (w.values, w.indices, w.indptr))
    assert sparse_bytes(300, w.nnz, precision) == nbytes


def test_a_user_pattern_with_autapses_runs_alike_in_every_engine():
    """Drawn patterns have no autapses, a user's may (before ``constrain``): the event engine's
    sparse rows, its dense rows and the JAX engine add the self-synapses alike (float64)."""
    net = idn.network.LIF(n_in=20, n_rec=40, n_out=2, in_scale=4.0, rec_scale=1.5)
    params = net.init(seed=3)
    w = np.asarray(params["w_rec"]) * (np.random.default_rng(0).random((40, 40)) < 0.3)
    w[np.arange(40), np.arange(40)] = 0.4 * net.v_th  # self-excitation, below threshold
    sparse = {**params, "w_rec": SparseWeights.from_dense(w)}
    x = idn.network.poisson_spikes(40.0, 600, n_in=20, seed=1)
    es = net.simulate(sparse, x, engine="event")
    ed = net.simulate({**params, "w_rec": w}, x, engine="event")
    js = net.simulate(sparse, x, engine="jax", precision="float64")
    assert 0.005 < es.z.mean() < 0.5
    np.testing.assert_array_equal(es.z, ed.z)
    np.testing.assert_array_equal(es.v, ed.v)
    np.testing.assert_array_equal(js.z, es.z)
