"""``infodyn simulate CONFIG.toml --out DIR``: run a network and save its spikes and figures."""

from __future__ import annotations

from pathlib import Path

import typer

from infodyn.cli.app import app


@app.command()
def simulate(
    config: Path = typer.Argument(..., help="TOML config with [network], [input], [simulation]."),
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    engine: str = typer.Option(None, help="Override [simulation] engine: auto, jax or event."),
) -> None:
    """Simulate a LIF/ALIF network; writes spikes.h5, a raster, rates and results.json.

    Ctrl-C (or SIGTERM) stops after the current chunk of steps and leaves --out as it was.
    """
    from infodyn.experiments.config import SimulateConfig, load_config, with_overrides
    from infodyn.experiments.interrupt import graceful, requested
    from infodyn.experiments.simulate_run import run_simulation

    cfg = load_config(config, SimulateConfig)
    cfg = with_overrides(cfg, {"simulation.engine": engine}, source="--engine")
    # SIGINT/SIGTERM: stop after the current chunk, leave --out as it was (no checkpoint)
    with graceful(doing="stopping after the current chunk; --out is left as it was"):
        results = run_simulation(cfg, out, progress=True)
        late = requested()  # came while the finished run's files were being written
    if late is not None:
        typer.echo(f"infodyn: {late} came as the finished run was written: it is whole", err=True)
    typer.echo(
        f"simulated {results['n_steps']} steps of {results['n_units']} units "
        f"({results['engine']} engine): mean rate {results['mean_rate_hz']:.2f} Hz -> {out}"
    )
