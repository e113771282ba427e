"""Thermodynamics of a learned energy function: heat capacity, entropy, and the peak of C(T).

A fitted model ``p(x) ~ exp(-E(x))`` is read as a Boltzmann distribution at T = 1 and embedded
in the family ``p_T(x) = exp(-E(x)/T) / Z(T)`` (Tkacik et al. 2015, PNAS 112:11508, eq. 2).
With ``beta = 1/T``:

* heat capacity ``C(T) = Var_T(E) / T^2`` (eq. 3), reported per unit as ``C(T)/n``;
* entropy ``S(T) = beta <E>_T + log Z(T)`` (nats), and by thermodynamic integration from
  ``S(T = inf) = n log 2``: ``S(beta) = n log 2 - int_0^beta b Var_b(E) db`` (since
  ``dS/dT = C/T``, ``S(1) = n log 2 - int_1^inf C(T)/T dT``, the integral that Tkacik et al.
  use); reported per unit in bits.

A peak of C(T)/n that grows with n and moves toward T = 1 is the thermodynamic signature of
criticality of those papers. ``method="exact"`` enumerates all 2^n states (n <= 24);
``method="mcmc"`` runs replica exchange (``tempering``) with the temperatures as the ladder and
gives errors by the jackknife over blocks of sweeps, and the spread of the peak's location by
the block bootstrap (:mod:`.thermo_mcmc`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from infodyn.energy._checks import positive_int, require_model, rng_seed
from infodyn.energy.partition import neg_energy_blocks
from infodyn.energy.thermo_mcmc import (  # noqa: F401  (_jackknife: the benchmarks')
    MCMC_DEFAULTS,
    _jackknife,
    _mcmc_options,
    jackknife_sd,
    peak,
    peak_spread,
    tempering_moments,
)
from infodyn.errors import as_array, require, require_choice

MAX_EXACT_N = 24
LN2 = float(np.log(2.0))
#: the entropy integral's evenly spaced part ends at ``LINEAR_SPAN / epsilon`` (``epsilon``:
#: the energy scale per unit, :func:`_energy_scale`); beyond it ``PER_DECADE`` betas a decade
LINEAR_SPAN = 8.0
PER_DECADE = 24


@dataclass(frozen=True)
class HeatCapacity:
    """C(T)/n at each temperature with its standard error (0 when exact), the mean energy per
    unit, the peak (grid maximum refined by a parabola in log T through its neighbours) and,
    for MCMC, the acceptance rate of replica exchanges between neighbouring temperatures and
    the standard deviations of the peak's location and height over block-bootstrap draws
    (0 when exact; the peak of a flat, noisy C(T) moved from T = 0.99 to 1.51 between seeds)."""

    temperatures: np.ndarray
    c: np.ndarray
    c_err: np.ndarray
    energy: np.ndarray
    energy_err: np.ndarray
    n: int
    method: str
    peak_temperature: float
    peak_height: float
    swap_acceptance: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n_sweeps: int = 0
    peak_temperature_err: float = 0.0
    peak_height_err: float = 0.0

    @property
    def peak_at_edge(self) -> bool:
        """The largest C(T) lies at the lowest or highest temperature of the grid: no peak was
        found in its range (``peak_temperature`` is that end)."""
        return self.peak_temperature in (
            float(self.temperatures.min()),
            float(self.temperatures.max()),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "method": self.method,
            "temperatures": self.temperatures.tolist(),
            "c_per_unit": self.c.tolist(),
            "c_per_unit_err": self.c_err.tolist(),
            "energy_per_unit": self.energy.tolist(),
            "energy_per_unit_err": self.energy_err.tolist(),
            "peak_temperature": self.peak_temperature,
            "peak_temperature_err": self.peak_temperature_err,
            "peak_height": self.peak_height,
            "peak_height_err": self.peak_height_err,
            "peak_at_grid_edge": self.peak_at_edge,
            "min_swap_acceptance": float(self.swap_acceptance.min())
            if self.swap_acceptance.size
            else None,
            "n_sweeps": self.n_sweeps,
        }


@dataclass(frozen=True)
class Entropy:
    """S(T)/n in bits (by enumeration, or by thermodynamic integration of MCMC moments), with
    its standard error (MCMC only)."""

    temperatures: np.ndarray
    s_bits: np.ndarray
    s_err_bits: np.ndarray
    n: int
    method: str
    n_betas: int
    #: the integration grid's error, estimated by halving the grid (0 by enumeration), and the
    #: SD of the sampling noise in that estimate (MCMC moments: a grid error below about twice
    #: it is not resolved)
    grid_err_bits: np.ndarray
    grid_err_noise_bits: np.ndarray


#: the lowest temperature the thermodynamic functions take: below it 1/T and beta^2 leave
#: floating point for ordinary energies (T = 1e-310 gave NaN, 1e-300 the maximum entropy)
MIN_TEMPERATURE = 1e-8


def _temperatures(temperatures: Any) -> np.ndarray:
    raw = np.atleast_1d(as_array(temperatures, "temperatures"))
    require(raw.dtype.kind in "iuf", f"temperatures must be numbers, got {temperatures!r}")
    require(raw.ndim == 1, f"temperatures must be one list of numbers, got shape {raw.shape}")
    T = raw.astype(np.float64).reshape(-1)
    require(T.size >= 1, "give at least one temperature")
    require(bool(np.all(np.isfinite(T)) and np.all(T > 0)), "temperatures must be finite and > 0")
    require(
        bool(np.all(T >= MIN_TEMPERATURE)),
        f"temperatures must be >= {MIN_TEMPERATURE:g} (floating point; T -> 0 is the ground "
        "state: model.descend, memories)",
    )
    return T


def _method(model: Any, method: str) -> str:
    require_choice("method", method, ("auto", "exact", "mcmc"))
    if method == "auto":
        return "exact" if model.n <= 20 else "mcmc"
    if method == "exact":
        require(
            model.n <= MAX_EXACT_N,
            f"exact thermodynamics needs n <= {MAX_EXACT_N} (got {model.n}); use method='mcmc'",
        )
    return method


def exact_moments(model: Any, betas: Any) -> dict[str, np.ndarray]:
    """``<E>``, ``Var(E)`` and ``log Z`` at each inverse temperature by enumeration of all 2^n
    states (n <= 24), accumulated block by block with a running log-sum-exp per beta."""
    b = np.asarray(betas, dtype=np.float64).reshape(-1)
    require(model.n <= MAX_EXACT_N, f"exact moments need n <= {MAX_EXACT_N} (got {model.n})")
    V = model.potential
    blocks = neg_energy_blocks(model.J, model.theta, V=V if np.any(V) else None)
    top = np.full(b.size, -np.inf)
    s0, s1, s2 = np.zeros(b.size), np.zeros(b.size), np.zeros(b.size)
    ref = None
    for neg_e in blocks:
        e = -neg_e.ravel()
        if ref is None:
            ref = float(e.mean())  # shift energies for the second moment
        d = e - ref
        for k, beta in enumerate(b):
            a = -beta * e
            m = float(a.max())
            if m > top[k]:
                scale = np.exp(top[k] - m) if np.isfinite(top[k]) else 0.0
                s0[k] *= scale
                s1[k] *= scale
                s2[k] *= scale
                top[k] = m
            w = np.exp(a - top[k])
            s0[k] += w.sum()
            s1[k] += w @ d
            s2[k] += w @ (d * d)
    mean_d = s1 / s0
    var = np.maximum(s2 / s0 - mean_d**2, 0.0)
    return {"mean": mean_d + ref, "var": var, "log_z": top + np.log(s0)}


def heat_capacity(
    model: Any,
    temperatures: Any,
    method: str = "auto",
    seed: int = 0,
    n_sweeps: int = MCMC_DEFAULTS["n_sweeps"],
    burn_in: int = MCMC_DEFAULTS["burn_in"],
    n_blocks: int = MCMC_DEFAULTS["n_blocks"],
) -> HeatCapacity:
    """Heat capacity per unit ``C(T)/n = Var_T(E) / (n T^2)`` of ``p_T(x) ~ exp(-E(x)/T)``
    (Tkacik et al. 2015, eq. 3) at each temperature.

    ``method``: ``"exact"`` (enumeration, n <= 24), ``"mcmc"`` (replica exchange over the given
    temperatures, ``n_sweeps`` sweeps after ``burn_in``, jackknife errors over ``n_blocks``
    blocks; space the temperatures so that neighbouring exchanges are accepted, see
    ``swap_acceptance``) or ``"auto"`` (exact for n <= 20). Works for any model with ``J``,
    ``theta`` and ``potential`` (pairwise and K-pairwise).
    """
    require_model(model)
    T = _temperatures(temperatures)
    method = _method(model, method)
    # checked whichever method runs ({} was taken when the exact method ignored it)
    _mcmc_options(n_sweeps, burn_in, n_blocks, seed)
    order = np.argsort(-T)  # ascending beta
    betas = 1.0 / T[order]
    n = model.n
    acc, spread = np.zeros(0), (0.0, 0.0)
    if method == "exact":
        mom = exact_moments(model, betas)
        c, c_err = betas**2 * mom["var"], np.zeros(betas.size)
        mean, mean_err = mom["mean"], np.zeros(betas.size)
    else:
        mom = tempering_moments(model, betas, n_sweeps, burn_in, n_blocks, seed)
        c, c_err, mean, mean_err, acc = (
            mom["c"],
            mom["c_err"],
            mom["mean"],
            mom["mean_err"],
            mom["acceptance"],
        )
        t_sd, h_sd = peak_spread(T[order], betas, mom, seed)
        spread = (t_sd, h_sd / n)
    inv = np.empty_like(order)
    inv[order] = np.arange(order.size)
    c, c_err, mean, mean_err = (a[inv] / n for a in (c, c_err, mean, mean_err))
    t_peak, h_peak = peak(T, c)
    return HeatCapacity(
        T, c, c_err, mean, mean_err, n, method, t_peak, h_peak, acc,
        0 if method == "exact" else int(n_sweeps), *spread,
    )  # fmt: skip


def entropy(
    model: Any,
    temperatures: Any = 1.0,
    method: str = "auto",
    n_betas: int = 61,
    seed: int = 0,
    **mcmc: Any,
) -> Entropy:
    """Entropy per unit ``S(T)/n`` in bits by thermodynamic integration from infinite
    temperature: ``S(beta) = n log 2 - int_0^beta b Var_b(E) db`` (trapezoid rule on ``n_betas``
    evenly spaced inverse temperatures from 0 to the largest needed, plus the requested ones;
    for targets far below the model's energy scale, :data:`PER_DECADE` more a decade beyond
    ``LINEAR_SPAN / epsilon``, :func:`_entropy_grid`).

    ``method`` as in :func:`heat_capacity` (``mcmc`` keyword options go to it; with
    ``method="exact"`` they are refused, with ``"auto"`` used if it picks MCMC). ``"exact"``
    enumerates the states instead, :func:`exact_entropy` (no integral: ``n_betas`` is unused,
    the errors 0); the MCMC error is the blocked jackknife of the whole integral (the
    replicas share their sweeps, so the integrand's errors at neighbouring temperatures are
    correlated: added in quadrature they were 1.2-1.5x too small at a sharp transition), and
    the grid's error is estimated apart, by halving the grid (``grid_err_bits``,
    :func:`integrated_entropy`).
    """
    require_model(model)
    T = _temperatures(temperatures)
    method_given = method
    method = _method(model, method)  # checked first: an array compared with "exact" was raw
    require(  # n_sweeps=-5 with method="exact" was taken and ignored ("auto" may pick either)
        method_given != "exact" or not mcmc,
        f"{', '.join(sorted(mcmc))} {'is an option' if len(mcmc) == 1 else 'are options'} of "
        "method='mcmc'",
    )
    unknown = sorted(set(mcmc) - set(MCMC_DEFAULTS))  # a typo was a TypeError, or ignored
    require(not unknown, f"unknown option(s) {', '.join(unknown)}; MCMC takes {MCMC_DEFAULTS}")
    _mcmc_options(**{**MCMC_DEFAULTS, **mcmc}, seed=seed)  # checked whichever method runs
    n_betas = positive_int(n_betas, "n_betas", 3)
    if method == "exact":  # the integral of exact moments still had the grid's error (-7e-4
        s_exact = exact_entropy(model, T)  # bit a unit at T = 0.001): enumeration has none
        zero = np.zeros(T.size)
        return Entropy(T, s_exact, zero, model.n, method, n_betas, zero.copy(), zero.copy())

    def integrand(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mom = tempering_moments(model, grid, seed=seed, **mcmc)
        safe = np.where(grid > 0, grid, 1.0)
        var_b = np.where(grid > 0, mom["c"] / safe, 0.0)  # beta Var = C / beta
        return var_b, np.where(grid > 0, mom["c_jack"] / safe, 0.0)  # (n_blocks, G)

    s, s_err, grid_err, grid_noise = integrated_entropy(model, T, n_betas, seed, integrand)
    return Entropy(T, s, s_err, model.n, method, n_betas, grid_err, grid_noise)


def integrated_entropy(
    model: Any,
    T: np.ndarray,
    n_betas: int,
    seed: int,
    integrand: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``S(T)/n`` in bits, its error, the grid's error and that estimate's own sampling noise,
    by the trapezoid rule on :func:`_entropy_grid`: ``integrand(grid)`` gives
    ``beta Var_beta(E)`` at every grid point and its error, either independent standard errors
    (G,) or leave-one-block-out jackknife replicates (B, G) (MCMC moments in :func:`entropy`:
    their spread keeps the correlation between grid points; the tests check the grid with
    exact ones). Every error is that of a weighted sum ``w @ integrand`` (:func:`_weighted_sd`).
    The grid's error is Richardson's estimate: the
    same rule on every other point (the targets kept) errs about 4 times as much (the error
    falls as h^2), so the full grid's is about ``|S_h - S_2h| / 3`` (the energy CLI's 31
    temperatures left 0.005 bit a unit unsaid). With MCMC moments the difference also holds
    their noise, whose SD (over 3) is the fourth result: a grid error below about twice it is
    not resolved by the run."""
    grid = _entropy_grid(model, 1.0 / T, n_betas, seed)
    var_b, err_b = integrand(grid)
    s = model.n * LN2 - _cumulative_trapezoid(grid, var_b)
    idx = np.searchsorted(grid, 1.0 / T)
    half = np.zeros(grid.size, dtype=bool)
    half[::2], half[idx], half[-1] = True, True, True
    kept = np.flatnonzero(half)
    s_err, diff, noise = np.empty(T.size), np.empty(T.size), np.empty(T.size)
    for i, k in enumerate(idx):  # the weights of the trapezoid rule up to the target (O(G)
        # each; the (G, G) matrix of all of them took 256 MB at n_betas = 4000), then S_2h - S_h
        # as weights on the integrand: its value, and the sampling noise the same moments put
        # in it (MCMC's does not cancel in the difference)
        w_h = _trapezoid_weights(grid, int(k))
        s_err[i] = _weighted_sd(w_h, err_b)
        w = np.zeros(grid.size)
        w[kept] = _trapezoid_weights(grid[kept], int(np.searchsorted(kept, k)))
        w -= w_h
        diff[i], noise[i] = w @ var_b, _weighted_sd(w, err_b)
    norm = model.n * LN2
    return s[idx] / norm, s_err / norm, np.abs(diff) / 3.0 / norm, noise / 3.0 / norm


