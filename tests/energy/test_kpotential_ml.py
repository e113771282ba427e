"""Maximum-likelihood refinement of V(K): exact optimum against a float64 autodiff optimisation
of the enumerated log-likelihood, the Monte Carlo path against the exact one and a known V."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import logsumexp

import infodyn as idn
from infodyn.energy import (
    KPairwiseModel,
    all_states,
    refine_potential,
)
from infodyn.energy.kpotential_ml import count_log_weights
from infodyn.errors import InputError

E = idn.energy


def _model(n: int, seed: int, V=None, field: float = 1.0) -> E.KPairwiseModel:
    rng = np.random.default_rng(seed)
    J = rng.normal(0, 0.3, (n, n))
    J = (J + J.T) / 2
    np.fill_diagonal(J, 0)
    theta = rng.normal(field, 0.3, n)
    return E.KPairwiseModel(J, theta, np.zeros(n + 1) if V is None else V)


def _exact_pk(model) -> np.ndarray:
    """P_model(K) by brute-force enumeration of the model's energies."""
    S = E.all_states(model.n)
    le = -model.energy(S)
    p = np.exp(le - logsumexp(le))
    return np.bincount(S.sum(1).astype(int), weights=p, minlength=model.n + 1)


def _pk(X, n):
    return np.bincount(X.sum(1).astype(int), minlength=n + 1) / X.shape[0]


def test_count_log_weights_match_enumeration():
    m = _model(9, 1)
    S = E.all_states(9)
    e = -E.IsingModel(m.J, m.theta).energy(S)
    k = S.sum(1).astype(int)
    ref = np.array([logsumexp(e[k == K]) for K in range(10)])
    np.testing.assert_allclose(count_log_weights(m.J, m.theta), ref, rtol=1e-12)


def test_exact_refinement_matches_data_counts():
    n = 10
    K = np.arange(n + 1)
    true = _model(n, 2, 0.1 * (K - 3) ** 2 * np.sin(K), field=0.0)
    X = true.sample(30000, seed=0, burn_in=300)
    pk = _pk(X, n)
    assert np.all(pk > 0)
    start = _model(n, 2, field=0.0)
    assert 0.5 * np.abs(_exact_pk(start) - pk).sum() > 0.05
    out = E.refine_potential(start, X, method="exact", l2_potential=0.0, tol=1e-9)
    np.testing.assert_allclose(_exact_pk(out), pk, atol=1e-8)
    # same distribution over words apart from V: canonical gauge, J and theta shifted uniformly
    assert np.allclose(out.V[:3], 0)
    off = out.J - start.J
    assert np.allclose(off[~np.eye(n, dtype=bool)], off[0, 1])
    assert out.fit_info["refine_potential"]["converged"]


def test_exact_refinement_is_the_penalised_ml_optimum():
    """Against a float64 autodiff L-BFGS optimisation of the enumerated penalised log-likelihood
    over V, on data that miss the highest counts (the penalty holds V there)."""
    n, lv = 10, 1e-2
    m = _model(n, 3)
    X = m.sample(5000, seed=1, burn_in=300)
    X = X[X.sum(1) <= 6]
    S = E.all_states(n)
    e_pair = jnp.asarray(E.IsingModel(m.J, m.theta).energy(S))
    kS = jnp.asarray(S.sum(1).astype(int))
    e_data = jnp.asarray(E.IsingModel(m.J, m.theta).energy(X)).mean()
    pk = jnp.asarray(_pk(X, n))

    def nll(V):
        d = jnp.diff(V, 2)
        # the curvature penalty about the mean curvature
        return (
            e_data
            + pk @ V
            + jax.nn.logsumexp(-(e_pair + V[kS]))
            + lv * jnp.sum((d - d.mean()) ** 2)
        )

    with jax.enable_x64(True):
        vg = jax.jit(jax.value_and_grad(nll))
        res = minimize(
            lambda v: tuple(np.asarray(a, dtype=np.float64) for a in vg(jnp.asarray(v))),
            np.zeros(n + 1),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-11, "maxcor": 50},
        )
        f_ref = float(res.fun)
        out = E.refine_potential(m, X, method="exact", l2_potential=lv, tol=0.0, iterations=3)
        # the refined V read back in the gauge of the fixed J, theta (canonical() moved a K and
        # b K(K-1)/2 into theta + a and J - b)
        K = np.arange(n + 1)
        a, b = out.theta[0] - m.theta[0], m.J[0, 1] - out.J[0, 1]
        V_back = out.V + a * K + b * K * (K - 1) / 2
        f_out = float(nll(jnp.asarray(V_back)))
    np.testing.assert_allclose(out.theta - m.theta, a, atol=1e-12)
    ref = E.KPairwiseModel(m.J, m.theta, res.x)
    np.testing.assert_allclose(_exact_pk(out), _exact_pk(ref), atol=1e-5)
    np.testing.assert_allclose(V_back - V_back[0], res.x - res.x[0], atol=1e-3)
    assert f_out <= f_ref + 1e-10


