"""The criticality run: spikes -> population activity -> branching ratio, avalanches, power laws.

Writes ``config.json``, ``results.json`` and ``figures/`` (``branching`` with r_k and both fits,
``sizes`` and ``durations`` with their power-law fits on log-log axes, ``size_vs_duration`` with
the fitted and predicted crackling exponents).
"""

from __future__ import annotations

import os
import textwrap
import time
import warnings
from typing import Any

import numpy as np

from infodyn.criticality import CriticalityWarning
from infodyn.criticality.own_share import (
    LAGS,
    OwnCovariances,
    own_covariances,
    own_share,
    own_share_note,
    share_of,
)
from infodyn.data.binning import spike_source, whole_bin_steps
from infodyn.data.notes import keeping_warnings, recording_data_warnings
from infodyn.data.units import recorded_ids, unit_subset
from infodyn.errors import InputError, as_path, is_finite_number, make_rng, require
from infodyn.experiments.figures import draw_mr_fits
from infodyn.experiments.rundir import RunDir
from infodyn.memory import MemoryPreflightError, require_memory
from infodyn.plotting import pyplot


def _parse_bin(value: Any) -> float | str | None:
    if value is None or isinstance(value, float | int):
        return value
    text = str(value).strip().lower()
    if text in ("iei", "step", "none"):
        return None if text in ("step", "none") else "iei"
    try:
        return float(text)
    except ValueError:
        raise InputError(
            f"a bin width must be a number of ms, 'iei' or 'step': {value!r}"
        ) from None