def _weighted_sd(w: np.ndarray, err: np.ndarray) -> float:
    """The standard error of ``w @ f`` for an integrand ``f`` with errors ``err``: independent
    standard errors (G,) add in quadrature; jackknife replicates (B, G) give
    :func:`~.thermo_mcmc.jackknife_sd` of ``replicates @ w``."""
    if err.ndim == 1:
        return float(np.sqrt(np.sum((w * err) ** 2)))
    return float(jackknife_sd(err @ w))


def _trapezoid_weights(grid: np.ndarray, k: int) -> np.ndarray:
    """The weights of the trapezoid rule from ``grid[0]`` to ``grid[k]`` on the grid's points."""
    w = np.zeros(grid.size)
    h = np.diff(grid[: k + 1])
    w[:k] += h / 2
    w[1 : k + 1] += h / 2
    return w


def _cumulative_trapezoid(grid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The trapezoid integral of ``values`` from ``grid[0]`` to each grid point."""
    steps = np.diff(grid) * (values[:-1] + values[1:]) / 2
    return np.concatenate([[0.0], np.cumsum(steps)])


def _energy_scale(model: Any, seed: int) -> float:
    """``epsilon = 2 sd_0(E) / sqrt(n)``: the energy scale per unit, from the spread of E over
    4096 uniformly drawn states (beta = 0). For independent units with fields ``theta`` it is
    the rms field, and ``C(T)`` has its bump at ``T ~ epsilon / 2.4``."""
    rng = np.random.default_rng(rng_seed(seed))
    X = (rng.random((4096, model.n)) < 0.5).astype(np.uint8)
    return 2.0 * float(np.std(model.energy(X))) / np.sqrt(model.n)


def _entropy_grid(model: Any, targets: np.ndarray, n_betas: int, seed: int) -> np.ndarray:
    """Inverse temperatures for the entropy integral: ``n_betas`` evenly spaced from 0 to the
    largest target or to ``LINEAR_SPAN / epsilon``, whichever is smaller, then (for colder
    targets) :data:`PER_DECADE` a decade up to the largest, plus the targets. Evenly spaced
    alone, a target 10^4 below the energy scale put every beta past the bump of ``b Var_b(E)``
    and gave S = n log 2 at T -> 0 instead of about 0."""
    top = float(targets.max())
    scale = _energy_scale(model, seed)
    edge = min(top, LINEAR_SPAN / scale) if scale > 0 else top
    parts = [np.linspace(0.0, edge, n_betas), targets]
    if top > edge:
        n_log = int(np.ceil(PER_DECADE * np.log10(top / edge)))
        parts.append(np.geomspace(edge, top, n_log + 1))
    return np.unique(np.concatenate(parts))


def exact_entropy(model: Any, temperatures: Any = 1.0) -> np.ndarray:
    """``S(T)/n = (beta <E> + log Z) / n`` in bits by enumeration (n <= 24)."""
    require_model(model)
    T = _temperatures(temperatures)
    mom = exact_moments(model, 1.0 / T)
    return (mom["mean"] / T + mom["log_z"]) / (model.n * LN2)
