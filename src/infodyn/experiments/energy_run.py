"""The energy run: binary words of a spike file -> fitted Ising model (pairwise or K-pairwise)
-> memories, their probabilities and transitions, held-out likelihood, sample statistics, the
heat capacity C(T)/N and the Zipf plot of words (``thermo_report``), figures.

Words are cut trial by trial (``idn.energy.binary_words``); bits that never change in the
training words are dropped (and listed) because their fields diverge; all statistics, including
the held-out likelihood, are over the kept bits. The last ``test_fraction`` of the words of
every trial is held out (a temporal split: no test word is interleaved with training words, and
with ``window`` > 1 the words that share a bin with the first test word are left out of both).
"""

from __future__ import annotations

import os
import time
from typing import Any, Literal

import numpy as np
from pydantic import Field

from infodyn.data.notes import keeping_warnings, recording_data_warnings
from infodyn.errors import require
from infodyn.experiments.config import Section, Seed, validate
from infodyn.experiments.config_paths import PATH_FIELD
from infodyn.experiments.rundir import RunDir
from infodyn.experiments.thermo_report import thermo_section


class EnergyRunConfig(Section):
    """Options of ``infodyn energy`` (units: ms)."""

    spikes: str = Field(
        description="spike file to fit (HDF5, NPZ or a recording format)",
        json_schema_extra=PATH_FIELD,
    )
    bin_ms: float | None = Field(None, gt=0, description="bin width in ms (default: one step)")
    units: list[int] | str | None = Field(
        None, description="unit indices, or text such as '0-19,25' (infodyn.data.units)"
    )
    window: int = Field(1, ge=1, description="consecutive bins per word")
    method: Literal["mpf", "pl", "ml"] = "mpf"
    model: Literal["pairwise", "k_pairwise"] = "pairwise"
    l2: float = Field(0.0, ge=0, description="penalty l2 sum_{i<j} J_ij^2")
    l1: float = Field(0.0, ge=0, description="penalty l1 sum_{i<j} |J_ij|")
    test_fraction: float = Field(
        0.2, gt=0, lt=1, description="last fraction of each trial's words held out"
    )
    validation: float = Field(
        0.1, ge=0, lt=1, description="fraction of training words for early stopping (0: off)"
    )
    patience: int = Field(20, ge=1, description="early stopping: iterations after the best")
    n_samples: int = Field(20000, ge=100, description="Gibbs samples drawn from the model")
    n_memories: int = Field(20, ge=1, description="memories listed and plotted")
    max_units: int = Field(128, ge=1, description="refuse words with more bits than this")
    seed: Seed = Field(0, description="seed of the fit, samples and basins")


