"""Learning on sparse recurrent weights: e-prop == BPTT-stopgrad, sparse == dense masked."""

import jax.numpy as jnp
import numpy as np
import pytest

import infodyn as idn
from infodyn.learning import (
    FiringRateRegularizer,
    MeanSquaredError,
    PopulationRateVariance,
    UnitRateTarget,
    evaluate,
)
from infodyn.network.sparse import SparseWeights


def _sparse_params(net, seed, p=0.4):
    """Dense init with about 60 % of the recurrent synapses removed, and its sparse twin."""
    params = net.init(seed=seed)
    rng = np.random.default_rng(seed + 100)
    w = params["w_rec"] * (rng.random(params["w_rec"].shape) < p) * 1.5 / np.sqrt(p)
    dense = {**params, "w_rec": w}
    return dense, {**params, "w_rec": SparseWeights.from_dense(w)}


LIF_ARGS = dict(n_in=5, n_rec=12, n_out=1, n_ref=2, rec_scale=2.0, in_scale=3.0)
NETS = {
    "lif": lambda: idn.network.LIF(**LIF_ARGS),
    "alif": lambda: idn.network.ALIF(
        n_in=5,
        n_rec=12,
        n_out=1,
        n_ref=1,
        rec_scale=2.0,
        in_scale=3.0,
        tau_a=60.0,
        beta_a=0.03,
        n_alif=6,
        surrogate="fast_sigmoid",
    ),
}
#: with input and readout scaling: at s = 1 a sparse w_in's e-prop term without it passed
SCALED = {
    **NETS,
    "lif_scaled": lambda: idn.network.LIF(
        **LIF_ARGS | dict(in_scale=90.0),  # 3 / s_in, s_in = 1 - alpha = 0.033
        input_scaling="one_minus_alpha",
        readout_scaling="one_minus_kappa",
    ),
}
LOSS = (
    MeanSquaredError()
    + FiringRateRegularizer(weight=1e-4, f_target_hz=10.0)
    + PopulationRateVariance(weight=1e-7, s_target=10.0)
)


@pytest.mark.parametrize("name", sorted(NETS))
def test_sparse_eprop_equals_stopgrad_bptt_and_dense_masked(name, max_rel, spike_input):
    """Refractory LIF / ALIF, readout filter by look-ahead, a two-pass loss; every method's
    sparse gradient is a SparseWeights of the same pattern equal to the dense one at it (full
    BPTT, the slowest to compile, on LIF only)."""
    net = NETS[name]()
    dense, sparse = _sparse_params(net, seed=1)
    w = sparse["w_rec"]
    x, tgt = spike_input(net.n_in, net.n_out, steps=90, batch=2)
    ev = {}
    for method in ("eprop", "bptt_stopgrad") + (("bptt",) if name == "lif" else ()):
        d = evaluate(net, dense, x, tgt, LOSS, method=method, precision="float64")
        s = evaluate(net, sparse, x, tgt, LOSS, method=method, precision="float64")
        g = s.grads["w_rec"]
        assert isinstance(g, SparseWeights) and w.same_pattern(g)
        np.testing.assert_array_equal(s.activity, d.activity)
        assert s.loss == pytest.approx(d.loss, rel=1e-12)
        assert max_rel(g.values, w.mask_dense(d.grads["w_rec"])) <= 1e-12, method
        for key in ("w_in", "w_out"):
            assert max_rel(s.grads[key], d.grads[key]) <= 1e-12, (method, key)
        ev[method] = s
    assert 0.02 < ev["eprop"].activity.mean() / net.n_rec < 0.5
    e, b = ev["eprop"].grads, ev["bptt_stopgrad"].grads
    assert np.max(np.abs(np.asarray(b["w_rec"].values))) > 0
    assert max_rel(e["w_rec"].values, b["w_rec"].values) <= 1e-10
    for key in ("w_in", "w_out"):
        assert max_rel(e[key], b[key]) <= 1e-10, key
    # negative control: full BPTT differs from e-prop on the recurrent weights
    if "bptt" in ev:
        assert max_rel(e["w_rec"].values, ev["bptt"].grads["w_rec"].values) > 1e-3


