"""The whole run: every stage of a :class:`PipelineConfig` into one run directory, then
``results.json`` and ``report.html``. No number is made up: a stage that fails or is switched off
is listed in ``results["notes"]``."""

from __future__ import annotations

import os
import time
from typing import Any

from infodyn.data.image_files import check_image_sources, load_images
from infodyn.data.images import DOG_SIGMAS, region_room
from infodyn.data.whitening import dog_radius
from infodyn.errors import InputError
from infodyn.experiments.interrupt import check
from infodyn.experiments.journal import StepJournal, check_resumable
from infodyn.experiments.pipeline.config import PipelineConfig
from infodyn.experiments.pipeline.image_stage import image_energy_stage
from infodyn.experiments.pipeline.network_stage import network_stage
from infodyn.experiments.pipeline.summary import captions, figure_order, headline
from infodyn.experiments.pipeline.training_stage import (
    TRAINING_CHECKPOINT,
    Progress,
    forget_training_checkpoint,
)
from infodyn.experiments.preflight import check_pipeline_memory
from infodyn.experiments.report import write_report
from infodyn.experiments.rundir import RunDir
from infodyn.progress import StageLog


def run_pipeline(
    cfg: PipelineConfig,
    out: str | os.PathLike,
    progress: bool | Progress = False,
    command: str = "images",
    resume: bool = False,
) -> dict[str, Any]:
    """Run every stage of ``cfg`` into run directory ``out``; return the results dict.

    ``progress``: True for the stage log of :mod:`infodyn.progress` (a line per stage and a bar
    on stderr), False for none, or a callable ``progress(stage, fraction)``.
    Finished stages are kept in ``out/progress.json``; after SIGINT/SIGTERM
    (:mod:`infodyn.experiments.interrupt`) ``resume=True`` continues from them.
    """
    check_pipeline_memory(cfg)  # before any stage (or the run directory) is made
    check_image_sources(cfg.images.images)  # a misspelt name failed once its stage began
    check_image_shapes(cfg)
    if callable(progress):
        return _run_stages(cfg, out, progress, command, resume)
    with StageLog(enabled=bool(progress)) as log:
        return _run_stages(cfg, out, log, command, resume)


def check_image_shapes(cfg: PipelineConfig) -> None:
    """Refuse, before any stage, an image smaller than the largest patch a stage cuts from it,
    naming the key: a 3x3 image was refused for the 4x4 stimuli (``[stimulus] size``, unnamed)
    after the 2x2 energy model had run, and a 6-pixel-high one for 7x7 patches after the 2x2.
    Room on both sides of a held-out region split is checked here too (it was found by the
    energy stage, after the 2x2 model had run, in the library's words: ``held_out=0.25``), and a
    held-out image split of one image is refused in the config's words (the library's
    ``split='image'`` was named)."""
    needs = []
    if "image_energy" in cfg.stages:
        needs += [(size, "[images] sizes") for size in cfg.images.sizes]
    if "network" in cfg.stages:
        needs.append((cfg.stimulus.size, "[stimulus] size"))
    if not needs:
        return
    size, key = max(needs)
    images = load_images(cfg.images.images or None)
    if "image_energy" in cfg.stages and cfg.images.split == "image" and len(images) < 2:
        raise InputError(
            f'[images] split = "image" holds out whole images and needs at least two; got '
            f"{', '.join(name for name, _ in images) or 'none'}: give more images (--image) or "
            'split = "region"'
        )
    for name, grey in images:
        if min(grey.shape) < size:
            raise InputError(
                f"{name}: image {grey.shape} is smaller than the {size}x{size} patches of {key}; "
                "use smaller patches or larger images"
            )
    if "image_energy" in cfg.stages and cfg.images.split == "region":
        _check_region_room(cfg, [grey.shape[1] for _, grey in images])


def _check_region_room(cfg: PipelineConfig, widths: list[int]) -> None:
    """Refuse ``[images] sizes`` for which a region split leaves no image room for a training
    or a held-out patch (:func:`~infodyn.data.images.region_room`, with the DoG guard band)."""
    held_out = cfg.images.held_out
    guard = dog_radius(DOG_SIGMAS[1]) if cfg.images.whiten == "dog" else 0
    for size in sorted(cfg.images.sizes, reverse=True):
        rooms = [region_room(width, held_out, size, guard) for width in widths]
        for side, k in (("training", 0), ("held-out", 1)):
            if not any(room[k] for room in rooms):
                band = f" and the {guard}-pixel guard band of the DoG whitening" if guard else ""
                raise InputError(
                    f'[images] held_out = {held_out:g} (split = "region") leaves no image room '
                    f"for the {size}x{size} patches of [images] sizes on the {side} side of its "
                    f"cut (widest image {max(widths)} pixels{band}): use smaller sizes, a "
                    "held_out nearer 0.5 or wider images"
                )


#: what the pipeline writes into its folder besides config.json, results.json and its image
#: models (named by their sizes)
PIPELINE_WRITES = ("network_params.npz", "training_history.json", "report.html")


