"""``infodyn info SPIKES --out DIR``: entropies, pairwise MI, TC and O-information of spikes."""

from __future__ import annotations

from pathlib import Path

import typer

from infodyn.cli.app import app


@app.command()
def info(
    spikes: Path = typer.Argument(..., help="Spike file (.h5, .npz, .nwb, Neo) or phy folder."),
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    bin_ms: float = typer.Option(None, "--bin-ms", help="Bin width in ms (default: one step)."),
    estimator: str = typer.Option(
        "plugin", help="Entropy estimator: plugin, miller_madow or nsb."
    ),
    max_population: int = typer.Option(
        16, "--max-population", help="Most active units used for TC and O-information."
    ),
    n_shuffles: int = typer.Option(10, "--shuffles", help="Shuffled surrogates for the baseline."),
    seed: int = typer.Option(0, help="Seed of the shuffles."),
) -> None:
    """Per-neuron entropies, pairwise MI matrix, total correlation and O-information."""
    from infodyn.experiments.info_run import run_info

    r = run_info(spikes, out, bin_ms=bin_ms, estimator=estimator,
                 max_population=max_population, n_shuffles=n_shuffles, seed=seed)
    pop = r["population"]
    line = (f"{r['n_units']} units, {r['n_samples']} bins of {r['bin_ms']:g} ms: "
            f"mean H {r['entropy_bits']['mean']:.3f} bits, mean pairwise MI "
            f"{r['pairwise_mi_bits']['mean']:.4f} bits")
    if pop is not None:
        line += (f"; {len(pop['units'])}-unit TC {pop['total_correlation']:.3f}, "
                 f"O-information {pop['o_information']:.3f} bits")
    typer.echo(f"{line} -> {out}")
