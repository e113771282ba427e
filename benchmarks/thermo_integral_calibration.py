"""Are the entropy's error and the C(T) peak's spread the spread they claim? (stop 62)

A Curie-Weiss model (every pair coupled by ``4/n``, fields ``2 - 2/n - 0.1``: a sharp
transition near T = 0.85) whose exact values come from a sum over the number of active units
K (the states of equal K have equal energy). For ``--seeds`` independent replica-exchange runs
it prints

* for ``S(T)/n`` at T = 1 and 0.7 (``entropy``, 31 grid betas, 2,000 sweeps after 500): the sd
  of S over the seeds divided by the mean reported error (1 when the error is right) and the
  mean bias against the exact value;
* for the C(T) peak on 25 temperatures from 0.5 to 2 (``heat_capacity``, same run length): the
  sd of the peak's location over the seeds against the mean block-bootstrap sd reported.

``--model FILE`` adds the peak comparison for a saved model (``IsingModel.load``) on the energy
CLI's grid (``thermo_report.TEMPERATURES``). Run::

    PYTHONPATH=src .venv/bin/python benchmarks/thermo_integral_calibration.py --seeds 40
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.special import gammaln

from infodyn import energy as E
from infodyn.experiments import thermo_report

RUN = {"n_sweeps": 2000, "burn_in": 500}


def curie_weiss(n: int) -> tuple[E.IsingModel, np.ndarray, np.ndarray]:
    """The model, and per K = 0..n the log number of states and their energy."""
    J = np.full((n, n), 4.0 / n)
    np.fill_diagonal(J, 0.0)
    theta = np.full(n, 2.0 - 2.0 / n - 0.1)
    K = np.arange(n + 1)
    log_states = gammaln(n + 1) - gammaln(K + 1) - gammaln(n - K + 1)
    energy = -0.5 * (4.0 / n) * K * (K - 1) + theta[0] * K
    return E.IsingModel(J, theta), log_states, energy


def exact_entropy_bits(log_states: np.ndarray, energy: np.ndarray, T: float, n: int) -> float:
    a = log_states - energy / T
    log_z = np.logaddexp.reduce(a)
    p = np.exp(a - log_z)
    return float((p @ energy / T + log_z) / (n * np.log(2)))


def peak_rows(model: E.IsingModel, T: np.ndarray, seeds: int) -> tuple[float, float]:
    runs = [E.heat_capacity(model, T, method="mcmc", seed=s, **RUN) for s in range(seeds)]
    peaks = np.array([r.peak_temperature for r in runs])
    return float(peaks.std(ddof=1)), float(np.mean([r.peak_temperature_err for r in runs]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=60)
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--model", default=None)
    args = ap.parse_args()
    n = args.units
    model, log_states, energy = curie_weiss(n)
    targets = [1.0, 0.7]
    runs = [
        E.entropy(model, targets, method="mcmc", n_betas=31, seed=s, **RUN)
        for s in range(args.seeds)
    ]
    s = np.array([r.s_bits for r in runs])
    err = np.array([r.s_err_bits for r in runs])
    exact = np.array([exact_entropy_bits(log_states, energy, t, n) for t in targets])
    print(f"Curie-Weiss n = {n}, {args.seeds} seeds")
    print("| quantity | sd over seeds | mean reported error | ratio | mean bias |")
    print("|---|---|---|---|---|")
    for i, t in enumerate(targets):
        sd, rep = s[:, i].std(ddof=1), err[:, i].mean()
        bias = s[:, i].mean() - exact[i]
        print(f"| S/n at T = {t:g} (bits) | {sd:.4f} | {rep:.4f} | {sd / rep:.2f} | {bias:+.4f} |")
    sd, rep = peak_rows(model, np.geomspace(0.5, 2.0, 25), args.seeds)
    print(f"| C(T) peak location | {sd:.4f} | {rep:.4f} | {sd / rep:.2f} | |")
    if args.model:
        sd, rep = peak_rows(E.IsingModel.load(args.model), thermo_report.TEMPERATURES, args.seeds)
        print(f"| C(T) peak location, {args.model} | {sd:.4f} | {rep:.4f} | {sd / rep:.2f} | |")


if __name__ == "__main__":
    main()
