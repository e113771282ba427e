"""Trainer hooks: metrics, early stop, the LIF adaptation view against a hand-written loop."""

import warnings

import numpy as np
import optax
import pytest

import infodyn as idn
from infodyn.errors import InputError
from infodyn.learning import UnitRateTarget
from infodyn.learning.adaptation import (
    LIFAdaptationConfig,
    adapted_input,
    adapted_network,
    init_lif_adaptation,
    lif_adaptation_update,
)
from infodyn.learning.gradients import evaluate
from infodyn.learning.hooks import (
    EarlyStoppingState,
    early_stopping,
    lif_adaptation_hook,
    metric_hook,
)
from infodyn.learning.tasks import RateTask
from infodyn.learning.trainer import Trainer, TrainOptions

NET = dict(n_in=6, n_rec=5, n_out=0, in_scale=3.0)
TASK = RateTask(n_in=6, n_steps=40, rate_hz=30.0)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_metric_hook_sees_the_iteration_and_adds_its_metric():
    net = idn.network.LIF(**NET)
    seen = []

    def spikes(info):
        seen.append(info.iteration)
        return float(info.activity.sum())

    tr = Trainer(
        net,
        TASK,
        UnitRateTarget(r0_hz=5.0),
        TrainOptions(precision="float64"),
        hooks=(metric_hook("spikes", spikes),),
    )
    hist = tr.fit(3)
    assert seen == [1, 2, 3]
    rates = [r["spikes"] / (40 * 5) * 1000.0 for r in hist]  # batch of 1, 40 steps, 5 units
    np.testing.assert_allclose(rates, [r["mean_rate_hz"] for r in hist])


@pytest.mark.parametrize("name", ["loss", "mean_rate_hz", "grad_norm", "seconds", "twice"])
def test_a_hook_metric_may_not_replace_one_of_the_record(name):
    # metric_hook("loss", ...) replaced the loss in the history, metrics.json and what
    # early_stopping("loss") watched, without a word
    net = idn.network.LIF(**NET)
    hooks = (metric_hook(name, lambda info: 5.0),)
    if name == "twice":  # another hook's metric of the same name
        hooks += (metric_hook(name, lambda info: 6.0),)
    tr = Trainer(net, TASK, UnitRateTarget(r0_hz=5.0), hooks=hooks)
    with pytest.raises(InputError, match=rf"a hook's metric \['{name}'\] would replace the"):
        tr.fit(1)


def test_early_stopping_stops_after_patience_without_improvement():
    hook = early_stopping("loss", patience=2)
    state = hook.init(None, {})
    outs = []
    for v in (3.0, 2.0, 2.5, 2.0, 1.0):
        info = type("Info", (), {"record": {"loss": v}})()
        out = hook.update(info, state)
        state = out.state
        outs.append(out.stop)
    # improvements at 3.0 and 2.0; 2.5 and 2.0 (no strict improvement) make two waits: stop
    assert outs == [False, False, False, True, False]
    assert state == EarlyStoppingState(best=1.0, wait=0)


def test_trainer_stops_when_a_hook_asks():
    net = idn.network.LIF(**NET)
    tr = Trainer(
        net,
        TASK,
        UnitRateTarget(r0_hz=5.0),
        TrainOptions(precision="float64"),
        hooks=(
            early_stopping("never_better", patience=3),
            metric_hook("never_better", lambda info: 1.0),
        ),
    )
    with pytest.raises(idn.InputError, match="never_better"):
        tr.fit(10)  # the metric comes after the early stop: its name is not yet recorded
    tr = Trainer(
        net,
        TASK,
        UnitRateTarget(r0_hz=5.0),
        TrainOptions(precision="float64"),
        hooks=(
            metric_hook("never_better", lambda info: 1.0),
            early_stopping("never_better", patience=3),
        ),
    )
    hist = tr.fit(10)
    assert len(hist) == 4 and tr.state.stop  # 1 improvement, then 3 iterations without


