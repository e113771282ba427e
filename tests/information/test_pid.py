"""PID: classic gates, Williams-Beer against dit, BROJA against an independent grid search."""

import itertools

import dit
import numpy as np
import pytest
from dit.pid import PID_BROJA, PID_WB
from scipy.optimize import minimize

import infodyn.information as I
from infodyn.errors import InputError
from infodyn.information import pid, pid_from_table

BITS2 = np.array(list(itertools.product([0, 1], repeat=2)))
X1, X2 = BITS2[:, 0], BITS2[:, 1]
GATES = {
    # name: (Y, WB (R, U1, U2, S), BROJA (R, U1, U2, S))
    "xor": (X1 ^ X2, (0, 0, 0, 1), (0, 0, 0, 1)),
    "and": (X1 & X2, (0.311278, 0, 0, 0.5), (0.311278, 0, 0, 0.5)),
    "copy": (2 * X1 + X2, (1, 0, 0, 1), (0, 1, 1, 0)),
    "unq": (X1, (0, 1, 0, 0), (0, 1, 0, 0)),
}


@pytest.mark.parametrize("name", GATES)
@pytest.mark.parametrize("measure", ["wb", "broja"])
def test_classic_gates(name, measure):
    y, wb, broja = GATES[name]
    res = pid(X1, X2, y, measure=measure)
    np.testing.assert_allclose(list(res), wb if measure == "wb" else broja, atol=1e-5)
    assert res.redundancy + res.unique1 + res.unique2 + res.synergy == pytest.approx(res.mi_joint)
    assert res.redundancy + res.unique1 == pytest.approx(res.mi1)


def _table(seed, shape=(2, 2, 2)):
    p = np.random.default_rng(seed).dirichlet(np.full(int(np.prod(shape)), 0.7)).reshape(shape)
    return p


def _dit(p):
    outs = [tuple(i) for i in itertools.product(*[range(s) for s in p.shape])]
    return dit.Distribution(outs, p.ravel())


def _atoms(res):
    return [res.get_pi(k) for k in (((0,), (1,)), ((0,),), ((1,),), ((0, 1),))]


@pytest.mark.parametrize("seed,shape", [(0, (2, 2, 2)), (1, (3, 2, 2)), (2, (2, 3, 3))])
def test_williams_beer_matches_dit(seed, shape):
    p = _table(seed, shape)
    ref = _atoms(PID_WB(_dit(p), [[0], [1]], [2]))
    np.testing.assert_allclose(list(pid_from_table(p, "wb")), ref, atol=1e-9)


def _broja_grid(p):
    """min I_Q(Y; X1X2) for binary tables: one free parameter q(0,0,y) per y, grid + polish."""
    pa, pb, py = p.sum(1), p.sum(0), p.sum((0, 1))
    lo = np.maximum(0, pa[0] + pb[0] - py)
    hi = np.minimum(pa[0], pb[0])

    def i_q(t0, t1):
        """I_Q for arrays of parameters t0 (y = 0) and t1 (y = 1), broadcast together."""
        t0, t1 = np.broadcast_arrays(np.asarray(t0, float), np.asarray(t1, float))
        q = np.empty(t0.shape + (2, 2, 2))
        for y, t in ((0, t0), (1, t1)):
            q[..., 0, 0, y], q[..., 0, 1, y], q[..., 1, 0, y] = t, pa[0, y] - t, pb[0, y] - t
            q[..., 1, 1, y] = py[y] - pa[0, y] - pb[0, y] + t
        q = np.clip(q, 0, None)
        qab = q.sum(-1, keepdims=True)
        with np.errstate(all="ignore"):
            terms = np.where(q > 0, q * np.log2(q / (qab * py)), 0.0)
        return terms.sum((-1, -2, -3))

    g0 = np.linspace(lo[0], hi[0], 401)[:, None]
    g1 = np.linspace(lo[1], hi[1], 401)[None, :]
    vals = i_q(g0, g1)
    i, j = np.unravel_index(np.argmin(vals), vals.shape)
    res = minimize(
        lambda t: float(i_q(*np.clip(t, lo, hi))),
        [g0[i, 0], g1[0, j]],
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-15},
    )
    return min(res.fun, vals[i, j])


@pytest.mark.parametrize("seed", range(3))
def test_broja_matches_independent_grid_search(seed):
    p = _table(10 + seed)
    res = pid_from_table(p, "broja")
    assert res.unique1 + res.mi2 == pytest.approx(_broja_grid(p), abs=1e-6)
    for v in res:
        assert v >= -1e-9


def test_broja_at_least_as_good_as_dit():
    p = _table(3, (3, 2, 2))
    ours = pid_from_table(p, "broja")
    # dit's admUI solver (Banerjee et al. 2018), deterministic: its default ("auto" -> scipy
    # with random restarts) stops at a different point on every call, up to 0.02 bits from the
    # optimum (that failed this test's atol once in CI)
    ref = _atoms(PID_BROJA(_dit(p), [[0], [1]], [2], method="admui"))
    # BROJA minimises U1 + I(Y;X2) = I_Q(Y;X1X2): ours must not be worse than dit's optimiser
    # (margin 1e-5: SLSQP's stopping point near the simplex boundary may lie ~3e-6 above it)
    assert ours.unique1 <= ref[1] + 1e-5
    np.testing.assert_allclose(list(ours), ref, atol=0.02)


