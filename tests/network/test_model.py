"""Network config validation, weight initialisation, constraints and determinism."""

import numpy as np
import pytest

import infodyn as idn
from infodyn import InputError


@pytest.mark.parametrize(
    "bad",
    [
        dict(tau_m=-1.0),
        dict(tau_m=0.0),
        dict(v_th=0.0),
        dict(v_th=-0.1),
        dict(n_rec=0),
        dict(dt=float("nan")),
        dict(rec_scale=float("inf")),  # drew inf weights
        dict(ei_mu=float("nan")),
        dict(in_scale=float("inf")),
        dict(tau_m=float("inf")),
        dict(surrogate="gauss"),
        dict(p_connect=1.5),
        dict(unknown_key=3),
    ],
)
def test_invalid_configs_raise_clear_errors(bad):
    with pytest.raises(InputError, match="invalid LIF config"):
        idn.network.LIF(**bad)


def test_alif_rejects_more_adaptive_units_than_units():
    with pytest.raises(InputError, match="n_alif"):
        idn.network.ALIF(n_rec=10, n_alif=11)


@pytest.mark.parametrize("conn", ["dense", "sparse", "ei"])
def test_no_autapses_and_determinism(conn):
    p = {"p_connect": 0.3} if conn == "sparse" else {}
    net = idn.network.LIF(n_in=10, n_rec=50, connectivity=conn, **p)
    a, b, c = net.init(seed=7), net.init(seed=7), net.init(seed=8)
    assert np.all(np.diag(a["w_rec"]) == 0)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["w_rec"], c["w_rec"])


def test_sparse_connection_probability():
    net = idn.network.LIF(n_rec=400, connectivity="sparse", p_connect=0.1)
    w = net.init(seed=0)["w_rec"]
    density = np.count_nonzero(w) / (400 * 399)
    assert abs(density - 0.1) < 0.01


def test_ei_network_dale_law_and_connection_probabilities():
    net = idn.network.LIF(n_rec=1000, connectivity="ei")
    w = net.init(seed=0)["w_rec"]
    n_e = net.n_exc
    assert n_e == 800
    assert np.all(w[:n_e] >= 0) and np.all(w[n_e:] <= 0)
    for block, p in [
        (w[:n_e, :n_e], 0.16),
        (w[:n_e, n_e:], 0.244),
        (w[n_e:, :n_e], 0.318),
        (w[n_e:, n_e:], 0.343),
    ]:
        assert abs(np.count_nonzero(block) / block.size - p) < 0.02
    # inhibitory magnitudes are 5x the excitatory ones on average (same lognormal)
    ratio = np.abs(w[n_e:][w[n_e:] != 0]).mean() / w[:n_e][w[:n_e] != 0].mean()
    assert 4.0 < ratio < 6.0


def test_constrain_keeps_dale_mask_and_diagonal():
    net = idn.network.LIF(n_rec=20, connectivity="ei")
    params = net.init(seed=1)
    mask = (params["w_rec"] != 0).astype(float)
    noisy = {**params, "w_rec": params["w_rec"] + np.random.default_rng(0).normal(0, 1, (20, 20))}
    fixed = net.constrain(noisy, mask)
    w = np.asarray(fixed["w_rec"])
    assert np.all(np.diag(w) == 0) and np.all(w[mask == 0] == 0)
    assert np.all(w[: net.n_exc] >= 0) and np.all(w[net.n_exc :] <= 0)


def test_bad_params_and_inputs_are_rejected():
    net = idn.network.LIF(n_in=3, n_rec=4, n_out=1)
    params = net.init(seed=0)
    x = np.zeros((10, 3))
    with pytest.raises(InputError, match="shape"):
        net.simulate({**params, "w_rec": np.zeros((3, 3))}, x)
    with pytest.raises(InputError, match="missing"):
        net.simulate({"w_in": params["w_in"]}, x)
    with pytest.raises(InputError, match="NaN"):
        net.simulate({**params, "w_in": np.full((3, 4), np.nan)}, x)
    with pytest.raises(InputError, match="channels"):
        net.simulate(params, np.zeros((10, 4)))
    with pytest.raises(InputError, match="NaN"):
        net.simulate(params, np.full((10, 3), np.inf))
    with pytest.raises(InputError, match="empty"):
        net.simulate(params, np.zeros((0, 3)))
    with pytest.raises(InputError, match=r"\(T, n_in\)"):
        net.simulate(params, np.zeros(10))
    with pytest.raises(InputError, match="engine"):
        net.simulate(params, x, engine="gpu")
    with pytest.raises(InputError, match="precision"):
        net.simulate(params, x, engine="jax", precision="float16")


def test_surrogate_shapes_and_gradient():
    import jax
    import jax.numpy as jnp

    from infodyn.network.surrogate import pseudo_derivative, spike

    u = jnp.linspace(-2, 2, 9)
    tri = pseudo_derivative("triangle", u, 0.3, 0.5)
    np.testing.assert_allclose(tri, 0.3 / 0.5 * np.maximum(0, 1 - np.abs(np.asarray(u))))
    for shape in ("fast_sigmoid", "arctan", "exponential"):
        psi = np.asarray(pseudo_derivative(shape, u, 0.3, 0.5))
        assert psi.argmax() == 4 and np.all(psi > 0)
    # dz/dv = psi through the custom JVP: z = spike((v - A) / v_th)
    v_th = 0.5
    grad = jax.vmap(jax.grad(lambda v: spike("triangle", (v - 1.0) / v_th, 0.3, v_th)))(
        1.0 + u * v_th
    )
    np.testing.assert_allclose(grad, tri, atol=1e-12)
