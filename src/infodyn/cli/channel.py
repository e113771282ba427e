"""``infodyn channel CONFIG.toml --out DIR``: the channel experiment (information vs branching)."""

from __future__ import annotations

from pathlib import Path

import typer

from infodyn.cli.app import app, command_line


@app.command()
def channel(
    config: Path = typer.Argument(
        ..., help="TOML config; its 'channel' table holds the settings (all optional)."
    ),
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    quiet: bool = typer.Option(False, "--quiet", help="No per-network progress lines."),
    resume: bool = typer.Option(
        False, "--resume", help="Continue an interrupted run in DIR (its progress.json)."
    ),
) -> None:
    """Train networks at several input strengths (rate target, with and without an
    information objective) and measure I(stimulus; response), total correlation, rate and
    branching parameter; writes results.json, table.csv and figures."""
    from infodyn.experiments.channel import ChannelFile, run_channel
    from infodyn.experiments.config import load_config
    from infodyn.experiments.interrupt import graceful

    cfg = load_config(config, ChannelFile)
    with graceful(resume=command_line("channel", config, "--out", out, "--resume")):
        results = run_channel(
            cfg.channel, out, progress=not quiet, config_source=cfg, resume=resume
        )
    ch = cfg.channel  # a row per network and condition (untrained included): not networks
    n_networks = len(ch.input_strengths) * len(ch.seeds)
    typer.echo(
        f"channel: {n_networks} network(s) x {1 + len(ch.conditions)} conditions (untrained, "
        f"{', '.join(ch.conditions)}) in {results['wall_seconds']:.0f} s -> {out}"
    )
