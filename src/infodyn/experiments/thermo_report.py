"""Thermodynamics section of the energy run and the images report: C(T)/N and Zipf.

One call, :func:`thermo_section`, measures the heat capacity per unit of a fitted model over a
temperature grid (exact enumeration for n <= 20, replica exchange above), its peak, the entropy
S(1)/n by thermodynamic integration, and the Zipf slope of the data's words and of the model's
samples (``infodyn.energy.thermo`` and ``infodyn.energy.zipf``); it saves one two-panel figure
and returns the numbers for ``results.json``. It draws its own seeded random numbers, so adding
it to a run changes none of the run's other results.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TEMPERATURES = np.geomspace(0.5, 3.0, 30)


def thermo_measures(
    model: Any, X: np.ndarray, samples: np.ndarray, seed: int = 0, n_sweeps: int = 2000
) -> tuple[dict[str, Any], Any]:
    """The numbers of the section and the heat-capacity result (for the figure)."""
    import warnings

    import infodyn.energy as E

    method = "exact" if model.n <= 20 else "mcmc"
    mc = {"n_sweeps": n_sweeps, "burn_in": n_sweeps // 4} if method == "mcmc" else {}
    hc = E.heat_capacity(model, TEMPERATURES, method=method, seed=seed, **mc)
    if method == "exact":  # by enumeration: the 31-point integration was 4 % off, error 0
        s_bits, s_err, s_how = float(E.exact_entropy(model, 1.0)[0]), 0.0, "enumeration"
        s_grid = s_grid_noise = 0.0
    else:
        s1 = E.entropy(model, 1.0, method=method, n_betas=31, seed=seed, **mc)
        s_bits, s_err = float(s1.s_bits[0]), float(s1.s_err_bits[0])
        s_grid = float(s1.grid_err_bits[0])  # (it was left out, unsaid but for this line)
        s_grid_noise = float(s1.grid_err_noise_bits[0])
        s_how = (
            "thermodynamic integration on 31 temperatures (the error is the sampling's; the "
            "grid's, estimated by halving it, is entropy_grid_err_bits_per_unit, not resolved "
            "below about twice entropy_grid_err_noise_bits_per_unit)"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # too few repeated words: slope is NaN
        zd = E.zipf_slope(X, n_boot=100, seed=seed)
        zm = E.zipf_slope(samples, n_boot=100, seed=seed)
    out = {
        "heat_capacity": hc.to_dict(),
        "entropy_bits_per_unit_T1": s_bits,
        "entropy_err_bits_per_unit": s_err,
        "entropy_grid_err_bits_per_unit": s_grid,
        "entropy_grid_err_noise_bits_per_unit": s_grid_noise,
        "entropy_method": s_how,
        "zipf_data": zd.to_dict(),
        "zipf_model": zm.to_dict(),
    }
    return out, hc


def thermo_figure(hc: Any, X: np.ndarray, samples: np.ndarray, res: dict[str, Any]) -> Any:
    """C(T)/N with error bars and the rank-frequency plot of data and model words."""
    from infodyn.energy import rank_frequency
    from infodyn.plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    ax[0].errorbar(hc.temperatures, hc.c, yerr=hc.c_err, fmt="o-", ms=3, capsize=2)
    ax[0].axvline(1.0, color="k", ls=":", lw=0.8)
    ax[0].axvline(hc.peak_temperature, color="C3", ls="--", lw=0.8, label="peak")
    if hc.peak_temperature_err > 0:  # the peak's block-bootstrap SD (MCMC)
        t, sd = hc.peak_temperature, hc.peak_temperature_err
        ax[0].axvspan(max(t - sd, 1e-12), t + sd, color="C3", alpha=0.12, label="peak +- SD")
    ax[0].set_xscale("log")
    ax[0].set(
        xlabel="temperature T",
        ylabel="C(T) / N",
        title=f"heat capacity per unit (n = {hc.n}, {hc.method})",
    )
    ax[0].legend(fontsize=7)
    for W, label, key in ((X, "data", "zipf_data"), (samples, "model samples", "zipf_model")):
        r, f = rank_frequency(W)
        slope = res[key]["slope"]
        ax[1].loglog(r, f, ".", ms=3, label=f"{label} (slope {slope:.2f})")
    r = np.arange(1, 1001)
    f1 = rank_frequency(X)[1][0]
    ax[1].loglog(r, f1 / r, "k:", lw=0.8, label="Zipf, slope -1")
    ax[1].set(xlabel="rank", ylabel="frequency", title="rank-frequency of words")
    ax[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def thermo_section(
    run: Any, model: Any, X: np.ndarray, samples: np.ndarray, seed: int, name: str
) -> dict[str, Any]:
    """Measure, save the figure ``name`` in the run directory, and return the numbers."""
    res, hc = thermo_measures(model, X, samples, seed)
    run.savefig(thermo_figure(hc, X, samples, res), name)
    return res