def run_criticality(
    spikes: Any,
    out: str | os.PathLike,
    bin_ms: Any = None,
    avalanche_bin_ms: Any = "iei",
    kmax: int | None = None,
    coefficient_method: str = "ts",
    kmin: int = 1,
    n_boot: int = 100,
    ci_method: str = "centred_percentile",
    gof_bootstrap: int = 0,
    min_tail: int = 50,
    seed: int = 0,
    units: str | list[int] | None = None,
    sample_fraction: float | None = None,
    bias_correction: bool = False,
) -> dict[str, Any]:
    """Analyse a spike file (or SpikeTrain) into run directory ``out``; return the results.

    ``bias_correction`` removes the O(tau/T) finite-trial bias of the MR and naive slopes
    (``branching_ratio(..., bias_correction=True)``; for short trials, which its warning names).

    ``units`` (``"0-19,25"`` or a list, see :func:`~infodyn.data.units.unit_subset`) or
    ``sample_fraction`` (a random subset of that fraction of the units, drawn with ``seed``)
    restrict the analysis to some units, e.g. to see how the naive estimate degrades under
    subsampling while MR does not.

    Everything here needs only the population counts per step (of the selected units), so an
    infodyn HDF5 file (``.h5``/``.hdf5``) is not loaded but counted in one streamed pass
    (:func:`infodyn.criticality.step_counts`): memory is 8 bytes a step and trial, not 16 a
    spike. Other files are loaded whole. The results are the same either way.
    """
    from infodyn.criticality import (
        avalanches,
        branching_ratio,
        crackling_relation,
        fano_factor,
        fit_power_law,
        global_rate_variance,
        population_activity,
        step_counts,
    )
    from infodyn.data.io import load_spikes
    from infodyn.data.spike_files import is_h5_path
    from infodyn.data.spike_reader import SpikeReader

    if not hasattr(spikes, "n_units"):  # None or a number: raw TypeErrors of the path
        spikes = as_path(spikes, "spikes")
    source = str(spikes) if not hasattr(spikes, "n_units") else "<SpikeTrain>"
    stream = not hasattr(spikes, "n_units") and is_h5_path(spikes)
    caught: list[str] = []  # the warnings results.json keeps: the reader's, the analyses'
    if stream:
        path = spikes
        # the header (n_units, n_spikes; its notes kept); counted below
        with recording_data_warnings(caught), SpikeReader(path) as reader:
            spikes = reader
    elif not hasattr(spikes, "n_units"):
        with recording_data_warnings(caught):
            spikes = load_spikes(spikes)
    require(spikes.n_spikes > 0, f"{source}: the spike file holds no spikes")
    selected = None if units is None else unit_subset(units, spikes.n_units, "units").tolist()
    if sample_fraction is not None:
        require(selected is None, "give either units or sample_fraction, not both")
        require(  # "0.5" was a raw TypeError, True a fraction of 1
            is_finite_number(sample_fraction) and 0 < sample_fraction <= 1,
            f"sample_fraction must lie in (0, 1], got {sample_fraction!r}",
        )
        # halves rounded up (Python's round() took 2 of 5 units for 0.5, 4 of 9)
        k = max(1, int(np.floor(sample_fraction * spikes.n_units + 0.5)))
        rng = make_rng(seed)
        selected = sorted(rng.choice(spikes.n_units, size=k, replace=False).tolist())
    ids = recorded_ids(getattr(spikes, "metadata", None), spikes.n_units, selected)
    bin_ms, avalanche_bin_ms = _parse_bin(bin_ms), _parse_bin(avalanche_bin_ms)
    options = (("--bin-ms", bin_ms), ("--avalanche-bin-ms", avalanche_bin_ms))
    iei = [option for option, width in options if width == "iei"]
    require(  # "the mean inter-event interval needs at least two spikes", naming no file
        spikes.n_spikes >= 2 or not iei,
        f"{source}: the spike file holds one spike, and {' and '.join(iei)} 'iei' (the mean "
        "inter-event interval) needs two: give the bin in ms (or 'step')",
    )
    for option, width in options:
        if isinstance(width, float | int):  # asked for: not rounded to another width
            steps = whole_bin_steps(width, spikes.dt, option)  # before a pass over the file
            require(  # (refused after a whole pass over the file)
                steps <= spikes.n_steps,
                f"{option} = {width:g} ms is longer than a trial ({spikes.n_steps * spikes.dt:g} "
                "ms)",
            )
    t0 = time.perf_counter()  # the pass over the file included
    if stream:
        # counts per step of the selected units, in one pass; both activities are binned from
        # them, and the units' own lagged covariances are summed in it where the bin is known
        own = _own_in_pass(spikes, selected, bin_ms)
        with recording_data_warnings(caught):
            spikes = step_counts(path, units=selected, each_block=own and own.add)
        by_unit = (path, selected, own)
    else:
        if selected is not None:
            spikes = spikes.select_units(selected)
        by_unit = (spikes, None, None)
    if selected is not None:  # one spike: "the mean inter-event interval needs two spikes"
        n = spikes.n_spikes
        which, fix = "the selected units", ""
        if sample_fraction is not None:
            k = len(selected)
            which = f"the {k:,} unit{'s' * (k != 1)} of sample_fraction = {sample_fraction:g}"
            fix = ": raise the fraction"
        require(n >= 2, f"{which} hold {'no spikes' if n == 0 else 'one spike'}{fix}")
    cfg = {
        "spikes": source,
        "bin_ms": bin_ms,
        "avalanche_bin_ms": avalanche_bin_ms,
        "kmax": kmax,
        "kmin": kmin,
        "coefficient_method": coefficient_method,
        "n_boot": n_boot,
        "ci_method": ci_method,
        "gof_bootstrap": gof_bootstrap,
        "min_tail": min_tail,
        "seed": seed,
        "units": units,
        "sample_fraction": sample_fraction,
        "bias_correction": bias_correction,
        "n_units_analysed": spikes.n_units,
    }
    run = RunDir(out, "criticality", hold_figures=True)
    # (removed_if_failed: a run stopped in its analysis left an empty --out folder; the
    # reader's notes of a second pass over the file, own_share's, are kept once, unprefixed)
    with run.removed_if_failed(), run.locked(), recording_data_warnings(caught):
        with keeping_warnings("binning", caught):
            act = population_activity(spikes, bin_ms=bin_ms)
        # the options both estimators take (kmin and kmax are MR's)
        estimator = dict(
            bias_correction=bias_correction,
            coefficient_method=coefficient_method,
            n_boot=n_boot,
            ci_method=ci_method,
            seed=seed,
        )
        with keeping_warnings("MR branching ratio", caught):
            mr = branching_ratio(act, method="mr", kmax=kmax, kmin=kmin, **estimator)
            own = _own_share(by_unit, act)
        with keeping_warnings("naive branching ratio", caught):
            naive = branching_ratio(act, method="naive", **estimator)
        with keeping_warnings("avalanches", caught):
            av_act = population_activity(spikes, bin_ms=avalanche_bin_ms)
            av = avalanches(av_act)
        size_fit = dur_fit = crackle = None
        if av.n >= 2:
            with keeping_warnings("avalanche sizes", caught):
                size_fit = fit_power_law(
                    av.sizes, discrete=True, min_tail=min_tail, bootstrap=gof_bootstrap, seed=seed
                )
            with keeping_warnings("avalanche durations", caught):
                dur_fit = fit_power_law(
                    av.durations,
                    discrete=True,
                    min_tail=min_tail,
                    bootstrap=gof_bootstrap,
                    seed=seed,
                )
            if size_fit.meaningful and dur_fit.meaningful and size_fit.alpha > 1:
                with keeping_warnings("crackling relation", caught):
                    crackle = crackling_relation(
                        av,
                        size_fit.alpha,
                        dur_fit.alpha,
                        d_min=dur_fit.xmin,
                        alpha_size_err=size_fit.sigma,
                        alpha_duration_err=dur_fit.sigma,
                    )
        with keeping_warnings("Fano factor", caught):
            fano = fano_factor(act)
        with keeping_warnings("global-rate variance", caught):
            s_hz = global_rate_variance(act, n_units=spikes.n_units, dt_ms=act.bin_ms)
        n_dropped = act.counts.shape[0] - mr.n_trials  # the constant trials m's estimators left
        if n_dropped:
            caught.append(
                f"Fano factor and global-rate variance: {n_dropped} of {act.counts.shape[0]} "
                "trials have constant activity and are pooled with the others (the branching "
                "estimators leave them out)"
            )
        if own is not None and mr.meaningful and (note := own_share_note(own, spikes.n_units)):
            caught.append(note)
        no_avalanches = _no_avalanches_note(av_act, av.n)
        if no_avalanches:
            caught.append(no_avalanches)
        elapsed = time.perf_counter() - t0
        results: dict[str, Any] = {
            "n_units": spikes.n_units,
            "n_trials": spikes.n_trials,
            "n_steps": spikes.n_steps,
            "dt_ms": spikes.dt,
            "n_spikes": spikes.n_spikes,
            "units": "all" if selected is None else selected,  # indices (sample_fraction's too)
            **({} if ids is None else {"unit_ids": ids}),  # the recording's own, of the units
            "branching": {
                "bin_ms": act.bin_ms,
                "mr": mr.to_dict(),
                "naive": naive.to_dict(),
                "own_share": own,
            },
            "avalanches": {
                "bin_ms": av_act.bin_ms,
                "mean_iei_ms": av_act.info.get("mean_iei_ms"),
                "n": av.n,
                "mean_size": float(av.sizes.mean()) if av.n else None,
                "mean_duration_bins": float(av.durations.mean()) if av.n else None,
                "size_fit": size_fit.to_dict() if size_fit else None,
                "duration_fit": dur_fit.to_dict() if dur_fit else None,
                "crackling": crackle.to_dict() if crackle else None,
                "note": no_avalanches,
            },
            "fano_factor": None if not np.isfinite(fano) else fano,
            "global_rate_variance_hz2": s_hz,
            "warnings": caught,
            "wall_seconds": elapsed,
            "files": {
                k: f"figures/{k}.png"
                for k in ("branching", "sizes", "durations", "size_vs_duration")
            },
        }
        run.savefig(branching_figure(mr, naive), "branching")
        figs = {
            "sizes": distribution_figure(av.sizes, size_fit, "avalanche size S (events)"),
            "durations": distribution_figure(av.durations, dur_fit, "duration D (bins)"),
            "size_vs_duration": size_duration_figure(av, crackle),
        }
        for name, fig in figs.items():
            if no_avalanches:
                _say_on_figure(fig, no_avalanches)
            run.savefig(fig, name)
        run.finish(cfg, "criticality", results, prune=True)
        return results


