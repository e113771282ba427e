"""Make tests/scale/sweep_cmds.py importable here and in spawned Dask workers; register it."""

import os
import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).parent)


@pytest.fixture(scope="module")
def toy_command():
    from infodyn.experiments.config import COMMANDS, CommandSpec, register_command

    old_path, old_env = list(sys.path), os.environ.get("PYTHONPATH")
    sys.path.insert(0, HERE)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, old_env]))
    spec = register_command(
        CommandSpec(
            name="toy",
            config="sweep_cmds:ToyConfig",
            run="sweep_cmds:run",
            seed_keys=("opts.seed",),
            summary_metric="y",
            checkpoint="ckpt",
        )
    )
    yield spec
    COMMANDS.pop("toy", None)
    sys.path[:] = old_path
    if old_env is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old_env
