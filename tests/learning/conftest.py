"""Shared set-up of the learning tests: the relative error of gradients, sparse random input with
a sine (or one-hot) target, and the small ALIF network under the rate and variance losses, on
which e-prop must equal BPTT-stopgrad for dense weights (test_exactness.py) and sparse weights
(test_sparse_learning.py)."""

import jax
import numpy as np
import pytest

import infodyn as idn
from infodyn.learning import PopulationRateVariance, UnitRateTarget, as_loss
from infodyn.learning.info_objectives import sequence_statistics


def _max_rel(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _spike_input(n_in, n_out, steps=80, batch=3, seed=0, onehot=False):
    """Input spikes with probability 0.15 per step and unit; the target is a sine in every
    output, or (``onehot``) class 0 spread over the second half of the sequence."""
    rng = np.random.default_rng(seed)
    x = (rng.random((batch, steps, n_in)) < 0.15).astype(float)
    if onehot:
        tgt = np.zeros((batch, steps, n_out))
        tgt[:, steps // 2 :, 0] = 1.0 / (steps - steps // 2)
    else:
        tgt = np.sin(np.arange(steps) / 7.0)[None, :, None] * np.ones((batch, 1, n_out))
    return x, tgt


@pytest.fixture
def max_rel():
    """``max_rel(a, b)``: the largest absolute difference relative to the largest ``|b|``."""
    return _max_rel


@pytest.fixture
def spike_input():
    """``spike_input(n_in, n_out, steps=80, batch=3, seed=0, onehot=False) -> (x, target)``."""
    return _spike_input


@pytest.fixture
def alif_rate_case():
    """``(net, x, target, loss)``: an ALIF network (10 units, 6 adapting, refractory, strong
    recurrence) under the deck's rate and variance losses (no readout term, so the unfiltered
    trace path), 130 steps: across the 50-step chunk boundaries of the ALIF traces."""
    net = idn.network.ALIF(
        n_in=6,
        n_rec=10,
        n_out=1,
        n_ref=1,
        rec_scale=2.0,
        in_scale=3.0,
        tau_a=60.0,
        beta_a=0.05,
        n_alif=6,
    )
    x, tgt = _spike_input(net.n_in, net.n_out, steps=130)
    loss = UnitRateTarget(r0_hz=20.0, weight=1e-3) + PopulationRateVariance(weight=1e-6)
    return net, x, tgt, loss


def _loss_value(loss, z, y=None, target=None, dt=1.0):
    """E = F(sum_t phi_t) of a recorded (B, T, n) trajectory, through the loss interface
    (float64)."""
    lossc = as_loss(loss)
    if y is None:
        y = np.zeros((*z.shape[:2], 1))
    with jax.enable_x64(True):
        stats = sequence_statistics(lossc, z, y, target, dt)
        return float(lossc.total(stats, z.shape[1], dt))


@pytest.fixture
def loss_value():
    return _loss_value
