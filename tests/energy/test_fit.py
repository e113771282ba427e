"""Fitting: objectives against finite differences and a NumPy reference, the published MPF form,
planted-coupling recovery against d/(2M), agreement of MPF/PL/ML, regularisation, early stopping,
bad input."""

import warnings

import jax
import numpy as np
import pytest

import infodyn as idn
from infodyn import InputError
from infodyn.energy import IsingModel, all_states, fit
from infodyn.energy.objectives import make_objective, pack, prepare_data
from infodyn.energy.reference import value_and_grad as numpy_value_and_grad

N = 12


def _planted(n=N, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0, scale, (n, n)), 1)
    return IsingModel(J + J.T, rng.normal(0.5, 0.5, n))


def _exact_samples(model, M, seed):
    S = all_states(model.n)
    return S[np.random.default_rng(seed).choice(S.shape[0], M, p=model.probabilities())]


def _kl(p, q):
    return float(np.sum(p * np.log(p / q)))


def _data(method, X, split=False):
    rng = np.random.default_rng(5)
    n = X.shape[1]
    w = rng.integers(1, 4, X.shape[0]).astype(float)
    p = pack(np.triu(rng.normal(0, 0.3, (n, n)), 1) * 2, rng.normal(0, 0.5, n), split)
    if split:
        p = np.abs(p)
    return prepare_data(method, X, w, np.float64), p, w


@pytest.mark.parametrize(
    "method, split", [("mpf", False), ("pl", False), ("ml", False), ("mpf", True)]
)
def test_gradients_match_finite_differences(method, split):
    X = (np.random.default_rng(1).random((40, 6)) < 0.4).astype(np.uint8)
    with jax.enable_x64(True):
        data, p, _ = _data(method, X, split)
        vg, _ = make_objective(method, 6, split)
        l1, l2 = (0.03, 0.02)
        _, g = vg(p, data, l1, l2)
        eps = 1e-6
        fd = np.array(
            [
                (float(vg(p + eps * e, data, l1, l2)[0]) - float(vg(p - eps * e, data, l1, l2)[0]))
                / (2 * eps)
                for e in np.eye(p.size)
            ]
        )
    np.testing.assert_allclose(np.asarray(g), fd, atol=1e-6)


@pytest.mark.parametrize("method", ["mpf", "pl"])
def test_jax_objective_matches_numpy_reference(method):
    X = (np.random.default_rng(2).random((50, 7)) < 0.3).astype(np.uint8)
    with jax.enable_x64(True):
        data, p, w = _data(method, X)
        f, g = make_objective(method, 7, False)[0](p, data, 0.0, 0.05)
    f_ref, g_ref = numpy_value_and_grad(p, X, w, method, l2=0.05)
    assert float(f) == pytest.approx(f_ref, rel=1e-12)
    np.testing.assert_allclose(np.asarray(g), g_ref, rtol=1e-10, atol=1e-12)


def test_mpf_objective_is_the_published_one():
    """K = (1/M) sum_x sum_i exp((E(x) - E(x_flip_i)) / 2), from energies alone."""
    m = _planted(6, seed=3)
    X = (np.random.default_rng(3).random((30, 6)) < 0.5).astype(np.uint8)
    E = m.energy(X)
    K = 0.0
    for i in range(6):
        Y = X.copy()
        Y[:, i] ^= 1
        K += np.exp(0.5 * (E - m.energy(Y))).sum()
    K /= X.shape[0]
    with jax.enable_x64(True):
        vg, value = make_objective("mpf", 6, False)
        got = value(pack(m.J, m.theta), prepare_data("mpf", X, np.ones(30), np.float64))
    assert float(got) == pytest.approx(K, rel=1e-12)


def test_planted_recovery_follows_d_over_2m():
    """KL(true || fit) ~ d/(2M) and RMSE ~ M^-1/2 for exact ML; MPF and PL track ML."""
    truth = _planted()
    p_true = truth.probabilities()
    iu = np.triu_indices(N, 1)
    d = N * (N + 1) // 2
    sizes = (2000, 32000)
    kl_ratio, rmse = {}, {}
    for M in sizes:
        kls, errs = [], []
        for seed in range(3):
            X = _exact_samples(truth, M, seed=100 * M + seed)
            ml = fit(X, method="ml")
            kls.append(_kl(p_true, ml.probabilities()))
            errs.append(np.sqrt(np.mean((ml.J - truth.J)[iu] ** 2)))
        kl_ratio[M] = np.mean(kls) / (d / (2 * M))
        rmse[M] = np.mean(errs)
    for M in sizes:
        assert 0.5 < kl_ratio[M] < 1.6, kl_ratio
    assert 2.8 < rmse[2000] / rmse[32000] < 5.6, rmse  # sqrt(16) = 4


