"""Learning-rule pieces against references written in the test.

- ``InfoMaxBound``: the decoder cross-entropy in bits, ``(1/B) sum_b sum_t sum_k
  -target log softmax(y)_k / ln 2`` (Barber & Agakov 2003's bound ``I >= H(S) - CE``), with its
  limits: a perfect decoder gives ``H(S)``, a flat one 0 bits.
- ``sigmoid_transfer``: ``r_max / (1 + exp(-beta (h - h0)))`` (Pereira & Brunel 2018).
- ``lif_adaptation_update``: ``theta += eta log(m / m*)`` and ``log g += eta/2 log(F*/F)``
  with window counts summed by hand (module docstring of ``learning.adaptation``).
- ``count_distribution_kl``: the KL divergence from SciPy's geometric law of the same mean.
- ``mask_gradients``: the gradient times the mask with the diagonal removed, dense and sparse.
"""

import jax
import numpy as np
import pytest
from scipy import stats

import infodyn as idn
from infodyn.learning import (
    InfoMaxBound,
    LIFAdaptationConfig,
    count_distribution_kl,
    init_lif_adaptation,
    lif_adaptation_update,
    mask_gradients,
    sigmoid_transfer,
)
from infodyn.learning.info_objectives import sequence_statistics, window_target
from infodyn.learning.losses import as_loss


def _bound_value(y, labels, n_steps=12, start=4):
    B, K = labels.size, y.shape[-1]
    z = (np.random.default_rng(0).random((B, n_steps, 5)) < 0.2).astype(float)
    target = window_target(labels, n_steps, K, start)
    loss = as_loss(InfoMaxBound())
    with jax.enable_x64(True):
        return float(loss.total(sequence_statistics(loss, z, y, target), n_steps, 1.0)), target


def test_infomax_value_is_the_cross_entropy_in_bits():
    labels = np.arange(6) % 3
    y = np.random.default_rng(1).normal(size=(6, 12, 3))
    value, target = _bound_value(y, labels)
    log_p = y - np.log(np.exp(y).sum(-1, keepdims=True))
    ref = np.mean(np.sum(-target * log_p, axis=(1, 2))) / np.log(2.0)
    assert value == pytest.approx(ref, rel=1e-12)


def test_infomax_bound_limits():
    labels = np.array([0, 1, 2, 0, 1, 2])
    perfect = 50.0 * np.eye(3)[labels][:, None, :].repeat(12, axis=1)
    value, _ = _bound_value(perfect, labels)
    assert InfoMaxBound.bound_bits(value, labels) == pytest.approx(np.log2(3), abs=1e-12)
    value, _ = _bound_value(np.zeros((6, 12, 3)), labels)
    assert InfoMaxBound.bound_bits(value, labels) == pytest.approx(0.0, abs=1e-12)


def test_sigmoid_transfer_formula():
    h = np.linspace(-5.0, 5.0, 41)
    ref = 30.0 / (1.0 + np.exp(-1.5 * (h - 0.4)))
    np.testing.assert_allclose(sigmoid_transfer(h, 30.0, 1.5, 0.4), ref, rtol=1e-12)


