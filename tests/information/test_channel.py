"""Blahut-Arimoto capacity against closed forms and a brute-force maximum."""

import math
import re

import numpy as np
import pytest

import infodyn.information as I
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
    # a small gap: the bounds with enough digits to differ ("between 0.280676 and 0.280676")
    with pytest.warns(UserWarning, match="stopped at max_iter") as said:
        close = channel_capacity(P, max_iter=200, tol=1e-15)
    lower, upper = re.search(r"between (\S+) and (\S+) bits", str(said[0].message)).groups()
    assert close.gap < 1e-9 and float(lower) < float(upper)
    assert float(lower) <= close.capacity <= float(upper) + 1e-15
    with pytest.raises(InputError, match="P must be an array of real numbers"):
        channel_capacity([["a", "b"], ["c", "d"]])


def test_gap_is_in_bits_after_one_step():
    """One Blahut-Arimoto step from the uniform input, written out: the reported gap is
    (max_x D_x - log sum_x r_x exp(D_x)) / ln 2 bits."""
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]])
    r = np.full(3, 1 / 3)
    q = r @ P
    d = (P * np.log(P / q)).sum(1)
    gap_bits = (d.max() - np.log((r * np.exp(d)).sum())) / math.log(2)
    with pytest.warns(UserWarning, match="max_iter"):
        res = I.channel_capacity(P, max_iter=1, tol=1e-15)
    assert res.gap == pytest.approx(gap_bits, rel=1e-12)
    with pytest.warns(UserWarning, match="max_iter"):
        assert I.channel_capacity(P, max_iter=1, tol=1e-15, base=math.e).gap == pytest.approx(
            gap_bits * math.log(2), rel=1e-12
        )


def test_rows_that_do_not_sum_to_one_are_refused():
    """Rows may miss 1 by rounding (1e-12), not by 1e-6 (np.allclose's default rtol let 1e-5
    through); the message names the row."""
    with pytest.raises(InputError, match="row 0 sums to 1.0001"):
        I.channel_capacity([[0.5, 0.5001], [0.5, 0.5]])
    with pytest.raises(InputError, match="row 1 sums to 1.000001"):
        I.channel_capacity([[0.5, 0.5], [0.5, 0.500001]])
    cap = I.channel_capacity([[1.0, 1e-12], [0.0, 1.0]])
    assert cap.capacity == pytest.approx(1.0, abs=1e-9)


def test_rows_normalised_in_float32_are_taken_at_their_precision():
    """A float32 channel (a float32 softmax, a JAX model) was refused: its rows sum to 1 within
    float32's rounding, 0.99999998, not within 1e-9. BSC(0.1): C = 1 - H(0.1) bits."""
    h = -(0.1 * math.log2(0.1) + 0.9 * math.log2(0.9))
    cap = I.channel_capacity(np.float32([[0.9, 0.1], [0.1, 0.9]]))
    assert cap.capacity == pytest.approx(1.0 - h, abs=1e-6)
    P = np.random.default_rng(0).random((4, 6)).astype(np.float32)
    P /= P.sum(axis=1, keepdims=True)
    exact = I.channel_capacity(P.astype(np.float64) / P.astype(np.float64).sum(1, keepdims=True))
    assert I.channel_capacity(P).capacity == pytest.approx(exact.capacity, abs=1e-12)
    with pytest.raises(InputError, match="row 0 sums to 1.0000"):  # not rounding: refused
        I.channel_capacity(np.float32([[0.5, 0.50002], [0.5, 0.5]]))
    L = np.random.default_rng(3).random((20_000, 3)).astype(np.float32)
    assert np.isfinite(I.channel_capacity((L / L.sum(0)).T).capacity)  # normalised by columns
    skew = np.ones((65_536, 2), np.float32)
    skew[0] = 1e4  # one large term first: summed term by term, a row drifts by ~4000 eps
    assert np.isfinite(I.channel_capacity((skew / skew.sum(0)).T).capacity)
    half = np.full((2, 16), 1 / 16, np.float16)
    half[0] = 0  # float16's eps (~1e-3 a column) let an all-zero row pass
    with pytest.raises(InputError, match="row 0 sums to 0"):
        I.channel_capacity(half)
    wide = np.full((2, 1000), 1e-3, np.float32)
    wide[0, 0] -= 3e-4  # a row 3e-4 short is no rounding, however many columns
    with pytest.raises(InputError, match="row 0 sums to 0.9997"):
        I.channel_capacity(wide)


def test_tol_is_the_stopping_gap_in_bits():
    """The loop stops once the bound gap is below ``tol`` bits, whatever the base."""
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]])
    for tol in (1e-2, 1e-3, 1e-4):
        for base in (2.0, math.e):
            res = I.channel_capacity(P, tol=tol, base=base)
            assert 0 < res.gap * math.log2(base) < tol


def test_complex_tables_are_refused_not_truncated():
    """A complex channel matrix or PID table lost its imaginary part with only NumPy's warning,
    and the capacity or PID of the real part came back."""
    P = np.array([[0.9, 0.1], [0.2, 0.8]])
    p = np.full((2, 2, 2), 1 / 8)
    with pytest.raises(InputError, match="P must be an array of real numbers"):
        I.channel_capacity(P + 5j)
    for pid in (I.pid_from_table, I.pid_lattice_from_table):
        with pytest.raises(InputError, match="the PID table must be an array of real numbers"):
            pid(p + 1j)
    with pytest.raises(InputError, match="counts must be an array of real numbers"):
        I.entropy_from_counts(np.array([5, 3]) + 1j)


def test_a_flip_or_erasure_probability_of_true_is_refused():
    """True was taken as p = 1 (elsewhere True is refused as a number, e.g. base=True)."""
    for make in (binary_symmetric_channel, binary_erasure_channel):
        with pytest.raises(InputError, match="probability in \\[0, 1\\], got True"):
            make(True)
        with pytest.raises(InputError, match="got '0.1'"):  # text was read as a number
            make("0.1")
