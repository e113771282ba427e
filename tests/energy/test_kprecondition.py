"""Potential-block preconditioning: the scaling whitens the block, the minimiser finds the exact
minimum of an ill-conditioned quadratic."""

import numpy as np
import pytest

from infodyn.energy.kprecondition import lbfgs_potential_preconditioned, potential_scaling


def test_scaling_whitens_the_block_and_keeps_the_null_direction_finite():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6))
    lam = np.array([0.0, 1e-9, 1e-4, 0.1, 1.0, 10.0])
    U = np.linalg.qr(A)[0]
    H = U @ np.diag(lam) @ U.T
    M = potential_scaling(H, floor=1e-12)
    S = M.T @ H @ M
    # every mode above the floor becomes 1; the exact null direction stays 0 and finite
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(S)), [0, 1, 1, 1, 1, 1], atol=1e-4)
    assert np.all(np.isfinite(M))


def test_minimises_an_ill_conditioned_quadratic_exactly():
    rng = np.random.default_rng(1)
    k, n_w = 5, 12
    d = k + n_w
    # well-conditioned pairwise block, potential block with eigenvalues 1e-8 .. 1, coupled
    B = rng.normal(size=(d, d)) * 0.05
    U = np.linalg.qr(rng.normal(size=(n_w, n_w)))[0]
    H = B @ B.T
    H[:k, :k] += np.eye(k)
    H[k:, k:] += U @ np.diag(np.geomspace(1e-8, 1.0, n_w)) @ U.T
    b = rng.normal(size=d)
    x_star = np.linalg.solve(H, b)

    def fun(x):
        return 0.5 * x @ H @ x - b @ x, H @ x - b

    seen = []
    x, nit, nfev, ok, msg = lbfgs_potential_preconditioned(
        fun,
        lambda x: H[k:, k:],
        np.zeros(d),
        n_w,
        500,
        {"ftol": 0.0, "gtol": 1e-12, "maxcor": 20},
        callback=lambda x: seen.append(x.copy()),
    )
    assert fun(x)[0] == pytest.approx(fun(x_star)[0], rel=1e-9)
    np.testing.assert_allclose(x, x_star, rtol=1e-4, atol=1e-4 * np.abs(x_star).max())
    assert len(seen) == nit and nfev >= nit
    # the plain method on the same problem does not get there in the same iterations
    from scipy.optimize import minimize

    r = minimize(
        fun,
        np.zeros(d),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": nit, "ftol": 0.0, "gtol": 1e-12, "maxcor": 20},
    )
    assert np.abs(r.x - x_star).max() > 10 * np.abs(x - x_star).max()


def test_floor_is_relative_to_the_largest_eigenvalue():
    """lam_c = max(lam, floor lam_max): M M^T = U diag(1/lam_c) U^T, and scaling H by c
    scales M M^T by 1/c, the null direction included."""
    H = np.diag([0.0, 1.0, 4.0])
    M = potential_scaling(H, floor=1e-6)
    np.testing.assert_allclose(M @ M.T, np.diag([1 / (1e-6 * 4.0), 1.0, 0.25]), rtol=1e-12)
    M2 = potential_scaling(1e8 * H, floor=1e-6)
    np.testing.assert_allclose(M2 @ M2.T, (M @ M.T) / 1e8, rtol=1e-12)


def _quadratic(d=8, k=3):
    rng = np.random.default_rng(4)
    A = rng.normal(size=(d, d))
    H = A @ A.T + 0.01 * np.eye(d)
    b = rng.normal(size=d)
    return (lambda x: (0.5 * x @ H @ x - b @ x, H @ x - b)), H, k


def _counted_hessian(H, k):
    """The potential block of ``H`` and the list of its calls; more than 50 calls raise (a
    minimiser that restarts forever fails the test instead of hanging it)."""
    calls = []

    def hess(x):
        calls.append(1)
        if len(calls) > 50:
            raise RuntimeError("restarted without end")
        return H[k:, k:]

    return hess, calls


def test_preconditioned_lbfgs_stops_at_maxiter():
    fun, H, k = _quadratic()
    hess, _ = _counted_hessian(H, k)

    x, nit, nfev, ok, msg = lbfgs_potential_preconditioned(
        fun,
        hess,
        np.zeros(H.shape[0]),
        H.shape[0] - k,
        7,
        {"ftol": 0.0, "gtol": 1e-30},
        refresh=3,
    )
    assert nit == 7 and not ok


def test_preconditioned_lbfgs_returns_on_an_abnormal_line_search():
    """A gradient of the wrong sign makes every line search fail: the minimiser must report
    the abnormal stop, not restart forever."""
    fun, H, k = _quadratic()
    hess, calls = _counted_hessian(H, k)

    def bad(x):
        v, g = fun(x)
        return v, -g

    x, nit, nfev, ok, msg = lbfgs_potential_preconditioned(
        bad, hess, np.zeros(H.shape[0]), H.shape[0] - k, 1000, {"ftol": 0.0, "gtol": 1e-30}
    )
    assert not ok and msg.startswith("ABNORMAL") and len(calls) == 1


def test_preconditioned_lbfgs_stops_when_the_callback_raises_stopiteration():
    fun, H, k = _quadratic()
    seen = []

    def cb(x):
        seen.append(x.copy())
        if len(seen) == 2:
            raise StopIteration

    x, nit, nfev, ok, msg = lbfgs_potential_preconditioned(
        fun,
        lambda x: H[k:, k:],
        np.zeros(H.shape[0]),
        H.shape[0] - k,
        200,
        {"ftol": 0.0, "gtol": 1e-30},
        callback=cb,
    )
    assert len(seen) == 2 and nit <= 2 and not ok