def test_lif_adaptation_step_by_hand():
    """Unit 0 fires every 10 steps (2 per 20-ms window), unit 1 every 100 (mean 0.2 = target),
    unit 2 never (its Fano factor's floor: half a spike over the run's windows, or half the
    target if less). The threshold steps by the relative rate error; the variance is the
    unbiased one (ddof 1)."""
    z = np.zeros((1000, 3))
    z[::10, 0] = 1
    z[::100, 1] = 1
    cfg = LIFAdaptationConfig(target_rate_hz=10.0, window_ms=20.0, eta_theta=0.02, eta_gain=0.1)
    new = lif_adaptation_update(init_lif_adaptation(3), z, 1.0, cfg)
    counts = z.reshape(50, 20, 3).sum(1)  # 50 windows of 20 steps
    m, v, target = counts.mean(0), counts.var(0, ddof=1), 10.0 * 20 / 1000
    floor = min(0.5 / 50, 0.5 * target)
    np.testing.assert_allclose(new["count_mean"], m, rtol=1e-12)
    np.testing.assert_allclose(new["count_var"], v, rtol=1e-12)
    theta = 1.0 + np.clip(0.02 * (m - target) / target, -0.25, 0.25)
    np.testing.assert_allclose(new["theta"], theta, rtol=1e-12)
    assert new["theta"][0] == pytest.approx(1.0 + 0.02 * 9.0, rel=1e-12)
    assert new["theta"][1] == pytest.approx(1.0, abs=1e-12)
    fano = np.maximum(v, floor) / np.maximum(m, floor)  # unit 0: variance 0
    d_log_gain = np.clip(0.5 * 0.1 * np.log((1.0 + target) / fano), -0.25, 0.25)
    gain = np.where(m > floor, np.exp(d_log_gain), 1.0)  # the silent unit keeps its gain
    np.testing.assert_allclose(new["gain"], gain, rtol=1e-12)
    # a second call smooths the moments: m <- (1 - s) m + s m_new with s = 0.5
    z2 = np.zeros_like(z)
    z2[::5, 1] = 1  # unit 1 now fires 4 per window
    newer = lif_adaptation_update(new, z2, 1.0, cfg)
    assert newer["count_mean"][1] == pytest.approx(0.5 * 0.2 + 0.5 * 4.0, rel=1e-12)


def test_count_kl_against_scipy_geometric_law():
    counts = np.random.default_rng(2).poisson([2.0, 0.5], size=(50_000, 2))
    got = count_distribution_kl(counts)
    for j in range(2):
        values, n = np.unique(counts[:, j], return_counts=True)
        p = n / n.sum()
        mean = counts[:, j].mean()
        geometric = stats.geom.pmf(values + 1, 1.0 / (1.0 + mean))  # support 1, 2, ...: shift
        # (not stats.entropy: it renormalises the geometric law over the observed values)
        assert got[j] == pytest.approx(np.sum(p * np.log2(p / geometric)), rel=1e-10)
    # the large-sample limit: KL(Poisson(2) || geometric of mean 2), exact
    k = np.arange(80)
    exact = stats.entropy(stats.poisson.pmf(k, 2.0), stats.geom.pmf(k + 1, 1.0 / 3.0), base=2)
    log_ratio = stats.poisson.logpmf(counts[:, 0], 2.0) - stats.geom.logpmf(counts[:, 0] + 1, 1 / 3)
    se = np.std(log_ratio / np.log(2.0)) / np.sqrt(counts.shape[0])
    assert abs(got[0] - exact) < 4 * se, (got[0], exact, se)


def test_mask_gradients_dense_and_sparse():
    net = idn.network.LIF(n_in=2, n_rec=6, n_out=1)
    rng = np.random.default_rng(3)
    g = rng.normal(size=(6, 6))
    mask = (rng.random((6, 6)) < 0.6).astype(float)
    grads = {"w_in": np.ones((2, 6)), "w_rec": g, "w_out": np.ones((6, 1))}
    out = mask_gradients(net, grads, mask)
    np.testing.assert_array_equal(np.asarray(out["w_rec"]), g * mask * (1 - np.eye(6)))
    np.testing.assert_array_equal(
        np.asarray(mask_gradients(net, grads)["w_rec"]), g * (1 - np.eye(6))
    )
    assert out["w_in"] is grads["w_in"]
    # sparse: the stored synapses (diagonal ones included) times a per-synapse mask
    pattern = g * (rng.random((6, 6)) < 0.5)
    np.fill_diagonal(pattern, 1.0)  # autapses in the pattern must lose their gradient
    sparse = idn.network.SparseWeights.from_dense(pattern)
    per_synapse = (rng.random(sparse.nnz) < 0.7).astype(float)
    out = mask_gradients(net, {**grads, "w_rec": sparse}, per_synapse)
    dense_mask = sparse.with_values(per_synapse).to_dense()
    np.testing.assert_array_equal(out["w_rec"].to_dense(), pattern * dense_mask * (1 - np.eye(6)))
    assert out["w_rec"].same_pattern(sparse)