def test_mpf_pl_ml_agree_on_large_exact_sample():
    truth = _planted(seed=1)
    X = _exact_samples(truth, 200_000, seed=9)
    fits = {m: fit(X, method=m) for m in ("mpf", "pl", "ml")}
    iu = np.triu_indices(N, 1)
    scale = np.linalg.norm(truth.J[iu])
    for m in ("mpf", "pl"):
        diff = np.linalg.norm(fits[m].J[iu] - fits["ml"].J[iu]) / scale
        assert diff < 0.04, (m, diff)
        assert np.linalg.norm(fits[m].theta - fits["ml"].theta) / np.linalg.norm(truth.theta) < 0.04
    # all close to the truth: no factor-2 drift in J
    for m, f in fits.items():
        assert np.linalg.norm(f.J[iu] - truth.J[iu]) / scale < 0.06, m
        slope = float(f.J[iu] @ truth.J[iu] / (truth.J[iu] @ truth.J[iu]))
        assert 0.95 < slope < 1.05, (m, slope)
    assert all(f.fit_info["converged"] for f in fits.values())
    assert fits["mpf"].fit_info["n_unique_patterns"] <= 2**N


def test_l1_gives_exact_zeros_and_l2_shrinks():
    rng = np.random.default_rng(4)
    n = 10
    J = np.zeros((n, n))
    for i, j in [(0, 1), (2, 3), (4, 5), (1, 7)]:
        J[i, j] = J[j, i] = 1.5
    truth = IsingModel(J, rng.normal(1.0, 0.3, n))
    X = _exact_samples(truth, 5000, seed=1)
    plain = fit(X, method="pl")
    sparse = fit(X, method="pl", l1=0.01)
    ridge = fit(X, method="pl", l2=0.05)
    iu = np.triu_indices(n, 1)
    zero = truth.J[iu] == 0
    assert np.mean(np.abs(sparse.J[iu][zero]) < 1e-8) > 0.6
    assert np.mean(np.abs(plain.J[iu][zero]) < 1e-8) == 0
    assert np.all(sparse.J[iu][~zero] > 0.8)
    assert np.abs(ridge.J).sum() < np.abs(plain.J).sum()


def test_early_stopping_on_held_out_data():
    truth = _planted(seed=2)
    X = _exact_samples(truth, 150, seed=0)  # 78 parameters, 120 training patterns: overfits
    X_val = _exact_samples(truth, 5000, seed=1)
    full = fit(X, method="pl", maxiter=500)
    es = fit(X, method="pl", validation=X_val, patience=5, maxiter=500)
    info = es.fit_info
    assert info["stopped_early"] and info["best_iteration"] < full.fit_info["n_iterations"]
    assert info["converged"] and info["message"] == (  # was "`callback` raised `StopIteration`."
        f"stopped early: the validation objective did not improve for 5 iterations after "
        f"iteration {info['best_iteration']}"
    )
    assert "StopIteration" not in full.fit_info["message"]
    curve = np.array([v for _, v in info["validation_curve"]])
    assert info["validation_objective"] == pytest.approx(curve.min())
    # the early-stopped model generalises better than the fully fitted one
    assert es.log_likelihood(X_val) > full.log_likelihood(X_val)
    # a validation fraction splits X itself
    frac = fit(X, method="pl", validation=0.2, patience=5)
    assert frac.fit_info["n_validation"] == 30 and frac.fit_info["n_samples"] == 120


def test_float32_precision_runs_and_is_close():
    truth = _planted(seed=3)
    X = _exact_samples(truth, 20000, seed=2)
    a = fit(X, method="mpf")
    b = fit(X, method="mpf", precision="float32")
    assert np.abs(a.J - b.J).max() < 0.02


def test_bad_input():
    X = (np.random.default_rng(0).random((100, 5)) < 0.5).astype(np.uint8)
    with pytest.raises(idn.InputError, match="binary"):
        fit(X * 2)
    const = X.copy()
    const[:, 3] = 0
    with pytest.raises(idn.InputError, match="constant"):
        fit(const)
    with pytest.warns(UserWarning, match="parameters"):  # l2: no pair's coupling unbounded
        fit(X[:12], method="pl", maxiter=20, l2=1e-3)
    with pytest.raises(idn.InputError, match="n <= 20"):
        fit(np.tile(X, (1, 5))[:, :21], method="ml")
    with pytest.raises(idn.InputError, match="method"):
        fit(X, method="cd")
    with pytest.raises(idn.InputError):
        fit(X, l2=-1.0)


