"""``infodyn demo [--out DIR]``: the short built-in natural-image pipeline (a few minutes)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from infodyn.cli.app import app, command_line


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

    again = command_line("demo", "--out", out, *(("--quick",) if quick else ()), "--resume")
    cfg = quick_config() if quick else demo_config()
    run_with_progress(cfg, out, command="demo", resume=resume, again=again)


def run_with_progress(
    cfg: Any, out: Path, command: str, resume: bool = False, again: str | None = None
) -> dict[str, Any]:
    """Run the pipeline with its stage log (:class:`infodyn.progress.StageLog`: a line per stage
    and a bar on stderr); print the summary.

    SIGINT/SIGTERM stop it after the current step (:mod:`infodyn.experiments.interrupt`);
    ``again`` is the command line that resumes it."""
    from infodyn.data.image_files import check_image_sources
    from infodyn.experiments.interrupt import graceful
    from infodyn.experiments.journal import check_resumable
    from infodyn.experiments.pipeline import run_pipeline, summary_lines
    from infodyn.experiments.pipeline.run import PIPELINE_WRITES, forget_failed_run
    from infodyn.experiments.pipeline.training_stage import TRAINING_CHECKPOINT
    from infodyn.experiments.preflight import check_pipeline_memory
    from infodyn.experiments.rundir import RunDir

    check_pipeline_memory(cfg)  # refuse before the progress display starts: one clean line
    check_image_sources(cfg.images.images)  # (and before the run folder is made)
    if resume:
        check_resumable(out, command, TRAINING_CHECKPOINT)
    # (another command's folder, or the user's own files in the way: refused before the display)
    run = RunDir(out, command, writes=PIPELINE_WRITES)

    t0 = time.perf_counter()
    with graceful(resume=again):
        try:
            results = run_pipeline(cfg, out, progress=True, command=command, resume=resume)
        except BaseException as exc:  # the pipeline's RunDir did not make the folder: this one did
            forget_failed_run(run, exc)
            raise
    for line in summary_lines(results):
        typer.echo(line)
    # without the report stage there is no report.html to point to
    label, name = (
        ("report", "report.html") if "report" in cfg.stages else ("results", "results.json")
    )
    typer.echo(f"{label}: {Path(out) / name}  ({time.perf_counter() - t0:.0f} s)")
    return results