def test_mc_refinement_agrees_with_exact():
    n = 14
    K = np.arange(n + 1)
    true = _model(n, 4, 0.08 * (K - 5) ** 2 * np.cos(K))
    X = true.sample(20000, seed=2, burn_in=300)
    start = _model(n, 4)
    ex = E.refine_potential(start, X, method="exact", tol=0.0, iterations=2)
    mc = E.refine_potential(start, X, method="mc", tol=0.005, iterations=8, n_samples=40000)
    pk = _pk(X, n)
    assert 0.5 * np.abs(_exact_pk(mc) - pk).sum() < 0.015
    busy = pk > 0.01
    dv = mc.centred().V - ex.centred().V
    assert np.ptp(dv[busy]) < 0.15
    assert mc.fit_info["refine_potential"]["tv"][0] > 0.05


def test_mc_refinement_recovers_known_potential_n32():
    """n = 32: data from the true model's long chains; the ML V given the true J and theta is the
    true V up to sampling noise at the well-visited counts."""
    n = 32
    rng = np.random.default_rng(5)
    J = rng.normal(0, 0.1, (n, n))
    J = (J + J.T) / 2
    np.fill_diagonal(J, 0)
    theta = rng.normal(2.0, 0.3, n)
    K = np.arange(n + 1)
    Vt = 0.6 * np.sin(K / 2.0)
    true = E.KPairwiseModel(J, theta, Vt)
    X = true.sample(40000, seed=3, burn_in=1000, thin=4)
    start = E.KPairwiseModel(J, theta, np.zeros(n + 1))
    out = E.refine_potential(start, X, method="mc", tol=0.01, iterations=10, n_samples=40000)
    info = out.fit_info["refine_potential"]
    assert info["tv"][0] > 0.1 and info["tv"][-1] < 0.02
    pk = _pk(X, n)
    busy = pk > 0.02
    dv = out.centred().V - true.centred().V
    assert busy.sum() >= 5 and np.ptp(dv[busy]) < 0.2


def test_mc_refinement_removes_a_second_mode():
    """A deep well of V at high counts the data never visit: chains from data words alone miss
    it, the random starts find it, and refinement drives its mass out (checked exactly)."""
    n = 16
    K = np.arange(n + 1)
    base = _model(n, 6, field=1.5)
    X = base.sample(20000, seed=4, burn_in=300)
    assert X.sum(1).max() <= 12
    start = E.KPairwiseModel(base.J, base.theta, np.where(K >= 13, -25.0, 0.0))
    assert _exact_pk(start)[13:].sum() > 0.5
    # chains started at data words alone stay in the data's mode
    only_data = start.sample(5000, seed=0, chains=64, init=X[:64], burn_in=300)
    assert np.mean(only_data.sum(1) >= 13) < 0.05
    out = E.refine_potential(start, X, method="mc", iterations=10, n_samples=20000)
    assert _exact_pk(out)[13:].sum() < 0.01
    assert 0.5 * np.abs(_exact_pk(out) - _pk(X, n)).sum() < 0.02


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "bogus"},
        {"iterations": 0},
        {"n_samples": 10},
        {"l2_potential": -1.0},
        {"tol": np.nan},
        {"step": 0.0},
        {"seed": -1},
    ],
)
def test_bad_options(kwargs):
    m = _model(6, 0)
    X = m.sample(200, seed=0)
    with pytest.raises(InputError):
        E.refine_potential(m, X, **kwargs)


def test_bad_inputs():
    m = _model(6, 0)
    with pytest.raises(InputError):
        E.refine_potential(m, np.zeros((10, 5)))
    with pytest.raises(InputError):
        E.refine_potential("model", np.zeros((10, 6)))
    with pytest.raises(InputError):
        E.refine_potential(_model(21, 0), np.zeros((10, 21)), method="exact")
    X = np.zeros((10, 6))
    X[:5, 0] = 1  # counts 2..6 never seen: without a penalty their V diverges
    with pytest.raises(InputError):
        E.refine_potential(m, X, l2_potential=0.0)


