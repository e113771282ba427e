"""Stage 5, the summary: the headline numbers of a run, lines for the terminal, and the captions
and order of the report's figures."""

from __future__ import annotations

from typing import Any

from infodyn.errors import is_finite_number

_CAPTIONS = {
    "image_{t}_patches_and_samples": "training grey patches, their binarisation, samples from "
    "the fitted pairwise energy model and from the independent model ({t})",
    "image_{t}_memories": "memories (fixed points of asynchronous descent) of the {t} patch "
    "model, lowest energy first, with the fraction of held-out patches descending to each",
    "image_{t}_couplings": "couplings J_ij of the {t} model and their mean by pixel offset",
    "image_{t}_denoising": "held-out {t} patches corrupted by k flips, cleaned by descent of "
    "the posterior energy (pairwise or independent prior) or by descent to a memory",
    "image_{t}_thermodynamics": "heat capacity per unit C(T)/N of the {t} model (E -> E/T) and "
    "the rank-frequency (Zipf) plot of patch words and model samples",
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


def captions(sizes: list[int]) -> dict[str, str]:
    """Caption of every figure of a pipeline run with patch sizes ``sizes``, by figure name
    (the per-size and before/after templates filled in)."""
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


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The key numbers of a pipeline run, with readable names (the report's first table)."""
    out: dict[str, Any] = {}
    for key, res in results.items():
        if not key.startswith("image_energy_"):
            continue
        t = key.removeprefix("image_energy_")
        ll = f"{t} patches: held-out log-likelihood (bits/patch)"
        out[f"{ll}, pairwise model"] = res["bits_per_patch_model_test"]
        out[f"{ll}, independent model"] = res["bits_per_patch_independent_test"]
        if "bits_per_patch_histogram_test" in res:
            out[f"{ll}, smoothed histogram"] = res["bits_per_patch_histogram_test"]
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
        how = {True: ", bias-corrected", False: ", plain fit: a lower bound on short trials"}
        fit = how.get(c.get("bias_corrected"), "")  # (neither in older results)
        out[f"network {s}: branching ratio m (MR estimator{fit})"] = c.get("m")
        # two answers, each under its own label: "r_k decay exponentially (m meaningful)" showed
        # the decay's (True beside m = None, False beside a meaningful m)
        out[f"network {s}: r_k decay exponentially"] = c.get("exponential_decay_plausible")
        meaningful = c.get("meaningful")  # the estimator's; not where r_k do not decay (the
        if meaningful and c.get("exponential_decay_plausible") is False:  # note then says m is
            meaningful = False  # no branching ratio: "yes" stood beside that note)
        out[f"network {s}: m meaningful (MR estimator)"] = meaningful
        out[f"network {s}: autocorrelation time (ms)"] = c.get("tau_ms")
        out[f"network {s}: avalanche size exponent"] = c.get("alpha_sizes")
        out[f"network {s}: I(stimulus; readout decision) (bits)"] = decision_information(i)[0]
        out[f"network {s}: total correlation of response words (bits)"] = i["response_words"][
            "total_correlation"
        ]
        out[f"network {s}: response-word memories"] = e["n_memories"]
        out[f"network {s}: I(memory; stimulus), trial-shuffle-corrected (bits)"] = e.get(
            "mi_memory_stimulus_bits_trial_shuffle_corrected", e["mi_memory_stimulus_bits_plugin"]
        )  # plug-in in results written before the correction
    if net.get("before_training"):
        out["stimulus entropy H(S) (bits)"] = net["before_training"]["information"][
            "stimulus_entropy_bits"
        ]
    if "training" in net and net["training"].get("iterations"):
        out["e-prop training iterations"] = net["training"]["iterations"]
    return out


def decision_information(info: dict[str, Any]) -> tuple[float, str]:
    """The headline I(stimulus; decision) and how it was estimated: bias-corrected (Panzeri &
    Treves), else (results written before it was recorded) shuffle-corrected, else plug-in
    (the analysis records shuffle_correction_error instead when that correction fails)."""
    for key, which in (
        ("mi_stimulus_decision_bits_bias_corrected", "bias-corrected"),
        ("mi_stimulus_decision_bits_shuffle_corrected", "shuffle-corrected"),
    ):
        if info.get(key) is not None:
            return info[key], which
    return info["mi_stimulus_decision_bits_plugin"], "plug-in"


def summary_lines(results: dict[str, Any]) -> list[str]:
    """A few lines of the headline numbers, for the terminal."""
    lines = []
    for key, res in results.items():
        if key.startswith("image_energy_"):
            t = key.removeprefix("image_energy_")
            d_min = res["min_distance"]  # None for a single memory: "d_min None" was printed
            line = (
                f"{t} patches: held-out log-likelihood {res['bits_per_patch_model_test']:.2f} "
                f"bits/patch (pairwise) vs {res['bits_per_patch_independent_test']:.2f} "
                f"(independent), gain {res['gain_over_independent_bits']:.2f} bits; "
                f"{res['n_memories']} memor{'y' if res['n_memories'] == 1 else 'ies'}"
                + (f", d_min {d_min}" if d_min is not None else "")
            )
            lines.append(line)
    net = results.get("network")
    if net:
        for stage in ("before_training", "after_training"):
            r = net.get(stage)
            if not r:
                continue
            c, i = r["criticality"], r["information"]
            m = c.get("m")  # NaN in the run, null in results.json: "m = nan" was printed
            shown = f"m = {m:.3f}" if is_finite_number(m) else "m not resolved"
            mi, which = decision_information(i)
            lines.append(
                f"network {stage.replace('_', ' ')}: rate {r['mean_rate_hz']:.2f} Hz, "
                f"{shown}, "
                f"I(stimulus; decision) = {mi:.2f} bits ({which}) "
                f"of {i['stimulus_entropy_bits']:.2f}"
            )
    for note in results.get("notes", []):
        lines.append(f"note: {note}")
    return lines


def figure_order(sizes: list[int]) -> list[str]:
    """Figure names of a pipeline run in the order the report shows them: image figures per
    patch size, then the network's, then the analysis before and after training."""
    order = []
    for s in sizes:
        t = f"{s}x{s}"
        order += [
            f"image_{t}_patches_and_samples",
            f"image_{t}_memories",
            f"image_{t}_denoising",
            f"image_{t}_couplings",
            f"image_{t}_thermodynamics",
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
