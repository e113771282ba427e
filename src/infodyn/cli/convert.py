"""``infodyn convert IN OUT.h5``: any spike source infodyn reads, written as infodyn's HDF5."""

from __future__ import annotations

from pathlib import Path

import typer

from infodyn.cli.app import app


@app.command()
def convert(
    source: Path = typer.Argument(
        ...,
        help="Spike file or recording: .h5, .npz, .nwb, a Kilosort/phy folder, a NEST spike "
        "recorder's .dat file, or a Neo file.",
    ),
    out: Path = typer.Argument(..., help="infodyn HDF5 spike file to write (.h5)."),
    dt: float = typer.Option(
        None,
        "--dt",
        help="Bin in ms for spike times (seconds, or NEST's ms; default 1, or the NWB file's).",
    ),
    groups: str = typer.Option(
        "good", "--groups", help="phy cluster labels to keep, e.g. 'good,mua', or 'all'."
    ),
    force: bool = typer.Option(False, "--force", help="Replace OUT if it exists."),
) -> None:
    """Read SOURCE (binning spike times into DT ms steps) and write OUT in infodyn's format."""
    from infodyn.data.io import load_spikes
    from infodyn.data.spike_files import is_h5_path, save_spikes
    from infodyn.errors import InputError

    if not source.exists():  # first: "OUT exists; pass --force" came before it
        raise InputError(f"{source}: no such file or folder")
    if not is_h5_path(out):
        raise InputError(f"{out}: the output must be an infodyn HDF5 file (.h5 or .hdf5)")
    if out.exists() and source.exists() and out.resolve() == source.resolve():
        raise InputError(f"{out}: is SOURCE itself; write to another file (the input is kept)")
    if out.exists() and not force:  # a run's spikes.h5 was replaced under its results.json
        raise InputError(f"{out}: exists; pass --force to replace it, or write to another file")
    spikes = load_spikes(source, dt=dt, groups=groups)
    if spikes.n_spikes == 0:  # every analysis command refuses such a file
        raise InputError(f"{source}: holds no spikes (of the kept units): nothing to convert")
    save_spikes(out, spikes, replace=force)  # (one made meanwhile is not replaced either)
    typer.echo(
        f"{spikes.n_units} units, {spikes.n_spikes} spikes, {spikes.n_trials} trial(s) of "
        f"{spikes.n_steps} steps of {spikes.dt:g} ms -> {out}"
    )
