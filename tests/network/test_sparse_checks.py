"""The checks of a ``SparseWeights`` pattern that the Numba loops trust (they read indices
without bounds checks): each bad pattern breaks exactly one invariant, so that no other check
refuses it first; each test failed on a mutant that the rest of the suite let through. And the
search for a synapse of a unit onto itself, dense or sparse."""

import numpy as np
import pytest

import infodyn as idn
from infodyn import InputError
from infodyn.network import SparseWeights
from infodyn.network.sparse import first_autapse
from infodyn.network.sparse_checks import check_sparse

# rows ascending, 6 synapses, no autapses
W = SparseWeights.from_dense(np.array([[0, 1.0, 2.0], [3.0, 0, 4.0], [5.0, 6.0, 0]]))


def _with(indices=None, indptr=None):
    return SparseWeights(
        W.values,
        W.indices if indices is None else indices,
        W.indptr if indptr is None else indptr,
        W.shape,
    )


def test_a_target_equal_to_n_post_is_refused():
    """The last synapse of the last row set to n_post: rows still ascend, so only the range
    check can refuse it (the loops would add into rec[n_post], past the array)."""
    ind = W.indices.copy()
    ind[-1] = 3
    with pytest.raises(InputError, match="out of range"):
        check_sparse(_with(indices=ind), (3, 3))


def test_a_repeated_target_in_a_row_is_refused():
    """The event engine would add a repeated synapse twice; to_dense() holds it once."""
    ind = W.indices.copy()
    ind[1] = ind[0]  # row 0: targets (1, 1)
    with pytest.raises(InputError, match="ascend"):
        check_sparse(_with(indices=ind), (3, 3))
    with pytest.raises(InputError, match="duplicate synapses"):
        SparseWeights.from_coo([0, 0], [1, 1], [1.0, 2.0], (2, 2))


@pytest.mark.parametrize("end", [5, 7])
def test_indptr_must_end_at_nnz(end):
    """Ending short, the loops skip synapses that training still updates; ending long, they
    read past the values."""
    ptr = W.indptr.copy()
    ptr[-1] = end
    with pytest.raises(InputError, match="rise from 0 to nnz"):
        check_sparse(_with(indptr=ptr), (3, 3))


def test_first_autapse_finds_a_self_synapse_dense_or_sparse():
    net = idn.network.LIF(n_in=2, n_rec=50, n_out=1, connectivity="sparse", k_in=10)
    w = net.init(seed=0)["w_rec"]
    assert first_autapse(w) is None and first_autapse(w.to_dense()) is None
    dense = w.to_dense()
    dense[[7, 3], [7, 3]] = 0.1
    assert first_autapse(dense) == 3 and first_autapse(SparseWeights.from_dense(dense)) == 3
    stored_zero = SparseWeights.from_coo([3, 3], [3, 4], [0.0, 0.1], (50, 50))
    assert first_autapse(stored_zero) is None  # a stored 0 is no synapse
