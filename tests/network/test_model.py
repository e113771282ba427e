"""Network config validation, weight initialisation, constraints and determinism."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import infodyn as idn
from infodyn import InputError
from infodyn.network import SparseWeights
from infodyn.network.dynamics import Constants
from infodyn.network.surrogate import pseudo_derivative, spike


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


@pytest.mark.parametrize("model", ["lif", "alif"])
def test_section_rebuilds_the_network(model):
    """``net.section()`` is the ``[network]`` table that builds the same network again."""
    from infodyn.experiments.config import build_network

    cls = idn.network.ALIF if model == "alif" else idn.network.LIF
    net = cls(n_in=3, n_rec=20, connectivity="sparse", k_in=4, tau_m=12.0)
    section = net.section()
    assert section["model"] == model
    assert build_network(section) == net


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


@pytest.mark.parametrize("connectivity", ["ei", "sparse"])
def test_constrain_refuses_a_mask_that_is_not_0_and_1_in_the_weights_shape(connectivity):
    # a mask of 0.5 halved every weight, a (3,) mask broadcast or failed inside JAX
    weights = "sparse" if connectivity == "sparse" else "dense"
    density = {"p_connect": 0.5} if connectivity == "sparse" else {}
    net = idn.network.LIF(n_rec=20, connectivity=connectivity, weights=weights, **density)
    params = net.init(seed=1)
    w = params["w_rec"]
    shape = (w.nnz,) if connectivity == "sparse" else (20, 20)
    with pytest.raises(InputError, match="0 .no synapse. and 1 .synapse. only"):
        net.constrain(params, np.full(shape, 0.5))
    with pytest.raises(InputError, match=r"mask must have shape"):
        net.constrain(params, np.ones(3))
    with pytest.raises(InputError, match="mask must hold numbers"):
        net.constrain(params, np.full(shape, "1"))
    kept = net.constrain(params, np.ones(shape))["w_rec"]
    dense = kept.to_dense() if connectivity == "sparse" else kept
    before = w.to_dense() if connectivity == "sparse" else w
    np.testing.assert_array_equal(np.asarray(dense), np.asarray(before))


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


def test_surrogate_shapes_match_their_formulas():
    """psi of each shape against the module docstring's formula (gamma .3, v_th .5)."""

    u = np.array([-1.5, -0.5, 0.0, 0.25, 2.0])
    g = 0.3 / 0.5
    expected = {
        "fast_sigmoid": g / (1 + np.abs(u)) ** 2,
        "arctan": g / (1 + (np.pi * u) ** 2),
        "exponential": g * np.exp(-np.abs(u)),
    }
    for shape, want in expected.items():
        got = np.asarray(pseudo_derivative(shape, jnp.asarray(u), 0.3, 0.5))
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=shape)


def test_spike_under_differentiation_is_strict_too():
    """The JVP's primal is H(u) with H(0) = 0 (as without differentiation); its tangent at
    u = 0 is psi(0) v_th = gamma = .3 (triangle)."""

    f = lambda u: spike("triangle", u, 0.3, 0.5)  # noqa: E731
    out, tangent = jax.jvp(f, (jnp.asarray(0.0),), (jnp.asarray(1.0),))
    assert float(out) == 0.0 and float(tangent) == pytest.approx(0.3)
    assert float(jax.jvp(f, (jnp.asarray(1e-9),), (jnp.asarray(1.0),))[0]) == 1.0


def test_default_gamma_is_the_documented_0_3():
    assert Constants.of(idn.network.LIF()).gamma == 0.3


@pytest.mark.parametrize(
    "bad", [dict(dt=0.0), dict(dt=-1.0), dict(n_ref=-1), dict(n_ref=2**24 + 1)]
)
def test_zero_dt_and_negative_or_huge_refractory_period_are_refused(bad):
    """Above 2^24 steps the JAX engine's float32 count-down rounds (r - 1 == r from 2^25 on:
    a unit never left its refractory period)."""
    with pytest.raises(InputError, match="invalid LIF config"):
        idn.network.LIF(**bad)


