"""Loss values against NumPy references on simulated trajectories; learning signals by hand."""

import jax.numpy as jnp
import numpy as np
import pytest

import infodyn as idn
from infodyn.errors import InputError
from infodyn.learning import (
    FiringRateRegularizer,
    MeanSquaredError,
    PopulationRateDeviation,
    PopulationRateVariance,
    SoftmaxCrossEntropy,
    UnitRateTarget,
    as_loss,
    build_loss,
    evaluate,
)


def test_every_term_matches_a_numpy_reference():
    net = idn.network.LIF(n_in=5, n_rec=12, n_out=2, in_scale=3.0, rec_scale=1.5, dt=0.5)
    params = net.init(seed=3)
    rng = np.random.default_rng(1)
    batch, steps = 2, 70
    x = (rng.random((batch, steps, 5)) < 0.2).astype(float)
    tgt = rng.random((batch, steps, 2))
    loss = (
        MeanSquaredError(weight=0.7)
        + SoftmaxCrossEntropy(weight=0.3)
        + UnitRateTarget(weight=1e-3, r0_hz=20.0)
        + FiringRateRegularizer(weight=2e-3)
        + PopulationRateVariance(weight=1e-5, s_target=50.0)
        + PopulationRateDeviation(weight=1e-4, r0_hz=30.0)
    )
    ev = evaluate(net, params, x, tgt, loss, method="bptt", precision="float64")
    tr = net.simulate(params, x, engine="jax", precision="float64")
    z, y, hz = tr.z, tr.y, 1000.0 / net.dt
    logp = y - np.log(np.exp(y).sum(-1, keepdims=True))
    rate_j = z.mean(axis=(0, 1)) * hz
    r_t = z.mean(axis=2) * hz  # (B, T)
    s = r_t.var(axis=1)
    ref = {
        "mse": 0.7 * 0.5 * np.mean(np.sum((y - tgt) ** 2, -1)),
        "xent": 0.3 * np.mean(np.sum(-tgt * logp, axis=(1, 2))),
        "unit_rate": 1e-3 * np.mean((rate_j - 20.0) ** 2),
        "rate_reg": 2e-3 * 0.5 * np.sum((rate_j - 10.0) ** 2),
        "rate_variance": 1e-5 * np.mean((s - 50.0) ** 2),
        "pop_rate_dev": 1e-4 * np.mean(0.5 * np.sum((r_t - 30.0) ** 2, axis=1)),
    }
    assert z.mean() > 0.02
    assert ev.terms == pytest.approx(ref, rel=1e-10)
    assert ev.loss == pytest.approx(sum(ref.values()), rel=1e-10)


def test_variance_signal_is_the_push_pull_form():
    """dE/dz_j[t] = 2b (s - s_r) 2 (r_t - mu) / T * (1000/dt) / (N B) from the loss interface."""
    rng = np.random.default_rng(0)
    batch, steps, n, dt, b, s_r = 3, 40, 7, 1.0, 0.2, 30.0
    z = (rng.random((steps, batch, n)) < 0.1).astype(float)
    term = PopulationRateVariance(weight=b, s_target=s_r)
    loss = as_loss(term)
    stats = loss.zero_stats(jnp.asarray(z[0]), jnp.zeros((batch, 1)), None, dt)
    for t in range(steps):
        inc = loss.step_stats(jnp.asarray(z[t]), jnp.zeros((batch, 1)), None, dt)
        stats = tuple(
            tuple(a + c for a, c in zip(sa, sc, strict=True))
            for sa, sc in zip(stats, inc, strict=True)
        )
    import jax

    cot = jax.grad(lambda st: loss.total(st, steps, dt))(stats)
    r = z.mean(axis=2) * 1000.0 / dt  # (T, B)
    mu, s = r.mean(axis=0), r.var(axis=0)
    for t in (0, 17, 39):
        lz, ly = loss.signal(cot, jnp.asarray(z[t]), jnp.zeros((batch, 1)), None, dt)
        expect = 2 * b * (s - s_r) * 2 * (r[t] - mu) / steps * 1000.0 / dt / (n * batch)
        np.testing.assert_allclose(np.asarray(lz), np.repeat(expect[:, None], n, 1), rtol=1e-10)
        assert np.all(np.asarray(ly) == 0)
    # push-pull: the sign follows (s - s_r) * (r_t - mu)
    assert np.sign(expect).tolist() == np.sign((s - s_r) * (r[39] - mu)).tolist()


def test_loss_composition_and_config_errors():
    loss = 2.0 * MeanSquaredError() + UnitRateTarget(r0_hz=3.0)
    assert [t.weight for t in loss.terms] == [2.0, 1.0]
    assert loss.names() == ["mse", "unit_rate"]
    assert not loss.online and loss.uses_output
    assert (MeanSquaredError() + MeanSquaredError()).names() == ["mse", "mse_2"]
    total = sum([UnitRateTarget(), MeanSquaredError(weight=0.5)])
    assert total.names() == ["unit_rate", "mse"] and total.terms[1].weight == 0.5
    built = build_loss([{"kind": "rate_variance", "weight": 0.5, "s_target": 4.0}])
    assert built.terms[0] == PopulationRateVariance(weight=0.5, s_target=4.0)
    from infodyn.learning.info_objectives import InfoMaxBound, TotalCorrelationPenalty

    info = build_loss(
        [{"kind": "infomax"}, {"kind": "total_correlation", "estimator": "pairwise", "weight": 0.1}]
    )
    assert info.terms == (InfoMaxBound(), TotalCorrelationPenalty(estimator="pairwise", weight=0.1))
    with pytest.raises(InputError, match="no option 'r0'"):
        build_loss([{"kind": "unit_rate", "r0": 5.0}])
    with pytest.raises(InputError, match="unknown loss"):
        as_loss("hinge")
    # a config's kinds whose API form is an object: "unknown loss", the README naming them
    with pytest.raises(InputError, match=r"'infomax' is a kind of a config's .* InfoMaxBound\(\)"):
        as_loss("infomax")
    from infodyn.learning.losses import CONFIG_ONLY, NAMED
    from infodyn.learning.registry import config_kinds

    kinds = config_kinds()  # the names as_loss points to objects are the config's other kinds
    assert set(CONFIG_ONLY) == set(kinds) - set(NAMED)
    assert all(CONFIG_ONLY[k] == f"{kinds[k].__name__}()" for k in CONFIG_ONLY)
    with pytest.raises(InputError, match=r"pass TotalCorrelationPenalty\(\) \(infodyn.learning\)"):
        as_loss(["mse", "total_correlation"])


