"""Paths in a config (infodyn.experiments.config_paths): read from the current directory; a
relative one that is only beside the config file is refused with the path to give."""

import pytest
from faultkit import cli_in_process

from infodyn.errors import InputError
from infodyn.experiments.config import SimulateConfig, load_config, validate
from infodyn.experiments.config_paths import path_values
from infodyn.experiments.energy_run import EnergyRunConfig
from infodyn.experiments.pipeline.config import PipelineConfig

SIM = '[network]\nn_in = 3\nn_rec = 5\n[simulation]\nparams = "w.npz"\n'


def test_path_values_lists_every_marked_field_through_sections():
    cfg = validate(SimulateConfig, {"simulation": {"params": "a/w.npz"}})
    assert path_values(cfg) == [("simulation.params", "a/w.npz")]
    cfg = validate(PipelineConfig, {"images": {"images": ["astronaut", "x.png"]}})
    assert path_values(cfg) == [("images.images", "astronaut"), ("images.images", "x.png")]
    assert path_values(validate(EnergyRunConfig, {"spikes": "s.h5"})) == [("spikes", "s.h5")]
    assert path_values(validate(SimulateConfig, {})) == []  # params unset


def test_a_path_only_beside_the_config_is_refused_with_the_one_to_give(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "run.toml").write_text(SIM)
    (tmp_path / "sub" / "w.npz").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as exc:
        load_config("sub/run.toml", SimulateConfig)
    message = str(exc.value)
    assert "[simulation.params] = 'w.npz' is not in the current directory" in message
    assert "give 'sub/w.npz' or an absolute path, or run infodyn from sub" in message


def test_paths_found_from_here_or_nowhere_are_left_to_the_run(tmp_path, monkeypatch):
    """A path that exists from the current directory is used (even if the config's folder has
    one too); one that exists nowhere, or an absolute one, goes on to the run's own error."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "run.toml").write_text(SIM)
    monkeypatch.chdir(tmp_path)
    assert load_config("sub/run.toml", SimulateConfig).simulation.params == "w.npz"  # nowhere
    (tmp_path / "sub" / "w.npz").write_bytes(b"")
    (tmp_path / "w.npz").write_bytes(b"")
    assert load_config("sub/run.toml", SimulateConfig).simulation.params == "w.npz"  # here
    monkeypatch.chdir(tmp_path / "sub")
    assert load_config("run.toml", SimulateConfig).simulation.params == "w.npz"  # same folder
    absolute = f'[simulation]\nparams = "{tmp_path / "nowhere.npz"}"\n'
    (tmp_path / "sub" / "abs.toml").write_text(absolute)
    assert load_config(tmp_path / "sub" / "abs.toml", SimulateConfig).simulation.params


def test_the_command_line_says_it_in_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "run.toml").write_text(SIM)
    (tmp_path / "sub" / "w.npz").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    rc, _, err = cli_in_process(["simulate", "sub/run.toml", "--out", "out"], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "is beside the config" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_runs_record_names_the_folder_its_run_was_started_from(tmp_path, monkeypatch, capsys):
    """A run's config.json kept its relative paths without the folder they were read from:
    `infodyn simulate proj/run/config.json` from elsewhere read `params = "w.npz"` here, "no
    such file". The record keeps the working directory, and the rerun's error names it."""
    import json

    import numpy as np

    from infodyn.data import load_spikes
    from infodyn.network import LIF, save_params

    proj = tmp_path / "proj"
    proj.mkdir()
    save_params(proj / "w.npz", LIF(n_in=3, n_rec=5).init(seed=0))
    (proj / "run.toml").write_text(SIM + "[input]\nn_steps = 20\n")
    monkeypatch.chdir(proj)
    rc, _, err = cli_in_process(["simulate", "run.toml", "--out", "run"], capsys)
    assert rc == 0, err
    record = json.loads((proj / "run" / "config.json").read_text())
    assert record["working_directory"] == str(proj)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as exc:
        load_config("proj/run/config.json", SimulateConfig)
    message = str(exc.value)
    assert "= 'w.npz' is not in the current directory" in message
    assert f"is in the folder its run was started from ({proj / 'w.npz'})" in message
    monkeypatch.chdir(proj)  # from there the record reruns as it ran
    assert load_config("run/config.json", SimulateConfig).simulation.params == "w.npz"
    rc, _, err = cli_in_process(["simulate", "run/config.json", "--out", "again"], capsys)
    assert rc == 0, err
    first, again = (load_spikes(proj / d / "spikes.h5") for d in ("run", "again"))
    assert np.array_equal(first.to_dense(), again.to_dense())
