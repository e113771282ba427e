"""Weights prepared once for the event engine (network/_event_weights.py): the same spikes as
weights prepared at every call, a snapshot that later changes of ``params`` do not reach, a
clear error for a network they do not fit, and a streamed run that equals the one-shot run."""

import importlib

import numpy as np
import pytest

import infodyn as idn
from infodyn.errors import InputError
from infodyn.network.engine_event import EventState, event_weights, run_event_chunk


def _net(connectivity: str = "dense", n_rec: int = 60):
    density = {"p_connect": 0.5} if connectivity == "sparse" else {}
    return idn.network.LIF(
        n_in=30,
        n_rec=n_rec,
        n_out=2,
        in_scale=4.0,
        rec_scale=1.5,
        connectivity=connectivity,
        **density,
    )


def _spikes(net, params, x, weights=None, chunk: int | None = None):
    """(times, units) of one run of ``x``, in chunks of ``chunk`` steps (one chunk if None)."""
    state = EventState.zeros(net.n_rec, net.n_out)
    times, units = [], []
    chunk = chunk or x.shape[0]
    for start in range(0, x.shape[0], chunk):
        run_event_chunk(
            net,
            params,
            x[start : start + chunk],
            state,
            on_spikes=lambda t, u: (times.append(t.copy()), units.append(u)),
            t_offset=start,
            weights=weights,
        )
    return np.concatenate(times), np.concatenate(units)


@pytest.mark.parametrize("float32", [True, False])
@pytest.mark.parametrize("connectivity", ["dense", "sparse"])
def test_prepared_weights_give_the_unprepared_spikes_in_one_run_and_in_chunks(
    connectivity, float32
):
    net = _net(connectivity)
    params = net.init(seed=3)
    if float32:
        params = {k: v.astype(np.float32).astype(np.float64) for k, v in params.items()}
    x = idn.network.poisson_spikes(40.0, 1200, n_in=30, seed=4)
    weights = event_weights(params)
    assert weights.float32_rows == float32
    t0, u0 = _spikes(net, params, x)  # weights prepared inside the call
    assert t0.size > 0.005 * x.shape[0] * net.n_rec
    for chunk in (None, 170, 500):
        t, u = _spikes(net, params, x, weights, chunk)
        np.testing.assert_array_equal(t, t0)
        np.testing.assert_array_equal(u, u0)
    # and the dense raster of the JAX engine (an independent implementation)
    z = np.zeros((x.shape[0], net.n_rec))
    z[t0, u0] = 1.0
    np.testing.assert_array_equal(z, net.simulate(params, x, engine="jax", precision="float64").z)


def test_prepared_weights_are_a_snapshot_of_params():
    """Changing ``params`` after preparing (a float64 w_rec the engine would read in place, an
    exact-float32 one it converts) changes nothing of the prepared run; preparing again does."""
    net = _net()
    x = idn.network.poisson_spikes(40.0, 800, n_in=30, seed=6)
    for params in (net.init(seed=5), {k: v.astype(np.float32) for k, v in net.init(5).items()}):
        weights = event_weights(params)
        t0, u0 = _spikes(net, params, x, weights)
        assert not weights.loop.w_rec.flags.writeable
        params["w_rec"] *= 3.0
        params["w_in"] *= 0.5
        t1, u1 = _spikes(net, params, x, weights)
        np.testing.assert_array_equal(t1, t0)
        np.testing.assert_array_equal(u1, u0)
        t2, _ = _spikes(net, params, x, event_weights(params))
        assert t2.size != t0.size  # the new weights, prepared again, do change the run


def test_prepared_weights_of_another_network_are_refused():
    weights = event_weights(_net(n_rec=60).init(seed=1))
    other = _net(n_rec=64)
    x = idn.network.poisson_spikes(40.0, 50, n_in=30, seed=1)
    with pytest.raises(InputError, match="prepare them"):
        _spikes(other, other.init(seed=1), x, weights)
    # another readout or input width: the loop reads rows without bounds checks
    for kw in (dict(n_out=5), dict(n_in=31)):
        net = idn.network.LIF(**{"n_in": 30, "n_rec": 60, "n_out": 2, **kw})
        with pytest.raises(InputError, match="prepare them"):
            weights.check(net)


def test_simulate_to_file_prepares_once_and_equals_the_one_shot_run(tmp_path, monkeypatch):
    simulate_module = importlib.import_module("infodyn.network.chunked")
    calls = []

    def counted(params):
        calls.append(1)
        return event_weights(params)

    monkeypatch.setattr(simulate_module, "event_weights", counted)
    net = _net()
    params = {k: v.astype(np.float32).astype(np.float64) for k, v in net.init(seed=7).items()}
    x = idn.network.poisson_spikes(40.0, 2100, n_in=30, seed=8)
    path = idn.network.simulate_to_file(net, params, x, 2100, tmp_path / "s.h5", chunk_steps=400)
    assert len(calls) == 1  # six chunks, one preparation
    np.testing.assert_array_equal(
        idn.data.load_spikes(path).to_dense()[0], net.simulate(params, x, engine="event").z
    )


def test_the_input_path_is_chosen_by_the_pattern():
    """``in_kind`` picks the loop: 0 dense ``w_in``; 1 a sparse input row with several synapses;
    2 one synapse an input but two onto one unit (their sum is formed first, as the dense
    ``w_in`` forms it); 3 one synapse an input onto distinct units (added to v directly)."""
    net = idn.network.LIF(n_in=4, n_rec=6, n_out=2)
    params = net.init(seed=0)
    private = np.zeros((4, 6))
    private[[0, 1, 2, 3], [5, 0, 3, 1]] = [0.2, 0.3, 0.4, 0.5]
    shared = private.copy()
    shared[3, 1], shared[3, 3] = 0.0, 0.5  # inputs 2 and 3 both onto unit 3
    fan_out = private.copy()
    fan_out[0, 2] = 0.1  # input 0 onto two units
    cases = {0: private, 1: fan_out, 2: shared, 3: private}
    for want, w_in in cases.items():
        w = w_in if want == 0 else idn.network.SparseWeights.from_dense(w_in)
        assert event_weights({**params, "w_in": w}).loop.in_kind == want


def test_the_engines_copy_of_the_weights_is_checked_against_the_free_memory(monkeypatch):
    # a run of 10^9 synapses passed the check of their draw, then the engine's copy needed 7.6
    # GB more than it counted
    from infodyn.network.simulate import run_weights_bytes

    net = idn.network.LIF(n_in=5, n_rec=2000, connectivity="sparse", k_in=50, weights="sparse")
    params = net.init(seed=0)
    stored = sum(
        a.nbytes
        for w in params.values()
        for a in ((w.values, w.indices, w.indptr) if hasattr(w, "indptr") else (w,))
    )
    assert run_weights_bytes(net, "event", "float64") == (stored, stored)  # and a copy
    assert run_weights_bytes(net, "jax", "float32")[1] > stored  # its cast copy and layouts
    assert run_weights_bytes(net, "jax", "float64")[1] > run_weights_bytes(net, "jax", "float32")[1]
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", f"{stored // 2}")
    with pytest.raises(InputError, match="the event engine's own copy of the weights .* needs"):
        event_weights(params)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", f"{2 * stored}")
    assert event_weights(params).loop.sparse