@pytest.mark.parametrize(
    "entry,message",
    [
        ({"kind": "mse", "weight": -1.0}, "weight of loss term 'mse' must be >= 0"),
        ({"kind": "rate_reg", "f_target_hz": -10.0}, "rate_reg.f_target_hz must be a rate >= 0"),
        ({"kind": "unit_rate", "r0_hz": -1.0}, "unit_rate.r0_hz must be a rate >= 0"),
        ({"kind": "pop_rate_dev", "r0_hz": -1.0}, "r0_hz must be a rate >= 0"),
        ({"kind": "rate_variance", "s_target": -1.0}, "s_target must be a variance >= 0"),
    ],
)
def test_a_negative_weight_or_target_rate_is_refused(entry, message):
    # the first maximised the error, the others set rates no unit can reach; all trained
    with pytest.raises(InputError, match=message):
        build_loss([entry])
    with pytest.raises(InputError, match="must be >= 0"):
        -1.0 * UnitRateTarget()
    with pytest.raises(InputError, match="scaled by a number, got .a."):  # a bare ValueError
        UnitRateTarget() * "a"


def test_negative_class_weights_are_refused():
    # a target row [3, -2.9] made xent unbounded below (evaluate gave -82)
    import jax.numpy as jnp

    loss = build_loss([{"kind": "xent"}])
    target = jnp.zeros((1, 5, 2)).at[0, 4].set(jnp.array([3.0, -2.9]))
    with pytest.raises(InputError, match="negative class weights .down to -2.9."):
        loss.check_target(target)


def test_gradients_input_errors():
    net = idn.network.LIF(n_in=3, n_rec=4, n_out=1)
    p = net.init(0)
    x = np.zeros((10, 3))
    with pytest.raises(InputError, match="method"):
        idn.learning.gradients(net, p, x, np.zeros((10, 1)), method="rtrl")
    with pytest.raises(InputError, match="target must have shape"):
        idn.learning.gradients(net, p, x, np.zeros((9, 1)))
    with pytest.raises(InputError, match="needs a target"):
        idn.learning.gradients(net, p, x, None, "mse")
    with pytest.raises(InputError, match="feedback_matrix must have shape"):
        idn.learning.gradients(
            net, p, x, np.zeros((10, 1)), feedback="random", feedback_matrix=np.zeros((3, 1))
        )


def test_per_sequence_rate_regularizer_matches_numpy(loss_value):
    """per_sequence=True: E = c/2 mean_b sum_j (f_bj - f*)^2 with each sequence's own rates
    (differs from the pooled E = c/2 sum_j (fbar_j - f*)^2 for B > 1)."""
    rng = np.random.default_rng(4)
    z = (rng.random((3, 50, 4)) < rng.uniform(0.02, 0.3, (3, 1, 4))).astype(np.float64)
    dt, c, f0 = 0.5, 2e-3, 30.0
    f_b = z.mean(axis=1) * 1000.0 / dt  # (B, n) rates in Hz
    per_seq = c / 2 * np.mean(np.sum((f_b - f0) ** 2, axis=1))
    pooled = c / 2 * np.sum((f_b.mean(axis=0) - f0) ** 2)
    assert abs(per_seq - pooled) > 1e-3 * per_seq  # the two readings differ here
    got = loss_value(FiringRateRegularizer(weight=c, f_target_hz=f0, per_sequence=True), z, dt=dt)
    assert got == pytest.approx(per_seq, rel=1e-10)
    got = loss_value(FiringRateRegularizer(weight=c, f_target_hz=f0), z, dt=dt)
    assert got == pytest.approx(pooled, rel=1e-10)


def test_scaling_and_prepending_keep_weights_and_order():
    """``a * term`` multiplies the term's own weight; ``a * (t1 + t2)`` each weight; a name on
    the left of ``+`` comes first."""
    assert (3.0 * MeanSquaredError(weight=0.5)).weight == pytest.approx(1.5)
    assert (UnitRateTarget(weight=0.2) * 4).weight == pytest.approx(0.8)
    both = 2.0 * (MeanSquaredError(weight=0.5) + UnitRateTarget(weight=0.1))
    assert [t.weight for t in both.terms] == pytest.approx([1.0, 0.2])
    assert ("mse" + as_loss(UnitRateTarget())).names() == ["mse", "unit_rate"]


@pytest.mark.parametrize("entries", ["unit_rate", None, {"kind": "mse"}, [None], ["mse"]])
def test_build_loss_refuses_what_is_not_a_list_of_tables(entries):
    """A name, None or a bare table were raw ValueError and TypeError."""
    with pytest.raises(InputError, match="list of tables|must be a table"):
        build_loss(entries)
