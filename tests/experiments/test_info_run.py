"""The info run (infodyn.experiments.info_run) takes a SpikeTrain as it says, and checks its
options before it reads the data."""

import json

import numpy as np
import pytest

from infodyn.data import SpikeTrain
from infodyn.errors import InputError
from infodyn.experiments.info_run import run_info


def _spikes():
    return SpikeTrain.from_dense(np.random.default_rng(0).random((500, 5)) < 0.3)


def test_a_spike_train_is_analysed_and_named(tmp_path):
    """It was analysed, then a raw TypeError (str(Path(SpikeTrain))) left an empty folder."""
    res = run_info(_spikes(), tmp_path / "out", n_shuffles=1)
    assert res["n_units"] == 5
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["config"]["spikes"] == "<SpikeTrain>"


@pytest.mark.parametrize(
    ("option", "bad", "said"),
    [
        ("max_population", "5", "max_population must be >= 3"),
        ("max_population", 3.5, "max_population must be >= 3"),
        ("n_shuffles", None, "n_shuffles must be >= 0"),
        ("max_units", float("nan"), "max_units must be >= 3"),
        ("bin_ms", [1], "bin_ms must be a positive number of ms"),
    ],
)
def test_options_of_the_wrong_kind_are_refused_before_the_data_is_read(option, bad, said, tmp_path):
    with pytest.raises(InputError, match=said):
        run_info(tmp_path / "missing.h5", tmp_path / "out", **{option: bad})
    assert not (tmp_path / "out").exists()