def _split(words: Any, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """The training and test words: the last ``test_fraction`` of each trial's words are held
    out, and with a window of ``w`` bins the ``w - 1`` words before them belong to neither (the
    words slide one bin at a time: those shared bins with the first test words)."""
    test = np.zeros(words.X.shape[0], dtype=bool)
    train = np.ones(words.X.shape[0], dtype=bool)
    for t in np.unique(words.trial):
        idx = np.flatnonzero(words.trial == t)
        k = int(round(test_fraction * idx.size))
        if k:
            test[idx[-k:]] = True
            train[idx[max(0, idx.size - k - (words.window - 1)) :]] = False
    return train, test


def _refuse_too_many_units(cfg: EnergyRunConfig) -> None:
    """Refuse, before any unit is binned, more units that spike but not in every step (times
    ``window`` bits each) than ``max_units``: ``--units 0-99999`` was refused only after binning
    them all (11 s and 2.1 GB), or by the words' memory check with advice that hid the limit.
    A selection of units of a file that is loaded whole (not HDF5) is left to the fit's own
    count of the bits that change: this check would load the file twice."""
    from infodyn.data.binning import spike_source
    from infodyn.data.spike_files import is_h5_path
    from infodyn.data.units import unit_subset

    if cfg.units is not None and not is_h5_path(cfg.spikes):
        return
    with spike_source(cfg.spikes) as src:
        selected = None if cfg.units is None else unit_subset(cfg.units, src.n_units)
        n_selected = src.n_units if selected is None else selected.size
        if n_selected * cfg.window <= cfg.max_units:
            return
        counts = src.unit_counts()
        counts = counts if selected is None else counts[selected]
        # a unit that spikes in every step is a constant bit, left out of the fit
        active = int(np.count_nonzero((counts > 0) & (counts < src.n_steps * src.n_trials)))
    which = "the file's" if selected is None else "the selected"
    bits = "" if cfg.window == 1 else f", {active * cfg.window} bits a word at window {cfg.window}"
    require(
        active * cfg.window <= cfg.max_units,
        f"{active} of {which} {n_selected} units spike{bits}, more than max_units = "
        f"{cfg.max_units}; select fewer units (--units), a shorter --window, or raise --max-units",
    )


def run_energy(cfg: EnergyRunConfig | dict[str, Any], out: str | os.PathLike) -> dict[str, Any]:
    """Run the energy analysis described by ``cfg`` into run directory ``out``; return results."""
    import infodyn.energy as E
    from infodyn.energy.fit import split_validation

    if isinstance(cfg, dict):
        cfg = validate(EnergyRunConfig, cfg, source="energy")
    read_notes: list[str] = []  # what the reader changed in the data (merged spikes, ...)
    with recording_data_warnings(read_notes):
        _refuse_too_many_units(cfg)
        # an HDF5 file is streamed: only the selected units' words are held, never the file
        words = E.binary_words(cfg.spikes, bin_ms=cfg.bin_ms, units=cfg.units, window=cfg.window)
    X_all = words.X
    require(X_all.any(), f"{cfg.spikes}: no spikes (of the units selected): nothing to fit")
    require(
        X_all.shape[0] >= 20,
        f"only {X_all.shape[0]} word{'s' if X_all.shape[0] != 1 else ''}: use more data or "
        "smaller bins",
    )
    train_mask, test_mask = _split(words, cfg.test_fraction)
    require(  # round(test_fraction * words) is 0 (or all) in every trial: nothing to compare
        test_mask.any() and train_mask.any(),
        f"{cfg.spikes}: holding out the last test_fraction = {cfg.test_fraction:g} of each "
        f"trial's words leaves {int(test_mask.sum())} test and {int(train_mask.sum())} training "
        "words (the trials are too short): use another test_fraction, a smaller bin_ms or "
        "window, or longer trials",
    )
    # bits that never change in the words the model is fitted to cannot be fitted (their fields
    # diverge): the training words less the validation rows (E.fit's own split of them, made
    # here: a bit constant only there was refused by E.fit as "constant column 70", a position
    # among the kept bits, with advice to pass allow_constant=True, which the CLI has not)
    fit_rows = np.flatnonzero(train_mask)
    val_rows = fit_rows[:0]
    if cfg.validation and fit_rows.size > 1:  # (a single word is refused below)
        fit_rows, val_rows = split_validation(fit_rows, cfg.validation, cfg.seed)
    m = X_all[fit_rows].mean(0)
    keep = np.flatnonzero((m > 0) & (m < 1))  # the others are dropped (_fit_and_report)
    held = f"test_fraction = {cfg.test_fraction:g}" + (
        f" and validation = {cfg.validation:g}" if val_rows.size else ""
    )
    require(  # "select units that spike, a larger bin_ms" where 2 words were left to fit
        keep.size >= 2 or fit_rows.size >= 20,
        f"{cfg.spikes}: {held} leave {fit_rows.size} of the {X_all.shape[0]} words to fit the "
        f"model to, and {keep.size or 'no'} bit{'s' * (keep.size != 1)} change in them: hold "
        "out fewer words (or select units that spike more)",
    )
    require(
        keep.size >= 2,
        f"{cfg.spikes}: {keep.size or 'no'} bit{'s' * (keep.size != 1)} of the words (units x "
        f"window) ever change{'s' * (keep.size == 1)} in the training words, fewer than two: "
        "nothing to fit (select "
        "units that spike, a larger bin_ms, or more data)",
    )
    require(
        keep.size <= cfg.max_units,
        f"{keep.size} bits per word exceed max_units = {cfg.max_units}; select units "
        "(--units, a shorter --window) or raise --max-units",
    )
    X = np.ascontiguousarray(X_all[:, keep])
    X_train, X_test = X[train_mask], X[test_mask]
    run = RunDir(
        out, "energy", hold_figures=True, writes=("model.npz",), reads=cfg.spikes, mark=True
    )
    with run.removed_if_failed(), run.locked():  # a failed fit left an empty --out folder
        split, rows = (X_train, X_test), (fit_rows, val_rows)
        return _fit_and_report(cfg, run, words, X, split, rows, keep, read_notes)


def likelihood_notes(report: dict[str, Any]) -> list[str]:
    """What the held-out report says of a failed or overfitted fit, kept with the run's
    warnings (``infodyn energy`` printed them, and results.json said ``warnings: []`` beside
    a model 7.7 bits a word below independent units): worse than independent units on its own
    training words (a failed fit: its mass on words the data do not hold), or on held-out
    words only (overfitting); a tie is neither (:func:`~infodyn.energy.density.clearly_worse`)."""
    from infodyn.energy.density import clearly_worse

    train = (
        report["train_gain_over_independent_bits"],
        report["train_gain_over_independent_se_bits"],
    )
    if clearly_worse(*train):
        return [
            "the model does worse than independent units on its own training words: the fit "
            "failed (its mass lies on words the data do not hold); use --l2 (e.g. 0.01): pairs "
            "of bits that never show one of their four joint states (never both active, or one "
            "never without the other) have no finite coupling otherwise"
        ]
    if clearly_worse(report["gain_over_independent_bits"], report["gain_over_independent_se_bits"]):
        return [
            "on held-out words the model does worse than independent units: it overfits the "
            "training words; use --l2 (e.g. 0.01), --validation or more data"
        ]
    return []


def _fit_and_report(
    cfg: EnergyRunConfig,
    run: RunDir,
    words: Any,
    X: np.ndarray,
    split: tuple[np.ndarray, np.ndarray],
    rows: tuple[np.ndarray, np.ndarray],
    keep: np.ndarray,
    read_notes: list[str],
) -> dict[str, Any]:
    """:func:`run_energy` from its words ``X`` (the kept bits): the fit on ``X[rows[0]]``
    (validation rows ``rows[1]``), log Z, held-out report, memories, samples, thermodynamics,
    figures and files; ``read_notes``: the reader's warnings, to which the fit's
    (``"fit: ..."``) and :func:`likelihood_notes` are added, kept as ``warnings``."""
    import infodyn.energy as E

    X_train, X_test = split
    fit_rows, val_rows = rows
    dropped = np.setdiff1d(np.arange(words.X.shape[1]), keep)
    t0 = time.perf_counter()
    with keeping_warnings("fit", read_notes):  # unbounded couplings: kept in results.json
        model = E.fit(
            X[fit_rows],
            method=cfg.method,
            l2=cfg.l2,
            l1=cfg.l1,
            seed=cfg.seed,
            validation=X[val_rows] if val_rows.size else None,
            patience=cfg.patience,
            model=cfg.model,
        )
    fit_s = time.perf_counter() - t0
    n = model.n
    if n <= 24:
        log_z, log_z_se, log_z_method = model.log_partition("exact"), 0.0, "exact"
    else:
        ais = E.ais_log_partition(model.J, model.theta, seed=cfg.seed, V=model.potential)
        log_z, log_z_se, log_z_method = ais.log_z, ais.stderr, "ais"
    # the words the fit saw (not the validation rows: they made n_train 2400 for 2160 fitted,
    # so d/M and the train - test gap were those of words the model never saw)
    # in time order: the batch-means errors of the per-word gains need it (the fit rows are
    # shuffled by the validation split)
    report = E.heldout_report(model, X[np.sort(fit_rows)], X_test, log_z=log_z)
    read_notes.extend(likelihood_notes(report))

    labels, memories = E.memory_labels(model, X)
    counts = np.bincount(labels, minlength=memories.shape[0])
    mem_energy = model.energy(memories)
    top = np.arange(min(cfg.n_memories, memories.shape[0]))
    segments = words.trial
    chain = E.markov_chain(labels, n_states=memories.shape[0], segments=segments)
    d_min = E.minimum_distance(memories) if memories.shape[0] >= 2 else None
    basin_ks = [k for k in (1, 2, 3) if k <= n]
    basins = E.basin_profile(model, memories[top], basin_ks, n_trials=20, seed=cfg.seed)

    samples = model.sample(cfg.n_samples, seed=cfg.seed)
    ind = E.IsingModel.independent(X_train)
    stats_model = E.compare_statistics(X_train, samples, seed=cfg.seed)
    stats_ind = E.compare_statistics(
        X_train, ind.sample(cfg.n_samples, seed=cfg.seed), seed=cfg.seed
    )

    results = {
        "n_words": int(X.shape[0]),
        "n_train": int(X_train.shape[0]),
        "n_test": int(X_test.shape[0]),
        "n_validation": int(val_rows.size),
        "bits_per_word": int(n),
        "bin_ms": words.bin_ms,
        "window": words.window,
        "units": words.units.tolist(),
        **({} if words.unit_ids is None else {"unit_ids": words.unit_ids}),
        "kept_bits": keep.tolist(),
        "dropped_constant_bits": dropped.tolist(),
        "fit": {**model.fit_info, "wall_seconds": fit_s},
        "log_z": {"nats": log_z, "stderr": log_z_se, "method": log_z_method},
        "heldout": report,
        "memories": {
            "n_distinct": int(memories.shape[0]),
            "minimum_distance": d_min,
            "correction_radius": None if d_min is None else (d_min - 1) // 2,
            "top": [
                {
                    "rank": int(i),
                    "pattern": "".join(str(b) for b in memories[i]),
                    "active_bits": int(memories[i].sum()),
                    "energy": float(mem_energy[i]),
                    "model_probability": float(np.exp(-mem_energy[i] - log_z)),
                    "fraction_of_words": float(counts[i] / X.shape[0]),
                    "basin": {f"{k}_flips": float(basins[i, j]) for j, k in enumerate(basin_ks)},
                }
                for i in top
            ],
        },
        "markov_chain": {
            "entropy_rate_bits": chain.entropy_rate_bits,
            "stationary_entropy_bits": chain.stationary_entropy_bits,
            "top_transition": chain.transition[np.ix_(top, top)].tolist(),
            "fraction_self_transitions": float(np.trace(chain.counts) / max(chain.counts.sum(), 1)),
        },
        "sample_statistics": {"model": stats_model, "independent": stats_ind},
        "warnings": read_notes,
        "files": {
            "model": "model.npz",
            "figures": [f"figures/{f}.png" for f in _FIGURES],
        },
    }
    _figures(
        run,
        model,
        X_train,
        samples,
        ind,
        memories[top],
        counts[top] / X.shape[0],
        mem_energy[top],
        log_z,
        chain.transition[np.ix_(top, top)],
        keep,
        "K-pairwise" if cfg.model == "k_pairwise" else "pairwise",
    )
    results["thermodynamics"] = thermo_section(
        run, model, X_train, samples, cfg.seed, "thermodynamics"
    )
    run.retire_results()
    model.save(run.file("model.npz"))  # with config and results, after everything can fail
    run.finish(cfg, "energy", results, prune=True)
    return results


_FIGURES = ("couplings", "memories", "transitions", "statistics", "thermodynamics")


def _figures(
    run, model, X, samples, ind, memories, freq, energy, log_z, transition, bits, name
) -> None:
    """The figures; ``bits``: the word's bit of each model unit (the kept bits), ``name``: the
    model's name in legends."""
    from infodyn.energy.sampling import count_distribution, pairwise_covariance
    from infodyn.plotting import label_matrix_ticks, pyplot

    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [3, 1]})
    lim = float(np.abs(model.J).max()) or 1.0
    im = ax[0].imshow(model.J, cmap="RdBu_r", vmin=-lim, vmax=lim)
    fig.colorbar(im, ax=ax[0], label="J_ij")
    label_matrix_ticks(ax[0], bits)  # dropped constant bits: the position was not the bit
    ax[0].set(title="couplings J", xlabel="bit j", ylabel="bit i")
    ax[1].barh(np.arange(model.n), model.theta, color="0.4")
    label_matrix_ticks(ax[1], bits, axes="y")
    ax[1].invert_yaxis()
    ax[1].set(title="thresholds theta", xlabel="theta_i")
    run.savefig(fig, "couplings")

    fig, ax = plt.subplots(
        1, 2, figsize=(9, 0.3 * len(memories) + 1.8), gridspec_kw={"width_ratios": [2, 1]}
    )
    # 0 white, 1 black whatever the memories hold (one memory, or all alike: a blank panel)
    ax[0].imshow(memories, cmap="Greys", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    ax[0].set(title="memories (rank by visits)", xlabel="bit", ylabel="rank")
    y = np.arange(len(memories))
    # points, not bars: a bar's length on a log axis starts nowhere and means nothing
    ax[1].plot(freq, y, "o", ms=4, label="words descending here")
    ax[1].plot(np.exp(-energy - log_z), y, "s", ms=4, mfc="none", label="model p(memory)")
    ax[1].set_ylim(len(memories) - 0.5, -0.5)  # rank 0 at the top, as the image beside it
    ax[1].set_xscale("log")
    from matplotlib.ticker import LogLocator, NullFormatter

    ax[1].xaxis.set_major_locator(LogLocator(numticks=4))
    ax[1].xaxis.set_minor_formatter(NullFormatter())
    for a in ax:
        a.set_yticks(y)
    ax[1].set(xlabel="probability")
    ax[1].legend(fontsize=7, loc="lower right")
    run.savefig(fig, "memories")

    fig, ax = plt.subplots(figsize=(4.5, 4))
    im = ax.imshow(transition, cmap="viridis", vmin=0, vmax=1)
    label_matrix_ticks(ax, np.arange(len(transition)))  # memory ranks: whole ticks
    fig.colorbar(im, ax=ax, label="P(next | current)")
    ax.set(title="Markov chain of memories", xlabel="next memory", ylabel="current memory")
    run.savefig(fig, "transitions")

    iu = np.triu_indices(model.n, 1)
    fig, ax = plt.subplots(1, 4, figsize=(16, 3.6))
    ax[0].plot(X.mean(0), samples.mean(0), "o", ms=3)
    ax[0].plot([0, 1], [0, 1], "k:", lw=0.8)
    ax[0].set(title="means", xlabel="data", ylabel="model samples")
    cd, cm = pairwise_covariance(X)[iu], pairwise_covariance(samples)[iu]
    ci = pairwise_covariance(ind.sample(samples.shape[0], seed=1))[iu]
    ax[1].plot(cd, ci, ".", ms=3, color="0.6", label="independent")
    ax[1].plot(cd, cm, ".", ms=3, label=f"{name} model")
    lo, hi = float(min(cd.min(), cm.min())), float(max(cd.max(), cm.max()))
    ax[1].plot([lo, hi], [lo, hi], "k:", lw=0.8)
    ax[1].set(title="covariances", xlabel="data")
    ax[1].legend(fontsize=7)
    k = np.arange(model.n + 1)
    ax[2].semilogy(k, count_distribution(X), "k-", label="data")
    ax[2].semilogy(k, count_distribution(samples), "o", ms=3, label=f"{name} model")
    ax[2].semilogy(
        k,
        count_distribution(ind.sample(samples.shape[0], seed=2)),
        "x",
        ms=3,
        color="0.5",
        label="independent",
    )
    ax[2].set(title="P(K active bits)", xlabel="K")
    ax[2].legend(fontsize=7)
    from infodyn.energy.sampling import pattern_rates

    pats, f_data, _ = pattern_rates(X, samples)
    p_model = np.exp(-model.energy(pats) - log_z)
    p_ind = np.exp(ind.log_likelihood(pats, reduce="none"))
    ax[3].loglog(f_data, p_ind, ".", ms=3, color="0.6", label="independent")
    ax[3].loglog(f_data, p_model, ".", ms=3, label=f"{name} model")
    lo = float(min(f_data.min(), p_model.min()))
    ax[3].plot([lo, 1], [lo, 1], "k:", lw=0.8)
    ax[3].set(title="pattern rates (training words)", xlabel="observed", ylabel="predicted")
    ax[3].legend(fontsize=7)
    run.savefig(fig, "statistics")
