"""Peer parity: Williams-Beer PID with 3 sources and conditional total correlation (dit), local
TE/AIS and block entropy (pyinform), excess entropy (exact values), the log base option."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import dit
import numpy as np
import pyinform
import pytest
from dit.pid import PID_WB

import infodyn.information as I
from infodyn.errors import InputError


def _dit(p: np.ndarray) -> dit.Distribution:
    idx = list(itertools.product(*[range(s) for s in p.shape]))
    return dit.Distribution(["".join(map(str, i)) for i in idx], [p[i] for i in idx])


def test_three_source_wb_pid_equals_dit_on_a_random_table():
    p = np.random.default_rng(1).random((2, 2, 2, 3))
    p /= p.sum()
    ref = PID_WB(_dit(p), [[0], [1], [2]], [3])
    ours = I.pid_lattice_from_table(p)
    assert len(ours.atoms) == 18
    for node in ref._lattice:
        assert ours.atom(*node) == pytest.approx(ref.get_pi(node), abs=1e-12)
    assert sum(ours.atoms.values()) == pytest.approx(ours.mi_joint, abs=1e-12)


def test_lattice_pid_reduces_to_the_two_source_pid_and_classic_gates():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, (4000, 2))
    y = x[:, 0] & x[:, 1]
    two = I.pid(x[:, :1], x[:, 1:], y[:, None])
    lat = I.pid_lattice([x[:, :1], x[:, 1:]], y[:, None])
    assert lat.atom((0,), (1,)) == pytest.approx(two.redundancy, abs=1e-12)
    assert lat.atom((0,)) == pytest.approx(two.unique1, abs=1e-12)
    assert lat.atom((0, 1)) == pytest.approx(two.synergy, abs=1e-12)
    # three-way XOR: all information is synergy of the three sources (1 bit)
    x3 = np.array(list(itertools.product([0, 1], repeat=3)))
    lat3 = I.pid_lattice([x3[:, [0]], x3[:, [1]], x3[:, [2]]], (x3.sum(1) % 2)[:, None])
    assert lat3.atom((0, 1, 2)) == pytest.approx(1.0)
    assert sum(abs(v) for v in lat3.atoms.values()) == pytest.approx(1.0)
    with pytest.raises(InputError):
        I.pid_lattice([x[:, :1]], y[:, None])


def test_conditional_total_correlation_equals_dit():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 2, (3000, 3))
    Z = (X.sum(1) + rng.integers(0, 2, 3000))[:, None]
    c = Counter("".join(map(str, r)) for r in np.hstack([X, Z]))
    d = dit.Distribution(list(c), [v / 3000 for v in c.values()])
    ref = dit.multivariate.total_correlation(d, [[0], [1], [2]], [3])
    assert I.conditional_total_correlation(X, Z) == pytest.approx(ref, abs=1e-12)
    assert I.conditional_total_correlation(X, Z, base=math.e) == pytest.approx(
        ref * math.log(2), abs=1e-12
    )
    # one variable has no total correlation: it returned 0 where total_correlation raises
    with pytest.raises(InputError, match="at least 2 variables"):
        I.conditional_total_correlation(X[:, :1], Z)
    with pytest.raises(InputError, match="at least 2 variables"):
        I.total_correlation(X[:, :1])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_local_te_ais_and_block_entropy_equal_pyinform(k):
    rng = np.random.default_rng(4)
    x = rng.integers(0, 2, (3, 300))
    copy = np.roll(x, 1, axis=1)
    y = np.where(rng.random((3, 300)) < 0.8, copy, rng.integers(0, 2, (3, 300)))
    te = I.local_transfer_entropy(x[..., None], y[..., None], k=k)
    np.testing.assert_allclose(te, pyinform.transfer_entropy(x, y, k=k, local=True), atol=1e-12)
    assert te.mean() == pytest.approx(I.transfer_entropy(x[..., None], y[..., None], k=k))
    ais = I.local_active_information_storage(y[..., None], k=k)
    np.testing.assert_allclose(ais, pyinform.active_info(y, k=k, local=True), atol=1e-12)
    assert I.block_entropy(y[..., None], k) == pytest.approx(pyinform.block_entropy(y, k))
    assert I.block_entropy(y[..., None], k, base=4) == pytest.approx(
        pyinform.block_entropy(y, k) / 2
    )


def test_excess_entropy_exact_values():
    # lengths chosen so that every phase starts the same number of blocks (exact plug-in values)
    period2 = np.tile([0, 1], 200)[:-1]  # 396 blocks of 4
    period3 = np.tile([0, 0, 1], 200)[:-2]  # 594 blocks of 5
    assert I.excess_entropy(period2, 1) == pytest.approx(0.0)  # E(1) = H(1) - H(1)
    assert I.excess_entropy(period2, 4) == pytest.approx(1.0, abs=1e-12)  # log2 of the period
    assert I.excess_entropy(period3, 5) == pytest.approx(math.log2(3), abs=1e-12)
    # binary Markov chain: E = I(X_t; X_{t+1}) for every k >= 2 (order 1)
    rng = np.random.default_rng(5)
    stay = 0.9
    x = np.empty(200_000, dtype=np.int64)
    x[0] = 0
    flips = rng.random(x.size) > stay
    x[1:] = np.cumsum(flips[1:]) % 2
    h = -(stay * math.log2(stay) + (1 - stay) * math.log2(1 - stay))
    for k in (2, 4):
        assert I.excess_entropy(x, k) == pytest.approx(1.0 - h, abs=0.01)
    with pytest.raises(InputError):
        I.block_entropy(x, 2, base=1)


def test_conditional_total_correlation_with_nsb_is_its_entropy_identity():
    # Z was replaced by one column of word labels, so NSB's alphabet for Z was the largest label
    # + 1 (3 here) rather than Z's own (4): the result broke TC(X|Z) = sum H(X_i,Z) - H(Z) - H(X,Z)
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2, (40, 2))
    z = rng.integers(0, 2, (40, 2))
    z[z[:, 0] == 1, 1] = 0
    H = lambda v: float(I.entropy(v, "nsb"))  # noqa: E731
    ref = H(np.c_[x[:, 0], z]) + H(np.c_[x[:, 1], z]) - H(z) - H(np.c_[x, z])
    assert I.conditional_total_correlation(x, z, "nsb") == pytest.approx(ref, abs=1e-12)


def test_lattice_table_checks():
    p = np.full((2, 2), 0.25)  # one source axis plus Y
    with pytest.raises(InputError, match="2 to 4 source axes"):
        I.pid_lattice_from_table(p)
    with pytest.raises(InputError, match="non-negative probabilities summing to 1"):
        I.pid_lattice_from_table(np.full((2, 2, 2), 0.25))  # sums to 2


def test_pid_lattice_of_one_sample_warns_as_pid_does():
    """One sample returned every atom 0 without a word (pid warned)."""
    from infodyn.information import UndersampledWarning, pid_lattice

    with pytest.warns(UndersampledWarning, match="only 1 sample"):
        pid_lattice([[1], [0]], [0])
