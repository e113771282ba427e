"""Figures of the natural-image pipeline (:mod:`infodyn.experiments.pipeline`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.data.images import patch_grid
from infodyn.experiments.figures import draw_mr_fits
from infodyn.plotting import label_matrix_ticks, pyplot


def _grid_ax(
    ax: Any,
    patches: np.ndarray,
    size: int,
    title: str,
    n: int = 64,
    cols: int = 8,
    cmap: str = "gray",
) -> None:
    g = patch_grid(np.asarray(patches, dtype=np.float64)[:n], size, n_cols=cols)
    ax.imshow(np.ma.masked_invalid(g), cmap=cmap, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("#c8d3e6")


def patches_figure(train: Any, samples: np.ndarray, ind_samples: np.ndarray, size: int) -> Any:
    """2 x 2 grids: natural patches (grey and binarised) and samples of the pairwise and the
    independent energy model."""
    plt = pyplot()
    n, cols = (64, 8) if size <= 4 else (36, 6)
    fig, axes = plt.subplots(2, 2, figsize=(8, 8.4))
    _grid_ax(axes[0, 0], train.grey, size, "training patches (grey)", n, cols)
    _grid_ax(axes[0, 1], train.values, size, "binarised at each patch's mean", n, cols)
    _grid_ax(axes[1, 0], samples, size, "samples: pairwise energy model", n, cols)
    _grid_ax(axes[1, 1], ind_samples, size, "samples: independent model", n, cols)
    fig.suptitle(f"{size}x{size} patches: data and samples drawn from the energy models")
    return fig


def memories_figure(
    memories: np.ndarray, energies: np.ndarray, counts: np.ndarray, size: int
) -> Any:
    """The memories (fixed points, by energy) as patches, and the share of held-out patches
    whose descent ends in each memory, with its energy."""
    plt = pyplot()
    k = min(len(memories), 48)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4), width_ratios=[1.3, 1])
    if k:
        _grid_ax(ax, memories[:k], size, f"{len(memories)} memories (first {k} by energy)", k, 8)
    else:
        ax.set_axis_off()
    frac = np.asarray(counts, dtype=np.float64)
    frac = frac / frac.sum() if frac.sum() > 0 else frac
    ax2.bar(np.arange(len(frac)), frac, color="C0")
    ax2.set_xlabel("memory (by energy)")
    ax2.set_ylabel("fraction of held-out patches")
    ax2.set_title("basins: where held-out patches descend")
    ax3 = ax2.twinx()
    ax3.plot(np.arange(len(energies)), energies, "k.", ms=3)
    ax3.set_ylabel("energy E")
    ax3.spines["right"].set_visible(True)
    return fig


def couplings_figure(model: Any, size: int) -> Any:
    """The fitted couplings J_ij, and their mean by pixel offset (the model's spatial
    receptive field)."""
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 4), width_ratios=[1.4, 1])
    J = np.asarray(model.J)
    v = np.abs(J).max() or 1.0
    im = a1.imshow(J, cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
    a1.set_title("couplings J_ij (pixel order: rows)")
    fig.colorbar(im, ax=a1, shrink=0.8)
    # mean coupling to the pixel at a given offset: the model's spatial "receptive field"
    offs: dict[tuple[int, int], list[float]] = {}
    for i in range(size * size):
        for j in range(size * size):
            if i != j:
                d = (j // size - i // size, j % size - i % size)
                offs.setdefault(d, []).append(J[i, j])
    m = np.full((2 * size - 1, 2 * size - 1), np.nan)
    for (dy, dx), vals in offs.items():
        m[dy + size - 1, dx + size - 1] = np.mean(vals)
    im2 = a2.imshow(
        m,
        cmap="RdBu_r",
        vmin=-v,
        vmax=v,
        interpolation="nearest",
        extent=(-size + 0.5, size - 0.5, size - 0.5, -size + 0.5),
    )
    a2.set_title("mean J by pixel offset")
    fig.colorbar(im2, ax=a2, shrink=0.8)
    return fig


def denoising_figure(rows: list[dict[str, Any]], size: int) -> Any:
    """Bits still wrong after cleaning held-out patches with k flipped bits, for each cleaning
    method (posterior descent under both priors, descent to a memory), against k."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    k = [r["k"] for r in rows]
    # drawn over the methods' lines: a prior that cleans nothing lies on it and hid it
    ax.plot(k, k, "k--", lw=1.2, zorder=5, label="corrupted (k flips)")
    for key, label, c in (
        ("bits_wrong_after_posterior_pairwise", "posterior descent, pairwise prior", "C0"),
        ("bits_wrong_after_posterior_independent", "posterior descent, independent prior", "C1"),
        ("bits_wrong_after_memory_descent", "descent to a memory", "C2"),
    ):
        if all(key in r for r in rows):
            ax.plot(k, [r[key] for r in rows], "o-", color=c, label=label)
    ax.set_xlabel("bits flipped (k)")
    ax.set_ylabel("bits wrong after cleaning")
    ax.set_title(f"denoising held-out {size}x{size} patches")
    ax.legend(fontsize=8)
    return fig


