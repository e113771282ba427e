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