def test_unbounded_pairs_match_a_direct_count():
    from infodyn.energy._checks import unbounded_pairs

    rng = np.random.default_rng(4)
    X = (rng.random((60, 7)) < 0.3).astype(np.uint8)
    X[:, 1] &= 1 - X[:, 0]  # never both active
    X[:, 3] = X[:, 2] | X[:, 3]  # 2 never without 3
    X[:, 5] = 1 - X[:, 6]  # never both silent, never both active
    w = rng.random(60) + 0.5
    w[[1, 2]] = 0.0  # zero-weight rows show nothing
    pairs, missing = unbounded_pairs(X, w)
    expected = []
    for i in range(7):
        for j in range(i + 1, 7):
            states = ((1, 1), (1, 0), (0, 1), (0, 0))
            counts = [w[(X[:, i] == a) & (X[:, j] == b)].sum() for a, b in states]
            if min(counts) == 0:
                expected.append((i, j, counts.index(0)))
    found = [(int(i), int(j), int(s)) for (i, j), s in zip(pairs, missing, strict=True)]
    assert found == expected
    assert (0, 1, 0) in expected and (2, 3, 1) in expected and (5, 6, 0) in expected


def test_a_pair_without_a_joint_state_warns_and_a_penalty_bounds_it():
    # units 0 and 1 are never both active: the likelihood rises as J_01 -> -inf, and the
    # unregularised fit ends wherever the optimiser stops (-41 here, the others below 0.3)
    X = (np.random.default_rng(2).random((400, 5)) < 0.2).astype(np.uint8)
    X[:, 1] &= 1 - X[:, 0]
    with pytest.warns(idn.energy.UnboundedCouplingWarning, match="units 0 and 1 are never both"):
        loose = fit(X)
    with pytest.warns(idn.energy.UnboundedCouplingWarning):
        looser = fit(X, tol=1e-14, gtol=1e-12)
    assert loose.fit_info["unbounded_pairs"] == 1
    assert looser.J[0, 1] < loose.J[0, 1] < -10  # no finite optimum to converge to
    with warnings.catch_warnings():
        warnings.simplefilter("error", idn.energy.UnboundedCouplingWarning)
        held = fit(X, l2=1e-3)
        early = fit(X, validation=0.25)
        idn.energy.store(X[:20])  # stored patterns: the fixed points, not a density, matter
    assert held.fit_info["unbounded_pairs"] is None
    assert -10 < held.J[0, 1] < 0 and early.J[0, 1] > loose.J[0, 1]


