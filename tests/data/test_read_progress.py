"""The hook of whole passes over spike files (infodyn.data.read_progress)."""

import numpy as np

from infodyn.data import SpikeReader, SpikeTrain, save_spikes
from infodyn.data.read_progress import on_blocks_read


def test_each_block_of_each_whole_pass_is_reported(tmp_path):
    raster = np.random.default_rng(0).random((200, 10)) < 0.3
    path = save_spikes(tmp_path / "s.h5", SpikeTrain.from_dense(raster))
    calls = []
    with SpikeReader(path, block_spikes=100) as r, on_blocks_read(lambda *a: calls.append(a)):
        n = r.n_spikes
        r.unit_counts()
        r.step_counts()
    ends = [done for _, done, _ in calls]
    per_pass = list(range(100, n, 100)) + [n]
    assert ends == per_pass + per_pass
    assert {(p, total) for p, _, total in calls} == {(path, n)}
    with SpikeReader(path, block_spikes=100) as r:  # outside the block: no call
        r.unit_counts()
    assert len(calls) == 2 * len(per_pass)
