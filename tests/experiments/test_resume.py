"""Resuming with a changed config (infodyn.experiments.resume): the changed keys are named."""

import pytest

from infodyn.errors import InputError


def test_resume_config_check_names_keys(tmp_path):
    from infodyn.experiments.resume import changed_keys, check_resume_config
    from infodyn.experiments.rundir import RunDir

    old = {"training": {"lr": 0.1, "iterations": 5}, "network": {"n_rec": 4}}
    RunDir(tmp_path).write_config(old, "train")
    new = {"training": {"lr": 0.2, "iterations": 9}, "network": {"n_rec": 4, "extra": 1}}
    assert changed_keys(old, new) == ["training.lr", "training.iterations", "network.extra"]
    with pytest.raises(InputError, match=r"training.lr \(0.1 -> 0.2\), network.extra"):
        check_resume_config(tmp_path, new)
    assert check_resume_config(tmp_path, {**old, "training": {"lr": 0.1, "iterations": 9}}) == {
        "training.iterations": [5, 9]
    }
    assert "training.lr" in check_resume_config(tmp_path, new, allow_changes=True)
    # a deleted config.json: the settings are unknown (a resume ran on under any config)
    (tmp_path / "config.json").unlink()
    with pytest.raises(InputError, match=r"config.json is missing: .*--allow-config-change"):
        check_resume_config(tmp_path, new)
    assert check_resume_config(tmp_path, new, allow_changes=True) == {
        "(config.json)": ["missing", "continued under the given config"]
    }
