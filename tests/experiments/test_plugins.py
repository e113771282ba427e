"""Plugins (infodyn.experiments.plugins): commands and loss kinds registered by a module that
INFODYN_PLUGINS names reach the `infodyn` command and sweep workers; registrations are checked."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap

import pytest

from infodyn.errors import InputError
from infodyn.experiments import plugins
from infodyn.experiments.command_registry import COMMANDS, CommandSpec, register_command
from infodyn.experiments.sweep import make_tasks
from infodyn.learning import register_loss_kind
from infodyn.learning.losses import UnitRateTarget
from infodyn.learning.registry import _REGISTERED, build_loss

PLUGIN = """
from pathlib import Path
from pydantic import BaseModel, ConfigDict
from infodyn.experiments.config import CommandSpec, register_command
from infodyn.learning import register_loss_kind
from infodyn.learning.losses import UnitRateTarget
import dataclasses


@dataclasses.dataclass(frozen=True)
class LabRate(UnitRateTarget):
    pass


register_loss_kind("lab_rate", LabRate)


class Toy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: float = 1.0
    seed: int = 0


def run(cfg, out, resume=False):
    from infodyn.learning.registry import config_kinds

    Path(out).mkdir(parents=True, exist_ok=True)
    return {"y": cfg.x * 2 + cfg.seed, "knows_lab_rate": "lab_rate" in config_kinds()}


register_command(CommandSpec("labcmd", config="labplugin:Toy", run="labplugin:run",
                             seed_keys=("seed",)))
"""


def _cli(args, tmp_path, env_plugins="labplugin"):
    env = {**os.environ, "INFODYN_PLUGINS": env_plugins}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "infodyn", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


def test_a_plugins_command_and_loss_kind_reach_the_cli_and_the_sweep_workers(tmp_path):
    """Registered in a script, a command was "unknown command 'mycmd'" to `infodyn sweep`, and
    a loss kind added in the parent was unknown in the sweep's worker processes."""
    (tmp_path / "labplugin.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "base.toml").write_text("x = 1.5\n")
    shown = _cli(["config", "show", "base.toml"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "x = 1.5" in shown.stdout
    swept = _cli(
        ["sweep", "base.toml", "--command", "labcmd", "--grid", "x=1,2", "--workers", "1",
         "--out", "s"],
        tmp_path,
    )  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    assert json.loads((tmp_path / "s" / "results.json").read_text())["n_failed"] == 0
    table = (tmp_path / "s" / "results.csv").read_text().splitlines()
    assert table[0].endswith(",y,knows_lab_rate")
    assert [row.split(",")[-2:] for row in table[1:]] == [["2.0", "True"], ["4.0", "True"]]
    bad = _cli(["config", "show", "base.toml"], tmp_path, env_plugins="no_such_plugin")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "plugin 'no_such_plugin' (named by INFODYN_PLUGINS) could not be loaded" in bad.stderr
    # a broken plugin stands in the way of no command that does not look plugins up
    assert _cli(["sweep", "--help"], tmp_path, env_plugins="no_such_plugin").returncode == 0


def test_load_plugins_imports_each_once_and_names_a_failure(tmp_path, monkeypatch):
    (tmp_path / "counted_plugin.py").write_text(
        "import builtins\nbuiltins.counted_plugin_loads = "
        "getattr(builtins, 'counted_plugin_loads', 0) + 1\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(plugins.ENV, " counted_plugin , ")
    monkeypatch.setattr(plugins, "_loaded", set())
    assert plugins.load_plugins() == ["counted_plugin"]
    assert plugins.load_plugins() == []
    import builtins

    assert builtins.counted_plugin_loads == 1
    monkeypatch.setenv(plugins.ENV, "counted_plugin:missing")
    with pytest.raises(InputError, match="'counted_plugin:missing' .* AttributeError"):
        plugins.load_plugins()
    (tmp_path / "exiting_plugin.py").write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setenv(plugins.ENV, "exiting_plugin")
    with pytest.raises(InputError, match="'exiting_plugin' .* SystemExit"):  # not an exit of 3
        plugins.load_plugins()


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.syspath_prepend(os.path.dirname(__file__))  # sweep_cmds, plugin_cmds
    commands, kinds = dict(COMMANDS), dict(_REGISTERED)
    yield
    COMMANDS.clear()
    COMMANDS.update(commands)
    _REGISTERED.clear()
    _REGISTERED.update(kinds)


def test_command_specs_are_checked_and_not_replaced_unsaid(clean_registry):
    """An empty name, a non-string config and seed_keys="toy.seed" (read a character at a
    time) were registered; a plugin replaced the built-in train without a word."""
    good = CommandSpec("toycmd", config="sweep_cmds:ToyConfig", run="sweep_cmds:run")
    for bad, said in [
        (dataclasses.replace(good, name=""), "must be a word"),
        (dataclasses.replace(good, config=None), "config must be a 'module:attribute'"),
        (dataclasses.replace(good, run="sweep_cmds.run"), "run must be a 'module:attribute'"),
        (dataclasses.replace(good, seed_keys="opts.seed"), "seed_keys must be a tuple"),
        (dataclasses.replace(good, name="train"), "'train' is a built-in command"),
    ]:
        with pytest.raises(InputError, match=said):
            register_command(bad)
    register_command(good)
    register_command(good)  # the same spec again (a module imported twice)
    other = dataclasses.replace(good, summary_metric="y")
    with pytest.raises(InputError, match="is registered already"):
        register_command(other)
    assert register_command(other, replace=True) is COMMANDS["toycmd"]
    as_function = dataclasses.replace(good, name="fncmd", config="sweep_cmds:run")
    register_command(as_function)
    with pytest.raises(InputError, match="is not a pydantic model class"):
        as_function.config_model()  # was an AttributeError inside `config show`


def test_loss_kinds_are_registered_by_name_and_checked(clean_registry):
    @dataclasses.dataclass(frozen=True)
    class MyRate(UnitRateTarget):
        pass

    register_loss_kind("my_rate", MyRate)
    loss = build_loss([{"kind": "my_rate", "weight": 0.5, "r0_hz": 4.0}])
    (term,) = loss.terms
    assert isinstance(term, MyRate) and term.r0_hz == 4.0 and term.weight == 0.5
    with pytest.raises(InputError, match="'unit_rate' is taken by UnitRateTarget"):
        register_loss_kind("unit_rate", MyRate)
    with pytest.raises(InputError, match="is not a LossTerm class"):
        register_loss_kind("other", dict)


def test_a_commands_config_says_which_points_share_a_batch(clean_registry):
    """batch= of a custom command did nothing: points were grouped by simulate's rules."""
    register_command(
        CommandSpec(
            "batchy",
            config="plugin_cmds:Batchy",
            run="plugin_cmds:run",
            batch="plugin_cmds:run_batch",
        )
    )
    from infodyn.experiments.grid import expand_grid

    spec = COMMANDS["batchy"]
    points = expand_grid(spec, {}, {"x": [1.0, 2.0, 3.0, 4.0], "group": [0, 1]})
    tasks = make_tasks(spec, points, batch_size=4)
    assert sorted(len(t) for t in tasks) == [4, 4]
    assert all(len({p.config["group"] for p in t}) == 1 for t in tasks)
