"""Dynamics: descent never raises E, fixed points, exhaustive search, synchronous cycles,
Glauber."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import infodyn as idn
from infodyn.energy import IsingModel, all_states, descend, is_fixed_point
from infodyn.energy.dynamics import fixed_points, glauber, synchronous
from infodyn.errors import InputError


def _model(n, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0, scale, (n, n)), 1)
    return IsingModel(J + J.T, rng.normal(0.0, 1.0, n))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 14),
    order=st.sampled_from(["sequential", "random"]),
)
def test_descent_never_raises_energy(seed, n, order):
    m = _model(n, seed)
    X = (np.random.default_rng(seed + 1).random((20, n)) < 0.5).astype(np.uint8)
    prev = m.energy(X)
    for sweeps in range(1, 8):
        Y, _ = descend(m, X, order=order, seed=seed, max_sweeps=sweeps, return_sweeps=True)
        e = m.energy(Y)
        assert np.all(e <= prev + 1e-12)
        prev = e
    final, used = descend(m, X, order=order, seed=seed, return_sweeps=True)
    assert np.all(used > 0)
    assert is_fixed_point(m, final).all()
    assert np.all(m.energy(final) <= m.energy(X) + 1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_strict_fixed_points_never_differ_in_one_bit(seed):
    m = _model(12, seed, scale=1.5)
    fp = m.fixed_points(method="exhaustive", strict=True)
    # brute force over all states as an independent check of the Gray-code search
    S = all_states(12)
    brute = S[is_fixed_point(m, S, strict=True)]
    assert {r.tobytes() for r in fp} == {r.tobytes() for r in brute}
    weak = m.fixed_points(method="exhaustive")
    assert {r.tobytes() for r in weak} == {r.tobytes() for r in S[is_fixed_point(m, S)]}
    if fp.shape[0] >= 2:
        assert idn.energy.minimum_distance(fp) >= 2
    assert np.all(np.diff(m.energy(fp)) >= 0)  # sorted by energy


def test_fixed_points_from_data_and_random_starts_are_found_exhaustively():
    m = _model(14, 3, scale=1.5)
    every = {r.tobytes() for r in m.fixed_points(method="exhaustive")}
    X = (np.random.default_rng(0).random((500, 14)) < 0.5).astype(np.uint8)
    from_data = m.fixed_points(X)
    from_random = m.fixed_points(method="random", n_starts=3000, seed=1)
    assert {r.tobytes() for r in from_data} <= every
    assert {r.tobytes() for r in from_random} <= every
    # the lowest-energy memory has the largest basin here: found from random starts
    assert from_random[0].tobytes() == m.fixed_points(method="exhaustive")[0].tobytes()


def test_synchronous_two_cycle_and_goles_bound():
    # two mutually inhibiting units that both want to fire: 00 <-> 11 in parallel updates
    m = IsingModel([[0.0, -1.0], [-1.0, 0.0]], [-0.5, -0.5])
    res = idn.energy.synchronous(m, [[0, 0]])
    assert res.period[0] == 2 and res.steps[0] == 0
    # asynchronous descent from the same state settles in one of the 1-unit states
    assert m.descend([[0, 0]]).tolist() == [[1, 0]]
    # symmetric J: synchronous dynamics ends in a fixed point or a 2-cycle (Goles & Olivos 1980)
    big = _model(30, 5)
    X = (np.random.default_rng(2).random((300, 30)) < 0.5).astype(np.uint8)
    r = idn.energy.synchronous(big, X, max_steps=500)
    assert set(np.unique(r.period)) <= {1, 2}
    fixed = r.period == 1
    assert is_fixed_point(big, r.states[fixed]).all()


def test_glauber_cold_limit_is_descent_and_is_seeded():
    m = _model(10, 8)
    X = (np.random.default_rng(3).random((50, 10)) < 0.5).astype(np.uint8)
    cold = idn.energy.glauber(m, X, temperature=1e-4, n_sweeps=30, seed=0)
    assert is_fixed_point(m, cold).all()
    a = idn.energy.glauber(m, X, temperature=1.0, n_sweeps=3, seed=4)
    b = idn.energy.glauber(m, X, temperature=1.0, n_sweeps=3, seed=4)
    c = idn.energy.glauber(m, X, temperature=1.0, n_sweeps=3, seed=5)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_dynamics_bad_input():
    m = _model(4, 0)
    with pytest.raises(idn.InputError):
        descend(m, [[0, 1, 2, 0]])
    with pytest.raises(idn.InputError):
        descend(m, [[0, 1, 1, 0]], order="backwards")
    with pytest.raises(idn.InputError):
        idn.energy.glauber(m, [[0, 1, 1, 0]], temperature=0)
    with pytest.raises(idn.InputError):
        m.fixed_points(method="data")
    with pytest.warns(UserWarning, match="did not reach a fixed point"):
        descend(_model(12, 1, scale=2.0), np.ones((50, 12), np.uint8), max_sweeps=1)
    with pytest.raises(idn.InputError, match="n <= 26"):
        _model(27, 0).fixed_points(method="exhaustive")


def test_descent_keeps_the_current_value_on_a_tie():
    """J = 0, theta = 0: every flip leaves E unchanged, so every state is a fixed point and
    descent (ties keep the current value) must not move any unit, 0 or 1."""
    m = IsingModel(np.zeros((4, 4)), np.zeros(4))
    X = np.array([[1, 1, 1, 1], [0, 0, 0, 0], [1, 0, 1, 0]], dtype=np.uint8)
    np.testing.assert_array_equal(m.descend(X), X)
    np.testing.assert_array_equal(m.descend(X, order="random", seed=1), X)


def test_exhaustive_strict_fixed_points_exclude_ties():
    """With exact ties (J = 0, theta_0 = 0) no state is strict for unit 0: the strict search
    finds none, the non-strict one finds every state."""
    m = IsingModel(np.zeros((3, 3)), np.array([0.0, 1.0, -1.0]))
    assert m.fixed_points(method="exhaustive", strict=True).shape == (0, 3)
    weak = m.fixed_points(method="exhaustive")
    np.testing.assert_array_equal(np.sort(weak[:, 0]), [0, 1])
    assert weak.shape == (2, 3) and np.all(weak[:, 1:] == [0, 1])


def test_synchronous_ties_keep_the_value():
    m = IsingModel(np.zeros((3, 3)), np.zeros(3))
    X = np.array([[1, 0, 1], [1, 1, 1]], dtype=np.uint8)
    r = synchronous(m, X)
    np.testing.assert_array_equal(r.states, X)
    np.testing.assert_array_equal(r.period, [1, 1])


def test_synchronous_unfinished_rows_report_their_last_state():
    m = IsingModel([[0.0, -1.0], [-1.0, 0.0]], [-0.5, -0.5])  # 00 -> 11 -> 00 ...
    r = synchronous(m, [[0, 0]], max_steps=1)
    assert r.period[0] == 0
    np.testing.assert_array_equal(r.states, [[1, 1]])


def test_glauber_runs_exactly_n_sweeps():
    """Cold sequential sweeps (J_01 = 1, theta = (0.5, -0.5)) from 00: one sweep -> 01,
    two sweeps -> 11 (unit 0 turns on once unit 1 is on)."""
    m = IsingModel([[0.0, 1.0], [1.0, 0.0]], [0.5, -0.5])
    X = np.zeros((5, 2), dtype=np.uint8)
    one = glauber(m, X, temperature=1e-3, n_sweeps=1, order="sequential", seed=0)
    two = glauber(m, X, temperature=1e-3, n_sweeps=2, order="sequential", seed=0)
    np.testing.assert_array_equal(one, np.tile([[0, 1]], (5, 1)))
    np.testing.assert_array_equal(two, np.tile([[1, 1]], (5, 1)))


def test_auto_method_is_exhaustive_up_to_n_20():
    """J = 0, 14 free units (theta = 0: every value is a tie) and 6 forced off: 2^14 fixed
    points, all found by the exhaustive search (random starts find at most 10000)."""
    theta = np.concatenate([np.zeros(14), np.full(6, 5.0)])
    m = IsingModel(np.zeros((20, 20)), theta)
    fp = fixed_points(m)
    assert fp.shape == (2**14, 20)


def test_exhaustive_refuses_more_than_max_found():
    m = IsingModel(np.zeros((6, 6)), np.zeros(6))  # all 64 states are (weak) fixed points
    with pytest.raises(InputError, match="max_found"):
        idn.energy.exhaustive_fixed_points(m, max_found=10)


def test_strict_filter_applies_to_data_and_random_starts():
    m = IsingModel(np.zeros((3, 3)), np.array([0.0, 1.0, -1.0]))  # unit 0 always a tie
    X = np.array([[0, 0, 1], [1, 0, 1]], dtype=np.uint8)
    assert not idn.energy.is_fixed_point(m, X, strict=True).any()  # u_0 = 0: not strict
    assert idn.energy.is_fixed_point(m, X).all()
    assert fixed_points(m, X, strict=True).shape == (0, 3)
    assert fixed_points(m, method="random", n_starts=50, strict=True).shape == (0, 3)
    assert fixed_points(m, X).shape == (2, 3)


def test_auto_fixed_points_are_exhaustive_up_to_26_units():
    # random starts (auto beyond 20 units) missed a strict fixed point of a 25-pixel model
    rng = np.random.default_rng(3)
    n = 22
    J = np.triu(rng.normal(0, 0.4, (n, n)), 1)
    m = IsingModel(J + J.T, rng.normal(0, 0.5, n))
    every = fixed_points(m, method="exhaustive")
    np.testing.assert_array_equal(fixed_points(m, n_starts=1), every)


def test_exhaustive_search_classes_exact_ties_as_is_fixed_point_does():
    # the Gray-code scan's incremental drive drifted by round-off (5e-10 after 2^25 flips), and
    # states with an exact tie (u_i = 0: Hebbian couplings 4k/n) were classed by the drift: a
    # stored pattern that is a fixed point was missing and the strict list held a non-strict one
    patterns = idn.energy.random_patterns(5, 25, seed=4)
    m = idn.energy.store(patterns, method="outer")
    assert is_fixed_point(m, patterns[2])[0]
    found = {x.tobytes() for x in fixed_points(m, method="exhaustive")}
    reached = descend(m, np.random.default_rng(0).integers(0, 2, (200, 25), dtype=np.uint8))
    assert {x.tobytes() for x in reached} <= found
    assert patterns[2].tobytes() in found
    strict = fixed_points(m, method="exhaustive", strict=True)
    assert is_fixed_point(m, strict, strict=True).all()


def test_exhaustive_fixed_points_of_decimal_couplings_equal_a_brute_force_check():
    # couplings in steps of 0.1 tie often; n = 20 had found 5 of 8 fixed points
    rng = np.random.default_rng(7)
    n = 20
    J = np.triu(np.round(rng.normal(0, 1, (n, n)), 1), 1)
    m = IsingModel(J + J.T, np.round(rng.normal(0, 1, n), 1))
    states = all_states(n)
    for strict in (False, True):
        every = states[is_fixed_point(m, states, strict=strict)]
        np.testing.assert_array_equal(
            fixed_points(m, method="exhaustive", strict=strict),
            every[np.lexsort((np.arange(len(every)), m.energy(every)))],
        )


def test_energies_and_synchronous_runs_go_a_block_of_rows_at_a_time(monkeypatch):
    """energy() made float64 copies of every row at once (10^5 rows of 250 bits: 470 MB) and
    synchronous() kept every row's history (0.8 GB): both run a block of rows at a time, with
    the values of one block."""
    from infodyn.energy import dynamics

    rng = np.random.default_rng(0)
    n = 12
    J = rng.standard_normal((n, n))
    model = IsingModel((J + J.T) / 2 * (1 - np.eye(n)), rng.standard_normal(n))
    X = (rng.random((101, n)) < 0.5).astype(np.uint8)
    whole, sync = model.energy(X), dynamics.synchronous(model, X, max_steps=30)
    monkeypatch.setattr(dynamics, "BLOCK_VALUES", 7 * n)  # blocks of 7 rows
    assert dynamics.block_rows(n) == 7
    np.testing.assert_allclose(model.energy(X), whole, rtol=0, atol=1e-12)
    blocks = dynamics.synchronous(model, X, max_steps=30)
    assert np.array_equal(blocks.states, sync.states)
    assert np.array_equal(blocks.period, sync.period) and np.array_equal(blocks.steps, sync.steps)
    assert model.energy(X[:0]).shape == (0,)


def test_flip_energies_and_drives_are_checked_and_fixed_points_run_in_blocks(monkeypatch):
    """(M, n) float64 results of uint8 rows, 32 bytes a bit at the peak, were made unchecked;
    ``is_fixed_point`` made every row's flip energies at once. It now runs a block of rows at a
    time, with the same answer."""
    from infodyn.energy import dynamics
    from infodyn.memory import MemoryPreflightError

    rng = np.random.default_rng(0)
    J = np.triu(rng.normal(0, 1, (20, 20)), 1)
    model = IsingModel(J + J.T, rng.normal(0, 1, 20))
    X = (rng.random((50_000, 20)) < 0.5).astype(np.uint8)  # 1 MB of rows, 32 MB at the peak
    whole = np.all(model.flip_energies(X) >= -1e-12, axis=1)
    monkeypatch.setattr(dynamics, "BLOCK_VALUES", 1000)  # blocks of 50 rows
    assert np.array_equal(model.is_fixed_point(X), whole)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "20M")
    for call in (model.flip_energies, model.drive):
        with pytest.raises(MemoryPreflightError, match="50,000 rows of 20 units"):
            call(X)
    assert model.is_fixed_point(X).shape == (50_000,)  # blocks: no refusal
