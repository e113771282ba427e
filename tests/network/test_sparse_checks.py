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


def test_traced_values_are_checked_by_their_pattern_alone():
    """`jax.grad`, `jit` and `vmap` of `recurrent_current(z, w.with_values(v))` raised JAX's
    TracerArrayConversionError from the pattern check (np.asarray of the traced values),
    though the docs name it the way to take gradients; the gradient of sum_j I_j with respect
    to synapse (i, j) is z_i, checked against jax.grad of the dense product."""
    import jax
    import jax.numpy as jnp

    from infodyn.network import LIF, recurrent_current
    from infodyn.network.sparse_current import by_target

    w = LIF(n_in=3, n_rec=8, connectivity="sparse", k_in=3).init(seed=1)["w_rec"]
    z = jnp.asarray(np.random.default_rng(0).random(8), jnp.float32)
    v = jnp.asarray(w.values)
    dense = np.asarray(jax.grad(lambda W: (z @ W).sum())(jnp.asarray(w.to_dense())))
    expected = w.mask_dense(dense)
    for pre in (None, by_target(w)):
        got = jax.grad(lambda v, pre=pre: recurrent_current(z, w.with_values(v), pre).sum())(v)
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6)
    jitted = jax.jit(lambda v: recurrent_current(z, w.with_values(v)))(v)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(z @ w.to_dense()), rtol=1e-5)
    batch = jax.vmap(lambda v: recurrent_current(z, w.with_values(v)))(jnp.stack([v, 2 * v]))
    np.testing.assert_allclose(np.asarray(batch[1]), 2 * np.asarray(jitted), rtol=1e-6)
    broken = w.with_values(v)  # a traced pattern check still refuses a broken pattern
    broken.indices = np.asarray(w.indices).copy()
    broken.indices[0] = 8
    with pytest.raises(InputError, match="out of range"):
        jax.grad(lambda v: recurrent_current(z, broken.with_values(v)).sum())(v)


def test_big_endian_arrays_are_taken_in_the_machines_byte_order():
    """Big-endian indices (a file written on another machine) were a raw Numba TypingError,
    and big-endian float64 values were refused as "not float32 or float64"."""
    w = SparseWeights(
        np.array([1.0, 2.0, 3.0], ">f8"), np.arange(3, dtype=">i4"), np.arange(4, dtype=">i8"),
        (3, 3),
    )  # fmt: skip
    assert all(a.dtype.isnative for a in (w.values, w.indices, w.indptr))
    np.testing.assert_array_equal(w.to_dense(), np.diag([1.0, 2.0, 3.0]))
    check_sparse(w, (3, 3))


def test_from_coo_refuses_targets_beyond_int32_indices():
    # post 2,500,000,000 was kept as the int32 -1,794,967,296: a corrupt object
    with pytest.raises(InputError, match="above the 2,147,483,647 postsynaptic units"):
        SparseWeights.from_coo([0], [2_500_000_000], [1.0], (1, 3_000_000_000))


def test_values_that_overflow_float32_are_refused_when_built():
    # 1e300 was stored as inf (NumPy's overflow warning only), refused only where used
    with pytest.raises(InputError, match="values up to 1e\\+300 overflow float32"):
        SparseWeights.from_dense(np.array([[0, 1e300], [1, 0]]), dtype=np.float32)
    kept = SparseWeights.from_dense(np.array([[0, 1e300], [1, 0]]))  # float64 holds them
    np.testing.assert_array_equal(kept.values, [1e300, 1.0])


def test_to_dense_under_jit_says_it_makes_a_numpy_array():
    # was JAX's TracerArrayConversionError
    import jax

    w = SparseWeights.from_dense(np.array([[0.0, 1.0], [2.0, 0.0]]))
    with pytest.raises(InputError, match="to_dense makes a NumPy array and cannot run inside"):
        jax.jit(lambda w: w.to_dense())(w)