def test_fits_beyond_lbfgsb_32_bit_workspace_are_refused():
    # 100 x 100 patches (5 x 10^7 couplings) crashed the process inside SciPy's L-BFGS-B
    from infodyn.energy.fit import _check_lbfgsb_size
    from infodyn.errors import InputError

    n = 10_000
    with pytest.raises(InputError, match="beyond what L-BFGS-B can fit"):
        _check_lbfgsb_size(n * (n + 1) // 2, 20)
    _check_lbfgsb_size(47_000_000, 20)  # (2 m + 5) n = 2.115e9 < 2^31 - 1: allowed


@pytest.mark.parametrize("value", [0, 1])
def test_fit_refuses_a_unit_that_never_changes(value):
    """A unit that is always silent or always active has a diverging field: both refused."""
    X = (np.random.default_rng(0).random((200, 5)) < 0.4).astype(np.uint8)
    X[:, 2] = value
    with pytest.raises(InputError, match="never change"):
        fit(X)


def test_fit_refuses_negative_weights():
    X = (np.random.default_rng(0).random((50, 4)) < 0.5).astype(np.uint8)
    w = np.ones(50)
    w[3] = -1.0
    with pytest.raises(InputError, match="weights must be >= 0"):
        fit(X, weights=w)


def test_the_too_few_patterns_warning_does_not_depend_on_the_weights_scale():
    """Exact probabilities of all 64 states as weights (sum 1) warned "only 1 patterns for 21
    parameters"; the same weights x 1000 did not, and the fits are the same. Probabilities
    count the rows, whole-number weights (counts) their total."""
    model = _planted(n=6, seed=3)
    states, p = all_states(6), model.probabilities()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fits = [fit(states, method="pl", weights=p * scale) for scale in (1.0, 1000.0)]
    np.testing.assert_allclose(fits[0].J, fits[1].J, atol=1e-6)
    counts = np.zeros(64)
    counts[[0, 63, 21, 42]] = [5, 4, 3, 2]  # 14 samples of 4 patterns for 21 parameters
    with pytest.warns(UserWarning, match="only 14 patterns for 21 parameters"):
        fit(states, method="pl", weights=counts, l2=0.1)


def test_a_k_pairwise_fit_warns_of_unbounded_couplings_with_early_stopping_too():
    """Early stopping held the couplings of a pairwise fit but not of a K-pairwise one (an
    energy run put its mass on an unseen word, -71 bits a word), so only the latter warns."""
    X = (np.random.default_rng(4).random((400, 6)) < 0.05).astype(np.uint8)
    X[:, 0] = 0
    X[[3, 9], 0] = 1  # unit 0 active twice, never with most others
    with pytest.warns(idn.energy.UnboundedCouplingWarning, match="early stopping does not hold"):
        model = fit(X, model="k_pairwise", validation=0.2)
    assert model.fit_info["unbounded_pairs"] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", idn.energy.UnboundedCouplingWarning)
        # counted, not warned of: early stopping holds a pairwise fit's (it was None, which
        # reads as "regularised")
        assert (
            fit(X, validation=0.2).fit_info["unbounded_pairs"] == model.fit_info["unbounded_pairs"]
        )
        fit(X, model="k_pairwise", validation=0.2, l2=1e-3)


def test_fit_weights_and_validation_that_are_not_numbers_are_one_line():
    # float("a") and np.asarray({}, float) were raw; float("0.2") read text as a fraction
    X = np.random.default_rng(0).integers(0, 2, size=(40, 3))
    with pytest.raises(InputError, match="weights must be"):
        fit(X, weights="a")
    with pytest.raises(InputError, match="validation must be a fraction in \\(0, 1\\)"):
        fit(X, validation="0.2")


def test_memory_triggered_average_stimulus_must_be_real_numbers():
    from infodyn.energy import memory_triggered_average

    with pytest.raises(InputError, match="stimulus must be"):
        memory_triggered_average(np.array([0, 1, 0]), "abc")


def test_the_k_pairwise_hessian_fits_its_batch_to_the_free_memory(monkeypatch):
    """200,000 words of 100 bits tried a 9.4 GB Hessian batch in JAX: an internal error (exit
    1) in `infodyn energy --model k_pairwise`. Fewer directions at once where 8 do not fit, and
    one line naming the need where one does not."""
    from infodyn.energy.fit import _hessian_batch
    from infodyn.memory import MemoryPreflightError

    for limit, batch in (("2G", 8), ("700M", 4), ("200M", 1)):  # 160 MB a direction
        monkeypatch.setenv("INFODYN_MEMORY_LIMIT", limit)
        assert _hessian_batch(20_000, 100, 8) == batch, limit
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "100M")
    with pytest.raises(MemoryPreflightError, match="Hessian over 20,000 distinct words of 100"):
        _hessian_batch(20_000, 100, 8)
    X = (np.random.default_rng(0).random((4000, 30)) < 0.2).astype(np.uint8)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "6M")  # the fit asks before it builds it
    with pytest.raises(MemoryPreflightError, match="Hessian over 3,"):
        fit(X, model="k_pairwise")


def test_a_fit_whose_objective_does_not_fit_in_memory_is_refused_first(monkeypatch):
    """The MPF and pseudo-likelihood fits were not checked: 200,000 words of 200 bits took
    0.8 GiB (1.4 GiB in float64) under any INFODYN_MEMORY_LIMIT; `infodyn energy` on an hour of
    1 ms bins would need several GB."""
    from infodyn.memory import MemoryPreflightError

    X = (np.random.default_rng(0).random((6000, 40)) < 0.3).astype(np.uint8)
    distinct = len(np.unique(X, axis=0))
    assert 4096 < distinct <= 6000  # rows padded to 8192: 8192 x 40 x 5 floats
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "10M")  # 12.5 MiB in float64, 6.25 in float32
    for method in ("mpf", "pl"):
        with pytest.raises(
            MemoryPreflightError,
            match=rf"the {method} fit's objective over {distinct:,} words of 40 bits "
            r"needs 12.5 MiB .*fit fewer words .*, or precision='float32'$",
        ):
            fit(X, method=method)
    held = r"objective over 6,000 words of 40 bits \(4,800 fitted, 1,200 held out\) needs 15.6"
    with pytest.raises(MemoryPreflightError, match=held):
        fit(X, validation=0.2)  # the held-out words count too, their rows padded apart
    assert fit(X, precision="float32", maxiter=2).J.shape == (40, 40)
