"""One point of the channel sweep (:func:`run_one`) and the whole sweep into a run directory
(:func:`run_channel`)."""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infodyn.atomic import write_csv
from infodyn.errors import InputError, is_finite_number, require
from infodyn.experiments.channel.config import ChannelConfig, ChannelFile
from infodyn.experiments.channel.measures import network_measures
from infodyn.experiments.channel.summary import channel_figures, condition_means, summarize
from infodyn.experiments.channel.training import TrainResult, make_loss, train_network
from infodyn.experiments.interrupt import check
from infodyn.experiments.journal import StepJournal, check_resumable
from infodyn.experiments.preflight import check_trials_memory
from infodyn.experiments.rundir import RunDir
from infodyn.learning.adaptation import LIFAdaptationConfig
from infodyn.network import LIF
from infodyn.network.encoders import StimulusSet
from infodyn.progress import ProgressBar

TRAINING_CHECKPOINTS = "training_checkpoints"  # a folder per training in progress


def build_channel_network(cfg: ChannelConfig, strength: float):
    """The channel's LIF network at input strength ``strength`` (its ``in_scale``): one readout
    unit per stimulus, readout time constant = ``tau_m``."""
    return LIF(
        n_in=cfg.n_in,
        n_rec=cfg.n_rec,
        n_out=cfg.n_stimuli,
        tau_m=cfg.tau_m,
        tau_out=cfg.tau_m,
        v_th=cfg.v_th,
        n_ref=cfg.n_ref,
        in_scale=strength,
        rec_scale=cfg.rec_scale,
    )


def _stimuli(cfg: ChannelConfig, seed: int) -> StimulusSet:
    """The frozen stimuli of one seed (constant rates uniform on [0, 2 x mean], or filtered
    noise)."""
    if cfg.stimulus == "constant":
        return StimulusSet.constant(
            cfg.n_stimuli, cfg.n_steps, cfg.n_in, 2.0 * cfg.input_rate_hz, seed=seed
        )
    return StimulusSet.filtered_noise(
        cfg.n_stimuli, cfg.n_steps, cfg.n_in, cfg.input_rate_hz, cfg.contrast, seed=seed
    )


