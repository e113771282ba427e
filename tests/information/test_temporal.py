"""Transfer entropy, AIS and entropy rate: analytic Markov chains and pyinform."""

import numpy as np
import pyinform
import pytest

from infodyn.information import active_information_storage, entropy_rate, transfer_entropy


def _hb(p):
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def test_transfer_entropy_of_a_noisy_copy():
    rng = np.random.default_rng(0)
    t, e = 200_000, 0.1
    x = rng.integers(0, 2, t)
    y = np.empty(t, dtype=np.int64)
    y[0] = 0
    y[1:] = x[:-1] ^ (rng.random(t - 1) < e)
    assert transfer_entropy(x, y, k=1) == pytest.approx(1 - _hb(e), abs=5e-3)
    assert transfer_entropy(y, x, k=1) == pytest.approx(0.0, abs=2e-3)
    # delay: the copy arrives after 3 steps
    y3 = np.concatenate([[0, 0], y[:-2]])
    assert transfer_entropy(x, y3, k=1, delay=3) == pytest.approx(1 - _hb(e), abs=5e-3)
    assert transfer_entropy(x, y3, k=1, delay=1) < 0.01


def test_conditional_transfer_entropy_removes_a_common_driver():
    rng = np.random.default_rng(1)
    t = 100_000
    z = rng.integers(0, 2, t)
    x, y = np.zeros(t, np.int64), np.zeros(t, np.int64)
    x[1:] = z[:-1] ^ (rng.random(t - 1) < 0.1)
    y[1:] = z[:-1] ^ (rng.random(t - 1) < 0.1)
    # X_{t-1} carries information about Z_{t-2}, which says nothing of Y_t: TE = 0 already;
    # use a lag-2 target so that Y_t depends on Z_{t-2} ~ X_{t-1}
    y2 = np.concatenate([[0], y[:-1]])
    assert transfer_entropy(x, y2, k=1) > 0.1
    assert transfer_entropy(x, y2, k=1, condition=z, condition_k=2) == pytest.approx(0, abs=3e-3)


def test_markov_chain_storage_and_entropy_rate():
    rng = np.random.default_rng(2)
    t, flip = 200_000, 0.2
    x = np.cumsum(rng.random(t) < flip) % 2  # symmetric binary Markov chain
    assert entropy_rate(x, k=1) == pytest.approx(_hb(flip), abs=5e-3)
    assert entropy_rate(x, k=3) == pytest.approx(_hb(flip), abs=5e-3)
    assert active_information_storage(x, k=1) == pytest.approx(1 - _hb(flip), abs=5e-3)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_against_pyinform_with_trials(k):
    rng = np.random.default_rng(k)
    src = rng.integers(0, 2, (6, 300))
    tgt = (np.roll(src, 1, axis=1) + rng.integers(0, 2, (6, 300))) % 3
    assert transfer_entropy(src[..., None], tgt[..., None], k=k) == pytest.approx(
        pyinform.transfer_entropy(src, tgt, k=k), abs=1e-10
    )
    assert active_information_storage(tgt[..., None], k=k) == pytest.approx(
        pyinform.active_info(tgt, k=k), abs=1e-10
    )
    assert entropy_rate(tgt[..., None], k=k) == pytest.approx(
        pyinform.entropy_rate(tgt, k=k), abs=1e-10
    )