def test_every_unit_may_be_adaptive_and_k_in_may_reach_every_other_unit():
    net = idn.network.ALIF(n_rec=10, n_alif=10, beta_a=0.1)
    np.testing.assert_array_equal(net.beta_vector(), np.full(10, 0.1))
    w = idn.network.LIF(n_rec=5, connectivity="sparse", k_in=4).init(seed=0)["w_rec"].to_dense()
    np.testing.assert_array_equal(np.count_nonzero(w, axis=0), [4] * 5)
    assert np.all(np.diag(w) == 0)


def test_n_exc_is_the_nearest_whole_number_of_units():
    net = idn.network.LIF(n_rec=7, connectivity="ei")  # 0.8 * 7 = 5.6
    assert net.n_exc == 6
    np.testing.assert_array_equal(net.unit_signs(), [1, 1, 1, 1, 1, 1, -1])


def test_auto_storage_is_sparse_only_above_4096_units():
    """``"auto"``: sparse for a sparse/E-I network of *more than* 4096 units."""
    assert not idn.network.LIF(n_rec=4096, connectivity="sparse", p_connect=0.1).sparse_weights
    assert idn.network.LIF(n_rec=4097, connectivity="sparse", p_connect=0.1).sparse_weights


def test_init_refuses_other_precisions():
    with pytest.raises(InputError, match="precision"):
        idn.network.LIF(n_in=2, n_rec=3).init(seed=0, precision="float16")


def test_validate_params_refuses_a_sparse_readout():
    net = idn.network.LIF(n_in=2, n_rec=3, n_out=3)
    params = net.init(seed=0)
    bad = {**params, "w_out": SparseWeights.from_dense(np.eye(3))}
    with pytest.raises(InputError, match=r"w_out'\] must be a dense array"):
        net.validate_params(bad)


def test_initial_weight_scales():
    """Standard deviations of the draws (init docstring, module docstring): w_in
    in_scale v_th / sqrt(n_in), w_out out_scale / sqrt(n_rec), w_rec rec_scale v_th /
    sqrt(p n_rec) for its present synapses (dense: p = 1)."""
    n, v_th = 400, 0.03
    dense = idn.network.LIF(n_in=400, n_rec=n, n_out=50, v_th=v_th, in_scale=2.0).init(seed=0)
    assert dense["w_in"].std() == pytest.approx(2.0 * v_th / 20.0, rel=0.03)
    assert dense["w_out"].std() == pytest.approx(1.0 / 20.0, rel=0.03)
    off = dense["w_rec"][~np.eye(n, dtype=bool)]
    assert off.std() == pytest.approx(v_th / 20.0, rel=0.03)
    sparse = idn.network.LIF(
        n_in=4, n_rec=n, v_th=v_th, connectivity="sparse", p_connect=0.1, weights="dense"
    ).init(seed=0)["w_rec"]
    present = sparse[sparse != 0]
    assert present.std() == pytest.approx(v_th / math.sqrt(0.1 * n), rel=0.05)


def test_one_minus_alpha_input_weights_compensate_the_scaling():
    """With s_in = 1 - alpha the drawn w_in is divided by 1 - alpha, so that one input spike
    still moves v by about in_scale v_th / sqrt(n_in): s_in w_in equals the plain draw."""
    kw = dict(n_in=5, n_rec=6, tau_m=20.0)
    plain = idn.network.LIF(**kw).init(seed=3)
    scaled_net = idn.network.LIF(input_scaling="one_minus_alpha", **kw)
    scaled = scaled_net.init(seed=3)
    np.testing.assert_allclose(scaled["w_in"] * scaled_net.input_scale, plain["w_in"], rtol=1e-12)


def test_dense_ei_magnitudes_are_divided_by_the_mean_fan_in():
    """Dense E/I draw: lognormal(mu, sigma) x rec_scale v_th / mean fan-in, so the mean input a
    unit receives does not grow with n. n = 400: fan-in of an E unit 320 p_ee + 80 p_ie =
    76.64, of an I unit 320 p_ei + 80 p_ii = 105.52; mean 82.416."""
    net = idn.network.LIF(n_rec=400, connectivity="ei", v_th=0.03)
    w = net.init(seed=0)["w_rec"]
    exc = w[: net.n_exc][w[: net.n_exc] != 0]
    expected = math.exp(-0.64 + 0.5**2 / 2) * 0.03 / 82.416
    assert exc.mean() == pytest.approx(expected, rel=0.03)


