"""Blahut-Arimoto capacity against closed forms and a brute-force maximum."""

import numpy as np
import pytest

from infodyn.errors import InputError
from infodyn.information import (
    binary_erasure_channel,
    binary_symmetric_channel,
    channel_capacity,
)


def test_reference_channels():
    bsc = channel_capacity(binary_symmetric_channel(0.1))
    assert bsc.capacity == pytest.approx(0.531004406410719, abs=1e-9)
    np.testing.assert_allclose(bsc.input_distribution, [0.5, 0.5], atol=1e-6)
    assert channel_capacity(binary_erasure_channel(0.25)).capacity == pytest.approx(0.75)
    assert channel_capacity(np.eye(5)).capacity == pytest.approx(np.log2(5))
    assert channel_capacity(np.full((3, 4), 0.25)).capacity == pytest.approx(0.0, abs=1e-12)


def test_z_channel_closed_form():
    p = 0.3  # input 1 flips to 0 with probability p
    res = channel_capacity([[1.0, 0.0], [p, 1 - p]])
    closed = np.log2(1 + (1 - p) * p ** (p / (1 - p)))
    assert res.capacity == pytest.approx(closed, abs=1e-9)
    assert res.gap < 1e-9
    # the optimal P(X=1) of the Z-channel is not 1/2
    assert res.input_distribution[1] < 0.5


def _mi(r, P):
    q = r @ P
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.nansum(r[:, None] * P * np.log2(P / q[None, :])))


def test_random_channel_against_brute_force():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(4), size=3)
    res = channel_capacity(P)
    a, b = np.meshgrid(np.linspace(0, 1, 301), np.linspace(0, 1, 301))
    r = np.stack([a, b, 1 - a - b], axis=-1)[a + b <= 1]  # (m, 3) inputs on a simplex grid
    q = r @ P
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(P > 0, np.log2(P[None] / q[:, None, :]), 0.0)
    best = float((r[:, :, None] * P[None] * logs).sum((1, 2)).max())
    assert best <= res.capacity + 1e-9
    assert res.capacity - best < 1e-3
    assert _mi(res.input_distribution, P) == pytest.approx(res.capacity, abs=1e-9)


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan"), "half"])
def test_channel_probabilities_are_checked(bad):
    # p = 1.5 gave the "channel" [[-0.5, 1.5], [1.5, -0.5]]
    with pytest.raises(InputError, match="flip probability p must be a probability in"):
        binary_symmetric_channel(bad)
    with pytest.raises(InputError, match="erasure probability e must be a probability in"):
        binary_erasure_channel(bad)


def test_capacity_warns_when_it_stops_before_tol_and_checks_its_options():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]])
    with pytest.warns(UserWarning, match="stopped at max_iter = 1 with a gap"):
        short = channel_capacity(P, max_iter=1, tol=1e-15)
    full = channel_capacity(P)
    assert short.capacity <= full.capacity + 1e-12 and short.gap > 1e-3
    with pytest.raises(InputError, match="tol must be a finite number > 0"):
        channel_capacity(P, tol=float("nan"))
    with pytest.raises(InputError, match="2-D matrix of numbers"):
        channel_capacity([["a", "b"], ["c", "d"]])