def run_one(
    cfg: ChannelConfig,
    strength: float,
    seed: int,
    journal: StepJournal | None = None,
    checkpoints: str | os.PathLike | None = None,
) -> list[dict[str, Any]]:
    """All conditions for one input strength and seed: one row per condition.

    With a ``journal``, each condition's row is recorded there once done and taken from it
    when it is there (a resumed run), and each training is checkpointed in a folder of its own
    under ``checkpoints`` (removed once its row is recorded) and continued from the checkpoint
    it finds there: a kill loses at most a tenth of one training."""
    net = build_channel_network(cfg, strength)
    stim = _stimuli(cfg, seed)
    params0 = net.init(seed=seed)
    x_test, lab_test = stim.trials(cfg.test_trials_per_stimulus, seed=10_000_019 + seed)
    info_opts = {
        "bin_steps": cfg.bin_steps,
        "subset_size": cfg.subset_size,
        "n_subsets": cfg.n_subsets,
        "n_shuffles": cfg.n_shuffles,
        "seed": seed,
    }

    def measure(result: TrainResult) -> dict[str, Any]:
        net_m, params_m, prep = result.network(net)
        tr = net_m.simulate(params_m, prep(x_test), engine="jax")
        return network_measures(tr.z, lab_test, net.dt, cfg.response_start, info_opts)

    adaptation = None
    if cfg.adaptation:
        adaptation = LIFAdaptationConfig(
            target_rate_hz=cfg.r0_hz, window_ms=cfg.adapt_window_ms, rule=cfg.adaptation_rule
        )

    def kept(cond: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if journal is None:
            return make()
        step = f"strength={strength!r} seed={seed} condition={cond}"
        row = journal.get(step) or journal.put(step, make())
        if checkpoints is not None:  # the training's checkpoint is of no more use
            shutil.rmtree(training_folder(cond), ignore_errors=True)
        return row

    def training_folder(cond: str) -> Path | None:
        if checkpoints is None:
            return None
        return Path(checkpoints) / f"strength={strength!r}_seed={seed}_{cond}"

    def untrained() -> dict[str, Any]:
        return {
            "strength": strength,
            "seed": seed,
            "condition": "untrained",
            **measure(TrainResult(params0, [])),
            "train_seconds": 0.0,
        }

    def trained(cond: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        result = train_network(
            net,
            params0,
            stim,
            lambda labels, cond=cond: make_loss(
                cond, cfg.r0_hz, cfg.rate_weight, cfg.info_weight, cfg.objective, labels, cfg.gamma
            ),
            cfg.n_iterations,
            cfg.trials_per_stimulus,
            cfg.response_start,
            lr=cfg.lr,
            method=cfg.method,
            seed=seed,
            adaptation=adaptation,
            checkpoint=training_folder(cond),
            resume=True,  # from a checkpoint that is there: run_channel's own
        )
        return {
            "strength": strength,
            "seed": seed,
            "condition": cond,
            **measure(result),
            "train_seconds": time.perf_counter() - t0,
            "final_loss": result.history[-1]["loss"] if result.history else float("nan"),
        }

    rows = [kept("untrained", untrained)]
    rows += [kept(cond, lambda cond=cond: trained(cond)) for cond in cfg.conditions]
    return rows


def run_channel_file(cfg: ChannelFile, out: str | os.PathLike, resume: bool = False):
    """:func:`run_channel` for a whole ``infodyn channel`` config file (its ``[channel]``)."""
    return run_channel(cfg.channel, out, config_source=cfg, resume=resume)


def run_channel(
    cfg: ChannelConfig,
    out: str | os.PathLike,
    progress: bool = False,
    config_source: Any = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Run the sweep into run directory ``out``; returns the results dict.

    ``progress=True``: a bar over the networks and one line per network with its branching
    parameter, information and rate (:mod:`infodyn.progress`, on stderr).
    Each finished (strength, seed) is kept in ``out/progress.json``; after SIGINT/SIGTERM
    (:mod:`infodyn.experiments.interrupt`) the run stops there and ``resume=True`` continues.
    """
    require(
        len(cfg.input_strengths) >= 1 and all(g >= 0 for g in cfg.input_strengths),
        "input_strengths must be a non-empty list of values >= 0",
    )
    require(len(cfg.seeds) >= 1, "give at least one seed")
    most = max(cfg.trials_per_stimulus, cfg.test_trials_per_stimulus)
    check_trials_memory(
        cfg.n_stimuli * most,
        cfg.n_steps,
        cfg.n_in,
        cfg.n_rec,
        "a batch of the channel's trials",
        "use fewer n_steps, trials_per_stimulus or test_trials_per_stimulus",
    )
    if cfg.stimulus == "filtered_noise":  # its peak rate depends on the seed's noise: drawn
        for seed in cfg.seeds:  # here, before the folder (it failed mid-run, naming no key)
            try:
                _stimuli(cfg, seed)
            except InputError as exc:
                raise InputError(
                    f"[channel] input_rate_hz = {cfg.input_rate_hz:g} with contrast = "
                    f"{cfg.contrast:g} (seed {seed}): {exc}; lower either"
                ) from None
    if resume:  # before RunDir makes the folder: a misspelt --out is left unmade
        check_resumable(out, "channel")
    run = RunDir(out, "channel", hold_figures=True, writes=("table.csv",))
    with run.locked():  # one run at a time in the folder
        return _channel_in(cfg, run, progress, config_source, resume)


def _channel_in(
    cfg: ChannelConfig, run: RunDir, progress: bool, config_source: Any, resume: bool
) -> dict[str, Any]:
    """:func:`run_channel`'s run, in its folder ``run`` (held)."""
    journal = StepJournal.of_config(run.path, cfg, resume, "channel")
    if not resume:  # a failed run's (a plain rerun starts afresh over it)
        shutil.rmtree(run.file(TRAINING_CHECKPOINTS), ignore_errors=True)
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    n_networks = len(cfg.input_strengths) * len(cfg.seeds)
    with (
        ProgressBar("channel", n_networks, enabled=progress, unit="networks") as bar,
        journal.failing(),
    ):
        for done, (g, s) in enumerate(itertools.product(cfg.input_strengths, cfg.seeds), 1):
            rows.extend(run_one(cfg, g, s, journal, run.file(TRAINING_CHECKPOINTS)))
            check(f"{done} of {n_networks} networks done and kept in {journal.path}")
            last = rows[-1]
            bar.update(advance=1)
            m = f"m={last['m']:.3f}" if is_finite_number(last["m"]) else "m not resolved"
            bar.log(  # the last condition's row: named (it read as the network's)
                f"strength {g:g} seed {s}, {last['condition']}: {m} "
                f"I={last['mi_bits']:.3f} bits rate={last['rate_hz']:.1f} Hz"
            )
    summary = summarize(rows)
    fig1, fig2 = channel_figures(summary)
    run.savefig(fig1, "info_vs_branching")
    run.savefig(fig2, "before_after")
    run.retire_results()
    write_csv(run.file("table.csv"), rows)
    results = {
        "rows": rows,
        "summary": summary,
        "means": condition_means(rows),
        "wall_seconds": time.perf_counter() - t0,
        "files": {
            "table": "table.csv",
            "figures": ["figures/info_vs_branching.png", "figures/before_after.png"],
        },
    }
    run.finish(config_source if config_source is not None else cfg, "channel", results)
    journal.finish()
    shutil.rmtree(run.file(TRAINING_CHECKPOINTS), ignore_errors=True)
    return results
