"""``infodyn report DIR``: write a self-contained ``report.html`` for any run directory."""

from __future__ import annotations

from pathlib import Path

import typer

from infodyn.cli.app import app


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="A run directory written by any infodyn command."),
    title: str = typer.Option(None, "--title", help="Heading of the report."),
) -> None:
    """Embed the figures, tables of results.json and the config in DIR/report.html."""
    from infodyn.experiments.report import write_report

    path = write_report(run_dir, title=title)
    typer.echo(f"report: {path}")
