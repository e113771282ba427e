"""``infodyn info SPIKES --out DIR``: entropies, pairwise MI, TC and O-information of spikes."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from infodyn.cli._reading import reading_progress
from infodyn.cli.app import app


@app.command()
def info(
    spikes: Path = typer.Argument(..., help="Spike file (.h5, .npz, .nwb, Neo) or phy folder."),
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    bin_ms: float = typer.Option(None, "--bin-ms", help="Bin width in ms (default: one step)."),
    estimator: str = typer.Option("plugin", help="Entropy estimator: plugin, miller_madow or nsb."),
    max_population: int = typer.Option(
        16, "--max-population", help="Most active units used for TC and O-information."
    ),
    n_shuffles: int = typer.Option(10, "--shuffles", help="Shuffled surrogates for the baseline."),
    seed: int = typer.Option(0, min=0, max=2**32 - 1, help="Seed of the shuffles."),
    units: str = typer.Option(None, "--units", help="Units to analyse: '0,3,5' or '0-19'."),
    max_units: int = typer.Option(
        256, "--max-units", help="Without --units, larger files use their most active units."
    ),
    base: str = typer.Option(
        "2",
        "--base",
        help="Log base of the results: 2 (bits), e (nats), 10, or any number > 1.",
    ),
) -> None:
    """Per-neuron entropies, pairwise MI matrix, total correlation and O-information.

    HDF5 spike files are streamed: only the analysed units' binned words are held in memory."""
    from infodyn.experiments.info_run import run_info
    from infodyn.information._inputs import unit_key

    with reading_progress():  # a bar of the passes over a large spike file
        r = run_info(
            spikes,
            out,
            bin_ms=bin_ms,
            estimator=estimator,
            max_population=max_population,
            n_shuffles=n_shuffles,
            seed=seed,
            units=units,
            max_units=max_units,
            base=_log_base(base),
        )
    pop = r["population"]
    unit = r["unit"]
    u = unit_key(r["base"])
    pair_mean = r[f"pairwise_mi_{u}"]["mean"]
    line = (
        f"{r['n_units']} unit{'s' if r['n_units'] != 1 else ''}, {r['n_samples']} bins of "
        f"{r['bin_ms']:g} ms: "
        f"mean H {r[f'entropy_{u}']['mean']:.3f} {unit}, mean pairwise MI "
        + (f"{pair_mean:.4f} {unit}" if pair_mean is not None else "- (one unit: no pairs)")
    )
    if pop is not None:
        tc, oi = pop["total_correlation_corrected"], pop["o_information_corrected"]
        if tc is not None:  # the numbers results.json reports: minus the shuffle baseline
            line += (
                f"; {len(pop['units'])}-unit TC {tc:.3f}, O-information {oi:.3f} {unit} "
                f"(shuffle-corrected)"
            )
        else:
            line += (
                f"; {len(pop['units'])}-unit TC {pop['total_correlation']:.3f}, "
                f"O-information {pop['o_information']:.3f} {unit} (uncorrected: --shuffles 0)"
            )
    typer.echo(f"{line} -> {out}")
    for w in r["warnings"]:
        typer.echo(f"warning: {w}", err=True)


def _log_base(text: str) -> float:
    """``--base``: ``e`` or a number (the library refuses text, so the option is read here)."""
    from infodyn.errors import InputError  # NumPy waits for a command that needs it

    word = text.strip().lower()
    if word == "e":
        return math.e
    try:
        return float(word)
    except ValueError:
        raise InputError(f"base must be a number > 1 (2: bits, e: nats), got {text!r}") from None
