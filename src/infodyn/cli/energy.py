"""``infodyn energy SPIKES --out DIR``: fit an energy model to the binary words of a spike file.

``SPIKES`` may also be a TOML config (``infodyn config init energy`` prints one; the file that
``infodyn sweep --command energy`` reads): its keys are the options' names, and an option typed
on the command line overrides its key."""

from __future__ import annotations

from pathlib import Path

import typer

from infodyn.cli._reading import reading_progress
from infodyn.cli.app import app


@app.command()
def energy(
    ctx: typer.Context,
    spikes: Path = typer.Argument(
        ...,
        help="Spike file (.h5, streamed: only the selected units' words are held; .npz, .nwb, "
        "Neo) or phy folder; or a .toml config (infodyn config init energy), whose keys the "
        "options typed here override.",
    ),
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    bin_ms: float = typer.Option(None, "--bin-ms", help="Bin width in ms (default: one step)."),
    units: str = typer.Option(None, "--units", help="Units to use: '0,3,5' or '0-19'."),
    window: int = typer.Option(1, "--window", help="Consecutive bins per word."),
    method: str = typer.Option("mpf", "--method", help="mpf, pl or ml."),
    model: str = typer.Option(
        "pairwise", "--model", help="pairwise, or k_pairwise (+ a potential V(K) on the count)."
    ),
    l2: float = typer.Option(0.0, "--l2", help="L2 penalty on the couplings."),
    l1: float = typer.Option(0.0, "--l1", help="L1 penalty on the couplings."),
    test_fraction: float = typer.Option(0.2, "--test-fraction", help="Held-out end of each trial."),
    validation: float = typer.Option(
        0.1, "--validation", help="Fraction of training words for early stopping (0: off)."
    ),
    patience: int = typer.Option(
        20, "--patience", help="Early stopping: iterations after the best validation score."
    ),
    n_samples: int = typer.Option(20000, "--samples", help="Gibbs samples for statistics."),
    n_memories: int = typer.Option(20, "--memories", help="Memories listed and plotted."),
    max_units: int = typer.Option(
        128, "--max-units", help="Refuse words of more bits (the fit grows as bits^2)."
    ),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Fit an Ising model to binary words; report memories, transitions, likelihood, samples,
    the heat capacity C(T)/N and the Zipf plot."""
    from infodyn.experiments.energy_run import run_energy

    options = {
        "bin_ms": bin_ms,
        "units": units,
        "window": window,
        "method": method,
        "model": model,
        "l2": l2,
        "l1": l1,
        "test_fraction": test_fraction,
        "validation": validation,
        "patience": patience,
        "n_samples": n_samples,
        "n_memories": n_memories,
        "max_units": max_units,
        "seed": seed,
    }
    if spikes.suffix.lower() in (".toml", ".json"):  # a config, or a run's config.json
        from infodyn.experiments.config import load_config, with_overrides
        from infodyn.experiments.energy_run import EnergyRunConfig

        typed = {  # typer's own click: its ParameterSource is not click's
            key: value
            for key, value in options.items()
            if getattr(ctx.get_parameter_source(key), "name", None) == "COMMANDLINE"
        }
        cfg = with_overrides(load_config(spikes, EnergyRunConfig), typed, source="options")
        spikes = Path(cfg.spikes)
    else:
        cfg = {"spikes": str(spikes), **options}
    if not spikes.exists():
        raise FileNotFoundError(2, "no such file", str(spikes))
    with reading_progress():  # a bar of the passes over a large spike file
        r = run_energy(cfg, out)
    h = r["heldout"]
    typer.echo(
        f"{r['bits_per_word']}-bit words ({r['n_train']} train{_of_them(r)}, {r['n_test']} "
        f"test): held-out log-likelihood {h['model_test_bits']:.3f} bits/word vs "
        f"{h['independent_test_bits']:.3f} independent; "
        f"{r['memories']['n_distinct']} memor{'y' if r['memories']['n_distinct'] == 1 else 'ies'}; "
        f"{_peak_words(r['thermodynamics']['heat_capacity'])} -> {out}"
    )
    for w in r["warnings"]:  # the reader's, the fit's, and a failed or overfitted fit
        typer.echo(f"warning: {w}", err=True)
    dropped = r["dropped_constant_bits"]
    if dropped:  # --units 0-9 gave 8-bit words without a word why
        shown = ", ".join(map(str, dropped[:10])) + (" ..." if len(dropped) > 10 else "")
        typer.echo(
            f"warning: {len(dropped)} bit(s) of the words never change in the training words "
            f"and are left out of the model: {shown} (results.json: dropped_constant_bits)",
            err=True,
        )


def _of_them(r: dict) -> str:
    """``" (1600 of them validation)"``: the words held out of the fit for early stopping (the
    summary said 16000 train where 14400 were fitted)."""
    n = r.get("n_validation") or 0
    return f" ({n} of them validation)" if n else ""


def _peak_words(hc: dict) -> str:
    """ "C(T)/N peaks at T = x", or that it rises to an end of the temperature grid."""
    if not hc["peak_at_grid_edge"]:
        sd = hc.get("peak_temperature_err") or 0.0  # 0: exact (and runs before it was kept)
        return f"C(T)/N peaks at T = {hc['peak_temperature']:.2f}" + (
            f" +- {sd:.2f} (block bootstrap)" if sd > 0 else ""
        )
    lo, hi = min(hc["temperatures"]), max(hc["temperatures"])
    end = "highest" if hc["peak_temperature"] == hi else "lowest"
    return f"C(T)/N has no peak in T = {lo:g}-{hi:g} (it is largest at the {end})"
