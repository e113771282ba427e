"""Stage 3, analysis of responses on fresh trials: rates; the branching ratio by multistep
regression (Wilting & Priesemann 2018, Nat. Commun. 9:2325) and avalanches with discrete power-law
fits (Clauset, Shalizi & Newman 2009, SIAM Rev. 51:661); the information the readout's decisions
carry about the stimulus (plug-in, bias-corrected and shuffle-corrected) and the multivariate
information (total
correlation, O-information; Rosas et al. 2019, Phys. Rev. E 100:032305) of binary response
words; then the energy model of those words (:mod:`.response_energy`)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.criticality import (
    avalanches,
    branching_ratio,
    fano_factor,
    fit_power_law,
    global_rate_variance,
    population_activity,
)
from infodyn.data.binning import bin_raster
from infodyn.data.notes import muted_warnings
from infodyn.energy import binary_words
from infodyn.errors import InputError, make_rng
from infodyn.experiments.pipeline import figures as pf
from infodyn.experiments.pipeline.config import (
    AnalysisSection,
    PipelineConfig,
    branching_bin_steps,
)
from infodyn.experiments.pipeline.response_energy import response_energy
from infodyn.experiments.rundir import RunDir
from infodyn.information import multivariate_summary, mutual_information, shuffle_corrected_mi
from infodyn.learning.tasks import PatchTask


@dataclass
class ResponseAnalysis:
    """The numbers of one analysis (``results.json``: rates, ``criticality``, ``information``,
    ``response_energy``) and the per-unit rates (Hz)."""

    numbers: dict[str, Any]
    rates: np.ndarray


@dataclass
class Criticality:
    """Criticality numbers and the fitted objects the figures draw (None where a fit failed)."""

    numbers: dict[str, Any]
    branching: Any
    avalanches: Any
    avalanche_fits: dict[str, Any]


def criticality_analysis(z: np.ndarray, spikes: Any, net: Any, an: AnalysisSection) -> Criticality:
    """Branching ratio (MR and naive), Fano factor, global-rate variance and avalanches of
    responses ``z`` (B, T, N); estimator failures are recorded, not raised."""
    # --- criticality
    # population activity in bins of at least the refractory period + 1 step: at finer bins
    # every unit's own refractoriness shows up as negative, oscillating slopes r_k
    b = branching_bin_steps(net, an.branching_bin_ms)  # (2.5 ms was rounded to 2, unsaid)
    counts = bin_raster(z, b).sum(axis=2).astype(np.float64)  # (B, bins)
    crit: dict[str, Any] = {"branching_bin_ms": b * net.dt}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # trials of ~70 bins are short against tau: the plain MR fit is biased low by
            # O(tau/T) (0.23 for 0.37 before training in the demo), so m is bias-corrected;
            # the plain estimate is kept beside it (its own warning would advise the other)
            with warnings.catch_warnings(record=True) as plain_said:
                warnings.simplefilter("always")
                plain = branching_ratio(counts, method="mr", dt=b * net.dt, seed=an.seed)
            corrected = branching_ratio(
                counts, method="mr", dt=b * net.dt, seed=an.seed, bias_correction=True
            )
            # near m = 1 the first-order correction does not hold on such trials (NaN from
            # m ~ 0.9 at 66 bins): then the plain fit, said so, with its own warnings
            use_plain = not np.isfinite(corrected.m) and np.isfinite(plain.m)
            br = plain if use_plain else corrected
            if use_plain:
                for w in plain_said:
                    warnings.warn(w.message, stacklevel=1)
            crit.update(
                m=br.m,
                tau_ms=br.tau,
                m_ci=list(br.m_ci),
                bias_corrected=not use_plain,
                meaningful=br.meaningful,
                fits={k: {"m": f.m, "tau_ms": f.tau} for k, f in br.fits.items()},
                fits_disagree=br.fits_disagree,
            )
            crit.update(m_uncorrected=plain.m, m_uncorrected_ci=list(plain.m_ci))
            if not np.isfinite(plain.m):  # null in results.json with no reason said
                crit["m_uncorrected_notes"] = sorted({str(w.message) for w in plain_said})[:3]
            nv = branching_ratio(counts, method="naive", n_boot=0)
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
        crit["fano_factor"] = float(fano_factor(counts))
        crit["global_rate_variance_hz2"] = float(
            global_rate_variance(counts, n_units=net.n_rec, dt_ms=b * net.dt)
        )
        av_fits: dict[str, Any] = {}
        try:
            act = population_activity(spikes, bin_ms="iei")
            av = avalanches(act)
            crit["avalanche_bin_ms"] = float(act.bin_ms)
            crit["n_avalanches"] = int(len(av.sizes))
            for name, vals in (("sizes", av.sizes), ("durations", av.durations)):
                try:
                    fit = fit_power_law(vals, discrete=True, min_tail=30)
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
    crit["warnings"] = sorted({str(w.message) for w in caught})[:6]  # whole: cut at 160 they
    # lost their advice (the short-trial note's corrected m and "bias_correction=True")
    return Criticality(crit, br, av, av_fits)


def information_analysis(
    y: np.ndarray,
    labels: np.ndarray,
    rates: np.ndarray,
    spikes: Any,
    task: PatchTask,
    net: Any,
    cfg: PipelineConfig,
) -> tuple[dict[str, Any], Any, np.ndarray]:
    """``(numbers, words, decisions)``: decoding of the readout over the response window, its
    information about the stimulus, and the multivariate information of the binary words of the
    most active units."""
    an, en = cfg.analysis, cfg.energy
    start = task.start
    decisions = y[:, start:, :].mean(axis=1).argmax(axis=-1)
    info: dict[str, Any] = {}
    info["decoder_accuracy"] = float(np.mean(decisions == labels))
    with muted_warnings():
        mi = float(mutual_information(labels[:, None], decisions[:, None]))
        info["mi_stimulus_decision_bits_plugin"] = mi
        # bias by the occupied cells (Panzeri & Treves 1996, Network 7:87; Miller-Madow per
        # entropy): right under dependence too, where the shuffle correction below subtracts
        # the larger bias of independent variables (2.79 bits after training at a decoding
        # accuracy of 0.996, whose Fano bound is 2.95)
        corrected = float(
            mutual_information(labels[:, None], decisions[:, None], estimator="miller_madow")
        )
        # at most H(S) = log2 K: the correction adds (K-1)/(2 N ln 2) where each stimulus has
        # one decision, which took a perfect decoder on 32 trials to 2.01 bits of 2
        h_s = float(np.log2(task.n_out))
        info["mi_stimulus_decision_bits_bias_corrected"] = min(corrected, h_s)
        if corrected > h_s:
            info["mi_stimulus_decision_bits_bias_corrected_uncapped"] = corrected
        try:
            sc = shuffle_corrected_mi(
                labels[:, None], decisions[:, None], n_shuffles=50, seed=an.seed
            )
            info["mi_stimulus_decision_bits_shuffle_corrected"] = float(sc)
        except (TypeError, InputError, ValueError) as exc:
            info["shuffle_correction_error"] = str(exc)
        info["stimulus_entropy_bits"] = h_s
        # spike-count response of the most active units in the response window
        order = np.argsort(rates)[::-1]
        top = np.sort(order[: min(en.max_words_units, net.n_rec)])
        words = binary_words(spikes, bin_ms=en.word_bin_ms, units=top)
        summ = multivariate_summary(words.X)
        info["response_words"] = {
            "n_units": int(len(top)),
            "bin_ms": en.word_bin_ms,
            "n_words": int(len(words.X)),
            **{k: float(v) for k, v in summ.items()},
        }
    return info, words, decisions


def _simulate_trials(net, params, task: PatchTask, n_trials: int, seed: int):
    rng = make_rng(seed)
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
) -> ResponseAnalysis:
    """Rates, criticality, information and the response-word energy model of fresh trials;
    saves the figures of ``tag`` ("before" or "after" training)."""
    an = cfg.analysis
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
    crit = criticality_analysis(z, spikes, net, an)
    res["criticality"] = crit.numbers
    info, words, decisions = information_analysis(y, labels, rates, spikes, task, net, cfg)
    res["information"] = info
    res["response_energy"] = response_energy(words, labels, stim_grey, cfg, tag, run)
    run.savefig(pf.raster(spikes, labels), f"network_{tag}_raster")
    if crit.branching is not None:
        run.savefig(pf.branching_figure(crit.branching, tag), f"network_{tag}_branching")
    av = crit.avalanches
    if av is not None and len(av.sizes):
        run.savefig(pf.avalanche_figure(av, crit.avalanche_fits, tag), f"network_{tag}_avalanches")
    run.savefig(pf.confusion_figure(labels, decisions, task.n_out, tag), f"network_{tag}_decoding")
    return ResponseAnalysis(res, rates)


def criticality_notes(res: dict[str, Any], when: str) -> list[str]:
    """A note when the regression slopes do not decay exponentially (m is then no branching
    ratio), or when m was not resolved (with the first of its warnings)."""
    c = res["criticality"]
    m = c.get("m")  # NaN when refused (silent, decays within a lag): its first warning says why
    if m is None or m != m:  # ("m not resolved" was printed with no reason in the notes)
        said = c.get("branching_error") or c.get("warnings") or []
        said = [said] if isinstance(said, str) else said
        about_m = [w for w in said if "not reported" in w or "not resolved" in w]
        why = (about_m or said or [None])[0]
        return [f"Network {when}: m not resolved" + (f": {why}" if why else ".")]
    if c.get("exponential_decay_plausible", True):
        return []
    return [
        f"Network {when}: the regression slopes r_k of the population activity do not decay "
        f"exponentially ({100 * c['fraction_negative_r_k']:.0f} % of lags negative, or rising "
        "again: the activity oscillates); the multistep-regression fit "
        f"(m = {c['m']:.3f}) does not describe it and is not a branching ratio here."
    ]
