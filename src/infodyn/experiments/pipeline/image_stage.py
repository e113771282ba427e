"""Stage 1, the energy model of image patches: binarised natural-image patches (held out by
image region), a pairwise model fitted by minimum probability flow (Sohl-Dickstein, Battaglino &
DeWeese 2011, Phys. Rev. Lett. 107:220601), held-out bits per patch against the independent model
and (up to 4x4) the smoothed histogram, its memories, posterior denoising and Gibbs samples.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.data import natural_patches
from infodyn.energy import (
    IsingModel,
    ais_log_partition,
    compare_statistics,
    denoising_rows,
    heldout_report,
    memory_labels,
    minimum_distance,
    smoothed_histogram_bits,
)
from infodyn.energy import fit as fit_energy
from infodyn.energy.sampling import count_distribution, pairwise_covariance
from infodyn.errors import InputError
from infodyn.experiments.pipeline import figures as pf
from infodyn.experiments.pipeline.config import PipelineConfig
from infodyn.experiments.rundir import RunDir
from infodyn.experiments.thermo_report import thermo_section


@dataclass
class ImageEnergyResult:
    """The fitted model of ``size x size`` patches, its memories, and the numbers that go into
    ``results.json`` (``numbers``: bits per patch, memories, denoising, samples)."""

    size: int
    model: IsingModel
    memories: np.ndarray
    numbers: dict[str, Any]


def _require_varying_pixels(words: np.ndarray, size: int) -> None:
    """Refuse training patches with a pixel that never changes (its field would diverge) with
    advice a config can follow: the fit's own message named units, columns and a keyword
    (``allow_constant``) that neither the command line nor the config can pass."""
    p = words.mean(axis=0)
    flat = np.flatnonzero((p == 0) | (p == 1))
    if flat.size:
        shown = ", ".join(str(int(i)) for i in flat[:8]) + (", ..." if flat.size > 8 else "")
        raise InputError(
            f"{flat.size} of the {size * size} pixels of the binarised {size} x {size} training "
            f"patches never change (pixels {shown}, row by row): the images are flat there; "
            "raise [images] min_contrast (flat patches are dropped), add n_patches or use other "
            "images"
        )


def image_energy_stage(cfg: PipelineConfig, size: int, run: RunDir) -> ImageEnergyResult:
    """Fit, evaluate and sample the energy model of binarised ``size x size`` patches; save its
    figures and the model into ``run``."""
    im, en = cfg.images, cfg.energy
    split = natural_patches(
        size=size,
        n=im.n_patches,
        seed=im.seed,
        images=im.images or None,
        whiten=None if im.whiten == "none" else im.whiten,
        binarize=im.binarize,
        held_out=im.held_out,
        split=im.split,
        min_contrast=im.min_contrast,
        details=True,
    )
    train, test = split.train, split.test
    n = size * size
    _require_varying_pixels(train.values, size)
    t0 = time.perf_counter()
    model = fit_energy(train.values, method=en.method, l2=en.l2, seed=im.seed)
    fit_s = time.perf_counter() - t0
    if n <= 24:
        log_z, log_z_method = model.log_partition("exact"), "exact"
        log_z_std = 0.0
    else:
        ais = ais_log_partition(
            model.J, model.theta, n_chains=en.ais_chains, n_betas=en.ais_betas, seed=im.seed
        )
        log_z, log_z_method = float(ais.log_z), "ais"
        log_z_std = float(ais.stderr)
        res_ais = {
            "ais_chains": ais.n_chains,
            "ais_betas": ais.n_betas,
            "ais_effective_sample_size": float(ais.ess),
        }
    rep = heldout_report(model, train.values, test.values, log_z=log_z)
    res: dict[str, Any] = {
        "n_units": n,
        "n_train": len(train),
        "n_test": len(test),
        # which images the held-out patches come from ([images] split = "image" draws them)
        "test_images": sorted({test.image_names[i] for i in np.unique(test.image)}),
        "fraction_ones": float(train.values.mean()),
        "fit_method": en.method,
        "fit_seconds": fit_s,
        "log_z_method": log_z_method,
        "log_z_nats": log_z,
        "log_z_std_nats": log_z_std,
        "bits_per_patch_model_test": rep["model_test_bits"],
        "bits_per_patch_model_train": rep["model_train_bits"],
        "bits_per_patch_independent_test": rep["independent_test_bits"],
        "gain_over_independent_bits": rep["gain_over_independent_bits"],
        "train_test_gap_nats": rep["gap_nats"],
        "expected_gap_nats": rep["expected_gap_nats"],
    }
    if n > 24:
        res.update(res_ais)
    if n <= 16:
        emp = smoothed_histogram_bits(train.values, test.values, en.pseudocount)
        res["bits_per_patch_histogram_test"] = emp
        res["histogram_pseudocount"] = en.pseudocount
        res["fraction_test_unseen_in_train"] = rep["fraction_test_unseen"]
    # memories
    memories = model.fixed_points(n_starts=20000, seed=im.seed)  # exhaustive up to 26 units
    res["n_memories"] = int(len(memories))
    res["min_distance"] = int(minimum_distance(memories)) if len(memories) > 1 else None
    labels, _ = memory_labels(model, test.values, memories=memories)
    counts = np.bincount(labels[labels >= 0], minlength=len(memories))
    res["fraction_test_in_top_memory_basins"] = {
        str(k): float(np.sort(counts)[::-1][:k].sum() / len(labels)) for k in (1, 5, 10)
    }
    # denoising of held-out patches
    pats = test.values[: en.denoise_patterns]
    ind = IsingModel.independent(train.values)
    res["denoising"] = denoising_rows(model, ind, pats, en.denoise_flips, seed=im.seed)
    # samples, compared with the data statistics
    samples = model.sample(en.n_samples, seed=im.seed)
    ind_samples = ind.sample(en.n_samples, seed=im.seed)
    res["samples_vs_heldout"] = _compare(test.values, samples, im.seed)
    res["independent_samples_vs_heldout"] = _compare(test.values, ind_samples, im.seed)
    # figures
    tag = f"{size}x{size}"
    run.savefig(
        pf.patches_figure(train, samples, ind_samples, size), f"image_{tag}_patches_and_samples"
    )
    mem_counts = counts if len(counts) else np.zeros(0)
    run.savefig(
        pf.memories_figure(memories, model.energy(memories), mem_counts, size),
        f"image_{tag}_memories",
    )
    run.savefig(pf.couplings_figure(model, size), f"image_{tag}_couplings")
    run.savefig(pf.denoising_figure(res["denoising"], size), f"image_{tag}_denoising")
    res["thermodynamics"] = thermo_section(  # C(T)/N and Zipf
        run, model, train.values, samples, im.seed, f"image_{tag}_thermodynamics"
    )
    model.save(run.file(f"image_{tag}_model.npz"))
    return ImageEnergyResult(size, model, memories, res)


def _compare(data: np.ndarray, samples: np.ndarray, seed: int) -> dict[str, float]:
    """How well samples reproduce held-out statistics (:func:`infodyn.energy.compare_statistics`
    for n <= 16; above, means, pairwise covariances and P(K) only: all triplets are costly)."""
    if data.shape[1] <= 16:
        return {k: float(v) for k, v in compare_statistics(data, samples, seed).items()}
    iu = np.triu_indices(data.shape[1], 1)
    ca, cb = pairwise_covariance(data)[iu], pairwise_covariance(samples)[iu]
    pa, pb = count_distribution(data), count_distribution(samples)
    return {
        "rmse_means": float(np.sqrt(np.mean((data.mean(0) - samples.mean(0)) ** 2))),
        "rmse_covariances": float(np.sqrt(np.mean((ca - cb) ** 2))),
        "corr_covariances": float(np.corrcoef(ca, cb)[0, 1]) if cb.std() > 0 else None,
        "tv_count_distribution": float(0.5 * np.abs(pa - pb).sum()),
    }
