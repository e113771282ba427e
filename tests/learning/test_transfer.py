"""Transfer functions of rate units: intrinsic plasticity and histogram matching."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from infodyn.errors import InputError
from infodyn.learning import adaptation
from infodyn.learning.transfer import (
    infer_transfer_function,
    intrinsic_plasticity,
    ip_sample_objective,
    ip_update,
    sigmoid_transfer,
)


# ----------------------------------------------------------------- intrinsic plasticity
def test_ip_reaches_exponential_output_with_mean_mu():
    # three independent units whose Gaussian inputs have standard deviations 0.5, 1 and 3
    sds = np.array([0.5, 1.0, 3.0])
    rng = np.random.default_rng(1)
    res = intrinsic_plasticity(rng.normal(0.0, 1.0, (200_000, 3)) * sds, mu=0.1, seed=2)
    y = res.output(rng.normal(0.0, 1.0, (200_000, 3)) * sds)
    mean, cv = y.mean(axis=0), y.std(axis=0) / y.mean(axis=0)
    assert np.all(np.abs(mean - 0.1) / 0.1 < 0.05), mean
    assert np.all((cv >= 0.9) & (cv <= 1.2)), cv
    # the unadapted unit (a=1, b=0) has mean 0.5; the gain adapted to the input scale
    assert res.a[0] > res.a[1] > res.a[2]


def test_ip_mean_spreads_over_seeds_as_documented():
    # docs/information_training.md: median 2-3 % off over seeds, at most 7.8 % (20 seeds; one
    # seed's 5 % had been said of all)
    sds = np.array([0.5, 1.0, 3.0])
    dev = []
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        res = intrinsic_plasticity(rng.normal(0.0, 1.0, (200_000, 3)) * sds, mu=0.1, seed=seed)
        y = res.output(rng.normal(0.0, 1.0, (400_000, 3)) * sds)
        dev.append(np.abs(y.mean(axis=0) / 0.1 - 1.0))
    dev = np.array(dev)
    assert np.all(dev < 0.09), dev
    assert np.all(np.median(dev, axis=0) < 0.05), dev


def test_ip_update_is_the_gradient_of_the_kl_sample_term():
    a, b, mu, eta = np.array([0.7, 1.9]), np.array([-0.3, 0.8]), 0.13, 1e-3
    x = np.array([0.4, -1.2])
    new_a, new_b = ip_update(a, b, x, mu, eta)
    ga, gb = jax.grad(lambda a_, b_: jnp.sum(ip_sample_objective(x, a_, b_, mu)), (0, 1))(
        jnp.asarray(a), jnp.asarray(b)
    )
    np.testing.assert_allclose(new_a - a, -eta * np.asarray(ga), rtol=1e-12)
    np.testing.assert_allclose(new_b - b, -eta * np.asarray(gb), rtol=1e-12)


def test_ip_rejects_bad_input():
    with pytest.raises(InputError, match="mu"):
        intrinsic_plasticity(np.zeros(10), mu=0.7)
    with pytest.raises(InputError, match="NaN"):
        intrinsic_plasticity(np.array([0.0, np.nan]))


# ----------------------------------------------------------------- histogram matching
@pytest.mark.parametrize(
    "planted,mean,std",
    [((76.2, 0.82, 2.46), 0.0, 1.0), ((50.0, 1.5, 0.3), 0.0, 1.0), ((30.0, 0.4, 6.0), 5.0, 2.0)],
)
def test_histogram_matching_recovers_planted_sigmoid(planted, mean, std):
    rng = np.random.default_rng(3)
    h = rng.normal(mean, std, 100_000)
    rates = sigmoid_transfer(h, *planted)
    fit = infer_transfer_function(rates, input_mean=mean, input_std=std)
    for got, want in zip((fit.r_max, fit.beta, fit.h0), planted, strict=True):
        assert abs(got - want) / abs(want) < 0.05, (fit.as_dict(), planted)
    # the nonparametric map is phi itself on the quantile grid
    np.testing.assert_allclose(fit.r, sigmoid_transfer(fit.h, *planted), atol=0.02 * planted[0])


def test_histogram_matching_rejects_constant_rates():
    with pytest.raises(InputError, match="identifiable"):
        infer_transfer_function(np.ones(100))


def test_rate_unit_tools_stay_importable_from_adaptation():
    assert adaptation.intrinsic_plasticity is intrinsic_plasticity
    assert adaptation.infer_transfer_function is infer_transfer_function


def _ip_step(a, b, x, mu, eta):
    """Triesch's rule written out: db = eta (1 - (2 + 1/mu) y + y^2/mu), da = eta/a + x db."""
    y = 1.0 / (1.0 + np.exp(-(a * x + b)))
    db = eta * (1.0 - (2.0 + 1.0 / mu) * y + y * y / mu)
    return a + eta / a + x * db, b + db


def test_ip_anneals_the_rate_geometrically():
    """Three equal samples (order does not matter) with eta decayed 1e-2 -> 1e-3 -> 1e-4."""
    x = np.full(3, 0.7)
    with pytest.warns(UserWarning, match="did not converge: 1 unit"):  # three samples
        res = intrinsic_plasticity(
            x, mu=0.2, eta=1e-2, eta_final=1e-4, a0=1.3, b0=-0.4, standardize=False
        )
    a, b = 1.3, -0.4
    for eta in (1e-2, 1e-3, 1e-4):
        a, b = _ip_step(a, b, 0.7, 0.2, eta)
    assert res.a[0] == pytest.approx(a, rel=1e-12)
    assert res.b[0] == pytest.approx(b, rel=1e-12)


