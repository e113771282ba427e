"""Stage 4, the energy model of the response words (phase space): a pairwise model fitted to
binary words of the most active units (held out by trial), its memories (fixed points of
asynchronous descent; Hopfield 1982, PNAS 79:2554), the energy along trajectories, the memory
transition matrix and memory-triggered average patches (the mean stimulus patch at the visits of
each memory)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infodyn.data.notes import muted_warnings
from infodyn.energy import (
    Words,
    heldout_report,
    markov_chain,
    memory_labels,
    memory_triggered_average,
    minimum_distance,
)
from infodyn.energy import fit as fit_energy
from infodyn.experiments.pipeline import figures as pf
from infodyn.experiments.pipeline.config import PipelineConfig
from infodyn.experiments.rundir import RunDir
from infodyn.information import mutual_information, shuffle_corrected_mi


def response_energy(
    words: Words,
    labels: np.ndarray,
    stim_grey: np.ndarray,
    cfg: PipelineConfig,
    tag: str,
    run: RunDir,
) -> dict[str, Any]:
    """Fit the energy model of the response words (first 3/4 of the trials; the rest held out),
    its memories, their frequencies, memory-triggered stimulus patches, I(memory; stimulus) and
    the memory transition chain; saves the two figures of ``tag``."""
    en = cfg.energy
    X = words.X
    active = X.mean(axis=0)
    out: dict[str, Any] = {"n_units": int(X.shape[1]), "n_words": int(len(X))}
    if np.any(active == 0) or np.any(active == 1):
        out["note"] = "some units never (or always) fire in a bin: fit with constant bits allowed"
    # held-out by trial: first 3/4 of trials train, last 1/4 test
    cut = int(np.quantile(np.unique(words.trial), 0.75))
    tr, te = X[words.trial <= cut], X[words.trial > cut]
    model = fit_energy(tr, method=en.method, l2=max(en.l2, 1e-4), allow_constant=True)
    rep = heldout_report(model, tr, te)
    out.update(
        bits_per_word_model_test=rep["model_test_bits"],
        bits_per_word_independent_test=rep["independent_test_bits"],
        gain_over_independent_bits=rep["gain_over_independent_bits"],
    )
    memories = model.fixed_points(method="exhaustive" if X.shape[1] <= 20 else "random")
    out["n_memories"] = int(len(memories))
    out["min_distance"] = int(minimum_distance(memories)) if len(memories) > 1 else None
    lab, mem = memory_labels(model, X, memories=memories)
    freq = np.bincount(lab[lab >= 0], minlength=len(mem)) / len(lab)
    keep = np.argsort(freq)[::-1][: min(12, len(mem))]
    out["memory_frequencies_top"] = [float(freq[k]) for k in keep]
    # stimulus per word: the grey patch of the word's trial
    stim = stim_grey[labels[words.trial]]
    remap = -np.ones(len(mem), dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    lab_top = np.where(lab >= 0, remap[np.maximum(lab, 0)], -1)
    mta, n_ev = memory_triggered_average(
        lab_top, stim, n_memories=len(keep), window=(0, 0), segments=words.trial
    )
    out["memory_triggered_events"] = [int(v) for v in n_ev]
    # I(memory label; stimulus) of words in the response
    with muted_warnings():
        ok = lab >= 0
        memory, stimulus = lab[ok][:, None], labels[words.trial][ok][:, None]
        out["mi_memory_stimulus_bits_plugin"] = float(mutual_information(memory, stimulus))
        # words of one trial share its stimulus and are not independent samples: the null
        # shuffles whole trials (plug-in 0.41 bits after training against a null of 0.02)
        out["mi_memory_stimulus_bits_trial_shuffle_corrected"] = float(
            shuffle_corrected_mi(
                memory, stimulus, n_shuffles=20, seed=cfg.analysis.seed, groups=words.trial[ok]
            )
        )
    chain = markov_chain(lab_top, n_states=len(keep), segments=words.trial)
    out["memory_chain_entropy_rate_bits"] = float(chain.entropy_rate_bits)
    out["memory_stationary_entropy_bits"] = float(chain.stationary_entropy_bits)
    size = int(round(math.sqrt(stim_grey.shape[1])))
    run.savefig(
        pf.response_memories_figure(mem[keep], mta[:, 0], n_ev, freq[keep], size),
        f"network_{tag}_memories_and_triggered_patches",
    )
    first = words.trial == words.trial[0]
    run.savefig(
        pf.energy_trajectory_figure(
            model.energy(X[first]), lab_top[first], words.bin_ms, chain.transition
        ),
        f"network_{tag}_energy_trajectory",
    )
    return out
