"""e-prop's per-synapse sum event by event (learning/event_outer.py) against the sampled product."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from infodyn.learning import event_outer
from infodyn.learning.synapse_ops import SparseOps
from infodyn.network.sparse import SparseWeights


def _case(seed, n_pre=23, n_post=17, steps=29, batch=2, spikes=True):
    rng = np.random.default_rng(seed)
    dense = rng.normal(size=(n_pre, n_post)) * (rng.random((n_pre, n_post)) < 0.3)
    dense[3] = 0.0  # a unit without synapses
    w = SparseWeights.from_dense(dense)
    zin = rng.random((steps, batch, n_pre)) < 0.15
    zin = zin.astype(np.float64) if spikes else zin * rng.normal(size=zin.shape)
    zbar0 = rng.random((batch, n_pre)) * 2.0
    q = rng.normal(size=(steps, batch, n_post))
    return w, jnp.asarray(zbar0), jnp.asarray(zin), jnp.asarray(q)


def _filtered(alpha, zbar0, zin):
    """``zbar[k] = alpha zbar[k-1] + zin[k]`` from ``zbar0``, k = 1..n (the e-prop trace)."""
    out, z = [], zbar0
    for k in range(zin.shape[0]):
        z = alpha * z + zin[k]
        out.append(z)
    return jnp.stack(out)


@pytest.mark.parametrize("spikes", [True, False])
@pytest.mark.parametrize("alpha", [0.9, 1.0])
def test_trace_outer_equals_the_sampled_product(spikes, alpha, max_rel):
    """Event by event (reverse-filtered q gathered at the spikes' rows, plus one sampled product
    for the chunk's initial trace) == every step's sampled product, float64, to round-off; for
    spikes and for real-valued inputs (input traces ``s_in x``), leaky and non-leaky."""
    w, zbar0, zin, q = _case(0, spikes=spikes)
    zb = _filtered(alpha, zbar0, zin)
    ops = SparseOps(w, 0, 0)
    ref = ops.outer(zb, q)
    got = jax.jit(lambda *a: ops.trace_outer(alpha, *a))(zbar0, zin, q, zb)
    assert got.shape == (w.nnz,) and got.dtype == jnp.float64
    assert max_rel(got, ref) <= 1e-12
    assert np.max(np.abs(np.asarray(ref))) > 1.0  # not a sum of zeros


def test_spike_rows_adds_each_spike_rows_targets():
    """The host loop against an explicit double loop over spikes and synapses."""
    w, _, zin, q = _case(1)
    zin, q = np.asarray(zin), np.asarray(q)
    got = np.asarray(event_outer.spike_rows(zin, q, w.indices, w.indptr))
    ref = np.zeros(w.nnz)
    indptr, indices = np.asarray(w.indptr), np.asarray(w.indices)
    for k, b, i in zip(*np.nonzero(zin), strict=True):
        for s in range(indptr[i], indptr[i + 1]):
            ref[s] += zin[k, b, i] * q[k, b, indices[s]]
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-13)
    assert np.count_nonzero(ref) > w.nnz // 2


def test_trace_outer_runs_the_host_loop_on_a_cpu_and_maps(monkeypatch, max_rel):
    """On a CPU the spike term is the host loop (called once per trace, once per mapped entry
    under ``vmap``), float32 too."""
    calls = []
    host = event_outer._host_spike_rows

    def counted(*args):
        calls.append(1)
        return host(*args)

    monkeypatch.setattr(event_outer, "_host_spike_rows", counted)
    w, zbar0, zin, q = _case(2, steps=11)
    zbar0, zin, q = (a.astype(jnp.float32) for a in (zbar0, zin, q))
    zb = _filtered(0.95, zbar0, zin)
    ops = SparseOps(w.with_values(np.asarray(w.values, np.float32)), 0, 0)
    mapped = jax.jit(jax.vmap(lambda qq: ops.trace_outer(0.95, zbar0, zin, qq, zb)))
    got = mapped(jnp.stack([q, 2.0 * q, -q]))
    assert len(calls) == 3 and got.dtype == jnp.float32
    for i, scale in enumerate((1.0, 2.0, -1.0)):
        assert max_rel(got[i], ops.outer(zb, scale * q)) <= 1e-5
