"""K-pairwise objectives: the gauge-free coordinates give the canonical model and objective."""

import jax
import numpy as np
import pytest

from infodyn.energy import KPairwiseModel
from infodyn.energy.fit import unique_patterns
from infodyn.energy.kobjectives import (
    canonical_from_free,
    free_from_canonical,
    make_k_objective,
    make_potential_hessian,
    prepare_k_data,
)
from infodyn.energy.objectives import pack


def _model_from_free(q, n):
    """The model the free coordinates describe: couplings J', fields theta', potential W."""
    m = n * (n - 1) // 2
    J = np.zeros((n, n))
    J[np.triu_indices(n, 1)] = q[:m]
    return KPairwiseModel(J + J.T, q[m : m + n], q[m + n :])


def _model_from_canonical(p, n):
    m = n * (n - 1) // 2
    J = np.zeros((n, n))
    J[np.triu_indices(n, 1)] = p[:m]
    return KPairwiseModel(J + J.T, p[m : m + n], np.concatenate([np.zeros(3), p[m + n :]]))


def test_free_coordinates_map_to_the_canonical_gauge():
    n = 7
    rng = np.random.default_rng(0)
    q = rng.normal(0, 0.5, n * (n - 1) // 2 + n + n + 1)
    p = canonical_from_free(q, n)
    assert p.size == n * (n + 1) // 2 + n - 2
    # the same distribution as the free coordinates' model, and KPairwiseModel.canonical's gauge
    a, b = _model_from_free(q, n), _model_from_canonical(p, n)
    np.testing.assert_allclose(b.probabilities(), a.probabilities(), rtol=1e-10)
    c = a.canonical()
    np.testing.assert_allclose(pack(c.J, c.theta), p[: n * (n + 1) // 2], atol=1e-12)
    np.testing.assert_allclose(c.V[3:], p[n * (n + 1) // 2 :], atol=1e-12)
    np.testing.assert_allclose(canonical_from_free(free_from_canonical(p, n), n), p, atol=1e-12)


@pytest.mark.parametrize("method", ["mpf", "pl", "ml"])
def test_free_objective_is_the_canonical_objective(method):
    n = 6
    rng = np.random.default_rng(1)
    X = (rng.random((400, n)) < 0.4).astype(np.uint8)
    with jax.enable_x64(True):
        data = prepare_k_data(method, *unique_patterns(X), np.float64)
        vf, _ = make_k_objective(method, n, False, True)
        vc, _ = make_k_objective(method, n, False, False)
        q = rng.normal(0, 0.3, n * (n - 1) // 2 + 2 * n + 1)
        p = canonical_from_free(q, n)
        ff, gf = vf(q, data, 0.0, 0.01, 0.05)
        fc, gc = vc(p, data, 0.0, 0.01, 0.05)
        assert float(ff) == pytest.approx(float(fc), rel=1e-12)
        # chain rule by central differences of the canonical objective along the map
        e = 1e-6
        for k in rng.choice(q.size, 6, replace=False):
            d = np.zeros_like(q)
            d[k] = e
            num = (
                vc(canonical_from_free(q + d, n), data, 0.0, 0.01, 0.05)[0]
                - vc(canonical_from_free(q - d, n), data, 0.0, 0.01, 0.05)[0]
            ) / (2 * e)
            assert float(gf[k]) == pytest.approx(float(num), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("method", ["mpf", "pl"])
def test_potential_hessian_is_the_w_block_of_the_full_hessian(method):
    n = 9
    rng = np.random.default_rng(2)
    X = (rng.random((500, n)) < 0.3).astype(np.uint8)
    k = n * (n + 1) // 2
    with jax.enable_x64(True):
        data = prepare_k_data(method, *unique_patterns(X), np.float64)
        q = rng.normal(0, 0.3, k + n + 1)
        H = np.asarray(make_potential_hessian(method, n, 4)(q[:k], q[k:], data, 0.0, 0.01, 0.05))

        def f(x):
            return make_k_objective(method, n, False, True)[0](x, data, 0.0, 0.01, 0.05)[1]

        full = np.asarray(jax.jacfwd(f)(jax.numpy.asarray(q)))  # autodiff of the gradient
    np.testing.assert_allclose(H, full[k:, k:], atol=1e-10 * np.abs(full).max())


@pytest.mark.parametrize("method", ["mpf", "pl"])
def test_l1_penalty_of_the_split_couplings(method):
    """With L1 the couplings are J = J+ - J- (both >= 0): the penalty is l1 sum (J+ + J-)."""
    n = 5
    m = n * (n - 1) // 2
    rng = np.random.default_rng(0)
    X = (rng.random((200, n)) < 0.4).astype(np.uint8)
    with jax.enable_x64(True):
        data = prepare_k_data(method, *unique_patterns(X), np.float64)
        vg, _ = make_k_objective(method, n, True)
        p = np.concatenate([rng.uniform(0, 0.5, 2 * m), rng.normal(0, 0.3, n + n - 2)])
        f0 = float(vg(p, data, 0.0, 0.0, 0.0)[0])
        f1 = float(vg(p, data, 0.3, 0.0, 0.0)[0])
    assert f1 - f0 == pytest.approx(0.3 * p[: 2 * m].sum(), rel=1e-10)
