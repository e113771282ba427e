"""Resuming with a changed config (infodyn.experiments.resume): the changed keys are named."""

import json

import pytest

from infodyn.errors import InputError
from infodyn.experiments.resume import changed_keys, check_resume_config
from infodyn.experiments.rundir import RunDir


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


def test_resume_refuses_a_removed_key(tmp_path):
    old = {"training": {"lr": 0.1, "clip": 1.0}}
    RunDir(tmp_path).write_config(old, "train")
    new = {"training": {"lr": 0.1}}  # a key the run started with is gone
    assert changed_keys(old, new) == ["training.clip"]
    with pytest.raises(InputError, match=r"training.clip \(1.0 -> absent\)"):
        check_resume_config(tmp_path, new)


def test_resume_config_without_a_config_table_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"command": "train", "config": None}))
    with pytest.raises(InputError, match=r"config.json: cannot read this run config.*'config'"):
        check_resume_config(tmp_path, {"training": {"lr": 0.1}})


def test_resume_compares_json_types(tmp_path):
    # the stored copy has JSON types: a tuple given now is the list stored then, not a change

    RunDir(tmp_path).write_config({"network": {"sizes": [4, 8]}}, "train")
    assert check_resume_config(tmp_path, {"network": {"sizes": (4, 8)}}) == {}


def test_keys_of_the_initial_weights_cannot_change_on_resume(tmp_path):
    """A changed k_in with --allow-config-change trained on the checkpoint's graph and recorded
    the new k_in in config.json; a key that fixes the network is refused even then."""
    old = {"network": {"k_in": 20, "tau_m": 20.0}, "training": {"lr": 0.1, "seed": 0}}
    RunDir(tmp_path).write_config(old, "train")
    new = {"network": {"k_in": 5, "tau_m": 20.0}, "training": {"lr": 0.1, "seed": 0}}
    for allow in (False, True):
        with pytest.raises(InputError, match=r"network.k_in \(20 -> 5\) fixed the network"):
            check_resume_config(tmp_path, new, allow_changes=allow)
    dynamics = {"network": {"k_in": 20, "tau_m": 30.0}, "training": {"lr": 0.1, "seed": 0}}
    assert check_resume_config(tmp_path, dynamics, allow_changes=True) == {
        "network.tau_m": [20.0, 30.0]
    }  # the time constant is used by every step: it does take effect
    # the seed draws a graph stored dense afresh on resume: it re-masked the trained weights
    reseeded = {**old, "training": {"lr": 0.1, "seed": 1}}
    with pytest.raises(InputError, match=r"training.seed \(0 -> 1\) fixed the network"):
        check_resume_config(tmp_path, reseeded, allow_changes=True)
    # both kinds of change at once: named in one message
    both = {"network": {"k_in": 5, "tau_m": 30.0}, "training": {"lr": 0.1, "seed": 0}}
    with pytest.raises(InputError) as err:
        check_resume_config(tmp_path, both)
    assert "network.k_in (20 -> 5) fixed the network" in str(err.value)
    assert str(err.value).endswith(
        "; it also differs in network.tau_m (20.0 -> 30.0) (--allow-config-change)"
    )


def test_a_key_the_stored_config_lacks(tmp_path):
    """A run started before infodyn had a key: it used the default, so only that is accepted
    (with --allow-config-change); the missing side shows as (absent), not null."""
    null = {"network": {"k_in": None}, "training": {"lr": 0.1}}  # a Bernoulli graph's run
    RunDir(tmp_path).write_config(null, "train")
    with pytest.raises(InputError, match=r"network.k_in \(null -> 5\) fixed the network"):
        check_resume_config(tmp_path, {**null, "network": {"k_in": 5}}, allow_changes=True)
    RunDir(tmp_path).write_config({"network": {}, "training": {"lr": 0.1}}, "train")
    defaults = {"network": {"k_in": None}, "training": {"lr": 0.001}}
    with pytest.raises(InputError, match=r"network.k_in \(absent -> null\); resume with"):
        check_resume_config(tmp_path, null, defaults=defaults)
    assert check_resume_config(tmp_path, null, allow_changes=True, defaults=defaults) == {
        "network.k_in": ["(absent)", None]
    }
    five = {**null, "network": {"k_in": 5}}
    with pytest.raises(InputError, match=r"network.k_in \(absent -> 5\) fixed the network"):
        check_resume_config(tmp_path, five, allow_changes=True, defaults=defaults)


def test_how_often_to_checkpoint_may_change_and_long_values_show_their_difference(tmp_path):
    """checkpoint_every changes no weight (refused without --allow-config-change); a [[loss]]
    list longer than 30 characters was cut at its start, both sides showing the same text."""
    mse = {"kind": "mse", "weight": 1.0}
    old = {"training": {"checkpoint_every": 50, "iterations": 5}, "loss": [mse]}
    RunDir(tmp_path).write_config(old, "train")
    new = {"training": {"checkpoint_every": 2, "iterations": 5}, "loss": [mse]}
    assert check_resume_config(tmp_path, new) == {"training.checkpoint_every": [50, 2]}
    new["loss"] = [mse, {"kind": "rate_reg", "weight": 1e-4}]
    with pytest.raises(InputError) as err:
        check_resume_config(tmp_path, new)
    shown = str(err.value).split("loss (")[1].split(")")[0]
    before, after = shown.split(" -> ")
    assert before != after and "rate_" in after, shown
