"""Conditional transfer entropy against independent references.

References: the Inform C library through ``pyinform.transfer_entropy(..., condition=z)`` on one
trial, and a plug-in conditional MI written out here from ``np.unique`` counts on explicitly
lagged arrays, trial by trial, for several trials. pyinform is not used on multi-trial data: it
mixes up the conditioned histories across trials (ELIFE-ASU/Inform#78) and gives wrong values.

Convention pinned (``transfer_entropy(source, target, k, condition=z, condition_k=1)``):
``I(Y_t ; X_{t-1} | Y_{t-1}, ..., Y_{t-k}, Z_{t-1})`` with t from ``span = max(k, 1)`` to the
last step of every trial (no transition crosses a trial boundary).
"""

import numpy as np
import pyinform
import pytest
from entropy_reference import cmi_rows

from infodyn.information import transfer_entropy


def _gated_copy(trials, steps, seed):
    """x, z fair coins; y_t = (x_{t-1} AND z_{t-1}) XOR noise(0.1)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (trials, steps))
    z = rng.integers(0, 2, (trials, steps))
    y = np.zeros_like(x)
    y[:, 1:] = (x[:, :-1] & z[:, :-1]) ^ (rng.random((trials, steps - 1)) < 0.1)
    return x, y, z


def _reference_cte(x, y, z, k, z_lags):
    """I(Y_t; X_{t-1} | Y_{t-1..t-k}, Z_{t-l} for l in z_lags), pooled over trials.

    t runs over ``span .. steps-1`` in every trial, ``span = max(k, 1, max(z_lags))``; rows are
    assembled trial by trial from explicit index arithmetic.
    """
    fut, src, cond = [], [], []
    steps = x.shape[1]
    span = max(k, 1, max(z_lags))
    for tr in range(x.shape[0]):
        for t in range(span, steps):
            fut.append(y[tr, t])
            src.append(x[tr, t - 1])
            cond.append([y[tr, t - j] for j in range(1, k + 1)] + [z[tr, t - l] for l in z_lags])
    return cmi_rows(np.array(fut), np.array(src), np.array(cond))


@pytest.mark.parametrize("k", [1, 2])
def test_single_trial_matches_pyinform(k):
    x, y, z = _gated_copy(1, 500, seed=1)
    x, y, z = x[0], y[0], z[0]
    ref = pyinform.transfer_entropy(x, y, k=k, condition=z)
    assert ref > 0.1  # the gate makes Z informative: not a trivial zero
    assert transfer_entropy(x, y, k=k, condition=z) == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize("k", [1, 2])
def test_several_trials_match_lagged_plugin_cmi(k):
    x, y, z = _gated_copy(4, 500, seed=1)
    ours = transfer_entropy(x[..., None], y[..., None], k=k, condition=z[..., None])
    ref = _reference_cte(x, y, z, k, z_lags=[1])
    assert ours == pytest.approx(ref, abs=1e-10)
    # Z taken at the same time as Y_t (not lagged) is a different quantity here: the gate acts
    # through Z_{t-1}. This pins the condition's lag.
    same_time = _reference_cte(x, y, z, k, z_lags=[0])
    assert abs(ours - same_time) > 0.05


def test_several_trials_condition_history_two():
    x, y, z = _gated_copy(4, 500, seed=2)
    ours = transfer_entropy(x[..., None], y[..., None], k=1, condition=z[..., None], condition_k=2)
    ref = _reference_cte(x, y, z, 1, z_lags=[1, 2])
    assert ours == pytest.approx(ref, abs=1e-10)
    # Z_{t-2} really enters: the reference without it (condition_k=1) is a different number
    assert abs(ours - _reference_cte(x, y, z, 1, z_lags=[1])) > 1e-3
