"""e-prop's per-synapse traces (ALIF thresholds, readout-filtered windows) are checked to fit in
memory before they are allocated (infodyn.learning.eprop.zero_carry)."""

import numpy as np
import pytest

import infodyn as idn
from infodyn.learning.eprop import (
    INPUT_BYTES,
    STEP_ARRAYS,
    SYNAPSE_BYTES,
    TRACE_PEAK,
    zero_carry,
)
from infodyn.memory import MemoryPreflightError


def _alif(**kw):
    return idn.network.ALIF(n_in=4, n_rec=300, n_out=1, n_alif=300, v_th=0.03, **kw)


def test_alif_traces_that_do_not_fit_are_refused_in_one_line(monkeypatch):
    """B x n_rec x n_adaptive float32 threshold traces went unchecked: a 9.2 GB array ended in
    XLA's out-of-memory traceback, called an internal error by the CLI."""
    net = _alif()
    params = net.init(seed=0)
    x = idn.network.poisson_spikes(20.0, 20, n_in=4, batch=8, seed=1)
    target = np.zeros((8, 20, 1))
    need = TRACE_PEAK * 8 * (4 + 300) * 300 * 4  # eps_in and eps_rec, float32
    need += STEP_ARRAYS[True] * 20 * 8 * (300 + 4) * 4  # a chunk of 20 steps' states
    need += INPUT_BYTES[4] * 8 * 20 * 4  # and the input's copies
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", str(int(need * 0.9)))
    why = r"eligibility traces \(729,600 values.*smaller batch_size, fewer adaptive \(ALIF\)"
    with pytest.raises(MemoryPreflightError, match=why):
        idn.learning.gradients(net, params, x, target, "mse", method="eprop")
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", str(int(need * 1.5)))
    idn.learning.gradients(net, params, x, target, "mse", method="eprop")


def test_sparse_traces_are_sized_by_the_synapses_without_a_dense_copy(monkeypatch):
    """With sparse weights the carry was first built dense (B x n_rec x n_adaptive, and B x
    n_rec x n_rec when filtered), then replaced: an O(N^2) allocation in a sparse network."""
    net = _alif(connectivity="sparse", k_in=10)
    w = net.init(seed=0)["w_rec"]
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "2M")  # the dense traces would need 13.9 MiB
    carry = zero_carry(8, 4, 300, 1, np.float32, 300, True, w)
    assert carry.eps_rec.shape == (8, w.nnz) and carry.ebar_rec.shape == (8, w.nnz)
    assert carry.eps_in.shape == (8, 4, 300) and carry.ebar_in.shape == (8, 4, 300)
    with pytest.raises(MemoryPreflightError, match="or filter_readout=False") as info:
        zero_carry(8, 4, 300, 1, np.float32, 300, True, np.zeros((300, 300), np.float32))
    assert "sparse weights (k_in)" in str(info.value)


def test_the_traces_are_checked_once_a_size(monkeypatch):
    """The carry is made every iteration; after the first the process keeps what it freed,
    which the free memory then lacks: a long run could be refused midway."""
    from infodyn.learning import eprop

    calls = []
    check = eprop.require_memory
    monkeypatch.setattr(eprop, "require_memory", lambda *a, **k: calls.append(a) or check(*a, **k))
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "987654321")  # a cache key of this test's own
    net = _alif()
    params = net.init(seed=0)
    x = idn.network.poisson_spikes(20.0, 20, n_in=4, batch=3, seed=1)
    for _ in range(3):
        idn.learning.gradients(net, params, x, np.zeros((3, 20, 1)), "mse", method="eprop")
    assert len(calls) == 1
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "987654322")  # another limit: checked again
    idn.learning.gradients(net, params, x, np.zeros((3, 20, 1)), "mse", method="eprop")
    assert len(calls) == 2


@pytest.mark.parametrize("model", ["lif", "alif"])
def test_a_chunks_states_and_the_synapse_layouts_are_checked_with_the_traces(model, monkeypatch):
    """The check counted the per-synapse traces alone (none for LIF): a sparse ALIF network
    of 20,000 units, batch 8, passed a check of 160 MiB and peaked at 1.6 GiB, 140 MiB more
    a batch entry (the (chunk, B, n_rec) values e-prop records a chunk)."""
    kw = {"n_in": 4, "n_rec": 1000, "connectivity": "sparse", "k_in": 20}
    net = idn.network.ALIF(n_alif=500, **kw) if model == "alif" else idn.network.LIF(**kw)
    params = net.init(seed=0, precision="float32")
    x = idn.network.poisson_spikes(20.0, 300, n_in=4, batch=8, seed=1).astype(np.float32)
    target = np.zeros((8, 300, 1), np.float32)
    nnz_a = 500 * 20 if model == "alif" else 0
    traces = TRACE_PEAK * 8 * (4 * 500 * (model == "alif") + nnz_a) * 4
    states = STEP_ARRAYS[model == "alif"] * 100 * 8 * 1004 * 4  # chunks of 100 steps
    inputs = INPUT_BYTES[4] * 8 * 300 * 4  # a float64 copy and float32 ones
    need = traces + states + SYNAPSE_BYTES[model == "alif"] * params["w_rec"].nnz + inputs
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", str(int(need / 0.9 * 0.95)))
    why = r"the states of a chunk of 100 steps \(batch 8 x 1,000 units\), the layouts of 20,000 "
    why += r"synapses and the copies of the input \(8 x 300 steps x 4 channels\) needs "
    with pytest.raises(MemoryPreflightError, match=why + r".*batch_size"):
        idn.learning.gradients(net, params, x, target, "mse", method="eprop")
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", str(int(need / 0.9 * 1.05)))
    idn.learning.gradients(net, params, x, target, "mse", method="eprop")
