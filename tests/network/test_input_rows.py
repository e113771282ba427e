"""Input made a chunk at a time (``infodyn.network.input_rows``): the rows of the whole array,
bit for bit, from any step on; its checks; and ``infodyn simulate`` never makes the whole run's
Poisson or current input."""

from __future__ import annotations

import numpy as np
import pytest

from infodyn.errors import InputError
from infodyn.network.encoders import direct_current, poisson_spikes
from infodyn.network.input_rows import ConstantRows, PoissonRows

SPANS = [(0, 1), (0, 257), (3, 500), (499, 500), (123, 124), (77, 77), (0, 500)]


@pytest.mark.parametrize(
    ("rate", "n_in", "dt"),
    [(30.0, 7, 1.0), (np.array([5.0, 80.0, 400.0]), 3, 0.5), (0.0, 2, 1.0), (1000.0, 4, 1.0)],
)
def test_poisson_rows_are_the_whole_arrays_rows(rate, n_in, dt):
    whole = poisson_spikes(rate, 500, n_in=n_in, dt=dt, seed=11)
    rows = PoissonRows(rate, n_in, dt, seed=11)
    for start, stop in SPANS:
        got = rows(start, stop)
        assert got.dtype == np.float32 and got.shape == (stop - start, n_in)
        np.testing.assert_array_equal(got, whole[start:stop])
    # chunks of any length join into the whole array; another seed is another input
    joined = np.concatenate([rows(a, min(a + 64, 500)) for a in range(0, 500, 64)])
    np.testing.assert_array_equal(joined, whole)
    if 0 < whole.mean() < 1:  # (p = 0 or 1: every seed alike)
        assert not np.array_equal(PoissonRows(rate, n_in, dt, seed=12)(0, 500), whole)


def test_constant_rows_are_the_direct_currents_rows():
    for amplitude, n_in in [(0.7, 3), (np.array([1.0, -2.5]), 2)]:
        whole = direct_current(amplitude, 40, n_in=n_in)
        rows = ConstantRows(amplitude, n_in)
        np.testing.assert_array_equal(rows(5, 40), whole[5:])
        assert rows(5, 40).dtype == np.float32 and rows(3, 3).shape == (0, n_in)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PoissonRows(-1.0, 3), "rate"),
        (lambda: PoissonRows(np.ones((2, 3)), 3), "one rate or one a channel"),
        (lambda: PoissonRows(np.ones(4), 3), "one rate or one a channel"),
        (lambda: PoissonRows(10.0, 0), "n_in"),
        (lambda: PoissonRows(10.0, 3, seed=-1), "seed"),
        # redrawn or advanced by each call: no chunk the same twice
        (lambda: PoissonRows(10.0, 3, seed=np.random.default_rng(0)), "whole-number seed"),
        (lambda: PoissonRows(10.0, 3, seed=None), "whole-number seed"),
        (lambda: PoissonRows(10.0, 3)(5, 2), "stop=2 is before start=5"),
        (lambda: PoissonRows(10.0, 3)(-1, 2), "start"),
        (lambda: ConstantRows(np.nan, 3), "amplitude"),
        (lambda: ConstantRows(np.ones(2), 3), "n_in=3 but amplitude gives 2"),
        (lambda: ConstantRows(1.0, 3)(4, 1), "stop=1 is before start=4"),
    ],
)
def test_bad_rows_are_one_input_error(make, message):
    with pytest.raises(InputError, match=message):
        make()


@pytest.mark.parametrize("kind", ["poisson", "current"])
def test_simulate_never_makes_the_whole_runs_input(kind, tmp_path, monkeypatch):
    """``infodyn simulate`` made the (n_steps, n_in) input whole before its first chunk (2 GB
    at 10^6 steps x 100 channels); it makes one chunk at a time now, with the same spikes."""
    from infodyn.data.io import load_spikes
    from infodyn.experiments.config import SimulateConfig, make_input, validate
    from infodyn.experiments.simulate_run import run_simulation
    from infodyn.network import encoders
    from infodyn.network.simulate import simulate_spikes

    data = {
        "network": {"n_in": 6, "n_rec": 30, "in_scale": 3.0, "rec_scale": 1.0},
        "input": {"kind": kind, "n_steps": 900, "rate_hz": 40.0, "amplitude": 0.3, "seed": 4},
        "simulation": {"engine": "event", "chunk_steps": 128},
    }
    cfg = validate(SimulateConfig, data)
    net = cfg.build_network()
    whole = make_input(cfg.input, net.n_in, net.dt)  # the whole array, made here only
    want = simulate_spikes(net, net.init(seed=0), whole, engine="event")
    assert want.n_spikes > 50

    def refused(*args, **kwargs):
        raise AssertionError("the whole run's input was made")

    monkeypatch.setattr(encoders, "poisson_spikes", refused)  # (input_rows holds its own
    monkeypatch.setattr(encoders, "direct_current", refused)  # names: a row, checked)
    run_simulation(cfg, tmp_path / "run")
    got = load_spikes(tmp_path / "run" / "spikes.h5")
    np.testing.assert_array_equal(got.times, want.times)
    np.testing.assert_array_equal(got.units, want.units)