def _own_share(by_unit: tuple[Any, Any, Any], act: Any) -> float | None:
    """The share of the population's lagged covariance that is its units' own
    (:mod:`~infodyn.criticality.own_share`) in the MR bins: from the sums made in the pass that
    counted the spikes (:func:`_own_in_pass`), else from a pass of their own
    (:func:`~infodyn.criticality.own_share.own_covariances`); from the units' binned counts
    where a file's spikes are not stored in time order, ``None`` when those would take more than
    :data:`OWN_SHARE_MAX_CELLS` cells."""
    source, units, summed = by_unit
    n_trials, n_bins = act.counts.shape
    if n_bins <= LAGS:
        return None
    same_bins = summed is not None and (summed.bin_steps, summed.n_bins) == (act.bin_steps, n_bins)
    if same_bins and summed.in_order:
        return share_of(summed.result(), act.counts)
    with spike_source(source) as src:
        own = None  # the counting pass found the file out of order: no pass of its own
        try:
            columns = _columns(src.n_units, units)
            if not same_bins:
                own = own_covariances(src.blocks(), n_bins, act.bin_steps, columns)
        except MemoryPreflightError:  # a header of 10^8 units: not reported
            return None
        if own is None:  # not in time order
            if n_trials * n_bins * np.count_nonzero(columns >= 0) > OWN_SHARE_MAX_CELLS:
                warnings.warn(  # (it went unsaid, and with it the warning it may give)
                    "own_share not computed: the file's spikes are not in time order and its "
                    f"units x bins exceed {OWN_SHARE_MAX_CELLS:,} cells; rewrite it in time "
                    "order (infodyn convert) or analyse fewer units",
                    CriticalityWarning,
                    stacklevel=2,
                )
                return None
            return own_share(src.binned(act.bin_steps, units, binary=False))
    return share_of(own, act.counts)