def _sigmoid_jacobian(h, r_max, beta, h0):
    s = 1.0 / (1.0 + np.exp(-beta * (h - h0)))
    return np.stack([s, r_max * s * (1 - s) * (h - h0), -r_max * s * (1 - s) * beta], axis=1)


def test_histogram_matching_reports_rmse_and_standard_errors():
    """rmse = sqrt(mean (phi(h_k) - r_k)^2) on the quantile grid; std_err from the Gauss-Newton
    covariance s^2 (J^T J)^-1 with s^2 = RSS / (K - 3), J written out here."""
    rng = np.random.default_rng(8)
    h = rng.normal(0.0, 1.0, 5000)
    rates = np.clip(30.0 / (1.0 + np.exp(-1.2 * (h - 0.3))) + rng.normal(0, 2.0, h.size), 0, None)
    fit = infer_transfer_function(rates, n_quantiles=200)
    phi = fit.r_max / (1.0 + np.exp(-fit.beta * (fit.h - fit.h0)))
    res = phi - fit.r
    assert fit.rmse == pytest.approx(np.sqrt(np.mean(res**2)), rel=1e-9)
    jac = _sigmoid_jacobian(fit.h, fit.r_max, fit.beta, fit.h0)
    s2 = float(res @ res) / (res.size - 3)
    se = np.sqrt(np.diag(np.linalg.inv(jac.T @ jac) * s2))
    got = [fit.std_err[k] for k in ("r_max", "beta", "h0")]
    np.testing.assert_allclose(got, se, rtol=2e-3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: intrinsic_plasticity(x, a0=[1.0, 2.0, 3.0]), "a0 must be one number or one"),
        (lambda x: intrinsic_plasticity(x, b0=[np.nan, 0.0]), "b0 contains NaN"),
        (lambda x: intrinsic_plasticity(x, epochs=1.5), "epochs must be a whole number"),
        (lambda x: infer_transfer_function(x[:, 0] ** 2, n_quantiles=10.5), "n_quantiles must"),
        (lambda x: infer_transfer_function(x[:, 0] ** 2, input_mean="a"), "input_mean must be"),
    ],
)
def test_transfer_options_are_checked(call, message):
    """NumPy's broadcast error, a TypeError in range(), a LinAlgError with LAPACK noise."""
    x = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(InputError, match=message):
        call(x)


@pytest.mark.parametrize("bad", ["a", [[1.0, 2.0], [3.0]], {}, 1 + 2j])
def test_transfer_inputs_that_are_not_real_numbers_are_one_line(bad):
    from infodyn.learning.transfer import infer_transfer_function, intrinsic_plasticity

    with pytest.raises(InputError, match="x must be"):
        intrinsic_plasticity(bad)
    with pytest.raises(InputError, match="rates must be"):
        infer_transfer_function(bad)


@pytest.mark.parametrize("key", ["eta_theta", "eta_gain", "smoothing", "max_step"])
def test_adaptation_step_sizes_must_be_numbers(key):
    # text failed the comparisons of __post_init__ with a TypeError
    with pytest.raises(InputError, match=f"{key} must be a finite number"):
        adaptation.LIFAdaptationConfig(**{key: "0.3"})
    with pytest.raises(InputError, match="spikes must be a rectangular array"):
        adaptation.window_counts("a", 5)


def _kl_optimum(mu):
    """The (a, b) minimising KL(p_y || Exp(mu)) for x ~ N(0, 1), by Gauss-Hermite quadrature
    of the expected sample term (an independent computation of the rule's fixed point)."""
    from scipy.optimize import minimize

    z, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()

    def expected(p):
        u = p[0] * z + p[1]
        return float(
            w
            @ (-np.log(p[0]) + np.logaddexp(0, -u) + np.logaddexp(0, u) + 1 / (1 + np.exp(-u)) / mu)
        )

    return minimize(expected, [1.0, -2.0], bounds=[(1e-3, None), (None, None)]).x


@pytest.mark.parametrize("scale,shift", [(10.0, 50.0), (300.0, -20.0), (0.01, 0.0)])
def test_ip_finds_the_optimum_whatever_the_inputs_scale(scale, shift):
    """On inputs far from unit scale (currents in pA) the rule ran to a negative gain or
    saturated, silently (mean 0.18 for mu = 0.1 at SD 10). The optimum is affine-equivariant:
    for x = scale z + shift the gain is a*/scale and the bias b* - a* shift / scale."""
    a_opt, b_opt = _kl_optimum(0.1)
    z = np.random.default_rng(4).standard_normal((100_000, 1))
    res = intrinsic_plasticity(scale * z + shift, mu=0.1, seed=1)
    assert res.a[0] * scale == pytest.approx(a_opt, rel=0.1)
    assert res.b[0] + res.a[0] * shift == pytest.approx(b_opt, rel=0.1)
    assert res.mean_history[-1, 0] == pytest.approx(0.1, rel=0.1)


def test_ip_on_raw_inputs_far_from_unit_scale_is_refused_not_returned():
    x = 10.0 * np.random.default_rng(0).standard_normal(20_000) + 50.0
    with pytest.raises(InputError, match="did not converge.*gain <= 0.*not scale-free"):
        intrinsic_plasticity(x, mu=0.1, standardize=False)  # it returned a gain of -0.22
