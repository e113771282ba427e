"""Training checkpoints (infodyn.learning.checkpoint): every part round-trips, hook states keep
their leaf types, and a damaged file or one of another trainer is one InputError naming it."""

import jax.numpy as jnp
import numpy as np
import pytest

import infodyn as idn
from infodyn.errors import InputError
from infodyn.learning import UnitRateTarget
from infodyn.learning.checkpoint import TrainState, load_checkpoint, save_checkpoint
from infodyn.learning.hooks import metric_hook
from infodyn.learning.tasks import PatternGeneration, RateTask
from infodyn.learning.trainer import Trainer, TrainOptions


def test_every_part_round_trips(tmp_path):
    import optax

    params = {"w": jnp.arange(6.0).reshape(2, 3)}
    opt = optax.adam(1e-2)
    hooks = ({"count": 3, "x": np.array([1.5, 2.5])}, (jnp.ones(2), 0.25))
    state = TrainState(
        params=params,
        opt_state=opt.init(params),
        feedback=np.eye(2),
        iteration=7,
        history=[{"iteration": i, "loss": 1.0 / i} for i in range(1, 9)],  # one row too many
        hook_states=hooks,
        stop=True,
    )
    path = save_checkpoint(tmp_path / "checkpoint.npz", state, {"lr": 1e-2})

    def init_hooks(p):  # fresh states of the same structure: the stored ones replace them
        return ({"count": 0, "x": np.zeros(2)}, (jnp.zeros(2), 0.0))

    back = load_checkpoint(path, ["w"], opt, init_hooks, jnp.asarray)
    np.testing.assert_array_equal(back.params["w"], params["w"])
    for got, want in zip(_leaves(back.opt_state), _leaves(state.opt_state), strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(back.feedback, np.eye(2))
    assert back.iteration == 7 and back.stop is True
    assert [r["iteration"] for r in back.history] == list(range(1, 8))
    (count_x, pair) = back.hook_states
    assert count_x["count"] == 3 and type(count_x["count"]) is int
    np.testing.assert_array_equal(count_x["x"], [1.5, 2.5])
    assert isinstance(pair[1], float) and pair[1] == 0.25


def _leaves(tree):
    import jax

    return jax.tree_util.tree_leaves(tree)


def _tiny_trainer_checkpoint(tmp_path):
    """A 4-unit trainer and the checkpoint it saved in ``tmp_path``."""
    from infodyn.learning.tasks import PatternGeneration
    from infodyn.network import LIF

    net = LIF(n_in=2, n_rec=4, n_out=1)
    trainer = Trainer(net, PatternGeneration(n_in=2, n_steps=10), "mse", TrainOptions())
    ck = tmp_path / "checkpoint.npz"
    trainer.save_checkpoint(ck)
    return trainer, ck


def test_corrupt_checkpoint_is_an_input_error(tmp_path):
    trainer, ck = _tiny_trainer_checkpoint(tmp_path)
    ck.write_bytes(ck.read_bytes()[:50])
    with pytest.raises(InputError, match="checkpoint.npz: cannot read this checkpoint"):
        trainer.load_checkpoint(ck)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"iteration": np.array([1, 2])}, "'iteration' must be one whole number"),
        ({"iteration": np.array(-5)}, "'iteration' must be one whole number"),
        ({"opt_0": np.zeros(7)}, "optimizer state opt_0 has shape .7,."),
    ],
)
def test_damaged_checkpoint_fields_are_input_errors(change, message, tmp_path):
    # each crashed a resume (TypeError, or a ValueError deep in the optimizer update)
    trainer, ck = _tiny_trainer_checkpoint(tmp_path)
    data = dict(np.load(ck))
    data.update(change)
    np.savez(ck, **data)
    with pytest.raises(InputError, match=message):
        trainer.load_checkpoint(ck)


