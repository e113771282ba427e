"""K-pairwise model: energy, gauge, kernels with the potential, log Z, and planted recovery."""

import numpy as np
import pytest
from scipy.special import logsumexp

from infodyn.energy import (
    IsingModel,
    KPairwiseModel,
    all_states,
    exhaustive_fixed_points,
    fit,
    heat_capacity,
    heldout_report,
)
from infodyn.energy.kpairwise import count_energy
from infodyn.energy.sampling import count_distribution
from infodyn.errors import InputError


def _planted(n, seed=0):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0, 0.4, (n, n)) * (rng.random((n, n)) < 0.5), 1)
    K = np.arange(n + 1)
    V = 0.6 * np.sin(K / 1.5) + 0.02 * K**2
    return KPairwiseModel(J + J.T, rng.normal(1.2, 0.4, n), V).canonical()


def _exact_samples(model, M, seed):
    p = model.probabilities()
    idx = np.random.default_rng(seed).choice(p.size, size=M, p=p)
    return all_states(model.n)[idx]


def test_energy_gauge_and_flip_energies():
    m = KPairwiseModel(np.zeros((6, 6)), np.zeros(6), np.arange(7.0) ** 1.5)
    S = all_states(6)
    np.testing.assert_allclose(m.energy(S), np.arange(7.0)[S.sum(1)] ** 1.5)
    c = m.canonical()
    np.testing.assert_allclose(c.V[:3], 0)
    np.testing.assert_allclose(c.probabilities(), m.probabilities(), rtol=1e-12)
    np.testing.assert_allclose(c.energy(S) - m.energy(S), -m.V[0], atol=1e-12)
    pm = _planted(6)
    u = pm.flip_energies(S)
    for i in range(6):
        F = S.copy()
        F[:, i] ^= 1
        np.testing.assert_allclose(u[:, i], pm.energy(F) - pm.energy(S), atol=1e-12)
    with pytest.raises(InputError):
        KPairwiseModel(np.zeros((3, 3)), np.zeros(3), np.zeros(3))


def test_zero_potential_is_the_pairwise_model():
    rng = np.random.default_rng(1)
    J = np.triu(rng.normal(0, 0.5, (8, 8)), 1)
    a = IsingModel(J + J.T, rng.normal(0.5, 0.5, 8))
    b = KPairwiseModel.from_pairwise(a)
    np.testing.assert_array_equal(a.sample(200, seed=2), b.sample(200, seed=2))
    X = (rng.random((50, 8)) < 0.5).astype(np.uint8)
    np.testing.assert_array_equal(a.descend(X), b.descend(X))
    assert a.log_partition("exact") == b.log_partition("exact")


def test_log_partition_sampling_memories_and_thermo():
    m = _planted(12, 2)
    S = all_states(12)
    assert m.log_partition("exact") == pytest.approx(logsumexp(-m.energy(S)), abs=1e-10)
    ais = m.log_partition("ais", n_chains=300, n_betas=1000, seed=0)
    assert abs(ais - m.log_partition("exact")) < 0.05
    p = m.probabilities()
    pk = np.bincount(S.sum(1).astype(int), weights=p, minlength=13)
    X = m.sample(20000, seed=0)
    assert 0.5 * np.abs(count_distribution(X) - pk).sum() < 0.02
    # exhaustive fixed points against the definition (no single flip lowers E)
    fp = exhaustive_fixed_points(m)
    ok = np.all(m.flip_energies(S) >= -1e-12, axis=1)
    assert {r.tobytes() for r in fp} == {r.tobytes() for r in S[ok]}
    ends = m.descend(X[:200])
    assert np.all(m.is_fixed_point(ends))
    e = m.energy(S)
    hc = heat_capacity(m, [1.0], method="exact")
    assert hc.c[0] == pytest.approx((p @ e**2 - (p @ e) ** 2) / 12, rel=1e-9)
    r = heldout_report(m, X[:10000], X[10000:])
    assert r["model_test_bits"] == pytest.approx(
        np.mean(m.log_likelihood(X[10000:], reduce="none")) / np.log(2)
    )


def test_save_load_roundtrip(tmp_path):
    m = _planted(6, 3)
    m.save(tmp_path / "k.npz")
    back = IsingModel.load(tmp_path / "k.npz")
    assert isinstance(back, KPairwiseModel)
    np.testing.assert_array_equal(back.V, m.V)