@pytest.mark.parametrize("n_ref", [0, 4])
def test_lif_adaptation_hook_matches_a_hand_written_loop(n_ref):
    """Gradients on the adapted network, w_in pulled back by the gains, state updated every
    2nd iteration from the spikes of the adapted network: the same as written out by hand
    (with the network's refractory period, which caps a window's count: the gain's target)."""
    net = idn.network.LIF(**{**NET, "n_ref": n_ref})
    cfg = LIFAdaptationConfig(target_rate_hz=10.0, window_ms=10.0)
    loss = UnitRateTarget(r0_hz=5.0, weight=1e-2)
    opts = TrainOptions(optimizer="sgd", lr=1e-2, precision="float64", clip_norm=None)
    tr = Trainer(
        net, TASK, loss, opts, hooks=(lif_adaptation_hook(cfg, every=2, precision="float64"),)
    )
    tr.fit(4)
    # by hand
    p = {k: np.asarray(v, dtype=np.float64) for k, v in net.init(seed=0).items()}
    st = init_lif_adaptation(net.n_rec)
    opt = optax.sgd(1e-2)
    ost = opt.init(p)
    for it in range(4):
        x, tgt = TASK.batch(np.random.default_rng([0, it]), 1)
        net_a, p_a = adapted_network(net, p, st)
        ev = evaluate(net_a, p_a, adapted_input(x, net), tgt, loss, precision="float64")
        g = {k: np.asarray(v) for k, v in ev.grads.items()}
        g["w_in"] = g["w_in"][:-1] * st["gain"][None, :]
        if it % 2 == 0:
            z = net_a.simulate(p_a, adapted_input(x, net), engine="jax", precision="float64").z
            st = lif_adaptation_update(st, z, net.dt, cfg, n_ref=n_ref)
        upd, ost = opt.update(g, ost, p)
        p = {k: np.asarray(v) for k, v in net.constrain(optax.apply_updates(p, upd)).items()}
    for k in p:
        np.testing.assert_allclose(np.asarray(tr.state.params[k]), p[k], rtol=1e-12, atol=1e-14)
    (hook_state,) = tr.state.hook_states
    assert int(hook_state["n_updates"]) == 2
    np.testing.assert_allclose(hook_state["theta"], st["theta"], rtol=1e-12)
    np.testing.assert_allclose(hook_state["gain"], st["gain"], rtol=1e-12)
    assert not np.allclose(st["theta"], 1.0)  # the adaptation did move
    assert not np.allclose(st["gain"], 1.0)


def test_lif_adaptation_hook_on_a_sparse_w_in_trains_as_its_dense_twin():
    """A sparse w_in crashed the hook ('SparseWeights' * array); it now gains per synapse and
    gets the bias row as synapses. With every synapse stored, runs equal the dense ones."""
    net = idn.network.LIF(**NET)
    dense = {k: np.asarray(v, np.float64) for k, v in net.init(seed=0).items()}
    dense["w_in"] = dense["w_in"] + 0.01  # every entry non-zero: the sparse pattern is full
    sparse = {**dense, "w_in": idn.network.SparseWeights.from_dense(dense["w_in"])}
    cfg = LIFAdaptationConfig(target_rate_hz=10.0, window_ms=10.0)
    loss = UnitRateTarget(r0_hz=5.0, weight=1e-2)
    opts = TrainOptions(optimizer="sgd", lr=1e-2, precision="float64", clip_norm=None)
    runs = []
    for params in (dense, sparse):
        hook = lif_adaptation_hook(cfg, every=1, precision="float64")
        tr = Trainer(net, TASK, loss, opts, params=params, hooks=(hook,))
        tr.fit(3)
        runs.append(tr.state)
    w_sparse = runs[1].params["w_in"]
    assert isinstance(w_sparse, idn.network.SparseWeights)
    assert w_sparse.shape == dense["w_in"].shape
    np.testing.assert_allclose(w_sparse.to_dense(), runs[0].params["w_in"], rtol=1e-10)
    np.testing.assert_allclose(runs[1].hook_states[0]["gain"], runs[0].hook_states[0]["gain"])
    assert not np.allclose(runs[0].params["w_in"], dense["w_in"])  # it did train


