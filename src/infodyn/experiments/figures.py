"""Figures shared by several commands: raster and rate histogram."""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.plotting import pyplot

RASTER_MAX_STEPS = 2000  # steps shown by default in raster_figure


def raster_figure(
    spikes: Any, max_steps: int = RASTER_MAX_STEPS, max_units: int = 200, trial: int = 0
) -> Any:
    """Raster of the first ``max_steps`` steps and ``max_units`` units of one trial, with the
    population rate below."""
    plt = pyplot()
    sel = (spikes.trials == trial) & (spikes.times < max_steps) & (spikes.units < max_units)
    t = spikes.times[sel] * spikes.dt
    n_steps = min(spikes.n_steps, max_steps)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8, 5), sharex=True, height_ratios=[3, 1])
    ax.plot(t, spikes.units[sel], "|", ms=3, color="k", alpha=0.7)
    ax.set_ylabel("unit")
    total_ms, shown_ms = spikes.n_steps * spikes.dt, n_steps * spikes.dt
    shown = "" if n_steps == spikes.n_steps else f", first {shown_ms:g} of {total_ms:g} ms"
    ax.set_title(f"raster ({min(spikes.n_units, max_units)} of {spikes.n_units} units{shown})")
    pop = np.bincount(spikes.times[sel], minlength=n_steps)[:n_steps]
    width = max(1, min(n_steps, round(10.0 / spikes.dt)))  # 10 ms, within the shown steps
    # a 10-ms mean over the steps each window holds (zeros padded past the ends halved it)
    box = np.ones(width)
    held = np.convolve(np.ones(n_steps), box, mode="same")
    rate = np.convolve(pop, box, mode="same") / held / min(spikes.n_units, max_units)
    ax2.plot(np.arange(n_steps) * spikes.dt, rate * 1000.0 / spikes.dt, color="C0")
    ax2.set_ylabel("rate (Hz)")
    ax2.set_xlabel("time (ms)")
    # the units and time the title names, not what spiked (no spike or one step: +-0.05 around
    # 0, a negative time and rate)
    ax.set_xlim(0.0, shown_ms)
    ax.set_ylim(-0.5, min(spikes.n_units, max_units) - 0.5)
    ax2.set_ylim(bottom=0.0)
    if not t.size:
        ax.text(0.5, 0.5, "no spikes", transform=ax.transAxes, ha="center", va="center")
    return fig


def rate_histogram_figure(rates_hz: np.ndarray) -> Any:
    """Histogram of per-unit firing rates."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(rates_hz, bins=min(40, max(5, len(rates_hz) // 5)), color="C1", edgecolor="k", lw=0.3)
    ax.set_xlabel("firing rate (Hz)")
    ax.set_ylabel("units")
    ax.set_title(f"rates: mean {np.mean(rates_hz):.2f} Hz")
    return fig


def draw_mr_fits(ax: Any, br: Any, x: np.ndarray, colors: tuple[str, ...] = ("C0", "C1")) -> None:
    """Each multistep-regression fit of ``br`` (a ``BranchingResult``) over its lags, at ``x``.

    Bias-corrected fits are drawn twice: solid, the slopes they expect of these trials
    (``ExpFit.observed``, finite-trial bias included, which the points follow), and dashed,
    ``b m^k + c`` of infinitely long trials, whose ``m`` is the estimate."""
    for (name, f), color in zip(br.fits.items(), colors, strict=False):
        label = f"{name}: m = {f.m:.4f}, tau = {f.tau:.3g} ms"
        if br.bias_correction and f.observed.size:
            ax.plot(x, f.observed, color=color, label=f"{label} (bias-corrected)")
            ax.plot(x, f.curve(br.k), "--", lw=1, color=color, label="  b m^k + c, long trials")
        else:
            ax.plot(x, f.curve(br.k), color=color, label=label)
