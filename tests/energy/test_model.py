"""IsingModel: hand-computed 3-unit network, conversions, storage, bad input."""

import numpy as np
import pytest

import infodyn as idn
from infodyn.energy import IsingModel, all_states

J3 = np.array([[0.0, 1.0, -2.0], [1.0, 0.0, 0.5], [-2.0, 0.5, 0.0]])
TH3 = np.array([0.5, -0.25, 1.0])
# E(x) = -(x0 x1 - 2 x0 x2 + 0.5 x1 x2) + 0.5 x0 - 0.25 x1 + x2, by hand:
HAND = {
    (0, 0, 0): 0.0,
    (1, 0, 0): 0.5,
    (0, 1, 0): -0.25,
    (0, 0, 1): 1.0,
    (1, 1, 0): -0.75,
    (1, 0, 1): 3.5,
    (0, 1, 1): 0.25,
    (1, 1, 1): 1.75,
}


def test_three_unit_energies_by_hand():
    m = IsingModel(J3, TH3)
    X = np.array(list(HAND))
    np.testing.assert_allclose(m.energy(X), list(HAND.values()), atol=1e-12)
    # flip energies are differences of hand energies
    u = m.flip_energies(X)
    for r, x in enumerate(HAND):
        for i in range(3):
            y = list(x)
            y[i] ^= 1
            assert u[r, i] == pytest.approx(HAND[tuple(y)] - HAND[x], abs=1e-12)


def test_three_unit_single_sweep_by_hand():
    m = IsingModel(J3, TH3)
    # one in-order sweep (units 0, 1, 2), worked by hand with h = J x - theta
    starts = {
        (1, 0, 1): (0, 1, 0),
        (0, 0, 0): (0, 1, 0),
        (1, 1, 1): (0, 1, 0),
        (1, 0, 0): (0, 1, 0),
        (0, 1, 1): (0, 1, 0),
        (1, 1, 0): (1, 1, 0),
    }
    X = np.array(list(starts))
    one, sweeps = idn.energy.descend(m, X, max_sweeps=1, return_sweeps=True)
    np.testing.assert_array_equal(sweeps, [-1, -1, -1, -1, -1, 1])  # only 110 is already fixed
    np.testing.assert_array_equal(one, np.array(list(starts.values())))
    # the second sweep takes 010 to the only fixed point, 110 (the global minimum)
    np.testing.assert_array_equal(m.descend(X), np.tile([1, 1, 0], (len(starts), 1)))
    np.testing.assert_array_equal(m.fixed_points(), [[1, 1, 0]])
    assert m.is_fixed_point([1, 1, 0], strict=True).all()
    # synchronous: 000 -> 010 -> 110 (fixed)
    res = idn.energy.synchronous(m, [[0, 0, 0]])
    np.testing.assert_array_equal(res.states, [[1, 1, 0]])
    assert res.period[0] == 1 and res.steps[0] == 2


def test_conditional_matches_enumeration():
    rng = np.random.default_rng(0)
    m = _random_model(6, rng)
    S = all_states(6)
    p = m.probabilities()
    for i in range(6):
        on = S[:, i] == 1
        # p(x_i = 1 | rest) from the joint: pair each state with its flip
        flipped = S.copy()
        flipped[:, i] ^= 1
        idx = flipped @ (1 << np.arange(6))
        cond = np.where(on, p / (p + p[idx]), p[idx] / (p + p[idx]))
        np.testing.assert_allclose(m.conditional(S)[:, i], cond, atol=1e-12)


def test_spin_conversion_round_trip():
    rng = np.random.default_rng(1)
    m = _random_model(7, rng)
    W, b, c = m.to_spin()
    X = all_states(7)
    s = 2.0 * X - 1.0
    e_spin = -0.5 * np.einsum("ki,ij,kj->k", s, W, s) - s @ b + c
    np.testing.assert_allclose(e_spin, m.energy(X), atol=1e-12)
    back = IsingModel.from_spin(W, b)
    np.testing.assert_allclose(back.J, m.J, atol=1e-14)
    np.testing.assert_allclose(back.theta, m.theta, atol=1e-14)


def test_save_load_round_trip(tmp_path):
    m = IsingModel(J3, TH3, {"method": "hand", "note": [1, 2]})
    path = m.save(tmp_path / "m.npz")
    back = IsingModel.load(path)
    np.testing.assert_array_equal(back.J, m.J)
    np.testing.assert_array_equal(back.theta, m.theta)
    assert back.fit_info == {"method": "hand", "note": [1, 2]}
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(idn.InputError):
        IsingModel.load(tmp_path / "bad.npz")
    with pytest.raises(idn.InputError):
        IsingModel.load(tmp_path / "missing.npz")


def test_independent_model_and_log_z():
    X = np.array([[1, 0], [1, 1], [0, 0], [1, 0]])
    m = IsingModel.independent(X, pseudocount=0)
    np.testing.assert_allclose(1 / (1 + np.exp(m.theta)), [0.75, 0.25])
    S = all_states(2)
    assert m.log_partition() == pytest.approx(np.log(np.exp(-m.energy(S)).sum()))


@pytest.mark.parametrize(
    "J, theta",
    [
        (np.array([[0, 1.0], [0.5, 0]]), np.zeros(2)),  # asymmetric
        (np.array([[1.0, 0], [0, 0]]), np.zeros(2)),  # diagonal
        (np.zeros((2, 2)), np.zeros(3)),  # shapes
        (np.array([[0, np.nan], [np.nan, 0]]), np.zeros(2)),
    ],
)
def test_bad_parameters(J, theta):
    with pytest.raises(idn.InputError):
        IsingModel(J, theta)


def test_bad_states():
    m = IsingModel(J3, TH3)
    with pytest.raises(idn.InputError, match="binary"):
        m.energy([[0, 2, 1]])
    with pytest.raises(idn.InputError, match="units"):
        m.energy([[0, 1]])
    with pytest.raises(idn.InputError, match="NaN"):
        m.energy([[0, np.nan, 1]])


def _random_model(n, rng, scale=0.5):
    J = np.triu(rng.normal(0, scale, (n, n)), 1)
    return IsingModel(J + J.T, rng.normal(0.3, 0.5, n))


@pytest.mark.parametrize("bad", ["a", [[1.0, 2.0], [3.0]], {}, 1 + 2j])
def test_model_arrays_that_are_not_real_numbers_are_one_line(bad):
    from infodyn.energy import IsingModel, KPairwiseModel
    from infodyn.errors import InputError

    J, theta = np.zeros((2, 2)), np.zeros(2)
    for call in (
        lambda: IsingModel.from_spin(bad, np.zeros(2)),
        lambda: IsingModel.from_spin(J, bad),
        lambda: KPairwiseModel(J, theta, bad),
    ):
        with pytest.raises(InputError, match="must be"):
            call()
    with pytest.raises(InputError, match="pseudocount must be a number >= 0, got '1'"):
        IsingModel.independent(np.array([[0, 1], [1, 0]]), pseudocount="1")
