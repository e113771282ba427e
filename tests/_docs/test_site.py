"""The build hooks that write the command-line, config and API reference pages (the pages'
examples run in ``test_examples.py``)."""

import importlib.util
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_tutorials import DOCS  # noqa: E402


def _hook(name: str):
    spec = importlib.util.spec_from_file_location(name, DOCS / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_lists_every_command():
    import typer

    from infodyn.cli import app

    text = _hook("cli_reference").cli_reference()
    root = typer.main.get_command(app)
    ctx = root.make_context("infodyn", [], resilient_parsing=True)
    for name in root.list_commands(ctx):
        assert f"## `infodyn {name}`" in text
    assert "`--groups <str>`" in text and "`infodyn config show`" in text


def test_config_reference_shows_every_command_default():
    import tomllib

    from infodyn.experiments.config import COMMANDS, default_config_toml

    text = _hook("config_reference").config_reference()
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    assert len(blocks) == len(COMMANDS) >= 5
    for name, block in zip(COMMANDS, blocks, strict=True):
        assert f"## `infodyn {name}`" in text
        assert block == default_config_toml(name)
        tomllib.loads(block)
    assert "rate_hz = 50.0  # Poisson rate (mean rate for filtered_noise), Hz" in text
    page = (DOCS / "config.md").read_text()
    assert _hook("config_reference").on_page_markdown(page, None).count("```toml") == len(blocks)


def test_config_reference_tables_the_options_defaults_leave_out():
    from infodyn.learning.registry import config_kinds
    from infodyn.learning.tasks import TASKS

    text = _hook("config_reference").options_reference()
    assert "| `tau_a` | `2000.0` | adaptation time constant in ms |" in text
    assert "| `beta_a` | `0.05` |" in text and "| `n_alif` | (unset) |" in text
    for kind in TASKS:
        assert f'#### `kind = "{kind}"`' in text
    assert "| `cue_rate_hz` | `40.0` | rate of a cue's and the recall cue's channels (Hz) |" in text
    assert "| `rate_hz` | `5.0` |" in text and "| `rate_hz` | `50.0` |" in text  # rate, pattern
    assert "| `n_out` | the network's `n_out` |" in text
    assert "network needs `n_in = 40` and `n_out = 2`" in text
    for option in ("r0_hz", "s_target", "estimator", "eps", "f_target_hz", "per_sequence"):
        assert f"| `{option}` |" in text
    assert sum(f'#### `kind = "{k}"`' in text for k in config_kinds()) == 5


def test_api_pages_cover_every_public_name():
    import infodyn.data

    hook = _hook("api_pages")
    page = hook.package_page("data")
    assert "::: infodyn.data\n" in page  # the package's __all__
    assert "members: [is_phy_folder, read_params, read_cluster_labels, load_phy]" in page
    assert all(f"({n}.md)" in hook.index_page() for n in hook.PACKAGES)
    assert "load_spikes" in infodyn.data.__all__
