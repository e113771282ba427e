"""``benchmarks/bench_simulate_checkpoint.py``'s join timing on a small spike file: both ways of
joining give the file's spikes (the timing compares equal work)."""

from __future__ import annotations

import tomllib

import numpy as np

from infodyn.data import load_spikes
from infodyn.data.spike_files import SpikeWriter


def test_both_joins_give_the_runs_spikes(tmp_path, bench_module):
    mod = bench_module("bench_simulate_checkpoint")
    flat = np.sort(np.random.default_rng(0).choice(2000 * 300, 200_000, replace=False))
    times, units = flat // 300, (flat % 300).astype(np.int32)
    with SpikeWriter(tmp_path / "s.h5", n_units=300, dt=1.0, n_steps=2000) as writer:
        writer.append(times, units)
    got = mod._join_times(tmp_path / "s.h5", tmp_path, repeats=1)
    assert got["n_spikes"] == 200_000 and got["chunks"] >= 0 and got["blocks"] > 0
    for name in ("joined.h5", "rewritten.h5"):
        back = load_spikes(tmp_path / name)
        np.testing.assert_array_equal(back.times, times)
        np.testing.assert_array_equal(back.units, units)
    config = mod._config(tmp_path, 3.0).read_text()
    assert "chunk_steps = 1000\ncheckpoint_seconds = 3.0\n" in config
    # a valid config: the example's own chunk_steps made the key twice, and the run failed
    assert tomllib.loads(config)["simulation"]["chunk_steps"] == 1000
