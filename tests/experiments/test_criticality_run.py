"""The criticality run (infodyn.experiments.criticality_run): no avalanches is said, not hidden."""

import warnings

import numpy as np


def test_no_avalanches_is_said_on_summary(tmp_path):
    from infodyn.data.spikes import SpikeTrain, save_spikes
    from infodyn.experiments.criticality_run import run_criticality

    dense = np.ones((300, 5), dtype=np.uint8)  # every bin active: no silent bins
    path = save_spikes(tmp_path / "busy.h5", SpikeTrain.from_dense(dense, dt=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_criticality(path, tmp_path / "c", n_boot=0, avalanche_bin_ms="step")
    assert res["avalanches"]["n"] == 0
    assert (
        "no avalanche" in res["avalanches"]["note"]
        and "--avalanche-bin-ms" in res["avalanches"]["note"]
    )
    assert any("no avalanche" in w for w in res["warnings"])
