"""The main pipeline: natural images -> spiking network -> learning -> analysis -> energy model.

:func:`run_pipeline` runs, into one run directory:

1. **Energy model of image patches** (for each patch size in ``[images] sizes``): binarised
   patches (:func:`infodyn.data.natural_patches`, held out by image region), a pairwise model
   fitted by minimum probability flow (:func:`infodyn.energy.fit`), held-out bits per patch
   against the independent model and, for 4x4 (2^16 states), against the empirical histogram
   smoothed by ``pseudocount`` (``p(x) = (c(x) + a) / (M + a 2^n)``); memories (fixed points of
   asynchronous descent), their number and minimum Hamming distance; denoising of held-out
   patches corrupted by k flips; Gibbs samples shown as image patches beside real ones.
2. **Network driven by images**: ``n_stimuli`` natural patches (grey levels) drive ``2 size^2``
   ON/OFF Poisson channels, ``rate = base + gain * clip(+-c, 0, 2) / 2`` with ``c`` the patch's
   contrast ``(g - mean g) / std g``; one patch per trial of ``trial_ms``. The LIF network is
   trained with e-prop (``infodyn.learning``) on the deck's per-unit target rate, the
   global-rate variance constraint and the information objective (a variational lower bound on
   I(stimulus; response) through a softmax readout: ``H(S) - CE``, H(S) = log2 K for uniformly
   drawn stimuli).
3. **Analysis of its responses** before and after training, on fresh trials: rates; branching
   ratio by multistep regression (:func:`infodyn.criticality.branching_ratio`), avalanches at
   the mean inter-event interval with discrete power-law fits; the information the readout's
   decisions carry about the stimulus (plug-in and shuffle-corrected) and the multivariate
   information (total correlation, O-information) of the binary response words.
4. **Energy model of the response words** (phase space): MPF fit to binary words of the most
   active units, its memories, the energy along trajectories, the memory transition matrix and
   memory-triggered average patches (the mean stimulus patch at the onsets of each memory).
5. ``report.html`` with every figure and number (:mod:`infodyn.experiments.report`).

No number is made up: a stage that fails or is switched off is listed in ``results["notes"]``.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from pydantic import Field

from infodyn.errors import InputError, require
from infodyn.experiments.config import Section
from infodyn.experiments.rundir import RunDir

LOG2E = 1.0 / math.log(2.0)


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------


class ImagesSection(Section):
    """Which images and patches. ``images``: built-in names, files or folders (empty: all)."""

    images: list[str] = Field(default_factory=list)
    sizes: list[int] = Field(default_factory=lambda: [4, 8], description="patch sides (pixels)")
    n_patches: int = Field(20000, ge=100, description="training patches per size")
    held_out: float = Field(0.25, gt=0, lt=1, description="held-out fraction (by image region)")
    split: Literal["region", "image"] = "region"
    whiten: Literal["none", "zca", "dog"] = "none"
    binarize: Literal["mean", "sign"] = "mean"
    min_contrast: float = Field(0.02, ge=0, description="reject flatter patches (grey std)")
    seed: int = 0


class EnergySection(Section):
    """Energy-model fits (both of image patches and of response words; the response-word fit
    uses ``l2 >= 1e-4`` because rarely active units otherwise get unbounded fields)."""

    method: Literal["mpf", "pl", "ml"] = "mpf"
    l2: float = Field(0.0, ge=0)
    n_samples: int = Field(2000, ge=10, description="Gibbs samples drawn from each model")
    denoise_flips: list[int] = Field(default_factory=lambda: [1, 2, 3])
    denoise_patterns: int = Field(300, ge=1, description="held-out patches corrupted")
    pseudocount: float = Field(0.5, gt=0, description="histogram smoothing (4x4 only)")
    ais_chains: int = Field(300, ge=10, description="AIS chains for n > 24")
    ais_betas: int = Field(3000, ge=10, description="AIS temperatures for n > 24")
    max_words_units: int = Field(16, ge=2, le=24, description="units in a response word")
    word_bin_ms: float = Field(5.0, gt=0, description="response-word bin (ms)")


class StimulusSection(Section):
    """Image patches as Poisson input."""

    size: int = Field(4, ge=2, le=12)
    n_stimuli: int = Field(8, ge=2, le=64)
    trial_ms: int = Field(200, ge=20, description="steps (ms) per trial")
    response_start_ms: int = Field(50, ge=0, description="start of the scored response window")
    base_rate_hz: float = Field(2.0, ge=0)
    gain_hz: float = Field(60.0, ge=0)
    drift: float = Field(
        0.0,
        ge=0,
        le=1,
        description="fixational drift: probability per step that the gaze "
        "moves one pixel (within size // 2 of the stimulus patch); 0: a still patch",
    )
    seed: int = 1


class TrainingSection(Section):
    """e-prop training toward the target rate, the variance constraint and information."""

    enabled: bool = True
    iterations: int = Field(100, ge=0)
    batch_size: int = Field(16, ge=1)
    lr: float = Field(3e-3, gt=0)
    method: Literal["eprop", "bptt", "bptt_stopgrad"] = "eprop"
    rate_target_hz: float = Field(5.0, gt=0)
    rate_weight: float = Field(1e-3, ge=0)
    variance_target: float = Field(0.0, ge=0, description="target global-rate variance (Hz^2)")
    variance_weight: float = Field(1e-6, ge=0)
    info_weight: float = Field(1.0, ge=0)
    clip_norm: float = Field(10.0, gt=0)
    seed: int = 0


class AnalysisSection(Section):
    n_trials: int = Field(200, ge=10, description="fresh trials simulated for the analysis")
    branching_bin_ms: float | None = Field(
        None,
        gt=0,
        description="bin of the branching-ratio estimate; None: (n_ref + 1) steps, "
        "so that refractoriness does not make the regression slopes oscillate",
    )
    seed: int = 7


class PipelineConfig(Section):
    """The ``infodyn images`` config: every section has defaults."""

    images: ImagesSection = ImagesSection()
    energy: EnergySection = EnergySection()
    stimulus: StimulusSection = StimulusSection()
    network: dict[str, Any] = Field(
        default_factory=lambda: {"n_rec": 100, "tau_m": 20.0, "v_th": 0.03, "n_ref": 2}
    )
    training: TrainingSection = TrainingSection()
    analysis: AnalysisSection = AnalysisSection()
    stages: list[Literal["image_energy", "network", "report"]] = Field(
        default_factory=lambda: ["image_energy", "network", "report"]
    )


def demo_config() -> PipelineConfig:
    """The short built-in pipeline of ``infodyn demo`` (a few minutes on 2 cores)."""
    return PipelineConfig(
        images=ImagesSection(sizes=[4, 8], n_patches=20000),
        energy=EnergySection(n_samples=2000),
        training=TrainingSection(iterations=150, batch_size=16),
        analysis=AnalysisSection(n_trials=240),
    )


def quick_config() -> PipelineConfig:
    """A smaller pipeline (``infodyn demo --quick``): one patch size, short training."""
    return PipelineConfig(
        images=ImagesSection(sizes=[4], n_patches=10000),
        energy=EnergySection(n_samples=1000, denoise_patterns=200),
        training=TrainingSection(iterations=40, batch_size=8),
        analysis=AnalysisSection(n_trials=120),
    )


def apply_overrides(
    cfg: PipelineConfig,
    images: list[str] | None = None,
    sizes: str | list[int] | None = None,
    iterations: int | None = None,
    train: bool | None = None,
    seed: int | None = None,
) -> PipelineConfig:
    """``cfg`` with command-line options applied (None leaves a value as it is)."""
    from infodyn.experiments.config import validate

    data = cfg.model_dump(mode="json")
    if images:
        data["images"]["images"] = list(images)
    if sizes is not None:
        if isinstance(sizes, str):
            try:
                sizes = [int(v) for v in sizes.split(",") if v.strip()]
            except ValueError:
                raise InputError(
                    f"--sizes must be integers separated by commas, got {sizes!r}"
                ) from None
        data["images"]["sizes"] = list(sizes)
    if iterations is not None:
        data["training"]["iterations"] = int(iterations)
    if train is not None:
        data["training"]["enabled"] = bool(train)
    if seed is not None:
        data["images"]["seed"] = data["training"]["seed"] = int(seed)
        data["stimulus"]["seed"] = int(seed) + 1
    return validate(PipelineConfig, data, source="options")


# ---------------------------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------------------------

Progress = Callable[[str, float], None]


def _no_progress(stage: str, fraction: float) -> None:
    return None


# ---------------------------------------------------------------------------------------------
# stage 1: energy model of image patches
# ---------------------------------------------------------------------------------------------


def _smoothed_histogram_bits(train: np.ndarray, test: np.ndarray, a: float) -> float:
    """Mean log2 p(x) of test rows under the training histogram with ``a`` pseudo-counts."""
    n = train.shape[1]
    w = 1 << np.arange(n, dtype=np.int64)
    ctr = np.bincount(train.astype(np.int64) @ w, minlength=1 << n).astype(np.float64)
    codes = test.astype(np.int64) @ w
    p = (ctr[codes] + a) / (len(train) + a * (1 << n))
    return float(np.mean(np.log2(p)))


def image_energy_stage(cfg: PipelineConfig, size: int, run: RunDir) -> dict[str, Any]:
    """Fit, evaluate and sample the energy model of binarised ``size x size`` patches."""
    import infodyn as idn
    from infodyn.experiments import pipeline_figures as pf

    im, en = cfg.images, cfg.energy
    split = idn.data.natural_patches(
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
    t0 = time.perf_counter()
    model = idn.energy.fit(train.values, method=en.method, l2=en.l2, seed=im.seed)
    fit_s = time.perf_counter() - t0
    if n <= 24:
        log_z, log_z_method = model.log_partition("exact"), "exact"
        log_z_std = 0.0
    else:
        ais = idn.energy.ais_log_partition(
            model.J, model.theta, n_chains=en.ais_chains, n_betas=en.ais_betas, seed=im.seed
        )
        log_z, log_z_method = float(ais.log_z), "ais"
        log_z_std = float(ais.stderr)
        res_ais = {
            "ais_chains": ais.n_chains,
            "ais_betas": ais.n_betas,
            "ais_effective_sample_size": float(ais.ess),
        }
    rep = idn.energy.heldout_report(model, train.values, test.values, log_z=log_z)
    res: dict[str, Any] = {
        "n_units": n,
        "n_train": len(train),
        "n_test": len(test),
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
        emp = _smoothed_histogram_bits(train.values, test.values, en.pseudocount)
        res["bits_per_patch_histogram_test"] = emp
        res["histogram_pseudocount"] = en.pseudocount
        res["fraction_test_unseen_in_train"] = rep["fraction_test_unseen"]
    # memories
    memories = model.fixed_points(
        method="exhaustive" if n <= 20 else "random", n_starts=20000, seed=im.seed
    )
    res["n_memories"] = int(len(memories))
    res["min_distance"] = int(idn.energy.minimum_distance(memories)) if len(memories) > 1 else None
    labels, _ = idn.energy.memory_labels(model, test.values, memories=memories)
    counts = np.bincount(labels[labels >= 0], minlength=len(memories))
    res["fraction_test_in_top_memory_basins"] = {
        str(k): float(np.sort(counts)[::-1][:k].sum() / len(labels)) for k in (1, 5, 10)
    }
    # denoising of held-out patches
    pats = test.values[: en.denoise_patterns]
    ind = idn.energy.IsingModel.independent(train.values)
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
    model.save(run.file(f"image_{tag}_model.npz"))
    return res


def _compare(data: np.ndarray, samples: np.ndarray, seed: int) -> dict[str, float]:
    """How well samples reproduce held-out statistics (:func:`infodyn.energy.compare_statistics`
    for n <= 16; above, means, pairwise covariances and P(K) only: all triplets are costly)."""
    import infodyn as idn
    from infodyn.energy.sampling import count_distribution, pairwise_covariance

    if data.shape[1] <= 16:
        return {k: float(v) for k, v in idn.energy.compare_statistics(data, samples, seed).items()}
    iu = np.triu_indices(data.shape[1], 1)
    ca, cb = pairwise_covariance(data)[iu], pairwise_covariance(samples)[iu]
    pa, pb = count_distribution(data), count_distribution(samples)
    return {
        "rmse_means": float(np.sqrt(np.mean((data.mean(0) - samples.mean(0)) ** 2))),
        "rmse_covariances": float(np.sqrt(np.mean((ca - cb) ** 2))),
        "corr_covariances": float(np.corrcoef(ca, cb)[0, 1]) if cb.std() > 0 else None,
        "tv_count_distribution": float(0.5 * np.abs(pa - pb).sum()),
    }


def posterior_descent(model: Any, Y: np.ndarray, flip_prob: float, max_sweeps: int = 50):
    """Denoise binary rows ``Y`` observed through a binary symmetric channel.

    The posterior ``p(x | y) ~ exp(-E(x)) prod_i eps^[x_i != y_i] (1 - eps)^[x_i = y_i]`` is an
    Ising model with the fields ``theta_i - L (2 y_i - 1)``, ``L = log((1 - eps) / eps)``; its
    asynchronous descent from ``y`` (iterated conditional modes, Besag 1986) never raises the
    posterior energy and stops at a local MAP estimate.
    """
    require(0 < flip_prob < 0.5, "flip probability must be in (0, 0.5)")
    J, theta = np.asarray(model.J), np.asarray(model.theta)
    X = np.asarray(Y, dtype=np.float64).copy()
    bias = math.log((1 - flip_prob) / flip_prob) * (2 * X - 1) - theta
    for _ in range(max_sweeps):
        changed = False
        for i in range(X.shape[1]):
            new = (X @ J[:, i] + bias[:, i] > 0).astype(np.float64)
            if np.any(new != X[:, i]):
                changed = True
                X[:, i] = new
        if not changed:
            break
    return X.astype(np.uint8)


def denoising_rows(model: Any, ind: Any, patterns: np.ndarray, flips: list[int], seed: int):
    """Bits wrong after corrupting by k flips: posterior descent under the pairwise and the
    independent prior, and plain descent to a memory (the code view)."""
    import infodyn as idn

    n = patterns.shape[1]
    rows = []
    for j, k in enumerate(flips):
        require(0 < k < n / 2, f"denoise_flips must be in (0, {n / 2})")
        noisy = idn.energy.corrupt(patterns, int(k), seed=seed + j)
        eps = k / n
        clean = {
            name: posterior_descent(m, noisy, eps)
            for name, m in (("pairwise", model), ("independent", ind))
        }
        rows.append(
            {
                "k": int(k),
                "bits_wrong_after_posterior_pairwise": float(
                    np.mean(np.sum(clean["pairwise"] != patterns, axis=1))
                ),
                "bits_wrong_after_posterior_independent": float(
                    np.mean(np.sum(clean["independent"] != patterns, axis=1))
                ),
                "bits_wrong_after_memory_descent": float(
                    np.mean(np.sum(model.descend(noisy) != patterns, axis=1))
                ),
                "fraction_exactly_restored_pairwise": float(
                    np.mean(np.all(clean["pairwise"] == patterns, axis=1))
                ),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# stage 2: network driven by image patches
# ---------------------------------------------------------------------------------------------


def encode_patches(grey: np.ndarray, base_hz: float, gain_hz: float) -> np.ndarray:
    """ON/OFF Poisson rates (K, 2 n) in Hz from grey patches (K, n).

    ``c = (g - mean g) / std g`` per patch (0 for a flat patch); ON channel ``base + gain *
    clip(c, 0, 2) / 2``, OFF channel ``base + gain * clip(-c, 0, 2) / 2``.
    """
    g = np.asarray(grey, dtype=np.float64)
    sd = g.std(axis=1, keepdims=True)
    c = np.where(sd > 0, (g - g.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0), 0.0)
    on = base_hz + gain_hz * np.clip(c, 0.0, 2.0) / 2.0
    off = base_hz + gain_hz * np.clip(-c, 0.0, 2.0) / 2.0
    return np.concatenate([on, off], axis=1)


class PatchTask:
    """Trials of one image patch each, as a task for :class:`infodyn.learning.trainer.Trainer`.

    ``batch(rng, B)`` draws B stimulus labels uniformly, Poisson inputs from their rates and the
    :func:`~infodyn.learning.info_objectives.window_target` of the information objective.
    """

    def __init__(
        self,
        rates_hz: np.ndarray,
        n_steps: int,
        start: int,
        dt: float = 1.0,
        gaze: dict[str, Any] | None = None,
    ) -> None:
        self.rates_hz = np.asarray(rates_hz, dtype=np.float64)
        self.n_out = self.rates_hz.shape[0]
        self.n_in = self.rates_hz.shape[1]
        self.n_steps, self.start, self.dt = int(n_steps), int(start), float(dt)
        # gaze: {"images": [grey arrays per stimulus], "rows", "cols", "size", "drift",
        # "base_hz", "gain_hz"}: each trial drifts around its stimulus patch (saccade_path)
        self.gaze = gaze if gaze and gaze["drift"] > 0 else None

    def rates(self, rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
        """Input rates (B, T, n_in) in Hz of trials showing ``labels``."""
        if self.gaze is None:
            return np.broadcast_to(
                self.rates_hz[labels][:, None, :], (len(labels), self.n_steps, self.n_in)
            )
        from infodyn.data.images import saccade_path

        g = self.gaze
        out = np.empty((len(labels), self.n_steps, self.n_in))
        for b, k in enumerate(labels):
            path = saccade_path(
                g["images"][k],
                g["size"],
                n_fixations=1,
                fixation_steps=self.n_steps,
                drift=g["drift"],
                seed=int(rng.integers(2**31)),
                start=(int(g["rows"][k]), int(g["cols"][k])),
            )
            out[b] = encode_patches(path.grey, g["base_hz"], g["gain_hz"])
        return out

    def draw(self, rng: np.random.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, self.n_out, size=batch_size)
        p = np.clip(self.rates(rng, labels) * self.dt / 1000.0, 0.0, 1.0)
        x = (rng.random((batch_size, self.n_steps, self.n_in)) < p).astype(np.float32)
        return x, labels

    def batch(self, rng: np.random.Generator, batch_size: int):
        from infodyn.learning.info_objectives import window_target

        x, labels = self.draw(rng, batch_size)
        return x, window_target(labels, self.n_steps, self.n_out, self.start)

    def metrics(self, y: np.ndarray, target: np.ndarray) -> dict[str, Any]:
        y = np.asarray(y)
        w = np.asarray(target).sum(axis=-1)  # (B, T) response-window weights
        labels = np.asarray(target).sum(axis=1).argmax(axis=-1)
        score = np.einsum("bt,btk->bk", w, y)
        return {"error_rate": float(np.mean(score.argmax(axis=-1) != labels))}


def _loss(tr: TrainingSection) -> Any:
    from infodyn.learning.info_objectives import InfoMaxBound
    from infodyn.learning.losses import CompositeLoss, PopulationRateVariance, UnitRateTarget

    terms = []
    if tr.rate_weight > 0:
        terms.append(UnitRateTarget(weight=tr.rate_weight, r0_hz=tr.rate_target_hz))
    if tr.variance_weight > 0:
        terms.append(PopulationRateVariance(weight=tr.variance_weight, s_target=tr.variance_target))
    if tr.info_weight > 0:
        terms.append(InfoMaxBound(weight=tr.info_weight))
    require(terms, "[training] every loss weight is zero")
    return CompositeLoss(tuple(terms))


def _simulate_trials(net, params, task: PatchTask, n_trials: int, seed: int):
    rng = np.random.default_rng(seed)
    x, labels = task.draw(rng, n_trials)
    trace = net.simulate(params, x, engine="jax")
    return trace, labels


def analyse_responses(
    net,
    params,
    task: PatchTask,
    stim_grey: np.ndarray,
    cfg: PipelineConfig,
    tag: str,
    run: RunDir,
) -> tuple[dict[str, Any], Any]:
    """Rates, criticality, information and the response-word energy model of fresh trials."""
    import infodyn as idn
    from infodyn.experiments import pipeline_figures as pf

    an, en = cfg.analysis, cfg.energy
    trace, labels = _simulate_trials(net, params, task, an.n_trials, an.seed)
    z = np.asarray(trace.z, dtype=np.uint8)  # (B, T, N)
    y = np.asarray(trace.y)
    rates = z.mean(axis=(0, 1)) * 1000.0 / net.dt
    res: dict[str, Any] = {
        "n_trials": int(an.n_trials),
        "mean_rate_hz": float(rates.mean()),
        "rate_hz_percentiles": {str(q): float(np.percentile(rates, q)) for q in (5, 50, 95)},
        "fraction_silent_units": float(np.mean(rates == 0)),
    }
    spikes = trace.spike_train(metadata={"stage": tag})
    # --- criticality
    # population activity in bins of at least the refractory period + 1 step: at finer bins
    # every unit's own refractoriness shows up as negative, oscillating slopes r_k
    bin_ms = an.branching_bin_ms or (getattr(net, "n_ref", 0) + 1) * net.dt
    b = max(1, int(round(bin_ms / net.dt)))
    n_bins = z.shape[1] // b
    counts = z[:, : n_bins * b].sum(axis=2).reshape(z.shape[0], n_bins, b).sum(axis=2)
    counts = counts.astype(np.float64)  # (B, bins)
    crit: dict[str, Any] = {"branching_bin_ms": b * net.dt}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            br = idn.criticality.branching_ratio(counts, method="mr", dt=b * net.dt, seed=an.seed)
            crit.update(
                m=br.m,
                tau_ms=br.tau,
                m_ci=list(br.m_ci),
                meaningful=br.meaningful,
                fits={k: {"m": f.m, "tau_ms": f.tau} for k, f in br.fits.items()},
                fits_disagree=br.fits_disagree,
            )
            nv = idn.criticality.branching_ratio(counts, method="naive", n_boot=0)
            crit["m_naive"] = nv.m
            rk = np.asarray(br.r_k)
            crit["fraction_negative_r_k"] = float(np.mean(rk < 0))
            # r_k = b m^k is positive and decays; a negative r_1, a later slope above r_1 or a
            # clearly negative one (below -r_1 / 4; small ones are noise) mean it does not
            crit["exponential_decay_plausible"] = bool(
                rk[0] > 0 and np.all(rk[1:] <= rk[0]) and rk.min() >= -0.25 * rk[0]
            )
        except (InputError, ValueError, FloatingPointError) as exc:
            br = None
            crit["branching_error"] = str(exc)
        crit["fano_factor"] = float(idn.criticality.fano_factor(counts))
        crit["global_rate_variance_hz2"] = float(
            idn.criticality.global_rate_variance(counts, n_units=net.n_rec, dt_ms=b * net.dt)
        )
        av_fits: dict[str, Any] = {}
        try:
            act = idn.criticality.population_activity(spikes, bin_ms="iei")
            av = idn.criticality.avalanches(act)
            crit["avalanche_bin_ms"] = float(act.bin_ms)
            crit["n_avalanches"] = int(len(av.sizes))
            for name, vals in (("sizes", av.sizes), ("durations", av.durations)):
                try:
                    fit = idn.criticality.fit_power_law(vals, discrete=True, min_tail=30)
                    av_fits[name] = fit
                    crit[f"alpha_{name}"] = fit.alpha
                    crit[f"xmin_{name}"] = fit.xmin
                    crit[f"n_tail_{name}"] = fit.n_tail
                    comp = fit.comparisons.get("exponential")
                    if comp is not None:
                        crit[f"{name}_power_law_vs_exponential_R"] = comp.R
                        crit[f"{name}_power_law_vs_exponential_p"] = comp.p
                except (InputError, ValueError) as exc:
                    crit[f"alpha_{name}"] = None
                    crit[f"fit_{name}_error"] = str(exc)
        except (InputError, ValueError) as exc:
            av = None
            crit["avalanche_error"] = str(exc)
    crit["warnings"] = sorted({str(w.message)[:160] for w in caught})[:6]
    res["criticality"] = crit
    # --- information about the stimulus: readout decisions and response words
    start = task.start
    decisions = y[:, start:, :].mean(axis=1).argmax(axis=-1)
    info: dict[str, Any] = {}
    info["decoder_accuracy"] = float(np.mean(decisions == labels))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mi = float(idn.information.mutual_information(labels[:, None], decisions[:, None]))
        info["mi_stimulus_decision_bits_plugin"] = mi
        try:
            sc = idn.information.shuffle_corrected_mi(
                labels[:, None], decisions[:, None], n_shuffles=50, seed=an.seed
            )
            info["mi_stimulus_decision_bits_shuffle_corrected"] = float(sc)
        except (TypeError, InputError, ValueError) as exc:
            info["shuffle_correction_error"] = str(exc)
        info["stimulus_entropy_bits"] = float(np.log2(task.n_out))
        # spike-count response of the most active units in the response window
        order = np.argsort(rates)[::-1]
        top = np.sort(order[: min(en.max_words_units, net.n_rec)])
        words = idn.energy.binary_words(spikes, bin_ms=en.word_bin_ms, units=top)
        summ = idn.information.multivariate_summary(words.X)
        info["response_words"] = {
            "n_units": int(len(top)),
            "bin_ms": en.word_bin_ms,
            "n_words": int(len(words.X)),
            **{k: float(v) for k, v in summ.items()},
        }
    res["information"] = info
    # --- energy model of the response words
    res["response_energy"] = _response_energy(words, labels, stim_grey, cfg, tag, run)
    # --- figures
    run.savefig(pf.raster(spikes, labels), f"network_{tag}_raster")
    if br is not None:
        run.savefig(pf.branching_figure(br, tag), f"network_{tag}_branching")
    if av is not None and len(av.sizes):
        run.savefig(pf.avalanche_figure(av, av_fits, tag), f"network_{tag}_avalanches")
    run.savefig(pf.confusion_figure(labels, decisions, task.n_out, tag), f"network_{tag}_decoding")
    return res, rates


def _response_energy(words, labels, stim_grey, cfg, tag, run) -> dict[str, Any]:
    import infodyn as idn
    from infodyn.experiments import pipeline_figures as pf

    en = cfg.energy
    X = words.X
    active = X.mean(axis=0)
    out: dict[str, Any] = {"n_units": int(X.shape[1]), "n_words": int(len(X))}
    if np.any(active == 0) or np.any(active == 1):
        out["note"] = "some units never (or always) fire in a bin: fit with constant bits allowed"
    # held-out by trial: first 3/4 of trials train, last 1/4 test
    cut = int(np.quantile(np.unique(words.trial), 0.75))
    tr, te = X[words.trial <= cut], X[words.trial > cut]
    model = idn.energy.fit(tr, method=en.method, l2=max(en.l2, 1e-4), allow_constant=True)
    rep = idn.energy.heldout_report(model, tr, te)
    out.update(
        bits_per_word_model_test=rep["model_test_bits"],
        bits_per_word_independent_test=rep["independent_test_bits"],
        gain_over_independent_bits=rep["gain_over_independent_bits"],
    )
    memories = model.fixed_points(method="exhaustive" if X.shape[1] <= 20 else "random")
    out["n_memories"] = int(len(memories))
    out["min_distance"] = int(idn.energy.minimum_distance(memories)) if len(memories) > 1 else None
    lab, mem = idn.energy.memory_labels(model, X, memories=memories)
    freq = np.bincount(lab[lab >= 0], minlength=len(mem)) / len(lab)
    keep = np.argsort(freq)[::-1][: min(12, len(mem))]
    out["memory_frequencies_top"] = [float(freq[k]) for k in keep]
    # stimulus per word: the grey patch of the word's trial
    stim = stim_grey[labels[words.trial]]
    remap = -np.ones(len(mem), dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    lab_top = np.where(lab >= 0, remap[np.maximum(lab, 0)], -1)
    mta, n_ev = idn.energy.memory_triggered_average(
        lab_top, stim, n_memories=len(keep), window=(0, 0)
    )
    out["memory_triggered_events"] = [int(v) for v in n_ev]
    # I(memory label; stimulus) of words in the response
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok = lab >= 0
        out["mi_memory_stimulus_bits_plugin"] = float(
            idn.information.mutual_information(lab[ok][:, None], labels[words.trial][ok][:, None])
        )
    chain = idn.energy.markov_chain(lab_top, n_states=len(keep), segments=words.trial)
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


def _criticality_notes(res: dict[str, Any], when: str) -> list[str]:
    c = res["criticality"]
    if c.get("m") is None or c.get("exponential_decay_plausible", True):
        return []
    return [
        f"Network {when}: the regression slopes r_k of the population activity do not decay "
        f"exponentially ({100 * c['fraction_negative_r_k']:.0f} % of lags negative, or rising "
        "again: the activity oscillates); the multistep-regression fit "
        f"(m = {c['m']:.3f}) does not describe it and is not a branching ratio here."
    ]


def network_stage(
    cfg: PipelineConfig, run: RunDir, progress: Progress, resume: bool = False
) -> dict[str, Any]:
    """Stimuli, training, and the analysis of responses before and after training; training
    stops after an iteration on SIGINT/SIGTERM with ``training/checkpoint.npz`` (``resume``)."""
    import infodyn as idn
    from infodyn.experiments import pipeline_figures as pf
    from infodyn.experiments.config import build_network

    st, tr = cfg.stimulus, cfg.training
    im = cfg.images
    require(st.response_start_ms < st.trial_ms, "[stimulus] response_start_ms >= trial_ms")
    pool = idn.data.natural_patches(
        size=st.size,
        n=max(20 * st.n_stimuli, 200),
        seed=st.seed,
        images=im.images or None,
        min_contrast=max(im.min_contrast, 0.05),
        details=True,
    )
    rng = np.random.default_rng(st.seed)
    pick = rng.choice(len(pool), size=st.n_stimuli, replace=False)
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
            idn.data.builtin_image(pool.image_names[i])
            if pool.image_names[i] in idn.data.BUILTIN_IMAGES
            else idn.data.load_images([pool.image_names[i]])[0][1]
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
    params0 = net.init(seed=tr.seed)
    res: dict[str, Any] = {
        "n_in": net.n_in,
        "n_rec": net.n_rec,
        "n_out": net.n_out,
        "stimulus_patches": st.n_stimuli,
        "trial_ms": st.trial_ms,
    }
    notes: list[str] = []
    res["notes"] = notes
    progress("analysing the untrained network", 0.0)
    before, rates_before = analyse_responses(net, params0, task, stim_grey, cfg, "before", run)
    res["before_training"] = before
    notes.extend(_criticality_notes(before, "before training"))
    params = params0
    history: list[dict[str, Any]] = []
    if tr.enabled and tr.iterations > 0:
        from infodyn.experiments.interrupt import resumable_iterations
        from infodyn.learning.trainer import Trainer, TrainOptions

        trainer = Trainer(
            net,
            task,
            _loss(tr),
            TrainOptions(
                method=tr.method,
                lr=tr.lr,
                batch_size=tr.batch_size,
                clip_norm=tr.clip_norm,
                seed=tr.seed,
                checkpoint_every=10**9,
            ),
            params=params0,
        )
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ckpt = run.file("training/checkpoint.npz")
            for i in resumable_iterations(trainer, tr.iterations, ckpt, resume):
                rec = trainer.step()
                progress(
                    f"training {i + 1}/{tr.iterations}: rate {rec['mean_rate_hz']:.1f} Hz",
                    (i + 1) / tr.iterations,
                )
        history = trainer.state.history
        params = {k: np.asarray(v) for k, v in trainer.state.params.items()}
        h_s = math.log2(st.n_stimuli)
        for rec in history:
            if "loss_infomax_xent_bits" in rec:
                rec["info_bound_bits"] = h_s - rec["loss_infomax_xent_bits"]
        run.write_json("training_history.json", history)
        k = max(1, len(history) // 10)

        def avg(key: str, part: list[dict[str, Any]]) -> float | None:
            vals = [r[key] for r in part if r.get(key) is not None]
            return float(np.mean(vals)) if vals else None

        res["training"] = {
            "method": tr.method,
            "iterations": tr.iterations,
            "seconds": time.perf_counter() - t0,
            "loss_terms": [t.name for t in _loss(tr).terms],
            **{
                f"{key}_first_{k}": avg(key, history[:k])
                for key in ("loss", "mean_rate_hz", "branching", "info_bound_bits", "error_rate")
            },
            **{
                f"{key}_last_{k}": avg(key, history[-k:])
                for key in ("loss", "mean_rate_hz", "branching", "info_bound_bits", "error_rate")
            },
        }
        run.savefig(pf.training_figure(history, tr), "network_training")
        progress("analysing the trained network", 1.0)
        after, rates_after = analyse_responses(net, params, task, stim_grey, cfg, "after", run)
        res["after_training"] = after
        notes.extend(_criticality_notes(after, "after training"))
        run.savefig(
            pf.rates_figure(rates_before, rates_after, tr.rate_target_hz),
            "network_rates_before_after",
        )
        from infodyn.data.atomic import save_npz

        save_npz(run.file("network_params.npz"), **params)
    else:
        res["training"] = {"enabled": False}
        run.savefig(pf.rates_figure(rates_before, None, tr.rate_target_hz), "network_rates")
    return res


# ---------------------------------------------------------------------------------------------
# the whole run
# ---------------------------------------------------------------------------------------------

_CAPTIONS = {
    "image_{t}_patches_and_samples": "held-out grey patches, their binarisation, samples from "
    "the fitted pairwise energy model and from the independent model ({t})",
    "image_{t}_memories": "memories (fixed points of asynchronous descent) of the {t} patch "
    "model, lowest energy first, with the fraction of held-out patches descending to each",
    "image_{t}_couplings": "couplings J_ij of the {t} model and their mean by pixel offset",
    "image_{t}_denoising": "held-out {t} patches corrupted by k flips, cleaned by descent of "
    "the posterior energy (pairwise or independent prior) or by descent to a memory",
    "network_stimuli": "the stimulus patches and the ON/OFF Poisson rates that encode them",
    "network_training": "e-prop training: loss terms, mean rate, branching (lag-1), information "
    "bound H(S) - CE, decoding error",
    "network_{s}_raster": "spikes on fresh trials {s} training, with the population rate",
    "network_{s}_branching": "multistep regression r_k = b m^k of the population activity "
    "{s} training",
    "network_{s}_avalanches": "avalanche size and duration distributions with discrete power-law "
    "fits ({s} training)",
    "network_{s}_decoding": "stimulus vs readout decision on fresh trials ({s} training)",
    "network_{s}_memories_and_triggered_patches": "memories of the response-word energy model "
    "and the mean stimulus patch when each memory is visited ({s} training)",
    "network_{s}_energy_trajectory": "energy of the response words along one trial, coloured by "
    "the memory each descends to, and the memory transition matrix ({s} training)",
    "network_rates_before_after": "per-unit rates before and after training (target dashed)",
    "network_rates": "per-unit rates (untrained network)",
}


def _captions(sizes: list[int]) -> dict[str, str]:
    out = {}
    for key, text in _CAPTIONS.items():
        if "{t}" in key:
            for s in sizes:
                t = f"{s}x{s}"
                out[key.format(t=t)] = text.format(t=t)
        elif "{s}" in key:
            for s in ("before", "after"):
                out[key.format(s=s)] = text.format(s=s)
        else:
            out[key] = text
    return out


def run_pipeline(
    cfg: PipelineConfig,
    out: str | os.PathLike,
    progress: Progress | None = None,
    command: str = "images",
    resume: bool = False,
) -> dict[str, Any]:
    """Run every stage of ``cfg`` into run directory ``out``; return the results dict.

    Finished stages are kept in ``out/progress.json``; after SIGINT/SIGTERM
    (:mod:`infodyn.experiments.interrupt`) ``resume=True`` continues from them.
    """
    from infodyn.experiments.interrupt import StepJournal, check, config_digest
    from infodyn.experiments.preflight import check_pipeline_memory

    check_pipeline_memory(cfg)  # before any stage (or the run directory) is made
    progress = progress or _no_progress
    run = RunDir(out)
    journal = StepJournal(run.path, config_digest(cfg.model_dump(mode="json")), resume)
    journal.refuse_fresh_start(resume, command)
    run.write_config(cfg, command=command)
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
            results[key] = journal.get(key) or journal.put(key, image_energy_stage(cfg, size, run))
            run.write_json("results.json", results)
            check(f"the {size}x{size} energy model is done and kept in {journal.path}")
    else:
        notes.append("The energy model of image patches was switched off ([stages]).")
    if "network" in cfg.stages:
        res = journal.get("network") or journal.put(
            "network", network_stage(cfg, run, progress, resume)
        )
        notes.extend(res.pop("notes", []))
        results["network"] = res
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
    results["figure_captions"] = _captions(cfg.images.sizes)
    results["figure_order"] = _figure_order(cfg.images.sizes)
    results["sections"] = {
        "headline": "Key numbers",
        **{
            f"image_energy_{s}x{s}": f"Energy model of binarised {s}x{s} patches"
            for s in cfg.images.sizes
        },
        "network": "Network driven by image patches",
    }
    run.write_json("results.json", results)
    if "report" in cfg.stages:
        from infodyn.experiments.report import write_report

        progress("writing report.html", 1.0)
        write_report(run.path)
    journal.finish()
    return results


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The key numbers of a pipeline run, with readable names (the report's first table)."""
    out: dict[str, Any] = {}
    for key, res in results.items():
        if not key.startswith("image_energy_"):
            continue
        t = key.removeprefix("image_energy_")
        out[f"{t} patches: held-out bits/patch, pairwise model"] = res["bits_per_patch_model_test"]
        out[f"{t} patches: held-out bits/patch, independent model"] = res[
            "bits_per_patch_independent_test"
        ]
        if "bits_per_patch_histogram_test" in res:
            out[f"{t} patches: held-out bits/patch, smoothed histogram"] = res[
                "bits_per_patch_histogram_test"
            ]
        out[f"{t} patches: gain of the pairwise model (bits)"] = res["gain_over_independent_bits"]
        out[f"{t} patches: memories"] = res["n_memories"]
        out[f"{t} patches: minimum distance between memories"] = res["min_distance"]
        if res.get("denoising"):
            r = res["denoising"][0]
            out[f"{t} patches: bits wrong after {r['k']} flip(s) + posterior descent"] = r[
                "bits_wrong_after_posterior_pairwise"
            ]
    net = results.get("network", {})
    for stage in ("before_training", "after_training"):
        r = net.get(stage)
        if not r:
            continue
        s = stage.replace("_", " ")
        c, i, e = r["criticality"], r["information"], r["response_energy"]
        out[f"network {s}: mean rate (Hz)"] = r["mean_rate_hz"]
        out[f"network {s}: branching ratio m (MR estimator)"] = c.get("m")
        out[f"network {s}: r_k decay exponentially (m meaningful)"] = c.get(
            "exponential_decay_plausible"
        )
        out[f"network {s}: autocorrelation time (ms)"] = c.get("tau_ms")
        out[f"network {s}: avalanche size exponent"] = c.get("alpha_sizes")
        out[f"network {s}: I(stimulus; readout decision) (bits)"] = (
            i["mi_stimulus_decision_bits_shuffle_corrected"]
            if "mi_stimulus_decision_bits_shuffle_corrected" in i
            else i["mi_stimulus_decision_bits_plugin"]
        )
        out[f"network {s}: total correlation of response words (bits)"] = i["response_words"][
            "total_correlation"
        ]
        out[f"network {s}: response-word memories"] = e["n_memories"]
        out[f"network {s}: I(memory; stimulus) (bits)"] = e["mi_memory_stimulus_bits_plugin"]
    if net.get("before_training"):
        out["stimulus entropy H(S) (bits)"] = net["before_training"]["information"][
            "stimulus_entropy_bits"
        ]
    if "training" in net and net["training"].get("iterations"):
        out["e-prop training iterations"] = net["training"]["iterations"]
    return out