def test_pid_from_samples_equals_table():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 2, (4000, 2))
    y = (x[:, 0] | x[:, 1]) ^ (rng.random(4000) < 0.1)
    p = np.zeros((2, 2, 2))
    np.add.at(p, (x[:, 0], x[:, 1], y), 1)
    a = pid(x[:, 0], x[:, 1], y, "wb")
    b = pid_from_table(p / p.sum(), "wb")
    np.testing.assert_allclose(list(a), list(b), atol=1e-12)


def test_pid_table_must_be_a_probability_table():
    p = np.full((2, 2, 2), 0.125)
    neg = p.copy()
    neg[0, 0, 0], neg[0, 0, 1] = -0.1, 0.35  # still sums to 1
    with pytest.raises(InputError, match="non-negative probabilities summing to 1"):
        I.pid_from_table(neg)
    with pytest.raises(InputError, match="non-negative probabilities summing to 1"):
        I.pid_from_table(p * (1 + 1e-6))


def test_pid_with_large_symbol_values_equals_pid_of_relabelled_symbols():
    """Symbols up to 3000 give radix products above 5e6: the relabelling path must give the
    PID of the same data with small labels."""
    rng = np.random.default_rng(15)
    a = rng.integers(0, 2, 400)
    b = rng.integers(0, 4, 400)
    y = (a + b) % 3
    big_a, big_b = np.array([0, 3000])[a], np.array([0, 7, 11, 2999])[b]
    for measure in ("wb", "broja"):
        small = I.pid(a, b, y, measure)
        big = I.pid(big_a, big_b, y, measure)
        np.testing.assert_allclose(list(big), list(small), atol=1e-9)
        assert big.mi_joint == pytest.approx(small.mi_joint, abs=1e-12)


def test_broja_beyond_the_dense_solver_is_refused_before_it_runs():
    # 16 x 16 x 4 (1024 cells) had not finished after 200 s; it was taken without a word
    rng = np.random.default_rng(0)
    x1, x2 = rng.integers(0, 16, 4000), rng.integers(0, 16, 4000)
    y = (x1 + x2) % 4
    with pytest.raises(InputError, match=r"BROJA PID over \d+ free cells.*measure='wb'"):
        pid(x1, x2, y, "broja")
    assert pid(x1, x2, y, "wb") is not None


# counts of 66 samples (x1, x2, y): SLSQP stopped here 0.0169 bit above the minimum, at
# another point with the sources swapped, while reporting success
STALLED = np.array(
    [
        [[3, 1, 0], [2, 8, 0], [7, 11, 0]],
        [[3, 4, 0], [0, 5, 0], [1, 0, 6]],
        [[3, 3, 0], [4, 0, 2], [0, 0, 3]],
    ],
    float,
)


def test_broja_reaches_the_minimum_where_slsqp_stalled():
    """The atoms of an exponential-cone solver (CVXPY with Clarabel on the same convex
    programme: min I_Q = 0.265708 bit), in either order of the sources."""
    p = STALLED / STALLED.sum()
    ref = [0.101934, 0.125848, 0.037926, 0.438360]
    np.testing.assert_allclose(list(pid_from_table(p, "broja")), ref, atol=2e-6)
    swapped = list(pid_from_table(p.transpose(1, 0, 2), "broja"))
    np.testing.assert_allclose(swapped, [ref[0], ref[2], ref[1], ref[3]], atol=2e-6)


def test_the_alternation_brackets_the_broja_minimum():
    """upper (I_Q of a Q in Delta_P) and lower (convexity of g) enclose the minimum: within
    1e-7 nats after the alternations allowed, from P's own (x1, x2) marginal."""
    from infodyn.information.broja_polish import broja_alternating

    p = STALLED / STALLED.sum()
    upper, lower = broja_alternating(p, p.sum(2))
    assert lower <= upper <= lower + 1e-7
    assert lower / np.log(2) <= 0.265708 + 1e-6 and upper / np.log(2) >= 0.265708 - 1e-6
    # and the upper bound is an I_Q: never below an independent minimum (the grid search)
    q = _table(10)
    up, lo = broja_alternating(q, q.sum(2))
    assert up / np.log(2) >= _broja_grid(q) - 1e-9 and lo <= up


@pytest.mark.parametrize("bracket", ["wide", "none"])
def test_an_unbracketed_broja_minimum_is_warned_about(bracket, monkeypatch):
    """A bracket wider than 1e-5 bit, or none (Sinkhorn never reached a feasible Q), is said,
    with the direction of each atom's possible error (an I_Q too large makes the unique atoms
    too large and the redundancy and the synergy too small)."""
    import sys

    pid_module = sys.modules["infodyn.information.pid"]  # (the package's pid is the function)

    def alternating(p, r0):
        upper = 0.1  # nats, below SLSQP's answer there
        return upper, upper - 1e-3 if bracket == "wide" else -np.inf

    monkeypatch.setattr(pid_module, "broja_alternating", alternating)
    what = "bracketed only to within 0.0014 bit" if bracket == "wide" else "could not be bracketed"
    with pytest.warns(pid_module.PIDAccuracyWarning, match=f"{what}.*unique atoms may be"):
        pid_from_table(STALLED / STALLED.sum(), "broja")