def test_a_view_hook_needs_whole_sequence_updates():
    net = idn.network.LIF(**NET)
    with pytest.raises(idn.InputError, match="online_window"):
        Trainer(
            net,
            TASK,
            UnitRateTarget(),
            TrainOptions(online_window=10),
            hooks=(lif_adaptation_hook(LIFAdaptationConfig()),),
        )


def _hooked_trainer(patience: int) -> Trainer:
    net = idn.network.LIF(**NET)
    cfg = LIFAdaptationConfig(target_rate_hz=10.0, window_ms=10.0)
    hooks = (
        lif_adaptation_hook(cfg, every=2, precision="float64"),
        metric_hook("flat", lambda info: 1.0),  # improves once, then never
        early_stopping("flat", patience=patience),
        early_stopping("loss", patience=50),
    )
    opts = TrainOptions(lr=1e-2, precision="float64", checkpoint_every=10**6)
    return Trainer(net, TASK, UnitRateTarget(r0_hz=5.0, weight=1e-2), opts, hooks=hooks)


def _without_seconds(history):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in history]


def _assert_same_state(a: Trainer, b: Trainer) -> None:
    for k in ("w_in", "w_rec", "w_out"):
        np.testing.assert_array_equal(np.asarray(a.state.params[k]), np.asarray(b.state.params[k]))
    assert _without_seconds(a.state.history) == _without_seconds(b.state.history)
    assert (a.state.iteration, a.state.stop) == (b.state.iteration, b.state.stop)
    (ad_a, _, es_a, loss_a), (ad_b, _, es_b, loss_b) = a.state.hook_states, b.state.hook_states
    assert es_a == es_b and loss_a == loss_b  # EarlyStoppingState: Python float and int
    assert type(es_b.best) is float and type(es_b.wait) is int
    assert ad_a.keys() == ad_b.keys()
    for k in ad_a:
        np.testing.assert_array_equal(ad_a[k], ad_b[k])
        assert np.asarray(ad_a[k]).dtype == np.asarray(ad_b[k]).dtype


@pytest.mark.parametrize("crash_at", [1, 3])
def test_resume_restores_hook_states_exactly(tmp_path, crash_at):
    """Training 6 iterations in one go == training ``crash_at``, a new trainer, resuming to 6:
    the same weights, history and hook states (the adaptation state and both early stops)."""
    full = _hooked_trainer(patience=10)
    full.fit(6)
    assert int(full.state.hook_states[0]["n_updates"]) == 3  # the adaptation did run
    part = _hooked_trainer(patience=10)
    part.fit(crash_at, out=tmp_path)
    resumed = _hooked_trainer(patience=10)
    resumed.fit(6, out=tmp_path, resume=True)
    _assert_same_state(full, resumed)


def test_resume_keeps_an_early_stop_where_it_was():
    """``flat`` improves at iteration 1 and never again: patience 3 stops after iteration 4,
    also when the run is resumed from iteration 2 (a fresh early-stop state would wait until
    iteration 6), and a run that stopped stays stopped when resumed."""
    import tempfile

    full = _hooked_trainer(patience=3)
    full.fit(10)
    assert full.state.iteration == 4 and full.state.stop
    with tempfile.TemporaryDirectory() as d:
        _hooked_trainer(patience=3).fit(2, out=d)
        resumed = _hooked_trainer(patience=3)
        resumed.fit(10, out=d, resume=True)
        _assert_same_state(full, resumed)
        again = _hooked_trainer(patience=3)
        with pytest.warns(UserWarning, match="a hook stopped this run at iteration 4"):
            again.fit(10, out=d, resume=True)  # the checkpoint of the stopped run
        _assert_same_state(full, again)
        with warnings.catch_warnings():  # resumed to where it stopped: nothing to say
            warnings.simplefilter("error")
            _hooked_trainer(patience=3).fit(4, out=d, resume=True)


def test_resume_with_other_hooks_is_refused(tmp_path):
    _hooked_trainer(patience=3).fit(1, out=tmp_path)
    net = idn.network.LIF(**NET)
    opts = TrainOptions(lr=1e-2, precision="float64")
    other = Trainer(net, TASK, UnitRateTarget(r0_hz=5.0), opts, hooks=(early_stopping("loss"),))
    with pytest.raises(idn.InputError, match="resume with the hooks"):
        other.fit(2, out=tmp_path, resume=True)