def summary_lines(results: dict[str, Any]) -> list[str]:
    """A few lines of the headline numbers, for the terminal."""
    lines = []
    for key, res in results.items():
        if key.startswith("image_energy_"):
            t = key.removeprefix("image_energy_")
            line = (
                f"{t} patches: {res['bits_per_patch_model_test']:.2f} bits/patch held out "
                f"(pairwise) vs {res['bits_per_patch_independent_test']:.2f} (independent), "
                f"gain {res['gain_over_independent_bits']:.2f} bits; "
                f"{res['n_memories']} memories, d_min {res['min_distance']}"
            )
            lines.append(line)
    net = results.get("network")
    if net:
        for stage in ("before_training", "after_training"):
            r = net.get(stage)
            if not r:
                continue
            c, i = r["criticality"], r["information"]
            m = c.get("m")
            lines.append(
                f"network {stage.replace('_', ' ')}: rate {r['mean_rate_hz']:.2f} Hz, "
                f"m = {'n/a' if m is None else f'{m:.3f}'}, "
                f"I(stimulus; decision) = "
                f"{i['mi_stimulus_decision_bits_shuffle_corrected']:.2f} bits (shuffle-corrected) "
                f"of {i['stimulus_entropy_bits']:.2f}"
            )
    for note in results.get("notes", []):
        lines.append(f"note: {note}")
    return lines


def _figure_order(sizes: list[int]) -> list[str]:
    order = []
    for s in sizes:
        t = f"{s}x{s}"
        order += [
            f"image_{t}_patches_and_samples",
            f"image_{t}_memories",
            f"image_{t}_denoising",
            f"image_{t}_couplings",
        ]
    order += ["network_stimuli", "network_training", "network_rates_before_after", "network_rates"]
    for s in ("before", "after"):
        order += [
            f"network_{s}_raster",
            f"network_{s}_branching",
            f"network_{s}_avalanches",
            f"network_{s}_decoding",
            f"network_{s}_memories_and_triggered_patches",
            f"network_{s}_energy_trajectory",
        ]
    return order
