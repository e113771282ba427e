"""``infodyn config show CONFIG.toml``: print the resolved config (every default, with units)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from infodyn.cli.app import app, print_out

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
    from infodyn.errors import InputError
    from infodyn.experiments.config import (
        describe_fields,
        detect_command,
        get_command,
        read_toml,
        recorded_command,
        resolved,
        validate,
    )
    from infodyn.experiments.toml_write import to_toml

    data = read_toml(config)
    made_by = recorded_command(config)  # a run's config.json says what made it
    if command and made_by and get_command(command).name != made_by:
        raise InputError(
            f"{config}: the record of an `infodyn {made_by}` run, not of `infodyn {command}`; "
            f"show it with --command {made_by} (or without --command)"
        )
    command = command or made_by
    spec = get_command(command) if command else detect_command(data, str(config))
    cfg = validate(spec.config_model(), data, source=str(config))
    full = resolved(cfg)
    if as_json:
        print_out(json.dumps({"command": spec.name, "config": full}, indent=2))
        return
    from infodyn._version import __version__

    header = f"# resolved config for `infodyn {spec.name}` (infodyn {__version__}) from {config}\n"
    print_out(header + to_toml(full, describe_fields(cfg)), nl=False)


#: values ``config init`` prints over a command's defaults, so that the file it prints runs
#: well as it is (the defaults themselves stay, or configs written for them would change
#: meaning and their runs refuse to resume). ``train``: those of
#: ``examples/train_pattern_generation.toml`` (loss 15.0 -> 0.078 in its 300 iterations); with
#: the bare defaults (no input scaling, Adam at 1e-3 on w_rec) the loss rose to 840 and the
#: readout ended no better than a constant.
STARTERS: dict[str, dict[str, object]] = {
    "train": {
        "network.input_scaling": "one_minus_alpha",
        "training.lr": 3e-3,
        "training.lr_scale": {"w_rec": 0.0328},
        "training.iterations": 300,
        "loss": [{"kind": "mse"}, {"kind": "rate_reg", "weight": 1e-4, "f_target_hz": 10.0}],
    }
}


@config_app.command("init")
def init(
    command: str = typer.Argument("simulate", help="Command whose default config to print."),
) -> None:
    """Print COMMAND's complete config (a starting point to copy and edit): every key with its
    default, but the few values that make it run well as it is (named at the top)."""
    from infodyn._version import __version__
    from infodyn.experiments.config import default_config_toml, get_command

    name = get_command(command).name
    header = f"# default config for `infodyn {name}` (infodyn {__version__})\n"
    changed = STARTERS.get(name, {})
    if changed:
        header = (
            f"# config for `infodyn {name}` (infodyn {__version__}): every key at its default "
            f"but {', '.join(changed)}, set so that it runs well as it is\n"
        )
    print_out(header + default_config_toml(name, changed), nl=False)


@config_app.command("list")
def list_commands() -> None:
    """List the commands that run from a config (and so can be swept)."""
    from infodyn.experiments.config import COMMANDS

    for spec in COMMANDS.values():
        seeds = ", ".join(spec.seed_keys) or "-"
        print_out(f"{spec.name}: config {spec.config}; seed keys {seeds}")
