"""``infodyn demo [--out DIR]``: the short built-in natural-image pipeline (a few minutes)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from infodyn.cli.app import app


@app.command()
def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", help="Run directory to write."),
    quick: bool = typer.Option(
        False, "--quick", help="A quick look: every stage on a small scale (seconds, not minutes)."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in DIR."),
) -> None:
    """Run the main pipeline on built-in images and write DIR/report.html."""
    from infodyn.experiments.pipeline import demo_config, quick_config

    again = f"infodyn demo --out {out}{' --quick' if quick else ''} --resume"
    cfg = quick_config() if quick else demo_config()
    run_with_progress(cfg, out, command="demo", resume=resume, again=again)


def run_with_progress(
    cfg: Any, out: Path, command: str, resume: bool = False, again: str | None = None
) -> dict[str, Any]:
    """Run the pipeline with a live stage line, bar and elapsed time; print the summary.

    SIGINT/SIGTERM stop it after the current step (:mod:`infodyn.experiments.interrupt`);
    ``again`` is the command line that resumes it."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from infodyn.experiments.interrupt import graceful
    from infodyn.experiments.pipeline import run_pipeline, summary_lines
    from infodyn.experiments.preflight import check_pipeline_memory
    from infodyn.experiments.rundir import RunDir

    check_pipeline_memory(cfg)  # refuse before the progress display starts: one clean line
    RunDir(out)

    console = Console(stderr=True)
    t0 = time.perf_counter()
    with (
        graceful(resume=again),
        Progress(
            TextColumn("[bold blue]{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar,
    ):
        task = bar.add_task("starting", total=1.0)
        last = {"stage": None}

        def progress(stage: str, fraction: float) -> None:
            key = stage.split(" ")[0] + (stage.split(":")[0] if ":" in stage else stage)
            if key != last["stage"] and not stage.startswith("training"):
                console.log(f"{stage}  [{time.perf_counter() - t0:.0f} s]")
            last["stage"] = key
            bar.update(task, description=stage, completed=fraction)

        results = run_pipeline(cfg, out, progress=progress, command=command, resume=resume)
    for line in summary_lines(results):
        typer.echo(line)
    typer.echo(f"report: {Path(out) / 'report.html'}  ({time.perf_counter() - t0:.0f} s)")
    return results