def _own_in_pass(reader: Any, units: Any, bin_ms: Any) -> OwnCovariances | None:
    """Sums of the units' own lagged covariances for the pass that counts a file's spikes per
    step, in the MR bins of ``bin_ms`` (``None`` for a bin the counts decide: ``'iei'``)."""
    if not (bin_ms is None or isinstance(bin_ms, float | int)):
        return None
    bin_steps = 1 if bin_ms is None else whole_bin_steps(bin_ms, reader.dt)
    if reader.n_steps // bin_steps <= LAGS:
        return None
    try:
        return OwnCovariances(
            _columns(reader.n_units, units), reader.n_steps // bin_steps, bin_steps
        )
    except MemoryPreflightError:  # a header of 10^8 units: no share reported
        return None


def _columns(n_units: int, units: Any) -> np.ndarray:
    """Each unit's column among ``units`` (all when ``None``), -1 for the others."""
    require_memory(  # 2^30 units in a corrupt header: 24 GiB, the kernel killed the process
        8 * n_units * (1 if units is not None else 3),
        f"the column map of {n_units:,} units",
        "analyse fewer units (--units, --sample-fraction)",
    )
    columns = np.full(n_units, -1, np.int64)
    chosen = np.arange(n_units) if units is None else np.asarray(units, np.int64)
    columns[chosen] = np.arange(chosen.size)
    return columns


#: per-unit counts (int64 cells) :func:`_own_share` holds at most for a file whose spikes are
#: not in time order: 128 MiB
OWN_SHARE_MAX_CELLS = 1 << 24


def _no_avalanches_note(av_act: Any, n_avalanches: int) -> str | None:
    """What to change when there are too few avalanches to fit (None when there are enough)."""
    if n_avalanches >= 2:
        return None
    counts = np.asarray(av_act.counts)
    silent = float(np.mean(counts == 0)) if counts.size else 0.0
    smaller = (  # bins of one step are as small as they get (the advice was given for them)
        "" if av_act.bin_steps == 1 else "a smaller --avalanche-bin-ms (or 'step'), "
    )
    what = f"{'no' if n_avalanches == 0 else 'only one'} avalanche"
    if silent >= 0.5:  # one spike in 1,000 bins was told to use fewer units
        return (
            f"{what}: {100 * silent:.0f} % of the {av_act.bin_ms:g} ms bins are silent, too "
            "little activity to fit: use a longer recording or more units"
        )
    return (
        f"{what}: {100 * silent:.0f} % of the {av_act.bin_ms:g} ms bins are silent and an "
        f"avalanche needs silent bins around it; use {smaller}fewer units (--units, "
        "--sample-fraction) or a longer recording"
    )


