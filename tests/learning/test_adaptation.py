"""LIF threshold and input-gain homeostasis (the LIF analogue of intrinsic plasticity)."""

import numpy as np
import pytest

from infodyn.errors import InputError
from infodyn.learning.adaptation import (
    LIFAdaptationConfig,
    adapt_lif,
    adapted_input,
    adapted_network,
    count_distribution_kl,
    init_lif_adaptation,
    lif_adaptation_update,
    window_counts,
)
from infodyn.network import LIF, filtered_noise_spikes


# ----------------------------------------------------------------- LIF analogue
def _reference_lif_with_thresholds(net, params, x, theta):
    """Independent NumPy LIF with per-unit threshold theta*v_th and reset v_th, started at the
    value v0 = v_th (theta - 1) that the bias realisation implies (module docstring)."""
    n_t = x.shape[0]
    v = net.v_th * (theta - 1.0)
    z = np.zeros(net.n_rec)
    out = np.zeros((n_t, net.n_rec))
    for t in range(n_t):
        v = net.alpha * v + z @ params["w_rec"] + x[t] @ params["w_in"] - net.v_th * z
        z = (v > theta * net.v_th).astype(float)
        out[t] = z
    return out


def test_threshold_as_bias_current_is_exact():
    net = LIF(n_in=30, n_rec=12, n_out=1, rec_scale=0.3, in_scale=3.0)
    params = net.init(seed=4)
    x = filtered_noise_spikes(600, 30, mean_rate=30, contrast=0.8, seed=5).astype(np.float64)
    state = init_lif_adaptation(net.n_rec)
    state["theta"] = np.linspace(0.6, 1.8, net.n_rec)
    net_a, params_a = adapted_network(net, params, state)
    z = net_a.simulate(params_a, adapted_input(x), engine="jax", precision="float64").z
    ref = _reference_lif_with_thresholds(net, params, x, state["theta"])
    assert ref.sum() > 50 and len(set(ref.sum(axis=0))) > 3  # active, thresholds matter
    np.testing.assert_array_equal(z, ref)


def test_lif_update_is_pure_and_moves_threshold_toward_target():
    state = init_lif_adaptation(3)
    z = np.zeros((1000, 3))
    z[::10, 0] = 1  # 100 Hz, above target
    z[::100, 1] = 1  # 10 Hz, at target
    cfg = LIFAdaptationConfig(target_rate_hz=10.0, window_ms=20.0)
    new = lif_adaptation_update(state, z, 1.0, cfg)
    assert np.all(state["theta"] == 1.0)  # input untouched
    assert new["theta"][0] > 1.0 and abs(new["theta"][1] - 1.0) < 1e-12 and new["theta"][2] < 1.0
    with pytest.raises(InputError, match="units"):
        lif_adaptation_update(state, np.zeros((100, 4)), 1.0, cfg)


def test_lif_max_entropy_adaptation_reaches_rate_and_geometric_counts():
    net = LIF(n_in=50, n_rec=20, n_out=1, rec_scale=0.5, in_scale=3.0)
    params = net.init(seed=0)

    def inputs(k):
        return filtered_noise_spikes(2000, 50, mean_rate=20, contrast=0.8, seed=100 + k)

    test_x = adapted_input(inputs(999))
    kls = {}
    for rule in ("rate", "max_entropy"):
        cfg = LIFAdaptationConfig(target_rate_hz=10.0, window_ms=20.0, rule=rule)
        res = adapt_lif(net, params, inputs, 40, cfg)
        net_a, params_a = adapted_network(net, params, res.state)
        counts = window_counts(net_a.simulate(params_a, test_x, engine="jax").z, 20)
        rate = counts.mean() * 1000 / 20
        assert abs(rate - 10.0) / 10.0 < 0.2, (rule, rate)
        kls[rule] = float(np.mean(count_distribution_kl(counts)))
        if rule == "max_entropy":
            m = counts.mean(axis=0)
            fano = np.mean(counts.var(axis=0)[m > 0] / m[m > 0])
            assert abs(fano - res.fano_target) / res.fano_target < 0.15
    # shaping the spread brings the count law closer to the maximum-entropy (geometric) one
    assert kls["max_entropy"] < 0.6 * kls["rate"]


def test_count_kl_is_zero_for_geometric_counts():
    rng = np.random.default_rng(0)
    c = rng.geometric(1 / 3, size=(400_000, 1)) - 1  # mean 2
    assert count_distribution_kl(c)[0] < 1e-3
    assert count_distribution_kl(rng.poisson(2.0, size=(100_000, 1)))[0] > 0.1
