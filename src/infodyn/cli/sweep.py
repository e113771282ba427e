"""``infodyn sweep CONFIG.toml --grid KEY=V1,V2 [--seeds N] --out DIR``: a grid on Dask."""

from __future__ import annotations

from pathlib import Path

import typer

from infodyn.cli.app import app


@app.command()
def sweep(
    config: Path = typer.Argument(..., help="Base TOML config of the command being swept."),
    grid: list[str] = typer.Option(
        [], "--grid", help="KEY=V1,V2,... or KEY=START:STOP:NUM over a dotted config key; repeat."
    ),
    seeds: int = typer.Option(None, "--seeds", min=1, help="Run every grid point with N seeds."),
    out: Path = typer.Option(..., "--out", help="Sweep directory (rerun to resume)."),
    command: str = typer.Option("simulate", "--command", help="Command to run at each point."),
    scheduler: str = typer.Option(
        None,
        "--scheduler",
        help="Address (tcp://HOST:8786) or scheduler file (JSON) of a running Dask scheduler "
        "(default: local cluster).",
    ),
    workers: int = typer.Option(2, "--workers", min=1, help="Local cluster worker processes."),
    retries: int = typer.Option(2, "--retries", min=0, help="Retries of a point that raised."),
    batch: int = typer.Option(
        1, "--batch", min=1, help="vmap up to N compatible small networks in one task (simulate)."
    ),
    metric: str = typer.Option(None, "--metric", help="Result plotted in the summary figure."),
    connect_timeout: float = typer.Option(10.0, help="Seconds (> 0) to wait for --scheduler."),
) -> None:
    """Run COMMAND at every grid point on Dask; finished points are reused on rerun."""
    import shlex
    import sys

    from infodyn.errors import InputError
    from infodyn.experiments.config import read_toml, recorded_command
    from infodyn.experiments.interrupt import graceful
    from infodyn.experiments.sweep import parse_grid, run_sweep

    # a run's config.json: of a command with configs, and of this one (a sweep's own record
    # was "[command] unknown key; [base] unknown key; [--grid] unknown key")
    made_by = recorded_command(config)
    if made_by is not None and made_by != command:
        raise InputError(
            f"{config}: the record of an `infodyn {made_by}` run; sweep it with --command "
            f"{made_by} (this sweep runs {command})"
        )
    base = read_toml(config)
    parsed = parse_grid(grid)
    again = shlex.join(["infodyn", *sys.argv[1:]]) + " (the same command)"
    # the points already running go on to their end (their own results are kept)
    with graceful(resume=again, doing="letting the running points finish; no new point starts"):
        result = run_sweep(
            command,
            base,
            parsed,
            out,
            seeds=seeds,
            scheduler=scheduler,
            n_workers=workers,
            retries=retries,
            batch_size=batch,
            connect_timeout=connect_timeout,
            metric=metric,
            progress=True,
            source=f"{config} (base config)",
            config_file=config,
        )
    typer.echo(
        f"sweep of {result.n_points} point{'' if result.n_points == 1 else 's'}: "
        f"{result.n_ran} ran, {result.n_skipped} done "
        f"earlier, {result.n_failed} failed ({result.wall_seconds:.1f} s) -> {out}/results.csv"
    )
    for note in result.notes:
        typer.echo(f"warning: {note}", err=True)
    errors = {f["error"] for f in result.failures}
    bad_input = all(e.startswith("InputError: ") for e in errors)
    every = len(result.failures) == result.n_points  # no point to name apart
    if every and len(errors) == 1 and bad_input:  # say it once
        which = (
            "its one point failed on bad input"
            if result.n_points == 1
            else f"all {result.n_points} points failed on the same input"
        )
        raise InputError(f"{which}: {errors.pop().removeprefix('InputError: ')}")
    for f in result.failures:
        typer.echo(f"  failed: {f['point']}: {f['error']}", err=True)
    if result.failures:
        raise typer.Exit(2 if bad_input else 1)  # bad input: the exit code of every command
