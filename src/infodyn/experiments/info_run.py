"""The ``info`` run: per-neuron entropies, pairwise MI and population TC / O-information of a
spike file, with shuffle baselines, figures and ``results.json``."""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import numpy as np

from infodyn.atomic import save_npz
from infodyn.data.notes import recording_data_warnings, warn_data
from infodyn.data.units import recorded_ids, unit_subset
from infodyn.errors import (
    InputError,
    as_path,
    is_finite_number,
    make_rng,
    require,
    require_choice,
)
from infodyn.experiments.rundir import RunDir

ESTIMATORS = ("plugin", "miller_madow", "nsb")
#: files with more units are analysed on their MAX_UNITS most active units (pairwise MI is
#: quadratic in the number of units)
MAX_UNITS = 256


def _population_null(
    words: np.ndarray, estimator: str, n_shuffles: int, seed: int, base: float = 2.0
) -> dict[str, float]:
    """TC and O-information of words whose units were shuffled in time independently.

    The shuffles keep every unit's rate and destroy all correlations, so their TC / O-information
    is the estimator's bias at this sample size (the true value is 0).
    """
    from infodyn.information import multivariate_summary

    rng = make_rng(seed)
    tc, oi = [], []
    for _ in range(n_shuffles):
        shuffled = np.stack([rng.permutation(col) for col in words.T], axis=1)
        s = multivariate_summary(shuffled, estimator, base=base)
        tc.append(s["total_correlation"])
        oi.append(s["o_information"])
    return {
        "total_correlation_mean": float(np.mean(tc)),
        "total_correlation_std": float(np.std(tc)),
        "o_information_mean": float(np.mean(oi)),
        "o_information_std": float(np.std(oi)),
    }


def _one_undersampling_note(messages: list[str], estimator: str) -> list[str]:
    """The undersampling warnings of one analysis as one note: each estimate on the same words
    (units, pairs, shuffles) warned with its own counts, nine near-identical lines on a run."""
    if len(messages) <= 1:
        return messages
    nsb = "" if estimator == "nsb" else "--estimator nsb, "  # advised to a run of nsb
    return [
        f"{len(messages)} estimates are undersampled, e.g. {messages[0]} (command line: "
        f"{nsb}a larger --bin-ms or a smaller --max-population)"
    ]


