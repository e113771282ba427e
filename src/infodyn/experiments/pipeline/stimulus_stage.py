"""Stage 2a, stimuli and network: ``n_stimuli`` natural patches encoded as ON/OFF Poisson rates
(:func:`~infodyn.network.encoders.encode_patches`) drive a LIF network; one patch per trial
(:class:`~infodyn.learning.tasks.PatchTask`), optionally with fixational drift."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.data import BUILTIN_IMAGES, builtin_image, load_images, natural_patches
from infodyn.errors import InputError, require
from infodyn.experiments.config import build_network
from infodyn.experiments.pipeline import figures as pf
from infodyn.experiments.pipeline.config import PipelineConfig
from infodyn.experiments.rundir import RunDir
from infodyn.learning.tasks import PatchTask
from infodyn.network.encoders import encode_patches


@dataclass
class Stimuli:
    """The network and its task: grey stimulus patches (K, size^2), their ON/OFF rates (K, 2
    size^2) in Hz, the network, the initial weights and the :class:`PatchTask` of the trials."""

    grey: np.ndarray
    rates: np.ndarray
    net: Any
    params0: dict[str, np.ndarray]
    task: PatchTask

    def summary(self) -> dict[str, Any]:
        """The network's size and the stimulus set, for ``results.json``."""
        return {
            "n_in": self.net.n_in,
            "n_rec": self.net.n_rec,
            "n_out": self.net.n_out,
            "stimulus_patches": int(self.rates.shape[0]),
        }


def stimulus_stage(cfg: PipelineConfig, run: RunDir) -> Stimuli:
    """Pick the stimulus patches, encode them, build the network and its task."""
    st, tr, im = cfg.stimulus, cfg.training, cfg.images
    require(st.response_start_ms < st.trial_ms, "[stimulus] response_start_ms >= trial_ms")
    try:  # its own floor ([images] min_contrast raised to a hidden 0.05 here, unnamed)
        pool = natural_patches(
            size=st.size,
            n=max(20 * st.n_stimuli, 200),
            seed=st.seed,
            images=im.images or None,
            min_contrast=st.min_contrast,
            details=True,
        )
    except InputError as exc:
        if "min_contrast" not in str(exc):
            raise
        raise InputError(f"[stimulus] {exc}") from None
    # patches of distinct input (a small image repeats them: two of four stimuli were one
    # patch, and H(S) = log2 n_stimuli was reported), told apart by what the encoder takes of
    # them, their contrast (its rates at unit gain): patches that differ in brightness or
    # contrast scale only (a ramp's) drove the network alike; every pool index when none
    # repeats (gain_hz = 0, a control without stimulus, keeps distinct patches)
    grey = pool.grey.reshape(len(pool.grey), -1)
    _, first = np.unique(np.round(encode_patches(grey, 0.0, 1.0), 9), axis=0, return_index=True)
    distinct = np.sort(first)
    require(
        distinct.size >= st.n_stimuli,
        f"the images give {distinct.size} {st.size}x{st.size} patches of distinct contrast "
        f"(the rates they encode to) for [stimulus] n_stimuli = {st.n_stimuli}: use fewer "
        "stimuli or larger or other images",
    )
    rng = np.random.default_rng(st.seed)
    pick = distinct[rng.choice(distinct.size, size=st.n_stimuli, replace=False)]
    stim_grey = pool.grey[pick]
    rates = encode_patches(stim_grey, st.base_rate_hz, st.gain_hz)
    net_fields = dict(cfg.network)
    net_fields.setdefault("n_in", rates.shape[1])
    net_fields.setdefault("n_out", st.n_stimuli)
    require(
        net_fields["n_in"] == rates.shape[1] and net_fields["n_out"] == st.n_stimuli,
        f"[network] needs n_in = {rates.shape[1]} (ON/OFF channels of a {st.size}x{st.size} "
        f"patch) and n_out = {st.n_stimuli} (one readout per stimulus)",
    )
    net = build_network(net_fields)
    dt = float(net.dt)
    gaze = {
        "images": [
            builtin_image(pool.image_names[i])
            if pool.image_names[i] in BUILTIN_IMAGES
            else load_images([pool.image_names[i]])[0][1]
            for i in pool.image[pick]
        ],
        "rows": pool.row[pick],
        "cols": pool.col[pick],
        "size": st.size,
        "drift": st.drift,
        "base_hz": st.base_rate_hz,
        "gain_hz": st.gain_hz,
    }
    task = PatchTask(
        rates, int(round(st.trial_ms / dt)), int(round(st.response_start_ms / dt)), dt, gaze
    )
    run.savefig(pf.stimuli_figure(stim_grey, rates, st.size), "network_stimuli")
    return Stimuli(stim_grey, rates, net, net.init(seed=tr.seed), task)