def _say_on_figure(fig: Any, text: str) -> None:
    """Write ``text`` across an empty figure, so a blank plot is never mistaken for a result."""
    import textwrap

    fig.axes[0].text(
        0.5,
        0.5,
        textwrap.fill(text, 48),
        ha="center",
        va="center",
        fontsize=8,
        transform=fig.axes[0].transAxes,
        color="C3",
    )


# ----------------------------------------------------------------------------- figures


def branching_figure(mr: Any, naive: Any) -> Any:
    """r_k with bootstrap errors and the exp / exp_offset fits (semi-log)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    if np.any(np.isfinite(mr.r_k)):
        k = mr.k * mr.dt
        ax.plot(k, mr.r_k, ".", ms=3, color="0.3", label="$r_k$")
        if np.any(np.isfinite(mr.r_k_stderr)):
            ax.fill_between(k, mr.r_k - mr.r_k_stderr, mr.r_k + mr.r_k_stderr, color="0.8")
        draw_mr_fits(ax, mr, k)
        pos = mr.r_k[np.isfinite(mr.r_k)]
        if pos.size and np.all(pos > 0):
            ax.set_yscale("log")
    title = f"MR m={mr.m:.4f}" if np.isfinite(mr.m) else "MR: not meaningful"
    if np.isfinite(naive.m):
        title += f"; naive m={naive.m:.4f}"
    ax.set(xlabel="lag k dt (ms)", ylabel="slope $r_k$", title=title)
    if not np.isfinite(mr.m) and mr.warnings:  # empty axes said nothing of why
        why = textwrap.fill(mr.warnings[0], 60)
        ax.text(0.5, 0.5, why, transform=ax.transAxes, ha="center", va="center", fontsize=8)
    _legend(ax)
    return fig


def distribution_figure(values: np.ndarray, fit: Any, xlabel: str) -> Any:
    """Empirical P(X >= x) on log-log axes with the fitted power-law tail."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    if values.size:
        u, c = np.unique(values, return_counts=True)
        ccdf = np.cumsum(c[::-1])[::-1] / values.size
        ax.loglog(u, ccdf, ".", ms=3, color="0.3", label=f"data (n={values.size})")
        if fit is not None and fit.meaningful:
            x = u[u >= fit.xmin]
            scale = fit.n_tail / fit.n
            ax.loglog(
                x,
                scale * fit.ccdf(x),
                "C3",
                label=f"alpha={fit.alpha:.3f}±{fit.sigma:.3f}, xmin={fit.xmin:g}",
            )
    ax.set(xlabel=xlabel, ylabel="P(X ≥ x)")
    _legend(ax)
    return fig


def size_duration_figure(av: Any, crackle: Any) -> Any:
    """<S>(D) on log-log axes with the fitted slope and the exponent-relation prediction."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    if av.n:
        d, mean, _ = av.mean_size_by_duration()
        ax.loglog(d, mean, ".", ms=3, color="0.3", label="<S>(D)")
        if crackle is not None and np.isfinite(crackle.gamma_fitted):
            lo, hi = crackle.duration_range
            x = np.geomspace(lo, hi, 50)
            y = 10**crackle.intercept * x**crackle.gamma_fitted
            ax.loglog(x, y, "C3", label=f"fit gamma={crackle.gamma_fitted:.3f}")
            ax.loglog(
                x,
                y[0] * (x / x[0]) ** crackle.gamma_predicted,
                "C0--",
                label=f"(aD-1)/(aS-1)={crackle.gamma_predicted:.3f}",
            )
    ax.set(xlabel="duration D (bins)", ylabel="mean size <S>")
    _legend(ax)
    return fig


def _legend(ax: Any) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False)