def _run_stages(
    cfg: PipelineConfig, out: str | os.PathLike, progress: Progress, command: str, resume: bool
) -> dict[str, Any]:
    if resume:  # nothing to resume: refused before the folder is made
        check_resumable(out, command, TRAINING_CHECKPOINT)
    run = RunDir(out, command, writes=PIPELINE_WRITES)
    try:
        with run.locked():
            journal = StepJournal.of_config(run.path, cfg, resume, command)
            with journal.failing():
                return _stages(cfg, run, journal, progress, command, resume)
    except BaseException as exc:  # an image that failed to load left an empty --out folder
        forget_failed_run(run, exc)
        raise


#: the network section's stages in the order they ran
NETWORK_STAGES = ("before_training", "training", "after_training")


def _stages_in_order(res: dict[str, Any]) -> dict[str, Any]:
    """``res`` with its stages last, in the order they ran: the journal keeps a step's result
    with sorted keys, so the report showed "after training" before "before training"."""
    rest = {k: v for k, v in res.items() if k not in NETWORK_STAGES}
    return {**rest, **{k: res[k] for k in NETWORK_STAGES if k in res}}


def forget_failed_run(run: RunDir, exc: BaseException) -> None:
    """Remove the folder a run made (:attr:`RunDir.created`) that failed (not one interrupted:
    its journal is what ``--resume`` continues) when it holds nothing but its journal: a config
    refused at its second stage left ``progress.json`` alone, and the corrected rerun was
    refused as an interrupted run of another config. (In a folder that was there before, the
    journal stays, marked failed: :meth:`StepJournal.failing`.)"""
    if not run.created:
        return
    if isinstance(exc, InputError):  # (an interrupt is no InputError)
        journal = run.path / StepJournal.NAME
        others = [p for p in run.path.iterdir() if p != journal and p.name != "figures"]
        if not others and not any((run.path / "figures").glob("*")):
            journal.unlink(missing_ok=True)
    run.remove_if_empty()


def retire_outputs(run: RunDir) -> None:
    """Remove what a finished run of the pipeline wrote beside its results (only when the
    folder held one: :meth:`RunDir.retire_files`): its figures, image models, trained weights
    and training history. A rerun with fewer stages, sizes or no training kept the
    others, and its report embedded them (a trained run's figures in an untrained one's)."""
    run.retire_files(
        [
            *run.path.glob("figures/*.png"),
            *run.path.glob("image_*x*_model.npz"),
            *(run.file(n) for n in ("network_params.npz", "training_history.json")),
        ]
    )


def _stages(
    cfg: PipelineConfig,
    run: RunDir,
    journal: StepJournal,
    progress: Progress,
    command: str,
    resume: bool,
) -> dict[str, Any]:
    if not resume:  # a checkpoint of an earlier run is not this run's
        forget_training_checkpoint(run)
    if not resume and run.file("results.json").exists():  # a finished run: the stages
        # overwrite its files one by one, so a rerun stopped part way left its model and figures
        # beside the old results: it is an interrupted run of this config from the start
        run.retire_results()
        run.file("report.html").unlink(missing_ok=True)
        retire_outputs(run)
        journal.begin()
    t_start = time.perf_counter()
    notes: list[str] = []
    results: dict[str, Any] = {
        "title": "infodyn: natural image statistics, end to end",
        "summary": (
            "Binarised natural-image patches are modelled by a pairwise energy function (bits "
            "per patch on held-out patches, memories, denoising, samples). Patches then drive a "
            "LIF network through ON/OFF Poisson channels; the network is trained with e-prop "
            "toward a target rate, a global-rate variance constraint and an information "
            "objective, and its responses are analysed (criticality, information) and modelled "
            "by an energy function whose memories are related back to the patches."
        ),
    }
    if "image_energy" in cfg.stages:
        for size in cfg.images.sizes:
            progress(f"energy model of {size}x{size} patches", 0.0)
            key = f"image_energy_{size}x{size}"
            results[key] = journal.get(key) or journal.put(
                key, image_energy_stage(cfg, size, run).numbers
            )
            check(f"the {size}x{size} energy model is done and kept in {journal.path}")
    else:
        notes.append("The energy model of image patches was switched off ([stages]).")
    if "network" in cfg.stages:
        res = journal.get("network")
        if res is None:  # its training leaves a checkpoint: the journal must name this config
            journal.begin()
            res = journal.put("network", network_stage(cfg, run, progress, resume))
            forget_training_checkpoint(run)  # recorded: its checkpoint is spent
        notes.extend(res.pop("notes", []))
        results["network"] = _stages_in_order(res)
        if not cfg.training.enabled or cfg.training.iterations == 0:
            notes.append(
                "Training was switched off: the network results are those of the untrained "
                "network only."
            )
    else:
        notes.append("The network stages were switched off ([stages]).")
    results["wall_seconds"] = time.perf_counter() - t_start
    results = {"headline": headline(results), **results}
    results["notes"] = notes
    results["figure_captions"] = captions(cfg.images.sizes)
    written = {p.stem for p in run.path.glob("figures/*.png")}  # stages switched off write none
    results["figure_order"] = [n for n in figure_order(cfg.images.sizes) if n in written]
    results["sections"] = {
        "headline": "Key numbers",
        **{
            f"image_energy_{s}x{s}": f"Energy model of binarised {s}x{s} patches"
            for s in cfg.images.sizes
        },
        "network": "Network driven by image patches",
    }
    run.finish(cfg, command, results)
    if "report" in cfg.stages:
        progress("writing report.html", 1.0)
        write_report(run.path)
    journal.finish()
    return results
