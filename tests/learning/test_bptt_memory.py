"""BPTT over sparse weights is checked to fit in memory before the pass
(infodyn.learning.bptt.require_bptt_memory)."""

import math

import numpy as np
import pytest

import infodyn as idn
from infodyn.learning.bptt import BPTT_PEAK
from infodyn.memory import MemoryPreflightError


@pytest.mark.parametrize("method", ["bptt", "bptt_stopgrad"])
def test_residuals_that_do_not_fit_are_refused_in_one_line(monkeypatch, method):
    """n_rec 20000, k_in 1000, batch 16 asked XLA for 31 GB: a traceback the CLI called an
    internal error; e-prop (factorised LIF traces) trains the same network."""
    net = idn.network.LIF(n_in=4, n_rec=200, n_out=1, connectivity="sparse", k_in=150, in_scale=3.0)
    params = net.init(seed=0)
    assert hasattr(params["w_rec"], "nnz")
    x = idn.network.poisson_spikes(20.0, 100, n_in=4, batch=8, seed=1)
    target = np.zeros((8, 100, 1))
    need = BPTT_PEAK * math.ceil(math.sqrt(100)) * 8 * params["w_rec"].nnz * 4  # float32
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", str(int(need * 0.9)))
    why = r"BPTT's residuals \(10 steps kept at once x batch 8 x 30,000 synapses.*method='eprop'"
    with pytest.raises(MemoryPreflightError, match=why):
        idn.learning.gradients(net, params, x, target, "mse", method=method)
    idn.learning.gradients(net, params, x, target, "mse", method="eprop")
    with pytest.raises(MemoryPreflightError, match=r"\(100 steps kept at once"):
        idn.learning.gradients(net, params, x, target, "mse", method=method, remat=False)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", str(int(need * 1.5)))
    idn.learning.gradients(net, params, x, target, "mse", method=method)