def test_constrain_takes_a_mask_traced_by_jit():
    # the mask's check read its values: a TracerArrayConversionError under jax.jit
    net = idn.network.LIF(n_rec=12, connectivity="ei")
    params = net.init(seed=1)
    mask = (np.asarray(params["w_rec"]) != 0).astype(float)
    traced = jax.jit(lambda p, m: net.constrain(p, m)["w_rec"])(params, jnp.asarray(mask))
    np.testing.assert_allclose(traced, net.constrain(params, mask)["w_rec"], rtol=1e-6)


@pytest.mark.parametrize("scaling", ["none", "one_minus_alpha"])
def test_private_inputs_are_one_synapse_a_unit_of_in_scale_v_th(scaling):
    """input_connectivity='private': w_in is the n x n diagonal SparseWeights, every weight
    in_scale v_th (divided by 1 - alpha with that input scaling, so that an input spike moves v
    by in_scale v_th either way); n_in defaults to n_rec."""
    net = idn.network.LIF(
        n_rec=50, input_connectivity="private", in_scale=0.3, v_th=2.0, input_scaling=scaling
    )
    assert net.n_in == 50
    w_in = net.init(seed=0)["w_in"]
    assert isinstance(w_in, SparseWeights) and w_in.nnz == 50
    np.testing.assert_array_equal(w_in.indices, np.arange(50))
    np.testing.assert_allclose(w_in.to_dense() * net.input_scale, 0.6 * np.eye(50), rtol=1e-12)
    with pytest.raises(InputError, match="n_in must equal n_rec, got n_in = 40 and n_rec = 50"):
        idn.network.LIF(n_in=40, n_rec=50, input_connectivity="private")


def test_private_inputs_of_a_million_units_draw_in_o_n_memory():
    """A dense w_in of 10^6 x 10^6 would be 16 TB: the weights' check counts the diagonal."""
    net = idn.network.LIF(
        n_rec=10**6, n_out=0, input_connectivity="private", connectivity="sparse", k_in=1
    )
    params = net.init(seed=0, precision="float32")
    assert params["w_in"].nnz == 10**6 and params["w_rec"].nnz == 10**6
    with pytest.raises(InputError, match="input_connectivity='private'"):  # the advice
        idn.network.LIF(n_in=10**6, n_rec=10**6, n_out=0, connectivity="sparse", k_in=1).init()


def test_ei_sigma_zero_gives_brunels_two_weights():
    """ei_sigma = 0: every E magnitude exp(ei_mu) rec_scale v_th / K, every I one inh_factor
    times that, negative (Brunel 2000's J and -g J)."""
    net = idn.network.LIF(
        n_rec=500, connectivity="ei", k_in=100, ei_mu=0.0, ei_sigma=0.0, rec_scale=5.0,
        inh_factor=8.0, v_th=1.0,
    )  # fmt: skip
    w = net.init(seed=2)["w_rec"]
    np.testing.assert_allclose(np.unique(w.values), [-0.4, 0.05], rtol=1e-12)
    assert np.all(w.values[: w.indptr[net.n_exc]] == 0.05)


@pytest.mark.parametrize("connectivity", ["ei_dense", "ei_sparse"])
def test_constrain_keeps_numpy_weights_numpy_in_their_dtype(connectivity):
    """net.init's float64 weights came back float32 (JAX arrays) from constrain unless JAX's
    64-bit mode happened to be on: a float64 simulation after it differed by ~3e-9."""
    from infodyn.network import LIF, SparseWeights

    kw = {"k_in": 10} if connectivity == "ei_sparse" else {}
    net = LIF(n_in=4, n_rec=50, connectivity="ei", **kw)
    p = net.init(seed=0)
    w = net.constrain(p)["w_rec"]
    values = w.values if isinstance(w, SparseWeights) else w
    before = p["w_rec"].values if isinstance(w, SparseWeights) else p["w_rec"]
    assert isinstance(values, np.ndarray) and values.dtype == np.float64
    np.testing.assert_array_equal(values, before)  # init's weights obey the constraints
    p32 = net.init(seed=0, precision="float32")
    w32 = net.constrain(p32)["w_rec"]
    assert (w32.values if isinstance(w32, SparseWeights) else w32).dtype == np.float32
