"""Chunked runs that stop after a chunk and continue from its RunState (infodyn.network.chunked)."""

import numpy as np
import pytest
import scipy.sparse as sp

from infodyn.errors import InputError
from infodyn.network import ALIF, LIF, simulate_spikes
from infodyn.network.chunked import RunState, check_chunked_run, run_chunks


@pytest.fixture(scope="module")
def alif_run():
    """A fixed in-degree E/I ALIF network (sparse weights) with refractoriness, CSR input."""
    net = ALIF(
        n_in=30, n_rec=200, n_out=2, connectivity="ei", k_in=20, in_scale=2.5, rec_scale=1.5,
        n_ref=2,
    )  # fmt: skip
    x = sp.csr_matrix((np.random.default_rng(3).random((1500, 30)) < 0.05).astype(np.float64))
    return net, net.init(seed=2), x


def _stopped_and_resumed(net, params, x, engine, precision, stop_after):
    """Spikes of a run stopped after step ``stop_after`` (a chunk end) and continued from the
    state it handed out, the state passed through NumPy copies (as a file would keep it)."""
    n_steps, chunk, _ = check_chunked_run(net, params, x, x.shape[0], 7, None, engine, precision)
    times, units, saved = [], [], {}

    def collect(t, u):
        times.append(t)
        units.append(u)

    class Stop(Exception):
        pass

    def after_chunk(stop, snapshot):
        if stop == stop_after:
            state = snapshot()
            saved["state"] = RunState(
                state.step, state.engine, state.precision,
                {k: np.array(v) for k, v in state.arrays.items()},
            )  # fmt: skip
            raise Stop

    with pytest.raises(Stop):
        run_chunks(net, params, x, n_steps, chunk, engine, precision, collect, after_chunk)
    kept = sum(len(t) for t in times)
    run_chunks(net, params, x, n_steps, chunk, engine, precision, collect, None, saved["state"])
    return np.concatenate(times), np.concatenate(units), kept, saved["state"]


@pytest.mark.parametrize(
    ("engine", "precision"), [("event", "float64"), ("jax", "float64"), ("jax", "float32")]
)
def test_a_run_continued_from_its_state_has_the_spikes_of_one_run(alif_run, engine, precision):
    """Stopped after step 700 (chunks of 7: the last steps of a chunk fall within refractory
    periods and adaptation, which the state must carry) and continued: the whole run's spikes,
    spike for spike, on both engines (the JAX engine in float32 too: its state is kept in its
    own precision)."""
    net, params, x = alif_run
    whole = simulate_spikes(net, params, x, chunk_steps=7, engine=engine, precision=precision)
    assert 500 < whole.n_spikes < 0.3 * 1500 * 200
    times, units, kept, state = _stopped_and_resumed(net, params, x, engine, precision, 700)
    assert state.step == 700 and 0 < kept < whole.n_spikes
    assert state.precision == ("float64" if engine == "event" else precision)
    np.testing.assert_array_equal(times, whole.times)
    np.testing.assert_array_equal(units, whole.units)


def test_a_state_that_cannot_continue_the_run_is_refused(alif_run):
    net, params, x = alif_run
    *_, state = _stopped_and_resumed(net, params, x, "event", "float64", 700)
    n = net.n_rec
    with pytest.raises(InputError, match="the event engine's \\(float64\\); this run uses the jax"):
        state.check(net, 1500, "jax", "float64")
    with pytest.raises(InputError, match="at step 700, not in 0..500"):
        state.check(net, 500, "event", "float32")  # (the event engine runs in float64 anyway)
    other = LIF(n_in=30, n_rec=n + 1, n_out=2)
    with pytest.raises(InputError, match="'v' is \\(200,\\) float64, not \\(201,\\) float64"):
        state.check(other, 1500, "event", "float64")
    arrays = {**state.arrays, "active": np.full(n, n, np.int64)}
    arrays["n_active"] = np.array([3], np.int64)
    with pytest.raises(InputError, match="active units are out of range"):
        RunState(700, "event", "float64", arrays).check(net, 1500, "event", "float64")
    missing = {k: v for k, v in state.arrays.items() if k != "a"}
    with pytest.raises(InputError, match="'a' is missing"):
        RunState(700, "event", "float64", missing).check(net, 1500, "event", "float64")


def test_a_float32_chunked_run_refuses_input_beyond_float32():
    # simulate(jax, float32) refused 1e39, the chunked run took it: inf, then NaN, no spikes
    net = LIF(n_in=2, n_rec=2, n_out=0)
    params = net.init(seed=0)
    x = np.zeros((50, 2))
    x[10, 0] = 1e39
    with pytest.raises(InputError, match=r"x \(steps 0..\) holds 1e\+39, beyond float32"):
        simulate_spikes(net, params, x, 50, engine="jax", precision="float32", chunk_steps=20)
    with pytest.raises(InputError, match="x holds 1e\\+39"):
        net.simulate(params, x, engine="jax")


def test_a_time_constant_whose_scaling_rounds_to_zero_is_refused():
    # 1 - exp(-dt/tau_m) == 0: init drew infinite input weights, refused as weights never written
    with pytest.raises(InputError, match="tau_m / dt = 1e\\+20: exp.-dt/tau_m. rounds to 1"):
        LIF(n_in=2, n_rec=3, tau_m=1e20, input_scaling="one_minus_alpha")
    with pytest.raises(InputError, match="tau_out / dt"):
        LIF(n_in=2, n_rec=3, tau_out=1e20, readout_scaling="one_minus_kappa")
    assert LIF(n_in=2, n_rec=3, tau_m=1e20).alpha == 1.0  # no scaling: allowed as before


def test_metadata_may_not_replace_the_runs_own_record():
    """A user's {"engine": "fake"} replaced the file's record of its engine (and "network" the
    whole network record), unsaid."""
    net = LIF(n_in=2, n_rec=3)
    params, x = net.init(seed=0), np.zeros((5, 2))
    for key in ("engine", "network", "precision"):
        with pytest.raises(InputError, match=f"metadata may not set '{key}'"):
            check_chunked_run(net, params, x, 5, 5, {key: "mine"}, "jax", "float32")
    _, _, meta = check_chunked_run(net, params, x, 5, 5, {"note": "mine"}, "event", "float64")
    assert meta["note"] == "mine" and meta["engine"] == "event"