def test_damaged_metrics_file_is_an_input_error(tmp_path):
    trainer, _ = _tiny_trainer_checkpoint(tmp_path)
    (tmp_path / "metrics.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="metrics.json: not a list of rows"):
        trainer.load_checkpoint(tmp_path / "checkpoint.npz")


def _trainer(**opts):
    net = idn.network.LIF(n_in=2, n_rec=4, n_out=1)
    return Trainer(net, PatternGeneration(n_in=2, n_steps=10), "mse", TrainOptions(**opts))


def test_optimizer_with_fewer_parts_is_refused_without_stored_options(tmp_path):
    """A checkpoint without stored options (older runs): Adam's leaves do not fit plain SGD."""
    adam = _trainer()
    ck = save_checkpoint(tmp_path / "checkpoint.npz", adam.state, {})
    with pytest.raises(InputError, match="more parts"):
        _trainer(optimizer="sgd").load_checkpoint(ck)
    # and the other way: plain SGD's state (none) under momentum was "corrupt (KeyError)"
    ck = save_checkpoint(tmp_path / "sgd.npz", _trainer(optimizer="sgd").state, {})
    with pytest.raises(InputError, match=r"fewer parts \(0\).*optimizer it was trained with"):
        _trainer(optimizer="sgd", momentum=0.9).load_checkpoint(ck)
    # one of Adam's parts deleted (not the last): a damaged file, not another optimizer's
    with np.load(ck := save_checkpoint(tmp_path / "adam.npz", adam.state, {})) as data:
        arrays = {k: data[k] for k in data.files if k != "opt_1"}
    np.savez(tmp_path / "damaged.npz", **arrays)
    with pytest.raises(InputError, match=r"optimizer state opt_1 is missing; restore it"):
        _trainer().load_checkpoint(tmp_path / "damaged.npz")


def test_non_finite_optimizer_state_and_feedback_are_refused(tmp_path):
    tr = _trainer(feedback="random")
    ck = tr.save_checkpoint(tmp_path / "checkpoint.npz")
    data = dict(np.load(ck))
    first_float = next(
        k
        for k in sorted(data, key=lambda s: (len(s), s))
        if k.startswith("opt_") and data[k].dtype.kind == "f"
    )
    bad = {**data, first_float: np.full_like(data[first_float], np.nan)}
    np.savez(ck, **bad)
    with pytest.raises(InputError, match="NaN or inf"):
        tr.load_checkpoint(ck)
    np.savez(ck, **{**data, "feedback": np.full_like(data["feedback"], np.inf)})
    with pytest.raises(InputError, match="feedback matrix"):
        tr.load_checkpoint(ck)


def test_non_finite_weights_are_refused_naming_the_file(tmp_path):
    """Dense and sparse weights: the message named the Python dict, not the file."""
    dense = _trainer()
    sparse_net = idn.network.LIF(n_in=2, n_rec=30, n_out=1, connectivity="sparse", k_in=3)
    task = PatternGeneration(n_in=2, n_steps=10)
    sparse = Trainer(sparse_net, task, "mse", TrainOptions())
    for tr, key in ((dense, "param_w_in"), (sparse, "param_w_rec.values")):
        ck = tr.save_checkpoint(tmp_path / "checkpoint.npz")
        data = dict(np.load(ck))
        data[key] = data[key].copy()
        data[key].flat[0] = np.nan
        np.savez(ck, **data)
        name = key.removeprefix("param_").removesuffix(".values")
        with pytest.raises(InputError) as err:
            tr.load_checkpoint(ck)
        assert str(err.value) == (
            f"{ck}: the weights {name} hold NaN or inf; restore it, or train afresh without "
            "--resume into another directory (a sweep point: delete its folder and run the sweep "
            "again)"
        )


def test_a_checkpoint_with_more_hook_states_is_refused(tmp_path):
    net = idn.network.LIF(n_in=6, n_rec=5, n_out=0, in_scale=3.0)
    task = RateTask(n_in=6, n_steps=40, rate_hz=30.0)
    hook = metric_hook("x", lambda i: 1.0)
    hooked = Trainer(net, task, UnitRateTarget(), TrainOptions(), hooks=(hook,))
    ck = hooked.save_checkpoint(tmp_path / "checkpoint.npz")
    with pytest.raises(InputError, match="more hooks"):
        Trainer(net, task, UnitRateTarget(), TrainOptions()).load_checkpoint(ck)


def test_a_checkpoint_trained_on_another_mask_is_refused(tmp_path):
    """A sparse graph stored dense takes its mask from net.init(seed): resuming under another
    seed zeroed trained synapses and grew new ones (85 of 117 in the review's case)."""
    net = idn.network.LIF(n_in=2, n_rec=20, n_out=1, connectivity="sparse", p_connect=0.3)
    task = PatternGeneration(n_in=2, n_steps=10)

    def trainer(seed):
        return Trainer(net, task, "mse", TrainOptions(seed=seed))

    first = trainer(0)
    assert first.mask is not None  # 20 units: the sparse draw is stored dense and masked
    ck = first.save_checkpoint(tmp_path / "checkpoint.npz")
    with pytest.raises(InputError, match="trained on another connectivity mask than this"):
        trainer(1).load_checkpoint(ck)
    same = trainer(0)
    same.load_checkpoint(ck)  # the same seed draws the same mask
    data = dict(np.load(ck))
    del data["mask"]  # written before the mask was stored: not checked
    np.savez(ck, **data)
    trainer(1).load_checkpoint(ck)


def test_a_sparse_checkpoint_of_another_pattern_or_breaking_dale_is_refused(tmp_path):
    """SparseWeights carry their pattern (no mask is stored): a checkpoint of another seed's
    graph, an edited pattern or a weight of the wrong sign was resumed without a word."""
    net = idn.network.ALIF(
        n_in=2, n_rec=30, n_out=1, connectivity="ei", k_in=6, weights="sparse", in_scale=2.0
    )
    task = PatternGeneration(n_in=2, n_steps=10)

    def trainer(seed):
        return Trainer(net, task, "mse", TrainOptions(seed=seed))

    first = trainer(0)
    assert first.mask is None and hasattr(first.state.params["w_rec"], "indptr")
    ck = first.save_checkpoint(tmp_path / "checkpoint.npz")
    trainer(0).load_checkpoint(ck)  # its own graph
    with pytest.raises(InputError, match="w_rec holds another synapse pattern than this trainer's"):
        trainer(1).load_checkpoint(ck)
    data = dict(np.load(ck))
    edited = dict(data)
    indices = edited["param_w_rec.indices"].copy()
    row = set(indices[:6].tolist())
    indices[5] = max(j for j in range(30) if j not in row and j != 0)  # one target moved
    edited["param_w_rec.indices"] = np.r_[np.sort(indices[:6]), indices[6:]]
    np.savez(ck, **edited)
    with pytest.raises(InputError, match="another synapse pattern"):
        trainer(0).load_checkpoint(ck)
    flipped = dict(data)
    values = flipped["param_w_rec.values"].copy()
    values[np.argmax(values)] *= -1  # an excitatory unit's synapse made inhibitory
    flipped["param_w_rec.values"] = values
    np.savez(ck, **flipped)
    with pytest.raises(InputError, match="1 synapses break Dale's law of this E/I network"):
        trainer(0).load_checkpoint(ck)
    unsorted = dict(data)
    indices = unsorted["param_w_rec.indices"].copy()
    indices[[0, 1]] = indices[[1, 0]]
    unsorted["param_w_rec.indices"] = indices
    np.savez(ck, **unsorted)
    with pytest.raises(InputError, match=f"^{ck}: param_w_rec: indices must ascend.*restore it"):
        trainer(0).load_checkpoint(ck)  # the file and what to do were not named


def test_a_checkpoint_of_another_graph_is_refused_and_other_dynamics_are_named(tmp_path):
    """A checkpoint keeps the network it was trained in: a resume into another graph (another
    k_in, or 'sparse' for 'ei', which dropped Dale's law) ran on without a word; another time
    constant or adaptation is allowed with a warning naming it; a checkpoint written before the
    network was stored is not checked."""
    import json
    import warnings

    task = PatternGeneration(n_in=3, n_steps=20)
    ei = {"n_in": 3, "n_rec": 30, "n_out": 1, "connectivity": "ei", "k_in": 10, "n_alif": 10}

    def trainer(**changes):
        return Trainer(idn.network.ALIF(**{**ei, **changes}), task, "mse", TrainOptions())

    ck = trainer().save_checkpoint(tmp_path / "checkpoint.npz")
    for changes, said in (
        ({"k_in": 8}, "k_in \\(10 -> 8\\)"),
        ({"connectivity": "sparse"}, "connectivity \\('ei' -> 'sparse'\\)"),
    ):
        with pytest.raises(InputError, match=f"trained in another network: .*{said}"):
            trainer(**changes).load_checkpoint(ck)
    with pytest.warns(UserWarning, match="n_alif \\(10 -> 5\\), tau_a \\(2000.0 -> 500.0\\)"):
        trainer(n_alif=5, tau_a=500.0).load_checkpoint(ck)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer().load_checkpoint(ck)  # the same network: no word
        data = dict(np.load(ck))
        stored = json.loads(str(data["network"]))
        del stored["tau_a"]  # a field a later version added: not recorded, not checked
        data["network"] = np.asarray(json.dumps(stored))
        np.savez(ck, **data)
        trainer(tau_a=500.0).load_checkpoint(ck)
        del data["network"]  # written before the network was stored: not checked, but
        np.savez(ck, **data)  # sparse weights carry their pattern, which is compared
        trainer(n_alif=5).load_checkpoint(ck)
        with pytest.raises(InputError, match="another synapse pattern"):
            trainer(k_in=8).load_checkpoint(ck)


def test_a_stop_flag_that_is_not_a_boolean_is_refused(tmp_path):
    """A 'stop' entry of text ('no') was read as true: the resumed fit did nothing, silently."""
    net = idn.network.LIF(n_in=2, n_rec=6, n_out=1)
    trainer = Trainer(net, PatternGeneration(n_in=2, n_steps=10), "mse", TrainOptions())
    ck = trainer.save_checkpoint(tmp_path / "checkpoint.npz")
    data = dict(np.load(ck))
    data["stop"] = np.asarray("no")
    np.savez(ck, **data)
    with pytest.raises(InputError, match="'stop' must be one boolean"):
        trainer.load_checkpoint(ck)
    with pytest.raises(InputError, match="out must be a folder path"):
        trainer.fit(1, out="")  # it wrote into the current folder


def test_stored_weights_of_another_shape_are_named_not_the_optimizer_state(tmp_path):
    """Weights of the wrong shape were blamed on the optimizer state ("opt_3 has shape (8, 8),
    this network's optimizer needs (3, 3)"), which was built from them."""
    net = idn.network.LIF(n_in=2, n_rec=6, n_out=1)
    trainer = Trainer(net, PatternGeneration(n_in=2, n_steps=10), "mse", TrainOptions())
    ck = trainer.save_checkpoint(tmp_path / "checkpoint.npz")
    data = dict(np.load(ck))
    data["param_w_rec"] = np.zeros((8, 8))
    np.savez(ck, **data)
    with pytest.raises(InputError, match="the stored weights do not fit this network: .*w_rec"):
        trainer.load_checkpoint(ck)


def test_a_checkpoint_with_another_w_in_storage_or_pattern_is_refused(tmp_path):
    """w_rec's storage and pattern were checked, w_in's not: a resume switched to the
    checkpoint's sparse w_in (another pattern, or under a dense one) without a word."""
    from infodyn.network import SparseWeights

    net = idn.network.LIF(n_in=4, n_rec=4, n_out=1)
    task = PatternGeneration(n_in=4, n_steps=10)

    def trainer(w_in):
        params = {**net.init(seed=0), "w_in": w_in}
        return Trainer(net, task, "mse", TrainOptions(seed=0), params=params)

    diagonal = SparseWeights.from_dense(np.eye(4) * 0.5)
    shifted = SparseWeights.from_dense(np.roll(np.eye(4), 1, axis=1) * 0.5)
    ck = trainer(diagonal).save_checkpoint(tmp_path / "checkpoint.npz")
    trainer(diagonal).load_checkpoint(ck)  # its own
    with pytest.raises(InputError, match="w_in holds another synapse pattern"):
        trainer(shifted).load_checkpoint(ck)
    with pytest.raises(InputError, match="their w_in is sparse but this trainer's is dense"):
        trainer(np.eye(4) * 0.5).load_checkpoint(ck)


def test_a_checkpoint_of_dense_inputs_is_refused_for_private_ones(tmp_path):
    """input_connectivity fixes w_in's graph: a resume into private inputs first warned that the
    weights meet 'new dynamics', then failed on w_in's storage."""
    task = PatternGeneration(n_in=12, n_steps=20)

    def trainer(**changes):
        net = idn.network.LIF(n_in=12, n_rec=12, n_out=1, **changes)
        return Trainer(net, task, "mse", TrainOptions())

    ck = trainer().save_checkpoint(tmp_path / "checkpoint.npz")
    with pytest.raises(InputError, match="input_connectivity \\('dense' -> 'private'\\)"):
        trainer(input_connectivity="private").load_checkpoint(ck)
