"""``infodyn train CONFIG.toml --out DIR [--resume]``: train a network with e-prop or BPTT."""

from __future__ import annotations

from pathlib import Path

import typer

from infodyn.cli.app import app, command_line, fail


@app.command()
def train(
    config: Path = typer.Argument(
        ..., help="TOML config with [network], [task], [[loss]], [training]."
    ),
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    resume: bool = typer.Option(False, "--resume", help="Continue from DIR/checkpoint.npz."),
    allow_config_change: bool = typer.Option(
        False,
        "--allow-config-change",
        help="With --resume: continue although CONFIG differs from DIR/config.json.",
    ),
) -> None:
    """Train a LIF/ALIF network; writes checkpoints, metrics.json, results.json and figures.

    In results.json, "final" is the last iteration's record (its metrics are taken before its
    update) and "trained" the trained weights on [training] batch_size fresh trials, the trials
    of the figures.
    """
    from infodyn.experiments.config import load_config
    from infodyn.experiments.interrupt import graceful
    from infodyn.experiments.sweep_lock import refuse_if_held
    from infodyn.experiments.train_run import LOCK_NAME, TrainConfig, run_training

    if allow_config_change and not resume:  # was accepted and did nothing
        fail("--allow-config-change applies only with --resume (it lets a resume take an edit)")
    cfg = load_config(config, TrainConfig)
    refuse_if_held(out, LOCK_NAME, "training")  # a running one's checkpoint is no interrupted run
    if not resume and (out / "checkpoint.npz").exists():
        fail(
            f"{out} already holds a training checkpoint: pass --resume to continue it, "
            "or choose another --out (nothing was overwritten)"
        )
    with graceful(
        resume=command_line(
            "train",
            config,
            "--out",
            out,
            "--resume",
            *(("--allow-config-change",) if allow_config_change else ()),
        ),  # fmt: skip
        resumable=(out / "checkpoint.npz").is_file,
    ):
        res = run_training(
            cfg,
            out,
            resume=resume,
            progress=True,
            allow_config_change=allow_config_change,
            refuse_complete=True,
        )
    done = res["trained"]  # the trained weights on fresh trials (the figures' trials)
    typer.echo(
        f"trained {res['iterations']} iterations ({res['method']}): loss "
        f"{res['initial_loss']:.4g} -> {res['final_loss']:.4g} (last iteration); trained "
        f"weights on {done['n_trials']} fresh trials: loss {done['loss']:.4g}, mean rate "
        f"{done['mean_rate_hz']:.2f} Hz -> {out}"
    )