@pytest.mark.parametrize("name", sorted(NETS))
def test_sparse_online_windows_with_filtered_traces(name, max_rel, spike_input):
    """Online e-prop on sparse ``w_rec`` and ``w_in`` (carried per-synapse ``ebar`` and ALIF
    ``eps``, windows of 40 steps) sums to the one-window gradient (120 steps: it crosses the
    boundary of two ``SPARSE_CHUNK`` s of the per-synapse sums) and equals the dense windows."""
    from infodyn.learning.eprop import eprop_window, zero_carry
    from infodyn.learning.losses import as_loss
    from infodyn.network.dynamics import Constants

    net = NETS[name]()
    dense, sparse = _sparse_params(net, seed=4)
    x, tgt = spike_input(net.n_in, net.n_out, steps=120, batch=2)
    xt, tt = np.swapaxes(x, 0, 1), np.swapaxes(tgt, 0, 1)
    lossc, beta = as_loss("mse"), jnp.asarray(net.beta_vector(), jnp.float64)

    def run(params, start, stop, carry):
        p = {k: (v if isinstance(v, SparseWeights) else jnp.asarray(v)) for k, v in params.items()}
        return eprop_window(
            Constants.of(net),
            lossc,
            net.dt,
            net.n_adaptive,
            True,
            False,
            p,
            beta,
            p["w_out"],
            carry,
            xt[start:stop],
            tt[start:stop],
        )

    sparse["w_in"] = SparseWeights.from_dense(dense["w_in"] * (np.arange(net.n_rec) % 3 > 0))
    dense["w_in"] = sparse["w_in"].to_dense()
    out = {}
    for kind, params in (("dense", dense), ("sparse", sparse)):
        w, w_in = (params["w_rec"], params["w_in"]) if kind == "sparse" else (None, None)
        k0 = zero_carry(2, net.n_in, net.n_rec, 1, np.float64, net.n_adaptive, True, w, w_in)
        full = run(params, 0, 120, k0)[0]
        k, total = k0, None
        for start in (0, 40, 80):
            g, *_, k = run(params, start, start + 40, k)
            g = {key: np.asarray(getattr(v, "values", v)) * 40 / 120 for key, v in g.items()}
            total = g if total is None else {key: total[key] + g[key] for key in g}
        for key in full:
            assert max_rel(total[key], getattr(full[key], "values", full[key])) <= 1e-10
        out[kind] = total
    w = sparse["w_rec"]
    if net.n_adaptive:  # threshold traces per synapse onto an adaptive unit: O(nnz), not N^2
        assert k.eps_rec.shape == (2, int(np.sum(np.asarray(w.indices) >= 6)))
    assert k.ebar_rec.shape == (2, w.nnz)
    assert k.ebar_in.shape == (2, sparse["w_in"].nnz)  # per input synapse too
    assert max_rel(out["sparse"]["w_rec"], w.mask_dense(out["dense"]["w_rec"])) <= 1e-12
    g_in = sparse["w_in"].mask_dense(out["dense"]["w_in"])
    assert max_rel(out["sparse"]["w_in"], g_in) <= 1e-12


def test_sparse_alif_rate_losses_equal_stopgrad_bptt(alif_rate_case, max_rel):
    """The deck's rate and variance losses (no readout) on sparse ALIF, 130 steps (chunks)."""
    net, x, tgt, loss = alif_rate_case
    _, sparse = _sparse_params(net, seed=2, p=0.5)
    e = evaluate(net, sparse, x, tgt, loss, method="eprop", precision="float64")
    s = evaluate(net, sparse, x, tgt, loss, method="bptt_stopgrad", precision="float64")
    assert np.max(np.abs(np.asarray(s.grads["w_rec"].values))) > 0
    assert max_rel(e.grads["w_rec"].values, s.grads["w_rec"].values) <= 1e-10
    assert max_rel(e.grads["w_in"], s.grads["w_in"]) <= 1e-10


def test_sparse_gradient_of_autapse_in_the_pattern_is_zero(spike_input):
    net = NETS["lif"]()
    dense, _ = _sparse_params(net, seed=3)
    w = dense["w_rec"].copy()
    w[0, 0] = 0.1  # an autapse stored in the pattern: the model forbids it, no gradient
    sp = SparseWeights.from_dense(w)
    x, tgt = spike_input(net.n_in, net.n_out, steps=90, batch=2)
    g = evaluate(net, {**dense, "w_rec": sp}, x, tgt, "mse", precision="float64").grads["w_rec"]
    assert float(g.mask_dense(np.eye(net.n_rec)) @ np.abs(np.asarray(g.values))) == 0.0