def stimuli_figure(grey: np.ndarray, rates: np.ndarray, size: int) -> Any:
    """Each stimulus patch and its ON and OFF Poisson input rates (Hz) as images."""
    plt = pyplot()
    k = len(grey)
    fig, axes = plt.subplots(3, k, figsize=(1.3 * k, 4.2), squeeze=False)
    n = size * size
    vmax = float(rates.max()) or 1.0
    for j in range(k):
        axes[0, j].imshow(grey[j].reshape(size, size), cmap="gray", interpolation="nearest")
        axes[1, j].imshow(rates[j, :n].reshape(size, size), cmap="Reds", vmin=0, vmax=vmax)
        axes[2, j].imshow(rates[j, n:].reshape(size, size), cmap="Blues", vmin=0, vmax=vmax)
        axes[0, j].set_title(f"s={j}", fontsize=9)
        for i in range(3):
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
    axes[0, 0].set_ylabel("patch")
    axes[1, 0].set_ylabel("ON (Hz)")
    axes[2, 0].set_ylabel("OFF (Hz)")
    fig.suptitle(f"stimuli: {k} patches as ON/OFF Poisson rates (max {vmax:.0f} Hz)")
    return fig


def training_figure(history: list[dict[str, Any]], tr: Any) -> Any:
    """Training curves: loss terms, mean rate against its target, the naive branching ratio
    per batch, and the information bound and decoding error."""
    plt = pyplot()
    it = np.array([r["iteration"] for r in history])
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5))
    ax = axes[0, 0]
    for key in history[0]:
        if key.startswith("loss_"):
            ax.plot(it, [r[key] for r in history], label=key[5:])
    ax.set_yscale("log")
    ax.set_title("loss terms")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.plot(it, [r["mean_rate_hz"] for r in history], color="C3")
    ax.axhline(tr.rate_target_hz, ls="--", color="k", lw=1)
    ax.set_title(f"mean rate (Hz), target {tr.rate_target_hz:g}")
    ax = axes[1, 0]
    br = np.array([np.nan if r.get("branching") is None else r["branching"] for r in history])
    ax.plot(it, br, color="C4")
    ax.axhline(1.0, ls=":", color="k", lw=1)
    ax.set_title("branching ratio (naive lag-1 in the analysis bins, per batch)")
    ax.set_xlabel("iteration")
    ax = axes[1, 1]
    if "info_bound_bits" in history[0]:
        ax.plot(it, [r["info_bound_bits"] for r in history], color="C2", label="H(S) - CE (bits)")
    if "error_rate" in history[0]:
        ax.plot(it, [r["error_rate"] for r in history], color="C1", label="decoding error")
    ax.set_title("information objective")
    ax.set_xlabel("iteration")
    ax.legend(fontsize=8)
    return fig


def raster(spikes: Any, labels: np.ndarray) -> Any:
    """Spike raster of trial 0, titled with its stimulus."""
    from infodyn.experiments.figures import raster_figure

    fig = raster_figure(spikes, max_steps=spikes.n_steps, trial=0)
    fig.axes[0].set_title(fig.axes[0].get_title() + f", trial 0: stimulus {int(labels[0])}")
    return fig


def rates_figure(before: np.ndarray, after: np.ndarray | None, target: float) -> Any:
    """Histograms of the units' rates (Hz) before and after training, with the target rate."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    hi = max(before.max(), after.max() if after is not None else 0, target) * 1.05 + 1e-9
    bins = np.linspace(0, hi, 30)
    ax.hist(before, bins=bins, alpha=0.6, label=f"before: mean {before.mean():.2f} Hz")
    if after is not None:
        ax.hist(after, bins=bins, alpha=0.6, label=f"after: mean {after.mean():.2f} Hz")
    ax.axvline(target, ls="--", color="k", lw=1, label=f"target {target:g} Hz")
    ax.set_xlabel("rate (Hz)")
    ax.set_ylabel("units")
    ax.legend(fontsize=8)
    return fig


def branching_figure(br: Any, tag: str) -> Any:
    """Multistep-regression slopes r_k with their standard errors and each fitted
    b m^k + c curve (Wilting & Priesemann 2018; bias-corrected: :func:`draw_mr_fits`)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    k, r = np.asarray(br.k), np.asarray(br.r_k)
    ax.errorbar(k, r, yerr=np.asarray(br.r_k_stderr), fmt="o", ms=3, color="k", label="r_k")
    draw_mr_fits(ax, br, k)
    ax.set_xlabel(f"lag k (bins of {br.dt:g} ms)")
    ax.set_ylabel("regression slope r_k")
    ax.set_title(f"multistep regression ({tag} training)")
    ax.legend(fontsize=8)
    return fig


