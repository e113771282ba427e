"""Stages 2 to 4 for the network: stimuli, responses before training, training, responses after
training; each a function of :mod:`infodyn.experiments.pipeline` with a typed result."""

from __future__ import annotations

from typing import Any

from infodyn.experiments.pipeline import figures as pf
from infodyn.experiments.pipeline.analysis import analyse_responses, criticality_notes
from infodyn.experiments.pipeline.config import PipelineConfig, branching_bin_steps
from infodyn.experiments.pipeline.stimulus_stage import stimulus_stage
from infodyn.experiments.pipeline.training_stage import Progress, training_stage
from infodyn.experiments.rundir import RunDir
from infodyn.network.params_file import save_params


def network_stage(
    cfg: PipelineConfig, run: RunDir, progress: Progress, resume: bool = False
) -> dict[str, Any]:
    """Stimuli, training, and the analysis of responses before and after training; returns the
    ``network`` section of ``results.json`` (with its ``notes``). Training stops after an
    iteration on SIGINT/SIGTERM with ``training/checkpoint.npz`` (``resume`` continues it)."""
    tr = cfg.training
    stim = stimulus_stage(cfg, run)
    res: dict[str, Any] = {**stim.summary(), "trial_ms": cfg.stimulus.trial_ms}
    notes: list[str] = []
    res["notes"] = notes
    progress("analysing the untrained network", 0.0)
    before = analyse_responses(stim.net, stim.params0, stim.task, stim.grey, cfg, "before", run)
    res["before_training"] = before.numbers
    notes.extend(criticality_notes(before.numbers, "before training"))
    if not (tr.enabled and tr.iterations > 0):
        res["training"] = {"enabled": False}
        run.savefig(pf.rates_figure(before.rates, None, tr.rate_target_hz), "network_rates")
        return res
    bins = branching_bin_steps(stim.net, cfg.analysis.branching_bin_ms)
    trained = training_stage(tr, stim, run, progress, resume, bins)
    res["training"] = trained.summary
    progress("analysing the trained network", 1.0)
    after = analyse_responses(stim.net, trained.params, stim.task, stim.grey, cfg, "after", run)
    res["after_training"] = after.numbers
    notes.extend(criticality_notes(after.numbers, "after training"))
    run.savefig(
        pf.rates_figure(before.rates, after.rates, tr.rate_target_hz),
        "network_rates_before_after",
    )
    # a sparse w_rec (k_in) or private w_in is a SparseWeights: save_npz refused it after
    # every stage had run, and the run's results were lost
    save_params(run.file("network_params.npz"), trained.params)
    return res
