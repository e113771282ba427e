"""``infodyn images CONFIG.toml --out DIR``: the natural-image pipeline with options."""

from __future__ import annotations

from pathlib import Path

import typer

from infodyn.cli.app import app, command_line


@app.command()
def images(
    config: Path = typer.Argument(
        None,
        help="TOML config with the tables images, energy, stimulus, network, training, "
        "analysis and the key stages (see examples/images.toml); omitted: the defaults.",
    ),
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    image: list[str] = typer.Option(
        [],
        "--image",
        help="Built-in image name, image file or folder (repeat); overrides the config image list.",
    ),
    sizes: str = typer.Option(None, "--sizes", help="Patch sizes for the energy model, e.g. 4,8."),
    iterations: int = typer.Option(None, "--iterations", help="e-prop training iterations."),
    no_train: bool = typer.Option(False, "--no-train", help="Analyse the untrained network only."),
    seed: int = typer.Option(
        None,
        "--seed",
        help="Seed of the patches ([images] seed) and of the network's training ([training] "
        "seed); the stimuli take SEED + 1, [analysis] seed is left as it is.",
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in DIR."),
) -> None:
    """Energy models of image patches, an image-driven network trained with e-prop, its
    criticality, information and phase-space energy model; writes report.html."""
    from infodyn.cli.demo import run_with_progress
    from infodyn.experiments.config import load_config, validate
    from infodyn.experiments.pipeline import PipelineConfig, apply_overrides

    cfg = (
        load_config(config, PipelineConfig) if config is not None else validate(PipelineConfig, {})
    )
    cfg = apply_overrides(
        cfg,
        images=image or None,
        sizes=sizes,
        iterations=iterations,
        train=False if no_train else None,
        seed=seed,
    )
    import sys

    again = command_line(*[a for a in sys.argv[1:] if a != "--resume"], "--resume")
    run_with_progress(cfg, out, command="images", resume=resume, again=again)
