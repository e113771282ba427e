"""``infodyn config show CONFIG.toml``: print the resolved config (every default, with units)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from infodyn.cli.app import app

config_app = typer.Typer(
    help="Inspect run configs: every command's TOML schema, resolved with its defaults.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


@config_app.command("show")
def show(
    config: Path = typer.Argument(..., help="TOML config of any command (simulate, train, ...)."),
    command: str = typer.Option(
        None, "--command", help="Command the config is for (default: the one it validates as)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of TOML."),
) -> None:
    """Validate CONFIG and print it with every default filled in (errors name the bad key)."""
    from infodyn.experiments.config import (
        describe_fields,
        detect_command,
        get_command,
        read_toml,
        resolved,
        validate,
    )
    from infodyn.experiments.toml_write import to_toml

    data = read_toml(config)
    spec = get_command(command) if command else detect_command(data, str(config))
    cfg = validate(spec.config_model(), data, source=str(config))
    full = resolved(cfg)
    if as_json:
        typer.echo(json.dumps({"command": spec.name, "config": full}, indent=2))
        return
    from infodyn._version import __version__

    header = f"# resolved config for `infodyn {spec.name}` (infodyn {__version__}) from {config}\n"
    typer.echo(header + to_toml(full, describe_fields(cfg)), nl=False)


@config_app.command("init")
def init(
    command: str = typer.Argument("simulate", help="Command whose default config to print."),
) -> None:
    """Print COMMAND's complete default config (a starting point to copy and edit)."""
    from infodyn._version import __version__
    from infodyn.experiments.config import default_config_toml, get_command

    name = get_command(command).name
    header = f"# default config for `infodyn {name}` (infodyn {__version__})\n"
    typer.echo(header + default_config_toml(name), nl=False)


@config_app.command("list")
def list_commands() -> None:
    """List the commands that run from a config (and so can be swept)."""
    from infodyn.experiments.config import COMMANDS

    for spec in COMMANDS.values():
        seeds = ", ".join(spec.seed_keys) or "-"
        typer.echo(f"{spec.name}: config {spec.config}; seed keys {seeds}")