def _xla_bytes(n, k_in=10, n_steps=60):
    """XLA buffer assignment (arguments + results + working buffers) of an online e-prop window
    on a sparse ALIF network (half adaptive, fixed in-degree ``k_in``, filtered traces carried:
    the largest per-synapse state), compiled, not run."""
    from infodyn.learning.eprop import eprop_window, zero_carry
    from infodyn.learning.losses import as_loss
    from infodyn.network.dynamics import Constants

    net = idn.network.ALIF(n_in=4, n_rec=n, n_out=1, n_alif=n // 2, beta_a=0.02)
    rng = np.random.default_rng(0)
    key = np.unique(rng.integers(0, n, n * k_in) * n + np.repeat(np.arange(n), k_in))
    w = SparseWeights.from_coo(key // n, key % n, rng.normal(0, 0.01, key.size), (n, n), np.float32)
    f32 = jnp.float32
    p = {
        "w_in": jnp.zeros((4, n), f32),
        "w_out": jnp.zeros((n, 1), f32),
        "w_rec": SparseWeights(
            jnp.asarray(w.values), jnp.asarray(w.indices), jnp.asarray(w.indptr), w.shape
        ),
    }
    lossc = as_loss(MeanSquaredError() + PopulationRateVariance(weight=1e-7))
    carry = zero_carry(1, 4, n, 1, f32, net.n_adaptive, True, w)
    x, tgt = jnp.zeros((n_steps, 1, 4), f32), jnp.zeros((n_steps, 1, 1), f32)
    args = (
        Constants.of(net),
        lossc,
        net.dt,
        net.n_adaptive,
        True,
        True,
        p,
        jnp.asarray(net.beta_vector(), f32),
        p["w_out"],
        carry,
        x,
        tgt,
    )
    mem = eprop_window.lower(*args).compile().memory_analysis()
    return mem.temp_size_in_bytes + mem.argument_size_in_bytes + mem.output_size_in_bytes


def test_sparse_eprop_memory_scales_with_nnz_not_n_squared():
    """N = 8000, K = 10: the whole compiled window (per-synapse eps and ebar carried, chunk
    stacks of per-unit state) needs < 15 % of one dense N x N float32 matrix (256 MB; the dense
    traces alone would be 1.5 of it), and doubling N at fixed K about doubles it (not 4x)."""
    small, large = _xla_bytes(4000), _xla_bytes(8000)
    print(f"XLA buffers: N=4000 {small / 1e6:.1f} MB, N=8000 {large / 1e6:.1f} MB")
    assert large < 0.15 * 8000**2 * 4
    assert large / small < 2.3


def test_sparse_trainer_matches_dense_and_resumes_exactly(tmp_path):
    """Adam + lr_scale + clipping + Dale's law on a sparse E/I network, e-prop updates every 70
    steps within 150-step sequences: the same weights as the dense run at the stored synapses,
    and a checkpointed run resumed == an uninterrupted one (the whole-sequence path is run by
    the CLI test below)."""
    online_window = 70
    from infodyn.learning.tasks import RateTask
    from infodyn.learning.trainer import Trainer, TrainOptions

    net = idn.network.LIF(
        n_in=10,
        n_rec=24,
        n_out=0,
        in_scale=3.0,
        connectivity="ei",
        rec_scale=2.0,
        surrogate="fast_sigmoid",
    )
    task = RateTask(n_in=10, n_steps=150, rate_hz=20.0)
    dense = net.init(seed=0)
    sparse = {**dense, "w_rec": SparseWeights.from_dense(dense["w_rec"])}
    loss = UnitRateTarget(r0_hz=10.0, weight=1e-3) + PopulationRateVariance(weight=1e-7)
    opts = TrainOptions(
        optimizer="adam",
        lr=2e-3,
        lr_scale={"w_rec": 0.5},
        clip_norm=5.0,
        batch_size=2,
        precision="float64",
        checkpoint_every=2,
        online_window=online_window,
    )

    def trainer(params):
        return Trainer(net, task, loss, opts, params=params)

    ref = trainer(dense)
    ref.fit(4)
    full = trainer(sparse)
    full.fit(4)
    part = trainer(sparse)
    part.fit(2, out=tmp_path)
    resumed = trainer(sparse)
    resumed.fit(4, out=tmp_path, resume=True)
    w, w_ref = full.state.params["w_rec"], np.asarray(ref.state.params["w_rec"])
    assert isinstance(w, SparseWeights) and w.same_pattern(sparse["w_rec"])
    assert isinstance(resumed.state.params["w_rec"], SparseWeights)
    np.testing.assert_array_equal(
        np.asarray(resumed.state.params["w_rec"].values), np.asarray(w.values)
    )
    for k in ("w_in", "w_out"):
        np.testing.assert_array_equal(
            np.asarray(resumed.state.params[k]), np.asarray(full.state.params[k])
        )
        np.testing.assert_allclose(
            np.asarray(full.state.params[k]), np.asarray(ref.state.params[k]), rtol=1e-9, atol=1e-12
        )
    np.testing.assert_allclose(w.to_dense(), w_ref, rtol=1e-9, atol=1e-12)
    assert not np.allclose(w.values, sparse["w_rec"].values)  # it learned
    signs = net.unit_signs()[w.pre_indices()]
    assert np.all(np.asarray(w.values) * signs >= 0)  # Dale's law on the values


def test_train_cli_trains_and_resumes_a_sparse_network(tmp_path):
    """``infodyn train`` with ``k_in`` and sparse storage: the checkpoint keeps the pattern
    (``param_w_rec.values/indices/indptr/shape``) and ``--resume`` continues from it."""
    from typer.testing import CliRunner

    from infodyn.cli import app

    cfg = tmp_path / "c.toml"
    text = (
        "[network]\nn_in = 8\nn_rec = 20\nn_out = 0\nin_scale = 3.0\n"
        'connectivity = "ei"\nk_in = 5\nweights = "sparse"\n'
        '[task]\nkind = "rate"\nn_steps = 60\n'
        '[[loss]]\nkind = "unit_rate"\nweight = 1e-3\n'
        "[training]\niterations = 2\ncheckpoint_every = 1\nlr = 1e-3\n"
    )
    cfg.write_text(text)
    out = tmp_path / "run"
    runner = CliRunner()
    res = runner.invoke(app, ["train", str(cfg), "--out", str(out)])
    assert res.exit_code == 0, res.output
    with np.load(out / "checkpoint.npz") as data:
        assert {"param_w_rec.values", "param_w_rec.indices", "param_w_rec.indptr"} <= set(data)
        assert data["param_w_rec.values"].shape == (20 * 5,)
        values2 = data["param_w_rec.values"].copy()
    cfg.write_text(text.replace("iterations = 2", "iterations = 3"))
    res = runner.invoke(app, ["train", str(cfg), "--out", str(out), "--resume"])
    assert res.exit_code == 0, res.output
    with np.load(out / "checkpoint.npz") as data:
        assert int(data["iteration"]) == 3
        assert not np.array_equal(data["param_w_rec.values"], values2)


def test_sparse_output_weights_are_refused_with_one_line(spike_input):
    net = NETS["lif"]()
    dense, sparse = _sparse_params(net, seed=1)
    x, tgt = spike_input(net.n_in, net.n_out, steps=90, batch=2)
    bad = {**sparse, "w_out": SparseWeights.from_dense(dense["w_out"])}
    with pytest.raises(idn.InputError, match=r"w_out.*dense"):
        evaluate(net, bad, x, tgt, "mse", precision="float64")


@pytest.mark.parametrize("name", sorted(SCALED))
def test_sparse_input_weights_learn_like_dense_masked(name, max_rel, spike_input):
    """Sparse ``w_in`` too (about half its entries absent), 130 steps (across a chunk of the
    event-driven sums): e-prop == BPTT-stopgrad, and both == the dense gradients at the pattern,
    for refractory LIF and ALIF (threshold traces per input synapse onto adaptive units), and
    for LIF with input and readout scaling."""
    net = SCALED[name]()
    dense, sparse = _sparse_params(net, seed=5)
    rng = np.random.default_rng(6)
    w_in = dense["w_in"] * (rng.random(dense["w_in"].shape) < 0.5) * 1.4
    dense["w_in"] = w_in
    sparse["w_in"] = SparseWeights.from_dense(w_in)
    x, tgt = spike_input(net.n_in, net.n_out, steps=130, batch=2)
    out = {}
    for method in ("eprop", "bptt_stopgrad"):
        d = evaluate(net, dense, x, tgt, LOSS, method=method, precision="float64")
        s = evaluate(net, sparse, x, tgt, LOSS, method=method, precision="float64")
        np.testing.assert_array_equal(s.activity, d.activity)
        for key in ("w_in", "w_rec"):
            g = s.grads[key]
            assert isinstance(g, SparseWeights) and sparse[key].same_pattern(g), key
            assert max_rel(g.values, sparse[key].mask_dense(d.grads[key])) <= 1e-12, (method, key)
        assert max_rel(s.grads["w_out"], d.grads["w_out"]) <= 1e-12
        out[method] = s.grads
    assert 0.02 < s.activity.mean() / net.n_rec < 0.5
    for key in ("w_in", "w_rec"):
        e, b = out["eprop"][key].values, out["bptt_stopgrad"][key].values
        assert np.max(np.abs(np.asarray(b))) > 0
        assert max_rel(e, b) <= 1e-10, key


def test_evaluate_checks_the_layout_it_is_given(spike_input):
    """A layout made for another pattern with the same synapse count (the transpose) would add
    the wrong rows silently: it is refused with one InputError, as are layouts of the wrong
    form; the right one, "auto" and None (the gather path) give the same spikes and gradient."""
    from infodyn import InputError
    from infodyn.learning.gradients import sparse_layout

    net = NETS["lif"]()
    dense, sparse = _sparse_params(net, seed=3)
    x, tgt = spike_input(net.n_in, net.n_out, steps=40, batch=1)
    other = {**sparse, "w_rec": SparseWeights.from_dense(np.asarray(dense["w_rec"]).T)}
    assert other["w_rec"].nnz == sparse["w_rec"].nnz
    assert not other["w_rec"].same_pattern(sparse["w_rec"])

    def run(layout):
        return evaluate(net, sparse, x, tgt, LOSS, precision="float64", layout=layout)

    with pytest.raises(InputError, match="another sparsity pattern"):
        run(sparse_layout(other))
    for bad, match in (
        ("off", "layout must be 'auto'"),
        (sparse_layout(sparse)[0], "pair"),
        ((np.zeros(3), None), "ByEvent plan or None"),
    ):
        with pytest.raises(InputError, match=match):
            run(bad)
    ref = run("auto")
    for layout in (sparse_layout(sparse), None):
        ev = run(layout)
        np.testing.assert_array_equal(ev.activity, ref.activity)
        np.testing.assert_allclose(ev.grads["w_rec"].values, ref.grads["w_rec"].values, rtol=1e-12)


def test_an_optax_loop_of_the_docs_steps_the_values_and_keeps_the_graph():
    """docs/scale.md's own-loop recipe: optax steps ``trainable_arrays`` (a sparse weight is its
    values) and ``with_trainable`` puts them back; an optax step of the whole tree rewired the
    graph (the integer leaves rounded to other units), which the engines refuse with a hint."""
    import optax

    from infodyn.errors import InputError
    from infodyn.learning import gradients, trainable_arrays, with_trainable

    net = idn.network.LIF(n_in=3, n_rec=40, n_out=1, connectivity="sparse", k_in=8)
    params = net.init(0)
    rng = np.random.default_rng(0)
    x = (rng.random((2, 30, 3)) < 0.3).astype(float)
    target = rng.normal(size=(2, 30, 1))
    opt = optax.adam(1e-2)
    state = opt.init(trainable_arrays(params))
    new = params
    for _ in range(2):
        grads = gradients(net, new, x, target, "mse")
        updates, state = opt.update(trainable_arrays(grads), state, trainable_arrays(new))
        new = with_trainable(new, optax.apply_updates(trainable_arrays(new), updates))
    assert new["w_rec"].same_pattern(params["w_rec"])
    assert not np.array_equal(np.asarray(new["w_rec"].values), params["w_rec"].values)
    net.simulate(new, x[0])
    sgd = optax.sgd(0.1)
    whole = optax.apply_updates(params, sgd.update(grads, sgd.init(params))[0])
    assert not whole["w_rec"].same_pattern(params["w_rec"])  # the trap the recipe avoids
    with pytest.raises(InputError, match="step only the values"):
        net.simulate(whole, x[0])