def run_info(
    spikes_path: str | os.PathLike,
    out: str | os.PathLike,
    bin_ms: float | None = None,
    estimator: str = "plugin",
    max_population: int = 16,
    n_shuffles: int = 10,
    seed: int = 0,
    units: str | list[int] | None = None,
    max_units: int = MAX_UNITS,
    base: float = 2.0,
) -> dict[str, Any]:
    """Analyse the spike file at ``spikes_path`` into run directory ``out``; return results.

    Spikes are binned into binary words (``bin_ms``, default one time step; a unit is 1 in a bin
    when it spiked). Entropies and pairwise MI cover the analysed units: ``units`` if given, all
    units of files with at most ``max_units`` units, else the ``max_units`` most active ones
    (ties to the lower index). TC, DTC, O- and S-information use the ``max_population`` most
    active of those (joint words of more units are undersampled). An HDF5 file is streamed, block
    by block, and only the analysed units' words are held (:mod:`infodyn.data.binning`).

    Information is in units of ``log_base`` (default 2: bits); the keys of ``results.json`` and
    the arrays of ``information.npz`` name the unit (``entropy_bits``, ``entropy_nats``, ...),
    and ``results["base"]``, ``results["unit"]`` say it.
    """
    from infodyn.data.binning import spike_source, whole_bin_steps
    from infodyn.information import entropy, multivariate_summary, pairwise_mutual_information
    from infodyn.information._inputs import log_factor, unit_key, unit_name
    from infodyn.information.estimators import UndersampledWarning
    from infodyn.information.measures import require_pairwise_memory

    require_choice("estimator", estimator, ESTIMATORS)
    # checked before the data is read ("5" or None were raw TypeErrors, 3.5 one after it)
    for name, value, least, why in (
        ("max_population", max_population, 3, " (O-information needs three units)"),
        ("n_shuffles", n_shuffles, 0, ""),
        ("max_units", max_units, 3, ""),
    ):
        whole = isinstance(value, int | np.integer) and not isinstance(value, bool)
        require(
            whole and value >= least,
            f"{name} must be >= {least}{why}, a whole number; got {value!r}",
        )
    require(
        bin_ms is None or (is_finite_number(bin_ms) and bin_ms > 0),
        f"bin_ms must be a positive number of ms, got {bin_ms!r}",
    )
    source = "<SpikeTrain>" if hasattr(spikes_path, "n_units") else str(as_path(spikes_path))
    f = log_factor(base)
    base, unit, u = float(base), unit_name(base), unit_key(base)
    t0 = time.perf_counter()  # the passes over the file included
    read_notes: list[str] = []  # what the reader changed in the data (merged spikes, ...)
    with recording_data_warnings(read_notes), spike_source(spikes_path) as src:
        dt = src.dt
        given = bin_ms is not None  # a message names --bin-ms only where the user gave it
        bin_ms = dt if bin_ms is None else float(bin_ms)
        bin_steps = whole_bin_steps(bin_ms, dt, "--bin-ms")
        n_units_file, n_trials = src.n_units, src.n_trials
        n_samples = n_trials * (src.n_steps // bin_steps)  # a partial last bin is dropped
        require(  # one bin a trial gave all-zero results and exit 0 (before any pass)
            n_samples >= 2,
            (f"--bin-ms={bin_ms:g} leaves " if given else "the recording holds ")
            + f"{n_samples} bin(s) in {n_trials} trial(s) of "
            f"{src.n_steps} steps: information needs at least two words; "
            + (  # of one step: no smaller --bin-ms (an empty file was told to choose one)
                "choose a smaller --bin-ms"
                if bin_steps > 1
                else "the recording is too short (a spike file without spikes or n_steps?)"
            ),
        )
        if units is not None:
            sel = unit_subset(units, n_units_file, "units")
        elif n_units_file > max_units:  # the most active units (one streamed pass)
            sel = most_active(src.unit_counts(), max_units)
            warn_data(  # said in results.json's n_units_file alone: the summary read as all
                f"{source}: analysing the {max_units} most active of its {n_units_file} units "
                "(raise max_units, --max-units, or select units, --units)"
            )
        else:
            sel = np.arange(n_units_file)
        # before the words are read (60,000 units ran 18 s into the file, then ran out)
        require_pairwise_memory(n_samples, sel.size, extra=n_samples * sel.size)
        binned = src.binned(bin_steps, sel, binary=True)
        ids = recorded_ids(src.metadata, n_units_file, sel)
    if not binned.any():  # every entropy and information would be 0: nothing was measured
        whose = "the selected units hold" if units is not None else "the spike file holds"
        raise InputError(f"{source}: {whose} no spikes")
    run = RunDir(
        out, "info", hold_figures=True, writes=("information.npz",), reads=source, mark=True
    )
    with run.removed_if_failed(), run.locked():  # a run stopped in its analysis left an empty
        # --out folder; two runs in one folder mixed their files
        config = {
            "spikes": source,
            "bin_ms": bin_ms,
            "estimator": estimator,
            "max_population": max_population,
            "n_shuffles": n_shuffles,
            "seed": seed,
            "units": None if units is None else [int(u) for u in sel],
            "max_units": max_units,
            "base": base,
        }
        words = binned.reshape(-1, sel.size)
        del binned
        n_samples, n_units = words.shape
        # NSB per pair costs one 1-D integral per entropy: beyond 64 units use Miller-Madow
        pair_estimator = "miller_madow" if estimator == "nsb" and n_units > 64 else estimator
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always", UndersampledWarning)
            h = np.array(
                [float(entropy(words[:, i], estimator, base=base)) for i in range(n_units)]
            )
            mi = pairwise_mutual_information(words, pair_estimator, base=base)
            activity = words.mean(axis=0)
            pop_units = np.sort(
                np.argsort(-activity, kind="stable")[: min(max_population, n_units)]
            )
            pop = None
            if pop_units.size >= 3:
                pw = words[:, pop_units]
                pop = multivariate_summary(pw, estimator, base=base)
                n_words = int(np.unique(pw, axis=0).shape[0])
                null = (
                    _population_null(pw, estimator, n_shuffles, seed, base) if n_shuffles else None
                )
            caught = _one_undersampling_note(
                sorted(
                    {str(w.message) for w in record if issubclass(w.category, UndersampledWarning)}
                ),
                estimator,
            )
        if pair_estimator != estimator:  # recorded as pairwise_estimator only
            caught.append(
                f"the pairwise mutual information of {n_units} units is estimated by Miller-Madow, "
                "not NSB (one NSB integral per pair's entropy is too slow beyond 64 units); the "
                "entropies and the population measures use NSB"
            )
        upper = mi[np.triu_indices(n_units, 1)]
        if not upper.size:  # one unit: no pair, so no pairwise number (not a mean of 0.0)
            caught.append("one unit analysed: no pairwise mutual information (it needs two units)")
        if 1 < n_units < 3:  # the population results were left out without a word
            caught.append(
                f"{n_units} units analysed: no population measures (total correlation and "
                "O-information need three units)"
            )
        # from the words, not from h: NSB gives a constant unit its prior's few 1e-4 bit, and
        # both notes were lost under --estimator nsb
        never, always = ~words.any(axis=0), words.all(axis=0)  # (always: a spike in every bin)
        silent, full = int(np.count_nonzero(never)), int(np.count_nonzero(always))
        constant = never | always
        prior = float(h[constant].max()) if constant.any() else 0.0  # (NSB's, by the bin count)
        zero = f"0 (NSB's prior leaves them {prior:.2g} {unit})" if estimator == "nsb" else "0"
        if silent:  # a smaller bin was suggested to silent units, and at a bin of one step
            caught.append(
                f"{silent} of {n_units} units never spike in these bins: their entropies and "
                f"information are {zero}"
            )
        if full:
            smaller = "; a smaller --bin-ms separates their spikes" if bin_steps > 1 else ""
            caught.append(
                f"{full} of {n_units} units spike in every {bin_ms:g} ms bin: their entropies and "
                f"information are {zero}{smaller}"
            )
        results: dict[str, Any] = {
            "spikes": source,
            "n_units": n_units,
            "n_units_file": n_units_file,
            "units": "all" if n_units == n_units_file and units is None else sel.tolist(),
            **({} if ids is None else {"unit_ids": ids}),  # the recording's own, for those units
            "n_trials": n_trials,
            "n_samples": n_samples,
            "bin_ms": bin_ms,
            "estimator": estimator,
            "pairwise_estimator": pair_estimator,
            "base": base,
            "unit": unit,
            f"entropy_{u}": {
                "per_unit": h.tolist(),
                "mean": float(h.mean()),
                "max_possible_per_unit": f,
            },
            f"pairwise_mi_{u}": {
                "mean": float(upper.mean()) if upper.size else None,
                "max": float(upper.max()) if upper.size else None,
                "plugin_bias_under_independence": 1.0 / (2 * n_samples * np.log(base)),
                "top_pairs": _top_pairs(mi, 10, sel, u),
            },
            "population": None,
            "warnings": read_notes + caught,
        }
        if pop is not None:
            results["population"] = {
                "units": sel[pop_units].tolist(),
                "n_distinct_words": n_words,
                "samples_per_word": n_samples / n_words,
                **pop,
                "shuffle_null": null,
                "total_correlation_corrected": (
                    pop["total_correlation"] - null["total_correlation_mean"] if null else None
                ),
                "o_information_corrected": (
                    pop["o_information"] - null["o_information_mean"] if null else None
                ),
                "interpretation": "O-information > 0: redundancy dominates; < 0: synergy dominates",
            }
        results["wall_seconds"] = time.perf_counter() - t0
        results["files"] = {
            "arrays": "information.npz",
            "entropies": "figures/entropies.png",
            # one unit has no pair: the figure was an empty matrix and "0 pairs"
            "pairwise_mi": "figures/pairwise_mi.png" if sel.size > 1 else None,
            "population": "figures/population.png" if pop is not None else None,
        }
        run.savefig(entropy_figure(h, activity, unit, f), "entropies")
        if sel.size > 1:
            run.savefig(pairwise_mi_figure(mi, unit, sel), "pairwise_mi")
        if pop is not None:
            run.savefig(population_figure(results["population"], unit), "population")
        # with config and results, after everything can fail (a rerun stopped in its figures left
        # its arrays beside the previous run's results)
        run.retire_results()
        save_npz(
            run.file("information.npz"), **{f"entropy_{u}": h, f"pairwise_mi_{u}": mi}, units=sel
        )
        run.finish(config, "info", results, prune=True)
        return results


def most_active(counts: np.ndarray, k: int) -> np.ndarray:
    """The ids of the ``k`` units of most spikes, ties to the lower id, in ascending order - those
    of ``np.argsort(-counts, kind="stable")[:k]``, without a sort of every unit (16 bytes a
    unit: a corrupt header's 10^8 units with 300 spikes peaked at 1.75 GB)."""
    spiking = np.flatnonzero(counts)
    top = spiking[np.argsort(-counts[spiking], kind="stable")[:k]]
    parts, need = [top], k - top.size
    for lo in range(0, counts.size if need > 0 else 0, SILENT_BLOCK):  # the silent units next
        silent = lo + np.flatnonzero(counts[lo : lo + SILENT_BLOCK] == 0)[:need]
        parts.append(silent)
        need -= silent.size
        if need == 0:
            break
    return np.sort(np.concatenate(parts))


#: units looked through at a time by :func:`most_active` for silent ones
SILENT_BLOCK = 1 << 20


def _top_pairs(mi: np.ndarray, k: int, units: np.ndarray, u: str = "bits") -> list[dict[str, Any]]:
    """The ``k`` pairs of largest MI, named by their unit ids in the file."""
    n = mi.shape[0]
    iu = np.triu_indices(n, 1)
    vals = mi[iu]
    order = np.argsort(-vals, kind="stable")[:k]
    return [
        {"i": int(units[iu[0][j]]), "j": int(units[iu[1][j]]), f"mi_{u}": float(vals[j])}
        for j in order
    ]


# ---------------------------------------------------------------------- figures
def entropy_figure(
    h: np.ndarray, activity: np.ndarray, unit: str = "bits", factor: float = 1.0
) -> Any:
    """Per-unit entropies (sorted) and entropy against spike probability per bin."""
    from infodyn.plotting import pyplot

    plt = pyplot()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    order = np.argsort(-h, kind="stable")
    ax.bar(np.arange(h.size), h[order], color="C0", width=1.0)
    ax.set_xlabel("unit (sorted by entropy)")
    ax.set_ylabel(f"H ({unit} per bin)")
    ax.set_title(f"per-unit entropy: mean {h.mean():.3f} {unit}")
    p = np.linspace(1e-4, 1 - 1e-4, 400)
    ax2.plot(
        p,
        -(p * np.log2(p) + (1 - p) * np.log2(1 - p)) * factor,
        color="0.6",
        lw=1,
        label="H_b(p) (independent bins)",
    )
    ax2.plot(activity, h, "o", ms=3, color="C0", label="units")
    ax2.set_xlabel("P(spike in bin)")
    ax2.set_ylabel(f"H ({unit})")
    ax2.set_xlim(0, max(0.05, min(1.0, 1.2 * float(activity.max()))))
    ax2.legend(fontsize=8)
    return fig


#: the most rows and columns the pairwise MI heat map draws (beyond: block means)
MAX_SHOWN_UNITS = 1000


def pairwise_mi_figure(mi: np.ndarray, unit: str = "bits", ids: Any = None) -> Any:
    """Heat map of the pairwise MI matrix (diagonal hidden; rows and columns labelled by the
    unit ids ``ids``, default their positions) and the histogram of pair values.

    Beyond :data:`MAX_SHOWN_UNITS` units the map shows the means of blocks of ``k`` x ``k``
    pairs (the diagonal left out) and the histogram is summed row by row: drawing the whole
    matrix took about 100 bytes a pair (940 MB at 3,000 units, beyond what the memory check of
    ``infodyn info`` counts)."""
    from infodyn.plotting import label_matrix_ticks, pyplot

    plt = pyplot()
    n = mi.shape[0]
    ids = np.arange(n) if ids is None else np.asarray(ids)
    k = -(-n // MAX_SHOWN_UNITS)  # units per block
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    im = ax.imshow(_block_means(mi, k), cmap="viridis", interpolation="nearest")
    fig.colorbar(
        im, ax=ax, label=f"I(X_i; X_j) ({unit})" + (f", mean of {k} x {k}" if k > 1 else "")
    )
    label_matrix_ticks(ax, ids[::k])
    ax.set_xlabel("unit j")
    ax.set_ylabel("unit i")
    ax.set_title("pairwise mutual information")
    n_pairs = n * (n - 1) // 2
    if n_pairs:
        rows = [mi[i, i + 1 :] for i in range(n - 1)]
        lo = min(float(r.min()) for r in rows)
        hi = max(float(r.max()) for r in rows)
        edges = np.histogram_bin_edges([lo, hi], bins=min(50, max(5, n_pairs // 5)))
        counts = sum(np.histogram(r, edges)[0] for r in rows)
        ax2.stairs(counts, edges, fill=True, color="C2", edgecolor="k", lw=0.3)
    ax2.set_xlabel(f"I ({unit})")
    ax2.set_ylabel("pairs")
    ax2.set_yscale("log")
    ax2.set_title(f"{n_pairs} pairs")
    return fig


def _block_means(mi: np.ndarray, k: int) -> np.ndarray:
    """Means of the off-diagonal entries of ``mi`` in blocks of ``k`` x ``k`` (NaN where a block
    holds none), one row block at a time: never a copy of the whole matrix when ``k > 1``."""
    n = mi.shape[0]
    m = -(-n // k)
    out = np.full((m, m), np.nan)
    for b in range(m):
        rows = np.array(mi[b * k : (b + 1) * k], dtype=np.float64)
        rows[np.arange(rows.shape[0]), np.arange(b * k, b * k + rows.shape[0])] = np.nan
        padded = np.full((rows.shape[0], m * k), np.nan)
        padded[:, :n] = rows
        blocks = padded.reshape(rows.shape[0], m, k).transpose(1, 0, 2).reshape(m, -1)
        finite = np.isfinite(blocks)
        counts = finite.sum(axis=1)
        sums = np.where(finite, blocks, 0.0).sum(axis=1)
        out[b] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return out


def population_figure(pop: dict[str, Any], unit: str = "bits") -> Any:
    """TC, DTC, O- and S-information of the population with the shuffle baseline."""
    from infodyn.plotting import pyplot

    plt = pyplot()
    names = ["total_correlation", "dual_total_correlation", "o_information", "s_information"]
    labels = ["TC", "DTC", "O-info", "S-info"]
    vals = [pop[k] for k in names]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    colors = ["C0", "C1", "C3" if pop["o_information"] < 0 else "C2", "C4"]
    ax.bar(labels, vals, color=colors)
    null = pop.get("shuffle_null")
    if null:
        for x, key in ((0, "total_correlation"), (2, "o_information")):
            ax.errorbar(
                x + 0.25,
                null[f"{key}_mean"],
                yerr=null[f"{key}_std"],
                fmt="o",
                color="k",
                ms=4,
                capsize=3,
                label="shuffled" if x == 0 else None,
            )
        ax.legend(fontsize=8)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel(unit)
    ax.set_title(  # the bars are the measures as estimated; results.json's corrected ones
        # (and the printed line's) are those minus the shuffled mean
        f"population of {len(pop['units'])} units ({pop['samples_per_word']:.1f} samples per "
        "word; bars uncorrected" + ("; dots: shuffled)" if null else ")")
    )
    return fig