def avalanche_figure(av: Any, fits: dict[str, Any], tag: str) -> Any:
    """Avalanche size and duration distributions on log axes, with the fitted power-law tail
    P(x) ~ x^-alpha above xmin (Clauset et al. 2009), normalised to the tail's share."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, name, vals in ((axes[0], "sizes", av.sizes), (axes[1], "durations", av.durations)):
        v = np.asarray(vals)
        v = v[v > 0]
        u, c = np.unique(v, return_counts=True)
        ax.loglog(u, c / c.sum(), "o", ms=3, color="k", label=f"{len(v)} avalanches")
        f = fits.get(name)
        if f is not None:
            xs = u[u >= f.xmin]
            if len(xs):
                tail = np.mean(v >= f.xmin)
                p = xs.astype(float) ** -f.alpha
                p = p / p.sum() * tail
                ax.loglog(
                    xs,
                    p,
                    "-",
                    color="C3",
                    label=f"power law alpha = {f.alpha:.2f}, xmin = {f.xmin:g}",
                )
        ax.set_xlabel("size (spikes)" if name == "sizes" else "duration (bins)")
        ax.set_ylabel("P")
        ax.legend(fontsize=8)
    fig.suptitle(f"avalanches ({tag} training; bins at the mean inter-event interval)")
    return fig


def confusion_figure(labels: np.ndarray, decisions: np.ndarray, k: int, tag: str) -> Any:
    """P(decision | stimulus) of the readout as a ``k x k`` image (rows sum to 1)."""
    plt = pyplot()
    m = np.zeros((k, k))
    np.add.at(m, (labels, decisions), 1)
    m = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(4.4, 3.8))
    im = ax.imshow(m, cmap="viridis", vmin=0, vmax=1)
    label_matrix_ticks(ax, np.arange(k))  # classes: whole ticks (0.5 steps for a few)
    ax.set_xlabel("readout decision")
    ax.set_ylabel("stimulus")
    ax.set_title(f"P(decision | stimulus), {tag} training")
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def response_memories_figure(
    memories: np.ndarray, mta: np.ndarray, n_events: np.ndarray, freq: np.ndarray, size: int
) -> Any:
    """Each response memory (active units, % of words reaching it) above its memory-triggered
    average stimulus patch."""
    plt = pyplot()
    k = len(memories)
    fig, axes = plt.subplots(2, max(k, 1), figsize=(1.25 * max(k, 2) + 1, 4.4), squeeze=False)
    for j in range(k):
        ax = axes[0, j]
        ax.imshow(
            memories[j][:, None],
            cmap="Greys",
            vmin=0,
            vmax=1,
            aspect="auto",
            interpolation="nearest",
        )
        ax.set_title(f"{100 * freq[j]:.0f}%", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax = axes[1, j]
        if n_events[j] > 0 and np.all(np.isfinite(mta[j])):
            ax.imshow(np.asarray(mta[j]).reshape(size, size), cmap="gray", interpolation="nearest")
        ax.set_title(f"n={int(n_events[j])}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_ylabel("memory\n(units)")
    axes[1, 0].set_ylabel("triggered\npatch")
    fig.suptitle("response memories (% of words) and memory-triggered average patches")
    return fig


def energy_trajectory_figure(
    E: np.ndarray, labels: np.ndarray, bin_ms: float, transition: np.ndarray | None
) -> Any:
    """Energy of the response words along a trial, coloured by the memory each descends to, and
    the transition matrix between successive memories."""
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8), width_ratios=[2, 1])
    t = np.arange(len(E)) * bin_ms
    a1.plot(t, E, color="0.6", lw=1)
    reached = np.unique(labels)
    for memory in reached:  # one colour a memory, named in the legend (it had none)
        at = labels == memory
        colour = "0.3" if memory < 0 else plt.get_cmap("tab20")(int(memory) % 20)
        name = "no memory" if memory < 0 else f"memory {int(memory)}"
        a1.scatter(t[at], E[at], color=colour, s=14, zorder=3, label=name)
    if 0 < reached.size <= 12:
        a1.legend(fontsize=7, ncol=2 if reached.size > 6 else 1, loc="best")
    a1.set_xlabel("time in trial (ms)")
    a1.set_ylabel("energy E(word)")
    a1.set_title(
        "energy along a trajectory (colour: memory reached"
        + (", colours repeat every 20)" if reached.size > 20 else ")")
    )
    if transition is not None and len(transition):
        im = a2.imshow(transition, cmap="magma", vmin=0, vmax=1)
        label_matrix_ticks(a2, np.arange(len(transition)))
        fig.colorbar(im, ax=a2, shrink=0.8)
        a2.set_xlabel("next memory")
        a2.set_ylabel("memory")
        a2.set_title("memory transition matrix")
    else:
        a2.set_axis_off()
    return fig
