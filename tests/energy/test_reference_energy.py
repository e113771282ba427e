"""Energy-model functions against references computed in the test from energies alone.

- ``glauber`` at temperature T samples the Boltzmann law ``p(x) ~ exp(-E(x)/T)`` (Glauber 1963):
  the histogram of many chains after a burn-in is compared with the law enumerated over all 2^n
  states.
- The pseudo-likelihood and maximum-likelihood objectives of ``fit`` equal
  ``(1/M) sum_x sum_i log(1 + exp(-(E(x^(i)) - E(x))))`` (Besag 1975) and
  ``<E>_data + log Z`` with ``log Z`` by enumeration.
- ``hamming_distances`` equals SciPy's normalised Hamming distance times n.
- ``outer_product_rule``'s energy is the Hopfield (1982) energy
  ``-(1/2n) sum_mu (s . s^mu)^2`` up to a constant.
- ``heldout_report``'s independent model is the product of Bernoulli marginals with the
  (count + 1/2) / (M + 1) estimate; its model likelihood is ``-E(x) - log Z`` by enumeration.
"""

import jax
import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.special import logsumexp

import infodyn.energy as E
from infodyn.energy.objectives import make_objective, pack, prepare_data

LOG2E = 1.0 / np.log(2.0)


def _model(n: int = 7, seed: int = 0) -> E.IsingModel:
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0.0, 0.6, (n, n)), 1)
    return E.IsingModel(J + J.T, rng.normal(0.2, 0.6, n))


def _codes(X: np.ndarray) -> np.ndarray:
    return X.astype(np.int64) @ (1 << np.arange(X.shape[1]))


@pytest.mark.parametrize("temperature", [0.7, 1.5])
def test_glauber_samples_the_boltzmann_law_at_its_temperature(temperature):
    m = _model()
    states = E.all_states(m.n)
    q = np.exp(-m.energy(states) / temperature)
    q /= q.sum()
    start = (np.random.default_rng(1).random((20_000, m.n)) < 0.5).astype(np.uint8)
    end = E.glauber(m, start, temperature=temperature, n_sweeps=40, seed=2)
    h = np.bincount(_codes(end), minlength=2**m.n)[_codes(states)] / end.shape[0]
    tv = 0.5 * np.abs(h - q).sum()
    # sampling noise alone: E|h - q| ~ sqrt(2 q (1 - q) / (pi M)) per state (about 0.03 here)
    noise = 0.5 * np.sum(np.sqrt(2.0 * q * (1 - q) / (np.pi * end.shape[0])))
    assert tv < 1.6 * noise, (tv, noise)
    # the law at another temperature is far: the test can tell temperatures apart
    q_other = np.exp(-m.energy(states) / (2.0 * temperature))
    assert 0.5 * np.abs(h - q_other / q_other.sum()).sum() > 4 * noise


@pytest.mark.parametrize("method", ["pl", "ml"])
def test_pl_and_ml_objectives_from_energies_alone(method):
    m = _model()
    X = (np.random.default_rng(3).random((60, m.n)) < 0.4).astype(np.uint8)
    e = m.energy(X)
    if method == "pl":  # -log p(x_i | x_-i) = log(1 + exp(-(E(x with i flipped) - E(x))))
        ref = 0.0
        for i in range(m.n):
            flipped = X.copy()
            flipped[:, i] ^= 1
            ref += np.mean(np.logaddexp(0.0, -(m.energy(flipped) - e)))
    else:
        ref = e.mean() + logsumexp(-m.energy(E.all_states(m.n)))
    with jax.enable_x64(True):
        _, value = make_objective(method, m.n, False)
        data = prepare_data(method, X, np.ones(X.shape[0]), np.float64)
        got = float(value(pack(m.J, m.theta), data))
    assert got == pytest.approx(ref, rel=1e-12)


def test_hamming_distances_match_scipy():
    rng = np.random.default_rng(4)
    A = (rng.random((30, 20)) < 0.4).astype(np.uint8)
    B = (rng.random((25, 20)) < 0.6).astype(np.uint8)
    ref = np.rint(cdist(A, B, "hamming") * 20).astype(np.int64)
    np.testing.assert_array_equal(E.hamming_distances(A, B), ref)
    np.testing.assert_array_equal(E.hamming_distances(A), np.rint(cdist(A, A, "hamming") * 20))


def test_outer_product_energy_is_the_hopfield_energy():
    P = E.random_patterns(5, 12, seed=2)
    spins = 2.0 * P - 1.0
    states = E.all_states(12)
    s = 2.0 * states - 1.0
    hopfield = -0.5 * ((s @ spins.T) ** 2).sum(1) / 12
    diff = E.outer_product_rule(P).energy(states) - hopfield
    assert np.ptp(diff) < 1e-12  # equal up to the constant the zero diagonal removes


def test_heldout_report_against_closed_forms():
    m = _model()
    train, test = m.sample(3000, seed=3), m.sample(2000, seed=4)
    r = E.heldout_report(m, train, test)
    p1 = (train.sum(0) + 0.5) / (train.shape[0] + 1.0)
    independent = np.mean((test * np.log2(p1) + (1 - test) * np.log2(1 - p1)).sum(1))
    assert r["independent_test_bits"] == pytest.approx(independent, rel=1e-12)
    log_z = logsumexp(-m.energy(E.all_states(m.n)))
    model_bits = np.mean(-m.energy(test) - log_z) * LOG2E
    assert r["model_test_bits"] == pytest.approx(model_bits, rel=1e-12)
    assert r["expected_gap_nats"] == pytest.approx(m.n * (m.n + 1) / 2 / 3000)


def test_denoising_curve_rows_are_recovery_with_the_same_seeds():
    """A wiring check, not a reference: row j of the curve is ``recovery`` at seed + j, every
    field (k = 3 recovers 0.833 of the patterns at seed 8, 0.917 at seed 7)."""
    P = E.random_patterns(3, 16, seed=5)
    m = E.outer_product_rule(P)
    rows = E.denoising_curve(m, P, [1, 3], n_trials=4, seed=7)
    for j, (k, row) in enumerate(zip([1, 3], rows, strict=True)):
        ref = E.recovery(m, P, k, n_trials=4, seed=7 + j)
        assert row == {key: v for key, v in ref.items() if key != "per_pattern"}
        assert row["k"] == k and row["bits_wrong_before"] == k


def test_one_pattern_is_always_stored_by_the_outer_product_rule():
    """With K = 1 the Hebb weights make the pattern (and its complement) a strict minimum."""
    rows = E.capacity_curve(20, [1, 2], method="outer", seed=0)
    assert rows[0]["fraction_stored"] == 1.0
