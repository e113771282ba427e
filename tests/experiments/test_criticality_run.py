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


def test_bin_widths_that_are_not_whole_steps_are_refused(tmp_path):
    import pytest

    from infodyn.data.spikes import SpikeTrain, save_spikes
    from infodyn.errors import InputError
    from infodyn.experiments.criticality_run import run_criticality
    from infodyn.experiments.info_run import run_info

    rng = np.random.default_rng(0)
    train = SpikeTrain.from_dense((rng.random((400, 6)) < 0.1).astype(np.uint8), dt=0.5)
    path = save_spikes(tmp_path / "s.h5", train)
    for kwargs, option in (
        ({"bin_ms": 0.75}, "--bin-ms=0.75"),  # used to become 1 ms silently
        ({"avalanche_bin_ms": 1.2}, "--avalanche-bin-ms=1.2"),
    ):
        with pytest.raises(InputError, match=f"{option} must be a whole multiple .* dt=0.5"):
            run_criticality(path, tmp_path / "c", n_boot=0, **kwargs)
    with pytest.raises(InputError, match="--bin-ms=0.75 must be a whole multiple"):
        run_info(path, tmp_path / "i", bin_ms=0.75)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_criticality(path, tmp_path / "ok", n_boot=0, bin_ms=1.5, avalanche_bin_ms=1)
    assert res["branching"]["bin_ms"] == 1.5