def test_mc_keeps_v_where_neither_data_nor_chains_go():
    """Counts seen by neither the data nor the chains keep their V (read back in the gauge of
    the fixed J and theta: canonical() moved a K + b K(K-1)/2 and dropped the constant)."""
    n = 16
    K = np.arange(n + 1)
    start = _model(n, 7, 0.3 * K, field=1.5)
    X = start.sample(5000, seed=5, burn_in=300)
    out = E.refine_potential(start, X, method="mc", iterations=3, n_samples=5000, tol=0.0)
    a, b = out.theta[0] - start.theta[0], start.J[0, 1] - out.J[0, 1]
    V_back = out.V + a * K + b * K * (K - 1) / 2
    unseen = K >= 14
    assert _exact_pk(start)[unseen].sum() < 1e-6
    shift = V_back - start.V
    assert np.ptp(shift[unseen]) < 1e-8
    assert np.ptp(shift[~unseen]) > 1e-3  # the visited counts did move


def _ml_data(n=6, seed=0):
    start = _model(n, seed, field=0.5)
    K = np.arange(n + 1)
    true = KPairwiseModel(start.J, start.theta, 0.4 * np.sin(K))
    S = all_states(n)
    p = true.probabilities()
    X = S[np.random.default_rng(seed + 1).choice(p.size, 4000, p=p)]
    return start, X


def _probs_k(model):
    S = all_states(model.n)
    return np.bincount(S.sum(1).astype(int), weights=model.probabilities(), minlength=model.n + 1)


def test_step_damps_the_update_in_v():
    """One exact update with step s moves V a fraction s of the way to the step-1 update
    (compared in the gauge of the fixed J, theta: canonical() moves a K + b K(K-1)/2)."""
    start, X = _ml_data()
    n = start.n
    K = np.arange(n + 1)

    def v_back(out):
        a, b = out.theta[0] - start.theta[0], start.J[0, 1] - out.J[0, 1]
        v = out.V + a * K + b * K * (K - 1) / 2
        return v - v[0]

    kw = dict(method="exact", iterations=1, tol=0.0, l2_potential=1e-3)
    full = v_back(refine_potential(start, X, step=1.0, **kw))
    half = v_back(refine_potential(start, X, step=0.5, **kw))
    # V is defined up to a constant (fixed by V(0) here) and the update is linear in step
    np.testing.assert_allclose(half, 0.5 * full, atol=1e-9)
    assert np.ptp(full) > 0.1


def test_tv_diagnostic_is_the_total_variation():
    """tv[0] = 1/2 sum_K |P_model(K) - P_data(K)| of the starting model, by enumeration."""
    start, X = _ml_data()
    n = start.n
    out = refine_potential(start, X, method="exact", iterations=1, tol=0.0)
    pk = np.bincount(X.sum(1).astype(int), minlength=n + 1) / X.shape[0]
    tv = out.fit_info["refine_potential"]["tv"]
    assert tv[0] == pytest.approx(0.5 * np.abs(_probs_k(start) - pk).sum(), rel=1e-9)
    assert tv[1] == pytest.approx(0.5 * np.abs(_probs_k(out) - pk).sum(), rel=1e-6, abs=1e-12)


def test_mc_random_starts_see_a_mode_the_data_never_visit():
    """V has a deep well at K >= 9 behind a barrier at K = 6, 7 and holds almost all the
    model's mass there (exactly), while the data stay at K <= 5. The quarter of the chains
    started at uniform random words (K ~ 8) fall into the well, so the first Monte Carlo total
    variation is well above 0; chains started at data words alone cannot cross the barrier."""
    n = 16
    K = np.arange(n + 1)
    X = _model(n, 6, field=1.5).sample(5000, seed=4, burn_in=300)
    X = X[X.sum(1) <= 5]
    V = np.where(K >= 9, -25.0, 0.0)
    V[6:8] = 30.0
    start = _model(n, 6, V, field=1.5)
    assert _probs_k(start)[9:].sum() > 0.99
    out = refine_potential(start, X, method="mc", iterations=1, n_samples=5000, tol=0.0)
    # about 0.6 of the 16 random chains start above the barrier: tv[0] ~ 0.6 * 16 / 64
    assert out.fit_info["refine_potential"]["tv"][0] > 0.05


def test_step_above_one_is_refused():
    start, X = _ml_data()
    with pytest.raises(InputError, match="step"):
        refine_potential(start, X, method="exact", step=1.5)


def test_mc_seed_of_iteration_i_is_seed_plus_i():
    """A negligible step (1e-300) leaves the model unchanged, so the total variation measured
    after the update with seed + 1 is the one measured before it with seed 1."""
    n = 8
    start = _model(n, 6, 0.3 * np.arange(n + 1) + 0.1, field=0.5)
    X = start.sample(2000, seed=9)
    kw = dict(method="mc", iterations=1, tol=0.0, n_samples=500, step=1e-300, chains=8, burn_in=20)
    a = refine_potential(start, X, seed=0, **kw).fit_info["refine_potential"]["tv"]
    b = refine_potential(start, X, seed=1, **kw).fit_info["refine_potential"]["tv"]
    assert a[1] == b[0]
    assert a[0] != b[0]  # the seeds do give different estimates