def test_a_hook_state_that_changes_structure_is_named_on_resume(tmp_path):
    """A state that grows trains and saves, but cannot be rebuilt on its init's structure:
    the message said the hooks did not match, though they were the same."""
    from infodyn.learning.hooks import HookOutput, TrainHook

    growing = TrainHook(lambda net, params: [], lambda info, s: HookOutput({}, [*s, info.loss]))
    net = idn.network.LIF(**NET)
    opts = TrainOptions(lr=1e-2, precision="float64")
    Trainer(net, TASK, UnitRateTarget(r0_hz=5.0), opts, hooks=(growing,)).fit(2, out=tmp_path)
    again = Trainer(net, TASK, UnitRateTarget(r0_hz=5.0), opts, hooks=(growing,))
    with pytest.raises(InputError, match="hook 0's stored state has 2 parts, a fresh init of it 0"):
        again.fit(4, out=tmp_path, resume=True)


@pytest.mark.parametrize("returned", ["tuple", "none", "no metrics"])
def test_a_hook_update_that_returns_no_hook_output_is_named(returned):
    """A tuple, None or ``HookOutput(None, state)`` were an AttributeError or a TypeError
    inside the trainer."""
    from infodyn.learning.hooks import HookOutput, TrainHook

    outputs = {"tuple": lambda s: ({}, s), "none": lambda s: None}
    outputs["no metrics"] = lambda s: HookOutput(None, s)
    hook = TrainHook(lambda net, params: (), lambda info, s: outputs[returned](s))
    net = idn.network.LIF(**NET)
    tr = Trainer(
        net,
        TASK,
        UnitRateTarget(r0_hz=5.0),
        TrainOptions(),
        hooks=(metric_hook("m", lambda i: 1.0), hook),
    )
    with pytest.raises(InputError, match=r"hook 1's update must return HookOutput\(metrics, state"):
        tr.fit(1)


def _run_hook(hook, values):
    state, stops = hook.init(None, {}), []
    for v in values:
        out = hook.update(type("Info", (), {"record": {"m": v}})(), state)
        state = out.state
        stops.append(out.stop)
    return state, stops


def test_early_stopping_in_max_mode_and_with_min_delta():
    _, stops = _run_hook(early_stopping("m", patience=2, mode="max"), [1.0, 2.0, 3.0, 4.0])
    assert stops == [False] * 4  # rising values improve in "max" mode
    _, stops = _run_hook(early_stopping("m", patience=2, mode="max"), [4.0, 3.0, 2.0])
    assert stops == [False, False, True]
    state, stops = _run_hook(early_stopping("m", patience=3, min_delta=0.5), [5, 4.8, 4.6, 4.55])
    assert stops == [False, False, False, True] and state.best == 5.0  # steps of 0.2 < 0.5


def test_early_stopping_never_counts_an_infinite_value_as_better():
    state, stops = _run_hook(early_stopping("m", patience=2), [1.0, -np.inf, -np.inf])
    assert stops == [False, False, True] and state.best == 1.0


def test_a_resumed_history_keeps_nan_metrics_as_nan(tmp_path):
    """metrics.json holds a NaN metric as null (strict JSON): the resumed history had None where
    the run had NaN, and np.nanmean of it raised a TypeError."""
    import math

    def trainer():
        hooks = (metric_hook("odd", lambda info: math.nan if info.iteration % 2 else 0.5),)
        opts = TrainOptions(lr=1e-2, precision="float64", checkpoint_every=2)
        return Trainer(idn.network.LIF(**NET), TASK, UnitRateTarget(r0_hz=5.0), opts, hooks=hooks)

    trainer().fit(2, out=tmp_path)
    resumed = trainer()
    history = resumed.fit(4, out=tmp_path, resume=True)
    odd = [r["odd"] for r in history]
    assert math.isnan(odd[0]) and odd[1] == 0.5 and math.isnan(odd[2])
    assert np.nanmean(odd) == 0.5