@pytest.mark.parametrize("method", ["ml", "mpf", "pl"])
def test_planted_recovery(method):
    n = 10
    m = _planted(n, 0)
    X = _exact_samples(m, 40000, 1)
    f = fit(X, method=method, model="k_pairwise")
    assert isinstance(f, KPairwiseModel) and f.fit_info["model"] == "k_pairwise"
    assert f.n_params == n * (n + 1) // 2 + n - 2 == f.fit_info["n_params"]
    iu = np.triu_indices(n, 1)
    seen = count_distribution(X) > 2e-3
    a, b = f.centred(), m.centred()  # the gauge the data pin down (KPairwiseModel.centred)
    np.testing.assert_allclose(a.probabilities(), f.probabilities(), rtol=1e-9)
    assert np.sqrt(np.mean((a.J[iu] - b.J[iu]) ** 2)) < 0.04
    assert np.sqrt(np.mean((a.theta - b.theta) ** 2)) < 0.04
    assert np.max(np.abs(a.V[seen] - b.V[seen])) < 0.1
    # the pairwise model misses P(K); the K-pairwise model does not
    pw = fit(X, method=method)
    p_true = np.bincount(
        all_states(n).sum(1).astype(int), weights=m.probabilities(), minlength=n + 1
    )

    def tv(model):
        q = np.bincount(
            all_states(n).sum(1).astype(int), weights=model.probabilities(), minlength=n + 1
        )
        return 0.5 * np.abs(q - p_true).sum()

    assert tv(f) < 0.01 < tv(pw)


@pytest.mark.parametrize("method", ["mpf", "pl"])
def test_free_and_canonical_coordinates_reach_the_same_optimum(method):
    n = 11
    m = _planted(n, 4)
    X = _exact_samples(m, 20000, 5)
    kw = dict(method=method, model="k_pairwise", tol=0.0, gtol=1e-11, maxiter=20000)
    a = fit(X, coordinates="free", **kw)
    b = fit(X, coordinates="canonical", **kw)
    assert a.fit_info["coordinates"] == "free" and b.fit_info["coordinates"] == "canonical"
    assert a.fit_info["objective"] == pytest.approx(b.fit_info["objective"], rel=1e-10)
    np.testing.assert_allclose(a.J, b.J, atol=1e-5)
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-5)
    np.testing.assert_allclose(a.V, b.V, atol=1e-4)
    assert a.fit_info["n_iterations"] < b.fit_info["n_iterations"]


def _kp(n=5, seed=0):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0, 0.5, (n, n)), 1)
    return KPairwiseModel(J + J.T, rng.normal(0.3, 0.5, n), rng.normal(0, 0.5, n + 1))


def test_potential_must_have_exactly_n_plus_1_finite_values():
    J, theta = np.zeros((3, 3)), np.zeros(3)
    with pytest.raises(InputError, match="n \\+ 1 = 4"):
        KPairwiseModel(J, theta, np.zeros(5))  # one value too many
    with pytest.raises(InputError, match="NaN or inf"):
        KPairwiseModel(J, theta, [0.0, 1.0, np.nan, 0.0])
    with pytest.raises(InputError, match="NaN or inf"):
        KPairwiseModel(J, theta, [0.0, np.inf, 0.0, 0.0])


def test_count_energy_is_the_potential_at_the_count():
    m = KPairwiseModel(np.zeros((3, 3)), np.zeros(3), [0.5, -1.0, 2.0, 7.0])
    X = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1], [0, 0, 1]], dtype=np.uint8)
    np.testing.assert_array_equal(count_energy(m, X), [0.5, -1.0, 2.0, 7.0, -1.0])
    np.testing.assert_array_equal(count_energy(IsingModel(m.J, m.theta), X), np.zeros(5))


def test_from_pairwise_keeps_the_given_potential():
    base = IsingModel(np.zeros((3, 3)), np.zeros(3))
    V = [0.0, 0.5, -0.5, 2.0]
    m = KPairwiseModel.from_pairwise(base, V)
    np.testing.assert_array_equal(m.V, V)
    S = all_states(3)
    np.testing.assert_allclose(m.energy(S), np.asarray(V)[S.sum(1)])
