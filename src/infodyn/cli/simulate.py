"""``infodyn simulate CONFIG.toml --out DIR [--resume]``: run a network, save its spikes and
figures."""

from __future__ import annotations

from pathlib import Path

import typer

from infodyn.cli.app import app, command_line


@app.command()
def simulate(
    config: Path = typer.Argument(..., help="TOML config with [network], [input], [simulation]."),
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    engine: str = typer.Option(None, help="Override [simulation] engine: auto, jax or event."),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue the interrupted run in DIR/checkpoint/, or extend the finished run in "
        "DIR to a larger [input] n_steps.",
    ),
) -> None:
    """Simulate a LIF/ALIF network; writes spikes.h5, a raster, rates and results.json.

    A checkpoint is written to DIR/checkpoint/ every [simulation] checkpoint_seconds (60 by
    default). Ctrl-C (or SIGTERM) stops after the current chunk of steps with a checkpoint;
    --resume continues it with the spikes of one uninterrupted run. A finished run is extended
    by raising [input] n_steps and resuming: only the new steps run. A run that was in DIR
    before stays whole until the new one has finished.
    """
    from infodyn.experiments.config import SimulateConfig, load_config, with_overrides
    from infodyn.experiments.interrupt import graceful, requested
    from infodyn.experiments.simulate_run import run_simulation

    cfg = load_config(config, SimulateConfig)
    cfg = with_overrides(cfg, {"simulation.engine": engine}, source="--engine")
    doing = "finishing the current chunk of steps and writing a checkpoint"
    engine_words = ("--engine", engine) if engine else ()
    again = command_line("simulate", config, "--out", out, *engine_words, "--resume")
    state = out / "checkpoint" / "state.npz"  # a second signal's line names --resume only then
    with graceful(resume=again, doing=doing, resumable=state.is_file):
        results = run_simulation(cfg, out, progress=True, resume=resume)
        late = requested()  # came while the finished run's files were being written
    if late is not None:
        typer.echo(f"infodyn: {late} came as the finished run was written: it is whole", err=True)
    resumed = results.get("resumed_from_step")
    typer.echo(
        f"simulated {results['n_steps']} steps of {results['n_units']} units "
        f"({results['engine']} engine"
        + (f", resumed at step {resumed}" if resumed is not None else "")
        + f"): mean rate {results['mean_rate_hz']:.2f} Hz -> {out}"
    )
